"""Work for people: calls, field visits, negotiations and legal reviews, in queues.

A policy step with a ``task`` action opens a `Task` on the case: a kind, a
queue, a priority and a due time, assigned to an `Agent` who serves that
queue (the one with the fewest open tasks, ties broken by id: round-robin by
open load; with a ``skill``, only agents who have it).  A task is part of the
case and of its journal: it is closed with its outcome through the engine
(`Engine.complete_task`), and it expires by itself when the case moves to
another stage, since the work it asked for no longer fits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["Agent", "Task", "pick_agent"]


class Task(BaseModel):
    """A piece of work for a person, on one case.

    Attributes:
        id: The task's id (its idempotency key: a crashed tick does not open it twice).
        kind: ``call``, ``visit``, ``negotiation`` or ``legal_review``.
        queue: The work queue.
        priority: 1 (most urgent) to 9.
        due_at: When it should be done.
        stage: The case's stage when it was opened; it expires when the stage changes.
        step: The policy step that opened it.
        skill: The skill it needs, if any.
        assignee: The agent it was given to (``None`` when no agent serves the queue).
        opened_at: When it was opened.
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
