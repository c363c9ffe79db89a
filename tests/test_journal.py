"""The journal: sealed, hash-chained entries; tampering found; export, import and replay."""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears import (
    Actor,
    Case,
    Channel,
    Engine,
    JournalCorrupted,
    JournalEntry,
    JournalProblem,
    Money,
    RepaymentPlan,
    SettableClock,
    TransitionDenied,
    instalment_schedule,
)
from arrears.events import replay
from arrears.journal import (
    GENESIS,
    ExportSignature,
    Head,
    canonical_bytes,
    canonical_json,
    read_export,
    read_jsonl,
    seal,
    verify_chain,
    write_jsonl,
)

MakeCase = Callable[..., Case]

T0 = datetime(2026, 10, 1, 1, tzinfo=UTC)


def chain(case_id: str = "C-1", length: int = 5) -> list[JournalEntry]:
    entries: list[JournalEntry] = []
    prev = GENESIS
    for seq in range(length):
        kind = "opened" if seq == 0 else "interaction"
        entry = seal(case_id, seq, T0 + timedelta(minutes=seq), kind, {"n": seq}, prev)
        entries.append(entry)
        prev = entry.hash
    return entries


def found(problems: list[JournalProblem]) -> list[tuple[int, str]]:
    return [(p.position, p.problem) for p in problems]


def edited(entry: JournalEntry, old: bytes, new: bytes) -> JournalEntry:
    """*entry* with *old* replaced by *new* in its body, its recorded hash kept."""
    body = entry.body.replace(old, new)
    assert body != entry.body
    return JournalEntry(entry.case_id, entry.seq, entry.kind, entry.at, body, entry.hash)


def hand_sealed(body: bytes, seq: int = 1, kind: str = "interaction") -> JournalEntry:
    """An entry of C-1 whose body was written by hand and hashed honestly."""
    at = T0 + timedelta(minutes=seq)
    return JournalEntry("C-1", seq, kind, at, body, hashlib.sha256(body).hexdigest())


def short(data: bytes) -> str:
    """The first twelve hex digits of *data*'s SHA-256, as problems quote hashes."""
    return hashlib.sha256(data).hexdigest()[:12]


def run_engine(make_case: MakeCase) -> Engine:
    """An engine with two cases and a varied history."""
    clock = SettableClock(T0)
    engine = Engine(clock=clock)
    engine.open_case(make_case())
    engine.open_case(make_case(id="C-2", balance={"currency": "CNY", "principal": "300.00"}))
    engine.fire("C-1", "notify")
    engine.record_interaction("C-1", "call", "no_answer", contact="p1")
    hold = engine.add_hold("C-1", "dispute", "amount disputed")
    clock.advance(hours=2)
    with pytest.raises(TransitionDenied):
        engine.fire("C-1", "escalate")
    engine.release_hold("C-1", hold.id)
    engine.fire("C-1", "escalate")
    engine.record_notice("C-1", "reminder")
    engine.record_payment("C-1", Money("100.00", "CNY"), reference="TX-1")
    clock.advance(hours=1)
    engine.fire("C-2", "notify")
    first = engine.case("C-2").local_date(clock.now()) + timedelta(days=7)
    plan = RepaymentPlan(
        id="PLAN-C-2",
        kind="extension",
        instalments=instalment_schedule(Money("300.00", "CNY"), first, count=1),
        required_documents=(),
    )
    engine.start_plan("C-2", plan, actor=Actor("agent-7", frozenset({"agent"})))
    engine.record_payment("C-2", Money("300.00", "CNY"))
    return engine


