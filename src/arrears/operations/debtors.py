"""Money across a debtor's loans: a payment to the debtor shared over their cases, and
its reversal, each one unit of work with a payment entry on every case it reached."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..case import Case
from ..errors import InvalidInput
from ..guards import SYSTEM, Actor
from ..journal import JournalEntry
from ..logs import get_logger
from ..money import ALLOCATION_ORDER, Money
from ..policy.allocation import (
    Allocation,
    AllocationFunction,
    AllocationRequest,
    allocation_function,
    allocation_name,
    ordered,
    shares_of,
)
from ..recorder import Recorder, detached
from ._common import lock_debtors
from .charges import owed_now
from .payments import checked_reference, payment_result, payment_under, record_payment
from .payments import reverse_payment as reverse_one
from .results import DebtorPayment, Reversal

_log = get_logger("arrears")


def record_debtor_payment(
    rec: Recorder,
    debtor_id: str,
    amount: Money,
    *,
    reference: str,
    at: datetime | None = None,
    allocation: Allocation | None = None,
    order: Sequence[str] = ALLOCATION_ORDER,
) -> DebtorPayment:
    """Share a payment to the debtor across their open cases, and record each share.

    `arrears.engine.Engine.record_debtor_payment`, which documents it.
    """
    reference = checked_reference(reference)
    if not isinstance(amount, Money) or amount.amount <= 0:
        raise InvalidInput("amount", str(amount), "a positive Money amount")
    chosen = _allocation(rec, allocation)
    # Held before the debtor's loans and the reference are looked for: a payment to
    # one loan under it in another process is stored before this reads, or waits
    # until this is.
    lock_debtors(rec.store, [debtor_id])
    ids = _cases_of(rec, debtor_id)
    every = [rec.store.get(case_id) for case_id in ids]
    earlier = _earlier(rec, every, reference)
    if earlier is not None:  # sent again: what the first recording did
        return _again(rec, debtor_id, amount, reference, earlier)
    moment = rec.moment(None, at)
    cases = ordered(
        [
            case
            for case in every
            if case.currency == amount.currency
            and not rec.workflow.is_terminal(case.stage)
            and not _disputed(case, moment)
        ]
    )
    if not cases:
        if any(
            case.currency == amount.currency and not rec.workflow.is_terminal(case.stage)
            for case in every
        ):
            raise InvalidInput(
                "amount",
                str(amount),
                "a payment to a debt the debtor does not dispute: every open case in the "
                "currency has an active dispute hold (15 U.S.C. 1692h); a payment the debtor "
                "directs to a disputed loan is recorded on it (record_payment)",
            )
        raise InvalidInput(
            "amount", str(amount), "a payment in the currency of one of the debtor's open cases"
        )
    for case in cases:
        rec.moment(case.id, moment)  # not before the last entry of a case it may pay
    owed = {case.id: owed_now(rec, case, moment) for case in cases}
    # Unless told otherwise, what a plan over several loans still asks is paid first.
    shares = _plan_first(cases, amount, owed) if allocation is None else {}
    name = allocation_name(chosen)
    rest = amount - sum(shares.values(), Money.zero(amount.currency))
    if shares:
        name = f"plans, then {name}"[:128]
        zero = Money.zero(amount.currency)
        owed = {case_id: owed[case_id] - shares.get(case_id, zero) for case_id in owed}
    if not rest.is_zero:
        request = AllocationRequest(rest, tuple(map(detached, cases)), owed, moment)
        for case_id, part in shares_of(chosen, request).items():
            shares[case_id] = shares[case_id] + part if case_id in shares else part
    whole = {
        "amount": str(amount.amount),
        "allocation": name,
        "shares": [
            {"case_id": case_id, "amount": str(part.amount)} for case_id, part in shares.items()
        ],
    }
    payments = {
        case_id: record_payment(
            rec, case_id, part, at=moment, reference=reference, order=order, debtor=whole
        )
        for case_id, part in shares.items()
    }
    _log.bind().info("debtor_payment", cases=len(shares), currency=amount.currency)
    return DebtorPayment(reference, amount, shares, payments)


def reverse_debtor_payment(
    rec: Recorder,
    debtor_id: str,
    reference: str,
    *,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
    reason: str | None = None,
) -> dict[str, Reversal]:
    """Undo a returned payment to the debtor: every share of it, on every case.

    `arrears.engine.Engine.reverse_debtor_payment`, which documents it.
    """
    reference = checked_reference(reference)
    every = [rec.store.get(case_id) for case_id in _cases_of(rec, debtor_id)]
    earlier = _earlier(rec, every, reference)
    if earlier is None:
        raise InvalidInput("reference", reference, "the reference of a payment to the debtor")
    moment = rec.moment(None, at)
    return {
        case_id: reverse_one(
            rec, case_id, reference, at=moment, actor=actor, reason=reason, share=True
        )
        for case_id in (share["case_id"] for share in earlier.data["debtor"]["shares"])
    }


def _plan_first(
    cases: Sequence[Case], amount: Money, owed: Mapping[str, Money]
) -> dict[str, Money]:
    """What of *amount* goes first to the active plans over several loans among *cases*,
    by case id, in the order paid: the instalments still unpaid, the earliest first, each
    covered loan's part of an instalment in the plan's order, each loan up to what it
    *owed*.  So money the debtor sends is not left on a loan outside the plan while an
    instalment of the plan falls short."""
    parts: list[tuple[date, int, str, Decimal]] = []
    for case in cases:
        plan = case.plan
        if plan is None or not plan.is_active or not plan.cases:
            continue
        paid = plan.paid  # a share's payments pay its instalments in date order
        for part in plan.instalments:
            covered = min(paid, part.amount.amount)
            paid -= covered
            if covered < part.amount.amount:
                position = plan.cases.index(case.id)
                parts.append((part.due, position, case.id, part.amount.amount - covered))
    shares: dict[str, Money] = {}
    left = amount
    for _, _, case_id, unpaid in sorted(parts):
        room = owed[case_id] - shares.get(case_id, Money.zero(amount.currency))
        give = min(left, Money(unpaid, amount.currency), room)
        if give.amount > 0:
            shares[case_id] = shares.get(case_id, Money.zero(amount.currency)) + give
            left = left - give
        if left.is_zero:
            break
    return shares


def _cases_of(rec: Recorder, debtor_id: object) -> list[str]:
    if not isinstance(debtor_id, str):
        raise InvalidInput("debtor_id", repr(debtor_id), "a debtor's id")
    found = rec.store.cases_of(debtor_id)
    if not found:
        raise InvalidInput("debtor_id", debtor_id, "the id of a debtor with a case")
    return found


def _allocation(rec: Recorder, given: Allocation | None) -> str | AllocationFunction:
    """The allocation given, else the policy's, else ``oldest_due``."""
    if given is None:
        policy = rec.policy
        given = policy.allocation if policy is not None else "oldest_due"
    return allocation_function(given)


