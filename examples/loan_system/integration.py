"""The integration layer: where the lender's rows meet `arrears`.

Three pieces, each safe to run again:

* `sync_overdue` opens a case for every loan past its due date and still
  owed; a loan whose case is already open is skipped.
* `post_repayment` records a repayment as a payment on the loan's case, with
  the repayment's reference; a reference already in the case's journal is
  skipped.
* `OutboxSmsChannel` is the SMS adapter the engine sends through: it writes
  each message to the lender's ``outbox_sms`` table (where a real gateway
  would be called) under the message's idempotency key, a unique column, so
  a retried send is answered ``duplicate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from arrears import Engine, Money
from arrears.channels import DeliveryReport, OutboundMessage, SendResult

from .models import Loan, OutboxSms, Repayment

__all__ = [
    "OutboxSmsChannel",
    "Posted",
    "case_for",
    "post_repayment",
    "sync_overdue",
    "unposted",
    "utc",
]


def case_for(loan: Loan) -> dict[str, Any]:
    """The `arrears` case for an overdue loan: the lender's rows, mapped.

    The case id is the loan id, so each side finds the other without a link
    table.  The debtor carries the borrower's id, zone, locale and payday; the
    phone number becomes the SMS contact point; the balance is what is still
    owed, split as the lender splits it (repayments pay interest first).
    The borrower's name goes into the case (templates may use it); `arrears`
    keeps it out of its logs and reprs.
    """
    borrower = loan.borrower
    # Only repayments already posted: one still to post is recorded as a payment.
    principal, interest = loan.owed(posted_only=True)
    return {
        "id": loan.id,
        "debtor": {
            "id": borrower.id,
            "name": borrower.name,
            "timezone": borrower.timezone,
            "locale": borrower.locale,
            "payday": borrower.payday_rule,
        },
        "contacts": [
            {"id": "mobile-sms", "channel": "sms", "address": borrower.phone, "consent": True}
        ],
        "balance": {
            "currency": loan.currency,
            "principal": str(principal),
            "interest": str(interest),
        },
        "due_date": loan.due_date.isoformat(),
    }


def sync_overdue(session: Session, engine: Engine, today: date, *, at: datetime) -> list[str]:
    """Open a case for each loan that is past due on *today* and still owed.

    Idempotent: a loan whose case the store already holds is skipped (and
    marked overdue if it was not yet).  Returns the ids of the cases opened.
    The caller commits the session.
    """
    opened: list[str] = []
    due = select(Loan).where(Loan.status != "paid", Loan.due_date < today).order_by(Loan.id)
    for loan in session.scalars(due):
        if loan.outstanding <= 0:
            continue
        loan.status = "overdue"
        if loan.id in engine.store:
            continue
        engine.open_case(case_for(loan), at=at)
        opened.append(loan.id)
    return opened


@dataclass(frozen=True, slots=True)
class Posted:
    """What posting one repayment did.

    Attributes:
        reference: The repayment's reference.
        recorded: A payment was recorded on the case now (``False``: it was
            already in the journal, or the loan has no case).
        stage: The case's stage afterwards, ``None`` for a loan without a case.
    """

    reference: str
    recorded: bool
    stage: str | None


def _posted_references(engine: Engine, case_id: str) -> set[str]:
    return {
        entry.data["reference"]
        for entry in engine.history(case_id)
        if entry.kind == "payment" and "reference" in entry.data
    }


def post_repayment(
    session: Session, engine: Engine, repayment: Repayment, *, at: datetime
) -> Posted:
    """Hand one repayment to `arrears`, once.

    A loan without a case (paid before it fell overdue) needs nothing from
    `arrears`.  For a loan with a case, the journal is the record of what
    was posted: a reference already there is not recorded again, so a crash
    between recording and the lender's commit is repaired by posting again.
    The loan is marked paid once nothing is owed.  The caller commits.
    """
    loan = repayment.loan
    session.flush()
    session.expire(loan, ["repayments"])  # reloaded: it may predate this repayment's row
    if loan.outstanding <= 0:
        loan.status = "paid"
    recorded = False
    stage: str | None = None
    if loan.id in engine.store:
        if repayment.reference not in _posted_references(engine, loan.id):
            amount = Money(str(repayment.amount), loan.currency)
            engine.record_payment(loan.id, amount, at=at, reference=repayment.reference)
            recorded = True
        stage = engine.case(loan.id).stage
    if repayment.posted_at is None:
        repayment.posted_at = utc(at)
    return Posted(repayment.reference, recorded, stage)


def unposted(session: Session, until: datetime) -> list[Repayment]:
    """Repayments received up to *until* and not yet posted, oldest first."""
    query = (
        select(Repayment)
        .where(Repayment.posted_at.is_(None), Repayment.received_at <= utc(until))
        .order_by(Repayment.received_at, Repayment.id)
    )
    return list(session.scalars(query))


def utc(moment: datetime) -> datetime:
    """*moment* as the lender's tables store times: UTC, without the zone (SQLite has none)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


class OutboxSmsChannel:
    """The SMS adapter: `arrears` hands it messages, it writes them to ``outbox_sms``.

    A real lender would call its SMS gateway here, passing the key on as the
    gateway's idempotency key.  The row is committed in a session of its own,
    at once: a send is a side effect, not part of the caller's transaction.

    Args:
        sessions: Makes sessions on the lender's database.
        clock: The time each row is stamped with.
    """

    channels: frozenset[str] = frozenset({"sms"})

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock or (lambda: datetime.now(UTC))

    def send(self, message: OutboundMessage) -> SendResult:
        """Write *message* to the outbox; a key already there is a ``duplicate``."""
        if message.channel != "sms" or not message.address:
            return SendResult("failed", detail="not an SMS with a number", retryable=False)
        row = OutboxSms(
            key=message.key,
            loan_id=message.case_id,
            phone=message.address,
            text=message.text,
            template=message.template,
            created_at=utc(self._clock()),
        )
        with self._sessions() as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return SendResult("duplicate", detail="already in the outbox")
            return SendResult("sent", provider_id=f"outbox-{row.id}")

    def delivery(self, key: str) -> DeliveryReport | None:
        """The outbox row's state; ``None`` for a key never written."""
        with self._sessions() as session:
            row = session.scalars(select(OutboxSms).where(OutboxSms.key == key)).first()
            if row is None:
                return None
            return DeliveryReport(key, "queued", provider_id=f"outbox-{row.id}")
