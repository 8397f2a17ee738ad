"""Email addresses.

Stripped and lower-cased. Invalid: no ``@``, more than one ``@``, whitespace inside, nothing
before or after the ``@``, a domain without a dot or with an empty label (``a@b..com``).
Then the rules of the mailbox provider, where one mailbox answers to many addresses (the
providers are vocabulary, in ``data/mailboxes.yaml``; a user's vocabulary file may add more):

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

So ``" J.Doe+promo@GoogleMail.com"`` → ``"jdoe@gmail.com"``. The tag runs from its character to
the ``@``; an address that is only a tag (``+x@gmail.com``) is invalid. Yahoo's ``-`` marks its
disposable addresses (Yahoo ids cannot hold a hyphen). Other domains keep their local part as
written (lower-cased).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from loaders.normalise.common import SPACES, Normalised, as_text, first_failure, flag, normalised
from loaders.normalise.vocabulary import DEFAULT_VOCABULARY, Vocabulary


def normalise_email(
    values: pd.Series, *, vocabulary: Vocabulary = DEFAULT_VOCABULARY
) -> Normalised:
    """Email addresses: lower-cased, with provider rules for dots and tags.

    Examples
    --------
    >>> emails = pd.Series(["J.Doe+promo@GoogleMail.com", "Ann+x@Example.org"])
    >>> normalise_email(emails).values.tolist()
    ['jdoe@gmail.com', 'ann+x@example.org']
    """
    text = as_text(values).str.lower()
    local = text.str.replace("@.*", "", regex=True)
    domain = text.str.replace("^[^@]*@", "", regex=True)
    for provider, mailbox in vocabulary.mailboxes.items():
        rows = flag(domain == provider)
        if not rows.any():
            continue
        mailbox_local = local[rows]
        if mailbox.ignores_dots:
            mailbox_local = mailbox_local.str.replace(".", "", regex=False)
        local[rows] = mailbox_local.str.replace(f"[{re.escape(mailbox.tag)}].*", "", regex=True)
        domain[rows] = mailbox.domain
    present = flag(text.notna())
    ats = text.str.count("@").to_numpy(dtype=np.int64, na_value=0)
    errors = first_failure(
        [
            (present & (ats == 0), "not an email address: no '@'"),
            (present & (ats > 1), "not an email address: more than one '@'"),
            (flag(text.str.contains(SPACES)), "not an email address: whitespace inside"),
            (flag(text.str.startswith("@")), "not an email address: nothing before '@'"),
            (flag(text.str.endswith("@")), "not an email address: nothing after '@'"),
            (
                present & ~flag(domain.str.contains(".", regex=False)),
                "not an email address: no dot in the domain",
            ),
            (
                present & ~flag(domain.str.fullmatch(r"[^.]+(?:\.[^.]+)+")),
                "not an email address: empty label in the domain",
            ),
            (flag(local == ""), "not an email address: only a tag before '@'"),
        ],
        len(text),
    )
    keys = (local + "@" + domain).where(errors.isna())
    return normalised(values, keys, errors)
