"""Payments, reversals, waivers and settlements: allocation, idempotency by
reference, approval limits.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from ..case import Case, mask
from ..errors import (
    ApprovalDenied,
    CurrencyMismatch,
    GuardFailure,
    InvalidInput,
    TooLong,
)
from ..guards import SYSTEM, Actor, GuardContext
from ..journal import JournalEntry
from ..limits import REFERENCE
from ..logs import get_logger
from ..money import ALLOCATION_ORDER, Money, allocate
from ..recorder import Recorder
from ..reversals import comes_with_payment, reversal
from ..settlements import Approval, ApprovalLimits
from ..workflow import TransitionResult
from ._common import case_money, check_actor, lock_debtors
from .agreements import after_payment, payment_shares
from .charges import accrue_due
from .joint import reopen, reopened_elsewhere
from .results import PaymentResult, Reversal, Waiver
from .stages import cure, fire, react, record_then_fire

_log = get_logger("arrears")

#: The longest payment reference accepted (a bank's or a provider's transaction id).
_REFERENCE_MAX: Final = REFERENCE


def record_payment(
    rec: Recorder,
    case_id: str,
    amount: Money,
    *,
    at: datetime | None = None,
    reference: str | None = None,
    order: Sequence[str] = ALLOCATION_ORDER,
    debtor: Mapping[str, Any] | None = None,
) -> PaymentResult:
    """Record a payment: allocate it across the overdue components, keep any rest as credit.

    With *debtor*, the payment is this case's share of a payment to the
    debtor (`arrears.operations.debtors`): recorded with the whole of it.

    `arrears.engine.Engine.record_payment`, which documents it.
    """
    case = rec.store.get(case_id)
    if not isinstance(amount, Money):
        raise InvalidInput("amount", amount, f"Money in {case.currency}")
    if amount.currency != case.currency:
        raise CurrencyMismatch("amount", case.currency, amount.currency)
    if debtor is None:  # a payment to the debtor holds them already
        # Held before anything of the debtor's is read (the reference's earlier payments,
        # the holds that freeze charges, the other loans an agreement spans): a payment
        # another process commits meanwhile is read, not missed.
        lock_debtors(rec.store, [case.debtor.id])
        # Decided on the case as stored once the debtor is held: a rival's write
        # committed between the read above and the lock is seen now, not at the commit.
        case = rec.store.get(case_id)
    if reference is not None:
        reference = checked_reference(reference)
        entries = rec.store.entries(case_id)
        earlier = payment_under(entries, reference)
        if earlier is not None:  # sent again: what the first recording did
            if debtor is None and "debtor" in earlier.data:
                raise InvalidInput(
                    "reference", reference, "a new reference: it names a payment to the debtor"
                )
            return payment_result(earlier, amount, entries)
        if debtor is None:
            shared_elsewhere(rec, case, reference)
    moment = rec.moment(case_id, at)
    accrue_due(rec, case, moment)  # charges up to today first: none lost once principal is paid
    applied, credit = allocate(amount, case.balance.components(), order)
    data: dict[str, Any] = {
        "amount": str(amount.amount),
        "currency": amount.currency,
        "applied": {name: str(part.amount) for name, part in applied.items()},
        "credit": str(credit.amount),
    }
    if reference is not None:
        data["reference"] = reference
    if debtor is not None:
        data["debtor"] = dict(debtor)
    data.update(payment_shares(rec, case, amount))
    rec.record(case, moment, "payment", data)
    _log.bind().info("payment", case_id=case_id, currency=amount.currency)
    after_payment(rec, case, moment)
    result = PaymentResult(applied, credit, cure(rec, case, moment))
    react(rec, case_id, "payment", moment)
    return result


def reverse_payment(
    rec: Recorder,
    case_id: str,
    reference: str,
    *,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
    reason: str | None = None,
    share: bool = False,
) -> Reversal:
    """Undo a returned payment: restore what it paid, and re-open what it closed.

    A case's share of a payment to the debtor is reversed only with *share*
    (`arrears.operations.debtors.reverse_debtor_payment` reverses every share).

    `arrears.engine.Engine.reverse_payment`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    check_actor(actor)
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason", reason, "a short text or None")
    history = rec.store.entries(case_id)
    reference = checked_reference(reference)
    found = [e for e in history if e.kind == "payment" and e.data.get("reference") == reference]
    if len(found) != 1:
        expected = "the reference of one recorded payment"
        raise InvalidInput("reference", reference, expected)
    payment = found[0]
    if "debtor" in payment.data and not share:
        raise InvalidInput(
            "reference",
            reference,
            "the reference of a payment to this case: this one was shared across the "
            "debtor's cases (reverse_debtor_payment reverses every share)",
        )
    if any(e.kind == "payment_reversed" and e.data["payment_seq"] == payment.seq for e in history):
        raise InvalidInput("reference", reference, "a payment not already reversed")
    data = reversal(case, history, payment, route=rec.workflow.leads_to)
    data.update({"actor": actor.id})
    if reason is not None:
        data["reason"] = reason
    elsewhere = reopened_elsewhere(rec, case, data, moment)
    rec.record(case, moment, "payment_reversed", data)
    because = {"case_id": case_id, "reference": reference, "actor": actor.id}
    for other, kind in elsewhere:  # the one promise or plan, open again on every loan
        reopen(rec, other, kind, moment, because)
    _log.bind().info("payment_reversed", case_id=case_id, reopened=data.get("stage") is not None)
    restored = {name: Money(value, case.currency) for name, value in data["restored"].items()}
    stage = data.get("stage")
    return Reversal(
        restored,
        Money(data["credit"], case.currency),
        None if stage is None else (stage["from"], stage["to"]),
        date.fromisoformat(data["due_date"]),
    )


