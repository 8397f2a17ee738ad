"""Free-text addresses, canonicalised so that spellings of one place collide.

The words come from the vocabulary files (:mod:`loaders.normalise.vocabulary`); the rules that
use them are here. An address may carry a region (one per source, or one per value from a
column such as ``country``): the region's own words, postcode, areas and order rules then apply
as well. In order:

1. **Folding.** Lower-cased; accents dropped (``Málaga`` → ``malaga``, ``Đường`` → ``duong``);
   apostrophes dropped (``St. John's`` → ``st johns``).
2. **Shapes.** US ZIP+4 becomes the 5-digit ZIP (``62704-1234`` → ``62704``); Indonesian RT/RW
   becomes ``rt N rw N`` without leading zeros (``RT 003/RW 005``, ``RT.03 RW.05``,
   ``rt3 rw5`` and ``RT/RW 003/005`` → ``rt3 rw5``, also where a dropped word stood between,
   step 3); a letter and a digit joined by a hyphen
   are joined (``4-B`` → ``4b``); ``#`` is a word of its own (``#05-123`` → ``# 05 123``);
   other punctuation, a slash standing alone and all whitespace runs become one space (a slash
   inside a word stays: ``99/1``).
3. **Phrases and words** of every region, then of the value's region (see the data files): for
   example ``street`` → ``st``, ``apt``/``#``/``suite``/``flat`` → ``unit``, ``one`` → ``1``,
   ``P.O. Box`` → ``po box`` (``common.yaml``); ``Jalan``/``Jln``/``Jl.`` → ``jl``,
   ``Gang``/``Gg.`` → ``gg``, ``Komplek``/``Komp.`` → ``komp``, ``Perumahan``/``Perum.`` →
   ``perum``, ``Blok`` → ``blk``, and the markers ``No.``, ``Nomor``, ``Kel.``,
   ``Kelurahan``, ``Kec.``, ``Kecamatan``, ``Provinsi`` dropped, since people write the number
   or name with or without them (``id.yaml``); ``Lorong``/``Lrg`` → ``lrg``, ``Taman``/``Tmn``
   → ``tmn`` (``my.yaml``); ``Thanon``/``Th.`` → ``thanon``, ``Moo``/``Mu`` → ``moo``,
   ``Khet``/``Khwaeng``/``Amphoe``/``Tambon`` dropped (``th.yaml``); ``Phường``/``P.`` →
   ``phuong``, ``Quận``/``Q.``/``Q1`` → ``quan``/``quan 1``, ``Số``, ``Đường`` dropped
   (``vn.yaml``);
   ``Barangay``/``Brgy.`` → ``brgy`` (``ph.yaml``); ``Blk``/``Block`` dropped in Singapore,
   where the postcode names the building (``sg.yaml``).
4. **Units and blocks.** Repeated unit words are one (``Apt #4B`` → ``unit 4b``); a unit
   number and its letter join (``Apartment 4 B`` → ``unit 4b``) and lose leading zeros
   (``#05-123`` → ``unit 5 123``); a block letter and number join (``Blok C.2`` → ``blk c2``).
5. **Countries.** A trailing country name of a known market (after the value's own country
   is dropped, step 6) becomes its ISO code
   (``U.S.A.``, ``United States`` → ``us``; ``UK``, ``Great Britain`` → ``gb``;
   ``Indonesia`` → ``id``; ``Viet Nam`` → ``vn``); a UK-style postcode is upper-cased with one
   space (``sw1a1aa`` → ``SW1A 1AA``).
6. **The value's region**, where it is known:

   * its postcode may carry a prefix (``S560123`` → ``560123`` in Singapore);
   * its own country is dropped at the end (unless it is all the address says) and next to
     the postcode: the region says it already;
   * where the order is free (``order_free`` in the region's file: Indonesia, Malaysia,
     Thailand, Vietnam, the Philippines, Singapore), RT/RW (in alphabetical order) and before
     it the last postcode are moved to the end, since people write them before or after the
     city and the kelurahan;
     everything else keeps its order, which is the convention (street, number, area, city);
   * areas the postcode implies (US states, Indonesian provinces, Malaysian states...) just
     before the postcode are dropped: ``Springfield, IL 62704`` and ``Springfield 62704``
     collide, as do ``Jakarta Selatan, DKI Jakarta 12190`` and ``Jakarta Selatan 12190``.

Words otherwise keep their order: ``"Apt 4B, 12 Main St"`` and ``"12 Main St Apt 4B"`` stay two
keys (US and UK addresses have one conventional order, so a different order may be a different
place). A value with no letter or digit is an error. ``"12 Main Street, Apt. #4B, Springfield,
IL 62704-1234, U.S.A."`` → ``"12 main st unit 4b springfield 62704"``; with region ``ID``,
``"Jl. Sudirman No. 12, RT 003/RW 005, Kel. Karet, Jakarta Selatan, DKI Jakarta 12190"`` →
``"jl sudirman 12 karet jakarta selatan 12190 rt3 rw5"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loaders.normalise.common import (
    SPACES,
    Normalised,
    arrow,
    as_text,
    first_failure,
    flag,
    fold_unicode,
    from_arrow,
    groups,
    has_letter_or_digit,
    normalised,
    replace_words,
    rewrite,
)
from loaders.normalise.regions import region_codes
from loaders.normalise.vocabulary import DEFAULT_VOCABULARY, Vocabulary, spaced

# ASCII punctuation but the apostrophes (dropped), '#' (a unit) and '/' (as in "99/1").
_PUNCTUATION = '[!"$%&()*+,\\-.:;<=>?@\\[\\\\\\]^_{|}~]'
_UK_POSTCODE = "[a-z]{1,2}[0-9][a-z0-9]? ?[0-9][a-z]{2}"

#: RT/RW in its one form, ``rt3 rw5`` (RE2; \b is an ASCII word edge).
_RT_RW_SHAPES: tuple[tuple[str, str], ...] = (
    (r"\brt ?/ ?rw[ .:]*0*([0-9]{1,3}) ?/ ?0*([0-9]{1,3})\b", r" rt\1 rw\2 "),
    (r"\b(rt|rw)[ .:]*0*([0-9]{1,3})\b", r" \1\2 "),
)
#: Rewrites on the folded text before it is split into words.
_SHAPES: tuple[tuple[str, str], ...] = (
    ("['`]", ""),
    ("([^0-9][0-9]{5})-[0-9]{4}([^0-9])", r"\1\2"),
    *_RT_RW_SHAPES,
    ("([0-9])-([a-z])|([a-z])-([0-9])", r"\1\2\3\4"),
    ("#", " # "),
    (_PUNCTUATION, " "),
    (f"(?:{SPACES}/)+{SPACES}", " "),
    (SPACES, " "),
)
#: Rewrites on the words, padded with one space at each end.
_UNITS: tuple[tuple[str, str], ...] = (
    (" unit(?: unit)+ ", " unit "),
    (" unit 0*([0-9]+) ([a-z]) ", r" unit \1\2 "),
    (" unit 0+([0-9])", r" unit \1"),
    (" blk ([a-z]) ([0-9]+) ", r" blk \1\2 "),
)
_RT_RW_WORD = "(?:rt|rw)[0-9]+"


def normalise_address(
    values: pd.Series,
    *,
    region: str | pd.Series = "US",
    vocabulary: Vocabulary = DEFAULT_VOCABULARY,
) -> Normalised:
    """Free-text addresses, canonicalised so that spellings of one place collide.

    Parameters
    ----------
    values : pandas.Series
        Raw addresses.
    region : str or pandas.Series, optional
        The addresses' region: one for all values, or one per value (matched by position), each
        an ISO 3166 code or a country name. Values whose region is missing or unknown get the
        rules every region shares.
    vocabulary : Vocabulary, optional
        The words, postcodes and areas of each region.

    Returns
    -------
    Normalised
        Keys and error reasons.

    Raises
    ------
    ConfigError
        One region was given for all values and it names no country.

    Examples
    --------
    >>> addresses = pd.Series([
    ...     "12 Main Street, Apt. #4B, Springfield, IL 62704-1234, U.S.A.",
    ...     "12  MAIN ST  unit 4-b springfield il 62704 United States",
    ...     "Flat 2, 10 Downing St, London sw1a2aa, UK",
    ... ])
    >>> normalise_address(addresses).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['12 main st unit 4b springfield 62704',
     '12 main st unit 4b springfield 62704',
     'unit 2 10 downing st london SW1A 2AA gb']
    >>> jakarta = pd.Series([
    ...     "Jl. Sudirman No. 12, Jakarta Selatan 12190",
    ...     "JALAN SUDIRMAN 12 JAKARTA SELATAN 12190",
    ...     "jl sudirman no.12, jakarta selatan, 12190",
    ...     "Jl Sudirman 12 RT.03/RW.05, Jakarta Selatan, DKI Jakarta 12190, Indonesia",
    ...     "JLN. SUDIRMAN NO 12 RT 003 RW 005 JAKARTA SELATAN 12190",
    ... ])
    >>> normalise_address(jakarta, region="ID").values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['jl sudirman 12 jakarta selatan 12190',
     'jl sudirman 12 jakarta selatan 12190',
     'jl sudirman 12 jakarta selatan 12190',
     'jl sudirman 12 jakarta selatan 12190 rt3 rw5',
     'jl sudirman 12 jakarta selatan 12190 rt3 rw5']
    """
    codes, _ = region_codes(region, len(values), vocabulary)
    rules = _rules(vocabulary)
    # Folding can produce capitals (the modifier letter ᴮ becomes B): lower-case after it too.
    text = fold_unicode(as_text(values).str.lower()).str.lower()
    # Padded so that patterns find word edges without look-arounds (which RE2 lacks).
    folded = arrow(" " + text + " ")
    for pattern, replacement in _SHAPES:
        folded = pc.replace_substring_regex(folded, pattern, replacement)
    words = rules.everywhere.apply(from_arrow(pc.utf8_trim_whitespace(folded), text.index))
    padded = " " + words + " "
    # A dropped or replaced word may have stood inside an RT/RW ("RT Kel. 3"): read it again.
    padded = _rt_rw(padded)
    keys = np.full(len(text), None, dtype=object)
    regional = np.zeros(len(text), dtype=bool)
    for code, rows in groups(codes):
        local = rules.regional.get(str(code))
        if local is not None:
            keys[rows] = local.apply(padded.iloc[rows], rules).to_numpy(dtype=object)
            regional[rows] = True
    rest = np.flatnonzero(~regional)
    keys[rest] = _finish(rules.with_country_codes(padded.iloc[rest])).to_numpy(dtype=object)
    result = pd.Series(keys, dtype=text.dtype)
    meaningful = has_letter_or_digit(result)
    errors = first_failure(
        [(flag(text.notna()) & ~meaningful, "not an address: no letters or digits")], len(text)
    )
    return normalised(values, result.where(meaningful), errors)


@dataclass(frozen=True)
class _Words:
    """Phrases then words, one table of each."""

    phrases: Mapping[str, str]
    words: Mapping[str, str]

    def apply(self, text: pd.Series) -> pd.Series:
        """Replace phrases, words, then phrases a dropped word joined, in single-spaced text."""
        return self._phrases(replace_words(self._phrases(text), self.words))

    def _phrases(self, text: pd.Series) -> pd.Series:
        if not self.phrases:
            return text
        doubled = "  " + text.str.replace(SPACES, "  ", regex=True) + "  "
        for phrase, new in self.phrases.items():
            doubled = doubled.str.replace(spaced(phrase), spaced(new), regex=False)
        return doubled.str.replace(SPACES, " ", regex=True).str.strip()


@dataclass(frozen=True)
class _Regional:
    """What the addresses of one region get after the rules every region shares."""

    words: _Words
    #: The region's own country: its code and names, folded.
    own_names: Sequence[str]
    postcode: str | None
    prefixes: Sequence[str]
    areas: Sequence[str]
    order_free: bool

    def apply(self, padded: pd.Series, rules: _Rules) -> pd.Series:
        """Keys of one region's addresses, from padded text after the shared rules."""
        text = " " + self.words.apply(padded.str.strip()) + " "
        # The region says the country: drop it at the end (unless it is all there is), then
        # name other countries by their codes. In this order a dropped name never uncovers
        # another country's name that a second pass would rewrite.
        own = "|".join(map(re.escape, self.own_names))
        text = rewrite(text, f"^( .*?[^ ])(?: (?:{own}))+ $", r"\1 ")
        text = rules.with_country_codes(text, besides=self.own_names[0].upper())
        if self.order_free:
            text = _to_the_end(_rt_rw(text), f"^{_RT_RW_WORD}$")
        if self.postcode is not None:
            code = f"(?:{self.postcode})"
            if self.prefixes:
                prefix = "|".join(map(re.escape, self.prefixes))
                text = _rewrite_all(text, f" (?:(?:{prefix}) ?)+({code}) ", r" \1 ")
            # Next to a postcode the country and the areas it implies say nothing.
            implied = "|".join(map(re.escape, (*self.own_names, *self.areas)))
            text = _rewrite_all(text, f" ({code})(?: (?:{own}))+ ", r" \1 ")
            if self.order_free:
                # The last postcode goes to the end, before the RT/RW already there.
                rt_rw = f"(?: {_RT_RW_WORD})*"
                text = rewrite(text, f"^(.*) ({code})((?: [^ ]+)*?)({rt_rw}) $", r"\1\3 \2\4 ")
                text = rewrite(text, f"(?: (?:{implied}))+ ({code})({rt_rw}) $", r" \1\2 ")
            else:
                text = _rewrite_all(text, f"(?: (?:{implied}))+ ({code}) ", r" \1 ")
        return _finish(text)


