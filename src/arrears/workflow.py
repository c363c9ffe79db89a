"""The stage graph: stages, triggers and their guards, on one shared `transitions.Machine`.

A `WorkflowDefinition` is plain data: the stages, the initial and terminal
ones, and every transition with its guards.  A `Workflow` compiles one
definition into a single `transitions.Machine` built with ``model=None`` and
shared by every case.  Cases are never attached to it (no ``add_model``): a
trigger is fired with ``machine.events[name].trigger(case)``, which reads and
writes ``case.stage``.  One machine per definition costs the same whether it
serves ten cases or ten million; one machine per case costs a millisecond
and tens of kilobytes each (see ``bench/``).

The default graph (`standard_definition`)::

    pre_due ─► notified ─► sms ─► phone ─► field_visit ─► legal.demand_letter
                  │         │       │          │        ─► legal.litigation ─► legal.judgment
                  │         │       │          │        ─► legal.enforcement
                  └─────────┴───────┴──► promise / repayment_plan ◄──┘
    terminal: resolved · settled · written_off · closed

Any payment that clears the arrears fires ``cure``: back to ``pre_due``, or to
``resolved`` when nothing at all is owed any more.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from transitions import Machine

from .case import Case
from .errors import InvalidInput, UnknownTrigger
from .guards import (
    Guard,
    GuardContext,
    GuardFailure,
    approved_by,
    arrears_cleared,
    attempts_at_least,
    dpd_at_least,
    guard,
    no_active_hold,
    not_time_barred,
    notice_elapsed,
    paid_in_full,
    second_approver,
)

__all__ = [
    "DEFAULT_LADDER",
    "LEGAL_STAGES",
    "TERMINAL_STAGES",
    "TransitionResult",
    "TransitionSpec",
    "Workflow",
    "WorkflowDefinition",
    "standard_definition",
]

#: Contact stages in the order a case escalates through them.
DEFAULT_LADDER: Final = ("notified", "sms", "phone", "field_visit")
#: The legal sub-stages, in order.
LEGAL_STAGES: Final = (
    "legal.demand_letter",
    "legal.litigation",
    "legal.judgment",
    "legal.enforcement",
)
#: Stages a case never leaves.
TERMINAL_STAGES: Final = ("resolved", "settled", "written_off", "closed")

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
_TRIGGER = re.compile(r"^[a-z][a-z0-9_]*$")


@guard("by_person")
def _by_person(case: Case, ctx: GuardContext) -> tuple[str, Mapping[str, Any]] | None:
    if ctx.actor.is_system:
        return f"{ctx.trigger!r} is a manual trigger; the system may not fire it", {
            "actor": ctx.actor.id
        }
    return None


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    """One edge of the stage graph.

    Attributes:
        trigger: The trigger's name, e.g. ``"escalate"``.
        sources: The stages it may fire from.
        dest: The stage it leads to.
        guards: Checks that must all pass.
        manual: Only a person (not the system) may fire it; the actor's roles
            are then checked by `approved_by` guards.
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str
    guards: tuple[Guard, ...] = ()
    manual: bool = False

    def all_guards(self) -> tuple[Guard, ...]:
        """The guards as run: the manual check first, then the definition's."""
        return (_by_person, *self.guards) if self.manual else self.guards


