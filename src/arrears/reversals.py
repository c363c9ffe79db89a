"""What undoing a payment takes back, worked out from a case and its chain.

The engine records a reversal with it (`arrears.operations.payments.reverse_payment`)
and `verify` checks a recorded one against it (`arrears.workflow`): one reading of
the chain for both, kept below them both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from .case import Case
from .journal import JournalEntry
from .money import ALLOCATION_ORDER
from .plans import PlanStatus, PromiseStatus

__all__ = [
    "CAUSED_WITH",
    "CLOSED_BY_PAYMENT",
    "caused_at_once",
    "comes_with_payment",
    "reversal",
    "stage_back",
]

#: Transitions a payment may cause at once, which its reversal re-opens.
CLOSED_BY_PAYMENT: Final = frozenset({"cure", "promise_kept", "plan_completed"})
#: Entries a payment may cause at once besides those transitions (and their refusals).
CAUSED_WITH: Final = frozenset({"promise_resolved", "plan_resolved", "credit_applied"})


def caused_at_once(later: Sequence[JournalEntry], at: datetime) -> list[JournalEntry]:
    """The transitions a payment (or the promise kept, the plan completed it caused)
    led to at once: those of `CLOSED_BY_PAYMENT` among the entries right after it
    (*later*, from the next one), recorded at its moment *at*."""
    caused: list[JournalEntry] = []
    for entry in later:
        if entry.at != at or not comes_with_payment(entry):
            break
        if entry.kind == "transition":
            caused.append(entry)
    return caused


def comes_with_payment(entry: JournalEntry) -> bool:
    """Whether *entry* may be part of what a payment (or a waiver) caused at once: a
    transition or refusal of `CLOSED_BY_PAYMENT`, or an entry of `CAUSED_WITH`."""
    if entry.kind in ("transition", "refusal"):
        return entry.data.get("trigger") in CLOSED_BY_PAYMENT
    return entry.kind in CAUSED_WITH


def stage_back(
    stage: str,
    later: Sequence[JournalEntry],
    at: datetime,
    since: JournalEntry | None = None,
) -> dict[str, str] | None:
    """Where undoing a payment (or a promise kept, a plan completed) recorded at *at* takes
    a case standing in *stage*: ``{"from", "to"}`` back to the stage before the transitions
    it caused at once (`caused_at_once`; from *since*, one of them, when given), or
    ``None`` when it caused none, or the case has moved by another transition since."""
    caused = caused_at_once(later, at)
    if since is not None:
        caused = [entry for entry in caused if entry.seq >= since.seq]
    if not caused:
        return None
    last = caused[-1]
    moved_since = any(e.kind == "transition" and e.seq > last.seq for e in later)
    before = caused[0].data["source"]
    if moved_since or stage != last.data["dest"] or stage == before:
        return None
    return {"from": stage, "to": before}


def reversal(case: Case, history: Sequence[JournalEntry], payment: JournalEntry) -> dict[str, Any]:
    """What undoing *payment* restores, computed from the case and its chain."""
    data = payment.data
    restored = {name: Decimal(value) for name, value in data["applied"].items()}
    left = Decimal(data["credit"])
    taken = min(left, case.balance.credit)
    spent = left - taken
    later = history[payment.seq + 1 :]
    # Credit the payment left that later charges used: owed again where it paid.
    for entry in reversed(later):
        if not spent:
            break
        if entry.kind == "credit_applied":
            for name, value in entry.data["applied"].items():
                part = min(Decimal(value), spent)
                restored[name] = restored.get(name, Decimal(0)) + part
                spent -= part
    if spent:
        restored["principal"] = restored.get("principal", Decimal(0)) + spent
    out: dict[str, Any] = {
        "reference": data["reference"],
        "payment_seq": payment.seq,
        "amount": data["amount"],
        "credit": str(taken),
    }
    promise = case.promise
    paid = _paid_without(promise, data.get("promise"), history, payment, "promise_made", "promise")
    if promise is not None and paid is not None:
        status = promise.status
        if status == PromiseStatus.KEPT and paid < promise.total.amount:
            status = PromiseStatus.OPEN
        out["promise"] = {"id": promise.id, "paid": str(paid), "status": str(status)}
    plan = case.plan
    paid = _paid_without(plan, data.get("plan"), history, payment, "plan_started", "plan")
    if plan is not None and paid is not None:
        plan_status = plan.status
        if plan_status == PlanStatus.COMPLETED and paid < plan.total.amount:
            plan_status = PlanStatus.ACTIVE
            for entry in later:
                if entry.kind == "plan_resolved" and entry.data["plan_id"] == plan.id:
                    for name, value in entry.data["waived"].items():
                        restored[name] = restored.get(name, Decimal(0)) + Decimal(value)
        out["plan"] = {"id": plan.id, "paid": str(paid), "status": str(plan_status)}
    # The credit the case keeps (what other payments left) pays what is owed again at
    # once, as a payment would: a debtor is never asked for arrears their credit covers.
    spare = case.balance.credit - taken
    if spare > 0 and restored:
        for name in (*ALLOCATION_ORDER, *(n for n in restored if n not in ALLOCATION_ORDER)):
            part = min(restored.get(name, Decimal(0)), spare)
            if part > 0:
                restored[name] -= part
                spare -= part
                taken += part
        restored = {name: value for name, value in restored.items() if value}
        out["credit"] = str(taken)
    out["restored"] = {name: str(value) for name, value in restored.items()}
    stage = stage_back(case.stage, later, payment.at)
    if stage is None:
        owed = case.arrears.amount + sum(restored.values(), Decimal(0))
        stage = _close_lost(case, history, out, payment, owed > case.balance.credit - taken)
    if stage is not None:
        out["stage"] = stage
    return out


def _close_lost(
    case: Case,
    history: Sequence[JournalEntry],
    out: Mapping[str, Any],
    payment: JournalEntry,
    owing: bool,
) -> dict[str, str] | None:
    """Where the case goes back to when another entry than the payment undone closed it
    (a later payment, an earlier one, a waiver) and that close no longer stands.

    The close is the last group of transitions in the chain (`stage_back`): those one
    entry caused at once, the case standing where they took it.  Each stands or falls
    on its own condition: a ``cure`` on the case owing nothing beyond its credit after
    the reversal (*owing*: it does), ``promise_kept`` on the promise staying kept, and
    ``plan_completed`` on the plan staying completed (this reversal re-opens them, or
    not: *out*).  From the first that falls, the case goes back to where it started;
    when all stand, or the last transition is not such a close, it stays.
    """
    cause = _last_close(history)
    if cause is None or cause.seq == payment.seq:
        return None  # no close to undo, or the payment's own (`stage_back` judged it)
    caused = caused_at_once(history[cause.seq + 1 :], cause.at)
    reopened = {
        "promise_kept": _reopens(case.promise, out.get("promise"), PromiseStatus.KEPT),
        "plan_completed": _reopens(case.plan, out.get("plan"), PlanStatus.COMPLETED),
        "cure": owing,
    }
    for transition in caused:
        if reopened.get(transition.data["trigger"], False):
            return stage_back(case.stage, history[cause.seq + 1 :], cause.at, transition)
    return None


def _last_close(history: Sequence[JournalEntry]) -> JournalEntry | None:
    """The entry whose transitions at once (`caused_at_once`) were the chain's last ones:
    the entry before the last run of entries at one moment that are those transitions
    and the entries they come with; ``None`` when the last transition is not one."""
    index = len(history) - 1
    while index >= 0 and history[index].kind != "transition":
        index -= 1
    if index < 0 or history[index].data.get("trigger") not in CLOSED_BY_PAYMENT:
        return None
    at = history[index].at
    while index > 0 and history[index - 1].at == at and comes_with_payment(history[index - 1]):
        index -= 1
    return history[index - 1] if index > 0 and history[index - 1].at == at else None


def _reopens(held: Any, after: Mapping[str, Any] | None, closed: str) -> bool:
    """Whether the reversal re-opens the promise or plan *held* (closed with *closed*)."""
    return (
        held is not None
        and after is not None
        and held.status == closed
        and after["status"] != str(closed)
    )


def _paid_without(
    held: Any,
    share: Mapping[str, Any] | None,
    history: Sequence[JournalEntry],
    payment: JournalEntry,
    kind: str,
    key: str,
) -> Decimal | None:
    """What the promise or plan *held* has been paid without *payment*'s *share* of it;
    ``None`` when the payment did not count towards it (its share names another, or it
    came before the entry *kind* that recorded it: `_agreed`)."""
    if (
        held is None
        or share is None
        or share["id"] != held.id
        or payment.seq <= _agreed(history, kind, key, held.id)
    ):
        return None
    paid: Decimal = held.paid - Decimal(share["counted"])
    return paid


def _agreed(history: Sequence[JournalEntry], kind: str, key: str, agreement_id: str) -> int:
    """The seq of the entry that recorded the case's current promise or plan (*kind*,
    its JSON under *key*): a payment before it counted towards an earlier one, even
    under the same id (a promise over several loans is named on the case it was
    agreed on, so another case may hold an earlier promise of that name)."""
    for entry in reversed(history):
        if entry.kind == kind and entry.data[key]["id"] == agreement_id:
            return entry.seq
    return -1
