"""What the engine would have recorded, worked out again from the case as replayed.

An entry that moves money or ends a hold records figures the engine works out
from the case as it stands and from what it was asked: a payment's amount
allocated over the overdue components, a waiver's likewise, a settlement's
amount paid and the rest waived, the credit applied to new arrears, the charges
due under the case's terms, an instalment falling due out of what was not yet
due, a hold's release at the entry's own moment.  Replay applies the figures as
recorded (`arrears.events`), so whoever can append an entry sealed on a chain's
head could record any figures at all: 1.00 paid that clears 5,050.00.

`figures_problem` works out again, for the entry's own request (the amount
paid or waived, the day charged through, the hold released), what the engine
would have recorded on the case as replayed up to it, with the functions the
engine records with (`arrears.money.allocate`,
`arrears.agreements.accrue_charges`, `frozen_days`), and names the first
recorded figure that differs, or the reason the engine would have recorded no
such entry.  `arrears.workflow.Workflow.entry_problem` reports it as
``forbidden``.

    >>> from datetime import UTC, datetime
    >>> from arrears import Balance, Case, Debtor
    >>> from arrears.journal import GENESIS, seal
    >>> case = Case(id="L-1", debtor=Debtor(id="D-1"), due_date="2026-03-01",
    ...     balance=Balance(currency="CNY", principal="100.00", penalty="5.00"))
    >>> at = datetime(2026, 4, 1, tzinfo=UTC)
    >>> paid = {"amount": "10.00", "currency": "CNY", "credit": "0.00",
    ...     "applied": {"penalty": "5.00", "principal": "5.00"}}
    >>> figures_problem(case, seal("L-1", 1, at, "payment", paid, GENESIS)) is None
    True
    >>> paid["applied"] = {"penalty": "5.00", "principal": "100.00"}
    >>> problem = figures_problem(case, seal("L-1", 1, at, "payment", paid, GENESIS))
    >>> problem.split(", but ")[0]
    "a payment records applied {'penalty': '5.00', 'principal': '100.00'}"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

import orjson

from .agreements import AgreementTerms, accrue_charges
from .case import COMPONENTS, Case
from .errors import ArrearsError
from .journal import JournalEntry
from .money import ALLOCATION_ORDER, Money, allocate
from .plans import Promise, RepaymentPlan

__all__ = ["REFIGURED", "figures_problem", "frozen_days"]


def frozen_days(case: Case, terms: AgreementTerms) -> Callable[[date], bool]:
    """Whether a freezing hold (``terms.freeze_on_holds``) or an interest-freezing plan
    was in force on a day of the debtor's calendar, as the case stands: what stops
    penalty interest and late fees (`arrears.agreements.accrue_charges`)."""
    zone = case.debtor.timezone or UTC
    spans: list[tuple[datetime, datetime | None]] = []
    for hold in case.holds:
        if hold.kind in terms.freeze_on_holds:
            ends = [t for t in (hold.ends_at, hold.released_at) if t is not None]
            spans.append((hold.started_at, min(ends) if ends else None))
    plan = case.plan
    if plan is not None and plan.freeze_interest and plan.started_at is not None:
        spans.append((plan.started_at, plan.ended_at))
    if not spans:
        return _never
    # Compared in UTC (the same instants, without a zone's offset looked up for each
    # comparison), and only on the days a span may touch: from the day before its local
    # start to the day after its local end (a day of slack either side, whatever the
    # zone's midnights do), so most days are told apart by their dates alone.
    one = timedelta(days=1)
    near: list[tuple[date, date | None, datetime, datetime | None]] = []
    for s, e in spans:
        last = None if e is None else e.astimezone(zone).date() + one
        near.append((s.astimezone(zone).date() - one, last, s.astimezone(UTC), e))

    def frozen(day: date) -> bool:
        """Whether a freezing hold or plan was in force on *day*."""
        start = end = None
        for first, last, s, e in near:
            if day < first or (last is not None and day > last):
                continue
            if start is None or end is None:
                start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
                end = datetime.combine(day + one, time(0), tzinfo=zone).astimezone(UTC)
            if s < end and (e is None or e > start):
                return True
        return False

    return frozen


def _never(day: date) -> bool:
    """No hold or plan freezes charges on any day."""
    return False


class _Refused(Exception):
    """The engine would have recorded no such entry: *reason* says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: A figure as compared: an amount, amounts by component (none zero), or a plain value.
