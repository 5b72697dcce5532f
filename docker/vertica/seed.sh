#!/usr/bin/env bash
# The `vertica-seed` one-shot service: runs after both Vertica containers are healthy.
#
#   1. Export addresses. The Community Edition image creates its single-node database bound to
#      localhost, so each node advertises 127.0.0.1 to other clusters and a cross-cluster
#      `COPY ... FROM VERTICA` (or EXPORT TO VERTICA) from the other container would connect to
#      itself. Each node is given a network interface with its fixed address on the compose
#      network and told to export on it (CREATE NETWORK INTERFACE / ALTER NODE ... EXPORT ON).
#   2. seed_source.sql on vertica-source: demo schemas, tables and rows.
#   3. seed_target.sql on vertica-target: the same tables, empty, plus schema `migration`.
#
# Every step is safe to repeat; `docker compose up` runs this service again each time.
set -euo pipefail

VSQL=/opt/vertica/bin/vsql
SEED_DIR=$(dirname "$0")
: "${VERTICA_DB:?}" "${VERTICA_USER:?}" "${VERTICA_SOURCE_IP:?}" "${VERTICA_TARGET_IP:?}"

vsql_on() {
    # vsql_on HOST ARGS... — one session as VERTICA_USER, no ~/.vsqlrc, stopping at the first error.
    local host=$1
    shift
    local auth=(-U "$VERTICA_USER")
    if [ -n "${VERTICA_PASSWORD:-}" ]; then
        auth+=(-w "$VERTICA_PASSWORD")
    fi
    "$VSQL" -X -h "$host" -p 5433 -d "$VERTICA_DB" "${auth[@]}" -v ON_ERROR_STOP=1 "$@"
}

set_export_address() {
    # set_export_address HOST IP — make the (single) node of HOST export on IP.
    local host=$1 ip=$2 node
    node=$(vsql_on "$host" -qAt -c "SELECT node_name FROM v_catalog.nodes ORDER BY node_name LIMIT 1")
    echo "vertica-seed: ${host}: node ${node} exports on ${ip}"
    vsql_on "$host" -q <<SQL
DROP NETWORK INTERFACE IF EXISTS migration_export CASCADE;
CREATE NETWORK INTERFACE migration_export ON ${node} WITH '${ip}';
ALTER NODE ${node} EXPORT ON migration_export;
SQL
}

set_export_address vertica-source "$VERTICA_SOURCE_IP"
set_export_address vertica-target "$VERTICA_TARGET_IP"

echo "vertica-seed: seeding vertica-source"
vsql_on vertica-source -f "$SEED_DIR/seed_source.sql"

echo "vertica-seed: seeding vertica-target"
vsql_on vertica-target -f "$SEED_DIR/seed_target.sql"

echo "vertica-seed: row counts on vertica-source"
vsql_on vertica-source -c "
    SELECT 'sales.customers' AS table_name, COUNT(*) AS row_count FROM sales.customers
    UNION ALL SELECT 'sales.orders', COUNT(*) FROM sales.orders
    UNION ALL SELECT 'sales.order_items', COUNT(*) FROM sales.order_items
    UNION ALL SELECT 'hr.departments', COUNT(*) FROM hr.departments
    UNION ALL SELECT 'hr.employees', COUNT(*) FROM hr.employees
    UNION ALL SELECT 'Finance Dept.Ledger Entries', COUNT(*) FROM \"Finance Dept\".\"Ledger Entries\"
    ORDER BY 1"
echo "vertica-seed: done"
