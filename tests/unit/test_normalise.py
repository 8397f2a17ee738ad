"""Identifier normalisers: each kind's rule, missing versus invalid, and idempotence."""

from __future__ import annotations

import doctest
import importlib
import ipaddress
import pkgutil
import re
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loaders.normalise
from graphfraud.errors import ConfigError
from loaders.normalise import (
    Normalised,
    NormaliseOptions,
    fingerprint_card,
    normalise,
    normalise_account,
    normalise_address,
    normalise_device,
    normalise_email,
    normalise_ip,
    normalise_phone,
    normalise_text,
)

KEY = "test-fingerprint-key"
OPTIONS = NormaliseOptions(KEY)
KINDS = ("Account", "Creator", "Device", "Address", "PaymentInstrument", "IP", "Phone", "Email")


def keys(result: Normalised) -> list[object]:
    return result.values.tolist()


Normaliser = Callable[..., Normalised]


def one(function: Normaliser, value: object, **options: object) -> Normalised:
    return function(pd.Series([value]), **options)


def key_of(function: Normaliser, value: object, **options: object) -> Any:
    return one(function, value, **options).values.iloc[0]


# --- every kind -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*KINDS, "PromoCode"])
def test_missing_values_have_neither_key_nor_error(kind: str) -> None:
    result = normalise(kind, pd.Series([None, np.nan, "", "   ", "\t\n"]), OPTIONS)
    assert result.values.isna().all()
    assert result.errors.isna().all()


@pytest.mark.parametrize("kind", [*KINDS, "PromoCode"])
def test_results_keep_the_input_index(kind: str) -> None:
    index = pd.Index(["b", "a", "b"], name="row")
    values = pd.Series(["x", "4111 1111 1111 1111", None], index=index)
    result = normalise(kind, values, OPTIONS)
    assert result.values.index.equals(index)
    assert result.errors.index.equals(index)
    assert result.display is None or result.display.index.equals(index)


@pytest.mark.parametrize(
    "module",
    [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(loaders.normalise.__path__, "loaders.normalise.")
    ],
    ids=lambda module: module.__name__,
)
def test_docstring_examples_hold(module: ModuleType) -> None:
    outcome = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.failed == 0


def test_unknown_kinds_are_stripped_and_whitespace_collapsed() -> None:
    result = normalise("PromoCode", pd.Series(["  SPRING \t 24 "]), OPTIONS)
    assert keys(result) == ["SPRING 24"]
    assert keys(normalise_text(pd.Series(["a\u00a0\u00a0b"]))) == ["a b"]


def test_numbers_read_as_floats_lose_their_decimal_point() -> None:
    result = normalise_phone(pd.Series([4155550123.0, np.nan]))
    assert keys(result) == ["+14155550123", pd.NA]


# --- ids ------------------------------------------------------------------------------------


def test_account_ids_are_stripped_with_case_kept() -> None:
    assert keys(normalise_account(pd.Series([" A-17 ", "a-17", "A  17"]))) == [
        "A-17",
        "a-17",
        "A  17",
    ]


def test_creator_ids_follow_the_account_rule() -> None:
    result = normalise("Creator", pd.Series([" C-Shop "]), OPTIONS)
    assert keys(result) == ["C-Shop"]


def test_device_ids_are_stripped_and_lower_cased() -> None:
    assert keys(normalise_device(pd.Series([" 9F3A-77C\t"]))) == ["9f3a-77c"]


# --- email ----------------------------------------------------------------------------------


def test_gmail_ignores_dots_and_plus_tags() -> None:
    spellings = [
        "jdoe@gmail.com",
        "J.Doe@Gmail.com",
        "j.d.o.e+promo@gmail.com",
        " jdoe+a+b@GMAIL.COM",
    ]
    assert set(keys(normalise_email(pd.Series(spellings)))) == {"jdoe@gmail.com"}


def test_googlemail_is_gmail() -> None:
    assert key_of(normalise_email, "j.doe+x@googlemail.com") == "jdoe@gmail.com"


@pytest.mark.parametrize(
    "domain", ["outlook.com", "hotmail.com", "live.com", "icloud.com", "fastmail.com", "proton.me"]
)
def test_plus_tags_are_dropped_where_the_provider_delivers_them(domain: str) -> None:
    assert key_of(normalise_email, f"j.doe+shop@{domain}") == f"j.doe@{domain}"


