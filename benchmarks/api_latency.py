"""Latency and throughput of the investigator API, and how fast a big ring's view settles.

Builds (or reuses) an embedded DuckDB store holding a generated marketplace and its detected
rings, serves it with ``graphfraud serve`` on 127.0.0.1 in a process of its own, and drives it
with concurrent keep-alive clients (one asyncio process, a minimal HTTP/1.1 client so the load
generator stays light next to the server on a small machine). Each scenario runs for a fixed
time; every request's latency is recorded.

Printed per scenario: requests, throughput, p50 / p95 / p99 latency, the server's CPU time per
request (a figure other load on the machine disturbs less than latency) and errors; and the
server's resident memory. Baselines in the same run: the same requests served with the read
model turned off (every answer read from the store), and one client alone (the latency floor);
the ratios say what the read model and what the contention change. Then the ring view of the
ring closest to 200 members is opened in headless Chromium and timed until its layout has
settled.

Targets (2-core machine, 100k accounts, 20 clients): p95 <= 50 ms for ring detail and account
linkage; the 200-member ring view settles in under 5 s.

Then, with a compiled load generator (Debian's ``wrk``, installed with ``apt-get`` when missing,
so the client does not take the server's CPU): ``/health``, ring detail, account linkage,
``POST /api/risk/check`` and batches of 1,000 accounts to ``POST /api/risk/accounts`` (a Lua
script cycling through requests) under 20 connections, served
by this checkout's code and by a baseline's (``--baseline main``: that revision's code,
exported with ``git archive``), one after the other on the same store, with the ratio. Targets:
``/health`` p95 <= 5 ms, linkage and a risk check p95 <= 20 ms, batch risk >= 20k accounts/s
(issues 14 and 15). Last, whether a second server process pays on this machine (``--only
processes``): the same scenarios against one server, then against two at once.

    python3 benchmarks/api_latency.py                         # 100k accounts, 20 clients, 10 s
    python3 benchmarks/api_latency.py --accounts 20000 --seconds 5
    python3 benchmarks/api_latency.py --only wrk              # only the wrk comparison
    python3 benchmarks/api_latency.py --only processes        # one server process or two
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd
import psutil

from graphfraud.model import LINK_COLUMNS
from graphfraud.store import GraphStore

HOST = "127.0.0.1"
READ_KEY = "benchmark-read-key"
TARGET_P95_MS = 50.0
TARGET_VIEW_SECONDS = 5.0
WRK_TARGETS_MS = {"health": 5.0, "account linkage": 20.0, "risk check": 20.0}
#: Accounts per batch request, and the batch target in accounts per second (issue 14).
BATCH_ACCOUNTS = 1000
TARGET_BATCH_RATE = 20_000
ROOT = Path(__file__).resolve().parents[1]
VIEW_RING_SIZE = 200
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass(frozen=True)
class Result:
    """One scenario's measurements."""

    name: str
    clients: int
    latencies: np.ndarray
    errors: Counter[int]
    seconds: float
    server_cpu: float

    def ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000) if len(self.latencies) else 0.0

    def row(self) -> str:
        rate = len(self.latencies) / self.seconds
        errors = sum(self.errors.values())
        cpu = self.server_cpu / max(len(self.latencies), 1) * 1000
        return (
            f"{self.name:<34}{self.clients:>8}{len(self.latencies):>10,}{rate:>10.0f}"
            f"{self.ms(50):>9.1f}{self.ms(95):>9.1f}{self.ms(99):>9.1f}{cpu:>9.2f}{errors:>8}"
        )


