"""Running a scenario: an engine of its own, fed the events, then asked each question.

`run_scenario` loads a file (`load_scenario`'s checks), builds its case,
replays its events on a settable clock, judges each expectation at its
moment and reports, in a `ScenarioResult`, whether every one held and why
each that did not failed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pydantic

from .._yaml import FieldPath, LocatedDocument
from .._yaml import validation_problems as _validation_problems
from ..case import (
    Balance,
    Case,
    ContactPoint,
    Debtor,
    HoldKind,
    Person,
    StudentLoan,
    check_debtor_zone,
)
from ..channels import RecordingChannel
from ..clock import SettableClock
from ..compliance import Compliance, Proposal, Verdict
from ..engine import Engine
from ..errors import ArrearsError, InvalidInput, ScenarioInvalid
from ..journal import JournalEntry
from ..money import Money
from ..policy import Policy
from ..tasks import Agent
from .format import (
    _AUTOMATED_CHANNELS,
    _TASK_CHANNELS,
    ActionExpectation,
    CaseSpec,
    CeaseEvent,
    ConsentEvent,
    ContactEvent,
    DebtorPaymentEvent,
    DebtorSpec,
    DisputeEvent,
    Event,
    Expectation,
    HoldEndEvent,
    HoldEvent,
    InconvenientEvent,
    NoticeSentEvent,
    OptOutEvent,
    PaymentEvent,
    PersonsEvent,
    PromiseEvent,
    ProposedContact,
    Scenario,
    TakenAction,
    TickEvent,
    VerificationSentEvent,
)
from .loading import _load, _policy_steps, _PolicySetup

__all__ = ["ScenarioResult", "run_scenario"]


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


def _build_case(
    spec: CaseSpec,
    document: LocatedDocument,
    stage: str,
    where: FieldPath = ("case",),
    debtor: DebtorSpec | None = None,
) -> Case:
    contacts = []
    for index, point in enumerate(spec.contacts):
        data = point.model_dump(exclude_none=True)
        with _blame(document, (*where, "contacts", index), data):
            contacts.append(ContactPoint.model_validate(data))
    persons = tuple(Person.model_validate(person.model_dump()) for person in spec.persons)
    person = spec if debtor is None else debtor
    with _blame(document, where if debtor is None else ("debtor",), person.model_dump()):
        owner = Debtor.model_validate(
            {
                "id": person.id,
                "timezone": person.timezone,
                "locale": person.locale,
                "payday": person.payday,
                "jurisdiction": person.jurisdiction,
                "residence": person.residence,
                "address": person.address,
            }
        )
        check_debtor_zone(owner, "timezone")  # at the line that gives it
    with _blame(document, where, spec.model_dump()):
        return Case(
            id=spec.id,
            debtor=owner,
            contacts=tuple(contacts),
            persons=persons,
            balance=Balance(currency=spec.currency, principal=spec.balance),
            due_date=spec.due_date,
            stage=spec.stage or stage,
            student_loan=(
                StudentLoan(account=spec.student_loan.account)
                if spec.student_loan is not None
                else None
            ),
            aging=spec.aging,
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
        first_case = scenario.specs[0][1]
        self.case_id = first_case.id
        self.zone = scenario.debtor.timezone if scenario.debtor is not None else first_case.timezone
        self.failures: list[str] = []
        #: What the policy did on each case at each moment it ran: actions taken, messages
        #: denied (a tick reviews every due case: each case's own, by moment and case).
        self.taken: dict[tuple[datetime, str], list[TakenAction]] = {}
        self.denied: dict[tuple[datetime, str], list[str]] = {}
        self.reviewed: set[datetime] = set()
        first = scenario.expect[0].at
        if scenario.events:
            first = min(first, scenario.events[0].at)
        self.clock = SettableClock(first)
        if setup is None:
            with _blame(document, ("overrides",), {}):
                compliance = Compliance(
                    scenario.rules or (),
                    overrides=scenario.overrides,
                    jurisdictions=scenario.jurisdictions,
                    role=scenario.role,
                )
            self.engine = Engine(compliance=compliance, clock=self.clock)
        else:
            self.engine = self._policy_engine(setup)
        initial = self.engine.workflow.definition.initial
        for where, spec in scenario.specs:
            case = _build_case(spec, document, initial, where, scenario.debtor)
            with _blame(document, where, spec.model_dump()):
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
                compliance = Compliance(
                    policy.packs,
                    overrides=merged,
                    jurisdictions=policy.jurisdictions or None,
                    role=policy.role,
                )
        return Engine(
            policy=policy,
            compliance=compliance,
            # The policy's packs with the scenario's overrides on top of the policy's.
            compliance_mode="replace" if compliance is not None else None,
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

    def _case_id(self, named: str | None) -> str:
        """The case an event or expectation is about (checked when the file was loaded)."""
        return self.case_id if named is None else named

    def _run_policy(self, at: datetime, case_id: str | None = None) -> list[str]:
        """Run the daily tick at *at*; returns why the review failed, if it did."""
        case_id = self._case_id(case_id)
        before = {spec.id: len(self.engine.history(spec.id)) for _, spec in self.scenario.specs}
        report = self.engine.tick(at)
        if report.reviewed:
            self.reviewed.add(at)
        for reviewed, length in before.items():
            taken = self.taken.setdefault((at, reviewed), [])
            denied = self.denied.setdefault((at, reviewed), [])
            for entry in self.engine.history(reviewed)[length:]:
                action = _taken(entry)
                if action is not None:
                    taken.append(action)
                denial = _denial(entry)
                if denial is not None:
                    denied.append(denial)
        return [
            f"the review at {at.isoformat()} failed: {error}"
            for failed, error in report.errors
            if failed == case_id
        ]

    def _replay(self, index: int, event: Event) -> None:
        engine = self.engine
        case_id = self._case_id(event.case)
        at = event.at
        if isinstance(event, DebtorPaymentEvent):
            debtor = engine.case(case_id).debtor.id
            currency = event.currency or self._currency(case_id)
            engine.record_debtor_payment(
                debtor,
                Money(event.amount, currency),
                reference=f"scenario-event-{index}",
                at=at,
                allocation=event.allocation,
            )
        elif isinstance(event, TickEvent):
            line = self.document.line_of(("events", index))
            for error in self._run_policy(at, case_id):
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
                about=event.about or None,
                inbound=event.inbound,
            )
        elif isinstance(event, ConsentEvent):
            engine.record_consent(
                case_id,
                event.channel,
                contact=event.contact,
                covers=event.covers,
                start=event.start,
                until=event.until,
                at=at,
            )
        elif isinstance(event, OptOutEvent):
            engine.record_opt_out(
                case_id,
                event.channel,
                contact=event.contact,
                person=event.person,
                via=event.via,
                at=at,
            )
        elif isinstance(event, PersonsEvent):
            added = [point.model_dump(exclude_none=True) for point in event.contacts]
            engine.update_persons(
                case_id,
                [person.model_dump() for person in event.persons],
                contacts=[*engine.case(case_id).contacts, *added] if added else None,
                at=at,
            )
        elif isinstance(event, InconvenientEvent):
            engine.record_inconvenient(
                case_id, start=event.start, end=event.end, person=event.person, at=at
            )
        elif isinstance(event, DisputeEvent):
            reason = "written dispute" if event.written else "oral dispute"
            engine.add_hold(
                case_id, HoldKind.DISPUTE, reason, written=event.written, at=at, reach=event.reach
            )
        elif isinstance(event, VerificationSentEvent):
            engine.record_notice(case_id, "verification", at=at)
            self._release(HoldKind.DISPUTE, at, case_id)
        elif isinstance(event, CeaseEvent):
            engine.add_hold(
                case_id,
                HoldKind.CEASE,
                "written request to stop",
                written=True,
                at=at,
                reach=event.reach,
            )
        elif isinstance(event, HoldEvent):
            until = None
            if event.until is not None:
                until = datetime.combine(event.until, time(0), tzinfo=self.zone or UTC)
            engine.add_hold(
                case_id, event.kind, f"{event.kind} reported", until=until, at=at, reach=event.reach
            )
        elif isinstance(event, HoldEndEvent):
            self._release(event.kind, at, case_id)
        elif isinstance(event, NoticeSentEvent):
            engine.record_notice(case_id, event.kind, at=at)
        elif isinstance(event, PaymentEvent):
            engine.record_payment(case_id, Money(event.amount, self._currency(case_id)), at=at)
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
            covers = {"covers": event.covers} if event.covers else {}
            record_promise(
                case_id, Money(event.amount, self._currency(case_id)), event.due, at=at, **covers
            )
        else:  # pragma: no cover - every event type is handled above
            raise AssertionError(f"unexpected event {event!r}")

    def _currency(self, case_id: str) -> str:
        spec = self.scenario.spec_of(case_id)
        assert spec is not None  # checked when the file was loaded
        return spec.currency

    def _release(self, kind: str, at: datetime, case_id: str) -> None:
        for hold in self.engine.case(case_id).active_holds(at):
            if hold.kind == kind:
                self.engine.release_hold(case_id, hold.id, at=at)

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
        case_id = self._case_id(entry.case)
        wrong = self._run_policy(entry.at, case_id)
        if entry.stage is not None:
            stage = self.engine.case(case_id).stage
            if stage != entry.stage:
                wrong.append(f"expected stage {entry.stage}, got {stage}")
        if entry.actions is not None:
            taken = self.taken.get((entry.at, case_id), [])
            if not _match(entry.actions, taken):
                expected = ", ".join(map(str, entry.actions)) or "none"
                got = ", ".join(map(str, taken)) or "none"
                denied = self.denied.get((entry.at, case_id))
                note = f" (denied: {', '.join(denied)})" if denied else ""
                if entry.at not in self.reviewed:
                    note += self._not_due(case_id)
                wrong.append(f"expected actions [{expected}], got [{got}]{note}")
        return wrong

    def _not_due(self, case_id: str) -> str:
        """Why nothing was done: the case's review was not due (and when it is)."""
        upcoming = self.engine.store.next_review(case_id)
        if upcoming is None:
            return " (the case is no longer reviewed)"
        if self.zone is not None:
            upcoming = upcoming.astimezone(self.zone)
        return f" (no review was due; the next is at {upcoming.isoformat()})"

    def _judge_contact(self, index: int, entry: Expectation, spec: ProposedContact) -> str | None:
        path: FieldPath = ("expect", index)
        proposal = self._proposal(index, spec)
        with _blame(self.document, (*path, "contact"), spec.model_dump()):
            verdict = self.engine.judge_contact(self._case_id(entry.case), proposal, at=entry.at)
        failure = _mismatch(entry, verdict)
        if entry.record and verdict.allowed:
            with _blame(self.document, path, entry.model_dump()):
                self.engine.record_interaction(
                    self._case_id(entry.case),
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
