"""Request and response models of the API, and the error responses each endpoint declares.

The models are the API's public contract (they make up the OpenAPI schema); routes turn domain
objects (rings, subgraphs, frames) into them with the ``from_*`` constructors here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import namedtuple
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from starlette.responses import Response

from graphfraud.model import (
    ENTITY_COLUMNS,
    LINK_COLUMNS,
    MemberEvidence,
    Ring,
    RingChange,
    RingEvidence,
    RingMember,
    RingStatus,
)


class FieldError(BaseModel):
    """One invalid input: where it was and what was wrong with it."""

    field: str = Field(description="Name of the parameter or body field, e.g. 'min_score'.")
    location: str = Field(description="Where it was sent: path, query, header or body.")
    message: str = Field(description="Why it was refused.")


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str = Field(description="What went wrong, in one sentence.")
    errors: list[FieldError] = Field(
        default_factory=list, description="The invalid inputs, for a 422."
    )


#: What each error status means in this API (the description shown in the OpenAPI schema).
ERROR_MEANING: dict[int, str] = {
    400: "A parameter is unusable, or the body is not JSON (the answer says which and why).",
    401: "No API key, or a key that is not recognised.",
    403: "The API key is read-only and this operation changes data.",
    404: "The ring, account, identifier or job does not exist.",
    409: "A detection job is already running.",
    422: "A parameter is malformed (the body names the field and the reason).",
    503: "The graph store is unreachable or could not complete the request.",
}


def error_responses(*codes: int, page: bool = False) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry of a route that can answer with the error ``codes``.

    Errors are JSON on every route. FastAPI documents a ``model`` in the route's own media
    type, so HTML pages (``page=True``) name the JSON schema explicitly instead; the JSON
    routes' models put it in the schema's components.
    """
    if page:
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        return {code: {"content": body, "description": ERROR_MEANING[code]} for code in codes}
    return {code: {"model": ErrorBody, "description": ERROR_MEANING[code]} for code in codes}


# -- shared pieces -------------------------------------------------------------------------


class Entity(BaseModel):
    """One entity of the graph."""

    ref: str = Field(description="The entity as 'Kind:key', usable in other requests.")
    kind: str
    key: str
    display: str | None = Field(default=None, description="A safe human form, e.g. 'card ••4242'.")
    created_at: datetime | None = None
    label: str | None = Field(
        default=None, description="A known-bad label such as 'fraud', if any."
    )
    degree: int | None = Field(
        default=None,
        description="Links touching it in the graph (for an identifier: the accounts using it).",
    )
    hub: bool = Field(
        default=False,
        description="Whether the latest detection run found it a hub: used so widely, by "
        "strangers, that it links no one (a café's IP, a parcel locker).",
    )
    attributes: dict[str, str | int | float | bool] | None = Field(
        default=None,
        description="What the sources say about it besides its links, e.g. "
        "{'country': 'ID', 'kyc_level': 2} for an account or {'os': 'android'} for a device.",
    )

    @classmethod
    def from_row(cls, row: Any) -> Entity:
        """An entity from a row (named tuple or series) with ``ENTITY_COLUMNS``."""
        return cls(**_entity_fields(row))


class Link(BaseModel):
    """One link between two entities, with how often and when it was seen."""

    source: str = Field(description="Source entity as 'Kind:key' (an account).")
    target: str = Field(description="Target entity as 'Kind:key'.")
    kind: str = Field(description="Link kind, e.g. USES_DEVICE.")
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    amount: float | None = None

    @classmethod
    def from_row(cls, row: Any) -> Link:
        """A link from a row with ``LINK_COLUMNS``."""
        return cls(
            source=f"{row.src_kind}:{row.src_key}",
            target=f"{row.dst_kind}:{row.dst_key}",
            kind=str(row.kind),
            count=int(row.count),
            first_seen=_time(row.first_seen),
            last_seen=_time(row.last_seen),
            amount=_number(row.amount),
        )


