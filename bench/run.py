"""The one entry point for every benchmark of `arrears`.

    python bench/run.py [NAME...] [--quick]

prints one JSON object per line, e.g.::

    {"bench": "load_and_fire", "n": 100000, "ours_s": ..., "baseline_s": ...,
     "time_ratio": ..., "ours_peak_mb": ..., "baseline_peak_mb": ..., "memory_ratio": ...}

Each side runs in a process of its own, so one side's garbage and peak memory
never count against the other.  Peak memory is the growth of the process's
resident set during the measured work (the inputs are built before it).
``--quick`` uses small sizes (`SIZES`): every benchmark together finishes in
about a minute on a 2-core machine (half of it ``tick_postgres``, most of
that loading its schemas; up to two while other work shared the cores).

The floor
    Machines differ by up to twice for this code, and one machine by a third
    from hour to hour, so a tick's seconds are read against a *floor*
    measured in the same run: the least work a due case needs, written
    plainly in this file without the library.  For every case the tick
    reviews (the same due cases, ids in the same order), the floor reads the
    case's row from the same kind of store (a dict for ``tick_memory``, the
    ``cases`` table of the tick's SQLite file or PostgreSQL schema: details
    under each benchmark), seals one
    ``review`` entry on its chain (canonical JSON: sorted keys, no spaces,
    UTF-8, as `arrears.journal` writes it; then SHA-256 of those bytes),
    inserts the entry's journal row and updates the case's row (version,
    chain head, and its body written back as read, not re-encoded), in
    batches of the tick's batch size (500), one transaction each (a dict
    has none).  It does nothing else: it is handed
    the due ids (no query of the review index, no schedule moved), validates
    nothing, renders, judges and sends nothing, and runs with the garbage
    collector paused.  ``floor_s`` is its time, ``floor_us_per_due_case``
    the same per due case, and ``floor_ratio`` is ``ours_s / floor_s``: how
    many times the least possible work the tick takes (lower is better; it
    cannot reach 1).  Since the floor does not call `arrears`, it is the
    same work for every revision that ``bench/compare.py`` puts side by side.

Benchmarks:

``load_and_fire``
    Open *n* cases in an `Engine` and fire ``notify`` on each (journal entries
    sealed and hashed), against the naive way: one `transitions.Machine` per
    case, attached to it.  The naive side needs about 200 KB per case, so past
    ``BASELINE_CAP`` cases it is measured on that many and scaled linearly
    (measured on 50,000 it costs the same per case as on 20,000, about
    3.3 ms); ``baseline_n`` says how many were really built.

``judge_contact``
    Judge *n* proposed contacts (calls, SMS and e-mails at times of day that
    fall inside and outside the window) for cases that each have 200 journal
    entries, under ``US-MA`` (Regulation F with the Massachusetts overlay, the
    largest rule set).  ``ours_s`` is the total time of the *n* judgments
    through `Engine.judge_contact`, which keeps each case's contact history
    folded; the baseline folds the journal again for every judgment, as a
    judge that reads the raw journal would.  The target is under 50 µs per
    judgment (``ours_us_per_judgment``).
    ``debtors_us_per_judgment`` is the same judgments with the 50 cases
    belonging to 10 debtors of 5 cases each (every rule reads the debtor's
    history across their loans too; the target is the same 50 µs), and
    ``debtors_ratio`` its time over the one-case-per-debtor run's.

``tick_memory``
    One `Engine.tick` over *n* in-memory cases (1,000,000; ``--quick``
    20,000) under the CN example policy, 20% of them due.  The cases are CN
    consumer loans (CNY, Asia/Shanghai, due dates spread over the last 90
    days, a payday rule on every fourth), each opened in the stage its days
    past due lead to, so the tick does a day's ordinary work: reminders on
    the policy's days, calls and visits as tasks, few escalations.  Opening
    them (`Engine.open_cases`) is not timed; ``ours_s`` is the tick alone,
    with SMS sent through an adapter that only answers ``sent``.
    ``us_per_due_case`` is the tick's time per reviewed case, ``gc_s`` the
    part of it the cyclic garbage collector took, ``peak_mb`` the process's
    peak resident set (portfolio included) and ``tick_mb`` the growth of the
    resident set during the tick.  The target is under 5 s on one core
    (``target_s``).  A million cases need about 8 GB of memory.  The floor
    runs in the same process after the tick, with the engine gone, on a dict
    of *n* rows (version, chain head: a 64-digit hash standing for each
    case's ``opened`` entry) and a list per chain.

``tick_sqlite``
    One `Engine.tick` over *n* cases in an SQLite file (1,000,000;
    ``--quick`` 20,000), 20% of them due: the same portfolio and policy as
    ``tick_memory``, SMS through a `RecordingChannel`, every journal entry
    and case update written to the file (WAL, ``synchronous=NORMAL``) in the
    tick's batch transactions.  Building the file is not timed: the cases go
    through `Engine.open_case` (validated and sealed as always) into a bulk
    loader that inserts their rows with ``executemany``, 10,000 at a time,
    instead of a transaction per case.  ``ours_s`` is the tick alone, on a
    store opened afresh (nothing cached), ``us_per_due_case`` per reviewed
    case, ``entries`` the journal entries it wrote, ``db_mb`` the file's size
    after the tick.  The target is under 20 s on one core (``target_s``).
    With ``ARREARS_BENCH_PROFILE=FILE`` the tick runs under cProfile and its
    statistics are written to *FILE*.  The floor runs in the same process
    after the tick, on a copy of the file made before the tick, through a
    connection set up as `SQLiteStore` sets up its own (WAL,
    ``synchronous=NORMAL``, a 64 MiB page cache, ``BEGIN IMMEDIATE``).
    ``debtors3_us_per_due_case`` is the same tick on the same portfolio with
    three adjacent loans to each debtor (the store leases whole debtors, every
    cap reads the debtor's history over their loans), and ``debtors3_ratio``
    its cost per due case over the one-loan-per-debtor run's.

``tick_postgres``
    The same tick as ``tick_sqlite`` (CN policy, 20% due; *n* 100,000,
    ``--quick`` 10,000) on a `PostgresStore`, shared by one and then by two
    worker processes that lease batches of 500 (``owner=``), the batch of
    `Engine.tick` and of ``tick_sqlite``: a batch's round trips and its two
    durable commits are spread over as many cases as on SQLite; each run loads
    a fresh schema in one transaction (``COPY``, not timed) and drops it
    afterwards.  ``one_worker_s`` and ``two_workers_s`` are wall times from
    the start signal to the last worker's end; ``speedup`` is their ratio
    (target at least 1.6 on two cores: ``target_speedup``), checked with every
    due case reviewed exactly once.  The database is ``ARREARS_BENCH_POSTGRES``
    (default ``postgresql://postgres@127.0.0.1:5432/test``); without a server
    that answers, the line says ``skipped`` and why.  The floor runs in a
    process of its own on the one-worker run's schema, after its tick (each
    due case's chain then holds the tick's entries too; the floor appends
    one more); its ``floor_ratio`` is ``one_worker_s / floor_s``.

``journal_checkpoint``
    The evidence against a database writer, on *n* CN cases in an SQLite
    file (100,000; ``--quick`` 20,000), built as for ``tick_sqlite`` and
    then ticked once (20% due), so a due case's chain holds the tick's
    entries too.  Each step runs on a store opened afresh: ``verify_s`` is
    `Engine.verify` (every chain against its head, every case replayed and
    compared with the stored one), the faster of a run before the others
    and one after them; ``checkpoint_s`` is
    `Engine.checkpoint` with an Ed25519 key and the line appended to a
    file; ``anchored_s`` is reading that file, folding its heads and
    checking their Merkle root (`CheckpointLog.anchors`) and
    ``Engine.verify(anchors)``.  ``checkpoint_ratio`` and
    ``anchored_ratio`` are those times over ``verify_s`` in the same run,
    ``checkpoint_cpu_ratio`` and ``anchored_cpu_ratio`` the same in CPU
    time (steadier on a shared machine); ``checkpoint_kb`` is the
    checkpoint line's size.

``verify_schedule``
    `Engine.verify` over *n* open cases of one entry each (20,000;
    ``--quick`` too), every one on the review schedule, in an SQLite file
    and on a PostgreSQL schema (``ARREARS_BENCH_POSTGRES``; skipped, saying
    why, without a server).  ``check_ratio`` is the schedule check alone,
    every open case asked of the store at once (``scheduled``, one query)
    over a case at a time (``next_review``, as `verify` asked before);
    ``verify_ratio`` is the whole `verify` with the first over `verify` with
    the second, in the same run (best of three each).

``simulate``
    `arrears.simulate.Simulation` of *n* synthetic Chinese consumer-finance
    cases (100,000; ``--quick`` 1,000) under the CN example policy for 30
    simulated days in memory: a tick every simulated hour, agents working the
    call and visit tasks (every dial judged first), debtors paying and
    promising.  ``ours_s`` is the run (opening the cases included, building
    the records not), ``us_per_case_day`` the same per case and day,
    ``kpi_s`` the KPIs read back from the whole journal, ``peak_mb`` the
    process's peak resident set.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

BASELINE_CAP = 20_000
#: Each benchmark's *n*: with ``--quick``, and without.
SIZES: dict[str, tuple[int, int]] = {
    "load_and_fire": (5_000, 100_000),
    "judge_contact": (20_000, 200_000),
    "tick_memory": (20_000, 1_000_000),
    "tick_sqlite": (20_000, 1_000_000),
    "tick_postgres": (10_000, 100_000),
    "simulate": (1_000, 100_000),
    "journal_checkpoint": (20_000, 100_000),
    "journal_debtors": (300, 2_000),
    "verify_schedule": (20_000, 20_000),
}
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _quiet_logs() -> None:
    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=True,
    )


def portfolio(n: int) -> list[dict[str, Any]]:
    """*n* case records as a loan system would hand them over (plain JSON-like dicts)."""
    zones = ("Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Urumqi")
    records = []
    for i in range(n):
        cny = i % 3 != 0
        records.append(
            {
                "id": f"L-{i:08d}",
                "debtor": {
                    "id": f"D-{i:08d}",
                    "name": "Zhang San" if cny else "Jane Doe",
                    "timezone": zones[i % len(zones)],
                    "locale": "zh-CN" if cny else "en-US",
                },
                "contacts": [
                    {"id": "mobile", "channel": "call", "address": f"+86138{i:08d}"},
                    {"id": "sms", "channel": "sms", "address": f"+86138{i:08d}"},
                ],
                "balance": {
                    "currency": "CNY" if cny else "USD",
                    "principal": f"{1000 + i % 5000}.00",
                    "interest": "52.10",
                    "fees": "15.00",
                    "penalty": "8.40",
                    "not_due": "3000.00",
                },
                "due_date": "2026-09-01",
            }
        )
    return records


# -- workers: each runs in its own process -------------------------------------------
def _work_ours_load_and_fire(n: int) -> dict[str, Any]:
    _quiet_logs()
    from arrears import Engine, SettableClock

    at = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    engine = Engine(clock=SettableClock(at))
    records = portfolio(n)
    before = _rss_mb()
    start = time.perf_counter()
    engine.open_cases(records)
    for record in records:
        engine.fire(record["id"], "notify")
    seconds = time.perf_counter() - start
    assert len(engine.store) == n
    return {"seconds": seconds, "peak_mb": _peak_mb() - before}


def _work_baseline_load_and_fire(n: int) -> dict[str, Any]:
    from transitions import Machine

    from arrears import Case, Workflow

    definition = Workflow().definition
    states = list(definition.stages)
    transitions = [
        {"trigger": spec.trigger, "source": list(spec.sources), "dest": spec.dest}
        for spec in definition.transitions
    ]

    class Account:
        """The naive holder: a validated case and the stage its own machine keeps."""

        def __init__(self, case: Case) -> None:
            self.case = case
            self.stage = case.stage

    records = portfolio(n)
    before = _rss_mb()
    start = time.perf_counter()
    accounts = []
    for record in records:
        account = Account(Case.model_validate(record))
        Machine(
            model=account,
            states=states,
            transitions=transitions,
            initial="pre_due",
            model_attribute="stage",
        )
        accounts.append(account)
    for account in accounts:
        account.notify()  # type: ignore[attr-defined]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb() - before}


JUDGED_CASES = 50
JOURNAL_LENGTH = 200
#: Cases per debtor in the debtors' variant of ``judge_contact``.
DEBTOR_CASES = 5


def _judging_engine(per_debtor: int = 1) -> tuple[Any, list[tuple[str, Any, datetime]]]:
    """Cases with 200 journal entries each, *per_debtor* cases to a debtor, and a cycle of
    proposals to judge."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from arrears import Engine, SettableClock
    from arrears.compliance import Compliance, Proposal

    zone = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 1, 9, 0, tzinfo=zone)
    engine = Engine(compliance=Compliance(["US-MA"]), clock=SettableClock(start))
    outcomes = ("no_answer", "voicemail", "no_answer", "busy", "conversation", "not_connected")
    for number in range(JUDGED_CASES):
        case_id = f"L-{number:04d}"
        engine.open_case(
            {
                "id": case_id,
                "debtor": {"id": f"D-{number // per_debtor:04d}", "timezone": "America/New_York"},
                "contacts": [
                    {"id": "mobile", "channel": "call", "address": "+16175550123"},
                    {"id": "sms", "channel": "sms", "address": "+16175550123"},
                    {"id": "email", "channel": "email", "address": "j@example.com"},
                    {"id": "office", "channel": "call", "address": "+16175550999", "work": True},
                ],
                "balance": {"currency": "USD", "principal": "1250.00"},
                "due_date": "2026-02-01",
                "stage": "phone",
            }
        )
        engine.record_notice(case_id, "validation", at=start)
        moment = start
        for step in range(JOURNAL_LENGTH - 3):
            moment += timedelta(hours=14 + (step * 7 + number) % 29)
            if step % 40 == 7:
                engine.record_consent(case_id, "call", at=moment)
            else:
                channel, contact = ("sms", "sms") if step % 5 == 0 else ("call", "mobile")
                outcome = "delivered" if channel == "sms" else outcomes[(step + number) % 6]
                engine.record_interaction(case_id, channel, outcome, contact=contact, at=moment)
        engine.record_opt_out(case_id, "email", at=moment)
        assert len(engine.history(case_id)) == JOURNAL_LENGTH
    proposals = [
        Proposal(channel="call", contact="mobile"),
        Proposal(channel="sms", contact="sms", text="From a debt collector. Reply STOP to end."),
        Proposal(channel="call", contact="office"),
        Proposal(channel="email", contact="email"),
    ]
    last = max(engine.store.last_entry(f"L-{n:04d}").at for n in range(JUDGED_CASES))
    work = []
    for number in range(JUDGED_CASES * 8):
        at = last + timedelta(days=number % 9, hours=(number * 7) % 24, minutes=number % 60)
        work.append((f"L-{number % JUDGED_CASES:04d}", proposals[number % 4], at))
    return engine, work


