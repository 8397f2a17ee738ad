"""The synthetic marketplace generator: determinism, tables, planted rings, benign traps, dirt."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from graphfraud.errors import InputError
from loaders.generator import (
    BENIGN_KINDS,
    POPULAR_CREATOR_BUYERS,
    TABLES,
    TYPOLOGIES,
    GeneratedMarketplace,
    generate_marketplace,
)
from loaders.mapping import builtin_mapping
from loaders.normalise import NormaliseOptions, normalise

ACCOUNTS = 20_000
SEED = 7
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
# Columns whose emptiness makes a row unusable, per table (the row's own account).
ACCOUNT_COLUMN = {
    "accounts": "account_id",
    "creators": "owner_account_id",
    "logins": "account_id",
    "payment_methods": "account_id",
    "addresses": "account_id",
    "orders": "buyer_id",
    "referrals": "referrer_id",
    "transfers": "from_account",
}


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def luhn_valid(number: str) -> bool:
    digits = re.sub(r"[ -]", "", number)
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def dirty_rows(folder: Path, table: str) -> pd.Series:
    """Rows a loader must reject: a bad time, a missing account, a broken email/phone/card."""
    frame = read(folder, table)
    bad = frame[ACCOUNT_COLUMN[table]] == ""
    for column in frame.columns:
        if column in ("ts", "created_at", "added_at"):
            parsed = pd.to_datetime(frame[column], utc=True, errors="coerce", format="ISO8601")
            bad |= ~frame[column].str.fullmatch(ISO) | parsed.isna()
    if "card_number" in frame:
        bad |= ~frame["card_number"].map(luhn_valid)
    if table == "accounts":
        emails = normalise("Email", frame["email"], NormaliseOptions("k"))
        phones = normalise("Phone", frame["phone"], NormaliseOptions("k"))
        bad |= emails.errors.notna() | phones.errors.notna()
    return bad


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> GeneratedMarketplace:
    return generate_marketplace(tmp_path_factory.mktemp("market"), accounts=ACCOUNTS, seed=SEED)


@pytest.fixture(scope="module")
def rings(market: GeneratedMarketplace) -> pd.DataFrame:
    return pd.read_csv(market.out_dir / "ground_truth" / "rings.csv", dtype=str)


@pytest.fixture(scope="module")
def benign(market: GeneratedMarketplace) -> pd.DataFrame:
    return pd.read_csv(market.out_dir / "ground_truth" / "benign.csv", dtype=str)


def members_of(rings: pd.DataFrame, typology: str) -> list[set[str]]:
    chosen = rings[rings["typology"] == typology]
    return [set(group["account_id"]) for _, group in chosen.groupby("ring_id")]


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = generate_marketplace(tmp_path / "a", accounts=2_000, seed=3)
    second = generate_marketplace(tmp_path / "b", accounts=2_000, seed=3)
    files = sorted(path.relative_to(first.out_dir) for path in first.out_dir.rglob("*.csv"))
    assert len(files) == len(TABLES) + 2
    for name in files:
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name


def test_different_seeds_give_different_data(tmp_path: Path) -> None:
    generate_marketplace(tmp_path / "a", accounts=2_000, seed=3)
    generate_marketplace(tmp_path / "b", accounts=2_000, seed=4)
    for table in ("accounts", "orders", "ground_truth/rings"):
        assert (tmp_path / "a" / f"{table}.csv").read_bytes() != (
            tmp_path / "b" / f"{table}.csv"
        ).read_bytes()


def test_every_table_is_written_with_its_header(market: GeneratedMarketplace) -> None:
    for table, columns in TABLES.items():
        header = (market.out_dir / f"{table}.csv").read_text().split("\n", 1)[0]
        assert header.split(",") == list(columns)
    truth = market.out_dir / "ground_truth"
    assert (truth / "rings.csv").read_text().startswith("ring_id,typology,account_id,camouflaged\n")
    assert (
        (truth / "benign.csv")
        .read_text()
        .startswith("structure_id,kind,identifier_kind,identifier,accounts\n")
    )


def test_reported_row_counts_match_the_files(market: GeneratedMarketplace) -> None:
    assert market.tables == {table: len(read(market.out_dir, table)) for table in TABLES}
    assert market.tables["accounts"] == ACCOUNTS


def test_every_typology_is_planted_at_least_twice(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    planted = rings.groupby("typology")["ring_id"].nunique().to_dict()
    assert planted == market.rings
    assert set(planted) == set(TYPOLOGIES)
    assert min(planted.values()) >= 2


def test_ring_sizes_stay_within_3_to_200(rings: pd.DataFrame) -> None:
    sizes = rings.groupby("ring_id").size()
    assert sizes.min() >= 3
    assert sizes.max() <= 200


def test_ring_sizes_are_heavy_tailed(rings: pd.DataFrame) -> None:
    sizes = rings.groupby("ring_id").size()
    assert sizes.median() < sizes.mean()
    assert sizes.max() >= 4 * sizes.median()


def test_fraud_accounts_are_2_to_5_percent(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    assert market.fraud_accounts == len(rings)
    assert 0.02 * ACCOUNTS <= len(rings) <= 0.05 * ACCOUNTS


def test_a_small_marketplace_keeps_fraud_under_5_percent(tmp_path: Path) -> None:
    result = generate_marketplace(tmp_path, accounts=2_000, seed=1)
    assert min(result.rings.values()) >= 2
    assert result.fraud_accounts <= 0.05 * 2_000


def test_ring_members_exist_in_accounts_and_belong_to_one_ring(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    accounts = set(read(market.out_dir, "accounts")["account_id"])
    assert set(rings["account_id"]) <= accounts
    assert not rings["account_id"].duplicated().any()


def test_about_a_quarter_of_rings_are_camouflaged(rings: pd.DataFrame) -> None:
    flags = rings.groupby("ring_id")["camouflaged"].agg(set)
    assert all(len(flag) == 1 for flag in flags)
    share = (flags.map(min) == "1").mean()
    assert 0.2 <= share <= 0.3


def test_known_bad_labels_seed_about_half_the_rings(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    accounts = read(market.out_dir, "accounts")
    bad = set(accounts.loc[accounts["known_bad"] == "1", "account_id"])
    seeded = rings.assign(bad=rings["account_id"].isin(bad)).groupby("ring_id")["bad"]
    assert 0.4 <= (seeded.sum() > 0).mean() <= 0.6
    assert (seeded.mean()[seeded.sum() > 0] <= 0.5).all()


def test_a_few_innocent_accounts_carry_a_wrong_known_bad_label(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    accounts = read(market.out_dir, "accounts")
    noise = accounts[
        (accounts["known_bad"] == "1") & ~accounts["account_id"].isin(rings["account_id"])
    ]
    assert 1 <= len(noise) <= 0.002 * ACCOUNTS


def test_card_numbers_pass_luhn_except_rare_dirty_rows(market: GeneratedMarketplace) -> None:
    failures = 0
    for table in ("payment_methods", "orders"):
        cards = read(market.out_dir, table)["card_number"]
        failures += int((~cards.map(luhn_valid)).sum())
    rows = market.tables["payment_methods"] + market.tables["orders"]
    assert 1 <= failures <= rows / 2_000


def test_every_table_has_a_few_dirty_rows(market: GeneratedMarketplace) -> None:
    for table in TABLES:
        dirty = int(dirty_rows(market.out_dir, table).sum())
        assert 1 <= dirty <= max(3, market.tables[table] / 2_000), table


def test_dirty_rows_never_touch_ring_members(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    for table in TABLES:
        frame = read(market.out_dir, table)
        damaged = frame[dirty_rows(market.out_dir, table)]
        assert not damaged[ACCOUNT_COLUMN[table]].isin(rings["account_id"]).any(), table


def test_clean_timestamps_are_iso_8601_utc_within_the_marketplace_life(
    market: GeneratedMarketplace,
) -> None:
    orders = read(market.out_dir, "orders")
    stamps = orders.loc[orders["ts"].str.fullmatch(ISO), "ts"]
    parsed = pd.to_datetime(stamps, utc=True, format="ISO8601")
    assert parsed.min() >= pd.Timestamp("2023-01-01", tz="UTC")
    assert parsed.max() <= pd.Timestamp("2026-03-01", tz="UTC")


def test_innocent_emails_and_phones_are_unique(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    accounts = read(market.out_dir, "accounts")
    innocent = accounts[~accounts["account_id"].isin(rings["account_id"])]
    emails = normalise("Email", innocent["email"], NormaliseOptions("k")).values.dropna()
    phones = normalise("Phone", innocent["phone"], NormaliseOptions("k")).values.dropna()
    assert not emails.duplicated().any()
    assert not phones.duplicated().any()


def test_a_household_shares_an_address_spelled_in_different_ways(
    market: GeneratedMarketplace, benign: pd.DataFrame
) -> None:
    homes = benign[(benign["kind"] == "household") & (benign["identifier_kind"] == "Address")]
    home = homes.iloc[int(homes["accounts"].astype(int).to_numpy().argmax())]
    addresses = read(market.out_dir, "addresses")
    number_and_street = " ".join(home["identifier"].lower().split()[:2]) + " "
    spellings = addresses.loc[addresses["address"].str.lower().str.startswith(number_and_street)]
    assert home["identifier"] in set(spellings["address"])
    assert spellings["account_id"].nunique() == int(home["accounts"]) >= 4
    assert spellings["address"].nunique() == int(home["accounts"])


def test_benign_structures_of_every_kind_are_recorded(benign: pd.DataFrame) -> None:
    assert set(benign["kind"]) == set(BENIGN_KINDS)
    assert not benign[["structure_id", "identifier_kind"]].duplicated().any()


def test_benign_hubs_are_shared_by_many_accounts(benign: pd.DataFrame) -> None:
    size = benign.assign(accounts=benign["accounts"].astype(int)).groupby("kind")["accounts"].max()
    assert size["nat_ip"] >= 500
    assert size["cafe_ip"] >= 100
    assert size["parcel_locker"] >= 100
    assert size["warehouse_address"] >= 200
    assert size["popular_creator"] >= 5 * POPULAR_CREATOR_BUYERS
    assert 2 <= size["household"] <= 6


def test_a_warehouse_count_is_the_number_of_accounts_using_it(
    market: GeneratedMarketplace, benign: pd.DataFrame
) -> None:
    warehouse = benign[benign["kind"] == "warehouse_address"].iloc[0]
    orders = read(market.out_dir, "orders")
    addresses = read(market.out_dir, "addresses")
    shipped = orders.loc[orders["ship_address"] == warehouse["identifier"], "buyer_id"]
    saved = addresses.loc[addresses["address"] == warehouse["identifier"], "account_id"]
    users = pd.concat([shipped, saved])
    # A dirty row may have lost its account id after it was counted.
    blanked = int((users == "").sum())
    named = users[users != ""].nunique()
    assert named <= int(warehouse["accounts"]) <= named + blanked


def test_device_farm_members_share_few_devices(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    logins = read(market.out_dir, "logins")
    for members in members_of(rings, "device_farm"):
        used = logins[logins["account_id"].isin(members)]
        busiest = used.groupby("device_fingerprint")["account_id"].nunique().max()
        assert busiest >= max(2, len(members) // 15)


def test_payment_sharing_members_share_cards(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    cards = read(market.out_dir, "payment_methods")
    cards["digits"] = cards["card_number"].str.replace(r"[ -]", "", regex=True)
    for members in members_of(rings, "payment_sharing"):
        held = cards[cards["account_id"].isin(members)]
        assert held.groupby("digits")["account_id"].nunique().max() >= 2


def test_drop_address_members_ship_to_one_place_spelled_differently(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    orders = read(market.out_dir, "orders")
    for members in members_of(rings, "drop_address"):
        shipped = orders[orders["buyer_id"].isin(members)]
        keys = normalise("Address", shipped["ship_address"], NormaliseOptions("k")).values
        spellings = shipped.groupby(keys.to_numpy())["ship_address"].nunique()
        buyers = shipped.groupby(keys.to_numpy())["buyer_id"].nunique()
        assert buyers.max() >= 2
        assert spellings.max() >= 2


def test_promo_abuse_members_are_referred_within_the_ring(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    referrals = read(market.out_dir, "referrals")
    for members in members_of(rings, "promo_abuse"):
        inside = referrals[
            referrals["referee_id"].isin(members) & referrals["referrer_id"].isin(members)
        ]
        assert len(inside) == len(members) - 1
        assert inside["promo_code"].str.fullmatch(r"INV-[A-Z2-9]{6}").all()


def test_promo_abuse_emails_collapse_onto_one_mailbox(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    accounts = read(market.out_dir, "accounts").set_index("account_id")
    for members in members_of(rings, "promo_abuse"):
        if len(members) < 6:
            continue
        emails = accounts.loc[sorted(members), "email"]
        keys = normalise("Email", emails, NormaliseOptions("k")).values
        assert keys.value_counts().max() >= 2
        assert emails.nunique() == len(emails)


def test_creator_collusion_buyers_order_mostly_through_one_creator(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    orders = read(market.out_dir, "orders")
    creators = read(market.out_dir, "creators")
    for members in members_of(rings, "creator_collusion"):
        bought = orders[orders["buyer_id"].isin(members)]
        top = bought["creator_id"].value_counts()
        creator = top.index[0]
        assert creator != ""
        assert top.iloc[0] >= 0.5 * len(bought)
        owner = creators.loc[creators["creator_id"] == creator, "owner_account_id"]
        assert set(owner) <= members


def test_money_cycle_transfers_go_round_every_member(
    market: GeneratedMarketplace, rings: pd.DataFrame
) -> None:
    transfers = read(market.out_dir, "transfers")
    for members in members_of(rings, "money_cycle"):
        inside = transfers[
            transfers["from_account"].isin(members) & transfers["to_account"].isin(members)
        ]
        assert set(inside["from_account"]) == members
        assert set(inside["to_account"]) == members


def test_ring_members_sign_up_in_a_burst(market: GeneratedMarketplace, rings: pd.DataFrame) -> None:
    accounts = read(market.out_dir, "accounts").set_index("account_id")
    plain = rings[rings["camouflaged"] == "0"]
    for _, group in plain.groupby("ring_id"):
        created = pd.to_datetime(accounts.loc[group["account_id"], "created_at"], utc=True)
        assert created.max() - created.min() <= pd.Timedelta(days=21)


def test_progress_reaches_every_stage_total(tmp_path: Path) -> None:
    seen: dict[str, tuple[int, int]] = {}
    generate_marketplace(
        tmp_path,
        accounts=1_000,
        seed=0,
        progress=lambda stage, done, total: seen.update({stage: (done, total)}),
    )
    assert seen["writing tables"] == (1_000, 1_000)
    assert all(done == total for done, total in seen.values())


def test_too_few_accounts_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="accounts"):
        generate_marketplace(tmp_path, accounts=99)


def test_the_marketplace_mapping_reads_every_generated_table(market: GeneratedMarketplace) -> None:
    spec = builtin_mapping("marketplace")
    assert {source.table for source in spec.sources} == set(TABLES)
    for source in spec.sources:
        header = (market.out_dir / f"{source.table}.csv").read_text().split("\n", 1)[0].split(",")
        assert set(source.columns) <= set(header), source.table


@pytest.mark.slow
def test_chunks_join_into_one_export_in_account_order(tmp_path: Path) -> None:
    result = generate_marketplace(tmp_path, accounts=60_000, seed=2)
    assert result.tables["accounts"] == 60_000
    for table in ("accounts", "logins", "orders"):
        owners = read(tmp_path, table)[ACCOUNT_COLUMN[table]]
        named = owners[owners != ""]
        assert named.is_monotonic_increasing, table
    rings = pd.read_csv(tmp_path / "ground_truth" / "rings.csv", dtype=str)
    assert rings["account_id"].str[1:].astype(int).max() > 50_000
