"""IP addresses.

IPv4 as a dotted quad without leading zeros (``010.000.001.009`` → ``10.0.1.9``; leading zeros
are read as decimal, never octal), each part 0 to 255. IPv6 in its compressed lower-case form
(``2001:DB8:0:0::1`` → ``2001:db8::1``); an IPv4-mapped IPv6 address is its IPv4
(``::ffff:1.2.3.4`` → ``1.2.3.4``). Anything else is an error.
"""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loaders.normalise.common import (
    Normalised,
    arrow,
    as_text,
    first_failure,
    flag,
    normalised,
    strings,
)


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
    text = as_text(values).str.lower()
    keys = np.full(len(text), None, dtype=object)
    quad = text[flag(text.str.fullmatch(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"))]
    parts = pc.split_pattern(arrow(quad), ".").values
    octets = pc.cast(parts, pa.int16()).to_numpy().reshape(-1, 4)
    in_range = (octets <= 255).all(axis=1)
    columns = [pa.array(column).cast(pa.large_string()) for column in octets[in_range].T]
    joined = pc.binary_join_element_wise(*columns, pa.scalar(".", pa.large_string()))
    keys[quad.index[in_range]] = joined.to_numpy(zero_copy_only=False)

    # IPv6 is the minority in marketplace logs: the standard library parses it value by value.
    colon = text[flag(text.str.contains(":", regex=False))]
    ipv6 = {address: _ipv6_key(address) for address in colon.unique()}
    keys[colon.index] = [ipv6[address] for address in colon]
    too_large = np.zeros(len(text), dtype=bool)
    too_large[quad.index[~in_range]] = True
    errors = first_failure(
        [
            (too_large, "not an IP address: a part above 255"),
            (flag(text.notna()) & pd.isna(keys), "not an IP address"),
        ],
        len(text),
    )
    return normalised(values, strings(keys), errors)


def _ipv6_key(text: str) -> str | None:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    mapped = address.ipv4_mapped
    return str(mapped) if mapped is not None else address.compressed
