#!/usr/bin/env bash
# One-shot initialisation for the local stack (the `airflow-init` service):
#   1. migrate the metadata database (idempotent);
#   2. make sure the simple auth manager knows the admin user with the password from .env.
#
# The simple auth manager keeps users in [core] simple_auth_manager_users and their passwords in a
# JSON file ([core] simple_auth_manager_passwords_file). Left alone it invents a random password
# and prints it in the api-server log; writing the file first gives a known local password.
set -euo pipefail

echo "airflow-init: $(airflow version)"
airflow db migrate

python - <<'PY'
import json
import os
from pathlib import Path

path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
# Both come from docker-compose.yaml (defaults there, overrides in .env).
user = os.environ["AIRFLOW_ADMIN_USER"]
password = os.environ["AIRFLOW_ADMIN_PASSWORD"]
if not user or not password:
    raise SystemExit("airflow-init: AIRFLOW_ADMIN_USER and AIRFLOW_ADMIN_PASSWORD must not be empty")

path.parent.mkdir(parents=True, exist_ok=True)
text = path.read_text().strip() if path.exists() else ""
passwords = json.loads(text) if text else {}
if passwords.get(user) == password:
    print(f"airflow-init: user {user!r} already set up")
else:
    action = "updated" if user in passwords else "created"
    passwords[user] = password
    path.write_text(json.dumps(passwords, indent=2) + "\n")
    path.chmod(0o600)
    print(f"airflow-init: user {user!r} {action} in {path}")
PY
