"""The planner: what the policy would do with a case, the same for the tick and `explain`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, SettableClock
from arrears.channels import RecordingChannel
from arrears.planner import ActionPlan, Planner, next_regular_review, outbox_key
from arrears.policy import Facts, SendAction, TaskAction, load_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")

POLICY = """\
id: plan-test
version: "1"
packs: [CN]
review: {time: "09:30", every_days: 2}
steps:
  - id: overdue-sms
    stages: [notified, sms]
    when: {dpd_at_least: 1}
    send: {channel: sms}
  - id: call
    stages: [notified]
    when: {dpd_at_least: 2}
    task: {kind: call, queue: phone-team}
  - id: late-call
    stages: [phone]
    task: {kind: call, queue: phone-team}
escalations:
  - {trigger: escalate, when: {dpd_at_least: 10}}
  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}
  - {trigger: escalate, from: [notified], when: {dpd_at_least: 3}}
  - {trigger: escalate, from: [sms], when: {dpd_at_least: 5}}
"""


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def build(tmp_path: Path, text: str = POLICY) -> Engine:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    sms = RecordingChannel(channels=frozenset({"sms"}))
    return Engine(
        policy=load_policy(path), channels=[sms], clock=SettableClock(shanghai(2026, 9, 1))
    )


def open_case(engine: Engine, stage: str, case_id: str = "L-1") -> None:
    engine.open_case(
        {
            "id": case_id,
            "stage": stage,
            "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "contacts": [{"id": "m", "channel": "sms", "address": "+8613812345678"}],
            "balance": {"currency": "CNY", "principal": "3000.00"},
            "due_date": "2026-09-01",
        },
        at=shanghai(2026, 9, 1, 8, 0),
    )


def planner_for(engine: Engine) -> Planner:
    assert engine.policy is not None
    return Planner(engine.policy, engine.workflow)


class TestEscalations:
    def test_those_of_the_stage_in_the_policys_order(self, tmp_path: Path) -> None:
        engine = build(tmp_path)
        planner = planner_for(engine)
        policy = engine.policy
        assert policy is not None
        triggers = {
            stage: [(e.trigger, e.from_) for e, _ in planner.escalations(stage)]
            for stage in ("pre_due", "notified", "sms", "phone", "field_visit")
        }
        assert triggers == {
            "pre_due": [("notify", ("pre_due",))],
            # with no ``from``: every stage ``escalate`` leaves
            "notified": [("escalate", None), ("escalate", ("notified",))],
            "sms": [("escalate", None), ("escalate", ("sms",))],
            "phone": [("escalate", None)],
            "field_visit": [],
        }
        assert planner.applies(policy.escalations[2], "notified")
        assert not planner.applies(policy.escalations[2], "sms")  # not in its ``from``
        assert not planner.applies(policy.escalations[1], "notified")  # notify leaves pre_due

    def test_only_those_whose_conditions_hold(self, tmp_path: Path) -> None:
        engine = build(tmp_path)
        open_case(engine, "notified")
        planner = planner_for(engine)
        at_dpd_4 = engine.facts("L-1", shanghai(2026, 9, 5, 10, 0))
        assert at_dpd_4["dpd"] == 4
        assert [e.from_ for e in planner.holding(at_dpd_4)] == [("notified",)]
        at_dpd_12 = engine.facts("L-1", shanghai(2026, 9, 13, 10, 0))
        assert [e.from_ for e in planner.holding(at_dpd_12)] == [None, ("notified",)]
        at_dpd_2 = engine.facts("L-1", shanghai(2026, 9, 3, 10, 0))
        assert list(planner.holding(at_dpd_2)) == []

    def test_conditions_are_judged_one_at_a_time(self, tmp_path: Path) -> None:
        """The tick fires the first that goes: later conditions are not worked out before."""
        engine = build(tmp_path)
        open_case(engine, "notified")
        planner = planner_for(engine)
        judged: list[int] = []

        def test(number: int, result: bool) -> Any:
            def judge(facts: Facts) -> bool:
                judged.append(number)
                return result

            return judge

        first, second = (e for e, _ in planner.escalations("notified"))
        planner._escalations["notified"] = ((first, test(1, True)), (second, test(2, True)))
        holding = planner.holding(engine.facts("L-1", shanghai(2026, 9, 5, 10, 0)))
        assert next(holding) is first
        assert judged == [1]
        assert next(holding) is second
        assert judged == [1, 2]


class TestActions:
    def test_the_steps_that_act_with_their_keys(self, tmp_path: Path) -> None:
        engine = build(tmp_path)
        open_case(engine, "notified")
        planner = planner_for(engine)
        facts = engine.facts("L-1", shanghai(2026, 9, 3, 10, 0))  # dpd 2
        actions = planner.actions(facts)
        assert [(a.source, type(a.action)) for a in actions] == [
            ("overdue-sms", SendAction),
            ("call", TaskAction),
        ]
        day = shanghai(2026, 9, 3).date()
        assert [a.key for a in actions] == [
            outbox_key("L-1", day, "overdue-sms"),
            outbox_key("L-1", day, "call"),
        ]
        assert len({a.key for a in actions}) == 2
        assert len(actions[0].key) == 32

    def test_the_key_is_of_the_day_where_the_debtor_lives(self, tmp_path: Path) -> None:
        engine = build(tmp_path)
        open_case(engine, "notified")
        planner = planner_for(engine)
        # 17:00 UTC on 2 September is 01:00 on 3 September in Shanghai.
        late = datetime(2026, 9, 2, 17, 0, tzinfo=ZoneInfo("UTC"))
        early = shanghai(2026, 9, 3, 23, 0)
        assert planner.actions(engine.facts("L-1", late))[0].key == outbox_key(
            "L-1", shanghai(2026, 9, 3).date(), "overdue-sms"
        )
        assert (
            planner.actions(engine.facts("L-1", late))[0]
            == (planner.actions(engine.facts("L-1", early))[0])
        )

    def test_python_rules_come_after_the_steps_numbered(self, tmp_path: Path) -> None:
        engine = build(tmp_path)
        assert engine.policy is not None

        @engine.policy.rule("vip")
        def vip(facts: Facts) -> list[Any]:
            return [TaskAction(kind="call", queue="vip"), "close"] if facts["dpd"] >= 2 else []

        open_case(engine, "notified")
        facts = engine.facts("L-1", shanghai(2026, 9, 3, 10, 0))
        actions = planner_for(engine).actions(facts)
        day = shanghai(2026, 9, 3).date()
        # The trigger is an escalation, judged before the steps: not among the actions.
        assert actions[2:] == [
            ActionPlan("vip", TaskAction(kind="call", queue="vip"), outbox_key("L-1", day, "vip")),
        ]
        plan = planner_for(engine).plan(facts)
        assert plan.rule_escalations == (
            ActionPlan("vip", "close", outbox_key("L-1", day, "vip", 1)),
        )
        assert plan.actions == actions


def test_a_plan_is_everything_at_once(tmp_path: Path) -> None:
    engine = build(tmp_path)
    open_case(engine, "notified")
    planner = planner_for(engine)
    assert engine.policy is not None
    at = shanghai(2026, 9, 5, 10, 0)  # a Saturday: dpd 4
    plan = planner.plan(engine.facts("L-1", at))
    assert [e.from_ for e in plan.escalations] == [("notified",)]
    assert [a.source for a in plan.actions] == ["overdue-sms", "call"]
    assert plan.next_review_at == shanghai(2026, 9, 7, 9, 30)  # every two days, at 09:30
    assert plan.next_review_at == next_regular_review(engine.policy, engine.case("L-1"), at)
    assert len(engine.history("L-1")) == 1  # planning records nothing


@pytest.mark.parametrize(
    ("stage", "day"),
    [("pre_due", 3), ("notified", 2), ("notified", 3), ("notified", 5), ("sms", 7), ("phone", 12)],
)
def test_the_tick_does_what_explain_says(tmp_path: Path, stage: str, day: int) -> None:
    """Explain and the tick read one plan: the escalation fired and the keys used are the same."""
    engine = build(tmp_path)
    open_case(engine, stage)
    at = shanghai(2026, 9, day, 10, 0)
    explained = engine.explain("L-1", at)
    would_fire = [check.trigger for check in explained.escalations if check.would_fire]
    planner = planner_for(engine)
    plan = planner.plan(engine.facts("L-1", at))
    assert [check.trigger for check in explained.escalations if check.holds] == [
        e.trigger for e in plan.escalations
    ]
    report = engine.tick(at)
    assert report.errors == []
    fired = [e.data["trigger"] for e in engine.history("L-1") if e.kind == "transition"]
    if would_fire:
        assert fired[:1] == would_fire[:1]  # then the next stage is planned afresh
    else:
        assert fired == []
        assert plan.actions  # something to compare
        assert [step.source for step in explained.steps] == [a.source for a in plan.actions]
        keys = {
            e.data["key"]
            for e in engine.history("L-1")
            if e.kind in ("outbox_intent", "task_opened", "contact_denied")
        }
        assert keys == {a.key for a in plan.actions}


def test_only_a_consent_for_the_medium_gives_back_an_opted_out_address() -> None:
    """A callback consent after an SMS opt-out leaves the opt-out; a medium consent lifts it."""
    from arrears.planner import contact_for

    clock = SettableClock(datetime(2026, 9, 2, 9, 30, tzinfo=SHANGHAI))
    engine = Engine(clock=clock)
    engine.open_case(
        {
            "id": "L-1",
            "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
            "contacts": [
                {"id": "a", "channel": "sms", "address": "+8613800000001"},
                {"id": "b", "channel": "sms", "address": "+8613800000002"},
            ],
            "balance": {"currency": "CNY", "principal": "100.00"},
            "due_date": "2026-09-01",
        }
    )
    action = SendAction(channel="sms", template="t")
    engine.record_opt_out("L-1", "sms", contact="a")
    clock.advance(minutes=5)
    engine.record_consent("L-1", "sms", contact="a", covers=["hours", "calls"])
    point = contact_for(engine.case("L-1"), action, engine.contact_history("L-1"))
    assert point is not None
    assert point.id == "b"
    clock.advance(minutes=5)
    engine.record_consent("L-1", "sms", contact="a", covers=["medium"])
    point = contact_for(engine.case("L-1"), action, engine.contact_history("L-1"))
    assert point is not None
    assert point.id == "a"
