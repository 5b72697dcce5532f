#!/usr/bin/env bash
# Install everything and run the whole test suite (lint, unit, real PostgreSQL and SQLite).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The integration tests start a throwaway PostgreSQL server: they need its server binaries.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1 \
    && [ -z "${PG_BINDIR:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing PostgreSQL server binaries (apt-get install postgresql)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries are needed: run 'sudo apt-get install -y postgresql'" \
         "(or set PG_BINDIR to the folder holding initdb and pg_ctl)." >&2
    exit 1
  fi
fi

bash scripts/bootstrap.sh
VENV=${VENV:-.venv}
"$VENV/bin/ruff" check .
exec "$VENV/bin/python" -m pytest "$@"
