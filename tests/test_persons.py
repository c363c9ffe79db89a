"""Persons with relationships, counted across their contact points; contacts the person started."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import Case, Engine, InvalidInput, MemoryStore, SettableClock
from arrears.compliance import Compliance, ContactHistory, DebtorHistory
from arrears.scenarios import ScenarioInvalid, load_scenario
from arrears.stores import SQLiteStore

# Monday 2026-10-05, 10:00 in Seattle.
T0 = datetime(2026, 10, 5, 17, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def wa_case(**changes: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": "WA-1",
        "debtor": {"id": "D-1", "timezone": "America/Los_Angeles"},
        "persons": [
            {"id": "pat", "relationship": "spouse"},
            {"id": "lee", "relationship": "contact_person"},
            {"id": "acme", "relationship": "employer"},
        ],
        "contacts": [
            {"id": "mobile", "channel": "sms", "address": "+12065550101"},
            {"id": "pat-mobile", "channel": "sms", "address": "+12065550102", "person": "pat"},
            {"id": "pat-home", "channel": "call", "address": "+12065550103", "person": "pat"},
            {"id": "lee-mobile", "channel": "call", "address": "+12065550104", "person": "lee"},
            {"id": "lee-home", "channel": "call", "address": "+12065550105", "person": "lee"},
            {"id": "acme-desk", "channel": "call", "address": "+12065550106", "person": "acme"},
        ],
        "balance": {"currency": "USD", "principal": "1840.00"},
        "due_date": "2026-07-01",
    }
    case.update(changes)
    return case


def engine_for(packs: list[str], case: dict[str, Any]) -> Engine:
    engine = Engine(store=MemoryStore(), compliance=Compliance(packs), clock=SettableClock(T0))
    engine.open_case(case, at=T0 - 10 * DAY)
    engine.record_notice(case["id"], "validation", at=T0 - 5 * DAY)
    return engine


class TestPersonsOnTheCase:
    def test_party_follows_the_relationship(self) -> None:
        case = Case.model_validate(wa_case())
        parties = {point.id: point.party for point in case.contacts}
        assert parties == {
            "mobile": "debtor",
            "pat-mobile": "third_party",
            "pat-home": "third_party",
            "lee-mobile": "third_party",
            "lee-home": "third_party",
            "acme-desk": "employer",
        }

    def test_a_contradicting_party_is_refused_by_the_engine(self) -> None:
        contacts = [
            {"id": "pat-mobile", "channel": "sms", "address": "+1206555", "person": "pat"},
        ]
        contacts[0]["party"] = "debtor"
        engine = Engine(store=MemoryStore(), compliance=Compliance(["US-WA"]))
        with pytest.raises(InvalidInput) as err:
            engine.open_case(wa_case(contacts=contacts), at=T0)
        assert "contacts.0.party" in str(err.value)
        assert "+1206555" not in str(err.value)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"persons": [{"id": "D-1", "relationship": "spouse"}]}, "persons.0.id"),
            (
                {
                    "persons": [
                        {"id": "pat", "relationship": "spouse"},
                        {"id": "pat", "relationship": "parent"},
                    ],
                    "contacts": [],
                },
                "persons.1.id",
            ),
            (
                {"contacts": [{"id": "x", "channel": "sms", "address": "+1", "person": "kim"}]},
                "contacts.0.person",
            ),
        ],
    )
    def test_unknown_or_repeated_persons_are_refused(
        self, change: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(pydantic.ValidationError) as err:
            Case.model_validate(wa_case(**change))
        assert message in str(err.value)

    def test_a_snapshot_journaled_before_persons_still_loads(self) -> None:
        """An ``opened`` entry written before persons existed: no ``persons``, no ``person``."""
        snapshot = json.dumps(
            {
                "id": "OLD-1",
                "debtor": {"id": "D-9", "name": None, "timezone": None, "locale": "en"},
                "contacts": [
                    {"id": "m", "channel": "call", "address": "+1", "party": "debtor"},
                    {"id": "n", "channel": "call", "address": "+2", "party": "third_party"},
                ],
                "balance": {"currency": "USD", "principal": "10.00"},
                "due_date": "2026-01-31",
                "stage": "pre_due",
            }
        )
        case = Case.model_validate_json(snapshot)
        assert case.persons == ()
        assert [(p.party, p.person) for p in case.contacts] == [
            ("debtor", None),
            ("third_party", None),
        ]


class TestCountingPerPerson:
    def test_washington_counts_debtor_and_spouse_together(self) -> None:
        """RCW 19.16.250(13)(a), "with a debtor or spouse": two texts to the debtor and one to
        the spouse are three; the fourth with either is denied. US-7IN7 counts the spouse on
        their own."""
        engine = engine_for(["US-WA"], wa_case())
        engine.record_interaction("WA-1", "sms", "delivered", contact="mobile", at=T0)
        engine.record_interaction("WA-1", "sms", "delivered", contact="mobile", at=T0 + DAY)
        engine.record_interaction("WA-1", "sms", "delivered", contact="pat-mobile", at=T0 + 2 * DAY)
        at = T0 + 3 * DAY
        for contact in ("mobile", "pat-mobile"):
            verdict = engine.judge_contact("WA-1", {"channel": "sms", "contact": contact}, at=at)
            assert verdict.rules == ("US-WA",), contact
            assert verdict.reasons[0].values["count"] == 4
        # The contact person is no spouse: the Washington count does not judge them.
        verdict = engine.judge_contact(
            "WA-1", {"channel": "call", "contact": "lee-mobile", "purpose": "location"}, at=at
        )
        assert verdict.allowed

    def test_the_spouse_counts_across_their_numbers(self) -> None:
        """A text to the spouse's mobile and a voicemail on their home line are two of theirs."""
        engine = engine_for(["US-WA"], wa_case())
        engine.record_interaction("WA-1", "sms", "delivered", contact="pat-mobile", at=T0)
        engine.record_interaction("WA-1", "call", "voicemail", contact="pat-home", at=T0 + DAY)
        engine.record_interaction("WA-1", "sms", "delivered", contact="mobile", at=T0 + DAY)
        verdict = engine.judge_contact(
            "WA-1", {"channel": "sms", "contact": "pat-mobile"}, at=T0 + 2 * DAY
        )
        assert verdict.rules == ("US-WA",)

    def test_a_third_party_with_two_numbers_is_asked_once(self) -> None:
        """12 CFR 1006.10(c): one location contact per person, whichever number."""
        engine = engine_for(["US-RegF"], wa_case())
        location = {"channel": "call", "contact": "lee-mobile", "purpose": "location"}
        assert engine.judge_contact("WA-1", location, at=T0).allowed
        engine.record_interaction(
            "WA-1", "call", "conversation", contact="lee-mobile", purpose="location", at=T0
        )
        again = engine.judge_contact("WA-1", {**location, "contact": "lee-home"}, at=T0 + 7 * DAY)
        assert again.rules == ("US-3P",)
        # The employer is another person: their one location contact is still open.
        employer = {**location, "contact": "acme-desk"}
        assert engine.judge_contact("WA-1", employer, at=T0 + 7 * DAY).allowed

    def test_the_journal_names_the_person(self) -> None:
        engine = engine_for(["US-RegF"], wa_case())
        entry = engine.record_interaction("WA-1", "call", "no_answer", contact="lee-home", at=T0)
        assert (entry.data["party"], entry.data["person"]) == ("third_party", "lee")
        mine = engine.record_interaction("WA-1", "sms", "delivered", contact="mobile", at=T0)
        assert "person" not in mine.data
        assert "inbound" not in mine.data


