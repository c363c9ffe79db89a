"""The engine: the one façade that changes cases, and journals every change.

Nothing else writes the journal and nothing else moves a case's stage.  Each
method judges its input first (a bad value raises before anything is
recorded, so the case is unchanged), then seals a journal entry, then applies
that entry to the case through `arrears.journal.apply_entry`, the same code
`replay` uses.

    >>> engine = Engine(clock=SettableClock(datetime(2026, 10, 1, 9, tzinfo=UTC)))
    >>> engine.open_case(case)                       # doctest: +SKIP
    >>> engine.fire(case.id, "notify")               # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import IO, Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from ._exceptions import (
    ApprovalDenied,
    CurrencyMismatch,
    DuplicateCase,
    InvalidInput,
    JournalCorrupted,
    TransitionDenied,
)
from ._gc import collector_paused
from .agreements import AgreementTerms, Charges, accrue_charges
from .case import COMPONENTS, Case, Channel, Hold, HoldKind, Outcome, Party, mask, set_field
from .channels import ChannelAdapter
from .clock import Clock, SystemClock, instant, require_aware
from .compliance import Compliance, ContactHistory, Proposal, Verdict
from .explain import Explanation, explain_case
from .guards import SYSTEM, Actor, GuardContext
from .journal import (
    GENESIS,
    JournalEntry,
    JournalProblem,
    apply_entry,
    moment_text,
    read_jsonl,
    replay,
    seal,
    verify_chain,
    write_jsonl,
)
from .logs import get_logger
from .messages import TemplateSet
from .messages.context import template_context
from .money import ALLOCATION_ORDER, Money, allocate
from .plans import Instalment, PlanStatus, Promise, PromiseStatus, RepaymentPlan
from .policy import Facts, Policy, SendAction, TaskAction
from .settlements import Approval, ApprovalLimits
from .store import MemoryStore, Store
from .tasks import Agent, Task, pick_agent
from .tick import TickReport, run_tick
from .workflow import TransitionResult, Workflow

__all__ = ["Engine", "PaymentResult", "Reversal", "Waiver"]

_M = TypeVar("_M", bound=BaseModel)

_log = get_logger("arrears")

#: `Engine.open_cases` makes one full garbage collection after a batch this large.
_COLLECT_AFTER: Final = 1_000
#: Contact histories kept between judgments, at most (the most recently built).
_HISTORIES_KEPT: Final = 20_000


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What a payment did.

    Attributes:
        applied: The amount applied to each component.
        credit: What was left over, added to the case's credit.
        cured: The cure transition the payment caused, if any.
    """

    applied: Mapping[str, Money]
    credit: Money
    cured: TransitionResult | None


