"""An outbox intent left open by a tick that died is closed at the case's next review, any day.

The tick journals an ``outbox_intent`` before it hands a message to its
adapter and the result after.  A tick killed in between, and run again the
next day, after a payment, after a stage change or after the case was closed,
must still journal every message that went out exactly once, never claim a
delivery that did not happen, leave no intent open, and let the frequency
caps count what may have reached the debtor.

Two kinds of test:

- in the test's process, on memory, SQLite and (with ``ARREARS_TEST_POSTGRES``)
  PostgreSQL stores: the "kill" is an exception the gateway raises that no
  part of the tick catches, and the next run is a new engine on a reopened
  store (`Killed`);
- with real processes (`_crash_worker.py`), killed with SIGKILL at 24 crash
  points of a 20-day run, then resumed the next day, after a payment, after a
  promise (a stage change) or after the case was closed, on a journal file or
  an SQLite database, with and without delivery reports.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from _crash_worker import POINTS, PROVIDER, Run
from _postgres import Database
from arrears import Actor, Engine, SettableClock
from arrears.case import Channel, HoldKind, Outcome
from arrears.channels import DeliveryReport, OutboundMessage, SendResult
from arrears.cli import main
from arrears.compliance import Compliance, ContactHistory, Proposal
from arrears.compliance.rules import FrequencyCap
from arrears.journal import JournalEntry, seal
from arrears.outbox import open_intents, pending
from arrears.policy import load_policy
from arrears.stores import SQLiteStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The first tick: 09:30 in Shanghai, one day after the cases' due date.
DAY1 = datetime(2026, 11, 2, 9, 30, tzinfo=SHANGHAI)
DAY = timedelta(days=1)
SUPERVISOR = Actor("sup-1", frozenset({"supervisor"}))

#: A reminder every day past due while the case is notified, escalation on day 5.
POLICY = """\
id: outbox-recovery
version: "1"
review: {time: "09:30"}
steps:
  - id: daily-sms
    stages: [notified]
    when: {dpd_at_least: 1}
    send: {channel: sms, template: overdue}
escalations:
  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}
  - {trigger: escalate, from: [notified], when: {dpd_at_least: 5}}
