"""The ``graphfraud`` command: the one composition root of the product.

It may import every package (``loaders``, ``algorithms``, ``api``), lazily inside commands, so
``graphfraud --help`` stays fast. Domain errors become one clean message and an exit code:
1 for a failure of the work, 2 for bad input or configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from graphfraud.errors import ConfigError, GraphFraudError, InputError, NotFound

if TYPE_CHECKING:
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
console = Console()
err_console = Console(stderr=True)

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
        err_console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(2) from None
    except GraphFraudError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(1) from None


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar driven by ``progress(stage, done, total)`` callbacks."""
    with Progress(
        TextColumn("[bold]{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed:>,.0f}/{task.total:,.0f}"),
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
) -> None:
    """Generate a synthetic marketplace with planted fraud rings and their ground truth."""
    from loaders.generator import generate_marketplace

    with progress_bar() as progress:
        result = generate_marketplace(out, accounts=accounts, seed=seed, progress=progress)
    table = Table(title=f"Generated marketplace in {out}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.tables.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    rings = ", ".join(f"{kind} {n}" for kind, n in result.rings.items())
    console.print(f"planted rings: {rings}")


@app.command()
def load(
    data: Annotated[
        Path, typer.Argument(help="Folder with the tables (CSV or Parquet).", show_default=False)
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(help="Mapping spec (YAML/TOML); default: the generator's marketplace layout."),
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go; default DATA/rejects.csv.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Load tables into the entity graph through a mapping spec."""
    with open_configured_store(store) as opened:
        report = _load(opened, data, mapping, rejects)
        _print_load(report, opened.url)


def _load(store: GraphStore, data: Path, mapping: Path | None, rejects: Path | None) -> LoadReport:
    from loaders.load import load_tables
    from loaders.mapping import MappingSpec, builtin_mapping

    spec = MappingSpec.from_file(mapping) if mapping else builtin_mapping("marketplace")
    if not data.is_dir():
        raise InputError(f"data folder {data} does not exist")
    with progress_bar() as progress:
        return load_tables(store, spec, data, rejects_path=rejects, progress=progress)


def _print_load(report: LoadReport, url: str) -> None:
    table = Table(title=f"Loaded into {url} in {report.seconds:.1f} s")
    for column in ("table", "read", "loaded", "rejected"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, read in report.rows_read.items():
        rejected = report.rows_rejected.get(name, 0)
        table.add_row(name, f"{read:,}", f"{read - rejected:,}", f"{rejected:,}")
    table.add_row("[bold]total", f"{report.read:,}", f"{report.loaded:,}", f"{report.rejected:,}")
    console.print(table)
    console.print(f"wrote {report.entities:,} entities and {report.links:,} links")
    if report.rejects_path is not None:
        console.print(
            f"[yellow]{report.rejected:,} rejected rows, with reasons, in {report.rejects_path}"
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
        "[bold]total", f"{counts.entity_total:,}", "[bold]total", f"{counts.link_total:,}"
    )
    console.print(table)
    console.print(f"rings: {counts.rings:,}")


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(min=100, help="Accounts to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    out: Annotated[Path, typer.Option(help="Folder for the generated tables.")] = Path("demo-data"),
    store: StoreOption = None,
) -> None:
    """Generate a marketplace, load it, and show what is in the store."""
    from loaders.generator import generate_marketplace

    console.rule("[bold]1. generate a synthetic marketplace")
    with progress_bar() as progress:
        generate_marketplace(out, accounts=accounts, seed=seed, progress=progress)
    console.rule("[bold]2. load it into the entity graph")
    with open_configured_store(store) as opened:
        report = _load(opened, out, None, None)
        _print_load(report, opened.url)
        console.rule("[bold]3. what the store holds")
        _print_stats(opened)


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
    console.print(f"Neo4j {info.version} is running at [bold]{info.url}[/] (pid {info.pid})")
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
