"""Vectorised renderers: integer keys and numbers in, the text of an export out.

Everything returns pyarrow string arrays, built from byte matrices (fixed-width text such as
timestamps and card numbers) or with Arrow's string kernels, so a million rows render in well
under a second. A :class:`Renderer` holds what rendering needs to know about one generated
marketplace: its size, its seed (every value depends on it) and its lockers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from loaders.synthetic import vocabulary as words
from loaders.synthetic.keys import (
    CAFE_BASE,
    KIOSK_BASE,
    LOCKER_BASE,
    NAT_BASE,
    PROXY_BASE,
    WAREHOUSE_BASE,
    Ints,
    bijection,
    digits_of,
    mix64,
    salt_for,
)
from loaders.synthetic.sampling import DAY, HOUR

Bools = npt.NDArray[np.bool_]

# Salt purposes: each kind of value gets its own, so keys never leak from one to another.
_DEVICE, _HOME_IP, _NAT_IP, _CAFE_IP, _PROXY_IP, _CARD_BIN, _CARD_BODY, _CARD_EXTRA = range(1, 9)
_ADDRESS, _ADDRESS_NOISE, _PHONE, _EMAIL, _INVITE, _CARD_FORMAT = range(9, 15)
_HOSTS = 254 * 256  # hosts of a /16 without .0 and .255


def fixed(matrix: npt.NDArray[np.uint8]) -> pa.Array:
    """One ASCII string per row of a byte matrix, without copying."""
    rows, width = matrix.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(matrix)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


def digits(values: np.ndarray, width: int) -> npt.NDArray[np.uint8]:
    """Zero-padded decimal digits of each value as an ASCII byte matrix."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers % 10 + 48).astype(np.uint8)


