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
``resolved`` when nothing at all is owed any more; a plan completed
(``plan_completed``) goes the same two ways, or, with arrears left (charges
that ran on during it), back to the first contact stage, as a kept promise
does.  ``promise`` and ``offer_plan`` ask for the agreement their stage runs
on (`open_promise`, `active_plan`): a case never stands in either stage
without one, so the agreement's review always has something to move it on.
The ways out ask for the agreement ended as they say (`kept_promise`,
`broken_promise`, `completed_plan`, `broken_plan`): the review or the payment
that ends it records so, then fires them; fired bare on an agreement still
running they are refused, so the journal never holds a promise kept, or a
plan broken, that was not.

A case opens only into an *opening* stage: one the system could have brought
it to on its own, from ``initial`` along edges that ask for no person and no
role (`Workflow.opening`).  A case further on (a legal stage, a repayment
plan) is opened as a `Migration`, by someone whose roles would have let them
take it there (`Workflow.migration_failures`).  Replay holds every journaled
opening and transition to the same rules (`Workflow.entry_problem`).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from transitions import Machine

from . import limits
from .case import Case
from .errors import InvalidInput, UnknownTrigger
from .guards import (
    Actor,
    Guard,
    GuardContext,
    GuardFailure,
    active_plan,
    approved_by,
    arrears_cleared,
    attempts_at_least,
    broken_plan,
    broken_promise,
    completed_plan,
    dpd_at_least,
    guard,
    kept_promise,
    no_active_hold,
    not_time_barred,
    notice_elapsed,
    open_promise,
    paid_in_full,
    second_approver,
)
from .refigure import REFIGURED, figures_problem
from .reversals import ChainReading, Route, reopened_aging, reversal, stage_back

if TYPE_CHECKING:
    from .journal import JournalEntry

