"""Settings, read from the environment (prefix ``GRAPHFRAUD_``) through a cached getter.

Nothing reads the environment at import time: callers ask :func:`get_settings`, tests clear the
cache with ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import textwrap
import tomllib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from graphfraud.errors import ConfigError

#: Weight of a shared identifier per link kind (before rarity), and of a direct link. Personal
#: identifiers that few people share by chance (a device, a card) weigh most; an address or a
#: phone a little less (families and flatmates share them); a login IP, a creator bought
#: through, a referral or a payment least (they are shared with strangers in daily life).
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
#: Maximum of each named score contribution. ``structure`` (the null model) alone can carry a
#: ring past ``min_score``: a ring needs no burst, label or money flow to be reported. Each
#: behavioural signal alone cannot: a household that signed up in one month, or two friends
#: who send each other money, is not a ring without structure beyond a household's.
DEFAULT_SCORE_WEIGHTS: dict[str, float] = {
    "structure": 1.5,
    "burstiness": 0.75,
    "known_bad": 0.5,
    "money_flow": 0.75,
    "lockstep": 0.25,
}


class DetectionSettings(BaseModel):
    """Every knob of ring detection (``algorithms``), with the reason for its default.

    Set them in Python (``DetectionSettings(min_score=2)``), the environment
    (``GRAPHFRAUD_DETECTION__MIN_SCORE=2``), or the CLI (``--set min_score=2``, ``--settings
    file.yaml``). The dict settings are merged over their defaults: ``{"SHIPS_TO": 0.5}``
    changes one link weight and keeps the others. The building blocks in ``algorithms`` take
    this object and keep no defaults of their own.
    """

    model_config = ConfigDict(extra="forbid")

    #: Weight of a shared identifier per link kind (before rarity), and of a direct link.
    link_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_LINK_WEIGHTS))
    #: How fast an identifier's weight falls with its users: ``1 / log2(users) ** exponent``.
    #: 0.5 falls gently: a card thirty accounts share is no weaker a tie between two of them
    #: than one two accounts share; things used so widely that they tell nothing are hubs.
    rarity_exponent: float = 0.5
    #: A thing is a hub candidate when its users (all spellings together) exceed
    #: ``exp(Q3 + hub_fence * IQR)`` of log(users) over the shared things of its kind: Tukey's
    #: far-out fence (3), so only use far beyond the kind's bulk (households) is questioned.
    hub_fence: float = 3.0
    #: ...and never below this many users: a household reaches 6, staff of a small shop about
    #: as many; below 10 a thing is personal enough to tie its users.
    hub_min_accounts: int = 10
    #: A candidate is a hub when fewer than this share of its users are tied to another of its
    #: users by something else (beyond chance). Rings' shared things measure 0.6-1 (members
    #: share several); lockers, cafés, kiosks, warehouses, popular sellers and creators 0-0.25
    #: (strangers, and the odd household): 0.4 leaves a margin on both sides.
    hub_cohesion: float = 0.4
    #: Tail probability under the Poisson null below which two things' overlap is not chance.
    #: One in a thousand: a graph holds thousands of candidate pairs, so a looser test would
    #: find ties among strangers.
    cohesion_alpha: float = 0.001
    #: ...and beyond this many times its expected size. Active people use many popular things,
    #: so two carrier IPs or a locker and a café share 2-5 times the users independence gives;
    #: a ring's cards, or a household's home and a locker, share 50 to thousands of times.
    cohesion_enrichment: float = 10.0
    #: Users of a candidate sampled to measure its cohesion: 200 estimate a share to about
    #: ±0.07, and keep a carrier IP with a million users as cheap as a locker.
    cohesion_sample: int = 200
    #: Money/order links on a directed cycle of three or more accounts weigh this many times
    #: more: money sent round and back is the money-cycle typology's signature.
    cycle_boost: float = 3.0
    #: A money/order link counts towards a cycle only when used this many times: money sent
    #: round once can be chance (friends settling up in a busy P2P graph closes triangles by
    #: the thousand); sent round and round again it is layering.
    cycle_min_transfers: int = 2
    #: Projected edges lighter than this do not join accounts into candidates: 0.3 keeps one
    #: shared address or phone among up to ~100 users, or a device or card, and drops a lone
    #: IP, creator, referral or payment (0.25), which strangers share too.
    min_edge_weight: float = 0.3
    #: Communities merge when their ties to each other (weak ones included) carry this share of
    #: the smaller one's tie weight: pieces of one ring cut apart by modularity are mostly
    #: tied to each other; a household hanging on a ring by one address is not.
    merge_share: float = 0.3
    #: Groups holding together at least this share of a thing's users merge, and a lone user of
    #: it joins the group holding that share: two thirds is a clear majority.
    attach_share: float = 0.66
    #: Smallest ring reported: two accounts sharing something is a pair, not a ring.
    min_ring_size: int = 3
    #: Candidates (connected components) larger than this are split into communities: a
    #: household or a small ring is already tight.
    split_above: int = 4
    #: Leiden resolution (RB configuration model) of the first split; higher gives smaller
    #: communities. Low, so a ring is not cut along its sub-cliques at first.
    resolution: float = 0.2
    #: A part still too large (``max_ring_size``) or too weak (``min_score``) to be one ring is
    #: split again at the resolution times this, up to ``split_levels`` times: each level asks
    #: for communities twice as tight.
    resolution_growth: float = 2.0
    #: How many times a part may be split again.
    split_levels: int = 6
    #: A strong group larger than a household is still split when fewer than this share of its
    #: members are tied across its parts (by a thing members of two parts use, or a direct
    #: link): it is households chained by a gift address, not one ring. A ring's cards,
    #: devices, proxies and money span any cut through it (a third to all of its members).
    span_share: float = 0.2
    #: Parts larger than this are split again whatever their score: rings of more than a few
    #: hundred accounts are rare, and a bigger part is most likely rings and bystanders chained
    #: together. Merging steps never build a group larger than this either.
    max_ring_size: int = 300
    #: The size households reach (2-6 people share a home, a device, a card over years). The
    #: structure score measures sharing beyond what the graph's own groups of this size show,
    #: and a creation burst or lockstep counts with confidence growing past it.
    household_size: int = 6
    #: Quantile of the sharing surprise of groups up to ``household_size`` that a ring must
    #: exceed to score on structure: nearly the most any of them reaches (one in a thousand
    #: such groups may be a small ring or a very odd family). Chosen on the training seeds
    #: over 0.95 and 0.99, which let households with a friend or two through.
    household_quantile: float = 0.999
    #: Rings scoring below this are not reported: ``structure`` alone (1.5 at most) passes it
    #: at 40% of its range (sharing 1.4 times as surprising as households reach); a household's
    #: chance burst (at most 0.47 for four members) or one labelled member (0.25) does not.
    min_score: float = 0.6
    #: Rings up to this size get exact betweenness; bigger ones a sample of sources.
    betweenness_exact_max: int = 300
    #: Source accounts sampled for betweenness on bigger rings.
    betweenness_samples: int = 64
    #: A member is an organiser when its in-ring PageRank stands this many standard deviations
    #: above the ring's mean (and 5% above it at least, so no one in a clique is).
    organiser_z: float = 2.0
    #: ...and stands at least this share above the mean, so no one in a clique (where every
    #: PageRank is equal up to rounding) is called an organiser.
    organiser_margin: float = 0.05
    #: Known-bad: each labelled member halves what is left of the doubt (``1 - 0.5 ** n``); a
    #: member tied to a labelled account outside counts as this share of one: guilt by
    #: association is weaker evidence than a label.
    seed_neighbour_share: float = 0.5
    #: Maximum weight of each named score contribution; zero switches one off.
    score_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_SCORE_WEIGHTS))
    #: Accounts created within this many days of each other count as a creation burst.
    burst_days: float = 30.0
    #: Members whose first use of the ring's shared identifiers falls within this many hours of
    #: each other act in lockstep.
    lockstep_hours: float = 24.0
    #: A new ring keeps a stored ring's id when their memberships overlap this much (Jaccard).
    match_jaccard: float = 0.5
    #: Typology: a specific pattern (money cycle, referrals, a member's storefront) names the
    #: ring when it covers this share of the members: half, so it is the ring's main story.
    typology_specific: float = 0.5
    #: Typology: otherwise the identifier kind shared by most members names it when it covers
    #: this share; below it the ring is "mixed".
    typology_sharing: float = 0.3

    #: Risk by association (``algorithms.risk``): the chance a walk restarts at the known-bad
    #: accounts at each step. 0.15 is PageRank's usual 0.85 damping (Brin and Page, 1998): a
    #: walk takes about six steps before it restarts, so risk fades within a few hops; chosen
    #: over 0.05-0.5 on the training seeds (1, 2) by hidden-label precision at 100.
    risk_restart: float = Field(default=0.15, gt=0.0, lt=1.0)

    @field_validator("link_weights", "score_weights", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any, info: ValidationInfo) -> Any:
        defaults: dict[str, dict[str, Any]] = {
            "link_weights": DEFAULT_LINK_WEIGHTS,
            "score_weights": DEFAULT_SCORE_WEIGHTS,
        }
        return {**defaults[str(info.field_name)], **value} if isinstance(value, dict) else value


class ApiKey(BaseModel):
    """An API key and the name of whoever holds it (what the audit trail records)."""

    secret: SecretStr
    name: str = Field(min_length=1, max_length=200)


def named_keys(keys: Mapping[Any, str] | Sequence[Any]) -> list[ApiKey]:
    """API keys with their holders' names, from a ``{key: name}`` mapping or a list of keys.

    A key listed without a name is named ``key <digest>``: the first eight hex digits of its
    SHA-256, stable across restarts, and telling nothing a guess of the key could use.
    """
    if isinstance(keys, Mapping):
        return [ApiKey(secret=_secret(key), name=name) for key, name in keys.items()]
    named = []
    for key in keys:
        if isinstance(key, ApiKey | dict):
            named.append(ApiKey.model_validate(key))
            continue
        secret = _secret(key)
        digest = hashlib.sha256(secret.get_secret_value().encode()).hexdigest()[:8]
        named.append(ApiKey(secret=secret, name=f"key {digest}"))
    return named


def _secret(key: Any) -> SecretStr:
    return key if isinstance(key, SecretStr) else SecretStr(str(key))


class Settings(BaseSettings):
    """Every knob graphfraud has, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="GRAPHFRAUD_", env_nested_delimiter="__", extra="ignore"
    )

    store_url: str = "duckdb:///graphfraud.duckdb"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("graphfraud")
    neo4j_database: str = "neo4j"
    #: Rows per Neo4j write transaction (``UNWIND``), chosen by measurement. Incremental link
    #: writes (a database holding half of 53k links takes all of them; Neo4j 5.26 on a shared,
    #: saturated 2-core machine, one run, so ratios count, not rates): list of maps per row at
    #: 2,000 rows 1,055 links/s, at 10,000 3,049; one list per column at 2,000 1,150, at
    #: 10,000 3,426 (the shape kept, cypher.UPSERT_LINKS); the whole group in one statement
    #: with ``CALL { ... } IN TRANSACTIONS OF 10000 ROWS`` 2,140. Larger transactions hold
    #: more server memory; benchmarks/neo4j_load.py --batch-sizes measures others.
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

    #: API keys of read-only clients (product teams), each with the name the audit trail
    #: records: ``GRAPHFRAUD_API_READ_KEYS='{"k1": "Ana Lima"}'``, or a list of keys
    #: (``'["k1"]'``), each then named by a digest of itself (see :func:`named_keys`).
    api_read_keys: list[ApiKey] = Field(default_factory=list)
    #: API keys of investigators, who may also change verdicts and start detection; named
    #: as the read keys are.
    api_investigator_keys: list[ApiKey] = Field(default_factory=list)
    #: API keys of systems that send new rows (``POST /api/events``) and nothing else; named
    #: as the read keys are. Investigator keys may send rows too.
    api_ingest_keys: list[ApiKey] = Field(default_factory=list)
    #: The mapping rows sent to ``POST /api/events`` follow (a YAML or TOML file); default:
    #: the built-in ``marketplace`` mapping, the generator's tables.
    ingest_mapping: Path | None = None
    #: The server ``graphfraud load --append`` sends rows to when the server holds the store
    #: (``http://127.0.0.1:8000``), and the key it sends (an ingest or investigator key).
    server_url: str | None = None
    server_key: SecretStr | None = None
    #: Serve ring detail and linkage from memory when the API owns its store (the embedded
    #: engine). Costs memory in proportion to the graph: about 0.35 GiB per 100k accounts.
    api_read_model: bool = True

    @field_validator("api_read_keys", "api_investigator_keys", "api_ingest_keys", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        return named_keys(value) if isinstance(value, dict | list | tuple) else value


def detection_settings(
    base: DetectionSettings,
    *,
    file: Path | None = None,
    assignments: Sequence[str] = (),
    changes: Mapping[str, Any] | None = None,
) -> DetectionSettings:
    """Detection settings: ``base``, then a settings file, then ``key=value`` assignments, then
    ``changes``.

    Parameters
    ----------
    base
        Where to start (usually ``get_settings().detection``: defaults and the environment).
    file
        A YAML, TOML or JSON file holding a mapping of settings (``{"min_score": 2.0}``).
    assignments
        ``name=value`` texts, values read as YAML (``min_score=2``, ``hub_cohesion=0.4``);
        ``score_weights.burstiness=0`` sets one entry of a dict setting.
    changes
        The same names with values already parsed (``{"min_score": 2}``,
        ``{"score_weights.burstiness": 0}``): what the API's detection jobs take.

    Raises
    ------
    ConfigError
        A file that cannot be read, an assignment without ``=``, an unknown name or a value
        of the wrong type, each named.

    Examples
    --------
    >>> detection_settings(DetectionSettings(), assignments=["min_ring_size=4"]).min_ring_size
    4
    """
    values: dict[str, Any] = base.model_dump()
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8")
            loaded = (
                tomllib.loads(text)
                if file.suffix == ".toml"
                else json.loads(text)
                if file.suffix == ".json"
                else yaml.safe_load(text)
            )
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read detection settings file {file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"detection settings file {file} must hold a mapping of settings")
        _merge(values, loaded)
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        if not equals or not name.strip():
            raise ConfigError(f"detection setting {assignment!r} is not name=value")
        _assign(values, name, yaml.safe_load(text) if text.strip() else None)
    for name, value in (changes or {}).items():
        _assign(values, name, value)
    try:
        return DetectionSettings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"invalid detection settings: {problems}") from None


