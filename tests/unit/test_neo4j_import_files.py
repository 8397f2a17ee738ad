"""The files written for neo4j-admin import: typed headers, one file per attribute shape."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from graphfraud.errors import InputError
from graphfraud.store.base import (
    ENTITY_SCHEMA,
    EVENT_SCHEMA,
    LINK_SCHEMA,
    aggregate_entities,
    conform_events,
)
from graphfraud.store.neo4j_import import write_import_files


def entities(kinds: list[str], keys: list[str], attributes: list[str | None]) -> pa.Table:
    return aggregate_entities(
        pa.table(
            {
                "kind": kinds,
                "key": keys,
                "display": pa.nulls(len(keys), pa.string()),
                "created_at": pa.nulls(len(keys), pa.timestamp("us")),
                "label": pa.nulls(len(keys), pa.string()),
                "attributes": pa.array(attributes, pa.string()),
            }
        )
    )


def files(folder: Path, arguments: list[str], option: str) -> dict[str, list[str]]:
    """The lines of each file an option (``--nodes``, ``--relationships``) names, by label."""
    found: dict[str, list[str]] = {}
    for argument in arguments:
        if argument.startswith(option + "="):
            label, path = argument.removeprefix(option + "=").split("=")
            assert Path(path).parent == folder
            found.setdefault(label, []).extend(Path(path).read_text().splitlines())
    return found


def test_an_attribute_of_two_types_goes_into_two_typed_files(tmp_path: Path) -> None:
    given = entities(["Account", "Account"], ["A1", "A2"], ['{"kyc":2}', '{"kyc":"high"}'])
    arguments = write_import_files(
        tmp_path, given, LINK_SCHEMA.empty_table(), EVENT_SCHEMA.empty_table(), {}
    )
    lines = files(tmp_path, arguments, "--nodes")["Account"]
    headers = sorted(line for line in lines if line.startswith("key:ID(Account)"))
    assert headers == [
        "key:ID(Account),display,label,created_at:datetime,attr.kyc:long",
        "key:ID(Account),display,label,created_at:datetime,attr.kyc:string",
    ]


def test_events_carry_refs_as_string_arrays_and_no_refs_as_nothing(tmp_path: Path) -> None:
    events = conform_events(
        pd.DataFrame(
            {"event_id": ["e1", "e2"], "account": ["A1", "A1"],
             "refs": [["Device:d;1", "Account:A2"], []]}
        )
    )  # fmt: skip
    arguments = write_import_files(
        tmp_path, ENTITY_SCHEMA.empty_table(), LINK_SCHEMA.empty_table(), events, {"k": "v"}
    )
    lines = files(tmp_path, arguments, "--nodes")
    assert lines["Event"][0].endswith("refs:string[]")
    assert lines["Event"][1].endswith('"Device:d;1\x1fAccount:A2"')
    assert lines["Event"][2].endswith(",")  # no refs: no property, read back as []
    assert lines["GraphfraudMeta"] == ["name,value", '"k","v"']
    assert "--array-delimiter=U+001F" in arguments


def test_text_with_line_breaks_turns_on_multiline_fields(tmp_path: Path) -> None:
    given = entities(["Account"], ["A\n1"], [None])
    empty = (LINK_SCHEMA.empty_table(), EVENT_SCHEMA.empty_table())
    assert "--multiline-fields=true" in write_import_files(tmp_path, given, *empty, {})
    plain = tmp_path / "plain"
    plain.mkdir()
    given = entities(["Account"], ["A1"], [None])
    assert "--multiline-fields=false" in write_import_files(plain, given, *empty, {})


def test_an_attribute_name_a_header_cannot_carry_is_refused(tmp_path: Path) -> None:
    given = entities(["Account"], ["A1"], ['{"a:b":1}'])
    with pytest.raises(InputError, match="'a:b' cannot go through neo4j-admin import"):
        write_import_files(
            tmp_path, given, LINK_SCHEMA.empty_table(), EVENT_SCHEMA.empty_table(), {}
        )
