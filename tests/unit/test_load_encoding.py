"""Normalising each distinct value of a load once and numbering its keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import loaders.encoding
from loaders.encoding import Encoded, Encoder, KeyBook, Request
from loaders.normalise import Normalised, NormaliseOptions, normalise


def column(*cells: str) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(cells, pa.string())])


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Every call the encoder makes to the normalisers, with the values it passes."""
    made: list[tuple[str, list[str]]] = []

    def counted(kind: str, values: pd.Series, options: NormaliseOptions) -> Normalised:
        made.append((kind, values.tolist()))
        return normalise(kind, values, options)

    monkeypatch.setattr(loaders.encoding, "normalise", counted)
    return made


def encoder() -> Encoder:
    return Encoder(KeyBook(), NormaliseOptions(fingerprint_key="k" * 32))


def encode(
    encoding: Encoder, kind: str, *cells: str, region: str | pa.ChunkedArray = "US"
) -> Encoded:
    (found,) = encoding.encode([Request(kind, column(*cells), region)])
    return found


def test_each_distinct_value_is_normalised_once_across_columns(
    calls: list[tuple[str, list[str]]],
) -> None:
    encoding = encoder()
    first = encode(encoding, "Email", "a@x.org", "A@x.org", "a@x.org")
    second = encode(encoding, "Email", "a@x.org", "b@x.org")
    assert [values for _, values in calls] == [["a@x.org", "A@x.org"], ["b@x.org"]]
    assert first.codes.tolist() == [0, 0, 0]
    assert second.codes.tolist() == [0, 1]


def test_a_column_of_an_empty_table_encodes_to_nothing() -> None:
    # A P2P export has a creators table with its header only.
    found = encode(encoder(), "Creator")
    assert (found.codes.tolist(), found.errors.tolist()) == ([], [])


def test_columns_encoded_together_share_one_call_per_kind(
    calls: list[tuple[str, list[str]]],
) -> None:
    first, second, device = encoder().encode(
        [
            Request("Email", column("a@x.org", "b@x.org"), "US"),
            Request("Email", column("b@x.org", "c@x.org"), "US"),
            Request("Device", column("d1"), "US"),
        ]
    )
    assert sorted(calls) == [("Device", ["d1"]), ("Email", ["a@x.org", "b@x.org", "c@x.org"])]
    assert (first.codes.tolist(), second.codes.tolist()) == ([0, 1], [1, 2])
    assert device.codes.tolist() == [3]


def test_a_long_column_is_normalised_in_pieces_numbered_in_order(
    calls: list[tuple[str, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Encoder, "CHUNK", 2)
    found = encode(encoder(), "Device", "d1", "d2", "d3", "d1", "d4", "d5")
    assert sorted(len(values) for _, values in calls) == [1, 2, 2]
    assert found.codes.tolist() == [0, 1, 2, 0, 3, 4]


def test_a_regional_value_is_normalised_once_per_region(
    calls: list[tuple[str, list[str]]],
) -> None:
    encoding = encoder()
    regions = column("ID", "MY", "ID", "ID")
    found = encode(
        encoding, "Phone", "0812-3456-7890", "012-345 6789", "0812-3456-7890",
        "+62 812 3456 7890", region=regions,
    )  # fmt: skip
    assert len(calls) == 1
    assert sorted(calls[0][1]) == ["+62 812 3456 7890", "012-345 6789", "0812-3456-7890"]
    assert found.codes.tolist() == [0, 1, 0, 0]


def test_invalid_values_have_no_code_and_a_reason() -> None:
    found = encode(encoder(), "Email", "ok@x.org", "nope", "", "nope")
    assert found.codes.tolist() == [0, -1, -1, -1]
    assert found.errors.tolist() == [1, 3]
    assert found.reasons.tolist() == ["not an email address: no '@'"] * 2


def test_keys_are_numbered_across_kinds_and_spelled_out() -> None:
    book = KeyBook()
    emails = book.number("Email", pa.array(["a@x.org", None, "b@x.org", "a@x.org"]))
    devices = book.number("Device", pa.array(["d1"]), display=pa.array(["phone d1"]))
    assert emails.tolist() == [0, -1, 1, 0]
    assert devices.tolist() == [2]
    kind_of, text, display = book.spelled()
    assert [book.kinds[k] for k in kind_of] == ["Email", "Email", "Device"]
    assert text.to_pylist() == ["a@x.org", "b@x.org", "d1"]
    assert display.to_pylist() == [None, None, "phone d1"]


@settings(derandomize=True, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", None]), max_size=8), max_size=5))
def test_a_key_keeps_its_code_whenever_it_is_met_again(batches: list[list[str | None]]) -> None:
    book = KeyBook()
    seen: dict[str, int] = {}
    for batch in batches:
        codes = book.number("Device", pa.array(batch, pa.string()))
        for key, code in zip(batch, codes.tolist(), strict=True):
            if key is None:
                assert code == -1
            else:
                assert seen.setdefault(key, code) == code
    assert sorted(seen.values()) == list(range(len(seen)))
    assert book.size == len(seen) == len(np.unique(list(seen.values())))
