"""Identifier normalisers: raw marketplace values become entity keys.

The same real-world thing must always become the same node, however a source spelled it. The
loaders call :func:`normalise` on the unique values of every identifier column; it returns a
:class:`Normalised` holding, for every input value and under the input's index:

``values``
    the key, or ``<NA>`` where the value is missing or invalid;
``errors``
    ``<NA>`` where the value is fine or missing, else a short reason such as
    ``"not an email address: no '@'"``. Null, empty and whitespace-only values are *missing*,
    never errors. Reasons never repeat the value (the rejects file has the raw row);
``display``
    a safe human form where the key is not one (payment instruments), else ``None``.

Every rule is idempotent: a key normalises to itself, so an exported graph loads again
unchanged. Numbers read as floats (``4155550123.0``) are read back as the integers they are.

Rules per entity kind
---------------------
Account, Creator
    Surrounding whitespace is stripped; case and everything inside are kept, because marketplace
    ids are case-sensitive (``" A-17 "`` → ``"A-17"``).

Device
    Fingerprint ids are stripped and lower-cased (``"9F3A-77C "`` → ``"9f3a-77c"``).

Email
    Stripped and lower-cased. Invalid: no ``@``, more than one ``@``, whitespace inside, nothing
    before or after the ``@``, a domain without a dot or with an empty label (``a@b..com``).
    Then the rules of the mailbox provider, where one mailbox answers to many addresses:

    ============================================  ========  ============  ================
    domains                                       tag from  dots ignored  canonical domain
    ============================================  ========  ============  ================
    gmail.com, googlemail.com                     ``+``     yes           gmail.com
    outlook.com, hotmail.com, live.com, msn.com   ``+``     no            unchanged
    icloud.com, me.com, mac.com                   ``+``     no            unchanged
    fastmail.com                                  ``+``     no            unchanged
    protonmail.com, proton.me, pm.me              ``+``     no            unchanged
    yahoo.com                                     ``-``     no            unchanged
    ============================================  ========  ============  ================

    So ``" J.Doe+promo@GoogleMail.com"`` → ``"jdoe@gmail.com"``. The tag runs from its
    character to the ``@``; an address that is only a tag (``+x@gmail.com``) is invalid.
    Yahoo's ``-`` marks its disposable addresses (Yahoo ids cannot hold a hyphen). Other
    domains keep their local part as written (lower-cased).

Phone
    E.164 (``"+14155550123"``). Separators (spaces, dots, dashes, brackets, slashes), a ``tel:``
    prefix and an extension (``x12``, ``ext. 12``, ``#12``, ``;ext=12``) are dropped: the key is
    the line, not the desk. A leading ``00`` is read as the international prefix, in every
    region; a number without ``+`` or ``00`` is national to the region given (setting
    ``GRAPHFRAUD_DEFAULT_PHONE_REGION``, default ``US``), with the region's national prefix
    (``0`` in most of Europe, ``1`` in North America) and its own international prefix (``011``
    in North America) understood. A number must be *valid* in the sense of the ``phonenumbers``
    library (its length and range exist in the country's numbering plan), so ``"123-456-7890"``
    and ``"000 000 0000"`` are errors, not a node every lazy sign-up shares. Common shapes are
    decided by vectorised rules built from the library's own metadata, which agree with the
    library exactly; anything else is parsed by the library itself.

Address
    Free text, canonicalised so that two spellings of one place collide:

    * lower-cased; accents dropped (``Málaga`` → ``malaga``); apostrophes dropped
      (``St. John's`` → ``st johns``); other punctuation and all whitespace runs become one space;
    * a letter and a digit joined by a hyphen are joined (``4-B`` → ``4b``);
    * US ZIP+4 becomes the 5-digit ZIP (``62704-1234`` → ``62704``); a UK-style postcode is
      upper-cased with one space (``sw1a1aa`` → ``SW1A 1AA``);
    * street types, directions and unit designators are abbreviated one way: ``street``,
      ``str``, ``strasse`` → ``st`` (``saint`` → ``st`` too); ``avenue``, ``av`` → ``ave``;
      ``road`` → ``rd``; ``boulevard`` → ``blvd``; ``drive`` → ``dr``; ``lane`` → ``ln``;
      ``court`` → ``ct``; ``place`` → ``pl``; ``terrace`` → ``ter``; ``circle`` → ``cir``;
      ``highway`` → ``hwy``; ``parkway`` → ``pkwy``; ``square`` → ``sq``; ``crescent`` →
      ``cres``; ``close`` → ``cl``; ``trail`` → ``trl``; ``route`` → ``rte``; ``center``,
      ``centre`` → ``ctr``; ``mount`` → ``mt``; ``north`` → ``n`` (and ``s``, ``e``, ``w``,
      ``ne``, ``nw``, ``se``, ``sw``); ``floor`` → ``fl``;
    * every unit form is ``unit``: ``Apt 4B``, ``apt. 4b``, ``#4B``, ``Apt #4B``, ``Unit 4-B``,
      ``Suite 4B``, ``Ste 4B``, ``Flat 4B``, ``Room 4B``, ``Apartment 4 B`` → ``unit 4b``;
    * number words become numbers: ``one`` … ``twenty`` → ``1`` … ``20``, ``first`` …
      ``twentieth`` → ``1st`` … ``20th``; ``P.O. Box`` and ``Post Office Box`` → ``po box``;
    * a trailing country name becomes its ISO code: ``USA``, ``U.S.A.``, ``U.S.``, ``United
      States (of America)`` → ``us``; ``UK``, ``U.K.``, ``United Kingdom``, ``Great Britain`` →
      ``gb`` (``usa`` and ``uk`` anywhere).

    * a US address ends at its ZIP: a state abbreviation just before the ZIP and a trailing
      ``us`` after it are dropped, since exports include or omit them at random
      (``Springfield, IL 62704, USA`` and ``Springfield 62704`` collide).

    Words keep their order: ``"Apt 4B, 12 Main St"`` and ``"12 Main St Apt 4B"`` stay two keys,
    and so does a non-US address with and without its country. A value with no letter or digit
    is an error. ``"12 Main Street, Apt. #4B, Springfield, IL 62704-1234, U.S.A."`` →
    ``"12 main st unit 4b springfield 62704"``.

PaymentInstrument
    A raw card number, spaces and dashes allowed: 12 to 19 digits that pass the Luhn check. The
    key is ``"pi_"`` and the first 20 hex characters of HMAC-SHA256 over the digits, keyed with
    ``GRAPHFRAUD_FINGERPRINT_KEY``: the same card always gets the same key under one key, and
    the number cannot be read back from it. The raw number is never returned, stored or put in
    an error. ``display`` is ``"<brand> ••<last 4>"``, the brand read from the leading digits:
    ``visa`` (4), ``mastercard`` (51-55, 2221-2720), ``amex`` (34, 37), ``discover`` (6011, 65),
    else ``card``. A value that already is a key (``pi_`` and 20 lower-case hex characters)
    passes through unchanged, without a display.

IP
    IPv4 as a dotted quad without leading zeros (``010.000.001.009`` → ``10.0.1.9``; leading
    zeros are read as decimal, never octal), each part 0 to 255. IPv6 in its compressed lower-case
    form (``2001:DB8:0:0::1`` → ``2001:db8::1``); an IPv4-mapped IPv6 address is its IPv4
    (``::ffff:1.2.3.4`` → ``1.2.3.4``). Anything else is an error.

Any other kind
    Kinds are an open set: stripped, inner whitespace runs collapsed to one space.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import NumberParseException, ValidationResult
from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc

from graphfraud.errors import ConfigError
from graphfraud.model import EntityKind

__all__ = [
    "Normalised",
    "fingerprint_card",
    "normalise",
    "normalise_account",
    "normalise_address",
    "normalise_device",
    "normalise_email",
    "normalise_ip",
    "normalise_phone",
    "normalise_text",
]


class Normalised(NamedTuple):
    """Keys, error reasons and (for some kinds) display forms, under the input's index."""

    values: pd.Series
    errors: pd.Series
    display: pd.Series | None


