"""The daily tick: due cases only, escalations, compliance on every message, the outbox, tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, MemoryStore, Money, SettableClock
from arrears.channels import OutboundMessage, RecordingChannel, SendResult
from arrears.policy import Policy, TaskAction, load_policy
from arrears.tasks import Agent

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"

POLICY = """\
id: tick-test
version: "3"
packs: [CN]
review: {time: "09:30"}
steps:
  - id: due-soon
    stages: [pre_due]
    when: {days_to_due: 3}
    send: {channel: sms}
  - id: overdue-sms
    stages: [notified, sms]
    when: {dpd_in: [1, 3]}
    send: {channel: sms}
  - id: call
    stages: [phone]
    task: {kind: call, queue: phone-team, priority: 2, due_hours: 8}
escalations:
  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}
  - {trigger: escalate, from: [notified], when: {dpd_at_least: 3}}
  - {trigger: escalate, from: [sms], when: {dpd_at_least: 5}}
"""


def shanghai(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def case_data(case_id: str = "L-1", due: str = "2026-09-01", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "m", "channel": "call", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": "3000.00"},
        "due_date": due,
    }
    data.update(extra)
    return data


Build = Callable[..., tuple[Engine, RecordingChannel, SettableClock]]


@pytest.fixture
def build(tmp_path: Path) -> Build:
    def make(
        text: str = POLICY, *, start: datetime | None = None, adapter: Any = None
    ) -> tuple[Engine, RecordingChannel, SettableClock]:
        path = tmp_path / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        policy = load_policy(path)
        sms = adapter or RecordingChannel(channels=frozenset({"sms", "email", "letter"}))
        clock = SettableClock(start or shanghai(2026, 8, 28, 9, 30))
        agents = [Agent(id="agent-1", queues=frozenset({"phone-team"}))]
        engine = Engine(policy=policy, channels=[sms], clock=clock, agents=agents)
        return engine, sms, clock

    return make


def run_days(engine: Engine, clock: SettableClock, days: int) -> list[Any]:
    reports = []
    for _ in range(days):
        reports.append(engine.tick(clock.now()))
        clock.advance(days=1)
    return reports


class TestTick:
    def test_a_case_walks_the_ladder_and_messages_go_out_on_their_days(self, build: Build) -> None:
        engine, sms, clock = build()
        engine.open_case(case_data())
        reports = run_days(engine, clock, 10)  # 28 Aug .. 6 Sep
        kinds = [entry.kind for entry in engine.history("L-1")]
        # A review is journaled on the day the case was opened and on the days it
        # acted; a day with nothing to do leaves the journal alone and only moves
        # the case on the schedule.
        acted = [report for report in reports if report.sent or report.fired or report.tasks]
        assert len(acted) == 4
        assert kinds.count("review") == 1 + len(acted)
        assert [report.reviewed for report in reports] == [1] * 10
        assert [message.key for message in sms.sent] == [
            entry.data["key"] for entry in engine.history("L-1") if entry.kind == "outbox_intent"
        ]
        sent_on = [
            entry.at.date().isoformat()
            for entry in engine.history("L-1")
            if entry.kind == "interaction"
        ]
        # 3 days before the due date, then dpd 1 (notified) and dpd 3 (sms).
        assert sent_on == ["2026-08-29", "2026-09-02", "2026-09-04"]
        stages = [
            (entry.at.date().isoformat(), entry.data["dest"])
            for entry in engine.history("L-1")
            if entry.kind == "transition"
        ]
        assert stages == [
            ("2026-09-02", "notified"),
            ("2026-09-04", "sms"),
            ("2026-09-06", "phone"),
        ]
        assert engine.verify() == []
        assert engine.replay("L-1") == engine.case("L-1")

    def test_only_due_cases_are_touched(self, build: Build) -> None:
        engine, _, clock = build()
        engine.open_case(case_data("L-1"))
        engine.open_case(case_data("L-2"))
        engine.store.schedule("L-2", clock.now() + timedelta(days=3))
        report = engine.tick(clock.now())
        assert report.reviewed == 1
        assert [e.kind for e in engine.history("L-2")] == ["opened"]

    def test_a_second_tick_at_the_same_moment_does_nothing(self, build: Build) -> None:
        engine, sms, clock = build(start=shanghai(2026, 9, 2, 9, 30))
        engine.open_case(case_data())
        first = engine.tick(clock.now())
        length = len(engine.history("L-1"))
        second = engine.tick(clock.now())
        assert (first.reviewed, first.sent, second.reviewed, second.sent) == (1, 1, 0, 0)
        assert len(engine.history("L-1")) == length
        assert len(sms.sent) == 1

    def test_a_review_that_acts_records_the_policy_and_the_next_review(self, build: Build) -> None:
        engine, _, clock = build(start=shanghai(2026, 8, 29, 9, 30))
        engine.open_case(case_data())
        assert engine.tick(clock.now()).sent == 1
        review = engine.history("L-1")[-1]
        assert review.kind == "review"
        assert review.data["policy"] == ["tick-test", "3"]
        assert review.data["steps"] == ["due-soon"]
        assert review.data["next_review_at"] == "2026-08-30T09:30:00+08:00"
        assert engine.store.next_review("L-1") == shanghai(2026, 8, 30, 9, 30)

    def test_a_review_with_nothing_to_do_only_moves_the_schedule(self, build: Build) -> None:
        """Opened the evening before, reviewed on a day without a step: nothing journaled."""
        engine, _, clock = build()
        engine.open_case(case_data(), at=shanghai(2026, 8, 27, 18, 0))
        before = engine.history("L-1")
        assert engine.tick(clock.now()).reviewed == 1
        assert engine.history("L-1") == before
        assert engine.store.next_review("L-1") == shanghai(2026, 8, 29, 9, 30)
        assert engine.tick(clock.now()).reviewed == 0  # not due again today

    def test_the_first_review_on_the_day_of_opening_is_journaled(self, build: Build) -> None:
        """What the policy made of a new case (segment, policy version) is kept, even idle."""
        engine, _, clock = build()
        engine.open_case(case_data())
        engine.tick(clock.now())
        kinds = [entry.kind for entry in engine.history("L-1")]
        assert kinds == ["opened", "review"]
        assert engine.history("L-1")[-1].data["steps"] == []

    @pytest.mark.parametrize(
        ("opened", "journaled"),
        [
            (
                datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK),
                True,
            ),  # midnight, the day clocks go forward
            (datetime(2026, 3, 7, 23, 59, 59, tzinfo=NEW_YORK), False),
            (datetime(2026, 3, 8, 5, 0, tzinfo=UTC), True),  # the same midnight, given in UTC
            (datetime(2026, 3, 8, 4, 59, 59, tzinfo=UTC), False),
            (datetime(2026, 3, 8, 9, 29, tzinfo=NEW_YORK), True),
        ],
    )
    def test_the_debtors_day_decides_whether_an_idle_review_is_journaled(
        self, build: Build, opened: datetime, journaled: bool
    ) -> None:
        """Opened on the day of the review, in the debtor's calendar, even across a DST change."""
        engine, _, _ = build()
        data = case_data(due="2026-04-30")
        data["debtor"]["timezone"] = "America/New_York"
        engine.open_case(data, at=opened)
        assert engine.tick(datetime(2026, 3, 8, 9, 30, tzinfo=NEW_YORK)).reviewed == 1
        kinds = [entry.kind for entry in engine.history("L-1")]
        assert kinds == (["opened", "review"] if journaled else ["opened"])
        assert engine.store.next_review("L-1") == datetime(2026, 3, 9, 9, 30, tzinfo=NEW_YORK)

    @pytest.mark.parametrize(
        ("opened", "journaled"),
        [
            (datetime(2026, 3, 8, 1, 0, tzinfo=timezone(timedelta(hours=5))), True),
            (datetime(2026, 3, 7, 23, 0, tzinfo=timezone(timedelta(hours=-5))), False),
        ],
    )
    def test_without_a_zone_each_moment_keeps_its_own_calendar(
        self, build: Build, opened: datetime, journaled: bool
    ) -> None:
        """No zone known: a moment's date is read in its own offset, as Case.local_date does.

        01:00 on 8 March at +05:00 is 20:00 UTC on the 7th, yet the 8th on its own
        calendar, the tick's day; 23:00 on the 7th at -05:00 is 04:00 UTC on the 8th,
        yet the 7th.
        """
        engine, _, _ = build()
        data = case_data(due="2026-04-30")
        del data["debtor"]["timezone"]
        engine.open_case(data, at=opened)
        assert engine.tick(datetime(2026, 3, 8, 9, 30, tzinfo=UTC)).reviewed == 1
        kinds = [entry.kind for entry in engine.history("L-1")]
        assert kinds == (["opened", "review"] if journaled else ["opened"])

    def test_a_denied_message_is_rescheduled_to_when_it_is_allowed(self, build: Build) -> None:
        """Reviewed at 23:00: CN-HOURS denies the SMS and the case is looked at again at 08:00."""
        engine, sms, _ = build(POLICY.replace('"09:30"', '"23:00"'))
        engine.open_case(case_data(), at=shanghai(2026, 9, 2, 7, 0))
        report = engine.tick(shanghai(2026, 9, 2, 23, 0))
        assert (report.sent, report.denied, dict(report.blocked_by)) == (0, 1, {"CN-HOURS": 1})
        assert engine.store.next_review("L-1") == shanghai(2026, 9, 3, 8, 0)
        denial = next(e for e in engine.history("L-1") if e.kind == "contact_denied")
        assert denial.data["reasons"][0]["rule"] == "CN-HOURS"
        engine.tick(shanghai(2026, 9, 3, 8, 0))
        assert sms.sent == []  # dpd is 2 now: the step no longer applies, nothing is sent late

    def test_tasks_are_opened_once_assigned_and_expire_when_the_stage_changes(
        self, build: Build
    ) -> None:
        engine, _, clock = build(start=shanghai(2026, 9, 6, 9, 30))
        engine.open_case(case_data(stage="phone"))
        run_days(engine, clock, 3)
        tasks = engine.tasks(queue="phone-team")
        assert len(tasks) == 1
        assert (tasks[0].kind, tasks[0].assignee, tasks[0].priority) == ("call", "agent-1", 2)
        assert tasks[0].due_at == shanghai(2026, 9, 6, 17, 30)
        engine.complete_task("L-1", tasks[0].id, "no_answer", at=clock.now())
        assert engine.tasks() == []
        engine.tick(clock.now())
        assert len(engine.tasks()) == 1
        engine.record_promise(
            "L-1", Money("3000.00", "CNY"), clock.now().date() + timedelta(days=5)
        )
        assert engine.case("L-1").stage == "promise"
        assert engine.tasks() == []  # the call belonged to the phone stage
        assert engine.replay("L-1") == engine.case("L-1")

    def test_a_payment_that_clears_the_arrears_cures_and_the_review_goes_on(
        self, build: Build
    ) -> None:
        engine, sms, clock = build()
        engine.open_case(case_data())
        run_days(engine, clock, 7)
        engine.record_payment("L-1", Money("3000.00", "CNY"), at=clock.now())
        assert engine.case("L-1").stage == "resolved"
        before = len(sms.sent)
        run_days(engine, clock, 3)
        assert len(sms.sent) == before
        assert engine.store.next_review("L-1") is None


