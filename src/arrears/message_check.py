"""Every message a policy's steps may send, rendered as a review renders it (``arrears check``).

For each step that sends a template, in each stage it acts in, the check
builds the cases a review can meet there (`SITUATIONS`: before the due
date, overdue with nothing agreed, a promise before its date, on it and in
its grace days, a plan between instalments and with its last one in grace,
and, where the stage graph can keep a case in an agreement's stage after the
agreement ended, that too), with and without the debtor's name.  Each case
carries the most the limits allow (`arrears.limits`): every amount just
under `~arrears.limits.MAX_AMOUNT`, a debtor's name of
`~arrears.limits.NAME` characters, a case id of 128, four-digit days past
due, and dates of the longest form in the locale (two-digit days and
months, in 2099).  Its context is built by `review_context`, the function
reviews render with, and the template is rendered and judged as a review
would (`MessageTemplate.evaluate`).  A missing variable, an SMS over its
``max_segments`` or any other problem the sample values did not show is
reported naming the template, the step, the stage and the situation.

The structured ``when`` of a step narrows the situations by its terms on days
past due and the due date (a ``days_to_due`` step never meets an overdue
case), evaluated by the policy's own compiled conditions.  Its CEL ``if`` and
its other terms (segments, attempts, holds) are taken as able to hold: they
do not change what a context carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from .case import Case
from .compliance import Rule
from .compliance.history import ContactHistory
from .limits import MAX_AMOUNT, NAME
from .messages import MessageTemplate, TemplateProblem, format_date, review_context
from .messages.formatting import babel_locale
from .money import Money, currency_quantum
from .plans import Instalment, PlanKind, PlanStatus, Promise, RepaymentPlan
from .policy import Facts, Policy, SendAction, Step
from .policy.conditions import When

__all__ = [
    "LONGEST_DPD",
    "SITUATIONS",
    "RenderFailure",
    "Situation",
    "render_failures",
    "situations_for",
]

LONGEST_DPD: Final = 9_999
"""Days past due of the longest overdue case the check builds (27 years: four digits),
unless a step's ``when`` bounds them."""

#: Grace days of the promises and plans the check builds in their grace.
_GRACE: Final = 3
#: The hour of the reviews the check builds (two digits, as the longest times print).
_HOUR: Final = time(10, 30)
#: The year of the dates the check builds: far off, four digits like any.
_YEAR: Final = 2099
_ZONES: Final = {"CN": "Asia/Shanghai", "US": "America/New_York", "GB": "Europe/London"}
#: Terms of a step's ``when`` that decide whether it can meet a case before or after its due date.
_DAY_TERMS: Final = ("dpd", "dpd_in", "dpd_at_least", "dpd_at_most", "days_to_due", "bucket_in")


@dataclass(frozen=True, slots=True)
class Situation:
    """Where a case stands when a review renders a message for it.

    Attributes:
        name: In words, as problems name it.
        overdue: Its due date has passed (else it is today or ahead).
        agreement: ``"promise"`` or ``"plan"`` while one runs; ``None`` without.
        phase: Where the agreement stands: ``ahead``, ``today``, ``grace``,
            ``between`` (a plan between instalments), or ``ended`` (a plan paid
            with arrears left, a promise kept or broken while the case stays).
    """

    name: str
    overdue: bool
    agreement: str | None = None
    phase: str = ""


SITUATIONS: Final = (
    Situation("before the due date", overdue=False),
    Situation("overdue with no promise or plan", overdue=True),
    Situation("a promise before its date", overdue=True, agreement="promise", phase="ahead"),
    Situation("a promise due today", overdue=True, agreement="promise", phase="today"),
    Situation(
        "a promise past its date, in its grace days", True, agreement="promise", phase="grace"
    ),
    Situation("a plan between instalments", overdue=True, agreement="plan", phase="between"),
    Situation(
        "a plan's last instalment past its date, in its grace days",
        overdue=True,
        agreement="plan",
        phase="grace",
    ),
)
"""The situations a review can meet a case in, in the order the check tries them."""

