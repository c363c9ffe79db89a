"""The tick's day: whatever the cadence, each case's steps act on their days or are journaled.

The CN example policy reviews at 09:30 Beijing time and sends between 08:00
and 22:00.  A tick run once a day at 00:30, 09:30 or 18:00, every hour, or at
09:30 with a two-day outage must, over thirty days:

- review each case on every day (a job before the review time does the
  review of the day before, late: it never skips a day);
- never send outside the contact hours;
- for every step the hourly run acted on, act on it once (under the key of
  its day) or journal it as missed with the reason — never drop it silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, SettableClock
from arrears.channels import RecordingChannel
from arrears.planner import next_regular_review, outbox_key, review_day
from arrears.policy import Policy, load_policy
from arrears.tasks import Agent

SHANGHAI = ZoneInfo("Asia/Shanghai")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"
FIRST = date(2026, 8, 25)
DAYS = 30
HOURS = (time(8, 0), time(22, 0))  # CN-HOURS


def shanghai(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def cn_policy() -> Policy:
    return load_policy(EXAMPLES / "cn_consumer_loan.yaml")


def run(moments: Iterable[datetime]) -> Engine:
    """The CN example over one case due on 1 September, ticked at *moments*."""
    policy = cn_policy()
    sms = RecordingChannel(channels=frozenset({"sms"}))
    start = shanghai(FIRST, 0, 5)
    clock = SettableClock(start)
    agents = [Agent(id=f"a-{queue}", queues=frozenset({queue})) for queue in ("phone-team",)]
    engine = Engine(policy=policy, channels=[sms], clock=clock, agents=agents)
    engine.open_case(
        {
            "id": "L-1",
            "debtor": {
                "id": "D-1",
                "timezone": "Asia/Shanghai",
                "locale": "zh-CN",
                "payday": "FREQ=MONTHLY;BYMONTHDAY=25",
            },
            "contacts": [{"id": "m", "channel": "call", "address": "+8613812345678"}],
            "balance": {"currency": "CNY", "principal": "3000.00", "not_due": "0.00"},
            "due_date": "2026-09-01",
        },
        at=start,
    )
    for moment in moments:
        clock.set(moment)
        report = engine.tick(moment)
        assert report.errors == [], (moment, report.errors)
    return engine


def daily(hour: int, minute: int = 0, *, skip: Iterable[int] = ()) -> list[datetime]:
    skipped = set(skip)
    return [
        shanghai(FIRST + timedelta(days=offset), hour, minute)
        for offset in range(DAYS)
        if offset not in skipped
    ]


def hourly() -> list[datetime]:
    return [
        shanghai(FIRST + timedelta(days=offset), hour)
        for offset in range(DAYS)
        for hour in range(24)
    ]


def step_ids(policy: Policy) -> list[str]:
    return [step.id for step in policy.steps]


def keys_of(policy: Policy) -> dict[str, tuple[str, str]]:
    """Every possible action key of L-1 in the run, to its (day, step)."""
    return {
        outbox_key("L-1", FIRST + timedelta(days=offset), step): (
            (FIRST + timedelta(days=offset)).isoformat(),
            step,
        )
        for offset in range(-1, DAYS + 1)
        for step in step_ids(policy)
    }


def acted(engine: Engine) -> set[tuple[str, str]]:
    """(day, step) of every key the journal holds an intent, a result or a denial for."""
    keys = keys_of(cn_policy())
    found: set[tuple[str, str]] = set()
    for entry in engine.history("L-1"):
        key = entry.data.get("key")
        if key in keys and entry.kind in {
            "outbox_intent",
            "interaction",
            "task_opened",
            "contact_denied",
        }:
            found.add(keys[key])
    return found


def missed(engine: Engine) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for entry in engine.history("L-1"):
        if entry.kind == "review":
            for item in entry.data.get("missed", []):
                if "step" in item:
                    found[item["day"], item["step"]] = item["reason"]
    return found


def sent_moments(engine: Engine) -> list[datetime]:
    return [
        entry.at.astimezone(SHANGHAI)
        for entry in engine.history("L-1")
        if entry.kind == "interaction" and entry.data.get("channel") == "sms"
    ]


@pytest.fixture(scope="module")
def reference() -> set[tuple[str, str]]:
    """What an hourly job does: every step acts on its day, in hours."""
    engine = run(hourly())
    assert engine.verify() == []
    return acted(engine)


CADENCES = {
    "daily-00:30": daily(0, 30),
    "daily-09:30": daily(9, 30),
    "daily-18:00": daily(18),
    "daily-09:30-with-a-two-day-outage": daily(9, 30, skip=(9, 10)),
}


@pytest.mark.parametrize("name", list(CADENCES))
def test_every_step_acts_once_or_is_journaled_missed(
    name: str, reference: set[tuple[str, str]]
) -> None:
    engine = run(CADENCES[name])
    done, gone = acted(engine), missed(engine)
    assert engine.verify() == []
    assert engine.replay("L-1") == engine.case("L-1")
    unaccounted = sorted(pair for pair in reference if pair not in done and pair not in gone)
    assert unaccounted == []
    for moment in sent_moments(engine):
        assert HOURS[0] <= moment.time() < HOURS[1], moment
    # No step sends twice for one day.
    intents = [
        entry.data["key"] for entry in engine.history("L-1") if entry.kind == "outbox_intent"
    ]
    assert len(intents) == len(set(intents))


def test_the_hourly_job_reviews_each_day_at_its_review_time_and_sends_in_hours(
    reference: set[tuple[str, str]],
) -> None:
    engine = run(hourly())
    moments = sent_moments(engine)
    assert moments, "the hourly job sends the policy's reminders"
    assert all(moment.time() == time(10, 0) for moment in moments)  # the first tick after 09:30
    assert missed(engine) == {}
    assert ("2026-09-02", "overdue-sms") in reference  # dpd 1


def test_a_job_at_0030_reviews_every_day_not_every_other_day() -> None:
    """The trial's finding: at 00:30, the case was reviewed on 08-30, 09-01, 09-03…"""
    engine = run(daily(0, 30))
    policy = cn_policy()
    case = engine.case("L-1")
    moment = shanghai(date(2026, 9, 2), 0, 30)
    assert review_day(policy, case, moment) == date(2026, 9, 1)
    assert next_regular_review(policy, case, moment) == shanghai(date(2026, 9, 2), 9, 30)
    # Each day's overdue SMS was judged at 00:30 (outside the hours) and, with no
    # review in hours that day, journaled as missed the next day with the reason.
    gone = missed(engine)
    assert gone[("2026-09-02", "overdue-sms")].startswith("denied until 2026-09-02T08:00:00")
    assert sent_moments(engine) == []


