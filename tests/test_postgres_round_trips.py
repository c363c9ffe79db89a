"""How many times a PostgreSQL tick waits on the server for a batch, counted, not timed.

The protocol messages the store's connection sends and receives are traced by
libpq (``PQtrace``).  The client waits on the server once per simple
``Query`` message, once per ``Sync`` (a pipeline, or one statement of the
extended protocol) and once more for each ``COPY … FROM STDIN`` (its data
goes after the server said it is ready for it): the round trips, which do
not depend on the machine's load.  Each statement the server ran answers
with one ``CommandComplete``: the statements.

A batch of a leased tick whose reviews send a message costs:

* the lease: ``BEGIN``, the candidates (its own transaction, committed
  without waiting for the disk), then the leases taken with the ``COMMIT``;
* the read ahead of the batch's rows and chains (before any ``BEGIN``: a
  transaction that only reads them sends no ``COMMIT``);
* phase 1: ``BEGIN``, the debtors' locks and their cases with each one's stamp
  and last moment; then its writes (journal, schedule, lease renewal, case
  rows) in one pipeline; then the ``COMMIT``, once the checks passed;
* phase 3 (after sending): ``BEGIN``, the locks and the copies' stamps; the
  writes with the leases given back; the ``COMMIT``.

And a tick ends with a lease that finds nothing (two round trips).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _postgres import fresh_schema, postgres_url
from arrears import Engine, SettableClock
from arrears.channels import RecordingChannel
from arrears.policy import load_policy

POLICY = """\
id: round-trips
version: "1"
packs: [CN]
review: {time: "09:30"}
steps:
  - id: overdue-sms
    stages: [notified]
    when: {dpd_in: [1, 30]}
    send: {channel: sms}
"""
NOW = datetime(2026, 10, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
#: Loans by debtor: one debtor with three, two with one.
LOANS = {"D-1": ["L-1", "L-2", "L-3"], "D-2": ["L-4"], "D-3": ["L-5"]}

#: Round trips of one batch (lease 2, read ahead 1, phase 1 three, phase 3 three) and of
#: the lease that finds nothing at the end of the tick.
BATCH_TRIPS = 9
LAST_LEASE_TRIPS = 2


class _Traced:
    """The protocol messages of the pool's one connection, while traced (libpq's trace)."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.file = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed with the pool)

    @contextmanager
    def tracing(self) -> Iterator[None]:
        """Trace what is sent and received inside the block (and only that)."""
        from psycopg import pq

        with self.pool.connection() as conn:
            conn.pgconn.trace(self.file.fileno())
            conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield
        finally:
            with self.pool.connection() as conn:
                conn.pgconn.untrace()  # and libpq's buffer flushed to the file

    def messages(self) -> list[tuple[str, str]]:
        """Each message traced: who sent it (``F``: the client, ``B``: the server), its type."""
        self.file.seek(0)
        found = []
        for line in self.file.read().splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0] in ("F", "B"):
                found.append((parts[0], parts[2]))
        return found

    def round_trips(self) -> int:
        messages = self.messages()
        return sum(
            (side, kind) in (("F", "Query"), ("F", "Sync"), ("B", "CopyInResponse"))
            for side, kind in messages
        )

    def statements(self) -> int:
        return sum(kind == "CommandComplete" for _, kind in self.messages())


@pytest.fixture
def traced_engine(tmp_path: Path) -> Iterator[tuple[Engine, _Traced]]:
    from psycopg_pool import ConnectionPool

    from arrears.stores.postgres import PostgresStore

    url = postgres_url()
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    with fresh_schema(url) as schema:
        # One connection: none is opened (and set up) in the middle of the count; and no
        # statement prepared by psycopg at its fifth run (a round trip of its own, once).
        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=1,
            kwargs={"autocommit": True, "prepare_threshold": None},
            open=True,
        )
        traced = _Traced(pool)
        try:
            store = PostgresStore(schema=schema, pool=pool)
            clock = SettableClock(NOW - timedelta(hours=1))
            engine = Engine(
                policy=load_policy(tmp_path / "policy.yaml"),
                store=store,
                channels=[RecordingChannel(channels={"sms"})],
                clock=clock,
            )
            with store.transaction():
                for debtor_id, loans in LOANS.items():
                    for loan in loans:
                        engine.open_case(_loan(loan, debtor_id), at=NOW - timedelta(hours=1))
            clock.set(NOW)
            yield engine, traced
            store.close()
        finally:
            pool.close()
            traced.file.close()


def _loan(case_id: str, debtor_id: str) -> dict[str, Any]:
    return {
        "id": case_id,
        "debtor": {"id": debtor_id, "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "s", "channel": "sms", "address": "+8613912345678"}],
        "balance": {"currency": "CNY", "principal": "3000.00"},
        "due_date": "2026-10-01",
        "stage": "notified",
    }


def test_a_leased_batch_that_sends_waits_on_the_server_nine_times(
    traced_engine: tuple[Engine, _Traced],
) -> None:
    engine, traced = traced_engine

    with traced.tracing():
        report = engine.tick(NOW, owner="worker-1", batch=100)

    assert (report.reviewed, report.sent, report.errors) == (5, 5, [])
    assert traced.round_trips() == BATCH_TRIPS + LAST_LEASE_TRIPS
    # The lease: BEGIN, SET LOCAL, the candidates; the leases, COMMIT.  The copies (the
    # cases opened by this store) checked: 1.  Phase 1: BEGIN, 2 locks, the debtors' cases;
    # the entries, the lease renewed, the case rows; COMMIT.  Phase 3: BEGIN, 2 locks, the
    # copies checked; the entries, the schedule, the leases given back, the case rows;
    # COMMIT.  The last lease: BEGIN, SET LOCAL, the candidates (none), COMMIT.
    assert traced.statements() == 5 + 1 + 8 + 9 + 4
    assert not any(kind == "ErrorResponse" for _, kind in traced.messages())


def test_a_batch_of_many_cases_waits_no_more_than_a_batch_of_a_few(
    traced_engine: tuple[Engine, _Traced],
) -> None:
    """Round trips per batch, not per case: two batches cost twice one."""
    engine, traced = traced_engine

    with traced.tracing():  # a debtor at a time: three batches
        report = engine.tick(NOW, owner="worker-1", batch=1)

    assert (report.reviewed, report.errors) == (5, [])
    assert traced.round_trips() == 3 * BATCH_TRIPS + LAST_LEASE_TRIPS
