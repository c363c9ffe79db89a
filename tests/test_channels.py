"""Channels: the adapter Protocol, the recording fake, SMTP and the webhook, on real sockets."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import smtplib
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from pydantic import ValidationError

from arrears import InvalidInput, SettableClock
from arrears.channels import (
    ChannelAdapter,
    DeliveryReport,
    OutboundMessage,
    RecordingChannel,
    SendResult,
    SmtpChannel,
    WebhookChannel,
)

PHONE = "+8613900001111"
MAIL = "li.lei@example.com"


def sms(key: str = "C-1:sms:1", **changes: Any) -> OutboundMessage:
    data: dict[str, Any] = {
        "key": key,
        "case_id": "C-1",
        "channel": "sms",
        "contact": "p2",
        "address": PHONE,
        "text": "【安心消费金融】您有¥1,070.00逾期未还。回T退订",
        "template": "overdue.sms.zh-CN",
        "locale": "zh-CN",
    }
    data.update(changes)
    return OutboundMessage(**data)


def mail(key: str = "C-1:email:1", **changes: Any) -> OutboundMessage:
    data: dict[str, Any] = {
        "channel": "email",
        "address": MAIL,
        "subject": "还款提醒",
        "text": "尊敬的客户:\n您尚有剩余欠款¥1,070.00。",
    }
    data.update(changes)
    return sms(key, **data)


class TestOutboundMessage:
    def test_repr_hides_personal_data(self) -> None:
        """The address and the text are not in the repr."""
        text = repr(sms())
        assert PHONE not in text
        assert "逾期" not in text
        assert "C-1:sms:1" in text

    def test_key_travels_in_headers(self) -> None:
        """A key with spaces or non-ASCII is refused, and the error hides the input."""
        with pytest.raises(ValidationError) as refused:
            sms("key with spaces", address="+8613812345678")
        assert "13812345678" not in str(refused.value)

    def test_unknown_channel(self) -> None:
        """Channels are the case model's."""
        with pytest.raises(ValidationError):
            sms(channel="fax")

    def test_frozen(self) -> None:
        """Messages do not change once built."""
        with pytest.raises(ValidationError):
            sms().text = "other"  # type: ignore[misc]


class TestRecordingChannel:
    def test_is_an_adapter(self) -> None:
        """Every shipped adapter meets the Protocol."""
        assert isinstance(RecordingChannel(), ChannelAdapter)
        assert isinstance(SmtpChannel(sender="a@example.com"), ChannelAdapter)
        hook = WebhookChannel("http://127.0.0.1:9/")
        assert isinstance(hook, ChannelAdapter)
        hook.close()

    def test_records_and_refuses_duplicates(self) -> None:
        """A second send under one key is a duplicate and is not recorded twice."""
        fake = RecordingChannel(channels={"sms"})
        first = fake.send(sms())
        second = fake.send(sms())
        assert first == SendResult("sent", "rec-1", "recorded")
        assert (second.status, second.provider_id) == ("duplicate", "rec-1")
        assert fake.sent == [sms()]
        assert len(fake.attempts) == 2

    def test_fail_next(self) -> None:
        """Told to fail, it fails the next sends; a failure does not use up the key."""
        fake = RecordingChannel()
        fake.fail_next(2, detail="gateway timeout")
        assert fake.send(sms()) == SendResult("failed", None, "gateway timeout", True)
        assert fake.send(sms()).status == "failed"
        assert fake.send(sms()).status == "sent"
        fake.fail_next(retryable=False, detail="invalid number")
        refused = fake.send(sms("k2"))
        assert (refused.status, refused.retryable) == ("failed", False)
        assert [message.key for message in fake.sent] == ["C-1:sms:1"]

    def test_channel_not_served(self) -> None:
        """A message on a channel it does not serve fails for good."""
        result = RecordingChannel(channels={"email"}).send(sms())
        assert (result.status, result.retryable) == ("failed", False)
        with pytest.raises(InvalidInput, match="fax"):
            RecordingChannel(channels={"fax"})

    def test_delivery_reports(self) -> None:
        """Sent, then whatever the test reports; nothing for an unknown key."""
        clock = SettableClock(datetime(2026, 10, 1, 1, 0, tzinfo=UTC))
        fake = RecordingChannel(clock=clock)
        fake.send(sms())
        assert fake.delivery("C-1:sms:1") == DeliveryReport(
            "C-1:sms:1", "sent", clock.now(), "rec-1"
        )
        clock.advance(timedelta(seconds=5))
        fake.report("C-1:sms:1", "delivered")
        report = fake.delivery("C-1:sms:1")
        assert report is not None
        assert (report.status, report.at) == ("delivered", clock.now())
        assert fake.delivery("nope") is None
        assert fake.message("C-1:sms:1") == sms()
        with pytest.raises(KeyError):
            fake.report("nope", "failed")


