#!/usr/bin/env bash
# Create .venv and install the provider (with the test extras) into it. Used by scripts/test.sh and
# scripts/demo.sh. Needs only python3 (>= 3.10) with venv, and access to PyPI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
export UV_COMPILE_BYTECODE=1  # without .pyc every airflow command starts twice as slowly

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "Python >= 3.10 is needed ($PYTHON is $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.x" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --python "$PYTHON" "$VENV"
  elif ! "$PYTHON" -m venv "$VENV"; then
    echo "Could not create a virtual environment: install python3-venv (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
# uv installs the Airflow stack in seconds; bring it into the venv when the machine has none.
if command -v uv >/dev/null 2>&1; then
  UV=uv
else
  [ -x "$VENV/bin/uv" ] || "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check uv
  UV="$VENV/bin/uv"
fi
# Editable, so a checkout under development is what runs; tests/unit/test_sql_files.py builds the
# wheel and checks that the SQL ships inside it.
"$UV" pip install --quiet --python "$VENV/bin/python" -e ".[${EXTRAS:-test}]"
