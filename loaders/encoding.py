"""Every identifier of a load normalised once and numbered: raw text → key → integer code.

A load meets the same value many times: an account id in every table, a card in the payment
methods and again in each order. :class:`Encoder` normalises each distinct raw value (with
its region, for the kinds that read one) once across all tables of a load, and
:class:`KeyBook` numbers each distinct key once, whichever spelling it came from. The rows of
a load stay integers until they are aggregated, and only the aggregated links are spelled out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graphfraud.model import EntityKind
from loaders.normalise import NormaliseOptions, normalise
from loaders.normalise.common import arrow

#: Kinds whose normalisation depends on the region of the value (``NormaliseOptions.region``).
REGIONAL_KINDS: frozenset[str] = frozenset({EntityKind.PHONE, EntityKind.ADDRESS, EntityKind.NAME})
#: Joins a region to a value in a lookup: a NUL byte, which no cell holds (readers set aside
#: cells holding one).
_JOIN = "\x00"


@dataclass(frozen=True)
class Encoded:
    """One column's values as key codes, and the rows whose value is invalid."""

    #: Per row, the code of its key; -1 where the value is missing or invalid.
    codes: np.ndarray
    #: Positions of the rows holding an invalid value.
    errors: np.ndarray
    #: Why each of those is invalid.
    reasons: np.ndarray


class KeyBook:
    """Distinct keys of one load, numbered from 0 across kinds in the order first met."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self._keys: dict[str, list[pa.Array]] = {}
        self._codes: dict[str, list[np.ndarray]] = {}
        self._kind_of: list[np.ndarray] = []
        self._text: list[pa.Array] = []
        self._display: list[pa.Array] = []
        self.size = 0

    def kind_code(self, kind: str) -> int:
        """The number of ``kind`` (an index into :attr:`kinds`)."""
        if kind not in self.kinds:
            self.kinds.append(kind)
            self._keys[kind] = []
            self._codes[kind] = []
        return self.kinds.index(kind)

    def number(self, kind: str, keys: pa.Array, display: pa.Array | None = None) -> np.ndarray:
        """The code of each key of ``kind`` (-1 where null), numbering the ones not yet met.

        ``display`` holds the keys' display forms, aligned with ``keys``; a key keeps the first
        one it was given.
        """
        code = self.kind_code(kind)
        keys = keys.cast(pa.large_string())
        known, codes = self.keys_of(kind)
        found = _positions(keys, known)
        fresh = np.flatnonzero((found < 0) & keys.is_valid().to_numpy(zero_copy_only=False))
        numbered = np.full(len(keys), -1, dtype=np.int32)
        numbered[found >= 0] = codes[found[found >= 0]]
        if len(fresh):
            encoded = pc.dictionary_encode(keys.take(pa.array(fresh)))
            new = encoded.dictionary
            labels = encoded.indices.to_numpy(zero_copy_only=False)
            if display is None:
                shown = pa.nulls(len(new), pa.large_string())
            else:
                first = fresh[np.unique(labels, return_index=True)[1]]
                shown = display.cast(pa.large_string()).take(pa.array(first))
            numbers = np.arange(self.size, self.size + len(new), dtype=np.int32)
            self._keys[kind].append(new)
            self._codes[kind].append(numbers)
            self._kind_of.append(np.full(len(new), code, dtype=np.int8))
            self._text.append(new)
            self._display.append(shown)
            self.size += len(new)
            numbered[fresh] = numbers[labels]
        return numbered

    def keys_of(self, kind: str) -> tuple[pa.ChunkedArray, np.ndarray]:
        """The keys of ``kind`` and their codes."""
        self.kind_code(kind)
        codes = self._codes[kind]
        return (
            pa.chunked_array(self._keys[kind], pa.large_string()),
            np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32),
        )

    def spelled(self) -> tuple[np.ndarray, pa.Array, pa.Array]:
        """Per code: its kind's number, its key and its display form."""
        if not self.size:
            empty = pa.array([], pa.large_string())
            return np.zeros(0, dtype=np.int8), empty, empty
        return (
            np.concatenate(self._kind_of),
            pa.concat_arrays(self._text),
            pa.concat_arrays(self._display),
        )