_ENDED: Final = {
    "promise": Situation(
        "in the promise stage after its promise ended", True, agreement="promise", phase="ended"
    ),
    "repayment_plan": Situation(
        "in the repayment_plan stage after its plan was paid, with arrears left",
        True,
        agreement="plan",
        phase="ended",
    ),
}
#: The triggers that take a case out of an agreement's stage when the agreement ends,
#: and those that put it there (a policy firing one may put a case there with none,
#: unless its edge asks for the agreement: the guard named last).
_LEAVING: Final = {
    "promise": (("promise_kept", "promise_broken"), ("promise",), "open_promise()"),
    "repayment_plan": (("plan_completed", "plan_broken"), ("offer_plan",), "active_plan()"),
}
#: Guards that pass whenever the agreement has ended as the trigger says (the promise
#: kept or broken, the plan completed or broken): a way out guarded by these alone never
#: refuses what ended the agreement.
_ENDED_GUARDS: Final = frozenset(
    {"kept_promise()", "broken_promise()", "completed_plan()", "broken_plan()"}
)


@dataclass(frozen=True, slots=True)
class RenderFailure:
    """A problem of one template rendered for one step in one situation.

    Attributes:
        step: The step's id.
        stage: The stage it acted in.
        situation: The situation, in words (with the days past due).
        named: Whether the case had the debtor's name.
        problem: What the render found.
    """

    step: str
    stage: str
    situation: str
    named: bool
    problem: TemplateProblem

    def __str__(self) -> str:
        who = "" if self.named else ", the debtor's name unknown"
        hint = ""
        if self.problem.rule == "MSG-VARIABLES" and "'deadline'" in self.problem.message:
            hint = (
                "; a review gives 'deadline' only with send.deadline_days, while a promise "
                "or plan runs, or before the due date"
            )
        elif self.problem.rule == "MSG-SEGMENTS":
            hint = "; shorten the template or raise its max_segments"
        return (
            f"{self.problem.template} at step {self.step!r} in stage {self.stage}, "
            f"{self.situation}{who}: {self.problem.rule}: {self.problem.message}{hint}"
        )


def _stays(policy: Policy, stage: str) -> bool:
    """Whether a case can be in *stage* (an agreement's) with no agreement running."""
    workflow = policy.build_workflow()
    leaving, entering, needs = _LEAVING[stage]
    transitions = workflow.definition.transitions
    for trigger in leaving:
        specs = [s for s in transitions if s.trigger == trigger and stage in s.sources]
        if not any(all(check.name in _ENDED_GUARDS for check in spec.guards) for spec in specs):
            return True  # nothing takes it out, or a guard may refuse to
    fired = {escalation.trigger for escalation in policy.escalations}
    fired.update(policy.inbound.values())
    for steps in (policy.steps, *(variant.steps or () for variant in policy.variants)):
        fired.update(step.fire for step in steps if step.fire is not None)
    return any(
        spec.trigger in fired and all(check.name != needs for check in spec.guards)
        for spec in transitions
        if spec.dest == stage and spec.trigger in entering
    )


def situations_for(policy: Policy, stage: str) -> tuple[Situation, ...]:
    """The situations a review can meet a case in while it is in *stage*."""
    if stage == "promise":
        found = [s for s in SITUATIONS if s.agreement == "promise"]
    elif stage == "repayment_plan":
        found = [s for s in SITUATIONS if s.agreement == "plan"]
    else:
        return SITUATIONS
    if _stays(policy, stage):
        found.append(_ENDED[stage])
    return tuple(found)


def _stages(policy: Policy, step: Step) -> tuple[str, ...]:
    workflow = policy.build_workflow()
    if step.stages is not None:
        return tuple(stage for stage in step.stages if not workflow.is_terminal(stage))
    return tuple(stage for stage in workflow.stages if not workflow.is_terminal(stage))


@lru_cache(maxsize=64)
def _currency(locale: str) -> str:
    from babel.numbers import get_territory_currencies

    territory = babel_locale(locale).territory
    currencies = get_territory_currencies(territory) if territory else []
    return currencies[0] if currencies else "USD"


