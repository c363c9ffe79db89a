"""A stored case row that no longer reads as a case is tampering `verify` reports.

Someone with access to the database edits ``cases.body`` by hand so that it
is not a `Case` at all: a key the model does not have, a name longer than
any case may hold, a negative amount.  `Engine.verify` and ``arrears
journal verify`` report that case as ``changed`` (``negative`` for an amount
below zero), name the fields
that do not read (never their values: the body holds personal data), and go
on with the other cases, rather than stop with a validation traceback.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _cli import arrears
from _postgres import Database
from arrears import Balance, Case, Channel, ContactPoint, Debtor, Engine, Money, SettableClock
from arrears.errors import CaseUnreadable
from arrears.stores import SQLiteStore

START = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)
NAME = "Wang Xiaoming"


def _case(case_id: str) -> Case:
    return Case(
        id=case_id,
        debtor=Debtor(id=f"D-{case_id}", name=NAME, timezone=ZoneInfo("Asia/Shanghai")),
        contacts=(ContactPoint(id="mobile", channel=Channel.SMS, address="+8613800000009"),),
        balance=Balance(currency="CNY", principal="1000.00"),
        due_date=date(2026, 9, 1),
    )


def _fill(engine: Engine) -> None:
    for case_id in ("LN-1", "LN-2"):
        engine.open_case(_case(case_id))
        engine.record_payment(case_id, Money("100.00", "CNY"), reference=f"pay-{case_id}")


def _edited(body: str, how: str) -> str:
    """*body* (a stored case) edited by hand as *how* says."""
    case = json.loads(body)
    if how == "extra key":
        case["collector_note"] = NAME
    elif how == "name too long":
        case["debtor"]["name"] = NAME * 40
    elif how == "negative principal":
        case["balance"]["principal"] = "-5.00"
    return json.dumps(case)


#: Both stores refuse a body that is not JSON themselves (``cases.debtor_id`` is read from it).
EDITS = ("extra key", "name too long", "negative principal")

#: The problem each edit is, and how its detail begins: an amount below zero is ``negative``.
FOUND = {
    "extra key": ("changed", "the stored case does not read as a case"),
    "name too long": ("changed", "the stored case does not read as a case"),
    "negative principal": (
        "negative",
        "the stored case holds a negative amount: balance.principal",
    ),
}


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "arrears.db"
    with SQLiteStore(path) as store:
        _fill(Engine(store=store, clock=SettableClock(START)))
    return path


def _edit_sqlite(path: Path, case_id: str, how: str) -> None:
    with sqlite3.connect(path) as db:
        (body,) = db.execute("SELECT body FROM cases WHERE id = ?", (case_id,)).fetchone()
        db.execute("UPDATE cases SET body = ? WHERE id = ?", (_edited(body, how), case_id))


@pytest.mark.parametrize("how", EDITS)
def test_engine_verify_reports_an_unreadable_stored_case(sqlite_file: Path, how: str) -> None:
    _edit_sqlite(sqlite_file, "LN-1", how)
    with SQLiteStore(sqlite_file) as store:
        problems = Engine(store=store, clock=SettableClock(START)).verify()
    problem, detail = FOUND[how]
    assert [(p.case_id, p.problem, p.position) for p in problems] == [("LN-1", problem, 1)]
    assert problems[0].detail.startswith(detail)
    assert NAME not in problems[0].detail


def test_the_fields_that_do_not_read_are_named(sqlite_file: Path) -> None:
    _edit_sqlite(sqlite_file, "LN-1", "name too long")
    _edit_sqlite(sqlite_file, "LN-2", "extra key")
    with SQLiteStore(sqlite_file) as store:
        problems = Engine(store=store, clock=SettableClock(START)).verify()
    assert [(p.case_id, p.detail) for p in problems] == [
        ("LN-1", "the stored case does not read as a case: debtor.name"),
        ("LN-2", "the stored case does not read as a case: collector_note"),
    ]


def test_an_unreadable_case_beside_a_broken_chain_is_reported(sqlite_file: Path) -> None:
    """The chain is checked first; the row that does not read does not stop the others."""
    _edit_sqlite(sqlite_file, "LN-1", "extra key")
    with sqlite3.connect(sqlite_file) as db:
        db.execute("DELETE FROM journal WHERE case_id = 'LN-1' AND seq = 1")
    with SQLiteStore(sqlite_file) as store:
        problems = Engine(store=store, clock=SettableClock(START)).verify()
    assert {p.case_id for p in problems} == {"LN-1"}
    assert {p.problem for p in problems} == {"truncated", "changed"}


@pytest.mark.parametrize("how", EDITS)
def test_journal_verify_exits_1_naming_the_case(sqlite_file: Path, how: str) -> None:
    _edit_sqlite(sqlite_file, "LN-2", how)
    result = arrears("journal", "verify", "--db", sqlite_file)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    problem, detail = FOUND[how]
    assert f"case 'LN-2' at 1: {problem} ({detail}" in result.stdout
    assert "LN-1" not in result.stdout
    assert NAME not in result.stdout + result.stderr


@pytest.mark.parametrize("how", EDITS)
def test_postgres_verify_reports_an_unreadable_stored_case(
    postgres_database: Database, how: str
) -> None:
    _fill(Engine(store=postgres_database.open(), clock=SettableClock(START)))
    [(body,)] = postgres_database.sql("SELECT body FROM cases WHERE id = 'LN-2'")
    edited = _edited(str(body), how).replace("'", "''")
    postgres_database.sql(f"UPDATE cases SET body = '{edited}' WHERE id = 'LN-2'")
    problems = Engine(store=postgres_database.open(), clock=SettableClock(START)).verify()
    problem, detail = FOUND[how]
    assert [(p.case_id, p.problem, p.position) for p in problems] == [("LN-2", problem, 1)]
    assert problems[0].detail.startswith(detail)
    assert NAME not in problems[0].detail


@pytest.mark.parametrize("how", EDITS)
@pytest.mark.parametrize("command", ["explain", "tasks"])
def test_explain_and_tasks_name_a_case_that_does_not_read(
    sqlite_file: Path, command: str, how: str
) -> None:
    """Not a validation traceback quoting the row: the case and its fields, exit 1."""
    _edit_sqlite(sqlite_file, "LN-1", how)
    policy = files("arrears") / "examples" / "policies" / "cn_consumer_loan.yaml"
    args = (
        ["explain", "--db", sqlite_file, "LN-1", "--policy", policy]
        if command == "explain"
        else ["tasks", "--db", sqlite_file]
    )
    result = arrears(*args)
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    assert "the stored case 'LN-1' does not read as a case: " in result.stderr
    assert NAME not in result.stdout + result.stderr


@pytest.mark.parametrize("at", ["yesterday", "", "2026-09-10T02:00:00"])
def test_a_journal_time_that_is_not_a_time_is_changed(sqlite_file: Path, at: str) -> None:
    """An ``at`` column that is not an aware time: that entry is ``changed``, not a traceback."""
    with sqlite3.connect(sqlite_file) as db:
        db.execute("UPDATE journal SET at = ? WHERE case_id = 'LN-1' AND seq = 0", (at,))
    result = arrears("journal", "verify", "--db", sqlite_file)
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    assert "case 'LN-1' at 0: changed (at column is not a time)" in result.stdout


def _heads_and_cases_agree(make: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """`verify` reads the heads and stored cases a page at a time (`heads_and_cases`), and
    asks no case's row alone; what it reads is what `head` and `get` read."""
    with make() as store:
        read = store.heads_and_cases(["LN-1", "LN-2", "LN-NONE"])
        assert sorted(read) == ["LN-1", "LN-2"]
        assert read["LN-1"][0] == store.head("LN-1")
        assert isinstance(read["LN-2"][1], CaseUnreadable)
        assert read["LN-2"][1].negative == ("balance.principal",)
    with make() as store:
        assert read["LN-1"][1] == store.get("LN-1")
    for name in ("_read_head", "_read_case"):
        monkeypatch.setattr(type(store), name, lambda *_, _n=name: pytest.fail(f"{_n} asked"))
    with make() as store:
        problems = Engine(store=store, clock=SettableClock(START)).verify()
    assert [(p.case_id, p.problem) for p in problems] == [("LN-2", "negative")]
    monkeypatch.undo()
    with make() as store, store.transaction():  # a case written and not sent yet: as written
        engine = Engine(store=store, clock=SettableClock(START))
        engine.record_payment("LN-1", Money("1.00", "CNY"), reference="pay-more")
        read = store.heads_and_cases(["LN-1"])
        assert read["LN-1"] == (store.head("LN-1"), store.get("LN-1"))
        assert read["LN-1"][0].seq == 2


def test_verify_reads_sqlite_rows_a_page_at_a_time(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit_sqlite(sqlite_file, "LN-2", "negative principal")
    _heads_and_cases_agree(lambda: SQLiteStore(sqlite_file), monkeypatch)


def test_verify_reads_postgres_rows_a_page_at_a_time(
    postgres_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(Engine(store=postgres_database.open(), clock=SettableClock(START)))
    [(body,)] = postgres_database.sql("SELECT body FROM cases WHERE id = 'LN-2'")
    edited = _edited(str(body), "negative principal").replace("'", "''")
    postgres_database.sql(f"UPDATE cases SET body = '{edited}' WHERE id = 'LN-2'")
    _heads_and_cases_agree(postgres_database.connect, monkeypatch)
