"""`SQLiteStore` beyond the contract: the file, its schema and migrations, tampering, the engine.

The contract every store passes is in ``test_store_contract.py``; here are
what only a file brings: the tables as documented, WAL, schema versions, a
journal edited by hand with SQL and found by `Engine.verify`, an engine that
works a portfolio, closes, and continues from the file in a new process's
place, and a review rolled back half-way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, Money, SettableClock
from arrears.channels import RecordingChannel
from arrears.policy import load_policy
from arrears.stores import SchemaMismatch, SQLiteStore, open_store
from arrears.stores._sql import SCHEMA_VERSION, from_micros, to_micros
from arrears.stores.sqlite import MIGRATIONS

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = Path(__file__).resolve().parents[1] / "examples" / "policies" / "cn_consumer_loan.yaml"
#: 09:30 in Shanghai, the CN policy's review time, on 2 November 2026.
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=SHANGHAI)


def loan(number: int, overdue: int) -> dict[str, Any]:
    """A CN consumer loan *overdue* days past due (negative: not yet due)."""
    due = (NOW - timedelta(days=overdue)).date()
    balance = {"currency": "CNY", "principal": f"{1000 + number}.00", "interest": "52.10"}
    if overdue < 0:
        balance = {"currency": "CNY", "principal": "0", "not_due": f"{1000 + number}.00"}
    return {
        "id": f"L-{number:04d}",
        "debtor": {"id": f"D-{number:04d}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [
            {"id": "mobile", "channel": "call", "address": f"+86138{number:08d}"},
            {"id": "sms", "channel": "sms", "address": f"+86139{number:08d}"},
        ],
        "balance": balance,
        "due_date": due.isoformat(),
    }


#: Loans at the days past due where the CN policy acts: reminders, SMS, calls, a visit.
OVERDUE = (-3, 1, 3, 7, 10, 14, 16, 21, 46, 50, 5, 0)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "arrears.db"


@pytest.fixture
def store(path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(path) as opened:
        yield opened


def columns(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {
            table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")] for table in tables
        }
    db.close()
    return found


def sql(path: Path, statement: str, *params: Any) -> None:
    """Run one statement on the file from another connection, as someone with the file would."""
    db = sqlite3.connect(path)
    with db:
        db.execute(statement, params)
    db.close()


class TestFile:
    def test_tables_as_documented(self, store: SQLiteStore, path: Path) -> None:
        """A new file has the tables and columns ``docs/stores.md`` describes."""
        assert columns(path) == {
            "schema_versions": ["version", "description", "applied_at"],
            "cases": ["id", "version", "head_seq", "head_hash", "body"],
            "journal": ["case_id", "seq", "kind", "at", "body", "hash"],
            "reviews": ["case_id", "review_at", "lease_owner", "lease_until"],
        }
        assert store.schema_version == SCHEMA_VERSION

    def test_wal_and_synchronous(self, path: Path) -> None:
        """The file is in WAL mode; ``synchronous`` is NORMAL unless FULL is asked for."""
        with SQLiteStore(path) as store:
            assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 1
        with SQLiteStore(path, synchronous="FULL") as store:
            assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2

    def test_bad_options(self, path: Path) -> None:
        """A bad ``synchronous`` or cache size is refused before the file is opened."""
        with pytest.raises(ValueError, match="synchronous"):
            SQLiteStore(path, synchronous="SOMETIMES")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="cache_size"):
            SQLiteStore(path, cache_size=0)
        assert not path.exists()

    def test_open_store_picks_sqlite_for_a_file(self, path: Path) -> None:
        """`open_store` opens an SQLite file for a path."""
        with open_store(path) as store:
            assert isinstance(store, SQLiteStore)

    def test_in_memory(self) -> None:
        """``":memory:"`` is a private database, gone when closed."""
        with SQLiteStore(":memory:") as store:
            engine = Engine(store=store, clock=SettableClock(NOW))
            engine.open_case(loan(1, 3))
            assert engine.verify() == []

    def test_times_to_the_microsecond(self) -> None:
        """Review times are stored as integer microseconds and come back exactly."""
        at = datetime(2026, 11, 2, 9, 30, 0, 999_999, tzinfo=SHANGHAI)
        assert from_micros(to_micros(at)) == at
        assert to_micros(from_micros(-1)) == -1

    def test_backup(self, store: SQLiteStore, tmp_path: Path) -> None:
        """`backup` writes a copy (``VACUUM INTO``) that opens and verifies."""
        engine = Engine(store=store, clock=SettableClock(NOW))
        engine.open_case(loan(1, 3))
        engine.fire("L-0001", "notify")
        store.backup(tmp_path / "copy.db")
        with SQLiteStore(tmp_path / "copy.db") as copy:
            again = Engine(store=copy)
            assert again.case("L-0001") == engine.case("L-0001")
            assert again.verify() == []

    def test_the_identity_map_is_bounded(self, path: Path) -> None:
        """Past ``cache_size`` the oldest cases are forgotten and read again when asked for."""
        with SQLiteStore(path, cache_size=5) as store:
            engine = Engine(store=store, clock=SettableClock(NOW))
            with store.transaction():
                engine.open_cases(loan(number, 3) for number in range(20))
            for number in range(20):
                engine.fire(f"L-{number:04d}", "notify")
            assert len(store._slots) <= 6
            assert {engine.case(f"L-{n:04d}").stage for n in range(20)} == {"notified"}
            assert engine.verify() == []


class TestMigrations:
    def test_an_old_file_is_migrated_on_open(self, path: Path) -> None:
        """A file at schema 1 (no leases) is brought to the newest version, its data kept."""
        with SQLiteStore(path) as store:
            engine = Engine(store=store, clock=SettableClock(NOW))
            engine.open_case(loan(1, 3))
            engine.fire("L-0001", "notify")
            before = engine.case("L-0001")
        # Take the file back to schema 1, as an earlier release wrote it.
        db = sqlite3.connect(path)
        with db:
            db.execute("ALTER TABLE reviews DROP COLUMN lease_owner")
            db.execute("ALTER TABLE reviews DROP COLUMN lease_until")
            db.execute("DELETE FROM schema_versions WHERE version > 1")
        db.close()
        assert "lease_owner" not in columns(path)["reviews"]
        with SQLiteStore(path) as store:
            assert store.schema_version == SCHEMA_VERSION == 2
            engine = Engine(store=store, clock=SettableClock(NOW))
            assert engine.case("L-0001") == before
            assert engine.verify() == []
            assert store.lease(NOW, 5, "w1", timedelta(minutes=5)) == ["L-0001"]
        assert columns(path)["reviews"][-2:] == ["lease_owner", "lease_until"]
        with sqlite3.connect(path) as db:
            versions = [row[0] for row in db.execute("SELECT version FROM schema_versions")]
        db.close()
        assert versions == [1, 2]

    def test_a_newer_file_is_refused(self, path: Path) -> None:
        """A file with a schema newer than the library knows raises `SchemaMismatch`."""
        SQLiteStore(path).close()
        sql(path, "INSERT INTO schema_versions (version, description) VALUES (9, 'future')")
        with pytest.raises(SchemaMismatch) as caught:
            SQLiteStore(path)
        assert (caught.value.found, caught.value.known) == (9, SCHEMA_VERSION)
        assert "upgrade arrears" in str(caught.value)

    def test_every_step_is_numbered_in_order(self) -> None:
        """The migrations run 1, 2, … up to `SCHEMA_VERSION`, none missing."""
        assert [step.version for step in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


class TestTampering:
    @pytest.fixture
    def worked(self, path: Path) -> Path:
        """A file with two cases, each with a chain of five entries."""
        with SQLiteStore(path) as store:
            engine = Engine(store=store, clock=SettableClock(NOW))
            for number in (1, 2):
                case_id = engine.open_case(loan(number, 20)).id
                engine.fire(case_id, "notify")
                engine.fire(case_id, "escalate")
                engine.record_notice(case_id, "first_notice")
                engine.add_hold(case_id, "dispute", "amount disputed")
            assert engine.verify() == []
        return path

    def problems(self, path: Path) -> list[tuple[str, int, str]]:
        with SQLiteStore(path) as store:
            found = Engine(store=store).verify()
        return [(problem.case_id, problem.position, problem.problem) for problem in found]

    def test_an_edited_body(self, worked: Path) -> None:
        """A body changed by SQL no longer matches its hash."""
        sql(
            worked,
            "UPDATE journal SET body = replace(body, 'first_notice', 'final_notice') "
            "WHERE case_id = 'L-0002' AND seq = 3",
        )
        assert self.problems(worked) == [("L-0002", 3, "changed")]

    def test_an_edited_hash(self, worked: Path) -> None:
        """A hash changed by SQL is found (and the next entry no longer links to it)."""
        sql(worked, "UPDATE journal SET hash = ? WHERE case_id = 'L-0001' AND seq = 2", "0" * 64)
        found = self.problems(worked)
        assert found[0] == ("L-0001", 2, "changed")
        assert ("L-0001", 3, "inserted") in found

    def test_an_edited_kind(self, worked: Path) -> None:
        """The kind column is a copy of the sealed body's: an edit of it is found."""
        sql(worked, "UPDATE journal SET kind = 'payment' WHERE case_id = 'L-0001' AND seq = 1")
        assert self.problems(worked) == [("L-0001", 1, "changed")]

    def test_an_edited_time(self, worked: Path) -> None:
        """The at column is a copy of the sealed body's: an edit of it is found."""
        sql(
            worked,
            "UPDATE journal SET at = '2026-01-01T00:00:00+00:00' "
            "WHERE case_id = 'L-0002' AND seq = 4",
        )
        assert self.problems(worked) == [("L-0002", 4, "changed")]

    def test_a_deleted_row(self, worked: Path) -> None:
        """A row deleted from the middle of a chain is found."""
        sql(worked, "DELETE FROM journal WHERE case_id = 'L-0001' AND seq = 2")
        assert self.problems(worked) == [("L-0001", 2, "removed")]

    def test_a_deleted_last_row(self, worked: Path) -> None:
        """The last row deleted: the chain ends before the head kept in the case's row."""
        sql(worked, "DELETE FROM journal WHERE case_id = 'L-0002' AND seq = 4")
        assert self.problems(worked) == [("L-0002", 4, "truncated")]

    def test_an_inserted_row(self, worked: Path) -> None:
        """A row inserted after the head (or forged in the middle) is found."""
        sql(
            worked,
            "INSERT INTO journal SELECT case_id, 5, kind, at, body, hash FROM journal "
            "WHERE case_id = 'L-0001' AND seq = 4",
        )
        found = self.problems(worked)
        assert found
        assert {(case_id, problem) for case_id, _, problem in found} <= {
            ("L-0001", "changed"),
            ("L-0001", "inserted"),
        }
        assert all(case_id == "L-0001" for case_id, _, _ in found)

    def test_an_edit_while_the_store_is_open(self, worked: Path) -> None:
        """An engine with the file open sees another connection's edit at once."""
        with SQLiteStore(worked) as store:
            engine = Engine(store=store)
            engine.case("L-0001")  # cached
            sql(
                worked, "UPDATE journal SET body = body || ' ' WHERE case_id = 'L-0001' AND seq = 0"
            )
            assert [problem.case_id for problem in engine.verify()] == ["L-0001"]


