"""The kinds of journal entry: what each records, and what it changes on its case.

Every kind the engine records is declared once, in `KINDS`: its name, the
shape of its ``data`` (a `TypedDict`), the keys that data always has, and the
one function that applies it to a case (``None`` for kinds that only record).
`apply_entry` is how the engine changes a case, entry by entry, and `replay`
folds a whole chain through it, so a replayed case cannot drift from the live
one.  `check_data` names what an entry's data lacks; it is for checks of a
journal (verifying, tamper tests), never on the path that records.

    >>> from arrears.events import KINDS, check_data
    >>> sorted(KINDS["notice"].required)
    ['actor', 'notice']
    >>> check_data("notice", {"actor": "system"})
    ["notice: data has no 'notice'"]

The hash chain itself (sealing, verifying, export and import) is
`arrears.journal`, which knows nothing of cases.
"""

# No ``from __future__ import annotations`` here: Python 3.11 reads ``NotRequired``
# only from evaluated annotations when it builds a TypedDict's required keys.

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, NotRequired, Protocol, TypedDict, cast
from zoneinfo import ZoneInfo

from .agreements import Accrual
from .case import (
    Aging,
    Case,
    Hold,
    aged_in,
    below_zero,
    beyond_latest,
    beyond_limit,
    debtor_place,
    paid_off,
    persons_and_contacts,
    place_code,
    set_field,
    zone_name,
)
from .errors import ArrearsError, InvalidInput, JournalCorrupted, JournalProblem
from .journal import Head, JournalEntry, verify_chain
from .limits import LATEST_DATE, MAX_AMOUNT
from .plans import PlanStatus, Promise, PromiseStatus, RepaymentPlan
from .tasks import Task

__all__ = [
    "BEYOND_LIMIT",
    "KINDS",
    "NEGATIVE",
    "AccrualData",
    "AgreementReopenedData",
    "ApplyChange",
    "ConsentData",
    "ContactDeniedData",
    "CreditAppliedData",
    "DebtorChangedData",
    "DebtorPaymentData",
    "DebtorShare",
    "DocumentData",
    "EntryCheck",
    "EntryKind",
    "HoldAddedData",
    "HoldReleasedData",
    "InconvenientData",
    "InstalmentDueData",
    "InteractionData",
    "MigrationData",
    "NoticeData",
    "OpenedData",
    "OptOutData",
    "OutboxIntentData",
    "PaymentData",
    "PaymentReversedData",
    "PersonsChangedData",
    "PlanInstalmentLateData",
    "PlanResolvedData",
    "PlanStartedData",
    "PromiseMadeData",
    "PromiseResolvedData",
    "RefusalData",
    "ReviewData",
    "SettlementData",
    "TaskClosedData",
    "TaskCoveredData",
    "TaskOpenedData",
    "TransitionData",
    "VariantAssignedData",
    "WaiverData",
    "WaiverRefusedData",
    "apply_entry",
    "check_data",
    "negative_amounts",
    "replay",
]

# -- the data of each kind -----------------------------------------------------------------
# Values are JSON: amounts and decimals as strings, times as ISO 8601 text.


class MigrationData(TypedDict):
    """A case moved in from another system (`arrears.workflow.Migration`)."""

    reason: str
    source_system: str
    approver: NotRequired[str]
    approver_roles: NotRequired[list[str]]  # sorted


class OpenedData(TypedDict):
    """A case opened: its whole snapshot, the workflow, who opened it and with what roles."""

    actor: str
    case: str  # the whole case, as pydantic's JSON text
    workflow: list[str]  # [name, version]
    # The actor's roles, sorted (absent from entries written before roles were journaled).
    roles: NotRequired[list[str]]
    migration: NotRequired[MigrationData]  # opened beyond an opening stage


class TransitionData(TypedDict):
    """A trigger fired: source, destination, actor and roles, workflow."""

    trigger: str
    source: str
    dest: str
    actor: str
    workflow: list[str]
    # The actor's roles, sorted: replay judges the edge's guards about people on them.
    # Absent from entries written before roles were journaled: replay reports such an
    # entry when its edge asks for a person or a role.
    roles: NotRequired[list[str]]
    approver: NotRequired[str]
    approver_roles: NotRequired[list[str]]  # sorted, with the approver
    reason: NotRequired[str]


class RefusalData(TransitionData):
    """A trigger the guards refused, with each failure.

    ``dest`` is the stage the case stayed in.
    """

    failures: list[dict[str, Any]]  # each {"guard", "reason", "values"}


class ReviewData(TypedDict):
    """A policy review: the steps it took, and when it looks again."""

    policy: list[str]  # [id, version]
    next_review_at: str
    steps: list[str]
    segment: NotRequired[str]
    variant: NotRequired[str]
    open: NotRequired[list[str]]  # outbox keys still without a result (a retryable failure)
    # Steps due on days that had no review: done at this one, or missed with the reason.
    missed: NotRequired[list[dict[str, str]]]
    caught_up: NotRequired[list[dict[str, str]]]


class VariantAssignedData(TypedDict):
    """The champion/challenger variant the case was assigned to."""

    variant: str
    policy: list[str]


class OutboxIntentData(TypedDict):
    """A message about to be sent, journaled before the adapter is called."""

    key: str
    step: str
    channel: str
    text: str
    policy: list[str]
    contact: NotRequired[str]
    template: NotRequired[str]
    subject: NotRequired[str]
    purpose: NotRequired[str]  # what the message is for, when not collection (a reply)
    party: NotRequired[str]  # whom it reaches, when not the debtor
    person: NotRequired[str]  # the person the contact point names (arrears.case.Person)


