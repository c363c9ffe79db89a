"""Cases and stages: firing triggers through the workflow's guards, the cure a
payment causes, the policy's reactions to inbound results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..case import Case
from ..errors import GuardFailure, InvalidInput, TransitionDenied
from ..guards import SYSTEM, Actor, GuardContext
from ..logs import get_logger
from ..recorder import Recorder
from ..workflow import TransitionResult

_log = get_logger("arrears")

#: The system's roles as journaled (a tuple: encoded as a list, never changed in place).
_SYSTEM_ROLES = tuple(sorted(SYSTEM.roles))


def fire(
    rec: Recorder,
    case_id: str,
    trigger: str,
    *,
    actor: Actor = SYSTEM,
    approver: Actor | None = None,
    at: datetime | None = None,
    reason: str | None = None,
) -> TransitionResult:
    """Fire *trigger* on the case, if every guard allows it.

    `arrears.engine.Engine.fire`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    if approver is not None and not isinstance(approver, Actor):
        raise InvalidInput("approver", approver, "an Actor or None")
    if not isinstance(actor, Actor):
        raise InvalidInput("actor", actor, "an Actor")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason", reason, "a short text or None")
    store = rec.store
    ctx = GuardContext(moment, trigger, actor, approver, history=lambda: store.entries(case_id))
    source = case.stage
    workflow = rec.workflow
    result = workflow.decide(case, ctx)  # changes nothing: the entry moves the case
    data = transition_data(rec, trigger, source, result.dest, actor, approver, reason)
    if not result.failures:  # result.allowed, without the property call
        rec.record(case, moment, "transition", data)
        _log.bind().info(  # bind() first: see open_case
            "transition",
            case_id=case_id,
            trigger=trigger,
            source=source,
            dest=result.dest,
            actor=actor.id,
        )
        return result
    raise refuse(rec, case, moment, data, result.failures)


def transition_data(
    rec: Recorder,
    trigger: str,
    source: str,
    dest: str,
    actor: Actor,
    approver: Actor | None,
    reason: str | None,
) -> dict[str, Any]:
    """The data of a ``transition`` (or, with its failures, a ``refusal``) entry.

    The actor's roles (and the approver's id and roles) are journaled with it,
    so replay can judge the edge's guards about people again
    (`arrears.workflow.Workflow.entry_problem`).
    """
    data: dict[str, Any] = {
        "trigger": trigger,
        "source": source,
        "dest": dest,
        "actor": actor.id,
        "roles": _SYSTEM_ROLES if actor is SYSTEM else sorted(actor.roles),
        "workflow": rec.workflow.label,
    }
    if approver is not None:
        data["approver"] = approver.id
        data["approver_roles"] = sorted(approver.roles)
    if reason is not None:
        data["reason"] = reason
    return data


def refuse(
    rec: Recorder,
    case: Case,
    moment: datetime,
    data: dict[str, Any],
    failures: tuple[GuardFailure, ...],
) -> TransitionDenied:
    """Journal a refused trigger (*data* as a transition's, with the failures); the error to raise.

    The error is marked as journaled (see `Recorder.atomic`): raise it.
    """
    data["failures"] = [failure.to_json() for failure in failures]
    rec.record(case, moment, "refusal", data)
    _log.bind().info(
        "transition_refused",
        case_id=case.id,
        trigger=data["trigger"],
        stage=data["source"],
        guards=[failure.guard for failure in failures],
        actor=data["actor"],
    )
    return rec.refused(TransitionDenied(case.id, data["trigger"], data["source"], failures))


class _TakenBack(Exception):
    """Raised inside a savepoint to take back what it recorded (`record_then_fire`)."""


def record_then_fire(
    rec: Recorder,
    case_id: str,
    write: Callable[[Case], object],
    trigger: str,
    moment: datetime,
    *,
    actor: Actor,
    approver: Actor | None,
    reason: str,
) -> TransitionResult:
    """Record what *write* records, then fire *trigger*, judged on the case as *write* left it.

    Both are stored, or neither: when a guard refuses the trigger, what
    *write* recorded is taken back (a savepoint), and the refusal is
    journaled on the case as it stands without it, with the failures found,
    and raised.  So a settlement or a plan is never stored without the
    transition it leads to.

    Raises:
        TransitionDenied: the trigger is refused (journaled; nothing of *write* stored).
    """
    denied: TransitionDenied | None = None
    try:
        with rec.atomic():
            write(rec.store.get(case_id))
            try:
                return fire(
                    rec, case_id, trigger, actor=actor, approver=approver, at=moment, reason=reason
                )
            except TransitionDenied as refused:
                denied = refused
                raise _TakenBack from None
    except _TakenBack:
        assert denied is not None
    case = rec.store.get(case_id)  # as stored: the savepoint took the write back
    data = transition_data(rec, trigger, case.stage, case.stage, actor, approver, reason)
    raise refuse(rec, case, moment, data, denied.failures)


def cure(rec: Recorder, case: Case, moment: datetime) -> TransitionResult | None:
    """Fire ``cure`` after a payment that cleared the arrears, where the workflow has one.

    The payment stands whatever happens here: a refused cure is journaled
    and returned, never raised.
    """
    workflow = rec.workflow
    if case.balance.has_arrears or "cure" not in workflow.triggers:
        return None
    if case.stage not in workflow.sources_of("cure"):
        return None
    if case.stage == workflow.definition.initial and not case.balance.outstanding.is_zero:
        return None  # already current: nothing to cure
    try:
        return fire(rec, case.id, "cure", at=moment, reason="payment cleared the arrears")
    except TransitionDenied as denied:
        return TransitionResult("cure", denied.stage, denied.stage, denied.failures)


def react(rec: Recorder, case_id: str, event: str, moment: datetime) -> None:
    """Fire what the policy's ``inbound`` says a result fires, where it can."""
    policy = rec.policy
    if policy is None or event not in policy.inbound:
        return
    trigger = policy.inbound[event]
    case = rec.store.get(case_id)
    if case.stage not in rec.workflow.sources_of(trigger):
        return
    with contextlib.suppress(TransitionDenied):
        fire(rec, case_id, trigger, at=moment, reason=f"policy: inbound {event}")


def check_live(rec: Recorder, case: Case) -> None:
    """Refuse a case in a terminal stage."""
    if rec.workflow.is_terminal(case.stage):
        raise InvalidInput("stage", case.stage, "a case in a live stage")


def fire_quietly(
    rec: Recorder, case: Case, trigger: str, moment: datetime, reason: str, actor: Actor
) -> TransitionResult:
    """Fire what a recorded fact leads to; a refusal is journaled and returned, not raised."""
    try:
        return fire(rec, case.id, trigger, at=moment, reason=reason, actor=actor)
    except TransitionDenied as denied:
        return TransitionResult(trigger, denied.stage, denied.stage, denied.failures)
