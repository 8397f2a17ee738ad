"""Every example in the OpenAPI document is real: valid for its schema, with ids in the shape
the generator and detection write them (issue 14: the docs showed ``A-000017``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from algorithms.stable_ids import membership_id
from api import create_app
from graphfraud.settings import Settings
from loaders.synthetic.text import prefixed_ids

#: Names of the fields and parameters that hold an account's id, and of those holding a ring's.
ACCOUNT_FIELDS = {"account", "accounts", "to"}
RING_FIELDS = {"ring_id"}


def _document() -> dict[str, Any]:
    # No store is opened to build the document.
    app = create_app(Settings(store_url="duckdb:///unused.duckdb"))
    document: dict[str, Any] = app.openapi()
    return document


def _examples(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], Any]]:
    """(where, field name, schema, example) for every example of a parameter or a schema."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                for example in schema.get("examples", []):
                    yield f"{method} {path} {parameter['name']}", parameter["name"], schema, example
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            yield name, name, schema, example


def _ids(name: str, example: Any) -> Iterator[tuple[str, str]]:
    """(field, value) of every id an example holds, by field name."""
    if isinstance(example, dict):
        for field, value in example.items():
            yield from _ids(field, value)
    elif isinstance(example, list):
        for value in example:
            yield from _ids(name, value)
    elif isinstance(example, str) and name in ACCOUNT_FIELDS | RING_FIELDS:
        yield name, example


DOCUMENT = _document()
EXAMPLES = list(_examples(DOCUMENT))


def test_the_document_has_examples_for_ids_and_request_bodies() -> None:
    fields = {field for _, field, _, _ in EXAMPLES}
    assert {"account", "to", "ring_id", "RiskCheckRequest", "RiskAccountsRequest"} <= fields


@pytest.mark.parametrize(("where", "field", "schema", "example"), EXAMPLES, ids=lambda v: str(v))
def test_an_example_is_valid_for_its_schema(
    where: str, field: str, schema: dict[str, Any], example: Any
) -> None:
    # Schemas refer to each other through #/components: resolve against the whole document.
    validator = Draft202012Validator({**schema, "components": DOCUMENT["components"]})
    errors = [error.message for error in validator.iter_errors(example)]
    assert not errors, f"{where}: {errors}"


def test_example_ids_have_the_shape_the_generator_and_detection_write() -> None:
    found = [pair for _, field, _, example in EXAMPLES for pair in _ids(field, example)]
    accounts = [value for field, value in found if field in ACCOUNT_FIELDS]
    rings = [value for field, value in found if field in RING_FIELDS]
    assert accounts
    assert rings
    for account in accounts:
        # The generator numbers accounts from 1: A0000320 is its account 319.
        number = re.fullmatch(r"A(\d+)", account)
        assert number, f"{account!r} is not an id the generator writes"
        assert prefixed_ids(np.array([int(number[1]) - 1]), "A", 7)[0].as_py() == account
    shape = re.compile(r"R-[0-9a-f]{10}")
    assert shape.fullmatch(membership_id(["A0000320", "A0000951"]))
    assert all(shape.fullmatch(ring) for ring in rings), rings
