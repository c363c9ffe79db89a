"""Any tampering with the journal is found: in an exported file and in the store itself.

One deterministic engine with four cases (CNY and JPY; transitions, refusals,
holds, interactions, a notice, payments and a cure; one case with nothing but
its opening entry) is exported once as JSON Lines.  Hypothesis then changes
single bytes, deletes lines and swaps lines of that export and checks that
reading it back reports a problem and that `Engine.from_journal` refuses it.
The in-store tests edit a `MemoryStore`'s chains directly and check that
`Engine.verify` names the case and the kind of damage.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from arrears import (
    Actor,
    Balance,
    Case,
    Channel,
    ContactPoint,
    Debtor,
    Engine,
    HoldKind,
    JournalCorrupted,
    JournalEntry,
    JournalProblem,
    Money,
    Outcome,
    SettableClock,
    TransitionDenied,
)
from arrears.journal import read_jsonl, seal

START = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
AGENT = Actor("agent-7", frozenset({"agent"}))
OFFICER = Actor("legal-1", frozenset({"legal_officer"}))
SUPERVISOR = Actor("sup-3", frozenset({"supervisor"}))


def _case(case_id: str, currency: str, zone: str, due: date, **amounts: str) -> Case:
    return Case(
        id=case_id,
        debtor=Debtor(id=f"D-{case_id}", timezone=ZoneInfo(zone), locale="zh-CN"),
        contacts=(ContactPoint(id="mobile", channel=Channel.SMS, address="+8613800000009"),),
        balance=Balance(currency=currency, **amounts),
        due_date=due,
    )


def _build_engine() -> Engine:
    """The same journal every time: four cases, a few dozen entries of every kind."""
    clock = SettableClock(START)
    engine = Engine(clock=clock)
    engine.open_case(
        _case(
            "T-CNY-1",
            "CNY",
            "Asia/Shanghai",
            date(2025, 10, 20),
            principal="5000",
            interest="120.50",
            penalty="35",
            not_due="10000",
        )
    )
    engine.open_case(
        _case("T-JPY-2", "JPY", "Asia/Tokyo", date(2025, 12, 1), principal="80000", fees="1500")
    )
    engine.open_case(_case("T-CNY-3", "CNY", "America/New_York", date(2026, 1, 5), fees="80"))
    engine.open_case(
        _case("T-JPY-4", "JPY", "Europe/London", date(2025, 11, 11), principal="20000")
    )

    engine.fire("T-CNY-1", "notify", reason="首次逾期提醒")
    clock.advance(days=1)
    engine.fire("T-CNY-1", "escalate", actor=AGENT)
    hold = engine.add_hold("T-CNY-1", HoldKind.DISPUTE, "债务人书面提出异议")
    with pytest.raises(TransitionDenied):
        engine.fire("T-CNY-1", "escalate", actor=AGENT)
    clock.advance(hours=5)
    engine.release_hold("T-CNY-1", hold.id, actor=SUPERVISOR)
    engine.fire("T-CNY-1", "escalate", actor=AGENT)
    for outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.CONVERSATION):
        clock.advance(minutes=30)
        engine.record_interaction("T-CNY-1", Channel.CALL, outcome, actor=AGENT)
    engine.fire("T-CNY-1", "start_legal", actor=OFFICER)
    engine.record_notice("T-CNY-1", "demand_letter", actor=OFFICER)
    engine.record_payment("T-CNY-1", Money("1000.55", "CNY"), reference="BANK-1")

    engine.fire("T-JPY-2", "notify")
    friday = engine.case("T-JPY-2").local_date(clock.now()) + timedelta(days=3)
    engine.record_promise("T-JPY-2", Money("81500", "JPY"), friday, actor=AGENT)
    clock.advance(days=3)
    engine.record_payment("T-JPY-2", Money("81500", "JPY"), reference="BANK-2")

    with pytest.raises(TransitionDenied):
        engine.fire("T-JPY-4", "offer_plan")
    engine.add_hold(
        "T-JPY-4",
        HoldKind.BREATHING_SPACE,
        "breathing space for sixty days",
        until=clock.now() + timedelta(days=60),
    )
    engine.record_interaction(
        "T-JPY-4", Channel.SMS, Outcome.DELIVERED, contact="mobile", automated=True
    )
    clock.advance(days=2)
    engine.record_interaction("T-JPY-4", Channel.CALL, Outcome.NO_ANSWER, actor=AGENT)
    engine.record_notice("T-JPY-4", "final_notice")
    return engine


def _export(engine: Engine) -> bytes:
    out = io.StringIO()
    engine.export_journal(out)
    return out.getvalue().encode("utf-8")


REFERENCE = _build_engine()
EXPORT = _export(REFERENCE)
LINES: list[bytes] = EXPORT.splitlines(keepends=True)
SEAL_LINE = len(LINES) - 1
CASE_IDS = list(REFERENCE.store.case_ids())
LENGTHS = {case_id: len(REFERENCE.history(case_id)) for case_id in CASE_IDS}
#: The export's line number (from 0) of each case's entries, in order.
LINE_OF: dict[str, list[int]] = {case_id: [] for case_id in CASE_IDS}
for _number, _line in enumerate(LINES[:SEAL_LINE]):
    LINE_OF[json.loads(_line)["case_id"]].append(_number)
#: Every (case, position) of every chain.
POSITIONS = [(case_id, seq) for case_id in CASE_IDS for seq in range(LENGTHS[case_id])]
#: Every (case, position) that is not the chain's last entry.
INNER_POSITIONS = [(case_id, seq) for case_id, seq in POSITIONS if seq < LENGTHS[case_id] - 1]
LONG_CHAINS = [case_id for case_id in CASE_IDS if LENGTHS[case_id] >= 2]
CHAIN_OF_LINE = {number: case_id for case_id, numbers in LINE_OF.items() for number in numbers}


def _keeps_chain_order(first: int, second: int) -> bool:
    """True when swapping lines *first* < *second* leaves each chain's own order as it was."""
    moved = {CHAIN_OF_LINE[first], CHAIN_OF_LINE[second]}
    return len(moved) == 2 and not any(
        CHAIN_OF_LINE[between] in moved for between in range(first + 1, second)
    )


