"""Promises and plans: made, counted, kept, broken, completed; documents a plan requires."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from ..case import Case, mask
from ..errors import (
    CurrencyMismatch,
    InvalidInput,
)
from ..guards import SYSTEM, Actor, GuardContext
from ..journal import JournalEntry
from ..limits import LATEST_DATE
from ..logs import get_logger
from ..money import Money, allocate
from ..plans import Instalment, PlanStatus, Promise, PromiseStatus, RepaymentPlan
from ..recorder import Recorder
from ._common import build, case_money, check_actor
from .charges import accrue_due, owed_now
from .joint import joint, plan_shares, promise_shares, shared_agreements
from .stages import check_live, fire, fire_quietly, react, record_then_fire

_log = get_logger("arrears")

_DOCUMENT: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
_REFERENCE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\Z")


def record_promise(
    rec: Recorder,
    case_id: str,
    amount: Money,
    due: date,
    *,
    instalments: Sequence[Instalment | tuple[date, Money]] | None = None,
    grace_days: int = 0,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
    covers: Iterable[str] | None = None,
) -> Promise:
    """Record a promise to pay *amount* by *due*, and fire ``promise`` where the stage allows.

    With *covers*, one promise over several loans: each records its share.

    `arrears.engine.Engine.record_promise`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    check_actor(actor)
    check_live(rec, case)
    money = case_money(case, amount, "amount")
    if covers is None and money > case.balance.outstanding:
        raise InvalidInput("amount", str(money), f"at most the {case.balance.outstanding} owed")
    today = case.local_date(moment)
    if not isinstance(due, date) or isinstance(due, datetime) or not today <= due <= LATEST_DATE:
        shown = due.isoformat() if isinstance(due, date) else due
        raise InvalidInput(
            "due", shown, f"a calendar date from {today.isoformat()} to {LATEST_DATE.isoformat()}"
        )
    parts = instalment_schedule(case, money, due, instalments, today)
    promise = build(
        Promise,
        "instalments",
        id=f"promise-{rec.store.head(case_id).seq + 1}",
        made_at=moment,
        instalments=parts,
        grace_days=checked_days(grace_days),
    )
    if covers is None:
        _make_promise(rec, case, promise, moment, actor)
        return promise
    shares = promise_shares(rec, case, promise, covers, moment)
    for other in shares:
        rec.moment(other, moment)  # not before any case's last entry
    for other, share in shares.items():
        _make_promise(rec, rec.store.get(other), share, moment, actor)
    return promise.model_copy(update={"cases": tuple(shares)})


def _make_promise(
    rec: Recorder, case: Case, promise: Promise, moment: datetime, actor: Actor
) -> None:
    """Record *promise* on *case*, and fire ``promise`` where the stage allows."""
    data: dict[str, Any] = {"promise": promise.model_dump(mode="json"), "actor": actor.id}
    if case.promise is not None and case.promise.is_open:
        data["supersedes"] = case.promise.id
    rec.record(case, moment, "promise_made", data)
    _log.bind().info("promise_made", case_id=case.id, promise_id=promise.id)
    if "promise" in rec.workflow.triggers and case.stage in rec.workflow.sources_of("promise"):
        fire_quietly(rec, case, "promise", moment, "promise to pay recorded", actor)
    react(rec, case.id, "promise", moment)


