"""Property-based tests of every operation against the API's own OpenAPI schema.

Schemathesis generates valid and invalid requests from the schema and checks each answer: no
server error, a status code the schema declares, a body matching the declared model, auth
enforced. The examples per operation are bounded so the whole run takes well under a minute, and the
draw is derandomised: every run of the suite sends the same requests, so a failure here
reproduces. Longer runs with random seeds are ``scripts/fuzz_api.sh``.

The schema is read from the app when the module is collected, without a request: the app starts
(opens its store, builds its read model) only on the first test's request, once a fixture has
filled the store it names.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import create_app
from graphfraud.store import open_store
from tests.api_server import INVESTIGATOR_KEY, api_settings, fill

EXAMPLES_PER_OPERATION = 12
#: Seconds an answer may take. Schemathesis' default (10 s) is shorter than a PDF report takes
#: on a busy 2-core machine; speed is measured by the benchmarks, not here.
RESPONSE_TIMEOUT = 120
#: Operations whose input is valid only if the normalisers can read it (an e-mail, a phone in
#: its country's format, a card that passes Luhn), or only if it fits the server's mapping
#: (rows sent to /api/events name its tables and columns, which a setting chooses): no schema
#: can say that, so a schema-valid value they refuse is a 422 naming the field, which every
#: other check still holds to. A report's period is valid only if it ends after it starts (a
#: tie between two fields no schema states): the other way round is a 400 saying so. A job's
#: settings are a mapping of setting names (dotted ones too) checked against the settings
#: object (GET /api/settings/detection lists them): an unknown name is a 422 naming it.
NORMALISED_INPUT = frozenset(
    {
        "/api/risk/check",
        "/api/identifiers/accounts",
        "/api/events",
        "/api/reports",
        "/reports",
        "/api/jobs",
    }
)

STORE_FOLDER = Path(tempfile.mkdtemp(prefix="graphfraud-schemathesis-"))
STORE_URL = f"duckdb:///{STORE_FOLDER / 'graph.duckdb'}"
app = create_app(api_settings(), STORE_URL)
schema = schemathesis.openapi.from_dict(app.openapi())
schema.app = app


@pytest.fixture(scope="module", autouse=True)
def filled_store(marketplace: Path) -> Iterator[None]:
    with open_store(STORE_URL) as store:
        fill(store, marketplace)
    yield
    shutil.rmtree(STORE_FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_honours_its_schema(case: schemathesis.Case) -> None:
    excluded = [positive_data_acceptance] if case.path in NORMALISED_INPUT else []
    case.call_and_validate(
        headers={"X-API-Key": INVESTIGATOR_KEY}, excluded_checks=excluded, timeout=RESPONSE_TIMEOUT
    )