class TestEngineOnAFile:
    def engine(self, store: SQLiteStore, clock: SettableClock) -> tuple[Engine, RecordingChannel]:
        sms = RecordingChannel(channels={"sms"})
        return Engine(policy=load_policy(POLICY), store=store, channels=[sms], clock=clock), sms

    def test_work_close_reopen_continue(self, path: Path) -> None:
        """Open, fire, pay and tick; reopen the file in a new engine and tick again."""
        clock = SettableClock(NOW - timedelta(hours=1))
        with SQLiteStore(path) as store:
            engine, sms = self.engine(store, clock)
            with store.transaction():
                engine.open_cases(loan(number, days) for number, days in enumerate(OVERDUE))
            engine.fire("L-0001", "notify", reason="notified by hand")
            engine.record_payment("L-0011", Money("1052.10", "CNY"))
            report = engine.tick(NOW)
            assert report.reviewed == len(OVERDUE)
            assert not report.errors
            assert report.sent > 0
            assert report.tasks > 0
            assert len(sms.sent) == report.sent
            again = engine.tick(NOW)  # the same moment: nothing is due, nothing twice
            assert again.reviewed == 0
            first_day = {f"L-{n:04d}": engine.case(f"L-{n:04d}") for n in range(len(OVERDUE))}
        with SQLiteStore(path) as store:
            engine, sms = self.engine(store, clock)
            for case_id, case in first_day.items():
                assert engine.case(case_id) == case
                assert engine.replay(case_id) == case
            report = engine.tick(NOW + timedelta(days=1))
            assert report.reviewed == len(OVERDUE)
            assert not report.errors
            assert engine.verify() == []
            for case_id in first_day:
                assert engine.replay(case_id) == engine.case(case_id)
            keys = [message.key for message in sms.sent]
            assert len(keys) == len(set(keys))

    def test_a_review_that_fails_half_way_is_rolled_back(self, path: Path) -> None:
        """A review that raises after its messages went out leaves nothing of its second phase.

        Its results are rolled back with its savepoint and its copy is dropped;
        the next tick journals them again under the same keys (the channel
        answers "duplicate"), and the chain and the contact history agree.
        """
        clock = SettableClock(NOW)
        with SQLiteStore(path) as store:
            engine, sms = self.engine(store, clock)
            engine.open_cases([loan(1, 1), loan(2, 1)], at=NOW - timedelta(hours=1))
            original = engine.record_review
            failing = {"L-0001"}

            def record_review(case_id: str, **kwargs: Any) -> Any:
                if case_id in failing:
                    raise RuntimeError("the review's writer fell over")
                return original(case_id, **kwargs)

            engine.record_review = record_review  # type: ignore[method-assign]
            report = engine.tick(NOW)
            assert [case_id for case_id, _ in report.errors] == ["L-0001"]
            kinds = [entry.kind for entry in engine.history("L-0001")]
            assert "interaction" not in kinds
            assert "outbox_intent" in kinds
            assert engine.replay("L-0001") == engine.case("L-0001")
            assert engine.contact_history("L-0001").attempts == []
            failing.clear()
            retry = engine.tick(NOW + timedelta(hours=1, minutes=1))
            assert retry.reviewed == 1
            assert not retry.errors
            assert [m.case_id for m in sms.sent].count("L-0001") == 1
            assert [m.case_id for m in sms.attempts].count("L-0001") == 2  # one duplicate
            assert len(engine.contact_history("L-0001").attempts) == 1
            assert engine.verify() == []
            assert engine.replay("L-0001") == engine.case("L-0001")
