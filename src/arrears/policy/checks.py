"""Helpers for the checks of a policy as a whole (`Policy.problems`).

Ids used twice, references to segments and variants that do not exist, and
the cycles of stages escalations could keep a case in: each works on plain
values, so this module knows nothing of the policy model that uses it.
"""

from __future__ import annotations

from typing import Final

from ..workflow import Workflow

__all__ = [
    "AGREEMENT_GUARDS",
    "FieldPath",
    "agreement_problem",
    "check_references",
    "closed_cycles",
    "destination",
    "unique_ids",
]

FieldPath = tuple[str | int, ...]
"""Where a problem is in a policy: field names and list positions, e.g. ``("steps", 2, "id")``."""


def unique_ids(problems: list[tuple[FieldPath, str]], path: FieldPath, ids: list[str]) -> set[str]:
    """The set of *ids*; each id seen before is added to *problems* at its place under *path*."""
    seen: set[str] = set()
    for index, name in enumerate(ids):
        if name in seen:
            problems.append(((*path, index, "id"), f"id {name!r} is used twice"))
        seen.add(name)
    return seen


def check_references(
    problems: list[tuple[FieldPath, str]],
    where: FieldPath,
    when: object,
    segments: set[str],
    variants: set[str],
) -> None:
    """Add to *problems* each segment or variant the ``when`` at *where* names that is unknown."""
    if when is None:
        return
    for field, known in (("segment_in", segments), ("variant_in", variants)):
        names = getattr(when, field, None)
        if names is None:
            continue
        for position, name in enumerate(names):
            if name not in known:
                problems.append(
                    (
                        (*where, "when", field, position),
                        f"unknown {field.removesuffix('_in')} {name!r}; the policy has "
                        f"{sorted(known)}",
                    )
                )


#: The guards about a promise or a plan that only recording it, or its review, can
#: satisfy: what each asks for, and what gives it (then fires the trigger itself).
AGREEMENT_GUARDS: Final = {
    "open_promise()": (
        "an open promise to pay",
        "recording one (Engine.record_promise) fires it",
    ),
    "active_plan()": (
        "an active repayment plan",
        "starting one (Engine.start_plan) fires it",
    ),
    "kept_promise()": (
        "the promise recorded kept",
        "the payment or review that keeps it fires it",
    ),
    "broken_promise()": (
        "the promise recorded broken or partly kept",
        "the review that finds it short fires it",
    ),
    "completed_plan()": (
        "the plan recorded completed",
        "the payment or review that completes it fires it",
    ),
    "broken_plan()": (
        "the plan recorded broken",
        "the review that finds an instalment short fires it",
    ),
}


def agreement_problem(workflow: Workflow, trigger: str, who: str) -> str | None:
    """Why *who* (``"an escalation"``, ``"a step"``) firing *trigger* is a mistake, when every
    edge of *trigger* asks for a promise or a plan in a state only recording it, or its
    review, gives (`AGREEMENT_GUARDS`); ``None`` when some edge does not.

    Fired without that, the trigger is refused (a refusal journaled each time); fired
    with it, what recorded the agreement fired the trigger already.
    """
    asked: list[str] = []
    for spec in workflow.definition.transitions:
        if spec.trigger != trigger:
            continue
        names = [check.name for check in spec.guards if check.name in AGREEMENT_GUARDS]
        if not names:
            return None
        asked.extend(name for name in names if name not in asked)
    if not asked:
        return None
    needs, given = AGREEMENT_GUARDS[asked[0]]
    return (
        f"got {trigger!r}, which {who} cannot fire: it needs {needs} ({asked[0]}), and "
        f"{given}; fired otherwise it is refused"
    )


def destination(workflow: Workflow, trigger: str, stage: str) -> str | None:
    """The stage *trigger* leads to from *stage*; ``None`` when it does not fire from there."""
    for spec in workflow.definition.transitions:
        if spec.trigger == trigger and stage in spec.sources:
            return spec.dest
    return None


def closed_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of stages that escalations cycle through and never leave."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    closed = []
    for group in groups:
        members = set(group)
        cyclic = len(group) > 1 or group[0] in edges.get(group[0], set())
        leaves = any(edges.get(stage, set()) - members for stage in group)
        if cyclic and not leaves:
            closed.append(group)
    return closed
