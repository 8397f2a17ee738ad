"""Synthetic marketplace: raw export tables with planted fraud rings, and their ground truth.

:func:`generate_marketplace` writes what a marketplace would export (accounts, creators, logins,
payment methods, addresses, orders, referrals, transfers) as CSV, plus
``ground_truth/rings.csv`` (one row per planted ring member) and ``ground_truth/benign.csv``
(innocent structures that look like rings: households, carrier-NAT and café IPs, parcel
lockers, warehouses, popular creators). ``loaders/mappings/marketplace.yaml`` reads them;
a copy fitted to the payment format written is put beside them as ``mapping.yaml``.

How it stays fast and small: the marketplace is planned first (accounts' sign-up times and
types, planted rings and everything they do, shared pools), then ordinary accounts are
generated in chunks of 50,000 with numpy, the ring rows of a chunk's accounts merged in, and
the chunk appended to the CSV files. Every identifier is an integer key until then, when
vectorised renderers turn it into text (:mod:`loaders.synthetic`). Output depends only on
the number of accounts and the seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from graphfraud.errors import InputError
from loaders.mapping import FOLDER_MAPPING, PaymentFormat, builtin_mapping
from loaders.synthetic.background import PLACEHOLDER_EMAILS, Chunk, background_chunk
from loaders.synthetic.keys import (
    CAFE_BASE,
    HUB_SPELLINGS,
    KIOSK_BASE,
    LOCKER_BASE,
    NAT_BASE,
    WAREHOUSE_BASE,
    Ints,
    prepaid_base,
)
from loaders.synthetic.rings import plan_ring_rows
from loaders.synthetic.tables import DERIVED, OWNER, TABLES, Frame, sorted_frame
from loaders.synthetic.text import Renderer, join, money, numbers, text, timestamps
from loaders.synthetic.vocabulary import BAD_VALUES, LOCALES
from loaders.synthetic.world import (
    FAMILIES,
    INNOCENT,
    TYPOLOGIES,
    Scenario,
    World,
    plan_world,
    scenario_of,
)

__all__ = [
    "BENIGN_KINDS",
    "FAMILIES",
    "HUB_FAMILY_KINDS",
    "LOCALES",
    "PAYMENT_FORMATS",
    "POPULAR_CREATOR_BUYERS",
    "TABLES",
    "TYPOLOGIES",
    "GeneratedMarketplace",
    "Scenario",
    "generate_marketplace",
]

Progress = Callable[[str, int, int], None]

BENIGN_KINDS: tuple[str, ...] = (
    "household",
    "nat_ip",
    "cafe_ip",
    "parcel_locker",
    "popular_creator",
    "warehouse_address",
    "kiosk_device",
    "prepaid_card",
    "reception_phone",
    "placeholder_email",
)
#: Benign kinds only the ``hubs`` family has (``spelled_hubs`` has kiosks too).
HUB_FAMILY_KINDS: tuple[str, ...] = (
    "kiosk_device",
    "prepaid_card",
    "reception_phone",
    "placeholder_email",
)
#: Tables a P2P payments export does not have (written with their header only).
P2P_ABSENT_TABLES = ("creators", "addresses", "orders")
#: How payment instruments are written: card numbers, or PSP tokens (``tok_...``).
PAYMENT_FORMATS = ("card", "token")
#: A creator is listed as a benign ``popular_creator`` from this many distinct buyers.
POPULAR_CREATOR_BUYERS = 50
MIN_ACCOUNTS = 100
MAX_ACCOUNTS = 20_000_000  # card numbers stay unique up to here
CHUNK = 50_000  # accounts per chunk; part of the output's definition, like the seed
DIRTY_RATE = 1 / 20_000
#: How each table's export goes wrong: (column, damage). Rows of ring members are spared.
DIRTY: dict[str, tuple[tuple[str, str], ...]] = {
    "accounts": (
        ("created_at", "time"),
        ("email", "email"),
        ("phone", "phone"),
        ("account_id", "empty"),
    ),
    "creators": (("created_at", "time"), ("owner_account_id", "empty")),
    "logins": (("ts", "time"), ("account_id", "empty")),
    "payment_methods": (("card_number", "luhn"), ("added_at", "time"), ("account_id", "empty")),
    "addresses": (("added_at", "time"), ("account_id", "empty")),
    "orders": (("ts", "time"), ("card_number", "luhn"), ("buyer_id", "empty")),
    "referrals": (("ts", "time"), ("referrer_id", "empty")),
    "transfers": (("ts", "time"), ("from_account", "empty")),
}


@dataclass
class GeneratedMarketplace:
    """What :func:`generate_marketplace` wrote."""

    out_dir: Path
    tables: dict[str, int]
    rings: dict[str, int]
    fraud_accounts: int = 0
    locale: str = "us"
    payment_format: str = "card"


def generate_marketplace(
    out_dir: Path,
    *,
    accounts: int,
    seed: int = 0,
    family: str = "standard",
    locale: str = "us",
    payment_format: str = "card",
    identifier_truth: bool = False,
    progress: Progress | None = None,
) -> GeneratedMarketplace:
    """Write a synthetic marketplace with planted fraud rings and its ground truth.

    Parameters
    ----------
    out_dir
        Folder for the tables (created if missing; existing tables are overwritten).
    accounts
        Number of accounts, from 100 to 20 million. About one ring is planted per 1,000
        accounts (at least 12, two of each typology, from 2,000 accounts); rings hold 2-5%
        of all accounts.
    seed
        The same seed, number of accounts and family give byte-identical files.
    family
        The scenario family (:data:`FAMILIES`): ``standard``, or one breaking an assumption
        a detector could lean on (``aged`` rings without a sign-up burst, ``unlabelled``,
        ``no_created``, ``camouflage``, ``spelled_hubs``, ``hubs`` of every kind, ``p2p``,
        ``hard`` = all but p2p); see :class:`Scenario`.
    locale
        Where accounts and addresses are: ``us``; ``sea``, a mix of Indonesia (half),
        Malaysia, Thailand, Vietnam, the Philippines and Singapore; or one of those (``id``,
        ``my``, ``th``, ``vn``, ``ph``, ``sg``). Each account's phone and each address is
        written the way its market writes them, in six spellings people use, with a
        ``country`` column saying the market.
    payment_format
        ``card`` writes card numbers; ``token`` PSP tokens (``tok_`` and 14 characters), one
        per card.
    identifier_truth
        Also write ``ground_truth/identifiers.csv``: every address and phone spelling in the
        tables with what it really is (``place-<n>``, or the number in E.164 built from its
        parts), to measure how normalisation folds spellings.
    progress
        Called as ``progress(stage, done, total)`` while work advances.

    Returns
    -------
    GeneratedMarketplace
        Where the files are, rows per table, rings per typology, ring members in all.

    Raises
    ------
    InputError
        ``accounts`` is out of range, ``seed`` is negative or ``family`` unknown.

    Notes
    -----
    Tables are CSV with a header row, UTF-8, ISO-8601 UTC times, an empty cell for null:
    ``accounts``, ``creators``, ``logins``, ``payment_methods``, ``addresses``, ``orders``,
    ``referrals``, ``transfers`` (columns in :data:`TABLES`). Ground truth:
    ``ground_truth/rings.csv`` (ring_id, typology, account_id, camouflaged) and
    ``ground_truth/benign.csv`` (structure_id, kind, identifier_kind, identifier as written in
    the tables, accounts). About one row in 20,000 of each table is damaged (an unparseable
    time, a malformed email or phone, a card number failing Luhn, a missing account id), at
    least one per table from 1,000 accounts; the ground truth says nothing about them.

    Examples
    --------
    >>> import tempfile
    >>> result = generate_marketplace(Path(tempfile.mkdtemp()), accounts=2_000, seed=1)
    >>> sorted(result.rings) == sorted(TYPOLOGIES) and min(result.rings.values()) >= 2
    True
    """
    if not MIN_ACCOUNTS <= accounts <= MAX_ACCOUNTS:
        raise InputError(
            f"accounts must be between {MIN_ACCOUNTS:,} and {MAX_ACCOUNTS:,} (got {accounts:,})"
        )
    if seed < 0:
        raise InputError(f"the seed must not be negative (got {seed})")
    scenario = scenario_of(family)
    if locale not in LOCALES:
        raise InputError(f"unknown locale {locale!r}: use one of {', '.join(LOCALES)}")
    if payment_format not in PAYMENT_FORMATS:
        raise InputError(f"unknown payment format {payment_format!r}: use card or token")
    tell = progress or (lambda stage, done, total: None)
    out_dir = Path(out_dir)
    render = Renderer(accounts, seed, locale=locale, payment_format=payment_format)
    world = plan_world(accounts, seed, tell, scenario, render=render)
    plan_ring_rows(world, tell)
    chunked = [table for table in TABLES if table != "creators"]
    ring_rows = {table: sorted_frame(world.ring_rows.frame(table), table) for table in chunked}
    writers = {table: _CsvWriter(out_dir / f"{table}.csv", list(TABLES[table])) for table in TABLES}
    tally = _Tally.empty(world)
    dirt = _Dirt(world, np.random.default_rng([seed, 4]))
    households: list[dict[str, pa.Array]] = []
    truth = _IdentifierTruth(world) if identifier_truth else None
    try:
        _write(world, writers["creators"], "creators", _creators(world), dirt, last=True)
        for number, lo in enumerate(range(0, accounts, CHUNK)):
            hi = min(accounts, lo + CHUNK)
            chunk = background_chunk(world, lo, hi, np.random.default_rng([seed, 3, number]))
            frames = {table: _merged(chunk, ring_rows[table], table) for table in chunked}
            tally.add(frames, chunk.hub_users)
            for table, frame in frames.items():
                _write(world, writers[table], table, frame, dirt, last=hi == accounts, truth=truth)
            households.append(_household_rows(world, chunk.households))
            tell("writing tables", hi, accounts)
    finally:
        for writer in writers.values():
            writer.close()
    _write_ground_truth(world, out_dir, tally, households)
    _write_mapping(out_dir, PaymentFormat(payment_format))
    if truth is not None:
        truth.write(out_dir / "ground_truth" / "identifiers.csv")
    tell("writing ground truth", 1, 1)
    return GeneratedMarketplace(
        out_dir=out_dir,
        tables={table: writer.rows for table, writer in writers.items()},
        rings={
            kind: sum(ring.typology == kind for ring in world.rings) for kind in scenario.typologies
        },
        fraud_accounts=int(sum(len(ring.members) for ring in world.rings)),
        locale=locale,
        payment_format=payment_format,
    )


def _merged(chunk: Chunk, rings: Frame, table: str) -> Frame:
    """A chunk's background rows and the ring rows of its accounts, in export order."""
    background = chunk.rows.frame(table)
    a, b = np.searchsorted(rings[OWNER[table][0]], [chunk.lo, chunk.hi])
    both = {name: np.concatenate([values, rings[name][a:b]]) for name, values in background.items()}
    return sorted_frame(both, table)


