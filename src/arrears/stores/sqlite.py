"""`SQLiteStore`: cases, journal chains and the review schedule in one SQLite file.

The embedded default: the standard library's `sqlite3`, the file in WAL mode
(readers never wait for the writer), ``synchronous=NORMAL`` unless told
otherwise.  Several processes may share one file: every write transaction
starts with ``BEGIN IMMEDIATE``, and due cases are leased to a worker (a
lease owner and an expiry on the review index), so two processes share a tick
and a dead one's cases are taken again once its lease expires.

The identity map, the unit of work (buffers written at the commit, one
``executemany`` per table), nested transactions and the conflict rules are
the session both SQL stores share (`arrears.stores._session`); this module
holds the SQLite statements, ``BEGIN IMMEDIATE`` and savepoints, the
freshness signal (``PRAGMA data_version``) and leasing.  The tables, the
migrations and the trade-offs are described
in ``docs/stores.md``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Final, Literal

from ..errors import ConcurrencyConflict, InvalidInput, LeaseLost, StoreBusy
from ..journal import Head, JournalEntry
from ._session import CACHE_SIZE, CaseRow, Session, Stamp, StoredCase, UpdateRow
from ._sql import (
    SCHEMA_VERSION,
    Migration,
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
    Migration(
        3,
        "each case's debtor id, indexed, for the debtor's cases",
        (
            # Generated from the stored case, so every existing row has it at once and
            # no write names it; VIRTUAL: the index alone holds the values.
            "ALTER TABLE cases ADD COLUMN debtor_id TEXT "
            "GENERATED ALWAYS AS (json_extract(body, '$.debtor.id')) VIRTUAL",
            "CREATE INDEX cases_debtor ON cases (debtor_id, id)",
        ),
    ),
    Migration(
        4,
        "each case's debtor id written with its row, not read from its body at every write",
        (
            # A column generated from the body made every update of a case parse the
            # whole body, twice, to keep the index (a fifth of a tick's SQLite work).
            # A case's debtor never changes: the row is written with it once, and
            # `Engine.verify` compares it with the case's journal.
            "DROP INDEX cases_debtor",
            "ALTER TABLE cases DROP COLUMN debtor_id",
            "ALTER TABLE cases ADD COLUMN debtor_id TEXT",
            "UPDATE cases SET debtor_id = json_extract(body, '$.debtor.id')",
            "CREATE INDEX cases_debtor ON cases (debtor_id, id)",
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
    "INSERT INTO cases (id, version, head_seq, head_hash, body, debtor_id) "
    "VALUES (?, ?, ?, ?, ?, ?)"
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
    "SELECT case_id, review_at FROM reviews WHERE review_at <= ?1 "
    "AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY review_at, case_id LIMIT ?2"
)
#: A lease takes whole debtors: every due case of the debtors of the earliest due cases
#: none of whose cases another owner's lease holds.
_LEASABLE: Final = """
WITH debtors AS (
    SELECT DISTINCT c.debtor_id FROM (
        SELECT r.case_id FROM reviews r JOIN cases k ON k.id = r.case_id
        WHERE r.review_at <= ?1
          AND (r.lease_until IS NULL OR r.lease_until <= ?1 OR r.lease_owner = ?2)
          AND NOT EXISTS (
              SELECT 1 FROM cases o JOIN reviews h ON h.case_id = o.id
              WHERE o.debtor_id = k.debtor_id AND h.lease_owner <> ?2 AND h.lease_until > ?1
          )
        ORDER BY r.review_at, r.case_id LIMIT ?3
    ) due JOIN cases c ON c.id = due.case_id
)
SELECT r.case_id, r.review_at FROM debtors d
JOIN cases c ON c.debtor_id = d.debtor_id
JOIN reviews r ON r.case_id = c.id AND r.review_at <= ?1
WHERE NOT EXISTS (
    SELECT 1 FROM cases o JOIN reviews h ON h.case_id = o.id
    WHERE o.debtor_id = d.debtor_id AND h.lease_owner <> ?2 AND h.lease_until > ?1
)
ORDER BY r.review_at, r.case_id
"""
#: Case ids per query that reads ahead or checks copies (SQLite binds at most 32,766).
_AHEAD_CHUNK: Final = 500

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


class SQLiteStore(Session):
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
        cache_size: int = CACHE_SIZE,
    ) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise InvalidInput("synchronous", synchronous, "OFF, NORMAL, FULL or EXTRA")
        super().__init__(cache_size)
        self.path = path if str(path) == ":memory:" else Path(path)
        self.timeout = timeout
        self._db = sqlite3.connect(
            str(path), isolation_level=None, timeout=timeout, cached_statements=64
        )
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
        self._refresh()

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
        self._forget()
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

    # -- the session's SQL --------------------------------------------------------------------
    def _begin(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            raise StoreBusy("SQLite", self.timeout) from err

    def _commit(self) -> None:
        self._db.execute("COMMIT")

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _savepoint(self, depth: int) -> None:
        self._db.execute(f"SAVEPOINT level_{depth}")

    def _release(self, depth: int) -> None:
        self._db.execute(f"RELEASE level_{depth}")

    def _rollback_to(self, depth: int) -> None:
        self._db.execute(f"ROLLBACK TO level_{depth}")
        self._db.execute(f"RELEASE level_{depth}")

    def _changed_elsewhere(self) -> bool:
        """Whether another connection committed since the last look (``data_version``)."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return False
        self._data_version = version
        return True

    def _read_case(self, case_id: str) -> StoredCase | None:
        row: StoredCase | None = self._db.execute(_SELECT_CASE, (case_id,)).fetchone()
        return row

    def _read_stamps(self, case_ids: list[str]) -> dict[str, Stamp]:
        found: dict[str, Stamp] = {}
        for start in range(0, len(case_ids), _AHEAD_CHUNK):
            chunk = case_ids[start : start + _AHEAD_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for case_id, *stamp in self._db.execute(_SELECT_STAMPS.format(marks), chunk):
                found[case_id] = (stamp[0], stamp[1], stamp[2], stamp[3])
        return found

    def _read_batch(self, case_ids: list[str]) -> dict[str, tuple[StoredCase, list[JournalEntry]]]:
        found: dict[str, tuple[StoredCase, list[JournalEntry]]] = {}
        db = self._db
        for start in range(0, len(case_ids), _AHEAD_CHUNK):
            chunk = case_ids[start : start + _AHEAD_CHUNK]
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
                found[case_id] = ((version, head_seq, head_hash, body, tail), chain)
        return found

    def _read_chain(self, case_id: str) -> list[JournalEntry]:
        return [entry_from_row(row) for row in self._db.execute(_SELECT_CHAIN, (case_id,))]

    def _read_last(self, case_id: str) -> JournalEntry | None:
        row = self._db.execute(_SELECT_LAST, (case_id,)).fetchone()
        return None if row is None else entry_from_row(row)

    def _read_head(self, case_id: str) -> Head | None:
        row = self._db.execute("SELECT head_seq, head_hash FROM cases WHERE id = ?", (case_id,))
        found = row.fetchone()
        return None if found is None else Head(found[0], found[1])

    def _read_heads_and_bodies(self, case_ids: list[str]) -> dict[str, tuple[Head, str | bytes]]:
        found: dict[str, tuple[Head, str | bytes]] = {}
        for start in range(0, len(case_ids), _AHEAD_CHUNK):
            chunk = case_ids[start : start + _AHEAD_CHUNK]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT id, head_seq, head_hash, body FROM cases WHERE id IN ({marks})"
            for case_id, head_seq, head_hash, body in self._db.execute(query, chunk):
                found[case_id] = (Head(head_seq, head_hash), body)
        return found

    def _read_review(self, case_id: str) -> datetime | None:
        row = self._db.execute(
            "SELECT review_at FROM reviews WHERE case_id = ?", (case_id,)
        ).fetchone()
        return None if row is None else from_micros(row[0])

    def _read_scheduled(self) -> dict[str, datetime]:
        rows = self._db.execute("SELECT case_id, review_at FROM reviews")
        return {case_id: from_micros(at) for case_id, at in rows}

    def _read_filed(self) -> dict[str, str | None]:
        return dict(self._db.execute("SELECT id, debtor_id FROM cases"))

    def _exists(self, case_id: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)).fetchone() is not None
        )

    def _read_cases_of(self, debtor_id: str) -> list[str]:
        query = "SELECT id FROM cases WHERE debtor_id = ? ORDER BY id"
        return [row[0] for row in self._db.execute(query, (debtor_id,))]

    def _read_cases_of_many(self, debtor_ids: list[str]) -> dict[str, list[str]]:
        marks = ",".join("?" * len(debtor_ids))
        query = f"SELECT debtor_id, id FROM cases WHERE debtor_id IN ({marks}) ORDER BY id"
        found: dict[str, list[str]] = {}
        for debtor_id, case_id in self._db.execute(query, debtor_ids):
            found.setdefault(debtor_id, []).append(case_id)
        return found

    def _read_last_moments(self, debtor_ids: list[str]) -> list[tuple[str, datetime | str]]:
        marks = ",".join("?" * len(debtor_ids))
        query = (
            "SELECT c.debtor_id, (SELECT j.at FROM journal j WHERE j.case_id = c.id "
            "ORDER BY j.seq DESC LIMIT 1) FROM cases c "
            f"WHERE c.debtor_id IN ({marks})"
        )
        rows = self._db.execute(query, debtor_ids)
        return [(row[0], row[1]) for row in rows if row[1] is not None]

    def _insert_cases(self, rows: list[CaseRow]) -> None:
        try:
            self._db.executemany(_INSERT_CASE, rows)
        except sqlite3.IntegrityError:
            raise self._added_twice(rows) from None

    def _insert_entries(self, entries: list[JournalEntry]) -> None:
        try:
            self._db.executemany(_INSERT_ENTRY, [entry_row(entry) for entry in entries])
        except sqlite3.IntegrityError:
            raise self._taken(entries) from None

    def _write_schedule(self, latest: dict[str, datetime | None]) -> None:
        db = self._db
        db.executemany(
            _SCHEDULE,
            [(case_id, to_micros(at)) for case_id, at in latest.items() if at is not None],
        )
        gone = [(case_id,) for case_id, at in latest.items() if at is None]
        if gone:
            db.executemany(_UNSCHEDULE, gone)

    def _update_cases(self, rows: list[UpdateRow]) -> None:
        done = self._db.executemany(_UPDATE_CASE, rows)
        if done.rowcount == len(rows):
            return
        for row in rows:  # name a case whose row another writer changed
            found = self._db.execute("SELECT version FROM cases WHERE id = ?", (row[4],))
            version = found.fetchone()
            if version is None or version[0] != row[0]:
                raise ConcurrencyConflict(row[4], row[5], None if version is None else version[0])
        raise ConcurrencyConflict(rows[0][4], rows[0][5])

    def _added_twice(self, rows: list[CaseRow]) -> ConcurrencyConflict:
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
                return ConcurrencyConflict(entry.case_id, entry.seq)
        return ConcurrencyConflict(entries[0].case_id, entries[0].seq)

    # -- every case ---------------------------------------------------------------------------
    def __len__(self) -> int:
        self._sync()
        return int(self._db.execute("SELECT count(*) FROM cases").fetchone()[0])

    def case_ids(self) -> Iterator[str]:
        """Every case id, in the order cases were added."""
        self._sync()
        return iter([row[0] for row in self._db.execute("SELECT id FROM cases ORDER BY rowid")])

    def chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        """Every chain with its case id, read from the file, in case id order."""
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
            yield case_id, tuple(chain)

    # -- the review index -------------------------------------------------------------------
    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """The cases due at *now* and not leased to a worker, earliest first (at most *limit*)."""
        self._sync()
        rows = self._db.execute(_DUE, (to_micros(now), -1 if limit is None else limit))
        pairs = rows.fetchall()
        found = [row[0] for row in pairs]
        self._batch_is(found, [from_micros(row[1]) for row in pairs])
        return found

    def leased_beyond(self, moment: datetime) -> list[tuple[str, datetime]]:
        """The cases leased to a worker until after *moment*, with the lease's end, in id order.

        `Engine.verify` asks for those leased further ahead than any tick leases.
        """
        self._sync()
        rows = self._db.execute(
            "SELECT case_id, lease_until FROM reviews WHERE lease_until > ? ORDER BY case_id",
            (to_micros(moment),),
        )
        return [(case_id, from_micros(until)) for case_id, until in rows.fetchall()]

    def lease(self, now: datetime, limit: int, owner: str, ttl: timedelta) -> list[str]:
        """Take the debtors of up to *limit* due cases for *owner* until ``now + ttl``.

        A lease takes whole debtors: every due case of each debtor chosen (a
        batch may hold more than *limit* cases), so a debtor's loans are never
        reviewed by two processes at once.  Debtors with a case leased to
        another owner until after *now* are skipped; a lease that has expired
        (its worker died) is taken over, and *owner*'s own leases are taken
        again.  Taken in one ``BEGIN IMMEDIATE`` transaction, so two processes
        never take the same case.
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
        self._batch_is(chosen, [from_micros(row[1]) for row in rows])
        self._hold(owner, now, ttl, chosen)
        return chosen

    def _fence(
        self, owner: str, case_ids: list[str], until: datetime | None, *, strict: bool
    ) -> None:
        """The rows still *owner*'s, read and then renewed or given back, in chunks (the
        transaction holds the file's write lock: nothing changes them in between)."""
        kept: set[str] = set()
        change = "lease_owner = NULL, lease_until = NULL"
        params: tuple[int, ...] = ()
        if until is not None:
            change, params = "lease_until = ?", (to_micros(until),)
        for start in range(0, len(case_ids), _AHEAD_CHUNK):
            chunk = case_ids[start : start + _AHEAD_CHUNK]
            where = f"WHERE lease_owner = ? AND case_id IN ({', '.join('?' * len(chunk))})"
            rows = self._db.execute(f"SELECT case_id FROM reviews {where}", (owner, *chunk))
            kept.update(row[0] for row in rows)
            self._db.execute(f"UPDATE reviews SET {change} {where}", (*params, owner, *chunk))
        lost = next((case_id for case_id in case_ids if case_id not in kept), None)
        if strict and lost is not None:  # another worker took it after the lease ran out
            raise LeaseLost(lost, owner)
