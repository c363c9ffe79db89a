"""Where cases and their journal chains live.

`MemoryStore` keeps everything in dictionaries: for tests, simulations and
hosts that persist elsewhere.  It keeps each chain's head apart from the
chain, so entries cut off the end are found by `verify`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from ._exceptions import DuplicateCase, InvalidInput, UnknownCase
from .case import Case
from .journal import Head, JournalEntry

__all__ = ["MemoryStore"]


class MemoryStore:
    """Cases and journal chains in memory."""

    __slots__ = ("_cases", "_chains", "_heads", "_queue", "_reviews")

    def __init__(self) -> None:
        self._cases: dict[str, Case] = {}
        self._chains: dict[str, list[JournalEntry]] = {}
        self._heads: dict[str, Head] = {}
        # The review index: each case's next review as a timestamp, and a heap
        # of (timestamp, case id) whose stale items are skipped when popped.
        self._reviews: dict[str, float] = {}
        self._queue: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._cases)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._cases

    def add(self, case: Case, opened: JournalEntry) -> None:
        """Store a new case with the first entry of its chain.

        Raises:
            DuplicateCase: a case with that id is already stored.
        """
        if case.id in self._cases:
            raise DuplicateCase(case.id)
        if opened.seq != 0 or opened.case_id != case.id:
            raise InvalidInput("opened", repr(opened), f"entry #0 of case {case.id!r}")
        self._cases[case.id] = case
        self._chains[case.id] = [opened]
        self._heads[case.id] = Head(0, opened.hash)

    def get(self, case_id: str) -> Case:
        """The stored case itself (the engine's working copy).

        Raises:
            UnknownCase: no such case.
        """
        try:
            return self._cases[case_id]
        except KeyError:
            raise UnknownCase(case_id) from None

    def append(self, entry: JournalEntry) -> None:
        """Append *entry* to its case's chain; it must be the next in sequence.

        Raises:
            UnknownCase: no such case.
            InvalidInput: the entry is not the next one.
        """
        head = self.head(entry.case_id)
        if entry.seq != head.seq + 1:
            raise InvalidInput("seq", entry.seq, f"{head.seq + 1}, the next in the chain")
        self._chains[entry.case_id].append(entry)
        self._heads[entry.case_id] = Head(entry.seq, entry.hash)

    def entries(self, case_id: str) -> Sequence[JournalEntry]:
        """The case's chain, oldest first (read-only view)."""
        try:
            return tuple(self._chains[case_id])
        except KeyError:
            raise UnknownCase(case_id) from None

    def head(self, case_id: str) -> Head:
        """The recorded end of the case's chain."""
        try:
            return self._heads[case_id]
        except KeyError:
            raise UnknownCase(case_id) from None

    def last_entry(self, case_id: str) -> JournalEntry:
        """The newest entry of the case's chain."""
        try:
            return self._chains[case_id][-1]
        except KeyError:
            raise UnknownCase(case_id) from None

    def case_ids(self) -> Iterator[str]:
        """Every case id, in the order cases were added."""
        return iter(self._cases)

    def chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        """Every chain with its case id, in the order cases were added."""
        return iter(self._chains.items())

    # -- the review index ---------------------------------------------------------------
    def schedule(self, case_id: str, at: datetime | None) -> None:
        """Set when the case is reviewed next; ``None`` takes it off the schedule."""
        if at is None:
            self._reviews.pop(case_id, None)
            return
        stamp = at.timestamp()
        if self._reviews.get(case_id) == stamp:
            return
        self._reviews[case_id] = stamp
        heapq.heappush(self._queue, (stamp, case_id))

    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        """The cases whose review is due at *now*, earliest first (at most *limit*).

        They stay due until scheduled again: the tick reschedules every case
        it reviews (and one whose review failed, for a retry).
        """
        stamp = now.timestamp()
        queue, reviews = self._queue, self._reviews
        found: list[str] = []
        seen: set[str] = set()
        while queue and queue[0][0] <= stamp and (limit is None or len(found) < limit):
            when, case_id = heapq.heappop(queue)
            if reviews.get(case_id) == when and case_id not in seen:
                seen.add(case_id)
                found.append(case_id)
        for case_id in found:  # still due until the tick moves them
            heapq.heappush(queue, (reviews[case_id], case_id))
        return found

    def next_review(self, case_id: str) -> datetime | None:
        """When the case is reviewed next (UTC), or ``None`` when it is not scheduled."""
        stamp = self._reviews.get(case_id)
        return None if stamp is None else datetime.fromtimestamp(stamp, UTC)
