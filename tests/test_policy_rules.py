"""Python rules a policy file names (``rules: [module:function]``), run wherever the policy loads.

The rules are imported when the file loads, so ``arrears tick``, ``explain``,
``simulate`` and scenario files run them; a trigger a rule returns is an
escalation, fired before any step acts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _cli import arrears as run_arrears
from arrears import Engine, SettableClock
from arrears.policy import Policy, PolicyInvalid, load_policy
from arrears.stores import open_store
from arrears.tasks import Agent

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")

RULES = '''\
"""Rules for the tests: a tracing task, and large phone cases straight to a field visit."""

from decimal import Decimal

from arrears.policy import TaskAction

VALUE = 3


def trace(facts):
    """Two days late in notified or sms: ask the tracing team for a new number."""
    if facts["stage"] in ("notified", "sms") and facts["dpd"] >= 2:
        return [TaskAction(kind="negotiation", queue="tracing", priority=2)]
    return None


def large_to_field(facts):
    """A large balance on the phone goes to a field visit at once."""
    if facts["stage"] == "phone" and facts["arrears"] >= Decimal("10000"):
        return ["escalate"]
    return None


def two(facts, other):
    return None
'''

POLICY = """\
id: rules-test
version: "1"
packs: [CN]
review: {{time: "09:30"}}
rules:
  - {{name: tracing, function: "{module}:trace"}}
  - {module}:large_to_field
steps:
  - id: call
    stages: [phone]
    task: {{kind: call, queue: phone-team}}
  - id: visit
    stages: [field_visit]
    task: {{kind: visit, queue: field-team}}
escalations:
  - {{trigger: notify, from: [pre_due], when: {{dpd_at_least: 1}}}}
  - {{trigger: escalate, from: [notified], when: {{dpd_at_least: 3}}}}
