"""Identifiers: which accounts share a device, card, address, phone, email or IP."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query

from api.deps import SettingsDep, StoreDep, require_reader
from api.schemas import Entity, IdentifierSharing, error_responses
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
        description="The identifier as 'Kind:key', e.g. 'Device:9f3a-77c' or "
        "'Email:jdoe@gmail.com'. Keys are normalised as the loader does, so an email or phone "
        "may be written as the source had it. Payment instruments go by fingerprint.",
    ),
]


@router.get("/accounts", responses=error_responses(400, 401, 404, 422, 503))
def accounts_sharing(
    ref: IdentifierRef, store: StoreDep, settings: SettingsDep
) -> IdentifierSharing:
    """The accounts linked to one identifier, with how often and when."""
    found = find_identifier(store, EntityRef.parse(ref), settings)
    return IdentifierSharing.from_frame(
        Entity.from_row(store.entity(found)), store.accounts_sharing(found)
    )


def find_identifier(store: GraphStore, ref: EntityRef, settings: Settings) -> EntityRef:
    """``ref`` as stored: as given, else with its key normalised as the loader would."""
    try:
        store.entity(ref)
        return ref
    except NotFound:
        # A card number is never fingerprinted from a URL: URLs end up in access logs.
        if ref.kind == EntityKind.PAYMENT_INSTRUMENT:
            raise
        options = NormaliseOptions.from_settings(settings, fingerprint_key=store.fingerprint_key())
        key = normalise(ref.kind, pd.Series([ref.key]), options).values.iloc[0]
        if pd.isna(key) or key == ref.key:
            raise
        normalised = EntityRef(ref.kind, str(key))
        store.entity(normalised)
        return normalised