class InteractionData(TypedDict):
    """A contact attempt (call, message, visit) and its outcome."""

    channel: str
    outcome: str
    actor: str
    automated: bool
    party: str
    contact: NotRequired[str]
    purpose: NotRequired[str]
    about: NotRequired[list[str]]  # the debtor's other cases the contact was also about
    person: NotRequired[str]  # the person the contact point names (arrears.case.Person)
    inbound: NotRequired[bool]  # the person started it (an inbound call, a text from them)
    key: NotRequired[str]
    provider_id: NotRequired[str]
    # An outbox intent closed by a later review (arrears.outbox): how ("report", "resent"
    # or "unanswered"), its step, and when the provider says the status changed.
    recovered: NotRequired[str]
    step: NotRequired[str]
    reported_at: NotRequired[str]


class ConsentData(TypedDict):
    """Consent to a channel, or to one contact point of it, with what it covers.

    ``covers`` names what it is for (``hours``, ``calls``, ``automated``,
    ``medium``; without it, being contacted now); ``start`` and ``until`` (ISO
    times) the window it covers.
    """

    channel: str
    actor: str
    contact: NotRequired[str]
    covers: NotRequired[list[str]]
    start: NotRequired[str]
    until: NotRequired[str]


class OptOutData(TypedDict):
    """An opt-out of a channel, or of one contact point of it."""

    channel: str
    actor: str
    contact: NotRequired[str]
    person: NotRequired[str]  # who asked, when a person other than the debtor
    via: NotRequired[str]  # the medium the request came by (its confirmation goes back so)


class InconvenientData(TypedDict):
    """Local times the debtor (or a person) named as inconvenient: every span named so far.

    ``spans`` holds each ``[start, end]`` local time of day, as ISO text.
    """

    spans: list[list[str]]
    actor: str
    person: NotRequired[str]  # who named them, when a person other than the debtor: their spans


class PersonsChangedData(TypedDict):
    """The persons other than the debtor, and the contact points, from this moment on.

    ``persons`` is every person of the case after the change, each
    ``{"id", "relationship"}``: a person left out is no longer one (a divorced
    spouse no longer the spouse), a new one is added (an executor after a
    death). ``contacts`` (each a contact point as JSON) is every contact point
    after the change, when it changed; absent, the case's contact points stay.
    """

    persons: list[dict[str, str]]
    actor: str
    contacts: NotRequired[list[dict[str, Any]]]
    reason: NotRequired[str]


class DebtorChangedData(TypedDict):
    """Where the debtor is from this moment on: their jurisdiction, residence, time zone.

    Each changed field is ``{"from": before, "to": after}`` (a code, or
    ``null`` when not known); a field left out did not change.  Recorded on
    every case of the debtor the change reaches (`arrears.Engine.update_debtor`).
    """

    actor: str
    jurisdiction: NotRequired[dict[str, str | None]]  # {"from", "to"}
    residence: NotRequired[dict[str, str | None]]  # {"from", "to"}
    timezone: NotRequired[dict[str, str | None]]  # {"from", "to"}: IANA names
    reason: NotRequired[str]
    # Every case the change was recorded on, in case id order; older engines wrote none.
    cases: NotRequired[list[str]]


class ContactDeniedData(TypedDict):
    """A proposed contact the compliance rules refused, with their reasons."""

    channel: str
    purpose: str
    automated: bool
    reasons: list[dict[str, Any]]  # each {"rule", "citation", "message", "values"[, "retry_at"]}
    actor: str
    contact: NotRequired[str]
    party: NotRequired[str]
    next_allowed_at: NotRequired[str]
    key: NotRequired[str]


class NoticeData(TypedDict):
    """A notice sent, by its kind (such as demand_letter)."""

    notice: str
    actor: str


class HoldAddedData(TypedDict):
    """A hold put beside the stage."""

    hold: dict[str, Any]  # the hold as JSON, fields not set left out
    actor: str


class HoldReleasedData(TypedDict):
    """A hold ended early."""

    hold_id: str
    released_at: str
    actor: str


class TaskOpenedData(TypedDict):
    """A task opened for a person."""

    task: dict[str, Any]  # the task as JSON
    key: str


class TaskCoveredData(TypedDict):
    """A task open on another loan of the debtor now covers this case too."""

    task: dict[str, Any]  # the task as this case holds it, ``cases`` ending with this case
    key: str


class TaskClosedData(TypedDict):
    """A task completed, with its outcome."""

    task_id: str
    outcome: str
    actor: str


class Share(TypedDict):
    """What a payment counts towards an open promise or an active plan."""

    id: str
    counted: str


class DebtorShare(TypedDict):
    """One case's share of a payment to the debtor."""

    case_id: str
    amount: str


class DebtorPaymentData(TypedDict):
    """The payment to the debtor a case's payment is its share of."""

    amount: str  # the whole payment, in the share's currency
    allocation: str  # the order it was shared in
    shares: list[DebtorShare]  # in the order they were paid


class PaymentData(TypedDict):
    """A payment, allocated across the overdue components."""

    amount: str
    currency: str
    applied: dict[str, str]  # by component
    credit: str
    reference: NotRequired[str]
    debtor: NotRequired[DebtorPaymentData]
    promise: NotRequired[Share]
    plan: NotRequired[Share]


class Reopened(TypedDict):
    """A promise or plan as a reversed payment leaves it."""

    id: str
    paid: str
    status: str


StageBack = TypedDict("StageBack", {"from": str, "to": str})
StageBack.__doc__ = "The stage a reversal moves a case back from, and to."