"""

Written = tuple[Path, str]


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Written:
    """A rules module under a name of its own, on the Python path; and its folder."""
    module = f"lender_rules_{uuid.uuid4().hex[:12]}"
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / f"{module}.py").write_text(RULES, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    return folder, module


@pytest.fixture
def policy_file(tmp_path: Path, rules: Written) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.format(module=rules[1]), encoding="utf-8")
    return path


def case_data(case_id: str, stage: str, principal: str) -> dict[str, object]:
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "m", "channel": "call", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": principal},
        "due_date": "2026-09-01",
        "stage": stage,
    }


def engine_for(policy: Policy, at: datetime) -> Engine:
    agents = [
        Agent(id=f"agent-{queue}", queues=frozenset({queue}))
        for queue in ("phone-team", "field-team", "tracing")
    ]
    return Engine(policy=policy, clock=SettableClock(at), agents=agents)


class TestLoading:
    def test_the_rules_are_imported_by_name_in_the_files_order(
        self, policy_file: Path, rules: Written
    ) -> None:
        policy = load_policy(policy_file)
        assert [name for name, _ in policy.rules] == ["tracing", "large_to_field"]
        module = sys.modules[rules[1]]
        assert [function for _, function in policy.rules] == [
            module.trace,
            module.large_to_field,
        ]
        assert policy.python_rules[0].function == f"{rules[1]}:trace"

    def test_registered_rules_come_after_the_files(self, policy_file: Path) -> None:
        policy = load_policy(policy_file)

        @policy.rule("extra")
        def extra(facts: object) -> None:
            return None

        assert [name for name, _ in policy.rules] == ["tracing", "large_to_field", "extra"]
        with pytest.raises(ValueError, match="'tracing' is already registered"):
            policy.rule("tracing")(extra)

    @pytest.mark.parametrize(
        ("reference", "message"),
        [
            ("{m}:nope", "got '{m}:nope': '{m}' has no attribute 'nope'"),
            ("{m}:VALUE", "got '{m}:VALUE': 'VALUE' is not callable (its type is int)"),
            ("{m}:two", "'two' cannot be called with one argument (the case's facts)"),
            ("no_such_rules_module:f", "module 'no_such_rules_module' not found on the Python"),
            ("{m}.sub:f", "got '{m}.sub:f': module '{m}.sub' not found"),
            (".{m}:trace", "a relative module is not loaded: name an importable module"),
            ("{m}", "expected module:function"),
        ],
    )
    def test_a_bad_reference_names_the_key_the_value_and_the_line(
        self, tmp_path: Path, rules: Written, reference: str, message: str
    ) -> None:
        module = rules[1]
        path = tmp_path / "bad.yaml"
        path.write_text(
            f'id: bad\nversion: "1"\nrules:\n  - {reference.format(m=module)}\n',
            encoding="utf-8",
        )
        with pytest.raises(PolicyInvalid) as info:
            load_policy(path)
        [problem] = info.value.problems
        assert (problem.line, problem.field) == (4, "rules[0].function")
        assert message.format(m=module) in problem.message

    def test_a_module_that_fails_to_import_says_so(self, tmp_path: Path, rules: Written) -> None:
        (rules[0] / f"{rules[1]}_broken.py").write_text("raise RuntimeError('boom')\n")
        path = tmp_path / "bad.yaml"
        path.write_text(
            f'id: bad\nversion: "1"\nrules: ["{rules[1]}_broken:f"]\n', encoding="utf-8"
        )
        with pytest.raises(PolicyInvalid, match="raised RuntimeError: boom"):
            load_policy(path)

    def test_a_rule_name_is_its_own(self, tmp_path: Path, rules: Written) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text(
            f'id: bad\nversion: "1"\nrules:\n  - {{name: call, function: "{rules[1]}:trace"}}\n'
            "  - " + rules[1] + ":trace\n  - " + rules[1] + ":trace\n"
            "steps:\n  - {id: call, stages: [phone], task: {kind: call, queue: q}}\n",
            encoding="utf-8",
        )
        with pytest.raises(PolicyInvalid) as info:
            load_policy(path)
        assert [(p.line, p.field, p.message.split(":")[0]) for p in info.value.problems] == [
            (4, "rules[0].name", "name 'call' is used by a step"),
            (6, "rules[2].name", "name 'trace' is used by another rule"),
        ]

    def test_a_policy_built_in_python_imports_its_rules_too(self, rules: Written) -> None:
        policy = Policy.model_validate({"id": "p", "version": "1", "rules": [f"{rules[1]}:trace"]})
        assert policy.rules[0][0] == "trace"


class TestEscalationsBeforeSteps:
    def test_a_rule_escalation_leaves_the_stage_before_its_steps_act(
        self, policy_file: Path
    ) -> None:
        """A large case in phone goes to field_visit: the phone call is never opened."""
        at = datetime(2026, 10, 5, 9, 30, tzinfo=SHANGHAI)  # 34 days past due: guards allow
        engine = engine_for(load_policy(policy_file), at)
        engine.open_case(case_data("BIG", "phone", "20000.00"))
        engine.open_case(case_data("SMALL", "phone", "3000.00"))
        report = engine.tick(at)
        assert report.errors == []
        assert (report.fired, report.tasks) == (1, 2)
        big = engine.history("BIG")
        assert [(e.kind, e.data["task"]["step"]) for e in big if e.kind == "task_opened"] == [
            ("task_opened", "visit")
        ]
        [move] = [e for e in big if e.kind == "transition"]
        assert (move.data["trigger"], move.data["reason"]) == (
            "escalate",
            "policy rule large_to_field",
        )
        assert engine.case("BIG").stage == "field_visit"
        assert [task.step for task in engine.case("BIG").tasks] == ["visit"]
        # The small case stays on the phone, with its call.
        assert engine.case("SMALL").stage == "phone"
        assert [task.step for task in engine.case("SMALL").tasks] == ["call"]

    def test_explain_shows_the_rules_escalation_and_its_actions(self, policy_file: Path) -> None:
        at = datetime(2026, 10, 5, 9, 30, tzinfo=SHANGHAI)
        engine = engine_for(load_policy(policy_file), at)
        engine.open_case(case_data("BIG", "phone", "20000.00"))
        engine.open_case(case_data("N", "notified", "3000.00"))
        text = str(engine.explain("BIG", at))
        assert "escalation escalate (rule large_to_field): would fire" in text
        notified = engine.explain("N", datetime(2026, 9, 3, 10, 0, tzinfo=SHANGHAI))
        assert [(s.source, s.action) for s in notified.steps] == [
            ("tracing", "task negotiation in tracing")
        ]


# -- the command line ---------------------------------------------------------------------------


def arrears(*args: str | Path, path: Path) -> subprocess.CompletedProcess[str]:
    return run_arrears(*args, env={"PYTHONPATH": str(path)})


def journal_of(db: Path, case_id: str) -> list[tuple[str, dict[str, Any]]]:
    with open_store(str(db)) as store:
        return [(entry.kind, entry.data) for entry in store.entries(case_id)]


class TestCommands:
    def test_tick_and_explain_run_the_rules(
        self, tmp_path: Path, policy_file: Path, rules: Written
    ) -> None:
        # The import opens the cases now and the tick runs now: 34 days after the due date.
        due = (datetime.now(SHANGHAI).date() - timedelta(days=34)).isoformat()
        portfolio = tmp_path / "cases.jsonl"
        rows = [
            {"id": "BIG", "debtor_id": "D-1", "currency": "CNY", "due_date": due,
             "principal": "20000.00", "timezone": "Asia/Shanghai", "phone": "+8613812345678",
             "stage": "phone"},
            {"id": "N", "debtor_id": "D-2", "currency": "CNY", "due_date": due,
             "principal": "3000.00", "timezone": "Asia/Shanghai", "phone": "+8613812345679",
             "stage": "notified"},
        ]  # fmt: skip
        portfolio.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        db = tmp_path / "store.db"
        done = arrears("import", "--db", db, "--policy", policy_file, portfolio, path=rules[0])
        assert done.returncode == 0, done.stderr
        explained = arrears("explain", "--db", db, "--policy", policy_file, "BIG", path=rules[0])
        assert explained.returncode == 0, explained.stderr
        assert "escalation escalate (rule large_to_field): would fire" in explained.stdout
        ticked = arrears("tick", "--db", db, "--policy", policy_file, "--json", path=rules[0])
        assert ticked.returncode == 0, ticked.stderr
        report = json.loads(ticked.stdout)
        assert (report["fired"], report["tasks"], report["errors"]) == (2, 2, [])
        big = journal_of(db, "BIG")
        assert [data["task"]["step"] for kind, data in big if kind == "task_opened"] == ["visit"]
        small = journal_of(db, "N")
        assert [data["task"]["step"] for kind, data in small if kind == "task_opened"] == [
            "tracing"
        ]

    def test_without_the_module_on_the_path_the_command_names_it(
        self, tmp_path: Path, policy_file: Path, rules: Written
    ) -> None:
        done = arrears(
            "simulate", policy_file, "--synthetic", "3", "--days", "1", path=tmp_path / "elsewhere"
        )
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert f"rules[0].function: got '{rules[1]}:trace': module '{rules[1]}' not found" in (
            done.stderr
        )

    def test_simulate_runs_the_rules(
        self, tmp_path: Path, policy_file: Path, rules: Written
    ) -> None:
        db = tmp_path / "sim.db"
        done = arrears(
            "simulate", policy_file, "--synthetic", "40", "--days", "6", "--seed", "3",
            "--db", db, path=rules[0],
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        with open_store(str(db)) as store:
            steps = {
                entry.data["task"]["step"]
                for case_id in store.case_ids()
                for entry in store.entries(case_id)
                if entry.kind == "task_opened"
            }
        assert "tracing" in steps

    def test_a_scenario_file_runs_the_rules(
        self, tmp_path: Path, policy_file: Path, rules: Written
    ) -> None:
        scenario = tmp_path / "large.yaml"
        scenario.write_text(
            """\
name: a large balance on the phone goes to a field visit at once
policy: policy.yaml
case:
  id: L-1
  timezone: Asia/Shanghai
  currency: CNY
  balance: "20000.00"
  due_date: 2026-09-01
  stage: phone
  contacts: [{id: mobile, channel: call, address: "+8613812345678"}]
expect:
  - at: 2026-10-05T09:30:00+08:00
    stage: field_visit
    actions: [{task: visit, queue: field-team}]
""",
            encoding="utf-8",
        )
        done = arrears("test", scenario, path=rules[0])
        assert done.returncode == 0, done.stdout + done.stderr
        # Without the rule the call is opened in phone: the same file fails.
        unruled = tmp_path / "policy.yaml"
        unruled.write_text(
            unruled.read_text(encoding="utf-8").replace(f"  - {rules[1]}:large_to_field\n", ""),
            encoding="utf-8",
        )
        failed = arrears("test", scenario, path=rules[0])
        assert failed.returncode == 1, failed.stdout + failed.stderr
