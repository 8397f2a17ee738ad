"""Account and creator ids.

Surrounding whitespace is stripped; case and everything inside are kept, because marketplace
ids are case-sensitive (``" A-17 "`` → ``"A-17"``). Creators follow the same rule.
"""

from __future__ import annotations

import pandas as pd

from loaders.normalise.common import Normalised, as_text, normalised


def normalise_account(values: pd.Series) -> Normalised:
    """Account and creator ids: stripped, case kept; empty is missing.

    Examples
    --------
    >>> normalise_account(pd.Series([" A-17 ", "a-17", "  "])).values.tolist()
    ['A-17', 'a-17', <NA>]
    """
    return normalised(values, as_text(values))
