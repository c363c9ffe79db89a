"""A case is not opened in a stage that runs on an agreement it does not carry.

A case in ``promise`` is reviewed on its promise (the reminder names its
date, the promise kept or broken moves it on), one in ``repayment_plan`` on
its plan.  Opened there without one, every review of it failed and it never
moved: opening refuses it, naming the stage (and, on import, the row and
the column), unless the case carries the open promise or active plan.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears import Actor, Balance, Case, Debtor, Engine, InvalidInput, Migration, SettableClock

START = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)
POLICY = files("arrears") / "examples" / "policies" / "cn_consumer_loan.yaml"


def _case(stage: str, **more: Any) -> Case:
    return Case(
        id="LN-1",
        debtor=Debtor(id="D-1", timezone=ZoneInfo("Asia/Shanghai")),
        balance=Balance(currency="CNY", principal="1000.00"),
        due_date=date(2026, 9, 1),
        stage=stage,
        **more,
    )


def _promise(status: str = "open") -> dict[str, Any]:
    return {
        "id": "P-1",
        "made_at": "2026-09-09T10:00:00+08:00",
        "instalments": [{"due": "2026-09-20", "amount": {"amount": "1000.00", "currency": "CNY"}}],
        "status": status,
    }


def test_the_promise_stage_without_a_promise_is_refused() -> None:
    engine = Engine(clock=SettableClock(START))
    with pytest.raises(InvalidInput) as caught:
        engine.open_case(_case("promise"))
    assert caught.value.field == "stage"
    assert caught.value.value == "promise"
    assert "an open promise" in str(caught.value)
    assert "LN-1" not in engine.store


def test_the_promise_stage_with_a_kept_promise_is_refused() -> None:
    engine = Engine(clock=SettableClock(START))
    with pytest.raises(InvalidInput, match="an open promise"):
        engine.open_case(_case("promise", promise=_promise("kept")))


def test_the_promise_stage_with_an_open_promise_opens() -> None:
    engine = Engine(clock=SettableClock(START))
    opened = engine.open_case(_case("promise", promise=_promise()))
    assert opened.stage == "promise"
    assert opened.promise is not None
    assert opened.promise.is_open


def test_a_migration_into_a_plan_without_a_plan_is_refused() -> None:
    engine = Engine(clock=SettableClock(START))
    supervisor = Actor(id="sup-1", roles=frozenset({"agent", "supervisor"}))
    with pytest.raises(InvalidInput, match="an active repayment plan"):
        engine.open_case(
            _case("repayment_plan"),
            actor=supervisor,
            migration=Migration(reason="moved in", source_system="legacy"),
        )
    assert "LN-1" not in engine.store


def test_the_harness_refuses_it_at_the_door() -> None:
    from arrears.testing import PolicyHarness

    harness = PolicyHarness(str(POLICY), start="2026-09-05T09:30:00+08:00")
    with pytest.raises(InvalidInput, match="'promise' needs an open promise"):
        harness.open(
            id="L-1",
            due_date="2026-09-01",
            principal="3000.00",
            stage="promise",
            debtor={"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        )


@pytest.mark.parametrize("stage", ["pre_due", "notified", "sms", "phone", "field_visit"])
def test_every_other_opening_stage_opens_without_an_agreement(stage: str) -> None:
    engine = Engine(clock=SettableClock(START))
    assert engine.open_case(_case(stage)).stage == stage


def test_a_case_opened_with_its_promise_is_reviewed_and_moves_on() -> None:
    """What the stage needs carried in, the reviews run: a reminder, then the broken promise."""
    from arrears.testing import PolicyHarness

    harness = PolicyHarness(str(POLICY), start="2026-09-05T09:30:00+08:00")
    promise = {
        **_promise(),
        "made_at": "2026-09-04T10:00:00+08:00",
        "instalments": [{"due": "2026-09-08", "amount": {"amount": "3000.00", "currency": "CNY"}}],
    }
    harness.engine.open_case(
        {
            "id": "L-1",
            "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "contacts": [{"id": "m", "channel": "sms", "address": "+8613800000009"}],
            "balance": {"currency": "CNY", "principal": "3000.00"},
            "due_date": "2026-09-01",
            "stage": "promise",
            "promise": promise,
        },
        at=harness.clock.now(),
    )
    reports = harness.run(days=10)
    assert [error for report in reports for error in report.errors] == []
    assert len(harness.sent("L-1")) == 1
    assert harness.stage("L-1") == "phone"