class PaymentReversedData(TypedDict):
    """A returned payment undone."""

    reference: str
    payment_seq: int
    amount: str
    credit: str  # the credit taken back
    restored: dict[str, str]  # owed again, by component
    actor: str
    promise: NotRequired[Reopened]
    plan: NotRequired[Reopened]
    stage: NotRequired[StageBack]
    reason: NotRequired[str]
    # The first missed due date after it (ISO); older engines wrote none: unchanged.
    due_date: NotRequired[str]
    # What is overdue after it by due date, [[ISO date, amount], ...] oldest first: on a
    # case that keeps its aging (`arrears.case.Case.aging`), absent on one that does not.
    aging: NotRequired[list[list[str]]]


class AgreementReopenedData(TypedDict):
    """A promise or plan over several loans open again: a payment on another loan reversed.

    The promise was kept, or the plan completed, and a payment towards it on
    another of its loans was reversed (that loan's ``payment_reversed`` entry
    is recorded in the same unit of work).
    """

    agreement: str  # "promise" or "plan"
    id: str
    resolved_seq: int  # the entry that recorded it kept or completed on this case
    case_id: str  # the loan whose payment was reversed
    reference: str  # the reversed payment's
    restored: dict[str, str]  # a completed reduction's waiver, owed again, by component
    actor: str
    stage: NotRequired[StageBack]
    # What is overdue after it by due date, as a reversal records it (`PaymentReversedData`).
    aging: NotRequired[list[list[str]]]


class WaiverData(TypedDict):
    """Part of the arrears waived, with its approval."""

    amount: str
    applied: dict[str, str]
    basis: str
    limit: str | None
    actor: str
    approver: str | None
    reason: NotRequired[str]


class SettlementData(WaiverData):
    """A settlement paid in full and final, the rest waived, with its approval."""

    waived: dict[str, str]


class WaiverRefusedData(TypedDict):
    """A waiver or settlement refused: beyond the approval limits."""

    what: str  # "waiver" or "settlement"
    amount: str
    limit: str | None
    reason: str
    actor: str
    approver: str | None


class AccrualData(TypedDict):
    """Penalty interest and a late fee charged under the case's terms."""

    penalty: str
    fee: str
    days: int
    frozen_days: int
    through: str
    late_fee_for: str | None


class CreditAppliedData(TypedDict):
    """Credit the case held, used to pay new arrears."""

    applied: dict[str, str]


class InstalmentDueData(TypedDict):
    """An instalment of the loan fell due."""

    amount: str
    due: str
    actor: str


class PromiseMadeData(TypedDict):
    """A promise to pay."""

    promise: dict[str, Any]  # the promise as JSON
    actor: str
    supersedes: NotRequired[str]


class PromiseResolvedData(TypedDict):
    """A promise kept, partly kept or broken."""

    promise_id: str
    status: str
    paid: str
    shortfall: NotRequired[str]
    instalment: NotRequired[int]


class DocumentData(TypedDict):
    """A document received, by its kind (such as proof_of_income)."""

    document: str
    actor: str
    reference: NotRequired[str]


class PlanStartedData(TypedDict):
    """A repayment plan started."""

    plan: dict[str, Any]  # the plan as JSON
    actor: str
    approver: NotRequired[str]
    supersedes: NotRequired[str]


class PlanInstalmentLateData(TypedDict):
    """Instalments of the active plan are late."""

    plan_id: str
    instalments: list[int]
    shortfall: str


class PlanResolvedData(TypedDict):
    """A plan completed or broken."""

    plan_id: str
    status: str
    paid: str
    waived: dict[str, str]
    shortfall: NotRequired[str]
    instalment: NotRequired[int]


# -- what each kind changes ------------------------------------------------------------------

#: How a kind changes a case (besides its version): ``apply(case, at, data)``.
ApplyChange = Callable[[Case, datetime, Mapping[str, Any]], None]


def _transition(case: Case, at: datetime, data: TransitionData) -> None:
    """The stage; open tasks of other stages expire."""
    dest = data["dest"]
    if case.stage != dest:  # the engine's machine has already moved it
        set_field(case, "stage", dest)
    if case.tasks:  # work asked for in another stage no longer fits: it expires
        case.tasks = tuple(task for task in case.tasks if task.stage == dest)


def _variant(case: Case, at: datetime, data: VariantAssignedData) -> None:
    """The variant."""
    case.variant = data["variant"]


def _persons_changed(case: Case, at: datetime, data: PersonsChangedData) -> None:
    """The persons (and the contact points, when the entry names them), checked together."""
    persons, contacts = persons_and_contacts(case, data)
    set_field(case, "persons", persons)
    set_field(case, "contacts", contacts)


#: The fields of the debtor a ``debtor_changed`` entry changes.
_PLACES: Final = ("jurisdiction", "residence", "timezone")


def _debtor_changed(case: Case, at: datetime, data: DebtorChangedData) -> None:
    """The debtor's jurisdiction, residence or time zone, each changed from what it was."""
    debtor = case.debtor
    update: dict[str, Any] = {}
    for field in _PLACES:
        change: Any = data.get(field)
        if change is None:
            continue
        if not isinstance(change, Mapping) or change.keys() != {"from", "to"}:
            raise ValueError(f"{field} is not a change from one value to another")
        before, after = change["from"], change["to"]
        if before != debtor_place(debtor, field):
            raise ValueError(f"{field} changes from another value than the debtor's")
        if after == before:
            raise ValueError(f"{field} changes to what it was")
        if field == "timezone":
            name = zone_name(field, after)
            update[field] = ZoneInfo(name) if name is not None else None
        else:
            update[field] = place_code(field, after)
    if not update:
        raise ValueError("the entry changes neither jurisdiction, residence nor time zone")
    set_field(case, "debtor", debtor.model_copy(update=update))


