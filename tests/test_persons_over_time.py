"""Persons after opening: a ``persons_changed`` entry records who the contacts reach from then
on, the rules judge with the persons as they stand, and the journal holds it as evidence."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from arrears import (
    Engine,
    InvalidInput,
    JournalCorrupted,
    JournalEntry,
    MemoryStore,
    SettableClock,
)
from arrears.compliance import Compliance
from arrears.events import apply_entry
from arrears.journal import seal

# Tuesday 2026-10-13, 10:00 in Boston.
T0 = datetime(2026, 10, 13, 14, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SPOUSE = {"id": "sam", "relationship": "spouse"}
SAM_MOBILE = {"id": "sam-mobile", "channel": "call", "address": "+16175550110", "person": "sam"}
# A collection call that says what it is (12 CFR 1006.18(e)).
ABOUT_THE_DEBT = "This is a debt collector calling about the debt you owe."


def regf_case(**changes: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": "US-1",
        "debtor": {"id": "D-1", "timezone": "America/New_York"},
        "persons": [SPOUSE],
        "contacts": [
            {"id": "mobile", "channel": "call", "address": "+16175550100"},
            SAM_MOBILE,
        ],
        "balance": {"currency": "USD", "principal": "2750.00"},
        "due_date": "2026-07-01",
    }
    case.update(changes)
    return case


def regf_engine(store: MemoryStore | None = None) -> Engine:
    engine = Engine(
        store=store or MemoryStore(), compliance=Compliance(["US-RegF"]), clock=SettableClock(T0)
    )
    engine.open_case(regf_case(), at=T0 - 20 * DAY)
    engine.record_notice("US-1", "validation", at=T0 - 10 * DAY)
    return engine


def call(contact: str, **more: Any) -> dict[str, Any]:
    return {"channel": "call", "contact": contact, "text": ABOUT_THE_DEBT, **more}


class TestADivorce:
    """US-3P, 12 CFR 1006.6(a)(1), (d): the spouse is the consumer; a former spouse is not."""

    def test_the_verdict_changes_at_the_divorce_not_before(self) -> None:
        engine = regf_engine()
        divorced_at = T0 + DAY
        assert engine.judge_contact("US-1", call("sam-mobile"), at=T0).allowed
        engine.update_persons(
            "US-1",
            [{"id": "sam", "relationship": "other"}],
            reason="divorce decree received",
            at=divorced_at,
        )
        after = engine.judge_contact("US-1", call("sam-mobile"), at=divorced_at + HOUR)
        assert after.rules == ("US-3P",)
        # Asking the former spouse where the consumer lives is still allowed, once (1006.10).
        location = {"channel": "call", "contact": "sam-mobile", "purpose": "location"}
        assert engine.judge_contact("US-1", location, at=divorced_at + HOUR).allowed

    def test_the_change_is_journaled_and_replays(self) -> None:
        engine = regf_engine()
        entry = engine.update_persons("US-1", [{"id": "sam", "relationship": "other"}], at=T0 + DAY)
        assert entry.kind == "persons_changed"
        assert entry.data == {
            "persons": [{"id": "sam", "relationship": "other"}],
            "actor": "system",
        }
        case = engine.case("US-1")
        assert case.person("sam") is not None
        assert case.person("sam").relationship == "other"
        assert engine.replay("US-1") == case
        assert engine.verify() == []
        out = io.StringIO()
        engine.export_journal(out)
        rebuilt = Engine.from_journal(out.getvalue().splitlines(), clock=SettableClock(T0))
        assert rebuilt.case("US-1").persons == case.persons


class TestANewPerson:
    def test_an_executor_added_after_the_death_is_the_consumer(self) -> None:
        """1006.6(a)(4): the executor of a deceased consumer's estate is the consumer."""
        engine = regf_engine()
        engine.add_hold("US-1", "deceased", "death certificate received", at=T0)
        executor = {"id": "exe", "relationship": "executor"}
        office = {"id": "exe-office", "channel": "call", "address": "+16175550120", "person": "exe"}
        with pytest.raises(InvalidInput) as unknown:
            engine.judge_contact("US-1", call("exe-office"), at=T0 + HOUR)
        assert unknown.value.field == "contact"
        engine.update_persons(
            "US-1",
            [SPOUSE, executor],
            contacts=[*engine.case("US-1").contacts, office],
            at=T0 + 2 * HOUR,
        )
        assert engine.case("US-1").contact("exe-office").party == "third_party"
        verdict = engine.judge_contact("US-1", call("exe-office"), at=T0 + 3 * HOUR)
        assert "US-3P" not in verdict.rules
        assert engine.replay("US-1") == engine.case("US-1")

    def test_calls_before_a_change_still_count_for_the_person(self) -> None:
        """US-7IN7, 12 CFR 1006.14(b)(2)(i), counts per person: the seven calls placed to the
        spouse before a divorce and a remarriage are still seven calls to that person."""
        engine = regf_engine()
        for hour in range(7):
            engine.record_interaction(
                "US-1", "call", "no_answer", contact="sam-mobile", at=T0 + hour * HOUR
            )
        engine.update_persons("US-1", [{"id": "sam", "relationship": "other"}], at=T0 + 8 * HOUR)
        engine.update_persons("US-1", [SPOUSE], at=T0 + 9 * HOUR)
        verdict = engine.judge_contact("US-1", call("sam-mobile"), at=T0 + DAY)
        assert verdict.rules == ("US-7IN7",)


