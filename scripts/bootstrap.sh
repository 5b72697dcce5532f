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
[ -x .venv/bin/python ] || $UV venv --quiet --python "$PYTHON" .venv
# A regular (non-editable) install: the tests use the provider exactly as a wheel ships it.
$UV pip install --quiet --python .venv/bin/python --reinstall-package migration-audit-provider ".[${EXTRAS:-test}]"
