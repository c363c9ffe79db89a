"""No path around the guards: a case opens only where the workflow lets it, and
every journaled transition is judged again on replay.

An agent cannot open a case in litigation, nor can an import row; a legal
officer brings one in as a journaled `Migration`.  Every transition records
the roles of whoever fired it (and of the approver), so an export sealed
again after a transition was forged (an edge the graph lacks, a move out of
a terminal stage, roles short of the edge's, an approver who is the actor) is
refused by `Engine.from_journal` and reported by `Engine.verify`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from arrears import (
    SYSTEM,
    Actor,
    Case,
    Engine,
    InvalidInput,
    JournalCorrupted,
    JournalEntry,
    Migration,
    Money,
    RepaymentPlan,
    SettableClock,
    TransitionDenied,
    TransitionSpec,
    Workflow,
    WorkflowDefinition,
    approved_by,
    dpd_at_least,
    instalment_schedule,
    standard_definition,
)
from arrears.events import replay
from arrears.importer import import_portfolio
from arrears.journal import GENESIS, JournalProblem, seal, write_jsonl
from arrears.stores import SQLiteStore

#: 09:00 in Shanghai, 30 days after the due date of `case_data`.
START = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)

AGENT = Actor("agent-1", frozenset({"agent"}))
OFFICER = Actor("legal-1", frozenset({"legal_officer"}))
OTHER_OFFICER = Actor("legal-2", frozenset({"legal_officer"}))
SUPERVISOR = Actor("sup-1", frozenset({"supervisor"}))
RISK = Actor("risk-1", frozenset({"risk_officer"}))

LADDER = ("notified", "sms", "phone", "field_visit")
LEGAL = ("legal.demand_letter", "legal.litigation", "legal.judgment", "legal.enforcement")
TERMINAL = ("resolved", "settled", "written_off", "closed")
WORKING = (*LADDER, "promise", "repayment_plan", *LEGAL)
LIVE = ("pre_due", *WORKING)
STAGES = (*LIVE, *TERMINAL)
#: The triggers into and out of the stages that run on an agreement (a promise, a plan).
AGREEMENT_TRIGGERS = (
    "promise",
    "offer_plan",
    "plan_completed",
    "plan_broken",
    "promise_kept",
    "promise_broken",
)


def opened_in(stage: str) -> dict[str, Any]:
    """`case_data` in *stage*; in ``promise`` or ``repayment_plan``, carrying the open
    promise or active plan the stage runs on."""
    instalments = [{"due": "2026-09-20", "amount": {"amount": "1070.00", "currency": "CNY"}}]
    if stage == "promise":
        promise = {"id": "P-1", "made_at": "2026-09-09T10:00:00+08:00", "instalments": instalments}
        return case_data(stage=stage, promise=promise)
    if stage == "repayment_plan":
        plan = {"id": "PL-1", "kind": "extension", "instalments": instalments}
        return case_data(stage=stage, plan=plan)
    return case_data(stage=stage)


def case_data(case_id: str = "C-1", **overrides: Any) -> dict[str, Any]:
    """A case owing CNY 1070.00 since 2026-09-01, its debtor in Shanghai."""
    data: dict[str, Any] = {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "p1", "channel": "call", "address": "+8613812345678"}],
        "balance": {
            "currency": "CNY",
            "principal": "1000.00",
            "interest": "50.00",
            "penalty": "20.00",
        },
        "due_date": "2026-09-01",
    }
    data.update(overrides)
    return data


def new_engine(workflow: Workflow | None = None, **kwargs: Any) -> Engine:
    return Engine(workflow, clock=SettableClock(START), **kwargs)


def to_litigation(engine: Engine, case_id: str) -> None:
    """Take an open case in ``pre_due`` the whole legal way to ``legal.litigation``."""
    engine.fire(case_id, "notify")
    for _ in range(3):
        engine.record_interaction(case_id, "call", "no_answer", contact="p1", actor=AGENT)
    engine.clock.advance(days=61)  # type: ignore[attr-defined]
    engine.fire(case_id, "start_legal", actor=OFFICER)
    engine.record_notice(case_id, "demand_letter", actor=OFFICER)
    engine.clock.advance(days=30)  # type: ignore[attr-defined]
    engine.fire(case_id, "file_suit", actor=OFFICER, approver=SUPERVISOR)


def transition(
    trigger: str,
    source: str,
    dest: str,
    actor: Actor,
    approver: Actor | None = None,
) -> dict[str, Any]:
    """A transition's data, as the engine writes it."""
    data: dict[str, Any] = {
        "trigger": trigger,
        "source": source,
        "dest": dest,
        "actor": actor.id,
        "roles": sorted(actor.roles),
        "workflow": ["standard", "1"],
    }
    if approver is not None:
        data["approver"] = approver.id
        data["approver_roles"] = sorted(approver.roles)
    return data


def chains_of(engine: Engine) -> dict[str, list[JournalEntry]]:
    return {case_id: list(entries) for case_id, entries in engine.store.chains()}


def appended(
    chains: dict[str, list[JournalEntry]], case_id: str, kind: str, data: dict[str, Any]
) -> JournalEntry:
    """Seal an entry after the chain's last one, properly, as a forger who can hash would."""
    last = chains[case_id][-1]
    entry = seal(case_id, last.seq + 1, last.at, kind, data, last.hash)
    chains[case_id].append(entry)
    return entry


def export(chains: dict[str, list[JournalEntry]]) -> list[str]:
    """The chains as an export, its seal computed afresh over them."""
    out = io.StringIO()
    write_jsonl(chains.items(), out)
    return out.getvalue().splitlines(keepends=True)


def refused(lines: Sequence[str], workflow: Workflow | None = None) -> list[JournalProblem]:
    """The problems `from_journal` raises for *lines* (failing the test when it restores them)."""
    with pytest.raises(JournalCorrupted) as info:
        Engine.from_journal(lines, workflow, clock=SettableClock(START))
    return list(info.value.problems)


