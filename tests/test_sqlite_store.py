"""`SQLiteStore` beyond the contract: the file, its schema and migrations, tampering, the engine.

The contract every store passes is in ``test_store_contract.py``; here are
what only a file brings: the tables as documented, WAL, schema versions, a
journal edited by hand with SQL and found by `Engine.verify`, an engine that
works a portfolio, closes, and continues from the file in a new process's
place, and a review rolled back half-way; the unit of work a transaction is
(writes held until the commit, read back inside it, rolled back by level, a
tick's batch in a handful of statements).
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
from arrears.operations import reviews
from arrears.policy import load_policy
from arrears.stores import ConcurrencyConflict, SchemaMismatch, SQLiteStore, StoreBusy, open_store
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
            "cases": ["id", "version", "head_seq", "head_hash", "body", "debtor_id"],
            "journal": ["case_id", "seq", "kind", "at", "body", "hash"],
            "reviews": ["case_id", "review_at", "lease_owner", "lease_until"],
        }
        assert store.schema_version == SCHEMA_VERSION

    def test_wal_and_synchronous(self, path: Path) -> None:
        """The file is in WAL mode, checkpointed at SQLite's default 1,000 pages;
        ``synchronous`` is NORMAL unless FULL is asked for."""
        with SQLiteStore(path) as store:
            assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1_000
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
            db.execute("DROP INDEX cases_debtor")
            db.execute("ALTER TABLE cases DROP COLUMN debtor_id")
            db.execute("ALTER TABLE reviews DROP COLUMN lease_owner")
            db.execute("ALTER TABLE reviews DROP COLUMN lease_until")
            db.execute("DELETE FROM schema_versions WHERE version > 1")
        db.close()
        assert "lease_owner" not in columns(path)["reviews"]
        with SQLiteStore(path) as store:
            assert store.schema_version == SCHEMA_VERSION == 4
            engine = Engine(store=store, clock=SettableClock(NOW))
            assert engine.case("L-0001") == before
            assert engine.verify() == []
            assert store.lease(NOW, 5, "w1", timedelta(minutes=5)) == ["L-0001"]
        assert columns(path)["reviews"][-2:] == ["lease_owner", "lease_until"]
        with sqlite3.connect(path) as db:
            versions = [row[0] for row in db.execute("SELECT version FROM schema_versions")]
        db.close()
        assert versions == [1, 2, 3, 4]

    def test_a_file_at_schema_2_finds_each_debtors_cases(self, path: Path) -> None:
        """Schema 3 derives each stored case's debtor id: the cases of a file written before it
        are found by debtor, by an index, and later cases join them."""
        with SQLiteStore(path) as store:
            engine = Engine(store=store, clock=SettableClock(NOW))
            engine.open_cases([loan(1, 3), loan(2, 3), {**loan(3, 3), "debtor": {"id": "D-0001"}}])
        db = sqlite3.connect(path)
        with db:
            db.execute("DROP INDEX cases_debtor")
            db.execute("ALTER TABLE cases DROP COLUMN debtor_id")
            db.execute("DELETE FROM schema_versions WHERE version > 2")
        db.close()
        with SQLiteStore(path) as store:
            assert store.schema_version == SCHEMA_VERSION
            assert store.cases_of("D-0001") == ["L-0001", "L-0003"]
            assert store.cases_of("D-0002") == ["L-0002"]
            plan = store._db.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM cases WHERE debtor_id = ? ORDER BY id", ("x",)
            ).fetchall()
            assert "cases_debtor" in str(plan)
            Engine(store=store, clock=SettableClock(NOW)).open_case(
                {**loan(4, 3), "debtor": {"id": "D-0002"}}
            )
            assert store.cases_of("D-0002") == ["L-0002", "L-0004"]

    def test_a_file_at_schema_3_writes_each_debtor_with_its_row(self, path: Path) -> None:
        """Schema 3 generated the debtor column from the body (every write of a case parsed
        it); schema 4 keeps the values in a plain column, indexed, written with new rows."""
        with SQLiteStore(path) as store:
            engine = Engine(store=store, clock=SettableClock(NOW))
            engine.open_cases([loan(1, 3), loan(2, 3), {**loan(3, 3), "debtor": {"id": "D-0001"}}])
        db = sqlite3.connect(path)
        with db:  # the file as schema 3 left it
            db.execute("DROP INDEX cases_debtor")
            db.execute("ALTER TABLE cases DROP COLUMN debtor_id")
            for statement in MIGRATIONS[2].statements:
                db.execute(statement)
            db.execute("DELETE FROM schema_versions WHERE version > 3")
        db.close()
        with SQLiteStore(path) as store:
            assert store.schema_version == SCHEMA_VERSION == 4
            hidden = {row[1]: row[-1] for row in store._db.execute("PRAGMA table_xinfo(cases)")}
            assert hidden["debtor_id"] == 0  # a stored column, no longer generated
            assert store.cases_of("D-0001") == ["L-0001", "L-0003"]
            engine = Engine(store=store, clock=SettableClock(NOW))
            engine.open_case({**loan(4, 3), "debtor": {"id": "D-0002"}})
            engine.fire("L-0002", "notify")
            assert store.cases_of("D-0002") == ["L-0002", "L-0004"]
            assert engine.verify() == []

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

    def test_a_row_filed_under_another_debtor(self, worked: Path) -> None:
        """The debtor column moved by hand would take the case out of its debtor's locks,
        caps and holds: the row no longer agrees with the case's journal."""
        sql(worked, "UPDATE cases SET debtor_id = 'D-0001' WHERE id = 'L-0002'")
        with SQLiteStore(worked) as store:
            assert store.cases_of("D-0001") == ["L-0001", "L-0002"]
        assert self.problems(worked) == [("L-0002", 4, "changed")]

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

    def test_a_batch_whose_commit_conflicts_runs_again(self, path: Path) -> None:
        """A lost race found at a batch's commit: the batch runs again, counted once.

        A Python rule changes a case's row behind the store's back the first
        time it runs, so the planning phase's commit conflicts and is rolled
        back (the change with it); the second attempt goes through.  Every
        message goes out once, every count is as without the conflict, and
        the journal verifies.
        """
        opened = NOW - timedelta(hours=1)
        calm = Engine(
            policy=load_policy(POLICY),
            channels=[RecordingChannel(channels={"sms"})],
            clock=SettableClock(opened),
        )
        calm.open_cases(loan(number, days) for number, days in enumerate(OVERDUE))
        expected = calm.tick(NOW)
        with SQLiteStore(path) as store:
            engine, sms = self.engine(store, SettableClock(opened))
            with store.transaction():
                engine.open_cases(loan(number, days) for number, days in enumerate(OVERDUE))
            raced: list[str] = []

            def race(facts: Any) -> None:
                if not raced:
                    raced.append(facts.case.id)
                    store._db.execute("UPDATE cases SET version = 99 WHERE id = 'L-0000'")

            assert engine.policy is not None
            engine.policy.rule("race")(race)
            report = engine.tick(NOW)
            assert raced
            assert report.to_json() == expected.to_json()
            keys = [message.key for message in sms.sent]
            assert len(keys) == len(set(keys)) == expected.sent > 0
            assert engine.verify() == []

    def test_a_review_that_fails_half_way_is_rolled_back(
        self, path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A review that raises after its messages went out leaves nothing of its second phase.

        Its results are rolled back with its savepoint and its copy is dropped;
        the next tick journals them again under the same keys (the channel
        answers "duplicate"), and the chain and the contact history agree.
        """
        clock = SettableClock(NOW)
        with SQLiteStore(path) as store:
            engine, sms = self.engine(store, clock)
            engine.open_cases([loan(1, 1), loan(2, 1)], at=NOW - timedelta(hours=1))
            original = reviews.record_review
            failing = {"L-0001"}

            def record_review(rec: Any, case_id: str, **kwargs: Any) -> Any:
                if case_id in failing:
                    raise RuntimeError("the review's writer fell over")
                return original(rec, case_id, **kwargs)

            monkeypatch.setattr(reviews, "record_review", record_review)
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


def scalar(path: Path, statement: str, *params: Any) -> Any:
    """One value read from the file by another connection (what a second process sees)."""
    db = sqlite3.connect(path)
    try:
        return db.execute(statement, params).fetchone()[0]
    finally:
        db.close()


class Counting:
    """A connection that counts the statements the store hands to SQLite (each
    ``executemany`` counts once: one statement for all its rows)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.calls: list[str] = []

    def execute(self, statement: str, *params: Any) -> Any:
        self.calls.append(statement.split()[0])
        return self.db.execute(statement, *params)

    def executemany(self, statement: str, rows: Any) -> Any:
        self.calls.append(statement.split()[0])
        return self.db.executemany(statement, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


class TestUnitOfWork:
    """A transaction keeps its writes in memory and writes them when it commits."""

    def engine(self, store: SQLiteStore, cases: int = 2) -> Engine:
        engine = Engine(store=store, clock=SettableClock(NOW))
        engine.open_cases([loan(number, 20) for number in range(1, cases + 1)])
        return engine

    def test_nothing_is_written_before_the_commit_and_reads_see_it(
        self, store: SQLiteStore, path: Path
    ) -> None:
        """Inside a transaction the store reads its own writes; another connection sees
        them only once it commits."""
        engine = self.engine(store, 1)
        later = NOW + timedelta(days=2)
        with store.transaction():
            engine.open_case(loan(2, 3))
            notified = engine.fire("L-0001", "notify")
            store.schedule("L-0001", later)
            assert store.get("L-0001").stage == notified.dest
            assert store.head("L-0001").seq == 1
            assert store.last_entry("L-0001").kind == "transition"
            assert [entry.seq for entry in store.entries("L-0001")] == [0, 1]
            assert store.next_review("L-0001") == later
            assert "L-0002" in store
            assert store.head("L-0002").seq == 0
            assert scalar(path, "SELECT count(*) FROM journal") == 1
            assert scalar(path, "SELECT count(*) FROM cases") == 1
            # Reads of every case or of the schedule put the rows into the file's
            # transaction first: still nothing another connection can see.
            assert len(store) == 2
            assert list(store.case_ids()) == ["L-0001", "L-0002"]
            assert {case_id: len(chain) for case_id, chain in store.chains()} == {
                "L-0001": 2,
                "L-0002": 1,
            }
            assert store.due(NOW + timedelta(days=1)) == ["L-0002"]
            assert scalar(path, "SELECT count(*) FROM journal") == 1
        assert scalar(path, "SELECT count(*) FROM journal") == 3
        assert scalar(path, "SELECT version FROM cases WHERE id = 'L-0001'") == 2
        assert scalar(path, "SELECT review_at FROM reviews WHERE case_id = 'L-0001'") == (
            to_micros(later)
        )
        with SQLiteStore(path) as again:
            assert Engine(store=again).verify() == []
            assert again.get("L-0001").stage == notified.dest

    def test_a_tick_batch_is_a_few_statements(self, path: Path) -> None:
        """A tick's batch costs a handful of statements, not a few per case: rows are read
        ahead together and written with one ``executemany`` per table."""
        with SQLiteStore(path) as store:
            engine = Engine(store=store, clock=SettableClock(NOW - timedelta(hours=1)))
            with store.transaction():
                engine.open_cases(loan(number, OVERDUE[number % 4]) for number in range(60))
        with SQLiteStore(path) as store:
            sms = RecordingChannel(channels={"sms"})
            engine = Engine(policy=load_policy(POLICY), store=store, channels=[sms])
            counting = Counting(store._db)
            store._db = counting  # type: ignore[assignment]
            report = engine.tick(NOW, batch=30)
            assert report.reviewed == 60
            assert not report.errors
            assert report.tasks + report.sent > 0
            assert len(counting.calls) <= 2 * 20, counting.calls  # two batches of 30 cases
            assert engine.verify() == []

    def test_a_failed_nested_transaction_keeps_what_came_before(
        self, store: SQLiteStore, path: Path
    ) -> None:
        """A nested transaction that fails on a case the outer one had already changed:
        the copy is rebuilt as it stood before it, and committed so."""
        engine = self.engine(store)
        with store.transaction():
            engine.fire("L-0001", "notify")
            before = store.get("L-0001")

            def escalate_then_fail() -> None:
                with store.transaction():
                    engine.fire("L-0001", "escalate")
                    store.schedule("L-0001", NOW + timedelta(days=3))
                    raise RuntimeError("the review fell over")

            with pytest.raises(RuntimeError):
                escalate_then_fail()
            fresh = store.get("L-0001")
            assert fresh is not before
            assert (fresh.stage, fresh.version) == ("notified", 2)
            assert store.head("L-0001").seq == 1
            assert [entry.kind for entry in store.entries("L-0001")] == ["opened", "transition"]
            assert store.next_review("L-0001") == NOW
            engine.fire("L-0002", "notify")
        with SQLiteStore(path) as again:
            engine = Engine(store=again)
            assert engine.case("L-0001").stage == "notified"
            assert engine.replay("L-0001") == engine.case("L-0001")
            assert engine.verify() == []

    def test_a_nested_failure_after_the_rows_were_written_early(
        self, store: SQLiteStore, path: Path
    ) -> None:
        """A read of the schedule writes the buffers into the file's transaction; a nested
        transaction that fails afterwards still takes back its own writes and no more."""
        engine = self.engine(store)
        later = NOW + timedelta(days=1)
        with store.transaction():
            engine.fire("L-0001", "notify")
            store.schedule("L-0001", later)

            def review_then_fail() -> None:
                with store.transaction():
                    engine.fire("L-0002", "notify")
                    store.schedule("L-0002", later)
                    assert store.due(later) == ["L-0001", "L-0002"]
                    with store.transaction():  # a level inside it, already released
                        engine.fire("L-0002", "escalate")
                    raise RuntimeError("the review fell over")

            with pytest.raises(RuntimeError):
                review_then_fail()
            assert store.due(later) == ["L-0002", "L-0001"]  # L-0002 as opened: due at once
            assert store.next_review("L-0002") == NOW
            assert store.get("L-0002").version == 1
            assert store.get("L-0001").version == 2
        assert scalar(path, "SELECT count(*) FROM journal WHERE case_id = 'L-0002'") == 1
        assert scalar(path, "SELECT count(*) FROM journal WHERE case_id = 'L-0001'") == 2
        with SQLiteStore(path) as again:
            assert again.due(later) == ["L-0002", "L-0001"]
            assert Engine(store=again).verify() == []

    def test_a_conflict_at_commit_rolls_everything_back(
        self, store: SQLiteStore, path: Path
    ) -> None:
        """A case row that no longer has the version the transaction read: nothing of the
        transaction is written, the conflict names the case, every copy is read again."""
        engine = self.engine(store)

        def write_both() -> None:
            with store.transaction():
                engine.fire("L-0001", "notify")
                engine.fire("L-0002", "notify")
                store.schedule("L-0001", NOW + timedelta(days=1))
                # The row changed under the store (as a writer that bypassed the lock would).
                store._db.execute("UPDATE cases SET version = 9 WHERE id = 'L-0002'")

        with pytest.raises(ConcurrencyConflict) as caught:
            write_both()
        assert caught.value.case_id == "L-0002"
        assert caught.value.found == 9
        assert scalar(path, "SELECT count(*) FROM journal") == 2
        assert scalar(path, "SELECT max(version) FROM cases") == 1
        assert store.get("L-0001").version == 1
        assert store.next_review("L-0001") == NOW
        assert engine.verify() == []

    def test_a_row_added_by_hand_fails_only_its_case(self, store: SQLiteStore, path: Path) -> None:
        """A journal row past a case's head (added by hand) is found when the case is
        appended to, at once: the rest of the transaction goes on and commits."""
        engine = self.engine(store)
        sql(
            path,
            "INSERT INTO journal SELECT case_id, 1, kind, at, body, hash FROM journal "
            "WHERE case_id = 'L-0001' AND seq = 0",
        )
        with store.transaction():
            engine.fire("L-0002", "notify")
            with pytest.raises(ConcurrencyConflict) as caught, store.transaction():
                engine.fire("L-0001", "notify")
            assert caught.value.case_id == "L-0001"
        assert scalar(path, "SELECT version FROM cases WHERE id = 'L-0002'") == 2
        assert scalar(path, "SELECT version FROM cases WHERE id = 'L-0001'") == 1

    def test_a_large_transaction_is_written_in_parts(
        self, path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Past a few thousand rows a transaction writes what it holds into the file's
        transaction between two nested ones: still one commit, or one rollback."""
        monkeypatch.setattr(SQLiteStore, "SPILL", 10)
        with SQLiteStore(path) as store:
            engine = Engine(store=store, clock=SettableClock(NOW))

            def open_then_cancel() -> None:
                with store.transaction():
                    engine.open_cases(loan(number, 3) for number in range(30))
                    assert store._journal_done > 0
                    raise RuntimeError("the import was cancelled")

            def fire_then_fail() -> None:
                with store.transaction():
                    engine.fire("L-0029", "notify")
                    raise RuntimeError("one case fell over")

            with pytest.raises(RuntimeError):
                open_then_cancel()
            assert len(store) == 0
            with store.transaction():
                engine.open_cases(loan(number, 3) for number in range(30))
                with pytest.raises(RuntimeError):
                    fire_then_fail()
                engine.fire("L-0028", "notify")
            assert scalar(path, "SELECT count(*) FROM cases") == 30
            assert scalar(path, "SELECT count(*) FROM journal") == 31
            assert engine.verify() == []

    def test_copies_of_a_batch_are_checked_together(self, path: Path) -> None:
        """After another process commits, the copies of the last batch are checked against
        their rows in one query: unchanged ones keep their identity."""
        with SQLiteStore(path) as one, SQLiteStore(path) as two:
            engine = self.engine(one, 5)
            taken = one.lease(NOW, 10, "w1", timedelta(minutes=5))
            assert len(taken) == 5
            copies = {case_id: one.get(case_id) for case_id in taken}
            Engine(store=two, clock=SettableClock(NOW)).fire("L-0003", "notify")
            counting = Counting(one._db)
            one._db = counting  # type: ignore[assignment]
            with one.transaction():
                fresh = {case_id: one.get(case_id) for case_id in taken}
            assert [case_id for case_id in taken if fresh[case_id] is not copies[case_id]] == [
                "L-0003"
            ]
            assert fresh["L-0003"].stage == "notified"
            # One query for the five stamps, then the changed case's chain and row.
            assert counting.calls.count("SELECT") == 3, counting.calls
            assert engine.verify() == []


def test_a_writer_kept_waiting_too_long_gets_store_busy(tmp_path: Path) -> None:
    """Another process holding the write lock past the timeout: `StoreBusy`, nothing written."""
    path = tmp_path / "busy.db"
    clock = SettableClock(NOW)
    with SQLiteStore(path, timeout=0.2) as store:
        engine = Engine(store=store, clock=clock)
        engine.open_cases([loan(1, 1)], at=NOW - timedelta(hours=1))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer, in the middle of its transaction
        try:
            with pytest.raises(StoreBusy) as busy:
                engine.record_payment("L-0001", Money("10.00", "CNY"), reference="TX-1")
            assert busy.value.waited == pytest.approx(0.2)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert [entry.kind for entry in engine.history("L-0001")] == ["opened"]
        engine.record_payment("L-0001", Money("10.00", "CNY"), reference="TX-1")
        assert engine.history("L-0001")[-1].kind == "payment"
