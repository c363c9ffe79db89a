"""Holds beside the stage: added with a reason and an end, released early."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from ..case import Hold, HoldKind
from ..clock import require_aware
from ..errors import (
    InvalidInput,
    invalid_input,
)
from ..guards import SYSTEM, Actor
from ..logs import get_logger
from ..recorder import Recorder
from ._common import enum_of
from .stages import react

_log = get_logger("arrears")


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
) -> Hold:
    """Put a hold beside the case's stage; escalation is refused while it is active.

    `arrears.engine.Engine.add_hold`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    if until is not None and require_aware(until, "until") <= moment:
        raise InvalidInput(
            "until", until.isoformat(), f"a time after the hold starts ({moment.isoformat()})"
        )
    try:
        hold = Hold(
            id=f"{enum_of(HoldKind, kind, 'kind')}-{rec.store.head(case_id).seq + 1}",
            kind=kind,
            reason=reason,
            started_at=moment,
            ends_at=None if until is None else require_aware(until, "until"),
            written=written,
        )
    except ValidationError as err:
        raise invalid_input(err) from err
    rec.record(
        case,
        moment,
        "hold_added",
        {"hold": hold.model_dump(mode="json", exclude_none=True), "actor": actor.id},
    )
    _log.bind().info("hold_added", case_id=case_id, kind=str(hold.kind), hold_id=hold.id)
    react(rec, case_id, str(hold.kind), moment)
    return hold


def release_hold(
    rec: Recorder, case_id: str, hold_id: str, *, at: datetime | None = None, actor: Actor = SYSTEM
) -> Hold:
    """End a hold early; the case resumes in the stage it is in.

    `arrears.engine.Engine.release_hold`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    current = {hold.id: hold for hold in case.holds}
    hold = current.get(hold_id)
    if hold is None:
        raise InvalidInput("hold_id", hold_id, f"one of the case's holds {sorted(current)}")
    if not hold.active_at(moment):
        raise InvalidInput("hold_id", hold_id, f"a hold active at {moment.isoformat()}")
    rec.record(
        case,
        moment,
        "hold_released",
        {"hold_id": hold_id, "released_at": moment.isoformat(), "actor": actor.id},
    )
    _log.bind().info("hold_released", case_id=case_id, hold_id=hold_id)
    return hold.model_copy(update={"released_at": moment})