class TestRegulationFConsumer:
    @pytest.mark.parametrize(
        ("relationship", "allowed"),
        [
            ("spouse", True),
            ("guardian", True),
            ("executor", False),
            ("administrator", False),
            ("attorney", True),
            ("parent", False),
            ("child", False),
            ("sibling", False),
            ("relative", False),
            ("household", False),
            ("contact_person", False),
            ("debt_adviser", False),
            ("other", False),
        ],
    )
    def test_who_may_be_told_about_the_debt(self, relationship: str, allowed: bool) -> None:
        """1006.6(a)(1)-(4) and 1006.2(e): for 1006.6 the consumer includes the spouse, guardian,
        executor and administrator; 1006.6(d)(1) lets the collector talk to the consumer's
        attorney. A parent of a consumer not known to be a minor is a third party."""
        case = wa_case(
            persons=[{"id": "p", "relationship": relationship}],
            contacts=[{"id": "c", "channel": "call", "address": "+16175550110", "person": "p"}],
            debtor={"id": "D-1", "timezone": "America/New_York"},
        )
        engine = engine_for(["US-RegF"], case)
        text = "This is a debt collector calling about the debt you owe."
        verdict = engine.judge_contact(
            "WA-1", {"channel": "call", "contact": "c", "text": text}, at=T0
        )
        assert verdict.allowed is allowed
        if not allowed:
            assert verdict.rules == ("US-3P",)

    @pytest.mark.parametrize("relationship", ["executor", "administrator"])
    def test_the_estate_is_the_consumer_once_the_consumer_has_died(self, relationship: str) -> None:
        """1006.6(a)(4): "the executor or administrator of the consumer's estate, if the
        consumer is deceased": a third party while the case records no death."""
        case = wa_case(
            persons=[{"id": "p", "relationship": relationship}],
            contacts=[{"id": "c", "channel": "call", "address": "+16175550110", "person": "p"}],
            debtor={"id": "D-1", "timezone": "America/New_York"},
        )
        engine = engine_for(["US-RegF"], case)
        text = "This is a debt collector calling about the debt you owe."
        proposal = {"channel": "call", "contact": "c", "text": text}
        alive = engine.judge_contact("WA-1", proposal, at=T0)
        assert alive.rules == ("US-3P",)
        engine.add_hold("WA-1", "deceased", "probate", at=T0 + DAY)
        assert engine.judge_contact("WA-1", proposal, at=T0 + 2 * DAY).allowed


