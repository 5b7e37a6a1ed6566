"""A real CalDAV server for the tests, on loopback: Radicale (PyPI ``radicale``), run as
``python -m radicale`` from a config of our own in a throwaway directory, with htpasswd
users (plain passwords: test accounts only) and its own storage folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.mail_servers import free_port, stop_process, wait_listening

CONFIG = """
[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {dir}/users
htpasswd_encryption = plain
delay = 0
[storage]
filesystem_folder = {dir}/collections
[logging]
level = warning
"""


class Radicale:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="os1-radicale-"))
        self.port = free_port()
        self.users: dict[str, str] = {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def add_user(self, name: str, password: str) -> None:
        """Radicale reads the htpasswd file on each login, so users can come and go."""
        self.users[name] = password
        (self.dir / "users").write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))

    def start(self) -> Radicale:
        (self.dir / "users").touch()
        config = self.dir / "config"
        config.write_text(CONFIG.format(port=self.port, dir=self.dir))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_listening(self.process, self.port, "radicale")
        return self

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)