# -- opening -----------------------------------------------------------------------------


class TestOpeningStages:
    def test_the_standard_opening_stages(self) -> None:
        """Initial and what the system reaches alone; nothing past a person's or a role's edge."""
        assert Workflow().opening == frozenset(
            {"pre_due", "notified", "sms", "phone", "field_visit", "promise"}
        )

    def test_a_custom_workflow_derives_its_own(self) -> None:
        """A stage behind a role is not opening; one reached without any is, however far."""
        definition = WorkflowDefinition(
            name="bnpl",
            version="3",
            stages=("pre_due", "reminded", "agency", "late", "resolved"),
            initial="pre_due",
            terminal=frozenset({"resolved"}),
            transitions=(
                TransitionSpec("remind", ("pre_due",), "reminded", (dpd_at_least(1),)),
                TransitionSpec(
                    "assign_agency", ("reminded",), "agency", (approved_by("supervisor"),)
                ),
                TransitionSpec("lapse", ("agency",), "late"),
                TransitionSpec("cure", ("pre_due", "reminded", "agency", "late"), "resolved"),
            ),
        )
        assert Workflow(definition).opening == frozenset({"pre_due", "reminded"})

    def test_an_explicit_opening_set_overrides(self) -> None:
        """``opening`` in the definition is taken as it is: here only ``pre_due``."""
        base = standard_definition()
        definition = WorkflowDefinition(
            name=base.name,
            version=base.version,
            stages=base.stages,
            initial=base.initial,
            terminal=base.terminal,
            transitions=base.transitions,
            opening=frozenset({"pre_due"}),
        )
        engine = new_engine(Workflow(definition))
        with pytest.raises(InvalidInput, match="stage: got 'sms'"):
            engine.open_case(case_data(stage="sms"))
        assert engine.open_case(case_data()).stage == "pre_due"

    @pytest.mark.parametrize(
        ("opening", "wrong"),
        [({"resolved", "pre_due"}, ["resolved"]), ({"sms"}, ["sms"]), ({"pre_due", "x"}, ["x"])],
    )
    def test_a_wrong_opening_set_is_refused(self, opening: set[str], wrong: list[str]) -> None:
        """Terminal or unknown stages, or a set without ``initial``: named."""
        base = standard_definition()
        with pytest.raises(InvalidInput) as info:
            WorkflowDefinition(
                name="w",
                version="1",
                stages=base.stages,
                initial=base.initial,
                terminal=base.terminal,
                transitions=base.transitions,
                opening=frozenset(opening),
            )
        assert info.value.field == "opening"
        assert info.value.value == wrong

    @pytest.mark.parametrize("stage", ["repayment_plan", *LEGAL])
    @pytest.mark.parametrize("actor", [AGENT, SYSTEM, OFFICER])
    def test_opening_beyond_is_refused_naming_the_stage(self, stage: str, actor: Actor) -> None:
        """Whoever opens it, a case is not born in a legal stage or a plan: nothing stored."""
        engine = new_engine()
        with pytest.raises(InvalidInput) as info:
            engine.open_case(case_data(stage=stage), actor=actor)
        assert (info.value.field, info.value.value) == ("stage", stage)
        assert "an opening stage of workflow standard" in info.value.expected
        assert "migration" in info.value.expected
        assert len(engine.store) == 0

    @pytest.mark.parametrize("stage", ["pre_due", "sms", "field_visit", "promise"])
    def test_opening_stages_open_and_journal_the_roles(self, stage: str) -> None:
        engine = new_engine()
        assert engine.open_case(opened_in(stage), actor=AGENT).stage == stage
        opened = engine.history("C-1")[0].data
        assert (opened["actor"], opened["roles"]) == ("agent-1", ["agent"])
        assert "migration" not in opened
        assert engine.verify() == []

    def test_open_cases_refuses_the_batch_member_beyond(self) -> None:
        """`open_cases` applies the same rule; the cases before the refused one stay."""
        engine = new_engine()
        batch = [case_data("C-1"), case_data("C-2", stage="legal.litigation"), case_data("C-3")]
        with pytest.raises(InvalidInput, match=r"stage: got 'legal\.litigation'") as info:
            engine.open_cases(batch, actor=AGENT)
        assert "while opening record 1 of the batch" in info.value.__notes__
        assert sorted(engine.store.case_ids()) == ["C-1"]


