"""A peer-to-peer payments export from Southeast Asia, loaded through the CLI as a user would.

The fixture (``tests/fixtures/p2p``) is shaped like a public P2P payments dataset: users with
a country column and local phone numbers, cards as opaque ids rather than card numbers, a
table describing devices, payments between users with amounts, referrals including
self-referrals, and no account creation times. Its mapping is the README's complete example.
Every row must be accounted for: loaded, or in the rejects file with its reason.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from graphfraud.model import EntityRef
from graphfraud.store import GraphStore, open_store
from loaders.load import load_tables
from loaders.mapping import MappingSpec
from tests.neo4j_server import Neo4jForTests, empty_store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "p2p"
TABLES = {
    "users": "users.csv",
    "cards": "cards.csv",
    "card_details": "cards.csv",
    "devices": "devices.csv",
    "payments": "payments.csv",
    "referrals": "referrals.csv",
}
SELF_LINK = "the row's own account: a link from an account to itself says nothing"


def rows_of(name: str) -> list[dict[str, str]]:
    with (FIXTURE / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    work = tmp_path_factory.mktemp("p2p")
    shutil.copytree(FIXTURE, work / "export")
    done = subprocess.run(
        [
            sys.executable, "-m", "graphfraud", "load", "export",
            "--mapping", "export/mapping.yaml", "--store", f"duckdb:///{work / 'p2p.duckdb'}",
        ],
        cwd=work, env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    return done, work


@pytest.fixture
def store(loaded: tuple[subprocess.CompletedProcess[str], Path]) -> GraphStore:
    done, work = loaded
    assert done.returncode == 0, done.stderr
    return open_store(f"duckdb:///{work / 'p2p.duckdb'}")


@pytest.fixture
def rejects(loaded: tuple[subprocess.CompletedProcess[str], Path]) -> pd.DataFrame:
    return pd.read_csv(loaded[1] / "export" / "rejects.csv", dtype=str, keep_default_na=False)


def test_the_export_loads_without_a_workaround(
    loaded: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = loaded
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "wrote 71 links and the attributes of 53 entities, and kept 17 events" in done.stdout


def test_every_row_is_loaded_or_rejected_with_its_reason(
    loaded: tuple[subprocess.CompletedProcess[str], Path], rejects: pd.DataFrame
) -> None:
    done, _ = loaded
    read = {table: len(rows_of(name)) for table, name in TABLES.items()}
    dropped = rejects[rejects["dropped"] == "row"].groupby("table").size().to_dict()
    for table, rows in read.items():
        loaded_rows = rows - dropped.get(table, 0)
        assert f"│ {table:<12} │ {rows:>4} │ {loaded_rows:>6} │" in done.stdout
    assert rejects[["table", "row", "column", "dropped", "reason"]].values.tolist() == [
        ["users", "5", "kyc_level", "field", "not an integer"],
        ["users", "9", "phone", "field", "not a valid +62 number: too short"],
        ["cards", "9", "card_id", "field", "not a token: a placeholder"],
        ["card_details", "9", "card_id", "row", "not a token: a placeholder"],
        ["payments", "7", "amount", "field", "not a finite number"],
        ["payments", "10", "sender_id", "row", "missing account id"],
        ["referrals", "4", "referee_id", "field", SELF_LINK],
        ["referrals", "6", "referee_id", "field", SELF_LINK],
    ]


def test_cards_arrive_as_tokens_and_become_fingerprints(store: GraphStore) -> None:
    tokens = {row["card_id"] for row in rows_of("cards.csv")} - {"n/a"}
    cards = store.entities(kind="PaymentInstrument")
    assert len(cards) == len(tokens) == 7
    assert cards["key"].str.fullmatch("pi_[0-9a-f]{20}").all()
    stored = pd.concat([store.entities(), store.events()]).astype(str).to_csv()
    assert not [token for token in tokens if token in stored]


def test_shared_cards_and_devices_tie_their_users(store: GraphStore) -> None:
    card = store.links(kinds=["PAYS_WITH"]).groupby("dst_key")["src_key"].agg(set)
    assert {"U01", "U02"} in card.tolist()
    device = store.accounts_sharing(EntityRef("Device", "dev-d01"))
    assert set(device["account"]) == {"U01", "U02", "U10", "U12"}


def test_phones_are_read_in_each_users_country(store: GraphStore) -> None:
    phones = store.links(kinds=["HAS_PHONE"]).set_index("src_key")["dst_key"]
    assert phones["U01"] == phones["U02"] == "+6281234567890"
    assert phones["U03"] == "+60123456789"
    assert phones["U04"] == "+66812345678"
    assert phones["U08"] == "+14155550123"
    assert phones["U10"] == "+6281311112222"  # no country: the mapping's region, ID
    assert "U09" not in phones


def test_the_mappings_vocabulary_folds_what_the_built_in_one_does_not(
    store: GraphStore,
) -> None:
    shipped = store.links(kinds=["SHIPS_TO"]).set_index("src_key")["dst_key"]
    assert shipped["U09"] == shipped["U11"]  # "Jl. Jend. Sudirman", "Jalan Jenderal Sudirman"


def test_a_mistyped_address_joins_its_place_and_the_merge_is_listed(
    store: GraphStore, loaded: tuple[subprocess.CompletedProcess[str], Path]
) -> None:
    shipped = store.links(kinds=["SHIPS_TO"]).set_index("src_key")["dst_key"]
    assert shipped["U10"] == shipped["U01"]  # "jl sudirmn no.12, jakarta selatan, 12190"
    merges = pd.read_csv(loaded[1] / "export" / "near-duplicates.csv", keep_default_na=False)
    assert merges[["kind", "canonical", "spellings"]].values.tolist() == [
        ["Address", shipped["U01"], "jl sudirmn no.12, jakarta selatan, 12190"]
    ]


def test_the_readme_shows_this_mapping() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Mapping your own tables") :]
    shown = section[section.index("```yaml") + len("```yaml") : section.index("```\n\nEvery key")]
    assert MappingSpec.from_dict(yaml.safe_load(shown)) == MappingSpec.from_file(
        FIXTURE / "mapping.yaml"
    ).model_copy(update={"vocabularies": (Path("streets.yaml"),)})


def test_typed_account_attributes_are_kept(store: GraphStore) -> None:
    def attributes(key: str) -> dict[str, object]:
        return dict(json.loads(store.entity(EntityRef("Account", key))["attributes"]))

    assert attributes("U03") == {
        "country": "MY", "kyc_level": 3, "merchant": True, "chargeback_at": "2026-02-10T00:00:00Z",
    }  # fmt: skip
    assert attributes("U05") == {"country": "VN", "merchant": False}


def test_devices_and_cards_carry_their_own_attributes(store: GraphStore) -> None:
    device = json.loads(store.entity(EntityRef("Device", "dev-d02"))["attributes"])
    assert device == {"os": "ios", "model": "iPhone 13"}
    cards = store.entities(kind="PaymentInstrument")["attributes"].map(json.loads)
    assert {"brand": "amex", "level": "gold"} in cards.tolist()


def test_each_payment_is_kept_as_an_event(store: GraphStore) -> None:
    payments = store.events(accounts=None).query("kind == 'payment'").set_index("event_id")
    given = [row for row in rows_of("payments.csv") if row["sender_id"]]
    assert sorted(payments.index) == sorted(f"payments/{row['payment_id']}" for row in given)
    first = payments.loc["payments/P0001"]
    assert (first["account"], first["amount"]) == ("U01", 150000.0)
    assert first["time"] == pd.Timestamp("2026-01-10T01:00:00")
    assert "Account:U03" in first["refs"]
    assert pd.isna(payments.loc["payments/P0007", "amount"])


def test_money_between_users_adds_up(store: GraphStore) -> None:
    sent = store.links(kinds=["TRANSACTS_WITH"])["amount"].sum()
    given = [row for row in rows_of("payments.csv") if row["sender_id"]]
    assert sent == sum(float(row["amount"]) for row in given if row["amount"] != "-inf")


def test_self_referrals_make_no_link_but_stay_as_events(store: GraphStore) -> None:
    referred = store.links(kinds=["REFERRED"])
    assert not (referred["src_key"] == referred["dst_key"]).any()
    assert len(referred) == 4
    referrals = store.events().query("kind == 'referral'")
    assert len(referrals) == len(rows_of("referrals.csv"))
    assert referrals.set_index("account").loc["U05", "refs"] == []


@pytest.mark.neo4j
def test_the_export_loads_alike_into_neo4j(
    store: GraphStore, neo4j_server: Neo4jForTests, tmp_path: Path
) -> None:
    spec = MappingSpec.from_file(FIXTURE / "mapping.yaml")
    with empty_store(neo4j_server) as graph:
        # One key for both stores: their fingerprints are then the same keys.
        graph.set_fingerprint_key(store.fingerprint_key())
        load_tables(
            graph, spec, FIXTURE,
            rejects_path=tmp_path / "rejects.csv", merges_path=tmp_path / "near-duplicates.csv",
        )  # fmt: skip
        assert graph.stats() == store.stats()
        for kind in ("Account", "Device", "PaymentInstrument"):
            mine = graph.entities(kind=kind).set_index("key")["attributes"].map(_parsed)
            theirs = store.entities(kind=kind).set_index("key")["attributes"].map(_parsed)
            assert mine.sort_index().to_dict() == theirs.sort_index().to_dict()
        columns = ["event_id", "account", "amount", "refs"]
        pd.testing.assert_frame_equal(
            graph.events()[columns].sort_values("event_id", ignore_index=True),
            store.events()[columns].sort_values("event_id", ignore_index=True),
        )


def _parsed(text: str | None) -> dict[str, object] | None:
    return None if pd.isna(text) else dict(json.loads(str(text)))