@dataclass(frozen=True)
class Request:
    """A column to encode: its raw ``values`` (text, ``""`` when missing) of ``kind``, and one
    region for all of them or one per value (only :data:`REGIONAL_KINDS` read it)."""

    kind: str
    values: pa.ChunkedArray
    region: str | pa.ChunkedArray
    payment_format: str = "card"

    @property
    def group(self) -> tuple[str, str]:
        return self.kind, self.payment_format


@dataclass
class _Seen:
    """Raw values of one kind and format normalised so far, with their code or error."""

    raws: list[pa.Array] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)
    errors: list[np.ndarray] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class _Keys:
    """What the normalisers made of some raw values: keys, display forms, error reasons."""

    keys: pa.Array
    display: pa.Array | None
    errors: np.ndarray

    @staticmethod
    def joined(pieces: Sequence[_Keys]) -> _Keys:
        """The pieces one after the other (all with display forms, or none)."""
        if len(pieces) == 1:
            return pieces[0]
        shown = [piece.display for piece in pieces if piece.display is not None]
        return _Keys(
            pa.concat_arrays([piece.keys for piece in pieces]),
            pa.concat_arrays(shown) if shown else None,
            np.concatenate([piece.errors for piece in pieces]),
        )


class Encoder:
    """Normalises the values of a load through :func:`loaders.normalise.normalise`, each
    distinct (raw value, region) once, and numbers the keys in a :class:`KeyBook`.

    The normalisers of several columns, and pieces of one long column, run on as many threads
    as the machine has cores: their work is Arrow kernels and DuckDB queries, which run
    outside Python's global lock, and every value is normalised on its own.
    """

    #: Distinct values per normaliser call when a column is split between threads.
    CHUNK = 50_000

    def __init__(self, book: KeyBook, options: NormaliseOptions) -> None:
        self.book = book
        self.options = options
        self._seen: dict[tuple[str, str], _Seen] = {}

    def encode(self, requests: Sequence[Request]) -> list[Encoded]:
        """Codes for the values of each request, in order."""
        prepared = [
            _lookups(request.values, request.region if request.kind in REGIONAL_KINDS else None)
            for request in requests
        ]
        groups: dict[tuple[str, str], list[pa.Array]] = {}
        for request, (lookups, _) in zip(requests, prepared, strict=True):
            groups.setdefault(request.group, []).append(lookups)
        jobs = []
        # Per group, its distinct lookups and where each stands among the values seen: the
        # seen ones where they are, the fresh ones where they will be appended, in order.
        placed: dict[tuple[str, str], tuple[pa.Array, np.ndarray]] = {}
        for group, given in groups.items():
            seen = self._seen.setdefault(group, _Seen())
            distinct = given[0] if len(given) == 1 else pc.unique(_chained(given))
            at = _positions(distinct, _chained(seen.raws))
            fresh = np.flatnonzero(at < 0)
            at[fresh] = seen.size + np.arange(len(fresh))
            placed[group] = distinct, at
            values = distinct.take(pa.array(fresh))
            jobs += [
                (group, values.slice(start, self.CHUNK))
                for start in range(0, len(values), self.CHUNK)
            ]
        with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
            made = list(pool.map(lambda job: self._normalise(*job), jobs))
        # Numbered in the order of the jobs, whichever thread finished first, and one group at
        # a time: each call of the book looks its keys up among all it holds of their kind, so
        # one call per 50k-value piece cost time quadratic in the distinct values (a fifth of
        # a million-account load).
        by_group: dict[tuple[str, str], list[tuple[pa.Array, _Keys]]] = {}
        for (group, raws), keys in zip(jobs, made, strict=True):
            by_group.setdefault(group, []).append((raws, keys))
        for group, pieces in by_group.items():
            seen = self._seen[group]
            keys = _Keys.joined([keys for _, keys in pieces])
            seen.raws += [raws for raws, _ in pieces]
            seen.codes.append(self.book.number(group[0], keys.keys, keys.display))
            seen.errors.append(keys.errors)
            seen.size += sum(len(raws) for raws, _ in pieces)
        found = []
        for request, (lookups, rows) in zip(requests, prepared, strict=True):
            distinct, at = placed[request.group]
            # A column alone in its group brought the distinct values itself, in order.
            where = at if lookups is distinct else at[_positions(lookups, distinct)]
            found.append(self._encoded(self._seen[request.group], where, rows))
        return found

    def spellings(self, kind: str, codes: np.ndarray) -> dict[int, list[str]]:
        """The raw values (without their region) that became each of the keys ``codes``."""
        found: dict[int, list[str]] = {}
        for (seen_kind, _), seen in self._seen.items():
            if seen_kind != kind or not seen.raws:
                continue
            given = np.concatenate(seen.codes)
            hits = np.flatnonzero(np.isin(given, codes))
            raws = _chained(seen.raws).take(pa.array(hits)).to_pylist()
            for code, raw in zip(given[hits].tolist(), raws, strict=True):
                found.setdefault(code, []).append(raw.rpartition(_JOIN)[2])
        return found

    def _encoded(self, seen: _Seen, where: np.ndarray, rows: np.ndarray) -> Encoded:
        """Codes and errors per row, from each lookup's position among the values seen."""
        # An empty table brings no values: nothing seen yet is no error.
        codes = np.concatenate([np.empty(0, np.int64), *seen.codes])[where]
        errors = np.concatenate([np.empty(0, object), *seen.errors])[where]
        failed = np.flatnonzero(pd.notna(errors)[rows])
        return Encoded(codes[rows], failed, errors[rows[failed]])

    def _normalise(self, group: tuple[str, str], lookups: pa.Array) -> _Keys:
        kind, payment_format = group
        region: str | pd.Series = self.options.region
        values = lookups
        if kind in REGIONAL_KINDS:
            parts = pc.split_pattern(lookups, _JOIN, max_splits=1)
            region = pd.Series(pc.list_element(parts, 0).to_pandas(), dtype="object")
            values = pc.list_element(parts, 1)
        options = NormaliseOptions(
            fingerprint_key=self.options.fingerprint_key,
            region=region,
            payment_format=payment_format,
            vocabulary=self.options.vocabulary,
        )
        # Arrow strings in and out: the normalisers work on Arrow strings, so values need not
        # become Python objects on the way in, nor keys on the way out.
        text = pd.Series(pd.arrays.ArrowStringArray(values.cast(pa.large_string())))
        done = normalise(kind, text, options)
        return _Keys(
            _large_strings(done.values),
            None if done.display is None else _large_strings(done.display),
            done.errors.astype(object).where(done.errors.notna(), None).to_numpy(),
        )


