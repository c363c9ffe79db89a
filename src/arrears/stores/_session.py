"""The store session both SQL stores share: identity map, unit of work, nested levels, conflicts.

`Session` holds, once, everything a SQL store does between the engine and
its SQL; `SQLiteStore` and `PostgresStore` subclass it and keep only their
statements, their transaction commands and their leasing.

Identity map
    One `Copy` per case read: the case object `get` returns, its chain's
    head, the version its stored row holds (the optimistic check's
    expectation), the chain once read.  Each copy carries the *epoch* it was
    last known to match the database in; the backend says when another
    writer may have committed since (`Session._changed_elsewhere`), and a
    copy from an older epoch is checked against its row (version, head, the
    journal's last number) before it is used: unchanged, it keeps its object;
    changed, it is read again.  The copies of the last batch `due` or `lease`
    returned are read ahead together on the first miss, checked together,
    and kept whatever ``cache_size`` says; beyond them the map keeps at most
    ``cache_size`` copies between transactions, the oldest forgotten first.

Unit of work
    A transaction's journal entries, new cases and schedule changes wait in
    buffers, and each case it appended to is marked dirty; the outermost
    transaction's commit writes them, new cases first, then the entries, the
    schedule, and each dirty case's row once with its version checked.  A
    read that needs the buffers in the database (every case, the schedule)
    writes them into the open database transaction first; a transaction
    holding more than `Session.SPILL` rows writes them between two of its
    nested transactions.

Nested levels
    A nested transaction is a mark in the buffers.  It gets a savepoint only
    when the buffers must be written while it is open, made when they stood
    at its mark.  A level that fails cuts the buffers back to its mark (and
    rolls back to its savepoint, if it has one) and drops the copies it
    touched; a copy that an enclosing level had changed is rebuilt from its
    row and the entries still buffered (`apply_entry`), since the database
    does not hold them yet.

Debtor locks
    `lock_debtors` holds debtors against every other writer that locks them
    until the transaction ends: every entry recorded takes its debtor's
    (`arrears.recorder.Recorder.record`), and the writes that must see every
    case of a debtor, the ones another process may be adding at the same
    moment included (opening a case, which inherits the debtor's holds; a
    hold that reaches the debtor; a task that covers the debtor's loans), take
    it before they read which cases the debtor has.  Locks are taken in one
    total order, the lock on every debtor (`lock_every_debtor`) before any
    debtor's and the debtors' in the backend's key order, and a transaction
    waits only for a lock after all it holds (`PostgresStore._lock`): no two
    wait on each other in a circle.  The debtor's cases are read
    again after the lock, and their copies checked against their rows before
    they are used, whatever this transaction checked before it: a case read
    before its debtor's lock (to learn the debtor) is used, after it, as
    stored after any write another process committed in between.  A backend
    whose transactions already exclude each other (SQLite's ``BEGIN
    IMMEDIATE``) takes nothing.

Conflicts
    `append` refuses at once an entry whose number the copy already shows
    taken (the copy was checked against the database in this transaction):
    `ConcurrencyConflict`, and the copy is dropped.  A lost race the store
    cannot see before writing (a row changed after it was checked, a journal
    key taken) surfaces when the outermost transaction commits, as
    `ConcurrencyConflict` naming a case; the whole transaction is rolled
    back and every copy it touched dropped.  A database error a retry may
    resolve (a backend's `_conflict` says which: PostgreSQL's deadlock and
    serialization failure) leaves the level it ended as `ConcurrencyConflict`
    too, naming no case, with the database's error as its cause.  An error while writing the
    buffers early dooms the transaction: it can only roll back.

Leases
    While the batch `lease` last took is held, every outermost transaction
    that writes checks at its commit, in the database, that the owner still
    holds the lease on each of its cases, and renews it (`Session._fence`):
    when another worker took one after the lease ran out, nothing is
    committed (`LeaseLost`).  `release` inside a transaction gives the
    leases back in that same check, at its commit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from time import monotonic
from types import TracebackType
from typing import ClassVar, Final

from ..case import Case
from ..errors import (
    CaseUnreadable,
    ConcurrencyConflict,
    DuplicateCase,
    InvalidInput,
    UnknownCase,
)
from ..events import apply_entry
from ..journal import Head, JournalEntry
from ._sql import case_body, case_from_body

__all__ = [
    "AHEAD_MAX",
    "CACHE_SIZE",
    "CaseRow",
    "Copy",
    "Session",
    "Stamp",
    "StoredCase",
    "UpdateRow",
]

#: A case row as added: id, version, head_seq, head_hash, body, debtor id.
CaseRow = tuple[str, int, int, str, str, str]
#: A case row as read: version, head_seq, head_hash, body, and the journal's last seq (-1: none).
StoredCase = tuple[int, int, str, str | bytes, int]
#: What a copy is checked against: version, head_seq, head_hash, the journal's last seq.
Stamp = tuple[int, int, str, int]
#: A dirty case's row as written: version, head_seq, head_hash, body, id, the version it replaces.
UpdateRow = tuple[int, int, str, str, str, int]

#: The most cases a batch from `due` or `lease` reads ahead.
AHEAD_MAX: Final = 5_000
#: How many copies a store keeps between transactions by default (besides the last batch).
CACHE_SIZE: Final = 2_000
#: The most debtors `Session.read_debtors` asks the database about in one query.
_DEBTORS_READ: Final = 1_000


class Copy:
    """One case in the identity map: the object, its chain's head, what the database holds."""

    __slots__ = ("case", "entries", "epoch", "head", "last", "stored", "tail")

    def __init__(
        self,
        case: Case,
        head: Head,
        stored: int,
        epoch: int,
        entries: list[JournalEntry] | None,
        tail: int,
    ) -> None:
        self.case = case
        self.head = head
        self.stored = stored  # the version in the database's row (the optimistic check)
        self.epoch = epoch  # the session's epoch when last known to match the database
        self.entries = entries  # the chain, once read (kept up to date on append)
        self.last: JournalEntry | None = entries[-1] if entries else None
        # The highest sequence number the journal holds for the case (-1: none), the
        # transaction's entries included: past the head only for rows added by hand.
        self.tail = tail