def test_yahoo_disposable_addresses_drop_the_hyphen_tag() -> None:
    assert key_of(normalise_email, "jdoe-shopping@yahoo.com") == "jdoe@yahoo.com"


def test_other_domains_keep_dots_and_tags() -> None:
    assert key_of(normalise_email, "J.Doe+Shop@Example.ORG") == "j.doe+shop@example.org"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("jdoe.example.com", "no '@'"),
        ("jdoe@@example.com", "more than one '@'"),
        ("j doe@example.com", "whitespace inside"),
        ("@example.com", "nothing before '@'"),
        ("jdoe@", "nothing after '@'"),
        ("jdoe@localhost", "no dot in the domain"),
        ("jdoe@example..com", "empty label in the domain"),
        ("jdoe@example.com.", "empty label in the domain"),
        ("+promo@gmail.com", "only a tag before '@'"),
    ],
)
def test_invalid_emails_are_errors_with_a_reason(value: str, reason: str) -> None:
    result = one(normalise_email, value)
    assert result.values.isna().all()
    assert result.errors.iloc[0] == f"not an email address: {reason}"


# --- phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "4155550123",
        "(415) 555-0123",
        "415.555.0123",
        "415 555 0123",
        "1-415-555-0123",
        "+1 415 555 0123",
        "+1 (415) 555-0123",
        "001 415 555 0123",
        "011 1 415 555 0123",
        "tel:+1-415-555-0123",
        "415-555-0123 x12",
        "+1 415 555 0123 ext. 12",
        "(415) 555-0123 #12",
        "+14155550123;ext=12",
    ],
)
def test_every_shape_of_a_us_number_gives_one_e164_key(value: str) -> None:
    assert key_of(normalise_phone, value, region="US") == "+14155550123"


@pytest.mark.parametrize(
    "value", ["020 7946 0958", "+44 20 7946 0958", "+44 (0)20 7946 0958", "0044 20 7946 0958"]
)
def test_national_numbers_follow_the_region(value: str) -> None:
    assert key_of(normalise_phone, value, region="GB") == "+442079460958"


def test_the_same_digits_mean_different_numbers_in_different_regions() -> None:
    assert key_of(normalise_phone, "07911 123456", region="GB") == "+447911123456"
    assert pd.isna(key_of(normalise_phone, "07911 123456", region="US"))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("123-456-7890", "not a valid +1 number: no such number range"),
        ("555-0123", "not a valid +1 number: no area code"),
        ("+1 415 555 01234", "not a valid +1 number: too long"),
        ("+999 1234 5678", "not a phone number: unknown country code"),
        ("call me maybe", "not a phone number: no number in it"),
    ],
)
def test_impossible_numbers_are_errors_with_a_reason(value: str, reason: str) -> None:
    result = one(normalise_phone, value, region="US")
    assert result.values.isna().all()
    assert result.errors.iloc[0] == reason


def test_unknown_phone_region_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown region"):
        normalise_phone(pd.Series(["4155550123"]), region="XX")


def test_common_shapes_do_not_call_phonenumbers_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = phonenumbers.parse

    def counting_parse(number: str, region: str | None = None) -> phonenumbers.PhoneNumber:
        calls.append(number)
        return original(number, region)

    monkeypatch.setattr(loaders.normalise.phone.phonenumbers, "parse", counting_parse)
    shapes = ["(212) 555-{:04d}", "+1 646 555 {:04d}", "1-718-555-{:04d}", "+44 20 7946 {:04d}"]
    values = pd.Series([shape.format(line) for shape in shapes for line in range(100, 400)])
    result = normalise_phone(values, region="US")
    assert result.values.notna().all()
    assert calls == []


def reference_e164(dialled: str, region: str) -> str | None:
    """What phonenumbers itself makes of a number (with '00' read as '+', as documented)."""
    text = "+" + dialled[2:] if dialled.startswith("00") else dialled
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_REGIONS = ["US", "CA", "JM", "GB", "DE", "FR", "IT", "IN", "BR", "AU", "CN", "JP", "RU", "NG"]
_NUMBER_TYPES = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
]