def plant_device_farm(store: GraphStore, *, size: int, seed: int) -> str:
    """Add a device farm of ``size`` new accounts and its ring; returns the ring's id.

    The generator's rings stay small (tens of members), so the view benchmark plants one of
    the size it needs: devices, cards and addresses each shared by at most 25 of the farm's
    accounts (under the hub cap), found and scored by the detection pipeline on the farm's
    own links and added to the stored rings.
    """
    from algorithms.pipeline import find_rings
    from graphfraud.model import Page
    from graphfraud.settings import DetectionSettings

    rng = np.random.default_rng(seed)
    accounts = [f"F{i:06d}" for i in range(size)]
    created = pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 48, size), unit="h")
    rows = []
    for i, account in enumerate(accounts):
        uses = [
            ("USES_DEVICE", "Device", f"farm-device-{i // 17}"),
            ("PAYS_WITH", "PaymentInstrument", f"farm-card-{rng.integers(0, size // 8)}"),
            ("SHIPS_TO", "Address", f"farm-address-{rng.integers(0, size // 25)}"),
            ("HAS_EMAIL", "Email", f"{account.lower()}@farm.example"),
            ("LOGS_IN_FROM", "IP", f"10.{i // 250}.{i % 250}.{rng.integers(1, 250)}"),
        ]
        seen = created[i]
        rows += [
            ("Account", account, link, kind, key, seen, seen, 1, None) for link, kind, key in uses
        ]
    links = pd.DataFrame(rows, columns=list(LINK_COLUMNS))
    entities = pd.DataFrame(
        {"kind": "Account", "key": accounts, "display": None, "created_at": created, "label": None}
    )
    store.upsert_entities(entities)
    store.upsert_links(links)
    farm = find_rings(links, entities, settings=DetectionSettings(split_above=10 * size), seed=seed)
    (ring,) = farm.rings
    existing = store.rings(page=Page(limit=1_000_000)).rings
    store.write_rings([*existing, ring])
    return ring.ring_id


def build_store(folder: Path, accounts: int, seed: int) -> str:
    """A DuckDB store of ``accounts`` generated accounts and their rings (reused if built)."""
    from algorithms.pipeline import detect_rings
    from graphfraud.store import open_store
    from loaders.generator import generate_marketplace
    from loaders.load import load_tables
    from loaders.mapping import builtin_mapping

    store_path = folder / f"graph-{accounts}-{seed}.duckdb"
    url = f"duckdb:///{store_path}"
    if store_path.exists():
        print(f"reusing {store_path}")
        return url
    data = folder / f"data-{accounts}-{seed}"
    started = time.perf_counter()
    generate_marketplace(data, accounts=accounts, seed=seed)
    generated = time.perf_counter()
    with open_store(url) as store:
        load_tables(store, builtin_mapping(), data)
        loaded = time.perf_counter()
        found = detect_rings(store, seed=seed)
        detected = time.perf_counter()
        farm = plant_device_farm(store, size=VIEW_RING_SIZE, seed=seed)
    print(
        f"built {store_path}: generate {generated - started:.1f} s, load {loaded - generated:.1f}"
        f" s, detect {detected - loaded:.1f} s ({len(found.rings):,} rings); planted {farm}"
    )
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running API server."""

    port: int
    process: psutil.Process


@contextmanager
def serving(store_url: str, *, read_model: bool, code: Path = ROOT) -> Iterator[Server]:
    """``graphfraud serve`` in a process of its own, once it answers from its read model (or,
    with ``read_model=False``, from the store); the code imported is that of ``code``."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "GRAPHFRAUD_API_READ_KEYS": json.dumps([READ_KEY]),
        "GRAPHFRAUD_API_READ_MODEL": json.dumps(read_model),
    }
    command = [sys.executable, "-m", "graphfraud", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--store", store_url], env=env, cwd=code, stdout=subprocess.DEVNULL
    )
    began = time.monotonic()
    try:
        while True:
            try:
                state = get_json(port, "/health")["read_model"]
            except OSError:
                state = "starting"
            if state not in ("starting", "building"):
                break
            if time.monotonic() > began + 300:
                raise RuntimeError("the API server did not get ready")
            time.sleep(0.2)
        print(f"server ready in {time.monotonic() - began:.1f} s; read model: {state}")
        yield Server(port, psutil.Process(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)


def get_json(port: int, path: str) -> Any:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={"X-API-Key": READ_KEY})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


