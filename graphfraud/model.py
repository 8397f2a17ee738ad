"""The data model: entity and link kinds, frame layouts, rings, subgraphs, verdicts and runs.

Entities and links cross module boundaries as pandas frames with the columns below; rings,
subgraphs and the records of verdicts, audit trails and detection runs are small dataclasses.
An entity is identified by its kind and its normalised key;
``"Account:A-17"`` is the text form used in URLs and on the command line.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from graphfraud.errors import InputError


class EntityKind(StrEnum):
    """Built-in entity kinds. Kinds are an open set: a mapping may declare others."""

    ACCOUNT = "Account"
    DEVICE = "Device"
    ADDRESS = "Address"
    PAYMENT_INSTRUMENT = "PaymentInstrument"
    CREATOR = "Creator"
    IP = "IP"
    PHONE = "Phone"
    EMAIL = "Email"
    #: A person's name (a recipient, a seller's legal name), where a mapping uses one.
    NAME = "Name"


class LinkKind(StrEnum):
    """Built-in link kinds; the source of every link is an Account."""

    USES_DEVICE = "USES_DEVICE"
    SHIPS_TO = "SHIPS_TO"
    PAYS_WITH = "PAYS_WITH"
    LOGS_IN_FROM = "LOGS_IN_FROM"
    HAS_PHONE = "HAS_PHONE"
    HAS_EMAIL = "HAS_EMAIL"
    BUYS_VIA = "BUYS_VIA"
    OWNS = "OWNS"
    REFERRED = "REFERRED"
    TRANSACTS_WITH = "TRANSACTS_WITH"


#: The link a mapping gets for an identifier column when it names none.
DEFAULT_LINK: dict[str, str] = {
    EntityKind.DEVICE: LinkKind.USES_DEVICE,
    EntityKind.ADDRESS: LinkKind.SHIPS_TO,
    EntityKind.PAYMENT_INSTRUMENT: LinkKind.PAYS_WITH,
    EntityKind.IP: LinkKind.LOGS_IN_FROM,
    EntityKind.PHONE: LinkKind.HAS_PHONE,
    EntityKind.EMAIL: LinkKind.HAS_EMAIL,
    EntityKind.CREATOR: LinkKind.BUYS_VIA,
}

#: Link kinds that join two accounts directly.
ACCOUNT_LINKS: frozenset[str] = frozenset({LinkKind.REFERRED, LinkKind.TRANSACTS_WITH})

#: Columns of an entities frame. ``created_at`` and ``label`` matter for accounts (creation time
#: and a known-bad label such as "fraud"); ``display`` is a safe human form (e.g. "card ••4242");
#: ``attributes`` is a JSON object as text (``{"country": "ID", "kyc_level": 2}``) or null:
#: whatever else a source says about the entity, merged per key, the newest non-null value
#: winning.
ENTITY_COLUMNS: tuple[str, ...] = ("kind", "key", "display", "created_at", "label", "attributes")

#: Columns of a links frame. One row per (src, kind, dst): ``count`` observations between
#: ``first_seen`` and ``last_seen``; ``amount`` sums money/order value where the link has one.
LINK_COLUMNS: tuple[str, ...] = (
    "src_kind",
    "src_key",
    "kind",
    "dst_kind",
    "dst_key",
    "first_seen",
    "last_seen",
    "count",
    "amount",
)

#: Columns of :attr:`CodedLinks.links`: a links frame whose ends are node codes.
CODED_LINK_COLUMNS: tuple[str, ...] = (
    "src",
    "kind",
    "dst",
    "first_seen",
    "last_seen",
    "count",
    "amount",
)


@dataclass(frozen=True)
class CodedLinks:
    """Links with integer codes for their ends, as the store numbers them: what detection reads.

    Numbering is done where the links are read (in the database), so millions of key strings
    are never hashed again in Python; the order is the data's, not the rows', so the same data
    gives the same codes whatever order it was loaded in.

    Attributes
    ----------
    nodes
        ``kind`` (categorical, categories sorted) and ``key`` of every entity at a link's end
        and every account (an engine may number its other entities too), in (kind, key)
        order: a node's code is its position.
    links
        :data:`CODED_LINK_COLUMNS`: ``src`` and ``dst`` node codes, ``kind`` (categorical,
        categories sorted), and the link's ``first_seen``, ``last_seen``, ``count``,
        ``amount``.
    """

    nodes: pd.DataFrame
    links: pd.DataFrame

    @property
    def accounts(self) -> slice:
        """The codes of the accounts: (kind, key) order keeps them together."""
        kinds = self.nodes["kind"].cat
        names = [str(name) for name in kinds.categories]
        if EntityKind.ACCOUNT not in names:
            return slice(0, 0)
        codes, account = kinds.codes.to_numpy(), names.index(EntityKind.ACCOUNT)
        return slice(int(np.searchsorted(codes, account)), int(np.searchsorted(codes, account + 1)))


#: Columns of an events frame: one row per event a source recorded (an order, a transfer, a
#: login), kept whole where links keep only counts and sums. ``event_id`` identifies it (a
#: store holds one row per id); ``source`` is the table it came from and ``kind`` what it is
#: (``"order"``); ``account`` the acting account's key; ``time`` and ``amount`` as the source
#: gave them (either may be null); ``refs`` the other entities it touched, as a list of
#: ``"Kind:key"`` strings (``["PaymentInstrument:pi_…", "Account:A-17"]``).
EVENT_COLUMNS: tuple[str, ...] = ("event_id", "source", "kind", "account", "time", "amount", "refs")

#: Columns of an account risk frame (``algorithms.risk``), one row per account: ``risk`` (the
#: share of accounts scoring lower; 1 for a known-bad account), the propagated ``score`` behind
#: it, whether the account is ``known_bad``, and the reason: the ``nearest`` known-bad account,
#: the ``hops`` to it over the account projection and the next account ``via`` which the path
#: leads there (null / -1 where no path leads to a known-bad account).
RISK_COLUMNS: tuple[str, ...] = ("account", "risk", "score", "known_bad", "nearest", "hops", "via")

#: Columns of a hubs frame: things so widely used, by strangers, that detection let them link
#: no one (``algorithms.hubs``): the entity ``kind`` and ``key`` (kind ``Account``: an account
#: whose direct counterparties make it one), the ``link`` kind of its use, its users
#: (``accounts``: of this spelling; ``group_accounts``: of all its spellings), its kind's
#: ``fence`` and its users' ``cohesion``.
HUB_COLUMNS: tuple[str, ...] = (
    "kind",
    "key",
    "link",
    "accounts",
    "group_accounts",
    "fence",
    "cohesion",
)

#: The ring typologies detection names and the synthetic generator plants (DESIGN.md).
TYPOLOGIES: tuple[str, ...] = (
    "device_farm",
    "payment_sharing",
    "drop_address",
    "promo_abuse",
    "creator_collusion",
    "money_cycle",
)


class RingStatus(StrEnum):
    """Investigator verdict on a ring; detection never changes it."""

    NEW = "new"
    UNDER_REVIEW = "under_review"
    CONFIRMED = "confirmed"
    BENIGN = "benign"


class EntityRef(NamedTuple):
    """A reference to one entity by kind and normalised key."""

    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"

    @classmethod
    def parse(cls, text: str, *, default_kind: str | None = None) -> EntityRef:
        """Parse ``"Kind:key"``; a bare key takes ``default_kind`` when one is given."""
        kind, sep, key = text.partition(":")
        if sep and kind and key and kind[0].isupper():
            return cls(kind, key)
        if default_kind is not None and text:
            return cls(default_kind, text)
        raise InputError(f"entity reference {text!r} is not of the form Kind:key")


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame with the given columns and no rows."""
    return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})


