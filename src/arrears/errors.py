"""Every error `arrears` raises on purpose, in one tree, in one module.

The tree::

    ArrearsError
    ├── InvalidInput (also a ValueError)      bad input: names the field and the value
    │   ├── CurrencyMismatch                  arithmetic or comparison across currencies
    │   └── ConfigInvalid                     a configuration file: names the file, key and value
    ├── UnknownCase (also a KeyError)         no case with that id
    ├── DuplicateCase                         a case with that id is already open
    ├── UnknownTrigger                        the workflow has no trigger of that name
    ├── TransitionDenied                      a trigger was refused: every failed guard
    ├── ApprovalDenied                        a waiver above the limits of those approving it
    ├── ConcurrencyConflict                   another writer changed the case first
    ├── SchemaMismatch                        a store's schema is newer than this library
    ├── JournalCorrupted                      the journal's hash chain does not hold
    ├── ConditionError (also a ValueError)    a policy condition does not compile
    ├── DocumentInvalid                       a YAML document is malformed: every problem
    │   ├── PolicyInvalid                     … a policy file
    │   └── ScenarioInvalid                   … a scenario file
    ├── PortfolioInvalid                      a portfolio file cannot be imported at all
    ├── MessageRefused                        a rendered message (or its template) breaks a rule
    ├── UnknownTemplate (also a KeyError)     no template of that name, channel and locale
    └── ChannelsMissing                       the policy sends on channels no adapter serves

The modules that raise them re-export them under their old names
(``arrears.policy.PolicyInvalid`` is ``arrears.errors.PolicyInvalid``).

`invalid_input` turns a `pydantic.ValidationError` into `InvalidInput`, naming
the field and the value, with the value masked or left out where it could be
personal data.

No message built here contains personal data (names, phone numbers, addresses):
values that could are masked before they reach an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from pydantic_core import ValidationError

__all__ = [
    "HIDDEN",
    "MISSING",
    "PERSONAL_FIELDS",
    "SHOWN",
    "ApprovalDenied",
    "ArrearsError",
    "CaseUnreadable",
    "ChannelsMissing",
    "ConcurrencyConflict",
    "ConditionError",
    "ConfigInvalid",
    "CurrencyMismatch",
    "DocumentInvalid",
    "DuplicateCase",
    "GuardFailure",
    "InvalidInput",
    "JournalCorrupted",
    "JournalProblem",
    "LeaseLost",
    "MessageRefused",
    "PolicyInvalid",
    "PortfolioInvalid",
    "Problem",
    "ScenarioInvalid",
    "SchemaMismatch",
    "StoreBusy",
    "TemplateProblem",
    "TooLong",
    "TransitionDenied",
    "UnknownCase",
    "UnknownTemplate",
    "UnknownTrigger",
    "described",
    "expected_of",
    "invalid_input",
]


# -- what errors carry -------------------------------------------------------------------
# Records of what went wrong, each carried by an error below (and some returned
# as they are): defined here so that this module imports nothing of arrears.


@dataclass(frozen=True, slots=True)
class GuardFailure:
    """Why a guard said no (carried by `TransitionDenied`).

    Attributes:
        guard: The guard's name, e.g. ``"dpd_at_least(90)"``.
        reason: One sentence with the values, e.g. ``"dpd is 41, needs at least 90"``.
        values: The values compared, JSON-safe, for machines.
    """

    guard: str
    reason: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The journal form."""
        return {"guard": self.guard, "reason": self.reason, "values": dict(self.values)}


