"""What undoing a payment takes back, worked out from a case and its chain.

The engine records a reversal with it (`arrears.operations.payments.reverse_payment`)
and `verify` checks a recorded one against it (`arrears.workflow`): one reading of
the chain for both, kept below them both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from .case import Aging, Balance, Case, overdue_sum, youngest
from .events import apply_entry
from .journal import JournalEntry
from .money import ALLOCATION_ORDER
from .plans import PlanStatus, PromiseStatus

__all__ = [
    "CAUSED_WITH",
    "CLOSED_BY_PAYMENT",
    "AgedSpell",
    "Route",
    "Spell",
    "aging_after",
    "aging_data",
    "caused_at_once",
    "comes_with_payment",
    "due_date_without",
    "fell_due",
    "reopened_aging",
    "returned_payments",
    "reversal",
    "stage_back",
]

#: Transitions a payment may cause at once, which its reversal re-opens.
CLOSED_BY_PAYMENT: Final = frozenset({"cure", "promise_kept", "plan_completed"})
#: Entries a payment may cause at once besides those transitions (and their refusals).
CAUSED_WITH: Final = frozenset({"promise_resolved", "plan_resolved", "credit_applied"})

#: Where the workflow's *trigger* leads from *stage* (``None``: it has no such edge):
#: `arrears.workflow.Workflow.leads_to`.
Route = Callable[[str, str], "str | None"]


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


def reversal(
    case: Case,
    history: Sequence[JournalEntry],
    payment: JournalEntry,
    *,
    route: Route | None = None,
    legacy: bool = False,
) -> dict[str, Any]:
    """What undoing *payment* restores, computed from the case and its chain.

    The data of its ``payment_reversed`` entry: the components owed again, the credit
    taken back, the promise and plan as they stand after it, the stage it moves the
    case to (``stage``, when it moves it) and the first missed due date
    (``due_date``, `due_date_without`).  *route* says where the workflow's triggers
    lead (`arrears.workflow.Workflow.leads_to`): a promise kept whose cure no longer
    stands takes the case where ``promise_kept`` leads.  With *legacy*, the rules of
    the engines that wrote no ``due_date``, by which `verify` judges their entries:
    no due date, and a close stands while the promise or plan it kept or completed does.
    """
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
        owing = owed > case.balance.credit - taken
        stage = _close_lost(case, history, out, payment, owing, route, legacy)
    if stage is not None:
        out["stage"] = stage
    if case.aging is not None:
        owed = case.arrears.amount + sum(restored.values(), Decimal(0))
        aging = aging_after(case, history, owed)
        out["aging"] = aging_data(aging)
        out["due_date"] = (aging[0][0] if aging else case.due_date).isoformat()
    elif not legacy:
        out["due_date"] = due_date_without(case, history, payment).isoformat()
    return out


def fell_due(history: Iterable[JournalEntry]) -> list[tuple[date, Decimal]]:
    """Everything that fell due on a case that keeps its aging, by date: the opening's
    aging, each instalment and each accrual's charges (`arrears.events`)."""
    out: list[tuple[date, Decimal]] = []
    for entry in history:
        kind, data = entry.kind, entry.data
        if kind == "opened":
            recorded = json.loads(data["case"]).get("aging") or ()
            out.extend((date.fromisoformat(due), Decimal(amount)) for due, amount in recorded)
        elif kind == "instalment_due":
            out.append((date.fromisoformat(data["due"]), Decimal(data["amount"])))
        elif kind == "accrual":
            charged = Decimal(data["penalty"]) + Decimal(data["fee"])
            out.append((date.fromisoformat(data["through"]), charged))
    return out


def aging_after(case: Case, history: Sequence[JournalEntry], owed: Decimal) -> Aging:
    """The aging of *case* (one that keeps it) once it owes *owed* again: the last *owed*
    of what fell due (`fell_due`, `arrears.case.youngest`), so what a reversal makes owed
    again goes back on the due dates paid last, as if that money had never come."""
    return youngest(fell_due(history), owed)


