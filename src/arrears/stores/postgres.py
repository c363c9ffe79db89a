"""Cases, journal chains and the review schedule in PostgreSQL, for many workers on many hosts.

    >>> store = PostgresStore("postgresql://collector@db.internal/loans")  # doctest: +SKIP
    >>> engine = Engine(policy=policy, store=store, channels=[gateway])     # doctest: +SKIP
    >>> engine.tick(owner="worker-7")                                        # doctest: +SKIP

The tables, in their own PostgreSQL schema (``arrears`` unless told), have
the shape and row format of the SQLite store's (`arrears.stores._sql`), in
PostgreSQL's types:

``cases``
    ``id``, ``version`` (the optimistic lock: the chain's length),
    ``head_seq`` and ``head_hash`` (the recorded end of the chain, so entries
    cut off the end are found), ``body`` (the case as pydantic JSON text) and
    ``position`` (the order cases were added).
``journal``
    ``case_id``, ``seq`` (the key together), ``kind``, ``at`` (timestamptz),
    ``body`` (bytea: the canonical JSON exactly as sealed and hashed), ``hash``.
``reviews``
    One row per scheduled case: ``case_id``, ``review_at`` (indexed with the
    id), and the lease, ``lease_owner`` and ``lease_until``.
``schema_versions``
    Every migration applied: ``version``, ``description``, ``applied_at``.

Every case update is checked optimistically (``UPDATE … WHERE id = … AND
version = …``): `ConcurrencyConflict` when another writer got there first.
Workers lease due cases with ``SELECT … FOR UPDATE SKIP LOCKED``, so several
share a tick without overlap; a lease lasts until the tick's moment plus its
length, and a dead worker's cases are taken again after that.

`get` keeps an identity map: the same object for the same id while the
database holds the same version of the case.  Outside a transaction each
read checks the version (one small query); inside one a case is checked once,
and cases leased by `lease` are read ahead with their chains and trusted
until released.  `transaction` is one PostgreSQL transaction on one pooled
connection; nested ones are savepoints.  One store serves one thread at a
time; threads and stores can share a pool (``pool=``).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from ..case import Case
from ..errors import ConcurrencyConflict, DuplicateCase, InvalidInput, UnknownCase
from ..journal import Head, JournalEntry
from ._sql import SCHEMA_VERSION, Migration, case_body, case_from_body, entry_from_row, pending

__all__ = ["MIGRATIONS", "PostgresStore"]

#: Every schema version of the PostgreSQL store, oldest first; a new schema runs them all.
MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "cases, journal and the review index",
        (
            """CREATE TABLE cases (
                id text PRIMARY KEY,
                version integer NOT NULL,
                head_seq integer NOT NULL,
                head_hash text NOT NULL,
                body text NOT NULL,
                position bigint GENERATED ALWAYS AS IDENTITY UNIQUE
            )""",
            """CREATE TABLE journal (
                case_id text NOT NULL REFERENCES cases (id),
                seq integer NOT NULL,
                kind text NOT NULL,
                at timestamptz NOT NULL,
                body bytea NOT NULL,
                hash text NOT NULL,
                PRIMARY KEY (case_id, seq)
            )""",
            """CREATE TABLE reviews (
                case_id text PRIMARY KEY,
                review_at timestamptz NOT NULL
            )""",
            "CREATE INDEX reviews_due ON reviews (review_at, case_id)",
        ),
    ),
    Migration(
        2,
        "leases on the review index, for several workers",
        (
            "ALTER TABLE reviews ADD COLUMN lease_owner text",
            "ALTER TABLE reviews ADD COLUMN lease_until timestamptz",
        ),
    ),
)
assert MIGRATIONS[-1].version == SCHEMA_VERSION

#: The schema each pooled connection was last set up for (pools may be shared by stores).
_SET_UP: Final[weakref.WeakKeyDictionary[psycopg.Connection[Any], tuple[str | None]]] = (
    weakref.WeakKeyDictionary()
)
_SCHEMA_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

_VERSIONS_TABLE: Final = """CREATE TABLE IF NOT EXISTS schema_versions (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
_ENTRY_COLUMNS: Final = "case_id, seq, kind, at, body, hash"
#: The case row, or only its version and head when the caller's copy is still current.
_CASE_IF_CHANGED: Final = (
    "SELECT version, head_seq, head_hash, "
    "CASE WHEN version = %s AND head_seq = %s THEN NULL ELSE body END "
    "FROM cases WHERE id = %s"
)
_ADD: Final = f"""
WITH c AS (
    INSERT INTO cases (id, version, head_seq, head_hash, body) VALUES (%s, %s, %s, %s, %s)
    RETURNING id
)
INSERT INTO journal ({_ENTRY_COLUMNS}) SELECT id, %s, %s, %s, %s, %s FROM c
"""
_APPEND: Final = f"""
WITH c AS (
    UPDATE cases SET version = %s, head_seq = %s, head_hash = %s, body = %s
    WHERE id = %s AND version = %s AND head_seq = %s
    RETURNING id
)
INSERT INTO journal ({_ENTRY_COLUMNS}) SELECT id, %s, %s, %s, %s, %s FROM c
"""
_APPEND_ENTRY: Final = f"""
WITH c AS (
    UPDATE cases SET head_seq = %s, head_hash = %s WHERE id = %s AND head_seq = %s
    RETURNING id
)
INSERT INTO journal ({_ENTRY_COLUMNS}) SELECT id, %s, %s, %s, %s, %s FROM c
"""
_SCHEDULE: Final = (
    "INSERT INTO reviews (case_id, review_at) VALUES (%s, %s) "
    "ON CONFLICT (case_id) DO UPDATE SET review_at = excluded.review_at"
)
_UNSCHEDULE: Final = "DELETE FROM reviews WHERE case_id = %s"
_SCHEDULE_MANY: Final = (
    "INSERT INTO reviews (case_id, review_at) "
    "SELECT * FROM unnest(%s::text[], %s::timestamptz[]) "
    "ON CONFLICT (case_id) DO UPDATE SET review_at = excluded.review_at"
)
_UNSCHEDULE_MANY: Final = "DELETE FROM reviews WHERE case_id = ANY(%s::text[])"
_LEASE: Final = """
WITH picked AS (
    SELECT case_id FROM reviews
    WHERE review_at <= %(now)s
      AND (lease_until IS NULL OR lease_until <= %(now)s OR lease_owner = %(owner)s)
    ORDER BY review_at, case_id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE reviews r SET lease_owner = %(owner)s, lease_until = %(until)s
FROM picked WHERE r.case_id = picked.case_id
RETURNING r.case_id, r.review_at
"""
_CHAINS: Final = (
    "SELECT j.case_id, j.seq, j.kind, j.at, j.body, j.hash "
    "FROM journal j JOIN cases c ON c.id = j.case_id ORDER BY c.position, j.seq"
)


class _Copy:
    """The store's working copy of one case: the case, its head and (once read) its chain."""

    __slots__ = ("case", "entries", "head", "version")

    def __init__(
        self, case: Case, version: int, head: Head, entries: list[JournalEntry] | None
    ) -> None:
        self.case = case
        self.version = version  # the version the database holds
        self.head = head
        self.entries = entries


class _Level:
    """One open transaction level: its savepoint (once it writes), what it touched, its reviews."""

    __slots__ = ("savepoint", "schedule", "touched")

    def __init__(self) -> None:
        self.savepoint: str | None = None
        self.touched: set[str] = set()
        self.schedule: dict[str, datetime | None] = {}


def _entry_row(entry: JournalEntry) -> tuple[Any, ...]:
    """A journal row in `_sql.JOURNAL_COLUMNS` order, ``at`` as a timestamp."""
    return (entry.case_id, entry.seq, entry.kind, entry.at, entry.body, entry.hash)


class PostgresStore:
    """Cases and journal chains in PostgreSQL (psycopg 3, a connection pool).

    Args:
        conninfo: The database, as a libpq connection string or URL
            (``postgresql://user@host:5432/db``); not needed with *pool*.
        schema: The PostgreSQL schema the tables live in, created when
            missing; ``None`` uses the connections' ``search_path`` as it is.
        pool: A pool to use instead of opening one (`close` leaves it open).
            Its connections must be in autocommit mode; the store sets the
            time zone and ``search_path`` it needs when it takes one.
        min_size: The fewest connections the store's own pool keeps open.
        max_size: The most connections the store's own pool opens (at least
            2: `chains` reads on one while `head` asks on another).
        timeout: Seconds to wait for a connection before giving up.
        cache_size: Working copies kept between transactions; the oldest are
            dropped beyond it.

    Attributes:
        schema_version: The schema version of the database (after migrating).

    Raises:
        SchemaMismatch: the database's schema is newer than this library knows.
        InvalidInput: the database does not store text as UTF-8, or a bad
            schema name.
    """

    def __init__(
        self,
        conninfo: str = "",
        *,
        schema: str | None = "arrears",
        pool: ConnectionPool | None = None,
        min_size: int = 1,
        max_size: int = 4,
        timeout: float = 30.0,
        cache_size: int = 100_000,
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise InvalidInput("schema", schema, "a plain PostgreSQL identifier")
        if cache_size < 1:
            raise InvalidInput("cache_size", cache_size, "a positive number of cases")
        self.schema = schema
        self.cache_size = cache_size
        self._copies: dict[str, _Copy] = {}
        # Copies known to match the database: checked in the open transaction, or
        # leased (read ahead by `lease`, trusted until released).
        self._fresh: set[str] = set()
        self._leased: set[str] = set()
        # The open transaction: its connection, its levels (outermost first), the
        # commands to send ahead of the next statement (BEGIN, SAVEPOINT, RELEASE,
        # ROLLBACK TO: in one round trip with it), and the cases added in it and
        # not yet written (written with COPY), as rows.
        self._conn: psycopg.Connection[Any] | None = None
        self._levels: list[_Level] = []
        self._queued: list[str] = []
        self._new: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self._names = 0
        self._owns_pool = pool is None
        if pool is None:
            pool = ConnectionPool(
                conninfo,
                min_size=min_size,
                max_size=max(max_size, 2),
                kwargs={"autocommit": True},
                timeout=timeout,
                open=False,
                name="arrears",
            )
            pool.open()
        self._pool = pool
        try:
            self.schema_version = self._migrate()
        except BaseException:
            self.close()
            raise

    # -- opening and closing -------------------------------------------------------------
    @contextmanager
    def _pooled(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection from the pool, set up for the store (time zone, schema)."""
        with self._pool.connection() as conn:
            if _SET_UP.get(conn, ()) != (self.schema,):
                conn.execute("SET TIME ZONE 'UTC'")
                if self.schema is not None:
                    conn.execute(
                        sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema))
                    )
                _SET_UP[conn] = (self.schema,)
            yield conn

    def _migrate(self) -> int:
        with self._pool.connection() as conn:
            encoding = conn.execute("SHOW server_encoding").fetchone()
            if encoding is None or encoding[0] != "UTF8":
                found = None if encoding is None else encoding[0]
                raise InvalidInput("server_encoding", found, "a UTF8 database (initdb -E UTF8)")
            if self.schema is not None:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
        with self._pooled() as conn, conn.transaction():
            # One migrator at a time per schema; the others wait, then find it done.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.arrears'))")
            conn.execute(_VERSIONS_TABLE)
            row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_versions").fetchone()
            found = 0 if row is None else int(row[0])
            for step in pending(found, MIGRATIONS):
                for statement in step.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_versions (version, description) VALUES (%s, %s)",
                    (step.version, step.description),
                )
                found = step.version
            return found

    def close(self) -> None:
        """Close the store's own pool (a pool passed in stays open) and drop every copy."""
        self._copies.clear()
        self._fresh.clear()
        self._leased.clear()
        if self._owns_pool:
            self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r}, pool={self._pool.name!r})"

    # -- statements ------------------------------------------------------------------------
    def _execute(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] = (), *, write: bool = False
    ) -> psycopg.Cursor[Any]:
        """Run one statement in the open transaction (after the queued commands, in one
        round trip), or alone on a pooled connection (autocommit)."""
        conn = self._conn
        if conn is None:
            with self._pooled() as pooled:
                return pooled.execute(query, params)
        if write:
            self._savepoints()
        if not self._queued:
            return conn.execute(query, params)
        return self._with_queued(conn, query, params)

    def _with_queued(
        self, conn: psycopg.Connection[Any], query: str, params: Sequence[Any] | Mapping[str, Any]
    ) -> psycopg.Cursor[Any]:
        """The queued commands and *query* as one string, bound on the client: one round
        trip (cheaper than a pipeline); the cursor is left on the last result."""
        queued, self._queued = self._queued, []
        cursor: psycopg.Cursor[Any] = psycopg.ClientCursor(conn)
        cursor.execute(";\n".join([*queued, query]), params or None)
        while cursor.nextset():
            pass
        return cursor

    def _send_queued(self, *then: str) -> None:
        """Send the queued commands (and *then*, literal SQL), if any, in one round trip."""
        conn = self._conn
        commands = [*self._queued, *then]
        if conn is not None and commands:
            self._queued = []
            conn.execute(";\n".join(commands))

    def _savepoints(self) -> None:
        """Open the savepoints of the nested levels that have not written yet."""
        for depth, level in enumerate(self._levels[1:], 1):
            if level.savepoint is None:
                # Named by depth (a released name is free again): the statements sent
                # repeat exactly, so psycopg's cache of parsed queries serves them.
                level.savepoint = f"arrears_{depth}"
                self._queued.append(f"SAVEPOINT {level.savepoint}")

    def _fetchone(self, query: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._execute(query, params).fetchone()
        return row

    def _fetchall(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._execute(query, params).fetchall()

    # -- transactions ----------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        """One PostgreSQL transaction on one pooled connection; nested ones are savepoints.

        ``BEGIN`` and each savepoint are sent with the first statement that
        needs them, and ``RELEASE`` with the next one, so they cost no round
        trip of their own; a level that writes nothing makes no savepoint.
        Reviews scheduled in a transaction are written when it commits.  When
        a nested one ends with an exception, the database rolls back to its
        savepoint and every case read or written inside it is dropped from
        the identity map (the next `get` reads the database); the same for
        the whole transaction.
        """
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._conn is None:
            yield from self._outermost()
            return
        self._write_new()  # the savepoint starts after every case added before it
        level = _Level()
        self._levels.append(level)
        try:
            yield
        except BaseException:
            self._levels.pop()
            if level.savepoint is not None:
                self._queued.append(f"ROLLBACK TO SAVEPOINT {level.savepoint}")
                self._queued.append(f"RELEASE SAVEPOINT {level.savepoint}")
            self._forget_level(level)
            raise
        self._levels.pop()
        if level.savepoint is not None:
            self._queued.append(f"RELEASE SAVEPOINT {level.savepoint}")
        parent = self._levels[-1]
        parent.touched |= level.touched
        parent.schedule.update(level.schedule)

    def _outermost(self) -> Iterator[None]:
        level = _Level()
        with self._pooled() as conn:
            self._conn = conn
            self._levels = [level]
            self._queued = ["BEGIN"]
            self._fresh.clear()
            try:
                yield
                if self._queued[:1] == ["BEGIN"] and not self._new and not _scheduled(level):
                    self._queued = []  # nothing was sent and nothing is left to write
                else:
                    self._write_schedule("COMMIT")
            except BaseException:
                self._forget_level(level)
                if self._queued[:1] != ["BEGIN"] and not conn.closed:
                    self._queued = []
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._conn = None
                self._levels = []
                self._queued = []
                self._new.clear()
                self._fresh.clear()
        self._trim()

    def _forget_level(self, level: _Level) -> None:
        """A level rolled back: drop the copies it touched and the cases it added."""
        for case_id in (*level.touched, *self._new):
            self._copies.pop(case_id, None)
            self._fresh.discard(case_id)
        self._new.clear()
        level.schedule.clear()

    def _touch(self, case_id: str) -> None:
        if self._levels:
            self._levels[-1].touched.add(case_id)
            self._fresh.add(case_id)

    def _trim(self) -> None:
        """Drop the oldest copies beyond `cache_size` (only between transactions)."""
        extra = len(self._copies) - self.cache_size
        if extra > 0 and self._conn is None:
            for case_id in list(self._copies)[:extra]:
                del self._copies[case_id]
                self._leased.discard(case_id)

    def _write_new(self) -> None:
        """Write the cases added in the transaction and not yet written, with COPY."""
        if not self._new:
            return
        conn = self._conn
        assert conn is not None
        self._savepoints()
        self._send_queued()
        new, self._new = self._new, {}
        try:
            with conn.cursor() as cursor:
                with cursor.copy(
                    "COPY cases (id, version, head_seq, head_hash, body) FROM STDIN"
                ) as copy:
                    for case_row, _ in new.values():
                        copy.write_row(case_row)
                with cursor.copy(f"COPY journal ({_ENTRY_COLUMNS}) FROM STDIN") as copy:
                    for _, entry_row in new.values():
                        copy.write_row(entry_row)
        except psycopg.errors.UniqueViolation as err:
            for case_id in new:
                self._copies.pop(case_id, None)
            raise DuplicateCase(_duplicate_id(err, new)) from err

    def _write_schedule(self, *then: str) -> None:
        """Write what the open transaction added and scheduled, then *then* (literal SQL),
        in one round trip."""
        self._write_new()
        reviews: dict[str, datetime | None] = {}
        for level in self._levels:
            reviews.update(level.schedule)
            level.schedule.clear()
        conn = self._conn
        assert conn is not None
        if not reviews:
            if then:
                self._send_queued(*then)
            return
        self._savepoints()
        scheduled = [(case_id, at) for case_id, at in reviews.items() if at is not None]
        dropped = [case_id for case_id, at in reviews.items() if at is None]
        statements: list[str] = []
        params: list[Any] = []
        if scheduled:
            statements.append(_SCHEDULE_MANY)
            params += [[case_id for case_id, _ in scheduled], [at for _, at in scheduled]]
        if dropped:
            statements.append(_UNSCHEDULE_MANY)
            params.append(dropped)
        self._with_queued(conn, ";\n".join([*statements, *then]), params)

    def _written(self) -> None:
        """Before a query that reads the schedule or every case: write what is pending."""
        if self._conn is not None:
            self._write_schedule()

    # -- cases ---------------------------------------------------------------------------
    def __len__(self) -> int:
        self._written()
        row = self._fetchone("SELECT count(*) FROM cases", ())
        assert row is not None
        return int(row[0])

    def __contains__(self, case_id: object) -> bool:
        if not isinstance(case_id, str):
            return False
        if case_id in self._new:
            return True
        return self._fetchone("SELECT 1 FROM cases WHERE id = %s", (case_id,)) is not None

    def add(self, case: Case, opened: JournalEntry) -> None:
        """Store a new case with the first entry of its chain.

        Inside a transaction the rows are written with ``COPY`` when it
        commits (or a savepoint starts): opening a portfolio in one
        transaction is one bulk load.

        Raises:
            DuplicateCase: a case with that id is already stored (inside a
                transaction, perhaps only when the rows are written).
            InvalidInput: *opened* is not entry #0 of the case.
        """
        if opened.seq != 0 or opened.case_id != case.id:
            raise InvalidInput("opened", repr(opened), f"entry #0 of case {case.id!r}")
        if case.id in self._new:
            raise DuplicateCase(case.id)
        case_row = (case.id, case.version, 0, opened.hash, case_body(case))
        if self._conn is not None:
            self._new[case.id] = (case_row, _entry_row(opened))
        else:
            try:
                self._execute(_ADD, case_row + _entry_row(opened)[1:])
            except psycopg.errors.UniqueViolation:
                raise DuplicateCase(case.id) from None
        self._copies[case.id] = _Copy(case, case.version, Head(0, opened.hash), [opened])
        self._touch(case.id)
        if self._conn is None:
            self._trim()

    def _current(self, case_id: str) -> _Copy:
        """The working copy, checked against the database unless known to match it."""
        copy = self._copies.get(case_id)
        if copy is not None and (case_id in self._fresh or case_id in self._leased):
            return copy
        known = (-1, -1) if copy is None else (copy.version, copy.head.seq)
        row = self._fetchone(_CASE_IF_CHANGED, (*known, case_id))
        if row is None:
            self._copies.pop(case_id, None)
            raise UnknownCase(case_id)
        version, head_seq, head_hash, body = row
        if copy is None or body is not None:
            copy = _Copy(case_from_body(body), version, Head(head_seq, head_hash), None)
            self._copies[case_id] = copy
        if self._conn is not None:
            self._fresh.add(case_id)
        return copy

    def get(self, case_id: str) -> Case:
        """The store's working copy of the case: the same object while it is current.

        Raises:
            UnknownCase: no such case.
        """
        copy = self._current(case_id)
        self._touch(case_id)
        return copy.case

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        """Append *entry* and save *case* as it stands after it, in one statement.

        The case row is updated only where it is still at ``case.version - 1``
        and the chain ends at ``entry.seq - 1``.

        Raises:
            ConcurrencyConflict: another writer changed the case first (its
                working copy is dropped).
            InvalidInput: the entry is not the next one in the chain.
            UnknownCase: no such case.
        """
        case_id = entry.case_id
        if case_id in self._new:
            self._write_new()
        self._touch(case_id)
        prev = entry.seq - 1
        row = _entry_row(entry)[1:]
        params: tuple[Any, ...]
        try:
            if case is not None:
                params = (case.version, entry.seq, entry.hash, case_body(case))
                params += (case_id, case.version - 1, prev, *row)
                written = self._execute(_APPEND, params, write=True).rowcount
            else:
                params = (entry.seq, entry.hash, case_id, prev, *row)
                written = self._execute(_APPEND_ENTRY, params, write=True).rowcount
        except (psycopg.errors.DeadlockDetected, psycopg.errors.UniqueViolation) as err:
            self._drop(case_id)
            raise ConcurrencyConflict(case_id, case.version - 1 if case else prev) from err
        except BaseException:
            self._drop(case_id)
            raise
        if written != 1:
            self._drop(case_id)
            self._refuse(entry, case)
        copy = self._copies.get(case_id)
        if copy is None:
            return
        if case is not None:
            copy.case = case
            copy.version = case.version
        copy.head = Head(entry.seq, entry.hash)
        if copy.entries is not None:
            copy.entries.append(entry)

    def _drop(self, case_id: str) -> None:
        self._copies.pop(case_id, None)
        self._fresh.discard(case_id)

    def _refuse(self, entry: JournalEntry, case: Case | None) -> None:
        """Say why an append wrote nothing: unknown case, wrong seq, or a conflict."""
        found = self._fetchone(
            "SELECT version, head_seq FROM cases WHERE id = %s", (entry.case_id,)
        )
        if found is None:
            raise UnknownCase(entry.case_id)
        version, head_seq = found
        if case is not None and version != case.version - 1:
            raise ConcurrencyConflict(entry.case_id, case.version - 1, version)
        if head_seq != entry.seq - 1:
            raise InvalidInput("seq", entry.seq, f"{head_seq + 1}, the next in the chain")
        raise ConcurrencyConflict(entry.case_id, case.version - 1 if case else head_seq, version)

    def _chain(self, case_id: str) -> list[JournalEntry]:
        copy = self._current(case_id)
        if copy.entries is None:
            copy.entries = [
                entry_from_row(row)
                for row in self._fetchall(
                    f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE case_id = %s ORDER BY seq",
                    (case_id,),
                )
            ]
        return copy.entries

    def entries(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's chain, oldest first."""
        return tuple(self._chain(case_id))

    def head(self, case_id: str) -> Head:
        """The recorded end of the case's chain."""
        return self._current(case_id).head

    def last_entry(self, case_id: str) -> JournalEntry:
        """The newest entry of the case's chain."""
        copy = self._current(case_id)
        if copy.entries:
            return copy.entries[-1]
        row = self._fetchone(
            f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE case_id = %s ORDER BY seq DESC LIMIT 1",
            (case_id,),
        )
        if row is None:
            raise UnknownCase(case_id)
        return entry_from_row(row)

    def case_ids(self) -> Iterator[str]:
        """Every case id, in the order cases were added."""
        self._written()
        rows = self._fetchall("SELECT id FROM cases ORDER BY position", ())
        return iter([row[0] for row in rows])

    def chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        """Every chain as stored (read from the database), in the order cases were added."""
        self._written()
        return self._stream_chains()

    def _stream_chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        """Read the journal with a server-side cursor, a few thousand rows at a time."""
        self._names += 1
        name = f"arrears_chains_{self._names}"
        with ExitStack() as stack:
            if self._conn is not None:
                self._send_queued()
                conn = self._conn
            else:
                conn = stack.enter_context(self._pooled())
                stack.enter_context(conn.transaction())
            cursor = stack.enter_context(conn.cursor(name=name))
            cursor.itersize = 5000
            cursor.execute(_CHAINS)
            current: str | None = None
            chain: list[JournalEntry] = []
            for row in cursor:
                if row[0] != current:
                    if current is not None:
                        yield current, tuple(chain)
                    current, chain = row[0], []
                chain.append(entry_from_row(row))
            if current is not None:
                yield current, tuple(chain)

    # -- the review index -------------------------------------------------------------------
    def schedule(self, case_id: str, at: datetime | None) -> None:
        """Set when the case is reviewed next; ``None`` takes it off the schedule.

        Inside a transaction it is written when the transaction commits.
        """
        if self._levels:
            self._levels[-1].schedule[case_id] = at
        elif at is None:
            self._execute(_UNSCHEDULE, (case_id,))
        else:
            self._execute(_SCHEDULE, (case_id, at))

    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """The cases whose review is due at *now*, earliest first (leased ones too)."""
        self._written()
        rows = self._fetchall(
            "SELECT case_id FROM reviews WHERE review_at <= %s "
            "ORDER BY review_at, case_id LIMIT %s",
            (now, limit),
        )
        return [row[0] for row in rows]

    def next_review(self, case_id: str) -> datetime | None:
        """When the case is reviewed next (UTC), or ``None`` when it is not scheduled."""
        for level in reversed(self._levels):
            if case_id in level.schedule:
                return _utc(level.schedule[case_id])
        row = self._fetchone("SELECT review_at FROM reviews WHERE case_id = %s", (case_id,))
        return None if row is None else _utc(row[0])

    def lease(self, now: datetime, limit: int, owner: str, ttl: timedelta) -> list[str]:
        """Take up to *limit* due cases for *owner* until ``now + ttl``, earliest first.

        Cases leased to another owner until after *now* are skipped, and so
        are rows another worker is leasing at this instant (``SKIP LOCKED``).
        The leased cases and their chains are read in two more queries
        (copies older than the database are replaced) and trusted until
        released.
        """
        self._written()
        params = {"now": now, "owner": owner, "until": now + ttl, "limit": limit}
        rows = self._execute(_LEASE, params, write=True).fetchall()
        rows.sort(key=lambda row: (row[1], row[0]))
        chosen = [row[0] for row in rows]
        self._leased = set()
        if chosen:
            self._read_ahead(chosen)
        if self._conn is None:
            self._trim()
        return chosen

    def _read_ahead(self, case_ids: list[str]) -> None:
        """Read the cases and their chains in two queries, replacing stale copies."""
        copies = self._copies
        wanted = []
        for case_id, version, head_seq, head_hash, body in self._fetchall(
            "SELECT id, version, head_seq, head_hash, body FROM cases WHERE id = ANY(%s)",
            (case_ids,),
        ):
            known = copies.get(case_id)
            if known is None or (known.version, known.head.seq) != (version, head_seq):
                known = _Copy(case_from_body(body), version, Head(head_seq, head_hash), None)
                copies[case_id] = known
            if known.entries is None:
                wanted.append(case_id)
            self._leased.add(case_id)
        if not wanted:
            return
        chains: dict[str, list[JournalEntry]] = {case_id: [] for case_id in wanted}
        for row in self._fetchall(
            f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE case_id = ANY(%s) ORDER BY case_id, seq",
            (wanted,),
        ):
            chains[row[0]].append(entry_from_row(row))
        for case_id, chain in chains.items():
            copy = copies[case_id]
            if chain and chain[-1].seq == copy.head.seq:
                copy.entries = chain

    def release(self, case_ids: Sequence[str], owner: str) -> None:
        """Give back *owner*'s leases on *case_ids* (others' leases are left alone)."""
        self._leased.difference_update(case_ids)
        if not case_ids:
            return
        self._written()
        self._execute(
            "UPDATE reviews SET lease_owner = NULL, lease_until = NULL "
            "WHERE case_id = ANY(%s) AND lease_owner = %s",
            (list(case_ids), owner),
            write=True,
        )


def _scheduled(level: _Level) -> bool:
    return bool(level.schedule)


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


def _duplicate_id(err: psycopg.errors.UniqueViolation, new: Mapping[str, Any]) -> str:
    detail = err.diag.message_detail or ""
    for case_id in new:
        if f"({case_id})" in detail:
            return case_id
    return next(iter(new), "?")
