"""Ring typology: a best guess at the kind of fraud, with the reasons for it.

Each typology has a *strength* in ``[0, 1]`` measured on the ring's evidence (what share of the
members the telling pattern covers); the strongest wins and its reasons are stated with the
numbers behind them. Rules read only the evidence, so what the typology claims can always
be checked against what the explanation shows.
"""

from __future__ import annotations

from graphfraud.model import TYPOLOGIES, RingEvidence
from graphfraud.settings import DetectionSettings

#: The typology of a ring no pattern covers well.
MIXED = "mixed"

#: Identifier kind behind each sharing typology, and how a reason names it (plural).
_SHARING: dict[str, tuple[str, str]] = {
    "device_farm": ("Device", "devices"),
    "payment_sharing": ("PaymentInstrument", "payment instruments"),
    "drop_address": ("Address", "shipping addresses"),
}


def typology_strengths(evidence: RingEvidence) -> dict[str, float]:
    """How strongly the evidence shows each typology: the share of members the pattern covers.

    Examples
    --------
    >>> from graphfraud.model import SharedThing
    >>> ev = RingEvidence(size=4, covered_by_kind={"Device": 4}, shared_identifiers=[
    ...     SharedThing(kind="Device", key="d1", members=4, accounts=4)])
    >>> typology_strengths(ev)["device_farm"]
    1.0
    """
    size = max(evidence.size, 1)
    strengths = {name: 0.0 for name in TYPOLOGIES}
    for name, (kind, _) in _SHARING.items():
        strengths[name] = _covered(evidence, kind) / size
    direct = {d.kind: d for d in evidence.links.direct}
    if "REFERRED" in direct:
        strengths["promo_abuse"] = direct["REFERRED"].members / size
    strengths["money_cycle"] = evidence.links.members_on_cycle / size
    owned = [c for c in evidence.creators if c.owned_by]
    if owned:
        # The owner counts: the storefront is theirs.
        strengths["creator_collusion"] = (max(c.members for c in owned) + 1) / size
    return {name: min(value, 1.0) for name, value in strengths.items()}


def classify_ring(evidence: RingEvidence, *, settings: DetectionSettings) -> tuple[str, list[str]]:
    """The ring's typology and the reasons for it.

    The specific patterns are checked first, in order: money sent round a cycle, referral
    chains, a member's storefront bought through by the others; the first that covers at
    least ``typology_specific`` of the members wins. Otherwise the identifier kind shared by
    the most members names the ring (device farm, payment-instrument sharing, drop address),
    if it covers at least ``typology_sharing`` of them.

    Parameters
    ----------
    evidence
        A ring's evidence (as :func:`algorithms.evidence.ring_evidence` builds it).
    settings
        ``typology_specific`` and ``typology_sharing``: the coverage a specific pattern, and a
        shared identifier kind, must reach.

    Returns
    -------
    tuple[str, list[str]]
        A name from :data:`TYPOLOGIES` (or :data:`MIXED`) and one sentence per reason.

    Examples
    --------
    >>> from graphfraud.model import SharedThing
    >>> ev = RingEvidence(size=4, covered_by_kind={"Device": 4}, shared_identifiers=[
    ...     SharedThing(kind="Device", key="d1", members=4, accounts=5)])
    >>> name, reasons = classify_ring(ev, settings=DetectionSettings())
    >>> name
    'device_farm'
    >>> print(reasons[0])
    4 of 4 members use shared devices (largest: d1, 4 members, 5 accounts overall)
    """
    strengths = typology_strengths(evidence)
    for name in ("money_cycle", "promo_abuse", "creator_collusion"):
        if strengths[name] >= settings.typology_specific:
            return name, _reasons(name, evidence)
    best = max(_SHARING, key=lambda name: strengths[name])
    if strengths[best] < settings.typology_sharing:
        return MIXED, [f"no pattern covers {settings.typology_sharing:.0%} of the members"]
    return best, _reasons(best, evidence)


def _covered(evidence: RingEvidence, kind: str) -> int:
    """Members using at least one shared identifier of ``kind``."""
    return evidence.covered_by_kind.get(kind, 0)


def _reasons(name: str, evidence: RingEvidence) -> list[str]:
    size = evidence.size
    if name in _SHARING:
        kind, noun = _SHARING[name]
        top = next(s for s in evidence.shared_identifiers if s.kind == kind)
        return [
            f"{_covered(evidence, kind)} of {size} members use shared {noun} (largest: "
            f"{top.display or top.key}, {top.members} members, "
            f"{top.accounts} accounts overall)"
        ]
    if name == "money_cycle":
        cycle = evidence.links.cycle
        reason = f"{evidence.links.members_on_cycle} of {size} members pass money round"
        if cycle:
            steps = [*cycle, cycle[0]] if len(cycle) <= 6 else [*cycle[:5], "…", cycle[0]]
            reason += f" in cycles, e.g. {' → '.join(steps)} ({len(cycle)} accounts)"
        return [reason]
    if name == "promo_abuse":
        referred = next(d for d in evidence.links.direct if d.kind == "REFERRED")
        return [f"{referred.members} of {size} members are joined by {referred.links} referrals"]
    creator = max((c for c in evidence.creators if c.owned_by), key=lambda c: c.members)
    reasons = [
        f"{creator.members} of the other {size - 1} members order through creator "
        f"{creator.display or creator.key}, owned by member {creator.owned_by}"
    ]
    if creator.only_creator_members:
        reasons.append(f"{creator.only_creator_members} of them order through no other creator")
    return reasons
