"""Readers: a source table from CSV, Parquet or a DataFrame, every cell as text, checked.

Every value is read as a string so that nothing is silently converted (a leading zero, a card
number turned into a float); the loader parses what it needs and reports what it cannot.
Rows are numbered from 1, not counting the header: in a plain CSV, row N is line N + 1.

A bad file never stops a load with a traceback. What a reader cannot use is set aside with its
reason and the rest is read:

- a line with the wrong number of fields is a *broken line* (the whole row);
- a cell holding a NUL byte or bytes that are not UTF-8 is a *bad cell*: it reads as empty,
  and the loader rejects that field (the row, if it is the row's account);
- a cell longer than :data:`MAX_CELL_BYTES` (a stray quote swallowing a file, a blob in a
  text column) is a bad cell that costs its whole row.

A UTF-8 byte-order mark before the header is skipped. A column the mapping reads that the
header names twice stops the load before anything is read, naming it.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from graphfraud.errors import InputError

SUFFIXES = (".csv", ".parquet", ".csv.gz")
#: Longer cells are no identifier, time or amount: their rows are rejected. Shown in rejects
#: cut to :data:`SHOWN_CHARS` characters.
MAX_CELL_BYTES = 65_536
SHOWN_CHARS = 200
#: Arrow parses a CSV in blocks and a line may not straddle two: a longer line makes the
#: reader try again with blocks this many times bigger, up to :data:`MAX_BLOCK_BYTES`.
BLOCK_GROWTH = 16
MAX_BLOCK_BYTES = 2**31 - 1


@dataclass(frozen=True)
class BadCells:
    """Cells of one column that could not be read as text, all for one reason."""

    column: str
    #: Positions of the cells' rows in :attr:`Table.data`.
    positions: np.ndarray
    reason: str
    #: The cells as they can be shown (invalid bytes replaced, long ones cut).
    shown: list[str]
    #: Whether the whole row is lost, not only this field.
    whole_row: bool = False


@dataclass
class Table:
    """A source table as read: text cells, each row's number, and what could not be read.

    ``data`` holds the columns the mapping reads, as strings, ``""`` where a cell is empty or
    bad; ``rows`` the row number of each of its rows; ``broken`` the lines that could not be
    parsed, as (row, reason, text); ``bad`` the cells that could not be read.
    """

    name: str
    origin: str
    data: pa.Table
    rows: np.ndarray
    broken: list[tuple[int, str, str]] = field(default_factory=list)
    bad: list[BadCells] = field(default_factory=list)


def locate(data_dir: Path, table: str, file: str | None) -> Path:
    """The file for ``table`` in ``data_dir``: ``file`` if given, else ``<table>.csv|.parquet``."""
    if file is not None:
        path = Path(file) if Path(file).is_absolute() else data_dir / file
        if not path.is_file():
            raise InputError(f"no file for table {table!r}", file=str(path))
        return path
    for suffix in SUFFIXES:
        path = data_dir / f"{table}{suffix}"
        if path.is_file():
            return path
    tried = ", ".join(f"{table}{suffix}" for suffix in SUFFIXES)
    raise InputError(f"no file for table {table!r} in {data_dir} (looked for {tried})")


def check_columns(path: Path, columns: list[str]) -> None:
    """Raise InputError if the file at ``path`` lacks any of ``columns`` or names one twice."""
    present = _parquet_schema(path).names if path.suffix == ".parquet" else _csv_header(path)
    _check_columns(present, columns, origin=str(path))


def read_table(path: Path, columns: list[str], *, table: str) -> Table:
    """Read the named columns of a CSV or Parquet file as text."""
    if path.suffix == ".parquet":
        return _read_parquet(path, columns, table=table)
    return _read_csv(path, columns, table=table)


def frame_table(frame: pd.DataFrame, columns: list[str], *, table: str) -> Table:
    """Take the named columns of an in-memory DataFrame as text."""
    origin = f"DataFrame {table!r}"
    _check_columns([str(name) for name in frame.columns], columns, origin=origin)
    arrays = []
    for name in columns:
        try:
            arrays.append(pa.array(_as_text(frame[name]), type=pa.string()))
        except UnicodeEncodeError:
            raise InputError(
                "holds text that is not valid Unicode", file=origin, column=name
            ) from None
    return _checked(table, origin, pa.table(dict(zip(columns, arrays, strict=True))))


# -- CSV -------------------------------------------------------------------------------------


def _read_csv(path: Path, columns: list[str], *, table: str) -> Table:
    _check_columns(_csv_header(path), columns, origin=str(path))
    arrow, broken, bad = _parse_csv(path, columns, threads=True)
    if any(row < 0 for row, _, _ in broken):
        # Parallel parsing does not know where a broken line sits; find out once, serially.
        arrow, broken, bad = _parse_csv(path, columns, threads=False)
    # A skipped line shifts the rows after it; rebuild each kept row's own number.
    rows = _numbers(arrow.num_rows)
    for gap in sorted(row for row, _, _ in broken):
        rows[rows >= gap] += 1
    return _checked(table, str(path), arrow, rows=rows, broken=broken, bad=bad)


def _parse_csv(
    path: Path, columns: list[str], *, threads: bool
) -> tuple[pa.Table, list[tuple[int, str, str]], list[BadCells]]:
    """Parse the columns as text; retried with bigger blocks for long lines, and as bytes when
    some cell is not UTF-8 (whose cells are then set aside)."""
    block = pacsv.ReadOptions().block_size
    as_bytes = False
    while True:
        broken: list[tuple[int, str, str]] = []

        def keep_aside(row: pacsv.InvalidRow, broken: list[tuple[int, str, str]] = broken) -> str:
            data_row = -1 if row.number is None else row.number - 1
            reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
            broken.append((data_row, reason, row.text))
            return "skip"

        kind = pa.binary() if as_bytes else pa.string()
        try:
            arrow = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(use_threads=threads, block_size=block),
                convert_options=pacsv.ConvertOptions(
                    include_columns=columns,
                    column_types=dict.fromkeys(columns, kind),
                    strings_can_be_null=False,
                ),
                parse_options=pacsv.ParseOptions(invalid_row_handler=keep_aside),
            )
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "straddling" in message and block < MAX_BLOCK_BYTES:
                block = min(block * BLOCK_GROWTH, MAX_BLOCK_BYTES)
                continue
            if "invalid UTF8" in message and not as_bytes:
                as_bytes = True
                continue
            raise InputError(f"cannot read CSV: {message}", file=str(path)) from None
        except OSError as exc:
            raise InputError(f"cannot read CSV: {exc}", file=str(path)) from None
        if not as_bytes:
            return arrow, broken, []
        text, bad = _text_of_bytes(arrow)
        return text, broken, bad


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        # The first line alone, as bytes: a bad byte further down is the rows' problem.
        with opener(path, "rb") as handle:
            line = handle.readline()
        # utf-8-sig: an export starting with a byte-order mark names its first column without.
        return next(csv.reader([line.decode("utf-8-sig")]), [])
    except UnicodeDecodeError:
        raise InputError("the header line is not UTF-8 text", file=str(path)) from None
    except (OSError, csv.Error) as exc:
        raise InputError(f"cannot read CSV header: {exc}", file=str(path)) from None


# -- Parquet ---------------------------------------------------------------------------------


def _parquet_schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", file=str(path)) from None


def _read_parquet(path: Path, columns: list[str], *, table: str) -> Table:
    _check_columns(_parquet_schema(path).names, columns, origin=str(path))
    try:
        arrow = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", file=str(path)) from None
    texts: dict[str, pa.ChunkedArray] = {}
    bad: list[BadCells] = []
    for name in columns:
        column = arrow[name]
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            # Parquet does not promise valid UTF-8 in its text columns: check them as bytes.
            column = column.cast(
                pa.large_binary() if pa.types.is_large_string(column.type) else pa.binary()
            )
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            text, found = _text_of_bytes(pa.table({name: column}))
            texts[name], bad = text[name], bad + found
        else:
            texts[name] = pa.chunked_array([pa.array(_as_text(column.to_pandas()))])
    return _checked(table, str(path), pa.table(texts), bad=bad)


# -- checks ----------------------------------------------------------------------------------


def _check_columns(present: list[str], wanted: list[str], *, origin: str) -> None:
    missing = [name for name in wanted if name not in present]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the file has {', '.join(present)}",
            file=origin,
            column=missing[0],
        )
    named = Counter(present)
    twice = [name for name in wanted if named[name] > 1]
    if twice:
        raise InputError(
            f"the header names column {twice[0]!r} {named[twice[0]]} times: which one the "
            "mapping means is unclear; rename the others",
            file=origin,
            column=twice[0],
        )


def _checked(
    table: str,
    origin: str,
    data: pa.Table,
    *,
    rows: np.ndarray | None = None,
    broken: list[tuple[int, str, str]] | None = None,
    bad: list[BadCells] | None = None,
) -> Table:
    """The table with cells holding NUL bytes or too long to be a value set aside."""
    found = list(bad or [])
    for name in data.column_names:
        column = data[name]
        long = pc.greater(pc.binary_length(column), MAX_CELL_BYTES)
        nul = pc.match_substring(column, "\x00")
        for mask, reason, whole_row in (
            (long, f"a value longer than {MAX_CELL_BYTES:,} bytes", True),
            (nul, "contains a NUL byte", False),
        ):
            positions = _positions(mask)
            if len(positions):
                cells = column.take(positions).to_pylist()
                found.append(
                    BadCells(name, positions, reason, [_shown(c) for c in cells], whole_row)
                )
    blanked = data
    for cells in found:
        index = blanked.column_names.index(cells.column)
        blank = np.zeros(blanked.num_rows, dtype=bool)
        blank[cells.positions] = True
        empty = pa.scalar("", blanked[cells.column].type)
        blanked = blanked.set_column(
            index, cells.column, pc.if_else(pa.array(blank), empty, blanked[cells.column])
        )
    numbers = _numbers(data.num_rows) if rows is None else rows
    return Table(table, origin, blanked, numbers, list(broken or []), found)


def _valid_utf8(column: pa.ChunkedArray) -> bool:
    try:
        for chunk in column.chunks:
            chunk.view(pa.string()).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _text_of_bytes(arrow: pa.Table) -> tuple[pa.Table, list[BadCells]]:
    """Columns read as bytes as text; cells that are not UTF-8 emptied and set aside."""
    columns, bad = {}, []
    for name in arrow.column_names:
        column = pc.fill_null(arrow[name], b"")
        if _valid_utf8(column):
            columns[name] = column.cast(pa.string())
            continue
        # Each distinct value decoded once, by Python: only files with bad bytes come here.
        encoded = pc.dictionary_encode(column).combine_chunks()
        words = encoded.dictionary.to_pylist()
        texts = [_utf8(word) for word in words]
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        positions = np.flatnonzero(np.array([text is None for text in texts], dtype=bool)[codes])
        shown = [_shown(words[code].decode("utf-8", "replace")) for code in codes[positions]]
        bad.append(BadCells(name, positions, "not UTF-8 text", shown))
        decoded = pa.array([text or "" for text in texts], type=pa.string())
        columns[name] = pa.chunked_array([decoded.take(encoded.indices)])
    return pa.table(columns), bad


def _utf8(word: bytes) -> str | None:
    try:
        return word.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _positions(mask: pa.ChunkedArray) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _shown(cell: str | bytes) -> str:
    text = cell.decode("utf-8", "replace") if isinstance(cell, bytes) else cell
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[:SHOWN_CHARS]}… ({len(text.encode()):,} bytes)"


def _as_text(values: pd.Series) -> pd.Series:
    """Cells as strings; null becomes the empty string, as in a CSV export."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.to_datetime(values, utc=True)
        text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        text = values.astype("string")
    return text.fillna("").astype(str)


def _numbers(length: int) -> np.ndarray:
    return np.arange(1, length + 1, dtype=np.int64)
