"""A throwaway PostgreSQL server for the tests and benchmarks (started as an unprivileged user).

Debian's PostgreSQL binaries refuse to run as root; CI runs as root, so when we are root every
server command runs as the ``postgres`` OS user through ``runuser``. Clients connect over TCP on
127.0.0.1 with a password (scram), like a real deployment, so secret-handling is exercised too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_USER = "audit_owner"
PG_PASSWORD = "pg-Secret-7f3a9c"  # a unique string, searched for in logs by the secret tests
INSTALL_HINT = (
    "PostgreSQL server binaries were not found. Install them (Debian/Ubuntu: "
    "`apt-get install -y postgresql`) or set PG_BINDIR to the folder holding initdb and pg_ctl."
)


def find_bindir() -> Path:
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted((str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")), reverse=True)
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(str(Path(pg_ctl).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise RuntimeError(INSTALL_HINT)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    base: Path
    port: int
    bindir: Path

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    @classmethod
    def start(cls) -> PgServer:
        bindir = find_bindir()
        base = Path(tempfile.mkdtemp(prefix="mapg-"))
        base.chmod(0o755)
        server = cls(base=base, port=free_port(), bindir=bindir)
        server.datadir.mkdir()
        pwfile = base / "pw"
        pwfile.write_text(PG_PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(server.datadir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        server._run(
            "initdb", "-D", str(server.datadir), "-U", PG_USER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        options = (
            f"-p {server.port} -k {server.datadir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        server._run(
            "pg_ctl",
            "-D",
            str(server.datadir),
            "-o",
            options,
            "-l",
            str(server.datadir / "log"),
            "-w",
            "start",
        )
        return server

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            _remove_later(self.base)

    def connect(self, dbname: str = "postgres", autocommit: bool = True):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_USER, password=PG_PASSWORD, dbname=dbname,
            autocommit=autocommit,
        )  # fmt: skip

    def create_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def conn_json(self, dbname: str) -> str:
        import json

        return json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": self.port,
                "login": PG_USER,
                "password": PG_PASSWORD,
                "schema": dbname,
            }
        )


def _remove_later(path: os.PathLike) -> None:
    """Delete a stopped server's folder without waiting: after a whole test session it holds hundreds
    of databases, and removing them took ~25 s at the end of every run."""
    try:
        subprocess.Popen(  # noqa: S603 - a fixed command on our own temporary folder
            ["rm", "-rf", str(path)],  # noqa: S607
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
