"""`WebhookChannel`: hand messages to any HTTP endpoint (an SMS gateway, the host's own service).

Every message is one ``POST`` of JSON with the outbox's key in an
``Idempotency-Key`` header.  A timeout, a connection error, a 408, 425, 429
or 5xx is retried (after ``backoff``, doubling, or the ``Retry-After`` the
server asked for) with the same key and the same body, so an endpoint that
deduplicates on the key delivers the message once even when the first
request reached it and only the answer was lost.

The endpoint's contract:

- ``2xx``: accepted. A JSON body may give ``{"id": "...", "status": "sent"}``;
  ``"status": "duplicate"`` (or HTTP ``409``) says the key was accepted before.
- ``4xx`` other than 408, 409, 425, 429: refused for good (not retried).
- With ``status_url`` (e.g. ``"https://gw.example/status/{key}"``), ``GET``
  answers ``{"status": "delivered", "at": "2026-08-28T10:00:05+08:00"}`` or 404.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, cast
from urllib.parse import quote

import httpx

from ..errors import InvalidInput
from ..logs import get_logger
from ._model import ALL_CHANNELS, DeliveryReport, DeliveryStatus, OutboundMessage, SendResult

__all__ = ["WebhookChannel"]

_log = get_logger("arrears.channels")

_RETRY_STATUS: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
_STATUSES: Final = frozenset({"queued", "sent", "delivered", "failed", "unknown"})
_MAX_WAIT: Final = 60.0


class WebhookChannel:
    """Send messages as JSON to an HTTP endpoint, with timeouts and retries that never double-send.

    Args:
        url: The endpoint messages are posted to.
        timeout: Seconds for connecting, and for each read and write.
        retries: How many times a retryable failure is tried again (0: never).
        backoff: Seconds before the first retry; doubled for each next one.
        channels: The channels it serves (all by default).
        headers: Headers for every request (an ``Authorization`` token).
        secret: When set, each body is signed: ``X-Arrears-Signature:
            sha256=<HMAC-SHA256 of the body, hex>``.
        status_url: Where delivery reports are read, with ``{key}`` in it;
            `delivery` answers ``None`` when not set.
        transport: An `httpx` transport (``httpx.MockTransport`` in tests).
        sleep: Waits between attempts (``time.sleep``); tests pass a fake.

    Example:
        >>> import httpx
        >>> ok = httpx.MockTransport(lambda request: httpx.Response(202, json={"id": "m-1"}))
        >>> hook = WebhookChannel("https://gateway.example/send", transport=ok)
        >>> message = OutboundMessage(key="k1", case_id="C-1", channel="sms", text="Hi")
        >>> hook.send(message)
        SendResult(status='sent', provider_id='m-1', detail='HTTP 202', retryable=False)
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.5,
        channels: Iterable[str] = ALL_CHANNELS,
        headers: Mapping[str, str] | None = None,
        secret: str | bytes | None = None,
        status_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout <= 0:
            raise InvalidInput("timeout", timeout, "a positive number of seconds")
        if retries < 0:
            raise InvalidInput("retries", retries, "zero or more")
        if backoff < 0:
            raise InvalidInput("backoff", backoff, "zero or more seconds")
        if status_url is not None and "{key}" not in status_url:
            raise InvalidInput("status_url", status_url, "a URL with {key} in it")
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.channels: frozenset[str] = frozenset(str(channel) for channel in channels)
        self.status_url = status_url
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"User-Agent": "arrears", **(headers or {})},
        )
        self._accepted: dict[str, str | None] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WebhookChannel({self.url!r}, timeout={self.timeout}, retries={self.retries})"

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> WebhookChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _body(self, message: OutboundMessage) -> bytes:
        payload = message.model_dump(mode="json")
        return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()

    def _headers(self, message: OutboundMessage, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.key}
        if self._secret is not None:
            digest = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            headers["X-Arrears-Signature"] = f"sha256={digest}"
        return headers

    def send(self, message: OutboundMessage) -> SendResult:
        """Post *message*; retry what may succeed later, with the same key each time."""
        if message.channel not in self.channels:
            return SendResult("failed", detail=f"this adapter does not serve {message.channel}")
        with self._lock:
            if message.key in self._accepted:
                provider_id = self._accepted[message.key]
                return SendResult("duplicate", provider_id, "already sent under this key")
            if message.key in self._pending:
                return SendResult("duplicate", None, "being sent under this key right now")
            self._pending.add(message.key)
        try:
            result, attempts = self._post(message)
            if result.ok:
                with self._lock:
                    self._accepted[message.key] = result.provider_id
        finally:
            with self._lock:
                self._pending.discard(message.key)
        _log.info(
            "message_sent" if result.ok else "message_not_sent",
            case_id=message.case_id,
            key=message.key,
            channel=message.channel,
            status=result.status,
            attempts=attempts,
            retryable=result.retryable,
        )
        return result

    def _post(self, message: OutboundMessage) -> tuple[SendResult, int]:
        body = self._body(message)
        headers = self._headers(message, body)
        result = SendResult("failed", detail="not attempted", retryable=True)
        wait = 0.0
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(wait)
            wait = self.backoff * 2**attempt
            try:
                response = self._client.post(self.url, content=body, headers=headers)
            except httpx.TimeoutException as err:
                result = SendResult(
                    "failed", detail=f"timed out ({type(err).__name__})", retryable=True
                )
            except httpx.TransportError as err:
                result = SendResult("failed", detail=f"{type(err).__name__}", retryable=True)
            else:
                result = _classify(response)
                if result.retryable:
                    wait = max(wait, _retry_after(response))
                elif result.status == "duplicate" and attempt:
                    # An earlier attempt of this send reached the endpoint; its answer was lost.
                    result = SendResult(
                        "sent",
                        result.provider_id,
                        f"accepted on an earlier attempt ({result.detail})",
                    )
            if not (result.status == "failed" and result.retryable):
                return result, attempt + 1
            if attempt < self.retries:
                _log.info(
                    "send_retry",
                    case_id=message.case_id,
                    key=message.key,
                    attempt=attempt + 1,
                    detail=result.detail,
                )
        return result, self.retries + 1

    def delivery(self, key: str) -> DeliveryReport | None:
        """The endpoint's report for *key* (``GET status_url``); ``None`` when it has none.

        Raises:
            httpx.HTTPError: the status endpoint could not be read.
        """
        if self.status_url is None:
            return None
        response = self._client.get(self.status_url.replace("{key}", quote(key, safe="")))
        if response.status_code == 404:
            return None
        response.raise_for_status()
        data = response.json()
        status = data.get("status", "unknown")
        at = data.get("at")
        return DeliveryReport(
            key,
            cast(DeliveryStatus, status if status in _STATUSES else "unknown"),
            datetime.fromisoformat(at) if isinstance(at, str) else None,
            _text(data.get("id")),
            str(data.get("detail", "")),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _classify(response: httpx.Response) -> SendResult:
    code = response.status_code
    if 200 <= code < 300:
        data: Any = None
        if response.content:
            try:
                data = response.json()
            except ValueError:
                data = None
        provider_id = _text(data.get("id")) if isinstance(data, dict) else None
        duplicate = isinstance(data, dict) and data.get("status") == "duplicate"
        return SendResult("duplicate" if duplicate else "sent", provider_id, f"HTTP {code}")
    if code == 409:
        return SendResult("duplicate", None, "HTTP 409: already accepted under this key")
    return SendResult("failed", detail=f"HTTP {code}", retryable=code in _RETRY_STATUS)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), _MAX_WAIT)
    except ValueError:
        return 0.0
