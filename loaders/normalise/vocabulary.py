"""Locale vocabularies: the words the normalisers know, read from data files.

What a market writes differently (street-type words and their abbreviations, administrative
areas, postcodes, how the country is named, honorifics before a name, mailbox providers) is
knowledge users extend, so it lives in YAML files rather than in code: the built-in ones in
``loaders/normalise/data/`` (one per market, plus ``common.yaml`` and ``mailboxes.yaml``), and
any a user names (the mapping spec's vocabulary files), read after them. A file looks like::

    locale: ID                 # the region its regional entries are about (ISO 3166 alpha-2)
    names: [indonesia]         # how addresses and region columns name the country
    address:
      words:                   # every address, whatever its region: whole words replaced
        jalan: jl              # "" drops the word
        dki jakarta: dki       # several words: a phrase, matched before any single word
      regional_words:          # only addresses of this region
        kota: ""
      postcode: "[0-9]{5}"     # one postcode, as an RE2 pattern over a whole word
      postcode_prefixes: []    # letters written before a postcode ("S560123"), dropped
      areas: [dki, jawa barat] # implied by the postcode: dropped at the end of an address
      order_free: true         # RT/RW and the postcode may stand anywhere
    name:
      honorifics: [bapak, bpk] # dropped from every name
      regional_honorifics: [ong]  # dropped only from names of this region
    mailboxes:
      - {domains: [gmail.com, googlemail.com], tag: "+", ignores_dots: true}

Entries are written as people write them (``Jl.``, ``Đường``): they are folded the way values
are (lower case, accents and punctuation dropped) before use. Phrases are matched before
words: every region's phrases, then its words, then the value's region's phrases, then its
words. A later file overrides an earlier one entry by entry (a word's replacement, a postcode
pattern, ``order_free``) and extends its lists; mapping a built-in word to itself switches its
rule off.

Every replacement must be its own fixed point (``jalan → jl`` needs ``jl`` to stay ``jl``), or
normalising a key would change it again: :func:`load_vocabulary` refuses a vocabulary where it
would not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from graphfraud.errors import ConfigError
from loaders.mapping import validation_problems

__all__ = [
    "DEFAULT_VOCABULARY",
    "Mailbox",
    "Vocabulary",
    "fold_entry",
    "load_vocabulary",
    "replace_folded",
    "replace_phrases",
    "spaced",
]


@dataclass(frozen=True)
class Mailbox:
    """How a provider maps many addresses onto one mailbox."""

    domain: str
    tag: str
    ignores_dots: bool


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Every locale's words, merged from the built-in data files and the user's.

    Regions are ISO 3166 alpha-2 codes in upper case; words and phrases are folded (see
    :func:`fold_entry`).
    """

    #: Whole-word replacements for every address.
    address_words: Mapping[str, str] = field(default_factory=dict)
    #: Multi-word replacements for every address, matched after the single words.
    address_phrases: Mapping[str, str] = field(default_factory=dict)
    #: Word and phrase replacements for the addresses of one region only.
    regional_words: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    regional_phrases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: RE2 pattern of one postcode, per region.
    postcodes: Mapping[str, str] = field(default_factory=dict)
    #: Letters written before a region's postcodes (``S`` in ``S560123``), folded.
    postcode_prefixes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Areas (states, provinces) a region's postcode implies, folded.
    areas: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Regions whose addresses put RT/RW and the postcode anywhere.
    order_free: frozenset[str] = frozenset()
    #: How each region's country is named (folded), besides its ISO codes.
    country_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Words before or inside a person's name that are not the name.
    honorifics: frozenset[str] = frozenset()
    regional_honorifics: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Mailbox rules by email domain.
    mailboxes: Mapping[str, Mailbox] = field(default_factory=dict)
    #: The files it was read from, in order.
    sources: tuple[str, ...] = ()

    @cached_property
    def region_aliases(self) -> Mapping[str, str]:
        """Folded country name → region, for reading region columns."""
        return {name: region for region, names in self.country_names.items() for name in names}


