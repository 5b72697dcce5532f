"""pytest fixtures for the Vertica emulator (made available to every test by tests/conftest.py)."""

from __future__ import annotations

import pytest

from vertica_emulator.server import VerticaEmulator


@pytest.fixture(scope="session")
def vertica_emulator(pg_server):
    """One emulator for the whole test session, on the tests' PostgreSQL server.

    Add clusters with ``vertica_emulator.add_cluster("name")`` (each is a PostgreSQL database) and
    point an Airflow connection at one with
    ``monkeypatch.setenv("AIRFLOW_CONN_X", vertica_emulator.conn_json("name"))``.
    """
    emulator = VerticaEmulator.start(pg_server)
    yield emulator
    emulator.stop()