async def _one_client(
    port: int, paths: list[str], start: int, deadline: float, out: list[float], errors: Counter[int]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    i = start
    while time.perf_counter() < deadline:
        path = paths[i % len(paths)]
        i += 1
        request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nX-API-Key: {READ_KEY}\r\n\r\n"
        began = time.perf_counter()
        writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(fields.get("content-length") or fields.get("Content-Length") or 0)
        await reader.readexactly(length)
        out.append(time.perf_counter() - began)
        status = int(lines[0].split(" ")[1])
        if status != 200:
            errors[status] += 1
    writer.close()
    await writer.wait_closed()


def hammer(
    server: psutil.Process, port: int, name: str, paths: list[str], *, clients: int, seconds: float
) -> Result:
    """``clients`` keep-alive clients cycling through ``paths`` for ``seconds``."""
    latencies: list[float] = []
    errors: Counter[int] = Counter()

    async def run() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _one_client(port, paths, i * 7919, deadline, latencies, errors)
                for i in range(clients)
            )
        )

    cpu = server.cpu_times()
    began = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - began
    used = server.cpu_times()
    busy = used.user + used.system - cpu.user - cpu.system
    return Result(name, clients, np.array(latencies), errors, elapsed, busy)


def time_ring_view(port: int, ring_id: str) -> tuple[float, int]:
    """Seconds from navigation to a settled layout, and the nodes drawn."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        began = time.perf_counter()
        page.goto(f"http://{HOST}:{port}/rings/{quote(ring_id)}/view?key={READ_KEY}")
        page.wait_for_function("window.ringView && window.ringView.stabilised", timeout=60_000)
        seconds = time.perf_counter() - began
        nodes = int(page.evaluate("window.ringView.nodes"))
        browser.close()
    return seconds, nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "graphfraud-bench-api"
    )
    parser.add_argument(
        "--baseline", default="main", help="git revision whose code wrk measures beside this one"
    )
    parser.add_argument("--only", choices=["clients", "wrk", "processes"], help="run one part only")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    store_url = build_store(args.workdir, args.accounts, args.seed)
    if args.only in (None, "clients"):
        measure_clients(store_url, args)
    if args.only in (None, "wrk"):
        compare_with_wrk(store_url, args)
    if args.only in (None, "processes"):
        compare_processes(store_url, args)


def measure_clients(store_url: str, args: argparse.Namespace) -> None:
    """The scenarios with this process's asyncio clients, with and without the read model, and
    the ring view in Chromium."""
    print(f"{args.clients} clients, {args.seconds:.0f} s per scenario")
    with serving(store_url, read_model=False) as server:
        paths = workload(server.port, args.accounts, args.seed)
        baseline, baseline_rss = run_scenarios(server, paths, args, baseline=True)
    with serving(store_url, read_model=True) as server:
        results, rss = run_scenarios(server, paths, args, baseline=False)
        ring = min(paths.rings, key=lambda r: (abs(r["size"] - VIEW_RING_SIZE), -r["size"]))
        view_seconds, nodes = time_ring_view(server.port, ring["ring_id"])

    header = f"{'scenario':<34}{'clients':>8}{'requests':>10}{'req/s':>10}"
    print(f"\n{header}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'cpu ms':>9}{'errors':>8}")
    for result in [*baseline.values(), *results.values()]:
        print(result.row())
    print(
        f"\nserver memory: {rss / 2**30:.2f} GiB with the read model, "
        f"{baseline_rss / 2**30:.2f} GiB reading the store"
    )
    for name in ("ring detail", "account linkage"):
        result, store_only = results[name], baseline[f"{name}, store reads"]
        verdict = "meets" if result.ms(95) <= TARGET_P95_MS else "MISSES"
        print(
            f"{name}: p95 {result.ms(95):.1f} ms {verdict} the {TARGET_P95_MS:.0f} ms target; "
            f"{store_only.ms(95) / result.ms(95):.1f}x lower than reading the store, "
            f"{result.ms(95) / results[f'{name}, 1 client'].ms(95):.1f}x one client's"
        )
    verdict = "meets" if view_seconds < TARGET_VIEW_SECONDS else "MISSES"
    print(
        f"ring view of {ring['ring_id']} ({ring['size']} members, {nodes} nodes drawn): "
        f"settled in {view_seconds:.2f} s, {verdict} the {TARGET_VIEW_SECONDS:.0f} s target"
    )


@dataclass(frozen=True)
class Workload:
    """The rings served and the paths each scenario cycles through."""

    rings: list[dict[str, Any]]
    ring_paths: list[str]
    list_paths: list[str]
    linkage_paths: list[str]


def workload(port: int, accounts: int, seed: int) -> Workload:
    """Every ring's detail; linkage of ring members and as many random accounts; listings."""
    rings = _all_rings(port)
    members = [m["account"] for r in rings[:200] for m in _members(port, r["ring_id"])]
    rng = random.Random(seed)
    others = [f"A{rng.randrange(1, accounts):07d}" for _ in range(len(members))]
    linkage_paths = [f"/api/accounts/{quote(a)}/linkage" for a in members + others]
    rng.shuffle(linkage_paths)
    list_paths = [
        f"/api/rings?limit=20&offset={offset}{extra}"
        for offset in range(0, 200, 20)
        for extra in ("", "&min_score=2", "&status=new", "&sort=size", "&min_size=5")
    ]
    ring_paths = [f"/api/rings/{quote(r['ring_id'])}" for r in rings]
    return Workload(rings, ring_paths, list_paths, linkage_paths)