def text(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string())


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate element-wise; a null part (an absent apartment) contributes nothing."""
    return pc.binary_join_element_wise(*parts, "", null_handling="replace")


def numbers(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def with_nulls(strings: pa.Array, valid: Bools) -> pa.Array:
    if valid.all():
        return strings
    return pc.if_else(pa.array(valid), strings, pa.scalar(None, pa.string()))


def by_group(groups: np.ndarray, count: int, render: Callable[[int, Ints], pa.Array]) -> pa.Array:
    """Render each group of rows with its own template, then put rows back in order."""
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(count + 1))
    parts = [
        render(group, order[bounds[group] : bounds[group + 1]])
        for group in range(count)
        if bounds[group] < bounds[group + 1]
    ]
    if not parts:
        return pa.array([], pa.string())
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return pa.concat_arrays(parts).take(pa.array(inverse))


def timestamps(seconds: np.ndarray) -> pa.Array:
    """ISO-8601 UTC text (``2026-03-04T10:22:13Z``) for epoch seconds."""
    secs = seconds.astype(np.int64)
    days, clock = np.divmod(secs, DAY)
    # Civil date from days since 1970: H. Hinnant's days_from_civil, inverted.
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    out = np.empty((len(secs), 20), dtype=np.uint8)
    out[:, 0:4] = digits(year, 4)
    out[:, 5:7] = digits(month, 2)
    out[:, 8:10] = digits(day, 2)
    out[:, 11:13] = digits(clock // HOUR, 2)
    out[:, 14:16] = digits(clock // 60 % 60, 2)
    out[:, 17:19] = digits(clock % 60, 2)
    out[:, [4, 7]] = ord("-")
    out[:, 10] = ord("T")
    out[:, [13, 16]] = ord(":")
    out[:, 19] = ord("Z")
    return fixed(out)


def prefixed_ids(values: np.ndarray, prefix: str, width: int) -> pa.Array:
    """``prefix`` and ``value + 1`` zero-padded (``A0000001`` for 0); negative values are null."""
    valid = values >= 0
    matrix = np.empty((len(values), len(prefix) + width), dtype=np.uint8)
    matrix[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    matrix[:, len(prefix) :] = digits(np.where(valid, values + 1, 0), width)
    return with_nulls(fixed(matrix), valid)


def money(cents: np.ndarray) -> pa.Array:
    return join(numbers(cents // 100), ".", fixed(digits(cents % 100, 2)))


def phones(
    area: np.ndarray, exchange: np.ndarray, line: np.ndarray, styles: np.ndarray
) -> pa.Array:
    """US phone numbers in one of six spellings people type (``styles`` 0-5)."""
    a, e, n = (fixed(digits(part, width)) for part, width in ((area, 3), (exchange, 3), (line, 4)))

    def render(style: int, rows: Ints) -> pa.Array:
        ai, ei, ni = (part.take(pa.array(rows)) for part in (a, e, n))
        spellings = (
            ("+1 ", ai, "-", ei, "-", ni),
            ("(", ai, ") ", ei, "-", ni),
            (ai, ".", ei, ".", ni),
            (ai, ei, ni),
            ("+1", ai, ei, ni),
            ("1-", ai, "-", ei, "-", ni),
        )
        return join(*spellings[style])

    return by_group(np.asarray(styles) % 6, 6, render)


@cache
def email_stems() -> np.ndarray:
    """Local parts made from names (maria.lopez, mlopez...), distinct even ignoring dots.

    Distinct stems without digits keep addresses unique once digits and a provider are added,
    also under the dot-blind rule of some providers, so no two innocent accounts share one.
    """
    seen: dict[str, str] = {}
    for first in words.FIRST_NAMES.tolist():
        for last in words.LAST_NAMES.tolist():
            stems = (f"{first}.{last}", f"{first}_{last}", f"{first[0]}{last}", f"{last}.{first}")
            for stem in (*stems, f"{first}{last[0]}"):
                seen.setdefault(stem.replace(".", ""), stem)
    return np.array(sorted(seen.values()), dtype=object)


@dataclass
class Renderer:
    """Turns the keys of one generated marketplace into text."""

    accounts: int
    seed: int
    creators: int = 0
    #: Per parcel locker: brand, number and the address of its site.
    lockers: list[tuple[str, int, str]] = field(default_factory=list)

    def salt(self, purpose: int) -> int:
        return salt_for(self.seed, purpose)

    def account_ids(self, values: np.ndarray) -> pa.Array:
        return prefixed_ids(values, "A", max(7, len(str(self.accounts))))

    def creator_ids(self, values: np.ndarray) -> pa.Array:
        return prefixed_ids(values, "C", max(5, len(str(self.creators))))

    def order_ids(self, first: int, count: int) -> pa.Array:
        return prefixed_ids(first + np.arange(count, dtype=np.int64) - 1, "O", 9)

    def devices(self, keys: np.ndarray) -> pa.Array:
        """Fingerprint ids: 16 hex digits. A kiosk's key (from ``KIOSK_BASE``, ``4 j +
        spelling``) is one device whose SDKs report it in three spellings."""
        kiosk = keys >= KIOSK_BASE
        spelling = np.where(kiosk, (keys - KIOSK_BASE) & 3, 0)
        keys = np.where(kiosk, keys - spelling, keys)
        nibbles = mix64(keys, self.salt(_DEVICE))[:, None] >> np.arange(60, -1, -4, dtype=np.uint64)
        hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
        plain = fixed(hexdigits[(nibbles & np.uint64(15)).astype(np.int64)])
        if not kiosk.any():
            return plain
        dashed = pc.binary_join_element_wise(
            *(pc.utf8_slice_codeunits(plain, i, i + 4) for i in range(0, 16, 4)), "-"
        )
        spelled = pc.if_else(pa.array(spelling == 1), dashed, plain)
        return pc.if_else(pa.array(spelling == 2), join("kiosk:", plain), spelled)

    def ips(self, keys: np.ndarray) -> pa.Array:
        """Dotted IPv4 for IP keys: homes below NAT_BASE, then NAT, café and hosting pools."""
        pool = np.minimum(keys >> 40, 3)
        local = keys - (pool << 40)
        size = len(words.RESIDENTIAL_PREFIXES) << 24
        home = bijection(np.where(pool == 0, local, 0), size, self.salt(_HOME_IP))
        ip = (words.RESIDENTIAL_PREFIXES[home >> 24] << 24) | (home & 0xFFFFFF)
        pools = (
            (NAT_BASE, words.NAT_PREFIXES, _NAT_IP),
            (CAFE_BASE, words.CAFE_PREFIXES, _CAFE_IP),
            (PROXY_BASE, words.PROXY_PREFIXES, _PROXY_IP),
        )
        for base, prefixes, purpose in pools:
            inside = pool == base >> 40
            chosen = bijection(
                np.where(inside, local, 0), len(prefixes) * _HOSTS, self.salt(purpose)
            )
            pair, host = prefixes[chosen // _HOSTS], chosen % _HOSTS
            pooled = (pair[:, 0] << 24) | (pair[:, 1] << 16) | (host // 254 << 8) | (host % 254 + 1)
            ip = np.where(inside, pooled, ip)
        octets = [numbers((ip >> shift) & 255) for shift in (24, 16, 8, 0)]
        return pc.binary_join_element_wise(*octets, ".")

    def card_bins(self, keys: np.ndarray) -> Ints:
        return (mix64(keys, self.salt(_CARD_BIN)) % np.uint64(len(words.CARD_BINS))).astype(
            np.int64
        )

    def card_format(self, keys: np.ndarray) -> Ints:
        """How an owner writes their own card, fixed per card: mostly plain digits."""
        u = (mix64(keys, self.salt(_CARD_FORMAT)) % np.uint64(10)).astype(np.int64)
        return np.where(u < 7, 0, np.where(u < 9, 1, 2))

    def cards(self, codes: np.ndarray) -> pa.Array:
        """Luhn-valid test card numbers for ``key * 4 + format`` codes."""
        keys, formats = codes >> 2, codes & 3
        bins = self.card_bins(keys)
        amex = words.BIN_IS_AMEX[bins]
        payload = np.zeros((len(keys), 15), dtype=np.int64)
        payload[:, :6] = words.BIN_DIGITS[bins]
        # The 8-digit body is unique per key; a 16-digit number adds one more digit.
        payload[:, 6:14] = digits(bijection(keys, 10**8, self.salt(_CARD_BODY)), 8) - 48
        payload[:, 14] = np.where(amex, 0, mix64(keys, self.salt(_CARD_EXTRA)) % np.uint64(10))
        number = np.zeros((len(keys), 16), dtype=np.int64)
        number[:, :15] = payload
        for length, rows in ((15, amex), (16, ~amex)):
            doubled = payload[rows, : length - 1][:, ::-1].copy()
            doubled[:, ::2] *= 2
            doubled[doubled > 9] -= 9
            number[rows, length - 1] = (10 - doubled.sum(axis=1) % 10) % 10
        chars = (number + 48).astype(np.uint8)

        def render(group: int, rows: Ints) -> pa.Array:
            length, style = (15 if group >= 3 else 16), group % 3
            plain = chars[rows, :length]
            if style == 0:
                return fixed(plain)
            pieces = np.split(plain, (4, 10) if length == 15 else (4, 8, 12), axis=1)
            separator = np.full((len(rows), 1), ord(" " if style == 1 else "-"), dtype=np.uint8)
            spaced = [pieces[0]]
            for piece in pieces[1:]:
                spaced += [separator, piece]
            return fixed(np.hstack(spaced))

        return by_group(np.where(amex, 3, 0) + np.minimum(formats, 2), 6, render)

    def brands(self, codes: np.ndarray) -> pa.Array:
        return text(words.BIN_BRANDS[self.card_bins(codes >> 2)])

    def addresses(self, codes: np.ndarray) -> pa.Array:
        """Address lines for ``key * 8 + variant`` codes, each variant a real-world spelling."""
        keys, variants = codes >> 3, codes & 7
        group = np.where(keys >= WAREHOUSE_BASE, 7, np.where(keys >= LOCKER_BASE, 6, variants))

        def render(variant: int, rows: Ints) -> pa.Array:
            if variant == 6:
                return text(self._lockers(keys[rows] - LOCKER_BASE, variants[rows]))
            if variant == 7:
                return text(np.array(words.WAREHOUSES, dtype=object)[keys[rows] - WAREHOUSE_BASE])
            return self._street_addresses(keys[rows], variant)

        return by_group(group, 8, render)

    def _lockers(self, lockers: Ints, spellings: Ints) -> np.ndarray:
        """A parcel locker written one of three ways (only the spelled-hubs family varies)."""
        forms = (
            "{brand} Locker #{number}, {site}",
            "{brand} Pickup Point {number}, {site}",
            "Locker {number} ({brand}), {site}",
        )
        return np.array(
            [
                forms[spelling % len(forms)].format(brand=brand, number=number, site=site)
                for (brand, number, site), spelling in zip(
                    (self.lockers[j] for j in lockers.tolist()), spellings.tolist(), strict=True
                )
            ],
            dtype=object,
        )

    def _street_addresses(self, keys: Ints, variant: int) -> pa.Array:
        """One spelling of a unique street address per key (the unit is decoration)."""
        sizes = (9_999, len(words.STREETS), len(words.STREET_TYPES), len(words.CITIES), 10)
        place = bijection(keys, math.prod(sizes), self.salt(_ADDRESS))
        number, street, kind, city, zip_offset = digits_of(place, sizes)
        noise = mix64(keys, self.salt(_ADDRESS_NOISE))
        has_unit = (noise % np.uint64(100)).astype(np.int64) < 35
        unit_number = 1 + (noise >> np.uint64(8)) % np.uint64(30)
        unit_letter = ((noise >> np.uint64(16)) % np.uint64(5)).astype(np.int64)
        zip4 = fixed(digits(1 + (noise >> np.uint64(24)) % np.uint64(9_999), 4))
        units = with_nulls(
            join(numbers(unit_number), text(words.UNIT_LETTERS[unit_letter])), has_unit
        )
        num, zips = numbers(number + 1), fixed(digits(words.CITY_ZIPS[city] + zip_offset, 5))
        name, full = text(words.STREETS[street]), text(words.STREET_TYPES[kind])
        abbr = text(words.STREET_ABBREVIATIONS[kind])
        town, state = text(words.CITY_NAMES[city]), text(words.CITY_STATES[city])

        def unit(label: str) -> pa.Array:
            return pc.binary_join_element_wise(label, units, "")  # no unit, no label

        if variant == 0:  # 12 Oak Street Apt 4B, Springfield 62704
            return join(num, " ", name, " ", full, unit(" Apt "), ", ", town, " ", zips)
        if variant == 1:  # 12 oak st. #4b springfield 62704-1234
            line = join(num, " ", name, " ", abbr, ".", unit(" #"), " ", town, " ", zips, "-", zip4)
            return pc.utf8_lower(line)
        if variant == 2:  # 12 Oak St, Unit 4B, Springfield, IL 62704, USA
            city_line = join(", ", town, ", ", state, " ", zips, ", USA")
            return join(num, " ", name, " ", abbr, unit(", Unit "), city_line)
        if variant == 3:  # 12 OAK ST APT 4B SPRINGFIELD IL 62704
            line = join(num, " ", name, " ", abbr, unit(" Apt "), " ", town, " ", state, " ", zips)
            return pc.utf8_upper(line)
        if variant == 4:  # 12 Oak Street, Apartment 4B, Springfield, IL 62704-1234
            city_line = join(", ", town, ", ", state, " ", zips, "-", zip4)
            return join(num, " ", name, " ", full, unit(", Apartment "), city_line)
        # 12 Oak St #4B, Springfield IL 62704
        return join(num, " ", name, " ", abbr, unit(" #"), ", ", town, " ", state, " ", zips)

    def phones(self, accounts: np.ndarray, styles: np.ndarray) -> pa.Array:
        """An innocent account's own US number, unique to it, in one of six spellings."""
        sizes = (10_000, len(words.BACKGROUND_EXCHANGES), len(words.AREA_CODES))
        line, exchange, area = digits_of(
            bijection(accounts, math.prod(sizes), self.salt(_PHONE)), sizes
        )
        return phones(words.AREA_CODES[area], words.BACKGROUND_EXCHANGES[exchange], line, styles)

    def emails(self, accounts: np.ndarray, capitalised: Bools) -> pa.Array:
        """An account's own address: a name stem, 0-3 digits and a provider, never repeated."""
        stems = email_stems()
        sizes = (len(stems), len(words.PROVIDERS), 1_000)
        stem, provider, number = digits_of(
            bijection(accounts, math.prod(sizes), self.salt(_EMAIL)), sizes
        )
        tail = with_nulls(numbers(number), number > 0)
        address = join(text(stems[stem]), tail, "@", text(words.PROVIDERS[provider]))
        # Some people type their address with capitals; providers ignore case.
        return pc.if_else(pa.array(capitalised), pc.utf8_capitalize(address), address)

    def invite_codes(self, referrers: np.ndarray) -> np.ndarray:
        """The invite code each referrer hands out (``INV-`` and six characters)."""
        alphabet = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", dtype=np.uint8)
        mixed = mix64(referrers, self.salt(_INVITE))
        chars = alphabet[
            ((mixed[:, None] >> np.arange(0, 30, 5, dtype=np.uint64)) & np.uint64(31)).astype(
                np.int64
            )
        ]
        prefix = np.broadcast_to(np.frombuffer(b"INV-", dtype=np.uint8), (len(referrers), 4))
        return fixed(np.hstack([prefix, chars])).to_numpy(zero_copy_only=False)