#: Validated as Task.model_validate does, without its wrapper: a tick opens a
#: task on every case in a calling stage (bench: tick_memory).
_TASK: Final = Task.__pydantic_validator__


def _task_opened(case: Case, at: datetime, data: TaskOpenedData) -> None:
    """Adds the task."""
    task = _TASK.validate_python(data["task"])
    set_field(case, "tasks", (*case.tasks, task))


def _task_covered(case: Case, at: datetime, data: TaskCoveredData) -> None:
    """Adds the task."""
    task = _TASK.validate_python(data["task"])
    set_field(case, "tasks", (*case.tasks, task))


def _task_closed(case: Case, at: datetime, data: TaskClosedData) -> None:
    """Removes the task."""
    case.tasks = tuple(task for task in case.tasks if task.id != data["task_id"])


def _hold_added(case: Case, at: datetime, data: HoldAddedData) -> None:
    """Adds the hold."""
    case.holds = (*case.holds, Hold.model_validate(data["hold"]))


def _hold_released(case: Case, at: datetime, data: HoldReleasedData) -> None:
    """The hold's release time."""
    released = datetime.fromisoformat(data["released_at"])
    case.holds = tuple(
        hold.model_copy(update={"released_at": released}) if hold.id == data["hold_id"] else hold
        for hold in case.holds
    )


def _notice(case: Case, at: datetime, data: NoticeData) -> None:
    """The notice's time, in notices."""
    case.notices[data["notice"]] = at


def _payment(case: Case, at: datetime, data: PaymentData) -> None:
    """The balance and credit, the oldest due dates paid first; promise and plan paid.

    What the open promise and active plan count as paid.
    """
    applied = {name: Decimal(amount) for name, amount in data["applied"].items()}
    case.balance = case.balance.after_payment(applied, Decimal(data["credit"]))
    if case.aging is not None:
        _paid(case, sum(applied.values(), Decimal(0)))
    if "promise" in data or "plan" in data:
        _count_payment(case, data)


def _paid(case: Case, amount: Decimal) -> None:
    """*amount* of the arrears paid or waived: off the oldest due dates of the case's
    aging first; the due date becomes the oldest with something left (when nothing
    is left, it stays: the next amount to fall due moves it), and a late fee charged
    for the date it moves from stands for the date it moves to."""
    aging = case.aging = paid_off(case.aging or (), amount)
    if aging and aging[0][0] != case.due_date:
        before, case.due_date = case.due_date, aging[0][0]
        accrual = case.accrual
        if accrual is not None and accrual.late_fee_for == before:
            # one late fee a spell of arrears, as before: the fee this spell was charged
            # (or considered) for stands for the date it moves on to, so a debtor who pays
            # the oldest instalment is not charged a fee a debtor who pays nothing is not
            case.accrual = accrual.model_copy(update={"late_fee_for": case.due_date})


def _fell_due(case: Case, due: date, amount: Decimal) -> None:
    """*amount* falling due on *due* in the case's aging; the due date, its oldest."""
    aging = case.aging = aged_in(case.aging or (), due, amount)
    if aging:
        case.due_date = aging[0][0]


def _aging_of(case: Case, recorded: list[list[str]]) -> None:
    """The aging an entry records (``[[ISO date, amount], ...]``), and its oldest date as
    the due date (when nothing is left, the due date stays)."""
    aging: Aging = tuple((date.fromisoformat(due), Decimal(amount)) for due, amount in recorded)
    case.aging = aging
    if aging:
        case.due_date = aging[0][0]


def _count_payment(case: Case, data: PaymentData) -> None:
    """Add a payment's share to the open promise and the active plan it counted towards."""
    share = data.get("promise")
    if share is not None and case.promise is not None and case.promise.id == share["id"]:
        paid = case.promise.paid + Decimal(share["counted"])
        case.promise = case.promise.model_copy(update={"paid": paid})
    share = data.get("plan")
    if share is not None and case.plan is not None and case.plan.id == share["id"]:
        paid = case.plan.paid + Decimal(share["counted"])
        case.plan = case.plan.model_copy(update={"paid": paid})


def _credit_applied(case: Case, at: datetime, data: CreditAppliedData) -> None:
    """The balance, paid from the credit, the oldest due dates first."""
    applied = {name: Decimal(amount) for name, amount in data["applied"].items()}
    used = sum(applied.values(), Decimal(0))
    case.balance = case.balance.after_payment(applied, -used)
    if case.aging is not None:
        _paid(case, used)


def _instalment_due(case: Case, at: datetime, data: InstalmentDueData) -> None:
    """Not-due becomes principal, aged under its due date; the due date, the oldest."""
    amount = Decimal(data["amount"])
    if case.aging is not None:
        _fell_due(case, date.fromisoformat(data["due"]), amount)
    elif not case.balance.has_arrears:  # a case that keeps no aging: a new spell only
        case.due_date = date.fromisoformat(data["due"])
    balance = case.balance
    case.balance = balance.model_copy(
        update={"not_due": balance.not_due - amount, "principal": balance.principal + amount}
    )


def _promise_made(case: Case, at: datetime, data: PromiseMadeData) -> None:
    """The promise."""
    case.promise = Promise.model_validate(data["promise"])


def _document(case: Case, at: datetime, data: DocumentData) -> None:
    """Adds the kind to documents."""
    case.documents = tuple(sorted({*case.documents, data["document"]}))