def waive(
    rec: Recorder,
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

    `arrears.engine.Engine.waive`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    money = case_money(case, amount, "amount")
    if money > case.arrears:
        raise InvalidInput("amount", str(money), f"at most the arrears, {case.arrears}")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason", reason, "a short text or None")
    approval = authorise(rec, case, moment, money, actor, approver, limits, "waiver")
    applied, _ = allocate(money, case.balance.components(), order)
    data: dict[str, Any] = {
        "amount": str(money.amount),
        "applied": {name: str(part.amount) for name, part in applied.items()},
        **approval.to_json(),
    }
    if reason is not None:
        data["reason"] = reason
    rec.record(case, moment, "waiver", data)
    _log.bind().info("waiver", case_id=case_id, basis=approval.basis, actor=actor.id)
    return Waiver(applied, approval, cure(rec, case, moment))


def settle(
    rec: Recorder,
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

    `arrears.engine.Engine.settle`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    check_actor(actor)
    money = case_money(case, amount, "amount")
    owed = case.balance.outstanding
    if money >= owed:
        raise InvalidInput(
            "amount", str(money), f"less than the {owed} owed (a full payment is a payment)"
        )
    ctx = GuardContext(
        moment, "settle", actor, approver, history=lambda: rec.store.entries(case_id)
    )
    if not rec.workflow.decide(case, ctx).allowed:
        fire(rec, case_id, "settle", actor=actor, approver=approver, at=moment)
    approval = authorise(rec, case, moment, owed - money, actor, approver, limits, "settlement")
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

    def write(case: Case) -> None:
        rec.record(case, moment, "settlement", data)
        _log.bind().info("settlement", case_id=case_id, basis=approval.basis, actor=actor.id)

    # The settlement and `settle` are stored together, or only the refusal.
    transition = record_then_fire(
        rec, case_id, write, "settle", moment, actor=actor, approver=approver, reason="settled"
    )
    return Waiver(rest, approval, transition)


def checked_reference(reference: object) -> str:
    """A payment reference as recorded and compared: its NFC form (one text, one reference).

    Raises:
        InvalidInput: not a text of 1 to 128 printable characters, or only spaces.
    """
    if (
        not isinstance(reference, str)
        or not 0 < len(reference) <= _REFERENCE_MAX
        or not reference.isprintable()
        or not reference.strip()
    ):
        shown = reference if isinstance(reference, str) else str(reference)
        raise InvalidInput(
            "reference",
            TooLong(len(shown)) if len(shown) > _REFERENCE_MAX else mask(shown),
            f"a payment reference of 1 to {_REFERENCE_MAX} printable characters",
        )
    return unicodedata.normalize("NFC", reference)


def authorise(
    rec: Recorder,
    case: Case,
    moment: datetime,
    amount: Money,
    actor: Actor,
    approver: Actor | None,
    limits: ApprovalLimits | None,
    what: str,
) -> Approval:
    """The approval of a waiver of *amount*; a refusal is journaled, then raised."""
    table = limits if limits is not None else rec.approval_limits
    if not isinstance(table, ApprovalLimits):
        raise InvalidInput("limits", table, "an ApprovalLimits table (or engine.approval_limits)")
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
        rec.record(case, moment, "waiver_refused", data)
        _log.bind().info("waiver_refused", case_id=case.id, actor=actor.id)
        rec.refused(denied)  # journaled: stored, then raised (see `atomic`)
        raise


def payment_under(entries: Sequence[JournalEntry], reference: str) -> JournalEntry | None:
    """The payment entry recorded under *reference*, if any."""
    for entry in entries:
        if entry.kind == "payment" and entry.data.get("reference") == reference:
            return entry
    return None


def shared_elsewhere(rec: Recorder, case: Case, reference: str) -> None:
    """Refuse *reference* for a payment to *case* alone when it names a payment to the
    debtor shared over their other cases: that payment could no longer be found whole
    (sent again, or reversed) under its reference.

    Raises:
        InvalidInput: (``reference``) a share on another case of the debtor holds it.
    """
    for other in rec.store.cases_of(case.debtor.id):
        if other == case.id:
            continue
        entry = payment_under(rec.store.entries(other), reference)
        if entry is not None and "debtor" in entry.data:
            raise InvalidInput(
                "reference", reference, "a new reference: it names a payment to the debtor"
            )


def payment_result(
    payment: JournalEntry, amount: Money, entries: Sequence[JournalEntry]
) -> PaymentResult:
    """What recording *payment* did, read back from the journal (a payment sent again).

    Raises:
        InvalidInput: *amount* is not the amount recorded under the reference.
    """
    data = payment.data
    recorded = Money(data["amount"], data["currency"])
    if recorded != amount:
        raise InvalidInput(
            "reference",
            data["reference"],
            f"a new reference: it names a payment of {recorded} already, not one of {amount}",
        )
    currency = recorded.currency
    cured: TransitionResult | None = None
    for entry in entries[payment.seq + 1 :]:  # what the payment caused follows it at once
        if entry.at != payment.at or not comes_with_payment(entry):
            break
        if entry.data.get("trigger") == "cure":
            found = entry.data
            failures = tuple(
                GuardFailure(item["guard"], item["reason"], item.get("values", {}))
                for item in found.get("failures", ())
            )
            cured = TransitionResult("cure", found["source"], found["dest"], failures)
            break
    return PaymentResult(
        {name: Money(value, currency) for name, value in data["applied"].items()},
        Money(data["credit"], currency),
        cured,
    )