"""


class Killed(BaseException):
    """The process died here: nothing in the tick catches it (it is not an `Exception`)."""


class Gateway:
    """An SMS provider that delivers each key once and remembers it, and can die mid-send.

    Args:
        reports: ``delivery`` answers ``delivered`` for a key it delivered
            (``None`` for the rest); without, it answers ``None`` always.

    Attributes:
        delivered: Each key delivered, with when.
        die: ``"after"``: deliver the next message, then die before the send
            returns; ``"before"``: die before delivering it.
        broken: ``delivery`` raises (the status endpoint is down).
    """

    channels = frozenset({"sms"})

    def __init__(self, clock: SettableClock, *, reports: bool = True) -> None:
        self.clock = clock
        self.reports = reports
        self.delivered: dict[str, datetime] = {}
        self.attempts: Counter[str] = Counter()
        self.die: str | None = None
        self.broken = False

    def send(self, message: OutboundMessage) -> SendResult:
        self.attempts[message.key] += 1
        if self.die == "before":
            raise Killed
        if message.key in self.delivered:
            return SendResult("duplicate", f"gw-{message.key[:8]}", "already delivered")
        self.delivered[message.key] = self.clock.now()
        if self.die == "after":
            raise Killed
        return SendResult("sent", f"gw-{message.key[:8]}", "delivered")

    def delivery(self, key: str) -> DeliveryReport | None:
        if self.broken:
            raise OSError("status endpoint unreachable")
        if not self.reports or key not in self.delivered:
            return None
        return DeliveryReport(key, "delivered", self.delivered[key], f"gw-{key[:8]}")


def loans(count: int) -> list[dict[str, Any]]:
    due = (DAY1 - DAY).date().isoformat()
    return [
        {
            "id": f"L-{number}",
            "debtor": {"id": f"D-{number}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "contacts": [{"id": "sms", "channel": "sms", "address": f"+86139{number:08d}"}],
            "balance": {"currency": "CNY", "principal": f"{1000 + number}.00"},
            "due_date": due,
            "stage": "notified",
        }
        for number in range(1, count + 1)
    ]


class World:
    """A store that outlives the engines on it (a new engine is a new process), and its gateway."""

    def __init__(self, reopen: Callable[[], Any], policy_path: Path, *, reports: bool) -> None:
        self.reopen = reopen
        self.policy = load_policy(policy_path)
        self.clock = SettableClock(DAY1 - timedelta(hours=1))
        self.gateway = Gateway(self.clock, reports=reports)
        self.store = reopen()
        self.engine = self.new_engine()

    def new_engine(self, compliance: Compliance | None = None) -> Engine:
        return Engine(
            policy=self.policy,
            store=self.store,
            channels=[self.gateway],
            clock=self.clock,
            compliance=compliance,
            compliance_mode="add" if compliance is not None else None,
        )

    def restart(self, compliance: Compliance | None = None) -> Engine:
        """A new process: the store opened again, a new engine."""
        close = getattr(self.store, "close", None)
        if close is not None and self.store is not self.reopen():
            close()
            self.store = self.reopen()
        self.engine = self.new_engine(compliance)
        return self.engine

    def tick(self, at: datetime) -> Any:
        self.clock.set(at)
        return self.engine.tick(at)

    def killed_tick(self, at: datetime, how: str = "after") -> None:
        """A tick that dies at its first send (*how*: after or before the delivery)."""
        self.gateway.die = how
        self.clock.set(at)
        with pytest.raises(Killed):
            self.engine.tick(at)
        self.gateway.die = None

    def chain(self, case_id: str) -> list[JournalEntry]:
        return list(self.engine.history(case_id))

    def results(self, case_id: str) -> list[dict[str, Any]]:
        return [entry.data for entry in self.chain(case_id) if entry.kind == "interaction"]

    def open(self) -> list[Any]:
        return open_intents(self.store.chains())


@pytest.fixture
def reopen(any_database: Database) -> Callable[[], Any]:
    """How to open the test's store (again): the same memory store, or the same database."""
    return any_database.open


