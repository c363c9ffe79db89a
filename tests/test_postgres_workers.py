"""Four worker processes tick 10,000 due cases on PostgreSQL; one is killed half-way.
Four tick debtors with three loans each under a limit of one SMS a day per debtor.

Every case is due, in the stage whose policy step sends it one SMS today.
The workers (`_pg_worker.py`) lease batches of 50 (whole debtors);
one of them hangs right after its provider accepted a message in the middle
of a batch (its intents journaled, its results not) and is killed with
SIGKILL.  When its leases run out the others take its cases, send what it
had not sent and send again, with the same key, what it had (the provider
answers ``duplicate``).  Afterwards: every case reviewed exactly once, one
intent and one recorded result per case, every key delivered by the
provider exactly once, and every chain verifies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _postgres import fresh_schema, postgres_url, run_sql
from arrears import Engine, SettableClock
from arrears.policy import load_policy

pytest.importorskip("psycopg", reason="pip install 'arrears[postgres]'")

from arrears.stores.postgres import PostgresStore

WORKER = Path(__file__).with_name("_pg_worker.py")
CN_POLICY = Path(__file__).resolve().parent.parent / "examples/policies/cn_consumer_loan.yaml"
CASES = 10_000
WORKERS = 4
#: The victim hangs after its provider accepted this many messages (mid-batch: batches are 50).
STALL_AFTER = 75
LEASE_S = 5.0
#: The whole run takes about 30 s on two cores; a hung worker must not hang the suite.
TIMEOUT_S = 150
#: 09:30 in Shanghai, the policy's review time, a day after the loans fell due.
START = datetime(2026, 10, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def portfolio() -> list[dict[str, Any]]:
    return [
        {
            "id": f"L-{number:05}",
            "debtor": {"id": f"D-{number:05}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "contacts": [{"id": "s", "channel": "sms", "address": f"+86139{number:08}"}],
            "balance": {"currency": "CNY", "principal": f"{1000 + number % 9000}.00"},
            "due_date": "2026-10-01",
            "stage": "notified",
        }
        for number in range(CASES)
    ]


def start_worker(
    url: str, schema: str, owner: str, wall: float, *extra: str, lease_s: float = LEASE_S
) -> Any:
    command = [sys.executable, str(WORKER), url, schema, owner, START.isoformat(), str(wall)]
    return subprocess.Popen(
        [*command, str(lease_s), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def go(workers: list[Any]) -> None:
    """Wait until every worker is ready, then start them all at once."""
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()


def finished(worker: Any) -> dict[str, Any]:
    """What a worker that ran to the end reports (its last line)."""
    output, _ = worker.communicate(timeout=TIMEOUT_S)
    assert worker.returncode == 0
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def reap(workers: list[Any]) -> None:
    """Kill the workers still running and close every pipe."""
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        for pipe in (worker.stdin, worker.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


@pytest.fixture(scope="module")
def url() -> str:
    return postgres_url()


def test_four_workers_one_killed_every_case_sent_once(url: str) -> None:
    policy = load_policy(CN_POLICY)
    with fresh_schema(url) as schema:
        with PostgresStore(url, schema=schema) as store:
            engine = Engine(policy=policy, store=store, clock=SettableClock(START))
            with store.transaction():  # one bulk load
                engine.open_cases(portfolio(), at=START - timedelta(hours=1))
        run_sql(
            url,
            schema,
            "CREATE TABLE provider_sent "
            "(key text PRIMARY KEY, case_id text NOT NULL, worker text NOT NULL)",
        )
        wall = time.time()
        workers = [
            start_worker(url, schema, f"worker-{number}", wall, *extra)
            for number, extra in enumerate(
                [("--stall-after", str(STALL_AFTER)), (), (), ()][:WORKERS]
            )
        ]
        victim, others = workers[0], workers[1:]
        try:
            go(workers)
            assert victim.stdout.readline().strip() == "stalled"
            victim.send_signal(signal.SIGKILL)
            victim.wait(TIMEOUT_S)
            results = [finished(worker) for worker in others]
        finally:
            reap(workers)
        assert victim.returncode == -signal.SIGKILL
        assert not any(result["errors"] for result in results), results
        # The survivors took the victim's leased batch: some of its messages had been
        # delivered (sent again with the same key: "duplicate"), the rest had not.
        assert sum(result["duplicates"] for result in results) > 0

        sql = lambda query: run_sql(url, schema, query)  # noqa: E731

        # Every key delivered exactly once (the provider's primary key), for every case.
        assert sql("SELECT count(*), count(DISTINCT case_id) FROM provider_sent") == [
            (CASES, CASES)
        ]
        # One intent per case, one result per intent, one review per case: nothing twice.
        for kind in ("outbox_intent", "interaction", "review"):
            assert sql(
                f"SELECT count(*), count(DISTINCT case_id) FROM journal WHERE kind = '{kind}'"
            ) == [(CASES, CASES)], kind
        # Every intent was delivered under its key, and its result recorded with it.
        assert sql(
            "SELECT count(*) FROM journal j JOIN provider_sent p "
            "ON p.key = (convert_from(j.body, 'UTF8')::jsonb -> 'data' ->> 'key') "
            "WHERE j.kind = 'interaction'"
        ) == [(CASES,)]
        # Every case scheduled again, for a later day.
        assert sql(f"SELECT count(*) FROM reviews WHERE review_at <= '{START.isoformat()}'") == [
            (0,)
        ]
        # The victim finished its first batch itself; the survivors did the rest.
        assert sum(result["reviewed"] for result in results) == CASES - 50

        with PostgresStore(url, schema=schema) as store:
            check = Engine(policy=policy, store=store)
            assert check.verify() == []
            for case_id in ("L-00000", "L-05000", "L-09999"):
                assert check.replay(case_id) == check.case(case_id)


#: Debtors of the per-debtor test, each with `LOANS` loans.
DEBTORS = 600
LOANS = 3


def what_happened(url: str, schema: str, prefixes: list[str], results: Any) -> str:
    """What the store and the provider hold about the loans whose ids start with *prefixes*."""
    lines = [f"workers: {results}"]
    for prefix in prefixes:
        lines += map(
            str,
            run_sql(
                url,
                schema,
                f"SELECT key, case_id, worker FROM provider_sent WHERE case_id LIKE '{prefix}%' "
                "ORDER BY key",
            ),
        )
        lines += map(
            str,
            run_sql(
                url,
                schema,
                "SELECT case_id, seq, kind, at, convert_from(body, 'UTF8') FROM journal "
                f"WHERE case_id LIKE '{prefix}%' ORDER BY at, case_id, seq",
            ),
        )
    return "\n".join(lines)


def debtors_portfolio() -> list[dict[str, Any]]:
    """Loan *k* of debtor *d* is ``L-d-k``: in id order a debtor's loans lie side by side,
    and every 50 cases (a batch) one debtor's loans straddle two batches that two
    workers lease at the same moment, unless leases take whole debtors."""
    return [
        {
            "id": f"L-{debtor:04}-{loan}",
            "debtor": {"id": f"D-{debtor:04}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "contacts": [{"id": "s", "channel": "sms", "address": f"+86139{debtor:08}"}],
            "balance": {"currency": "CNY", "principal": f"{1000 + 7 * debtor + loan}.00"},
            "due_date": "2026-10-01",
            "stage": "notified",
        }
        for debtor in range(DEBTORS)
        for loan in range(LOANS)
    ]


#: A second step sending an SMS on the same loans at the same review.
SECOND_SMS = """steps:
  - id: second-sms
    stages: [notified]
    send: {channel: sms, purpose: reminder}