_Figures = dict[str, Any]


def _amount(value: object) -> Decimal:
    """A recorded amount (a decimal string) as a `Decimal`; a finite number, else ValueError."""
    if not isinstance(value, str):
        raise TypeError("an amount is a decimal string")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("an amount is a finite number")
    return number


def _parts(value: object) -> dict[str, Decimal]:
    """Amounts by component as recorded (``{"principal": "5.00"}``), those not zero."""
    if not isinstance(value, Mapping):
        raise TypeError("amounts by component are an object")
    parts = {str(name): _amount(part) for name, part in value.items()}
    return {name: part for name, part in sorted(parts.items()) if part}


def _money_parts(parts: Mapping[str, Money]) -> dict[str, Decimal]:
    """`_parts` of amounts the engine works out."""
    return {name: part.amount for name, part in sorted(parts.items()) if part.amount}


def _order(applied: Mapping[str, Decimal], owed: Mapping[str, Money]) -> tuple[str, ...]:
    """The order of *owed*'s components that an allocation recorded as *applied* follows,
    if any does: those paid in full first, then the one paid in part, then those not
    paid, each in `ALLOCATION_ORDER`.  The engine allocates in an order the caller
    chooses (`Engine.record_payment`'s *order*), which it does not record; every such
    allocation is the one this order gives, and an allocation no order gives (two
    components paid in part, more on one than it owed, credit left while something
    stays owed) differs from it."""

    def rank(name: str) -> tuple[int, int]:
        part, due = applied.get(name, Decimal(0)), max(owed[name].amount, Decimal(0))
        paid = 0 if due and part >= due else 1 if part > 0 else 2
        return paid, ALLOCATION_ORDER.index(name) if name in ALLOCATION_ORDER else len(owed)

    return tuple(sorted(owed, key=rank))


def _allocated(case: Case, amount: Money, recorded: object) -> tuple[dict[str, Money], Money]:
    """*amount* allocated over *case*'s overdue components in the order *recorded*
    (an entry's ``applied``) follows, as the engine allocates (`_order`)."""
    owed = case.balance.components()
    return allocate(amount, owed, _order(_parts(recorded), owed))


def _approval(data: Mapping[str, Any], approved: Decimal, what: str) -> None:
    """Refuse an approval the engine would not have recorded for *approved* waived: one
    beyond the limit it records itself, an approver who is the actor, no approver where
    its basis needs one (`arrears.settlements.ApprovalLimits.authorise`).  The limits
    table is not journaled: a limit is judged as recorded."""
    basis, actor, approver = data["basis"], data["actor"], data["approver"]
    raw = data["limit"]
    limit = None if raw is None else _amount(raw)
    if approver is not None and approver == actor:
        raise _Refused(f"{what} approved by its own actor")
    if basis not in ("actor", "approver", "four_eyes"):
        raise _Refused(f"{what} records approval basis {basis!r}, not actor, approver or four_eyes")
    if basis != "actor" and approver is None:
        raise _Refused(f"{what} records approval basis {basis!r} but no approver")
    if limit is None and basis != "four_eyes":
        raise _Refused(f"{what} records approval basis {basis!r} but no limit")
    if limit is not None and approved > limit:
        raise _Refused(f"{what} waives {approved}, beyond the limit of {limit} it records")


def _payment(case: Case, entry: JournalEntry) -> tuple[_Figures, str]:
    """A payment's currency, and its amount allocated over the components, the rest credit."""
    data = entry.data
    amount = Money(_amount(data["amount"]), case.currency)
    applied, credit = _allocated(case, amount, data["applied"])
    figures = {
        "currency": case.currency,
        "applied": _money_parts(applied),
        "credit": credit.amount,
        "promise": _share(case.promise, amount),
        "plan": _share(case.plan, amount),
    }
    how = f"its amount {amount.amount} allocated over the overdue components as they stood"
    return figures, how