@pytest.fixture
def policy_path(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture
def world(reopen: Callable[[], Any], policy_path: Path) -> World:
    made = World(reopen, policy_path, reports=True)
    made.engine.open_cases(loans(3), at=DAY1 - timedelta(hours=1))
    return made


def _keys(world: World, case_id: str) -> list[str]:
    return [e.data["key"] for e in world.chain(case_id) if e.kind == "outbox_intent"]


def test_killed_after_a_delivery_and_resumed_the_next_day(world: World) -> None:
    world.killed_tick(DAY1)
    assert sorted(intent.case_id for intent in world.open()) == ["L-1", "L-2", "L-3"]
    delivered = set(world.gateway.delivered)
    assert len(delivered) == 1  # the first message went out; the tick died before recording it

    world.restart()
    report = world.tick(DAY1 + DAY)
    assert world.open() == []
    assert (report.recovered, report.unknown, report.errors) == (3, 0, [])
    for case_id in ("L-1", "L-2", "L-3"):
        (key,) = _keys(world, case_id)  # the daily step did not act again on the second day
        (result,) = world.results(case_id)
        assert result["key"] == key
        assert result["outcome"] == "delivered"
        assert result["step"] == "daily-sms"
        if key in delivered:  # the provider's report closes it: not sent again
            assert result["recovered"] == "report"
            assert result["reported_at"] == DAY1.astimezone(SHANGHAI).isoformat()
        else:  # the provider never had it: warranted the next day, sent under its key
            assert result["recovered"] == "resent"
            assert world.gateway.delivered[key] == DAY1 + DAY
    assert all(count == 1 for count in world.gateway.attempts.values() if count)
    assert len(world.gateway.delivered) == 3
    assert world.engine.verify() == []
    # The day after, the step acts as usual under a new key.
    world.tick(DAY1 + 2 * DAY)
    assert [len(_keys(world, case_id)) for case_id in ("L-1", "L-2", "L-3")] == [2, 2, 2]
    assert len(world.gateway.delivered) == 6
    assert world.open() == []


def test_without_reports_a_delivered_message_is_sent_again_and_the_provider_drops_it(
    reopen: Callable[[], Any], policy_path: Path
) -> None:
    world = World(reopen, policy_path, reports=False)
    world.engine.open_cases(loans(2), at=DAY1 - timedelta(hours=1))
    world.killed_tick(DAY1)
    (first,) = world.gateway.delivered
    world.restart()
    world.tick(DAY1 + DAY)
    assert world.open() == []
    outcomes = {
        r["key"]: (r["outcome"], r["recovered"]) for c in ("L-1", "L-2") for r in world.results(c)
    }
    assert outcomes[first] == ("delivered", "resent")  # "duplicate": it had gone out
    assert set(outcomes.values()) == {("delivered", "resent")}
    assert world.gateway.attempts[first] == 2  # asked twice, delivered once
    assert len(world.gateway.delivered) == 2


@pytest.mark.parametrize("change", ["payment", "promise", "escalation", "hold", "closed"])
@pytest.mark.parametrize("reports", [True, False])
def test_a_message_no_longer_warranted_is_closed_as_unknown(
    reopen: Callable[[], Any], policy_path: Path, change: str, reports: bool
) -> None:
    world = World(reopen, policy_path, reports=reports)
    world.engine.open_cases(loans(2), at=DAY1 - timedelta(hours=1))
    world.killed_tick(DAY1)
    (delivered,) = world.gateway.delivered
    old = {case_id: _keys(world, case_id)[0] for case_id in ("L-1", "L-2")}
    world.restart()
    later = DAY1 + timedelta(hours=2)
    world.clock.set(later)
    for case_id in ("L-1", "L-2"):
        case = world.engine.case(case_id)
        if change == "payment":
            world.engine.record_payment(case_id, case.balance.outstanding, at=later)
        elif change == "promise":
            due = case.local_date(later) + timedelta(days=7)
            world.engine.record_promise(case_id, case.balance.arrears, due, at=later)
        elif change == "escalation":
            world.engine.fire(case_id, "escalate", at=later, reason="moved by hand")
        elif change == "hold":
            world.engine.add_hold(case_id, HoldKind.DISPUTE, "disputed by phone", at=later)
        else:
            world.engine.fire(case_id, "close", actor=SUPERVISOR, at=later, reason="recalled")
    stages = {case_id: world.engine.case(case_id).stage for case_id in ("L-1", "L-2")}
    assert "notified" not in stages.values() or change == "hold"
    report = world.tick(DAY1 + DAY)
    assert report.errors == []
    assert world.open() == []
    for case_id, key in old.items():
        (result,) = [found for found in world.results(case_id) if found["key"] == key]
        if key == delivered and reports:
            assert (result["outcome"], result["recovered"]) == ("delivered", "report")
        else:  # nobody can say: never sent again, never claimed delivered
            assert (result["outcome"], result["recovered"]) == ("unknown", "unanswered")
        assert world.gateway.attempts[key] == (1 if key == delivered else 0)  # not sent again
    assert world.engine.verify() == []
    if change == "closed":
        assert all(world.store.next_review(case_id) is None for case_id in ("L-1", "L-2"))


def test_an_intent_two_days_old_is_not_sent_again(world: World) -> None:
    world.killed_tick(DAY1, how="before")
    assert world.gateway.delivered == {}
    world.restart()
    world.tick(DAY1 + 2 * DAY)
    assert world.open() == []
    for case_id in ("L-1", "L-2", "L-3"):
        old, new = world.results(case_id)
        assert (old["outcome"], old["recovered"]) == ("unknown", "unanswered")
        assert (new["outcome"], new.get("recovered")) == ("delivered", None)  # today's step
    assert len(world.gateway.delivered) == 3  # today's three, none of the old


def test_a_terminal_case_stays_scheduled_until_its_intent_can_be_asked(world: World) -> None:
    world.killed_tick(DAY1)
    later = DAY1 + timedelta(hours=2)
    world.clock.set(later)
    world.engine.fire("L-2", "close", actor=SUPERVISOR, at=later, reason="recalled")
    world.restart()
    world.gateway.broken = True  # the status endpoint is down: nobody can ask
    report = world.tick(DAY1 + DAY)
    assert report.errors == []
    # Nothing is closed on a guess: every intent stays open, every case is asked again soon.
    assert [intent.case_id for intent in world.open()] == ["L-1", "L-2", "L-3"]
    retry = DAY1 + DAY + timedelta(hours=1)
    assert [world.store.next_review(f"L-{n}") for n in (1, 2, 3)] == [retry] * 3
    assert world.gateway.attempts.total() == 1
    world.gateway.broken = False
    world.restart()
    world.tick(DAY1 + DAY + timedelta(hours=1))
    assert world.open() == []
    assert world.store.next_review("L-2") is None
    (result,) = world.results("L-2")
    expected = "delivered" if result["key"] in world.gateway.delivered else "unknown"
    assert result["outcome"] == expected


def test_a_live_case_whose_adapter_cannot_be_asked_keeps_its_intent_open_in_the_review(
    world: World,
) -> None:
    world.killed_tick(DAY1)
    world.restart()
    world.gateway.broken = True
    world.tick(DAY1 + DAY)
    assert len(world.open()) == 3
    for case_id in ("L-1", "L-2", "L-3"):
        last = world.chain(case_id)[-1]
        if last.kind == "review":  # the review says which keys it left open
            assert last.data["open"] == _keys(world, case_id)
        assert [intent.key for intent in pending(world.chain(case_id))] == _keys(world, case_id)
    world.gateway.broken = False
    world.tick(DAY1 + DAY + timedelta(hours=1))
    assert world.open() == []


def test_the_caps_count_a_message_that_may_have_reached_the_debtor(
    reopen: Callable[[], Any], policy_path: Path
) -> None:
    cap = FrequencyCap(
        id="TEST-SMS-DAY",
        citation="test",
        title="one delivered SMS a day",
        channels=frozenset({Channel.SMS}),
        counted_channels=frozenset({Channel.SMS}),
        counted_outcomes=frozenset({Outcome.DELIVERED}),
        limit=1,
        days=1,
        per="case",
        noun="messages",
    )
    world = World(reopen, policy_path, reports=False)
    world.engine.open_cases(loans(1), at=DAY1 - timedelta(hours=1))
    world.killed_tick(DAY1, how="after")
    later = DAY1 + timedelta(hours=2)
    world.clock.set(later)
    world.engine.add_hold("L-1", HoldKind.HARDSHIP, "hardship review", at=later)
    world.engine.release_hold("L-1", world.engine.case("L-1").holds[0].id, at=later)
    engine = world.restart(Compliance(rules=[cap]))
    world.tick(DAY1 + DAY)
    (result,) = world.results("L-1")
    assert result["outcome"] == "unknown"  # a hold since: not sent again, and no one can say
    proposal = Proposal(channel="sms", contact="sms", automated=True, purpose="collection")
    verdict = engine.judge_contact("L-1", proposal, at=DAY1 + DAY, record=False)
    assert not verdict.allowed
    assert verdict.rules == ("TEST-SMS-DAY",)
    assert engine.judge_contact("L-1", proposal, at=DAY1 + 2 * DAY, record=False).allowed


# -- the quick read agrees with the whole one ------------------------------------------------


def _entry(seq: int, kind: str, data: dict[str, Any]) -> JournalEntry:
    at = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=seq)
    return seal("C-1", seq, at, kind, data, "")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["intent", "result", "review", "other"]), st.integers(0, 6)),
        max_size=40,
    )
)
def test_pending_reads_from_the_end_what_a_whole_read_finds(
    steps: list[tuple[str, int]],
) -> None:
    """Each review lists the keys open when it was written; `pending` agrees with the chain."""
    entries = [_entry(0, "opened", {})]
    opened: set[str] = set()
    done: set[str] = set()
    for what, number in steps:
        key = f"k{number}"
        seq = len(entries)
        if what == "intent" and key not in opened:
            opened.add(key)
            entries.append(_entry(seq, "outbox_intent", {"key": key, "channel": "sms"}))
        elif what == "result" and key in opened - done:
            done.add(key)
            entries.append(_entry(seq, "interaction", {"key": key, "outcome": "delivered"}))
        elif what == "review":
            entries.append(_entry(seq, "review", {"open": sorted(opened - done)}))
        else:
            entries.append(_entry(seq, "payment", {}))
    whole = [(intent.key, intent.seq) for intent in open_intents([("C-1", entries)])]
    quick = [(intent.key, intent.seq) for intent in pending(entries)]
    assert quick == whole
    assert {key for key, _ in whole} == opened - done


