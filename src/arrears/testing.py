"""Tools to test compliance rules and lender policies: scenario files and their runner.

A scenario is a YAML file a compliance officer can write without Python: a
case, what has happened to it, and what the library must decide next (the
format is described in ``docs/scenarios.md``).  `run_scenario` runs one and
says whether every expectation held; ``arrears test PATH...`` runs many.

A scenario judges contacts under compliance rule packs (``rules:``), or runs
a lender's policy file (``policy:``): ``tick`` events review the case as the
daily tick would, and expectations check the stage it reaches and the
actions (messages, tasks) the policy takes.

    >>> result = run_scenario("tests/scenarios/us_7in7.yaml")   # doctest: +SKIP
    >>> assert result.passed, "\\n".join(result.failures)       # doctest: +SKIP

The models below (`Scenario` and its parts) are the format itself: every key
not declared here is an error, reported with its file, line and field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo

import pydantic
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from ._exceptions import ArrearsError, InvalidInput
from ._yaml import DocumentInvalid, FieldPath, LocatedDocument, Problem, field_name, load_file
from ._yaml import validation_problems as _validation_problems
from .case import (
    Balance,
    Case,
    Channel,
    ContactPoint,
    Debtor,
    HoldKind,
    Identifier,
    Outcome,
    Party,
)
from .channels import RecordingChannel
from .clock import SettableClock
from .compliance import Compliance, Proposal, Verdict, known_packs, known_rule_ids
from .engine import Engine
from .harness import PolicyHarness
from .journal import JournalEntry
from .messages import LenderDetails, MessageTemplate, TemplateSet
from .money import Money, currency_quantum
from .policy import Policy, PolicyInvalid, SendAction, Step, load_policy
from .tasks import Agent

__all__ = [
    "PACK_LANGUAGES",
    "ActionExpectation",
    "CaseSpec",
    "ConsentEvent",
    "ContactEvent",
    "ContactSpec",
    "DisputeEvent",
    "Event",
    "Expectation",
    "HoldEndEvent",
    "HoldEvent",
    "InconvenientEvent",
    "NoticeSentEvent",
    "OptOutEvent",
    "PaymentEvent",
    "PolicyCheck",
    "PolicyHarness",
    "PromiseEvent",
    "ProposedContact",
    "Scenario",
    "ScenarioInvalid",
    "ScenarioResult",
    "TakenAction",
    "TickEvent",
    "VerificationSentEvent",
    "VisitSpec",
    "check_policy",
    "load_scenario",
    "run_scenario",
]


class ScenarioInvalid(DocumentInvalid):
    """A scenario file is malformed: not YAML, not the format, or asks what cannot be done.

    It is an `ArrearsError`.  The message lists every problem found, one per
    line, as ``file:line: field: message``.

    Attributes:
        problems: Every problem (each a ``Problem`` with ``file``, ``line``,
            ``field`` and ``message``).
        file: The file of the first problem.
        line: The line of the first problem.
        field: The field of the first problem, e.g. ``expect[0].at``.
        message: What is wrong with it.
    """


class _Spec(BaseModel):
    """A part of the scenario format: immutable, and no key it does not declare."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_HH_MM: Final = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def _local_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not _HH_MM.fullmatch(value):
        raise ValueError(f"got {value!r}, expected a local time as HH:MM, e.g. '21:00'")
    return time.fromisoformat(value)


LocalTime = Annotated[time, BeforeValidator(_local_time)]
"""A time of day in the debtor's zone, written ``HH:MM``."""

Amount = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
"""A positive decimal amount, written as a decimal string (or a plain YAML number)."""

NoticeKind = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
"""A notice's kind, a word such as ``validation`` or ``demand_letter``."""

TaskKind = Literal["call", "visit", "negotiation", "legal_review"]
"""What a task asks a person to do."""

#: The media a policy sends through by itself; calls and visits are tasks for people.
_AUTOMATED_CHANNELS: Final = frozenset({"sms", "email", "letter", "voicemail"})
_TASK_CHANNELS: Final = frozenset({"call", "visit"})


# -- the case ---------------------------------------------------------------------------


class ContactSpec(_Spec):
    """A way to reach someone about the case (``case.contacts``).

    Attributes:
        id: Unique within the case; events and expectations name it.
        channel: ``sms``, ``call``, ``voicemail``, ``email``, ``letter`` or ``visit``.
        party: ``debtor`` (default), ``third_party`` or ``employer``.
        address: The number or address; ``"unknown"`` by default, which says
            nothing about where the person is.
        work: An address the employer provides (a work e-mail or phone).
        consent: The person agreed to be contacted here.
        opted_out: The person asked not to be contacted here.
    """

    id: Identifier
    channel: Channel
    party: Party = Party.DEBTOR
    address: str = Field(default="unknown", min_length=1)
    work: bool = False
    consent: bool = False
    opted_out: bool = False


class CaseSpec(_Spec):
    """The case a scenario is about (``case:``).

    Attributes:
        id: The case id; the debtor gets the same id.
        timezone: The debtor's IANA zone; ``None`` when their location is unknown.
        locale: The debtor's language tag, which picks the policy's templates
            (``en`` unless given, e.g. ``zh-CN``).
        payday: When the debtor is paid, an RFC 5545 rule such as
            ``FREQ=MONTHLY;BYMONTHDAY=15`` (policies remind before it).
        currency: ISO 4217 code of the balance.
        balance: The overdue amount (principal), a decimal string.
        due_date: The first missed due date.
        stage: The workflow stage the case is in (the workflow's first stage,
            ``pre_due``, by default).
        contacts: The contact points.
    """

    id: Identifier
    timezone: ZoneInfo | None = None
    locale: str = Field(default="en", min_length=1)
    payday: str | None = Field(default=None, min_length=1)
    currency: str
    balance: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    due_date: date
    stage: str | None = None
    contacts: tuple[ContactSpec, ...] = ()


# -- events -----------------------------------------------------------------------------


class _EventBase(_Spec):
    at: AwareDatetime


class ContactEvent(_EventBase):
    """A contact attempt and its outcome (``type: contact``).

    Attributes:
        at: When.
        channel: The medium used.
        contact: The contact point's id; or give ``party``.
        party: Whom it reached, when no contact point is named.
        outcome: What came of it (``no_answer``, ``conversation``, …).
        automated: Autodialed, prerecorded or AI voice.
    """

    type: Literal["contact"]
    channel: Channel
    contact: Identifier | None = None
    party: Party | None = None
    outcome: Outcome
    automated: bool = False