def _rt_rw(padded: pd.Series) -> pd.Series:
    """RT/RW read again once words moved or dropped, single-spaced and padded."""
    for pattern, replacement in _RT_RW_SHAPES:
        padded = rewrite(padded, pattern, replacement)
    return " " + padded.str.replace(SPACES, " ", regex=True).str.strip() + " "


def _rewrite_all(padded: pd.Series, pattern: str, replacement: str) -> pd.Series:
    """A rewrite whose matches end in the space the next match would start with.

    One pass rewrites every other one of neighbouring matches; a second pass the rest.
    """
    return rewrite(rewrite(padded, pattern, replacement), pattern, replacement)


def _to_the_end(padded: pd.Series, pattern: str) -> pd.Series:
    """Words matching ``pattern`` moved to the end, sorted; the others keep their order."""
    lists = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(arrow(padded)))
    offsets = lists.offsets.to_numpy()
    tokens = lists.values.slice(offsets[0], offsets[-1] - offsets[0])
    owner = np.repeat(np.arange(len(lists)), np.diff(offsets))
    moved = pc.match_substring_regex(tokens, pattern).to_numpy(zero_copy_only=False)
    if not moved.any():
        return padded
    # Moved words sort by their text, the others by where they stand.
    rank = np.empty(len(tokens), dtype=np.int64)
    rank[pc.sort_indices(tokens).to_numpy()] = np.arange(len(tokens))
    order = np.lexsort((np.where(moved, rank, np.arange(len(tokens))), moved, owner))
    rebuilt = pa.ListArray.from_arrays(
        pa.array(offsets - offsets[0], pa.int32()), tokens.take(pa.array(order)),
        mask=lists.is_null(),
    )  # fmt: skip
    joined = pc.binary_join(rebuilt, pa.scalar(" ", tokens.type))
    return " " + from_arrow(joined, padded.index) + " "