#: Pairs of entry lines from two chains whose exchange no chain notices by itself.
CROSS_CHAIN_SWAPS = [
    (first, second)
    for first in range(SEAL_LINE)
    for second in range(first + 1, SEAL_LINE)
    if _keeps_chain_order(first, second)
]


def _assert_detected(data: bytes) -> None:
    """Reading *data* back must fail: invalid UTF-8, or problems and a refused import."""
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return
    lines = text.splitlines(keepends=True)
    _, problems = read_jsonl(lines)
    assert problems, "the tampered export read back without a problem"
    with pytest.raises(JournalCorrupted):
        Engine.from_journal(lines)


def _without(index: int) -> bytes:
    return b"".join(line for number, line in enumerate(LINES) if number != index)


def _swapped(first: int, second: int) -> bytes:
    lines = list(LINES)
    lines[first], lines[second] = lines[second], lines[first]
    return b"".join(lines)


def _chain(engine: Engine, case_id: str) -> list[JournalEntry]:
    """The store's own list for the case's chain, to tamper with in place."""
    chains: dict[str, list[JournalEntry]] = engine.store._chains  # type: ignore[attr-defined]
    return chains[case_id]


def _forged(entry: JournalEntry) -> JournalEntry:
    """A different entry at the same place, sealed properly over its own body."""
    return seal(
        entry.case_id,
        entry.seq,
        entry.at,
        entry.kind,
        {**entry.data, "note": "added afterwards"},
        entry.prev,
    )


