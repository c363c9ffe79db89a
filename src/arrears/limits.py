"""Every size limit on what `arrears` is given, in one place.

Whatever reaches `arrears` from outside (a case to open, a reason, a payment
reference, a staff id, a policy or scenario file, a CEL condition, a message
template) is bounded, so that no input can make it run out of memory, recurse
until the interpreter gives up, crash a native library or hang.  An input over
a limit is refused with `arrears.errors.InvalidInput` naming the field, the
length it had and the limit (the value itself is never repeated: it may be
ten megabytes, or a debtor's name); a file over a limit is refused with
`arrears.errors.DocumentInvalid` naming the file and the line.

The limits are far above anything a real case, policy or template needs; the
table of them is in the documentation's *Limits* section of the errors page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from .errors import InvalidInput, TooLong

__all__ = [
    "ACTOR_ID",
    "ADDRESS",
    "CONDITION_COMPREHENSIONS",
    "CONDITION_DEPTH",
    "CONDITION_LENGTH",
    "CONDITION_TERMS",
    "CONTACTS",
    "DOCUMENT_BYTES",
    "EARLIEST_MOMENT",
    "ENTRY_TEXT",
    "FUTURE_TOLERANCE",
    "LATEST_DATE",
    "LATEST_MOMENT",
    "LEASE",
    "MAX_AMOUNT",
    "MAX_RATE",
    "MESSAGE",
    "NAME",
    "OPENING_ITEMS",
    "PAYDAY_HORIZON_DAYS",
    "REASON",
    "REFERENCE",
    "ROLES",
    "SHORT_TEXT",
    "TEMPLATE_CHARACTERS",
    "TEMPLATE_SECONDS",
    "TEMPLATE_SOURCE",
    "TEMPLATE_STEPS",
    "YAML_ALIASES",
    "YAML_DEPTH",
    "YAML_VALUES",
    "check_text",
]

# -- free text given to the engine -------------------------------------------------------

NAME: Final = 200
"""Characters in a debtor's name (`Debtor.name`)."""

ADDRESS: Final = 500
"""Characters in a contact point's address: a phone number, an e-mail address, a postal address."""

CONTACTS: Final = 100
"""Contact points on one case (the debtor's and third parties'); each is journaled in the
``opened`` snapshot, so the list is bounded like any text."""

OPENING_ITEMS: Final = 1_000
"""Items in each list (or mapping) of a case given to be opened: its holds, tasks,
documents, notices, aging; each is journaled in the ``opened`` snapshot, and a list of a
hundred thousand refused items cost seconds to validate and minutes to report."""

SHORT_TEXT: Final = 128
"""Characters in a short label: a document kind, a policy variant, a segment, a role."""

REASON: Final = 500
"""Characters in a reason given by a person: a hold's, a waiver's, a settlement's, a trigger's."""

REFERENCE: Final = 128
"""Characters in a payment or document reference (a bank's or a provider's transaction id)."""

ACTOR_ID: Final = 128
"""Characters in a staff id (`Actor.id`)."""

ROLES: Final = 32
"""Roles one `Actor` may hold."""

ENTRY_TEXT: Final = 2_000
"""Characters in any other text recorded in a journal entry (a note, a provider's id, a key)."""

MESSAGE: Final = 20_000
"""Characters in a message's text or subject: what a template renders, what an intent records."""

# -- amounts and time --------------------------------------------------------------------

MAX_AMOUNT: Final = Decimal(10) ** 15
"""Amounts are below this many units of their currency (a quadrillion): no single debt,
payment or charge comes near it, and an absurd figure is a mistake to refuse."""

MAX_RATE: Final = Decimal(10)
"""Rates a lender states (``late_fee_rate``, ``rate_ceiling``) are below this, a fraction
a period: 1,000% a day, a month or a year is no rate but a mistake, and a rate of a
hundred thousand digits would be written out in full by every problem that quotes it."""

FUTURE_TOLERANCE: Final = timedelta(minutes=5)
"""How far after the engine's clock an entry may be dated, by default (`Engine` takes another)."""

LATEST_DATE: Final = date(2999, 12, 31)
"""The latest due date a case, a promise or a plan's instalment may have: far beyond any
loan, and far enough before the end of the calendar (9999-12-31) that every review,
reminder and plan date counted from it stays a date."""

EARLIEST_MOMENT: Final = datetime(1, 1, 2, tzinfo=UTC)
"""The earliest moment a window or a command's time may be: a day inside the calendar's
first, so that it is a moment in every time zone (0001-01-01T00:00+14:00 is in none the
engine can convert it to)."""

LATEST_MOMENT: Final = datetime.combine(LATEST_DATE + timedelta(days=1), time(), UTC)
"""The latest moment a window or a command's time may be: the day after `LATEST_DATE`
begins (UTC), far beyond any loan, and far enough before the end of the calendar that it
converts to every time zone and every date counted from it stays a date."""

LEASE: Final = timedelta(days=1)
"""The longest lease a tick grants a worker on a due case, counted from the tick's moment
(``lease_for`` and the time the tick has spent, together): `Engine.verify` reports a
lease ending further ahead than this after the clock (with ``future_tolerance``) as
``unscheduled``."""

PAYDAY_HORIZON_DAYS: Final = 731
"""A payday rule must give a payday within this many days of any day (two years)."""

# -- files and expressions ---------------------------------------------------------------

DOCUMENT_BYTES: Final = 1_048_576
"""Bytes in a policy or scenario file, or in a template's front matter (1 MiB)."""

YAML_DEPTH: Final = 64
"""Mappings and lists nested in a YAML document."""

YAML_ALIASES: Final = 100
"""Aliases (``*name``) in a YAML document."""

YAML_VALUES: Final = 20_000
"""Values in a YAML document once its aliases are expanded (a "billion laughs" stops here)."""

CONDITION_LENGTH: Final = 2_000
"""Characters in a CEL condition (``if:``)."""

CONDITION_TERMS: Final = 200
"""Names and literals in a CEL condition: a longer chain of operators overflows the
native evaluator's stack."""

CONDITION_DEPTH: Final = 16
"""Brackets nested in a CEL condition."""

CONDITION_COMPREHENSIONS: Final = 2
"""Comprehension macros (``map``, ``filter``, ``all``, ``exists``, ``exists_one``) in a
CEL condition: nested ones multiply their loops, and the native evaluator cannot be
stopped once it runs."""

TEMPLATE_SOURCE: Final = 100_000
"""Characters in a message template's source, front matter included."""

TEMPLATE_STEPS: Final = 10_000
"""Loop iterations and macro calls in one rendering of a template."""

TEMPLATE_CHARACTERS: Final = 1_000_000
"""Characters the filters and methods of one rendering of a template may build, all told:
each value is bounded by `MESSAGE`, and this bounds a lazy ``map`` of ten thousand."""

TEMPLATE_SECONDS: Final = 1.0
"""Seconds of its thread's CPU time one rendering of a template may take (a busy machine's
waits do not count)."""


def check_text(field: str, value: str, limit: int) -> str:
    """*value*, if it has at most *limit* characters.

    Raises:
        InvalidInput: it is longer, naming *field*, its length (never the
            text) and the limit.

    Example:
        >>> check_text("reason", "disputed in writing", REASON)
        'disputed in writing'
    """
    if len(value) > limit:
        raise InvalidInput(field, TooLong(len(value)), f"at most {limit} characters")
    return value