#: A frame, or columns as arrays by name: what :func:`entities_of` and :func:`links_of` read.
Columns = pd.DataFrame | Mapping[str, np.ndarray]


def with_degrees(
    entities: list[Entity], degrees: list[int], hubs: Mapping[tuple[str, str], int]
) -> list[Entity]:
    """``entities`` with their degree (aligned) and hub flag set."""
    for entity, degree in zip(entities, degrees, strict=True):
        entity.degree = degree
        entity.hub = (entity.kind, entity.key) in hubs
    return entities


def entities_of(columns: Columns) -> list[Entity]:
    """Every row of an entities frame (or ``ENTITY_COLUMNS`` arrays) as an :class:`Entity`."""
    return [Entity.from_row(row) for row in _rows(columns, EntityRow)]


def links_of(columns: Columns) -> list[Link]:
    """Every row of a links frame (or ``LINK_COLUMNS`` arrays) as a :class:`Link`."""
    return [Link.from_row(row) for row in _rows(columns, LinkRow)]


EntityRow = namedtuple("EntityRow", ENTITY_COLUMNS)  # type: ignore[misc]
LinkRow = namedtuple("LinkRow", LINK_COLUMNS)  # type: ignore[misc]


def _rows(columns: Columns, row: Any) -> Iterator[Any]:
    # Whole columns as lists, zipped: a fraction of what itertuples costs a small frame, which
    # builds a namedtuple class and converts every cell on each call.
    return map(row._make, zip(*(columns[name].tolist() for name in row._fields), strict=True))


# -- rings ---------------------------------------------------------------------------------


class RingSort(StrEnum):
    """What ring listings can be sorted by."""

    SCORE = "score"
    SIZE = "size"
    RING_ID = "ring_id"
    FIRST_DETECTED = "first_detected"
    LAST_SEEN = "last_seen"


class RingState(StrEnum):
    """Which rings a listing holds: those the latest detection run found, those it retired,
    or both."""

    ACTIVE = "active"
    RETIRED = "retired"
    ALL = "all"

    @property
    def active(self) -> bool | None:
        """As :attr:`graphfraud.model.RingFilter.active`."""
        return {RingState.ACTIVE: True, RingState.RETIRED: False}.get(self)


class SortOrder(StrEnum):
    """Sort direction."""

    DESC = "desc"
    ASC = "asc"


class Member(BaseModel):
    """A ring member: its role, centrality inside the ring, creation time and label."""

    account: str
    role: str = Field(description="'organiser' or 'member'.")
    pagerank: float
    degree: int
    betweenness: float = Field(default=0.0, description="Betweenness inside the ring.")
    created_at: str | None = Field(
        default=None, description="When the account was created (ISO 8601), if known."
    )
    known_bad: bool = Field(default=False, description="Whether it carries a known-bad label.")

    @classmethod
    def from_member(cls, member: RingMember, evidence: MemberEvidence | None = None) -> Member:
        """A member as the ring keeps it, with what the ring's evidence says of it."""
        evidence = evidence or MemberEvidence(account=member.account)
        return cls(
            account=member.account,
            role=member.role,
            pagerank=member.pagerank,
            degree=member.degree,
            betweenness=evidence.betweenness,
            created_at=evidence.created_at,
            known_bad=evidence.known_bad,
        )


class DetailEvidence(RingEvidence):
    """A ring's evidence in its detail: the members are the detail's own list, not repeated."""

    members: list[MemberEvidence] = Field(default_factory=list, exclude=True)


class RingSummary(BaseModel):
    """A ring as listings show it."""

    ring_id: str
    score: float
    typology: str
    size: int
    status: RingStatus
    note: str = Field(description="The latest note of the ring's thread; empty when none.")
    assignee: str | None = Field(description="Who investigates the ring, if anyone.")
    first_detected: datetime | None = Field(description="When a detection run first found it.")
    last_seen: datetime | None = Field(description="When a detection run last found it.")
    active: bool = Field(description="Whether the latest detection run found it (else retired).")
    view_url: str = Field(description="Path of the interactive view of the ring.")

    @classmethod
    def from_ring(cls, ring: Ring) -> RingSummary:
        return cls(**_summary_fields(ring))


