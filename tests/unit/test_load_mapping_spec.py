"""Mapping specs rewritten for the tables they read."""

from __future__ import annotations

from loaders.mapping import MappingSpec, PaymentFormat


def test_payments_read_as_tokens_keep_formats_given_and_other_kinds() -> None:
    spec = MappingSpec.from_dict(
        {
            "sources": [
                {
                    "table": "orders",
                    "account": "buyer",
                    "identifiers": [
                        {"column": "card", "kind": "PaymentInstrument"},
                        {"column": "pan", "kind": "PaymentInstrument", "format": "card"},
                        {"column": "device", "kind": "Device"},
                    ],
                },
                {"table": "cards", "entity": {"column": "card", "kind": "PaymentInstrument"}},
            ]
        }
    )
    read = spec.reading_payments_as(PaymentFormat.TOKEN)
    card, pan, device = read.sources[0].identifiers
    assert (card.format, pan.format, device.format) == (PaymentFormat.TOKEN, "card", None)
    assert read.sources[1].entity is not None
    assert read.sources[1].entity.format is PaymentFormat.TOKEN
    assert spec.sources[0].identifiers[0].format is None  # the spec itself is left as it was
