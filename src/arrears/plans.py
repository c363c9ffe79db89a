"""Promises to pay and repayment plans: instalments, schedules, plan kinds and their documents.

A `Promise` is what a debtor says they will pay and when: one amount on one
date, or several instalments.  A `RepaymentPlan` is an arrangement the lender
makes: the arrears spread over a schedule (``extension``), paid by a minimum
amount each period (``minimum``), or partly waived on condition that the rest
is paid as agreed (``reduction``).  Both are frozen pydantic models; the
engine records them in the journal and keeps the paid amount and status on
the case.

Schedules use `dateutil.relativedelta` counted from the first date, never
from the previous one, so a plan due on the 31st falls on the last day of
shorter months and returns to the 31st afterwards::

    >>> [d.isoformat() for d in schedule_dates(date(2027, 1, 31), 3)]
    ['2027-01-31', '2027-02-28', '2027-03-31']
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Annotated, Any, Final, Self

from dateutil.relativedelta import relativedelta
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from .errors import InvalidInput
from .limits import LATEST_DATE
from .money import Money, currency_quantum

__all__ = [
    "MAX_INSTALMENTS",
    "REQUIRED_DOCUMENTS",
    "Frequency",
    "Instalment",
    "PlanKind",
    "PlanStatus",
    "Promise",
    "PromiseStatus",
    "RepaymentPlan",
    "instalment_schedule",
    "schedule_dates",
]

#: The longest schedule accepted: 50 years of monthly instalments.
MAX_INSTALMENTS: Final = 600

_ID: Final = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
DocumentKind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""A document kind: a lower-case name such as ``proof_of_income``."""


class Frequency(StrEnum):
    """How often instalments fall due."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


_STEPS: Final = {
    Frequency.WEEKLY: relativedelta(weeks=1),
    Frequency.FORTNIGHTLY: relativedelta(weeks=2),
    Frequency.MONTHLY: relativedelta(months=1),
}


def _count(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_INSTALMENTS:
        raise InvalidInput("count", count, f"a whole number from 1 to {MAX_INSTALMENTS}")
    return count


def _frequency(frequency: object) -> Frequency:
    try:
        return Frequency(str(frequency))
    except ValueError:
        raise InvalidInput(
            "frequency", frequency, f"one of {[f.value for f in Frequency]}"
        ) from None


def schedule_dates(
    first: date, count: int, frequency: Frequency | str = Frequency.MONTHLY
) -> tuple[date, ...]:
    """The *count* due dates of a schedule starting on *first*.

    Each date is counted from *first* (``first + n`` periods), so a monthly
    schedule keeps its day of the month wherever the month has it, and falls
    on the month's last day where it does not: never a month skipped, never
    one twice.

    Raises:
        InvalidInput: *first* is not a date, *count* not 1 to `MAX_INSTALMENTS`,
            an unknown frequency, or a last date after `arrears.limits.LATEST_DATE`.
    """
    if not isinstance(first, date) or hasattr(first, "hour"):
        raise InvalidInput("first", first, "a calendar date")
    step = _STEPS[_frequency(frequency)]
    n = _count(count)
    if first > LATEST_DATE or first + step * (n - 1) > LATEST_DATE:
        raise InvalidInput(
            "first", first.isoformat(), f"a schedule ending by {LATEST_DATE.isoformat()}"
        )
    return tuple(first + step * i for i in range(n))


class Instalment(BaseModel):
    """One amount due on one date.

    Attributes:
        due: The date it falls due.
        amount: How much, a positive amount.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    due: date
    amount: Money

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if self.amount.amount <= 0:
            raise ValueError(f"amount: got {self.amount}, expected a positive amount")
        return self


