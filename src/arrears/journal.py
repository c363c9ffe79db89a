"""The journal: an append-only, hash-chained record of everything that happens to a case.

Every transition, refusal, hold, interaction, notice and payment is an entry.
Each case has its own chain: entry *n* carries the SHA-256 of entry *n-1*
(``prev``), and its own ``hash`` is the SHA-256 of its canonical JSON body
(sorted keys, no spaces, UTF-8).  `verify_chain` walks a chain and names every
entry that was changed, removed, inserted or reordered; the store keeps each
chain's head (last sequence number and hash), so cutting entries off the end
is found too.

A chain is evidence: `write_jsonl` exports it as JSON Lines, closed by a seal
line that lists every chain's head, and `read_jsonl` reads it back, checking
every byte.  Given a key (`SealKey`, such as `arrears.checkpoints.Key`), the
seal is signed, and `read_export` checks the signature; an export without one
still reads, and says it is unsigned.

What each kind of entry records and changes on its case, and `replay`, which
rebuilds a case from its chain, are `arrears.events`: this module knows
nothing of cases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import IO, Any, Final, NamedTuple, Protocol
from zoneinfo import ZoneInfo

import orjson

from .clock import per_moment
from .errors import JournalProblem
from .money import Money

__all__ = [
    "GENESIS",
    "UNREADABLE_AT",
    "ExportSignature",
    "Head",
    "JournalEntry",
    "JournalProblem",
    "SealKey",
    "canonical_bytes",
    "canonical_json",
    "read_export",
    "read_jsonl",
    "seal",
    "verify_chain",
    "write_jsonl",
]

#: The ``prev`` of a chain's first entry.
GENESIS: Final = "0" * 64
_SEAL_KIND: Final = "journal_seal"

_SORTED: Final = orjson.OPT_SORT_KEYS


def canonical_bytes(value: Mapping[str, Any]) -> bytes:
    """The canonical encoding hashed by the journal.

    JSON (RFC 8259) in UTF-8 with object keys sorted, no insignificant white
    space, non-ASCII characters as themselves and only the escapes JSON
    requires.  Values are strings, integers, booleans, null, lists and objects:
    money and decimals travel as strings, never as floats.
    """
    return orjson.dumps(value, option=_SORTED, default=_as_text)


def _as_text(value: object) -> str:
    """Encode the few non-JSON values guards and hosts hand over (Decimal, Money, enums, zones)."""
    if isinstance(value, (Decimal, Money, Enum, ZoneInfo)):
        return str(value)
    raise TypeError(f"journal data: {type(value).__name__} is not JSON-safe")


def canonical_json(value: Mapping[str, Any]) -> str:
    """`canonical_bytes` as text."""
    return canonical_bytes(value).decode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class JournalEntry:
    """One sealed entry of a case's chain.

    The entry keeps its canonical body as UTF-8 bytes; ``data`` and ``prev``
    are read from it on demand (one parse, then cached).

    Attributes:
        case_id: The case.
        seq: Its position in the case's chain, from 0.
        at: When it happened.
        kind: What happened: ``opened``, ``transition``, ``payment``…
            (`arrears.events.KINDS` declares every kind and its data).
        body: The canonical JSON (UTF-8) that ``hash`` covers.
        hash: SHA-256 of ``body``, hex.
    """

    __slots__ = ("_fields", "at", "body", "case_id", "hash", "kind", "seq")

    def __init__(
        self, case_id: str, seq: int, kind: str, at: datetime, body: bytes, hash: str
    ) -> None:
        self.case_id = case_id
        self.seq = seq
        self.kind = kind
        self.at = at
        self.body = body
        self.hash = hash
        self._fields: dict[str, Any] | None = None

    def _parsed(self) -> dict[str, Any]:
        if self._fields is None:
            self._fields = orjson.loads(self.body)
        return self._fields

    @property
    def data(self) -> dict[str, Any]:
        """What happened, as JSON-safe data."""
        data: dict[str, Any] = self._parsed()["data"]
        return data

    @property
    def prev(self) -> str:
        """The hash of the entry before (``GENESIS`` for the first)."""
        prev: str = self._parsed()["prev"]
        return prev

    def to_json_line(self) -> str:
        """The entry as one canonical JSON line (its body plus its hash), no newline."""
        # From the sealed body, parsed afresh: not the parsed fields, which a caller may have
        # changed through `data` (the export would show the change beside the original
        # hash), nor cached (an export must not leave a dict behind on every entry).
        return canonical_json({**orjson.loads(self.body), "hash": self.hash})

    def __repr__(self) -> str:
        return f"<JournalEntry {self.case_id}#{self.seq} {self.kind} {self.hash[:12]}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JournalEntry):
            return NotImplemented
        return self.hash == other.hash and self.body == other.body

    def __hash__(self) -> int:
        return hash(self.hash)


@per_moment
def moment_text(at: datetime) -> str:
    """``at.isoformat()``, remembered (`per_moment`).

    A batch stamps thousands of entries with a few moments (`Engine.open_cases`,
    a tick's now and next review times), and ``isoformat`` costs as much as
    hashing a short entry.  The moment is known by identity, since an equal
    moment in another zone is written differently.
    """
    return at.isoformat()


def seal(
    case_id: str, seq: int, at: datetime, kind: str, data: Mapping[str, Any], prev: str
) -> JournalEntry:
    """Build the next entry of a chain, hashed over its canonical body.

    *data* must be JSON-safe (strings, ints, bools, lists, dicts, ``None``);
    money and decimals travel as strings.
    """
    encoded = orjson.dumps(
        {
            "at": moment_text(at),
            "case_id": case_id,
            "data": data,
            "kind": kind,
            "prev": prev,
            "seq": seq,
        },
        option=_SORTED,
        default=_as_text,
    )
    # orjson's result keeps its whole write buffer (at least 1 KiB, often 8);
    # an exact copy is what a journal of millions of entries can afford to keep.
    body = memoryview(encoded).tobytes()
    return JournalEntry(case_id, seq, kind, at, body, hashlib.sha256(body).hexdigest())


class Head(NamedTuple):
    """The end of a case's chain, kept by the store so truncation is found.

    Attributes:
        seq: The last entry's sequence number (``-1`` for an empty chain).
        hash: The last entry's hash (`GENESIS` for an empty chain).
    """

    seq: int = -1
    hash: str = GENESIS


#: The time a store gives an entry whose ``at`` column does not read as an aware time
#: (edited by hand): no entry the recorder writes is dated so, so `verify_chain`
#: reports the entry as ``changed``.
UNREADABLE_AT: Final = datetime.min.replace(tzinfo=UTC)


def _copied_fields_differ(entry: JournalEntry, fields: Mapping[str, Any]) -> str | None:
    """Which of the entry's copied fields (``kind``, ``at``) disagrees with its sealed body.

    The hash covers the body only; a store keeps ``kind`` and ``at`` beside it
    for queries, so a hand edit of either is found here.
    """
    sealed_kind = fields.get("kind")
    if entry.kind != sealed_kind:
        return f"kind column is {entry.kind!r}, the sealed body says {sealed_kind!r}"
    try:
        sealed_at = datetime.fromisoformat(fields["at"])
    except (KeyError, TypeError, ValueError):
        return "the sealed body has no valid time"
    if entry.at == UNREADABLE_AT:
        return "at column is not a time"
    if entry.at != sealed_at:
        return f"at column is {entry.at.isoformat()}, the sealed body says {fields['at']}"
    return None


def verify_chain(
    case_id: str, entries: Sequence[JournalEntry], head: Head | None = None
) -> list[JournalProblem]:
    """Walk one case's chain and report every entry that does not hold.

    Args:
        case_id: The case.
        entries: Its entries in stored order.
        head: The head the store recorded; when given, missing entries at the
            end are reported as ``truncated``.

    Returns:
        The problems found, in order; empty when the chain is intact.
    """
    problems: list[JournalProblem] = []

    def report(position: int, problem: str, detail: str) -> None:
        problems.append(JournalProblem(case_id, position, problem, detail))

    parsed: list[tuple[int, JournalEntry, int, str] | None] = []
    for position, entry in enumerate(entries):
        try:
            fields = orjson.loads(entry.body)
            body_seq, body_prev, body_case = fields["seq"], fields["prev"], fields["case_id"]
        except (ValueError, KeyError, TypeError):
            report(position, "changed", "body is not a journal entry")
            parsed.append(None)
            continue
        if body_case != case_id:
            report(position, "inserted", f"an entry of case {body_case!r}")
            parsed.append(None)
            continue
        actual = _sha256(entry.body)
        if actual != entry.hash:
            report(
                position, "changed", f"hash of body is {actual[:12]}, recorded {entry.hash[:12]}"
            )
        elif body_seq != entry.seq or entry.case_id != case_id:
            report(position, "changed", "indexed fields disagree with the sealed body")
        elif (mismatch := _copied_fields_differ(entry, fields)) is not None:
            report(position, "changed", mismatch)
        parsed.append((position, entry, body_seq, body_prev))
    present = {item[2] for item in parsed if item is not None}
    unsound = {problem.position for problem in problems}

    expected_seq = 0
    last_hash = GENESIS
    last_at: datetime | None = None
    seen: dict[int, int] = {}
    for item in parsed:
        if item is None:
            continue
        position, entry, body_seq, body_prev = item
        found = len(problems)
        if body_seq in seen:
            report(
                position, "inserted", f"seq {body_seq} appears again (first at {seen[body_seq]})"
            )
            continue
        seen[body_seq] = position
        if body_seq > expected_seq:
            skipped = range(expected_seq, body_seq)
            shown = (
                f"seq {expected_seq}" if len(skipped) == 1 else f"seq {expected_seq}-{body_seq - 1}"
            )
            if any(seq in present for seq in skipped):
                report(position, "reordered", f"seq {body_seq} stands before {shown}")
            else:
                report(position, "removed", f"{shown} missing before seq {body_seq}")
        elif body_seq < expected_seq:
            report(position, "reordered", f"seq {body_seq} stands after seq {expected_seq - 1}")
        elif body_prev != last_hash:
            report(
                position,
                "inserted",
                f"prev is {body_prev[:12]}, the entry before has {last_hash[:12]}",
            )
        # The recorder never writes an entry dated before the one before it: one
        # sealed so is backdated, a change slipped in under earlier contacts.
        # Its time is read only once its columns agree with its sealed body.
        dated = body_seq >= expected_seq and position not in unsound and len(problems) == found
        if dated and last_at is not None and entry.at < last_at:
            report(
                position,
                "reordered",
                f"dated {entry.at.isoformat()}, before the entry before it ({last_at.isoformat()})",
            )
        if body_seq >= expected_seq:
            expected_seq = body_seq + 1
            # The recorded hash, not a recomputed one: an edited entry is blamed
            # once, and the genuine entry after it still links to it.
            last_hash = entry.hash
        if dated:
            last_at = entry.at
    if head is not None:
        last_seq = expected_seq - 1
        if last_seq < head.seq:
            report(
                len(entries),
                "truncated",
                f"chain ends at seq {last_seq}, the store's head is seq {head.seq}",
            )
        elif last_seq > head.seq:
            report(
                len(entries) - (last_seq - head.seq),
                "inserted",
                f"seq {head.seq + 1}-{last_seq} stand after the store's head (seq {head.seq})",
            )
        elif last_hash != head.hash:
            report(
                len(entries) - 1,
                "changed",
                f"seq {last_seq} has hash {last_hash[:12]}, the store's head {head.hash[:12]}",
            )
    return problems


class SealKey(Protocol):
    """What signs and checks an export's seal (`arrears.checkpoints.Key` is one).

    Attributes:
        algorithm: The signature's algorithm (``ed25519``, ``hmac-sha256``).
        key_id: A short name of the key, recorded beside the signature.
    """

    @property
    def algorithm(self) -> str:
        """The signature's algorithm."""
        ...

    @property
    def key_id(self) -> str:
        """A short name of the key."""
        ...

    def sign(self, message: bytes) -> str:
        """The signature of *message*, hex."""
        ...

    def verify(self, message: bytes, signature: str) -> bool:
        """True when *signature* is this key's signature of *message*."""
        ...


class ExportSignature(NamedTuple):
    """The signature an export's seal carries (`read_export`).

    Attributes:
        algorithm: Its algorithm, as the seal says.
        key_id: The key that made it, as the seal says.
        verified: True when it was checked with that key and holds; False
            when no such key was given (nothing was checked) or it does not hold.
    """

    algorithm: str
    key_id: str
    verified: bool


def write_jsonl(
    chains: Iterable[tuple[str, Sequence[JournalEntry]]],
    out: IO[str],
    key: SealKey | None = None,
) -> int:
    """Export chains as JSON Lines: one canonical entry a line, then a seal line.

    The seal lists every chain's head, so an export cut short is found on
    import, and a digest of every entry's hash in file order, so lines moved
    between chains are found too.  With *key*, the seal carries
    ``"signature": {"algorithm", "key", "value"}``, the key's signature of
    the same canonical bytes its ``hash`` covers: the hash alone can be
    recomputed by anyone who rewrites the file, the signature only by the
    key's holder.

    Returns:
        The number of entries written.
    """
    heads: dict[str, list[Any]] = {}
    order = hashlib.sha256()
    count = 0
    for case_id, entries in chains:
        for entry in entries:
            out.write(entry.to_json_line())
            out.write("\n")
            order.update(entry.hash.encode("ascii"))
            count += 1
        if entries:
            heads[case_id] = [entries[-1].seq, entries[-1].hash]
    body = {"heads": heads, "kind": _SEAL_KIND, "order": order.hexdigest()}
    encoded = canonical_bytes(body)
    line: dict[str, Any] = {**body, "hash": _sha256(encoded)}
    if key is not None:
        line["signature"] = {
            "algorithm": key.algorithm,
            "key": key.key_id,
            "value": key.sign(encoded),
        }
    out.write(canonical_json(line))
    out.write("\n")
    return count


def read_jsonl(
    lines: Iterable[str], key: SealKey | Sequence[SealKey] | None = None
) -> tuple[dict[str, list[JournalEntry]], list[JournalProblem]]:
    """Read an export back, checking every line and every chain.

    Args:
        lines: The export's lines.
        key: When given, the seal must be signed by this key (or one of these
            keys): a seal without a signature is ``unsigned``, one whose
            signature does not hold, or was made by another key, ``forged``.
            Without a key an unsigned export reads as before (`read_export`
            tells whether it was signed).

    Returns:
        ``(chains, problems)``: the entries by case in file order, and every
        problem found: a line that is not canonical JSON, a changed entry, a
        broken chain, a missing or altered seal.
    """
    chains, problems, _ = read_export(lines, key)
    return chains, problems


def _check_signature(
    signature: object, body: Mapping[str, Any], keys: Sequence[SealKey]
) -> tuple[ExportSignature | None, str | None]:
    """The seal's signature as found, and what is wrong with it (``None``: nothing or unchecked)."""
    if signature is None:
        return None, ("the seal is not signed" if keys else None)
    if not isinstance(signature, dict) or set(signature) != {"algorithm", "key", "value"}:
        return None, "the seal's signature is not well formed"
    algorithm, key_id, value = signature["algorithm"], signature["key"], signature["value"]
    if not all(isinstance(item, str) for item in (algorithm, key_id, value)):
        return None, "the seal's signature is not well formed"
    found = next((key for key in keys if key.key_id == key_id), None)
    if found is None:
        return ExportSignature(algorithm, key_id, False), (
            f"signed by key {key_id}, not by the key given" if keys else None
        )
    if found.algorithm != algorithm or not found.verify(canonical_bytes(body), value):
        return ExportSignature(algorithm, key_id, False), (
            f"the seal's signature does not verify under key {key_id}"
        )
    return ExportSignature(algorithm, key_id, True), None


def read_export(
    lines: Iterable[str], key: SealKey | Sequence[SealKey] | None = None
) -> tuple[dict[str, list[JournalEntry]], list[JournalProblem], ExportSignature | None]:
    """`read_jsonl`, and the seal's signature: ``None`` for an unsigned export.

    The signature is checked when the key that made it is among *key*;
    otherwise it is returned with ``verified`` False (and, when keys were
    given, reported as ``forged``).
    """
    keys: tuple[SealKey, ...] = (
        () if key is None else tuple(key) if isinstance(key, Sequence) else (key,)
    )
    signed: ExportSignature | None = None
    chains: dict[str, list[JournalEntry]] = {}
    problems: list[JournalProblem] = []
    seal_heads: dict[str, Any] | None = None
    order = hashlib.sha256()
    order_line = 0
    for number, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\n") else raw
        if seal_heads is not None:
            problems.append(JournalProblem("*", number, "inserted", "a line after the seal"))
            continue
        try:
            fields = orjson.loads(line)
            if not isinstance(fields, dict):
                raise ValueError("not an object")
            recorded = fields.pop("hash")
        except (ValueError, KeyError):
            problems.append(JournalProblem("*", number, "malformed", "not a journal line"))
            continue
        if fields.get("kind") == _SEAL_KIND and "heads" in fields:
            signature = fields.pop("signature", None)
            unsigned = signature is None
            written = fields if unsigned else {**fields, "signature": signature}
            if (
                set(fields) != {"kind", "heads", "order"}
                or _sha256(canonical_bytes(fields)) != recorded
            ):
                problems.append(JournalProblem("*", number, "changed", "the seal was altered"))
            elif line != canonical_json({**written, "hash": recorded}):
                problems.append(JournalProblem("*", number, "changed", "not in canonical form"))
            else:
                signed, wrong = _check_signature(signature, fields, keys)
                if wrong is not None:
                    kind = "unsigned" if unsigned else "forged"
                    problems.append(JournalProblem("*", number, kind, wrong))
            seal_heads = fields["heads"] if isinstance(fields["heads"], dict) else {}
            order_line = number if fields.get("order") != order.hexdigest() else 0
            continue
        try:
            body = canonical_bytes(fields)
            case_id, seq, kind = fields["case_id"], fields["seq"], fields["kind"]
            at = datetime.fromisoformat(fields["at"])
            if (
                not isinstance(case_id, str)
                or not isinstance(seq, int)
                or not isinstance(kind, str)
            ):
                raise TypeError
            if at.tzinfo is None:
                raise ValueError("naive time")
        except (ValueError, KeyError, TypeError):
            problems.append(JournalProblem("*", number, "malformed", "missing or bad fields"))
            continue
        if line != canonical_json({**fields, "hash": recorded}):
            problems.append(JournalProblem(case_id, number, "changed", "not in canonical form"))
        chains.setdefault(case_id, []).append(
            JournalEntry(case_id, seq, kind, at, body, str(recorded))
        )
        order.update(str(recorded).encode("utf-8"))
    if seal_heads is None:
        problems.append(JournalProblem("*", 0, "unsealed", "no seal line: the export is cut short"))
    for case_id, entries in chains.items():
        head = None
        if seal_heads is not None:
            recorded_head = seal_heads.get(case_id)
            if recorded_head is None:
                problems.append(
                    JournalProblem(case_id, 0, "inserted", "a chain the seal does not list")
                )
            else:
                head = Head(int(recorded_head[0]), str(recorded_head[1]))
        problems.extend(verify_chain(case_id, entries, head))
    if seal_heads is not None:
        for case_id in seal_heads.keys() - chains.keys():
            problems.append(JournalProblem(case_id, 0, "removed", "every entry of the chain"))
    if order_line and not problems:
        # Every chain holds, yet the lines are not in the order sealed: entries
        # were moved between chains' places in the file.
        problems.append(
            JournalProblem("*", order_line, "reordered", "lines are not in the sealed order")
        )
    return chains, problems, signed