class ConsentEvent(_EventBase):
    """The debtor's direct consent to be contacted now on a channel (``type: consent``)."""

    type: Literal["consent"]
    channel: Channel


class OptOutEvent(_EventBase):
    """The debtor asked to stop using a medium, or one address of it (``type: opt_out``)."""

    type: Literal["opt_out"]
    channel: Channel
    contact: Identifier | None = None


class InconvenientEvent(_EventBase):
    """The debtor named times that are inconvenient (``type: inconvenient``, ``from``, ``to``).

    Attributes:
        start: ``from``, local ``HH:MM``.
        end: ``to``, local ``HH:MM`` (before ``from`` when the span crosses midnight).
    """

    type: Literal["inconvenient"]
    start: LocalTime = Field(alias="from")
    end: LocalTime = Field(alias="to")


class DisputeEvent(_EventBase):
    """The debtor disputes the debt (``type: dispute``, ``written: true|false``)."""

    type: Literal["dispute"]
    written: bool


class VerificationSentEvent(_EventBase):
    """Verification was sent; every dispute hold ends (``type: verification_sent``)."""

    type: Literal["verification_sent"]


class CeaseEvent(_EventBase):
    """A written request to stop communicating (``type: cease``)."""

    type: Literal["cease"]


def _not_dispute_or_cease(kind: HoldKind) -> HoldKind:
    if kind in (HoldKind.DISPUTE, HoldKind.CEASE):
        raise ValueError(f"a {kind} is its own event: write type: {kind}")
    return kind


class HoldEvent(_EventBase):
    """A hold begins (``type: hold``).

    Attributes:
        kind: ``bankruptcy``, ``breathing_space``, ``deceased``, ``attorney``,
            ``hardship`` (or another `HoldKind` but ``dispute`` and ``cease``,
            which have events of their own).
        until: The date it ends (at midnight in the debtor's zone, UTC when unknown).
    """

    type: Literal["hold"]
    kind: Annotated[HoldKind, AfterValidator(_not_dispute_or_cease)]
    until: date | None = None


class HoldEndEvent(_EventBase):
    """Every active hold of a kind ends (``type: hold_end``)."""

    type: Literal["hold_end"]
    kind: HoldKind


class NoticeSentEvent(_EventBase):
    """A notice was sent, e.g. ``validation`` (``type: notice_sent``)."""

    type: Literal["notice_sent"]
    kind: NoticeKind


class PaymentEvent(_EventBase):
    """A payment in the case's currency (``type: payment``, ``amount``)."""

    type: Literal["payment"]
    amount: Amount


class PromiseEvent(_EventBase):
    """A promise to pay ``amount`` by ``due`` (``type: promise``)."""

    type: Literal["promise"]
    amount: Amount
    due: date


class TickEvent(_EventBase):
    """Run the policy at ``at``, as the daily tick would (``type: tick``; only with ``policy:``).

    The case is reviewed when a review is due at ``at``: at once after it is
    opened, then at the policy's ``review.time`` on the days it schedules.
    """

    type: Literal["tick"]


_EVENT_TYPES: Final = {
    "contact": ContactEvent,
    "consent": ConsentEvent,
    "opt_out": OptOutEvent,
    "inconvenient": InconvenientEvent,
    "dispute": DisputeEvent,
    "verification_sent": VerificationSentEvent,
    "cease": CeaseEvent,
    "hold": HoldEvent,
    "hold_end": HoldEndEvent,
    "notice_sent": NoticeSentEvent,
    "payment": PaymentEvent,
    "promise": PromiseEvent,
    "tick": TickEvent,
}


def _event_tag(value: Any) -> str | None:
    # Tags are "<type> event", never a key of an event, so an error's location
    # inside an event maps back onto the file unambiguously.
    kind = value.get("type") if isinstance(value, Mapping) else getattr(value, "type", None)
    return f"{kind} event" if isinstance(kind, str) and kind in _EVENT_TYPES else None


Event = Annotated[
    Annotated[ContactEvent, Tag("contact event")]
    | Annotated[ConsentEvent, Tag("consent event")]
    | Annotated[OptOutEvent, Tag("opt_out event")]
    | Annotated[InconvenientEvent, Tag("inconvenient event")]
    | Annotated[DisputeEvent, Tag("dispute event")]
    | Annotated[VerificationSentEvent, Tag("verification_sent event")]
    | Annotated[CeaseEvent, Tag("cease event")]
    | Annotated[HoldEvent, Tag("hold event")]
    | Annotated[HoldEndEvent, Tag("hold_end event")]
    | Annotated[NoticeSentEvent, Tag("notice_sent event")]
    | Annotated[PaymentEvent, Tag("payment event")]
    | Annotated[PromiseEvent, Tag("promise event")]
    | Annotated[TickEvent, Tag("tick event")],
    Discriminator(
        _event_tag,
        custom_error_type="event_type",
        custom_error_message=f"expected one of {', '.join(_EVENT_TYPES)}",
        custom_error_context={"field": "type"},
    ),
]
"""One thing that happened before the expectations, chosen by its ``type``."""


# -- expectations -----------------------------------------------------------------------


class VisitSpec(_Spec):
    """How a proposed field visit would be made (``visit:``); unset keys take the rule's default."""

    collectors: int | None = Field(default=None, ge=0)
    credentials: bool | None = None
    registered: bool | None = None
    recorded: bool | None = None


class ProposedContact(_Spec):
    """The contact an expectation asks about (``contact:`` of an ``expect`` entry).

    Attributes:
        channel: The medium.
        contact: The contact point's id; or give ``party``.
        party: Whom it would reach, when no contact point is named.
        automated: Autodialed, prerecorded or AI voice.
        purpose: Why (``collection`` unless given).
        text: The message text, for rules that check content.
        visit: How a field visit would be made.
    """

    channel: Channel
    contact: Identifier | None = None
    party: Party | None = None
    automated: bool = False
    purpose: str | None = Field(default=None, min_length=1)
    text: str | None = None
    visit: VisitSpec | None = None


