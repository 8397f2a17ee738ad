"""Health: the service answers and so does its store."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import StoreDep, StorePool
from api.schemas import Health, ReadModelState, error_responses
from graphfraud import __version__

router = APIRouter(tags=["health"])


@router.get("/health", responses=error_responses(503))
def health(request: Request, store: StoreDep) -> Health:
    """Whether the service and its store answer (no API key needed)."""
    pool: StorePool = request.app.state.stores
    cached = pool.cached
    return Health(
        status="ok",
        engine=pool.engine,
        rings=store.count_rings(),
        read_model=ReadModelState.OFF if cached is None else ReadModelState(cached.state.value),
        version=__version__,
    )
