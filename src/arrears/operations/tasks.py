"""Tasks for people: opened once per debtor for the agent with the lightest load, listed, completed.

A task asked for on a case whose debtor has one of the same kind, queue and
skill open on another case is not opened again: ``task_covered`` on the case
brings it under the open one (`covering`).  Completing a task closes it on
every case that holds it, in the same unit of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from ..case import Case
from ..errors import (
    InvalidInput,
)
from ..guards import SYSTEM, Actor
from ..journal import JournalEntry, moment_text
from ..logs import get_logger
from ..policy import TaskAction
from ..recorder import Recorder
from ..tasks import Task, covering_task, pick_agent
from ._common import lock_debtors

_log = get_logger("arrears")


def open_task(
    rec: Recorder,
    case_id: str,
    action: TaskAction,
    *,
    key: str,
    step: str,
    at: datetime | None = None,
) -> Task:
    """Open a task for a person on the case, assigned to the agent with the lightest load.

    When the debtor has a task of the same kind, queue and skill open on
    another case (`covering`), none is opened: that one covers the case too
    (``task_covered`` on the case, under *key*), with the more urgent of the
    two priorities and due times.  Returns the task as the case holds it.

    The key is the task's id: opened again under it, the case's task is
    returned as it is; a key another loan of the debtor holds for another
    task is refused.

    Raises:
        InvalidInput: *key* is the id of a task on another loan of the debtor
            that does not cover this work (naming ``key``).
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    for held in case.tasks:
        if held.id == key:  # opened (or brought under another) under this key already
            return held
    # Another process opening a task on another loan of the debtor waits, then is covered.
    lock_debtors(rec.store, [case.debtor.id])
    found = covering(rec, case, action, key=key)
    if found is not None:
        return _cover(rec, case, found, action, key=key, step=step, moment=moment)
    # Only with agents to choose from (the load is read from the store once).
    agent = (
        pick_agent(rec.agents, action.queue, action.skill, rec.agent_load()) if rec.agents else None
    )
    # The task's JSON is written here and validated once, when the entry is
    # applied (`apply_entry` builds the case's `Task` from it).
    task: dict[str, Any] = {
        "id": key,
        "kind": action.kind,
        "queue": action.queue,
        "priority": action.priority,
        "due_at": later_text(moment, action.due_hours),
        "stage": case.stage,
        "step": step,
        "opened_at": moment_text(moment),
        "cases": [case_id],
    }
    if action.skill is not None:
        task["skill"] = action.skill
    if agent is not None:
        task["assignee"] = agent.id
    rec.record(case, moment, "task_opened", {"task": task, "key": key})
    _log.bind().info("task_opened", case_id=case_id, kind=action.kind, queue=action.queue)
    return case.tasks[-1]


def covering(
    rec: Recorder, case: Case, action: TaskAction, *, key: str | None = None
) -> Task | None:
    """The task open on another case of *case*'s debtor that covers *action* on *case*.

    One of the same kind, queue and skill (a task needing a skill is not
    given to an agent without it), the earliest opened when there are
    several, as the cases holding it see it together (`arrears.tasks.merged`);
    ``None`` when there is none, or for a debtor's only case (one query).

    Raises:
        InvalidInput: *key* (a new task's id) is the id of a task on another case
            of the debtor that does not cover *action*.
    """
    held: dict[str, tuple[Task, ...]] = {}
    wanted = (action.kind, action.queue, action.skill)
    for other_id in rec.store.cases_of(case.debtor.id):
        holder = case if other_id == case.id else rec.store.get(other_id)
        held[other_id] = holder.tasks
        for task in holder.tasks:
            if task.id == key and (task.kind, task.queue, task.skill) != wanted:
                raise InvalidInput("key", key, "a key no other open task of the debtor's loans has")
    return covering_task(held, case.id, action.kind, action.queue, action.skill)


def _cover(
    rec: Recorder,
    case: Case,
    task: Task,
    action: TaskAction,
    *,
    key: str,
    step: str,
    moment: datetime,
) -> Task:
    """Bring *case* under *task* (open on other cases of its debtor): ``task_covered``.

    A case that holds the task already is left as it is.
    """
    for held in case.tasks:
        if held.id == task.id:
            return held
    due_at = moment + timedelta(hours=action.due_hours)
    data: dict[str, Any] = task.model_dump(mode="json", exclude_none=True)
    data.update(
        priority=min(task.priority, action.priority),
        due_at=min(task.due_at, due_at).isoformat(),
        stage=case.stage,
        step=step,
        cases=[*task.cases, case.id],
    )
    rec.record(case, moment, "task_covered", {"task": data, "key": key})
    _log.bind().info(
        "task_covered", case_id=case.id, task_id=task.id, kind=action.kind, queue=action.queue
    )
    return case.tasks[-1]


def open_tasks(
    rec: Recorder, *, queue: str | None = None, assignee: str | None = None
) -> list[Task]:
    """The open tasks, most urgent first (priority, then due time).

    The engine reads them from the store the first time and keeps them up to
    date as it records; tasks opened by another process sharing the store are
    not seen until a new `Engine` reads the store.
    """
    found = [
        task
        for task in rec.task_index().values()
        if (queue is None or task.queue == queue)
        and (assignee is None or task.assignee == assignee)
    ]
    return sorted(found, key=lambda task: (task.priority, task.due_at, task.id))


def complete_task(
    rec: Recorder,
    case_id: str,
    task_id: str,
    outcome: str,
    *,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> JournalEntry:
    """Close a task with its outcome on every case it covers; record what happened separately.

    `arrears.engine.Engine.complete_task`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    closed = next((task for task in case.tasks if task.id == task_id), None)
    if closed is None:
        raise InvalidInput("task_id", task_id, "an open task of the case")
    if not isinstance(outcome, str) or not outcome.strip():
        raise InvalidInput("outcome", outcome, "a short word such as 'done'")
    data = {"task_id": task_id, "outcome": outcome, "actor": actor.id}
    entry = rec.record(case, moment, "task_closed", data)
    _log.bind().info("task_closed", case_id=case_id, actor=actor.id)
    lock_debtors(rec.store, [case.debtor.id])  # a loan brought under it meanwhile is seen
    for other_id in rec.store.cases_of(case.debtor.id):  # the other loans it covers
        if other_id == case_id:
            continue
        other = rec.store.get(other_id)
        if any(_same(task, closed) for task in other.tasks):
            rec.record(other, rec.moment(other_id, moment), "task_closed", dict(data))
            _log.bind().info("task_closed", case_id=other_id, actor=actor.id)
    return entry


def _same(task: Task, other: Task) -> bool:
    """Whether *task* (on another loan) is *other*: its id, work and opening, not its id alone."""
    return (task.id, task.kind, task.queue, task.skill, task.opened_at) == (
        other.id,
        other.kind,
        other.queue,
        other.skill,
        other.opened_at,
    )


def later_text(moment: datetime, hours: int) -> str:
    """ISO text of *hours* after *moment*: a tick opens thousands of tasks due at a few times."""
    # Keyed by the zone too: equal instants in two zones are equal datetimes,
    # but their texts differ.
    return _later_in_zone(moment, moment.tzinfo, hours)


@lru_cache(maxsize=256)
def _later_in_zone(moment: datetime, zone: tzinfo | None, hours: int) -> str:
    """`_later_text`, remembered by moment, zone and hours."""
    return (moment + timedelta(hours=hours)).isoformat()