def run_scenarios(
    server: Server, paths: Workload, args: argparse.Namespace, *, baseline: bool
) -> tuple[dict[str, Result], int]:
    """The scenarios against one server, and its resident memory afterwards."""
    process, port = server.process, server.port
    # Warm up: the first requests open connections and fill caches.
    hammer(process, port, "warm-up", paths.ring_paths + paths.linkage_paths, clients=4, seconds=2)
    scenarios = [
        ("ring list", paths.list_paths),
        ("ring detail", paths.ring_paths),
        ("account linkage", paths.linkage_paths),
    ]
    if baseline:
        # The same requests answered by the store alone (read model off).
        return {
            f"{name}, store reads": hammer(
                process, port, f"{name}, store reads", group, clients=args.clients,
                seconds=args.seconds,
            )
            for name, group in scenarios
        }, process.memory_info().rss  # fmt: skip
    results = {"health": hammer(process, port, "health", ["/health"], clients=args.clients,
                                seconds=args.seconds)}  # fmt: skip
    for name, group in scenarios:
        results[name] = hammer(
            process, port, name, group, clients=args.clients, seconds=args.seconds
        )
    for name, group in scenarios[1:]:
        results[f"{name}, 1 client"] = hammer(
            process, port, f"{name}, 1 client", group, clients=1, seconds=args.seconds / 2
        )
    return results, process.memory_info().rss


def _all_rings(port: int) -> list[dict[str, Any]]:
    rings: list[dict[str, Any]] = []
    while True:
        page = get_json(port, f"/api/rings?limit=500&offset={len(rings)}")
        rings += page["rings"]
        if len(rings) >= page["total"] or not page["rings"]:
            return rings


def _members(port: int, ring_id: str) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = get_json(port, f"/api/rings/{quote(ring_id)}")["members"]
    return members


def compare_with_wrk(store_url: str, args: argparse.Namespace) -> None:
    """``/health``, linkage and risk checks under ``wrk``: the baseline's code, then this
    checkout's, on the same store and the same requests."""
    ensure_wrk()
    scenarios: dict[str, list[Request]] = {}
    results: dict[str, dict[str, WrkResult]] = {}
    with tempfile.TemporaryDirectory(prefix="graphfraud-baseline-") as folder:
        baseline = export_revision(args.baseline, Path(folder))
        for label, code in ((args.baseline, baseline), ("this checkout", ROOT)):
            with serving(store_url, read_model=True, code=code) as server:
                scenarios = scenarios or wrk_workload(server.port, args.accounts, args.seed)
                results[label] = {
                    name: run_wrk(server.port, requests, clients=args.clients,
                                  seconds=args.seconds, folder=Path(folder))
                    for name, requests in scenarios.items()
                }  # fmt: skip
    print(f"\nwrk, {args.clients} connections, {args.seconds:.0f} s per scenario, {args.accounts:,}"
          " accounts")  # fmt: skip
    header = f"{'scenario':<18}{'code':<16}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
    print(f"{header}{'errors':>8}")
    for name in scenarios:
        for label, found in results.items():
            print(f"{name:<18}{label:<16}{found[name].row()}")
    for name, target in WRK_TARGETS_MS.items():
        before, after = results[args.baseline][name], results["this checkout"][name]
        verdict = "meets" if after.p95 <= target else "MISSES"
        print(
            f"{name}: p95 {after.p95:.1f} ms ({args.baseline}: {before.p95:.1f} ms, "
            f"{before.p95 / after.p95:.1f}x lower), {verdict} the {target:.0f} ms target"
        )
    before, after = (
        results[args.baseline]["batch accounts"],
        results["this checkout"]["batch accounts"],
    )
    rate, was = after.rate * BATCH_ACCOUNTS, before.rate * BATCH_ACCOUNTS
    verdict = "meets" if rate >= TARGET_BATCH_RATE else "MISSES"
    print(
        f"batch accounts: {rate:,.0f} accounts/s ({args.baseline}: {was:,.0f}, "
        f"{rate / max(was, 1):.1f}x), {verdict} the {TARGET_BATCH_RATE:,} accounts/s target"
    )


