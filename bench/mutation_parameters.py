"""Mutation testing of the packs' parameters: the numbers, times and scopes a regulation fixes.

    python bench/mutation_parameters.py [--only TEXT] [--sets]

mutmut mutates code, and a pack's parameters are data (`arrears.compliance.packs`
builds each rule once, at import), so ``bench/mutation.py packs`` never moves
them.  This moves each one a step and runs the ``packs`` target's tests
(`bench/mutation.py`'s ``TARGETS``) against it: every integer parameter a
rule was given (limits, days, years) by one up and one down, every time of
day (``start``, ``end``) by one minute each way, every boolean flipped, every
counting scope (``per``, ``across``) and ``first_day`` to each other value;
with ``--sets``, every set it was given (channels, outcomes, parties) less one
member.  A value the rule itself refuses (a limit of -1) is not counted.
Only parameters the pack sets explicitly are moved, not a rule kind's
defaults.

Each mutant runs in a process of its own (the rule is replaced in
`arrears.compliance.packs.PACKS` before any test imports a pack, so no cache
holds the original).  It prints one line per mutant, ``KILLED`` with the
first failing test or ``SURVIVED``, then a JSON line with the score; the exit
status is 1 under ``--fail-under`` (90 by default).  ``--only`` keeps the
mutants whose label (``CN-HOURS.end -> 21:59:00``) contains the text.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from datetime import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutation import PYTEST_ARGS, TARGETS  # noqa: E402

INTEGERS = (
    "limit",
    "days",
    "hours",
    "quiet_days",
    "consent_exempt_days",
    "failed_attempts",
    "years",
    "limitation_years",
    "default_days",
    "days_after_notice",
)
BOOLEANS = ("work", "written_only", "validation_period", "enabled", "once")
CHOICES = {
    "per": ("contact", "person", "case"),
    "across": ("debt", "debtor"),
    "first_day": ("same", "next"),
}

Mutant = tuple[str, str, str, Any]
#: The exit status of a mutant whose value the rule refuses: not a mutant at all.
REFUSED = 99


def mutants(sets: bool) -> list[Mutant]:
    """(pack, rule id, field, new value) for every parameter step."""
    from arrears.compliance.packs import PACKS

    found: list[Mutant] = []
    for pack_id, pack in PACKS.items():
        for rule in pack.rules:
            for field in sorted(rule.model_fields_set):
                value = getattr(rule, field)
                if field in INTEGERS and isinstance(value, int) and not isinstance(value, bool):
                    found += [(pack_id, rule.id, field, value + step) for step in (-1, 1)]
                elif field in ("start", "end") and isinstance(value, time):
                    minutes = value.hour * 60 + value.minute
                    for moved in (minutes - 1, minutes + 1):
                        if 0 <= moved < 24 * 60:
                            found.append((pack_id, rule.id, field, time(moved // 60, moved % 60)))
                elif field in BOOLEANS and value is None:
                    found += [(pack_id, rule.id, field, flag) for flag in (True, False)]
                elif field in BOOLEANS and isinstance(value, bool):
                    found.append((pack_id, rule.id, field, not value))
                elif field in CHOICES:
                    others = [choice for choice in CHOICES[field] if choice != value]
                    found += [(pack_id, rule.id, field, choice) for choice in others]
                elif sets and isinstance(value, frozenset) and value:
                    for member in sorted(value, key=str):
                        found.append((pack_id, rule.id, field, value - {member}))
    return found


def label(mutant: Mutant) -> str:
    """``RULE.field -> value``, as printed."""
    _, rule_id, field, value = mutant
    shown = sorted(map(str, value)) if isinstance(value, frozenset) else value
    return f"{rule_id}.{field} -> {shown}"


def run_one(index: int, sets: bool) -> int:
    """Apply mutant *index* and run the tests in this process; pytest's exit status."""
    import pytest

    from arrears.compliance import packs

    pack_id, rule_id, field, value = mutants(sets)[index]
    pack = packs.PACKS[pack_id]
    try:  # validated as a pack's own value would be
        rules = tuple(
            type(rule).model_validate({**dict(rule), field: value}) if rule.id == rule_id else rule
            for rule in pack.rules
        )
    except ValueError:
        return REFUSED
    packs.PACKS[pack_id] = dataclasses.replace(pack, rules=rules)
    os.chdir(ROOT)
    return int(pytest.main(["-x", *PYTEST_ARGS, *TARGETS["packs"].tests]))


def main() -> int:
    """Run every mutant (or those ``--only`` names), each in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="keep the mutants whose label contains this")
    parser.add_argument("--sets", action="store_true", help="also take one member out of sets")
    parser.add_argument("--fail-under", type=float, default=90.0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        return run_one(args.one, args.sets)
    killed = total = 0
    for index, mutant in enumerate(mutants(args.sets)):
        if args.only not in label(mutant):
            continue
        command = [sys.executable, __file__, "--one", str(index)]
        done = subprocess.run(
            [*command, *(["--sets"] if args.sets else [])],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        failed = next(
            (line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))),
            "",
        )
        if done.returncode == REFUSED:
            print(f"REFUSED  {label(mutant)}", flush=True)
            continue
        total += 1
        killed += done.returncode != 0
        status = "KILLED  " if done.returncode != 0 else "SURVIVED"
        print(f"{status} {label(mutant)}   {failed[:160]}", flush=True)
    score = 100.0 * killed / max(1, total)
    summary = {"target": "pack parameters", "mutants": total, "killed": killed}
    print(json.dumps({**summary, "score": round(score, 1)}))
    return 0 if score >= args.fail_under else 1


if __name__ == "__main__":
    sys.exit(main())
