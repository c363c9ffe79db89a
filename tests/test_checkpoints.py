"""Checkpoints, keys, the Merkle tree, inclusion proofs and signed exports.

The tamper suite against a database writer is ``tests/test_tamper_anchored.py``;
this file checks the pieces: that the tree is RFC 9162's, that every proof of
every leaf holds and a changed one does not, that a checkpoint file whose
lines were removed, edited, forged or re-signed with another key is refused,
that keys load from the files ``openssl`` and ``arrears journal keygen``
write, and that a signed export is told apart from an unsigned or re-signed one.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import Engine, InvalidInput, JournalCorrupted, SettableClock
from arrears.checkpoints import CheckpointLog, append_checkpoint, make_checkpoint, read_checkpoints
from arrears.cli import main
from arrears.journal import read_export, read_jsonl
from arrears.merkle import (
    InclusionProof,
    inclusion_path,
    leaf_hash,
    merkle_root,
    verify_inclusion,
    verify_proof,
)
from arrears.signing import ED25519, HMAC_SHA256, Key, generate_ed25519_key, generate_hmac_key

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_PRIVATE, _PUBLIC = generate_ed25519_key()
SIGNING, VERIFYING = Key.from_bytes(_PRIVATE), Key.from_bytes(_PUBLIC)
HMAC = Key.from_bytes(generate_hmac_key())
OTHER = Key.from_bytes(generate_ed25519_key()[0])


def _rfc_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162's MTH, written as the RFC defines it (split at the largest power of two below n)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    left, right = _rfc_root(leaves[:split]), _rfc_root(leaves[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def _heads(n: int, version: int = 1) -> dict[str, tuple[int, str]]:
    return {
        f"C-{i:04d}": (version + i % 3, hashlib.sha256(f"{i}/{version}".encode()).hexdigest())
        for i in range(n)
    }


def _file(*checkpoints: object) -> list[str]:
    return [checkpoint.to_json_line() + "\n" for checkpoint in checkpoints]  # type: ignore[attr-defined]


class TestMerkleTree:
    @settings(max_examples=60, deadline=None)
    @given(n=st.integers(0, 70))
    def test_the_root_is_rfc_9162s(self, n: int) -> None:
        """The level-by-level root equals the RFC's recursive definition for every size."""
        leaves = [leaf_hash(f"C-{i}", i + 1, "ab" * 32) for i in range(n)]
        assert merkle_root(leaves) == _rfc_root(leaves)

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def test_every_leafs_path_leads_to_the_root_and_no_other_does(
        self, data: st.DataObject
    ) -> None:
        """A leaf's audit path verifies at its index, not at another, nor for another leaf."""
        n = data.draw(st.integers(1, 40))
        index = data.draw(st.integers(0, n - 1))
        leaves = [leaf_hash(f"C-{i}", 1, "cd" * 32) for i in range(n)]
        root = merkle_root(leaves)
        path = inclusion_path(leaves, index)
        assert verify_inclusion(leaves[index], index, n, path, root)
        other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index)) if n > 1 else None
        if other is not None:
            assert not verify_inclusion(leaves[other], index, n, path, root)
            assert not verify_inclusion(leaves[index], other, n, path, root)
        assert not verify_inclusion(leaves[index], index, n, path, hashlib.sha256(root).digest())
        assert not verify_inclusion(leaves[index], n, n, path, root)

    def test_a_leaf_is_the_case_its_count_and_its_head(self) -> None:
        """The leaf hashes 0x00 and the JSON of case id, count and head; nothing else."""
        expected = hashlib.sha256(b'\x00["C-1",3,"' + b"e" * 64 + b'"]').digest()
        assert leaf_hash("C-1", 3, "e" * 64) == expected
        assert leaf_hash("C-1", 4, "e" * 64) != expected

    def test_no_path_for_a_leaf_outside_the_tree(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            inclusion_path([leaf_hash("C-1", 1, "0" * 64)], 1)
        assert refused.value.field == "index"


class TestKeys:
    def test_ed25519_private_signs_public_verifies(self) -> None:
        """The private key signs; the public key (same id) verifies and cannot sign."""
        signature = SIGNING.sign(b"statement")
        assert (SIGNING.algorithm, SIGNING.key_id) == (ED25519, VERIFYING.key_id)
        assert VERIFYING.verify(b"statement", signature)
        assert not VERIFYING.verify(b"statement!", signature)
        assert not OTHER.verify(b"statement", signature)
        assert not VERIFYING.can_sign
        with pytest.raises(InvalidInput):
            VERIFYING.sign(b"statement")

    def test_hmac_signs_and_verifies(self) -> None:
        signature = HMAC.sign(b"statement")
        assert HMAC.algorithm == HMAC_SHA256
        assert HMAC.verify(b"statement", signature)
        assert not HMAC.verify(b"statement", "0" * 64)
        with pytest.raises(InvalidInput) as refused:
            HMAC.public_pem()
        assert refused.value.field == "key"

    def test_keys_openssl_writes_load(self, tmp_path: Path) -> None:
        """Keys from ``openssl genpkey -algorithm ed25519`` and ``openssl rand -hex 32`` load."""
        private, public = tmp_path / "k.pem", tmp_path / "k.pub"
        try:
            subprocess.run(
                ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(private)], check=True
            )
            subprocess.run(
                ["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)], check=True
            )
            secret = subprocess.run(
                ["openssl", "rand", "-hex", "32"], check=True, capture_output=True
            ).stdout
        except FileNotFoundError:
            pytest.skip("no openssl here")
        signer, verifier = Key.from_bytes(private.read_bytes()), Key.from_bytes(public.read_bytes())
        assert signer.key_id == verifier.key_id
        assert verifier.verify(b"x", signer.sign(b"x"))
        assert Key.from_bytes(secret).algorithm == HMAC_SHA256

    @pytest.mark.parametrize(
        "content",
        [
            b"",
            b"not a key",
            b"abcd" * 4,
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ],
        ids=["empty", "text", "short-hmac", "bad-pem"],
    )
    def test_what_is_not_a_key_is_refused_by_name_only(self, content: bytes) -> None:
        with pytest.raises(InvalidInput) as refused:
            Key.from_bytes(content, name="keys/ck.key")
        assert (refused.value.field, refused.value.value) == ("key", "keys/ck.key")
        assert "AAAA" not in str(refused.value)


class TestCheckpointFile:
    def _log(self, lines: list[str], keys: object = VERIFYING) -> CheckpointLog:
        return read_checkpoints(lines, keys)  # type: ignore[arg-type]

    def _three(self) -> list[str]:
        first = make_checkpoint(_heads(20), SIGNING, at=AT)
        log = self._log(_file(first))
        second = make_checkpoint(_heads(21, 2), SIGNING, at=AT, previous=log)
        log = self._log(_file(first, second))
        third = make_checkpoint(_heads(22, 2), SIGNING, at=AT, previous=log)
        return _file(first, second, third)

    def test_lines_fold_into_every_checkpoints_heads(self) -> None:
        """Only changed heads are written; the fold gives each checkpoint's root back."""
        lines = self._three()
        log = self._log(lines)
        assert log.problems == []
        assert [len(cp.heads) for cp in log.checkpoints] == [20, 21, 1]
        for number, heads in ((1, _heads(20)), (2, _heads(21, 2)), (3, _heads(22, 2))):
            anchors = log.anchors(number)
            assert dict(anchors.heads) == heads
            assert anchors.checkpoint.statement["cases"] == len(heads)
        assert log.latest.statement["prev"] == log.checkpoints[1].hash

    def test_a_removed_checkpoint_is_noticed(self) -> None:
        lines = self._three()
        log = self._log([lines[0], lines[2]])
        assert [(p.position, p.problem) for p in log.problems] == [(2, "removed")]
        with pytest.raises(JournalCorrupted):
            log.anchors()

    def test_an_edited_head_is_noticed(self) -> None:
        lines = self._three()
        fields = json.loads(lines[1])
        fields["heads"]["C-0003"][1] = "0" * 64
        lines[1] = json.dumps(fields) + "\n"
        log = self._log(lines)
        # The line is left out of the fold, so the one after it misses its predecessor.
        assert [(p.position, p.problem) for p in log.problems] == [(2, "changed"), (3, "removed")]
        with pytest.raises(JournalCorrupted):
            log.anchors(1)

    def test_a_checkpoint_resigned_by_another_key_is_unverified(self) -> None:
        """A forger who rewrites the file signs with their own key, not the trusted one."""
        forged = make_checkpoint(_heads(20, 9), OTHER, at=AT)
        problems = self._log(_file(forged)).problems
        assert [(p.position, p.problem) for p in problems] == [(1, "unverified")]

    def test_a_signature_that_does_not_hold_is_forged(self) -> None:
        lines = self._three()
        fields = json.loads(lines[2])
        fields["signature"] = fields["signature"][::-1]
        lines[2] = json.dumps(fields) + "\n"
        assert [(p.position, p.problem) for p in self._log(lines).problems] == [(3, "forged")]

    def test_a_malformed_line_is_reported(self) -> None:
        lines = [*self._three(), "{not json\n"]
        assert [(p.position, p.problem) for p in self._log(lines).problems] == [(4, "malformed")]

    def test_hmac_checkpoints_verify_with_the_same_key(self) -> None:
        log = self._log(_file(make_checkpoint(_heads(5), HMAC, at=AT)), HMAC)
        assert log.problems == []
        assert log.latest.statement["algorithm"] == HMAC_SHA256

    def test_a_public_key_cannot_sign_and_a_naive_time_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            make_checkpoint(_heads(2), VERIFYING, at=AT)
        assert refused.value.field == "key"
        with pytest.raises(InvalidInput) as naive:
            make_checkpoint(_heads(2), SIGNING, at=datetime(2026, 3, 2, 9, 0))
        assert naive.value.field == "at"

    def test_a_missing_case_must_be_named_purged(self) -> None:
        log = self._log(_file(make_checkpoint(_heads(3), SIGNING, at=AT)))
        fewer = dict(list(_heads(3).items())[1:])
        with pytest.raises(InvalidInput) as refused:
            make_checkpoint(fewer, SIGNING, at=AT, previous=log)
        assert (refused.value.field, refused.value.value) == ("purged", "C-0000")
        with pytest.raises(InvalidInput):
            make_checkpoint(_heads(3), SIGNING, at=AT, previous=log, purged=["C-0001"])
        kept = make_checkpoint(fewer, SIGNING, at=AT, previous=log, purged=["C-0000"])
        assert kept.purged == ("C-0000",)


class TestInclusionProofs:
    @settings(max_examples=30, deadline=None)
    @given(n=st.integers(1, 40), data=st.data())
    def test_every_case_has_a_proof_an_auditor_can_check(self, n: int, data: st.DataObject) -> None:
        """A proof read back from its JSON holds with the public key and nothing else."""
        log = read_checkpoints(_file(make_checkpoint(_heads(n), SIGNING, at=AT)), VERIFYING)
        case_id = data.draw(st.sampled_from(sorted(_heads(n))))
        proof = InclusionProof.from_json(log.prove(case_id).to_json())
        assert verify_proof(proof, VERIFYING) == []
        assert (proof.count, proof.head) == _heads(n)[case_id]

    def test_a_changed_proof_fails(self) -> None:
        log = read_checkpoints(_file(make_checkpoint(_heads(9), SIGNING, at=AT)), VERIFYING)
        proof = log.prove("C-0004")
        moved = InclusionProof(**{**proof.__dict__, "count": proof.count + 1})
        assert [p.problem for p in verify_proof(moved, VERIFYING)] == ["changed"]
        other_root = {**proof.statement, "root": "0" * 64}
        resigned = InclusionProof(**{**proof.__dict__, "statement": other_root})
        assert [p.problem for p in verify_proof(resigned, VERIFYING)] == ["forged"]
        assert [p.problem for p in verify_proof(proof, OTHER)] == ["unverified"]

    def test_a_case_not_in_the_checkpoint_has_no_proof(self) -> None:
        log = read_checkpoints(_file(make_checkpoint(_heads(3), SIGNING, at=AT)), VERIFYING)
        with pytest.raises(InvalidInput) as refused:
            log.prove("C-9999")
        assert refused.value.field == "case_id"


def _engine() -> Engine:
    engine = Engine(clock=SettableClock(AT))
    for number in range(3):
        engine.open_case(
            {
                "id": f"EX-{number}",
                "debtor": {"id": f"D-{number}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
                "balance": {"currency": "CNY", "principal": "300.00"},
                "due_date": "2026-02-01",
            }
        )
    engine.fire("EX-1", "notify")
    return engine


def _export(engine: Engine, key: Key | None) -> list[str]:
    out = io.StringIO()
    engine.export_journal(out, key)
    return out.getvalue().splitlines(keepends=True)


class TestSignedExport:
    def test_a_signed_export_verifies_with_the_key(self) -> None:
        lines = _export(_engine(), SIGNING)
        chains, problems, signature = read_export(lines, VERIFYING)
        assert problems == []
        assert signature is not None
        assert signature.verified
        assert signature.key_id == VERIFYING.key_id
        assert sorted(chains) == ["EX-0", "EX-1", "EX-2"]
        assert Engine.from_journal(lines, key=VERIFYING).case("EX-1").stage == "notified"

    def test_an_unsigned_export_reads_without_a_key_and_is_refused_with_one(self) -> None:
        """Old exports stay readable; a reader who demands a signature is told it is unsigned."""
        lines = _export(_engine(), None)
        assert read_jsonl(lines)[1] == []
        assert read_export(lines)[2] is None
        with pytest.raises(JournalCorrupted) as refused:
            Engine.from_journal(lines, key=VERIFYING)
        assert [(p.case_id, p.problem) for p in refused.value.problems] == [("*", "unsigned")]

    def test_an_export_rewritten_and_resealed_is_refused(self) -> None:
        """A forger who edits an entry and recomputes every hash and the seal cannot sign it."""
        engine = _engine()
        engine.record_notice("EX-2", "reminder_letter")
        lines = _export(engine, SIGNING)
        honest = read_export(lines, VERIFYING)[0]
        forged_engine = _engine()
        forged_engine.record_notice("EX-2", "final_notice")
        forged = _export(forged_engine, OTHER)
        assert read_export(forged)[1] == []  # reads, the hashes all hold
        _, problems, signature = read_export(forged, VERIFYING)
        assert [(p.case_id, p.problem) for p in problems] == [("*", "forged")]
        assert signature is not None
        assert not signature.verified
        assert honest["EX-2"][-1].data["notice"] == "reminder_letter"

    def test_a_signature_copied_onto_another_seal_is_forged(self) -> None:
        signed = _export(_engine(), SIGNING)
        engine = _engine()
        engine.record_notice("EX-0", "reminder_letter")
        other = _export(engine, None)
        seal = json.loads(other[-1])
        seal["signature"] = json.loads(signed[-1])["signature"]
        other[-1] = (
            json.dumps(seal, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"
        )
        problems = read_export(other, VERIFYING)[1]
        assert [(p.case_id, p.problem) for p in problems] == [("*", "forged")]


class TestCommands:
    def _store(self, tmp_path: Path) -> str:
        from arrears.stores import SQLiteStore

        path = tmp_path / "arrears.db"
        with SQLiteStore(path) as store:
            engine = Engine(store=store, clock=SettableClock(AT))
            engine.open_case(
                {
                    "id": "LN-1",
                    "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
                    "balance": {"currency": "CNY", "principal": "1000.00"},
                    "due_date": "2026-02-01",
                }
            )
            engine.fire("LN-1", "notify")
        return str(path)

    def test_keygen_checkpoint_verify_prove(self, tmp_path: Path) -> None:
        """The whole round: keys, a checkpoint, verify against it, a proof an auditor checks."""
        runner = CliRunner()
        db = self._store(tmp_path)
        prefix = str(tmp_path / "ck")
        made = runner.invoke(main, ["journal", "keygen", "--out", prefix])
        assert made.exit_code == 0, made.output
        assert (tmp_path / "ck.key").stat().st_mode & 0o077 == 0
        assert runner.invoke(main, ["journal", "keygen", "--out", prefix]).exit_code == 2
        file = str(tmp_path / "cp.jsonl")
        taken = runner.invoke(
            main,
            ["journal", "checkpoint", "--db", db, "--checkpoints", file, "--key", f"{prefix}.key"],
        )
        assert taken.exit_code == 0, taken.output
        assert "1 cases, 2 entries" in taken.output
        public = ["--key", f"{prefix}.pub"]
        verified = runner.invoke(
            main, ["journal", "verify", "--db", db, "--checkpoints", file, *public]
        )
        assert verified.exit_code == 0, verified.output
        assert "checkpoint #1 of 2026" in verified.output
        assert "(1 cases anchored, 0 opened since)" in verified.output
        proved = runner.invoke(main, ["journal", "prove", "LN-1", "--checkpoints", file, *public])
        assert proved.exit_code == 0, proved.output
        proof = tmp_path / "proof.json"
        proof.write_text(proved.output, encoding="utf-8")
        checked = runner.invoke(main, ["journal", "verify-proof", str(proof), *public])
        assert checked.exit_code == 0, checked.output
        assert checked.output.startswith("OK: case 'LN-1' had 2 entries")
        other = tmp_path / "other.pub"
        other.write_bytes(OTHER.public_pem())
        refused = runner.invoke(main, ["journal", "verify-proof", str(proof), "--key", str(other)])
        assert refused.exit_code == 1
        assert "unverified" in refused.output
        assert (
            runner.invoke(main, ["journal", "verify", "--db", db, "--checkpoints", file]).exit_code
            == 2
        )
        public_only = runner.invoke(
            main, ["journal", "checkpoint", "--db", db, "--checkpoints", file, *public]
        )
        assert public_only.exit_code == 2

    def test_verify_export_says_unsigned(self, tmp_path: Path) -> None:
        runner = CliRunner()
        db = self._store(tmp_path)
        hmac_prefix = str(tmp_path / "mac")
        assert (
            runner.invoke(main, ["journal", "keygen", "--out", hmac_prefix, "--hmac"]).exit_code
            == 0
        )
        key = f"{hmac_prefix}.hmac"
        unsigned, signed = tmp_path / "unsigned.jsonl", tmp_path / "signed.jsonl"
        unsigned.write_text(runner.invoke(main, ["journal", "export", "--db", db]).output)
        signed.write_text(
            runner.invoke(main, ["journal", "export", "--db", db, "--key", key]).output
        )
        plain = runner.invoke(main, ["journal", "verify-export", str(unsigned)])
        assert plain.exit_code == 0
        assert "; unsigned" in plain.output
        demanded = runner.invoke(main, ["journal", "verify-export", str(unsigned), "--key", key])
        assert demanded.exit_code == 1
        assert "unsigned" in demanded.output
        good = runner.invoke(main, ["journal", "verify-export", str(signed), "--key", key])
        assert good.exit_code == 0
        assert "signed by hmac-sha256 key" in good.output
        assert good.output.rstrip().endswith(", verified")
        unchecked = runner.invoke(main, ["journal", "verify-export", str(signed)])
        assert "not checked (no --key)" in unchecked.output


def test_a_checkpoint_file_is_appended_to(tmp_path: Path) -> None:
    """Each checkpoint is one line at the end; the lines before are left as they were."""
    path = tmp_path / "cp.jsonl"
    first = make_checkpoint(_heads(2), SIGNING, at=AT)
    append_checkpoint(path, first)
    before = path.read_bytes()
    log = read_checkpoints(path.read_text().splitlines(), VERIFYING)
    append_checkpoint(path, make_checkpoint(_heads(2, 2), SIGNING, at=AT, previous=log))
    assert path.read_bytes().startswith(before)
    assert len(path.read_text().splitlines()) == 2
