"""The embedding example (examples/loan_system): a lender's own loan system with arrears inside.

The demo runs end to end in a subprocess; the integration functions are tested
one by one: opening cases and posting repayments are idempotent, the SMS
adapter answers ``duplicate`` for a key it already wrote, and a loan paid in
full has its case resolved.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arrears import Engine, SettableClock
from arrears.channels import OutboundMessage
from arrears.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the example is imported as a package from the repository root
    sys.path.insert(0, str(ROOT))

from examples.loan_system.integration import (  # noqa: E402
    OutboxSmsChannel,
    post_repayment,
    sync_overdue,
)
from examples.loan_system.models import Borrower, Loan, OutboxSms, Repayment, connect  # noqa: E402
from examples.loan_system.scheduler import POLICY, run_day  # noqa: E402

NAME = "测试用户"
PHONE = "+8613700001234"
NOW = datetime(2026, 9, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "examples.loan_system.demo", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    lender = connect(str(tmp_path / "lender.db"))
    yield sessionmaker(lender, expire_on_commit=False)
    lender.dispose()


@pytest.fixture
def engine(sessions: sessionmaker[Session]) -> Engine:
    clock = SettableClock(NOW)
    return Engine(
        policy=load_policy(POLICY), clock=clock, channels=[OutboxSmsChannel(sessions, clock.now)]
    )


def add_loan(session: Session, loan_id: str = "LN-1", due: date = date(2026, 9, 1)) -> Loan:
    borrower = Borrower(id=f"B-{loan_id}", name=NAME, phone=PHONE, payday_rule=None)
    loan = Loan(
        id=loan_id,
        borrower=borrower,
        principal=Decimal("1000.00"),
        interest=Decimal("30.00"),
        due_date=due,
    )
    session.add(loan)
    session.commit()
    return loan


def add_repayment(session: Session, loan_id: str, reference: str, amount: str) -> Repayment:
    repayment = Repayment(
        loan_id=loan_id,
        reference=reference,
        amount=Decimal(amount),
        received_at=NOW.astimezone(UTC).replace(tzinfo=None),
    )
    session.add(repayment)
    session.commit()
    return repayment


class TestDemo:
    def test_runs_end_to_end(self) -> None:
        """The demo exits 0, prints its key line, and its stderr holds no personal data."""
        done = run_demo("-v")
        assert done.returncode == 0, done.stderr
        assert "Loan system: 12 loans, 10 cases opened, 41 SMS sent, journal verified." in (
            done.stdout
        )
        assert "case_opened" in done.stderr  # -v shows the engine's log lines
        for output in (done.stdout, done.stderr):
            assert "+86139000" not in output
            assert "张伟" not in output
            assert "孙丽" not in output

    def test_keeps_its_databases_apart(self, tmp_path: Path) -> None:
        """The lender's file and the arrears store are two files; a rerun is idempotent."""
        done = run_demo("--keep", str(tmp_path))
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert (tmp_path / "lender.db").is_file()
        assert (tmp_path / "arrears.db").is_file()
        assert "2026-09-30: 0 cases opened, 0 repayments posted, 0 reviewed" in done.stdout
        assert "LN-1004  due 2026-09-02  paid      owed      0.00  no case" in done.stdout
        again = run_day(tmp_path / "lender.db", tmp_path / "arrears.db", date(2026, 9, 30))
        assert (again.opened, again.posted, again.sent) == ([], 0, 0)


class TestSyncOverdue:
    def test_opens_each_overdue_loan_once(
        self, sessions: sessionmaker[Session], engine: Engine
    ) -> None:
        with sessions() as session:
            add_loan(session, "LN-1", due=date(2026, 9, 1))
            add_loan(session, "LN-2", due=date(2026, 9, 20))  # not yet due
            assert sync_overdue(session, engine, NOW.date(), at=NOW) == ["LN-1"]
            assert sync_overdue(session, engine, NOW.date(), at=NOW) == []
            session.commit()
            assert session.get(Loan, "LN-1").status == "overdue"
            assert session.get(Loan, "LN-2").status == "current"
        case = engine.case("LN-1")
        assert str(case.arrears) == "1030.00 CNY"
        assert case.contacts[0].channel == "sms"
        assert case.debtor.id == "B-LN-1"


