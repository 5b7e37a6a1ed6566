"""The SMTP edge: ``MailSender`` is what sending needs; ``SmtpSender`` speaks SMTP with
the standard library's smtplib over TLS, STARTTLS or (loopback tests) plain TCP. It is
only ever called with a message the user has confirmed (see mail/outbox.py); every
failure becomes a ``MailError`` that says what went wrong, never with the password.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol

from os1.errors import MailError
from os1.mail.mailboxes import MailAccount

TIMEOUT_S = 60.0


class MailSender(Protocol):
    def send(self, message: EmailMessage, recipients: Sequence[str]) -> None: ...


class SmtpSender:
    def __init__(self, account: MailAccount, password: str, ca_file: str | None = None) -> None:
        self.account = account
        self._password = password
        self._context = ssl.create_default_context(cafile=ca_file)

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        host, port = self.account.smtp_host, self.account.smtp_port
        try:
            with self._connect() as smtp:
                smtp.login(self.account.login, self._password)
                refused = smtp.send_message(message, self.account.address, list(recipients))
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"{host} refused the login for {self.account.login}: "
                            f"{_said(exc.smtp_error)}.",
                            f"Check the password (os1 mail password {self.account.name}). "
                            "Nothing was sent.") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"{host} refused every recipient: "
                            f"{', '.join(exc.recipients)}. Nothing was sent.") from exc
        except ssl.SSLCertVerificationError as exc:
            raise MailError(f"{host}:{port}'s certificate can't be trusted: "
                            f"{exc.verify_message}. Nothing was sent.") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"Sending through {host}:{port} failed: {exc}.",
                            "Nothing was sent; check the SMTP host, port and security "
                            "setting, and try again.") from exc
        if refused:
            raise MailError(f"{host} sent it, but refused {', '.join(sorted(refused))}.")

    def _connect(self) -> smtplib.SMTP:
        host, port = self.account.smtp_host, self.account.smtp_port
        if self.account.smtp_security == "tls":
            return smtplib.SMTP_SSL(host, port, context=self._context, timeout=TIMEOUT_S)
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
        if self.account.smtp_security == "starttls":
            smtp.starttls(context=self._context)
        return smtp


def _said(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split()) or "no reason given"
