"""How ``graphfraud load --append`` splits rows into requests the events endpoint takes."""

from __future__ import annotations

import pandas as pd

from api.client import _batches
from api.schemas import MAX_EVENT_ROWS


def _rows(prefix: str, count: int) -> pd.DataFrame:
    return pd.DataFrame({"account_id": [f"{prefix}{i}" for i in range(count)]})


def test_rows_are_sent_in_order_in_batches_no_larger_than_the_endpoint_takes() -> None:
    tables = {"accounts": _rows("a", MAX_EVENT_ROWS + 5), "logins": _rows("l", MAX_EVENT_ROWS)}

    batches = list(_batches(tables))

    sizes = [sum(len(rows) for rows in batch["tables"].values()) for batch in batches]
    assert sizes == [MAX_EVENT_ROWS, MAX_EVENT_ROWS, 5]
    sent = [
        (table, row["account_id"])
        for batch in batches
        for table, rows in batch["tables"].items()
        for row in rows
    ]
    expected = [(table, key) for table, frame in tables.items() for key in frame["account_id"]]
    assert sent == expected


def test_a_small_append_is_one_request() -> None:
    batches = list(_batches({"logins": _rows("l", 3), "transfers": _rows("t", 2)}))
    assert [{table: len(rows) for table, rows in b["tables"].items()} for b in batches] == [
        {"logins": 3, "transfers": 2}
    ]
