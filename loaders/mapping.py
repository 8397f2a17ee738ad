"""Mapping specs: how a user's tables become entities, links, attributes and events, without
writing code.

A spec lists sources (tables). Most sources are **account tables**: each row belongs to the
account in the ``account`` column, the source of every link the row makes. A source may name
the time the row was observed, the account's creation time, a known-bad label and an amount,
typed account ``attributes``, identifier columns (each with its entity kind and, optionally,
the link kind), columns holding other accounts (referrals, money or order flow), and keep each
row as an ``event``. An **entity table** has no account column: each row describes one entity
(a device, a card, a creator) named by ``entity``, and carries attributes only.

Any identifier or entity may be built from a ``template`` instead of a ``column``: text with
``{column}`` placeholders (``"dev-{device_id}"``, ``"{country}:{store_id}"``). Phones,
addresses and names are read in the region of their row: ``region_column`` names a column of
ISO 3166 codes or country names, ``region`` the region of the whole source (or, at the top, of
every source); an empty cell falls back to it. ``vocabularies`` lists files that extend the
built-in address and name vocabularies (see :mod:`loaders.normalise.vocabulary`), found
relative to the mapping file; ``near_duplicates`` the kinds whose keys that rules could not
fold (a typo, swapped words) become one entity when alike enough. Written in YAML or TOML, or
built in Python::

    name: marketplace
    region: ID                         # phones and addresses without a country: Indonesia
    sources:
      - table: users
        account: user_id
        created_at: signup_time
        region_column: country         # this table says per row
        attributes:
          - {column: country}
          - {column: kyc_level, type: integer}
        identifiers:
          - {column: phone, kind: Phone}
      - table: orders                  # reads orders.csv or orders.parquet from the data folder
        account: buyer_id
        timestamp: ts
        amount: amount
        identifiers:
          - {column: ship_address, kind: Address}          # link defaults to SHIPS_TO
          - {column: card_token, kind: PaymentInstrument, format: token}
          - {template: "dev-{device_id}", kind: Device}
        accounts:
          - {column: seller_id, link: TRANSACTS_WITH}
        event: {kind: order, id: order_id}
      - table: devices                 # an entity table: no account column
        entity: {template: "dev-{device_id}", kind: Device}
        attributes:
          - {column: os}
          - {column: model}

Errors name the field: ``sources.1.identifiers.2.format: ...``.
"""

from __future__ import annotations

import string
import tomllib
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graphfraud.errors import ConfigError
from graphfraud.model import ACCOUNT_LINKS, DEFAULT_LINK, EntityKind


def validation_problems(exc: ValidationError, root: str) -> str:
    """Every problem pydantic found, each after the dotted field it is about."""
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or root}: "
        f"{str(err['msg']).removeprefix('Value error, ')}"
        for err in exc.errors()
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Value(_Strict):
    """A value read from one ``column``, or built from a ``template`` of columns."""

    column: str | None = None
    template: str | None = None

    @model_validator(mode="after")
    def _column_or_template(self) -> Value:
        if (self.column is None) == (self.template is None):
            raise ValueError("give either column or template")
        if self.template is not None:
            self.template_parts()
        return self

    def template_parts(self) -> list[tuple[str, str | None]]:
        """The template as (literal text, column or None) pieces, in order."""
        assert self.template is not None
        try:
            parsed = list(string.Formatter().parse(self.template))
        except ValueError as exc:
            raise ValueError(f"template {self.template!r}: {exc}") from None
        for _, name, spec, conversion in parsed:
            if name == "" or spec or conversion:
                raise ValueError(
                    f"template {self.template!r}: placeholders are column names in braces, "
                    "such as {device_id}, without a format"
                )
        if not any(name is not None for _, name, _, _ in parsed):
            raise ValueError(f"template {self.template!r} names no column in braces")
        return [(text, name) for text, name, _, _ in parsed]

    @property
    def columns(self) -> list[str]:
        """The columns the value is read from."""
        if self.column is not None:
            return [self.column]
        return [name for _, name in self.template_parts() if name is not None]

    @property
    def field(self) -> str:
        """How the value is named in the rejects file: its column, or its template."""
        return self.column if self.column is not None else str(self.template)


