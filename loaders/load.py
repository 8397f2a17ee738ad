"""Load source tables into a store through a mapping spec.

Every source is found and its columns checked before any is read, so a missing file or column
stops the load with nothing changed. Then each table is read and parsed in turn:

- **one bad field rejects that field, not the row**: an invalid phone, an unparseable time or
  amount, a malformed attribute, a self-link leave the rest of the row loading; a row whose
  account (or entity key) is missing or invalid, or a line that cannot be parsed, is rejected
  whole. Every rejected field and row goes to a rejects file (table, file, row, column,
  whether the row or the field was dropped, reason, and the row itself with card numbers
  masked), and the report counts them per reason;
- **identifiers are normalised once**: each distinct raw value (with its region, for phones,
  addresses and names) across all tables, through :mod:`loaders.encoding`; rows are integer
  codes from then on;
- a table whose rejected rows and fields touch more than ``max_reject_share`` of its rows
  (a setting; 50% by default) **stops the load before anything is written**: a mapping that
  reads most of a table wrong is a mistake, not dirty data.

Then the links of all tables are **aggregated once**, entities (every link endpoint, and what
the tables say about accounts and entities) once, and the store writes links, entities and
events in one go (:meth:`graphfraud.store.GraphStore.write_graph`): on the embedded store, in
one transaction. A failure while writing is reported as such; writes merge, so running the same
load again completes it without duplicates.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graphfraud.errors import ConfigError, InputError, StoreError
from graphfraud.model import EntityKind
from graphfraud.settings import Settings, get_settings
from graphfraud.store import GraphStore
from graphfraud.store.base import (
    ENTITY_SCHEMA,
    EVENT_SCHEMA,
    LINK_SCHEMA,
    aggregate_entities,
    aggregate_links,
    latest_events,
)
from loaders import fields
from loaders.encoding import Encoded, Encoder, KeyBook, Request
from loaders.mapping import MappingSpec, NearDuplicates, PaymentFormat, Source, Value
from loaders.normalise import (
    NormaliseOptions,
    Vocabulary,
    load_vocabulary,
    region_code,
    resolve_near_duplicates,
)
from loaders.normalise.near_duplicates import RULES as NEAR_DUPLICATE_RULES
from loaders.readers import Table, check_columns, frame_table, locate, read_table

Progress = Callable[[str, int, int], None]

REJECT_COLUMNS = ["table", "file", "row", "column", "dropped", "reason", "record"]
SELF_LINK = "the row's own account: a link from an account to itself says nothing"
#: A card number as a rejects file would otherwise show it: 12 to 19 digits, spaces and dashes
#: allowed between them. Masked to its last four digits.
CARD_NUMBER = re.compile(r"(?<![0-9])(?:[0-9][ -]?){11,18}[0-9](?![0-9])")

_LINK_ROW = pa.schema(
    [("src_kind", pa.int8()), ("src_key", pa.int32()), ("kind", pa.int8()),
     ("dst_kind", pa.int8()), ("dst_key", pa.int32()), ("first_seen", pa.timestamp("us")),
     ("last_seen", pa.timestamp("us")), ("count", pa.int8()), ("amount", pa.float64())]
)  # fmt: skip
_ENTITY_ROW = pa.schema(
    [("kind", pa.int8()), ("key", pa.int32()), ("display", pa.string()),
     ("created_at", pa.timestamp("us")), ("label", pa.string()), ("attributes", pa.string()),
     ("time", pa.timestamp("us"))]
)  # fmt: skip
_EVENT_ROW = pa.schema(
    [("event_id", pa.string()), ("source", pa.string()), ("kind", pa.string()),
     ("account", pa.int32()), ("time", pa.timestamp("us")), ("amount", pa.float64()),
     ("refs", pa.list_(pa.int32()))]
)  # fmt: skip


@dataclass
class LoadReport:
    """What a load read, loaded and rejected."""

    rows_read: dict[str, int] = field(default_factory=dict)
    #: Rows not loaded at all, per table.
    rows_rejected: dict[str, int] = field(default_factory=dict)
    #: Rows loaded without one or more of their fields, per table.
    rows_with_rejected_fields: dict[str, int] = field(default_factory=dict)
    #: Rejected rows and fields (lines of the rejects file), per reason.
    reasons: dict[str, int] = field(default_factory=dict)
    entities: int = 0
    links: int = 0
    events: int = 0
    rejects_path: Path | None = None
    #: Keys merged into another as near duplicates, and where they are listed.
    near_duplicates: int = 0
    near_duplicates_path: Path | None = None
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

    @property
    def with_rejected_fields(self) -> int:
        return sum(self.rows_with_rejected_fields.values())


def load_tables(
    store: GraphStore,
    spec: MappingSpec,
    data: Path | str | Mapping[str, pd.DataFrame],
    *,
    rejects_path: Path | str | None = None,
    merges_path: Path | str | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load the tables of ``spec`` from a folder (or DataFrames by table name) into ``store``.

    Parameters
    ----------
    store
        Where to write; payment instruments are fingerprinted with its key.
    spec
        The mapping that says what each column means.
    data
        A folder holding ``<table>.csv`` / ``<table>.parquet`` files, or a mapping of table
        name to DataFrame.
    rejects_path
        Where rejected rows and fields go (CSV); default ``rejects.csv`` in the data folder,
        or in the working directory for DataFrames. Written only when something is rejected.
    merges_path
        Where the near-duplicate keys merged into another go (CSV: kind, key, what it became,
        how alike they are, the raw spellings behind it); default ``near-duplicates.csv`` in
        the data folder, or in the working directory for DataFrames. Written only when the
        mapping asks for near duplicates and some were found.
    settings
        ``max_reject_share`` and ``default_phone_region``; default
        :func:`graphfraud.settings.get_settings`.
    progress
        Called as ``progress(stage, done, total)`` while the load advances.

    Returns
    -------
    LoadReport
        Rows read and rejected per table, rejects per reason, what was written, where
        rejects went.

    Raises
    ------
    InputError
        A file or a column the spec needs is missing or unreadable, or a table has more
        rejects than ``max_reject_share`` allows; nothing was written.
    ConfigError
        A region or vocabulary file of the mapping is unusable; nothing was written.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    tell = progress or (lambda stage, done, total: None)
    readers = _check_all(spec, data)
    vocabulary = load_vocabulary(spec.vocabularies)
    book = KeyBook()
    encoder = Encoder(book, NormaliseOptions(store.fingerprint_key(), vocabulary=vocabulary))
    regions = [_region(spec, index, settings, vocabulary) for index in range(len(spec.sources))]
    for index, rule in enumerate(spec.near_duplicates):
        if rule.kind not in NEAR_DUPLICATE_RULES:
            raise ConfigError(
                f"near_duplicates.{index}.kind: {rule.kind!r} has no near-duplicate rule; "
                f"use {', '.join(sorted(NEAR_DUPLICATE_RULES))}"
            )
    load = _Load(book)
    parsed = []
    for step, (source, read) in enumerate(readers):
        tell(f"reading {source.table}", step, len(readers))
        found = _parse(source, read(), encoder, load, region=regions[step], vocabulary=vocabulary)
        parsed.append(found)
    tell("reading", len(readers), len(readers))

    report = LoadReport()
    for source, found in zip(spec.sources, parsed, strict=True):
        report.rows_read[source.table] = found.read
        report.rows_rejected[source.table] = found.rows_rejected
        report.rows_with_rejected_fields[source.table] = found.rows_with_rejected_fields
    rejected = pd.concat([found.rejects for found in parsed], ignore_index=True)
    report.reasons = dict(Counter(rejected["reason"]).most_common())
    if not rejected.empty:
        report.rejects_path = _beside(data, rejects_path, "rejects.csv")
        rejected.to_csv(report.rejects_path, index=False)
    _check_rejects(report, settings.max_reject_share)

    if spec.near_duplicates:
        tell("resolving near duplicates", 0, 1)
        merged = load.resolve_near_duplicates(parsed, spec.near_duplicates, encoder)
        report.near_duplicates = len(merged)
        if len(merged):
            report.near_duplicates_path = _beside(data, merges_path, "near-duplicates.csv")
            merged.to_csv(report.near_duplicates_path, index=False)
        tell("resolving near duplicates", 1, 1)
    tell("aggregating", 0, 1)
    _release_memory()
    entities, links, events = load.assemble(parsed)
    # What only reading needed (raw values met, per-source rows) is let go before writing.
    del parsed, encoder
    _release_memory()
    tell("aggregating", 1, 1)
    try:
        store.write_graph(entities, links, events, progress=partial(tell, "writing"))
    except StoreError as exc:
        raise StoreError(
            f"load into {store.url} stopped while writing: {exc}. Rows already written are "
            "merged, so running the same load again completes it without duplicates."
        ) from exc
    report.entities, report.links, report.events = (
        entities.num_rows,
        links.num_rows,
        events.num_rows,
    )
    report.seconds = time.perf_counter() - started
    return report


def _release_memory() -> None:
    """Hand memory that Arrow's allocator keeps for reuse back to the system: between the
    stages of a big load it is the difference between a peak of its largest stage and of
    two (0.3 GiB at a million accounts)."""
    pa.default_memory_pool().release_unused()


def _beside(
    data: Path | str | Mapping[str, pd.DataFrame], given: Path | str | None, name: str
) -> Path:
    """Where a file the load writes goes: ``given``, else ``name`` in the data folder (or, for
    DataFrames, in the working directory)."""
    if given is not None:
        return Path(given)
    return Path(name) if isinstance(data, Mapping) else Path(data) / name


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


def _region(spec: MappingSpec, index: int, settings: Settings, vocabulary: Vocabulary) -> str:
    """The region of a source's phones and addresses where a row says none, as a code."""
    given = [(spec.sources[index].region, f"sources.{index}.region"), (spec.region, "region")]
    text, where = next(
        ((text, where) for text, where in given if text is not None),
        (settings.default_phone_region, "the default_phone_region setting"),
    )
    code = region_code(text, vocabulary)
    if code is None:
        raise ConfigError(
            f"{where}: unknown region {text!r}; give an ISO 3166 code such as ID or US, or a "
            "country name"
        )
    return code