def _work_ours_judge_contact(n: int, per_debtor: int = 1) -> dict[str, Any]:
    _quiet_logs()
    engine, work = _judging_engine(per_debtor)
    for case_id, proposal, at in work:  # warm: each case's history folded once
        engine.judge_contact(case_id, proposal, at=at, record=False)
    allowed = 0
    start = time.perf_counter()
    for number in range(n):
        case_id, proposal, at = work[number % len(work)]
        allowed += engine.judge_contact(case_id, proposal, at=at, record=False).allowed
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": 0.0, "allowed": allowed}


def _work_ours_judge_contact_debtors(n: int) -> dict[str, Any]:
    return _work_ours_judge_contact(n, DEBTOR_CASES)


def _work_baseline_judge_contact(n: int) -> dict[str, Any]:
    _quiet_logs()
    from arrears.compliance import ContactHistory

    engine, work = _judging_engine()
    judge = engine.compliance.judge
    allowed = 0
    start = time.perf_counter()
    for number in range(n):
        case_id, proposal, at = work[number % len(work)]
        history = ContactHistory.from_entries(engine.history(case_id))
        allowed += judge(engine.store.get(case_id), history, proposal, at).allowed
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": 0.0, "allowed": allowed}


TICK_DUE_SHARE = 0.2
TICK_TARGET_S = 5.0
#: The portfolio is opened the evening before the tick, so the tick is a day's
#: steady-state tick (a case's review on its day of opening is always journaled,
#: whatever it does; later reviews only when they record something).
OPENED_BEFORE = timedelta(hours=15)