#: Columns by name: a frame, or a mapping of arrays of equal length.
Columns = pd.DataFrame | Mapping[str, np.ndarray]


class Subgraph:
    """A piece of the entity graph: ``nodes`` has ENTITY_COLUMNS, ``edges`` has LINK_COLUMNS.

    Held as columns (NumPy arrays by name, ``node_columns`` and ``edge_columns``); the frames
    are built the first time they are asked for. A pandas frame costs a fraction of a
    millisecond to build however small, more than a walk of the graph in memory takes, so an
    answer read column by column (as the API does) never builds one.
    """

    def __init__(self, nodes: Columns, edges: Columns, truncated: bool = False) -> None:
        self.node_columns = {name: np.asarray(nodes[name]) for name in ENTITY_COLUMNS}
        self.edge_columns = {name: np.asarray(edges[name]) for name in LINK_COLUMNS}
        self.truncated = truncated

    @functools.cached_property
    def nodes(self) -> pd.DataFrame:
        """The entities, ``ENTITY_COLUMNS``."""
        return typed_frame(self.node_columns)

    @functools.cached_property
    def edges(self) -> pd.DataFrame:
        """The links, ``LINK_COLUMNS``."""
        return typed_frame(self.edge_columns)

    @property
    def is_empty(self) -> bool:
        return len(self.node_columns["key"]) == 0

    def __repr__(self) -> str:
        nodes, edges = len(self.node_columns["key"]), len(self.edge_columns["kind"])
        return f"Subgraph({nodes} nodes, {edges} edges, truncated={self.truncated})"


