"""Small link frames with planted rings and benign look-alikes, for the algorithm tests.

Every ring is planted the way its typology looks in the wild (and in the generator): created in
a burst, sharing the telling identifiers, acting together; benign structures share things too
(a household its home, a café's customers its IP) but were created years apart.
"""

from __future__ import annotations

import pandas as pd

from graphfraud.model import LINK_COLUMNS

DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)
EPOCH = pd.Timestamp("2024-01-01")


class GraphBuilder:
    """Collects accounts and links; ``links()`` and ``accounts()`` give the store's frames."""

    def __init__(self) -> None:
        self._links: list[tuple[object, ...]] = []
        self._accounts: dict[str, tuple[pd.Timestamp, str | None]] = {}

    def account(self, key: str, *, created: pd.Timestamp, label: str | None = None) -> str:
        self._accounts[key] = (created, label)
        return key

    def use(
        self, account: str, kind: str, link: str, key: str, *, at: pd.Timestamp = EPOCH
    ) -> None:
        self._links.append(("Account", account, link, kind, key, at, at, 1, None))

    def link(
        self,
        src: str,
        link: str,
        dst: str,
        *,
        at: pd.Timestamp = EPOCH,
        count: int = 1,
        amount: float | None = None,
    ) -> None:
        self._links.append(("Account", src, link, "Account", dst, at, at, count, amount))

    def links(self) -> pd.DataFrame:
        return pd.DataFrame(self._links, columns=list(LINK_COLUMNS))

    def accounts(self) -> pd.DataFrame:
        keys = list(self._accounts)
        return pd.DataFrame(
            {
                "kind": "Account",
                "key": keys,
                "display": None,
                "created_at": [self._accounts[k][0] for k in keys],
                "label": [self._accounts[k][1] for k in keys],
            }
        )


def device_farm(
    g: GraphBuilder, prefix: str, size: int, *, devices: int = 2, bad: int = 0
) -> list[str]:
    """Accounts created within a day, each using the ring's devices within hours."""
    members = [
        g.account(f"{prefix}{i}", created=EPOCH + i * HOUR, label="fraud" if i < bad else None)
        for i in range(size)
    ]
    for i, member in enumerate(members):
        for d in range(devices):
            g.use(
                member,
                "Device",
                "USES_DEVICE",
                f"{prefix}-dev{d}",
                at=EPOCH + 2 * HOUR + i * pd.Timedelta(minutes=1),
            )
        g.use(member, "IP", "LOGS_IN_FROM", f"{prefix}-proxy", at=EPOCH + 3 * HOUR)
    return members


def household(g: GraphBuilder, prefix: str, size: int) -> list[str]:
    """Accounts created years apart sharing one home address and one tablet."""
    members = [g.account(f"{prefix}{i}", created=EPOCH - (400 * i + 30) * DAY) for i in range(size)]
    for i, member in enumerate(members):
        at = EPOCH - 300 * i * DAY
        g.use(member, "Address", "SHIPS_TO", f"{prefix}-home", at=at)
        g.use(member, "Device", "USES_DEVICE", f"{prefix}-tablet", at=at)
    return members


def cafe(g: GraphBuilder, prefix: str, size: int) -> list[str]:
    """Unrelated accounts logging in from one café IP, each with a device and home of its own."""
    members = [g.account(f"{prefix}{i}", created=EPOCH - 11 * i * DAY) for i in range(size)]
    for i, member in enumerate(members):
        g.use(member, "IP", "LOGS_IN_FROM", f"{prefix}-ip", at=EPOCH - 7 * i * DAY)
        g.use(member, "IP", "LOGS_IN_FROM", f"{prefix}-home{i}", at=EPOCH - 7 * i * DAY)
        g.use(member, "Device", "USES_DEVICE", f"{prefix}-own{i}")
    return members


def money_cycle(g: GraphBuilder, prefix: str, size: int) -> list[str]:
    """Accounts created within ten days passing money round a cycle, several rounds."""
    members = [g.account(f"{prefix}{i}", created=EPOCH + 2 * i * DAY) for i in range(size)]
    for i, member in enumerate(members):
        g.link(
            member,
            "TRANSACTS_WITH",
            members[(i + 1) % size],
            at=EPOCH + 30 * DAY + i * HOUR,
            count=3,
            amount=3 * 900.0,
        )
    return members


def referral_star(g: GraphBuilder, prefix: str, size: int) -> list[str]:
    """A referrer and its referees, created within a day, sharing one mailbox and a device."""
    members = [g.account(f"{prefix}{i}", created=EPOCH + i * HOUR) for i in range(size)]
    for member in members[1:]:
        g.link(members[0], "REFERRED", member, at=EPOCH + DAY)
    for member in members:
        g.use(member, "Email", "HAS_EMAIL", f"{prefix}.promo@gmail.com", at=EPOCH + HOUR)
        g.use(member, "Device", "USES_DEVICE", f"{prefix}-phone", at=EPOCH + 2 * HOUR)
    return members


def creator_collusion(g: GraphBuilder, prefix: str, buyers: int) -> list[str]:
    """An owner's storefront bought through by fake buyers sharing cards, all new."""
    owner = g.account(f"{prefix}owner", created=EPOCH)
    g.use(owner, "Creator", "OWNS", f"{prefix}-shop", at=EPOCH + HOUR)
    members = [owner]
    for i in range(buyers):
        buyer = g.account(f"{prefix}{i}", created=EPOCH + (i + 1) * HOUR)
        g.use(buyer, "Creator", "BUYS_VIA", f"{prefix}-shop", at=EPOCH + DAY)
        g.use(buyer, "PaymentInstrument", "PAYS_WITH", f"{prefix}-card{i % 2}", at=EPOCH + DAY)
        members.append(buyer)
    return members


def loners(g: GraphBuilder, prefix: str, size: int) -> list[str]:
    """Ordinary accounts with things of their own."""
    members = [g.account(f"{prefix}{i}", created=EPOCH - 5 * i * DAY) for i in range(size)]
    for i, member in enumerate(members):
        g.use(member, "Device", "USES_DEVICE", f"{prefix}-dev{i}")
        g.use(member, "Address", "SHIPS_TO", f"{prefix}-home{i}")
    return members


def marketplace() -> tuple[GraphBuilder, dict[str, list[str]]]:
    """One of each ring next to benign look-alikes; returns the builder and the plants."""
    g = GraphBuilder()
    planted = {
        "device_farm": device_farm(g, "F", 8, bad=1),
        "money_cycle": money_cycle(g, "M", 5),
        "promo_abuse": referral_star(g, "P", 6),
        "creator_collusion": creator_collusion(g, "K", 6),
        "household": household(g, "H", 4),
        "cafe": cafe(g, "C", 120),
        "loners": loners(g, "L", 30),
    }
    return g, planted