class TestNewYorkFamilyAndHousehold:
    @pytest.mark.parametrize(
        ("relationship", "counted"),
        [
            ("spouse", True),
            ("parent", True),
            ("child", True),
            ("sibling", True),
            ("relative", True),
            ("household", True),
            ("guardian", False),
            ("attorney", False),
            ("contact_person", False),
            ("other", False),
        ],
    )
    def test_calls_to_family_and_household_count_with_the_debtors(
        self, relationship: str, counted: bool
    ) -> None:
        """GBL 601(6): "the debtor or any member of his family or household". Six calls to
        the debtor and one to the person: the debtor's eighth call of the week is denied
        when the person is family or household, and allowed (the seventh) when not."""
        case = wa_case(
            persons=[{"id": "p", "relationship": relationship}],
            contacts=[
                {"id": "mobile", "channel": "call", "address": "+15185550101"},
                {"id": "c", "channel": "call", "address": "+15185550110", "person": "p"},
            ],
            debtor={"id": "D-1", "timezone": "America/New_York"},
        )
        engine = engine_for(["US-NY"], case)
        for hour in range(6):
            engine.record_interaction(
                "WA-1", "call", "no_answer", contact="mobile", at=T0 + hour * timedelta(hours=1)
            )
        engine.record_interaction("WA-1", "call", "no_answer", contact="c", at=T0 + DAY)
        verdict = engine.judge_contact(
            "WA-1", {"channel": "call", "contact": "mobile"}, at=T0 + DAY + timedelta(hours=1)
        )
        assert ("US-NY-CALLS" in verdict.rules) is counted
        assert verdict.allowed is not counted


