"""Conditions in policy files: structured ones, compiled to Python, and CEL expressions.

A step, an escalation or a segment may say *when* it applies in two ways,
which may be combined (both must hold):

- ``when:``, a mapping of structured tests, read as "all of these": ``{dpd_in:
  [1, 3, 7], arrears_at_least: "1000.00"}``.  Compiled to a Python closure;
  amounts are compared as exact decimals.
- ``if:``, an expression in CEL, the Common Expression Language
  (https://cel.dev), for anything the mapping cannot say: ``dpd >= 30 &&
  (segment == 'high' || attempts_7d < 2)``.  Compiled once per policy by the
  ``common-expression-language`` package (a Rust implementation: about 1 µs per
  evaluation, where the pure-Python ``cel-python`` takes hundreds); the facts it
  reads are converted once per evaluation.  Amounts reach CEL as doubles
  (compare them, do not do arithmetic on them).  The package is imported when
  the first CEL expression is compiled.

Neither is ``eval``: a condition can only read the facts listed in
`arrears.policy.FACTS`.

A CEL expression is measured before the CEL library sees it: at most
`arrears.limits.CONDITION_LENGTH` characters, `~arrears.limits.CONDITION_TERMS`
names and literals, `~arrears.limits.CONDITION_DEPTH` nested brackets and
`~arrears.limits.CONDITION_COMPREHENSIONS` comprehensions (``map``,
``filter``, ``all``, ``exists``, ``exists_one``).  The native evaluator
recurses once per operator: a chain of fifteen thousand ``+`` crashes the
process (a segmentation fault), which no ``try`` can catch; and comprehensions
nested five deep over a list of 28 run for hours, which no timeout can stop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..case import Outcome
from ..errors import ConditionError
from ..limits import (
    CONDITION_COMPREHENSIONS,
    CONDITION_DEPTH,
    CONDITION_LENGTH,
    CONDITION_TERMS,
)
from .facts import FACTS, Facts, cel_value

__all__ = ["CelCondition", "ConditionError", "Test", "When"]

Test = Callable[[Facts], bool]
"""A compiled condition: facts in, True or False out."""

Day = Annotated[int, Field(ge=0, le=3660)]
#: How many results a CEL condition remembers before it starts afresh.
_RESULTS_KEPT: Final = 4096
_BUCKET = r"^M([0-6]|7\+)$"

#: A value for every fact, to try each CEL expression once when the policy loads.
_SAMPLE: Final[dict[str, Any]] = {
    "dpd": 12,
    "bucket": "M1",
    "stage": "sms",
    "arrears": 1250.0,
    "outstanding": 5000.0,
    "principal": 1000.0,
    "currency": "CNY",
    "days_to_due": -12,
    "days_to_payday": 3,
    "weekday": 3,
    "locale": "zh-CN",
    "holds": ["dispute"],
    "on_hold": False,
    "attempts_7d": 2,
    "attempts_total": 5,
    "last_outcome": "no_answer",
    "days_since_contact": 4,
    "notices": ["demand_letter"],
    "segment": "default",
    "variant": "champion",
    "today": "2026-10-13",
}


class When(BaseModel):
    """Structured tests, all of which must hold.

    Attributes:
        dpd: Days past due is exactly this.
        dpd_in: Days past due is one of these.
        dpd_at_least: Days past due is at least this.
        dpd_at_most: Days past due is at most this.
        days_to_due: The due date is exactly this many days ahead (0: today).
        days_to_payday: The debtor's payday is exactly this many days ahead.
        days_to_payday_at_most: The payday is at most this many days ahead.
        bucket_in: The delinquency bucket is one of these (``M1``…``M7+``).
        arrears_at_least: The overdue amount is at least this.
        arrears_below: The overdue amount is below this.
        segment_in: The case's segment is one of these.
        variant_in: The case's champion/challenger variant is one of these.
        on_hold: A hold is (True) or is not (False) in force.
        weekday_in: Today (the debtor's calendar) is one of these, 1 Monday … 7 Sunday.
        last_outcome_in: The last contact attempt ended in one of these.
        attempts_7d_below: Fewer than this many attempts in the last 7 days.
        no_contact_for_days: The debtor was last reached at least this many days
            ago (or never).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dpd: Day | None = None
    dpd_in: tuple[Day, ...] | None = Field(default=None, min_length=1)
    dpd_at_least: Day | None = None
    dpd_at_most: Day | None = None
    days_to_due: Day | None = None
    days_to_payday: Day | None = None
    days_to_payday_at_most: Day | None = None
    bucket_in: tuple[Annotated[str, Field(pattern=_BUCKET)], ...] | None = None
    arrears_at_least: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] | None = None
    arrears_below: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    segment_in: tuple[str, ...] | None = None
    variant_in: tuple[str, ...] | None = None
    on_hold: bool | None = None
    weekday_in: tuple[Annotated[int, Field(ge=1, le=7)], ...] | None = None
    last_outcome_in: tuple[Outcome, ...] | None = None
    attempts_7d_below: Annotated[int, Field(ge=1)] | None = None
    no_contact_for_days: Day | None = None

    @model_validator(mode="after")
    def _possible(self) -> When:
        problem = self.never()
        if problem is not None:
            raise ValueError(f"can never hold: {problem}")
        return self

    def never(self) -> str | None:
        """Why these tests can never all hold together, or ``None``."""
        low = max(value for value in (self.dpd, self.dpd_at_least, 0) if value is not None)
        high = min(value for value in (self.dpd, self.dpd_at_most, 10**6) if value is not None)
        if low > high:
            return f"days past due would have to be at least {low} and at most {high}"
        if self.dpd_in is not None and not any(low <= day <= high for day in self.dpd_in):
            return f"none of dpd_in {list(self.dpd_in)} lies within {low}..{high}"
        if self.dpd is not None and self.dpd_in is not None and self.dpd not in self.dpd_in:
            return f"dpd {self.dpd} is not in dpd_in {list(self.dpd_in)}"
        if (self.dpd or self.dpd_at_least or self.dpd_in) and self.days_to_due:
            return "a case cannot be past due and have its due date ahead"
        if (
            self.arrears_at_least is not None
            and self.arrears_below is not None
            and self.arrears_at_least >= self.arrears_below
        ):
            return (
                f"arrears would have to be at least {self.arrears_at_least} "
                f"and below {self.arrears_below}"
            )
        return None

    def compile(self) -> Test:
        """The tests as one Python function of the facts."""
        tests: list[Test] = []
        for name, fact, make in _TESTS:
            value = getattr(self, name)
            if value is not None:
                tests.append(make(fact, value))
        if self.days_to_payday_at_most is not None:
            tests.append(_within("days_to_payday", self.days_to_payday_at_most))
        if self.no_contact_for_days is not None:
            tests.append(_quiet_for(self.no_contact_for_days))
        if not tests:
            return _always
        return _all_of(tests)