class TestMigration:
    def test_a_legal_officer_migrates_into_the_demand_letter(self) -> None:
        engine = new_engine()
        moved = Migration("demand letter sent before the move", "legacy-cms")
        case = engine.open_case(
            case_data(stage="legal.demand_letter"), actor=OFFICER, migration=moved
        )
        assert case.stage == "legal.demand_letter"
        opened = engine.history("C-1")[0].data
        assert opened["actor"] == "legal-1"
        assert opened["roles"] == ["legal_officer"]
        assert opened["migration"] == {
            "reason": "demand letter sent before the move",
            "source_system": "legacy-cms",
        }
        assert engine.verify() == []

    def test_litigation_needs_the_second_approver_the_suit_needs(self) -> None:
        """Migrating into litigation asks what ``file_suit`` asks: another person's approval."""
        engine = new_engine()
        alone = Migration("suit filed before the move", "legacy-cms")
        with pytest.raises(InvalidInput) as info:
            engine.open_case(case_data(stage="legal.litigation"), actor=OFFICER, migration=alone)
        assert (info.value.field, info.value.value) == ("actor", "legal-1")
        assert "'legal.litigation'" in info.value.expected
        assert "file_suit: needs a second approver" in info.value.expected
        for approver in (
            Actor("LEGAL-1", frozenset({"legal_officer"})),
            AGENT,
            Actor("system", frozenset({"supervisor"})),  # the engine is no second person
            Actor("SYSTEM", frozenset({"supervisor"})),
        ):
            with pytest.raises(InvalidInput, match="file_suit"):
                engine.open_case(
                    case_data(stage="legal.litigation"),
                    actor=OFFICER,
                    migration=Migration("suit filed", "legacy-cms", approver=approver),
                )
        assert len(engine.store) == 0
        approved = Migration("suit filed before the move", "legacy-cms", approver=SUPERVISOR)
        engine.open_case(case_data(stage="legal.litigation"), actor=OFFICER, migration=approved)
        opened = engine.history("C-1")[0].data
        assert opened["migration"]["approver"] == "sup-1"
        assert opened["migration"]["approver_roles"] == ["supervisor"]
        assert engine.verify() == []
        # Worked on from there, and restored from its export.
        engine.fire("C-1", "record_judgment", actor=OFFICER)
        out = io.StringIO()
        engine.export_journal(out)
        restored = Engine.from_journal(out.getvalue().splitlines(), clock=SettableClock(START))
        assert restored.case("C-1") == engine.case("C-1")

    @pytest.mark.parametrize("actor", [AGENT, SYSTEM, SUPERVISOR])
    def test_without_the_roles_the_migration_is_refused(self, actor: Actor) -> None:
        """An agent, the system or a supervisor cannot bring a case into legal: each guard named."""
        engine = new_engine()
        moved = Migration("moved", "legacy-cms", approver=OTHER_OFFICER)
        with pytest.raises(InvalidInput) as info:
            engine.open_case(case_data(stage="legal.demand_letter"), actor=actor, migration=moved)
        assert info.value.field == "actor"
        assert "start_legal:" in info.value.expected
        assert len(engine.store) == 0

    def test_an_agent_may_migrate_a_plan(self) -> None:
        """``offer_plan`` asks for an agent: one may bring a plan in, not the system."""
        engine = new_engine()
        moved = Migration("plan agreed before the move", "legacy-cms")
        with pytest.raises(InvalidInput, match="offer_plan: 'offer_plan' is a manual trigger"):
            engine.open_case(case_data(stage="repayment_plan"), migration=moved)
        engine.open_case(opened_in("repayment_plan"), actor=AGENT, migration=moved)
        assert engine.verify() == []

    def test_a_batch_migrates_together(self) -> None:
        engine = new_engine()
        moved = Migration("portfolio moved", "legacy-cms")
        count = engine.open_cases(
            [case_data(f"C-{n}", stage="legal.demand_letter") for n in range(3)],
            actor=OFFICER,
            migration=moved,
        )
        assert count == 3
        assert engine.verify() == []

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"reason": "", "source_system": "x"}, "migration.reason"),
            ({"reason": "  ", "source_system": "x"}, "migration.reason"),
            ({"reason": "r", "source_system": ""}, "migration.source_system"),
            ({"reason": "r", "source_system": "s" * 129}, "migration.source_system"),
            ({"reason": "r" * 501, "source_system": "x"}, "migration.reason"),
            ({"reason": "r", "source_system": "x", "approver": "sup-1"}, "migration.approver"),
        ],
    )
    def test_a_bad_migration_is_refused(self, kwargs: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as info:
            Migration(**kwargs)
        assert info.value.field == field

    def test_migration_into_a_terminal_stage_is_refused(self) -> None:
        engine = new_engine()
        with pytest.raises(InvalidInput, match="stage: got 'resolved'"):
            engine.open_case(
                case_data(stage="resolved"), actor=OFFICER, migration=Migration("r", "x")
            )


class TestImport:
    def test_a_row_in_a_legal_stage_is_refused(self, tmp_path: Path) -> None:
        """The importer's ``stage`` column follows the same rule: the row named, nothing opened."""
        path = tmp_path / "portfolio.csv"
        path.write_text(
            "id,debtor_id,currency,due_date,principal,stage\n"
            "L-1,D-1,CNY,2026-09-01,100.00,phone\n"
            "L-2,D-2,CNY,2026-09-01,100.00,legal.litigation\n",
            encoding="utf-8",
        )
        engine = new_engine()
        report = import_portfolio(engine, path)
        assert report.imported == 0
        assert [(error.line, error.field) for error in report.errors] == [(3, "stage")]
        assert "legal.litigation" in report.errors[0].message
        assert len(engine.store) == 0
        report = import_portfolio(engine, path, skip_bad=True)
        assert report.imported == 1
        assert list(engine.store.case_ids()) == ["L-1"]


# -- what transitions journal ---------------------------------------------------------------


class TestJournaledRoles:
    def test_every_transition_journals_roles_and_the_approver(self) -> None:
        engine = new_engine()
        engine.open_case(case_data())
        to_litigation(engine, "C-1")
        moves = [e.data for e in engine.history("C-1") if e.kind == "transition"]
        assert [(d["trigger"], d["actor"], d["roles"]) for d in moves] == [
            ("notify", "system", ["system"]),
            ("start_legal", "legal-1", ["legal_officer"]),
            ("file_suit", "legal-1", ["legal_officer"]),
        ]
        assert (moves[2]["approver"], moves[2]["approver_roles"]) == ("sup-1", ["supervisor"])
        assert "approver" not in moves[1]
        assert "approver_roles" not in moves[1]
        assert engine.verify() == []

    def test_a_refusal_journals_them_too(self) -> None:
        engine = new_engine()
        engine.open_case(case_data(stage="phone"))
        with pytest.raises(TransitionDenied):
            engine.fire("C-1", "start_legal", actor=AGENT, approver=SUPERVISOR)
        refusal = engine.history("C-1")[-1]
        assert refusal.kind == "refusal"
        assert refusal.data["roles"] == ["agent"]
        assert refusal.data["approver_roles"] == ["supervisor"]


# -- forged exports and stores -----------------------------------------------------------------


def litigation_engine() -> Engine:
    engine = new_engine()
    engine.open_case(case_data())
    engine.open_case(case_data("C-2"))
    to_litigation(engine, "C-1")
    return engine


class TestForgedExport:
    def test_the_untouched_export_restores(self) -> None:
        engine = litigation_engine()
        restored = Engine.from_journal(export(chains_of(engine)), clock=SettableClock(START))
        assert restored.case("C-1") == engine.case("C-1")

    def test_start_legal_by_an_agent(self) -> None:
        """An agent's ``start_legal`` sealed onto the chain: refused, naming case, place, roles."""
        engine = new_engine()
        engine.open_case(case_data())
        engine.fire("C-1", "notify")
        chains = chains_of(engine)
        forged = appended(
            chains, "C-1", "transition", transition("start_legal", "notified", LEGAL[0], AGENT)
        )
        problems = refused(export(chains))
        assert [(p.case_id, p.position, p.problem) for p in problems] == [
            ("C-1", forged.seq, "forbidden")
        ]
        assert "'start_legal' by 'agent-1' with roles ['agent']" in problems[0].detail
        assert "needs one of ['legal_officer']" in problems[0].detail

    def test_an_edge_the_graph_lacks(self) -> None:
        """``escalate`` straight from ``notified`` to litigation: no such edge."""
        engine = new_engine()
        engine.open_case(case_data())
        engine.fire("C-1", "notify")
        chains = chains_of(engine)
        appended(chains, "C-1", "transition", transition("escalate", "notified", LEGAL[1], OFFICER))
        (problem,) = refused(export(chains))
        assert problem.problem == "forbidden"
        assert (
            "'escalate' from 'notified' leads to ['sms'], not 'legal.litigation'" in problem.detail
        )

    def test_a_cure_out_of_resolved(self) -> None:
        """A terminal stage stays terminal: ``cure`` from ``resolved`` to judgment is refused."""
        engine = new_engine()
        engine.open_case(case_data())
        engine.fire("C-1", "notify")
        engine.record_payment("C-1", Money("1070.00", "CNY"), reference="P-1")
        assert engine.case("C-1").stage == "resolved"
        chains = chains_of(engine)
        forged = appended(
            chains, "C-1", "transition", transition("cure", "resolved", LEGAL[2], SYSTEM)
        )
        (problem,) = refused(export(chains))
        assert (problem.position, problem.problem) == (forged.seq, "forbidden")
        assert "terminal stage 'resolved'" in problem.detail

    def test_a_source_the_case_was_not_in(self) -> None:
        """A ``file_suit`` that claims the demand-letter stage for a case still at ``notified``."""
        engine = new_engine()
        engine.open_case(case_data())
        engine.fire("C-1", "notify")
        chains = chains_of(engine)
        data = transition("file_suit", LEGAL[0], LEGAL[1], OFFICER, SUPERVISOR)
        appended(chains, "C-1", "transition", data)
        (problem,) = refused(export(chains))
        assert "records source 'legal.demand_letter', but the case stood in 'notified'" in (
            problem.detail
        )

    @pytest.mark.parametrize("approver_id", ["LEGAL-1", "Legal-1", "legal\u200b-1", " legal-1"])
    def test_four_eyes_approved_by_the_actor(self, approver_id: str) -> None:
        """``file_suit`` approved by the actor under another case or an invisible character."""
        engine = new_engine()
        engine.open_case(case_data())
        to_litigation(engine, "C-1")
        chains = chains_of(engine)
        # Take the real file_suit out and seal a self-approved one in its place.
        chains["C-1"].pop()
        data = transition("file_suit", LEGAL[0], LEGAL[1], OFFICER)
        data["approver"] = approver_id
        data["approver_roles"] = ["legal_officer"]
        forged = appended(chains, "C-1", "transition", data)
        (problem,) = refused(export(chains))
        assert (problem.case_id, problem.position, problem.problem) == (
            "C-1",
            forged.seq,
            "forbidden",
        )
        assert ("four eyes need two people" in problem.detail) or (
            "approver cannot be read" in problem.detail
        )

    def test_a_refusal_that_claims_to_have_moved_the_case(self) -> None:
        """A forged ``refusal`` of ``start_legal`` recording a move to the demand letter."""
        engine = new_engine()
        engine.open_case(case_data())
        engine.fire("C-1", "notify")
        chains = chains_of(engine)
        data = transition("start_legal", "notified", LEGAL[0], AGENT)
        data["failures"] = [{"guard": "approved_by(legal_officer)", "reason": "x", "values": {}}]
        forged = appended(chains, "C-1", "refusal", data)
        (problem,) = refused(export(chains))
        assert (problem.position, problem.problem) == (forged.seq, "forbidden")
        assert "a refused trigger leaves the case where it stood, 'notified'" in problem.detail

    def test_four_eyes_approved_by_the_system(self) -> None:
        """``file_suit`` approved by "system" holding a supervisor's role: no second person."""
        engine = new_engine()
        engine.open_case(case_data())
        to_litigation(engine, "C-1")
        chains = chains_of(engine)
        chains["C-1"].pop()
        data = transition("file_suit", LEGAL[0], LEGAL[1], OFFICER)
        data["approver"] = "system"
        data["approver_roles"] = ["supervisor"]
        forged = appended(chains, "C-1", "transition", data)
        (problem,) = refused(export(chains))
        assert (problem.position, problem.problem) == (forged.seq, "forbidden")
        assert "the system approves nothing" in problem.detail

    def test_a_guarded_transition_without_roles(self) -> None:
        """Written before roles were journaled: a guarded one is reported, a plain one not."""
        engine = new_engine()
        engine.open_case(case_data())
        engine.fire("C-1", "notify")
        chains = chains_of(engine)
        plain = transition("escalate", "notified", "sms", SYSTEM)
        del plain["roles"]
        appended(chains, "C-1", "transition", plain)
        Engine.from_journal(export(chains), clock=SettableClock(START))  # restores
        guarded = transition("start_legal", "sms", LEGAL[0], OFFICER)
        del guarded["roles"]
        forged = appended(chains, "C-1", "transition", guarded)
        (problem,) = refused(export(chains))
        assert problem.position == forged.seq
        assert "needs by_person, approved_by(legal_officer)" in problem.detail
        assert "records no roles" in problem.detail

    def test_a_case_born_in_litigation(self) -> None:
        """A whole chain whose ``opened`` snapshot stands in litigation, with no migration."""
        engine = new_engine()
        engine.open_case(case_data())
        chains = chains_of(engine)
        snapshot = Case.model_validate(case_data("C-9", stage="legal.litigation", opened_at=START))
        opened = {
            "actor": "agent-1",
            "roles": ["agent"],
            "case": snapshot.model_dump_json(),
            "workflow": ["standard", "1"],
        }
        chains["C-9"] = [seal("C-9", 0, START, "opened", opened, GENESIS)]
        (problem,) = refused(export(chains))
        assert (problem.case_id, problem.position, problem.problem) == ("C-9", 0, "forbidden")
        assert "opened in stage 'legal.litigation'" in problem.detail
        assert "records no migration" in problem.detail
        # A migration claimed by an agent is no better.
        opened["migration"] = {"reason": "moved", "source_system": "legacy-cms"}
        chains["C-9"] = [seal("C-9", 0, START, "opened", opened, GENESIS)]
        (problem,) = refused(export(chains))
        assert "migration into 'legal.litigation': start_legal:" in problem.detail

    def test_a_reversal_that_moves_the_stage_elsewhere(self) -> None:
        """A ``payment_reversed`` that takes the case to litigation instead of back."""
        engine = new_engine()
        engine.open_case(case_data())
        engine.fire("C-1", "notify")
        engine.record_payment("C-1", Money("1070.00", "CNY"), reference="P-1")
        chains = chains_of(engine)
        clean = dict(chains)
        clean["C-1"] = list(chains["C-1"])
        engine.reverse_payment("C-1", "P-1")
        real = engine.history("C-1")[-1]
        assert real.data["stage"] == {"from": "resolved", "to": "notified"}
        Engine.from_journal(export(chains_of(engine)), clock=SettableClock(START))  # the real one
        appended(
            clean,
            "C-1",
            "payment_reversed",
            {**real.data, "stage": {"from": "resolved", "to": LEGAL[1]}},
        )
        (problem,) = refused(export(clean))
        assert "moves the case from 'resolved' to 'legal.litigation'" in problem.detail

    def test_a_reopening_that_moves_the_stage_elsewhere_or_names_no_resolution(self) -> None:
        """An ``agreement_reopened`` (a promise over two loans, kept, then a payment towards
        it on the other loan returned) that takes the case to litigation, or that re-opens
        a promise the chain never kept."""
        engine = new_engine()
        debtor = {"id": "D-1", "timezone": "Asia/Shanghai"}
        for case_id in ("C-1", "C-2"):
            engine.open_case(case_data(case_id, debtor=debtor))
            engine.fire(case_id, "notify")
        engine.record_promise("C-1", Money("1570.00", "CNY"), START.date(), covers=["C-2"])
        engine.record_payment("C-2", Money("500.00", "CNY"), reference="P-2")
        engine.record_payment("C-1", Money("1070.00", "CNY"), reference="P-1")
        assert engine.case("C-2").stage == "notified"  # promise_kept
        clean = chains_of(engine)
        engine.reverse_payment("C-1", "P-1")
        real = engine.history("C-2")[-1]
        assert real.kind == "agreement_reopened"
        assert real.data["stage"] == {"from": "notified", "to": "promise"}
        Engine.from_journal(export(chains_of(engine)), clock=SettableClock(START))  # the real one
        elsewhere = {key: list(entries) for key, entries in clean.items()}
        appended(
            elsewhere,
            "C-2",
            "agreement_reopened",
            {**real.data, "stage": {"from": "notified", "to": LEGAL[1]}},
        )
        (problem,) = refused(export(elsewhere))
        assert (problem.case_id, problem.problem) == ("C-2", "forbidden")
        assert "moves the case back to 'legal.litigation'" in problem.detail
        payment = next(e for e in clean["C-2"] if e.kind == "payment")
        appended(clean, "C-2", "agreement_reopened", {**real.data, "resolved_seq": payment.seq})
        (problem,) = refused(export(clean))
        assert f"names seq {payment.seq}, which is not where it was kept" in problem.detail

    def test_several_forgeries_are_all_named(self) -> None:
        engine = litigation_engine()
        chains = chains_of(engine)
        appended(chains, "C-2", "transition", transition("notify", "pre_due", "notified", SYSTEM))
        appended(
            chains, "C-2", "transition", transition("start_legal", "notified", LEGAL[0], AGENT)
        )
        appended(chains, "C-2", "transition", transition("file_suit", LEGAL[0], LEGAL[1], AGENT))
        problems = refused(export(chains))
        assert [(p.case_id, p.position) for p in problems] == [("C-2", 2), ("C-2", 3)]


class TestForgedStore:
    """A writer who appends through the store, with the stored case moved to match."""

    @staticmethod
    def forge(store: SQLiteStore, case_id: str, kind: str, data: dict[str, Any]) -> JournalEntry:
        entries = list(store.entries(case_id))
        last = entries[-1]
        entry = seal(case_id, last.seq + 1, last.at, kind, data, last.hash)
        case = replay([*entries, entry])  # the stored case as the forger leaves it
        with store.transaction():
            store.append(entry, case)
        return entry

    def test_verify_names_each_forged_transition(self, tmp_path: Path) -> None:
        with SQLiteStore(tmp_path / "arrears.db") as store:
            engine = Engine(store=store, clock=SettableClock(START))
            engine.open_case(case_data())
            engine.open_case(case_data("C-2"))
            engine.open_case(case_data("C-3"))
            to_litigation(engine, "C-1")
            engine.record_payment("C-2", Money("1070.00", "CNY"), reference="P-1")
            engine.fire("C-3", "notify")
            assert engine.verify() == []
            by_agent = self.forge(
                store, "C-3", "transition", transition("start_legal", "notified", LEGAL[0], AGENT)
            )
            out_of_resolved = self.forge(
                store, "C-2", "transition", transition("cure", "resolved", LEGAL[2], SYSTEM)
            )
            self_approved = transition("enforce", LEGAL[2], LEGAL[3], OFFICER)
            self.forge(
                store,
                "C-1",
                "transition",
                transition("record_judgment", LEGAL[1], LEGAL[2], OFFICER),
            )
            self_approved["approver"] = "Legal-1"
            self_approved["approver_roles"] = ["legal_officer"]
            enforced = self.forge(store, "C-1", "transition", self_approved)
        with SQLiteStore(tmp_path / "arrears.db") as store:
            problems = Engine(store=store).verify()
        found = sorted((p.case_id, p.position, p.problem) for p in problems)
        assert found == [
            ("C-1", enforced.seq, "forbidden"),
            ("C-2", out_of_resolved.seq, "forbidden"),
            ("C-3", by_agent.seq, "forbidden"),
        ]
        with (
            SQLiteStore(tmp_path / "arrears.db") as store,
            pytest.raises(JournalCorrupted, match="forbidden"),
        ):
            Engine(store=store).replay("C-3")


# -- hypothesis: legal runs replay, single forgeries are caught --------------------------------

ACTORS = (SYSTEM, AGENT, OFFICER, OTHER_OFFICER, SUPERVISOR, RISK)
APPROVERS = (None, *ACTORS, Actor("LEGAL-1", frozenset({"legal_officer"})))
TRIGGERS = Workflow().triggers

# A fire step names a trigger by its place among those defined from the stage the
# case stands in when it runs, so runs get somewhere (legal stages among them).
fire_op = st.tuples(
    st.just("fire"),
    st.integers(0, 20),
    st.sampled_from((*ACTORS, OFFICER, OFFICER)),
    st.sampled_from((*APPROVERS, SUPERVISOR)),
)
legal_op = st.tuples(  # the next legal step from where the case stands, if any
    st.just("legal"),
    st.sampled_from((OFFICER, OFFICER, AGENT, SUPERVISOR)),
    st.sampled_from((SUPERVISOR, OTHER_OFFICER, Actor("LEGAL-1", frozenset({"legal_officer"})))),
)
operation = st.one_of(
    fire_op,
    fire_op,
    fire_op,
    st.tuples(st.just("interaction"), st.sampled_from(("no_answer", "conversation"))),
    st.tuples(st.just("interaction"), st.just("no_answer")),
    st.tuples(st.just("notice"), st.just("demand_letter")),
    st.tuples(st.just("prepare"), st.just(None)),
    st.tuples(st.just("advance"), st.integers(1, 45)),
    st.tuples(st.just("advance"), st.integers(20, 45)),
    st.tuples(st.just("prepare"), st.just(None)),  # ripe for legal: 3 attempts, 61 days on
    legal_op,
    legal_op,
    legal_op,
    st.tuples(st.just("pay"), st.integers(1, 250)),
    st.tuples(st.just("reverse"), st.just(None)),
    st.tuples(st.just("hold"), st.sampled_from(("dispute", "hardship"))),
    st.tuples(st.just("release"), st.just(None)),
    # The agreements the promise and repayment_plan stages run on, and bare fires of the
    # triggers into and out of those stages, which must not leave a case there without one.
    st.tuples(st.just("promise"), st.integers(1, 1070), st.integers(0, 20)),
    st.tuples(st.just("plan"), st.integers(1, 3), st.sampled_from((AGENT, SUPERVISOR))),
    st.tuples(st.just("review"), st.just(None)),
    st.tuples(
        st.just("bare"),
        st.sampled_from(AGREEMENT_TRIGGERS),
        st.sampled_from((SYSTEM, AGENT, SUPERVISOR)),
    ),
)


def run(engine: Engine, steps: Iterable[tuple[Any, ...]]) -> None:
    """Run *steps* on case C-1 the way a host would: every refusal journaled and carried on.

    After each step the case stands in ``promise`` or ``repayment_plan`` only with the
    agreement that stage runs on (`runs_on_its_agreement`), and each trigger fired is
    held to the oracle's agreement guards (`judged_by_the_oracle`).
    """
    payments = 0
    for step in steps:
        kind = step[0]
        case = engine.case("C-1")
        try:
            if kind == "fire":
                available = engine.workflow.available(case.stage)
                if available:
                    trigger = available[step[1] % len(available)]
                    judged_by_the_oracle(engine, case, trigger, step[2], step[3])
            elif kind == "bare":  # straight at an agreement's trigger, wherever the case is
                if step[1] in engine.workflow.available(case.stage):
                    judged_by_the_oracle(engine, case, step[1], step[2], None)
            elif kind == "promise":
                due = case.local_date(engine.clock.now()) + timedelta(days=step[2])
                amount = Money(Decimal(step[1]), "CNY")
                engine.record_promise("C-1", min(amount, case.balance.outstanding), due)
            elif kind == "plan":
                arrears = engine.arrears_at("C-1")
                first = case.local_date(engine.clock.now()) + timedelta(days=3)
                plan = RepaymentPlan(
                    id=f"PL-{len(engine.history('C-1'))}",
                    kind="minimum",
                    instalments=instalment_schedule(arrears, first, count=step[1]),
                )
                engine.start_plan("C-1", plan, actor=step[2])
            elif kind == "review":
                engine.review_promises("C-1")
                engine.review_plan("C-1")
            elif kind == "legal":
                steps_on = ("start_legal", "file_suit", "record_judgment", "enforce")
                available = engine.workflow.available(case.stage)
                for trigger in (name for name in steps_on if name in available):
                    engine.fire("C-1", trigger, actor=step[1], approver=step[2])
                    break
            elif kind == "interaction":
                engine.record_interaction("C-1", "call", step[1], contact="p1", actor=AGENT)
            elif kind == "notice":
                engine.record_notice("C-1", step[1], actor=OFFICER)
            elif kind == "advance":
                engine.clock.advance(days=step[1])  # type: ignore[attr-defined]
            elif kind == "prepare":
                for _ in range(3):
                    engine.record_interaction("C-1", "call", "no_answer", contact="p1", actor=AGENT)
                engine.clock.advance(days=61)  # type: ignore[attr-defined]
            elif kind == "pay":
                payments += 1
                amount = Money(Decimal(step[1]), "CNY")
                engine.record_payment("C-1", amount, reference=f"P-{payments}")
            elif kind == "reverse" and payments:
                engine.reverse_payment("C-1", f"P-{payments}")
            elif kind == "hold":
                engine.add_hold("C-1", step[1], "said so on the phone", actor=AGENT)
            elif kind == "release":
                active = [hold for hold in case.holds if hold.released_at is None]
                if active:
                    engine.release_hold("C-1", active[0].id, actor=AGENT)
        except (TransitionDenied, InvalidInput):
            pass
        runs_on_its_agreement(engine.case("C-1"))


def runs_on_its_agreement(case: Case) -> None:
    """A case in ``promise`` holds an open promise, in ``repayment_plan`` an active plan:
    what their reviews read to move it on.  Without it nothing ever would."""
    if case.stage == "promise":
        assert case.promise is not None
        assert case.promise.is_open, case.promise
    if case.stage == "repayment_plan":  # or completed, owing again after a reversal: the
        # next review fires plan_completed (test_agreements_stateful judges that way out)
        assert case.plan is not None
        assert str(case.plan.status) != "broken", case.plan


def judged_by_the_oracle(
    engine: Engine, case: Case, trigger: str, actor: Actor, approver: Actor | None
) -> None:
    """Fire *trigger* on C-1 (standing as *case*); where the oracle's agreement guard
    (`AGREEMENT_GUARDS`) fails on *case*, the fire must be refused naming it, and the
    refusal journaled."""
    length = len(engine.history("C-1"))
    missing = missing_agreement(case, trigger)
    if missing is not None:
        with pytest.raises(TransitionDenied) as info:
            engine.fire("C-1", trigger, actor=actor, approver=approver)
        assert missing in [failure.guard for failure in info.value.failures]
        refusal = engine.history("C-1")[length]
        assert refusal.kind == "refusal"
        assert missing in [failure["guard"] for failure in refusal.data["failures"]]
        return
    engine.fire("C-1", trigger, actor=actor, approver=approver)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(operation, min_size=20, max_size=60), st.sampled_from(("pre_due", "phone", "promise"))
)
def test_legal_runs_replay_cleanly(steps: list[tuple[Any, ...]], stage: str) -> None:
    """Whatever a host does through the engine, the journal replays under every check."""
    engine = new_engine()
    engine.open_case(opened_in(stage))
    run(engine, steps)
    visited = {entry.data["dest"] for entry in engine.history("C-1") if entry.kind == "transition"}
    event("reached legal" if visited & set(LEGAL) else "stayed out of legal")
    event("four eyes" if visited & set(LEGAL[1::2]) else "no four-eyes edge")
    event("entered an agreement stage" if visited & {"promise", "repayment_plan"} else "none")
    refused_for = {
        failure["guard"]
        for entry in engine.history("C-1")
        if entry.kind == "refusal"
        for failure in entry.data["failures"]
    }
    for name in AGREEMENT_GUARDS:
        event(f"{name} refused" if name in refused_for else f"{name} never refused")
    assert engine.verify() == []
    restored = Engine.from_journal(export(chains_of(engine)), clock=SettableClock(START))
    assert restored.case("C-1") == engine.case("C-1")


