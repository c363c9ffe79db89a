"""Checkpoints: every chain's head anchored outside the database, signed.

A hash chain whose head sits in a row the application may update proves
nothing against whoever can write that row: edit an entry, seal every entry
after it again, move the head, and the chain verifies.  A *checkpoint* pins
the heads somewhere that writer cannot reach.  It is a Merkle root over every
case's head (case id, number of entries, hash of the newest entry; cases in
case id order), the counts and the time, signed with a key the database's
roles never hold, and appended as one line to a JSON Lines file kept apart
from the database.  `Anchors.check` then finds, for each case checkpointed,
an entry re-sealed at or before the checkpointed head, a chain cut short or
replaced, and a case deleted.

The keys are `arrears.signing`'s: Ed25519, where the private key signs and
anyone holding the public key verifies, or HMAC-SHA256, a shared secret that
both signs and verifies.  The Merkle tree is `arrears.merkle`'s.

The file: each line is one checkpoint, ``{"statement", "hash", "signature",
"heads", "purged"}``.  The *statement* is what is signed: its number, time,
counts, Merkle root, the hash of the checkpoint before (``prev``, so a
checkpoint taken out of the middle of the file is noticed), a digest of the
line's ``heads`` and ``purged`` (``changes``) and which key signed it.
``heads`` lists only the cases whose head changed since the checkpoint
before (every case in the first); ``purged`` the cases deleted since, on
purpose, after their retention period.  Folding the lines gives every case's
head at any checkpoint, and the folded heads must give the signed root.

An inclusion proof (`arrears.merkle.InclusionProof`, from
`CheckpointLog.prove`) shows one case's head in one checkpoint to an auditor
who has the proof and the public key and nothing else
(`arrears.merkle.verify_proof`).

This module knows nothing of stores or cases: `arrears.operations.evidence`
reads the chains and calls it (`Engine.checkpoint`, ``Engine.verify(anchors=…)``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from .errors import InvalidInput, JournalCorrupted, JournalProblem
from .journal import GENESIS, JournalEntry, canonical_bytes, canonical_json
from .merkle import InclusionProof, inclusion_path, leaf_hash, merkle_root
from .signing import Key, find_key

__all__ = [
    "CHECKPOINT_KIND",
    "Anchors",
    "Checkpoint",
    "CheckpointLog",
    "append_checkpoint",
    "make_checkpoint",
    "read_checkpoints",
]

#: The ``kind`` of a checkpoint's statement.
CHECKPOINT_KIND: Final = "journal_checkpoint"
_FORMAT: Final = 1
_STATEMENT_KEYS: Final = frozenset(
    {"kind", "format", "number", "at", "cases", "entries", "root", "prev", "changes"}
    | {"algorithm", "key"}
)
_LINE_KEYS: Final = frozenset({"statement", "hash", "signature", "heads", "purged"})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leaves(heads: Mapping[str, tuple[int, str]]) -> tuple[list[str], list[bytes]]:
    """The case ids in code point order (as `sorted`) and their leaves."""
    order = sorted(heads)
    return order, [leaf_hash(case_id, *heads[case_id]) for case_id in order]


# -- checkpoints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint: one line of a checkpoint file.

    Attributes:
        statement: What is signed: ``kind``, ``format``, ``number`` (from 1),
            ``at`` (ISO 8601), ``cases``, ``entries``, ``root`` (the Merkle
            root, hex), ``prev`` (the hash of the checkpoint before, or 64
            zeros), ``changes`` (SHA-256 of the canonical JSON of ``heads``
            and ``purged``), ``algorithm`` and ``key`` (the key's id).
        hash: SHA-256 of the statement's canonical JSON.
        signature: The key's signature of the statement's canonical JSON, hex.
        heads: ``{case_id: (count, head hash)}`` for every case whose head
            changed since the checkpoint before (every case in the first).
        purged: Cases deleted on purpose since the checkpoint before.
    """

    statement: Mapping[str, Any]
    hash: str
    signature: str
    heads: Mapping[str, tuple[int, str]]
    purged: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        """Its place in the file, from 1."""
        number: int = self.statement["number"]
        return number

    @property
    def at(self) -> datetime:
        """When it was taken."""
        return datetime.fromisoformat(self.statement["at"])

    @property
    def root(self) -> str:
        """The Merkle root over every case's head, hex."""
        root: str = self.statement["root"]
        return root

    def to_json_line(self) -> str:
        """The checkpoint as one canonical JSON line, without the newline."""
        return canonical_json(
            {
                "statement": dict(self.statement),
                "hash": self.hash,
                "signature": self.signature,
                "heads": {case_id: list(head) for case_id, head in self.heads.items()},
                "purged": list(self.purged),
            }
        )

    def __str__(self) -> str:
        statement = self.statement
        return (
            f"checkpoint #{self.number} of {statement['at']}: {statement['cases']} cases, "
            f"{statement['entries']} entries, root {self.root[:16]}, "
            f"{statement['algorithm']} key {statement['key']}"
        )