def _disputed(case: Case, moment: datetime) -> bool:
    """True while the debtor disputes the case's debt: no share of a payment to the
    debtor goes to it (15 U.S.C. 1692h)."""
    return any(hold.kind == "dispute" for hold in case.active_holds(moment))


def _earlier(rec: Recorder, cases: list[Case], reference: str) -> JournalEntry | None:
    """The first share recorded under *reference* on the debtor's cases, if any.

    Raises:
        InvalidInput: the reference names a payment to one case.
    """
    for case in cases:
        entry = payment_under(rec.store.entries(case.id), reference)
        if entry is None:
            continue
        if "debtor" not in entry.data:
            raise InvalidInput(
                "reference",
                reference,
                f"a new reference: it names a payment to case {case.id!r} alone",
            )
        return entry
    return None


def _again(
    rec: Recorder, debtor_id: str, amount: Money, reference: str, earlier: JournalEntry
) -> DebtorPayment:
    """What the first recording of a debtor payment did, read back from each case's journal."""
    whole: dict[str, Any] = earlier.data["debtor"]
    recorded = Money(whole["amount"], earlier.data["currency"])
    if recorded != amount:
        raise InvalidInput(
            "reference",
            reference,
            f"a new reference: it names a payment of {recorded} already, not one of {amount}",
        )
    shares: dict[str, Money] = {}
    payments = {}
    for item in whole["shares"]:
        case_id, value = item["case_id"], item["amount"]
        shares[case_id] = Money(value, amount.currency)
        entries = rec.store.entries(case_id)
        entry = payment_under(entries, reference)
        assert entry is not None  # every share was recorded in the one unit of work
        payments[case_id] = payment_result(entry, shares[case_id], entries)
    _log.bind().info("debtor_payment_again", cases=len(shares))
    return DebtorPayment(reference, amount, shares, payments)
