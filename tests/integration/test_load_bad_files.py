"""Bad files never crash a load: each case loads what it can and says what it could not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphfraud.errors import InputError
from graphfraud.store import GraphStore, open_store
from loaders.load import load_tables
from loaders.mapping import MappingSpec

SPEC = MappingSpec.from_dict(
    {
        "sources": [
            {
                "table": "accounts",
                "account": "acct",
                "amount": "spent",
                "identifiers": [{"column": "email", "kind": "Email"}],
            }
        ]
    }
)
GOOD = [b"A1,a1@example.org,10", b"A2,a2@example.org,20", b"A3,a3@example.org,30"]


def write(folder: Path, *lines: bytes, header: bytes = b"acct,email,spent") -> Path:
    (folder / "accounts.csv").write_bytes(b"\n".join([header, *lines]) + b"\n")
    return folder


def rejects(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "rejects.csv", dtype=str, keep_default_na=False)


def emails(store: GraphStore) -> dict[str, str]:
    found = store.links(kinds=["HAS_EMAIL"])
    return dict(zip(found["src_key"], found["dst_key"], strict=True))


@pytest.fixture
def store() -> GraphStore:
    return open_store("duckdb:///:memory:")


def test_a_byte_order_mark_before_the_header_is_skipped(tmp_path: Path, store: GraphStore) -> None:
    write(tmp_path, *GOOD, header=b"\xef\xbb\xbfacct,email,spent")
    report = load_tables(store, SPEC, tmp_path)
    assert (report.loaded, report.rejected) == (3, 0)
    assert emails(store)["A1"] == "a1@example.org"


def test_invalid_utf8_in_a_csv_rejects_that_field(tmp_path: Path, store: GraphStore) -> None:
    write(tmp_path, *GOOD, b"A4,caf\xe9@example.org,40")
    report = load_tables(store, SPEC, tmp_path)
    found = rejects(tmp_path)
    assert found[["row", "column", "dropped", "reason"]].values.tolist() == [
        ["4", "email", "field", "not UTF-8 text"]
    ]
    assert "caf\ufffd@example.org" in found.loc[0, "record"]
    assert report.rows_rejected == {"accounts": 0}
    assert "A4" not in emails(store)
    assert store.stats().entities["Account"] == 4


def test_invalid_utf8_in_a_parquet_text_column_rejects_that_field(
    tmp_path: Path, store: GraphStore
) -> None:
    raw = pa.array([b"a1@example.org", b"a2@example.org", b"caf\xe9@example.org"], pa.binary())
    # Written as a text column, as some exporters do without checking their bytes.
    email = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers())
    table = pa.table({"acct": ["A1", "A2", "A3"], "email": email, "spent": ["1", "2", "3"]})
    pq.write_table(table, tmp_path / "accounts.parquet")
    report = load_tables(store, SPEC, tmp_path)
    assert rejects(tmp_path)[["row", "column", "reason"]].values.tolist() == [
        ["3", "email", "not UTF-8 text"]
    ]
    assert (report.loaded, sorted(emails(store))) == (3, ["A1", "A2"])


def test_a_ten_megabyte_field_rejects_its_row(tmp_path: Path, store: GraphStore) -> None:
    write(tmp_path, GOOD[0], b"A2," + b"x" * 10 * 2**20 + b",20", *GOOD[2:])
    report = load_tables(store, SPEC, tmp_path)
    found = rejects(tmp_path)
    assert found[["row", "column", "dropped", "reason"]].values.tolist() == [
        ["2", "email", "row", "a value longer than 65,536 bytes"]
    ]
    assert len(found.loc[0, "record"]) < 1000
    assert (report.loaded, sorted(emails(store))) == (2, ["A1", "A3"])
    assert (tmp_path / "rejects.csv").stat().st_size < 10_000


@pytest.mark.parametrize("amount", [b"1e309", b"-inf", b"inf", b"NaN"])
def test_amounts_that_are_not_finite_numbers_are_rejected(
    tmp_path: Path, store: GraphStore, amount: bytes
) -> None:
    write(tmp_path, *GOOD, b"A4,a4@example.org," + amount)
    load_tables(store, SPEC, tmp_path)
    found = rejects(tmp_path)
    assert found[["row", "column", "dropped"]].values.tolist() == [["4", "spent", "field"]]
    assert found.loc[0, "reason"] in {"not a number", "not a finite number"}
    assert emails(store)["A4"] == "a4@example.org"


def test_a_column_named_twice_is_an_error_naming_it(tmp_path: Path, store: GraphStore) -> None:
    write(tmp_path, b"A1,A2,a1@example.org,1", header=b"acct,acct,email,spent")
    with pytest.raises(InputError, match=r"names column 'acct' 2 times.*column acct"):
        load_tables(store, SPEC, tmp_path)
    assert store.stats().entity_total == 0


def test_a_column_named_twice_that_the_mapping_does_not_read_is_harmless(
    tmp_path: Path, store: GraphStore
) -> None:
    write(tmp_path, b"A1,a1@example.org,1,x,y", header=b"acct,email,spent,note,note")
    assert load_tables(store, SPEC, tmp_path).loaded == 1


def test_nul_bytes_reject_an_id_with_its_row_and_an_email_alone(
    tmp_path: Path, store: GraphStore
) -> None:
    write(tmp_path, *GOOD, b"A\x004,a4@example.org,40", b"A5,a5\x00@example.org,50")
    report = load_tables(store, SPEC, tmp_path)
    found = rejects(tmp_path)
    assert found[["row", "column", "dropped", "reason"]].values.tolist() == [
        ["4", "acct", "row", "contains a NUL byte"],
        ["5", "email", "field", "contains a NUL byte"],
    ]
    assert report.rows_rejected == {"accounts": 1}
    assert sorted(emails(store)) == ["A1", "A2", "A3"]
    assert not store.entities()["key"].str.contains("\x00").any()


def graphfraud(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphfraud", *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def mapping(folder: Path, identifier: str) -> None:
    (folder / "m.yaml").write_text(
        "sources:\n  - {table: accounts, account: acct, identifiers: "
        f"[{{column: {identifier}, kind: {identifier.title()}}}]}}\n"
    )


def test_a_load_that_fails_creates_no_store(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    write(tmp_path / "export", *GOOD)
    mapping(tmp_path, "phone")
    done = graphfraud(
        "load", "export", "--mapping", "m.yaml", "--store", "duckdb:///new.duckdb", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "missing column(s) phone" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("new.duckdb*"))


def test_a_load_with_too_many_rejects_creates_no_store(tmp_path: Path) -> None:
    data = tmp_path / "export"
    data.mkdir()
    write(data, *GOOD, *[f"A{n},not-an-email,1".encode() for n in range(4, 10)])
    mapping(tmp_path, "email")
    failed = graphfraud(
        "load", "export", "--mapping", "m.yaml", "--store", "duckdb:///new.duckdb", cwd=tmp_path
    )
    assert failed.returncode == 2
    assert "accounts: 6 of 9 rows (67%)" in failed.stderr
    assert not list(tmp_path.glob("new.duckdb*"))
    assert (data / "rejects.csv").is_file()
    allowed = graphfraud(
        "load", "export", "--mapping", "m.yaml", "--store", "duckdb:///new.duckdb",
        "--max-rejects", "0.7", cwd=tmp_path,
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "new.duckdb").is_file()
