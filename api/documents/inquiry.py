"""The regulator inquiry pack: everything the platform holds about some accounts and
identifiers over a time window, in one zip a regulator can verify.

The pack holds a summary (HTML and PDF); CSV files of every account, identifier, link and
event in scope; the rings involved with their members, history, verdicts, notes and audit
trail; a methodology note (how rings are found and scored, the version and settings of the
runs that found them); and ``manifest.json`` with every file's SHA-256.

Scope: the accounts named and the accounts using the identifiers named (the *subjects*), and
what links them: the identifiers and counterparty accounts their links reach, and the
subjects' events in the window (and events touching the identifiers named). Personal data is
minimised: payment instruments appear only as the store's keyed fingerprints and masked
numbers (``visa ••4242``), never as card numbers; fields or whole entity kinds named in
``redact`` are replaced by pseudonyms that still join across the pack's files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from api.documents.render import csv_bytes, html_to_pdf, render_html, zip_with_manifest
from api.documents.tables import (
    all_rings,
    audit_frame,
    history_frame,
    members_frame,
    notes_frame,
    rings_frame,
    shared_frame,
)
from graphfraud import __version__
from graphfraud.errors import InputError, NotFound
from graphfraud.model import ENTITY_COLUMNS, LINK_COLUMNS, DetectionRun, EntityKind, EntityRef
from graphfraud.settings import Settings
from graphfraud.store import GraphStore
from loaders.normalise import NormaliseOptions, normalise

#: Accounts in scope at most: an identifier used by more is a hub (a carrier IP, a locker)
#: and would sweep strangers into the pack.
MAX_ACCOUNTS = 5_000


@dataclass(frozen=True)
class Inquiry:
    """What a regulator asked about: accounts, identifiers (``Kind:value`` as the source had
    them), a time window (``since`` inclusive, ``until`` exclusive; None: open) and the fields
    or entity kinds to redact."""

    accounts: Sequence[str] = ()
    identifiers: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    redact: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class InquiryScope:
    """What an inquiry covers, read from a store (frames as the pack's CSV files)."""

    inquiry: Inquiry
    identifiers: list[EntityRef]
    accounts: pd.DataFrame
    entities: pd.DataFrame
    links: pd.DataFrame
    events: pd.DataFrame
    rings: pd.DataFrame
    members: pd.DataFrame
    shared: pd.DataFrame
    history: pd.DataFrame
    notes: pd.DataFrame
    audit: pd.DataFrame
    runs: list[DetectionRun]
    made_at: datetime


def resolve_identifier(store: GraphStore, text: str, settings: Settings) -> EntityRef:
    """``Kind:value`` as stored: the value normalised as the loader does (cards fingerprinted
    with the store's key); raises InputError or NotFound naming the identifier."""
    ref = EntityRef.parse(text)
    options = NormaliseOptions.from_settings(settings, fingerprint_key=store.fingerprint_key())
    normalised = normalise(ref.kind, pd.Series([ref.key]), options)
    key, error = normalised.values.iloc[0], normalised.errors.iloc[0]
    candidates = [ref] if pd.isna(key) else [EntityRef(ref.kind, str(key)), ref]
    for candidate in dict.fromkeys(candidates):
        try:
            store.entity(candidate)
            return candidate
        except NotFound:
            continue
    reason = f" ({error})" if isinstance(error, str) and error else ""
    raise NotFound(f"identifier {text!r} is not in the store{reason}")


def inquiry_scope(store: GraphStore, inquiry: Inquiry, *, settings: Settings) -> InquiryScope:
    """Read everything in an inquiry's scope from ``store``."""
    if not inquiry.accounts and not inquiry.identifiers:
        raise InputError("an inquiry names at least one account or identifier")
    inquiry = dataclasses.replace(
        inquiry, since=_utc(inquiry.since, "from"), until=_utc(inquiry.until, "to")
    )
    for account in inquiry.accounts:
        try:
            store.entity(EntityRef(EntityKind.ACCOUNT, account))
        except NotFound:
            raise NotFound(f"account {account!r} is not in the store") from None
    identifiers = [resolve_identifier(store, text, settings) for text in inquiry.identifiers]
    # An account named as an identifier is an account asked about.
    accounts = set(inquiry.accounts) | {r.key for r in identifiers if r.kind == EntityKind.ACCOUNT}
    identifiers = [r for r in identifiers if r.kind != EntityKind.ACCOUNT]
    for ref in identifiers:
        accounts.update(store.accounts_sharing(ref)["account"].astype(str))
    if len(accounts) > MAX_ACCOUNTS:
        raise InputError(
            f"the inquiry reaches {len(accounts):,} accounts (more than {MAX_ACCOUNTS:,}): one "
            "of its identifiers is shared by many; name fewer or narrower identifiers"
        )
    refs = [EntityRef(EntityKind.ACCOUNT, a) for a in sorted(accounts)]
    around = store.surroundings(refs)
    links = _in_window(around.edges[list(LINK_COLUMNS)], inquiry)
    ends = set(zip(links["dst_kind"], links["dst_key"], strict=True))
    ends |= set(zip(links["src_kind"], links["src_key"], strict=True)) | set(identifiers)
    ends |= {(EntityKind.ACCOUNT.value, a) for a in accounts}
    nodes = around.nodes
    in_scope = [(k, key) in ends for k, key in zip(nodes["kind"], nodes["key"], strict=True)]
    entities = nodes[in_scope][list(ENTITY_COLUMNS)].sort_values(["kind", "key"])
    by_accounts = store.events(accounts=sorted(accounts), since=inquiry.since,
                               until=inquiry.until)  # fmt: skip
    by_refs = (
        store.events(refs=[str(r) for r in identifiers], since=inquiry.since, until=inquiry.until)
        if identifiers else by_accounts.iloc[:0]
    )  # fmt: skip
    events = (
        pd.concat([by_accounts, by_refs])
        .drop_duplicates("event_id")
        .sort_values(["time", "event_id"], na_position="last")
    )
    rings = [r for r in all_rings(store) if accounts & set(r.accounts)]
    histories = [store.ring_history(r.ring_id) for r in rings]
    history = history_frame(histories)
    found_by = set(history["run_id"])
    held = entities[entities["kind"] == EntityKind.ACCOUNT]
    # Subjects: the accounts asked about; the others are their counterparties (referrals,
    # transfers), listed because links.csv names them.
    held = held.assign(subject=held["key"].isin(accounts))
    return InquiryScope(
        inquiry=inquiry,
        identifiers=identifiers,
        accounts=held.reset_index(drop=True),
        entities=entities[entities["kind"] != EntityKind.ACCOUNT].reset_index(drop=True),
        links=links.reset_index(drop=True),
        events=events.reset_index(drop=True),
        rings=rings_frame(rings),
        members=members_frame(rings),
        shared=shared_frame(rings),
        history=history,
        notes=notes_frame(n for r in rings for n in store.notes(r.ring_id)),
        audit=audit_frame(e for r in rings for e in store.audit(ring_id=r.ring_id)),
        runs=[run for run in store.runs() if run.run_id in found_by],
        made_at=datetime.now(UTC),
    )


def _utc(value: datetime | None, what: str) -> datetime | None:
    """A window's end as UTC (a time without a zone is taken as UTC); InputError for a time
    the stores cannot hold."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, OverflowError):
        raise InputError(f"{what} {value!r} is out of the range of times kept") from None
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


def _in_window(links: pd.DataFrame, inquiry: Inquiry) -> pd.DataFrame:
    """Links observed during the window (first seen before its end, last seen after its
    start); links without times are kept: nothing says they fall outside."""
    keep = pd.Series(True, index=links.index)
    if inquiry.until is not None:
        until = pd.Timestamp(inquiry.until).tz_convert(None)
        keep &= ~(links["first_seen"] >= until)
    if inquiry.since is not None:
        since = pd.Timestamp(inquiry.since).tz_convert(None)
        keep &= ~(links["last_seen"] < since)
    return links[keep]


def inquiry_pack(store: GraphStore, inquiry: Inquiry, *, settings: Settings) -> bytes:
    """The inquiry pack as zip bytes (see the module's description)."""
    scope = inquiry_scope(store, inquiry, settings=settings)
    redacted = Redaction(inquiry.redact, key=store.fingerprint_key())
    frames = {
        "accounts.csv": scope.accounts,
        "identifiers.csv": scope.entities,
        "links.csv": scope.links,
        "events.csv": scope.events,
        "rings.csv": scope.rings,
        "ring_members.csv": scope.members,
        "ring_shared_identifiers.csv": scope.shared,
        "ring_history.csv": scope.history,
        "notes.csv": scope.notes,
        "audit.csv": scope.audit,
        "runs.csv": _runs_frame(scope.runs),
    }
    files = {path: csv_bytes(redacted.frame(frame)) for path, frame in frames.items()}
    summary = summary_html(scope, redacted)
    files["summary.html"] = summary.encode()
    files["summary.pdf"] = html_to_pdf(summary)
    files["methodology.md"] = methodology(scope.runs).encode()
    about = {
        "document": "inquiry pack",
        "made_at": scope.made_at.isoformat(),
        "graphfraud_version": __version__,
        "inquiry": {
            "accounts": [redacted.value(EntityKind.ACCOUNT, a) for a in inquiry.accounts],
            "identifiers": [redacted.value(r.kind, r.key, ref=True) for r in scope.identifiers],
            "from": None if inquiry.since is None else inquiry.since.isoformat(),
            "to": None if inquiry.until is None else inquiry.until.isoformat(),
            "redacted": sorted(redacted.names),
        },
    }
    return zip_with_manifest(files, about=about)


def summary_html(scope: InquiryScope, redacted: Redaction) -> str:
    """The pack's summary page."""
    return render_html(
        "inquiry_summary.html",
        scope=scope,
        inquiry=scope.inquiry,
        identifiers=[redacted.value(r.kind, r.key, ref=True) for r in scope.identifiers],
        accounts=[redacted.value(EntityKind.ACCOUNT, a) for a in scope.inquiry.accounts],
        rings=redacted.frame(scope.rings),
        audit=redacted.frame(scope.audit),
        amount=float(scope.events["amount"].fillna(0).sum()),
        subjects=int(scope.accounts["subject"].sum()),
        kinds=scope.entities["kind"].value_counts().sort_index(),
        redacted=sorted(redacted.names),
        methodology=methodology(scope.runs),
        made_at=scope.made_at,
        version=__version__,
    )


def methodology(runs: Sequence[DetectionRun]) -> str:
    """How rings are found and scored, and the runs (version, engine, settings) behind the
    rings in the pack, as Markdown."""
    lines = [
        "# Methodology",
        "",
        "Accounts are linked through the identifiers they share (devices, payment instruments, "
        "addresses, phones, emails, IP addresses) and through direct links (referrals, money "
        "and orders). Each shared identifier weighs less the more accounts use it; identifiers "
        "used by very many accounts (public networks, lockers, warehouses) are treated as hubs "
        "and link no one. Groups of strongly tied accounts are found as connected components "
        "and split with the Leiden community algorithm. Each group is scored from named, "
        "additive contributions (how surprising the sharing is against what households show, "
        "accounts created in a burst, known-bad accounts, money moving in a cycle, accounts "
        "acting in lockstep); groups scoring above the threshold are rings. A typology is "
        "named with its reasons. Rings keep their id across runs when their membership "
        "mostly persists.",
        "",
        "Identifiers are normalised before they are compared (emails, phones, addresses); "
        "payment instruments are kept only as keyed fingerprints and masked numbers.",
        "",
        "## Detection runs behind the rings in this pack",
        "",
    ]
    if not runs:
        lines.append("No ring in this pack: no detection run is involved.")
    for run in runs:
        lines += [
            f"### Run {run.run_id}",
            "",
            f"- finished: {run.finished_at.isoformat() if run.finished_at else 'unknown'}",
            f"- graphfraud version: {run.version or 'unknown'}; graph engine: "
            f"{run.engine or 'unknown'}",
            f"- data from {run.data_from.isoformat() if run.data_from else 'unknown'} to "
            f"{run.data_to.isoformat() if run.data_to else 'unknown'}; {run.accounts:,} "
            f"accounts, {run.candidates:,} candidate groups, {run.rings:,} rings",
            "- settings:",
            "",
            "```json",
            json.dumps(run.settings, indent=2, sort_keys=True),
            "```",
            "",
        ]
    return "\n".join(lines) + "\n"


def _runs_frame(runs: Sequence[DetectionRun]) -> pd.DataFrame:
    columns = ["run_id", "started_at", "finished_at", "version", "engine", "data_from",
               "data_to", "accounts", "candidates", "rings", "settings"]  # fmt: skip
    rows = [
        {**{c: getattr(run, c) for c in columns[:-1]}, "settings": json.dumps(run.settings)}
        for run in runs
    ]
    return pd.DataFrame(rows, columns=columns)


class Redaction:
    """Replaces named fields, or every identifier of named entity kinds, by pseudonyms.

    A pseudonym is a keyed hash of the value (``redacted:3f9a…``): the same value gets the
    same pseudonym in every file, so the pack still joins, but it cannot be reversed without
    the store's key. A name is a column (``display``, ``attributes``, ``text``) or an entity
    kind (``Email``, ``Phone``, ``Address``, ``Account``).
    """

    def __init__(self, names: Sequence[str], *, key: str) -> None:
        self.names = set(names)
        self._key = key.encode()
        #: Columns naming an entity kind, each with the column holding its key.
        self._pairs = (("kind", "key"), ("src_kind", "src_key"), ("dst_kind", "dst_key"))

    def pseudonym(self, value: Any) -> Any:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return value
        digest = hmac.new(self._key, str(value).encode(), hashlib.sha256).hexdigest()
        return f"redacted:{digest[:16]}"

    def value(self, kind: str, key: str, *, ref: bool = False) -> str:
        """An entity's key as the pack shows it (``Kind:key`` when ``ref``)."""
        shown = self.pseudonym(key) if kind in self.names else key
        return f"{kind}:{shown}" if ref else str(shown)

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the named columns and kinds redacted."""
        if not self.names:
            return frame
        out = frame.copy()
        for name in self.names & set(out.columns):
            out[name] = out[name].map(self.pseudonym)
        for kind_column, key_column in self._pairs:
            if kind_column in out.columns and key_column in out.columns:
                hidden = out[kind_column].isin(self.names)
                out.loc[hidden, key_column] = out.loc[hidden, key_column].map(self.pseudonym)
                if kind_column == "kind" and "display" in out.columns:
                    out.loc[hidden, "display"] = None
        if EntityKind.ACCOUNT in self.names:
            for column in ("account", "ring_account"):
                if column in out.columns:
                    out[column] = out[column].map(self.pseudonym)
            for column in ("joined", "left"):
                if column in out.columns:
                    out[column] = out[column].map(lambda v: [self.pseudonym(a) for a in v])
        if "refs" in out.columns:
            out["refs"] = out["refs"].map(lambda refs: [self._ref(r) for r in refs])
        return out

    def _ref(self, text: str) -> str:
        kind, _, key = text.partition(":")
        return self.value(kind, key, ref=True)