def _enum(kind: type[Any], value: object, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(field, value, f"one of {[member.value for member in kind]}") from None


class Engine:
    """Opens cases, fires triggers, records holds, contacts and payments, and keeps the journal.

    Args:
        workflow: The stage graph every case follows; the standard one when omitted.
        store: Where cases and the journal live; a new `MemoryStore` when omitted.
        clock: The source of "now" when a call gives no ``at``; the system clock
            when omitted.
        compliance: The rules that judge every proposed contact
            (`judge_contact`); with none, no rule applies.
        policy: The lender's policy that `tick` runs; it brings its own workflow
            and compliance rules unless those are given too.
        channels: The channel adapters messages are sent through, each serving
            the channels it lists.
        templates: The message templates the policy's steps name; loaded from the
            policy's ``templates`` folder when omitted.
        agents: The people tasks are assigned to.
    """

    def __init__(
        self,
        workflow: Workflow | None = None,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        compliance: Compliance | None = None,
        policy: Policy | None = None,
        channels: Sequence[ChannelAdapter] = (),
        templates: TemplateSet | None = None,
        agents: Sequence[Agent] = (),
    ) -> None:
        if policy is not None:
            problems = policy.problems()
            if problems:
                path, message = problems[0]
                raise InvalidInput("policy", ".".join(map(str, path)), message)
            workflow = workflow or policy.build_workflow()
            compliance = compliance if compliance is not None else policy.build_compliance()
        self.workflow = workflow or Workflow()
        self.store: Store = store if store is not None else MemoryStore()
        self.clock = clock or SystemClock()
        self.compliance = compliance if compliance is not None else Compliance()
        self.policy = policy
        self.channels: tuple[ChannelAdapter, ...] = tuple(channels)
        if templates is None and policy is not None and policy.templates is not None:
            templates = TemplateSet.load(policy.templates)
        self.templates = templates
        self.agents: tuple[Agent, ...] = tuple(agents)
        # The open tasks (by id) and how many each agent holds: read from the store
        # once, the first time they are asked for, then kept up to date as tasks
        # open, close and expire (`_track_tasks`), so neither a task's assignment
        # nor `tasks()` reads every case.
        self._open_tasks: dict[str, Task] | None = None
        self._load: dict[str, int] = {}
        # Contact histories of the cases judged so far, kept up to date as entries
        # are recorded, so a judgment never re-reads the journal (bench: judge_contact).
        self._histories: dict[str, ContactHistory] = {}
        # The hash of the last entry each history folded in: a persistent store may
        # roll entries back (a failed savepoint) or another process may write, so a
        # history is only trusted while it ends where the store's chain does.
        self._folded: dict[str, str] = {}

    # -- internals -----------------------------------------------------------
    def _moment(self, case_id: str | None, at: datetime | None) -> datetime:
        moment = self.clock.now() if at is None else require_aware(at, "at")
        if case_id is not None:
            last = self.store.last_entry(case_id).at
            if moment < last:
                raise InvalidInput(
                    "at",
                    moment.isoformat(),
                    f"a time not before the case's last journal entry ({last.isoformat()})",
                )
        return moment

    def _record(self, case: Case, at: datetime, kind: str, data: dict[str, Any]) -> JournalEntry:
        head = self.store.head(case.id)
        entry = seal(case.id, head.seq + 1, at, kind, data, head.hash)
        tasks_before = case.tasks
        apply_entry(case, kind, at, data)
        self.store.append(entry, case)
        if case.tasks is not tasks_before and self._open_tasks is not None:
            self._track_tasks(tasks_before, case.tasks)
        history = self._histories.get(case.id)
        if (
            history is not None
            and history.seq == entry.seq - 1
            and self._folded.get(case.id) == head.hash
        ):
            history.add(entry.seq, kind, at, data)
            self._folded[case.id] = entry.hash
        return entry

    def contact_history(self, case_id: str) -> ContactHistory:
        """The case's contact history (attempts, consents, opt-outs), up to date.

        Raises:
            UnknownCase: no such case.
        """
        history = self._histories.get(case_id)
        head = self.store.head(case_id)
        if history is not None and history.seq >= head.seq:
            if history.seq > head.seq or self._folded.get(case_id) != head.hash:
                history = None  # it folded entries the store no longer holds (rolled back)
        elif history is not None:
            entries = self.store.entries(case_id)
            if history.seq < len(entries) and entries[history.seq].hash == self._folded.get(
                case_id
            ):
                history.extend(entries[history.seq + 1 :])
                self._folded[case_id] = entries[-1].hash
                return history
            history = None
        if history is None:
            entries = self.store.entries(case_id)
            history = ContactHistory.from_entries(entries)
            if len(self._histories) >= _HISTORIES_KEPT:
                # The oldest tenth goes: a tick over a million cases must not keep
                # a history for each (they are built again from the journal).
                for stale in list(self._histories)[: _HISTORIES_KEPT // 10]:
                    del self._histories[stale]
                    self._folded.pop(stale, None)
            self._histories[case_id] = history
            self._folded[case_id] = entries[-1].hash if entries else GENESIS
        return history

    # -- cases ------------------------------------------------------------------
    def open_case(
        self, case: Case | Mapping[str, Any], *, at: datetime | None = None, actor: Actor = SYSTEM
    ) -> Case:
        """Start collecting on a case; its first journal entry records it whole.

        Args:
            case: A `Case`, or the mapping to validate into one.
            at: When (the clock's now when omitted).
            actor: Who opened it.

        Returns:
            The engine's copy of the case (read it; change it only through the engine).

        Raises:
            pydantic.ValidationError: the mapping is not a valid case.
            InvalidInput: the stage is not one of the workflow's live stages,
                or the case already has history (a version).
            DuplicateCase: a case with that id is open.
        """
        return self._open(case, self._moment(None, at), actor)

    def _open(self, case: Case | Mapping[str, Any], moment: datetime, actor: Actor) -> Case:
        """`open_case` at a moment already checked (`open_cases` checks it once for the batch)."""
        # A dict (as hosts hand records over) is told without the ABC check.
        if type(case) is dict or isinstance(case, Mapping):
            # The validator itself, as Case.model_validate calls it, without its wrapper.
            # A missing opened_at is set below, as pydantic's assignment would set it,
            # rather than validated from a copy of the record.
            fresh: Case = Case.__pydantic_validator__.validate_python(case)
        elif isinstance(case, Case):
            fresh = case.model_copy(update={"notices": dict(case.notices)})
        else:
            raise InvalidInput("case", type(case).__name__, "a Case or a mapping of its fields")
        store, workflow = self.store, self.workflow
        case_id = fresh.id
        if case_id in store:
            raise DuplicateCase(case_id)
        if fresh.stage not in workflow.live:
            raise InvalidInput("stage", fresh.stage, "a live stage of the workflow")
        if fresh.version:
            raise InvalidInput("version", fresh.version, "0 for a case not yet opened")
        if fresh.opened_at is None:
            set_field(fresh, "opened_at", moment)
        data = {
            "actor": actor.id,
            # The snapshot travels as pydantic's JSON text: exact, and a third of
            # the cost of a nested dict encoded again (bench: load_and_fire).  The
            # serializer is called as model_dump_json calls it, without its wrapper.
            "case": fresh.__pydantic_serializer__.to_json(fresh).decode(),
            "workflow": workflow.label,
        }
        entry = seal(case_id, 0, moment, "opened", data, GENESIS)
        apply_entry(fresh, "opened", moment, data)
        with store.transaction():  # a stored case is always on the schedule
            store.add(fresh, entry)
            store.schedule(case_id, moment)  # a new case is due for review at once
        # bind() first: the lazy logger would otherwise fail an attribute lookup
        # before binding, which costs more than the (usually filtered) call itself.
        _log.bind().info("case_opened", case_id=case_id, stage=fresh.stage)
        return fresh

    def open_cases(
        self,
        cases: Iterable[Case | Mapping[str, Any]],
        *,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> int:
        """Open many cases at once, e.g. a whole portfolio; returns how many were opened.

        Each case is opened exactly as by `open_case`.  While the batch runs,
        Python's cyclic garbage collector is paused (and then restored as it
        was): opening a case creates no reference cycles, and at a few hundred
        thousand live cases the collector's repeated full passes would cost
        more than the validation itself (``bench/run.py load_and_fire``).
        After a batch of at least 1,000 cases the collector makes one full pass
        at once: it would soon have made several anyway, promoting the new
        objects a generation at a time while the next operations run (at
        100,000 cases, firing a trigger then cost 38 µs instead of 11 µs).
        That pass walks the batch's own objects only: those that existed
        before it (the host's, its input records) are set aside for the batch
        and put back after (`gc.freeze`, `gc.unfreeze`; see ``arrears._gc``).

        Raises:
            ArrearsError: The first error `open_case` raises, with a note naming
                the record's position; every case before it stays open and journaled.
        """
        moment = self._moment(None, at)
        opened = 0
        with collector_paused(aside=True) as running:
            try:
                for position, case in enumerate(cases):
                    try:
                        self._open(case, moment, actor)
                    except Exception as err:
                        err.add_note(f"while opening record {position} of the batch")
                        raise
                    opened += 1
            finally:
                if running and opened >= _COLLECT_AFTER:
                    gc.collect()  # the batch's objects only: the rest are set aside
        return opened

    def case(self, case_id: str) -> Case:
        """A copy of the case as it stands now.

        Raises:
            UnknownCase: no such case.
        """
        return self.store.get(case_id).model_copy(deep=True)

    def history(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's journal entries, oldest first."""
        return self.store.entries(case_id)

    # -- the stage machine ------------------------------------------------------
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
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        if approver is not None and not isinstance(approver, Actor):
            raise InvalidInput("approver", approver, "an Actor or None")
        if not isinstance(actor, Actor):
            raise InvalidInput("actor", actor, "an Actor")
        if reason is not None and not isinstance(reason, str):
            raise InvalidInput("reason", reason, "a short text or None")
        store = self.store
        ctx = GuardContext(moment, trigger, actor, approver, history=lambda: store.entries(case_id))
        source = case.stage
        workflow = self.workflow
        try:
            result = workflow.apply(case, ctx)
        except BaseException:
            case.stage = source
            raise
        data: dict[str, Any] = {
            "trigger": trigger,
            "source": source,
            "dest": result.dest,
            "actor": actor.id,
            "workflow": workflow.label,
        }
        if approver is not None:
            data["approver"] = approver.id
        if reason is not None:
            data["reason"] = reason
        if not result.failures:  # result.allowed, without the property call
            try:
                self._record(case, moment, "transition", data)
            except BaseException:
                case.stage = source  # nothing moves that the journal does not hold
                raise
            _log.bind().info(  # bind() first: see open_case
                "transition",
                case_id=case_id,
                trigger=trigger,
                source=source,
                dest=result.dest,
                actor=actor.id,
            )
            return result
        data["failures"] = [failure.to_json() for failure in result.failures]
        self._record(case, moment, "refusal", data)
        _log.bind().info(
            "transition_refused",
            case_id=case_id,
            trigger=trigger,
            stage=source,
            guards=[failure.guard for failure in result.failures],
            actor=actor.id,
        )
        raise TransitionDenied(case_id, trigger, source, result.failures)

    # -- holds ---------------------------------------------------------------------
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
    ) -> Hold:
        """Put a hold beside the case's stage; escalation is refused while it is active.

        Args:
            case_id: The case.
            kind: ``dispute``, ``cease``, ``bankruptcy``, ``breathing_space``,
                ``deceased``, ``attorney``, ``hardship`` or ``vulnerable``.
            reason: Why (no personal data).
            until: When it ends by law or agreement, if known.
            written: For a dispute or a request to stop, whether it came in
                writing (rules such as ``US-DISPUTE`` act on written ones).
            at: When it starts (the clock's now when omitted).
            actor: Who placed it.

        Raises:
            InvalidInput / pydantic.ValidationError: a bad kind, reason or end.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        if until is not None and require_aware(until, "until") <= moment:
            raise InvalidInput(
                "until", until.isoformat(), f"a time after the hold starts ({moment.isoformat()})"
            )
        hold = Hold(
            id=f"{_enum(HoldKind, kind, 'kind')}-{self.store.head(case_id).seq + 1}",
            kind=kind,
            reason=reason,
            started_at=moment,
            ends_at=None if until is None else require_aware(until, "until"),
            written=written,
        )
        self._record(
            case,
            moment,
            "hold_added",
            {"hold": hold.model_dump(mode="json", exclude_none=True), "actor": actor.id},
        )
        _log.bind().info("hold_added", case_id=case_id, kind=str(hold.kind), hold_id=hold.id)
        self._react(case_id, str(hold.kind), moment)
        return hold

    def release_hold(
        self, case_id: str, hold_id: str, *, at: datetime | None = None, actor: Actor = SYSTEM
    ) -> Hold:
        """End a hold early; the case resumes in the stage it is in.

        Raises:
            InvalidInput: no such hold, or it is no longer active.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        current = {hold.id: hold for hold in case.holds}
        hold = current.get(hold_id)
        if hold is None:
            raise InvalidInput("hold_id", hold_id, f"one of the case's holds {sorted(current)}")
        if not hold.active_at(moment):
            raise InvalidInput("hold_id", hold_id, f"a hold active at {moment.isoformat()}")
        self._record(
            case,
            moment,
            "hold_released",
            {"hold_id": hold_id, "released_at": moment.isoformat(), "actor": actor.id},
        )
        _log.bind().info("hold_released", case_id=case_id, hold_id=hold_id)
        return hold.model_copy(update={"released_at": moment})

    # -- what happened outside ---------------------------------------------------
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

        Raises:
            InvalidInput: an unknown channel, outcome, party or contact id.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        data: dict[str, Any] = {
            "channel": str(_enum(Channel, channel, "channel")),
            "outcome": str(_enum(Outcome, outcome, "outcome")),
            "actor": actor.id,
            "automated": bool(automated),
        }
        who = None if party is None else str(_enum(Party, party, "party"))
        if contact is not None:
            point = self._contact_point(case, contact)
            if who is not None and who != point.party:
                raise InvalidInput("party", who, f"the party of contact point {contact!r}")
            data["contact"] = contact
            who = str(point.party)
        data["party"] = who or str(Party.DEBTOR)
        if purpose is not None:
            if not isinstance(purpose, str) or not purpose.isidentifier():
                raise InvalidInput("purpose", purpose, "a purpose such as 'collection'")
            data["purpose"] = purpose
        if key is not None:
            data["key"] = str(key)
        if provider_id is not None:
            data["provider_id"] = str(provider_id)
        entry = self._record(case, moment, "interaction", data)
        _log.bind().info(
            "interaction", case_id=case_id, channel=data["channel"], outcome=data["outcome"]
        )
        self._react(case_id, data["outcome"], moment)
        return entry

    def _contact_point(self, case: Case, contact: str) -> Any:
        try:
            return case.contact(contact)
        except KeyError:
            known = [point.id for point in case.contacts]
            # Masked: a caller may pass a phone number where an id belongs.
            raise InvalidInput(
                "contact", mask(contact), f"one of the case's contacts {known}"
            ) from None

    def _preference(
        self,
        kind: str,
        case_id: str,
        channel: Channel | str,
        contact: str | None,
        at: datetime | None,
        actor: Actor,
    ) -> JournalEntry:
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        data: dict[str, Any] = {
            "channel": str(_enum(Channel, channel, "channel")),
            "actor": actor.id,
        }
        if contact is not None:
            self._contact_point(case, contact)
            data["contact"] = contact
        entry = self._record(case, moment, kind, data)
        _log.bind().info(kind, case_id=case_id, channel=data["channel"])
        return entry

    def record_consent(
        self,
        case_id: str,
        channel: Channel | str,
        *,
        contact: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> JournalEntry:
        """Record the debtor's direct consent to be contacted on *channel* (or one contact point).

        Rules read it: a consent lifts the contact window for a while
        (``US-TIME``), exempts calls from the weekly cap (``US-7IN7``), restores
        a medium the debtor had opted out of, and is the prior express consent
        automated calls need (``US-TCPA``).
        """
        return self._preference("consent", case_id, channel, contact, at, actor)

    def record_opt_out(
        self,
        case_id: str,
        channel: Channel | str,
        *,
        contact: str | None = None,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> JournalEntry:
        """Record that the debtor asked not to be contacted on *channel* (or one contact point).

        It also revokes any consent to automated contact there.
        """
        return self._preference("opt_out", case_id, channel, contact, at, actor)

    def record_inconvenient(
        self,
        case_id: str,
        start: time,
        end: time,
        *,
        at: datetime | None = None,
        actor: Actor = SYSTEM,
    ) -> JournalEntry:
        """Record local times the debtor named as inconvenient, ``start`` to ``end``.

        A span may wrap midnight (``22:30`` to ``09:00``).  A new statement adds to
        the earlier ones.

        Raises:
            InvalidInput: a time that is not a `datetime.time`, or an empty span.
        """
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise InvalidInput(name, value, "a local time of day such as time(12, 0)")
        if start == end:
            raise InvalidInput("end", end.isoformat(), "a time other than start")
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        spans = [
            *(
                [s.isoformat(), e.isoformat()]
                for s, e in self.contact_history(case_id).inconvenient
            ),
            [start.isoformat(), end.isoformat()],
        ]
        entry = self._record(case, moment, "inconvenient", {"spans": spans, "actor": actor.id})
        _log.bind().info("inconvenient_times", case_id=case_id)
        return entry

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
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        verdict = self.compliance.judge(case, self.contact_history(case_id), proposal, moment)
        if verdict.allowed or not record:
            return verdict
        chosen = verdict.proposal
        data: dict[str, Any] = {
            "channel": chosen.channel,
            "purpose": chosen.purpose,
            "automated": chosen.automated,
            "reasons": [reason.to_json() for reason in verdict.reasons],
            "actor": actor.id,
        }
        if chosen.contact is not None:
            data["contact"] = chosen.contact
        if chosen.party is not None:
            data["party"] = chosen.party
        if verdict.next_allowed_at is not None:
            data["next_allowed_at"] = verdict.next_allowed_at.isoformat()
        if key is not None:
            data["key"] = key
        self._record(case, moment, "contact_denied", data)
        _log.bind().info(
            "contact_denied",
            case_id=case_id,
            channel=chosen.channel,
            rules=list(verdict.rules),
            actor=actor.id,
        )
        return verdict

    def record_notice(
        self, case_id: str, notice: str, *, at: datetime | None = None, actor: Actor = SYSTEM
    ) -> JournalEntry:
        """Record that a notice (e.g. ``"demand_letter"``) was sent; guards count from it."""
        if not isinstance(notice, str) or not notice.isidentifier():
            raise InvalidInput("notice", notice, "a notice kind such as 'demand_letter'")
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        entry = self._record(case, moment, "notice", {"notice": notice, "actor": actor.id})
        _log.bind().info("notice_sent", case_id=case_id, notice=notice)
        return entry

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

        Raises:
            InvalidInput: the amount is not positive Money.
            CurrencyMismatch: the payment is in another currency than the case.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        if not isinstance(amount, Money):
            raise InvalidInput("amount", amount, f"Money in {case.currency}")
        if amount.currency != case.currency:
            raise CurrencyMismatch("amount", case.currency, amount.currency)
        self._accrue(case, moment)  # charges up to today first: none lost once principal is paid
        applied, credit = allocate(amount, case.balance.components(), order)
        data: dict[str, Any] = {
            "amount": str(amount.amount),
            "currency": amount.currency,
            "applied": {name: str(part.amount) for name, part in applied.items()},
            "credit": str(credit.amount),
        }
        if reference is not None:
            data["reference"] = reference
        data.update(self._payment_shares(case, amount))
        self._record(case, moment, "payment", data)
        _log.bind().info("payment", case_id=case_id, currency=amount.currency)
        self._after_payment(case, moment)
        result = PaymentResult(applied, credit, self._cure(case, moment))
        self._react(case_id, "payment", moment)
        return result

    def _cure(self, case: Case, moment: datetime) -> TransitionResult | None:
        """Fire ``cure`` after a payment that cleared the arrears, where the workflow has one.

        The payment stands whatever happens here: a refused cure is journaled
        and returned, never raised.
        """
        workflow = self.workflow
        if case.balance.has_arrears or "cure" not in workflow.triggers:
            return None
        if case.stage not in workflow.sources_of("cure"):
            return None
        if case.stage == workflow.definition.initial and not case.balance.outstanding.is_zero:
            return None  # already current: nothing to cure
        try:
            return self.fire(case.id, "cure", at=moment, reason="payment cleared the arrears")
        except TransitionDenied as denied:
            return TransitionResult("cure", denied.stage, denied.stage, denied.failures)

    # -- the policy: reviews, the outbox and tasks ---------------------------------------
    def _policy(self) -> Policy:
        if self.policy is None:
            raise InvalidInput("policy", None, "an engine built with a policy (Engine(policy=...))")
        return self.policy

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
                again after it.

        Raises:
            InvalidInput: the engine has no policy, or a bad batch size.
        """
        self._policy()
        moment = self.clock.now() if now is None else require_aware(now, "now")
        if not isinstance(batch, int) or batch < 1:
            raise InvalidInput("batch", batch, "a positive number of cases")
        return run_tick(self, moment, limit=limit, batch=batch, owner=owner, lease_for=lease_for)

    def facts(self, case_id: str, at: datetime | None = None) -> Facts:
        """What the policy's conditions read about the case at *at* (segment included)."""
        moment = self.clock.now() if at is None else require_aware(at, "at")
        return self._facts(self.store.get(case_id), moment)

    def _facts(self, case: Case, moment: datetime) -> Facts:
        case_id, store = case.id, self.store
        return Facts(
            case,
            moment,
            lambda: self.contact_history(case_id),
            entries=lambda: store.entries(case_id),
            variant=case.variant,
            segmenter=self.policy.segment_of if self.policy is not None else None,
        )

    def record_variant(
        self, case_id: str, variant: str, *, at: datetime | None = None
    ) -> JournalEntry:
        """Record the champion/challenger variant a case was assigned to."""
        policy = self._policy()
        known = [candidate.id for candidate in policy.variants]
        if variant not in known:
            raise InvalidInput("variant", variant, f"one of the policy's variants {known}")
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        return self._record(
            case, moment, "variant_assigned", {"variant": variant, "policy": policy.label()}
        )

    def record_review(
        self,
        case_id: str,
        *,
        next_review_at: datetime,
        sources: Sequence[str] = (),
        segment: str | None = None,
        at: datetime | None = None,
    ) -> JournalEntry:
        """Record that the policy reviewed the case, and when it looks again."""
        policy = self._policy()
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        upcoming = require_aware(next_review_at, "next_review_at")
        if instant(upcoming) <= instant(moment):
            raise InvalidInput(
                "next_review_at", upcoming.isoformat(), f"a time after {moment.isoformat()}"
            )
        data: dict[str, Any] = {
            "policy": policy.label(),
            "next_review_at": moment_text(upcoming),
            "steps": list(sources),
        }
        if segment is not None:
            data["segment"] = segment
        if case.variant is not None:
            data["variant"] = case.variant
        with self.store.transaction():
            entry = self._record(case, moment, "review", data)
            self.store.schedule(case_id, upcoming)
        return entry

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
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        data: dict[str, Any] = {
            "key": key,
            "step": step,
            "channel": channel,
            "text": text,
            "policy": self._policy().label(),
        }
        for name, value in (("contact", contact), ("template", template), ("subject", subject)):
            if value is not None:
                data[name] = value
        self._record(case, moment, "outbox_intent", data)
        _log.bind().info("outbox_intent", case_id=case_id, channel=channel, step=step)
        return data

    def render(
        self, case: Case, action: SendAction, facts: Facts, at: datetime
    ) -> tuple[str | None, str | None]:
        """A message's text and subject from the template set; ``(None, None)`` without one."""
        if self.templates is None or action.template is None:
            return None, None
        lender = self.policy.lender if self.policy is not None else {}
        extra: dict[str, Any] = dict(action.variables)
        today = case.local_date(at)
        if action.deadline_days is not None:
            extra["deadline"] = today + timedelta(days=action.deadline_days)
        else:
            upcoming = _next_agreed_date(case, today)
            if upcoming is not None:
                extra["deadline"] = upcoming
        # Only the variables the template reads (its amounts cost a Money each).
        used = self.templates.get(action.template, action.channel, case.debtor.locale).variables
        context = template_context(case, at, used, lender=lender, **extra)
        rendered = self.templates.render(
            action.template,
            action.channel,
            case.debtor.locale,
            context,
            party=action.party,
            compliance=self.compliance,
            case=case,
            at=at,
        )
        return rendered.text, rendered.subject

    def channel_for(self, channel: str) -> ChannelAdapter:
        """The adapter that serves *channel*.

        Raises:
            InvalidInput: no adapter serves it.
        """
        for adapter in self.channels:
            if channel in adapter.channels:
                return adapter
        served = sorted({name for adapter in self.channels for name in adapter.channels})
        raise InvalidInput("channel", channel, f"a channel an adapter serves ({served})")

    def open_task(
        self,
        case_id: str,
        action: TaskAction,
        *,
        key: str,
        step: str,
        at: datetime | None = None,
    ) -> Task:
        """Open a task for a person on the case, assigned to the agent with the lightest load."""
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        # Only with agents to choose from (the load is read from the store once).
        agent = (
            pick_agent(self.agents, action.queue, action.skill, self._agent_load())
            if self.agents
            else None
        )
        # The task's JSON is written here and validated once, when the entry is
        # applied (`apply_entry` builds the case's `Task` from it).
        task: dict[str, Any] = {
            "id": key,
            "kind": action.kind,
            "queue": action.queue,
            "priority": action.priority,
            "due_at": _later_text(moment, action.due_hours),
            "stage": case.stage,
            "step": step,
            "opened_at": moment_text(moment),
        }
        if action.skill is not None:
            task["skill"] = action.skill
        if agent is not None:
            task["assignee"] = agent.id
        self._record(case, moment, "task_opened", {"task": task, "key": key})
        _log.bind().info("task_opened", case_id=case_id, kind=action.kind, queue=action.queue)
        return case.tasks[-1]

    def _agent_load(self) -> dict[str, int]:
        """Open tasks per agent."""
        if not self.agents:
            return {}
        self._task_index()
        return self._load

    def _task_index(self) -> dict[str, Task]:
        """The open tasks by id: read from the store once, then kept up to date."""
        if self._open_tasks is None:
            self._open_tasks = {}
            for case_id in self.store.case_ids():
                self._track_tasks((), self.store.get(case_id).tasks)
        return self._open_tasks

    def _track_tasks(self, before: tuple[Task, ...], after: tuple[Task, ...]) -> None:
        """Note the tasks a recorded entry opened, closed or expired."""
        index, load = self._open_tasks, self._load
        assert index is not None
        kept = {task.id for task in after}
        for task in before:
            if task.id not in kept:
                index.pop(task.id, None)
                if task.assignee is not None:
                    load[task.assignee] = load.get(task.assignee, 0) - 1
        had = {task.id for task in before}
        for task in after:
            if task.id not in had:
                index[task.id] = task
                if task.assignee is not None:
                    load[task.assignee] = load.get(task.assignee, 0) + 1

    def tasks(self, *, queue: str | None = None, assignee: str | None = None) -> list[Task]:
        """The open tasks, most urgent first (priority, then due time).

        The engine reads them from the store the first time and keeps them up to
        date as it records; tasks opened by another process sharing the store are
        not seen until a new `Engine` reads the store.
        """
        found = [
            task
            for task in self._task_index().values()
            if (queue is None or task.queue == queue)
            and (assignee is None or task.assignee == assignee)
        ]
        return sorted(found, key=lambda task: (task.priority, task.due_at, task.id))

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

        Raises:
            InvalidInput: the case has no such open task.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        if task_id not in {task.id for task in case.tasks}:
            raise InvalidInput("task_id", task_id, "an open task of the case")
        if not isinstance(outcome, str) or not outcome.strip():
            raise InvalidInput("outcome", outcome, "a short word such as 'done'")
        entry = self._record(
            case,
            moment,
            "task_closed",
            {"task_id": task_id, "outcome": outcome, "actor": actor.id},
        )
        _log.bind().info("task_closed", case_id=case_id, actor=actor.id)
        return entry

    def _react(self, case_id: str, event: str, moment: datetime) -> None:
        """Fire what the policy's ``inbound`` says a result fires, where it can."""
        policy = self.policy
        if policy is None or event not in policy.inbound:
            return
        trigger = policy.inbound[event]
        case = self.store.get(case_id)
        if case.stage not in self.workflow.sources_of(trigger):
            return
        with contextlib.suppress(TransitionDenied):
            self.fire(case_id, trigger, at=moment, reason=f"policy: inbound {event}")

    def explain(self, case_id: str, at: datetime | None = None) -> Explanation:
        """What the policy would do for the case at *at*, and why; nothing is recorded.

        Lists the facts the policy reads, every escalation (whether its condition
        holds and what the guards would say), every step (whether it matches,
        and for a message, the compliance verdict), and the next review.
        """
        return explain_case(self, case_id, at)

    # -- the journal -----------------------------------------------------------------
    def verify(self) -> list[JournalProblem]:
        """Check every chain against its recorded head; an empty list means intact."""
        problems: list[JournalProblem] = []
        for case_id, entries in self.store.chains():
            problems.extend(verify_chain(case_id, entries, self.store.head(case_id)))
        return problems

    def replay(self, case_id: str) -> Case:
        """Rebuild the case from its journal alone (it should equal `case`).

        Raises:
            JournalCorrupted: the chain does not verify against the store's head.
        """
        return replay(self.store.entries(case_id), self.store.head(case_id))

    def export_journal(self, out: IO[str]) -> int:
        """Write every chain as JSON Lines, sealed; returns the number of entries."""
        return write_jsonl(self.store.chains(), out)

    @classmethod
    def from_journal(
        cls,
        lines: Iterable[str],
        workflow: Workflow | None = None,
        *,
        clock: Clock | None = None,
    ) -> Engine:
        """Rebuild an engine from an export: every case replayed from its chain.

        Each case is restored under *workflow* (the standard one when omitted),
        which must be the workflow its chain was recorded under: the same name,
        with the stage the case stands in among its stages (so a later version
        of the same workflow that kept that stage will do).

        Raises:
            JournalCorrupted: any line or chain does not verify.
            InvalidInput: a chain was recorded under another workflow, or a
                case stands in a stage *workflow* does not have (``workflow``).
        """
        chains, problems = read_jsonl(lines)
        if problems:
            raise JournalCorrupted(problems)
        engine = cls(workflow, clock=clock)
        for case_id, entries in chains.items():
            case = replay(entries)
            engine._check_recorded_workflow(case, entries)
            engine.store.add(case, entries[0])
            for entry in entries[1:]:
                engine.store.append(entry)
            if not engine.workflow.is_terminal(case.stage):
                engine.store.schedule(case.id, _last_review(entries, case))
            if case.id != case_id:
                raise JournalCorrupted(
                    [JournalProblem(case_id, 0, "changed", "snapshot id differs from the chain")]
                )
        return engine

    def _check_recorded_workflow(self, case: Case, entries: Sequence[JournalEntry]) -> None:
        """Refuse a chain recorded under another workflow than the engine's (`from_journal`)."""
        workflow = self.workflow
        recorded = [
            tuple(entry.data["workflow"])
            for entry in entries
            if entry.kind in ("opened", "transition") and "workflow" in entry.data
        ]
        for name, version in dict.fromkeys(recorded):
            if name != workflow.name:
                raise InvalidInput(
                    "workflow",
                    f"{workflow.name} {workflow.version}",
                    f"the workflow case {case.id} was recorded under ({name} {version})",
                )
        if case.stage not in workflow.stages:
            raise InvalidInput(
                "workflow",
                f"{workflow.name} {workflow.version}",
                f"a workflow with stage {case.stage!r}, where case {case.id} stands",
            )

    # -- promises, plans, charges, credit, reversals, waivers and settlements ----------
    #: The approval-limits table `waive` and `settle` use when given none.
    approval_limits: ApprovalLimits | None = None

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
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        charges = self._accrue(case, moment)
        self._use_credit(case, moment)
        return charges

    def arrears_at(self, case_id: str, *, at: datetime | None = None) -> Money:
        """The arrears at *at*, with the charges due under the case's terms up to then.

        Nothing is recorded: this is what a plan or a settlement is built on.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        charges = self._charges(case, moment)
        if charges is None:
            return case.arrears
        return case.arrears + charges.penalty + charges.fee

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
            InvalidInput: not positive Money, more than ``not_due``, or *due* not a date.
            CurrencyMismatch: the amount is in another currency than the case.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        money = self._case_money(case, amount, "amount")
        if money.amount > case.balance.not_due:
            raise InvalidInput(
                "amount", str(money), f"at most the {case.balance.money('not_due')} not yet due"
            )
        if not isinstance(due, date) or isinstance(due, datetime):
            raise InvalidInput("due", due, "a calendar date")
        data = {"amount": str(money.amount), "due": due.isoformat(), "actor": actor.id}
        entry = self._record(case, moment, "instalment_due", data)
        _log.bind().info("instalment_due", case_id=case_id)
        self._use_credit(case, moment)
        return entry

    def apply_credit(self, case_id: str, *, at: datetime | None = None) -> PaymentResult | None:
        """Pay the arrears from the credit the case holds; cure the case if that clears them.

        The engine does this itself whenever new arrears arise (`accrue`,
        `fall_due`); call it for a case opened with both credit and arrears.

        Returns:
            What the credit paid, or ``None`` when there was no credit or nothing overdue.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        return self._use_credit(case, moment)

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

        Raises:
            InvalidInput: a bad amount, date, schedule or grace, or a case in a terminal stage.
            CurrencyMismatch: the amount is in another currency than the case.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        self._check_actor(actor)
        self._check_live(case)
        money = self._case_money(case, amount, "amount")
        if money > case.balance.outstanding:
            raise InvalidInput("amount", str(money), f"at most the {case.balance.outstanding} owed")
        today = case.local_date(moment)
        if not isinstance(due, date) or isinstance(due, datetime) or due < today:
            raise InvalidInput("due", due, f"a calendar date from {today.isoformat()} on")
        parts = self._instalments(case, money, due, instalments, today)
        promise = self._build(
            Promise,
            "instalments",
            id=f"promise-{self.store.head(case_id).seq + 1}",
            made_at=moment,
            instalments=parts,
            grace_days=_days(grace_days),
        )
        data: dict[str, Any] = {"promise": promise.model_dump(mode="json"), "actor": actor.id}
        if case.promise is not None and case.promise.is_open:
            data["supersedes"] = case.promise.id
        self._record(case, moment, "promise_made", data)
        _log.bind().info("promise_made", case_id=case_id, promise_id=promise.id)
        if "promise" in self.workflow.triggers and case.stage in self.workflow.sources_of(
            "promise"
        ):
            self._fire_quietly(case, "promise", moment, "promise to pay recorded", actor)
        self._react(case_id, "promise", moment)
        return promise

    def review_promises(self, case_id: str, *, at: datetime | None = None) -> Promise | None:
        """Judge the case's open promise at *at*: kept, partly kept, broken, or still open.

        A promise is broken once the grace after one of its dates has passed
        with the payments short of every instalment up to that date:
        ``partly_kept`` (with the shortfall) when something was paid,
        ``broken`` when nothing was.  Either fires ``promise_broken`` from the
        ``promise`` stage, taking the case where the workflow says.

        Returns:
            The promise as it stands after the review, or ``None`` when the case has none.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        promise = case.promise
        if promise is None or not promise.is_open:
            return promise
        if self._promise_kept(case, moment):
            return case.promise
        short = promise.first_short(case.local_date(moment))
        if short is not None:
            index, shortfall = short
            status = PromiseStatus.PARTLY_KEPT if promise.paid else PromiseStatus.BROKEN
            self._record(
                case,
                moment,
                "promise_resolved",
                {
                    "promise_id": promise.id,
                    "status": str(status),
                    "paid": str(promise.paid),
                    "shortfall": str(shortfall.amount),
                    "instalment": index,
                },
            )
            _log.bind().info("promise_resolved", case_id=case_id, status=str(status))
            if case.stage == "promise" and "promise_broken" in self.workflow.triggers:
                self._fire_quietly(case, "promise_broken", moment, f"promise {status}", SYSTEM)
        return case.promise

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
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        if not isinstance(kind, str) or not _DOCUMENT.match(kind):
            raise InvalidInput("kind", kind, "a document kind such as 'proof_of_income'")
        data: dict[str, Any] = {"document": kind, "actor": actor.id}
        if reference is not None:
            if not isinstance(reference, str) or not _REFERENCE.match(reference):
                raise InvalidInput("reference", mask(str(reference)), "a document id")
            data["reference"] = reference
        entry = self._record(case, moment, "document", data)
        _log.bind().info("document", case_id=case_id, document=kind)
        return entry

    def start_plan(
        self,
        case_id: str,
        plan: RepaymentPlan,
        *,
        actor: Actor,
        approver: Actor | None = None,
        at: datetime | None = None,
    ) -> RepaymentPlan:
        """Start a repayment plan and fire ``offer_plan``.

        The instalments plus the waived part must equal the arrears now, with
        the charges due under the case's terms up to now (`arrears_at`; they
        are recorded first); the first instalment must not be in the past;
        and every document the plan requires must have been recorded
        (`record_document`).  An open promise is superseded by the plan.

        Raises:
            InvalidInput: a plan that is not new, does not add up, starts in
                the past, or whose documents are missing (named in the error);
                another plan is active.
            CurrencyMismatch: the plan is in another currency than the case.
            TransitionDenied: ``offer_plan`` is refused (journaled; no plan recorded).
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        self._check_actor(actor)
        if not isinstance(plan, RepaymentPlan):
            raise InvalidInput("plan", plan, "a RepaymentPlan")
        if plan.paid or plan.status != PlanStatus.ACTIVE or plan.late or plan.started_at:
            raise InvalidInput("plan", plan.id, "a new plan (nothing paid, not started)")
        if plan.currency != case.currency:
            raise CurrencyMismatch("plan", case.currency, plan.currency)
        if case.plan is not None and (case.plan.is_active or case.plan.id == plan.id):
            raise InvalidInput("plan", plan.id, f"no plan active or with the id {case.plan.id!r}")
        pending = self._charges(case, moment)
        arrears = case.arrears
        if pending is not None:  # charges up to today count: they are recorded first
            arrears = arrears + pending.penalty + pending.fee
        covered = plan.total + plan.waived_money
        if covered != arrears:
            raise InvalidInput(
                "plan",
                f"{plan.total} + {plan.waived_money} waived",
                f"instalments plus the waived part equal to the arrears, {arrears}",
            )
        today = case.local_date(moment)
        if plan.instalments[0].due < today:
            raise InvalidInput(
                "plan", plan.instalments[0].due.isoformat(), f"a first date from {today} on"
            )
        missing = [kind for kind in plan.documents if kind not in case.documents]
        if missing:
            raise InvalidInput(
                "required_documents",
                missing,
                f"recorded (record_document) before a {plan.kind} plan starts",
            )
        probe = case.model_copy()
        ctx = GuardContext(
            moment, "offer_plan", actor, approver, history=lambda: self.store.entries(case_id)
        )
        if not self.workflow.apply(probe, ctx).allowed:
            self.fire(case_id, "offer_plan", actor=actor, approver=approver, at=moment)
        self._accrue(case, moment)
        started = plan.model_copy(update={"started_at": moment})
        data: dict[str, Any] = {"plan": started.model_dump(mode="json"), "actor": actor.id}
        if approver is not None:
            data["approver"] = approver.id
        if case.promise is not None and case.promise.is_open:
            data["supersedes"] = case.promise.id
        self._record(case, moment, "plan_started", data)
        _log.bind().info("plan_started", case_id=case_id, plan_id=plan.id, kind=str(plan.kind))
        self.fire(
            case_id, "offer_plan", actor=actor, approver=approver, at=moment, reason="plan started"
        )
        assert case.plan is not None
        return case.plan

    def review_plan(self, case_id: str, *, at: datetime | None = None) -> RepaymentPlan | None:
        """Judge the case's active plan at *at*: instalments late, or the plan broken.

        An instalment unpaid after its date is recorded as late (once); unpaid
        after its grace, it breaks the plan: ``plan_broken`` fires from the
        ``repayment_plan`` stage, taking the case to the stage the workflow
        names, and a reduction plan's waiver lapses.

        Returns:
            The plan as it stands after the review, or ``None`` when the case has none.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        plan = case.plan
        if plan is None or not plan.is_active:
            return plan
        today = case.local_date(moment)
        short = plan.first_short(today)
        if short is not None:
            index, shortfall = short
            self._record(
                case,
                moment,
                "plan_resolved",
                {
                    "plan_id": plan.id,
                    "status": str(PlanStatus.BROKEN),
                    "paid": str(plan.paid),
                    "shortfall": str(shortfall.amount),
                    "instalment": index,
                    "waived": {},
                },
            )
            _log.bind().info("plan_resolved", case_id=case_id, status="broken")
            if case.stage == "repayment_plan" and "plan_broken" in self.workflow.triggers:
                self._fire_quietly(case, "plan_broken", moment, "plan instalment missed", SYSTEM)
            return case.plan
        late = [
            index
            for index, part in enumerate(plan.instalments)
            if part.due < today
            and index not in plan.late
            and plan.paid < plan.due_through(index).amount
        ]
        if late:
            shortfall = plan.due_through(late[-1]) - plan.paid_money
            self._record(
                case,
                moment,
                "plan_instalment_late",
                {"plan_id": plan.id, "instalments": late, "shortfall": str(shortfall.amount)},
            )
            _log.bind().info("plan_instalment_late", case_id=case_id, instalments=late)
        return case.plan

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

        Raises:
            InvalidInput: no payment with that reference, more than one, or
                already reversed.
        """
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        self._check_actor(actor)
        if reason is not None and not isinstance(reason, str):
            raise InvalidInput("reason", reason, "a short text or None")
        history = self.store.entries(case_id)
        found = [e for e in history if e.kind == "payment" and e.data.get("reference") == reference]
        if len(found) != 1:
            expected = "the reference of one recorded payment"
            raise InvalidInput("reference", reference, expected)
        payment = found[0]
        if any(
            e.kind == "payment_reversed" and e.data["payment_seq"] == payment.seq for e in history
        ):
            raise InvalidInput("reference", reference, "a payment not already reversed")
        data = _reversal(case, history, payment)
        data.update({"actor": actor.id})
        if reason is not None:
            data["reason"] = reason
        self._record(case, moment, "payment_reversed", data)
        _log.bind().info(
            "payment_reversed", case_id=case_id, reopened=data.get("stage") is not None
        )
        restored = {name: Money(value, case.currency) for name, value in data["restored"].items()}
        stage = data.get("stage")
        return Reversal(
            restored,
            Money(data["credit"], case.currency),
            None if stage is None else (stage["from"], stage["to"]),
        )

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
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        money = self._case_money(case, amount, "amount")
        if money > case.arrears:
            raise InvalidInput("amount", str(money), f"at most the arrears, {case.arrears}")
        if reason is not None and not isinstance(reason, str):
            raise InvalidInput("reason", reason, "a short text or None")
        approval = self._authorise(case, moment, money, actor, approver, limits, "waiver")
        applied, _ = allocate(money, case.balance.components(), order)
        data: dict[str, Any] = {
            "amount": str(money.amount),
            "applied": {name: str(part.amount) for name, part in applied.items()},
            **approval.to_json(),
        }
        if reason is not None:
            data["reason"] = reason
        self._record(case, moment, "waiver", data)
        _log.bind().info("waiver", case_id=case_id, basis=approval.basis, actor=actor.id)
        return Waiver(applied, approval, self._cure(case, moment))

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
        case = self.store.get(case_id)
        moment = self._moment(case_id, at)
        self._check_actor(actor)
        money = self._case_money(case, amount, "amount")
        owed = case.balance.outstanding
        if money >= owed:
            raise InvalidInput(
                "amount", str(money), f"less than the {owed} owed (a full payment is a payment)"
            )
        probe = case.model_copy()
        ctx = GuardContext(
            moment, "settle", actor, approver, history=lambda: self.store.entries(case_id)
        )
        if not self.workflow.apply(probe, ctx).allowed:
            self.fire(case_id, "settle", actor=actor, approver=approver, at=moment)
        approval = self._authorise(
            case, moment, owed - money, actor, approver, limits, "settlement"
        )
        owing = {**case.balance.components(), "not_due": case.balance.money("not_due")}
        paid, _ = allocate(money, owing, (*order, "not_due"))
        rest = {name: owing[name] - paid[name] for name in owing}
        data: dict[str, Any] = {
            "amount": str(money.amount),
            "applied": {name: str(part.amount) for name, part in paid.items()},
            "waived": {name: str(part.amount) for name, part in rest.items()},
            **approval.to_json(),
        }
        if reason is not None:
            data["reason"] = reason
        self._record(case, moment, "settlement", data)
        _log.bind().info("settlement", case_id=case_id, basis=approval.basis, actor=actor.id)
        transition = self.fire(
            case_id, "settle", actor=actor, approver=approver, at=moment, reason="settled"
        )
        return Waiver(rest, approval, transition)

    # -- their internals -------------------------------------------------------------
    @staticmethod
    def _check_actor(actor: object) -> None:
        if not isinstance(actor, Actor):
            raise InvalidInput("actor", actor, "an Actor")

    def _check_live(self, case: Case) -> None:
        if self.workflow.is_terminal(case.stage):
            raise InvalidInput("stage", case.stage, "a case in a live stage")

    @staticmethod
    def _case_money(case: Case, amount: object, field: str) -> Money:
        if not isinstance(amount, Money):
            raise InvalidInput(field, amount, f"Money in {case.currency}")
        if amount.currency != case.currency:
            raise CurrencyMismatch(field, case.currency, amount.currency)
        if amount.amount <= 0:
            raise InvalidInput(field, str(amount), "a positive amount")
        return amount

    @staticmethod
    def _build(model: type[_M], field: str, **values: Any) -> _M:
        try:
            return model(**values)
        except ValidationError as err:
            first = err.errors()[0]
            raise InvalidInput(field, ".".join(map(str, first["loc"])), first["msg"]) from None

    @staticmethod
    def _instalments(
        case: Case,
        amount: Money,
        due: date,
        given: Sequence[Instalment | tuple[date, Money]] | None,
        today: date,
    ) -> tuple[Instalment, ...]:
        if given is None:
            return (Instalment(due=due, amount=amount),)
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence) or not given:
            raise InvalidInput("instalments", type(given).__name__, "a sequence of instalments")
        parts: list[Instalment] = []
        for position, item in enumerate(given):
            if isinstance(item, Instalment):
                part = item
            elif isinstance(item, tuple) and len(item) == 2:
                part = Engine._build(
                    Instalment, f"instalments[{position}]", due=item[0], amount=item[1]
                )
            else:
                raise InvalidInput(
                    f"instalments[{position}]", repr(item), "an Instalment or a (date, Money) pair"
                )
            Engine._case_money(case, part.amount, f"instalments[{position}]")
            if part.due < today:
                raise InvalidInput(
                    f"instalments[{position}]", part.due.isoformat(), f"a date from {today} on"
                )
            parts.append(part)
        total = sum((part.amount.amount for part in parts), Decimal(0))
        if total != amount.amount or parts[-1].due != due:
            raise InvalidInput(
                "instalments",
                f"{total} {amount.currency} by {parts[-1].due.isoformat()}",
                f"instalments summing to {amount}, the last on {due.isoformat()}",
            )
        return tuple(parts)

    def _fire_quietly(
        self, case: Case, trigger: str, moment: datetime, reason: str, actor: Actor
    ) -> TransitionResult:
        """Fire what a recorded fact leads to; a refusal is journaled and returned, not raised."""
        try:
            return self.fire(case.id, trigger, at=moment, reason=reason, actor=actor)
        except TransitionDenied as denied:
            return TransitionResult(trigger, denied.stage, denied.stage, denied.failures)

    def _promise_kept(self, case: Case, moment: datetime) -> bool:
        """Record the open promise as kept when the payments cover it or nothing is overdue."""
        promise = case.promise
        if promise is None or not promise.is_open:
            return False
        if promise.paid < promise.total.amount and case.balance.has_arrears:
            return False
        self._record(
            case,
            moment,
            "promise_resolved",
            {
                "promise_id": promise.id,
                "status": str(PromiseStatus.KEPT),
                "paid": str(promise.paid),
            },
        )
        _log.bind().info("promise_resolved", case_id=case.id, status="kept")
        # With the arrears cleared the cure takes the case out of collection instead.
        if (
            case.balance.has_arrears
            and case.stage == "promise"
            and "promise_kept" in self.workflow.triggers
        ):
            self._fire_quietly(case, "promise_kept", moment, "promise kept", SYSTEM)
        return True

    def _plan_completed(self, case: Case, moment: datetime) -> bool:
        """Record the active plan as completed once it is paid; apply a reduction's waiver."""
        plan = case.plan
        if plan is None or not plan.is_active or plan.paid < plan.total.amount:
            return False
        waived: dict[str, str] = {}
        if plan.waived and case.balance.has_arrears:
            waiver = min(plan.waived_money, case.arrears)
            parts, _ = allocate(waiver, case.balance.components())
            waived = {name: str(part.amount) for name, part in parts.items() if part}
        self._record(
            case,
            moment,
            "plan_resolved",
            {
                "plan_id": plan.id,
                "status": str(PlanStatus.COMPLETED),
                "paid": str(plan.paid),
                "waived": waived,
            },
        )
        _log.bind().info("plan_resolved", case_id=case.id, status="completed")
        if case.stage == "repayment_plan" and "plan_completed" in self.workflow.triggers:
            self._fire_quietly(case, "plan_completed", moment, "plan completed", SYSTEM)
        return True

    def _payment_shares(self, case: Case, amount: Money) -> dict[str, Any]:
        """How much of a payment counts towards the open promise and the active plan."""
        shares: dict[str, Any] = {}
        promise, plan = case.promise, case.plan
        if promise is not None and promise.is_open:
            counted = min(amount.amount, promise.remaining.amount)
            shares["promise"] = {"id": promise.id, "counted": str(counted)}
        if plan is not None and plan.is_active:
            counted = min(amount.amount, plan.remaining.amount)
            shares["plan"] = {"id": plan.id, "counted": str(counted)}
        return shares

    def _after_payment(self, case: Case, moment: datetime) -> None:
        """Keep the promise and complete the plan a payment has just covered."""
        self._promise_kept(case, moment)
        self._plan_completed(case, moment)

    def _frozen_days(self, case: Case, terms: AgreementTerms) -> Callable[[date], bool]:
        """Whether a freezing hold or an interest-freezing plan was in force on a local day."""
        zone = case.debtor.timezone or UTC
        spans: list[tuple[datetime, datetime | None]] = []
        for hold in case.holds:
            if hold.kind in terms.freeze_on_holds:
                ends = [t for t in (hold.ends_at, hold.released_at) if t is not None]
                spans.append((hold.started_at, min(ends) if ends else None))
        plan = case.plan
        if plan is not None and plan.freeze_interest and plan.started_at is not None:
            spans.append((plan.started_at, plan.ended_at))

        def frozen(day: date) -> bool:
            start = datetime.combine(day, time(0), tzinfo=zone)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            return any(s < end and (e is None or e > start) for s, e in spans)

        return frozen

    def _charges(self, case: Case, moment: datetime) -> Charges | None:
        """The charges due under the case's terms up to *moment*, not yet recorded."""
        terms = case.terms
        if terms is None or not case.balance.has_arrears or self.workflow.is_terminal(case.stage):
            return None
        overdue = {name: getattr(case.balance, name) for name in COMPONENTS}
        return accrue_charges(
            terms,
            case.currency,
            overdue,
            case.due_date,
            case.accrual,
            case.local_date(moment),
            self._frozen_days(case, terms),
        )

    def _accrue(self, case: Case, moment: datetime) -> Charges | None:
        charges = self._charges(case, moment)
        if charges is None:
            return None
        state = case.accrual
        unchanged = state is not None and (state.through, state.late_fee_for) == (
            charges.through,
            charges.late_fee_for,
        )
        if unchanged and charges.is_zero:
            return charges
        data = {
            "penalty": str(charges.penalty.amount),
            "fee": str(charges.fee.amount),
            "days": charges.days,
            "frozen_days": charges.frozen_days,
            "through": charges.through.isoformat(),
            "late_fee_for": None
            if charges.late_fee_for is None
            else charges.late_fee_for.isoformat(),
        }
        self._record(case, moment, "accrual", data)
        _log.bind().info(
            "accrual", case_id=case.id, days=charges.days, frozen_days=charges.frozen_days
        )
        return charges

    def _use_credit(self, case: Case, moment: datetime) -> PaymentResult | None:
        balance = case.balance
        if not balance.credit or not balance.has_arrears:
            return None
        use = min(balance.money("credit"), balance.arrears)
        applied, _ = allocate(use, balance.components())
        data = {"applied": {name: str(part.amount) for name, part in applied.items()}}
        self._record(case, moment, "credit_applied", data)
        _log.bind().info("credit_applied", case_id=case.id)
        return PaymentResult(applied, Money.zero(case.currency), self._cure(case, moment))

    def _authorise(
        self,
        case: Case,
        moment: datetime,
        amount: Money,
        actor: Actor,
        approver: Actor | None,
        limits: ApprovalLimits | None,
        what: str,
    ) -> Approval:
        table = limits if limits is not None else self.approval_limits
        if not isinstance(table, ApprovalLimits):
            raise InvalidInput(
                "limits", table, "an ApprovalLimits table (or engine.approval_limits)"
            )
        try:
            return table.authorise(amount, actor, approver)
        except ApprovalDenied as denied:
            own = table.limit_of(actor)
            data = {
                "what": what,
                "amount": str(amount.amount),
                "limit": None if own is None else str(own.amount),
                "reason": denied.reason,
                "actor": actor.id,
                "approver": denied.approver,
            }
            self._record(case, moment, "waiver_refused", data)
            _log.bind().info("waiver_refused", case_id=case.id, actor=actor.id)
            raise


_DOCUMENT: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_REFERENCE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
#: Transitions a payment may cause at once, which its reversal re-opens.
_CLOSED_BY_PAYMENT: Final = frozenset({"cure", "promise_kept", "plan_completed"})


def _later_text(moment: datetime, hours: int) -> str:
    """ISO text of *hours* after *moment*: a tick opens thousands of tasks due at a few times."""
    # Keyed by the zone too: equal instants in two zones are equal datetimes,
    # but their texts differ.
    return _later_in_zone(moment, moment.tzinfo, hours)


@lru_cache(maxsize=256)
def _later_in_zone(moment: datetime, zone: tzinfo | None, hours: int) -> str:
    """`_later_text`, remembered by moment, zone and hours."""
    return (moment + timedelta(hours=hours)).isoformat()


def _next_agreed_date(case: Case, today: date) -> date | None:
    """The next date of an open promise or an active plan, from *today* on."""
    agreements: list[Promise | RepaymentPlan] = []
    if case.promise is not None and case.promise.is_open:
        agreements.append(case.promise)
    if case.plan is not None and case.plan.status == PlanStatus.ACTIVE:
        agreements.append(case.plan)
    dates = [
        instalment.due
        for agreement in agreements
        for instalment in agreement.instalments
        if instalment.due >= today
    ]
    return min(dates) if dates else None


def _last_review(entries: Sequence[JournalEntry], case: Case) -> datetime:
    """When a restored case is reviewed next: as its last journaled review said, else at once.

    A review that changed nothing is not journaled, so the time may be earlier
    than the one the exporting store held; a review run early does not act twice
    (its actions' keys are per day).
    """
    for entry in reversed(entries):
        if entry.kind == "review":
            return datetime.fromisoformat(entry.data["next_review_at"])
    assert case.opened_at is not None
    return case.opened_at


def _days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise InvalidInput("grace_days", value, "a whole number of days from 0 to 366")
    return value


def _reversal(case: Case, history: Sequence[JournalEntry], payment: JournalEntry) -> dict[str, Any]:
    """What undoing *payment* restores, computed from the case and its chain."""
    data = payment.data
    restored = {name: Decimal(value) for name, value in data["applied"].items()}
    left = Decimal(data["credit"])
    taken = min(left, case.balance.credit)
    spent = left - taken
    later = history[payment.seq + 1 :]
    # Credit the payment left that later charges used: owed again where it paid.
    for entry in reversed(later):
        if not spent:
            break
        if entry.kind == "credit_applied":
            for name, value in entry.data["applied"].items():
                part = min(Decimal(value), spent)
                restored[name] = restored.get(name, Decimal(0)) + part
                spent -= part
    if spent:
        restored["principal"] = restored.get("principal", Decimal(0)) + spent
    out: dict[str, Any] = {
        "reference": data["reference"],
        "payment_seq": payment.seq,
        "amount": data["amount"],
        "credit": str(taken),
    }
    promise = case.promise
    share = data.get("promise")
    if promise is not None and share is not None and share["id"] == promise.id:
        paid = promise.paid - Decimal(share["counted"])
        status = promise.status
        if status == PromiseStatus.KEPT and paid < promise.total.amount:
            status = PromiseStatus.OPEN
        out["promise"] = {"id": promise.id, "paid": str(paid), "status": str(status)}
    plan = case.plan
    share = data.get("plan")
    if plan is not None and share is not None and share["id"] == plan.id:
        paid = plan.paid - Decimal(share["counted"])
        plan_status = plan.status
        if plan_status == PlanStatus.COMPLETED and paid < plan.total.amount:
            plan_status = PlanStatus.ACTIVE
            for entry in later:
                if entry.kind == "plan_resolved" and entry.data["plan_id"] == plan.id:
                    for name, value in entry.data["waived"].items():
                        restored[name] = restored.get(name, Decimal(0)) + Decimal(value)
        out["plan"] = {"id": plan.id, "paid": str(paid), "status": str(plan_status)}
    out["restored"] = {name: str(value) for name, value in restored.items()}
    # The transitions the payment caused at once, in the entries right after it.
    caused: list[JournalEntry] = []
    for entry in later:
        if entry.at != payment.at:
            break
        if entry.kind in ("transition", "refusal"):
            if entry.data["trigger"] not in _CLOSED_BY_PAYMENT:
                break
            if entry.kind == "transition":
                caused.append(entry)
        elif entry.kind not in ("promise_resolved", "plan_resolved", "credit_applied"):
            break
    if caused:
        moved_since = [e for e in later if e.kind == "transition" and e.seq > caused[-1].seq]
        before = caused[0].data["source"]
        if not moved_since and case.stage == caused[-1].data["dest"] and case.stage != before:
            out["stage"] = {"from": case.stage, "to": before}
    return out


@dataclass(frozen=True, slots=True)
class Reversal:
    """What reversing a payment did.

    Attributes:
        restored: The amount owed again on each component.
        credit: The credit taken back.
        reopened: ``(from, to)`` when the case went back to the stage it was
            in before the payment, else ``None``.
    """

    restored: Mapping[str, Money]
    credit: Money
    reopened: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class Waiver:
    """What a waiver or a settlement did.

    Attributes:
        applied: The amount waived on each component.
        approval: The limit applied, its basis and who approved.
        transition: The cure (for a waiver that cleared the arrears) or the
            ``settle`` transition, if any.
    """

    applied: Mapping[str, Money]
    approval: Approval
    transition: TransitionResult | None
