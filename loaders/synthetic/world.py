"""The marketplace's skeleton, planned before any row is written.

Every account's creation time and type, who belongs to which planted ring, the known-bad
labels, and the pools everyone draws from (sellers, creators, carrier-NAT and café IPs,
parcel lockers) live here, in arrays of one entry per account or per pooled thing. Chunks of
accounts are then generated independently against this shared picture.
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


def plan_world(n: int, seed: int, tell: Progress, *, render: Renderer | None = None) -> World:
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
    world = World(n, seed, created, types, state, np.zeros(n, bool), render)
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
    typologies = np.array(TYPOLOGIES)[rng.permutation(np.arange(count) % len(TYPOLOGIES))]
    camouflaged = np.zeros(count, bool)
    camouflaged[rng.permutation(count)[: round(count / 4)]] = True
    seeded = np.zeros(count, bool)
    seeded[rng.permutation(count)[: round(count / 2)]] = True
    # Rings start once the marketplace has users and leave time to act before the export.
    last = int(np.searchsorted(world.created, END - 45 * DAY))
    first = min(int(0.02 * n), last // 2)
    for index in range(count):
        members = _pick_members(rng, world.state == INNOCENT, int(sizes[index]), first, last)
        ring = Ring(f"R{index + 1:04d}", str(typologies[index]), members, bool(camouflaged[index]))
        world.state[members] = CAMOUFLAGED if ring.camouflaged else RING
        world.types[members] = BUYER
        burst = SIGNUP_BURST_DAYS[ring.typology] * DAY * (3 if ring.camouflaged else 1)
        offsets = np.sort(rng.uniform(0, burst, len(members))).astype(np.int64)
        world.created[members] = np.minimum(world.created[members[0]] + offsets, END - 40 * DAY)
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
        f"{words.LOCKER_BRANDS[i % len(words.LOCKER_BRANDS)]} Locker #{100 + i}, {site}"
        for i, site in enumerate(sites)
    ]