def _problems(engine: Engine, case_id: str) -> list[JournalProblem]:
    """Every problem `verify` reports, checking that each one names *case_id*."""
    problems = engine.verify()
    assert problems, "the tampered chain verified"
    assert {problem.case_id for problem in problems} == {case_id}
    return problems


def _read(data: bytes) -> list[JournalProblem]:
    """The problems reading *data* back reports."""
    return read_jsonl(data.decode("utf-8").splitlines(keepends=True))[1]


class TestUntouchedExport:
    """The export as written reads back whole."""

    def test_export_reads_back_without_problems(self) -> None:
        """Every line of an untouched export verifies and every chain comes back in order."""
        chains, problems = read_jsonl(EXPORT.decode("utf-8").splitlines(keepends=True))
        assert problems == []
        assert list(chains) == sorted(CASE_IDS)  # an export is in case id order
        for case_id in CASE_IDS:
            assert chains[case_id] == list(REFERENCE.history(case_id))

    def test_export_rebuilds_every_case(self) -> None:
        """An engine rebuilt from the untouched export holds the same cases and journal."""
        rebuilt = Engine.from_journal(EXPORT.decode("utf-8").splitlines(keepends=True))
        assert rebuilt.verify() == []
        for case_id in CASE_IDS:
            assert rebuilt.case(case_id).model_dump() == REFERENCE.case(case_id).model_dump()
            assert rebuilt.history(case_id) == REFERENCE.history(case_id)

    def test_journal_covers_every_kind_of_entry(self) -> None:
        """The journal under test holds the kinds of entry a collection day writes."""
        kinds = {entry.kind for case_id in CASE_IDS for entry in REFERENCE.history(case_id)}
        assert kinds == {
            "opened",
            "transition",
            "refusal",
            "hold_added",
            "hold_released",
            "interaction",
            "notice",
            "payment",
            "promise_made",
            "promise_resolved",
        }
        assert min(LENGTHS.values()) == 1
        assert 24 <= sum(LENGTHS.values()) <= 60


def _byte_position(needle: bytes, line: int = 0) -> int:
    """The offset in the export of the first *needle* at or after line *line*."""
    return EXPORT.index(needle, sum(len(previous) for previous in LINES[:line]))


class TestSingleByteChange:
    """Changing any one byte of an export is found."""

    @settings(max_examples=400, deadline=None)
    @given(position=st.integers(0, len(EXPORT) - 1), shift=st.integers(1, 255))
    @example(position=0, shift=1)
    @example(position=len(EXPORT) - 1, shift=ord("\r") - ord("\n"))
    @example(position=len(EXPORT) - 1, shift=ord(" ") - ord("\n"))
    @example(position=len(LINES[0]) - 1, shift=ord("\r") - ord("\n"))
    @example(position=len(LINES[0]) - 1, shift=ord("\x1c") - ord("\n"))
    @example(position=_byte_position("异".encode()) + 2, shift=1)
    @example(position=_byte_position(b'"hash":"', SEAL_LINE) + 8, shift=1)
    @example(position=_byte_position(b'"heads":{"', SEAL_LINE) + 10, shift=1)
    @example(position=_byte_position(b'"seq":', LINE_OF["T-JPY-2"][-1]) + 6, shift=1)
    @example(position=_byte_position(b'"amount":"1000.55"') + 13, shift=1)
    def test_any_changed_byte_is_detected(self, position: int, shift: int) -> None:
        """Any byte of the export replaced by any other value makes the import fail."""
        data = bytearray(EXPORT)
        data[position] = (data[position] + shift) % 256
        _assert_detected(bytes(data))