class TestInbound:
    def test_an_inbound_call_is_journaled_as_theirs_and_not_counted(self) -> None:
        """1006.14(b)(2)(i) counts calls the collector places: six placed and one the consumer
        made leave a seventh of ours."""
        case = wa_case(
            debtor={"id": "D-1", "timezone": "America/New_York"},
            persons=[],
            contacts=[{"id": "mobile", "channel": "call", "address": "+16175550130"}],
        )
        engine = engine_for(["US-RegF"], case)
        for day in range(6):
            engine.record_interaction(
                "WA-1", "call", "no_answer", contact="mobile", at=T0 + day * DAY
            )
        entry = engine.record_interaction(
            "WA-1", "call", "voicemail", contact="mobile", inbound=True, at=T0 + 5 * DAY
        )
        assert entry.data["inbound"] is True
        history = ContactHistory.from_entries(engine.history("WA-1"))
        assert [a.inbound for a in history.attempts] == [False] * 6 + [True]
        call = {"channel": "call", "contact": "mobile"}
        assert engine.judge_contact("WA-1", call, at=T0 + 6 * DAY).allowed
        engine.record_interaction("WA-1", "call", "no_answer", contact="mobile", at=T0 + 6 * DAY)
        later = engine.judge_contact("WA-1", call, at=T0 + 6 * DAY + timedelta(hours=2))
        assert later.rules == ("US-7IN7",)
        assert later.reasons[0].values["count"] == 8

    @pytest.mark.parametrize("outcome", ["no_answer", "busy", "not_connected", "failed", "unknown"])
    def test_an_inbound_contact_has_an_outcome_of_theirs(self, outcome: str) -> None:
        engine = engine_for(["US-RegF"], wa_case())
        with pytest.raises(InvalidInput) as err:
            engine.record_interaction(
                "WA-1", "call", outcome, contact="mobile", inbound=True, at=T0
            )
        assert err.value.field == "outcome"

    @pytest.mark.parametrize(
        ("ours", "named"),
        [({"automated": True}, "automated"), ({"key": "WA-1:2026-10-05:sms:0"}, "key")],
    )
    def test_a_contact_of_ours_is_not_recorded_as_theirs(
        self, ours: dict[str, Any], named: str
    ) -> None:
        """An autodialed call is placed by the collector, and the result of an outbox message
        (its key) is a message of ours: marked inbound, they would leave every cap."""
        engine = engine_for(["US-RegF"], wa_case())
        with pytest.raises(InvalidInput) as err:
            engine.record_interaction(
                "WA-1", "call", "conversation", contact="mobile", inbound=True, at=T0, **ours
            )
        assert err.value.field == "inbound"
        assert named in str(err.value)
        assert engine.history("WA-1")[-1].kind == "notice"

    def test_inbound_must_be_a_boolean(self) -> None:
        engine = engine_for(["US-RegF"], wa_case())
        with pytest.raises(InvalidInput) as err:
            engine.record_interaction(
                "WA-1",
                "sms",
                "reply",
                contact="mobile",
                inbound="yes",
                at=T0,  # type: ignore[arg-type]
            )
        assert err.value.field == "inbound"


HOUSEHOLD = ("mobile", "pat-mobile")
INBOUND_POINTS = ("mobile", "pat-mobile", "lee-mobile")


@settings(max_examples=40, deadline=None)
@given(
    ours=st.lists(st.sampled_from(HOUSEHOLD), max_size=5),
    theirs=st.lists(st.sampled_from(INBOUND_POINTS), max_size=3),
    lee=st.integers(min_value=0, max_value=3),
)
def test_washington_counts_the_household_as_one_person(
    ours: list[str], theirs: list[str], lee: int
) -> None:
    """Whatever the mix of the debtor's and spouse's numbers, the next communication with either
    is denied exactly when the two already had three of ours this week; contacts they started,
    and those with a contact person, never change that."""
    contacts = wa_case()["contacts"]
    for point in contacts:
        point["channel"] = "sms"
    engine = engine_for(["US-WA"], wa_case(contacts=contacts))
    moment = T0
    for contact in ours:
        engine.record_interaction("WA-1", "sms", "delivered", contact=contact, at=moment)
        moment += timedelta(hours=2)
    for contact in theirs:
        engine.record_interaction(
            "WA-1", "sms", "delivered", contact=contact, inbound=True, at=moment
        )
        moment += timedelta(hours=2)
    for _ in range(lee):
        engine.record_interaction("WA-1", "sms", "delivered", contact="lee-mobile", at=moment)
        moment += timedelta(hours=2)
    at = T0 + 3 * DAY
    for contact in HOUSEHOLD:
        verdict = engine.judge_contact("WA-1", {"channel": "sms", "contact": contact}, at=at)
        assert ("US-WA" in verdict.rules) is (len(ours) >= 3), (ours, theirs, lee, contact)