def fold_entry(text: str) -> str:
    """A vocabulary entry or value folded the way the address rules fold text.

    Examples
    --------
    >>> fold_entry("  Đường ")
    'duong'
    >>> fold_entry("Jl.")
    'jl'
    >>> fold_entry("W.P. Kuala-Lumpur")
    'w p kuala lumpur'
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("\u0111", "d").replace("\u0110", "D"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = unicodedata.normalize("NFKC", plain).lower().replace("'", "").replace("`", "")
    return " ".join(re.sub(r"[^\w#/]+|_", " ", plain).split())


# --- the file format ------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AddressSection(_Strict):
    words: dict[str, str] = {}
    regional_words: dict[str, str] = {}
    postcode: str | None = None
    postcode_prefixes: list[str] = []
    areas: list[str] = []
    order_free: bool | None = None

    @field_validator("postcode")
    @classmethod
    def _postcode_is_re2(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                pc.match_substring_regex(pa.array([""]), pattern)
            except pa.ArrowInvalid as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return pattern


class _NameSection(_Strict):
    honorifics: list[str] = []
    regional_honorifics: list[str] = []


class _MailboxEntry(_Strict):
    domains: list[str]
    tag: str
    ignores_dots: bool = False
    #: The domain every listed one becomes; default: each keeps its own.
    canonical: str | None = None

    @field_validator("tag")
    @classmethod
    def _tag_is_one_character(cls, tag: str) -> str:
        if len(tag) != 1:
            raise ValueError("a tag is one character, such as '+'")
        return tag


class _VocabularyFile(_Strict):
    locale: str | None = None
    names: list[str] = []
    address: _AddressSection = _AddressSection()
    name: _NameSection = _NameSection()
    mailboxes: list[_MailboxEntry] = []

    @field_validator("locale")
    @classmethod
    def _locale_is_a_region(cls, locale: str | None) -> str | None:
        if locale is not None and not re.fullmatch("[A-Za-z]{2}", locale):
            raise ValueError("a locale is an ISO 3166 alpha-2 code such as 'ID'")
        return None if locale is None else locale.upper()

    @model_validator(mode="after")
    def _regional_entries_need_a_locale(self) -> _VocabularyFile:
        regional = {
            "names": self.names,
            "address.regional_words": self.address.regional_words,
            "address.postcode": self.address.postcode,
            "address.postcode_prefixes": self.address.postcode_prefixes,
            "address.areas": self.address.areas,
            "address.order_free": self.address.order_free,
            "name.regional_honorifics": self.name.regional_honorifics,
        }
        given = [key for key, value in regional.items() if value not in (None, [], {})]
        if given and self.locale is None:
            raise ValueError(f"{', '.join(given)} need a 'locale' saying which region")
        return self


# --- merging --------------------------------------------------------------------------------


@dataclass
class _Merged:
    """Vocabulary under construction: later files override entries, extend lists."""

    words: dict[str, str] = field(default_factory=dict)
    regional: dict[str, dict[str, str]] = field(default_factory=dict)
    postcodes: dict[str, str] = field(default_factory=dict)
    prefixes: dict[str, list[str]] = field(default_factory=dict)
    areas: dict[str, list[str]] = field(default_factory=dict)
    order_free: dict[str, bool] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    honorifics: set[str] = field(default_factory=set)
    regional_honorifics: dict[str, set[str]] = field(default_factory=dict)
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def add(self, entry: _VocabularyFile, origin: str) -> None:
        self.sources.append(origin)
        self.words.update(_folded_words(entry.address.words, origin))
        self.honorifics.update(fold_entry(word) for word in entry.name.honorifics)
        for mailbox in entry.mailboxes:
            for domain in mailbox.domains:
                canonical = (mailbox.canonical or domain).lower()
                self.mailboxes[domain.lower()] = Mailbox(
                    canonical, mailbox.tag, mailbox.ignores_dots
                )
        region = entry.locale
        if region is None:
            return
        self.regional.setdefault(region, {}).update(
            _folded_words(entry.address.regional_words, origin)
        )
        if entry.address.postcode is not None:
            self.postcodes[region] = entry.address.postcode
        self.prefixes.setdefault(region, []).extend(
            fold_entry(prefix) for prefix in entry.address.postcode_prefixes
        )
        self.areas.setdefault(region, []).extend(fold_entry(area) for area in entry.address.areas)
        if entry.address.order_free is not None:
            self.order_free[region] = entry.address.order_free
        self.names.setdefault(region, []).extend(fold_entry(name) for name in entry.names)
        self.regional_honorifics.setdefault(region, set()).update(
            fold_entry(word) for word in entry.name.regional_honorifics
        )

    def vocabulary(self) -> Vocabulary:
        words, phrases = _split(self.words)
        regional_words, regional_phrases = {}, {}
        for region, table in self.regional.items():
            regional_words[region], regional_phrases[region] = _split(table)
        _check_fixed_points(phrases, words, {}, {}, "every region", self.sources)
        for region in self.regional:
            scope = f"region {region}"
            tables = (phrases, words, regional_phrases[region], regional_words[region])
            _check_fixed_points(*tables, scope, self.sources)
        return Vocabulary(
            address_words=words,
            address_phrases=phrases,
            regional_words=regional_words,
            regional_phrases=regional_phrases,
            postcodes=dict(self.postcodes),
            postcode_prefixes={
                region: tuple(dict.fromkeys(prefixes))
                for region, prefixes in self.prefixes.items()
                if prefixes
            },
            areas={region: tuple(dict.fromkeys(areas)) for region, areas in self.areas.items()},
            order_free=frozenset(region for region, free in self.order_free.items() if free),
            country_names={
                region: tuple(dict.fromkeys(names)) for region, names in self.names.items()
            },
            honorifics=frozenset(self.honorifics),
            regional_honorifics={
                region: frozenset(words) for region, words in self.regional_honorifics.items()
            },
            mailboxes=dict(self.mailboxes),
            sources=tuple(self.sources),
        )


def _folded_words(words: Mapping[str, str], origin: str) -> dict[str, str]:
    folded = {}
    for word, replacement in words.items():
        key = fold_entry(word)
        if not key:
            raise ConfigError(f"vocabulary {origin}: the word {word!r} has no letters or digits")
        folded[key] = fold_entry(replacement)
    return folded


def _split(table: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Single words and phrases (several words) of a replacement table."""
    words = {word: new for word, new in table.items() if " " not in word}
    phrases = {phrase: new for phrase, new in table.items() if " " in phrase}
    return words, phrases


