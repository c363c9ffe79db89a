"""Checks of a policy as a whole: names that exist, steps that can fire, escalations that end."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .._exceptions import InvalidInput
from ..case import HoldKind, Outcome
from ..workflow import Workflow

if TYPE_CHECKING:
    from .model import Policy, Step

__all__ = ["policy_problems"]

Path = tuple[str | int, ...]


def policy_problems(policy: Policy) -> list[tuple[Path, str]]:
    """Every problem of *policy* that a single field's validation cannot see."""
    problems: list[tuple[Path, str]] = []
    try:
        workflow = policy.build_workflow()
    except InvalidInput as err:
        return [(("workflow", err.field), f"got {err.value!r}, expected {err.expected}")]
    try:
        policy.build_compliance()
    except InvalidInput as err:
        problems.append(
            ((*err.field.split(".", 2),), f"got {err.value!r}, expected {err.expected}")
        )
    if policy.lender:
        from ..messages import LenderDetails

        try:
            LenderDetails.of(policy.lender)
        except InvalidInput as err:
            problems.append(
                ((*err.field.split("."),), f"got {err.value!r}, expected {err.expected}")
            )
    stages = set(workflow.stages)
    live = {stage for stage in stages if not workflow.is_terminal(stage)}
    triggers = set(workflow.triggers)
    manual = {spec.trigger for spec in workflow.definition.transitions if spec.manual}

    def stage_names(path: Path, names: Iterable[str]) -> None:
        for position, name in enumerate(names):
            if name not in stages:
                problems.append(
                    (
                        (*path, position),
                        f"unknown stage {name!r}; the workflow has {sorted(stages)}",
                    )
                )

    def trigger_name(path: Path, name: str) -> bool:
        if name not in triggers:
            problems.append(
                (path, f"unknown trigger {name!r}; the workflow has {sorted(triggers)}")
            )
            return False
        return True

    segment_ids = _unique(problems, ("segments",), [segment.id for segment in policy.segments])
    variant_ids = _unique(problems, ("variants",), [variant.id for variant in policy.variants])
    if policy.variants and sum(variant.share for variant in policy.variants) != 100:
        shares = [variant.share for variant in policy.variants]
        problems.append((("variants",), f"shares {shares} add up to {sum(shares)}, not 100"))

    def steps(path: Path, chosen: Sequence[Step]) -> None:
        _unique(problems, path, [step.id for step in chosen])
        for index, step in enumerate(chosen):
            where = (*path, index)
            if step.stages is not None:
                stage_names((*where, "stages"), step.stages)
                if all(stage in stages and stage not in live for stage in step.stages):
                    problems.append(
                        ((*where, "stages"), "can never fire: every stage named is terminal")
                    )
            if step.fire is not None and trigger_name((*where, "fire"), step.fire):
                sources = set(workflow.sources_of(step.fire))
                if step.stages is not None and not sources & set(step.stages):
                    problems.append(
                        (
                            (*where, "fire"),
                            f"can never fire: {step.fire!r} fires only from {sorted(sources)}",
                        )
                    )
            _references(problems, where, step.when, segment_ids, variant_ids)

    steps(("steps",), policy.steps)
    for index, variant in enumerate(policy.variants):
        if variant.steps is not None:
            steps(("variants", index, "steps"), variant.steps)
    for index, segment in enumerate(policy.segments):
        _references(problems, ("segments", index), segment.when, set(), variant_ids)

    edges: dict[str, set[str]] = {}
    for index, escalation in enumerate(policy.escalations):
        where: Path = ("escalations", index)
        if escalation.from_ is not None:
            stage_names((*where, "from"), escalation.from_)
        if not trigger_name((*where, "trigger"), escalation.trigger):
            continue
        if escalation.trigger in manual:
            problems.append(
                (
                    (*where, "trigger"),
                    f"{escalation.trigger!r} is a manual trigger: it needs a person "
                    "with a role; open a task for it instead",
                )
            )
            continue
        sources = workflow.sources_of(escalation.trigger)
        chosen = escalation.from_ if escalation.from_ is not None else sources
        useless = [stage for stage in chosen if stage in stages and stage not in sources]
        if useless:
            problems.append(
                (
                    (*where, "from"),
                    f"can never fire from {useless}: {escalation.trigger!r} fires only "
                    f"from {sorted(sources)}",
                )
            )
        for stage in chosen:
            dest = _dest(workflow, escalation.trigger, stage)
            if dest is not None:
                edges.setdefault(stage, set()).add(dest)
        _references(problems, where, escalation.when, segment_ids, variant_ids)
    for cycle in _closed_cycles(edges):
        problems.append(
            (
                ("escalations",),
                f"escalations cycle through {' -> '.join(cycle)} -> {cycle[0]} "
                "with no escalation leading out",
            )
        )
    events = {*Outcome, *HoldKind, "payment", "promise"}
    for event, trigger in policy.inbound.items():
        if event not in events:
            problems.append(
                (("inbound", event), f"unknown inbound event {event!r}; known: {sorted(events)}")
            )
        trigger_name(("inbound", event), trigger)
    return problems


def _unique(problems: list[tuple[Path, str]], path: Path, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for index, name in enumerate(ids):
        if name in seen:
            problems.append(((*path, index, "id"), f"id {name!r} is used twice"))
        seen.add(name)
    return seen


def _references(
    problems: list[tuple[Path, str]],
    where: Path,
    when: object,
    segments: set[str],
    variants: set[str],
) -> None:
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


def _dest(workflow: Workflow, trigger: str, stage: str) -> str | None:
    for spec in workflow.definition.transitions:
        if spec.trigger == trigger and stage in spec.sources:
            return spec.dest
    return None


def _closed_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
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