def _creators(world: World) -> Frame:
    return {
        "creator_id": np.arange(len(world.creator_owner), dtype=np.int64),
        "owner_account_id": world.creator_owner,
        "name": world.creator_names,
        "created_at": world.creator_created,
    }


def _write(
    world: World,
    writer: _CsvWriter,
    table: str,
    frame: Frame,
    dirt: _Dirt,
    *,
    last: bool,
    truth: _IdentifierTruth | None = None,
) -> None:
    render = world.render
    renderers: dict[str, Callable[[np.ndarray], pa.Array]] = {
        "account": render.account_ids,
        "creator": render.creator_ids,
        "time": timestamps,
        "money": money,
        "text": text,
        "ip": render.ips,
        "device": render.devices,
        "card": render.cards,
        "brand": render.brands,
        "address": render.addresses,
        "account_country": render.countries,
        "address_country": render.address_countries,
    }
    scenario = world.scenario
    if scenario.p2p and table in P2P_ABSENT_TABLES:
        return
    rows = len(frame[OWNER[table][0]])
    source = DERIVED.get(table, {})
    columns = {
        name: render.order_ids(writer.rows + 1, rows)
        if kind == "order"
        else renderers[kind](frame[source.get(name, name)])
        for name, kind in TABLES[table].items()
    }
    if scenario.no_created and table == "accounts":
        columns["created_at"] = pa.nulls(rows, pa.string())
    if truth is not None:
        truth.add(table, frame, columns)
    dirt.spoil(table, frame, columns, last=last)
    writer.append([columns[name] for name in TABLES[table]])


