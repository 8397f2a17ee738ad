"""A store written before ring history and separate verdicts opens with nothing lost: each
ring's status and note become its verdict and the first note of its thread, with audit entries
saying so, and when it was last detected becomes its first detection and last sighting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import neo4j
import pytest

from graphfraud.model import RingFilter, RingMember, RingStatus
from graphfraud.store import GraphStore, open_store
from graphfraud.store.records import EARLIER_ACTOR
from tests.neo4j_server import Neo4jForTests, opened_store, wipe

DETECTED = "2026-03-01T09:30:00+00:00"
#: ring id, status, note, active (as detection and investigators left them then).
EARLIER = [
    ("R1", "confirmed", "same farm as case 12", True),
    ("R2", "new", "", True),
    ("R3", "benign", "a household", False),
]
MEMBERS = {"R1": ["A1", "A2"], "R2": ["A2", "A3"], "R3": ["A4", "A5"]}

# The layout graphfraud 0.1.0 wrote (verdicts inside the rings table, no history).
DUCKDB_EARLIER = """
CREATE TABLE rings (ring_id VARCHAR PRIMARY KEY, score DOUBLE NOT NULL,
    typology VARCHAR NOT NULL, size INTEGER NOT NULL, status VARCHAR NOT NULL,
    note VARCHAR NOT NULL, evidence VARCHAR NOT NULL, detected_at VARCHAR NOT NULL,
    active BOOLEAN NOT NULL);
CREATE TABLE ring_members (ring_id VARCHAR NOT NULL, account VARCHAR NOT NULL,
    role VARCHAR NOT NULL, pagerank DOUBLE NOT NULL, degree INTEGER NOT NULL);
CREATE INDEX ring_members_ring ON ring_members (ring_id);
CREATE INDEX ring_members_account ON ring_members (account);
"""

NEO4J_EARLIER = """
UNWIND $rings AS row
CREATE (r:Ring {ring_id: row.ring_id, score: 2.0, typology: 'device_farm', size: 2,
                status: row.status, note: row.note, evidence: '{}', detected_at: $detected,
                active: row.active})
WITH r, row
UNWIND row.members AS account
MERGE (a:Account {key: account})
CREATE (r)-[:HAS_MEMBER {role: 'member', pagerank: 0.5, degree: 1}]->(a)
"""


def earlier_duckdb(folder: Path) -> str:
    path = folder / "earlier.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute(DUCKDB_EARLIER)
        for ring_id, status, note, active in EARLIER:
            db.execute(
                "INSERT INTO rings VALUES (?, 2.0, 'device_farm', 2, ?, ?, '{}', ?, ?)",
                [ring_id, status, note, DETECTED, active],
            )
            for account in MEMBERS[ring_id]:
                db.execute(
                    "INSERT INTO ring_members VALUES (?, ?, 'member', 0.5, 1)", [ring_id, account]
                )
    return f"duckdb:///{path}"


def earlier_neo4j(server: Neo4jForTests) -> None:
    wipe(server)
    rings = [
        {"ring_id": r, "status": s, "note": n, "active": a, "members": MEMBERS[r]}
        for r, s, n, a in EARLIER
    ]
    with neo4j.GraphDatabase.driver(server.url, auth=("neo4j", server.password)) as driver:
        driver.execute_query(NEO4J_EARLIER, rings=rings, detected=DETECTED, database_="neo4j")


@pytest.fixture(params=["duckdb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def upgraded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """A store written earlier, opened now (which upgrades it)."""
    if request.param == "neo4j":
        server = request.getfixturevalue("neo4j_server")
        earlier_neo4j(server)
        opened: Callable[[], GraphStore] = lambda: opened_store(server)  # noqa: E731
    else:
        url = earlier_duckdb(tmp_path)
        opened = lambda: open_store(url)  # noqa: E731
    with opened() as store:
        yield store


def test_verdicts_and_notes_written_earlier_are_kept(upgraded: GraphStore) -> None:
    detected = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    first = upgraded.ring("R1")
    assert (first.status, first.note, first.active) == (
        RingStatus.CONFIRMED,
        "same farm as case 12",
        True,
    )
    assert (first.first_detected, first.last_seen) == (detected, detected)
    assert [(n.actor, n.text, n.time) for n in upgraded.notes("R1")] == [
        (EARLIER_ACTOR, "same farm as case 12", detected)
    ]
    assert [(e.field, e.old, e.new) for e in upgraded.audit(ring_id="R1")] == [
        ("status", "new", "confirmed"),
        ("note", None, "same farm as case 12"),
    ]
    retired = upgraded.ring("R3")
    assert (retired.status, retired.active, retired.note) == (
        RingStatus.BENIGN,
        False,
        "a household",
    )
    assert upgraded.audit(ring_id="R2") == []
    assert [r.ring_id for r in upgraded.rings().rings] == ["R1", "R2"]


def test_an_upgraded_store_works_as_any_other(upgraded: GraphStore) -> None:
    upgraded.set_ring_status("R2", RingStatus.UNDER_REVIEW, actor="Ana Lima")
    # R3 was retired; found again, it returns.
    run = upgraded.write_rings([upgraded.ring(ring_id) for ring_id in ("R1", "R2", "R3")])
    assert (run.returned, run.new, run.retired) == (1, 0, 0)
    assert upgraded.ring("R1").status == RingStatus.CONFIRMED
    assert upgraded.count_rings(RingFilter(status=RingStatus.UNDER_REVIEW)) == 1
    assert upgraded.ring("R3").members == [
        RingMember("A4", "member", 0.5, 1),
        RingMember("A5", "member", 0.5, 1),
    ]
