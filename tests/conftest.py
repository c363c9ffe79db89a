"""Shared fixtures: a settable clock, an engine on it, a factory of valid cases, captured
logs, and a database of each SQL kind to open stores on."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from structlog.testing import capture_logs

from _postgres import Database, database
from arrears import Case, Engine, SettableClock

# Mutation testing (bench/mutation.py) runs the suite with this profile: the same
# examples every run, no example database, and the suite run twice in one process
# (mutmut's statistics pass, then its clean run) is not a flaky test.
settings.register_profile(
    "mutation",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
)

#: 09:00 on 1 October 2026 in Shanghai: 30 days after the due date of `make_case`.
START = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)

#: Personal data in the cases `make_case` builds; none of it may reach a log or a message.
DEBTOR_NAME = "王小明"
CALL_NUMBER = "+8613812345678"
SMS_NUMBER = "+8613900001111"


def _case_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "C-1",
        "debtor": {
            "id": "D-1",
            "name": DEBTOR_NAME,
            "timezone": "Asia/Shanghai",
            "locale": "zh-CN",
        },
        "contacts": [
            {"id": "p1", "channel": "call", "address": CALL_NUMBER, "party": "debtor"},
            {"id": "p2", "channel": "sms", "address": SMS_NUMBER, "party": "debtor"},
        ],
        "balance": {
            "currency": "CNY",
            "principal": "1000.00",
            "interest": "50.00",
            "fees": "0",
            "penalty": "20.00",
        },
        "due_date": "2026-09-01",
    }
    data.update(overrides)
    return data


@pytest.fixture
def clock() -> SettableClock:
    """A clock standing at 2026-10-01T01:00Z (09:00 in Shanghai)."""
    return SettableClock(START)


@pytest.fixture
def engine(clock: SettableClock) -> Engine:
    """An engine with the standard workflow, an in-memory store and the settable clock."""
    return Engine(clock=clock)


@pytest.fixture
def make_case() -> Callable[..., Case]:
    """Build a valid `Case` (CNY 1070.00 overdue since 2026-09-01, debtor in Shanghai).

    Keyword arguments replace top-level fields of the input before validation,
    so a bad override raises `pydantic.ValidationError` as a caller's would.
    """

    def make(**overrides: Any) -> Case:
        return Case.model_validate(_case_data(**overrides))

    return make


@pytest.fixture
def personal_data() -> tuple[str, ...]:
    """The strings in `make_case`'s cases that must never appear in logs or messages."""
    return (DEBTOR_NAME, CALL_NUMBER[3:], SMS_NUMBER[3:])


@pytest.fixture(params=["sqlite", "postgres"])
def sql_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty SQLite file, then a PostgreSQL schema of its own (skipped without a server)."""
    with database(request.param, tmp_path) as made:
        yield made


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A `MemoryStore`, then an empty SQLite file, then a PostgreSQL schema of its own."""
    with database(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def postgres_database(tmp_path: Path) -> Iterator[Database]:
    """An empty PostgreSQL schema of its own (skipped without a server)."""
    with database("postgres", tmp_path) as made:
        yield made


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """Every structlog event emitted during the test, as dicts."""
    with capture_logs() as captured:
        yield captured


#: A line the engine logs through structlog's default renderer: time, [level], event.
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[\w+\s*\]", re.MULTILINE)
#: What personal data looks like: numbers with a country code, Chinese mobile
#: numbers, e-mail addresses, 18-digit resident ids, and the names used in tests.
_PERSONAL = re.compile(
    r"\+\d{7,15}|\b1[3-9]\d{9}\b|[\w.+-]+@[\w-]+\.[\w.]+|\b\d{17}[\dXx]\b"
    r"|王小明|李雷|Jane Roe|John Doe|Zhang San"
)


@pytest.fixture(autouse=True)
def _no_personal_data_in_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Every log line any test makes the library print is free of personal data.

    Log lines go to standard output under structlog's default configuration;
    this reads what each test left there and fails the test on a phone number,
    an e-mail address, an id number or a name in a log line.
    """
    yield
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        for line in stream.splitlines():
            if _LOG_LINE.match(line):
                found = _PERSONAL.search(line)
                assert found is None, f"personal data {found.group(0)!r} in a log line: {line}"
        # Keep the output visible for pytest's report of a failing test.
        print(stream, end="")