def normalise(
    kind: str,
    values: pd.Series,
    *,
    fingerprint_key: str,
    phone_region: str = "US",
) -> Normalised:
    """Normalise the identifiers of one entity kind; see the module docstring for each rule.

    Parameters
    ----------
    kind : str
        An entity kind such as ``"Email"``; kinds outside :class:`~graphfraud.model.EntityKind`
        get the generic rule of :func:`normalise_text`.
    values : pandas.Series
        Raw values, any dtype.
    fingerprint_key : str
        HMAC key of payment-instrument fingerprints.
    phone_region : str, optional
        Region (ISO 3166 alpha-2) of phone numbers written without a country code.

    Returns
    -------
    Normalised
        Keys, errors and display forms under ``values.index``.

    Raises
    ------
    ConfigError
        If ``fingerprint_key`` is empty (for payment instruments) or ``phone_region`` is not a
        known region (for phones).

    Examples
    --------
    >>> import pandas as pd
    >>> emails = pd.Series(["J.Doe+promo@GoogleMail.com", "", "jdoe.example.com"])
    >>> result = normalise("Email", emails, fingerprint_key="k")
    >>> result.values.tolist()
    ['jdoe@gmail.com', <NA>, <NA>]
    >>> result.errors.tolist()
    [<NA>, <NA>, "not an email address: no '@'"]
    """
    match kind:
        case EntityKind.ACCOUNT | EntityKind.CREATOR:
            return normalise_account(values)
        case EntityKind.DEVICE:
            return normalise_device(values)
        case EntityKind.EMAIL:
            return normalise_email(values)
        case EntityKind.PHONE:
            return normalise_phone(values, region=phone_region)
        case EntityKind.ADDRESS:
            return normalise_address(values)
        case EntityKind.PAYMENT_INSTRUMENT:
            return fingerprint_card(values, key=fingerprint_key)
        case EntityKind.IP:
            return normalise_ip(values)
        case _:
            return normalise_text(values)


