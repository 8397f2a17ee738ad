"""Integer keys for every identifier, and the seeded bijections that turn keys into values.

Until a chunk is written, a device, a card, an address or an IP is an integer key. Two rows
share an identifier exactly when they hold the same key, and renderers map distinct keys to
distinct text through bijections, so nothing is shared by accident.

Key namespaces (``n`` is the number of accounts)
------------------------------------------------
=============  ===========================================================================
devices        account ``i`` owns ``4i .. 4i+3``; a household's device ``4n + first member``;
               rings' devices from ``5n``; kiosk ``j`` is ``KIOSK_BASE + 4j + spelling``
cards          account ``i`` owns ``4i .. 4i+3``; rings' cards from ``4n``; prepaid gift
               cards from ``PREPAID_BASE(n)``
addresses      home of account ``i`` is ``i``, of a household ``n + first member``; extra
               addresses ``2n + 2i .. 2n + 2i + 1``; lockers stand at ``4n + j``; rings'
               drop addresses from ``5n``; lockers and warehouses themselves live at
               ``LOCKER_BASE + j`` and ``WAREHOUSE_BASE + j``
IPs            home of account ``i`` is ``i``, of a household ``n + first member``; rings'
               home IPs from ``2n``; carrier NAT, café and hosting pools above ``NAT_BASE``,
               ``CAFE_BASE`` and ``PROXY_BASE``
=============  ===========================================================================

Rows hold an address as ``key * 8 + spelling variant`` and a card as ``key * 4 + format``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]

NAT_BASE = 1 << 40
CAFE_BASE = 2 << 40
PROXY_BASE = 3 << 40
LOCKER_BASE = 1 << 40
WAREHOUSE_BASE = 2 << 40
KIOSK_BASE = 1 << 40
ADDRESS_VARIANTS = 6
#: How many spellings a widely used place or device has in the spelled-hubs family.
HUB_SPELLINGS = 3
#: How often a card number is written plain, in groups with spaces, in groups with dashes.
CARD_FORMAT_SHARES = np.array([0.7, 0.2, 0.1])


def prepaid_base(n: int) -> int:
    """First card key of the prepaid gift cards: past every ring's cards (fewer than n/4)."""
    return 4 * n + n // 4 + 1


def mix64(keys: np.ndarray, salt: int) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser of ``keys ^ salt``: a bijection on 64 bits that looks random."""
    z = keys.astype(np.uint64) ^ np.uint64(salt & (2**64 - 1))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def salt_for(seed: int, purpose: int) -> int:
    """A 64-bit salt for one purpose (device ids, card numbers...) under one seed."""
    return int(mix64(np.array([seed * 1_000_003 + purpose]), 0x5EED)[0])


def bijection(keys: np.ndarray, size: int, salt: int) -> Ints:
    """A seeded permutation of ``range(size)`` applied to ``keys`` (all below ``size``).

    Distinct keys give distinct values: an invertible mix on the smallest power of two that
    holds ``size``, walked along its cycle until it lands back inside the range (a few steps
    at most, since the range fills over half of the power of two).
    """
    bits = max(4, (size - 1).bit_length())
    mask, shift = np.uint64((1 << bits) - 1), np.uint64(bits // 2)
    salt64 = np.uint64(salt) & mask

    def mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        x = ((x ^ salt64) * np.uint64(0x9E3779B97F4A7C15)) & mask
        x ^= x >> shift
        x = (x * np.uint64(0xC2B2AE3D27D4EB4F)) & mask
        return x ^ (x >> shift)

    out = mix(keys.astype(np.uint64))
    outside = out >= np.uint64(size)
    while outside.any():
        out[outside] = mix(out[outside])
        outside = out >= np.uint64(size)
    return out.astype(np.int64)


def digits_of(value: Ints, sizes: tuple[int, ...]) -> list[Ints]:
    """Split values into mixed-radix digits, least significant first."""
    parts = []
    for size in sizes:
        parts.append(value % size)
        value = value // size
    return parts
