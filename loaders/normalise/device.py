"""Device fingerprint ids.

Stripped and lower-cased (``"9F3A-77C "`` → ``"9f3a-77c"``): fingerprinting SDKs print their
hex ids in either case.
"""

from __future__ import annotations

import pandas as pd

from loaders.normalise.common import Normalised, as_text, normalised


def normalise_device(values: pd.Series) -> Normalised:
    """Device fingerprint ids: stripped and lower-cased; empty is missing.

    Examples
    --------
    >>> normalise_device(pd.Series(["9F3A-77C "])).values.tolist()
    ['9f3a-77c']
    """
    return normalised(values, as_text(values).str.lower())
