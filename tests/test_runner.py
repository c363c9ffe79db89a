"""`arrears run` from a configuration file, for a simulated week, against real local servers.

The run sends SMS through a webhook (an HTTP server in a thread of the test)
and e-mail through SMTP (an aiosmtpd server started by the test), on a
simulated clock (``--start``/``--until``: a tick every five hours, no wait
between ticks).  Half-way, while the gateway holds one message's answer, the
test asks for a status line (SIGUSR1) and sends SIGTERM: the run finishes
the batch under way and exits 0; a second run resumes at the tick that was
cut short.  In the end every message arrived exactly once, inside the
debtor's contact hours, every intent has one result, and the journal holds.
"""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from _cli import arrears
from arrears import Engine
from arrears.outbox import open_intents
from arrears.stores import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "src" / "arrears" / "examples" / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A Monday, 02:00 in Shanghai: outside the CN contact hours (08:00-22:00).
START = datetime(2026, 11, 2, 2, 0, tzinfo=SHANGHAI)
END = START + timedelta(days=7)
CASES = 8
TOKEN = "Bearer test-gateway-token"
SECRET = "test-webhook-secret"

#: SMS every day past due, e-mail on days 1, 4 and 7; CN packs (hours, SMS wording).
POLICY = f"""\
id: run-week
version: "1"
packs: [CN]
templates: {TEMPLATES.as_posix()}
lender:
  name: 安心消费金融
  hotline: 400-820-0000
  email: service@anxin.example
  signature: 安心消费金融
  late_fee_rate: "0.0003"
review: {{time: "09:30"}}
steps:
  - id: daily-sms
    stages: [notified]
    when: {{dpd_at_least: 1}}
    send: {{channel: sms, template: overdue, deadline_days: 7}}
  - id: email-reminder
    stages: [notified]
    when: {{dpd_in: [1, 4, 7]}}
    send: {{channel: email, template: reminder, deadline_days: 7}}
escalations:
  - {{trigger: notify, from: [pre_due], when: {{dpd_at_least: 1}}}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Gateway:
    """An SMS gateway's webhook: deduplicates on the key, answers delivery reports.

    The answer to the ``hold_at``-th post waits until `release` (the message
    is taken first, as a real gateway takes it before answering).
    """

    hold_at: int | None = None
    posts: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def answer(self, status: int, body: dict[str, Any] | None = None) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                if (
                    self.headers["Authorization"] != TOKEN
                    or self.headers["X-Arrears-Signature"] != f"sha256={signature}"
                ):
                    gateway.refused.append(key)
                    self.answer(401)
                    return
                with gateway.lock:
                    seen = any(post["key"] == key for post in gateway.posts)
                    gateway.posts.append({"key": key, **json.loads(body)})
                    number = len(gateway.posts)
                if number == gateway.hold_at:
                    gateway.held.set()
                    gateway.released.wait(30)
                self.answer(200 if seen else 202, {"id": f"gw-{key}", "status": "sent"})

            def do_GET(self) -> None:
                key = self.path.rsplit("/", 1)[-1]
                with gateway.lock:
                    known = any(post["key"] == key for post in gateway.posts)
                if known:
                    self.answer(200, {"status": "delivered", "id": f"gw-{key}"})
                else:
                    self.answer(404)

        return Handler


@dataclass
class Mailbox:
    """What the SMTP server received."""

    mails: list[email.message.Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.mails.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, int]]:
    found = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), found.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found, server.server_address[1]
    finally:
        found.released.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    found = Mailbox()
    port = free_port()
    controller = Controller(found, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield found, port
    finally:
        controller.stop()


def open_cases(db: Path) -> None:
    """The portfolio: CASES loans due the day before the run starts (no adapters needed)."""
    with SQLiteStore(db) as store:
        engine = Engine(store=store)  # an engine that only records: no policy, no adapters
        for number in range(CASES):
            engine.open_case(
                {
                    "id": f"L-{number}",
                    "debtor": {
                        "id": f"D-{number}",
                        "timezone": "Asia/Shanghai",
                        "locale": "zh-CN",
                    },
                    "contacts": [
                        {"id": "m", "channel": "sms", "address": f"+86139000011{number:02d}"},
                        {"id": "e", "channel": "email", "address": f"debtor{number}@mail.example"},
                    ],
                    "balance": {"currency": "CNY", "principal": "3000.00"},
                    "due_date": "2026-11-01",
                },
                at=START - timedelta(days=1),
            )


def write_config(folder: Path, webhook: int, smtp: int) -> Path:
    (folder / "policy.yaml").write_text(POLICY, encoding="utf-8")
    config = folder / "arrears.toml"
    config.write_text(
        f"""\
