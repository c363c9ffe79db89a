"""Persons after opening: a ``persons_changed`` entry records who the contacts reach from then
on, the rules judge with the persons as they stand, and the journal holds it as evidence."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime, time, timedelta
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
MOBILE = {"id": "mobile", "channel": "call", "address": "+16175550100"}
# A collection call that says what it is (12 CFR 1006.18(e)).
ABOUT_THE_DEBT = (
    "This is a debt collector. This is an attempt to collect a debt, and any information "
    "obtained will be used for that purpose."
)


def regf_case(**changes: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": "US-1",
        "debtor": {"id": "D-1", "timezone": "America/New_York"},
        "persons": [SPOUSE],
        "contacts": [
            MOBILE,
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


def test_a_former_employer_becomes_a_third_party_with_their_points() -> None:
    """The debtor changed jobs: the old employer is recorded as ``other``; their desk phone,
    journaled as the employer's, is a third party's from then on, live and replayed."""
    engine = Engine(
        store=MemoryStore(), compliance=Compliance(["US-RegF"]), clock=SettableClock(T0)
    )
    acme = {"id": "acme", "relationship": "employer"}
    desk = {"id": "acme-desk", "channel": "call", "address": "+16175550130", "person": "acme"}
    engine.open_case(regf_case(persons=[SPOUSE, acme], contacts=[SAM_MOBILE, desk]), at=T0)
    assert engine.case("US-1").contact("acme-desk").party == "employer"
    engine.update_persons("US-1", [SPOUSE, {"id": "acme", "relationship": "other"}], at=T0)
    assert engine.case("US-1").contact("acme-desk").party == "third_party"
    assert engine.replay("US-1") == engine.case("US-1")


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

    @pytest.mark.parametrize(
        ("change", "moved"),
        [
            ({"opted_out": False}, "a new opted_out"),
            ({"consent": True}, "a new consent"),
            ({"work": False}, "a new work"),
            ({"opted_out": False, "consent": True}, "a new consent, opted_out"),
        ],
    )
    def test_a_contact_point_keeps_its_consent_opt_out_and_work(
        self, change: dict[str, bool], moved: str
    ) -> None:
        """An opt-out given at opening is not lifted, nor a consent given, nor a work phone
        made a home one, by restating the contact points with a change of persons: a
        consent is recorded with its scope (record_consent), and an opt-out of a medium
        stands until the consumer gives one (12 CFR 1006.14(h)(1))."""
        engine = Engine(
            store=MemoryStore(), compliance=Compliance(["US-RegF"]), clock=SettableClock(T0)
        )
        mobile = {"id": "mobile", "channel": "call", "address": "+16175550100"}
        mobile |= {"opted_out": True, "work": True}
        engine.open_case(regf_case(contacts=[mobile, SAM_MOBILE]), at=T0 - 20 * DAY)
        engine.record_notice("US-1", "validation", at=T0 - 10 * DAY)
        points = [point.model_dump(mode="json") for point in engine.case("US-1").contacts]
        points[0] |= change
        with pytest.raises(InvalidInput) as err:
            engine.update_persons("US-1", [SPOUSE], contacts=points, at=T0)
        assert (err.value.field, err.value.value) == ("contacts.mobile", moved)
        assert engine.judge_contact("US-1", call("mobile"), at=T0 + HOUR).rules == ("US-MEDIUM",)
        # Whose the point is may change: the spouse's mobile becomes the debtor's own.
        points = [point.model_dump(mode="json") for point in engine.case("US-1").contacts]
        del points[1]["person"], points[1]["party"]
        engine.update_persons("US-1", [SPOUSE], contacts=points, at=T0 + 2 * HOUR)
        assert engine.case("US-1").contact("sam-mobile").party == "debtor"


class TestForged:
    def _forge(self, engine: Engine, data: dict[str, Any], at: datetime = T0 + DAY) -> None:
        """Append an entry sealed as the engine would, its data chosen by a forger."""
        store = engine.store
        head = store.head("US-1")
        entry = seal("US-1", head.seq + 1, at, "persons_changed", data, head.hash)
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
            # The spouse's mobile moved to another number, and an opt-out lifted.
            {
                "persons": [SPOUSE],
                "actor": "x",
                "contacts": [MOBILE, {**SAM_MOBILE, "address": "+16175550999"}],
            },
            {
                "persons": [SPOUSE],
                "actor": "x",
                "contacts": [MOBILE, {**SAM_MOBILE, "consent": True}],
            },
            {"persons": [SPOUSE], "actor": "x", "contacts": [SAM_MOBILE]},  # the debtor's dropped
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

    def test_a_backdated_entry_is_reordered(self) -> None:
        """A third party made the debtor's spouse by an entry sealed after the case's last
        one but dated before it, as if known when the calls were placed: the recorder never
        writes an entry dated before the one before it, so verify and replay refuse it."""
        engine = Engine(
            store=MemoryStore(), compliance=Compliance(["US-RegF"]), clock=SettableClock(T0)
        )
        engine.open_case(regf_case(persons=[{"id": "sam", "relationship": "other"}]), at=T0)
        engine.record_interaction("US-1", "call", "no_answer", contact="sam-mobile", at=T0 + DAY)
        self._forge(engine, {"persons": [SPOUSE], "actor": "x"}, at=T0 + HOUR)
        problems = engine.verify()
        assert [(problem.position, problem.problem) for problem in problems] == [(2, "reordered")]
        assert problems[0].detail == (
            "dated 2026-10-13T15:00:00+00:00, before the entry before it"
            " (2026-10-14T14:00:00+00:00)"
        )
        with pytest.raises(JournalCorrupted):
            engine.replay("US-1")

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


class TestWhatAPersonSays:
    """Whose statement binds what: a person other than the debtor (the spouse, an executor)
    speaks for themselves about media and times; a request to stop binds the consumer."""

    def test_a_spouse_opting_out_of_calls_binds_calls_to_the_spouse_only(self) -> None:
        """12 CFR 1006.14(h)(1): not "with the person if the person has requested"."""
        engine = regf_engine()
        entry = engine.record_opt_out("US-1", "call", person="sam", at=T0)
        assert entry.data == {"channel": "call", "actor": "system", "person": "sam"}
        assert engine.judge_contact("US-1", call("sam-mobile"), at=T0 + HOUR).rules == (
            "US-MEDIUM",
        )
        assert engine.judge_contact("US-1", call("mobile"), at=T0 + HOUR).allowed

    def test_the_debtors_own_opt_out_of_calls_still_binds_every_call(self) -> None:
        engine = regf_engine()
        engine.record_opt_out("US-1", "call", at=T0)
        assert engine.judge_contact("US-1", call("mobile"), at=T0 + HOUR).rules == ("US-MEDIUM",)
        assert engine.judge_contact("US-1", call("sam-mobile"), at=T0 + HOUR).rules == (
            "US-MEDIUM",
        )

    def test_an_opt_out_at_the_spouses_number_names_the_spouse(self) -> None:
        engine = regf_engine()
        entry = engine.record_opt_out("US-1", "call", contact="sam-mobile", at=T0)
        assert entry.data["person"] == "sam"
        with pytest.raises(InvalidInput) as err:
            engine.record_opt_out("US-1", "call", contact="mobile", person="sam", at=T0)
        assert err.value.field == "person"
        with pytest.raises(InvalidInput) as unknown:
            engine.record_opt_out("US-1", "call", person="kim", at=T0)
        assert (unknown.value.field, unknown.value.value) == ("person", "kim")

    def test_a_time_inconvenient_to_the_spouse_binds_calls_to_the_spouse(self) -> None:
        """1006.6(b)(1)(i): not at a time "inconvenient to the consumer" communicated with."""
        engine = regf_engine()
        engine.record_inconvenient("US-1", time(12, 0), time(14, 0), person="sam", at=T0)
        lunch = datetime(2026, 10, 14, 17, 0, tzinfo=UTC)  # 13:00 in Boston
        denied = engine.judge_contact("US-1", call("sam-mobile"), at=lunch)
        assert denied.rules == ("US-TIME",)
        assert denied.next_allowed_at == datetime(2026, 10, 14, 18, 0, tzinfo=UTC)
        assert engine.judge_contact("US-1", call("mobile"), at=lunch).allowed
        # The debtor's own named times, recorded afterwards, are not the spouse's list.
        engine.record_inconvenient("US-1", time(9, 0), time(10, 0), at=lunch)
        assert engine.contact_history("US-1").inconvenient == ((time(9, 0), time(10, 0)),)
        assert engine.judge_contact("US-1", call("sam-mobile"), at=lunch).rules == ("US-TIME",)
        assert engine.replay("US-1") == engine.case("US-1")

    def test_the_debtors_named_time_binds_calls_to_the_spouse_too(self) -> None:
        engine = regf_engine()
        engine.record_inconvenient("US-1", time(12, 0), time(14, 0), at=T0)
        lunch = datetime(2026, 10, 14, 17, 0, tzinfo=UTC)
        assert engine.judge_contact("US-1", call("mobile"), at=lunch).rules == ("US-TIME",)
        assert engine.judge_contact("US-1", call("sam-mobile"), at=lunch).rules == ("US-TIME",)

    def test_a_written_request_to_stop_from_the_spouse_binds_the_consumer(self) -> None:
        """1006.6(c)(1) with 1006.6(a)(1): the spouse is the consumer, and "the consumer"
        is not contacted further: read to protect, the debtor is not either."""
        engine = regf_engine()
        engine.add_hold("US-1", "cease", "the spouse asked in writing to stop", written=True, at=T0)
        assert engine.judge_contact("US-1", call("mobile"), at=T0 + HOUR).rules == ("US-CEASE",)
        assert engine.judge_contact("US-1", call("sam-mobile"), at=T0 + HOUR).rules == ("US-CEASE",)


def test_a_contact_persons_refusal_of_a_medium_binds_each_of_their_points() -> None:
    """CN-THIRD-PARTY: a contact person who refuses further contact is not contacted again,
    at any of their points; the debtor's other contact persons still may be."""
    now = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    case = {
        "id": "CN-1",
        "debtor": {"id": "CN-D", "timezone": "Asia/Shanghai"},
        "persons": [
            {"id": "bro", "relationship": "contact_person"},
            {"id": "aunt", "relationship": "contact_person"},
        ],
        "contacts": [
            {"id": "mobile", "channel": "call", "address": "+8613812345678"},
            {"id": "bro-1", "channel": "call", "address": "+8613987654321", "person": "bro"},
            {"id": "bro-2", "channel": "sms", "address": "+8613987654322", "person": "bro"},
            {"id": "aunt-1", "channel": "call", "address": "+8613987654323", "person": "aunt"},
        ],
        "balance": {"currency": "CNY", "principal": "1200.00"},
        "due_date": "2026-09-10",
    }
    engine = Engine(store=MemoryStore(), compliance=Compliance(["CN"]), clock=SettableClock(now))
    engine.open_case(case, at=now - 10 * DAY)
    for day in range(3):
        engine.record_interaction(
            "CN-1", "call", "no_answer", contact="mobile", at=now - 3 * DAY + day * DAY
        )
    relay = {
        "channel": "call",
        "purpose": "relay",
        "text": "您好，我们是示例消费金融，工号A1024，想请您转告张伟先生尽快回电 400-800-1234。",
    }
    assert engine.judge_contact("CN-1", {**relay, "contact": "bro-1"}, at=now).allowed
    engine.record_opt_out("CN-1", "sms", person="bro", at=now)
    later = now + HOUR
    assert engine.judge_contact("CN-1", {**relay, "contact": "bro-1"}, at=later).rules == (
        "CN-THIRD-PARTY",
    )
    assert engine.judge_contact("CN-1", {**relay, "contact": "aunt-1"}, at=later).allowed
