"""How a payment to a debtor is shared across their loans: the policy's ``allocation``.

A debtor who pays the lender without naming a loan pays all of them: the
amount is shared across their open cases in the currency of the payment, in
the order the policy sets (``allocation`` in the policy file):

``oldest_due``
    The earliest due date first (the oldest arrears), then by case id.  The default.
``highest_rate``
    The highest daily penalty rate first (``terms.penalty_rate``; a case
    without terms has none), then as ``oldest_due``: the debt that costs the
    debtor most is cleared first.
``pro_rata``
    In proportion to what each case owes, rounded to the currency's minor
    unit; the units the rounding leaves go one each to the largest
    remainders, the earliest due first among equal ones (`arrears.money.split`).
``module:function``
    A lender's own function, imported when the policy loads (as its
    ``rules``): it is given an `AllocationRequest` and returns the share of
    each case by id.  Its answer is checked (`checked_shares`).

The engine may also be given a function, or the debtor's own directions (the
share of each case): a debtor who owes several debts and says how a payment is
to be applied is followed (15 U.S.C. 1692h), checked as a function's answer.
A case under an active dispute is never given a share: a single payment may
not be applied to a debt the debtor disputes (15 U.S.C. 1692h).

Unless the engine is given an allocation for the payment, an active plan
over several loans is paid first, in the order of its instalments
(`arrears.operations.debtors`); the policy's order shares the rest.

Each case takes at most what it owes (its arrears with the charges due up to
the payment); what is left once every case is paid stays as credit on the
first case of the order, as a payment larger than one case's arrears stays
on that case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Final

from pydantic import AfterValidator

from ..case import Case
from ..errors import InvalidInput
from ..money import Money, split
from .rules import resolve_function

__all__ = [
    "ALLOCATIONS",
    "Allocation",
    "AllocationFunction",
    "AllocationName",
    "AllocationRequest",
    "allocation_function",
    "allocation_name",
    "check_allocation",
    "checked_shares",
    "ordered",
    "shares_of",
]

#: The orders a policy names by word.
ALLOCATIONS: Final = ("oldest_due", "highest_rate", "pro_rata")


@dataclass(frozen=True, slots=True)
class AllocationRequest:
    """What a lender's allocation function is given.

    Attributes:
        amount: The payment.
        cases: The debtor's open cases in the payment's currency (copies),
            earliest due date first, then by case id.
        owed: What each case owes at the payment, by case id: its arrears with
            the charges due under its terms up to then.
        at: When the payment was made.
    """

    amount: Money
    cases: tuple[Case, ...]
    owed: Mapping[str, Money]
    at: datetime


AllocationFunction = Callable[[AllocationRequest], Mapping[str, Money]]
"""A lender's allocation: the request in, the share of each case (by id) out."""


def check_allocation(value: object) -> str:
    """A policy's ``allocation``: one of `ALLOCATIONS`, or ``module:function`` that imports.

    Raises:
        ValueError: (for pydantic) neither; says which words are known.
    """
    if not isinstance(value, str):
        raise ValueError(f"got {value!r}, expected one of {list(ALLOCATIONS)} or module:function")
    if value not in ALLOCATIONS and ":" not in value:
        raise ValueError(f"got {value!r}, expected one of {list(ALLOCATIONS)} or module:function")
    if value not in ALLOCATIONS:
        resolve_function(value, "an allocation request")
    return value


AllocationName = Annotated[str, AfterValidator(check_allocation)]
"""A policy's ``allocation``: a word of `ALLOCATIONS` or ``module:function`` (checked on load)."""


Allocation = str | AllocationFunction | Mapping[str, Money]
"""What an engine is given: a word of `ALLOCATIONS`, ``module:function``, a function, or the
debtor's own directions (the share of each case, by id)."""


def allocation_function(value: Allocation) -> str | AllocationFunction:
    """*value* as given to the engine: a word of `ALLOCATIONS`, ``module:function`` imported,
    a callable, or the debtor's directions (a mapping of shares, as a function returning them).

    Raises:
        InvalidInput: none of these (``allocation``).
    """
    if callable(value):
        return value
    if isinstance(value, Mapping):
        return _Directed(dict(value))
    if not isinstance(value, str) or (value not in ALLOCATIONS and ":" not in value):
        raise InvalidInput(
            "allocation", value, f"one of {list(ALLOCATIONS)}, module:function or a function"
        )
    if value in ALLOCATIONS:
        return value
    try:
        found: AllocationFunction = resolve_function(value, "an allocation request")
    except ValueError as err:
        raise InvalidInput("allocation", value, str(err)) from None
    return found