# --- shared plumbing ------------------------------------------------------------------------

#: Strings with <NA> for missing, held by Arrow so that .str runs vectorised (RE2 regexes).
_TEXT = pd.StringDtype("pyarrow")

#: Unicode whitespace spelled out: a ``\s`` in a pattern makes pandas leave Arrow for Python.
_SPACE_CHARS = " \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACES = f"[{_SPACE_CHARS}]+"


def _text(values: pd.Series) -> pd.Series:
    """The values as stripped Arrow strings on a fresh RangeIndex; empty becomes missing."""
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.dropna().to_numpy()
        if np.isfinite(numbers).all() and (numbers == np.floor(numbers)).all():
            values = values.astype("Int64")
    text = values.reset_index(drop=True).astype(_TEXT).str.strip()
    return text.where(text != "")


def _flag(mask: pd.Series) -> np.ndarray:
    """A nullable boolean Series as a numpy mask, <NA> counting as False."""
    return mask.to_numpy(dtype=bool, na_value=False)


def _missing(size: int) -> pd.Series:
    return pd.Series(pd.NA, index=pd.RangeIndex(size), dtype=_TEXT)


def _strings(array: np.ndarray) -> pd.Series:
    """An object array of str and None as Arrow strings.

    Setting values into an Arrow-backed Series is slow, so the normalisers that fill their
    results piece by piece fill a numpy array and convert it once.
    """
    return pd.Series(array, dtype=_TEXT)


def _first_failure(checks: list[tuple[np.ndarray, str]], size: int) -> pd.Series:
    """Per row, the reason of the first failed check; <NA> where none failed."""
    reasons = np.full(size, None, dtype=object)
    for failed, reason in reversed(checks):
        reasons[failed] = reason
    return pd.Series(reasons, index=pd.RangeIndex(size), dtype=_TEXT)


def _normalised(
    like: pd.Series,
    values: pd.Series,
    errors: pd.Series | None = None,
    display: pd.Series | None = None,
) -> Normalised:
    """Put the results back under the index of the input ``like``."""
    return Normalised(
        values.set_axis(like.index),
        (errors if errors is not None else _missing(len(like))).set_axis(like.index),
        display.set_axis(like.index) if display is not None else None,
    )


def _arrow(text: pd.Series) -> pa.Array:
    array = pa.array(text.array)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _from_arrow(array: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(array), index=index)


# --- ids ------------------------------------------------------------------------------------


def normalise_account(values: pd.Series) -> Normalised:
    """Account and creator ids: stripped, case kept; empty is missing.

    Examples
    --------
    >>> normalise_account(pd.Series([" A-17 ", "a-17", "  "])).values.tolist()
    ['A-17', 'a-17', <NA>]
    """
    return _normalised(values, _text(values))


def normalise_device(values: pd.Series) -> Normalised:
    """Device fingerprint ids: stripped and lower-cased; empty is missing.

    Examples
    --------
    >>> normalise_device(pd.Series(["9F3A-77C "])).values.tolist()
    ['9f3a-77c']
    """
    return _normalised(values, _text(values).str.lower())


