"""Values at the edges through a PostgreSQL commit's journal columns: the ``INSERT``
from binary arrays (up to 1,000 entries) and ``COPY`` (more), read back as written.

Needs a server: ``ARREARS_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/test``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from _postgres import fresh_schema, postgres_url
from arrears import Case
from arrears.journal import GENESIS, JournalEntry, seal, verify_chain

pytest.importorskip("psycopg", reason="pip install 'arrears[postgres]'")

from arrears.stores.postgres import _INSERT_MAX, PostgresStore

#: The longest case id an `Identifier` allows.
LONGEST_ID = "L" + "x" * 127
TEXTS = ("", "\U0001f600 \U00010348", "\x00", "é" * 2_000, "\u2028\u2029\ufeff", "'\"\\")
#: In order, from the far past to the far future, in zones with odd offsets.
MOMENTS = (
    # The first microsecond: datetime.min itself marks an `at` column that does not read
    # (arrears.journal.UNREADABLE_AT), which verify reports as changed.
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(1900, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")),  # local mean time, +08:05:43
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # a microsecond before 2000
    datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30, microseconds=5))),
    datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=ZoneInfo("Europe/London")),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
)


@pytest.fixture
def store() -> Iterator[PostgresStore]:
    url = postgres_url()
    with fresh_schema(url) as schema, PostgresStore(url, schema=schema, max_size=2) as opened:
        yield opened


def written(store: PostgresStore, make_case: Callable[..., Case], count: int) -> list[JournalEntry]:
    """A case with the longest id and *count* entries after its opening, written in one
    commit, each with a text of `TEXTS` at a moment of `MOMENTS` (in order)."""
    case = make_case(id=LONGEST_ID)
    case.version = 1
    entries = [seal(case.id, 0, MOMENTS[0], "opened", {"case": case.model_dump_json()}, GENESIS)]
    store.add(case, entries[0])
    with store.transaction():
        for seq in range(1, count + 1):
            at = MOMENTS[min(seq * len(MOMENTS) // (count + 1), len(MOMENTS) - 1)]
            data = {"text": TEXTS[seq % len(TEXTS)]}
            entry = seal(case.id, seq, at, "note", data, entries[-1].hash)
            case.version += 1
            store.append(entry, case)
            entries.append(entry)
    return entries


@pytest.mark.parametrize("count", [1, _INSERT_MAX - 1, _INSERT_MAX, _INSERT_MAX + 1, 2_500])
def test_edge_values_are_read_back_as_written(
    store: PostgresStore, make_case: Callable[..., Case], count: int
) -> None:
    """Astral characters, NUL, empty and 2,000-character texts, the longest id, and
    moments from year 1 to 9999 at microsecond precision, with offsets of seconds and
    microseconds: the same bytes, hashes and instants come back, and the chain holds."""
    sent = written(store, make_case, count)
    [(case_id, got)] = list(store.chains())
    assert case_id == LONGEST_ID
    assert [(e.seq, e.kind, e.body, e.hash) for e in got] == [
        (e.seq, e.kind, e.body, e.hash) for e in sent
    ]
    assert [e.at for e in got] == [e.at.astimezone(UTC) for e in sent]
    assert verify_chain(case_id, got) == []