__all__ = [
    "DEFAULT_LADDER",
    "LEGAL_STAGES",
    "TERMINAL_STAGES",
    "Migration",
    "TransitionResult",
    "TransitionSpec",
    "Workflow",
    "WorkflowDefinition",
    "about_people",
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

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?\Z")
_TRIGGER = re.compile(r"^[a-z][a-z0-9_]*\Z")


@guard("by_person")
def _by_person(case: Case, ctx: GuardContext) -> tuple[str, Mapping[str, Any]] | None:
    if ctx.actor.is_system:
        return f"{ctx.trigger!r} is a manual trigger; the system may not fire it", {
            "actor": ctx.actor.id
        }
    return None


#: The guard types that judge who fires a trigger rather than the case.
_PEOPLE_GUARDS: Final = (type(approved_by("role")), type(second_approver("role")))


def about_people(check: Guard) -> bool:
    """Whether *check* judges who fires a trigger (a person, their roles, a second approver).

    These are the manual check, `approved_by` and `second_approver`: the
    guards whose inputs (the actor's and the approver's ids and roles) every
    transition journals, so replay can judge them again.  A guard of your own
    that reads the actor is not among them: put it on a ``manual`` edge.
    """
    return check is _by_person or isinstance(check, _PEOPLE_GUARDS)


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

    def people_guards(self) -> tuple[Guard, ...]:
        """The guards that judge who fires it (`about_people`); none where the system may."""
        return tuple(check for check in self.all_guards() if about_people(check))


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
        opening: The stages a case may be opened in without a `Migration`;
            ``None`` (the default) derives them: ``initial`` and every live
            stage reached from it along edges that need no person and no role
            (`Workflow.opening`).  When given, it holds ``initial`` and live
            stages only.

    Raises:
        InvalidInput: an unknown stage, a terminal stage with a way out, a bad
            name, a stage that cannot be reached from ``initial``, or an
            opening stage that is terminal, unknown, or leaves ``initial`` out.
    """

    name: str
    version: str
    stages: tuple[str, ...]
    initial: str
    terminal: frozenset[str]
    transitions: tuple[TransitionSpec, ...]
    opening: frozenset[str] | None = None

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
        if self.opening is not None:
            opening = frozenset(self.opening)
            object.__setattr__(self, "opening", opening)
            wrong = sorted(opening - (known - self.terminal))
            if wrong or self.initial not in opening:
                raise InvalidInput(
                    "opening",
                    wrong or sorted(opening),
                    f"live stages of this workflow, {self.initial!r} among them",
                )

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
    completed = completed_plan()

    edges: list[TransitionSpec] = [
        TransitionSpec("notify", ("pre_due",), steps[0], guards_into(steps[0], dpd_at_least(1)))
    ]
    for here, there in itertools.pairwise(steps):
        base: tuple[Guard, ...] = (hold_free,)
        if there == "field_visit":
            base = (hold_free, dpd_at_least(30))
        edges.append(TransitionSpec("escalate", (here,), there, guards_into(there, *base)))
    # The promise and repayment_plan stages run on their agreement: its review keeps,
    # completes or breaks it, and that moves the case on.  Entered without one, nothing
    # would, so the edges in ask for it (`open_promise`, `active_plan`), and a completed
    # plan always leads out.  The edges out ask for the agreement ended as they say
    # (`kept_promise`, `broken_promise`, `completed_plan`, `broken_plan`): what records it
    # so fires them, and fired bare they would journal a promise kept or a plan broken
    # that is not.
    edges += [
        TransitionSpec(
            "promise", (*steps, *legal_stages), "promise", guards_into("promise", open_promise())
        ),
        TransitionSpec("promise_kept", ("promise",), steps[0], (kept_promise(),)),
        TransitionSpec(
            "promise_broken", ("promise",), promise_broken_to or fallback, (broken_promise(),)
        ),
        TransitionSpec(
            "offer_plan",
            (*steps, "promise", *legal_stages),
            "repayment_plan",
            guards_into("repayment_plan", approved_by("agent", "supervisor"), active_plan()),
            manual=True,
        ),
        # As ``cure``: nothing owed at all resolves; instalments still to come, back to pre_due;
        # arrears left (charges that ran on during the plan), back to the first contact stage,
        # as a kept promise goes.
        TransitionSpec(
            "plan_completed", ("repayment_plan",), "resolved", (completed, paid_in_full())
        ),
        TransitionSpec(
            "plan_completed", ("repayment_plan",), "pre_due", (completed, arrears_cleared())
        ),
        TransitionSpec("plan_completed", ("repayment_plan",), steps[0], (completed,)),
        TransitionSpec(
            "plan_broken", ("repayment_plan",), plan_broken_to or fallback, (broken_plan(),)
        ),
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


@dataclass(frozen=True, slots=True)
class Migration:
    """A case moved in from another system, opened in a stage further on than an opening one.

    Pass it to `arrears.engine.Engine.open_case`.  The actor opening the
    case must hold the roles the workflow asks on some way from ``initial``
    to the case's stage (`Workflow.migration_failures`): a legal officer may
    bring a case in at ``legal.demand_letter``, and at ``legal.litigation``
    only with a second person who may approve filing suit.  The ``opened``
    entry records the migration, the actor's roles and the approver's.

    Attributes:
        reason: Why the case comes in where it stands, for the record (no
            personal data).
        source_system: The system it comes from (e.g. ``"legacy-cms"``).
        approver: The second person, where a four-eyes edge lies on the way.

    Raises:
        InvalidInput: an empty or over-long reason (`arrears.limits.REASON`
            characters at most) or source system (`arrears.limits.SHORT_TEXT`),
            or an approver that is not an `Actor`.
    """

    reason: str
    source_system: str
    approver: Actor | None = None

    def __post_init__(self) -> None:
        for field, value, limit in (
            ("reason", self.reason, limits.REASON),
            ("source_system", self.source_system, limits.SHORT_TEXT),
        ):
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(
                    f"migration.{field}", value, f"a text of 1 to {limit} characters"
                )
            limits.check_text(f"migration.{field}", value, limit)
        if self.approver is not None and not isinstance(self.approver, Actor):
            raise InvalidInput("migration.approver", self.approver, "an Actor or None")

    def to_json(self) -> dict[str, Any]:
        """The journal form: reason, source system, and the approver's id and roles when given."""
        data: dict[str, Any] = {"reason": self.reason, "source_system": self.source_system}
        if self.approver is not None:
            data["approver"] = self.approver.id
            data["approver_roles"] = sorted(self.approver.roles)
        return data


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
        opening: The stages a case may be opened in without a `Migration`:
            the definition's ``opening`` when it names them, else ``initial``
            and every live stage reached from it along edges that are not
            ``manual`` and carry no `approved_by` or `second_approver` guard
            (the stages the system could have taken it to on its own).
        label: ``(name, version)``, as every transition records it.
    """

    __slots__ = ("_routes", "_sources", "definition", "label", "live", "machine", "opening")

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
        if d.opening is not None:
            self.opening: frozenset[str] = d.opening
        else:
            reached = self._reach(lambda spec: not spec.people_guards())
            self.opening = frozenset(reached) - d.terminal

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

    def leads_to(self, trigger: str, stage: str) -> str | None:
        """Where *trigger* fired from *stage* leads, as the stage graph alone says.

        Its guards decide whether it fires, never where, when every edge of the
        trigger from *stage* leads to one stage: that stage.  When its guarded edges
        lead to different stages (``cure``: to ``resolved`` or ``pre_due``), which
        one is taken depends on the guards judged on the case at that moment, and
        the graph alone does not say: ``None``, as when the workflow has no such edge.
        """
        routes = self._routes.get((trigger, stage))
        if not routes:
            return None
        dest = routes[0][0]
        return dest if all(other == dest for other, _ in routes) else None

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
                    if refused not in ctx.failures:  # a guard on several routes, once
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

    # -- opening and migrating ------------------------------------------------------------
    def _reach(
        self, passable: Callable[[TransitionSpec], bool]
    ) -> dict[str, tuple[TransitionSpec, ...]]:
        """Each stage reached from ``initial`` along edges *passable* allows: a shortest way."""
        initial = self.definition.initial
        ways: dict[str, tuple[TransitionSpec, ...]] = {initial: ()}
        frontier = deque([initial])
        while frontier:
            stage = frontier.popleft()
            for spec in self.definition.transitions:
                if stage in spec.sources and spec.dest not in ways and passable(spec):
                    ways[spec.dest] = (*ways[stage], spec)
                    frontier.append(spec.dest)
        return ways

    def migration_failures(
        self, case: Case, actor: Actor, approver: Actor | None, at: datetime
    ) -> tuple[GuardFailure, ...]:
        """Why *actor* (with *approver*) may not open *case* in its stage; empty when they may.

        They may when some way from ``initial`` to the case's stage has every guard
        about people (`about_people`: manual edges, `approved_by`,
        `second_approver`) pass for them: the authority it would have taken
        to move the case there in this workflow.  The case's own guards (days
        past due, notices, holds) are not judged: its history lies in the
        other system.  Otherwise the failures are those met on a shortest way
        there, each reason led by its trigger.
        """
        stage = case.stage
        if stage not in self.live:
            return (
                GuardFailure(
                    "live_stage",
                    f"{stage!r} is not a live stage of workflow {self.name}",
                    {"stage": stage, "live": sorted(self.live)},
                ),
            )

        def allowed(spec: TransitionSpec) -> bool:
            ctx = GuardContext(at, spec.trigger, actor, approver)
            return all(check(case, ctx) is None for check in spec.people_guards())

        if stage in self._reach(allowed):
            return ()
        failures: list[GuardFailure] = []
        for spec in self._reach(lambda spec: True)[stage]:
            ctx = GuardContext(at, spec.trigger, actor, approver)
            for check in spec.people_guards():
                failure = check(case, ctx)
                if failure is not None:
                    failures.append(
                        GuardFailure(
                            failure.guard,
                            f"{spec.trigger}: {failure.reason}",
                            {**failure.values, "trigger": spec.trigger},
                        )
                    )
        return tuple(failures)

    # -- checking a journal ------------------------------------------------------------------
    def entry_problem(
        self, case: Case, entries: Sequence[JournalEntry], position: int
    ) -> str | None:
        """What the workflow forbids in ``entries[position]``, for `arrears.events.replay`.

        *case* is the case as replayed up to the entry (for the ``opened``
        entry, its snapshot).  ``None`` when nothing is wrong.  Judged:

        - ``opened``: the stage is an opening stage, or the entry records a
          migration whose journaled roles reach the stage
          (`migration_failures`);
        - ``transition``: the case stood in the recorded source, which is not
          terminal; the workflow has the edge from there to the recorded
          destination; and the journaled roles of the actor (and approver)
          pass its guards about people.  A transition that needs people but
          journals no roles (written before roles were journaled) is reported;
        - ``payment_reversed``: the stage it moves the case to (or none), the
          due date, what is overdue by due date (on a case that keeps its
          aging) and every figure it records are those undoing the payment
          gives (`arrears.reversals.reversal`); one without a ``due_date``,
          written by an older engine, is judged by the rules it was written
          under (its stage, and the payment's reference and amount), and is
          refused after one that records a due date or on a case that keeps
          its aging;
        - ``agreement_reopened``: it names an earlier entry that kept the
          promise or completed the plan it re-opens, a stage it moves the
          case back to is where that entry's first transition started, and
          on a case that keeps its aging, the aging it records is the
          waiver owed again back on the dates paid last;
        - ``refusal``: the recorded source and destination are both the stage
          the case stood in (a refused trigger moves nothing);
        - ``payment``, ``waiver``, ``settlement``, ``credit_applied``,
          ``accrual``, ``instalment_due``, ``hold_released``: every figure it
          records is the one the engine works out for its own request on the
          case as it stood (`arrears.refigure.figures_problem`): a payment's
          currency and its amount allocated over the components, the charges
          due under the case's terms and caps, a release at the entry's moment.

        Guards about the case itself (days past due, holds, notices) are not
        judged again: a later version of the workflow may change them.
        """
        entry = entries[position]
        kind = entry.kind
        if kind == "transition":
            return self._transition_problem(case, entry)
        if kind == "opened":
            return self._opening_problem(case, entry)
        if kind == "payment_reversed":
            return _reversal_problem(case, entries, entry, self.leads_to)
        if kind == "agreement_reopened":
            return _reopening_problem(case, entries, entry)
        if kind in REFIGURED:
            return figures_problem(case, entry, terminal=self.is_terminal(case.stage))
        if kind == "refusal":
            data = entry.data
            if data.get("source") != case.stage or data.get("dest") != case.stage:
                return (
                    f"a refusal records {data.get('source')!r} to {data.get('dest')!r}, "
                    f"but a refused trigger leaves the case where it stood, {case.stage!r}"
                )
        return None

    def _opening_problem(self, case: Case, entry: JournalEntry) -> str | None:
        """What is wrong with an ``opened`` entry's stage (see `entry_problem`)."""
        stage, data = case.stage, entry.data
        migration = data.get("migration")
        if migration is None:
            if stage in self.opening:
                return None
            return (
                f"opened in stage {stage!r}, which is not an opening stage of workflow "
                f"{self.name} ({', '.join(sorted(self.opening))}), and records no migration"
            )
        people = _journaled_people(data, migration)
        if isinstance(people, str):
            return f"migration into {stage!r}: {people}"
        actor, approver = people
        failures = self.migration_failures(case, actor, approver, entry.at)
        if not failures:
            return None
        return f"migration into {stage!r}: " + "; ".join(failure.reason for failure in failures)

    def _transition_problem(self, case: Case, entry: JournalEntry) -> str | None:
        """What is wrong with a ``transition`` entry (see `entry_problem`)."""
        data = entry.data
        trigger, source, dest = data.get("trigger"), data.get("source"), data.get("dest")
        stage = case.stage
        if self.is_terminal(stage):
            return f"{trigger!r} fired on a case in terminal stage {stage!r}"
        if source != stage:
            return f"{trigger!r} records source {source!r}, but the case stood in {stage!r}"
        if not isinstance(trigger, str) or trigger not in self._sources:
            return f"workflow {self.name} has no trigger {trigger!r}"
        routes = self._routes.get((trigger, stage))
        if routes is None:
            return f"workflow {self.name} has no {trigger!r} from stage {stage!r}"
        candidates = [guards for there, guards in routes if there == dest]
        if not candidates:
            leads = sorted({there for there, _ in routes})
            return f"{trigger!r} from {stage!r} leads to {leads}, not {dest!r}"
        people = [tuple(filter(about_people, guards)) for guards in candidates]
        if not all(people):  # some route asks nothing of people
            return None
        found = _journaled_people(data, data)
        if isinstance(found, str):
            needs = ", ".join(check.name for check in people[0])
            return f"{trigger!r} needs {needs}; {found}"
        actor, approver = found
        ctx = GuardContext(entry.at, trigger, actor, approver)
        reasons: list[str] = []
        for checks in people:
            failures = [failure for check in checks if (failure := check(case, ctx)) is not None]
            if not failures:
                return None
            reasons = reasons or [failure.reason for failure in failures]
        who = f"{trigger!r} by {actor.id!r} with roles {sorted(actor.roles)}"
        return f"{who}: {'; '.join(reasons)}"

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


def _journaled_people(
    data: Mapping[str, Any], approval: Mapping[str, Any]
) -> tuple[Actor, Actor | None] | str:
    """The actor (``data``'s ``actor`` and ``roles``) and approver (*approval*'s) an entry records.

    A text saying what is missing or wrong when they cannot be read: no
    roles journaled, or an id no `Actor` may carry.
    """
    roles = data.get("roles")
    if roles is None:
        return "the entry records no roles for its actor"
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        return f"the entry's roles are {roles!r}, not a list of role names"
    try:
        actor = Actor(data["actor"], frozenset(roles))
    except (InvalidInput, KeyError) as err:
        return f"the entry's actor cannot be read ({err})"
    approver_id = approval.get("approver")
    if approver_id is None:
        return actor, None
    approver_roles = approval.get("approver_roles")
    if not isinstance(approver_roles, list) or not all(
        isinstance(role, str) for role in approver_roles
    ):
        return f"the entry records approver {approver_id!r} without a list of roles"
    try:
        approver = Actor(approver_id, frozenset(approver_roles))
    except InvalidInput as err:
        return f"the entry's approver cannot be read ({err})"
    return actor, approver


#: What a ``payment_reversed`` entry records beside the figures undoing the payment gives
#: (`arrears.reversals.reversal`): who reversed it and why, which nothing recomputes.
_REVERSAL_OWN: Final = frozenset({"actor", "reason"})
#: What an older engine's reversal (no ``due_date``) is held to besides its stage: the
#: payment it names, which every engine copied; its figures followed older rules.
_LEGACY_FIGURES: Final = ("reference", "amount")


def _reversal_problem(
    case: Case, entries: Sequence[JournalEntry], entry: JournalEntry, route: Route
) -> str | None:
    """What is wrong with a ``payment_reversed`` entry, if anything: the stage it moves
    the case to (or leaves it in), the due date it records, or any figure it records.

    A reversal takes the case back where undoing the payment takes it, worked
    out from the chain before it as the engine works it out
    (`arrears.reversals.reversal`: from the transitions the payment
    caused, or from a later close that no longer stands); any other move, or
    none where undoing the payment moves the case, is a way around the
    workflow's guards (a case left ``resolved`` while it owes).  Its due date
    is the one the case would have without the payment
    (`arrears.reversals.due_date_without`): a later one would make the debtor
    look less late, delaying escalation and skewing the KPIs; an earlier one,
    more.  Every other figure it records (the payment's reference and amount,
    the components owed again, the credit taken back, the promise and plan
    re-opened) is the one undoing the payment gives: a reversal is no way to
    add to what a debtor owes.  An entry without a due date was written by an
    older engine, under its rules (`reversal`'s *legacy*): its stage, and the
    reference and amount of the payment it names, are judged; and it is
    refused after a reversal that records a due date, since the engine that
    wrote that one writes one on every reversal since.
    """
    data = entry.data
    seq = data.get("payment_seq")
    if not isinstance(seq, int) or not 0 <= seq < entry.seq or entries[seq].kind != "payment":
        return f"a reversal names payment seq {seq!r}, which is not a payment before it"
    legacy = "due_date" not in data
    try:
        reading = _reading(entries, entry.seq)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        reading = None  # an entry before it the engine could not have written
    if legacy and case.aging is not None:
        return (
            "a reversal records no due date on a case that keeps what is overdue by due "
            "date: only an older engine wrote none, and it kept no such record"
        )
    if legacy and (
        reading.dated
        if reading is not None
        else any(
            e.kind == "payment_reversed" and "due_date" in e.data for e in entries[: entry.seq]
        )
    ):
        return (
            "a reversal records no due date after one that does: only an older engine "
            "wrote none, and the engine that records one records it on every reversal"
        )
    try:
        expected: Mapping[str, Any] | None = reversal(
            case, entries[: entry.seq], entries[seq], route=route, legacy=legacy, reading=reading
        )
    except (KeyError, TypeError, ValueError, ArithmeticError):
        expected = None  # a chain the engine could not have written: nothing stands
    stage = data.get("stage")
    moved = None if expected is None else expected.get("stage")
    if stage != moved:
        return (
            f"a reversal moves the case {_move(stage)}, but undoing the payment "
            f"moves it {_move(moved)}"
        )
    if not legacy and (expected is None or data["due_date"] != expected["due_date"]):
        due = None if expected is None else expected["due_date"]
        return (
            f"a reversal records due date {data['due_date']!r}, but undoing the payment "
            f"leaves the first missed due date at {due!r}"
        )
    if expected is None:
        return "a reversal of a payment the chain cannot undo"
    names = _LEGACY_FIGURES if legacy else sorted((data.keys() | expected.keys()) - _REVERSAL_OWN)
    for name in names:
        if data.get(name) != expected.get(name):
            what = "what is overdue by due date (aging)" if name == "aging" else name
            return (
                f"a reversal records {what} {data.get(name)!r}, but undoing the payment "
                f"gives {expected.get(name)!r}"
            )
    return None


#: The reading of the chain `verify` last judged a reversal of, in each thread.
_READINGS = threading.local()


def _reading(entries: Sequence[JournalEntry], end: int) -> ChainReading:
    """The chain *entries* read up to *end* (`arrears.reversals.ChainReading`): the one
    the last reversal judged in this thread read further, when it is of the same
    chain (the same sequence, read no further than *end*), else a new one.  `replay`
    judges a chain's entries in order, so each of its entries is read once."""
    reading: ChainReading | None = getattr(_READINGS, "last", None)
    if (
        reading is None
        or reading.entries is not entries
        or reading.upto >= end
        or (reading.upto and entries[reading.upto - 1] is not reading.last)
    ):
        reading = ChainReading(entries)
    _READINGS.last = None  # kept only once read without error
    reading.advance(end)
    reading.last = entries[end - 1] if end else None
    _READINGS.last = reading
    return reading


def _move(stage: Any) -> str:
    """A reversal's ``stage`` as a problem names it: ``from 'a' to 'b'``, or ``nowhere``."""
    if isinstance(stage, Mapping):
        return f"from {stage.get('from')!r} to {stage.get('to')!r}"
    return "nowhere"


#: What an ``agreement_reopened`` entry may re-open: the kind of the entry that closed
#: it, the key naming the agreement there, and the status it was closed with.
_REOPENS: Final = {
    "promise": ("promise_resolved", "promise_id", "kept"),
    "plan": ("plan_resolved", "plan_id", "completed"),
}


def _reopening_problem(
    case: Case, entries: Sequence[JournalEntry], entry: JournalEntry
) -> str | None:
    """What is wrong with an ``agreement_reopened`` entry, if anything.

    It re-opens the promise kept or the plan completed the case holds, by an
    earlier entry of the chain; it owes again only what that entry waived (a
    completed reduction's waiver: `arrears.operations.joint.reopen`), so it is
    no way to add to a debt; and it takes the case back where undoing that entry
    takes it (`arrears.reversals.stage_back`), or nowhere when that moves nothing.
    """
    data = entry.data
    agreement = data["agreement"]
    closed = _REOPENS.get(agreement) if isinstance(agreement, str) else None
    seq = data["resolved_seq"]
    if closed is None:
        return f"an agreement re-opened is a 'promise' or a 'plan', not {agreement!r}"
    kind, key, status = closed
    if (
        not isinstance(seq, int)
        or not 0 <= seq < entry.seq
        or entries[seq].kind != kind
        or entries[seq].data.get(key) != data.get("id")
        or entries[seq].data.get("status") != status
    ):
        return (
            f"a re-opened {agreement} {data.get('id')!r} names seq {seq!r}, "
            f"which is not where it was {status}"
        )
    held = getattr(case, agreement, None)
    if held is None or held.id != data.get("id") or str(held.status) != status:
        return (
            f"a re-opened {agreement} {data.get('id')!r} is not the {agreement} the case "
            f"holds {status}"
        )
    waived = dict(entries[seq].data.get("waived", {}))
    if data.get("restored") != waived:
        return (
            f"a re-opened {agreement} owes again {data.get('restored')!r}, but its "
            f"resolution waived {waived!r}"
        )
    restored = data["restored"]
    try:
        aging = (
            reopened_aging(case, entries[: entry.seq], restored)
            if case.aging is not None and restored
            else None
        )
    except ArithmeticError:
        return f"a re-opened {agreement} restores {restored!r}, which are not amounts"
    if data.get("aging") != aging:
        return (
            f"a re-opened {agreement} records what is overdue by due date as "
            f"{data.get('aging')!r}, but its waiver owed again leaves {aging!r}"
        )
    resolved = entries[seq]
    back = stage_back(case.stage, entries[seq + 1 : entry.seq], resolved.at)
    if "stage" not in data:
        if back is None:
            return None
        return (
            f"a re-opened {agreement} moves the case nowhere, but undoing it moves it {_move(back)}"
        )
    return _back_problem(case, entries, entry, seq, f"the {agreement} {status}")


def _back_problem(
    case: Case, entries: Sequence[JournalEntry], entry: JournalEntry, seq: int, what: str
) -> str | None:
    """What is wrong with the ``stage`` an entry undoing ``entries[seq]`` (*what*) moves
    the case to: from where it stands, back to where that entry's first transition started."""
    stage = entry.data["stage"]
    if not isinstance(stage, Mapping) or stage.get("from") != case.stage:
        return f"a reversal moves the case from {stage!r}, but it stood in {case.stage!r}"
    first = next(
        (later for later in entries[seq + 1 : entry.seq] if later.kind == "transition"), None
    )
    if first is None or first.data.get("source") != stage.get("to"):
        started = None if first is None else first.data.get("source")
        return (
            f"a reversal moves the case back to {stage.get('to')!r}, "
            f"but {what}'s first transition started from {started!r}"
        )
    return None