class _CsvWriter:
    """Appends rendered columns to one CSV file, quoting only the cells that need it."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file: BinaryIO = path.open("wb")
        self.file.write((",".join(header) + "\n").encode())
        self.rows = 0

    def append(self, columns: Sequence[pa.Array]) -> None:
        if len(columns[0]) == 0:
            return
        cells = [_quoted(column) for column in columns]
        lines = pc.binary_join_element_wise(*cells, ",", null_handling="replace")
        lines = pc.binary_join_element_wise(lines, "", "\n")
        # The joined lines sit back to back in one buffer: write it as it is.
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
        offsets = offsets[lines.offset : lines.offset + len(lines) + 1]
        self.file.write(memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])])
        self.rows += len(lines)

    def close(self) -> None:
        self.file.close()


def _quoted(column: pa.Array) -> pa.Array:
    needs = pc.match_substring_regex(column, '[",\n\r]')
    if not pc.any(needs).as_py():
        return column
    return pc.if_else(needs, join('"', pc.replace_substring(column, '"', '""'), '"'), column)


class _Dirt:
    """Damages rows the way real exports are damaged: ~1 in 20,000, at least one per table."""

    def __init__(self, world: World, rng: np.random.Generator) -> None:
        self.world, self.rng = world, rng
        self.spoiled = dict.fromkeys(TABLES, 0)

    def spoil(self, table: str, frame: Frame, columns: dict[str, pa.Array], *, last: bool) -> None:
        """Replace a few values of ``columns`` (rendered ``frame``) in rows of innocents."""
        owners = frame[OWNER[table][0]]
        eligible = np.flatnonzero(self.world.state[owners] == INNOCENT)
        count = int(self.rng.binomial(len(owners), DIRTY_RATE))
        if last and self.spoiled[table] + count == 0 and self.world.n >= 1_000:
            count = 1
        count = min(count, len(eligible))
        for row in np.sort(self.rng.choice(eligible, size=count, replace=False)).tolist():
            column, damage = DIRTY[table][int(self.rng.integers(len(DIRTY[table])))]
            values = columns[column]
            bad: str | None = None  # an empty account id
            if damage == "luhn" and self.world.render.payment_format == "token":
                bad = str(self.rng.choice(BAD_VALUES["token"]))
            elif damage == "luhn":  # a mistyped check digit
                card = str(values[row].as_py())
                bad = card[:-1] + str((int(card[-1]) + 1) % 10)
            elif damage != "empty":
                bad = str(self.rng.choice(BAD_VALUES[damage]))
            mask = pa.array(np.arange(len(values)) == row)
            columns[column] = pc.replace_with_mask(values, mask, pa.array([bad], pa.string()))
        self.spoiled[table] += count


class _IdentifierTruth:
    """What each address and phone spelling in the tables really is, collected as written."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.parts: list[pa.Table] = []

    def add(self, table: str, frame: Frame, columns: dict[str, pa.Array]) -> None:
        """Record a chunk's spellings (before any is damaged) with what they are."""
        for name, kind in TABLES[table].items():
            if kind == "address":
                places = join("place-", numbers(frame[name] >> 3))
                self._add("Address", columns[name], places)
        if table == "accounts":
            accounts = frame["account_id"]
            own = self.world.render.phone_e164(accounts).to_numpy(zero_copy_only=False)
            spelled = columns["phone"]
            ring = np.flatnonzero(np.isin(accounts, list(self.world.phone_overrides)))
            lookup = self.world.render.ring_phone_truth
            own[ring] = [lookup.get(str(spelled[row].as_py())) for row in ring.tolist()]
            self._add("Phone", spelled, pa.array(own, pa.string()))

    def _add(self, kind: str, spelled: pa.Array, truth: pa.Array) -> None:
        part = pa.table(
            {"kind": pa.array(np.full(len(spelled), kind, object)), "identifier": spelled,
             "truth": truth}
        ).filter(pc.and_(pc.is_valid(spelled), pc.is_valid(truth)))  # fmt: skip
        self.parts.append(part.group_by(["kind", "identifier", "truth"]).aggregate([]))

    def write(self, path: Path) -> None:
        """Every distinct (kind, identifier, truth) once, sorted, as CSV."""
        table = pa.concat_tables(self.parts).group_by(["kind", "identifier", "truth"]).aggregate([])
        table = table.sort_by([("kind", "ascending"), ("truth", "ascending"),
                               ("identifier", "ascending")])  # fmt: skip
        writer = _CsvWriter(path, ["kind", "identifier", "truth"])
        writer.append([table.column(name).combine_chunks() for name in table.column_names])
        writer.close()


