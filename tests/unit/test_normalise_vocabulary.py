"""Locale vocabularies: built-in data files, the user's extensions, and bad files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graphfraud.errors import ConfigError
from loaders.normalise import (
    DEFAULT_VOCABULARY,
    NormaliseOptions,
    load_vocabulary,
    normalise,
    normalise_address,
)


def vocabulary_file(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_built_in_vocabulary_covers_every_market() -> None:
    assert {"US", "GB", "ID", "MY", "TH", "VN", "PH", "SG"} <= set(DEFAULT_VOCABULARY.country_names)
    assert DEFAULT_VOCABULARY.order_free == {"ID", "MY", "TH", "VN", "PH", "SG"}
    assert all(source.startswith("built-in ") for source in DEFAULT_VOCABULARY.sources)


def test_entries_are_folded_as_values_are() -> None:
    # Written "Jl." and "Đường" in the files, matched as the folded words.
    assert DEFAULT_VOCABULARY.address_words["jalan"] == "jl"
    assert DEFAULT_VOCABULARY.regional_words["VN"]["q1"] == "quan 1"


def test_a_users_file_extends_a_region(tmp_path: Path) -> None:
    own = vocabulary_file(
        tmp_path, "locale: ID\naddress:\n  regional_words:\n    Jaktim: Jakarta Timur\n"
    )
    words = load_vocabulary([own])
    key = normalise_address(pd.Series(["Jl. Melati 5, Jaktim"]), region="ID", vocabulary=words)
    assert key.values.tolist() == ["jl melati 5 jakarta timur"]
    assert words.sources[-1] == str(own)


def test_a_users_file_overrides_a_built_in_word(tmp_path: Path) -> None:
    # Mapping a word to itself switches its rule off.
    own = vocabulary_file(tmp_path, "address:\n  words:\n    gang: gang\n    gg: gang\n")
    words = load_vocabulary([own])
    options = NormaliseOptions("k", region="ID", vocabulary=words)
    assert normalise("Address", pd.Series(["Gg. Mawar 3"]), options).values.tolist() == [
        "gang mawar 3"
    ]


def test_later_files_win(tmp_path: Path) -> None:
    first = vocabulary_file(tmp_path, "locale: ID\naddress: {postcode: '[0-9]{6}'}\n", "a.yaml")
    second = vocabulary_file(tmp_path, "locale: ID\naddress: {postcode: '[0-9]{5}'}\n", "b.yaml")
    assert load_vocabulary([first, second]).postcodes["ID"] == "[0-9]{5}"


def test_a_user_can_add_a_mailbox_provider(tmp_path: Path) -> None:
    own = vocabulary_file(tmp_path, "mailboxes:\n  - {domains: [ymail.co.id], tag: '+'}\n")
    options = NormaliseOptions("k", vocabulary=load_vocabulary([own]))
    result = normalise("Email", pd.Series(["budi+shop@ymail.co.id"]), options)
    assert result.values.tolist() == ["budi@ymail.co.id"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("address: {regional_words: {kota: ''}}", "address.regional_words need a 'locale'"),
        ("locale: Indonesia\n", "locale: a locale is an ISO 3166 alpha-2 code"),
        ("address: {wordz: {}}", "address.wordz: Extra inputs are not permitted"),
        ("locale: ID\naddress: {postcode: '[0-9'}", "address.postcode: not a regular"),
        ("mailboxes: [{domains: [a.com], tag: '++'}]", "tag: a tag is one character"),
        ("- just a list", "must be a mapping"),
        ("address: {words: {a: [b}", "is not valid YAML"),
        ("address: {words: {'...': x}}", "the word '...' has no letters or digits"),
    ],
)
def test_a_bad_file_is_a_config_error_naming_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    own = vocabulary_file(tmp_path, text)
    with pytest.raises(ConfigError, match=r"mine\.yaml") as raised:
        load_vocabulary([own])
    assert message in str(raised.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read vocabulary .*absent\.yaml"):
        load_vocabulary([tmp_path / "absent.yaml"])


def test_a_replacement_that_is_replaced_again_is_refused(tmp_path: Path) -> None:
    # "jl" would become "jalan", which the built-in words turn back into "jl": keys would flip.
    own = vocabulary_file(tmp_path, "address:\n  words:\n    jl: jalan\n")
    with pytest.raises(ConfigError, match="'jalan' becomes 'jl'") as raised:
        load_vocabulary([own])
    assert "keys would change when normalised again" in str(raised.value)