def replace_folded(
    text: str,
    phrases: Mapping[str, str],
    words: Mapping[str, str],
    regional_phrases: Mapping[str, str],
    regional_words: Mapping[str, str],
) -> str:
    """Folded text through the tables in the order the address rules apply them.

    Every region's phrases, its words and its phrases again (a dropped word may join one), then
    the value's region's likewise.
    The address normaliser does the same vectorised; this is its reference, used to check that
    a vocabulary keeps keys stable.

    Examples
    --------
    >>> replace_folded("jalan sudirman no 12", {}, {"jalan": "jl", "no": ""}, {}, {})
    'jl sudirman 12'
    """
    for phrase_table, word_table in ((phrases, words), (regional_phrases, regional_words)):
        text = " ".join(
            word_table.get(token, token) for token in replace_phrases(text, phrase_table).split()
        )
        text = replace_phrases(text, phrase_table)
    return " ".join(text.split())


def replace_phrases(text: str, phrases: Mapping[str, str]) -> str:
    """Replace whole-word phrases; each word stands between two spaces of its own.

    Doubling the spaces lets two occurrences that touch both match, in one pass.

    Examples
    --------
    >>> replace_phrases("p o box p o box 12", {"p o box": "po box"})
    'po box po box 12'
    """
    padded = f"  {'  '.join(text.split())}  "
    for phrase, new in phrases.items():
        padded = padded.replace(spaced(phrase), spaced(new))
    return " ".join(padded.split())


def spaced(phrase: str) -> str:
    """A phrase as it stands in doubly spaced text: ``" p  o  box "``."""
    return f" {'  '.join(phrase.split())} " if phrase else " "


def _check_fixed_points(
    phrases: Mapping[str, str],
    words: Mapping[str, str],
    regional_phrases: Mapping[str, str],
    regional_words: Mapping[str, str],
    scope: str,
    sources: Sequence[str],
) -> None:
    tables = (phrases, words, regional_phrases, regional_words)
    for table in tables:
        for entry in table:
            once = replace_folded(entry, *tables)
            twice = replace_folded(once, *tables)
            if twice != once:
                raise ConfigError(
                    f"vocabulary ({', '.join(sources)}), {scope}: {entry!r} becomes {once!r}, "
                    f"which becomes {twice!r}; a replacement must stay as it is, or keys "
                    "would change when normalised again"
                )


def _read(text: str, origin: str) -> _VocabularyFile:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"vocabulary {origin} is not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"vocabulary {origin} must be a mapping (locale, address, name, ...)")
    try:
        return _VocabularyFile.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, "file")
        raise ConfigError(f"vocabulary {origin} is not valid: {problems}") from None


def _builtin_files() -> list[tuple[str, str]]:
    folder = resources.files("loaders.normalise").joinpath("data")
    found = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )
    return [(f"built-in {name}", text) for name, text in found]


def load_vocabulary(extra: Sequence[Path | str] = ()) -> Vocabulary:
    """The built-in vocabulary, extended or overridden by the user's files in order.

    Parameters
    ----------
    extra : sequence of path
        YAML files in the format of the module docstring, read after the built-in ones.

    Returns
    -------
    Vocabulary
        Everything merged and folded.

    Raises
    ------
    ConfigError
        A file is missing, not YAML, not in the format (the message names the file and the
        field), or makes a replacement that is not its own fixed point.

    Examples
    --------
    >>> import tempfile
    >>> own = Path(tempfile.mkdtemp()) / "jakarta.yaml"
    >>> _ = own.write_text("locale: ID\\naddress:\\n  regional_words: {Jaktim: jakarta timur}\\n")
    >>> load_vocabulary([own]).regional_words["ID"]["jaktim"]
    'jakarta timur'
    """
    merged = _Merged()
    for origin, text in _builtin_files():
        merged.add(_read(text, origin), origin)
    for path in map(Path, extra):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read vocabulary {path}: {exc.strerror}") from None
        merged.add(_read(text, str(path)), str(path))
    return merged.vocabulary()


#: The built-in vocabulary, read once when the package is imported.
DEFAULT_VOCABULARY = load_vocabulary()