class RingList(BaseModel):
    """One page of rings and how many match in all."""

    total: int
    offset: int
    limit: int
    rings: list[RingSummary]


class Contribution(BaseModel):
    """One named, additive part of a ring's score."""

    name: str
    value: float
    meaning: str


class Explanation(BaseModel):
    """Why a ring was flagged: the data first, then a summary written only from that data."""

    summary: str = Field(description="One or two sentences generated from the parts below.")
    reasons: list[str] = Field(description="Why the typology fits, one sentence each.")
    shared_identifiers: list[dict[str, Any]] = Field(
        description="Identifiers members share: kind, key, display, members (in the ring), "
        "accounts (in the whole graph)."
    )
    hubs: list[dict[str, Any]] = Field(
        description="Widely used identifiers members touch, which detection ignored."
    )
    links: dict[str, Any] = Field(description="Ties between members; a money cycle if any.")
    creators: list[dict[str, Any]] = Field(description="Creators members order through.")
    contributions: list[Contribution] = Field(description="They add up to the ring's score.")
    time_span: dict[str, Any] = Field(description="When members were created.")
    known_bad: dict[str, Any] = Field(description="Labelled members and ties to labelled ones.")

    @classmethod
    def from_explanation(cls, explained: Any) -> Explanation:
        """From a :class:`graphfraud.explain.Explanation`, without its members: the ring
        detail lists them once, in ``members``."""
        # Field by field, not dataclasses.asdict: its deep copy costs more than the request.
        fields = [f.name for f in dataclasses.fields(explained) if f.name in cls.model_fields]
        return cls.model_validate({name: getattr(explained, name) for name in fields})


class RingDetail(RingSummary):
    """A ring with its members (listed once), the evidence behind it and its explanation."""

    members: list[Member]
    evidence: DetailEvidence
    explanation: Explanation

    @classmethod
    def from_parts(cls, ring: Ring, explanation: Explanation) -> RingDetail:
        known = {m.account: m for m in ring.evidence.members}
        return cls(
            **_summary_fields(ring),
            members=[Member.from_member(m, known.get(m.account)) for m in ring.members],
            evidence=DetailEvidence.model_validate(dict(ring.evidence)),
            explanation=explanation,
        )


class StatusUpdate(BaseModel):
    """An investigator's verdict on a ring."""

    status: RingStatus
    note: str = Field(
        default="",
        max_length=4000,
        description="Why; added to the ring's note thread (no note is added when empty).",
    )


class AssigneeUpdate(BaseModel):
    """Who investigates a ring."""

    assignee: str | None = Field(
        max_length=200, description="The investigator's name; null or empty for nobody."
    )


class NewNote(BaseModel):
    """A note to add to a ring's thread."""

    text: str = Field(min_length=1, max_length=4000)


class NoteEntry(BaseModel):
    """A note in a ring's thread."""

    model_config = ConfigDict(from_attributes=True)

    ring_id: str
    time: datetime
    actor: str = Field(description="Whoever wrote it: the name of their API key.")
    text: str


class AuditRecord(BaseModel):
    """One change to a ring's verdict."""

    model_config = ConfigDict(from_attributes=True)

    time: datetime
    actor: str = Field(description="Whoever made it: the name of their API key.")
    ring_id: str
    field: str = Field(description="status, assignee or note.")
    old: str | None = Field(description="The value before (null for none, and for a note).")
    new: str | None = Field(description="The value after (the text, for a note).")


class DetectionRunRecord(BaseModel):
    """A detection run as the store recorded it."""

    model_config = ConfigDict(from_attributes=True)

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    settings: dict[str, Any] = Field(description="The detection settings it ran with.")
    data_from: datetime | None = Field(description="Earliest first sighting of a link read.")
    data_to: datetime | None = Field(description="Latest last sighting of a link read.")
    engine: str = Field(description="Graph engine: igraph or networkx.")
    version: str = Field(description="graphfraud version.")
    accounts: int
    candidates: int
    rings: int
    new: int
    returned: int = Field(description="Rings found again after a run had retired them.")
    grown: int
    shrunk: int
    retired: int