def instalment_schedule(
    total: Money,
    first: date,
    *,
    count: int | None = None,
    amount: Money | None = None,
    frequency: Frequency | str = Frequency.MONTHLY,
) -> tuple[Instalment, ...]:
    """Spread *total* over a schedule starting on *first*.

    Give exactly one of *count* (equal instalments; the minor units that do not
    divide evenly go one each to the first instalments) or *amount* (that much
    each time, the last instalment taking what is left, as for a minimum
    payment).  The instalments always sum to *total*.

    Examples:
        >>> parts = instalment_schedule(Money("100", "CNY"), date(2027, 1, 31), count=3)
        >>> [(p.due.isoformat(), str(p.amount.amount)) for p in parts]
        [('2027-01-31', '33.34'), ('2027-02-28', '33.33'), ('2027-03-31', '33.33')]

    Raises:
        InvalidInput: a total or amount that is not positive Money, both or
            neither of *count* and *amount*, or a schedule longer than
            `MAX_INSTALMENTS`.
    """
    if not isinstance(total, Money) or total.amount <= 0:
        raise InvalidInput("total", str(total), "a positive Money amount")
    if (count is None) == (amount is None):
        raise InvalidInput("count", count, "exactly one of count and amount")
    quantum = currency_quantum(total.currency)
    if amount is not None:
        if not isinstance(amount, Money) or amount.amount <= 0:
            raise InvalidInput("amount", str(amount), f"a positive amount in {total.currency}")
        if amount.currency != total.currency:
            raise InvalidInput("amount", str(amount), f"an amount in {total.currency}")
        full, rest = divmod(total.amount, amount.amount)
        parts = [amount.amount] * int(full) + ([rest] if rest else [])
        if len(parts) > MAX_INSTALMENTS:
            raise InvalidInput(
                "amount", str(amount), f"at most {MAX_INSTALMENTS} instalments for {total}"
            )
    else:
        n = _count(count)
        base = (total.amount / n).quantize(quantum, rounding=ROUND_DOWN)
        spare = int((total.amount - base * n) / quantum)
        parts = [base + (quantum if i < spare else Decimal(0)) for i in range(n)]
        if base <= 0:
            raise InvalidInput("count", count, f"at most one instalment per minor unit of {total}")
    dates = schedule_dates(first, len(parts), frequency)
    return tuple(
        Instalment(due=due, amount=Money(part, total.currency))
        for due, part in zip(dates, parts, strict=True)
    )


def _check_instalments(instalments: tuple[Instalment, ...]) -> str:
    """The instalments' currency, after checking they are ordered and in one currency."""
    if not instalments:
        raise ValueError("instalments: got none, expected at least one")
    if len(instalments) > MAX_INSTALMENTS:
        raise ValueError(f"instalments: got {len(instalments)}, expected at most {MAX_INSTALMENTS}")
    currency = instalments[0].amount.currency
    for before, after in itertools.pairwise(instalments):
        if after.due <= before.due:
            raise ValueError(
                f"instalments: {after.due.isoformat()} follows {before.due.isoformat()}, "
                "expected due dates in increasing order"
            )
    for part in instalments:
        if part.amount.currency != currency:
            raise ValueError(
                f"instalments: got {part.amount.currency}, expected every amount in {currency}"
            )
    return currency


def _exact(value: Decimal, info: ValidationInfo) -> Decimal:
    """An agreement's amount *value* with exactly its currency's minor units, or refused.

    The currency is the instalments': they come before every amount, and are
    missing from ``info.data`` only when they were refused (their own error
    says why).
    """
    instalments: tuple[Instalment, ...] | None = info.data.get("instalments")
    if instalments is None:
        return value
    currency = instalments[0].amount.currency
    exact = value.quantize(currency_quantum(currency))
    if exact != value:
        raise ValueError(f"{info.field_name}: got {value}, expected an amount in {currency}")
    return exact


def _no_float(data: Any) -> Any:
    if isinstance(data, Mapping):
        for name, value in data.items():
            if isinstance(value, float):
                raise ValueError(f"{name}: got {value!r}, expected a decimal string, never a float")
    return data


