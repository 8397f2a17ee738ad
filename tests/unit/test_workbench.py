"""The workbench's pure logic: reading the index filters, grouping a ring's members, the
timeline, and the form tokens."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from starlette.requests import Request

from api.csrf import SESSION_COOKIE, CsrfGuard
from api.workbench import GROUP, IndexQuery, grouped_network, timeline
from graphfraud.model import TYPOLOGIES, Ring, RingFilter, RingMember, RingStatus, ring_index
from graphfraud.network import HUB, SHARED, RingNetwork

# -- index filters -------------------------------------------------------------------------


def test_good_filters_become_the_ring_filter_and_page() -> None:
    query = IndexQuery.read(
        {"typology": "device_farm", "status": "confirmed", "min_size": "5", "sort": "size",
         "order": "asc", "offset": "50", "limit": "25", "detected_since": "2026-03-01"},
        typologies=TYPOLOGIES,
    )  # fmt: skip
    assert query.errors == []
    assert query.filter == RingFilter(
        typology="device_farm",
        status=RingStatus.CONFIRMED,
        min_size=5,
        detected_since=datetime(2026, 3, 1),
    )
    assert (query.page.offset, query.page.limit, query.page.sort) == (50, 25, "size")
    assert query.page.descending is False
    # Links to other pages add their own offset.
    assert "offset" not in query.given


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("typology", "device_farms", "not one of"),
        ("status", "closed", "not one of"),
        ("min_score", "high", "not a number"),
        ("max_size", "2.5", "not a whole number"),
        ("limit", "0", "between 1 and 500"),
        ("detected_since", "last tuesday", "not a date"),
        ("sort", "members", "not one of"),
    ],
)
def test_a_bad_filter_is_left_out_and_explained(name: str, text: str, why: str) -> None:
    query = IndexQuery.read({name: text, "min_size": "3"}, typologies=TYPOLOGIES)
    (error,) = query.errors
    assert error.startswith(f"{name.replace('_', ' ')} {text!r} was ignored")
    assert why in error
    assert name not in query.given
    assert query.filter.min_size == 3


def test_blank_filters_are_no_filters() -> None:
    query = IndexQuery.read({"typology": "", "status": "  ", "assignee": None}, typologies=[])
    assert query.filter == RingFilter()
    assert query.errors == []


def test_rings_first_detected_since_a_date() -> None:
    rings = [
        Ring("R-old", 1.0, "device_farm", [RingMember("a")], first_detected=datetime(2026, 1, 5)),
        Ring("R-new", 1.0, "device_farm", [RingMember("b")], first_detected=datetime(2026, 4, 5)),
    ]
    index = ring_index(rings)
    picked = RingFilter(detected_since=datetime(2026, 3, 1)).select(index)
    assert list(np.asarray(index["ring_id"])[picked]) == ["R-new"]


# -- grouped view and timeline -------------------------------------------------------------


def _network() -> RingNetwork:
    """Six members: four on device d1 (two of them also on card c1), two only on card c1;
    m1 pays m5."""
    members = [f"m{i}" for i in range(1, 7)]
    created = pd.to_datetime([f"2026-01-0{i} 10:00" for i in range(1, 7)])
    nodes = pd.DataFrame(
        {
            "kind": ["Account"] * 6 + ["Device", "PaymentInstrument", "IP"],
            "key": [*members, "d1", "c1", "ip1"],
            "display": [None] * 7 + ["card ••4242", None],
            "created_at": [*created, pd.NaT, pd.NaT, pd.NaT],
            "label": [None, "fraud", None, None, None, None, None, None, None],
            "attributes": None,
        }
    )
    nodes["id"] = nodes["kind"] + ":" + nodes["key"]
    nodes["in_ring"] = [True] * 6 + [False] * 3
    nodes["role"] = ["member"] * 6 + [SHARED, SHARED, HUB]
    nodes["members"] = [1] * 6 + [4, 4, 2]
    nodes["accounts"] = pd.array([pd.NA] * 6 + [4, 4, 900], dtype="Int64")
    nodes["centrality"] = [1 / 6] * 6 + [4 / 6, 4 / 6, 2 / 6]
    uses = [
        *[(m, "Device", "d1") for m in ("m1", "m2", "m3", "m4")],
        *[(m, "PaymentInstrument", "c1") for m in ("m3", "m4", "m5", "m6")],
        *[(m, "IP", "ip1") for m in ("m5", "m6")],
    ]
    first = pd.Timestamp("2026-02-01")
    edges = pd.DataFrame(
        {
            "src_kind": "Account",
            "src_key": [u[0] for u in uses] + ["m1"],
            "kind": ["USES"] * len(uses) + ["TRANSACTS_WITH"],
            "dst_kind": [u[1] for u in uses] + ["Account"],
            "dst_key": [u[2] for u in uses] + ["m5"],
            "first_seen": [first + pd.Timedelta(days=i) for i in range(len(uses) + 1)],
            "last_seen": [first + pd.Timedelta(days=30)] * (len(uses) + 1),
            "count": 1,
            "amount": [np.nan] * len(uses) + [500.0],
        }
    )
    ring = Ring("R-1", 3.0, "device_farm", [RingMember(m) for m in members])
    return RingNetwork(ring, nodes, edges, len(nodes))


def test_members_join_the_group_of_their_device_before_their_card() -> None:
    grouped = grouped_network(_network())
    groups = grouped.nodes[grouped.nodes["kind"] == GROUP]
    by_size = {tuple(g): n for g, n in zip(groups["grouped"], groups["members"], strict=True)}
    assert by_size == {("m1", "m2", "m3", "m4"): 4, ("m5", "m6"): 2}
    assert groups["key"].iloc[0] == "4 accounts\non Device d1"
    assert groups["key"].iloc[1] == "2 accounts\non PaymentInstrument card ••4242"
    assert groups["label"].iloc[0] == "1 known bad"
    # Identifiers stay; no member is drawn by itself.
    assert set(grouped.nodes.loc[grouped.nodes["kind"] != GROUP, "key"]) == {"d1", "c1", "ip1"}


def test_group_links_count_the_members_using_each_identifier_and_fold_money() -> None:
    edges = grouped_network(_network()).edges
    links = {
        (s, k, d): c
        for s, k, d, c in zip(
            edges["src_key"], edges["kind"], edges["dst_key"], edges["count"], strict=True
        )
    }
    assert links == {
        ("1", "USES", "d1"): 4,
        ("1", "USES", "c1"): 2,
        ("2", "USES", "c1"): 2,
        ("2", "USES", "ip1"): 2,
        ("1", "TRANSACTS_WITH", "2"): 1,
    }
    money = edges[edges["kind"] == "TRANSACTS_WITH"]
    assert money["amount"].tolist() == [500.0]


def test_timeline_holds_creations_and_first_uses_in_time_order() -> None:
    events = timeline(_network())
    assert [e.time for e in events] == sorted(e.time for e in events)
    created = [e.node for e in events if e.text.endswith("created")]
    assert created == [f"Account:m{i}" for i in range(1, 7)]
    first_use = {e.node: e.time for e in events if e.text.endswith("first used")}
    assert first_use == {
        "Device:d1": pd.Timestamp("2026-02-01"),
        "PaymentInstrument:c1": pd.Timestamp("2026-02-05"),
        "IP:ip1": pd.Timestamp("2026-02-09"),
    }


# -- form tokens ---------------------------------------------------------------------------


def _request(session: str | None) -> Request:
    headers = [(b"cookie", f"{SESSION_COOKIE}={session}".encode())] if session else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


def test_a_token_is_accepted_for_its_session_and_key() -> None:
    guard = CsrfGuard(b"secret")
    guard.check(_request("s1"), guard.token("s1", "key-1"), "key-1")


@pytest.mark.parametrize(
    ("cookie", "key", "why"),
    [
        ("s2", "key-1", "another session or key"),
        ("s1", "key-2", "another session or key"),
        (None, "key-1", "without its session"),
    ],
)
def test_a_token_is_refused_elsewhere(cookie: str | None, key: str, why: str) -> None:
    from fastapi import HTTPException

    guard = CsrfGuard(b"secret")
    with pytest.raises(HTTPException) as refused:
        guard.check(_request(cookie), guard.token("s1", "key-1"), key)
    assert refused.value.status_code == 403
    assert why in str(refused.value.detail)


def test_a_token_signed_by_another_app_is_refused() -> None:
    from fastapi import HTTPException

    with pytest.raises(HTTPException, match="not valid"):
        CsrfGuard(b"secret").check(_request("s1"), CsrfGuard(b"other").token("s1", "k"), "k")


# -- drawing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "role", "accounts", "dashed"),
    [
        ("IP", "hub", 12, True),  # detection's own hub
        ("IP", "outside", 4560, True),  # outside the ring, but thousands use it
        ("IP", "outside", 3, False),
        ("Device", "shared", None, False),
        ("Account", "outside", 5000, False),
    ],
)
def test_hubs_are_drawn_dashed_wherever_they_appear(
    kind: str, role: str, accounts: int | None, dashed: bool
) -> None:
    from collections import namedtuple

    from api.views import drawn_as_hub

    row = namedtuple("row", "kind role accounts")(
        kind, role, pd.NA if accounts is None else accounts
    )
    assert drawn_as_hub(row) is dashed