"""


@pytest.mark.parametrize("steps", [1, 2])
def test_four_workers_keep_a_per_debtor_limit_over_three_loans_each(
    url: str, tmp_path: Path, steps: int
) -> None:
    """Every loan's step sends an SMS today (with *steps* 2, two steps each do); the
    policy allows one a day per debtor.  Four workers lease whole debtors: each debtor
    gets exactly one SMS, every loan is reviewed exactly once, and the other messages
    are denied by the limit, those of the loan that sent one included."""
    text = CN_POLICY.read_text(encoding="utf-8").replace(
        "templates: ../templates", f"templates: {CN_POLICY.parent.parent / 'templates'}"
    )
    if steps == 2:
        text = text.replace("steps:\n", SECOND_SMS, 1)
    policy_file = tmp_path / "per_debtor.yaml"
    policy_file.write_text(text + "per_debtor:\n  - {channels: [sms], limit: 1}\n", "utf-8")
    policy = load_policy(policy_file)
    cases = DEBTORS * LOANS
    with fresh_schema(url) as schema:
        with PostgresStore(url, schema=schema) as store:
            engine = Engine(policy=policy, store=store, clock=SettableClock(START))
            with store.transaction():
                engine.open_cases(debtors_portfolio(), at=START - timedelta(hours=1))
        run_sql(
            url,
            schema,
            "CREATE TABLE provider_sent "
            "(key text PRIMARY KEY, case_id text NOT NULL, worker text NOT NULL)",
        )
        wall = time.time()
        workers = [
            # No worker dies here: a lease longer than any batch takes on a loaded machine
            # (a lease that runs out mid-batch lets another worker review the debtor too).
            start_worker(
                url, schema, f"worker-{number}", wall, "--policy", str(policy_file), lease_s=120
            )
            for number in range(WORKERS)
        ]
        try:
            go(workers)
            results = [finished(worker) for worker in workers]
        finally:
            reap(workers)
        assert not any(result["errors"] for result in results), results
        # The work was shared: more than one worker reviewed loans.
        assert sum(1 for result in results if result["reviewed"]) > 1, results

        sql = lambda query: run_sql(url, schema, query)  # noqa: E731

        # Exactly one SMS per debtor, none twice.
        twice = sql(
            "SELECT split_part(case_id, '-', 2) FROM provider_sent GROUP BY 1 HAVING count(*) > 1"
        )
        assert twice == [], what_happened(url, schema, [f"L-{d}-" for (d,) in twice], results)
        assert sql(
            "SELECT count(*), count(DISTINCT split_part(case_id, '-', 2)) FROM provider_sent"
        ) == [(DEBTORS, DEBTORS)]
        # Every loan reviewed exactly once.
        assert sql(
            "SELECT count(*), count(DISTINCT case_id) FROM journal WHERE kind = 'review'"
        ) == [(cases, cases)]
        # The other loans' messages were denied by the policy's limit, and by nothing else.
        denied = sql(
            "SELECT count(*), count(DISTINCT case_id) FROM journal "
            "WHERE kind = 'contact_denied' AND jsonb_path_query_array("
            "convert_from(body, 'UTF8')::jsonb, '$.data.reasons[*].rule') "
            "= '[\"POLICY-PER-DEBTOR-1\"]'"
        )
        if steps == 1:
            assert denied == [(cases - DEBTORS, cases - DEBTORS)]
        else:  # every loan has a message denied: the one that sent has its second denied
            assert denied == [(2 * cases - DEBTORS, cases)]
        with PostgresStore(url, schema=schema) as store:
            assert Engine(policy=policy, store=store).verify() == []