class _Agreement(BaseModel):
    """What promises and plans share: a schedule, a grace period, and the amount paid so far."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)

    id: Annotated[str, Field(pattern=_ID)]
    instalments: tuple[Instalment, ...]
    grace_days: int = Field(default=0, ge=0, le=366)
    # The default is validated too, so it becomes the currency's zero ("0.00").
    paid: Decimal = Field(default=Decimal(0), ge=0, allow_inf_nan=False, validate_default=True)
    cases: tuple[Annotated[str, Field(pattern=_ID)], ...] = ()

    @model_serializer(mode="wrap")
    def _one_case_as_before(self, handler: SerializerFunctionWrapHandler) -> Any:
        # An agreement of one case is written as it was before agreements could cover several.
        data = handler(self)
        if isinstance(data, dict) and not self.cases:
            data.pop("cases", None)
        return data

    @model_validator(mode="before")
    @classmethod
    def _reject_floats(cls, data: Any) -> Any:
        return _no_float(data)

    @field_validator("instalments")
    @classmethod
    def _schedule(cls, instalments: tuple[Instalment, ...]) -> tuple[Instalment, ...]:
        _check_instalments(instalments)
        return instalments

    @field_validator("paid")
    @classmethod
    def _paid_exact(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return _exact(value, info)

    @property
    def currency(self) -> str:
        """The currency of every instalment."""
        return self.instalments[0].amount.currency

    @property
    def total(self) -> Money:
        """The sum of the instalments."""
        return Money(sum((p.amount.amount for p in self.instalments), Decimal(0)), self.currency)

    @property
    def paid_money(self) -> Money:
        """What has been paid towards it so far."""
        return Money(self.paid, self.currency)

    @property
    def remaining(self) -> Money:
        """What is still to be paid towards it."""
        return Money(max(self.total.amount - self.paid, Decimal(0)), self.currency)

    @property
    def due(self) -> date:
        """The last instalment's date."""
        return self.instalments[-1].due

    def due_through(self, index: int) -> Money:
        """The sum of the instalments up to and including the one at *index*."""
        parts = self.instalments[: index + 1]
        return Money(sum((p.amount.amount for p in parts), Decimal(0)), self.currency)

    def first_short(self, today: date) -> tuple[int, Money] | None:
        """The first instalment past its grace on *today* that is not covered by what was paid.

        Returns:
            ``(index, shortfall)``, the shortfall being what is missing to cover
            every instalment up to that one; ``None`` when none is short.
        """
        running = Decimal(0)
        for index, part in enumerate(self.instalments):
            running += part.amount.amount
            if (today - part.due).days <= self.grace_days:
                return None
            if self.paid < running:
                return index, Money(running - self.paid, self.currency)
        return None


class PromiseStatus(StrEnum):
    """Where a promise stands."""

    OPEN = "open"
    KEPT = "kept"
    PARTLY_KEPT = "partly_kept"
    BROKEN = "broken"
    SUPERSEDED = "superseded"