def test_a_two_day_outage_is_caught_up_at_the_next_review() -> None:
    """No tick on 3 and 4 September: the dpd-3 reminder of 4 September goes out on the 5th."""
    outage = daily(9, 30, skip=(9, 10))  # 3 and 4 September
    engine = run(outage)
    reviews = [
        entry.data
        for entry in engine.history("L-1")
        if entry.kind == "review" and entry.at.astimezone(SHANGHAI).date() == date(2026, 9, 5)
    ]
    assert reviews, "the late review is journaled"
    caught = [item for data in reviews for item in data.get("caught_up", [])]
    assert {"day": "2026-09-04", "step": "overdue-sms"} in caught
    key = outbox_key("L-1", date(2026, 9, 4), "overdue-sms")
    sent = [
        entry
        for entry in engine.history("L-1")
        if entry.kind == "interaction" and entry.data.get("key") == key
    ]
    assert len(sent) == 1
    assert sent[0].at.astimezone(SHANGHAI) == shanghai(date(2026, 9, 5), 9, 30)


def test_an_outage_longer_than_the_catch_up_window_is_journaled_as_a_span() -> None:
    """No tick from 2 to 13 September: the review of the 14th catches up the last seven days."""
    engine = run(daily(9, 30, skip=range(8, 20)))
    late = [
        entry.data
        for entry in engine.history("L-1")
        if entry.kind == "review" and entry.at == shanghai(date(2026, 9, 14), 9, 30)
    ]
    assert len(late) == 1
    assert late[0]["caught_up"] == [{"day": "2026-09-11", "step": "overdue-sms"}]  # dpd 10
    assert late[0]["missed"] == [
        {
            "from": "2026-09-02",
            "to": "2026-09-06",
            "reason": "no review; more than 7 review days before this one",
        },
        {"day": "2026-09-08", "step": "overdue-sms", "reason": "acts once, for 2026-09-11"},
    ]
    # The case climbed the ladder at the late review, as the days past due say.
    assert engine.case("L-1").stage == "phone"
