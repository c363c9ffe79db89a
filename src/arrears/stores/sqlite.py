"""`SQLiteStore`: cases, journal chains and the review schedule in one SQLite file.

The embedded default: the standard library's `sqlite3`, the file in WAL mode
(readers never wait for the writer), ``synchronous=NORMAL`` unless told
otherwise.  Several processes may share one file: every write transaction
starts with ``BEGIN IMMEDIATE``, and due cases are leased to a worker (a
lease owner and an expiry on the review index), so two processes share a tick
and a dead one's cases are taken again once its lease expires.

The store keeps an identity map of the cases it loaded (`get` returns the same
object for the same id while it is valid), written through on every append.
Inside a transaction a case's row is written once, when the transaction (or
a savepoint inside it) is done with it; journal rows are written at once, and
their key ``(case_id, seq)`` is the optimistic lock: a writer that lost the
race gets `ConcurrencyConflict`, and its copy of the case is dropped.  The
tables, the migrations and the trade-offs are described in ``docs/stores.md``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

from .._exceptions import ConcurrencyConflict, DuplicateCase, InvalidInput, UnknownCase
from ..case import Case
from ..journal import Head, JournalEntry
from ._sql import (
    SCHEMA_VERSION,
    Migration,
    case_body,
    case_from_body,
    entry_from_row,
    entry_row,
    from_micros,
    pending,
    to_micros,
)

__all__ = ["MIGRATIONS", "SQLiteStore"]

#: Every schema version of the SQLite store, oldest first; a new file runs them all.
MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "cases, journal and the review index",
        (
            """CREATE TABLE cases (
                id TEXT PRIMARY KEY NOT NULL,
                version INTEGER NOT NULL,
                head_seq INTEGER NOT NULL,
                head_hash TEXT NOT NULL,
                body TEXT NOT NULL
            )""",
            """CREATE TABLE journal (
                case_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL,
                at TEXT NOT NULL,
                body BLOB NOT NULL,
                hash TEXT NOT NULL,
                PRIMARY KEY (case_id, seq)
            )""",
            """CREATE TABLE reviews (
                case_id TEXT PRIMARY KEY NOT NULL,
                review_at INTEGER NOT NULL
            )""",
            "CREATE INDEX reviews_due ON reviews (review_at, case_id)",
        ),
    ),
    Migration(
        2,
        "leases on the review index, for several workers",
        (
            "ALTER TABLE reviews ADD COLUMN lease_owner TEXT",
            "ALTER TABLE reviews ADD COLUMN lease_until INTEGER",
        ),
    ),
)
assert MIGRATIONS[-1].version == SCHEMA_VERSION

_VERSIONS_TABLE: Final = """CREATE TABLE IF NOT EXISTS schema_versions (
    version INTEGER PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""

_SELECT_CASE: Final = "SELECT version, head_seq, head_hash, body FROM cases WHERE id = ?"
_SELECT_STAMP: Final = "SELECT version, head_seq, head_hash FROM cases WHERE id = ?"
_SELECT_CHAIN: Final = (
    "SELECT case_id, seq, kind, at, body, hash FROM journal WHERE case_id = ? ORDER BY seq"
)
_SELECT_LAST: Final = (
    "SELECT case_id, seq, kind, at, body, hash FROM journal WHERE case_id = ? "
    "ORDER BY seq DESC LIMIT 1"
)
_INSERT_ENTRY: Final = (
    "INSERT INTO journal (case_id, seq, kind, at, body, hash) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_CASE: Final = (
    "INSERT INTO cases (id, version, head_seq, head_hash, body) VALUES (?, ?, ?, ?, ?)"
)
_UPDATE_CASE: Final = (
    "UPDATE cases SET version = ?, head_seq = ?, head_hash = ?, body = ? "
    "WHERE id = ? AND version = ?"
)
_DUE: Final = (
    "SELECT case_id FROM reviews WHERE review_at <= ?1 "
    "AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY review_at, case_id LIMIT ?2"
)
_LEASABLE: Final = (
    "SELECT case_id FROM reviews WHERE review_at <= ?1 "
    "AND (lease_until IS NULL OR lease_until <= ?1 OR lease_owner = ?2) "
    "ORDER BY review_at, case_id LIMIT ?3"
)

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


class _Slot:
    """One case in the identity map: the object, its chain's head, what the file holds."""

    __slots__ = ("case", "entries", "epoch", "head", "last", "stored")

    def __init__(
        self, case: Case, head: Head, stored: int, epoch: int, entries: list[JournalEntry] | None
    ) -> None:
        self.case = case
        self.head = head
        self.stored = stored  # the version in the file (the optimistic check's expectation)
        self.epoch = epoch  # the store's epoch when last known to match the file
        self.entries = entries  # the chain, once read (kept up to date on append)
        self.last: JournalEntry | None = entries[-1] if entries else None


class SQLiteStore:
    """Cases, journal chains and the review schedule in an SQLite file.

    Args:
        path: The database file (created, with its schema, when missing);
            ``":memory:"`` for a private in-memory database.
        synchronous: SQLite's ``synchronous`` setting.  ``"NORMAL"`` (the
            default) never corrupts the file, but a power cut may lose the last
            transactions committed before it; ``"FULL"`` makes every commit
            durable at the cost of an fsync each.
        timeout: Seconds a writer waits for another process's transaction.
        cache_size: How many cases the identity map keeps between transactions.

    Raises:
        SchemaMismatch: the file's schema is newer than this library knows.

    Close the store when done (`close`, or use it as a context manager).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "NORMAL",
        timeout: float = 30.0,
        cache_size: int = 10_000,
    ) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise InvalidInput("synchronous", synchronous, "OFF, NORMAL, FULL or EXTRA")
        if cache_size < 1:
            raise InvalidInput("cache_size", cache_size, "a positive number of cases")
        self.path = path if str(path) == ":memory:" else Path(path)
        self.cache_size = cache_size
        self._db = sqlite3.connect(
            str(path), isolation_level=None, timeout=timeout, cached_statements=64
        )
        self._slots: dict[str, _Slot] = {}
        self._dirty: set[str] = set()  # cases whose row lags behind their slot
        self._levels: list[set[str]] = []  # cases touched in each open transaction level
        # Savepoints are made when a level first writes: a nested transaction that
        # only reads (most of a tick's planning) costs no SQL at all.
        self._opened = 0
        # Rows read ahead for the cases `due` or `lease` just returned (the tick
        # reads each of them next), by case id, with the epoch they were read in.
        self._ahead: dict[str, tuple[int, tuple[Any, ...], list[JournalEntry]]] = {}
        self._epoch = 0
        self._data_version = -1
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
            # A 64 MiB page cache (the default is 2 MiB): a tick reads its batch's
            # cases and chains from all over a large file.
            self._db.execute("PRAGMA cache_size = -65536")
            self.schema_version = self._migrate()
        except BaseException:
            self._db.close()
            raise
        self._fresh()

    # -- opening and closing ------------------------------------------------------
    def _migrate(self) -> int:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_VERSIONS_TABLE)
            found = db.execute("SELECT coalesce(max(version), 0) FROM schema_versions").fetchone()
            version = int(found[0])
            for step in pending(version, MIGRATIONS):
                for statement in step.statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_versions (version, description) VALUES (?, ?)",
                    (step.version, step.description),
                )
                version = step.version
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return version

    def close(self) -> None:
        """Close the file (an open transaction is rolled back)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._slots.clear()
        self._dirty.clear()
        self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def backup(self, target: str | os.PathLike[str]) -> None:
        """Write a consistent, compacted copy of the database to *target* (``VACUUM INTO``).

        Runs while other processes keep working; *target* must not exist.
        """
        if self._levels:
            raise InvalidInput("backup", "inside a transaction", "a call outside any transaction")
        self._db.execute("VACUUM INTO ?", (str(target),))

    # -- freshness: the identity map against other processes' commits ---------------
    def _fresh(self) -> None:
        """Start a new epoch when another connection committed since the last look."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self._epoch += 1

    def _slot(self, case_id: str) -> _Slot:
        """The case's slot, loaded or checked against the file as needed; marks it touched."""
        if not self._levels:
            self._fresh()
        slot = self._slots.get(case_id)
        if slot is not None and slot.epoch != self._epoch and case_id not in self._dirty:
            stamp = self._db.execute(_SELECT_STAMP, (case_id,)).fetchone()
            if stamp is not None and tuple(stamp) == (slot.stored, *slot.head):
                slot.epoch = self._epoch
            else:  # changed (or removed) by another process: read it again
                del self._slots[case_id]
                slot = None
        if slot is None:
            ahead = self._ahead.pop(case_id, None)
            chain: list[JournalEntry] | None = None
            if ahead is not None and ahead[0] == self._epoch:
                row, chain = ahead[1], ahead[2]
            else:
                row = self._db.execute(_SELECT_CASE, (case_id,)).fetchone()
            if row is None:
                raise UnknownCase(case_id)
            version, head_seq, head_hash, body = row
            if not self._levels:
                self._trim()
            slot = _Slot(
                case_from_body(body), Head(head_seq, head_hash), version, self._epoch, chain
            )
            self._slots[case_id] = slot
        if self._levels:
            self._levels[-1].add(case_id)
        return slot

    def _trim(self) -> None:
        """Forget the oldest clean cases beyond `cache_size` (never inside a transaction)."""
        excess = len(self._slots) - self.cache_size
        if excess <= 0:
            return
        for case_id in list(self._slots)[: excess + self.cache_size // 10]:
            if case_id not in self._dirty:
                del self._slots[case_id]

    def _evict(self, case_ids: set[str] | list[str]) -> None:
        for case_id in case_ids:
            self._slots.pop(case_id, None)
            self._dirty.discard(case_id)

    def _read_ahead(self, case_ids: list[str]) -> None:
        """Read the rows and chains of *case_ids* in two queries (the tick's next reads)."""
        self._ahead.clear()
        if not case_ids or len(case_ids) > 2_000:
            return
        marks = ", ".join("?" * len(case_ids))
        chains: dict[str, list[JournalEntry]] = {case_id: [] for case_id in case_ids}
        for row in self._db.execute(
            f"SELECT case_id, seq, kind, at, body, hash FROM journal "
            f"WHERE case_id IN ({marks}) ORDER BY case_id, seq",
            case_ids,
        ):
            chains[row[0]].append(entry_from_row(row))
        for row in self._db.execute(
            f"SELECT id, version, head_seq, head_hash, body FROM cases WHERE id IN ({marks})",
            case_ids,
        ):
            if row[0] not in self._slots:
                self._ahead[row[0]] = (self._epoch, tuple(row[1:]), chains[row[0]])

    def _writing(self, case_id: str | None = None) -> None:
        """Before a write: make the savepoints of the levels that have not written yet."""
        while self._opened < len(self._levels):
            if self._opened:
                self._db.execute(f"SAVEPOINT level_{self._opened}")
            self._opened += 1
        if case_id is not None and self._ahead:
            self._ahead.pop(case_id, None)

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite transaction (``BEGIN IMMEDIATE``); nested ones are savepoints.

        When a nested one ends with an exception, its writes are rolled back
        and every case it touched is dropped from the identity map (their
        copies were changed by entries no longer stored); the next `get` reads
        them again.
        """
        depth = len(self._levels)
        if depth == 0:
            self._db.execute("BEGIN IMMEDIATE")
            self._opened = 1
            self._fresh()
        else:
            self._flush()  # a rollback to the savepoint must not take earlier writes with it
        self._levels.append(set())
        try:
            yield
        except BaseException:
            self._rollback(depth)
            raise
        self._release(depth)

    def _release(self, depth: int) -> None:
        if depth == 0:
            try:
                self._flush()
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback(0)
                raise
            self._levels.pop()
            self._opened = 0
            self._trim()
            return
        if self._opened > depth:
            self._db.execute(f"RELEASE level_{depth}")
            self._opened = depth
        touched = self._levels.pop()
        self._levels[-1] |= touched

    def _rollback(self, depth: int) -> None:
        touched = self._levels.pop()
        if depth == 0:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._opened = 0
            touched |= self._dirty
        elif self._opened > depth:
            self._db.execute(f"ROLLBACK TO level_{depth}")
            self._db.execute(f"RELEASE level_{depth}")
            self._opened = depth
        self._evict(touched)

    def _flush(self) -> None:
        """Write the rows of the cases changed since the last flush (version-checked)."""
        if not self._dirty:
            return
        for case_id in list(self._dirty):
            self._write_case(self._slots[case_id])
        self._dirty.clear()

    def _write_case(self, slot: _Slot) -> None:
        case = slot.case
        self._writing(case.id)
        done = self._db.execute(
            _UPDATE_CASE,
            (case.version, slot.head.seq, slot.head.hash, case_body(case), case.id, slot.stored),
        )
        if done.rowcount != 1:
            found = self._db.execute("SELECT version FROM cases WHERE id = ?", (case.id,))
            row = found.fetchone()
            self._evict([case.id])
            raise ConcurrencyConflict(case.id, slot.stored, None if row is None else row[0])
        slot.stored = case.version

    @contextmanager
    def _write(self) -> Iterator[None]:
        """Inside the caller's transaction, or in one of its own."""
        if self._levels:
            yield
        else:
            with self.transaction():
                yield

    # -- cases -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM cases").fetchone()[0])

    def __contains__(self, case_id: object) -> bool:
        if not isinstance(case_id, str):
            return False
        if case_id in self._slots:
            return True
        return (
            self._db.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone() is not None
        )

    def add(self, case: Case, opened: JournalEntry) -> None:
        """Store a new case with the first entry of its chain.

        Raises:
            DuplicateCase: a case with that id is already stored.
            InvalidInput: *opened* is not entry #0 of the case.
        """
        if opened.seq != 0 or opened.case_id != case.id:
            raise InvalidInput("opened", repr(opened), f"entry #0 of case {case.id!r}")
        with self._write():
            self._writing(case.id)
            try:
                self._db.execute(
                    _INSERT_CASE, (case.id, case.version, 0, opened.hash, case_body(case))
                )
            except sqlite3.IntegrityError:
                raise DuplicateCase(case.id) from None
            self._db.execute(_INSERT_ENTRY, entry_row(opened))
            slot = _Slot(case, Head(0, opened.hash), case.version, self._epoch, [opened])
            self._slots[case.id] = slot
            self._levels[-1].add(case.id)

    def get(self, case_id: str) -> Case:
        """The case: the same object for the same id while no one else changes it.

        Raises:
            UnknownCase: no such case.
        """
        return self._slot(case_id).case

    def case_ids(self) -> Iterator[str]:
        """Every case id, in the order cases were added."""
        return iter([row[0] for row in self._db.execute("SELECT id FROM cases ORDER BY rowid")])

    # -- the journal ------------------------------------------------------------------------
    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        """Append *entry* and save *case* as it stands after it, in one transaction.

        Raises:
            UnknownCase: no such case.
            InvalidInput: the entry is not the next one of the chain.
            ConcurrencyConflict: another writer appended to the case first, or
                *case* is not at the version after the chain's head.
        """
        with self._write():
            slot = self._slot(entry.case_id)
            head = slot.head
            if entry.seq > head.seq + 1:
                raise InvalidInput("seq", entry.seq, f"{head.seq + 1}, the next in the chain")
            if entry.seq <= head.seq or (case is not None and case.version != entry.seq + 1):
                # Written from a copy older than the file: another writer was first.
                self._evict([entry.case_id])
                raise ConcurrencyConflict(entry.case_id, entry.seq - 1, head.seq)
            self._writing(entry.case_id)
            try:
                self._db.execute(_INSERT_ENTRY, entry_row(entry))
            except sqlite3.IntegrityError:  # another process wrote this seq first
                self._evict([entry.case_id])
                raise ConcurrencyConflict(entry.case_id, entry.seq - 1) from None
            if case is not None:
                slot.case = case
            slot.head = Head(entry.seq, entry.hash)
            slot.last = entry
            if slot.entries is not None:
                slot.entries.append(entry)
            self._dirty.add(entry.case_id)

    def entries(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's chain, oldest first."""
        slot = self._slot(case_id)
        if slot.entries is None:
            rows = self._db.execute(_SELECT_CHAIN, (case_id,)).fetchall()
            slot.entries = [entry_from_row(row) for row in rows]
        return tuple(slot.entries)

    def head(self, case_id: str) -> Head:
        """The recorded end of the case's chain (read without loading the case)."""
        if not self._levels:
            self._fresh()
        slot = self._slots.get(case_id)
        if slot is not None and (slot.epoch == self._epoch or case_id in self._dirty):
            return slot.head
        row = self._db.execute("SELECT head_seq, head_hash FROM cases WHERE id = ?", (case_id,))
        found = row.fetchone()
        if found is None:
            raise UnknownCase(case_id)
        return Head(found[0], found[1])

    def last_entry(self, case_id: str) -> JournalEntry:
        """The newest entry of the case's chain."""
        slot = self._slot(case_id)
        if slot.entries:
            return slot.entries[-1]
        if slot.last is None:
            row = self._db.execute(_SELECT_LAST, (case_id,)).fetchone()
            if row is None:
                raise UnknownCase(case_id)
            slot.last = entry_from_row(row)
        return slot.last

    def chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        """Every chain with its case id, read from the file (ordered by case id)."""
        ids = [row[0] for row in self._db.execute("SELECT id FROM cases ORDER BY id")]
        rows = self._db.execute(
            "SELECT case_id, seq, kind, at, body, hash FROM journal ORDER BY case_id, seq"
        )
        pending_row = rows.fetchone()
        for case_id in ids:
            chain: list[JournalEntry] = []
            while pending_row is not None and pending_row[0] <= case_id:
                if pending_row[0] == case_id:
                    chain.append(entry_from_row(pending_row))
                pending_row = rows.fetchone()
            yield case_id, chain

    # -- the review index -------------------------------------------------------------------
    def schedule(self, case_id: str, at: datetime | None) -> None:
        """Set when the case is reviewed next; ``None`` takes it off the schedule."""
        self._writing()
        if at is None:
            self._db.execute("DELETE FROM reviews WHERE case_id = ?", (case_id,))
            return
        self._db.execute(
            "INSERT INTO reviews (case_id, review_at) VALUES (?, ?) "
            "ON CONFLICT (case_id) DO UPDATE SET review_at = excluded.review_at",
            (case_id, to_micros(at)),
        )

    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """The cases due at *now* and not leased to a worker, earliest first (at most *limit*)."""
        rows = self._db.execute(_DUE, (to_micros(now), -1 if limit is None else limit))
        found = [row[0] for row in rows]
        if limit is not None:
            self._read_ahead(found)
        return found

    def next_review(self, case_id: str) -> datetime | None:
        """When the case is reviewed next (UTC), or ``None`` when it is not scheduled."""
        row = self._db.execute(
            "SELECT review_at FROM reviews WHERE case_id = ?", (case_id,)
        ).fetchone()
        return None if row is None else from_micros(row[0])

    def lease(self, now: datetime, limit: int, owner: str, ttl: timedelta) -> list[str]:
        """Take up to *limit* due cases for *owner* until ``now + ttl``.

        Cases leased to another owner until after *now* are skipped; a lease
        that has expired (its worker died) is taken over, and *owner*'s own
        leases are taken again.  Taken in one ``BEGIN IMMEDIATE`` transaction,
        so two processes never take the same case.
        """
        stamp = to_micros(now)
        until = to_micros(now + ttl)
        with self._write():
            self._writing()
            rows = self._db.execute(_LEASABLE, (stamp, owner, limit)).fetchall()
            chosen = [row[0] for row in rows]
            self._db.executemany(
                "UPDATE reviews SET lease_owner = ?, lease_until = ? WHERE case_id = ?",
                [(owner, until, case_id) for case_id in chosen],
            )
        self._read_ahead(chosen)
        return chosen

    def release(self, case_ids: Sequence[str], owner: str) -> None:
        """Give back *owner*'s leases on *case_ids* (others' leases are left alone)."""
        with self._write():
            self._writing()
            self._db.executemany(
                "UPDATE reviews SET lease_owner = NULL, lease_until = NULL "
                "WHERE case_id = ? AND lease_owner = ?",
                [(case_id, owner) for case_id in case_ids],
            )
