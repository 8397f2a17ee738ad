"""Shared plumbing of the normalisers: the result type and vectorised string helpers.

Every normaliser reads its values as Arrow-backed strings (so that ``.str`` runs vectorised,
with RE2 regexes), works on a fresh ``RangeIndex`` and puts its results back under the input's
index with :func:`normalised`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class Normalised(NamedTuple):
    """Keys, error reasons and (for some kinds) display forms, under the input's index."""

    values: pd.Series
    errors: pd.Series
    display: pd.Series | None


#: Strings with <NA> for missing, held by Arrow so that .str runs vectorised (RE2 regexes).
TEXT = pd.StringDtype("pyarrow")

#: Unicode whitespace spelled out: a ``\s`` in a pattern makes pandas leave Arrow for Python.
SPACE_CHARS = " \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SPACES = f"[{SPACE_CHARS}]+"

# Typographic characters folded to the ASCII ones the rules handle.
_COMBINING_MARKS = "[\u0300-\u036f]"
_FANCY_APOSTROPHES = "[\u00b4\u02bc\u2018\u2019]"
_FANCY_DASHES = "[\u2010-\u2015]"
_FANCY_PUNCTUATION = "[\u00ab\u00b7\u00bb\u201c-\u201f\u2022\u2026]"


def as_text(values: pd.Series) -> pd.Series:
    """The values as stripped Arrow strings on a fresh RangeIndex; empty becomes missing.

    Numbers read as floats (``4155550123.0``) are read back as the integers they are.
    """
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.dropna().to_numpy()
        if np.isfinite(numbers).all() and (numbers == np.floor(numbers)).all():
            values = values.astype("Int64")
    text = values.reset_index(drop=True).astype(TEXT).str.strip()
    return text.where(text != "")


def flag(mask: pd.Series) -> np.ndarray:
    """A nullable boolean Series as a numpy mask, <NA> counting as False."""
    return mask.to_numpy(dtype=bool, na_value=False)


def missing(size: int) -> pd.Series:
    return pd.Series(pd.NA, index=pd.RangeIndex(size), dtype=TEXT)


def strings(array: np.ndarray) -> pd.Series:
    """An object array of str and None as Arrow strings.

    Setting values into an Arrow-backed Series is slow, so the normalisers that fill their
    results piece by piece fill a numpy array and convert it once.
    """
    return pd.Series(array, dtype=TEXT)


def first_failure(checks: list[tuple[np.ndarray, str]], size: int) -> pd.Series:
    """Per row, the reason of the first failed check; <NA> where none failed."""
    reasons = np.full(size, None, dtype=object)
    for failed, reason in reversed(checks):
        reasons[failed] = reason
    return pd.Series(reasons, index=pd.RangeIndex(size), dtype=TEXT)


def normalised(
    like: pd.Series,
    values: pd.Series,
    errors: pd.Series | None = None,
    display: pd.Series | None = None,
) -> Normalised:
    """Put the results back under the index of the input ``like``."""
    return Normalised(
        values.set_axis(like.index),
        (errors if errors is not None else missing(len(like))).set_axis(like.index),
        display.set_axis(like.index) if display is not None else None,
    )


def arrow(text: pd.Series) -> pa.Array:
    array = pa.array(text.array)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def from_arrow(array: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(array), index=index)


def rewrite(text: pd.Series, pattern: str, replacement: str) -> pd.Series:
    """A regex replacement through Arrow (RE2: ``\\b``, ``\\p{L}``), keeping the index."""
    return from_arrow(pc.replace_substring_regex(arrow(text), pattern, replacement), text.index)


def fold_unicode(text: pd.Series) -> pd.Series:
    """Drop accents (é → e, đ → d), fold compatibility forms (ﬁ → fi) and typographic marks.

    Only rows with non-ASCII characters pay for this.
    """
    rows = flag(text.notna() & ~text.str.isascii())
    if rows.any():
        text = text.copy()
        text[rows] = (
            text[rows]
            .str.normalize("NFKD")
            .str.replace(_COMBINING_MARKS, "", regex=True)
            .str.normalize("NFKC")
            # Letters with a stroke have no decomposition; Vietnamese writes đ for d.
            .str.replace("[\u0111\u0110]", "d", regex=True)
            .str.replace(_FANCY_APOSTROPHES, "'", regex=True)
            .str.replace(_FANCY_DASHES, "-", regex=True)
            .str.replace(_FANCY_PUNCTUATION, " ", regex=True)
        )
    return text


def replace_words(text: pd.Series, words: Mapping[str, str]) -> pd.Series:
    """Split on whitespace, replace whole words through a table, join with single spaces.

    A word replaced by ``""`` is dropped (it leaves no double space behind).
    """
    if not words:
        return text
    lists = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(arrow(text)))
    tokens = lists.values
    found = pc.index_in(tokens, value_set=pa.array(list(words), type=tokens.type))
    replaced = pc.coalesce(pc.take(pa.array(list(words.values()), type=tokens.type), found), tokens)
    rebuilt = pa.ListArray.from_arrays(lists.offsets, replaced, mask=lists.is_null())
    joined = pc.binary_join(rebuilt, pa.scalar(" ", tokens.type))
    if "" in words.values():
        joined = pc.utf8_trim_whitespace(pc.replace_substring_regex(joined, "  +", " "))
    return from_arrow(joined, text.index)


def has_letter_or_digit(text: pd.Series) -> np.ndarray:
    """Rows holding a letter (of any script) or a digit."""
    found = flag(text.str.contains("[0-9A-Za-z]"))
    others = np.flatnonzero(~found & flag(text.notna()))
    # Letters of other scripts: Unicode-aware matching, only for the rows that need it.
    found[others] = flag(text.iloc[others].str.contains(r"[^\W_]"))
    return found


def groups(codes: np.ndarray) -> list[tuple[object, np.ndarray]]:
    """(value, row positions) for each distinct non-null value of an object array."""
    present = np.flatnonzero(pd.notna(codes))
    if not len(present):
        return []
    labels, uniques = pd.factorize(codes[present])
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(len(uniques) + 1))
    return [
        (uniques[label], present[order[bounds[label] : bounds[label + 1]]])
        for label in range(len(uniques))
    ]
