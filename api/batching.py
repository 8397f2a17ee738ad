"""Identifiers of concurrent requests normalised together, one vectorised call per kind.

A risk check normalises a handful of raw identifiers exactly as the loader does
(:func:`loaders.normalise.normalise`). The loader's rules are column operations: on one value
each costs what it costs on a thousand (measured with ``wrk`` on 100k accounts: 75-90% of a
risk check's time was spent normalising its five values). Under load many checks wait at
once, so :class:`IdentifierBatcher` collects the identifiers of every request that asks while
a batch is being prepared and normalises them in one call per (kind, region, payment format):
the cost per check falls with the number of checks in flight, and the rules stay in one place.

A region that names no country fails its own group alone (the requests that gave it get the
error; others in the batch do not).

A call of the rules costs 1-5 ms per kind whatever the batch holds, so the results of recent
values are kept (:class:`RecentIdentifiers`): the same person's email, phone, device and IP come
back at sign-up, checkout and payout. Payment instruments are never kept: a card number must
not stay in memory, so each is fingerprinted again.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

import pandas as pd
from starlette.concurrency import run_in_threadpool

from graphfraud.errors import ConfigError
from graphfraud.model import EntityKind
from loaders.normalise import NormaliseOptions, normalise


@dataclass(frozen=True)
class RawIdentifier:
    """One identifier to normalise: its entity kind, raw value and how to read it."""

    kind: str
    raw: str
    region: str
    payment_format: str
    fingerprint_key: str


@dataclass(frozen=True)
class NormalisedIdentifier:
    """What became of a raw identifier: its key, or why it has none.

    ``key`` is None when the value is invalid (``error`` says why) or missing (no ``error``);
    ``config_error`` is set instead when its region or payment format could not be used.
    """

    key: str | None
    error: str | None = None
    config_error: str | None = None


_Group = tuple[str, str, str, str]  # kind, region, payment format, fingerprint key


#: Results of distinct recent values kept (about 200 bytes each).
RECENT = 100_000


class RecentIdentifiers:
    """Normalisation with the results of the last ``size`` distinct values kept (least recently
    used dropped first); payment instruments are normalised every time and never kept."""

    def __init__(self, size: int = RECENT) -> None:
        self.size = size
        self._kept: OrderedDict[RawIdentifier, NormalisedIdentifier] = OrderedDict()
        self._lock = threading.Lock()  # batches may be normalised on two threads at once

    def __contains__(self, one: RawIdentifier) -> bool:
        return one in self._kept

    def normalise(self, identifiers: list[RawIdentifier]) -> list[NormalisedIdentifier]:
        """Each identifier normalised, as :func:`normalise_identifiers` would."""
        found: list[NormalisedIdentifier | None] = [None] * len(identifiers)
        with self._lock:
            for i, one in enumerate(identifiers):
                known = self._kept.get(one)
                if known is not None:
                    self._kept.move_to_end(one)
                    found[i] = known
        new = [i for i, known in enumerate(found) if known is None]
        results = normalise_identifiers([identifiers[i] for i in new])
        with self._lock:
            for i, result in zip(new, results, strict=True):
                found[i] = result
                if identifiers[i].kind != EntityKind.PAYMENT_INSTRUMENT:
                    self._kept[identifiers[i]] = result
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return [one for one in found if one is not None]


class IdentifierBatcher:
    """Normalises the identifiers of requests that arrive together in one batch, the results
    of recent values kept.

    Use one per event loop (the app keeps one); :meth:`normalise` is a coroutine.
    """

    def __init__(self, *, recent: int = RECENT) -> None:
        self._waiting: list[tuple[list[RawIdentifier], asyncio.Future[list[NormalisedIdentifier]]]]
        self._waiting = []
        self._flush: asyncio.Task[None] | None = None
        self._recent = RecentIdentifiers(recent)

    async def normalise(self, identifiers: list[RawIdentifier]) -> list[NormalisedIdentifier]:
        """The identifiers normalised, in the order given (with those of other requests)."""
        if not identifiers:
            return []
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[NormalisedIdentifier]] = loop.create_future()
        self._waiting.append((identifiers, answer))
        if self._flush is None:
            self._flush = loop.create_task(self._normalise_waiting())
        return await answer

    async def _normalise_waiting(self) -> None:
        # One turn of the loop first: requests read in the same turn as this one join it.
        await asyncio.sleep(0)
        waiting, self._waiting, self._flush = self._waiting, [], None
        flat = [one for identifiers, _ in waiting for one in identifiers]
        try:
            # Off the loop: a batch takes milliseconds, and meanwhile the next one gathers.
            results = await run_in_threadpool(self._recent.normalise, flat)
        except Exception as exc:  # handed to every request of the batch, each answers it
            for _, answer in waiting:
                if not answer.done():
                    answer.set_exception(exc)
            return
        at = 0
        for identifiers, answer in waiting:
            if not answer.done():  # a request whose client went away no longer waits
                answer.set_result(results[at : at + len(identifiers)])
            at += len(identifiers)


def normalise_identifiers(identifiers: list[RawIdentifier]) -> list[NormalisedIdentifier]:
    """Each identifier normalised, with one :func:`~loaders.normalise.normalise` call per
    (kind, region, payment format, fingerprint key)."""
    groups: dict[_Group, list[int]] = defaultdict(list)
    for i, one in enumerate(identifiers):
        groups[(one.kind, one.region, one.payment_format, one.fingerprint_key)].append(i)
    found: list[NormalisedIdentifier | None] = [None] * len(identifiers)
    for (kind, region, payment_format, key), rows in groups.items():
        options = NormaliseOptions(
            fingerprint_key=key, region=region, payment_format=payment_format
        )
        values = pd.Series([identifiers[i].raw for i in rows], dtype=object)
        try:
            result = normalise(kind, values, options)
        except ConfigError as exc:  # a country no one knows: this group's requests say so
            for i in rows:
                found[i] = NormalisedIdentifier(None, config_error=str(exc))
            continue
        keys, errors = result.values.tolist(), result.errors.tolist()
        for i, value, error in zip(rows, keys, errors, strict=True):
            found[i] = NormalisedIdentifier(
                None if pd.isna(value) else str(value), None if pd.isna(error) else str(error)
            )
    return [one for one in found if one is not None]
