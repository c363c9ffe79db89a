"""Where the debtor is, changed: their ``jurisdiction``, ``residence`` or ``timezone``
on every case.

A debtor's place travels on each case's debtor record (`arrears.case.Debtor`)
and picks the rules that judge contacts with them
(`arrears.compliance.Compliance.rules_for_debtor`).  When the debtor moves,
`update_debtor` changes it on every case of the debtor at once, closed ones
too, each change a ``debtor_changed`` entry on its case.
"""

from __future__ import annotations

from datetime import datetime
from types import EllipsisType
from typing import Any
from zoneinfo import ZoneInfo

from ..case import Case, debtor_place, place_code, place_zone
from ..errors import InvalidInput
from ..guards import SYSTEM, Actor
from ..journal import JournalEntry
from ..limits import REASON
from ..logs import get_logger
from ..planner import moved_review, proposal_for
from ..recorder import Recorder
from ._common import check_actor, lock_debtors
from .contacts import judge_contact

_log = get_logger("arrears")


def update_debtor(
    rec: Recorder,
    debtor_id: str,
    *,
    jurisdiction: str | EllipsisType | None = ...,
    residence: str | EllipsisType | None = ...,
    timezone: str | EllipsisType | None = ...,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
    reason: str | None = None,
) -> dict[str, JournalEntry]:
    """Change where the debtor is on every case of theirs; the entries by case id.

    `arrears.engine.Engine.update_debtor`, which documents it.
    """
    check_actor(actor)
    if not isinstance(debtor_id, str):
        raise InvalidInput("debtor_id", type(debtor_id).__name__, "a debtor's id")
    given: dict[str, str | None] = {}
    if jurisdiction is not ...:
        given["jurisdiction"] = place_code("jurisdiction", jurisdiction)
    if residence is not ...:
        given["residence"] = place_code("residence", residence)
    if timezone is not ...:
        given["timezone"] = place_zone("timezone", timezone)
    if not given:
        raise InvalidInput(
            "jurisdiction", "...", "a jurisdiction, a residence or a time zone to change to"
        )
    if reason is not None and (not isinstance(reason, str) or not 0 < len(reason) <= REASON):
        raise InvalidInput("reason", reason, f"a text of 1 to {REASON} characters")
    # Held before the debtor's cases are read: a case of the debtor another process
    # opens meanwhile is stored before this reads, or waits and opens with the new place.
    lock_debtors(rec.store, [debtor_id])
    ids = rec.store.cases_of(debtor_id)
    if not ids:
        raise InvalidInput("debtor_id", debtor_id, "the id of a debtor with a case")
    moment = rec.moment(None, at)
    changes: dict[str, tuple[Case, dict[str, Any]]] = {}
    for case_id in ids:
        case = rec.store.get(case_id)
        changed = {
            field: {"from": now, "to": value}
            for field, value in given.items()
            if (now := debtor_place(case.debtor, field)) != value
        }
        if changed:
            rec.moment(case_id, moment)  # not before the case's last entry
            changes[case_id] = (case, changed)
    if not changes:
        field, value = next(iter(given.items()))
        raise InvalidInput(
            field, value, f"a change: every case of debtor {debtor_id!r} has this already"
        )
    entries: dict[str, JournalEntry] = {}
    for case_id, (case, changed) in changes.items():
        # Every case the change is recorded on, so `verify` finds each of them.
        data: dict[str, Any] = {"actor": actor.id, **changed, "cases": list(changes)}
        if reason is not None:
            data["reason"] = reason
        zone = case.debtor.timezone  # as it was: recording changes the case
        entries[case_id] = rec.record(case, moment, "debtor_changed", data)
        if "timezone" in changed:  # in this unit of work: the schedule moves with the debtor
            _reschedule(rec, case, zone, entries[case_id])
    _log.bind().info("debtor_changed", cases=len(entries), fields=sorted(given), actor=actor.id)
    return entries


def _reschedule(rec: Recorder, case: Case, old: ZoneInfo | None, change: JournalEntry) -> None:
    """Move the next review of *case*, whose debtor was in *old* until the move (*change*,
    its ``debtor_changed`` entry), to the same review day in the debtor's new time zone
    (`arrears.planner.moved_review`).

    Only the time zone moves the schedule: the review days are the policy's
    (``review.time``, ``business_days``, ``holidays``) read in the debtor's
    zone, and a new jurisdiction's hours are judged when each message goes out.
    A case off the schedule (closed, or one `verify` reports unscheduled) stays off.
    """
    policy = rec.policy
    if policy is None or rec.workflow.is_terminal(case.stage):
        return
    due = rec.store.next_review(case.id)
    if due is None:
        return
    moment = change.at
    new = rec.store.get(case.id).debtor.timezone
    moved = moved_review(
        policy,
        old,
        new,
        due,
        moment,
        in_hours=lambda: _in_hours(rec, case.id, moment),
        at_once=due_at_once(rec, case.id, due, before=change.seq),
    )
    if moved != due:
        rec.store.schedule(case.id, moved)


def due_at_once(rec: Recorder, case_id: str, due: datetime, *, before: int | None = None) -> bool:
    """Whether *due* is the moment of a change of the debtor's time zone journaled on the
    case (before entry *before*, when given): the case left due at once by that move
    (`arrears.planner.moved_review`) and not reviewed since.  The entries are looked at
    from the newest back to *due*."""
    for entry in reversed(rec.store.entries(case_id)):
        if entry.at < due:
            return False
        if before is not None and entry.seq >= before:
            continue
        if entry.at == due and entry.kind == "debtor_changed" and "timezone" in entry.data:
            return True
    return False


def _in_hours(rec: Recorder, case_id: str, moment: datetime) -> bool:
    """Whether every kind of message the policy's steps send may still go out on the
    debtor's date at *moment*, where they are now: none denied until a later date
    (contact hours over for the day).  Judged, not recorded."""
    later = denied_until(rec, case_id, moment)
    case = rec.store.get(case_id)
    return later is None or case.local_date(later) <= case.local_date(moment)


def denied_until(rec: Recorder, case_id: str, moment: datetime) -> datetime | None:
    """The latest time compliance names for a kind of message the policy's steps send to
    the debtor of *case_id*, denied at *moment* (contact hours not begun, or over for the
    day); ``None`` when every kind may go out then (or is denied for good).  Judged, not
    recorded."""
    policy = rec.policy
    assert policy is not None
    case = rec.store.get(case_id)
    asked: set[tuple[str, bool, str | None]] = set()
    latest: datetime | None = None
    for step in policy.steps_for(case.variant):
        action = step.send
        if action is None or (action.channel, action.automated, action.party) in asked:
            continue
        asked.add((action.channel, action.automated, action.party))
        proposal = proposal_for(action, None, None)
        verdict = judge_contact(rec, case_id, proposal, at=moment, record=False)
        later = verdict.next_allowed_at
        if not verdict.allowed and later is not None and (latest is None or later > latest):
            latest = later
    return latest
