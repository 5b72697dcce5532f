"""A Vertica-protocol server for the tests, backed by PostgreSQL (see docs/vertica.md)."""

from vertica_emulator.server import VerticaEmulator

__all__ = ["VerticaEmulator"]
