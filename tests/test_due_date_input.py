"""A due date is a date: a time (even midnight) is refused, and so is one past `LATEST_DATE`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from arrears import Case
from arrears.limits import LATEST_DATE

BASE: dict[str, Any] = {
    "id": "LN-1",
    "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
    "balance": {"currency": "CNY", "principal": "1000.00"},
}


@pytest.mark.parametrize(
    "given",
    ["2026-09-01T00:00:00", "2026-09-01T00:00:00+08:00", "2026-09-01 00:00", datetime(2026, 9, 1)],
)
def test_a_time_is_not_a_due_date(given: object) -> None:
    with pytest.raises(ValidationError, match="expected a date, YYYY-MM-DD, not a time"):
        Case.model_validate({**BASE, "due_date": given})


@pytest.mark.parametrize("given", ["9999-12-31", date(3000, 1, 1)])
def test_a_due_date_past_the_bound_is_refused(given: object) -> None:
    with pytest.raises(ValidationError, match="no later than 2999-12-31"):
        Case.model_validate({**BASE, "due_date": given})


def test_the_bound_itself_and_a_plain_date_are_a_due_date() -> None:
    assert Case.model_validate({**BASE, "due_date": LATEST_DATE}).due_date == LATEST_DATE
    assert Case.model_validate({**BASE, "due_date": "2026-09-01"}).due_date == date(2026, 9, 1)