class TestOutbox:
    def test_a_retryable_failure_is_sent_again_with_the_same_key(self, build: Build) -> None:
        sms = RecordingChannel(channels=frozenset({"sms"}))
        sms.fail_next(1, retryable=True)
        engine, _, clock = build(start=shanghai(2026, 9, 2, 9, 30), adapter=sms)
        engine.open_case(case_data())
        first = engine.tick(clock.now())
        assert (first.sent, first.failed) == (0, 1)
        retry_at = engine.store.next_review("L-1")
        assert retry_at == shanghai(2026, 9, 2, 10, 30)
        second = engine.tick(retry_at)
        assert second.sent == 1
        intents = [e for e in engine.history("L-1") if e.kind == "outbox_intent"]
        assert len(intents) == 1
        assert [message.key for message in sms.sent] == [intents[0].data["key"]]

    def test_a_crash_after_delivery_is_recorded_once_when_run_again(self, build: Build) -> None:
        """The adapter delivers, then the process dies before the result is journaled."""

        class Crashing(RecordingChannel):
            crash = True

            def send(self, message: OutboundMessage) -> SendResult:
                result = super().send(message)
                if self.crash:
                    self.crash = False
                    raise KeyboardInterrupt  # stands in for the process dying here
                return result

        sms = Crashing(channels=frozenset({"sms"}))
        engine, _, clock = build(start=shanghai(2026, 9, 2, 9, 30), adapter=sms)
        engine.open_case(case_data())
        with pytest.raises(KeyboardInterrupt):
            engine.tick(clock.now())
        assert [e.kind for e in engine.history("L-1")][-1] == "outbox_intent"
        report = engine.tick(clock.now())
        assert report.sent == 1
        assert len(sms.sent) == 1  # the provider saw the key again and dropped it
        results = [e for e in engine.history("L-1") if e.kind == "interaction"]
        assert len(results) == 1
        assert engine.verify() == []


