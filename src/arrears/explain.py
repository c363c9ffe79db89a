"""`Engine.explain`: what the policy would do for a case now, and why, without doing it.

For a debtor with several loans the explanation has a debtor view
(`DebtorView`): each of their loans (stage, arrears, holds in force, open
tasks) and today's contacts across them, which the caps over the debtor
count; each message is judged with those contacts, as the tick judges it.
`Engine.explain_debtor` explains every loan of a debtor at once
(`DebtorExplanation`).  A debtor's only case has no debtor view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from .case import one_debt
from .clock import require_aware
from .compliance import Compliance, Verdict
from .compliance.rules import local_moment
from .errors import InvalidInput, MessageRefused, UnknownTemplate
from .guards import GuardContext, GuardFailure
from .money import Money
from .planner import Planner, contact_for, opt_outs_elsewhere, proposal_for
from .policy import SendAction, TaskAction
from .tasks import covering_task

if TYPE_CHECKING:
    from .case import Case
    from .ports import ExplainEngine

__all__ = [
    "DebtorExplanation",
    "DebtorView",
    "EscalationCheck",
    "Explanation",
    "LoanView",
    "StepCheck",
    "debtor_view",
    "explain_case",
    "explain_debtor",
]

_SHOWN = ("dpd", "bucket", "stage", "arrears", "days_to_due", "days_to_payday", "attempts_7d")


@dataclass(frozen=True, slots=True)
class EscalationCheck:
    """One escalation of the policy, judged for the case.

    Attributes:
        trigger: The trigger it would fire.
        applies: The case's stage is one it fires from.
        holds: Its condition holds.
        failures: What the guards would refuse (empty when they would allow it).
        rule: The Python rule that returned the trigger; ``None`` for an
            escalation of the policy file.
    """

    trigger: str
    applies: bool
    holds: bool
    failures: tuple[GuardFailure, ...] = ()
    rule: str | None = None

    @property
    def would_fire(self) -> bool:
        """True when the escalation would fire now."""
        return self.applies and self.holds and not self.failures


@dataclass(frozen=True, slots=True)
class StepCheck:
    """One action the policy would take, with the compliance verdict for a message.

    Attributes:
        source: The step id or Python rule name.
        action: What it would do (a message, a task or a trigger), in words.
        verdict: For a message, the compliance verdict; ``None`` otherwise,
            and for a message that does not render.
        problem: Why the message does not render (a variable the context
            lacks, too many SMS parts, no such template), as a review would
            refuse it; ``None`` when it renders.
    """

    source: str
    action: str
    verdict: Verdict | None = None
    problem: str | None = None

    @property
    def blocked(self) -> bool:
        """True when the message would not go: it does not render, or compliance denies it."""
        return self.problem is not None or (self.verdict is not None and not self.verdict.allowed)


@dataclass(frozen=True, slots=True)
class LoanView:
    """One loan of a debtor, as the debtor view shows it (no personal data).

    Attributes:
        case_id: The case.
        stage: Its stage.
        arrears: What is overdue on it.
        dpd: Its days past due at the moment explained.
        holds: The kinds of the holds in force on it.
        tasks: The ids of the tasks open on it (a task covering several loans
            is listed on each).
        one_debt: The debtor's other loans counted as one debt with it by the
            caps that count per debt (student loans of one account,
            `arrears.case.StudentLoan`); empty when it is its own debt.
    """

    case_id: str
    stage: str
    arrears: Money
    dpd: int
    holds: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    one_debt: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.case_id}: {self.stage}, arrears {self.arrears}, {self.dpd} dpd"
        if self.holds:
            text += "; holds " + ", ".join(self.holds)
        if self.tasks:
            text += "; tasks " + ", ".join(self.tasks)
        if self.one_debt:
            text += (
                "; one debt with " + ", ".join(self.one_debt) + " (student loans of one account)"
            )
        return text


@dataclass(frozen=True, slots=True)
class DebtorView:
    """A debtor with several loans: each of them, and today's contacts across them.

    Attributes:
        debtor_id: The debtor.
        loans: Every case of the debtor, in case id order.
        today: The contacts recorded today (the debtor's calendar day, up to
            the moment explained) on any of their loans, by channel, then by
            outcome; ``unknown`` counts the messages journaled as intended and
            not yet settled.  What the caps over the debtor's loans count.
    """

    debtor_id: str
    loans: tuple[LoanView, ...]
    today: dict[str, dict[str, int]]

    def lines(self) -> list[str]:
        """The view as lines of text (an `Explanation` ends with them)."""
        lines = [f"debtor {self.debtor_id}: {len(self.loans)} loans"]
        lines.extend(f"  {loan}" for loan in self.loans)
        counts = "; ".join(
            channel + " " + ", ".join(f"{count} {outcome}" for outcome, count in found.items())
            for channel, found in self.today.items()
        )
        lines.append("today across the debtor's loans: " + (counts or "no contact"))
        return lines


@dataclass(frozen=True, slots=True)
class Explanation:
    """The answer to "what would happen to this case now, and why?".

    Attributes:
        case_id: The case.
        at: The moment explained.
        policy: ``[id, version]`` of the policy.
        facts: The main facts the policy reads, by name.
        segment: The case's segment.
        variant: Its champion/challenger variant.
        escalations: Every escalation, judged.
        steps: Every action that matches, with its verdict.
        next_review_at: When the case would be reviewed next if nothing else happened.
        notes: Remarks on the explanation.
        rules: Which packs judge the case's contacts, when the compliance maps
            jurisdictions or names the lender's role; ``None`` otherwise.
        debtor: The debtor's loans and today's contacts across them, when the
            debtor has several; ``None`` for a debtor's only case.
    """

    case_id: str
    at: datetime
    policy: list[str]
    facts: dict[str, Any]
    segment: str | None
    variant: str | None
    escalations: tuple[EscalationCheck, ...]
    steps: tuple[StepCheck, ...]
    next_review_at: datetime
    notes: list[str] = field(default_factory=list)
    rules: str | None = None
    debtor: DebtorView | None = None

    def __str__(self) -> str:
        lines = [f"case {self.case_id} at {self.at.isoformat()} under {'/'.join(self.policy)}"]
        lines.append("facts: " + ", ".join(f"{k}={v}" for k, v in self.facts.items()))
        if self.segment or self.variant:
            lines.append(f"segment: {self.segment}; variant: {self.variant}")
        if self.rules is not None:
            lines.append(self.rules)
        for check in self.escalations:
            if not check.applies:
                continue
            if check.would_fire:
                state = "would fire"
            elif not check.holds:
                state = "condition does not hold"
            else:
                state = "refused: " + "; ".join(str(f) for f in check.failures)
            source = f" (rule {check.rule})" if check.rule is not None else ""
            lines.append(f"escalation {check.trigger}{source}: {state}")
        for step in self.steps:
            state = ""
            if step.problem is not None:
                state = f" - not rendered: {step.problem}"
            elif step.verdict is not None:
                state = " - allowed" if step.verdict.allowed else f" - {step.verdict}"
                if step.blocked and step.verdict.next_allowed_at is not None:
                    state += f" (next allowed {step.verdict.next_allowed_at.isoformat()})"
            lines.append(f"step {step.source}: {step.action}{state}")
        if not self.steps:
            lines.append("no step matches")
        lines.append(f"next review: {self.next_review_at.isoformat()}")
        if self.debtor is not None:
            lines.extend(self.debtor.lines())
        return "\n".join(lines)


def explain_case(engine: ExplainEngine, case_id: str, at: datetime | None) -> Explanation:
    """Build the `Explanation` for a case (see `Engine.explain`).

    The plan is the tick's (`arrears.planner`); the guards and compliance
    judge it here without recording anything.

    Raises:
        InvalidInput: the engine has no policy, or *at* is naive.
    """
    policy = engine.policy
    if policy is None:
        raise InvalidInput("policy", None, "an engine built with a policy (Engine(policy=...))")
    moment = engine.clock.now() if at is None else require_aware(at, "at")
    facts = engine.facts(case_id, moment)
    case = facts.case
    store = engine.store
    planner = Planner(policy, engine.workflow)
    plan = planner.plan(facts)
    holding = {id(escalation) for escalation in plan.escalations}
    checks = []
    for escalation in policy.escalations:
        applies = planner.applies(escalation, case.stage)
        holds = id(escalation) in holding
        failures: tuple[GuardFailure, ...] = ()
        if holds:
            ctx = GuardContext(moment, escalation.trigger, history=lambda: store.entries(case_id))
            failures = tuple(engine.workflow.decide(case, ctx).failures)
        checks.append(EscalationCheck(escalation.trigger, applies, holds, failures))
    for ruled in plan.rule_escalations:  # judged after the policy's, before the steps
        trigger = str(ruled.action)
        known = trigger in engine.workflow.triggers  # an unknown one: the tick reports it
        applies = known and case.stage in engine.workflow.sources_of(trigger)
        failures = ()
        if applies:
            ctx = GuardContext(moment, trigger, history=lambda: store.entries(case_id))
            failures = tuple(engine.workflow.decide(case, ctx).failures)
        checks.append(EscalationCheck(trigger, applies, True, failures, rule=ruled.source))
    steps = []
    history = engine.contact_history(case_id)
    for planned in plan.actions:
        action = planned.action
        if isinstance(action, SendAction):
            carried = opt_outs_elsewhere(case, engine.debtor_history(case_id), engine.compliance)
            point = contact_for(case, action, history, carried)
            described = f"send {action.channel}" + (
                f" ({action.template})" if action.template else ""
            )
            try:
                text, _ = engine.render(case, action, facts, moment)
            except (MessageRefused, UnknownTemplate) as err:
                # What the review would refuse, shown as the answer rather than raised:
                # the error names the template and the rule, never the case's values.
                steps.append(StepCheck(planned.source, described, problem=str(err)))
                continue
            verdict = engine.compliance.judge(
                case,
                history,
                proposal_for(action, point, text),
                moment,
                debtor=lambda: engine.debtor_history(case_id),
            )
            steps.append(StepCheck(planned.source, described, verdict))
        elif isinstance(action, TaskAction):
            described = f"task {action.kind} in {action.queue}"
            held = next((task for task in case.tasks if task.step == planned.source), None)
            if held is None:
                described += _covered(engine, case, action)
            elif len(held.cases) > 1:  # it came to this case from another loan of the debtor
                described += f" (task {held.id}, opened on {held.cases[0]}, covers this case)"
            else:
                described += " (one is open already)"
            steps.append(StepCheck(planned.source, described))
        else:
            steps.append(StepCheck(planned.source, f"fire {action}"))
    return Explanation(
        case_id=case_id,
        at=moment,
        policy=policy.label(),
        facts={name: facts[name] for name in _SHOWN},
        segment=facts.segment,
        variant=facts.variant,
        escalations=tuple(checks),
        steps=tuple(steps),
        next_review_at=plan.next_review_at,
        rules=judged_by(engine.compliance, case, _jurisdictions(engine, case_id)),
        debtor=debtor_view(engine, case.debtor.id, moment),
    )


def _jurisdictions(engine: ExplainEngine, case_id: str) -> tuple[str, ...]:
    """The jurisdictions the cases of *case_id*'s debtor carry (none for an only case)."""
    debtor = engine.debtor_history(case_id)
    return () if debtor is None else debtor.jurisdictions