def compare_processes(store_url: str, args: argparse.Namespace) -> None:
    """Whether a second server process pays on this machine: the ``wrk`` scenarios against one
    server with every connection, then against two servers at once (each on a copy of the
    store, half the connections each), as several workers sharing one read-only model would
    be served."""
    ensure_wrk()
    store = Path(store_url.removeprefix("duckdb:///"))
    results: dict[str, dict[str, WrkResult]] = {}
    with tempfile.TemporaryDirectory(prefix="graphfraud-processes-") as folder:
        copy = Path(folder) / store.name
        shutil.copyfile(store, copy)
        with (
            serving(store_url, read_model=True) as first,
            serving(f"duckdb:///{copy}", read_model=True) as second,
        ):
            scenarios = wrk_workload(first.port, args.accounts, args.seed)
            del scenarios["batch accounts"]
            for name, requests in scenarios.items():
                alone = run_wrk(first.port, requests, clients=args.clients, seconds=args.seconds,
                                folder=Path(folder))  # fmt: skip
                with ThreadPoolExecutor(2) as pool:
                    runs = [
                        pool.submit(run_wrk, port, requests, clients=args.clients // 2,
                                    seconds=args.seconds, folder=Path(folder) / label)
                        for port, label in ((first.port, "a"), (second.port, "b"))
                    ]  # fmt: skip
                    both = [run.result() for run in runs]
                results[name] = {"1 process": alone, "2 processes": _combined(both)}
    print(f"\none server process or two, wrk, {args.clients} connections in all, "
          f"{args.seconds:.0f} s per scenario, {args.accounts:,} accounts")  # fmt: skip
    print(f"{'scenario':<18}{'servers':<16}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'errors':>8}")  # fmt: skip
    for name, found in results.items():
        for label, result in found.items():
            print(f"{name:<18}{label:<16}{result.row()}")
        one, two = found["1 process"], found["2 processes"]
        print(f"{name}: two processes answer {two.rate / one.rate:.2f}x the requests per second, "
              f"p95 {one.p95 / two.p95:.2f}x lower")  # fmt: skip


def _combined(results: list[WrkResult]) -> WrkResult:
    """Two concurrent ``wrk`` runs as one: requests and errors added, the slower percentiles
    (a conservative reading: the percentiles of the union are not known)."""
    return WrkResult(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        p50=max(r.p50 for r in results),
        p95=max(r.p95 for r in results),
        seconds=max(r.seconds for r in results),
    )


@dataclass(frozen=True)
class Request:
    """One request of a ``wrk`` scenario."""

    method: str
    path: str
    body: str | None = None