def _large_strings(values: pd.Series) -> pa.Array:
    """A normaliser's text results as one Arrow array (nulls where missing)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return arrow(values).cast(pa.large_string())
    return pa.array(values.astype(object), type=pa.large_string(), from_pandas=True)


def _chained(arrays: list[pa.Array]) -> pa.ChunkedArray:
    return pa.chunked_array(arrays, pa.large_string())


def _lookups(
    values: pa.ChunkedArray, region: str | pa.ChunkedArray | None
) -> tuple[pa.Array, np.ndarray]:
    """The distinct things to normalise in a column, and which one each row holds.

    Without a region, the distinct values; with one, the distinct (region, value) pairs, each
    written ``region NUL value``. Strings are built for distinct ones only.
    """
    encoded = pc.dictionary_encode(values).combine_chunks()
    words = encoded.dictionary.cast(pa.large_string())
    rows = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if region is None:
        return words, rows
    if isinstance(region, str):
        prefix = pa.scalar(region + _JOIN, pa.large_string())
        return pc.binary_join_element_wise(prefix, words, pa.scalar("", pa.large_string())), rows
    regions = pc.dictionary_encode(region).combine_chunks()
    places = regions.dictionary.cast(pa.large_string())
    pairs = rows * len(places) + regions.indices.to_numpy(zero_copy_only=False)
    rows, distinct = pd.factorize(pairs)
    joined = pc.binary_join_element_wise(
        places.take(pa.array(distinct % len(places))),
        words.take(pa.array(distinct // len(places))),
        pa.scalar(_JOIN, pa.large_string()),
    )
    return joined, rows.astype(np.int64)


def _positions(values: pa.Array, known: pa.ChunkedArray) -> np.ndarray:
    """Where each value is in ``known`` (-1 where it is not)."""
    if not len(known):
        return np.full(len(values), -1, dtype=np.int64)
    found = pc.index_in(values, value_set=known)
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