class _Directed:
    """The debtor's own directions: the same shares, whatever the request (checked as a
    function's answer)."""

    __slots__ = ("shares",)
    __qualname__ = "directed"

    def __init__(self, shares: dict[str, Money]) -> None:
        self.shares = shares

    def __call__(self, request: AllocationRequest) -> Mapping[str, Money]:
        return self.shares


def allocation_name(allocation: str | AllocationFunction) -> str:
    """How the journal names *allocation*: its word, ``directed`` for the debtor's own
    directions, or a function's ``module:qualname``."""
    if isinstance(allocation, str):
        return allocation
    if isinstance(allocation, _Directed):
        return "directed"
    module = getattr(allocation, "__module__", None) or "?"
    name = getattr(allocation, "__qualname__", type(allocation).__name__)
    return f"{module}:{name}"[:128]


def _oldest_due(case: Case) -> tuple[object, ...]:
    return (case.due_date, case.id)


def _highest_rate(case: Case) -> tuple[object, ...]:
    rate = case.terms.penalty_rate if case.terms is not None else Decimal(0)
    return (-rate, case.due_date, case.id)


def shares_of(allocation: str | AllocationFunction, request: AllocationRequest) -> dict[str, Money]:
    """The share of each case, by id, in the order they are paid (zero shares left out).

    The shares sum to the payment exactly.

    Raises:
        InvalidInput: a lender's function answered what `checked_shares` refuses.
    """
    amount, owed = request.amount, request.owed
    if callable(allocation):
        return checked_shares(allocation, request, allocation(request))
    cases = request.cases
    if allocation == "highest_rate":
        cases = tuple(sorted(cases, key=_highest_rate))
    shares: dict[str, Money] = {}
    left = amount
    if allocation == "pro_rata":
        total = sum((owed[case.id].amount for case in cases), Decimal(0))
        paid = min(amount.amount, total)
        if paid:
            weights = [owed[case.id].amount for case in cases]
            parts = split(Money(paid, amount.currency), weights)
            shares = {case.id: part for case, part in zip(cases, parts, strict=True)}
            left = amount - Money(paid, amount.currency)
    else:
        for case in cases:
            part = min(left, owed[case.id])
            shares[case.id] = part
            left = left - part
            if left.is_zero:
                break
    if left and cases:  # more than every case owes: credit on the first of the order
        first = cases[0].id
        shares[first] = shares.get(first, Money.zero(amount.currency)) + left
    return {case_id: part for case_id, part in shares.items() if part}


def checked_shares(
    function: AllocationFunction, request: AllocationRequest, answer: object
) -> dict[str, Money]:
    """A lender's function's *answer*, checked: a mapping of the request's case ids to
    Money in the payment's currency, none negative, summing to the payment exactly.

    A share above what a case owes is kept: the rest stays on that case as credit.

    Raises:
        InvalidInput: naming ``allocation`` and the share at fault (by case id).
    """
    name = getattr(function, "__qualname__", type(function).__name__)
    amount = request.amount
    if not isinstance(answer, Mapping):
        raise InvalidInput(
            "allocation", name, f"a function returning shares by case id, not {type(answer)}"
        )
    known = [case.id for case in request.cases]
    shares: dict[str, Money] = {}
    total = Decimal(0)
    for case_id in known:  # in the request's order, whatever the answer's
        if case_id not in answer:
            continue
        part = answer[case_id]
        field = f"allocation[{case_id}]"
        if not isinstance(part, Money) or part.currency != amount.currency:
            raise InvalidInput(field, repr(part), f"Money in {amount.currency}")
        if part.amount < 0:
            raise InvalidInput(field, str(part), "a share of zero or more")
        total += part.amount
        if part:
            shares[case_id] = part
    strange = sorted(str(key) for key in answer if key not in known)
    if strange:
        raise InvalidInput(
            "allocation", strange, f"shares of the debtor's open cases in {amount.currency} only"
        )
    if total != amount.amount:
        raise InvalidInput(
            "allocation",
            f"shares summing to {total} {amount.currency}",
            f"shares summing to the payment, {amount}",
        )
    return shares


def ordered(cases: Sequence[Case]) -> tuple[Case, ...]:
    """*cases*, earliest due date first, then by case id (the order a request gives them)."""
    return tuple(sorted(cases, key=_oldest_due))