def _plan_started(case: Case, at: datetime, data: PlanStartedData) -> None:
    """The plan; an open promise it replaces is superseded."""
    if case.promise is not None and case.promise.id == data.get("supersedes"):
        case.promise = case.promise.model_copy(update={"status": PromiseStatus.SUPERSEDED})
    case.plan = RepaymentPlan.model_validate(data["plan"])


def _plan_instalment_late(case: Case, at: datetime, data: PlanInstalmentLateData) -> None:
    """The plan's late instalments."""
    if case.plan is not None:
        late = (*case.plan.late, *data["instalments"])
        case.plan = case.plan.model_copy(update={"late": late})


def _waived(case: Case, at: datetime, data: WaiverData) -> None:
    """The balance: the waived part comes off, the oldest due dates first."""
    _take_off(case, data["applied"], {})


def _settled(case: Case, at: datetime, data: SettlementData) -> None:
    """The balance: the part paid and the rest waived come off, the oldest due dates first."""
    _take_off(case, data["applied"], data["waived"])


def _take_off(case: Case, applied: Mapping[str, str], waived: Mapping[str, str]) -> None:
    """Take *applied* and *waived* (by component) off the balance; the credit stays."""
    taken = {name: Decimal(amount) for name, amount in applied.items()}
    for name, amount in waived.items():
        taken[name] = taken.get(name, Decimal(0)) + Decimal(amount)
    case.balance = case.balance.after_payment(taken, Decimal(0))
    if case.aging is not None:
        _paid(case, sum(taken.values(), Decimal(0)))


def _apply_accrual(case: Case, at: datetime, data: AccrualData) -> None:
    """The balance's penalty and fees, aged on the day charged through; their totals.

    The totals are kept in the accrual; the charges fall due on ``through``.
    """
    penalty, fee = Decimal(data["penalty"]), Decimal(data["fee"])
    balance = case.balance
    case.balance = balance.model_copy(
        update={"penalty": balance.penalty + penalty, "fees": balance.fees + fee}
    )
    if case.aging is not None:
        _fell_due(case, date.fromisoformat(data["through"]), penalty + fee)
    before = case.accrual
    fee_for = data["late_fee_for"]
    case.accrual = Accrual(
        through=date.fromisoformat(data["through"]),
        penalty=(before.penalty if before is not None else Decimal(0)) + penalty,
        fees=(before.fees if before is not None else Decimal(0)) + fee,
        late_fee_for=None if fee_for is None else date.fromisoformat(fee_for),
    )


def _resolve_promise(case: Case, at: datetime, data: PromiseResolvedData) -> None:
    """The promise's status and shortfall."""
    if case.promise is None or case.promise.id != data["promise_id"]:
        return
    shortfall = data.get("shortfall")
    case.promise = case.promise.model_copy(
        update={
            "status": PromiseStatus(data["status"]),
            "shortfall": None if shortfall is None else Decimal(shortfall),
        }
    )


def _resolve_plan(case: Case, at: datetime, data: PlanResolvedData) -> None:
    """The plan's status and end; a completed reduction plan's waiver comes off, oldest first."""
    if case.plan is None or case.plan.id != data["plan_id"]:
        return
    case.plan = case.plan.model_copy(update={"status": PlanStatus(data["status"]), "ended_at": at})
    waived = {name: Decimal(amount) for name, amount in data["waived"].items()}
    if waived:
        case.balance = case.balance.after_payment(waived, Decimal(0))
        if case.aging is not None:
            _paid(case, sum(waived.values(), Decimal(0)))


def _reverse_payment(case: Case, at: datetime, data: PaymentReversedData) -> None:
    """The balance owed again, the credit taken back; promise, plan, stage, due date, aging back."""
    balance = case.balance
    update: dict[str, Any] = {
        name: getattr(balance, name) + Decimal(amount) for name, amount in data["restored"].items()
    }
    update["credit"] = balance.credit - Decimal(data["credit"])
    case.balance = balance.model_copy(update=update)
    promise = data.get("promise")
    if promise is not None and case.promise is not None and case.promise.id == promise["id"]:
        case.promise = case.promise.model_copy(
            update={"paid": Decimal(promise["paid"]), "status": PromiseStatus(promise["status"])}
        )
    plan = data.get("plan")
    if plan is not None and case.plan is not None and case.plan.id == plan["id"]:
        status = PlanStatus(plan["status"])
        update_plan: dict[str, Any] = {"paid": Decimal(plan["paid"]), "status": status}
        if status == PlanStatus.ACTIVE:
            update_plan["ended_at"] = None
        case.plan = case.plan.model_copy(update=update_plan)
    stage = data.get("stage")
    if stage is not None:
        case.stage = stage["to"]
    due = data.get("due_date")
    if due is not None:
        case.due_date = date.fromisoformat(due)
    aging = data.get("aging")
    if aging is not None:
        _aging_of(case, aging)


def _reopen(case: Case, at: datetime, data: AgreementReopenedData) -> None:
    """The promise open or the plan active again, a waiver owed again; the stage, aging back."""
    restored = data["restored"]
    if restored:
        balance = case.balance
        case.balance = balance.model_copy(
            update={
                name: getattr(balance, name) + Decimal(amount) for name, amount in restored.items()
            }
        )
    if data["agreement"] == "promise":
        if case.promise is not None and case.promise.id == data["id"]:
            update = {"status": PromiseStatus.OPEN, "shortfall": None}
            case.promise = case.promise.model_copy(update=update)
    elif case.plan is not None and case.plan.id == data["id"]:
        case.plan = case.plan.model_copy(update={"status": PlanStatus.ACTIVE, "ended_at": None})
    stage = data.get("stage")
    if stage is not None:
        case.stage = stage["to"]
    aging = data.get("aging")
    if aging is not None:
        _aging_of(case, aging)


