"""Fixtures shared by every test folder.

``tests.neo4j_server`` brings the session's real Neo4j server (fixture ``neo4j_server``);
``tests.api_server`` a real API server on each engine (fixture ``api``);
``tests.documents_world`` a store with months of history for the documents' tests.

Property-based tests run derandomised: every run of the suite draws the same examples, so a
failure reproduces and the suite cannot pass on one machine and fail on the next by chance.
Longer runs with random seeds live in scripts of their own (``scripts/fuzz_api.sh``).
"""

from hypothesis import settings

pytest_plugins = ("tests.neo4j_server", "tests.api_server", "tests.documents_world")

# No deadline: how long an example takes depends on the machine and its load, not the code.
settings.register_profile("graphfraud", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("graphfraud")
