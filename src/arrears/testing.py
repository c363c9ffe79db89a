"""Tools to test compliance rules and lender policies: scenario files and their runner.

A scenario is a YAML file a compliance officer can write without Python: a
case, what has happened to it, and what the library must decide next (the
format is described in ``docs/scenarios.md``).  `run_scenario` runs one and
says whether every expectation held; ``arrears test PATH...`` runs many.

    >>> result = run_scenario("tests/scenarios/us_7in7.yaml")   # doctest: +SKIP
    >>> assert result.passed, "\\n".join(result.failures)       # doctest: +SKIP

The models below (`Scenario` and its parts) are the format itself: every key
not declared here is an error, reported with its file, line and field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
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
)

from ._exceptions import ArrearsError, InvalidInput
from ._yaml import DocumentInvalid, FieldPath, LocatedDocument, Problem, load_file
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
from .clock import SettableClock
from .compliance import Compliance, Proposal, Verdict, known_packs, known_rule_ids
from .engine import Engine
from .money import Money, currency_quantum

__all__ = [
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
    "PromiseEvent",
    "ProposedContact",
    "Scenario",
    "ScenarioInvalid",
    "ScenarioResult",
    "TickEvent",
    "VerificationSentEvent",
    "VisitSpec",
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
        currency: ISO 4217 code of the balance.
        balance: The overdue amount (principal), a decimal string.
        due_date: The first missed due date.
        stage: The workflow stage the case is in (``pre_due`` by default).
        contacts: The contact points.
    """

    id: Identifier
    timezone: ZoneInfo | None = None
    currency: str
    balance: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    due_date: date
    stage: str = "pre_due"
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
    """Run the policy at ``at`` (``type: tick``; only with ``policy:``, not supported yet)."""

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
    """An action the policy should take (``actions:``; only with ``policy:``, not supported yet)."""

    channel: Channel
    template: str | None = None


class Expectation(_Spec):
    """One ``expect`` entry: what must be decided at ``at``.

    Attributes:
        at: When it is judged.
        contact: The proposed contact to judge.
        verdict: ``allow`` or ``deny``.
        rules: Rule ids that must be among the verdict's reasons.
        next_allowed_at: The verdict's ``next_allowed_at`` (``null`` for none),
            checked only when given.
        record: Record the contact when it is allowed, before the next entry.
        outcome: The outcome recorded (``no_answer`` unless given).
        stage: The stage after running the policy up to ``at`` (not supported yet).
        actions: The policy's actions at ``at`` (not supported yet).
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
        policy: A policy file, relative to the scenario (not supported yet).
        overrides: Rule parameters to change, by rule id.
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


# -- loading ----------------------------------------------------------------------------


def _structure_problems(scenario: Scenario, document: LocatedDocument) -> list[Problem]:
    """What the schema cannot say: order in time, references, and what is not supported yet."""
    problems: list[Problem] = []

    def problem(path: FieldPath, message: str) -> None:
        problems.append(document.problem(path, message))

    if scenario.rules is None and scenario.policy is None:
        problem(("rules",), "missing: give rules (rule pack ids) or policy (a policy file)")
    if scenario.rules is not None and scenario.policy is not None:
        problem(("policy",), "give rules or policy, not both")
    elif scenario.policy is not None:
        problem(("policy",), "policy files are not supported yet; use rules: [pack ids]")

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
        if isinstance(event, TickEvent):
            problem(("events", index, "type"), "tick events are not supported yet")

    for index, entry in enumerate(scenario.expect):
        path: FieldPath = ("expect", index)
        if index == 0 and latest is not None and entry.at < latest:
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
        if entry.stage is not None or entry.actions is not None:
            which = "stage" if entry.stage is not None else "actions"
            problem((*path, which), f"{which} expectations are not supported yet")
            continue
        if entry.contact is None:
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


def _load(path: str | os.PathLike[str]) -> tuple[Scenario, LocatedDocument]:
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
    return scenario, document


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and check a scenario file without running it.

    Args:
        path: The YAML file.

    Returns:
        The scenario, with every time aware and every id checked.

    Raises:
        ScenarioInvalid: the file is not YAML or not a valid scenario; every
            problem names the file, the line and the field.
    """
    return _load(path)[0]


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


def _build_case(spec: CaseSpec, document: LocatedDocument) -> Case:
    contacts = []
    for index, point in enumerate(spec.contacts):
        data = point.model_dump()
        with _blame(document, ("case", "contacts", index), data):
            contacts.append(ContactPoint.model_validate(data))
    with _blame(document, ("case",), {}):
        return Case(
            id=spec.id,
            debtor=Debtor(id=spec.id, timezone=spec.timezone, locale="en"),
            contacts=tuple(contacts),
            balance=Balance(currency=spec.currency, principal=spec.balance),
            due_date=spec.due_date,
            stage=spec.stage,
        )


class _Run:
    """One run of a scenario: an engine of its own, fed the events, then asked each question."""

    def __init__(self, scenario: Scenario, document: LocatedDocument, path: Path) -> None:
        self.scenario = scenario
        self.document = document
        self.path = path
        self.case_id = scenario.case.id
        self.zone = scenario.case.timezone
        first = scenario.events[0].at if scenario.events else scenario.expect[0].at
        self.clock = SettableClock(first)
        with _blame(document, ("overrides",), {}):
            compliance = Compliance(scenario.rules or (), overrides=scenario.overrides)
        self.engine = Engine(compliance=compliance, clock=self.clock)
        case = _build_case(scenario.case, document)
        with _blame(document, ("case",), scenario.case.model_dump()):
            self.engine.open_case(case, at=first)

    def result(self) -> ScenarioResult:
        for index, event in enumerate(self.scenario.events):
            self.clock.set(event.at)
            with _blame(self.document, ("events", index), event.model_dump(by_alias=True)):
                self._replay(index, event)
        failures: list[str] = []
        for index, entry in enumerate(self.scenario.expect):
            self.clock.set(entry.at)
            failure = self._judge(index, entry)
            if failure is not None:
                failures.append(failure)
        return ScenarioResult(self.scenario.name, self.path, not failures, failures)

    def _replay(self, index: int, event: Event) -> None:
        engine = self.engine
        case_id = self.case_id
        at = event.at
        if isinstance(event, ContactEvent):
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
        else:  # pragma: no cover - tick events are refused when the file is loaded
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
        spec = entry.contact
        assert spec is not None  # stage and actions entries are refused when loading
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
        if failure is None:
            return None
        line = self.document.line_of(path)
        return f"expect[{index}] (line {line}): {failure}"


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

    Args:
        path: The YAML file.

    Returns:
        Whether every expectation held and, for each that did not, why.

    Raises:
        ScenarioInvalid: the file is not a valid scenario, or the engine refused
            one of its events (e.g. a hold ending before it starts); the error
            names the file, the line and the field.

    Example:
        >>> result = run_scenario("tests/scenarios/us_7in7.yaml")  # doctest: +SKIP
        >>> result.passed, result.failures                          # doctest: +SKIP
        (True, [])
    """
    scenario, document = _load(path)
    return _Run(scenario, document, Path(path)).result()