class TestScenarioKeys:
    def test_a_contact_point_naming_an_unknown_person_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "unknown_person.yaml"
        path.write_text(
            "name: x\n"
            "rules: [US-WA]\n"
            "case:\n"
            "  id: WA-9\n"
            "  currency: USD\n"
            '  balance: "10.00"\n'
            "  due_date: 2026-07-01\n"
            "  persons:\n"
            "    - {id: pat, relationship: spouse}\n"
            "  contacts:\n"
            '    - {id: m, channel: sms, person: kim, address: "+12065550101"}\n'
            "expect:\n"
            "  - {at: 2026-10-05T10:00:00-07:00, contact: {channel: sms, contact: m}, "
            "verdict: allow}\n",
            encoding="utf-8",
        )
        with pytest.raises(ScenarioInvalid) as caught:
            load_scenario(path)
        assert "unknown_person.yaml:11: case.contacts[0].person: no person 'kim'" in str(
            caught.value
        )

    def test_an_unknown_relationship_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "cousin.yaml"
        path.write_text(
            "name: x\n"
            "rules: [US-WA]\n"
            "case:\n"
            "  id: WA-9\n"
            "  currency: USD\n"
            '  balance: "10.00"\n'
            "  due_date: 2026-07-01\n"
            "  persons:\n"
            "    - {id: pat, relationship: cousin}\n"
            "expect:\n"
            "  - {at: 2026-10-05T10:00:00-07:00, contact: {channel: sms, contact: m}, "
            "verdict: allow}\n",
            encoding="utf-8",
        )
        with pytest.raises(ScenarioInvalid) as caught:
            load_scenario(path)
        assert "cousin.yaml:9: case.persons[0].relationship" in str(caught.value)


def test_persons_survive_the_store_and_the_journal(tmp_path: Path) -> None:
    """A case with persons, stored in SQLite and read back, is the replay of its journal;
    the journal's JSON lines rebuild it, persons and the inbound contact included."""
    store = SQLiteStore(tmp_path / "a.db")
    engine = Engine(store=store, compliance=Compliance(["US-WA"]), clock=SettableClock(T0))
    engine.open_case(wa_case(), at=T0 - DAY)
    engine.record_interaction("WA-1", "sms", "reply", contact="pat-mobile", inbound=True, at=T0)
    store.close()
    reopened = SQLiteStore(tmp_path / "a.db")
    again = Engine(store=reopened, compliance=Compliance(["US-WA"]), clock=SettableClock(T0))
    assert again.verify() == []
    case = again.case("WA-1")
    assert case.person("pat") is not None
    assert case.contact("pat-mobile").party == "third_party"
    assert again.replay("WA-1") == case
    out = io.StringIO()
    again.export_journal(out)
    rebuilt = Engine.from_journal(out.getvalue().splitlines(), clock=SettableClock(T0))
    assert rebuilt.case("WA-1").persons == case.persons
    history = rebuilt.contact_history("WA-1")
    assert [(a.person, a.inbound) for a in history.attempts] == [("pat", True)]
    reopened.close()