class _Lease:
    """The batch `lease` last took: its owner, its cases, and how to renew it."""

    __slots__ = ("cases", "now", "owner", "since", "ttl")

    def __init__(self, owner: str, now: datetime, ttl: timedelta, cases: Iterable[str]) -> None:
        self.owner = owner
        self.cases = dict.fromkeys(cases)
        self.now = now  # the tick's moment: leases run in the tick's time
        self.ttl = ttl
        self.since = monotonic()  # when it was taken: a renewal adds the time spent since

    def until(self) -> datetime:
        """When the lease ends if renewed now: the time spent since it was taken on top."""
        return self.now + self.ttl + timedelta(seconds=monotonic() - self.since)


class _Level:
    """One open transaction level: how long the buffers were when it began, what it touched."""

    __slots__ = ("journal", "new", "ops", "savepoint", "touched")

    def __init__(self, journal: int, new: int, ops: int) -> None:
        self.journal = journal
        self.new = new
        self.ops = ops
        self.savepoint = False  # made only when a read needs the buffers written early
        self.touched: set[str] = set()


class _Transaction(AbstractContextManager[None]):
    """What `Session.transaction` returns: one per store (the levels live in the session)."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def __enter__(self) -> None:
        self._session._enter()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self._session._leave()
            return
        self._session._abandon()
        conflict = None if error is None else self._session._conflict(error)
        if conflict is not None:
            raise conflict from error


class Session(ABC):
    """The identity map, unit of work and nested levels of a SQL store (see the module).

    A subclass supplies the SQL: the transaction commands (`_begin`,
    `_commit`, `_rollback`, `_savepoint`, `_release`, `_rollback_to`), the
    reads (`_read_case`, `_read_stamps`, `_read_batch`, `_read_chain`,
    `_read_last`, `_read_head`, `_read_review`, `_read_scheduled`, `_read_filed`, `_exists`,
    `_read_cases_of`), the writes (`_insert_cases`, `_insert_entries`,
    `_write_schedule`, `_update_cases`) and `_changed_elsewhere`.  It calls
    `_sync` before a query that reads every case or the schedule, and
    `_batch_is` with what `due` or `lease` returned.
    """

    #: Rows a transaction keeps in memory before it writes them into the database's
    #: transaction (checked when a nested transaction begins directly inside the
    #: outermost one), so a bulk load does not wait for its commit to write anything.
    SPILL: ClassVar[int] = 5_000
    #: Whether `add` asks the database for the id (else a duplicate is found when written).
    CHECK_ADDS: ClassVar[bool] = True

    def __init__(self, cache_size: int) -> None:
        if cache_size < 1:
            raise InvalidInput("cache_size", cache_size, "a positive number of cases")
        self.cache_size = cache_size
        self._slots: dict[str, Copy] = {}
        self._levels: list[_Level] = []  # the open transaction's levels, outermost first
        self._transaction = _Transaction(self)
        # The open transaction's unit of work: the entries appended (each with whether a
        # case came with it), the cases added (their rows; None once written), the
        # schedule's changes in order.  Each has a count of how much of it is written.
        self._journal: list[tuple[JournalEntry, bool]] = []
        self._new: dict[str, CaseRow | None] = {}
        self._new_order: list[str] = []
        # The cases added, by debtor (and each one's debtor): `cases_of` finds the ones
        # not yet written without reading every added case.
        self._new_of: dict[str, list[str]] = {}
        self._new_debtor: dict[str, str] = {}
        # The debtors' cases as the database held them when `read_debtors` asked, for
        # `cases_of` to answer from until the transaction ends (a bulk open: one query).
        self._known_of: dict[str, list[str]] = {}
        # When the newest entry of each locked debtor's cases was journaled, read with
        # their cases (`read_debtors`) while this transaction had journaled nothing:
        # `latest_entries` answers from here until it journals something.
        self._moments_of: dict[str, datetime | None] = {}
        # The debtors `lock_debtors` locked in this transaction, and those whose cases
        # are to be read again (their copies checked) the next time they are read.
        self._locked: set[str] = set()
        self._locked_all = False
        self._relock: set[str] = set()
        # The cases this transaction read from the database before it locked their
        # debtor, by debtor: checked against their rows again once it does.
        self._before_lock: dict[str, dict[str, None]] = {}
        # Whether a debtor was locked in this transaction (kept when a savepoint that
        # took it rolls back: the lock may be held still, `lock_every_debtor`).
        self._held_debtor = False
        self._ops: list[tuple[str, datetime | None]] = []
        self._journal_done = self._new_done = self._ops_done = 0
        self._scheduled: dict[str, datetime | None] = {}  # the changes not yet written
        self._dirty: dict[str, None] = {}  # cases appended to: their rows written at commit
        self._doomed: Exception | None = None  # set when the transaction cannot commit
        # Whether the outermost transaction is committing: its buffers are its last writes
        # (a backend may send them with its commit rather than ahead of it).
        self._committing = False
        # The cases `due` or `lease` just returned (the tick reads each of them next):
        # read ahead on the first miss, kept with the epoch they were read in.
        self._batch: dict[str, None] = {}
        self._batch_read = False
        self._ahead: dict[str, tuple[int, StoredCase, list[JournalEntry]]] = {}
        self._epoch = 0
        # When each case `due` or `lease` just returned was due (UTC): `due_at`
        # answers from here until the case is scheduled again, without a query.
        self._due_at: dict[str, datetime] = {}
        # The batch `lease` last took, fenced at each commit while held; whether the open
        # transaction gives it back at its commit (`release` inside a transaction).
        self._lease: _Lease | None = None
        self._releasing = False

    # -- what a backend supplies ---------------------------------------------------------------
    @abstractmethod
    def _begin(self) -> None:
        """Start the outermost transaction."""

    @abstractmethod
    def _commit(self) -> None:
        """Commit the outermost transaction (the buffers are written)."""

    @abstractmethod
    def _rollback(self) -> None:
        """Roll the outermost transaction back (also after a failed statement)."""

    @abstractmethod
    def _savepoint(self, depth: int) -> None:
        """Make the savepoint of the nested level at *depth* (1: directly inside the outermost)."""

    @abstractmethod
    def _release(self, depth: int) -> None:
        """Release the savepoint of the level at *depth*."""

    @abstractmethod
    def _rollback_to(self, depth: int) -> None:
        """Roll back to the savepoint of the level at *depth*, and release it."""

    @abstractmethod
    def _changed_elsewhere(self) -> bool:
        """Whether another writer may have committed since the last call."""

    def _conflict(self, error: BaseException) -> ConcurrencyConflict | None:
        """The `ConcurrencyConflict` a database error that ended the transaction means
        (the database broke a deadlock or refused to serialize it: running the
        transaction again may succeed), or ``None`` for any other error."""
        return None

    @abstractmethod
    def _read_case(self, case_id: str) -> StoredCase | None:
        """The case's row and the journal's last number for it, or ``None``."""

    @abstractmethod
    def _read_stamps(self, case_ids: list[str]) -> dict[str, Stamp]:
        """The stamps of the cases of *case_ids* that exist."""

    @abstractmethod
    def _read_batch(self, case_ids: list[str]) -> dict[str, tuple[StoredCase, list[JournalEntry]]]:
        """The rows and chains of the cases of *case_ids* that exist."""

    @abstractmethod
    def _read_chain(self, case_id: str) -> list[JournalEntry]:
        """The case's journal rows, oldest first."""

    @abstractmethod
    def _read_last(self, case_id: str) -> JournalEntry | None:
        """The case's newest journal row."""

    @abstractmethod
    def _read_head(self, case_id: str) -> Head | None:
        """The head recorded in the case's row."""

    @abstractmethod
    def _read_heads_and_bodies(self, case_ids: list[str]) -> dict[str, tuple[Head, str | bytes]]:
        """The head and the body recorded in the rows of *case_ids* that exist, in one query."""

    @abstractmethod
    def _read_review(self, case_id: str) -> datetime | None:
        """The case's review as stored (UTC)."""

    @abstractmethod
    def _read_scheduled(self) -> dict[str, datetime]:
        """Every case the review index holds, with its next review (UTC; one query)."""

    @abstractmethod
    def _read_filed(self) -> dict[str, str | None]:
        """Every case's ``debtor_id`` column, by case id (one query)."""

    @abstractmethod
    def _exists(self, case_id: str) -> bool:
        """Whether the database has a row for the case."""

    @abstractmethod
    def _read_cases_of(self, debtor_id: str) -> list[str]:
        """The ids of the rows whose case's debtor is *debtor_id*, in case id order."""

    def _lock(self, debtor_ids: list[str] | None, first: bool) -> bool:
        """Lock *debtor_ids* (sorted) until the transaction ends, against the other
        writers that lock them; ``None``: every debtor at once.  *first*: the
        transaction's first lock.  ``False`` when the backend's transactions exclude
        each other already and nothing needs locking (the default)."""
        return False

    def _read_cases_of_many(self, debtor_ids: list[str]) -> dict[str, list[str]]:
        """The ids of each debtor's rows, in case id order (one query where the backend can)."""
        return {debtor_id: self._read_cases_of(debtor_id) for debtor_id in debtor_ids}

    def _read_debtor_rows(
        self, debtor_ids: list[str]
    ) -> list[tuple[str, str, Stamp, datetime | None]] | None:
        """Each case of *debtor_ids*: its debtor, its id (in case id order), its stamp and
        when its newest entry was journaled, in one query; ``None`` where the backend
        reads them apart (the default)."""
        return None

    @abstractmethod
    def _read_last_moments(self, debtor_ids: list[str]) -> list[tuple[str, datetime | str]]:
        """When the newest entry of each row of *debtor_ids*' cases was journaled, with
        its debtor (an aware datetime, or ISO 8601 text), in one query."""

    @abstractmethod
    def _insert_cases(self, rows: list[CaseRow]) -> None:
        """Insert new case rows; raise the error that dooms the transaction when refused."""

    @abstractmethod
    def _insert_entries(self, entries: list[JournalEntry]) -> None:
        """Insert journal rows; raise `ConcurrencyConflict` naming a case when refused."""

    @abstractmethod
    def _write_schedule(self, latest: dict[str, datetime | None]) -> None:
        """Set each case's review (``None``: delete its row)."""

    @abstractmethod
    def _update_cases(self, rows: list[UpdateRow]) -> None:
        """Write dirty rows where the version is still the one read; else `ConcurrencyConflict`."""

    @abstractmethod
    def _fence(
        self, owner: str, case_ids: list[str], until: datetime | None, *, strict: bool
    ) -> None:
        """Set *owner*'s leases on *case_ids* to end at *until* (``None``: give them back).

        Only rows *owner* still leases are changed.  With *strict*, raise
        `LeaseLost` (at the latest when the transaction commits, before
        anything is committed) when one of them is no longer *owner*'s.
        """

    # -- the identity map ---------------------------------------------------------------------
    def _refresh(self) -> None:
        """Start a new epoch when another writer may have committed since the last look."""
        if self._changed_elsewhere():
            self._epoch += 1

    def _slot(self, case_id: str) -> Copy:
        """The case's copy, loaded or checked against the database as needed; marks it touched."""
        levels = self._levels
        if not levels:
            self._refresh()
        slot = self._slots.get(case_id)
        if slot is not None and slot.epoch != self._epoch:
            # Another writer may have committed since: keep the copy if its row is unchanged.
            if case_id in self._batch:
                self._recheck(self._batch)
            else:
                self._recheck((case_id,))
            slot = self._slots.get(case_id)
        if slot is None:
            if case_id in self._dirty or case_id in self._new:
                slot = self._rebuild(case_id)
            else:
                slot = self._load(case_id)
        if levels:
            levels[-1].touched.add(case_id)
            self._read_unlocked(case_id, slot)
        return slot

    def _read_unlocked(self, case_id: str, slot: Copy) -> None:
        """Note a copy this transaction uses as the database held it, while its debtor is
        not locked yet: `lock_debtors` checks it again (a rival may commit in between)."""
        if self._locked_all or case_id in self._dirty or case_id in self._new:
            return
        debtor_id = slot.case.debtor.id
        if debtor_id not in self._locked:
            self._before_lock.setdefault(debtor_id, {})[case_id] = None

    def _recheck(self, case_ids: Iterable[str], stamps: dict[str, Stamp] | None = None) -> None:
        """Check the copies of *case_ids* from an earlier epoch against their rows, at once
        (against *stamps* when given: every one of *case_ids* that exists, read just now)."""
        slots, epoch = self._slots, self._epoch
        stale = [
            case_id
            for case_id in case_ids
            if (slot := slots.get(case_id)) is not None and slot.epoch != epoch
        ]
        if not stale:
            return
        found = self._read_stamps(stale) if stamps is None else stamps
        for case_id in stale:
            slot = slots.get(case_id)
            if slot is None:
                continue
            if found.get(case_id) == (slot.stored, slot.head.seq, slot.head.hash, slot.tail):
                slot.epoch = epoch
                if self._levels:  # used from now on without a check, as of this read
                    self._read_unlocked(case_id, slot)
            else:  # changed (or removed) by another writer: read it again
                del slots[case_id]

    def _load(self, case_id: str) -> Copy:
        """Read the case (or take what was read ahead) into the identity map."""
        ahead = self._ahead.pop(case_id, None)
        if ahead is None and case_id in self._batch and not self._batch_read:
            self._batch_read = True
            ids = [case_id for case_id in self._batch if case_id not in self._slots]
            self._ahead = {
                found: (self._epoch, row, chain)
                for found, (row, chain) in self._read_batch(ids).items()
            }
            ahead = self._ahead.pop(case_id, None)
        chain: list[JournalEntry] | None = None
        row: StoredCase | None
        if ahead is not None and ahead[0] == self._epoch:
            row, chain = ahead[1], ahead[2]
        else:
            row = self._read_case(case_id)
            if row is None:
                raise UnknownCase(case_id)
        version, head_seq, head_hash, body, tail = row
        if not self._levels:
            self._trim()
        slot = Copy(
            case_from_body(body, case_id),
            Head(head_seq, head_hash),
            version,
            self._epoch,
            chain,
            tail,
        )
        self._slots[case_id] = slot
        return slot

    def _batch_is(self, case_ids: list[str], due_at: Sequence[datetime] = ()) -> None:
        """Remember the cases `due` or `lease` returned: read ahead and kept together.

        *due_at* are the moments they were due (UTC), in the same order, for `due_at`.
        """
        self._due_at = dict(zip(case_ids, due_at, strict=False))
        if len(case_ids) <= AHEAD_MAX:
            self._batch, self._batch_read = dict.fromkeys(case_ids), False

    def _trim(self) -> None:
        """Forget the oldest copies beyond `cache_size` (never inside a transaction).

        The cases of the last batch `due` or `lease` returned stay: the tick
        reads them again to finish their reviews, whatever its batch size.
        """
        excess = len(self._slots) - self.cache_size
        if excess <= 0:
            return
        batch = self._batch
        oldest = list(self._slots)[: excess + self.cache_size // 10]
        for case_id in oldest:
            if case_id not in batch:
                del self._slots[case_id]

    def _drop(self, case_id: str) -> None:
        """Forget the copy of *case_id* (its object may hold changes not stored).

        When the open transaction still holds entries of the case, the copy is
        rebuilt from them the next time it is read (`_rebuild`).
        """
        self._slots.pop(case_id, None)
        self._ahead.pop(case_id, None)
        if case_id in self._dirty and not any(
            entry.case_id == case_id for entry, _ in self._journal
        ):
            del self._dirty[case_id]

    def _rebuild(self, case_id: str) -> Copy:
        """The copy of a case the open transaction changed, rebuilt from its entries.

        The case's row as stored (rows are written at the commit) or as it was
        added, with the transaction's entries applied after it, as the engine
        applied them.  When that cannot be done, the transaction cannot commit.
        """
        entries = [pair for pair in self._journal if pair[0].case_id == case_id]
        try:
            added = self._new.get(case_id)
            row: StoredCase | None
            if added is not None:
                row = (added[1], added[2], added[3], added[4], added[2])
            else:
                row = self._read_case(case_id)
                if row is None:
                    raise UnknownCase(case_id)
            version, head_seq, head_hash, body, tail = row
            case = case_from_body(body, case_id)
            head, last = Head(head_seq, head_hash), None
            for entry, with_case in entries:
                if entry.seq <= head.seq:
                    continue
                if with_case:
                    apply_entry(case, entry.kind, entry.at, entry.data)
                    if case.version != entry.seq + 1:
                        raise ValueError("the entries do not rebuild the case")
                head, last = Head(entry.seq, entry.hash), entry
        except Exception:
            doomed = self._doomed = ConcurrencyConflict(case_id, -1)
            raise doomed from None
        slot = Copy(case, head, version, self._epoch, None, max(tail, head.seq))
        slot.last = last
        self._slots[case_id] = slot
        return slot

    # -- transactions -------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work; nested ones are marks in its buffers (see the module)."""
        return self._transaction

    def _enter(self) -> None:
        levels = self._levels
        if not levels:
            self._begin()
            self._refresh()
            levels.append(_Level(0, 0, 0))
            return
        if len(levels) == 1 and (
            len(self._journal) - self._journal_done + len(self._ops) - self._ops_done >= self.SPILL
        ):
            self._write_through(len(self._journal), len(self._new_order), len(self._ops))
        levels.append(_Level(len(self._journal), len(self._new_order), len(self._ops)))

    def _leave(self) -> None:
        levels = self._levels
        if len(levels) > 1:
            level = levels.pop()
            if level.savepoint:
                self._release(len(levels))
            levels[-1].touched |= level.touched
            return
        try:
            if self._doomed is not None:
                raise self._doomed
            self._committing = True
            self._write_through(len(self._journal), len(self._new_order), len(self._ops))
            self._check_lease()
            self._write_cases()
            self._commit()
        except BaseException as error:
            self._abandon()
            conflict = self._conflict(error)
            if conflict is not None:
                raise conflict from error
            raise
        slots = self._slots
        for case_id in self._dirty:
            slot = slots[case_id]
            slot.stored = slot.case.version
        self._after_commit()
        levels.clear()
        self._clear()
        self._trim()

    def _check_lease(self) -> None:
        """At a commit that writes, while a lease is held: check in the database that its
        owner still holds every case of it, and renew it (give it back when `release`
        asked); the rows stay locked to the commit.  A case this transaction takes off
        the schedule has no row to check."""
        lease = self._lease
        if lease is None or not (
            self._releasing or self._journal or self._new_order or self._ops or self._dirty
        ):
            return
        gone = {case_id for case_id, at in self._ops if at is None}
        wanted = [case_id for case_id in lease.cases if case_id not in gone]
        if not wanted:
            return
        self._fence(lease.owner, wanted, None if self._releasing else lease.until(), strict=True)

    def _after_commit(self) -> None:
        """Keep the held lease to what is left of it once a transaction committed."""
        lease = self._lease
        if lease is None:
            return
        if self._releasing:
            self._lease = None
            return
        for case_id, at in self._ops:
            if at is None:  # its review row is gone, and its lease with it
                lease.cases.pop(case_id, None)

    def _abandon(self) -> None:
        levels = self._levels
        level = levels.pop()
        if not levels:  # the whole transaction
            try:
                self._rollback()
            finally:
                for case_id in (*level.touched, *self._dirty, *self._new_order):
                    self._slots.pop(case_id, None)
                self._clear()
            return
        depth = len(levels)
        if level.savepoint:
            self._rollback_to(depth)
            self._locked.clear()  # a lock taken after the savepoint went with it
            self._moments_of.clear()
            self._locked_all = False
            self._journal_done = min(self._journal_done, level.journal)
            self._new_done = min(self._new_done, level.new)
            self._ops_done = min(self._ops_done, level.ops)
        for case_id in self._new_order[level.new :]:
            del self._new[case_id]
            debtor_id = self._new_debtor.pop(case_id)
            self._new_of[debtor_id].remove(case_id)
        del self._new_order[level.new :]
        del self._journal[level.journal :]
        del self._ops[level.ops :]
        self._scheduled = dict(self._ops[self._ops_done :])
        for case_id in level.touched:
            self._drop(case_id)
        levels[-1].touched |= level.touched

    def _clear(self) -> None:
        """Forget the unit of work (after a commit or a rollback)."""
        self._journal.clear()
        self._new.clear()
        self._new_order.clear()
        self._new_of.clear()
        self._new_debtor.clear()
        self._known_of.clear()
        self._moments_of.clear()
        self._locked.clear()
        self._locked_all = False
        self._held_debtor = False
        self._relock.clear()
        self._before_lock.clear()
        self._ops.clear()
        self._journal_done = self._new_done = self._ops_done = 0
        self._scheduled.clear()
        self._dirty.clear()
        self._doomed = None
        self._committing = False
        self._releasing = False

    def _sync(self) -> None:
        """Write the unit of work into the database's transaction, for a read that needs it.

        Each nested level still open gets its savepoint first, made when the
        buffers stood at its mark, so rolling it back still takes back its
        own writes and no more.
        """
        levels = self._levels
        if not levels:
            return
        for depth in range(1, len(levels)):
            level = levels[depth]
            if not level.savepoint:
                self._write_through(level.journal, level.new, level.ops)
                self._savepoint(depth)
                level.savepoint = True
        self._write_through(len(self._journal), len(self._new_order), len(self._ops))

    def _write_through(self, journal: int, new: int, ops: int) -> None:
        """Write the buffered rows up to the given lengths: new cases, entries, the schedule."""
        try:
            if self._new_done < new:
                ids = self._new_order[self._new_done : new]
                self._insert_cases([row for row in map(self._new.get, ids) if row is not None])
                for case_id in ids:
                    self._new[case_id] = None
                self._new_done = new
            if self._journal_done < journal:
                written = self._journal[self._journal_done : journal]
                self._insert_entries([entry for entry, _ in written])
                self._journal_done = journal
        except Exception as err:
            self._doomed = err
            raise
        if self._ops_done < ops:
            self._write_schedule(dict(self._ops[self._ops_done : ops]))
            self._ops_done = ops
            self._scheduled = dict(self._ops[ops:])

    def _write_cases(self) -> None:
        """Write the row of each case the transaction appended to, checking its version."""
        if not self._dirty:
            return
        rows = []
        for case_id in self._dirty:
            slot = self._slots.get(case_id)
            if slot is None:
                slot = self._rebuild(case_id)
            case, head = slot.case, slot.head
            rows.append((case.version, head.seq, head.hash, case_body(case), case_id, slot.stored))
        self._update_cases(rows)

    # -- cases --------------------------------------------------------------------------------
    def __contains__(self, case_id: object) -> bool:
        if not isinstance(case_id, str):
            return False
        if case_id in self._slots or case_id in self._new:
            return True
        return self._exists(case_id)

    def add(self, case: Case, opened: JournalEntry) -> None:
        """Store a new case with the first entry of its chain.

        Raises:
            DuplicateCase: a case with that id is already stored (for a store
                that does not ask the database at once, when the rows are
                written).
            InvalidInput: *opened* is not entry #0 of the case.
        """
        if opened.seq != 0 or opened.case_id != case.id:
            raise InvalidInput("opened", repr(opened), f"entry #0 of case {case.id!r}")
        if not self._levels:
            with self._transaction:
                self.add(case, opened)
            return
        case_id = case.id
        if (
            case_id in self._new
            or case_id in self._slots
            or (self.CHECK_ADDS and self._exists(case_id))
        ):
            raise DuplicateCase(case_id)
        debtor_id = self._new_debtor[case_id] = case.debtor.id
        self._new[case_id] = (case_id, case.version, 0, opened.hash, case_body(case), debtor_id)
        self._new_order.append(case_id)
        self._new_of.setdefault(debtor_id, []).append(case_id)
        self._journal.append((opened, True))
        self._slots[case_id] = Copy(
            case, Head(0, opened.hash), case.version, self._epoch, [opened], 0
        )
        self._levels[-1].touched.add(case_id)

    def cases_of(self, debtor_id: str) -> list[str]:
        """The ids of the debtor's cases, in case id order (code point order).

        The rows in the database, and the cases the open transaction added and
        has not written yet.
        """
        if not self._levels:
            self._refresh()
        known = self._known_of.get(debtor_id)
        if known is not None:  # read before this transaction added any: all of them count
            added = self._new_of.get(debtor_id, ())
            return sorted({*known, *added}) if added else list(known)
        found = self._read_cases_of(debtor_id)
        if debtor_id in self._relock:
            self._relock.discard(debtor_id)
            self._expire(found)
        new = self._new
        # The cases added and not written yet: the query cannot see them.
        added = [case_id for case_id in self._new_of.get(debtor_id, ()) if new[case_id] is not None]
        return sorted({*found, *added}) if added else found

    def read_debtors(self, debtor_ids: Iterable[str]) -> None:
        """Read the cases of many debtors at once, for `cases_of` until the transaction ends.

        A bulk open (an import) asks it once for the debtors of its rows, so
        opening each case does not query the database for its debtor's other
        cases.  Outside a transaction, or for a debtor the transaction has
        added a case for already, it reads nothing.
        """
        if not self._levels:
            return
        known, new_of = self._known_of, self._new_of
        wanted = sorted({d for d in debtor_ids if d not in known and not new_of.get(d)})
        for start in range(0, len(wanted), _DEBTORS_READ):
            chunk = wanted[start : start + _DEBTORS_READ]
            rows = self._read_debtor_rows(chunk)
            if rows is None:
                found = self._read_cases_of_many(chunk)
                stamps: dict[str, Stamp] | None = None
            else:  # with each case's stamp and last moment: no query of their own
                found, stamps = {}, {}
                for debtor_id, case_id, stamp, _ in rows:
                    found.setdefault(debtor_id, []).append(case_id)
                    stamps[case_id] = stamp
                self._keep_moments(rows)
            relocked: list[str] = []
            for debtor_id in chunk:
                known[debtor_id] = found.get(debtor_id, [])
                if debtor_id in self._relock:
                    self._relock.discard(debtor_id)
                    relocked += known[debtor_id]
            self._expire(relocked, stamps)

    def _keep_moments(self, rows: list[tuple[str, str, Stamp, datetime | None]]) -> None:
        """Keep the last moments `read_debtors` read of the debtors this transaction holds
        (no other writer journals on their cases until it ends), while it has journaled
        nothing: `latest_entries` is then answered without a query."""
        if self._journal:
            return
        moments = self._moments_of
        for debtor_id, _, _, at in rows:
            if not (self._locked_all or debtor_id in self._locked):
                continue
            held = moments.get(debtor_id)
            if at is not None and (held is None or at > held):
                moments[debtor_id] = at
            elif debtor_id not in moments:
                moments[debtor_id] = None

    def debtors_held(self, case_ids: Iterable[str]) -> set[str]:
        """The debtors of the copies the identity map holds of *case_ids*, as last read,
        without a query (a case with no copy is left out).

        Not checked against the database: a case's debtor does not change, but a
        row changed by hand since may name another.  A tick locks these debtors
        and reads them (`lock_debtors`, `read_debtors`: the copies of their cases
        are checked then), then takes each case's debtor from the checked copy.
        """
        slots = self._slots
        return {slot.case.debtor.id for case_id in case_ids if (slot := slots.get(case_id))}

    def latest_entries(self, debtor_ids: Iterable[str]) -> dict[str, datetime]:
        """When the newest entry on any case of each of *debtor_ids* was journaled (a
        debtor with no case is left out), as the database holds it now, this
        transaction's writes included; one query for up to a thousand debtors.

        A tick asks it of a batch's debtors once they are locked (`arrears.tick`): a
        batch is never reviewed at a moment before what is on file about them.
        """
        wanted = sorted(set(debtor_ids))
        latest: dict[str, datetime] = {}
        if self._levels and not self._journal and self._moments_of:
            moments = self._moments_of
            for debtor_id in [d for d in wanted if d in moments]:
                held = moments[debtor_id]
                if held is not None:
                    latest[debtor_id] = held
            wanted = [debtor_id for debtor_id in wanted if debtor_id not in moments]
            if not wanted:
                return latest
        if self._levels:
            self._sync()
        for start in range(0, len(wanted), _DEBTORS_READ):
            for debtor_id, at in self._read_last_moments(wanted[start : start + _DEBTORS_READ]):
                moment = at if isinstance(at, datetime) else datetime.fromisoformat(at)
                if debtor_id not in latest or moment > latest[debtor_id]:
                    latest[debtor_id] = moment
        return latest

    def lock_debtors(self, debtor_ids: Iterable[str], *, at_once: bool = False) -> None:
        """Hold *debtor_ids* against the other writers that lock them, until the
        transaction ends (see the module); outside a transaction, nothing.

        Take it before reading which cases a debtor has, for a write that must
        see all of them (a case opened inherits the debtor's holds; a hold, or
        a task, reaches every case).  The debtor's cases are read again when
        next asked (`cases_of`, `read_debtors`), and the copies of those
        cases this transaction has not written to are checked against their
        rows before they are used.  So are the copies of the debtor's cases this
        transaction read before the lock: a case read, then locked, is used as
        stored after any write another process committed in between (`get`
        after the lock checks it).  The lock goes with the next statement;
        *at_once*: now, with the check of those copies when there are any (a
        write recorded holds its debtor from then on, not from its commit).

        Locks are taken in one order (the lock on every debtor, then the
        debtors' in key order, many in one statement): a debtor before the
        highest this transaction holds is only tried, and ends the
        transaction as a `ConcurrencyConflict` when another writer holds it,
        so no two transactions wait on each other in a circle.  Each debtor
        is one lock of the database's lock table until the commit: a write
        over thousands of debtors (an import) takes `lock_every_debtor`
        instead.
        """
        if not self._levels or self._locked_all:
            return
        wanted = sorted({debtor_id for debtor_id in debtor_ids if debtor_id not in self._locked})
        if not wanted:
            return
        first = not self._locked
        self._locked.update(wanted)
        self._held_debtor = True
        try:
            locked = self._lock(wanted, first)
        except BaseException:  # not held (a level that catches it asks again)
            self._locked.difference_update(wanted)
            raise
        pending = self._before_lock
        before = [case_id for debtor_id in wanted for case_id in pending.pop(debtor_id, ())]
        if locked:
            for debtor_id in wanted:
                self._known_of.pop(debtor_id, None)  # read before the lock: read again
                self._relock.add(debtor_id)
            # The debtors' cases this transaction read before the lock: a rival may have
            # committed to them in between, and what is decided next must see it.
            stale = self._stale(before)
            if at_once:
                if stale:
                    self._recheck(stale)  # the check carries the locks: one round trip
                else:
                    self._send_locks()

    def lock_debtors_now(self, debtor_ids: Iterable[str]) -> None:
        """`lock_debtors`, the lock sent at once rather than with the next statement (a
        round trip when not held yet): what a write recorded takes."""
        self.lock_debtors(debtor_ids, at_once=True)

    def _send_locks(self) -> None:  # noqa: B027 (nothing to send, by default)
        """Send the locks `_lock` left for the next statement, now (a backend that sends
        them with its next statement supplies it)."""

    def lock_every_debtor(self) -> bool:
        """Hold every debtor as `lock_debtors` holds one, until the transaction ends: one
        lock for a write over many debtors (a bulk open).  The other writers that lock a
        debtor wait for the commit.  Returns whether the transaction holds every debtor
        now; outside a transaction, nothing is held (``False``).

        Locks are taken in one order: the lock on every debtor before any debtor's.
        A transaction that has locked a debtor already is not given it (``False``):
        taking it would wait for every writer holding a debtor, one of which may be
        waiting for the debtor this one holds (a deadlock).  The caller locks the
        debtors it writes instead (`lock_debtors`).

        Every copy this transaction has not written to is checked against its row
        before its next use, and the debtors' cases are read again when next asked.
        """
        if not self._levels:
            return False
        if self._locked_all:
            return True
        if self._held_debtor:
            return False
        self._locked_all = True
        if self._lock(None, not self._locked):
            self._known_of.clear()
            self._relock.clear()
            self._before_lock.clear()
            self._ahead.clear()
            for case_id, slot in self._slots.items():
                if case_id not in self._dirty and case_id not in self._new:
                    slot.epoch = -1
        return True

    def _expire(self, case_ids: list[str], stamps: dict[str, Stamp] | None = None) -> None:
        """Check the copies of locked debtors' *case_ids* against their rows, at once (the
        ones this transaction has not written to): those another writer changed before
        the lock are read again when next used.  *stamps*: their rows' stamps, read
        after the lock already (no query)."""
        self._recheck(self._stale(case_ids), stamps)

    def _stale(self, case_ids: Iterable[str]) -> list[str]:
        """Mark the copies of *case_ids* this transaction has not written to as to be
        checked against their rows before their next use; the ones marked."""
        slots, dirty, new = self._slots, self._dirty, self._new
        stale = []
        for case_id in case_ids:
            self._ahead.pop(case_id, None)
            slot = slots.get(case_id)
            if slot is not None and case_id not in dirty and case_id not in new:
                slot.epoch = -1
                stale.append(case_id)
        return stale

    def get(self, case_id: str) -> Case:
        """The case: the same object for the same id while no one else changes it.

        Raises:
            UnknownCase: no such case.
        """
        slot = self._slots.get(case_id)
        levels = self._levels
        if slot is None or not levels or slot.epoch != self._epoch:
            return self._slot(case_id).case
        levels[-1].touched.add(case_id)  # the common case, inside a transaction: no checks
        return slot.case

    # -- the journal --------------------------------------------------------------------------
    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        """Append *entry* and save *case* as it stands after it, in one transaction.

        Inside a transaction both are written when it commits.

        Raises:
            UnknownCase: no such case.
            InvalidInput: the entry is not the next one of the chain.
            ConcurrencyConflict: another writer appended to the case first, or
                *case* is not at the version after the chain's head (the
                store's copy is dropped).
        """
        if not self._levels:
            with self._transaction:
                self.append(entry, case)
            return
        case_id = entry.case_id
        slot = self._slot(case_id)
        head = slot.head
        seq = entry.seq
        if seq > head.seq + 1:
            raise InvalidInput("seq", seq, f"{head.seq + 1}, the next in the chain")
        if seq <= head.seq or (case is not None and case.version != seq + 1):
            # Written from a copy older than the database: another writer was first.
            self._drop(case_id)
            read = seq if case is None else case.version - 1
            raise ConcurrencyConflict(case_id, read, head.seq + 1)
        if seq <= slot.tail:  # the journal holds this number already (a row added by hand)
            self._drop(case_id)
            raise ConcurrencyConflict(case_id, seq)
        self._journal.append((entry, case is not None))
        if case is not None:
            slot.case = case
        slot.head = Head(seq, entry.hash)
        slot.last = entry
        slot.tail = seq
        if slot.entries is not None:
            slot.entries.append(entry)
        self._dirty[case_id] = None

    def entries(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's chain, oldest first."""
        slot = self._slot(case_id)
        if slot.entries is None:
            chain = self._read_chain(case_id)
            if case_id in self._dirty or case_id in self._new:  # entries not written yet
                last = chain[-1].seq if chain else -1
                chain += [
                    entry
                    for entry, _ in self._journal[self._journal_done :]
                    if entry.case_id == case_id and entry.seq > last
                ]
            slot.entries = chain
        return tuple(slot.entries)

    def head(self, case_id: str) -> Head:
        """The recorded end of the case's chain (read without loading the case)."""
        if not self._levels:
            self._refresh()
        slot = self._slots.get(case_id)
        if slot is not None and slot.epoch == self._epoch:
            return slot.head
        if case_id in self._dirty or case_id in self._new:
            return self._slot(case_id).head
        found = self._read_head(case_id)
        if found is None:
            raise UnknownCase(case_id)
        return found

    def heads_and_cases(
        self, case_ids: Sequence[str]
    ) -> dict[str, tuple[Head, Case | CaseUnreadable]]:
        """Each of *case_ids*' recorded head (as `head`) and stored case (as `get`, or the
        `CaseUnreadable` its row raises), the rows read in one query; a case that does not
        exist is left out.

        `Engine.verify` asks it for a page of cases at a time, where `head` and `get`
        would send two queries a case.  A case the open transaction wrote and has not
        sent yet is taken from it.
        """
        self._sync()
        found: dict[str, tuple[Head, Case | CaseUnreadable]] = {}
        rest: list[str] = []
        for case_id in case_ids:
            if case_id not in self._dirty and case_id not in self._new:
                rest.append(case_id)
                continue
            head = self.head(case_id)
            try:
                found[case_id] = (head, self.get(case_id))
            except CaseUnreadable as err:
                found[case_id] = (head, err)
        for case_id, (head, body) in self._read_heads_and_bodies(rest).items():
            try:
                found[case_id] = (head, case_from_body(body, case_id))
            except CaseUnreadable as err:
                found[case_id] = (head, err)
        return found

    def last_entry(self, case_id: str) -> JournalEntry:
        """The newest entry of the case's chain."""
        slot = self._slot(case_id)
        if slot.entries:
            return slot.entries[-1]
        if slot.last is None:
            found = self._read_last(case_id)
            if found is None:
                raise UnknownCase(case_id)
            slot.last = found
        return slot.last

    # -- the review index ---------------------------------------------------------------------
    def schedule(self, case_id: str, at: datetime | None) -> None:
        """Set when the case is reviewed next; ``None`` takes it off the schedule.

        Inside a transaction the change is written when it commits.
        """
        if not self._levels:
            with self._transaction:
                self.schedule(case_id, at)
            return
        self._ops.append((case_id, at))
        self._scheduled[case_id] = at
        self._due_at.pop(case_id, None)

    def next_review(self, case_id: str) -> datetime | None:
        """When the case is reviewed next (UTC), or ``None`` when it is not scheduled."""
        if case_id in self._scheduled:
            at = self._scheduled[case_id]
            return None if at is None else at.astimezone(UTC)
        return self._read_review(case_id)

    def scheduled(self, case_ids: Iterable[str]) -> dict[str, datetime]:
        """When each of *case_ids* on the review schedule is reviewed next (UTC), in the
        order given; a case off the schedule is left out.

        `Engine.verify` asks it once for every open case: one query reads the
        review index, where asking `next_review` of each case would send one a case.
        """
        self._sync()
        found = self._read_scheduled()
        return {case_id: found[case_id] for case_id in case_ids if case_id in found}

    def filed_debtors(self) -> dict[str, str | None]:
        """The debtor each stored case's row is filed under (its indexed ``debtor_id``
        column), by case id, in one query.

        The column is written with the row and never changes, as a case's debtor never
        does: `Engine.verify` compares it with the debtor of each case's journal (a row
        filed by hand under another debtor would take the case out of its debtor's
        locks and caps).
        """
        self._sync()
        return self._read_filed()

    def due_at(self, case_id: str) -> datetime | None:
        """When the case was due as `due` or `lease` last returned it (UTC), else `next_review`.

        The moment the tick picked the case for, without a query; another
        process may have moved the case since (`next_review` reads the store).
        """
        if case_id not in self._scheduled:
            found = self._due_at.get(case_id)
            if found is not None:
                return found
        return self.next_review(case_id)

    def _hold(self, owner: str, now: datetime, ttl: timedelta, case_ids: Sequence[str]) -> None:
        """Remember the batch `lease` just took for *owner*: fenced at each commit."""
        self._lease = _Lease(owner, now, ttl, case_ids) if case_ids else None

    def release(self, case_ids: Sequence[str], owner: str) -> None:
        """Give back *owner*'s leases on *case_ids* (others' leases are left alone).

        Inside a transaction, when *case_ids* cover the batch `lease` last
        took, its leases go back at the commit, in the check that every commit
        makes while a lease is held (`LeaseLost` when another worker took one
        of its cases): a tick's last transaction of a batch gives it back.
        """
        if not case_ids:
            return
        lease = self._lease
        rest = list(case_ids)
        if lease is not None and lease.owner == owner:
            if self._levels and set(lease.cases) <= set(case_ids):
                self._releasing = True
                rest = [case_id for case_id in case_ids if case_id not in lease.cases]
            else:
                for case_id in case_ids:
                    lease.cases.pop(case_id, None)
                if not lease.cases:
                    self._lease = None
        if not rest:
            return
        if self._levels:
            self._sync()
            self._fence(owner, rest, None, strict=False)
            return
        with self._transaction:
            self._fence(owner, rest, None, strict=False)

    def _forget(self) -> None:
        """Drop every copy and buffer (the store is closing)."""
        self._lease = None
        self._levels.clear()
        self._clear()
        self._slots.clear()
        self._ahead.clear()
        self._due_at.clear()
        self._batch = {}
