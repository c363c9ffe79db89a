"""Work for people: calls, field visits, negotiations and legal reviews, in queues.

A policy step with a ``task`` action opens a `Task` on the case: a kind, a
queue, a priority and a due time, assigned to an `Agent` who serves that
queue (the one with the fewest open tasks, ties broken by id: round-robin by
open load; with a ``skill``, only agents who have it).  A task is part of the
case and of its journal: it is closed with its outcome through the engine
(`Engine.complete_task`), and it expires by itself when the case moves to
another stage, since the work it asked for no longer fits.

A task is opened once per debtor: one asked for on a loan whose debtor has
a task of the same kind, queue and skill open on another of their loans is
not opened again; the open one covers that loan too (`Task.cases`), and each
loan it covers holds it and journals it.  Completing it closes it on every
loan it covers; it stays open while any of them still holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["Agent", "Task", "covering_task", "merged", "pick_agent"]


class Task(BaseModel):
    """A piece of work for a person, on one case or on several loans of one debtor.

    Attributes:
        id: The task's id (its idempotency key: a crashed tick does not open it twice).
        kind: ``call``, ``visit``, ``negotiation`` or ``legal_review``.
        queue: The work queue.
        priority: 1 (most urgent) to 9.
        due_at: When it should be done.
        stage: The case's stage when it was opened (or came to cover the case); it
            expires on the case when the case's stage changes.
        step: The policy step that opened it (or brought the case under it).
        skill: The skill it needs, if any.
        assignee: The agent it was given to (``None`` when no agent serves the queue).
        opened_at: When it was opened.
        cases: The cases it covers, the first being the one it was opened for: on a
            case, those it covered when the case came under it; from
            `Engine.tasks`, every case that still holds it.  Empty in a task
            stored before tasks covered several loans: it covers its own case.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["call", "visit", "negotiation", "legal_review"]
    queue: str
    priority: int = Field(ge=1, le=9)
    due_at: AwareDatetime
    stage: str
    step: str
    skill: str | None = None
    assignee: str | None = None
    opened_at: AwareDatetime
    cases: tuple[str, ...] = ()


def merged(copies: Mapping[str, Task]) -> Task:
    """One task as the cases holding it see it together: *copies* by case id (not empty).

    Its cases are those holding it, the one it was opened for first, then
    in the order they came under it (ties by id); its priority and due time
    are the most urgent of the copies' (a loan that joins may need the work
    sooner).  The rest is the first case's copy.
    """
    if len(copies) == 1:
        ((case_id, task),) = copies.items()
        return task if task.cases == (case_id,) else task.model_copy(update={"cases": (case_id,)})
    holders = sorted(copies, key=lambda case_id: (len(copies[case_id].cases), case_id))
    first = copies[holders[0]]
    return first.model_copy(
        update={
            "cases": tuple(holders),
            "priority": min(task.priority for task in copies.values()),
            "due_at": min(task.due_at for task in copies.values()),
        }
    )


def covering_task(
    held: Mapping[str, Iterable[Task]], case_id: str, kind: str, queue: str, skill: str | None
) -> Task | None:
    """The task open on another case of a debtor that covers work of *kind*, *queue*, *skill*.

    *held* is each of the debtor's cases' open tasks, by case id.  The task
    of that kind, queue and skill *case_id* holds with another case, else the
    earliest opened (ties by id) held by another case, as the cases holding it
    see it together (`merged`); ``None`` when there is none.
    """
    found: dict[str, dict[str, Task]] = {}
    for holder, tasks in held.items():
        for task in tasks:
            if (task.kind, task.queue, task.skill) == (kind, queue, skill):
                found.setdefault(task.id, {})[holder] = task
    candidates = [copies for copies in found.values() if any(c != case_id for c in copies)]
    if not candidates:
        return None
    covered = [copies for copies in candidates if case_id in copies]
    if covered:  # the case is covered already
        return merged(covered[0])
    return min((merged(copies) for copies in candidates), key=lambda t: (t.opened_at, t.id))


class Agent(BaseModel):
    """A person who works tasks.

    Attributes:
        id: The agent's id in the host system (not a name).
        queues: The queues they serve.
        skills: What they can do beyond the queue's work (e.g. ``"cantonese"``).
        capacity: The most open tasks they take at once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    queues: frozenset[str]
    skills: frozenset[str] = frozenset()
    capacity: int = Field(default=50, ge=1)


def pick_agent(
    agents: Iterable[Agent], queue: str, skill: str | None, load: Mapping[str, int]
) -> Agent | None:
    """The agent for a new task: serves *queue*, has *skill*, has room, and the lightest load.

    Ties go to the lowest id, so equal loads are served in turn (round-robin).
    """
    candidates = [
        agent
        for agent in agents
        if queue in agent.queues
        and (skill is None or skill in agent.skills)
        and load.get(agent.id, 0) < agent.capacity
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda agent: (load.get(agent.id, 0), agent.id))
