#!/usr/bin/env bash
# Install everything and run the audit chain end to end on the embedded default (SQLite files).
# No server, no network beyond PyPI for the install, no manual step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python scripts/demo.py "$@"
