"""Compare one benchmark on the code of a git revision and on the code now, in the same hour.

    python bench/compare.py REV NAME [--rounds N] [--quick] [--n N] [--old-bench]

e.g. ``python bench/compare.py HEAD tick_sqlite --rounds 3``: how the working
tree (committed or not) compares with the last commit.

The revision is checked out into a temporary git worktree (removed at the
end).  Each round runs the benchmark's measured side once on the old code
(``PYTHONPATH`` set to the worktree's ``src``) and once on the code now (this
checkout's ``src``), each in a process of its own, one right after the
other; the order alternates from round to round (old first, then new first),
so neither side always runs first.  The benchmark itself (its portfolio, its
policy file, its floor) is this checkout's ``bench/run.py`` for both sides,
so only the library differs; ``--old-bench`` runs the worktree's own
``bench/run.py`` (and its inputs) for the old side instead.

It prints one line per run (seconds; for the ticks also the floor, measured in
the same process: see ``bench/run.py``), then the ratio new/old: the median of
the rounds' ratios, each taken between two runs a few seconds apart, with
their range.  Below 1 the code now is faster.  For the ticks it prints the
floor's own ratio new/old too: the floor is the same code on both sides, so
how far that strays from 1 is the noise of the hour.  The last line is the
same as JSON.

Benchmarks: ``load_and_fire``, ``judge_contact``, ``judge_contact_debtors``
(the same judgments with five loans to each debtor), ``tick_memory``,
``tick_sqlite`` and ``simulate`` (their measured side only: no baselines), at
the sizes ``bench/run.py`` uses (``--quick`` for its small ones; ``--n`` for
any other).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from run import SIZES

ROOT = Path(__file__).resolve().parents[1]
#: The benchmark of ``bench/run.py`` whose sizes a variant here takes.
SIZED_AS = {"judge_contact_debtors": "judge_contact"}
#: The worker of ``bench/run.py`` that measures each benchmark's own side.
MEASURED = {
    "load_and_fire": "ours_load_and_fire",
    "judge_contact": "ours_judge_contact",
    "judge_contact_debtors": "ours_judge_contact_debtors",
    "tick_memory": "ours_tick_memory",
    "tick_sqlite": "ours_tick_sqlite",
    "simulate": "ours_simulate",
}


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _environment(src: Path) -> dict[str, str]:
    """This process's environment with *src* first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    return env


def _check_imports(src: Path) -> None:
    """Fail early unless ``import arrears`` under *src*'s path finds the library in *src*."""
    found = subprocess.run(
        [sys.executable, "-c", "import arrears; print(arrears.__file__)"],
        capture_output=True,
        text=True,
        env=_environment(src),
    )
    if found.returncode != 0:
        last = (found.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SystemExit(f"compare: the code in {src} does not import: {last}")
    where = Path(found.stdout.strip()).resolve()
    if not where.is_relative_to(src.resolve()):
        raise SystemExit(f"compare: importing arrears under {src} found {where} instead")


def _run(bench: Path, src: Path, worker: str, n: int) -> dict[str, Any]:
    """One run of *worker* on *n* cases, on the library in *src*: its JSON result."""
    done = subprocess.run(
        [sys.executable, str(bench), "--worker", worker, str(n)],
        capture_output=True,
        text=True,
        env=_environment(src),
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        hint = "" if bench.is_relative_to(src.parent) else " (--old-bench runs its own bench)"
        raise SystemExit(f"compare: {worker} failed on the code in {src}{hint}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (from {min(values):.3f} to {max(values):.3f})"


def compare(
    revision: str, name: str, rounds: int, n: int, *, old_bench: bool = False
) -> dict[str, Any]:
    """Alternate *rounds* runs of benchmark *name* on *revision*'s code and on the code now."""
    commit = _git("rev-parse", "--verify", f"{revision}^{{commit}}")
    folder = Path(tempfile.mkdtemp(prefix="arrears-compare-"))
    tree = folder / "old"
    worker = MEASURED[name]
    _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
    try:
        sides = {
            "old": (tree / "bench/run.py" if old_bench else ROOT / "bench/run.py", tree / "src"),
            "new": (ROOT / "bench/run.py", ROOT / "src"),
        }
        for _, src in sides.values():
            _check_imports(src)
        print(f"{name}, n={n}: old = {revision} ({commit[:12]}), new = the code now in {ROOT}")
        runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for number in range(rounds):
            for side in ("old", "new") if number % 2 == 0 else ("new", "old"):
                bench, src = sides[side]
                result = _run(bench, src, worker, n)
                runs[side].append(result)
                line = f"round {number + 1}  {side}  {result['seconds']:8.3f} s"
                if "floor_s" in result:
                    ratio = result["seconds"] / result["floor_s"]
                    line += f"  floor {result['floor_s']:.3f} s  floor_ratio {ratio:.1f}"
                print(line, flush=True)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
    pairs = list(zip(runs["old"], runs["new"], strict=True))
    ratios = [new["seconds"] / old["seconds"] for old, new in pairs]
    summary: dict[str, Any] = {
        "bench": name,
        "n": n,
        "old": commit,
        "rounds": rounds,
        "old_s": [round(run["seconds"], 3) for run in runs["old"]],
        "new_s": [round(run["seconds"], 3) for run in runs["new"]],
        "ratio": round(statistics.median(ratios), 3),
        "ratios": [round(ratio, 3) for ratio in ratios],
    }
    print(f"new/old: {_spread(ratios)}, median of {rounds} rounds")
    if all("floor_s" in run for run in runs["old"] + runs["new"]):
        floors = [new["floor_s"] / old["floor_s"] for old, new in pairs]
        summary["floor_ratio_old"] = [round(r["seconds"] / r["floor_s"], 2) for r in runs["old"]]
        summary["floor_ratio_new"] = [round(r["seconds"] / r["floor_s"], 2) for r in runs["new"]]
        summary["floor_new_over_old"] = round(statistics.median(floors), 3)
        print(f"floor new/old (the same code on both sides: the noise): {_spread(floors)}")
    print(json.dumps(summary))
    return summary


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", metavar="REV", help="the git revision before the change")
    parser.add_argument("name", metavar="NAME", choices=sorted(MEASURED), help="the benchmark")
    parser.add_argument("--rounds", type=int, default=3, help="runs on each side (default 3)")
    parser.add_argument("--quick", action="store_true", help="bench/run.py's small sizes")
    parser.add_argument("--n", type=int, help="cases (or judgments) per run, instead")
    parser.add_argument(
        "--old-bench",
        action="store_true",
        help="run the revision's own bench/run.py for the old side",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, not {args.rounds}")
    sizes = SIZES[SIZED_AS.get(args.name, args.name)]
    n = args.n if args.n is not None else sizes[0 if args.quick else 1]
    if n < 1:
        parser.error(f"--n must be at least 1, not {n}")
    compare(args.revision, args.name, args.rounds, n, old_bench=args.old_bench)
    return 0


if __name__ == "__main__":
    sys.exit(main())