class PaymentFormat(StrEnum):
    """How payment instruments are written in a column."""

    #: Card numbers (PANs): checked with Luhn, fingerprinted, shown as brand and last four.
    CARD = "card"
    #: Opaque ids (PSP tokens, card ids): fingerprinted as they are.
    TOKEN = "token"


class IdentifierColumn(Value):
    """Identifiers of one entity kind, linked from the row's account."""

    kind: str
    link: str | None = None
    #: For payment instruments: card numbers (the default) or tokens.
    format: PaymentFormat | None = None

    @property
    def link_kind(self) -> str:
        if self.link is not None:
            return self.link
        try:
            return DEFAULT_LINK[self.kind]
        except KeyError:
            return f"HAS_{self.kind.upper()}"

    @property
    def payment_format(self) -> PaymentFormat:
        return self.format or PaymentFormat.CARD

    @model_validator(mode="after")
    def _kind_fits(self) -> IdentifierColumn:
        if self.kind == EntityKind.ACCOUNT:
            raise ValueError(f"{self.field!r}: list account columns under 'accounts'")
        if self.format is not None and self.kind != EntityKind.PAYMENT_INSTRUMENT:
            raise ValueError(f"{self.field!r}: format applies to PaymentInstrument columns only")
        return self


class AccountColumn(Value):
    """Another account, linked from the row's account."""

    link: str

    @model_validator(mode="after")
    def _link_joins_accounts(self) -> AccountColumn:
        if self.link not in ACCOUNT_LINKS:
            raise ValueError(
                f"{self.field!r}: link {self.link!r} is not an account-to-account link "
                f"({', '.join(sorted(ACCOUNT_LINKS))})"
            )
        return self


class EntityKey(Value):
    """The entity an entity table's rows describe."""

    kind: str
    #: For payment instruments: card numbers (the default) or tokens.
    format: PaymentFormat | None = None

    @property
    def payment_format(self) -> PaymentFormat:
        return self.format or PaymentFormat.CARD

    @model_validator(mode="after")
    def _format_fits(self) -> EntityKey:
        if self.format is not None and self.kind != EntityKind.PAYMENT_INSTRUMENT:
            raise ValueError("format applies to PaymentInstrument entities only")
        return self


class AttributeType(StrEnum):
    """What an attribute column holds, and so how its text is read."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"


class Attribute(_Strict):
    """A column kept as an attribute of the row's account (or entity), under ``name``."""

    column: str
    type: AttributeType = AttributeType.TEXT
    #: The attribute's name; default: the column's.
    name: str | None = None

    @property
    def key(self) -> str:
        return self.name or self.column


class EventSpec(_Strict):
    """Keep each row of the source as an event of ``kind``."""

    kind: str
    #: A column identifying the event within its table; without one, an event is identified by
    #: what the row holds (identical rows are one event).
    id: str | None = None


class NearDuplicates(_Strict):
    """Resolve the keys of one kind that rules did not fold but that name one thing (a typo,
    two words swapped): see :func:`loaders.normalise.resolve_near_duplicates`."""

    kind: str
    #: How alike two keys must be (0 to 1); default the kind's own.
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)


