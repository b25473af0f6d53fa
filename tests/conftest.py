"""Shared pytest configuration. Markers are declared in pyproject.toml:

- ``slow``: more than a few seconds; run by ``make test``, skipped by ``make test-fast``;
- ``neo4j``: needs the Neo4j + GDS test server (``tests/neo4j/conftest.py`` starts it).
"""
