"""Fields of a source read as what the mapping says they are: times, amounts, labels, typed
attributes, and values built from templates.

Each reader takes a column of text (``""`` for an empty cell, which is missing, never an
error) and returns what it read with the problems it met, as (positions of the rows, reason)
pairs: the loader rejects those fields and keeps the rest of their rows.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loaders.mapping import AttributeType, Value

#: Row positions and the reason they share.
Problems = list[tuple[np.ndarray, str]]

TIME_PROBLEM = "unparseable timestamp (expected ISO 8601, e.g. 2026-03-04T10:22:13Z)"
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "f"})
#: The integers both engines hold: 64-bit.
INTEGER_DIGITS = 18
_NULL = pa.scalar(None, pa.string())
_INTEGER = re.compile("[+-]?[0-9]+")
#: A time as most exports write it, with its offset: Arrow reads these in one pass.
_ZONED = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})$"
)


def times(text: pa.ChunkedArray) -> tuple[np.ndarray, Problems]:
    """Timestamps as tz-naive UTC ``datetime64[us]`` (NaT where missing or unreadable).

    ISO 8601, with or without a UTC offset (without one the time is UTC), a date alone meaning
    its midnight. Times written with a ``Z`` or an offset, as exports mostly write them, are read
    by Arrow in one pass; anything else (and the few near a time Arrow refuses) by pandas.
    """
    trimmed = pc.utf8_trim_whitespace(text).combine_chunks()
    present = _present(trimmed)
    quick = pc.match_substring_regex(trimmed, _ZONED).to_numpy(zero_copy_only=False)
    parsed = np.full(len(trimmed), np.datetime64("NaT"), dtype="datetime64[us]")
    arrow_read = _zoned(pc.if_else(pa.array(quick), trimmed, _NULL), parsed, 0)
    rest = present & ~(quick & arrow_read)
    if rest.any():
        series = pd.Series(trimmed.filter(pa.array(rest)).to_numpy(zero_copy_only=False))
        read = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
        parsed[rest] = read.dt.tz_convert(None).to_numpy().astype("datetime64[us]")
    bad = present & np.isnat(parsed)
    return parsed, [(np.flatnonzero(bad), TIME_PROBLEM)]


#: Rows per piece below which a piece holding a time Arrow cannot read goes to pandas whole.
_PIECE = 1024


def _zoned(text: pa.Array, parsed: np.ndarray, start: int) -> np.ndarray:
    """Read the zoned times of ``text`` (nulls elsewhere) into ``parsed`` from ``start`` on;
    returns which rows Arrow read.

    Arrow refuses a whole cast for one value shaped like a time but none (a 13th month): the
    refused piece is halved until the value is cornered in a small piece, which alone is left
    to pandas (which says why), rather than the whole column.
    """
    try:
        stamps = pc.cast(text, pa.timestamp("us", "UTC")).to_numpy()
    except pa.ArrowInvalid:
        if len(text) <= _PIECE:
            return np.zeros(len(text), dtype=bool)
        half = len(text) // 2
        return np.concatenate(
            [
                _zoned(text.slice(0, half), parsed, start),
                _zoned(text.slice(half), parsed, start + half),
            ]
        )
    read = ~np.isnat(stamps)
    parsed[start : start + len(text)][read] = stamps[read]
    return read


def amounts(text: pa.ChunkedArray) -> tuple[np.ndarray, Problems]:
    """Numbers as float64 (NaN where missing or unreadable); infinite ones are refused."""
    trimmed = pc.utf8_trim_whitespace(text)
    present = _present(trimmed)
    try:
        numbers = pc.cast(pc.if_else(pa.array(present), trimmed, _NULL), pa.float64())
        parsed = numbers.to_numpy(zero_copy_only=False).astype("float64")
    except pa.ArrowInvalid:
        series = pd.Series(trimmed.to_numpy(zero_copy_only=False), dtype="object")
        parsed = np.array(pd.to_numeric(series.where(present), errors="coerce"), "float64")
    unread = present & np.isnan(parsed)
    infinite = np.isinf(parsed)
    parsed[infinite] = np.nan
    return parsed, [
        (np.flatnonzero(unread), "not a number"),
        (np.flatnonzero(infinite), "not a finite number"),
    ]


def labels(text: pa.ChunkedArray) -> pa.Array:
    """A known-bad label: truthy flags become "known_bad", falsy ones nothing, text is kept."""
    trimmed = pc.utf8_trim_whitespace(text)
    encoded = pc.dictionary_encode(trimmed).combine_chunks()
    words: list[str | None] = []
    for word in encoded.dictionary.to_pylist():
        lowered = word.lower()
        if lowered in TRUE_WORDS:
            words.append("known_bad")
        else:
            words.append(None if lowered in FALSE_WORDS or not word else word)
    return pa.array(words, pa.string()).take(encoded.indices)


def attribute(text: pa.ChunkedArray, kind: AttributeType) -> tuple[pa.Array, Problems]:
    """An attribute column as JSON values (text; null where missing or unreadable)."""
    trimmed = pc.utf8_trim_whitespace(text)
    if kind is AttributeType.NUMBER:
        numbers, problems = amounts(trimmed)
        shown = [None if np.isnan(x) else json.dumps(float(x)) for x in numbers.tolist()]
        return pa.array(shown, pa.string()), problems
    if kind is AttributeType.TIMESTAMP:
        stamps, problems = times(trimmed)
        iso = pc.replace_substring_regex(
            pa.array(np.datetime_as_string(stamps, unit="us")), r"\.000000$", ""
        )
        quoted = pc.binary_join_element_wise('"', iso, 'Z"', "")
        return pc.if_else(pa.array(np.isnat(stamps)), _NULL, quoted), problems
    encoded = pc.dictionary_encode(trimmed).combine_chunks()
    read = [_json_word(word, kind) for word in encoded.dictionary.to_pylist()]
    values = pa.array([value for value, _ in read], pa.string()).take(encoded.indices)
    failed = np.array([problem is not None for _, problem in read], dtype=bool)
    rows = np.flatnonzero(failed[encoded.indices.to_numpy(zero_copy_only=False)])
    reason = next((problem for _, problem in read if problem is not None), "")
    return values, [(rows, reason)]


_INTEGER_PROBLEM = "not an integer"
_BOOLEAN_PROBLEM = "not a boolean (true/false, yes/no, 1/0)"


def _json_word(word: str, kind: AttributeType) -> tuple[str | None, str | None]:
    """A text, integer or boolean cell as a JSON value, or the reason it is none."""
    if not word:
        return None, None
    if kind is AttributeType.TEXT:
        return json.dumps(word, ensure_ascii=False), None
    if kind is AttributeType.BOOLEAN:
        lowered = word.lower()
        if lowered in TRUE_WORDS | FALSE_WORDS:
            return ("true" if lowered in TRUE_WORDS else "false"), None
        return None, _BOOLEAN_PROBLEM
    if _INTEGER.fullmatch(word) and len(word.lstrip("+-").lstrip("0")) <= INTEGER_DIGITS:
        return str(int(word)), None
    return None, _INTEGER_PROBLEM


def template(data: pa.Table, value: Value) -> pa.ChunkedArray:
    """The value's text per row: its column, or its template filled from the row's columns
    (``""`` where a column it names is empty)."""
    if value.column is not None:
        return data[value.column]
    pieces: list[pa.ChunkedArray | pa.Scalar] = []
    empty = np.zeros(data.num_rows, dtype=bool)
    for text, column in value.template_parts():
        if text:
            pieces.append(pa.scalar(text, pa.string()))
        if column is not None:
            cell = pc.utf8_trim_whitespace(data[column])
            empty |= ~_present(cell)
            pieces.append(cell)
    filled = pc.binary_join_element_wise(*pieces, pa.scalar("", pa.string()))
    return pa.chunked_array([pc.if_else(pa.array(empty), "", filled)])


def _present(text: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Cells that hold something (after trimming)."""
    return pc.greater(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
