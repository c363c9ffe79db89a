"""`SQLiteStore`: cases, journal chains and the review schedule in one SQLite file.

The embedded default: the standard library's `sqlite3`, the file in WAL mode
(readers never wait for the writer), ``synchronous=NORMAL`` unless told
otherwise.  Several processes may share one file: every write transaction
starts with ``BEGIN IMMEDIATE``, and due cases are leased to a worker (a
lease owner and an expiry on the review index), so two processes share a tick
and a dead one's cases are taken again once its lease expires.

The store keeps an identity map of the cases it loaded (`get` returns the same
object for the same id while it is valid).  A transaction is a unit of work:
its journal entries, new cases and schedule changes wait in memory and are
written when it commits, one ``executemany`` per table, each changed case's
row once; a nested transaction is a mark in those buffers, not a savepoint.
Reads inside a transaction see its own writes.  The journal's key
``(case_id, seq)`` and the case row's version are the optimistic checks: a
writer that lost the race gets `ConcurrencyConflict`, and its copy of the
case is dropped.  The tables, the migrations and the trade-offs are described
in ``docs/stores.md``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

from ..case import Case
from ..errors import ConcurrencyConflict, DuplicateCase, InvalidInput, UnknownCase
from ..events import apply_entry
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


_SELECT_CASE: Final = (
    "SELECT version, head_seq, head_hash, body, "
    "(SELECT coalesce(max(seq), -1) FROM journal WHERE case_id = ?1) FROM cases WHERE id = ?1"
)
_SELECT_STAMPS: Final = (
    "SELECT id, version, head_seq, head_hash, "
    "(SELECT coalesce(max(seq), -1) FROM journal WHERE journal.case_id = cases.id) "
    "FROM cases WHERE id IN ({})"
)
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
_SCHEDULE: Final = (
    "INSERT INTO reviews (case_id, review_at) VALUES (?, ?) "
    "ON CONFLICT (case_id) DO UPDATE SET review_at = excluded.review_at"
)
_UNSCHEDULE: Final = "DELETE FROM reviews WHERE case_id = ?"
_DUE: Final = (
    "SELECT case_id FROM reviews WHERE review_at <= ?1 "
    "AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY review_at, case_id LIMIT ?2"
)
_LEASABLE: Final = (
    "SELECT case_id FROM reviews WHERE review_at <= ?1 "
    "AND (lease_until IS NULL OR lease_until <= ?1 OR lease_owner = ?2) "
    "ORDER BY review_at, case_id LIMIT ?3"
)
#: Case ids per read-ahead query, and the most a batch from `due` or `lease` reads ahead.
_AHEAD_CHUNK: Final = 500
_AHEAD_MAX: Final = 5_000
#: Rows a transaction keeps in memory before it writes them into the file's transaction
#: (checked when a nested transaction begins directly inside the outermost one), so a
#: bulk load in one transaction does not wait for its commit to write anything.
_SPILL: Final = 5_000

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
#: A case row as added: id, version, head_seq, head_hash, body.
_CaseRow = tuple[str, int, int, str, str]


class _Slot:
    """One case in the identity map: the object, its chain's head, what the file holds."""

    __slots__ = ("case", "entries", "epoch", "head", "last", "stored", "tail")

    def __init__(
        self,
        case: Case,
        head: Head,
        stored: int,
        epoch: int,
        entries: list[JournalEntry] | None,
        tail: int,
    ) -> None:
        self.case = case
        self.head = head
        self.stored = stored  # the version in the file's row (the optimistic check's expectation)
        self.epoch = epoch  # the store's epoch when last known to match the file
        self.entries = entries  # the chain, once read (kept up to date on append)
        self.last: JournalEntry | None = entries[-1] if entries else None
        # The highest sequence number the journal holds for the case (-1: none), the
        # transaction's entries included: past the head only for rows added by hand.
        self.tail = tail


class _Level:
    """One open transaction level: how long the buffers were when it began, what it touched."""

    __slots__ = ("journal", "new", "ops", "savepoint", "touched")

    def __init__(self, journal: int, new: int, ops: int) -> None:
        self.journal = journal
        self.new = new
        self.ops = ops
        self.savepoint = False  # made only when a read needs the buffers in the file early
        self.touched: set[str] = set()


