"""The package registers itself with Airflow: `airflow providers list` shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from migration_audit_provider import __version__
from migration_audit_provider.get_provider_info import get_provider_info


def test_airflow_providers_list_shows_the_package(tmp_path):
    airflow = Path(sys.executable).with_name("airflow")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    out = subprocess.run(
        [str(airflow), "providers", "list", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    listing = next(line for line in out.stdout.splitlines() if line.startswith("[{"))  # past log lines
    providers = {p["package_name"]: p for p in json.loads(listing)}
    assert providers["migration-audit-provider"]["version"] == __version__


def test_provider_info_names_importable_modules():
    import importlib

    info = get_provider_info()
    for section in ("operators", "hooks"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
