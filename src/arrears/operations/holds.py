"""Holds beside the stage: added with a reason and an end, released early."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from ..case import Case, Hold, HoldKind
from ..clock import require_aware
from ..errors import (
    InvalidInput,
    invalid_input,
)
from ..guards import SYSTEM, Actor
from ..holds import HOLD_REACH, HoldReach, Reach
from ..logs import get_logger
from ..recorder import Recorder
from ._common import enum_of, lock_debtors
from .stages import react

_log = get_logger("arrears")

#: The reach of a kind `HOLD_REACH` does not name: its case.
_CASE = HoldReach("case", "")


def add_hold(
    rec: Recorder,
    case_id: str,
    kind: HoldKind | str,
    reason: str,
    *,
    until: datetime | None = None,
    written: bool | None = None,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
    reach: Reach | None = None,
) -> Hold:
    """Put a hold beside the case's stage; escalation is refused while it is active.

    A hold whose reach is the debtor (`arrears.holds.HOLD_REACH`, or *reach*)
    is journaled on every case of the debtor, with the same id, each naming
    the case it was placed on (``origin``).

    `arrears.engine.Engine.add_hold`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    if until is not None and require_aware(until, "until") <= moment:
        raise InvalidInput(
            "until", until.isoformat(), f"a time after the hold starts ({moment.isoformat()})"
        )
    chosen = enum_of(HoldKind, kind, "kind")
    reached = [case_id]
    covers = _reach(chosen, reach)
    widened = covers == "debtor"
    if widened:  # a case of the debtor opened meanwhile waits, then inherits the hold
        lock_debtors(rec.store, [case.debtor.id])
        reached += [other for other in rec.store.cases_of(case.debtor.id) if other != case_id]
    try:
        hold = Hold(
            id=_free_id(rec, f"{chosen}-{rec.store.head(case_id).seq + 1}", reached),
            kind=kind,
            reason=reason,
            started_at=moment,
            ends_at=None if until is None else require_aware(until, "until"),
            written=written,
            # Recorded when it differs from the kind's own: wider, so that a case opened
            # later inherits it; narrowed to the debts a moratorium's notice lists, so that
            # it never reaches another.
            reach=None if covers == HOLD_REACH.get(chosen, _CASE).reach else covers,
        )
    except ValidationError as err:
        raise invalid_input(err) from err
    for target in reached:
        placed = hold if target == case_id else hold.model_copy(update={"origin": case_id})
        _place(rec, target, placed, moment, actor)
    return hold


def _place(rec: Recorder, target: str, hold: Hold, moment: datetime, actor: Actor) -> None:
    """Journal *hold* on the case *target* (``hold_added``); fire what the policy says it fires."""
    rec.record(
        rec.store.get(target),
        rec.moment(target, moment),
        "hold_added",
        {"hold": hold.model_dump(mode="json", exclude_none=True), "actor": actor.id},
    )
    _log.bind().info("hold_added", case_id=target, kind=str(hold.kind), hold_id=hold.id)
    react(rec, target, str(hold.kind), moment)


def inherit_holds(
    rec: Recorder, case: Case, moment: datetime, actor: Actor = SYSTEM
) -> tuple[Hold, ...]:
    """Journal on a case just opened every hold of its debtor's other cases that reaches it,
    and on each of those cases every hold the case was opened with that reaches them.

    A hold reaches a case when it covers every debt of the person
    (`Hold.reaches_debtor`) and has not ended by *moment* (released, or past its
    end).  Each is recorded as on the case it came from: the same id, its start
    and end kept, naming the case it was placed on (``origin``), so releasing it
    on any case releases it on the others too.  A case opened with a bankruptcy
    in its record holds the debtor on their loans already open, as `add_hold`
    would have.  Called in the unit of work that opens the case.

    Returns:
        The holds journaled on the case, oldest first.

    Raises:
        InvalidInput: the case was opened with a hold whose id is one of those
            holds', or (for a hold that reaches the debtor) the id of a hold on
            another of the debtor's cases (``holds``): the two could not be told apart;
            or with a copy (``origin`` naming another case) of a moratorium recorded
            on the debts its notice lists only, or that says it was recorded so
            itself: such a hold is on the case it was placed on alone; or with a
            copy whose ``origin`` is not a case of the debtor holding it as placed
            there.
    """
    store = rec.store
    case_id = case.id
    copies = {hold.id: hold.origin for hold in case.holds if hold.origin not in (None, case_id)}
    for hold in case.holds:
        if hold.id in copies and _narrowed(hold):
            raise InvalidInput(
                "holds",
                hold.id,
                f"a hold recorded on the debts its notice lists only placed on this case, "
                f"not on {hold.origin}: a moratorium on several listed debts is recorded on "
                "each of them (add_hold, reach='case')",
            )
    lock_debtors(store, [case.debtor.id])  # a hold added to the debtor meanwhile is seen
    others = store.cases_of(case.debtor.id)
    for hold_id, origin in copies.items():
        placed = store.get(origin).holds if origin in others else ()
        if not any(held.id == hold_id and held.origin in (None, origin) for held in placed):
            raise InvalidInput(
                "holds",
                hold_id,
                f"a copy of a hold on one of the debtor's cases: {origin}, which its origin "
                "names, does not hold it",
            )
    if len(others) < 2:  # the case itself, alone: nothing to inherit (the usual case)
        return ()
    found: dict[tuple[str, str], Hold] = {}
    taken: dict[str, str] = {}  # the id of each hold on the other cases -> a case holding it
    for other in others:
        if other == case_id:
            continue
        for hold in store.get(other).holds:
            taken.setdefault(hold.id, other)
            if copies.get(hold.id) == other and hold.origin in (None, other) and _narrowed(hold):
                raise InvalidInput(
                    "holds",
                    hold.id,
                    f"a hold other than one recorded on {other}'s debt only: a moratorium "
                    "recorded on the debts its notice lists never reaches another case",
                )
            if hold.over_at(moment) or not hold.reaches_debtor():
                continue
            placed_on = hold.origin or other
            if (hold.id, placed_on) not in found:
                found[hold.id, placed_on] = hold.model_copy(update={"origin": placed_on})
    rest = [other for other in others if other != case_id]
    if not found:
        _pass_on(rec, case, rest, taken, moment, actor)
        return ()
    own = {hold.id for hold in case.holds}
    inherited = sorted(found.values(), key=lambda hold: (hold.started_at, hold.id))
    for hold in inherited:
        if hold.id in own:
            raise InvalidInput(
                "holds",
                hold.id,
                f"hold ids other than those of the debtor's holds that reach the case "
                f"(placed on {hold.origin})",
            )
        _place(rec, case_id, hold, moment, actor)
    _pass_on(rec, case, rest, taken, moment, actor)
    return tuple(inherited)


