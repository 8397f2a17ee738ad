"""Health: the service answers and so does its store."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import StoreDep, StorePool
from api.reads import ReadModel
from api.schemas import Health, ReadModelState, error_responses
from graphfraud import __version__

router = APIRouter(tags=["health"])


@router.get("/health", responses=error_responses(503))
def health(request: Request, store: StoreDep) -> Health:
    """Whether the service and its store answer (no API key needed)."""
    pool: StorePool = request.app.state.stores
    read_model: ReadModel | None = request.app.state.read_model
    return Health(
        status="ok",
        engine=pool.engine,
        rings=store.count_rings(),
        read_model=read_model.state if read_model is not None else ReadModelState.OFF,
        version=__version__,
    )
