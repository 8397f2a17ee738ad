"""Links with integer codes for their ends, numbered in DuckDB: what detection reads.

Detection works on node numbers, not key strings. Hashing millions of key strings in pandas was
the costliest step of projecting a million accounts, and it grew faster than the links; a
database numbers them as it reads them. One SQL statement pair (``sql.CODE_NODES``,
``sql.CODED_LINKS``) does it for every source: the DuckDB store runs it on its own tables, and
:func:`code_links` runs it in an in-memory DuckDB on frames (a Neo4j store's links, or a frame a
caller built).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graphfraud.model import CODED_LINK_COLUMNS, CodedLinks, EntityKind
from graphfraud.store import sql


def coded_links(
    db: duckdb.DuckDBPyConnection, *, kinds: list[str] | None, since: Any
) -> tuple[pa.Table, pa.Table]:
    """Number the ``entities`` relation ``db`` sees, and read its ``links`` relation coded.

    Run on a connection of its own (a cursor): it registers the numbered nodes for the join.

    Returns
    -------
    tuple[pyarrow.Table, pyarrow.Table]
        Nodes (``kind``, ``key``) in code order, and the links with ``src`` and ``dst`` codes
        and the links' other columns.
    """
    nodes = db.sql(sql.CODED_NODES).to_arrow_table()
    codes = pa.array(np.arange(len(nodes), dtype=np.int64))
    db.register("coded_nodes", nodes.append_column("code", codes))
    try:
        links = db.sql(sql.CODED_LINKS, params={"kinds": kinds, "since": since}).to_arrow_table()
    finally:
        db.unregister("coded_nodes")
    return nodes, links


def code_links(links: pd.DataFrame, *, accounts: Iterable[str] = ()) -> CodedLinks:
    """Code a links frame (``LINK_COLUMNS``), numbering ``accounts`` too (even without links).

    Examples
    --------
    >>> links = pd.DataFrame({
    ...     "src_kind": "Account", "src_key": ["b", "a"], "kind": "USES_DEVICE",
    ...     "dst_kind": "Device", "dst_key": ["d1", "d1"], "first_seen": None,
    ...     "last_seen": None, "count": 1, "amount": None})
    >>> coded = code_links(links, accounts=["c"])
    >>> coded.nodes["key"].tolist(), coded.accounts
    (['a', 'b', 'c', 'd1'], slice(0, 3, None))
    >>> coded.links[["src", "dst"]].to_numpy().tolist()
    [[1, 3], [0, 3]]
    """
    ends = links[["src_kind", "src_key", "kind", "dst_kind", "dst_key"]].assign(
        position=np.arange(len(links), dtype=np.int64)
    )
    known = pd.DataFrame({"key": pd.Series(list(accounts), dtype=object)})
    with duckdb.connect() as db:
        db.register("incoming", ends)
        db.register("accounts", known.assign(kind=EntityKind.ACCOUNT.value))
        # The filters of the statement read ``last_seen``; a frame is coded whole.
        db.execute("CREATE VIEW links AS SELECT *, NULL::TIMESTAMP AS last_seen FROM incoming")
        db.execute(sql.FRAME_ENDS)
        nodes, found = coded_links(db, kinds=None, since=None)
    src = np.empty(len(links), dtype=np.int64)
    dst = np.empty(len(links), dtype=np.int64)
    position = found.column("position").to_numpy()
    src[position] = found.column("src").to_numpy()
    dst[position] = found.column("dst").to_numpy()
    frame = links.reset_index(drop=True)
    coded = pd.DataFrame(
        {
            "src": src,
            "kind": _sorted_categories(frame["kind"].astype("category")),
            "dst": dst,
            **{name: frame[name] for name in CODED_LINK_COLUMNS[3:]},
        }
    )
    return CodedLinks(nodes=_nodes(nodes), links=coded)


def from_tables(nodes: pa.Table, links: pa.Table) -> CodedLinks:
    """:class:`CodedLinks` from what :func:`coded_links` read from a store's own tables."""
    frame = _with_categories(links.select(list(CODED_LINK_COLUMNS)))
    return CodedLinks(nodes=_nodes(nodes), links=frame)


def _nodes(nodes: pa.Table) -> pd.DataFrame:
    return _with_categories(nodes)


def _with_categories(table: pa.Table) -> pd.DataFrame:
    """``table`` as a frame, its ``kind`` column categorical (dictionary-encoded by Arrow)."""
    column = table.schema.get_field_index("kind")
    encoded = table.set_column(column, "kind", pc.dictionary_encode(table.column("kind")))
    frame = encoded.to_pandas()
    frame["kind"] = _sorted_categories(frame["kind"])
    return frame


def _sorted_categories(values: pd.Series) -> pd.Series:
    """Categories in sorted order, whatever order they were met in: codes follow the data."""
    categories = values.cat.categories
    return values.cat.reorder_categories(sorted(categories, key=str))
