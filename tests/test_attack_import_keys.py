"""A key given twice in a JSON Lines row refuses the row, as a column given twice refuses a CSV.

JSON parsers keep the last of two values for one key, others the first: a
line ``{"principal": "1000.10", ..., "principal": "5.00"}`` means one amount
to the loan system that wrote it and another to `arrears`, which kept the
last and opened the case owing 5.00.  The row is bad instead, named by its
line and the repeated key, at the top level or in a whole case's objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from arrears import Engine, InvalidInput, SettableClock
from arrears.importer import import_portfolio
from arrears.simulate import load_portfolio

AT = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
FLAT = (
    '{"id": "L-1", "debtor_id": "D-1", "currency": "CNY", "due_date": "2026-09-01", '
    '"principal": "1000.10", "timezone": "Asia/Shanghai", "principal": "5.00"}'
)
WHOLE = (
    '{"id": "L-2", "debtor": {"id": "D-2", "timezone": "Asia/Shanghai", "id": "D-3"}, '
    '"balance": {"currency": "CNY", "principal": "10.00"}, "due_date": "2026-09-01"}'
)
GOOD = (
    '{"id": "L-3", "debtor_id": "D-3", "currency": "CNY", "due_date": "2026-09-01", '
    '"principal": "20.00", "timezone": "Asia/Shanghai"}'
)


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "portfolio.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_repeated_key_is_a_bad_row(tmp_path: Path) -> None:
    engine = Engine(clock=SettableClock(AT))
    report = import_portfolio(engine, _file(tmp_path, FLAT, WHOLE, GOOD))
    assert [(error.line, error.field, error.message) for error in report.errors] == [
        (1, "principal", "given twice in the row: which value is meant cannot be told"),
        (2, "id", "given twice in the row: which value is meant cannot be told"),
    ]
    assert report.imported == 0
    assert list(engine.store.case_ids()) == []


def test_skip_bad_imports_the_other_rows(tmp_path: Path) -> None:
    engine = Engine(clock=SettableClock(AT))
    report = import_portfolio(engine, _file(tmp_path, FLAT, WHOLE, GOOD), skip_bad=True)
    assert report.imported == 1
    assert list(engine.store.case_ids()) == ["L-3"]


def test_a_simulation_portfolio_refuses_a_repeated_key(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as raised:
        load_portfolio(_file(tmp_path, GOOD, FLAT))
    assert raised.value.field == "portfolio[1].principal"
    assert "given twice" in str(raised.value)


def test_a_required_field_of_the_wrong_type_is_reported_once(tmp_path: Path) -> None:
    """A JSON number where a date or an id is text: one problem a field, not two."""
    line = (
        '{"id": 7, "debtor_id": "D-1", "currency": "CNY", "due_date": 20260901, '
        '"principal": "20.00"}'
    )
    report = import_portfolio(Engine(clock=SettableClock(AT)), _file(tmp_path, line))
    assert [(error.field, error.message) for error in report.errors] == [
        ("id", "expected text, got int"),
        ("due_date", "expected text, got int"),
    ]