def _all_of(tests: list[Test]) -> Test:
    """One test that holds when every one of *tests* does, tried in order (no generator)."""
    if len(tests) == 1:
        return tests[0]
    first, *rest = tests
    second = _all_of(rest)
    return lambda facts: first(facts) and second(facts)


def _equal(fact: str, value: Any) -> Test:
    return lambda facts: bool(facts[fact] == value)


def _member(fact: str, values: Any) -> Test:
    chosen = frozenset(values)
    return lambda facts: facts[fact] in chosen


def _at_least(fact: str, value: Any) -> Test:
    return lambda facts: bool(facts[fact] >= value)


def _at_most(fact: str, value: Any) -> Test:
    return lambda facts: bool(facts[fact] <= value)


def _below(fact: str, value: Any) -> Test:
    return lambda facts: bool(facts[fact] < value)


def _within(fact: str, value: int) -> Test:
    def test(facts: Facts) -> bool:
        days = facts[fact]
        return days is not None and 0 <= days <= value

    return test


def _quiet_for(days: int) -> Test:
    def test(facts: Facts) -> bool:
        since = facts["days_since_contact"]
        return since is None or since >= days

    return test


#: (field of `When`, fact it reads, how it compares).
_TESTS: Final[tuple[tuple[str, str, Callable[[str, Any], Test]], ...]] = (
    ("dpd", "dpd", _equal),
    ("dpd_in", "dpd", _member),
    ("dpd_at_least", "dpd", _at_least),
    ("dpd_at_most", "dpd", _at_most),
    ("days_to_due", "days_to_due", _equal),
    ("days_to_payday", "days_to_payday", _equal),
    ("bucket_in", "bucket", _member),
    ("arrears_at_least", "arrears", _at_least),
    ("arrears_below", "arrears", _below),
    ("segment_in", "segment", _member),
    ("variant_in", "variant", _member),
    ("on_hold", "on_hold", _equal),
    ("weekday_in", "weekday", _member),
    ("last_outcome_in", "last_outcome", _member),
    ("attempts_7d_below", "attempts_7d", _below),
)


def _always(facts: Facts) -> bool:
    return True