@dataclass(frozen=True, slots=True)
class JournalProblem:
    """One way a chain fails to verify (carried by `JournalCorrupted`).

    Attributes:
        case_id: The case whose chain it is.
        position: Where in the chain (or the export's line number, from 1).
        problem: ``changed``, ``removed``, ``inserted``, ``reordered``,
            ``truncated``, ``malformed``, ``unsealed`` or ``unmatched`` (across a
            debtor's chains); against a signed
            checkpoint also ``rewritten``, and for signatures ``unsigned``,
            ``forged`` or ``unverified``.
        detail: What was expected and what was found.
    """

    case_id: str
    position: int
    problem: str
    detail: str

    def __str__(self) -> str:
        return f"case {self.case_id!r} at {self.position}: {self.problem} ({self.detail})"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a document, with where it is (carried by `DocumentInvalid`).

    Attributes:
        file: The document's file name, as the user gave it.
        line: The line (1-based) of the offending key or item.
        field: The field's path, e.g. ``expect[0].at``; empty for a syntax error.
        message: What is wrong, and what was expected.
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return f"{self.file}:{self.line}:{field} {self.message}"


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One rule a template, or a message rendered from it, does not meet (see `MessageRefused`).

    Attributes:
        template: The template's id, ``name.channel.locale`` (e.g. ``"reminder.sms.zh-CN"``).
        rule: The rule's id: a pack's (``"CN-CONDUCT"``) or the message checks'
            own (``"MSG-FACTS"``, ``"MSG-SEGMENTS"`` …).
        message: What is wrong, in words.
        match: The offending text, when the rule found some (a forbidden phrase).
        citation: Where the rule comes from.
    """

    template: str
    rule: str
    message: str
    match: str | None = None
    citation: str = ""

    def __str__(self) -> str:
        return f"{self.template}: {self.rule}: {self.message}"


@dataclass(frozen=True, slots=True)
class TooLong:
    """What an error shows for a text too long to repeat: its length, never the text.

    `InvalidInput.value` is one of these for a text over a limit (see
    `arrears.limits`) and for any refused value whose text runs past
    `SHOWN` characters: a ten-megabyte name is not repeated in a message.

    A collection whose text would run past `SHOWN` characters is shown the
    same way, counted in items (``<100000 items>``).

    Attributes:
        length: How many characters the text had (items, for a collection).
        unit: What *length* counts.
    """

    length: int
    unit: str = "characters"

    def __repr__(self) -> str:
        return f"<{self.length} {self.unit}>"


SHOWN: Final = 200
"""The longest text an error repeats as given; a longer one is shown as its length (`TooLong`)."""
#: The most bits of a whole number an error repeats (about 60 digits); a larger one is
#: shown as its count of digits, worked out without writing it (Python refuses to write
#: one of over 4,300 digits).
_SHOWN_BITS: Final = 200


def _digits(value: int) -> int:
    """How many decimal digits *value* has, without writing it out."""
    magnitude = abs(value)
    digits = max(1, int(magnitude.bit_length() * 0.30102999566398120))
    while magnitude >= 10**digits:
        digits += 1
    while digits > 1 and magnitude < 10 ** (digits - 1):
        digits -= 1
    return digits


def _shown_as_given(value: Any) -> Any:
    """*value*, or its length when it is a text (or a whole number) too long to repeat."""
    if isinstance(value, (str, bytes)) and len(value) > SHOWN:
        return TooLong(len(value))
    if type(value) is int and value.bit_length() > _SHOWN_BITS:
        return TooLong(_digits(value), "digits")
    if isinstance(value, (list, tuple, set, frozenset, dict)) and (
        len(value) > SHOWN or len(repr(value)) > SHOWN
    ):
        return TooLong(len(value), "items")
    return value


class ArrearsError(Exception):
    """Base class of every error raised by `arrears` on purpose."""


# -- bad input ---------------------------------------------------------------------------


class InvalidInput(ArrearsError, ValueError):
    """A value given to `arrears` is not acceptable.

    Attributes:
        field: The name of the offending field or argument (a path such as
            ``debtor.timezone`` or ``contacts[0].address`` for a model's field).
        value: The offending value (already masked where it could be personal
            data; `HIDDEN` where it is left out).
        expected: What would have been accepted.
        more: Further problems with the same input, each a ``(field, value,
            expected)`` triple; empty when there is one.
    """

    def __init__(
        self, field: str, value: Any, expected: str, *, more: Sequence[tuple[str, Any, str]] = ()
    ) -> None:
        self.field = field
        self.value = _shown_as_given(value)
        self.expected = expected
        self.more = tuple((name, _shown_as_given(got), wanted) for name, got, wanted in more)
        message = "; ".join(
            f"{name}: got {got!r}, expected {wanted}"
            for name, got, wanted in ((field, self.value, expected), *self.more)
        )
        super().__init__(message)


class CurrencyMismatch(InvalidInput):
    """Two amounts in different currencies were added, subtracted or compared."""

    def __init__(self, field: str, left: str, right: str) -> None:
        super().__init__(field, right, f"an amount in {left}, the currency it is combined with")
        self.left = left
        self.right = right


class ConfigInvalid(InvalidInput):
    """A configuration file (``arrears.toml``) cannot be used as written.

    The message starts with the file, then names the key (a dotted path such
    as ``adapters.gateway.url``), the value found and what was expected.  A
    value under a key that looks like a secret (``password``, ``token``…) is
    never shown.

    Attributes:
        path: The configuration file.
        field: The key, as a dotted path.
        value: The value found (`HIDDEN` when it is left out).
        expected: What would have been accepted.
        more: Further problems in the same file, ``(key, value, expected)``.
    """

    def __init__(
        self,
        path: str,
        field: str,
        value: Any,
        expected: str,
        *,
        more: Sequence[tuple[str, Any, str]] = (),
    ) -> None:
        super().__init__(field, value, expected, more=more)
        self.path = path
        self.args = (f"{path}: {self.args[0]}",)


# -- cases and the workflow --------------------------------------------------------------


class UnknownCase(ArrearsError, KeyError):
    """No case with the given id is known to the store."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(case_id)

    def __str__(self) -> str:
        return f"case_id: no case {_shown_as_given(self.case_id)!r}"


class CaseUnreadable(ArrearsError):
    """A stored case row that no longer reads as a case (edited by hand beside its journal).

    The message names the case and the fields that do not read (a key the
    model does not have, a name over its limit, a negative amount), never
    their values: the row holds personal data.  `Engine.verify` reports the
    same row as ``changed`` (``negative`` for the amounts below zero).

    Attributes:
        case_id: The case.
        fields: The dotted paths of the fields that do not read, sorted.
        negative: Those of *fields* that do not read for an amount below zero.
    """

    def __init__(self, case_id: str, fields: Sequence[str], negative: Sequence[str] = ()) -> None:
        self.case_id = case_id
        self.fields = tuple(fields)
        self.negative = tuple(negative)
        super().__init__(
            f"the stored case {_shown_as_given(case_id)!r} does not read as a case: "
            f"{', '.join(self.fields)}"
        )


class DuplicateCase(ArrearsError):
    """A case with the given id is already open."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"case_id: a case {_shown_as_given(case_id)!r} is already open")


class UnknownTrigger(ArrearsError):
    """The workflow defines no trigger of the given name."""

    def __init__(self, trigger: str, known: Sequence[str]) -> None:
        self.trigger = trigger
        self.known = tuple(known)
        super().__init__(
            f"trigger: got {_shown_as_given(trigger)!r}, expected one of {', '.join(sorted(known))}"
        )


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


# -- stores and the journal --------------------------------------------------------------


class ConcurrencyConflict(ArrearsError):
    """Another writer changed the case since it was read (optimistic version check),
    or the database aborted the transaction because of another writer.

    Nothing of the transaction that lost the race was stored.  The engine
    reads the case again and decides the operation again (up to
    ``arrears.engine.ATTEMPTS`` times in all); a conflict that persists, or
    one inside an `Engine.atomic` block, reaches the caller, who may run the
    whole operation or block again.

    A database that breaks a deadlock or refuses to serialize two
    transactions (PostgreSQL's SQLSTATE ``40P01``, ``40001``) does not say
    which case: `case_id` is then ``None``, `sqlstate` names the reason and
    the database's own error is the ``__cause__``.

    Attributes:
        case_id: The case, or ``None`` when the database did not say.
        expected: The version this writer read, or ``None`` when not known.
        found: The version in the store, when known.
        sqlstate: The database's SQLSTATE when the database aborted the
            transaction (``"40P01"``: a deadlock; ``"40001"``: a
            serialization failure; ``"55P03"``: a debtor's lock another
            writer held, which the transaction asked for after a debtor
            later in the lock order and so did not wait for), else ``None``.
    """

    #: What each SQLSTATE a retry resolves means, for the message.
    REASONS: Final = {
        "40P01": "deadlock detected",
        "40001": "could not serialize access",
        "55P03": "a lock another writer held, asked for out of order",
    }

    def __init__(
        self,
        case_id: str | None,
        expected: int | None,
        found: int | None = None,
        *,
        sqlstate: str | None = None,
    ) -> None:
        self.case_id = case_id
        self.expected = expected
        self.found = found
        self.sqlstate = sqlstate
        if case_id is None:
            reason = self.REASONS.get(sqlstate or "", "a conflict with another writer")
            super().__init__(
                f"the database aborted the transaction (SQLSTATE {sqlstate}: {reason}): "
                "another writer held what it needed; nothing of it was stored"
            )
            return
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


class StoreBusy(ArrearsError):
    """Another writer held the store for longer than the store waits; nothing was written.

    An SQLite file takes one writer at a time: a transaction waits up to the
    store's ``timeout`` for the one in progress.  Nothing of this one was
    stored; run the operation again later (or give the store a longer timeout).

    Attributes:
        store: What kind of store it is, e.g. ``"SQLite"``.
        waited: How long it waited, in seconds.
    """

    def __init__(self, store: str, waited: float) -> None:
        self.store = store
        self.waited = waited
        super().__init__(
            f"the {store} store stayed busy with another writer for {waited:g} s: "
            "nothing was written; try again"
        )


class LeaseLost(ArrearsError):
    """A worker's lease on a case it was reviewing ran out and another worker took the case.

    A SQL store checks, as each transaction of a leased batch commits, that
    the owner still holds the lease on every case of the batch (and renews
    it).  When another worker took one of them after the lease ran out,
    nothing of the transaction was stored: the other worker reviews those
    cases, and the stale batch must not write over its work.  The tick
    reports the batch's cases as errors and goes on with its next lease.

    Attributes:
        case_id: A case of the batch another worker holds now.
        owner: The worker whose lease ran out.
    """

    def __init__(self, case_id: str, owner: str) -> None:
        self.case_id = case_id
        self.owner = owner
        super().__init__(
            f"case {case_id!r} is no longer leased to {owner!r} (the lease ran out and "
            "another worker took it): nothing of the transaction was stored"
        )


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


# -- files: policies, scenarios, portfolios ----------------------------------------------


class ConditionError(ArrearsError, ValueError):
    """A condition that cannot be compiled or does not give a boolean.

    Raised while a policy is validated, where it becomes one of the problems
    of `PolicyInvalid`; it reaches a caller only from `CelCondition` itself.
    """


class DocumentInvalid(ArrearsError):
    """A YAML document is malformed or does not fit its schema.

    The message lists every problem, one per line, each as
    ``file:line: field: message``.

    Attributes:
        problems: Every problem found, in document order where known.
        file: The file of the first problem.
        line: The line of the first problem.
        field: The field of the first problem (empty for a syntax error).
        message: The message of the first problem.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("problems: got an empty list, expected at least one problem")
        self.problems = tuple(problems)
        first = self.problems[0]
        self.file = first.file
        self.line = first.line
        self.field = first.field
        self.message = first.message
        super().__init__("\n".join(str(problem) for problem in self.problems))


class PolicyInvalid(DocumentInvalid):
    """A policy file is malformed or inconsistent.

    It is an `ArrearsError`.  The message lists every problem, one per line,
    as ``file:line: field: message``.

    Attributes:
        problems: Every problem, each a ``Problem`` (``file``, ``line``, ``field``, ``message``).
        file: The file of the first problem.
        line: The line of the first problem.
        field: The field of the first problem, e.g. ``steps[2].when.dpd_in``.
        message: What is wrong with it.
    """


class ScenarioInvalid(DocumentInvalid):
    """A scenario file is malformed: not YAML, not the format, or asks what cannot be done.

    It is an `ArrearsError`.  The message lists every problem found, one per
    line, as ``file:line: field: message``.

    Attributes:
        problems: Every problem (each a ``Problem`` with ``file``, ``line``,
            ``field`` and ``message``).
        file: The file of the first problem.
        line: The line of the first problem.
        field: The field of the first problem, e.g. ``expect[0].at``.
        message: What is wrong with it.
    """


class PortfolioInvalid(ArrearsError):
    """The file as a whole cannot be imported (unknown format, a bad CSV header); nothing was.

    Attributes:
        path: The file.
        reason: What is wrong with it.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


# -- messages ----------------------------------------------------------------------------


class MessageRefused(ArrearsError):
    """A message may not be sent as rendered: it lacks a required fact or breaks a content rule.

    The message names the template, the rule and the match; it never quotes
    the rendered text, which may carry personal data.

    Attributes:
        template: The template's id.
        rule: The first failing rule's id.
        match: The first problem's offending text, if any.
        problems: Every problem found.
    """

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        if not problems:
            raise ValueError("MessageRefused needs at least one problem")
        self.problems = tuple(problems)
        first = self.problems[0]
        self.template = first.template
        self.rule = first.rule
        self.match = first.match
        listed = "; ".join(f"{p.rule}: {p.message}" for p in self.problems)
        super().__init__(f"template {first.template!r} refused: {listed}")

    @property
    def rules(self) -> tuple[str, ...]:
        """The ids of every failing rule, in order."""
        return tuple(problem.rule for problem in self.problems)


class UnknownTemplate(ArrearsError, KeyError):
    """No template with that name and channel in the locale asked for (or one it falls back to).

    Attributes:
        name: The template name asked for.
        channel: The channel asked for.
        locale: The locale asked for.
        known: The ids of the templates there are.
    """

    def __init__(self, name: str, channel: str, locale: str, known: Sequence[str]) -> None:
        self.name = name
        self.channel = channel
        self.locale = locale
        self.known = tuple(known)
        super().__init__(name)

    def __str__(self) -> str:
        known = ", ".join(self.known) or "none"
        return (
            f"template: no {self.name!r} for {self.channel} in {self.locale} "
            f"or a locale it falls back to (known: {known})"
        )


# -- running the policy ------------------------------------------------------------------


class ChannelsMissing(ArrearsError):
    """The policy's steps send on channels that no channel adapter serves; nothing was reviewed.

    Raised rather than record a delivery that could not happen: give an
    adapter for each channel (`arrears.channels`), or take the steps out.

    Attributes:
        channels: The channels without an adapter, sorted.
        served: The channels the adapters serve, sorted.
    """

    def __init__(self, channels: Iterable[str], served: Iterable[str] = ()) -> None:
        self.channels = tuple(sorted(set(channels)))
        self.served = tuple(sorted(set(served)))
        listed = ", ".join(self.channels)
        adapters = ", ".join(self.served) or "none"
        super().__init__(
            f"no channel adapter for {listed}: the policy's steps send on "
            f"{'it' if len(self.channels) == 1 else 'them'} (the adapters serve: {adapters})"
        )


# -- pydantic's errors as InvalidInput ---------------------------------------------------


class _Hidden:
    """The value of a field an error does not show."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<hidden>"


HIDDEN: Final = _Hidden()
"""The `InvalidInput.value` of a refused value that is left out (it could be personal data)."""


class _Missing:
    """The value of a required field that was not given."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "nothing"


MISSING: Final = _Missing()
"""The `InvalidInput.value` of a required field that was not given (``got nothing``)."""

#: What `invalid_input` says a missing field and an unknown one expect.
_REQUIRED: Final = "a value: the field is required"
_UNKNOWN: Final = "no such field: check its spelling, or leave it out"

PERSONAL_FIELDS: Final = frozenset({"address", "contact", "name", "subject", "text"})
"""Field names whose values `invalid_input` never shows as given, when the input is hidden.

Addresses and contact ids are masked to their last four characters (as
`arrears.case.mask` does); names, subjects and texts are left out (`HIDDEN`).
"""
_MASKED: Final = frozenset({"address", "contact"})
#: What a phone number or an e-mail address looks like, in a field where none belongs.
_CONTACT_LIKE: Final = re.compile(
    r"@|(?<![\w+])\+\d(?:[\s().-]?\d){6,14}|(?<![\w.])\(?\d(?:[\s()-]{0,2}\d){8,}"
)
#: Values shown as given from a model that hides its input, unless they look like contacts.
_SCALARS: Final = (bool, int, float, Decimal, str, date, time, timedelta, type(None))
#: A model's own check names its field: ``"principal: got 1.001, expected …"``.
_NAMED: Final = re.compile(r"^(\w+): (?:got .*?, expected )?(.*)$", re.DOTALL)
_PREFIXES: Final = ("Value error, ", "Assertion failed, ")
_WORD: Final = re.compile(r"\w")


#: What a text that fails a pattern was expected to be, by the pattern (`described`).
_PATTERNS: dict[str, str] = {}

#: What pydantic's errors of these types expect, said for a person rather than by pydantic:
#: ``{detail}`` is what pydantic adds after its first comma, if anything.
_PLAIN: Final = {
    "zoneinfo_str": "an IANA time zone such as 'America/New_York' or 'Asia/Shanghai'",
    "decimal_parsing": "a plain decimal such as 1000.00 (no separators, no currency sign)",
    "date_parsing": "a date as YYYY-MM-DD, such as 2026-09-01{detail}",
    "date_from_datetime_parsing": "a date as YYYY-MM-DD, such as 2026-09-01{detail}",
}


def described(pattern: str, meaning: str) -> str:
    """*pattern*, remembered with *meaning*: a text that fails it is said to expect *meaning*.

    For ``Field(pattern=described(r"^[a-z]{2}$", "a two-letter code such as 'en'"))``:
    a value that does not match is refused with ``expected a two-letter code
    such as 'en'`` rather than with the pattern itself.

    Returns:
        *pattern*, unchanged.
    """
    _PATTERNS[pattern] = meaning
    return pattern


def expected_of(detail: Mapping[str, Any]) -> str:
    """What one of pydantic's errors (an item of ``ValidationError.errors()``) expects, in words.

    Pydantic's message without its ``Value error, `` prefix; for a time zone,
    a date or a decimal of the wrong form, the form to write instead (``a
    date as YYYY-MM-DD, such as 2026-09-01``, pydantic's reason after it);
    for a text that fails a pattern, the pattern's meaning (`described`).
    """
    expected = " ".join(str(detail.get("msg", "")).split())
    for start in _PREFIXES:
        if expected.startswith(start):
            expected = expected[len(start) :]
    kind = detail.get("type", "")
    if kind in _PLAIN:
        _, comma, said = expected.partition(", ")
        return _PLAIN[kind].format(detail=f" ({said})" if comma else "")
    if kind == "string_pattern_mismatch":
        return _PATTERNS.get(str((detail.get("ctx") or {}).get("pattern")), expected)
    return expected


def invalid_input(
    error: ValidationError, *, prefix: str = "", hide: bool | None = None
) -> InvalidInput:
    """*error*, a `pydantic.ValidationError`, as `InvalidInput` naming the field and the value.

    The first of pydantic's errors gives `InvalidInput.field` (a path such as
    ``debtor.timezone`` or ``contacts[0].address``), `InvalidInput.value` (the
    value given) and `InvalidInput.expected` (pydantic's message, or the
    model's own check's); the others are in `InvalidInput.more`.  Raise the
    result ``from error``, so the original stays its ``__cause__``.

    When the model hides its input (``hide_input_in_errors``, as `Case`,
    `Debtor` and `ContactPoint` do, or *hide* is true), a value is shown only
    if it is a plain value (a date, a number, a word) of a field not in
    `PERSONAL_FIELDS` that the model declares: an address or a contact id is
    masked to its last four characters, anything else is `HIDDEN`.

    Args:
        error: The error pydantic raised.
        prefix: Put before each field's path: a name (``"proposal"`` gives
            ``proposal.channel``) or text ending in ``.``, ``:``, ``[`` or a
            space, put as it is (``"reminder.sms.en: "`` gives ``reminder.sms.en: kind``).
        hide: Hide values as a model that hides its input would (``True``), or
            show them all (``False``); as the model says when ``None``.

    Example:
        >>> import pydantic
        >>> from arrears import Case
        >>> try:
        ...     Case.model_validate({"id": "C-1", "debtor": {"id": "D-1"},
        ...                          "balance": {"currency": "CNY"}, "due_date": "2026-02-30"})
        ... except pydantic.ValidationError as err:
        ...     print(invalid_input(err))
        due_date: got '2026-02-30', expected a date as YYYY-MM-DD, such as 2026-09-01 (day value is outside expected range)
    """  # noqa: E501
    hidden = _hides_input(error) if hide is None else hide
    problems = [_problem(detail, prefix, hidden) for detail in error.errors()]
    if not problems:  # pydantic never raises one without errors; a hand-made one may
        problems = [(prefix.rstrip(".:[ ") or error.title, HIDDEN, str(error))]
    (field, value, expected), *more = problems
    result = InvalidInput(field, value, expected, more=more)
    result.__cause__ = error
    return result


def _hides_input(error: ValidationError) -> bool:
    """Whether the model that raised *error* hides its input (so, unknown: it does)."""
    try:
        arguments = error.__reduce__()[1]  # (title, line errors, input type, hide input)
        return bool(arguments[3])
    except (TypeError, IndexError, AttributeError):
        return True


def _problem(detail: Mapping[str, Any], prefix: str, hidden: bool) -> tuple[str, Any, str]:
    """One of pydantic's errors as ``(field, value, expected)``."""
    path = list(detail.get("loc", ()))
    value = detail.get("input")
    expected = expected_of(detail)
    kind = detail.get("type", "")
    named = _NAMED.match(expected)
    if kind in ("value_error", "assertion_error", "string_too_long") and named is not None:
        name = named.group(1)
        if path and path[-1] == name:  # a field's own check: "payday: got …, expected …"
            expected = named.group(2)
        elif isinstance(value, Mapping) and name in value:
            path.append(name)  # a model's check of one of its fields: "principal: …"
            value = value[name]
            expected = named.group(2)
    if kind == "missing":  # the value pydantic gives is the mapping the field is missing from
        return _field(prefix, path), MISSING, _REQUIRED
    if kind == "extra_forbidden":
        expected = _UNKNOWN
    if kind == "string_too_long" and isinstance(value, str):
        shown: Any = TooLong(len(value))  # the length only: the text may be anyone's name
    else:
        shown = _shown(value, path, hidden, kind == "extra_forbidden")
    given = (
        str(value)
        if isinstance(value, str) or (type(value) is int and value.bit_length() <= _SHOWN_BITS)
        else ""
    )
    if shown is not value and given and given in expected:  # a message that quotes the input
        # Only where it stands alone: the 'x' of "Extra inputs" is no quotation of 'x'.
        before = r"(?<!\w)" if _WORD.match(given) else ""
        after = r"(?!\w)" if _WORD.match(given[-1]) else ""
        alone = re.compile(before + re.escape(given) + after)
        expected = alone.sub(lambda _: repr(shown) if shown is HIDDEN else str(shown), expected)
    return _field(prefix, path), shown, expected


def _shown(value: Any, path: Sequence[Any], hidden: bool, unknown: bool) -> Any:
    """*value* as an error may show it."""
    if type(value) is int and value.bit_length() > _SHOWN_BITS:
        return TooLong(_digits(value), "digits")
    if isinstance(value, str) and len(value) > SHOWN:  # never shown: not searched either
        return TooLong(len(value))
    if not hidden:
        return value
    names = {part for part in path if isinstance(part, str)}
    if unknown or not names.isdisjoint(PERSONAL_FIELDS - _MASKED):
        return HIDDEN
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        text = str(value)
        if not names.isdisjoint(_MASKED) or _CONTACT_LIKE.search(text):
            return "*" * len(text) if len(text) <= 4 else "*" * (len(text) - 4) + text[-4:]
    return value if isinstance(value, _SCALARS) else HIDDEN


def _field(prefix: str, path: Sequence[Any]) -> str:
    """A field's path as a reader writes it: ``contacts[0].address``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    if not prefix:
        return text
    if not text:
        return prefix.rstrip(".:[ ")
    if prefix.endswith((".", ":", "[", " ")):
        return prefix + text
    return prefix + text if text.startswith("[") else f"{prefix}.{text}"
