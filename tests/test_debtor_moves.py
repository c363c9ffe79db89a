"""A debtor who moves: `Engine.update_debtor` changes their ``jurisdiction`` or ``residence``
on every case of theirs, one ``debtor_changed`` entry a case, and every contact judged after
it is judged by the rules of the new place."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _postgres import Database
from arrears import Engine, InvalidInput, JournalCorrupted, MemoryStore, Money, SettableClock
from arrears.compliance import Compliance
from arrears.events import apply_entry
from arrears.guards import Actor
from arrears.journal import seal
from arrears.stores import SQLiteStore

# Tuesday 2026-10-13, 10:00 in Boston.
T0 = datetime(2026, 10, 13, 14, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CALL = {"channel": "call", "contact": "mobile"}
#: Massachusetts debtors by the Massachusetts pack (940 CMR 7.04(1)(f): two calls in seven
#: days per debt), every other US debtor by Regulation F alone (seven calls in seven days).
SETS = {"US-MA": ["US-MA"], "US": ["US-RegF"]}


def loan(number: int, debtor: str = "D-1", **where: str | None) -> dict[str, Any]:
    return {
        "id": f"L-{number}",
        "debtor": {"id": debtor, "timezone": "America/New_York", **where},
        "contacts": [{"id": "mobile", "channel": "call", "address": "+16175550100"}],
        "balance": {"currency": "USD", "principal": f"{number}00.00"},
        "due_date": "2026-07-01",
    }


def opened(engine: Engine, *cases: dict[str, Any]) -> Engine:
    """*cases* opened 20 days before T0, each with its validation notice 10 days before."""
    for case in cases:
        engine.open_case(case, at=T0 - 20 * DAY)
        engine.record_notice(case["id"], "validation", at=T0 - 10 * DAY)
    return engine


def memory_engine(*cases: dict[str, Any]) -> Engine:
    engine = Engine(
        store=MemoryStore(), compliance=Compliance(jurisdictions=SETS), clock=SettableClock(T0)
    )
    return opened(engine, *cases)


@pytest.fixture
def engine(any_database: Database) -> Engine:
    """D-1's two loans in Massachusetts, and D-2's loan there too, on each store."""
    made = Engine(
        store=any_database.open(),
        compliance=Compliance(jurisdictions=SETS),
        clock=SettableClock(T0),
    )
    return opened(
        made,
        loan(1, jurisdiction="US-MA"),
        loan(2, jurisdiction="US-MA"),
        loan(3, "D-2", jurisdiction="US-MA"),
    )


def two_calls(engine: Engine, case_id: str) -> None:
    """Two unanswered calls about the case, on the two days before T0."""
    for days in (2, 1):
        engine.record_interaction(
            case_id, "call", "no_answer", contact="mobile", at=T0 - days * DAY
        )


def places(engine: Engine, *case_ids: str) -> list[tuple[str | None, str | None]]:
    return [
        (engine.case(case_id).debtor.jurisdiction, engine.case(case_id).debtor.residence)
        for case_id in case_ids
    ]


class TestMove:
    def test_massachusetts_to_new_york_changes_the_rules_on_every_loan(
        self, engine: Engine
    ) -> None:
        """Two calls this week about loan 2 leave none for Massachusetts (two in seven days
        per debt, 940 CMR 7.04(1)(f)); once the debtor lives in New York, moved by their
        debtor id, Regulation F's seven in seven judges loan 2 (the engine's cached view of
        the debtor's loans, built by the judgment before the move, is not reused)."""
        two_calls(engine, "L-2")
        before = engine.judge_contact("L-2", CALL, at=T0, record=False)
        assert before.rules == ("US-MA",)
        entries = engine.update_debtor(
            "D-1", jurisdiction="US-NY", at=T0, actor=Actor(id="agent-7"), reason="moved"
        )
        assert sorted(entries) == ["L-1", "L-2"]
        for case_id, entry in entries.items():
            assert entry.case_id == case_id
            assert (entry.kind, entry.at) == ("debtor_changed", T0)
            assert entry.data == {
                "actor": "agent-7",
                "jurisdiction": {"from": "US-MA", "to": "US-NY"},
                "reason": "moved",
                "cases": ["L-1", "L-2"],  # every case it is recorded on, for `verify`
            }
            assert engine.history(case_id)[-1] == entry
        assert places(engine, "L-1", "L-2", "L-3") == [
            ("US-NY", None),
            ("US-NY", None),
            ("US-MA", None),  # another debtor's loan stays
        ]
        after = engine.judge_contact("L-2", CALL, at=T0, record=False)
        assert after.allowed, after
        assert engine.compliance.rules_judging(engine.case("L-2")) == (
            engine.compliance.rules_for("US-NY")
        )
        # The other debtor's loan, with the same two calls, is still judged in Massachusetts.
        two_calls(engine, "L-3")
        assert engine.judge_contact("L-3", CALL, at=T0, record=False).rules == ("US-MA",)
        assert engine.verify() == []
        for case_id in ("L-1", "L-2"):
            assert engine.replay(case_id) == engine.case(case_id)

    def test_a_new_engine_on_the_store_reads_the_move(self, tmp_path: Path) -> None:
        """The change is stored with the case: an engine opened on the database later judges
        by the new place too."""
        compliance = Compliance(jurisdictions=SETS)
        with SQLiteStore(tmp_path / "a.db") as store:
            first = Engine(store=store, compliance=compliance, clock=SettableClock(T0))
            opened(first, loan(1, jurisdiction="US-MA"), loan(2, jurisdiction="US-MA"))
            two_calls(first, "L-1")
            first.update_debtor("D-1", jurisdiction="US-NY", at=T0)
        with SQLiteStore(tmp_path / "a.db") as store:
            second = Engine(store=store, compliance=compliance, clock=SettableClock(T0))
            assert places(second, "L-1", "L-2") == [("US-NY", None), ("US-NY", None)]
            assert second.judge_contact("L-1", CALL, at=T0, record=False).allowed
            assert second.verify() == []

    def test_a_move_by_residence(self) -> None:
        """A debtor placed by their address of record alone moves when it does."""
        engine = memory_engine(loan(1, residence="US-MA"), loan(2, residence="US-MA"))
        two_calls(engine, "L-1")
        assert engine.judge_contact("L-1", CALL, at=T0, record=False).rules == ("US-MA",)
        entries = engine.update_debtor("D-1", residence="US-NY", at=T0)
        assert entries["L-1"].data == {
            "actor": "system",
            "residence": {"from": "US-MA", "to": "US-NY"},
            "cases": ["L-1", "L-2"],
        }
        assert places(engine, "L-1", "L-2") == [(None, "US-NY"), (None, "US-NY")]
        assert engine.judge_contact("L-1", CALL, at=T0, record=False).allowed

    def test_a_jurisdiction_no_longer_held_leaves_the_residence(self) -> None:
        """``None`` clears a field: the lender no longer holds the debtor to be in
        Massachusetts, and the address of record in New York picks the rules."""
        case = loan(1, jurisdiction="US-MA", residence="US-NY")
        engine = memory_engine(case)
        two_calls(engine, "L-1")
        assert not engine.judge_contact("L-1", CALL, at=T0, record=False).allowed
        entry = engine.update_debtor("D-1", jurisdiction=None, at=T0)["L-1"]
        assert entry.data["jurisdiction"] == {"from": "US-MA", "to": None}
        assert engine.case("L-1").debtor.effective_jurisdiction == "US-NY"
        assert engine.judge_contact("L-1", CALL, at=T0, record=False).allowed
        assert engine.verify() == []

    def test_both_fields_in_one_entry(self) -> None:
        """A UK debtor moving from England to Scotland: both fields change, one entry."""
        engine = Engine(store=MemoryStore(), compliance=Compliance(["UK"]), clock=SettableClock(T0))
        case = loan(1, jurisdiction="GB-ENG", residence="GB-ENG")
        case["balance"]["currency"] = "GBP"
        engine.open_case(case, at=T0)
        entry = engine.update_debtor("D-1", jurisdiction="GB-SCT", residence="GB-SCT")["L-1"]
        assert entry.data == {
            "actor": "system",
            "jurisdiction": {"from": "GB-ENG", "to": "GB-SCT"},
            "residence": {"from": "GB-ENG", "to": "GB-SCT"},
            "cases": ["L-1"],
        }
        assert [entry.kind for entry in engine.history("L-1")] == ["opened", "debtor_changed"]

    def test_a_move_across_time_zones_moves_the_calling_hours(self) -> None:
        """Boston to Seattle: at 14:00 UTC it is 10:00 in Boston and 07:00 in Seattle.  A
        call allowed before the move is denied after it until 08:00 Seattle time (12 CFR
        1006.6(b)(1)(i): before 8 a.m. at the consumer's location), on both loans; the
        time zone is journaled from and to, and the chains verify."""
        engine = memory_engine(loan(1, jurisdiction="US-MA"), loan(2, jurisdiction="US-MA"))
        assert engine.judge_contact("L-2", CALL, at=T0, record=False).allowed
        entries = engine.update_debtor(
            "D-1", jurisdiction="US-WA", timezone="America/Los_Angeles", at=T0
        )
        assert entries["L-1"].data["timezone"] == {
            "from": "America/New_York",
            "to": "America/Los_Angeles",
        }
        for case_id in ("L-1", "L-2"):
            verdict = engine.judge_contact(case_id, CALL, at=T0, record=False)
            assert "US-TIME" in verdict.rules
            assert verdict.next_allowed_at == datetime(2026, 10, 13, 15, 0, tzinfo=UTC)
            assert str(engine.case(case_id).debtor.timezone) == "America/Los_Angeles"
        assert engine.verify() == []
        assert str(engine.replay("L-2").debtor.timezone) == "America/Los_Angeles"

    def test_an_unknown_time_zone_is_refused(self) -> None:
        engine = memory_engine(loan(1, jurisdiction="US-MA"))
        with pytest.raises(InvalidInput) as err:
            engine.update_debtor("D-1", timezone="America/Springfield", at=T0)
        assert (err.value.field, err.value.value) == ("timezone", "America/Springfield")
        assert len(engine.history("L-1")) == 2

    def test_only_the_loans_that_say_otherwise_change(self) -> None:
        """Loans that disagree: the card already says New York, the car loan Massachusetts,
        so both are judged by the union (the Massachusetts cap on the card too).  The move
        records an entry on the car loan only, and then both are judged in New York."""
        engine = memory_engine(loan(1, jurisdiction="US-NY"), loan(2, jurisdiction="US-MA"))
        two_calls(engine, "L-1")
        assert engine.judge_contact("L-1", CALL, at=T0, record=False).rules == ("US-MA",)
        entries = engine.update_debtor("D-1", jurisdiction="US-NY", at=T0)
        assert list(entries) == ["L-2"]
        assert [entry.kind for entry in engine.history("L-1")][-1] == "interaction"
        assert engine.judge_contact("L-1", CALL, at=T0, record=False).allowed

    def test_a_closed_loan_changes_too(self) -> None:
        """A loan paid off (resolved, terminal) is part of the debtor's record and names a
        place their rules are picked from: it changes with the open one."""
        engine = memory_engine(loan(1, jurisdiction="US-MA"), loan(2, jurisdiction="US-MA"))
        engine.record_payment("L-1", Money("100.00", "USD"), reference="PAY-1", at=T0 - DAY)
        assert engine.case("L-1").stage == "resolved"
        assert sorted(engine.update_debtor("D-1", jurisdiction="US-NY", at=T0)) == ["L-1", "L-2"]
        assert places(engine, "L-1", "L-2") == [("US-NY", None), ("US-NY", None)]
        assert engine.case("L-1").stage == "resolved"
        assert engine.verify() == []


