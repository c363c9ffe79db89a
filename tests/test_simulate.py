"""`arrears.simulate`: debtors and agents around the engine, reproducible, and always compliant."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from arrears import Case, Engine, MemoryStore, Money, SettableClock
from arrears.compliance import ContactHistory, Proposal
from arrears.errors import InvalidInput
from arrears.events import apply_entry
from arrears.policy import TaskAction, load_policy
from arrears.simulate import (
    DEFAULT_BEHAVIOUR,
    Behaviour,
    Profile,
    Simulation,
    SimulationResult,
    Workforce,
    _Watched,
    load_portfolio,
    synthetic_portfolio,
)
from arrears.stores import SQLiteStore
from test_debtor_tasks import POLICY, loan

ROOT = Path(__file__).resolve().parent.parent
CN = ROOT / "examples" / "policies" / "cn_consumer_loan.yaml"
VISIT = {"collectors": 2, "credentials": True, "registered": True, "recorded": True}


def run(cases: int = 120, days: int = 20, seed: int = 3, **options: object) -> SimulationResult:
    simulation = Simulation(load_policy(CN), seed=seed, **options)  # type: ignore[arg-type]
    return simulation.run(synthetic_portfolio(cases, seed=seed), days=days)


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return run(cases=150, days=25)


class TestPortfolio:
    def test_the_same_seed_gives_the_same_records(self) -> None:
        assert synthetic_portfolio(30, seed=1) == synthetic_portfolio(30, seed=1)
        assert synthetic_portfolio(30, seed=1) != synthetic_portfolio(30, seed=2)

    def test_records_are_valid_chinese_consumer_loans(self) -> None:
        records = synthetic_portfolio(200, seed=5)
        profiles = {record["profile"] for record in records}
        assert profiles == set(DEFAULT_BEHAVIOUR.profiles)
        for record in records:
            data = {key: value for key, value in record.items() if key != "profile"}
            case = Case.model_validate(data)
            assert case.currency == "CNY"
            assert case.debtor.locale == "zh-CN"
            assert case.contacts[0].address.startswith("+861")

    def test_a_loan_not_yet_due_owes_nothing_overdue(self) -> None:
        records = synthetic_portfolio(200, seed=5)
        ahead = [record for record in records if record["due_date"] >= "2026-09-01"]
        assert 15 <= len(ahead) <= 45  # about 15%
        for record in ahead:
            assert set(record["balance"]) == {"currency", "not_due"}
        for record in records:
            if record["due_date"] < "2026-09-01":
                assert "not_due" not in record["balance"]

    def test_load_portfolio_reads_json_and_json_lines(self, tmp_path: Path) -> None:
        records = synthetic_portfolio(3, seed=1)
        array = tmp_path / "cases.json"
        array.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        lines = tmp_path / "cases.jsonl"
        lines.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
        assert load_portfolio(array) == records == load_portfolio(lines)
        broken = tmp_path / "broken.json"
        broken.write_text("[{", encoding="utf-8")
        with pytest.raises(InvalidInput):
            load_portfolio(broken)


class TestModel:
    def test_probabilities_are_checked(self) -> None:
        with pytest.raises(InvalidInput):
            Profile(1.5, 0, 0, 0, 0, 0, 0, 0)

    def test_shares_must_add_up(self) -> None:
        profile = DEFAULT_BEHAVIOUR.profiles["prime"]
        with pytest.raises(InvalidInput):
            Behaviour(profiles={"prime": profile}, mix={"prime": 0.5})

    def test_chances_fade_with_days_past_due(self) -> None:
        profile = DEFAULT_BEHAVIOUR.profiles["standard"]
        assert profile.chance("answer", 0) == profile.answer
        assert profile.chance("answer", 60) == pytest.approx(profile.answer * 0.8**2)
        assert profile.chance("full", 90) == profile.full

    def test_an_unknown_profile_is_refused_before_anything_runs(self) -> None:
        records = synthetic_portfolio(2, seed=1)
        records[1]["profile"] = "nosuch"
        with pytest.raises(InvalidInput, match="profile"):
            Simulation(load_policy(CN)).run(records, days=1)


class TestRun:
    def test_the_same_seed_gives_the_same_kpis(self, result: SimulationResult) -> None:
        again = run(cases=150, days=25)
        assert again.kpis().to_json() == result.kpis().to_json()
        assert run(cases=150, days=25, seed=4).kpis().to_json() != result.kpis().to_json()

    def test_the_run_does_the_work_of_a_collection_team(self, result: SimulationResult) -> None:
        kpis = result.kpis().overall
        assert result.cases == kpis.cases == 150
        assert result.ticks == 25 * 24
        assert result.errors == 0
        assert kpis.contacts_by_channel["sms"] > 0
        assert kpis.contacts_by_channel["call"] > 0
        assert kpis.promises > 0
        assert 0 < kpis.collected_past_due <= kpis.past_due
        assert result.engine.verify() == []

    def test_every_recorded_contact_passes_the_packs_judged_again(
        self, result: SimulationResult
    ) -> None:
        """Re-judge each interaction with the rules and the history before it."""
        engine = result.engine
        compliance = engine.compliance
        judged = denied = 0
        rules: set[str] = set()
        for _case_id, entries in engine.store.chains():
            case = Case.model_validate_json(entries[0].data["case"])
            history = ContactHistory()
            texts: dict[str, str] = {}
            for entry in entries:
                data = entry.data
                if entry.kind == "outbox_intent":
                    texts[data["key"]] = data["text"]
                if entry.kind == "contact_denied":
                    denied += 1
                    rules.update(reason["rule"] for reason in data["reasons"])
                if entry.kind == "interaction":
                    proposal = Proposal(
                        channel=data["channel"],
                        contact=data.get("contact"),
                        party=None if data.get("contact") else data.get("party"),
                        automated=data.get("automated", False),
                        purpose=data.get("purpose", "collection"),
                        text=texts.get(data.get("key", "")),
                        visit=VISIT if data["channel"] == "visit" else None,
                    )
                    verdict = compliance.judge(case, history, proposal, entry.at)
                    assert verdict.allowed, (entry, verdict.reasons)
                    local = entry.at.astimezone(case.debtor.timezone).time()
                    assert time(8) <= local < time(22)
                    judged += 1
                apply_entry(case, entry.kind, entry.at, data)
                history.add(entry.seq, entry.kind, entry.at, data)
        assert judged > 500
        # The team tries more than the rules allow: the rules stopped it, and said why.
        assert denied > 0
        assert "CN-HOURS" in rules

    def test_a_loan_not_yet_due_falls_due_on_its_date(self, result: SimulationResult) -> None:
        """The simulated loan system: the instalment becomes overdue at 00:00 on its due date."""
        engine = result.engine
        fell = 0
        for case_id, entries in engine.store.chains():
            case = Case.model_validate_json(entries[0].data["case"])
            if case.balance.not_due and not case.balance.has_arrears:
                due = [entry for entry in entries if entry.kind == "instalment_due"]
                assert len(due) == 1, case_id
                local = due[0].at.astimezone(case.debtor.timezone)
                assert local.date() == case.due_date
                assert due[0].data["amount"] == str(case.balance.not_due)
                fell += 1
        assert fell > 10
        kpis = result.kpis().overall
        assert kpis.past_due_cases == kpis.cases - fell

    def test_a_careful_team_is_never_stopped_by_the_hours(self) -> None:
        careful = Workforce(shift=(time(9), time(21)), redials=6)
        kpis = run(cases=60, days=15, workforce=careful).kpis().overall
        assert "CN-HOURS" not in kpis.blocked_by
        assert "CN-CALLS-ATTEMPTS" not in kpis.blocked_by

    def test_an_sqlite_store_gives_the_same_kpis(
        self, tmp_path: Path, result: SimulationResult
    ) -> None:
        with SQLiteStore(tmp_path / "sim.db") as store:
            stored = run(cases=40, days=8, store=store)
            assert stored.kpis().to_json() == run(cases=40, days=8).kpis().to_json()

    def test_days_must_be_positive_and_a_simulation_runs_once(self) -> None:
        simulation = Simulation(load_policy(CN))
        with pytest.raises(InvalidInput, match="days"):
            simulation.run(synthetic_portfolio(2), days=0)
        simulation.run(synthetic_portfolio(2), days=1)
        with pytest.raises(InvalidInput, match="run"):
            simulation.run(synthetic_portfolio(2), days=1)


class TestTasksOverSeveralLoans:
    """A task covering two loans of a debtor is one piece of work for the agents."""

    def engine(self, tmp_path: Path) -> tuple[Engine, _Watched]:
        path = tmp_path / "policy.yaml"
        path.write_text(POLICY, encoding="utf-8")
        watched = _Watched(MemoryStore())
        at = datetime(2026, 9, 6, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
        engine = Engine(policy=load_policy(path), store=watched, clock=SettableClock(at))
        engine.open_cases([loan(1), loan(2)])
        engine.tick(at)
        return engine, watched

    def test_a_shared_task_is_queued_once(self, tmp_path: Path) -> None:
        engine, watched = self.engine(tmp_path)
        [task] = engine.tasks()
        assert task.cases == ("L-1", "L-2")
        # Another task on the second loan: the shared one is not new work again.
        engine.open_task("L-2", TaskAction(kind="negotiation", queue="desk"), key="n", step="x")
        assert [(case, task_id) for case, task_id, _, _ in watched.opened] == [
            ("L-1", task.id),
            ("L-2", "n"),
        ]

    def test_a_shared_task_is_worked_while_a_loan_still_holds_it(self, tmp_path: Path) -> None:
        engine, watched = self.engine(tmp_path)
        [task] = engine.tasks()
        engine.record_promise("L-1", Money("500.00", "CNY"), date(2026, 9, 9))  # L-1 moves on
        assert not watched.is_open("L-1", task.id)
        assert watched.holder("L-1", task.id) == "L-2"
        engine.complete_task("L-2", task.id, "done")
        assert watched.holder("L-1", task.id) is None