def judged_by(compliance: Compliance, case: Case, others: Sequence[str] = ()) -> str | None:
    """Which packs judge *case*, in words, when *compliance* maps jurisdictions or has a role.

    *others*: the jurisdictions the debtor's cases carry (`DebtorHistory.jurisdictions`),
    whose sets judge this case too.

    Example: ``packs: US-MA (jurisdiction US-MA, matched US-MA; role creditor)``.
    """
    if not compliance.jurisdictions and compliance.role is None:
        return None
    code = case.debtor.effective_jurisdiction
    where = f"jurisdiction {code or 'unknown'}"
    if code is not None and case.debtor.jurisdiction is None:
        where += " (residence)"
    where += ", " + _matched(compliance, code)
    codes = [code]
    if compliance.jurisdictions:
        codes.extend(other for other in others if other != code)
    for other in codes[1:]:
        where += f"; another case's jurisdiction {other}, {_matched(compliance, other)}"
    packs = dict.fromkeys(pack for each in codes for pack in compliance.packs_for(each))
    role = f"; role {compliance.role.value}" if compliance.role is not None else ""
    return f"packs: {', '.join(packs) or 'none'} ({where}{role})"


def _matched(compliance: Compliance, code: str | None) -> str:
    matched = compliance.match(code)
    return f"matched {matched}" if matched is not None else "covered by no set: no contact"


