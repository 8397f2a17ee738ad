"""Risk by association: propagation from known-bad accounts, its reasons and its evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from algorithms.evaluation import components_rule, evaluate_risk
from algorithms.projection import project_accounts
from algorithms.risk import account_risk
from graphfraud.model import RISK_COLUMNS
from graphfraud.settings import DetectionSettings
from tests.unit.planted_graphs import EPOCH, GraphBuilder

SETTINGS = DetectionSettings()


def _graph() -> GraphBuilder:
    """bad shares a device with near, near a card with far; cafe shares only an IP with bad;
    loner shares nothing."""
    graph = GraphBuilder()
    for key in ("bad", "near", "far", "cafe", "loner"):
        graph.account(key, created=EPOCH, label="fraud" if key == "bad" else None)
    graph.use("bad", "Device", "USES_DEVICE", "d1")
    graph.use("near", "Device", "USES_DEVICE", "d1")
    graph.use("near", "PaymentInstrument", "PAYS_WITH", "c1")
    graph.use("far", "PaymentInstrument", "PAYS_WITH", "c1")
    graph.use("bad", "IP", "LOGS_IN_FROM", "1.2.3.4")
    graph.use("cafe", "IP", "LOGS_IN_FROM", "1.2.3.4")
    graph.use("loner", "Device", "USES_DEVICE", "d9")
    return graph


def _risk(graph: GraphBuilder) -> pd.DataFrame:
    accounts = graph.accounts()
    projection = project_accounts(
        graph.links(), accounts=pd.Index(accounts["key"]), settings=SETTINGS, engine="igraph"
    )
    labelled = accounts.set_index("key")["label"].reindex(projection.accounts).notna()
    return account_risk(projection, labelled.to_numpy(), settings=SETTINGS).set_index("account")


def test_risk_falls_with_distance_from_a_known_bad_account() -> None:
    risk = _risk(_graph())["risk"]
    assert risk["bad"] == 1.0
    assert risk["bad"] > risk["near"] > risk["far"] > 0.0
    assert risk["loner"] == 0.0


def test_a_lone_shared_ip_spreads_no_risk() -> None:
    assert _risk(_graph()).loc["cafe", "risk"] == 0.0


def test_each_account_keeps_its_path_to_the_nearest_known_bad_account() -> None:
    risk = _risk(_graph())
    assert list(risk.reset_index().columns) == list(RISK_COLUMNS)
    assert risk.loc["far", ["nearest", "hops", "via"]].tolist() == ["bad", 2, "near"]
    assert risk.loc["near", ["nearest", "hops", "via"]].tolist() == ["bad", 1, "bad"]
    assert risk.loc["bad", ["nearest", "hops"]].tolist() == ["bad", 0]
    assert risk.loc["loner", "nearest"] is None


def test_without_known_bad_accounts_no_one_is_at_risk() -> None:
    graph = _graph()
    graph.account("bad", created=EPOCH, label=None)
    risk = _risk(graph)
    assert (risk["risk"] == 0).all()
    assert risk["hops"].eq(-1).all()


def test_riskiest_accounts_come_first() -> None:
    risk = _risk(_graph())
    assert risk.index.tolist()[:3] == ["bad", "near", "far"]


def test_components_rule_ranks_components_by_their_share_of_known_bad_members() -> None:
    graph = GraphBuilder()
    for key in "abcdxyz":
        graph.account(key, created=EPOCH)
    for key in "abcd":  # one of four known-bad
        graph.use(key, "Device", "USES_DEVICE", "big")
    for key in "xy":  # one of two known-bad
        graph.use(key, "Device", "USES_DEVICE", "small")
    graph.use("z", "Device", "USES_DEVICE", "alone")
    assert components_rule(graph.links(), {"a", "x"}) == ["y", "b", "c", "d"]


def test_hiding_labels_scores_both_methods_on_the_same_hidden_accounts() -> None:
    graph = GraphBuilder()
    for ring in range(4):  # rings of six sharing a device and a card, two labelled each
        members = [f"r{ring}m{i}" for i in range(6)]
        for i, key in enumerate(members):
            graph.account(key, created=EPOCH, label="fraud" if i < 2 else None)
            graph.use(key, "Device", "USES_DEVICE", f"dev{ring}")
            graph.use(key, "PaymentInstrument", "PAYS_WITH", f"card{ring}")
    for key in range(30):
        graph.account(f"x{key}", created=EPOCH)
        graph.use(f"x{key}", "Device", "USES_DEVICE", f"own{key}")
    table = evaluate_risk(graph.links(), graph.accounts(), settings=SETTINGS, seed=1, k=10)
    assert table["hidden"].tolist() == [4, 4]
    assert table.loc["risk", "hits"] >= 1
    assert np.isclose(table.loc["risk", "precision_at_k"], table.loc["risk", "hits"] / 10)
