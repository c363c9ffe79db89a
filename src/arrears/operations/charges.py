"""Charges and credit: penalty interest and fees accrued under the case's
terms, instalments falling due, credit applied to new arrears.
"""

from __future__ import annotations

from datetime import date, datetime

from ..agreements import Charges, accrue_charges
from ..case import COMPONENTS, Case
from ..errors import (
    InvalidInput,
)
from ..guards import SYSTEM, Actor
from ..journal import JournalEntry
from ..limits import LATEST_DATE, MAX_AMOUNT
from ..logs import get_logger
from ..money import Money, allocate
from ..recorder import Recorder
from ..refigure import frozen_days
from ._common import case_money
from .results import PaymentResult
from .stages import cure

_log = get_logger("arrears")


def accrue(rec: Recorder, case_id: str, *, at: datetime | None = None) -> Charges | None:
    """Charge penalty interest and late fees due under the case's terms up to *at*.

    `arrears.engine.Engine.accrue`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    charges = accrue_due(rec, case, moment)
    use_credit(rec, case, moment)
    return charges


def arrears_at(rec: Recorder, case_id: str, *, at: datetime | None = None) -> Money:
    """The arrears at *at*, with the charges due under the case's terms up to then.

    `arrears.engine.Engine.arrears_at`, which documents it.
    """
    case = rec.store.get(case_id)
    return owed_now(rec, case, rec.moment(case_id, at))


def fall_due(
    rec: Recorder,
    case_id: str,
    amount: Money,
    *,
    due: date,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> JournalEntry:
    """Record that an instalment of *amount* fell due on *due*: ``not_due`` becomes principal.

    `arrears.engine.Engine.fall_due`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    money = case_money(case, amount, "amount")
    if money.amount > case.balance.not_due:
        raise InvalidInput(
            "amount", str(money), f"at most the {case.balance.money('not_due')} not yet due"
        )
    if not isinstance(due, date) or isinstance(due, datetime) or due > LATEST_DATE:
        # The bound of a case's due date, which *due* becomes when nothing was overdue.
        shown = due.isoformat() if isinstance(due, date) else due
        raise InvalidInput("due", shown, f"a calendar date to {LATEST_DATE.isoformat()}")
    data = {"amount": str(money.amount), "due": due.isoformat(), "actor": actor.id}
    entry = rec.record(case, moment, "instalment_due", data)
    _log.bind().info("instalment_due", case_id=case_id)
    use_credit(rec, case, moment)
    return entry


def apply_credit(
    rec: Recorder, case_id: str, *, at: datetime | None = None
) -> PaymentResult | None:
    """Pay the arrears from the credit the case holds; cure the case if that clears them.

    `arrears.engine.Engine.apply_credit`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    return use_credit(rec, case, moment)


def charges_due(rec: Recorder, case: Case, moment: datetime) -> Charges | None:
    """The charges due under the case's terms up to *moment*, not yet recorded."""
    terms = case.terms
    if terms is None or not case.balance.has_arrears or rec.workflow.is_terminal(case.stage):
        return None
    overdue = {name: getattr(case.balance, name) for name in COMPONENTS}
    return accrue_charges(
        terms,
        case.currency,
        overdue,
        case.due_date,
        case.accrual,
        case.local_date(moment),
        frozen_days(case, terms),
    )


def accrue_due(rec: Recorder, case: Case, moment: datetime) -> Charges | None:
    """Record the charges due up to *moment* (an ``accrual`` entry), unless already charged."""
    charges = charges_due(rec, case, moment)
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
        "late_fee_for": None if charges.late_fee_for is None else charges.late_fee_for.isoformat(),
    }
    rec.record(case, moment, "accrual", data)
    _log.bind().info("accrual", case_id=case.id, days=charges.days, frozen_days=charges.frozen_days)
    return charges


def use_credit(rec: Recorder, case: Case, moment: datetime) -> PaymentResult | None:
    """Pay the arrears from the case's credit (``credit_applied``); cure it if that clears them."""
    balance = case.balance
    if not balance.credit or not balance.has_arrears:
        return None
    use = min(balance.money("credit"), balance.arrears)
    applied, _ = allocate(use, balance.components())
    data = {"applied": {name: str(part.amount) for name, part in applied.items()}}
    rec.record(case, moment, "credit_applied", data)
    _log.bind().info("credit_applied", case_id=case.id)
    return PaymentResult(applied, Money.zero(case.currency), cure(rec, case, moment))


def owed_now(rec: Recorder, case: Case, moment: datetime) -> Money:
    """The case's arrears with the charges due under its terms up to *moment*."""
    pending = charges_due(rec, case, moment)
    if pending is None:
        return case.arrears
    owed = case.arrears.amount + pending.penalty.amount + pending.fee.amount
    if not owed < MAX_AMOUNT:  # named, rather than as the anonymous "amount" of a sum
        raise InvalidInput(
            "arrears",
            str(owed),
            f"less than {MAX_AMOUNT:,} units (arrears.limits.MAX_AMOUNT): the charges due "
            f"by {moment.isoformat()} would leave case {case.id} owing more than any "
            "amount may be",
        )
    return Money(owed, case.currency)
