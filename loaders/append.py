"""Appending rows to a loaded store: a few new rows of some of a mapping's tables at a time.

What a running service receives (sign-ups, logins, orders, transfers as they happen) is
loaded exactly as a whole export is: :func:`~loaders.load.load_tables` on the tables given,
with the mapping's other tables left out, so identifiers are normalised by the same rules and
bad fields are rejected with the same reasons. What it adds here is what an append needs to
tell its caller: the rejects themselves (not a file), and the accounts the rows touch, which
are the ones whose rings may have changed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from graphfraud.errors import InputError
from graphfraud.model import EntityKind
from graphfraud.settings import Settings
from graphfraud.store import GraphStore
from loaders.load import REJECT_COLUMNS, LoadReport, load_tables
from loaders.mapping import MappingSpec
from loaders.normalise import NormaliseOptions, normalise
from loaders.readers import locate, read_table


class RowsRejected(InputError):
    """Every appended row was rejected: nothing was written.

    Attributes
    ----------
    rejects
        Every rejected row and field (``REJECT_COLUMNS``: table, row, column, reason, ...).
    """

    def __init__(self, message: str, rejects: pd.DataFrame) -> None:
        super().__init__(message)
        self.rejects = rejects


@dataclass(frozen=True)
class Appended:
    """What an append wrote and rejected, and the accounts it touched.

    Attributes
    ----------
    report
        The load's report (rows read, rejected, written).
    rejects
        Every rejected row and field (``REJECT_COLUMNS``).
    accounts
        Keys of the accounts the rows belong to or link to, normalised, each once.
    """

    report: LoadReport
    rejects: pd.DataFrame
    accounts: list[str]


def append_rows(
    store: GraphStore,
    spec: MappingSpec,
    tables: Mapping[str, pd.DataFrame],
    *,
    settings: Settings,
) -> Appended:
    """Load rows of some of ``spec``'s tables into ``store``, as a full load would.

    Parameters
    ----------
    store
        A loaded store (its fingerprint key fingerprints the cards).
    spec
        The mapping the rows follow; only the tables given are read.
    tables
        Rows per table name, one column per mapped column (values as text or numbers).
    settings
        The default region, as for a load.

    Returns
    -------
    Appended
        What was written and rejected, and the accounts touched.

    Raises
    ------
    InputError
        A table the mapping does not know, or a column it reads is missing.
    RowsRejected
        Every row was rejected (a missing or invalid account, a broken line): nothing was
        written. Rows with a bad field load without it; no share of rejects stops an append.
    """
    known = [source.table for source in spec.sources]
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise InputError(
            f"table {unknown[0]!r} is not in mapping {spec.name!r}; its tables are: "
            f"{', '.join(known)}"
        )
    if not tables:
        raise InputError(f"no rows given; send rows of the tables {', '.join(known)}")
    part = spec.model_copy(
        update={"sources": tuple(source for source in spec.sources if source.table in tables)}
    )
    # A few rows are no export: one bad field in a batch of one is no sign of a wrong mapping,
    # so no share of rejects stops an append; only rows that all fail do.
    lenient = settings.model_copy(update={"max_reject_share": 1.0})
    with tempfile.TemporaryDirectory(prefix="graphfraud-append-") as folder:
        rejects_path = Path(folder) / "rejects.csv"
        report = load_tables(store, part, dict(tables), rejects_path=rejects_path, settings=lenient)
        rejects = _rejects(rejects_path)
    if report.read and not report.loaded:
        reasons = "; ".join(f"{reason} ({n:,})" for reason, n in list(report.reasons.items())[:5])
        raise RowsRejected(f"every row sent was rejected, nothing was written: {reasons}", rejects)
    return Appended(report, rejects, _accounts(store, part, tables))


def read_appended(data: Path, spec: MappingSpec) -> dict[str, pd.DataFrame]:
    """The tables of ``spec`` that the folder ``data`` holds, as text, by table name.

    An append may bring some tables only (new logins, say); at least one must be there.

    Raises
    ------
    InputError
        No table of the mapping is in ``data``, a column it reads is missing, or a line or a
        cell cannot be read (file and row named): an append is small enough to fix first.
    """
    if not data.is_dir():
        raise InputError(f"data folder {data} does not exist")
    frames = {}
    for source in spec.sources:
        try:
            path = locate(data, source.table, source.file)
        except InputError:
            continue  # a table this append does not bring
        table = read_table(path, source.columns, table=source.table)
        for row, reason, _ in table.broken:
            raise InputError(f"cannot append a broken line: {reason}", file=str(path), row=row)
        for cells in table.bad:
            row = int(table.rows[cells.positions[0]])
            raise InputError(
                f"cannot append: {cells.reason}", file=str(path), row=row, column=cells.column
            )
        frames[source.table] = table.data.to_pandas()
    if not frames:
        tables = ", ".join(source.table for source in spec.sources)
        raise InputError(f"no table to append in {data}: the mapping reads {tables}")
    return frames


def _rejects(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame(columns=REJECT_COLUMNS)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _accounts(
    store: GraphStore, spec: MappingSpec, tables: Mapping[str, pd.DataFrame]
) -> list[str]:
    """The accounts the rows belong to and link to, normalised as the load normalises them."""
    raw = []
    for source in spec.sources:
        columns = [] if source.account is None else [source.account]
        columns += [column for other in source.accounts for column in other.columns]
        frame = tables[source.table]
        raw += [frame[column].dropna().astype(str) for column in columns]
    if not raw:
        return []
    values = pd.concat(raw, ignore_index=True).drop_duplicates()
    keys = normalise(EntityKind.ACCOUNT, values, NormaliseOptions(store.fingerprint_key())).values
    return sorted(set(keys.dropna().astype(str)))