class RingAppearanceRecord(BaseModel):
    """What one detection run did to a ring."""

    model_config = ConfigDict(from_attributes=True)

    run_id: str
    time: datetime = Field(description="When the run finished.")
    change: RingChange
    size: int
    score: float | None
    joined: list[str] = Field(description="Accounts that joined the ring in this run.")
    left: list[str] = Field(description="Accounts that left it in this run.")


class RingHistoryRecord(BaseModel):
    """A ring through the detection runs."""

    model_config = ConfigDict(from_attributes=True)

    ring_id: str
    first_detected: datetime | None
    last_seen: datetime | None
    active: bool
    appearances: list[RingAppearanceRecord] = Field(description="Oldest first.")


class GraphNode(Entity):
    """A node of a ring graph, with its part in the ring."""

    id: str = Field(description="Same as ref; the id edges refer to.")
    role: str = Field(
        description="'organiser' or 'member' for ring members; 'shared' for an identifier "
        "two or more members use; 'hub' for a widely used identifier (it does not link "
        "accounts in detection); 'outside' for surroundings."
    )
    in_ring: bool = Field(description="Whether the node is a ring member.")
    centrality: float = Field(
        description="PageRank in the ring for members; share of members using it for identifiers."
    )
    members: int = Field(description="Ring members linked to this node.")
    accounts: int | None = Field(
        default=None, description="Accounts in the whole graph using this identifier, where known."
    )

    @classmethod
    def from_row(cls, row: Any) -> GraphNode:
        """A node from a row of :attr:`graphfraud.network.RingNetwork.nodes`."""
        return cls(
            **_entity_fields(row),
            id=str(row.id),
            role=str(row.role),
            in_ring=bool(row.in_ring),
            centrality=float(row.centrality),
            members=int(row.members),
            accounts=None if pd.isna(row.accounts) else int(row.accounts),
        )


class RingGraph(BaseModel):
    """A ring as a graph: members, the identifiers tying them, the links between them."""

    ring_id: str
    nodes: list[GraphNode]
    edges: list[Link]
    total_nodes: int = Field(description="Nodes before the cap; more than len(nodes) if cut.")
    truncated: bool


# -- linkage -------------------------------------------------------------------------------


class Membership(BaseModel):
    """An account's place in one ring."""

    ring_id: str
    role: str
    score: float
    typology: str
    status: RingStatus
    view_url: str


class AccountLinkage(BaseModel):
    """Is this account in a ring, and what is it linked to."""

    account: Entity
    rings: list[Membership]
    neighbours: list[Entity]
    links: list[Link]
    truncated: bool = Field(description="Whether the neighbourhood was cut at the limit.")


class AccountPath(BaseModel):
    """How two accounts are linked: a shortest chain of links, and what they share on it."""

    source: str
    target: str
    linked: bool
    hops: int | None = Field(default=None, description="Links on the path; null when not linked.")
    nodes: list[Entity] = Field(description="The entities along the path, in order.")
    links: list[Link]
    shared_identifiers: list[Entity] = Field(
        description="The identifiers (non-account entities) on the path."
    )
    hubs_crossed: list[Entity] = Field(
        description="Hubs on the path (only when through_hubs was asked for): a tie through "
        "one says little."
    )
    through_hubs: bool = Field(description="Whether the path was allowed through hubs.")


class SharingAccount(BaseModel):
    """An account linked to an identifier."""

    account: str
    link: str
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    created_at: datetime | None = None
    label: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> SharingAccount:
        """A row of :meth:`GraphStore.accounts_sharing`."""
        return cls(
            account=str(row.account),
            link=str(row.link),
            count=int(row.count),
            first_seen=_time(row.first_seen),
            last_seen=_time(row.last_seen),
            created_at=_time(row.created_at),
            label=_text(row.label),
        )


