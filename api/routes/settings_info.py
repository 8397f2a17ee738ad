"""Settings: every detection setting, with its default, this server's value and its rationale."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import SettingsDep, require_reader
from api.schemas import SettingInfo, error_responses
from graphfraud.settings import describe_detection_settings

router = APIRouter(
    prefix="/api/settings", tags=["settings"], dependencies=[Depends(require_reader)]
)


@router.get("/detection", responses=error_responses(401))
def detection_settings_info(settings: SettingsDep) -> list[SettingInfo]:
    """Every detection setting a job (``POST /api/jobs``) or ``graphfraud detect --set`` may
    change: its JSON schema, default, the value this server runs with, and why."""
    return [SettingInfo(**row) for row in describe_detection_settings(settings.detection)]
