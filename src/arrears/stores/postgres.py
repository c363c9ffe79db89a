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
    ``position`` (the order cases were added) and ``debtor_id`` (the case's
    debtor, written with the row, indexed: `Store.cases_of`; generated from the
    body until schema 4).
``journal``
    ``case_id``, ``seq`` (the key together), ``kind``, ``at`` (timestamptz),
    ``body`` (bytea: the canonical JSON exactly as sealed and hashed), ``hash``.
``reviews``
    One row per scheduled case: ``case_id``, ``review_at`` (indexed with the
    id), and the lease, ``lease_owner`` and ``lease_until``.
``schema_versions``
    Every migration applied: ``version``, ``description``, ``applied_at``.

The identity map, the unit of work, nested transactions and the conflict
rules are the session both SQL stores share (`arrears.stores._session`):
a transaction's writes wait in memory and go at its commit (``COPY`` for
new cases, one ``INSERT … FROM unnest(…)`` for up to 1,000 entries and
``COPY`` for more, one ``UPDATE … FROM unnest(…) WHERE version = …`` for
the changed cases, one upsert for the schedule: the columns as binary
arrays, in one pipeline with the commit's checks), and `ConcurrencyConflict`
names a case another writer changed first.  A deadlock PostgreSQL breaks, or a
serialization failure, inside a transaction is `ConcurrencyConflict` too
(naming no case; the server's error is its ``__cause__``); the debtors' own
locks are taken in one total order and never close a circle (`PostgresStore._lock`:
a debtor asked for out of order is only tried, ``55P03``).  This module holds the
statements, the transaction on one pooled connection (``BEGIN``, savepoints
and ``RELEASE`` sent with the next statement) and leasing: workers lease
whole debtors (every due case of each, the debtor held by a transaction-scoped
advisory lock while its leases are taken), so several share a tick without
overlap and a debtor's loans are reviewed by one worker at a time; a lease
lasts until the tick's moment plus its length, and a dead worker's cases are
taken again after that.  One store serves one
thread at a time; threads and stores can share a pool (``pool=``).
"""

from __future__ import annotations

import contextlib
import re
import struct
import weakref
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg import pq, sql
from psycopg.adapt import Dumper
from psycopg_pool import ConnectionPool

from ..errors import ConcurrencyConflict, DuplicateCase, InvalidInput, LeaseLost
from ..journal import Head, JournalEntry
from ._session import CACHE_SIZE, CaseRow, Session, Stamp, StoredCase, UpdateRow
from ._sql import SCHEMA_VERSION, Migration, entry_from_row, pending

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
    Migration(
        3,
        "each case's debtor id, indexed, for the debtor's cases",
        (
            # Generated from the stored case: existing rows are filled as the column is
            # added, and no write names it.
            "ALTER TABLE cases ADD COLUMN debtor_id text "
            "GENERATED ALWAYS AS ((body::jsonb) -> 'debtor' ->> 'id') STORED",
            'CREATE INDEX cases_debtor ON cases (debtor_id, id COLLATE "C")',
        ),
    ),
    Migration(
        4,
        "each case's debtor id written with its row, not read from its body at every write",
        (
            # Generated, every update of a case parsed its body as jsonb; a case's debtor
            # never changes: the row is written with it once (the values are kept), and
            # `Engine.verify` compares it with the case's journal.
            "ALTER TABLE cases ALTER COLUMN debtor_id DROP EXPRESSION",
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
_TAIL: Final = "(SELECT coalesce(max(seq), -1) FROM journal j WHERE j.case_id = c.id)"
_SELECT_CASE: Final = (
    f"SELECT version, head_seq, head_hash, body, {_TAIL} FROM cases c WHERE id = %s"
)
_SELECT_STAMPS: Final = (
    f"SELECT id, version, head_seq, head_hash, {_TAIL} FROM cases c WHERE id = ANY(%s)"
)
#: Each case of some debtors with its stamp and its newest entry's moment (`read_debtors`).
_DEBTOR_ROWS: Final = """
SELECT c.debtor_id, c.id, c.version, c.head_seq, c.head_hash, coalesce(t.seq, -1), t.at
FROM cases c LEFT JOIN LATERAL (
    SELECT j.seq, j.at FROM journal j WHERE j.case_id = c.id ORDER BY j.seq DESC LIMIT 1
) t ON true
WHERE c.debtor_id = ANY(%s) ORDER BY c.id COLLATE "C"
"""
_UPDATE_CASES: Final = """
UPDATE cases c SET version = v.version, head_seq = v.head_seq, head_hash = v.head_hash,
    body = v.body
FROM unnest(%b::integer[], %b::integer[], %b::text[], %b::text[], %b::text[], %b::integer[])
    AS v(version, head_seq, head_hash, body, id, stored)
WHERE c.id = v.id AND c.version = v.stored
RETURNING c.id
"""
_SCHEDULE_MANY: Final = (
    "INSERT INTO reviews (case_id, review_at) "
    "SELECT * FROM unnest(%s::text[], %s::timestamptz[]) "
    "ON CONFLICT (case_id) DO UPDATE SET review_at = excluded.review_at"
)
_UNSCHEDULE_MANY: Final = "DELETE FROM reviews WHERE case_id = ANY(%s::text[])"
#: The fewest cases a transaction adds for the store to gather statistics after its commit.
_ANALYZE_AFTER: Final = 1_000
#: The SQLSTATEs of a transaction PostgreSQL aborted because of another one (a deadlock
#: it broke, a serialization failure): `ConcurrencyConflict`, which callers retry.
_RETRYABLE: Final = frozenset({"40P01", "40001"})
#: The SQLSTATE of a lock another writer held when it was only tried (`PostgresStore._lock`).
_LOCK_NOT_AVAILABLE: Final = "55P03"
#: Rounds of `lease` when every debtor it found was being leased by another worker.
_LEASE_ROUNDS: Final = 5
#: A lease is not evidence: its transaction commits without waiting for the disk (`lease`).
_LEASE_COMMIT: Final = "SET LOCAL synchronous_commit TO OFF"
#: The first key of the advisory locks on debtors ("arre"), apart from a host's own locks.
_LOCK_SPACE: Final = 0x61727265
#: Whether the transaction now holds debtor ``d`` (a debtor another worker is leasing
#: at this instant is not waited for).  Advisory locks belong to the database, not the
#: schema: the key names the schema too, or a debtor id in one schema would hold back
#: the same id's leasing in another.
_DEBTOR_LOCK: Final = (
    f"pg_try_advisory_xact_lock({_LOCK_SPACE}, hashtext(current_schema() || '/' || d))"
)
#: Leasing takes whole debtors (a debtor's due cases go to one worker at a time, so a
#: cap over the debtor's loans holds under any number of workers), in one transaction:
#: the debtors of the earliest due cases none of whose cases another worker holds (rows
#: another worker is choosing at this instant are skipped), each with whether it is now
#: held by a transaction-scoped advisory lock until the leases are committed ...
_LEASE_CANDIDATES: Final = f"""
WITH due AS MATERIALIZED (
    SELECT c.debtor_id FROM reviews r JOIN cases c ON c.id = r.case_id
    WHERE r.review_at <= %(now)s
      AND (r.lease_until IS NULL OR r.lease_until <= %(now)s OR r.lease_owner = %(owner)s)
      AND NOT c.debtor_id = ANY(%(skip)s)
      AND NOT EXISTS (
          SELECT 1 FROM cases o JOIN reviews h ON h.case_id = o.id
          WHERE o.debtor_id = c.debtor_id AND h.lease_owner <> %(owner)s
            AND h.lease_until > %(now)s
      )
    ORDER BY r.review_at, r.case_id
    LIMIT %(limit)s
    FOR UPDATE OF r SKIP LOCKED
)
SELECT d, {_DEBTOR_LOCK} FROM (SELECT DISTINCT debtor_id FROM due) AS found(d) ORDER BY d
"""
#: The first key of the locks writers hold on a debtor ("arrd": `PostgresStore.lock_debtors`);
#: the second is a hash of the schema and the debtor id, worked out here.
_DEBTOR_SPACE: Final = 0x61727264
#: The first key of the lock on every debtor of a schema ("arra"), the second a hash of
#: the schema: held shared by a transaction before its first debtor's lock and exclusive
#: by a bulk open (`PostgresStore.lock_every_debtor`).  Of the schema, not of the
#: database: a bulk open in one schema does not hold up the writers of another.
_EVERY_DEBTOR_SPACE: Final = 0x61727261
#: Where the lock on every debtor stands in the order of locks: before every debtor's key.
_EVERY: Final = -(1 << 31) - 1
#: ... then every due case of those debtors, unless another worker's lease holds one
#: of them (read after the locks: a lease committed meanwhile is seen); a row another
#: transaction is writing is skipped, not waited for (its case comes in a later batch).
_LEASE_DEBTORS: Final = """
WITH picked AS (
    SELECT r.case_id FROM reviews r JOIN cases c ON c.id = r.case_id
    WHERE c.debtor_id = ANY(%(debtors)s) AND r.review_at <= %(now)s
      AND NOT EXISTS (
          SELECT 1 FROM cases o JOIN reviews h ON h.case_id = o.id
          WHERE o.debtor_id = c.debtor_id AND h.lease_owner <> %(owner)s
            AND h.lease_until > %(now)s
      )
    FOR UPDATE OF r SKIP LOCKED
)
UPDATE reviews r SET lease_owner = %(owner)s, lease_until = %(until)s
FROM picked WHERE r.case_id = picked.case_id
RETURNING r.case_id, r.review_at
"""
#: Every chain in case id order: code point order (``COLLATE "C"``), as Python sorts.
#: Every stored case with its chain: a case without a journal comes as one row of nulls
#: (``verify`` names it), as the SQLite store lists every case row.
_CHAINS: Final = (
    "SELECT c.id, j.seq, j.kind, j.at, j.body, j.hash FROM cases c "
    'LEFT JOIN journal j ON j.case_id = c.id ORDER BY c.id COLLATE "C", j.seq'
)
#: Fencing a held lease as a transaction commits (`Session._check_lease`): the rows the
#: owner still leases are renewed, or given back; the others are another worker's now.
_RENEW: Final = (
    "UPDATE reviews SET lease_until = %(until)s "
    "WHERE case_id = ANY(%(ids)s) AND lease_owner = %(owner)s RETURNING case_id"
)
_GIVE_BACK: Final = (
    "UPDATE reviews SET lease_owner = NULL, lease_until = NULL "
    "WHERE case_id = ANY(%(ids)s) AND lease_owner = %(owner)s RETURNING case_id"
)
_DUE: Final = (
    "SELECT case_id, review_at FROM reviews WHERE review_at <= %(now)s "
    "AND (lease_until IS NULL OR lease_until <= %(now)s) "
    "ORDER BY review_at, case_id LIMIT %(limit)s"
)


# -- columns sent as arrays, in PostgreSQL's binary array format -------------------------------
# psycopg dumps a list element by element in Python, finding each one's dumper; the
# columns a commit sends (a hundred rows and more, six columns) are of one known type
# and never null, and are packed here in one pass.
#: An array's header: dimensions, whether any is null, the element type, length, lower bound.
_ARRAY_HEAD: Final = struct.Struct(">iiIii")
_EMPTY_HEAD: Final = struct.Struct(">iiI")
_SIZE: Final = struct.Struct(">i").pack
_INT4: Final = struct.Struct(">ii").pack
_INT8: Final = struct.Struct(">iq").pack
_PG_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def _array(element_oid: int, items: list[bytes]) -> bytes:
    """A one-dimensional array without nulls of *items*, each already packed with its size."""
    if not items:
        return _EMPTY_HEAD.pack(0, 0, element_oid)
    return b"".join([_ARRAY_HEAD.pack(1, 0, element_oid, len(items), 1), *items])


class _Texts(list[str]):
    """A column of text sent as ``text[]``."""


class _Ints(list[int]):
    """A column of integers sent as ``integer[]``."""


class _Moments(list[datetime]):
    """A column of aware datetimes sent as ``timestamptz[]``."""


class _Blobs(list[bytes]):
    """A column of bytes sent as ``bytea[]``."""


class _TextsDumper(Dumper):
    format = pq.Format.BINARY
    oid = 1009  # text[]

    def dump(self, obj: _Texts) -> bytes:
        encoded = [item.encode() for item in obj]
        return _array(25, [_SIZE(len(item)) + item for item in encoded])


class _IntsDumper(Dumper):
    format = pq.Format.BINARY
    oid = 1007  # integer[]

    def dump(self, obj: _Ints) -> bytes:
        return _array(23, [_INT4(4, item) for item in obj])


class _MomentsDumper(Dumper):
    format = pq.Format.BINARY
    oid = 1185  # timestamptz[]

    def dump(self, obj: _Moments) -> bytes:
        return _array(1184, [_INT8(8, (at - _PG_EPOCH) // _MICROSECOND) for at in obj])


class _BlobsDumper(Dumper):
    format = pq.Format.BINARY
    oid = 1001  # bytea[]

    def dump(self, obj: _Blobs) -> bytes:
        return _array(17, [_SIZE(len(item)) + item for item in obj])


_COLUMN_DUMPERS: Final = (
    (_Texts, _TextsDumper),
    (_Ints, _IntsDumper),
    (_Moments, _MomentsDumper),
    (_Blobs, _BlobsDumper),
)


#: A statement held back (`PostgresStore._flush`): the statement, its parameters, what is
#: given its rows, whether that may stop the transaction (raise: the commit then waits for
#: the rows), and what a refusal of the statement means (the error to raise, or ``None``).
_Pending = tuple[
    str,
    Sequence[Any] | Mapping[str, Any] | None,
    Callable[[list[tuple[Any, ...]]], None] | None,
    bool,
    Callable[[psycopg.Error], Exception | None] | None,
]
#: The most journal entries a commit writes with its other statements (one round trip, an
#: ``INSERT`` from arrays); more go by ``COPY`` (two round trips of their own, cheaper rows).
_INSERT_MAX: Final = 1_000
_INSERT_ENTRIES: Final = (
    f"INSERT INTO journal ({_ENTRY_COLUMNS}) SELECT * FROM "
    "unnest(%b::text[], %b::integer[], %b::text[], %b::timestamptz[], %b::bytea[], %b::text[])"
)


def _entry_row(entry: JournalEntry) -> tuple[Any, ...]:
    """A journal row in `_sql.JOURNAL_COLUMNS` order, ``at`` as a timestamp in UTC (an
    offset of a fraction of a second, which Python allows, is no text PostgreSQL reads)."""
    return (entry.case_id, entry.seq, entry.kind, entry.at.astimezone(UTC), entry.body, entry.hash)


class PostgresStore(Session):
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
        cache_size: How many cases the identity map keeps between transactions
            (besides the last batch `due` or `lease` returned).

    Attributes:
        schema_version: The schema version of the database (after migrating).

    Raises:
        SchemaMismatch: the database's schema is newer than this library knows.
        InvalidInput: the database does not store text as UTF-8, or a bad
            schema name.
    """

    #: Cases added in a transaction are written with ``COPY`` when it commits; a
    #: duplicate id is found then (`DuplicateCase`), not by a query per case.
    CHECK_ADDS = False

    def __init__(
        self,
        conninfo: str = "",
        *,
        schema: str | None = "arrears",
        pool: ConnectionPool | None = None,
        min_size: int = 1,
        max_size: int = 4,
        timeout: float = 30.0,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise InvalidInput("schema", schema, "a plain PostgreSQL identifier")
        super().__init__(cache_size)
        self.schema = schema
        # The open transaction: its connection (held from the pool until it ends) and the
        # commands to send ahead of the next statement (BEGIN, SAVEPOINT, RELEASE,
        # ROLLBACK TO: in one round trip with it).
        self._conn: psycopg.Connection[Any] | None = None
        self._held: ExitStack | None = None
        self._queued: list[str] = []
        # The highest key of a debtor's lock the open transaction took (`_EVERY`: only the
        # lock on every debtor; ``None``: none): a lock after it may be waited for.
        self._highest: int | None = None
        # Writes held back to go together in one round trip (a pipeline) before the next
        # statement or the commit, each with what checks its rows (`_flush`).
        self._pending: list[_Pending] = []
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
                for column, dumper in _COLUMN_DUMPERS:
                    conn.adapters.register_dumper(column, dumper)
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
            if (
                self.schema is not None
                and not conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
                ).fetchone()
            ):
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
        with self._pooled() as conn, conn.transaction():
            # One migrator at a time per schema; the others wait, then find it done.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.arrears'))")
            # A role granted only what docs/stores.md lists (no CREATE) opens a store
            # that is up to date: nothing is created that already exists.
            if conn.execute("SELECT to_regclass('schema_versions')").fetchone() == (None,):
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
        if self._conn is not None:
            self._rollback()
        self._forget()
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
        self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> psycopg.Cursor[Any]:
        """Run one statement in the open transaction (after the queued commands, in one
        round trip), or alone on a pooled connection (autocommit)."""
        conn = self._conn
        if conn is None:
            with self._pooled() as pooled:
                return pooled.execute(query, params)
        if self._pending:
            self._flush()
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

    def _hold_back(
        self,
        query: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        check: Callable[[list[tuple[Any, ...]]], None] | None = None,
        *,
        stops: bool = True,
        refused: Callable[[psycopg.Error], Exception | None] | None = None,
    ) -> None:
        """Send *query* with the next statement or the commit (`_flush`); *check* is given
        its rows then, and may raise to stop the transaction before anything commits
        (*stops* false: it never raises, and the commit goes in the same round trip).
        *refused* says what the server refusing *query* means (``None``: its own error)."""
        self._pending.append((query, params, check, stops and check is not None, refused))

    def _flush(
        self, *reads: tuple[str, Sequence[Any]], then: Sequence[str] = ()
    ) -> list[list[tuple[Any, ...]]]:
        """The queued commands, the statements held back, *reads* and the commands *then*
        in one round trip (a pipeline), in that order; then each held statement's check;
        returns each read's rows.  *then* (a commit) only when no check may stop it."""
        conn = self._conn
        assert conn is not None
        queued, self._queued = self._queued, []
        pending, self._pending = self._pending, []
        try:
            with conn.pipeline():
                for command in queued:
                    conn.execute(command)
                written = [conn.execute(query, params) for query, params, *_ in pending]
                read = [conn.execute(query, params) for query, params in reads]
                for command in then:
                    conn.execute(command)
        except psycopg.Error as err:
            for *_, refused in pending:
                meant = None if refused is None else refused(err)
                if meant is not None:
                    raise meant from err
            raise
        for cursor, (_, _, check, _, _) in zip(written, pending, strict=True):
            if check is not None:
                check(cursor.fetchall() if cursor.description else [])
        return [cursor.fetchall() for cursor in read]

    def _send_queued(self, *then: str) -> None:
        """Send the queued commands (and *then*, literal SQL), if any, in one round trip:
        with the statements held back when none of their checks may stop *then*."""
        if self._pending:
            if not any(stops for _, _, _, stops, _ in self._pending):
                self._flush(then=then)
                return
            self._flush()
        conn = self._conn
        commands = [*self._queued, *then]
        if conn is not None and commands:
            self._queued = []
            conn.execute(";\n".join(commands))

    def _fetchone(self, query: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._execute(query, params).fetchone()
        return row

    def _fetchall(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._execute(query, params).fetchall()

    # -- the session's SQL --------------------------------------------------------------------
    def _begin(self) -> None:
        """Hold a pooled connection; ``BEGIN`` goes with the first statement."""
        held = ExitStack()
        self._conn = held.enter_context(self._pooled())
        self._held = held
        self._queued = ["BEGIN"]

    def _commit(self) -> None:
        if self._queued[:1] == ["BEGIN"] and not self._pending:
            self._queued = []  # nothing was sent and nothing is left to write
        else:
            self._send_queued("COMMIT")
            if len(self._new_order) >= _ANALYZE_AFTER:
                self._analyze(len(self._new_order))
        self._end()

    def _analyze(self, added: int) -> None:
        """After a bulk load, gather the tables' statistics now, as autovacuum would at its
        next round (up to a minute later): a tick meanwhile would plan its leases and reads
        on none, scanning whole tables.  The same rule as autovacuum's: more rows than a
        tenth of what the table held.  A role that does not own the tables is only warned."""
        conn = self._conn
        assert conn is not None
        row = conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'cases'::regclass"
        ).fetchone()
        held = -1.0 if row is None else float(row[0])
        if held < 0 or added * 10 > held:  # -1: never analyzed
            with contextlib.suppress(psycopg.Error):  # the load is committed whatever happens
                conn.execute("ANALYZE cases, journal, reviews")

    def _rollback(self) -> None:
        conn = self._conn
        try:
            if conn is not None and self._queued[:1] != ["BEGIN"] and not conn.closed:
                self._queued = []
                self._pending = []
                conn.execute("ROLLBACK")
        finally:
            self._end()

    def _end(self) -> None:
        """Give the transaction's connection back to the pool."""
        held, self._held = self._held, None
        self._conn = None
        self._queued = []
        self._pending = []
        self._highest = None
        if held is not None:
            held.close()

    # Savepoints are named by depth (a released name is free again): the statements sent
    # repeat exactly, so psycopg's cache of parsed queries serves them.
    def _savepoint(self, depth: int) -> None:
        self._command(f"SAVEPOINT level_{depth}")

    def _release(self, depth: int) -> None:
        self._command(f"RELEASE SAVEPOINT level_{depth}")

    def _rollback_to(self, depth: int) -> None:
        self._command(f"ROLLBACK TO SAVEPOINT level_{depth}")
        self._command(f"RELEASE SAVEPOINT level_{depth}")

    def _command(self, command: str) -> None:
        """Queue a transaction command, after the writes held back when there are any."""
        if self._pending:
            self._hold_back(command)
        else:
            self._queued.append(command)

    def _changed_elsewhere(self) -> bool:
        """Always: PostgreSQL does not say; a copy is checked once per transaction."""
        return True

    def _conflict(self, error: BaseException) -> ConcurrencyConflict | None:
        """A deadlock PostgreSQL broke by aborting this transaction (``40P01``), or a
        serialization failure (``40001``, under ``REPEATABLE READ`` or
        ``SERIALIZABLE``): another writer won, and running the transaction again
        may succeed.  The message is the SQLSTATE's, never the server's text
        (its detail can quote the rows' values)."""
        if isinstance(error, psycopg.Error) and error.sqlstate in _RETRYABLE:
            return ConcurrencyConflict(None, None, sqlstate=error.sqlstate)
        return None

    def _lock(self, debtor_ids: list[str] | None, first: bool) -> bool:
        """Transaction-scoped advisory locks, in one total order: the schema's lock on
        every debtor (`_EVERY_DEBTOR_SPACE`) before any debtor's, then each debtor's in
        key order.  The lock on every debtor is taken shared before the transaction's
        first debtor, exclusive for *debtor_ids* ``None`` (only while no debtor is held:
        `Session.lock_every_debtor`).  A lock after the highest this transaction holds is
        waited for, sent with the next statement (no round trip of its own); one before
        it is only tried, since waiting for it could close a circle of waiters, and
        when another writer holds it the transaction ends as a `ConcurrencyConflict`
        (SQLSTATE ``55P03``) instead of a deadlock.  Two debtors whose keys collide
        share one lock, which only makes one wait."""
        every = _debtor_key(self.schema, "")
        if debtor_ids is None:
            if self._highest not in (None, _EVERY):  # refused before it gets here
                raise AssertionError("the lock on every debtor after a debtor's")
            self._command(f"SELECT pg_advisory_xact_lock({_EVERY_DEBTOR_SPACE}, {every})")
            self._highest = _EVERY
            return True
        keys = sorted({_debtor_key(self.schema, debtor_id) for debtor_id in debtor_ids})
        highest = self._highest
        if highest is None:
            self._command(f"SELECT pg_advisory_xact_lock_shared({_EVERY_DEBTOR_SPACE}, {every})")
        elif first and highest != _EVERY:
            # Held since before a savepoint rolled back, or given back with it: only tried.
            self._try_locks(f"pg_try_advisory_xact_lock_shared({_EVERY_DEBTOR_SPACE}, {every})")
        after = [key for key in keys if highest is None or key > highest]
        before = keys[: len(keys) - len(after)]
        if before:
            self._try_locks(
                f"pg_try_advisory_xact_lock({_DEBTOR_SPACE}, k)",
                f" FROM unnest(ARRAY{before}::int4[]) AS k",
            )
        if len(after) == 1:
            self._command(f"SELECT pg_advisory_xact_lock({_DEBTOR_SPACE}, {after[0]})")
        elif after:
            self._command(
                f"SELECT pg_advisory_xact_lock({_DEBTOR_SPACE}, k) "
                f"FROM unnest(ARRAY{after}::int4[]) AS k"
            )
        if after:
            self._highest = after[-1]
        elif highest is None:
            self._highest = _EVERY
        return True

    def _send_locks(self) -> None:
        self._send_queued()

    def _try_locks(self, attempt: str, source: str = "") -> None:
        """Try the locks *attempt* takes over *source* (an SQL ``FROM``), none waited for;
        `ConcurrencyConflict` (SQLSTATE ``55P03``) when another writer holds one."""
        row = self._fetchone(f"SELECT bool_and({attempt}){source}", ())
        if row is None or row[0] is False:
            raise ConcurrencyConflict(None, None, sqlstate=_LOCK_NOT_AVAILABLE)

    def _read_case(self, case_id: str) -> StoredCase | None:
        row = self._fetchone(_SELECT_CASE, (case_id,))
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    def _read_stamps(self, case_ids: list[str]) -> dict[str, Stamp]:
        read = (_SELECT_STAMPS, (_Texts(case_ids),))
        rows = self._fetchall(*read) if self._conn is None else self._read_first(read)[0]
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}

    def _read_first(self, *reads: tuple[str, Sequence[Any]]) -> list[list[tuple[Any, ...]]]:
        """*reads* in the open transaction, in one round trip (`_flush`): before its
        ``BEGIN`` when it has sent nothing yet, so a transaction that only reads them
        (the copies of a batch, checked or read ahead) sends no ``COMMIT``.  A plain read
        takes no lock, and under PostgreSQL's default isolation each statement sees what
        was committed when it began, in a transaction or not; the copies it gives are
        checked against their rows when written (``WHERE version = …``) all the same."""
        if self._queued != ["BEGIN"] or self._pending:
            return self._flush(*reads)
        self._queued = []
        try:
            return self._flush(*reads)
        finally:
            self._queued = ["BEGIN"]

    def _read_batch(self, case_ids: list[str]) -> dict[str, tuple[StoredCase, list[JournalEntry]]]:
        if not case_ids:
            return {}
        chains: dict[str, list[JournalEntry]] = {case_id: [] for case_id in case_ids}
        ids = _Texts(case_ids)
        read = (
            (
                f"SELECT {_ENTRY_COLUMNS} FROM journal "
                "WHERE case_id = ANY(%s) ORDER BY case_id, seq",
                (ids,),
            ),
            (
                "SELECT id, version, head_seq, head_hash, body FROM cases WHERE id = ANY(%s)",
                (ids,),
            ),
        )
        if self._conn is None:
            entries, cases = (self._fetchall(query, params) for query, params in read)
        else:  # in one round trip
            entries, cases = self._read_first(*read)
        for row in entries:
            chains[row[0]].append(entry_from_row(row))
        found: dict[str, tuple[StoredCase, list[JournalEntry]]] = {}
        for case_id, version, head_seq, head_hash, body in cases:
            chain = chains[case_id]
            tail = chain[-1].seq if chain else -1
            found[case_id] = ((version, head_seq, head_hash, body, tail), chain)
        return found

    def _read_chain(self, case_id: str) -> list[JournalEntry]:
        return [
            entry_from_row(row)
            for row in self._fetchall(
                f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE case_id = %s ORDER BY seq",
                (case_id,),
            )
        ]

    def _read_last(self, case_id: str) -> JournalEntry | None:
        row = self._fetchone(
            f"SELECT {_ENTRY_COLUMNS} FROM journal WHERE case_id = %s ORDER BY seq DESC LIMIT 1",
            (case_id,),
        )
        return None if row is None else entry_from_row(row)

    def _read_head(self, case_id: str) -> Head | None:
        row = self._fetchone("SELECT head_seq, head_hash FROM cases WHERE id = %s", (case_id,))
        return None if row is None else Head(row[0], row[1])

    def _read_heads_and_bodies(self, case_ids: list[str]) -> dict[str, tuple[Head, str | bytes]]:
        if not case_ids:
            return {}
        rows = self._fetchall(
            "SELECT id, head_seq, head_hash, body FROM cases WHERE id = ANY(%s)",
            (_Texts(case_ids),),
        )
        return {row[0]: (Head(row[1], row[2]), row[3]) for row in rows}

    def _read_review(self, case_id: str) -> datetime | None:
        row = self._fetchone("SELECT review_at FROM reviews WHERE case_id = %s", (case_id,))
        return None if row is None else _utc(row[0])

    def _read_scheduled(self) -> dict[str, datetime]:
        rows = self._fetchall("SELECT case_id, review_at FROM reviews", ())
        return {case_id: at.astimezone(UTC) for case_id, at in rows}  # review_at is NOT NULL

    def _read_filed(self) -> dict[str, str | None]:
        return dict(self._fetchall("SELECT id, debtor_id FROM cases", ()))

    def _exists(self, case_id: str) -> bool:
        return self._fetchone("SELECT 1 FROM cases WHERE id = %s", (case_id,)) is not None

    def _read_cases_of(self, debtor_id: str) -> list[str]:
        rows = self._fetchall(
            'SELECT id FROM cases WHERE debtor_id = %s ORDER BY id COLLATE "C"', (debtor_id,)
        )
        return [row[0] for row in rows if row[0] is not None]

    def _read_cases_of_many(self, debtor_ids: list[str]) -> dict[str, list[str]]:
        rows = self._fetchall(
            'SELECT debtor_id, id FROM cases WHERE debtor_id = ANY(%s) ORDER BY id COLLATE "C"',
            (debtor_ids,),
        )
        found: dict[str, list[str]] = {}
        for debtor_id, case_id in rows:
            found.setdefault(debtor_id, []).append(case_id)
        return found

    def _read_debtor_rows(
        self, debtor_ids: list[str]
    ) -> list[tuple[str, str, Stamp, datetime | None]] | None:
        return [
            (debtor_id, case_id, (version, head_seq, head_hash, tail), at)
            for debtor_id, case_id, version, head_seq, head_hash, tail, at in self._fetchall(
                _DEBTOR_ROWS, (_Texts(debtor_ids),)
            )
        ]

    def _read_last_moments(self, debtor_ids: list[str]) -> list[tuple[str, datetime | str]]:
        rows = self._fetchall(
            "SELECT c.debtor_id, (SELECT j.at FROM journal j WHERE j.case_id = c.id "
            "ORDER BY j.seq DESC LIMIT 1) FROM cases c "
            "WHERE c.debtor_id = ANY(%s)",
            (debtor_ids,),
        )
        return [(row[0], row[1]) for row in rows if row[1] is not None]

    def _insert_cases(self, rows: list[CaseRow]) -> None:
        conn = self._conn
        assert conn is not None
        self._send_queued()
        try:
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    "COPY cases (id, version, head_seq, head_hash, body, debtor_id) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        except psycopg.errors.UniqueViolation as err:
            raise DuplicateCase(_refused_id(err, [row[0] for row in rows])) from err

    def _insert_entries(self, entries: list[JournalEntry]) -> None:
        if self._committing and len(entries) <= _INSERT_MAX:
            # The commit's own writes: sent with the others and the commit's check.
            def refused(err: psycopg.Error) -> Exception | None:
                if not isinstance(err, psycopg.errors.UniqueViolation):
                    return None
                if err.diag.table_name != "journal":
                    return None
                return _taken(err, entries)

            columns = (
                _Texts([entry.case_id for entry in entries]),
                _Ints([entry.seq for entry in entries]),
                _Texts([entry.kind for entry in entries]),
                _Moments([entry.at for entry in entries]),
                _Blobs([entry.body for entry in entries]),
                _Texts([entry.hash for entry in entries]),
            )
            self._hold_back(_INSERT_ENTRIES, columns, refused=refused)
            return
        conn = self._conn
        assert conn is not None
        self._send_queued()
        try:
            with (
                conn.cursor() as cursor,
                cursor.copy(f"COPY journal ({_ENTRY_COLUMNS}) FROM STDIN") as copy,
            ):
                for entry in entries:
                    copy.write_row(_entry_row(entry))
        except psycopg.errors.UniqueViolation as err:
            raise _taken(err, entries) from err

    def _write_schedule(self, latest: dict[str, datetime | None]) -> None:
        scheduled = [(case_id, at) for case_id, at in latest.items() if at is not None]
        dropped = [case_id for case_id, at in latest.items() if at is None]
        if scheduled:
            self._hold_back(
                _SCHEDULE_MANY,
                (
                    _Texts([case_id for case_id, _ in scheduled]),
                    _Moments([at for _, at in scheduled]),
                ),
            )
        if dropped:
            self._hold_back(_UNSCHEDULE_MANY, (_Texts(dropped),))

    def _update_cases(self, rows: list[UpdateRow]) -> None:
        def check(found: list[tuple[Any, ...]]) -> None:
            written = {row[0] for row in found}
            if len(written) == len(rows):
                return
            for row in rows:  # name a case whose row another writer changed
                if row[4] not in written:
                    now = self._fetchone("SELECT version FROM cases WHERE id = %s", (row[4],))
                    raise ConcurrencyConflict(row[4], row[5], None if now is None else now[0])

        versions, seqs, hashes, bodies, ids, stored = zip(*rows, strict=True)
        columns = (
            _Ints(versions),
            _Ints(seqs),
            _Texts(hashes),
            _Texts(bodies),
            _Texts(ids),
            _Ints(stored),
        )
        self._hold_back(_UPDATE_CASES, columns, check)

    # -- every case ---------------------------------------------------------------------------
    def __len__(self) -> int:
        self._sync()
        row = self._fetchone("SELECT count(*) FROM cases", ())
        assert row is not None
        return int(row[0])

    def case_ids(self) -> Iterator[str]:
        """Every case id, in the order cases were added."""
        self._sync()
        rows = self._fetchall("SELECT id FROM cases ORDER BY position", ())
        return iter([row[0] for row in rows])

    def chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        """Every chain as stored (read from the database), in case id order."""
        self._sync()
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
                if row[1] is not None:
                    chain.append(entry_from_row(row))
            if current is not None:
                yield current, tuple(chain)

    # -- the review index -------------------------------------------------------------------
    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """The cases due at *now* and not leased to a worker, earliest first (at most *limit*)."""
        self._sync()
        rows = self._fetchall(_DUE, {"now": now, "limit": limit})  # type: ignore[arg-type]
        found = [row[0] for row in rows]
        self._batch_is(found, [row[1].astimezone(UTC) for row in rows])
        return found

    def leased_beyond(self, moment: datetime) -> list[tuple[str, datetime]]:
        """The cases leased to a worker until after *moment*, with the lease's end, in id order.

        `Engine.verify` asks for those leased further ahead than any tick leases.
        """
        self._sync()
        rows = self._fetchall(
            "SELECT case_id, lease_until FROM reviews WHERE lease_until > %s ORDER BY case_id",
            (moment,),
        )
        return [(case_id, until.astimezone(UTC)) for case_id, until in rows]

    def lease(self, now: datetime, limit: int, owner: str, ttl: timedelta) -> list[str]:
        """Take the debtors of up to *limit* due cases for *owner* until ``now + ttl``.

        A lease takes whole debtors: every due case of each debtor chosen,
        so a batch may hold more than *limit* cases, and a debtor's cases are
        never reviewed by two workers at once (caps over a debtor's loans hold
        under any number of workers).  Debtors with a case leased to another
        owner until after *now* are skipped, and so are those another worker
        is leasing at this instant.  The leased cases and their chains are
        read ahead together when the first of them is read.

        A lease taken in a transaction of its own commits without waiting
        for the server to flush it to disk (``synchronous_commit`` off for
        that transaction alone): a lease is not evidence, and the write-ahead
        log is flushed in order, so every later durable commit (the batch's
        intents first) makes the lease durable with it, and a server crash
        before that loses only the lease, whose batch then fails to commit
        (`LeaseLost`) and is due again.  It saves one disk flush per batch.
        """
        params: dict[str, Any] = {"now": now, "owner": owner, "until": now + ttl, "limit": limit}
        skip: list[str] = []
        rows: list[tuple[Any, ...]] = []
        with self.transaction():
            alone = len(self._levels) == 1  # its own transaction, not part of a caller's
            if alone:
                self._queued.append(_LEASE_COMMIT)
            self._sync()
            for _ in range(_LEASE_ROUNDS):
                params["skip"] = skip
                candidates = self._execute(_LEASE_CANDIDATES, params).fetchall()
                found = [debtor_id for debtor_id, _ in candidates]
                if not found:
                    break
                locked = [debtor_id for debtor_id, held in candidates if held]
                if locked:
                    params["debtors"] = locked
                    if alone:  # taken with the commit, in one round trip
                        self._hold_back(_LEASE_DEBTORS, params, rows.extend, stops=False)
                    else:
                        rows = self._execute(_LEASE_DEBTORS, params).fetchall()
                    break
                skip += found  # another worker is leasing each of them: look further
        rows.sort(key=lambda row: (row[1], row[0]))
        chosen = [row[0] for row in rows]
        self._batch_is(chosen, [row[1].astimezone(UTC) for row in rows])
        self._hold(owner, now, ttl, chosen)
        return chosen

    def _fence(
        self, owner: str, case_ids: list[str], until: datetime | None, *, strict: bool
    ) -> None:
        def check(found: list[tuple[Any, ...]]) -> None:
            kept = {row[0] for row in found}
            for case_id in case_ids:
                if case_id not in kept:  # another worker took it after the lease ran out
                    raise LeaseLost(case_id, owner)

        query = _GIVE_BACK if until is None else _RENEW
        params = {"ids": _Texts(case_ids), "owner": owner, "until": until}
        self._hold_back(query, params, check if strict else None)


def _debtor_key(schema: str | None, debtor_id: str) -> int:
    """The second key of the lock on *debtor_id* in *schema* (``""``: on every debtor of
    the schema, in its own space): a signed 32-bit hash."""
    key = zlib.crc32(f"{schema or ''}/{debtor_id}".encode())
    return key - (1 << 32) if key >= 1 << 31 else key


def _taken(err: psycopg.errors.UniqueViolation, entries: list[JournalEntry]) -> ConcurrencyConflict:
    """The conflict a journal key already taken means: the case another writer appended to."""
    case_id = _refused_id(err, [entry.case_id for entry in entries])
    seq = next(entry.seq for entry in entries if entry.case_id == case_id)
    return ConcurrencyConflict(case_id, seq)


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


def _refused_id(err: psycopg.errors.UniqueViolation, case_ids: Sequence[str]) -> str:
    """The case id a unique violation names (its key's detail), else the first one."""
    detail = err.diag.message_detail or ""
    for case_id in case_ids:
        if f"({case_id})" in detail or f"({case_id}," in detail:
            return case_id
    return case_ids[0] if case_ids else "?"
