"""The store contract: every store passes the same tests (`arrears.store.Store`).

Adding a store: append a `StoreKind` to ``STORES`` below, e.g.::

    STORES["postgres"] = StoreKind(open=_postgres, transactional=True, shared=True)

``open(folder)`` returns an open store on storage of its own for *folder* (a
fresh database or schema for each test's temporary folder), and a second
store on the *same* storage when called again with the same folder; the
tests close every store they open.  A factory that needs a server it cannot
reach calls ``pytest.skip``.  ``transactional``: a nested `transaction` that
raises rolls its writes back.  ``shared``: two stores opened on one folder see
each other's writes (leases and optimistic checks are tested across them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _postgres import contract_store
from arrears import (
    Case,
    DuplicateCase,
    Engine,
    InvalidInput,
    MemoryStore,
    SettableClock,
    UnknownCase,
)
from arrears.journal import GENESIS, Head, JournalEntry, seal
from arrears.store import Store
from arrears.stores import ConcurrencyConflict, LeaseLost, SQLiteStore

START = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)


def debtor_reads(store: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The debtors a SQL *store* asks its database about from now on, one item a query."""
    asked: list[str] = []
    reading = type(store)._read_cases_of

    def counted(self: Any, debtor_id: str) -> list[str]:
        asked.append(debtor_id)
        return reading(self, debtor_id)

    monkeypatch.setattr(type(store), "_read_cases_of", counted)
    return asked


@dataclass(frozen=True)
class StoreKind:
    """How to open one kind of store for the contract tests."""

    open: Callable[[Path], Any]
    transactional: bool
    shared: bool


def _memory(folder: Path) -> MemoryStore:
    return MemoryStore()


def _sqlite(folder: Path) -> SQLiteStore:
    return SQLiteStore(folder / "arrears.db")


#: Every store the contract runs on (see the module's docstring to add one).
STORES: dict[str, StoreKind] = {
    "memory": StoreKind(open=_memory, transactional=True, shared=False),
    "sqlite": StoreKind(open=_sqlite, transactional=True, shared=True),
}
# PostgreSQL: a schema of each test's own; skipped without ARREARS_TEST_POSTGRES.
STORES["postgres"] = StoreKind(open=contract_store, transactional=True, shared=True)