@dataclass
class _Tally:
    """Distinct accounts using each pooled identifier, summed over chunks."""

    nat: Ints
    cafe: Ints
    lockers: Ints
    warehouses: Ints
    creators: Ints
    kiosks: Ints
    prepaid: Ints
    reception: Ints
    placeholder: Ints
    prepaid_base: int

    @classmethod
    def empty(cls, world: World) -> _Tally:
        sizes = (
            len(world.nat_weights),
            len(world.cafe_weights),
            len(world.locker_weights),
            world.warehouses,
            len(world.creator_owner),
            len(world.kiosk_weights),
            len(world.prepaid_weights),
            len(world.reception_weights),
            len(PLACEHOLDER_EMAILS) if len(world.reception_weights) else 0,
        )
        nat, cafe, lockers, warehouses, creators, kiosks, prepaid, reception, placeholder = (
            np.zeros(size, np.int64) for size in sizes
        )
        return cls(
            nat, cafe, lockers, warehouses, creators, kiosks, prepaid, reception, placeholder,
            prepaid_base(world.n),
        )  # fmt: skip

    def add(self, frames: dict[str, Frame], hub_users: Frame) -> None:
        """Count a chunk's accounts (no account is in two chunks) per pooled thing."""

        def uses(*columns: tuple[str, str]) -> tuple[Ints, Ints]:
            owners = [frames[table][OWNER[table][0]] for table, _ in columns]
            keys = [frames[table][column] for table, column in columns]
            return np.concatenate(owners), np.concatenate(keys)

        owners, ips = uses(("logins", "ip"), ("accounts", "signup_ip"))
        self._count(self.nat, owners, ips - NAT_BASE)
        self._count(self.cafe, owners, ips - CAFE_BASE)
        owners, places = uses(("orders", "ship_address"), ("addresses", "address"))
        self._count(self.lockers, owners, (places >> 3) - LOCKER_BASE)
        self._count(self.warehouses, owners, (places >> 3) - WAREHOUSE_BASE)
        self._count(self.creators, *uses(("orders", "creator_id")))
        owners, devices = uses(("logins", "device_fingerprint"))
        kiosk = np.where(devices >= KIOSK_BASE, devices - KIOSK_BASE, -4) >> 2
        self._count(self.kiosks, owners, kiosk)
        owners, cards = uses(("payment_methods", "card_number"))
        self._count(self.prepaid, owners, (cards >> 2) - self.prepaid_base)
        for name in ("reception", "placeholder"):
            counts = getattr(self, name)
            counts += np.bincount(hub_users.get(name, np.zeros(0, np.int64)), minlength=len(counts))

    @staticmethod
    def _count(counts: Ints, accounts: Ints, index: Ints) -> None:
        inside = (index >= 0) & (index < len(counts))
        pairs = np.unique(accounts[inside] * len(counts) + index[inside])
        counts += np.bincount(pairs % len(counts), minlength=len(counts))