@st.composite
def dialled_numbers(draw: st.DrawFn, regions: Sequence[str] = tuple(_REGIONS)) -> str:
    """Example numbers of many plans, perturbed, in international, 00, national or bare form."""
    home = draw(st.sampled_from(regions))
    example = phonenumbers.example_number_for_type(home, draw(st.sampled_from(_NUMBER_TYPES)))
    assert example is not None
    digits = list(phonenumbers.national_significant_number(example))
    for _ in range(draw(st.integers(0, 2))):
        digits[draw(st.integers(0, len(digits) - 1))] = str(draw(st.integers(0, 9)))
    digits += draw(st.lists(st.sampled_from("0123456789"), max_size=1))
    national = "".join(digits)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(home)
    assert metadata is not None
    return draw(
        st.sampled_from(
            [
                f"+{example.country_code}{national}",
                f"00{example.country_code}{national}",
                f"{example.country_code}{national}",
                f"{metadata.national_prefix or ''}{national}",
                national,
            ]
        )
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    numbers=st.lists(dialled_numbers(), min_size=1, max_size=40), region=st.sampled_from(_REGIONS)
)
def test_phone_keys_agree_with_phonenumbers(numbers: list[str], region: str) -> None:
    result = normalise_phone(pd.Series(numbers), region=region)
    expected = [reference_e164(number, region) for number in numbers]
    assert [None if pd.isna(key) else key for key in result.values] == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    numbers=st.lists(dialled_numbers(), min_size=1, max_size=40), region=st.sampled_from(_REGIONS)
)
def test_phone_normalisation_is_idempotent(numbers: list[str], region: str) -> None:
    once = normalise_phone(pd.Series(numbers), region=region).values.dropna()
    twice = normalise_phone(once, region=region).values
    assert twice.tolist() == once.tolist()


# --- address --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one_spelling", "another"),
    [
        ("12 Main Street, Apt. 4B", "12 main st apt 4b"),
        ("12 Main St #4B", "12 MAIN ST UNIT 4-B"),
        ("12 Main St Apt #4B", "12 Main St. Apartment 4 B"),
        ("12 Main St Suite 4B", "12 Main St. Ste 4b"),
        ("Flat 4B, 12 High Street", "flat 4b 12 high st."),
        ("1 First Avenue", "One 1st Ave."),
        ("500 North Park Road", "500 N. Park Rd"),
        ("Springfield, IL 62704-1234", "Springfield IL 62704"),
        ("10 Downing St, London SW1A 2AA", "10 downing street london sw1a2aa"),
        ("10 Downing St, London, United Kingdom", "10 Downing St London UK"),
        ("1 Main St, Springfield, USA", "1 Main St Springfield United States of America"),
        ("1 Main St, Springfield, U.S.A.", "1 Main St Springfield US"),
        ("St. John's Road 5", "Saint Johns Rd 5"),
        ("P.O. Box 12", "PO Box 12"),
        ("Calle Málaga 5", "Calle Malaga 5"),
        ("Stratford-upon-Avon", "Stratford upon Avon"),
        ("Linden Straße 5", "Linden Str. 5"),
        ("12 Main St\n  Apt 4B", "12 Main St Apt 4B"),
    ],
)
def test_spellings_of_one_address_collide(one_spelling: str, another: str) -> None:
    result = normalise_address(pd.Series([one_spelling, another]))
    assert result.values.notna().all()
    assert result.values.iloc[0] == result.values.iloc[1]


@pytest.mark.parametrize(
    ("one_address", "another"),
    [
        ("12 Main St", "21 Main St"),
        ("12 Main St Unit 4B", "12 Main St Unit 4C"),
        ("12 Main St Apt 4", "12 Main St Apt 14"),
        ("12 Main St", "12 Main Ave"),
        ("12 North St", "12 South St"),
        ("Springfield IL 62704", "Springfield IL 62705"),
        ("10 Downing St SW1A 2AA", "10 Downing St SW1A 2AB"),
    ],
)
def test_different_addresses_stay_apart(one_address: str, another: str) -> None:
    result = normalise_address(pd.Series([one_address, another]))
    assert result.values.iloc[0] != result.values.iloc[1]


def test_address_key_reads_as_documented() -> None:
    value = "12 Main Street, Apt. #4B, Springfield, IL 62704-1234, U.S.A."
    assert key_of(normalise_address, value) == "12 main st unit 4b springfield 62704"


def test_uk_postcodes_are_upper_case_with_one_space() -> None:
    assert key_of(normalise_address, "1 High St, Leeds ls11aa") == "1 high st leeds LS1 1AA"


@pytest.mark.parametrize("value", ["---", "...", "?!", "\u2014 \u2022 \u2014"])
def test_address_without_letters_or_digits_is_an_error(value: str) -> None:
    result = one(normalise_address, value)
    assert result.values.isna().all()
    assert result.errors.iloc[0] == "not an address: no letters or digits"


