"""`verify` looks at the review schedule: an open case the store no longer reviews is reported.

The review index (the ``reviews`` table) lives beside the journal and is not
sealed by it.  A live case whose row was deleted is never due again, one whose
review was pushed later than the engine schedules a review, or whose lease was
pushed years ahead, is skipped by every worker: all are ``unscheduled``, and
`Engine.reschedule` (``arrears journal verify --reschedule``) puts the case
back as its journal says.  The schedules the engine writes itself (ticks day
after day, a debtor moving across the date line) are never reported.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _cli import arrears
from _postgres import Database
from arrears import (
    Balance,
    Case,
    Channel,
    ContactPoint,
    Debtor,
    Engine,
    InvalidInput,
    SettableClock,
)
from arrears.limits import LEASE
from arrears.operations.evidence import LONGEST_GAP
from arrears.stores import SQLiteStore

START = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)
LATER = START + timedelta(days=1)


def _case(case_id: str) -> Case:
    return Case(
        id=case_id,
        debtor=Debtor(id=f"D-{case_id}", timezone=ZoneInfo("Asia/Shanghai")),
        contacts=(ContactPoint(id="mobile", channel=Channel.SMS, address="+8613800000009"),),
        balance=Balance(currency="CNY", principal="1000.00"),
        due_date=date(2026, 9, 1),
    )


def _fill(engine: Engine) -> None:
    for case_id in ("LN-1", "LN-2"):
        engine.open_case(_case(case_id))


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "arrears.db"
    with SQLiteStore(path) as store:
        _fill(Engine(store=store, clock=SettableClock(START)))
    return path


def _sqlite(path: Path, sql: str) -> None:
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute(sql)


def test_a_deleted_review_row_is_unscheduled_and_rescheduled(sqlite_file: Path) -> None:
    _sqlite(sqlite_file, "DELETE FROM reviews WHERE case_id = 'LN-1'")
    with SQLiteStore(sqlite_file) as store:
        engine = Engine(store=store, clock=SettableClock(LATER))
        assert store.due(LATER, 10) == ["LN-2"]
        problems = engine.verify()
        assert [(p.case_id, p.position, p.problem) for p in problems] == [
            ("LN-1", 0, "unscheduled")
        ]
        # Never reviewed: due as it was opened, so at once.
        assert engine.reschedule("LN-1") == START
        assert store.due(LATER, 10) == ["LN-1", "LN-2"]
        assert engine.verify() == []


def test_a_lease_pushed_years_ahead_is_unscheduled_and_dropped(sqlite_file: Path) -> None:
    far = int((datetime(2036, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    _sqlite(
        sqlite_file,
        "UPDATE reviews SET lease_owner = 'w', "
        f"lease_until = {far * 1_000_000} WHERE case_id = 'LN-2'",
    )
    with SQLiteStore(sqlite_file) as store:
        engine = Engine(store=store, clock=SettableClock(LATER))
        assert store.due(LATER, 10) == ["LN-1"]
        problems = engine.verify()
        assert [(p.case_id, p.position, p.problem) for p in problems] == [
            ("LN-2", 0, "unscheduled")
        ]
        assert "2036-01-01T00:00:00+00:00" in problems[0].detail
        engine.reschedule("LN-2")
        assert store.due(LATER, 10) == ["LN-1", "LN-2"]
        assert engine.verify() == []


def test_a_lease_a_tick_grants_is_not_reported(sqlite_file: Path) -> None:
    with SQLiteStore(sqlite_file) as store:
        engine = Engine(store=store, clock=SettableClock(LATER))
        assert store.lease(LATER, 10, "w", LEASE) == ["LN-1", "LN-2"]
        assert engine.verify() == []


def test_the_memory_store_is_checked_too(engine: Engine) -> None:
    _fill(engine)
    engine.store.schedule("LN-1", None)
    assert [(p.case_id, p.problem) for p in engine.verify()] == [("LN-1", "unscheduled")]
    engine.reschedule("LN-1")
    assert engine.verify() == []


def test_the_schedule_is_read_once_not_a_case_at_a_time(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One query for every open case: `next_review` of a case is never asked, and the
    problems come in chain order, each case's ``unscheduled`` after its own."""
    with SQLiteStore(sqlite_file) as store:
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(_case("LN-3"))
    _sqlite(sqlite_file, "DELETE FROM reviews WHERE case_id IN ('LN-1', 'LN-3')")
    _sqlite(
        sqlite_file,
        "UPDATE cases SET body = json_set(body, '$.balance.principal', '1.00') WHERE id = 'LN-2'",
    )
    asked: list[str] = []
    with SQLiteStore(sqlite_file) as store:
        read = store._read_scheduled

        def once() -> dict[str, datetime]:
            asked.append("reviews")
            return read()

        monkeypatch.setattr(store, "_read_scheduled", once)
        monkeypatch.setattr(store, "_read_review", lambda case_id: pytest.fail(case_id))
        problems = Engine(store=store, clock=SettableClock(LATER)).verify()
    assert asked == ["reviews"]
    assert [(p.case_id, p.problem) for p in problems] == [
        ("LN-1", "unscheduled"),
        ("LN-2", "changed"),
        ("LN-3", "unscheduled"),
    ]


