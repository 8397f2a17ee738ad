"""The driver-side pieces of the Spark projection decide as the single-machine code does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from algorithms.hubs import kind_fences
from algorithms.spark_projection import _cycle_flows, _fences
from graphfraud.settings import DetectionSettings


def test_fences_from_a_histogram_equal_the_fences_over_every_thing() -> None:
    settings = DetectionSettings(hub_min_accounts=3)
    kinds = np.array(["Device"] * 6 + ["IP"] * 5, dtype=object)
    users = np.array([1, 1, 2, 2, 3, 40, 1, 5, 5, 9, 700])
    histogram = (
        pd.DataFrame({"kind": kinds, "users": users}).value_counts().rename("count").reset_index()
    )
    expected = kind_fences(kinds, users, settings)
    fences = _fences(histogram, settings)
    assert fences == {"Device": expected[0], "IP": expected[-1]}
    assert fences["Device"] != fences["IP"]


def test_only_transfers_round_a_cycle_of_three_or_more_accounts_are_cycle_flows() -> None:
    flows = pd.DataFrame(
        {
            # 10 → 20 → 30 → 10 is a cycle of three; 40 ⇄ 50 only a pair; 30 → 60 leads out.
            "src": [10, 20, 30, 40, 50, 30],
            "dst": [20, 30, 10, 50, 40, 60],
        }
    )
    cycles = _cycle_flows(flows)
    assert set(map(tuple, cycles[["src", "dst"]].to_numpy().tolist())) == {
        (10, 20),
        (20, 30),
        (30, 10),
    }