def reopened_aging(
    case: Case, history: Sequence[JournalEntry], restored: Mapping[str, str]
) -> list[list[str]]:
    """The aging an ``agreement_reopened`` entry records on *case* (one that keeps it):
    the waiver owed again (*restored*, by component) back on the dates paid last."""
    owed = case.arrears.amount + sum((Decimal(v) for v in restored.values()), Decimal(0))
    return aging_data(aging_after(case, history, owed))


def aging_data(aging: Aging) -> list[list[str]]:
    """*aging* as an entry records it: ``[[ISO date, amount], ...]``."""
    return [[due.isoformat(), str(amount)] for due, amount in aging]


def due_date_without(case: Case, history: Sequence[JournalEntry], payment: JournalEntry) -> date:
    """The case's first missed due date once *payment* (one of *history*) is undone.

    A case's due date moves only when an instalment falls due while nothing is
    overdue (`arrears.events`): the arrears spell starts again from it.  A payment
    returned never paid anything, so it never ended a spell: the chain is folded
    again (through `arrears.events.apply_entry`, as `replay` folds it) with a
    `Spell` that counts *payment*, and the payments undone by reversals that
    recorded a due date, as unpaid until they were undone.  Without such payments
    this is the due date the case has; with them, the one it would have had had
    they never been made.  A reversal an older engine wrote (no ``due_date``)
    left the due date as it was, and is read so.
    """
    returned = {payment.seq, *returned_payments(history)}
    first = min(returned)
    if not any(entry.kind == "instalment_due" for entry in history[first + 1 :]):
        return case.due_date  # no instalment fell due since: none moved it
    folded = Case.model_validate_json(history[0].data["case"])
    spell = Spell(folded.due_date, returned)
    for entry in history:
        spell.step(entry.kind, entry.seq, entry.data, folded.balance)
        apply_entry(folded, entry.kind, entry.at, entry.data)
    return spell.due


def returned_payments(history: Iterable[JournalEntry]) -> set[int]:
    """The seqs of the payments in *history* undone by a reversal that recorded a due
    date (those an older engine reversed left it as it was)."""
    return {
        entry.data["payment_seq"]
        for entry in history
        if entry.kind == "payment_reversed" and "due_date" in entry.data
    }


class Spell:
    """The first missed due date as a chain is folded, the payments *returned* (by seq)
    counted as unpaid from when they were recorded until their reversal.

    Call `step` with each entry, in order, and the case's balance before it; `due` is
    the due date after it.  An instalment falling due moves it only when nothing is
    overdue beyond the credit even with those payments unpaid.
    """

    __slots__ = ("_amounts", "_returned", "_unpaid", "due")

    def __init__(self, due: date, returned: Collection[int]) -> None:
        self.due = due
        self._returned = returned
        self._amounts: dict[int, Decimal] = {}
        self._unpaid = Decimal(0)  # what the returned payments had paid, owed again

    def step(self, kind: str, seq: int, data: Mapping[str, Any], before: Balance) -> None:
        """Fold one entry (its *kind*, *seq* and *data*), the balance standing *before* it."""
        if kind == "instalment_due":
            unpaid = self._unpaid
            owing = before.has_arrears or (
                unpaid > 0 and overdue_sum(before) - before.credit + unpaid > 0
            )
            if not owing:
                self.due = date.fromisoformat(data["due"])
        elif kind == "payment" and seq in self._returned:
            amount = Decimal(data["amount"])
            self._amounts[seq] = amount
            self._unpaid += amount
        elif kind == "payment_reversed":
            self._unpaid -= self._amounts.pop(data["payment_seq"], Decimal(0))