def review_promises(rec: Recorder, case_id: str, *, at: datetime | None = None) -> Promise | None:
    """Judge the case's open promise at *at*: kept, partly kept, broken, or still open.

    `arrears.engine.Engine.review_promises`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    promise = case.promise
    if promise is None or not promise.is_open:
        return promise
    if promise_kept(rec, case, moment, reviewed=True):
        return case.promise
    today = case.local_date(moment)
    if not promise.cases:
        short = promise.first_short(today)
        if short is not None:
            _promise_short(rec, case, promise, moment, short, promise.paid)
        return case.promise
    # A promise over several loans is judged whole, and resolved on each at once.
    sharing = shared_agreements(rec, promise, "promise")
    whole = joint(promise, [share for _, share in sharing])
    short = whole.first_short(today)
    if short is not None:
        for other, share in sharing:
            _promise_short(rec, rec.store.get(other), share, moment, short, whole.paid)
    return case.promise


def record_document(
    rec: Recorder,
    case_id: str,
    kind: str,
    *,
    reference: str | None = None,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> JournalEntry:
    """Record that a document of *kind* (e.g. ``proof_of_income``) was received.

    `arrears.engine.Engine.record_document`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    if not isinstance(kind, str) or not _DOCUMENT.match(kind):
        raise InvalidInput("kind", kind, "a document kind such as 'proof_of_income'")
    data: dict[str, Any] = {"document": kind, "actor": actor.id}
    if reference is not None:
        if not isinstance(reference, str) or not _REFERENCE.match(reference):
            raise InvalidInput("reference", mask(str(reference)), "a document id")
        data["reference"] = reference
    entry = rec.record(case, moment, "document", data)
    _log.bind().info("document", case_id=case_id, document=kind)
    return entry


def start_plan(
    rec: Recorder,
    case_id: str,
    plan: RepaymentPlan,
    *,
    actor: Actor,
    approver: Actor | None = None,
    at: datetime | None = None,
    covers: Iterable[str] | None = None,
) -> RepaymentPlan:
    """Start a repayment plan and fire ``offer_plan``; with *covers*, over several loans.

    `arrears.engine.Engine.start_plan`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    check_actor(actor)
    if not isinstance(plan, RepaymentPlan):
        raise InvalidInput("plan", plan, "a RepaymentPlan")
    if plan.paid or plan.status != PlanStatus.ACTIVE or plan.late or plan.started_at or plan.cases:
        raise InvalidInput("plan", plan.id, "a new plan (nothing paid, not started)")
    if covers is None:
        _check_plan(rec, case, plan, moment, actor, approver)
        return _record_plan(rec, case_id, plan, moment, actor, approver)
    shares = plan_shares(rec, case, plan, covers, moment)
    for index, (other, share) in enumerate(shares.items()):  # every check before any record
        _check_plan(rec, rec.store.get(other), share, moment, actor, approver, documents=not index)
    for other, share in shares.items():
        _record_plan(rec, other, share, moment, actor, approver)
    return plan.model_copy(update={"started_at": moment, "cases": tuple(shares)})


def _check_plan(
    rec: Recorder,
    case: Case,
    plan: RepaymentPlan,
    moment: datetime,
    actor: Actor,
    approver: Actor | None,
    *,
    documents: bool = True,
) -> None:
    """Refuse a plan the case cannot start; a refused ``offer_plan`` is journaled, then raised."""
    case_id = case.id
    rec.moment(case_id, moment)
    if plan.currency != case.currency:
        raise CurrencyMismatch("plan", case.currency, plan.currency)
    if case.plan is not None and (case.plan.is_active or case.plan.id == plan.id):
        raise InvalidInput("plan", plan.id, f"no plan active or with the id {case.plan.id!r}")
    arrears = owed_now(rec, case, moment)
    covered = plan.total + plan.waived_money
    if covered != arrears:
        raise InvalidInput(
            "plan",
            f"{plan.total} + {plan.waived_money} waived",
            f"instalments plus the waived part equal to the arrears, {arrears}",
        )
    today = case.local_date(moment)
    if plan.instalments[0].due < today:
        raise InvalidInput(
            "plan", plan.instalments[0].due.isoformat(), f"a first date from {today} on"
        )
    if plan.instalments[-1].due > LATEST_DATE:
        raise InvalidInput(
            "plan", plan.instalments[-1].due.isoformat(), f"a last date by {LATEST_DATE}"
        )
    missing = [kind for kind in plan.documents if kind not in case.documents]
    if documents and missing:
        raise InvalidInput(
            "required_documents",
            missing,
            f"recorded (record_document) before a {plan.kind} plan starts",
        )
    ctx = GuardContext(
        moment, "offer_plan", actor, approver, history=lambda: rec.store.entries(case_id)
    )
    # Judged on the case as the plan will leave it: ``offer_plan`` asks for an active
    # plan (`active_plan`), which `_record_plan` records before it fires.
    running = case.model_copy(update={"plan": plan.model_copy(update={"started_at": moment})})
    if not rec.workflow.decide(running, ctx).allowed:
        fire(rec, case_id, "offer_plan", actor=actor, approver=approver, at=moment)


def _record_plan(
    rec: Recorder,
    case_id: str,
    plan: RepaymentPlan,
    moment: datetime,
    actor: Actor,
    approver: Actor | None,
) -> RepaymentPlan:
    """Record the charges due, the plan and ``offer_plan`` on a case `_check_plan` passed."""
    case = rec.store.get(case_id)
    accrue_due(rec, case, moment)
    started = plan.model_copy(update={"started_at": moment})
    data: dict[str, Any] = {"plan": started.model_dump(mode="json"), "actor": actor.id}
    if approver is not None:
        data["approver"] = approver.id
    if case.promise is not None and case.promise.is_open:
        data["supersedes"] = case.promise.id

    def write(case: Case) -> None:
        rec.record(case, moment, "plan_started", data)
        _log.bind().info("plan_started", case_id=case_id, plan_id=plan.id, kind=str(plan.kind))

    # The plan and `offer_plan` are stored together, or only the refusal.
    record_then_fire(
        rec,
        case_id,
        write,
        "offer_plan",
        moment,
        actor=actor,
        approver=approver,
        reason="plan started",
    )
    started_plan = rec.store.get(case_id).plan
    assert started_plan is not None
    return started_plan


def review_plan(rec: Recorder, case_id: str, *, at: datetime | None = None) -> RepaymentPlan | None:
    """Judge the case's active plan at *at*: instalments late, or the plan broken.

    `arrears.engine.Engine.review_plan`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    plan = case.plan
    if plan is not None and plan_ended_in_stage(rec, case):
        # Completed, yet the case stands in its stage owing again (a payment made before
        # the plan returned since): ``plan_completed`` takes it on, as it would have.
        fire_quietly(rec, case, "plan_completed", moment, "plan completed, arrears owed", SYSTEM)
        return rec.store.get(case_id).plan
    if plan is None or not plan.is_active:
        return plan
    # Paid in full yet active: the payments on two of its loans were recorded at once, each
    # before the other was stored, so neither saw the whole paid.
    if plan_completed(rec, case, moment):
        return rec.store.get(case_id).plan
    today = case.local_date(moment)
    if not plan.cases:
        short = plan.first_short(today)
        if short is not None:
            _plan_broken(rec, case, plan, moment, short)
        else:
            _late(rec, case, plan, plan, moment, today)
        return case.plan
    # A plan over several loans is judged whole, and late or broken on each at once.
    sharing = shared_agreements(rec, plan, "plan")
    whole = joint(plan, [share for _, share in sharing])
    short = whole.first_short(today)
    for other, share in sharing:
        if short is not None:
            _plan_broken(rec, rec.store.get(other), share, moment, short)
        else:
            _late(rec, rec.store.get(other), share, whole, moment, today)
    return rec.store.get(case_id).plan


