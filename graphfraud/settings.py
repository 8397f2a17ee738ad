"""Settings, read from the environment (prefix ``GRAPHFRAUD_``) through a cached getter.

Nothing reads the environment at import time: callers ask :func:`get_settings`, tests clear the
cache with ``get_settings.cache_clear()``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Weight of a shared identifier per link kind (before rarity), and of a direct link.
DEFAULT_LINK_WEIGHTS: dict[str, float] = {
    "USES_DEVICE": 1.0,
    "PAYS_WITH": 1.0,
    "SHIPS_TO": 0.8,
    "HAS_PHONE": 0.8,
    "HAS_EMAIL": 0.8,
    "LOGS_IN_FROM": 0.25,
    "BUYS_VIA": 0.25,
    "OWNS": 0.25,
    "REFERRED": 0.25,
    "TRANSACTS_WITH": 0.25,
}
#: Hub caps per entity kind that differ from the general one.
DEFAULT_HUB_CAPS: dict[str, int] = {"IP": 50}
#: Maximum of each named score contribution (calibrated on generated marketplaces).
DEFAULT_SCORE_WEIGHTS: dict[str, float] = {
    "shared_identifiers": 0.25,
    "density": 0.1,
    "rarity": 0.25,
    "burstiness": 1.0,
    "known_bad": 0.5,
    "money_flow": 0.75,
    "lockstep": 0.25,
}


class DetectionSettings(BaseModel):
    """Knobs of ring detection (``algorithms``); ``GRAPHFRAUD_DETECTION__HUB_CAP=80`` sets one.

    The dict settings are merged over their defaults: ``{"SHIPS_TO": 0.5}`` changes one link
    weight and keeps the others.
    """

    #: Weight of a shared identifier per link kind (before rarity), and of a direct link.
    link_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_LINK_WEIGHTS))
    #: Identifiers used by more accounts than this (and accounts with more direct
    #: counterparties) are hubs: reported, never linking.
    hub_cap: int = 100
    #: Hub caps per entity kind (``"IP"``, ``"Account"`` for direct links, ...) overriding
    #: ``hub_cap``.
    hub_caps: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_HUB_CAPS))
    #: How fast an identifier's weight falls with its users: ``1 / log2(users) ** exponent``.
    rarity_exponent: float = 0.5
    #: Money/order links on a directed cycle of three or more accounts weigh this many times more.
    cycle_boost: float = 3.0
    #: Projected edges lighter than this do not join accounts into candidates.
    min_edge_weight: float = 0.3
    #: Communities merge when their ties to each other (weak ones included) carry this share of
    #: the smaller one's tie weight.
    merge_share: float = 0.3
    #: Groups holding together at least this share of an identifier's users merge, and a lone
    #: user of it joins the group holding that share.
    attach_share: float = 0.66
    #: Smallest ring reported.
    min_ring_size: int = 3
    #: Candidates (connected components) larger than this are split by Leiden.
    split_above: int = 4
    #: Leiden resolution (modularity); higher gives smaller communities.
    resolution: float = 0.2
    #: Rings scoring below this are not reported.
    min_score: float = 1.25
    #: Rings up to this size get exact betweenness; bigger ones a sample of sources.
    betweenness_exact_max: int = 300
    #: Source accounts sampled for betweenness on bigger rings.
    betweenness_samples: int = 64
    #: A member is an organiser when its in-ring PageRank stands this many standard deviations
    #: above the ring's mean.
    organiser_z: float = 2.0
    #: Maximum weight of each named score contribution; zero switches one off.
    score_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_SCORE_WEIGHTS))
    #: Accounts created within this many days of each other count as a creation burst.
    burst_days: float = 30.0
    #: Members whose first use of the ring's shared identifiers falls within this many hours of
    #: each other act in lockstep.
    lockstep_hours: float = 24.0
    #: A new ring keeps a stored ring's id when their memberships overlap this much (Jaccard).
    match_jaccard: float = 0.5

    @field_validator("link_weights", "hub_caps", "score_weights", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any, info: ValidationInfo) -> Any:
        defaults: dict[str, dict[str, Any]] = {
            "link_weights": DEFAULT_LINK_WEIGHTS,
            "hub_caps": DEFAULT_HUB_CAPS,
            "score_weights": DEFAULT_SCORE_WEIGHTS,
        }
        return {**defaults[str(info.field_name)], **value} if isinstance(value, dict) else value


class Settings(BaseSettings):
    """Every knob graphfraud has, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="GRAPHFRAUD_", env_nested_delimiter="__", extra="ignore"
    )

    store_url: str = "duckdb:///graphfraud.duckdb"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("graphfraud")
    neo4j_database: str = "neo4j"
    #: Rows per Neo4j write transaction (``UNWIND $rows``), chosen by benchmarks/neo4j_load.py.
    neo4j_batch_size: int = 10_000
    #: Folder of the server ``graphfraud neo4j start`` runs (conf, data, logs); default: the
    #: installation folder.
    neo4j_home: Path | None = None
    #: Where Neo4j is assembled from Maven Central; default ~/.cache/graphfraud/neo4j-<version>.
    neo4j_install: Path | None = None

    #: Region assumed for phones and addresses where a mapping says none (ISO 3166 code or a
    #: country name). The fingerprint key of payment instruments is no setting: each store
    #: makes its own (``graphfraud fingerprint-key``).
    default_phone_region: str = "US"
    #: A load stops, writing nothing, when the rejected rows and fields of one table touch
    #: more than this share of its rows: past half, the mapping reads a column wrong more
    #: likely than the export is dirty.
    max_reject_share: float = Field(default=0.5, ge=0.0, le=1.0)
    #: Rows per batch written to a store.
    batch_size: int = 100_000
    #: Ring detection.
    detection: DetectionSettings = Field(default_factory=DetectionSettings)

    #: API keys of read-only clients (product teams): ``GRAPHFRAUD_API_READ_KEYS='["k1"]'``.
    api_read_keys: list[SecretStr] = Field(default_factory=list)
    #: API keys of investigators, who may also set ring status and start detection.
    api_investigator_keys: list[SecretStr] = Field(default_factory=list)
    #: Serve ring detail and linkage from memory when the API owns its store (the embedded
    #: engine). Costs memory in proportion to the graph: about 0.35 GiB per 100k accounts.
    api_read_model: bool = True


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