# -- arrears outbox check -------------------------------------------------------------------


def test_outbox_check_lists_open_intents_and_fails_on_late_ones(
    tmp_path: Path, policy_path: Path
) -> None:
    db = tmp_path / "arrears.db"
    world = World(lambda: SQLiteStore(db), policy_path, reports=True)
    world.engine.open_cases(loans(2), at=DAY1 - timedelta(hours=1))
    world.killed_tick(DAY1)
    world.store.close()
    runner = CliRunner()
    args = ["outbox", "check", "--db", str(db)]

    early = runner.invoke(main, [*args, "--now", (DAY1 + timedelta(hours=2)).isoformat()])
    assert early.exit_code == 0, early.output
    lines = early.stdout.splitlines()
    assert len(lines) == 2
    case_id, key, channel, age = lines[0].split("\t")
    assert (case_id, channel, age) == ("L-1", "sms", "2h00m")
    assert len(key) == 32

    late = runner.invoke(main, [*args, "--now", (DAY1 + 2 * DAY).isoformat()])
    assert late.exit_code == 1
    assert late.stdout.count("LATE") == 2
    assert "2 open, 2 older than 25h" in late.stderr

    tight = runner.invoke(
        main,
        [*args, "--older-than", "90m", "--json", "--now", (DAY1 + timedelta(hours=2)).isoformat()],
    )
    assert tight.exit_code == 1
    rows = json.loads(tight.stdout)
    assert [(row["case_id"], row["age_seconds"], row["late"]) for row in rows] == [
        ("L-1", 7200, True),
        ("L-2", 7200, True),
    ]
    assert "+86139" not in tight.output  # no address, no text

    bad = runner.invoke(main, [*args, "--older-than", "soon"])
    assert bad.exit_code == 2

    world.store = SQLiteStore(db)
    world.restart()
    world.tick(DAY1 + DAY)
    world.store.close()
    after = runner.invoke(main, [*args, "--now", (DAY1 + 3 * DAY).isoformat()])
    assert after.exit_code == 0
    assert after.stdout == ""
    assert "0 open, 0 older than 25h" in after.stderr