def test_addresses_in_other_scripts_keep_their_letters() -> None:
    assert key_of(normalise_address, "東京都千代田区 1-1") == "東京都千代田区 1 1"


# --- payment instruments --------------------------------------------------------------------

VISA = "4111111111111111"


def test_card_fingerprint_ignores_spaces_and_dashes() -> None:
    spellings = [VISA, "4111 1111 1111 1111", "4111-1111-1111-1111", " 4111 1111-1111 1111 "]
    result = fingerprint_card(pd.Series(spellings), key=KEY)
    assert result.values.nunique() == 1
    assert re.fullmatch("pi_[0-9a-f]{20}", result.values.iloc[0])


def test_card_fingerprint_depends_on_the_key() -> None:
    assert key_of(fingerprint_card, VISA, key="one") != key_of(fingerprint_card, VISA, key="two")


def test_card_fingerprint_is_stable_across_runs() -> None:
    assert key_of(fingerprint_card, VISA, key="secret") == "pi_d6c005134ac50dec0e01"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("4111111111111112", "card number fails the Luhn check"),
        ("4111 1111 111", "not a card number: needs 12 to 19 digits"),
        ("4" * 20, "not a card number: needs 12 to 19 digits"),
        (
            "4111.1111.1111.1111",
            "not a card number: characters other than digits, spaces and dashes",
        ),
        ("pi_xyz", "not a card number: characters other than digits, spaces and dashes"),
    ],
)
def test_invalid_card_numbers_are_errors_with_a_reason(value: str, reason: str) -> None:
    result = one(fingerprint_card, value, key=KEY)
    assert result.values.isna().all()
    assert result.errors.iloc[0] == reason


@pytest.mark.parametrize(
    ("number", "display"),
    [
        (VISA, "visa \u2022\u20221111"),
        ("5555555555554444", "mastercard \u2022\u20224444"),
        ("2223003122003222", "mastercard \u2022\u20223222"),
        ("378282246310005", "amex \u2022\u20220005"),
        ("6011111111111117", "discover \u2022\u20221117"),
        ("6500000000000002", "discover \u2022\u20220002"),
        ("3530111333300000", "card \u2022\u20220000"),
    ],
)
def test_card_display_names_the_brand_and_last_four(number: str, display: str) -> None:
    result = one(fingerprint_card, number, key=KEY)
    assert result.display is not None
    assert result.display.iloc[0] == display


@pytest.mark.parametrize(
    "number", [VISA, "4111111111111112", "4111 1111 1111 1111", "378282246310005"]
)
def test_a_raw_card_number_appears_in_no_output(number: str) -> None:
    result = one(fingerprint_card, number, key=KEY)
    assert result.display is not None
    for text in [*result.errors.dropna(), *result.display.dropna()]:
        assert re.search("[0-9]{5}", text) is None
    for key in result.values.dropna():
        assert number.replace(" ", "") not in key


def test_existing_fingerprints_pass_through_unchanged() -> None:
    fingerprint = key_of(fingerprint_card, VISA, key=KEY)
    result = one(fingerprint_card, fingerprint, key="another-key")
    assert result.values.iloc[0] == fingerprint
    assert pd.isna(result.errors.iloc[0])


def test_empty_fingerprint_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fingerprint key"):
        fingerprint_card(pd.Series([VISA]), key="")


def test_only_payment_instruments_have_a_display() -> None:
    assert normalise("PaymentInstrument", pd.Series([VISA]), OPTIONS).display is not None
    assert normalise("Email", pd.Series(["a@b.co"]), OPTIONS).display is None


# --- IP -------------------------------------------------------------------------------------


def test_ipv4_leading_zeros_are_dropped() -> None:
    assert key_of(normalise_ip, " 010.000.001.009 ") == "10.0.1.9"


def test_ipv4_mapped_ipv6_becomes_ipv4() -> None:
    assert key_of(normalise_ip, "::FFFF:192.0.2.1") == "192.0.2.1"


def test_ipv6_is_compressed_and_lower_case() -> None:
    assert key_of(normalise_ip, "2001:0DB8:0000:0000:0000:0000:0000:0001") == "2001:db8::1"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1.2.3.256", "not an IP address: a part above 255"),
        ("1.2.3", "not an IP address"),
        ("1.2.3.4.5", "not an IP address"),
        ("1.2.3.4:8080", "not an IP address"),
        ("2001:db8::1::2", "not an IP address"),
        ("localhost", "not an IP address"),
    ],
)
def test_invalid_ips_are_errors_with_a_reason(value: str, reason: str) -> None:
    result = one(normalise_ip, value)
    assert result.values.isna().all()
    assert result.errors.iloc[0] == reason


