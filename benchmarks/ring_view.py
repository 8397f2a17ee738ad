"""How fast a 200-member ring's page settles in headless Chromium: grouped view beside the
plain one (the baseline, measured in the same run).

Builds (or reuses) the store of ``api_latency.py`` (a generated marketplace, its rings, and a
planted 200-member device farm), plants a 200-member money cycle beside it (accounts paying
each other round a loop, a few sharing each device and card), serves it with ``graphfraud
serve``, and opens each ring's page in both views. Printed per ring and view: nodes drawn, and
median seconds over ``--repeats`` loads from navigation to the page's last byte (the server's
part) and to a settled layout; then the ratio of the plain view's time to the grouped one's.
Each view's picture goes to ``test-artifacts/``.

Target: the grouped view of a 200-member ring settles in <= 3 s.

    python3 benchmarks/ring_view.py --accounts 20000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from benchmarks.api_latency import (
    CHROMIUM_ARGS,
    HOST,
    READ_KEY,
    VIEW_RING_SIZE,
    build_store,
    get_json,
    serving,
)
from graphfraud.model import LINK_COLUMNS
from graphfraud.store import GraphStore, open_store

TARGET_SECONDS = 3.0
#: Where each view's last load is saved as a picture, to look at.
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def plant_money_cycle(store: GraphStore, *, size: int, seed: int) -> str:
    """Add ``size`` new accounts paying each other round one loop, a few on each device and
    card, and their ring; returns the ring's id."""
    from algorithms.pipeline import find_rings
    from graphfraud.model import Page
    from graphfraud.settings import DetectionSettings

    rng = np.random.default_rng(seed)
    accounts = [f"M{i:06d}" for i in range(size)]
    created = pd.Timestamp("2024-07-01") + pd.to_timedelta(rng.integers(0, 96, size), unit="h")
    rows = []
    for i, account in enumerate(accounts):
        seen = created[i]
        rows += [
            ("Account", account, "TRANSACTS_WITH", "Account", accounts[(i + 1) % size],
             seen, seen, 3, 250.0),
            ("Account", account, "USES_DEVICE", "Device", f"cycle-device-{i // 12}",
             seen, seen, 1, None),
            ("Account", account, "PAYS_WITH", "PaymentInstrument",
             f"cycle-card-{rng.integers(0, size // 10)}", seen, seen, 1, None),
        ]  # fmt: skip
    links = pd.DataFrame(rows, columns=list(LINK_COLUMNS))
    entities = pd.DataFrame(
        {"kind": "Account", "key": accounts, "display": None, "created_at": created, "label": None}
    )
    store.upsert_entities(entities)
    store.upsert_links(links)
    found = find_rings(
        links, entities, settings=DetectionSettings(split_above=10 * size), seed=seed
    )
    ring = max(found.rings, key=lambda r: r.size)
    existing = store.rings(page=Page(limit=1_000_000)).rings
    store.write_rings([*existing, ring])
    return ring.ring_id


def settle_seconds(port: int, ring_id: str, view: str, repeats: int) -> tuple[float, float, int]:
    """Median seconds from navigation to a settled layout and to the page's last byte, and the
    nodes drawn (the first load in a fresh browser counts like the others)."""
    from playwright.sync_api import sync_playwright

    times, served = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            began = time.perf_counter()
            page.goto(
                f"http://{HOST}:{port}/rings/{quote(ring_id)}/view?key={READ_KEY}&view={view}"
            )
            page.wait_for_function("window.ringView && window.ringView.stabilised", timeout=60_000)
            times.append(time.perf_counter() - began)
            served.append(
                page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd") / 1000
            )
            nodes = int(page.evaluate("window.ringView.nodes"))
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"ring-view-{ring_id}-{view}.png"))
            page.close()
        browser.close()
    return statistics.median(times), statistics.median(served), nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "graphfraud-bench-api"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    store_url = build_store(args.workdir, args.accounts, args.seed)
    with open_store(store_url) as store:
        # Planted accounts are "M…"; generated ones "A…": a store reused is planted once.
        planted = [r for r in store.rings().rings if r.members[0].account.startswith("M")]
        cycle = (
            planted[0].ring_id
            if planted
            else plant_money_cycle(store, size=VIEW_RING_SIZE, seed=args.seed)
        )
    with serving(store_url, read_model=True) as server:
        rings = get_json(server.port, "/api/rings?limit=500&sort=size")["rings"]
        farm = next(r for r in rings if r["size"] >= VIEW_RING_SIZE and r["ring_id"] != cycle)
        chosen = [farm, next(r for r in rings if r["ring_id"] == cycle)]
        print(
            f"\n{'ring':<14}{'typology':<18}{'members':>8}{'view':>9}{'nodes':>7}"
            f"{'served s':>10}{'settled s':>11}"
        )
        for ring in chosen:
            measured = {}
            for view in ("plain", "grouped"):
                seconds, served, nodes = settle_seconds(
                    server.port, ring["ring_id"], view, args.repeats
                )
                measured[view] = seconds
                print(
                    f"{ring['ring_id']:<14}{ring['typology']:<18}{ring['size']:>8}{view:>9}"
                    f"{nodes:>7}{served:>10.2f}{seconds:>11.2f}"
                )
            verdict = "meets" if measured["grouped"] <= TARGET_SECONDS else "MISSES"
            print(
                f"  grouped view {verdict} the {TARGET_SECONDS:.0f} s target; plain / grouped = "
                f"{measured['plain'] / measured['grouped']:.1f}x"
            )


if __name__ == "__main__":
    main()
