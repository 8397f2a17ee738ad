"""Linkage: is an account in a ring, what is it linked to, and how are two accounts linked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from api.deps import RiskModelsDep, StoreDep, require_reader, run_read
from api.schemas import (
    AccountLinkage,
    AccountPath,
    Membership,
    entities_of,
    error_responses,
    json_response,
    links_of,
    view_path,
    with_degrees,
)
from graphfraud.errors import InputError
from graphfraud.model import EntityKind, EntityRef, Page, RingFilter
from graphfraud.store import GraphStore

#: Rings listed per account at most (an account is in one active ring per detection run).
MAX_RINGS = 100

router = APIRouter(prefix="/api/accounts", tags=["linkage"], dependencies=[Depends(require_reader)])

AccountKey = Annotated[
    str,
    Path(
        min_length=1,
        max_length=500,
        description="The account's key, e.g. 'A0000320' (or 'Account:A0000320'); any "
        "character works, '/' too (sent as is or as %2F).",
        examples=["A0000320"],
    ),
]


def account_ref(text: str) -> EntityRef:
    """An account reference from its key or its 'Account:key' form; 400 for another kind."""
    ref = EntityRef.parse(text, default_kind=EntityKind.ACCOUNT)
    if ref.kind != EntityKind.ACCOUNT:
        raise InputError(f"{text!r} is a {ref.kind}, not an account")
    return ref


@router.get(
    "/{account:path}/linkage",
    response_model=AccountLinkage,
    responses=error_responses(400, 401, 404, 422, 503),
)
async def account_linkage(
    account: AccountKey,
    store: StoreDep,
    models: RiskModelsDep,
    hops: Annotated[int, Query(ge=1, le=3, description="How far to walk.")] = 1,
    limit: Annotated[int, Query(ge=1, le=2000, description="Most entities returned.")] = 200,
) -> Response:
    """The rings an account is in and the entities it is linked to, each with its degree and
    whether it is a hub."""
    ref = account_ref(account)
    answer = await run_read(
        store, lambda s: linkage(s, ref, hops=hops, limit=limit, hubs=models.hubs(s))
    )
    return json_response(answer)


def linkage(
    store: GraphStore, ref: EntityRef, *, hops: int, limit: int, hubs: Mapping[tuple[str, str], int]
) -> AccountLinkage:
    """What :func:`account_linkage` answers."""
    around = store.neighbourhood(ref, hops=hops, limit=limit)
    rings = store.rings(RingFilter(account=ref.key), Page(limit=MAX_RINGS)).rings
    # Read column by column: building the frames would cost more than the walk.
    entities, links = entities_of(around.node_columns), links_of(around.edge_columns)
    with_degrees(entities, store.degrees([EntityRef(e.kind, e.key) for e in entities]), hubs)
    me = next(e for e in entities if e.kind == ref.kind and e.key == ref.key)
    return AccountLinkage(
        account=me,
        rings=[
            Membership(
                ring_id=ring.ring_id,
                role=next(m.role for m in ring.members if m.account == ref.key),
                score=ring.score,
                typology=ring.typology,
                status=ring.status,
                view_url=view_path(ring.ring_id),
            )
            for ring in rings
        ],
        neighbours=[e for e in entities if e is not me],
        links=sorted(links, key=lambda link: (link.source, link.kind, link.target)),
        truncated=around.truncated,
    )


@router.get("/{account:path}/path", responses=error_responses(400, 401, 404, 422, 503))
def account_path(
    account: AccountKey,
    store: StoreDep,
    models: RiskModelsDep,
    to: Annotated[
        str,
        Query(
            min_length=1, max_length=500, description="The other account.", examples=["A0000951"]
        ),
    ],
    max_hops: Annotated[int, Query(ge=1, le=6, description="Longest path looked for.")] = 4,
    through_hubs: Annotated[
        bool,
        Query(
            description="Also walk through hubs (a café's IP, a parcel locker): such a path says "
            "little, and the hubs it crosses are flagged."
        ),
    ] = False,
) -> AccountPath:
    """A shortest chain of links between two accounts and the identifiers they share on it.

    Hubs of the latest detection run are stepped around unless ``through_hubs`` is set;
    every entity on the path carries its degree and hub flag, and ``hubs_crossed`` lists the
    hubs it goes through."""
    source, target = account_ref(account), account_ref(to)
    hubs = models.hubs(store)
    avoid = [] if through_hubs else [EntityRef(kind, key) for kind, key in hubs]
    path = store.path(source, target, max_hops=max_hops, avoid=avoid)
    if path is None:
        return AccountPath(
            source=source.key, target=target.key, linked=False, nodes=[], links=[],
            shared_identifiers=[], hubs_crossed=[], through_hubs=through_hubs,
        )  # fmt: skip
    nodes = entities_of(path.node_columns)
    with_degrees(nodes, store.degrees([EntityRef(n.kind, n.key) for n in nodes]), hubs)
    return AccountPath(
        source=source.key,
        target=target.key,
        linked=True,
        hops=len(path.edge_columns["kind"]),
        nodes=nodes,
        links=links_of(path.edge_columns),
        shared_identifiers=[n for n in nodes if n.kind != EntityKind.ACCOUNT],
        hubs_crossed=[n for n in nodes if n.hub],
        through_hubs=through_hubs,
    )
