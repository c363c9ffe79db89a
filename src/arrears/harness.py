"""`PolicyHarness`: a lender's policy under test in a few lines of pytest.

    def test_reminder_three_days_before_due():
        harness = PolicyHarness("policies/cn.yaml", start="2026-08-28T09:30:00+08:00")
        harness.open(id="L-1", due_date="2026-09-01", principal="3000.00")
        harness.run(days=2)
        assert harness.sent("L-1") == [("2026-08-29", "sms", "reminder")]

It builds an engine from the policy exactly as production would (its packs,
workflow, templates), with a recording channel for every automated medium,
one agent per task queue the policy names (``agent-QUEUE``, with every skill
the policy's tasks in that queue ask for), and a settable clock, then lets a
test open cases, move time day by day and read what happened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from .case import Balance, Case
from .channels import RecordingChannel
from .clock import SettableClock, require_aware
from .engine import Engine
from .errors import InvalidInput
from .policy import Facts, Policy, TaskAction, load_policy
from .tasks import Agent, Task
from .tick import TickReport

__all__ = ["PolicyHarness"]

_AUTOMATED = frozenset({"sms", "email", "letter", "voicemail"})

#: An amount as `PolicyHarness.open` takes it: a decimal string, an int or a `Decimal`.
Amount = str | int | Decimal

#: The balance components `PolicyHarness.open` takes by name: every field of `Balance` but
#: its currency (``principal``, ``interest``, ``fees``, ``penalty``, ``not_due``, ``credit``).
COMPONENTS: Final = tuple(name for name in Balance.model_fields if name != "currency")

#: What `PolicyHarness.open` gives a case when the test does not say, by the country of the
#: policy's first pack: the currency, the debtor's time zone and locale, and a mobile number.
DEFAULTS: Final[Mapping[str, tuple[str, str, str, str]]] = {
    "CN": ("CNY", "Asia/Shanghai", "zh-CN", "+8613812345678"),
    "US": ("USD", "America/New_York", "en-US", "+12125550123"),
    "UK": ("GBP", "Europe/London", "en-GB", "+447911123456"),
}


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
        try:
            moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        except ValueError:
            raise InvalidInput("start", start, "an ISO 8601 time with an offset") from None
        self.clock = SettableClock(require_aware(moment, "start"))
        self.channel = RecordingChannel(channels=_AUTOMATED)
        skills: dict[str, set[str]] = {}
        for step in (
            *self.policy.steps,
            *(s for v in self.policy.variants for s in (v.steps or ())),
        ):
            if isinstance(step.task, TaskAction):
                needed = skills.setdefault(step.task.queue, set())
                if step.task.skill is not None:
                    needed.add(step.task.skill)
        agents = [
            Agent(id=f"agent-{queue}", queues=frozenset({queue}), skills=frozenset(needed))
            for queue, needed in sorted(skills.items())
        ]
        self.engine = Engine(
            policy=self.policy, channels=[self.channel], clock=self.clock, agents=agents
        )
        self.reports: list[TickReport] = []

    def open(
        self,
        *,
        id: str,
        due_date: str,
        principal: Amount | None = None,
        interest: Amount | None = None,
        fees: Amount | None = None,
        penalty: Amount | None = None,
        not_due: Amount | None = None,
        credit: Amount | None = None,
        balance: Balance | Mapping[str, Any] | None = None,
        currency: str | None = None,
        timezone: str | None = None,
        locale: str | None = None,
        jurisdiction: str | None = None,
        phone: str | None = None,
        **fields: Any,
    ) -> Case:
        """Open a case with sensible defaults for the policy's first pack.

        What is owed is given either by component (``principal``, ``interest``,
        ``fees``, ``penalty``: overdue; ``not_due``: not yet due; ``credit``:
        held for the debtor), each a decimal string, an int or a `Decimal`,
        with ``currency``; or whole, as ``balance`` (a `Balance` or its
        mapping; a mapping without a currency takes ``currency``).  Any other
        `Case` field may be given (``contacts``, ``stage``, ``debtor``…).

        What is not given follows the country of the first pack of the set
        that judges the debtor's ``jurisdiction`` when one is given, else of
        the policy's first pack (of ``packs``, else of its first set of
        ``jurisdictions``; CN when it has none, US for a pack of another
        country), as `DEFAULTS` lists: CNY,
        ``Asia/Shanghai``, ``zh-CN`` and a Chinese mobile for CN; USD,
        ``America/New_York``, ``en-US`` and a New York number for the US
        packs; GBP, ``Europe/London``, ``en-GB`` and a UK mobile for UK.  The
        debtor's ``jurisdiction`` is the one given, else, for a policy whose
        packs are all by jurisdiction and which has no ``default`` set, the
        code of its first set (a debtor no set covers is never contacted).

        Raises:
            InvalidInput: a component beside ``balance`` (or ``currency``
                beside a balance that names its own), nothing owed given at
                all, or a value the case refuses (naming its field).
        """
        sets = self.policy.jurisdictions
        if jurisdiction is None and not self.policy.packs and sets and "default" not in sets:
            jurisdiction = next(iter(sets))
        judged = self.engine.compliance.packs_for(jurisdiction) if jurisdiction else ()
        currency_of, zone, language, number = DEFAULTS[_country(self.policy, judged)]
        components = {
            name: value
            for name, value in (
                ("principal", principal),
                ("interest", interest),
                ("fees", fees),
                ("penalty", penalty),
                ("not_due", not_due),
                ("credit", credit),
            )
            if value is not None
        }
        owed = _balance(balance, components, currency, currency or currency_of)
        debtor: dict[str, Any] = {
            "id": f"D-{id}",
            "timezone": timezone or zone,
            "locale": locale or language,
        }
        if jurisdiction is not None:
            debtor["jurisdiction"] = jurisdiction
        data: dict[str, Any] = {
            "id": id,
            "debtor": debtor,
            "contacts": [{"id": "mobile", "channel": "call", "address": phone or number}],
            "balance": owed,
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

    def facts(self, case_id: str) -> Facts:
        """The `Facts` a Python rule of the policy receives for the case, at the clock's now.

        The same type and content as the tick hands a rule (`Policy.rule`):
        ``facts["dpd"]``, ``facts.case``, ``facts.history``, ``facts.entries()``,
        ``facts.segment`` and ``facts.variant``, all copies (changing them
        changes nothing stored).  ``facts.as_dict()`` gives the named facts
        as a plain dict.
        """
        return self.engine.facts(case_id, self.clock.now())


def _country(policy: Policy, judged: Sequence[str] = ()) -> str:
    """The country of the first pack judging the debtor (*judged*: the set of their
    jurisdiction), else of *policy*'s first pack, as `DEFAULTS` keys it: CN without
    packs, US for a pack of another country."""
    first = [
        *judged,
        *policy.packs,
        *(pack for packs in policy.jurisdictions.values() for pack in packs),
    ]
    country = first[0].split("-")[0] if first else "CN"
    return country if country in DEFAULTS else "US"


def _balance(
    balance: Balance | Mapping[str, Any] | None,
    components: Mapping[str, Amount],
    currency: str | None,
    default_currency: str,
) -> dict[str, Any]:
    """The case's ``balance`` mapping, from a whole balance or its components."""
    if balance is None:
        if not components:
            raise InvalidInput(
                "principal",
                None,
                "what is owed: principal= (or another component: "
                + ", ".join(f"{name}=" for name in COMPONENTS[1:])
                + "), or balance=",
            )
        return {"currency": default_currency, **components}
    if components:
        name, value = next(iter(components.items()))
        raise InvalidInput(
            name,
            value,
            f"no {name}= beside balance=: give every component in the balance, "
            "or the components without balance=",
        )
    whole = balance.model_dump() if isinstance(balance, Balance) else dict(balance)
    if "currency" not in whole:
        whole["currency"] = default_currency
    elif currency is not None:
        raise InvalidInput(
            "currency",
            currency,
            f"no currency= beside a balance that names its own ({whole['currency']!r})",
        )
    return whole
