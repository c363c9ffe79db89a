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

import gc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import IO, Any

import structlog

from ._exceptions import (
    CurrencyMismatch,
    DuplicateCase,
    InvalidInput,
    JournalCorrupted,
    TransitionDenied,
)
from .case import Case, Channel, Hold, HoldKind, Outcome, Party, mask
from .clock import Clock, SystemClock, require_aware
from .compliance import Compliance, ContactHistory, Proposal, Verdict
from .guards import SYSTEM, Actor, GuardContext
from .journal import (
    GENESIS,
    JournalEntry,
    JournalProblem,
    apply_entry,
    read_jsonl,
    replay,
    seal,
    verify_chain,
    write_jsonl,
)
from .money import ALLOCATION_ORDER, Money, allocate
from .store import MemoryStore
from .workflow import TransitionResult, Workflow

__all__ = ["Engine", "PaymentResult"]

_log = structlog.get_logger("arrears")


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
    """

    def __init__(
        self,
        workflow: Workflow | None = None,
        *,
        store: MemoryStore | None = None,
        clock: Clock | None = None,
        compliance: Compliance | None = None,
    ) -> None:
        self.workflow = workflow or Workflow()
        self.store = store if store is not None else MemoryStore()
        self.clock = clock or SystemClock()
        self.compliance = compliance if compliance is not None else Compliance()
        # Contact histories of the cases judged so far, kept up to date as entries
        # are recorded, so a judgment never re-reads the journal (bench: judge_contact).
        self._histories: dict[str, ContactHistory] = {}

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
        self.store.append(entry)
        apply_entry(case, kind, at, data)
        history = self._histories.get(case.id)
        if history is not None and history.seq == entry.seq - 1:
            history.add(entry.seq, kind, at, data)
        return entry

    def contact_history(self, case_id: str) -> ContactHistory:
        """The case's contact history (attempts, consents, opt-outs), up to date.

        Raises:
            UnknownCase: no such case.
        """
        history = self._histories.get(case_id)
        head = self.store.head(case_id)
        if history is None:
            history = ContactHistory.from_entries(self.store.entries(case_id))
            self._histories[case_id] = history
        elif history.seq < head.seq:
            history.extend(self.store.entries(case_id)[history.seq + 1 :])
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
        moment = self._moment(None, at)
        if isinstance(case, Case):
            fresh = case.model_copy(update={"notices": dict(case.notices)})
        elif isinstance(case, Mapping):
            fresh = Case.model_validate(
                case if "opened_at" in case else {**case, "opened_at": moment}
            )
        else:
            raise InvalidInput("case", type(case).__name__, "a Case or a mapping of its fields")
        if fresh.id in self.store:
            raise DuplicateCase(fresh.id)
        if fresh.stage not in self.workflow.stages or self.workflow.is_terminal(fresh.stage):
            raise InvalidInput("stage", fresh.stage, "a live stage of the workflow")
        if fresh.version:
            raise InvalidInput("version", fresh.version, "0 for a case not yet opened")
        if fresh.opened_at is None:
            fresh.opened_at = moment
        data = {
            "actor": actor.id,
            # The snapshot travels as pydantic's JSON text: exact, and a third of
            # the cost of a nested dict encoded again (bench: load_and_fire).
            "case": fresh.model_dump_json(),
            "workflow": [self.workflow.name, self.workflow.version],
        }
        entry = seal(fresh.id, 0, moment, "opened", data, GENESIS)
        self.store.add(fresh, entry)
        apply_entry(fresh, "opened", moment, data)
        _log.info("case_opened", case_id=fresh.id, stage=fresh.stage)
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

        Raises:
            The first error `open_case` raises, with a note naming the record's
            position; every case before it stays open and journaled.
        """
        moment = self._moment(None, at)
        paused = gc.isenabled()
        gc.disable()
        opened = 0
        try:
            for position, case in enumerate(cases):
                try:
                    self.open_case(case, at=moment, actor=actor)
                except Exception as err:
                    err.add_note(f"while opening record {position} of the batch")
                    raise
                opened += 1
        finally:
            if paused:
                gc.enable()
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
        try:
            result = self.workflow.apply(case, ctx)
        except BaseException:
            case.stage = source
            raise
        data: dict[str, Any] = {
            "trigger": trigger,
            "source": result.source,
            "dest": result.dest,
            "actor": actor.id,
            "workflow": [self.workflow.name, self.workflow.version],
        }
        if approver is not None:
            data["approver"] = approver.id
        if reason is not None:
            data["reason"] = reason
        if result.allowed:
            try:
                self._record(case, moment, "transition", data)
            except BaseException:
                case.stage = source  # nothing moves that the journal does not hold
                raise
            _log.info(
                "transition",
                case_id=case_id,
                trigger=trigger,
                source=result.source,
                dest=result.dest,
                actor=actor.id,
            )
            return result
        data["failures"] = [failure.to_json() for failure in result.failures]
        self._record(case, moment, "refusal", data)
        _log.info(
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
        _log.info("hold_added", case_id=case_id, kind=str(hold.kind), hold_id=hold.id)
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
        _log.info("hold_released", case_id=case_id, hold_id=hold_id)
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
        entry = self._record(case, moment, "interaction", data)
        _log.info("interaction", case_id=case_id, channel=data["channel"], outcome=data["outcome"])
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
        _log.info(kind, case_id=case_id, channel=data["channel"])
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
        _log.info("inconvenient_times", case_id=case_id)
        return entry

    def judge_contact(
        self,
        case_id: str,
        proposal: Proposal | Mapping[str, Any],
        *,
        at: datetime | None = None,
        record: bool = True,
        actor: Actor = SYSTEM,
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
        self._record(case, moment, "contact_denied", data)
        _log.info(
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
        _log.info("notice_sent", case_id=case_id, notice=notice)
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
        applied, credit = allocate(amount, case.balance.components(), order)
        data: dict[str, Any] = {
            "amount": str(amount.amount),
            "currency": amount.currency,
            "applied": {name: str(part.amount) for name, part in applied.items()},
            "credit": str(credit.amount),
        }
        if reference is not None:
            data["reference"] = reference
        self._record(case, moment, "payment", data)
        _log.info("payment", case_id=case_id, currency=amount.currency)
        return PaymentResult(applied, credit, self._cure(case, moment))

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

        Raises:
            JournalCorrupted: any line or chain does not verify.
        """
        chains, problems = read_jsonl(lines)
        if problems:
            raise JournalCorrupted(problems)
        engine = cls(workflow, clock=clock)
        for case_id, entries in chains.items():
            case = replay(entries)
            engine.store.add(case, entries[0])
            for entry in entries[1:]:
                engine.store.append(entry)
            if case.id != case_id:
                raise JournalCorrupted(
                    [JournalProblem(case_id, 0, "changed", "snapshot id differs from the chain")]
                )
        return engine