def plan_ended_in_stage(rec: Recorder, case: Case) -> bool:
    """Whether *case* stands in ``repayment_plan`` with its plan completed.

    A reversal of a payment made before the plan leaves it there when the plan
    completed by a later payment stands (`arrears.reversals`): the case owes again.
    """
    plan = case.plan
    return (
        case.stage == "repayment_plan"
        and plan is not None
        and plan.status == PlanStatus.COMPLETED
        and "plan_completed" in rec.workflow.triggers
    )


def _late(
    rec: Recorder,
    case: Case,
    plan: RepaymentPlan,
    judged: RepaymentPlan,
    moment: datetime,
    today: date,
) -> None:
    """Record the instalments of *judged* (the case's *plan*, or the whole of a plan over
    several loans) unpaid after their date and not yet recorded late on *case*."""
    late = [
        index
        for index, part in enumerate(judged.instalments)
        if part.due < today
        and index not in plan.late
        and judged.paid < judged.due_through(index).amount
    ]
    if late:
        shortfall = judged.due_through(late[-1]) - judged.paid_money
        rec.record(
            case,
            rec.moment(case.id, moment),
            "plan_instalment_late",
            {"plan_id": plan.id, "instalments": late, "shortfall": str(shortfall.amount)},
        )
        _log.bind().info("plan_instalment_late", case_id=case.id, instalments=late)