def _narrowed(hold: Hold) -> bool:
    """True when *hold* was recorded on the debts its notice lists only (``reach: case``
    on a kind whose own reach is the debtor): it is on its case alone, never copied."""
    return hold.reach == "case" and not hold.reaches_debtor()


def _pass_on(
    rec: Recorder,
    case: Case,
    others: list[str],
    taken: dict[str, str],
    moment: datetime,
    actor: Actor,
) -> None:
    """Journal on each of *others* (the debtor's other cases) every hold *case* was opened
    with that reaches the debtor and has not ended by *moment*, naming *case* as its origin
    (a hold in the record naming another case as its origin is a copy: not passed on).

    Raises:
        InvalidInput: such a hold has the id of a hold on one of *others* (*taken*).
    """
    passed = [
        hold
        for hold in case.holds
        if hold.origin in (None, case.id) and hold.reaches_debtor() and not hold.over_at(moment)
    ]
    for hold in passed:
        if hold.id in taken:
            raise InvalidInput(
                "holds",
                hold.id,
                f"hold ids other than those of the debtor's other cases' holds "
                f"(one is on {taken[hold.id]})",
            )
    for hold in passed:
        copy = hold.model_copy(update={"origin": case.id})
        for other in others:
            _place(rec, other, copy, moment, actor)


def _reach(kind: HoldKind, asked: str | None) -> Reach:
    """The reach of a hold of *kind*: the kind's own, *asked* when it is wider, or
    ``case`` asked of a kind whose law reaches the debts its notice lists
    (`arrears.holds.HoldReach.listed`).

    Raises:
        InvalidInput: *asked* is not a reach, or narrows one the law fixes.
    """
    law = HOLD_REACH.get(kind, _CASE)
    if asked is None:
        return law.reach
    if asked not in ("case", "debtor"):
        raise InvalidInput("reach", asked, "case or debtor")
    if law.reach == "debtor" and asked == "case" and not law.listed:
        raise InvalidInput("reach", asked, f"debtor: a {kind} hold covers every debt ({law.why})")
    return "debtor" if asked == "debtor" else "case"


def _free_id(rec: Recorder, wanted: str, cases: list[str]) -> str:
    """*wanted*, or it with a number after it, so that no case of *cases* has a hold with it."""
    taken = {hold.id for case_id in cases for hold in rec.store.get(case_id).holds}
    found, number = wanted, 1
    while found in taken:
        number += 1
        found = f"{wanted}.{number}"
    return found


def release_hold(
    rec: Recorder, case_id: str, hold_id: str, *, at: datetime | None = None, actor: Actor = SYSTEM
) -> Hold:
    """End a hold early; the case resumes in the stage it is in.

    `arrears.engine.Engine.release_hold`, which documents it.
    """
    store = rec.store
    # Held before the hold is looked at: a case opened meanwhile inheriting it waits, and
    # a release another process commits meanwhile (on this case, or on another the hold
    # reaches) is read, not released again at this call's moment.
    lock_debtors(store, [store.get(case_id).debtor.id])
    case = store.get(case_id)  # as stored once the debtor is held
    moment = rec.moment(case_id, at)
    current = {hold.id: hold for hold in case.holds}
    hold = current.get(hold_id)
    if hold is None:
        raise InvalidInput("hold_id", hold_id, f"one of the case's holds {sorted(current)}")
    if not hold.active_at(moment):
        raise InvalidInput("hold_id", hold_id, f"a hold active at {moment.isoformat()}")
    placed_on = hold.origin or case_id
    reached = [case_id]
    for other in rec.store.cases_of(case.debtor.id):
        if other == case_id:
            continue
        twin = next((item for item in rec.store.get(other).holds if item.id == hold_id), None)
        if twin is not None and (twin.origin or other) == placed_on and twin.active_at(moment):
            reached.append(other)
    for target in reached:
        rec.record(
            rec.store.get(target),
            rec.moment(target, moment),
            "hold_released",
            {"hold_id": hold_id, "released_at": moment.isoformat(), "actor": actor.id},
        )
        _log.bind().info("hold_released", case_id=target, hold_id=hold_id)
    return hold.model_copy(update={"released_at": moment})
