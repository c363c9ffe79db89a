"""Attacks on the tick's day: review days, late reviews, catch-ups and what is journaled missed.

Each test tries to break one promise of ``docs/operations.md`` ("When the
tick runs") with the CN example policy or a small policy of its own: the
clocks around daylight-saving changes, weekends and public holidays, a
cadence of more than a day, a crash between a catch-up's intent and its
result, two workers leasing a late portfolio, a case paid, cured or put on
hold during an outage, the stores' cache of when a case was due, replay and
export after catch-ups, a very late review, and the command line.  A test
marked ``xfail(strict=True)`` shows a defect still open: its reason says
what goes wrong.
"""

from __future__ import annotations

import threading
import time as clock_time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from arrears import Engine, MemoryStore, Money, SettableClock
from arrears.channels import OutboundMessage, RecordingChannel, SendResult
from arrears.cli import main
from arrears.planner import next_regular_review, outbox_key, review_day
from arrears.policy import Facts, Policy, SendAction, load_policy
from arrears.store import Store
from arrears.stores import SQLiteStore
from arrears.tick import CATCH_UP_DAYS

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"

# -- the CN example ---------------------------------------------------------------------------


def shanghai(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def cn_policy(**review: Any) -> Policy:
    """The CN example, with its review settings changed by *review*."""
    policy = load_policy(EXAMPLES / "cn_consumer_loan.yaml")
    if review:
        policy = policy.model_copy(update={"review": policy.review.model_copy(update=review)})
    return policy


def cn_case(
    case_id: str = "L-1", due: str = "2026-09-01", principal: str = "3000.00"
) -> dict[str, Any]:
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "m", "channel": "call", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": principal, "not_due": "0.00"},
        "due_date": due,
    }


class Rig:
    """An engine, its clock and its SMS provider, with the cases it opened."""

    def __init__(
        self,
        policy: Policy,
        start: datetime,
        cases: Iterable[dict[str, Any]],
        *,
        store: Store | None = None,
        sms: RecordingChannel | None = None,
    ) -> None:
        self.policy = policy
        self.clock = SettableClock(start)
        self.sms = sms if sms is not None else RecordingChannel(channels=frozenset({"sms"}))
        self.engine = Engine(
            policy=policy,
            channels=[self.sms],
            clock=self.clock,
            store=store if store is not None else MemoryStore(),
        )
        for case in cases:
            self.engine.open_case(case, at=start)

    def tick(self, moment: datetime, **options: Any) -> Any:
        self.clock.set(moment)
        return self.engine.tick(moment, **options)

    def ticks(self, moments: Iterable[datetime]) -> None:
        for moment in moments:
            report = self.tick(moment)
            assert report.errors == [], (moment, report.errors)

    def entries(self, case_id: str, *kinds: str) -> list[Any]:
        return [entry for entry in self.engine.history(case_id) if entry.kind in kinds]

    def reviews(self, case_id: str = "L-1") -> list[dict[str, Any]]:
        return [entry.data for entry in self.entries(case_id, "review")]

    def sent_keys(self, case_id: str = "L-1") -> list[str]:
        return [
            entry.data["key"]
            for entry in self.entries(case_id, "interaction")
            if entry.data.get("outcome") == "delivered" and "key" in entry.data
        ]

    def missed(self, case_id: str = "L-1") -> dict[tuple[str, str], str]:
        return {
            (item["day"], item["step"]): item["reason"]
            for data in self.reviews(case_id)
            for item in data.get("missed", [])
            if "step" in item
        }

    def caught_up(self, case_id: str = "L-1") -> list[tuple[str, str]]:
        return [
            (item["day"], item["step"])
            for data in self.reviews(case_id)
            for item in data.get("caught_up", [])
        ]


def days(
    first: date, count: int, hour: int, minute: int = 0, skip: Iterable[int] = ()
) -> list[datetime]:
    skipped = set(skip)
    return [
        shanghai(first + timedelta(days=offset), hour, minute)
        for offset in range(count)
        if offset not in skipped
    ]


def hours(first: date, count: int) -> list[datetime]:
    return [
        shanghai(first + timedelta(days=offset), hour)
        for offset in range(count)
        for hour in range(24)
    ]


FIRST = date(2026, 8, 25)


def cn_rig(policy: Policy | None = None, **options: Any) -> Rig:
    return Rig(policy or cn_policy(), shanghai(FIRST, 0, 5), [cn_case()], **options)


def step_keys(policy: Policy, case_id: str, first: date, count: int) -> dict[str, tuple[str, str]]:
    """Every action key of *case_id* over *count* days from *first*, to its (day, step)."""
    return {
        outbox_key(case_id, first + timedelta(days=offset), step.id): (
            (first + timedelta(days=offset)).isoformat(),
            step.id,
        )
        for offset in range(-1, count + 1)
        for step in policy.steps
    }


# -- a US debtor under Regulation F -----------------------------------------------------------

US_TEMPLATE = """---
kind: reminder
description: "Overdue, with every disclosure the US pack asks of a text."
max_segments: 4
---
{{ lender_name }}: {{ amount_owed }} is {{ days_past_due }} days late; pay by {{ deadline }}; \
late fee {{ late_fee_rate | percent }} a day. Call {{ lender_hotline }}. From a debt collector. \
This is an attempt to collect a debt, and any information obtained will be used for that \
purpose. Reply STOP to opt out.
"""


