"""PostgresStore: schema and migrations, the store contract, transactions, leases, the engine on it.

Needs a server: ``ARREARS_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/test``
(skipped without it, failed when it is set and the server does not answer).
Each test works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _postgres import debtor_locks, fresh_schema, postgres_url, run_sql
from arrears import Case, DuplicateCase, Engine, InvalidInput, Money, SettableClock, UnknownCase
from arrears.channels import RecordingChannel
from arrears.errors import ConcurrencyConflict, SchemaMismatch
from arrears.journal import GENESIS, JournalEntry, seal
from arrears.policy import load_policy

pytest.importorskip("psycopg", reason="pip install 'arrears[postgres]'")

from arrears.stores._sql import SCHEMA_VERSION
from arrears.stores.postgres import _DEBTOR_LOCK, PostgresStore
from arrears.stores.postgres import MIGRATIONS as POSTGRES_MIGRATIONS

T0 = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CN_POLICY = Path(__file__).resolve().parent.parent / "examples/policies/cn_consumer_loan.yaml"
#: What a worker leasing the debtors given holds until its leases commit.
LEASE_LOCK = f"SELECT d FROM unnest(%s::text[]) AS d WHERE {_DEBTOR_LOCK}"


@pytest.fixture(scope="module")
def url() -> str:
    return postgres_url()


@pytest.fixture
def schema(url: str) -> Iterator[str]:
    with fresh_schema(url) as name:
        yield name


@pytest.fixture
def open_store(url: str, schema: str) -> Iterator[Callable[[], PostgresStore]]:
    """Open stores on the test's schema (several act as several workers); all closed after."""
    stores: list[PostgresStore] = []

    def make() -> PostgresStore:
        store = PostgresStore(url, schema=schema, max_size=2)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], PostgresStore]) -> PostgresStore:
    return open_store()


def opened(case: Case, at: datetime = T0) -> JournalEntry:
    return seal(case.id, 0, at, "opened", {"case": case.model_dump_json()}, GENESIS)


def add(
    store: PostgresStore, make_case: Callable[..., Case], case_id: str, debtor: str = "D-1"
) -> Case:
    case = make_case(id=case_id, debtor={"id": debtor, "timezone": "Asia/Shanghai"})
    case.version = 1  # as the engine leaves it after applying the opening entry
    store.add(case, opened(case))
    return case


def step(store: PostgresStore, case: Case, kind: str = "note", **data: Any) -> JournalEntry:
    """Append the next entry to *case*'s chain, and save the case with it (as the engine does)."""
    head = store.head(case.id)
    entry = seal(case.id, head.seq + 1, T0 + timedelta(minutes=head.seq + 1), kind, data, head.hash)
    case.version += 1
    store.append(entry, case)
    return entry


# -- schema and migrations ---------------------------------------------------------------------
def test_the_schema_is_created_on_open_and_its_version_recorded(url: str, schema: str) -> None:
    with PostgresStore(url, schema=schema) as store:
        assert store.schema_version == SCHEMA_VERSION
    tables = run_sql(
        url,
        schema,
        "SELECT table_name FROM information_schema.tables "
        f"WHERE table_schema = '{schema}' ORDER BY table_name",
    )
    assert [row[0] for row in tables] == ["cases", "journal", "reviews", "schema_versions"]
    with PostgresStore(url, schema=schema) as again:  # opening again migrates nothing
        assert again.schema_version == SCHEMA_VERSION
    assert run_sql(url, schema, "SELECT version FROM schema_versions ORDER BY version") == [
        (version,) for version in range(1, SCHEMA_VERSION + 1)
    ]


def _three_cases_without_the_debtor_column(
    url: str, schema: str, make_case: Callable[..., Case]
) -> None:
    """Two cases of D-1 and one of D-2 stored, then the debtor column and its index dropped
    (the schema taken back to before version 3)."""
    with PostgresStore(url, schema=schema) as store:
        for case_id, debtor in (("L-2", "D-1"), ("L-1", "D-1"), ("K-1", "D-2")):
            case = make_case(id=case_id, debtor={"id": debtor})
            store.add(case, opened(case))
    run_sql(url, schema, "DROP INDEX cases_debtor")
    run_sql(url, schema, "ALTER TABLE cases DROP COLUMN debtor_id")


