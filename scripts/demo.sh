#!/usr/bin/env bash
# Install everything and run the audit chain end to end on the embedded default (SQLite files).
# No server, no network beyond PyPI for the install, no manual step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS
if [ -x "${VENV:-.venv}/bin/python" ]; then
  echo "Checking the install in ${VENV:-.venv} ..."
else
  echo "Installing Airflow and the provider into ${VENV:-.venv} (first time only; about a minute) ..."
fi
bash scripts/bootstrap.sh
echo "Installed in $((SECONDS - started)) s."
exec "${VENV:-.venv}/bin/python" scripts/demo.py "$@"
