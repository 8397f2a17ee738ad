"""The data model: entity and link kinds, frame layouts, rings and subgraphs.

Entities and links cross module boundaries as pandas frames with the columns below; rings and
subgraphs are small dataclasses. An entity is identified by its kind and its normalised key;
``"Account:A-17"`` is the text form used in URLs and on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

import pandas as pd

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

#: Columns of an events frame: one row per event a source recorded (an order, a transfer, a
#: login), kept whole where links keep only counts and sums. ``event_id`` identifies it (a
#: store holds one row per id); ``source`` is the table it came from and ``kind`` what it is
#: (``"order"``); ``account`` the acting account's key; ``time`` and ``amount`` as the source
#: gave them (either may be null); ``refs`` the other entities it touched, as a list of
#: ``"Kind:key"`` strings (``["PaymentInstrument:pi_…", "Account:A-17"]``).
EVENT_COLUMNS: tuple[str, ...] = ("event_id", "source", "kind", "account", "time", "amount", "refs")

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
    """Investigator verdict on a ring; anything but NEW survives re-runs of detection."""

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


@dataclass
class Subgraph:
    """A piece of the entity graph: ``nodes`` has ENTITY_COLUMNS, ``edges`` has LINK_COLUMNS."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    truncated: bool = False

    @property
    def is_empty(self) -> bool:
        return self.nodes.empty


@dataclass(frozen=True)
class RingMember:
    """An account in a ring, with its role and centrality inside the ring."""

    account: str
    role: str = "member"
    pagerank: float = 0.0
    degree: int = 0


@dataclass
class Ring:
    """A detected ring: members, score and the evidence behind it (JSON-serialisable)."""

    ring_id: str
    score: float
    typology: str
    members: list[RingMember]
    evidence: dict[str, Any] = field(default_factory=dict)
    status: RingStatus = RingStatus.NEW
    note: str = ""
    detected_at: str = ""

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def accounts(self) -> list[str]:
        return [member.account for member in self.members]


@dataclass(frozen=True)
class RingFilter:
    """Which rings to list; every field is optional."""

    min_score: float | None = None
    typology: str | None = None
    status: RingStatus | None = None
    min_size: int | None = None
    max_size: int | None = None
    account: str | None = None

    def matches(self, ring: Ring) -> bool:
        """Whether ``ring`` passes every filter given: what the engines' queries ask of the
        active rings, for rings already in memory."""
        return (
            (self.min_score is None or ring.score >= self.min_score)
            and (self.typology is None or ring.typology == self.typology)
            and (self.status is None or ring.status == self.status)
            and (self.min_size is None or ring.size >= self.min_size)
            and (self.max_size is None or ring.size <= self.max_size)
            and (self.account is None or any(m.account == self.account for m in ring.members))
        )


@dataclass(frozen=True)
class Page:
    """A page of a listing, sorted by ``sort`` (score, size or ring_id), descending by default."""

    offset: int = 0
    limit: int = 50
    sort: str = "score"
    descending: bool = True

    def of(self, rings: list[Ring]) -> list[Ring]:
        """This page of ``rings`` in memory, ordered as the engines order it: by ``sort`` in
        its direction, ties by ring id ascending."""
        ordered = sorted(rings, key=lambda ring: ring.ring_id)
        ordered.sort(key=lambda ring: getattr(ring, self.sort), reverse=self.descending)
        return ordered[self.offset : self.offset + self.limit]


@dataclass(frozen=True)
class RingPage:
    """One page of rings and the total number that match the filter."""

    rings: list[Ring]
    total: int


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