# -- a loopback SMTP server ------------------------------------------------------------------
class _SmtpHandler(socketserver.StreamRequestHandler):
    server: _SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost ESMTP test")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode().strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                self.reply("250 OK")
            elif verb == "RCPT":
                self.reply(self.server.rcpt_reply)
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.received.append(data)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: list[bytes] = []
        self.rcpt_reply = "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[_SmtpServer]:
    server = _SmtpServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class TestSmtpChannel:
    def test_sends_over_smtp(self, smtp_server: _SmtpServer, logs: list[dict[str, Any]]) -> None:
        """The e-mail reaches the server once, with the key's Message-ID and header."""
        channel = SmtpChannel(
            "127.0.0.1",
            smtp_server.server_address[1],
            sender="service@anxin.example",
            security="none",
        )
        result = channel.send(mail())
        assert result.status == "sent"
        assert result.provider_id == channel.message_id("C-1:email:1")
        assert channel.send(mail()).status == "duplicate"
        assert len(smtp_server.received) == 1
        received = email.message_from_bytes(smtp_server.received[0], policy=email.policy.default)
        assert isinstance(received, EmailMessage)
        assert received["To"] == MAIL
        assert received["Subject"] == "还款提醒"
        assert received["Idempotency-Key"] == "C-1:email:1"
        assert received["Message-ID"] == result.provider_id
        assert received["Content-Language"] == "zh-CN"
        assert received.get_content().splitlines() == ["尊敬的客户:", "您尚有剩余欠款¥1,070.00。"]
        report = channel.delivery("C-1:email:1")
        assert report is not None
        assert report.status == "sent"
        assert channel.delivery("other") is None
        assert MAIL not in repr(logs)
        assert [entry["status"] for entry in logs] == ["sent"]

    def test_message_id_is_stable(self) -> None:
        """The same key gives the same Message-ID, so a resent copy is recognised."""
        channel = SmtpChannel(sender="service@anxin.example")
        assert channel.message_id("k") == channel.message_id("k")
        assert channel.message_id("k") != channel.message_id("k2")
        assert channel.message_id("k").endswith("@anxin.example>")

    @pytest.mark.parametrize(
        ("reply", "retryable"),
        [
            (f"550 5.1.1 <{MAIL}>: Recipient address rejected", False),
            ("451 4.3.0 try again later", True),
        ],
    )
    def test_refused_recipient(self, smtp_server: _SmtpServer, reply: str, retryable: bool) -> None:
        """A permanent refusal is not retryable, a temporary one is; the address is never quoted."""
        smtp_server.rcpt_reply = reply
        channel = SmtpChannel(
            "127.0.0.1", smtp_server.server_address[1], sender="s@example.com", security="none"
        )
        result = channel.send(mail())
        assert (result.status, result.retryable) == ("failed", retryable)
        assert MAIL not in result.detail
        assert smtp_server.received == []
        smtp_server.rcpt_reply = "250 OK"
        assert channel.send(mail()).status == "sent"  # the key was not used up

    def test_unreachable_server_is_retryable(self) -> None:
        """A refused connection may work later."""
        channel = SmtpChannel("127.0.0.1", free_port(), sender="s@example.com", security="none")
        result = channel.send(mail())
        assert (result.status, result.retryable) == ("failed", True)

    def test_wrong_channel_or_no_address(self) -> None:
        """SMTP sends e-mail, to an address."""
        channel = SmtpChannel(sender="s@example.com")
        assert channel.send(sms()).status == "failed"
        assert channel.send(mail(address=None)).detail == "no address to send to"

    def test_starttls_and_login(self) -> None:
        """By default the connection is upgraded with STARTTLS, then the user logs in."""
        calls: list[str] = []

        class FakeSmtp(smtplib.SMTP):
            def __init__(self, host: str, port: int, timeout: float) -> None:
                calls.append(f"connect {host}:{port} {timeout}")

            def starttls(self, *args: Any, **kwargs: Any) -> Any:
                calls.append("starttls")

            def login(self, user: str, password: str, **kwargs: Any) -> Any:
                calls.append(f"login {user}")

            def send_message(self, msg: Any, *args: Any, **kwargs: Any) -> Any:
                calls.append("send")
                return {}

            def __exit__(self, *args: object) -> None:
                calls.append("quit")

        channel = SmtpChannel(
            "mail.example",
            587,
            sender="s@example.com",
            username="u",
            password="p",
            timeout=3.0,
            smtp_factory=FakeSmtp,
        )
        assert channel.send(mail()).status == "sent"
        assert calls == ["connect mail.example:587 3.0", "starttls", "login u", "send", "quit"]


