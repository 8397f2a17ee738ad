"""Mapping specs: how a user's tables become entities and links, without writing code.

A spec lists sources (tables). Each names the column holding the account (the source of every
link the row makes), optional columns for the time, the account's creation time, a known-bad
label and an amount, the identifier columns (each with its entity kind and, optionally, the link
kind) and columns holding other accounts (referrals, money or order flow). Written in YAML or
TOML, or built in Python::

    name: marketplace
    sources:
      - table: orders                # reads orders.csv or orders.parquet from the data folder
        account: buyer_id
        timestamp: ts
        amount: amount
        identifiers:
          - {column: ship_address, kind: Address}          # link defaults to SHIPS_TO
          - {column: card_number, kind: PaymentInstrument}
          - {column: creator_id, kind: Creator, link: BUYS_VIA}
        accounts:
          - {column: seller_id, link: TRANSACTS_WITH}
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from graphfraud.errors import ConfigError
from graphfraud.model import ACCOUNT_LINKS, DEFAULT_LINK, EntityKind


def validation_problems(exc: ValidationError, root: str) -> str:
    """Every problem pydantic found, each after the dotted field it is about."""
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or root}: {err['msg']}"
        for err in exc.errors()
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentifierColumn(_Strict):
    """A column of identifiers of one entity kind, linked from the row's account."""

    column: str
    kind: str
    link: str | None = None

    @property
    def link_kind(self) -> str:
        if self.link is not None:
            return self.link
        try:
            return DEFAULT_LINK[self.kind]
        except KeyError:
            return f"HAS_{self.kind.upper()}"

    @model_validator(mode="after")
    def _kind_is_not_account(self) -> IdentifierColumn:
        if self.kind == EntityKind.ACCOUNT:
            raise ValueError(f"column {self.column!r}: list account columns under 'accounts'")
        return self


class AccountColumn(_Strict):
    """A column holding another account, linked from the row's account."""

    column: str
    link: str

    @model_validator(mode="after")
    def _link_joins_accounts(self) -> AccountColumn:
        if self.link not in ACCOUNT_LINKS:
            raise ValueError(
                f"column {self.column!r}: link {self.link!r} is not an account-to-account link "
                f"({', '.join(sorted(ACCOUNT_LINKS))})"
            )
        return self


class Source(_Strict):
    """One table and what its columns mean."""

    table: str
    file: str | None = None
    account: str
    timestamp: str | None = None
    created_at: str | None = None
    label: str | None = None
    amount: str | None = None
    identifiers: tuple[IdentifierColumn, ...] = ()
    accounts: tuple[AccountColumn, ...] = ()

    @property
    def columns(self) -> list[str]:
        """Every column this source reads, each once."""
        named = [self.account, self.timestamp, self.created_at, self.label, self.amount]
        named += [c.column for c in self.identifiers] + [c.column for c in self.accounts]
        return list(dict.fromkeys(name for name in named if name is not None))


class MappingSpec(_Strict):
    """A whole mapping: a name and its sources."""

    name: str = "mapping"
    sources: tuple[Source, ...]

    @model_validator(mode="after")
    def _tables_are_unique(self) -> MappingSpec:
        tables = [source.table for source in self.sources]
        if len(set(tables)) != len(tables):
            raise ValueError("each table may appear only once in a mapping")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, origin: str = "mapping") -> MappingSpec:
        """Validate a parsed mapping; errors name the offending field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = validation_problems(exc, "mapping")
            raise ConfigError(f"{origin} is not a valid mapping: {problems}") from None

    @classmethod
    def from_file(cls, path: Path | str) -> MappingSpec:
        """Read a mapping from a ``.yaml``/``.yml`` or ``.toml`` file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read mapping {path}: {exc.strerror}") from None
        try:
            data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"mapping {path} is not valid YAML/TOML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"mapping {path} must be a mapping with a 'sources' list")
        return cls.from_dict(data, origin=str(path))


def builtin_mapping(name: str = "marketplace") -> MappingSpec:
    """A mapping shipped with graphfraud (``marketplace``: the generator's tables)."""
    resource = resources.files("loaders").joinpath(f"mappings/{name}.yaml")
    if not resource.is_file():
        raise ConfigError(f"no built-in mapping named {name!r}")
    data = yaml.safe_load(resource.read_text(encoding="utf-8"))
    return MappingSpec.from_dict(data, origin=f"built-in mapping {name!r}")
