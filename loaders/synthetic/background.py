"""Ordinary accounts' activity, one chunk of consecutive accounts at a time, vectorised.

The background is what makes detection hard: heavy-tailed activity, several devices for some
people, carrier-NAT IPs shared by thousands, café and campus IPs shared by hundreds,
households sharing a home (each member spelling it their own way), often a device and a card,
parcel lockers and warehouses shipped to by thousands, popular sellers and creators, friends
referring friends, family transfers. Camouflaged ring members live here too, like anyone else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from loaders.synthetic.keys import (
    ADDRESS_VARIANTS,
    CAFE_BASE,
    CARD_FORMAT_SHARES,
    HUB_SPELLINGS,
    KIOSK_BASE,
    LOCKER_BASE,
    NAT_BASE,
    WAREHOUSE_BASE,
    Ints,
    prepaid_base,
)
from loaders.synthetic.sampling import (
    DAY,
    END,
    HOUR,
    draw,
    heavy_counts,
    later,
    rank_within,
    shares,
)
from loaders.synthetic.tables import Frame, Rows
from loaders.synthetic.text import with_nulls
from loaders.synthetic.world import ACCOUNT_TYPES, BUYER, INNOCENT, RING, SELLER, World

Bools = npt.NDArray[np.bool_]

#: How often each of the six address spellings is someone's habit.
VARIANT_SHARES = np.array([0.35, 0.15, 0.2, 0.1, 0.1, 0.1])
PHONE_STYLE_SHARES = np.array([0.2, 0.3, 0.15, 0.15, 0.1, 0.1])
HOUSEHOLD_SIZE_SHARES = np.array([0.4, 0.28, 0.17, 0.1, 0.05])  # 2 to 6 people
#: What people type when a form wants an e-mail they will not give (the ``hubs`` family).
PLACEHOLDER_EMAILS = np.array(
    ["none@none.com", "noemail@gmail.com", "test@test.com", "na@na.com"], dtype=object
)
#: Shares of the ``hubs`` family's widely used things: of login rows at a kiosk (also in
#: ``spelled_hubs``), of accounts saving a prepaid gift card, giving a hotel reception's
#: phone, typing a placeholder e-mail.
KIOSK_LOGINS, PREPAID_USERS, RECEPTION_USERS, PLACEHOLDER_USERS = 0.02, 0.03, 0.01, 0.005
#: Share of accounts paying other users in a P2P export (3% send a transfer in a marketplace).
P2P_PAYERS = 0.5


@dataclass
class Chunk:
    """Background rows of accounts ``lo`` to ``hi``, and their households for ground truth."""

    lo: int
    hi: int
    rows: Rows
    households: Frame
    #: Pool index per account that gave a reception phone (``reception``) or a placeholder
    #: e-mail (``placeholder``); counted into the ground truth.
    hub_users: Frame = field(default_factory=dict)


@dataclass
class _People:
    """Per account of the chunk: home, household, devices, cards and networks."""

    home: Ints  # home key (address and IP), shared within a household
    home_code: Ints  # home address with the account's habitual spelling
    household: Ints  # first member's account index, or -1
    position: Ints  # place in the household, 0 for the first member
    shares_device: Bools
    shares_card: Bools
    devices: Ints
    cards: Ints
    extras: Ints  # saved addresses besides home
    mobile: npt.NDArray[np.float64]  # share of logins through a carrier NAT
    cafe_share: npt.NDArray[np.float64]
    cafe: Ints


def background_chunk(world: World, lo: int, hi: int, rng: np.random.Generator) -> Chunk:
    """Rows of every table for accounts ``lo`` to ``hi``; ring-only accounts stay quiet."""
    chunk = Chunk(lo, hi, Rows(), {})
    people = _people(world, chunk, rng)
    _accounts(world, chunk, people, rng)
    device_users = _logins(world, chunk, people, rng)
    _saved_things(world, chunk, people, rng)
    _orders(world, chunk, people, rng)
    _referrals(world, chunk, people, rng)
    _transfers(world, chunk, people, rng)
    chunk.households = _households(world, chunk, people, device_users)
    return chunk


def _people(world: World, chunk: Chunk, rng: np.random.Generator) -> _People:
    n, lo, size = world.n, chunk.lo, chunk.hi - chunk.lo
    state = world.state[lo : chunk.hi]
    # Households: 2-6 innocent accounts of the chunk, numbered by their first member.
    household = np.full(size, -1, np.int64)
    position = np.zeros(size, np.int64)
    members = rng.permutation(np.flatnonzero(state == INNOCENT))
    members = members[: int(0.22 * len(members))]
    sizes = 2 + shares(rng, HOUSEHOLD_SIZE_SHARES, max(1, len(members) // 2))
    sizes = sizes[np.cumsum(sizes) <= len(members)]
    group = np.repeat(np.arange(len(sizes)), sizes)
    members = members[: len(group)]
    order = np.lexsort((members, group))
    members, group = members[order], group[order]
    household[members] = lo + members[np.cumsum(sizes) - sizes][group]
    position[members] = rank_within(group)
    # Members after the first sign up months or years later. Drawn from one chunk's sign-ups
    # as they are, at a million accounts they would all be created within a few weeks: a
    # creation burst no real household has.
    joiners = np.flatnonzero(position > 0)
    joined = world.created[household[joiners]] + rng.exponential(200 * DAY, len(joiners))
    world.created[lo + joiners] = np.minimum(joined.astype(np.int64), END - DAY)
    at_home = household >= 0
    homes = np.unique(household[at_home])
    device_homes = homes[rng.random(len(homes)) < 0.5]
    card_homes = homes[rng.random(len(homes)) < 0.35]
    shares_card = np.isin(household, card_homes) & (position > 0) & (rng.random(size) < 0.7)
    home = np.where(at_home, n + household, np.arange(lo, chunk.hi))
    variant = np.where(
        at_home, (household + position) % ADDRESS_VARIANTS, shares(rng, VARIANT_SHARES, size)
    )
    return _People(
        home=home,
        home_code=home * 8 + variant,
        household=household,
        position=position,
        shares_device=at_home & np.isin(household, device_homes),
        shares_card=shares_card,
        devices=_one_or_more(rng, size, 0.35, 0.1, 0.03),
        cards=_one_or_more(rng, size, 0.3, 0.08, 0.02),
        extras=(_one_or_more(rng, size, 0.25, 0.06) - 1) * (state != RING),
        mobile=np.where(rng.random(size) < 0.55, rng.uniform(0.3, 0.9, size), 0.0),
        cafe_share=np.where(rng.random(size) < 0.12, rng.uniform(0.05, 0.3, size), 0.0),
        cafe=CAFE_BASE + draw(world.cafe_weights, size, rng),
    )


def _one_or_more(rng: np.random.Generator, size: int, *chances: float) -> Ints:
    """1, plus one for each chance that comes true: mostly 1, now and then a few."""
    extra = sum((rng.random(size) < chance).astype(np.int64) for chance in chances)
    return 1 + np.asarray(extra, dtype=np.int64)


def _accounts(world: World, chunk: Chunk, people: _People, rng: np.random.Generator) -> None:
    lo, hi, size = chunk.lo, chunk.hi, chunk.hi - chunk.lo
    ids = np.arange(lo, hi, dtype=np.int64)
    signup = rng.random(size)
    nat = NAT_BASE + draw(world.nat_weights, size, rng)
    signup_ip = np.where(signup < people.mobile * 0.6, nat, people.home)
    signup_ip = np.where(signup > 1 - people.cafe_share / 2, people.cafe, signup_ip)
    emails = world.render.emails(ids, rng.random(size) < 0.05).to_numpy(zero_copy_only=False)
    phones = world.render.phones(ids, shares(rng, PHONE_STYLE_SHARES, size))
    phones = with_nulls(phones, rng.random(size) < 0.8).to_numpy(zero_copy_only=False)
    if len(world.reception_weights):
        guests = np.flatnonzero(rng.random(size) < RECEPTION_USERS)
        desk = world.n + draw(world.reception_weights, len(guests), rng)
        styles = shares(rng, PHONE_STYLE_SHARES, len(guests))
        phones[guests] = world.render.phones(desk, styles).to_numpy(zero_copy_only=False)
        typed = np.flatnonzero(rng.random(size) < PLACEHOLDER_USERS)
        placeholder = rng.integers(0, len(PLACEHOLDER_EMAILS), len(typed))
        emails[typed] = PLACEHOLDER_EMAILS[placeholder]
        chunk.hub_users = {"reception": desk - world.n, "placeholder": placeholder}
    for i in np.flatnonzero(world.state[lo:hi] != INNOCENT).tolist():  # ring members only
        account = lo + i
        emails[i] = world.email_overrides.get(account, emails[i])
        phones[i] = world.phone_overrides.get(account, phones[i])
        signup_ip[i] = world.signup_overrides.get(account, signup_ip[i])
    chunk.rows.add(
        "accounts",
        account_id=ids,
        created_at=world.created[lo:hi],
        account_type=ACCOUNT_TYPES[world.types[lo:hi]],
        email=emails,
        phone=phones,
        signup_ip=signup_ip,
        known_bad=np.array([None, "1"], dtype=object)[world.bad[lo:hi].astype(np.int64)],
    )


def _logins(world: World, chunk: Chunk, people: _People, rng: np.random.Generator) -> Ints:
    """Heavy-tailed logins from home, a carrier NAT or a café; returns household device users.

    A household device's users are counted at the household's first member.
    """
    n, lo, size = world.n, chunk.lo, chunk.hi - chunk.lo
    active = world.state[lo : chunk.hi] != RING
    who = np.repeat(np.arange(size), heavy_counts(rng, size, low=2, alpha=1.5, cap=5_000) * active)
    count = len(who)
    device = (lo + who) * 4 + (people.devices[who] * rng.random(count) ** 2).astype(np.int64)
    family = people.shares_device[who] & (rng.random(count) < 0.35)
    device = np.where(family, 4 * n + people.household[who], device)
    if len(world.kiosk_weights):
        kiosk = np.flatnonzero(rng.random(count) < KIOSK_LOGINS)
        device[kiosk] = KIOSK_BASE + 4 * draw(world.kiosk_weights, len(kiosk), rng)
        device[kiosk] += _spelling(world, rng, len(kiosk))
    source = rng.random(count)
    nat = NAT_BASE + draw(world.nat_weights, count, rng)
    ip = np.where(source < people.mobile[who], nat, people.home[who])
    ip = np.where(source > 1 - people.cafe_share[who], people.cafe[who], ip)
    created = world.created[lo + who]
    chunk.rows.add(
        "logins", account_id=lo + who, ts=later(created, rng), device_fingerprint=device, ip=ip
    )
    pairs = np.unique(people.household[who[family]] * size + who[family])
    households, users = np.unique(pairs // size, return_counts=True)
    device_users = np.zeros(size, np.int64)  # at each household's first member
    device_users[households - lo] = users
    return device_users


def _saved_things(world: World, chunk: Chunk, people: _People, rng: np.random.Generator) -> None:
    """Payment methods (own cards, a household card) and addresses (home, others, pickups)."""
    n, lo, hi, size = world.n, chunk.lo, chunk.hi, chunk.hi - chunk.lo
    ids = np.arange(lo, hi, dtype=np.int64)
    created = world.created[lo:hi]
    active = world.state[lo:hi] != RING

    who = np.repeat(np.arange(size), people.cards * active)
    slot = rank_within(who)
    first_card = later(created[who], rng, within=3 * DAY)
    added = np.where(slot == 0, first_card, later(created[who], rng))
    sharers = np.flatnonzero(people.shares_card & active)
    keys = np.concatenate([ids[who] * 4 + slot, people.household[sharers] * 4])
    formats = np.concatenate(
        [world.render.card_format(keys[: len(who)]), shares(rng, CARD_FORMAT_SHARES, len(sharers))]
    )
    codes = keys * 4 + formats
    owners = np.concatenate([ids[who], ids[sharers]])
    added = np.concatenate([added, later(created[sharers], rng)])
    if len(world.prepaid_weights):
        gifted = np.flatnonzero(active & (rng.random(size) < PREPAID_USERS))
        gift = prepaid_base(n) + draw(world.prepaid_weights, len(gifted), rng)
        codes = np.concatenate([codes, gift * 4])
        owners = np.concatenate([owners, ids[gifted]])
        added = np.concatenate([added, later(created[gifted], rng)])
    chunk.rows.add(
        "payment_methods", account_id=owners, added_at=added, card_number=codes, card_brand=codes
    )

    home = np.flatnonzero(active)
    who = np.repeat(np.arange(size), people.extras)
    extra = (2 * n + 2 * ids[who] + rank_within(who)) * 8 + shares(rng, VARIANT_SHARES, len(who))
    sellers = np.flatnonzero((world.types[lo:hi] == SELLER) & active & (rng.random(size) < 0.5))
    warehouse = (WAREHOUSE_BASE + rng.integers(0, world.warehouses, len(sellers))) * 8
    lockers = np.flatnonzero(active & (rng.random(size) < 0.04))
    locker = (LOCKER_BASE + draw(world.locker_weights, len(lockers), rng)) * 8
    locker += _spelling(world, rng, len(lockers))
    others = np.concatenate([who, sellers, lockers])
    chunk.rows.add(
        "addresses",
        account_id=ids[np.concatenate([home, others])],
        added_at=np.concatenate(
            [later(created[home], rng, within=2 * DAY), later(created[others], rng)]
        ),
        address=np.concatenate([people.home_code[home], extra, warehouse, locker]),
    )


def _orders(world: World, chunk: Chunk, people: _People, rng: np.random.Generator) -> None:
    """Orders from popular sellers, some through creators' links, shipped mostly home."""
    n, lo, hi, size = world.n, chunk.lo, chunk.hi, chunk.hi - chunk.lo
    buys = np.where(world.types[lo:hi] == BUYER, 0.75, 0.4)
    orders = heavy_counts(rng, size, low=1, alpha=1.6, cap=400)
    orders *= (world.state[lo:hi] != RING) & (rng.random(size) < buys)
    who = np.repeat(np.arange(size), orders)
    count = len(who)
    sellers = world.sellers[draw(world.seller_weights, count, rng)]
    ts = later(np.maximum(world.created[lo + who], world.created[sellers]), rng)
    creators = np.where(rng.random(count) < 0.18, draw(world.creator_weights, count, rng), -1)
    creators = np.where((creators >= 0) & (world.creator_created[creators] <= ts), creators, -1)

    home = people.home_code[who]
    ship = np.where(
        rng.random(count) < 0.85, home, home >> 3 << 3 | shares(rng, VARIANT_SHARES, count)
    )
    where = rng.random(count)
    elsewhere = (
        2 * n + 2 * (lo + who) + (rng.random(count) < 0.5) * (people.extras[who] > 1)
    ) * 8 + 2
    ship = np.where((where < 0.08) & (people.extras[who] > 0), elsewhere, ship)
    locker = (LOCKER_BASE + draw(world.locker_weights, count, rng)) * 8
    locker += _spelling(world, rng, count)
    ship = np.where((where >= 0.08) & (where < 0.14), locker, ship)
    warehouse = (WAREHOUSE_BASE + rng.integers(0, world.warehouses, count)) * 8
    ship = np.where((where >= 0.14) & (where < 0.155), warehouse, ship)
    gift = people.home_code[rng.integers(0, size, count)] >> 3 << 3  # a friend's home
    ship = np.where((where >= 0.155) & (where < 0.175), gift, ship)

    cards = (lo + who) * 4 + (people.cards[who] * rng.random(count) ** 2).astype(np.int64)
    family = people.shares_card[who] & (rng.random(count) < 0.4)
    cards = np.where(family, people.household[who] * 4, cards)
    cents = np.maximum(199, np.exp(rng.normal(math.log(35), 0.9, count)) * 100).astype(np.int64)
    chunk.rows.add(
        "orders",
        buyer_id=lo + who,
        seller_id=sellers,
        creator_id=creators,
        ts=ts,
        amount=cents,
        ship_address=ship,
        card_number=cards * 4 + shares(rng, CARD_FORMAT_SHARES, count),
    )


