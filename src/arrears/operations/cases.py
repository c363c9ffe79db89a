"""Opening cases: a case validated, checked against the workflow, journaled
whole, put on the review schedule, and given the holds of its debtor that
reach it.

A case opens in an opening stage of the workflow (`Workflow.opening`), or,
as a `Migration` from another system, in a stage the actor's roles could have
taken it to (`Workflow.migration_failures`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError

from ..case import (
    Case,
    check_debtor_zone,
    check_numbers,
    check_opening_sizes,
    checked_aging,
    opening_aging,
)
from ..errors import (
    DuplicateCase,
    InvalidInput,
    invalid_input,
)
from ..events import apply_entry
from ..guards import SYSTEM, Actor
from ..journal import GENESIS, seal
from ..logs import get_logger
from ..recorder import Recorder
from ..workflow import Migration
from ._common import check_actor, lock_debtors
from .holds import inherit_holds

_log = get_logger("arrears")

#: The system's roles as journaled (a tuple: encoded as a list, never changed in place).
_SYSTEM_ROLES = tuple(sorted(SYSTEM.roles))


#: The stages of the standard graph a case stands in only while it runs an agreement:
#: the case's field that must hold it, and what that agreement must be.
AGREEMENT_STAGES: Final = {
    "promise": ("promise", "an open promise to pay"),
    "repayment_plan": ("plan", "an active repayment plan"),
}


def _check_agreement_stage(case: Case) -> None:
    """Refuse a case opened in a stage that runs on an agreement the case does not carry.

    Every review of a case in ``promise`` reads its promise (the reminder
    names its date; the promise kept or broken moves it on), and of one in
    ``repayment_plan`` its plan: opened there without one, it would fail every
    review and never move.  Open it in a contact stage, then record the
    promise (`Engine.record_promise`) or start the plan (`Engine.start_plan`).
    """
    need = AGREEMENT_STAGES.get(case.stage)
    if need is None:
        return
    field, what = need
    if field == "promise":
        held = case.promise is not None and case.promise.is_open
    else:
        held = case.plan is not None and case.plan.is_active
    if not held:
        raise InvalidInput(
            "stage",
            case.stage,
            f"a stage the case can be reviewed in: {case.stage!r} needs {what} in the "
            f"case's {field!r}; open it in a contact stage and record the {field} there",
        )


def open_one(
    rec: Recorder,
    case: Case | Mapping[str, Any],
    moment: datetime,
    actor: Actor,
    migration: Migration | None = None,
) -> Case:
    """`open_case` at a moment already checked (`open_cases` checks it once for the batch)."""
    check_actor(actor)
    # A dict (as hosts hand records over) is told without the ABC check.
    if type(case) is dict or isinstance(case, Mapping):
        check_opening_sizes(case)
        # The validator itself, as Case.model_validate calls it, without its wrapper.
        # A missing opened_at is set below, as pydantic's assignment would set it,
        # rather than validated from a copy of the record.
        try:
            fresh: Case = Case.__pydantic_validator__.validate_python(case)
        except ValidationError as err:
            raise invalid_input(err) from err
    elif isinstance(case, Case):
        fresh = case.model_copy(update={"notices": dict(case.notices)})
    else:
        raise InvalidInput("case", type(case).__name__, "a Case or a mapping of its fields")
    check_numbers(fresh.contacts)
    check_debtor_zone(fresh.debtor)
    store, workflow = rec.store, rec.workflow
    case_id = fresh.id
    if case_id in store:
        raise DuplicateCase(case_id)
    stage = fresh.stage
    if stage not in workflow.live:
        raise InvalidInput("stage", stage, "a live stage of the workflow")
    if migration is None:
        if stage not in workflow.opening:
            raise InvalidInput(
                "stage",
                stage,
                f"an opening stage of workflow {workflow.name} "
                f"({', '.join(sorted(workflow.opening))}); a case further on is opened "
                "as a migration, by someone whose roles may take it there",
            )
    else:
        check_migration(rec, fresh, actor, migration, moment)
    _check_agreement_stage(fresh)
    if fresh.version:
        raise InvalidInput("version", fresh.version, "0 for a case not yet opened")
    if fresh.opened_at is None:
        fresh.opened_at = moment
    if fresh.aging is None:  # the arrears fell due on the due date, unless the host says
        fresh.aging = opening_aging(fresh.balance, fresh.due_date)
    else:
        fresh.aging = checked_aging(fresh)
    data: dict[str, Any] = {
        "actor": actor.id,
        "roles": _SYSTEM_ROLES if actor is SYSTEM else sorted(actor.roles),
        # The snapshot travels as pydantic's JSON text: exact, and a third of
        # the cost of a nested dict encoded again (bench: load_and_fire).  The
        # serializer is called as model_dump_json calls it, without its wrapper.
        "case": fresh.__pydantic_serializer__.to_json(fresh).decode(),
        "workflow": workflow.label,
    }
    if migration is not None:
        data["migration"] = migration.to_json()
    entry = seal(case_id, 0, moment, "opened", data, GENESIS)
    apply_entry(fresh, "opened", moment, data)
    # One unit of work: a stored case is always on the schedule, and holds every hold
    # of its debtor that reaches it.
    with rec.atomic():
        store.add(fresh, entry)
        store.schedule(case_id, moment)  # a new case is due for review at once
        if inherit_holds(rec, fresh, moment, actor):
            fresh = store.get(case_id)  # as the holds left it
    # bind() first: the lazy logger would otherwise fail an attribute lookup
    # before binding, which costs more than the (usually filtered) call itself.
    _log.bind().info("case_opened", case_id=case_id, stage=stage, migration=migration is not None)
    return fresh


def check_migration(
    rec: Recorder, case: Case, actor: Actor, migration: Migration, moment: datetime
) -> None:
    """Refuse a migration the actor's (and approver's) roles do not allow into the case's stage.

    Raises:
        InvalidInput: not a `Migration`, or (field ``actor``) no way from the
            initial stage to the case's stage has its guards about people pass
            for the actor and the approver: each failure on a shortest way there is named.
    """
    if not isinstance(migration, Migration):
        raise InvalidInput("migration", type(migration).__name__, "a Migration or None")
    failures = rec.workflow.migration_failures(case, actor, migration.approver, moment)
    if failures:
        raise InvalidInput(
            "actor",
            actor.id,
            f"someone whose roles may take a case to {case.stage!r}: "
            + "; ".join(failure.reason for failure in failures),
        )


def open_many(
    rec: Recorder,
    cases: Iterable[Case | Mapping[str, Any]],
    moment: datetime,
    actor: Actor,
    migration: Migration | None = None,
) -> int:
    """Open each case as `open_one` does; the number opened.

    On a store that reads many debtors' cases at once (``read_debtors``, the SQL
    stores, inside a transaction), the records are taken `_AHEAD` at a time and
    their debtors' cases read in one query, rather than one query a case.

    Raises:
        ArrearsError: The first error a case raises, with a note naming the
            record's position; every case before it stays open and journaled.
    """
    read = getattr(rec.store, "read_debtors", None)
    records = iter(cases)
    opened = 0
    while True:
        chunk: list[Case | Mapping[str, Any]] = []
        failure: Exception | None = None
        try:  # the records before one the iterable fails on are opened first, as one by one
            for record in records:
                chunk.append(record)
                if read is None or len(chunk) == _AHEAD:
                    break
        except Exception as err:
            failure = err
        if read is not None and len(chunk) > 1:
            debtors = {debtor for debtor in map(_debtor_of, chunk) if debtor is not None}
            every = getattr(rec.store, "lock_every_debtor", None)
            # A bulk open: one lock for every debtor, not one each; in a unit of work that
            # holds a debtor already, the chunk's debtors (in order: never an upgrade).
            if every is not None and not every():
                lock_debtors(rec.store, debtors)
            read(debtors)
        for case in chunk:
            try:
                open_one(rec, case, moment, actor, migration)
            except Exception as err:
                err.add_note(f"while opening record {opened} of the batch")
                raise
            opened += 1
        if failure is not None:
            raise failure
        if not chunk:
            return opened


#: How many records `open_many` reads ahead for a store that reads debtors at once.
_AHEAD: Final = 500


def _debtor_of(record: object) -> str | None:
    """The debtor id a record names, if it names one plainly (it is validated when opened)."""
    if isinstance(record, Case):
        return record.debtor.id
    if isinstance(record, Mapping):
        debtor = record.get("debtor")
        if isinstance(debtor, Mapping) and isinstance(debtor.get("id"), str):
            found: str = debtor["id"]
            return found
    return None