# The standard graph, written out here by hand: the oracle the checks are held to.
EDGES: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "notify": [(("pre_due",), "notified")],
    "escalate": [(("notified",), "sms"), (("sms",), "phone"), (("phone",), "field_visit")],
    "promise": [((*LADDER, *LEGAL), "promise")],
    "promise_kept": [(("promise",), "notified")],
    "promise_broken": [(("promise",), "phone")],
    "offer_plan": [((*LADDER, "promise", *LEGAL), "repayment_plan")],
    "plan_completed": [
        (("repayment_plan",), "resolved"),
        (("repayment_plan",), "pre_due"),
        (("repayment_plan",), "notified"),
    ],
    "plan_broken": [(("repayment_plan",), "phone")],
    "start_legal": [((*LADDER, "promise", "repayment_plan"), LEGAL[0])],
    "file_suit": [((LEGAL[0],), LEGAL[1])],
    "record_judgment": [((LEGAL[1],), LEGAL[2])],
    "enforce": [((LEGAL[2],), LEGAL[3])],
    "cure": [(LIVE, "resolved"), (WORKING, "pre_due")],
    "settle": [(WORKING, "settled")],
    "write_off": [(LIVE, "written_off")],
    "close": [(LIVE, "closed")],
}
#: trigger: (roles one of which the actor needs, roles one of which a second person needs)
PEOPLE: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "offer_plan": (("agent", "supervisor"), None),
    "start_legal": (("legal_officer",), None),
    "file_suit": (("legal_officer",), ("legal_officer", "supervisor")),
    "record_judgment": (("legal_officer",), None),
    "enforce": (("legal_officer",), ("legal_officer", "supervisor")),
    "settle": (("supervisor",), None),
    "write_off": (("supervisor",), ("risk_officer", "supervisor")),
    "close": (("supervisor",), None),
}