class TestSeal:
    def test_an_exported_line_is_pinned_byte_for_byte(self) -> None:
        """One payment entry's export line and hash, as literals: the format is a promise.

        Keys sorted at every level (``amount`` before ``currency`` inside the
        amount), non-ASCII as itself, the time in UTC with its offset, the
        hash the SHA-256 of the body without it.  An auditor's own tool can
        recompute this line; a change to the encoding breaks every journal.
        """
        data = {
            "reference": "银行-1",
            "amount": {"currency": "CNY", "amount": "50.00"},
            "actor": "agent-7",
            "applied": {"principal": "50.00"},
        }
        entry = seal("L-1", 1, datetime(2026, 9, 2, 1, 30, tzinfo=UTC), "payment", data, GENESIS)
        digest = "743e408da824f97df95df3c8ec2e15ee405da075f9a03e9f7ef6934a38d82f40"
        body = (
            '{"at":"2026-09-02T01:30:00+00:00","case_id":"L-1","data":{"actor":"agent-7",'
            '"amount":{"amount":"50.00","currency":"CNY"},"applied":{"principal":"50.00"},'
            '"reference":"银行-1"},"kind":"payment","prev":"' + GENESIS + '","seq":1}'
        )
        assert entry.body == body.encode()
        assert entry.hash == digest == hashlib.sha256(body.encode()).hexdigest()
        assert entry.to_json_line() == body.replace(
            ',"kind":"payment"', f',"hash":"{digest}","kind":"payment"'
        )

    def test_hash_covers_the_canonical_body(self) -> None:
        """An entry's hash is the SHA-256 of its canonical body: sorted keys, no spaces."""
        entry = seal("C-1", 0, T0, "opened", {"b": 1, "a": "王"}, GENESIS)
        assert entry.hash == hashlib.sha256(entry.body).hexdigest()
        assert (
            entry.body
            == (
                '{"at":"2026-10-01T01:00:00+00:00","case_id":"C-1","data":{"a":"王","b":1},'
                '"kind":"opened","prev":"' + GENESIS + '","seq":0}'
            ).encode()
        )
        assert entry.data == {"a": "王", "b": 1}
        assert entry.prev == GENESIS

    def test_line_form_adds_the_hash(self) -> None:
        """The JSON line is the body plus the hash, canonical."""
        entry = chain()[1]
        line = entry.to_json_line()
        assert orjson.loads(line) == {**orjson.loads(entry.body), "hash": entry.hash}
        assert line == canonical_json(orjson.loads(line))

    def test_a_caller_changing_data_does_not_change_the_export(self) -> None:
        """The line is the sealed body: a host that edits the dict `data` gave it exports the
        entry as it was sealed, never the edit beside the original hash."""
        entry = chain()[1]
        sealed = entry.to_json_line()
        entry.data["forged"] = True
        entry.data.clear()
        assert entry.to_json_line() == sealed
        assert orjson.loads(sealed) == {**orjson.loads(entry.body), "hash": entry.hash}

    def test_each_entry_links_to_the_one_before(self) -> None:
        """Entry n carries the hash of entry n-1; the first carries GENESIS."""
        entries = chain()
        assert entries[0].prev == GENESIS
        for before, after in itertools.pairwise(entries):
            assert after.prev == before.hash

    def test_equality_by_content(self) -> None:
        """Two entries sealed from the same facts are equal; a different fact is not."""
        assert chain()[2] == chain()[2]
        assert chain()[2] != chain("C-2")[2]

    def test_same_hash_over_another_body_is_not_the_same_entry(self) -> None:
        """Equality needs the body too: a recorded hash kept over an edited body differs."""
        entry = chain()[2]
        assert edited(entry, b'"n":2', b'"n":7') != entry
        assert entry != entry.to_json_line()
        assert entry.__eq__(entry.to_json_line()) is NotImplemented

    def test_entries_hash_by_their_hash(self) -> None:
        """Entries key sets and dicts by their hash: equal entries collapse into one."""
        entries = chain()
        assert hash(entries[1]) == hash(entries[1].hash)
        assert len({*entries, *chain()}) == 5

    def test_repr_names_case_seq_kind_and_hash(self) -> None:
        """An entry shows its case, seq, kind and the first twelve digits of its hash."""
        entry = chain()[2]
        assert repr(entry) == f"<JournalEntry C-1#2 interaction {entry.hash[:12]}>"


class TestCanonicalBytes:
    def test_keys_sorted_at_every_level_without_spaces(self) -> None:
        """Object keys sorted at every depth, no white space, non-ASCII as itself."""
        value = {"z": [{"b": 1, "a": None}], "a": {"y": True, "x": "é"}, "m": "王"}
        expected = '{"a":{"x":"é","y":true},"m":"王","z":[{"a":null,"b":1}]}'
        assert canonical_bytes(value) == expected.encode("utf-8")
        assert canonical_json(value) == expected

    def test_money_decimals_enums_and_zones_travel_as_text(self) -> None:
        """The few non-JSON values hosts hand over are written as their text, never as floats."""
        value = {
            "amount": Money("1000.55", "CNY"),
            "rate": Decimal("0.0365"),
            "channel": Channel.SMS,
            "zone": ZoneInfo("Asia/Shanghai"),
        }
        assert canonical_json(value) == (
            '{"amount":"1000.55 CNY","channel":"sms","rate":"0.0365","zone":"Asia/Shanghai"}'
        )

    def test_a_value_that_is_not_json_safe_is_refused_by_name(self) -> None:
        """Anything else is refused, naming its type, rather than written some other way."""
        with pytest.raises(TypeError) as refused:
            canonical_bytes({"seen": {1, 2}})
        assert str(refused.value.__cause__) == "journal data: set is not JSON-safe"
        with pytest.raises(TypeError) as refused:
            seal("C-1", 0, T0, "opened", {"raw": b"\x00"}, GENESIS)
        assert str(refused.value.__cause__) == "journal data: bytes is not JSON-safe"

    def test_seal_writes_host_values_as_text(self) -> None:
        """Money handed to `seal` is sealed as its text."""
        entry = seal("C-1", 0, T0, "payment", {"amount": Decimal("5.00")}, GENESIS)
        assert entry.data == {"amount": "5.00"}


