"""Mutation testing of the modules that carry the library's promises.

    python bench/mutation.py [TARGET...] [--only GLOB...] [--max-children N] [--fail-under PCT]
    python bench/mutation.py --list

For each target (default: all of them, `TARGETS`) this copies the working tree
into ``.mutation/<target>/``, runs mutmut 3 on the target's files with the
target's tests, then runs every mutant mutmut saw survive again, **each in a
fresh Python process** (``MUTANT_UNDER_TEST=<name> python -m pytest ...``):
mutmut forks its workers from one process that has already run the suite, so
a cache filled before the fork (a compiled rule set, a parsed policy, a
hypothesis example database) can hide a mutant. A mutant killed in the fresh
process counts as killed.

It prints, per target, the number of mutants, how many were killed, how many
survive, how many are reviewed equivalents and the score::

    score = killed / (mutants - equivalents)

where a mutant no test reaches (mutmut's "no tests") survives and a mutant
that makes a test time out is killed. Survivors are listed with their diff in
``.mutation/<target>/survivors.txt``. The exit status is 1 when a target
scores under ``--fail-under`` (90 by default).

``--only`` mutates only the functions whose mutant names match one of the
globs (``'arrears.compliance.rules.x_earliest_local*'``), for working on one
part of a large module; the score is then that part's.

Equivalent mutants
    ``bench/mutation_equivalents/<target>.toml`` lists the mutants reviewed as
    equivalent (no input can tell them from the original), each with the line
    the mutant writes and why it is equivalent::

        [[equivalent]]
        mutant = "arrears.money.x_allocate__mutmut_12"
        line = "        remaining = amount.amount"
        why = "..."

    Mutant names number the mutations of a function in order, so an edit of
    the function can give a name to another mutation: an entry whose ``line``
    is no longer in its mutant's diff is reported as stale and not excluded
    (review it again).

Needs the ``mutation`` extra (``pip install -e '.[test,mutation]'``). A full
run of every target takes tens of minutes on two cores; one target a few.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
EQUIVALENTS = Path(__file__).resolve().parent / "mutation_equivalents"

#: What is copied into a target's working directory (mutmut mutates the copy).
COPIED = (
    "src",
    "tests",
    "examples",
    "docs",
    "pyproject.toml",
    "README.md",
    "mkdocs.yml",
    "CHANGELOG.md",
)

#: What mutmut copies into its ``mutants`` directory by itself.
MUTMUT_COPIES = ("src", "tests", "pyproject.toml")

#: Options of every pytest run: the same hypothesis examples each time and no cache.
PYTEST_ARGS = ("-p", "no:cacheprovider", "-q", "--hypothesis-profile=mutation")


@dataclass(frozen=True)
class Target:
    """A set of modules under mutation, and the tests meant to pin them.

    ``functions``, when given, restricts the score to the mutants of functions
    whose mutmut name starts with one of these prefixes (mutmut names a method
    ``xǁClassǁmethod`` and a function ``x_function``).

    ``at_import`` names (by the same prefixes) functions the module calls while
    it is imported: mutmut's statistics give such a function to whichever test
    happened to run first, so their mutants are re-run against every test of
    the target instead.
    """

    files: tuple[str, ...]
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()
    at_import: tuple[str, ...] = ()


#: The modules that carry the promises, and their tests.
TARGETS: dict[str, Target] = {
    "money": Target(
        files=("src/arrears/money.py",),
        tests=("tests/test_money.py", "tests/test_payments.py"),
    ),
    "guards": Target(
        files=("src/arrears/guards.py",),
        tests=("tests/test_guards.py", "tests/test_workflow.py"),
    ),
    "rules": Target(
        files=("src/arrears/compliance/rules.py",),
        tests=(
            "tests/test_compliance.py",
            "tests/test_scenario_suite.py",
            "tests/test_debtors.py",
            "tests/test_rules_boundaries.py",
            "tests/test_rules_families.py",
        ),
    ),
    "packs": Target(
        files=("src/arrears/compliance/packs.py",),
        tests=(
            "tests/test_compliance.py",
            "tests/test_scenario_suite.py",
            "tests/test_debtors.py",
            "tests/test_pack_parameters.py",
        ),
        at_import=("x__deceased",),
    ),
    "journal": Target(
        files=("src/arrears/journal.py",),
        tests=(
            "tests/test_journal.py",
            "tests/test_tamper.py",
            "tests/test_tamper_anchored.py",
            "tests/test_checkpoints.py",
        ),
    ),
    "decide": Target(
        files=("src/arrears/workflow.py",),
        tests=("tests/test_workflow.py", "tests/test_guard_bypass.py", "tests/test_write_path.py"),
        functions=("xǁWorkflowǁdecide",),
    ),
}

KILLED, SURVIVED, NO_TESTS, TIMEOUT = "killed", "survived", "no tests", "timeout"


@dataclass(frozen=True)
class Equivalent:
    """A reviewed equivalent mutant (see the module docstring)."""

    mutant: str
    line: str
    why: str


def load_equivalents(target: str) -> dict[str, Equivalent]:
    """The reviewed equivalent mutants of a target, by mutant name."""
    path = EQUIVALENTS / f"{target}.toml"
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text("utf-8"))
    found: dict[str, Equivalent] = {}
    for entry in data.get("equivalent", []):
        equivalent = Equivalent(entry["mutant"], entry["line"], entry["why"])
        if not equivalent.why.strip():
            raise SystemExit(f"{path}: {equivalent.mutant} has no reason")
        found[equivalent.mutant] = equivalent
    return found


def module_of(path: str) -> str:
    """The dotted module name of a file under ``src/``."""
    return ".".join(Path(path).with_suffix("").relative_to("src").parts)


def globs_of(target: Target, only: list[str]) -> list[str]:
    """The mutant names to run: ``--only``'s, else the target's functions', else every one."""
    if only:
        return only
    return [
        f"{module_of(path)}.{function}__mutmut_*"
        for path in target.files
        for function in target.functions
    ]