# -- killed processes, resumed on another day -----------------------------------------------

WORKER = Path(__file__).with_name("_crash_worker.py")
TIMEOUT = 120


class Kill(NamedTuple):
    """Kill at the crash point *fraction* of the way through those of *kind*, then resume."""

    kind: str
    fraction: float
    resume: str
    store: str = "file"
    reports: bool = True
    opens: bool | None = True
    """Intents are left open (``None``: it depends): not on SQLite before the intents'
    transaction commits (the batch's plan is lost whole); a torn intent leaves open the
    batch's intents before it, if any."""


#: 24 kills: after an intent is journaled, after the provider delivered (the send not
#: yet returned), with a result half written or written (others of the batch not), each
#: resumed the next day, after a payment, after a promise or after the case was closed.
KILLS: dict[str, Kill] = {
    "intent-next-day": Kill("append outbox_intent", 0.1, "next-day"),
    "intent-next-day-unreported": Kill("append outbox_intent", 0.6, "next-day", reports=False),
    "intent-payment": Kill("append outbox_intent", 0.3, "payment"),
    "intent-promise": Kill("append outbox_intent", 0.5, "promise", reports=False),
    "intent-closed": Kill("append outbox_intent", 0.8, "closed"),
    "intent-torn-next-day": Kill("torn outbox_intent", 0.4, "next-day", opens=None),
    "delivered-next-day": Kill("delivered", 0.05, "next-day"),
    "delivered-next-day-unreported": Kill("delivered", 0.45, "next-day", reports=False),
    "delivered-payment": Kill("delivered", 0.25, "payment"),
    "delivered-payment-unreported": Kill("delivered", 0.7, "payment", reports=False),
    "delivered-promise": Kill("delivered", 0.55, "promise"),
    "delivered-closed": Kill("delivered", 0.9, "closed"),
    "delivered-closed-unreported": Kill("delivered", 0.35, "closed", reports=False),
    "result-torn-next-day": Kill("torn interaction", 0.5, "next-day"),
    "result-written-payment": Kill("append interaction", 0.2, "payment", reports=False),
    "result-written-closed": Kill("append interaction", 0.65, "closed"),
    "sqlite-intent-next-day": Kill("append outbox_intent", 0.4, "next-day", "sqlite", opens=False),
    "sqlite-delivered-next-day": Kill("delivered", 0.15, "next-day", "sqlite"),
    "sqlite-delivered-unreported": Kill("delivered", 0.6, "next-day", "sqlite", False),
    "sqlite-delivered-payment": Kill("delivered", 0.35, "payment", "sqlite"),
    "sqlite-delivered-promise": Kill("delivered", 0.75, "promise", "sqlite", False),
    "sqlite-delivered-closed": Kill("delivered", 0.5, "closed", "sqlite"),
    "sqlite-result-next-day": Kill("append interaction", 0.3, "next-day", "sqlite"),
    "sqlite-result-closed": Kill("append interaction", 0.85, "closed", "sqlite", False),
}


