"""Rings: list with filters, detail with the explanation, the graph, the ring's history, and
the investigator's verdict (status, assignee, a note thread) with its audit trail."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from algorithms.typology import MIXED
from api.deps import InvestigatorDep, StoreDep, WriterDep, require_reader, run_read
from api.schemas import (
    AssigneeUpdate,
    AuditRecord,
    Explanation,
    GraphNode,
    NewNote,
    NoteEntry,
    RingDetail,
    RingGraph,
    RingHistoryRecord,
    RingList,
    RingSort,
    RingState,
    RingSummary,
    SortOrder,
    StatusUpdate,
    error_responses,
    links_of,
)
from graphfraud.explain import explain
from graphfraud.model import TYPOLOGIES, Page, Ring, RingFilter, RingStatus
from graphfraud.network import ring_network
from graphfraud.store import GraphStore
from graphfraud.store.cached import CachedStore

#: The typologies a ring can be given.
RING_TYPOLOGIES: tuple[str, ...] = (*TYPOLOGIES, MIXED)

router = APIRouter(prefix="/api/rings", tags=["rings"], dependencies=[Depends(require_reader)])

MaxNodes = Annotated[
    int, Query(ge=1, le=5000, description="Draw at most this many nodes, most important first.")
]
RingId = Annotated[
    str,
    Path(description="A ring's id as detection gives it: 'R-' and ten hex digits.",
         examples=["R-fda17b9995"]),
]  # fmt: skip
Surroundings = Annotated[
    bool, Query(description="Also show everything one link from a member, outside the ring.")
]


@router.get("", responses=error_responses(401, 422, 503))
async def list_rings(
    store: StoreDep,
    min_score: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    typology: Annotated[
        str | None,
        Query(
            max_length=100,
            description=f"One of: {', '.join(RING_TYPOLOGIES)}.",
            examples=["device_farm"],
            json_schema_extra={"enum": list(RING_TYPOLOGIES)},
        ),
    ] = None,
    status: RingStatus | None = None,
    min_size: Annotated[int | None, Query(ge=0, le=10**9)] = None,
    max_size: Annotated[int | None, Query(ge=0, le=10**9)] = None,
    account: Annotated[
        str | None, Query(max_length=500, description="Only rings this account is in.")
    ] = None,
    assignee: Annotated[
        str | None, Query(max_length=200, description="Only rings given to this investigator.")
    ] = None,
    state: Annotated[
        RingState, Query(description="Rings the latest run found, those it retired, or all.")
    ] = RingState.ACTIVE,
    sort: RingSort = RingSort.SCORE,
    order: SortOrder = SortOrder.DESC,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> RingList:
    """Rings matching every filter given, sorted and paginated."""
    if typology is not None and typology not in RING_TYPOLOGIES:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "typology"),
                    "msg": f"unknown typology; use one of {', '.join(RING_TYPOLOGIES)}",
                    "type": "enum",
                }
            ]
        )
    flt = RingFilter(
        min_score=min_score,
        typology=typology,
        status=status,
        min_size=min_size,
        max_size=max_size,
        account=account,
        assignee=assignee,
        active=state.active,
    )
    page = Page(offset=offset, limit=limit, sort=sort.value, descending=order is SortOrder.DESC)
    found = await run_read(store, lambda s: s.rings(flt, page))
    return RingList(
        total=found.total,
        offset=offset,
        limit=limit,
        rings=[RingSummary.from_ring(ring) for ring in found.rings],
    )


class RenderedRings:
    """Ring details already rendered, by ring id, with the ring object each was made from.

    A caching store hands out the same ring object until the ring changes, so a body made from
    the object it holds now is current; anything else is rendered afresh.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, tuple[Ring, bytes]] = {}

    def current(self, store: GraphStore, ring_id: str) -> bytes | None:
        """The body of a ring whose rendering is current; None when it must be rendered."""
        ring = store.ring_in_memory(ring_id) if isinstance(store, CachedStore) else None
        done = self._done.get(ring_id)
        return done[1] if ring is not None and done is not None and done[0] is ring else None

    def render(self, store: GraphStore, ring_id: str) -> bytes:
        """Render a ring's detail (reading it may block: call from a worker thread)."""
        ring = store.ring(ring_id)
        body = render_detail(ring)
        if isinstance(store, CachedStore) and store.ring_in_memory(ring_id) is ring:
            with self._lock:
                self._done[ring_id] = (ring, body)
        return body