#: Columns of entity and link frames that hold times, and what the other typed ones hold.
_TIME_COLUMNS = frozenset({"created_at", "first_seen", "last_seen"})
_NUMBER_COLUMNS = {"count": "int64", "amount": "float64"}


def typed_frame(columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """A frame of entity or link columns, typed as the stores type them: times as
    microseconds, counts as integers, amounts as floats, text as Python objects."""
    typed: dict[str, pd.Series] = {}
    for name, values in columns.items():
        if name in _TIME_COLUMNS:
            typed[name] = pd.Series(pd.to_datetime(values)).astype("datetime64[us]")
        elif name in _NUMBER_COLUMNS:
            typed[name] = pd.Series(values, dtype=_NUMBER_COLUMNS[name])
        else:  # missing text as None, whichever engine's missing value it came as
            text = pd.Series(values, dtype=object)
            typed[name] = text.where(text.notna(), None)
    return pd.DataFrame(typed)


@dataclass(frozen=True)
class RingMember:
    """An account in a ring, with its role and centrality inside the ring."""

    account: str
    role: str = "member"
    pagerank: float = 0.0
    degree: int = 0


class _Evidence(BaseModel):
    """A part of a ring's evidence: typed, frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MemberEvidence(_Evidence):
    """A ring member: its role (organiser or member), centrality inside the ring, creation
    time (ISO 8601, None when the export has none) and known-bad label."""

    account: str
    role: str = "member"
    pagerank: float = 0.0
    degree: int = 0
    betweenness: float = 0.0
    created_at: str | None = None
    known_bad: bool = False


class SharedThing(_Evidence):
    """An identifier members share (or a hub they touch): ``members`` of the ring use it,
    ``accounts`` in the whole graph do."""

    kind: str
    key: str
    display: str | None = None
    link: str = ""
    members: int = 0
    accounts: int = 0


class DirectLinks(_Evidence):
    """Direct links of one kind between members: how many, touching how many members, their
    observation count and summed amount."""

    kind: str
    links: int = 0
    members: int = 0
    count: int = 0
    amount: float = 0.0


class LinkEvidence(_Evidence):
    """Ties between members: pairs tied in the projection, direct links per kind, and the
    accounts along the longest money cycle found (empty when none)."""

    pairs_tied: int = 0
    pairs: int = 0
    density: float = 0.0
    members_on_cycle: int = 0
    direct: list[DirectLinks] = Field(default_factory=list)
    cycle: list[str] = Field(default_factory=list)


class CreatorEvidence(_Evidence):
    """A creator members order through: how many (owners not counted), how many order through
    no other creator, and the member owning it (None if none does)."""

    key: str
    display: str | None = None
    members: int = 0
    only_creator_members: int = 0
    owned_by: str | None = None


class TimeSpan(_Evidence):
    """When members were created and how many act together within the windows used."""

    created_first: str | None = None
    created_last: str | None = None
    created_within_days: float | None = None
    burst_members: int = 0
    burst_days: float = 0.0
    lockstep_members: int = 0
    lockstep_hours: float = 0.0


class KnownBadEvidence(_Evidence):
    """Labelled members (``seeds``) and members strongly tied to labelled accounts outside."""

    seeds: list[str] = Field(default_factory=list)
    members_tied_to_seeds: int = 0


class ScoreEvidence(_Evidence):
    """The score: its total, the named contributions adding up to it, the measured signals
    they were computed from, and the sharing surprise households reach (``reference``)."""

    total: float = 0.0
    contributions: dict[str, float] = Field(default_factory=dict)
    signals: dict[str, float | int | None] = Field(default_factory=dict)
    reference: float | None = None


class TypologyEvidence(_Evidence):
    """The typology named and the reasons, one sentence each."""

    name: str = "mixed"
    reasons: list[str] = Field(default_factory=list)


class RingEvidence(_Evidence):
    """Everything behind a ring: what detection measured, explanations are written from, and
    the store keeps (as JSON: :meth:`to_json`, :meth:`from_json`)."""

    size: int = 0
    members: list[MemberEvidence] = Field(default_factory=list)
    shared_identifiers: list[SharedThing] = Field(default_factory=list)
    shared_identifiers_total: int = 0
    shared_by_kind: dict[str, int] = Field(default_factory=dict)
    covered_by_kind: dict[str, int] = Field(default_factory=dict)
    hubs: list[SharedThing] = Field(default_factory=list)
    links: LinkEvidence = Field(default_factory=LinkEvidence)
    creators: list[CreatorEvidence] = Field(default_factory=list)
    time_span: TimeSpan = Field(default_factory=TimeSpan)
    known_bad: KnownBadEvidence = Field(default_factory=KnownBadEvidence)
    score: ScoreEvidence = Field(default_factory=ScoreEvidence)
    typology: TypologyEvidence = Field(default_factory=TypologyEvidence)

    def to_json(self) -> str:
        """The evidence as JSON text (what the stores keep)."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> RingEvidence:
        """Evidence from :meth:`to_json` text.

        Examples
        --------
        >>> evidence = RingEvidence(size=3, shared_by_kind={"Device": 1})
        >>> RingEvidence.from_json(evidence.to_json()) == evidence
        True
        """
        return cls.model_validate_json(text)


@dataclass
class Ring:
    """A ring: members, score and the evidence behind it, and where it stands.

    Detection fills the first five fields. The store fills the rest when it reads a ring back:
    the investigator's verdict (``status``, ``assignee``, the latest of its notes), when the
    ring was first detected and last seen (UTC), and whether the latest run found it
    (``active``; a ring that disappeared is kept, retired).
    """

    ring_id: str
    score: float
    typology: str
    members: list[RingMember]
    evidence: RingEvidence = field(default_factory=RingEvidence)
    status: RingStatus = RingStatus.NEW
    note: str = ""
    assignee: str | None = None
    first_detected: datetime | None = None
    last_seen: datetime | None = None
    active: bool = True

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def accounts(self) -> list[str]:
        return [member.account for member in self.members]


#: Columns of a ring index: one light row per ring, what listings filter and sort on.
#: ``first_detected`` and ``last_seen`` are tz-aware UTC timestamps.
RING_INDEX_COLUMNS: tuple[str, ...] = (
    "ring_id",
    "score",
    "typology",
    "size",
    "status",
    "assignee",
    "first_detected",
    "last_seen",
    "active",
)


def ring_index(rings: list[Ring]) -> pd.DataFrame:
    """The ring index (``RING_INDEX_COLUMNS``) of rings in memory, in ring-id order."""
    rings = sorted(rings, key=lambda ring: ring.ring_id)
    return pd.DataFrame(
        {
            "ring_id": pd.Series([r.ring_id for r in rings], dtype=object),
            "score": pd.Series([float(r.score) for r in rings], dtype="float64"),
            "typology": pd.Series([r.typology for r in rings], dtype=object),
            "size": pd.Series([r.size for r in rings], dtype="int64"),
            "status": pd.Series([RingStatus(r.status).value for r in rings], dtype=object),
            "assignee": pd.Series([r.assignee for r in rings], dtype=object),
            "first_detected": pd.Series(
                [r.first_detected for r in rings], dtype="datetime64[us, UTC]"
            ),
            "last_seen": pd.Series([r.last_seen for r in rings], dtype="datetime64[us, UTC]"),
            "active": pd.Series([r.active for r in rings], dtype=bool),
        }
    )


@dataclass(frozen=True)
class RingFilter:
    """Which rings to list; every field is optional.

    ``active`` picks the rings the latest detection run found (the default), retired ones
    (``False``) or both (``None``).
    """

    min_score: float | None = None
    typology: str | None = None
    status: RingStatus | None = None
    min_size: int | None = None
    max_size: int | None = None
    account: str | None = None
    assignee: str | None = None
    active: bool | None = True
    #: Only rings first detected at or after this time (UTC when naive).
    detected_since: datetime | None = None

    def select(self, index: Columns, *, with_account: Collection[str] = ()) -> np.ndarray:
        """Positions, in order, of the rows of a ring ``index`` (``RING_INDEX_COLUMNS``)
        that pass every filter given.

        An index holds no members: ``with_account`` holds the ids of the rings ``account`` is
        a member of, which the filter keeps when an account is given.
        """

        def column(name: str) -> np.ndarray:
            return np.asarray(index[name])

        keep = np.ones(len(column("ring_id")), dtype=bool)
        if self.active is not None:
            keep &= column("active").astype(bool) == self.active
        if self.min_score is not None:
            keep &= column("score") >= self.min_score
        if self.typology is not None:
            keep &= column("typology") == self.typology
        if self.status is not None:
            keep &= column("status") == RingStatus(self.status).value
        if self.min_size is not None:
            keep &= column("size") >= self.min_size
        if self.max_size is not None:
            keep &= column("size") <= self.max_size
        if self.assignee is not None:
            keep &= column("assignee") == self.assignee
        if self.account is not None:
            keep &= np.isin(column("ring_id"), list(with_account))
        if self.detected_since is not None:
            since = pd.Timestamp(self.detected_since)
            since = since.tz_localize("UTC") if since.tzinfo is None else since
            first = pd.to_datetime(pd.Series(column("first_detected")), utc=True)
            keep &= (first >= since).to_numpy(dtype=bool)
        return np.flatnonzero(keep)


#: What ring listings can be sorted by.
RING_SORTS: tuple[str, ...] = ("score", "size", "ring_id", "first_detected", "last_seen")


@dataclass(frozen=True)
class Page:
    """A page of a listing, sorted by ``sort`` (one of ``RING_SORTS``), descending by default."""

    offset: int = 0
    limit: int = 50
    sort: str = "score"
    descending: bool = True

    def of(self, index: Columns, rows: np.ndarray | None = None) -> np.ndarray:
        """Positions of this page's rows of a ring ``index`` (of ``rows`` of it, when given):
        by ``sort`` in its direction, ties by ring id ascending, missing times last.

        The index must be in ring-id order (as stores and :func:`ring_index` give it): ties
        then keep their order, and sorting by ring id is sorting by position.
        """
        rows = np.arange(len(np.asarray(index["ring_id"]))) if rows is None else rows
        if self.sort == "ring_id":
            ordered = rows[::-1] if self.descending else rows
            return ordered[self.offset : self.offset + self.limit]
        values = index[self.sort]
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert(None)
        picked = np.asarray(values)[rows]
        missing = pd.isna(picked)
        if picked.dtype.kind == "M":
            picked = picked.astype("datetime64[us]").astype(np.int64)
        key = np.where(missing, 0.0, picked.astype(np.float64))
        # NumPy's lexsort: a fraction of a millisecond at any size, where a pandas sort costs a
        # millisecond even for ten rows. Keys from last to first: position, value, missing.
        order = np.lexsort((rows, -key if self.descending else key, missing))
        return rows[order[self.offset : self.offset + self.limit]]


@dataclass(frozen=True)
class RingPage:
    """One page of rings and the total number that match the filter."""

    rings: list[Ring]
    total: int


# -- verdicts, notes and the audit trail -----------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Where investigators stand on a ring: kept apart from what detection writes.

    ``revision`` counts the changes made to it; each change's notes and audit entries carry
    the revision it made, which orders them.
    """

    status: RingStatus = RingStatus.NEW
    assignee: str | None = None
    revision: int = 0


@dataclass(frozen=True)
class Note:
    """One note in a ring's thread (notes are only ever added)."""

    ring_id: str
    time: datetime
    actor: str
    text: str
    revision: int


#: The parts of a verdict the audit trail follows.
AUDITED_FIELDS: tuple[str, ...] = ("status", "assignee", "note")


@dataclass(frozen=True)
class AuditEntry:
    """One change to a ring's verdict: who changed which field, when, from what to what.

    For a note, ``old`` is None and ``new`` the note added.
    """

    time: datetime
    actor: str
    ring_id: str
    field: str
    old: str | None
    new: str | None
    revision: int


@dataclass(frozen=True)
class VerdictChange:
    """What one change writes, all in one transaction: the new verdict, the notes it adds and
    the audit entries recording it."""

    verdict: Verdict
    notes: tuple[Note, ...] = ()
    audit: tuple[AuditEntry, ...] = ()


# -- detection runs and ring history ---------------------------------------------------------


class RingChange(StrEnum):
    """What a detection run did to a ring, measured against its stored membership."""

    NEW = "new"
    #: Found again after a run that had retired it.
    RETURNED = "returned"
    GROWN = "grown"
    SHRUNK = "shrunk"
    #: As many members as before, not all the same.
    CHANGED = "changed"
    SAME = "same"
    #: Not found by this run: kept, inactive.
    RETIRED = "retired"


@dataclass(frozen=True)
class DetectionRun:
    """One detection run as the store records it.

    Detection fills what it knows (when it started, its settings, the span of link times it
    read, the graph engine, the version, the accounts and candidates it looked at); the store
    fills the rest when the run's rings are written: when it finished (if not given) and how
    many rings it found, new, returned, grown, shrunk and retired.
    """

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    data_from: datetime | None = None
    data_to: datetime | None = None
    engine: str = ""
    version: str = ""
    accounts: int = 0
    candidates: int = 0
    rings: int = 0
    new: int = 0
    returned: int = 0
    grown: int = 0
    shrunk: int = 0
    retired: int = 0


@dataclass(frozen=True)
class RingAppearance:
    """What one run did to one ring: its change, size and score, who joined and who left."""

    run_id: str
    time: datetime
    change: RingChange
    size: int
    score: float | None
    joined: tuple[str, ...]
    left: tuple[str, ...]


@dataclass(frozen=True)
class RingAlert(RingAppearance):
    """A run found a ring new, back, grown or changed: what the alert feed lists.

    ``alert_id`` (``<run_id>:<ring_id>``) is unique, and a cursor: alerts of later runs
    come after it.
    """

    ring_id: str
    alert_id: str


#: What a run did to a ring that is worth an alert: it is new, back, or has new members.
ALERT_CHANGES: tuple[RingChange, ...] = (
    RingChange.NEW,
    RingChange.RETURNED,
    RingChange.GROWN,
    RingChange.CHANGED,
)


@dataclass(frozen=True)
class RingHistory:
    """A ring through the detection runs, oldest first."""

    ring_id: str
    first_detected: datetime | None
    last_seen: datetime | None
    active: bool
    appearances: list[RingAppearance]


@dataclass(frozen=True)
class StoreStats:
    """What a store holds."""

    entities: dict[str, int]
    links: dict[str, int]
    rings: int

    @property
    def entity_total(self) -> int:
        return sum(self.entities.values())

    @property
    def link_total(self) -> int:
        return sum(self.links.values())


class RiskReasonKind(StrEnum):
    """Why an account carries risk."""

    #: The account itself carries a known-bad label.
    KNOWN_BAD = "known_bad"
    #: A path over shared identifiers leads from it to a known-bad account.
    TIED_TO_KNOWN_BAD = "tied_to_known_bad"


@dataclass(frozen=True)
class RiskReason:
    """One reason for an account's risk: the nearest known-bad account and the way there.

    Attributes
    ----------
    kind
        :class:`RiskReasonKind`.
    account
        The known-bad account (the account itself for ``known_bad``).
    hops
        Steps from the account to it over the account projection.
    path
        The accounts along the way, from the account to the known-bad one.
    shared
        What the account and the next on the path share (``"Kind:key"``; an ``Account:``
        entry is a direct link between them), hubs left out.
    """

    kind: RiskReasonKind
    account: str
    hops: int
    path: tuple[str, ...]
    shared: tuple[str, ...]


@dataclass(frozen=True)
class AccountRisk:
    """An account's risk by association with known-bad accounts, and why.

    ``risk`` is the share of the graph's accounts whose propagated score is lower (1 for a
    known-bad account, 0 when no path leads to one).
    """

    account: str
    risk: float
    known_bad: bool
    reasons: tuple[RiskReason, ...]


@dataclass(frozen=True)
class GroundTruth:
    """What was planted in a generated marketplace, resolved to loaded account keys.

    Attributes
    ----------
    rings
        Planted rings: ``ring_id``, ``typology``, ``account_id`` (one row per member) and
        whether the ring is ``camouflaged`` (its members also act normally).
    benign
        Innocent look-alikes (households, café IPs, lockers, ...): ``structure_id``, ``kind``,
        ``account_id`` (one row per account using the structure's identifiers).
    """

    rings: pd.DataFrame
    benign: pd.DataFrame