def normalise_text(values: pd.Series) -> Normalised:
    """The rule for kinds without one of their own: stripped, whitespace runs collapsed.

    Examples
    --------
    >>> normalise_text(pd.Series(["  Promo   code\\tX "])).values.tolist()
    ['Promo code X']
    """
    return _normalised(values, _text(values).str.replace(_SPACES, " ", regex=True))


# --- email ----------------------------------------------------------------------------------


class _Mailbox(NamedTuple):
    """How a provider maps many addresses onto one mailbox."""

    domain: str
    tag: str
    ignores_dots: bool


_GMAIL = _Mailbox("gmail.com", "+", ignores_dots=True)
_EMAIL_PROVIDERS: Mapping[str, _Mailbox] = {
    "gmail.com": _GMAIL,
    "googlemail.com": _GMAIL,
    **{
        domain: _Mailbox(domain, "+", ignores_dots=False)
        for domain in (
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "icloud.com",
            "me.com",
            "mac.com",
            "fastmail.com",
            "protonmail.com",
            "proton.me",
            "pm.me",
        )
    },
    "yahoo.com": _Mailbox("yahoo.com", "-", ignores_dots=False),
}


def normalise_email(values: pd.Series) -> Normalised:
    """Email addresses: lower-cased, with provider rules for dots and tags.

    Examples
    --------
    >>> emails = pd.Series(["J.Doe+promo@GoogleMail.com", "Ann+x@Example.org"])
    >>> normalise_email(emails).values.tolist()
    ['jdoe@gmail.com', 'ann+x@example.org']
    """
    text = _text(values).str.lower()
    local = text.str.replace("@.*", "", regex=True)
    domain = text.str.replace("^[^@]*@", "", regex=True)
    for provider, mailbox in _EMAIL_PROVIDERS.items():
        rows = _flag(domain == provider)
        if not rows.any():
            continue
        mailbox_local = local[rows]
        if mailbox.ignores_dots:
            mailbox_local = mailbox_local.str.replace(".", "", regex=False)
        local[rows] = mailbox_local.str.replace(f"[{mailbox.tag}].*", "", regex=True)
        domain[rows] = mailbox.domain
    present = _flag(text.notna())
    ats = text.str.count("@").to_numpy(dtype=np.int64, na_value=0)
    errors = _first_failure(
        [
            (present & (ats == 0), "not an email address: no '@'"),
            (present & (ats > 1), "not an email address: more than one '@'"),
            (_flag(text.str.contains(_SPACES)), "not an email address: whitespace inside"),
            (_flag(text.str.startswith("@")), "not an email address: nothing before '@'"),
            (_flag(text.str.endswith("@")), "not an email address: nothing after '@'"),
            (
                present & ~_flag(domain.str.contains(".", regex=False)),
                "not an email address: no dot in the domain",
            ),
            (
                present & ~_flag(domain.str.fullmatch(r"[^.]+(?:\.[^.]+)+")),
                "not an email address: empty label in the domain",
            ),
            (_flag(local == ""), "not an email address: only a tag before '@'"),
        ],
        len(text),
    )
    keys = (local + "@" + domain).where(errors.isna())
    return _normalised(values, keys, errors)


# --- phone ----------------------------------------------------------------------------------

_PHONE_SEPARATORS = f"[{_SPACE_CHARS}.()\\[\\]/~\u2010-\u2015-]"
_PHONE_EXTENSION = "(?:;ext=|extension|ext|x|#)[0-9]{1,7}$"

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


