"""Sharing a store's fingerprint key with another store, through the command line."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from graphfraud.store import open_store

ORDERS = "buyer,card\nA1,4111 1111 1111 1111\nA2,5500 0000 0000 0004\n"
MAPPING = (
    "sources:\n  - {table: orders, account: buyer, "
    "identifiers: [{column: card, kind: PaymentInstrument}]}\n"
)


def graphfraud(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphfraud", *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def cards(path: Path) -> list[str]:
    with open_store(f"duckdb:///{path}") as store:
        return sorted(store.entities(kind="PaymentInstrument")["key"])


def test_two_stores_sharing_a_key_fingerprint_cards_alike(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "orders.csv").write_text(ORDERS)
    (tmp_path / "m.yaml").write_text(MAPPING)
    exported = graphfraud(
        "fingerprint-key", "export", "--store", "duckdb:///a.duckdb", cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    key = exported.stdout.strip()
    assert re.fullmatch("[0-9a-f]{64}", key)
    imported = graphfraud(
        "fingerprint-key", "import", "-", "--store", "duckdb:///b.duckdb", cwd=tmp_path, stdin=key
    )
    assert imported.returncode == 0, imported.stderr
    for name in ("a", "b", "c"):
        done = graphfraud(
            "load", "export", "--mapping", "m.yaml", "--store", f"duckdb:///{name}.duckdb",
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert cards(tmp_path / "a.duckdb") == cards(tmp_path / "b.duckdb")
    # A store with a key of its own makes other fingerprints of the same cards.
    assert not set(cards(tmp_path / "a.duckdb")) & set(cards(tmp_path / "c.duckdb"))


def test_an_exported_key_file_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    done = graphfraud(
        "fingerprint-key", "export", "--out", "key.txt", "--store", "duckdb:///a.duckdb",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    mode = stat.S_IMODE((tmp_path / "key.txt").stat().st_mode)
    assert mode & 0o077 == 0
    again = graphfraud(
        "fingerprint-key", "export", "--out", "key.txt", "--store", "duckdb:///a.duckdb",
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 2
    assert "never overwritten" in again.stderr


def test_the_public_development_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "key.txt").write_text("graphfraud-development-key\n")
    done = graphfraud(
        "fingerprint-key", "import", "key.txt", "--store", "duckdb:///a.duckdb", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "the shared development key is public" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_store_holding_fingerprints_keeps_its_key(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "orders.csv").write_text(ORDERS)
    (tmp_path / "m.yaml").write_text(MAPPING)
    graphfraud(
        "load", "export", "--mapping", "m.yaml", "--store", "duckdb:///a.duckdb", cwd=tmp_path
    )
    done = graphfraud(
        "fingerprint-key", "import", "-", "--store", "duckdb:///a.duckdb", cwd=tmp_path,
        stdin="f" * 64,
    )  # fmt: skip
    assert done.returncode == 2
    assert "already holds 2 payment instruments" in done.stderr