class TestRefused:
    @pytest.mark.parametrize(
        ("persons", "contacts", "field"),
        [
            ([{"id": "D-1", "relationship": "spouse"}], None, "persons.0.id"),
            ([SPOUSE, SPOUSE], None, "persons.1.id"),
            ([], None, "contacts.1.person"),  # sam keeps a contact point: still a person
            ([{"id": "sam", "relationship": "cousin"}], None, "persons.0.relationship"),
        ],
    )
    def test_a_change_that_is_no_valid_person_set(
        self, persons: list[dict[str, str]], contacts: Any, field: str
    ) -> None:
        engine = regf_engine()
        with pytest.raises(InvalidInput) as err:
            engine.update_persons("US-1", persons, contacts=contacts, at=T0)
        assert err.value.field == field
        assert engine.case("US-1").version == 2
        assert len(engine.store.entries("US-1")) == 2

    def test_a_contact_point_is_kept_with_its_address(self) -> None:
        engine = regf_engine()
        moved = {**SAM_MOBILE, "address": "+16175550999"}
        with pytest.raises(InvalidInput) as err:
            engine.update_persons(
                "US-1", [SPOUSE], contacts=[engine.case("US-1").contact("mobile"), moved], at=T0
            )
        assert err.value.field == "contacts.sam-mobile"
        assert "+16175550999" not in str(err.value)
        with pytest.raises(InvalidInput) as dropped:
            engine.update_persons(
                "US-1", [SPOUSE], contacts=[engine.case("US-1").contact("mobile")], at=T0
            )
        assert dropped.value.field == "contacts"


class TestForged:
    def _forge(self, engine: Engine, data: dict[str, Any]) -> None:
        """Append an entry sealed as the engine would, its data chosen by a forger."""
        store = engine.store
        head = store.head("US-1")
        entry = seal("US-1", head.seq + 1, T0 + DAY, "persons_changed", data, head.hash)
        case = store.get("US-1").model_copy(deep=True)
        # The version is counted before the change is tried.
        with contextlib.suppress(ValueError, KeyError):
            apply_entry(case, "persons_changed", entry.at, data)
        store.append(entry, case)

    @pytest.mark.parametrize(
        "data",
        [
            {"persons": [SPOUSE, SPOUSE], "actor": "system"},
            {"persons": [], "actor": "system"},  # sam-mobile names a person no longer listed
            {"persons": [{"id": "sam", "relationship": "cousin"}], "actor": "system"},
            {"persons": [SPOUSE]},  # no actor
            {"persons": [SPOUSE], "actor": "system", "note": "extra"},
        ],
    )
    def test_a_forged_entry_is_rejected_by_replay_and_verify(self, data: dict[str, Any]) -> None:
        engine = regf_engine()
        self._forge(engine, data)
        with pytest.raises(JournalCorrupted) as err:
            engine.replay("US-1")
        assert err.value.problems[0].problem == "malformed"
        assert [problem.problem for problem in engine.verify()] == ["malformed"]

    def test_the_same_entry_well_formed_replays(self) -> None:
        """The control of the forgeries above: sealed the same way with data that fits the
        case, the entry verifies and changes the relationship (a key signs who sealed it)."""
        engine = regf_engine()
        self._forge(engine, {"persons": [{"id": "sam", "relationship": "other"}], "actor": "x"})
        assert engine.verify() == []
        replayed = engine.replay("US-1").person("sam")
        assert replayed is not None
        assert replayed.relationship == "other"

    def test_a_relationship_changed_in_place_breaks_the_chain(self) -> None:
        """The divorce undone by editing the entry: its hash no longer covers its body."""
        engine = regf_engine()
        engine.update_persons("US-1", [{"id": "sam", "relationship": "other"}], at=T0 + DAY)
        chain: list[JournalEntry] = engine.store._chains["US-1"]  # type: ignore[attr-defined]
        last = chain[-1]
        body = last.body.replace(b'"relationship":"other"', b'"relationship":"spouse"')
        assert body != last.body
        chain[-1] = JournalEntry(last.case_id, last.seq, last.kind, last.at, body, last.hash)
        assert [problem.problem for problem in engine.verify()] == ["changed"]