@dataclass(frozen=True)
class _Rules:
    """A vocabulary turned into the address rules' tables and patterns."""

    everywhere: _Words
    country_names: Mapping[str, Sequence[str]]
    regional: Mapping[str, _Regional]

    def with_country_codes(self, padded: pd.Series, *, besides: str = "") -> pd.Series:
        """A trailing country name becomes its ISO code, lower-cased (but ``besides``'s).

        An address of a region that names only its own country keeps the name: the code may
        be one of the region's own abbreviations (``th`` is Thanon in Thailand).
        """
        for region, names in self.country_names.items():
            if region == besides:
                continue
            pattern = f" (?:{'|'.join(map(re.escape, names))}) $"
            padded = rewrite(padded, pattern, f" {region.lower()} ")
        return padded


@cache
def _rules(vocabulary: Vocabulary) -> _Rules:
    """The rules of a vocabulary, built once (a vocabulary is immutable, hashed by identity)."""
    regions = (
        set(vocabulary.regional_words)
        | set(vocabulary.postcodes)
        | set(vocabulary.order_free)
        | set(vocabulary.country_names)
    )
    return _Rules(
        everywhere=_Words(vocabulary.address_phrases, vocabulary.address_words),
        country_names={
            region: names for region, names in vocabulary.country_names.items() if names
        },
        regional={
            region: _Regional(
                words=_Words(
                    vocabulary.regional_phrases.get(region, {}),
                    vocabulary.regional_words.get(region, {}),
                ),
                own_names=(region.lower(), *vocabulary.country_names.get(region, ())),
                postcode=vocabulary.postcodes.get(region),
                prefixes=vocabulary.postcode_prefixes.get(region, ()),
                areas=vocabulary.areas.get(region, ()),
                order_free=region in vocabulary.order_free,
            )
            for region in sorted(regions)
        },
    )


def _finish(padded: pd.Series) -> pd.Series:
    """Unit rules and the UK postcode on padded words; the key without its padding."""
    for pattern, replacement in _UNITS:
        padded = rewrite(padded, pattern, replacement)
    return _upper_case_postcodes(padded).str.strip()


def _upper_case_postcodes(padded: pd.Series) -> pd.Series:
    """Write the last UK-style postcode of each address as ``SW1A 1AA``."""
    rows = flag(padded.str.contains(f" {_UK_POSTCODE} "))
    if not rows.any():
        return padded
    parts = pc.extract_regex(
        arrow(padded[rows]),
        "^(?P<head>.* )(?P<outward>[a-z]{1,2}[0-9][a-z0-9]?) ?(?P<inward>[0-9][a-z]{2})"
        "(?P<tail> .*)$",
    )
    head, outward, inward, tail = (
        parts.field(part) for part in ("head", "outward", "inward", "tail")
    )
    space = pa.scalar(" ", head.type)
    rebuilt = pc.binary_join_element_wise(
        head, pc.utf8_upper(outward), space, pc.utf8_upper(inward), tail, pa.scalar("", head.type)
    )
    padded = padded.copy()
    padded[rows] = from_arrow(rebuilt, padded.index[rows])
    return padded
