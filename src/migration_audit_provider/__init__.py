"""Airflow provider that audits and repairs a table-by-table migration between two database clusters."""

from __future__ import annotations

__version__ = "0.1.0"
