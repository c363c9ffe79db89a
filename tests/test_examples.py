"""The scripts in examples/ run, exit 0 and say what they are for, so they never rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: A line each example prints when it did its job.
KEY_LINES = {
    "quickstart.py": "All replayed cases equal the live ones.",
    "custom_workflow.py": "- has_postal_address: no postal address for the debtor",
    "hardship_plan.py": "The replayed case equals the live one.",
    "debtor_loans.py": "Every loan replayed from its journal equals the live one.",
}

#: Personal data the examples put into their cases; none of it may be printed or logged.
PERSONAL_DATA = (
    "王小明",
    "Jane Roe",
    "John Doe",
    "+8613812345678",
    "+12125550100",
    "Musterstraße",
    "+4915112345678",
    "+33612345678",
)


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
        cwd=script.parent.parent,
    )


def scripts() -> list[Path]:
    return sorted(EXAMPLES.glob("*.py"))


class TestExamples:
    def test_every_example_has_a_key_line(self) -> None:
        """Each example in examples/ is listed here with the line that proves it worked."""
        assert sorted(path.name for path in scripts()) == sorted(KEY_LINES)

    @pytest.mark.parametrize("script", scripts(), ids=lambda path: path.name)
    def test_runs_and_prints_its_key_line(self, script: Path) -> None:
        """The example exits 0, writes nothing to stderr and prints its key line."""
        done = run(script)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert KEY_LINES[script.name] in done.stdout

    @pytest.mark.parametrize("script", scripts(), ids=lambda path: path.name)
    def test_prints_no_personal_data(self, script: Path) -> None:
        """Names, phone numbers and addresses given to the cases never reach the output."""
        done = run(script)
        for value in PERSONAL_DATA:
            assert value not in done.stdout

    def test_quickstart_logs_without_personal_data(self) -> None:
        """With -v the quickstart shows the engine's log lines, which carry no personal data."""
        done = run(EXAMPLES / "quickstart.py", "-v")
        assert done.returncode == 0, done.stderr
        assert "transition_refused" in done.stderr
        assert "case_id=CN-LOAN-0001" in done.stderr
        for value in PERSONAL_DATA:
            assert value not in done.stderr

    def test_quickstart_walks_the_story(self) -> None:
        """The quickstart shows a refusal with every failed guard, four eyes and a cure."""
        out = run(EXAMPLES / "quickstart.py").stdout
        assert "- attempts_at_least(3): 0 contact attempts recorded, needs at least 3" in out
        assert "- no_active_hold(): active hold: dispute" in out
        assert "four eyes need two people" in out
        assert "suit filed, approved by sup-001: legal.litigation" in out
        assert "cure: phone -> pre_due" in out
        assert "verify(): intact" in out

    def test_hardship_plan_walks_the_story(self) -> None:
        """Promise partly kept, extension plan with a February instalment on the 28th, one
        instalment late and caught up within grace, plan completed and the case resolved."""
        out = run(EXAMPLES / "hardship_plan.py").stdout
        assert "promise partly_kept: paid 800.00 CNY, short 1200.00 CNY; stage phone" in out
        assert "due 2027-02-28" in out
        assert "2027-03-02 review: active, late [1]" in out
        assert "2027-03-11 review: active, late [1]" in out
        assert "plan completed; stage resolved; arrears 0.00 CNY" in out
        assert "verify(): intact" in out