class TestVerifyChain:
    def test_intact_chain(self) -> None:
        """An untouched chain verifies, with or without its head."""
        entries = chain()
        assert verify_chain("C-1", entries) == []
        assert verify_chain("C-1", entries, Head(4, entries[-1].hash)) == []
        assert verify_chain("C-1", [], Head()) == []

    def test_changed_body(self) -> None:
        """An entry whose body was edited after sealing is changed, quoting both hashes."""
        entries = chain()
        original = entries[2]
        entries[2] = edited(original, b'"n":2', b'"n":7')
        assert verify_chain("C-1", entries) == [
            JournalProblem(
                "C-1",
                2,
                "changed",
                f"hash of body is {short(entries[2].body)}, recorded {original.hash[:12]}",
            )
        ]

    def test_changed_body_blames_only_that_entry(self) -> None:
        """Editing one entry's body is reported once, at that entry, not as a later insertion."""
        entries = chain()
        e = entries[2]
        entries[2] = JournalEntry(
            e.case_id, e.seq, e.kind, e.at, e.body.replace(b'"n":2', b'"n":7'), e.hash
        )
        assert found(verify_chain("C-1", entries)) == [(2, "changed")]

    def test_rewritten_and_resealed_entry(self) -> None:
        """An entry rewritten with a fresh hash breaks the link to the next entry."""
        entries = chain()
        entries[2] = seal("C-1", 2, entries[2].at, "interaction", {"n": 7}, entries[1].hash)
        assert [p.position for p in verify_chain("C-1", entries)] == [3]

    def test_indexed_fields_must_match_the_body(self) -> None:
        """An entry whose seq or case outside the body disagrees with the sealed one is changed."""
        disagree = "indexed fields disagree with the sealed body"
        entries = chain()
        e = entries[1]
        entries[1] = JournalEntry(e.case_id, 9, e.kind, e.at, e.body, e.hash)
        assert verify_chain("C-1", entries) == [JournalProblem("C-1", 1, "changed", disagree)]
        entries = chain()
        e = entries[3]
        entries[3] = JournalEntry("C-9", e.seq, e.kind, e.at, e.body, e.hash)
        assert verify_chain("C-1", entries) == [JournalProblem("C-1", 3, "changed", disagree)]

    def test_kind_and_time_columns_must_match_the_body(self) -> None:
        """A store's kind or time column edited beside the sealed body is changed, with both."""
        entries = chain()
        e = entries[2]
        entries[2] = JournalEntry(e.case_id, e.seq, "payment", e.at, e.body, e.hash)
        assert verify_chain("C-1", entries) == [
            JournalProblem(
                "C-1", 2, "changed", "kind column is 'payment', the sealed body says 'interaction'"
            )
        ]
        entries = chain()
        e = entries[3]
        entries[3] = JournalEntry(
            e.case_id, e.seq, e.kind, e.at + timedelta(hours=8), e.body, e.hash
        )
        assert verify_chain("C-1", entries) == [
            JournalProblem(
                "C-1",
                3,
                "changed",
                "at column is 2026-10-01T09:03:00+00:00,"
                " the sealed body says 2026-10-01T01:03:00+00:00",
            )
        ]

    def test_same_moment_in_another_zone_is_not_a_change(self) -> None:
        """The time column compares as a moment: the same instant written in Shanghai time holds."""
        entries = chain()
        e = entries[2]
        shanghai = e.at.astimezone(ZoneInfo("Asia/Shanghai"))
        entries[2] = JournalEntry(e.case_id, e.seq, e.kind, shanghai, e.body, e.hash)
        assert verify_chain("C-1", entries) == []

    @pytest.mark.parametrize(
        "at",
        [b'"at":"yesterday",', b'"at":20261001,', b""],
        ids=["not-a-time", "a-number", "missing"],
    )
    def test_a_sealed_body_without_a_valid_time_is_changed(self, at: bytes) -> None:
        """A body hashed honestly but holding no valid time is changed, and named so."""
        entries = chain(length=3)
        body = entries[1].body.replace(b'"at":"2026-10-01T01:01:00+00:00",', at)
        assert body != entries[1].body
        entries[1] = hand_sealed(body)
        assert verify_chain("C-1", entries) == [
            JournalProblem("C-1", 1, "changed", "the sealed body has no valid time"),
            JournalProblem(
                "C-1",
                2,
                "inserted",
                f"prev is {entries[2].prev[:12]}, the entry before has {entries[1].hash[:12]}",
            ),
        ]

    @pytest.mark.parametrize(
        "body",
        [b"not json", b"[1,2,3]", b'{"seq":1,"prev":"x"}', b'"C-1"'],
        ids=["not-json", "a-list", "no-case", "a-string"],
    )
    def test_a_body_that_is_no_entry_is_changed_and_the_chain_still_walked(
        self, body: bytes
    ) -> None:
        """A garbled entry is reported, and the walk goes on to find the gap it leaves."""
        entries = chain()
        entries[1] = hand_sealed(body)
        assert verify_chain("C-1", entries) == [
            JournalProblem("C-1", 1, "changed", "body is not a journal entry"),
            JournalProblem("C-1", 2, "removed", "seq 1 missing before seq 2"),
        ]

    def test_every_problem_of_a_chain_is_reported(self) -> None:
        """A garbled entry, an edited one and a missing end: all three, not the first only."""
        entries = chain()
        head = Head(5, "f" * 64)
        entries[1] = JournalEntry("C-1", 1, "interaction", entries[1].at, b"not json", "0" * 64)
        original = entries[3]
        entries[3] = edited(original, b'"n":3', b'"n":8')
        assert verify_chain("C-1", entries, head) == [
            JournalProblem("C-1", 1, "changed", "body is not a journal entry"),
            JournalProblem(
                "C-1",
                3,
                "changed",
                f"hash of body is {short(entries[3].body)}, recorded {original.hash[:12]}",
            ),
            JournalProblem("C-1", 2, "removed", "seq 1 missing before seq 2"),
            JournalProblem("C-1", 5, "truncated", "chain ends at seq 4, the store's head is seq 5"),
        ]

    def test_removed_from_the_middle(self) -> None:
        """Deleting entry 2 is reported as removed where the gap is."""
        entries = chain()
        del entries[2]
        assert verify_chain("C-1", entries) == [
            JournalProblem("C-1", 2, "removed", "seq 2 missing before seq 3")
        ]

    def test_several_removed_are_named_as_a_range(self) -> None:
        """Entries 1 to 3 deleted are one gap, named by its first and last seq."""
        entries = chain(length=6)
        del entries[1:4]
        assert verify_chain("C-1", entries) == [
            JournalProblem("C-1", 1, "removed", "seq 1-3 missing before seq 4")
        ]

    def test_first_entry_removed(self) -> None:
        """A chain that starts at seq 1 lost its first entry."""
        entries = chain()
        assert verify_chain("C-1", entries[1:]) == [
            JournalProblem("C-1", 0, "removed", "seq 0 missing before seq 1")
        ]

    def test_truncated_against_the_head(self) -> None:
        """Cutting entries off the end is found only with the recorded head, and then it is."""
        entries = chain()
        head = Head(4, entries[-1].hash)
        assert verify_chain("C-1", entries[:3]) == []
        assert verify_chain("C-1", entries[:3], head) == [
            JournalProblem("C-1", 3, "truncated", "chain ends at seq 2, the store's head is seq 4")
        ]
        assert verify_chain("C-1", entries[:4], head) == [
            JournalProblem("C-1", 4, "truncated", "chain ends at seq 3, the store's head is seq 4")
        ]
        assert verify_chain("C-1", [], head) == [
            JournalProblem("C-1", 0, "truncated", "chain ends at seq -1, the store's head is seq 4")
        ]

    def test_entries_beyond_the_head_are_inserted(self) -> None:
        """Entries after the store's head are inserted, from the first one past it."""
        entries = chain()
        assert verify_chain("C-1", entries, Head(2, entries[2].hash)) == [
            JournalProblem("C-1", 3, "inserted", "seq 3-4 stand after the store's head (seq 2)")
        ]
        assert verify_chain("C-1", entries, Head(3, entries[3].hash)) == [
            JournalProblem("C-1", 4, "inserted", "seq 4-4 stand after the store's head (seq 3)")
        ]

    def test_an_empty_head_is_an_empty_chain(self) -> None:
        """The head of a chain with no entries is seq -1 with the genesis hash."""
        assert Head() == (-1, GENESIS)
        assert verify_chain("C-1", [], Head(-1, GENESIS)) == []

    def test_last_entry_replaced_against_the_head(self) -> None:
        """A last entry resealed with other content no longer matches the head's hash."""
        entries = chain()
        head = Head(4, entries[-1].hash)
        entries[4] = seal("C-1", 4, entries[4].at, "interaction", {"n": 99}, entries[3].hash)
        assert verify_chain("C-1", entries) == []
        assert verify_chain("C-1", entries, head) == [
            JournalProblem(
                "C-1",
                4,
                "changed",
                f"seq 4 has hash {entries[4].hash[:12]}, the store's head {head.hash[:12]}",
            )
        ]

    def test_swapped(self) -> None:
        """Swapping two entries is a reordering at both places, not a removal."""
        entries = chain()
        entries[1], entries[2] = entries[2], entries[1]
        assert verify_chain("C-1", entries) == [
            JournalProblem("C-1", 1, "reordered", "seq 2 stands before seq 1"),
            JournalProblem("C-1", 2, "reordered", "seq 1 stands after seq 2"),
        ]

    def test_swapped_across_a_gap(self) -> None:
        """Entries 1 and 3 exchanged: each one out of place is named, and nothing as removed."""
        entries = chain()
        entries[1], entries[3] = entries[3], entries[1]
        assert verify_chain("C-1", entries, Head(4, entries[4].hash)) == [
            JournalProblem("C-1", 1, "reordered", "seq 3 stands before seq 1-2"),
            JournalProblem("C-1", 2, "reordered", "seq 2 stands after seq 3"),
            JournalProblem("C-1", 3, "reordered", "seq 1 stands after seq 3"),
        ]

    def test_moved_ahead_over_a_gap_is_a_reordering(self) -> None:
        """Seq 3 before seq 2 with seq 1 gone: a skipped entry is still present, so reordered."""
        entries = chain()
        assert verify_chain("C-1", [entries[0], entries[3], entries[2], entries[4]]) == [
            JournalProblem("C-1", 1, "reordered", "seq 3 stands before seq 1-2"),
            JournalProblem("C-1", 2, "reordered", "seq 2 stands after seq 3"),
        ]

    def test_duplicate_seq_is_an_insertion(self) -> None:
        """A second copy of an entry is reported as inserted, at the copy."""
        entries = chain()
        entries.insert(3, entries[2])
        assert verify_chain("C-1", entries) == [
            JournalProblem("C-1", 3, "inserted", "seq 2 appears again (first at 2)")
        ]

    def test_duplicate_and_a_later_swap_are_both_reported(self) -> None:
        """A duplicate does not end the walk: a swap further on is reported too."""
        entries = chain()
        entries.insert(2, entries[1])
        entries[4], entries[5] = entries[5], entries[4]
        assert verify_chain("C-1", entries, Head(4, chain()[4].hash)) == [
            JournalProblem("C-1", 2, "inserted", "seq 1 appears again (first at 1)"),
            JournalProblem("C-1", 4, "reordered", "seq 4 stands before seq 3"),
            JournalProblem("C-1", 5, "reordered", "seq 3 stands after seq 4"),
        ]

    def test_entry_from_another_chain(self) -> None:
        """An entry of another case slipped into the chain is found at its position."""
        entries = chain()
        entries.insert(2, chain("C-2")[2])
        assert verify_chain("C-1", entries) == [
            JournalProblem("C-1", 2, "inserted", "an entry of case 'C-2'")
        ]

    def test_entry_from_another_chain_and_a_duplicate_are_both_reported(self) -> None:
        """A foreign entry does not end the walk: a duplicate after it is reported too."""
        entries = chain()
        entries.insert(2, chain("C-2")[2])
        entries.insert(4, entries[3])
        assert verify_chain("C-1", entries) == [
            JournalProblem("C-1", 2, "inserted", "an entry of case 'C-2'"),
            JournalProblem("C-1", 4, "inserted", "seq 2 appears again (first at 3)"),
        ]

    def test_resealed_entry_linked_elsewhere_is_inserted(self) -> None:
        """A properly sealed entry whose prev is not the hash before it is inserted, with both."""
        entries = chain()
        entries[2] = seal("C-1", 2, entries[2].at, "interaction", {"n": 2}, entries[0].hash)
        assert verify_chain("C-1", entries) == [
            JournalProblem(
                "C-1",
                2,
                "inserted",
                f"prev is {entries[0].hash[:12]}, the entry before has {entries[1].hash[:12]}",
            ),
            JournalProblem(
                "C-1",
                3,
                "inserted",
                f"prev is {chain()[2].hash[:12]}, the entry before has {entries[2].hash[:12]}",
            ),
        ]

    def test_entry_from_another_chain_blames_only_that_entry(self) -> None:
        """Only the foreign entry is reported; the genuine entries after it are not."""
        entries = chain()
        entries.insert(2, chain("C-2")[2])
        assert {p.position for p in verify_chain("C-1", entries)} == {2}

    def test_problem_reads_as_a_sentence(self) -> None:
        """A problem prints with its case, position, kind and detail."""
        problem = JournalProblem("C-1", 2, "removed", "seq 2 missing before seq 3")
        assert str(problem) == "case 'C-1' at 2: removed (seq 2 missing before seq 3)"


