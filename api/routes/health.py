"""Health: the service answers and so does its store."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import StoreDep, StorePool
from api.schemas import Health, error_responses
from graphfraud import __version__
from graphfraud.model import Page

router = APIRouter(tags=["health"])


@router.get("/health", responses=error_responses(503))
def health(request: Request, store: StoreDep) -> Health:
    """Whether the service and its store answer (no API key needed)."""
    pool: StorePool = request.app.state.stores
    rings = store.rings(page=Page(limit=1)).total
    return Health(status="ok", engine=pool.engine, rings=rings, version=__version__)