def _assign(values: dict[str, Any], name: str, value: Any) -> None:
    """Set the setting ``name`` (``parent.entry`` for one entry of a dict setting)."""
    *parents, leaf = name.strip().split(".")
    _merge(values, {parents[0]: {leaf: value}} if parents else {leaf: value})


def setting_rationales() -> dict[str, str]:
    """Each detection setting's rationale: the ``#:`` comment written above it.

    The comments are the one place the reasons are written (they read well beside the
    defaults); this reads them from the source so the API and the docs show the same text.

    Examples
    --------
    >>> "Tukey" in setting_rationales()["hub_fence"]
    True
    """
    lines, _ = inspect.getsourcelines(DetectionSettings)
    (cls,) = ast.parse(textwrap.dedent("".join(lines))).body
    assert isinstance(cls, ast.ClassDef)
    rationales: dict[str, str] = {}
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        comment: list[str] = []
        row = node.lineno - 2  # the line above the field, 0-based within ``lines``
        while row >= 0 and lines[row].strip().startswith("#:"):
            comment.insert(0, lines[row].strip().removeprefix("#:").strip())
            row -= 1
        rationales[node.target.id] = " ".join(comment)
    return rationales


def describe_detection_settings(current: DetectionSettings) -> list[dict[str, Any]]:
    """Every detection setting, as ``GET /api/settings/detection`` and ``graphfraud settings``
    show it.

    Parameters
    ----------
    current
        The settings in force (defaults, the environment, files and assignments).

    Returns
    -------
    list of dict
        Per setting, in declaration order: ``name``, ``type`` (the JSON schema of its values),
        ``default``, ``value`` (in ``current``) and ``rationale`` (:func:`setting_rationales`).

    Examples
    --------
    >>> described = describe_detection_settings(DetectionSettings(min_score=1.0))
    >>> [(s["default"], s["value"]) for s in described if s["name"] == "min_score"]
    [(0.6, 1.0)]
    """
    schema: dict[str, Any] = DetectionSettings.model_json_schema()["properties"]
    defaults = DetectionSettings().model_dump(mode="json")
    values = current.model_dump(mode="json")
    rationales = setting_rationales()
    return [
        {
            "name": name,
            "type": {k: v for k, v in schema[name].items() if k not in ("default", "title")},
            "default": defaults[name],
            "value": values[name],
            "rationale": rationales[name],
        }
        for name in DetectionSettings.model_fields
    ]


def _merge(values: dict[str, Any], changes: dict[str, Any]) -> None:
    """Apply ``changes`` over ``values``; dict settings change key by key."""
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(values.get(name), dict):
            values[name] = {**values[name], **value}
        else:
            values[name] = value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