def cn_portfolio(n: int, today: date) -> list[dict[str, Any]]:
    """*n* CN consumer loans, due from 0 to 89 days ago, each in the stage it would be in."""
    records = portfolio(n)
    for i, record in enumerate(records):
        overdue = (i * 7919) % 90
        record["debtor"].update(name="王小明", timezone="Asia/Shanghai", locale="zh-CN")
        if i % 4 == 0:
            record["debtor"]["payday"] = "FREQ=MONTHLY;BYMONTHDAY=15"
        record["balance"].update(currency="CNY", principal=f"{1000 + (i * 37) % 30000}.00")
        record["due_date"] = (today - timedelta(days=overdue)).isoformat()
        # The stage the CN policy's escalations would have reached by now.
        if overdue >= 45:
            record["stage"] = "field_visit"
        elif overdue >= 15:
            record["stage"] = "phone"
        elif overdue >= 3:
            record["stage"] = "sms"
        elif overdue >= 1:
            record["stage"] = "notified"
    return records


class _SentSms:
    """An SMS adapter that accepts everything at once (the host's gateway is not measured)."""

    channels = frozenset({"sms"})

    def send(self, message: Any) -> Any:
        from arrears.channels import SendResult

        return SendResult("sent", None, "accepted")

    def delivery(self, key: str) -> None:
        return None


# -- the floor: the least work a due case needs (see the module's docstring) ---------------
#: Cases per batch: `Engine.tick`'s default, used by the memory and SQLite ticks.
TICK_BATCH = 500
#: Cases per lease in the PostgreSQL workers: the tick's batch, as on SQLite.  A batch
#: waits on the server a fixed number of times (`tests/test_postgres_round_trips.py`) and
#: commits twice to disk; in batches of 100 those waits, not the work, were most of one
#: worker's time per due case, and even of its CPU time (see docs/performance.md).
POSTGRES_BATCH = TICK_BATCH


def _tick_now() -> datetime:
    """The moment of every tick benchmark: 09:30 in Shanghai, as UTC."""
    from zoneinfo import ZoneInfo

    return datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def _portfolio_ids(n: int) -> list[str]:
    """The case ids `portfolio` gives *n* cases; every fifth (from the first) is due."""
    return [f"L-{number:08d}" for number in range(n)]


def _floor_review(now: datetime) -> tuple[str, dict[str, Any]]:
    """The floor entry's moment as text and its data: what a review that acted on nothing says."""
    upcoming = (now + timedelta(days=1)).isoformat()
    return now.isoformat(), {
        "next_review_at": upcoming,
        "policy": ["cn-consumer-loan", "2026.11"],
        "steps": [],
    }


def _floor_seal(
    case_id: str, seq: int, at: str, data: dict[str, Any], prev: str
) -> tuple[bytes, str]:
    """A ``review`` entry's canonical JSON body and its SHA-256 (hex), as the journal seals one."""
    body = orjson.dumps(
        {"at": at, "case_id": case_id, "data": data, "kind": "review", "prev": prev, "seq": seq},
        option=orjson.OPT_SORT_KEYS,
    )
    body = memoryview(body).tobytes()  # orjson's bytes keep its write buffer: copy them exact
    return body, hashlib.sha256(body).hexdigest()


@contextlib.contextmanager
def _collector_paused() -> Any:
    """The garbage collector off for the block (as the tick runs), after one full pass."""
    running = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def _floor_memory(case_ids: list[str], due: list[str], now: datetime) -> float:
    """The floor on a dict of the cases' rows (version, chain head) and a list per chain."""
    rows = {case_id: (1, 0, hashlib.sha256(case_id.encode()).hexdigest()) for case_id in case_ids}
    chains: dict[str, list[tuple[Any, ...]]] = {case_id: [] for case_id in case_ids}
    at, data = _floor_review(now)
    with _collector_paused():
        start = time.perf_counter()
        for first in range(0, len(due), TICK_BATCH):
            for case_id in due[first : first + TICK_BATCH]:
                version, seq, prev = rows[case_id]
                body, digest = _floor_seal(case_id, seq + 1, at, data, prev)
                chains[case_id].append((case_id, seq + 1, "review", at, body, digest))
                rows[case_id] = (version + 1, seq + 1, digest)
        seconds = time.perf_counter() - start
    assert sum(map(len, chains.values())) == len(due)
    return seconds