def normalise_phone(values: pd.Series, *, region: str = "US") -> Normalised:
    """Phone numbers in E.164; numbers that cannot exist are errors.

    Parameters
    ----------
    values : pandas.Series
        Raw phone numbers.
    region : str, optional
        Region (ISO 3166 alpha-2) of numbers written without a country code.

    Returns
    -------
    Normalised
        E.164 keys and error reasons.

    Raises
    ------
    ConfigError
        If ``region`` is not a region phonenumbers knows.

    Notes
    -----
    The ``phonenumbers`` library costs about 25 µs a number. Most numbers take a vectorised path
    instead: the validity rules of each numbering plan that occurs (its number-length and range
    patterns, from the library's metadata) run as Arrow regexes over all numbers of that plan at
    once, mirroring the library's own parsing and validation. Numbers the vectorised path cannot
    vouch for (unusual shapes, national prefixes that need rewriting, invalid numbers, which
    also need a reason) go to the library one by one.

    Examples
    --------
    >>> phones = pd.Series(["(415) 555-0123", "+1 415.555.0123 ext. 9", "0044 20 7946 0958", "12"])
    >>> result = normalise_phone(phones, region="US")
    >>> result.values.tolist()
    ['+14155550123', '+14155550123', '+442079460958', <NA>]
    >>> result.errors.tolist()
    [<NA>, <NA>, <NA>, 'not a valid +1 number: too short']
    """
    rules = _dialing_rules(region)
    text = _text(values)
    dialled = (
        text.str.lower()
        .str.replace("^tel:", "", regex=True)
        .str.replace(_PHONE_SEPARATORS, "", regex=True)
        .str.replace(_PHONE_EXTENSION, "", regex=True)
        .str.replace("^00", "+", regex=True)
    )
    keys = np.full(len(dialled), None, dtype=object)
    for code, national in _phone_candidates(dialled, rules):
        valid = national[_valid_numbers(code, national)]
        keys[valid.index] = (f"+{code}" + valid).to_numpy(dtype=object)
    errors = np.full(len(dialled), None, dtype=object)
    rest = dialled[_flag(dialled.notna()) & pd.isna(keys)]
    outcomes = {number: _parse_phone(number, rules.region) for number in rest.unique()}
    keys[rest.index] = [outcomes[number][0] for number in rest]
    errors[rest.index] = [outcomes[number][1] for number in rest]
    return _normalised(values, _strings(keys), _strings(errors))


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
        hit = _flag(national.str.fullmatch(self.pattern))
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


def _parse_phone(dialled: str, region: str) -> tuple[str | None, str | None]:
    """The E.164 key of one number or the reason it has none, by phonenumbers itself."""
    try:
        number = phonenumbers.parse(dialled, region)
    except NumberParseException as failure:
        return None, f"not a phone number: {_PARSE_FAILURES.get(failure.error_type, 'unreadable')}"
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
    reason = _INVALID_NUMBERS[phonenumbers.is_possible_number_with_reason(number)]
    return None, f"not a valid +{number.country_code} number: {reason}"


def _phone_candidates(dialled: pd.Series, rules: _DialingRules) -> Iterator[tuple[int, pd.Series]]:
    """(calling code, national significant numbers) that phonenumbers would parse these into.

    Only shapes whose parse is certain are yielded; the rest are left to phonenumbers.
    """
    international = _flag(dialled.str.fullmatch(r"\+[1-9][0-9]{2,19}"))
    yield from _international_candidates(dialled[international].str.slice(1))
    national = _flag(dialled.str.fullmatch("[0-9]{3,20}"))
    yield from _national_candidates(dialled[national], rules)


def _international_candidates(digits: pd.Series) -> Iterator[tuple[int, pd.Series]]:
    for width, codes in _CALLING_CODES.items():
        head = digits.str.slice(0, width)
        known = _flag(head.isin(codes))
        for code_text, numbers in digits[known].groupby(head[known], sort=False):
            code = int(str(code_text))
            national = numbers.str.slice(width)
            # A national prefix after the country code ("+44 (0)20 ...") is stripped or kept
            # depending on what remains: phonenumbers decides those.
            prefix = _national_prefix(code)
            if prefix:
                national = national[~_flag(national.str.match(prefix))]
            yield code, national
        digits = digits[~known]


def _national_candidates(
    digits: pd.Series, rules: _DialingRules
) -> Iterator[tuple[int, pd.Series]]:
    code, code_text = rules.calling_code, str(rules.calling_code)
    if rules.international_prefix:
        digits = digits[~_flag(digits.str.match(rules.international_prefix))]

    # The region's own country code without '+' ("1 415 555 0123"): phonenumbers takes it as
    # the code when the digits only fit the plan without it, or are too long with it.
    with_code = _flag(digits.str.startswith(code_text))
    whole = digits[with_code]
    rest = whole.str.slice(len(code_text))
    fits = rules.general.pattern
    size = whole.str.len().to_numpy(dtype=np.int64)
    too_long = (size > max(rules.general.lengths)) & ~np.isin(size, rules.local_lengths)
    taken = (~_flag(whole.str.fullmatch(fits)) & _flag(rest.str.fullmatch(fits))) | too_long
    if rules.national_prefix:
        taken &= ~_flag(rest.str.match(rules.national_prefix))
    yield code, rest[taken]

    national = digits[~with_code]
    if rules.national_prefix:
        prefixed = _flag(national.str.match(rules.national_prefix))
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
            claimed = _flag(numbers.str.match(plan.leading_digits))
            valid[rows[claimed]] = plan.valid(numbers[claimed])
        else:
            claimed = plan.valid(numbers)
            valid[rows[claimed]] = True
        unclaimed[rows[claimed]] = False
    return valid