# -- the registry ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryKind:
    """One kind of journal entry, declared once.

    Attributes:
        name: The kind, as entries carry it (``payment``).
        schema: The `TypedDict` its ``data`` follows.
        required: The keys its data always has.
        keys: Every key its data may have.
        apply: What it changes on its case, ``apply(case, at, data)``;
            ``None`` for a kind that only records (the case's version still
            counts it).
        records: What an entry of the kind records (its schema's docstring).
        changes: What it changes on the case (its apply function's
            docstring; ``nothing`` for a kind that only records).
        amounts: Where its data records amounts of money, as dotted paths
            (``*`` for every key or item there): none is ever negative
            (`negative_amounts`).
    """

    name: str
    schema: type[Mapping[str, Any]]
    required: frozenset[str]
    keys: frozenset[str]
    apply: ApplyChange | None
    records: str
    changes: str
    amounts: tuple[str, ...] = ()


def _kind(
    name: str,
    schema: object,
    apply: Callable[[Case, datetime, Any], None] | None,
    *amounts: str,
) -> EntryKind:
    """An `EntryKind`: its keys read from *schema*, its texts from the docstrings, its
    data's *amounts* as paths (`EntryKind.amounts`)."""
    typed = cast(type[Mapping[str, Any]], schema)
    required = frozenset(getattr(typed, "__required_keys__", ()))
    keys = required | frozenset(getattr(typed, "__optional_keys__", ()))
    records = _first_line(typed.__doc__)
    changes = "nothing" if apply is None else _first_line(apply.__doc__)
    change = cast(ApplyChange | None, apply)
    return EntryKind(name, typed, required, keys, change, records, changes, amounts)


def _first_line(doc: str | None) -> str:
    """A docstring's first line, as a phrase: no capital, no full stop."""
    line = (doc or "").strip().splitlines()[0].rstrip(".")
    return line[:1].lower() + line[1:]


_DECLARED: Final = (
    _kind("opened", OpenedData, None),
    _kind("transition", TransitionData, _transition),
    _kind("refusal", RefusalData, None),
    _kind("review", ReviewData, None),
    _kind("variant_assigned", VariantAssignedData, _variant),
    _kind("outbox_intent", OutboxIntentData, None),
    _kind("interaction", InteractionData, None),
    _kind("consent", ConsentData, None),
    _kind("opt_out", OptOutData, None),
    _kind("inconvenient", InconvenientData, None),
    _kind("contact_denied", ContactDeniedData, None),
    _kind("persons_changed", PersonsChangedData, _persons_changed),
    _kind("debtor_changed", DebtorChangedData, _debtor_changed),
    _kind("notice", NoticeData, _notice),
    _kind("hold_added", HoldAddedData, _hold_added),
    _kind("hold_released", HoldReleasedData, _hold_released),
    _kind("task_opened", TaskOpenedData, _task_opened),
    _kind("task_covered", TaskCoveredData, _task_covered),
    _kind("task_closed", TaskClosedData, _task_closed),
    _kind(
        "payment",
        PaymentData,
        _payment,
        "amount",
        "applied.*",
        "credit",
        "promise.counted",
        "plan.counted",
        "debtor.amount",
        "debtor.shares.*.amount",
    ),
    _kind(
        "payment_reversed",
        PaymentReversedData,
        _reverse_payment,
        "amount",
        "credit",
        "restored.*",
        "promise.paid",
        "plan.paid",
        "aging.*.1",
    ),
    _kind("agreement_reopened", AgreementReopenedData, _reopen, "restored.*", "aging.*.1"),
    _kind("waiver", WaiverData, _waived, "amount", "applied.*", "limit"),
    _kind("waiver_refused", WaiverRefusedData, None, "amount", "limit"),
    _kind("settlement", SettlementData, _settled, "amount", "applied.*", "waived.*", "limit"),
    _kind("accrual", AccrualData, _apply_accrual, "penalty", "fee"),
    _kind("credit_applied", CreditAppliedData, _credit_applied, "applied.*"),
    _kind("instalment_due", InstalmentDueData, _instalment_due, "amount"),
    _kind(
        "promise_made",
        PromiseMadeData,
        _promise_made,
        "promise.paid",
        "promise.instalments.*.amount.amount",
    ),
    _kind("promise_resolved", PromiseResolvedData, _resolve_promise, "paid", "shortfall"),
    _kind("document", DocumentData, _document),
    _kind(
        "plan_started",
        PlanStartedData,
        _plan_started,
        "plan.paid",
        "plan.waived",
        "plan.instalments.*.amount.amount",
    ),
    _kind("plan_instalment_late", PlanInstalmentLateData, _plan_instalment_late, "shortfall"),
    _kind("plan_resolved", PlanResolvedData, _resolve_plan, "paid", "waived.*", "shortfall"),
)

#: Every kind of journal entry the engine records, by name.
KINDS: Final[Mapping[str, EntryKind]] = {kind.name: kind for kind in _DECLARED}

#: The apply function of each kind by name (``None``: records only), read once per entry.
_APPLY: Final[dict[str, ApplyChange | None]] = {kind.name: kind.apply for kind in _DECLARED}


def apply_entry(case: Case, kind: str, at: datetime, data: Mapping[str, Any]) -> None:
    """Apply one recorded fact to *case*; its version becomes the chain's length.

    The engine and `replay` both change a case only through this function, so
    a replayed case cannot drift from the live one.  Kinds that only record
    (``opened``, ``review``, ``interaction``, ``outbox_intent``, refusals and
    denials…) change nothing but the version.  The data is not checked here
    (`check_data` does that, off the path that records).

    Raises:
        InvalidInput: *kind* is not one of `KINDS`; the case is left unchanged.
    """
    try:
        change = _APPLY[kind]
    except KeyError:
        raise InvalidInput(
            "kind", kind, "a kind of journal entry in arrears.events.KINDS"
        ) from None
    case.version += 1
    if change is not None:
        change(case, at, data)


