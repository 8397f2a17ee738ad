"""Sending rows to a running server's ``POST /api/events``: how ``graphfraud load --append``
reaches a store that a server holds.

Plain ``urllib``: one JSON request per batch needs no HTTP library at run time.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from api.deps import API_KEY_HEADER
from api.schemas import MAX_EVENT_ROWS, EventsAccepted
from graphfraud.errors import InputError, StoreUnavailable

#: Seconds to wait for one batch: the server loads it and re-detects what it touched.
TIMEOUT = 600.0


def send_rows(server: str, key: str, tables: Mapping[str, pd.DataFrame]) -> list[EventsAccepted]:
    """Send ``tables`` to the server at ``server`` in batches the endpoint takes.

    Returns
    -------
    list[EventsAccepted]
        The server's answer to each batch, in order.

    Raises
    ------
    InputError
        The server refused a batch (every row rejected, a table or column it does not know):
        its message, with each bad row and field. Batches before it were written.
    StoreUnavailable
        The server cannot be reached, or refused the key.
    """
    url = server.rstrip("/") + "/api/events"
    return [_post(url, key, batch) for batch in _batches(tables)]


def _batches(tables: Mapping[str, pd.DataFrame]) -> Iterator[dict[str, Any]]:
    """``{"tables": ...}`` bodies of at most :data:`MAX_EVENT_ROWS` rows, tables in order."""
    body: dict[str, list[dict[Any, Any]]] = {}
    size = 0
    for table, frame in tables.items():
        records = frame.to_dict("records")
        start = 0
        while start < len(records):
            rows = records[start : start + MAX_EVENT_ROWS - size]
            body.setdefault(table, []).extend(rows)
            start, size = start + len(rows), size + len(rows)
            if size == MAX_EVENT_ROWS:
                yield {"tables": body}
                body, size = {}, 0
    if body:
        yield {"tables": body}


def _post(url: str, key: str, body: dict[str, Any]) -> EventsAccepted:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", API_KEY_HEADER: key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return EventsAccepted.model_validate_json(answer.read())
    except urllib.error.HTTPError as exc:
        detail = _detail(exc)
        if exc.code in (401, 403):
            raise StoreUnavailable(f"the server at {url} refused the key: {detail}") from None
        raise InputError(f"the server at {url} refused the rows: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StoreUnavailable(f"cannot reach the server at {url}: {reason}") from None


def _detail(exc: urllib.error.HTTPError) -> str:
    """The error body's message and, for a 422, each bad row and field."""
    try:
        body = json.loads(exc.read())
    except ValueError:
        return f"HTTP {exc.code}"
    errors = [f"{error['field']}: {error['message']}" for error in body.get("errors", [])]
    return "; ".join([str(body.get("detail", f"HTTP {exc.code}")), *errors[:20]])