class TestRefused:
    @pytest.mark.parametrize(
        ("given", "field", "value"),
        [
            ({"jurisdiction": "New York"}, "jurisdiction", "New York"),
            ({"jurisdiction": "us-ny"}, "jurisdiction", "us-ny"),
            ({"residence": "USA-NY"}, "residence", "USA-NY"),
            ({"residence": 36}, "residence", "int"),
            ({"jurisdiction": "US-NY", "residence": "US-NEWY"}, "residence", "US-NEWY"),
        ],
    )
    def test_a_code_that_is_not_iso_3166(
        self, engine: Engine, given: dict[str, Any], field: str, value: str
    ) -> None:
        """Checked as the case model checks it, before anything is recorded."""
        with pytest.raises(InvalidInput) as err:
            engine.update_debtor("D-1", **given, at=T0)
        assert (err.value.field, err.value.value) == (field, value)
        assert "ISO 3166" in err.value.expected
        assert places(engine, "L-1", "L-2") == [("US-MA", None), ("US-MA", None)]
        assert [len(engine.history(case_id)) for case_id in ("L-1", "L-2")] == [2, 2]

    def test_a_change_every_loan_has_already(self, engine: Engine) -> None:
        with pytest.raises(InvalidInput) as err:
            engine.update_debtor("D-1", jurisdiction="US-MA", residence=None, at=T0)
        assert (err.value.field, err.value.value) == ("jurisdiction", "US-MA")
        assert "every case of debtor 'D-1' has this already" in err.value.expected
        assert [len(engine.history(case_id)) for case_id in ("L-1", "L-2")] == [2, 2]

    def test_an_unknown_debtor(self, engine: Engine) -> None:
        with pytest.raises(InvalidInput) as err:
            engine.update_debtor("D-404", jurisdiction="US-NY", at=T0)
        assert (err.value.field, err.value.value) == ("debtor_id", "D-404")

    def test_nothing_to_change(self, engine: Engine) -> None:
        with pytest.raises(InvalidInput) as err:
            engine.update_debtor("D-1", at=T0)
        assert err.value.field == "jurisdiction"

    def test_a_reason_too_long_and_a_moment_before_the_last_entry(self, engine: Engine) -> None:
        with pytest.raises(InvalidInput) as err:
            engine.update_debtor("D-1", jurisdiction="US-NY", reason="x" * 501, at=T0)
        assert err.value.field == "reason"
        with pytest.raises(InvalidInput) as err:
            engine.update_debtor("D-1", jurisdiction="US-NY", at=T0 - 11 * DAY)
        assert err.value.field == "at"
        assert places(engine, "L-1", "L-2") == [("US-MA", None), ("US-MA", None)]


