"""Fixtures shared by every test folder.

``tests.neo4j_server`` brings the session's real Neo4j server (fixture ``neo4j_server``);
``tests.api_server`` a real API server on each engine (fixture ``api``).
"""

pytest_plugins = ("tests.neo4j_server", "tests.api_server")
