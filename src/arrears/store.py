"""Where cases, their journal chains and the review schedule live.

`Store` is the protocol every store implements, and one contract test suite
(``tests/test_store_contract.py``) runs against each of them.  `MemoryStore`
keeps everything in dictionaries: for tests, simulations and hosts that
persist elsewhere.  It keeps each chain's head apart from the chain, so
entries cut off the end are found by `verify`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Final, Protocol, runtime_checkable

from .case import Case
from .clock import instant
from .errors import ConcurrencyConflict, DuplicateCase, InvalidInput, UnknownCase
from .events import replay
from .journal import Head, JournalEntry

#: ``Head._make`` without its Python frame (the engine reads a head for each case of
#: a debtor at each judgment: `arrears.recorder.Recorder.debtor_history`).
_head: Final = tuple.__new__

__all__ = ["MemoryStore", "Store"]

#: A case had no review scheduled when a transaction first changed its review.
_UNSCHEDULED: Final = -1.0


@runtime_checkable
class Store(Protocol):
    """What the engine needs from a store.

    Cases: `add`, `get` (the store's working copy: the same object for the
    same id until it is changed elsewhere), `case_ids`, `cases_of` (a
    debtor's cases, by ``debtor.id``), ``in`` and ``len``.
    Journal: `append` (an entry and the case as it stands after it, written
    together, with an optimistic check of the case's version), `entries`,
    `head`, `last_entry`, `chains`.  Reviews: `schedule`, `due`,
    `next_review`, and `lease`/`release` for several workers sharing a tick.
    `transaction` groups writes into one unit of work (nested ones are
    savepoints).

    When a conflict surfaces: `append` raises `ConcurrencyConflict` at once
    when the store's copy shows the entry's number taken or *case* not at the
    version after the chain's head (another writer was first, and the copy
    was checked in this transaction).  A race the store cannot see before
    writing (a row changed by another writer after it was read, a journal
    key taken meanwhile) surfaces when the outermost transaction commits:
    the SQL stores write their buffers then (`arrears.stores._session`).
    Either way the whole outermost transaction is rolled back: nothing of it
    is stored, the copies it touched are dropped, and the caller reads the
    case again and decides again.  A conflict raised by `append` inside a
    nested transaction rolls back only that level when the caller catches it
    there.

    A store several processes write may also have ``lock_debtors(debtor_ids)``,
    which holds the debtors until the open transaction ends (another
    transaction locking them waits until it ends): the engine calls it, when
    the store has it, before a write that must see every case of a debtor
    (opening a case, a hold reaching the debtor, a task, a payment under a
    reference checked against the debtor's other loans), and before every entry it
    records (``lock_debtors_now``, the same lock sent at once, when the store has
    it; else ``lock_debtors``). `PostgresStore` has
    it (`SQLiteStore`'s is a no-op: ``BEGIN IMMEDIATE`` runs one writer at a
    time); `MemoryStore` needs none (one process).

    A store with leases may also have ``leased_beyond(moment)``: every case
    leased until after *moment*, with the lease's end (`Engine.verify` reports
    one leased further ahead than any tick leases as ``unscheduled``).  A store
    may also have ``scheduled(case_ids)``: when each of *case_ids* on the review
    schedule is reviewed next, in one query (`Engine.verify` asks it once for
    every open case; a store without it is asked `next_review` of each).

    Order: `chains` yields the chains in case id order (code point order, as
    `sorted`), `case_ids` the ids in the order cases were added; every store
    agrees.
    """

    def __len__(self) -> int:
        """The number of cases."""
        ...

    def __contains__(self, case_id: object) -> bool:
        """True when a case with that id is stored."""
        ...

    def add(self, case: Case, opened: JournalEntry) -> None:
        """Store a new case with the first entry of its chain."""
        ...

    def get(self, case_id: str) -> Case:
        """The case (the store's working copy)."""
        ...

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        """Append *entry*, and save *case* as it stands after it, in one write.

        Without *case* only the entry is written (an imported chain whose case
        was saved whole by `add`).

        Raises:
            ConcurrencyConflict: the stored case is not at ``case.version - 1``.
        """
        ...

    def entries(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's chain, oldest first."""
        ...

    def head(self, case_id: str) -> Head:
        """The recorded end of the case's chain."""
        ...

    def last_entry(self, case_id: str) -> JournalEntry:
        """The newest entry of the case's chain."""
        ...

    def case_ids(self) -> Iterator[str]:
        """Every case id."""
        ...

    def cases_of(self, debtor_id: str) -> list[str]:
        """The ids of the cases whose debtor is *debtor_id*, in case id order (code point order).

        Indexed: it never reads every case.  Inside a transaction it includes
        the cases the transaction added.
        """
        ...

    def chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        """Every chain with its case id, in case id order (code point order, as `sorted`)."""
        ...

    def schedule(self, case_id: str, at: datetime | None) -> None:
        """Set the case's next review (``None``: off the schedule)."""
        ...

    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """The cases due for review at *now*, earliest first."""
        ...

    def next_review(self, case_id: str) -> datetime | None:
        """When the case is reviewed next."""
        ...

    def due_at(self, case_id: str) -> datetime | None:
        """When the case was due, as `due` or `lease` last returned it (else `next_review`)."""
        ...

    def lease(self, now: datetime, limit: int, owner: str, ttl: timedelta) -> list[str]:
        """Take up to *limit* due cases for *owner* until ``now + ttl``; others skip them."""
        ...

    def release(self, case_ids: Sequence[str], owner: str) -> None:
        """Give back *owner*'s leases on *case_ids* (inside a transaction: at its commit)."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """A transaction around several writes (re-entrant: inner ones join the outer)."""
        ...


class _Slot:
    """The cases due at one moment, handed out in id order.

    The order is sorted once, when first asked for, and then read from a
    cursor that skips the cases which have moved to another moment since; a
    case joining the slot sorts it again.
    """

    __slots__ = ("cursor", "ids", "order")

    def __init__(self) -> None:
        self.ids: dict[str, None] = {}
        self.order: list[str] | None = None
        self.cursor = 0

    def join(self, case_id: str) -> None:
        self.ids[case_id] = None
        self.order = None

    def leave(self, case_id: str) -> None:
        del self.ids[case_id]

    def first(self, limit: int | None) -> list[str]:
        """Up to *limit* of the slot's cases, lowest ids first."""
        order = self.order
        if order is None:
            order = self.order = sorted(self.ids)
            self.cursor = 0
        ids, cursor, end = self.ids, self.cursor, len(order)
        while cursor < end and order[cursor] not in ids:
            cursor += 1  # moved on since the order was made
        self.cursor = cursor
        found: list[str] = []
        while cursor < end and (limit is None or len(found) < limit):
            case_id = order[cursor]
            if case_id in ids:
                found.append(case_id)
            cursor += 1
        return found


class _Chain(list[JournalEntry]):
    """A stored case's chain: its entries, with the case and the entry recorded last.

    The recorded last entry is the chain's head (`Head`), kept apart from the
    list so entries cut off the end are found.  One object per case holds all
    three, so the engine's several reads of a case while it records an entry
    (the case, the chain's end, the head) find one dictionary item, and the
    garbage collector has one object fewer to walk per case than with a head
    kept as a tuple of its own (bench: load_and_fire).
    """

    __slots__ = ("case", "last")

    case: Case
    last: JournalEntry


class _Level:
    """One open transaction level of a `MemoryStore`: what to restore if it fails.

    ``lengths``: each case the level read or wrote, with its chain's length
    when the level first touched it (``-1``: the level added the case).
    ``reviews``: each case whose review the level changed, with the review it
    had before (`_UNSCHEDULED` when none).
    """

    __slots__ = ("lengths", "reviews")

    def __init__(self) -> None:
        self.lengths: dict[str, int] = {}
        self.reviews: dict[str, float] = {}


class _Transaction(AbstractContextManager[None]):
    """What `MemoryStore.transaction` returns: one per store (the levels live in the store)."""

    __slots__ = ("_store",)

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._levels.append(_Level())

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self._store._leave()
        else:
            self._store._abandon()


class MemoryStore:
    """Cases and journal chains in memory, with transactions that roll back.

    `get` returns the stored case itself (the engine's working copy).  Inside
    a transaction the store notes the length of each chain it hands out or
    appends to; a transaction that fails cuts those chains back and rebuilds
    each of their cases from its journal, so a case changed in place and not
    stored is as stored again.

    One `MemoryStore` is one connection: engines sharing it share its
    transactions, so an operation of one engine made while another engine's
    `atomic` block is open joins that block (and is rolled back with it).
    Give each engine that works at the same time a store of its own kind
    that several connections share (SQLite, PostgreSQL).
    """

    __slots__ = ("_chains", "_debtors", "_levels", "_queue", "_reviews", "_slots", "_transaction")

    def __init__(self) -> None:
        self._chains: dict[str, _Chain] = {}
        # Each debtor's cases (a debtor never changes: no entry changes `Case.debtor`).
        self._debtors: dict[str, dict[str, None]] = {}
        self._levels: list[_Level] = []  # the open transaction's levels, outermost first
        self._transaction = _Transaction(self)
        # The review index: each case's next review as a timestamp, the cases due
        # at each timestamp (a slot), and a heap of the timestamps.  Moving a case
        # takes it out of its old slot at once, so `due` never wades through
        # stale items: a tick that reviews 200,000 of a million cases reads each
        # due case once (bench: tick_memory).
        self._reviews: dict[str, float] = {}
        self._slots: dict[float, _Slot] = {}
        self._queue: list[float] = []

    def __len__(self) -> int:
        return len(self._chains)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._chains

    def add(self, case: Case, opened: JournalEntry) -> None:
        """Store a new case with the first entry of its chain.

        Raises:
            DuplicateCase: a case with that id is already stored.
        """
        case_id = case.id
        if case_id in self._chains:
            raise DuplicateCase(case_id)
        if opened.seq != 0 or opened.case_id != case_id:
            raise InvalidInput("opened", repr(opened), f"entry #0 of case {case_id!r}")
        chain = _Chain((opened,))
        chain.case, chain.last = case, opened
        self._chains[case_id] = chain
        self._debtors.setdefault(case.debtor.id, {})[case_id] = None
        if self._levels:
            self._levels[-1].lengths.setdefault(case_id, -1)

    def get(self, case_id: str) -> Case:
        """The stored case itself (the engine's working copy).

        Raises:
            UnknownCase: no such case.
        """
        try:
            chain = self._chains[case_id]
        except KeyError:
            raise UnknownCase(case_id) from None
        if self._levels:  # handed out inside a transaction: rebuilt if it fails
            lengths = self._levels[-1].lengths
            if case_id not in lengths:
                lengths[case_id] = len(chain)
        return chain.case

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        """Append *entry* to its case's chain, and keep *case* as the case after it.

        Raises:
            UnknownCase: no such case.
            InvalidInput: the entry skips a number of the chain.
            ConcurrencyConflict: the chain already holds an entry with that
                number, or *case* is not at the version after it (another
                writer was first).
        """
        case_id, seq = entry.case_id, entry.seq
        chain = self._chains.get(case_id)
        if chain is None:
            raise UnknownCase(case_id)
        if self._levels:  # first: the case may be changed already, even if this is refused
            lengths = self._levels[-1].lengths
            if case_id not in lengths:
                lengths[case_id] = len(chain)
        last = chain.last.seq
        if seq != last + 1:
            if seq > last + 1:
                raise InvalidInput("seq", seq, f"{last + 1}, the next in the chain")
            raise ConcurrencyConflict(case_id, seq - 1, last)
        if case is not None and case.version != seq + 1:
            raise ConcurrencyConflict(case_id, case.version - 1, seq)
        chain.append(entry)
        chain.last = entry
        if case is not None:
            chain.case = case

    def entries(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's chain, oldest first (read-only view)."""
        try:
            return tuple(self._chains[case_id])
        except KeyError:
            raise UnknownCase(case_id) from None

    def head(self, case_id: str) -> Head:
        """The recorded end of the case's chain."""
        try:
            last = self._chains[case_id].last
        except KeyError:
            raise UnknownCase(case_id) from None
        return _head(Head, (last.seq, last.hash))

    def last_entry(self, case_id: str) -> JournalEntry:
        """The newest entry of the case's chain."""
        try:
            return self._chains[case_id][-1]
        except KeyError:
            raise UnknownCase(case_id) from None

    def case_ids(self) -> Iterator[str]:
        """Every case id, in the order cases were added."""
        return iter(self._chains)

    def cases_of(self, debtor_id: str) -> list[str]:
        """The ids of the debtor's cases, in case id order."""
        return sorted(self._debtors.get(debtor_id, ()))

    def chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        """Every chain with its case id, in case id order (as every store gives them)."""
        chains = self._chains
        return ((case_id, chains[case_id]) for case_id in sorted(chains))

    # -- the review index ---------------------------------------------------------------
    def schedule(self, case_id: str, at: datetime | None) -> None:
        """Set when the case is reviewed next; ``None`` takes it off the schedule."""
        self._review(case_id, None if at is None else instant(at))

    def _review(self, case_id: str, stamp: float | None) -> None:
        """`schedule` with the moment as a timestamp (``None``: off the schedule)."""
        reviews = self._reviews
        old = reviews.get(case_id)
        if old == stamp:
            return
        if self._levels:
            self._levels[-1].reviews.setdefault(case_id, _UNSCHEDULED if old is None else old)
        if old is not None:
            left = self._slots[old]
            left.leave(case_id)
            if not left.ids:
                del self._slots[old]  # its moment stays in the heap until popped
        if stamp is None:
            del reviews[case_id]
            return
        reviews[case_id] = stamp
        slot = self._slots.get(stamp)
        if slot is None:
            slot = self._slots[stamp] = _Slot()
            heapq.heappush(self._queue, stamp)
        slot.join(case_id)

    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """The cases due for review at *now*, earliest first, ties in id order (at most *limit*).

        They stay due until scheduled again: the tick reschedules every case
        it reviews (and one whose review failed, for a retry).
        """
        stamp = now.timestamp()
        queue, slots = self._queue, self._slots
        found: list[str] = []
        visited: set[float] = set()
        while queue and queue[0] <= stamp and (limit is None or len(found) < limit):
            when = heapq.heappop(queue)
            slot = slots.get(when)
            if slot is None or when in visited:
                continue  # every case moved on, or the moment was pushed twice
            visited.add(when)
            found.extend(slot.first(None if limit is None else limit - len(found)))
        for when in visited:  # still due until the tick moves them
            heapq.heappush(queue, when)
        return found

    def next_review(self, case_id: str) -> datetime | None:
        """When the case is reviewed next (UTC), or ``None`` when it is not scheduled."""
        stamp = self._reviews.get(case_id)
        return None if stamp is None else datetime.fromtimestamp(stamp, UTC)

    def scheduled(self, case_ids: Iterable[str]) -> dict[str, datetime]:
        """When each of *case_ids* on the review schedule is reviewed next (UTC), in the
        order given; a case off the schedule is left out."""
        reviews = self._reviews
        return {
            case_id: datetime.fromtimestamp(reviews[case_id], UTC)
            for case_id in case_ids
            if case_id in reviews
        }

    def due_at(self, case_id: str) -> datetime | None:
        """When the case is due: its next review (the schedule is in memory, never stale)."""
        return self.next_review(case_id)

    def lease(self, now: datetime, limit: int, owner: str, ttl: timedelta) -> list[str]:
        """The due cases (one process shares nothing: leasing is `due`)."""
        return self.due(now, limit)

    def release(self, case_ids: Sequence[str], owner: str) -> None:
        """Nothing to give back in memory."""

    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work; nested ones are savepoints.

        Writes are made at once (reads see them), and taken back if the
        transaction ends with an exception: chains are cut back to where they
        stood, cases added inside are removed, reviews are set back, and each
        case read or written inside is rebuilt from its journal.
        """
        return self._transaction

    def _leave(self) -> None:
        """A level ended normally: its parent takes over what it would restore."""
        level = self._levels.pop()
        if self._levels:
            parent = self._levels[-1]
            if level.lengths:  # the parent's own notes are older: they stay
                keep = parent.lengths.setdefault
                for case_id, length in level.lengths.items():
                    keep(case_id, length)
            if level.reviews:
                keep_review = parent.reviews.setdefault
                for case_id, stamp in level.reviews.items():
                    keep_review(case_id, stamp)

    def _abandon(self) -> None:
        """A level ended with an exception: put back everything it changed."""
        level = self._levels.pop()
        levels, self._levels = self._levels, []  # restoring is not itself recorded
        try:
            chains = self._chains
            for case_id, stamp in level.reviews.items():
                self._review(case_id, None if stamp == _UNSCHEDULED else stamp)
            for case_id, length in level.lengths.items():
                chain = chains.get(case_id)
                if chain is None:
                    continue
                if length < 0:  # added inside the level
                    debtor = chain.case.debtor.id
                    del chains[case_id]
                    cases = self._debtors[debtor]
                    del cases[case_id]
                    if not cases:
                        del self._debtors[debtor]
                    continue
                del chain[length:]
                chain.last = chain[-1]
                # The object may have been changed in place before anything was journaled:
                # the journal is what the case is.
                chain.case = replay(chain)
        finally:
            self._levels = levels
