"""The stage graph: its stages, one shared machine, added and skipped stages, bad definitions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from arrears import (
    SYSTEM,
    Actor,
    Case,
    Engine,
    GuardContext,
    InvalidInput,
    SettableClock,
    TransitionSpec,
    UnknownTrigger,
    Workflow,
    WorkflowDefinition,
    dpd_at_least,
    guard,
    standard_definition,
)

MakeCase = Callable[..., Case]

_PARTS = [{"due": "2026-10-20", "amount": {"amount": "1070.00", "currency": "CNY"}}]
#: An open promise and an active plan for the whole CNY 1070.00 `make_case` owes.
PROMISE: dict[str, Any] = {
    "id": "P-1",
    "made_at": "2026-09-30T10:00:00+08:00",
    "instalments": _PARTS,
}
PLAN: dict[str, Any] = {"id": "PL-1", "kind": "extension", "instalments": _PARTS}

AT = datetime(2026, 10, 1, 1, tzinfo=UTC)  # 30 days past the 2026-09-01 due date
AGENT = Actor("agent-7", frozenset({"agent"}))

STANDARD_STAGES = (
    "pre_due",
    "notified",
    "sms",
    "phone",
    "field_visit",
    "promise",
    "repayment_plan",
    "legal.demand_letter",
    "legal.litigation",
    "legal.judgment",
    "legal.enforcement",
    "resolved",
    "settled",
    "written_off",
    "closed",
)


def fire(
    workflow: Workflow, case: Case, trigger: str, actor: Actor = SYSTEM, at: datetime = AT
) -> Any:
    return workflow.apply(case, GuardContext(at, trigger, actor))


def small(**changes: Any) -> WorkflowDefinition:
    fields: dict[str, Any] = {
        "name": "small",
        "version": "2",
        "stages": ("open", "chasing", "done"),
        "initial": "open",
        "terminal": frozenset({"done"}),
        "transitions": (
            TransitionSpec("chase", ("open",), "chasing"),
            TransitionSpec("finish", ("open", "chasing"), "done"),
        ),
    }
    fields.update(changes)
    return WorkflowDefinition(**fields)


class TestStandardGraph:
    def test_stages(self) -> None:
        """The standard graph has the contact ladder, promise, plan, legal and terminal stages."""
        workflow = Workflow()
        assert workflow.stages == STANDARD_STAGES
        assert workflow.definition.initial == "pre_due"
        assert workflow.definition.terminal == {"resolved", "settled", "written_off", "closed"}
        assert (workflow.name, workflow.version) == ("standard", "1")

    def test_escalation_ladder(self, make_case: MakeCase) -> None:
        """notify then escalate walks pre_due → notified → sms → phone → field_visit."""
        workflow = Workflow()
        case = make_case()
        walked = [case.stage]
        for trigger in ("notify", "escalate", "escalate", "escalate"):
            result = fire(workflow, case, trigger)
            assert result.allowed, result.failures
            walked.append(case.stage)
        assert walked == ["pre_due", "notified", "sms", "phone", "field_visit"]

    def test_field_visit_is_the_top_of_the_ladder(self, make_case: MakeCase) -> None:
        """escalate cannot fire from field_visit: legal is entered only by start_legal."""
        workflow = Workflow()
        result = fire(workflow, make_case(stage="field_visit"), "escalate")
        assert [f.guard for f in result.failures] == ["from_stage"]

    def test_terminal_stages_have_no_triggers(self) -> None:
        """No trigger fires from a terminal stage."""
        workflow = Workflow()
        for stage in ("resolved", "settled", "written_off", "closed"):
            assert workflow.is_terminal(stage)
            assert workflow.available(stage) == ()
        assert not workflow.is_terminal("legal.judgment")

    def test_available_triggers(self) -> None:
        """From pre_due a case may be notified, cured, written off or closed."""
        assert set(Workflow().available("pre_due")) == {"notify", "cure", "write_off", "close"}

    def test_cure_reaches_every_live_stage(self) -> None:
        """cure fires from every non-terminal stage."""
        workflow = Workflow()
        live = [s for s in STANDARD_STAGES if not workflow.is_terminal(s)]
        assert set(workflow.sources_of("cure")) == set(live)

    def test_dpd_guard_on_field_visit(self, make_case: MakeCase) -> None:
        """Escalating into field_visit needs 30 days past due: at 29 days it is refused."""
        workflow = Workflow()
        case = make_case(stage="phone")
        result = fire(workflow, case, "escalate", at=datetime(2026, 9, 30, 1, tzinfo=UTC))
        assert [f.guard for f in result.failures] == ["dpd_at_least(30)"]
        assert case.stage == "phone"
        assert fire(workflow, case, "escalate").dest == "field_visit"

    def test_refused_transition_lists_every_failure(self, make_case: MakeCase) -> None:
        """A refused manual trigger reports every failed guard, in order, and keeps the stage."""
        workflow = Workflow()
        case = make_case(stage="phone")
        result = fire(workflow, case, "start_legal")
        assert not result.allowed
        assert (result.trigger, result.source, result.dest) == ("start_legal", "phone", "phone")
        assert [f.guard for f in result.failures] == [
            "by_person",
            "dpd_at_least(90)",
            "attempts_at_least(3)",
            "approved_by(legal_officer)",
        ]
        assert case.stage == "phone"

    def test_manual_trigger_refuses_the_system(self, make_case: MakeCase) -> None:
        """offer_plan is manual: the system may not fire it, an agent may."""
        workflow = Workflow()
        case = make_case(stage="phone", plan=PLAN)
        refused = fire(workflow, case, "offer_plan")
        assert [f.guard for f in refused.failures] == [
            "by_person",
            "approved_by(agent, supervisor)",
        ]
        assert "manual trigger" in refused.failures[0].reason
        assert fire(workflow, case, "offer_plan", actor=AGENT).dest == "repayment_plan"


class TestAgreementStages:
    """``promise`` and ``repayment_plan`` run on their agreement: never entered without
    it, and always left when it ends."""

    def test_promise_needs_an_open_promise(self, make_case: MakeCase) -> None:
        workflow = Workflow()
        case = make_case(stage="phone")
        refused = fire(workflow, case, "promise")
        assert [(f.guard, f.values) for f in refused.failures] == [
            ("open_promise()", {"promise": None, "status": None})
        ]
        assert "no promise to pay is recorded" in refused.failures[0].reason
        assert case.stage == "phone"
        kept = make_case(stage="phone", promise={**PROMISE, "status": "kept"})
        refused = fire(workflow, kept, "promise")
        assert [(f.guard, f.values) for f in refused.failures] == [
            ("open_promise()", {"promise": "P-1", "status": "kept"})
        ]
        assert "promise 'P-1' is kept, not open" in refused.failures[0].reason
        assert fire(workflow, make_case(stage="phone", promise=PROMISE), "promise").allowed

    def test_offer_plan_needs_an_active_plan(self, make_case: MakeCase) -> None:
        workflow = Workflow()
        refused = fire(workflow, make_case(stage="sms"), "offer_plan", actor=AGENT)
        assert [(f.guard, f.values) for f in refused.failures] == [
            ("active_plan()", {"plan": None, "status": None, "required": "active"})
        ]
        broken = make_case(stage="sms", plan={**PLAN, "status": "broken"})
        (failure,) = fire(workflow, broken, "offer_plan", actor=AGENT).failures
        assert failure.reason == "repayment plan 'PL-1' is broken, needs one active"
        assert fire(workflow, make_case(stage="sms", plan=PLAN), "offer_plan", actor=AGENT).allowed

    @pytest.mark.parametrize(
        ("balance", "dest", "also_failed"),
        [
            ({"currency": "CNY", "principal": "0"}, "resolved", []),
            (
                {"currency": "CNY", "principal": "0", "not_due": "500.00"},
                "pre_due",
                ["paid_in_full()"],
            ),
            (
                {"currency": "CNY", "principal": "35.20"},
                "notified",
                ["paid_in_full()", "arrears_cleared()"],
            ),
        ],
    )
    def test_a_completed_plan_always_leads_out(
        self, make_case: MakeCase, balance: dict[str, str], dest: str, also_failed: list[str]
    ) -> None:
        """Nothing owed: resolved; instalments to come: pre_due; arrears left (charges that
        ran on during the plan): the first contact stage, as a kept promise goes.  A plan
        still running is not completed by a bare trigger, whatever is owed: every way out
        asks for the plan completed, named once however many routes ask."""
        workflow = Workflow()
        case = make_case(
            stage="repayment_plan", balance=balance, plan={**PLAN, "status": "completed"}
        )
        assert fire(workflow, case, "plan_completed").dest == dest
        active = make_case(stage="repayment_plan", balance=balance, plan=PLAN)
        refused = fire(workflow, active, "plan_completed")
        assert [f.guard for f in refused.failures] == ["completed_plan()", *also_failed]
        assert refused.failures[0].values == {
            "plan": "PL-1",
            "status": "active",
            "required": "completed",
        }
        assert active.stage == "repayment_plan"

    @pytest.mark.parametrize(
        ("trigger", "stage", "agreement", "running", "ended", "guard", "dest"),
        [
            ("promise_kept", "promise", "promise", "open", "kept", "kept_promise()", "notified"),
            (
                "promise_broken",
                "promise",
                "promise",
                "open",
                "partly_kept",
                "broken_promise()",
                "phone",
            ),
            ("promise_broken", "promise", "promise", "kept", "broken", "broken_promise()", "phone"),
            ("plan_broken", "repayment_plan", "plan", "active", "broken", "broken_plan()", "phone"),
            (
                "plan_broken",
                "repayment_plan",
                "plan",
                "completed",
                "broken",
                "broken_plan()",
                "phone",
            ),
        ],
    )
    def test_a_way_out_asks_for_the_agreement_ended_so(
        self,
        make_case: MakeCase,
        trigger: str,
        stage: str,
        agreement: str,
        running: str,
        ended: str,
        guard: str,
        dest: str,
    ) -> None:
        """Fired bare while the promise or plan has not ended as the trigger says, it is
        refused naming the agreement and its status: the journal would hold a promise kept,
        or a plan broken, that was not.  Ended so (as its review records), it leads out."""
        workflow = Workflow()
        given = {**(PROMISE if agreement == "promise" else PLAN), "status": running}
        case = make_case(stage=stage, **{agreement: given})
        refused = fire(workflow, case, trigger)
        (failure,) = refused.failures
        assert failure.guard == guard
        assert failure.values["status"] == running
        assert failure.values[agreement] == given["id"]
        assert f"is {running}, needs one " in failure.reason
        assert case.stage == stage
        bare = fire(workflow, make_case(stage=stage), trigger)
        assert [(f.guard, f.values[agreement]) for f in bare.failures] == [(guard, None)]
        done = make_case(stage=stage, **{agreement: {**given, "status": ended}})
        assert fire(workflow, done, trigger).dest == dest

    @pytest.mark.parametrize("ladder", [("notified", "sms", "phone"), ("letter", "call")])
    def test_every_edge_into_an_agreement_stage_asks_for_it(self, ladder: tuple[str, ...]) -> None:
        """In any graph `standard_definition` builds, ``stage_guards`` included."""
        extra = {"promise": [dpd_at_least(5)], "repayment_plan": [dpd_at_least(5)]}
        definition = standard_definition(ladder=ladder, stage_guards=extra)
        into = {
            spec.trigger: [check.name for check in spec.guards]
            for spec in definition.transitions
            if spec.dest in ("promise", "repayment_plan")
        }
        assert into == {
            "promise": ["open_promise()", "dpd_at_least(5)"],
            "offer_plan": ["approved_by(agent, supervisor)", "active_plan()", "dpd_at_least(5)"],
        }


class TestSharedMachine:
    def test_one_machine_holds_no_cases(self, make_case: MakeCase) -> None:
        """Firing on many cases never attaches any of them to the machine."""
        workflow = Workflow()
        machine = workflow.machine
        cases = [make_case(id=f"C-{n}") for n in range(50)]
        for case in cases:
            fire(workflow, case, "notify")
            fire(workflow, case, "escalate")
        assert workflow.machine is machine
        assert machine.models == []
        assert {case.stage for case in cases} == {"sms"}

    def test_cases_move_independently(self, make_case: MakeCase) -> None:
        """Two cases on one workflow keep their own stages."""
        workflow = Workflow()
        first, second = make_case(id="C-1"), make_case(id="C-2")
        fire(workflow, first, "notify")
        assert (first.stage, second.stage) == ("notified", "pre_due")


class TestFromStage:
    def test_trigger_from_the_wrong_stage(self, make_case: MakeCase) -> None:
        """file_suit from notified fails with a from_stage failure naming where it may fire."""
        workflow = Workflow()
        case = make_case(stage="notified")
        result = fire(workflow, case, "file_suit")
        assert (result.trigger, result.source, result.dest) == ("file_suit", "notified", "notified")
        assert len(result.failures) == 1
        failure = result.failures[0]
        assert failure.guard == "from_stage"
        assert failure.reason == "'file_suit' cannot fire from stage 'notified'"
        assert failure.values == {"stage": "notified", "allowed_from": ["legal.demand_letter"]}
        assert case.stage == "notified"

    def test_unknown_trigger(self, make_case: MakeCase) -> None:
        """A trigger the workflow does not define raises UnknownTrigger listing the known ones."""
        workflow = Workflow()
        with pytest.raises(UnknownTrigger) as info:
            fire(workflow, make_case(), "fly")
        assert info.value.trigger == "fly"
        assert "notify" in info.value.known
        assert str(info.value).startswith("trigger: got 'fly', expected one of ")
        with pytest.raises(UnknownTrigger):
            workflow.sources_of("fly")


class TestCustomisedGraphs:
    def test_skip_field_visit(self, make_case: MakeCase) -> None:
        """Without field_visit the ladder tops out at phone; start_legal still leaves phone."""
        workflow = Workflow(standard_definition(skip=["field_visit"]))
        assert "field_visit" not in workflow.stages
        assert workflow.sources_of("escalate") == ("notified", "sms")
        assert "phone" in workflow.sources_of("start_legal")
        case = make_case(stage="phone")
        assert [f.guard for f in fire(workflow, case, "escalate").failures] == ["from_stage"]

    def test_skip_phone_guards_the_jump_to_field_visit(self, make_case: MakeCase) -> None:
        """Without phone, sms escalates straight to field_visit with its 30-day guard."""
        workflow = Workflow(standard_definition(skip=["phone"]))
        assert "phone" not in workflow.stages
        case = make_case(stage="sms")
        early = fire(workflow, case, "escalate", at=datetime(2026, 9, 20, tzinfo=UTC))
        assert [f.guard for f in early.failures] == ["dpd_at_least(30)"]
        assert fire(workflow, case, "escalate").dest == "field_visit"

    def test_broken_promise_falls_back_to_the_last_ladder_stage_without_phone(
        self, make_case: MakeCase
    ) -> None:
        """With no phone stage, a broken promise goes to the last contact stage."""
        workflow = Workflow(standard_definition(skip=["phone"]))
        case = make_case(stage="promise", promise={**PROMISE, "status": "broken"})
        assert fire(workflow, case, "promise_broken").dest == "field_visit"

    def test_broken_promise_goes_to_phone_by_default(self, make_case: MakeCase) -> None:
        """In the standard graph a broken promise or plan returns to phone."""
        workflow = Workflow()
        broken_promise = make_case(stage="promise", promise={**PROMISE, "status": "broken"})
        assert fire(workflow, broken_promise, "promise_broken").dest == "phone"
        broken_plan = make_case(stage="repayment_plan", plan={**PLAN, "status": "broken"})
        assert fire(workflow, broken_plan, "plan_broken").dest == "phone"

    def test_add_a_stage_through_the_ladder(self, make_case: MakeCase) -> None:
        """A new ladder name becomes a stage escalated through in order."""
        workflow = Workflow(standard_definition(ladder=("notified", "sms", "letter", "phone")))
        assert "letter" in workflow.stages
        assert "field_visit" not in workflow.stages
        case = make_case()
        for trigger in ("notify", "escalate", "escalate", "escalate"):
            fire(workflow, case, trigger)
        assert case.stage == "phone"
        assert fire(workflow, make_case(stage="sms"), "escalate").dest == "letter"

    def test_skip_legal(self) -> None:
        """Skipping 'legal' removes every legal stage and trigger."""
        workflow = Workflow(standard_definition(skip=["legal"]))
        assert not [stage for stage in workflow.stages if stage.startswith("legal")]
        for trigger in ("start_legal", "file_suit", "record_judgment", "enforce"):
            assert trigger not in workflow.triggers
            with pytest.raises(UnknownTrigger):
                workflow.sources_of(trigger)
        assert Workflow(standard_definition(legal=False)).stages == workflow.stages

    def test_stage_guards_add_checks(self, make_case: MakeCase) -> None:
        """An extra guard on entering sms runs after the standard ones."""

        @guard("weekday")
        def weekday(case: Case, ctx: GuardContext) -> tuple[str, dict[str, Any]] | None:
            return "not on weekends", {"day": "Sat"}

        workflow = Workflow(standard_definition(stage_guards={"sms": [weekday]}))
        case = make_case(stage="notified")
        assert [f.guard for f in fire(workflow, case, "escalate").failures] == ["weekday"]
        assert case.stage == "notified"

    def test_extra_transitions_add_stages(self, make_case: MakeCase) -> None:
        """An extra edge into a new stage adds the stage to the graph."""
        spec = TransitionSpec("refer", ("phone",), "agency", (dpd_at_least(60),))
        back = TransitionSpec("recall", ("agency",), "phone")
        workflow = Workflow(standard_definition(extra_transitions=[spec, back]))
        assert "agency" in workflow.stages
        case = make_case(stage="phone")
        assert [f.guard for f in fire(workflow, case, "refer").failures] == ["dpd_at_least(60)"]

    def test_name_and_version(self) -> None:
        """A definition carries the name and version recorded with each transition."""
        workflow = Workflow(standard_definition(name="cn-consumer", version="2026.1"))
        assert (workflow.name, workflow.version) == ("cn-consumer", "2026.1")

    @pytest.mark.parametrize(
        ("kwargs", "field", "value"),
        [
            ({"skip": ["fax"]}, "skip", "['fax']"),
            ({"ladder": ()}, "ladder", "[]"),
            ({"ladder": ("sms",), "skip": ["sms"]}, "ladder", "['sms']"),
            ({"ladder": ("notified", "Fax")}, "stages", "'Fax'"),
        ],
        ids=["unknown-skip", "empty-ladder", "all-skipped", "bad-stage-name"],
    )
    def test_bad_customisations(self, kwargs: dict[str, Any], field: str, value: str) -> None:
        """Skipping an unknown stage or leaving no ladder is refused, naming the argument."""
        with pytest.raises(InvalidInput) as info:
            standard_definition(**kwargs)
        assert info.value.field == field
        assert value in str(info.value)


class TestDefinitionChecks:
    def test_valid_small_graph(self, make_case: MakeCase) -> None:
        """A small hand-written graph compiles and runs."""
        workflow = Workflow(small())
        case = make_case(stage="open")
        assert fire(workflow, case, "chase").dest == "chasing"
        assert fire(workflow, case, "finish").dest == "done"
        assert workflow.triggers == ("chase", "finish")

    @pytest.mark.parametrize(
        ("changes", "field", "value"),
        [
            (
                {"transitions": (TransitionSpec("chase", ("open",), "nowhere"),)},
                "transitions[chase]",
                "'nowhere'",
            ),
            (
                {
                    "transitions": (
                        TransitionSpec("chase", ("open",), "chasing"),
                        TransitionSpec("finish", ("chasing",), "done"),
                        TransitionSpec("reopen", ("done",), "open"),
                    )
                },
                "transitions[reopen]",
                "['done']",
            ),
            ({"stages": ("open", "chasing", "done", "island")}, "stages", "['island']"),
            ({"stages": ("open", "Chasing", "done")}, "stages", "'Chasing'"),
            ({"stages": ("open", "legal.a.b", "done")}, "stages", "'legal.a.b'"),
            ({"stages": ("open", "chasing", "done", "open")}, "stages", "'open'"),
            ({"initial": "start"}, "initial", "'start'"),
            ({"terminal": frozenset({"done", "gone"})}, "terminal", "['gone']"),
            (
                {"transitions": (TransitionSpec("Chase!", ("open",), "chasing"),)},
                "trigger",
                "'Chase!'",
            ),
        ],
        ids=[
            "unknown-dest",
            "out-of-terminal",
            "unreachable",
            "capital-stage",
            "deep-stage",
            "duplicate-stage",
            "unknown-initial",
            "unknown-terminal",
            "bad-trigger",
        ],
    )
    def test_refused(self, changes: dict[str, Any], field: str, value: str) -> None:
        """An inconsistent definition raises InvalidInput naming the field and the value."""
        with pytest.raises(InvalidInput) as info:
            small(**changes)
        assert info.value.field == field
        assert value in str(info.value)


class TestMermaid:
    def test_diagram_lists_edges_and_ends(self) -> None:
        """The Mermaid diagram has the start, every edge with its trigger, and terminal ends."""
        text = Workflow().to_mermaid()
        lines = text.splitlines()
        assert lines[0] == "stateDiagram-v2"
        assert "    [*] --> pre_due" in lines
        assert "    pre_due --> notified: notify" in lines
        assert "    phone --> field_visit: escalate" in lines
        assert "    legal_demand_letter --> legal_litigation: file_suit" in lines
        assert '    state "legal.demand_letter" as legal_demand_letter' in lines
        assert "    resolved --> [*]" in lines
        assert len(lines) == len(set(lines))
        assert text.endswith("\n")


def _kept_two_ways() -> Workflow:
    """The standard graph with a guarded ``promise_kept`` edge from ``promise`` tried
    first: to ``field_visit`` at 90 days past due, else to ``notified``."""
    base = standard_definition()
    first = TransitionSpec("promise_kept", ("promise",), "field_visit", (dpd_at_least(90),))
    return Workflow(dataclasses.replace(base, transitions=(first, *base.transitions)))


def test_leads_to_names_a_destination_only_the_graph_decides() -> None:
    """One edge, or edges agreeing: that stage.  Guarded edges to different stages: the
    guards pick, so ``None`` (not the first edge's stage, which its guards may refuse)."""
    standard = Workflow(standard_definition())
    assert standard.leads_to("promise_kept", "promise") == "notified"
    assert standard.leads_to("escalate", "notified") == "sms"
    assert standard.leads_to("cure", "phone") is None  # resolved, or pre_due
    assert standard.leads_to("promise_kept", "phone") is None  # no such edge
    assert _kept_two_ways().leads_to("promise_kept", "promise") is None


def test_a_reversal_takes_no_guarded_edge_its_guards_would_refuse() -> None:
    """A promise kept by the payment that cured the case, whose earlier payment bounces,
    in a graph where ``promise_kept`` leads to ``field_visit`` only at 90 days past due.
    The case is 20 days late: it goes back to ``promise``, where the cure started, never
    to ``field_visit`` (the first edge's stage, which its guard refuses)."""
    from test_payments import START, cny, loan

    clock = SettableClock(START)
    engine = Engine(clock=clock, workflow=_kept_two_ways())
    case_id = engine.open_case(loan(stage="phone")).id
    engine.record_payment(case_id, cny("1000.00"), reference="PRE")
    clock.set(START + timedelta(hours=1))
    engine.record_promise(case_id, cny("11530.00"), date(2027, 1, 25))
    clock.set(START + timedelta(hours=2))
    assert engine.record_payment(case_id, cny("11530.00"), reference="KEEP").cured
    clock.set(START + timedelta(hours=3))
    assert engine.case(case_id).days_past_due(START + timedelta(hours=3)) < 90
    assert engine.reverse_payment(case_id, "PRE").reopened == ("resolved", "promise")
    assert engine.case(case_id).stage == "promise"
    assert engine.verify() == []