def _changes_digest(heads: Mapping[str, Sequence[Any]], purged: Sequence[str]) -> str:
    return _sha256(
        canonical_bytes(
            {
                "heads": {case_id: list(head) for case_id, head in heads.items()},
                "purged": list(purged),
            }
        )
    )


def make_checkpoint(
    heads: Mapping[str, tuple[int, str]],
    key: Key,
    *,
    at: datetime,
    previous: CheckpointLog | None = None,
    purged: Iterable[str] = (),
) -> Checkpoint:
    """Sign a checkpoint over *heads*, every case's ``(count, head hash)`` as it stands.

    The caller has verified the chains the heads come from (and, with a
    *previous* file, that they still hold its heads: `Anchors.check`).

    Args:
        heads: Every case's number of entries and newest entry's hash.
        key: The signing key.
        at: When the heads were read (timezone-aware).
        previous: The checkpoints so far, to chain to and to list only the
            heads changed since the last of them.
        purged: Cases of the last checkpoint deleted on purpose since; any
            other case of it missing from *heads* is refused.

    Raises:
        InvalidInput: *key* cannot sign (``key``), *at* is naive (``at``), a
            case of the last checkpoint is missing and not purged, or a purged
            case is still there or was never checkpointed (``purged``).
        JournalCorrupted: the *previous* file does not hold (`CheckpointLog.anchors`).
    """
    if not key.can_sign:
        raise InvalidInput("key", key.key_id, "a private key or an HMAC key, to sign")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at", at.isoformat(), "a timezone-aware time")
    before: Mapping[str, tuple[int, str]] = {}
    prev, number = GENESIS, 1
    if previous is not None and (previous.checkpoints or previous.problems):
        anchors = previous.anchors()  # the file must hold before it is added to
        before = anchors.heads
        prev, number = anchors.checkpoint.hash, anchors.checkpoint.number + 1
    gone = sorted(dict.fromkeys(purged))
    for case_id in gone:
        if case_id in heads:
            raise InvalidInput("purged", case_id, "a case no longer in the store")
        if case_id not in before:
            raise InvalidInput("purged", case_id, "a case the last checkpoint holds")
    missing = sorted(before.keys() - heads.keys() - set(gone))
    if missing:
        raise InvalidInput(
            "purged",
            missing[0],
            f"every missing case named as purged ({len(missing)} of the last checkpoint's "
            "cases are not in the store)",
        )
    changed = {
        case_id: (int(head[0]), str(head[1]))
        for case_id, head in sorted(heads.items())
        if before.get(case_id) != (head[0], head[1])
    }
    _, leaves = _leaves(heads)
    statement = {
        "kind": CHECKPOINT_KIND,
        "format": _FORMAT,
        "number": number,
        "at": at.astimezone(UTC).isoformat(),
        "cases": len(heads),
        "entries": sum(head[0] for head in heads.values()),
        "root": merkle_root(leaves).hex(),
        "prev": prev,
        "changes": _changes_digest(changed, gone),
        "algorithm": key.algorithm,
        "key": key.key_id,
    }
    body = canonical_bytes(statement)
    return Checkpoint(statement, _sha256(body), key.sign(body), changed, tuple(gone))


def append_checkpoint(path: str | os.PathLike[str], checkpoint: Checkpoint) -> None:
    """Append *checkpoint* to the file at *path* as one line, and flush it to disk.

    The file is created when missing; it is only ever appended to.
    """
    line = (checkpoint.to_json_line() + "\n").encode("utf-8")
    with open(path, "ab") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())