# --- address --------------------------------------------------------------------------------

# Typographic characters folded to the ASCII ones the rules below handle; only rows with
# non-ASCII characters pay for this.
_COMBINING_MARKS = "[\u0300-\u036f]"
_FANCY_APOSTROPHES = "[\u00b4\u02bc\u2018\u2019]"
_FANCY_DASHES = "[\u2010-\u2015]"
_FANCY_PUNCTUATION = "[\u00ab\u00b7\u00bb\u201c-\u201f\u2022\u2026]"
# ASCII punctuation but the apostrophes (dropped), '#' (a unit) and '/' (as in "4/12").
_PUNCTUATION = '[!"$%&()*+,\\-.:;<=>?@\\[\\\\\\]^_{|}~]'


_ORDINAL_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(number: int) -> str:
    """1 → "1st", 12 → "12th", 22 → "22nd"."""
    teen = 11 <= number % 100 <= 13
    return f"{number}{'th' if teen else _ORDINAL_SUFFIXES.get(number % 10, 'th')}"


_CARDINAL_WORDS = (
    *("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen", "twenty"),
)
_ORDINAL_WORDS = (
    *("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"),
    *("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth"),
    *("seventeenth", "eighteenth", "nineteenth", "twentieth"),
)

#: Whole-word replacements; every replacement is its own fixed point, so keys are stable.
_ADDRESS_WORDS: Mapping[str, str] = {
    "street": "st",
    "str": "st",
    "strasse": "st",
    "stra\u00dfe": "st",
    "saint": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "terrace": "ter",
    "circle": "cir",
    "highway": "hwy",
    "parkway": "pkwy",
    "square": "sq",
    "crescent": "cres",
    "close": "cl",
    "trail": "trl",
    "route": "rte",
    "center": "ctr",
    "centre": "ctr",
    "mount": "mt",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "apartment": "unit",
    "apt": "unit",
    "suite": "unit",
    "ste": "unit",
    "flat": "unit",
    "room": "unit",
    "rm": "unit",
    "#": "unit",
    "floor": "fl",
    "usa": "us",
    "uk": "gb",
    **{word: str(number) for number, word in enumerate(_CARDINAL_WORDS, start=1)},
    **{word: _ordinal(number) for number, word in enumerate(_ORDINAL_WORDS, start=1)},
}

#: Multi-word phrases, matched on the text padded with one space at each end.
_US_STATES = (
    "al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh "
    "nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy pr"
).split()

_ADDRESS_PHRASES: tuple[tuple[str, str], ...] = (
    (" (?:p o|post office) box ", " po box "),
    (" (?:united states(?: of america)?|u s a?) $", " us "),
    (" (?:united kingdom|great britain|u k) $", " gb "),
    (" unit(?: unit)+ ", " unit "),
    (" unit ([0-9]+) ([a-z]) ", r" unit \1\2 "),
    # A US address ends in its ZIP: the state before it and the country after it say nothing
    # the ZIP does not, and exports write them or leave them out at random.
    (f"(?: (?:{'|'.join(_US_STATES)}))+ ([0-9]{{5}}) ", r" \1 "),
    (" ([0-9]{5}) us $", r" \1 "),
)
_UK_POSTCODE = "[a-z]{1,2}[0-9][a-z0-9]? ?[0-9][a-z]{2}"


def normalise_address(values: pd.Series) -> Normalised:
    """Free-text addresses, canonicalised so that spellings of one place collide.

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
    """
    # Folding can produce capitals (the modifier letter ᴮ becomes B): lower-case after it too.
    text = _fold_unicode(_text(values).str.lower()).str.lower()
    # Padded with spaces so that patterns find word edges without \b (which is not vectorised).
    text = (
        (" " + text + " ")
        .str.replace("'", "", regex=False)
        .str.replace("`", "", regex=False)
        .str.replace("([^0-9][0-9]{5})-[0-9]{4}([^0-9])", r"\1\2", regex=True)
        .str.replace("([0-9])-([a-z])|([a-z])-([0-9])", r"\1\2\3\4", regex=True)
        .str.replace("#", " # ", regex=False)
        .str.replace(_PUNCTUATION, " ", regex=True)
    )
    padded = " " + _replace_words(text, _ADDRESS_WORDS) + " "
    for phrase, replacement in _ADDRESS_PHRASES:
        padded = padded.str.replace(phrase, replacement, regex=True)
    keys = _upper_case_postcodes(padded).str.strip()
    meaningful = _has_letter_or_digit(keys)
    errors = _first_failure(
        [(_flag(text.notna()) & ~meaningful, "not an address: no letters or digits")], len(keys)
    )
    return _normalised(values, keys.where(meaningful), errors)