class CelCondition:
    """A CEL expression compiled once, evaluated on a case's facts.

    Raises:
        ConditionError: it is too large (`condition_problem`), does not parse,
            reads a name that is not a fact, mixes types, divides by zero,
            overflows, or does not give a boolean (tried on sample facts).
    """

    __slots__ = ("_program", "_results", "names", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        # Results by the values of the facts read: an expression is a pure function
        # of them, and a portfolio's cases share few combinations (a segment and a
        # count of attempts), so most evaluations are a lookup (bench: tick_memory).
        self._results: dict[tuple[Any, ...], bool] = {}
        problem = condition_problem(source)
        if problem is not None:
            raise ConditionError(problem)
        import cel  # here, not at the top: a policy without CEL never loads it

        try:
            self._program = cel.compile(source)
        except ValueError as err:
            raise ConditionError(str(err).splitlines()[0]) from None
        self.names = tuple(name for name in self._program.variables() if name in FACTS)
        try:
            result = self._program.execute(_SAMPLE)
        except _EVALUATION_ERRORS as err:
            raise ConditionError(str(err).split(". ")[0]) from None
        if not isinstance(result, bool):
            raise ConditionError(f"gives {type(result).__name__}, not a boolean")

    def __repr__(self) -> str:
        return f"CelCondition({self.source!r})"

    def __call__(self, facts: Facts) -> bool:
        """Evaluate on *facts*; an evaluation error counts as false.

        A fact that is null, a division by zero (``10 / (dpd - 5)`` when
        ``dpd`` is 5) or an overflow makes the condition not hold; it never
        raises out of a review.
        """
        values = tuple([facts[name] for name in self.names])
        try:
            return self._results[values]
        except KeyError:
            remember = True
        except TypeError:  # a list (holds, notices): worked out each time
            remember = False
        named = zip(self.names, values, strict=True)
        context = {name: cel_value(name, value) for name, value in named}
        try:
            result = self._program.execute(context) is True
        except _EVALUATION_ERRORS:
            result = False
        if remember:
            if len(self._results) >= _RESULTS_KEPT:
                self._results.clear()
            self._results[values] = result
        return result


#: What the CEL library raises when an expression fails on given facts: an undefined
#: name or a null fact, mixed types, a division by zero, an overflow.
_EVALUATION_ERRORS: Final = (RuntimeError, TypeError, ValueError, ArithmeticError)

#: CEL's comprehension macros: each one loops over a list, so nesting them multiplies.
_COMPREHENSIONS: Final = frozenset({"map", "filter", "all", "exists", "exists_one", "existsOne"})

#: A CEL token: a string (raw strings have no escapes), a number, a name, a bracket, or
#: any other character.  Enough to count terms and depth, not to parse.
_TOKEN: Final = re.compile(
    # raw strings: no escapes
    r"(?P<string>[bB]?[rR][bB]?(?:'{3}.*?'{3}|\"{3}.*?\"{3}|'[^'\n]*'|\"[^\"\n]*\")"
    # other strings: a backslash escapes the next character
    r"|[bB]?(?:'{3}(?:\\.|[^\\])*?'{3}|\"{3}(?:\\.|[^\\])*?\"{3}"
    r"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"))"
    r"|(?P<term>[A-Za-z_][A-Za-z0-9_]*|\.?\d[\w.]*)"
    r"|(?P<open>[(\[{])|(?P<close>[)\]}])"
    r"|\s+|.",
    re.DOTALL,
)


def condition_problem(source: str) -> str | None:
    """Why *source* is too large a CEL expression to hand to the CEL library, or ``None``.

    Counted before it is compiled: its length (`arrears.limits.CONDITION_LENGTH`),
    its names and literals (`~arrears.limits.CONDITION_TERMS`), its nested
    brackets (`~arrears.limits.CONDITION_DEPTH`) and its comprehensions
    (`~arrears.limits.CONDITION_COMPREHENSIONS`: every ``map``, ``filter``,
    ``all``, ``exists`` or ``exists_one`` outside a string counts).  The
    message gives the counts, not the expression.
    """
    if len(source) > CONDITION_LENGTH:
        return f"{len(source)} characters, more than {CONDITION_LENGTH}"
    terms = depth = deepest = loops = 0
    for token in _TOKEN.finditer(source):
        group = token.lastgroup
        if group == "term" or group == "string":
            terms += 1
            if group == "term" and token.group() in _COMPREHENSIONS:
                loops += 1
        elif group == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif group == "close":
            depth -= 1
    if terms > CONDITION_TERMS:
        return f"{terms} names and literals, more than {CONDITION_TERMS}"
    if deepest > CONDITION_DEPTH:
        return f"brackets nested {deepest} deep, more than {CONDITION_DEPTH}"
    if loops > CONDITION_COMPREHENSIONS:
        return (
            f"{loops} comprehensions (map, filter, all, exists, exists_one), "
            f"more than {CONDITION_COMPREHENSIONS}"
        )
    return None


def both(first: Test | None, second: Test | None) -> Test:
    """One test that needs both (either may be absent)."""
    if first is None:
        return second or _always
    if second is None:
        return first
    return lambda facts: first(facts) and second(facts)