class TestPostRepayment:
    def test_is_idempotent_by_reference(
        self, sessions: sessionmaker[Session], engine: Engine
    ) -> None:
        with sessions() as session:
            add_loan(session)
            sync_overdue(session, engine, NOW.date(), at=NOW)
            repayment = add_repayment(session, "LN-1", "PAY-1", "300.00")
            first = post_repayment(session, engine, repayment, at=NOW)
            repayment.posted_at = None  # as if the lender's commit had been lost
            second = post_repayment(session, engine, repayment, at=NOW)
        assert (first.recorded, second.recorded) == (True, False)
        payments = [entry for entry in engine.history("LN-1") if entry.kind == "payment"]
        assert [entry.data["reference"] for entry in payments] == ["PAY-1"]
        assert str(engine.case("LN-1").arrears) == "730.00 CNY"

    def test_paid_loan_has_its_case_resolved(
        self, sessions: sessionmaker[Session], engine: Engine
    ) -> None:
        with sessions() as session:
            add_loan(session)
            sync_overdue(session, engine, NOW.date(), at=NOW)
            repayment = add_repayment(session, "LN-1", "PAY-2", "1030.00")
            posted = post_repayment(session, engine, repayment, at=NOW)
            session.commit()
            assert session.get(Loan, "LN-1").status == "paid"
        assert posted.stage == "resolved"
        assert engine.verify() == []

    def test_repayment_before_any_case_needs_no_payment(
        self, sessions: sessionmaker[Session], engine: Engine
    ) -> None:
        with sessions() as session:
            add_loan(session, due=date(2026, 9, 10))
            repayment = add_repayment(session, "LN-1", "PAY-3", "1030.00")
            posted = post_repayment(session, engine, repayment, at=NOW)
            assert (posted.recorded, posted.stage) == (False, None)
            assert sync_overdue(session, engine, date(2026, 9, 11), at=NOW) == []
        assert "LN-1" not in engine.store


class TestOutboxSmsChannel:
    def test_a_retried_send_is_a_duplicate(self, sessions: sessionmaker[Session]) -> None:
        channel = OutboxSmsChannel(sessions, lambda: NOW)
        message = OutboundMessage(
            key="k-1", case_id="LN-1", channel="sms", address=PHONE, text="hello"
        )
        assert channel.send(message).status == "sent"
        assert channel.send(message).status == "duplicate"
        with sessions() as session:
            rows = list(session.scalars(select(OutboxSms)))
        assert [(row.key, row.phone) for row in rows] == [("k-1", PHONE)]
        report = channel.delivery("k-1")
        assert report is not None
        assert report.status == "queued"
        assert channel.delivery("k-2") is None

    def test_refuses_what_is_not_an_sms(self, sessions: sessionmaker[Session]) -> None:
        channel = OutboxSmsChannel(sessions)
        letter = OutboundMessage(key="k-3", case_id="LN-1", channel="letter", text="x")
        result = channel.send(letter)
        assert (result.status, result.retryable) == ("failed", False)

    def test_the_tick_sends_through_it(
        self, sessions: sessionmaker[Session], engine: Engine
    ) -> None:
        with sessions() as session:
            add_loan(session, due=date(2026, 8, 31))  # 10 days past due: an overdue SMS
            sync_overdue(session, engine, NOW.date(), at=NOW)
        report = engine.tick(NOW)
        assert report.sent == 1
        assert engine.tick(NOW).sent == 0  # the same moment again sends nothing twice
        with sessions() as session:
            rows = list(session.scalars(select(OutboxSms)))
        assert [(row.loan_id, row.template) for row in rows] == [("LN-1", "overdue")]
