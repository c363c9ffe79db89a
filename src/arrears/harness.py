"""`PolicyHarness`: a lender's policy under test in a few lines of pytest.

    def test_reminder_three_days_before_due():
        harness = PolicyHarness("policies/cn.yaml", start="2026-08-28T09:30:00+08:00")
        harness.open(id="L-1", due_date="2026-09-01", principal="3000.00")
        harness.run(days=2)
        assert harness.sent("L-1") == [("2026-08-29", "sms", "reminder")]

It builds an engine from the policy exactly as production would (its packs,
workflow, templates), with a recording channel for every automated medium,
one agent per task queue the policy names, and a settable clock, then lets a
test open cases, move time day by day and read what happened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .case import Case
from .channels import RecordingChannel
from .clock import SettableClock, require_aware
from .engine import Engine
from .policy import Policy, TaskAction, load_policy
from .tasks import Agent, Task
from .tick import TickReport

__all__ = ["PolicyHarness"]

_AUTOMATED = frozenset({"sms", "email", "letter", "voicemail"})


class PolicyHarness:
    """A policy, an engine, fake channels and a clock, for tests.

    Args:
        policy: A `Policy`, or the path of a policy file.
        start: The first moment (aware datetime or ISO text with an offset).

    Attributes:
        engine: The engine (everything `Engine` offers is there).
        clock: The settable clock.
        channel: The recording channel every automated message goes through.
        reports: The report of every tick run so far.
    """

    def __init__(self, policy: Policy | str | os.PathLike[str], *, start: datetime | str) -> None:
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        self.clock = SettableClock(require_aware(moment, "start"))
        self.channel = RecordingChannel(channels=_AUTOMATED)
        queues = sorted(
            {
                step.task.queue
                for step in (
                    *self.policy.steps,
                    *(s for v in self.policy.variants for s in (v.steps or ())),
                )
                if isinstance(step.task, TaskAction)
            }
        )
        agents = [Agent(id=f"agent-{queue}", queues=frozenset({queue})) for queue in queues]
        self.engine = Engine(
            policy=self.policy, channels=[self.channel], clock=self.clock, agents=agents
        )
        self.reports: list[TickReport] = []

    def open(
        self,
        *,
        id: str,
        due_date: str,
        principal: str,
        currency: str | None = None,
        timezone: str | None = None,
        locale: str | None = None,
        phone: str = "+8613812345678",
        **fields: Any,
    ) -> Case:
        """Open a case with sensible defaults for the policy's first pack.

        Any other `Case` field may be given (``contacts``, ``stage``, ``debtor``…).
        """
        chinese = "CN" in self.policy.packs or not self.policy.packs
        data: dict[str, Any] = {
            "id": id,
            "debtor": {
                "id": f"D-{id}",
                "timezone": timezone or ("Asia/Shanghai" if chinese else "America/New_York"),
                "locale": locale or ("zh-CN" if chinese else "en-US"),
            },
            "contacts": [{"id": "mobile", "channel": "call", "address": phone}],
            "balance": {
                "currency": currency or ("CNY" if chinese else "USD"),
                "principal": principal,
            },
            "due_date": due_date,
        }
        data.update(fields)
        return self.engine.open_case(data, at=self.clock.now())

    def run(self, *, days: int = 1) -> list[TickReport]:
        """Tick once a day at the current time of day, *days* times; returns the reports."""
        reports = []
        for _ in range(days):
            reports.append(self.engine.tick(self.clock.now()))
            self.clock.advance(days=1)
        self.reports.extend(reports)
        return reports

    def tick(self, at: datetime | None = None) -> TickReport:
        """One tick, at *at* or the clock's now (the clock moves there)."""
        if at is not None:
            self.clock.set(at)
        report = self.engine.tick(self.clock.now())
        self.reports.append(report)
        return report

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward without ticking."""
        return self.clock.advance(delta)

    def case(self, case_id: str) -> Case:
        """The case as it stands."""
        return self.engine.case(case_id)

    def stage(self, case_id: str) -> str:
        """The case's stage."""
        return self.engine.case(case_id).stage

    def sent(self, case_id: str) -> list[tuple[str, str, str | None]]:
        """Every message sent for the case: (local date, channel, template), oldest first."""
        case = self.engine.case(case_id)
        return [
            (
                case.local_date(entry.at).isoformat(),
                str(entry.data["channel"]),
                entry.data.get("template"),
            )
            for entry in self.engine.history(case_id)
            if entry.kind == "outbox_intent"
        ]

    def texts(self, case_id: str) -> list[str]:
        """The texts of the messages the channel received for the case."""
        return [message.text for message in self.channel.sent if message.case_id == case_id]

    def tasks(self, case_id: str | None = None) -> list[Task]:
        """Open tasks (of one case, or all)."""
        if case_id is None:
            return self.engine.tasks()
        return list(self.engine.case(case_id).tasks)

    def denied(self, case_id: str) -> list[tuple[str, list[str]]]:
        """Every denied contact: (local date, the rules that denied it)."""
        case = self.engine.case(case_id)
        return [
            (
                case.local_date(entry.at).isoformat(),
                [reason["rule"] for reason in entry.data["reasons"]],
            )
            for entry in self.engine.history(case_id)
            if entry.kind == "contact_denied"
        ]

    def facts(self, case_id: str) -> Mapping[str, Any]:
        """The facts the policy reads about the case now."""
        return self.engine.facts(case_id, self.clock.now()).as_dict()