class IdentifierSharing(BaseModel):
    """One page of the accounts sharing one identifier (one row per account and link kind)."""

    identifier: Entity
    total: int = Field(description="Rows in all (accounts and the kinds of link each has).")
    accounts_total: int = Field(description="Distinct accounts linked to the identifier.")
    offset: int
    limit: int
    accounts: list[SharingAccount]

    @classmethod
    def from_frame(
        cls, identifier: Entity, frame: pd.DataFrame, *, offset: int, limit: int
    ) -> IdentifierSharing:
        page = frame.iloc[offset : offset + limit]
        rows = [SharingAccount.from_row(row) for row in page.itertuples(index=False)]
        return cls(
            identifier=identifier,
            total=len(frame),
            accounts_total=int(frame["account"].nunique()),
            offset=offset,
            limit=limit,
            accounts=rows,
        )


# -- risk checks ---------------------------------------------------------------------------


class RiskCheckRequest(BaseModel):
    """Raw identifiers of a prospective or existing account, as the product has them.

    Give any of them (at least one). They are normalised exactly as the loader normalises
    the same column (an e-mail's dots and tags, a phone in the country's format, a card
    number fingerprinted with the store's key: it is never stored or logged).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "J.Doe+promo@GoogleMail.com",
                    "phone": "0812-3456-7890",
                    "phone_country": "ID",
                    "device": "3f9a77c1d2e4b605",
                    "card": "4111 1111 1111 1111",
                    "ip": "203.0.113.7",
                }
            ]
        },
    )

    account: str | None = Field(
        default=None, min_length=1, max_length=500, description="An existing account's key."
    )
    email: str | None = Field(default=None, min_length=1, max_length=500)
    phone: str | None = Field(default=None, min_length=1, max_length=100)
    phone_country: str | None = Field(
        default=None,
        min_length=2,
        max_length=100,
        description="Where the phone is from (ISO code or name); default: the server's region.",
    )
    device: str | None = Field(default=None, min_length=1, max_length=500)
    card: str | None = Field(
        default=None, min_length=1, max_length=100, description="A card number (PAN)."
    )
    payment_token: str | None = Field(
        default=None, min_length=1, max_length=500, description="A PSP's payment token."
    )
    address: str | None = Field(default=None, min_length=1, max_length=1000)
    address_country: str | None = Field(
        default=None,
        min_length=2,
        max_length=100,
        description="Where the address is (ISO code or name); default: the server's region.",
    )
    ip: str | None = Field(default=None, min_length=1, max_length=100)


class CheckedIdentifier(BaseModel):
    """One identifier of a risk check, as normalised and as the graph knows it."""

    field: str = Field(description="The request field it came from, e.g. 'email'.")
    ref: str = Field(description="The identifier as 'Kind:key' (cards: their fingerprint).")
    accounts: int = Field(description="Accounts in the graph using it (0: never seen).")
    hub: bool = Field(description="Whether detection found it a hub: it ties no one.")


class RiskReasonRecord(BaseModel):
    """One reason behind a risk answer.

    ``kind`` is one of: ``known_bad`` (the account is labelled known-bad), ``tied_to_known_bad``
    (a path over shared identifiers leads to the known-bad ``account``; ``path`` lists the
    accounts on it), ``shares_with_known_bad`` (the identifiers in ``shared`` are also used by
    the known-bad ``account``), ``ring`` (an account within ``hops`` is in ring ``ring_id``).
    """

    kind: str
    account: str | None = Field(default=None, description="The known-bad account.")
    ring_id: str | None = None
    hops: int = Field(description="Accounts between the checked identifiers and it, plus one.")
    path: list[str] = Field(default_factory=list, description="Accounts on the way, in order.")
    shared: list[str] = Field(
        default_factory=list, description="Identifiers ('Kind:key') the first step shares."
    )


class RiskRing(BaseModel):
    """A ring within two hops of a risk check."""

    ring_id: str
    score: float
    typology: str
    status: RingStatus
    hops: int = Field(description="1: a member uses a checked identifier; 2: one step further.")
    view_url: str


class TiedAccount(BaseModel):
    """A known-bad account within two hops of a risk check."""

    account: str
    hops: int
    shared: list[str] = Field(description="What ties it (or the account on the way) to the check.")


class RiskCheck(BaseModel):
    """The answer to a risk check: how risky, what it ties to, and why."""

    risk: float = Field(
        description="0-1: the share of the graph's accounts with a lower propagated risk "
        "(1: a known-bad account; 0: tied to none by any path)."
    )
    known_bad: bool = Field(description="Whether the account checked is itself known-bad.")
    account: str | None = Field(description="The existing account checked, if one was given.")
    run_id: str = Field(description="The detection run the risk comes from.")
    identifiers: list[CheckedIdentifier]
    hubs: list[CheckedIdentifier] = Field(
        description="Checked identifiers left out because they are hubs (a café's IP)."
    )
    rings: list[RiskRing]
    known_bad_accounts: list[TiedAccount]
    reasons: list[RiskReasonRecord]
    truncated: bool = Field(description="Whether the two-hop neighbourhood was cut short.")


class RiskAccountsRequest(BaseModel):
    """Account keys to score in one call."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"accounts": ["A0000320", "A0000951"]}]}
    )

    accounts: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=1, max_length=1000, description="Up to 1,000 account keys."
    )