# -- a loopback HTTP endpoint that deduplicates on the key -------------------------------------
class _Endpoint(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EndpointHandler)
        self.plan: list[str] = []
        self.deliveries: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.slow_seconds = 0.6

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and left: nothing to report."""


class _EndpointHandler(BaseHTTPRequestHandler):
    server: _Endpoint

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def answer(self, code: int, data: dict[str, Any] | None = None) -> None:
        body = json.dumps(data).encode() if data is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if code == 503:
            self.send_header("Retry-After", "0.01")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = self.headers["Idempotency-Key"]
        server = self.server
        with server.lock:
            server.requests.append((key, dict(self.headers), body))
            action = server.plan.pop(0) if server.plan else "ok"
            if action in ("ok", "slow"):
                duplicate = key in server.deliveries
                if not duplicate:
                    server.deliveries[key] = 1
        if action == "slow":
            time.sleep(server.slow_seconds)  # accepted, but the answer comes too late
        if action in ("503", "400"):
            self.answer(int(action), {"error": action})
        elif duplicate:
            self.answer(200, {"id": f"m-{key}", "status": "duplicate"})
        else:
            self.answer(202, {"id": f"m-{key}", "status": "sent"})

    def do_GET(self) -> None:
        key = unquote(self.path.rsplit("/", 1)[1])
        if key in self.server.deliveries:
            self.answer(
                200, {"status": "delivered", "id": f"m-{key}", "at": "2026-10-01T09:00:05+08:00"}
            )
        else:
            self.answer(404)


@pytest.fixture
def endpoint() -> Iterator[_Endpoint]:
    server = _Endpoint()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def waits() -> list[float]:
    return []


def hook(endpoint: _Endpoint, waits: list[float], **kwargs: Any) -> WebhookChannel:
    options: dict[str, Any] = {"timeout": 0.2, "retries": 2, "backoff": 0.01, "sleep": waits.append}
    options.update(kwargs)
    return WebhookChannel(endpoint.url + "/send", **options)


class TestWebhookChannel:
    def test_posts_json_with_the_key(
        self, endpoint: _Endpoint, waits: list[float], logs: list[dict[str, Any]]
    ) -> None:
        """One POST: the message as JSON, the key in Idempotency-Key, the provider's id back."""
        with hook(endpoint, waits) as channel:
            result = channel.send(sms())
        assert result == SendResult("sent", "m-C-1:sms:1", "HTTP 202")
        ((key, headers, body),) = endpoint.requests
        assert key == "C-1:sms:1"
        assert headers["Content-Type"] == "application/json"
        payload = json.loads(body)
        assert payload["address"] == PHONE
        assert payload["text"] == sms().text
        assert payload["template"] == "overdue.sms.zh-CN"
        assert PHONE[3:] not in repr(logs)

    def test_timeout_then_retry_delivers_once(
        self, endpoint: _Endpoint, waits: list[float]
    ) -> None:
        """The first request times out after the endpoint took it; the retry does not send again."""
        endpoint.plan = ["slow"]
        with hook(endpoint, waits) as channel:
            result = channel.send(sms())
        assert result.status == "sent"
        assert "earlier attempt" in result.detail
        assert [key for key, _, _ in endpoint.requests] == ["C-1:sms:1", "C-1:sms:1"]
        assert endpoint.deliveries == {"C-1:sms:1": 1}
        assert waits == [0.01]

    def test_503_is_retried_after_retry_after(
        self, endpoint: _Endpoint, waits: list[float]
    ) -> None:
        """A 503 is retried with the same key and body, after Retry-After when it is longer."""
        endpoint.plan = ["503", "503"]
        with hook(endpoint, waits, backoff=0.001) as channel:
            result = channel.send(sms())
        assert result.status == "sent"
        assert len(endpoint.requests) == 3
        assert len({body for _, _, body in endpoint.requests}) == 1
        assert waits == [0.01, 0.01]
        assert endpoint.deliveries == {"C-1:sms:1": 1}

    def test_gives_up_retryable(self, endpoint: _Endpoint, waits: list[float]) -> None:
        """After the last retry the failure is reported as retryable, for the outbox."""
        endpoint.plan = ["503"] * 3
        with hook(endpoint, waits) as channel:
            result = channel.send(sms())
        assert result == SendResult("failed", None, "HTTP 503", True)
        assert len(endpoint.requests) == 3
        assert endpoint.deliveries == {}

    def test_client_error_is_final(self, endpoint: _Endpoint, waits: list[float]) -> None:
        """A 400 is not retried."""
        endpoint.plan = ["400"]
        with hook(endpoint, waits) as channel:
            result = channel.send(sms())
        assert (result.status, result.retryable) == ("failed", False)
        assert len(endpoint.requests) == 1

    def test_exactly_one_delivery_per_key(self, endpoint: _Endpoint, waits: list[float]) -> None:
        """Sends repeated, from one adapter or a new one after a restart, deliver once per key."""
        endpoint.plan = ["slow", "ok", "503"]
        with hook(endpoint, waits) as channel:
            assert channel.send(sms("a")).status == "sent"
            assert channel.send(sms("b")).status == "sent"
            assert channel.send(sms("a")).status == "duplicate"  # remembered: no request
        with hook(endpoint, waits) as restarted:
            assert restarted.send(sms("a")).status == "duplicate"  # the endpoint remembers
            assert restarted.send(sms("c")).status == "sent"
        assert endpoint.deliveries == {"a": 1, "b": 1, "c": 1}

    def test_unreachable_endpoint(self, waits: list[float]) -> None:
        """A refused connection is retried, then reported retryable."""
        with WebhookChannel(
            f"http://127.0.0.1:{free_port()}/send", retries=1, backoff=0.01, sleep=waits.append
        ) as channel:
            result = channel.send(sms())
        assert (result.status, result.retryable) == ("failed", True)
        assert result.detail == "ConnectError"
        assert waits == [0.01]

    def test_signature(self, endpoint: _Endpoint, waits: list[float]) -> None:
        """With a secret, each body carries its HMAC-SHA256."""
        with hook(
            endpoint, waits, secret="s3cret", headers={"Authorization": "Bearer t"}
        ) as channel:
            channel.send(sms())
        ((_, headers, body),) = endpoint.requests
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Arrears-Signature"] == f"sha256={expected}"
        assert headers["Authorization"] == "Bearer t"

    def test_delivery_reports(self, endpoint: _Endpoint, waits: list[float]) -> None:
        """Reports are read from status_url; 404 means nothing known; no URL, no reports."""
        with hook(endpoint, waits, status_url=endpoint.url + "/status/{key}") as channel:
            channel.send(sms())
            report = channel.delivery("C-1:sms:1")
            assert report is not None
            assert (report.status, report.provider_id) == ("delivered", "m-C-1:sms:1")
            assert report.at is not None
            assert report.at.utcoffset() is not None
            assert channel.delivery("other") is None
        with hook(endpoint, waits) as plain:
            assert plain.delivery("C-1:sms:1") is None

    def test_conflict_means_duplicate(self) -> None:
        """A 409 says the key was accepted before."""
        transport = httpx.MockTransport(lambda request: httpx.Response(409))
        with WebhookChannel("https://gw.example/send", transport=transport) as channel:
            assert channel.send(sms()).status == "duplicate"

    def test_bad_settings(self) -> None:
        """Timeouts are positive, retries not negative, status URLs carry {key}."""
        with pytest.raises(InvalidInput, match="timeout"):
            WebhookChannel("https://gw.example", timeout=0)
        with pytest.raises(InvalidInput, match="retries"):
            WebhookChannel("https://gw.example", retries=-1)
        with pytest.raises(InvalidInput, match="status_url"):
            WebhookChannel("https://gw.example", status_url="https://gw.example/status")

    def test_channel_not_served(self, waits: list[float]) -> None:
        """An adapter for SMS does not send e-mail."""
        transport = httpx.MockTransport(lambda request: httpx.Response(202))
        with WebhookChannel("https://gw.example", channels={"sms"}, transport=transport) as channel:
            result = channel.send(mail())
        assert (result.status, result.retryable) == ("failed", False)