class _Transaction(AbstractContextManager[None]):
    """What `SQLiteStore.transaction` returns: one per store (the levels live in the store)."""

    __slots__ = ("_store",)

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._enter()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self._store._leave()
        else:
            self._store._abandon()


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
        cache_size: How many cases the identity map keeps between transactions
            (besides the last batch `due` or `lease` returned).  Every case
            kept is walked by each full pass of Python's garbage collector, so
            a larger map slows everything else down.

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
        cache_size: int = 2_000,
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
        self._levels: list[_Level] = []  # the open transaction's levels, outermost first
        self._transaction = _Transaction(self)
        # The open transaction's unit of work, written when it commits: the entries
        # appended (each with whether a case came with it), the cases added (their
        # rows as added; None once written), the schedule's changes in order.  Each
        # has a count of how much of it is already in the file's transaction.
        self._journal: list[tuple[JournalEntry, bool]] = []
        self._new: dict[str, _CaseRow | None] = {}
        self._new_order: list[str] = []
        self._ops: list[tuple[str, int | None]] = []
        self._journal_done = self._new_done = self._ops_done = 0
        self._scheduled: dict[str, int | None] = {}  # the changes not yet written, by case
        self._dirty: dict[str, None] = {}  # cases appended to: their rows are written at commit
        self._doomed: ConcurrencyConflict | None = None  # set when the transaction cannot commit
        # The cases `due` or `lease` just returned (the tick reads each of them next):
        # read ahead in a few queries on the first miss, kept with the epoch they were read
        # in; when another process commits, their copies are checked again together.
        self._batch: dict[str, None] = {}
        self._batch_read = False
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
        self._levels.clear()
        self._clear()
        self._slots.clear()
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
        levels = self._levels
        if not levels:
            self._fresh()
        slot = self._slots.get(case_id)
        if slot is not None and slot.epoch != self._epoch:
            # Another connection committed since: keep the copy if its row is unchanged.
            if case_id in self._batch:
                self._recheck(self._batch)
            else:
                self._recheck((case_id,))
            slot = self._slots.get(case_id)
        if slot is None:
            if case_id in self._dirty or case_id in self._new:
                slot = self._rebuild(case_id)
            else:
                slot = self._load(case_id)
        if levels:
            levels[-1].touched.add(case_id)
        return slot

    def _recheck(self, case_ids: Iterable[str]) -> None:
        """Check the copies of *case_ids* from an earlier epoch against their rows, at once.

        An unchanged row (version, head and the journal's last number) keeps
        its copy; a changed one drops it, to be read again.
        """
        slots, epoch = self._slots, self._epoch
        stale = [
            case_id
            for case_id in case_ids
            if (slot := slots.get(case_id)) is not None and slot.epoch != epoch
        ]
        found: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(stale), _AHEAD_CHUNK):
            chunk = stale[start : start + _AHEAD_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for case_id, *stamp in self._db.execute(_SELECT_STAMPS.format(marks), chunk):
                found[case_id] = tuple(stamp)
        for case_id in stale:
            slot = slots.get(case_id)
            if slot is None:
                continue
            if found.get(case_id) == (slot.stored, slot.head.seq, slot.head.hash, slot.tail):
                slot.epoch = epoch
            else:  # changed (or removed) by another process: read it again
                del slots[case_id]

    def _load(self, case_id: str) -> _Slot:
        """Read the case from the file (or from what was read ahead) into the identity map."""
        ahead = self._ahead.pop(case_id, None)
        if ahead is None and case_id in self._batch and not self._batch_read:
            self._batch_read = True
            self._read_ahead()
            ahead = self._ahead.pop(case_id, None)
        chain: list[JournalEntry] | None = None
        if ahead is not None and ahead[0] == self._epoch:
            row, chain = ahead[1], ahead[2]
        else:
            row = self._db.execute(_SELECT_CASE, (case_id,)).fetchone()
            if row is None:
                raise UnknownCase(case_id)
        version, head_seq, head_hash, body, tail = row
        if not self._levels:
            self._trim()
        slot = _Slot(
            case_from_body(body), Head(head_seq, head_hash), version, self._epoch, chain, tail
        )
        self._slots[case_id] = slot
        return slot

    def _read_ahead(self) -> None:
        """Read the rows and chains of the cases `due` or `lease` returned, a chunk a query."""
        ids = [case_id for case_id in self._batch if case_id not in self._slots]
        self._ahead.clear()
        epoch, db = self._epoch, self._db
        for start in range(0, len(ids), _AHEAD_CHUNK):
            chunk = ids[start : start + _AHEAD_CHUNK]
            marks = ", ".join("?" * len(chunk))
            chains: dict[str, list[JournalEntry]] = {case_id: [] for case_id in chunk}
            for row in db.execute(
                f"SELECT case_id, seq, kind, at, body, hash FROM journal "
                f"WHERE case_id IN ({marks}) ORDER BY case_id, seq",
                chunk,
            ):
                chains[row[0]].append(entry_from_row(row))
            for case_id, version, head_seq, head_hash, body in db.execute(
                f"SELECT id, version, head_seq, head_hash, body FROM cases WHERE id IN ({marks})",
                chunk,
            ):
                chain = chains[case_id]
                tail = chain[-1].seq if chain else -1
                self._ahead[case_id] = (epoch, (version, head_seq, head_hash, body, tail), chain)

    def _trim(self) -> None:
        """Forget the oldest cases beyond `cache_size` (never inside a transaction).

        The cases of the last batch `due` or `lease` returned stay: the tick
        reads them again to finish their reviews, whatever its batch size.
        """
        excess = len(self._slots) - self.cache_size
        if excess <= 0:
            return
        batch = self._batch
        oldest = list(self._slots)[: excess + self.cache_size // 10]
        for case_id in oldest:
            if case_id not in batch:
                del self._slots[case_id]

    def _drop(self, case_id: str) -> None:
        """Forget the working copy of *case_id* (its object may hold changes not stored).

        When the open transaction still holds entries of the case, the copy is
        rebuilt from them the next time it is read (`_rebuild`): the file does
        not have them yet.
        """
        self._slots.pop(case_id, None)
        self._ahead.pop(case_id, None)
        if case_id in self._dirty and not any(
            entry.case_id == case_id for entry, _ in self._journal
        ):
            del self._dirty[case_id]

    def _rebuild(self, case_id: str) -> _Slot:
        """The copy of a case the open transaction changed, rebuilt from its entries.

        The case's row as it stands in the file (rows are written when the
        transaction commits) or as it was added, with the transaction's
        entries applied after it, as the engine applied them.  When that
        cannot be done, the transaction cannot commit.
        """
        entries = [pair for pair in self._journal if pair[0].case_id == case_id]
        try:
            added = self._new.get(case_id)
            if added is not None:
                version, head_seq, head_hash, body = added[1:]
                tail = head_seq
            else:
                row = self._db.execute(_SELECT_CASE, (case_id,)).fetchone()
                if row is None:
                    raise UnknownCase(case_id)
                version, head_seq, head_hash, body, tail = row
            case = case_from_body(body)
            head, last = Head(head_seq, head_hash), None
            for entry, with_case in entries:
                if entry.seq <= head.seq:
                    continue
                if with_case:
                    apply_entry(case, entry.kind, entry.at, entry.data)
                    if case.version != entry.seq + 1:
                        raise ValueError("the entries do not rebuild the case")
                head, last = Head(entry.seq, entry.hash), entry
        except Exception:
            doomed = self._doomed = ConcurrencyConflict(case_id, -1)
            raise doomed from None
        slot = _Slot(case, head, version, self._epoch, None, max(tail, head.seq))
        slot.last = last
        self._slots[case_id] = slot
        return slot

    # -- transactions ----------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        """One SQLite transaction (``BEGIN IMMEDIATE``), a unit of work; nested ones are marks.

        The transaction's entries, new cases and schedule changes are kept in
        memory and written when it commits, with one ``executemany`` per
        table; each changed case's row is written once, with its version
        checked.  A conflict found then rolls the whole transaction back,
        drops every case it touched from the identity map and raises
        `ConcurrencyConflict`.

        A nested transaction is a mark in those buffers.  When it ends with an
        exception, its writes are taken back and every case it touched is
        dropped from the identity map (their copies were changed by entries no
        longer stored); the next `get` reads them again.
        """
        return self._transaction

    def _enter(self) -> None:
        levels = self._levels
        if not levels:
            self._db.execute("BEGIN IMMEDIATE")
            self._fresh()
            levels.append(_Level(0, 0, 0))
            return
        if len(levels) == 1 and (
            len(self._journal) - self._journal_done + len(self._ops) - self._ops_done >= _SPILL
        ):
            self._write_through(len(self._journal), len(self._new_order), len(self._ops))
        levels.append(_Level(len(self._journal), len(self._new_order), len(self._ops)))

    def _leave(self) -> None:
        levels = self._levels
        if len(levels) > 1:
            level = levels.pop()
            if level.savepoint:
                self._db.execute(f"RELEASE level_{len(levels)}")
            levels[-1].touched |= level.touched
            return
        try:
            if self._doomed is not None:
                raise self._doomed
            self._write_through(len(self._journal), len(self._new_order), len(self._ops))
            self._write_cases()
            self._db.execute("COMMIT")
        except BaseException:
            self._abandon()
            raise
        slots = self._slots
        for case_id in self._dirty:
            slot = slots[case_id]
            slot.stored = slot.case.version
        levels.clear()
        self._clear()
        self._trim()

    def _abandon(self) -> None:
        levels = self._levels
        level = levels.pop()
        if not levels:  # the whole transaction
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            for case_id in (*level.touched, *self._dirty, *self._new_order):
                self._slots.pop(case_id, None)
            self._clear()
            return
        depth = len(levels)
        if level.savepoint:
            self._db.execute(f"ROLLBACK TO level_{depth}")
            self._db.execute(f"RELEASE level_{depth}")
            self._journal_done = min(self._journal_done, level.journal)
            self._new_done = min(self._new_done, level.new)
            self._ops_done = min(self._ops_done, level.ops)
        for case_id in self._new_order[level.new :]:
            del self._new[case_id]
        del self._new_order[level.new :]
        del self._journal[level.journal :]
        del self._ops[level.ops :]
        self._scheduled = dict(self._ops[self._ops_done :])
        for case_id in level.touched:
            self._drop(case_id)
        levels[-1].touched |= level.touched

    def _clear(self) -> None:
        """Forget the unit of work (after a commit or a rollback)."""
        self._journal.clear()
        self._new.clear()
        self._new_order.clear()
        self._ops.clear()
        self._journal_done = self._new_done = self._ops_done = 0
        self._scheduled.clear()
        self._dirty.clear()
        self._doomed = None

    def _sync(self) -> None:
        """Write the unit of work into the file's transaction, for a read that needs it there.

        Each nested level still open gets its savepoint first, made when the
        buffers stood at its marks, so rolling it back still takes back its
        own writes and no more.
        """
        levels = self._levels
        if not levels:
            return
        for depth in range(1, len(levels)):
            level = levels[depth]
            if not level.savepoint:
                self._write_through(level.journal, level.new, level.ops)
                self._db.execute(f"SAVEPOINT level_{depth}")
                level.savepoint = True
        self._write_through(len(self._journal), len(self._new_order), len(self._ops))

    def _write_through(self, journal: int, new: int, ops: int) -> None:
        """Write the buffered rows up to the given lengths: new cases, entries, the schedule."""
        db = self._db
        if self._new_done < new:
            ids = self._new_order[self._new_done : new]
            rows = [row for row in map(self._new.get, ids) if row is not None]
            try:
                db.executemany(_INSERT_CASE, rows)
            except sqlite3.IntegrityError:
                doomed = self._doomed = self._added_twice(rows)
                raise doomed from None
            for case_id in ids:
                self._new[case_id] = None
            self._new_done = new
        if self._journal_done < journal:
            written = self._journal[self._journal_done : journal]
            try:
                db.executemany(_INSERT_ENTRY, [entry_row(entry) for entry, _ in written])
            except sqlite3.IntegrityError:
                doomed = self._doomed = self._taken([entry for entry, _ in written])
                raise doomed from None
            self._journal_done = journal
        if self._ops_done < ops:
            latest = dict(self._ops[self._ops_done : ops])
            db.executemany(
                _SCHEDULE, [(case_id, at) for case_id, at in latest.items() if at is not None]
            )
            gone = [(case_id,) for case_id, at in latest.items() if at is None]
            if gone:
                db.executemany(_UNSCHEDULE, gone)
            self._ops_done = ops
            self._scheduled = dict(self._ops[ops:])

    def _added_twice(self, rows: list[_CaseRow]) -> ConcurrencyConflict:
        """The conflict for a case insert refused: the first case another writer added."""
        for row in rows:
            found = self._db.execute("SELECT body FROM cases WHERE id = ?", (row[0],)).fetchone()
            if found is not None and found[0] != row[4]:
                return ConcurrencyConflict(row[0], 0, 1)
        return ConcurrencyConflict(rows[0][0], 0)

    def _taken(self, entries: list[JournalEntry]) -> ConcurrencyConflict:
        """The conflict for a journal insert refused: the first entry whose number is taken."""
        for entry in entries:
            found = self._db.execute(
                "SELECT hash FROM journal WHERE case_id = ? AND seq = ?", (entry.case_id, entry.seq)
            ).fetchone()
            if found is not None and found[0] != entry.hash:
                return ConcurrencyConflict(entry.case_id, entry.seq - 1)
        return ConcurrencyConflict(entries[0].case_id, entries[0].seq - 1)

    def _write_cases(self) -> None:
        """Write the row of each case the transaction appended to, checking its version."""
        if not self._dirty:
            return
        rows = []
        for case_id in self._dirty:
            slot = self._slots.get(case_id)
            if slot is None:
                slot = self._rebuild(case_id)
            case, head = slot.case, slot.head
            rows.append((case.version, head.seq, head.hash, case_body(case), case_id, slot.stored))
        done = self._db.executemany(_UPDATE_CASE, rows)
        if done.rowcount == len(rows):
            return
        for row in rows:  # name a case whose row another writer changed
            found = self._db.execute("SELECT version FROM cases WHERE id = ?", (row[4],))
            version = found.fetchone()
            if version is None or version[0] != row[0]:
                raise ConcurrencyConflict(row[4], row[5], None if version is None else version[0])
        raise ConcurrencyConflict(rows[0][4], rows[0][5])

    # -- cases -------------------------------------------------------------------------------
    def __len__(self) -> int:
        self._sync()
        return int(self._db.execute("SELECT count(*) FROM cases").fetchone()[0])

    def __contains__(self, case_id: object) -> bool:
        if not isinstance(case_id, str):
            return False
        if case_id in self._slots or case_id in self._new:
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
        if not self._levels:
            with self._transaction:
                self.add(case, opened)
            return
        case_id = case.id
        if case_id in self:
            raise DuplicateCase(case_id)
        self._new[case_id] = (case_id, case.version, 0, opened.hash, case_body(case))
        self._new_order.append(case_id)
        self._journal.append((opened, True))
        self._slots[case_id] = _Slot(
            case, Head(0, opened.hash), case.version, self._epoch, [opened], 0
        )
        self._levels[-1].touched.add(case_id)

    def get(self, case_id: str) -> Case:
        """The case: the same object for the same id while no one else changes it.

        Raises:
            UnknownCase: no such case.
        """
        slot = self._slots.get(case_id)
        levels = self._levels
        if slot is None or not levels or slot.epoch != self._epoch:
            return self._slot(case_id).case
        levels[-1].touched.add(case_id)  # the common case, inside a transaction: no checks
        return slot.case

    def case_ids(self) -> Iterator[str]:
        """Every case id, in the order cases were added."""
        self._sync()
        return iter([row[0] for row in self._db.execute("SELECT id FROM cases ORDER BY rowid")])

    # -- the journal ------------------------------------------------------------------------
    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        """Append *entry* and save *case* as it stands after it, in one transaction.

        Inside a transaction both are written when it commits.

        Raises:
            UnknownCase: no such case.
            InvalidInput: the entry is not the next one of the chain.
            ConcurrencyConflict: another writer appended to the case first, or
                *case* is not at the version after the chain's head.
        """
        if not self._levels:
            with self._transaction:
                self.append(entry, case)
            return
        case_id = entry.case_id
        slot = self._slot(case_id)
        head = slot.head
        seq = entry.seq
        if seq > head.seq + 1:
            raise InvalidInput("seq", seq, f"{head.seq + 1}, the next in the chain")
        if seq <= head.seq or (case is not None and case.version != seq + 1):
            # Written from a copy older than the file: another writer was first.
            self._drop(case_id)
            raise ConcurrencyConflict(case_id, seq - 1, head.seq)
        if seq <= slot.tail:  # the journal holds this number already (a row added by hand)
            self._drop(case_id)
            raise ConcurrencyConflict(case_id, seq - 1)
        self._journal.append((entry, case is not None))
        if case is not None:
            slot.case = case
        slot.head = Head(seq, entry.hash)
        slot.last = entry
        slot.tail = seq
        if slot.entries is not None:
            slot.entries.append(entry)
        self._dirty[case_id] = None

    def entries(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's chain, oldest first."""
        slot = self._slot(case_id)
        if slot.entries is None:
            chain = [entry_from_row(row) for row in self._db.execute(_SELECT_CHAIN, (case_id,))]
            if case_id in self._dirty or case_id in self._new:  # entries not in the file yet
                last = chain[-1].seq if chain else -1
                chain += [
                    entry
                    for entry, _ in self._journal[self._journal_done :]
                    if entry.case_id == case_id and entry.seq > last
                ]
            slot.entries = chain
        return tuple(slot.entries)

    def head(self, case_id: str) -> Head:
        """The recorded end of the case's chain (read without loading the case)."""
        if not self._levels:
            self._fresh()
        slot = self._slots.get(case_id)
        if slot is not None and slot.epoch == self._epoch:
            return slot.head
        if case_id in self._dirty or case_id in self._new:
            return self._slot(case_id).head
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
        self._sync()
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
        """Set when the case is reviewed next; ``None`` takes it off the schedule.

        Inside a transaction the change is written when it commits.
        """
        if not self._levels:
            with self._transaction:
                self.schedule(case_id, at)
            return
        stamp = None if at is None else to_micros(at)
        self._ops.append((case_id, stamp))
        self._scheduled[case_id] = stamp

    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """The cases due at *now* and not leased to a worker, earliest first (at most *limit*)."""
        self._sync()
        rows = self._db.execute(_DUE, (to_micros(now), -1 if limit is None else limit))
        found = [row[0] for row in rows]
        if limit is not None and len(found) <= _AHEAD_MAX:
            self._batch, self._batch_read = dict.fromkeys(found), False
        return found

    def next_review(self, case_id: str) -> datetime | None:
        """When the case is reviewed next (UTC), or ``None`` when it is not scheduled."""
        if case_id in self._scheduled:
            stamp = self._scheduled[case_id]
            return None if stamp is None else from_micros(stamp)
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
        if not self._levels:
            with self._transaction:
                return self.lease(now, limit, owner, ttl)
        self._sync()
        rows = self._db.execute(_LEASABLE, (stamp, owner, limit)).fetchall()
        chosen = [row[0] for row in rows]
        self._db.executemany(
            "UPDATE reviews SET lease_owner = ?, lease_until = ? WHERE case_id = ?",
            [(owner, until, case_id) for case_id in chosen],
        )
        if len(chosen) <= _AHEAD_MAX:
            self._batch, self._batch_read = dict.fromkeys(chosen), False
        return chosen

    def release(self, case_ids: Sequence[str], owner: str) -> None:
        """Give back *owner*'s leases on *case_ids* (others' leases are left alone)."""
        if not self._levels:
            with self._transaction:
                self.release(case_ids, owner)
            return
        self._sync()
        self._db.executemany(
            "UPDATE reviews SET lease_owner = NULL, lease_until = NULL "
            "WHERE case_id = ? AND lease_owner = ?",
            [(case_id, owner) for case_id in case_ids],
        )
