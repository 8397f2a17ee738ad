"""Normalisers for Southeast-Asian markets: addresses, phones per row, names, payment tokens."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphfraud.errors import ConfigError
from loaders.normalise import (
    NormaliseOptions,
    fingerprint_card,
    fingerprint_token,
    normalise,
    normalise_address,
    normalise_name,
    normalise_phone,
)
from tests.unit.test_normalise import dialled_numbers, reference_e164

KEY = "test-fingerprint-key"
DERANDOMISED = settings(
    derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def address_keys(values: list[str], region: str | pd.Series) -> list[object]:
    return normalise_address(pd.Series(values), region=region).values.tolist()


# --- addresses: one place, many spellings ---------------------------------------------------

ONE_PLACE_PER_MARKET = {
    "ID": [
        "Jl. Sudirman No. 12, Jakarta Selatan 12190",
        "JALAN SUDIRMAN 12 JAKARTA SELATAN 12190",
        "jl sudirman no.12, jakarta selatan, 12190",
        "Jln. Sudirman Nomor 12, Kota Jakarta Selatan, DKI Jakarta 12190, Indonesia",
        "Jl Sudirman 12, Jaksel 12190",
    ],
    "MY": [
        "No. 12, Jalan Bukit Bintang, Taman Maju, 55100 Kuala Lumpur",
        "12 Jln Bkt Bintang, Tmn Maju, Kuala Lumpur 55100, Wilayah Persekutuan",
        "12, Jalan Bukit Bintang, Taman Maju, 55100 W.P. Kuala Lumpur, Malaysia",
    ],
    "TH": [
        "99/1 Moo 5, Soi Sukhumvit 21, Thanon Sukhumvit, Khwaeng Khlong Toei Nuea, "
        "Khet Watthana, Bangkok 10110",
        "99/1 M. 5 Soi Sukhumvit 21 Th. Sukhumvit Khlong Toei Nuea Watthana Bangkok 10110 Thailand",
        "99/1 Mu 5, Soi Sukhumvit 21, Thanon Sukhumvit, Khlong Toei Nuea, Watthana, "
        "Krung Thep Maha Nakhon 10110",
    ],
    "VN": [
        "Số 12 Đường Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
        "12 Đ. Lê Lợi, P. Bến Nghé, Q.1, Thành phố Hồ Chí Minh, Việt Nam",
        "12 duong Le Loi, P.Ben Nghe, Q1, TPHCM",
    ],
    "PH": [
        "Blk 5 Lot 12, Phase 2, Brgy. San Isidro, Antipolo City, Rizal 1870",
        "Block 5 Lot 12 Ph 2 Barangay San Isidro Antipolo City 1870 Rizal, Philippines",
    ],
    "SG": [
        "Blk 123 Ang Mo Kio Ave 3 #05-123 Singapore 560123",
        "123 Ang Mo Kio Avenue 3, #05-123, S560123",
        "Block 123, Ang Mo Kio Ave 3, # 5-123, Singapore (560123)",
    ],
}


@pytest.mark.parametrize(("region", "spellings"), ONE_PLACE_PER_MARKET.items())
def test_spellings_of_one_place_collide_in_each_market(region: str, spellings: list[str]) -> None:
    keys = address_keys(spellings, region)
    assert all(isinstance(key, str) for key in keys)
    assert len(set(keys)) == 1, keys


@pytest.mark.parametrize(
    "spelling",
    [
        "Jl. Sudirman No. 12 RT 003/RW 005 Jakarta Selatan 12190",
        "Jl. Sudirman No. 12 RT.03 RW.05 Jakarta Selatan 12190",
        "jl sudirman 12 rt3 rw5 jakarta selatan 12190",
        "Jl. Sudirman 12, Jakarta Selatan 12190, RT/RW 003/005",
        "Jl Sudirman 12, RT 3 / RW 5, Jakarta Selatan, 12190",
    ],
)
def test_rt_rw_has_one_form_wherever_it_stands(spelling: str) -> None:
    assert address_keys([spelling], "ID") == ["jl sudirman 12 jakarta selatan 12190 rt3 rw5"]


def test_indonesian_administrative_markers_are_dropped() -> None:
    assert address_keys(
        [
            "Jl. Melati 5, Kel. Karet, Kec. Setiabudi, Prov. DKI Jakarta",
            "Jl Melati 5 Karet Setiabudi",
        ],
        "ID",
    ) == ["jl melati 5 karet setiabudi dki jakarta", "jl melati 5 karet setiabudi"]


def test_a_province_is_dropped_only_where_a_postcode_implies_it() -> None:
    keys = address_keys(
        ["Jl. Melati 5, Bandung, Jawa Barat 40115", "Jl. Melati 5, Bandung, Jawa Barat"], "ID"
    )
    assert keys == ["jl melati 5 bandung 40115", "jl melati 5 bandung jawa barat"]


def test_housing_estate_blocks_fold() -> None:
    keys = address_keys(
        ["Perum. Griya Indah Blok C.2 No. 15", "Perumahan Griya Indah Blk C-2 No 15"], "ID"
    )
    assert keys == ["perum griya indah blk c2 15"] * 2


@pytest.mark.parametrize(
    ("region", "one", "another"),
    [
        ("ID", "Jl. Sudirman No. 12, Jakarta 12190", "Jl. Sudirman No. 21, Jakarta 12190"),
        ("ID", "Jl. Sudirman 12 RT 3 RW 5, 12190", "Jl. Sudirman 12 RT 5 RW 3, 12190"),
        ("ID", "Jl. Sudirman 12, 12190", "Jl. Sudirman 12, 12191"),
        ("ID", "Jl. Melati Blok C No. 5", "Jl. Melati Blok D No. 5"),
        ("ID", "Kota Bandung 40115", "Kab. Bandung 40115"),
        ("MY", "12 Jalan Bukit Bintang 55100", "12 Lorong Bukit Bintang 55100"),
        ("TH", "99/1 Moo 5 Soi 21", "99/1 Moo 5 Soi 12"),
        ("VN", "12 Lê Lợi, Quận 1", "12 Lê Lợi, Quận 3"),
        ("VN", "12 Lê Lợi, Phường 1", "12 Lê Lợi, Quận 1"),
        ("PH", "Blk 5 Lot 12, Brgy. San Isidro", "Blk 12 Lot 5, Brgy. San Isidro"),
        ("SG", "123 Ang Mo Kio Ave 3 #05-123 560123", "123 Ang Mo Kio Ave 3 #05-124 560123"),
    ],
)
def test_different_places_stay_apart(region: str, one: str, another: str) -> None:
    first, second = address_keys([one, another], region)
    assert first != second


def test_regional_abbreviations_apply_only_to_their_region() -> None:
    # "P." is a ward in Vietnam; elsewhere it is a letter like any other.
    assert address_keys(["12 Le Loi, P. Ben Nghe"], "VN") == ["12 le loi phuong ben nghe"]
    assert address_keys(["12 Le Loi, P. Ben Nghe"], "US") == ["12 le loi p ben nghe"]


def test_a_region_per_value_applies_each_values_rules() -> None:
    values = ["12 Le Loi, Q.1", "12 Le Loi, Q.1", "Blk 123 Ang Mo Kio 560123"]
    regions = pd.Series(["Vietnam", None, "SG"])
    assert address_keys(values, regions) == [
        "12 le loi quan 1",
        "12 le loi q 1",
        "123 ang mo kio 560123",
    ]


def test_us_and_uk_order_is_kept() -> None:
    keys = address_keys(["Apt 4B, 12 Main St", "12 Main St Apt 4B"], "US")
    assert keys[0] != keys[1]


def test_the_own_country_alone_is_kept() -> None:
    # As a name: its code may be one of the region's abbreviations ("th" is Thanon).
    assert address_keys(["Indonesia", "Jl. Melati 5, Indonesia"], "ID") == [
        "indonesia",
        "jl melati 5",
    ]
    assert address_keys(["Thailand"], "TH") == ["thailand"]


def test_an_unknown_region_for_all_values_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown region 'Atlantis'"):
        normalise_address(pd.Series(["1 Main St"]), region="Atlantis")


def test_a_region_series_of_the_wrong_length_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="2 regions given for 1 values"):
        normalise_address(pd.Series(["1 Main St"]), region=pd.Series(["ID", "MY"]))


_SEA_WORDS = st.sampled_from(
    [
        *("Jl.", "JALAN", "No.", "12", "RT", "003/RW", "005", "rt3", "rw5", "RT/RW", "03/05"),
        *("Kel.", "Kec.", "Kota", "Jakarta", "Selatan", "DKI", "12190", "Indonesia", "Blok"),
        *("C.2", "Gg.", "Moo", "Soi", "Th.", "99/1", "Khet", "Bangkok", "10110", "Q.1", "P."),
        *("Đường", "Số", "TPHCM", "Brgy.", "Ph", "1870", "Philippines", "#05-123", "S560123"),
        *("Singapore", "Blk", "Malaysia", "55100", "W.P.", "Kuala", "Lumpur", ",", "/"),
    ]
)


@DERANDOMISED
@given(
    values=st.lists(st.lists(_SEA_WORDS, max_size=12).map(" ".join), min_size=1, max_size=20),
    region=st.sampled_from(["ID", "MY", "TH", "VN", "PH", "SG", "US", "GB"]),
)
def test_address_keys_normalise_to_themselves_in_every_market(
    values: list[str], region: str
) -> None:
    once = normalise_address(pd.Series(values), region=region).values.dropna()
    twice = normalise_address(once, region=region).values
    assert twice.tolist() == once.tolist()


# --- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "spellings", "e164"),
    [
        ("ID", ["0812-3456-7890", "0812 3456 7890", "+62 812-3456-7890", "62812 3456 7890"],
         "+6281234567890"),
        ("MY", ["012-345 6789", "+60 12-345 6789", "0123456789"], "+60123456789"),
        ("TH", ["081 234 5678", "+66 81 234 5678", "0812345678"], "+66812345678"),
        ("VN", ["0912 345 678", "+84 912 345 678", "0912345678"], "+84912345678"),
        ("PH", ["0917 123 4567", "+63 917 123 4567", "09171234567"], "+639171234567"),
        ("SG", ["9123 4567", "+65 9123 4567", "91234567"], "+6591234567"),
    ],
)  # fmt: skip
def test_local_numbers_of_each_market_become_e164(
    region: str, spellings: list[str], e164: str
) -> None:
    assert normalise_phone(pd.Series(spellings), region=region).values.tolist() == [e164] * len(
        spellings
    )


@pytest.mark.parametrize("region", ["ID", "id", "IDN", "Indonesia", " indonesia "])
def test_a_region_is_a_code_or_a_country_name(region: str) -> None:
    result = normalise_phone(pd.Series(["0812-3456-7890"]), region=pd.Series([region]))
    assert result.values.tolist() == ["+6281234567890"]


def test_each_row_is_read_in_its_own_region() -> None:
    numbers = pd.Series(["0812-3456-7890", "012-345 6789", "(415) 555-0123", "+44 20 7946 0958"])
    regions = pd.Series(["Indonesia", "MY", "US", "Atlantis"])
    assert normalise_phone(numbers, region=regions).values.tolist() == [
        "+6281234567890",
        "+60123456789",
        "+14155550123",
        "+442079460958",
    ]


def test_a_national_number_without_a_known_region_is_an_error_naming_it() -> None:
    result = normalise_phone(
        pd.Series(["0812-3456-7890", "0812-3456-7890", "0812-3456-7890"]),
        region=pd.Series(["Atlantis", None, "AQ"]),
    )
    assert result.values.isna().all()
    assert result.errors.tolist() == [
        "not a phone number: no country code, and region 'Atlantis' has no numbering plan",
        "not a phone number: no country code, and no region to read it in",
        "not a phone number: no country code, and region 'AQ' has no numbering plan",
    ]


_SEA_REGIONS = ["ID", "MY", "TH", "VN", "PH", "SG"]


def sea_numbers() -> st.SearchStrategy[tuple[str, str]]:
    """A perturbed example number of a Southeast-Asian plan, as dialled, and a region."""
    return st.tuples(dialled_numbers(_SEA_REGIONS), st.sampled_from([*_SEA_REGIONS, "US"]))


@DERANDOMISED
@given(st.lists(sea_numbers(), min_size=1, max_size=40))
def test_per_row_regions_agree_with_phonenumbers(pairs: list[tuple[str, str]]) -> None:
    numbers, regions = (list(column) for column in zip(*pairs, strict=True))
    result = normalise_phone(pd.Series(numbers), region=pd.Series(regions))
    expected = [reference_e164(number, region) for number, region in pairs]
    assert [None if pd.isna(key) else key for key in result.values] == expected


@DERANDOMISED
@given(st.lists(sea_numbers(), min_size=1, max_size=40))
def test_per_row_phone_keys_normalise_to_themselves(pairs: list[tuple[str, str]]) -> None:
    numbers, regions = (pd.Series(list(column)) for column in zip(*pairs, strict=True))
    once = normalise_phone(numbers, region=regions).values
    kept = once.notna().to_numpy()
    twice = normalise_phone(once[kept], region=regions[kept].reset_index(drop=True)).values
    assert twice.tolist() == once[kept].tolist()


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "spellings", "key"),
    [
        ("ID", ["Bpk. Ahmad Yani", "AHMAD YANI", "Bapak H. Ahmad Yani", "ahmad  yani"],
         "ahmad yani"),
        ("ID", ["Ibu Siti Rahayu", "Sdri. Siti Rahayu", "Ny. Siti Rahayu"], "siti rahayu"),
        ("MY", ["Encik Mohd Faizal", "En. Mohd. Faizal", "Dato' Mohd Faizal"], "mohd faizal"),
        ("TH", ["Khun Somchai Jaidee", "somchai jaidee"], "somchai jaidee"),
        ("VN", ["Ông Nguyễn Văn An", "NGUYEN VAN AN", "Nguyen Van An"], "nguyen van an"),
        ("US", ["Mr. John O'Brien", "john obrien", "Dr John O'Brien"], "john obrien"),
    ],
)  # fmt: skip
def test_spellings_of_one_name_collide(region: str, spellings: list[str], key: str) -> None:
    assert normalise_name(pd.Series(spellings), region=region).values.tolist() == [key] * len(
        spellings
    )


def test_regional_honorifics_stay_names_elsewhere() -> None:
    assert normalise_name(pd.Series(["Ong Wei Ming"]), region="SG").values.tolist() == [
        "ong wei ming"
    ]


def test_a_lone_honorific_is_kept_and_punctuation_alone_is_an_error() -> None:
    result = normalise_name(pd.Series(["Ibu", "..."]), region="ID")
    assert result.values.tolist() == ["ibu", pd.NA]
    assert result.errors.tolist() == [pd.NA, "not a name: no letters or digits"]


def test_names_of_other_scripts_keep_their_letters() -> None:
    assert normalise_name(pd.Series(["สมชาย ใจดี"]), region="TH").values.tolist() == ["สมชาย ใจดี"]


def test_name_is_a_kind_a_mapping_can_use() -> None:
    result = normalise("Name", pd.Series(["Bpk. Ahmad"]), NormaliseOptions(KEY, region="ID"))
    assert result.values.tolist() == ["ahmad"]


# --- payment tokens -------------------------------------------------------------------------

TOKEN = "tok_1NXWPD2eZvKYlo2C"


def test_token_fingerprints_are_keyed_and_stable() -> None:
    result = fingerprint_token(pd.Series([TOKEN, f"  {TOKEN} "]), key=KEY)
    assert result.values.nunique() == 1
    assert re.fullmatch("pi_[0-9a-f]{20}", result.values.iloc[0])
    other = fingerprint_token(pd.Series([TOKEN]), key="another").values.iloc[0]
    assert other != result.values.iloc[0]


def test_tokens_are_case_sensitive() -> None:
    result = fingerprint_token(pd.Series([TOKEN, TOKEN.lower()]), key=KEY)
    assert result.values.nunique() == 2


def test_tokens_need_no_luhn_check() -> None:
    # Digits failing Luhn are a fine numeric card id, though not a card number.
    assert fingerprint_token(pd.Series(["4111111111111112"]), key=KEY).errors.isna().all()
    assert fingerprint_card(pd.Series(["4111111111111112"]), key=KEY).errors.notna().all()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("N/A", "not a token: a placeholder"),
        ("unknown", "not a token: a placeholder"),
        ("tok 123", "not a token: whitespace inside"),
        ("abc", "not a token: fewer than 4 characters"),
    ],
)
def test_bad_tokens_are_errors_with_a_reason(value: str, reason: str) -> None:
    result = fingerprint_token(pd.Series([value]), key=KEY)
    assert result.values.isna().all()
    assert result.errors.tolist() == [reason]


def test_token_display_never_shows_the_whole_token() -> None:
    result = fingerprint_token(pd.Series([TOKEN, "card_42x"]), key=KEY)
    assert result.display is not None
    assert result.display.tolist() == ["token \u2022\u2022lo2C", "token"]
    for text in result.display:
        assert TOKEN not in text


def test_payment_format_chooses_cards_or_tokens() -> None:
    values = pd.Series([TOKEN])
    as_token = normalise("PaymentInstrument", values, NormaliseOptions(KEY, payment_format="token"))
    as_card = normalise("PaymentInstrument", values, NormaliseOptions(KEY))
    assert as_token.values.notna().all()
    assert as_card.values.isna().all()


def test_an_unknown_payment_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown payment format 'iban'"):
        normalise("PaymentInstrument", pd.Series([TOKEN]), NormaliseOptions(KEY, "US", "iban"))


def test_token_fingerprints_pass_through_unchanged() -> None:
    key = fingerprint_token(pd.Series([TOKEN]), key=KEY).values.iloc[0]
    assert fingerprint_token(pd.Series([key]), key="another").values.tolist() == [key]
