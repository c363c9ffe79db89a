"""The lender's own tables, in the lender's own SQLite file (SQLAlchemy 2, declarative).

`arrears` never reads or writes these tables itself: the integration layer
(`examples.loan_system.integration`) maps their rows to cases and payments,
and the SMS adapter writes the ``outbox_sms`` table.  `arrears` keeps cases
and its journal in a store of its own (an SQLite file next to this one).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Numeric, String, create_engine
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Base", "Borrower", "Loan", "OutboxSms", "Repayment", "connect"]

#: Amounts in yuan with two decimals, stored exactly.
MONEY = Numeric(14, 2, asdecimal=True)


class Base(DeclarativeBase):
    """The lender's tables.  Times are stored in UTC, without a zone (SQLite keeps none)."""


class Borrower(Base):
    """A customer: name and phone are personal data (never printed or logged)."""

    __tablename__ = "borrowers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    #: When the borrower is paid, as an RFC 5545 rule (``FREQ=MONTHLY;BYMONTHDAY=15``).
    payday_rule: Mapped[str | None] = mapped_column(String(200), default=None)

    loans: Mapped[list[Loan]] = relationship(back_populates="borrower")


class Loan(Base):
    """A single-repayment consumer loan: principal and interest due on one date.

    ``status`` is the lender's own view: ``current`` until the due date passes
    unpaid, then ``overdue``, and ``paid`` once repayments cover it.
    """

    __tablename__ = "loans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    principal: Mapped[Decimal] = mapped_column(MONEY)
    interest: Mapped[Decimal] = mapped_column(MONEY)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="current")

    borrower: Mapped[Borrower] = relationship(back_populates="loans")
    repayments: Mapped[list[Repayment]] = relationship(
        back_populates="loan", order_by="Repayment.received_at"
    )

    def repaid(self, *, posted_only: bool = False) -> Decimal:
        """The repayments received (only those already posted, with *posted_only*)."""
        return sum(
            (r.amount for r in self.repayments if r.posted_at is not None or not posted_only),
            Decimal("0.00"),
        )

    def owed(self, *, posted_only: bool = False) -> tuple[Decimal, Decimal]:
        """``(principal, interest)`` still owed: repayments pay interest first."""
        paid = self.repaid(posted_only=posted_only)
        interest = max(self.interest - paid, Decimal("0.00"))
        principal = max(self.principal - max(paid - self.interest, Decimal(0)), Decimal(0))
        return principal, interest

    @property
    def outstanding(self) -> Decimal:
        principal, interest = self.owed()
        return principal + interest


class Repayment(Base):
    """Money received for a loan, as the payment system books it.

    ``reference`` is the payment system's own id (unique): it travels to
    `arrears` with the payment, which is what makes posting idempotent.
    ``posted_at`` is set once the integration has handed it over.
    """

    __tablename__ = "repayments"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"))
    reference: Mapped[str] = mapped_column(String(128), unique=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    received_at: Mapped[datetime] = mapped_column(DateTime())
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)

    loan: Mapped[Loan] = relationship(back_populates="repayments")


class OutboxSms(Base):
    """Every SMS handed to the gateway; ``key`` (unique) is `arrears`' idempotency key."""

    __tablename__ = "outbox_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    loan_id: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(2000))
    template: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime())


def connect(path: str) -> SqlEngine:
    """The lender's database (an SQLite file), its tables created when missing."""
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return engine
