"""The row format and schema versioning shared by the SQL stores (SQLite, PostgreSQL).

Contract (kept stable: every SQL store imports it):

Rows
    A case is one row ``(id, version, head_seq, head_hash, body)`` (`CASE_COLUMNS`):
    ``version`` is `Case.version` (the chain's length, the optimistic lock),
    ``head_seq`` / ``head_hash`` the recorded end of its chain (kept apart
    from the journal, so entries cut off the end are found), ``body`` the
    case as `Case.model_dump_json` text (`case_body` / `case_from_body`).

    A journal entry is one row ``(case_id, seq, kind, at, body, hash)``
    (`JOURNAL_COLUMNS`, `entry_row` / `entry_from_row`): ``body`` is the
    entry's sealed canonical JSON bytes, stored as given and never
    re-encoded; ``hash`` its SHA-256 hex; ``kind`` and ``at`` (ISO 8601 text,
    as sealed) are copies of the body's fields for queries.  The key is
    ``(case_id, seq)``: a second writer of the same ``seq`` fails, which is
    the journal's half of the optimistic check.  `arrears.journal.verify_chain`
    names a row whose copied columns disagree with its sealed body.

    The review index is one row ``(case_id, review_at, lease_owner,
    lease_until)`` per scheduled case (`REVIEW_COLUMNS`): times are integer
    microseconds since the Unix epoch, UTC (`to_micros` / `from_micros`), so
    they sort and compare exactly; a case off the schedule has no row.

Schema versions
    A store keeps the versions it applied; `SCHEMA_VERSION` is the newest this
    library knows.  `pending` returns the `Migration` steps a store at a given
    version still needs, or raises `SchemaMismatch` for a newer one.  Each
    store writes its own DDL for each version, in its own dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from pydantic import ValidationError

from ..case import Case
from ..clock import per_moment
from ..errors import CaseUnreadable, SchemaMismatch
from ..journal import UNREADABLE_AT, JournalEntry

__all__ = [
    "CASE_COLUMNS",
    "JOURNAL_COLUMNS",
    "REVIEW_COLUMNS",
    "SCHEMA_VERSION",
    "EntryRow",
    "Migration",
    "case_body",
    "case_from_body",
    "entry_from_row",
    "entry_row",
    "from_micros",
    "pending",
    "to_micros",
]

#: The newest schema version this library knows (1: cases, journal, reviews; 2: leases;
#: 3: each case's debtor id, indexed).
SCHEMA_VERSION: Final = 4

CASE_COLUMNS: Final = ("id", "version", "head_seq", "head_hash", "body")
JOURNAL_COLUMNS: Final = ("case_id", "seq", "kind", "at", "body", "hash")
REVIEW_COLUMNS: Final = ("case_id", "review_at", "lease_owner", "lease_until")

#: A journal row: case_id, seq, kind, at (ISO 8601 text), body (bytes), hash (hex).
EntryRow = tuple[str, int, str, str, bytes, str]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of a store's schema, from ``version - 1`` to *version*.

    Attributes:
        version: The schema version the step leads to.
        description: What it changes, in a few words (recorded with it).
        statements: The DDL and data statements, run in order in one transaction.
    """

    version: int
    description: str
    statements: tuple[str, ...]


def pending(found: int, migrations: Sequence[Migration]) -> list[Migration]:
    """The steps a store at version *found* needs (0: a new, empty store), in order.

    Raises:
        SchemaMismatch: the store is newer than every step known.
    """
    known = max((step.version for step in migrations), default=0)
    if found > known:
        raise SchemaMismatch(found, known)
    return sorted((step for step in migrations if step.version > found), key=lambda s: s.version)


@per_moment
def to_micros(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (UTC), remembered."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """`to_micros` undone: an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=micros)


def case_body(case: Case) -> str:
    """The case as stored: `Case.model_dump_json` text."""
    return case.model_dump_json()


def case_from_body(body: str | bytes, case_id: str = "") -> Case:
    """A stored case body back as a `Case` (validated).

    Raises:
        CaseUnreadable: the body does not read as a case (edited by hand),
            naming *case_id* and the fields, never their values.
    """
    try:
        return Case.model_validate_json(body)
    except ValidationError as err:
        errors = err.errors()
        fields = sorted(
            {".".join(str(part) for part in error["loc"]) or "body" for error in errors}
        )
        # An amount below zero: a decimal held to at least zero (a count is an int).
        negative = sorted(
            {
                ".".join(str(part) for part in error["loc"])
                for error in errors
                if error["type"] == "greater_than_equal"
                and isinstance(error.get("ctx", {}).get("ge"), Decimal)
            }
        )
        raise CaseUnreadable(case_id, fields, negative) from None


_last_at: list[tuple[datetime, str]] = []


def entry_row(entry: JournalEntry) -> EntryRow:
    """The journal row of *entry*; ``body`` and ``hash`` exactly as sealed."""
    at = entry.at
    # A tick stamps thousands of entries with one moment: format it once.
    if _last_at and _last_at[0][0] is at:
        text = _last_at[0][1]
    else:
        text = at.isoformat()
        _last_at[:] = [(at, text)]
    return (entry.case_id, entry.seq, entry.kind, text, entry.body, entry.hash)


def _moment(at: object) -> datetime:
    """An ``at`` column as an aware time, or `UNREADABLE_AT` when it is not one."""
    if not isinstance(at, datetime):
        try:
            at = datetime.fromisoformat(at)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return UNREADABLE_AT
    return at if at.utcoffset() is not None else UNREADABLE_AT


def entry_from_row(row: Sequence[Any]) -> JournalEntry:
    """A journal row (in `JOURNAL_COLUMNS` order) back as a `JournalEntry`.

    ``at`` may be ISO 8601 text or an aware datetime (a driver's timestamp type);
    one that does not read as an aware time (edited by hand) comes back as
    `arrears.journal.UNREADABLE_AT`, which `verify_chain` reports as ``changed``.
    """
    case_id, seq, kind, at, body, hash_ = row
    moment = _moment(at)
    # A body edited by hand may come back as text: its bytes are what verify must see.
    raw = body.encode() if isinstance(body, str) else bytes(body)
    return JournalEntry(case_id, seq, kind, moment, raw, hash_)
