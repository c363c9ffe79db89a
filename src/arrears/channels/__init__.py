"""Channels: how messages leave `arrears` — a small Protocol the host implements, and adapters.

`arrears` sends nothing by itself.  A `ChannelAdapter` takes an
`OutboundMessage` (with the outbox's idempotency key) and answers with a
`SendResult`: ``sent``, ``failed`` (retryable or not) or ``duplicate``;
later it may report delivery (`DeliveryReport`).  Shipped adapters:

- `RecordingChannel`: records what it is asked to send; for tests.
- `SmtpChannel`: e-mail through an SMTP server (standard library only).
- `WebhookChannel`: JSON over HTTP to any endpoint (``httpx``), with timeouts
  and retries carrying an ``Idempotency-Key`` header.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._model import (
    ALL_CHANNELS,
    ChannelAdapter,
    DeliveryReport,
    DeliveryStatus,
    OutboundMessage,
    SendResult,
    SendStatus,
)
from .recording import RecordingChannel

if TYPE_CHECKING:
    from .smtp import SmtpChannel
    from .webhook import WebhookChannel

__all__ = [
    "ALL_CHANNELS",
    "ChannelAdapter",
    "DeliveryReport",
    "DeliveryStatus",
    "OutboundMessage",
    "RecordingChannel",
    "SendResult",
    "SendStatus",
    "SmtpChannel",
    "WebhookChannel",
]

#: Adapters imported when first asked for (``smtplib`` and ``email``, ``httpx``).
_DEFERRED = {"SmtpChannel": ".smtp", "WebhookChannel": ".webhook"}


def __getattr__(name: str) -> Any:
    module = _DEFERRED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