def _check_rejects(report: LoadReport, share: float) -> None:
    """Stop the load when a table lost more than ``share`` of its rows, wholly or in part."""
    over = []
    for table, read in report.rows_read.items():
        touched = report.rows_rejected[table] + report.rows_with_rejected_fields[table]
        if read and touched / read > share:
            over.append(f"{table}: {touched:,} of {read:,} rows ({touched / read:.0%})")
    if not over:
        return
    reasons = "; ".join(f"{reason} ({n:,})" for reason, n in list(report.reasons.items())[:5])
    raise InputError(
        f"too many rejected rows or fields, nothing was written: {', '.join(over)} — more "
        f"than {share:.0%} (--max-rejects, GRAPHFRAUD_MAX_REJECT_SHARE). Most common reasons: "
        f"{reasons}. Every one is in {report.rejects_path}; a mapping that reads a column wrong "
        "(a token column read as card numbers, a phone region) is the usual cause"
    )


# -- one source ------------------------------------------------------------------------------


@dataclass
class _Parsed:
    """One source as codes: the rows it adds to the load, and what it rejected."""

    links: list[pa.Table]
    #: Codes of the accounts (or entities) of the rows loaded (repeated as the rows repeat
    #: them): each exists, links or not.
    keys: np.ndarray
    entities: pa.Table | None
    events: pa.Table | None
    rejects: pd.DataFrame
    read: int
    rows_rejected: int
    rows_with_rejected_fields: int

    def remap(self, codes: np.ndarray) -> None:
        """Replace every key code ``c`` in the rows by ``codes[c]``."""

        def mapped(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
            for name in columns:
                index = table.column_names.index(name)
                table = table.set_column(index, name, pa.array(codes[np.asarray(table[name])]))
            return table

        self.links = [mapped(table, ("src_key", "dst_key")) for table in self.links]
        self.keys = codes[self.keys]
        if self.entities is not None:
            self.entities = mapped(self.entities, ("key",))
        if self.events is not None:
            refs = self.events["refs"].combine_chunks()
            moved = pa.ListArray.from_arrays(refs.offsets, pa.array(codes[np.asarray(refs.values)]))
            self.events = mapped(self.events, ("account",)).set_column(6, "refs", moved)


def _positions_in(values: pd.Series, keys: pa.ChunkedArray) -> np.ndarray:
    """Where each of ``values`` is among ``keys`` (all are there)."""
    found = pc.index_in(pa.array(values.tolist(), pa.large_string()), value_set=keys)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


class _Problems:
    """The rejected fields and rows of one source, by position in its table."""

    def __init__(self, size: int) -> None:
        self.dead = np.zeros(size, dtype=bool)
        self._found: list[pd.DataFrame] = []
        self.shown: dict[tuple[int, str], str] = {}

    def add(
        self, positions: np.ndarray, column: str, reasons: str | np.ndarray, *, whole_row: bool
    ) -> None:
        if not len(positions):
            return
        self._found.append(
            pd.DataFrame({"position": positions, "column": column, "reason": reasons})
        )
        if whole_row:
            self.dead[positions] = True

    def frame(self) -> pd.DataFrame:
        if not self._found:
            return pd.DataFrame({"position": [], "column": [], "reason": []})
        return pd.concat(self._found, ignore_index=True)


def _parse(
    source: Source,
    table: Table,
    encoder: Encoder,
    load: _Load,
    *,
    region: str,
    vocabulary: Vocabulary,
) -> _Parsed:
    data = table.data
    problems = _Problems(data.num_rows)
    key_columns = set(source.key.columns)
    for cells in table.bad:
        whole = cells.whole_row or cells.column in key_columns
        problems.add(cells.positions, cells.column, cells.reason, whole_row=whole)
        problems.shown.update(
            {(int(p), cells.column): s for p, s in zip(cells.positions, cells.shown, strict=True)}
        )
    regions = _row_regions(data, source, region, vocabulary)
    key_format = source.entity.payment_format if source.entity is not None else "card"
    # Every column of the table at once: their normalisers run side by side.
    key, *identified = encoder.encode(
        [Request(source.key_kind, fields.template(data, source.key), regions, key_format)]
        + [
            Request(given.kind, fields.template(data, given), regions, given.payment_format)
            for given in source.identifiers
        ]
        + [
            Request(EntityKind.ACCOUNT, fields.template(data, other), regions)
            for other in source.accounts
        ]
    )
    problems.add(key.errors, source.key.field, key.reasons, whole_row=True)
    absent = np.flatnonzero((key.codes < 0) & ~problems.dead)
    what = "account id" if source.entity is None else f"{source.key_kind} key"
    problems.add(absent, source.key.field, f"missing {what}", whole_row=True)
    alive = ~problems.dead

    stamp = _column(data, source.timestamp, fields.times, problems, _NO_TIME)
    created = (
        stamp
        if source.created_at == source.timestamp
        else _column(data, source.created_at, fields.times, problems, _NO_TIME)
    )
    amount = _column(data, source.amount, fields.amounts, problems, _NO_AMOUNT)
    attributes = _attributes(data, source, problems)

    targets: list[tuple[str, str, Encoded]] = []
    count = len(source.identifiers)
    for identifier, found in zip(source.identifiers, identified[:count], strict=True):
        problems.add(found.errors, identifier.field, found.reasons, whole_row=False)
        targets.append((identifier.link_kind, identifier.kind, found))
    for other, found in zip(source.accounts, identified[count:], strict=True):
        problems.add(found.errors, other.field, found.reasons, whole_row=False)
        itself = np.flatnonzero((found.codes == key.codes) & (found.codes >= 0))
        problems.add(itself, other.field, SELF_LINK, whole_row=False)
        found.codes[itself] = -1
        targets.append((other.link, EntityKind.ACCOUNT, found))

    key_kind = load.book.kind_code(source.key_kind)
    links = [
        load.links(
            key_kind, key.codes, link, load.book.kind_code(kind), found.codes, stamp, amount,
            alive & (found.codes >= 0),
        )
        for link, kind, found in targets
    ]  # fmt: skip
    entities = None
    if source.created_at or source.label or source.attributes:
        label = fields.labels(data[source.label]) if source.label else None
        entities = load.entities(key_kind, key.codes, created, label, attributes, stamp, alive)
    events = None
    if source.event is not None:
        codes = [found.codes for _, _, found in targets]
        refs = np.stack(codes, axis=1) if codes else np.zeros((data.num_rows, 0), np.int32)
        ids = _event_ids(source, table)
        events = load.events(source, ids, key.codes, stamp, amount, refs, alive)

    rejects = _rejects(source, table, problems)
    dead = int(problems.dead.sum())
    touched = len(np.unique(problems.frame()["position"]))
    return _Parsed(
        links=links,
        keys=key.codes[alive],
        entities=entities,
        events=events,
        rejects=rejects,
        read=data.num_rows + len(table.broken),
        rows_rejected=dead + len(table.broken),
        rows_with_rejected_fields=touched - dead,
    )


_NO_TIME = np.datetime64("NaT", "us")
_NO_AMOUNT = np.float64("nan")


def _column(
    data: pa.Table,
    column: str | None,
    read: Callable[[pa.ChunkedArray], tuple[np.ndarray, fields.Problems]],
    problems: _Problems,
    missing: np.generic,
) -> np.ndarray:
    """A column read by ``read``, its problems rejected as fields; ``missing`` if unmapped."""
    if column is None:
        return np.full(data.num_rows, missing)
    values, found = read(data[column])
    for positions, reason in found:
        problems.add(positions, column, reason, whole_row=False)
    return values


def _attributes(data: pa.Table, source: Source, problems: _Problems) -> pa.Array | None:
    """Each row's typed attributes as one JSON object (null where it has none)."""
    if not source.attributes:
        return None
    pieces = []
    for attribute in source.attributes:
        values, found = fields.attribute(data[attribute.column], attribute.type)
        for positions, reason in found:
            problems.add(positions, attribute.column, reason, whole_row=False)
        # Each present attribute as ',"name":value'; the first comma is cut when joined.
        name = "," + json.dumps(attribute.key, ensure_ascii=False) + ":"
        pieces.append(pc.fill_null(pc.binary_join_element_wise(name, values, ""), ""))
    joined = pc.binary_join_element_wise(*pieces, "")
    wrapped = pc.binary_join_element_wise("{", pc.utf8_slice_codeunits(joined, 1), "}", "")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), wrapped)


