"""`RecordingChannel`: a channel adapter for tests that records what it is asked to send."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from ..clock import Clock
from ..errors import InvalidInput
from ._model import ALL_CHANNELS, DeliveryReport, DeliveryStatus, OutboundMessage, SendResult

__all__ = ["RecordingChannel"]


@dataclass(slots=True)
class _Failures:
    count: int
    retryable: bool
    detail: str


class RecordingChannel:
    """A fake adapter: keeps every message it accepts, in order, and sends nothing.

    A second send under a key already accepted returns ``"duplicate"`` and
    records nothing.  `fail_next` makes the next sends fail, as a gateway
    would, so a test can watch retries; a failed send does not use up its key.

    Args:
        channels: The channels it serves (all by default); a message on
            another is refused, not retryable.
        clock: Stamps delivery reports; none when ``None``.

    Attributes:
        channels: The channels it serves.
        sent: Every message accepted, oldest first.
        attempts: Every message it was asked to send, failed and duplicate included.

    Example:
        >>> fake = RecordingChannel(channels={"sms"})
        >>> message = OutboundMessage(key="k1", case_id="C-1", channel="sms", text="Hi")
        >>> fake.send(message).status, fake.send(message).status, len(fake.sent)
        ('sent', 'duplicate', 1)
    """

    def __init__(
        self, channels: Iterable[str] = ALL_CHANNELS, *, clock: Clock | None = None
    ) -> None:
        chosen = frozenset(str(channel) for channel in channels)
        unknown = chosen - ALL_CHANNELS
        if unknown:
            raise InvalidInput(
                "channels", sorted(unknown), f"channels among {sorted(ALL_CHANNELS)}"
            )
        self.channels: frozenset[str] = chosen
        self.sent: list[OutboundMessage] = []
        self.attempts: list[OutboundMessage] = []
        self._clock = clock
        self._by_key: dict[str, tuple[OutboundMessage, str]] = {}
        self._reports: dict[str, DeliveryReport] = {}
        self._failures: _Failures | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RecordingChannel(channels={sorted(self.channels)!r}, sent={len(self.sent)})"

    def fail_next(
        self, count: int = 1, *, retryable: bool = True, detail: str = "simulated failure"
    ) -> None:
        """Make the next *count* sends fail, retryable (a timeout) or not (a bad number)."""
        if count < 0:
            raise InvalidInput("count", count, "zero or more")
        with self._lock:
            self._failures = _Failures(count, retryable, detail) if count else None

    def send(self, message: OutboundMessage) -> SendResult:
        """Record *message*, or answer ``duplicate`` for a key already accepted."""
        with self._lock:
            self.attempts.append(message)
            if message.channel not in self.channels:
                return SendResult("failed", detail=f"this adapter does not serve {message.channel}")
            known = self._by_key.get(message.key)
            if known is not None:
                return SendResult("duplicate", known[1], "already sent under this key")
            failures = self._failures
            if failures is not None and failures.count > 0:
                failures.count -= 1
                if failures.count == 0:
                    self._failures = None
                return SendResult("failed", detail=failures.detail, retryable=failures.retryable)
            provider_id = f"rec-{len(self.sent) + 1}"
            self._by_key[message.key] = (message, provider_id)
            self.sent.append(message)
            at = self._clock.now() if self._clock is not None else None
            self._reports[message.key] = DeliveryReport(message.key, "sent", at, provider_id)
            return SendResult("sent", provider_id, "recorded")

    def delivery(self, key: str) -> DeliveryReport | None:
        """The report for *key*: ``sent`` once accepted, or what `report` set."""
        with self._lock:
            return self._reports.get(key)

    def report(self, key: str, status: DeliveryStatus, *, detail: str = "") -> DeliveryReport:
        """Set what `delivery` says of *key* (``delivered``, ``failed``…), as a callback would.

        Raises:
            KeyError: nothing was sent under *key*.
        """
        with self._lock:
            _, provider_id = self._by_key[key]
            at = self._clock.now() if self._clock is not None else None
            report = DeliveryReport(key, status, at, provider_id, detail)
            self._reports[key] = report
            return report

    def message(self, key: str) -> OutboundMessage | None:
        """The message accepted under *key*, if any."""
        with self._lock:
            known = self._by_key.get(key)
            return known[0] if known is not None else None
