"""A real Neo4j server that graphfraud assembles and runs by itself: no Docker, no vendor download.

Recipe
------
Neo4j Community 5.26 LTS is published on Maven Central as ordinary jars. The ``pom.xml`` next to
this module copies the runtime closure of ``org.neo4j:neo4j`` (with ``neo4j-bolt`` and
``org.neo4j.app:neo4j-server``) into ``lib/`` and APOC core into ``plugins/``;
:func:`ensure_installed` runs Maven once into a cache folder
(``~/.cache/graphfraud/neo4j-<version>/``, or the ``neo4j_install`` setting).
The pom pins nothing but the versions passed in: :data:`NEO4J_VERSION` and :data:`APOC_VERSION`.

A *server home* is a separate folder holding ``conf/``, ``data/``, ``logs/`` and ``run/``, so
one installation serves many homes (each test run gets a fresh one). :func:`start_server` writes
a minimal ``conf/neo4j.conf`` (Bolt on 127.0.0.1 only, HTTP off, sized page cache, auth on),
sets the initial password of a new data folder with ``neo4j-admin dbms set-initial-password``
(``org.neo4j.cli.AdminTool``), then launches
``java <flags> -cp 'plugins/*:lib/*' org.neo4j.server.CommunityEntryPoint --console-mode``
detached, with the ``--add-opens`` flags of the stock ``neo4j.conf`` (the ``neo4j`` launcher
script would normally pass them; we start the JVM ourselves), and waits until the Python driver's
``verify_connectivity()`` succeeds. :func:`stop_server` sends SIGTERM and waits for a clean
shutdown.

Someone who already runs Neo4j (Desktop, Docker, Aura, a cluster) needs none of this: point
``GRAPHFRAUD_STORE_URL`` and the credentials at it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psutil

from graphfraud.errors import GraphFraudError
from graphfraud.settings import get_settings

#: Newest 5.26 LTS patch release on Maven Central when this was written.
NEO4J_VERSION = "5.26.30"
#: APOC core is published for fewer patch releases; the newest 5.26 one loads in 5.26.30.
APOC_VERSION = "5.26.19"
#: Java feature releases Neo4j 5.26 supports.
JAVA_VERSIONS = range(17, 22)

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
#: The importer keeps its working data off the heap, by default up to 90% of the machine's
#: memory: these bounds leave room for the server's neighbours on a shared machine.
IMPORT_HEAP = "1g"
IMPORT_OFF_HEAP = "4g"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
USER = "neo4j"

#: JVM flags of the stock neo4j.conf (``server.jvm.additional``), minus ``-XX:+AlwaysPreTouch``,
#: which would touch the whole heap at start on a machine shared with the tests.
JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)

_MARKER = ".graphfraud-installed"
_STATE = "graphfraud-server.json"
_SIZE = re.compile(r"^\d+[kmg]$", re.IGNORECASE)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ServerInfo:
    """A running server started by :func:`start_server`."""

    home: Path
    pid: int
    port: int
    version: str
    #: JVM heap and page cache it was started with (a restart keeps them).
    heap: str = "1g"
    pagecache: str = "1g"

    @property
    def url(self) -> str:
        """The Bolt URL to give ``open_store`` or the driver."""
        return f"neo4j://127.0.0.1:{self.port}"


def default_install_dir() -> Path:
    """Where :func:`ensure_installed` assembles Neo4j unless told otherwise: the
    ``neo4j_install`` setting (``GRAPHFRAUD_NEO4J_INSTALL``), else
    ``~/.cache/graphfraud/neo4j-<version>``."""
    configured = get_settings().neo4j_install
    if configured is not None:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "graphfraud" / f"neo4j-{NEO4J_VERSION}"


def ensure_installed(cache_dir: Path | None = None, *, progress: Progress | None = None) -> Path:
    """Assemble Neo4j from Maven Central into ``cache_dir`` once; return that folder.

    Parameters
    ----------
    cache_dir
        Installation folder; default :func:`default_install_dir`. It ends up holding ``lib/``
        and ``plugins/``; a second call finds them and returns at once.
    progress
        Called with a line of text about what is happening (the first run downloads about
        130 MB).

    Raises
    ------
    GraphFraudError
        Java or Maven is missing, or Maven could not fetch the artifacts.
    """
    home = Path(cache_dir) if cache_dir is not None else default_install_dir()
    marker = home / _MARKER
    if marker.is_file() and marker.read_text().strip() == _install_id():
        return home
    java_binary()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise GraphFraudError(
            "Maven (mvn) is needed to assemble Neo4j from Maven Central: install it "
            "(e.g. apt-get install maven), or run your own Neo4j and set GRAPHFRAUD_STORE_URL"
        )
    home.mkdir(parents=True, exist_ok=True)
    pom = home / "pom.xml"
    pom.write_bytes(resources.files(__package__).joinpath("pom.xml").read_bytes())
    # A partial lib/ from an interrupted run could mix versions: start it over.
    for folder in ("lib", "plugins"):
        shutil.rmtree(home / folder, ignore_errors=True)
    if progress:
        progress(f"assembling Neo4j {NEO4J_VERSION} + APOC {APOC_VERSION} into {home}")
    command = [
        mvn, "-B", "-q", "-f", str(pom), f"-Dneo4j.version={NEO4J_VERSION}",
        f"-Dapoc.version={APOC_VERSION}", f"-Dneo4j.home={home}", "package",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise GraphFraudError(f"Maven could not assemble Neo4j {NEO4J_VERSION}:\n{tail}")
    marker.write_text(_install_id() + "\n")
    if progress:
        progress(f"Neo4j {NEO4J_VERSION} ready in {home}")
    return home


def start_server(
    home: Path,
    *,
    port: int = 7687,
    password: str,
    heap: str = "1g",
    pagecache: str = "1g",
    fresh: bool = False,
    timeout: float = 120,
    install: Path | None = None,
    progress: Progress | None = None,
) -> ServerInfo:
    """Start a Neo4j server whose config, data and logs live under ``home``; wait until ready.

    Parameters
    ----------
    home
        Server folder (``conf/``, ``data/``, ``logs/``, ``run/``); created if missing. It may be
        the installation folder itself.
    port
        Bolt port, bound on 127.0.0.1 only.
    password
        Password of user ``neo4j``. It is set when the data folder is new; an existing data
        folder keeps the password it was created with.
    heap, pagecache
        JVM heap and page cache sizes such as ``"1g"`` or ``"512m"``.
    fresh
        Delete ``home/data`` (and its password) before starting.
    timeout
        Seconds to wait for the server to accept a Bolt connection.
    install
        Installation folder (see :func:`ensure_installed`); assembled if missing.
    progress
        Called with a line of text about what is happening.

    Returns
    -------
    ServerInfo
        The running server; its ``url`` is what a store or driver connects to.

    Raises
    ------
    GraphFraudError
        The server is already running, the port is taken, the password does not match an
        existing data folder, or the server did not come up in time (the message quotes its log).
    """
    for size in (heap, pagecache):
        if not _SIZE.match(size):
            raise GraphFraudError(f"memory size {size!r} should look like 512m or 2g")
    home = Path(home).resolve()
    running = server_status(home)
    if running is not None:
        raise GraphFraudError(f"Neo4j is already running from {home} at {running.url}")
    _require_free_port(port)
    lib_home = ensure_installed(install, progress=progress)
    if fresh:
        shutil.rmtree(home / "data", ignore_errors=True)
    for folder in ("conf", "data", "logs", "run"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    (home / "conf" / "neo4j.conf").write_text(_config(home, lib_home, port, pagecache))
    if not (home / "data" / "databases").exists():
        _set_initial_password(home, lib_home, password)
    log = (home / "logs" / "console.log").open("ab")
    command = [
        java_binary(), f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS,
        "-cp", f"{lib_home / 'plugins'}/*:{lib_home / 'lib'}/*", ENTRY_POINT,
        f"--home-dir={home}", f"--config-dir={home / 'conf'}", "--console-mode",
    ]  # fmt: skip
    if progress:
        progress(f"starting Neo4j {NEO4J_VERSION} on 127.0.0.1:{port} from {home}")
    # A session of its own: the server outlives the command that started it and is not hit by
    # the Ctrl-C meant for that command.
    process = subprocess.Popen(
        command, cwd=home, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    log.close()
    info = ServerInfo(
        home=home, pid=process.pid, port=port, version=NEO4J_VERSION, heap=heap,
        pagecache=pagecache,
    )  # fmt: skip
    state = {"pid": info.pid, "port": port, "version": NEO4J_VERSION, "heap": heap}
    (home / "run" / _STATE).write_text(json.dumps({**state, "pagecache": pagecache}))
    _wait_until_ready(info, password, timeout)
    return info


def stop_server(home: Path, *, timeout: float = 60) -> bool:
    """Stop the server started from ``home``; returns False if none was running.

    Sends SIGTERM (a clean shutdown, with a checkpoint) and waits up to ``timeout`` seconds,
    then kills the JVM.
    """
    home = Path(home).resolve()
    info = server_status(home)
    state = home / "run" / _STATE
    if info is None:
        state.unlink(missing_ok=True)
        return False
    os.kill(info.pid, signal.SIGTERM)
    if not _wait_for_exit(info.pid, timeout):
        os.kill(info.pid, signal.SIGKILL)
        _wait_for_exit(info.pid, 10)
    state.unlink(missing_ok=True)
    return True


def server_status(home: Path) -> ServerInfo | None:
    """The server running from ``home``, or None if there is none."""
    home = Path(home).resolve()
    state = home / "run" / _STATE
    try:
        saved = json.loads(state.read_text())
    except (OSError, ValueError):
        return None
    pid = int(saved["pid"])
    if not _is_our_server(pid, home):
        return None
    return ServerInfo(
        home=home, pid=pid, port=int(saved["port"]), version=str(saved["version"]),
        heap=str(saved.get("heap", "1g")), pagecache=str(saved.get("pagecache", "1g")),
    )  # fmt: skip


@contextmanager
def stopped_server(
    home: Path, *, password: str, progress: Progress | None = None
) -> Iterator[ServerInfo]:
    """Stop the server running from ``home`` for the block, then start it again as it was.

    For offline work on its data folder (a bulk import). The server comes back on the same
    port with the same heap and page cache, also when the block fails.

    Raises
    ------
    GraphFraudError
        No server runs from ``home``, or it does not come back.
    """
    info = server_status(home)
    if info is None:
        raise GraphFraudError(f"no Neo4j runs from {Path(home).resolve()}")
    if progress:
        progress(f"stopping Neo4j in {info.home} for offline work")
    stop_server(info.home)
    try:
        yield info
    finally:
        if progress:
            progress(f"starting Neo4j again on 127.0.0.1:{info.port}")
        start_server(
            info.home, port=info.port, password=password, heap=info.heap,
            pagecache=info.pagecache,
        )  # fmt: skip


def import_database(
    home: Path, arguments: Sequence[str], *, database: str, install: Path | None = None
) -> str:
    """Run ``neo4j-admin database import full`` into ``database`` of the server in ``home``.

    The server must be stopped (see :func:`stopped_server`); the database's files are replaced
    (``--overwrite-destination``). ``arguments`` name the files (``--nodes=...``,
    ``--relationships=...``) and any other import option. Returns the tool's output.

    Raises
    ------
    GraphFraudError
        The tool refused the files or failed (the message quotes its output).
    """
    home = Path(home).resolve()
    lib_home = ensure_installed(install)
    command = [
        java_binary(), f"-Xmx{IMPORT_HEAP}", "-cp", f"{lib_home / 'lib'}/*", ADMIN_TOOL,
        "database", "import", "full", "--overwrite-destination=true",
        f"--max-off-heap-memory={IMPORT_OFF_HEAP}",
        f"--report-file={home / 'logs' / 'import.report'}",
        *arguments, database,
    ]  # fmt: skip
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-20:])
        raise GraphFraudError(f"neo4j-admin could not import into {database!r}:\n{tail}")
    return output


def java_binary() -> str:
    """A ``java`` Neo4j 5.26 runs on: ``JAVA_HOME``'s, else the one on ``PATH``, else a JDK in
    ``/usr/lib/jvm`` (a machine whose default Java is too new often has a 17 beside it).

    Raises
    ------
    GraphFraudError
        No Java 17 to 21 was found.
    """
    java_home = os.environ.get("JAVA_HOME")
    candidates = [
        str(Path(java_home) / "bin" / "java") if java_home else None,
        shutil.which("java"),
        *sorted(str(path) for path in Path("/usr/lib/jvm").glob("*/bin/java")),
    ]
    seen: list[str] = []
    for java in dict.fromkeys(c for c in candidates if c and Path(c).exists()):
        major = _java_major(java)
        if major in JAVA_VERSIONS:
            return java
        seen.append(f"{java} (Java {major})")
    found = f"; found only {', '.join(seen)}" if seen else ""
    raise GraphFraudError(
        f"Neo4j {NEO4J_VERSION} needs Java 17 to 21: install one (e.g. apt-get install "
        f"openjdk-17-jre-headless) or set JAVA_HOME{found}"
    )


# -- internals -------------------------------------------------------------------------------


def _java_major(java: str) -> int:
    done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)', done.stderr)
    return int(found.group(1)) if found else 0


def _install_id() -> str:
    return f"neo4j {NEO4J_VERSION} apoc {APOC_VERSION}"


def _config(home: Path, lib_home: Path, port: int, pagecache: str) -> str:
    settings = {
        "server.directories.data": home / "data",
        "server.directories.logs": home / "logs",
        "server.directories.run": home / "run",
        "server.directories.import": home / "import",
        "server.directories.lib": lib_home / "lib",
        "server.directories.plugins": lib_home / "plugins",
        "server.default_listen_address": "127.0.0.1",
        "server.default_advertised_address": "127.0.0.1",
        "server.bolt.listen_address": f"127.0.0.1:{port}",
        "server.bolt.advertised_address": f"127.0.0.1:{port}",
        "server.http.enabled": "false",
        "server.https.enabled": "false",
        "server.memory.pagecache.size": pagecache,
        "dbms.security.auth_enabled": "true",
        "dbms.security.procedures.unrestricted": "apoc.*",
        "dbms.usage_report.enabled": "false",
        # Keep transaction logs small: this server holds test and demo data, not a system of
        # record.
        "db.tx_log.rotation.retention_policy": "2 files",
        # Netty's graceful shutdown otherwise idles 2 x 5 s after the databases have stopped.
        "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
    }
    lines = [f"{name}={value}" for name, value in settings.items()]
    return "# Written by graphfraud.neo4j_server.start_server; rewritten at each start.\n" + (
        "\n".join(lines) + "\n"
    )


def _set_initial_password(home: Path, lib_home: Path, password: str) -> None:
    command = [
        java_binary(), "-cp", f"{lib_home / 'lib'}/*", ADMIN_TOOL,
        "dbms", "set-initial-password", password,
    ]  # fmt: skip
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GraphFraudError(
            f"could not set the initial Neo4j password: {(done.stdout + done.stderr).strip()}"
        )


def _require_free_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Neo4j binds: connections of a server stopped a moment ago do not block the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise GraphFraudError(
                f"port {port} on 127.0.0.1 is in use; choose another with --port"
            ) from None


def _wait_until_ready(info: ServerInfo, password: str, timeout: float) -> None:
    import neo4j
    from neo4j.exceptions import AuthError, ServiceUnavailable

    deadline = time.monotonic() + timeout
    # bolt:// talks to this one server directly; neo4j:// would also ask for a routing table and
    # log a warning for every attempt made while the server is still starting.
    with neo4j.GraphDatabase.driver(
        f"bolt://127.0.0.1:{info.port}", auth=(USER, password), connection_timeout=2.0
    ) as driver:
        while True:
            if not _is_alive(info.pid):
                raise GraphFraudError(
                    f"Neo4j exited while starting; its log says:\n{_log_tail(info.home)}"
                )
            try:
                driver.verify_connectivity()
                return
            except AuthError:
                stop_server(info.home)
                raise GraphFraudError(
                    f"Neo4j in {info.home} was created with another password; give that one, "
                    "or start it with --fresh to begin with an empty database"
                ) from None
            except (ServiceUnavailable, OSError):
                if time.monotonic() > deadline:
                    stop_server(info.home)
                    raise GraphFraudError(
                        f"Neo4j did not accept connections within {timeout:.0f} s; its log "
                        f"says:\n{_log_tail(info.home)}"
                    ) from None
                time.sleep(0.5)


def _log_tail(home: Path, lines: int = 20) -> str:
    try:
        text = (home / "logs" / "console.log").read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _reap(pid: int) -> None:
    # The server is our child when this process started it: collect its exit status, or it
    # lingers as a zombie that still looks alive.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _is_alive(pid: int) -> bool:
    _reap(pid)
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _is_our_server(pid: int, home: Path) -> bool:
    """True if ``pid`` is alive and is the Neo4j started from ``home`` (not a reused pid)."""
    if not _is_alive(pid):
        return False
    try:
        command = psutil.Process(pid).cmdline()
    except psutil.Error:
        return False
    return ENTRY_POINT in command and f"--home-dir={home}" in command


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_alive(pid):
            return True
        time.sleep(0.2)
    return not _is_alive(pid)


__all__ = [
    "APOC_VERSION",
    "NEO4J_VERSION",
    "ServerInfo",
    "default_install_dir",
    "ensure_installed",
    "import_database",
    "java_binary",
    "server_status",
    "start_server",
    "stop_server",
    "stopped_server",
]