def _row_regions(
    data: pa.Table, source: Source, region: str, vocabulary: Vocabulary
) -> str | pa.ChunkedArray:
    """The region of each row: its ``region_column`` as a code where it names one, the raw
    text where it names none (the normalisers say so), the source's region where empty."""
    if source.region_column is None:
        return region
    encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(data[source.region_column]))
    combined = encoded.combine_chunks()
    codes = [
        region if not text else region_code(text, vocabulary) or text
        for text in combined.dictionary.to_pylist()
    ]
    return pa.chunked_array([pa.array(codes, pa.string()).take(combined.indices)])


def _event_ids(source: Source, table: Table) -> pa.Array:
    """``<table>/<id>`` from the event id column; where there is none, ``<table>/#`` and a hash
    of the row's cells, so that loading the same rows again finds the same events."""
    assert source.event is not None
    with duckdb.connect() as db:
        db.register("source_rows", table.data)
        cells = ", ".join(_quoted(name) for name in table.data.column_names)
        digest = f"'#' || left(md5(concat_ws(chr(31), {cells})), 20)"
        given = f"nullif(trim({_quoted(source.event.id)}), '')" if source.event.id else "NULL"
        prefix = _literal(source.table + "/")
        query = f"SELECT {prefix} || coalesce({given}, {digest}) FROM source_rows"
        return db.sql(query).to_arrow_table().column(0).combine_chunks().cast(pa.string())


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rejects(source: Source, table: Table, problems: _Problems) -> pd.DataFrame:
    """The rejects of one source, each with its row as it was read (card numbers masked)."""
    found = problems.frame()
    masked = _card_columns(source)
    parts = []
    if len(found):
        positions = found["position"].to_numpy(dtype=np.int64)
        unique = np.unique(positions)
        cells = table.data.take(pa.array(unique)).to_pylist()
        records = {}
        for position, row in zip(unique.tolist(), cells, strict=True):
            for column in row:
                row[column] = problems.shown.get((position, column), row[column])
                if column in masked:
                    row[column] = mask_card_numbers(row[column])
            records[position] = json.dumps(row, ensure_ascii=False)
        parts.append(
            pd.DataFrame(
                {
                    "row": table.rows[positions],
                    "column": found["column"].to_numpy(),
                    "dropped": np.where(problems.dead[positions], "row", "field"),
                    "reason": found["reason"].to_numpy(),
                    "record": [records[p] for p in positions.tolist()],
                }
            )
        )
    if table.broken:
        rows, reasons, texts = zip(*table.broken, strict=True)
        shown = [mask_card_numbers(text) if masked else text for text in texts]
        parts.append(
            pd.DataFrame(
                {"row": rows, "column": "", "dropped": "row", "reason": reasons, "record": shown}
            )
        )
    if not parts:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    out = pd.concat(parts, ignore_index=True).assign(table=source.table, file=table.origin)
    return out[REJECT_COLUMNS].sort_values(["row", "column"], kind="stable", ignore_index=True)


