"""What a policy's conditions can ask about a case at a moment: the facts, computed on demand.

`Facts` is the read-only view a policy sees: conditions read its named facts
(``dpd``, ``stage``, ``arrears``…), Python escalation rules read the same
object.  Each fact is computed the first time it is asked for and then
remembered, so a policy with twenty conditions on ``dpd`` works it out once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from dateutil.rrule import rrulestr

from ..case import Case, Hold, bucket_of, overdue_sum
from ..compliance.history import ATTEMPT_KIND, Attempt, ContactHistory
from ..journal import JournalEntry
from ..limits import PAYDAY_HORIZON_DAYS
from ..money import Money

__all__ = ["FACTS", "Facts", "next_payday"]


@lru_cache(maxsize=4096)
def next_payday(rule: str, after: date) -> date | None:
    """The first payday on or after *after*, from an RFC 5545 recurrence rule.

    >>> next_payday("FREQ=MONTHLY;BYMONTHDAY=15", date(2026, 10, 16))
    datetime.date(2026, 11, 15)
    >>> next_payday("FREQ=MONTHLY;BYMONTHDAY=-1", date(2027, 2, 2))  # the last day
    datetime.date(2027, 2, 28)

    ``None`` when the rule gives no payday within `arrears.limits.PAYDAY_HORIZON_DAYS`
    of *after*.  The search is bounded: it runs on the same day of the 400-year
    cycle of the Gregorian calendar (the same weekdays and leap years) in the
    calendar's last centuries, where dateutil stops at the year 9999, so a rule
    whose next payday is rare costs at most a walk of 400 years, never 8,000.

    Remembered per rule and day: a tick asks it of every case with a payday, on one day.
    """
    shift = _CYCLE * ((_LAST_YEAR - after.year) // _CYCLE)
    moved = after.replace(year=after.year + shift)
    start = datetime.combine(moved - timedelta(days=400), datetime.min.time())
    recurrence = rrulestr(rule, dtstart=start)
    found = recurrence.after(datetime.combine(moved, datetime.min.time()), inc=True)
    if found is None:
        return None
    payday = found.date()
    if (payday - moved).days > PAYDAY_HORIZON_DAYS:
        return None
    return payday.replace(year=payday.year - shift)


#: Years in which the Gregorian calendar repeats itself, weekdays and leap years alike.
_CYCLE: Final = 400
#: The last year a payday is looked for in (dateutil stops after 9999).
_LAST_YEAR: Final = 9997


_UNKNOWN: Final = object()
"""A fact not worked out yet (``None`` is a value: no payday known)."""


class Facts:
    """The facts about one case at one moment, for conditions and Python rules.

    Read a fact as ``facts["dpd"]`` or ``facts.dpd``; the names are listed in
    `FACTS`.  The case itself is there as ``facts.case`` (read it, do not
    change it: only the engine changes cases).

    Attributes:
        case: The case.
        at: The moment.
        variant: The champion/challenger variant of the case (``None`` without variants).
    """

    __slots__ = (
        "_entries",
        "_history",
        "_known",
        "_segment",
        "_segmenter",
        "at",
        "case",
        "variant",
    )

    def __init__(
        self,
        case: Case,
        at: datetime,
        history: ContactHistory | Callable[[], ContactHistory],
        *,
        entries: Callable[[], Sequence[JournalEntry]] | None = None,
        segment: str | None = None,
        variant: str | None = None,
        segmenter: Callable[[Facts], str | None] | None = None,
    ) -> None:
        self.case = case
        self.at = at
        self._history = history
        self._segment = segment
        self._segmenter = segmenter
        self.variant = variant
        self._entries = entries
        self._known: dict[str, Any] = {}

    @property
    def segment(self) -> str | None:
        """The segment the policy put the case in (``None`` before segmenting).

        With a *segmenter* (the policy's `segment_of`), worked out the first
        time it is read.
        """
        segmenter = self._segmenter
        if segmenter is not None:
            self._segmenter = None
            self._segment = segmenter(self)
        return self._segment

    @segment.setter
    def segment(self, value: str | None) -> None:
        self._segmenter = None
        self._segment = value

    def __getitem__(self, name: str) -> Any:
        known = self._known
        value = known.get(name, _UNKNOWN)
        if value is not _UNKNOWN:
            return value
        if name == "segment":
            return self.segment
        if name == "variant":
            return self.variant
        compute = _COMPUTE.get(name)
        if compute is None:
            raise KeyError(name)
        value = known[name] = compute(self)
        return value

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def history(self) -> ContactHistory:
        """The case's contact history (built the first time a fact or rule asks for it)."""
        history = self._history
        if not isinstance(history, ContactHistory):
            history = self._history = history()
        return history

    def entries(self) -> Sequence[JournalEntry]:
        """The case's journal entries, oldest first (read when asked; none without a journal)."""
        return () if self._entries is None else self._entries()

    def as_dict(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """The named facts (all of them when ``None``) as a plain dict."""
        return {name: self[name] for name in (names if names is not None else FACTS)}

    # -- the computations ------------------------------------------------------------
    def _today(self) -> date:
        return self.case.local_date(self.at)

    def _active(self) -> tuple[Hold, ...]:
        return self.case.active_holds(self.at)

    def _recent(self, days: int) -> list[Attempt]:
        return [a for a in self.history.since(self.at - timedelta(days=days)) if a.at <= self.at]

    def _attempts_in(self, days: int) -> int:
        """How many attempts in the last *days* days, up to now.

        From the contact history when it is built; otherwise counted on the
        journal's newest entries, read back only as far as the window (each
        `ATTEMPT_KIND` entry is one attempt, as `ContactHistory` folds it): a
        policy that asks this of every case in a calling stage need not fold
        each one's history (bench: tick_memory).
        """
        if isinstance(self._history, ContactHistory) or self._entries is None:
            return len(self._recent(days))
        start, end = self.at - timedelta(days=days), self.at
        count = 0
        for entry in reversed(self._entries()):  # entries are in time order
            if entry.at < start:
                break
            if entry.kind == ATTEMPT_KIND and entry.at <= end:
                count += 1
        return count


def _days_to_payday(facts: Facts) -> int | None:
    rule = facts.case.debtor.payday
    if rule is None:
        return None
    today: date = facts["today"]
    payday = next_payday(rule, today)
    return None if payday is None else (payday - today).days


def _last_outcome(facts: Facts) -> str | None:
    attempts = facts.history.attempts
    return attempts[-1].outcome if attempts else None


def _days_since_contact(facts: Facts) -> int | None:
    reached = [a for a in facts.history.attempts if a.outcome in ("conversation", "delivered")]
    if not reached:
        return None
    today: date = facts["today"]
    return (today - facts.case.local_date(reached[-1].at)).days


_COMPUTE: Final[Mapping[str, Callable[[Facts], Any]]] = {
    "today": Facts._today,
    "dpd": lambda f: f.case.days_past_due(f.at),
    "bucket": lambda f: bucket_of(f["dpd"]),
    "stage": lambda f: f.case.stage,
    "arrears": lambda f: overdue_sum(f.case.balance),
    "outstanding": lambda f: overdue_sum(f.case.balance) + f.case.balance.not_due,
    "principal": lambda f: f.case.balance.principal,
    "currency": lambda f: f.case.currency,
    "days_to_due": lambda f: (f.case.due_date - f["today"]).days,
    "days_to_payday": _days_to_payday,
    "weekday": lambda f: f["today"].isoweekday(),
    "locale": lambda f: f.case.debtor.locale,
    "holds": lambda f: sorted({str(hold.kind) for hold in f._active()}),
    "on_hold": lambda f: bool(f._active()),
    "attempts_7d": lambda f: f._attempts_in(7),
    "attempts_total": lambda f: len(f.history.attempts),
    "last_outcome": _last_outcome,
    "days_since_contact": _days_since_contact,
    "notices": lambda f: sorted(f.case.notices),
}

FACTS: Final[Mapping[str, str]] = {
    "dpd": "days past due in the debtor's calendar (0 when nothing is overdue)",
    "bucket": "delinquency bucket: M0, M1 (1-30), M2 (31-60) … M7+",
    "stage": "the case's stage",
    "arrears": "the overdue amount (principal, interest, fees, penalty)",
    "outstanding": "everything still owed, due or not",
    "principal": "overdue principal",
    "currency": "ISO 4217 code of the case",
    "days_to_due": "days from today to the due date (negative once past it)",
    "days_to_payday": "days to the debtor's next payday (null when no payday is known)",
    "weekday": "today in the debtor's calendar: 1 Monday … 7 Sunday",
    "locale": "the debtor's language tag",
    "holds": "kinds of the holds in force",
    "on_hold": "true while any hold is in force",
    "attempts_7d": "contact attempts in the last 7 days",
    "attempts_total": "contact attempts ever",
    "last_outcome": "outcome of the last attempt (null before any)",
    "days_since_contact": "days since the debtor was last reached (null if never)",
    "notices": "kinds of the notices sent",
    "segment": "the segment the policy assigned",
    "variant": "the champion/challenger variant",
    "today": "today's date in the debtor's calendar",
}
"""Every fact a condition may read, with what it means."""

#: Facts whose value is an amount: Decimal for structured conditions, a double in CEL.
AMOUNTS: Final = frozenset({"arrears", "outstanding", "principal"})


def cel_value(name: str, value: Any) -> Any:
    """A fact's value as CEL reads it: amounts as doubles, dates as ISO text."""
    if isinstance(value, Decimal | Money):
        return float(value.amount if isinstance(value, Money) else value)
    if isinstance(value, date):
        return value.isoformat()
    return value