@router.get("/{ring_id}", response_model=RingDetail, responses=error_responses(401, 404, 422, 503))
async def get_ring(request: Request, ring_id: RingId, store: StoreDep) -> Response:
    """A ring with its members, evidence and explanation."""
    rendered: RenderedRings = request.app.state.rendered
    body = rendered.current(store, ring_id)
    if body is None:
        # Explaining a big ring takes milliseconds: never on the event loop.
        body = await run_in_threadpool(rendered.render, store, ring_id)
    return Response(body, media_type="application/json")


def render_detail(ring: Ring) -> bytes:
    """A ring's detail as the JSON body of :func:`get_ring`."""
    detail = RingDetail.from_parts(ring, Explanation.from_explanation(explain(ring)))
    return detail.model_dump_json().encode()


@router.get("/{ring_id}/graph", responses=error_responses(401, 404, 422, 503))
def get_ring_graph(
    ring_id: RingId,
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


@router.get("/{ring_id}/history", responses=error_responses(401, 404, 422, 503))
def get_ring_history(ring_id: RingId, store: StoreDep) -> RingHistoryRecord:
    """When detection first found the ring and last saw it, and what each run did to it:
    new, grown, shrunk, retired; who joined and who left."""
    return RingHistoryRecord.model_validate(store.ring_history(ring_id))


# -- the investigator's verdict --------------------------------------------------------------


@router.put("/{ring_id}/status", responses=error_responses(400, 401, 403, 404, 422, 503))
def set_ring_status(
    ring_id: RingId, update: StatusUpdate, store: WriterDep, caller: InvestigatorDep
) -> RingSummary:
    """Record an investigator's verdict (confirmed, benign, under review), with a note.

    The note is added to the ring's thread; the change goes into the audit trail under the
    name of the caller's key. Detection never changes a verdict.
    """
    ring = store.set_ring_status(ring_id, update.status, actor=caller.name, note=update.note)
    return RingSummary.from_ring(ring)


@router.put("/{ring_id}/assignee", responses=error_responses(400, 401, 403, 404, 422, 503))
def assign_ring(
    ring_id: RingId, update: AssigneeUpdate, store: WriterDep, caller: InvestigatorDep
) -> RingSummary:
    """Give the ring to an investigator (or to nobody); recorded in the audit trail."""
    return RingSummary.from_ring(store.assign_ring(ring_id, update.assignee, actor=caller.name))


@router.get("/{ring_id}/notes", responses=error_responses(401, 404, 422, 503))
def list_notes(ring_id: RingId, store: StoreDep) -> list[NoteEntry]:
    """The ring's note thread, oldest first."""
    return [NoteEntry.model_validate(note) for note in store.notes(ring_id)]


@router.post(
    "/{ring_id}/notes",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 404, 422, 503),
)
def add_note(
    ring_id: RingId, note: NewNote, store: WriterDep, caller: InvestigatorDep
) -> NoteEntry:
    """Add a note to the ring's thread (notes are never replaced or removed)."""
    return NoteEntry.model_validate(store.add_note(ring_id, note.text, actor=caller.name))


@router.get("/{ring_id}/audit", responses=error_responses(401, 404, 422, 503))
def ring_audit(ring_id: RingId, store: StoreDep) -> list[AuditRecord]:
    """Every change to the ring's verdict, oldest first: who, when, which field, old → new."""
    return [AuditRecord.model_validate(entry) for entry in store.audit(ring_id=ring_id)]
