"""The walks of a risk check on the link graph's arrays: who is tied at one and two hops."""

from __future__ import annotations

import pandas as pd

from api.ties import TieGraph
from graphfraud.model import ENTITY_COLUMNS, LINK_COLUMNS, EntityRef
from graphfraud.store.cached import LinkIndex

#: (account, link kind, kind, key) of a small graph: A1 and A2 share device d1; A2 and A3
#: card c1; A3 and A4 the hub IP ip1; A2 referred A5; A1 and A6 share card c2, which A6 is
#: linked to by two kinds of link.
LINKS = [
    ("A1", "USES_DEVICE", "Device", "d1"),
    ("A2", "USES_DEVICE", "Device", "d1"),
    ("A2", "PAYS_WITH", "PaymentInstrument", "c1"),
    ("A3", "PAYS_WITH", "PaymentInstrument", "c1"),
    ("A3", "LOGS_IN_FROM", "IP", "ip1"),
    ("A4", "LOGS_IN_FROM", "IP", "ip1"),
    ("A2", "REFERRED", "Account", "A5"),
    ("A1", "PAYS_WITH", "PaymentInstrument", "c2"),
    ("A6", "PAYS_WITH", "PaymentInstrument", "c2"),
    ("A6", "USES_DEVICE", "PaymentInstrument", "c2"),
]
HUBS = {("IP", "ip1"): 5000}


def graph(hubs: dict[tuple[str, str], int] = HUBS) -> TieGraph:
    links = pd.DataFrame(
        [("Account", a, kind, dst_kind, dst) for a, kind, dst_kind, dst in LINKS],
        columns=list(LINK_COLUMNS[:5]),
    )
    for name in LINK_COLUMNS[5:]:
        links[name] = None
    ends = {(r.src_kind, r.src_key) for r in links.itertuples()}
    ends |= {(r.dst_kind, r.dst_key) for r in links.itertuples()}
    entities = pd.DataFrame(sorted(ends), columns=["kind", "key"])
    for name in ENTITY_COLUMNS[2:]:
        entities[name] = None
    return TieGraph.of(LinkIndex(entities, links), hubs, run_id="run-1")


def test_users_of_an_identifier_with_their_link_kind() -> None:
    found = graph().users([EntityRef("Device", "d1"), EntityRef("Email", "nobody")])
    assert found == {EntityRef("Device", "d1"): {"A1": "USES_DEVICE", "A2": "USES_DEVICE"}}


def test_of_several_link_kinds_to_one_identifier_the_last_in_kind_order_counts() -> None:
    found = graph().users([EntityRef("PaymentInstrument", "c2")])
    assert found[EntityRef("PaymentInstrument", "c2")]["A6"] == "USES_DEVICE"


def test_an_account_owns_its_things_and_its_direct_links_either_way() -> None:
    things, direct = graph().own("A5")
    assert things == {}
    assert direct == {"A2": "REFERRED"}
    things, direct = graph().own("A2")
    assert things == {
        EntityRef("Device", "d1"): "USES_DEVICE",
        EntityRef("PaymentInstrument", "c1"): "PAYS_WITH",
    }
    assert direct == {"A5": "REFERRED"}


def test_holds_only_accounts_in_the_graph() -> None:
    assert graph().holds("A4")
    assert not graph().holds("d1")
    assert not graph().holds("nobody")


def test_second_hop_goes_through_identifiers_and_direct_links_but_not_hubs() -> None:
    via, cut = graph().second_hop(["A2", "A3"], exclude={"A2", "A3", None}, most=10)
    assert via == {
        "A1": ("A2", ["Device:d1"]),
        "A5": ("A2", ["Account:A5"]),
    }
    assert not cut


def test_second_hop_through_a_hub_when_it_is_not_one() -> None:
    via, _ = graph(hubs={}).second_hop(["A3"], exclude={"A3", None}, most=10)
    assert via == {"A2": ("A3", ["PaymentInstrument:c1"]), "A4": ("A3", ["IP:ip1"])}


def test_second_hop_names_the_first_identifier_and_holder_of_an_account_reached_twice() -> None:
    # A1 is reached from A2 through d1 and from A6 through c2; Device sorts before
    # PaymentInstrument, so d1 it is, held by A2.
    via, _ = graph().second_hop(["A6", "A2"], exclude={"A6", "A2", None}, most=10)
    assert via["A1"] == ("A2", ["Device:d1"])


def test_second_hop_keeps_the_first_accounts_in_key_order_and_says_it_cut() -> None:
    via, cut = graph(hubs={}).second_hop(["A2", "A3"], exclude={None}, most=2)
    assert list(via) == ["A1", "A2"]
    assert cut


def test_second_hop_of_no_one_is_empty() -> None:
    assert graph().second_hop([], exclude={None}, most=10) == ({}, False)