@dataclass(frozen=True)
class WrkResult:
    """What the Lua script's ``done`` printed."""

    requests: int
    errors: int
    p50: float
    p95: float
    seconds: float

    @property
    def rate(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds

    def row(self) -> str:
        return (
            f"{self.requests:>10,}{self.rate:>9.0f}{self.p50:>9.1f}{self.p95:>9.1f}{self.errors:>8}"
        )


#: The Lua script: each thread cycles through the requests from its own starting point; the
#: summary line holds requests, errors (any non-2xx too), p50 and p95 in ms, and seconds.
WRK_SCRIPT = """
local requests = {%s}
local prepared, at = {}, 0
function init(args)
  for i, r in ipairs(requests) do
    local headers = {["X-API-Key"] = "%s", ["Content-Type"] = "application/json"}
    prepared[i] = wrk.format(r[1], r[2], headers, r[3])
  end
  at = math.random(#prepared)
end
function request()
  at = at %% #prepared + 1
  return prepared[at]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, summary.duration / 1e6))
end
"""


def _lua(text: str | None) -> str:
    """A Lua long string (no escapes inside), or nil."""
    if text is None:
        return "nil"
    assert "]==]" not in text
    return f"[==[{text}]==]"


def run_wrk(
    port: int, requests: list[Request], *, clients: int, seconds: float, folder: Path
) -> WrkResult:
    """``wrk`` with ``clients`` connections on two threads, cycling through ``requests``."""
    rows = ",\n".join(f"{{{_lua(r.method)}, {_lua(r.path)}, {_lua(r.body)}}}" for r in requests)
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "scenario.lua"
    script.write_text(WRK_SCRIPT % (rows, READ_KEY))
    # A long timeout: requests wrk gives up on would be left out of its percentiles.
    command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "60s"]
    command += ["-s", str(script)]
    done = subprocess.run(
        [*command, f"http://{HOST}:{port}"], capture_output=True, text=True, check=True
    )
    summary = [line for line in done.stdout.splitlines() if line.startswith("WRK ")]
    if not summary:  # the script failed: wrk says why on stderr
        raise RuntimeError(f"wrk gave no summary: {done.stderr.strip()}")
    (line,) = summary
    count, errors, p50, p95, elapsed = line.split()[1:]
    return WrkResult(int(count), int(errors), float(p50), float(p95), float(elapsed))


def ensure_wrk() -> None:
    """Install Debian's ``wrk`` when it is missing (CI starts from a fresh machine)."""
    if shutil.which("wrk"):
        return
    quiet = {"stdout": subprocess.DEVNULL, "stdin": subprocess.DEVNULL, "check": True}
    subprocess.run(["apt-get", "update"], **quiet)  # type: ignore[call-overload]
    subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet)  # type: ignore[call-overload]


def export_revision(revision: str, folder: Path) -> Path:
    """The code of ``revision`` of this repository, exported into ``folder/code``."""
    code = folder / "code"
    code.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
    return code


def wrk_workload(port: int, accounts: int, seed: int) -> dict[str, list[Request]]:
    """Per scenario, the requests ``wrk`` cycles through: ``/health``; linkage of ring members
    and random accounts; risk checks of the identifiers of those accounts, spelled as a sign-up
    form would send them (case and spacing varied), each with a card number of its own."""
    paths = workload(port, accounts, seed)
    rng = random.Random(seed)
    checks = []
    for path in paths.linkage_paths[:300]:
        found = {n["kind"]: n["key"] for n in get_json(port, path)["neighbours"]}
        body: dict[str, str] = {"card": _card_number(rng)}
        if "Email" in found:
            body["email"] = found["Email"].upper()
        if "Phone" in found:
            body["phone"] = " ".join([found["Phone"][:3], found["Phone"][3:6], found["Phone"][6:]])
        for field, kind in (("device", "Device"), ("ip", "IP")):
            if kind in found:
                body[field] = found[kind]
        checks.append(Request("POST", "/api/risk/check", json.dumps(body)))
    rng.shuffle(accounts := [unquote(path.split("/")[3]) for path in paths.linkage_paths])
    batches = [
        Request("POST", "/api/risk/accounts", json.dumps({"accounts": accounts[at : at + size]}))
        for size in (BATCH_ACCOUNTS,)
        for at in range(0, max(len(accounts) - size, 0) + 1, size)
    ]
    return {
        "health": [Request("GET", "/health")],
        "ring detail": [Request("GET", path) for path in paths.ring_paths],
        "account linkage": [Request("GET", path) for path in paths.linkage_paths],
        "risk check": checks,
        "batch accounts": batches,
    }


def _card_number(rng: random.Random) -> str:
    """A random 16-digit number passing the Luhn check, in groups of four."""
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = sum(d if i % 2 else sum(divmod(2 * d, 10)) for i, d in enumerate(reversed(digits)))
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


if __name__ == "__main__":
    main()