@dataclass
class CheckpointLog:
    """A checkpoint file as read: every checkpoint, and every problem found in it.

    Attributes:
        checkpoints: The checkpoints whose line holds, in file order.
        problems: Each line that does not hold (``case_id`` ``"*"``,
            ``position`` the line number from 1): ``malformed``, ``changed``
            (the statement does not match its hash or its changes), ``removed``
            (checkpoints before it are missing), ``inserted`` (its ``prev`` is
            not the hash of the line before), ``forged`` (the signature does
            not verify) or ``unverified`` (signed by a key not given).
    """

    checkpoints: list[Checkpoint] = field(default_factory=list)
    problems: list[JournalProblem] = field(default_factory=list)

    @property
    def latest(self) -> Checkpoint:
        """The last checkpoint.

        Raises:
            InvalidInput: the file holds none (field ``checkpoints``).
        """
        if not self.checkpoints:
            raise InvalidInput("checkpoints", 0, "a file holding at least one checkpoint")
        return self.checkpoints[-1]

    def _find(self, number: int | None) -> Checkpoint:
        if number is None:
            return self.latest
        for checkpoint in self.checkpoints:
            if checkpoint.number == number:
                return checkpoint
        raise InvalidInput("number", number, f"a checkpoint from 1 to {len(self.checkpoints)}")

    def heads_at(self, number: int) -> dict[str, tuple[int, str]]:
        """Every case's ``(count, head hash)`` at checkpoint *number*: the lines up to it folded."""
        heads: dict[str, tuple[int, str]] = {}
        for checkpoint in self.checkpoints:
            if checkpoint.number > number:
                break
            for case_id in checkpoint.purged:
                heads.pop(case_id, None)
            heads.update(checkpoint.heads)
        return heads

    def anchors(self, number: int | None = None) -> Anchors:
        """The heads of checkpoint *number* (the latest when omitted), checked against its root.

        Raises:
            JournalCorrupted: the file has problems, or the folded heads do not
                give the checkpoint's signed root and counts.
            InvalidInput: no such checkpoint (field ``number``).
        """
        if self.problems:
            raise JournalCorrupted(self.problems)
        checkpoint = self._find(number)
        heads = self.heads_at(checkpoint.number)
        _, leaves = _leaves(heads)
        statement = checkpoint.statement
        if (
            merkle_root(leaves).hex() != checkpoint.root
            or len(heads) != statement["cases"]
            or sum(head[0] for head in heads.values()) != statement["entries"]
        ):
            raise JournalCorrupted(
                [
                    JournalProblem(
                        "*",
                        checkpoint.number,
                        "changed",
                        f"the heads of checkpoint #{checkpoint.number} do not give its signed root",
                    )
                ]
            )
        return Anchors(checkpoint, heads)

    def prove(self, case_id: str, number: int | None = None) -> InclusionProof:
        """A proof that *case_id*'s head is in checkpoint *number* (the latest when omitted).

        Raises:
            JournalCorrupted: the file does not hold (`anchors`).
            InvalidInput: no such checkpoint (``number``), or the checkpoint
                does not hold the case (``case_id``).
        """
        anchors = self.anchors(number)
        if case_id not in anchors.heads:
            raise InvalidInput(
                "case_id", case_id, f"a case of checkpoint #{anchors.checkpoint.number}"
            )
        order, leaves = _leaves(anchors.heads)
        index = order.index(case_id)
        count, head = anchors.heads[case_id]
        checkpoint = anchors.checkpoint
        return InclusionProof(
            case_id=case_id,
            count=count,
            head=head,
            index=index,
            path=tuple(node.hex() for node in inclusion_path(leaves, index)),
            statement=dict(checkpoint.statement),
            signature=checkpoint.signature,
        )


def _parse_line(line: str) -> Checkpoint:
    """One line as a `Checkpoint`, its shape checked (not its hash or signature).

    Raises:
        ValueError, KeyError, TypeError: not a checkpoint line.
    """
    fields = orjson.loads(line)
    if not isinstance(fields, dict) or set(fields) != _LINE_KEYS:
        raise ValueError("not a checkpoint line")
    statement = fields["statement"]
    if not isinstance(statement, dict) or set(statement) != _STATEMENT_KEYS:
        raise ValueError("not a checkpoint statement")
    if statement["kind"] != CHECKPOINT_KIND or statement["format"] != _FORMAT:
        raise ValueError("not a checkpoint of this format")
    if (
        not isinstance(statement["number"], int)
        or datetime.fromisoformat(statement["at"]).tzinfo is None
    ):
        raise TypeError("bad number or time")
    heads = {
        str(case_id): (int(head[0]), str(head[1])) for case_id, head in fields["heads"].items()
    }
    purged = tuple(str(case_id) for case_id in fields["purged"])
    return Checkpoint(statement, str(fields["hash"]), str(fields["signature"]), heads, purged)


