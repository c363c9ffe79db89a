"""An import killed with SIGKILL half-way through its writes leaves nothing half-imported.

A worker process imports a portfolio of `ROWS` good rows into an SQLite file
or a PostgreSQL schema.  After it has opened `KILL_AT` cases (more than a
store holds in memory before writing them into its open transaction, so the
database has uncommitted rows when it dies) it says so in a marker file and
waits; the test then kills it with SIGKILL.  The store holds no case of the
portfolio, and importing the file again imports every row.

With ``--commit-every``, the batches committed before the kill stay, whole,
and importing again skips them as already imported and finishes the rest.

Run as a script, this file is the worker::

    python tests/test_import_kill.py TARGET SCHEMA PORTFOLIO MARKER KILL_AT [COMMIT_EVERY]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve()
AT = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
ROWS = 6_000
#: Cases opened when the worker stops to be killed: past the store's first spill.
KILL_AT = 5_200
TIMEOUT = 300


def portfolio(path: Path) -> Path:
    lines = ["id,debtor_id,name,timezone,locale,currency,principal,due_date,phone"]
    lines += [
        f"L-{n:05d},D-{n:05d},王小明,Asia/Shanghai,zh-CN,CNY,{1000 + n}.00,2026-09-01,+86138{n:08d}"
        for n in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def open_target(target: str, schema: str) -> Any:
    if target.startswith("postgresql://"):
        from arrears.stores.postgres import PostgresStore

        return PostgresStore(target, schema=schema, max_size=2)
    from arrears.stores import SQLiteStore

    return SQLiteStore(target)


def work(target: str, schema: str, path: Path, marker: Path, kill_at: int, every: int) -> None:
    """Import *path*; after *kill_at* cases are opened, touch *marker* and wait to be killed."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from arrears import Engine, SettableClock
    from arrears.importer import import_portfolio

    opened = Engine.open_case
    count = 0

    def counting(self: Engine, case: Any, **options: Any) -> Any:
        nonlocal count
        result = opened(self, case, **options)
        count += 1
        if count == kill_at:
            marker.write_text(str(count))
            time.sleep(TIMEOUT)  # mid-import, the transaction open: kill me here
        return result

    Engine.open_case = counting  # type: ignore[method-assign]
    with open_target(target, schema) as store:
        engine = Engine(store=store, clock=SettableClock(AT))
        import_portfolio(engine, path, commit_every=every or None)


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield str(tmp_path / "arrears.db"), ""
        return
    from _postgres import fresh_schema, postgres_url

    url = postgres_url()
    with fresh_schema(url) as schema:
        yield url, schema


def kill_mid_import(tmp_path: Path, target: tuple[str, str], every: int) -> Path:
    """Start a worker on a fresh portfolio, wait until it is mid-import, SIGKILL it."""
    path, marker = portfolio(tmp_path / "portfolio.csv"), tmp_path / "marker"
    args = [sys.executable, str(HERE), *target, str(path), str(marker), str(KILL_AT), str(every)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not marker.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the worker never reached the kill point"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL
    return path


def test_a_killed_import_leaves_nothing(tmp_path: Path, target: tuple[str, str]) -> None:
    """Killed with 5,200 of 6,000 cases opened in its transaction: none of them is stored;
    importing again imports all 6,000, and every chain verifies."""
    from arrears import Engine, SettableClock
    from arrears.importer import import_portfolio

    path = kill_mid_import(tmp_path, target, every=0)
    with open_target(*target) as store:
        assert len(store) == 0
        engine = Engine(store=store, clock=SettableClock(AT))
        report = import_portfolio(engine, path)
        assert (report.imported, report.already_imported, report.ok) == (ROWS, 0, True)
        assert len(store) == ROWS
        assert engine.verify() == []


def test_a_killed_import_in_batches_keeps_whole_batches(
    tmp_path: Path, target: tuple[str, str]
) -> None:
    """With ``commit_every=2000``, killed at 5,200: the two batches committed stay whole,
    and importing again skips them as already imported and opens the other 2,000."""
    from arrears import Engine, SettableClock
    from arrears.importer import import_portfolio

    path = kill_mid_import(tmp_path, target, every=2_000)
    with open_target(*target) as store:
        assert len(store) == 4_000
        assert max(store.case_ids()) == "L-03999"
        engine = Engine(store=store, clock=SettableClock(AT))
        report = import_portfolio(engine, path)
        assert (report.imported, report.already_imported, report.ok) == (2_000, 4_000, True)
        assert len(store) == ROWS


if __name__ == "__main__":
    target_, schema_, path_, marker_, kill_at_ = sys.argv[1:6]
    every_ = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    work(target_, schema_, Path(path_), Path(marker_), int(kill_at_), every_)