class AccountRiskRecord(BaseModel):
    """One account's risk and its nearest known-bad account."""

    account: str
    found: bool = Field(description="Whether the latest detection run saw the account.")
    risk: float | None = None
    known_bad: bool | None = None
    nearest_known_bad: str | None = None
    hops: int | None = Field(default=None, description="Steps to the nearest known-bad account.")
    via: str | None = Field(default=None, description="The next account on the way there.")
    rings: list[str] = Field(default_factory=list, description="Active rings it is in.")


class AccountRiskList(BaseModel):
    """Risk of each account asked for, in the order asked."""

    run_id: str
    accounts: list[AccountRiskRecord]


# -- jobs and health -----------------------------------------------------------------------


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _not_a_bool(value: Any) -> Any:
    # JSON true/false would otherwise pass as the integers 1 and 0.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not true or false")
    return value


def _iso_only(value: Any) -> Any:
    # Pydantic also reads a number, or text holding one, as Unix time; the schema promises
    # ISO 8601, so a number is refused rather than read as a date in 1970.
    text = str(value).strip()
    try:
        float(text)
    except ValueError:
        return value
    raise ValueError("must be an ISO 8601 time, such as 2026-03-01T00:00:00Z")


#: A time given as ISO 8601 text (UTC when it has no offset).
IsoTime = Annotated[datetime, BeforeValidator(_iso_only)]
#: A day given as ISO 8601 text (2026-03-01), never a number read as Unix time.
IsoDate = Annotated[date, BeforeValidator(_iso_only)]


class DetectionRequest(BaseModel):
    """Options of a detection run."""

    seed: Annotated[int, BeforeValidator(_not_a_bool)] = Field(
        default=0, ge=0, le=2**31 - 1, description="Seed of the randomised steps."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Detection settings to change for this run, by the names of the CLI's "
        '--set (GET /api/settings/detection): {"min_score": 0.8, '
        '"score_weights.burstiness": 0}. The rest keep the server\'s values.',
    )


class SettingInfo(BaseModel):
    """One detection setting: its type, default, the server's value and why it is what it is."""

    name: str
    type: dict[str, Any] = Field(description="JSON schema of its values.")
    default: Any
    value: Any = Field(description="What this server runs with (defaults and environment).")
    rationale: str


class JobProgress(BaseModel):
    """The stage a running job is in."""

    stage: str
    done: int
    total: int


class DetectionOutcome(BaseModel):
    """What a finished detection found."""

    run_id: str = Field(description="The run recorded in the store (GET /api/runs).")
    rings: int
    accounts: int
    candidates: int
    seconds: float


