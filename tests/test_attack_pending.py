"""Defects found by attacking the library that are not fixed yet, each a reproduction.

Each test states the behaviour the documentation promises or an operator
needs, and is marked ``xfail(strict=True)``: it fails today, and the day a
change makes it pass, the strict mark fails the suite so that the mark is
taken off and the test kept.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from _cli import arrears
from arrears import Balance, Case, Channel, ContactPoint, Debtor, Engine, SettableClock
from arrears.stores import SQLiteStore

START = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)
POLICY = files("arrears") / "examples" / "policies" / "cn_consumer_loan.yaml"


def _case(case_id: str) -> Case:
    return Case(
        id=case_id,
        debtor=Debtor(id=f"D-{case_id}", timezone=ZoneInfo("Asia/Shanghai")),
        contacts=(ContactPoint(id="mobile", channel=Channel.SMS, address="+8613800000009"),),
        balance=Balance(currency="CNY", principal="1000.00"),
        due_date=date(2026, 9, 1),
    )


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "arrears.db"
    with SQLiteStore(path) as store:
        engine = Engine(store=store, clock=SettableClock(START))
        for case_id in ("LN-1", "LN-2"):
            engine.open_case(_case(case_id))
    return path


def test_a_live_case_taken_off_the_review_index_is_reported(tmp_path: Path) -> None:
    path = _store(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM reviews WHERE case_id = 'LN-1'")
    with SQLiteStore(path) as store:
        engine = Engine(store=store, clock=SettableClock(START + timedelta(days=1)))
        assert list(store.due(START + timedelta(days=30), 10)) == ["LN-2"]
        problems = engine.verify()
    assert [p.case_id for p in problems] == ["LN-1"]


@pytest.mark.parametrize("command", ["explain", "tasks"])
def test_a_case_row_that_does_not_read_is_a_clear_error(tmp_path: Path, command: str) -> None:
    path = _store(tmp_path)
    with sqlite3.connect(path) as db:
        (body,) = db.execute("SELECT body FROM cases WHERE id = 'LN-1'").fetchone()
        case = json.loads(body)
        case["collector_note"] = "x"
        db.execute("UPDATE cases SET body = ? WHERE id = 'LN-1'", (json.dumps(case),))
    args = (
        ["explain", "--db", path, "LN-1", "--policy", POLICY]
        if command == "explain"
        else [
            "tasks",
            "--db",
            path,
        ]
    )
    result = arrears(*args)
    assert "Traceback" not in result.stderr
    assert result.returncode in (1, 2)
    assert "LN-1" in result.stderr


def test_a_journal_time_that_is_not_a_time_is_reported(tmp_path: Path) -> None:
    path = _store(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE journal SET at = 'yesterday' WHERE case_id = 'LN-1' AND seq = 0")
    result = arrears("journal", "verify", "--db", path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    assert "case 'LN-1' at 0: changed" in result.stdout


@pytest.mark.xfail(
    strict=True,
    reason="a case opened in the promise stage with no promise (as `arrears import` allows "
    "with stage=promise, or `fire('promise')`) fails every review of the example CN policy "
    "(MSG-VARIABLES: 'deadline'), is sent nothing and never escalates",
)
def test_a_case_opened_in_the_promise_stage_without_a_promise_is_not_stuck() -> None:
    from arrears.testing import PolicyHarness

    harness = PolicyHarness(str(POLICY), start="2026-09-05T09:30:00+08:00")
    harness.open(
        id="L-1",
        due_date="2026-09-01",
        principal="3000.00",
        stage="promise",
        debtor={"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
    )
    reports = harness.run(days=10)
    assert [error for report in reports for error in report.errors] == []
    assert harness.sent("L-1") != [] or harness.stage("L-1") != "promise"