@dataclass(frozen=True)
class WorkflowDefinition:
    """A stage graph as data, checked when built.

    Attributes:
        name: The workflow's name, recorded with every transition.
        version: Its version, recorded with every transition.
        stages: Every stage, in display order.
        initial: Where a new case starts.
        terminal: Stages with no way out.
        transitions: Every edge; for one trigger and source the first whose
            guards pass wins.

    Raises:
        InvalidInput: an unknown stage, a terminal stage with a way out, a bad
            name, or a stage that cannot be reached from ``initial``.
    """

    name: str
    version: str
    stages: tuple[str, ...]
    initial: str
    terminal: frozenset[str]
    transitions: tuple[TransitionSpec, ...]

    def __post_init__(self) -> None:
        known = set(self.stages)
        if len(known) != len(self.stages):
            raise InvalidInput("stages", list(self.stages), "each stage named once")
        for stage in self.stages:
            if not _NAME.match(stage):
                raise InvalidInput("stages", stage, "a lower-case name such as 'phone'")
        if self.initial not in known:
            raise InvalidInput("initial", self.initial, f"one of the stages {sorted(known)}")
        if not self.terminal <= known:
            raise InvalidInput("terminal", sorted(self.terminal - known), "stages of this workflow")
        for spec in self.transitions:
            if not _TRIGGER.match(spec.trigger):
                raise InvalidInput("trigger", spec.trigger, "a lower-case name such as 'escalate'")
            for stage in (*spec.sources, spec.dest):
                if stage not in known:
                    raise InvalidInput(
                        f"transitions[{spec.trigger}]", stage, f"one of the stages {sorted(known)}"
                    )
            leaving = set(spec.sources) & self.terminal
            if leaving:
                raise InvalidInput(
                    f"transitions[{spec.trigger}]",
                    sorted(leaving),
                    "no transition out of a terminal stage",
                )
        reached = {self.initial}
        frontier = [self.initial]
        while frontier:
            stage = frontier.pop()
            for spec in self.transitions:
                if stage in spec.sources and spec.dest not in reached:
                    reached.add(spec.dest)
                    frontier.append(spec.dest)
        unreachable = [stage for stage in self.stages if stage not in reached]
        if unreachable:
            raise InvalidInput("stages", unreachable, f"stages reachable from {self.initial!r}")

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger name, in first-defined order."""
        return tuple(dict.fromkeys(spec.trigger for spec in self.transitions))


def standard_definition(
    *,
    ladder: Sequence[str] = DEFAULT_LADDER,
    skip: Iterable[str] = (),
    legal: bool = True,
    stage_guards: Mapping[str, Sequence[Guard]] | None = None,
    promise_broken_to: str | None = None,
    plan_broken_to: str | None = None,
    limitation_years: int = 3,
    extra_transitions: Sequence[TransitionSpec] = (),
    name: str = "standard",
    version: str = "1",
) -> WorkflowDefinition:
    """The default collection graph, with stages added, skipped or guarded as you say.

    Args:
        ladder: The contact stages in escalation order; a name not in the
            default adds a stage (e.g. ``("notified", "sms", "letter", "phone")``).
        skip: Stages to leave out (ladder stages, or ``"legal"`` for all of legal).
        legal: Include the legal sub-stages.
        stage_guards: Extra guards on entering a stage, by stage name.
        promise_broken_to: Where a broken promise goes (default: ``phone``, or
            the last ladder stage when there is no phone stage).
        plan_broken_to: Where a broken repayment plan goes (same default).
        limitation_years: The limitation period guarding legal steps.
        extra_transitions: More edges, e.g. into a stage you added.
        name: The workflow's name.
        version: The workflow's version.

    Raises:
        InvalidInput: an empty ladder, an unknown stage to skip, or a graph that
            does not hold together.
    """
    skipped = set(skip)
    if "legal" in skipped:
        legal = False
        skipped.discard("legal")
    unknown = skipped - set(ladder)
    if unknown:
        raise InvalidInput(
            "skip", sorted(unknown), f"stages of the ladder {list(ladder)} or 'legal'"
        )
    steps = tuple(stage for stage in ladder if stage not in skipped)
    if not steps:
        raise InvalidInput("ladder", list(ladder), "at least one contact stage")
    extra = {stage: tuple(guards) for stage, guards in (stage_guards or {}).items()}

    def guards_into(stage: str, *base: Guard) -> tuple[Guard, ...]:
        return (*base, *extra.get(stage, ()))

    fallback = "phone" if "phone" in steps else steps[-1]
    legal_stages = LEGAL_STAGES if legal else ()
    working = (*steps, "promise", "repayment_plan", *legal_stages)
    hold_free = no_active_hold()

    edges: list[TransitionSpec] = [
        TransitionSpec("notify", ("pre_due",), steps[0], guards_into(steps[0], dpd_at_least(1)))
    ]
    for here, there in itertools.pairwise(steps):
        base: tuple[Guard, ...] = (hold_free,)
        if there == "field_visit":
            base = (hold_free, dpd_at_least(30))
        edges.append(TransitionSpec("escalate", (here,), there, guards_into(there, *base)))
    edges += [
        TransitionSpec("promise", (*steps, *legal_stages), "promise", guards_into("promise")),
        TransitionSpec("promise_kept", ("promise",), steps[0]),
        TransitionSpec("promise_broken", ("promise",), promise_broken_to or fallback),
        TransitionSpec(
            "offer_plan",
            (*steps, "promise", *legal_stages),
            "repayment_plan",
            guards_into("repayment_plan", approved_by("agent", "supervisor")),
            manual=True,
        ),
        TransitionSpec("plan_completed", ("repayment_plan",), "resolved", (arrears_cleared(),)),
        TransitionSpec("plan_broken", ("repayment_plan",), plan_broken_to or fallback),
    ]
    if legal:
        time_ok = not_time_barred(limitation_years)
        officer = approved_by("legal_officer")
        edges += [
            TransitionSpec(
                "start_legal",
                (*steps, "promise", "repayment_plan"),
                LEGAL_STAGES[0],
                guards_into(
                    LEGAL_STAGES[0],
                    hold_free,
                    dpd_at_least(90),
                    time_ok,
                    attempts_at_least(3),
                    officer,
                ),
                manual=True,
            ),
            TransitionSpec(
                "file_suit",
                (LEGAL_STAGES[0],),
                LEGAL_STAGES[1],
                guards_into(
                    LEGAL_STAGES[1],
                    hold_free,
                    notice_elapsed("demand_letter", 30),
                    time_ok,
                    officer,
                    second_approver("legal_officer", "supervisor"),
                ),
                manual=True,
            ),
            TransitionSpec(
                "record_judgment",
                (LEGAL_STAGES[1],),
                LEGAL_STAGES[2],
                guards_into(LEGAL_STAGES[2], officer),
                manual=True,
            ),
            TransitionSpec(
                "enforce",
                (LEGAL_STAGES[2],),
                LEGAL_STAGES[3],
                guards_into(
                    LEGAL_STAGES[3],
                    hold_free,
                    officer,
                    second_approver("legal_officer", "supervisor"),
                ),
                manual=True,
            ),
        ]
    live = ("pre_due", *working)
    edges += [
        # Order matters: nothing owed at all resolves; arrears cleared returns to pre_due.
        TransitionSpec("cure", live, "resolved", (paid_in_full(),)),
        TransitionSpec("cure", working, "pre_due", (arrears_cleared(),)),
        TransitionSpec("settle", working, "settled", (approved_by("supervisor"),), manual=True),
        TransitionSpec(
            "write_off",
            live,
            "written_off",
            (approved_by("supervisor"), second_approver("risk_officer", "supervisor")),
            manual=True,
        ),
        TransitionSpec("close", live, "closed", (approved_by("supervisor"),), manual=True),
        *extra_transitions,
    ]
    stages = tuple(dict.fromkeys((*live, *TERMINAL_STAGES)))
    for spec in extra_transitions:
        stages = tuple(dict.fromkeys((*stages, *spec.sources, spec.dest)))
    return WorkflowDefinition(
        name=name,
        version=version,
        stages=stages,
        initial="pre_due",
        terminal=frozenset(TERMINAL_STAGES),
        transitions=tuple(edges),
    )


class TransitionResult(NamedTuple):
    """What happened when a trigger was judged.

    Attributes:
        trigger: The trigger.
        source: The stage before.
        dest: The stage after (equal to ``source`` when refused).
        failures: Every failed guard; empty when the transition happened.
    """

    trigger: str
    source: str
    dest: str
    failures: tuple[GuardFailure, ...] = ()

    @property
    def allowed(self) -> bool:
        """True when the transition happened."""
        return not self.failures


class _GuardCheck:
    """The one `transitions` condition per edge: runs *every* guard and keeps the failures."""

    __slots__ = ("guards",)

    def __init__(self, guards: tuple[Guard, ...]) -> None:
        self.guards = guards

    def __call__(self, event_data: Any) -> bool:
        ctx: GuardContext = event_data.kwargs["ctx"]
        case: Case = event_data.model
        ok = True
        for check in self.guards:
            failure = check(case, ctx)
            if failure is not None:
                ctx.failures.append(failure)
                ok = False
        return ok


def _route(transition: Any) -> tuple[str, tuple[Guard, ...]]:
    """A `transitions` transition as (destination, guards)."""
    guards: list[Guard] = []
    for condition in transition.conditions:
        check = condition.func
        assert isinstance(check, _GuardCheck)
        assert condition.target
        guards.extend(check.guards)
    return str(transition.dest), tuple(guards)


class Workflow:
    """A compiled stage graph, shared by every case that follows it.

    Args:
        definition: The graph; `standard_definition()` when omitted.

    Attributes:
        definition: The graph compiled.
        machine: The one `transitions.Machine` every case shares.
        live: The stages a case may stand in while collected: every stage
            but the terminal ones.
        label: ``(name, version)``, as every transition records it.
    """

    __slots__ = ("_routes", "_sources", "definition", "label", "live", "machine")

    def __init__(self, definition: WorkflowDefinition | None = None) -> None:
        self.definition = definition or standard_definition()
        d = self.definition
        self.machine = Machine(
            model=None,
            states=list(d.stages),
            initial=d.initial,
            transitions=[
                {
                    "trigger": spec.trigger,
                    "source": list(spec.sources),
                    "dest": spec.dest,
                    "conditions": [_GuardCheck(spec.all_guards())] if spec.all_guards() else [],
                }
                for spec in d.transitions
            ],
            send_event=True,
            auto_transitions=False,
            model_attribute="stage",
        )
        # The routes each trigger takes from each stage, read from the machine's own
        # events: (destination, guards) in the order `transitions` would try them.
        # Firing walks them in plain Python: Event.trigger builds an EventData and
        # runs its callback machinery on every call, about 13 µs a fire against
        # under 1 µs here (bench: load_and_fire).  The machine stays the one
        # definition of the graph.
        self._routes: dict[tuple[str, str], tuple[tuple[str, tuple[Guard, ...]], ...]] = {
            (trigger, source): tuple(_route(transition) for transition in transitions)
            for trigger, event in self.machine.events.items()
            for source, transitions in event.transitions.items()
        }
        # Read on every case opened and every trigger fired: worked out once here.
        self.live: frozenset[str] = frozenset(d.stages) - d.terminal
        self.label: tuple[str, str] = (d.name, d.version)
        self._sources: dict[str, tuple[str, ...]] = {}
        for spec in d.transitions:
            known = self._sources.get(spec.trigger, ())
            self._sources[spec.trigger] = tuple(dict.fromkeys((*known, *spec.sources)))

    @property
    def name(self) -> str:
        """The definition's name."""
        return self.definition.name

    @property
    def version(self) -> str:
        """The definition's version."""
        return self.definition.version

    @property
    def stages(self) -> tuple[str, ...]:
        """Every stage."""
        return self.definition.stages

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger."""
        return self.definition.triggers

    def is_terminal(self, stage: str) -> bool:
        """True when *stage* has no way out."""
        return stage in self.definition.terminal

    def sources_of(self, trigger: str) -> tuple[str, ...]:
        """The stages *trigger* may fire from.

        Raises:
            UnknownTrigger: the workflow has no such trigger.
        """
        try:
            return self._sources[trigger]
        except KeyError:
            raise UnknownTrigger(trigger, self.triggers) from None

    def available(self, stage: str) -> tuple[str, ...]:
        """The triggers defined from *stage* (their guards may still refuse)."""
        return tuple(t for t, sources in self._sources.items() if stage in sources)

    def decide(self, case: Case, ctx: GuardContext) -> TransitionResult:
        """What firing ``ctx.trigger`` on *case* would do, changing nothing.

        Every guard of the route runs, so a refusal lists them all; the
        result's ``dest`` is the stage the case would move to.  The `Engine`
        journals the result, and the journaled entry moves the case.

        Raises:
            UnknownTrigger: the workflow has no such trigger.
        """
        trigger = ctx.trigger
        source = case.stage
        routes = self._routes.get((trigger, source))
        if routes is None:  # an unknown trigger raises; a known one cannot fire from here
            sources = self.sources_of(trigger)
            failure = GuardFailure(
                "from_stage",
                f"{trigger!r} cannot fire from stage {source!r}",
                {"stage": source, "allowed_from": list(sources)},
            )
            return TransitionResult(trigger, source, source, (failure,))
        for dest, guards in routes:
            passed = True
            for check in guards:  # every guard runs, so a refusal lists them all
                refused = check(case, ctx)
                if refused is not None:
                    ctx.failures.append(refused)
                    passed = False
            if passed:
                # _make: no keyword handling, on every fire.
                return TransitionResult._make((trigger, source, dest, ()))
        return TransitionResult(trigger, source, source, tuple(ctx.failures))

    def apply(self, case: Case, ctx: GuardContext) -> TransitionResult:
        """`decide`, then move *case* to the destination when every guard passed.

        Nothing is recorded: for a case that is not the engine's (a host's
        own object, a test).  The engine itself only decides, and journals.

        Raises:
            UnknownTrigger: the workflow has no such trigger.
        """
        result = self.decide(case, ctx)
        if not result.failures:
            case.stage = result.dest
        return result

    def to_mermaid(self) -> str:
        """The graph as a Mermaid ``stateDiagram-v2`` (each edge labelled with its trigger)."""

        def node(stage: str) -> str:
            return stage.replace(".", "_")

        lines = ["stateDiagram-v2"]
        for stage in self.stages:
            if "." in stage:
                lines.append(f'    state "{stage}" as {node(stage)}')
        lines.append(f"    [*] --> {node(self.definition.initial)}")
        seen: set[tuple[str, str, str]] = set()
        for spec in self.definition.transitions:
            for source in spec.sources:
                edge = (source, spec.dest, spec.trigger)
                if edge not in seen:
                    seen.add(edge)
                    lines.append(f"    {node(source)} --> {node(spec.dest)}: {spec.trigger}")
        for stage in sorted(self.definition.terminal):
            lines.append(f"    {node(stage)} --> [*]")
        return "\n".join(lines) + "\n"