class TestPolicyFeatures:
    def test_variants_are_assigned_once_and_choose_the_steps(self, build: Build) -> None:
        text = POLICY + (
            "variants:\n"
            "  - {id: champion, share: 50}\n"
            "  - id: challenger\n"
            "    share: 50\n"
            "    steps:\n"
            "      - {id: email-instead, stages: [notified], send: {channel: email}}\n"
        )
        engine, sms, clock = build(text, start=shanghai(2026, 9, 2, 9, 30))
        contacts = [
            {"id": "m", "channel": "call", "address": "+8613812345678"},
            {"id": "mail", "channel": "email", "address": "debtor@example.com"},
        ]
        for number in range(8):
            engine.open_case(case_data(f"L-{number}", contacts=contacts))
        engine.tick(clock.now())
        policy = engine.policy
        assert policy is not None
        for number in range(8):
            case = engine.case(f"L-{number}")
            assert case.variant == policy.variant_of(case.id)
            assigned = [e for e in engine.history(case.id) if e.kind == "variant_assigned"]
            assert len(assigned) == 1
        channels = {message.case_id: message.channel for message in sms.sent}
        for number in range(8):
            expected = "email" if engine.case(f"L-{number}").variant == "challenger" else "sms"
            assert channels[f"L-{number}"] == expected

    def test_python_rules_add_actions(self, tmp_path: Path) -> None:
        path = tmp_path / "p.yaml"
        path.write_text(POLICY, encoding="utf-8")
        policy = load_policy(path)

        @policy.rule("large-balance-call")
        def large(facts: Any) -> list[TaskAction] | None:
            if facts["arrears"] >= 2000 and facts["stage"] == "notified":
                return [TaskAction(kind="call", queue="senior", priority=1)]
            return None

        clock = SettableClock(shanghai(2026, 9, 2, 9, 30))
        engine = Engine(
            policy=policy, channels=[RecordingChannel(channels=frozenset({"sms"}))], clock=clock
        )
        engine.open_case(case_data())
        engine.tick(clock.now())
        assert [(t.step, t.queue, t.assignee) for t in engine.tasks()] == [
            ("large-balance-call", "senior", None)
        ]

    def test_a_failing_rule_reports_its_type_not_the_case_data_it_carries(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "p.yaml"
        path.write_text(POLICY, encoding="utf-8")
        policy = load_policy(path)

        @policy.rule("careless")
        def careless(facts: Any) -> None:
            raise ValueError(f"no segment for {facts.case.debtor.name}")

        clock = SettableClock(shanghai(2026, 9, 2, 9, 30))
        engine = Engine(
            policy=policy, channels=[RecordingChannel(channels=frozenset({"sms"}))], clock=clock
        )
        engine.open_case(
            case_data(debtor={"id": "D-1", "timezone": "Asia/Shanghai", "name": "Wang Fang"})
        )
        report = engine.tick(clock.now())
        assert report.errors == [
            ("L-1", "ValueError (its message is withheld: it may carry case data)")
        ]
        assert "Wang" not in str(report.to_json())

    def test_inbound_results_fire_what_the_policy_says(self, build: Build) -> None:
        engine, _, clock = build(POLICY + "inbound: {wrong_party: escalate}\n")
        engine.open_case(case_data(stage="notified"))
        engine.record_interaction("L-1", "call", "wrong_party", contact="m", at=clock.now())
        assert engine.case("L-1").stage == "sms"

    def test_explain_says_what_would_happen_and_why(self, build: Build) -> None:
        engine, _, _ = build(POLICY.replace('"09:30"', '"23:00"'))
        engine.open_case(case_data(stage="notified"), at=shanghai(2026, 9, 2, 7, 0))
        text = str(engine.explain("L-1", shanghai(2026, 9, 2, 23, 0)))
        assert "dpd=1" in text
        assert "escalation escalate: condition does not hold" in text
        assert "step overdue-sms: send sms - denied: CN-HOURS" in text
        assert "next allowed 2026-09-03T08:00:00+08:00" in text
        assert len(engine.history("L-1")) == 1  # nothing recorded

    def test_the_cn_example_policy_runs_sixty_days(self) -> None:
        policy = load_policy(EXAMPLES / "cn_consumer_loan.yaml")
        sms = RecordingChannel(channels=frozenset({"sms"}))
        clock = SettableClock(shanghai(2026, 8, 20, 9, 30))
        engine = Engine(policy=policy, channels=[sms], clock=clock)
        engine.open_case(
            case_data(
                debtor={
                    "id": "D",
                    "timezone": "Asia/Shanghai",
                    "locale": "zh-CN",
                    "payday": "FREQ=MONTHLY;BYMONTHDAY=25",
                }
            )
        )
        run_days(engine, clock, 60)
        assert engine.case("L-1").stage == "field_visit"
        assert sms.sent
        assert all(message.text.startswith("【安心消费金融】") for message in sms.sent)
        assert all("回T退订" in message.text for message in sms.sent)
        assert engine.verify() == []
        assert engine.replay("L-1") == engine.case("L-1")


def test_a_policy_is_required_to_tick() -> None:
    with pytest.raises(Exception, match="policy"):
        Engine().tick()


def test_policy_from_python() -> None:
    policy = Policy.model_validate({"id": "p", "version": "1", "steps": []})
    assert Engine(policy=policy).workflow.definition.name == "p"


def test_reviews_skip_weekends_and_holidays(build: Build) -> None:
    """Friday 25 Sep 2026 → Monday 28 Sep; Wednesday 30 Sep → 8 Oct, after Golden Week."""
    text = POLICY.replace(
        'review: {time: "09:30"}', 'review: {time: "09:30", business_days: true, holidays: CN}'
    )
    engine, _, _ = build(text, start=shanghai(2026, 9, 25, 9, 30))
    engine.open_case(case_data(stage="phone"))
    engine.tick(shanghai(2026, 9, 25, 9, 30))
    assert engine.store.next_review("L-1") == shanghai(2026, 9, 28, 9, 30)
    engine.tick(shanghai(2026, 9, 30, 9, 30))
    next_review = engine.store.next_review("L-1")
    assert next_review is not None
    assert next_review.date().isoformat() == "2026-10-08"


def test_no_usable_address_means_nothing_is_sent(build: Build) -> None:
    """The debtor opted out of SMS at their only number: the step finds no address."""
    engine, sms, clock = build(start=shanghai(2026, 9, 2, 9, 30))
    engine.open_case(case_data(), at=shanghai(2026, 9, 2, 9, 0))
    engine.record_opt_out("L-1", "sms", contact="m", at=shanghai(2026, 9, 2, 9, 10))
    report = engine.tick(clock.now())
    assert (report.sent, report.unreachable) == (0, 1)
    assert sms.sent == []


def test_inbound_reactions_to_holds_payments_and_replies(build: Build) -> None:
    """A reply escalates, a payment fires nothing it cannot, a dispute closes per the policy."""
    text = POLICY + "inbound: {reply: escalate, dispute: close, payment: escalate}\n"
    engine, _, clock = build(text)
    engine.open_case(case_data(stage="notified"))
    engine.record_interaction("L-1", "sms", "reply", contact="m", at=clock.now())
    assert engine.case("L-1").stage == "sms"
    engine.record_payment("L-1", Money("10.00", "CNY"), at=clock.now())
    assert engine.case("L-1").stage == "phone"
    engine.add_hold("L-1", "dispute", "written dispute", at=clock.now())
    # close needs a supervisor: the refusal is journaled and the case stays.
    assert engine.case("L-1").stage == "phone"
    assert engine.history("L-1")[-1].kind == "refusal"


def test_open_tasks_are_kept_without_reading_every_case(tmp_path: Path) -> None:
    """After the first look, listing and assigning tasks reads no other case from the store."""

    class Counting(MemoryStore):
        reads: ClassVar[list[str]] = []

        def get(self, case_id: str) -> Any:
            self.reads.append(case_id)
            return super().get(case_id)

    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    store = Counting()
    clock = SettableClock(shanghai(2026, 9, 6, 9, 30))
    agents = [Agent(id="agent-1", queues=frozenset({"phone-team"}))]
    engine = Engine(
        policy=load_policy(path),
        store=store,
        clock=clock,
        agents=agents,
        channels=[RecordingChannel(channels={"sms"})],
    )
    for number in range(6):
        engine.open_case(case_data(f"L-{number}", stage="phone"))
    engine.store.schedule("L-5", clock.now() + timedelta(days=3))  # not due today
    assert engine.tasks() == []
    store.reads.clear()
    engine.tick(clock.now())
    assert [task.assignee for task in engine.tasks()] == ["agent-1"] * 5
    assert "L-5" not in store.reads  # neither listing nor assigning read it
    store.reads.clear()
    engine.complete_task("L-2", engine.case("L-2").tasks[0].id, "done", at=clock.now())
    assert len(engine.tasks(queue="phone-team")) == 4
    assert set(store.reads) == {"L-2"}


class TestCollector:
    """The library leaves Python's garbage collector as the host runs it during a tick."""

    @staticmethod
    def cycle_making_engine(tmp_path: Path, cases: int) -> tuple[Engine, list[int]]:
        """An engine whose Python rule leaves one garbage cycle per review, counted when freed."""
        path = tmp_path / "p.yaml"
        path.write_text(POLICY, encoding="utf-8")
        policy = load_policy(path)
        freed: list[int] = []

        class Knot:
            def __init__(self) -> None:
                self.me = self

            def __del__(self) -> None:
                freed.append(1)

        @policy.rule("knot")
        def knot(facts: Any) -> None:
            Knot()  # unreachable at once, but only the collector can free a cycle

        engine = Engine(
            policy=policy,
            channels=[RecordingChannel(channels=frozenset({"sms"}))],
            clock=SettableClock(shanghai(2026, 8, 28, 9, 30)),
        )
        for number in range(cases):
            engine.open_case(case_data(f"L-{number}"), at=shanghai(2026, 8, 28, 9, 0))
        return engine, freed

    @staticmethod
    def collector_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
        """The names of the calls made to change the collector from now on (each still made)."""
        import gc

        calls: list[str] = []
        for name in ("collect", "disable", "enable", "freeze", "unfreeze", "set_threshold"):
            original = getattr(gc, name)

            def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
                calls.append(_name)
                return _original(*args)

            monkeypatch.setattr(gc, name, counted)
        return calls

    def test_the_hosts_collector_runs_during_a_tick_and_frees_its_cycles(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import gc

        import arrears.tick

        engine, freed = self.cycle_making_engine(tmp_path, 30)
        gc.collect()
        default = gc.get_threshold()
        gc.set_threshold(50, 2, 2)  # the host's own choice: young passes every few reviews
        thresholds = gc.get_threshold()
        frozen = gc.get_freeze_count()
        seen_during: list[int] = []
        original = arrears.tick._run_batch

        def watched(run: Any, case_ids: Any) -> None:
            seen_during.append(len(freed))
            assert gc.isenabled()  # never paused
            original(run, case_ids)

        monkeypatch.setattr(arrears.tick, "_run_batch", watched)
        calls = self.collector_calls(monkeypatch)
        try:
            assert engine.tick(shanghai(2026, 8, 28, 9, 30), batch=5).reviewed == 30
            after = gc.get_threshold()
        finally:
            monkeypatch.undo()
            gc.set_threshold(*default)
        assert calls == []  # no collection, pause, freeze or new threshold
        assert gc.isenabled()
        assert after == thresholds
        assert gc.get_freeze_count() == frozen
        # The host's collector, running as it runs, freed cycles made in the
        # first batches while later ones ran.
        assert seen_during[-1] > 0
        gc.collect()
        assert len(freed) == 30

    def test_a_host_that_turned_the_collector_off_keeps_it_off(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import gc

        engine, freed = self.cycle_making_engine(tmp_path, 3)
        gc.disable()
        try:
            calls = self.collector_calls(monkeypatch)
            assert engine.tick(shanghai(2026, 8, 28, 9, 30)).reviewed == 3
            assert calls == []
            assert not gc.isenabled()
            assert freed == []  # the library collected nothing behind the host's back
        finally:
            monkeypatch.undo()
            gc.enable()
        gc.collect()
        assert len(freed) == 3


def test_a_tasks_due_time_is_written_in_the_zone_it_was_given(build: Build) -> None:
    """The same instant given in two zones: each task's journaled due time keeps its own offset."""
    engine, _, _ = build()
    for case_id in ("L-1", "L-2"):
        engine.open_case(case_data(case_id), at=shanghai(2026, 8, 27, 18, 0))
    action = TaskAction(kind="call", queue="phone-team", priority=2, due_hours=8)
    moment = shanghai(2026, 8, 28, 9, 30)
    engine.open_task("L-1", action, key="k-1", step="call", at=moment)
    engine.open_task("L-2", action, key="k-2", step="call", at=moment.astimezone(ZoneInfo("UTC")))
    texts = [engine.history(case_id)[-1].data["task"]["due_at"] for case_id in ("L-1", "L-2")]
    assert texts == ["2026-08-28T17:30:00+08:00", "2026-08-28T09:30:00+00:00"]
    assert engine.case("L-1").tasks[0].due_at == engine.case("L-2").tasks[0].due_at
