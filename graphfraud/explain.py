"""Ring explanations: the evidence as structured parts first, then words written from them.

A detected ring carries its evidence (a :class:`~graphfraud.model.RingEvidence` written by
detection). :func:`explain` turns it into an :class:`Explanation`: members with roles, the
identifiers they share (with how many accounts in the whole graph use each), the links between
them, the score contributions, the time span, the typology and its reasons — and a short
``summary`` generated only from those parts, so nothing in the words is missing from the data::

    9 accounts created within 3 days share 2 devices and 1 card; 4 of them ordered only
    through creator C-17, owned by member A-12.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from graphfraud.model import Ring, RingEvidence
from graphfraud.store.base import GraphStore

#: What each score contribution measures, in an investigator's words.
CONTRIBUTION_MEANINGS: dict[str, str] = {
    "structure": "how much more surprising the sharing is than what households show, given "
    "how widely things of each kind are shared",
    "burstiness": "members created within a short window of each other",
    "known_bad": "accounts labelled bad in the ring or tied to it",
    "money_flow": "money sent round a cycle again and again, or referrals and payments "
    "joining more members than a household",
    "lockstep": "members who started using the shared identifiers together",
}

#: How a summary names identifiers of each kind (singular, plural).
_NOUNS: dict[str, tuple[str, str]] = {
    "Device": ("device", "devices"),
    "PaymentInstrument": ("card", "cards"),
    "Address": ("shipping address", "shipping addresses"),
    "IP": ("IP address", "IP addresses"),
    "Phone": ("phone number", "phone numbers"),
    "Email": ("mailbox", "mailboxes"),
    "Creator": ("creator", "creators"),
}


@dataclass(frozen=True)
class Explanation:
    """Why a ring was flagged: structured parts, and a summary written only from them.

    Attributes
    ----------
    ring_id, score, typology
        The ring as stored.
    reasons
        Why the typology fits, one sentence each.
    members
        Accounts with ``role`` (organiser / member), centrality, creation time, known-bad flag;
        most central first.
    shared_identifiers
        Identifiers two or more members use: ``kind``, ``key``, ``display``, ``members`` (in
        the ring), ``accounts`` (in the whole graph).
    hubs
        Widely used identifiers members touch, which detection ignored.
    links
        Ties between members: pairs tied, density, direct links per kind, a money cycle.
    creators
        Creators members order through, who owns them, how many order only through them.
    contributions
        Score contributions: ``name``, ``value``, ``meaning``; they add up to ``score``.
    time_span
        When members were created, and how many within the burst and lockstep windows.
    known_bad
        Labelled members (``seeds``) and members tied to labelled accounts outside.
    summary
        One or two sentences generated from the parts above.
    """

    ring_id: str
    score: float
    typology: str
    reasons: list[str]
    members: list[dict[str, Any]]
    shared_identifiers: list[dict[str, Any]]
    hubs: list[dict[str, Any]]
    links: dict[str, Any]
    creators: list[dict[str, Any]]
    contributions: list[dict[str, Any]]
    time_span: dict[str, Any]
    known_bad: dict[str, Any]
    summary: str = field(default="")


def explain_ring(store: GraphStore, ring_id: str) -> Explanation:
    """Explain a stored ring; raises ``NotFound`` for an unknown id."""
    return explain(store.ring(ring_id))


def explain(ring: Ring) -> Explanation:
    """Explain a ring from its evidence.

    Examples
    --------
    >>> from graphfraud.model import RingMember, TimeSpan
    >>> ring = Ring("R-1", 2.5, "device_farm", [RingMember("A-1"), RingMember("A-2"),
    ...     RingMember("A-3")], evidence=RingEvidence(size=3,
    ...     shared_by_kind={"Device": 2}, time_span=TimeSpan(created_within_days=0.4)))
    >>> explain(ring).summary
    '3 accounts created within 10 hours share 2 devices.'
    """
    evidence = ring.evidence
    parts = Explanation(
        ring_id=ring.ring_id,
        score=ring.score,
        typology=ring.typology,
        reasons=list(evidence.typology.reasons),
        members=[m.model_dump() for m in evidence.members]
        or [{"account": m.account, "role": m.role} for m in ring.members],
        shared_identifiers=_dumped(evidence.shared_identifiers),
        hubs=_dumped(evidence.hubs),
        links=evidence.links.model_dump(),
        creators=_dumped(evidence.creators),
        contributions=[
            {"name": name, "value": value, "meaning": CONTRIBUTION_MEANINGS.get(name, name)}
            for name, value in evidence.score.contributions.items()
        ],
        time_span=evidence.time_span.model_dump(),
        known_bad=evidence.known_bad.model_dump(),
    )
    summary = summarise(size=evidence.size or len(ring.members), evidence=evidence, parts=parts)
    return Explanation(**{**parts.__dict__, "summary": summary})


def _dumped(records: list[Any]) -> list[dict[str, Any]]:
    """Typed evidence records as the plain dicts an explanation carries (JSON-ready)."""
    return [record.model_dump() for record in records]


def summarise(*, size: int, evidence: RingEvidence, parts: Explanation) -> str:
    """The summary sentence: who, what they share, and the one pattern that stands out.

    Every number in it is read from the evidence; a clause whose data is missing is left out.
    """
    subject = f"{size} accounts{_created(evidence)}"
    shared = _shared(evidence.shared_by_kind)
    clauses = [f"{subject} {shared}" if shared else subject]
    clauses += _patterns(evidence)
    return "; ".join(clauses) + "."


def _created(evidence: RingEvidence) -> str:
    span = evidence.time_span
    days = span.created_within_days
    if days is not None and (not span.burst_days or days <= span.burst_days):
        return f" created within {_duration(days)}"
    if span.burst_days and span.burst_members >= 3:
        return f" ({span.burst_members} of them created within {_duration(span.burst_days)})"
    return ""


def _duration(days: float) -> str:
    if days < 1:
        hours = max(1, math.ceil(days * 24))
        return f"{hours} hour" + ("s" if hours != 1 else "")
    whole = math.ceil(days)
    return f"{whole} day" + ("s" if whole != 1 else "")


def _shared(shared_by_kind: dict[str, int]) -> str:
    counts = sorted(
        ((n, kind) for kind, n in shared_by_kind.items() if n > 0), key=lambda t: (-t[0], t[1])
    )
    if not counts:
        return ""
    words = [_count(n, kind) for n, kind in counts[:3]]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"share {listed}"


def _count(n: int, kind: str) -> str:
    singular, plural = _NOUNS.get(kind, (f"{kind} identifier", f"{kind} identifiers"))
    return f"{n} {singular if n == 1 else plural}"


def _patterns(evidence: RingEvidence) -> list[str]:
    """Clauses for money cycles, referrals, a member's storefront and known-bad accounts."""
    clauses = []
    links = evidence.links
    if links.members_on_cycle >= 3:
        clauses.append(f"{links.members_on_cycle} of them pass money round in a cycle")
    referrals = next((d for d in links.direct if d.kind == "REFERRED"), None)
    if referrals and referrals.links >= 2:
        clauses.append(f"{referrals.members} of them are joined by {referrals.links} referrals")
    owned = [c for c in evidence.creators if c.owned_by]
    if owned:
        top = max(owned, key=lambda c: c.members)
        name = top.display or top.key
        if top.only_creator_members:
            clauses.append(
                f"{top.only_creator_members} of them ordered only through creator {name}, "
                f"owned by member {top.owned_by}"
            )
        else:
            clauses.append(
                f"{top.members} of them order through creator {name}, "
                f"owned by member {top.owned_by}"
            )
    seeds = evidence.known_bad.seeds
    if seeds:
        clauses.append(f"{len(seeds)} {'is' if len(seeds) == 1 else 'are'} labelled known-bad")
    return clauses