class FakeKey:
    """An HMAC-SHA256 key under a chosen name, as `SealKey` asks."""

    algorithm = "hmac-sha256"

    def __init__(self, key_id: str, secret: bytes, algorithm: str = "hmac-sha256") -> None:
        self.key_id = key_id
        self.secret = secret
        self.algorithm = algorithm

    def sign(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def verify(self, message: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(message), signature)


KEY = FakeKey("k-1", b"the auditor's secret")


def exported(*chains: tuple[str, list[JournalEntry]], key: FakeKey | None = None) -> list[str]:
    """The export of *chains*, one string a line, without newlines."""
    out = io.StringIO()
    write_jsonl(chains, out, key)
    return out.getvalue().splitlines()


def resealed(lines: list[str], **changes: object) -> list[str]:
    """*lines* with the seal line's fields changed and its hash recomputed, canonical."""
    fields = orjson.loads(lines[-1])
    fields.pop("hash")
    signature = fields.pop("signature", None)
    fields.update(changes)
    line = {**fields, "hash": hashlib.sha256(canonical_bytes(fields)).hexdigest()}
    if signature is not None:
        line["signature"] = signature
    return [*lines[:-1], canonical_json(line)]


class TestExportFormat:
    def test_the_seal_line_is_pinned(self) -> None:
        """The seal lists each non-empty chain's head and a digest of every hash in file order."""
        one, three = chain(length=2), chain("C-3", 1)
        out = io.StringIO()
        assert write_jsonl([("C-1", one), ("C-2", []), ("C-3", three)], out) == 3
        lines = out.getvalue().split("\n")
        assert lines[:3] == [one[0].to_json_line(), one[1].to_json_line(), three[0].to_json_line()]
        assert lines[4:] == [""]  # one newline after the seal, nothing more
        order = hashlib.sha256((one[0].hash + one[1].hash + three[0].hash).encode()).hexdigest()
        body = (
            f'{{"heads":{{"C-1":[1,"{one[1].hash}"],"C-3":[0,"{three[0].hash}"]}},'
            f'"kind":"journal_seal","order":"{order}"}}'
        )
        digest = hashlib.sha256(body.encode()).hexdigest()
        assert lines[3] == f'{{"hash":"{digest}",' + body[1:]

    def test_a_signed_seal_carries_the_signature_of_what_its_hash_covers(self) -> None:
        """With a key the seal adds its algorithm, key name and its signature of the body."""
        lines = exported(("C-1", chain(length=2)), key=KEY)
        seal_line = orjson.loads(lines[-1])
        signature = seal_line.pop("signature")
        recorded = seal_line.pop("hash")
        body = canonical_bytes(seal_line)
        assert hashlib.sha256(body).hexdigest() == recorded
        assert signature == {"algorithm": "hmac-sha256", "key": "k-1", "value": KEY.sign(body)}
        assert lines[-1] == canonical_json({**seal_line, "hash": recorded, "signature": signature})


def with_signature(lines: list[str], signature: object) -> list[str]:
    """*lines* with *signature* put into the seal line, which stays canonical."""
    return [*lines[:-1], canonical_json({**orjson.loads(lines[-1]), "signature": signature})]


class TestSignedSeal:
    SIGNED = ExportSignature("hmac-sha256", "k-1", True)
    UNCHECKED = ExportSignature("hmac-sha256", "k-1", False)

    def test_verified_with_its_key_alone_or_among_others(self) -> None:
        """The key that signed it checks the signature, given alone or in a list."""
        lines = exported(("C-1", chain(length=2)), key=KEY)
        other = FakeKey("k-2", b"another secret")
        assert read_export(lines, KEY)[1:] == ([], self.SIGNED)
        assert read_export(lines, [other, KEY])[1:] == ([], self.SIGNED)
        assert read_export(lines, (KEY,))[1:] == ([], self.SIGNED)
        assert read_jsonl(lines, KEY)[1] == []

    def test_read_without_a_key_is_returned_unchecked(self) -> None:
        """Without a key a signed export reads, and says its signature was not checked."""
        lines = exported(("C-1", chain(length=2)), key=KEY)
        assert read_export(lines)[1:] == ([], self.UNCHECKED)

    def test_signed_by_another_key(self) -> None:
        """A signature by a key the reader was not given is forged, naming that key."""
        lines = exported(("C-1", chain(length=2)), key=KEY)
        problems, signature = read_export(lines, FakeKey("k-2", b"another secret"))[1:]
        assert problems == [
            JournalProblem("*", 3, "forged", "signed by key k-1, not by the key given")
        ]
        assert signature == self.UNCHECKED

    @pytest.mark.parametrize(
        "reader",
        [FakeKey("k-1", b"a guessed secret"), FakeKey("k-1", KEY.secret, algorithm="ed25519")],
        ids=["other-secret", "other-algorithm"],
    )
    def test_a_signature_that_does_not_verify(self, reader: FakeKey) -> None:
        """A key of the same name whose secret or algorithm differs finds the seal forged."""
        lines = exported(("C-1", chain(length=2)), key=KEY)
        problems, signature = read_export(lines, reader)[1:]
        assert problems == [
            JournalProblem("*", 3, "forged", "the seal's signature does not verify under key k-1")
        ]
        assert signature == self.UNCHECKED

    def test_an_unsigned_seal_read_with_a_key(self) -> None:
        """A reader who asks for a signature is told the seal has none."""
        lines = exported(("C-1", chain(length=2)))
        assert read_export(lines, KEY)[1:] == (
            [JournalProblem("*", 3, "unsigned", "the seal is not signed")],
            None,
        )

    @pytest.mark.parametrize(
        "signature",
        [
            "9f3c",
            {"algorithm": "hmac-sha256", "key": "k-1"},
            {"algorithm": "hmac-sha256", "key": "k-1", "value": "9f3c", "note": "x"},
            {"algorithm": "hmac-sha256", "key": "k-1", "value": 5},
            {"algorithm": "hmac-sha256", "key": None, "value": "9f3c"},
            {"algorithm": ["hmac-sha256"], "key": "k-1", "value": "9f3c"},
        ],
        ids=["text", "no-value", "extra", "value-number", "key-null", "algorithm-list"],
    )
    def test_a_signature_not_well_formed_is_forged(self, signature: object) -> None:
        """A signature that is not three texts is forged, with a key or without."""
        lines = with_signature(exported(("C-1", chain(length=2))), signature)
        forged = [JournalProblem("*", 3, "forged", "the seal's signature is not well formed")]
        assert read_export(lines, KEY)[1:] == (forged, None)
        assert read_export(lines)[1:] == (forged, None)

    def test_a_signature_edited_out_of_canonical_form(self) -> None:
        """A signed seal whose signature was re-encoded with a space is not canonical."""
        lines = exported(("C-1", chain(length=2)), key=KEY)
        lines[-1] = lines[-1].replace('"signature":{"algorithm":', '"signature":{"algorithm": ')
        assert read_export(lines, KEY)[1:] == (
            [JournalProblem("*", 3, "changed", "not in canonical form")],
            None,
        )


class TestJsonLines:
    def test_round_trip(self, make_case: MakeCase) -> None:
        """An export reads back to the same chains, with no problems."""
        engine = run_engine(make_case)
        out = io.StringIO()
        count = engine.export_journal(out)
        assert count == len(engine.history("C-1")) + len(engine.history("C-2"))
        chains, problems = read_jsonl(io.StringIO(out.getvalue()))
        assert problems == []
        assert chains == {
            "C-1": list(engine.history("C-1")),
            "C-2": list(engine.history("C-2")),
        }

    def test_export_ends_with_a_seal_of_every_head(self, make_case: MakeCase) -> None:
        """The last line lists each chain's last seq and hash."""
        engine = run_engine(make_case)
        out = io.StringIO()
        engine.export_journal(out)
        seal_line = orjson.loads(out.getvalue().splitlines()[-1])
        last = engine.history("C-1")[-1]
        assert seal_line["kind"] == "journal_seal"
        assert seal_line["heads"]["C-1"] == [last.seq, last.hash]

    def test_missing_seal(self) -> None:
        """An export cut before its seal line is reported unsealed."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()[:-1]
        _, problems = read_jsonl(lines)
        assert problems == [
            JournalProblem("*", 0, "unsealed", "no seal line: the export is cut short")
        ]

    def test_missing_seal_and_a_broken_chain_are_both_reported(self) -> None:
        """Without a seal the chains are still verified, each problem named."""
        entries = chain()
        del entries[2]
        lines = exported(("C-1", entries))[:-1]
        assert read_jsonl(lines)[1] == [
            JournalProblem("*", 0, "unsealed", "no seal line: the export is cut short"),
            JournalProblem("C-1", 2, "removed", "seq 2 missing before seq 3"),
        ]

    def test_last_entry_cut_off(self) -> None:
        """Dropping the last entry of a chain is found against the seal."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()
        _, problems = read_jsonl([*lines[:-2], lines[-1]])
        assert problems == [
            JournalProblem("C-1", 4, "truncated", "chain ends at seq 3, the store's head is seq 4")
        ]

    def test_whole_chain_removed(self) -> None:
        """Dropping every line of one case is reported against the seal."""
        out = io.StringIO()
        write_jsonl([("C-1", chain()), ("C-2", chain("C-2", 2))], out)
        lines = [line for line in out.getvalue().splitlines() if '"case_id":"C-2"' not in line]
        _, problems = read_jsonl(lines)
        assert problems == [JournalProblem("C-2", 0, "removed", "every entry of the chain")]

    def test_a_chain_the_seal_does_not_list(self) -> None:
        """A chain added to an export is named, though each of its entries holds."""
        lines = exported(("C-1", chain(length=2)))
        added = [entry.to_json_line() for entry in chain("C-2", 2)]
        _, problems = read_jsonl([*lines[:-1], *added, lines[-1]])
        assert problems == [JournalProblem("C-2", 0, "inserted", "a chain the seal does not list")]

    def test_line_after_the_seal(self) -> None:
        """Anything after the seal line is reported as inserted."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()
        _, problems = read_jsonl([*lines, lines[0], lines[-1]])
        assert problems == [
            JournalProblem("*", 7, "inserted", "a line after the seal"),
            JournalProblem("*", 8, "inserted", "a line after the seal"),
        ]

    def test_non_canonical_line(self) -> None:
        """A line re-encoded with spaces is reported even though its data is unchanged."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()
        lines[1] = lines[1].replace(',"kind"', ', "kind"')
        lines[3] = lines[3].replace('"seq":3', '"seq": 3')
        _, problems = read_jsonl(lines)
        assert problems == [
            JournalProblem("C-1", 2, "changed", "not in canonical form"),
            JournalProblem("C-1", 4, "changed", "not in canonical form"),
        ]

    def test_lines_read_with_or_without_their_newline(self) -> None:
        """A line keeps being canonical whether the reader hands it with its newline or not."""
        lines = exported(("C-1", chain()))
        assert read_jsonl(lines)[1] == []
        assert read_jsonl([line + "\n" for line in lines])[1] == []
        assert read_jsonl([line + "\n\n" for line in lines])[1] == [
            *(JournalProblem("C-1", n, "changed", "not in canonical form") for n in range(1, 6)),
            JournalProblem("*", 6, "changed", "not in canonical form"),
        ]

    def test_garbage_line(self) -> None:
        """A line that is not JSON is reported malformed with its line number."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()
        lines.insert(1, "not json")
        lines.insert(3, "[1, 2]")
        lines.insert(5, '{"case_id": "C-1"}')
        _, problems = read_jsonl(lines)
        assert problems == [
            JournalProblem("*", 2, "malformed", "not a journal line"),
            JournalProblem("*", 4, "malformed", "not a journal line"),
            JournalProblem("*", 6, "malformed", "not a journal line"),
        ]

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ('"case_id":"C-1"', '"case_id":7'),
            ('"case_id":"C-1",', ""),
            ('"seq":1', '"seq":"1"'),
            ('"kind":"interaction"', '"kind":null'),
            ('"at":"2026-10-01T01:01:00+00:00"', '"at":"2026-10-01T01:01:00"'),
            ('"at":"2026-10-01T01:01:00+00:00"', '"at":"the first of October"'),
            ('"at":"2026-10-01T01:01:00+00:00"', '"at":1790816460'),
        ],
        ids=["case-number", "no-case", "seq-text", "kind-null", "naive-time", "no-time", "epoch"],
    )
    def test_an_entry_line_with_bad_fields_is_malformed(self, old: str, new: str) -> None:
        """A line whose case, seq, kind or time is missing or of the wrong type is malformed."""
        lines = exported(("C-1", chain(length=2)))
        assert old in lines[1]
        lines[1] = lines[1].replace(old, new)
        _, problems = read_jsonl(lines)
        assert problems == [
            JournalProblem("*", 2, "malformed", "missing or bad fields"),
            JournalProblem("C-1", 1, "truncated", "chain ends at seq 0, the store's head is seq 1"),
        ]

    def test_a_seal_needs_its_kind_and_its_heads(self) -> None:
        """A line of the seal's kind without heads, or with heads and another kind, is no seal."""
        lines = exported(("C-1", chain(length=2)))
        no_heads = '{"hash":"00","kind":"journal_seal","order":"00"}'
        other_kind = '{"hash":"00","heads":{},"kind":"notice","order":"00"}'
        _, problems = read_jsonl([lines[0], no_heads, other_kind, *lines[1:]])
        assert problems == [
            JournalProblem("*", 2, "malformed", "missing or bad fields"),
            JournalProblem("*", 3, "malformed", "missing or bad fields"),
        ]

    def test_an_altered_seal(self) -> None:
        """A seal whose heads were edited, or that gained a field, no longer matches its hash."""
        lines = exported(("C-1", chain(length=2)))
        edited_heads = lines[-1].replace('"heads":{"C-1":[1,', '"heads":{"C-1":[0,')
        assert edited_heads != lines[-1]
        assert read_jsonl([*lines[:-1], edited_heads])[1] == [
            JournalProblem("*", 3, "changed", "the seal was altered"),
            JournalProblem("C-1", 1, "inserted", "seq 1-1 stand after the store's head (seq 0)"),
        ]
        grown = resealed(lines, note="x")
        assert read_jsonl(grown)[1] == [JournalProblem("*", 3, "changed", "the seal was altered")]

    def test_a_seal_not_in_canonical_form(self) -> None:
        """A seal re-encoded with spaces reads, and is reported as not canonical."""
        lines = exported(("C-1", chain(length=2)))
        lines[-1] = lines[-1].replace('"kind":', '"kind": ')
        assert read_jsonl(lines)[1] == [JournalProblem("*", 3, "changed", "not in canonical form")]

    def test_a_seal_whose_heads_are_not_an_object_lists_no_chain(self) -> None:
        """Heads that are not an object, though hashed honestly, list no chain."""
        lines = resealed(exported(("C-1", chain(length=2))), heads=[])
        assert read_jsonl(lines)[1] == [
            JournalProblem("C-1", 0, "inserted", "a chain the seal does not list")
        ]

    def test_lines_in_another_order_with_another_problem(self) -> None:
        """The order digest is reported only when nothing else is: a line after the seal is."""
        lines = exported(("C-1", chain(length=2)), ("C-2", chain("C-2", 2)))
        moved = [lines[0], lines[2], lines[1], lines[3], lines[4]]
        assert read_jsonl(moved)[1] == [
            JournalProblem("*", 5, "reordered", "lines are not in the sealed order")
        ]
        assert read_jsonl([*moved, "x"])[1] == [
            JournalProblem("*", 6, "inserted", "a line after the seal")
        ]


@cache
def export_lines() -> tuple[str, ...]:
    """The export of a small engine's journal (built once)."""
    clock = SettableClock(T0)
    engine = Engine(clock=clock)
    data = {
        "id": "C-1",
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "balance": {"currency": "CNY", "principal": "100.00", "penalty": "5.00"},
        "due_date": "2026-09-01",
    }
    engine.open_case(data)
    engine.fire("C-1", "notify")
    engine.record_interaction("C-1", "sms", "delivered")
    engine.add_hold("C-1", "hardship", "hardship review requested")
    engine.record_payment("C-1", Money("5.00", "CNY"))
    out = io.StringIO()
    engine.export_journal(out)
    return tuple(out.getvalue().splitlines())


class TestTamperingIsAlwaysFound:
    @given(data=st.data())
    def test_any_single_character_change(self, data: st.DataObject) -> None:
        """Changing any one character of any line of an export is reported."""
        lines = list(export_lines())
        number = data.draw(st.integers(0, len(lines) - 1), label="line")
        line = lines[number]
        position = data.draw(st.integers(0, len(line) - 1), label="position")
        replacement = data.draw(
            st.characters(codec="utf-8", exclude_characters="\n\r").filter(
                lambda c: c != line[position]
            ),
            label="replacement",
        )
        lines[number] = line[:position] + replacement + line[position + 1 :]
        _, problems = read_jsonl(lines)
        assert problems

    @given(data=st.data())
    def test_any_deletion_or_swap_of_lines(self, data: st.DataObject) -> None:
        """Deleting a line or swapping two different lines of an export is reported."""
        lines = list(export_lines())
        first = data.draw(st.integers(0, len(lines) - 1), label="first")
        if data.draw(st.booleans(), label="delete"):
            del lines[first]
        else:
            second = data.draw(
                st.integers(0, len(lines) - 1).filter(lambda n: n != first), label="second"
            )
            lines[first], lines[second] = lines[second], lines[first]
        _, problems = read_jsonl(lines)
        assert problems


class TestReplay:
    def test_replay_equals_the_live_case(self, make_case: MakeCase) -> None:
        """Replaying each chain rebuilds stage, holds, balance, notices and version exactly."""
        engine = run_engine(make_case)
        for case_id in ("C-1", "C-2"):
            live = engine.case(case_id)
            assert replay(engine.history(case_id)) == live
            assert live.version == len(engine.history(case_id))
        assert engine.case("C-2").stage == "resolved"
        assert engine.case("C-1").notices == {"reminder": T0 + timedelta(hours=2)}

    def test_replay_of_an_imported_chain(self, make_case: MakeCase) -> None:
        """An export read back replays to the same cases."""
        engine = run_engine(make_case)
        out = io.StringIO()
        engine.export_journal(out)
        chains, _ = read_jsonl(out.getvalue().splitlines())
        assert replay(chains["C-1"]) == engine.case("C-1")

    def test_replay_refuses_a_broken_chain(self) -> None:
        """A chain with an entry missing cannot be replayed."""
        entries = chain()
        del entries[1]
        with pytest.raises(JournalCorrupted) as info:
            replay(entries)
        assert found(list(info.value.problems)) == [(1, "removed")]
        assert "removed" in str(info.value)

    def test_replay_needs_an_opened_entry_first(self) -> None:
        """A chain that does not start with 'opened' cannot be replayed."""
        entries = [seal("C-1", 0, T0, "interaction", {}, GENESIS)]
        with pytest.raises(JournalCorrupted, match="opened"):
            replay(entries)

    def test_replay_of_nothing(self) -> None:
        """An empty chain cannot be replayed."""
        with pytest.raises(JournalCorrupted):
            replay([])
