#!/usr/bin/env bash
# Install everything and run the whole test suite (lint, unit, real PostgreSQL and SQLite, DAGs, the
# live Airflow stack, the dashboard in Chromium, compose, benchmarks smoke tests, the demo).
#   bash scripts/test.sh            everything (what .ci/run calls, with -q)
#   bash scripts/test.sh --fast     unit, integration and DAG tests only (no live Airflow, browser,
#                                   compose, benchmark or demo tests; no Chromium needed)
# Other arguments go to pytest. Progress: one line per test file (start, end, time, outcomes), a line
# every 30 s inside a slow test, and the 15 slowest tests at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fast=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--fast" ]; then fast=1; else args+=("$arg"); fi
done

# System packages the tests need: PostgreSQL server binaries (the integration tests start a
# throwaway server) and Debian's Chromium (the dashboard is tested in a real headless browser).
need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1 \
    && [ -z "${PG_BINDIR:-}" ]; then
  need+=(postgresql)
fi
[ "$fast" = 1 ] || command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
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
echo "Lint: ruff check ."
"$VENV/bin/ruff" check .
paths=()
[ "$fast" = 1 ] && paths=(tests/unit tests/integration tests/dags)
export PYTHONPATH="tests/scripts${PYTHONPATH:+:$PYTHONPATH}"
started=$SECONDS
status=0
"$VENV/bin/python" -m pytest -p pytest_progress --durations=15 "${paths[@]}" "${args[@]}" || status=$?
echo "scripts/test.sh$([ "$fast" = 1 ] && echo ' --fast'): pytest exit code $status after $((SECONDS - started)) s"
exit "$status"
