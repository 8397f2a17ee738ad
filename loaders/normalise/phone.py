"""Phone numbers, as E.164.

``"+14155550123"``: separators (spaces, dots, dashes, brackets, slashes), a ``tel:`` prefix and
an extension (``x12``, ``ext. 12``, ``#12``, ``;ext=12``) are dropped: the key is the line, not
the desk. A leading ``00`` is read as the international prefix, in every region; a number
without ``+`` or ``00`` is national to its region, with the region's national prefix (``0`` in
most of Europe and Southeast Asia, ``1`` in North America) and its own international prefix
(``011`` in North America, ``001`` in Indonesia) understood: ``0812-3456-7890`` in Indonesia is
``+6281234567890``, ``012-345 6789`` in Malaysia ``+60123456789``, ``081 234 5678`` in Thailand
``+66812345678``, ``0912 345 678`` in Vietnam ``+84912345678``, ``0917 123 4567`` in the
Philippines ``+639171234567``, ``9123 4567`` in Singapore ``+6591234567``.

The region comes once for a whole source (``region="ID"``) or per value, from a column such as
``country``, as an ISO code or a country name (see :mod:`loaders.normalise.regions`). A value
whose region is missing or names no country still normalises when it is written with ``+`` or
``00``; otherwise it is an error that says so.

A number must be *valid* in the sense of the ``phonenumbers`` library (its length and range
exist in the country's numbering plan), so ``"123-456-7890"`` and ``"000 000 0000"`` are errors,
not a node every lazy sign-up shares. Common shapes are decided by vectorised rules built from
the library's own metadata, which agree with the library exactly; anything else is parsed by the
library itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import NumberParseException, ValidationResult
from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc

from graphfraud.errors import ConfigError
from loaders.normalise.common import (
    SPACE_CHARS,
    Normalised,
    as_text,
    flag,
    groups,
    normalised,
    strings,
)
from loaders.normalise.regions import region_code, region_codes
from loaders.normalise.vocabulary import DEFAULT_VOCABULARY, Vocabulary

_PHONE_SEPARATORS = f"[{SPACE_CHARS}.()\\[\\]/~\u2010-\u2015-]"
_PHONE_EXTENSION = "(?:;ext=|extension|ext|x|#)[0-9]{1,7}$"
#: Up to this many numbers go to the library alone: its ~25 µs a number beat the vectorised
#: rules' fixed cost (tens of milliseconds) for a risk check's one number.
FEW_PHONES = 64

#: Country calling codes by their number of digits, tried shortest first as phonenumbers does.
_CALLING_CODES: Mapping[int, list[str]] = {
    width: [
        text for text in map(str, phonenumbers.COUNTRY_CODE_TO_REGION_CODE) if len(text) == width
    ]
    for width in (1, 2, 3)
}

_PARSE_FAILURES: Mapping[int, str] = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "no number in it",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_INVALID_NUMBERS: Mapping[int, str] = {
    ValidationResult.IS_POSSIBLE: "no such number range",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "no area code",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.INVALID_LENGTH: "wrong number of digits",
    ValidationResult.TOO_LONG: "too long",
}


def normalise_phone(
    values: pd.Series,
    *,
    region: str | pd.Series = "US",
    vocabulary: Vocabulary = DEFAULT_VOCABULARY,
) -> Normalised:
    """Phone numbers in E.164; numbers that cannot exist are errors.

    Parameters
    ----------
    values : pandas.Series
        Raw phone numbers.
    region : str or pandas.Series, optional
        Region of numbers written without a country code: one for all values, or one per
        value (matched by position), each an ISO 3166 code or a country name.
    vocabulary : Vocabulary, optional
        Country names beyond ISO's (``UK``, ``Vietnam``).

    Returns
    -------
    Normalised
        E.164 keys and error reasons.

    Raises
    ------
    ConfigError
        If one region is given for all values and it is not a region phonenumbers knows.

    Notes
    -----
    The ``phonenumbers`` library costs about 25 µs a number. Most numbers take a vectorised path
    instead: the validity rules of each numbering plan that occurs (its number-length and range
    patterns, from the library's metadata) run as Arrow regexes over all numbers of that plan at
    once, mirroring the library's own parsing and validation. Numbers the vectorised path cannot
    vouch for (unusual shapes, national prefixes that need rewriting, invalid numbers, which
    also need a reason) go to the library one by one. So do all numbers of a call with at most
    ``FEW_PHONES`` of them, where the vectorised rules' fixed cost would dominate.

    Examples
    --------
    >>> phones = pd.Series(["(415) 555-0123", "+1 415.555.0123 ext. 9", "0044 20 7946 0958", "12"])
    >>> result = normalise_phone(phones, region="US")
    >>> result.values.tolist()
    ['+14155550123', '+14155550123', '+442079460958', <NA>]
    >>> result.errors.tolist()
    [<NA>, <NA>, <NA>, 'not a valid +1 number: too short']
    >>> indonesian = pd.Series(["0812-3456-7890", "0812 3456 7890", "0812-3456-7890"])
    >>> normalise_phone(indonesian, region=pd.Series(["ID", "Indonesia", "US"])).values.tolist()
    ['+6281234567890', '+6281234567890', <NA>]
    """
    text = as_text(values)
    codes, given = region_codes(region, len(text), vocabulary)
    if isinstance(region, str):
        # One region for a whole source must have a numbering plan: a typo is a config error.
        _dialing_rules(str(region_code(region, vocabulary)))
    for code, rows in groups(codes):
        if PhoneMetadata.metadata_for_region(str(code)) is None:
            codes[rows] = None  # a country without a numbering plan of its own, such as AQ
    dialled = (
        text.str.lower()
        .str.replace("^tel:", "", regex=True)
        .str.replace(_PHONE_SEPARATORS, "", regex=True)
        .str.replace(_PHONE_EXTENSION, "", regex=True)
        .str.replace("^00", "+", regex=True)
    )
    keys = np.full(len(dialled), None, dtype=object)
    if len(dialled) > FEW_PHONES:
        _vouch(dialled, codes, keys)

    errors = np.full(len(dialled), None, dtype=object)
    rest = np.flatnonzero(flag(dialled.notna()) & pd.isna(keys))
    pairs = pd.DataFrame(
        {"dialled": dialled.iloc[rest].to_numpy(dtype=object), "region": codes[rest]}
    )
    labels, uniques = pd.factorize(pd.MultiIndex.from_frame(pairs.fillna("")))
    outcomes = [_parse_phone(number, region or None) for number, region in uniques]
    keys[rest] = [outcomes[label][0] for label in labels]
    errors[rest] = [outcomes[label][1] for label in labels]
    # A national number needs a region: name the one that could not be read, if any.
    unknown = rest[pd.isna(codes[rest]) & ~flag(dialled.iloc[rest].str.startswith("+"))]
    errors[unknown] = [_no_region(given[row]) for row in unknown]
    return normalised(values, strings(keys), strings(errors))


def _vouch(dialled: pd.Series, codes: np.ndarray, keys: np.ndarray) -> None:
    """Fill ``keys`` with the numbers the vectorised rules find valid (the library agrees)."""
    international = flag(dialled.str.fullmatch(r"\+[1-9][0-9]{2,19}"))
    candidates = list(_international_candidates(dialled[international].str.slice(1)))
    bare = flag(dialled.str.fullmatch("[0-9]{3,20}"))
    for code, rows in groups(codes):
        national = rows[bare[rows]]
        candidates += _national_candidates(dialled.iloc[national], _dialing_rules(str(code)))
    for calling_code, national in candidates:
        valid = national[_valid_numbers(calling_code, national)]
        keys[valid.index] = (f"+{calling_code}" + valid).to_numpy(dtype=object)


def _no_region(given: object) -> str:
    if given is None:
        return "not a phone number: no country code, and no region to read it in"
    return f"not a phone number: no country code, and region {given!r} has no numbering plan"


@dataclass(frozen=True)
class _NumberPattern:
    """Numbers of given lengths (any, if none given) matching a pattern: a PhoneNumberDesc."""

    lengths: tuple[int, ...]
    pattern: str

    @classmethod
    def of(cls, desc: PhoneNumberDesc | None) -> _NumberPattern | None:
        if desc is None or not desc.national_number_pattern:
            return None
        return cls(tuple(desc.possible_length), desc.national_number_pattern)

    def matches(self, national: pd.Series) -> np.ndarray:
        hit = flag(national.str.fullmatch(self.pattern))
        if self.lengths:
            hit &= np.isin(national.str.len().to_numpy(dtype=np.int64), self.lengths)
        return hit


@dataclass(frozen=True)
class _DialingRules:
    """How phonenumbers reads a number dialled without '+' in one region."""

    region: str
    calling_code: int
    international_prefix: str | None
    national_prefix: str | None
    rewrites_national_prefix: bool
    general: _NumberPattern
    local_lengths: tuple[int, ...]


@cache
def _dialing_rules(region: str) -> _DialingRules:
    metadata = PhoneMetadata.metadata_for_region(region.strip().upper())
    desc = metadata.general_desc if metadata is not None else None
    general = _NumberPattern.of(desc)
    if metadata is None or metadata.country_code is None or desc is None or general is None:
        raise ConfigError(f"unknown phone region {region!r}: give an ISO 3166 code such as 'US'")
    return _DialingRules(
        region=metadata.id,
        calling_code=metadata.country_code,
        international_prefix=metadata.international_prefix,
        national_prefix=metadata.national_prefix_for_parsing,
        rewrites_national_prefix=bool(metadata.national_prefix_transform_rule),
        general=general,
        local_lengths=tuple(desc.possible_length_local_only),
    )


def _parse_phone(dialled: str, region: str | None) -> tuple[str | None, str | None]:
    """The E.164 key of one number or the reason it has none, by phonenumbers itself."""
    try:
        number = phonenumbers.parse(dialled, region)
    except NumberParseException as failure:
        return None, f"not a phone number: {_PARSE_FAILURES.get(failure.error_type, 'unreadable')}"
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
    reason = _INVALID_NUMBERS[phonenumbers.is_possible_number_with_reason(number)]
    return None, f"not a valid +{number.country_code} number: {reason}"


def _international_candidates(digits: pd.Series) -> Iterator[tuple[int, pd.Series]]:
    for width, codes in _CALLING_CODES.items():
        head = digits.str.slice(0, width)
        known = flag(head.isin(codes))
        for code_text, numbers in digits[known].groupby(head[known], sort=False):
            code = int(str(code_text))
            national = numbers.str.slice(width)
            # A national prefix after the country code ("+44 (0)20 ...") is stripped or kept
            # depending on what remains: phonenumbers decides those.
            prefix = _national_prefix(code)
            if prefix:
                national = national[~flag(national.str.match(prefix))]
            yield code, national
        digits = digits[~known]


def _national_candidates(
    digits: pd.Series, rules: _DialingRules
) -> Iterator[tuple[int, pd.Series]]:
    code, code_text = rules.calling_code, str(rules.calling_code)
    if rules.international_prefix:
        digits = digits[~flag(digits.str.match(rules.international_prefix))]

    # The region's own country code without '+' ("1 415 555 0123"): phonenumbers takes it as
    # the code when the digits only fit the plan without it, or are too long with it.
    with_code = flag(digits.str.startswith(code_text))
    whole = digits[with_code]
    rest = whole.str.slice(len(code_text))
    fits = rules.general.pattern
    size = whole.str.len().to_numpy(dtype=np.int64)
    too_long = (size > max(rules.general.lengths)) & ~np.isin(size, rules.local_lengths)
    taken = (~flag(whole.str.fullmatch(fits)) & flag(rest.str.fullmatch(fits))) | too_long
    if rules.national_prefix:
        taken &= ~flag(rest.str.match(rules.national_prefix))
    yield code, rest[taken]

    national = digits[~with_code]
    if rules.national_prefix:
        prefixed = flag(national.str.match(rules.national_prefix))
        if not rules.rewrites_national_prefix:
            # phonenumbers drops a national prefix whenever what remains is a valid number.
            pattern = f"^(?:{rules.national_prefix})"
            yield code, national[prefixed].str.replace(pattern, "", n=1, regex=True)
        national = national[~prefixed]
    yield code, national


@dataclass(frozen=True)
class _NumberingPlan:
    """What phonenumbers needs to tell a region's valid numbers from the rest."""

    leading_digits: str | None
    general: _NumberPattern
    types: tuple[_NumberPattern, ...]

    def valid(self, national: pd.Series) -> np.ndarray:
        """Numbers of a known type (fixed line, mobile, toll free, ...) in this region."""
        hit = self.general.matches(national)
        rows = np.flatnonzero(hit)
        candidates = national.iloc[rows]
        typed = np.zeros(len(rows), dtype=bool)
        for number_type in self.types:
            typed |= number_type.matches(candidates)
        hit[rows] = typed
        return hit


_NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _national_prefix(code: int) -> str | None:
    """The national prefix pattern of the main region of a calling code (what parse uses)."""
    main = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, main)
    return metadata.national_prefix_for_parsing if metadata is not None else None


