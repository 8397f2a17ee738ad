"""The risk model's lookups: what product checks ask of it on every request."""

from __future__ import annotations

import pandas as pd

from algorithms.risk import RiskModel
from graphfraud.model import HUB_COLUMNS, empty_frame


def model_of(accounts: list[str]) -> RiskModel:
    risk = pd.DataFrame(
        {
            "account": pd.Series(accounts, dtype="string[pyarrow]"),
            "risk": 0.5,
            "score": 1.0,
            "known_bad": False,
            "nearest": None,
            "hops": 0,
            "via": None,
        }
    )
    return RiskModel.of("run-1", risk, empty_frame(HUB_COLUMNS))


def test_positions_find_accounts_and_mark_strangers() -> None:
    model = model_of(["A2", "A1", "A3"])
    assert model.positions(["A1", "nobody", "A3", "A1"]).tolist() == [1, -1, 2, 1]
    assert model.positions([]).tolist() == []


def test_accounts_are_held_as_python_objects() -> None:
    # pandas would infer its string dtype, and looking a few keys up in such an index hashes
    # every account again (~90 ms at 100k accounts, on every risk check).
    model = model_of(["A2", "A1", "A3"])
    assert model.accounts.dtype == object