def _fold_unicode(text: pd.Series) -> pd.Series:
    """Drop accents (é → e), fold compatibility forms (ﬁ → fi) and typographic punctuation."""
    rows = _flag(text.notna() & ~text.str.isascii())
    if rows.any():
        text = text.copy()
        text[rows] = (
            text[rows]
            .str.normalize("NFKD")
            .str.replace(_COMBINING_MARKS, "", regex=True)
            .str.normalize("NFKC")
            .str.replace(_FANCY_APOSTROPHES, "'", regex=True)
            .str.replace(_FANCY_DASHES, "-", regex=True)
            .str.replace(_FANCY_PUNCTUATION, " ", regex=True)
        )
    return text


def _replace_words(text: pd.Series, words: Mapping[str, str]) -> pd.Series:
    """Split on whitespace, replace whole words through a table, join with single spaces."""
    lists = pc.utf8_split_whitespace(pc.utf8_trim_whitespace(_arrow(text)))
    tokens = lists.values
    found = pc.index_in(tokens, value_set=pa.array(list(words), type=tokens.type))
    replaced = pc.coalesce(pc.take(pa.array(list(words.values()), type=tokens.type), found), tokens)
    rebuilt = pa.ListArray.from_arrays(lists.offsets, replaced, mask=lists.is_null())
    return _from_arrow(pc.binary_join(rebuilt, pa.scalar(" ", tokens.type)), text.index)