class _Locking(MemoryStore):
    """A memory store that says when the debtor is locked and when their cases are read."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def lock_debtors(self, debtor_ids: Iterable[str]) -> None:
        self.calls.append(f"lock {','.join(debtor_ids)}")

    def cases_of(self, debtor_id: str) -> list[str]:
        self.calls.append(f"read {debtor_id}")
        return super().cases_of(debtor_id)


def test_the_debtor_is_held_before_their_loans_are_read() -> None:
    """As every debtor-wide write: a loan another process opens meanwhile is either read,
    or opened after the change with the new place (`lock_debtors`)."""
    store = _Locking()
    engine = Engine(store=store, compliance=Compliance(jurisdictions=SETS), clock=SettableClock(T0))
    opened(engine, loan(1, jurisdiction="US-MA"))
    store.calls.clear()
    engine.update_debtor("D-1", jurisdiction="US-NY", at=T0)
    assert store.calls[:2] == ["lock D-1", "read D-1"]


class TestForged:
    def _forge(self, engine: Engine, data: dict[str, Any]) -> None:
        """Append a ``debtor_changed`` entry sealed as the engine would, its data a forger's."""
        store = engine.store
        head = store.head("L-1")
        entry = seal("L-1", head.seq + 1, T0, "debtor_changed", data, head.hash)
        case = store.get("L-1").model_copy(deep=True)
        with contextlib.suppress(ValueError, KeyError):
            apply_entry(case, "debtor_changed", entry.at, data)
        store.append(entry, case)

    @pytest.mark.parametrize(
        "data",
        [
            # Moved to a place that is no ISO 3166 code.
            {"actor": "x", "jurisdiction": {"from": "US-MA", "to": "New York"}},
            # Moved from a place the debtor was not in.
            {"actor": "x", "jurisdiction": {"from": "US-WA", "to": "US-NY"}},
            {"actor": "x", "residence": {"from": "US-MA", "to": "US-NY"}},
            # Moved nowhere.
            {"actor": "x", "jurisdiction": {"from": "US-MA", "to": "US-MA"}},
            {"actor": "x"},
            # Not a change from one value to another.
            {"actor": "x", "jurisdiction": {"to": "US-NY"}},
            {"actor": "x", "jurisdiction": "US-NY"},
            {"actor": "x", "jurisdiction": {"from": "US-MA", "to": 36}},
            # No actor, or a key the kind does not declare.
            {"jurisdiction": {"from": "US-MA", "to": "US-NY"}},
            {"actor": "x", "jurisdiction": {"from": "US-MA", "to": "US-NY"}, "locale": "en"},
            # A time zone the debtor was not in, or one that does not exist.
            {"actor": "x", "timezone": {"from": "Europe/London", "to": "America/Chicago"}},
            {"actor": "x", "timezone": {"from": "America/New_York", "to": "Mars/Olympus"}},
            {"actor": "x", "timezone": "UTC"},
        ],
    )
    def test_a_forged_entry_is_rejected_by_replay_and_verify(self, data: dict[str, Any]) -> None:
        engine = memory_engine(loan(1, jurisdiction="US-MA"))
        self._forge(engine, data)
        with pytest.raises(JournalCorrupted) as err:
            engine.replay("L-1")
        assert err.value.problems[0].problem == "malformed"
        assert [problem.problem for problem in engine.verify()] == ["malformed"]

    def test_the_same_entry_well_formed_replays(self) -> None:
        """The control of the forgeries: data that fits the case verifies and moves it."""
        engine = memory_engine(loan(1, jurisdiction="US-MA"))
        self._forge(engine, {"actor": "x", "jurisdiction": {"from": "US-MA", "to": "US-NY"}})
        assert engine.verify() == []
        assert engine.replay("L-1").debtor.jurisdiction == "US-NY"

    def test_an_edited_entry_breaks_the_chain(self) -> None:
        """The move undone by editing the recorded entry: its hash no longer covers it."""
        engine = memory_engine(loan(1, jurisdiction="US-MA"))
        engine.update_debtor("D-1", jurisdiction="US-NY", at=T0)
        entry = engine.store.entries("L-1")[-1]
        entry.data["jurisdiction"]["to"] = "US-MA"
        assert engine.verify() != []


