"""Persistent stores: where cases, journal chains and the review schedule live on disk.

`SQLiteStore` keeps them in one SQLite file (the embedded default);
`PostgresStore` (``arrears.stores.postgres``, needs ``psycopg``) in a
PostgreSQL database for many workers on many hosts.  Both implement
`arrears.store.Store`, as `arrears.MemoryStore` does, and pass the same
contract tests.  `open_store` picks one from what the user names.

    >>> from arrears.stores import open_store            # doctest: +SKIP
    >>> with open_store("portfolio.db") as store:         # doctest: +SKIP
    ...     engine = Engine(policy=policy, store=store)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import ConcurrencyConflict, LeaseLost, SchemaMismatch, StoreBusy
from .sqlite import SQLiteStore

if TYPE_CHECKING:
    from .postgres import PostgresStore

# The errors only stores raise, at hand where stores are opened.
__all__ = [
    "ConcurrencyConflict",
    "LeaseLost",
    "PostgresStore",
    "SQLiteStore",
    "SchemaMismatch",
    "StoreBusy",
    "open_store",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(target: str | os.PathLike[str], **options: Any) -> SQLiteStore | PostgresStore:
    """Open the store *target* names: a PostgreSQL URL, or else an SQLite file.

    Args:
        target: ``postgresql://…`` (or ``postgres://…``) for `PostgresStore`;
            any other string or path is an SQLite file, created when missing.
        options: Passed on to the store's constructor.

    Raises:
        SchemaMismatch: the store's schema is newer than this library knows.
    """
    text = os.fspath(target)
    if isinstance(text, str) and text.startswith(_POSTGRES_SCHEMES):
        from .postgres import PostgresStore

        return PostgresStore(text, **options)
    return SQLiteStore(target, **options)


def __getattr__(name: str) -> Any:
    """`PostgresStore` is imported on first use: ``psycopg`` is an optional dependency."""
    if name == "PostgresStore":
        from .postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
