"""The databases the tests use: PostgreSQL's address, a fresh schema per test, and a
`Database` of either kind (an SQLite file or such a schema) to open stores on.

The address comes from ``ARREARS_TEST_POSTGRES``.  Without it the PostgreSQL
tests are skipped with a note saying how to run them; with it, a server that
cannot be reached fails them (CI sets it and must not pass by skipping).
"""

from __future__ import annotations

import atexit
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

ENV = "ARREARS_TEST_POSTGRES"
HOW = (
    f"PostgreSQL tests need a server: {ENV}=postgresql://postgres@127.0.0.1:5432/test "
    "python -m pytest"
)


def postgres_url() -> str:
    """The test database's address; skips without one, fails when it does not answer."""
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(HOW)
    psycopg = pytest.importorskip("psycopg", reason="pip install 'arrears[postgres]'")
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as err:
        pytest.fail(f"{ENV} is set to {url!r} but the server does not answer: {err}")
    return url


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A schema of its own (``t_<random>``), dropped with everything in it afterwards."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


class Database:
    """One test database, an SQLite file or a PostgreSQL schema of its own: stores opened
    on it (each closed when the test is done) and its SQL run by hand, as the tables' owner.
    Of kind ``memory``, one `MemoryStore`: each store opened on it is that store."""

    def __init__(self, kind: str, target: str, schema: str | None, stack: ExitStack) -> None:
        #: ``memory``, ``sqlite`` or ``postgres``.
        self.kind = kind
        #: What `arrears.stores.open_store` takes: the file's path, or the server's address.
        self.target = target
        #: The PostgreSQL schema; ``None`` for SQLite.
        self.schema = schema
        self._stack = stack
        self._memory: Any = None
        if kind == "memory":
            from arrears import MemoryStore

            self._memory = MemoryStore()

    def connect(self) -> Any:
        """A new store on this database (`SQLiteStore` or `PostgresStore`) that the caller
        closes (``with database.connect() as store:``); of kind ``memory``, its one
        `MemoryStore`."""
        from arrears.stores import open_store

        if self._memory is not None:
            return self._memory
        options: dict[str, Any] = {}
        if self.schema is not None:
            options = {"schema": self.schema, "max_size": 2}
        return open_store(self.target, **options)

    def open(self) -> Any:
        """A new store on this database, as `connect` makes it, closed when the test is
        done unless closed before."""
        store = self.connect()
        if store is not self._memory:
            self._stack.callback(_close, store)
        return store

    def sql(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run *query* (``?`` for each of *params*) as the tables' owner; rows if any."""
        assert self.kind != "memory", "a MemoryStore has no SQL"
        if self.schema is None:
            with closing(sqlite3.connect(self.target)) as db, db:
                return db.execute(query, tuple(params)).fetchall()
        if params:
            query = query.replace("?", "%s")
        return run_sql(self.target, self.schema, query, params)


def _close(store: Any) -> None:
    with suppress(sqlite3.ProgrammingError):  # an SQLite store closed already
        store.close()


@contextmanager
def database(kind: str, folder: Path) -> Iterator[Database]:
    """A fresh `Database` of *kind* (``memory``; ``sqlite``: ``arrears.db`` in *folder*;
    ``postgres``: a schema of its own, dropped afterwards, the test skipped without a
    server)."""
    with ExitStack() as stack:
        if kind in ("memory", "sqlite"):
            yield Database(
                kind, "" if kind == "memory" else str(folder / "arrears.db"), None, stack
            )
        else:
            url = postgres_url()
            schema = stack.enter_context(fresh_schema(url))
            # Registered after the schema: the stores close before it is dropped.
            yield Database(kind, url, schema, stack)


def run_sql(url: str, schema: str, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run *query* in *schema* by hand (as an operator with psql would); rows if any."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        cursor = conn.execute(query, tuple(params) or None)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def debtor_locks(
    url: str, *, waiting: bool = False, schema: str | None = None, debtors: Iterable[str] = ()
) -> int:
    """The debtor locks (`PostgresStore.lock_debtors`) held or awaited by any session;
    with *waiting*, only those a transaction waits for; with *schema*, only the locks on
    *debtors* of that schema and on every debtor of it (other tests' schemas, run at the
    same time against the same server, hold locks of their own)."""
    import psycopg

    from arrears.stores.postgres import _DEBTOR_SPACE, _EVERY_DEBTOR_SPACE, _debtor_key

    query = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        "AND classid IN (%s::oid, %s::oid)"
    )
    params: list[Any] = [_DEBTOR_SPACE, _EVERY_DEBTOR_SPACE]
    if schema is not None:  # pg_locks shows the signed keys as unsigned
        keys = [_debtor_key(schema, debtor) for debtor in ("", *debtors)]
        query += " AND objid::bigint = ANY(%s)"
        params.append([key & 0xFFFFFFFF for key in keys])
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query + (" AND NOT granted" if waiting else ""), params)
        found = row.fetchone()
    return 0 if found is None else int(found[0])


def pause_after_reading(store: Any, case_id: str, url: str, racer: threading.Thread) -> None:
    """Have *store* start *racer* once it has read *case_id*'s journal, and go on when
    the racer is done or waits for a debtor lock (at most ten seconds)."""
    read = store.entries

    def read_then_race(wanted: str) -> Any:
        found = read(wanted)
        if wanted == case_id and racer.ident is None:
            racer.start()
            deadline = time.monotonic() + 10
            while racer.is_alive() and time.monotonic() < deadline:
                if debtor_locks(url, waiting=True):
                    break
                time.sleep(0.01)
        return found

    store.entries = read_then_race


#: Schemas made for stores of the contract suite, by test folder; dropped at exit.
_CONTRACT_SCHEMAS: dict[str, str] = {}


def contract_store(folder: Path) -> Any:
    """A `PostgresStore` on a schema of *folder*'s own (the same one when asked again)."""
    url = postgres_url()
    from arrears.stores.postgres import PostgresStore

    key = str(folder)
    if key not in _CONTRACT_SCHEMAS:
        if not _CONTRACT_SCHEMAS:
            atexit.register(_drop_contract_schemas, url)
        _CONTRACT_SCHEMAS[key] = f"t_{secrets.token_hex(6)}"
    return PostgresStore(url, schema=_CONTRACT_SCHEMAS[key], max_size=2)


def _drop_contract_schemas(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for name in _CONTRACT_SCHEMAS.values():
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
