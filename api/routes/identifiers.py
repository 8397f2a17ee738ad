"""Identifiers: which accounts share a device, card, address, phone, email or IP."""

from __future__ import annotations

from typing import Annotated, NoReturn

import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError

from api.deps import RiskModelsDep, SettingsDep, StoreDep, require_reader
from api.schemas import Entity, IdentifierSharing, error_responses, with_degrees
from graphfraud.errors import NotFound
from graphfraud.model import EntityKind, EntityRef
from graphfraud.settings import Settings
from graphfraud.store import GraphStore
from loaders.normalise import NormaliseOptions, normalise

router = APIRouter(
    prefix="/api/identifiers", tags=["identifiers"], dependencies=[Depends(require_reader)]
)

IdentifierRef = Annotated[
    str,
    Query(
        min_length=3,
        max_length=1000,
        pattern=r"^[A-Z][A-Za-z0-9_]*:.+$",
        description="The identifier as 'Kind:key', e.g. 'Device:9f3a-77c1' or "
        "'Email:jdoe@gmail.com'. Keys are normalised as the loader does, so an email or phone "
        "may be written as the source had it. Payment instruments are looked up by "
        "fingerprint: give the fingerprint ('pi_…'), or the card number or payment token, "
        "which is fingerprinted with the store's key (to keep card numbers out of access "
        "logs, prefer POST /api/risk/check).",
        examples=["Email:jdoe@gmail.com"],
    ),
]


@router.get("/accounts", responses=error_responses(400, 401, 404, 422, 503))
def accounts_sharing(
    ref: IdentifierRef,
    store: StoreDep,
    settings: SettingsDep,
    models: RiskModelsDep,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> IdentifierSharing:
    """One page of the accounts linked to one identifier, with how often and when; the
    identifier with its degree and whether it is a hub."""
    found = find_identifier(store, EntityRef.parse(ref), settings)
    (identifier,) = with_degrees(
        [Entity.from_row(store.entity(found))], store.degrees([found]), models.hubs(store)
    )
    return IdentifierSharing.from_frame(
        identifier, store.accounts_sharing(found), offset=offset, limit=limit
    )


def find_identifier(store: GraphStore, ref: EntityRef, settings: Settings) -> EntityRef:
    """``ref`` as stored: as given, else with its key normalised as the loader would.

    Raises
    ------
    RequestValidationError
        A kind the store holds none of (the answer lists those it holds), or a key its
        kind's normaliser refuses (with the reason).
    NotFound
        A well-formed identifier no account uses.
    """
    kinds = sorted(store.stats().entities)
    if ref.kind not in kinds:
        _refuse(f"no identifiers of kind {ref.kind!r} in the graph; kinds: {', '.join(kinds)}")
    options = NormaliseOptions.from_settings(settings, fingerprint_key=store.fingerprint_key())
    tried = [options]
    if ref.kind == EntityKind.PAYMENT_INSTRUMENT:
        # Fingerprints normalise to themselves; a card number or a token is fingerprinted.
        tried.append(NormaliseOptions(options.fingerprint_key, payment_format="token"))
    reasons = []
    for attempt in tried:
        result = normalise(ref.kind, pd.Series([ref.key], dtype=object), attempt)
        key, error = result.values.iloc[0], result.errors.iloc[0]
        if pd.isna(key):
            reasons.append(str(error))
            continue
        normalised = EntityRef(ref.kind, str(key))
        if len(store.entities(kind=ref.kind, keys=[normalised.key])):
            return normalised
        if ref.kind == EntityKind.PAYMENT_INSTRUMENT:
            raise NotFound(
                f"no {ref.kind} with that fingerprint: payment instruments are looked up by "
                "the fingerprint of the card number or token (the store's key makes it)"
            )
        raise NotFound(f"no {ref.kind} with key {normalised.key!r}")
    if ref.kind == EntityKind.PAYMENT_INSTRUMENT:
        _refuse(
            "a PaymentInstrument is looked up by fingerprint: give its fingerprint, a card "
            f"number or a payment token ({'; '.join(reasons)})"
        )
    _refuse(f"not a valid {ref.kind} key: {reasons[0]}")


def _refuse(message: str) -> NoReturn:
    """A 422 about the ``ref`` query parameter."""
    raise RequestValidationError([{"loc": ("query", "ref"), "msg": message, "type": "value_error"}])
