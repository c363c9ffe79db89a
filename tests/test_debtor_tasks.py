"""Tasks for people are opened once per debtor: one task covers every loan of the debtor that
asks for the same work, each loan's journal records it, completing it closes it on all of them;
`explain` shows the debtor's other loans and the contacts the caps count across them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from _cli import arrears
from _postgres import fresh_schema, postgres_url
from arrears import Engine, InvalidInput, MemoryStore, Money, SettableClock
from arrears.channels import RecordingChannel
from arrears.journal import JournalEntry
from arrears.policy import Policy, TaskAction, load_policy
from arrears.stores import SQLiteStore
from arrears.tasks import Agent, Task, merged

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 6, 9, 30, tzinfo=SHANGHAI)  # the policy's review time

POLICY = """\
id: debtor-tasks
version: "1"
packs: [CN]
review: {time: "09:30"}
steps:
  - id: call
    stages: [phone]
    task: {kind: call, queue: phone-team, priority: 3, due_hours: 24}
  - id: urgent-call
    stages: [field_visit]
    task: {kind: call, queue: phone-team, priority: 1, due_hours: 4}
"""


def loan(number: int, debtor: str = "D-1", stage: str = "phone", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": f"L-{number}",
        "debtor": {"id": debtor, "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "m", "channel": "sms", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": f"{number}000.00"},
        "due_date": "2026-08-01",
        "stage": stage,
    }
    data.update(extra)
    return data


class Crash(BaseException):
    """The process dying at a chosen write (not an error a review catches)."""


def crashing(base: type[Any]) -> type[Any]:
    """A store that dies when it is asked to append an entry of kind ``crash_at``."""

    class Crashing(base):  # type: ignore[misc,valid-type]
        crash_at: str | None = None

        def append(self, entry: JournalEntry, case: Any = None) -> None:
            if entry.kind == self.crash_at:
                self.crash_at = None
                raise Crash(entry.kind)
            super().append(entry, case)

    return Crashing


Make = Callable[..., Engine]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Make]:
    """Build an engine over a fresh store (of the param's kind) that can be made to crash."""
    stores: list[Any] = []
    with ExitStack() as stack:

        def build(text: str = POLICY) -> Engine:
            path = tmp_path / "policy.yaml"
            path.write_text(text, encoding="utf-8")
            if request.param == "memory":
                store: Any = crashing(MemoryStore)()
            elif request.param == "sqlite":
                store = crashing(SQLiteStore)(tmp_path / f"s{len(stores)}.db")
            else:
                from arrears.stores.postgres import PostgresStore

                url = postgres_url()
                schema = stack.enter_context(fresh_schema(url))
                store = crashing(PostgresStore)(url, schema=schema, max_size=2)
            stores.append(store)
            return Engine(
                policy=load_policy(path),
                store=store,
                clock=SettableClock(T0),
                channels=[RecordingChannel(channels=frozenset({"sms"}))],
                agents=[
                    Agent(id="agent-1", queues=frozenset({"phone-team"})),
                    Agent(id="agent-2", queues=frozenset({"phone-team"})),
                ],
            )

        yield build
        for store in stores:
            if not isinstance(store, MemoryStore):
                store.close()


def kinds(engine: Engine, case_id: str, *wanted: str) -> list[JournalEntry]:
    return [entry for entry in engine.history(case_id) if entry.kind in wanted]


def task_entries(engine: Engine, case_id: str) -> list[tuple[str, str]]:
    """The case's task entries as (kind, task id)."""
    found = kinds(engine, case_id, "task_opened", "task_covered", "task_closed")
    return [
        (entry.kind, entry.data["task"]["id"] if "task" in entry.data else entry.data["task_id"])
        for entry in found
    ]


class TestOncePerDebtor:
    def test_two_loans_due_on_one_tick_get_one_task_covering_both(self, make: Make) -> None:
        """The issue's story: a call step for two loans of one debtor opens one task; each
        loan's journal records it (task_opened on the first, task_covered on the second)."""
        engine = make()
        engine.open_cases([loan(1), loan(2), loan(9, debtor="D-2")])
        report = engine.tick(T0)
        assert (report.reviewed, report.tasks) == (3, 2)
        [mine] = [task for task in engine.tasks() if "L-1" in task.cases]
        assert mine.cases == ("L-1", "L-2")
        assert task_entries(engine, "L-1") == [("task_opened", mine.id)]
        assert task_entries(engine, "L-2") == [("task_covered", mine.id)]
        covered = kinds(engine, "L-2", "task_covered")[0].data["task"]
        assert covered["cases"] == ["L-1", "L-2"]
        assert [task.id for task in engine.case("L-2").tasks] == [mine.id]
        # Two debtors never share a task; the merged one counts once in its agent's load.
        [other] = [task for task in engine.tasks() if task is not mine]
        assert other.cases == ("L-9",)
        assert sorted(engine._recorder.load.values()) == [1, 1]
        assert engine.verify() == []

    def test_a_loan_falling_due_the_next_day_joins_and_completion_closes_all(
        self, make: Make
    ) -> None:
        engine = make()
        engine.open_cases([loan(1), loan(2)])
        engine.tick(T0)
        [task] = engine.tasks()
        engine.clock.set(T0 + timedelta(days=1))  # type: ignore[attr-defined]
        engine.open_case(loan(3))
        report = engine.tick(T0 + timedelta(days=1))
        assert report.tasks == 0
        [joined] = engine.tasks()
        assert (joined.id, joined.cases) == (task.id, ("L-1", "L-2", "L-3"))
        assert task_entries(engine, "L-3") == [("task_covered", task.id)]
        # The first two loans' step found their task still open: nothing more was recorded.
        assert task_entries(engine, "L-1") == [("task_opened", task.id)]
        assert task_entries(engine, "L-2") == [("task_covered", task.id)]

        entry = engine.complete_task("L-3", task.id, "promise_to_pay")
        assert entry.case_id == "L-3"
        assert engine.tasks() == []
        for case_id in ("L-1", "L-2", "L-3"):
            [closed] = kinds(engine, case_id, "task_closed")
            assert closed.data == {
                "task_id": task.id,
                "outcome": "promise_to_pay",
                "actor": "system",
            }
            assert engine.case(case_id).tasks == ()
            assert engine.replay(case_id) == engine.case(case_id)
        assert engine._recorder.load == {"agent-1": 0}
        assert engine.verify() == []

    def test_the_most_urgent_loan_sets_priority_and_due_time(self, make: Make) -> None:
        """A loan whose step asks for the same call sooner makes the shared task sooner."""
        engine = make()
        engine.open_cases([loan(1), loan(2, stage="field_visit")])
        engine.tick(T0)
        [task] = engine.tasks()
        assert task.cases == ("L-1", "L-2")
        assert (task.priority, task.due_at) == (1, T0 + timedelta(hours=4))
        first = engine.case("L-1").tasks[0]
        assert (first.priority, first.due_at) == (3, T0 + timedelta(hours=24))

    def test_the_task_stays_open_while_a_covered_loan_still_needs_it(self, make: Make) -> None:
        """A stage change expires the task on that loan only; the last one closes it."""
        engine = make()
        engine.open_cases([loan(1), loan(2)])
        engine.tick(T0)
        [task] = engine.tasks()
        engine.record_promise("L-1", Money("500.00", "CNY"), T0.date() + timedelta(days=3))
        assert engine.case("L-1").stage == "promise"
        [left] = engine.tasks()
        assert (left.id, left.cases) == (task.id, ("L-2",))
        assert sum(engine._recorder.load.values()) == 1
        engine.record_promise("L-2", Money("500.00", "CNY"), T0.date() + timedelta(days=3))
        assert engine.tasks() == []
        assert sum(engine._recorder.load.values()) == 0
        with pytest.raises(Exception, match="task_id"):
            engine.complete_task("L-2", task.id, "done")

    def test_a_tick_run_twice_records_the_coverage_once(self, make: Make) -> None:
        engine = make()
        engine.open_cases([loan(1), loan(2)])
        engine.tick(T0)
        for case_id in ("L-1", "L-2"):
            engine.store.schedule(case_id, T0)  # due again at the same moment
        report = engine.tick(T0)
        assert report.tasks == 0
        assert len(task_entries(engine, "L-2")) == 1
        assert len(engine.tasks()) == 1

    @pytest.mark.parametrize("dies_at", ["task_covered", "review"])
    def test_a_crash_between_opening_and_coverage_leaves_one_task(
        self, make: Make, dies_at: str
    ) -> None:
        """The process dies as the coverage (or a review after it) is written: the batch is
        stored whole or not at all, and the tick run again opens one task covering both."""
        engine = make()
        engine.open_cases([loan(1), loan(2)])
        engine.store.crash_at = dies_at  # type: ignore[attr-defined]
        with pytest.raises(Crash):
            engine.tick(T0)
        again = Engine(
            policy=engine.policy,
            store=engine.store,
            clock=engine.clock,
            channels=engine.channels,
            agents=engine.agents,
        )
        again.tick(T0)
        [task] = again.tasks()
        assert task.cases == ("L-1", "L-2")
        assert task_entries(again, "L-1") == [("task_opened", task.id)]
        assert task_entries(again, "L-2") == [("task_covered", task.id)]
        assert again.verify() == []

    def test_a_crash_as_a_later_loan_joins_does_not_open_a_second_task(self, make: Make) -> None:
        engine = make()
        engine.open_case(loan(1))
        engine.tick(T0)
        [task] = engine.tasks()
        later = T0 + timedelta(days=1)
        engine.clock.set(later)  # type: ignore[attr-defined]
        engine.open_case(loan(2))
        engine.store.crash_at = "task_covered"  # type: ignore[attr-defined]
        with pytest.raises(Crash):
            engine.tick(later)
        engine._recorder.forget()  # what a restarted process would know
        engine.tick(later)
        [joined] = engine.tasks()
        assert (joined.id, joined.cases) == (task.id, ("L-1", "L-2"))
        assert task_entries(engine, "L-2") == [("task_covered", task.id)]

    def test_different_queues_or_skills_are_not_merged(self, make: Make) -> None:
        engine = make(
            POLICY.replace(
                "priority: 1, due_hours: 4}", "priority: 1, due_hours: 4, skill: cantonese}"
            )
        )
        engine.open_cases([loan(1), loan(2, stage="field_visit")])
        report = engine.tick(T0)
        assert report.tasks == 2
        assert sorted(task.cases for task in engine.tasks()) == [("L-1",), ("L-2",)]

    def test_a_key_is_one_task_opened_once_and_never_another_loans_other_task(
        self, make: Make
    ) -> None:
        engine = make()
        engine.open_cases([loan(1), loan(2)])
        call = TaskAction(kind="call", queue="phone-team", priority=3, due_hours=24)
        visit = TaskAction(kind="visit", queue="field-team", priority=2, due_hours=48)
        first = engine.open_task("L-1", call, key="K-1", step="manual")
        assert engine.open_task("L-1", call, key="K-1", step="manual") == first  # sent again
        assert [task.id for task in engine.case("L-1").tasks] == ["K-1"]
        with pytest.raises(InvalidInput):  # sent again, but naive: refused all the same
            engine.open_task("L-1", call, key="K-1", step="manual", at=datetime(2026, 9, 6, 10))
        # The key names the call on L-1: a different task on L-2 may not take it, or
        # completing the call would close the visit on L-2 (and list them as one).
        with pytest.raises(InvalidInput) as caught:
            engine.open_task("L-2", visit, key="K-1", step="manual")
        assert caught.value.field == "key"
        assert engine.case("L-2").tasks == ()
        engine.open_task("L-2", visit, key="K-2", step="manual")
        engine.complete_task("L-1", "K-1", "done")
        assert [task.kind for task in engine.case("L-2").tasks] == ["visit"]
        assert [task.id for task in engine.tasks()] == ["K-2"]

    def test_two_debtors_tasks_sharing_a_key_are_listed_and_counted_apart(self, make: Make) -> None:
        engine = make()
        engine.open_cases([loan(1), loan(2, debtor="D-2")])
        call = TaskAction(kind="call", queue="phone-team", priority=3, due_hours=24)
        engine.open_task("L-1", call, key="call-today", step="manual")
        engine.open_task("L-2", call, key="call-today", step="manual")
        # Two tasks, not one covering both debtors' loans: each listed, each in a load.
        assert sorted(task.cases for task in engine.tasks()) == [("L-1",), ("L-2",)]
        assert sorted(task.assignee or "" for task in engine.tasks()) == ["agent-1", "agent-2"]
        engine.complete_task("L-1", "call-today", "done")
        assert [task.cases for task in engine.tasks()] == [("L-2",)]
        assert [task.id for task in engine.case("L-2").tasks] == ["call-today"]

    def test_a_task_stored_before_coverage_reads_as_covering_its_case(self, make: Make) -> None:
        """A task_opened entry of an earlier version has no ``cases``: it covers its own case,
        and a loan of the debtor falling due later joins it."""
        engine = make()
        engine.open_case(loan(1))
        old = {
            "id": "OLD-1",
            "kind": "call",
            "queue": "phone-team",
            "priority": 2,
            "due_at": (T0 + timedelta(hours=8)).isoformat(),
            "stage": "phone",
            "step": "call",
            "assignee": "agent-1",
            "opened_at": T0.isoformat(),
        }
        with engine.atomic():
            rec = engine._recorder
            rec.record(rec.store.get("L-1"), T0, "task_opened", {"task": old, "key": "OLD-1"})
        assert engine.case("L-1").tasks[0].cases == ()
        assert [task.cases for task in engine.tasks()] == [("L-1",)]
        engine.open_case(loan(2))
        engine.tick(T0)
        [task] = engine.tasks()
        assert (task.id, task.cases) == ("OLD-1", ("L-1", "L-2"))
        assert engine.replay("L-1") == engine.case("L-1")

    def test_explain_names_the_task_the_tick_brings_the_loan_under(self, make: Make) -> None:
        """Two open calls of the debtor (stored apart): the tick covers L-3 with the one
        opened first, and explain says so, not the one on the first loan it reads."""
        engine = make()
        engine.open_cases([loan(1), loan(2), loan(3)])
        for case_id, task_id, hours in (("L-1", "OLD-B", 1), ("L-2", "OLD-A", 2)):
            old = {
                "id": task_id,
                "kind": "call",
                "queue": "phone-team",
                "priority": 3,
                "due_at": (T0 + timedelta(hours=8)).isoformat(),
                "stage": "phone",
                "step": "call",
                "opened_at": (T0 - timedelta(hours=hours)).isoformat(),
            }
            with engine.atomic():
                rec = engine._recorder
                rec.record(rec.store.get(case_id), T0, "task_opened", {"task": old, "key": task_id})
        [call] = [step for step in engine.explain("L-3", T0).steps if step.source == "call"]
        assert (
            call.action
            == "task call in phone-team (task OLD-A, open on L-2, would cover this case)"
        )
        engine.tick(T0)
        assert [task.id for task in engine.case("L-3").tasks] == ["OLD-A"]


def test_merged_orders_the_cases_by_when_they_came_under_the_task() -> None:
    base = Task(
        id="T",
        kind="call",
        queue="q",
        priority=4,
        due_at=T0 + timedelta(hours=8),
        stage="phone",
        step="call",
        opened_at=T0,
        cases=("L-3",),
    )
    copies = {
        "L-9": base.model_copy(update={"cases": ("L-3", "L-9"), "priority": 2}),
        "L-3": base,
        "L-1": base.model_copy(
            update={"cases": ("L-3", "L-9", "L-1"), "due_at": T0 + timedelta(hours=1)}
        ),
    }
    together = merged(copies)
    assert together.cases == ("L-3", "L-9", "L-1")  # the opener first, then by joining
    assert (together.priority, together.due_at) == (2, T0 + timedelta(hours=1))
    assert merged({"L-3": base}) is base


EXPLAINED = """\
id: debtor-explain
version: "1"
packs: [CN]
review: {time: "09:30"}
per_debtor:
  - {channels: [sms], limit: 1}
steps:
  - id: reminder
    stages: [phone]
    send: {channel: sms}
  - id: call
    stages: [phone]
    task: {kind: call, queue: phone-team, priority: 3, due_hours: 24}
"""


class TestExplainDebtor:
    @pytest.fixture
    def engine(self, make: Make) -> Engine:
        engine = make(EXPLAINED)
        engine.clock.set(T0 - timedelta(hours=1))  # type: ignore[attr-defined]
        engine.open_cases([loan(1), loan(2), loan(9, debtor="D-2")])
        engine.record_interaction(
            "L-1", "sms", "delivered", contact="m", at=T0 - timedelta(minutes=30)
        )
        engine.clock.set(T0)  # type: ignore[attr-defined]
        return engine

    def test_explain_shows_the_debtors_loans_and_todays_contacts(self, engine: Engine) -> None:
        explained = engine.explain("L-2", T0)
        view = explained.debtor
        assert view is not None
        assert [(loan.case_id, loan.stage, loan.arrears, loan.dpd) for loan in view.loans] == [
            ("L-1", "phone", Money("1000.00", "CNY"), 36),
            ("L-2", "phone", Money("2000.00", "CNY"), 36),
        ]
        assert view.today == {"sms": {"delivered": 1}}
        text = str(explained)
        assert "debtor D-1: 2 loans" in text
        assert "  L-1: phone, arrears 1000.00 CNY, 36 dpd" in text
        assert "today across the debtor's loans: sms 1 delivered" in text
        assert "+86" not in text  # no number, no address

    def test_a_message_is_judged_with_the_debtors_other_loans(self, engine: Engine) -> None:
        """One SMS a day per debtor: L-1 had it, so explain says L-2's reminder is denied, as
        the tick would (it judged L-2 alone before)."""
        [reminder] = [step for step in engine.explain("L-2", T0).steps if step.source == "reminder"]
        assert reminder.verdict is not None
        assert reminder.verdict.rules == ("POLICY-PER-DEBTOR-1",)
        report = engine.tick(T0)
        assert dict(report.blocked_by) == {"POLICY-PER-DEBTOR-1": 2}  # L-1 and L-2

    def test_a_task_step_says_which_open_task_would_cover_the_loan(self, engine: Engine) -> None:
        engine.store.schedule("L-2", T0 + timedelta(days=1))
        engine.tick(T0)
        [task] = [task for task in engine.tasks() if "L-1" in task.cases]
        [call] = [step for step in engine.explain("L-2", T0).steps if step.source == "call"]
        assert (
            call.action
            == f"task call in phone-team (task {task.id}, open on L-1, would cover this case)"
        )
        assert engine.explain("L-2", T0).debtor.loans[0].tasks == (task.id,)  # type: ignore[union-attr]

    def test_the_debtor_history_is_handed_out_as_a_copy(self, engine: Engine) -> None:
        found = engine.debtor_history("L-2")
        assert found is not None
        assert [(attempt.case, attempt.outcome) for attempt in found.attempts] == [
            ("L-1", "delivered")
        ]
        found.attempts.clear()
        again = engine.debtor_history("L-1")
        assert again is not None
        assert len(again.attempts) == 1
        assert engine.debtor_history("L-9") is None

    def test_a_debtors_only_case_has_no_debtor_view(self, engine: Engine) -> None:
        explained = engine.explain("L-9", T0)
        assert explained.debtor is None
        assert "loans" not in str(explained)

    def test_explain_debtor_explains_every_loan_under_one_view(self, engine: Engine) -> None:
        explained = engine.explain_debtor("D-1", T0)
        assert [item.case_id for item in explained.cases] == ["L-1", "L-2"]
        text = str(explained)
        assert text.startswith("debtor D-1: 2 loans\n")
        assert text.count("debtor D-1") == 1
        assert "\n\ncase L-1 at" in text
        assert "\n\ncase L-2 at" in text
        only = engine.explain_debtor("D-2", T0)
        assert [loan.case_id for loan in only.debtor.loans] == ["L-9"]
        with pytest.raises(InvalidInput) as raised:
            engine.explain_debtor("D-404", T0)
        assert raised.value.field == "debtor_id"


def test_the_command_line_explains_a_debtor_and_lists_tasks_with_their_loans(
    tmp_path: Path,
) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    store = SQLiteStore(tmp_path / "a.db")
    engine = Engine(
        policy=load_policy(tmp_path / "policy.yaml"),
        store=store,
        clock=SettableClock(T0),
        agents=[Agent(id="agent-1", queues=frozenset({"phone-team"}))],
    )
    engine.open_cases([loan(1), loan(2)])
    engine.tick(T0)
    [task] = engine.tasks()
    store.close()
    db, policy = tmp_path / "a.db", tmp_path / "policy.yaml"
    explained = arrears(
        "explain", "--db", db, "--debtor", "D-1", "--policy", policy, "--at", T0.isoformat()
    )
    assert explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith("debtor D-1: 2 loans\n")
    assert f"  L-2: phone, arrears 2000.00 CNY, 36 dpd; tasks {task.id}" in explained.stdout
    missing = arrears("explain", "--db", db, "--debtor", "D-404", "--policy", policy)
    assert missing.returncode == 1
    both = arrears("explain", "--db", db, "L-1", "--debtor", "D-1", "--policy", policy)
    assert both.returncode == 2
    listed = arrears("tasks", "--db", db)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        f"{task.id} call in phone-team, priority 3, due 2026-09-07T09:30:00+08:00, "
        "assignee agent-1",
        "  L-1: phone, arrears 1000.00 CNY",
        "  L-2: phone, arrears 2000.00 CNY",
        "open tasks: 1",
    ]