def us_policy(folder: Path, review_time: str, *, review: str = "", steps: str = "") -> Policy:
    """A daily SMS from the first day past due, reviewed at *review_time* New York time."""
    templates = folder / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "overdue.sms.en-US.txt").write_text(US_TEMPLATE, encoding="utf-8")
    path = folder / "us.yaml"
    path.write_text(
        f"""
id: us-daily
version: "1"
packs: [US-RegF]
templates: templates
lender:
  name: Acme
  business_name: ACME
  hotline: 1-800-555-0100
  email: help@acme.example
  late_fee_rate: "0.0003"
review: {{time: "{review_time}", every_days: 1{review}}}
steps:
  - id: daily-sms
    stages: [notified]
    when: {{dpd_at_least: 1}}
    send: {{channel: sms, template: overdue, deadline_days: 7}}
{steps}
escalations:
  - {{trigger: notify, from: [pre_due], when: {{dpd_at_least: 1}}}}
""",
        encoding="utf-8",
    )
    return load_policy(path)


def us_case(case_id: str = "C-1", due: date = date(2026, 2, 20)) -> dict[str, Any]:
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "America/New_York", "locale": "en-US"},
        "contacts": [{"id": "m", "channel": "sms", "address": "+12025550143", "consent": True}],
        "balance": {"currency": "USD", "principal": "300.00", "not_due": "0.00"},
        "due_date": due.isoformat(),
    }


def regular_reviews(rig: Rig, case_id: str, moments: Iterable[datetime]) -> Counter[date]:
    """Tick at each moment; count, by the review day it stands for, each review of a case
    that was due at its regular time (not at a retry)."""
    counted: Counter[date] = Counter()
    for moment in moments:
        due = rig.engine.store.next_review(case_id)
        case = rig.engine.case(case_id)
        report = rig.tick(moment)
        assert report.errors == [], (moment, report.errors)
        assert (report.caught_up, report.missed) == (0, 0), moment
        after = rig.engine.store.next_review(case_id)
        assert after is not None, moment
        assert after > moment, (moment, after)
        if report.reviewed and due is not None and due.astimezone(NEW_YORK).time() != time(8):
            counted[review_day(rig.policy, case, moment)] += 1
    return counted


# == 1. Daylight saving time ==================================================================


@pytest.mark.parametrize(
    ("first", "label"), [(date(2026, 3, 5), "spring-forward"), (date(2026, 10, 29), "fall-back")]
)
def test_an_hourly_job_across_a_dst_night_reviews_each_day_once(
    tmp_path: Path, first: date, label: str
) -> None:
    """02:30 does not exist on 8 March and comes once on 1 November (after the repeat)."""
    policy = us_policy(tmp_path, "02:30")
    start = datetime.combine(first, time(12), NEW_YORK)
    rig = Rig(policy, start, [us_case(due=first - timedelta(days=5))])
    rig.tick(start)
    # In UTC steps: hours added to a New York time are wall-clock hours (see the gap test).
    moments = [start.astimezone(UTC) + timedelta(hours=hour) for hour in range(1, 24 * 6)]
    counted = regular_reviews(rig, "C-1", moments)
    assert counted == Counter({first + timedelta(days=offset): 1 for offset in range(1, 7)})
    # One SMS a day, every one within 08:00-21:00 New York time.
    sent = [entry.at.astimezone(NEW_YORK) for entry in rig.entries("C-1", "interaction")]
    assert Counter(moment.date() for moment in sent) == Counter(
        {first + timedelta(days=offset): 1 for offset in range(7)}
    )
    assert all(time(8) <= moment.time() < time(21) for moment in sent)


def test_a_daily_job_in_utc_across_both_dst_nights_skips_no_day_and_invents_no_catch_up(
    tmp_path: Path,
) -> None:
    """A job at 07:45 UTC is at 02:45 EST and 03:45 EDT: after 02:30 either way."""
    policy = us_policy(tmp_path, "02:30")
    for first in (date(2026, 3, 5), date(2026, 10, 29)):
        start = datetime.combine(first - timedelta(days=1), time(12), NEW_YORK)
        rig = Rig(policy, start, [us_case(due=first - timedelta(days=5))])
        rig.tick(start)
        for offset in range(6):
            moment = datetime.combine(first + timedelta(days=offset), time(7, 45), UTC)
            case = rig.engine.case("C-1")
            assert review_day(policy, case, moment) == first + timedelta(days=offset)
            report = rig.tick(moment)
            assert (report.errors, report.reviewed, report.caught_up) == ([], 1, 0), moment
        # Every message was judged at 02:45 (out of hours): each is missed the next day,
        # with its reason, and none is caught up.
        gone = rig.missed("C-1")
        assert len(gone) == 5
        assert all(reason.startswith("denied until") for reason in gone.values())