class ActionExpectation(_Spec):
    """An action the policy should take (an item of ``actions:``; only with ``policy:``).

    A message is ``{channel, template?}``; a task for a person is ``{channel:
    call}`` or ``{channel: visit}`` (tasks have no template), or ``{task:
    KIND}`` for any kind, ``legal_review`` and ``negotiation`` included.

    Attributes:
        channel: The message's medium, or ``call`` / ``visit`` for a task.
        template: The message's template name; any when omitted.
        task: The task's kind: ``call``, ``visit``, ``negotiation`` or ``legal_review``.
        queue: The task's queue; any when omitted.
    """

    channel: Channel | None = None
    template: str | None = Field(default=None, min_length=1)
    task: TaskKind | None = None
    queue: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> ActionExpectation:
        if self.channel is None and self.task is None:
            raise ValueError("give channel (and optionally template) or task (a task's kind)")
        if self.task is not None and self.template is not None:
            raise ValueError("a task has no template: give template only with a message")
        if self.channel in _TASK_CHANNELS and self.template is not None:
            raise ValueError(
                f"a {self.channel} is a task for a person and has no template; "
                "give template only with sms, email, letter or voicemail"
            )
        if self.task is not None and self.channel is not None and self.channel != self.task:
            raise ValueError(f"task {self.task} has no channel {self.channel}; give one of them")
        if self.queue is not None and self.task is None and self.channel not in _TASK_CHANNELS:
            raise ValueError("a message has no queue: give queue only with a task")
        return self

    def matches(self, action: TakenAction) -> bool:
        """True when *action* is this one (what is omitted here is not compared)."""
        return (
            (self.channel is None or self.channel == action.channel)
            and (self.task is None or self.task == action.task)
            and (self.template is None or self.template == action.template)
            and (self.queue is None or self.queue == action.detail)
        )

    def __str__(self) -> str:
        queue = f" ({self.queue})" if self.queue is not None else ""
        if self.task is not None:
            return f"{self.task} task{queue}"
        channel = str(self.channel)
        if channel in _TASK_CHANNELS:
            return f"{channel} task{queue}"
        return f"{channel} {self.template}" if self.template is not None else channel


class Expectation(_Spec):
    """One ``expect`` entry: what must be decided at ``at``.

    An entry judges a proposed ``contact``, or checks the policy's ``stage``
    and ``actions`` (both only with ``policy:``), or both: the policy runs
    first, then the contact is judged.

    Attributes:
        at: When it is judged.
        contact: The proposed contact to judge.
        verdict: ``allow`` or ``deny``.
        rules: Rule ids that must be among the verdict's reasons.
        next_allowed_at: The verdict's ``next_allowed_at`` (``null`` for none),
            checked only when given.
        record: Record the contact when it is allowed, before the next entry.
        outcome: The outcome recorded (``no_answer`` unless given).
        stage: The case's stage after running the policy up to ``at``.
        actions: Every action the policy takes at ``at``: the messages it
            sends and the tasks it opens (``[]``: none).
    """

    at: AwareDatetime
    contact: ProposedContact | None = None
    verdict: Literal["allow", "deny"] | None = None
    rules: tuple[str, ...] = ()
    next_allowed_at: AwareDatetime | None = None
    record: bool = False
    outcome: Outcome = Outcome.NO_ANSWER
    stage: str | None = None
    actions: tuple[ActionExpectation, ...] | None = None


