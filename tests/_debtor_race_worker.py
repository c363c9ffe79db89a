"""One writer of a two-process race on one debtor (run by test_debtor_process_races.py).

    python tests/_debtor_race_worker.py TARGET SCHEMA PAUSE CALL

*TARGET* is an SQLite file or a PostgreSQL URL (then *SCHEMA* is the schema;
``-`` for SQLite).  *CALL* is JSON: the `Engine` method (``op``), its
arguments (``args``, ``kwargs``: ``at`` as ISO text; for ``open_task`` the
second argument the fields of a `TaskAction`) and the engine's clock (``clock``,
ISO text).

Prints ``ready`` once the engine is built and waits for a line on standard
input (``go``).  *PAUSE* is where it stops once, in the first attempt of the
call, to print ``paused`` and wait for another line before going on:

``lock``
    when the unit of work first asks for a debtor's lock: after what the
    operation read to learn the debtor, before the lock is taken (on SQLite,
    inside ``BEGIN IMMEDIATE``: no other writer gets in meanwhile);
``commit``
    when the unit of work is about to commit: everything written, the debtor held;
``none``
    nowhere.

Then prints one JSON line: ``ok``, the error's class (``error``) and, for an
`InvalidInput`, its field (``field``).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import Any

import structlog

from arrears import ArrearsError, Engine, InvalidInput, SettableClock
from arrears.policy import TaskAction
from arrears.stores import open_store


def pause_at(store: Any, where: str) -> None:
    """Make *store* stop once at *where* (see the module) until a line comes in."""
    if where == "none":
        return
    name = {"lock": "lock_debtors", "commit": "_commit"}[where]
    original = getattr(store, name)

    def stop(*args: Any, **kwargs: Any) -> Any:
        setattr(store, name, original)  # once: a retry runs unhindered
        print("paused", flush=True)
        sys.stdin.readline()
        return original(*args, **kwargs)

    setattr(store, name, stop)


def arguments(call: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The call's positional and keyword arguments, times and task actions built."""
    kwargs = dict(call.get("kwargs", {}))
    if "at" in kwargs:
        kwargs["at"] = datetime.fromisoformat(kwargs["at"])
    args = list(call.get("args", []))
    if call["op"] == "open_task":
        args[1] = TaskAction(**args[1])
    return args, kwargs


def main() -> int:
    target, schema, where, text = sys.argv[1:5]
    structlog.configure(  # warnings to standard error: standard output is the report
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    call = json.loads(text)
    options: dict[str, Any] = {} if schema == "-" else {"schema": schema, "max_size": 1}
    store = open_store(target, **options)
    engine = Engine(store=store, clock=SettableClock(datetime.fromisoformat(call["clock"])))
    args, kwargs = arguments(call)
    print("ready", flush=True)
    sys.stdin.readline()
    pause_at(store, where)
    report: dict[str, Any] = {"ok": True, "error": None, "field": None}
    try:
        getattr(engine, call["op"])(*args, **kwargs)
    except ArrearsError as err:
        report.update(ok=False, error=type(err).__name__)
        if isinstance(err, InvalidInput):
            report["field"] = err.field
    finally:
        store.close()
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