@lru_cache(maxsize=64)
def _longest_day(locale: str) -> date:
    """The day of `_YEAR` whose date prints longest in *locale* (the last of them)."""
    best, size = date(_YEAR, 1, 1), -1
    day = best
    while day.year == _YEAR:
        length = len(format_date(day, locale)) + len(format_date(day, locale, "long"))
        if length >= size:
            best, size = day, length
        day += timedelta(days=1)
    return best


def _longest_name(locale: str) -> str:
    """A debtor's name of `NAME` characters, in the locale's script (CJK for Chinese).

    Outside Chinese it carries a letter the GSM alphabet lacks, as many real names
    do, so an SMS naming the debtor is counted in UCS-2 as the gateway would.
    """
    seed = "欧阳明月" if babel_locale(locale).language == "zh" else "Nguyễn Thị Ánh "
    return (seed * NAME)[:NAME]


def _largest_part(currency: str) -> str:
    """A quarter of the largest amount, to the currency's minor unit: four of them are the
    largest arrears a `Money` holds, and each prints with as many digits."""
    quantum = currency_quantum(currency)
    return str(((MAX_AMOUNT - quantum) / 4).quantize(quantum, rounding=ROUND_DOWN))


def _agreement(situation: Situation, today: date, currency: str, at: datetime) -> dict[str, Any]:
    """The promise or plan of *situation* on *today*, as fields of the case.

    Its amounts are no template's variables: any will do.
    """
    amount = Money(Decimal(1000), currency)
    if situation.agreement == "promise":
        due = {
            "ahead": today + timedelta(days=7),
            "today": today,
            "grace": today - timedelta(days=_GRACE - 1),
            "ended": today - timedelta(days=10),
        }[situation.phase]
        promise = Promise(
            id="promise-1",
            made_at=at - timedelta(days=30),
            instalments=(Instalment(due=due, amount=amount),),
            grace_days=_GRACE,
            status="kept" if situation.phase == "ended" else "open",
        )
        return {"promise": promise}
    first = Instalment(due=today - timedelta(days=40), amount=amount)
    if situation.phase == "between":
        parts = (first, Instalment(due=today + timedelta(days=20), amount=amount))
        paid = amount.amount
    elif situation.phase == "grace":
        parts = (first, Instalment(due=today - timedelta(days=_GRACE - 1), amount=amount))
        paid = amount.amount
    else:  # ended: paid in full, and the case's arrears (interest since) left
        parts = (first, Instalment(due=today - timedelta(days=10), amount=amount))
        paid = 2 * amount.amount
    plan = RepaymentPlan(
        id="plan-1",
        kind=PlanKind.MINIMUM,
        instalments=parts,
        grace_days=_GRACE,
        paid=paid,
        status=PlanStatus.COMPLETED if situation.phase == "ended" else PlanStatus.ACTIVE,
        started_at=at - timedelta(days=60),
    )
    return {"plan": plan}


def _case(
    situation: Situation,
    locale: str,
    stage: str,
    today: date,
    dpd: int,
    named: bool,
) -> tuple[Case, datetime]:
    """The case of *situation*, in *stage*, reviewed on *today*, with the longest values."""
    region = babel_locale(locale).territory or ""
    zone_name = _ZONES.get(region)
    zone = ZoneInfo(zone_name) if zone_name else ZoneInfo("UTC")
    at = datetime.combine(today, _HOUR, tzinfo=zone)
    currency = _currency(locale)
    most = _largest_part(currency)
    due = today - timedelta(days=dpd) if situation.overdue else today + timedelta(days=dpd)
    debtor: dict[str, Any] = {"id": "D" * 128, "locale": locale, "timezone": zone_name}
    if named:
        debtor["name"] = _longest_name(locale)
    record: dict[str, Any] = {
        "id": "C" * 128,
        "debtor": debtor,
        "stage": stage,
        "balance": {
            "currency": currency,
            **dict.fromkeys(("principal", "interest", "fees", "penalty"), most),
        },
        "due_date": due,
    }
    if situation.agreement is not None:
        record.update(_agreement(situation, today, currency, at))
    return Case.model_validate(record), at