class TestDeletedLine:
    """Deleting any one line of an export is found."""

    @settings(max_examples=100, deadline=None)
    @given(index=st.integers(0, len(LINES) - 1))
    def test_any_deleted_line_is_detected(self, index: int) -> None:
        """Any entry line or the seal line left out makes the import fail."""
        _assert_detected(_without(index))

    @pytest.mark.parametrize("case_id", CASE_IDS)
    def test_last_entry_of_a_chain_deleted_is_detected(self, case_id: str) -> None:
        """Cutting the newest entry of a chain off is found against the seal's heads."""
        _assert_detected(_without(LINE_OF[case_id][-1]))

    def test_seal_deleted_is_reported_unsealed(self) -> None:
        """An export without its seal line is reported as cut short."""
        data = _without(SEAL_LINE)
        assert _read(data) == [
            JournalProblem("*", 0, "unsealed", "no seal line: the export is cut short")
        ]
        _assert_detected(data)

    def test_whole_chain_deleted_is_reported_removed(self) -> None:
        """A case whose only entry is left out is reported as a removed chain."""
        case_id = next(case_id for case_id in CASE_IDS if LENGTHS[case_id] == 1)
        data = _without(LINE_OF[case_id][0])
        assert _read(data) == [JournalProblem(case_id, 0, "removed", "every entry of the chain")]
        _assert_detected(data)

    def test_entries_deleted_from_two_chains_are_both_reported(self) -> None:
        """A line left out of one chain and the newest of another: each chain names its own."""
        inner, newest = LONG_CHAINS[0], LONG_CHAINS[1]
        lines = list(LINES)
        del lines[LINE_OF[newest][-1]]
        del lines[LINE_OF[inner][1]]
        last = LENGTHS[newest] - 1
        expected = {
            inner: JournalProblem(inner, 1, "removed", "seq 1 missing before seq 2"),
            newest: JournalProblem(
                newest,
                last,
                "truncated",
                f"chain ends at seq {last - 1}, the store's head is seq {last}",
            ),
        }
        assert _read(b"".join(lines)) == [expected[case_id] for case_id in sorted(expected)]


class TestRepeatedLine:
    """Copying any one line of an export to anywhere in it is found."""

    @settings(max_examples=100, deadline=None)
    @given(source=st.integers(0, len(LINES) - 1), target=st.integers(0, len(LINES)))
    def test_any_repeated_line_is_detected(self, source: int, target: int) -> None:
        """Any entry line or the seal line written twice makes the import fail."""
        lines = list(LINES)
        lines.insert(target, LINES[source])
        _assert_detected(b"".join(lines))


class TestSwappedLines:
    """Swapping two lines of an export is found."""

    @settings(max_examples=100, deadline=None)
    @given(data=st.data())
    def test_two_entries_of_one_chain_swapped_are_detected(self, data: st.DataObject) -> None:
        """Two entries of the same chain exchanged make the import fail."""
        case_id = data.draw(st.sampled_from(LONG_CHAINS))
        first, second = data.draw(
            st.lists(st.sampled_from(LINE_OF[case_id]), min_size=2, max_size=2, unique=True)
        )
        _assert_detected(_swapped(first, second))

    @settings(max_examples=100, deadline=None)
    @given(
        pair=st.lists(st.integers(0, len(LINES) - 1), min_size=2, max_size=2, unique=True),
    )
    @example(pair=[LINE_OF[CASE_IDS[0]][-1], LINE_OF[CASE_IDS[1]][0]])
    def test_any_two_lines_swapped_are_detected(self, pair: list[int]) -> None:
        """Any two different lines exchanged make the import fail."""
        _assert_detected(_swapped(*pair))

    @pytest.mark.parametrize(("first", "second"), CROSS_CHAIN_SWAPS)
    def test_lines_of_two_chains_swapped_in_chain_order_are_detected(
        self, first: int, second: int
    ) -> None:
        """Entries of two chains exchanged so that each chain keeps its own order are found."""
        # Regression: each chain still verifies on its own; only the seal's
        # digest of the file's line order tells the export was rearranged.
        data = _swapped(first, second)
        assert _read(data) == [
            JournalProblem("*", SEAL_LINE + 1, "reordered", "lines are not in the sealed order")
        ]
        _assert_detected(data)

    @pytest.mark.parametrize("case_id", [case_id for case_id in CASE_IDS if case_id in LONG_CHAINS])
    def test_seal_swapped_with_an_entry_is_detected(self, case_id: str) -> None:
        """The seal line moved above the newest entry of a chain makes the import fail."""
        _assert_detected(_swapped(LINE_OF[case_id][-1], SEAL_LINE))


