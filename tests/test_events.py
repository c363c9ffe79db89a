"""`arrears.events`: every kind the engine records, declared once with its data and effect."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears import (
    Actor,
    ApprovalDenied,
    ApprovalLimits,
    Case,
    Engine,
    InvalidInput,
    JournalCorrupted,
    JournalEntry,
    JournalProblem,
    Money,
    RepaymentPlan,
    SettableClock,
    TransitionDenied,
    instalment_schedule,
)
from arrears.channels import RecordingChannel
from arrears.events import KINDS, EntryKind, apply_entry, check_data, replay
from arrears.journal import GENESIS, seal, verify_chain
from arrears.policy import TaskAction, load_policy
from arrears.policy.model import Variant
from arrears.tasks import Agent

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 8, 20, 9, 30, tzinfo=SHANGHAI)
AGENT = Actor("agent-7", frozenset({"agent"}))
SUPERVISOR = Actor("sup-3", frozenset({"supervisor"}))
LIMITS = ApprovalLimits(
    limits={"agent": Money("100.00", "CNY"), "supervisor": Money("5000.00", "CNY")}
)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def loan(case_id: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "m", "channel": "sms", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": "3000.00"},
        "due_date": "2026-09-01",
    }
    data.update(extra)
    return data


def run_story() -> Engine:
    """Three cases through the CN example policy's tick and every operation the engine has."""
    policy = load_policy(ROOT / "examples" / "policies" / "cn_consumer_loan.yaml")
    policy = policy.model_copy(
        update={"variants": (Variant(id="champion", share=50), Variant(id="challenger", share=50))}
    )
    clock = SettableClock(START)
    agents = [Agent(id="agent-1", queues=frozenset({"phone-team", "senior-team"}))]
    sms = RecordingChannel(channels=frozenset({"sms"}))
    engine = Engine(policy=policy, channels=[sms], clock=clock, agents=agents)
    engine.approval_limits = LIMITS

    # L-1: the policy's tick walks it from before its due date into the phone stage.
    engine.open_case(loan("L-1"))
    for _ in range(28):  # 20 August to 16 September: dpd 15 moves it to phone
        engine.tick(clock.now())
        clock.advance(days=1)
    assert engine.case("L-1").stage == "phone"
    assert sms.sent
    task = engine.case("L-1").tasks[0]
    # L-4, another loan of L-1's debtor in the same stage: the open call covers it too.
    engine.open_case(
        loan("L-4", debtor={"id": "D-L-1", "timezone": "Asia/Shanghai"}, stage="phone")
    )
    call = TaskAction(kind=task.kind, queue=task.queue, priority=task.priority)
    assert engine.open_task("L-4", call, key="L-4-call", step=task.step).id == task.id
    engine.complete_task("L-1", task.id, "no_answer", actor=AGENT)
    engine.record_consent("L-1", "sms", contact="m", actor=AGENT)
    engine.record_opt_out("L-1", "sms", actor=AGENT)
    engine.record_inconvenient("L-1", time(12, 0), time(14, 0), actor=AGENT)
    contact_person = {"id": "ref", "channel": "call", "address": "+8613900000000", "person": "ref"}
    engine.update_persons(
        "L-1",
        [{"id": "ref", "relationship": "contact_person"}],
        contacts=[*engine.case("L-1").contacts, contact_person],
        actor=AGENT,
    )
    late = clock.now().replace(hour=23)
    assert not engine.judge_contact("L-1", {"channel": "call", "contact": "m"}, at=late).allowed
    engine.record_notice("L-1", "demand_letter", at=late)
    hold = engine.add_hold("L-1", "dispute", "amount disputed", at=late)
    with pytest.raises(TransitionDenied):
        engine.fire("L-1", "escalate", at=late)
    engine.release_hold("L-1", hold.id, at=late)

    # L-2: charges under its terms, a broken promise, an instalment falling due on credit.
    moment = clock.now()
    terms = {"penalty_rate": "0.0005", "late_fee": {"amount": "50.00", "currency": "CNY"}}
    engine.open_case(
        loan(
            "L-2",
            balance={"currency": "CNY", "principal": "1000.00", "not_due": "500.00"},
            due_date="2026-08-01",
            stage="phone",
            terms=terms,
        ),
        at=moment,
    )
    engine.record_variant("L-2", "challenger", at=moment)
    engine.accrue("L-2", at=moment)
    engine.record_promise("L-2", cny("500.00"), moment.date() + timedelta(days=2), at=moment)
    engine.review_promises("L-2", at=moment + timedelta(days=4))
    owed = engine.arrears_at("L-2", at=moment + timedelta(days=4))
    engine.record_payment(
        "L-2", owed + cny("200.00"), reference="TX-1", at=moment + timedelta(days=4)
    )
    engine.fall_due("L-2", cny("500.00"), due=date(2026, 9, 20), at=moment + timedelta(days=5))
    engine.reverse_payment("L-2", "TX-1", actor=SUPERVISOR, at=moment + timedelta(days=6))

    # L-3: a plan late then broken, a refused waiver, a waiver, a settlement.
    engine.open_case(loan("L-3", due_date="2026-08-01", stage="phone"), at=moment)
    engine.record_document("L-3", "proof_of_income", reference="DOC-1", at=moment)
    plan = RepaymentPlan(
        id="PLAN-1",
        kind="extension",
        instalments=instalment_schedule(cny("3000.00"), moment.date() + timedelta(days=1), count=3),
        required_documents=[],
        grace_days=5,  # late on the third day, broken after the fifth
    )
    engine.start_plan("L-3", plan, actor=AGENT, at=moment)
    engine.review_plan("L-3", at=moment + timedelta(days=3))
    engine.review_plan("L-3", at=moment + timedelta(days=60))
    with pytest.raises(ApprovalDenied):
        engine.waive("L-3", cny("200.00"), actor=AGENT, at=moment + timedelta(days=60))
    engine.waive("L-3", cny("50.00"), actor=AGENT, at=moment + timedelta(days=60))
    engine.settle("L-3", cny("2000.00"), actor=SUPERVISOR, at=moment + timedelta(days=61))

    # L-5 and L-6, one debtor's: a promise over both, kept by a payment on L-5, reversed.
    debtor = {"id": "D-L-5", "timezone": "Asia/Shanghai"}
    for case_id in ("L-5", "L-6"):
        engine.open_case(loan(case_id, debtor=debtor, stage="phone"), at=moment)
    engine.record_promise(
        "L-5", cny("6000.00"), moment.date() + timedelta(days=9), at=moment, covers=["L-6"]
    )
    engine.record_payment("L-6", cny("3000.00"), reference="TX-6", at=moment)
    engine.record_payment("L-5", cny("3000.00"), reference="TX-5", at=moment)
    engine.reverse_payment("L-5", "TX-5", at=moment + timedelta(days=1))
    # The debtor of L-5 and L-6 moves to Shanghai: both loans record it.
    engine.update_debtor("D-L-5", residence="CN-SH", actor=AGENT, at=moment + timedelta(days=1))
    return engine