class Promise(_Agreement):
    """A promise to pay: one amount on one date, or several instalments.

    Every payment recorded while the promise is open counts towards it,
    including those made before it falls due.  It is kept as soon as the
    payments cover it (or the arrears are cleared), and judged after the last
    day of grace following each instalment: short then, it is ``partly_kept``
    when something was paid and ``broken`` when nothing was.

    Attributes:
        id: Unique within the case.
        made_at: When the debtor made it.
        instalments: The amounts and dates promised, in date order.
        grace_days: Days after a due date before a shortfall counts.
        paid: What has been paid towards it so far.
        cases: For a promise over several of the debtor's loans, every case it
            covers (each holds its share, under the same id); empty for one loan.
        status: ``open``, ``kept``, ``partly_kept``, ``broken``, or
            ``superseded`` by a later promise or a repayment plan.
        shortfall: What was missing when it was judged partly kept or broken.
    """

    made_at: AwareDatetime
    status: PromiseStatus = PromiseStatus.OPEN
    shortfall: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("shortfall")
    @classmethod
    def _shortfall_exact(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        return None if value is None else _exact(value, info)

    @property
    def is_open(self) -> bool:
        """True until the promise is kept, partly kept or broken."""
        return self.status == PromiseStatus.OPEN


class PlanKind(StrEnum):
    """The kinds of repayment plan in the negotiation script."""

    MINIMUM = "minimum"
    EXTENSION = "extension"
    REDUCTION = "reduction"


class PlanStatus(StrEnum):
    """Where a repayment plan stands."""

    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"


#: The documents a plan of each kind needs by default before it can start,
#: as the negotiation script asks: proof of income and bank statements before
#: arranging a plan.  A plan may name its own.
REQUIRED_DOCUMENTS: Final[Mapping[str, tuple[str, ...]]] = {
    PlanKind.MINIMUM: (),
    PlanKind.EXTENSION: ("proof_of_income",),
    PlanKind.REDUCTION: ("bank_statement", "proof_of_income"),
}


class RepaymentPlan(_Agreement):
    """An arrangement to pay the arrears by a schedule of instalments.

    The instalments plus the ``waived`` part must equal the arrears when the
    plan starts.  A ``reduction`` plan waives part of the debt on condition
    that the rest is paid as agreed: the waiver is applied when the last
    instalment is paid and lapses if the plan breaks.

    Attributes:
        id: Unique within the case.
        kind: ``minimum``, ``extension`` or ``reduction``.
        instalments: The schedule, in date order (see `instalment_schedule`).
        grace_days: Days after an instalment's date before a shortfall breaks the plan.
        freeze_interest: Penalty interest and late fees stop accruing while the plan is active.
        waived: The part waived on completion (reduction plans only).
        required_documents: Document kinds that must be recorded before the
            plan can start; `REQUIRED_DOCUMENTS` for its kind when omitted.
        paid: What has been paid towards it so far (set by the engine).
        cases: For a plan over several of the debtor's loans, every case it
            covers (each holds its share, under the same id; set by the
            engine); empty for one loan.
        status: ``active``, ``completed`` or ``broken`` (set by the engine).
        late: The instalments (by position) found unpaid after their date,
            within their grace (set by the engine); for a plan over several
            loans, the positions in the whole plan's schedule.
        started_at: When the plan started (set by the engine).
        ended_at: When it was completed or broken (set by the engine).
    """

    kind: PlanKind
    freeze_interest: bool = False
    waived: Decimal = Field(default=Decimal(0), ge=0, allow_inf_nan=False, validate_default=True)
    required_documents: tuple[DocumentKind, ...] | None = Field(default=None, validate_default=True)
    status: PlanStatus = PlanStatus.ACTIVE
    late: tuple[int, ...] = ()
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None

    @field_validator("waived")
    @classmethod
    def _waived_exact(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return _exact(value, info)

    @field_validator("required_documents")
    @classmethod
    def _documents_of_kind(
        cls, value: tuple[str, ...] | None, info: ValidationInfo
    ) -> tuple[str, ...] | None:
        kind = info.data.get("kind")  # before the documents, unless it was refused
        if value is None and kind is not None:
            return REQUIRED_DOCUMENTS[kind]
        return value

    @model_validator(mode="after")
    def _kind_rules(self) -> Self:
        if self.kind == PlanKind.REDUCTION and not self.waived:
            raise ValueError("waived: got 0, expected the part a reduction plan waives")
        if self.kind != PlanKind.REDUCTION and self.waived:
            raise ValueError(
                f"waived: got {self.waived}, expected 0 for a {self.kind} plan "
                "(only a reduction plan waives)"
            )
        return self

    @property
    def documents(self) -> tuple[str, ...]:
        """The document kinds the plan needs before it can start."""
        return self.required_documents or ()

    @property
    def waived_money(self) -> Money:
        """The part waived on completion, as `Money`."""
        return Money(self.waived, self.currency)

    @property
    def is_active(self) -> bool:
        """True while the plan is neither completed nor broken."""
        return self.status == PlanStatus.ACTIVE
