"""The journal: sealed, hash-chained entries; tampering found; export, import and replay."""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears import (
    Actor,
    Case,
    Engine,
    JournalCorrupted,
    JournalEntry,
    JournalProblem,
    Money,
    SettableClock,
    TransitionDenied,
)
from arrears.events import replay
from arrears.journal import (
    GENESIS,
    Head,
    canonical_json,
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
    engine.fire("C-2", "offer_plan", actor=Actor("agent-7", frozenset({"agent"})))
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


class TestVerifyChain:
    def test_intact_chain(self) -> None:
        """An untouched chain verifies, with or without its head."""
        entries = chain()
        assert verify_chain("C-1", entries) == []
        assert verify_chain("C-1", entries, Head(4, entries[-1].hash)) == []
        assert verify_chain("C-1", [], Head()) == []

    def test_changed_body(self) -> None:
        """An entry whose body was edited after sealing is reported as changed at its position."""
        entries = chain()
        e = entries[2]
        entries[2] = JournalEntry(
            e.case_id, e.seq, e.kind, e.at, e.body.replace(b'"n":2', b'"n":7'), e.hash
        )
        assert (2, "changed") in found(verify_chain("C-1", entries))

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
        """An entry whose seq outside the body disagrees with the sealed one is changed."""
        entries = chain()
        e = entries[1]
        entries[1] = JournalEntry(e.case_id, 9, e.kind, e.at, e.body, e.hash)
        assert found(verify_chain("C-1", entries)) == [(1, "changed")]

    def test_removed_from_the_middle(self) -> None:
        """Deleting entry 2 is reported as removed where the gap is."""
        entries = chain()
        del entries[2]
        assert found(verify_chain("C-1", entries)) == [(2, "removed")]

    def test_truncated_against_the_head(self) -> None:
        """Cutting entries off the end is found only with the recorded head, and then it is."""
        entries = chain()
        head = Head(4, entries[-1].hash)
        assert verify_chain("C-1", entries[:3]) == []
        assert found(verify_chain("C-1", entries[:3], head)) == [(3, "truncated")]
        assert found(verify_chain("C-1", [], head)) == [(0, "truncated")]

    def test_last_entry_replaced_against_the_head(self) -> None:
        """A last entry resealed with other content no longer matches the head's hash."""
        entries = chain()
        head = Head(4, entries[-1].hash)
        entries[4] = seal("C-1", 4, entries[4].at, "interaction", {"n": 99}, entries[3].hash)
        assert verify_chain("C-1", entries) == []
        assert verify_chain("C-1", entries, head) != []

    def test_swapped(self) -> None:
        """Swapping two entries is reported as a reordering."""
        entries = chain()
        entries[1], entries[2] = entries[2], entries[1]
        assert (2, "reordered") in found(verify_chain("C-1", entries))

    def test_duplicate_seq_is_an_insertion(self) -> None:
        """A second copy of an entry is reported as inserted, at the copy."""
        entries = chain()
        entries.insert(3, entries[2])
        assert found(verify_chain("C-1", entries)) == [(3, "inserted")]

    def test_entry_from_another_chain(self) -> None:
        """An entry of another case slipped into the chain is found at its position."""
        entries = chain()
        entries.insert(2, chain("C-2")[2])
        assert (2, "inserted") in found(verify_chain("C-1", entries))

    def test_entry_from_another_chain_blames_only_that_entry(self) -> None:
        """Only the foreign entry is reported; the genuine entries after it are not."""
        entries = chain()
        entries.insert(2, chain("C-2")[2])
        assert {p.position for p in verify_chain("C-1", entries)} == {2}

    def test_problem_reads_as_a_sentence(self) -> None:
        """A problem prints with its case, position, kind and detail."""
        problem = JournalProblem("C-1", 2, "removed", "seq 2 missing before seq 3")
        assert str(problem) == "case 'C-1' at 2: removed (seq 2 missing before seq 3)"


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
        assert ("*", "unsealed") in [(p.case_id, p.problem) for p in problems]

    def test_last_entry_cut_off(self) -> None:
        """Dropping the last entry of a chain is found against the seal."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()
        _, problems = read_jsonl([*lines[:-2], lines[-1]])
        assert [p.problem for p in problems] == ["truncated"]

    def test_whole_chain_removed(self) -> None:
        """Dropping every line of one case is reported against the seal."""
        out = io.StringIO()
        write_jsonl([("C-1", chain()), ("C-2", chain("C-2", 2))], out)
        lines = [line for line in out.getvalue().splitlines() if '"case_id":"C-2"' not in line]
        _, problems = read_jsonl(lines)
        assert [(p.case_id, p.problem) for p in problems] == [("C-2", "removed")]

    def test_line_after_the_seal(self) -> None:
        """Anything after the seal line is reported as inserted."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()
        _, problems = read_jsonl([*lines, lines[0]])
        assert [p.problem for p in problems] == ["inserted"]

    def test_non_canonical_line(self) -> None:
        """A line re-encoded with spaces is reported even though its data is unchanged."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()
        lines[1] = lines[1].replace(',"kind"', ', "kind"')
        _, problems = read_jsonl(lines)
        assert [(p.position, p.problem) for p in problems] == [(2, "changed")]

    def test_garbage_line(self) -> None:
        """A line that is not JSON is reported malformed with its line number."""
        out = io.StringIO()
        write_jsonl([("C-1", chain())], out)
        lines = out.getvalue().splitlines()
        lines.insert(1, "not json")
        _, problems = read_jsonl(lines)
        assert (2, "malformed") in [(p.position, p.problem) for p in problems]


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
