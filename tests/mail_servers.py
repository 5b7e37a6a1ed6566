"""Real mail servers for the tests, on loopback: Dovecot (Debian's dovecot-imapd) for
IMAP, with a self-signed certificate for IMAPS, and aiosmtpd for SMTP, which keeps what
it receives. Test accounts live in a passwd file; the tests put mail in with IMAP APPEND,
as any mail client could.

Dovecot runs from a config of our own in a throwaway directory, never the system one.
As root, mail is kept as ``nobody`` (Dovecot refuses root for mail); otherwise as the
current user.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

INSTALL_HINT = ("Dovecot is not installed. scripts/bootstrap installs it when run as root;"
                " otherwise: sudo apt install dovecot-imapd")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(process: subprocess.Popen[bytes], port: int, name: str) -> None:
    """Until ``process`` accepts connections on ``port`` (30 s at most); if it exits
    first, what it said on stderr is the error."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {process.stderr.read().decode()}"
                               if process.stderr else f"{name} exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not start listening")


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


class Dovecot:
    def __init__(self) -> None:
        if shutil.which("dovecot", path="/usr/sbin:/usr/bin") is None:
            raise RuntimeError(INSTALL_HINT)
        self.dir = Path(tempfile.mkdtemp(prefix="os1-dovecot-"))
        self.dir.chmod(0o755)  # Dovecot's auth process reads the passwd file as its own user
        self.port, self.tls_port = free_port(), free_port()
        self.cert = self.dir / "cert.pem"
        self.users: dict[str, str] = {}
        self.process: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            owner = pwd.getpwnam("nobody")
            self.uid, self.gid = owner.pw_uid, owner.pw_gid
            self.login_user, self.internal_user = "dovenull", "dovecot"
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
            self.login_user = self.internal_user = pwd.getpwuid(self.uid).pw_name

    def add_user(self, name: str, password: str) -> None:
        self.users[name] = password
        (self.dir / "users").write_text(
            "".join(f"{u}:{{PLAIN}}{p}::::\n" for u, p in self.users.items()))
        if self.process is not None:
            # Dovecot notices a changed passwd file by its mtime, to the second: wait for
            # the login to work rather than for a second to pass.
            deadline = time.monotonic() + 5
            while True:
                try:
                    self._login(name, password).logout()  # creates the mailbox
                    return
                except imaplib.IMAP4.error:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

    def start(self) -> Dovecot:
        mail = self.dir / "mail"
        mail.mkdir()
        os.chown(mail, self.uid, self.gid)
        self._certificate()
        config = self.dir / "dovecot.conf"
        config.write_text(CONFIG.format(dir=self.dir, port=self.port, tls_port=self.tls_port,
                                        uid=self.uid, gid=self.gid, login=self.login_user,
                                        internal=self.internal_user))
        if not (self.dir / "users").exists():
            (self.dir / "users").write_text("")
        self.process = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_listening(self.process, self.port, "dovecot")
        return self

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)

    def append(self, user: str, messages: list[EmailMessage], folder: str = "INBOX") -> None:
        """Put messages in a mailbox, as a mail client would."""
        self.append_raw(user, *(bytes(m) for m in messages), folder=folder)

    def append_raw(self, user: str, *raws: bytes, folder: str = "INBOX") -> None:
        imap = self._login(user, self.users[user])
        try:
            imap.create(folder)
            for raw in raws:
                status, data = imap.append(folder, "", imaplib.Time2Internaldate(time.time()),
                                           raw)
                assert status == "OK", data
        finally:
            imap.logout()

    def folder_uids(self, user: str, folder: str) -> list[int]:
        imap = self._login(user, self.users[user])
        try:
            imap.select(folder, readonly=True)
            _, data = imap.uid("SEARCH", "ALL")
            return [int(u) for u in data[0].split()]
        finally:
            imap.logout()

    def _login(self, user: str, password: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(user, password)
        return imap

    def _certificate(self) -> None:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", str(self.dir / "key.pem"),
                        "-out", str(self.cert)], check=True, capture_output=True)


CONFIG = """
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login}
default_internal_user = {internal}
first_valid_uid = {uid}
mail_location = maildir:{dir}/mail/%u
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%u
}}
namespace inbox {{
  inbox = yes
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
"""


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class SmtpServer:
    """aiosmtpd on loopback, with AUTH PLAIN/LOGIN for one test account."""

    user: str = "theo@example.org"
    password: str = "smtp secret"
    port: int = field(default_factory=free_port)
    received: list[ReceivedMail] = field(default_factory=list)
    _controller: Any = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                server.received.append(ReceivedMail(envelope.mail_from,
                                                    list(envelope.rcpt_tos),
                                                    bytes(envelope.content)))
                return "250 OK"

        def authenticate(smtp: Any, session: Any, envelope: Any, mechanism: str,
                         data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.login.decode() == server.user \
                and data.password.decode() == server.password
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                      authenticator=authenticate, auth_require_tls=False,
                                      ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()


class CuttingProxy:
    """A TCP relay to a real server that cuts every connection once the server has sent
    ``cut_after`` bytes through it (None: never): a network that drops mid-sync."""

    def __init__(self, target_port: int, cut_after: int | None) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._relay, args=(client, server, False),
                             daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, True),
                             daemon=True).start()

    def _relay(self, source: socket.socket, target: socket.socket, counted: bool) -> None:
        sent = 0
        try:
            while chunk := source.recv(65536):
                if counted and self.cut_after is not None and sent + len(chunk) > self.cut_after:
                    target.sendall(chunk[:max(0, self.cut_after - sent)])
                    self.cuts += 1
                    break
                target.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()