def _plan_broken(
    rec: Recorder, case: Case, plan: RepaymentPlan, moment: datetime, short: tuple[int, Money]
) -> None:
    """Record the plan broken on *case* (*short*: the instalment and the shortfall)."""
    index, shortfall = short
    rec.record(
        case,
        rec.moment(case.id, moment),
        "plan_resolved",
        {
            "plan_id": plan.id,
            "status": str(PlanStatus.BROKEN),
            "paid": str(plan.paid),
            "shortfall": str(shortfall.amount),
            "instalment": index,
            "waived": {},
        },
    )
    _log.bind().info("plan_resolved", case_id=case.id, status="broken")
    if case.stage == "repayment_plan" and "plan_broken" in rec.workflow.triggers:
        fire_quietly(rec, case, "plan_broken", moment, "plan instalment missed", SYSTEM)


def instalment_schedule(
    case: Case,
    amount: Money,
    due: date,
    given: Sequence[Instalment | tuple[date, Money]] | None,
    today: date,
) -> tuple[Instalment, ...]:
    """The instalments of a promise: one on *due*, or the given ones checked against it."""
    if given is None:
        return (Instalment(due=due, amount=amount),)
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence) or not given:
        raise InvalidInput("instalments", type(given).__name__, "a sequence of instalments")
    parts: list[Instalment] = []
    for position, item in enumerate(given):
        if isinstance(item, Instalment):
            part = item
        elif isinstance(item, tuple) and len(item) == 2:
            part = build(Instalment, f"instalments[{position}]", due=item[0], amount=item[1])
        else:
            raise InvalidInput(
                f"instalments[{position}]", repr(item), "an Instalment or a (date, Money) pair"
            )
        case_money(case, part.amount, f"instalments[{position}]")
        if part.due < today:
            raise InvalidInput(
                f"instalments[{position}]", part.due.isoformat(), f"a date from {today} on"
            )
        parts.append(part)
    total = sum((part.amount.amount for part in parts), Decimal(0))
    if total != amount.amount or parts[-1].due != due:
        raise InvalidInput(
            "instalments",
            f"{total} {amount.currency} by {parts[-1].due.isoformat()}",
            f"instalments summing to {amount}, the last on {due.isoformat()}",
        )
    return tuple(parts)


def _promise_short(
    rec: Recorder,
    case: Case,
    promise: Promise,
    moment: datetime,
    short: tuple[int, Money],
    paid: Decimal,
) -> None:
    """Record *promise* partly kept (something *paid*) or broken on *case*; fire
    ``promise_broken``."""
    index, shortfall = short
    status = PromiseStatus.PARTLY_KEPT if paid else PromiseStatus.BROKEN
    rec.record(
        case,
        rec.moment(case.id, moment),
        "promise_resolved",
        {
            "promise_id": promise.id,
            "status": str(status),
            "paid": str(promise.paid),
            "shortfall": str(shortfall.amount),
            "instalment": index,
        },
    )
    _log.bind().info("promise_resolved", case_id=case.id, status=str(status))
    if case.stage == "promise" and "promise_broken" in rec.workflow.triggers:
        fire_quietly(rec, case, "promise_broken", moment, f"promise {status}", SYSTEM)


def promise_kept(rec: Recorder, case: Case, moment: datetime, *, reviewed: bool = False) -> bool:
    """Record the open promise as kept when the payments cover it or nothing is overdue.

    A promise over several loans is kept once that holds of every share, on each of them.
    *reviewed*: judged by a review, not after a payment (whose cure follows).
    """
    promise = case.promise
    if promise is None or not promise.is_open:
        return False
    if not promise.cases:
        if promise.paid < promise.total.amount and case.balance.has_arrears:
            return False
        _promise_done(rec, case, moment, reviewed)
        return True
    sharing = [
        (rec.store.get(other), share) for other, share in shared_agreements(rec, promise, "promise")
    ]
    if any(
        share.paid < share.total.amount and other.balance.has_arrears for other, share in sharing
    ):
        return False
    for other, _ in sharing:
        _promise_done(rec, other, moment, reviewed)
    return True


