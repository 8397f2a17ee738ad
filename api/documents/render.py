"""What every document shares: its templates, charts as images, PDF, CSV and zip files.

Documents are HTML first, rendered from this package's Jinja templates
(``api/templates/documents``); the PDF is the same HTML laid out by WeasyPrint, so the two never
disagree. Charts are matplotlib figures inlined as PNG ``data:`` URIs: a document is one file
that opens offline and prints as it shows. Bundles are zip files with a ``manifest.json`` that
maps every other file's path to its SHA-256.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any

import matplotlib

# No display on a server: draw into memory only. Chosen before pyplot is imported anywhere.
matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.figure import Figure

#: The name of the file in every bundle that lists the others with their hashes.
MANIFEST = "manifest.json"
#: Chart resolution: sharp on paper without making the HTML heavy.
CHART_DPI = 150


@cache
def templates() -> Environment:
    """The documents' Jinja environment, with filters for numbers, money and times."""
    env = Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["money"] = money
    env.filters["number"] = number
    env.filters["text"] = text
    return env


def render_html(template: str, **context: Any) -> str:
    """Render one of ``api/templates/documents/`` with ``context``."""
    return templates().get_template(f"documents/{template}").render(**context)


def html_to_pdf(html: str) -> bytes:
    """The PDF of a document's HTML (A4, the page rules in its style sheet).

    WeasyPrint lays out HTML and CSS for print itself (no browser, no network): the PDF is the
    HTML page as printed. Every image is inlined, so there is nothing to fetch.
    """
    # Imported here: it loads Pango through cffi, a cost only documents should pay.
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    assert pdf is not None, "write_pdf without a target returns the bytes"
    return bytes(pdf)


@contextmanager
def figure(width: float, height: float) -> Iterator[Figure]:
    """A matplotlib figure of ``width`` by ``height`` inches, closed afterwards."""
    fig = plt.figure(figsize=(width, height), dpi=CHART_DPI)
    try:
        yield fig
    finally:
        plt.close(fig)


def png_data_uri(fig: Figure) -> str:
    """A figure as a PNG ``data:`` URI, for an ``<img src>``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=CHART_DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as UTF-8 CSV (times as ISO 8601, lists as JSON arrays: their items may hold
    spaces and commas)."""
    out = frame.copy()
    for name in out.columns:
        if out[name].map(lambda v: isinstance(v, list | tuple)).any():
            out[name] = out[name].map(
                lambda v: (
                    json.dumps(list(v), ensure_ascii=False) if isinstance(v, list | tuple) else v
                )
            )
    return out.to_csv(
        index=False, date_format="%Y-%m-%dT%H:%M:%S", quoting=csv.QUOTE_MINIMAL
    ).encode()


def zip_with_manifest(files: Mapping[str, bytes], *, about: Mapping[str, Any]) -> bytes:
    """A zip of ``files`` (path → content) and ``manifest.json``.

    The manifest holds ``about`` (what the bundle is, when and how it was made) and ``files``:
    every other path in the zip with its SHA-256 and size, so a recipient can tell that nothing
    was changed, added or left out.
    """
    if MANIFEST in files:
        raise ValueError(f"{MANIFEST} is written by the bundle itself")
    manifest = {
        **about,
        "files": {
            path: {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            for path, content in sorted(files.items())
        },
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path, content in sorted(files.items()):
            bundle.writestr(path, content)
        bundle.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return buffer.getvalue()


# -- filters ---------------------------------------------------------------------------------


def when(value: datetime | pd.Timestamp | None) -> str:
    """A time as ``2026-03-04 10:22 UTC``; a dash when there is none."""
    if value is None or pd.isna(value):
        return "—"
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def day(value: datetime | pd.Timestamp | None) -> str:
    """A time as its day, ``2026-03-04``; a dash when there is none."""
    if value is None or pd.isna(value):
        return "—"
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def money(value: float | None) -> str:
    """An amount as ``1,730,861.44``; a dash when there is none."""
    return "—" if value is None or pd.isna(value) else f"{value:,.2f}"


def number(value: float | None) -> str:
    """A count as ``12,345``; a dash when there is none."""
    return "—" if value is None or pd.isna(value) else f"{value:,.0f}"


def text(value: object) -> str:
    """A value as text; a dash for none (None or a missing value of pandas)."""
    return "—" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