def test_a_refusal_on_one_loan_binds_the_debtors_other_loans() -> None:
    """CN-THIRD-PARTY: the contact person's refusal is theirs, not a loan's. Seen by a
    debtor history already built (folded in as recorded) and by one built afresh."""
    brother = {"id": "bro", "relationship": "contact_person"}

    def loan(case_id: str, point: str) -> dict[str, Any]:
        return {
            "id": case_id,
            "debtor": {"id": "CN-D", "timezone": "Asia/Shanghai"},
            "persons": [brother],
            "contacts": [
                {"id": "mobile", "channel": "call", "address": "+8613812345678"},
                {"id": point, "channel": "call", "address": "+8613987654321", "person": "bro"},
            ],
            "balance": {"currency": "CNY", "principal": "1200.00"},
            "due_date": "2026-09-10",
        }

    now = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    store = MemoryStore()
    engine = Engine(store=store, compliance=Compliance(["CN"]), clock=SettableClock(now))
    engine.open_case(loan("L-1", "bro-1"), at=now - 10 * DAY)
    engine.open_case(loan("L-2", "bro-2"), at=now - 10 * DAY)
    for day in range(3):
        engine.record_interaction(
            "L-2", "call", "no_answer", contact="mobile", at=now - 3 * DAY + day * DAY
        )
    relay = {
        "channel": "call",
        "contact": "bro-2",
        "purpose": "relay",
        "text": "您好，我们是示例消费金融，工号A1024，想请您转告张伟先生尽快回电 400-800-1234。",
    }
    assert engine.judge_contact("L-2", relay, at=now).allowed
    engine.record_opt_out("L-1", "call", contact="bro-1", at=now + timedelta(hours=1))
    assert engine.judge_contact("L-2", relay, at=now + DAY).rules == ("CN-THIRD-PARTY",)
    fresh = Engine(store=store, compliance=Compliance(["CN"]), clock=SettableClock(now))
    assert fresh.judge_contact("L-2", relay, at=now + 2 * DAY).rules == ("CN-THIRD-PARTY",)


class TestParentOfAMinor:
    """12 CFR 1006.6(a)(2): a parent is the consumer only while the debtor is a minor."""

    @staticmethod
    def engine(overrides: dict[str, Any] | None = None) -> Engine:
        case = {
            "id": "MIN-1",
            "debtor": {"id": "D-9", "timezone": "America/New_York"},
            "persons": [{"id": "mum", "relationship": "parent"}],
            "contacts": [
                {"id": "mum-home", "channel": "call", "address": "+16175550141", "person": "mum"}
            ],
            "balance": {"currency": "USD", "principal": "480.00"},
            "due_date": "2026-07-01",
        }
        compliance = Compliance(["US-RegF"], overrides=overrides or {})
        engine = Engine(store=MemoryStore(), compliance=compliance, clock=SettableClock(T0))
        engine.open_case(case, at=T0 - 10 * DAY)
        engine.record_notice("MIN-1", "validation", at=T0 - 5 * DAY)
        return engine

    @staticmethod
    def denied_by(engine: Engine, at: datetime) -> list[str]:
        proposal = {"channel": "call", "contact": "mum-home", "text": "About the debt."}
        verdict = engine.judge_contact("MIN-1", proposal, at=at)
        return sorted(reason.rule for reason in verdict.reasons)

    def test_the_notice_makes_the_parent_the_consumer_from_its_moment_on(self) -> None:
        engine = self.engine()
        assert self.denied_by(engine, T0) == ["US-3P"]
        engine.record_notice("MIN-1", "debtor_minor", at=T0 + DAY)
        assert self.denied_by(engine, T0 + 2 * DAY) == []
        engine.record_notice("MIN-1", "debtor_of_age", at=T0 + 3 * DAY)
        assert self.denied_by(engine, T0 + 3 * DAY + timedelta(hours=1)) == ["US-3P"]

    def test_a_lender_may_keep_a_parent_a_third_party(self) -> None:
        engine = self.engine({"US-3P": {"as_debtor_minor": []}})
        engine.record_notice("MIN-1", "debtor_minor", at=T0)
        assert self.denied_by(engine, T0 + DAY) == ["US-3P"]

    def test_a_lender_may_make_every_parent_the_consumer(self) -> None:
        engine = self.engine({"US-3P": {"as_debtor": ["spouse", "attorney", "parent"]}})
        assert self.denied_by(engine, T0 + DAY) == []