policy = "policy.yaml"

[store]
url = "arrears.db"

[run]
every = "5h"
owner = "test-worker"
batch = 3
status_file = "status.json"

[logging]
level = "info"
format = "json"

[adapters.gateway]
type = "webhook"
channels = ["sms"]
url = "http://127.0.0.1:{webhook}/send"
status_url = "http://127.0.0.1:{webhook}/status/{{key}}"
timeout = 20
retries = 0
headers_env = {{ Authorization = "TEST_GATEWAY_TOKEN" }}
secret_env = "TEST_WEBHOOK_SECRET"

[adapters.mail]
type = "smtp"
host = "127.0.0.1"
port = {smtp}
from = "collections@anxin.example"
security = "none"
""",
        encoding="utf-8",
    )
    return config


def start_run(config: Path, start: datetime) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "TEST_GATEWAY_TOKEN": TOKEN,
        "TEST_WEBHOOK_SECRET": SECRET,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arrears",
            "run",
            "--config",
            str(config),
            "--start",
            start.isoformat(),
            "--until",
            END.isoformat(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=config.parent.parent,  # not the configuration's folder: its paths are its own
    )


def test_a_week_of_arrears_run_with_a_sigterm_half_way(
    tmp_path: Path, gateway: tuple[Gateway, int], mailbox: tuple[Mailbox, int]
) -> None:
    hook, webhook_port = gateway
    mail, smtp_port = mailbox
    folder = tmp_path / "deploy"
    folder.mkdir()
    db = folder / "arrears.db"
    open_cases(db)
    config = write_config(folder, webhook_port, smtp_port)
    hook.hold_at = 20  # on the third day

    first = start_run(config, START)
    try:
        while not hook.held.wait(0.2):
            assert first.poll() is None, first.communicate()[1]
        first.send_signal(signal.SIGUSR1)
        first.send_signal(signal.SIGTERM)  # the batch is under way: its message is held
        threading.Timer(0.5, hook.released.set).start()
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert "state=ticking" in out  # the status line SIGUSR1 asked for
    assert '"event": "run_stopping"' in err
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    assert status["state"] == "stopped"
    resume = datetime.fromisoformat(status["next_tick"])
    assert START < resume < END
    assert status["last_tick"] == status["next_tick"]  # cut short: that tick runs again
    posted_before = len(hook.posts)
    assert 20 <= posted_before < 20 + 3  # the rest of the held message's batch, no more
    with SQLiteStore(db) as store:  # the batch finished: every message sent is journaled
        chains = dict(store.chains())
    assert open_intents(chains.items()) == []
    journaled = {
        entry.data["key"]
        for chain in chains.values()
        for entry in chain
        if entry.kind == "interaction" and entry.data.get("channel") == "sms"
    }
    assert journaled == {post["key"] for post in hook.posts}

    second = start_run(config, resume)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    assert status["state"] == "stopped"
    assert (
        datetime.fromisoformat(status["last_tick"])
        <= END
        < datetime.fromisoformat(status["next_tick"])
    )

    # Every message arrived exactly once: one post per key, one mail per Message-ID.
    assert hook.refused == []
    sms_keys = Counter(post["key"] for post in hook.posts)
    assert len(hook.posts) > posted_before
    assert max(sms_keys.values()) == 1
    mail_keys = Counter(str(message["Idempotency-Key"]) for message in mail.mails)
    assert mail_keys
    assert max(mail_keys.values()) == 1
    assert len({str(message["Message-ID"]) for message in mail.mails}) == len(mail.mails)
    # A week: an SMS a day per case for days 1 to 8 past due, e-mail on days 1, 4 and 7.
    assert len(sms_keys) == CASES * 7
    assert len(mail_keys) == CASES * 3
    assert {post["channel"] for post in hook.posts} == {"sms"}
    assert all(post["text"].startswith("【安心消费金融】") for post in hook.posts)

    # Inside the contact hours (CN-HOURS: 08:00-22:00 in the debtor's zone).
    for message in mail.mails:
        sent = parsedate_to_datetime(str(message["Date"])).astimezone(SHANGHAI)
        assert 8 <= sent.hour < 22, sent
    with SQLiteStore(db) as store:
        chains = dict(store.chains())
    results: Counter[str] = Counter()
    intents: dict[str, str] = {}
    for chain in chains.values():
        for entry in chain:
            if entry.kind == "outbox_intent":
                intents[entry.data["key"]] = entry.data["channel"]
                local = entry.at.astimezone(SHANGHAI)
                assert 8 <= local.hour < 22, local
            elif entry.kind == "interaction" and "key" in entry.data:
                assert entry.data["outcome"] == "delivered"
                results[entry.data["key"]] += 1
    # Every intent ended with exactly one result, and those are the messages received.
    assert set(results) == set(intents)
    assert set(results.values()) == {1}
    assert {k for k, channel in intents.items() if channel == "sms"} == set(sms_keys)
    assert {k for k, channel in intents.items() if channel == "email"} == set(mail_keys)
    assert open_intents(chains.items()) == []
    verified = arrears("journal", "verify", "--db", db)
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.startswith(f"OK: {CASES} cases")


def test_a_second_sigterm_abandons_the_batch_and_loses_nothing(
    tmp_path: Path, gateway: tuple[Gateway, int], mailbox: tuple[Mailbox, int]
) -> None:
    """Killed mid-batch (exit 4): the held SMS's intent stays open; the next run sends it
    again under its key, which the gateway recognises, and journals one result for it."""
    hook, webhook_port = gateway
    mail, smtp_port = mailbox
    folder = tmp_path / "deploy"
    folder.mkdir()
    db = folder / "arrears.db"
    open_cases(db)
    config = write_config(folder, webhook_port, smtp_port)
    hook.hold_at = 20  # day 3: no e-mail that day, so none went out unjournaled
    first = start_run(config, START)
    try:
        while not hook.held.wait(0.2):
            assert first.poll() is None, first.communicate()[1]
        first.send_signal(signal.SIGTERM)
        threading.Timer(0.3, first.send_signal, (signal.SIGTERM,)).start()
        _, err = first.communicate(timeout=120)
    finally:
        hook.released.set()
        if first.poll() is None:
            first.kill()
    assert first.returncode == 4, err
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    assert status["state"] == "abandoned"
    held = hook.posts[19]["key"]
    with SQLiteStore(db) as store:
        assert held in {intent.key for intent in open_intents(store.chains())}

    second = start_run(config, datetime.fromisoformat(status["next_tick"]))
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    posts = Counter(post["key"] for post in hook.posts)
    assert posts[held] == 2  # again under its key: the gateway answered "duplicate"
    assert {key for key, count in posts.items() if count > 1} == {held}
    assert len(posts) == CASES * 7
    assert max(Counter(str(m["Idempotency-Key"]) for m in mail.mails).values()) == 1
    with SQLiteStore(db) as store:
        chains = dict(store.chains())
    assert open_intents(chains.items()) == []
    results = Counter(
        entry.data["key"]
        for chain in chains.values()
        for entry in chain
        if entry.kind == "interaction" and "key" in entry.data
    )
    assert results[held] == 1
    assert set(results.values()) == {1}
    assert arrears("journal", "verify", "--db", db).returncode == 0


class TestRunnerInProcess:
    """The loop itself: a store out of reach, a stop in real time, a simulated clock."""

    @staticmethod
    def engine(tmp_path: Path, store: Any = None, clock: Any = None) -> Engine:
        from arrears.channels import RecordingChannel
        from arrears.policy import load_policy

        path = tmp_path / "policy.yaml"
        path.write_text(POLICY, encoding="utf-8")
        return Engine(
            policy=load_policy(path),
            store=store,
            clock=clock,
            channels=[RecordingChannel(channels={"sms", "email"})],
        )

    def test_a_store_out_of_reach_gives_up_after_max_failures(self, tmp_path: Path) -> None:
        from arrears import SettableClock
        from arrears.runner import FAILING, Runner
        from arrears.store import MemoryStore

        class Down(MemoryStore):
            def due(self, now: datetime, limit: int | None = None) -> list[str]:
                raise ConnectionError("the database is restarting")

        runner = Runner(
            self.engine(tmp_path, Down(), SettableClock(START)),
            every=timedelta(hours=1),
            owner="w",
            start=START,
            until=END,
            max_failures=3,
            status_file=tmp_path / "status.json",
        )
        assert runner.run() == FAILING
        status = json.loads((tmp_path / "status.json").read_text(encoding="utf-8"))
        assert (status["state"], status["failures"], status["ticks"]) == ("failed", 3, 0)
        assert status["last_error"] == "ConnectionError"
        assert status["last_tick"] == (START + timedelta(hours=2)).isoformat()

    def test_a_real_time_run_ticks_at_once_then_waits_until_stopped(self, tmp_path: Path) -> None:
        from arrears.runner import STOPPED, Runner

        runner = Runner(self.engine(tmp_path), every=timedelta(hours=1), owner="w")
        threading.Timer(0.5, runner.stop).start()
        assert runner.run() == STOPPED
        assert runner.status.ticks == 1
        assert runner.status.state == "stopped"
        assert runner.status.next_tick is not None
        assert runner.status.last_tick is not None
        # The cadence keeps to its slots: an hour after the first slot, not after the tick.
        waited = runner.status.next_tick - runner.status.last_tick
        assert timedelta(minutes=59) < waited <= timedelta(hours=1)

    def test_simulated_time_needs_a_settable_clock(self, tmp_path: Path) -> None:
        from arrears.errors import InvalidInput
        from arrears.runner import Runner

        with pytest.raises(InvalidInput, match="start"):
            Runner(self.engine(tmp_path), every=timedelta(hours=1), owner="w", start=START)
        with pytest.raises(InvalidInput, match="every"):
            Runner(self.engine(tmp_path), every=timedelta(0), owner="w")


def test_arrears_tick_with_a_configuration_sends_through_its_adapters(
    tmp_path: Path, gateway: tuple[Gateway, int], mailbox: tuple[Mailbox, int]
) -> None:
    hook, webhook_port = gateway
    mail, smtp_port = mailbox
    folder = tmp_path / "deploy"
    folder.mkdir()
    open_cases(folder / "arrears.db")
    config = write_config(folder, webhook_port, smtp_port)
    noon = START + timedelta(hours=10)  # 12:00 in Shanghai, day 1 past due
    env = {**os.environ, "TEST_GATEWAY_TOKEN": TOKEN, "TEST_WEBHOOK_SECRET": SECRET}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "arrears",
            "tick",
            "--config",
            str(config),
            "--now",
            noon.isoformat(),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"tick at {noon.isoformat()}: {CASES} reviewed, {CASES * 2} sent, 0 denied"
    )
    assert len(hook.posts) == CASES
    assert len(mail.mails) == CASES
    assert {str(m["To"]) for m in mail.mails} == {f"debtor{n}@mail.example" for n in range(CASES)}