@pytest.fixture(scope="module")
def engine() -> Engine:
    return run_story()


@pytest.fixture(scope="module")
def recorded(engine: Engine) -> list[JournalEntry]:
    return [entry for _, entries in engine.store.chains() for entry in entries]


def sample(recorded: Sequence[JournalEntry], kind: str) -> dict[str, Any]:
    """The data of the first entry of *kind* recorded in the story."""
    return next(entry.data for entry in recorded if entry.kind == kind)


def test_the_story_records_exactly_the_declared_kinds(recorded: list[JournalEntry]) -> None:
    """Every kind the engine records is declared, and every declared kind is recorded."""
    kinds = {entry.kind for entry in recorded}
    assert kinds - KINDS.keys() == set(), "recorded but not declared"
    assert KINDS.keys() - kinds == set(), "declared but not recorded by the story"
    assert len(KINDS) == 34


def test_every_recorded_entry_passes_check_data(recorded: list[JournalEntry]) -> None:
    problems = [(entry.seq, check_data(entry.kind, entry.data)) for entry in recorded]
    assert [(seq, found) for seq, found in problems if found] == []


def test_the_story_replays_to_the_live_cases(engine: Engine) -> None:
    for case_id, entries in engine.store.chains():
        assert replay(entries) == engine.case(case_id), case_id


def test_a_kind_is_declared_once_with_its_keys_and_effect() -> None:
    payment = KINDS["payment"]
    assert isinstance(payment, EntryKind)
    assert payment.name == "payment"
    assert payment.required == {"amount", "currency", "applied", "credit"}
    assert payment.keys == payment.required | {"reference", "promise", "plan", "debtor"}
    assert payment.apply is not None
    assert KINDS["interaction"].apply is None
    assert KINDS["opt_out"].required == {"channel", "actor"}
    with pytest.raises(AttributeError):
        payment.name = "other"  # type: ignore[misc]
    for name, kind in KINDS.items():
        assert kind.name == name
        assert kind.required <= kind.keys, name
        assert kind.records, name
        assert kind.changes, name
        assert (kind.changes == "nothing") == (kind.apply is None), name


