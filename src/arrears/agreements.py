"""The loan agreement's terms for the costs of default: penalty interest and late fees.

`AgreementTerms` is what the agreement says: a daily penalty rate on the
overdue components it names, a cap on the penalty interest over the case's
life, a late fee per missed due date after some days, a cap on late fees, and
the holds that freeze both.  `accrue_charges` turns terms, the balance and the
days since the last accrual into the charges for those days; the engine
records them (``Engine.accrue``) and keeps the running totals on the case as
an `Accrual`.

    >>> terms = AgreementTerms(penalty_rate="0.0005", penalty_cap=Money("500", "CNY"))
    >>> terms.penalty_rate
    Decimal('0.0005')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import InvalidInput
from .holds import HoldKind
from .limits import MAX_AMOUNT
from .money import Money

__all__ = [
    "FREEZING_HOLDS",
    "PENALTY_BASES",
    "Accrual",
    "AgreementTerms",
    "Charges",
    "accrue_charges",
]

#: Holds that stop penalty interest and late fees by default: a bankruptcy
#: stay, a UK breathing space or mental health crisis moratorium (SI 2020/1311
#: reg. 7), a deceased debtor and a hardship review.  Disputes and cease-contact
#: requests pause contact, not the contract, unless the terms say so.
FREEZING_HOLDS: Final = (
    "bankruptcy",
    "breathing_space",
    "mental_health_crisis",
    "deceased",
    "hardship",
)

#: The overdue components penalty interest may be charged on.
PENALTY_BASES: Final = ("principal", "interest", "fees")
#: The most hold kinds the terms may name as freezing charges: each kind, twice over.
_HOLD_KINDS: Final = 2 * len(HoldKind)


class AgreementTerms(BaseModel):
    """What the loan agreement says about penalty interest and late fees.

    Attributes:
        penalty_rate: Penalty interest per day as a fraction, e.g. ``"0.0005"``
            (0.05 % a day); a decimal string or `Decimal`, never a float.
        penalty_base: The overdue components it is charged on (``principal``
            by default; ``interest`` and ``fees`` may be added where the law
            allows interest on interest).
        penalty_cap: The most penalty interest charged over the case's life;
            ``None`` for no cap.
        late_fee: A fee charged once for the due date each spell of arrears starts on
            (a payment that moves the due date on carries the fee charged with it);
            ``None`` for none.
        late_fee_after_days: Days past due before the late fee is charged.
        fee_cap: The most late fees charged over the case's life; ``None`` for no cap.
        freeze_on_holds: Hold kinds that stop both while active (`FREEZING_HOLDS`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # At most the 28 significant digits Decimal computes with: a rate written with ten
    # million digits would be kept, journaled and multiplied in full on every accrual.
    # (No `decimal_places`: with it, the zero rate journaled as "0" would not read back.)
    penalty_rate: Decimal = Field(
        default=Decimal(0), ge=0, lt=1, allow_inf_nan=False, max_digits=28
    )
    penalty_base: tuple[str, ...] = Field(default=("principal",), max_length=len(PENALTY_BASES))
    penalty_cap: Money | None = None
    late_fee: Money | None = None
    late_fee_after_days: int = Field(default=0, ge=0, le=366)
    fee_cap: Money | None = None
    freeze_on_holds: tuple[str, ...] = Field(default=FREEZING_HOLDS, max_length=_HOLD_KINDS)

    @model_validator(mode="before")
    @classmethod
    def _no_floats(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("penalty_rate"), float):
            raise ValueError(
                f"penalty_rate: got {data['penalty_rate']!r}, expected a decimal string such "
                "as '0.0005', never a float"
            )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name in self.penalty_base:
            if name not in PENALTY_BASES:
                raise ValueError(f"penalty_base: got {name!r}, expected some of {PENALTY_BASES}")
        if len(set(self.penalty_base)) != len(self.penalty_base):  # each charged once
            raise ValueError(
                f"penalty_base: got {list(self.penalty_base)}, expected each of "
                f"{PENALTY_BASES} at most once"
            )
        known = {kind.value for kind in HoldKind}
        for kind in self.freeze_on_holds:
            if kind not in known:
                raise ValueError(
                    f"freeze_on_holds: got {kind!r}, expected hold kinds {sorted(known)}"
                )
        currencies = {m.currency for m in (self.penalty_cap, self.late_fee, self.fee_cap) if m}
        if len(currencies) > 1:
            raise ValueError(
                f"penalty_cap, late_fee, fee_cap: got {sorted(currencies)}, expected one currency"
            )
        for name in ("penalty_cap", "late_fee", "fee_cap"):
            value: Money | None = getattr(self, name)
            if value is not None and value.amount < 0:
                raise ValueError(f"{name}: got {value}, expected zero or more")
        return self

    @property
    def currency(self) -> str | None:
        """The currency of the caps and the fee, or ``None`` when the terms name no amount."""
        for value in (self.penalty_cap, self.late_fee, self.fee_cap):
            if value is not None:
                return value.currency
        return None


class Accrual(BaseModel):
    """What has been charged under the terms so far (kept on the case by the engine).

    Attributes:
        through: The last day (in the debtor's calendar) accrual has considered.
        penalty: Penalty interest charged so far.
        fees: Late fees charged so far.
        late_fee_for: The due date the last late fee was for, so one missed
            date is never charged twice.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    through: date
    penalty: Decimal = Field(default=Decimal(0), ge=0, allow_inf_nan=False)
    fees: Decimal = Field(default=Decimal(0), ge=0, allow_inf_nan=False)
    late_fee_for: date | None = None


@dataclass(frozen=True, slots=True)
class Charges:
    """The penalty interest and late fee for a span of days, as `accrue_charges` computes them.

    Attributes:
        penalty: Penalty interest for the days counted (after the cap).
        fee: The late fee charged (after the cap), zero when none.
        days: Days past due in the span that were charged.
        frozen_days: Days past due in the span skipped because of a hold or a plan.
        through: The last day of the span.
        late_fee_for: The due date the late fee was considered for (charged or
            frozen), else the previous one.
    """

    penalty: Money
    fee: Money
    days: int
    frozen_days: int
    through: date
    late_fee_for: date | None

    @property
    def is_zero(self) -> bool:
        """True when nothing is charged."""
        return self.penalty.is_zero and self.fee.is_zero


def accrue_charges(
    terms: AgreementTerms,
    currency: str,
    overdue: Mapping[str, Decimal],
    due_date: date,
    state: Accrual | None,
    today: date,
    frozen: Callable[[date], bool],
) -> Charges:
    """The charges under *terms* from the day after ``state.through`` up to *today*.

    Penalty interest is ``base x rate x days`` for the days past due that are
    not frozen, rounded once (half to even) to the currency's minor units, and
    cut to what the cap leaves.  The base is the overdue components named in
    ``terms.penalty_base`` as they stand now, so accrue before each payment
    and at least daily (the engine accrues before recording a payment).

    Args:
        terms: The agreement's terms.
        currency: The case's currency.
        overdue: The overdue components by name.
        due_date: The first missed due date.
        state: What was accrued before; ``None`` the first time.
        today: The last day to charge, in the debtor's calendar.
        frozen: Tells whether a day is frozen (a hold or a plan says so).
    """
    start = due_date if state is None else max(state.through, due_date)
    days = frozen_days = 0
    day = start + timedelta(days=1)
    while day <= today:
        if frozen(day):
            frozen_days += 1
        else:
            days += 1
        day += timedelta(days=1)
    base = sum((overdue.get(name, Decimal(0)) for name in terms.penalty_base), Decimal(0))
    charge = base * terms.penalty_rate * days
    charged = state.penalty if state is not None else Decimal(0)
    if terms.penalty_cap is not None:
        room = max(terms.penalty_cap.amount - charged, Decimal(0))
        charge = min(charge, room)
    if not charge < MAX_AMOUNT:  # no `Money` holds it: named, rather than as an "amount"
        raise InvalidInput(
            "penalty",
            f"{charge:.3e}" if charge.adjusted() > 30 else str(charge),
            f"less than {MAX_AMOUNT:,} units (arrears.limits.MAX_AMOUNT): {days} days "
            f"at {terms.penalty_rate} a day on {base}",
        )
    penalty = Money.rounded(charge, currency)
    fee = Money.zero(currency)
    fee_for = state.late_fee_for if state is not None else None
    fee_day = due_date + timedelta(days=terms.late_fee_after_days + 1)
    # Once for each due date, and never again for one older than a date already
    # considered (a reversal that takes the due date back does not charge it twice).
    later = fee_for is None or fee_for < due_date
    if terms.late_fee is not None and later and fee_day <= today:
        fee_for = due_date
        if not frozen(fee_day) and any(overdue.values()):
            fee = terms.late_fee
            if terms.fee_cap is not None:
                fees = state.fees if state is not None else Decimal(0)
                room = max(terms.fee_cap.amount - fees, Decimal(0))
                fee = Money(min(fee.amount, room), currency)
    return Charges(penalty, fee, days, frozen_days, max(today, start), fee_for)