class _PlainStore:
    """A store of the protocol alone (no ``scheduled``): asked `next_review` of each case."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in ("scheduled", "leased_beyond"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self.inner

    def __len__(self) -> int:
        return len(self.inner)


def test_a_store_without_the_batched_question_is_asked_each_case(engine: Engine) -> None:
    _fill(engine)
    engine.store.schedule("LN-2", None)
    engine.store.schedule("LN-1", datetime(2036, 1, 1, tzinfo=UTC))
    plain = Engine(store=_PlainStore(engine.store), clock=SettableClock(LATER))  # type: ignore[arg-type]
    assert [(p.case_id, p.problem) for p in plain.verify()] == [
        ("LN-1", "unscheduled"),
        ("LN-2", "unscheduled"),
    ]


# -- a review pushed later than the engine schedules one ------------------------------------

FAR = datetime(2036, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000


def test_a_review_pushed_years_ahead_is_unscheduled(sqlite_file: Path) -> None:
    _sqlite(sqlite_file, f"UPDATE reviews SET review_at = {_micros(FAR)} WHERE case_id = 'LN-1'")
    with SQLiteStore(sqlite_file) as store:
        engine = Engine(store=store, clock=SettableClock(LATER))
        assert store.due(LATER, 10) == ["LN-2"]  # never reviewed before 2036
        problems = engine.verify()
        assert [(p.case_id, p.position, p.problem) for p in problems] == [
            ("LN-1", 0, "unscheduled")
        ]
        assert "2036-01-01T00:00:00+00:00" in problems[0].detail
        assert engine.reschedule("LN-1") == START  # never reviewed: due as it was opened
        assert store.due(LATER, 10) == ["LN-1", "LN-2"]
        assert engine.verify() == []


def test_journal_verify_reschedules_a_review_pushed_ahead(sqlite_file: Path) -> None:
    _sqlite(sqlite_file, f"UPDATE reviews SET review_at = {_micros(FAR)} WHERE case_id = 'LN-2'")
    result = arrears("journal", "verify", "--db", sqlite_file)
    assert result.returncode == 1
    assert "case 'LN-2' at 0: unscheduled" in result.stdout
    result = arrears("journal", "verify", "--db", sqlite_file, "--reschedule")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rescheduled LN-2" in result.stdout


def test_without_a_policy_the_bound_is_the_longest_gap_any_policy_sets(engine: Engine) -> None:

    _fill(engine)
    latest = engine.clock.now() + LONGEST_GAP  # about fourteen months
    engine.store.schedule("LN-1", latest)
    engine.store.schedule("LN-2", latest + timedelta(seconds=1))
    assert [(p.case_id, p.problem) for p in engine.verify()] == [("LN-2", "unscheduled")]


def _policy() -> Any:
    from importlib.resources import files

    from arrears.policy import load_policy

    return load_policy(str(files("arrears") / "examples" / "policies" / "cn_consumer_loan.yaml"))


def _ticking(clock: SettableClock) -> Engine:
    """An engine under the CN example (daily reviews at 09:30), its SMS recorded."""
    from arrears.channels import RecordingChannel

    return Engine(policy=_policy(), channels=[RecordingChannel()], clock=clock)


def test_under_a_policy_the_bound_is_still_the_longest_gap() -> None:
    """The CN example reviews daily at 09:30 in Shanghai: a case pushed a day past its next
    review is not reported (the policy's cadence counts from the last tick, which nothing
    journals); pushed past the longest gap any policy sets, it is, and `reschedule`
    brings it back to what the journaled review said."""
    clock = SettableClock(START)  # 10:00 in Shanghai
    engine = _ticking(clock)
    _fill(engine)
    engine.tick()
    due = datetime(2026, 9, 11, 1, 30, tzinfo=UTC)  # 09:30 the next day in Shanghai
    assert engine.store.next_review("LN-1") == due
    engine.store.schedule("LN-1", due + timedelta(days=1))
    assert engine.verify() == []
    engine.store.schedule("LN-1", START + LONGEST_GAP + timedelta(days=1))
    problems = engine.verify()
    assert [(p.case_id, p.problem) for p in problems] == [("LN-1", "unscheduled")]
    assert engine.reschedule("LN-1") == due
    assert engine.verify() == []


def test_daily_ticks_that_journal_nothing_are_never_reported() -> None:
    """Reviews that change nothing are not journaled but move the schedule on: the bound
    counts from the clock, not from the last journaled review."""
    clock = SettableClock(START)
    engine = _ticking(clock)
    _fill(engine)
    for hours in (0, 7, 24, 31, 48, 24 * 9, 24 * 9 + 23):
        clock.set(START + timedelta(hours=hours))
        engine.tick()
        assert engine.verify() == [], hours


def test_a_review_the_journal_sets_ahead_is_not_reported(engine: Engine) -> None:
    """`record_review` journals when the case is looked at next: the journal's word is
    the engine's, up to the longest gap any policy sets after the review; further ahead,
    `record_review` refuses it."""
    engine.policy = _policy()
    _fill(engine)
    clock = engine.clock
    assert isinstance(clock, SettableClock)
    clock.advance(days=2)  # the clock behind the review at verify: the journal's word holds
    said = clock.now() + LONGEST_GAP
    with pytest.raises(InvalidInput) as refused:
        engine.record_review("LN-1", next_review_at=said + timedelta(seconds=1))
    assert refused.value.field == "next_review_at"
    engine.record_review("LN-1", next_review_at=said)
    assert engine.store.next_review("LN-1") == said
    behind = Engine(store=engine.store, clock=SettableClock(START))
    assert behind.verify() == []
    engine.store.schedule("LN-1", said + timedelta(days=1))
    assert [(p.case_id, p.problem) for p in behind.verify()] == [("LN-1", "unscheduled")]


@pytest.mark.parametrize(
    ("old", "new"),
    [("Pacific/Kiritimati", "Pacific/Pago_Pago"), ("Pacific/Pago_Pago", "Pacific/Kiritimati")],
)
def test_a_debtor_moved_across_the_date_line_is_not_reported(old: str, new: str) -> None:
    """A move west keeps the review day (`moved_review`): in the new zone it stands up to
    two days after the regular next review there, and is still the engine's."""
    clock = SettableClock(datetime(2026, 9, 10, 20, 0, tzinfo=UTC))  # past 09:30 in Kiritimati
    engine = _ticking(clock)
    case = _case("LN-1").model_copy(update={"debtor": Debtor(id="D-1", timezone=ZoneInfo(old))})
    engine.open_case(case)
    for _ in range(3):
        engine.tick()
        assert engine.verify() == []
        clock.advance(hours=1)
        engine.update_debtor("D-1", timezone=new)
        assert engine.verify() == []
        clock.advance(hours=1)
        engine.update_debtor("D-1", timezone=old)
        assert engine.verify() == []
        clock.advance(hours=11)