def test_kinds_that_only_record_change_nothing_but_the_version(
    engine: Engine, recorded: list[JournalEntry]
) -> None:
    case = engine.case("L-1")
    for name, kind in KINDS.items():
        if kind.apply is not None:
            continue
        before = case.model_dump()
        apply_entry(case, name, START, sample(recorded, name))
        after = case.model_dump()
        assert after.pop("version") == before.pop("version") + 1, name
        assert after == before, name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_missing_required_key_is_reported(recorded: list[JournalEntry], kind: str) -> None:
    data = sample(recorded, kind)
    assert check_data(kind, data) == []
    for key in sorted(KINDS[kind].required):
        lacking = {name: value for name, value in data.items() if name != key}
        assert check_data(kind, lacking) == [f"{kind}: data has no {key!r}"]


def test_check_data_reports_an_unknown_kind_an_undeclared_key_and_a_non_object() -> None:
    assert check_data("mystery", {}) == ["kind 'mystery' is not a kind of journal entry"]
    notice = {"notice": "demand_letter", "actor": "system"}
    assert check_data("notice", notice) == []
    assert check_data("notice", {**notice, "note": "x"}) == [
        "notice: data has 'note', which the kind does not declare"
    ]
    assert check_data("notice", ["notice"]) == ["notice: data is list, not an object"]
    assert check_data("payment", {"currency": "CNY", "credit": "0.00"}) == [
        "payment: data has no 'amount'",
        "payment: data has no 'applied'",
    ]


def opened_chain(*rest: tuple[str, dict[str, Any]]) -> list[JournalEntry]:
    """A sealed chain: an ``opened`` entry for case C-1, then *rest* (kind, data) in order."""
    case = Case.model_validate(loan("C-1"))
    opening = {"actor": "system", "case": case.model_dump_json(), "workflow": ["standard", "1"]}
    entries = [seal("C-1", 0, START, "opened", opening, GENESIS)]
    for kind, data in rest:
        last = entries[-1]
        entries.append(seal("C-1", last.seq + 1, START, kind, data, last.hash))
    return entries


def test_replay_refuses_an_unknown_kind_naming_the_entry() -> None:
    entries = opened_chain(
        ("notice", {"notice": "reminder", "actor": "system"}), ("mystery", {"n": 1})
    )
    assert verify_chain("C-1", entries) == []  # the chain holds: the kind is what is wrong
    with pytest.raises(JournalCorrupted) as info:
        replay(entries)
    assert info.value.problems == (
        JournalProblem("C-1", 2, "malformed", "seq 2: unknown entry kind 'mystery'"),
    )
    assert replay(entries[:2]).notices == {"reminder": START}


def test_replay_refuses_data_that_lacks_a_required_key() -> None:
    """Checked for every entry before any is applied (a review's data is read by a restore)."""
    entries = opened_chain(("notice", {"actor": "system"}))
    with pytest.raises(JournalCorrupted) as info:
        replay(entries)
    assert info.value.problems == (
        JournalProblem("C-1", 1, "malformed", "seq 1: notice: data has no 'notice'"),
    )


def test_apply_entry_refuses_an_unknown_kind_and_leaves_the_case_alone() -> None:
    case = Case.model_validate(loan("C-1"))
    with pytest.raises(InvalidInput) as info:
        apply_entry(case, "mystery", START, {})
    assert (info.value.field, info.value.value) == ("kind", "mystery")
    assert case.version == 0
    apply_entry(case, "notice", START, {"notice": "reminder", "actor": "system"})
    assert (case.version, case.notices) == (1, {"reminder": START})


def test_the_journal_page_lists_exactly_the_registry() -> None:
    """docs/journal.md's table of kinds is the registry's, row for row."""
    text = (ROOT / "docs" / "journal.md").read_text(encoding="utf-8")
    section = text.split("\n## Every kind, and what it changes\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        for line in section.splitlines()
        if re.match(r"^\| `", line)
    ]
    assert rows == [(f"`{kind.name}`", kind.records, kind.changes) for kind in KINDS.values()]


def package_imports(module: str) -> set[str]:
    """The modules of `arrears` that *module* imports, at any depth of its code."""
    path = ROOT / "src" / Path(*module.split(".")).with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(f"arrears.{node.module}")
    return found


def test_the_journal_knows_nothing_of_cases() -> None:
    """`arrears.journal` and everything it imports stay clear of the case model."""
    seen: set[str] = set()
    todo = ["arrears.journal"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(package_imports(module))
    assert seen == {
        "arrears.journal",
        "arrears.clock",
        "arrears.errors",
        "arrears.money",
        "arrears.limits",
    }
    assert "arrears.journal" in package_imports("arrears.events")