STAGES = ("sms", "phone", "field_visit")  # no call step, a call, an urgent call


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["D-1", "D-2"]), st.sampled_from(["sms", "phone", "field_visit"])
        ),
        min_size=1,
        max_size=5,
    ),
    st.data(),
)
def test_each_debtor_has_one_call_task_covering_exactly_their_calling_loans(
    loans: list[tuple[str, str]], data: st.DataObject
) -> None:
    """Whatever loans two debtors have in which stages: after a tick each debtor with a loan
    in a calling stage has one open call task covering exactly those loans, at the most urgent
    priority among them; an agent's load counts each task once; completing it on any of its
    loans closes it on every one of them and on no other debtor's."""
    engine = Engine(
        policy=Policy.model_validate(yaml.safe_load(POLICY)),
        clock=SettableClock(T0),
        agents=[Agent(id="agent-1", queues=frozenset({"phone-team"}))],
    )
    engine.open_cases(
        [loan(number, debtor, stage) for number, (debtor, stage) in enumerate(loans, start=1)]
    )
    engine.tick(T0)
    calling = {
        debtor: sorted(
            f"L-{number}"
            for number, (owner, stage) in enumerate(loans, start=1)
            if owner == debtor and stage != "sms"
        )
        for debtor in ("D-1", "D-2")
    }
    opened = engine.tasks()
    assert len(opened) == sum(1 for cases in calling.values() if cases)
    assert engine._recorder.load.get("agent-1", 0) == len(opened)
    for cases in calling.values():
        if not cases:
            continue
        [task] = [task for task in engine.tasks() if set(task.cases) & set(cases)]
        assert sorted(task.cases) == cases
        urgent = any(loans[int(case_id[2:]) - 1][1] == "field_visit" for case_id in cases)
        assert task.priority == (1 if urgent else 3)
    for number in range(1, len(loans) + 1):
        assert engine.replay(f"L-{number}") == engine.case(f"L-{number}")
    debtor = data.draw(st.sampled_from([d for d, cases in calling.items() if cases] or ["-"]))
    if debtor == "-":
        return
    [task] = [task for task in engine.tasks() if set(task.cases) & set(calling[debtor])]
    engine.complete_task(data.draw(st.sampled_from(calling[debtor])), task.id, "done")
    assert all(not set(task.cases) & set(calling[debtor]) for task in engine.tasks())
    for number in range(1, len(loans) + 1):
        closed = kinds(engine, f"L-{number}", "task_closed")
        assert len(closed) == (1 if f"L-{number}" in calling[debtor] else 0)