def _household_rows(world: World, homes: Frame) -> dict[str, pa.Array]:
    """Benign rows for a chunk's households: the shared address, device and card."""
    count = len(homes["first"])
    device = homes["device_users"] > 1
    card = homes["card_users"] > 1
    household = np.concatenate([np.arange(count), np.flatnonzero(device), np.flatnonzero(card)])
    order = np.argsort(household, kind="stable")
    kinds = np.repeat(
        np.array(["Address", "Device", "PaymentInstrument"], dtype=object),
        [count, int(device.sum()), int(card.sum())],
    )
    identifiers = pa.concat_arrays(
        [
            world.render.addresses(homes["address"]),
            world.render.devices(4 * world.n + homes["first"][device]),
            world.render.cards(homes["card"][card]),
        ]
    )
    users = np.concatenate(
        [homes["members"], homes["device_users"][device], homes["card_users"][card]]
    )
    return {
        "first": pa.array(homes["first"][household][order]),
        "identifier_kind": text(kinds[order]),
        "identifier": identifiers.take(pa.array(order)),
        "accounts": numbers(users[order]),
    }


def _respelled(world: World, kind: str, used: Ints, spelling: int) -> pa.Array:
    """Another spelling of parcel lockers or kiosks (the spelled-hubs family)."""
    if kind == "parcel_locker":
        return world.render.addresses((LOCKER_BASE + used) * 8 + spelling)
    return world.render.devices(KIOSK_BASE + 4 * used + spelling)


