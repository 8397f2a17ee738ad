"""The generator's Southeast-Asian markets and payment tokens, read back by the normalisers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graphfraud.errors import InputError
from loaders.generator import GeneratedMarketplace, generate_marketplace
from loaders.normalise import NormaliseOptions, normalise

MARKETS = {"ID", "MY", "TH", "VN", "PH", "SG"}


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def sea(tmp_path_factory: pytest.TempPathFactory) -> GeneratedMarketplace:
    return generate_marketplace(
        tmp_path_factory.mktemp("sea"),
        accounts=2_000,
        seed=3,
        locale="sea",
        payment_format="token",
        identifier_truth=True,
    )


def folding(market: GeneratedMarketplace, kind: str, spelled: pd.DataFrame) -> pd.DataFrame:
    """Each spelling with its key (read in its own region) and what it really is."""
    truth = read(market.out_dir, "ground_truth/identifiers")
    spelled = spelled[spelled["identifier"] != ""].drop_duplicates().reset_index(drop=True)
    options = NormaliseOptions("k", region=spelled["region"])
    spelled["key"] = normalise(kind, spelled["identifier"], options).values
    return spelled.merge(truth[truth["kind"] == kind], on="identifier")


def test_accounts_and_addresses_say_their_market(sea: GeneratedMarketplace) -> None:
    assert set(read(sea.out_dir, "accounts")["country"]) == MARKETS
    assert set(read(sea.out_dir, "addresses")["country"]) <= MARKETS | {"US"}  # warehouses
    assert set(read(sea.out_dir, "orders")["ship_country"]) <= MARKETS | {"US"}


def test_every_spelling_of_a_place_folds_to_one_key_and_no_two_places_merge(
    sea: GeneratedMarketplace,
) -> None:
    addresses = read(sea.out_dir, "addresses")[["address", "country"]]
    found = folding(sea, "Address", addresses.set_axis(["identifier", "region"], axis=1))
    assert found["truth"].nunique() > 1_000
    assert (found.groupby("truth")["key"].nunique() == 1).all()
    assert (found.groupby("key")["truth"].nunique() == 1).all()
    spellings = found.groupby("truth")["identifier"].nunique()
    assert spellings.max() >= 3  # households and drop addresses spell one place many ways


def test_every_spelling_of_a_number_folds_to_its_e164(sea: GeneratedMarketplace) -> None:
    phones = read(sea.out_dir, "accounts")[["phone", "country"]]
    found = folding(sea, "Phone", phones.set_axis(["identifier", "region"], axis=1))
    assert len(found) > 1_000
    assert (found["key"] == found["truth"]).all()


def test_tokens_replace_card_numbers_and_stay_shared(sea: GeneratedMarketplace) -> None:
    cards = read(sea.out_dir, "payment_methods")["card_number"]
    assert cards.str.fullmatch("tok_[0-9A-Za-z]{14}").mean() > 0.999
    owners = read(sea.out_dir, "payment_methods").groupby("card_number")["account_id"].nunique()
    assert owners.max() > 1  # payment-sharing rings and households share one token


def test_us_locale_writes_us_markets_and_card_numbers(tmp_path: Path) -> None:
    market = generate_marketplace(tmp_path, accounts=300, seed=1)
    assert set(read(tmp_path, "accounts")["country"]) == {"US"}
    assert read(tmp_path, "payment_methods")["card_number"].str.fullmatch("[0-9 -]+").all()
    assert not (tmp_path / "ground_truth" / "identifiers.csv").exists()
    assert (market.locale, market.payment_format) == ("us", "card")


@pytest.mark.parametrize(
    ("options", "message"),
    [({"locale": "xx"}, "unknown locale 'xx'"), ({"payment_format": "iban"}, "payment format")],
)
def test_unknown_locale_or_format_is_an_input_error(
    tmp_path: Path, options: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        generate_marketplace(tmp_path, accounts=300, **options)  # type: ignore[arg-type]
