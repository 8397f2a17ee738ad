"""A ring's case file: the printable report (HTML and PDF) and the CSV bundle.

Everything an investigator hands on about one ring: a picture of its graph, the explanation,
the score contributions, the members, the identifiers they share, a timeline, the ring's
history through detection runs, the note thread and the audit trail of its verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from api.documents.charts import ring_picture, timeline_chart
from api.documents.render import csv_bytes, html_to_pdf, render_html, zip_with_manifest
from api.documents.tables import (
    audit_frame,
    history_frame,
    members_frame,
    notes_frame,
    rings_frame,
    shared_frame,
)
from graphfraud import __version__
from graphfraud.explain import Explanation, explain
from graphfraud.model import LINK_COLUMNS, Ring
from graphfraud.network import ring_network
from graphfraud.store import GraphStore

#: Members' events listed in the printed case file at most (the CSV bundle has them all).
PRINTED_EVENTS = 40


@dataclass(frozen=True)
class CaseFile:
    """What a case file shows, read from a store at one moment.

    Attributes
    ----------
    ring, explanation
        The ring and its explanation.
    members, shared, history, notes, audit
        Frames of ``api.documents.tables``.
    links
        The links among the members and the identifiers they share (``LINK_COLUMNS``).
    events
        The members' events (``EVENT_COLUMNS``), oldest first.
    picture, timeline
        The graph and the timeline as PNG ``data:`` URIs.
    made_at
        When it was read.
    """

    ring: Ring
    explanation: Explanation
    members: pd.DataFrame
    shared: pd.DataFrame
    links: pd.DataFrame
    events: pd.DataFrame
    history: pd.DataFrame
    notes: pd.DataFrame
    audit: pd.DataFrame
    picture: str
    timeline: str
    made_at: datetime


def case_file(store: GraphStore, ring_id: str) -> CaseFile:
    """Read everything about one ring from ``store``; raises NotFound for an unknown ring."""
    ring = store.ring(ring_id)
    network = ring_network(store, ring)
    events = store.events(accounts=ring.accounts)
    members = members_frame([ring])
    links = network.edges[list(LINK_COLUMNS)]
    shared = shared_frame([ring])
    tied = shared[~shared["hub"]]
    targets = links["dst_kind"] + ":" + links["dst_key"]
    first_use = links[targets.isin(set(tied["kind"] + ":" + tied["key"]))]
    return CaseFile(
        ring=ring,
        explanation=explain(ring),
        members=members,
        shared=shared,
        links=links,
        events=events,
        history=history_frame([store.ring_history(ring_id)]),
        notes=notes_frame(store.notes(ring_id)),
        audit=audit_frame(store.audit(ring_id=ring_id)),
        picture=ring_picture(network),
        timeline=timeline_chart(
            pd.to_datetime(members["created_at"], utc=True, errors="coerce").dropna(),
            pd.to_datetime(first_use.groupby(["dst_kind", "dst_key"])["first_seen"].min()),
            events,
        ),
        made_at=datetime.now(UTC),
    )


def case_file_html(case: CaseFile) -> str:
    """The case file as one self-contained HTML page (images inlined)."""
    gmv = float(case.events["amount"].fillna(0).sum())
    return render_html(
        "case_file.html",
        case=case,
        ring=case.ring,
        gmv=gmv,
        shared_count=int((~case.shared["hub"].astype(bool)).sum()),
        printed_events=case.events.tail(PRINTED_EVENTS).iloc[::-1],
        version=__version__,
    )


def case_file_pdf(case: CaseFile) -> bytes:
    """The case file as PDF: the HTML page, printed."""
    return html_to_pdf(case_file_html(case))


def case_file_bundle(case: CaseFile) -> bytes:
    """The case file's data as a zip of CSV files, with the HTML report and a manifest."""
    files = {
        "ring.csv": csv_bytes(rings_frame([case.ring])),
        "members.csv": csv_bytes(case.members),
        "shared_identifiers.csv": csv_bytes(case.shared),
        "links.csv": csv_bytes(case.links),
        "events.csv": csv_bytes(case.events),
        "contributions.csv": csv_bytes(pd.DataFrame(case.explanation.contributions)),
        "history.csv": csv_bytes(case.history),
        "notes.csv": csv_bytes(case.notes),
        "audit.csv": csv_bytes(case.audit),
        "case_file.html": case_file_html(case).encode(),
    }
    about = {
        "document": "case file",
        "ring_id": case.ring.ring_id,
        "made_at": case.made_at.isoformat(),
        "graphfraud_version": __version__,
    }
    return zip_with_manifest(files, about=about)