def test_a_schema_at_version_2_finds_each_debtors_cases(
    url: str, schema: str, make_case: Callable[..., Case]
) -> None:
    """Version 3 derives each stored case's debtor id, indexed: the rows written before it are
    found by debtor once the schema is upgraded."""
    _three_cases_without_the_debtor_column(url, schema, make_case)
    run_sql(url, schema, "DELETE FROM schema_versions WHERE version > 2")
    with PostgresStore(url, schema=schema) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.cases_of("D-1") == ["L-1", "L-2"]
        assert store.cases_of("D-2") == ["K-1"]
    indexes = run_sql(
        url, schema, "SELECT indexdef FROM pg_indexes WHERE indexname = 'cases_debtor'"
    )
    assert "debtor_id" in indexes[0][0]


def test_a_schema_at_version_3_writes_each_debtor_with_its_row(
    url: str, schema: str, make_case: Callable[..., Case]
) -> None:
    """Version 3 generated the debtor column from the body (every update of a case parsed it
    as jsonb); version 4 keeps its values in a plain column that new rows are written with."""
    _three_cases_without_the_debtor_column(url, schema, make_case)
    for statement in POSTGRES_MIGRATIONS[2].statements:
        run_sql(url, schema, statement)
    run_sql(url, schema, "DELETE FROM schema_versions WHERE version > 3")
    with PostgresStore(url, schema=schema) as store:
        assert store.schema_version == SCHEMA_VERSION == 4
        case = make_case(id="K-2", debtor={"id": "D-2"})
        store.add(case, opened(case))
        assert store.cases_of("D-1") == ["L-1", "L-2"]
        assert store.cases_of("D-2") == ["K-1", "K-2"]
    generated = run_sql(
        url,
        schema,
        "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'cases'::regclass "
        "AND attname = 'debtor_id'",
    )
    assert generated == [("",)]


def test_a_row_filed_under_another_debtor_is_found(
    url: str, schema: str, make_case: Callable[..., Case]
) -> None:
    """The debtor column moved by hand takes the case out of its debtor's locks and caps:
    `Engine.verify` finds the row disagreeing with the case's journal."""
    with PostgresStore(url, schema=schema) as store:
        engine = Engine(store=store)
        for case_id in ("L-1", "L-2"):
            engine.open_case(make_case(id=case_id, debtor={"id": "D-" + case_id[-1]}))
        assert engine.verify() == []
    run_sql(url, schema, "UPDATE cases SET debtor_id = 'D-1' WHERE id = 'L-2'")
    with PostgresStore(url, schema=schema) as store:
        assert store.cases_of("D-1") == ["L-1", "L-2"]
        found = Engine(store=store).verify()
    assert [(problem.case_id, problem.problem) for problem in found] == [("L-2", "changed")]


def test_a_newer_schema_is_refused(url: str, schema: str) -> None:
    PostgresStore(url, schema=schema).close()
    run_sql(url, schema, "INSERT INTO schema_versions (version, description) VALUES (99, 'x')")
    with pytest.raises(SchemaMismatch) as refused:
        PostgresStore(url, schema=schema)
    assert (refused.value.found, refused.value.known) == (99, SCHEMA_VERSION)


def test_a_bad_schema_name_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match="schema"):
        PostgresStore(url, schema="x; DROP TABLE y")


def test_workers_opening_at_once_migrate_once(url: str, schema: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(url, schema=schema), range(4)))
    for store in stores:
        assert store.schema_version == SCHEMA_VERSION
        store.close()