def _referrals(world: World, chunk: Chunk, people: _People, rng: np.random.Generator) -> None:
    """Friends who signed up shortly before, family, and creators inviting their audience."""
    lo, hi, size = chunk.lo, chunk.hi, chunk.hi - chunk.lo
    ids = np.arange(lo, hi, dtype=np.int64)
    usable = world.state != RING
    referees = np.flatnonzero(usable[lo:hi] & (rng.random(size) < 0.12) & (ids > 0))
    count = len(referees)
    back = heavy_counts(rng, count, low=1, alpha=0.8, cap=world.n)
    referrers = np.maximum(ids[referees] - back, 0)
    family = people.household[referees]
    by_family = (family >= 0) & (family != ids[referees]) & (rng.random(count) < 0.5)
    referrers = np.where(by_family, family, referrers)
    creator = draw(world.creator_weights, count, rng)
    created = world.created[ids[referees]]
    by_creator = (rng.random(count) < 0.25) & (world.creator_created[creator] < created)
    referrers = np.where(by_creator, world.creator_owner[creator], referrers)
    keep = usable[referrers] & (referrers != ids[referees])
    referees, referrers = ids[referees[keep]], referrers[keep]
    signed_up = np.maximum(world.created[referees], world.created[referrers])
    chunk.rows.add(
        "referrals",
        referrer_id=referrers,
        referee_id=referees,
        ts=signed_up + rng.integers(60, HOUR, len(referees)),
        promo_code=world.render.invite_codes(referrers),
    )


