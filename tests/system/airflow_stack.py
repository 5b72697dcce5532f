"""Start and stop a real local Airflow (api-server + scheduler + dag-processor), as ``airflow standalone``.

Every component is a separate ``python -m airflow ...`` process with the LocalExecutor, sharing only
a throwaway metadata database; tasks run in processes forked by the scheduler's executor and talk to
the api-server's execution API with a JWT, as in a real deployment. The test talks to the public REST
API (``/api/v2``) the UI uses, authenticated with the simple auth manager's ``/auth/token``.

Each component runs in its own process group (``start_new_session``), so stopping it also stops the
executor workers, task supervisors and parsing processes it started: SIGTERM to the group, then
SIGKILL to whatever is left, and a check that the group is gone.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pg_server import free_port

ADMIN_USER = "admin"
COMPONENTS = ("api-server", "scheduler", "dag-processor")


def airflow_env(
    home: Path,
    *,
    sql_alchemy_conn: str,
    dags_folder: Path,
    api_port: int,
    password_file: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment every component (and every ``airflow`` CLI call) gets.

    The test process's own ``AIRFLOW*`` variables (set by ``tests/conftest.py`` for in-process tests,
    e.g. unit-test mode and a SQLite metadata DB) are dropped: the live stack is configured only here.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.pop("MIGRATION_AUDIT_CONFIG", None)
    base_url = f"http://127.0.0.1:{api_port}"
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # auth: the simple auth manager with one known admin (the password file is read at login)
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(password_file),
            # one JWT secret for the api-server (issues/checks tokens) and the task supervisors
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            # fast loops: find and parse the DAG files at once, schedule without waiting
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__FILE_PARSING_SORT_MODE": "alphabetical",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
            # The scheduler creates no cron/asset runs in the test: with catchup=False an unpaused DAG
            # would at once get a run for the latest past cron slot, racing the runs under test.
            # Manual and backfill runs (created by the API/CLI, started by the scheduler) are unaffected.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            # the scheduler's log server (default 8793): a free port, so two stacks can run side by side
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    env.update(extra or {})
    return env


@dataclass
class AirflowStack:
    """A running local Airflow; build it with :meth:`create`, then :meth:`start` and :meth:`stop`."""

    home: Path
    env: dict[str, str]
    api_port: int
    password: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    _client: httpx.Client | None = None

    @classmethod
    def create(
        cls,
        home: Path,
        *,
        sql_alchemy_conn: str,
        dags_folder: Path,
        extra_env: Mapping[str, str] | None = None,
        local_settings: str | None = None,
    ) -> AirflowStack:
        """``local_settings``: the text of ``$AIRFLOW_HOME/config/airflow_local_settings.py`` (cluster
        policies, as a deployment sets them), which every component and task process imports."""
        home.mkdir(parents=True, exist_ok=True)
        (home / "logs").mkdir(exist_ok=True)
        if local_settings is not None:
            (home / "config").mkdir(exist_ok=True)
            (home / "config" / "airflow_local_settings.py").write_text(local_settings)
        password = secrets.token_urlsafe(12)
        password_file = home / "simple_auth_manager_passwords.json"
        password_file.write_text(json.dumps({ADMIN_USER: password}) + "\n")
        port = free_port()
        env = airflow_env(
            home,
            sql_alchemy_conn=sql_alchemy_conn,
            dags_folder=dags_folder,
            api_port=port,
            password_file=password_file,
            extra=extra_env,
        )
        return cls(home=home, env=env, api_port=port, password=password)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    # -- processes -------------------------------------------------------------------------------
    def airflow(self, *args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
        """Run one ``airflow`` CLI command with the stack's environment; raise with its output if it fails."""
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"`airflow {' '.join(args)}` exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
            )
        return result

    def log_path(self, name: str) -> Path:
        return self.home / "logs" / f"{name}.log"

    def start(self, *, timeout: float = 120) -> None:
        """``airflow db migrate``, then the three components; return once they report healthy."""
        self.airflow("db", "migrate", timeout=300)
        for name in COMPONENTS:
            args = ["api-server", "--port", str(self.api_port), "--host", "127.0.0.1"]
            args = args if name == "api-server" else [name]
            with open(self.log_path(name), "wb") as log:
                self.procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "airflow", *args],
                    env=self.env,
                    cwd=self.home,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        self.wait_healthy(timeout=timeout)

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"Airflow component(s) exited: {dead}\n{self.log_tails()}")

    def stop(self, *, grace: float = 20) -> list[str]:
        """Stop every component and its children; return the names of groups that needed SIGKILL."""
        if self._client is not None:
            self._client.close()
            self._client = None
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        killed = []
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            while _group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _group_alive(proc.pid) or proc.poll() is None:
                killed.append(name)
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for name, proc in self.procs.items():  # a SIGKILLed group can take a moment to be reaped
            for _ in range(50):
                if not _group_alive(proc.pid):
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError(f"processes of {name} (group {proc.pid}) survived SIGKILL")
        return killed

    def log_tails(self, lines: int = 60) -> str:
        out = []
        for name in COMPONENTS:
            path = self.log_path(name)
            text = path.read_text(errors="replace").splitlines() if path.exists() else ["(no log)"]
            out.append(f"===== {name} ({path}) =====\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def task_logs(self, dag_id: str, run_id: str, task_ids: set[str] | None = None, limit: int = 4000) -> str:
        """Task log files of one run (LocalExecutor writes them under ``$AIRFLOW_HOME/logs``)."""
        root = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        parts = []
        for path in sorted(root.rglob("*.log")) if root.exists() else []:
            if task_ids is not None and path.parent.name.removeprefix("task_id=") not in task_ids:
                continue
            parts.append(f"----- {path.relative_to(root)} -----\n{path.read_text(errors='replace')[-limit:]}")
        return "\n".join(parts) or f"(no task logs under {root})"

    def task_log_events(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """The JSON log events of one task of one run, every attempt and every reschedule, in order."""
        root = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        events = []
        for path in sorted(root.rglob("*.log")) if root.exists() else []:
            for line in path.read_text(errors="replace").splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    events.append(event)
        return sorted(events, key=lambda e: str(e.get("timestamp")))

    # -- REST API --------------------------------------------------------------------------------
    def wait_healthy(self, *, timeout: float) -> dict[str, Any]:
        """Poll ``/api/v2/monitor/health`` until the DB, scheduler and DAG processor are healthy."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                last = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
            except (httpx.HTTPError, ValueError) as err:
                last = repr(err)
            else:
                parts = ("metadatabase", "scheduler", "dag_processor")
                if all((last.get(p) or {}).get("status") == "healthy" for p in parts):
                    return last
            time.sleep(1)
        raise TimeoutError(f"Airflow not healthy after {timeout} s; last health: {last}\n{self.log_tails()}")

    def token(self, username: str = ADMIN_USER, password: str | None = None) -> httpx.Response:
        """``POST /auth/token`` of the simple auth manager (what the UI's login page does)."""
        return httpx.post(
            f"{self.base_url}/auth/token",
            json={"username": username, "password": self.password if password is None else password},
            timeout=30,
        )

    @property
    def api(self) -> httpx.Client:
        """An HTTP client for ``/api/v2`` carrying the admin's JWT."""
        if self._client is None:
            response = self.token()
            response.raise_for_status()
            self._client = httpx.Client(
                base_url=f"{self.base_url}/api/v2",
                headers={"Authorization": f"Bearer {response.json()['access_token']}"},
                timeout=30,
            )
        return self._client

    def wait_for(self, what: str, probe: Callable[[], Any], *, timeout: float, interval: float = 1.0) -> Any:
        """Call ``probe`` until it returns something truthy; fail with the component logs on timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
            last = probe()
            if last:
                return last
            time.sleep(interval)
        raise TimeoutError(f"timed out after {timeout} s waiting for {what}\n{self.log_tails()}")

    def import_errors(self) -> dict[str, str]:
        """``{file: stack trace}`` of the DAG files the DAG processor could not parse or serialize."""
        response = self.api.get("/importErrors", params={"limit": 100})
        response.raise_for_status()
        return {e["filename"]: e["stack_trace"] for e in response.json()["import_errors"]}

    def wait_for_dags(self, dag_ids: set[str], *, files: set[str], timeout: float) -> dict[str, dict]:
        """Wait until the DAG processor has serialized ``dag_ids``; fail at once on an import error
        in one of ``files`` (the files defining them)."""

        def probe() -> dict[str, dict] | None:
            errors = {f: t for f, t in self.import_errors().items() if f in files}
            if errors:
                raise AssertionError(
                    "DAG import errors:\n" + "\n".join(f"{f}:\n{t}" for f, t in errors.items())
                )
            dags = self.api.get("/dags", params={"limit": 100}).json()["dags"]
            found = {d["dag_id"]: d for d in dags}
            return found if dag_ids <= set(found) else None

        return self.wait_for(f"DAGs {sorted(dag_ids)} to be parsed", probe, timeout=timeout)

    def wait_for_run(self, dag_id: str, run_id: str, *, timeout: float) -> dict[str, Any]:
        """Poll a DAG run until it is finished; return it (with task logs printed if it did not succeed)."""

        def probe() -> dict[str, Any] | None:
            run = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
            return run if run.get("state") in ("success", "failed") else None

        run = self.wait_for(f"run {dag_id}/{run_id}", probe, timeout=timeout)
        if run["state"] != "success":
            print(self.describe_run(dag_id, run_id))
        return run

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        response = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        response.raise_for_status()
        return response.json()["task_instances"]

    def describe_run(self, dag_id: str, run_id: str) -> str:
        tis = self.task_instances(dag_id, run_id)
        states = "\n".join(f"  {t['task_id']}[{t['map_index']}]: {t['state']}" for t in tis)
        unhappy = {t["task_id"] for t in tis if t["state"] not in ("success", "skipped")}
        logs = self.task_logs(dag_id, run_id, unhappy or None)
        return f"run {dag_id}/{run_id}:\n{states}\n{logs}\n{self.log_tails()}"


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
