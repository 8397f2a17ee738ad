"""Reasons for account risk, read back from a store: the path to the nearest known-bad account.

Detection keeps every account's risk with the next account on its way to the nearest known-bad
one (``via``, :data:`graphfraud.model.RISK_COLUMNS`). Here those rows become
:class:`~graphfraud.model.AccountRisk` records: the whole path, following ``via`` from row to
row, and what the account shares with the next account on it (hubs left out: they tie no one).
The CLI's ``graphfraud risk`` and the API's risk endpoints both answer with them.
"""

from __future__ import annotations

import pandas as pd

from graphfraud.errors import NotFound
from graphfraud.model import (
    ACCOUNT_LINKS,
    AccountRisk,
    EntityKind,
    EntityRef,
    RiskReason,
    RiskReasonKind,
)
from graphfraud.store.base import GraphStore


def explain_risk(
    store: GraphStore, rows: pd.DataFrame, *, hubs: set[EntityRef] | None = None
) -> list[AccountRisk]:
    """The risk rows given (``RISK_COLUMNS``, from :meth:`GraphStore.risk`), with reasons.

    Parameters
    ----------
    store
        The store the rows came from (paths and shared identifiers are read there).
    rows
        Risk rows, in the order wanted.
    hubs
        Hubs to leave out of what accounts share; default: the store's (:meth:`GraphStore.hubs`).

    Returns
    -------
    list[AccountRisk]
        One per row, in order.
    """
    if hubs is None:
        found = store.hubs()
        hubs = {EntityRef(k, v) for k, v in zip(found["kind"], found["key"], strict=True)}
    via = _vias(store, rows)
    accounts = [str(a) for a in rows["account"].tolist()]
    steps = [(a, str(via[a])) for a in accounts if via.get(a) is not None]
    shared = _shared(store, steps, hubs)
    out = []
    for account, risk, bad, nearest, hops in zip(
        accounts, rows["risk"].tolist(), rows["known_bad"].tolist(), rows["nearest"].tolist(),
        rows["hops"].tolist(), strict=True,
    ):  # fmt: skip
        reasons: tuple[RiskReason, ...] = ()
        if bad:
            reasons = (RiskReason(RiskReasonKind.KNOWN_BAD, account, 0, (account,), ()),)
        elif isinstance(nearest, str):
            path = [account]
            while (step := via.get(path[-1])) is not None:
                path.append(step)
            reason = RiskReason(
                RiskReasonKind.TIED_TO_KNOWN_BAD,
                nearest,
                int(hops),
                tuple(path),
                tuple(shared.get((account, path[1]), ())) if len(path) > 1 else (),
            )
            reasons = (reason,)
        out.append(AccountRisk(account, float(risk), bool(bad), reasons))
    return out


def require_scores(store: GraphStore) -> str:
    """The id of the run whose risk the store keeps; NotFound saying what to do otherwise."""
    run = store.scores_run()
    if run is None:
        raise NotFound(
            f"{store.url} holds no account risk yet: run a detection first "
            "(graphfraud detect, or POST /api/jobs)"
        )
    return run


def _vias(store: GraphStore, rows: pd.DataFrame) -> dict[str, str | None]:
    """Every account's next step towards its nearest known-bad account, for ``rows`` and
    every account on their paths (read level by level)."""
    via: dict[str, str | None] = {}
    level = rows
    while len(level):
        for account, step in zip(level["account"], level["via"], strict=True):
            via[str(account)] = None if step is None or pd.isna(step) else str(step)
        wanted = sorted({v for v in via.values() if v is not None} - via.keys())
        level = store.risk(accounts=wanted) if wanted else level.iloc[:0]
    return via


def _shared(
    store: GraphStore, steps: list[tuple[str, str]], hubs: set[EntityRef]
) -> dict[tuple[str, str], list[str]]:
    """Per (account, next account): the non-hub things both use and direct links between
    them, as ``Kind:key`` texts in (kind, key) order."""
    if not steps:
        return {}
    accounts = sorted({a for step in steps for a in step})
    edges = store.surroundings([EntityRef(EntityKind.ACCOUNT, a) for a in accounts]).edge_columns
    uses: dict[str, set[EntityRef]] = {}
    direct: set[tuple[str, str]] = set()
    for src_kind, src, kind, dst_kind, dst in zip(
        edges["src_kind"], edges["src_key"], edges["kind"], edges["dst_kind"], edges["dst_key"],
        strict=True,
    ):  # fmt: skip
        if src_kind != EntityKind.ACCOUNT:
            continue
        if kind in ACCOUNT_LINKS:
            direct.update({(str(src), str(dst)), (str(dst), str(src))})
            continue
        ref = EntityRef(str(dst_kind), str(dst))
        if ref not in hubs:
            uses.setdefault(str(src), set()).add(ref)
    found = {}
    for a, b in steps:
        common = uses.get(a, set()) & uses.get(b, set())
        if (a, b) in direct:
            common.add(EntityRef(EntityKind.ACCOUNT, b))
        found[(a, b)] = [str(ref) for ref in sorted(common)]
    return found
