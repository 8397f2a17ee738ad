"""Load source tables into a store through a mapping spec.

Every source is read and checked before anything is written, so a missing file or column stops
the load with nothing changed. Rows that cannot be used go to a rejects file (file, row, column,
reason and the row itself) and everything else is loaded. Links from all sources are
aggregated, then entities and links are written; a failure while writing is reported as such
and, since writes merge, running the same load again completes it without duplicates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from graphfraud.errors import InputError, StoreError
from graphfraud.model import ENTITY_COLUMNS, LINK_COLUMNS, EntityKind
from graphfraud.settings import Settings, get_settings
from graphfraud.store import GraphStore
from graphfraud.store.base import conform_entities, conform_links
from loaders.mapping import MappingSpec, Source
from loaders.normalise import NormaliseOptions, normalise
from loaders.readers import Table, check_columns, frame_table, locate, read_table

Progress = Callable[[str, int, int], None]

REJECT_COLUMNS = ["file", "row", "column", "reason", "record"]
TRUE_LABELS = frozenset({"1", "true", "yes", "y", "t"})
FALSE_LABELS = frozenset({"", "0", "false", "no", "n", "f"})


@dataclass
class LoadReport:
    """What a load read, loaded and rejected."""

    rows_read: dict[str, int] = field(default_factory=dict)
    rows_rejected: dict[str, int] = field(default_factory=dict)
    entities: int = 0
    links: int = 0
    rejects_path: Path | None = None
    seconds: float = 0.0

    @property
    def read(self) -> int:
        return sum(self.rows_read.values())

    @property
    def rejected(self) -> int:
        return sum(self.rows_rejected.values())

    @property
    def loaded(self) -> int:
        return self.read - self.rejected


@dataclass
class _Parsed:
    """One source turned into frames, and the problems found in it."""

    entities: list[pd.DataFrame]
    links: list[pd.DataFrame]
    rejects: pd.DataFrame
    read: int


def load_tables(
    store: GraphStore,
    spec: MappingSpec,
    data: Path | str | Mapping[str, pd.DataFrame],
    *,
    rejects_path: Path | str | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load the tables of ``spec`` from a folder (or DataFrames by table name) into ``store``.

    Parameters
    ----------
    store
        Where to write; its schema is ensured first.
    spec
        The mapping that says what each column means.
    data
        A folder holding ``<table>.csv`` / ``<table>.parquet`` files, or a mapping of table
        name to DataFrame.
    rejects_path
        Where rejected rows go (CSV); default ``rejects.csv`` in the data folder, or in the
        working directory for DataFrames. Written only when a row is rejected.
    progress
        Called as ``progress(stage, done, total)`` while the load advances.

    Returns
    -------
    LoadReport
        Rows read / rejected per table, entities and links written, where rejects went.

    Raises
    ------
    InputError
        A file or a column the spec needs is missing or unreadable; nothing was written.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    tell = progress or (lambda stage, done, total: None)
    readers = _check_all(spec, data)
    report = LoadReport()
    entities: list[pa.Table] = []
    links: list[pa.Table] = []
    rejects: list[pd.DataFrame] = []
    # One table at a time, aggregated as soon as it is parsed: peak memory is that of the
    # largest table, not of all of them.
    for step, (source, read) in enumerate(readers):
        tell(f"reading {source.table}", step, len(readers))
        parsed = _parse(source, read(), settings)
        if parsed.entities:
            entities.append(conform_entities(pd.concat(parsed.entities, ignore_index=True)))
        if parsed.links:
            links.append(conform_links(pd.concat(parsed.links, ignore_index=True)))
        rejects.append(parsed.rejects)
        report.rows_read[source.table] = parsed.read
        report.rows_rejected[source.table] = int(parsed.rejects["row"].nunique())
        del parsed
    tell("reading", len(readers), len(readers))
    rejected = pd.concat(rejects, ignore_index=True)
    if not rejected.empty:
        default = Path("rejects.csv") if isinstance(data, Mapping) else Path(data) / "rejects.csv"
        report.rejects_path = Path(rejects_path) if rejects_path is not None else default
        rejected.to_csv(report.rejects_path, index=False)
    try:
        store.ensure_schema()
        if entities:
            report.entities = store.upsert_entities(
                pa.concat_tables(entities), progress=partial(tell, "writing entities")
            )
        if links:
            report.links = store.upsert_links(
                pa.concat_tables(links), progress=partial(tell, "writing links")
            )
    except StoreError as exc:
        raise StoreError(
            f"load into {store.url} stopped while writing: {exc}. Rows already written are "
            "merged, so running the same load again completes it without duplicates."
        ) from exc
    report.seconds = time.perf_counter() - started
    return report


def _check_all(
    spec: MappingSpec, data: Path | str | Mapping[str, pd.DataFrame]
) -> list[tuple[Source, Callable[[], Table]]]:
    """Find every table and check its columns before any is read in full."""
    readers: list[tuple[Source, Callable[[], Table]]] = []
    for source in spec.sources:
        if isinstance(data, Mapping):
            if source.table not in data:
                raise InputError(f"no DataFrame given for table {source.table!r}")
            table = frame_table(data[source.table], source.columns, table=source.table)
            readers.append((source, partial(_given, table)))
        else:
            path = locate(Path(data), source.table, source.file)
            check_columns(path, source.columns)
            readers.append((source, partial(read_table, path, source.columns, table=source.table)))
    return readers


def _given(table: Table) -> Table:
    return table


def _parse(source: Source, table: Table, settings: Settings) -> _Parsed:
    frame = table.frame
    problems: list[pd.DataFrame] = []
    good = np.ones(len(frame), dtype=bool)

    def reject(mask: np.ndarray, column: str, reasons: pd.Series | str) -> None:
        nonlocal good
        if not mask.any():
            return
        why = reasons if isinstance(reasons, str) else reasons[mask].to_numpy()
        problems.append(pd.DataFrame({"row": table.rows[mask], "column": column, "reason": why}))
        good &= ~mask

    accounts = _normalised(EntityKind.ACCOUNT, frame[source.account], settings)
    reject(accounts.values.isna().to_numpy(), source.account, "missing account id")
    stamp = _timestamps(frame, source.timestamp, reject)
    created = _timestamps(frame, source.created_at, reject) if source.created_at else None
    amount = _amounts(frame, source.amount, reject)
    identifiers = []
    for column in source.identifiers:
        found = _normalised(column.kind, frame[column.column], settings)
        reject(found.errors.notna().to_numpy(), column.column, found.errors)
        identifiers.append((column, found))
    others = [
        (other_column, _normalised(EntityKind.ACCOUNT, frame[other_column.column], settings).values)
        for other_column in source.accounts
    ]

    keep = pd.Series(good, index=frame.index)
    entities = []
    # Accounts without attributes need no entity row: writing their links creates them.
    if created is not None or source.label is not None:
        entities.append(
            pd.DataFrame(
                {
                    "kind": EntityKind.ACCOUNT.value,
                    "key": accounts.values[keep],
                    "display": None,
                    "created_at": None if created is None else created[keep],
                    "label": _labels(frame[source.label][keep]) if source.label else None,
                    "attributes": None,
                }
            )
        )
    links = []
    for column, found in identifiers:
        present = keep & found.values.notna()
        entities.append(
            pd.DataFrame(
                {
                    "kind": column.kind,
                    "key": found.values[present],
                    "display": None if found.display is None else found.display[present],
                    "created_at": None,
                    "label": None,
                    "attributes": None,
                }
            ).drop_duplicates("key")
        )
        links.append(
            _links(
                accounts.values[present],
                column.link_kind,
                column.kind,
                found.values[present],
                stamp[present],
                amount[present],
            )
        )
    for other_column, other in others:
        present = keep & other.notna() & (other != accounts.values)
        links.append(
            _links(
                accounts.values[present],
                other_column.link,
                EntityKind.ACCOUNT,
                other[present],
                stamp[present],
                amount[present],
            )
        )
    return _Parsed(
        [e[list(ENTITY_COLUMNS)] for e in entities],
        links,
        _rejects(problems, table),
        len(frame) + len(table.broken),
    )


@dataclass
class _Unique:
    """Normalised values, error reasons and display forms, one per row."""

    values: pd.Series
    errors: pd.Series
    display: pd.Series | None


def _normalised(kind: str, values: pd.Series, settings: Settings) -> _Unique:
    """Normalise each distinct value once and spread the results back over the rows."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    options = NormaliseOptions.from_settings(settings)
    done = normalise(kind, pd.Series(uniques, dtype="object"), options)
    return _Unique(
        _spread(done.values, codes, values.index),
        _spread(done.errors, codes, values.index),
        None if done.display is None else _spread(done.display, codes, values.index),
    )