def test_a_lease_longer_than_the_bound_is_refused(sqlite_file: Path) -> None:
    from importlib.resources import files

    from arrears.policy import load_policy

    policy = load_policy(str(files("arrears") / "examples" / "policies" / "cn_consumer_loan.yaml"))
    with SQLiteStore(sqlite_file) as store:
        engine = Engine(policy=policy, store=store, clock=SettableClock(LATER))
        with pytest.raises(InvalidInput, match="lease_for"):
            engine.tick(LATER, owner="w", lease_for=LEASE + timedelta(seconds=1))


def test_journal_verify_reports_and_reschedules(sqlite_file: Path) -> None:
    _sqlite(sqlite_file, "DELETE FROM reviews WHERE case_id = 'LN-1'")
    result = arrears("journal", "verify", "--db", sqlite_file)
    assert result.returncode == 1
    assert "case 'LN-1' at 0: unscheduled" in result.stdout
    result = arrears("journal", "verify", "--db", sqlite_file, "--reschedule")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rescheduled LN-1" in result.stdout
    assert arrears("journal", "verify", "--db", sqlite_file).returncode == 0


def test_postgres_reports_and_reschedules(postgres_database: Database) -> None:
    _fill(Engine(store=postgres_database.open(), clock=SettableClock(START)))
    postgres_database.sql("DELETE FROM reviews WHERE case_id = 'LN-1'")
    postgres_database.sql(
        "UPDATE reviews SET lease_owner = 'w', lease_until = '2036-01-01T00:00:00+00' "
        "WHERE case_id = 'LN-2'",
    )
    store = postgres_database.open()
    engine = Engine(store=store, clock=SettableClock(LATER))
    assert store.due(LATER, 10) == []
    problems = engine.verify()
    assert [(p.case_id, p.position, p.problem) for p in problems] == [
        ("LN-1", 0, "unscheduled"),
        ("LN-2", 0, "unscheduled"),
    ]
    engine.reschedule("LN-1")
    engine.reschedule("LN-2")
    assert store.due(LATER, 10) == ["LN-1", "LN-2"]
    assert engine.verify() == []


def test_postgres_a_review_pushed_years_ahead_is_unscheduled(
    postgres_database: Database,
) -> None:
    _fill(Engine(store=postgres_database.open(), clock=SettableClock(START)))
    postgres_database.sql("UPDATE reviews SET review_at = '2036-01-01T00:00:00+00'")
    store = postgres_database.open()
    engine = Engine(store=store, clock=SettableClock(LATER))
    assert store.due(LATER, 10) == []  # never reviewed before 2036
    problems = engine.verify()
    assert [(p.case_id, p.problem) for p in problems] == [
        ("LN-1", "unscheduled"),
        ("LN-2", "unscheduled"),
    ]
    assert all("2036-01-01T00:00:00+00:00" in p.detail for p in problems)
    engine.reschedule("LN-1")
    engine.reschedule("LN-2")
    assert store.due(LATER, 10) == ["LN-1", "LN-2"]
    assert engine.verify() == []