def _share(agreement: Promise | RepaymentPlan | None, amount: Money) -> _Figures | None:
    """What of a payment of *amount* counts towards *agreement* while it is open or active
    (`arrears.operations.agreements.payment_shares`): as much as is still to be paid."""
    if agreement is None:
        return None
    if not (agreement.is_open if isinstance(agreement, Promise) else agreement.is_active):
        return None
    return {"id": agreement.id, "counted": min(amount.amount, agreement.remaining.amount)}


def _read_share(value: object) -> _Figures | None:
    """A recorded share of a payment (``{"id", "counted"}``), or ``None``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError("a share is an object")
    return {"id": value["id"], "counted": _amount(value["counted"])}


def _waiver(case: Case, entry: JournalEntry) -> tuple[_Figures, str]:
    """A waiver's amount allocated over the components, within the arrears and its approval."""
    data = entry.data
    amount = Money(_amount(data["amount"]), case.currency)
    if amount > case.arrears:
        raise _Refused(f"a waiver of {amount.amount} is more than the arrears, {case.arrears}")
    _approval(data, amount.amount, "a waiver")
    applied, _ = _allocated(case, amount, data["applied"])
    how = f"its amount {amount.amount} allocated over the overdue components as they stood"
    return {"applied": _money_parts(applied)}, how


def _settlement(case: Case, entry: JournalEntry) -> tuple[_Figures, str]:
    """A settlement's amount paid over what is owed (not yet due last), the rest waived."""
    data = entry.data
    amount = Money(_amount(data["amount"]), case.currency)
    balance = case.balance
    owed = balance.outstanding
    if amount >= owed:
        raise _Refused(f"a settlement of {amount.amount} is not less than the {owed} owed")
    owing = {**balance.components(), "not_due": balance.money("not_due")}
    components = {name: owing[name] for name in COMPONENTS}
    order = (*_order(_parts(data["applied"]), components), "not_due")
    paid, _ = allocate(amount, owing, order)
    rest = {name: owing[name] - paid[name] for name in owing}
    _approval(data, owed.amount - amount.amount, "a settlement")
    how = f"its amount {amount.amount} paid over what the case owed as it stood, the rest waived"
    return {"applied": _money_parts(paid), "waived": _money_parts(rest)}, how


def _credit_applied(case: Case, entry: JournalEntry) -> tuple[_Figures, str]:
    """The credit the case held, as much of it as the arrears take, allocated over them."""
    balance = case.balance
    if not balance.credit or not balance.has_arrears:
        raise _Refused("credit applied on a case holding no credit or owing nothing overdue")
    use = min(balance.money("credit"), balance.arrears)
    applied, _ = allocate(use, balance.components())
    return {"applied": _money_parts(applied)}, f"the {use} of credit allocated over the arrears"


def _accrual(case: Case, entry: JournalEntry, terminal: bool) -> tuple[_Figures, str]:
    """The charges due under the case's terms from its last accrual to the entry's day."""
    terms = case.terms
    if terms is None:
        raise _Refused("an accrual on a case whose agreement sets no terms")
    if not case.balance.has_arrears or terminal:
        raise _Refused("an accrual on a case owing nothing overdue, or closed")
    at = entry.at
    if case.debtor.timezone is None:  # the day in the offset the moment was sealed with
        at = datetime.fromisoformat(orjson.loads(entry.body)["at"])
    today = case.local_date(at)
    overdue = {name: getattr(case.balance, name) for name in COMPONENTS}
    charges = accrue_charges(
        terms,
        case.currency,
        overdue,
        case.due_date,
        case.accrual,
        today,
        frozen_days(case, terms),
    )
    fee_for = charges.late_fee_for
    figures = {
        "penalty": charges.penalty.amount,
        "fee": charges.fee.amount,
        "days": charges.days,
        "frozen_days": charges.frozen_days,
        "through": charges.through.isoformat(),
        "late_fee_for": None if fee_for is None else fee_for.isoformat(),
    }
    how = (
        f"the case's terms from its last accrual through {today.isoformat()}, "
        "with their caps and the holds and plan that freeze charges,"
    )
    return figures, how


def _instalment_due(case: Case, entry: JournalEntry) -> tuple[_Figures, str]:
    """An instalment falling due out of what was not yet due."""
    amount = Money(_amount(entry.data["amount"]), case.currency)
    date.fromisoformat(entry.data["due"])
    not_due = case.balance.money("not_due")
    if amount.amount <= 0 or amount > not_due:
        raise _Refused(f"an instalment of {amount.amount} falls due, but {not_due} was not yet due")
    return {}, ""