class Scenario(_Spec):
    """A whole scenario file.

    Attributes:
        name: What it shows, one line; printed by ``arrears test``.
        description: Longer notes for the reader.
        rules: The rule packs to apply, by pack id.
        policy: A policy file, relative to the scenario's folder; its packs
            judge every contact.
        overrides: Rule parameters to change, by rule id (on top of the
            policy's own overrides).
        case: The case.
        events: What happened before, oldest first.
        expect: What must be decided, in order.
    """

    name: str = Field(min_length=1)
    description: str | None = None
    rules: tuple[str, ...] | None = Field(default=None, min_length=1)
    policy: str | None = None
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    case: CaseSpec
    events: tuple[Event, ...] = ()
    expect: tuple[Expectation, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """What running a scenario showed.

    Attributes:
        name: The scenario's name.
        path: Its file.
        passed: True when every expectation held.
        failures: One explanation per expectation that did not hold, naming the
            entry, its line, what was expected and the verdict's reasons.
    """

    name: str
    path: Path
    passed: bool
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TakenAction:
    """An action a policy took when it ran: a message sent or a task opened.

    Attributes:
        channel: The message's medium; ``call`` or ``visit`` for those tasks,
            ``None`` for other tasks (a legal review).
        template: The message's template; ``None`` for a task.
        task: The task's kind; ``None`` for a message.
        step: The policy step that asked for it.
        detail: The task's queue; ``None`` for a message.
    """

    channel: str | None
    template: str | None
    task: str | None
    step: str
    detail: str | None = None

    def __str__(self) -> str:
        if self.task is not None:
            return f"{self.task} task ({self.detail})" if self.detail else f"{self.task} task"
        return f"{self.channel} {self.template}" if self.template else str(self.channel)


# -- loading ----------------------------------------------------------------------------


def _structure_problems(scenario: Scenario, document: LocatedDocument) -> list[Problem]:
    """What the schema cannot say: order in time, references, and what needs a policy."""
    problems: list[Problem] = []

    def problem(path: FieldPath, message: str) -> None:
        problems.append(document.problem(path, message))

    if scenario.rules is None and scenario.policy is None:
        problem(("rules",), "missing: give rules (rule pack ids) or policy (a policy file)")
    if scenario.rules is not None and scenario.policy is not None:
        problem(("policy",), "give rules or policy, not both")
    with_policy = scenario.policy is not None

    spec = scenario.case
    try:
        quantum = currency_quantum(spec.currency)
    except InvalidInput as err:
        problem(("case", "currency"), f"got {spec.currency!r}, expected {err.expected}")
    else:
        amounts: list[tuple[FieldPath, Decimal]] = [(("case", "balance"), spec.balance)]
        for index, event in enumerate(scenario.events):
            if isinstance(event, (PaymentEvent, PromiseEvent)):
                amounts.append((("events", index, "amount"), event.amount))
        for where, amount in amounts:
            if amount.quantize(quantum) != amount:
                places = -quantum.as_tuple().exponent  # type: ignore[operator]
                problem(where, f"got {amount}, expected at most {places} decimal places")
    known = {point.id for point in spec.contacts}
    seen: set[str] = set()
    for index, point in enumerate(spec.contacts):
        if point.id in seen:
            problem(("case", "contacts", index, "id"), f"contact id {point.id!r} appears twice")
        seen.add(point.id)

    def refer(path: FieldPath, contact: str | None) -> None:
        if contact is not None and contact not in known:
            listed = ", ".join(sorted(known)) or "none"
            problem(path, f"no contact {contact!r} in case.contacts (known: {listed})")

    latest: datetime | None = None
    for index, event in enumerate(scenario.events):
        before = scenario.events[index - 1].at if index else None
        if before is not None and event.at < before:
            problem(
                ("events", index, "at"),
                f"{event.at.isoformat()} is before events[{index - 1}].at "
                f"({before.isoformat()}); events are listed oldest first",
            )
        latest = event.at if latest is None else max(latest, event.at)
        if isinstance(event, (ContactEvent, OptOutEvent)):
            refer(("events", index, "contact"), event.contact)
        if isinstance(event, ContactEvent) and event.contact is None and event.party is None:
            problem(("events", index, "contact"), "missing: give contact (an id) or party")
        if isinstance(event, TickEvent) and not with_policy:
            problem(
                ("events", index, "type"),
                "a tick runs a policy: give policy (a policy file) instead of rules",
            )

    for index, entry in enumerate(scenario.expect):
        path: FieldPath = ("expect", index)
        # With a policy the scenario is one timeline: events and entries are taken
        # together in time order, so a walk can check each day and pay in between.
        if index == 0 and latest is not None and entry.at < latest and not with_policy:
            problem(
                (*path, "at"),
                f"{entry.at.isoformat()} is before the last event ({latest.isoformat()})",
            )
        elif index > 0 and entry.at < scenario.expect[index - 1].at:
            problem(
                (*path, "at"),
                f"{entry.at.isoformat()} is before expect[{index - 1}].at "
                f"({scenario.expect[index - 1].at.isoformat()})",
            )
        given = entry.model_fields_set
        policy_keys = [key for key in ("stage", "actions") if key in given]
        if policy_keys and not with_policy:
            which = policy_keys[0]
            problem(
                (*path, which),
                f"{which} expectations check a policy: give policy (a policy file) "
                "instead of rules",
            )
            continue
        if entry.contact is None:
            if policy_keys:
                for key in ("verdict", "rules", "next_allowed_at", "record", "outcome"):
                    if key in given:
                        problem((*path, key), f"{key} judges a contact: give contact too")
                continue
            problem((*path, "contact"), "missing: give contact (the contact to judge)")
            continue
        if entry.verdict is None:
            problem((*path, "verdict"), "missing: give verdict (allow or deny)")
        refer((*path, "contact", "contact"), entry.contact.contact)
        if entry.contact.contact is None and entry.contact.party is None:
            problem((*path, "contact", "contact"), "missing: give contact (an id) or party")
        if "outcome" in given and not entry.record:
            problem((*path, "outcome"), "an outcome is recorded only with record: true")
    return problems


def _rule_problems(scenario: Scenario, document: LocatedDocument) -> list[Problem]:
    """Pack ids and rule ids that the library does not know."""
    problems: list[Problem] = []
    packs = known_packs()
    rule_ids = known_rule_ids()
    for index, pack in enumerate(scenario.rules or ()):
        if pack not in packs:
            problems.append(
                document.problem(
                    ("rules", index),
                    f"unknown rule pack {pack!r}; known packs: {', '.join(sorted(packs))}",
                )
            )
    for rule in scenario.overrides:
        if rule not in rule_ids:
            problems.append(document.problem(("overrides", rule), f"unknown rule id {rule!r}"))
    for index, entry in enumerate(scenario.expect):
        for position, rule in enumerate(entry.rules):
            if rule not in rule_ids:
                problems.append(
                    document.problem(
                        ("expect", index, "rules", position), f"unknown rule id {rule!r}"
                    )
                )
    return problems


@dataclass(frozen=True, slots=True)
class _PolicySetup:
    """A scenario's policy, loaded: the policy, its file as problems name it, its templates."""

    policy: Policy
    file: str
    templates: TemplateSet | None


def _policy_steps(policy: Policy) -> list[Step]:
    """Every step of the policy, its variants' included."""
    steps = list(policy.steps)
    for variant in policy.variants:
        steps.extend(variant.steps or ())
    return steps


def _policy_problem(file: Path, shown: str, path: FieldPath, message: str) -> Problem:
    """A problem at *path* of the policy file, on its line when the file is YAML."""
    try:
        return load_file(file, shown).problem(path, message)
    except DocumentInvalid:
        return Problem(shown, 1, field_name(path), message)


def _load_policy(
    scenario: Scenario, document: LocatedDocument, path: str | os.PathLike[str]
) -> _PolicySetup:
    """The scenario's policy and templates; their own problems name the policy's file and line."""
    assert scenario.policy is not None
    file = Path(path).parent / scenario.policy
    shown = os.path.normpath(file)
    if not file.is_file():
        raise ScenarioInvalid(
            [
                document.problem(
                    ("policy",),
                    f"no policy file {shown} (the path is relative to the scenario's folder)",
                )
            ]
        )
    try:
        policy = load_policy(file, name=shown)
    except PolicyInvalid as err:
        count = len(err.problems)
        noun = "problem follows" if count == 1 else f"{count} problems follow"
        head = document.problem(("policy",), f"the policy {shown} is not valid ({noun})")
        raise ScenarioInvalid([head, *err.problems]) from None
    templates = None
    if policy.templates is not None:
        try:
            templates = TemplateSet.load(policy.templates)
        except ArrearsError as err:
            raise ScenarioInvalid(
                [_policy_problem(file, shown, ("templates",), f"the templates do not load: {err}")]
            ) from None
    return _PolicySetup(policy, shown, templates)


def _against_policy(
    scenario: Scenario, document: LocatedDocument, setup: _PolicySetup
) -> list[Problem]:
    """Stage and template names the scenario uses that the policy does not have."""
    problems: list[Problem] = []
    workflow = setup.policy.build_workflow()
    stages = list(workflow.stages)
    live = [stage for stage in stages if not workflow.is_terminal(stage)]
    start = scenario.case.stage
    if start is not None and start not in live:
        what = "a terminal stage" if start in stages else "not a stage of the policy"
        problems.append(
            document.problem(
                ("case", "stage"), f"{start!r} is {what}; a case starts in one of {live}"
            )
        )
    sent = sorted(
        {
            step.send.template
            for step in _policy_steps(setup.policy)
            if step.send is not None and step.send.template is not None
        }
    )
    for index, entry in enumerate(scenario.expect):
        if "stage" in entry.model_fields_set and entry.stage not in stages:
            problems.append(
                document.problem(
                    ("expect", index, "stage"),
                    f"unknown stage {entry.stage!r}; the policy's stages are {stages}",
                )
            )
        for position, action in enumerate(entry.actions or ()):
            if action.template is not None and action.template not in sent:
                problems.append(
                    document.problem(
                        ("expect", index, "actions", position, "template"),
                        f"no step of the policy sends template {action.template!r} "
                        f"(its steps send: {', '.join(sent) or 'none'})",
                    )
                )
    return problems


def _load(
    path: str | os.PathLike[str],
) -> tuple[Scenario, LocatedDocument, _PolicySetup | None]:
    try:
        document = load_file(path)
    except DocumentInvalid as err:
        raise ScenarioInvalid(err.problems) from None
    if not isinstance(document.data, Mapping):
        found = "an empty file" if document.data is None else type(document.data).__name__
        raise ScenarioInvalid(
            [document.problem((), f"got {found}, expected a mapping of name, rules, case, expect")]
        )
    try:
        scenario = Scenario.model_validate(document.data)
    except pydantic.ValidationError as err:
        raise ScenarioInvalid(_validation_problems(err, document)) from None
    for check in (_structure_problems, _rule_problems):
        problems = check(scenario, document)
        if problems:
            raise ScenarioInvalid(sorted(problems, key=lambda problem: problem.line))
    if scenario.policy is None:
        return scenario, document, None
    setup = _load_policy(scenario, document, path)
    problems = _against_policy(scenario, document, setup)
    if problems:
        raise ScenarioInvalid(sorted(problems, key=lambda problem: problem.line))
    return scenario, document, setup


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and check a scenario file without running it.

    Args:
        path: The YAML file.

    Returns:
        The scenario, with every time aware and every id checked.

    Raises:
        ScenarioInvalid: the file is not YAML or not a valid scenario, or its
            policy file does not load; every problem names the file, the line
            and the field (the policy's own problems name the policy's file).
    """
    return _load(path)[0]


# -- checking a policy ------------------------------------------------------------------

#: The language of each jurisdiction's messages, by the part of a pack id before
#: its first "-": the templates a policy's checks judge unless locales are given
#: (a CN policy's zh-CN templates against the CN pack, not its en-US ones).
PACK_LANGUAGES: Final[Mapping[str, str]] = {"CN": "zh", "US": "en", "UK": "en"}


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """What checking a policy file found.

    Attributes:
        path: The file.
        policy: The policy, or ``None`` when it does not load.
        problems: Every problem, each naming the file, the line and the field.
    """

    path: Path
    policy: Policy | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when the policy loads and nothing is wrong with it."""
        return self.policy is not None and not self.problems


def _located(file: Path, shown: str) -> LocatedDocument:
    """The policy file with its lines (only the top for TOML, whose parser gives none)."""
    try:
        return load_file(file, shown)
    except DocumentInvalid:
        return LocatedDocument(shown, None, {(): 1})


def _wanted(locale: str, chosen: Sequence[str]) -> bool:
    """True when *locale* is one of *chosen*, or in a language *chosen* names (``zh``)."""
    return any(locale == item or locale.split("-")[0] == item for item in chosen)


def check_policy(
    path: str | os.PathLike[str], *, locales: Sequence[str] | None = None
) -> PolicyCheck:
    """Check a policy file: what `load_policy` checks, then its templates and lender details.

    With a ``templates`` folder, the ``lender`` details are validated, and
    every template a step sends is looked up by name and channel (a name
    with no template is a problem at the step's ``send.template``) and
    checked as `TemplateSet.check` does, against the policy's packs and
    overrides, for the party the step sends to.  A template must also use
    only variables a review gives it: the case's facts, the lender details
    the policy sets, and ``deadline`` when the step sets ``deadline_days``
    or runs only before the due date.

    Args:
        path: The policy file (YAML or TOML).
        locales: The locales whose templates are checked, e.g. ``["zh-CN"]``
            (a bare language such as ``"zh"`` takes all of it); by default
            the languages of the policy's packs (`PACK_LANGUAGES`), or every
            locale when none of its packs is listed there.

    Returns:
        The policy (``None`` when it does not load) and every problem found.
    """
    file = Path(path)
    shown = str(path)
    try:
        policy = load_policy(file, name=shown)
    except PolicyInvalid as err:
        return PolicyCheck(file, None, list(err.problems))
    if policy.templates is None:
        return PolicyCheck(file, policy, [])
    document = _located(file, shown)
    problems: list[Problem] = []
    try:  # what messages say about the lender: read only when templates are rendered
        LenderDetails.of(policy.lender)
    except InvalidInput as err:
        problems.append(
            document.problem(
                tuple(err.field.split(".")), f"got {err.value!r}, expected {err.expected}"
            )
        )
    except (TypeError, ValueError, ArithmeticError) as err:
        problems.append(document.problem(("lender",), str(err)))
    problems.extend(_template_problems(policy, document, locales))
    return PolicyCheck(file, policy, sorted(problems, key=lambda problem: problem.line))


def _sends(policy: Policy) -> list[tuple[FieldPath, Step, SendAction]]:
    """Every step that sends a template, its variants' included, with the path of the name."""
    found: list[tuple[FieldPath, Step, SendAction]] = []
    groups: list[tuple[FieldPath, Sequence[Step]]] = [(("steps",), policy.steps)]
    for index, variant in enumerate(policy.variants):
        if variant.steps is not None:
            groups.append((("variants", index, "steps"), variant.steps))
    for where, steps in groups:
        for index, step in enumerate(steps):
            if step.send is not None and step.send.template is not None:
                found.append(((*where, index, "send", "template"), step, step.send))
    return found


#: Stages where a review gives ``deadline`` by itself: the due date ahead, or the
#: next date of the running promise or plan.
_DEADLINE_STAGES: Final = frozenset({"pre_due", "promise", "repayment_plan"})

#: Variables only the caller of `context_for` gives: a review never does.
_CALLERS_VARIABLES: Final = frozenset({"agent_name", "callback_number", "reply_by"})


def _unfilled(template: MessageTemplate, step: Step, lender: frozenset[str]) -> list[str]:
    """Why a review cannot fill the variables *template* uses when *step* sends it."""
    why: list[str] = []
    given = set(step.send.variables) if step.send is not None else set()
    for name in sorted(template.variables):
        if name in given:
            continue
        if name in _CALLERS_VARIABLES or name in template.meta.variables:
            why.append(f"uses {name!r}, which a review never gives: set send.variables")
        elif name.startswith(("lender_", "late_fee_")) or name in (
            "business_name",
            "sms_signature",
        ):
            if name not in lender:
                why.append(f"uses {name!r}: give its detail under lender")
        elif (
            name == "deadline"
            and step.send is not None
            and step.send.deadline_days is None
            and (step.stages is None or set(step.stages) - _DEADLINE_STAGES)
        ):
            why.append(
                "uses 'deadline', which a review gives only before the due date or "
                "while a promise or plan runs: set send.deadline_days"
            )
    return why


def _template_problems(
    policy: Policy, document: LocatedDocument, locales: Sequence[str] | None
) -> list[Problem]:
    assert policy.templates is not None
    try:
        templates = TemplateSet.load(policy.templates)
    except ArrearsError as err:
        return [document.problem(("templates",), f"the templates do not load: {err}")]
    if locales is None:
        languages = [PACK_LANGUAGES.get(pack.split("-")[0]) for pack in policy.packs]
        locales = sorted({language for language in languages if language is not None})
    problems: list[Problem] = []
    chosen: dict[str, FieldPath] = {}
    lender = frozenset(LenderDetails.of(policy.lender).context()) if _sound(policy) else None
    for where, step, action in _sends(policy):
        name, channel = str(action.template), str(action.channel)
        same = [t for t in templates if t.name == name and t.channel == channel]
        if not same:
            others = sorted({t.name for t in templates if t.channel == channel})
            problems.append(
                document.problem(
                    where,
                    f"unknown template {name!r} (the {channel} templates are: "
                    f"{', '.join(others) or 'none'})",
                )
            )
            continue
        mine = [t for t in same if not locales or _wanted(t.locale, locales)]
        if not mine:
            found = ", ".join(sorted(t.locale for t in same))
            problems.append(
                document.problem(
                    where,
                    f"no {channel} template {name!r} in {', '.join(locales)} (only in {found})",
                )
            )
            continue
        for template in mine:
            if action.party not in template.parties:
                problems.append(
                    document.problem(
                        where,
                        f"{template.id} may not go to the {action.party} (only to "
                        f"{', '.join(sorted(template.parties))})",
                    )
                )
            if lender is not None:
                for why in _unfilled(template, step, lender):
                    problems.append(document.problem(where, f"{template.id} {why}"))
            chosen.setdefault(template.id, where)
    subset = TemplateSet(t for t in templates if t.id in chosen)
    for found_problem in subset.check(compliance=policy.build_compliance()):
        problems.append(document.problem(chosen[found_problem.template], str(found_problem)))
    return problems


def _sound(policy: Policy) -> bool:
    """True when the policy's lender details are valid (they are reported apart)."""
    try:
        LenderDetails.of(policy.lender)
    except (ArrearsError, TypeError, ValueError, ArithmeticError):
        return False
    return True


# -- running ----------------------------------------------------------------------------


def _field_path(
    document: LocatedDocument, path: FieldPath, keys: Mapping[str, Any], err: InvalidInput
) -> FieldPath:
    """Where in the file the field an engine error names was written, if it can be told."""
    if err.field in keys:
        return (*path, err.field)
    parts = tuple(err.field.split("."))
    for where in ((*path, *parts), parts):
        if where in document.lines:
            break
    else:
        return path
    data = document.data
    for step in where:
        data = data[step]
    if isinstance(data, Mapping) and isinstance(err.value, str) and err.value in data:
        return (*where, err.value)  # e.g. an override for a rule the packs do not have
    return where


@contextmanager
def _blame(document: LocatedDocument, path: FieldPath, keys: Mapping[str, Any]) -> Iterator[None]:
    """Report the engine refusing a step of the scenario as a problem at that step."""
    try:
        yield
    except ScenarioInvalid:
        raise
    except InvalidInput as err:
        where = _field_path(document, path, keys, err)
        message = f"got {err.value!r}, expected {err.expected}" if where != path else str(err)
        raise ScenarioInvalid([document.problem(where, message)]) from None
    except pydantic.ValidationError as err:
        raise ScenarioInvalid(_validation_problems(err, document, at=path)) from None
    except (ArrearsError, ValueError) as err:
        raise ScenarioInvalid([document.problem(path, str(err))]) from None


def _build_case(spec: CaseSpec, document: LocatedDocument, stage: str) -> Case:
    contacts = []
    for index, point in enumerate(spec.contacts):
        data = point.model_dump()
        with _blame(document, ("case", "contacts", index), data):
            contacts.append(ContactPoint.model_validate(data))
    with _blame(document, ("case",), spec.model_dump()):
        return Case(
            id=spec.id,
            debtor=Debtor(
                id=spec.id, timezone=spec.timezone, locale=spec.locale, payday=spec.payday
            ),
            contacts=tuple(contacts),
            balance=Balance(currency=spec.currency, principal=spec.balance),
            due_date=spec.due_date,
            stage=spec.stage or stage,
        )


def _agents(policy: Policy) -> list[Agent]:
    """One agent per task queue the policy names (with the skills its tasks there need)."""
    skills: dict[str, set[str]] = {}
    for step in _policy_steps(policy):
        if step.task is not None:
            needed = skills.setdefault(step.task.queue, set())
            if step.task.skill is not None:
                needed.add(step.task.skill)
    return [
        Agent(id=queue, queues=frozenset({queue}), skills=frozenset(needed))
        for queue, needed in sorted(skills.items())
    ]


def _taken(entry: JournalEntry) -> TakenAction | None:
    """The action a journal entry of a review records: a message's intent or a task opened."""
    data = entry.data
    if entry.kind == "outbox_intent":
        return TakenAction(str(data["channel"]), data.get("template"), None, str(data["step"]))
    if entry.kind == "task_opened":
        task = data["task"]
        kind = str(task["kind"])
        channel = kind if kind in _TASK_CHANNELS else None
        return TakenAction(channel, None, kind, str(task["step"]), str(task["queue"]))
    return None


def _denial(entry: JournalEntry) -> str | None:
    """A message the review wanted and compliance denied, as ``sms (CN-HOURS)``."""
    if entry.kind != "contact_denied" or "key" not in entry.data:
        return None
    rules = ", ".join(str(reason["rule"]) for reason in entry.data.get("reasons", ()))
    return f"{entry.data['channel']} ({rules})"


def _match(expected: Sequence[ActionExpectation], taken: Sequence[TakenAction]) -> bool:
    """True when each expected action is a different taken one and none is left over."""
    if len(expected) != len(taken):
        return False
    owner: dict[int, int] = {}  # taken index -> expected index

    def place(index: int, seen: set[int]) -> bool:
        for other, action in enumerate(taken):
            if other in seen or not expected[index].matches(action):
                continue
            seen.add(other)
            if other not in owner or place(owner[other], seen):
                owner[other] = index
                return True
        return False

    return all(place(index, set()) for index in range(len(expected)))


class _Run:
    """One run of a scenario: an engine of its own, fed the events, then asked each question."""

    def __init__(
        self,
        scenario: Scenario,
        document: LocatedDocument,
        path: Path,
        setup: _PolicySetup | None = None,
    ) -> None:
        self.scenario = scenario
        self.document = document
        self.path = path
        self.case_id = scenario.case.id
        self.zone = scenario.case.timezone
        self.failures: list[str] = []
        #: What the policy did at each moment it ran: actions taken, messages denied.
        self.taken: dict[datetime, list[TakenAction]] = {}
        self.denied: dict[datetime, list[str]] = {}
        self.reviewed: set[datetime] = set()
        first = scenario.expect[0].at
        if scenario.events:
            first = min(first, scenario.events[0].at)
        self.clock = SettableClock(first)
        if setup is None:
            with _blame(document, ("overrides",), {}):
                compliance = Compliance(scenario.rules or (), overrides=scenario.overrides)
            self.engine = Engine(compliance=compliance, clock=self.clock)
        else:
            self.engine = self._policy_engine(setup)
        case = _build_case(scenario.case, document, self.engine.workflow.definition.initial)
        with _blame(document, ("case",), scenario.case.model_dump()):
            self.engine.open_case(case, at=first)

    def _policy_engine(self, setup: _PolicySetup) -> Engine:
        """An engine running the policy, with a recording channel and an agent per queue."""
        policy = setup.policy
        compliance = None
        if self.scenario.overrides:
            merged = {rule: dict(values) for rule, values in policy.overrides.items()}
            for rule, values in self.scenario.overrides.items():
                merged.setdefault(rule, {}).update(values)
            with _blame(self.document, ("overrides",), {}):
                compliance = Compliance(policy.packs, overrides=merged)
        return Engine(
            policy=policy,
            compliance=compliance,
            channels=[RecordingChannel(channels=_AUTOMATED_CHANNELS)],
            templates=setup.templates,
            agents=_agents(policy),
            clock=self.clock,
        )

    def result(self) -> ScenarioResult:
        events = self.scenario.events
        done = 0
        for index, entry in enumerate(self.scenario.expect):
            # Every event up to the entry's moment first (all of them, without a
            # policy: those entries may not come before the last event).
            while done < len(events) and events[done].at <= entry.at:
                self._event(done, events[done])
                done += 1
            self.clock.set(entry.at)
            failure = self._judge(index, entry)
            if failure is not None:
                self.failures.append(failure)
        for index in range(done, len(events)):
            self._event(index, events[index])
        failures = self.failures
        return ScenarioResult(self.scenario.name, self.path, not failures, failures)

    def _event(self, index: int, event: Event) -> None:
        self.clock.set(event.at)
        with _blame(self.document, ("events", index), event.model_dump(by_alias=True)):
            self._replay(index, event)

    def _run_policy(self, at: datetime) -> list[str]:
        """Run the daily tick at *at*; returns why the review failed, if it did."""
        journal = self.engine.history(self.case_id)
        before = len(journal)
        report = self.engine.tick(at)
        if report.reviewed:
            self.reviewed.add(at)
        taken = self.taken.setdefault(at, [])
        denied = self.denied.setdefault(at, [])
        for entry in self.engine.history(self.case_id)[before:]:
            action = _taken(entry)
            if action is not None:
                taken.append(action)
            denial = _denial(entry)
            if denial is not None:
                denied.append(denial)
        return [
            f"the review at {at.isoformat()} failed: {error}"
            for case_id, error in report.errors
            if case_id == self.case_id
        ]

    def _replay(self, index: int, event: Event) -> None:
        engine = self.engine
        case_id = self.case_id
        at = event.at
        if isinstance(event, TickEvent):
            line = self.document.line_of(("events", index))
            for error in self._run_policy(at):
                self.failures.append(f"events[{index}] (line {line}): {error}")
        elif isinstance(event, ContactEvent):
            engine.record_interaction(
                case_id,
                event.channel,
                event.outcome,
                contact=event.contact,
                party=event.party,
                automated=event.automated,
                at=at,
            )
        elif isinstance(event, ConsentEvent):
            engine.record_consent(case_id, event.channel, contact=None, at=at)
        elif isinstance(event, OptOutEvent):
            engine.record_opt_out(case_id, event.channel, contact=event.contact, at=at)
        elif isinstance(event, InconvenientEvent):
            engine.record_inconvenient(case_id, start=event.start, end=event.end, at=at)
        elif isinstance(event, DisputeEvent):
            reason = "written dispute" if event.written else "oral dispute"
            engine.add_hold(case_id, HoldKind.DISPUTE, reason, written=event.written, at=at)
        elif isinstance(event, VerificationSentEvent):
            engine.record_notice(case_id, "verification", at=at)
            self._release(HoldKind.DISPUTE, at)
        elif isinstance(event, CeaseEvent):
            engine.add_hold(case_id, HoldKind.CEASE, "written request to stop", written=True, at=at)
        elif isinstance(event, HoldEvent):
            until = None
            if event.until is not None:
                until = datetime.combine(event.until, time(0), tzinfo=self.zone or UTC)
            engine.add_hold(case_id, event.kind, f"{event.kind} reported", until=until, at=at)
        elif isinstance(event, HoldEndEvent):
            self._release(event.kind, at)
        elif isinstance(event, NoticeSentEvent):
            engine.record_notice(case_id, event.kind, at=at)
        elif isinstance(event, PaymentEvent):
            engine.record_payment(case_id, Money(event.amount, self.scenario.case.currency), at=at)
        elif isinstance(event, PromiseEvent):
            # Promises arrive with the promise-to-pay work; until then say so plainly.
            record_promise = getattr(engine, "record_promise", None)
            if record_promise is None:
                raise ScenarioInvalid(
                    [
                        self.document.problem(
                            ("events", index, "type"),
                            "promise events are not supported by this version",
                        )
                    ]
                )
            record_promise(
                case_id, Money(event.amount, self.scenario.case.currency), event.due, at=at
            )
        else:  # pragma: no cover - every event type is handled above
            raise AssertionError(f"unexpected event {event!r}")

    def _release(self, kind: str, at: datetime) -> None:
        for hold in self.engine.case(self.case_id).active_holds(at):
            if hold.kind == kind:
                self.engine.release_hold(self.case_id, hold.id, at=at)

    def _proposal(self, index: int, spec: ProposedContact) -> Proposal:
        data = spec.model_dump(exclude_none=True, exclude={"visit"})
        if spec.visit is not None:
            data["visit"] = spec.visit.model_dump(exclude_none=True)
        with _blame(self.document, ("expect", index, "contact"), data):
            return Proposal.model_validate(data)

    def _judge(self, index: int, entry: Expectation) -> str | None:
        path: FieldPath = ("expect", index)
        wrong: list[str] = []
        given = entry.model_fields_set
        if "stage" in given or "actions" in given:
            wrong.extend(self._policy_mismatch(entry))
        spec = entry.contact
        if spec is not None:
            failure = self._judge_contact(index, entry, spec)
            if failure is not None:
                wrong.append(failure)
        if not wrong:
            return None
        line = self.document.line_of(path)
        return f"expect[{index}] (line {line}): {'; '.join(wrong)}"

    def _policy_mismatch(self, entry: Expectation) -> list[str]:
        """Run the policy up to the entry's moment; what differs from its stage and actions."""
        wrong = self._run_policy(entry.at)
        if entry.stage is not None:
            stage = self.engine.case(self.case_id).stage
            if stage != entry.stage:
                wrong.append(f"expected stage {entry.stage}, got {stage}")
        if entry.actions is not None:
            taken = self.taken.get(entry.at, [])
            if not _match(entry.actions, taken):
                expected = ", ".join(map(str, entry.actions)) or "none"
                got = ", ".join(map(str, taken)) or "none"
                denied = self.denied.get(entry.at)
                note = f" (denied: {', '.join(denied)})" if denied else ""
                if entry.at not in self.reviewed:
                    note += self._not_due()
                wrong.append(f"expected actions [{expected}], got [{got}]{note}")
        return wrong

    def _not_due(self) -> str:
        """Why nothing was done: the case's review was not due (and when it is)."""
        upcoming = self.engine.store.next_review(self.case_id)
        if upcoming is None:
            return " (the case is no longer reviewed)"
        if self.zone is not None:
            upcoming = upcoming.astimezone(self.zone)
        return f" (no review was due; the next is at {upcoming.isoformat()})"

    def _judge_contact(self, index: int, entry: Expectation, spec: ProposedContact) -> str | None:
        path: FieldPath = ("expect", index)
        proposal = self._proposal(index, spec)
        with _blame(self.document, (*path, "contact"), spec.model_dump()):
            verdict = self.engine.judge_contact(self.case_id, proposal, at=entry.at)
        failure = _mismatch(entry, verdict)
        if entry.record and verdict.allowed:
            with _blame(self.document, path, entry.model_dump()):
                self.engine.record_interaction(
                    self.case_id,
                    spec.channel,
                    entry.outcome,
                    contact=spec.contact,
                    party=spec.party,
                    automated=spec.automated,
                    purpose=proposal.purpose,
                    at=entry.at,
                )
        return failure


def _mismatch(entry: Expectation, verdict: Verdict) -> str | None:
    """What in *verdict* differs from *entry*, with the verdict's reasons; None when it matches."""
    wrong: list[str] = []
    got = "allow" if verdict.allowed else "deny"
    if got != entry.verdict:
        wrong.append(f"expected {entry.verdict}, got {got}")
    fired = [reason.rule for reason in verdict.reasons]
    missing = [rule for rule in entry.rules if rule not in fired]
    if missing:
        wrong.append(f"expected {', '.join(missing)} among the reasons")
    if "next_allowed_at" in entry.model_fields_set and entry.next_allowed_at != (
        verdict.next_allowed_at
    ):
        expected = _moment(entry.next_allowed_at)
        wrong.append(f"expected next_allowed_at {expected}, got {_moment(verdict.next_allowed_at)}")
    if not wrong:
        return None
    reasons = "; ".join(f"{reason.rule}: {reason.message}" for reason in verdict.reasons)
    return f"{', '.join(wrong)} (reasons: {reasons or 'none'})"


def _moment(value: datetime | None) -> str:
    return "null" if value is None else value.isoformat()


def run_scenario(path: str | os.PathLike[str]) -> ScenarioResult:
    """Run one scenario file: build its case, replay its events, judge its expectations.

    Each run has an engine of its own, on a settable clock that starts at the
    first time in the file; the case is opened then, every event is recorded
    at its time, and each expectation is judged at its own.  An expectation
    with ``record: true`` records its contact when it is allowed.

    With ``policy:``, the engine runs the policy file: its packs judge every
    contact, a `RecordingChannel` takes every message (sms, email, letter,
    voicemail), templates come from the policy's folder, and each task queue
    the policy names has one agent (named after the queue).  A ``tick``
    event, and an expectation of ``stage`` or ``actions``, run the daily tick
    at their moment (`Engine.tick`); the actions at a moment are the messages
    the policy's reviews there sent (their outbox intents) and the tasks they
    opened.  A review that fails is a failure of the scenario.

    Args:
        path: The YAML file.

    Returns:
        Whether every expectation held and, for each that did not, why.

    Raises:
        ScenarioInvalid: the file is not a valid scenario, its policy file does
            not load, or the engine refused one of its events (e.g. a hold
            ending before it starts); the error names the file, the line and
            the field.

    Example:
        >>> result = run_scenario("tests/scenarios/us_7in7.yaml")  # doctest: +SKIP
        >>> result.passed, result.failures                          # doctest: +SKIP
        (True, [])
    """
    scenario, document, setup = _load(path)
    return _Run(scenario, document, Path(path), setup).result()
