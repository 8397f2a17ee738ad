"""New rows while serving: load them, then detect again where they landed.

One append at a time: each one's incremental re-detection reads the rings the one before it
wrote (:func:`algorithms.incremental.redetect_touched`), so two at once would each keep the
other's rings as they were before it. Appends write through the app's caching store when it
has one, so its memory follows. The graph's global facts an incremental re-detection needs
(:class:`algorithms.incremental.Baseline`) are made once per full detection run and kept
here, so an append reads only the links around the rows it brings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from algorithms.incremental import (
    Baseline,
    IncrementalResult,
    baseline,
    latest_full_run,
    redetect_touched,
)
from graphfraud.settings import Settings
from graphfraud.store import GraphStore
from loaders.append import Appended, append_rows
from loaders.mapping import MappingSpec, builtin_mapping


@dataclass(frozen=True)
class Ingested:
    """An append and the re-detection after it (``None`` before any detection run)."""

    appended: Appended
    detection: IncrementalResult | None
    seconds: float


class Ingest:
    """Appends rows of one mapping to a store, one append at a time.

    Parameters
    ----------
    settings
        ``ingest_mapping`` (default: the built-in ``marketplace`` mapping), detection settings,
        and what a load takes.
    spec
        The mapping rows follow, instead of the ``ingest_mapping`` setting's.
    """

    def __init__(self, settings: Settings, *, spec: MappingSpec | None = None) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._spec = spec
        self._kept: Baseline | None = None

    @property
    def spec(self) -> MappingSpec:
        """The mapping rows follow (read on first use)."""
        if self._spec is None:
            path = self._settings.ingest_mapping
            self._spec = builtin_mapping() if path is None else MappingSpec.from_file(path)
        return self._spec

    def append(
        self, store: GraphStore, tables: Mapping[str, pd.DataFrame], *, seed: int = 0
    ) -> Ingested:
        """Load ``tables`` into ``store`` and re-detect the components they touched.

        Raises what :func:`loaders.append.append_rows` raises, with nothing written.
        """
        with self._lock:
            began = time.perf_counter()
            appended = append_rows(store, self.spec, tables, settings=self._settings)
            found = redetect_touched(
                store, appended.accounts, settings=self._settings.detection, seed=seed,
                kept=self._baseline(store),
            )  # fmt: skip
            detection = None if found.run is None else found
            return Ingested(appended, detection, time.perf_counter() - began)

    @property
    def prepared(self) -> bool:
        """Whether the global facts of a full detection run are kept (appends are then local)."""
        return self._kept is not None

    def prepare(self, store: GraphStore) -> None:
        """Make the global facts of the latest full detection run now, not on the first append."""
        with self._lock:
            self._baseline(store)

    def _baseline(self, store: GraphStore) -> Baseline | None:
        """The kept facts, made again when a full detection run came after them."""
        latest = latest_full_run(store)
        if self._kept is None or self._kept.run_id != latest:
            self._kept = baseline(store, settings=self._settings.detection)
        return self._kept
