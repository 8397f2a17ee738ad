"""The marketplace's skeleton, planned before any row is written.

Every account's creation time and type, who belongs to which planted ring, the known-bad
labels, and the pools everyone draws from (sellers, creators, carrier-NAT and café IPs,
parcel lockers) live here, in arrays of one entry per account or per pooled thing. Chunks of
accounts are then generated independently against this shared picture.

A :class:`Scenario` says which *family* of marketplace to plan: the standard one, or one that
breaks an assumption a detector could lean on (rings that sign up in a burst, carry labels,
export creation times, behave only as rings, or hubs that are few, of few kinds and spelled
one way). :data:`FAMILIES` names the ones ``graphfraud generate --family`` and
``graphfraud evaluate`` know.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from graphfraud.errors import InputError
from graphfraud.model import TYPOLOGIES
from loaders.synthetic import vocabulary as words
from loaders.synthetic.keys import PROXY_BASE, Ints
from loaders.synthetic.sampling import (
    DAY,
    END,
    HOUR,
    START,
    Floats,
    later,
    popularity,
    shares,
)
from loaders.synthetic.tables import Rows
from loaders.synthetic.text import Renderer

Progress = Callable[[str, int, int], None]
Bools = npt.NDArray[np.bool_]

INNOCENT, CAMOUFLAGED, RING = 0, 1, 2  # what an account is, in World.state
BUYER, SELLER, CREATOR = 0, 1, 2  # account types, in World.types
ACCOUNT_TYPES = np.array(["buyer", "seller", "creator"], dtype=object)
#: Days over which a ring's accounts sign up (three times longer when camouflaged).
SIGNUP_BURST_DAYS = {
    "device_farm": 0.5,
    "promo_abuse": 1,
    "payment_sharing": 6,
    "drop_address": 10,
    "creator_collusion": 5,
    "money_cycle": 20,
}


@dataclass(frozen=True)
class Scenario:
    """What kind of marketplace to generate; every flag off is the standard family.

    Attributes
    ----------
    aged
        Rings are made of old accounts from all over the marketplace's life (bought or
        long-dormant accounts): no sign-up burst.
    unlabelled
        No ring member carries a known-bad label (label noise on innocents stays).
    no_created
        The export has no account creation times (the column is empty).
    camouflage
        Every ring member also lives an ordinary life: popular sellers, creators, carrier
        IPs, lockers, its own home and cards, besides what the ring shares.
    spelled_hubs
        Widely used places and devices are written in several spellings, so one parcel
        locker or one in-store kiosk becomes several identifiers of a few dozen users each.
    hubs
        Hubs of every kind, not just IPs and addresses: in-store kiosk devices, prepaid gift
        cards, a hotel reception's phone, placeholder e-mail addresses.
    p2p
        Shaped like a peer-to-peer payments export: users, devices, IPs, cards, referrals and
        payments between users; no orders, addresses, creators or creation times, so only
        device farms, card sharing, referral abuse and money cycles are planted.
    """

    aged: bool = False
    unlabelled: bool = False
    no_created: bool = False
    camouflage: bool = False
    spelled_hubs: bool = False
    hubs: bool = False
    p2p: bool = False

    @property
    def typologies(self) -> tuple[str, ...]:
        """The ring typologies this family plants."""
        if self.p2p:
            return tuple(t for t in TYPOLOGIES if t not in P2P_ABSENT_TYPOLOGIES)
        return TYPOLOGIES


#: Typologies a P2P payments export cannot show (it has no addresses, orders or creators).
P2P_ABSENT_TYPOLOGIES = ("drop_address", "creator_collusion")

#: The scenario families, by name. ``hard`` combines every break of the standard assumptions.
FAMILIES: dict[str, Scenario] = {
    "standard": Scenario(),
    "aged": Scenario(aged=True),
    "unlabelled": Scenario(unlabelled=True),
    "no_created": Scenario(no_created=True),
    "camouflage": Scenario(camouflage=True),
    "spelled_hubs": Scenario(spelled_hubs=True),
    "hubs": Scenario(hubs=True),
    "p2p": Scenario(p2p=True, no_created=True, aged=True),
    "hard": Scenario(
        aged=True,
        unlabelled=True,
        no_created=True,
        camouflage=True,
        spelled_hubs=True,
        hubs=True,
    ),
}


def scenario_of(family: str) -> Scenario:
    """The scenario of a family name; InputError naming the known ones otherwise."""
    if family not in FAMILIES:
        raise InputError(f"unknown scenario family {family!r}; use one of {', '.join(FAMILIES)}")
    return FAMILIES[family]


@dataclass
class Ring:
    """A planted ring: its id, typology and members (account indices, ascending)."""

    ring_id: str
    typology: str
    members: Ints
    camouflaged: bool


@dataclass
class World:
    """What every chunk needs to know about the whole marketplace."""

    n: int
    seed: int
    created: Ints
    types: npt.NDArray[np.int8]
    state: npt.NDArray[np.int8]
    bad: Bools
    render: Renderer
    scenario: Scenario = field(default_factory=Scenario)
    rings: list[Ring] = field(default_factory=list)
    sellers: Ints = field(default_factory=lambda: np.array([], np.int64))
    seller_weights: Floats = field(default_factory=lambda: np.array([], np.float64))
    creator_owner: Ints = field(default_factory=lambda: np.array([], np.int64))
    creator_created: Ints = field(default_factory=lambda: np.array([], np.int64))
    creator_names: np.ndarray = field(default_factory=lambda: np.array([], object))
    creator_weights: Floats = field(default_factory=lambda: np.array([], np.float64))
    ring_creators: Ints = field(default_factory=lambda: np.array([], np.int64))
    nat_weights: Floats = field(default_factory=lambda: np.array([], np.float64))
    cafe_weights: Floats = field(default_factory=lambda: np.array([], np.float64))
    locker_weights: Floats = field(default_factory=lambda: np.array([], np.float64))
    #: Hubs of the ``hubs`` and ``spelled_hubs`` families (empty otherwise).
    kiosk_weights: Floats = field(default_factory=lambda: np.array([], np.float64))
    prepaid_weights: Floats = field(default_factory=lambda: np.array([], np.float64))
    reception_weights: Floats = field(default_factory=lambda: np.array([], np.float64))
    #: Rows of ring activity, by table; merged into the chunk holding each row's account.
    ring_rows: Rows = field(default_factory=Rows)
    #: What ring members put in their account row instead of an innocent-looking value.
    email_overrides: dict[int, str] = field(default_factory=dict)
    phone_overrides: dict[int, str | None] = field(default_factory=dict)
    signup_overrides: dict[int, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def warehouses(self) -> int:
        return min(len(words.WAREHOUSES), max(2, self.n // 50_000))

    def allocate(self, namespace: str, count: int) -> Ints:
        """Fresh keys for things only a ring uses: its devices, cards, drop addresses, IPs."""
        start = self.counters.get(namespace, 0)
        self.counters[namespace] = start + count
        bases = {
            "device": 5 * self.n,
            "card": 4 * self.n,
            "address": 5 * self.n,
            "home_ip": 2 * self.n,
            "proxy": PROXY_BASE,
        }
        return bases[namespace] + start + np.arange(count, dtype=np.int64)


def plan_world(
    n: int,
    seed: int,
    tell: Progress,
    scenario: Scenario | None = None,
    *,
    render: Renderer | None = None,
) -> World:
    """Accounts' creation times and types, planted rings, labels and shared pools.

    ``render`` renders the marketplace's text (default: US cards and addresses).
    """
    rng = np.random.default_rng([seed, 1])
    position = (np.arange(n) + 0.5) / n
    # Sign-ups grow over time (more per day near the export); ids follow sign-up order.
    created = START + ((END - START) * position**0.6).astype(np.int64)
    created += rng.normal(0, 6 * HOUR, n).astype(np.int64)
    created = np.clip(created, START, END - HOUR)
    types = shares(rng, np.array([0.9, 0.07, 0.03]), n).astype(np.int8)
    state = np.zeros(n, np.int8)
    render = Renderer(n, seed) if render is None else render
    world = World(n, seed, created, types, state, np.zeros(n, bool), render, scenario or Scenario())
    _plant_rings(world, rng, tell)
    innocent = np.flatnonzero(world.state == INNOCENT)
    world.bad[rng.choice(innocent, size=max(1, n // 2_000), replace=False)] = True  # label noise
    _plan_pools(world, rng)
    return world


def ring_count(n: int) -> int:
    """About one ring per 1,000 accounts; from 2,000 accounts at least two per typology."""
    if n >= 2_000:
        return max(2 * len(TYPOLOGIES), round(n / 1_000))
    return max(1, min(2 * len(TYPOLOGIES), n // 150))


def ring_sizes(rng: np.random.Generator, count: int, n: int) -> Ints:
    """Heavy-tailed sizes in 3..200 (many small, a few large), together at most 5% of ``n``."""
    low, high, alpha = 3.0, 200.0, 0.4
    tail = 1.0 - (low / (high + 1)) ** alpha
    sizes = np.floor(low * (1.0 - rng.random(count) * tail) ** (-1.0 / alpha)).astype(np.int64)
    budget = max(3 * count, int(0.05 * n))
    cap = int(sizes.max())
    while np.minimum(sizes, cap).sum() > budget and cap > 3:
        cap -= 1
    return np.clip(sizes, 3, cap)


def _plant_rings(world: World, rng: np.random.Generator, tell: Progress) -> None:
    n = world.n
    count = ring_count(n)
    sizes = ring_sizes(rng, count, n)
    scenario = world.scenario
    kinds = scenario.typologies
    typologies = np.array(kinds)[rng.permutation(np.arange(count) % len(kinds))]
    camouflaged = np.zeros(count, bool)
    camouflaged[rng.permutation(count)[: count if scenario.camouflage else round(count / 4)]] = True
    seeded = np.zeros(count, bool)
    seeded[rng.permutation(count)[: 0 if scenario.unlabelled else round(count / 2)]] = True
    # Rings start once the marketplace has users and leave time to act before the export.
    last = int(np.searchsorted(world.created, END - 45 * DAY))
    first = min(int(0.02 * n), last // 2)
    for index in range(count):
        free = world.state == INNOCENT
        if scenario.aged:  # old accounts from anywhere before the ring starts acting
            members = np.sort(rng.choice(np.flatnonzero(free[:last]), int(sizes[index]), False))
        else:
            members = _pick_members(rng, free, int(sizes[index]), first, last)
        ring = Ring(f"R{index + 1:04d}", str(typologies[index]), members, bool(camouflaged[index]))
        world.state[members] = CAMOUFLAGED if ring.camouflaged else RING
        world.types[members] = BUYER
        if not scenario.aged:
            burst = SIGNUP_BURST_DAYS[ring.typology] * DAY * (3 if ring.camouflaged else 1)
            offsets = np.sort(rng.uniform(0, burst, len(members))).astype(np.int64)
            latest = END - 40 * DAY
            world.created[members] = np.minimum(world.created[members[0]] + offsets, latest)
        if seeded[index]:  # a chargeback or prior-fraud label on a fifth of the members
            labelled = rng.choice(members, size=max(1, round(0.2 * len(members))), replace=False)
            world.bad[labelled] = True
        world.rings.append(ring)
        tell("planning rings", index + 1, count)


def _pick_members(rng: np.random.Generator, free: Bools, size: int, first: int, last: int) -> Ints:
    """Accounts that signed up close together: a window of ids shared with innocent sign-ups."""
    width = int(size * rng.uniform(2, 25)) + 1
    while True:
        lo = first if width >= last - first else int(rng.integers(first, last - width))
        candidates = lo + np.flatnonzero(free[lo : lo + width])
        if len(candidates) >= size:
            return np.sort(rng.choice(candidates, size=size, replace=False)).astype(np.int64)
        if width >= len(free):
            raise InputError(f"not enough accounts to plant a ring of {size}")
        width *= 2


def _plan_pools(world: World, rng: np.random.Generator) -> None:
    """Sellers and creators with their popularity, shared IPs and parcel lockers."""
    n = world.n
    usable = world.state != RING
    for kind in (SELLER, CREATOR):  # a tiny marketplace still has a seller and a creator
        if not ((world.types == kind) & usable).any():
            world.types[
                np.flatnonzero((world.types == BUYER) & (world.state == INNOCENT))[kind]
            ] = kind
    world.sellers = np.flatnonzero((world.types == SELLER) & usable).astype(np.int64)
    world.seller_weights = popularity(len(world.sellers), 0.9, rng)

    # Creators: storefronts of creator accounts (a few run two), plus one per collusion ring,
    # numbered in the order they opened.
    owners = np.flatnonzero((world.types == CREATOR) & usable)
    owners = np.concatenate([owners, owners[rng.random(len(owners)) < 0.1]])
    ring_owners = np.array(
        [ring.members[0] for ring in world.rings if ring.typology == "creator_collusion"],
        dtype=np.int64,
    )
    world.types[ring_owners] = CREATOR
    every_owner = np.concatenate([owners, ring_owners])
    opened = later(world.created[every_owner], rng, within=30 * DAY)
    opened[len(owners) :] = world.created[ring_owners] + HOUR  # a ring opens its shop at once
    order = np.lexsort((every_owner, opened))
    world.creator_owner = every_owner[order]
    world.creator_created = opened[order]
    world.ring_creators = np.flatnonzero(order >= len(owners))
    names = [rng.choice(pool.astype(object), len(order)) for pool in words.CREATOR_WORDS]
    world.creator_names = names[0] + " " + names[1] + names[2]
    weights = np.diff(popularity(len(order), 1.05, rng), prepend=0.0)
    weights[world.ring_creators] = 0.0  # only the ring buys through its own creator
    world.creator_weights = np.cumsum(weights)
    world.render.creators = len(order)

    world.nat_weights = popularity(max(20, n // 2_000), 0.3, rng)
    world.cafe_weights = popularity(max(5, n // 1_500), 0.3, rng)
    lockers = max(3, n // 5_000)
    world.locker_weights = popularity(lockers, 0.8, rng)
    sites = world.render.addresses(((np.arange(lockers) + 4 * n) << 3) | 2).to_pylist()
    world.render.lockers = [
        (words.LOCKER_BRANDS[i % len(words.LOCKER_BRANDS)], 100 + i, site)
        for i, site in enumerate(sites)
    ]
    scenario = world.scenario
    if scenario.hubs or scenario.spelled_hubs:
        # In-store kiosks and library terminals: a few, each used by dozens to hundreds.
        world.kiosk_weights = popularity(max(3, n // 4_000), 0.8, rng)
    if scenario.hubs:
        world.prepaid_weights = popularity(max(3, n // 4_000), 0.8, rng)
        world.reception_weights = popularity(max(2, n // 10_000), 0.8, rng)
