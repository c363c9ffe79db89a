"""The outbox's open intents: messages journaled as about to be sent whose result is not.

The tick journals an ``outbox_intent`` before it hands a message to its
channel adapter and the result (an ``interaction`` carrying the same
``key``) after.  An intent without a result is *open*: the process died in
between, or the adapter failed in a way worth retrying.  The tick closes
every open intent at the case's next review, whatever the day
(`arrears.tick`, "Outbox recovery" in ``docs/operations.md``); this module
finds them.

- `open_intents` reads whole chains (any number of cases): what
  ``arrears outbox check`` lists.
- `pending` is the tick's quick read of one chain: from the newest entry
  back to the newest ``review``, whose ``open`` list names the keys it left
  open, so a case's history is not read whole at every review.

Examples:
    >>> from datetime import UTC, datetime
    >>> from arrears.journal import seal
    >>> at = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
    >>> intent = {"key": "k1", "step": "remind", "channel": "sms", "text": "Hi", "policy": []}
    >>> chain = [seal("C-1", 0, at, "outbox_intent", intent, "")]
    >>> [(found.case_id, found.key, found.channel) for found in open_intents([("C-1", chain)])]
    [('C-1', 'k1', 'sms')]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from .journal import JournalEntry

__all__ = ["RESULT_KINDS", "OpenIntent", "open_intents", "pending"]

#: Entry kinds that settle an outbox key: a result was recorded (a task is its own result,
#: and so is a case coming under a task open on another loan of the debtor).
RESULT_KINDS: Final = frozenset({"interaction", "task_opened", "task_covered"})
#: The kind of the entry that opens a key.
INTENT_KIND: Final = "outbox_intent"


@dataclass(frozen=True, slots=True)
class OpenIntent:
    """An ``outbox_intent`` with no result recorded under its key.

    Attributes:
        case_id: The case.
        key: The idempotency key the message travels under.
        channel: ``sms``, ``email``, ``letter`` or ``voicemail``.
        step: The policy step (or Python rule) that wanted the message.
        at: When the intent was journaled.
        seq: The intent's position in the case's chain.
        data: The intent's whole data (text, contact, template…: personal data, never logged).
    """

    case_id: str
    key: str
    channel: str
    step: str
    at: datetime
    seq: int
    data: Mapping[str, Any]

    @classmethod
    def of(cls, entry: JournalEntry) -> OpenIntent:
        """The open intent an ``outbox_intent`` entry records."""
        data = entry.data
        return cls(
            entry.case_id,
            str(data["key"]),
            str(data["channel"]),
            str(data.get("step", "")),
            entry.at,
            entry.seq,
            data,
        )

    def age(self, now: datetime) -> timedelta:
        """How long the intent has been open at *now*."""
        return now - self.at

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The intent as plain JSON values, without its text or address (personal data)."""
        return {
            "case_id": self.case_id,
            "key": self.key,
            "channel": self.channel,
            "step": self.step,
            "at": self.at.isoformat(),
            "age_seconds": int(self.age(now).total_seconds()),
        }


def _open_in(entries: Iterable[JournalEntry]) -> list[OpenIntent]:
    """The intents of *entries* (oldest first) with no result later among them, oldest first."""
    found: dict[str, OpenIntent] = {}
    for entry in entries:
        kind = entry.kind
        if kind == INTENT_KIND:
            key = entry.data["key"]
            found.setdefault(key, OpenIntent.of(entry))
        elif kind in RESULT_KINDS:
            key = entry.data.get("key")
            if key is not None:
                found.pop(key, None)
    return list(found.values())


def open_intents(chains: Iterable[tuple[str, Sequence[JournalEntry]]]) -> list[OpenIntent]:
    """Every open intent of every chain, by case (in the order given), oldest first.

    Reads each chain whole: the authority `pending` relies on, and what
    ``arrears outbox check`` lists (``store.chains()`` is the usual argument).
    """
    found: list[OpenIntent] = []
    for _case_id, entries in chains:
        found.extend(_open_in(entries))
    return found


def pending(entries: Sequence[JournalEntry]) -> list[OpenIntent]:
    """The open intents of one chain, read from its end: the tick's question at each review.

    Every review the tick journals lists the keys it leaves open (``open``),
    so the entries after the newest review and the intents that review names
    are all there is to read.  A chain recorded before reviews listed their
    open keys is read back to its newest review only: `open_intents` reads
    it whole.
    """
    resolved: set[str] = set()
    found: dict[str, OpenIntent] = {}  # read backwards: an older intent of a key replaces
    wanted: set[str] = set()
    reviewed = False
    for entry in reversed(entries):
        kind = entry.kind
        if kind == INTENT_KIND:
            key = entry.data["key"]
            if key in resolved:
                continue
            if not reviewed or key in wanted:
                found[key] = OpenIntent.of(entry)
        elif reviewed:
            continue
        elif kind in RESULT_KINDS:
            key = entry.data.get("key")
            if key is not None:
                resolved.add(key)
        elif kind == "review":
            reviewed = True
            wanted = set(entry.data.get("open", ())) - resolved
            if not wanted:
                break
        if reviewed and wanted <= found.keys() and kind == INTENT_KIND:
            break
    return sorted(found.values(), key=lambda intent: intent.seq)