def _worker(directory: Path, store: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WORKER), str(directory), "--store", store, "--no-fsync", *options],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _kind(what: str) -> str:
    words = what.split()
    return " ".join(words[:2]) if words[0] in ("torn", "append") else words[0]


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str]]]:
    """The crash points of a clean run on each store: (number, what had just happened)."""
    found: dict[str, list[tuple[int, str]]] = {}
    for store in ("file", "sqlite"):
        directory = tmp_path_factory.mktemp(f"clean-{store}")
        done = _worker(directory, store, "--trace")
        assert done.returncode == 0, done.stderr
        found[store] = [
            (int(number), what)
            for number, what, _day in (
                line.split("\t") for line in (directory / POINTS).read_text().splitlines()
            )
        ]
    return found


@dataclass
class Resumed:
    """A run killed at *point* (*what* had just happened) and resumed as its `Kill` says."""

    directory: Path
    point: int
    what: str
    killed: int
    resumed: subprocess.CompletedProcess[str]

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.resumed.stdout.splitlines()[-1])
        return result


def _kill(traces: dict[str, list[tuple[int, str]]], base: Path, name: str) -> Resumed:
    kill = KILLS[name]
    points = [(n, what) for n, what in traces[kill.store] if _kind(what) == kill.kind]
    assert points, f"no crash point {kill.kind!r} on {kill.store}"
    point, what = points[round(kill.fraction * (len(points) - 1))]
    directory = base / name
    killed = _worker(directory, kill.store, "--kill-after", str(point)).returncode
    options = ["--resume", kill.resume] + ([] if kill.reports else ["--no-reports"])
    return Resumed(directory, point, what, killed, _worker(directory, kill.store, *options))


