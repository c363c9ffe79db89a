"""Time `verify` on one case whose chain holds many reversed payments.

    python bench/verify_reversals.py [--reversals N]
    valgrind --tool=callgrind --instr-atstart=no python bench/verify_reversals.py --count verify

Each day an instalment falls due, and after it a payment is made and returned
(``reverse_payment``).  `verify` judges every reversal against what undoing its
payment gives, from the chain before it: the aging and due date it records on a
case that keeps its aging (every case opened now), and the due date folded from
the chain on one written as the engines before aging wrote it (``older``: the
same chain sealed again without it, replayed under the workflow's check).  It
prints the seconds each took and the chain's length, as JSON.  Compare two
revisions by running it on each, one right after the other
(``PYTHONPATH=…/src`` picks the library), or by instruction counts: with
``--count``, under callgrind, only that part is instrumented, and callgrind's
``Collected`` line is its count (set ``PYTHONHASHSEED`` on both sides).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from time import perf_counter

import run
from arrears import Engine, Money, SettableClock
from arrears.events import replay
from arrears.journal import GENESIS, JournalEntry, seal
from instructions import _callgrind

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def build(reversals: int) -> tuple[Engine, str]:
    """A case with *reversals* payments made and returned, an instalment due between them."""
    clock = SettableClock(START)
    engine = Engine(clock=clock)
    case = engine.open_case(
        {
            "id": "LN-1",
            "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "balance": {"currency": "CNY", "principal": "100.00", "not_due": "1000000.00"},
            "due_date": "2026-11-30",
        }
    )
    for number in range(reversals):
        clock.set(START + timedelta(days=number + 1))
        engine.fall_due(case.id, Money("10.00", "CNY"), due=clock.now().date())
        reference = f"TX-{number}"
        engine.record_payment(case.id, Money("30.00", "CNY"), reference=reference)
        engine.reverse_payment(case.id, reference)
    return engine, case.id


def as_older_engines_wrote(chain: Sequence[JournalEntry]) -> list[JournalEntry]:
    """*chain* sealed again as the engines before cases kept their aging wrote it: the
    due date of each reversal is then judged by folding the chain (`due_date_without`)."""
    out: list[JournalEntry] = []
    for entry in chain:
        data = dict(entry.data)
        if entry.kind == "opened":
            snapshot = json.loads(data["case"])
            snapshot.pop("aging", None)
            data["case"] = json.dumps(snapshot)
        elif entry.kind == "payment_reversed":
            data.pop("aging", None)
        previous = out[-1].hash if out else GENESIS
        out.append(seal(entry.case_id, entry.seq, entry.at, entry.kind, data, previous))
    return out


def main() -> None:
    """Build the chain, then time `verify` on it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reversals", type=int, default=200)
    parser.add_argument(
        "--count",
        choices=("verify", "older"),
        help="under valgrind (see bench/instructions.py): instrument only this one",
    )
    args = parser.parse_args()
    run._quiet_logs()
    engine, case_id = build(args.reversals)
    older = as_older_engines_wrote(engine.history(case_id))
    _callgrind("on" if args.count == "verify" else "off")
    started = perf_counter()
    problems = engine.verify()
    seconds = perf_counter() - started
    _callgrind("off")
    assert problems == [], problems
    _callgrind("on" if args.count == "older" else "off")
    started = perf_counter()
    replay(older, check=engine.workflow.entry_problem)
    older_seconds = perf_counter() - started
    _callgrind("off")
    print(
        json.dumps(
            {
                "reversals": args.reversals,
                "entries": len(engine.history(case_id)),
                "verify_seconds": round(seconds, 4),
                "older_chain_seconds": round(older_seconds, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