class AgedSpell:
    """The first missed due date of a case that keeps its aging as its chain is folded,
    the payments *returned* (by seq, with what their reversals restored) counted as
    unpaid from when they were recorded until their reversal.

    Call `step` with each entry, in order, and the case as it stands after it; `due`
    is the due date after it: the case's own while no returned payment is unpaid, else
    the oldest of the last of what fell due that the case owes with them unpaid
    (`aging_after`), as the reversal will record it.
    """

    __slots__ = ("_fell", "_restored", "_unpaid", "due")

    def __init__(self, case: Case, restored: Mapping[int, Decimal]) -> None:
        self.due = case.due_date
        self._restored = restored
        self._fell: list[tuple[date, Decimal]] = list(case.aging or ())
        self._unpaid = Decimal(0)

    def step(self, kind: str, seq: int, data: Mapping[str, Any], after: Case) -> None:
        """Fold one entry (its *kind*, *seq* and *data*), the case standing *after* it."""
        if kind == "instalment_due":
            self._fell.append((date.fromisoformat(data["due"]), Decimal(data["amount"])))
        elif kind == "accrual":
            charged = Decimal(data["penalty"]) + Decimal(data["fee"])
            self._fell.append((date.fromisoformat(data["through"]), charged))
        elif kind == "payment" and seq in self._restored:
            self._unpaid += self._restored[seq]
        elif kind == "payment_reversed" and data["payment_seq"] in self._restored:
            self._unpaid -= self._restored[data["payment_seq"]]
        if not self._unpaid:
            self.due = after.due_date
            return
        aging = youngest(self._fell, overdue_sum(after.balance) + self._unpaid)
        if aging:
            self.due = aging[0][0]

    @staticmethod
    def returned(history: Iterable[JournalEntry]) -> dict[int, Decimal]:
        """What each reversal in *history* made owed again, by the seq of its payment."""
        return {
            entry.data["payment_seq"]: sum(
                (Decimal(value) for value in entry.data["restored"].values()), Decimal(0)
            )
            for entry in history
            if entry.kind == "payment_reversed"
        }


def _close_lost(
    case: Case,
    history: Sequence[JournalEntry],
    out: Mapping[str, Any],
    payment: JournalEntry,
    owing: bool,
    route: Route | None,
    legacy: bool,
) -> dict[str, str] | None:
    """Where the case goes back to when another entry than the payment undone closed it
    (a later payment, an earlier one, a waiver) and that close no longer stands.

    The close is the last group of transitions in the chain (`stage_back`): those one
    entry caused at once, the case standing where they took it.  Each stands or falls
    on its own condition: a ``cure`` on the case owing nothing beyond its credit after
    the reversal (*owing*: it does), ``promise_kept`` on the promise staying kept, and
    ``plan_completed`` on the plan staying completed (this reversal re-opens it, or
    not: *out*) and, as its guard asks, nothing owed beyond the credit.  From the first
    that falls, the case goes back to where it started; when all stand, or the last
    transition is not such a close, it stays.  One exception: a ``cure`` out of
    ``promise`` by the payment that kept the promise, which stays kept, takes the case
    where ``promise_kept`` leads from there (*route*), as that payment would have had
    it left arrears; when the graph does not say where (guarded edges to different
    stages: *route* gives ``None``), back to ``promise``.  With *legacy*, a completed
    plan stands whatever is owed and a cure goes back to ``promise``.
    """
    cause = _last_close(history)
    if cause is None or cause.seq == payment.seq:
        return None  # no close to undo, or the payment's own (`stage_back` judged it)
    later = history[cause.seq + 1 :]
    caused = caused_at_once(later, cause.at)
    promise_reopened = _reopens(case.promise, out.get("promise"), PromiseStatus.KEPT)
    plan_reopened = _reopens(case.plan, out.get("plan"), PlanStatus.COMPLETED)
    reopened = {
        "promise_kept": promise_reopened,
        "plan_completed": plan_reopened or (owing and not legacy),
        "cure": owing,
    }
    for transition in caused:
        if reopened.get(transition.data["trigger"], False):
            back = stage_back(case.stage, later, cause.at, transition)
            if back is None or legacy or transition.data["trigger"] != "cure":
                return back
            if back["to"] == "promise" and not promise_reopened and _kept_by(later, cause):
                kept = route("promise_kept", "promise") if route is not None else None
                if kept is not None and kept != back["from"]:
                    return {"from": back["from"], "to": kept}
            return back
    return None


def _kept_by(later: Sequence[JournalEntry], cause: JournalEntry) -> bool:
    """Whether *cause* kept a promise at once: a ``promise_resolved`` kept among what
    it caused (*later*: the entries after it)."""
    for entry in later:
        if entry.at != cause.at or not comes_with_payment(entry):
            return False
        if entry.kind == "promise_resolved" and entry.data["status"] == str(PromiseStatus.KEPT):
            return True
    return False


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
