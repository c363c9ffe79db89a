"""Attacks on a tick that reviews a batch at the latest moment journaled on its debtors'
cases when that is later than its own (`arrears.tick._batch_moment`).

Each test tries one way to break it: an entry dated a few minutes ahead of the
clock (accepted up to `arrears.limits.FUTURE_TOLERANCE`), on another debtor's
loan or the debtor's own, a moved batch followed by one that is not, local
midnight, and the review that follows a moved one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _postgres import contract_store
from arrears import Engine, MemoryStore
from arrears.channels import OutboundMessage, RecordingChannel, SendResult
from arrears.policy import load_policy
from arrears.stores import SQLiteStore
from test_debtors import LIMITED_POLICY, sms_loan

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """A clock set by hand that is not a `SettableClock`: the engine holds entries to
    `FUTURE_TOLERANCE` ahead of it, as on a real clock."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


class Timed(RecordingChannel):
    """An SMS provider that notes the clock's time of each message handed to it."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(channels=frozenset({"sms"}))
        self.clock = clock
        self.handed: list[tuple[str, datetime]] = []

    def send(self, message: OutboundMessage) -> SendResult:
        self.handed.append((message.case_id, self.clock.now()))
        return super().send(message)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Timed, Clock]]:
    """One SMS a day to each debtor (CN: none 22:00-08:00); D-1 owes loans 1 and 2,
    D-2 loan 9.  The clock reads 07:57 in Shanghai on 14 October."""
    path = tmp_path / "policy.yaml"
    path.write_text(LIMITED_POLICY, encoding="utf-8")
    store: Any = MemoryStore()
    if request.param == "sqlite":
        store = SQLiteStore(tmp_path / "t.db")
    elif request.param == "postgres":
        store = contract_store(tmp_path)  # skipped without ARREARS_TEST_POSTGRES
    clock = Clock(local(14, 7, 57))
    sms = Timed(clock)
    made = Engine(policy=load_policy(path), store=store, channels=[sms], clock=clock)
    made.open_cases([sms_loan(1), sms_loan(2), sms_loan(9, debtor="D-2")], at=local(13, 12))
    for case_id in ("L-1", "L-2", "L-9"):
        store.schedule(case_id, local(20, 9, 30))
    yield made, sms, clock
    if not isinstance(store, MemoryStore):
        store.close()


class TestAnEntryAheadOfTheClock:
    def test_another_debtors_entry_does_not_open_the_contact_hours(
        self, rig: tuple[Engine, Timed, Clock]
    ) -> None:
        """An entry another machine dated 08:01 (4 minutes ahead of this clock) on D-2's
        loan: D-1's SMS is judged at 07:57 (denied: CN contact hours begin at 08:00), not
        at 08:01; D-2's loan is held back, retried later."""
        engine, sms, _ = rig
        engine.record_interaction(
            "L-9", "call", "conversation", inbound=True, at=local(14, 8, 1)
        )  # accepted: 4 minutes ahead
        for case_id in ("L-1", "L-9"):  # both due: one batch
            engine.store.schedule(case_id, local(14, 7, 55))
        engine.tick(local(14, 7, 57))
        early = [(case_id, at) for case_id, at in sms.handed if at < local(14, 8)]
        assert early == []

    def test_its_own_entry_does_not_open_the_contact_hours(
        self, rig: tuple[Engine, Timed, Clock]
    ) -> None:
        """The debtor's own loan with an entry dated 08:01: refused, retried later."""
        engine, sms, _ = rig
        engine.record_interaction("L-1", "call", "conversation", inbound=True, at=local(14, 8, 1))
        engine.store.schedule("L-1", local(14, 7, 55))
        engine.tick(local(14, 7, 57))
        early = [(case_id, at) for case_id, at in sms.handed if at < local(14, 8)]
        assert early == []


def _verified(engine: Engine) -> list[Any]:
    """`verify`'s problems, but those of a case the rig parked on 20 October (as no tick
    does: a review later than the engine schedules one, reported ``unscheduled``)."""
    parked = f"at {local(20, 9, 30).astimezone(UTC).isoformat()}, later"
    return [p for p in engine.verify() if not (p.problem == "unscheduled" and parked in p.detail)]


class TestWithstood:
    def test_a_moved_batch_does_not_move_the_next(self, rig: tuple[Engine, Timed, Clock]) -> None:
        """Batches of one: loan 1's debtor has an entry at 09:35 (the first batch moves
        there), loan 9's batch comes after it and is reviewed at the tick's 09:30."""
        engine, _, clock = rig
        clock.at = local(14, 9, 35)
        engine.record_interaction("L-2", "call", "conversation", inbound=True)
        clock.at = local(14, 9, 36)  # the tick began at 09:30 and reaches them now
        for case_id in ("L-1", "L-9"):
            engine.store.schedule(case_id, local(14, 9, 30))
        report = engine.tick(local(14, 9, 30), batch=1)
        assert report.errors == []
        reviewed = {
            case_id: [e.at for e in engine.history(case_id) if e.kind == "review"]
            for case_id in ("L-1", "L-9")
        }
        assert reviewed == {"L-1": [local(14, 9, 35)], "L-9": [local(14, 9, 30)]}
        assert _verified(engine) == []

    def test_one_message_a_day_after_a_batch_moved_past_midnight(
        self, rig: tuple[Engine, Timed, Clock]
    ) -> None:
        """D-1's loan 2 has an entry at 00:02 on the 15th; a retry of loan 1 at 23:58 on
        the 14th is reviewed then (the next day where the debtor lives).  Over both days
        D-1 gets one SMS a day, none at night, and the chains verify."""
        engine, sms, clock = rig
        clock.at = local(14, 9, 30)
        engine.store.schedule("L-1", local(14, 9, 30))
        engine.store.schedule("L-2", local(14, 9, 30))
        engine.tick(local(14, 9, 30))
        clock.at = local(15, 0, 2)
        engine.record_interaction("L-2", "call", "no_answer")
        clock.at = local(15, 0, 3)  # the tick that began at 23:58 reaches loan 1 now
        engine.store.schedule("L-1", local(14, 23, 55))
        engine.tick(local(14, 23, 58))
        for hour in (8, 9, 10, 11, 12):
            clock.at = local(15, hour, 30)
            engine.tick(local(15, hour, 30))
        to_d1 = [at for case_id, at in sms.handed if case_id in ("L-1", "L-2")]
        days = [at.astimezone(SHANGHAI).date() for at in to_d1]
        assert days == sorted(set(days))  # one a day
        assert len(days) == 2
        assert all(8 <= at.astimezone(SHANGHAI).hour < 22 for at in to_d1)
        assert _verified(engine) == []