def _transfers(world: World, chunk: Chunk, people: _People, rng: np.random.Generator) -> None:
    """A few people send money to family or to someone else on the marketplace."""
    lo, hi, size = chunk.lo, chunk.hi, chunk.hi - chunk.lo
    usable = world.state != RING
    payers = P2P_PAYERS if world.scenario.p2p else 0.03
    senders = np.flatnonzero(usable[lo:hi] & (rng.random(size) < payers))
    who = np.repeat(senders, rng.integers(1, 4, len(senders)))
    anyone = rng.integers(0, world.n, len(who))
    family = (people.household[who] >= 0) & (rng.random(len(who)) < 0.5)
    receivers = np.where(
        family & (people.household[who] != lo + who), people.household[who], anyone
    )
    keep = usable[receivers] & (receivers != lo + who)
    who, receivers = who[keep], receivers[keep]
    start = np.maximum(world.created[lo + who], world.created[receivers])
    cents = np.maximum(100, np.exp(rng.normal(math.log(40), 1.0, len(who))) * 100).astype(np.int64)
    chunk.rows.add(
        "transfers", from_account=lo + who, to_account=receivers, ts=later(start, rng), amount=cents
    )


def _spelling(world: World, rng: np.random.Generator, count: int) -> Ints:
    """How each use of a widely used place or device is spelled: always the same way, except
    in the spelled-hubs family."""
    if not world.scenario.spelled_hubs:
        return np.zeros(count, np.int64)
    return rng.integers(0, HUB_SPELLINGS, count)


def _households(world: World, chunk: Chunk, people: _People, device_users: Ints) -> Frame:
    """Per household: first member, size, the first member's home spelling, sharing counts."""
    homes = np.flatnonzero((people.household >= 0) & (people.position == 0))
    first = chunk.lo + homes
    members = np.bincount(
        np.searchsorted(first, people.household[people.household >= 0]), minlength=len(first)
    )
    card_users = np.bincount(
        np.searchsorted(first, people.household[people.shares_card]), minlength=len(first)
    )
    return {
        "first": first,
        "members": members,
        "address": people.home_code[homes],
        "device_users": device_users[homes],
        "card_users": card_users + (card_users > 0),  # the first member owns the card
        "card": first * 16 + world.render.card_format(first * 4),
    }
