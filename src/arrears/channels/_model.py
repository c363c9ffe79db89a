"""What goes to a channel adapter and what comes back, and the Protocol an adapter implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ..case import Channel

__all__ = [
    "ALL_CHANNELS",
    "ChannelAdapter",
    "DeliveryReport",
    "DeliveryStatus",
    "OutboundMessage",
    "SendResult",
    "SendStatus",
]

ALL_CHANNELS: Final = frozenset(str(channel) for channel in Channel)
"""Every channel name: ``sms``, ``call``, ``voicemail``, ``email``, ``letter``, ``visit``."""

SendStatus = Literal["sent", "failed", "duplicate"]
"""What became of a send: accepted, refused or failed, or already sent under that key."""

DeliveryStatus = Literal["queued", "sent", "delivered", "failed", "unknown"]
"""Where a sent message stands: queued by the provider, sent on, delivered, failed, unknown."""


class OutboundMessage(BaseModel):
    """One message to send, with the outbox's idempotency key.

    The same key is sent with every retry of the same message, so a provider
    that deduplicates on it never delivers a message twice.

    Attributes:
        key: The idempotency key (printable ASCII, no spaces: it travels in headers).
        case_id: The case the message is about.
        channel: ``sms``, ``call``, ``voicemail``, ``email``, ``letter`` or ``visit``.
        contact: The contact point's id, when one is used.
        address: The number or address (personal data: never in ``repr`` or logs).
        text: The message (kept out of ``repr``: it may name the debtor).
        subject: The subject of an e-mail or letter.
        template: The id of the template it was rendered from.
        locale: The locale it is written in.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, use_enum_values=True
    )

    key: str = Field(pattern=r"^[\x21-\x7e]{1,255}$")
    case_id: str = Field(min_length=1, max_length=128)
    channel: Channel
    contact: str | None = None
    address: str | None = Field(default=None, repr=False)
    text: str = Field(repr=False)
    subject: str | None = Field(default=None, repr=False)
    template: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """The answer of an adapter to one send.

    Attributes:
        status: ``"sent"`` (accepted), ``"failed"`` or ``"duplicate"`` (a
            message with that key was already accepted: nothing was sent again).
        provider_id: The provider's id for the message, when it gave one.
        detail: What happened, in words (no personal data).
        retryable: For a failure: sending again later may succeed (a timeout,
            a 503); ``False`` when it never will (a bad address, a 400).
    """

    status: SendStatus
    provider_id: str | None = None
    detail: str = ""
    retryable: bool = False

    @property
    def ok(self) -> bool:
        """True when the message is with the provider: sent now or before (duplicate)."""
        return self.status != "failed"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What the provider knows of a sent message.

    Attributes:
        key: The message's idempotency key.
        status: ``queued``, ``sent``, ``delivered``, ``failed`` or ``unknown``.
        at: When the provider last changed the status, if it says.
        provider_id: The provider's id for the message.
        detail: The provider's words (an error code), no personal data.
    """

    key: str
    status: DeliveryStatus
    at: datetime | None = None
    provider_id: str | None = None
    detail: str = ""


@runtime_checkable
class ChannelAdapter(Protocol):
    """A way to send messages, implemented by the host (an SMS gateway, a dialer, a mail server).

    `send` hands one message over and says what became of it; it must not
    send twice under one key (return ``"duplicate"``).  `delivery` reports
    later what the provider knows, or ``None`` when it knows nothing of the key.
    """

    channels: frozenset[str]
    """The channels this adapter serves."""

    def send(self, message: OutboundMessage) -> SendResult:
        """Send *message*; never twice under one key."""
        ...

    def delivery(self, key: str) -> DeliveryReport | None:
        """What is known of the message sent under *key*."""
        ...
