"""Health: the service answers and so does its store."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import StoreDep, StorePool, run_read
from api.schemas import Health, ReadModelState, error_responses, json_response
from graphfraud import __version__

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses=error_responses(503))
async def health(request: Request, store: StoreDep) -> Response:
    """Whether the service and its store answer (no API key needed).

    Load balancers poll this: once the read model is built the ring count comes from memory
    on the event loop, with no query and no thread hop."""
    pool: StorePool = request.app.state.stores
    cached = pool.cached
    return json_response(
        Health(
            status="ok",
            engine=pool.engine,
            rings=await run_read(store, lambda s: s.count_rings()),
            read_model=ReadModelState.OFF if cached is None else ReadModelState(cached.state.value),
            incremental=request.app.state.ingest.prepared,
            version=__version__,
        )
    )
