"""The schedules the documentation gives for the daily tick run as written.

`arrears tick --db FILE --policy POLICY` names no channel adapter, so it
refuses (exit 2) any policy whose steps send messages, as every example policy
does: a cron line, a timer or a CronJob copied from the documentation in that
form would fail at every run.  The documented tick commands name a
configuration file (`--config`), which gives the adapters, or plan only
(`--dry-run`).
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

from _cli import arrears

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
#: ``arrears tick ...`` on one line, or as the argument list of a container.
TICK = re.compile(r"arrears\b[\"',\s]+tick\b.*")


def _tick_commands() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in TICK.finditer(line):
                if "--db" in match.group(0) or "--config" in match.group(0):
                    found.append((f"{path.relative_to(ROOT)}:{number}", match.group(0)))
    return found


def test_the_documentation_shows_tick_commands() -> None:
    assert len(_tick_commands()) >= 5


@pytest.mark.parametrize(("where", "command"), _tick_commands())
def test_every_documented_tick_names_its_adapters_or_only_plans(where: str, command: str) -> None:
    assert "--config" in command or "--dry-run" in command, f"{where}: {command}"


def test_a_tick_without_adapters_refuses_the_example_policy(tmp_path: Path) -> None:
    """What the documented form did: exit 2, naming the channel and the way out."""
    policy = files("arrears") / "examples" / "policies" / "cn_consumer_loan.yaml"
    db = tmp_path / "arrears.db"
    portfolio = tmp_path / "portfolio.csv"
    portfolio.write_text(
        "id,debtor_id,currency,due_date,principal,timezone,phone\n"
        "L-1,D-1,CNY,2026-08-01,1000.00,Asia/Shanghai,+8613812345678\n",
        encoding="utf-8",
    )
    assert arrears("import", "--db", db, "--policy", policy, portfolio).returncode == 0
    result = arrears("tick", "--db", db, "--policy", policy)
    assert result.returncode == 2
    assert "no channel adapter for sms" in result.stderr
    assert "--config" in result.stderr
