"""The files ``neo4j-admin database import full`` reads to build a new database from one load.

The graph they describe is the one the Neo4j engine writes with its upserts
(:mod:`graphfraud.store.cypher`): one node per entity, labelled with its kind, its ``key``
unique within the kind (an ID space per kind), ``display``, ``label``, ``created_at`` and one
``attr.<name>`` property per attribute; one relationship per link, typed with its kind, with
``first_seen``, ``last_seen``, ``count`` and ``amount``; one ``:Event`` node per event; one
``:GraphfraudMeta`` node per stored setting (the fingerprint key). Missing values are left out,
as the upserts leave them unset. Constraints and indexes are not in the files: the engine
creates them on the imported data, as on any database it opens.

CSV rather than Parquet: the importer's CSV header types (``:datetime``, ``:long``,
``:string[]``...) are documented and say exactly what each property becomes. Text is quoted
and missing values are not, which is how the importer tells an empty string from no value.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from graphfraud.errors import InputError
from graphfraud.store import cypher
from graphfraud.store.neo4j import groups

#: Between the refs of an event in one CSV field: a control character no ref is expected to
#: hold (the default ``;`` could be part of a key).
ARRAY_DELIMITER = "\x1f"
#: Property names that go into a CSV header as they are (``:`` and ``,`` have meanings there).
_HEADER_NAME = re.compile(r"^[^:,\"\s]+$")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # Arrow writes the microseconds of ``%S``
#: Importer type of each Python type an attribute may hold (bool before int: a bool is an int).
_ATTRIBUTE_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"), (int, "long"), (float, "double"), (str, "string"),
)  # fmt: skip


def write_import_files(
    folder: Path,
    entities: pa.Table,
    links: pa.Table,
    events: pa.Table,
    meta: dict[str, str],
) -> list[str]:
    """Write one load as import files into ``folder``; return the importer's arguments.

    Parameters
    ----------
    folder
        An existing, empty folder.
    entities, links, events
        A whole load as :meth:`GraphStore.write_graph` takes it: one row per key, every
        endpoint of a link among the entities.
    meta
        The database's settings by name (its fingerprint key).

    Returns
    -------
    list[str]
        ``--nodes=Label=file`` and ``--relationships=TYPE=file`` arguments, and the options
        the files need (array delimiter, multi-line fields).

    Raises
    ------
    InputError
        A label, type or attribute name the importer's header cannot carry.
    """
    arguments: list[str] = []
    multiline = False
    written = 0

    def write(table: pa.Table, header: list[str]) -> Path:
        nonlocal multiline, written
        written += 1
        path = folder / f"part-{written:04d}.csv"
        multiline = multiline or _has_line_breaks(table)
        with path.open("wb") as sink:
            sink.write((",".join(header) + "\n").encode())
            pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
        return path

    for (kind,), group in groups(entities, ["kind"]):
        label = _name(kind, "entity kind")
        for attributes, rows in _by_attributes(group):
            table, header = _entity_columns(label, rows, attributes)
            arguments.append(f"--nodes={label}={write(table, header)}")
    for (src, kind, dst), group in groups(links, ["src_kind", "kind", "dst_kind"]):
        table, header = _link_columns(group, _name(src, "entity kind"), _name(dst, "entity kind"))
        arguments.append(f"--relationships={_name(kind, 'link kind')}={write(table, header)}")
    if events.num_rows:
        table, header = _event_columns(events)
        arguments.append(f"--nodes={cypher.EVENT}={write(table, header)}")
    if meta:
        table = pa.table({"name": list(meta), "value": list(meta.values())})
        arguments.append(f"--nodes={cypher.META}={write(table, ['name', 'value'])}")
    arguments.append(f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}")
    # Slower parsing, so only when some text holds a line break.
    arguments.append(f"--multiline-fields={str(multiline).lower()}")
    # Data written by this module is fault-free by construction: any bad entry is a bug, and
    # the import must stop rather than leave it out.
    arguments += ["--bad-tolerance=0", "--skip-bad-relationships=false", "--strict=true"]
    return arguments


def _entity_columns(
    label: str, rows: pa.Table, attributes: list[tuple[str, str]]
) -> tuple[pa.Table, list[str]]:
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "key": rows["key"],
        "display": rows["display"],
        "label": rows["label"],
        "created_at": _times(rows["created_at"]),
    }
    header = [f"key:ID({label})", "display", "label", "created_at:datetime"]
    if attributes:
        parsed = [json.loads(text) if text else {} for text in rows["attributes"].to_pylist()]
        for name, kind in attributes:
            columns[name] = pa.array([found.get(name) for found in parsed])
            header.append(f"{cypher.ATTRIBUTE_PREFIX}{name}:{kind}")
    return pa.table(columns), header


def _link_columns(rows: pa.Table, src: str, dst: str) -> tuple[pa.Table, list[str]]:
    table = pa.table(
        {
            "src": rows["src_key"],
            "dst": rows["dst_key"],
            "first_seen": _times(rows["first_seen"]),
            "last_seen": _times(rows["last_seen"]),
            "count": rows["count"],
            "amount": rows["amount"],
        }
    )
    header = [
        f":START_ID({src})", f":END_ID({dst})", "first_seen:datetime", "last_seen:datetime",
        "count:long", "amount:double",
    ]  # fmt: skip
    return table, header


def _event_columns(events: pa.Table) -> tuple[pa.Table, list[str]]:
    refs = events["refs"]
    values = pc.list_flatten(refs)
    if pc.any(pc.match_substring(values, ARRAY_DELIMITER)).as_py():
        raise InputError("an event ref holds the control character U+001F", column="refs")
    # An event without refs has no refs property, which reads back as an empty list.
    joined = pc.if_else(
        pc.greater(pc.list_value_length(refs), 0),
        pc.binary_join(refs, ARRAY_DELIMITER),
        pa.scalar(None, pa.string()),
    )
    table = pa.table(
        {
            "event_id": events["event_id"],
            "source": events["source"],
            "kind": events["kind"],
            "account": events["account"],
            "time": _times(events["time"]),
            "amount": events["amount"],
            "refs": joined,
        }
    )
    header = [
        f"event_id:ID({cypher.EVENT})", "source", "kind", "account", "time:datetime",
        "amount:double", "refs:string[]",
    ]  # fmt: skip
    return table, header


def _by_attributes(rows: pa.Table) -> list[tuple[list[tuple[str, str]], pa.Table]]:
    """The rows of one kind split by which attributes they hold and of which type: a CSV
    column has one type, while an attribute may be a number in one entity, text in another."""
    texts = rows["attributes"]
    if texts.null_count == len(texts):
        return [([], rows)]
    shapes: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for index, text in enumerate(texts.to_pylist()):
        found: dict[str, Any] = json.loads(text) if text else {}
        shape = tuple(sorted((_name(name, "attribute"), _type(v)) for name, v in found.items()))
        shapes.setdefault(shape, []).append(index)
    return [(list(shape), rows.take(pa.array(at))) for shape, at in shapes.items()]


def _type(value: Any) -> str:
    for python, name in _ATTRIBUTE_TYPES:
        if isinstance(value, python):
            return name
    raise InputError(f"attribute value {value!r} is not text, a number or a boolean")


def _name(name: str, what: str) -> str:
    if not _HEADER_NAME.match(name):
        raise InputError(
            f"{what} {name!r} cannot go through neo4j-admin import (no ':', ',', quotes or "
            "spaces); load without bulk import"
        )
    return name


def _times(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """UTC timestamps as the ISO-8601 text the importer's ``datetime`` type reads."""
    return pc.strftime(column, format=_TIME_FORMAT)


def _has_line_breaks(table: pa.Table) -> bool:
    for column in table.columns:
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if text and pc.any(pc.match_substring_regex(column, "[\r\n]")).as_py():
            return True
    return False
