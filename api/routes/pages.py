"""HTML pages for investigators: the index of rings with its filters, search, each ring's
interactive view with its verdict forms, and the JSON the view fetches.

A browser cannot send a header, so these pages also take the API key as ``?key=`` and carry it
in the links and form actions they hold. Forms are protected against cross-site request
forgery (:mod:`api.csrf`); after a change the browser is sent back to the ring's page, which
shows the change in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.csrf import SESSION_COOKIE, CsrfGuard
from api.deps import (
    API_KEY_HEADER,
    API_KEY_QUERY,
    Caller,
    Role,
    SettingsDep,
    StoreDep,
    WriterDep,
    require_page_reader,
    run_read,
)
from api.routes.rings import MaxNodes, Surroundings, get_ring_graph
from api.schemas import RingGraph, error_responses, view_path
from api.views import (
    VIS_SCRIPT_URL,
    IndexView,
    Verdicts,
    page_url,
    render_expansion,
    render_index,
    render_ring_view,
    render_search,
    vis_script,
)
from api.workbench import (
    GROUPED_FROM_MEMBERS,
    IndexQuery,
    find,
    identifier_users,
    neighbours,
)
from graphfraud.errors import InputError
from graphfraud.explain import explain
from graphfraud.model import TYPOLOGIES, EntityRef, RingStatus
from graphfraud.network import RingNetwork, ring_network
from graphfraud.store import GraphStore

router = APIRouter(tags=["pages"], dependencies=[Depends(require_page_reader)])
#: The pages' static assets: library code, public, the same for every key.
assets = APIRouter(include_in_schema=False)

PageCaller = Annotated[Caller, Depends(require_page_reader)]
HTML = {"content": {"text/html": {}}, "description": "An HTML page."}
#: Pages hold the key in their URL: no Referer may carry it to another site, no other site may
#: frame the forms, and no cache may keep them.
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
#: The case file's exports (``/api/rings/{id}/case-file``): (label, format).
EXPORTS = (("case file", "html"), ("PDF", "pdf"), ("CSV bundle", "csv"))
VERDICT_FORM_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "Back to the ring's page."},
    **error_responses(400, 401, 403, 404, 422, 503, page=True),
}
Text = Annotated[str | None, Query(description="As typed; a bad value is explained on the page.")]
FormToken = Annotated[str, Form(description="The page's cross-site request forgery token.")]


def _key(request: Request) -> str | None:
    return request.query_params.get(API_KEY_QUERY) or request.headers.get(API_KEY_HEADER)


def _page(request: Request, build: Callable[[str], str]) -> HTMLResponse:
    """The page ``build`` makes from the session's form token, with the session cookie set
    when the browser has none yet."""
    guard: CsrfGuard = request.app.state.csrf
    session = request.cookies.get(SESSION_COOKIE) or guard.new_session()
    response = HTMLResponse(build(guard.token(session, _key(request) or "")), headers=PAGE_HEADERS)
    if session != request.cookies.get(SESSION_COOKIE):
        guard.keep_session(response, session)
    return response


def _checked_form(request: Request, caller: Caller, token: str, *, change: bool) -> None:
    """Refuse a form without a valid token, or one changing a ring sent with a read-only key."""
    request.app.state.csrf.check(request, token, _key(request) or "")
    if change and caller.role is not Role.INVESTIGATOR:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this API key is read-only: changing a ring needs an investigator key",
        )


def _back_to_ring(request: Request, ring_id: str) -> RedirectResponse:
    # 303: the browser follows with a GET, so a reload never sends the form twice.
    url = page_url(view_path(ring_id), request.query_params.get(API_KEY_QUERY))
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)


@assets.get(VIS_SCRIPT_URL)
async def vis_network_script() -> Response:
    """vis-network's script (the version is in the path: a browser may keep it for a year)."""
    return Response(
        vis_script(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get(
    "/",
    response_class=HTMLResponse,
    responses={200: HTML, **error_responses(401, 422, 503, page=True)},
)
async def index_page(
    request: Request,
    store: StoreDep,
    typology: Text = None,
    status: Text = None,
    min_score: Text = None,
    min_size: Text = None,
    max_size: Text = None,
    assignee: Text = None,
    detected_since: Text = None,
    sort: Text = None,
    order: Text = None,
    offset: Text = None,
    limit: Text = None,
) -> HTMLResponse:
    """The rings matching the filters, sorted and paginated, each linking to its view.

    Filters are as typed in the page's form: a value that cannot be used is explained on the
    page, and the rings are listed without it.
    """
    given = {
        "typology": typology, "status": status, "min_score": min_score, "min_size": min_size,
        "max_size": max_size, "assignee": assignee, "detected_since": detected_since,
        "sort": sort, "order": order, "offset": offset, "limit": limit,
    }  # fmt: skip
    index = await run_read(store, lambda s: s.ring_index())
    typologies = sorted(set(TYPOLOGIES) | set(index["typology"]))
    query = IndexQuery.read(given, typologies=typologies)
    found = await run_read(store, lambda s: s.rings(query.filter, query.page))
    assignees = sorted({str(name) for name in index["assignee"] if isinstance(name, str)})

    def build(token: str) -> str:
        view = IndexView(query.given, query.errors, typologies, assignees, token)
        return render_index(
            found,
            view=view,
            key=request.query_params.get(API_KEY_QUERY),
            offset=query.page.offset,
            limit=query.page.limit,
        )

    return _page(request, build)


@router.post(
    "/search",
    response_class=HTMLResponse,
    responses={
        200: HTML,
        303: {"description": "The ring found."},
        **error_responses(401, 403, 422, 503, page=True),
    },
)
def search_page(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    caller: PageCaller,
    q: Annotated[str, Form(min_length=1, max_length=1000)],
    csrf_token: FormToken = "",
) -> Response:
    """Find a ring by id, an account by key, or any identifier as the loader would have
    normalised it (a card number by its fingerprint). A ring found alone opens directly.

    The search is a POST so that what was typed (a card number) stays out of URLs.
    """
    _checked_form(request, caller, csrf_token, change=False)
    key = request.query_params.get(API_KEY_QUERY)
    hits, note = find(store, q.strip(), settings=settings)
    if len(hits) == 1 and hits[0].ring_id and hits[0].what == "ring":
        return _back_to_ring(request, hits[0].ring_id)
    return _page(
        request, lambda token: render_search(q, hits, key=key, form_token=token, note=note)
    )


@router.get(
    "/rings/{ring_id}/view",
    response_class=HTMLResponse,
    responses={200: HTML, **error_responses(401, 404, 422, 503, page=True)},
)
def ring_view_page(
    request: Request,
    ring_id: str,
    store: StoreDep,
    caller: PageCaller,
    surroundings: Surroundings = False,
    max_nodes: MaxNodes = 400,
    view: Annotated[
        Literal["grouped", "plain"] | None,
        Query(description="Members grouped by what they share, or each drawn; by size if unset."),
    ] = None,
) -> HTMLResponse:
    """The ring as an interactive graph (expand, filter, highlight, timeline), with its
    verdict, note thread and audit trail, and forms to change them for an investigator."""
    ring = store.ring(ring_id)
    network = _network(store, ring_id, surroundings=surroundings, max_nodes=max_nodes)
    grouped = view == "grouped" if view else ring.size > GROUPED_FROM_MEMBERS
    notes, audit = store.notes(ring_id), store.audit(ring_id=ring_id)
    key = request.query_params.get(API_KEY_QUERY)
    case_file = f"/api/rings/{quote(ring_id, safe='')}/case-file"
    exports = [(label, page_url(case_file, key, format=fmt)) for label, fmt in EXPORTS]

    def build(token: str) -> str:
        return render_ring_view(
            network,
            summary=explain(ring).summary,
            verdicts=Verdicts(notes, audit, token, caller.role is Role.INVESTIGATOR),
            key=key,
            surroundings=surroundings,
            grouped=grouped,
            exports=exports,
        )

    return _page(request, build)


def _network(store: GraphStore, ring_id: str, *, surroundings: bool, max_nodes: int) -> RingNetwork:
    network = ring_network(
        store, store.ring(ring_id), surroundings=surroundings, max_nodes=max_nodes
    )
    outside = network.nodes["role"] == "outside"
    if not outside.any():
        return network
    # Identifiers outside the ring were judged by no run: count their users, so a hub among
    # them is drawn as one.
    users = identifier_users(store, network.nodes[outside])
    counted = network.nodes["accounts"].copy()
    for position in network.nodes.index[outside]:
        found = users.get(str(network.nodes.at[position, "id"]))
        if found is not None:
            counted.at[position] = found
    return RingNetwork(
        network.ring, network.nodes.assign(accounts=counted), network.edges, network.total_nodes
    )


@router.get("/rings/{ring_id}/graph.json", responses=error_responses(401, 404, 422, 503))
def ring_graph_json(
    ring_id: str, store: StoreDep, surroundings: Surroundings = False, max_nodes: MaxNodes = 400
) -> RingGraph:
    """The ring's graph as JSON (as ``/api/rings/{ring_id}/graph``), for the page's link: a
    browser opening it sends the page's ``?key=``."""
    return get_ring_graph(ring_id, store, surroundings=surroundings, max_nodes=max_nodes)


@router.get("/rings/{ring_id}/neighbours", responses=error_responses(400, 401, 404, 422, 503))
def ring_neighbours(
    ring_id: str,
    store: StoreDep,
    node: Annotated[
        str,
        Query(
            min_length=3,
            max_length=1000,
            pattern=r"^[A-Z][A-Za-z0-9_]*:.+$",
            description="The node to expand, 'Kind:key'.",
        ),
    ],
    hubs: Annotated[
        bool,
        Query(
            description="Show a hub's users (up to ten times as many) instead of one counted node."
        ),
    ] = False,
) -> dict[str, object]:
    """The nodes and links one link from ``node``, drawn as the ring's view draws them, for
    the view to add when a node is expanded."""
    ref = EntityRef.parse(node)
    network = ring_network(store, store.ring(ring_id))
    found, links, hidden = neighbours(store, network, ref, hubs=hubs)
    return render_expansion(
        RingNetwork(network.ring, found, links, len(found)),
        parent=f"{ref.kind}:{ref.key}",
        hidden=hidden,
    )


@router.post(
    "/rings/{ring_id}/status",
    responses=VERDICT_FORM_RESPONSES,
)
def post_status(
    request: Request,
    ring_id: str,
    store: WriterDep,
    caller: PageCaller,
    status: Annotated[RingStatus, Form()],
    csrf_token: FormToken = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    """Set the ring's status from the page's form (a note given joins the thread)."""
    _checked_form(request, caller, csrf_token, change=True)
    store.set_ring_status(ring_id, status, actor=caller.name, note=note.strip() or None)
    return _back_to_ring(request, ring_id)


@router.post(
    "/rings/{ring_id}/assignee",
    responses=VERDICT_FORM_RESPONSES,
)
def post_assignee(
    request: Request,
    ring_id: str,
    store: WriterDep,
    caller: PageCaller,
    csrf_token: FormToken = "",
    assignee: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """Give the ring to an investigator (empty: to nobody) from the page's form."""
    _checked_form(request, caller, csrf_token, change=True)
    store.assign_ring(ring_id, assignee, actor=caller.name)
    return _back_to_ring(request, ring_id)


@router.post(
    "/rings/{ring_id}/notes",
    responses=VERDICT_FORM_RESPONSES,
)
def post_note(
    request: Request,
    ring_id: str,
    store: WriterDep,
    caller: PageCaller,
    text: Annotated[str, Form(min_length=1, max_length=4000)],
    csrf_token: FormToken = "",
) -> RedirectResponse:
    """Add a note to the ring's thread from the page's form."""
    _checked_form(request, caller, csrf_token, change=True)
    if not text.strip():
        raise InputError("a note must have some text")
    store.add_note(ring_id, text, actor=caller.name)
    return _back_to_ring(request, ring_id)