def _upper_case_postcodes(padded: pd.Series) -> pd.Series:
    """Write the last UK-style postcode of each address as ``SW1A 1AA``."""
    rows = _flag(padded.str.contains(f" {_UK_POSTCODE} "))
    if not rows.any():
        return padded
    parts = pc.extract_regex(
        _arrow(padded[rows]),
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
    padded[rows] = _from_arrow(rebuilt, padded.index[rows])
    return padded


def _has_letter_or_digit(text: pd.Series) -> np.ndarray:
    found = _flag(text.str.contains("[0-9A-Za-z]"))
    others = np.flatnonzero(~found & _flag(text.notna()))
    # Letters of other scripts: Unicode-aware matching, only for the rows that need it.
    found[others] = _flag(text.iloc[others].str.contains(r"[^\W_]"))
    return found


# --- payment instruments --------------------------------------------------------------------

_FINGERPRINT = "pi_[0-9a-f]{20}"


def fingerprint_card(values: pd.Series, *, key: str) -> Normalised:
    """Card numbers become keyed fingerprints; the raw number never leaves this function.

    Parameters
    ----------
    values : pandas.Series
        Raw card numbers (spaces and dashes allowed) or existing fingerprints.
    key : str
        HMAC key; fingerprints are comparable only between loads made with one key.

    Returns
    -------
    Normalised
        ``pi_`` fingerprints, error reasons, and ``display`` such as ``"visa ••1111"``.

    Raises
    ------
    ConfigError
        If ``key`` is empty.

    Examples
    --------
    >>> cards = pd.Series(["4111 1111 1111 1111", "4111-1111-1111-1112"])
    >>> result = fingerprint_card(cards, key="secret")
    >>> result.values.tolist()
    ['pi_d6c005134ac50dec0e01', <NA>]
    >>> result.display.tolist()
    ['visa ••1111', <NA>]
    >>> result.errors.tolist()
    [<NA>, 'card number fails the Luhn check']
    """
    if not key:
        raise ConfigError("the fingerprint key is empty: set GRAPHFRAUD_FINGERPRINT_KEY")
    text = _text(values)
    fingerprint = _flag(text.str.fullmatch(_FINGERPRINT))
    digits = text.str.replace("[ -]", "", regex=True)
    numeric = _flag(digits.str.fullmatch("[0-9]+"))
    sized = _flag(digits.str.fullmatch("[0-9]{12,19}")) & ~fingerprint
    luhn = np.zeros(len(text), dtype=bool)
    luhn[sized] = _passes_luhn(digits[sized])
    good = sized & luhn
    card = digits[good]

    keys = np.full(len(text), None, dtype=object)
    keys[fingerprint] = text[fingerprint].to_numpy(dtype=object)
    keys[good] = _fingerprints(card, key)
    display = np.full(len(text), None, dtype=object)
    display[good] = (_card_brands(card) + " \u2022\u2022" + card.str.slice(-4)).to_numpy(object)
    errors = _first_failure(
        [
            (
                _flag(text.notna()) & ~fingerprint & ~numeric,
                "not a card number: characters other than digits, spaces and dashes",
            ),
            (numeric & ~sized, "not a card number: needs 12 to 19 digits"),
            (sized & ~luhn, "card number fails the Luhn check"),
        ],
        len(text),
    )
    return _normalised(values, _strings(keys), errors, _strings(display))


def _passes_luhn(digits: pd.Series) -> np.ndarray:
    """The Luhn check over all numbers at once: a matrix of digits, right-aligned to 19."""
    ascii_codes = digits.str.zfill(19).to_numpy(dtype="S19").view(np.uint8).reshape(-1, 19)
    grid = ascii_codes.astype(np.int16) - ord("0")
    doubled = grid[:, -2::-2] * 2
    total = grid[:, -1::-2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    return np.asarray(total % 10 == 0)


def _fingerprints(digits: pd.Series, key: str) -> list[str]:
    # An HMAC is a per-value hash: Python it is, about 1 µs each with the keyed state reused.
    keyed = hmac.new(key.encode(), digestmod=hashlib.sha256)
    prints = []
    for number in digits.tolist():
        mac = keyed.copy()
        mac.update(number.encode("ascii"))
        prints.append("pi_" + mac.hexdigest()[:20])
    return prints


def _card_brands(digits: pd.Series) -> pd.Series:
    two, four = (
        digits.str.slice(0, width).astype(pd.ArrowDtype(pa.int64())).to_numpy(dtype=np.int64)
        for width in (2, 4)
    )
    brands = np.select(
        [
            two // 10 == 4,
            ((two >= 51) & (two <= 55)) | ((four >= 2221) & (four <= 2720)),
            (two == 34) | (two == 37),
            (four == 6011) | (two == 65),
        ],
        ["visa", "mastercard", "amex", "discover"],
        "card",
    )
    return pd.Series(brands, index=digits.index, dtype=_TEXT)


# --- IP -------------------------------------------------------------------------------------


def normalise_ip(values: pd.Series) -> Normalised:
    """IP addresses: IPv4 dotted quads without leading zeros, IPv6 compressed.

    Examples
    --------
    >>> ips = pd.Series(["010.000.001.009", "::FFFF:1.2.3.4", "2001:DB8:0:0::1", "1.2.3.256"])
    >>> result = normalise_ip(ips)
    >>> result.values.tolist()
    ['10.0.1.9', '1.2.3.4', '2001:db8::1', <NA>]
    >>> result.errors.tolist()
    [<NA>, <NA>, <NA>, 'not an IP address: a part above 255']
    """
    text = _text(values).str.lower()
    keys = np.full(len(text), None, dtype=object)
    quad = text[_flag(text.str.fullmatch(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"))]
    parts = pc.split_pattern(_arrow(quad), ".").values
    octets = pc.cast(parts, pa.int16()).to_numpy().reshape(-1, 4)
    in_range = (octets <= 255).all(axis=1)
    columns = [pa.array(column).cast(pa.large_string()) for column in octets[in_range].T]
    joined = pc.binary_join_element_wise(*columns, pa.scalar(".", pa.large_string()))
    keys[quad.index[in_range]] = joined.to_numpy(zero_copy_only=False)

    # IPv6 is the minority in marketplace logs: the standard library parses it value by value.
    colon = text[_flag(text.str.contains(":", regex=False))]
    ipv6 = {address: _ipv6_key(address) for address in colon.unique()}
    keys[colon.index] = [ipv6[address] for address in colon]
    too_large = np.zeros(len(text), dtype=bool)
    too_large[quad.index[~in_range]] = True
    errors = _first_failure(
        [
            (too_large, "not an IP address: a part above 255"),
            (_flag(text.notna()) & pd.isna(keys), "not an IP address"),
        ],
        len(text),
    )
    return _normalised(values, _strings(keys), errors)


def _ipv6_key(text: str) -> str | None:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    mapped = address.ipv4_mapped
    return str(mapped) if mapped is not None else address.compressed