def _card_columns(source: Source) -> set[str]:
    """The columns holding card numbers, which a rejects file never shows whole."""
    values: list[Value] = [
        identifier
        for identifier in source.identifiers
        if identifier.kind == EntityKind.PAYMENT_INSTRUMENT
        and identifier.payment_format is PaymentFormat.CARD
    ]
    if (
        source.entity is not None
        and source.entity.kind == EntityKind.PAYMENT_INSTRUMENT
        and source.entity.payment_format is PaymentFormat.CARD
    ):
        values.append(source.entity)
    return {column for value in values for column in value.columns}


def mask_card_numbers(text: str) -> str:
    """Every card number in ``text`` cut to its last four digits (``••1111``)."""
    return CARD_NUMBER.sub(lambda found: "••" + re.sub("[^0-9]", "", found.group())[-4:], text)


# -- the whole load --------------------------------------------------------------------------


class _Load:
    """Builds the coded rows of each source, and assembles them into the load's tables."""

    def __init__(self, book: KeyBook) -> None:
        self.book = book
        self.link_kinds: list[str] = []

    def links(
        self,
        src_kind: int,
        src: np.ndarray,
        link: str,
        dst_kind: int,
        dst: np.ndarray,
        stamp: np.ndarray,
        amount: np.ndarray,
        keep: np.ndarray,
    ) -> pa.Table:
        if link not in self.link_kinds:
            self.link_kinds.append(link)
        size = int(keep.sum())
        seen = pa.array(stamp[keep], pa.timestamp("us"))
        return pa.table(
            [
                pa.array(np.full(size, src_kind, np.int8)),
                pa.array(src[keep]),
                pa.array(np.full(size, self.link_kinds.index(link), np.int8)),
                pa.array(np.full(size, dst_kind, np.int8)),
                pa.array(dst[keep]),
                seen,
                seen,
                pa.array(np.ones(size, np.int8)),
                pa.array(amount[keep], pa.float64(), from_pandas=True),
            ],
            schema=_LINK_ROW,
        )

    def entities(
        self,
        kind: int,
        keys: np.ndarray,
        created: np.ndarray,
        label: pa.Array | None,
        attributes: pa.Array | None,
        stamp: np.ndarray,
        keep: np.ndarray,
    ) -> pa.Table:
        size = int(keep.sum())
        mask = pa.array(keep)
        none = pa.nulls(size, pa.string())
        return pa.table(
            [
                pa.array(np.full(size, kind, np.int8)),
                pa.array(keys[keep]),
                none,
                pa.array(created[keep], pa.timestamp("us")),
                none if label is None else label.filter(mask),
                none if attributes is None else attributes.filter(mask),
                pa.array(stamp[keep], pa.timestamp("us")),
            ],
            schema=_ENTITY_ROW,
        )

    def events(
        self,
        source: Source,
        ids: pa.Array,
        account: np.ndarray,
        stamp: np.ndarray,
        amount: np.ndarray,
        refs: np.ndarray,
        keep: np.ndarray,
    ) -> pa.Table:
        assert source.event is not None
        size = int(keep.sum())
        touched = refs[keep] >= 0 if refs.size else np.zeros((size, 0), dtype=bool)
        offsets = np.concatenate([[0], np.cumsum(touched.sum(axis=1))]).astype(np.int32)
        values = refs[keep][touched].astype(np.int32) if refs.size else np.zeros(0, np.int32)
        return pa.table(
            [
                ids.filter(pa.array(keep)),
                pa.array(np.full(size, source.table, dtype=object), pa.string()),
                pa.array(np.full(size, source.event.kind, dtype=object), pa.string()),
                pa.array(account[keep]),
                pa.array(stamp[keep], pa.timestamp("us")),
                pa.array(amount[keep], pa.float64(), from_pandas=True),
                pa.ListArray.from_arrays(pa.array(offsets), pa.array(values)),
            ],
            schema=_EVENT_ROW,
        )

    def resolve_near_duplicates(
        self, parsed: list[_Parsed], rules: tuple[NearDuplicates, ...], encoder: Encoder
    ) -> pd.DataFrame:
        """Merge the near-duplicate keys of each kind ``rules`` name into their canonical key,
        in every coded row of ``parsed``; returns the merges, explained."""
        uses = np.zeros(self.book.size, dtype=np.int64)
        for table in (link for found in parsed for link in found.links):
            uses += np.bincount(np.asarray(table["dst_key"]), minlength=self.book.size)
        remap = np.arange(self.book.size, dtype=np.int32)
        merges = []
        for rule in rules:
            keys, codes = self.book.keys_of(rule.kind)
            if not len(keys):
                continue
            found = resolve_near_duplicates(
                rule.kind,
                pd.Series(keys.to_pylist(), dtype="object"),
                counts=pd.Series(uses[codes]),
                threshold=rule.threshold,
            )
            found = found[found["key"] != found["canonical"]]
            where = codes[_positions_in(found["key"], keys)]
            remap[where] = codes[_positions_in(found["canonical"], keys)]
            spelled = encoder.spellings(rule.kind, where)
            merges.append(
                found.assign(
                    kind=rule.kind,
                    spellings=[" | ".join(spelled.get(code, [])) for code in where.tolist()],
                )
            )
        for source in parsed:
            source.remap(remap)
        columns = ["kind", "key", "canonical", "score", "spellings"]
        return (
            pd.concat(merges, ignore_index=True)[columns]
            if merges
            else pd.DataFrame(columns=columns)
        )

    def assemble(self, parsed: list[_Parsed]) -> tuple[pa.Table, pa.Table, pa.Table]:
        """Entities, links and events of the whole load: each aggregated once, then spelled
        out from their codes. Consumes the coded rows of ``parsed``, to free them early.

        Kinds and keys come out as dictionary arrays over the kinds and the key book, a
        layout :meth:`~graphfraud.store.GraphStore.write_graph` takes beside plain strings:
        eleven million links then hold their codes and one copy of each key, not eleven
        million strings per column.
        """
        kind_of, text, display = self.book.spelled()
        kinds = pa.array(self.book.kinds, pa.string())
        coded = self._aggregated_links(parsed)
        events = self._events(parsed, kinds, kind_of, text)
        # Attribute rows oldest first, so that the newest value of an attribute wins.
        described = [found.entities for found in parsed if found.entities is not None]
        rows = pa.concat_tables(described) if described else _ENTITY_ROW.empty_table()
        # NaT is the smallest int64: rows without a time count as the oldest.
        order = np.argsort(rows["time"].to_numpy().astype("int64"), kind="stable")
        facts = aggregate_entities(rows.take(pa.array(order)).drop_columns(["time"]))
        # Link endpoints and the rows' own accounts the tables say nothing more about exist,
        # and that is all. Codes are below the book's size: marks in an array of that size
        # are a set in linear time (np.unique sorts).
        exists = np.zeros(self.book.size, dtype=bool)
        for codes in [coded["src_key"], coded["dst_key"], *(found.keys for found in parsed)]:
            exists[np.asarray(codes)] = True
        exists[facts["key"].to_numpy()] = False
        del described, rows
        for found in parsed:
            found.links, found.entities, found.events = [], None, None
        bare = np.flatnonzero(exists).astype(np.int32)
        keys = pa.concat_arrays([facts["key"].combine_chunks(), pa.array(bare)])
        none = pa.nulls(len(bare), pa.string())
        entities = pa.table(
            [
                _named(
                    kinds,
                    pa.concat_arrays([facts["kind"].combine_chunks(), pa.array(kind_of[bare])]),
                ),
                _named(text, keys),
                _named(display, keys),
                pa.concat_arrays(
                    [facts["created_at"].combine_chunks(), pa.nulls(len(bare), pa.timestamp("us"))]
                ),
                pa.concat_arrays([facts["label"].combine_chunks(), none]),
                pa.concat_arrays([facts["attributes"].combine_chunks(), none]),
            ],
            names=ENTITY_SCHEMA.names,
        )
        del facts
        link_kinds = pa.array(self.link_kinds, pa.string())
        spelled = pa.table(
            [
                _named(kinds, coded["src_kind"]),
                _named(text, coded["src_key"]),
                _named(link_kinds, coded["kind"]),
                _named(kinds, coded["dst_kind"]),
                _named(text, coded["dst_key"]),
                coded["first_seen"],
                coded["last_seen"],
                coded["count"].cast(pa.int64()),
                coded["amount"],
            ],
            names=LINK_SCHEMA.names,
        )
        return entities, spelled, events

    def _aggregated_links(self, parsed: list[_Parsed]) -> pa.Table:
        """Every link of the load once, aggregated one link kind at a time.

        A link's kind is part of its identity, so the kinds aggregate apart: the hash table
        of the largest kind, not of all, is what the aggregation holds at its peak, and each
        kind's rows are let go once aggregated.
        """
        by_kind: dict[int, list[pa.Table]] = {}
        for found in parsed:
            for table in found.links:
                if len(table):
                    by_kind.setdefault(table["kind"][0].as_py(), []).append(table)
            found.links = []
        done = [aggregate_links(pa.concat_tables(by_kind.pop(kind))) for kind in sorted(by_kind)]
        return pa.concat_tables(done) if done else aggregate_links(_LINK_ROW.empty_table())

    def _events(
        self, parsed: list[_Parsed], kinds: pa.Array, kind_of: np.ndarray, text: pa.Array
    ) -> pa.Table:
        found = [p.events for p in parsed if p.events is not None]
        if not found:
            return EVENT_SCHEMA.empty_table()
        rows = pa.concat_tables(found).combine_chunks()
        refs = rows["refs"].chunk(0)
        codes = refs.values
        named = pc.binary_join_element_wise(
            kinds.take(pa.array(kind_of[np.asarray(codes)])),
            text.take(codes).cast(pa.string()),
            ":",
        )
        spelled = pa.table(
            [
                rows["event_id"],
                rows["source"],
                rows["kind"],
                text.take(rows["account"]).cast(pa.string()),
                rows["time"],
                rows["amount"],
                pa.ListArray.from_arrays(refs.offsets, named),
            ],
            schema=EVENT_SCHEMA,
        )
        # Ids mostly come unique (an order table's ids): then there is no later row to keep.
        unique = pc.count_distinct(rows["event_id"]).as_py() == rows.num_rows
        return spelled if unique else latest_events(spelled)


def _named(names: pa.Array, codes: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Integer codes as the names (kinds, keys) they stand for: a dictionary array, which
    shares ``names`` rather than copying one per row."""
    indices = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
    return pa.DictionaryArray.from_arrays(indices, names)
