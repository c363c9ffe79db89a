"""Agreements over several loans of one debtor: how a promise or a plan is shared over
them, and the whole judged from its shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from ..case import Case
from ..errors import CurrencyMismatch, InvalidInput
from ..journal import JournalEntry
from ..logs import get_logger
from ..money import Money, split
from ..plans import Instalment, PlanStatus, Promise, PromiseStatus, RepaymentPlan
from ..policy.allocation import AllocationRequest, allocation_function, ordered, shares_of
from ..recorder import Recorder, detached
from ..reversals import reopened_aging, stage_back
from ._common import build
from .charges import owed_now
from .stages import check_live

_log = get_logger("arrears")

#: For a promise and a plan: the status a payment may close it with, and the one a
#: reversal of that payment opens it again with.
_CLOSED_OPEN: Final = (
    ("promise", PromiseStatus.KEPT, PromiseStatus.OPEN),
    ("plan", PlanStatus.COMPLETED, PlanStatus.ACTIVE),
)


def shared_agreements(
    rec: Recorder, agreement: Promise | RepaymentPlan, kind: str
) -> list[tuple[str, Any]]:
    """The share of *agreement* (a ``promise`` or ``plan`` over several loans) each covered
    case still holds open, by case id, in the order of its ``cases``."""
    found: list[tuple[str, Any]] = []
    for case_id in agreement.cases:
        held = getattr(rec.store.get(case_id), kind)
        if held is not None and held.id == agreement.id:
            is_open = held.is_open if kind == "promise" else held.is_active
            if is_open:
                found.append((case_id, held))
    return found


def joint(agreement: Any, shares: Sequence[Any]) -> Any:
    """The whole of a promise or plan over several loans from its *shares*: instalments
    summed by date, what was paid towards each summed."""
    by_date: dict[date, Decimal] = {}
    for share in shares:
        for part in share.instalments:
            by_date[part.due] = by_date.get(part.due, Decimal(0)) + part.amount.amount
    currency = agreement.currency
    return agreement.model_copy(
        update={
            "instalments": tuple(
                Instalment(due=due, amount=Money(amount, currency))
                for due, amount in sorted(by_date.items())
            ),
            "paid": sum((share.paid for share in shares), Decimal(0)),
        }
    )


def covered(rec: Recorder, case: Case, covers: object, currency: str) -> list[Case]:
    """*case* and the cases *covers* names: other live cases of its debtor, in *currency*.

    Raises:
        InvalidInput: *covers* is not a list of such ids, each once (``covers[i]``),
            or names none.
        CurrencyMismatch: one is in another currency.
    """
    if isinstance(covers, str) or not isinstance(covers, Iterable):
        raise InvalidInput("covers", repr(covers), "the ids of the debtor's other cases")
    mine = set(rec.store.cases_of(case.debtor.id))
    cases = [case]
    for position, other in enumerate(covers):
        if not isinstance(other, str) or other not in mine or other in (c.id for c in cases):
            raise InvalidInput(
                f"covers[{position}]", repr(other), "another case of the same debtor, once"
            )
        found = rec.store.get(other)
        check_live(rec, found)
        if found.currency != currency:
            raise CurrencyMismatch(f"covers[{position}]", currency, found.currency)
        cases.append(found)
    if len(cases) == 1:  # an agreement over its own case alone is made without covers
        raise InvalidInput("covers", "[]", "at least one other case of the same debtor")
    return cases


def spread(
    rec: Recorder,
    cases: Sequence[Case],
    instalments: Sequence[Instalment],
    left: Mapping[str, Money],
    moment: datetime,
) -> dict[str, tuple[Instalment, ...]]:
    """The part of each instalment each case pays, by case id (*cases*' order).

    Each instalment pays the cases in the policy's ``allocation`` order
    (`arrears.policy.allocation`), each up to what is *left* of its share.

    Raises:
        InvalidInput: a lender's allocation gave a case more than it has left,
            or a case has no part of any instalment (``covers``).
    """
    left = dict(left)
    chosen = allocation_function(rec.policy.allocation if rec.policy is not None else "oldest_due")
    in_order = tuple(map(detached, ordered(cases)))
    schedules: dict[str, list[Instalment]] = {case.id: [] for case in cases}
    for part in instalments:
        request = AllocationRequest(part.amount, in_order, dict(left), moment)
        for case_id, share in shares_of(chosen, request).items():
            if share > left[case_id]:
                raise InvalidInput(
                    f"allocation[{case_id}]",
                    str(share),
                    f"at most the {left[case_id]} left of the case's share",
                )
            left[case_id] = left[case_id] - share
            schedules[case_id].append(Instalment(due=part.due, amount=share))
    for case_id, parts in schedules.items():
        if not parts:
            raise InvalidInput("covers", case_id, "a case the agreement pays something of")
    return {case_id: tuple(parts) for case_id, parts in schedules.items()}


def plan_shares(
    rec: Recorder, case: Case, plan: RepaymentPlan, covers: Iterable[str], moment: datetime
) -> dict[str, RepaymentPlan]:
    """Each covered case's share of *plan*, by case id, *case* first.

    Each case's share covers its arrears now (with the charges due): a
    reduction's waived part is shared in proportion to them (`split`), and
    the instalments are spread over the cases (`spread`).

    Raises:
        InvalidInput: as `covered` and `spread`; the plan does not add up to
            what the cases owe together.
    """
    cases = covered(rec, case, covers, plan.currency)
    ids = [item.id for item in cases]
    owed = {item.id: owed_now(rec, item, moment) for item in cases}
    together = sum((money.amount for money in owed.values()), Decimal(0))
    if plan.total.amount + plan.waived != together:
        raise InvalidInput(
            "plan",
            f"{plan.total} + {plan.waived_money} waived",
            f"instalments plus the waived part equal to the arrears of the cases together, "
            f"{Money(together, plan.currency)}",
        )
    waived = dict.fromkeys(ids, Money.zero(plan.currency))
    if plan.waived:
        parts = split(plan.waived_money, [owed[case_id].amount for case_id in ids])
        waived = dict(zip(ids, parts, strict=True))
    left = {case_id: owed[case_id] - waived[case_id] for case_id in ids}
    schedules = spread(rec, cases, plan.instalments, left, moment)
    base = plan.model_dump(exclude={"cases"})
    shares: dict[str, RepaymentPlan] = {}
    for index, case_id in enumerate(ids):
        update: dict[str, Any] = {
            "instalments": schedules[case_id],
            "cases": tuple(ids),
            "waived": waived[case_id].amount,
        }
        if index:  # the documents are those of the case the plan is agreed on
            update["required_documents"] = ()
        shares[case_id] = build(RepaymentPlan, "plan", **{**base, **update})
    return shares


def promise_shares(
    rec: Recorder, case: Case, promise: Promise, covers: Iterable[str], moment: datetime
) -> dict[str, Promise]:
    """Each covered case's share of *promise*, by case id, *case* first.

    The amount is shared over the cases as a payment to the debtor would be
    (the policy's ``allocation``, each case up to what it owes, due or not);
    a case it leaves nothing to is not covered.

    Raises:
        InvalidInput: as `covered`; more than the cases owe together.
    """
    cases = covered(rec, case, covers, promise.currency)
    owed = {item.id: item.balance.outstanding for item in cases}
    together = Money(sum((money.amount for money in owed.values()), Decimal(0)), case.currency)
    if promise.total > together:
        raise InvalidInput(
            "amount", str(promise.total), f"at most the {together} the cases owe together"
        )
    chosen = allocation_function(rec.policy.allocation if rec.policy is not None else "oldest_due")
    request = AllocationRequest(promise.total, tuple(map(detached, ordered(cases))), owed, moment)
    totals = shares_of(chosen, request)
    paying = [item for item in cases if item.id in totals]
    schedules = spread(rec, paying, promise.instalments, totals, moment)
    ids = tuple(item.id for item in paying)
    return {
        case_id: promise.model_copy(update={"instalments": parts, "cases": ids})
        for case_id, parts in schedules.items()
    }


def reopened_elsewhere(
    rec: Recorder, case: Case, reversal: Mapping[str, Any], moment: datetime
) -> list[tuple[str, str]]:
    """The other loans a reversal on *case* re-opens a promise or a plan on, as
    ``(case id, "promise" or "plan")``: the promise over several loans it keeps, or
    the plan it completes, is open again on *case* (*reversal*: the data of its
    ``payment_reversed`` entry, not yet recorded), so it is on every loan it covers
    that holds it kept or completed.

    Raises:
        InvalidInput: (``at``) *moment* is before the last entry of such a loan.
    """
    found: list[tuple[str, str]] = []
    for kind, closed, opened in _CLOSED_OPEN:
        held = getattr(case, kind)
        after = reversal.get(kind)
        if held is None or not held.cases or held.status != closed:
            continue
        if after is None or after["status"] != str(opened):
            continue
        for other in held.cases:
            if other == case.id:
                continue
            share = getattr(rec.store.get(other), kind)
            if (
                share is not None
                and share.id == held.id
                and share.cases == held.cases
                and share.status == closed
                and _resolution(rec, other, kind, share.id, str(closed)) is not None
            ):
                rec.moment(other, moment)  # not before its last entry
                found.append((other, kind))
    return found


def _resolution(
    rec: Recorder, case_id: str, kind: str, agreement_id: str, status: str
) -> JournalEntry | None:
    """The last entry of the case that resolved its promise or plan (*kind*) with *status*
    (a case opened with it kept or completed has none: it is not re-opened)."""
    for entry in reversed(rec.store.entries(case_id)):
        if (
            entry.kind == f"{kind}_resolved"
            and entry.data[f"{kind}_id"] == agreement_id
            and entry.data["status"] == status
        ):
            return entry
    return None


def reopen(
    rec: Recorder,
    case_id: str,
    kind: str,
    moment: datetime,
    because: Mapping[str, Any],
) -> None:
    """Record the promise or plan (*kind*) of the case open again, as a reversed payment
    on another of its loans left it (`reopened_elsewhere`): a completed reduction's
    waiver owed again, and the stage its resolution moved the case from, when no other
    transition has happened since.  *because* names the reversal (``case_id``,
    ``reference``, ``actor``)."""
    case = rec.store.get(case_id)
    held = getattr(case, kind)
    resolved = _resolution(rec, case_id, kind, held.id, str(held.status))
    assert resolved is not None  # `reopened_elsewhere` found it
    entries = rec.store.entries(case_id)
    data: dict[str, Any] = {
        "agreement": kind,
        "id": held.id,
        "resolved_seq": resolved.seq,
        **because,
        "restored": dict(resolved.data.get("waived", {})),
    }
    stage = stage_back(case.stage, entries[resolved.seq + 1 :], resolved.at)
    if stage is not None:
        data["stage"] = stage
    if case.aging is not None and data["restored"]:
        data["aging"] = reopened_aging(case, entries, data["restored"])
    rec.record(case, moment, "agreement_reopened", data)
    _log.bind().info("agreement_reopened", case_id=case_id, agreement=kind)
