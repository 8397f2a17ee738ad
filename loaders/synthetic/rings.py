"""What planted rings do, per typology, as rows added to :attr:`World.ring_rows`.

Each ring gets a :class:`Profile`: per member, two choices of device, IP, card and address
(a member uses a subset of the ring's shared things and some of its own), how often it logs
in and orders, and for how long it is active. The typology decides what is shared:

``device_farm``        a few devices and hosting IPs shared by many accounts
``payment_sharing``    a handful of cards used by many accounts
``drop_address``       a few reshipping addresses, spelled differently order by order
``promo_abuse``        a referral star, chain or tree; plus-tagged and dotted emails of one
                       mailbox, consecutive phone numbers, shared devices
``creator_collusion``  fake buyers ordering through one member's storefront, sharing devices
                       and cards
``money_cycle``        money sent round a cycle of accounts, and along chords of it
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from loaders.synthetic import vocabulary as words
from loaders.synthetic.keys import ADDRESS_VARIANTS, CARD_FORMAT_SHARES, NAT_BASE, Ints
from loaders.synthetic.sampling import DAY, END, HOUR, draw, later, shares
from loaders.synthetic.world import Ring, World

Progress = Callable[[str, int, int], None]


@dataclass
class Profile:
    """What each member of a ring uses: two choices per kind of thing, one picked per row."""

    devices: Ints
    ips: Ints
    cards: Ints
    addresses: Ints  # address codes: key * 8 + spelling variant
    logins: Ints
    orders: Ints
    active_days: float = 30.0
    amount: float = 60.0
    creator: int = -1
    creator_share: float = 0.0
    sellers: Ints | None = None
    respell: bool = False


def plan_ring_rows(world: World, tell: Progress) -> None:
    """Add every ring's logins, payment methods, addresses, orders, referrals, transfers."""
    rng = np.random.default_rng([world.seed, 2])
    plans = {
        "device_farm": _device_farm,
        "payment_sharing": _payment_sharing,
        "drop_address": _drop_address,
        "promo_abuse": _promo_abuse,
        "creator_collusion": _creator_collusion,
        "money_cycle": _money_cycle,
    }
    for done, ring in enumerate(world.rings, start=1):
        profile = _own_things(world, ring.members, rng)
        plans[ring.typology](world, ring, profile, rng)
        _emit(world, ring, profile, rng)
        tell("planning ring activity", done, len(world.rings))


def _own_things(world: World, members: Ints, rng: np.random.Generator) -> Profile:
    """A member's own device, home, card: the keys the background uses for that account."""
    k = len(members)
    variant = rng.integers(0, ADDRESS_VARIANTS, k)
    nat = NAT_BASE + draw(world.nat_weights, k, rng)
    return Profile(
        devices=np.stack([members * 4, members * 4 + (rng.random(k) < 0.2)], axis=1),
        ips=np.stack([members, np.where(rng.random(k) < 0.4, nat, members)], axis=1),
        cards=np.stack([members * 4, members * 4], axis=1),
        addresses=np.stack([members * 8 + variant] * 2, axis=1),
        logins=rng.integers(2, 10, k),
        orders=rng.integers(0, 3, k),
    )


def _some(pool: Ints, rng: np.random.Generator, size: int) -> Ints:
    return pool[rng.integers(0, len(pool), size)]


def _sometimes(rng: np.random.Generator, chance: float, then: Ints, otherwise: Ints) -> Ints:
    return np.where(rng.random(len(otherwise)) < chance, then, otherwise)