#: guard: (the agreement it reads, the statuses that pass it, the trigger that asks for it)
AGREEMENT_GUARDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "open_promise()": ("promise", ("open",), "promise"),
    "active_plan()": ("plan", ("active",), "offer_plan"),
    "kept_promise()": ("promise", ("kept",), "promise_kept"),
    "broken_promise()": ("promise", ("broken", "partly_kept"), "promise_broken"),
    "completed_plan()": ("plan", ("completed",), "plan_completed"),
    "broken_plan()": ("plan", ("broken",), "plan_broken"),
}


def missing_agreement(case: Case, trigger: str) -> str | None:
    """The agreement guard of the standard graph *trigger* fails on *case*, if any.

    ``promise`` needs an open promise and ``offer_plan`` an active plan: their stages run
    on them.  The ways out need the agreement ended as they say: ``promise_kept`` a
    promise kept, ``promise_broken`` one broken or partly kept, ``plan_completed`` (every
    route, whatever is owed) a plan completed, ``plan_broken`` a plan broken.  These are
    guards about the case, judged when fired, not on replay (`allowed`).
    """
    for name, (agreement, statuses, guarded) in AGREEMENT_GUARDS.items():
        if trigger != guarded:
            continue
        held = case.promise if agreement == "promise" else case.plan
        if held is None or str(held.status) not in statuses:
            return name
    return None


