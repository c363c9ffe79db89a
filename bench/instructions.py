"""Count the instructions of the ``judge_contact`` benchmark's judgments, under valgrind.

    valgrind --tool=callgrind --instr-atstart=no python bench/instructions.py [N] [LOANS]

Sets up the benchmark's engine (``bench/run.py``: 50 cases with 200 journal
entries each, *LOANS* cases to a debtor, 1 by default), judges its 400
proposals once to warm it, then turns callgrind's instrumentation on
(``callgrind_control``), runs *N* judgments (400 by default: each proposal
once) and turns it off: callgrind's ``Collected`` line is then the count of
those judgments alone.  An instruction count does not move with the load of the
machine, so two revisions can be compared on a shared machine
(``PYTHONPATH=…/src`` picks the library; set ``PYTHONHASHSEED`` on both sides).
Run without valgrind, it only times the judgments.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import run


def _callgrind(switch: str) -> None:
    """Turn callgrind's instrumentation of this process on or off (nothing outside valgrind)."""
    control = shutil.which("callgrind_control")
    if control is not None and "valgrind" in os.environ.get("LD_PRELOAD", ""):
        subprocess.run([control, "-i", switch, str(os.getpid())], check=True, capture_output=True)


def main(argv: list[str]) -> int:
    """Judge *N* proposals of the benchmark, instrumented, and print what was allowed."""
    n = int(argv[0]) if argv else 400
    loans = int(argv[1]) if len(argv) > 1 else 1
    run._quiet_logs()
    engine, work = run._judging_engine(loans)
    for case_id, proposal, at in work:  # warm: each case's history folded once
        engine.judge_contact(case_id, proposal, at=at, record=False)
    allowed = 0
    _callgrind("on")
    start = time.perf_counter()
    for number in range(n):
        case_id, proposal, at = work[number % len(work)]
        allowed += engine.judge_contact(case_id, proposal, at=at, record=False).allowed
    seconds = time.perf_counter() - start
    _callgrind("off")
    print(f"{n} judgments, {loans} loan(s) to each debtor: {allowed} allowed, {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