def test_the_tick_report_keeps_the_ticks_moment(rig: tuple[Engine, Timed, Clock]) -> None:
    """A moved batch is counted in the tick's report, which keeps the tick's moment."""
    engine, _, clock = rig
    clock.at = local(14, 9, 35)
    engine.record_interaction("L-9", "call", "conversation", inbound=True)
    clock.at = local(14, 9, 36)
    for case_id in ("L-1", "L-2", "L-9"):
        engine.store.schedule(case_id, local(14, 9, 30))
    report = engine.tick(local(14, 9, 30))
    assert report.at == local(14, 9, 30)
    assert report.reviewed == 3
    assert report.at.astimezone(UTC) == datetime(2026, 10, 14, 1, 30, tzinfo=UTC)


class Meddled(Timed):
    """An SMS provider during whose call a person records an inbound call on the loan,
    a minute later on the clock (the send and the finish straddle it)."""

    def __init__(self, clock: Clock, engine: list[Engine]) -> None:
        super().__init__(clock)
        self.engine = engine

    def send(self, message: OutboundMessage) -> SendResult:
        result = super().send(message)
        if len(self.handed) == 1:
            self.clock.at = local(14, 9, 31)
            self.engine[0].record_interaction(message.case_id, "call", "conversation", inbound=True)
        return result


def test_an_entry_recorded_while_the_message_is_sent(tmp_path: Path) -> None:
    """A person records a call on the loan at 09:31 while its SMS is with the provider:
    the result is journaled after it, at 09:31, not refused."""
    path = tmp_path / "policy.yaml"
    path.write_text(LIMITED_POLICY, encoding="utf-8")
    clock = Clock(local(14, 9, 30))
    made: list[Engine] = []
    sms = Meddled(clock, made)
    engine = Engine(policy=load_policy(path), channels=[sms], clock=clock)
    made.append(engine)
    engine.open_cases([sms_loan(1)], at=local(13, 12))
    report = engine.tick(local(14, 9, 30))
    assert report.errors == []
    sent = [e for e in engine.history("L-1") if e.kind == "interaction" and "key" in e.data]
    assert [e.data["outcome"] for e in sent] == ["delivered"]


def test_a_batch_moved_across_a_midnight_that_does_not_exist(tmp_path: Path) -> None:
    """Santiago springs forward at midnight (00:00 on 6 September 2026 is 01:00).  A
    retry at 23:58 on the 5th is reviewed at 01:01 on the 6th (an entry on the debtor's
    other loan): one SMS a day to the debtor, none at night, the chains verify."""
    santiago = ZoneInfo("America/Santiago")

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 9, day, hour, minute, tzinfo=santiago)

    def santiago_loan(number: int, debtor: str = "D-1") -> dict[str, Any]:
        data = sms_loan(number, debtor)
        data["debtor"] = {**data["debtor"], "timezone": "America/Santiago"}
        return data

    path = tmp_path / "policy.yaml"
    path.write_text(LIMITED_POLICY, encoding="utf-8")
    clock = Clock(at(5, 9, 30))
    sms = Timed(clock)
    engine = Engine(policy=load_policy(path), channels=[sms], clock=clock)
    engine.open_cases([santiago_loan(1), santiago_loan(2)], at=at(4, 12))
    engine.tick(at(5, 9, 30))
    clock.at = datetime(2026, 9, 6, 4, 1, tzinfo=UTC)  # 01:01 on the 6th
    engine.record_interaction("L-2", "call", "no_answer")
    late = datetime(2026, 9, 6, 3, 58, tzinfo=UTC)  # 23:58 on the 5th: the tick's moment
    clock.at = late + timedelta(minutes=4)  # when it reaches loan 1
    engine.store.schedule("L-1", at(5, 23, 55))
    assert engine.tick(late).errors == []
    assert [e.at for e in engine.history("L-1")][-1] == late + timedelta(minutes=3)
    for hour in (8, 9, 10, 11):
        clock.at = at(6, hour, 30)
        engine.tick(at(6, hour, 30))
    local_times = [moment.astimezone(santiago) for _, moment in sms.handed]
    days = [moment.date() for moment in local_times]
    assert days == sorted(set(days))
    assert len(days) == 2
    assert all(8 <= moment.hour < 22 for moment in local_times)
    assert engine.verify() == []
