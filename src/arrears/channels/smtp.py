"""`SmtpChannel`: e-mail through an SMTP server, with the standard library only.

SMTP has no idempotency key.  The adapter derives the ``Message-ID`` from the
key (mail systems and clients drop a second copy with the same id), carries
the key in an ``Idempotency-Key`` header, and remembers in memory the keys
it sent, answering ``duplicate`` for them.  It does not retry by itself: a
connection lost after the server accepted the message cannot be told from
one lost before, so the decision to retry belongs to the outbox.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal

from ..clock import Clock, SystemClock
from ..logs import get_logger, mask_text
from ._model import DeliveryReport, OutboundMessage, SendResult

__all__ = ["SmtpChannel"]

_log = get_logger("arrears.channels")


class SmtpChannel:
    """Send e-mail through an SMTP server.

    Args:
        host: The server.
        port: Its port (587 for STARTTLS submission, 465 for TLS, 25 plain).
        sender: The ``From`` address.
        security: ``"starttls"`` (default), ``"ssl"`` (TLS from the start) or
            ``"none"`` (a local relay).
        username: Log in with this user, when set.
        password: And this password.
        timeout: Seconds for the connection and each command.
        ssl_context: The TLS context (the system's default when ``None``).
        clock: Stamps the ``Date`` header.
        smtp_factory: Builds the SMTP connection ``(host, port, timeout)``;
            for tests, in place of `smtplib.SMTP` / `smtplib.SMTP_SSL`.

    Attributes:
        channels: ``{"email"}``.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 587,
        *,
        sender: str,
        security: Literal["starttls", "ssl", "none"] = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
        smtp_factory: Callable[[str, int, float], smtplib.SMTP] | None = None,
    ) -> None:
        self.channels: frozenset[str] = frozenset({"email"})
        self.host = host
        self.port = port
        self.sender = sender
        self.security = security
        self._username = username
        self._password = password
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._clock: Clock = clock or SystemClock()
        self._factory = smtp_factory
        self._sent: dict[str, DeliveryReport] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SmtpChannel(host={self.host!r}, port={self.port}, security={self.security!r})"

    def message_id(self, key: str) -> str:
        """The ``Message-ID`` for the message sent under *key*: the same on every retry."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        domain = self.sender.rpartition("@")[2] or "localhost"
        return f"<{digest}@{domain}>"

    def _email(self, message: OutboundMessage, address: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = address
        mail["Subject"] = message.subject or ""
        mail["Date"] = format_datetime(self._clock.now())
        mail["Message-ID"] = self.message_id(message.key)
        mail["Idempotency-Key"] = message.key
        mail.set_content(message.text)
        if message.locale:  # after set_content, which replaces the Content-* headers
            mail["Content-Language"] = message.locale
        return mail

    def _connect(self) -> smtplib.SMTP:
        if self._factory is not None:
            return self._factory(self.host, self.port, self.timeout)
        if self.security == "ssl":
            context = self._ssl_context or ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def send(self, message: OutboundMessage) -> SendResult:
        """Send *message* as a plain-text e-mail; ``duplicate`` for a key already sent."""
        if message.channel != "email":
            return SendResult("failed", detail=f"SMTP sends e-mail, not {message.channel}")
        if not message.address:
            return SendResult("failed", detail="no address to send to")
        with self._lock:
            known = self._sent.get(message.key)
            if known is not None:
                return SendResult("duplicate", known.provider_id, "already sent under this key")
            if message.key in self._pending:
                return SendResult("duplicate", None, "being sent under this key right now")
            self._pending.add(message.key)
        try:
            result = self._deliver(self._email(message, message.address))
            if result.status == "sent":
                with self._lock:
                    self._sent[message.key] = DeliveryReport(
                        message.key, "sent", self._clock.now(), result.provider_id
                    )
        finally:
            with self._lock:
                self._pending.discard(message.key)
        _log.info(
            "message_sent" if result.status == "sent" else "message_not_sent",
            case_id=message.case_id,
            key=message.key,
            channel="email",
            status=result.status,
            retryable=result.retryable,
        )
        return result

    def _deliver(self, mail: EmailMessage) -> SendResult:
        provider_id = str(mail["Message-ID"])
        try:
            with self._connect() as smtp:
                if self.security == "starttls":
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                if self._username is not None:
                    smtp.login(self._username, self._password or "")
                refused: dict[str, Any] = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as err:
            codes = sorted({code for code, _ in err.recipients.values()})
            transient = all(400 <= code < 500 for code in codes)
            return SendResult(
                "failed", detail=f"recipient refused (SMTP {codes})", retryable=transient
            )
        except smtplib.SMTPResponseException as err:
            reply = (
                err.smtp_error.decode(errors="replace")
                if isinstance(err.smtp_error, bytes)
                else str(err.smtp_error)
            )
            return SendResult(
                "failed",
                detail=f"SMTP {err.smtp_code}: {mask_text(reply)}",
                retryable=400 <= err.smtp_code < 500,
            )
        except (smtplib.SMTPException, OSError) as err:
            return SendResult(
                "failed", detail=f"{type(err).__name__}: {mask_text(str(err))}", retryable=True
            )
        if refused:
            return SendResult("failed", detail="recipient refused", retryable=False)
        return SendResult("sent", provider_id, "accepted by the SMTP server")

    def delivery(self, key: str) -> DeliveryReport | None:
        """``sent`` for a key this adapter sent (SMTP reports nothing later), else ``None``."""
        with self._lock:
            return self._sent.get(key)