def _promise_done(rec: Recorder, case: Case, moment: datetime, reviewed: bool = False) -> None:
    """Record the case's open promise kept; fire ``promise_kept`` while arrears remain.

    With nothing overdue, a payment's cure takes the case out of collection; a
    review (*reviewed*) that finds nothing overdue fires ``cure`` itself, so no case
    stays in ``promise`` with its promise kept.
    """
    promise = case.promise
    assert promise is not None
    rec.record(
        case,
        rec.moment(case.id, moment),
        "promise_resolved",
        {
            "promise_id": promise.id,
            "status": str(PromiseStatus.KEPT),
            "paid": str(promise.paid),
        },
    )
    _log.bind().info("promise_resolved", case_id=case.id, status="kept")
    # With the arrears cleared the cure takes the case out of collection instead.
    if case.stage != "promise":
        return
    workflow = rec.workflow
    if case.balance.has_arrears:
        if "promise_kept" in workflow.triggers:
            fire_quietly(rec, case, "promise_kept", moment, "promise kept", SYSTEM)
    elif reviewed and "cure" in workflow.triggers and "promise" in workflow.sources_of("cure"):
        fire_quietly(rec, case, "cure", moment, "promise kept, nothing overdue", SYSTEM)


def plan_completed(rec: Recorder, case: Case, moment: datetime) -> bool:
    """Record the active plan as completed once it is paid; apply a reduction's waiver.

    A plan over several loans is completed once every share is paid, on each of them.
    """
    plan = case.plan
    if plan is None or not plan.is_active:
        return False
    if plan.cases:
        sharing = shared_agreements(rec, plan, "plan")
        if any(share.paid < share.total.amount for _, share in sharing):
            return False
        for other, _ in sharing:
            _plan_done(rec, rec.store.get(other), moment)
        return True
    if plan.paid < plan.total.amount:
        return False
    _plan_done(rec, case, moment)
    return True


def _plan_done(rec: Recorder, case: Case, moment: datetime) -> None:
    """Record the case's active plan completed (a reduction's waiver applied), and fire
    ``plan_completed``."""
    plan = case.plan
    assert plan is not None
    waived: dict[str, str] = {}
    if plan.waived and case.balance.has_arrears:
        waiver = min(plan.waived_money, case.arrears)
        parts, _ = allocate(waiver, case.balance.components())
        waived = {name: str(part.amount) for name, part in parts.items() if part}
    rec.record(
        case,
        rec.moment(case.id, moment),
        "plan_resolved",
        {
            "plan_id": plan.id,
            "status": str(PlanStatus.COMPLETED),
            "paid": str(plan.paid),
            "waived": waived,
        },
    )
    _log.bind().info("plan_resolved", case_id=case.id, status="completed")
    if case.stage == "repayment_plan" and "plan_completed" in rec.workflow.triggers:
        fire_quietly(rec, case, "plan_completed", moment, "plan completed", SYSTEM)


def payment_shares(rec: Recorder, case: Case, amount: Money) -> dict[str, Any]:
    """How much of a payment counts towards the open promise and the active plan."""
    shares: dict[str, Any] = {}
    promise, plan = case.promise, case.plan
    if promise is not None and promise.is_open:
        counted = min(amount.amount, promise.remaining.amount)
        shares["promise"] = {"id": promise.id, "counted": str(counted)}
    if plan is not None and plan.is_active:
        counted = min(amount.amount, plan.remaining.amount)
        shares["plan"] = {"id": plan.id, "counted": str(counted)}
    return shares


def after_payment(rec: Recorder, case: Case, moment: datetime) -> None:
    """Keep the promise and complete the plan a payment has just covered."""
    promise_kept(rec, case, moment)
    plan_completed(rec, case, moment)


def checked_days(value: object) -> int:
    """A promise's grace in whole days, 0 to 366."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise InvalidInput("grace_days", value, "a whole number of days from 0 to 366")
    return value