class TestMinorOnEveryLoan:
    """12 CFR 1006.6(a)(2): being a minor is a fact about the person, not a loan; the
    latest minor or of-age notice on any of the debtor's loans decides on each."""

    @staticmethod
    def engine(store: MemoryStore) -> Engine:
        compliance = Compliance(["US-RegF"])
        return Engine(store=store, compliance=compliance, clock=SettableClock(T0))

    def opened(self, first_notices: dict[str, str] | None = None) -> tuple[MemoryStore, Engine]:
        """Two loans of one debtor whose parent is on file; *first_notices* opens the
        first loan with those notices on its record."""
        store = MemoryStore()
        engine = self.engine(store)
        for case_id in ("MIN-1", "MIN-2"):
            case = {
                "id": case_id,
                "debtor": {"id": "D-9", "timezone": "America/New_York"},
                "persons": [{"id": "mum", "relationship": "parent"}],
                "contacts": [
                    {
                        "id": "mum-home",
                        "channel": "call",
                        "address": "+16175550151",
                        "person": "mum",
                    }
                ],
                "balance": {"currency": "USD", "principal": "480.00"},
                "due_date": "2026-07-01",
                "notices": (first_notices or {}) if case_id == "MIN-1" else {},
            }
            engine.open_case(case, at=T0 - 10 * DAY)
            engine.record_notice(case_id, "validation", at=T0 - 5 * DAY)
        return store, engine

    @staticmethod
    def denied_by(
        engine: Engine,
        case_id: str,
        at: datetime,
        purpose: str = "collection",
        *,
        record: bool = True,
    ) -> list[str]:
        proposal = {"channel": "call", "contact": "mum-home", "purpose": purpose}
        verdict = engine.judge_contact(case_id, proposal, at=at, record=record)
        return sorted(reason.rule for reason in verdict.reasons)

    def test_a_notice_on_one_loan_holds_on_the_other_until_one_of_age_on_either(self) -> None:
        store, engine = self.opened()
        assert self.denied_by(engine, "MIN-2", T0) == ["US-3P"]  # the debtor's history is kept
        engine.record_notice("MIN-1", "debtor_minor", at=T0 + DAY)  # folded into it
        assert self.denied_by(engine, "MIN-2", T0 + 2 * DAY) == []
        assert self.denied_by(engine, "MIN-1", T0 + 2 * DAY) == []
        # Built again from the journals (another engine): the same answers.
        assert self.denied_by(self.engine(store), "MIN-2", T0 + 2 * DAY) == []
        engine.record_notice("MIN-2", "debtor_of_age", at=T0 + 3 * DAY)
        later = T0 + 3 * DAY + timedelta(hours=1)
        assert self.denied_by(engine, "MIN-1", later) == ["US-3P"]
        assert self.denied_by(engine, "MIN-2", later) == ["US-3P"]
        assert self.denied_by(self.engine(store), "MIN-1", later) == ["US-3P"]

    def test_an_age_notice_corrected_later_leaves_the_earlier_minority_on_the_other_loan(
        self,
    ) -> None:
        store, engine = self.opened()
        engine.record_notice("MIN-1", "debtor_minor", at=T0 + DAY)
        engine.record_notice("MIN-1", "debtor_of_age", at=T0 + 3 * DAY)
        engine.record_notice("MIN-1", "debtor_minor", at=T0 + 5 * DAY)
        # Judged on the other loan, its own last entry older than them all.
        for judged in (engine, self.engine(store)):  # folded, and built again from the journals
            assert self.denied_by(judged, "MIN-2", T0 + 2 * DAY, record=False) == []
            assert self.denied_by(judged, "MIN-2", T0 + 4 * DAY, record=False) == ["US-3P"]
            assert self.denied_by(judged, "MIN-2", T0 + 6 * DAY, record=False) == []

    def test_an_opening_notice_a_later_one_of_its_kind_replaced_still_counts(self) -> None:
        store, engine = self.opened({"debtor_minor": (T0 - 20 * DAY).isoformat()})
        engine.record_notice("MIN-1", "debtor_of_age", at=T0 + DAY)
        engine.record_notice("MIN-1", "debtor_minor", at=T0 + 3 * DAY)
        # The case keeps the latest of each kind; the minority from the opening still counts.
        assert engine.case("MIN-1").notices["debtor_minor"] == T0 + 3 * DAY
        for judged in (engine, self.engine(store)):
            assert self.denied_by(judged, "MIN-2", T0, record=False) == []
            assert self.denied_by(judged, "MIN-2", T0 + 2 * DAY, record=False) == ["US-3P"]
            assert self.denied_by(judged, "MIN-2", T0 + 4 * DAY, record=False) == []

    def test_a_parents_request_to_stop_on_one_loan_binds_them_as_the_consumer(self) -> None:
        store, engine = self.opened()
        engine.record_notice("MIN-1", "debtor_minor", at=T0)
        engine.add_hold(
            "MIN-1", "cease", "written request", written=True, at=T0 + DAY, reach="debtor"
        )
        # As a third party the parent could be asked for location information once (1006.10).
        assert self.denied_by(engine, "MIN-2", T0 + 2 * DAY, "location") == ["US-CEASE"]
        assert self.denied_by(self.engine(store), "MIN-2", T0 + 2 * DAY, "location") == ["US-CEASE"]

    def test_the_debtor_history_folds_the_age_notices_of_each_case(self) -> None:
        debtor = DebtorHistory("D-9", ("MIN-1", "MIN-2"), {})
        debtor.state("MIN-1", "notice", T0, {"notice": "validation"})
        assert debtor.ages == {}
        debtor.state("MIN-1", "notice", T0, {"notice": "debtor_minor"})
        assert debtor.ages == {"MIN-1": [(T0, "debtor_minor")]}
        assert debtor.minor("MIN-2", [], T0)
        assert not debtor.minor("MIN-2", [], T0 - timedelta(seconds=1))
        # Judged on MIN-1, its own notices are the case's, not the history's.
        assert not debtor.minor("MIN-1", [], T0)
        assert not debtor.minor("MIN-2", [(T0, "debtor_of_age")], T0)  # the same moment ends it
        of_age = [(T0 + DAY, "debtor_of_age")]
        assert debtor.minor("MIN-2", of_age, T0 + DAY - timedelta(hours=1))
        debtor.state("MIN-2", "notice", T0 + 2 * DAY, {"notice": "debtor_minor"})
        assert debtor.minor("MIN-1", [(T0, "debtor_minor")], T0 + 2 * DAY)  # the latest decides
        # Every notice is kept, in time order, whatever order they were folded in.
        debtor.state("MIN-1", "notice", T0 - DAY, {"notice": "debtor_of_age"})
        assert debtor.ages["MIN-1"] == [(T0 - DAY, "debtor_of_age"), (T0, "debtor_minor")]
        assert not debtor.minor("MIN-2", [], T0 - timedelta(hours=1))

    def test_a_case_history_keeps_every_age_notice_from_its_opening_on(self) -> None:
        told = T0 - 30 * DAY
        store = MemoryStore()
        engine = Engine(store=store, clock=SettableClock(T0))
        engine.open_case(
            {
                "id": "MIN-1",
                "debtor": {"id": "D-9"},
                "balance": {"currency": "USD", "principal": "480.00"},
                "due_date": "2026-07-01",
                "notices": {"debtor_minor": told.isoformat(), "validation": told.isoformat()},
            },
            at=T0 - 10 * DAY,
        )
        engine.record_notice("MIN-1", "debtor_of_age", at=T0 - DAY)
        engine.record_notice("MIN-1", "validation", at=T0 - DAY)
        engine.record_notice("MIN-1", "debtor_minor", at=T0)
        history = ContactHistory.from_entries(store.entries("MIN-1"))
        assert history.ages == [
            (told, "debtor_minor"),
            (T0 - DAY, "debtor_of_age"),
            (T0, "debtor_minor"),
        ]
        assert history.copy().ages == history.ages
        assert engine.contact_history("MIN-1").ages == history.ages