def _device_farm(world: World, ring: Ring, profile: Profile, rng: np.random.Generator) -> None:
    members, k = ring.members, len(ring.members)
    devices = world.allocate("device", max(1, math.ceil(k / rng.uniform(4, 12))))
    proxies = world.allocate("proxy", int(rng.integers(1, 4)) + k // 50)
    profile.devices[:, 0] = _some(devices, rng, k)
    profile.devices[:, 1] = _sometimes(rng, 0.3, _some(devices, rng, k), profile.devices[:, 0])
    profile.ips = np.stack([_some(proxies, rng, k), _some(proxies, rng, k)], axis=1)
    profile.logins, profile.orders = rng.integers(4, 30, k), rng.integers(0, 3, k)
    profile.active_days, profile.amount = 20, 25
    world.signup_overrides.update(zip(members.tolist(), profile.ips[:, 0].tolist(), strict=True))
    _virtual_phones(world, members, rng, shared=0.0, missing=0.6)


def _payment_sharing(world: World, ring: Ring, profile: Profile, rng: np.random.Generator) -> None:
    members, k = ring.members, len(ring.members)
    cards = world.allocate("card", min(8, 2 + k // 10))
    profile.cards[:, 0] = _some(cards, rng, k)
    profile.cards[:, 1] = _sometimes(rng, 0.5, _some(cards, rng, k), members * 4)
    profile.orders, profile.active_days, profile.amount = rng.integers(2, 9, k), 45, 120


def _drop_address(world: World, ring: Ring, profile: Profile, rng: np.random.Generator) -> None:
    k = len(ring.members)
    drops = world.allocate("address", min(4, 1 + k // 20))
    variants = rng.integers(0, ADDRESS_VARIANTS, (k, 2))
    profile.addresses[:, 0] = _some(drops, rng, k) * 8 + variants[:, 0]
    second = _sometimes(rng, 0.3, _some(drops, rng, k), np.full(k, drops[0])) * 8 + variants[:, 1]
    profile.addresses[:, 1] = _sometimes(rng, 0.2, profile.addresses[:, 0], second)
    shared = world.allocate("card", 1 + k // 40)
    profile.cards[:, 1] = _sometimes(rng, 0.25, _some(shared, rng, k), profile.cards[:, 0])
    profile.orders, profile.active_days, profile.amount = rng.integers(2, 11, k), 60, 250
    profile.respell = True


def _promo_abuse(world: World, ring: Ring, profile: Profile, rng: np.random.Generator) -> None:
    members, k = ring.members, len(ring.members)
    devices = world.allocate("device", 1 + k // 8)
    homes = world.allocate("home_ip", int(rng.integers(1, 3)))
    profile.devices[:, 0] = _sometimes(rng, 0.7, _some(devices, rng, k), profile.devices[:, 0])
    profile.devices[:, 1] = profile.devices[:, 0]
    profile.ips[:, 0] = _some(homes, rng, k)
    drop = world.allocate("address", 1)[0] * 8 + rng.integers(0, ADDRESS_VARIANTS, k)
    profile.addresses[:, 1] = _sometimes(rng, 0.5, drop, profile.addresses[:, 1])
    profile.logins, profile.orders = rng.integers(1, 6, k), np.ones(k, np.int64)
    profile.active_days, profile.amount = 7, 20
    world.signup_overrides.update(zip(members.tolist(), profile.ips[:, 0].tolist(), strict=True))
    _referral_tree(world, ring, rng)
    _tagged_emails(world, members, rng)
    _virtual_phones(world, members, rng, shared=0.3, missing=0.2)


def _creator_collusion(
    world: World, ring: Ring, profile: Profile, rng: np.random.Generator
) -> None:
    members, k = ring.members, len(ring.members)
    devices = world.allocate("device", 1 + k // 6)
    cards = world.allocate("card", 1 + k // 8)
    homes = world.allocate("home_ip", int(rng.integers(1, 4)))
    buyers = slice(1, None)  # member 0 owns the storefront
    profile.devices[buyers, 0] = _some(devices, rng, k - 1)
    profile.cards[buyers, 0] = _some(cards, rng, k - 1)
    profile.cards[buyers, 1] = _sometimes(rng, 0.6, _some(cards, rng, k - 1), members[1:] * 4)
    profile.ips[buyers, 0] = _some(homes, rng, k - 1)
    profile.orders = rng.integers(3, 16, k)
    profile.orders[0] = 0
    profile.creator = int(np.flatnonzero(world.creator_owner == members[0])[0])
    profile.creator_share, profile.active_days, profile.amount = 0.85, 60, 45
    profile.sellers = world.sellers[draw(world.seller_weights, int(rng.integers(1, 4)), rng)]


def _money_cycle(world: World, ring: Ring, profile: Profile, rng: np.random.Generator) -> None:
    """Money sent round a cycle several times, less a small cut at each hop, plus chords."""
    members, k = ring.members, len(ring.members)
    shared = world.allocate("device", 1 + k // 30)
    profile.devices[:, 1] = _sometimes(rng, 0.25, _some(shared, rng, k), profile.devices[:, 1])
    profile.active_days = 90
    cycle = members[rng.permutation(k)]
    start = int(world.created[members].max()) + DAY
    senders, receivers, ts, cents = [], [], [], []
    for _ in range(int(rng.integers(2, 9))):
        begin = start + int(rng.integers(0, 60 * DAY))
        amount = rng.uniform(500, 9_000) * 100
        senders += [cycle, cycle[rng.integers(0, k, k // 4)]]
        receivers += [np.roll(cycle, -1), cycle[rng.integers(0, k, k // 4)]]
        ts += [
            begin + np.cumsum(rng.integers(HOUR // 2, 12 * HOUR, k)),
            begin + rng.integers(0, 3 * DAY, k // 4),
        ]
        cents += [
            amount * rng.uniform(0.97, 0.995) ** np.arange(k),
            amount * rng.uniform(0.2, 0.6, k // 4),
        ]
    frm, to = np.concatenate(senders), np.concatenate(receivers)
    real = frm != to
    world.ring_rows.add(
        "transfers",
        from_account=frm[real],
        to_account=to[real],
        ts=np.minimum(np.concatenate(ts), END - 1)[real],
        amount=np.concatenate(cents).astype(np.int64)[real],
    )


def _virtual_phones(
    world: World, members: Ints, rng: np.random.Generator, *, shared: float, missing: float
) -> None:
    """A block of consecutive virtual numbers; some members share one, some give none."""
    k = len(members)
    start = int(rng.integers(0, 10_000 - k))
    line = np.where(rng.random(k) < shared, start, start + np.arange(k))
    area = np.full(k, words.AREA_CODES[rng.integers(len(words.AREA_CODES))])
    exchange = np.full(k, words.RING_EXCHANGES[rng.integers(len(words.RING_EXCHANGES))])
    numbers = world.render.ring_phones(members, area, exchange, line, rng.integers(0, 6, k))
    for member, phone, gone in zip(members.tolist(), numbers, rng.random(k) < missing, strict=True):
        world.phone_overrides[member] = None if gone else phone


def _tagged_emails(world: World, members: Ints, rng: np.random.Generator) -> None:
    """Plus-tags and dots on one mailbox (j.smith+1@gmail.com), or a counter on one name."""
    first, last = str(rng.choice(words.FIRST_NAMES)), str(rng.choice(words.LAST_NAMES))
    number = int(rng.integers(1_000, 10_000))  # innocent addresses carry at most three digits
    base = f"{first}{last}{number}"
    used: set[str] = set()
    for position, member in enumerate(members.tolist(), start=1):
        style = rng.random()
        if style < 0.35:
            email = f"{first}.{last}{number}+{position}@gmail.com"
        elif style < 0.55:
            cut = np.sort(rng.choice(np.arange(1, len(base)), size=2, replace=False))
            email = (
                f"{base[: cut[0]]}.{base[cut[0] : cut[1]]}.{base[cut[1] :]}+{position}@gmail.com"
            )
        elif style < 0.7:
            email = f"{first.title()}{last.title()}{number}+promo{position}@Gmail.com"
        else:
            email = f"{first}{last}{number + position}@yahoo.com"
        if email not in used:
            used.add(email)
            world.email_overrides[member] = email


def _referral_tree(world: World, ring: Ring, rng: np.random.Generator) -> None:
    """A star, a chain or a tree of referrals, each referee redeeming its referrer's code."""
    members, k = ring.members, len(ring.members)
    shape = rng.random()
    if shape < 0.5:
        referrers = np.full(k - 1, members[0])
    elif shape < 0.75:
        referrers = members[:-1]
    else:
        referrers = members[(rng.random(k - 1) * np.arange(1, k)).astype(np.int64)]
    referees = members[1:]
    signed_up = np.maximum(world.created[referees], world.created[referrers])
    world.ring_rows.add(
        "referrals",
        referrer_id=referrers,
        referee_id=referees,
        ts=signed_up + rng.integers(60, HOUR, k - 1),
        promo_code=world.render.invite_codes(referrers),
    )


def _emit(world: World, ring: Ring, profile: Profile, rng: np.random.Generator) -> None:
    """Logins, payment methods, addresses and orders from a ring's profile."""
    members, k = ring.members, len(ring.members)
    created = world.created[members]
    span = profile.active_days * DAY * (2 if ring.camouflaged else 1)
    rows = world.ring_rows

    who = np.repeat(np.arange(k), profile.logins)
    pick = (rng.random(len(who)) > 0.7).astype(np.int64)
    rows.add(
        "logins",
        account_id=members[who],
        ts=later(created[who], rng, within=span),
        device_fingerprint=profile.devices[who, pick],
        ip=profile.ips[who, pick],
    )

    # Saved cards and addresses; a camouflaged member's own ones are already in its background.
    owner, cards = _saved(ring, profile.cards, own_below=4 * world.n)
    codes = cards * 4 + world.render.card_format(cards)
    added = later(world.created[owner], rng, within=2 * DAY)
    rows.add(
        "payment_methods", account_id=owner, added_at=added, card_number=codes, card_brand=codes
    )
    owner, addresses = _saved(ring, profile.addresses, own_below=8 * 4 * world.n)
    added = later(world.created[owner], rng, within=2 * DAY)
    rows.add("addresses", account_id=owner, added_at=added, address=addresses)

    who = np.repeat(np.arange(k), profile.orders)
    count = len(who)
    if profile.sellers is not None:
        sellers = _some(profile.sellers, rng, count)
    else:
        sellers = world.sellers[draw(world.seller_weights, count, rng)]
    creators = np.where(rng.random(count) < profile.creator_share, profile.creator, -1)
    start = np.maximum(created[who], world.created[sellers])
    if profile.creator >= 0:
        opened = world.creator_created[profile.creator]
        start = np.where(creators >= 0, np.maximum(start, opened), start)
    addresses = profile.addresses[who, (rng.random(count) > 0.75).astype(np.int64)]
    if profile.respell:  # each order spells the drop address its own way
        addresses = (addresses >> 3 << 3) + rng.integers(0, ADDRESS_VARIANTS, count)
    cards = profile.cards[who, (rng.random(count) > 0.7).astype(np.int64)]
    rows.add(
        "orders",
        buyer_id=members[who],
        seller_id=sellers,
        creator_id=creators,
        ts=later(start, rng, within=span),
        amount=(np.exp(rng.normal(math.log(profile.amount), 0.5, count)) * 100).astype(np.int64),
        ship_address=addresses,
        card_number=cards * 4 + shares(rng, CARD_FORMAT_SHARES, count),
    )


def _saved(ring: Ring, things: Ints, *, own_below: int) -> tuple[Ints, Ints]:
    """Each member's distinct things (card keys or address codes), as (account, thing) rows."""
    second = things[:, 1] != things[:, 0]
    owners = np.concatenate([ring.members, ring.members[second]])
    saved = np.concatenate([things[:, 0], things[second, 1]])
    keep = (saved >= own_below) | (not ring.camouflaged)
    return owners[keep], saved[keep]
