"""HTML pages for investigators: the index of top rings and each ring's interactive view.

A browser cannot send a header, so these pages also take the API key as ``?key=`` and carry it
in the links they hold.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import API_KEY_QUERY, StoreDep, require_page_reader, run_read
from api.routes.rings import MaxNodes, Surroundings
from api.schemas import error_responses
from api.views import render_index, render_ring_view
from graphfraud.explain import explain
from graphfraud.model import Page, RingFilter
from graphfraud.network import ring_network

router = APIRouter(tags=["pages"], dependencies=[Depends(require_page_reader)])

HTML = {"content": {"text/html": {}}, "description": "An HTML page."}


@router.get(
    "/",
    response_class=HTMLResponse,
    responses={200: HTML, **error_responses(401, 422, 503, page=True)},
)
async def index_page(
    request: Request,
    store: StoreDep,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> HTMLResponse:
    """The rings, best score first, each linking to its interactive view."""
    found = await run_read(store, lambda s: s.rings(RingFilter(), Page(offset=offset, limit=limit)))
    html = render_index(
        found, key=request.query_params.get(API_KEY_QUERY), offset=offset, limit=limit
    )
    return HTMLResponse(html)


@router.get(
    "/rings/{ring_id}/view",
    response_class=HTMLResponse,
    responses={200: HTML, **error_responses(401, 404, 422, 503, page=True)},
)
def ring_view_page(
    request: Request,
    ring_id: str,
    store: StoreDep,
    surroundings: Surroundings = False,
    max_nodes: MaxNodes = 400,
) -> HTMLResponse:
    """The ring as an interactive graph: hover for evidence, drag, zoom."""
    ring = store.ring(ring_id)
    network = ring_network(store, ring, surroundings=surroundings, max_nodes=max_nodes)
    html = render_ring_view(
        network,
        summary=explain(ring).summary,
        key=request.query_params.get(API_KEY_QUERY),
        surroundings=surroundings,
    )
    return HTMLResponse(html)
