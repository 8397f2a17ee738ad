"""The hub calls an incremental re-detection keeps, and how it calls a new hub locally."""

from __future__ import annotations

import numpy as np
import pandas as pd

from algorithms.incremental import Baseline

COHESION = 0.4


def _baseline() -> Baseline:
    things = pd.DataFrame(
        {
            "group_accounts": [5, 50, 400],
            "fence": [10.0, 10.0, 10.0],
            "cohesion": [np.nan, 0.9, 0.01],
            "hub": [False, False, True],
        },
        index=pd.Index(["Device:small", "Device:farm", "IpAddress:cafe"]),
    )
    accounts = pd.DataFrame(
        {"group_accounts": [900], "fence": [40.0], "cohesion": [0.0], "hub": [True]},
        index=pd.Index(["SELLER"]),
    )
    return Baseline(
        run_id="r1", things=things, accounts=accounts, fences={"Device": 10.0, "IpAddress": 25.0},
        kind_users=pd.DataFrame({"kind": [], "accounts": [], "things": []}), reference=1.0,
    )  # fmt: skip


def _judge(keys: list[str], users: list[int]) -> pd.DataFrame:
    kinds, names = zip(*(key.split(":") for key in keys), strict=True)
    identifiers = pd.DataFrame(
        {"kind": list(kinds), "key": list(names), "link": "USES_DEVICE", "accounts": users}
    )
    judged, _ = _baseline().judge(identifiers, pd.Index(["A1"]), hub_cohesion=COHESION)
    return judged.set_index(pd.Index(keys))


def test_a_thing_whose_users_pass_its_fence_becomes_a_hub_at_once() -> None:
    judged = _judge(["Device:small"], [12])
    assert judged.loc["Device:small", "hub"]
    assert judged.loc["Device:small", "group_accounts"] == 12


def test_a_thing_the_whole_graph_found_cohesive_stays_usable_as_it_grows() -> None:
    judged = _judge(["Device:farm"], [60])
    assert not judged.loc["Device:farm", "hub"]


def test_a_hub_stays_a_hub_even_when_few_of_its_users_were_read() -> None:
    judged = _judge(["IpAddress:cafe"], [3])
    assert judged.loc["IpAddress:cafe", "hub"]
    assert judged.loc["IpAddress:cafe", "group_accounts"] == 400


def test_a_new_thing_is_judged_against_its_kinds_fence() -> None:
    judged = _judge(["IpAddress:new-a", "IpAddress:new-b", "Widget:x"], [20, 30, 1000])
    assert judged["hub"].tolist() == [False, True, False]


def test_accounts_keep_their_call() -> None:
    identifiers = pd.DataFrame({"kind": [], "key": [], "link": [], "accounts": []})
    _, accounts = _baseline().judge(identifiers, pd.Index(["A1", "SELLER"]), hub_cohesion=COHESION)
    assert accounts["hub"].tolist() == [False, True]
