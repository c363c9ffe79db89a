"""The Merkle tree of checkpoints: RFC 9162's tree over SHA-256, and its inclusion proofs.

Leaves are hashed as ``SHA-256(0x00 || leaf)`` and nodes as
``SHA-256(0x01 || left || right)``; a tree of *n* leaves splits at the
largest power of two below *n* (built here level by level, an odd node
carried up as it is, which gives the same tree).  A checkpoint's leaf is one
case's head: the JSON ``[case_id, count, head_hash]``.

An `InclusionProof` (made by `arrears.checkpoints.CheckpointLog.prove`) shows
one case's head in one signed checkpoint to an auditor who holds the proof
and the public key and nothing else of the journal: `verify_proof` checks the
signature over the checkpoint's statement and the path from the case's leaf
to the signed root.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from .errors import InvalidInput, JournalProblem
from .journal import canonical_bytes, canonical_json
from .signing import Key, find_key

__all__ = [
    "PROOF_KIND",
    "InclusionProof",
    "inclusion_path",
    "leaf_hash",
    "merkle_root",
    "verify_inclusion",
    "verify_proof",
]

#: The ``kind`` of an inclusion proof.
PROOF_KIND: Final = "journal_inclusion_proof"


def leaf_hash(case_id: str, count: int, head: str) -> bytes:
    """The Merkle leaf of one case: SHA-256 of ``0x00`` and the JSON ``[case_id, count, head]``."""
    return hashlib.sha256(b"\x00" + orjson.dumps([case_id, count, head])).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    """One level up: pairs hashed together, a last odd node carried up as it is."""
    upper = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        upper.append(level[-1])
    return upper


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root of RFC 9162's Merkle tree over *leaves* (SHA-256 of nothing when empty)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf *index*: the sibling hashes from the leaf up to the root.

    Raises:
        InvalidInput: *index* is not a leaf's (field ``index``).
    """
    if not 0 <= index < len(leaves):
        raise InvalidInput("index", index, f"a leaf from 0 to {len(leaves) - 1}")
    path: list[bytes] = []
    level = list(leaves)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        level = _next_level(level)
        index //= 2
    return path


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """True when *path* leads from *leaf*, at *index* of a tree of *size* leaves, to *root*.

    The algorithm of RFC 9162, section 2.1.3.2.
    """
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = _node(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = _node(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(result, root)


# -- inclusion proofs -------------------------------------------------------------------------


@dataclass(frozen=True)
class InclusionProof:
    """One case's head in one checkpoint, checkable with the public key alone (`verify_proof`).

    Attributes:
        case_id: The case.
        count: Its number of entries at the checkpoint.
        head: The hash of its newest entry then.
        index: Its leaf's place among the checkpoint's cases (in id order).
        path: The audit path, hex, from the leaf up.
        statement: The checkpoint's signed statement.
        signature: Its signature.
    """

    case_id: str
    count: int
    head: str
    index: int
    path: tuple[str, ...]
    statement: Mapping[str, Any]
    signature: str

    def to_json(self) -> str:
        """The proof as canonical JSON (``kind`` `PROOF_KIND`)."""
        return canonical_json(
            {
                "kind": PROOF_KIND,
                "case_id": self.case_id,
                "count": self.count,
                "head": self.head,
                "index": self.index,
                "path": list(self.path),
                "statement": dict(self.statement),
                "signature": self.signature,
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> InclusionProof:
        """A proof read back from `to_json`'s text.

        Raises:
            InvalidInput: not an inclusion proof (field ``proof``).
        """
        try:
            fields = orjson.loads(text)
            if not isinstance(fields, dict) or fields.pop("kind") != PROOF_KIND:
                raise ValueError("not a proof")
            return cls(
                case_id=str(fields["case_id"]),
                count=int(fields["count"]),
                head=str(fields["head"]),
                index=int(fields["index"]),
                path=tuple(str(node) for node in fields["path"]),
                statement=dict(fields["statement"]),
                signature=str(fields["signature"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidInput("proof", "…", f"a JSON object of kind {PROOF_KIND}") from None


def verify_proof(proof: InclusionProof, keys: Key | Sequence[Key]) -> list[JournalProblem]:
    """Check an inclusion proof with nothing but the key: the signature, then the Merkle path.

    Returns:
        The problems found (none when the proof holds): ``unverified`` (signed
        by a key not given), ``forged`` (the signature does not verify) or
        ``changed`` (the path does not lead from the case's head to the
        signed root).
    """
    accepted = [keys] if isinstance(keys, Key) else list(keys)
    statement = proof.statement
    position = proof.count - 1

    def problem(kind: str, detail: str) -> list[JournalProblem]:
        return [JournalProblem(proof.case_id, position, kind, detail)]

    try:
        body = canonical_bytes(statement)
        key = find_key(accepted, statement["key"])
        size, root = int(statement["cases"]), bytes.fromhex(statement["root"])
        path = [bytes.fromhex(node) for node in proof.path]
    except (KeyError, TypeError, ValueError):
        return problem("malformed", "the proof's statement or path is not well formed")
    if key is None or key.algorithm != statement.get("algorithm"):
        return problem("unverified", f"signed by key {statement['key']}, which was not given")
    if not key.verify(body, proof.signature):
        return problem("forged", f"the signature does not verify under key {key.key_id}")
    leaf = leaf_hash(proof.case_id, proof.count, proof.head)
    if not verify_inclusion(leaf, proof.index, size, path, root):
        return problem(
            "changed",
            f"the path does not lead from the case's head to the root of checkpoint "
            f"#{statement.get('number')}",
        )
    return []