class TestTamperingInTheStore:
    """Editing a store's chains in place is found by `Engine.verify`, naming the case and kind."""

    def test_untouched_store_verifies(self) -> None:
        """A freshly built engine verifies clean."""
        assert _build_engine().verify() == []

    @settings(max_examples=60, deadline=None)
    @given(where=st.sampled_from(INNER_POSITIONS))
    def test_resealed_forgery_breaks_the_next_link(self, where: tuple[str, int]) -> None:
        """A replaced, properly sealed entry is found at the link after it, quoting both hashes."""
        case_id, seq = where
        engine = _build_engine()
        chain = _chain(engine, case_id)
        original = chain[seq]
        chain[seq] = _forged(original)
        assert _problems(engine, case_id) == [
            JournalProblem(
                case_id,
                seq + 1,
                "inserted",
                f"prev is {original.hash[:12]}, the entry before has {chain[seq].hash[:12]}",
            )
        ]

    @pytest.mark.parametrize("case_id", CASE_IDS)
    def test_resealed_forgery_of_the_newest_entry_is_changed(self, case_id: str) -> None:
        """A replaced, properly sealed newest entry no longer matches the head and is changed."""
        # Regression: this was reported as 'truncated' although nothing was missing.
        engine = _build_engine()
        chain = _chain(engine, case_id)
        original = chain[-1]
        chain[-1] = _forged(original)
        assert _problems(engine, case_id) == [
            JournalProblem(
                case_id,
                len(chain) - 1,
                "changed",
                f"seq {original.seq} has hash {chain[-1].hash[:12]},"
                f" the store's head {original.hash[:12]}",
            )
        ]

    @settings(max_examples=60, deadline=None)
    @given(where=st.sampled_from(POSITIONS))
    def test_body_edited_in_place_is_changed(self, where: tuple[str, int]) -> None:
        """An entry whose body was edited but whose hash was kept is reported changed."""
        case_id, seq = where
        engine = _build_engine()
        chain = _chain(engine, case_id)
        entry = chain[seq]
        body = entry.body.replace(b'"kind":"', b'"kind":"x', 1)
        assert body != entry.body
        chain[seq] = JournalEntry(entry.case_id, entry.seq, entry.kind, entry.at, body, entry.hash)
        actual = hashlib.sha256(body).hexdigest()
        assert _problems(engine, case_id) == [
            JournalProblem(
                case_id,
                seq,
                "changed",
                f"hash of body is {actual[:12]}, recorded {entry.hash[:12]}",
            )
        ]

    @pytest.mark.parametrize("case_id", CASE_IDS)
    def test_newest_entry_deleted_is_truncated(self, case_id: str) -> None:
        """A chain whose newest entry was cut off is reported truncated."""
        engine = _build_engine()
        del _chain(engine, case_id)[-1]
        last = LENGTHS[case_id] - 1
        assert _problems(engine, case_id) == [
            JournalProblem(
                case_id,
                last,
                "truncated",
                f"chain ends at seq {last - 1}, the store's head is seq {last}",
            )
        ]

    @settings(max_examples=60, deadline=None)
    @given(where=st.sampled_from(INNER_POSITIONS))
    def test_entry_deleted_inside_a_chain_is_removed(self, where: tuple[str, int]) -> None:
        """An entry taken out of the middle of a chain is reported removed where it is missing."""
        case_id, seq = where
        engine = _build_engine()
        del _chain(engine, case_id)[seq]
        assert _problems(engine, case_id) == [
            JournalProblem(case_id, seq, "removed", f"seq {seq} missing before seq {seq + 1}")
        ]

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def test_two_entries_swapped_are_reordered(self, data: st.DataObject) -> None:
        """Two entries of a chain exchanged are reported reordered."""
        case_id = data.draw(st.sampled_from(LONG_CHAINS))
        first, second = sorted(
            data.draw(
                st.lists(st.integers(0, LENGTHS[case_id] - 1), min_size=2, max_size=2, unique=True)
            )
        )
        engine = _build_engine()
        chain = _chain(engine, case_id)
        chain[first], chain[second] = chain[second], chain[first]
        # The later entry now first stands before the ones it skipped; every
        # entry after it up to the swap's other end stands after it.
        skipped = f"seq {first}" if second == first + 1 else f"seq {first}-{second - 1}"
        assert _problems(engine, case_id) == [
            JournalProblem(case_id, first, "reordered", f"seq {second} stands before {skipped}"),
            *(
                JournalProblem(case_id, seq, "reordered", f"seq {seq} stands after seq {second}")
                for seq in range(first + 1, second)
            ),
            JournalProblem(case_id, second, "reordered", f"seq {first} stands after seq {second}"),
        ]

    @settings(max_examples=60, deadline=None)
    @given(where=st.sampled_from(POSITIONS), offset=st.integers(0, 40))
    def test_entry_copied_into_a_chain_is_inserted(
        self, where: tuple[str, int], offset: int
    ) -> None:
        """A copy of an entry placed again later in its chain is reported inserted."""
        case_id, seq = where
        engine = _build_engine()
        chain = _chain(engine, case_id)
        at = seq + 1 + offset % (len(chain) - seq)
        chain.insert(at, chain[seq])
        assert _problems(engine, case_id) == [
            JournalProblem(case_id, at, "inserted", f"seq {seq} appears again (first at {seq})")
        ]

    @settings(max_examples=60, deadline=None)
    @given(where=st.sampled_from(INNER_POSITIONS))
    def test_forgery_sealed_into_the_middle_is_inserted(self, where: tuple[str, int]) -> None:
        """A properly sealed entry slipped in after another is found at the entry it displaced."""
        case_id, seq = where
        engine = _build_engine()
        chain = _chain(engine, case_id)
        previous = chain[seq]
        forged = seal(
            case_id,
            previous.seq + 1,
            previous.at,
            "interaction",
            {"channel": "call", "outcome": "conversation", "actor": "agent-7", "automated": False},
            previous.hash,
        )
        chain.insert(seq + 1, forged)
        displaced = chain[seq + 2]
        # The genuine entry it displaced is a second seq; the link after that
        # (or, at the end, the store's head) no longer matches the forgery.
        if seq + 3 < len(chain):
            broken = JournalProblem(
                case_id,
                seq + 3,
                "inserted",
                f"prev is {displaced.hash[:12]}, the entry before has {forged.hash[:12]}",
            )
        else:
            broken = JournalProblem(
                case_id,
                seq + 2,
                "changed",
                f"seq {seq + 1} has hash {forged.hash[:12]},"
                f" the store's head {displaced.hash[:12]}",
            )
        assert _problems(engine, case_id) == [
            JournalProblem(
                case_id, seq + 2, "inserted", f"seq {seq + 1} appears again (first at {seq + 1})"
            ),
            broken,
        ]

    @pytest.mark.parametrize("case_id", CASE_IDS)
    def test_forgery_appended_after_the_head_is_inserted(self, case_id: str) -> None:
        """A properly sealed entry appended behind the store's back is reported inserted."""
        # Regression: this was reported as 'truncated' although nothing was missing.
        engine = _build_engine()
        chain = _chain(engine, case_id)
        newest = chain[-1]
        chain.append(
            seal(case_id, newest.seq + 1, newest.at, "notice", {"notice": "x"}, newest.hash)
        )
        last = len(chain) - 1
        assert _problems(engine, case_id) == [
            JournalProblem(
                case_id,
                last,
                "inserted",
                f"seq {last}-{last} stand after the store's head (seq {last - 1})",
            )
        ]

    def test_every_problem_of_every_chain_is_reported(self) -> None:
        """A garbled entry, a foreign one, a copy and a swap in two chains: all of them."""
        engine = _build_engine()
        first, second = LONG_CHAINS[0], LONG_CHAINS[1]
        chain = _chain(engine, first)
        garbled = chain[1]
        chain[1] = JournalEntry(first, 1, garbled.kind, garbled.at, b"{}", garbled.hash)
        chain.insert(4, chain[3])
        other = _chain(engine, second)
        foreign = _chain(engine, first)[0]
        other.insert(1, foreign)
        other[3], other[4] = other[4], other[3]
        assert engine.verify() == [
            JournalProblem(first, 1, "changed", "body is not a journal entry"),
            JournalProblem(first, 2, "removed", "seq 1 missing before seq 2"),
            JournalProblem(first, 4, "inserted", "seq 3 appears again (first at 3)"),
            JournalProblem(second, 1, "inserted", f"an entry of case {first!r}"),
            JournalProblem(second, 3, "reordered", "seq 3 stands before seq 2"),
            JournalProblem(second, 4, "reordered", "seq 2 stands after seq 3"),
        ]

    def test_other_chains_still_verify(self) -> None:
        """Tampering with one case's chain leaves every other chain verifying."""
        engine = _build_engine()
        case_id = LONG_CHAINS[0]
        del _chain(engine, case_id)[1]
        assert {problem.case_id for problem in engine.verify()} == {case_id}
        for other in CASE_IDS:
            if other != case_id:
                assert engine.replay(other).model_dump() == engine.case(other).model_dump()
        with pytest.raises(JournalCorrupted):
            engine.replay(case_id)


