"""Attacks on the newest promises, the defects they found still open.

Each test tries to break one promise of the docs as a regulator's examiner or an
attacker with database access would: the age notices read across a debtor's
loans, the bounds on dates and amounts, the locks of the debtor's holds, the
review schedule verify judges, the per-debtor caps under several workers, the
command line given the largest inputs a field accepts.  A test marked
``xfail(strict=True)`` shows a defect still open: its reason says what goes
wrong, and it fails the suite the day the defect is fixed, when it moves to the
test file of its subject as an ordinary test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from arrears import Engine, SettableClock
from arrears.cli import main
from arrears.stores import SQLiteStore

T0 = datetime(2026, 10, 20, 14, 0, tzinfo=UTC)  # 10:00 in New York
DAY = timedelta(days=1)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "arrears explain --at 9999-12-31T23:59:59-12:00 (the last moment the parser takes) "
        "stops with a traceback, OverflowError in Case._local_date converting it to the "
        "debtor's Shanghai time, instead of exit status 2 naming --at"
    ),
)
def test_explain_at_the_end_of_the_calendar_is_misuse(tmp_path: Path) -> None:
    db = tmp_path / "arrears.db"
    with SQLiteStore(db) as store:
        Engine(store=store, clock=SettableClock(T0)).open_case(
            {
                "id": "L-1",
                "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
                "balance": {"currency": "CNY", "principal": "1000.00"},
                "due_date": "2026-07-01",
            },
            at=T0 - DAY,
        )
    policy = Path(__file__).resolve().parent.parent / "examples/policies/cn_consumer_loan.yaml"
    arguments = ["explain", "--db", str(db), "--policy", str(policy)]
    done = CliRunner().invoke(main, [*arguments, "--at", "9999-12-31T23:59:59-12:00", "L-1"])
    assert done.exit_code == 2, done.output
    assert "--at" in done.output
