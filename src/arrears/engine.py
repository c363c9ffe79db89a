"""The engine: the one façade that changes cases, and journals every change.

Nothing else writes the journal and nothing else moves a case's stage.
`Engine` is a thin façade: each public method is one unit of work
(`arrears.recorder.operation`: everything it records is stored in one
transaction, or nothing; a lost race is decided again) and delegates to the
module of its concern in `arrears.operations`, which judges the input first
(a bad value raises before anything is recorded), then records through the
one write path, `arrears.recorder.Recorder.record`.  Nothing it returns is
live: cases, entries and histories are copies.

    >>> engine = Engine(clock=SettableClock(datetime(2026, 10, 1, 9, tzinfo=UTC)))
    >>> engine.open_case(case)                       # doctest: +SKIP
    >>> engine.fire(case.id, "notify")               # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, time, timedelta
from types import EllipsisType
from typing import IO, Any, Literal

from .agreements import Charges
from .case import Case, Channel, ContactPoint, Hold, HoldKind, Outcome, Party, Person
from .channels import ChannelAdapter
from .checkpoints import Anchors, Checkpoint, CheckpointLog
from .clock import Clock, SettableClock, SystemClock, require_aware
from .compliance import Compliance, ContactHistory, DebtorHistory, Proposal, Verdict
from .compliance.retention import Retention, check_purge
from .errors import ChannelsMissing, InvalidInput, JournalCorrupted
from .explain import DebtorExplanation, Explanation, explain_case, explain_debtor
from .guards import SYSTEM, Actor
from .journal import JournalEntry, JournalProblem, SealKey, read_jsonl
from .limits import FUTURE_TOLERANCE, LEASE
from .messages import TemplateSet
from .money import ALLOCATION_ORDER, Money
from .operations import (
    agreements,
    charges,
    contacts,
    debtors,
    evidence,
    holds,
    payments,
    places,
    reviews,
    stages,
    tasks,
)
from .operations import cases as opening
from .operations import persons as people
from .operations.results import DebtorPayment, PaymentResult, Reversal, Waiver
from .plans import Instalment, Promise, RepaymentPlan
from .policy import Facts, Policy, SendAction, TaskAction
from .policy.allocation import Allocation
from .recorder import ATTEMPTS, Recorder, detached, detached_all, operation
from .settlements import ApprovalLimits
from .signing import Key
from .store import MemoryStore, Store
from .tasks import Agent, Task
from .tick import TickReport, run_tick
from .workflow import Migration, TransitionResult, Workflow

__all__ = ["ATTEMPTS", "DebtorPayment", "Engine", "PaymentResult", "Reversal", "Waiver"]


class Engine:
    """Opens cases, fires triggers, records holds, contacts and payments, and keeps the journal.

    Args:
        workflow: The stage graph every case follows; the standard one when omitted.
        store: Where cases and the journal live; a new `MemoryStore` when omitted.
        clock: The source of "now" when a call gives no ``at``; the system clock
            when omitted.
        compliance: The rules that judge every proposed contact
            (`judge_contact`); with none, no rule applies (or, with a policy,
            the policy's: its packs and overrides).
        policy: The lender's policy that `tick` runs; it brings its own workflow
            (unless one is given) and its own compliance rules.
        compliance_mode: How *compliance* goes with a policy's own rules, which
            must be said when both are given: ``"replace"`` judges by
            *compliance* alone, ``"add"`` by the policy's rules and then
            *compliance*'s (a rule id in both is refused), each set by
            jurisdiction keeping its own: a debtor is judged by the policy's
            set for their jurisdiction and *compliance*'s.  A role given by one
            is the engine's; two different roles are refused.
        channels: The channel adapters messages are sent through, each serving
            the channels it lists.  When given with a policy, they must serve
            every channel the policy's steps send on (`missing_channels`);
            `tick` checks it whatever was given.
        templates: The message templates the policy's steps name; loaded from the
            policy's ``templates`` folder when omitted.
        agents: The people tasks are assigned to.
        future_tolerance: How far after the clock's now a caller's ``at`` (or a
            tick's ``now``) may be: an entry dated later is refused, since every
            entry after it would have to wait for it.  By default five minutes
            (`arrears.limits.FUTURE_TOLERANCE`) on any clock but a
            `SettableClock`, whose now is whatever a test or a simulation last
            set (it moves there, or gives ``at`` itself); ``None`` allows any
            moment.

    The settings are attributes (``engine.store``, ``engine.policy``…;
    ``engine.approval_limits`` is the table `waive` and `settle` use when
    given none), read and set through the engine's `Recorder`.
    """

    def __init__(
        self,
        workflow: Workflow | None = None,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        compliance: Compliance | None = None,
        policy: Policy | None = None,
        compliance_mode: Literal["replace", "add"] | None = None,
        channels: Sequence[ChannelAdapter] = (),
        templates: TemplateSet | None = None,
        agents: Sequence[Agent] = (),
        future_tolerance: timedelta | Literal["default"] | None = "default",
    ) -> None:
        if isinstance(future_tolerance, str):  # "default"
            future_tolerance = None if isinstance(clock, SettableClock) else FUTURE_TOLERANCE
        if future_tolerance is not None and (
            not isinstance(future_tolerance, timedelta) or future_tolerance < timedelta(0)
        ):
            raise InvalidInput(
                "future_tolerance", future_tolerance, "a timedelta of zero or more, or None"
            )
        if policy is not None:
            problems = policy.problems()
            if problems:
                path, message = problems[0]
                raise InvalidInput("policy", ".".join(map(str, path)), message)
            workflow = workflow or policy.build_workflow()
        compliance = _combined(policy, compliance, compliance_mode)
        if policy is not None and channels:
            missing = _unserved(policy, channels)
            if missing:
                raise ChannelsMissing(missing, _served(channels))
        if templates is None and policy is not None and policy.templates is not None:
            templates = TemplateSet.load(policy.templates)
        self._recorder = Recorder(
            store=store if store is not None else MemoryStore(),
            workflow=workflow or Workflow(),
            clock=clock or SystemClock(),
            compliance=compliance if compliance is not None else Compliance(),
            policy=policy,
            channels=tuple(channels),
            templates=templates,
            agents=tuple(agents),
        )
        self._recorder.future_tolerance = future_tolerance

    # -- settings, kept by the recorder ----------------------------------------------
    @property
    def store(self) -> Store:
        """Where cases and the journal live."""
        return self._recorder.store

    @store.setter
    def store(self, value: Store) -> None:
        self._recorder.store = value

    @property
    def future_tolerance(self) -> timedelta | None:
        """How far after the clock's now an entry may be dated (``None``: any moment)."""
        return self._recorder.future_tolerance

    @future_tolerance.setter
    def future_tolerance(self, value: timedelta | None) -> None:
        self._recorder.future_tolerance = value

    @property
    def workflow(self) -> Workflow:
        """The stage graph every case follows."""
        return self._recorder.workflow

    @workflow.setter
    def workflow(self, value: Workflow) -> None:
        self._recorder.workflow = value

    @property
    def clock(self) -> Clock:
        """The source of "now" when a call gives no ``at``."""
        return self._recorder.clock

    @clock.setter
    def clock(self, value: Clock) -> None:
        self._recorder.clock = value

    @property
    def compliance(self) -> Compliance:
        """The rules that judge every proposed contact."""
        return self._recorder.compliance

    @compliance.setter
    def compliance(self, value: Compliance) -> None:
        self._recorder.compliance = value

    @property
    def policy(self) -> Policy | None:
        """The lender's policy that `tick` runs, if any."""
        return self._recorder.policy

    @policy.setter
    def policy(self, value: Policy | None) -> None:
        self._recorder.policy = value

    @property
    def channels(self) -> tuple[ChannelAdapter, ...]:
        """The channel adapters messages are sent through."""
        return self._recorder.channels

    @channels.setter
    def channels(self, value: Sequence[ChannelAdapter]) -> None:
        self._recorder.channels = tuple(value)

    @property
    def templates(self) -> TemplateSet | None:
        """The message templates the policy's steps name."""
        return self._recorder.templates

    @templates.setter
    def templates(self, value: TemplateSet | None) -> None:
        self._recorder.templates = value

    @property
    def agents(self) -> tuple[Agent, ...]:
        """The people tasks are assigned to."""
        return self._recorder.agents

    @agents.setter
    def agents(self, value: Sequence[Agent]) -> None:
        self._recorder.agents = tuple(value)
        self._recorder.forget()  # the load per agent is counted again

    @property
    def approval_limits(self) -> ApprovalLimits | None:
        """The approval-limits table `waive` and `settle` use when given none."""
        return self._recorder.approval_limits

    @approval_limits.setter
    def approval_limits(self, value: ApprovalLimits | None) -> None:
        self._recorder.approval_limits = value

    # -- units of work ----------------------------------------------------------------
    def atomic(self) -> AbstractContextManager[None]:
        """Group operations into one unit of work: everything recorded inside is stored, or nothing.

        Every engine operation is already one unit on its own; use this to make
        several of them one, e.g. a host's own batch::

            with engine.atomic():
                engine.record_interaction(case_id, "call", "conversation", at=at)
                engine.record_promise(case_id, amount, due, at=at)

        Everything is written in one store transaction when the outermost
        block ends.  When the block ends with an exception, nothing written
        inside it is stored, except a refusal the engine journals on purpose
        (`TransitionDenied`, `ApprovalDenied`: the refusal is evidence, so its
        entry and those before it are stored, then the error is raised).  A
        nested block is a savepoint: its failure takes back only its own writes.
        Inside a block, operations do not retry on their own: a
        `ConcurrencyConflict` reaches the block's caller, with nothing stored.
        """
        return self._recorder.atomic()

    def contact_history(self, case_id: str) -> ContactHistory:
        """The case's contact history (attempts, consents, opt-outs), up to date.

        A copy: the engine keeps its own, brought up to date as it records.

        Raises:
            UnknownCase: no such case.
        """
        return self._recorder.history(case_id).copy()

    def debtor_history(self, case_id: str) -> DebtorHistory | None:
        """The contacts on every case of the case's debtor, as the caps across loans count them.

        ``None`` when the case is the debtor's only one (its own history is
        theirs).  A copy: the engine keeps its own, folded as it records.

        Raises:
            UnknownCase: no such case.
        """
        found = self._recorder.debtor_history(self._recorder.store.get(case_id))
        return None if found is None else copy.deepcopy(found)

    @operation
    def open_case(
        self,
        case: Case | Mapping[str, Any],
        *,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        migration: Migration | None = None,
    ) -> Case:
        """Start collecting on a case; its first journal entry records it whole.

        The case opens in the stage it carries (``pre_due`` unless set), which
        must be an opening stage of the workflow (`Workflow.opening`: in the
        standard one, ``pre_due``, the contact ladder and ``promise``).  A case
        brought in from another system further on (a legal stage, a repayment
        plan) is opened with a *migration*: the actor, and the migration's
        approver, must hold the roles the workflow asks on the way there, and
        the ``opened`` entry records the migration and their roles.

        A hold of the debtor's other cases that reaches every debt of the
        person and has not ended (a bankruptcy, a breathing space, one placed
        with ``reach="debtor"``…) is journaled on the new case in the same
        unit of work, with the same id and ``origin``
        (`arrears.operations.holds.inherit_holds`).

        Args:
            case: A `Case`, or the mapping to validate into one.
            at: When (the clock's now when omitted).
            actor: Who opened it.
            migration: Why and from where the case comes in beyond an opening stage.

        Returns:
            A copy of the case as opened (changing it changes nothing stored).

        Raises:
            InvalidInput: the mapping is not a valid case (the error names the
                field; personal data is masked), the debtor's time zone names no
                place (``debtor.timezone``: ``EST``, ``Etc/GMT+5``, ``UTC``; see
                `arrears.case.place_zone`), the stage is not a live
                stage, or not an opening one and no migration is given
                (``stage``), the migration's roles do not reach the stage
                (``actor``: each guard that failed on the way is named), or
                the case already has history (a version), or it holds a
                hold with the id of one of the debtor's that reaches it (``holds``).
            DuplicateCase: a case with that id is open.
        """
        rec = self._recorder
        return opening.open_one(rec, case, rec.moment(None, at), actor, migration)

    def open_cases(
        self,
        cases: Iterable[Case | Mapping[str, Any]],
        *,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        migration: Migration | None = None,
    ) -> int:
        """Open many cases at once, e.g. a whole portfolio; returns how many were opened.

        Each case is opened exactly as by `open_case` (with the same *migration*
        for every case, when given).  Python's garbage
        collector is left as the host runs it; a host that opens a large
        portfolio in a process of its own can pause it for the batch with
        `arrears.tuning.collector_paused` (see the performance page).

        Raises:
            ArrearsError: The first error `open_case` raises, with a note naming
                the record's position; every case before it stays open and journaled.
        """
        rec = self._recorder
        return opening.open_many(rec, cases, rec.moment(None, at), actor, migration)

    def case(self, case_id: str) -> Case:
        """A copy of the case as it stands now (changing it changes nothing stored).

        Raises:
            UnknownCase: no such case.
        """
        return detached(self._recorder.store.get(case_id))

    def history(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's journal entries, oldest first (copies: the store's own stay as sealed)."""
        return detached_all(self._recorder.store.entries(case_id))

    @operation
    def fire(
        self,
        case_id: str,
        trigger: str,
        *,
        actor: Actor = SYSTEM,
        approver: Actor | None = None,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> TransitionResult:
        """Fire *trigger* on the case, if every guard allows it.

        Args:
            case_id: The case.
            trigger: The trigger's name, e.g. ``"escalate"`` or ``"start_legal"``.
            actor: Who fires it; manual triggers need a person, and roles are checked.
            approver: A second person, for four-eyes triggers.
            at: When (the clock's now when omitted).
            reason: Why, in words for the record (no personal data).

        Returns:
            The transition that happened (also journaled).

        Raises:
            TransitionDenied: a guard refused; every failed guard is listed and
                the refusal is journaled first.
            UnknownTrigger: the workflow has no such trigger.
            UnknownCase: no such case.
        """
        return stages.fire(
            self._recorder, case_id, trigger, actor=actor, approver=approver, at=at, reason=reason
        )

    @operation
    def add_hold(
        self,
        case_id: str,
        kind: HoldKind | str,
        reason: str,
        *,
        until: datetime | None = None,
        written: bool | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        reach: Literal["case", "debtor"] | None = None,
    ) -> Hold:
        """Put a hold beside the case's stage; escalation is refused while it is active.

        A bankruptcy, a death, a breathing space, a mental health crisis
        moratorium, a doubt about mental capacity or a vulnerability reaches
        every case of the debtor; a dispute, a request to stop or an
        attorney the case named, unless *reach* is ``"debtor"``
        (`arrears.holds.HOLD_REACH`).  A breathing space or a mental health
        crisis moratorium may be recorded on the debts its notice lists only,
        with *reach* ``"case"`` on each of them (SI 2020/1311 reg 6: a moratorium
        debt is one the debt advice provider gave the Secretary of State;
        `arrears.holds.HoldReach.listed`).  A hold that
        reaches several cases is journaled on each, in this unit of work, with
        the same id; releasing it on one releases it on all.

        Args:
            case_id: The case.
            kind: ``dispute``, ``cease``, ``bankruptcy``, ``breathing_space``,
                ``mental_health_crisis``, ``mental_capacity``, ``deceased``,
                ``attorney``, ``hardship`` or ``vulnerable``.
            reason: Why (no personal data).
            until: When it ends by law or agreement, if known.
            written: For a dispute or a request to stop, whether it came in
                writing (rules such as ``US-DISPUTE`` act on written ones).
            at: When it starts (the clock's now when omitted).
            actor: Who placed it.
            reach: ``"debtor"`` to cover every case of the debtor (the debtor said
                so); ``"case"`` to record a moratorium on this debt only (one of
                the debts its notice lists); ``None``: the kind's own reach.

        Raises:
            InvalidInput: a bad kind, reason or end (named); a *reach* of
                ``"case"`` for a kind that covers every debt by law (a bankruptcy,
                a death, mental capacity, a vulnerability).
        """
        return holds.add_hold(
            self._recorder,
            case_id,
            kind,
            reason,
            until=until,
            written=written,
            at=at,
            actor=actor,
            reach=reach,
        )

    @operation
    def release_hold(
        self, case_id: str, hold_id: str, *, at: datetime | None = None, actor: Actor = SYSTEM
    ) -> Hold:
        """End a hold early; the case resumes in the stage it is in.

        Raises:
            InvalidInput: no such hold, or it is no longer active.
        """
        return holds.release_hold(self._recorder, case_id, hold_id, at=at, actor=actor)

    @operation
    def record_interaction(
        self,
        case_id: str,
        channel: Channel | str,
        outcome: Outcome | str,
        *,
        contact: str | None = None,
        party: Party | str | None = None,
        purpose: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        automated: bool = False,
        key: str | None = None,
        provider_id: str | None = None,
        about: Iterable[str] | None = None,
        inbound: bool = False,
    ) -> JournalEntry:
        """Record a contact attempt and its outcome (a call, an SMS, a visit…).

        Args:
            case_id: The case.
            channel: The medium.
            outcome: What came of it: ``no_answer``, ``busy``, ``not_connected``,
                ``voicemail``, ``conversation``, ``wrong_party``, ``delivered`` or ``failed``.
            contact: The contact point used, by id.
            party: Whom it was for, when no contact point is named (default: the debtor).
            purpose: What it was for (see `arrears.compliance.Purpose`); ``collection``
                when omitted.
            at: When (the clock's now when omitted).
            actor: Who made it.
            automated: Autodialed, prerecorded or AI voice.
            key: The outbox idempotency key of the message this is the result of.
            provider_id: The channel provider's id for it.
            about: The debtor's other cases (debts) the contact was also about: it
                counts toward each of them for rules counted per debt (Regulation F:
                a call about two debts counts toward each).
            inbound: The person started it: an inbound call, a text or e-mail from
                them (outcome ``conversation``, ``voicemail``, ``delivered`` or
                ``reply``).  It is journaled as theirs, not ours: no frequency cap
                counts it as an attempt, while the rules that read contacts the
                person started do (see docs/compliance.md).

        Raises:
            InvalidInput: an unknown channel, outcome, party or contact id; a case
                in *about* that is not the same debtor's; an inbound contact with
                an outcome only an attempt of ours has, automated, or with a *key*
                (the result of an outbox message is ours).
        """
        return contacts.record_interaction(
            self._recorder,
            case_id,
            channel,
            outcome,
            contact=contact,
            party=party,
            purpose=purpose,
            at=at,
            actor=actor,
            automated=automated,
            key=key,
            provider_id=provider_id,
            about=about,
            inbound=inbound,
        )

    @operation
    def record_consent(
        self,
        case_id: str,
        channel: Channel | str,
        *,
        contact: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        covers: Iterable[str] | None = None,
        start: datetime | None = None,
        until: datetime | None = None,
    ) -> JournalEntry:
        """Record the debtor's direct consent to be contacted on *channel* (or one contact point).

        A consent has a scope, and each rule reads only the consents for its own
        question (*covers*): ``hours`` lifts the contact window (``US-TIME``),
        ``calls`` takes the calls placed with it out of the call count
        (``US-7IN7``, for at most seven days), ``automated`` is the prior express
        consent automated contact needs (``US-TCPA``) and ``medium`` restores a
        medium or address the person had opted out of.  Without *covers* it is a
        consent to be contacted now: ``hours`` and ``calls``, for an hour.

        Args:
            case_id: The case.
            channel: The medium.
            contact: The contact point it is about (all of the channel's when omitted).
            at: When it was given (the clock's now when omitted).
            actor: Who recorded it.
            covers: What it is for, some of ``hours``, ``calls``, ``automated``, ``medium``.
            start: When the contact it agrees to may begin ("call me after 6 pm").
            until: When it lapses ("this afternoon"); without it ``hours`` and
                ``calls`` last an hour from *start*, ``automated`` and ``medium``
                until revoked by an opt-out.

        Raises:
            InvalidInput: an unknown channel, contact, scope, or an end before its start.
        """
        return contacts.record_preference(
            self._recorder,
            "consent",
            case_id,
            channel,
            contact,
            at,
            actor,
            covers=covers,
            start=start,
            until=until,
        )

    @operation
    def record_opt_out(
        self,
        case_id: str,
        channel: Channel | str,
        *,
        contact: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        person: str | None = None,
        via: Channel | str | None = None,
    ) -> JournalEntry:
        """Record that the debtor asked not to be contacted on *channel* (or one contact point).

        It also revokes any consent to automated contact there.  *person*: who
        asked, when one of the case's persons rather than the debtor (a contact
        point that names its person says it already).  A person's request not to
        use a whole medium binds contacts with that person only (12 CFR
        1006.14(h)(1): "with the person if the person has requested"); a
        request about one address binds every contact at that address, and the
        debtor's binds every contact on the case.

        *via*: the medium the request came by (``sms`` for a text saying STOP,
        ``email``, ``call`` for a request made on the phone, ``letter``).  The one
        confirmation of an electronic opt-out goes back through it, electronically
        (12 CFR 1006.14(h)(2)(i), `arrears.compliance.MediumOptOut`); when it is
        not recorded, no confirmation is allowed through the medium opted out of.

        Raises:
            InvalidInput: an unknown channel or contact point, a *via* that is
                not a channel, or a *person* who is not one of the case's persons
                or not the contact point's.
        """
        return contacts.record_preference(
            self._recorder, "opt_out", case_id, channel, contact, at, actor, person=person, via=via
        )

    @operation
    def record_inconvenient(
        self,
        case_id: str,
        start: time,
        end: time,
        *,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        person: str | None = None,
    ) -> JournalEntry:
        """Record local times the debtor named as inconvenient, ``start`` to ``end``.

        A span may wrap midnight (``22:30`` to ``09:00``).  A new statement adds to
        the earlier ones.  *person*: who named them, when one of the case's
        persons rather than the debtor (a spouse, an executor); a time
        inconvenient to them binds contacts with them only (12 CFR
        1006.6(b)(1)(i): "inconvenient to the consumer" communicated with),
        while the debtor's bind every contact on the case.

        Raises:
            InvalidInput: a time that is not a `datetime.time`, an empty span,
                or a *person* who is not one of the case's persons.
        """
        return contacts.record_inconvenient(
            self._recorder, case_id, start, end, at=at, actor=actor, person=person
        )

    @operation
    def update_persons(
        self,
        case_id: str,
        persons: Iterable[Person | Mapping[str, Any]],
        *,
        contacts: Iterable[ContactPoint | Mapping[str, Any]] | None = None,
        reason: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> JournalEntry:
        """Record who the case's persons are from now on, and how they stand to the debtor.

        *persons* is every person of the case after the change (`Person`): a
        new contact person, a spouse, the executor of a deceased debtor's
        estate are added; a relationship that ends is a new relationship (a
        divorced spouse becomes ``other``, a third party). *contacts*, when
        given, is every contact point after the change: the case's own, each
        with its channel, address, ``consent``, ``opted_out`` and ``work``
        unchanged (its ``person``, and so its ``party``, may change), and
        any new ones (a new person's phone). Journaled as ``persons_changed``
        with *reason*; compliance judges every contact after it with the
        persons as they stand then, and calls recorded before it count for the
        person they reached, with the relationship that person has at the
        moment judged.

        Raises:
            InvalidInput: a person or contact point that is not one, an id
                listed twice or the debtor's, a contact point naming a person
                not listed (a person with contact points stays a person: change
                the relationship), a contact point dropped or moved to another
                channel or address or given another ``consent``, ``opted_out``
                or ``work``, or a *reason* over 500 characters.
        """
        return people.update_persons(
            self._recorder, case_id, persons, contacts=contacts, reason=reason, at=at, actor=actor
        )

    @operation
    def update_debtor(
        self,
        debtor_id: str,
        *,
        jurisdiction: str | EllipsisType | None = ...,
        residence: str | EllipsisType | None = ...,
        timezone: str | EllipsisType | None = ...,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        reason: str | None = None,
    ) -> dict[str, JournalEntry]:
        """Record that the debtor is somewhere else from now on: on every case of theirs.

        *jurisdiction* and *residence* are ISO 3166 codes (``US-NY``,
        ``GB-SCT``), *timezone* the IANA time zone of a place
        (``America/Los_Angeles``: the hours rules read the debtor's local time
        in it; not an abbreviation such as ``EST``, `arrears.case.place_zone`),
        each ``None`` for one no longer known; one left out (``...``) stays as it is.  Every
        case of the debtor whose record says otherwise changes, closed ones
        too (the record stays true, and every case of the debtor names a
        place its rules are picked from),
        each by a ``debtor_changed`` entry with the values before and after,
        *actor*, *reason* and the cases changed (``cases``, which `verify`
        checks across them); all of them are one unit of work, taken with
        the debtor held against other writers.  Every contact judged after
        it, on any of the debtor's cases, is judged by the rules of the new
        place (`arrears.compliance.Compliance.rules_for_debtor`); contacts
        recorded before it still count where a rule counts them.

        Args:
            debtor_id: The debtor (``case.debtor.id``).
            jurisdiction: Where the lender holds the debtor to be for the law.
            residence: Where the debtor's address of record is.
            timezone: The debtor's time zone.
            at: When (the clock's now when omitted).
            actor: Who records it.
            reason: Why, up to 500 characters (a change of address notified).

        Returns:
            The entry recorded on each case changed, by case id.

        Raises:
            InvalidInput: a code that is not ISO 3166 (naming ``jurisdiction``
                or ``residence``), a time zone the system does not know or
                that names no place (``timezone``: ``EST``, ``Etc/GMT+5``,
                ``UTC``), none of them given, a change every case of the
                debtor has already (naming the field and the value), an
                unknown debtor (``debtor_id``), *at* before the last entry
                of a case it changes, or a *reason* over 500 characters.
        """
        return places.update_debtor(
            self._recorder,
            debtor_id,
            jurisdiction=jurisdiction,
            residence=residence,
            timezone=timezone,
            at=at,
            actor=actor,
            reason=reason,
        )

    def judge_contact(
        self,
        case_id: str,
        proposal: Proposal | Mapping[str, Any],
        *,
        at: datetime | None = None,
        record: bool = True,
        actor: Actor = SYSTEM,
        key: str | None = None,
    ) -> Verdict:
        """Judge a proposed contact with the engine's compliance rules, before it happens.

        A denial is journaled (``contact_denied``, with every reason) unless
        *record* is false; an allowed contact is not: record it with
        `record_interaction` once made.

        Args:
            case_id: The case.
            proposal: A `arrears.compliance.Proposal` or a mapping of its fields
                (``channel``, ``contact`` or ``party``, ``automated``, ``purpose``…).
            at: When the contact would happen (the clock's now when omitted).
            record: Journal a denial.
            actor: Who proposes it.
            key: The outbox idempotency key of the message, when the tick asks.

        Returns:
            The verdict; ``next_allowed_at`` tells a scheduler when to try again.

        Raises:
            InvalidInput: a contact point the case does not have, or a bad proposal.
        """
        if not record:  # a judgment alone records nothing: no unit of work
            return contacts.judge_contact(
                self._recorder, case_id, proposal, at=at, record=record, actor=actor, key=key
            )
        return self._judge_and_record(case_id, proposal, at=at, actor=actor, key=key)

    @operation
    def _judge_and_record(
        self,
        case_id: str,
        proposal: Proposal | Mapping[str, Any],
        *,
        at: datetime | None,
        actor: Actor,
        key: str | None,
    ) -> Verdict:
        """`judge_contact` that journals a denial: one unit of work."""
        return contacts.judge_contact(
            self._recorder, case_id, proposal, at=at, record=True, actor=actor, key=key
        )

    @operation
    def record_notice(
        self, case_id: str, notice: str, *, at: datetime | None = None, actor: Actor = SYSTEM
    ) -> JournalEntry:
        """Record that a notice (e.g. ``"demand_letter"``) was sent; guards count from it."""
        return contacts.record_notice(self._recorder, case_id, notice, at=at, actor=actor)

    @operation
    def record_payment(
        self,
        case_id: str,
        amount: Money,
        *,
        at: datetime | None = None,
        reference: str | None = None,
        order: Sequence[str] = ALLOCATION_ORDER,
    ) -> PaymentResult:
        """Record a payment: allocate it across the overdue components, keep any rest as credit.

        A payment that clears the arrears cures the case (``cure``), from any
        live stage: back to ``pre_due``, or ``resolved`` when nothing is owed.

        For a case with agreement terms, penalty interest and fees due up to
        the payment are charged first (`accrue`), so none is lost once the
        principal is paid.  The payment counts towards the open promise and
        the active plan: one it covers is kept (``promise_kept``) or completed
        (``plan_completed``, a reduction plan's waiver then applied).

        The payment, the charges before it and everything it causes (the
        promise kept, the plan completed, the cure) are one unit of work:
        stored together or not at all.  A payment is known by its
        *reference*: recording one the case already holds records nothing
        and returns what the first recording did, so a host may safely send
        a payment again after an error or a timeout.

        Raises:
            InvalidInput: the amount is not positive Money, the reference is not
                a short text, or the reference names a payment of another amount
                (the error names both amounts).
            CurrencyMismatch: the payment is in another currency than the case.
        """
        return payments.record_payment(
            self._recorder, case_id, amount, at=at, reference=reference, order=order
        )

    def tick(
        self,
        now: datetime | None = None,
        *,
        limit: int | None = None,
        batch: int = 500,
        owner: str | None = None,
        lease_for: timedelta = timedelta(minutes=15),
    ) -> TickReport:
        """Review every case due at *now* under the engine's policy (see `arrears.tick`).

        Only due cases are touched; each is rescheduled.  Messages pass through
        compliance and the outbox, so running a tick again for the same moment,
        or after a crash half-way, sends nothing twice and loses nothing.

        Args:
            now: The tick's moment (the clock's now when omitted).
            limit: Review at most this many cases (the earliest due first).
            batch: Cases per batch: each batch's journal entries and case
                updates are written in one transaction before its messages go
                out, and the results in a second one.
            owner: This worker's name, when several workers share the tick: due
                cases are leased to it, so no two workers review the same case.
            lease_for: How long a lease lasts; a dead worker's cases are taken
                again after it.  At most `arrears.limits.LEASE` (a day): the
                time the tick has spent is added to it, up to that bound.

        Raises:
            InvalidInput: the engine has no policy, a bad batch size or
                lease, or *now*
                more than the engine's ``future_tolerance`` after its clock.
            ChannelsMissing: the policy's steps send on a channel no adapter
                serves (`missing_channels`); nothing was reviewed.
        """
        rec = self._recorder
        rec.need_policy()
        if not timedelta(0) < lease_for <= LEASE:
            raise InvalidInput("lease_for", str(lease_for), f"a duration above 0, at most {LEASE}")
        missing = self.missing_channels()
        if missing:
            raise ChannelsMissing(missing, _served(rec.channels))
        moment = rec.clock.now() if now is None else rec.not_ahead(require_aware(now, "now"), "now")
        if not isinstance(batch, int) or batch < 1:
            raise InvalidInput("batch", batch, "a positive number of cases")
        return run_tick(rec, moment, limit=limit, batch=batch, owner=owner, lease_for=lease_for)

    def facts(self, case_id: str, at: datetime | None = None) -> Facts:
        """What the policy's conditions read about the case at *at* (segment included)."""
        rec = self._recorder
        moment = rec.clock.now() if at is None else require_aware(at, "at")
        return rec.facts(rec.store.get(case_id), moment, detach=True)

    @operation
    def record_variant(
        self, case_id: str, variant: str, *, at: datetime | None = None
    ) -> JournalEntry:
        """Record the champion/challenger variant a case was assigned to."""
        return reviews.record_variant(self._recorder, case_id, variant, at=at)

    @operation
    def record_review(
        self,
        case_id: str,
        *,
        next_review_at: datetime,
        sources: Sequence[str] = (),
        segment: str | None = None,
        at: datetime | None = None,
    ) -> JournalEntry:
        """Record that the policy reviewed the case, and when it looks again.

        Raises:
            InvalidInput: *next_review_at* is not after the review, or later than
                the longest gap between reviews any policy sets after it
                (`arrears.operations.evidence.latest_next_review`), which `verify`
                would not take as the engine's word.
        """
        return reviews.record_review(
            self._recorder,
            case_id,
            next_review_at=next_review_at,
            sources=sources,
            segment=segment,
            at=at,
        )

    @operation
    def record_intent(
        self,
        case_id: str,
        *,
        key: str,
        step: str,
        channel: str,
        contact: str | None,
        template: str | None,
        text: str,
        subject: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Journal the intent to send a message, before the adapter is called (the outbox)."""
        return reviews.record_intent(
            self._recorder,
            case_id,
            key=key,
            step=step,
            channel=channel,
            contact=contact,
            template=template,
            text=text,
            subject=subject,
            at=at,
        )

    def render(
        self, case: Case, action: SendAction, facts: Facts, at: datetime
    ) -> tuple[str | None, str | None]:
        """A message's text and subject from the template set; ``(None, None)`` without one."""
        return reviews.render(self._recorder, case, action, facts, at)

    def missing_channels(self) -> tuple[str, ...]:
        """The channels the policy's steps send on that no adapter of the engine serves, sorted.

        Empty without a policy.  `tick` refuses to run while any is missing
        (`ChannelsMissing`): a message with no adapter could only be
        recorded as sent when it went nowhere.  The steps of every variant
        count; the actions of a Python rule (`Policy.rule`) cannot be known
        before it runs, so a message one sends on a channel without an
        adapter fails when sent (retryable: its intent stays open).
        """
        policy = self._recorder.policy
        return () if policy is None else _unserved(policy, self._recorder.channels)

    def channel_for(self, channel: str) -> ChannelAdapter:
        """The adapter that serves *channel*.

        Raises:
            InvalidInput: no adapter serves it.
        """
        return reviews.channel_for(self._recorder, channel)

    @operation
    def open_task(
        self,
        case_id: str,
        action: TaskAction,
        *,
        key: str,
        step: str,
        at: datetime | None = None,
    ) -> Task:
        """Open a task for a person on the case, assigned to the agent with the lightest load.

        Once per debtor: when another case of the debtor has a task of the same
        kind, queue and skill open, none is opened; that task covers this case
        too (``task_covered`` journaled on it, under *key*), with the more urgent
        priority and due time of the two.  Returns the task as the case holds it.
        *key* is the task's id: opened again under it, the case's task is returned.

        Raises:
            InvalidInput: *key* is the id of another task on a loan of the debtor.
        """
        return tasks.open_task(self._recorder, case_id, action, key=key, step=step, at=at)

    def tasks(self, *, queue: str | None = None, assignee: str | None = None) -> list[Task]:
        """The open tasks, most urgent first (priority, then due time).

        A task covering several loans of a debtor is listed once, with every
        case that holds it (`Task.cases`), its most urgent priority and due time.
        The engine reads them from the store the first time and keeps them up to
        date as it records; tasks opened by another process sharing the store are
        not seen until a new `Engine` reads the store.
        """
        return tasks.open_tasks(self._recorder, queue=queue, assignee=assignee)

    @operation
    def complete_task(
        self,
        case_id: str,
        task_id: str,
        outcome: str,
        *,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> JournalEntry:
        """Close a task with its outcome; record what happened (a call's result…) separately.

        A task covering several loans of the debtor is closed on each of them
        (``task_closed`` on every case that holds it), in this unit of work.
        Returns the entry on *case_id*.

        Raises:
            InvalidInput: the case has no such open task.
        """
        return tasks.complete_task(self._recorder, case_id, task_id, outcome, at=at, actor=actor)

    def explain(self, case_id: str, at: datetime | None = None) -> Explanation:
        """What the policy would do for the case at *at*, and why; nothing is recorded.

        Lists the facts the policy reads, every escalation (whether its condition
        holds and what the guards would say), every step (whether it matches,
        and for a message, the compliance verdict), and the next review.
        """
        return explain_case(self, case_id, at)

    def explain_debtor(self, debtor_id: str, at: datetime | None = None) -> DebtorExplanation:
        """What the policy would do with every loan of the debtor at *at*; nothing is recorded.

        The debtor view (each loan's stage, arrears, holds in force and open
        tasks, today's contacts across them) once, then each loan's
        `explain`, in case id order.

        Raises:
            InvalidInput: no case of the debtor is stored, the engine has no
                policy, or *at* is naive.
        """
        return explain_debtor(self, debtor_id, at)

    def verify(self, anchors: Anchors | None = None) -> list[JournalProblem]:
        """Check every chain against its recorded head, and every stored case against its replay.

        An empty list means intact.  A stored case that is not the replay of
        its chain (edited beside the journal) is a ``changed`` problem naming
        the fields that differ.  Every entry is judged against the workflow as
        it is replayed (`arrears.workflow.Workflow.entry_problem`): a case
        opened beyond an opening stage without a migration its roles allow, or
        a transition the graph has no edge for, out of a terminal stage, or
        without the journaled roles and four-eyes approver its guards ask, is
        ``forbidden``; an entry whose data is not its kind's is ``malformed``
        (the other cases are still verified), an entry that leaves an amount
        of the balance, or the sum owed, at or beyond `arrears.limits.MAX_AMOUNT`,
        or a due date later than `arrears.limits.LATEST_DATE` (which the engine
        refuses to record) is ``beyond_limit``, an amount
        below zero (in an entry, left on the balance, or in the stored case) is
        ``negative``, and a stored case without a journal is ``removed``.  What
        one operation wrote on several cases of a debtor (the shares of a
        payment to the debtor and their reversal, a re-opening naming a
        reversal on another loan, a promise or plan over several loans, a hold
        reaching the debtor, a change of where the debtor is) must agree
        across their chains (`arrears.crosschain`): an entry the other chains
        do not bear out is ``unmatched``.  With *anchors*, the heads of a signed
        checkpoint (`arrears.checkpoints.CheckpointLog.anchors`), every case
        the checkpoint holds must still be there (else ``removed``) with its
        chain still holding the checkpointed head at the checkpointed
        position (else ``truncated`` or ``rewritten``): this finds a chain
        edited and sealed again, cut short or replaced, with the head in the
        store moved to match, by whoever could write the database.
        """
        return evidence.verify(self._recorder, anchors)

    def reschedule(self, case_id: str) -> datetime:
        """Put an open case that `verify` reports ``unscheduled`` back on the review schedule.

        The case is due when its last journaled review said it would be
        reviewed next (at its opening when it has none): a time already past
        makes it due at the next tick.  A lease on it (one pushed further ahead
        than any tick grants) is dropped.  Nothing is journaled: the schedule
        is an index the store keeps beside the journal.

        Returns:
            When the case is reviewed next.

        Raises:
            UnknownCase: no such case.
            InvalidInput: the case stands in a terminal stage.
        """
        return evidence.reschedule(self._recorder, case_id)

    def checkpoint(
        self, key: Key, previous: CheckpointLog | None = None, *, purged: Iterable[str] = ()
    ) -> Checkpoint:
        """Sign a checkpoint of every chain's head as stored now (append it with
        `arrears.checkpoints.append_checkpoint`).

        Every chain is verified against its head first, and, with *previous*
        (the checkpoint file so far), against the last checkpoint's heads; a
        case of the last checkpoint deleted on purpose since must be named in
        *purged*.

        Raises:
            JournalCorrupted: a chain does not hold, or no longer holds the
                last checkpoint's head, or *previous* does not hold.
            InvalidInput: *key* cannot sign (``key``), or *purged* names a
                case still stored or never checkpointed (``purged``).
        """
        return evidence.checkpoint(self._recorder, key, previous, purged=purged)

    def replay(self, case_id: str) -> Case:
        """Rebuild the case from its journal alone (it should equal `case`).

        Raises:
            JournalCorrupted: the chain does not verify against the store's
                head, or holds an entry the workflow forbids (``forbidden``,
                as in `verify`).
        """
        return evidence.replay_case(self._recorder, case_id)

    def check_purge(self, case_id: str, at: datetime | None = None) -> Retention | None:
        """Refuse to purge *case_id*'s records at *at* (now) while a retention rule keeps them.

        The engine's `RecordRetention` rules (``US-RECORDS``: 12 CFR 1006.100,
        three years after the last collection activity) are read against the
        case's last journal entry.  Call it before deleting a case (see the
        retention procedure in the operations guide); it returns the retention
        that has ended, ``None`` when no rule keeps records.

        Raises:
            UnknownCase: no such case.
            InvalidInput: the records must still be kept (``purge``: until when,
                by which rule and its citation), or *at* has no time zone.
        """
        entries = self._recorder.store.entries(case_id)
        if not entries:
            self._recorder.store.get(case_id)  # UnknownCase when there is no such case
            return None
        moment = self._recorder.clock.now() if at is None else require_aware(at, "at")
        return check_purge(self.compliance.rules, case_id, entries[-1].at, moment)

    def export_journal(self, out: IO[str], key: SealKey | None = None) -> int:
        """Write every chain as JSON Lines, sealed; returns the number of entries.

        With *key* (an `arrears.signing.Key` that can sign) the seal is signed,
        so whoever holds the key (the public key, for Ed25519) can tell the
        export was not rewritten after it left the engine.
        """
        return evidence.export(self._recorder, out, key)

    @classmethod
    def from_journal(
        cls,
        lines: Iterable[str],
        workflow: Workflow | None = None,
        *,
        clock: Clock | None = None,
        key: SealKey | Sequence[SealKey] | None = None,
    ) -> Engine:
        """Rebuild an engine from an export: every case replayed from its chain.

        Each case is restored under *workflow* (the standard one when omitted),
        which must be the workflow its chain was recorded under: the same name,
        with the stage the case stands in among its stages (so a later version
        of the same workflow that kept that stage will do).  With *key*, the
        seal must be signed by it (an unsigned export is refused as
        ``unsigned``, another signature as ``forged``); without one, a signed
        or unsigned export is read alike and its signature is not checked.

        Every entry is judged against *workflow* as its case is replayed, as
        `verify` does: an export re-sealed after a transition was forged (an
        edge the graph lacks, a move out of a terminal stage, roles short of
        what the edge asks, an approver who is the actor) is refused.

        Raises:
            JournalCorrupted: any line or chain does not verify, or holds an
                entry the workflow forbids (``forbidden``).
            InvalidInput: a chain was recorded under another workflow, or a
                case stands in a stage *workflow* does not have (``workflow``).
        """
        chains, problems = read_jsonl(lines, key)
        if problems:
            raise JournalCorrupted(problems)
        engine = cls(workflow, clock=clock)
        evidence.restore(engine._recorder, chains)
        return engine

    @operation
    def accrue(self, case_id: str, *, at: datetime | None = None) -> Charges | None:
        """Charge penalty interest and late fees due under the case's terms up to *at*.

        Days on which a freezing hold (``terms.freeze_on_holds``) or a plan
        with ``freeze_interest`` was in force are skipped.  Any credit the case
        holds then pays the new charges, and a case whose arrears that clears
        is cured.  Running it twice for the same day charges nothing the
        second time.

        Returns:
            The charges recorded, or ``None`` when the case has no terms or
            nothing is overdue.
        """
        return charges.accrue(self._recorder, case_id, at=at)

    def arrears_at(self, case_id: str, *, at: datetime | None = None) -> Money:
        """The arrears at *at*, with the charges due under the case's terms up to then.

        Nothing is recorded: this is what a plan or a settlement is built on.
        """
        return charges.arrears_at(self._recorder, case_id, at=at)

    @operation
    def fall_due(
        self,
        case_id: str,
        amount: Money,
        *,
        due: date,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> JournalEntry:
        """Record that an instalment of *amount* fell due on *due*: ``not_due`` becomes principal.

        When nothing was overdue before, *due* becomes the case's due date.
        Any credit the case holds pays the new arrears at once, so a debtor in
        credit never falls behind on an instalment the credit covers.

        Raises:
            InvalidInput: not positive Money, more than ``not_due``, or *due* not a date
                no later than `arrears.limits.LATEST_DATE`.
            CurrencyMismatch: the amount is in another currency than the case.
        """
        return charges.fall_due(self._recorder, case_id, amount, due=due, at=at, actor=actor)

    @operation
    def apply_credit(self, case_id: str, *, at: datetime | None = None) -> PaymentResult | None:
        """Pay the arrears from the credit the case holds; cure the case if that clears them.

        The engine does this itself whenever new arrears arise (`accrue`,
        `fall_due`); call it for a case opened with both credit and arrears.

        Returns:
            What the credit paid, or ``None`` when there was no credit or nothing overdue.
        """
        return charges.apply_credit(self._recorder, case_id, at=at)

    @operation
    def record_promise(
        self,
        case_id: str,
        amount: Money,
        due: date,
        *,
        instalments: Sequence[Instalment | tuple[date, Money]] | None = None,
        grace_days: int = 0,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        covers: Iterable[str] | None = None,
    ) -> Promise:
        """Record a promise to pay *amount* by *due*, and fire ``promise`` where the stage allows.

        A promise still open is superseded by the new one.  Every payment recorded
        from now on counts towards the promise; it is kept as soon as they
        cover it (``promise_kept`` fires), and `review_promises` judges it
        once the grace after an instalment has passed.

        Args:
            case_id: The case.
            amount: The total promised, in the case's currency, at most what is owed.
            due: The date of the (last) payment, not before today in the debtor's calendar.
            instalments: Several payments instead of one: `Instalment` objects or
                ``(date, Money)`` pairs in date order, summing to *amount*, the last on *due*.
            grace_days: Days after each date before a shortfall counts.
            at: When the promise was made (the clock's now when omitted).
            actor: Who took it.
            covers: The debtor's other cases the promise also covers: the
                amount is shared over them as a payment to the debtor would be
                (the policy's ``allocation``, each up to what it owes), each
                instalment likewise, and each case records its share under one
                id in this unit of work (a case left nothing is not covered).
                The promise is kept once every share is paid (or its case
                owes nothing overdue), and judged whole by `review_promises`:
                partly kept or broken on every case at once.

        Returns:
            The promise (with *covers*, the whole of it, its ``cases`` naming each case).

        Raises:
            InvalidInput: a bad amount, date, schedule or grace, or a case in a
                terminal stage; a case in *covers* that is not another live case
                of the same debtor (``covers[i]``), or more than the cases owe together.
            CurrencyMismatch: the amount is in another currency than a case.
        """
        return agreements.record_promise(
            self._recorder,
            case_id,
            amount,
            due,
            instalments=instalments,
            grace_days=grace_days,
            at=at,
            actor=actor,
            covers=covers,
        )

    @operation
    def review_promises(self, case_id: str, *, at: datetime | None = None) -> Promise | None:
        """Judge the case's open promise at *at*: kept, partly kept, broken, or still open.

        A promise is broken once the grace after one of its dates has passed
        with the payments short of every instalment up to that date:
        ``partly_kept`` (with the shortfall) when something was paid,
        ``broken`` when nothing was.  Either fires ``promise_broken`` from the
        ``promise`` stage, taking the case where the workflow says.  A promise
        over several loans is judged on its instalments and payments together,
        and resolved on every case it covers at once.

        Returns:
            The promise as it stands after the review, or ``None`` when the case has none.
        """
        return agreements.review_promises(self._recorder, case_id, at=at)

    @operation
    def record_document(
        self,
        case_id: str,
        kind: str,
        *,
        reference: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> JournalEntry:
        """Record that a document of *kind* (e.g. ``proof_of_income``) was received.

        Only the kind and your reference to the stored document are recorded,
        never its content.

        Raises:
            InvalidInput: a kind that is not a lower-case name, or a bad reference.
        """
        return agreements.record_document(
            self._recorder, case_id, kind, reference=reference, at=at, actor=actor
        )

    @operation
    def start_plan(
        self,
        case_id: str,
        plan: RepaymentPlan,
        *,
        actor: Actor,
        approver: Actor | None = None,
        at: datetime | None = None,
        covers: Iterable[str] | None = None,
    ) -> RepaymentPlan:
        """Start a repayment plan and fire ``offer_plan``.

        The instalments plus the waived part must equal the arrears now, with
        the charges due under the case's terms up to now (`arrears_at`; they
        are recorded first); the first instalment must not be in the past;
        and every document the plan requires must have been recorded
        (`record_document`).  An open promise is superseded by the plan.

        With *covers*, the debtor's other cases the plan also covers, one plan
        pays the arrears of them all: its instalments plus the waived part
        must equal what they owe together.  Each case starts its share of the
        plan, under the same id, in this unit of work: its arrears, paid by
        the instalments in the policy's ``allocation`` order (a reduction's
        waived part shared in proportion to the arrears).  The plan is judged
        whole: completed once every share is paid, broken on every case when
        the instalments together fall short after their grace
        (`review_plan`).  The documents are checked on *case_id*.

        Returns:
            The plan as started (with *covers*, the whole plan, its ``cases``
            naming each case; each case holds its share).

        Raises:
            InvalidInput: a plan that is not new, does not add up, starts in
                the past, or whose documents are missing (named in the error);
                another plan is active; a case in *covers* that is not another
                live case of the same debtor (``covers[i]``).
            CurrencyMismatch: the plan is in another currency than a case.
            TransitionDenied: ``offer_plan`` is refused on a case (journaled; no
                plan recorded on any).
        """
        return agreements.start_plan(
            self._recorder, case_id, plan, actor=actor, approver=approver, at=at, covers=covers
        )

    @operation
    def review_plan(self, case_id: str, *, at: datetime | None = None) -> RepaymentPlan | None:
        """Judge the case's active plan at *at*: completed, instalments late, or the plan broken.

        A plan paid in full is completed (as `record_payment` completes it:
        payments on two of the loans of a plan over several loans, recorded
        at once, may each have found the other share unpaid).  An
        instalment unpaid after its date is recorded as late (once); unpaid
        after its grace, it breaks the plan: ``plan_broken`` fires from the
        ``repayment_plan`` stage, taking the case to the stage the workflow
        names, and a reduction plan's waiver lapses.  A plan over several
        loans is judged on its instalments and payments together, and late
        or broken on every case it covers at once.

        Returns:
            The plan as it stands after the review, or ``None`` when the case has none.
        """
        return agreements.review_plan(self._recorder, case_id, at=at)

    @operation
    def reverse_payment(
        self,
        case_id: str,
        reference: str,
        *,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        reason: str | None = None,
    ) -> Reversal:
        """Undo a returned payment: restore what it paid, and re-open what it closed.

        The components it paid are owed again and the credit it left is taken
        back (credit since spent on later charges is owed again on the
        components it paid).  A promise it kept is open again and a plan it
        completed is active again, with a reduction plan's waiver undone.  A
        case it cured (or resolved through a kept promise or a completed plan)
        goes back to the stage it was in before, when no other transition
        has happened since; a reversal is a correction of the record, not a
        decision, so it is a ``payment_reversed`` entry rather than a trigger.
        A case another payment closed goes back too when that close no longer
        stands: a cure when arrears are owed again, a plan completed when it
        is active again or arrears are owed again (back to
        ``repayment_plan``, the plan still completed), and a cure out of
        ``promise`` by the payment that kept the promise goes where
        ``promise_kept`` leads.  The first missed due date goes back to the one
        the case would have had had the payment never been made: an instalment
        that fell due while the payment had cleared the arrears no longer
        starts the days past due (docs/payments.md, "The due date after a
        reversal").

        A promise over several loans it kept, or such a plan it completed, is
        open again on every loan it covers, in the same unit of work: each
        other loan records an ``agreement_reopened`` entry (its share of a
        reduction's waiver owed again, and the stage the promise kept or the
        plan completed moved it from, when no other transition has happened
        since).

        Raises:
            InvalidInput: no payment with that reference, more than one, or
                already reversed.
        """
        return payments.reverse_payment(
            self._recorder, case_id, reference, at=at, actor=actor, reason=reason
        )

    @operation
    def record_debtor_payment(
        self,
        debtor_id: str,
        amount: Money,
        *,
        reference: str,
        at: datetime | None = None,
        allocation: Allocation | None = None,
        order: Sequence[str] = ALLOCATION_ORDER,
    ) -> DebtorPayment:
        """Record a payment to the debtor, not to one loan: shared across their open cases.

        The amount is shared over the debtor's cases in a live stage and in
        the payment's currency (cases in another currency are left out), but
        never a case whose debt the debtor disputes (an active ``dispute``
        hold: 15 U.S.C. 1692h), in the order *allocation* sets:
        ``oldest_due`` (earliest due date, then case id), ``highest_rate``
        (highest penalty rate first), ``pro_rata`` (in proportion to what
        each owes), a lender's function, or the debtor's own directions (the
        share of each case, by id) (`arrears.policy.allocation`); the
        policy's ``allocation`` when omitted, ``oldest_due`` without a
        policy.  Each case takes at most its arrears with the charges due up
        to the payment; what is left once all are paid stays as credit on
        the first case of the order.

        While a plan over several loans is active and *allocation* is
        omitted, the payment first pays what the plan still asks: its unpaid
        instalments, the earliest first, each covered case's part in the
        plan's order (up to what the case owes); the rest is shared as above.
        So a debtor keeping to the plan does not break it by money sent to
        another loan.  An *allocation* given is followed as given.

        Each case with a share records it as `record_payment` does (charges
        first, the promise kept, the plan completed, the cure), with the
        same *reference* and the whole payment beside it; all of them are
        one unit of work.  Recording the same reference again records
        nothing and returns what the first recording did.

        Args:
            debtor_id: The debtor (``case.debtor.id``).
            amount: The payment, positive.
            reference: The payment's reference (a bank's or provider's id).
            at: When (the clock's now when omitted).
            allocation: The order: a word above, ``module:function``, a
                function, or the debtor's directions.
            order: The components each share pays, in order (penalty first by default).

        Returns:
            The shares by case id and what each did.

        Raises:
            InvalidInput: not positive Money, a bad reference, a debtor with no
                open case in the currency, or none the debtor does not dispute
                (``amount``, saying which), an unknown debtor
                (``debtor_id``), a lender's function whose shares are not the
                debtor's open cases or do not sum to the amount exactly
                (``allocation``; a directed share: ``allocation[case id]``), or
                a reference that names another payment.
        """
        return debtors.record_debtor_payment(
            self._recorder,
            debtor_id,
            amount,
            reference=reference,
            at=at,
            allocation=allocation,
            order=order,
        )

    @operation
    def reverse_debtor_payment(
        self,
        debtor_id: str,
        reference: str,
        *,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
        reason: str | None = None,
    ) -> dict[str, Reversal]:
        """Undo a returned payment to the debtor: every share, on every case, in one unit of work.

        Each share is reversed as `reverse_payment` reverses a payment to one
        case (a share alone cannot be: `reverse_payment` refuses it).

        Returns:
            What each reversal did, by case id.

        Raises:
            InvalidInput: no payment to the debtor under that reference, or
                already reversed.
        """
        return debtors.reverse_debtor_payment(
            self._recorder, debtor_id, reference, at=at, actor=actor, reason=reason
        )

    @operation
    def waive(
        self,
        case_id: str,
        amount: Money,
        *,
        actor: Actor,
        approver: Actor | None = None,
        limits: ApprovalLimits | None = None,
        order: Sequence[str] = ALLOCATION_ORDER,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Waiver:
        """Waive part of the arrears, within the approval limits of those who approve it.

        The waiver takes *amount* off the overdue components in *order*
        (penalty first by default).  The journal records the limit applied,
        on what basis (``actor``, ``approver`` or ``four_eyes``) and who
        approved; a refusal is journaled too.  A waiver that clears the
        arrears cures the case.

        Raises:
            InvalidInput: not positive Money, or more than the arrears.
            CurrencyMismatch: in another currency than the case.
            ApprovalDenied: above the limits (journaled as ``waiver_refused``).
        """
        return payments.waive(
            self._recorder,
            case_id,
            amount,
            actor=actor,
            approver=approver,
            limits=limits,
            order=order,
            reason=reason,
            at=at,
        )

    @operation
    def settle(
        self,
        case_id: str,
        amount: Money,
        *,
        actor: Actor,
        approver: Actor | None = None,
        limits: ApprovalLimits | None = None,
        order: Sequence[str] = ALLOCATION_ORDER,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Waiver:
        """Record a settlement paid in full and final, waive the rest, and fire ``settle``.

        *amount* is the payment received; the rest of everything owed (due or
        not) is waived, within the approval limits as for `waive`.  The
        payment and the waiver are one ``settlement`` entry, followed by the
        ``settle`` transition, whose own guards apply (in the standard
        workflow the actor must be a supervisor).

        Raises:
            InvalidInput: not positive Money, or not less than what is owed.
            CurrencyMismatch: in another currency than the case.
            ApprovalDenied: the waived rest is above the limits (journaled).
            TransitionDenied: ``settle`` is refused (journaled; nothing settled).
        """
        return payments.settle(
            self._recorder,
            case_id,
            amount,
            actor=actor,
            approver=approver,
            limits=limits,
            order=order,
            reason=reason,
            at=at,
        )


def _combined(
    policy: Policy | None, compliance: Compliance | None, mode: str | None
) -> Compliance | None:
    """The compliance an engine judges by: the policy's, the one given, or both (*mode*)."""
    if mode not in (None, "replace", "add"):
        raise InvalidInput("compliance_mode", mode, "None, 'replace' or 'add'")
    if mode is not None and compliance is None:
        raise InvalidInput("compliance_mode", mode, "None when no compliance is given")
    if policy is None or compliance is None:
        return compliance if policy is None else policy.build_compliance()
    if mode is None:
        packs = list(policy.packs)
        raise InvalidInput(
            "compliance",
            compliance,
            f"no compliance beside a policy, which brings its own (packs {packs}); or say how "
            "they go together: compliance_mode='replace' (judge by compliance alone) or "
            "'add' (the policy's rules, then compliance's)",
        )
    if mode == "replace":
        return compliance
    own = policy.build_compliance()
    twice = sorted(set(own.rule_ids) & set(compliance.rule_ids))
    if twice:
        raise InvalidInput(
            "compliance",
            twice,
            "rules the policy's packs do not have already (compliance_mode='add'); "
            "use compliance_mode='replace' to judge by compliance alone",
        )
    return _added(own, compliance)


def _added(own: Compliance, other: Compliance) -> Compliance:
    """*own*'s rules, then *other*'s, set by set: a debtor in a jurisdiction is judged by
    what each of them judges it by (the most specific code of either that matches)."""
    if own.role is not None and other.role is not None and own.role != other.role:
        raise InvalidInput(
            "compliance.role",
            other.role.value,
            f"the policy's role ({own.role.value}) or none (compliance_mode='add')",
        )
    codes = dict.fromkeys([*own.jurisdictions, *other.jurisdictions])
    return Compliance(
        (*own.packs, *other.packs),
        overrides={**own.overrides, **other.overrides},
        rules=[*own.extra, *other.extra],
        jurisdictions={code: (*own.packs_for(code), *other.packs_for(code)) for code in codes}
        or None,
        role=own.role if own.role is not None else other.role,
    )


def _sent_on(policy: Policy) -> frozenset[str]:
    """The channels the policy's steps (its own and every variant's) send on."""
    steps = [*policy.steps, *(step for v in policy.variants for step in v.steps or ())]
    return frozenset(str(step.send.channel) for step in steps if step.send is not None)


def _served(channels: Iterable[ChannelAdapter]) -> frozenset[str]:
    return frozenset(str(name) for adapter in channels for name in adapter.channels)


def _unserved(policy: Policy, channels: Iterable[ChannelAdapter]) -> tuple[str, ...]:
    return tuple(sorted(_sent_on(policy) - _served(channels)))
