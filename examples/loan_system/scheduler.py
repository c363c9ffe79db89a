"""The daily entry point: what a cron job (or any scheduler) runs once a day.

    python -m examples.loan_system.scheduler --db lender.db --arrears-db arrears.db --day 2026-09-15

`run_day` opens both databases, posts the repayments received since the last
run, opens cases for loans that fell overdue, runs the `arrears` tick (which
escalates cases and sends SMS through the lender's outbox), and says what it
did in one line.  Every step is idempotent: running a day twice, or again
after a crash half-way, posts, opens and sends nothing twice.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.orm import sessionmaker

from arrears import Engine, SettableClock
from arrears.policy import load_policy
from arrears.stores import open_store

from .integration import OutboxSmsChannel, post_repayment, sync_overdue, unposted
from .models import connect

__all__ = ["POLICY", "DayReport", "main", "run_day"]

#: The lender's collection policy: the example CN consumer-loan policy.
POLICY = Path(__file__).resolve().parent.parent / "policies" / "cn_consumer_loan.yaml"
#: The lender works in Beijing time; the daily run starts at 10:00.
ZONE = ZoneInfo("Asia/Shanghai")
RUN_AT = time(10, 0)


@dataclass(frozen=True, slots=True)
class DayReport:
    """What one daily run did."""

    day: date
    opened: list[str]
    posted: int
    reviewed: int
    fired: int
    sent: int
    tasks: int
    errors: int

    def line(self) -> str:
        return (
            f"{self.day}: {len(self.opened)} cases opened, {self.posted} repayments posted, "
            f"{self.reviewed} reviewed, {self.fired} transitions, {self.sent} SMS sent, "
            f"{self.tasks} tasks, {self.errors} errors"
        )


def run_day(lender_db: str | Path, arrears_db: str | Path, day: date) -> DayReport:
    """Run the collection day *day* at 10:00 Beijing time.

    Args:
        lender_db: The lender's SQLite file (its tables are created when missing).
        arrears_db: The `arrears` store, an SQLite file of its own.
        day: The business day.
    """
    now = datetime.combine(day, RUN_AT, tzinfo=ZONE)
    clock = SettableClock(now)
    lender = connect(str(lender_db))
    sessions = sessionmaker(lender, expire_on_commit=False)
    try:
        with open_store(arrears_db) as store:
            engine = Engine(
                policy=load_policy(POLICY),
                store=store,
                clock=clock,
                channels=[OutboxSmsChannel(sessions, clock.now)],
            )
            with sessions() as session:
                # Repayments first: a loan paid on time never opens a case.
                posted = [
                    post_repayment(session, engine, repayment, at=now)
                    for repayment in unposted(session, now)
                ]
                session.commit()
                opened = sync_overdue(session, engine, day, at=now)
                session.commit()
            report = engine.tick(now)
    finally:
        lender.dispose()
    return DayReport(
        day=day,
        opened=opened,
        posted=sum(1 for p in posted if p.recorded),
        reviewed=report.reviewed,
        fired=report.fired,
        sent=report.sent,
        tasks=report.tasks,
        errors=len(report.errors),
    )


def quiet_logs(verbose: bool = False) -> None:
    """The engine's log lines (no personal data) to stderr, warnings only unless *verbose*."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.INFO if verbose else logging.WARNING
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one collection day.")
    parser.add_argument("--db", required=True, help="the lender's SQLite file")
    parser.add_argument("--arrears-db", required=True, help="the arrears store (SQLite file)")
    parser.add_argument(
        "--day",
        type=date.fromisoformat,
        default=None,
        help="the business day, YYYY-MM-DD (today in Beijing time when omitted)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the engine's log")
    args = parser.parse_args(argv)
    quiet_logs(args.verbose)
    day = args.day or datetime.now(ZONE).date()
    report = run_day(args.db, args.arrears_db, day)
    print(report.line())
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
