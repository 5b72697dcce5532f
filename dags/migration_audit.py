"""Airflow DAGs, one per configured schema: data run -> refresh -> get rejects -> rerun -> refresh again.

(The words "airflow" and "dag" in this docstring also let Airflow's safe-mode parser pick the file up.)

Schemas and settings come from ``migration_audit.yaml`` beside this file (or the file named by the
``MIGRATION_AUDIT_CONFIG`` environment variable). Parsing reads that file only: no database,
no Variable, no Connection is touched here.
"""

from __future__ import annotations

import os
from pathlib import Path

from migration_audit_provider.config import load_settings
from migration_audit_provider.factory import build_audit_dag

CONFIG = Path(os.environ.get("MIGRATION_AUDIT_CONFIG") or Path(__file__).with_name("migration_audit.yaml"))

for _settings in load_settings(CONFIG):
    globals()[_settings.dag_id] = build_audit_dag(_settings)
