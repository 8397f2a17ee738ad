"""Rings: list with filters, detail with the explanation, the graph, the investigator's verdict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import ReadsDep, StoreDep, require_investigator, require_reader
from api.reads import ReadModel
from api.schemas import (
    Explanation,
    GraphNode,
    RingDetail,
    RingGraph,
    RingList,
    RingSort,
    RingSummary,
    SortOrder,
    StatusUpdate,
    error_responses,
    links_of,
)
from graphfraud.explain import explain
from graphfraud.model import Page, Ring, RingFilter, RingStatus
from graphfraud.network import ring_network

router = APIRouter(prefix="/api/rings", tags=["rings"], dependencies=[Depends(require_reader)])

MaxNodes = Annotated[
    int, Query(ge=1, le=5000, description="Draw at most this many nodes, most important first.")
]
Surroundings = Annotated[
    bool, Query(description="Also show everything one link from a member, outside the ring.")
]


@router.get("", responses=error_responses(401, 422, 503))
async def list_rings(
    reads: ReadsDep,
    min_score: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    typology: Annotated[str | None, Query(max_length=100)] = None,
    status: RingStatus | None = None,
    min_size: Annotated[int | None, Query(ge=0, le=10**9)] = None,
    max_size: Annotated[int | None, Query(ge=0, le=10**9)] = None,
    account: Annotated[
        str | None, Query(max_length=500, description="Only rings this account is in.")
    ] = None,
    sort: RingSort = RingSort.SCORE,
    order: SortOrder = SortOrder.DESC,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> RingList:
    """Active rings matching every filter given, sorted and paginated."""
    flt = RingFilter(
        min_score=min_score,
        typology=typology,
        status=status,
        min_size=min_size,
        max_size=max_size,
        account=account,
    )
    page = Page(offset=offset, limit=limit, sort=sort.value, descending=order is SortOrder.DESC)
    found = await reads.run(lambda r: r.rings(flt, page))
    return RingList(
        total=found.total,
        offset=offset,
        limit=limit,
        rings=[RingSummary.from_ring(ring) for ring in found.rings],
    )


@router.get("/{ring_id}", response_model=RingDetail, responses=error_responses(401, 404, 422, 503))
async def get_ring(ring_id: str, reads: ReadsDep) -> Response:
    """A ring with its members, evidence and explanation."""
    body = await reads.run(lambda r: r.rendered(ring_id, render_detail))
    return Response(body, media_type="application/json")


def render_detail(ring: Ring) -> bytes:
    """A ring's detail as the JSON body of :func:`get_ring`."""
    detail = RingDetail.from_parts(ring, Explanation.from_explanation(explain(ring)))
    return detail.model_dump_json().encode()


@router.get("/{ring_id}/graph", responses=error_responses(401, 404, 422, 503))
def get_ring_graph(
    ring_id: str,
    store: StoreDep,
    surroundings: Surroundings = False,
    max_nodes: MaxNodes = 400,
) -> RingGraph:
    """The ring as nodes (with roles) and edges, as the ring view draws it."""
    network = ring_network(
        store, store.ring(ring_id), surroundings=surroundings, max_nodes=max_nodes
    )
    return RingGraph(
        ring_id=ring_id,
        nodes=[GraphNode.from_row(row) for row in network.nodes.itertuples(index=False)],
        edges=links_of(network.edges),
        total_nodes=network.total_nodes,
        truncated=network.truncated,
    )


@router.put(
    "/{ring_id}/status",
    dependencies=[Depends(require_investigator)],
    responses=error_responses(400, 401, 403, 404, 422, 503),
)
def set_ring_status(
    request: Request, ring_id: str, update: StatusUpdate, store: StoreDep
) -> RingSummary:
    """Record an investigator's verdict (confirmed, benign, under review) with a note.

    The verdict stays with the ring when detection runs again and finds it.
    """
    ring = store.set_ring_status(ring_id, update.status, update.note)
    read_model: ReadModel | None = request.app.state.read_model
    if read_model is not None:
        read_model.reload_rings(store)
    return RingSummary.from_ring(ring)