class Job(BaseModel):
    """A background detection run."""

    job_id: str
    state: JobState
    seed: int
    settings: dict[str, Any] = Field(
        default_factory=dict, description="The settings the request changed."
    )
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: JobProgress | None = None
    result: DetectionOutcome | None = None
    error: str | None = None


class ReadModelState(StrEnum):
    """Where rings and linkage are read from (the states of the app's caching store)."""

    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    #: No caching store: the engine is shared with other writers, or it is turned off.
    OFF = "off"


class Health(BaseModel):
    """Whether the service and its store answer."""

    status: str
    engine: str = Field(description="Store engine: duckdb or neo4j.")
    rings: int = Field(description="Active rings in the store.")
    read_model: ReadModelState = Field(
        description="Whether ring detail and linkage are served from memory: 'building' at "
        "start, then 'ready'; 'off' on engines other processes write to, or when disabled; "
        "'failed' if it could not be built (the store is read instead)."
    )
    incremental: bool = Field(
        False,
        description="Whether the graph's global facts from the last full detection are kept, "
        "so an append re-detects by reading only the links around its rows (made after the "
        "read model, or on the first append).",
    )
    version: str


# -- conversions ---------------------------------------------------------------------------


def json_response(answer: BaseModel) -> Response:
    """An answer built by the route itself, serialised as it is.

    For the hot routes (``response_model`` then documents the schema): FastAPI would first
    validate the returned model once more, which costs as much as building it (a batch of a
    thousand accounts, a linkage answer of two hundred entities)."""
    return Response(answer.model_dump_json(), media_type="application/json")


def view_path(ring_id: str) -> str:
    """Path of a ring's interactive view."""
    return f"/rings/{quote(ring_id, safe='')}/view"


def _summary_fields(ring: Ring) -> dict[str, Any]:
    return {
        "ring_id": ring.ring_id,
        "score": ring.score,
        "typology": ring.typology,
        "size": ring.size,
        "status": ring.status,
        "note": ring.note,
        "assignee": ring.assignee,
        "first_detected": ring.first_detected,
        "last_seen": ring.last_seen,
        "active": ring.active,
        "view_url": view_path(ring.ring_id),
    }


def _entity_fields(row: Any) -> dict[str, Any]:
    return {
        "ref": f"{row.kind}:{row.key}",
        "kind": str(row.kind),
        "key": str(row.key),
        "display": _text(row.display),
        "created_at": _time(row.created_at),
        "label": _text(row.label),
        "attributes": None if (text := _text(row.attributes)) is None else json.loads(text),
    }


# Each with a fast path for the common case first: they run for every cell of every answer.


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return None if value is None or pd.isna(value) else str(value)


