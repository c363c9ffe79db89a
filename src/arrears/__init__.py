"""arrears: debt-collection workflows for loan systems.

Move every overdue case through its stages (notice, SMS, phone, field visit,
promise, repayment plan, legal) on a guarded state machine, and keep a
hash-chained journal of everything that happened, as evidence.

    >>> from arrears import Engine, Case, Money
"""

from ._exceptions import (
    ArrearsError,
    CurrencyMismatch,
    DuplicateCase,
    InvalidInput,
    JournalCorrupted,
    TransitionDenied,
    UnknownCase,
    UnknownTrigger,
)
from .case import (
    Balance,
    Case,
    Channel,
    ContactPoint,
    Debtor,
    Hold,
    HoldKind,
    Outcome,
    Party,
    bucket_of,
    mask,
)
from .clock import Clock, SettableClock, SystemClock
from .engine import Engine, PaymentResult
from .guards import (
    SYSTEM,
    Actor,
    Guard,
    GuardContext,
    GuardFailure,
    approved_by,
    arrears_cleared,
    attempts_at_least,
    balance_at_least,
    dpd_at_least,
    guard,
    no_active_hold,
    not_time_barred,
    notice_elapsed,
    paid_in_full,
    second_approver,
)
from .journal import JournalEntry, JournalProblem
from .money import Money, allocate, minor_units
from .store import MemoryStore
from .workflow import (
    TransitionResult,
    TransitionSpec,
    Workflow,
    WorkflowDefinition,
    standard_definition,
)

__all__ = [
    "SYSTEM",
    "Actor",
    "ArrearsError",
    "Balance",
    "Case",
    "Channel",
    "Clock",
    "ContactPoint",
    "CurrencyMismatch",
    "Debtor",
    "DuplicateCase",
    "Engine",
    "Guard",
    "GuardContext",
    "GuardFailure",
    "Hold",
    "HoldKind",
    "InvalidInput",
    "JournalCorrupted",
    "JournalEntry",
    "JournalProblem",
    "MemoryStore",
    "Money",
    "Outcome",
    "Party",
    "PaymentResult",
    "SettableClock",
    "SystemClock",
    "TransitionDenied",
    "TransitionResult",
    "TransitionSpec",
    "UnknownCase",
    "UnknownTrigger",
    "Workflow",
    "WorkflowDefinition",
    "allocate",
    "approved_by",
    "arrears_cleared",
    "attempts_at_least",
    "balance_at_least",
    "bucket_of",
    "dpd_at_least",
    "guard",
    "mask",
    "minor_units",
    "no_active_hold",
    "not_time_barred",
    "notice_elapsed",
    "paid_in_full",
    "second_approver",
    "standard_definition",
]
