"""Linkage: is an account in a ring, what is it linked to, and how are two accounts linked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import StoreDep, require_reader, run_read
from api.schemas import (
    AccountLinkage,
    AccountPath,
    Membership,
    entities_of,
    error_responses,
    links_of,
    view_path,
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
        description="The account's key, e.g. 'A-000017' (or 'Account:A-000017').",
    ),
]


def account_ref(text: str) -> EntityRef:
    """An account reference from its key or its 'Account:key' form; 400 for another kind."""
    ref = EntityRef.parse(text, default_kind=EntityKind.ACCOUNT)
    if ref.kind != EntityKind.ACCOUNT:
        raise InputError(f"{text!r} is a {ref.kind}, not an account")
    return ref


@router.get("/{account}/linkage", responses=error_responses(400, 401, 404, 422, 503))
async def account_linkage(
    account: AccountKey,
    store: StoreDep,
    hops: Annotated[int, Query(ge=1, le=3, description="How far to walk.")] = 1,
    limit: Annotated[int, Query(ge=1, le=2000, description="Most entities returned.")] = 200,
) -> AccountLinkage:
    """The rings an account is in and the entities it is linked to."""
    ref = account_ref(account)
    return await run_read(store, lambda s: linkage(s, ref, hops=hops, limit=limit))


def linkage(store: GraphStore, ref: EntityRef, *, hops: int, limit: int) -> AccountLinkage:
    """What :func:`account_linkage` answers."""
    around = store.neighbourhood(ref, hops=hops, limit=limit)
    rings = store.rings(RingFilter(account=ref.key), Page(limit=MAX_RINGS)).rings
    # Read column by column: building the frames would cost more than the walk.
    entities, links = entities_of(around.node_columns), links_of(around.edge_columns)
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


@router.get("/{account}/path", responses=error_responses(400, 401, 404, 422, 503))
def account_path(
    account: AccountKey,
    store: StoreDep,
    to: Annotated[str, Query(min_length=1, max_length=500, description="The other account.")],
    max_hops: Annotated[int, Query(ge=1, le=6, description="Longest path looked for.")] = 4,
) -> AccountPath:
    """A shortest chain of links between two accounts and the identifiers they share on it."""
    source, target = account_ref(account), account_ref(to)
    path = store.path(source, target, max_hops=max_hops)
    if path is None:
        return AccountPath(
            source=source.key, target=target.key, linked=False, nodes=[], links=[],
            shared_identifiers=[],
        )  # fmt: skip
    nodes = entities_of(path.nodes)
    return AccountPath(
        source=source.key,
        target=target.key,
        linked=True,
        hops=len(path.edges),
        nodes=nodes,
        links=links_of(path.edges),
        shared_identifiers=[n for n in nodes if n.kind != EntityKind.ACCOUNT],
    )