class TestStoredCaseAgainstItsJournal:
    """`verify` replays every chain that holds and compares it with the stored case."""

    def test_a_stored_case_edited_beside_its_journal_is_changed(self) -> None:
        """Stage set to litigation and principal lowered in the store: named, with the fields."""
        engine = _build_engine()
        case_id = next(iter(engine.store.case_ids()))
        stored = engine.store.get(case_id)
        stored.stage = "legal.litigation"
        stored.balance = stored.balance.model_copy(
            update={"principal": stored.balance.principal / 20}
        )
        problems = engine.verify()
        assert [(p.case_id, p.problem) for p in problems] == [(case_id, "changed")]
        assert "balance, stage" in problems[0].detail
        assert problems[0].position == engine.store.head(case_id).seq

    def test_an_sqlite_row_edited_by_hand_fails_journal_verify(self, tmp_path: Any) -> None:
        """A DBA's UPDATE of ``cases.body``: ``arrears journal verify`` exits 1 naming the case."""
        import sqlite3

        from click.testing import CliRunner

        from arrears.cli import main
        from arrears.stores import SQLiteStore

        path = tmp_path / "arrears.db"
        with SQLiteStore(path) as store:
            engine = Engine(store=store, clock=SettableClock(START))
            engine.open_case(
                _case("LN-1", "CNY", "Asia/Shanghai", date(2026, 1, 1), principal="1000.00")
            )
        runner = CliRunner()
        assert runner.invoke(main, ["journal", "verify", "--db", str(path)]).exit_code == 0
        with sqlite3.connect(path) as db:
            body = json.loads(db.execute("SELECT body FROM cases WHERE id = 'LN-1'").fetchone()[0])
            body["stage"] = "legal.litigation"
            db.execute("UPDATE cases SET body = ? WHERE id = 'LN-1'", (json.dumps(body),))
        result = runner.invoke(main, ["journal", "verify", "--db", str(path)])
        assert result.exit_code == 1
        assert "LN-1" in result.output
        assert "stage" in result.output
