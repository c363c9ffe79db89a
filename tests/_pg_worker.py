"""One of several workers ticking the same PostgreSQL store (run by test_postgres_workers.py).

    python tests/_pg_worker.py URL SCHEMA OWNER START WALL LEASE [--stall-after N] [--policy FILE]

prints ``ready``, waits for a line on stdin, then ticks one batch at a time
until no case is due.  The tick's moment runs with the wall clock: *START*
(ISO) at wall-clock time *WALL* (seconds since the epoch), so leases of
*LEASE* seconds expire as real time passes.  Finally it prints a JSON line
with what it did.

SMS go to `Provider`, a stand-in for the SMS provider that keeps the keys it
delivered in the table ``provider_sent`` (primary key: the idempotency key)
and answers ``duplicate`` for a key it already has.  With ``--stall-after N`` the worker prints
``stalled`` right after the provider accepted its N-th message and hangs,
in the middle of a batch (intents journaled, results not), until it is
killed.  ``--policy`` runs another policy than the CN example.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import structlog

from arrears import Engine
from arrears.channels import OutboundMessage, SendResult
from arrears.policy import load_policy
from arrears.stores.postgres import PostgresStore

CN_POLICY = Path(__file__).resolve().parent.parent / "examples/policies/cn_consumer_loan.yaml"
BATCH = 50


class Provider:
    """An SMS provider that delivers each idempotency key at most once, whoever sends it."""

    channels = frozenset({"sms"})

    def __init__(self, url: str, schema: str, owner: str, stall_after: int | None) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(f"SET search_path TO {schema}")
        self.owner = owner
        self.stall_after = stall_after
        self.delivered = 0
        self.duplicates = 0

    def send(self, message: OutboundMessage) -> SendResult:
        fresh = self.conn.execute(
            "INSERT INTO provider_sent (key, case_id, worker) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO NOTHING",
            (message.key, message.case_id, self.owner),
        ).rowcount
        if not fresh:
            self.duplicates += 1
            return SendResult("duplicate", message.key, "already delivered")
        self.delivered += 1
        if self.delivered == self.stall_after:
            print("stalled", flush=True)
            time.sleep(3600)  # the test kills us here
        return SendResult("sent", message.key, "accepted")

    def delivery(self, key: str) -> None:
        return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("schema")
    parser.add_argument("owner")
    parser.add_argument("start", type=datetime.fromisoformat)
    parser.add_argument("wall", type=float)
    parser.add_argument("lease", type=float)
    parser.add_argument("--stall-after", type=int)
    parser.add_argument("--policy", type=Path, default=CN_POLICY)
    args = parser.parse_args()
    structlog.configure(  # warnings to standard error: standard output is the protocol
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )

    def now() -> datetime:
        return args.start + timedelta(seconds=time.time() - args.wall)

    class WallClock:
        """*START* at *WALL*, running as real time does (every worker's clock agrees)."""

        def now(self) -> datetime:
            return now()

    provider = Provider(args.url, args.schema, args.owner, args.stall_after)
    store = PostgresStore(args.url, schema=args.schema, max_size=2)
    engine = Engine(
        policy=load_policy(args.policy),
        store=store,
        channels=[provider],
        clock=WallClock(),
    )
    print("ready", flush=True)
    sys.stdin.readline()
    totals: dict[str, Any] = {"reviewed": 0, "sent": 0, "failed": 0, "ticks": 0, "errors": []}
    lease = timedelta(seconds=args.lease)
    while True:
        # One batch per tick, so each lease is measured from the moment it is taken.
        report = engine.tick(now(), owner=args.owner, lease_for=lease, batch=BATCH, limit=BATCH)
        totals["ticks"] += 1
        totals["reviewed"] += report.reviewed
        totals["sent"] += report.sent
        totals["failed"] += report.failed
        totals["errors"] += report.errors
        if report.reviewed == 0:
            # Stop only when no case is due at all: `store.due` leaves out the cases
            # leased to others, and a dead worker's stay leased until its lease runs out.
            left = provider.conn.execute(
                "SELECT count(*) FROM reviews WHERE review_at <= %s", (now(),)
            ).fetchone()
            if not left or not left[0]:
                break
            time.sleep(0.2)  # what is left is leased by others: wait for it, or for them
    totals["delivered"] = provider.delivered
    totals["duplicates"] = provider.duplicates
    store.close()
    provider.conn.close()
    print(json.dumps(totals), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
