#!/usr/bin/env bash
# Create .venv and install the provider (with the test extras) into it. Sourced by scripts/test.sh
# and scripts/demo.sh. Needs only python3 (>= 3.10) and network access to PyPI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
export UV_COMPILE_BYTECODE=1  # without .pyc every airflow command starts twice as slowly
if ! command -v uv >/dev/null 2>&1; then
  "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
fi
UV=$(command -v uv || echo "$PYTHON -m uv")
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || $UV venv --quiet --python "$PYTHON" "$VENV"
# Editable, so a checkout under development is what runs; tests/unit/test_sql_files.py builds the
# wheel and checks that the SQL ships inside it.
$UV pip install --quiet --python "$VENV/bin/python" -e ".[${EXTRAS:-test}]"
