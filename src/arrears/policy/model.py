"""The policy: what a lender decides, as data validated when it loads.

A policy names the compliance packs it works under, the stage graph it uses,
its segments, the steps that act on cases (send a message, open a task for a
person, fire a trigger), the escalations that move cases up the ladder, what
an inbound result does, the champion/challenger variants, and when cases are
reviewed.  `arrears.policy.load_policy` reads one from YAML or TOML; you may
also build one in Python.  Every decision the engine makes under a policy is
journaled with the policy's id and version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..case import Channel, HoldKind, Outcome, Party
from ..compliance import Compliance, Role, known_packs
from ..errors import InvalidInput
from ..workflow import Workflow, standard_definition
from .allocation import AllocationName
from .ceilings import rate_problems
from .checks import (
    FieldPath,
    agreement_problem,
    check_references,
    closed_cycles,
    destination,
    unique_ids,
)
from .conditions import CelCondition, ConditionError, Test, When, both
from .facts import Facts
from .per_debtor import DebtorLimit
from .rules import PythonRule

if TYPE_CHECKING:
    import holidays

__all__ = [
    "Action",
    "Escalation",
    "Policy",
    "PolicyRule",
    "PythonRule",
    "Review",
    "Segment",
    "SendAction",
    "Step",
    "TaskAction",
    "Variant",
    "WorkflowOptions",
]

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
"""A name in a policy: lower-case letters, digits, ``_`` and ``-``."""


class _Spec(BaseModel):
    # defer_build: the validators are built when the first policy is made, not at import.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class _Conditional(_Spec):
    """Shared: an optional structured ``when`` and an optional CEL ``if``."""

    when: When | None = None
    if_: str | None = Field(default=None, alias="if", min_length=1)

    _test: Test = PrivateAttr()

    @model_validator(mode="after")
    def _compile(self) -> Self:
        cel_test = None
        if self.if_ is not None:
            try:
                cel_test = CelCondition(self.if_)
            except ConditionError as err:
                raise PydanticCustomError(
                    "cel",
                    "the CEL expression does not compile: {reason}",
                    {"reason": str(err), "field": "if"},
                ) from None
        self._test = both(self.when.compile() if self.when else None, cel_test)
        return self

    @cached_property
    def test(self) -> Test:
        """The compiled condition: a function of the facts.

        Kept after the first read: pydantic reaches a private attribute through
        ``__getattr__``, some thirty times the cost of a plain attribute, and a
        policy's segments are read for every case a tick reviews.
        """
        return self._test

    def holds(self, facts: Facts) -> bool:
        """True when both ``when`` and ``if`` hold for *facts*."""
        return self.test(facts)


class SendAction(_Spec):
    """Send a message through a channel adapter.

    Attributes:
        channel: ``sms``, ``email``, ``letter`` or ``voicemail`` (automated media;
            calls and visits are tasks for people).
        template: The template's name in the policy's template set.
        purpose: What the message is for (a `arrears.compliance.Purpose`).
        party: Whom it is for.
        automated: Sent by a machine (SMS runs, robocalls): automated-contact
            rules apply.
        deadline_days: The message's deadline (``deadline``) is this many days
            after the day it is sent; when omitted, the next date of an open
            promise or plan, else the due date while it is still ahead.
        variables: More template variables, e.g. ``{agent_name: Li Na}``.
    """

    channel: Channel
    template: Name | None = None
    purpose: Name = "collection"
    party: Party = Party.DEBTOR
    automated: bool = True
    deadline_days: int | None = Field(default=None, ge=0, le=366)
    variables: dict[Name, str] = Field(default_factory=dict)

    @field_validator("channel")
    @classmethod
    def _automated_medium(cls, value: Channel) -> Channel:
        if value in (Channel.CALL, Channel.VISIT):
            raise ValueError(
                f"channel: got {value.value!r}; a {value.value} needs a person: use a task"
            )
        return value


class TaskAction(_Spec):
    """Open a task for a person: a call, a field visit, a negotiation, a legal review.

    Attributes:
        kind: What to do: ``call``, ``visit``, ``negotiation`` or ``legal_review``.
        queue: The work queue it goes to.
        priority: 1 (most urgent) to 9.
        due_hours: Hours from the review to the task's due time.
        skill: A skill the agent must have (assignment by skill).
    """

    kind: Literal["call", "visit", "negotiation", "legal_review"]
    queue: Name
    priority: int = Field(default=5, ge=1, le=9)
    due_hours: int = Field(default=24, ge=0, le=24 * 60)
    skill: Name | None = None


Action = SendAction | TaskAction
"""What a step does."""


class Step(_Conditional):
    """One rule of the policy: in these stages, when this holds, do that.

    Exactly one of ``send``, ``task`` and ``fire``.

    Attributes:
        id: Unique in the policy; recorded with what it does.
        stages: The stages it acts in; every live stage when omitted.
        send: Send a message.
        task: Open a task for a person.
        fire: Fire a trigger of the workflow.
    """

    id: Name
    stages: tuple[str, ...] | None = Field(default=None, min_length=1)
    send: SendAction | None = None
    task: TaskAction | None = None
    fire: Name | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        chosen = [name for name in ("send", "task", "fire") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError(f"give exactly one of send, task and fire (got {chosen or 'none'})")
        return self

    @property
    def action(self) -> Action | str:
        """The step's action: a `SendAction`, a `TaskAction` or a trigger's name."""
        return self.send or self.task or self.fire or ""


class Escalation(_Conditional):
    """Fire a trigger automatically when a condition holds (guards still judge it).

    Attributes:
        trigger: The trigger to fire (not a manual one: those need a person, use a task).
        from_: The stages it fires from (``from`` in files); all the trigger's
            sources when omitted.
    """

    trigger: Name
    from_: tuple[str, ...] | None = Field(default=None, alias="from", min_length=1)


class Segment(_Conditional):
    """A named group of cases; the first segment whose condition holds is the case's.

    Attributes:
        id: The segment's name (conditions read it as ``segment``).
    """

    id: Name


class Variant(_Spec):
    """A champion/challenger variant: a share of cases, optionally with steps of its own.

    Attributes:
        id: The variant's name (conditions read it as ``variant``).
        share: Percent of cases assigned to it; all shares add up to 100.
        steps: Steps used instead of the policy's for cases in this variant.
    """

    id: Name
    share: int = Field(ge=1, le=100)
    steps: tuple[Step, ...] | None = None


class Review(_Spec):
    """When cases are reviewed by the daily tick.

    Attributes:
        time: Local time of day (the debtor's) of the review.
        every_days: Days between reviews of a case with nothing else scheduled.
        business_days: Move reviews that fall on a Saturday or Sunday to Monday.
        holidays: Move reviews off the public holidays of this country (``CN``,
            ``US``, ``GB``…, or ``US-CA`` with a subdivision), from the
            ``holidays`` package.
    """

    time: dt.time = dt.time(9, 0)
    every_days: int = Field(default=1, ge=1, le=366)
    business_days: bool = False
    holidays: Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")] | None = None

    def is_working_day(self, day: dt.date) -> bool:
        """True when reviews may fall on *day* (weekends and holidays skipped when asked)."""
        if self.business_days and day.weekday() >= 5:
            return False
        return self.holidays is None or day not in _calendar(self.holidays)


class WorkflowOptions(_Spec):
    """The stage graph the policy uses: the standard one, with stages added or skipped.

    Attributes:
        ladder: The contact stages in escalation order.
        skip: Stages to leave out (``legal`` for all of legal).
        promise_broken_to: Where a broken promise goes.
        plan_broken_to: Where a broken plan goes.
        limitation_years: The limitation period guarding legal steps.
    """

    ladder: tuple[Name, ...] | None = None
    skip: tuple[Name, ...] = ()
    promise_broken_to: Name | None = None
    plan_broken_to: Name | None = None
    limitation_years: int = Field(default=3, ge=1, le=30)


@lru_cache(maxsize=32)
def _calendar(code: str) -> holidays.HolidayBase:
    import holidays  # here, not at the top: most policies name no holiday calendar

    country, _, subdivision = code.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None)


PolicyRule = Callable[[Facts], Sequence[Action | str] | None]
"""A Python escalation rule: facts of a case in, actions (or trigger names) out."""


class Policy(_Spec):
    """A lender's collection policy.

    Attributes:
        id: The policy's id, recorded with every decision.
        version: Its version, recorded with every decision.
        description: What it is for.
        packs: Compliance packs that judge every contact, e.g. ``["CN"]``; with
            ``jurisdictions``, those of every debtor no code there matches.
        jurisdictions: Packs by the debtor's jurisdiction (an ISO 3166 code, most
            specific first: ``US-MA``, then ``US``), e.g. ``{US-MA: [US-MA], US:
            [US-RegF]}``; ``default`` may stand for ``packs``.  A debtor nothing
            covers is not contacted (`arrears.compliance.Compliance`).
        role: The lender's role in collecting: ``creditor``, ``collector`` or
            ``debt_buyer``; only the rules that bind it judge.  Unset, every rule does.
        overrides: Parameters changed in those packs' rules, by rule id.
        workflow: The stage graph.
        templates: The folder of message templates, relative to the policy file.
        lender: What messages say about the lender: the fields of
            `arrears.messages.LenderDetails` (name, hotline, signature, late-fee rate…).
        segments: Groups of cases, first match wins.
        steps: What to do, in order.
        escalations: When to move a case up, in order; the first that fires wins.
        inbound: What an inbound result fires, → a trigger: a contact outcome
            (``conversation``, ``wrong_party``, ``reply``…), a hold's kind
            (``dispute``, ``bankruptcy``…), ``payment`` or ``promise``; e.g.
            ``{wrong_party: escalate}``.
        variants: Champion/challenger variants; none means one policy for all.
        review: When cases are reviewed.
        python_rules: Python rules the file names (``rules`` in files), imported
            when the policy loads (`PythonRule`); more may be registered with `rule`.
        per_debtor: The lender's own caps on what one debtor receives across all
            their loans (`DebtorLimit`), judged with the packs' rules.
        allocation: How a payment to the debtor is shared over their loans
            (`arrears.policy.allocation`): ``oldest_due`` by default.
    """

    id: Name
    version: Annotated[str, Field(min_length=1, max_length=64)]
    description: str = ""
    packs: tuple[str, ...] = ()
    jurisdictions: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    role: Role | None = None
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    workflow: WorkflowOptions = WorkflowOptions()
    templates: str | None = None
    lender: dict[str, Any] = Field(default_factory=dict)
    segments: tuple[Segment, ...] = ()
    steps: tuple[Step, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    inbound: dict[Name, Name] = Field(default_factory=dict)
    variants: tuple[Variant, ...] = ()
    review: Review = Review()
    python_rules: tuple[PythonRule, ...] = Field(default=(), alias="rules")
    per_debtor: tuple[DebtorLimit, ...] = ()
    allocation: AllocationName = "oldest_due"

    _rules: list[tuple[str, PolicyRule]] = PrivateAttr(default_factory=list)
    _workflow: Workflow | None = PrivateAttr(default=None)
    _compliance: Compliance | None = PrivateAttr(default=None)
    _by_stage: dict[tuple[str | None, str], tuple[tuple[Step, str, Test], ...]] = PrivateAttr(
        default_factory=dict
    )

    @field_validator("packs")
    @classmethod
    def _known_packs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - known_packs())
        if unknown:
            raise ValueError(f"unknown packs {unknown}; known: {sorted(known_packs())}")
        return value

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Everything wrong with the policy as a whole, as (field path, message) pairs.

        Unknown stages and triggers, manual triggers in escalations, steps and
        escalations that can never fire, escalation cycles with no way out,
        duplicate ids, variant shares that do not add up to 100, bad overrides.
        """
        return _problems(self)

    # -- what the policy builds ------------------------------------------------------
    def build_workflow(self) -> Workflow:
        """The policy's stage graph (built once)."""
        if self._workflow is None:
            options = self.workflow
            kwargs: dict[str, Any] = {
                "skip": options.skip,
                "promise_broken_to": options.promise_broken_to,
                "plan_broken_to": options.plan_broken_to,
                "limitation_years": options.limitation_years,
                "name": self.id,
                "version": self.version,
            }
            if options.ladder is not None:
                kwargs["ladder"] = options.ladder
            self._workflow = Workflow(standard_definition(**kwargs))
        return self._workflow

    def build_compliance(self) -> Compliance:
        """The compliance rules of the policy's packs with its overrides, and its
        per-debtor limits (built once)."""
        if self._compliance is None:
            label = f"{self.id} {self.version}"
            limits = [limit.rule(n, label) for n, limit in enumerate(self.per_debtor, 1)]
            self._compliance = Compliance(
                self.packs,
                overrides=self.overrides,
                rules=limits,
                jurisdictions=self.jurisdictions or None,
                role=self.role,
            )
        return self._compliance

    def variant_of(self, case_id: str) -> str | None:
        """The variant of a case: stable, from a hash of its id; ``None`` without variants."""
        if not self.variants:
            return None
        digest = hashlib.sha256(f"{self.id}:{case_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % 100
        total = 0
        for variant in self.variants:
            total += variant.share
            if point < total:
                return variant.id
        return self.variants[-1].id

    def steps_for(self, variant: str | None) -> tuple[Step, ...]:
        """The steps that apply to a case in *variant*."""
        for candidate in self.variants:
            if candidate.id == variant and candidate.steps is not None:
                return candidate.steps
        return self.steps

    def compiled_steps(self, variant: str | None, stage: str) -> tuple[tuple[Step, str, Test], ...]:
        """(step, id, condition) for the steps of *variant* that act in *stage*, in order.

        Worked out once per variant and stage: the tick asks for every case.
        """
        key = (variant, stage)
        found = self._by_stage.get(key)
        if found is None:
            found = self._by_stage[key] = tuple(
                (step, step.id, step.test)
                for step in self.steps_for(variant)
                if step.stages is None or stage in step.stages
            )
        return found

    def segment_of(self, facts: Facts) -> str | None:
        """The first segment whose condition holds for *facts*."""
        for segment in self.segments:
            if segment.test(facts):
                return segment.id
        return None

    # -- Python rules ------------------------------------------------------------------------
    def rule(self, name: str) -> Callable[[PolicyRule], PolicyRule]:
        """Register a Python escalation rule, for what a file cannot say.

        The function receives the case's `Facts` (read-only) and returns
        actions (`SendAction`, `TaskAction`) or trigger names, or ``None``.

            >>> @policy.rule("vip-call")                       # doctest: +SKIP
            ... def vip(facts):
            ...     if facts.segment == "vip" and facts.dpd == 2:
            ...         return [TaskAction(kind="call", queue="vip")]
            ...     return None
        """

        def register(function: PolicyRule) -> PolicyRule:
            if any(existing == name for existing, _ in self.rules):
                raise ValueError(f"a rule named {name!r} is already registered")
            self._rules.append((name, function))
            return function

        return register

    @property
    def rules(self) -> tuple[tuple[str, PolicyRule], ...]:
        """The Python rules, by name: those the file names (in its order), then those registered."""
        named = tuple((rule.rule_name, rule.call) for rule in self.python_rules)
        return (*named, *self._rules)

    def label(self) -> list[str]:
        """``[id, version]``, as journaled with every decision."""
        return [self.id, self.version]


def _problems(policy: Policy) -> list[tuple[FieldPath, str]]:
    """Every problem of *policy* that a single field's validation cannot see (`Policy.problems`)."""
    problems: list[tuple[FieldPath, str]] = []
    try:
        workflow = policy.build_workflow()
    except InvalidInput as err:
        return [(("workflow", err.field), f"got {err.value!r}, expected {err.expected}")]
    try:
        policy.build_compliance()
    except InvalidInput as err:
        problems.append(
            ((*err.field.split(".", 2),), f"got {err.value!r}, expected {err.expected}")
        )
    if policy.lender:
        from ..messages import LenderDetails

        try:
            LenderDetails.of(policy.lender)
        except InvalidInput as err:
            problems.append(
                ((*err.field.split("."),), f"got {err.value!r}, expected {err.expected}")
            )
        every = {pack for packs in policy.jurisdictions.values() for pack in packs}
        problems.extend(
            rate_problems((*policy.packs, *sorted(every - set(policy.packs))), policy.lender)
        )
    stages = set(workflow.stages)
    live = {stage for stage in stages if not workflow.is_terminal(stage)}
    triggers = set(workflow.triggers)
    manual = {spec.trigger for spec in workflow.definition.transitions if spec.manual}

    def stage_names(path: FieldPath, names: Iterable[str]) -> None:
        for position, name in enumerate(names):
            if name not in stages:
                problems.append(
                    (
                        (*path, position),
                        f"unknown stage {name!r}; the workflow has {sorted(stages)}",
                    )
                )

    def trigger_name(path: FieldPath, name: str) -> bool:
        if name not in triggers:
            problems.append(
                (path, f"unknown trigger {name!r}; the workflow has {sorted(triggers)}")
            )
            return False
        return True

    segment_ids = unique_ids(problems, ("segments",), [segment.id for segment in policy.segments])
    variant_ids = unique_ids(problems, ("variants",), [variant.id for variant in policy.variants])
    if policy.variants and sum(variant.share for variant in policy.variants) != 100:
        shares = [variant.share for variant in policy.variants]
        problems.append((("variants",), f"shares {shares} add up to {sum(shares)}, not 100"))

    def steps(path: FieldPath, chosen: Sequence[Step]) -> None:
        unique_ids(problems, path, [step.id for step in chosen])
        for index, step in enumerate(chosen):
            where = (*path, index)
            if step.stages is not None:
                stage_names((*where, "stages"), step.stages)
                if all(stage in stages and stage not in live for stage in step.stages):
                    problems.append(
                        ((*where, "stages"), "can never fire: every stage named is terminal")
                    )
            if step.fire is not None and trigger_name((*where, "fire"), step.fire):
                runs_on = agreement_problem(workflow, step.fire, "a step")
                if runs_on is not None:
                    problems.append(((*where, "fire"), runs_on))
                sources = set(workflow.sources_of(step.fire))
                if step.stages is not None and not sources & set(step.stages):
                    problems.append(
                        (
                            (*where, "fire"),
                            f"can never fire: {step.fire!r} fires only from {sorted(sources)}",
                        )
                    )
            check_references(problems, where, step.when, segment_ids, variant_ids)

    steps(("steps",), policy.steps)
    step_ids = {step.id for step in policy.steps}
    step_ids.update(step.id for variant in policy.variants for step in variant.steps or ())
    named: set[str] = set()
    for index, rule in enumerate(policy.python_rules):
        name = rule.rule_name
        if name in named or name in step_ids:
            used = "by another rule" if name in named else "by a step"
            problems.append(
                (
                    ("rules", index, "name"),
                    f"name {name!r} is used {used}: a rule's name says what asked for an "
                    "action, so give it a name of its own",
                )
            )
        named.add(name)
    for index, variant in enumerate(policy.variants):
        if variant.steps is not None:
            steps(("variants", index, "steps"), variant.steps)
    for index, segment in enumerate(policy.segments):
        check_references(problems, ("segments", index), segment.when, set(), variant_ids)

    edges: dict[str, set[str]] = {}
    for index, escalation in enumerate(policy.escalations):
        where: FieldPath = ("escalations", index)
        if escalation.from_ is not None:
            stage_names((*where, "from"), escalation.from_)
        if not trigger_name((*where, "trigger"), escalation.trigger):
            continue
        runs_on = agreement_problem(workflow, escalation.trigger, "an escalation")
        if runs_on is not None:
            problems.append(((*where, "trigger"), runs_on))
            continue
        if escalation.trigger in manual:
            problems.append(
                (
                    (*where, "trigger"),
                    f"{escalation.trigger!r} is a manual trigger: it needs a person "
                    "with a role; open a task for it instead",
                )
            )
            continue
        sources = workflow.sources_of(escalation.trigger)
        chosen = escalation.from_ if escalation.from_ is not None else sources
        useless = [stage for stage in chosen if stage in stages and stage not in sources]
        if useless:
            problems.append(
                (
                    (*where, "from"),
                    f"can never fire from {useless}: {escalation.trigger!r} fires only "
                    f"from {sorted(sources)}",
                )
            )
        for stage in chosen:
            dest = destination(workflow, escalation.trigger, stage)
            if dest is not None:
                edges.setdefault(stage, set()).add(dest)
        check_references(problems, where, escalation.when, segment_ids, variant_ids)
    for cycle in closed_cycles(edges):
        problems.append(
            (
                ("escalations",),
                f"escalations cycle through {' -> '.join(cycle)} -> {cycle[0]} "
                "with no escalation leading out",
            )
        )
    events = {*Outcome, *HoldKind, "payment", "promise"}
    for event, trigger in policy.inbound.items():
        if event not in events:
            problems.append(
                (("inbound", event), f"unknown inbound event {event!r}; known: {sorted(events)}")
            )
        trigger_name(("inbound", event), trigger)
    return problems