@dataclass(frozen=True, slots=True)
class _DayTest:
    """A step's ``when`` reduced to its terms on days past due and the due date, compiled."""

    when: When
    compiled: Any

    def holds(self, facts: Facts) -> bool:
        return bool(self.compiled(facts))


def _days(step: Step) -> _DayTest | None:
    when = step.when
    if when is None:
        return None
    kept = {name: getattr(when, name) for name in _DAY_TERMS if getattr(when, name) is not None}
    return _DayTest(when, When(**kept).compile()) if kept else None


def _dpd_candidates(when: When | None, overdue: bool) -> list[int]:
    """Days past due (or to the due date) to try, most first: the step's own, then ours."""
    found: set[int] = {LONGEST_DPD, 180, 60, 30, 7, 1} if overdue else {5, 3, 1, 0}
    if when is not None:
        for name in _DAY_TERMS:
            value = getattr(when, name)
            if isinstance(value, int):
                found.update({value, value + 1, max(value - 1, 0)})
            elif isinstance(value, tuple) and value and isinstance(value[0], int):
                found.update(value)
    return sorted(found, reverse=True)


def _dpd_for(
    test: _DayTest | None, situation: Situation, locale: str, stage: str, today: date
) -> int | None:
    """The most days past due (or to the due date) the step can act at in *situation*."""
    for days in _dpd_candidates(None if test is None else test.when, situation.overdue):
        if situation.overdue and days < 1:
            continue
        if test is None:
            return days
        case, at = _case(situation, locale, stage, today, days, named=False)
        if test.holds(Facts(case, at, ContactHistory())):
            return days
    return None


def _todays(locale: str, action: SendAction) -> list[date]:
    """Review days whose dates print longest: the day itself, and the day its deadline is."""
    longest = _longest_day(locale)
    days = [longest]
    if action.deadline_days:
        days.append(longest - timedelta(days=action.deadline_days))
    return days


def _renders(
    policy: Policy,
    step: Step,
    action: SendAction,
    template: MessageTemplate,
    rules: Sequence[Rule],
) -> Iterator[RenderFailure]:
    test = _days(step)
    for stage in _stages(policy, step):
        for situation in situations_for(policy, stage):
            for today in _todays(template.locale, action):
                days = _dpd_for(test, situation, template.locale, stage, today)
                if days is None:
                    continue  # the step's when never meets this situation
                label = situation.name + (f" ({days} days past due)" if situation.overdue else "")
                for named in (True, False):
                    case, at = _case(situation, template.locale, stage, today, days, named)
                    context = review_context(
                        case,
                        at,
                        template.variables,
                        lender=policy.lender,
                        deadline_days=action.deadline_days,
                        variables=action.variables,
                    )
                    _, problems = template.evaluate(
                        context, party=action.party, rules=rules, case=case, at=at
                    )
                    for problem in problems:
                        yield RenderFailure(step.id, stage, label, named, problem)


def render_failures(
    policy: Policy,
    sends: Iterable[tuple[Step, SendAction, MessageTemplate]],
    known: Iterable[TemplateProblem] = (),
) -> Iterator[tuple[Step, RenderFailure]]:
    """Each new problem of each (step, its send, a template it may send), with the situation.

    A problem already in *known* (what the sample values showed) is not
    repeated, nor one a step met before in another stage or situation (an
    SMS too long is reported once a step, in the first situation it is).
    """
    compliance = policy.build_compliance()
    known_keys = {_key(problem) for problem in known}
    seen: set[tuple[str, str, str, str]] = set()
    for step, action, template in sends:
        rules = compliance.rules_for_locale(template.locale)
        for failure in _renders(policy, step, action, template, rules):
            key = _key(failure.problem)
            if key in known_keys or (*key[:3], step.id) in seen:
                continue
            seen.add((*key[:3], step.id))
            yield step, failure


def _key(problem: TemplateProblem) -> tuple[str, str, str, str]:
    """What makes two problems the same: the template, the rule and the message, but for
    the part counts of a message too long (one report a step is enough)."""
    message = "" if problem.rule == "MSG-SEGMENTS" else problem.message
    return (problem.template, problem.rule, message, "")
