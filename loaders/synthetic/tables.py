"""The exported tables: their columns, and rows held as numpy columns until written.

A column's kind says how its values become text: ``account`` and ``creator`` hold indices,
``time`` epoch seconds, ``money`` cents, ``ip``/``device``/``card``/``brand``/``address`` keys
(see :mod:`loaders.synthetic.keys`), ``text`` is text already, ``order`` is numbered on write.
Columns in :data:`DERIVED` hold nothing of their own: they are rendered from another column's
keys (``account_country`` from an account, ``address_country`` from an address).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Frame = dict[str, np.ndarray]

TABLES: dict[str, dict[str, str]] = {
    "accounts": {
        "account_id": "account",
        "created_at": "time",
        "account_type": "text",
        "email": "text",
        "phone": "text",
        "country": "account_country",
        "signup_ip": "ip",
        "known_bad": "text",
    },
    "creators": {
        "creator_id": "creator",
        "owner_account_id": "account",
        "name": "text",
        "created_at": "time",
    },
    "logins": {"account_id": "account", "ts": "time", "device_fingerprint": "device", "ip": "ip"},
    "payment_methods": {
        "account_id": "account",
        "added_at": "time",
        "card_number": "card",
        "card_brand": "brand",
    },
    "addresses": {
        "account_id": "account",
        "added_at": "time",
        "address": "address",
        "country": "address_country",
    },
    "orders": {
        "order_id": "order",
        "buyer_id": "account",
        "seller_id": "account",
        "creator_id": "creator",
        "ts": "time",
        "amount": "money",
        "ship_address": "address",
        "ship_country": "address_country",
        "card_number": "card",
    },
    "referrals": {
        "referrer_id": "account",
        "referee_id": "account",
        "ts": "time",
        "promo_code": "text",
    },
    "transfers": {
        "from_account": "account",
        "to_account": "account",
        "ts": "time",
        "amount": "money",
    },
}

#: Columns rendered from another column of the same row: table → column → its source.
DERIVED: dict[str, dict[str, str]] = {
    "accounts": {"country": "account_id"},
    "addresses": {"country": "address"},
    "orders": {"ship_country": "ship_address"},
}

#: The account a row belongs to (it decides the row's chunk) and the row's time; rows are
#: exported sorted by both.
OWNER: dict[str, tuple[str, str]] = {
    "accounts": ("account_id", "created_at"),
    "creators": ("owner_account_id", "created_at"),
    "logins": ("account_id", "ts"),
    "payment_methods": ("account_id", "added_at"),
    "addresses": ("account_id", "added_at"),
    "orders": ("buyer_id", "ts"),
    "referrals": ("referee_id", "ts"),
    "transfers": ("from_account", "ts"),
}


@dataclass
class Rows:
    """Rows of several tables collected as column pieces, concatenated on demand."""

    pieces: dict[str, list[Frame]] = field(default_factory=dict)

    def add(self, table: str, **columns: np.ndarray) -> None:
        self.pieces.setdefault(table, []).append(columns)

    def frame(self, table: str) -> Frame:
        """All rows added to ``table``, in the order they were added."""
        derived = DERIVED.get(table, {})
        kinds = {
            name: kind
            for name, kind in TABLES[table].items()
            if kind != "order" and name not in derived
        }
        parts = self.pieces.get(table, [])
        if not parts:
            return {
                name: np.array([], dtype=object if kind == "text" else np.int64)
                for name, kind in kinds.items()
            }
        return {name: np.concatenate([part[name] for part in parts]) for name in kinds}


def sorted_frame(frame: Frame, table: str) -> Frame:
    """Rows in export order: by their account, then by time."""
    owner, time = OWNER[table]
    order = np.lexsort((frame[time], frame[owner]))
    return {name: values[order] for name, values in frame.items()}
