"""What every store engine promises a load: entity attributes, events, whole-load writes and
the store's own fingerprint key."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from graphfraud.errors import ConfigError, InputError
from graphfraud.model import EVENT_COLUMNS, EntityRef
from graphfraud.settings import Settings
from graphfraud.store import GraphStore, open_store
from graphfraud.store.base import aggregate_entities, conform_events, conform_links
from tests.contract.conftest import Reopen

A1 = EntityRef("Account", "A1")


def attributes_of(store: GraphStore, ref: EntityRef) -> dict[str, object]:
    text = store.entity(ref)["attributes"]
    return {} if pd.isna(text) else dict(json.loads(text))


def account(key: str, attributes: object = None, **columns: object) -> dict[str, object]:
    return {"kind": "Account", "key": key, "attributes": attributes, **columns}


def event(event_id: str, account: str, **columns: object) -> dict[str, object]:
    return {"event_id": event_id, "account": account, **columns}


# -- attributes ------------------------------------------------------------------------------


def test_attributes_round_trip_as_a_json_object(store: GraphStore) -> None:
    given = {"country": "ID", "kyc_level": 2, "score": 0.5, "seller": True}
    store.upsert_entities(pd.DataFrame([account("A1", given)]))
    assert attributes_of(store, A1) == given


def test_attributes_merge_per_key_and_the_newest_value_wins(store: GraphStore) -> None:
    store.upsert_entities(pd.DataFrame([account("A1", {"country": "ID", "kyc_level": 1})]))
    store.upsert_entities(pd.DataFrame([account("A1", {"kyc_level": 3, "seller": False})]))
    assert attributes_of(store, A1) == {"country": "ID", "kyc_level": 3, "seller": False}


def test_a_null_attribute_never_erases_a_stored_one(store: GraphStore) -> None:
    store.upsert_entities(pd.DataFrame([account("A1", {"country": "ID"})]))
    store.upsert_entities(pd.DataFrame([account("A1", '{"country": null, "kyc_level": 1}')]))
    store.upsert_entities(pd.DataFrame([{"kind": "Account", "key": "A1", "label": "fraud"}]))
    assert attributes_of(store, A1) == {"country": "ID", "kyc_level": 1}


def test_later_rows_of_one_frame_are_newer(store: GraphStore) -> None:
    rows = [account("A1", {"country": "MY", "os": "ios"}), account("A1", {"country": "ID"})]
    assert store.upsert_entities(pd.DataFrame(rows)) == 1
    assert attributes_of(store, A1) == {"country": "ID", "os": "ios"}


def test_entities_without_attributes_have_none(store: GraphStore) -> None:
    store.upsert_entities(pd.DataFrame([{"kind": "Device", "key": "d1"}]))
    assert pd.isna(store.entity(EntityRef("Device", "d1"))["attributes"])


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({"tags": ["a", "b"]}, "attribute 'tags' must be text, a finite number or a boolean"),
        ({"limit": float("inf")}, "attribute 'limit' must be text, a finite number"),
        ("[1, 2]", "attributes must be a JSON object"),
        ("{country: ID", "attributes are not JSON"),
    ],
)
def test_attributes_that_are_not_flat_json_objects_are_refused(
    store: GraphStore, attributes: object, problem: str
) -> None:
    with pytest.raises(InputError, match=problem):
        store.upsert_entities(pd.DataFrame([account("A1", attributes)]))


# -- events ----------------------------------------------------------------------------------


def three_events() -> pd.DataFrame:
    return pd.DataFrame(
        [
            event(
                "orders/1", "A1", source="orders", kind="order", time="2026-01-01T10:00:00Z",
                amount=12.5, refs=["PaymentInstrument:pi_1", "Account:S1"],
            ),
            event(
                "orders/2", "A2", source="orders", kind="order", time="2026-01-02T10:00:00Z",
                amount=30.0, refs=["Account:S1"],
            ),
            event("logins/9", "A1", source="logins", kind="login", time="2026-01-03T08:00:00Z",
                  refs=["Device:d1"]),
        ]
    )  # fmt: skip


def test_events_round_trip_in_time_order(store: GraphStore) -> None:
    assert store.upsert_events(three_events()) == 3
    found = store.events()
    assert list(found.columns) == list(EVENT_COLUMNS)
    assert found["event_id"].tolist() == ["orders/1", "orders/2", "logins/9"]
    first = found.iloc[0]
    assert (first["source"], first["kind"], first["account"]) == ("orders", "order", "A1")
    assert first["time"] == pd.Timestamp("2026-01-01T10:00:00")
    assert first["amount"] == 12.5
    assert first["refs"] == ["PaymentInstrument:pi_1", "Account:S1"]
    assert pd.isna(found.iloc[2]["amount"])


def test_loading_the_same_events_twice_changes_nothing(store: GraphStore) -> None:
    store.upsert_events(three_events())
    before = store.events()
    store.upsert_events(three_events())
    pd.testing.assert_frame_equal(before, store.events())


def test_an_event_written_again_is_replaced_whole(store: GraphStore) -> None:
    store.upsert_events(three_events())
    store.upsert_events(pd.DataFrame([event("orders/1", "A1", amount=99.0)]))
    again = store.events(accounts=["A1"]).set_index("event_id").loc["orders/1"]
    assert again["amount"] == 99.0
    assert again["refs"] == []
    assert pd.isna(again["time"])


def test_the_last_row_of_an_event_id_in_one_frame_counts(store: GraphStore) -> None:
    rows = pd.DataFrame([event("e1", "A1", amount=1.0), event("e1", "A1", amount=2.0)])
    assert store.upsert_events(rows) == 1
    assert store.events()["amount"].tolist() == [2.0]


def test_events_filter_by_account_ref_and_time(store: GraphStore) -> None:
    store.upsert_events(three_events())
    assert store.events(accounts=["A1"])["event_id"].tolist() == ["orders/1", "logins/9"]
    assert store.events(refs=["Account:S1"])["event_id"].tolist() == ["orders/1", "orders/2"]
    window = store.events(since="2026-01-02", until="2026-01-03T08:00:00Z")
    assert window["event_id"].tolist() == ["orders/2"]
    both = store.events(accounts=["A1"], refs=["Device:d1", "Account:S1"])
    assert both["event_id"].tolist() == ["orders/1", "logins/9"]
    assert store.events(accounts=["nobody"]).empty


def test_events_stay_out_of_the_entity_graph(store: GraphStore) -> None:
    store.upsert_events(three_events())
    stats = store.stats()
    assert (stats.entity_total, stats.link_total) == (0, 0)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (event("e1", "A1", refs=["not a ref"]), "event ref 'not a ref' is not of the form"),
        (event("e1", "A1", amount=float("inf")), "finite amounts"),
        (event("", "A1"), "empty event_id"),
        (event("e1", ""), "empty account"),
    ],
)
def test_malformed_events_are_refused(
    store: GraphStore, row: dict[str, object], problem: str
) -> None:
    with pytest.raises(InputError, match=problem):
        store.upsert_events(pd.DataFrame([row]))


# -- whole loads -----------------------------------------------------------------------------


def a_load() -> tuple[pa.Table, pa.Table, pa.Table]:
    links = conform_links(
        pd.DataFrame(
            [
                {"src_kind": "Account", "src_key": "A1", "kind": "USES_DEVICE",
                 "dst_kind": "Device", "dst_key": "d1", "first_seen": "2026-01-01",
                 "last_seen": "2026-01-02", "count": 2, "amount": None},
            ]
        )
    )  # fmt: skip
    entities = aggregate_entities(
        pa.table(
            {
                "kind": ["Account", "Device"],
                "key": ["A1", "d1"],
                "display": pa.array([None, None], pa.string()),
                "created_at": pa.array([None, None], pa.timestamp("us")),
                "label": ["fraud", None],
                "attributes": ['{"country":"ID"}', '{"os":"android"}'],
            }
        )
    )
    return entities, links, conform_events(three_events())


def test_a_whole_load_into_an_empty_store(store: GraphStore) -> None:
    store.write_graph(*a_load())
    stats = store.stats()
    assert (stats.entities, stats.links) == ({"Account": 1, "Device": 1}, {"USES_DEVICE": 1})
    assert attributes_of(store, A1) == {"country": "ID"}
    assert store.entity(A1)["label"] == "fraud"
    assert len(store.events()) == 3


def test_a_whole_load_merges_into_a_store_with_data(store: GraphStore) -> None:
    store.upsert_entities(pd.DataFrame([account("A1", {"kyc_level": 2})]))
    store.upsert_events(pd.DataFrame([event("orders/1", "A1", amount=1.0)]))
    store.write_graph(*a_load())
    store.write_graph(*a_load())
    assert attributes_of(store, A1) == {"country": "ID", "kyc_level": 2}
    assert store.links()["count"].tolist() == [2]
    assert store.events(accounts=["A1"]).set_index("event_id").loc["orders/1", "amount"] == 12.5


def test_a_whole_load_takes_kinds_as_dictionaries_and_keys_as_large_strings(
    store: GraphStore,
) -> None:
    entities, links, events = a_load()

    def compact(table: pa.Table) -> pa.Table:
        columns = [
            pc.dictionary_encode(table[name]) if name.endswith("kind") else
            table[name].cast(pa.large_string()) if name.endswith("key") else table[name]
            for name in table.column_names
        ]  # fmt: skip
        return pa.table(columns, names=table.column_names)

    store.write_graph(compact(entities), compact(links), events)
    assert store.links()[["src_kind", "kind", "dst_key"]].values.tolist() == [
        ["Account", "USES_DEVICE", "d1"]
    ]
    assert attributes_of(store, A1) == {"country": "ID"}


def test_a_whole_load_needs_aggregated_tables(store: GraphStore) -> None:
    entities, links, events = a_load()
    with pytest.raises(InputError, match="links do not have the layout"):
        store.write_graph(entities, links.drop_columns(["amount"]), events)


# -- fingerprint key -------------------------------------------------------------------------


def test_a_new_store_makes_a_random_key_and_keeps_it(store: GraphStore, reopen: Reopen) -> None:
    key = store.fingerprint_key()
    assert reopen().fingerprint_key() == key
    assert len(key) == 64
    assert int(key, 16) > 0


def test_two_stores_make_different_keys(store: GraphStore, tmp_path: Path) -> None:
    with open_store(f"duckdb:///{tmp_path / 'other.duckdb'}") as other:
        assert other.fingerprint_key() != store.fingerprint_key()


def test_a_store_takes_the_key_of_another(
    store: GraphStore, reopen: Reopen, tmp_path: Path
) -> None:
    with open_store(f"duckdb:///{tmp_path / 'other.duckdb'}") as other:
        shared = other.fingerprint_key()
    store.set_fingerprint_key(shared)
    assert reopen().fingerprint_key() == shared


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("graphfraud-development-key", "the shared development key is public"),
        ("too-short", "at least 32 characters"),
        (" " + "a" * 40, "without surrounding whitespace"),
    ],
)
def test_weak_keys_are_refused(store: GraphStore, key: str, problem: str) -> None:
    before = store.fingerprint_key()
    with pytest.raises(ConfigError, match=problem):
        store.set_fingerprint_key(key)
    assert store.fingerprint_key() == before


def test_the_key_cannot_change_under_stored_fingerprints(store: GraphStore) -> None:
    store.upsert_entities(pd.DataFrame([{"kind": "PaymentInstrument", "key": "pi_1"}]))
    with pytest.raises(ConfigError, match="already holds 1 payment instruments"):
        store.set_fingerprint_key("b" * 64)
    store.set_fingerprint_key(store.fingerprint_key())


# -- appends: a few rows of some tables, as a running service receives them ------------------


def _orders(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    columns = ["order_id", "buyer_id", "seller_id", "card_number"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(creator_id="", ts="2026-01-16T14:48:23Z", amount="74.75",
                        ship_address="", ship_country="US")  # fmt: skip


def test_appended_rows_are_loaded_as_a_load_loads_them(store: GraphStore) -> None:
    from loaders.append import append_rows
    from loaders.mapping import builtin_mapping

    orders = _orders(("O1", " A1 ", "A2", "4111 1111 1111 1111"), ("O2", "A3", "A2", "12"))
    done = append_rows(store, builtin_mapping(), {"orders": orders}, settings=Settings())

    assert (done.report.loaded, done.report.with_rejected_fields) == (2, 1)
    assert done.rejects[["table", "row", "column", "dropped"]].values.tolist() == [
        ["orders", "2", "card_number", "field"]
    ]
    assert done.accounts == ["A1", "A2", "A3"]
    assert [e["event_id"] for e in store.events().to_dict("records")] == ["orders/O1", "orders/O2"]
    cards = store.entities(kind="PaymentInstrument")
    assert len(cards) == 1
    assert "4111 1111 1111 1111" not in cards["key"].tolist()


def test_appended_rows_that_all_fail_write_nothing(store: GraphStore) -> None:
    from loaders.append import RowsRejected, append_rows
    from loaders.mapping import builtin_mapping

    with pytest.raises(RowsRejected) as caught:
        append_rows(
            store, builtin_mapping(), {"orders": _orders(("O1", "", "A2", ""))},
            settings=Settings(),
        )  # fmt: skip

    assert caught.value.rejects[["row", "column", "dropped"]].values.tolist() == [
        ["1", "buyer_id", "row"]
    ]
    assert store.stats().entity_total == 0