class Opener:
    """Opens stores of one kind on one folder, and closes them all at the end."""

    def __init__(self, kind: StoreKind, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        self.opened: list[Any] = []

    def __call__(self) -> Any:
        store = self.kind.open(self.folder)
        self.opened.append(store)
        return store

    def close(self) -> None:
        for store in reversed(self.opened):
            close = getattr(store, "close", None)
            if close is not None:
                close()


@pytest.fixture(params=list(STORES))
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens stores of the kind under test on this test's folder."""
    opening = Opener(STORES[request.param], tmp_path)
    try:
        yield opening
    finally:
        opening.close()


@pytest.fixture
def store(opener: Opener) -> Any:
    """A new, empty store of the kind under test."""
    return opener()


@pytest.fixture
def second(opener: Opener, store: Any) -> Any:
    """Another store on the same storage as `store` (shared stores only)."""
    if not opener.kind.shared:
        pytest.skip("the store is not shared between processes")
    return opener()


def new_case(case_id: str = "C-1", **extra: Any) -> Case:
    data: dict[str, Any] = {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "m", "channel": "sms", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": "1000.00"},
        "due_date": "2026-09-01",
    }
    data.update(extra)
    return Case.model_validate(data)


def opened(case: Case, at: datetime = START) -> JournalEntry:
    """Seal a case's first entry and apply it, as `Engine.open_case` does."""
    data = {"actor": "system", "case": case.model_dump_json(), "workflow": ["standard", "1"]}
    entry = seal(case.id, 0, at, "opened", data, GENESIS)
    case.version = 1
    return entry


def add(store: Store, case_id: str = "C-1", debtor: str | None = None) -> Case:
    case = new_case(case_id) if debtor is None else new_case(case_id, debtor={"id": debtor})
    store.add(case, opened(case))
    return case


def next_entry(store: Store, case_id: str, kind: str = "notice", **data: Any) -> JournalEntry:
    head = store.head(case_id)
    return seal(
        case_id, head.seq + 1, START + timedelta(minutes=head.seq + 1), kind, data, head.hash
    )


def write(store: Store, case_id: str, kind: str = "notice", **data: Any) -> JournalEntry:
    """Append one entry and the case after it, as `Recorder.record` does."""
    case = store.get(case_id)
    entry = next_entry(store, case_id, kind, **data)
    case.version += 1
    store.append(entry, case)
    return entry


def test_every_store_is_a_store(store: Any) -> None:
    """Each kind satisfies the `Store` protocol."""
    assert isinstance(store, Store)


class TestCases:
    def test_add_and_get(self, store: Store) -> None:
        """A case added is there: ``in``, ``len``, `get` and `case_ids` in the order added."""
        add(store, "C-2")
        add(store, "C-1")
        assert "C-1" in store
        assert "C-9" not in store
        assert 7 not in store
        assert len(store) == 2
        assert list(store.case_ids()) == ["C-2", "C-1"]
        assert store.get("C-1").id == "C-1"
        assert store.get("C-1").version == 1

    def test_get_is_an_identity_map(self, store: Store) -> None:
        """`get` returns the same object for the same id."""
        add(store)
        assert store.get("C-1") is store.get("C-1")

    def test_unknown_case(self, store: Store) -> None:
        """Every read of an unknown case raises `UnknownCase` (a `KeyError` too)."""
        for read in (store.get, store.head, store.last_entry, store.entries):
            with pytest.raises(UnknownCase):
                read("nope")
        with pytest.raises(KeyError):
            store.get("nope")

    def test_duplicate(self, store: Store) -> None:
        """A second case with the same id is refused and the first is kept."""
        add(store)
        with pytest.raises(DuplicateCase):
            add(store)
        assert len(store) == 1

    def test_the_first_entry_must_be_the_cases_entry_0(self, store: Store) -> None:
        """`add` takes entry #0 of the same case only."""
        case = new_case()
        other = opened(new_case("C-2"))
        with pytest.raises(InvalidInput):
            store.add(case, other)
        assert "C-1" not in store


class TestDebtors:
    def test_cases_of_a_debtor(self, store: Store) -> None:
        """`cases_of` gives the debtor's cases in case id order, and no one else's."""
        add(store, "L-3", debtor="D-1")
        add(store, "L-1", debtor="D-1")
        add(store, "K-9", debtor="D-2")
        add(store, "L-2", debtor="D-1")
        assert store.cases_of("D-1") == ["L-1", "L-2", "L-3"]
        assert store.cases_of("D-2") == ["K-9"]
        assert store.cases_of("D-unknown") == []

    def test_a_case_keeps_its_debtor_as_it_changes(self, store: Store) -> None:
        """Entries appended to a case leave it among its debtor's cases."""
        add(store, "L-1", debtor="D-1")
        write(store, "L-1")
        write(store, "L-1", "transition")
        assert store.cases_of("D-1") == ["L-1"]

    def test_cases_added_in_the_open_transaction_are_found(self, store: Store) -> None:
        """Inside a transaction the cases it added count; rolled back, they are gone."""
        add(store, "L-1", debtor="D-1")

        def add_then_fail() -> None:
            with store.transaction():
                add(store, "L-2", debtor="D-1")
                add(store, "L-0", debtor="D-1")
                assert store.cases_of("D-1") == ["L-0", "L-1", "L-2"]
                with store.transaction():
                    add(store, "M-1", debtor="D-3")
                    assert store.cases_of("D-3") == ["M-1"]
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            add_then_fail()
        assert store.cases_of("D-1") == ["L-1"]
        assert store.cases_of("D-3") == []

    def test_debtors_read_at_once_answer_until_the_transaction_ends(
        self, store: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`read_debtors` (SQL stores) reads many debtors' cases in one query; inside the
        transaction `cases_of` answers from it, with the cases the transaction adds (and not
        those a failed nested level took back), without asking the database again."""
        if isinstance(store, MemoryStore):
            pytest.skip("the store answers cases_of from memory")
        add(store, "L-1", debtor="D-1")
        add(store, "K-1", debtor="D-2")
        asked = debtor_reads(store, monkeypatch)

        def take_back() -> None:
            with store.transaction():
                add(store, "L-9", debtor="D-1")
                raise RuntimeError("taken back")

        with store.transaction():
            store.read_debtors(["D-1", "D-2", "D-3"])
            add(store, "L-2", debtor="D-1")
            add(store, "M-1", debtor="D-3")
            with pytest.raises(RuntimeError):
                take_back()
            assert store.cases_of("D-1") == ["L-1", "L-2"]
            assert store.cases_of("D-2") == ["K-1"]
            assert store.cases_of("D-3") == ["M-1"]
            assert asked == []
        assert store.cases_of("D-1") == ["L-1", "L-2"]  # read again after the transaction
        assert asked == ["D-1"]

    def test_the_latest_entry_of_a_debtors_cases(self, store: Any) -> None:
        """`latest_entries` (SQL stores): the newest entry over every case of the debtors
        asked, in one query, with what the open transaction wrote; other debtors' cases
        do not count, and a debtor with no case has none."""
        if isinstance(store, MemoryStore):
            pytest.skip("the tick reads a memory store's chains directly")
        add(store, "L-1", debtor="D-1")
        add(store, "L-2", debtor="D-1")
        add(store, "K-1", debtor="D-2")
        for _ in range(3):
            write(store, "K-1")  # D-2's newest: START + 3 minutes
        write(store, "L-2")
        write(store, "L-2")  # D-1's newest: START + 2 minutes, on its second case
        write(store, "L-1")
        assert store.latest_entries(["D-1"]) == {"D-1": START + timedelta(minutes=2)}
        assert store.latest_entries(["D-1", "D-2"]) == {
            "D-1": START + timedelta(minutes=2),
            "D-2": START + timedelta(minutes=3),
        }
        assert store.latest_entries(["D-9"]) == {}
        with store.transaction():
            write(store, "L-1")
            write(store, "L-1")
            write(store, "L-1")  # START + 4 minutes, not committed yet
            assert store.latest_entries(["D-1"]) == {"D-1": START + timedelta(minutes=4)}

    def test_a_bulk_open_in_a_transaction_reads_debtors_at_once(
        self, store: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`Engine.open_cases` inside a transaction asks a SQL store for its records' debtors
        once, not once a case; records a failing iterable gave before failing are opened."""
        if isinstance(store, MemoryStore):
            pytest.skip("the store answers cases_of from memory")
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(new_case("L-0", debtor={"id": "D-1"}))
        engine.add_hold("L-0", "bankruptcy", "petition")
        asked = debtor_reads(store, monkeypatch)

        def records() -> Iterator[Case]:
            for n in range(1, 4):
                yield new_case(f"L-{n}", debtor={"id": f"D-{n % 2}"})
            raise RuntimeError("the source failed")

        with pytest.raises(RuntimeError, match="the source failed"):
            engine.open_cases(records())  # each case its own unit of work
        assert [len(engine.case(f"L-{n}").holds) for n in (1, 2, 3)] == [1, 0, 1]
        asked.clear()
        with engine.atomic():
            engine.open_cases(new_case(f"M-{n}", debtor={"id": f"D-{n % 2}"}) for n in (1, 2, 3))
        assert asked == []
        assert [len(engine.case(f"M-{n}").holds) for n in (1, 2, 3)] == [1, 0, 1]

    def test_the_other_store_sees_a_new_case_of_the_debtor(self, store: Any, second: Any) -> None:
        """A case another writer added for the debtor is among the debtor's cases at once."""
        add(store, "L-1", debtor="D-1")
        assert second.cases_of("D-1") == ["L-1"]
        add(second, "L-2", debtor="D-1")
        assert store.cases_of("D-1") == ["L-1", "L-2"]


class TestJournal:
    def test_append_moves_the_head(self, store: Store) -> None:
        """`append` extends the chain: `head`, `last_entry` and `entries` follow it."""
        add(store)
        first = store.last_entry("C-1")
        entry = write(store, "C-1", notice="a")
        assert store.head("C-1") == Head(1, entry.hash)
        assert store.last_entry("C-1") == entry
        assert list(store.entries("C-1")) == [first, entry]
        assert store.entries("C-1")[1].body == entry.body  # stored as sealed

    def test_entries_are_a_snapshot(self, store: Store) -> None:
        """The sequence `entries` returns does not grow with later appends."""
        add(store)
        before = store.entries("C-1")
        write(store, "C-1")
        assert len(before) == 1
        assert len(store.entries("C-1")) == 2

    def test_append_saves_the_case(self, store: Store) -> None:
        """The case given with an entry is what `get` returns afterwards."""
        add(store)
        case = store.get("C-1")
        case.stage = "notified"
        write(store, "C-1", "transition")
        assert store.get("C-1").stage == "notified"
        assert store.get("C-1").version == 2

    def test_a_gap_is_refused(self, store: Store) -> None:
        """An entry that skips a sequence number is refused; the chain is unchanged."""
        add(store)
        head = store.head("C-1")
        gap = seal("C-1", 2, START, "notice", {}, head.hash)
        with pytest.raises(InvalidInput):
            store.append(gap)
        assert store.head("C-1") == head

    def test_a_taken_number_is_refused(self, store: Store) -> None:
        """An entry whose sequence number is taken is refused (a lost race in a shared store)."""
        add(store)
        write(store, "C-1")
        stale = seal("C-1", 1, START, "notice", {"again": True}, store.entries("C-1")[0].hash)
        with pytest.raises((InvalidInput, ConcurrencyConflict)):
            store.append(stale)
        assert len(store.entries("C-1")) == 2

    def test_append_without_a_case(self, store: Store) -> None:
        """An imported chain: entries appended alone, the case saved whole by `add`."""
        case = new_case()
        first = opened(case)
        later = [seal("C-1", 1, START, "notice", {"n": 1}, first.hash)]
        later.append(seal("C-1", 2, START, "notice", {"n": 2}, later[0].hash))
        case.version = 3
        store.add(case, first)
        for entry in later:
            store.append(entry)
        assert store.head("C-1") == Head(2, later[-1].hash)
        assert store.get("C-1").version == 3

    def test_chains(self, store: Store) -> None:
        """`chains` yields every case's chain once."""
        add(store, "C-1")
        add(store, "C-2")
        write(store, "C-2")
        chains = {case_id: list(entries) for case_id, entries in store.chains()}
        assert set(chains) == {"C-1", "C-2"}
        assert [entry.seq for entry in chains["C-2"]] == [0, 1]
        assert chains["C-2"] == list(store.entries("C-2"))

    def test_chains_come_in_case_id_order(self, store: Store) -> None:
        """Every store yields the chains in case id order, whatever order cases were added
        in: an export or a verification reads the same sequence from any store."""
        ids = ["b-2", "B-10", "a", "B-9", "Z", "a.1", "a-1", "0"]
        for case_id in ids:
            add(store, case_id)
        with store.transaction():
            add(store, "C-0")  # not yet committed: the store's own writes count
            assert [case_id for case_id, _ in store.chains()] == sorted([*ids, "C-0"])
        assert list(store.case_ids()) == [*ids, "C-0"]  # case_ids: the order of adding


class TestReviews:
    def test_due_earliest_first(self, store: Store) -> None:
        """`due` lists the cases due at a moment, earliest first, at most *limit*."""
        for number, hours in enumerate((3, 1, 2, 9)):
            store.schedule(f"C-{number}", START + timedelta(hours=hours))
        at = START + timedelta(hours=5)
        assert store.due(at) == ["C-1", "C-2", "C-0"]
        assert store.due(at, limit=2) == ["C-1", "C-2"]
        assert store.due(START) == []

    def test_ties_in_id_order(self, store: Store) -> None:
        """Cases due at the same moment come in id order."""
        for case_id in ("C-b", "C-a", "C-c"):
            store.schedule(case_id, START)
        assert store.due(START) == ["C-a", "C-b", "C-c"]

    def test_due_until_rescheduled(self, store: Store) -> None:
        """A due case stays due until scheduled again; ``None`` takes it off."""
        store.schedule("C-1", START)
        store.schedule("C-2", START)
        assert store.due(START) == ["C-1", "C-2"]
        assert store.due(START) == ["C-1", "C-2"]
        store.schedule("C-1", START + timedelta(days=1))
        store.schedule("C-2", None)
        assert store.due(START) == []
        assert store.next_review("C-1") == START + timedelta(days=1)
        assert store.next_review("C-2") is None
        assert store.due(START + timedelta(days=1)) == ["C-1"]

    def test_next_review_is_utc(self, store: Store) -> None:
        """`next_review` gives back the same instant, in UTC, to the microsecond."""
        from zoneinfo import ZoneInfo

        at = datetime(2026, 10, 1, 9, 30, 0, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
        store.schedule("C-1", at)
        review = store.next_review("C-1")
        assert review == at
        assert review is not None
        assert review.utcoffset() == timedelta(0)

    def test_lease_takes_due_cases(self, store: Store) -> None:
        """`lease` gives a worker due cases, earliest first; `release` gives them back."""
        for number in range(3):
            add(store, f"C-{number}")
            store.schedule(f"C-{number}", START + timedelta(minutes=number))
        taken = store.lease(START + timedelta(hours=1), 2, "w1", timedelta(minutes=5))
        assert taken == ["C-0", "C-1"]
        store.release(taken, "w1")


class TestLeasesAcrossStores:
    def test_a_lease_keeps_other_workers_off(self, store: Any, second: Any) -> None:
        """Cases leased by one worker are skipped by another until released."""
        for number in range(4):
            add(store, f"C-{number}")
            store.schedule(f"C-{number}", START)
        now = START + timedelta(minutes=1)
        mine = store.lease(now, 2, "w1", timedelta(minutes=5))
        theirs = second.lease(now, 10, "w2", timedelta(minutes=5))
        assert mine == ["C-0", "C-1"]
        assert theirs == ["C-2", "C-3"]
        assert second.lease(now, 10, "w3", timedelta(minutes=5)) == []
        store.release(mine, "w1")
        assert second.lease(now, 10, "w3", timedelta(minutes=5)) == mine

    def test_an_expired_lease_is_taken_over(self, store: Any, second: Any) -> None:
        """A dead worker's lease runs out at the lease's end; then another takes the case."""
        add(store, "C-1")
        store.schedule("C-1", START)
        assert store.lease(START, 5, "dead", timedelta(minutes=5)) == ["C-1"]
        assert second.lease(START + timedelta(minutes=4), 5, "w2", timedelta(minutes=5)) == []
        later = START + timedelta(minutes=5)
        assert second.lease(later, 5, "w2", timedelta(minutes=5)) == ["C-1"]

    def test_a_worker_takes_its_own_lease_again(self, store: Any, second: Any) -> None:
        """A worker restarted under the same name resumes its leases at once."""
        add(store, "C-1")
        store.schedule("C-1", START)
        assert store.lease(START, 5, "w1", timedelta(minutes=5)) == ["C-1"]
        assert second.lease(START, 5, "w1", timedelta(minutes=5)) == ["C-1"]

    def test_release_leaves_other_owners_alone(self, store: Any, second: Any) -> None:
        """`release` only gives back the caller's own leases."""
        add(store, "C-1")
        store.schedule("C-1", START)
        assert store.lease(START, 5, "w1", timedelta(minutes=5)) == ["C-1"]
        second.release(["C-1"], "w2")
        assert second.lease(START, 5, "w2", timedelta(minutes=5)) == []

    def test_a_stale_batch_cannot_commit_over_the_next_owner(self, store: Any, second: Any) -> None:
        """A worker whose lease ran out, and whose debtor another worker took, stores
        nothing of its batch: its commit is refused, the new owner's work stands."""
        for case_id in ("C-1", "C-2"):
            add(store, case_id)
            store.schedule(case_id, START)
        assert store.lease(START, 5, "w1", timedelta(minutes=5)) == ["C-1", "C-2"]
        store.get("C-1")  # w1 reads its batch, then stalls past its lease
        later = START + timedelta(minutes=6)
        assert second.lease(later, 1, "w2", timedelta(minutes=5)) == ["C-1"]
        write(second, "C-1", kind="review")
        second.schedule("C-1", START + timedelta(days=1))
        head = second.head("C-1")

        def stale_batch() -> None:
            with store.transaction():
                write(store, "C-2")  # a case still w1's: the batch is refused whole
                store.schedule("C-2", START + timedelta(days=2))
                store.schedule("C-1", START + timedelta(days=3))

        with pytest.raises(LeaseLost) as lost:
            stale_batch()
        assert (lost.value.case_id, lost.value.owner) == ("C-1", "w1")
        assert second.head("C-1") == head
        assert second.next_review("C-1") == START + timedelta(days=1)
        assert second.head("C-2").seq == 0
        assert second.next_review("C-2") == START
        # Released, w1's other case goes to the next worker at once.
        store.release(["C-1", "C-2"], "w1")
        assert second.lease(later, 5, "w3", timedelta(minutes=5)) == ["C-2"]

    def test_a_stale_batch_cannot_give_its_leases_back_with_its_writes(
        self, store: Any, second: Any
    ) -> None:
        """The batch's last transaction, which releases its leases, is refused too."""
        add(store, "C-1")
        store.schedule("C-1", START)
        assert store.lease(START, 5, "w1", timedelta(minutes=5)) == ["C-1"]
        assert second.lease(START + timedelta(minutes=5), 5, "w2", timedelta(hours=1)) == ["C-1"]

        def last_transaction() -> None:
            with store.transaction():
                store.schedule("C-1", START + timedelta(days=1))
                store.release(["C-1"], "w1")

        with pytest.raises(LeaseLost):
            last_transaction()
        assert second.next_review("C-1") == START
        assert second.lease(START + timedelta(minutes=30), 5, "w3", timedelta(minutes=5)) == []

    def test_release_inside_a_transaction_goes_with_its_commit(
        self, store: Any, second: Any
    ) -> None:
        """Leases given back inside a transaction go back when it commits, not when it
        is rolled back."""
        for case_id in ("C-1", "C-2"):
            add(store, case_id)
            store.schedule(case_id, START)
        mine = store.lease(START, 5, "w1", timedelta(minutes=5))

        def failed_batch() -> None:
            with store.transaction():
                store.schedule("C-1", START + timedelta(days=1))
                store.release(mine, "w1")
                raise RuntimeError("the batch failed")

        with pytest.raises(RuntimeError):
            failed_batch()
        assert second.lease(START, 5, "w2", timedelta(minutes=5)) == []
        with store.transaction():
            store.schedule("C-1", START + timedelta(days=1))  # taken off what is due
            store.schedule("C-2", None)  # closed: its row and lease are gone
            store.release(mine, "w1")
        store.schedule("C-2", START)  # due again, and not leased
        assert second.lease(START, 5, "w2", timedelta(minutes=5)) == ["C-2"]

    def test_a_case_taken_off_the_schedule_leaves_the_lease(self, store: Any) -> None:
        """A case the worker closes loses its review row, and its lease with it; the
        batch's later commits do not take that for another worker's."""
        for case_id in ("C-1", "C-2"):
            add(store, case_id)
            store.schedule(case_id, START)
        mine = store.lease(START, 5, "w1", timedelta(minutes=5))
        store.schedule("C-1", None)
        write(store, "C-2")
        with store.transaction():
            store.schedule("C-2", START + timedelta(days=1))
            store.release(mine, "w1")
        assert store.next_review("C-2") == START + timedelta(days=1)

    def test_a_lease_takes_whole_debtors(self, store: Any, second: Any) -> None:
        """A debtor's due cases go to one worker together; another takes none of them
        while that lease holds, even one that falls due meanwhile."""
        for case_id, debtor, minutes in [
            ("C-1", "D-1", 0),
            ("C-2", "D-2", 1),
            ("C-3", "D-1", 2),
            ("C-4", "D-1", 30),
        ]:
            add(store, case_id, debtor=debtor)
            store.schedule(case_id, START + timedelta(minutes=minutes))
        now = START + timedelta(minutes=5)
        assert store.lease(now, 1, "w1", timedelta(hours=1)) == ["C-1", "C-3"]
        assert second.lease(now, 10, "w2", timedelta(minutes=5)) == ["C-2"]
        # C-4 has fallen due and w2's lease of C-2 has run out: w3 takes C-2 only, even
        # asking for one case, the earliest due being C-4 of the debtor w1 holds.
        later = START + timedelta(minutes=31)
        assert second.lease(later, 1, "w3", timedelta(minutes=5)) == ["C-2"]
        store.release(["C-1", "C-3"], "w1")
        assert second.lease(later, 10, "w3", timedelta(minutes=5)) == ["C-1", "C-2", "C-3", "C-4"]

    def test_a_held_debtor_does_not_stop_another_worker(self, store: Any, second: Any) -> None:
        """A debtor's case that falls due while another worker holds the debtor is passed
        over, not taken, and does not keep the next debtor's cases from the worker."""
        for case_id, debtor, minutes in [("C-1", "D-1", 0), ("C-2", "D-2", 2)]:
            add(store, case_id, debtor=debtor)
            store.schedule(case_id, START + timedelta(minutes=minutes))
        add(store, "C-3", debtor="D-1")
        now = START + timedelta(minutes=5)
        assert store.lease(now, 1, "w1", timedelta(hours=1)) == ["C-1"]
        store.schedule("C-3", START + timedelta(minutes=1))  # due now, before C-2
        assert second.lease(now, 1, "w2", timedelta(minutes=5)) == ["C-2"]


class TestTransactions:
    def test_writes_inside_are_kept(self, store: Store) -> None:
        """A transaction that ends normally keeps every write, nested ones included."""
        with store.transaction():
            add(store, "C-1")
            with store.transaction():
                write(store, "C-1")
                store.schedule("C-1", START)
            add(store, "C-2")
        assert len(store) == 2
        assert store.head("C-1").seq == 1
        assert store.due(START) == ["C-1"]

    def test_a_failed_nested_transaction_rolls_back(self, opener: Opener, store: Store) -> None:
        """A nested transaction that raises takes back its writes; the case is read again."""
        if not opener.kind.transactional:
            pytest.skip("writes are immediate in this store")
        add(store, "C-1")
        add(store, "C-2")
        with store.transaction():
            write(store, "C-2")
            case = store.get("C-1")

            def move_then_fail() -> None:
                with store.transaction():
                    case.stage = "notified"
                    write(store, "C-1", "transition")
                    store.schedule("C-1", START)
                    raise RuntimeError("boom")

            with pytest.raises(RuntimeError):
                move_then_fail()
        fresh = store.get("C-1")
        assert fresh is not case
        assert (fresh.stage, fresh.version) == ("pre_due", 1)
        assert store.head("C-1").seq == 0
        assert len(store.entries("C-1")) == 1
        assert store.due(START) == []
        assert store.head("C-2").seq == 1  # the outer transaction's write is kept

    def test_a_failed_transaction_rolls_back(self, opener: Opener, store: Store) -> None:
        """An outer transaction that raises takes back everything in it."""
        if not opener.kind.transactional:
            pytest.skip("writes are immediate in this store")
        add(store, "C-1")

        def write_then_fail() -> None:
            with store.transaction():
                write(store, "C-1")
                add(store, "C-2")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            write_then_fail()
        assert "C-2" not in store
        assert store.get("C-1").version == 1
        assert [entry.seq for entry in store.entries("C-1")] == [0]

    def test_an_entry_whose_number_is_taken_is_a_conflict(self, store: Store) -> None:
        """An entry sealed before another writer's: `ConcurrencyConflict`, and nothing written."""
        add(store)
        stale = next_entry(store, "C-1", note="sealed first, written late")
        written = write(store, "C-1")
        with pytest.raises(ConcurrencyConflict) as caught:
            store.append(stale, store.get("C-1"))
        assert caught.value.case_id == "C-1"
        assert store.last_entry("C-1") == written
        assert [entry.seq for entry in store.entries("C-1")] == [0, 1]


class TestSharedStores:
    def test_writes_are_seen_by_the_other(self, store: Any, second: Any) -> None:
        """What one store commits, the other reads (its copy is refreshed)."""
        add(store)
        seen = second.get("C-1")
        store.get("C-1").stage = "notified"
        write(store, "C-1", "transition")
        fresh = second.get("C-1")
        assert fresh is not seen
        assert (fresh.stage, fresh.version) == ("notified", 2)
        assert second.head("C-1") == store.head("C-1")
        assert list(second.entries("C-1")) == list(store.entries("C-1"))

    def test_an_unchanged_case_keeps_its_identity(self, store: Any, second: Any) -> None:
        """Another store's writes to other cases leave this store's copies as they are."""
        add(store, "C-1")
        add(store, "C-2")
        mine = second.get("C-1")
        write(store, "C-2")
        assert second.get("C-1") is mine

    def test_a_lost_race_is_a_conflict(self, store: Any, second: Any) -> None:
        """Two writers from the same version: the second gets `ConcurrencyConflict`."""
        add(store)
        ours, theirs = store.get("C-1"), second.get("C-1")
        entry = next_entry(store, "C-1", note="first")
        with second.transaction():
            theirs_entry = next_entry(second, "C-1", note="second")
        ours.version += 1
        store.append(entry, ours)
        theirs.version += 1
        with pytest.raises(ConcurrencyConflict) as caught:
            second.append(theirs_entry, theirs)
        assert caught.value.case_id == "C-1"
        fresh = second.get("C-1")
        assert fresh is not theirs
        assert fresh.version == 2
        assert second.last_entry("C-1") == entry

    def test_an_engine_reads_what_another_wrote(self, store: Any, second: Any) -> None:
        """An engine whose store holds an older copy reads the newer one before it writes."""
        clock = SettableClock(START)
        one = Engine(store=store, clock=clock)
        two = Engine(store=second, clock=clock)
        one.open_case(new_case())
        two.store.get("C-1")  # cached in the second engine's store
        one.fire("C-1", "notify")
        two.fire("C-1", "escalate")
        assert one.case("C-1").stage == "sms"
        assert [entry.kind for entry in one.history("C-1")] == [
            "opened",
            "transition",
            "transition",
        ]
        assert one.verify() == []
        assert two.verify() == []


class TestWithTheEngine:
    def test_a_working_day(self, store: Store) -> None:
        """The engine on this store: open, fire, pay, hold; replay equals the stored case."""
        from arrears import Money

        clock = SettableClock(START)
        engine = Engine(store=store, clock=clock)
        engine.open_case(new_case("C-1"))
        engine.open_case(new_case("C-2"))
        engine.fire("C-1", "notify")
        engine.record_payment("C-2", Money("1000.00", "CNY"))
        engine.add_hold("C-1", "dispute", "debtor disputes the amount")
        for case_id in ("C-1", "C-2"):
            assert engine.replay(case_id) == engine.case(case_id)
        assert engine.verify() == []

    def test_a_case_opened_later_inherits_the_debtors_hold(self, store: Store) -> None:
        """A bankruptcy on loan 1: loan 2, opened a day later, holds it from its opening (same
        id, origin loan 1, its end kept), journaled in the opening's unit; released on loan 2,
        it is released on loan 1 too."""
        clock = SettableClock(START)
        engine = Engine(store=store, clock=clock)
        engine.open_case(new_case("L-1", debtor={"id": "D-1"}))
        ends = START + timedelta(days=60)
        hold = engine.add_hold("L-1", "bankruptcy", "chapter 7 petition", until=ends)
        clock.set(START + timedelta(days=1))
        opened = engine.open_case(new_case("L-2", debtor={"id": "D-1"}))
        assert [(h.id, h.origin, h.ends_at) for h in opened.holds] == [(hold.id, "L-1", ends)]
        assert [(e.kind, e.at) for e in engine.history("L-2")] == [
            ("opened", clock.now()),
            ("hold_added", clock.now()),
        ]
        engine.open_case(new_case("K-1", debtor={"id": "D-2"}))
        assert engine.case("K-1").holds == ()
        engine.release_hold("L-2", hold.id, at=START + timedelta(days=2))
        later = START + timedelta(days=3)
        assert [engine.case(c).active_holds(later) for c in ("L-1", "L-2")] == [(), ()]
        assert engine.replay("L-2") == engine.case("L-2")
        assert engine.verify() == []

    def test_a_crash_before_the_hold_is_inherited_opens_nothing(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The opening and the inherited hold are one unit: a failure journaling the hold leaves
        no case, no entry and no trace among the debtor's cases."""
        from arrears.operations import holds

        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(new_case("L-1", debtor={"id": "D-1"}))
        engine.add_hold("L-1", "deceased", "death certificate received")
        before = engine.history("L-1")

        def crash(*args: Any) -> None:
            raise RuntimeError("power cut")

        monkeypatch.setattr(holds, "_place", crash)
        with pytest.raises(RuntimeError, match="power cut"):
            engine.open_case(new_case("L-2", debtor={"id": "D-1"}))
        assert "L-2" not in store
        assert store.cases_of("D-1") == ["L-1"]
        assert engine.history("L-1") == before
        monkeypatch.undo()
        assert [
            h.origin for h in engine.open_case(new_case("L-2", debtor={"id": "D-1"})).holds
        ] == ["L-1"]

    def test_a_bulk_open_in_one_unit_inherits_per_debtor(self, store: Store) -> None:
        """Many loans opened in one unit of work: each held debtor's new loans inherit their
        hold, a loan added and taken back inside the unit is not among the debtor's cases, and
        other debtors' loans inherit nothing."""
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_cases([new_case(f"H-{n}", debtor={"id": f"D-{n}"}) for n in range(3)])
        holds = [engine.add_hold(f"H-{n}", "breathing_space", "moratorium") for n in range(3)]
        with engine.atomic():
            engine.open_cases(
                [
                    new_case(f"N-{n}-{k}", debtor={"id": f"D-{n % 5}"})
                    for k in range(2)
                    for n in range(6)
                ]
            )

            def open_then_fail() -> None:
                with engine.atomic():
                    engine.open_case(new_case("X-1", debtor={"id": "D-0"}))
                    raise RuntimeError("taken back")

            with pytest.raises(RuntimeError):
                open_then_fail()
            assert store.cases_of("D-0") == ["H-0", "N-0-0", "N-0-1", "N-5-0", "N-5-1"]
        for n in range(6):
            for k in range(2):
                held = engine.case(f"N-{n}-{k}").holds
                expected = [(holds[n % 5].id, f"H-{n % 5}")] if n % 5 < 3 else []
                assert [(h.id, h.origin) for h in held] == expected
        assert "X-1" not in store
        assert engine.verify() == []


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["C-1", "C-2", "C-3", "C-4", "C-5"]),
            st.one_of(st.none(), st.integers(0, 6)),
            st.one_of(st.none(), st.integers(0, 4)),
        ),
        max_size=40,
    )
)
def test_memory_review_index_matches_a_plain_model(
    steps: list[tuple[str, int | None, int | None]],
) -> None:
    """Moves, removals and reads in any order: `due` is what a plain dict says, sorted.

    Each step schedules a case (at an hour, or off with ``None``) and, when
    the third value is given, reads `due` at that hour with a limit of 2.
    """
    store, model = MemoryStore(), dict[str, datetime]()
    for case_id, hour, read in steps:
        at = None if hour is None else START + timedelta(hours=hour)
        store.schedule(case_id, at)
        if at is None:
            model.pop(case_id, None)
        else:
            model[case_id] = at
        if read is not None:
            now = START + timedelta(hours=read)
            expected = sorted((moment, key) for key, moment in model.items() if moment <= now)
            assert store.due(now) == [key for _, key in expected]
            assert store.due(now, 2) == [key for _, key in expected][:2]
        for key, moment in model.items():
            assert store.next_review(key) == moment