def test_an_hourly_job_on_local_time_through_the_repeated_hour(tmp_path: Path) -> None:
    policy = us_policy(tmp_path, "01:30")
    start = datetime(2026, 10, 31, 12, tzinfo=UTC)
    rig = Rig(policy, start, [us_case(due=date(2026, 10, 20))])
    for hour in range(1, 30):
        moment = (start + timedelta(hours=hour)).astimezone(NEW_YORK)  # as datetime.now(zone)
        report = rig.tick(moment)
        assert report.errors == [], (moment, moment.fold, report.errors)


def test_next_regular_review_is_after_a_moment_in_the_repeated_hour(tmp_path: Path) -> None:
    policy = us_policy(tmp_path, "01:30")
    rig = Rig(policy, datetime(2026, 10, 31, 12, tzinfo=UTC), [us_case()])
    case = rig.engine.case("C-1")
    moment = datetime(2026, 11, 1, 6, 0, tzinfo=UTC).astimezone(NEW_YORK)  # 01:00 EST, fold=1
    assert moment.fold == 1
    assert review_day(policy, case, moment) == date(2026, 11, 1)
    assert next_regular_review(policy, case, moment) > moment


def test_a_tick_at_a_wall_time_in_the_spring_gap_reviews_the_case_once(tmp_path: Path) -> None:
    policy = us_policy(tmp_path, "02:30")
    start = datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)
    rig = Rig(policy, start, [us_case()])
    rig.tick(start)
    report = rig.tick(datetime(2026, 3, 8, 2, 45, tzinfo=NEW_YORK), limit=5)
    assert (report.reviewed, report.errors) == (1, [])


# == 2. Weekends, holidays and cadences =======================================================


def test_review_day_on_a_weekend_and_a_holiday_is_the_working_day_before() -> None:
    policy = cn_policy(business_days=True, holidays="CN")
    case = cn_rig(policy).engine.case("L-1")
    saturday = shanghai(date(2026, 9, 12), 12)
    assert review_day(policy, case, saturday) == date(2026, 9, 11)
    assert next_regular_review(policy, case, saturday) == shanghai(date(2026, 9, 14), 9, 30)
    # Monday before the review time stands for Friday, and is due again at Monday's.
    monday = shanghai(date(2026, 9, 14), 0, 30)
    assert review_day(policy, case, monday) == date(2026, 9, 11)
    assert next_regular_review(policy, case, monday) == shanghai(date(2026, 9, 14), 9, 30)
    # Golden Week 2026: 1-7 October are off (4 October a Sunday); 30 September works.
    golden = shanghai(date(2026, 10, 5), 10)
    assert review_day(policy, case, golden) == date(2026, 9, 30)
    assert next_regular_review(policy, case, golden) == shanghai(date(2026, 10, 8), 9, 30)


def test_a_late_review_after_golden_week_looks_back_at_working_days_only() -> None:
    """Due on 30 September, the job down until 8 October: only 30 September was missed."""
    policy = cn_policy(business_days=True, holidays="CN")
    rig = Rig(
        policy, shanghai(date(2026, 9, 20), 10), [cn_case(due="2026-09-27", principal="3000.00")]
    )
    rig.ticks(days(date(2026, 9, 21), 9, 10))  # to 29 September, on time (weekdays only)
    assert rig.engine.store.next_review("L-1") == shanghai(date(2026, 9, 30), 9, 30)
    report = rig.tick(shanghai(date(2026, 10, 8), 10))  # dpd 11
    assert report.errors == []
    late = rig.reviews()[-1]
    # dpd 3 fell on 30 September; dpd 7 (4 October) and dpd 10 (7 October) on days off.
    assert late.get("caught_up") == [{"day": "2026-09-30", "step": "overdue-sms"}]
    assert "missed" not in late


def test_a_weekend_outage_catches_up_friday_and_skips_the_weekend() -> None:
    """dpd 10 fell on Friday 11 September; the job was down Friday to Monday."""
    policy = cn_policy(business_days=True)
    rig = cn_rig(policy)
    skipped = [
        offset
        for offset in range(30)
        if FIRST + timedelta(days=offset)
        in {date(2026, 9, 11), date(2026, 9, 12), date(2026, 9, 13), date(2026, 9, 14)}
    ]
    rig.ticks(days(FIRST, 22, 10, skip=skipped))
    late = next(
        data
        for data, entry in zip(rig.reviews(), rig.entries("L-1", "review"), strict=True)
        if entry.at == shanghai(date(2026, 9, 15), 10)
    )
    named = {item["day"] for item in late.get("missed", []) + late.get("caught_up", [])}
    assert "2026-09-12" not in named
    assert "2026-09-13" not in named
    # dpd 10 (Friday) is owed once; dpd 14 acts at this review itself.
    assert rig.missed()[("2026-09-11", "overdue-sms")] == "the step acts at this review"
    assert outbox_key("L-1", date(2026, 9, 15), "overdue-sms") in rig.sent_keys()