def _hold_released(case: Case, entry: JournalEntry) -> tuple[_Figures, str]:
    """A hold in force on the case, released at the entry's own moment."""
    hold_id = entry.data["hold_id"]
    hold = next((hold for hold in case.holds if hold.id == hold_id), None)
    if hold is None or not hold.active_at(entry.at):
        raise _Refused(f"a release of hold {hold_id!r}, which was not in force on the case")
    return {"released_at": entry.at}, "the entry's own moment"


def _released_at(value: object) -> datetime:
    """A recorded ``released_at`` as a time."""
    if not isinstance(value, str):
        raise TypeError("a time is ISO 8601 text")
    return datetime.fromisoformat(value)


#: How each kind's recorded figures read for comparing (as `_Figures` hold them).
_READ: Final[Mapping[str, Callable[[Any], Any]]] = {
    "currency": lambda value: value,
    "applied": _parts,
    "waived": _parts,
    "credit": _amount,
    "penalty": _amount,
    "fee": _amount,
    "days": lambda value: value,
    "frozen_days": lambda value: value,
    "through": lambda value: value,
    "late_fee_for": lambda value: value,
    "released_at": _released_at,
    "promise": _read_share,
    "plan": _read_share,
}

#: How a figure that is worked out otherwise than the rest of its entry's is worked out.
_HOW: Final = {
    "promise": "as much of its amount as the open promise still awaited",
    "plan": "as much of its amount as the active plan still awaited",
}

#: The kinds whose figures the engine works out, each with how they are worked out again.
_WORKED_OUT: Final[Mapping[str, Callable[[Case, JournalEntry], tuple[_Figures, str]]]] = {
    "payment": _payment,
    "waiver": _waiver,
    "settlement": _settlement,
    "credit_applied": _credit_applied,
    "instalment_due": _instalment_due,
    "hold_released": _hold_released,
}

#: Every kind `figures_problem` judges.
REFIGURED: Final = frozenset({*_WORKED_OUT, "accrual"})

#: The entry kinds as a problem names them.
_NAMED: Final = {
    "payment": "a payment",
    "waiver": "a waiver",
    "settlement": "a settlement",
    "credit_applied": "credit applied",
    "accrual": "an accrual",
    "instalment_due": "an instalment falling due",
    "hold_released": "a hold's release",
}


def _shown(value: Any) -> Any:
    """A figure as a problem shows it: amounts as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {name: _shown(part) for name, part in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def figures_problem(case: Case, entry: JournalEntry, *, terminal: bool = False) -> str | None:
    """What is wrong with the figures *entry* records, on *case* as replayed up to it.

    For a kind of `REFIGURED`, the figures the engine would have recorded for the
    entry's own request (its amount, its day, its hold) are worked out again from
    the case: the first recorded figure that differs is named with the one the
    engine gives, as is a reason the engine would have recorded no such entry
    (a waiver beyond the arrears or beyond the limit it records, credit applied
    with none held, an accrual on a case with no terms, owing nothing overdue or
    closed (*terminal*: the stage it stands in is terminal), an instalment beyond
    what was not yet due, a release of a hold not in force).  ``None`` when the
    figures are the engine's, or *entry* is of another kind.
    """
    kind = entry.kind
    if kind not in REFIGURED:
        return None
    named = _NAMED.get(kind, kind)
    try:
        if kind == "accrual":
            expected, how = _accrual(case, entry, terminal)
        else:
            expected, how = _WORKED_OUT[kind](case, entry)
        data = entry.data
        for name, figure in expected.items():
            recorded = _READ[name](data.get(name))
            if recorded != figure:
                return (
                    f"{named} records {name} {_shown(recorded)!r}, but "
                    f"{_HOW.get(name, how)} gives {_shown(figure)!r}"
                )
    except _Refused as refused:
        return f"the engine records no such entry: {refused.reason}"
    except (KeyError, TypeError, ValueError, ArithmeticError, ArrearsError) as err:
        return f"{named} whose figures cannot be worked out again ({type(err).__name__})"
    return None