# --- idempotence ----------------------------------------------------------------------------


def _idempotent(function: Normaliser, values: list[str]) -> None:
    once = function(pd.Series(values)).values.dropna()
    twice = function(once).values
    assert twice.tolist() == once.tolist()


@given(st.lists(st.emails(), min_size=1, max_size=20))
def test_email_normalisation_is_idempotent(values: list[str]) -> None:
    _idempotent(normalise_email, values)


_ADDRESS_WORDS = st.sampled_from(
    [
        *("12", "4b", "#4b", "apt.", "Suite", "Street", "St.", "saint", "AVENUE", "north", "first"),
        *("one", "P.O.", "Box", "SW1A", "1AA", "sw1a1aa", "62704-1234", "United", "States", "u.s."),
        *("UK", "great", "britain", "Málaga", "Straße", "4-B", "unit", "St-John's", ",", "\n"),
        *("IL", "62704", "U.S.", "USA"),
    ]
)


@settings(deadline=None, derandomize=True)
@given(st.lists(st.lists(_ADDRESS_WORDS, max_size=12).map(" ".join), min_size=1, max_size=20))
def test_address_normalisation_is_idempotent(values: list[str]) -> None:
    _idempotent(normalise_address, values)


@settings(deadline=None, derandomize=True)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=20))
def test_address_normalisation_is_idempotent_on_any_text(values: list[str]) -> None:
    _idempotent(normalise_address, values)


@given(st.lists(st.ip_addresses().map(str), min_size=1, max_size=20))
def test_ip_normalisation_is_idempotent(values: list[str]) -> None:
    _idempotent(normalise_ip, values)


@given(st.lists(st.ip_addresses(v=6).map(lambda address: address.exploded.upper()), max_size=20))
def test_ipv6_keys_match_the_standard_library(values: list[str]) -> None:
    expected = []
    for value in values:
        address = ipaddress.IPv6Address(value)
        mapped = address.ipv4_mapped
        expected.append(str(mapped) if mapped is not None else address.compressed)
    assert normalise_ip(pd.Series(values, dtype="object")).values.tolist() == expected


def test_us_state_and_country_around_the_zip_do_not_split_an_address() -> None:
    spellings = [
        "12 Oak Street Apt 4B, Springfield 62704",
        "12 oak st. #4b springfield 62704-1234",
        "12 Oak St, Unit 4B, Springfield, IL 62704, USA",
        "12 OAK ST APT 4B SPRINGFIELD IL 62704",
    ]
    assert set(keys(normalise_address(pd.Series(spellings)))) == {
        "12 oak st unit 4b springfield 62704"
    }


# --- a few values at a time -----------------------------------------------------------------

#: Good and bad values of each kind; the card and phone rules take another path for a few.
FEW_AND_MANY = {
    "PaymentInstrument": [
        VISA, "4111-1111-1111-1112", "5500 0000 0000 0004", "pi_0123456789abcdef0123", "41x1", "",
    ],
    "Phone": [
        "(415) 555-0123", "+1 415.555.0123 ext. 9", "0044 20 7946 0958", "12", "123-456-7890",
        "tel:+44 20 7946 0958", "+999 1234", "555-0123",
    ],
    "Email": ["J.Doe+promo@GoogleMail.com", "jdoe.example.com", "a@b"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("PaymentInstrument", OPTIONS),
        ("PaymentInstrument", NormaliseOptions("k" * 100, payment_format="token")),
        ("Phone", NormaliseOptions(KEY, region="GB")),
        ("Email", OPTIONS),
    ],
    ids=["cards", "tokens-long-key", "phones", "emails"],
)
def test_a_few_values_normalise_as_a_batch_does(kind: str, options: NormaliseOptions) -> None:
    values = FEW_AND_MANY[kind]
    # Enough rows that the batch takes the vectorised path (DuckDB's HMAC, Arrow rules).
    batch = normalise(kind, pd.Series(values * 100, dtype=object), options)
    for row, value in enumerate(values):
        alone = normalise(kind, pd.Series([value], dtype=object), options)
        for part in ("values", "errors", "display"):
            many, few = getattr(batch, part), getattr(alone, part)
            if many is not None:
                assert few.fillna("").iloc[0] == many.fillna("").iloc[row], (part, value)