def read_checkpoints(lines: Iterable[str], keys: Key | Sequence[Key]) -> CheckpointLog:
    """Read a checkpoint file, checking every line's hash, link and signature.

    Args:
        lines: The file's lines.
        keys: The key (or keys, across a change of key) whose signatures are
            accepted: public keys suffice.

    Returns:
        The log: the checkpoints that hold and a problem for every line that
        does not (`CheckpointLog`).  A line that does not hold is left out of
        the fold, so anchors are not taken from it.
    """
    accepted = [keys] if isinstance(keys, Key) else list(keys)
    log = CheckpointLog()
    prev, expected = GENESIS, 1
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if not line:
            continue

        def report(problem: str, detail: str, line_number: int = number) -> None:
            log.problems.append(JournalProblem("*", line_number, problem, detail))

        try:
            checkpoint = _parse_line(line)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            report("malformed", "not a checkpoint line")
            continue
        statement = checkpoint.statement
        body = canonical_bytes(statement)
        if _sha256(body) != checkpoint.hash:
            report("changed", "the statement does not match its hash")
            continue
        if statement["changes"] != _changes_digest(checkpoint.heads, checkpoint.purged):
            report("changed", "the heads or purged cases do not match the signed digest")
            continue
        key = find_key(accepted, statement["key"])
        if key is None or key.algorithm != statement["algorithm"]:
            report("unverified", f"signed by key {statement['key']}, which was not given")
            continue
        if not key.verify(body, checkpoint.signature):
            report("forged", f"the signature does not verify under key {key.key_id}")
            continue
        if checkpoint.number != expected:
            kind = "removed" if checkpoint.number > expected else "inserted"
            report(kind, f"checkpoint #{checkpoint.number} where #{expected} was expected")
        elif statement["prev"] != prev:
            report("inserted", f"prev is {statement['prev'][:12]}, the line before has {prev[:12]}")
        log.checkpoints.append(checkpoint)
        prev, expected = checkpoint.hash, checkpoint.number + 1
    return log


# -- anchors: a store's chains against a checkpoint ------------------------------------------


@dataclass(frozen=True)
class Anchors:
    """The heads one checkpoint pinned, to check a store's chains against.

    Attributes:
        checkpoint: The checkpoint.
        heads: Every case it holds: ``{case_id: (count, head hash)}``.
    """

    checkpoint: Checkpoint
    heads: Mapping[str, tuple[int, str]]

    def _where(self) -> str:
        return f"checkpoint #{self.checkpoint.number} of {self.checkpoint.statement['at']}"

    def check(self, case_id: str, entries: Sequence[JournalEntry]) -> list[JournalProblem]:
        """The problem of a chain that no longer holds its checkpointed head (none when it does).

        The chain must still have an entry at the checkpointed position with
        the checkpointed hash; since every entry names the hash of the one
        before, that pins every entry up to it.  A chain ending before it is
        ``truncated``; another entry in its place is ``rewritten`` (an entry
        at or before it edited and the chain sealed again, or the whole chain
        replaced).  A case the checkpoint does not hold (opened since) has no
        problem here.
        """
        anchored = self.heads.get(case_id)
        if anchored is None:
            return []
        count, head = anchored
        seq = count - 1
        entry = entries[seq] if seq < len(entries) and entries[seq].seq == seq else None
        if entry is None:
            entry = next((item for item in entries if item.seq == seq), None)
        if entry is None:
            last = max((item.seq for item in entries), default=-1)
            return [
                JournalProblem(
                    case_id,
                    last + 1,
                    "truncated",
                    f"chain ends at seq {last}, {self._where()} recorded seq {seq}",
                )
            ]
        if entry.hash != head:
            return [
                JournalProblem(
                    case_id,
                    seq,
                    "rewritten",
                    f"seq {seq} has hash {entry.hash[:12]}, {self._where()} recorded "
                    f"{head[:12]}: entries up to it were sealed again or the chain replaced",
                )
            ]
        return []

    def missing(self, present: Iterable[str]) -> list[JournalProblem]:
        """A ``removed`` problem for every checkpointed case not among *present*, in id order."""
        gone = self.heads.keys() - set(present)
        return [
            JournalProblem(
                case_id,
                0,
                "removed",
                f"the case is not in the store; {self._where()} recorded "
                f"{self.heads[case_id][0]} entries",
            )
            for case_id in sorted(gone)
        ]
