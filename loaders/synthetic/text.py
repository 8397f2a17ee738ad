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
_MARKET, _SEA_ADDRESS, _SEA_PHONE, _TOKEN = range(15, 19)
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
    """Turns the keys of one generated marketplace into text.

    ``locale`` says which markets accounts and addresses belong to (``us``, ``sea`` for a mix
    of Southeast-Asian markets, or one of them: ``id``, ``my``, ``th``, ``vn``, ``ph``,
    ``sg``); each key's market is drawn from it by a hash, so it is the same in every table.
    ``payment_format`` ``token`` writes PSP tokens where ``card`` writes card numbers.
    """

    accounts: int
    seed: int
    creators: int = 0
    lockers: list[str] = field(default_factory=list)
    locale: str = "us"
    payment_format: str = "card"
    #: E.164 of the rings' virtual numbers by their spelling, for the ground truth.
    ring_phone_truth: dict[str, str] = field(default_factory=dict)

    def salt(self, purpose: int) -> int:
        return salt_for(self.seed, purpose)

    def account_ids(self, values: np.ndarray) -> pa.Array:
        return prefixed_ids(values, "A", max(7, len(str(self.accounts))))

    def creator_ids(self, values: np.ndarray) -> pa.Array:
        return prefixed_ids(values, "C", max(5, len(str(self.creators))))

    def order_ids(self, first: int, count: int) -> pa.Array:
        return prefixed_ids(first + np.arange(count, dtype=np.int64) - 1, "O", 9)

    def devices(self, keys: np.ndarray) -> pa.Array:
        """Fingerprint ids: 16 hex digits."""
        nibbles = mix64(keys, self.salt(_DEVICE))[:, None] >> np.arange(60, -1, -4, dtype=np.uint64)
        hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
        return fixed(hexdigits[(nibbles & np.uint64(15)).astype(np.int64)])

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
        """Luhn-valid test card numbers (or tokens) for ``key * 4 + format`` codes."""
        keys, formats = codes >> 2, codes & 3
        if self.payment_format == "token":
            return tokens(keys, self.salt(_TOKEN))
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

    def markets(self, keys: np.ndarray) -> Ints:
        """The market (index into ``MARKETS``) each account or place key belongs to."""
        weights = np.array(words.LOCALES[self.locale], dtype=np.float64)
        if weights[0] == 1:
            return np.zeros(len(keys), dtype=np.int64)
        share = (mix64(keys, self.salt(_MARKET)) % np.uint64(1 << 20)).astype(np.float64)
        bounds = np.cumsum(weights) / weights.sum() * (1 << 20)
        return np.minimum(np.searchsorted(bounds, share, side="right"), len(weights) - 1)

    def countries(self, accounts: np.ndarray) -> pa.Array:
        """Each account's country (ISO code), the region of its phone number."""
        return text(np.array(words.MARKETS, dtype=object)[self.markets(accounts)])

    def address_markets(self, codes: np.ndarray) -> Ints:
        """The market of each address code; a locker stands where its site does."""
        keys = codes >> 3
        site = np.where(
            (keys >= LOCKER_BASE) & (keys < WAREHOUSE_BASE), 4 * self.accounts + keys - LOCKER_BASE,
            keys,
        )  # fmt: skip
        return np.where(keys >= WAREHOUSE_BASE, 0, self.markets(site))

    def address_countries(self, codes: np.ndarray) -> pa.Array:
        """Each address's country (ISO code), as an export's country column says it."""
        return text(np.array(words.MARKETS, dtype=object)[self.address_markets(codes)])

    def addresses(self, codes: np.ndarray) -> pa.Array:
        """Address lines for ``key * 8 + variant`` codes, each variant a real-world spelling."""
        keys, variants = codes >> 3, codes & 7
        street = variants + 8 * self.address_markets(codes)
        group = np.where(keys >= WAREHOUSE_BASE, 7, np.where(keys >= LOCKER_BASE, 6, street))

        def render(group: int, rows: Ints) -> pa.Array:
            if group == 6:
                return text(np.array(self.lockers, dtype=object)[keys[rows] - LOCKER_BASE])
            if group == 7:
                return text(np.array(words.WAREHOUSES, dtype=object)[keys[rows] - WAREHOUSE_BASE])
            market, variant = divmod(group, 8)
            if market == 0:
                return self._street_addresses(keys[rows], variant)
            return self._sea_addresses(words.MARKETS[market], keys[rows], variant)

        return by_group(group, 8 * len(words.MARKETS), render)

    def _sea_addresses(self, market: str, keys: Ints, variant: int) -> pa.Array:
        """One spelling of a unique place of a Southeast-Asian market per key."""
        place = bijection(keys, math.prod(SEA_PLACE_SIZES[market]), self.salt(_SEA_ADDRESS))
        return sea_address(market, sea_place(market, place), variant)

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
        """An innocent account's own number, unique to it, in one of six spellings."""
        market = self.markets(accounts)

        def render(group: int, rows: Ints) -> pa.Array:
            numbers = self._own_numbers(group, accounts[rows])
            if isinstance(numbers, MobileNumbers):
                return numbers.spelled(np.asarray(styles)[rows], international=False)
            return phones(*numbers, np.asarray(styles)[rows])

        return by_group(market, len(words.MARKETS), render)

    def phone_e164(self, accounts: np.ndarray) -> pa.Array:
        """What each account's own number is, built from its parts (the ground truth)."""
        market = self.markets(accounts)

        def render(group: int, rows: Ints) -> pa.Array:
            numbers = self._own_numbers(group, accounts[rows])
            if isinstance(numbers, MobileNumbers):
                return numbers.e164()
            area, exchange, line = numbers
            return join("+1", numbered(area, 3), numbered(exchange, 3), numbered(line, 4))

        return by_group(market, len(words.MARKETS), render)

    def _own_numbers(
        self, market: int, accounts: np.ndarray
    ) -> MobileNumbers | tuple[Ints, Ints, Ints]:
        """An account's own number: US (area, exchange, line) or another market's mobile."""
        if market == 0:
            sizes = (10_000, len(words.BACKGROUND_EXCHANGES), len(words.AREA_CODES))
            line, exchange, area = digits_of(
                bijection(accounts, math.prod(sizes), self.salt(_PHONE)), sizes
            )
            return words.AREA_CODES[area], words.BACKGROUND_EXCHANGES[exchange], line
        name = words.MARKETS[market]
        plan = words.MOBILE_PLANS[name][1]
        mobile = (10_000, len(words.SEA_BACKGROUND_EXCHANGES), 10 if name == "ID" else 1, len(plan))
        line, exchange, digit, prefix = digits_of(
            bijection(accounts, math.prod(mobile), self.salt(_SEA_PHONE)), mobile
        )
        return MobileNumbers.of(name, prefix, digit, words.SEA_BACKGROUND_EXCHANGES[exchange], line)

    def ring_phones(
        self, members: Ints, area: Ints, exchange: Ints, line: Ints, styles: Ints
    ) -> list[str]:
        """A ring's virtual numbers (from the block US rings use), in the ring's market.

        Outside the US they are written with the country code, since the members' accounts
        may say other countries.
        """
        market = int(self.markets(members[:1])[0]) if len(members) else 0
        if market == 0:
            spelled = phones(area, exchange, line, styles)
            e164 = join("+1", numbered(area, 3), numbered(exchange, 3), numbered(line, 4))
        else:
            numbers = MobileNumbers.of(words.MARKETS[market], area, area // 10, exchange, line)
            spelled, e164 = numbers.spelled(styles, international=True), numbers.e164()
        self.ring_phone_truth.update(zip(spelled.to_pylist(), e164.to_pylist(), strict=True))
        return list(spelled.to_pylist())

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


# --- Southeast-Asian markets ----------------------------------------------------------------


def plain(strings: pa.Array) -> pa.Array:
    """Text without accents, as people type on a keyboard without them (Lê Lợi → Le Loi)."""
    decomposed = pc.utf8_normalize(strings, form="NFKD")
    bare = pc.replace_substring_regex(decomposed, "\\p{Mn}", "")
    return pc.replace_substring(pc.replace_substring(bare, "\u0111", "d"), "\u0110", "D")


def pick(pool: np.ndarray | tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Names from a pool (underscores join words of one name) for indices."""
    names = np.array([str(name).replace("_", " ") for name in pool], dtype=object)
    return text(names[index])


def numbered(values: np.ndarray, width: int = 0) -> pa.Array:
    """Decimal text, zero-padded to ``width`` when given."""
    return fixed(digits(values, width)) if width else numbers(values)


@dataclass
class _Place:
    """The parts of one market's addresses, as text arrays aligned with the keys."""

    number: pa.Array
    street: pa.Array
    sub: pa.Array
    district: pa.Array
    city: pa.Array
    province: pa.Array
    postcode: pa.Array
    extra: dict[str, pa.Array]


def sea_address(market: str, parts: _Place, variant: int) -> pa.Array:
    """One of six spellings of a Southeast-Asian address; all fold to one key in its region.

    What varies is what people vary: case, abbreviations (Jl./Jln/Jalan), markers written or
    left out (No., Kel., Kec., Kota), RT/RW forms, the province or the country added or not,
    the postcode before or after the city. Spellings the rules cannot fold (typos, missing
    words) are not made here; near-duplicate resolution is measured on those separately.
    """
    p, x = parts, parts.extra
    upper, lower = pc.utf8_upper, pc.utf8_lower
    forms: tuple[tuple[pa.Array | str, ...], ...]
    if market == "ID":
        rt, rw = x["rt"], x["rw"]
        rt3, rw3 = x["rt3"], x["rw3"]
        forms = (
            ("Jl. ", p.street, " No. ", p.number, ", RT ", rt3, "/RW ", rw3, ", Kel. ", p.sub,
             ", Kec. ", p.district, ", ", p.city, " ", p.postcode),
            ("JALAN ", upper(p.street), " NO ", p.number, " RT ", rt3, " RW ", rw3, " ",
             upper(p.sub), " ", upper(p.district), " ", upper(p.city), " ", p.postcode),
            ("jl ", lower(p.street), " no.", p.number, " rt.", x["rt2"], "/rw.", x["rw2"], ", ",
             lower(p.sub), ", ", lower(p.district), ", ", lower(p.city), ", ",
             lower(p.province), " ", p.postcode),
            ("Jln. ", p.street, " Nomor ", p.number, ", RT/RW ", rt3, "/", rw3, ", Kelurahan ",
             p.sub, ", Kecamatan ", p.district, ", Kota ", p.city, ", ", p.province, " ",
             p.postcode, ", Indonesia"),
            ("Jl ", p.street, " ", p.number, " Rt", rt, " Rw", rw, " ", p.sub, " ", p.district,
             " ", p.city, " ", p.postcode),
            ("Jl. ", p.street, " No.", p.number, ", ", p.sub, ", ", p.district, ", ", p.city,
             " ", p.postcode, ", RT ", rt, " / RW ", rw),
        )  # fmt: skip
    elif market == "MY":
        lane = x["lane"]
        forms = (
            ("No. ", p.number, ", Jalan ", p.street, " ", lane, ", ", p.sub, ", ", p.postcode,
             " ", p.city, ", ", p.province),
            (p.number, " JLN ", upper(p.street), " ", lane, " ", upper(x["taman_short"]), " ",
             p.postcode, " ", upper(p.city)),
            (p.number, ", Jln ", p.street, " ", lane, ", ", x["taman_short"], ", ", p.city, " ",
             p.postcode, ", ", p.province, ", Malaysia"),
            ("no ", p.number, " jalan ", lower(p.street), " ", lane, " ", lower(p.sub), " ",
             p.postcode, " ", lower(p.city)),
            (p.number, " Jalan ", p.street, " ", lane, ", ", p.sub, ", ", p.postcode, " ",
             p.city, ", Malaysia"),
            ("No.", p.number, " Jln. ", p.street, " ", lane, ", ", x["taman_short"], ", ",
             p.city, ", ", p.postcode, " ", p.province),
        )  # fmt: skip
    elif market == "TH":
        moo, soi = x["moo"], x["soi"]
        forms = (
            (p.number, " Moo ", moo, ", Soi ", soi, ", Thanon ", p.street, ", Tambon ", p.sub,
             ", Amphoe ", p.district, ", ", p.province, " ", p.postcode),
            (p.number, " MOO ", moo, " SOI ", upper(soi), " TH. ", upper(p.street), " ",
             upper(p.sub), " ", upper(p.district), " ", upper(p.province), " ", p.postcode),
            (p.number, " moo ", moo, ", soi ", lower(soi), ", thanon ", lower(p.street), ", ",
             lower(p.sub), " sub-district, ", lower(p.district), " district, ",
             lower(p.province), " ", p.postcode, ", thailand"),
            (p.number, " Mu ", moo, " Soi ", soi, " Thanon ", p.street, " Khwaeng ", p.sub,
             " Khet ", p.district, " ", p.province, " ", p.postcode),
            (p.number, " Moo ", moo, ", Soi ", soi, ", Thanon ", p.street, ", ", p.sub, ", ",
             p.district, ", ", p.postcode, " ", p.province),
            (p.number, " M. ", moo, " Soi ", soi, " Th. ", p.street, " ", p.sub, " ",
             p.district, " ", p.province, " ", p.postcode, " Thailand"),
        )  # fmt: skip
    elif market == "VN":
        ward, short_ward, district = x["ward"], x["short_ward"], x["district"]
        forms = (
            ("Số ", p.number, " Đường ", p.street, ", Phường ", ward, ", Quận ", district,
             ", TP. ", p.city),
            (p.number, " ", p.street, ", P. ", ward, ", Q. ", district, ", ", p.city),
            (p.number, " Đ. ", p.street, ", ", short_ward, ", Q.", district, ", Thành phố ",
             p.city, ", Việt Nam"),
            (p.number, " đường ", lower(p.street), ", phường ", lower(ward), ", quận ",
             lower(district), ", ", lower(p.city)),
            (p.number, " ", upper(plain(p.street)), ", PHUONG ", upper(plain(ward)), ", QUAN ",
             upper(plain(district)), ", ", upper(plain(p.city))),
            ("Số ", p.number, ", ", p.street, ", Phường ", ward, ", Quận ", district, ", ",
             p.city, ", Việt Nam"),
        )  # fmt: skip
    elif market == "PH":
        blk, lot, phase, subd = x["blk"], x["lot"], x["phase"], x["subd"]
        forms = (
            ("Blk ", blk, " Lot ", lot, " ", p.street, " St., Phase ", phase, ", ", subd,
             " Subdivision, Brgy. ", p.sub, ", ", p.city, ", ", p.province, " ", p.postcode),
            ("BLK ", blk, " LOT ", lot, " ", upper(p.street), " ST PH ", phase, " ",
             upper(subd), " SUBDIVISION BRGY ", upper(p.sub), " ", upper(p.city), " ",
             p.postcode),
            ("Block ", blk, " Lot ", lot, ", ", p.street, " Street, Phase ", phase, ", ", subd,
             " Subdivision, Barangay ", p.sub, ", ", p.city, " ", p.postcode, ", ",
             p.province, ", Philippines"),
            ("blk ", blk, " lot ", lot, " ", lower(p.street), " st phase ", phase, " ",
             lower(subd), " subd ", "brgy ", lower(p.sub), " ", lower(p.city), " ",
             lower(p.province), " ", p.postcode),
            ("Blk. ", blk, ", Lot ", lot, ", ", p.street, " St., Phase ", phase, ", ", subd,
             " Subdivision, Bgy. ", p.sub, ", ", p.postcode, " ", p.city, ", ", p.province),
            ("Blk ", blk, " Lot ", lot, " ", p.street, " St. Ph. ", phase, " ", subd,
             " Subdivision, Brgy ", p.sub, ", ", p.city, ", ", p.province, ", ", p.postcode,
             " Philippines"),
        )  # fmt: skip
    else:  # SG
        floor, unit, kind, short = x["floor"], x["unit"], x["kind"], x["short_kind"]
        forms = (
            ("Blk ", p.number, " ", p.street, " ", short, " ", x["k"], " #", floor, "-", unit,
             " Singapore ", p.postcode),
            (p.number, " ", p.street, " ", kind, " ", x["k"], ", #", floor, "-", unit, ", S",
             p.postcode),
            ("Block ", p.number, ", ", p.street, " ", short, " ", x["k"], ", #", floor, "-", unit,
             ", Singapore (", p.postcode, ")"),
            ("BLK ", p.number, " ", upper(p.street), " ", upper(short), " ", x["k"], " #", floor,
             "-", unit, " SINGAPORE ", p.postcode),
            (p.number, " ", p.street, " ", kind, " ", x["k"], " #", x["floor1"], "-", unit,
             " Singapore ", p.postcode),
            ("Blk ", p.number, ", ", p.street, " ", short, " ", x["k"], ", #", floor, "-", unit,
             ", Singapore ", p.postcode, ", Republic of Singapore"),
        )  # fmt: skip
    return join(*forms[variant])


#: The parts of each market's places, each a size (a digit of the place number); every part
#: shows in every spelling, so distinct places are distinct text.
SEA_PLACE_SIZES: dict[str, tuple[int, ...]] = {
    # number, street, area, RT, RW
    "ID": (999, len(words.SEA_STREETS["ID"]), len(words.SEA_AREAS["ID"]), 20, 15),
    # number, street, area, lane "a/b"
    "MY": (999, len(words.SEA_STREETS["MY"]), len(words.SEA_AREAS["MY"]), 30, 30),
    # number, street, area, moo, soi (and the house number's "/n")
    "TH": (999, len(words.SEA_STREETS["TH"]), len(words.SEA_AREAS["TH"]), 15, 99),
    # number, street, area, alley, thousands of the number
    "VN": (999, len(words.SEA_STREETS["VN"]), len(words.SEA_AREAS["VN"]), 100, 10),
    # block, street, area, lot, phase
    "PH": (99, len(words.SEA_STREETS["PH"]), len(words.SEA_AREAS["PH"]), 99, 9),
    # block, street, street type, street number, floor, unit
    "SG": (999, len(words.SEA_STREETS["SG"]), len(words.SG_STREET_TYPES), 12, 40, 999),
}


def sea_place(market: str, place: Ints) -> _Place:
    """The parts of one market's places (``place`` below the product of its sizes)."""
    streets = words.SEA_STREETS[market]
    if market == "SG":
        block, street, kind, k, floor, unit = digits_of(place, SEA_PLACE_SIZES["SG"])
        empty = pa.array(np.full(len(place), "", dtype=object), pa.string())
        return _Place(
            number=numbers(block + 1),
            street=pick(streets, street),
            sub=empty, district=empty, city=empty, province=empty,
            # A postcode per building: street and block.
            postcode=numbers(100_000 + street * 1_000 + block),
            extra={
                "kind": pick(tuple(full for full, _ in words.SG_STREET_TYPES), kind),
                "short_kind": pick(tuple(short for _, short in words.SG_STREET_TYPES), kind),
                "k": numbers(k + 1),
                "floor": numbered(floor + 1, 2),
                "floor1": numbers(floor + 1),
                "unit": numbers(unit + 1),
            },
        )  # fmt: skip
    number, street, area, a, b = digits_of(place, SEA_PLACE_SIZES[market])
    areas = words.SEA_AREAS[market]
    sub, district, city, province, postcode = (
        pick(tuple(str(part[i]) for part in areas), area) for i in range(5)
    )
    parts = _Place(numbers(number + 1), pick(streets, street), sub, district, city, province,
                   postcode, {})  # fmt: skip
    if market == "ID":
        parts.extra = {
            "rt": numbers(a + 1), "rw": numbers(b + 1),
            "rt2": numbered(a + 1, 2), "rw2": numbered(b + 1, 2),
            "rt3": numbered(a + 1, 3), "rw3": numbered(b + 1, 3),
        }  # fmt: skip
    elif market == "MY":
        parts.extra = {
            "lane": join(numbers(a + 1), "/", numbers(b + 1)),
            "taman_short": pc.replace_substring(parts.sub, "Taman ", "Tmn "),
        }
    elif market == "TH":
        parts.number = pc.if_else(
            pa.array(b % 3 == 0), join(numbers(number + 1), "/", numbers(b // 3 + 1)),
            numbers(number + 1),
        )  # fmt: skip
        parts.extra = {"moo": numbers(a + 1), "soi": join(parts.street, " ", numbers(b + 1))}
    elif market == "VN":
        # Long streets run to four-digit numbers; alleys add "/n".
        house = numbers(1 + number + 1_000 * b)
        parts.number = pc.if_else(pa.array(a > 0), join(house, "/", numbers(a)), house)
        numeric_ward = pc.match_substring_regex(sub, "^[0-9]+$")
        parts.extra = {
            "ward": sub,
            "short_ward": pc.if_else(numeric_ward, join("P.", sub), join("P. ", sub)),
            "district": district,
        }
    else:  # PH: the block is the number
        parts.extra = {
            "blk": numbers(number + 1), "lot": numbers(a + 1), "phase": numbers(b + 1),
            "subd": join(pick(streets, (number + street) % len(streets)), " Hills"),
        }  # fmt: skip
    return parts


@dataclass
class MobileNumbers:
    """Mobile numbers of one market, as the parts people group them by."""

    market: str
    head: pa.Array  # the plan's prefix (and, in Indonesia, one more digit)
    exchange: pa.Array  # three digits
    line: pa.Array  # four digits

    @classmethod
    def of(
        cls, market: str, prefix: np.ndarray, digit: np.ndarray, exchange: np.ndarray,
        line: np.ndarray,
    ) -> MobileNumbers:  # fmt: skip
        """Numbers from indices into the plan's prefixes, a digit, an exchange and a line."""
        _, prefixes = words.MOBILE_PLANS[market]
        head = pick(prefixes, np.asarray(prefix) % len(prefixes))
        if market == "ID":
            head = join(head, numbers(np.asarray(digit) % 10))
        return cls(market, head, numbered(exchange, 3), numbered(line, 4))

    @property
    def country_code(self) -> str:
        return str(words.MOBILE_PLANS[self.market][0])

    def e164(self) -> pa.Array:
        """What each number is, built from its parts rather than read back from a spelling."""
        return join("+", self.country_code, self.head, self.exchange, self.line)

    def spelled(self, styles: np.ndarray, *, international: bool) -> pa.Array:
        """Each number in one of six national spellings (``styles`` 0-5).

        ``international`` spellings (rings' numbers, whoever's account holds them) always carry
        the country code, so they read right in any region.
        """
        trunk = "" if self.market == "SG" else "0"
        cc = self.country_code

        def render(style: int, rows: Ints) -> pa.Array:
            h, e, n = (part.take(pa.array(rows)) for part in (self.head, self.exchange, self.line))
            if international:
                forms = (("+", cc, " ", h, " ", e, " ", n), ("+", cc, h, e, n),
                         ("+", cc, "-", h, "-", e, "-", n))  # fmt: skip
                return join(*forms[style % 3])
            national = (
                (trunk, h, "-", e, "-", n),
                (trunk, h, " ", e, " ", n),
                ("+", cc, " ", h, " ", e, " ", n),
                (trunk, h, e, n),
                ("+", cc, h, e, n),
                (trunk, h, " ", e, n),
            )
            return join(*national[style])

        return by_group(np.asarray(styles) % 6, 6, render)


def tokens(keys: np.ndarray, salt: int) -> pa.Array:
    """PSP-style tokens (``tok_`` and 14 base-62 characters), one per card key, never repeated."""
    alphabet = np.frombuffer(
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
    )
    unique = bijection(keys, 62**10, salt)
    noise = mix64(keys, salt).astype(np.int64) & 0x7FFFFFFF
    chars = np.empty((len(keys), 18), dtype=np.uint8)
    chars[:, :4] = np.frombuffer(b"tok_", dtype=np.uint8)
    for position in range(10):
        chars[:, 4 + position] = alphabet[unique // 62**position % 62]
    for position in range(4):
        chars[:, 14 + position] = alphabet[noise // 62**position % 62]
    return fixed(chars)