@dataclass(frozen=True, slots=True)
class DebtorExplanation:
    """What the policy would do with every loan of a debtor now (`Engine.explain_debtor`).

    Attributes:
        debtor: The debtor's loans and today's contacts across them.
        cases: Each loan's explanation, in case id order.
    """

    debtor: DebtorView
    cases: tuple[Explanation, ...]

    def __str__(self) -> str:
        parts = ["\n".join(self.debtor.lines())]
        parts.extend(str(replace(item, debtor=None)) for item in self.cases)
        return "\n\n".join(parts)


def _covered(engine: ExplainEngine, case: Case, action: TaskAction) -> str:
    """How a task open on another loan of the debtor covers the step's task, if one does.

    The task the tick would bring the case under (`arrears.tasks.covering_task`).
    """
    store = engine.store
    held = {
        other_id: case.tasks if other_id == case.id else store.get(other_id).tasks
        for other_id in store.cases_of(case.debtor.id)
    }
    task = covering_task(held, case.id, action.kind, action.queue, action.skill)
    if task is None:
        return ""
    if case.id in task.cases:
        return f" (task {task.id} of the debtor covers this case)"
    return f" (task {task.id}, open on {task.cases[0]}, would cover this case)"


def _loan(case: Case, at: datetime) -> LoanView:
    return LoanView(
        case.id,
        case.stage,
        case.arrears,
        case.days_past_due(at),
        tuple(str(hold.kind) for hold in case.active_holds(at)),
        tuple(task.id for task in case.tasks),
    )


