"""The rule for kinds without one of their own.

Kinds are an open set (a mapping may declare ``PromoCode``): values are stripped and inner
whitespace runs collapsed to one space (``"  SPRING \\t 24 "`` → ``"SPRING 24"``); case is kept,
since nothing says it does not matter.
"""

from __future__ import annotations

import pandas as pd

from loaders.normalise.common import SPACES, Normalised, as_text, normalised


def normalise_text(values: pd.Series) -> Normalised:
    """Stripped, whitespace runs collapsed; empty is missing.

    Examples
    --------
    >>> normalise_text(pd.Series(["  Promo   code\\tX "])).values.tolist()
    ['Promo code X']
    """
    return normalised(values, as_text(values).str.replace(SPACES, " ", regex=True))