@pytest.fixture(scope="module")
def resumed(
    traces: dict[str, list[tuple[int, str]]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Resumed]:
    base = tmp_path_factory.mktemp("killed")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        runs = pool.map(lambda name: _kill(traces, base, name), KILLS)
        return dict(zip(KILLS, runs, strict=True))


def test_the_kills_fall_at_distinct_points(resumed: dict[str, Resumed]) -> None:
    points = {(KILLS[name].store, run.point) for name, run in resumed.items()}
    assert len(KILLS) >= 20
    assert len(points) == len(KILLS)


def _journal(run: Resumed, kill: Kill) -> tuple[dict[str, list[JournalEntry]], list[Any], Any]:
    """Every chain, `verify`'s problems, and a reader of the next reviews, as left on disk."""
    opened = Run(run.directory, sqlite=kill.store == "sqlite")
    try:
        chains = {case_id: list(chain) for case_id, chain in opened.store.chains()}
        schedule = {case_id: opened.store.next_review(case_id) for case_id in chains}
        return chains, opened.engine.verify(), schedule
    finally:
        opened.close()


#: Counts delivered (and possibly delivered) SMS on a case in a day, as any cap would.
CAP = Compliance(
    rules=[
        FrequencyCap(
            id="TEST-SMS-DAY",
            citation="test",
            channels=frozenset({Channel.SMS}),
            counted_channels=frozenset({Channel.SMS}),
            counted_outcomes=frozenset({Outcome.DELIVERED}),
            limit=1,
            days=1,
            per="case",
            noun="messages",
        )
    ]
)


@pytest.mark.parametrize("name", KILLS)
def test_a_run_killed_and_resumed_another_day_closes_every_intent_truthfully(
    name: str, resumed: dict[str, Resumed]
) -> None:
    kill, run = KILLS[name], resumed[name]
    where = f"{name}: killed at crash point {run.point} ({run.what})"
    assert run.killed == -signal.SIGKILL, where
    assert run.resumed.returncode == 0, f"{where}\n{run.resumed.stderr}"
    summary = run.summary()
    assert summary["errors"] == [], where
    if kill.opens is not None:
        assert (summary["open_before"] > 0) == kill.opens, where
    # Every intent open when the run resumed was closed once, by recovery.
    assert summary["recovered"] == summary["open_before"], where
    if kill.resume in ("payment", "promise", "closed"):
        assert summary["changed"], where

    log = [line.split("\t")[0] for line in (run.directory / PROVIDER).read_text().splitlines()]
    assert [key for key, count in Counter(log).items() if count > 1] == [], where
    delivered = set(log)

    chains, problems, schedule = _journal(run, kill)
    assert problems == [], where
    assert open_intents(chains.items()) == [], where
    recovered = 0
    for case_id, chain in chains.items():
        intents = {e.data["key"] for e in chain if e.kind == "outbox_intent"}
        results = Counter(e.data["key"] for e in chain if e.kind == "interaction")
        assert set(results) == intents, f"{where}: {case_id}"
        assert set(results.values()) <= {1}, f"{where}: {case_id} journaled a key twice"
        for position, entry in enumerate(chain):
            if entry.kind != "interaction":
                continue
            key, outcome = entry.data["key"], entry.data["outcome"]
            if outcome == "delivered":  # never a delivery that did not happen
                assert key in delivered, f"{where}: {case_id} {entry.data}"
            elif key in delivered:  # it went out and nobody could say: unknown, not failed
                assert outcome == "unknown", f"{where}: {entry.data}"
                assert not kill.reports, f"{where}: {entry.data}"
            if "recovered" not in entry.data:
                continue
            recovered += 1
            if outcome in ("delivered", "unknown"):  # the caps see it
                history = ContactHistory.from_entries(chain[: position + 1])
                proposal = Proposal(channel="sms", contact="sms", purpose="collection")
                verdict = CAP.judge(_case_of(chain), history, proposal, entry.at)
                assert verdict.rules == ("TEST-SMS-DAY",), f"{where}: {entry.data}"
        if kill.resume == "closed" and case_id in summary["changed"]:
            assert schedule[case_id] is None, f"{where}: {case_id} still scheduled"
    assert recovered == summary["open_before"], where


def _case_of(chain: list[JournalEntry]) -> Any:
    from arrears.events import replay

    return replay(chain)