def _write_mapping(out_dir: Path, payment_format: PaymentFormat) -> None:
    """The mapping that reads these tables, beside them: the built-in one, its payment
    instruments read in the format written (``graphfraud load`` finds it there)."""
    spec = builtin_mapping("marketplace").reading_payments_as(payment_format)
    written = yaml.safe_dump(
        spec.model_dump(mode="json", exclude_defaults=True), sort_keys=False, allow_unicode=True
    )
    (out_dir / FOLDER_MAPPING).write_text(
        "# How graphfraud reads the tables of this folder, written by `graphfraud generate`.\n"
        "# loaders/mappings/marketplace.yaml says what each line means.\n" + written,
        encoding="utf-8",
    )


def _write_ground_truth(
    world: World, out_dir: Path, tally: _Tally, households: list[dict[str, pa.Array]]
) -> None:
    truth = out_dir / "ground_truth"
    rings = _CsvWriter(truth / "rings.csv", ["ring_id", "typology", "account_id", "camouflaged"])
    for ring in world.rings:
        k = len(ring.members)
        rings.append(
            [
                text(np.full(k, ring.ring_id, dtype=object)),
                text(np.full(k, ring.typology, dtype=object)),
                world.render.account_ids(ring.members),
                text(np.full(k, "1" if ring.camouflaged else "0", dtype=object)),
            ]
        )
    rings.close()

    benign = _CsvWriter(
        truth / "benign.csv", ["structure_id", "kind", "identifier_kind", "identifier", "accounts"]
    )
    render = world.render
    pools: list[tuple[str, str, Ints, Callable[[Ints], pa.Array]]] = [
        ("nat_ip", "IP", tally.nat, lambda j: render.ips(NAT_BASE + j)),
        ("cafe_ip", "IP", tally.cafe, lambda j: render.ips(CAFE_BASE + j)),
        (
            "parcel_locker",
            "Address",
            tally.lockers,
            lambda j: render.addresses((LOCKER_BASE + j) * 8),
        ),
        (
            "warehouse_address",
            "Address",
            tally.warehouses,
            lambda j: render.addresses((WAREHOUSE_BASE + j) * 8),
        ),
        ("popular_creator", "Creator", tally.creators, render.creator_ids),
    ]
    spelled = world.scenario.spelled_hubs
    pools += [
        ("kiosk_device", "Device", tally.kiosks, lambda j: render.devices(KIOSK_BASE + 4 * j)),
        (
            "prepaid_card",
            "PaymentInstrument",
            tally.prepaid,
            lambda j: render.cards((tally.prepaid_base + j) * 4),
        ),
        (
            "reception_phone",
            "Phone",
            tally.reception,
            lambda j: render.phones(world.n + j, np.zeros(len(j), np.int64)),
        ),
        ("placeholder_email", "Email", tally.placeholder, lambda j: text(PLACEHOLDER_EMAILS[j])),
    ]
    for kind, identifier_kind, counts, identify in pools:
        used = np.flatnonzero(
            counts >= (POPULAR_CREATOR_BUYERS if kind == "popular_creator" else 1)
        )
        used = used[~np.isin(used, world.ring_creators)] if kind == "popular_creator" else used
        # A locker or kiosk written several ways is one structure: a row per spelling.
        spellings = HUB_SPELLINGS if spelled and kind in ("parcel_locker", "kiosk_device") else 1
        k = len(used)
        for spelling in range(spellings):
            benign.append(
                [
                    join(f"{kind}-", numbers(np.arange(1, k + 1))),
                    text(np.full(k, kind, dtype=object)),
                    text(np.full(k, identifier_kind, dtype=object)),
                    identify(used) if spelling == 0 else _respelled(world, kind, used, spelling),
                    numbers(counts[used]),
                ]
            )
    numbered = 0
    for part in households:
        first = part["first"].to_numpy()
        number = numbered + np.cumsum(np.r_[True, first[1:] != first[:-1]]) if len(first) else first
        numbered = int(number[-1]) if len(number) else numbered
        benign.append(
            [
                join("household-", numbers(number)),
                text(np.full(len(first), "household", dtype=object)),
                part["identifier_kind"],
                part["identifier"],
                part["accounts"],
            ]
        )
    benign.close()