CODES = st.sampled_from([None, "US-MA", "US-NY", "US-WA", "US"])
UNCHANGED = st.just(...)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(CODES | UNCHANGED, CODES | UNCHANGED), min_size=1, max_size=6))
def test_every_loan_ends_where_the_last_move_put_it(moves: list[tuple[Any, Any]]) -> None:
    """Whatever the moves: each one is recorded exactly when it changes something, every
    loan of the debtor then carries the same place, the other debtor's none of it, and
    every chain replays to its case."""
    engine = memory_engine(
        loan(1, jurisdiction="US-MA"), loan(2, residence="US-WA"), loan(3, "D-2", residence="US")
    )
    now = {"L-1": ("US-MA", None), "L-2": (None, "US-WA")}
    for jurisdiction, residence in moves:
        want = {
            case_id: (
                old[0] if jurisdiction is ... else jurisdiction,
                old[1] if residence is ... else residence,
            )
            for case_id, old in now.items()
        }
        changed = sorted(case_id for case_id in now if want[case_id] != now[case_id])
        if not changed:
            with pytest.raises(InvalidInput):
                engine.update_debtor("D-1", jurisdiction=jurisdiction, residence=residence)
            continue
        entries = engine.update_debtor("D-1", jurisdiction=jurisdiction, residence=residence)
        assert sorted(entries) == changed
        now = want
        assert places(engine, "L-1", "L-2") == [now["L-1"], now["L-2"]]
    assert places(engine, "L-3") == [(None, "US")]
    assert engine.verify() == []
