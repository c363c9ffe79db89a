"""How long a case's records must be kept, and the check before they are purged.

The packs state each jurisdiction's retention period as a `RecordRetention`
rule (``US-RECORDS``: 12 CFR 1006.100, three years after the last collection
activity on the debt; ``CN-RECORDS``: two years).  `retention_until` reads
the longest of them for a case whose journal ends at a given moment;
`check_purge` refuses a purge before then, naming the rule and its citation.
`arrears.Engine.check_purge` does both for a case in the engine, from its
journal's last entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..errors import InvalidInput
from .rules import RecordRetention, Rule

__all__ = ["Retention", "check_purge", "retention_until"]


@dataclass(frozen=True, slots=True)
class Retention:
    """Until when a case's records must be kept, and which rule says so.

    Attributes:
        until: The earliest moment the records may be purged.
        rule: The id of the `RecordRetention` rule that sets it (the longest, when several do).
        citation: That rule's citation.
        years: Its period, in years after the last collection activity.
    """

    until: datetime
    rule: str
    citation: str
    years: int


def retention_until(rules: Iterable[Rule], last_activity: datetime) -> Retention | None:
    """The retention of a case whose last collection activity was at *last_activity*.

    Every enabled `RecordRetention` rule among *rules* (a `Compliance`'s
    ``rules``) counts; the latest end wins.  ``None`` when no rule asks for
    records to be kept.

    The journal's last entry stands for the last collection activity: every
    contact, notice and review is journaled, so the entry is never earlier
    than the activity, and the records are never purged early.  Recordings of
    calls (12 CFR 1006.100(b): three years after each call) are covered, since
    every call is an activity on or before the last.

    Raises:
        InvalidInput: *last_activity* has no time zone (``last_activity``).
    """
    if last_activity.tzinfo is None or last_activity.utcoffset() is None:
        raise InvalidInput("last_activity", last_activity.isoformat(), "a time with a time zone")
    found: Retention | None = None
    for item in rules:
        if isinstance(item, RecordRetention) and item.enabled:
            until = item.keep_until(last_activity)
            if found is None or until > found.until:
                found = Retention(until, item.id, item.citation, item.years)
    return found


def check_purge(
    rules: Iterable[Rule], case_id: str, last_activity: datetime, at: datetime
) -> Retention | None:
    """Refuse to purge case *case_id*'s records at *at* while a retention rule keeps them.

    Returns the retention that has ended (``None`` when no rule keeps records).

    Raises:
        InvalidInput: the records must still be kept (``purge``: the case id, and
            until when, by which rule and citation); *at* or *last_activity* has
            no time zone.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at", at.isoformat(), "a time with a time zone")
    retention = retention_until(rules, last_activity)
    if retention is not None and at < retention.until:
        raise InvalidInput(
            "purge",
            case_id,
            f"a case whose records may go: {retention.rule} keeps them until "
            f"{retention.until.isoformat()}, {retention.years} years after the last "
            f"collection activity on {last_activity.isoformat()} ({retention.citation})",
        )
    return retention
