"""Readers: a source table from CSV, Parquet or a DataFrame, every cell as text.

Every value is read as a string so that nothing is silently converted (a leading zero, a card
number turned into a float); the loader parses what it needs and reports what it cannot.
Rows are numbered from 1, not counting the header: in a plain CSV, row N is line N + 1.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from graphfraud.errors import InputError

SUFFIXES = (".csv", ".parquet", ".csv.gz")


@dataclass
class Table:
    """A source table as read: text cells, each row's number, and rows that could not be parsed."""

    name: str
    origin: str
    frame: pd.DataFrame
    rows: np.ndarray
    broken: list[tuple[int, str, str]] = field(default_factory=list)


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
    """Raise InputError if the file at ``path`` lacks any of ``columns``."""
    if path.suffix == ".parquet":
        try:
            present = pq.read_schema(path).names
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read Parquet: {exc}", file=str(path)) from None
    else:
        present = _csv_header(path)
    _check_columns(present, columns, origin=str(path))


def read_table(path: Path, columns: list[str], *, table: str) -> Table:
    """Read the named columns of a CSV or Parquet file as text."""
    if path.suffix == ".parquet":
        return _read_parquet(path, columns, table=table)
    return _read_csv(path, columns, table=table)


def frame_table(frame: pd.DataFrame, columns: list[str], *, table: str) -> Table:
    """Take the named columns of an in-memory DataFrame as text."""
    _check_columns(list(frame.columns), columns, origin=f"DataFrame {table!r}")
    text = pd.DataFrame({name: _as_text(frame[name]) for name in columns})
    return Table(table, f"DataFrame {table!r}", text.reset_index(drop=True), _numbers(len(text)))


def _read_csv(path: Path, columns: list[str], *, table: str) -> Table:
    _check_columns(_csv_header(path), columns, origin=str(path))
    arrow, broken = _parse_csv(path, columns, threads=True)
    if any(row < 0 for row, _, _ in broken):
        # Parallel parsing does not know where a broken line sits; find out once, serially.
        arrow, broken = _parse_csv(path, columns, threads=False)
    frame = arrow.to_pandas()
    # A skipped line shifts the rows after it; rebuild each kept row's own number.
    rows = _numbers(len(frame))
    for gap in sorted(row for row, _, _ in broken):
        rows[rows >= gap] += 1
    return Table(table, str(path), frame, rows, broken)


def _parse_csv(
    path: Path, columns: list[str], *, threads: bool
) -> tuple[pa.Table, list[tuple[int, str, str]]]:
    broken: list[tuple[int, str, str]] = []

    def keep_aside(row: pacsv.InvalidRow) -> str:
        data_row = -1 if row.number is None else row.number - 1
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        broken.append((data_row, reason, row.text))
        return "skip"

    try:
        arrow = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=keep_aside),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read CSV: {exc}", file=str(path)) from None
    return arrow, broken


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV header: {exc}", file=str(path)) from None


def _read_parquet(path: Path, columns: list[str], *, table: str) -> Table:
    try:
        schema = pq.read_schema(path)
        _check_columns(schema.names, columns, origin=str(path))
        arrow = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read Parquet: {exc}", file=str(path)) from None
    frame = arrow.to_pandas()
    text = pd.DataFrame({name: _as_text(frame[name]) for name in columns})
    return Table(table, str(path), text, _numbers(len(text)))


def _check_columns(present: list[str], wanted: list[str], *, origin: str) -> None:
    missing = [name for name in wanted if name not in present]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the file has {', '.join(present)}",
            file=origin,
            column=missing[0],
        )


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