def _floor_sqlite(path: Path, due: list[str], now: datetime) -> float:
    """The floor on an SQLite file, connected as `SQLiteStore` connects."""
    import sqlite3

    at, data = _floor_review(now)
    db = sqlite3.connect(str(path), isolation_level=None, cached_statements=64)
    updated = 0
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA cache_size = -65536")
        with _collector_paused():
            start = time.perf_counter()
            for first in range(0, len(due), TICK_BATCH):
                chunk = due[first : first + TICK_BATCH]
                db.execute("BEGIN IMMEDIATE")
                found = db.execute(
                    "SELECT id, version, head_seq, head_hash, body FROM cases "
                    f"WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                entries, cases = [], []
                for case_id, version, seq, prev, case_body in found:
                    body, digest = _floor_seal(case_id, seq + 1, at, data, prev)
                    entries.append((case_id, seq + 1, "review", at, body, digest))
                    cases.append((version + 1, seq + 1, digest, case_body, case_id, version))
                db.executemany(
                    "INSERT INTO journal (case_id, seq, kind, at, body, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    entries,
                )
                done = db.executemany(
                    "UPDATE cases SET version = ?, head_seq = ?, head_hash = ?, body = ? "
                    "WHERE id = ? AND version = ?",
                    cases,
                )
                db.execute("COMMIT")
                updated += done.rowcount
            seconds = time.perf_counter() - start
    finally:
        db.close()
    assert updated == len(due), (updated, len(due))
    return seconds


def _work_ours_tick_memory(n: int) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    _quiet_logs()
    from arrears import Engine, SettableClock
    from arrears.policy import load_policy

    policy = load_policy(
        Path(__file__).resolve().parents[1] / "examples/policies/cn_consumer_loan.yaml"
    )
    now = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    opened = now - OPENED_BEFORE
    engine = Engine(policy=policy, channels=[_SentSms()], clock=SettableClock(opened))
    records = cn_portfolio(n, now.date())
    engine.open_cases(records, at=opened)
    ids = [record["id"] for record in records]
    del records
    later = now + timedelta(days=1)
    due = 0
    for number, case_id in enumerate(ids):
        if number % round(1 / TICK_DUE_SHARE) == 0:
            due += 1  # still due at its opening
        else:
            engine.store.schedule(case_id, later)
    del ids
    gc.collect()
    collecting = [0.0]
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collecting[0] += time.perf_counter() - started[0]

    before = _rss_mb()
    gc.callbacks.append(timed)
    start, cpu = time.perf_counter(), time.process_time()
    report = engine.tick(now)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    gc.callbacks.remove(timed)
    assert report.reviewed == due, (report.reviewed, due)
    assert not report.errors, report.errors[:3]
    result = {
        "seconds": seconds,
        "cpu_s": cpu,
        "due": due,
        "sent": report.sent,
        "denied": report.denied,
        "tasks": report.tasks,
        "fired": report.fired,
        "gc_s": collecting[0],
        "peak_mb": _peak_mb(),
        "tick_mb": _rss_mb() - before,
    }
    del engine, report
    ids = _portfolio_ids(n)
    result["floor_s"] = _floor_memory(ids, ids[:: round(1 / TICK_DUE_SHARE)], now)
    return result


# -- tick_postgres: one tick shared by 1 and 2 worker processes ----------------------------
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_SPEEDUP_TARGET = 1.6


def _postgres_tick_setup() -> tuple[Any, Any, datetime, datetime]:
    """The CN policy, a store on the bench's schema, and the tick's moment and opening time."""
    from zoneinfo import ZoneInfo

    _quiet_logs()
    from arrears.policy import load_policy
    from arrears.stores.postgres import PostgresStore

    policy = load_policy(
        Path(__file__).resolve().parents[1] / "examples/policies/cn_consumer_loan.yaml"
    )
    store = PostgresStore(
        os.environ.get("ARREARS_BENCH_POSTGRES", POSTGRES_DEFAULT),
        schema=os.environ["ARREARS_BENCH_SCHEMA"],
    )
    now = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    return policy, store, now, now - timedelta(hours=1)


def _work_tick_postgres_load(n: int) -> dict[str, Any]:
    """Open n CN cases in one transaction (a bulk load); every fifth stays due."""
    from arrears import Engine, SettableClock

    policy, store, now, opened = _postgres_tick_setup()
    with store:
        engine = Engine(policy=policy, store=store, clock=SettableClock(opened))
        records = cn_portfolio(n, now.date())
        start = time.perf_counter()
        with store.transaction():
            engine.open_cases(records, at=opened)
            later = now + timedelta(days=1)
            for number, record in enumerate(records):
                if number % round(1 / TICK_DUE_SHARE):
                    store.schedule(record["id"], later)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "due": len(range(0, n, round(1 / TICK_DUE_SHARE)))}


def _work_tick_postgres(n: int) -> dict[str, Any]:
    """One worker of a shared tick: ready, wait for the go line, tick with leases."""
    from arrears import Engine, SettableClock

    policy, store, now, opened = _postgres_tick_setup()
    with store:
        engine = Engine(
            policy=policy, store=store, channels=[_SentSms()], clock=SettableClock(opened)
        )
        print("ready", flush=True)
        sys.stdin.readline()
        start, cpu = time.time(), time.process_time()
        report = engine.tick(now, owner=os.environ["ARREARS_BENCH_OWNER"], batch=POSTGRES_BATCH)
        end, cpu = time.time(), time.process_time() - cpu
    return {
        "start": start,
        "end": end,
        "cpu": cpu,
        "reviewed": report.reviewed,
        "sent": report.sent,
        "tasks": report.tasks,
        "errors": len(report.errors),
    }


