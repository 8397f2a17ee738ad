"""People's names, where a mapping uses them (a recipient, a seller's legal name).

Two spellings of one name collide: lower-cased, accents dropped (``Nguyễn Văn An`` →
``nguyen van an``), apostrophes dropped (``O'Brien`` → ``obrien``), other punctuation and
whitespace runs one space (``Mary-Jane`` → ``mary jane``), and honorifics at the start dropped,
however many (``Bpk. H. Ahmad`` → ``ahmad`` in Indonesia; ``Mr. John Smith`` → ``john smith``
everywhere). Honorifics are vocabulary (``name.honorifics`` in the data files): those that can
also be a name elsewhere are regional (``Ông`` means Mr in Vietnam, but Ong is a Chinese
surname in Singapore), so they are dropped only for names of that region.

The order of the words is kept: given and family names come in different orders in different
cultures, and a reversed name may be another person; ``Doe, John`` and ``John Doe`` stay two
keys (near-duplicate resolution can pair them, with a score to show).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd

from loaders.normalise.common import (
    Normalised,
    as_text,
    first_failure,
    flag,
    fold_unicode,
    groups,
    has_letter_or_digit,
    normalised,
    rewrite,
    strings,
)
from loaders.normalise.regions import region_codes
from loaders.normalise.vocabulary import DEFAULT_VOCABULARY, Vocabulary


def normalise_name(
    values: pd.Series,
    *,
    region: str | pd.Series = "US",
    vocabulary: Vocabulary = DEFAULT_VOCABULARY,
) -> Normalised:
    """People's names: folded, punctuation gone, leading honorifics dropped.

    Parameters
    ----------
    values : pandas.Series
        Raw names.
    region : str or pandas.Series, optional
        One region for all values or one per value (matched by position): which regional
        honorifics apply.
    vocabulary : Vocabulary, optional
        The honorifics.

    Returns
    -------
    Normalised
        Keys and error reasons.

    Examples
    --------
    >>> names = pd.Series(["Bpk. H. Ahmad Yani", "AHMAD YANI", "Ibu Siti-Rahayu", "Ong Wei Ming"])
    >>> normalise_name(names, region="ID").values.tolist()
    ['ahmad yani', 'ahmad yani', 'siti rahayu', 'ong wei ming']
    >>> normalise_name(pd.Series(["Ông Nguyễn Văn An"]), region="VN").values.tolist()
    ['nguyen van an']
    """
    codes, _ = region_codes(region, len(values), vocabulary)
    text = fold_unicode(as_text(values).str.lower()).str.lower()
    # Letters, their marks (Thai vowels) and digits of any script stay; the rest separates words.
    words = rewrite(text.str.replace("['`]", "", regex=True), r"[^\p{L}\p{M}\p{N}]+", " ")
    words = words.str.strip()
    keys = np.full(len(text), None, dtype=object)
    everywhere = np.ones(len(text), dtype=bool)
    for code, rows in groups(codes):
        keys[rows] = _drop_honorifics(words.iloc[rows], _honorifics(vocabulary, str(code)))
        everywhere[rows] = False
    rest = np.flatnonzero(everywhere)
    keys[rest] = _drop_honorifics(words.iloc[rest], _honorifics(vocabulary, None))
    result = strings(keys)
    meaningful = has_letter_or_digit(result)
    errors = first_failure(
        [(flag(text.notna()) & ~meaningful, "not a name: no letters or digits")], len(text)
    )
    return normalised(values, result.where(meaningful), errors)


@cache
def _honorifics(vocabulary: Vocabulary, region: str | None) -> str:
    """A pattern matching the honorifics at the start of a name, for one region."""
    words = set(vocabulary.honorifics)
    if region is not None:
        words |= vocabulary.regional_honorifics.get(region, frozenset())
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return f"^(?:(?:{alternatives}) )+" if alternatives else ""


def _drop_honorifics(words: pd.Series, pattern: str) -> np.ndarray:
    # Only when a name follows: "Ibu" alone is kept, not turned into nothing.
    if pattern:
        words = words.str.replace(pattern, "", regex=True)
    return np.asarray(words.astype(object).where(words.notna(), None))