def allowed(stage: str, data: dict[str, Any]) -> bool:
    """Whether the standard workflow allows the journaled transition *data* on a case in *stage*."""
    trigger = data["trigger"]
    if data["source"] != stage or stage in TERMINAL:
        return False
    if not any(stage in sources and dest == data["dest"] for sources, dest in EDGES[trigger]):
        return False
    if trigger not in PEOPLE:
        return True
    if "roles" not in data or data["actor"] == "system":
        return False
    needs, second = PEOPLE[trigger]
    if not set(data["roles"]) & set(needs):
        return False
    if second is None:
        return True
    approver = data.get("approver")
    return (
        approver is not None
        and approver.casefold() != data["actor"].casefold()
        and bool(set(data["approver_roles"]) & set(second))
    )


@cache
def base(stage: str) -> tuple[tuple[JournalEntry, ...], str]:
    """A real chain of case C-1 that ends with the case standing in *stage*."""
    engine = new_engine()
    if stage in ("pre_due", "phone", "promise"):
        engine.open_case(opened_in(stage))
    elif stage == "resolved":
        engine.open_case(case_data(stage="phone"))
        engine.record_payment("C-1", Money("1070.00", "CNY"), reference="P-1")
    elif stage == "repayment_plan":
        moved = Migration("plan agreed before the move", "legacy-cms")
        engine.open_case(opened_in(stage), actor=AGENT, migration=moved)
    else:
        engine.open_case(case_data())
        to_litigation(engine, "C-1")
        if stage == LEGAL[2]:
            engine.fire("C-1", "record_judgment", actor=OFFICER)
    assert engine.case("C-1").stage == stage
    return tuple(engine.history("C-1")), stage


