"""A real PostgreSQL server for the tests, started from Debian's postgresql package in a
throwaway data directory on a free loopback port, and stopped at the end.

Each test gets a schema of its own (``new_database``): the URL carries its search_path,
so os1 sees an empty database, and making one costs milliseconds, not a CREATE DATABASE.
PostgreSQL refuses to run as root; as root the server runs as the package's ``postgres``
user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg

INSTALL_HINT = ("PostgreSQL's server programs are not installed. scripts/bootstrap installs"
                " them when run as root; otherwise: sudo apt install postgresql")


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _binaries()
        self.dir = Path(tempfile.mkdtemp(prefix="os1-postgres-"))
        self.port = _free_port()
        self._schemas = 0
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql://os1test@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-U", "os1test", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale=C.UTF-8")
        # Durability settings off: a test server's data is thrown away anyway.
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                   " -c max_connections=400")
        self._run("pg_ctl", "-D", str(data), "-l", str(self.dir / "server.log"), "-w",
                  "-t", "60", "-o", options, "start")

    def new_database(self) -> str:
        """The URL of an empty database (a fresh schema) for one test."""
        self._schemas += 1
        schema = f"test_{self._schemas}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        return f"{self.admin_url}?options={quote(f'-csearch_path={schema}')}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run([*self._as_user, str(self.bin / program), *args],
                                capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({result.returncode}):"
                               f" {result.stderr.strip()}\n{tail}")


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(INSTALL_HINT)
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
