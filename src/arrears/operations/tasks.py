"""Tasks for people: opened on a case for the agent with the lightest load, listed, completed."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from ..errors import (
    InvalidInput,
)
from ..guards import SYSTEM, Actor
from ..journal import JournalEntry, moment_text
from ..logs import get_logger
from ..policy import TaskAction
from ..recorder import Recorder
from ..tasks import Task, pick_agent

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
    """Open a task for a person on the case, assigned to the agent with the lightest load."""
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
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
    }
    if action.skill is not None:
        task["skill"] = action.skill
    if agent is not None:
        task["assignee"] = agent.id
    rec.record(case, moment, "task_opened", {"task": task, "key": key})
    _log.bind().info("task_opened", case_id=case_id, kind=action.kind, queue=action.queue)
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
    """Close a task with its outcome; record what happened (a call's result…) separately.

    `arrears.engine.Engine.complete_task`, which documents it.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    if task_id not in {task.id for task in case.tasks}:
        raise InvalidInput("task_id", task_id, "an open task of the case")
    if not isinstance(outcome, str) or not outcome.strip():
        raise InvalidInput("outcome", outcome, "a short word such as 'done'")
    entry = rec.record(
        case,
        moment,
        "task_closed",
        {"task_id": task_id, "outcome": outcome, "actor": actor.id},
    )
    _log.bind().info("task_closed", case_id=case_id, actor=actor.id)
    return entry


def later_text(moment: datetime, hours: int) -> str:
    """ISO text of *hours* after *moment*: a tick opens thousands of tasks due at a few times."""
    # Keyed by the zone too: equal instants in two zones are equal datetimes,
    # but their texts differ.
    return _later_in_zone(moment, moment.tzinfo, hours)


@lru_cache(maxsize=256)
def _later_in_zone(moment: datetime, zone: tzinfo | None, hours: int) -> str:
    """`_later_text`, remembered by moment, zone and hours."""
    return (moment + timedelta(hours=hours)).isoformat()