forgery = st.fixed_dictionaries(
    {
        "base": st.sampled_from(
            ("pre_due", "phone", "promise", "repayment_plan", LEGAL[1], LEGAL[2], "resolved")
        ),
        "trigger": st.sampled_from(TRIGGERS),
        # None: the stage the case stands in (most of the time); else any stage.
        "source": st.one_of(st.none(), st.none(), st.none(), st.sampled_from(STAGES)),
        "dest": st.sampled_from(STAGES),
        "actor": st.sampled_from(("system", "agent-1", "legal-1", "Legal-1", "sup-1", "risk-1")),
        "roles": st.one_of(
            st.none(),  # journaled before roles were
            st.sets(st.sampled_from(("agent", "supervisor", "legal_officer", "risk_officer"))),
            st.sets(st.sampled_from(("agent", "supervisor", "legal_officer", "risk_officer"))),
        ),
        "approver": st.one_of(
            st.none(), st.sampled_from(("legal-1", "LEGAL-1", "legal-2", "sup-1", "risk-1"))
        ),
        "approver_roles": st.sets(
            st.sampled_from(("agent", "supervisor", "legal_officer", "risk_officer"))
        ),
    }
)


def edge_dest(trigger: str, stage: str) -> str | None:
    """Where *trigger* leads from *stage* in the oracle's graph (its first route), if anywhere."""
    return next((dest for sources, dest in EDGES[trigger] if stage in sources), None)