def prepare(name: str, target: Target, only: list[str]) -> Path:
    """A fresh copy of the tree in ``.mutation/<name>[-<part>]`` configured for mutmut."""
    part = hashlib.sha256("\0".join(only).encode()).hexdigest()[:8] if only else ""
    work = WORK / (f"{name}-{part}" if part else name)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for item in COPIED:
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(
                source, work / item, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis")
            )
        elif source.exists():
            shutil.copy2(source, work / item)
    config = "\n".join(
        [
            "",
            "[tool.mutmut]",
            'source_paths = ["src/arrears"]',
            f"only_mutate = {json.dumps(list(target.files))}",
            f"pytest_add_cli_args_test_selection = {json.dumps(list(target.tests))}",
            f"pytest_add_cli_args = {json.dumps(list(PYTEST_ARGS))}",
            f"also_copy = {json.dumps([c for c in COPIED if c not in MUTMUT_COPIES])}",
            # Each worker is forked from a server that never ran the suite.
            'process_isolation = "forkserver"',
            "",
        ]
    )
    with (work / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(config)
    return work


def mutmut(work: Path, *args: str, check: bool = True) -> str:
    """Run ``mutmut ARGS`` in ``work``; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise SystemExit(
            f"mutmut {' '.join(args)} failed in {work}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def statuses(work: Path, target: Target, globs: list[str]) -> dict[str, str]:
    """Each mutant of the target's files matching the globs, and what mutmut made of it."""
    modules = tuple(f"{module_of(path)}." for path in target.files)
    found: dict[str, str] = {}
    for line in mutmut(work, "results", "--all", "true").splitlines():
        mutant, _, status = line.strip().rpartition(": ")
        if not mutant.startswith(modules):
            continue
        if globs and not any(fnmatch.fnmatchcase(mutant, glob) for glob in globs):
            continue
        found[mutant] = status
    return found


def tests_of(work: Path, mutant: str) -> list[str]:
    """The tests that reach the mutant's function (mutmut's statistics pass)."""
    stats = json.loads((work / "mutants" / "mutmut-stats.json").read_text("utf-8"))
    function = mutant.rsplit("__mutmut_", 1)[0]
    return sorted(stats["tests_by_mangled_function_name"].get(function, []))


def rerun_fresh(work: Path, mutant: str, target: Target) -> bool:
    """Whether the mutant's tests fail when run in a new process (it is killed)."""
    function = mutant.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1]
    imported = any(function.startswith(prefix) for prefix in target.at_import)
    tests = list(target.tests) if imported else tests_of(work, mutant)
    if not tests:
        return False
    env = dict(os.environ, MUTANT_UNDER_TEST=mutant, PYTHONPATH=str(work / "mutants" / "src"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", *PYTEST_ARGS, *tests],
        cwd=work / "mutants",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # 1: a test failed; 2: collection failed (a module-level use of the mutant); 3: pytest crashed.
    # 4 is a usage error, and also what pytest returns when the conftest cannot import the
    # package: a mutant of a function run at import that breaks it fails every test.
    if done.returncode == 4 and "ImportError while loading conftest" in done.stderr:
        return True
    if done.returncode not in (0, 1, 2, 3):
        raise SystemExit(
            f"pytest could not run {mutant} (exit {done.returncode}):\n{done.stdout[-3000:]}"
        )
    return done.returncode != 0


def run_target(name: str, target: Target, max_children: int, only: list[str]) -> float:
    """Mutate one target; print and return its score (percent)."""
    equivalents = load_equivalents(name)
    globs = globs_of(target, only)
    work = prepare(name, target, only)
    mutmut(work, "run", "--max-children", str(max_children), *globs, check=False)
    found = statuses(work, target, globs)
    if not found:
        raise SystemExit(f"{name}: mutmut produced no mutants (see mutmut run in {work})")
    maybe = [m for m, status in found.items() if status not in (KILLED, TIMEOUT, NO_TESTS)]
    with ThreadPoolExecutor(max_workers=max_children) as pool:
        for mutant, killed in zip(
            maybe, pool.map(lambda m: rerun_fresh(work, m, target), maybe), strict=True
        ):
            found[mutant] = KILLED if killed else SURVIVED
    survivors = sorted(m for m, status in found.items() if status not in (KILLED, TIMEOUT))
    with ThreadPoolExecutor(max_workers=max_children) as pool:
        diffs = dict(
            zip(
                survivors,
                pool.map(lambda m: mutmut(work, "show", m, check=False), survivors),
                strict=True,
            )
        )
    excluded, stale = [], []
    for mutant in survivors:
        equivalent = equivalents.get(mutant)
        if equivalent is None:
            continue
        if equivalent.line.strip() and equivalent.line.rstrip() in diffs[mutant]:
            excluded.append(mutant)
        else:
            stale.append(mutant)
    remaining = [m for m in survivors if m not in excluded]
    killed = len(found) - len(survivors)
    score = 100.0 * killed / max(1, len(found) - len(excluded))
    report = work / "survivors.txt"
    report.write_text("\n".join(diffs[m] for m in remaining), encoding="utf-8")
    print(
        json.dumps(
            {
                "target": name,
                "mutants": len(found),
                "killed": killed,
                "survived": len(remaining),
                "equivalent": len(excluded),
                "stale_equivalents": stale,
                "score": round(score, 1),
                "survivors": str(report.relative_to(ROOT)),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    return score


def main(argv: Iterable[str] | None = None) -> int:
    """Run the named targets (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"one of {', '.join(TARGETS)}")
    parser.add_argument("--list", action="store_true", help="list the targets and their files")
    parser.add_argument(
        "--only", nargs="+", default=[], metavar="GLOB", help="mutate only these mutant names"
    )
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--fail-under", type=float, default=90.0)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.list:
        for name, target in TARGETS.items():
            scope = ", ".join(target.functions) or "every function"
            print(f"{name}: {', '.join(target.files)} ({scope})")
        return 0
    unknown = [name for name in args.targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}: choose among {', '.join(TARGETS)}")
    scores = {
        name: run_target(name, TARGETS[name], args.max_children, args.only)
        for name in args.targets or TARGETS
    }
    return 0 if all(score >= args.fail_under for score in scores.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