def _work_tick_postgres_floor(n: int) -> dict[str, Any]:
    """The floor on the bench's PostgreSQL schema, after the one-worker tick ran on it."""
    import psycopg

    url = os.environ.get("ARREARS_BENCH_POSTGRES", POSTGRES_DEFAULT)
    schema = os.environ["ARREARS_BENCH_SCHEMA"]
    now = _tick_now()
    at, data = _floor_review(now)
    due = _portfolio_ids(n)[:: round(1 / TICK_DUE_SHARE)]
    select = f"SELECT id, version, head_seq, head_hash, body FROM {schema}.cases WHERE id = ANY(%s)"
    insert = (
        f"INSERT INTO {schema}.journal (case_id, seq, kind, at, body, hash) "
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    update = (
        f"UPDATE {schema}.cases SET version = %s, head_seq = %s, head_hash = %s, body = %s "
        "WHERE id = %s AND version = %s"
    )
    updated = 0
    with psycopg.connect(url, autocommit=True) as conn, _collector_paused():
        start = time.perf_counter()
        for first in range(0, len(due), POSTGRES_BATCH):
            with conn.transaction(), conn.cursor() as cursor:
                found = cursor.execute(select, (due[first : first + POSTGRES_BATCH],)).fetchall()
                entries, cases = [], []
                for case_id, version, seq, prev, case_body in found:
                    body, digest = _floor_seal(case_id, seq + 1, at, data, prev)
                    entries.append((case_id, seq + 1, "review", now, body, digest))
                    cases.append((version + 1, seq + 1, digest, case_body, case_id, version))
                cursor.executemany(insert, entries)
                cursor.executemany(update, cases)
                updated += cursor.rowcount  # the rows of every query of the executemany
        seconds = time.perf_counter() - start
    assert updated == len(due), (updated, len(due))
    return {"seconds": seconds, "due": len(due)}


def _postgres_shared_tick(url: str, n: int, workers: int, *, floor: bool = False) -> dict[str, Any]:
    """Load n cases into a fresh schema, tick them with *workers* processes, check, drop.

    With *floor*, the floor then runs on the same schema, in a process of its own.
    """
    import psycopg

    schema = f"arrears_bench_{os.getpid()}_{workers}"
    env = {**os.environ, "ARREARS_BENCH_POSTGRES": url, "ARREARS_BENCH_SCHEMA": schema}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    try:
        out = subprocess.run(
            [*command, "tick_postgres_load", str(n)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        loaded = json.loads(out.stdout.strip().splitlines()[-1])
        processes = [
            subprocess.Popen(
                [*command, "tick_postgres", str(n)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**env, "ARREARS_BENCH_OWNER": f"worker-{number}"},
            )
            for number in range(workers)
        ]
        for process in processes:  # every worker connected and its policy loaded
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            output, _ = process.communicate()
            assert process.returncode == 0, process.returncode
            results.append(json.loads(output.strip().splitlines()[-1]))
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(
                f"SELECT count(*), count(DISTINCT case_id) FROM {schema}.journal "
                "WHERE kind = 'review'"
            ).fetchone()
        assert row is not None
        reviews, cases = row
        if floor:
            out = subprocess.run(
                [*command, "tick_postgres_floor", str(n)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            floor_s = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    due = loaded["due"]
    reviewed = sum(result["reviewed"] for result in results)
    # Every due case reviewed, by exactly one worker, once.
    assert reviewed == due == reviews == cases, (reviewed, due, reviews, cases)
    assert not any(result["errors"] for result in results), results
    return {
        "seconds": max(r["end"] for r in results) - min(r["start"] for r in results),
        "due": due,
        "load_s": loaded["seconds"],
        "sent": sum(result["sent"] for result in results),
        "tasks": sum(result["tasks"] for result in results),
        "per_worker": [result["reviewed"] for result in results],
        "worker_cpu": [round(result["cpu"], 3) for result in results],
        "worker_wall": [round(result["end"] - result["start"], 3) for result in results],
        **({"floor_s": floor_s} if floor else {}),
    }


def bench_tick_postgres(quick: bool) -> dict[str, Any]:
    """The CN tick (20% due) on PostgreSQL by 1 and by 2 worker processes; target speedup 1.6."""
    n = SIZES["tick_postgres"][0 if quick else 1]
    url = os.environ.get("ARREARS_BENCH_POSTGRES", POSTGRES_DEFAULT)
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as err:  # no driver, no server: say so and go on
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return {"bench": "tick_postgres", "skipped": f"no PostgreSQL at {url}: {reason}"}
    one = _postgres_shared_tick(url, n, 1, floor=True)
    two = _postgres_shared_tick(url, n, 2)
    return {
        "bench": "tick_postgres",
        "n": n,
        "due": one["due"],
        "one_worker_s": round(one["seconds"], 3),
        "two_workers_s": round(two["seconds"], 3),
        "speedup": round(one["seconds"] / two["seconds"], 2),
        "us_per_due_case_one_worker": round(one["seconds"] / one["due"] * 1e6, 1),
        "per_worker": two["per_worker"],
        # The workers' own CPU time (the rest of their wall time waits on the server):
        # on two cores shared with the server, two workers cannot beat half the sum.
        "one_worker_cpu_s": one["worker_cpu"][0],
        "two_workers_cpu_s": two["worker_cpu"],
        "two_workers_wall_s": two["worker_wall"],
        "sent": one["sent"],
        "tasks": one["tasks"],
        "load_s": round(one["load_s"], 3),
        "target_speedup": POSTGRES_SPEEDUP_TARGET,
        **_floor_figures(one["seconds"], one["floor_s"], one["due"]),
    }


SQLITE_TICK_TARGET_S = 20.0


class _BulkLoader:
    """A write-only store for building a benchmark file: rows inserted 10,000 at a time.

    `Engine.open_case` seals and validates every case as always; only the
    per-case transaction of `SQLiteStore.add` is skipped.  The ids are new,
    so ``in`` is always false.
    """

    def __init__(self, path: Path) -> None:
        from arrears.stores import SQLiteStore

        SQLiteStore(path).close()  # the schema
        import sqlite3

        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous = OFF")
        columns = self.db.execute("PRAGMA table_xinfo(cases)").fetchall()
        #: Whether the debtor id is written with the row (schema 4), not generated.
        self.filed = any(name == "debtor_id" and hidden == 0 for _, name, *_, hidden in columns)
        self.cases: list[tuple[Any, ...]] = []
        self.entries: list[tuple[Any, ...]] = []
        self.reviews: list[tuple[str, int]] = []

    def __contains__(self, case_id: object) -> bool:
        return False

    def cases_of(self, debtor_id: str) -> list[str]:
        """No case of the portfolio holds anything for its debtor: none for a new one to inherit."""
        return []

    def transaction(self) -> Any:
        """Rows go in by the 10,000 (`flush`): a case's add and schedule need no transaction."""
        return contextlib.nullcontext()

    def add(self, case: Any, opened: Any) -> None:
        from arrears.stores._sql import case_body, entry_row

        row = (case.id, case.version, 0, opened.hash, case_body(case))
        # Schema 4 writes the debtor with the row; before it (bench/compare.py on an older
        # revision) the column was generated from the body.
        self.cases.append((*row, case.debtor.id) if self.filed else row)
        self.entries.append(entry_row(opened))
        if len(self.cases) >= 10_000:
            self.flush()

    def schedule(self, case_id: str, at: datetime | None) -> None:
        from arrears.stores._sql import to_micros

        assert at is not None
        self.reviews.append((case_id, to_micros(at)))

    def flush(self) -> None:
        self.db.execute("BEGIN")
        columns = "id, version, head_seq, head_hash, body" + (", debtor_id" if self.filed else "")
        marks = ", ".join("?" * (columns.count(",") + 1))
        self.db.executemany(f"INSERT INTO cases ({columns}) VALUES ({marks})", self.cases)
        self.db.executemany(
            "INSERT INTO journal (case_id, seq, kind, at, body, hash) VALUES (?, ?, ?, ?, ?, ?)",
            self.entries,
        )
        self.db.executemany(
            "INSERT INTO reviews (case_id, review_at) VALUES (?, ?) "
            "ON CONFLICT (case_id) DO UPDATE SET review_at = excluded.review_at",
            self.reviews,
        )
        self.db.execute("COMMIT")
        self.cases, self.entries, self.reviews = [], [], []

    def close(self) -> None:
        self.flush()
        self.db.close()


def _work_ours_tick_sqlite(n: int, per_debtor: int = 1) -> dict[str, Any]:
    """The SQLite tick over *n* CN cases, *per_debtor* adjacent cases to a debtor."""
    import shutil
    import tempfile
    from zoneinfo import ZoneInfo

    _quiet_logs()
    from arrears import Engine, SettableClock
    from arrears.channels import RecordingChannel
    from arrears.policy import load_policy
    from arrears.stores import SQLiteStore

    policy = load_policy(
        Path(__file__).resolve().parents[1] / "examples/policies/cn_consumer_loan.yaml"
    )
    now = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    opened = now - OPENED_BEFORE
    later = now + timedelta(days=1)
    folder = tempfile.mkdtemp(prefix="arrears-bench-")
    path = Path(folder) / "tick.db"
    loader = _BulkLoader(path)
    builder = Engine(policy=policy, store=loader, clock=SettableClock(opened))  # type: ignore[arg-type]
    due = 0
    step = round(1 / TICK_DUE_SHARE)
    build_start = time.perf_counter()
    for start in range(0, n, 50_000):
        records = cn_portfolio(min(50_000, n - start), now.date())
        for offset, record in enumerate(records):
            number = start + offset
            record["id"] = f"L-{number:08d}"
            record["debtor"]["id"] = f"D-{number // per_debtor:08d}"
            builder.open_case(record, at=opened)
            if number % step == 0:
                due += 1  # still due at its opening
            else:
                loader.schedule(record["id"], later)
    loader.close()
    build_s = time.perf_counter() - build_start
    del builder, records
    for item in Path(folder).iterdir():  # the floor's copy of the file the tick starts from
        shutil.copyfile(item, item.with_name(item.name.replace("tick", "floor", 1)))
    gc.collect()
    sms = RecordingChannel(channels={"sms"})
    profile_to = os.environ.get("ARREARS_BENCH_PROFILE")
    with SQLiteStore(path) as store:
        engine = Engine(policy=policy, store=store, channels=[sms], clock=SettableClock(now))
        entries_before = store._db.execute("SELECT max(rowid) FROM journal").fetchone()[0]
        start_s, cpu = time.perf_counter(), time.process_time()
        if profile_to:
            import cProfile

            profiler = cProfile.Profile()
            report = profiler.runcall(engine.tick, now)
            profiler.dump_stats(profile_to)
        else:
            report = engine.tick(now)
        seconds, cpu = time.perf_counter() - start_s, time.process_time() - cpu
        entries = store._db.execute("SELECT max(rowid) FROM journal").fetchone()[0]
    db_mb = sum(f.stat().st_size for f in Path(folder).glob("tick.db*")) / 2**20
    peak_mb = _peak_mb()
    assert report.reviewed == due, (report.reviewed, due)
    assert not report.errors, report.errors[:3]
    ids = _portfolio_ids(n)
    floor_s = _floor_sqlite(Path(folder) / "floor.db", ids[::step], now)
    for item in Path(folder).iterdir():
        item.unlink()
    os.rmdir(folder)
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "build_s": build_s,
        "due": due,
        "sent": report.sent,
        "tasks": report.tasks,
        "fired": report.fired,
        "entries": entries - entries_before,
        "db_mb": db_mb,
        "peak_mb": peak_mb,
        "floor_s": floor_s,
    }


def _work_ours_tick_sqlite_debtors(n: int) -> dict[str, Any]:
    """`_work_ours_tick_sqlite` with three loans to each debtor."""
    return _work_ours_tick_sqlite(n, per_debtor=3)


def _work_ours_journal_checkpoint(n: int) -> dict[str, Any]:
    import tempfile
    from zoneinfo import ZoneInfo

    _quiet_logs()
    from arrears import Engine, SettableClock
    from arrears.channels import RecordingChannel
    from arrears.checkpoints import append_checkpoint, read_checkpoints
    from arrears.policy import load_policy
    from arrears.signing import Key, generate_ed25519_key
    from arrears.stores import SQLiteStore

    policy = load_policy(
        Path(__file__).resolve().parents[1] / "examples/policies/cn_consumer_loan.yaml"
    )
    now = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
    opened = now - OPENED_BEFORE
    later = now + timedelta(days=1)
    folder = Path(tempfile.mkdtemp(prefix="arrears-bench-"))
    path = folder / "evidence.db"
    loader = _BulkLoader(path)
    builder = Engine(policy=policy, store=loader, clock=SettableClock(opened))  # type: ignore[arg-type]
    step = round(1 / TICK_DUE_SHARE)
    for start in range(0, n, 50_000):
        records = cn_portfolio(min(50_000, n - start), now.date())
        for offset, record in enumerate(records):
            number = start + offset
            record["id"] = f"L-{number:08d}"
            record["debtor"]["id"] = f"D-{number:08d}"
            builder.open_case(record, at=opened)
            if number % step:
                loader.schedule(record["id"], later)
    loader.close()
    del builder, records
    with SQLiteStore(path) as store:
        sms = RecordingChannel(channels={"sms"})
        Engine(policy=policy, store=store, channels=[sms], clock=SettableClock(now)).tick(now)
    gc.collect()
    private, public = generate_ed25519_key()
    signer, verifier = Key.from_bytes(private), Key.from_bytes(public)
    checkpoints = folder / "checkpoints.jsonl"

    cpu: dict[str, float] = {}

    def timed(name: str, work: Callable[[Any], Any]) -> tuple[float, Any]:
        with SQLiteStore(path) as store:
            engine = Engine(policy=policy, store=store, clock=SettableClock(now))
            start_s, start_cpu = time.perf_counter(), time.process_time()
            result = work(engine)
            cpu[name] = time.process_time() - start_cpu
            return time.perf_counter() - start_s, result

    def checkpoint(engine: Any) -> None:
        append_checkpoint(checkpoints, engine.checkpoint(signer))

    def anchored(engine: Any) -> list[Any]:
        with checkpoints.open(encoding="utf-8") as lines:
            anchors = read_checkpoints(lines, verifier).anchors()
        problems: list[Any] = engine.verify(anchors)
        return problems

    first_s, plain = timed("first", lambda engine: engine.verify())
    checkpoint_s, _ = timed("checkpoint", checkpoint)
    anchored_s, problems = timed("anchored", anchored)
    last_s, _ = timed("last", lambda engine: engine.verify())
    verify_s = min(first_s, last_s)
    assert plain == [], plain[:3]
    assert problems == [], problems[:3]
    with SQLiteStore(path) as store:
        entries = sum(len(chain) for _, chain in store.chains())
    checkpoint_kb = checkpoints.stat().st_size / 1024
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()
    return {
        "verify_s": verify_s,
        "verify_runs_s": [first_s, last_s],
        "cpu": cpu,
        "checkpoint_s": checkpoint_s,
        "anchored_s": anchored_s,
        "entries": entries,
        "checkpoint_kb": checkpoint_kb,
    }


def bench_journal_checkpoint(quick: bool) -> dict[str, Any]:
    """Checkpoint and verify against it, on n SQLite cases, as ratios to plain verify."""
    n = SIZES["journal_checkpoint"][0 if quick else 1]
    ours = _in_process("ours_journal_checkpoint", n)
    cpu = ours["cpu"]
    return {
        "bench": "journal_checkpoint",
        "n": n,
        "entries": ours["entries"],
        "verify_s": round(ours["verify_s"], 3),
        "verify_runs_s": [round(seconds, 3) for seconds in ours["verify_runs_s"]],
        "checkpoint_s": round(ours["checkpoint_s"], 3),
        "anchored_s": round(ours["anchored_s"], 3),
        "checkpoint_ratio": round(ours["checkpoint_s"] / ours["verify_s"], 2),
        "anchored_ratio": round(ours["anchored_s"] / ours["verify_s"], 2),
        "checkpoint_kb": round(ours["checkpoint_kb"], 1),
        "checkpoint_cpu_ratio": round(cpu["checkpoint"] / min(cpu["first"], cpu["last"]), 2),
        "anchored_cpu_ratio": round(cpu["anchored"] / min(cpu["first"], cpu["last"]), 2),
    }


def _work_ours_journal_debtors(n: int) -> dict[str, Any]:
    """*n* debtors with three loans each, every loan carrying every operation written
    across a debtor's cases; `Engine.verify` timed with and without judging them across."""
    _quiet_logs()
    from arrears import Engine, Money, SettableClock
    from arrears.crosschain import DebtorChains
    from arrears.guards import Actor
    from arrears.operations import evidence

    start = datetime(2027, 3, 2, 2, tzinfo=UTC)
    clock = SettableClock(start)
    engine = Engine(clock=clock)
    agent = Actor("agent-7", frozenset({"agent", "supervisor"}))
    for number in range(n):
        for loan in range(3):
            engine.open_case(
                {
                    "id": f"L-{number:07d}-{loan}",
                    "debtor": {"id": f"D-{number:07d}", "timezone": "Asia/Shanghai"},
                    "balance": {"currency": "CNY", "principal": "1000.00", "not_due": "3000.00"},
                    "due_date": "2027-03-01",
                    "stage": "notified",
                }
            )
    steps: list[Callable[[str, str], Any]] = [
        lambda debtor, ref: engine.record_debtor_payment(
            debtor, Money("2500.00", "CNY"), reference=ref
        ),
        lambda debtor, ref: engine.record_promise(
            f"L-{debtor[2:]}-2",
            Money("6000.00", "CNY"),
            date(2027, 3, 11),
            covers=[f"L-{debtor[2:]}-0", f"L-{debtor[2:]}-1"],
        ),
        lambda debtor, ref: engine.add_hold(f"L-{debtor[2:]}-0", "cease", "stop", reach="debtor"),
        lambda debtor, ref: engine.update_debtor(debtor, timezone="Asia/Hong_Kong", actor=agent),
        lambda debtor, ref: engine.reverse_debtor_payment(debtor, ref),
    ]
    for hour, step in enumerate(steps, 1):
        clock.set(start + timedelta(hours=hour))
        for number in range(n):
            step(f"D-{number:07d}", f"P-{number}")
    chains = [(case_id, list(chain)) for case_id, chain in engine.store.chains()]
    entries = sum(len(chain) for _, chain in chains)

    class _Alone:
        """Nothing judged across chains: `verify` as it was."""

        def skip(self, debtor_id: str) -> None: ...
        def add(self, debtor_id: str, case_id: str, chain: Any) -> None: ...
        def problems(self) -> list[Any]:
            return []

    runs: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(3):
        for name, judge in (("without", _Alone), ("with", DebtorChains)):
            setattr(evidence, "DebtorChains", judge)  # noqa: B010 (as `verify` finds it)
            gc.collect()
            begun = time.perf_counter()
            problems = engine.verify()
            runs[name].append(time.perf_counter() - begun)
            assert problems == [], problems[:3]
    setattr(evidence, "DebtorChains", DebtorChains)  # noqa: B010
    debtors = {case_id: engine.store.get(case_id).debtor.id for case_id, _ in chains}
    across: list[float] = []
    for _ in range(3):
        begun = time.perf_counter()
        judged = DebtorChains()
        for case_id, chain in chains:
            judged.add(debtors[case_id], case_id, chain)
        assert judged.problems() == []
        across.append(time.perf_counter() - begun)
    return {
        "entries": entries,
        "with_s": min(runs["with"]),
        "without_s": min(runs["without"]),
        "across_s": min(across),
    }


def bench_journal_debtors(quick: bool) -> dict[str, Any]:
    """`verify` judging each debtor's chains together, against judging each chain alone,
    on n and 4n debtors: the ratio, and the cost per entry at both sizes."""
    n = SIZES["journal_debtors"][0 if quick else 1]
    small = _in_process("ours_journal_debtors", n)
    large = _in_process("ours_journal_debtors", 4 * n)
    figures: dict[str, Any] = {"bench": "journal_debtors", "n": n}
    for name, run in (("n", small), ("4n", large)):
        figures[f"entries_{name}"] = run["entries"]
        figures[f"verify_s_{name}"] = round(run["with_s"], 3)
        figures[f"ratio_{name}"] = round(run["with_s"] / run["without_s"], 2)
        figures[f"across_us_per_entry_{name}"] = round(run["across_s"] / run["entries"] * 1e6, 2)
    figures["verify_growth_4n"] = round(large["with_s"] / small["with_s"], 2)
    figures["across_growth_4n"] = round(large["across_s"] / small["across_s"], 2)
    return figures


def _verify_schedule_figures(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "verify_s": round(run["batched"], 3),
        "verify_per_case_s": round(run["per_case"], 3),
        "verify_ratio": round(run["batched"] / run["per_case"], 2),
        "check_s": round(run["check"], 4),
        "check_per_case_s": round(run["check_each"], 4),
        "check_ratio": round(run["check"] / run["check_each"], 3),
    }


def bench_verify_schedule(quick: bool) -> dict[str, Any]:
    """`verify`'s schedule check over n open cases, one query against one a case, on SQLite
    and PostgreSQL: the ratios of the check alone and of the whole `verify`."""
    n = SIZES["verify_schedule"][0 if quick else 1]
    figures: dict[str, Any] = {"bench": "verify_schedule", "n": n}
    figures["sqlite"] = _verify_schedule_figures(_in_process("ours_verify_schedule", n))
    url = os.environ.get("ARREARS_BENCH_POSTGRES", POSTGRES_DEFAULT)
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as err:  # no driver, no server: say so and go on
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        figures["postgres"] = {"skipped": f"no PostgreSQL at {url}: {reason}"}
        return figures
    run = _in_process("ours_verify_schedule_postgres", n)
    figures["postgres"] = _verify_schedule_figures(run)
    return figures


SIMULATE_DAYS = 30


def _work_ours_simulate(n: int) -> dict[str, Any]:
    """*n* synthetic CN cases under the CN example policy for 30 simulated days, in memory."""
    _quiet_logs()
    from arrears.policy import load_policy
    from arrears.simulate import Simulation, synthetic_portfolio

    policy = load_policy(
        Path(__file__).resolve().parents[1] / "examples/policies/cn_consumer_loan.yaml"
    )
    records = synthetic_portfolio(n, seed=1)
    start = time.perf_counter()
    result = Simulation(policy, seed=1).run(records, days=SIMULATE_DAYS)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    kpis = result.kpis().overall
    kpi_seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "kpi_seconds": kpi_seconds,
        "ticks": result.ticks,
        "dials": result.dials,
        "payments": result.payments,
        "contacts": kpis.contacts,
        "errors": result.errors,
        "peak_mb": _peak_mb(),
    }


def _verify_schedule_runs(engine: Any, store: Any) -> dict[str, Any]:
    """`verify` on *store*, and its schedule check alone, asked of every open case at once
    (``scheduled``) and a case at a time (``next_review``, as before): best of three."""
    ids = [case_id for case_id, _ in store.chains()]
    runs: dict[str, list[float]] = {"batched": [], "per_case": [], "check": [], "check_each": []}
    for _ in range(3):
        for name in ("batched", "per_case"):
            if name == "per_case":
                store.scheduled = None  # as `verify` finds it: no batched answer
            gc.collect()
            begun = time.perf_counter()
            problems = engine.verify()
            runs[name].append(time.perf_counter() - begun)
            if name == "per_case":
                del store.scheduled
            assert problems == [], problems[:3]
        begun = time.perf_counter()
        assert len(store.scheduled(ids)) == len(ids)
        runs["check"].append(time.perf_counter() - begun)
        begun = time.perf_counter()
        assert not [case_id for case_id in ids if store.next_review(case_id) is None]
        runs["check_each"].append(time.perf_counter() - begun)
    return {name: min(times) for name, times in runs.items()}


def _verify_schedule_cases(n: int) -> list[dict[str, Any]]:
    """*n* open CN loans, one debtor each."""
    return [
        {
            "id": f"L-{number:08d}",
            "debtor": {"id": f"D-{number:08d}", "timezone": "Asia/Shanghai"},
            "balance": {"currency": "CNY", "principal": "1000.00"},
            "due_date": "2026-10-01",
        }
        for number in range(n)
    ]


def _work_ours_verify_schedule(n: int) -> dict[str, Any]:
    """`verify` over *n* open cases in an SQLite file, its schedule read at once and a case
    at a time (`_verify_schedule_runs`)."""
    import tempfile

    _quiet_logs()
    from arrears import Engine, SettableClock
    from arrears.stores import SQLiteStore

    at = datetime(2026, 11, 2, 1, tzinfo=UTC)
    folder = Path(tempfile.mkdtemp(prefix="arrears-bench-"))
    path = folder / "verify.db"
    try:
        with SQLiteStore(path) as store, store.transaction():
            Engine(store=store, clock=SettableClock(at)).open_cases(_verify_schedule_cases(n))
        with SQLiteStore(path) as store:
            return _verify_schedule_runs(Engine(store=store, clock=SettableClock(at)), store)
    finally:
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()


def _work_ours_verify_schedule_postgres(n: int) -> dict[str, Any]:
    """As `_work_ours_verify_schedule`, on a fresh PostgreSQL schema (dropped after)."""
    import psycopg

    _quiet_logs()
    from arrears import Engine, SettableClock
    from arrears.stores.postgres import PostgresStore

    url = os.environ.get("ARREARS_BENCH_POSTGRES", POSTGRES_DEFAULT)
    schema = f"arrears_bench_verify_{os.getpid()}"
    at = datetime(2026, 11, 2, 1, tzinfo=UTC)
    try:
        with PostgresStore(url, schema=schema) as store, store.transaction():
            Engine(store=store, clock=SettableClock(at)).open_cases(_verify_schedule_cases(n))
        with PostgresStore(url, schema=schema) as store:
            return _verify_schedule_runs(Engine(store=store, clock=SettableClock(at)), store)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


WORKERS: dict[str, Callable[[int], dict[str, Any]]] = {
    "ours_load_and_fire": _work_ours_load_and_fire,
    "baseline_load_and_fire": _work_baseline_load_and_fire,
    "ours_judge_contact": _work_ours_judge_contact,
    "ours_judge_contact_debtors": _work_ours_judge_contact_debtors,
    "baseline_judge_contact": _work_baseline_judge_contact,
    "ours_tick_memory": _work_ours_tick_memory,
    "ours_tick_sqlite": _work_ours_tick_sqlite,
    "ours_tick_sqlite_debtors": _work_ours_tick_sqlite_debtors,
    "tick_postgres_load": _work_tick_postgres_load,
    "tick_postgres": _work_tick_postgres,
    "tick_postgres_floor": _work_tick_postgres_floor,
    "ours_simulate": _work_ours_simulate,
    "ours_journal_checkpoint": _work_ours_journal_checkpoint,
    "ours_journal_debtors": _work_ours_journal_debtors,
    "ours_verify_schedule": _work_ours_verify_schedule,
    "ours_verify_schedule_postgres": _work_ours_verify_schedule_postgres,
}


def _in_process(worker: str, n: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", worker, str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- benchmarks -------------------------------------------------------------------------
def bench_load_and_fire(quick: bool) -> dict[str, Any]:
    """Load n cases and fire one trigger on each, against one Machine per case."""
    n = SIZES["load_and_fire"][0 if quick else 1]
    baseline_n = min(n, 1_000 if quick else BASELINE_CAP)
    ours = _in_process("ours_load_and_fire", n)
    base = _in_process("baseline_load_and_fire", baseline_n)
    scale = n / baseline_n
    baseline_s = base["seconds"] * scale
    baseline_mb = base["peak_mb"] * scale
    return {
        "bench": "load_and_fire",
        "n": n,
        "ours_s": round(ours["seconds"], 3),
        "baseline_s": round(baseline_s, 3),
        "time_ratio": round(baseline_s / ours["seconds"], 1),
        "ours_peak_mb": round(ours["peak_mb"], 1),
        "baseline_peak_mb": round(baseline_mb, 1),
        "memory_ratio": round(baseline_mb / max(ours["peak_mb"], 0.1), 1),
        "baseline_n": baseline_n,
        "ours_us_per_case": round(ours["seconds"] / n * 1e6, 2),
        "baseline_us_per_case": round(base["seconds"] / baseline_n * 1e6, 2),
    }


def bench_judge_contact(quick: bool) -> dict[str, Any]:
    """Judge n proposed contacts on cases with 200 journal entries; target under 50 µs each."""
    n = SIZES["judge_contact"][0 if quick else 1]
    baseline_n = min(n, 2_000 if quick else 20_000)
    ours = _in_process("ours_judge_contact", n)
    debtors = _in_process("ours_judge_contact_debtors", n)
    base = _in_process("baseline_judge_contact", baseline_n)
    baseline_s = base["seconds"] * n / baseline_n
    return {
        "bench": "judge_contact",
        "n": n,
        "ours_s": round(ours["seconds"], 3),
        "baseline_s": round(baseline_s, 3),
        "time_ratio": round(baseline_s / ours["seconds"], 1),
        "baseline_n": baseline_n,
        "ours_us_per_judgment": round(ours["seconds"] / n * 1e6, 2),
        "baseline_us_per_judgment": round(base["seconds"] / baseline_n * 1e6, 2),
        "allowed_share": round(ours["allowed"] / n, 2),
        "debtors_us_per_judgment": round(debtors["seconds"] / n * 1e6, 2),
        "debtors_ratio": round(debtors["seconds"] / ours["seconds"], 2),
    }


def _floor_figures(seconds: float, floor_s: float, due: int) -> dict[str, Any]:
    """The floor's time, per due case, and the tick's time as a multiple of it."""
    return {
        "floor_s": round(floor_s, 3),
        "floor_us_per_due_case": round(floor_s / due * 1e6, 1),
        "floor_ratio": round(seconds / floor_s, 1),
    }


def bench_tick_memory(quick: bool) -> dict[str, Any]:
    """One tick over n in-memory CN cases, 20% due; target under 5 s on one core."""
    n = SIZES["tick_memory"][0 if quick else 1]
    ours = _in_process("ours_tick_memory", n)
    return {
        "bench": "tick_memory",
        "n": n,
        "due": ours["due"],
        "ours_s": round(ours["seconds"], 3),
        "cpu_s": round(ours["cpu_s"], 3),
        "us_per_due_case": round(ours["seconds"] / ours["due"] * 1e6, 1),
        "sent": ours["sent"],
        "denied": ours["denied"],
        "tasks": ours["tasks"],
        "fired": ours["fired"],
        "gc_s": round(ours["gc_s"], 3),
        "peak_mb": round(ours["peak_mb"], 1),
        "tick_mb": round(ours["tick_mb"], 1),
        "target_s": TICK_TARGET_S,
        **_floor_figures(ours["seconds"], ours["floor_s"], ours["due"]),
    }


def bench_tick_sqlite(quick: bool) -> dict[str, Any]:
    """One tick over n CN cases in an SQLite file, 20% due; target under 20 s on one core."""
    n = SIZES["tick_sqlite"][0 if quick else 1]
    ours = _in_process("ours_tick_sqlite", n)
    debtors = _in_process("ours_tick_sqlite_debtors", n)
    return {
        "bench": "tick_sqlite",
        "n": n,
        "due": ours["due"],
        "ours_s": round(ours["seconds"], 3),
        "cpu_s": round(ours["cpu_s"], 3),
        "us_per_due_case": round(ours["seconds"] / ours["due"] * 1e6, 1),
        "sent": ours["sent"],
        "tasks": ours["tasks"],
        "fired": ours["fired"],
        "entries": ours["entries"],
        "build_s": round(ours["build_s"], 1),
        "db_mb": round(ours["db_mb"], 1),
        "peak_mb": round(ours["peak_mb"], 1),
        "target_s": SQLITE_TICK_TARGET_S,
        **_floor_figures(ours["seconds"], ours["floor_s"], ours["due"]),
        # The same portfolio with three loans to each debtor (whole debtors leased,
        # caps counted across loans): its cost per due case and its ratio to the above.
        "debtors3_us_per_due_case": round(debtors["seconds"] / debtors["due"] * 1e6, 1),
        "debtors3_ratio": round(
            (debtors["seconds"] / debtors["due"]) / (ours["seconds"] / ours["due"]), 2
        ),
        "debtors3_sent": debtors["sent"],
    }


def bench_simulate(quick: bool) -> dict[str, Any]:
    """n synthetic CN cases for 30 simulated days (hourly ticks, agents, debtors), in memory."""
    n = SIZES["simulate"][0 if quick else 1]
    ours = _in_process("ours_simulate", n)
    case_days = n * SIMULATE_DAYS
    return {
        "bench": "simulate",
        "n": n,
        "days": SIMULATE_DAYS,
        "ours_s": round(ours["seconds"], 1),
        "us_per_case_day": round(ours["seconds"] / case_days * 1e6, 1),
        "kpi_s": round(ours["kpi_seconds"], 2),
        "ticks": ours["ticks"],
        "dials": ours["dials"],
        "payments": ours["payments"],
        "contacts": ours["contacts"],
        "errors": ours["errors"],
        "peak_mb": round(ours["peak_mb"], 1),
    }


BENCHMARKS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "load_and_fire": bench_load_and_fire,
    "judge_contact": bench_judge_contact,
    "tick_memory": bench_tick_memory,
    "tick_sqlite": bench_tick_sqlite,
    "tick_postgres": bench_tick_postgres,
    "simulate": bench_simulate,
    "journal_checkpoint": bench_journal_checkpoint,
    "journal_debtors": bench_journal_debtors,
    "verify_schedule": bench_verify_schedule,
}


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all when none is named); one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {sorted(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute in all")
    parser.add_argument("--worker", nargs=2, metavar=("WORKER", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, n = args.worker
        # The library leaves the garbage collector alone; a worker of ours opts in
        # as a batch job would (docs/performance.md); a baseline runs as it is.
        tuned: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if not name.startswith("baseline_"):
            with contextlib.suppress(ImportError):  # older revisions paused it themselves
                from arrears.tuning import collector_paused

                tuned = collector_paused()
        with tuned:
            result = WORKERS[name](int(n))
        print(json.dumps(result))
        return 0
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown}; known: {sorted(BENCHMARKS)}")
    for name in args.names or list(BENCHMARKS):
        print(json.dumps(BENCHMARKS[name](args.quick)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