@cache
def _numbering_plan(code: int, region: str) -> _NumberingPlan | None:
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    general = _NumberPattern.of(metadata.general_desc) if metadata is not None else None
    if metadata is None or general is None:
        return None
    # One regex per set of lengths instead of one per number type: same answer, fewer passes.
    by_lengths: dict[tuple[int, ...], list[str]] = {}
    for name in _NUMBER_TYPES:
        number_type = _NumberPattern.of(getattr(metadata, name))
        if number_type is not None:
            by_lengths.setdefault(number_type.lengths, []).append(number_type.pattern)
    return _NumberingPlan(
        leading_digits=metadata.leading_digits,
        general=general,
        types=tuple(
            _NumberPattern(lengths, "|".join(f"(?:{pattern})" for pattern in patterns))
            for lengths, patterns in by_lengths.items()
        ),
    )


def _valid_numbers(code: int, national: pd.Series) -> np.ndarray:
    """Mask of the national numbers that phonenumbers.is_valid_number accepts under ``code``."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
    valid = np.zeros(len(national), dtype=bool)
    if len(regions) == 1:
        plan = _numbering_plan(code, regions[0])
        return plan.valid(national) if plan is not None else valid
    # A shared code (+1: US, CA and 23 more): the first region that claims a number, by its
    # leading digits or else by a valid match, decides whether the number is valid.
    unclaimed = np.ones(len(national), dtype=bool)
    for region in regions:
        plan = _numbering_plan(code, region)
        rows = np.flatnonzero(unclaimed)
        if plan is None or not len(rows):
            continue
        numbers = national.iloc[rows]
        if plan.leading_digits:
            claimed = flag(numbers.str.match(plan.leading_digits))
            valid[rows[claimed]] = plan.valid(numbers[claimed])
        else:
            claimed = plan.valid(numbers)
            valid[rows[claimed]] = True
        unclaimed[rows[claimed]] = False
    return valid
