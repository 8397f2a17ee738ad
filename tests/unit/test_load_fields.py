"""Reading the fields of a row: times, amounts, labels, typed attributes, templates, masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import fields
from loaders.load import CARD_NUMBER, mask_card_numbers
from loaders.mapping import AttributeType, Value


def text(*cells: str) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(cells, pa.string())])


def problems(found: fields.Problems) -> dict[str, list[int]]:
    return {reason: positions.tolist() for positions, reason in found if len(positions)}


def test_times_read_iso_8601_as_utc() -> None:
    stamps, found = fields.times(
        text("2026-03-04T10:22:13Z", "2026-03-04T17:22:13+07:00", " 2026-03-04T10:22:13Z ", "")
    )
    assert stamps[:3].tolist() == [np.datetime64("2026-03-04T10:22:13", "us")] * 3
    assert np.isnat(stamps[3])
    assert problems(found) == {}


def test_times_without_an_offset_are_utc_and_the_rest_are_problems() -> None:
    stamps, found = fields.times(text("2026-03-04 10:22:13", "2026-03-04", "yesterday", ""))
    assert stamps[:2].tolist() == [
        np.datetime64("2026-03-04T10:22:13", "us"),
        np.datetime64("2026-03-04T00:00:00", "us"),
    ]
    assert problems(found) == {fields.TIME_PROBLEM: [2]}


def test_amounts_refuse_what_is_not_a_finite_number() -> None:
    numbers, found = fields.amounts(text("12.5", " 3 ", "", "abc", "1e309", "-inf", "nan"))
    assert numbers[:2].tolist() == [12.5, 3.0]
    assert np.isnan(numbers[2:]).all()
    assert problems(found) == {"not a number": [3, 6], "not a finite number": [4, 5]}


def test_labels_read_flags_and_keep_text() -> None:
    found = fields.labels(text("1", "yes", "0", "", "chargeback", "FALSE"))
    assert found.to_pylist() == ["known_bad", "known_bad", None, None, "chargeback", None]


@pytest.mark.parametrize(
    ("kind", "cells", "values", "bad"),
    [
        (AttributeType.TEXT, ["ID", " Viet Nam ", ""], ['"ID"', '"Viet Nam"', None], []),
        (AttributeType.INTEGER, ["2", "+3", "007", "2.0", "-", "9" * 19], ["2", "3", "7"],
         [3, 4, 5]),
        (AttributeType.NUMBER, ["2", "0.5", "1e309"], ["2.0", "0.5", None], [2]),
        (AttributeType.BOOLEAN, ["Yes", "f", "maybe"], ["true", "false", None], [2]),
        (
            AttributeType.TIMESTAMP,
            ["2026-02-10T08:00:00.5+07:00", "2026-02-10", "soon"],
            ['"2026-02-10T01:00:00.500000Z"', '"2026-02-10T00:00:00Z"', None],
            [2],
        ),
    ],
)  # fmt: skip
def test_attributes_become_json_values_of_their_type(
    kind: AttributeType, cells: list[str], values: list[str | None], bad: list[int]
) -> None:
    found, trouble = fields.attribute(text(*cells), kind)
    assert found.to_pylist()[: len(values)] == values
    assert [p for positions, _ in trouble for p in positions.tolist()] == bad


def test_a_template_fills_its_columns_and_is_empty_where_one_is() -> None:
    data = pa.table({"vendor": ["acme", "acme", ""], "id": ["7", " 8 ", "9"]})
    built = fields.template(data, Value(template="dev-{vendor}/{id}"))
    assert built.to_pylist() == ["dev-acme/7", "dev-acme/8", ""]


def test_a_plain_column_is_its_own_value() -> None:
    data = pa.table({"device": ["a", "b"]})
    assert fields.template(data, Value(column="device")).to_pylist() == ["a", "b"]


def test_card_numbers_are_cut_to_their_last_four_digits() -> None:
    shown = mask_card_numbers('{"card": "4111 1111 1111 1111", "other": "4111-1111-1111-1111"}')
    assert shown == '{"card": "••1111", "other": "••1111"}'
    assert mask_card_numbers("order 12345, phone 555-0123") == "order 12345, phone 555-0123"


@settings(derandomize=True, deadline=None)
@given(st.text(alphabet="0123456789 -ab", max_size=60))
def test_no_card_number_survives_a_mask(raw: str) -> None:
    assert CARD_NUMBER.search(mask_card_numbers(raw)) is None


def test_one_impossible_time_leaves_the_rest_of_a_long_column_to_arrow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = [f"2026-03-04T10:{minute % 60:02d}:13Z" for minute in range(5000)]
    given = [*good[:2500], "2025-02-30T10:00:00Z", *good[2500:], "2026-13-01T00:00:00+07:00"]
    to_pandas: list[int] = []
    read = pd.to_datetime

    def counted(series: pd.Series, **options: object) -> pd.Series:
        to_pandas.append(len(series))
        return read(series, **options)  # type: ignore[call-overload]

    monkeypatch.setattr(fields.pd, "to_datetime", counted)
    stamps, found = fields.times(text(*given))
    # Only the small pieces around the two impossible times went to pandas.
    assert sum(to_pandas) <= 2 * fields._PIECE
    assert found[0][0].tolist() == [2500, 5001]
    expected = read(pd.Series(good), utc=True).dt.tz_convert(None)
    kept = np.delete(stamps, [2500, 5001])
    assert (kept == expected.to_numpy().astype("datetime64[us]")).all()