def _time(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime: stores keep UTC without an offset, and the
    API's ``date-time`` fields (RFC 3339) need one."""
    if value is None or (type(value) is not datetime and pd.isna(value)):
        return None
    stamp = value if type(value) is datetime else pd.Timestamp(value).to_pydatetime()
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    if value is None or pd.isna(value) or not math.isfinite(float(value)):
        return None
    return float(value)


# -- new rows and alerts ---------------------------------------------------------------------

#: Most rows one ``POST /api/events`` takes: larger batches belong in ``graphfraud load``.
MAX_EVENT_ROWS = 10_000

#: A sign-up, a login, an order and a transfer in the built-in marketplace mapping's tables,
#: as the generator writes them.
EVENTS_EXAMPLE: dict[str, Any] = {
    "tables": {
        "accounts": [
            {"account_id": "A1000001", "created_at": "2026-01-16T14:02:11Z",
             "account_type": "buyer", "email": "jose.gomez431@yahoo.com",
             "phone": "(919) 525-4828", "country": "US", "signup_ip": "71.231.200.68",
             "known_bad": ""}
        ],
        "logins": [
            {"account_id": "A1000001", "ts": "2026-01-16T14:05:40Z",
             "device_fingerprint": "66748de442d2b011", "ip": "71.231.200.68"}
        ],
        "orders": [
            {"order_id": "O100000001", "buyer_id": "A1000001", "seller_id": "A0916002",
             "creator_id": "", "ts": "2026-01-16T14:48:23Z", "amount": 74.75,
             "ship_address": "5211 holly st. milwaukee 53211-6096", "ship_country": "US",
             "card_number": "5105 1082 9745 6208"}
        ],
        "transfers": [
            {"from_account": "A1000001", "to_account": "A0157176",
             "ts": "2026-01-16T15:34:28Z", "amount": 19.43}
        ],
    }
}  # fmt: skip

Cell = str | float | int | None


class EventBatch(BaseModel):
    """New rows, by table of the server's mapping (the built-in ``marketplace`` mapping
    unless ``GRAPHFRAUD_INGEST_MAPPING`` names another), one object per row, keyed by the
    mapped column names. A column the mapping reads that a row leaves out is empty."""

    model_config = ConfigDict(json_schema_extra={"examples": [EVENTS_EXAMPLE]})

    tables: dict[str, list[dict[str, Cell]]] = Field(
        description=f"Rows per table name; at most {MAX_EVENT_ROWS:,} rows in all."
    )


class RejectRecord(BaseModel):
    """A rejected row or field, as a load's rejects file lists it."""

    table: str
    row: int = Field(description="The row's position in its table's list, from 1.")
    column: str = Field(description="The column rejected ('' for the whole row).")
    dropped: str = Field(description="'row' (not loaded) or 'field' (the rest loaded).")
    reason: str


class IncrementalOutcome(BaseModel):
    """What the incremental re-detection after an append did."""

    run_id: str = Field(description="The run recorded in the store (GET /api/runs).")
    accounts: int = Field(description="Accounts in the components detected again.")
    rings: list[str] = Field(description="Ids of the rings found there (new or kept ids).")
    rings_kept: int = Field(description="Rings elsewhere, kept as they were.")
    seconds: float = Field(description="Loading the rows and detecting again, in all.")
    timings: dict[str, float] = Field(
        description="Seconds per step of the re-detection: reading, projection, components, "
        "detection, writing."
    )


class EventsAccepted(BaseModel):
    """What was done with the rows sent."""

    accepted: int = Field(description="Rows loaded (some perhaps without a rejected field).")
    rejected: int = Field(description="Rows not loaded at all.")
    with_rejected_fields: int = Field(description="Rows loaded without one or more fields.")
    entities: int
    links: int
    events: int
    rejects: list[RejectRecord]
    detection: IncrementalOutcome | None = Field(
        description="The re-detection of what the rows touched; null before any detection "
        "run (run one first: POST /api/jobs/detection)."
    )


#: An alert id (``<run_id>:<ring_id>``), as ``?since=`` takes it.
ALERT_ID = re.compile(r"[^:\s]+:[^:\s]+")
_TIME = TypeAdapter(IsoTime)


def _time_or_alert(value: Any) -> datetime | str:
    """An ISO 8601 time, or else an alert id; neither is a ValueError saying so."""
    try:
        return _TIME.validate_python(value)
    except ValidationError:
        if isinstance(value, str) and len(value) <= 200 and ALERT_ID.fullmatch(value):
            return value
    raise ValueError("must be an ISO 8601 time (2026-03-01T00:00:00Z) or an alert id")


#: ``?since=`` of the alert feed: a time, or an alert id (alerts after its run).
TimeOrAlert = Annotated[
    datetime | str,
    PlainValidator(_time_or_alert),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": f"^{ALERT_ID.pattern}$", "maxLength": 200},
            ]
        }
    ),
]


class AlertRecord(RingAppearanceRecord):
    """A ring a run found new, back, grown or changed."""

    alert_id: str = Field(description="Unique; pass it as ?since= to get only later alerts.")
    ring_id: str


class AlertList(BaseModel):
    """One page of alerts, newest first, and how many there are in all."""

    total: int
    offset: int
    limit: int
    alerts: list[AlertRecord]
