"""Identifier normalisers: raw marketplace values become entity keys.

The same real-world thing must always become the same node, however a source spelled it. The
loaders call :func:`normalise` on the distinct values of every identifier column; it returns a
:class:`Normalised` holding, for every input value and under the input's index:

``values``
    the key, or ``<NA>`` where the value is missing or invalid;
``errors``
    ``<NA>`` where the value is fine or missing, else a short reason such as
    ``"not an email address: no '@'"``. Null, empty and whitespace-only values are *missing*,
    never errors. Reasons never repeat the value (the rejects file has the raw row);
``display``
    a safe human form where the key is not one (payment instruments), else ``None``.

Every rule is idempotent: a key normalises to itself (under the same options), so an exported
graph loads again unchanged. Numbers read as floats (``4155550123.0``) are read back as the
integers they are.

One module per entity kind documents its rule with examples:

=====================  =========================================================
kind                   rule
=====================  =========================================================
Account, Creator       :mod:`loaders.normalise.account`: stripped, case kept
Device                 :mod:`loaders.normalise.device`: stripped, lower-cased
Email                  :mod:`loaders.normalise.email`: lower-cased, provider rules
Phone                  :mod:`loaders.normalise.phone`: E.164, region per value
Address                :mod:`loaders.normalise.address`: canonical words per market
PaymentInstrument      :mod:`loaders.normalise.payment`: keyed fingerprint of a card or token
IP                     :mod:`loaders.normalise.ip`: canonical IPv4 / IPv6
Name                   :mod:`loaders.normalise.name`: folded, honorifics dropped
any other kind         :mod:`loaders.normalise.text`: stripped, whitespace collapsed
=====================  =========================================================

What each market writes differently lives in data files (:mod:`loaders.normalise.vocabulary`),
which users extend with their own (:func:`load_vocabulary`). Values that rules cannot fold (a
typo, a missing word) can be paired by :func:`resolve_near_duplicates`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from graphfraud.model import EntityKind
from graphfraud.settings import Settings
from loaders.normalise.account import normalise_account
from loaders.normalise.address import normalise_address
from loaders.normalise.common import Normalised
from loaders.normalise.device import normalise_device
from loaders.normalise.email import normalise_email
from loaders.normalise.ip import normalise_ip
from loaders.normalise.name import normalise_name
from loaders.normalise.near_duplicates import NEAR_DUPLICATE_COLUMNS, resolve_near_duplicates
from loaders.normalise.payment import (
    PAYMENT_FORMATS,
    fingerprint_card,
    fingerprint_payment,
    fingerprint_token,
)
from loaders.normalise.phone import normalise_phone
from loaders.normalise.regions import region_code
from loaders.normalise.text import normalise_text
from loaders.normalise.vocabulary import DEFAULT_VOCABULARY, Vocabulary, load_vocabulary

__all__ = [
    "DEFAULT_VOCABULARY",
    "NEAR_DUPLICATE_COLUMNS",
    "PAYMENT_FORMATS",
    "NormaliseOptions",
    "Normalised",
    "Vocabulary",
    "fingerprint_card",
    "fingerprint_payment",
    "fingerprint_token",
    "load_vocabulary",
    "normalise",
    "normalise_account",
    "normalise_address",
    "normalise_device",
    "normalise_email",
    "normalise_ip",
    "normalise_name",
    "normalise_phone",
    "normalise_text",
    "region_code",
    "resolve_near_duplicates",
]


@dataclass(frozen=True)
class NormaliseOptions:
    """How to read the values of one column.

    Attributes
    ----------
    fingerprint_key : str
        HMAC key of payment-instrument fingerprints (cards and tokens).
    region : str or pandas.Series
        ISO 3166 code or country name: one for all values, or one per value (same length as
        the values, matched by position), for phones, addresses and names.
    payment_format : str
        ``"card"`` (card numbers, Luhn-checked) or ``"token"`` (opaque PSP ids).
    vocabulary : Vocabulary
        The built-in data files plus the user's (:func:`load_vocabulary`).
    """

    fingerprint_key: str
    region: str | pd.Series = "US"
    payment_format: str = "card"
    vocabulary: Vocabulary = field(default=DEFAULT_VOCABULARY)

    @classmethod
    def from_settings(cls, settings: Settings, *, fingerprint_key: str) -> NormaliseOptions:
        """The options every source gets unless its mapping says otherwise, with the
        fingerprint key of the store the values go to (``store.fingerprint_key()``)."""
        return cls(fingerprint_key=fingerprint_key, region=settings.default_phone_region)


def normalise(kind: str, values: pd.Series, options: NormaliseOptions) -> Normalised:
    """Normalise the identifiers of one entity kind; each kind's module documents its rule.

    Parameters
    ----------
    kind : str
        An entity kind such as ``"Email"``; kinds outside :class:`~graphfraud.model.EntityKind`
        get the generic rule of :func:`normalise_text`.
    values : pandas.Series
        Raw values, any dtype. Normalise distinct values (or distinct value and region pairs)
        once and spread the results: every rule depends on nothing else.
    options : NormaliseOptions
        Fingerprint key, region, payment format and vocabulary.

    Returns
    -------
    Normalised
        Keys, errors and display forms under ``values.index``.

    Raises
    ------
    ConfigError
        If the fingerprint key is empty (for payment instruments), the payment format is
        unknown, or one region given for all values names no country.

    Examples
    --------
    >>> import pandas as pd
    >>> emails = pd.Series(["J.Doe+promo@GoogleMail.com", "", "jdoe.example.com"])
    >>> result = normalise("Email", emails, NormaliseOptions(fingerprint_key="k"))
    >>> result.values.tolist()
    ['jdoe@gmail.com', <NA>, <NA>]
    >>> result.errors.tolist()
    [<NA>, <NA>, "not an email address: no '@'"]
    >>> phones = pd.Series(["0812-3456-7890", "+62 812 3456 7890"])
    >>> normalise("Phone", phones, NormaliseOptions("k", region="Indonesia")).values.tolist()
    ['+6281234567890', '+6281234567890']
    """
    words = options.vocabulary
    match kind:
        case EntityKind.ACCOUNT | EntityKind.CREATOR:
            return normalise_account(values)
        case EntityKind.DEVICE:
            return normalise_device(values)
        case EntityKind.EMAIL:
            return normalise_email(values, vocabulary=words)
        case EntityKind.PHONE:
            return normalise_phone(values, region=options.region, vocabulary=words)
        case EntityKind.ADDRESS:
            return normalise_address(values, region=options.region, vocabulary=words)
        case EntityKind.NAME:
            return normalise_name(values, region=options.region, vocabulary=words)
        case EntityKind.PAYMENT_INSTRUMENT:
            return fingerprint_payment(
                values, key=options.fingerprint_key, payment_format=options.payment_format
            )
        case EntityKind.IP:
            return normalise_ip(values)
        case _:
            return normalise_text(values)
