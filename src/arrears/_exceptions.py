"""Every error `arrears` raises on purpose, in one place.

The tree::

    ArrearsError
    ├── InvalidInput (also a ValueError)      bad input: names the field and the value
    │   └── CurrencyMismatch                  arithmetic or comparison across currencies
    ├── UnknownCase (also a KeyError)         no case with that id
    ├── DuplicateCase                         a case with that id is already open
    ├── UnknownTrigger                        the workflow has no trigger of that name
    ├── TransitionDenied                      a trigger was refused: every failed guard
    ├── ApprovalDenied                        a waiver above the limits of those approving it
    ├── ConcurrencyConflict                   another writer changed the case first
    ├── SchemaMismatch                        a store's schema is newer than this library
    └── JournalCorrupted                      the journal's hash chain does not hold

Input to pydantic models (`Case`, `Debtor`, …) is validated by pydantic and a bad
value raises `pydantic.ValidationError`, which names the field and the value too;
models that carry personal data hide the value.

No message built here contains personal data (names, phone numbers, addresses):
values that could are masked before they reach an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .guards import GuardFailure
    from .journal import JournalProblem

__all__ = [
    "ApprovalDenied",
    "ArrearsError",
    "ConcurrencyConflict",
    "CurrencyMismatch",
    "DuplicateCase",
    "InvalidInput",
    "JournalCorrupted",
    "SchemaMismatch",
    "TransitionDenied",
    "UnknownCase",
    "UnknownTrigger",
]


class ArrearsError(Exception):
    """Base class of every error raised by `arrears` on purpose."""


class InvalidInput(ArrearsError, ValueError):
    """A value given to `arrears` is not acceptable.

    Attributes:
        field: The name of the offending field or argument.
        value: The offending value (already masked where it could be personal data).
        expected: What would have been accepted.
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: got {value!r}, expected {expected}")


class CurrencyMismatch(InvalidInput):
    """Two amounts in different currencies were added, subtracted or compared."""

    def __init__(self, field: str, left: str, right: str) -> None:
        super().__init__(field, right, f"an amount in {left}, the currency it is combined with")
        self.left = left
        self.right = right


class UnknownCase(ArrearsError, KeyError):
    """No case with the given id is known to the store."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(case_id)

    def __str__(self) -> str:
        return f"case_id: no case {self.case_id!r}"


class DuplicateCase(ArrearsError):
    """A case with the given id is already open."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"case_id: a case {case_id!r} is already open")


class UnknownTrigger(ArrearsError):
    """The workflow defines no trigger of the given name."""

    def __init__(self, trigger: str, known: Sequence[str]) -> None:
        self.trigger = trigger
        self.known = tuple(known)
        super().__init__(f"trigger: got {trigger!r}, expected one of {', '.join(sorted(known))}")


class TransitionDenied(ArrearsError):
    """A trigger was refused.

    The refusal is recorded in the journal before this is raised.

    Attributes:
        case_id: The case the trigger was fired on.
        trigger: The trigger's name.
        stage: The stage the case was (and still is) in.
        failures: Every guard that failed, each with its name, a reason and the
            values it compared.
    """

    def __init__(
        self, case_id: str, trigger: str, stage: str, failures: Sequence[GuardFailure]
    ) -> None:
        self.case_id = case_id
        self.trigger = trigger
        self.stage = stage
        self.failures = tuple(failures)
        reasons = "; ".join(f"{f.guard} failed: {f.reason}" for f in self.failures)
        super().__init__(f"{trigger!r} refused for case {case_id!r} in stage {stage!r}: {reasons}")


class JournalCorrupted(ArrearsError):
    """The journal's hash chain does not hold.

    Attributes:
        problems: Each entry that was changed, removed, inserted or reordered.
    """

    def __init__(self, problems: Sequence[JournalProblem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"journal does not verify: {shown}{more}")


class ApprovalDenied(ArrearsError):
    """A waiver or settlement is above what the people approving it may grant.

    The refusal is recorded in the journal before this is raised.

    Attributes:
        amount: The amount asked to be waived (as text, with its currency).
        limit: The limit that applied (as text), or ``"none"``.
        reason: Why it was refused and what would allow it.
        actor: The actor's staff id.
        approver: The approver's staff id, or ``None``.
    """

    def __init__(
        self, amount: str, limit: str, reason: str, actor: str, approver: str | None
    ) -> None:
        self.amount = amount
        self.limit = limit
        self.reason = reason
        self.actor = actor
        self.approver = approver
        super().__init__(f"waiver of {amount} refused (limit {limit}): {reason}")


class ConcurrencyConflict(ArrearsError):
    """Another writer changed the case since it was read (optimistic version check).

    The engine drops its copy and retries the operation once on a fresh copy;
    a conflict that persists reaches the caller.

    Attributes:
        case_id: The case.
        expected: The version this writer read.
        found: The version in the store, when known.
    """

    def __init__(self, case_id: str, expected: int, found: int | None = None) -> None:
        self.case_id = case_id
        self.expected = expected
        self.found = found
        found_text = "" if found is None else f", found {found}"
        super().__init__(
            f"case {case_id!r} changed in the store: expected version {expected}{found_text}"
        )


class SchemaMismatch(ArrearsError):
    """A store's schema is newer than this version of the library knows.

    Attributes:
        found: The schema version in the store.
        known: The newest schema version this library knows.
    """

    def __init__(self, found: int, known: int) -> None:
        self.found = found
        self.known = known
        super().__init__(
            f"the store has schema version {found}, newer than {known}, the newest this "
            "version of arrears knows: upgrade arrears before opening it"
        )
