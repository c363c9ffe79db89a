"""The clock: the only source of "now" in `arrears`.

Production code uses `SystemClock`; tests and simulations use `SettableClock`
and move time explicitly, so a test can stand on a DST change or a midnight.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Protocol, TypeVar, runtime_checkable
from zoneinfo import ZoneInfo

from .errors import InvalidInput

__all__ = ["Clock", "SettableClock", "SystemClock", "instant", "per_moment", "require_aware"]

#: Time zone classes whose offset is never ``None``: a datetime with one is aware
#: without asking it (an offset lookup that every recorded entry would repeat).
_ALWAYS_AWARE: Final = frozenset({ZoneInfo, timezone})


def require_aware(value: datetime, field: str) -> datetime:
    """Return *value* if it is a timezone-aware datetime.

    Raises:
        InvalidInput: *value* is naive or not a datetime, naming *field*.
    """
    if type(value) is datetime and type(value.tzinfo) in _ALWAYS_AWARE:
        return value
    if not isinstance(value, datetime):
        raise InvalidInput(field, value, "a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, value.isoformat(), "a timezone-aware datetime (naive given)")
    return value


_KEPT: Final = 64
"""How many moments a `per_moment` function remembers before it starts afresh."""

_T = TypeVar("_T")


def per_moment(compute: Callable[[datetime], _T]) -> Callable[[datetime], _T]:
    """*compute*, remembered for the last few moments it was given (`_KEPT`), by identity.

    A tick gives every case it reviews one of a few moments (its own, the
    next review in each zone): the text, timestamp or offset of each is worked
    out once.  Converting an aware datetime in a zone other than UTC asks the
    zone for its offset every time (about 0.4 µs with a `ZoneInfo`).  The
    moment is kept with its value, so its id names no other object while
    remembered.
    """
    found: dict[int, tuple[datetime, _T]] = {}

    @functools.wraps(compute)
    def remembered(at: datetime) -> _T:
        hit = found.get(id(at))
        if hit is not None and hit[0] is at:
            return hit[1]
        value = compute(at)
        if len(found) >= _KEPT:
            found.clear()
        found[id(at)] = (at, value)
        return value

    return remembered


@per_moment
def instant(at: datetime) -> float:
    """*at* in seconds since the Unix epoch (``at.timestamp()``), remembered (`per_moment`)."""
    return at.timestamp()


@runtime_checkable
class Clock(Protocol):
    """Tells the time: what the engine asks whenever a caller gives no explicit time."""

    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    __slots__ = ()

    def now(self) -> datetime:
        """The current moment in UTC."""
        return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until told to move.

    Args:
        start: The initial moment (timezone-aware).

    Example:
        >>> clock = SettableClock(datetime(2026, 3, 8, 6, 0, tzinfo=UTC))
        >>> clock.advance(days=1).isoformat()
        '2026-03-09T06:00:00+00:00'
    """

    __slots__ = ("_now",)

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "start")

    def now(self) -> datetime:
        """The moment the clock was last set to."""
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Move the clock to *moment* (forwards or backwards) and return it."""
        self._now = require_aware(moment, "moment")
        return self._now

    def advance(
        self,
        delta: timedelta | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
    ) -> datetime:
        """Move the clock forward by *delta* and/or the given units; return the new time."""
        step = (delta or timedelta()) + timedelta(days=days, hours=hours, minutes=minutes)
        if step < timedelta(0):
            raise InvalidInput("delta", str(step), "a step forward (use set() to go back)")
        self._now = self._now + step
        return self._now