class Source(_Strict):
    """One table and what its columns mean."""

    table: str
    file: str | None = None
    account: str | None = None
    entity: EntityKey | None = None
    timestamp: str | None = None
    created_at: str | None = None
    label: str | None = None
    amount: str | None = None
    region: str | None = None
    region_column: str | None = None
    attributes: tuple[Attribute, ...] = ()
    identifiers: tuple[IdentifierColumn, ...] = ()
    accounts: tuple[AccountColumn, ...] = ()
    event: EventSpec | None = None

    @model_validator(mode="after")
    def _account_or_entity(self) -> Source:
        if (self.account is None) == (self.entity is None):
            raise ValueError("give either account (an account table) or entity (an entity table)")
        if self.entity is not None:
            extra = [
                name
                for name in ("created_at", "label", "amount", "identifiers", "accounts", "event")
                if getattr(self, name)
            ]
            if extra:
                raise ValueError(
                    f"an entity table holds attributes only; {', '.join(extra)} need an account"
                )
        names = [attribute.key for attribute in self.attributes]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"attribute {twice[0]!r} is named twice")
        return self

    @property
    def key(self) -> Value:
        """The value every row belongs to: the account, or the entity of an entity table."""
        if self.entity is not None:
            return self.entity
        return Value(column=self.account)

    @property
    def key_kind(self) -> str:
        return EntityKind.ACCOUNT if self.entity is None else self.entity.kind

    @property
    def columns(self) -> list[str]:
        """Every column this source reads, each once."""
        named = [*self.key.columns, self.timestamp, self.created_at, self.label, self.amount]
        named += [self.region_column, self.event.id if self.event else None]
        named += [attribute.column for attribute in self.attributes]
        for value in (*self.identifiers, *self.accounts):
            named += value.columns
        return list(dict.fromkeys(name for name in named if name is not None))


class MappingSpec(_Strict):
    """A whole mapping: its sources and what holds for all of them."""

    name: str = "mapping"
    #: Region of phones and addresses where a source says nothing (else the setting).
    region: str | None = None
    #: Vocabulary files extending the built-in address and name vocabularies.
    vocabularies: tuple[Path, ...] = ()
    #: Kinds (Address, Email, Name) whose near-duplicate keys become one entity.
    near_duplicates: tuple[NearDuplicates, ...] = ()
    sources: tuple[Source, ...]

    @model_validator(mode="after")
    def _tables_are_unique(self) -> MappingSpec:
        tables = [source.table for source in self.sources]
        if len(set(tables)) != len(tables):
            raise ValueError("each table may appear only once in a mapping")
        return self

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, origin: str = "mapping", folder: Path | None = None
    ) -> MappingSpec:
        """Validate a parsed mapping; errors name the offending field.

        Vocabulary files are found relative to ``folder`` (the mapping file's own).
        """
        try:
            spec = cls.model_validate(data)
        except ValidationError as exc:
            problems = validation_problems(exc, "mapping")
            raise ConfigError(f"{origin} is not a valid mapping: {problems}") from None
        if folder is None:
            return spec
        found = tuple(path if path.is_absolute() else folder / path for path in spec.vocabularies)
        return spec.model_copy(update={"vocabularies": found})

    @classmethod
    def from_file(cls, path: Path | str) -> MappingSpec:
        """Read a mapping from a ``.yaml``/``.yml`` or ``.toml`` file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read mapping {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"mapping {path} is not UTF-8 text") from None
        try:
            data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"mapping {path} is not valid YAML/TOML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"mapping {path} must be a mapping with a 'sources' list")
        return cls.from_dict(data, origin=str(path), folder=path.parent)


def builtin_mapping(
    name: str = "marketplace", *, payment_format: PaymentFormat = PaymentFormat.CARD
) -> MappingSpec:
    """A mapping shipped with graphfraud (``marketplace``: the generator's tables), its payment
    instrument columns read as ``payment_format`` (``generate --payment-format token`` writes
    tokens in the card columns)."""
    resource = resources.files("loaders").joinpath(f"mappings/{name}.yaml")
    if not resource.is_file():
        raise ConfigError(f"no built-in mapping named {name!r}")
    data = yaml.safe_load(resource.read_text(encoding="utf-8"))
    for source in data["sources"]:
        for column in source.get("identifiers", []):
            if column["kind"] == EntityKind.PAYMENT_INSTRUMENT:
                column["format"] = payment_format.value
    return MappingSpec.from_dict(data, origin=f"built-in mapping {name!r}")