def test_every_three_days_a_late_review_keeps_to_the_cadence() -> None:
    """A review two days late catches 3 September up, acts for no day of its own and leaves
    the case on its days: 6, 9, 12… September, not 5, 8, 11…"""
    policy = cn_policy(every_days=3)
    on_time = cn_rig(policy)
    on_time.ticks(days(FIRST, 30, 10))
    late = cn_rig(policy)
    late.ticks(days(FIRST, 30, 10, skip=(9, 10)))  # 3 and 4 September
    # The cadence reviews on 25, 28, 31 August, 3, 6, 9… September.
    assert all(day in {"2026-09-03"} for day, _ in late.caught_up()), late.caught_up()
    assert set(late.sent_keys()) - set(on_time.sent_keys()) == set()


@pytest.mark.parametrize(
    ("every_days", "skip"),
    [(2, (9,)), (2, (9, 10, 11)), (3, (10,)), (3, (9, 10, 11, 12)), (4, (8, 9)), (5, (11,))],
)
@pytest.mark.parametrize("business_days", [False, True])
def test_an_outage_moves_no_review_day_of_the_cadence(
    every_days: int, skip: tuple[int, ...], business_days: bool
) -> None:
    """Whatever days the job was down, the reviews after it fall on the cadence's days (with
    weekends skipped or not) and send nothing the cadence would not have sent."""
    policy = cn_policy(every_days=every_days, business_days=business_days)
    on_time, late = cn_rig(policy), cn_rig(policy)
    on_time.ticks(days(FIRST, 30, 10))
    late.ticks(days(FIRST, 30, 10, skip=skip))
    resumed = max(skip) + 1
    after = {entry.at for entry in on_time.entries("L-1", "review")}
    for entry in late.entries("L-1", "review"):
        if entry.at >= shanghai(FIRST + timedelta(days=resumed + 1), 0):
            assert entry.at in after, entry.at
    assert set(late.sent_keys()) - set(on_time.sent_keys()) == set()


# == 3. Days a review could not send on =======================================================


def test_a_daily_job_at_2300_journals_every_denied_message_as_missed() -> None:
    rig = cn_rig()
    rig.ticks(days(FIRST, 30, 23))
    keys = step_keys(rig.policy, "L-1", FIRST, 30)
    denied = {keys[entry.data["key"]] for entry in rig.entries("L-1", "contact_denied")}
    sent = {keys[key] for key in rig.sent_keys() if key in keys}
    assert denied, "every SMS is judged at 23:00, out of the CN hours"
    assert sorted(denied - sent - set(rig.missed())) == []


# == 4. A crash between a catch-up's intent and its result ====================================


