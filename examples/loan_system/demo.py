"""The loan system's demo: twelve loans, thirty days, `arrears` embedded.

Run it from the repository root::

    python -m examples.loan_system.demo [--keep FOLDER]

It seeds twelve borrowers and loans in the lender's database (``lender.db``),
then runs the daily entry point (`scheduler.run_day`) for every day of
September 2026, the payment system booking repayments on given days.  It
prints each day's summary line, every loan's status and stage at the end,
the SMS in the lender's outbox, runs the last day again to show that
nothing happens twice, and verifies the journal in the `arrears` store
(``arrears.db``, next to the lender's file).  With ``--keep`` both files stay
in FOLDER; otherwise they live in a temporary folder.

Only loan ids, stages, amounts and templates are printed: never a name or a
phone number.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears import Engine
from arrears.stores import open_store

from .models import Borrower, Loan, OutboxSms, Repayment, connect
from .scheduler import ZONE, quiet_logs, run_day

FIRST_DAY = date(2026, 9, 1)
DAYS = 30

#: (loan, principal, interest, due date, payday rule): fake borrowers, one loan each.
LOANS = (
    ("LN-1001", "3000.00", "90.00", date(2026, 8, 25), "FREQ=MONTHLY;BYMONTHDAY=10"),
    ("LN-1002", "5000.00", "150.00", date(2026, 8, 28), "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("LN-1003", "8000.00", "240.00", date(2026, 8, 31), None),
    ("LN-1004", "2000.00", "60.00", date(2026, 9, 2), "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("LN-1005", "12000.00", "360.00", date(2026, 9, 3), None),
    ("LN-1006", "4500.00", "135.00", date(2026, 9, 5), "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("LN-1007", "6000.00", "180.00", date(2026, 9, 7), None),
    ("LN-1008", "25000.00", "750.00", date(2026, 8, 20), "FREQ=MONTHLY;BYMONTHDAY=5"),
    ("LN-1009", "1500.00", "45.00", date(2026, 9, 10), None),
    ("LN-1010", "7000.00", "210.00", date(2026, 9, 12), "FREQ=MONTHLY;BYMONTHDAY=20"),
    ("LN-1011", "3500.00", "105.00", date(2026, 9, 15), None),
    ("LN-1012", "9000.00", "270.00", date(2026, 9, 20), "FREQ=MONTHLY;BYMONTHDAY=25"),
)

#: Repayments the payment system books: (day received, loan, reference, amount).
REPAYMENTS = (
    (date(2026, 9, 2), "LN-1004", "PAY-7001", "2060.00"),  # on the due date: no case
    (date(2026, 9, 4), "LN-1002", "PAY-7002", "5150.00"),  # a week late: cured, resolved
    (date(2026, 9, 6), "LN-1003", "PAY-7003", "3000.00"),  # part ...
    (date(2026, 9, 16), "LN-1003", "PAY-7004", "5240.00"),  # ... and the rest
    (date(2026, 9, 10), "LN-1009", "PAY-7005", "1545.00"),  # on time
    (date(2026, 9, 12), "LN-1006", "PAY-7006", "1000.00"),  # part only
    (date(2026, 9, 18), "LN-1010", "PAY-7007", "7210.00"),  # six days late
    (date(2026, 9, 21), "LN-1001", "PAY-7008", "3090.00"),  # four weeks late
)

#: Fake personal data: none of it may reach the output or the log.
NAMES = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄强",
    "周杰",
    "吴霞",
    "徐鹏",
    "孙丽",
]


def phone(n: int) -> str:
    return f"+86139000{n:05d}"


def seed(session: Session) -> None:
    for n, (loan_id, principal, interest, due, payday) in enumerate(LOANS, start=1):
        borrower = Borrower(
            id=f"B-{n:03d}",
            name=NAMES[n - 1],
            phone=phone(n),
            timezone="Asia/Shanghai",
            locale="zh-CN",
            payday_rule=payday,
        )
        session.add(borrower)
        session.add(
            Loan(
                id=loan_id,
                borrower=borrower,
                currency="CNY",
                principal=Decimal(principal),
                interest=Decimal(interest),
                due_date=due,
                status="current",
            )
        )
    session.commit()


def book_repayments(session: Session, day: date) -> None:
    """What the payment system does during *day*: it books the repayments received."""
    received = datetime.combine(day, time(8, 15), tzinfo=ZONE).astimezone(UTC)
    for when, loan_id, reference, amount in REPAYMENTS:
        if when == day:
            session.add(
                Repayment(
                    loan_id=loan_id,
                    reference=reference,
                    amount=Decimal(amount),
                    received_at=received.replace(tzinfo=None),
                )
            )
    session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write lender.db and arrears.db here")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the engine's log")
    args = parser.parse_args()
    quiet_logs(args.verbose)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        return run(folder / "lender.db", folder / "arrears.db")


def run(lender_db: Path, arrears_db: Path) -> int:
    lender = connect(str(lender_db))
    try:
        with Session(lender) as session:
            seed(session)
        print(f"== {len(LOANS)} loans seeded; the scheduler runs daily at 10:00 Beijing time")
        opened = 0
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(days=offset)
            with Session(lender) as session:
                book_repayments(session, day)
            report = run_day(lender_db, arrears_db, day)
            opened += len(report.opened)
            print(f"  {report.line()}")

        print("\n== Running the last day again (a retried cron job)")
        again = run_day(lender_db, arrears_db, day)
        print(f"  {again.line()}")

        with open_store(arrears_db) as store, Session(lender) as session:
            engine = Engine(store=store)
            print(f"\n== Loans on {day}")
            for loan in session.scalars(select(Loan).order_by(Loan.id)):
                if loan.id in store:
                    case = engine.case(loan.id)
                    where = f"case {case.stage:<9} arrears {case.arrears}"
                else:
                    where = "no case"
                print(
                    f"  {loan.id}  due {loan.due_date}  {loan.status:<8}  "
                    f"owed {loan.outstanding:>9}  {where}"
                )

            rows = list(session.scalars(select(OutboxSms).order_by(OutboxSms.id)))
            print(f"\n== outbox_sms: {len(rows)} SMS written by the adapter")
            by_template = Counter(row.template for row in rows)
            print("  " + ", ".join(f"{name} {n}" for name, n in sorted(by_template.items())))
            for row in rows[:5]:
                print(f"  {row.created_at:%Y-%m-%d} {row.loan_id} {row.template:<9} {row.key}")
            if rows:
                print(f"  the first, as the gateway would get it: {rows[0].text}")
            unique = session.scalar(select(func.count(func.distinct(OutboxSms.key))))
            print(f"  {unique} distinct idempotency keys")

            problems = engine.verify()
            entries = sum(len(engine.history(case_id)) for case_id in store.case_ids())
            print(
                f"\n== Journal: {entries} entries in {len(store)} chains; verify(): "
                f"{problems or 'intact'}"
            )
    finally:
        lender.dispose()
    if problems or again.opened or again.posted or again.sent:
        print("Loan system: something went wrong.")
        return 1
    print(
        f"\nLoan system: {len(LOANS)} loans, {opened} cases opened, {len(rows)} SMS sent, "
        "journal verified."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
