"""What a mapping can say about a user's tables, loaded through ``load_tables``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graphfraud.errors import ConfigError, InputError
from graphfraud.model import EntityRef
from graphfraud.store import GraphStore, open_store
from loaders.fields import TIME_PROBLEM
from loaders.load import LoadReport, load_tables
from loaders.mapping import MappingSpec

CARD = "4111 1111 1111 1111"


@pytest.fixture
def store() -> GraphStore:
    return open_store("duckdb:///:memory:")


def load(
    store: GraphStore, tmp_path: Path, sources: list[dict[str, Any]], **tables: pd.DataFrame
) -> LoadReport:
    spec = MappingSpec.from_dict({"sources": sources})
    return load_tables(store, spec, tables, rejects_path=tmp_path / "rejects.csv")


def frame(header: str, *rows: str) -> pd.DataFrame:
    return pd.DataFrame([row.split(",") for row in rows], columns=header.split(","))


def rejects(tmp_path: Path) -> list[list[str]]:
    found = pd.read_csv(tmp_path / "rejects.csv", dtype=str, keep_default_na=False)
    return found[["table", "row", "column", "dropped", "reason"]].values.tolist()


def attributes(store: GraphStore, kind: str, key: str) -> dict[str, Any]:
    text = store.entity(EntityRef(kind, key))["attributes"]
    return {} if pd.isna(text) else dict(json.loads(text))


# -- templates -------------------------------------------------------------------------------


def test_a_template_builds_an_identifier_from_columns(store: GraphStore, tmp_path: Path) -> None:
    logins = frame("user,vendor,device", "A1,acme,7", "A2,acme,7", "A3,,7", "A4,acme,8")
    load(
        store, tmp_path,
        [{"table": "logins", "account": "user",
          "identifiers": [{"template": "dev-{vendor}/{device}", "kind": "Device"}]}],
        logins=logins,
    )  # fmt: skip
    used = store.links(kinds=["USES_DEVICE"]).set_index("src_key")["dst_key"]
    assert used.to_dict() == {"A1": "dev-acme/7", "A2": "dev-acme/7", "A4": "dev-acme/8"}
    assert store.stats().entities["Account"] == 4


# -- attributes ------------------------------------------------------------------------------

ACCOUNT_ATTRIBUTES = [
    {"column": "country"},
    {"column": "kyc", "type": "integer", "name": "kyc_level"},
    {"column": "limit", "type": "number"},
    {"column": "seller", "type": "boolean"},
    {"column": "chargeback", "type": "timestamp"},
]


def test_account_attributes_are_read_as_their_types(store: GraphStore, tmp_path: Path) -> None:
    users = frame(
        "id,country,kyc,limit,seller,chargeback",
        "A1,ID,2,1500.5,yes,2026-02-10T08:00:00+07:00",
        "A2,MY,,,,",
    )
    load(store, tmp_path, [{"table": "users", "account": "id", "attributes": ACCOUNT_ATTRIBUTES}],
         users=users)  # fmt: skip
    assert attributes(store, "Account", "A1") == {
        "country": "ID", "kyc_level": 2, "limit": 1500.5, "seller": True,
        "chargeback": "2026-02-10T01:00:00Z",
    }  # fmt: skip
    assert attributes(store, "Account", "A2") == {"country": "MY"}


def test_an_attribute_that_does_not_read_as_its_type_is_a_rejected_field(
    store: GraphStore, tmp_path: Path
) -> None:
    users = frame(
        "id,country,kyc,limit,seller,chargeback",
        "A1,ID,two,lots,maybe,last week",
        "A2,ID,1,2,no,2026-01-01",
        "A3,ID,1,2,no,2026-01-01",
        "A4,ID,1,2,no,2026-01-01",
        "A5,ID,1,2,no,2026-01-01",
    )
    report = load(
        store, tmp_path, [{"table": "users", "account": "id", "attributes": ACCOUNT_ATTRIBUTES}],
        users=users,
    )  # fmt: skip
    assert [row[1:] for row in rejects(tmp_path)] == [
        ["1", "chargeback", "field", TIME_PROBLEM],
        ["1", "kyc", "field", "not an integer"],
        ["1", "limit", "field", "not a number"],
        ["1", "seller", "field", "not a boolean (true/false, yes/no, 1/0)"],
    ]
    assert attributes(store, "Account", "A1") == {"country": "ID"}
    assert report.rows_with_rejected_fields == {"users": 1}


def test_the_newest_row_of_an_account_decides_each_attribute(
    store: GraphStore, tmp_path: Path
) -> None:
    profile = frame(
        "id,at,country,kyc",
        "A1,2026-03-01T00:00:00Z,SG,",
        "A1,2026-01-01T00:00:00Z,ID,1",
        "A1,2026-02-01T00:00:00Z,MY,2",
    )
    load(
        store, tmp_path,
        [{"table": "profile", "account": "id", "timestamp": "at",
          "attributes": [{"column": "country"}, {"column": "kyc", "type": "integer"}]}],
        profile=profile,
    )  # fmt: skip
    assert attributes(store, "Account", "A1") == {"country": "SG", "kyc": 2}


def test_an_entity_table_describes_entities_without_an_account(
    store: GraphStore, tmp_path: Path
) -> None:
    devices = frame("device,os,model", "7,android,A14", ",ios,iPhone", "8,ios,iPhone 13")
    logins = frame("user,device", "A1,7", "A2,7")
    report = load(
        store, tmp_path,
        [
            {"table": "logins", "account": "user",
             "identifiers": [{"template": "dev-{device}", "kind": "Device"}]},
            {"table": "devices", "entity": {"template": "dev-{device}", "kind": "Device"},
             "attributes": [{"column": "os"}, {"column": "model"}]},
        ],
        logins=logins, devices=devices,
    )  # fmt: skip
    assert attributes(store, "Device", "dev-7") == {"os": "android", "model": "A14"}
    assert attributes(store, "Device", "dev-8") == {"os": "ios", "model": "iPhone 13"}
    assert rejects(tmp_path) == [["devices", "2", "dev-{device}", "row", "missing Device key"]]
    assert report.rows_rejected == {"logins": 0, "devices": 1}
    assert store.stats().entities == {"Account": 2, "Device": 2}


# -- regions ---------------------------------------------------------------------------------


def test_phones_are_read_in_the_region_of_their_row(store: GraphStore, tmp_path: Path) -> None:
    users = frame(
        "id,country,phone",
        "A1,ID,0812-3456-7890",
        "A2,Malaysia,012-345 6789",
        "A3,,0812-3456-7890",
        "A4,SG,+62 812 3456 7890",
    )
    load(
        store, tmp_path,
        [{"table": "users", "account": "id", "region": "ID", "region_column": "country",
          "identifiers": [{"column": "phone", "kind": "Phone"}]}],
        users=users,
    )  # fmt: skip
    phones = store.links(kinds=["HAS_PHONE"]).set_index("src_key")["dst_key"]
    assert phones.to_dict() == {
        "A1": "+6281234567890", "A2": "+60123456789", "A3": "+6281234567890",
        "A4": "+6281234567890",
    }  # fmt: skip


def test_a_sources_region_overrides_the_mappings(store: GraphStore, tmp_path: Path) -> None:
    spec = MappingSpec.from_dict(
        {
            "region": "US",
            "sources": [
                {"table": "th", "account": "id", "region": "Thailand",
                 "identifiers": [{"column": "phone", "kind": "Phone"}]},
                {"table": "us", "account": "id",
                 "identifiers": [{"column": "phone", "kind": "Phone"}]},
            ],
        }
    )  # fmt: skip
    tables = {
        "th": frame("id,phone", "T1,081 234 5678"),
        "us": frame("id,phone", "U1,415 555 0123"),
    }
    load_tables(store, spec, tables, rejects_path=tmp_path / "rejects.csv")
    phones = store.links(kinds=["HAS_PHONE"]).set_index("src_key")["dst_key"]
    assert phones.to_dict() == {"T1": "+66812345678", "U1": "+14155550123"}


def test_an_unknown_region_in_a_mapping_names_its_field(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\.0\.region: unknown region 'Atlantis'"):
        load(
            store, tmp_path,
            [{"table": "t", "account": "id", "region": "Atlantis"}],
            t=frame("id", "A1"),
        )  # fmt: skip
    assert store.stats().entity_total == 0


# -- payment instruments ---------------------------------------------------------------------


def test_tokens_are_fingerprinted_and_cards_keep_the_luhn_check(
    store: GraphStore, tmp_path: Path
) -> None:
    wallets = frame(
        "id,token,card", f"A1,tok_1NXWPD2e,{CARD}", "A2,tok_1NXWPD2e,4111", "A3,100293,"
    )
    load(
        store, tmp_path,
        [{"table": "wallets", "account": "id", "identifiers": [
            {"column": "token", "kind": "PaymentInstrument", "format": "token"},
            {"column": "card", "kind": "PaymentInstrument"},
        ]}],
        wallets=wallets,
    )  # fmt: skip
    pays = store.links(kinds=["PAYS_WITH"])
    assert pays.groupby("dst_key")["src_key"].agg(sorted).map(tuple).value_counts().to_dict() == {
        ("A1", "A2"): 1, ("A1",): 1, ("A3",): 1,
    }  # fmt: skip
    assert rejects(tmp_path) == [
        ["wallets", "2", "card", "field", "not a card number: needs 12 to 19 digits"]
    ]


def test_a_token_column_read_as_card_numbers_stops_the_load(
    store: GraphStore, tmp_path: Path
) -> None:
    cards = frame("id,card", *[f"A{n},crd_{n:04d}x" for n in range(10)])
    with pytest.raises(InputError, match=r"cards: 10 of 10 rows \(100%\)"):
        load(store, tmp_path,
             [{"table": "cards", "account": "id",
               "identifiers": [{"column": "card", "kind": "PaymentInstrument"}]}],
             cards=cards)  # fmt: skip
    assert store.stats().entity_total == 0


def test_no_raw_card_number_in_the_store_file_or_the_rejects(tmp_path: Path) -> None:
    orders = frame(
        "buyer,ts,card",
        f"canary-buyer,2026-01-01T00:00:00Z,{CARD}",
        f"B2,not a time,{CARD.replace(' ', '-')}",
        "B3,2026-01-01T00:00:00Z,5500 0000 0000 0004",
    )
    path = tmp_path / "graph.duckdb"
    with open_store(f"duckdb:///{path}") as store:
        load(store, tmp_path,
             [{"table": "orders", "account": "buyer", "timestamp": "ts",
               "identifiers": [{"column": "card", "kind": "PaymentInstrument"}]}],
             orders=orders)  # fmt: skip
    stored = b"".join(found.read_bytes() for found in tmp_path.glob("graph.duckdb*"))
    assert b"canary-buyer" in stored  # what is stored can be found by this search
    shown = (tmp_path / "rejects.csv").read_bytes()
    for number in (CARD, CARD.replace(" ", "-"), CARD.replace(" ", ""), "5500000000000004"):
        assert number.encode() not in stored
        assert number.encode() not in shown
    assert "••1111".encode() in shown


# -- events ----------------------------------------------------------------------------------


def test_each_row_of_an_event_table_is_kept_with_its_id(store: GraphStore, tmp_path: Path) -> None:
    orders = frame(
        "order,buyer,seller,ts,amount,device",
        "O1,A1,S1,2026-01-01T10:00:00Z,12.5,d1",
        "O2,A2,S1,2026-01-02T10:00:00Z,30,",
    )
    sources = [
        {"table": "orders", "account": "buyer", "timestamp": "ts", "amount": "amount",
         "identifiers": [{"column": "device", "kind": "Device"}],
         "accounts": [{"column": "seller", "link": "TRANSACTS_WITH"}],
         "event": {"kind": "order", "id": "order"}},
    ]  # fmt: skip
    report = load(store, tmp_path, sources, orders=orders)
    found = store.events().set_index("event_id")
    assert report.events == 2
    assert found.loc["orders/O1", "refs"] == ["Device:d1", "Account:S1"]
    assert (found.loc["orders/O2", "kind"], found.loc["orders/O2", "amount"]) == ("order", 30.0)
    assert found.loc["orders/O2", "refs"] == ["Account:S1"]


def test_an_event_id_given_twice_in_one_load_keeps_its_last_row(
    store: GraphStore, tmp_path: Path
) -> None:
    orders = frame(
        "order,buyer,ts,amount",
        "O1,A1,2026-01-01T10:00:00Z,12.5",
        "O2,A2,2026-01-02T10:00:00Z,30",
        "O1,A1,2026-01-03T10:00:00Z,14",
    )
    sources = [
        {"table": "orders", "account": "buyer", "timestamp": "ts", "amount": "amount",
         "event": {"kind": "order", "id": "order"}},
    ]  # fmt: skip
    report = load(store, tmp_path, sources, orders=orders)
    found = store.events().set_index("event_id")
    assert report.events == 2
    assert found.loc["orders/O1", "amount"] == 14.0


def test_events_without_an_id_are_the_same_events_when_loaded_again(
    store: GraphStore, tmp_path: Path
) -> None:
    logins = frame(
        "user,ts,ip", "A1,2026-01-01T10:00:00Z,1.2.3.4", "A1,2026-01-02T10:00:00Z,1.2.3.4"
    )
    sources = [
        {"table": "logins", "account": "user", "timestamp": "ts",
         "identifiers": [{"column": "ip", "kind": "IP"}], "event": {"kind": "login"}},
    ]  # fmt: skip
    load(store, tmp_path, sources, logins=logins)
    first = store.events()
    load(store, tmp_path, sources, logins=logins)
    pd.testing.assert_frame_equal(first, store.events())
    assert first["event_id"].str.fullmatch("logins/#[0-9a-f]{20}").all()
    assert first["event_id"].nunique() == 2


# -- vocabularies ----------------------------------------------------------------------------


def test_vocabulary_files_of_a_mapping_extend_the_normalisers(
    store: GraphStore, tmp_path: Path
) -> None:
    (tmp_path / "words.yaml").write_text("address:\n  words:\n    lorong: lrg\n")
    (tmp_path / "mapping.yaml").write_text(
        "vocabularies: [words.yaml]\n"
        "sources:\n  - {table: addresses, account: id, "
        "identifiers: [{column: address, kind: Address}]}\n"
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "addresses.csv").write_text("id,address\nA1,Lorong 5 Geylang\nA2,Lrg 5 Geylang\n")
    spec = MappingSpec.from_file(tmp_path / "mapping.yaml")
    load_tables(store, spec, data)
    shipped = store.links(kinds=["SHIPS_TO"])["dst_key"]
    assert shipped.nunique() == 1


# -- near duplicates -------------------------------------------------------------------------

TYPO = [
    "A1,Jl. Sudirman No. 12 Karet Jakarta Selatan 12190",
    "A2,Jalan Sudirman 12 Karet Jakarta Selatan 12190",
    "A3,Jl. Sudirmn 12 Karet Jakarta Selatan 12190",
    "A4,Jl. Sudirman 21 Karet Jakarta Selatan 12190",
]


def test_near_duplicates_become_one_entity_when_the_mapping_asks(
    store: GraphStore, tmp_path: Path
) -> None:
    spec = MappingSpec.from_dict(
        {
            "region": "ID",
            "near_duplicates": [{"kind": "Address"}],
            "sources": [{"table": "addresses", "account": "id",
                         "identifiers": [{"column": "address", "kind": "Address"}]}],
        }
    )  # fmt: skip
    report = load_tables(
        store, spec, {"addresses": frame("id,address", *TYPO)},
        rejects_path=tmp_path / "rejects.csv", merges_path=tmp_path / "merges.csv",
    )  # fmt: skip
    shipped = store.links(kinds=["SHIPS_TO"]).set_index("src_key")["dst_key"]
    assert shipped["A1"] == shipped["A2"] == shipped["A3"] != shipped["A4"]
    assert store.stats().entities["Address"] == 2
    merges = pd.read_csv(tmp_path / "merges.csv", keep_default_na=False)
    assert report.near_duplicates == len(merges) == 1
    assert merges.loc[0, "key"] == "jl sudirmn 12 karet jakarta selatan 12190"
    assert merges.loc[0, "canonical"] == shipped["A1"]
    assert merges.loc[0, "spellings"] == "Jl. Sudirmn 12 Karet Jakarta Selatan 12190"


def test_without_the_switch_a_typo_is_an_entity_of_its_own(
    store: GraphStore, tmp_path: Path
) -> None:
    load(
        store, tmp_path,
        [{"table": "addresses", "account": "id", "region": "ID",
          "identifiers": [{"column": "address", "kind": "Address"}]}],
        addresses=frame("id,address", *TYPO),
    )  # fmt: skip
    assert store.stats().entities["Address"] == 3


def test_near_duplicates_of_a_kind_without_a_rule_name_the_field(
    store: GraphStore, tmp_path: Path
) -> None:
    spec = MappingSpec.from_dict(
        {"near_duplicates": [{"kind": "Device"}],
         "sources": [{"table": "t", "account": "id"}]}
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"near_duplicates\.0\.kind: 'Device' has no"):
        load_tables(store, spec, {"t": frame("id", "A1")})


# -- mapping errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ({"table": "t", "account": "a",
          "identifiers": [{"template": "dev-{id:>8}", "kind": "Device"}]},
         r"sources\.0\.identifiers\.0: template 'dev-\{id:>8\}': placeholders are column names"),
        ({"table": "t", "account": "a",
          "identifiers": [{"column": "c", "kind": "Device", "format": "token"}]},
         r"sources\.0\.identifiers\.0: 'c': format applies to PaymentInstrument"),
        ({"table": "t", "account": "a",
          "identifiers": [{"column": "c", "template": "x{c}", "kind": "Device"}]},
         r"sources\.0\.identifiers\.0: give either column or template"),
        ({"table": "t", "entity": {"column": "d", "kind": "Device"},
          "accounts": [{"column": "b", "link": "REFERRED"}]},
         r"sources\.0: an entity table holds attributes only; accounts need an account"),
        ({"table": "t", "account": "a", "attributes": [{"column": "c", "type": "date"}]},
         r"sources\.0\.attributes\.0\.type: Input should be 'text', 'integer'"),
        ({"table": "t", "account": "a",
          "attributes": [{"column": "c"}, {"column": "d", "name": "c"}]},
         r"sources\.0: attribute 'c' is named twice"),
        ({"table": "t", "account": "a", "event": {"id": "x"}},
         r"sources\.0\.event\.kind: Field required"),
    ],
)  # fmt: skip
def test_mapping_errors_name_the_field(source: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        MappingSpec.from_dict({"sources": [source]})
