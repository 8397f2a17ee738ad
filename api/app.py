"""The application factory: routers, the store pool, detection jobs and error handling.

Every error a caller can cause becomes a 4xx with a JSON body saying what was wrong
(:class:`api.schemas.ErrorBody`); a store that cannot answer is a 503. No stack trace is ever
sent.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.routing import Match

from api.batching import IdentifierBatcher
from api.csrf import CsrfGuard
from api.deps import API_KEY_QUERY, Role, StorePool, reject_unknown_parameters
from api.ingest import Ingest
from api.jobs import DetectionJobs
from api.routes import (
    accounts,
    audit,
    documents,
    events,
    health,
    identifiers,
    jobs,
    pages,
    rings,
    risk,
    runs,
    settings_info,
)
from api.routes.rings import RenderedRings
from api.schemas import ErrorBody, FieldError
from graphfraud import __version__
from graphfraud.errors import ConfigError, InputError, NotFound, StoreError
from graphfraud.settings import Settings, get_settings, named_keys

DESCRIPTION = """\
Fraud rings found in the marketplace graph, the evidence behind them, and how accounts are
linked. Send an API key in the `X-API-Key` header: a read-only key reads, an investigator key
may also change a ring's verdict (status, assignee, notes) and start detection; every change
is recorded in the audit trail under the key's name. The HTML pages (`/` and the ring views)
also take the key as `?key=` so a browser can open them.
"""

#: Only big answers are compressed (vis-network's script is ~700 kB); compressing
#: every JSON answer would cost more CPU than the bytes it saves on a local network.
GZIP_ABOVE_BYTES = 200_000


def create_app(settings: Settings | None = None, store_url: str | None = None) -> FastAPI:
    """Build the API application.

    Parameters
    ----------
    settings
        Settings (API keys, store credentials, detection); default: :func:`get_settings`.
    store_url
        The store to serve; default: the ``store_url`` setting. Stores are opened on first
        use, so the app starts even when the store is down (requests then get a 503).

    Returns
    -------
    FastAPI
        The application, ready for an ASGI server.
    """
    settings = settings or get_settings()
    stores = StorePool(store_url or settings.store_url, settings=settings)
    # Only a store the app owns can be read from memory: others may be changed behind its back.
    owned = stores.engine == "duckdb" and settings.api_read_model
    detections = DetectionJobs(stores, settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owned:
            # The global facts of incremental re-detection are made while nothing is appended.
            stores.cache(then=app.state.ingest.prepare)
        yield
        detections.close()
        stores.close()

    # Swagger UI and ReDoc from assets packaged with fastapi-offline: the docs pages must work
    # on an investigator's machine with no way to a CDN.
    app = FastAPIOffline(
        title="graphfraud",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_parameters)],
    )
    app.state.settings = settings
    app.state.stores = stores
    app.state.rendered = RenderedRings()
    app.state.batcher = IdentifierBatcher()
    app.state.jobs = detections
    app.state.ingest = Ingest(settings)
    app.state.csrf = CsrfGuard()
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_ABOVE_BYTES)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    for error, status in (
        (InputError, 400),
        (NotFound, 404),
        (StoreError, 503),
        (ConfigError, 503),
    ):
        app.add_exception_handler(error, _answer_with(status))
    routers = (rings, accounts, risk, identifiers, jobs, runs, settings_info, audit, health, events)
    for module in (*routers, pages, documents):
        app.include_router(module.router)
    app.include_router(pages.assets)
    return app


def with_session_keys(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """``settings`` with a fresh read-only, investigator and ingest key if it configures no key
    at all.

    Returns the settings to serve with and the keys made (role → key; empty when the settings
    had keys). The keys last as long as the process: set ``GRAPHFRAUD_API_READ_KEYS`` and
    ``GRAPHFRAUD_API_INVESTIGATOR_KEYS`` for keys that survive a restart.
    """
    if settings.api_read_keys or settings.api_investigator_keys or settings.api_ingest_keys:
        return settings, {}
    made = {role.value: secrets.token_urlsafe(18) for role in Role}
    keyed = settings.model_copy(
        update={
            "api_read_keys": named_keys({made[Role.READER]: "session reader"}),
            "api_investigator_keys": named_keys({made[Role.INVESTIGATOR]: "session investigator"}),
            "api_ingest_keys": named_keys({made[Role.INGEST]: "session ingest"}),
        }
    )
    return keyed, made


def _for_a_browser(request: Request) -> bool:
    """Whether an error should be a page: a browser navigating to a page (not the JSON API,
    and not a script of a page fetching JSON)."""
    path = request.url.path
    return not path.startswith("/api") and "text/html" in request.headers.get("accept", "")


def _error_page(request: Request, status: int, message: str) -> HTMLResponse:
    from api.views import render_error  # the pages' templates load on the first page error

    html = render_error(status, message, key=request.query_params.get(API_KEY_QUERY))
    return HTMLResponse(html, status_code=status)


def _answer_with(status: int) -> Callable[[Request, Any], Response]:
    def handle(request: Request, exc: Any) -> Response:
        if _for_a_browser(request):
            return _error_page(request, status, str(exc))
        return JSONResponse(ErrorBody(detail=str(exc)).model_dump(), status_code=status)

    return handle


def _invalid_request(request: Request, exc: Any) -> Response:
    errors = [
        FieldError(
            field=".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0]),
            location=str(error["loc"][0]),
            message=str(error["msg"]),
        )
        for error in exc.errors()
    ]
    detail = "invalid request: " + "; ".join(f"{e.field}: {e.message}" for e in errors)
    if _for_a_browser(request):
        return _error_page(request, 422, detail)
    return JSONResponse(ErrorBody(detail=detail, errors=errors).model_dump(), status_code=422)


async def _http_error(request: Request, exc: Any) -> Response:
    if exc.status_code == 405:
        # Starlette names only the methods of the first route on the path; a path served by
        # several routes (GET and POST /api/jobs) allows all of theirs.
        allowed = {
            method
            for route in request.app.routes
            if route.matches(request.scope)[0] is Match.PARTIAL
            for method in getattr(route, "methods", None) or ()
        }
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(allowed))}
    if _for_a_browser(request) and exc.status_code >= 400:
        return _error_page(request, exc.status_code, str(exc.detail))
    return await http_exception_handler(request, exc)
