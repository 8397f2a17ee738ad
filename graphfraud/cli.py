"""The ``graphfraud`` command: the one composition root of the product.

It may import every package (``loaders``, ``algorithms``, ``api``), lazily inside commands, so
``graphfraud --help`` stays fast. Domain errors become one clean message and an exit code:
1 for a failure of the work, 2 for bad input or configuration.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from graphfraud.errors import ConfigError, GraphFraudError, InputError, NotFound

if TYPE_CHECKING:
    import pandas as pd

    from algorithms.engines import Engine
    from algorithms.pipeline import DetectionResult
    from graphfraud.explain import Explanation
    from graphfraud.model import Note, Ring
    from graphfraud.settings import DetectionSettings
    from graphfraud.store import GraphStore
    from loaders.load import LoadReport

app = typer.Typer(
    name="graphfraud",
    help="Find fraud rings in marketplace data: load tables into an entity graph, detect and "
    "explain rings, serve them to investigators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Data (account ids, file names, messages) is printed as text, never as rich markup or emoji
# codes: an id such as "[/red]M0" must print as itself, not end the command with an error.
console = Console(markup=False, emoji=False, highlight=False)
err_console = Console(stderr=True, markup=False, emoji=False, highlight=False)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store URL: duckdb:///path.duckdb (default ./graphfraud.duckdb) or neo4j://host:7687.",
        envvar="GRAPHFRAUD_STORE_URL",
        show_default=False,
    ),
]


def main() -> None:
    """Entry point of the ``graphfraud`` script."""
    try:
        app()
    except (InputError, ConfigError, NotFound) as exc:
        err_console.print(ERROR, str(exc))
        raise SystemExit(2) from None
    except GraphFraudError as exc:
        err_console.print(ERROR, str(exc))
        raise SystemExit(1) from None


ERROR = Text("error:", style="bold red")


def bold(text: str) -> Text:
    """``text`` in bold, never read as markup."""
    return Text(text, style="bold")


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar driven by ``progress(stage, done, total)`` callbacks."""
    with Progress(
        TextColumn("{task.description:<28}", style="bold", markup=False),
        BarColumn(),
        TextColumn("{task.completed:>,.0f}/{task.total:,.0f}", markup=False),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            name = stage.split(" ")[0]
            if name not in tasks:
                tasks[name] = bar.add_task(stage, total=total)
            bar.update(tasks[name], description=stage, completed=done, total=total)

        yield update


def open_configured_store(url: str | None) -> GraphStore:
    from graphfraud.store import open_store

    return open_store(url)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the tables into.")] = Path("data"),
    accounts: Annotated[int, typer.Option(min=100, help="Number of accounts.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 0,
    family: Annotated[
        str,
        typer.Option(
            help="Scenario family: standard, aged, unlabelled, no_created, camouflage, "
            "spelled_hubs, hubs, p2p or hard (all but p2p)."
        ),
    ] = "standard",
    locale: Annotated[
        str,
        typer.Option(
            help="Markets of accounts and addresses: us; sea (a mix of Indonesia, Malaysia, "
            "Thailand, Vietnam, the Philippines, Singapore); or one of id, my, th, vn, ph, sg."
        ),
    ] = "us",
    payment_format: Annotated[
        str, typer.Option(help="How payment instruments are written: card numbers or token.")
    ] = "card",
    identifier_truth: Annotated[
        bool,
        typer.Option(
            help="Also write ground_truth/identifiers.csv: what each address and phone "
            "spelling really is, to measure folding."
        ),
    ] = False,
) -> None:
    """Generate a synthetic marketplace with planted fraud rings and their ground truth."""
    from loaders.generator import generate_marketplace

    with progress_bar() as progress:
        result = generate_marketplace(
            out,
            accounts=accounts,
            seed=seed,
            family=family,
            locale=locale,
            payment_format=payment_format,
            identifier_truth=identifier_truth,
            progress=progress,
        )
    table = Table(title=f"Generated marketplace in {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.tables.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    rings = ", ".join(f"{kind} {n}" for kind, n in result.rings.items())
    console.print(f"planted rings: {rings}")


MaxRejectsOption = Annotated[
    float | None,
    typer.Option(
        "--max-rejects",
        min=0.0,
        max=1.0,
        help="Stop, writing nothing, when rejected rows and fields touch more than this share "
        "of a table's rows (default 0.5).",
        envvar="GRAPHFRAUD_MAX_REJECT_SHARE",
        show_default=False,
    ),
]


@app.command()
def load(
    data: Annotated[
        Path, typer.Argument(help="Folder with the tables (CSV or Parquet).", show_default=False)
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="Mapping spec (YAML/TOML); default: DATA/mapping.yaml if there is one (as "
            "`generate` writes), else the generator's marketplace layout."
        ),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where rejected rows and fields go; default DATA/rejects.csv."),
    ] = None,
    max_rejects: MaxRejectsOption = None,
    store: StoreOption = None,
    links_parquet: Annotated[
        Path | None,
        typer.Option(
            help="Also write the store's links here as Parquet partitioned by kind, for "
            "detect --engine spark --links.",
            show_default=False,
        ),
    ] = None,
    bulk: Annotated[
        bool,
        typer.Option(
            help="Build a new Neo4j database with neo4j-admin import instead of merging over "
            "Bolt: for the local server `graphfraud neo4j start` runs (from "
            "GRAPHFRAUD_NEO4J_HOME), with an empty database; the server restarts once.",
        ),
    ] = False,
    append: Annotated[
        bool,
        typer.Option(
            "--append",
            help="Add new rows (some of the mapping's tables) to a loaded store and re-detect "
            "the rings they touch. When a running server holds the store, the rows go to its "
            "POST /api/events (--server, --key).",
        ),
    ] = False,
    server: Annotated[
        str | None,
        typer.Option(
            help="With --append: the server holding the store, e.g. http://127.0.0.1:8000; "
            "default: the server_url setting (GRAPHFRAUD_SERVER_URL).",
            show_default=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="With --append and a server: an ingest or investigator API key; default: "
            "the server_key setting (GRAPHFRAUD_SERVER_KEY).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load tables into the entity graph through a mapping spec.

    A load that fails writes nothing, and a store it would have created is not left behind.
    """
    from graphfraud.store import store_for_writing

    if append:
        _append(data, mapping, store, server=server, key=key)
        return
    started = time.perf_counter()
    bulk_home = _neo4j_home(None) if bulk else None
    with store_for_writing(store, bulk_home=bulk_home) as opened:
        report = _load(opened, data, mapping, rejects, max_rejects=max_rejects)
        url = opened.url
        if links_parquet is not None:
            from algorithms.spark import export_links

            export_links(opened.links(), links_parquet)
    # Timed through close: the embedded store builds its lookup indexes after a bulk load.
    _print_load(report, url, seconds=time.perf_counter() - started)


def _load(
    store: GraphStore,
    data: Path,
    mapping: Path | None,
    rejects: Path | None,
    *,
    max_rejects: float | None = None,
) -> LoadReport:
    from graphfraud.settings import get_settings
    from loaders.load import load_tables
    from loaders.mapping import MappingSpec, folder_mapping

    if not data.is_dir():
        raise InputError(f"data folder {data} does not exist")
    spec = MappingSpec.from_file(mapping) if mapping else folder_mapping(data)
    settings = get_settings()
    if max_rejects is not None:
        settings = settings.model_copy(update={"max_reject_share": max_rejects})
    with progress_bar() as progress:
        return load_tables(
            store, spec, data, rejects_path=rejects, settings=settings, progress=progress
        )


def _append(
    data: Path, mapping: Path | None, store: str | None, *, server: str | None, key: str | None
) -> None:
    """Append the tables in ``data``: into the store itself, or through the server holding it."""
    from api.ingest import Ingest
    from graphfraud.errors import StoreLocked
    from graphfraud.settings import get_settings
    from loaders.append import read_appended
    from loaders.mapping import MappingSpec, folder_mapping

    settings = get_settings()
    server = server or settings.server_url
    if key is None and settings.server_key is not None:
        key = settings.server_key.get_secret_value()
    spec = MappingSpec.from_file(mapping) if mapping else folder_mapping(data)
    tables = read_appended(data, spec)
    try:
        opened = open_configured_store(store)
    except StoreLocked as exc:
        if server is None:
            raise StoreLocked(
                f"{exc}. To append while it serves, name the server and a key: graphfraud load "
                f"{data} --append --server http://HOST:PORT --key KEY (an ingest or "
                "investigator key; or set GRAPHFRAUD_SERVER_URL and GRAPHFRAUD_SERVER_KEY)"
            ) from None
        _send(server, key, tables)
        return
    with opened:
        done = Ingest(settings, spec=spec).append(opened, tables)
    report, found = done.appended.report, done.detection
    console.print(
        f"Appended to {opened.url} in {done.seconds:.1f} s: {report.loaded:,} rows loaded, "
        f"{report.rejected:,} rejected, {report.with_rejected_fields:,} without a bad field"
    )
    for reject in done.appended.rejects.to_dict("records"):
        console.print(
            f"  {reject['table']} row {reject['row']} {reject['column']}: {reject['reason']}",
            markup=False,
        )
    if found is None or found.run is None:
        console.print("No rings stored yet: run graphfraud detect to find them.")
        return
    console.print(
        f"Re-detected {found.accounts:,} accounts: {len(found.rings_found):,} rings there, "
        f"{found.rings_kept:,} kept elsewhere (run {found.run.run_id})"
    )


def _send(server: str, key: str | None, tables: dict[str, pd.DataFrame]) -> None:
    """Send the tables to the server at ``server`` and print what it did."""
    from api.client import send_rows

    if not key:
        raise ConfigError(
            f"--key is needed to send rows to {server}: an ingest or investigator API key "
            "(or set GRAPHFRAUD_SERVER_KEY)"
        )
    for answer in send_rows(server, key, tables):
        detection = answer.detection
        console.print(
            f"Sent to {server}: {answer.accepted:,} rows loaded, {answer.rejected:,} rejected, "
            f"{answer.with_rejected_fields:,} without a bad field"
            + (
                ""
                if detection is None
                else f"; re-detected {detection.accounts:,} accounts in "
                f"{detection.seconds:.1f} s (run {detection.run_id})"
            )
        )
        for reject in answer.rejects:
            console.print(
                f"  {reject.table} row {reject.row} {reject.column}: {reject.reason}",
                markup=False,
            )


def _print_load(report: LoadReport, url: str, *, seconds: float) -> None:
    table = Table(title=f"Loaded into {url} in {seconds:.1f} s")
    for column in ("table", "read", "loaded", "rows rejected", "with fields rejected"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, read in report.rows_read.items():
        rejected = report.rows_rejected.get(name, 0)
        partly = report.rows_with_rejected_fields.get(name, 0)
        table.add_row(name, f"{read:,}", f"{read - rejected:,}", f"{rejected:,}", f"{partly:,}")
    table.add_row(
        bold("total"),
        f"{report.read:,}",
        f"{report.loaded:,}",
        f"{report.rejected:,}",
        f"{report.with_rejected_fields:,}",
    )
    console.print(table)
    console.print(
        f"wrote {report.links:,} links and the attributes of {report.entities:,} entities"
        + (f", and kept {report.events:,} events" if report.events else "")
    )
    if report.reasons:
        reasons = Table(title="rejected, per reason")
        reasons.add_column("reason")
        reasons.add_column("rows and fields", justify="right")
        for reason, count in report.reasons.items():
            reasons.add_row(reason, f"{count:,}")
        console.print(reasons)
    if report.near_duplicates_path is not None:
        console.print(
            f"{report.near_duplicates:,} near-duplicate keys became the key they resemble; "
            f"which, why and from what spellings in {report.near_duplicates_path}"
        )
    if report.rejects_path is not None:
        console.print(
            f"{report.rejected:,} rejected rows and {report.with_rejected_fields:,} rows "
            f"with rejected fields, with reasons, in {report.rejects_path}",
            style="yellow",
        )


@app.command()
def stats(store: StoreOption = None) -> None:
    """Show what the store holds."""
    with open_configured_store(store) as opened:
        _print_stats(opened)


def _print_stats(store: GraphStore) -> None:
    counts = store.stats()
    table = Table(title=f"Store {store.url}")
    table.add_column("entities")
    table.add_column("count", justify="right")
    table.add_column("links")
    table.add_column("count", justify="right")
    entities, links = sorted(counts.entities.items()), sorted(counts.links.items())
    for row in range(max(len(entities), len(links))):
        kind, n = entities[row] if row < len(entities) else ("", 0)
        link, m = links[row] if row < len(links) else ("", 0)
        table.add_row(kind, f"{n:,}" if kind else "", link, f"{m:,}" if link else "")
    table.add_row(
        bold("total"), f"{counts.entity_total:,}", bold("total"), f"{counts.link_total:,}"
    )
    console.print(table)
    console.print(f"rings: {counts.rings:,}")


# -- graphfraud fingerprint-key -------------------------------------------------------------

key_app = typer.Typer(
    name="fingerprint-key",
    help="The store's fingerprint key: the secret that turns card numbers and payment tokens "
    "into keys. Every store makes a random one; export it from one store and import it into "
    "another (before its first load) to make their payment instruments comparable.",
    no_args_is_help=True,
)
app.add_typer(key_app)


@key_app.command("export")
def key_export(
    out: Annotated[
        Path | None,
        typer.Option(help="Write the key to this file (readable by you alone); default: print it."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Print the store's fingerprint key, or write it to a file. Keep it secret: with it,
    card numbers can be recovered from their fingerprints."""
    with open_configured_store(store) as opened:
        key = opened.fingerprint_key()
    if out is None:
        typer.echo(key)
        return
    try:
        out.touch(mode=0o600, exist_ok=False)
    except FileExistsError:
        raise InputError(f"{out} exists: a key file is never overwritten") from None
    out.write_text(key + "\n", encoding="utf-8")
    err_console.print(f"wrote the fingerprint key of {opened.url} to {out}")


@key_app.command("import")
def key_import(
    source: Annotated[
        Path,
        typer.Argument(help="File holding a key exported from another store; - reads stdin."),
    ],
    store: StoreOption = None,
) -> None:
    """Make an exported key this store's fingerprint key (only before the store holds payment
    instruments)."""
    try:
        text = sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read a key from {source}: {exc}") from None
    with open_configured_store(store) as opened:
        opened.set_fingerprint_key(text.strip())
        err_console.print(f"{opened.url} now fingerprints with the imported key")


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on.", envvar="GRAPHFRAUD_API_HOST")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port.", envvar="GRAPHFRAUD_API_PORT")
    ] = 8000,
    store: StoreOption = None,
) -> None:
    """Serve the investigator API and the interactive ring views over HTTP.

    Without configured API keys (GRAPHFRAUD_API_READ_KEYS, GRAPHFRAUD_API_INVESTIGATOR_KEYS)
    a read-only and an investigator key are made for this run and printed. A DuckDB store is
    held open while serving: run detection through the API (POST /api/jobs) meanwhile.
    """
    serve_api(store, host=host, port=port)


def serve_api(store: str | None, *, host: str, port: int) -> None:
    """Run the API until interrupted, after printing its keys and the index page's URL."""
    import uvicorn

    from api import create_app, with_session_keys
    from graphfraud.settings import get_settings

    settings, made = with_session_keys(get_settings())
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if made:
        console.print("read-only key:   ", bold(made["reader"]))
        console.print("investigator key:", bold(made["investigator"]), " (for this run only)")
        console.print("ingest key:      ", bold(made["ingest"]), " (POST /api/events)")
        console.print("Rings:", bold(f"{base}/?key={made['reader']}"))
    else:
        console.print("Rings:", bold(f"{base}/?key=<your API key>"))
    console.print(f"API: {base}/docs · send the key in the X-API-Key header · Ctrl+C stops")
    app_ = create_app(settings, store_url=store)
    uvicorn.run(app_, host=host, port=port, log_level="warning")


# -- rings: detect, explain, list, evaluate -------------------------------------------------


class RingFormat(StrEnum):
    """Output formats of the listing commands (``rings``, ``risk``)."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


#: How a listing is printed: for people, or for other tools.
FormatOption = Annotated[
    RingFormat, typer.Option("--format", help="table, json or csv (for other tools).")
]


EngineOption = Annotated[
    str,
    typer.Option(
        help="Graph engine: igraph, networkx (the slow reference), or spark (needs "
        "graphfraud[spark]; see --links)."
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="A detection setting as name=value (repeat for several), e.g. --set min_score=2 "
        "or --set score_weights.burstiness=0; graphfraud settings lists them.",
        show_default=False,
    ),
]
SettingsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        help="A YAML, TOML or JSON file of detection settings (applied before --set).",
        show_default=False,
    ),
]


def _detection_settings(file: Path | None, assignments: list[str] | None) -> DetectionSettings:
    from graphfraud.settings import detection_settings, get_settings

    return detection_settings(get_settings().detection, file=file, assignments=assignments or [])


@app.command()
def detect(
    store: StoreOption = None,
    seed: Annotated[int, typer.Option(help="Seed of community search and sampling.")] = 0,
    top: Annotated[int, typer.Option(min=0, help="How many of the best rings to show.")] = 15,
    engine: EngineOption = "igraph",
    assignments: SetOption = None,
    settings_file: SettingsFileOption = None,
    links: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: the links as a Parquet folder or a table name; default: "
            "exported from the store to a folder beside it.",
            show_default=False,
        ),
    ] = None,
    rings_out: Annotated[
        Path | None,
        typer.Option(help="With --engine spark: also write the rings as Parquet here."),
    ] = None,
    master: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: the Spark master of a new session (e.g. local[2]); "
            "default: what spark-submit or the environment gives.",
            envvar="GRAPHFRAUD_SPARK_MASTER",
        ),
    ] = None,
) -> None:
    """Detect fraud rings and write them to the store (ids and investigator verdicts persist)."""
    from algorithms.pipeline import detect_rings

    settings = _detection_settings(settings_file, assignments)
    with open_configured_store(store) as opened:
        finder = None
        if engine == "spark":
            finder = _spark_finder(opened, links=links, rings_out=rings_out, master=master)
        with progress_bar() as progress:
            result = detect_rings(
                opened,
                settings=settings,
                seed=seed,
                engine="igraph" if engine == "spark" else _engine(engine),
                progress=progress,
                finder=finder,
                engine_name=engine,
            )
    _print_detection(result, top=top)


def _spark_finder(
    store: GraphStore, *, links: str | None, rings_out: Path | None, master: str | None
) -> Callable[..., DetectionResult]:
    from algorithms.spark import SparkFinder, export_links, spark_session

    spark = spark_session(master=master)
    if links is None:
        folder = Path(tempfile.mkdtemp(prefix="graphfraud-links-"))
        links = str(export_links(store.links(), folder / "links"))
    return SparkFinder(spark, links, rings_out=rings_out)


def _engine(name: str) -> Engine:
    from algorithms.engines import check_engine

    return check_engine(name)


def _print_detection(result: DetectionResult, *, top: int) -> None:
    from graphfraud.explain import explain

    timings = " · ".join(f"{stage} {seconds:.1f}s" for stage, seconds in result.timings.items())
    console.print(
        Text.assemble(
            f"{result.accounts:,} accounts, {result.edges:,} projected ties, "
            f"{result.candidates:,} candidates → ",
            bold(f"{len(result.rings):,} rings"),
            f" ({len(result.hubs):,} hubs ignored) in {result.seconds:.1f}s: {timings}",
        )
    )
    if not result.rings or top == 0:
        return
    table = Table(title=f"Top {min(top, len(result.rings))} rings")
    for column, justify in (("ring", "left"), ("score", "right"), ("typology", "left"),
                            ("size", "right"), ("why", "left")):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for ring in result.rings[:top]:
        table.add_row(
            ring.ring_id,
            f"{ring.score:.2f}",
            ring.typology,
            f"{ring.size:,}",
            explain(ring).summary,
        )
    console.print(table)


@app.command("explain")
def explain_command(
    ring_id: Annotated[str, typer.Argument(help="Ring id, as `graphfraud rings` lists it.")],
    store: StoreOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the structured explanation as JSON.")
    ] = False,
) -> None:
    """Explain a ring: who is in it, what ties them, why it scored as it did."""
    from graphfraud.explain import explain_ring

    with open_configured_store(store) as opened:
        explanation = explain_ring(opened, ring_id)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(explanation), indent=2, ensure_ascii=False))
    else:
        _print_explanation(explanation)


def _print_explanation(explanation: Explanation, *, members: int = 12) -> None:
    console.print(
        Text.assemble(
            bold(explanation.ring_id),
            f" · {explanation.typology} · score {explanation.score:.2f} · "
            f"{len(explanation.members):,} members",
        )
    )
    console.print(explanation.summary)
    for reason in explanation.reasons:
        console.print(f"  • {reason}")
    table = Table(title="Score contributions (they add up to the score)")
    table.add_column("contribution")
    table.add_column("value", justify="right")
    table.add_column("what it measures")
    for part in explanation.contributions:
        table.add_row(part["name"], f"{part['value']:.2f}", part["meaning"])
    console.print(table)
    table = Table(title="Shared identifiers (accounts: users in the whole graph)")
    for column in ("kind", "identifier", "members", "accounts"):
        table.add_column(column, justify="right" if column in ("members", "accounts") else "left")
    for thing in explanation.shared_identifiers[:10]:
        table.add_row(
            thing["kind"],
            thing.get("display") or thing["key"],
            str(thing["members"]),
            str(thing["accounts"]),
        )
    console.print(table)
    table = Table(title=f"Members (first {min(members, len(explanation.members))}, most central)")
    for column in ("account", "role", "created", "known bad", "pagerank"):
        table.add_column(column)
    for member in explanation.members[:members]:
        table.add_row(
            member["account"],
            member.get("role", ""),
            (member.get("created_at") or "")[:10],
            "yes" if member.get("known_bad") else "",
            f"{member.get('pagerank', 0):.3f}",
        )
    console.print(table)


@app.command("rings")
def rings_command(
    store: StoreOption = None,
    output: FormatOption = RingFormat.TABLE,
    min_score: Annotated[
        float | None, typer.Option(help="Only rings scoring at least this.")
    ] = None,
    retired: Annotated[
        bool, typer.Option("--retired", help="Also list rings detection no longer finds.")
    ] = False,
) -> None:
    """List every ring: score, typology, verdict and member account ids, best first.

    JSON and CSV also carry each ring's explanation in words, assignee, note thread, when it
    was first detected and last seen, and whether the latest run still finds it.
    """
    from graphfraud.model import Page, RingFilter

    found: list[Ring] = []
    with open_configured_store(store) as opened:
        flt = RingFilter(min_score=min_score, active=None if retired else True)
        while True:
            page = opened.rings(flt, Page(offset=len(found), limit=1000))
            found += page.rings
            if not page.rings or len(found) >= page.total:
                break
        threads = opened.all_notes() if output is not RingFormat.TABLE else {}
    if output is RingFormat.TABLE:
        _print_rings(found)
        return
    rows = [_ring_export(ring, threads.get(ring.ring_id, [])) for ring in found]
    if output is RingFormat.JSON:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        notes = "\n".join(f"{n['time']} {n['actor']}: {n['text']}" for n in row["notes"])
        writer.writerow({**row, "notes": notes, "members": " ".join(row["members"])})
    typer.echo(buffer.getvalue(), nl=False)


#: What ``rings --format json|csv`` gives per ring (CSV: notes one per line, members spaced).
EXPORT_COLUMNS = (
    "ring_id", "score", "typology", "status", "assignee", "size", "first_detected",
    "last_seen", "active", "summary", "notes", "members",
)  # fmt: skip


def _ring_export(ring: Ring, notes: list[Note]) -> dict[str, Any]:
    from graphfraud.explain import explain

    def when(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    row: dict[str, Any] = {
        "ring_id": ring.ring_id,
        "score": ring.score,
        "typology": ring.typology,
        "status": str(ring.status),
        "assignee": ring.assignee,
        "size": ring.size,
        "first_detected": when(ring.first_detected),
        "last_seen": when(ring.last_seen),
        "active": ring.active,
        "summary": explain(ring).summary,
        "notes": [{"time": when(n.time), "actor": n.actor, "text": n.text} for n in notes],
        "members": ring.accounts,
    }
    return {name: row[name] for name in EXPORT_COLUMNS}


def _print_rings(rings: list[Ring]) -> None:
    table = Table(title=f"{len(rings):,} rings")
    for column in ("ring", "score", "typology", "status", "size", "members"):
        table.add_column(column)
    for ring in rings:
        members = ring.accounts
        shown = " ".join(members[:6]) + (f" … +{len(members) - 6}" if len(members) > 6 else "")
        table.add_row(
            ring.ring_id, f"{ring.score:.2f}", ring.typology, str(ring.status),
            str(ring.size), shown,
        )  # fmt: skip
    console.print(table)


@app.command("risk")
def risk_command(
    store: StoreOption = None,
    output: FormatOption = RingFormat.TABLE,
    top: Annotated[int, typer.Option(min=1, help="How many of the riskiest accounts.")] = 50,
    known_bad: Annotated[
        bool, typer.Option("--known-bad", help="Also list the known-bad accounts themselves.")
    ] = False,
) -> None:
    """List accounts by risk of association with known-bad accounts, with the reasons.

    Risk is propagated by the latest detection run from the accounts labelled known-bad
    (personalised PageRank over the hub-aware projection): the share of accounts scoring
    lower. Each account's reason is its nearest known-bad account, the path there and what it
    shares with the next account on it. JSON: [{"account", "risk", "reasons": [...]}].
    """
    from graphfraud.association import explain_risk, require_scores

    with open_configured_store(store) as opened:
        require_scores(opened)
        rows = opened.risk()
        if not known_bad:
            rows = rows[~rows["known_bad"].to_numpy(dtype=bool)]
        rows = rows[rows["risk"].to_numpy() > 0].head(top)
        found = explain_risk(opened, rows)
    records = [
        {
            "account": item.account,
            "risk": round(item.risk, 6),
            "reasons": [
                {**dataclasses.asdict(reason), "kind": str(reason.kind)} for reason in item.reasons
            ],
        }
        for item in found
    ]
    if output is RingFormat.JSON:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    flat: list[dict[str, Any]] = []
    for item in found:
        first = item.reasons[0] if item.reasons else None
        flat.append(
            {
                "account": item.account,
                "risk": round(item.risk, 6),
                "nearest_known_bad": first.account if first else "",
                "hops": first.hops if first else "",
                "path": " ".join(first.path) if first else "",
                "shared": " ".join(first.shared) if first else "",
            }
        )
    if output is RingFormat.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(RISK_EXPORT), lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        typer.echo(buffer.getvalue(), nl=False)
        return
    table = Table(title=f"{len(flat):,} riskiest accounts (risk: share of accounts scoring lower)")
    for column in RISK_EXPORT:
        table.add_column(column, justify="right" if column in ("risk", "hops") else "left")
    for row in flat:
        table.add_row(*(f"{row[c]:.4f}" if c == "risk" else str(row[c]) for c in RISK_EXPORT))
    console.print(table)


#: What ``risk --format csv`` gives per account (the table shows the same).
RISK_EXPORT = ("account", "risk", "nearest_known_bad", "hops", "path", "shared")


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="File to write the report to.")],
    period: Annotated[
        str, typer.Option(help="Cut time into weeks or months: week or month.")
    ] = "week",
    since: Annotated[
        str | None, typer.Option("--from", help="First day covered (default: the first record).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--to", help="Day after the last one covered (default: the last record)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, pdf or md.")] = "html",
    store: StoreOption = None,
) -> None:
    """Write the trend report: new, growing, shrinking and retired rings per period, accounts
    and GMV affected, the verdict funnel, emerging patterns, what changed."""
    from api.documents.trends import Period, ReportFormat, render_trend_report, trend_report

    chosen_period, chosen_format = (
        _choice(Period, period, "--period"),
        _choice(ReportFormat, fmt, "--format"),
    )
    with open_configured_store(store) as opened:
        made = trend_report(opened, period=chosen_period, start=since, end=until)
    out.write_bytes(render_trend_report(made, chosen_format))
    console.print(
        Text.assemble(
            "wrote ",
            bold(str(out)),
            f": {made.start:%Y-%m-%d} to {made.end:%Y-%m-%d}, "
            f"{len(made.periods)} {chosen_period.value}s; latest {made.headline['period']}: "
            f"{made.headline['new']} new rings, {made.headline['accounts']:,} accounts and "
            f"{made.headline['gmv']:,.2f} GMV affected",
        )
    )


@app.command()
def inquiry(
    out: Annotated[Path, typer.Option(help="The zip file to write the pack to.")],
    account: Annotated[
        list[str] | None, typer.Option(help="An account the inquiry is about (repeatable).")
    ] = None,
    identifier: Annotated[
        list[str] | None,
        typer.Option(
            help="An identifier as KIND:VALUE, written as the source had it (repeatable); "
            "normalised as the loader does, cards fingerprinted with the store's key."
        ),
    ] = None,
    since: Annotated[str | None, typer.Option("--from", help="Start of the window.")] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="End of the window (exclusive).")
    ] = None,
    redact: Annotated[
        list[str] | None,
        typer.Option(
            help="A field (display, attributes, text) or entity kind (Email, Phone, Address, "
            "Account) to replace by pseudonyms (repeatable)."
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Write a regulator inquiry pack: summary (HTML, PDF), CSVs of everything in scope, the
    rings involved with history and verdicts, a methodology note and a SHA-256 manifest."""
    from api.documents.inquiry import Inquiry, inquiry_pack
    from graphfraud.settings import get_settings

    asked = Inquiry(
        accounts=account or [],
        identifiers=identifier or [],
        since=_datetime(since, "--from"),
        until=_datetime(until, "--to"),
        redact=redact or [],
    )
    with open_configured_store(store) as opened:
        pack = inquiry_pack(opened, asked, settings=get_settings())
    out.write_bytes(pack)
    console.print(Text.assemble("wrote ", bold(str(out)), f" ({len(pack):,} bytes)"))


def _choice(kind: Any, value: str, option: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InputError(f"{option} {value!r} is not one of: {allowed}") from None


def _datetime(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date (expected e.g. 2026-03-02)") from None


@app.command("settings")
def settings_command(
    output: FormatOption = RingFormat.TABLE,
    settings_file: SettingsFileOption = None,
    assignments: SetOption = None,
) -> None:
    """List every detection setting: the value in force (defaults, GRAPHFRAUD_DETECTION__*,
    then --settings and --set as detect takes them), its default, and the reason for it.
    JSON: [{"name", "type", "default", "value", "rationale"}]."""
    from graphfraud.settings import describe_detection_settings

    described = describe_detection_settings(_detection_settings(settings_file, assignments))
    if output is RingFormat.JSON:
        typer.echo(json.dumps(described, indent=2, ensure_ascii=False))
        return
    flat = [
        {**row, "type": row["type"].get("type", ""), "default": json.dumps(row["default"]),
         "value": json.dumps(row["value"])}
        for row in described
    ]  # fmt: skip
    if output is RingFormat.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(flat[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        typer.echo(buffer.getvalue(), nl=False)
        return
    table = Table(title=f"{len(flat)} detection settings (set with --set name=value)")
    table.add_column("name", no_wrap=True)
    for column in ("value", "default"):
        table.add_column(column, max_width=24, overflow="fold")
    table.add_column("rationale", min_width=40)
    for row in flat:
        changed = row["value"] != row["default"]
        value = Text(row["value"], style="bold") if changed else Text(row["value"])
        table.add_row(row["name"], value, Text(row["default"]), Text(row["rationale"]))
    console.print(table)


@app.command("runs")
def runs_command(
    store: StoreOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every run, with its settings, as JSON.")
    ] = False,
) -> None:
    """List the detection runs the store recorded, newest first, and what each found."""
    with open_configured_store(store) as opened:
        runs = opened.runs()
    if as_json:
        records = [dataclasses.asdict(run) for run in runs]
        typer.echo(json.dumps(records, indent=2, default=str))
        return
    table = Table(title=f"{len(runs):,} detection runs")
    counts = ("accounts", "rings", "new", "returned", "grown", "shrunk", "retired")
    for column in ("run", "started (UTC)", "seconds", "engine", "version", *counts):
        table.add_column(column, justify="right" if column in (*counts, "seconds") else "left")
    for run in runs:
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        table.add_row(
            run.run_id,
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            "" if took is None else f"{took:.1f}",
            run.engine,
            run.version,
            *(f"{getattr(run, name):,}" for name in counts),
        )
    console.print(table)


@app.command()
def evaluate(
    accounts: Annotated[
        list[int] | None,
        typer.Option(help="Marketplace sizes to generate (repeat for several); default 20000."),
    ] = None,
    seeds: Annotated[
        list[int] | None,
        typer.Option("--seed", help="Generator seeds (repeat for several); default 11 12 13."),
    ] = None,
    families: Annotated[
        list[str] | None,
        typer.Option(
            "--family", help="Scenario families (repeat for several); default: every family."
        ),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Rings counted by precision at top.")] = 50,
    locales: Annotated[
        list[str] | None,
        typer.Option(
            "--locale",
            help="Markets to generate (repeat for several; each is a row of its own), as "
            "generate --locale takes them: us, sea, id, my, th, vn, ph, sg. Default: us.",
        ),
    ] = None,
    payment_format: Annotated[
        str,
        typer.Option(help="How payment instruments are written: card numbers or token."),
    ] = "card",
    by_typology: Annotated[
        bool, typer.Option(help="Also print each method's figures per typology.")
    ] = False,
    explain_misses: Annotated[
        bool,
        typer.Option(
            "--explain-misses",
            help="Also list every missed planted ring (what it shares, the candidate holding "
            "most of it and why it was lost) and every false positive in the top, with a "
            "count of misses per size band and cause.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print family → method → typology → metric as JSON.")
    ] = False,
    risk_k: Annotated[
        int, typer.Option(min=1, help="Riskiest accounts judged by the label-hiding test.")
    ] = 100,
    assignments: SetOption = None,
    settings_file: SettingsFileOption = None,
) -> None:
    """Measure detection against planted ground truth per scenario family, next to baselines.

    For every family, locale, size and seed: generate a marketplace, load it into a temporary
    DuckDB store, detect rings, and score them and two baselines (connected components over
    all shared identifiers; unweighted Louvain on the projection). Counts are summed over sizes
    and seeds within a family and locale. Settings were chosen on seeds 1 and 2; the default
    seeds are held out.

    Risk by association is measured by hiding half the known-bad labels: of the --risk-k
    riskiest accounts (risk propagated from the other half), how many carry a hidden label,
    next to the plain-components rule (components over all shared identifiers that hold a
    known-bad account, highest known-bad share first).
    """
    from algorithms.evaluation import as_nested
    from loaders.generator import FAMILIES

    settings = _detection_settings(settings_file, assignments)
    chosen = families or list(FAMILIES)
    markets = locales or ["us"]
    results: dict[str, dict[str, pd.DataFrame]] = {}
    risks: dict[str, pd.DataFrame] = {}
    misses: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    for family in chosen:
        for locale in markets:
            name = family if (locale, payment_format) == ("us", "card") else (
                f"{family} · {locale} · {payment_format}"
            )  # fmt: skip
            results[name], risks[name], misses[name] = _evaluate_family(
                family,
                accounts or [20_000],
                seeds or [11, 12, 13],
                settings=settings,
                top=top,
                locale=locale,
                payment_format=payment_format,
                explain=explain_misses,
                risk_k=risk_k,
            )
    if as_json:
        nested: dict[str, Any] = {
            name: {
                **as_nested(tables),
                "risk_by_association": json.loads(risks[name].to_json(orient="index")),
            }
            for name, tables in results.items()
        }
        if explain_misses:
            for name, (missed, positives) in misses.items():
                nested[name]["misses"] = json.loads(missed.to_json(orient="records"))
                nested[name]["false_positives"] = json.loads(positives.to_json(orient="records"))
        typer.echo(json.dumps(nested, indent=2))
        return
    _print_families(results, top=top)
    _print_risk_evaluation(risks, k=risk_k)
    if by_typology:
        for family, tables in results.items():
            for method, table in tables.items():
                _print_evaluation(f"{family} · {method}", table, top=top)
    if explain_misses:
        for name, (missed, positives) in misses.items():
            _print_misses(name, missed, positives, top=top)


def _evaluate_family(
    family: str,
    sizes: list[int],
    seeds: list[int],
    *,
    settings: DetectionSettings,
    top: int,
    locale: str,
    payment_format: str,
    explain: bool,
    risk_k: int,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame]]:
    """Every method's evaluation of one family, the risk evaluation, summed over sizes and
    seeds, and the misses and false positives of every run (empty unless ``explain``)."""
    import pandas as pd

    from algorithms.evaluation import (
        METHODS,
        combine_evaluations,
        combine_risk_evaluations,
        evaluate_risk,
        evaluate_store,
    )
    from graphfraud.settings import get_settings
    from graphfraud.store import open_store
    from loaders.generator import generate_marketplace
    from loaders.load import load_tables
    from loaders.mapping import folder_mapping
    from loaders.normalise import NormaliseOptions
    from loaders.truth import read_ground_truth

    configured = get_settings()
    runs: dict[str, list[pd.DataFrame]] = {method: [] for method in METHODS}
    missed: list[pd.DataFrame] = []
    positives: list[pd.DataFrame] = []
    risks: list[pd.DataFrame] = []
    for size in sizes:
        for seed in seeds:
            with tempfile.TemporaryDirectory(prefix="graphfraud-eval-") as folder:
                data = Path(folder) / "data"
                with progress_bar() as progress:
                    generate_marketplace(
                        data, accounts=size, seed=seed, family=family, locale=locale,
                        payment_format=payment_format, progress=progress,
                    )  # fmt: skip
                    with open_store(f"duckdb:///{folder}/graph.duckdb") as store:
                        load_tables(
                            store, folder_mapping(data), data,
                            rejects_path=Path(folder) / "rejects.csv", progress=progress,
                        )  # fmt: skip
                        options = NormaliseOptions.from_settings(
                            configured, fingerprint_key=store.fingerprint_key()
                        )
                        truth = read_ground_truth(data, store.links(), options=options)
                        evaluation = evaluate_store(
                            store, truth, settings=settings, seed=seed, top=top, explain=explain
                        )
                        risks.append(
                            evaluate_risk(
                                store.links(),
                                store.entities(kind="Account"),
                                settings=settings,
                                seed=seed,
                                k=risk_k,
                            )
                        )
            for method, table in evaluation.tables.items():
                runs[method].append(table)
            run = {"accounts": size, "seed": seed}
            missed.append(evaluation.misses.assign(**run))
            positives.append(evaluation.false_positives.assign(**run))
            err_console.print(f"evaluated {family} ({locale}): {size:,} accounts, seed {seed}")
    tables = {method: combine_evaluations(frames) for method, frames in runs.items()}
    explained = (pd.concat(missed, ignore_index=True), pd.concat(positives, ignore_index=True))
    return tables, combine_risk_evaluations(risks), explained


def _print_misses(name: str, missed: pd.DataFrame, positives: pd.DataFrame, *, top: int) -> None:
    """Misses per size band and cause, then every miss and every false positive in the top."""
    import pandas as pd

    from algorithms.evaluation import FALSE_POSITIVE_COLUMNS, SIZE_BANDS, size_band

    bands = [size_band(low) for low, _ in SIZE_BANDS]
    causes = pd.crosstab(
        pd.Categorical(missed["band"], categories=bands), missed["cause"], dropna=False
    )
    summary = Table(title=f"{name}: missed rings per size band and cause")
    summary.add_column("band")
    for cause in causes.columns:
        summary.add_column(str(cause), justify="right")
    for band, row in causes.iterrows():
        summary.add_row(str(band), *(f"{int(v)}" for v in row))
    console.print(summary)
    detail = Table(title=f"{name}: missed rings")
    shown = ("seed", "ring_id", "typology", "size", "camouflaged", "shares", "hub_shares",
             "cause", "candidate_size", "held", "score", "contributions", "detail")  # fmt: skip
    for column in shown:
        detail.add_column(column)
    for _, row in missed.iterrows():
        detail.add_row(*(_cell(row[column]) for column in shown))
    console.print(detail)
    wrong = Table(title=f"{name}: false positives in the top {top}")
    listed = ("seed", *FALSE_POSITIVE_COLUMNS)
    for column in listed:
        wrong.add_column(column)
    for _, row in positives.iterrows():
        wrong.add_row(*(_cell(row[column]) for column in listed))
    console.print(wrong)


def _cell(value: object) -> str:
    """A table cell: floats to two places, missing values blank."""
    if isinstance(value, float):
        return "" if value != value else f"{value:.2f}"
    return str(value)


def _print_evaluation(method: str, metrics: pd.DataFrame, *, top: int) -> None:
    import pandas as pd

    table = Table(title=f"{method}: ring found = Jaccard ≥ 0.5 with a planted ring")
    columns = {
        "planted": "planted", "found": "found", "detected": "detected",
        "ring_recall": "ring R", "ring_precision": "ring P", "ring_f1": "ring F1",
        "member_recall": "member R", "member_precision": "member P",
        "precision_at_top": f"P@{top}", "benign_in_top": f"benign in top {top}",
        "typology_accuracy": "typology acc",
    }  # fmt: skip
    table.add_column("typology")
    for title in columns.values():
        table.add_column(title, justify="right")
    counts = {"planted", "found", "detected", "benign_in_top"}
    for typology, row in metrics.iterrows():
        table.add_row(
            str(typology),
            *(
                "-" if pd.isna(row[name]) or (name == "benign_in_top" and typology != "all") else
                f"{int(row[name]):,}" if name in counts else f"{row[name]:.3f}"
                for name in columns
            ),
        )  # fmt: skip
    console.print(table)


def _print_families(results: dict[str, dict[str, pd.DataFrame]], *, top: int) -> None:
    """One row per family and method: the figures over all typologies."""
    table = Table(title="ring found = Jaccard ≥ 0.5 with a planted ring; counts summed over runs")
    columns = {
        "planted": "planted", "found": "found", "detected": "detected",
        "ring_recall": "ring R", "ring_precision": "ring P", "ring_f1": "ring F1",
        "precision_at_top": f"P@{top}", "benign_in_top": f"benign in top {top}",
    }  # fmt: skip
    table.add_column("family")
    table.add_column("method")
    for title in columns.values():
        table.add_column(title, justify="right")
    counts = {"planted", "found", "detected", "benign_in_top"}
    for family, tables in results.items():
        for method, metrics in tables.items():
            row = metrics.loc["all"].to_dict()
            table.add_row(
                family,
                method,
                *(
                    "-" if row[name] != row[name] else
                    f"{int(row[name]):,}" if name in counts else f"{row[name]:.3f}"
                    for name in columns
                ),
            )  # fmt: skip
        table.add_section()
    console.print(table)


def _print_risk_evaluation(risks: dict[str, pd.DataFrame], *, k: int) -> None:
    """One row per family and method: hidden known-bad accounts among the k riskiest."""
    table = Table(
        title=f"risk by association: half the known-bad labels hidden; of the {k} riskiest "
        "accounts per run, how many carry a hidden label (counts summed over runs)"
    )
    for column in ("family", "method", "hidden", "ranked", f"hits in top {k}"):
        table.add_column(column, justify="left" if column in ("family", "method") else "right")
    for column in (f"P@{k}", f"R@{k}", "P vs components"):
        table.add_column(column, justify="right")
    for family, metrics in risks.items():
        precisions = dict(zip(metrics.index, metrics["precision_at_k"].tolist(), strict=True))
        baseline = precisions["components"]
        for method, row in metrics.iterrows():
            precision = precisions[method]
            ratio = precision / baseline if baseline > 0 else float("nan")
            table.add_row(
                family, str(method), f"{int(row['hidden']):,}", f"{int(row['ranked']):,}",
                f"{int(row['hits']):,}", f"{precision:.3f}",
                f"{row['recall_at_k']:.3f}", "-" if ratio != ratio else f"{ratio:.1f}x",
            )  # fmt: skip
        table.add_section()
    console.print(table)


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(min=100, help="Accounts to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    out: Annotated[Path, typer.Option(help="Folder for the generated tables.")] = Path("demo-data"),
    store: StoreOption = None,
    serve: Annotated[
        bool | None,
        typer.Option(
            help="End by serving the rings to a browser (Ctrl+C stops). Default: serve when "
            "run from a terminal, finish when run from a script.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
) -> None:
    """Generate a marketplace, load it, detect rings, explain the top one, and serve them."""
    from graphfraud.explain import explain
    from loaders.generator import generate_marketplace

    console.rule(bold("1. generate a synthetic marketplace"))
    with progress_bar() as progress:
        generate_marketplace(out, accounts=accounts, seed=seed, progress=progress)
    console.rule(bold("2. load it into the entity graph"))
    with open_configured_store(store) as opened:
        report = _load(opened, out, None, None)
        _print_load(report, opened.url, seconds=report.seconds)
        console.rule(bold("3. what the store holds"))
        _print_stats(opened)
        console.rule(bold("4. detect fraud rings"))
        found = _demo_detection(opened)
    if found is not None:
        console.rule(bold(f"5. why is {found.ring_id} a ring?"))
        _print_explanation(explain(found))
    if serve is None:
        serve = sys.stdin.isatty() and sys.stdout.isatty()
    if serve:
        console.rule(bold("6. explore the rings in a browser"))
        serve_api(store, host="127.0.0.1", port=port)


def _demo_detection(store: GraphStore) -> Ring | None:
    """Detect rings for the demo, print the top ten, and return the best one."""
    from algorithms.pipeline import detect_rings
    from graphfraud.settings import get_settings

    with progress_bar() as progress:
        result = detect_rings(store, settings=get_settings().detection, progress=progress)
    _print_detection(result, top=10)
    return result.rings[0] if result.rings else None


# -- graphfraud neo4j ------------------------------------------------------------------------

neo4j_app = typer.Typer(
    name="neo4j",
    help="Run a local Neo4j server, assembled from Maven Central on first use (needs Java 17 "
    "and Maven; no Docker). Skip this if you already run Neo4j: set GRAPHFRAUD_STORE_URL.",
    no_args_is_help=True,
)
app.add_typer(neo4j_app)

Neo4jHomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Server folder (conf, data, logs); default: the installation folder.",
        envvar="GRAPHFRAUD_NEO4J_HOME",
        show_default=False,
    ),
]


def _neo4j_home(home: Path | None) -> Path:
    from graphfraud.neo4j_server import default_install_dir
    from graphfraud.settings import get_settings

    return home or get_settings().neo4j_home or default_install_dir()


@neo4j_app.command("start")
def neo4j_start(
    home: Neo4jHomeOption = None,
    port: Annotated[
        int, typer.Option(help="Bolt port, on 127.0.0.1 only.", envvar="GRAPHFRAUD_NEO4J_PORT")
    ] = 7687,
    password: Annotated[
        str | None,
        typer.Option(
            help="Password of user neo4j (set when the data folder is new); default: the "
            "neo4j_password setting, which stores use too.",
            envvar="GRAPHFRAUD_NEO4J_PASSWORD",
            show_default=False,
        ),
    ] = None,
    heap: Annotated[str, typer.Option(help="JVM heap size.")] = "1g",
    pagecache: Annotated[str, typer.Option(help="Page cache size.")] = "1g",
    fresh: Annotated[bool, typer.Option(help="Delete the existing data first.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the server.")] = 120,
) -> None:
    """Start Neo4j in the background and wait until it accepts connections."""
    from graphfraud.neo4j_server import start_server
    from graphfraud.settings import get_settings

    secret = password or get_settings().neo4j_password.get_secret_value()
    info = start_server(
        _neo4j_home(home), port=port, password=secret, heap=heap, pagecache=pagecache,
        fresh=fresh, timeout=timeout, progress=err_console.print,
    )  # fmt: skip
    console.print(f"Neo4j {info.version} is running at", bold(info.url), f"(pid {info.pid})")
    console.print(f"data and logs: {info.home}")
    console.print(f"load into it:  graphfraud load DATA --store {info.url}")


@neo4j_app.command("stop")
def neo4j_stop(home: Neo4jHomeOption = None) -> None:
    """Stop the Neo4j started from HOME (a clean shutdown)."""
    from graphfraud.neo4j_server import stop_server

    folder = _neo4j_home(home)
    if stop_server(folder):
        console.print(f"stopped Neo4j in {folder}")
    else:
        console.print(f"no Neo4j was running from {folder}")


@neo4j_app.command("status")
def neo4j_status(home: Neo4jHomeOption = None) -> None:
    """Say whether Neo4j runs from HOME; exit code 1 if it does not."""
    from graphfraud.neo4j_server import server_status

    folder = _neo4j_home(home)
    info = server_status(folder)
    if info is None:
        console.print(f"Neo4j is not running from {folder}")
        raise typer.Exit(1)
    console.print(f"Neo4j {info.version} is running at {info.url} (pid {info.pid}) from {folder}")
