"""Loading tables through a mapping spec: what a user with their own export sees."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from graphfraud.errors import ConfigError, InputError
from graphfraud.settings import Settings
from graphfraud.store import GraphStore, open_store
from loaders.load import load_tables
from loaders.mapping import MappingSpec

CARD = "4111 1111 1111 1111"
SPEC = MappingSpec.from_dict(
    {
        "name": "shop",
        "sources": [
            {
                "table": "accounts",
                "account": "id",
                "created_at": "created",
                "timestamp": "created",
                "label": "bad",
                "identifiers": [{"column": "email", "kind": "Email"}],
            },
            {
                "table": "orders",
                "account": "buyer",
                "timestamp": "ts",
                "amount": "amount",
                "identifiers": [
                    {"column": "card", "kind": "PaymentInstrument"},
                    {"column": "device", "kind": "Device"},
                ],
                "accounts": [{"column": "seller", "link": "TRANSACTS_WITH"}],
            },
        ],
    }
)
ACCOUNTS = [
    ["id", "created", "bad", "email"],
    ["A1", "2026-01-01T10:00:00Z", "", "J.Smith+promo@Gmail.com"],
    ["A2", "2026-01-02T10:00:00Z", "1", "jsmith@gmail.com"],
    ["A3", "2026-01-03T10:00:00Z", "", "a3@example.org"],
]
ORDERS = [
    ["buyer", "ts", "amount", "card", "device", "seller"],
    ["A1", "2026-02-01T10:00:00Z", "10.5", CARD, "DEV-1", "A3"],
    ["A2", "2026-02-02T10:00:00Z", "20", "4111-1111-1111-1111", "dev-1", "A3"],
    ["A2", "yesterday", "5", CARD, "dev-1", "A3"],
    ["", "2026-02-03T10:00:00Z", "7", CARD, "dev-2", "A3"],
    ["A3", "2026-02-04T10:00:00Z", "abc", CARD, "dev-3", "A1"],
    ["A3", "2026-02-05T10:00:00Z", "3", "", "dev-3", "A2"],
    ["A1", "2026-02-06T10:00:00Z", "4", "", "", "A2"],
]


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    write_csv(tmp_path / "accounts.csv", ACCOUNTS)
    write_csv(tmp_path / "orders.csv", ORDERS)
    return tmp_path


@pytest.fixture
def store() -> GraphStore:
    return open_store("duckdb:///:memory:")


def rejects(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_bad_fields_and_rows_go_to_rejects_with_row_column_and_reason(
    data: Path, store: GraphStore
) -> None:
    report = load_tables(store, SPEC, data)
    assert report.rejects_path == data / "rejects.csv"
    found = rejects(data / "rejects.csv")
    assert found[["row", "column", "dropped"]].values.tolist() == [
        ["3", "ts", "field"],
        ["4", "buyer", "row"],
        ["5", "amount", "field"],
    ]
    assert found["file"].str.endswith("orders.csv").all()
    assert "unparseable timestamp" in found.loc[0, "reason"]
    assert found.loc[1, "reason"] == "missing account id"


def test_rejected_rows_are_kept_whole(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    record = rejects(data / "rejects.csv").loc[0, "record"]
    assert '"ts": "yesterday"' in record


def test_a_bad_field_leaves_the_rest_of_its_row(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    sales = store.links(kinds=["TRANSACTS_WITH"]).set_index(["src_key", "dst_key"])
    # Row 3's time is unreadable: its sale still counts, with its amount.
    assert sales.loc[("A2", "A3"), "count"] == 2
    assert sales.loc[("A2", "A3"), "amount"] == 25.0
    # Row 5's amount is unreadable: its sale counts, without an amount.
    assert sales.loc[("A3", "A1"), "count"] == 1
    assert pd.isna(sales.loc[("A3", "A1"), "amount"])
    devices = store.links(kinds=["USES_DEVICE"])
    assert ("A3", "dev-3") in set(zip(devices["src_key"], devices["dst_key"], strict=True))


def test_report_counts_rows_and_fields_per_reason(data: Path, store: GraphStore) -> None:
    report = load_tables(store, SPEC, data)
    assert (report.read, report.loaded, report.rejected) == (10, 9, 1)
    assert report.rows_rejected == {"accounts": 0, "orders": 1}
    assert report.rows_with_rejected_fields == {"accounts": 0, "orders": 2}
    assert report.reasons == {
        "unparseable timestamp (expected ISO 8601, e.g. 2026-03-04T10:22:13Z)": 1,
        "missing account id": 1,
        "not a number": 1,
    }


def test_everything_else_is_loaded(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    stats = store.stats()
    assert stats.entities["Account"] == 3
    assert stats.links == {"HAS_EMAIL": 3, "PAYS_WITH": 3, "TRANSACTS_WITH": 5, "USES_DEVICE": 3}


def test_identifiers_are_normalised_to_one_node(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    devices = store.links(kinds=["USES_DEVICE"]).set_index("src_key")["dst_key"]
    assert devices["A1"] == devices["A2"] == "dev-1"
    emails = store.links(kinds=["HAS_EMAIL"]).set_index("src_key")["dst_key"]
    assert emails["A1"] == emails["A2"] == "jsmith@gmail.com"


def test_raw_card_numbers_are_never_stored(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    cards = store.entities(kind="PaymentInstrument")
    assert len(cards) == 1
    assert cards["key"].iloc[0].startswith("pi_")
    stored = pd.concat([store.links().astype(str), store.entities().astype(str)])
    assert not stored.apply(lambda col: col.str.contains("4111")).any().any()


def test_rejects_show_card_numbers_masked(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    text = (data / "rejects.csv").read_text()
    assert "4111" not in text
    assert rejects(data / "rejects.csv")["record"].str.contains('"card": "••1111"').all()


def test_links_aggregate_counts_time_and_amount(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    sales = store.links(kinds=["TRANSACTS_WITH"]).set_index(["src_key", "dst_key"])
    assert sales.loc[("A1", "A3"), "amount"] == 10.5
    assert sales.loc[("A2", "A3"), "first_seen"] == pd.Timestamp("2026-02-02T10:00:00")


def test_known_bad_label_is_kept(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    labels = store.entities(kind="Account").set_index("key")["label"]
    assert labels["A2"] == "known_bad"
    assert pd.isna(labels["A1"])


def test_loading_twice_changes_nothing(data: Path, store: GraphStore) -> None:
    load_tables(store, SPEC, data)
    before = store.links().sort_values(["src_key", "kind", "dst_key"], ignore_index=True)
    load_tables(store, SPEC, data)
    after = store.links().sort_values(["src_key", "kind", "dst_key"], ignore_index=True)
    pd.testing.assert_frame_equal(before, after)


def test_missing_column_stops_the_load_before_writing(data: Path, store: GraphStore) -> None:
    write_csv(data / "orders.csv", [row[:-1] for row in ORDERS])
    with pytest.raises(InputError, match=r"missing column\(s\) seller.*orders.csv"):
        load_tables(store, SPEC, data)
    assert store.stats().entity_total == 0


def test_missing_file_names_the_table(tmp_path: Path, store: GraphStore) -> None:
    with pytest.raises(InputError, match="no file for table 'accounts'"):
        load_tables(store, SPEC, tmp_path)


def test_line_with_wrong_field_count_is_rejected(data: Path, store: GraphStore) -> None:
    with (data / "orders.csv").open("a") as handle:
        handle.write("A1,2026-02-05T10:00:00Z,1,extra,fields,here,too\n")
    report = load_tables(store, SPEC, data)
    found = rejects(data / "rejects.csv")
    broken = found[found["reason"].str.contains("fields")]
    assert broken["row"].tolist() == ["8"]
    assert broken["dropped"].tolist() == ["row"]
    assert "extra,fields" in broken["record"].iloc[0]
    assert report.rows_read["orders"] == 8


def test_rows_after_a_broken_line_keep_their_numbers(data: Path, store: GraphStore) -> None:
    rows = [*ORDERS[:2], ["A1", "too", "few"], *ORDERS[2:]]
    write_csv(data / "orders.csv", rows)
    load_tables(store, SPEC, data)
    found = rejects(data / "rejects.csv")
    assert found[["row", "column"]].values.tolist() == [
        ["2", ""],
        ["4", "ts"],
        ["5", "buyer"],
        ["6", "amount"],
    ]


def test_dataframes_load_like_files(store: GraphStore, tmp_path: Path) -> None:
    frames = {
        "accounts": pd.DataFrame(ACCOUNTS[1:], columns=ACCOUNTS[0]),
        "orders": pd.DataFrame(ORDERS[1:], columns=ORDERS[0]).assign(
            ts=lambda f: pd.to_datetime(f["ts"], errors="coerce", utc=True)
        ),
    }
    report = load_tables(store, SPEC, frames, rejects_path=tmp_path / "rejected.csv")
    assert report.rows_read == {"accounts": 3, "orders": 7}
    assert report.rejects_path == tmp_path / "rejected.csv"
    assert store.stats().entities["Account"] == 3


def test_parquet_loads_like_csv(data: Path, store: GraphStore) -> None:
    for name in ("accounts", "orders"):
        pd.read_csv(data / f"{name}.csv", dtype=str).to_parquet(data / f"{name}.parquet")
        (data / f"{name}.csv").unlink()
    report = load_tables(store, SPEC, data)
    assert (report.loaded, report.rejected, report.with_rejected_fields) == (9, 1, 2)


def test_mapping_from_yaml_and_toml_agree(tmp_path: Path) -> None:
    yaml_file = tmp_path / "m.yaml"
    yaml_file.write_text(
        "name: t\nsources:\n  - table: logins\n    account: user\n"
        "    identifiers:\n      - {column: ip, kind: IP}\n"
    )
    toml_file = tmp_path / "m.toml"
    toml_file.write_text(
        'name = "t"\n[[sources]]\ntable = "logins"\naccount = "user"\n'
        '[[sources.identifiers]]\ncolumn = "ip"\nkind = "IP"\n'
    )
    assert MappingSpec.from_file(yaml_file) == MappingSpec.from_file(toml_file)
    assert MappingSpec.from_file(yaml_file).sources[0].identifiers[0].link_kind == "LOGS_IN_FROM"


def test_invalid_mapping_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("sources:\n  - table: t\n    acount: user\n")
    with pytest.raises(ConfigError, match=r"sources\.0\.acount: Extra inputs are not permitted"):
        MappingSpec.from_file(bad)


def test_account_link_must_join_accounts() -> None:
    with pytest.raises(ConfigError, match="not an account-to-account link"):
        MappingSpec.from_dict(
            {
                "sources": [
                    {
                        "table": "t",
                        "account": "a",
                        "accounts": [{"column": "b", "link": "USES_DEVICE"}],
                    }
                ]
            }
        )


def test_a_self_link_is_rejected_with_its_reason(data: Path, store: GraphStore) -> None:
    write_csv(data / "orders.csv", [*ORDERS, ["A1", "2026-02-07T10:00:00Z", "1", "", "", "A1"]])
    load_tables(store, SPEC, data)
    found = rejects(data / "rejects.csv").set_index("row")
    assert found.loc["8", "column"] == "seller"
    assert found.loc["8", "dropped"] == "field"
    assert "own account" in found.loc["8", "reason"]
    sales = store.links(kinds=["TRANSACTS_WITH"])
    assert not (sales["src_key"] == sales["dst_key"]).any()


def test_too_many_rejects_stop_the_load_before_anything_is_written(
    data: Path, store: GraphStore
) -> None:
    bad = [["A1", "soon", "1", "", "", "A2"]] * 5
    write_csv(data / "orders.csv", [*ORDERS, *bad])
    with pytest.raises(InputError, match=r"orders: 8 of 12 rows \(67%\) — more than 50%"):
        load_tables(store, SPEC, data)
    assert store.stats().entity_total == 0
    assert len(rejects(data / "rejects.csv")) == 8


def test_the_reject_threshold_is_a_setting(data: Path, store: GraphStore) -> None:
    bad = [["A1", "soon", "1", "", "", "A2"]] * 5
    write_csv(data / "orders.csv", [*ORDERS, *bad])
    report = load_tables(store, SPEC, data, settings=Settings(max_reject_share=0.7))
    assert report.rows_with_rejected_fields["orders"] == 7
    assert store.stats().entities["Account"] == 3