class Killed(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs."""


class Provider(RecordingChannel):
    """An SMS provider whose host dies once, before or after the provider accepts a key."""

    def __init__(self) -> None:
        super().__init__(channels=frozenset({"sms"}))
        self.die: tuple[str, str] | None = None  # (key, "before" | "after")

    def send(self, message: OutboundMessage) -> SendResult:
        if self.die is not None and self.die[0] == message.key:
            when, self.die = self.die[1], None
            if when == "after":
                super().send(message)
            raise Killed
        return super().send(message)


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_crash_during_a_catch_up_send_sends_it_once_under_the_missed_days_key(
    tmp_path: Path, when: str, backend: str
) -> None:
    provider = Provider()
    path = tmp_path / "a.db"
    store: Any = MemoryStore() if backend == "memory" else SQLiteStore(path)
    rig = cn_rig(store=store, sms=provider)
    rig.ticks(days(FIRST, 10, 10))  # to 3 September
    missed_key = outbox_key("L-1", date(2026, 9, 4), "overdue-sms")
    provider.die = (missed_key, when)
    late = shanghai(date(2026, 9, 5), 10)
    with pytest.raises(Killed):
        rig.tick(late)
    if backend == "sqlite":  # a new process on the same file
        store.close()
        rig.engine = Engine(
            policy=rig.policy, channels=[provider], clock=rig.clock, store=SQLiteStore(path)
        )
    # The process comes back and runs the same tick again, then the days after it.
    rig.ticks([late, *days(date(2026, 9, 6), 5, 10)])
    assert [message.key for message in provider.sent].count(missed_key) == 1
    assert rig.sent_keys().count(missed_key) == 1
    # Asked again under its own key only (a duplicate when the first reached it).
    tries = [message.key for message in provider.attempts].count(missed_key)
    assert tries == (2 if when == "after" else 1)
    intents = [entry.data["key"] for entry in rig.entries("L-1", "outbox_intent")]
    assert len(intents) == len(set(intents))
    listed = [day for day, step in rig.caught_up() if step == "overdue-sms"]
    assert listed.count("2026-09-04") == 1
    assert rig.engine.verify() == []
    assert rig.engine.replay("L-1") == rig.engine.case("L-1")


# == 5. Two workers on one late portfolio =====================================================

PORTFOLIO = 24


class SlowProvider(RecordingChannel):
    """A provider that takes a moment to answer, so the workers' batches interleave."""

    def send(self, message: OutboundMessage) -> SendResult:
        clock_time.sleep(0.01)
        return super().send(message)


def late_portfolio(store_for: Any) -> tuple[Any, RecordingChannel, SettableClock]:
    """*PORTFOLIO* CN cases due on 1 September, reviewed on time to the 3rd, then a
    day-long outage; returns a maker of engines (workers) on the store, with one SMS
    provider and one clock."""
    provider = SlowProvider(channels=frozenset({"sms"}))
    start = shanghai(date(2026, 9, 1), 10)
    clock = SettableClock(start)
    policy = cn_policy()

    def worker() -> Engine:
        return Engine(policy=policy, channels=[provider], clock=clock, store=store_for())

    first = worker()
    first.open_cases([cn_case(f"L-{n:03}") for n in range(PORTFOLIO)], at=start)
    for day in (1, 2, 3):
        moment = shanghai(date(2026, 9, day), 10)
        clock.set(moment)
        assert first.tick(moment).errors == []
    return worker, provider, clock


def race(worker: Any, moment: datetime, count: int = 2) -> list[Any]:
    """*count* workers, each in a thread with an engine of its own, tick at *moment*."""
    reports: list[Any] = [None] * count
    errors: list[BaseException] = []
    ready = threading.Barrier(count)

    def work(index: int) -> None:
        try:
            engine = worker()
            ready.wait()
            reports[index] = engine.tick(moment, owner=f"w{index}", batch=3)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    return reports


def check_each_catch_up_acts_once(worker: Any, provider: RecordingChannel) -> None:
    reports = race(worker, shanghai(date(2026, 9, 5), 10))
    assert all(report.errors == [] for report in reports)
    assert all(report.reviewed > 0 for report in reports), "both workers took cases"
    assert sum(report.reviewed for report in reports) == PORTFOLIO
    assert sum(report.caught_up for report in reports) == PORTFOLIO  # dpd 3, 4 September
    keys = [message.key for message in provider.sent]
    assert len(keys) == len(set(keys))
    engine = worker()
    for n in range(PORTFOLIO):
        case_id = f"L-{n:03}"
        missed_key = outbox_key(case_id, date(2026, 9, 4), "overdue-sms")
        assert keys.count(missed_key) == 1
        history = engine.history(case_id)
        assert [e.data.get("key") for e in history if e.kind == "outbox_intent"].count(
            missed_key
        ) == 1
        listed = [
            item for e in history if e.kind == "review" for item in e.data.get("caught_up", [])
        ]
        assert listed == [{"day": "2026-09-04", "step": "overdue-sms"}]
    assert engine.verify() == []


def test_two_workers_on_an_sqlite_file_catch_each_case_up_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    worker, provider, _ = late_portfolio(lambda: SQLiteStore(path))
    check_each_catch_up_acts_once(worker, provider)


def test_two_workers_on_postgresql_catch_each_case_up_once() -> None:
    from _postgres import fresh_schema, postgres_url

    url = postgres_url()
    from arrears.stores.postgres import PostgresStore

    with fresh_schema(url) as schema:
        stores: list[Any] = []

        def store_for() -> Any:
            stores.append(PostgresStore(url, schema=schema))
            return stores[-1]

        try:
            worker, provider, _ = late_portfolio(store_for)
            check_each_catch_up_acts_once(worker, provider)
        finally:
            for store in stores:
                store.close()


# == 6. What happened to the case during the outage ===========================================


def outage_then(action: Any, policy: Policy | None = None) -> Rig:
    """On time to 3 September, *action* on the 4th (no tick that day), the late tick on the 5th."""
    rig = cn_rig(policy)
    rig.ticks(days(FIRST, 10, 10))
    rig.clock.set(shanghai(date(2026, 9, 4), 15))
    action(rig.engine)
    report = rig.tick(shanghai(date(2026, 9, 5), 10))
    assert report.errors == []
    return rig


def test_a_case_paid_off_during_an_outage_has_nothing_caught_up() -> None:
    rig = outage_then(
        lambda engine: engine.record_payment(
            "L-1", Money(Decimal("3000.00"), "CNY"), at=shanghai(date(2026, 9, 4), 15)
        )
    )
    assert rig.engine.case("L-1").stage == "resolved"
    assert rig.caught_up() == []
    after = [
        e
        for e in rig.entries("L-1", "outbox_intent", "interaction", "contact_denied")
        if e.at >= shanghai(date(2026, 9, 4), 15)
    ]
    assert after == []
    assert rig.engine.store.next_review("L-1") is None


def test_a_case_cured_during_an_outage_gets_no_reminder_of_arrears_it_no_longer_owes() -> None:
    """Paid up on the 4th with more not yet due: the case is open again (pre_due)."""

    def cure(engine: Engine) -> None:
        engine.record_payment(
            "L-1", Money(Decimal("3000.00"), "CNY"), at=shanghai(date(2026, 9, 4), 15)
        )

    rig = cn_rig()
    rig.engine = Engine(policy=rig.policy, channels=[rig.sms], clock=rig.clock, store=MemoryStore())
    rig.engine.open_case(
        cn_case() | {"balance": {"currency": "CNY", "principal": "3000.00", "not_due": "9000.00"}},
        at=shanghai(FIRST, 0, 5),
    )
    rig.ticks(days(FIRST, 10, 10))
    rig.clock.set(shanghai(date(2026, 9, 4), 15))
    cure(rig.engine)
    assert rig.engine.case("L-1").stage == "pre_due"
    rig.ticks([shanghai(date(2026, 9, 5), 10)])
    sent_after = [
        m for m in rig.sms.sent if m.key == outbox_key("L-1", date(2026, 9, 4), "overdue-sms")
    ]
    assert sent_after == []
    assert rig.caught_up() == []
    # Judged on the case as it stands (nothing past due), the step no longer applied
    # on the 4th: not caught up, and not listed as missed either.
    assert ("2026-09-04", "overdue-sms") not in rig.missed()


def test_a_partly_paid_case_is_caught_up_with_what_it_owes_now() -> None:
    rig = outage_then(
        lambda engine: engine.record_payment(
            "L-1", Money(Decimal("1000.00"), "CNY"), at=shanghai(date(2026, 9, 4), 15)
        )
    )
    missed_key = outbox_key("L-1", date(2026, 9, 4), "overdue-sms")
    (message,) = [m for m in rig.sms.sent if m.key == missed_key]
    owed = rig.engine.facts("L-1", shanghai(date(2026, 9, 5), 10))
    assert "2,000" in message.text or "2000" in message.text, message.text
    assert "3,000" not in message.text, message.text
    assert "3000" not in message.text, message.text
    assert owed.case.stage == "sms"


def test_a_case_put_on_hold_during_an_outage_has_its_catch_up_denied_not_sent(
    tmp_path: Path,
) -> None:
    """A written dispute under Regulation F (12 CFR 1006.34(c)(4), 15 USC 1692g(b))."""
    policy = us_policy(
        tmp_path,
        "10:00",
        steps="""  - id: dpd-7-sms
    stages: [notified]
    when: {dpd_in: [7]}
    send: {channel: sms, template: overdue, deadline_days: 7}
""",
    )
    start = datetime(2026, 3, 2, 10, 30, tzinfo=NEW_YORK)
    rig = Rig(policy, start, [us_case(due=date(2026, 2, 27))])  # dpd 7 on 6 March
    rig.ticks([datetime(2026, 3, day, 10, 30, tzinfo=NEW_YORK) for day in range(2, 5)])
    rig.engine.add_hold(
        "C-1",
        "dispute",
        "debt disputed in writing",
        written=True,
        at=datetime(2026, 3, 5, 9, tzinfo=NEW_YORK),
    )
    before = len(rig.sms.sent)
    report = rig.tick(datetime(2026, 3, 7, 10, 30, tzinfo=NEW_YORK))  # 5 and 6 March missed
    assert report.errors == []
    assert report.sent == 0
    assert len(rig.sms.sent) == before
    missed_key = outbox_key("C-1", date(2026, 3, 6), "dpd-7-sms")
    denials = {e.data["key"]: e for e in rig.entries("C-1", "contact_denied")}
    assert [reason["rule"] for reason in denials[missed_key].data["reasons"]] == ["US-DISPUTE"]
    assert outbox_key("C-1", date(2026, 3, 7), "daily-sms") in denials
    assert not any(
        e.data.get("key") in denials for e in rig.entries("C-1", "interaction", "outbox_intent")
    )


# == 7. When the stores say a case was due ====================================================


@pytest.fixture(params=["sqlite", "postgres"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """Two store objects (two processes) on one database."""
    if request.param == "sqlite":
        mine, theirs = SQLiteStore(tmp_path / "one.db"), SQLiteStore(tmp_path / "one.db")
        yield mine, theirs
        mine.close()
        theirs.close()
        return
    from _postgres import fresh_schema, postgres_url

    url = postgres_url()
    from arrears.stores.postgres import PostgresStore

    with fresh_schema(url) as schema:
        first, second = PostgresStore(url, schema=schema), PostgresStore(url, schema=schema)
        try:
            yield first, second
        finally:
            first.close()
            second.close()


def opened_on(store: Any) -> Rig:
    rig = Rig(cn_policy(), shanghai(date(2026, 9, 1), 10), [cn_case()], store=store)
    rig.ticks([shanghai(date(2026, 9, 1), 10)])
    return rig


def test_next_review_after_a_rolled_back_schedule_is_the_stored_one(
    two_stores: tuple[Any, Any],
) -> None:
    store, _ = two_stores
    opened_on(store)
    due = shanghai(date(2026, 9, 2), 9, 30)
    assert store.due(due) == ["L-1"]
    seen: list[datetime | None] = []

    def fail_after_scheduling() -> None:
        with store.transaction():
            store.schedule("L-1", due + timedelta(days=30))
            seen.append(store.next_review("L-1"))
            raise RuntimeError("the host's transaction fails")

    with pytest.raises(RuntimeError):
        fail_after_scheduling()
    assert seen == [due + timedelta(days=30)]
    assert store.next_review("L-1") == due


def test_next_review_after_the_tick_is_the_review_entrys(two_stores: tuple[Any, Any]) -> None:
    store, _ = two_stores
    rig = opened_on(store)
    moment = shanghai(date(2026, 9, 3), 10)  # a day late: 2 September is caught up
    report = rig.tick(moment)
    assert report.errors == []
    assert report.reviewed == 1
    entry = rig.entries("L-1", "review")[-1]
    assert entry.at == moment
    assert store.next_review("L-1") == datetime.fromisoformat(entry.data["next_review_at"])
    assert store.next_review("L-1") == shanghai(date(2026, 9, 4), 9, 30)


def test_next_review_is_not_stale_after_another_process_rescheduled_the_case(
    two_stores: tuple[Any, Any],
) -> None:
    mine, theirs = two_stores
    opened_on(mine)
    moment = shanghai(date(2026, 9, 2), 10)
    assert mine.due(moment) == ["L-1"]  # e.g. a monitor counting what is due
    other = Engine(
        policy=cn_policy(),
        channels=[RecordingChannel(channels=frozenset({"sms"}))],
        clock=SettableClock(moment),
        store=theirs,
    )
    assert other.tick(moment, owner="other").reviewed == 1
    assert theirs.next_review("L-1") == shanghai(date(2026, 9, 3), 9, 30)
    assert mine.next_review("L-1") == shanghai(date(2026, 9, 3), 9, 30)


# == 8. Replay, verify and export after catch-ups =============================================


def test_replay_verify_and_a_verified_export_after_catch_ups(tmp_path: Path) -> None:
    path = tmp_path / "late.db"
    rig = cn_rig(store=SQLiteStore(path))
    rig.ticks(days(FIRST, 30, 10, skip=(9, 10, 14, 15, 16, 17)))
    assert rig.caught_up(), "the outages were caught up"
    assert rig.missed(), "and some steps journaled as missed"
    assert rig.engine.verify() == []
    assert rig.engine.replay("L-1") == rig.engine.case("L-1")
    out = tmp_path / "journal.jsonl"
    with out.open("w", encoding="utf-8") as stream:
        written = rig.engine.export_journal(stream)
    assert written == len(rig.engine.history("L-1"))
    result = CliRunner().invoke(main, ["journal", "verify-export", str(out)])
    assert result.exit_code == 0, result.output
    # An edited missed list is caught.
    text = out.read_text(encoding="utf-8")
    assert '"missed"' in text
    out.write_text(text.replace('"acts once, for', '"acted once, for', 1), encoding="utf-8")
    tampered = CliRunner().invoke(main, ["journal", "verify-export", str(out)])
    assert tampered.exit_code != 0


# == 9. A very late review ===================================================================


def test_a_review_sixty_days_late_is_bounded_and_lists_one_span() -> None:
    """Twenty cases sixty days late against twenty on-time twins, in the same run."""
    start = shanghai(date(2026, 7, 1), 10)
    count = 20
    late_ids = [f"L-{n:02}" for n in range(count)]
    twin_ids = [f"T-{n:02}" for n in range(count)]
    rig = Rig(
        cn_policy(), start, [cn_case(case_id, due="2026-07-20") for case_id in late_ids + twin_ids]
    )
    rig.ticks([start])
    late = shanghai(date(2026, 9, 1), 10)
    store = rig.engine.store
    with store.transaction():  # the twins were reviewed yesterday: due at today's 09:30
        for case_id in twin_ids:
            store.schedule(case_id, shanghai(date(2026, 9, 1), 9, 30))
    rig.clock.set(late)
    timings: dict[str, float] = {}
    for name in ("late", "twins"):  # due() takes the earliest first: the late ones
        began = clock_time.perf_counter()
        report = rig.engine.tick(late, limit=count)
        timings[name] = clock_time.perf_counter() - began
        assert report.errors == []
        assert report.reviewed == count
    for case_id in late_ids:
        entry = rig.reviews(case_id)[-1]
        spans = [item for item in entry.get("missed", []) if "from" in item]
        assert spans == [
            {
                "from": "2026-07-02",
                "to": (late.date() - timedelta(days=CATCH_UP_DAYS + 1)).isoformat(),
                "reason": f"no review; more than {CATCH_UP_DAYS} review days before this one",
            }
        ]
        named = [
            item for item in entry.get("missed", []) + entry.get("caught_up", []) if "day" in item
        ]
        assert all(
            date.fromisoformat(item["day"]) >= late.date() - timedelta(days=CATCH_UP_DAYS)
            for item in named
        )
    for case_id in twin_ids:
        assert all("missed" not in data for data in rig.reviews(case_id))
    ratio = timings["late"] / timings["twins"]
    print(f"sixty days late / on time, per review: {ratio:.2f}")
    assert ratio < 20, timings


# == 10. The command line ====================================================================

TASK_POLICY = """
id: tasks-only
version: "1"
packs: [CN]
review: {time: "09:30", every_days: 1}
steps:
  - id: call
    stages: [notified]
    when: {dpd_in: [3]}
    task: {kind: call, queue: phone-team, priority: 3, due_hours: 8}
escalations:
  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}
"""


def test_the_command_line_tick_counts_what_it_caught_up_and_missed(tmp_path: Path) -> None:
    policy_path = tmp_path / "tasks.yaml"
    policy_path.write_text(TASK_POLICY, encoding="utf-8")
    db = tmp_path / "cli.db"
    store = SQLiteStore(db)
    engine = Engine(
        policy=load_policy(policy_path),
        store=store,
        clock=SettableClock(shanghai(date(2026, 9, 1), 10)),
    )
    engine.open_case(cn_case(), at=shanghai(date(2026, 9, 1), 10))
    store.close()
    runner = CliRunner()

    def tick(moment: datetime) -> str:
        result = runner.invoke(
            main,
            ["tick", "--db", str(db), "--policy", str(policy_path), "--now", moment.isoformat()],
        )
        assert result.exit_code == 0, result.output
        return result.output

    tick(shanghai(date(2026, 9, 1), 10))
    tick(shanghai(date(2026, 9, 2), 10))
    # Down on 3 and 4 September: dpd 3 (the call) was on the 4th.
    line = tick(shanghai(date(2026, 9, 5), 10))
    assert "1 caught up, 0 missed" in line, line
    line = tick(shanghai(date(2026, 9, 5), 11))  # run again: nothing due, nothing twice
    assert "0 reviewed" in line, line
    assert "0 caught up, 0 missed" in line, line
    # A second outage, longer than the window: one span.
    line = tick(shanghai(date(2026, 9, 20), 10))
    assert "1 missed" in line, line


# == 11. Python rules ========================================================================


def test_a_rules_trigger_fires_before_the_steps_of_the_stage_it_leaves() -> None:
    """The rule moves a large case from sms to phone at once: no SMS of the sms stage."""
    policy = cn_policy()

    @policy.rule("large-to-phone")
    def large_to_phone(facts: Facts) -> list[str] | None:
        return ["escalate"] if facts.case.stage == "sms" and facts["dpd"] >= 3 else None

    rig = cn_rig(policy)
    rig.ticks(days(FIRST, 11, 10))  # to 4 September, dpd 3
    case = rig.engine.case("L-1")
    assert case.stage == "phone"
    assert outbox_key("L-1", date(2026, 9, 4), "overdue-sms") not in rig.sent_keys()
    fired = [e.data for e in rig.entries("L-1", "transition")]
    assert fired[-1]["reason"] == "policy rule large-to-phone"
    assert [t.step for t in case.tasks] == ["phone-call"]


def test_a_rules_message_on_a_day_without_a_review_is_caught_up_or_journaled() -> None:
    policy = cn_policy()

    @policy.rule("dpd-3-text")
    def dpd_3_text(facts: Facts) -> list[SendAction] | None:
        if facts["dpd"] == 3:
            return [SendAction(channel="sms", template="overdue", deadline_days=3)]
        return None

    key = outbox_key("L-1", date(2026, 9, 4), "dpd-3-text")
    on_time = cn_rig(policy)
    on_time.ticks(days(FIRST, 12, 10))
    assert key in on_time.sent_keys()  # ticked that day, the rule's text goes out
    rig = cn_rig(policy)
    rig.ticks(days(FIRST, 12, 10, skip=(10,)))  # no tick on 4 September (dpd 3)
    listed = {item.get("step") for data in rig.reviews() for item in data.get("missed", [])}
    assert key in rig.sent_keys() or "dpd-3-text" in listed


def test_a_late_review_that_fails_once_still_catches_up_when_retried() -> None:
    policy = cn_policy()
    failing = {"once": False}

    @policy.rule("flaky-source")
    def flaky_source(facts: Facts) -> None:
        if failing["once"]:
            failing["once"] = False
            raise RuntimeError("the rule's data source timed out")

    rig = cn_rig(policy)
    rig.ticks(days(FIRST, 10, 10))  # to 3 September; no tick on the 4th (dpd 3)
    failing["once"] = True
    assert len(rig.tick(shanghai(date(2026, 9, 5), 10)).errors) == 1
    rig.ticks([shanghai(date(2026, 9, 5), 11)])  # the retry an hour later
    key = outbox_key("L-1", date(2026, 9, 4), "overdue-sms")
    assert key in rig.sent_keys() or ("2026-09-04", "overdue-sms") in rig.missed()


def test_business_days_a_retry_on_saturday_acts_on_no_day_off(tmp_path: Path) -> None:
    policy = us_policy(tmp_path, "10:00", review=", business_days: true")
    rig = Rig(
        policy, datetime(2026, 3, 2, 10, 30, tzinfo=NEW_YORK), [us_case(due=date(2026, 2, 27))]
    )
    rig.ticks([datetime(2026, 3, day, 10, 30, tzinfo=NEW_YORK) for day in range(2, 6)])
    rig.engine.add_hold(
        "C-1",
        "dispute",
        "debt disputed in writing",
        written=True,
        until=datetime(2026, 3, 7, 12, tzinfo=NEW_YORK),
        at=datetime(2026, 3, 6, 9, tzinfo=NEW_YORK),
    )
    begin = datetime(2026, 3, 6, 10, tzinfo=NEW_YORK).astimezone(UTC)
    rig.ticks(begin + timedelta(hours=hour) for hour in range(24 * 4))  # hourly, Friday to Monday
    keys = set(rig.sent_keys("C-1"))
    weekend = {outbox_key("C-1", date(2026, 3, day), "daily-sms") for day in (7, 8)}
    friday = outbox_key("C-1", date(2026, 3, 6), "daily-sms")
    assert not keys & weekend
    assert friday in keys or ("2026-03-06", "daily-sms") in rig.missed("C-1")