def check_data(kind: str, data: object) -> list[str]:
    """What is wrong with an entry's *data* for its *kind*: empty when nothing is.

    Reports an unknown kind, data that is not an object, each required key
    missing and each key the kind does not declare.
    """
    declared = KINDS.get(kind)
    if declared is None:
        return [f"kind {kind!r} is not a kind of journal entry"]
    if not isinstance(data, Mapping):
        return [f"{kind}: data is {type(data).__name__}, not an object"]
    problems = [f"{kind}: data has no {key!r}" for key in sorted(declared.required - data.keys())]
    problems.extend(
        f"{kind}: data has {key!r}, which the kind does not declare"
        for key in sorted(data.keys() - declared.keys)
    )
    return problems


def negative_amounts(kind: str, data: Mapping[str, Any]) -> list[str]:
    """The dotted paths of the amounts *data* records below zero (`EntryKind.amounts`).

    The engine records no amount below zero (a payment, waiver, charge, share
    or plan amount is positive, a credit or shortfall at least zero), so one
    is forged: replayed, a negative payment would add to the debt, a negative
    promise share take from what was paid.  An amount that does not read as a
    number is left to the checks that read it.

        >>> negative_amounts("payment", {"amount": "10.00", "applied": {"penalty": "-5.00"}})
        ['applied.penalty']
    """
    declared = KINDS.get(kind)
    if declared is None:
        return []
    found: list[str] = []
    for path in declared.amounts:
        found.extend(_below_zero(data, path.split("."), ()))
    return found


def _below_zero(value: object, path: Sequence[str], at: tuple[str, ...]) -> list[str]:
    """The paths under *value* that *path* names (``*``: every key or item) holding an
    amount below zero, each as its dotted path from the data (*at*: where *value* is)."""
    if not path:
        if isinstance(value, str):
            try:
                below = Decimal(value) < 0
            except ArithmeticError:  # not a number (NaN compares with nothing)
                return []
            return [".".join(at)] if below else []
        return []
    step, rest = path[0], path[1:]
    if isinstance(value, Mapping):
        names = [str(name) for name in value] if step == "*" else [step]
        return [
            found
            for name in names
            if name in value
            for found in _below_zero(value[name], rest, (*at, name))
        ]
    if isinstance(value, list) and step == "*":
        return [
            found
            for index, item in enumerate(value)
            for found in _below_zero(item, rest, (*at, str(index)))
        ]
    if isinstance(value, list) and step.isdigit() and int(step) < len(value):
        return _below_zero(value[int(step)], rest, (*at, step))
    return []


class EntryCheck(Protocol):
    """The rules `replay` holds each entry to (`arrears.workflow.Workflow.entry_problem`).

    Called with the case as replayed up to ``entries[position]`` (for the
    ``opened`` entry, its snapshot); returns what is forbidden in that entry,
    or ``None``.
    """

    def __call__(
        self, case: Case, entries: Sequence[JournalEntry], position: int
    ) -> str | None:  # pragma: no cover - a protocol
        """What is forbidden in ``entries[position]``, or ``None``."""
        ...


