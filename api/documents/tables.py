"""Store records as frames: the tables documents print and bundles ship as CSV.

One function per record kind, used by the case file, the trend report and the inquiry pack
alike, so a ring's history or audit trail reads the same in every document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pandas as pd

from graphfraud.model import AuditEntry, Note, Page, Ring, RingFilter, RingHistory
from graphfraud.store import GraphStore

HISTORY_COLUMNS = ("ring_id", "run_id", "time", "change", "size", "score", "joined", "left")
NOTE_COLUMNS = ("ring_id", "time", "actor", "text")
AUDIT_COLUMNS = ("ring_id", "time", "actor", "field", "old", "new")
RING_COLUMNS = (
    "ring_id", "typology", "score", "size", "status", "assignee", "first_detected", "last_seen",
    "active",
)  # fmt: skip
MEMBER_COLUMNS = (
    "ring_id", "account", "role", "pagerank", "degree", "betweenness", "created_at", "known_bad",
)  # fmt: skip
SHARED_COLUMNS = ("ring_id", "kind", "key", "display", "link", "members", "accounts", "hub")


def history_frame(histories: Iterable[RingHistory]) -> pd.DataFrame:
    """What each run did to each ring, oldest first (``HISTORY_COLUMNS``)."""
    rows = [
        {**dataclasses.asdict(a), "ring_id": h.ring_id, "change": str(a.change)}
        for h in histories
        for a in h.appearances
    ]
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))


def notes_frame(notes: Iterable[Note]) -> pd.DataFrame:
    """Note threads (``NOTE_COLUMNS``)."""
    return pd.DataFrame([dataclasses.asdict(n) for n in notes], columns=list(NOTE_COLUMNS))


def audit_frame(entries: Iterable[AuditEntry]) -> pd.DataFrame:
    """Audit entries (``AUDIT_COLUMNS``)."""
    return pd.DataFrame([dataclasses.asdict(e) for e in entries], columns=list(AUDIT_COLUMNS))


def rings_frame(rings: Iterable[Ring]) -> pd.DataFrame:
    """One row per ring with its verdict and dates (``RING_COLUMNS``)."""
    rows = [
        {
            "ring_id": r.ring_id, "typology": r.typology, "score": round(r.score, 4),
            "size": r.size, "status": str(r.status), "assignee": r.assignee,
            "first_detected": r.first_detected, "last_seen": r.last_seen, "active": r.active,
        }
        for r in rings
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(RING_COLUMNS))


def members_frame(rings: Iterable[Ring]) -> pd.DataFrame:
    """Ring members with their roles and centrality (``MEMBER_COLUMNS``)."""
    rows = []
    for ring in rings:
        evidence = {m.account: m for m in ring.evidence.members}
        for member in ring.members:
            known = evidence.get(member.account)
            rows.append(
                {
                    "ring_id": ring.ring_id,
                    "account": member.account,
                    "role": member.role,
                    "pagerank": round(member.pagerank, 6),
                    "degree": member.degree,
                    "betweenness": None if known is None else round(known.betweenness, 6),
                    "created_at": None if known is None else known.created_at,
                    "known_bad": None if known is None else known.known_bad,
                }
            )
    return pd.DataFrame(rows, columns=list(MEMBER_COLUMNS))


def shared_frame(rings: Iterable[Ring]) -> pd.DataFrame:
    """Identifiers members share, and the hubs they touch (``SHARED_COLUMNS``)."""
    rows = [
        {"ring_id": ring.ring_id, **thing.model_dump(), "hub": hub}
        for ring in rings
        for hub, things in ((False, ring.evidence.shared_identifiers), (True, ring.evidence.hubs))
        for thing in things
    ]
    return pd.DataFrame(rows, columns=list(SHARED_COLUMNS))


#: Rings read per page when a document reads them all.
_PAGE = 500


def all_rings(store: GraphStore) -> list[Ring]:
    """Every ring in ``store``, active or retired, in ring-id order."""
    rings: list[Ring] = []
    while True:
        page = store.rings(
            RingFilter(active=None), Page(offset=len(rings), limit=_PAGE, sort="ring_id",
                                          descending=False)
        )  # fmt: skip
        rings.extend(page.rings)
        if not page.rings or len(rings) >= page.total:
            return rings
