"""What operations return besides cases and entries: `PaymentResult`, `DebtorPayment`,
`Reversal`, `Waiver`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ..logs import get_logger
from ..money import Money
from ..settlements import Approval
from ..workflow import TransitionResult

_log = get_logger("arrears")


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


@dataclass(frozen=True, slots=True)
class DebtorPayment:
    """What a payment to the debtor did, across their cases.

    Attributes:
        reference: The payment's reference, recorded on every share.
        amount: The whole payment.
        shares: The share of each case that got one, by case id, in the
            order they were paid; they sum to *amount*.
        payments: What each share did on its case (as `PaymentResult`), by case id.
    """

    reference: str
    amount: Money
    shares: Mapping[str, Money]
    payments: Mapping[str, PaymentResult]


@dataclass(frozen=True, slots=True)
class Reversal:
    """What reversing a payment did.

    Attributes:
        restored: The amount owed again on each component.
        credit: The credit taken back.
        reopened: ``(from, to)`` when the case went back to the stage it was
            in before the payment, else ``None``.
        due_date: The case's first missed due date after it: the one it would
            have had had the payment never been made.
    """

    restored: Mapping[str, Money]
    credit: Money
    reopened: tuple[str, str] | None
    due_date: date | None = None


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
