"""The compliance scenario suite: every file under tests/scenarios passes, and it covers every rule.

Scenarios under ``tests/scenarios/_pending`` show behaviour the law requires
that the rules do not have yet; they are kept out of these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from arrears.compliance import PACKS
from arrears.scenarios import run_scenario

SUITE = Path(__file__).parent / "scenarios"
PENDING = SUITE / "_pending"

#: Rules that judge no contact, so no scenario can show them denying one.
NOT_A_CONTACT_RULE = frozenset({"CN-RECORDS", "US-RECORDS"})

MINIMUM_FILES = 60


def _scenario_files() -> list[Path]:
    files = [
        path
        for path in sorted(SUITE.rglob("*"))
        if path.suffix in (".yaml", ".yml") and path.is_file()
    ]
    return [path for path in files if PENDING not in path.parents]


FILES = _scenario_files()


@pytest.mark.parametrize("path", FILES, ids=[str(path.relative_to(SUITE)) for path in FILES])
def test_scenario_passes(path: Path) -> None:
    result = run_scenario(path)
    assert result.passed, f"{result.name}\n" + "\n".join(result.failures)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def test_suite_has_enough_scenarios() -> None:
    assert len(FILES) >= MINIMUM_FILES, f"{len(FILES)} scenario files, at least {MINIMUM_FILES}"


def test_every_rule_is_shown_denying() -> None:
    """Each rule of each pack is named among the reasons of at least one deny expectation."""
    shown: set[str] = set()
    for path in FILES:
        for entry in _load(path).get("expect") or ():
            if entry.get("verdict") == "deny":
                shown.update(entry.get("rules") or ())
    every = {rule.id for pack in PACKS.values() for rule in pack.rules} - NOT_A_CONTACT_RULE
    missing = sorted(every - shown)
    assert not missing, f"rules never shown denying a contact: {', '.join(missing)}"


def test_every_pack_has_an_allowed_contact() -> None:
    """Each pack is used by at least one scenario that expects a contact to be allowed."""
    allowed: set[str] = set()
    for path in FILES:
        data = _load(path)
        if any(entry.get("verdict") == "allow" for entry in data.get("expect") or ()):
            allowed.update(data.get("rules") or ())
    missing = sorted(set(PACKS) - allowed)
    assert not missing, f"packs never shown allowing a contact: {', '.join(missing)}"
