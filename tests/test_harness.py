"""PolicyHarness: a policy under test in a few lines, as a lender would write it."""

from __future__ import annotations

from pathlib import Path

from arrears.testing import PolicyHarness

POLICY = Path(__file__).resolve().parent.parent / "examples" / "policies" / "cn_consumer_loan.yaml"


def test_reminder_three_days_before_due_then_overdue_sms() -> None:
    harness = PolicyHarness(POLICY, start="2026-08-28T09:30:00+08:00")
    harness.open(id="L-1", due_date="2026-09-01", principal="3000.00")
    harness.run(days=8)
    assert harness.sent("L-1") == [
        ("2026-08-29", "sms", "reminder"),
        ("2026-09-02", "sms", "overdue"),
        ("2026-09-04", "sms", "overdue"),
    ]
    assert harness.stage("L-1") == "sms"
    assert "逾期1天" in harness.texts("L-1")[1]


def test_calls_go_to_the_senior_team_for_large_balances() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-16T09:30:00+08:00")
    harness.open(id="L-2", due_date="2026-09-01", principal="25000.00", stage="phone")
    harness.run(days=1)
    [task] = harness.tasks("L-2")
    assert (task.queue, task.assignee, task.priority) == ("senior-team", "agent-senior-team", 1)


def test_late_evening_sms_is_denied_and_named() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-02T22:30:00+08:00")
    harness.open(id="L-3", due_date="2026-09-01", principal="900.00", stage="notified")
    harness.tick()
    assert harness.denied("L-3") == [("2026-09-02", ["CN-HOURS"])]
