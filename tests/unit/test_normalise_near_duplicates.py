"""Near-duplicate identifiers: typos merge, other places never, and every merge is explained."""

from __future__ import annotations

import pandas as pd
import pytest

from graphfraud.errors import ConfigError
from loaders.normalise import NEAR_DUPLICATE_COLUMNS, resolve_near_duplicates

PLACE = "jl sudirman 12 karet setiabudi jakarta selatan 12190 rt3 rw5"


def canonical_of(kind: str, keys: list[str], **options: object) -> dict[str, str]:
    found = resolve_near_duplicates(kind, pd.Series(keys), **options)  # type: ignore[arg-type]
    assert tuple(found.columns) == NEAR_DUPLICATE_COLUMNS
    return dict(zip(found["key"], found["canonical"], strict=True))


@pytest.mark.parametrize(
    "typed",
    [
        "jl sudirmn 12 karet setiabudi jakarta selatan 12190 rt3 rw5",  # a letter dropped
        "jl sudriman 12 karet setiabudi jakarta selatan 12190 rt3 rw5",  # letters swapped
        "jl sudirman 12 setiabudi karet jakarta selatan 12190 rt3 rw5",  # words swapped
        "jl sudirman 12 setiabudi jakarta selatan 12190 rt3 rw5",  # a word left out
    ],
)
def test_a_mistyped_key_joins_the_place_it_names(typed: str) -> None:
    found = canonical_of("Address", [PLACE, typed], counts=pd.Series([9, 1]))
    assert found == {PLACE: PLACE, typed: PLACE}


@pytest.mark.parametrize(
    "other",
    [
        PLACE.replace(" 12 ", " 21 "),
        PLACE.replace("12190", "12191"),
        PLACE.replace("rt3", "rt4"),
        "jl sudirman 12 karet setiabudi jakarta selatan 12190 unit 4b",
    ],
)
def test_keys_differing_in_a_number_never_merge(other: str) -> None:
    assert canonical_of("Address", [PLACE, other]) == {PLACE: PLACE, other: other}


def test_the_most_used_key_is_canonical_and_scores_explain_merges() -> None:
    typed = PLACE.replace("sudirman", "sudirmn")
    found = resolve_near_duplicates("Address", pd.Series([typed, PLACE, PLACE]),
                                    counts=pd.Series([1, 2, 2]))  # fmt: skip
    assert found["key"].tolist() == [typed, PLACE]
    assert found["canonical"].tolist() == [PLACE, PLACE]
    assert found["score"].iloc[1] == 1.0
    assert 0.9 < found["score"].iloc[0] < 1.0


def test_a_chain_of_small_differences_does_not_join_its_ends() -> None:
    keys = ["jl aaaa bbbb cccc 12", "jl aaaa bbbb cccx 12", "jl aaaa bbxx cccx 12",
            "jl aaxx bbxx cccx 12", "jl xxxx bbxx cccx 12"]  # fmt: skip
    found = resolve_near_duplicates("Address", pd.Series(keys), threshold=0.9)
    assert (found["score"] >= 0.9).all()
    assert found.set_index("key").loc[keys[-1], "canonical"] != keys[0]


def test_emails_merge_on_a_typo_in_the_same_mailbox_only() -> None:
    found = canonical_of(
        "Email",
        ["maria.lopez@gmail.com", "maria.lopze@gmail.com", "maria.lopez@yahoo.com",
         "maria.lopez7@gmail.com"],
        counts=pd.Series([5, 1, 1, 1]),
    )  # fmt: skip
    assert found["maria.lopze@gmail.com"] == "maria.lopez@gmail.com"
    assert found["maria.lopez@yahoo.com"] == "maria.lopez@yahoo.com"
    assert found["maria.lopez7@gmail.com"] == "maria.lopez7@gmail.com"


def test_missing_keys_are_left_out() -> None:
    found = resolve_near_duplicates("Name", pd.Series(["ahmad yani", None, "ahmad yani"]))
    assert found["key"].tolist() == ["ahmad yani"]


def test_an_unknown_kind_or_threshold_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not 'Phone'"):
        resolve_near_duplicates("Phone", pd.Series(["+6281234567890"]))
    with pytest.raises(ConfigError, match="between 0 and 1"):
        resolve_near_duplicates("Address", pd.Series([PLACE]), threshold=90)