def _spread(per_unique: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Row values from per-unique values: an Arrow take, no Python string per row."""
    uniques = pa.array(per_unique.astype(object), type=pa.string(), from_pandas=True)
    taken = uniques.take(pa.array(codes, mask=codes < 0))
    return pd.Series(taken, index=index, dtype="str")


def _timestamps(frame: pd.DataFrame, column: str | None, reject: Callable[..., None]) -> pd.Series:
    """Parsed times as tz-naive UTC (numpy datetime64 moves through frames without boxing)."""
    if column is None:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    text = frame[column].str.strip()
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    bad = (parsed.isna() & (text != "")).to_numpy()
    reject(bad, column, "unparseable timestamp (expected ISO 8601, e.g. 2026-03-04T10:22:13Z)")
    return parsed.dt.tz_convert(None).astype("datetime64[us]")


def _amounts(frame: pd.DataFrame, column: str | None, reject: Callable[..., None]) -> pd.Series:
    if column is None:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    text = frame[column].str.strip()
    parsed = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (parsed.isna() & (text != "")).to_numpy()
    reject(bad, column, "amount is not a number")
    return parsed.astype("float64")


def _labels(values: pd.Series) -> pd.Series:
    """A known-bad label: truthy flags become "known_bad", falsy ones nothing, text is kept."""
    text = values.str.strip()
    lowered = text.str.lower()
    label = text.where(~lowered.isin(TRUE_LABELS), "known_bad")
    return label.where(~lowered.isin(FALSE_LABELS), None).astype("object")


def _links(
    src: pd.Series, kind: str, dst_kind: str, dst: pd.Series, stamp: pd.Series, amount: pd.Series
) -> pd.DataFrame:
    # .array keeps Arrow-backed strings as they are; .to_numpy() would box every one.
    return pd.DataFrame(
        {
            "src_kind": EntityKind.ACCOUNT.value,
            "src_key": src.array,
            "kind": kind,
            "dst_kind": str(dst_kind),
            "dst_key": dst.array,
            "first_seen": stamp.to_numpy(),
            "last_seen": stamp.to_numpy(),
            "count": 1,
            "amount": amount.to_numpy(),
        },
        columns=list(LINK_COLUMNS),
    )


def _rejects(problems: list[pd.DataFrame], table: Table) -> pd.DataFrame:
    """Problems with the file and the rejected row itself attached, so nothing is lost."""
    found = pd.concat(problems, ignore_index=True) if problems else None
    parts = []
    if found is not None:
        position = pd.Series(np.arange(len(table.rows)), index=table.rows)[found["row"]]
        cells = table.frame.iloc[position.to_numpy()].to_dict("records")
        parts.append(found.assign(record=[json.dumps(cell) for cell in cells]))
    if table.broken:
        rows, reasons, texts = zip(*table.broken, strict=True)
        parts.append(pd.DataFrame({"row": rows, "column": "", "reason": reasons, "record": texts}))
    if not parts:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    out = pd.concat(parts, ignore_index=True).assign(file=table.origin)
    return out[REJECT_COLUMNS].sort_values(["row", "column"], kind="stable", ignore_index=True)