# -- identity map, leases, conflicts (the rest of the contract: test_store_contract.py) ------------
def test_the_identity_map_holds_while_the_database_agrees(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    one, two = open_store(), open_store()
    case = add(one, make_case, "C-1")
    assert one.get("C-1") is case
    theirs = two.get("C-1")
    assert theirs == case
    assert two.get("C-1") is theirs
    with pytest.raises(DuplicateCase):
        add(one, make_case, "C-1")
    with pytest.raises(UnknownCase):
        one.get("C-2")
    step(one, case)
    fresh = two.get("C-1")  # changed in the database: read again
    assert fresh is not theirs
    assert fresh.version == 2
    assert two.get("C-1") is fresh


def test_leases_share_due_cases_without_overlap(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    one, two = open_store(), open_store()
    for number in range(10):
        add(one, make_case, f"C-{number}", debtor=f"D-{number}")
        one.schedule(f"C-{number}", T0)
    ttl = timedelta(minutes=5)
    first = one.lease(T0, 4, "one", ttl)
    second = two.lease(T0, 10, "two", ttl)
    assert len(first) == 4
    assert len(second) == 6
    assert not set(first) & set(second)
    assert one.lease(T0, 10, "one", ttl) == first  # an owner sees its own leases again
    assert two.lease(T0 + timedelta(minutes=1), 10, "three", ttl) == []
    two.release(second, "two")
    assert sorted(two.lease(T0, 10, "three", ttl)) == sorted(second)
    # A lease runs until the tick's moment plus its length: then another takes it.
    later = T0 + ttl
    assert sorted(two.lease(later, 10, "four", ttl)) == sorted(first + second)
    one.release(first, "one")  # no longer its lease: nothing changes
    assert two.lease(later, 10, "five", ttl) == []


def test_a_lease_takes_every_due_case_of_a_debtor_and_no_one_else_takes_any(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    one, two = open_store(), open_store()
    for case_id, debtor in [("A-1", "D-A"), ("B-1", "D-B"), ("A-2", "D-A"), ("A-3", "D-A")]:
        add(one, make_case, case_id, debtor=debtor)
    for case_id, minutes in [("A-1", 0), ("B-1", 1), ("A-2", 2), ("A-3", 90)]:
        one.schedule(case_id, T0 + timedelta(minutes=minutes))
    now, ttl = T0 + timedelta(minutes=5), timedelta(minutes=5)
    # One due case asked for: its debtor's other due case comes with it (A-3 is not due).
    assert one.lease(now, 1, "one", timedelta(hours=2)) == ["A-1", "A-2"]
    assert two.lease(now, 10, "two", ttl) == ["B-1"]
    # A-3 falls due while one still holds D-A: two may not take it.
    later = T0 + timedelta(minutes=91)
    assert two.lease(later, 10, "two", ttl) == ["B-1"]
    one.release(["A-1", "A-2"], "one")
    assert two.lease(later, 10, "two", ttl) == ["A-1", "B-1", "A-2", "A-3"]


def test_a_lease_alone_commits_without_a_disk_flush_and_nothing_else_does(
    store: PostgresStore, make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lease is not evidence (a later durable commit flushes it): its own transaction
    # skips the flush; a caller's transaction and every later one keep it.
    for number in range(3):
        add(store, make_case, f"C-{number}", debtor=f"D-{number}")
        store.schedule(f"C-{number}", T0)
    seen: list[str] = []
    sync = store._sync

    def spy() -> None:
        seen.append(store._fetchall("SHOW synchronous_commit", ())[0][0])
        sync()

    monkeypatch.setattr(store, "_sync", spy)
    assert store.lease(T0, 1, "one", timedelta(minutes=5)) == ["C-0"]
    with store.transaction():
        assert store.lease(T0, 1, "two", timedelta(minutes=5)) == ["C-1"]
        inside = store._fetchall("SHOW synchronous_commit", ())[0][0]
    with store.transaction():
        after = store._fetchall("SHOW synchronous_commit", ())[0][0]
    assert seen == ["off", "on"]
    assert (inside, after) == ("on", "on")


def test_a_lease_skips_rows_another_worker_is_leasing(
    url: str, schema: str, store: PostgresStore, make_case: Callable[..., Case]
) -> None:
    import psycopg

    for number in range(3):
        add(store, make_case, f"C-{number}")
        store.schedule(f"C-{number}", T0)
    with psycopg.connect(url) as other:
        other.execute(f"SET search_path TO {schema}")
        other.execute("SELECT * FROM reviews WHERE case_id = 'C-0' FOR UPDATE")
        assert store.lease(T0, 10, "one", timedelta(minutes=1)) == ["C-1", "C-2"]
        other.rollback()


def test_a_debtor_leased_in_one_schema_does_not_hold_back_the_same_id_in_another(
    url: str, schema: str, store: PostgresStore, make_case: Callable[..., Case]
) -> None:
    """Advisory locks belong to the database: two lenders' schemas in one database have
    debtors of the same id, and one leasing its D-1 must not keep the other from its own
    (the lease looked further, found nothing else and gave the worker nothing to do)."""
    import psycopg

    add(store, make_case, "C-1", debtor="D-1")
    store.schedule("C-1", T0)
    with fresh_schema(url) as elsewhere, psycopg.connect(url) as other:
        other.execute(f"SET search_path TO {elsewhere}")
        # What a worker leasing D-1 in the other schema holds until its leases commit.
        assert other.execute(LEASE_LOCK, (["D-1"],)).fetchall() == [("D-1",)]
        assert store.lease(T0, 10, "one", timedelta(minutes=1)) == ["C-1"]
        # The same debtor id in this schema, being leased by another worker, is skipped.
        other.execute(f"SET search_path TO {schema}")
        assert other.execute(LEASE_LOCK, (["D-2"],)).fetchall() == [("D-2",)]
        add(store, make_case, "C-2", debtor="D-2")
        store.schedule("C-2", T0)
        later = T0 + timedelta(minutes=2)
        assert store.lease(later, 10, "one", timedelta(minutes=1)) == ["C-1"]
        other.rollback()
        assert store.lease(later, 10, "one", timedelta(minutes=1)) == ["C-1", "C-2"]


def test_a_bulk_open_in_one_schema_does_not_hold_up_another(url: str, schema: str) -> None:
    """Two lenders' schemas in one database: while one opens many cases in a unit of work
    (holding every debtor of its schema), the other's writes that lock a debtor go on;
    in the same schema they wait for its commit."""
    with fresh_schema(url) as elsewhere:
        bulk = PostgresStore(url, schema=schema)
        near = PostgresStore(url, schema=schema)
        far = PostgresStore(url, schema=elsewhere)
        done: dict[str, float] = {}

        def lock_one(name: str, other: PostgresStore) -> None:
            with other.transaction():
                other.lock_debtors(["D-1"])
                other.cases_of("D-1")  # the lock goes with this statement
            done[name] = time.monotonic()

        try:
            with bulk.transaction():
                bulk.lock_every_debtor()
                bulk.cases_of("D-1")
                racers = [
                    threading.Thread(target=lock_one, args=(name, other))
                    for name, other in (("far", far), ("near", near))
                ]
                for racer in racers:
                    racer.start()
                racers[0].join(timeout=10)
                assert "far" in done  # not held up by the other schema's bulk open
                deadline = time.monotonic() + 10
                while not debtor_locks(url, waiting=True) and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert "near" not in done
                committed = time.monotonic()
            racers[1].join(timeout=10)
            assert done["near"] >= committed
        finally:
            for store in (bulk, near, far):
                store.close()


def test_a_stale_copy_is_refused_and_dropped(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    one, two = open_store(), open_store()
    add(one, make_case, "C-1")
    mine, theirs = one.get("C-1"), two.get("C-1")
    step(two, theirs)
    with pytest.raises(ConcurrencyConflict) as conflict:
        step(one, mine)
    assert (conflict.value.expected, conflict.value.found) == (1, 2)
    fresh = one.get("C-1")
    assert fresh is not mine
    assert fresh.version == 2
    step(one, fresh)
    assert one.head("C-1").seq == 2


def test_a_journal_key_another_writer_took_before_the_commit_is_a_conflict_naming_the_case(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    """The entries go with the commit's other writes: a key taken meanwhile still names
    the case (as `COPY` did), and nothing of the transaction is stored."""
    one, two = open_store(), open_store()
    add(one, make_case, "C-1")
    add(one, make_case, "C-2", debtor="D-2")

    def race() -> None:
        with one.transaction():
            mine = one.get("C-1")  # checked in this transaction
            step(one, one.get("C-2"))
            step(two, two.get("C-1"))  # another writer, committed first
            step(one, mine)

    with pytest.raises(ConcurrencyConflict) as conflict:
        race()
    assert (conflict.value.case_id, conflict.value.expected) == ("C-1", 1)
    assert one.head("C-2").seq == 0
    assert [entry.seq for entry in one.entries("C-1")] == [0, 1]
    assert one.get("C-1").version == 2


def test_a_lease_replaces_copies_another_worker_changed(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    one, two = open_store(), open_store()
    add(one, make_case, "C-1")
    one.schedule("C-1", T0)
    stale = one.get("C-1")
    step(two, two.get("C-1"))
    assert one.lease(T0, 10, "one", timedelta(minutes=1)) == ["C-1"]
    assert one.get("C-1") is not stale
    assert one.get("C-1").version == 2
    with one.transaction():
        assert len(one.entries("C-1")) == 2


# -- transactions ------------------------------------------------------------------------------
def test_a_transaction_commits_together_and_nothing_before(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    one, two = open_store(), open_store()
    with one.transaction():
        case = add(one, make_case, "C-1")
        one.schedule("C-1", T0)
        step(one, case)
        assert one.head("C-1").seq == 1
        assert one.next_review("C-1") == T0
        assert "C-1" not in two
    assert two.head("C-1").seq == 1
    assert two.due(T0) == ["C-1"]


def test_a_failed_nested_transaction_rolls_back_to_its_savepoint(
    store: PostgresStore, make_case: Callable[..., Case]
) -> None:
    for case_id in ("A", "B"):
        add(store, make_case, case_id)
    with store.transaction():
        kept = step(store, store.get("A"))
        store.schedule("A", T0)
        broken = store.get("B")

        def review() -> None:
            with store.transaction():
                step(store, broken)
                store.schedule("B", T0)
                with store.transaction():  # a level inside it, already released
                    step(store, broken)
                raise RuntimeError("the review failed")

        with pytest.raises(RuntimeError):
            review()
        assert store.get("B") is not broken  # dropped: read again from the database
        assert store.get("B").version == 1
        assert store.head("B").seq == 0
        assert store.next_review("B") is None
        store.schedule("B", T0 + timedelta(hours=1))  # retried later, in the outer transaction
    assert store.last_entry("A") == kept
    assert store.head("B").seq == 0
    assert store.next_review("A") == T0
    assert store.next_review("B") == T0 + timedelta(hours=1)


def test_a_failed_transaction_writes_nothing_and_drops_its_copies(
    store: PostgresStore, make_case: Callable[..., Case]
) -> None:
    add(store, make_case, "A")
    touched = store.get("A")

    def work() -> None:
        with store.transaction():
            step(store, touched)
            add(store, make_case, "B")
            store.schedule("A", T0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        work()
    assert "B" not in store
    assert store.get("A") is not touched
    assert store.get("A").version == 1
    assert store.next_review("A") is None
    assert len(store) == 1


def test_a_conflict_inside_a_nested_transaction_leaves_the_outer_one_usable(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    one, two = open_store(), open_store()
    for case_id in ("A", "B"):
        add(one, make_case, case_id)
    stale = one.get("B")
    step(two, two.get("B"))
    with one.transaction():
        step(one, one.get("A"))
        with pytest.raises(ConcurrencyConflict), one.transaction():
            step(one, stale)
        with one.transaction():  # retried on a fresh copy, as the tick does
            step(one, one.get("B"))
    assert two.head("A").seq == 1
    assert two.head("B").seq == 2


def test_a_deadlock_the_database_breaks_is_a_concurrency_conflict(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    """Two writers take two locks of the host's own in opposite order, inside store
    transactions: PostgreSQL aborts one (40P01).

    The one aborted raises `ConcurrencyConflict` (what the engine retries), with
    the server's error as its cause; the other commits once the first has rolled
    back.  (The debtors' own locks never come to this: see the next test.)"""
    import psycopg

    one, two = open_store(), open_store()
    add(one, make_case, "A", debtor="D-1")
    add(one, make_case, "B", debtor="D-2")
    both_hold_one = threading.Barrier(2, timeout=10)
    outcomes: dict[str, BaseException | None] = {}

    def writer(name: str, store: PostgresStore, first: str, then: str) -> None:
        try:
            with store.transaction():
                store._fetchall(HOST_LOCK, (first,))
                both_hold_one.wait()
                store._fetchall(HOST_LOCK, (then,))  # waits for the other: a circle
                store.schedule("A" if first == "D-1" else "B", T0)
            outcomes[name] = None
        except BaseException as err:  # reported to the test's thread
            outcomes[name] = err

    threads = [
        threading.Thread(target=writer, args=("one", one, "D-1", "D-2")),
        threading.Thread(target=writer, args=("two", two, "D-2", "D-1")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    errors = [err for err in outcomes.values() if err is not None]
    assert len(outcomes) == 2, outcomes
    assert len(errors) == 1, outcomes
    (conflict,) = errors
    assert isinstance(conflict, ConcurrencyConflict)
    assert isinstance(conflict.__cause__, psycopg.errors.DeadlockDetected)
    assert conflict.sqlstate == "40P01"
    assert conflict.case_id is None
    assert "D-1" not in str(conflict)
    assert "D-2" not in str(conflict)
    assert "40P01" in str(conflict)
    winner = one if outcomes["one"] is None else two
    loser = two if winner is one else one
    assert loser.next_review("B" if loser is two else "A") is None  # rolled back
    assert winner.next_review("A" if winner is one else "B") == T0
    with loser.transaction():  # the loser's store works again: the retry succeeds
        loser.lock_debtors(["D-1", "D-2"])
        loser.schedule("A" if loser is one else "B", T0)
    assert winner.next_review("A") == winner.next_review("B") == T0


#: A lock of the host's own (its key space is not one the store uses), on a debtor's name.
HOST_LOCK = "SELECT pg_advisory_xact_lock(7, hashtext(%s))"


def test_debtors_locked_in_opposite_order_conflict_at_once_and_never_deadlock(
    open_store: Callable[[], PostgresStore], make_case: Callable[..., Case]
) -> None:
    """Two writers lock two debtors in opposite order.  The one asking for a debtor
    before the highest it holds only tries it: it raises `ConcurrencyConflict` at
    once (SQLSTATE 55P03, no debtor id in its message) and rolls back, having waited
    for nothing; the other, waiting for a debtor after its own, commits."""
    from arrears.stores.postgres import _debtor_key

    one, two = open_store(), open_store()
    add(one, make_case, "A", debtor="D-1")
    add(one, make_case, "B", debtor="D-2")
    both_hold_one = threading.Barrier(2, timeout=10)
    outcomes: dict[str, BaseException | None] = {}
    took: dict[str, float] = {}

    def writer(name: str, store: PostgresStore, first: str, then: str) -> None:
        try:
            with store.transaction():
                store.lock_debtors([first])
                store.cases_of(first)  # the lock goes with this read
                both_hold_one.wait()
                started = time.monotonic()
                try:
                    store.lock_debtors([then])
                    store.cases_of(then)
                finally:
                    took[name] = time.monotonic() - started
                store.schedule("A" if first == "D-1" else "B", T0)
            outcomes[name] = None
        except BaseException as err:  # reported to the test's thread
            outcomes[name] = err

    threads = [
        threading.Thread(target=writer, args=("one", one, "D-1", "D-2")),
        threading.Thread(target=writer, args=("two", two, "D-2", "D-1")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The debtor later in the lock order is the one waited for; the other is tried.
    _, high = sorted(["D-1", "D-2"], key=lambda debtor: _debtor_key(one.schema, debtor))
    loser = "one" if high == "D-1" else "two"  # holds the higher, asks for the lower
    winner = "two" if loser == "one" else "one"
    conflict = outcomes[loser]
    assert outcomes[winner] is None, outcomes
    assert isinstance(conflict, ConcurrencyConflict), outcomes
    assert conflict.sqlstate == "55P03"
    assert conflict.case_id is None
    assert "D-1" not in str(conflict)
    assert "D-2" not in str(conflict)
    assert took[loser] < 0.5  # not a second of deadlock_timeout
    stores = {"one": one, "two": two}
    assert stores[winner].next_review("A" if winner == "one" else "B") == T0
    assert stores[loser].next_review("A" if loser == "one" else "B") is None


def test_a_serialization_failure_is_a_concurrency_conflict(
    url: str, schema: str, store: PostgresStore, make_case: Callable[..., Case]
) -> None:
    """Under REPEATABLE READ a row another writer changed after this transaction's
    snapshot cannot be written (40001): `ConcurrencyConflict`, nothing stored."""
    import psycopg
    from psycopg_pool import ConnectionPool

    add(store, make_case, "A")
    store.schedule("A", T0)
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=2,
        kwargs={"autocommit": True},
        configure=lambda conn: conn.execute(
            "SET default_transaction_isolation TO 'repeatable read'"
        ),
        open=True,
    )
    try:
        isolated = PostgresStore(url, schema=schema, pool=pool)
        try:

            def reschedule() -> None:
                with isolated.transaction():
                    assert isolated.next_review("A") == T0  # the snapshot is taken here
                    store.schedule("A", T0 + timedelta(hours=1))  # another writer, committed
                    isolated.schedule("A", T0 + timedelta(hours=2))

            with pytest.raises(ConcurrencyConflict) as caught:
                reschedule()
            assert isinstance(caught.value.__cause__, psycopg.errors.SerializationFailure)
            assert caught.value.sqlstate == "40001"
            assert caught.value.case_id is None
            assert store.next_review("A") == T0 + timedelta(hours=1)
            with isolated.transaction():  # run again: it succeeds on a new snapshot
                isolated.schedule("A", T0 + timedelta(hours=2))
            assert store.next_review("A") == T0 + timedelta(hours=2)
        finally:
            isolated.close()
    finally:
        pool.close()


def test_bulk_adds_in_a_transaction_are_written_and_duplicates_found(
    store: PostgresStore, make_case: Callable[..., Case]
) -> None:
    with store.transaction():
        for number in range(500):
            add(store, make_case, f"C-{number:03}")
        assert "C-007" in store
        with pytest.raises(DuplicateCase):
            add(store, make_case, "C-007")
    assert len(store) == 500
    add(store, make_case, "D-1")
    with pytest.raises(DuplicateCase), store.transaction():
        add(store, make_case, "D-1")
    assert len(store) == 501


# -- the engine on PostgreSQL -------------------------------------------------------------------
def cn_case(case_id: str, due: str = "2026-09-01") -> dict[str, Any]:
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [
            {"id": "m", "channel": "call", "address": "+8613812345678"},
            {"id": "s", "channel": "sms", "address": "+8613900001111"},
        ],
        "balance": {"currency": "CNY", "principal": "3000.00", "interest": "120.00"},
        "due_date": due,
    }


def cn_engine(store: PostgresStore, clock: SettableClock) -> tuple[Engine, RecordingChannel]:
    sms = RecordingChannel(channels=frozenset({"sms"}))
    return Engine(policy=load_policy(CN_POLICY), store=store, channels=[sms], clock=clock), sms


def test_the_engine_works_on_postgres_and_a_new_engine_continues(
    url: str, schema: str, open_store: Callable[[], PostgresStore]
) -> None:
    clock = SettableClock(datetime(2026, 9, 2, 9, 30, tzinfo=SHANGHAI))
    engine, sms = cn_engine(open_store(), clock)
    for number in range(6):
        engine.open_case(cn_case(f"L-{number}", due=f"2026-08-{20 + number}"))
    engine.fire("L-0", "notify")
    result = engine.record_payment("L-1", Money(Decimal("50.00"), "CNY"), reference="bank-1")
    assert result.applied
    reports = []
    for _ in range(20):
        reports.append(engine.tick())
        clock.advance(timedelta(days=1))
    assert not any(report.errors for report in reports)
    assert sum(report.reviewed for report in reports) > 20
    assert sms.sent
    assert len({message.key for message in sms.sent}) == len(sms.sent)
    stages = {case_id: engine.case(case_id).stage for case_id in engine.store.case_ids()}
    assert "phone" in stages.values()
    assert engine.verify() == []
    for case_id in stages:
        assert engine.replay(case_id) == engine.case(case_id)

    # Another engine on the same database (another process, the next day) carries on.
    later, _ = cn_engine(open_store(), clock)
    assert {case_id: later.case(case_id).stage for case_id in later.store.case_ids()} == stages
    report = later.tick()
    assert report.reviewed == 6
    assert not report.errors
    assert later.verify() == []
    for case_id in stages:
        assert later.replay(case_id) == later.case(case_id)
        assert later.case(case_id).version == len(later.history(case_id))
    assert run_sql(url, schema, "SELECT count(*) FROM journal")[0][0] == sum(
        len(later.history(case_id)) for case_id in stages
    )


def test_a_tick_run_twice_sends_nothing_twice(open_store: Callable[[], PostgresStore]) -> None:
    clock = SettableClock(datetime(2026, 9, 3, 9, 30, tzinfo=SHANGHAI))
    engine, sms = cn_engine(open_store(), clock)
    for number in range(4):
        engine.open_case(cn_case(f"L-{number}", due="2026-09-02"))
    first = engine.tick(owner="worker-1", batch=3)
    again, sms_again = cn_engine(open_store(), clock)
    second = again.tick(owner="worker-2")
    assert first.reviewed == 4
    assert second.reviewed == 0
    assert len(sms.sent) == 4
    assert not sms_again.sent


def test_verify_finds_rows_changed_by_hand(
    url: str, schema: str, open_store: Callable[[], PostgresStore]
) -> None:
    clock = SettableClock(datetime(2026, 9, 2, 9, 30, tzinfo=SHANGHAI))
    engine, _ = cn_engine(open_store(), clock)
    for number in range(3):
        engine.open_case(cn_case(f"L-{number}"))
    engine.tick()
    assert engine.verify() == []
    run_sql(
        url,
        schema,
        "UPDATE journal SET body = convert_to(replace(convert_from(body, 'UTF8'), "
        "'3000.00', '3001.00'), 'UTF8') "
        "WHERE case_id = 'L-1' AND seq = 0",
    )
    problems = engine.verify()
    assert [(p.case_id, p.position, p.problem) for p in problems] == [("L-1", 0, "changed")]

    run_sql(url, schema, "DELETE FROM journal WHERE case_id = 'L-2' AND seq = 1")
    found = {(p.case_id, p.problem) for p in engine.verify()}
    assert ("L-2", "removed") in found or ("L-2", "truncated") in found

    last = run_sql(url, schema, "SELECT max(seq) FROM journal WHERE case_id = 'L-0'")
    run_sql(url, schema, f"DELETE FROM journal WHERE case_id = 'L-0' AND seq = {last[0][0]}")
    assert ("L-0", "truncated") in {(p.case_id, p.problem) for p in engine.verify()}


def test_open_cases_in_one_transaction_is_a_bulk_load(
    open_store: Callable[[], PostgresStore],
) -> None:
    store = open_store()
    clock = SettableClock(datetime(2026, 9, 2, 9, 30, tzinfo=SHANGHAI))
    engine, _ = cn_engine(store, clock)
    with store.transaction():
        assert engine.open_cases(cn_case(f"L-{number:04}") for number in range(2000)) == 2000
    other = open_store()
    assert len(other) == 2000
    assert len(other.due(clock.now())) == 2000
    assert other.get("L-1999") == engine.case("L-1999")


def test_the_application_role_with_the_documented_grants_works_a_day(url: str, schema: str) -> None:
    """docs/stores.md's least-privilege grants are enough to open a store and run a day.

    The role has no CREATE on the database or the schema: opening must find
    everything made (by the owner, once) and create nothing.
    """
    import re

    import psycopg

    PostgresStore(url, schema=schema).close()  # the owner makes the tables
    text = (Path(__file__).resolve().parent.parent / "docs/stores.md").read_text(encoding="utf-8")
    grants = re.findall(r"^GRANT [^;]+ TO collector;$", text, flags=re.MULTILINE)
    assert len(grants) >= 4
    role = f"{schema}_app"
    run_sql(url, schema, f"CREATE ROLE {role} LOGIN")
    try:
        for grant in grants:
            run_sql(url, schema, re.sub(r"\barrears\b", schema, grant).replace("collector", role))
        as_role = psycopg.conninfo.make_conninfo(url, user=role)
        clock = SettableClock(datetime(2026, 9, 2, 9, 30, tzinfo=SHANGHAI))
        with PostgresStore(as_role, schema=schema, max_size=2) as store:
            engine, _ = cn_engine(store, clock)
            engine.open_case(cn_case("L-1", due="2026-08-25"))
            engine.record_payment("L-1", Money(Decimal("50.00"), "CNY"), reference="bank-1")
            report = engine.tick()
            assert report.reviewed == 1
            assert not report.errors
            assert engine.verify() == []
        with psycopg.connect(as_role, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {schema}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM journal")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
