"""Projection: accounts tied through shared identifiers, rarity-weighted, hub-capped."""

from __future__ import annotations

import numpy as np
import pandas as pd

from algorithms.projection import Projection, rarity
from algorithms.projection import project_accounts as _project_accounts
from graphfraud.settings import DetectionSettings
from tests.unit.planted_graphs import EPOCH, GraphBuilder, cafe, device_farm, money_cycle


def project_accounts(
    links: pd.DataFrame,
    *,
    accounts: pd.Index | None = None,
    settings: DetectionSettings | None = None,
) -> Projection:
    return _project_accounts(
        links, accounts=accounts, settings=settings or DetectionSettings(), engine="igraph"
    )


def _weight(projection, a: str, b: str) -> float:
    i, j = sorted(projection.accounts.get_indexer([a, b]))
    edges = projection.edges
    found = edges[(edges["a"] == i) & (edges["b"] == j)]
    return float(found["weight"].sum())


def _two_sharing(kind: str, link: str, *, extra_users: int = 0) -> GraphBuilder:
    g = GraphBuilder()
    for name in ["a", "b", *[f"x{i}" for i in range(extra_users)]]:
        g.account(name, created=EPOCH)
        g.use(name, kind, link, "shared")
    return g


def test_accounts_sharing_a_device_are_tied() -> None:
    g = _two_sharing("Device", "USES_DEVICE")
    assert _weight(project_accounts(g.links()), "a", "b") == 1.0


def test_accounts_without_anything_in_common_are_not_tied() -> None:
    g = GraphBuilder()
    for name in ("a", "b"):
        g.account(name, created=EPOCH)
        g.use(name, "Device", "USES_DEVICE", f"own-{name}")
    assert project_accounts(g.links()).edges.empty


def test_a_tie_weakens_as_more_accounts_share_the_identifier() -> None:
    few = _weight(project_accounts(_two_sharing("Device", "USES_DEVICE").links()), "a", "b")
    many_links = _two_sharing("Device", "USES_DEVICE", extra_users=14).links()
    many = _weight(project_accounts(many_links), "a", "b")
    assert 0 < many < few


def test_rarity_is_one_for_a_pair_and_falls_with_users() -> None:
    weights = rarity(np.array([2, 3, 10, 100]))
    assert weights[0] == 1.0
    assert np.all(np.diff(weights) < 0)


def test_link_kind_weights_scale_ties() -> None:
    settings = DetectionSettings(link_weights={"SHIPS_TO": 0.5})
    links = _two_sharing("Address", "SHIPS_TO").links()
    assert _weight(project_accounts(links, settings=settings), "a", "b") == 0.5


def test_a_thing_used_by_many_strangers_is_a_hub_and_ties_no_one() -> None:
    g = GraphBuilder()
    cafe(g, "C", 60)
    projection = project_accounts(g.links())
    assert projection.edges.empty
    hub = projection.hubs.iloc[0]
    assert (hub["kind"], hub["key"], hub["accounts"]) == ("IP", "C-ip", 60)
    assert hub["group_accounts"] > hub["fence"]
    assert hub["cohesion"] < 0.4


def test_a_thing_used_by_many_who_share_other_things_is_no_hub() -> None:
    g = GraphBuilder()
    farm = device_farm(g, "F", 30, devices=1)
    for i, member in enumerate(farm):  # and cards, three members to a card
        g.use(member, "PaymentInstrument", "PAYS_WITH", f"card{i // 3}")
    cafe(g, "C", 300)
    projection = project_accounts(g.links())
    assert "F-proxy" not in set(projection.hubs["key"])
    assert "C-ip" in set(projection.hubs["key"])


def test_a_place_written_several_ways_is_judged_by_its_combined_use() -> None:
    g = GraphBuilder()
    spellings = [
        "QuickBox Locker #100, 5 Elm St 19106",
        "Locker 100 (QuickBox), 5 Elm Street 19106",
    ]
    for i in range(80):
        g.account(f"a{i}", created=EPOCH)
        g.use(f"a{i}", "Address", "SHIPS_TO", spellings[i % 2])
        g.use(f"a{i}", "Address", "SHIPS_TO", f"{i} home 9{i:04d}")
    hubs = project_accounts(g.links(), settings=DetectionSettings(hub_min_accounts=50)).hubs
    assert set(hubs["key"]) == set(spellings)
    assert hubs["group_accounts"].tolist() == [80, 80]


def test_the_projection_does_not_depend_on_the_order_of_rows() -> None:
    g = GraphBuilder()
    device_farm(g, "F", 6)
    cafe(g, "C", 40)
    money_cycle(g, "M", 4)
    links = g.links()
    shuffled = links.sample(frac=1.0, random_state=3).reset_index(drop=True)
    first, second = project_accounts(links), project_accounts(shuffled)
    assert first.accounts.tolist() == second.accounts.tolist()
    pd.testing.assert_frame_equal(first.edges, second.edges)
    pd.testing.assert_frame_equal(first.identifiers, second.identifiers)
    pd.testing.assert_frame_equal(first.usage, second.usage)
    assert len(first.direct) > 0
    pd.testing.assert_frame_equal(first.direct, second.direct)


def test_direct_links_tie_accounts() -> None:
    g = GraphBuilder()
    for name in ("a", "b"):
        g.account(name, created=EPOCH)
    g.link("a", "REFERRED", "b")
    assert _weight(project_accounts(g.links()), "a", "b") > 0


def test_money_sent_round_a_cycle_weighs_more_than_a_one_way_payment() -> None:
    cycle = GraphBuilder()
    members = money_cycle(cycle, "M", 3)
    one_way = GraphBuilder()
    for name in members:
        one_way.account(name, created=EPOCH)
    one_way.link(members[0], "TRANSACTS_WITH", members[1])
    assert _weight(project_accounts(cycle.links()), members[0], members[1]) > _weight(
        project_accounts(one_way.links()), members[0], members[1]
    )


def test_an_account_whose_many_counterparties_are_strangers_is_a_hub() -> None:
    g = GraphBuilder()
    g.account("seller", created=EPOCH)
    for i in range(60):
        g.account(f"buyer{i}", created=EPOCH)
        g.link(f"buyer{i}", "TRANSACTS_WITH", "seller")
    projection = project_accounts(g.links())
    assert projection.edges.empty
    assert projection.hubs[["kind", "key", "accounts"]].values.tolist() == [
        ["Account", "seller", 60]
    ]


def test_accounts_are_numbered_in_key_order_and_accounts_without_links_are_nodes() -> None:
    g = GraphBuilder()
    device_farm(g, "F", 3)
    given = pd.Index(["lonely", "F2", "F0", "F1"])
    projection = project_accounts(g.links(), accounts=given)
    assert projection.accounts.tolist() == ["F0", "F1", "F2", "lonely"]


def test_usage_counts_each_account_once_per_identifier() -> None:
    g = GraphBuilder()
    g.account("owner", created=EPOCH)
    g.use("owner", "Creator", "OWNS", "shop")
    g.use("owner", "Creator", "BUYS_VIA", "shop")
    projection = project_accounts(g.links())
    assert len(projection.usage) == 1
    assert projection.identifiers["accounts"].tolist() == [1]
