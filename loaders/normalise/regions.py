"""Regions: the country a value belongs to, read from a code or a name.

A source gives the region once (``"ID"``) or per row, from a column such as ``country``. Either
way it may be an ISO 3166 code (``ID``, ``IDN``), a country name (``Indonesia``, ``Viet Nam``)
or a name a vocabulary file lists (``UK``, ``Vietnam``, ``England``). Names are looked up in
the vocabulary first, then in the ISO 3166 tables of the ``pycountry`` library.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pycountry

from graphfraud.errors import ConfigError
from loaders.normalise.vocabulary import Vocabulary, fold_entry


def region_code(text: str, vocabulary: Vocabulary) -> str | None:
    """The ISO 3166 alpha-2 code a region is written as, or ``None`` if it names none.

    Examples
    --------
    >>> from loaders.normalise.vocabulary import DEFAULT_VOCABULARY as words
    >>> [region_code(text, words) for text in ["id", "IDN", "Indonesia", "Vietnam", "UK", "X"]]
    ['ID', 'ID', 'ID', 'VN', 'GB', None]
    """
    folded = fold_entry(text)
    alias = vocabulary.region_aliases.get(folded)
    return alias if alias is not None else _iso_code(folded)


@cache
def _iso_code(folded: str) -> str | None:
    try:
        country = pycountry.countries.lookup(folded)
    except LookupError:
        return None
    return str(country.alpha_2)


def region_codes(
    region: str | pd.Series, size: int, vocabulary: Vocabulary
) -> tuple[np.ndarray, np.ndarray]:
    """Per value, its region code (``None`` where missing or unknown) and the raw region text.

    Parameters
    ----------
    region : str or pandas.Series
        One region for all values, or one per value (matched by position).
    size : int
        How many values there are.
    vocabulary : Vocabulary
        Where country names beyond ISO's are listed.

    Returns
    -------
    tuple of numpy.ndarray
        Object arrays of ``size``: ISO alpha-2 codes or ``None``; and the region as given,
        ``None`` where it is missing (so that an unknown one can be named in an error).

    Raises
    ------
    ConfigError
        One region was given for all values and it names no country, or a Series of the
        wrong length.
    """
    if isinstance(region, str):
        code = region_code(region, vocabulary)
        if code is None:
            raise ConfigError(
                f"unknown region {region!r}: give an ISO 3166 code such as 'US' or 'ID', or a "
                "country name"
            )
        return np.full(size, code, dtype=object), np.full(size, region, dtype=object)
    if len(region) != size:
        raise ConfigError(f"{len(region)} regions given for {size} values: give one per value")
    text = region.reset_index(drop=True).astype("string").str.strip()
    raw = text.astype(object).where(text.notna() & (text != ""), None).to_numpy(dtype=object)
    labels, uniques = pd.factorize(raw, use_na_sentinel=True)
    codes = np.array([region_code(str(text), vocabulary) for text in uniques] + [None], object)
    return codes[labels], raw