def replay(
    entries: Sequence[JournalEntry], head: Head | None = None, *, check: EntryCheck | None = None
) -> Case:
    """Rebuild a case from its chain alone: stage, holds, balance, notices, promise, plan, version.

    With *check* (the engine passes its workflow's `entry_problem`), each
    entry is judged before it is applied, on the case as replayed so far:
    an opening stage or a migration by the roles it needs, every transition
    an edge of the workflow from the stage the case stood in, fired by the
    journaled roles its guards ask for.  Every entry it forbids is a
    ``forbidden`` problem, all raised together once the chain is replayed.

    Every entry that changes the balance is held to `arrears.limits.MAX_AMOUNT`
    as the recorder holds it (`arrears.case.beyond_limit`): one that leaves an
    amount, or the sum owed, at or beyond it is a ``beyond_limit`` problem
    (`BEYOND_LIMIT`), raised with the forbidden ones.  So is every entry that
    leaves a due date (the case's, its aging's, its promise's or plan's) later
    than `arrears.limits.LATEST_DATE` (`arrears.case.beyond_latest`), the
    opening among them.

    Raises:
        JournalCorrupted: the chain does not verify, does not start with an
            ``opened`` entry, holds an entry of a kind `KINDS` does not
            declare, an entry whose data cannot be applied for what it
            lacks (`check_data`), an entry that leaves the balance beyond
            `arrears.limits.MAX_AMOUNT` or a due date beyond
            `arrears.limits.LATEST_DATE`, or (with *check*) an entry *check*
            forbids.
    """
    if not entries:
        raise JournalCorrupted([JournalProblem("*", 0, "removed", "no entries to replay")])
    first = entries[0]
    case_id = first.case_id
    problems = verify_chain(case_id, entries, head)
    if problems:
        raise JournalCorrupted(problems)
    if first.kind != "opened":
        raise JournalCorrupted(
            [JournalProblem(case_id, 0, "changed", "the chain does not start with 'opened'")]
        )
    unknown = [
        JournalProblem(
            case_id, position, "malformed", f"seq {entry.seq}: unknown entry kind {entry.kind!r}"
        )
        for position, entry in enumerate(entries)
        if entry.kind not in _APPLY
    ]
    if unknown:
        raise JournalCorrupted(unknown)
    # Every entry's data has its kind's keys and no others (before anything is applied:
    # a kind whose apply reads nothing, like a review, is read by others, like a restore).
    misshapen = [
        JournalProblem(case_id, position, "malformed", f"seq {entry.seq}: {problem}")
        for position, entry in enumerate(entries)
        for problem in check_data(entry.kind, entry.data)
    ]
    if misshapen:
        raise JournalCorrupted(misshapen)
    again = [
        JournalProblem(case_id, position, "malformed", f"seq {entry.seq}: a second 'opened' entry")
        for position, entry in enumerate(entries)
        if position and entry.kind == "opened"
    ]
    if again:
        raise JournalCorrupted(again)
    negative = [
        JournalProblem(
            case_id,
            position,
            NEGATIVE,
            f"seq {entry.seq}: the {entry.kind} records a negative amount: {', '.join(paths)}",
        )
        for position, entry in enumerate(entries)
        if (paths := negative_amounts(entry.kind, entry.data))
    ]
    if negative:
        raise JournalCorrupted(negative)
    try:
        case = Case.model_validate_json(first.data["case"])
    except (KeyError, TypeError, ValueError) as err:
        raise JournalCorrupted([_unappliable(case_id, 0, first, err)]) from err
    forbidden: list[JournalProblem] = []
    for position, entry in enumerate(entries):
        data = entry.data
        if check is not None:
            try:
                forbids = check(case, entries, position)
            except (KeyError, TypeError, ValueError, IndexError) as err:
                forbids = f"cannot be judged ({err!r})"  # its keys are checked above
            if forbids is not None:
                forbidden.append(
                    JournalProblem(case_id, position, "forbidden", f"seq {entry.seq}: {forbids}")
                )
        balance, due, aging, promise, plan = (
            case.balance,
            case.due_date,
            case.aging,
            case.promise,
            case.plan,
        )
        try:
            apply_entry(case, entry.kind, entry.at, data)
        except _UNAPPLIABLE as err:
            raise JournalCorrupted([_unappliable(case_id, position, entry, err)]) from err
        if (
            not position
            or case.due_date is not due
            or case.aging is not aging
            or case.promise is not promise
            or case.plan is not plan
        ):
            late = beyond_latest(case)
            if late is not None:
                forbidden.append(_beyond_latest(case_id, position, entry, late))
        if case.balance is not balance:
            beyond = beyond_limit(case.balance)
            if beyond is not None:
                forbidden.append(_beyond(case_id, position, entry, beyond[0]))
            below = below_zero(case.balance)
            if below is not None:
                forbidden.append(
                    JournalProblem(
                        case_id,
                        position,
                        NEGATIVE,
                        f"seq {entry.seq}: the {entry.kind} leaves balance.{below} below zero",
                    )
                )
    if forbidden:
        raise JournalCorrupted(forbidden)
    return case


#: The problem of an entry that leaves an amount of its case's balance, or the sum it
#: owes, at or beyond `arrears.limits.MAX_AMOUNT` (`replay`): the recorder refuses one
#: (`arrears.recorder.Recorder.record`), so it was written by an engine from before that
#: refusal, or forged.  Also of an entry that leaves a due date of its case later than
#: `arrears.limits.LATEST_DATE` (`arrears.case.beyond_latest`): the operations refuse one.
BEYOND_LIMIT: Final = "beyond_limit"

#: The problem of an entry that records an amount below zero, or leaves one of its case's
#: balance below zero (`replay`, `negative_amounts`), and of a stored case holding one
#: (`Engine.verify`): the engine records none, so it was forged in the database.
NEGATIVE: Final = "negative"


def _beyond(case_id: str, position: int, entry: JournalEntry, name: str) -> JournalProblem:
    """The `BEYOND_LIMIT` problem of *entry*, naming the amount (never its value)."""
    return JournalProblem(
        case_id,
        position,
        BEYOND_LIMIT,
        f"seq {entry.seq}: the {entry.kind} leaves balance.{name} at or beyond "
        f"{MAX_AMOUNT:,} units (arrears.limits.MAX_AMOUNT)",
    )


def _beyond_latest(case_id: str, position: int, entry: JournalEntry, name: str) -> JournalProblem:
    """The `BEYOND_LIMIT` problem of *entry* leaving a due date past
    `arrears.limits.LATEST_DATE`, naming the date's field (never the date)."""
    return JournalProblem(
        case_id,
        position,
        BEYOND_LIMIT,
        f"seq {entry.seq}: the {entry.kind} leaves {name} later than "
        f"{LATEST_DATE.isoformat()} (arrears.limits.LATEST_DATE)",
    )


#: What applying an entry whose data is not what its kind declares may raise: a value
#: of the wrong type or form (a time that is no time, an amount that is no number, a
#: hold that is no hold), caught so that one bad entry is a problem of its case, not a
#: crash of `verify` for every case after it.
_UNAPPLIABLE: Final = (
    KeyError,
    TypeError,
    ValueError,
    IndexError,
    AttributeError,
    ArithmeticError,
    ArrearsError,
)


def _unappliable(
    case_id: str, position: int, entry: JournalEntry, err: Exception
) -> JournalProblem:
    """A ``malformed`` problem for an entry its kind's apply could not use.

    Its keys are the kind's (`replay` checks them first): a value is wrong.
    Names the error's type only (its message may quote the entry's values).
    """
    said = f"its data cannot be applied ({type(err).__name__})"
    return JournalProblem(case_id, position, "malformed", f"seq {entry.seq}: {said}")
