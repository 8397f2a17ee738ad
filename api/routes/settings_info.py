"""Settings: every detection setting, with its default, this server's value and its rationale."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.deps import SettingsDep, require_reader
from api.schemas import SettingInfo, error_responses
from graphfraud.settings import DetectionSettings, setting_rationales

router = APIRouter(
    prefix="/api/settings", tags=["settings"], dependencies=[Depends(require_reader)]
)


@router.get("/detection", responses=error_responses(401))
def detection_settings_info(settings: SettingsDep) -> list[SettingInfo]:
    """Every detection setting a job (``POST /api/jobs``) or ``graphfraud detect --set`` may
    change: its JSON schema, default, the value this server runs with, and why."""
    schema: dict[str, Any] = DetectionSettings.model_json_schema()["properties"]
    defaults = DetectionSettings().model_dump(mode="json")
    values = settings.detection.model_dump(mode="json")
    rationales = setting_rationales()
    return [
        SettingInfo(
            name=name,
            type={k: v for k, v in schema[name].items() if k not in ("default", "title")},
            default=defaults[name],
            value=values[name],
            rationale=rationales[name],
        )
        for name in DetectionSettings.model_fields
    ]
