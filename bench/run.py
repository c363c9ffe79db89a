"""The one entry point for every benchmark of `arrears`.

    python bench/run.py [NAME...] [--quick]

prints one JSON object per line, e.g.::

    {"bench": "load_and_fire", "n": 100000, "ours_s": ..., "baseline_s": ...,
     "time_ratio": ..., "ours_peak_mb": ..., "baseline_peak_mb": ..., "memory_ratio": ...}

Each side runs in a process of its own, so one side's garbage and peak memory
never count against the other.  Peak memory is the growth of the process's
resident set during the measured work (the inputs are built before it).
``--quick`` uses sizes that finish in under 30 s in all.

Benchmarks:

``load_and_fire``
    Open *n* cases in an `Engine` and fire ``notify`` on each (journal entries
    sealed and hashed), against the naive way: one `transitions.Machine` per
    case, attached to it.  The naive side needs about 200 KB per case, so past
    ``BASELINE_CAP`` cases it is measured on that many and scaled linearly
    (its true cost grows faster than linearly with the garbage collector's
    work, so the scaled figure flatters the baseline); ``baseline_n`` says how
    many were really built.

``judge_contact``
    Judge *n* proposed contacts (calls, SMS and e-mails at times of day that
    fall inside and outside the window) for cases that each have 200 journal
    entries, under ``US-MA`` (Regulation F with the Massachusetts overlay, the
    largest rule set).  ``ours_s`` is the total time of the *n* judgments
    through `Engine.judge_contact`, which keeps each case's contact history
    folded; the baseline folds the journal again for every judgment, as a
    judge that reads the raw journal would.  The target is under 50 µs per
    judgment (``ours_us_per_judgment``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BASELINE_CAP = 20_000
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


def _judging_engine() -> tuple[Any, list[tuple[str, Any, datetime]]]:
    """Cases with 200 journal entries each, and a cycle of proposals to judge."""
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
                "debtor": {"id": f"D-{number:04d}", "timezone": "America/New_York"},
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


def _work_ours_judge_contact(n: int) -> dict[str, Any]:
    _quiet_logs()
    engine, work = _judging_engine()
    for case_id, proposal, at in work:  # warm: each case's history folded once
        engine.judge_contact(case_id, proposal, at=at, record=False)
    allowed = 0
    start = time.perf_counter()
    for number in range(n):
        case_id, proposal, at = work[number % len(work)]
        allowed += engine.judge_contact(case_id, proposal, at=at, record=False).allowed
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": 0.0, "allowed": allowed}


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


WORKERS: dict[str, Callable[[int], dict[str, Any]]] = {
    "ours_load_and_fire": _work_ours_load_and_fire,
    "baseline_load_and_fire": _work_baseline_load_and_fire,
    "ours_judge_contact": _work_ours_judge_contact,
    "baseline_judge_contact": _work_baseline_judge_contact,
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
    n = 5_000 if quick else 100_000
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
    n = 20_000 if quick else 200_000
    baseline_n = min(n, 2_000 if quick else 20_000)
    ours = _in_process("ours_judge_contact", n)
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
    }


BENCHMARKS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "load_and_fire": bench_load_and_fire,
    "judge_contact": bench_judge_contact,
}


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all when none is named); one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {sorted(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, under 30 s in all")
    parser.add_argument("--worker", nargs=2, metavar=("WORKER", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        name, n = args.worker
        print(json.dumps(WORKERS[name](int(n))))
        return 0
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown}; known: {sorted(BENCHMARKS)}")
    for name in args.names or list(BENCHMARKS):
        print(json.dumps(BENCHMARKS[name](args.quick)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