def debtor_view(engine: ExplainEngine, debtor_id: str, at: datetime) -> DebtorView | None:
    """The debtor's loans and today's contacts across them; ``None`` for a debtor's only case."""
    case_ids = engine.store.cases_of(debtor_id)
    return _view(engine, debtor_id, case_ids, at) if len(case_ids) > 1 else None


def _view(
    engine: ExplainEngine, debtor_id: str, case_ids: Sequence[str], at: datetime
) -> DebtorView:
    store = engine.store
    loans: list[LoanView] = []
    counts: dict[str, Counter[str]] = {}
    cases = [store.get(case_id) for case_id in case_ids]
    debts = one_debt(cases)
    for case in cases:
        case_id = case.id
        loan = _loan(case, at)
        group = debts.get(case_id)
        if group is not None:
            loan = replace(loan, one_debt=tuple(other for other in group if other != case_id))
        loans.append(loan)
        start = local_moment(case.local_date(at), time(0), case.debtor.timezone, at)
        for attempt in engine.contact_history(case_id).since(start):
            if attempt.at <= at:
                counts.setdefault(attempt.channel, Counter())[attempt.outcome] += 1
    today = {channel: dict(sorted(found.items())) for channel, found in sorted(counts.items())}
    return DebtorView(debtor_id, tuple(loans), today)


def explain_debtor(engine: ExplainEngine, debtor_id: str, at: datetime | None) -> DebtorExplanation:
    """Build the `DebtorExplanation` of every loan of a debtor (see `Engine.explain_debtor`).

    Raises:
        InvalidInput: the debtor has no case, the engine has no policy, or *at* is naive.
    """
    case_ids = engine.store.cases_of(debtor_id)
    if not case_ids:
        raise InvalidInput("debtor_id", debtor_id, "the id of a debtor with a case in the store")
    moment = engine.clock.now() if at is None else require_aware(at, "at")
    cases = tuple(explain_case(engine, case_id, moment) for case_id in case_ids)
    view = cases[0].debtor or _view(engine, debtor_id, case_ids, moment)  # or their only loan
    return DebtorExplanation(view, cases)
