#!/usr/bin/env bash
# Install everything and run the whole test suite (lint, unit, real PostgreSQL and SQLite).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# System packages the tests need: PostgreSQL server binaries (the integration tests start a
# throwaway server) and Debian's Chromium (the dashboard is tested in a real headless browser).
need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1 \
    && [ -z "${PG_BINDIR:-}" ]; then
  need+=(postgresql)
fi
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${need[*]} (apt-get)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "These system packages are needed: ${need[*]} -- run 'sudo apt-get install -y ${need[*]}'" \
         "(or set PG_BINDIR to the folder holding initdb and pg_ctl)." >&2
    exit 1
  fi
fi

bash scripts/bootstrap.sh
VENV=${VENV:-.venv}
"$VENV/bin/ruff" check .
exec "$VENV/bin/python" -m pytest "$@"