@settings(max_examples=400, deadline=None)
@given(forgery, st.booleans(), st.data())
def test_a_single_forged_transition_is_caught_exactly_when_forbidden(
    forged: dict[str, Any], on_graph: bool, draw: st.DataObject
) -> None:
    """A transition sealed onto a real chain restores exactly when the graph and roles allow it."""
    entries, stage = base(forged["base"])
    trigger, dest = forged["trigger"], forged["dest"]
    leaving = [name for name in TRIGGERS if edge_dest(name, stage) is not None]
    if on_graph and leaving:  # half the time an edge of the graph: the roles then decide
        trigger = draw.draw(st.sampled_from(leaving))
        dest = edge_dest(trigger, stage) or dest
    data: dict[str, Any] = {
        "trigger": trigger,
        "source": forged["source"] or stage,
        "dest": dest,
        "actor": forged["actor"],
        "workflow": ["standard", "1"],
    }
    if forged["roles"] is not None:
        data["roles"] = sorted(forged["roles"])
    if forged["approver"] is not None:
        data["approver"] = forged["approver"]
        data["approver_roles"] = sorted(forged["approver_roles"])
    chains = {"C-1": list(entries)}
    entry = appended(chains, "C-1", "transition", data)
    lines = export(chains)
    event("allowed" if allowed(stage, data) else "forbidden")
    if allowed(stage, data):
        restored = Engine.from_journal(lines, clock=SettableClock(START))
        assert restored.case("C-1").stage == dest
    else:
        problems = refused(lines)
        assert [(p.case_id, p.position, p.problem) for p in problems] == [
            ("C-1", entry.seq, "forbidden")
        ]
