"""`Engine.explain`: what the policy would do for a case now, and why, without doing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .clock import require_aware
from .compliance import Compliance, Verdict
from .errors import InvalidInput, MessageRefused, UnknownTemplate
from .guards import GuardContext, GuardFailure
from .planner import Planner, contact_for, proposal_for
from .policy import SendAction, TaskAction

if TYPE_CHECKING:
    from .case import Case
    from .ports import ExplainEngine

__all__ = ["EscalationCheck", "Explanation", "StepCheck", "explain_case"]

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
        rules: Which packs judge the case's contacts, when the compliance maps
            jurisdictions or names the lender's role; ``None`` otherwise.
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
            point = contact_for(case, action, history)
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
                case, history, proposal_for(action, point, text), moment
            )
            steps.append(StepCheck(planned.source, described, verdict))
        elif isinstance(action, TaskAction):
            described = f"task {action.kind} in {action.queue}"
            if any(task.step == planned.source for task in case.tasks):
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
        rules=judged_by(engine.compliance, case),
    )


def judged_by(compliance: Compliance, case: Case) -> str | None:
    """Which packs judge *case*, in words, when *compliance* maps jurisdictions or has a role.

    Example: ``packs: US-MA (jurisdiction US-MA, matched US-MA; role creditor)``.
    """
    if not compliance.jurisdictions and compliance.role is None:
        return None
    code = case.debtor.jurisdiction
    packs = compliance.packs_for(code)
    matched = compliance.match(code)
    where = f"jurisdiction {code or 'unknown'}, " + (
        f"matched {matched}" if matched is not None else "covered by no set: no contact"
    )
    role = f"; role {compliance.role.value}" if compliance.role is not None else ""
    return f"packs: {', '.join(packs) or 'none'} ({where}{role})"
