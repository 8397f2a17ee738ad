"""Update latency: a batch of new rows sent to a running server until rings and alerts show it,
beside a full re-detection through the same server.

Copies a detected store (``--store``, e.g. the 1M marketplace) or generates, loads and detects
one (``--accounts``), serves it with ``graphfraud serve`` in a process of its own, waits for its
read model, and then:

1. sends ``--rows`` rows (default 1,000) to ``POST /api/events``: sign-ups, logins and
   transfers; a few of the new accounts log in from devices of known device farms, the rest
   from devices of their own, and transfers go to existing accounts;
2. times until ``GET /api/alerts?since=`` lists every farm that grew, with the server's own
   breakdown of the re-detection;
3. starts a full detection (``POST /api/jobs``) on the same server and times it to the end.

Printed: both times and their ratio. Target (issue 14): the batch reflected within 5 s.

    python3 benchmarks/incremental.py --accounts 100000
    flock /work/bench.lock python3 benchmarks/incremental.py --store /path/to/m1m.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

HOST = "127.0.0.1"
KEY = "benchmark-investigator-key"
TARGET_SECONDS = 5.0
ROOT = Path(__file__).resolve().parents[1]
#: New accounts that join a device farm (each logs in from two of its devices).
JOINERS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="A loaded and detected DuckDB file (copied).")
    parser.add_argument("--accounts", type=int, default=100_000, help="Else generate this many.")
    parser.add_argument("--rows", type=int, default=1_000, help="Rows in the batch sent.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="graphfraud-incremental-") as folder:
        path = Path(folder) / "graph.duckdb"
        began = time.perf_counter()
        if args.store is not None:
            shutil.copy(args.store, path)
            print(f"copied {args.store} ({time.perf_counter() - began:.0f} s)")
        else:
            _make_store(path, args.accounts, args.seed, Path(folder))
            seconds = time.perf_counter() - began
            print(f"generated, loaded, detected {args.accounts:,} ({seconds:.0f} s)")
        farms = _farm_devices(path, JOINERS)
        with _serving(path, args.port) as base:
            _measure(base, farms, rows=args.rows, seed=args.seed)


def _make_store(path: Path, accounts: int, seed: int, folder: Path) -> None:
    data = folder / "data"
    url = f"duckdb:///{path}"
    for command in (
        ["generate", "--out", str(data), "--accounts", str(accounts), "--seed", str(seed)],
        ["load", str(data), "--store", url],
        ["detect", "--store", url, "--top", "0"],
    ):
        subprocess.run([sys.executable, "-m", "graphfraud", *command], check=True,
                       capture_output=True, cwd=folder)  # fmt: skip


def _farm_devices(path: Path, count: int) -> dict[str, list[str]]:
    """The shared devices of the ``count`` best device farms, by ring id."""
    from graphfraud.model import Page, RingFilter
    from graphfraud.store import open_store

    with open_store(f"duckdb:///{path}") as store:
        rings = store.rings(RingFilter(typology="device_farm"), Page(limit=count)).rings
    farms = {}
    for ring in rings:
        assert ring.evidence is not None
        shared = [thing.key for thing in ring.evidence.shared_identifiers if thing.kind == "Device"]
        if len(shared) >= 2:
            farms[ring.ring_id] = shared[:2]
    return farms


@contextmanager
def _serving(path: Path, port: int) -> Iterator[str]:
    env = dict(os.environ, GRAPHFRAUD_API_INVESTIGATOR_KEYS=json.dumps({KEY: "benchmark"}),
               PYTHONPATH=str(ROOT))  # fmt: skip
    command = [sys.executable, "-m", "graphfraud", "serve", "--store", f"duckdb:///{path}",
               "--host", HOST, "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://{HOST}:{port}"
    began = time.perf_counter()
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"serve stopped: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                health = _call(base, "GET", "/health")
                if health["read_model"] == "ready" and health["incremental"]:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        seconds = time.perf_counter() - began
        print(f"server ready, read model and incremental baseline built ({seconds:.0f} s)")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def _call(base: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-API-Key": KEY, "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=3600) as answer:
        return json.loads(answer.read())


def _batch(farms: dict[str, list[str]], rows: int, seed: int) -> tuple[dict[str, Any], int]:
    """About ``rows`` rows: sign-ups, logins (some from farm devices), transfers; and how many
    accounts sign up."""
    rng = np.random.default_rng(seed)
    signups = max(rows // 10, len(farms))
    transfers = rows // 10
    logins = rows - signups - transfers
    accounts = [f"Z{index:07d}" for index in range(signups)]
    table: dict[str, list[dict[str, Any]]] = {"accounts": [], "logins": [], "transfers": []}
    for index, account in enumerate(accounts):
        table["accounts"].append(
            {"account_id": account, "created_at": "2026-02-01T10:00:00Z", "account_type": "buyer",
             "email": f"new.user{index}@example.org", "phone": "", "country": "US",
             "signup_ip": f"198.51.{index // 250}.{index % 250}", "known_bad": ""}
        )  # fmt: skip
    joiners = list(zip(accounts, farms.values(), strict=False))
    for account, devices in joiners:
        for device in devices:
            table["logins"].append(_login(account, device))
    while len(table["logins"]) < logins:
        account = accounts[int(rng.integers(len(joiners), len(accounts)))]
        table["logins"].append(_login(account, f"{int(rng.integers(2**63)):016x}"))
    for _ in range(transfers):
        table["transfers"].append(
            {"from_account": accounts[int(rng.integers(len(accounts)))],
             "to_account": f"A{int(rng.integers(1, 50_000)):07d}", "ts": "2026-02-01T11:00:00Z",
             "amount": round(float(rng.uniform(5, 200)), 2)}
        )  # fmt: skip
    return {"tables": table}, signups


def _login(account: str, device: str) -> dict[str, Any]:
    return {"account_id": account, "ts": "2026-02-01T10:30:00Z", "device_fingerprint": device,
            "ip": ""}  # fmt: skip


def _measure(base: str, farms: dict[str, list[str]], *, rows: int, seed: int) -> None:
    batch, signups = _batch(farms, rows, seed)
    sent = sum(len(table) for table in batch["tables"].values())
    since = _call(base, "GET", "/api/runs")[0]["finished_at"]
    began = time.perf_counter()
    answer = _call(base, "POST", "/api/events", batch)
    # A farm the new rows merge into another ring is listed under that ring's id: wait for
    # every farm, or until the listing stops changing.
    listed: set[str] = set()
    while True:
        alerts = _call(base, "GET", f"/api/alerts?since={urllib.parse.quote(since)}&limit=1000")
        grown = {alert["ring_id"] for alert in alerts["alerts"] if alert["change"] == "grown"}
        if grown != listed:
            reflected = time.perf_counter() - began
        if set(farms) <= grown or (grown and grown == listed):
            break
        if time.perf_counter() - began > 600:
            raise RuntimeError("no farm was listed grown in /api/alerts within 600 s")
        listed = grown
        time.sleep(0.05)
    detection = answer["detection"]
    print(
        f"\nappended {sent:,} rows ({signups:,} sign-ups): {answer['accepted']:,} accepted, "
        f"{answer['rejected']:,} rejected"
    )
    print(
        f"re-detected {detection['accounts']:,} accounts, {len(detection['rings']):,} rings "
        f"there, {detection['rings_kept']:,} kept; steps: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in detection["timings"].items())
    )
    print(f"{len(farms)} farms joined, {len(set(farms) & grown)} listed grown in /api/alerts")

    began = time.perf_counter()
    job = _call(base, "POST", "/api/jobs", {"seed": 0})
    while job["state"] not in ("succeeded", "failed"):
        time.sleep(0.5)
        job = _call(base, "GET", f"/api/jobs/{job['job_id']}")
    full = time.perf_counter() - began
    assert job["state"] == "succeeded", job
    target = f"(target <= {TARGET_SECONDS:.0f} s)"
    print(f"\n{'update reflected in rings and alerts':<40} {reflected:8.2f} s  {target}")
    print(f"{'full re-detection (POST /api/jobs)':<40} {full:8.2f} s")
    print(f"{'ratio full / incremental':<40} {full / reflected:8.1f} x")


if __name__ == "__main__":
    main()
