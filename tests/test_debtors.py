"""A debtor across all their loans: cases share a debtor, contacts are counted over the scope the
law gives each rule, and holds reach what the law says they reach."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears import Engine, InvalidInput, MemoryStore, SettableClock
from arrears.case import ContactPoint
from arrears.compliance import Compliance, Preference
from arrears.compliance.history import Attempt, DebtorHistory
from arrears.scenarios import ScenarioInvalid, load_scenario
from arrears.stores import SQLiteStore

T0 = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
NUMBER = "+8613812345678"


def loan(number: int, debtor: str = "D-1", contact: str = "mobile") -> dict[str, Any]:
    return {
        "id": f"L-{number}",
        "debtor": {"id": debtor, "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": contact, "channel": "call", "address": NUMBER}],
        "balance": {"currency": "CNY", "principal": "1000.00"},
        "due_date": "2026-09-01",
    }


@pytest.fixture(params=["memory", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A CN engine with one debtor's three loans (and another debtor's one)."""
    store: Any = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "a.db")
    made = Engine(store=store, compliance=Compliance(["CN"]), clock=SettableClock(T0))
    made.open_cases([loan(1), loan(2), loan(3, contact="phone"), loan(9, debtor="D-2")])
    yield made
    if isinstance(store, SQLiteStore):
        store.close()


def call(engine: Engine, case_id: str, minutes: int, contact: str = "mobile") -> bool:
    verdict = engine.judge_contact(
        case_id, {"channel": "call", "contact": contact}, at=T0 + timedelta(minutes=minutes)
    )
    return verdict.allowed


class TestCounting:
    def test_answered_calls_are_counted_per_debtor(self, engine: Engine) -> None:
        """The issue's example: three answered calls on loan 1; the fourth is denied on loan 1
        and on loan 2 (CN-CALLS-EFFECTIVE counts per debtor), and another debtor is untouched."""
        for minute in (0, 10, 20):
            engine.record_interaction(
                "L-1", "call", "conversation", contact="mobile", at=T0 + timedelta(minutes=minute)
            )
        assert not call(engine, "L-1", 30)
        verdict = engine.judge_contact(
            "L-2", {"channel": "call", "contact": "mobile"}, at=T0 + timedelta(minutes=30)
        )
        assert verdict.rules == ("CN-CALLS-EFFECTIVE",)
        assert verdict.reasons[0].values["count"] == 4
        assert call(engine, "L-9", 30)

    def test_dials_are_counted_per_number_across_loans(self, engine: Engine) -> None:
        """Six unanswered dials on loan 2: a seventh to the same number is denied on loan 3,
        where the number has another contact id."""
        for minute in range(6):
            engine.record_interaction(
                "L-2", "call", "no_answer", contact="mobile", at=T0 + timedelta(minutes=minute)
            )
        verdict = engine.judge_contact(
            "L-3", {"channel": "call", "contact": "phone"}, at=T0 + timedelta(minutes=10)
        )
        assert verdict.rules == ("CN-CALLS-ATTEMPTS",)
        assert verdict.reasons[0].values["count"] == 7
        assert not call(engine, "L-1", 10)
        assert call(engine, "L-9", 10)  # another debtor's loan: their dials are their own

    def test_the_debtor_history_is_folded_as_entries_are_recorded(self, engine: Engine) -> None:
        """After the first judgment the debtor's history is kept and folded incrementally: the
        same object, one attempt longer after each interaction."""
        recorder = engine._recorder
        case = engine.store.get("L-1")
        first = recorder.debtor_history(case)
        assert first is not None
        assert first.cases == ("L-1", "L-2", "L-3")
        engine.record_interaction("L-3", "call", "no_answer", contact="phone", at=T0)
        again = recorder.debtor_history(engine.store.get("L-1"))
        assert again is first
        assert [(a.case, a.outcome) for a in again.attempts] == [("L-3", "no_answer")]
        assert recorder.debtor_history(engine.store.get("L-9")) is None  # an only case

    def test_a_rolled_back_interaction_leaves_the_count(self, engine: Engine) -> None:
        """A unit of work that fails takes its attempts out of the debtor's count too."""
        for minute in (0, 10):
            engine.record_interaction(
                "L-1", "call", "conversation", contact="mobile", at=T0 + timedelta(minutes=minute)
            )
        assert call(engine, "L-2", 15)
        seen: list[bool] = []

        def third_then_fail() -> None:
            with engine.atomic():
                engine.record_interaction(
                    "L-2", "call", "conversation", contact="mobile", at=T0 + timedelta(minutes=20)
                )
                seen.append(call(engine, "L-3", 21, contact="phone"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            third_then_fail()
        assert seen == [False]  # inside the unit, the third answered call counted
        assert call(engine, "L-3", 22, contact="phone")

    def test_about_names_the_debtors_own_cases_only(self, engine: Engine) -> None:
        """A contact may be about the debtor's other loans, never another debtor's."""
        entry = engine.record_interaction(
            "L-1", "call", "no_answer", contact="mobile", at=T0, about=["L-2", "L-1"]
        )
        assert entry.data["about"] == ["L-2"]
        with pytest.raises(InvalidInput, match="about") as caught:
            engine.record_interaction("L-1", "call", "no_answer", contact="mobile", about=["L-9"])
        assert caught.value.value == ["L-9"]


class TestScopes:
    def test_a_lender_may_widen_a_scope(self) -> None:
        """US-7IN7 counts per debt by law; a lender may count it over all the debtor's debts."""
        compliance = Compliance(["US-RegF"], overrides={"US-7IN7": {"across": "debtor"}})
        assert compliance.rule("US-7IN7").across == "debtor"  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("rule", "change", "field"),
        [
            ("CN-CALLS-EFFECTIVE", {"across": "debt"}, "across"),
            ("CN-CALLS-ATTEMPTS", {"across": "debt"}, "across"),
            ("US-7IN7", {"per": "contact"}, "per"),
            ("US-3P", {"across": "debt"}, "across"),
            ("CN-THIRD-PARTY", {"across": "debt"}, "across"),
        ],
    )
    def test_never_narrow_one_the_law_fixes(
        self, rule: str, change: dict[str, str], field: str
    ) -> None:
        """Narrowing a pack rule's scope is refused, naming the rule and the scope."""
        pack = "CN" if rule.startswith("CN") else "US-RegF"
        with pytest.raises(InvalidInput) as caught:
            Compliance([pack], overrides={rule: change})
        assert caught.value.field == f"overrides.{rule}.{field}"
        assert caught.value.value == change[field]
        assert "never narrow" in str(caught.value)


class TestHolds:
    def test_a_bankruptcy_reaches_every_loan_in_one_unit(self, engine: Engine) -> None:
        """Recorded on loan 1, the stay is journaled on each loan of the debtor, with one id."""
        hold = engine.add_hold("L-1", "bankruptcy", "chapter 7 petition", at=T0)
        for case_id in ("L-1", "L-2", "L-3"):
            held = engine.case(case_id).holds
            assert [(h.id, h.origin) for h in held] == [
                (hold.id, None if case_id == "L-1" else "L-1")
            ]
            assert engine.history(case_id)[-1].kind in ("hold_added", "transition")
        assert engine.case("L-9").holds == ()

    def test_releasing_it_on_one_loan_releases_it_on_all(self, engine: Engine) -> None:
        hold = engine.add_hold("L-1", "bankruptcy", "chapter 7 petition", at=T0)
        engine.release_hold("L-3", hold.id, at=T0 + timedelta(hours=1))
        later = T0 + timedelta(hours=2)
        assert [engine.case(c).active_holds(later) for c in ("L-1", "L-2", "L-3")] == [(), (), ()]

    def test_a_dispute_stays_on_its_loan(self, engine: Engine) -> None:
        engine.add_hold("L-1", "dispute", "written dispute", written=True, at=T0)
        assert [len(engine.case(c).holds) for c in ("L-1", "L-2", "L-3")] == [1, 0, 0]

    def test_the_debtor_may_widen_a_request_to_stop(self, engine: Engine) -> None:
        engine.add_hold("L-2", "cease", "stop contacting me about all loans", reach="debtor", at=T0)
        assert [len(engine.case(c).holds) for c in ("L-1", "L-2", "L-3")] == [1, 1, 1]

    @pytest.mark.parametrize("kind", ["bankruptcy", "deceased", "mental_capacity", "vulnerable"])
    def test_a_hold_on_the_person_cannot_be_narrowed_to_one_loan(
        self, engine: Engine, kind: str
    ) -> None:
        """A stay, a death, a doubt about capacity or a vulnerability is the person's: a
        reach of ``case`` is refused, naming the field and the value, and nothing is held."""
        with pytest.raises(InvalidInput) as caught:
            engine.add_hold("L-1", kind, "on file", reach="case", at=T0)
        assert (caught.value.field, caught.value.value) == ("reach", "case")
        assert f"debtor: a {kind} hold covers every debt" in str(caught.value)
        assert [len(engine.case(c).holds) for c in ("L-1", "L-2", "L-3")] == [0, 0, 0]

    @pytest.mark.parametrize("kind", ["breathing_space", "mental_health_crisis"])
    def test_a_moratorium_may_be_recorded_on_the_listed_debt_only(
        self, engine: Engine, kind: str
    ) -> None:
        """SI 2020/1311 reg 6: the moratorium debts are those its notice lists.  Recorded
        with ``reach="case"``, the hold is on that loan alone, says so, and a call about
        another loan of the debtor is judged as without it."""
        hold = engine.add_hold("L-1", kind, "notice lists this loan", reach="case", at=T0)
        assert (hold.kind, hold.reach, hold.reaches_debtor()) == (kind, "case", False)
        assert [len(engine.case(c).holds) for c in ("L-1", "L-2", "L-3")] == [1, 0, 0]
        assert engine.history("L-1")[-1].data["hold"]["reach"] == "case"
        assert engine.case("L-1").active_holds(T0 + timedelta(hours=1)) == (hold,)

    def test_a_moratorium_by_default_still_reaches_every_loan(self, engine: Engine) -> None:
        """Without a reach the moratorium is the person's (the reading that protects)."""
        hold = engine.add_hold("L-1", "breathing_space", "moratorium", at=T0)
        assert (hold.reach, hold.reaches_debtor()) == (None, True)
        assert [len(engine.case(c).holds) for c in ("L-1", "L-2", "L-3")] == [1, 1, 1]


class TestHoldsOnLoansOpenedLater:
    """A case opened for a debtor with a live hold that reaches every debt holds it from its
    opening; one whose hold has ended, or reaches one debt, does not."""

    def test_each_kind_that_reaches_the_debtor_is_inherited(self, engine: Engine) -> None:
        placed = [
            engine.add_hold("L-1", kind, "on file", at=T0)
            for kind in ("bankruptcy", "deceased", "breathing_space", "mental_health_crisis")
        ]
        placed.append(engine.add_hold("L-2", "vulnerable", "on file", at=T0))
        placed.append(engine.add_hold("L-3", "cease", "stop, all loans", reach="debtor", at=T0))
        engine.add_hold("L-1", "dispute", "this loan only", at=T0)
        engine.add_hold("L-2", "attorney", "this loan only", at=T0)
        opened = engine.open_case(loan(4), at=T0 + timedelta(hours=1))
        assert sorted((h.id, h.kind, h.origin) for h in opened.holds) == sorted(
            (
                h.id,
                h.kind,
                "L-3" if h.kind == "cease" else "L-2" if h.kind == "vulnerable" else "L-1",
            )
            for h in placed
        )
        assert engine.case("L-4").active_holds(T0 + timedelta(hours=1)) == opened.holds

    def test_a_widened_hold_of_an_only_loan_is_inherited(self, engine: Engine) -> None:
        """A request to stop that the debtor said covers all their debts, made while they had
        one loan, reaches a loan opened later: the hold records its reach."""
        hold = engine.add_hold("L-9", "cease", "stop, all loans", reach="debtor", at=T0)
        assert hold.reach == "debtor"
        opened = engine.open_case(loan(10, debtor="D-2"), at=T0 + timedelta(hours=1))
        assert [(h.id, h.origin, h.reach) for h in opened.holds] == [(hold.id, "L-9", "debtor")]

    def test_a_hold_ended_before_the_opening_is_not_inherited(self, engine: Engine) -> None:
        released = engine.add_hold("L-1", "bankruptcy", "petition", at=T0)
        engine.release_hold("L-1", released.id, at=T0 + timedelta(hours=1))
        engine.add_hold(
            "L-2",
            "breathing_space",
            "moratorium",
            until=T0 + timedelta(hours=2),
            at=T0 + timedelta(hours=1),
        )
        assert engine.open_case(loan(4), at=T0 + timedelta(hours=2)).holds == ()

    def test_a_moratorium_on_its_listed_debt_is_not_inherited(self, engine: Engine) -> None:
        """A breathing space recorded on the debt its notice lists only stays there: a loan
        opened later is not a moratorium debt of that notice; releasing it releases one."""
        hold = engine.add_hold("L-1", "breathing_space", "listed", reach="case", at=T0)
        assert engine.open_case(loan(4), at=T0 + timedelta(hours=1)).holds == ()
        engine.release_hold("L-1", hold.id, at=T0 + timedelta(hours=2))
        assert [engine.history(c)[-1].kind for c in ("L-1", "L-2")] == [
            "hold_released",
            "opened",
        ]

    def test_a_hold_with_an_end_keeps_it(self, engine: Engine) -> None:
        """A breathing space of 60 days, inherited on day 10, still ends on day 60."""
        ends = T0 + timedelta(days=60)
        hold = engine.add_hold("L-1", "breathing_space", "moratorium", until=ends, at=T0)
        opened = engine.open_case(loan(4), at=T0 + timedelta(days=10))
        assert [(h.started_at, h.ends_at) for h in opened.holds] == [(hold.started_at, ends)]
        case = engine.case("L-4")
        assert case.active_holds(ends - timedelta(seconds=1)) != ()
        assert case.active_holds(ends) == ()

    def test_a_loan_of_a_debtor_with_no_other_loan_inherits_nothing(self, engine: Engine) -> None:
        engine.add_hold("L-1", "bankruptcy", "petition", at=T0)
        assert engine.open_case(loan(5, debtor="D-5"), at=T0).holds == ()

    def test_an_inherited_hold_is_released_everywhere(self, engine: Engine) -> None:
        """Released on the original loan, the hold ends on the loan that inherited it too."""
        hold = engine.add_hold("L-1", "bankruptcy", "petition", at=T0)
        engine.open_cases([loan(4), loan(5)], at=T0 + timedelta(minutes=5))
        engine.release_hold("L-1", hold.id, at=T0 + timedelta(hours=1))
        later = T0 + timedelta(hours=2)
        for case_id in ("L-1", "L-2", "L-3", "L-4", "L-5"):
            assert engine.case(case_id).active_holds(later) == ()
            assert engine.history(case_id)[-1].kind == "hold_released"

    def test_a_hold_id_the_new_case_already_has_is_refused(self, engine: Engine) -> None:
        hold = engine.add_hold("L-1", "bankruptcy", "petition", at=T0)
        mine = {"id": hold.id, "kind": "dispute", "reason": "old", "started_at": T0.isoformat()}
        with pytest.raises(InvalidInput) as caught:
            engine.open_case({**loan(4), "holds": [mine]}, at=T0)
        assert (caught.value.field, caught.value.value) == ("holds", hold.id)
        assert "L-4" not in engine.store


US_T0 = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)  # 10:00 in New York
MIRANDA = (
    "From a debt collector. This is an attempt to collect a debt and any information obtained "
    "will be used for that purpose. Reply STOP to opt out."
)


def us_loan(number: int, contact: str, debtor: str = "U-1") -> dict[str, Any]:
    return {
        "id": f"U-{number}",
        "debtor": {"id": debtor, "timezone": "America/New_York", "locale": "en-US"},
        "contacts": [
            {"id": contact, "channel": "sms", "address": "+16175550100"},
            {"id": "other", "channel": "sms", "address": "+16175550177"},
        ],
        "balance": {"currency": "USD", "principal": "500.00"},
        "due_date": "2026-07-01",
    }


@pytest.fixture(params=["memory", "sqlite"])
def us_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A Regulation F engine with one debtor's three loans, the mobile under three ids."""
    store: Any = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "u.db")
    made = Engine(store=store, compliance=Compliance(["US-RegF"]), clock=SettableClock(US_T0))
    made.open_cases([us_loan(1, "mobile"), us_loan(2, "cell"), us_loan(3, "texts")], at=US_T0)
    yield made
    if isinstance(store, SQLiteStore):
        store.close()


def texted(engine: Engine, case_id: str, contact: str, hours: int = 24) -> tuple[str, ...]:
    """The rules that deny a text to *contact* on *case_id* *hours* after `US_T0`."""
    verdict = engine.judge_contact(
        case_id,
        {"channel": "sms", "contact": contact, "text": MIRANDA},
        at=US_T0 + timedelta(hours=hours),
        record=False,
    )
    return verdict.rules


class TestWhatThePersonSaidReachesEveryLoan:
    """An opt-out and the times named inconvenient are the person's: recorded on one loan, they
    hold on the debtor's other loans (12 CFR 1006.14(h)(1), 1006.6(b)(1)(i)); a consent stays on
    the loan it was given on."""

    def test_an_opt_out_stops_the_number_on_every_loan(self, us_engine: Engine) -> None:
        """The issue's example: an opt-out of texts to the mobile recorded on loan 1 stops texts
        to that number on loans 2 and 3 (kept there under other ids); the other number is not
        touched, and another debtor's loan on the same number is not either."""
        assert texted(us_engine, "U-2", "cell") == ()
        us_engine.record_opt_out("U-1", "sms", contact="mobile", at=US_T0 + timedelta(hours=1))
        for case_id, contact in (("U-1", "mobile"), ("U-2", "cell"), ("U-3", "texts")):
            assert texted(us_engine, case_id, contact) == ("US-MEDIUM",)
            assert texted(us_engine, case_id, "other") == ()
        us_engine.open_case(us_loan(9, "mobile", debtor="U-9"), at=US_T0 + timedelta(hours=2))
        assert texted(us_engine, "U-9", "mobile") == ()

    def test_a_number_opted_out_on_file_is_opted_out_on_every_loan(self, us_engine: Engine) -> None:
        """A loan brought in with the mobile marked opted out (the loan system's record of an
        opt-out): texts to that number are denied on the debtor's other loans from its opening."""
        record = us_loan(5, "sms-5")
        record["contacts"][0]["opted_out"] = True
        us_engine.open_case(record, at=US_T0 + timedelta(hours=1))
        assert texted(us_engine, "U-2", "cell") == ("US-MEDIUM",)
        assert texted(us_engine, "U-2", "other") == ()

    def test_a_loan_opened_after_the_opt_out_is_reached(self, us_engine: Engine) -> None:
        us_engine.record_opt_out("U-2", "sms", at=US_T0 + timedelta(hours=1))  # every number
        us_engine.open_case(us_loan(4, "sms-4"), at=US_T0 + timedelta(hours=2))
        assert texted(us_engine, "U-4", "sms-4") == ("US-MEDIUM",)
        assert texted(us_engine, "U-4", "other") == ("US-MEDIUM",)

    def test_the_one_confirmation_is_one_across_the_loans(self, us_engine: Engine) -> None:
        """12 CFR 1006.14(h)(2)(i): one reply confirming the opt-out; sent on loan 1, no second
        one goes out on loan 2; it goes back by text, the medium of the STOP (``via``)."""
        us_engine.record_opt_out(
            "U-1", "sms", contact="mobile", via="sms", at=US_T0 + timedelta(hours=1)
        )
        confirm = {"channel": "sms", "contact": "cell", "purpose": "opt_out_confirmation"}
        at = US_T0 + timedelta(hours=2)
        assert us_engine.judge_contact("U-2", confirm, at=at, record=False).allowed
        us_engine.record_interaction(
            "U-1", "sms", "delivered", contact="mobile", purpose="opt_out_confirmation", at=at
        )
        later = at + timedelta(minutes=5)
        assert us_engine.judge_contact("U-2", confirm, at=later, record=False).rules == (
            "US-MEDIUM",
        )

    def test_the_debtor_history_folds_an_opt_out_as_it_is_recorded(self, us_engine: Engine) -> None:
        """Judged once (the debtor's history built), then an opt-out recorded on loan 3: the
        same history, folded, stops loan 1; an opt-out rolled back stops nothing."""
        recorder = us_engine._recorder
        assert texted(us_engine, "U-1", "mobile") == ()
        first = recorder.debtor_history(us_engine.store.get("U-1"))
        us_engine.record_opt_out("U-3", "sms", contact="texts", at=US_T0 + timedelta(hours=1))
        assert recorder.debtor_history(us_engine.store.get("U-1")) is first
        assert first is not None
        assert [(o.case, o.contact) for o in first.opt_outs] == [("U-3", "texts")]
        assert texted(us_engine, "U-1", "mobile") == ("US-MEDIUM",)

        def opt_out_then_fail() -> None:
            with us_engine.atomic():
                us_engine.record_opt_out("U-2", "sms", at=US_T0 + timedelta(hours=2))
                assert texted(us_engine, "U-1", "other") == ("US-MEDIUM",)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            opt_out_then_fail()
        assert texted(us_engine, "U-1", "other") == ()

    def test_a_lender_may_narrow_an_opt_out_to_its_debt(self, us_engine: Engine) -> None:
        """The rule and the engine's own choice of a number for its messages
        (`contact_for`) read the same reach: loan 2's text goes to its other number, and
        once the lender narrows the reach, to the number again."""
        from arrears.planner import contact_for, opt_outs_elsewhere
        from arrears.policy import SendAction

        text = SendAction(channel="sms")
        loan_2 = us_engine.store.get("U-2")
        us_engine.record_opt_out("U-1", "sms", contact="mobile", at=US_T0 + timedelta(hours=1))
        debtor = us_engine._recorder.debtor_history(loan_2)
        carried = opt_outs_elsewhere(loan_2, debtor, us_engine.compliance)
        assert [(o.case, o.contact) for o in carried] == [("U-1", "cell")]
        history = us_engine.contact_history("U-2")
        chosen = contact_for(loan_2, text, history, carried)
        assert chosen is not None
        assert chosen.id == "other"  # its other number
        us_engine.compliance = Compliance(["US-RegF"], overrides={"US-MEDIUM": {"reach": "debt"}})
        assert texted(us_engine, "U-1", "mobile") == ("US-MEDIUM",)
        assert texted(us_engine, "U-2", "cell") == ()
        assert opt_outs_elsewhere(loan_2, debtor, us_engine.compliance) == []
        chosen = contact_for(loan_2, text, history, [])
        assert chosen is not None
        assert chosen.id == "cell"

    def test_a_time_named_on_one_loan_is_inconvenient_on_all(self, us_engine: Engine) -> None:
        """Named on loan 1, 12:00-13:00 New York time: a text at 12:30 about loan 3 is denied
        until 13:00; a lender that narrows named times to the debt allows it."""
        us_engine.record_inconvenient("U-1", time(12), time(13), at=US_T0)
        verdict = us_engine.judge_contact(
            "U-3",
            {"channel": "sms", "contact": "texts", "text": MIRANDA},
            at=US_T0 + timedelta(hours=2, minutes=30),
            record=False,
        )
        assert verdict.rules == ("US-TIME",)
        assert verdict.next_allowed_at == US_T0 + timedelta(hours=3)
        us_engine.compliance = Compliance(
            ["US-RegF"], overrides={"US-TIME": {"named_times_reach": "debt"}}
        )
        assert texted(us_engine, "U-3", "texts", hours=2) == ()

    def test_a_consent_stays_on_its_loan(self, us_engine: Engine) -> None:
        """A consent widens what may be done: given on loan 1 to be texted again, it restores
        texts about loan 1, not about loan 2, where the opt-out still holds."""
        us_engine.record_opt_out("U-1", "sms", contact="mobile", at=US_T0 + timedelta(hours=1))
        us_engine.record_consent(
            "U-1", "sms", contact="mobile", covers=["medium"], at=US_T0 + timedelta(hours=2)
        )
        assert texted(us_engine, "U-1", "mobile") == ()
        assert texted(us_engine, "U-2", "cell") == ("US-MEDIUM",)


SEVERAL = """\
name: several cases
rules: [CN]
debtor: {id: D-1, timezone: Asia/Shanghai}
cases:
  - {id: L-1, currency: CNY, balance: "10.00", due_date: 2026-09-01,
     contacts: [{id: m, channel: call, address: "+8613812345678"}]}
  - {id: L-2, currency: CNY, balance: "10.00", due_date: 2026-09-01}
events:
  - {at: 2026-10-14T09:00:00+08:00, case: L-1, type: contact, channel: call, contact: m,
     outcome: no_answer}
expect:
  - {at: 2026-10-14T10:00:00+08:00, case: L-1, contact: {channel: call, contact: m},
     verdict: allow}
"""


class TestScenarioFormat:
    @pytest.mark.parametrize(
        ("old", "new", "field", "message"),
        [
            ("case: L-1, type", "type", "events[0].case", "missing: name the case"),
            ("case: L-1, contact:", "case: L-7, contact:", "expect[0].case", "no case 'L-7'"),
            (
                "contact: m,\n     outcome",
                "contact: x,\n     outcome",
                "events[0].contact",
                "no contact 'x' in cases[0].contacts",
            ),
            (
                'balance: "10.00", due_date: 2026-09-01}',
                'balance: "10.00", due_date: 2026-09-01, timezone: UTC}',
                "cases[1].timezone",
                "give timezone in debtor:",
            ),
        ],
    )
    def test_problems_name_the_field(
        self, tmp_path: Path, old: str, new: str, field: str, message: str
    ) -> None:
        path = tmp_path / "s.yaml"
        assert old in SEVERAL
        path.write_text(SEVERAL.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(ScenarioInvalid) as caught:
            load_scenario(path)
        assert any(field in str(p) and message in str(p) for p in caught.value.problems), str(
            caught.value
        )

    def test_case_and_cases_are_not_both_given(self, tmp_path: Path) -> None:
        path = tmp_path / "s.yaml"
        path.write_text(
            SEVERAL.replace(
                "cases:", "case: {id: X, currency: CNY, balance: '1', due_date: 2026-09-01}\ncases:"
            ),
            encoding="utf-8",
        )
        with pytest.raises(ScenarioInvalid, match=r"give case \(one case\) or cases"):
            load_scenario(path)

    def test_a_valid_file_loads(self, tmp_path: Path) -> None:
        path = tmp_path / "s.yaml"
        path.write_text(SEVERAL, encoding="utf-8")
        scenario = load_scenario(path)
        assert [spec.id for _, spec in scenario.specs] == ["L-1", "L-2"]


LIMITED_POLICY = """\
id: per-debtor
version: "1"
packs: [CN]
review: {time: "09:30"}
per_debtor:
  - {channels: [sms], limit: 1}
steps:
  - id: overdue-sms
    stages: [notified]
    send: {channel: sms}
"""


def sms_loan(number: int, debtor: str = "D-1") -> dict[str, Any]:
    return {
        **loan(number, debtor),
        "contacts": [{"id": "m", "channel": "sms", "address": NUMBER}],
        "stage": "notified",
    }


class TestPerDebtorLimit:
    """`per_debtor` in the policy: one SMS a day to a debtor with three loans, in one tick."""

    @pytest.fixture(params=["memory", "sqlite"])
    def ticking(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> Iterator[tuple[Engine, Any, SettableClock]]:
        from arrears.channels import RecordingChannel
        from arrears.policy import load_policy

        path = tmp_path / "policy.yaml"
        path.write_text(LIMITED_POLICY, encoding="utf-8")
        store: Any = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "t.db")
        sms = RecordingChannel(channels=frozenset({"sms"}))
        clock = SettableClock(T0)
        made = Engine(policy=load_policy(path), store=store, channels=[sms], clock=clock)
        made.open_cases([sms_loan(1), sms_loan(2), sms_loan(3), sms_loan(9, debtor="D-2")])
        yield made, sms, clock
        if isinstance(store, SQLiteStore):
            store.close()

    def test_one_message_a_day_across_the_loans(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        engine, sms, _ = ticking
        report = engine.tick(T0 + timedelta(minutes=30))  # 09:30 in Shanghai
        assert sorted(message.case_id for message in sms.attempts) == ["L-1", "L-9"]
        assert (report.sent, report.denied) == (2, 2)
        assert dict(report.blocked_by) == {"POLICY-PER-DEBTOR-1": 2}
        denied = [e for e in engine.history("L-2") if e.kind == "contact_denied"]
        assert [reason["rule"] for reason in denied[0].data["reasons"]] == ["POLICY-PER-DEBTOR-1"]
        assert denied[0].data["reasons"][0]["values"] == {
            "count": 2,
            "limit": 1,
            "window": "a day",
        }
        # Tried again the next day at 08:00 in Shanghai: the window allows one again,
        # and CN contact hours start then.
        retry = datetime.fromisoformat(denied[0].data["next_allowed_at"])
        assert retry == datetime(2026, 10, 15, 0, 0, tzinfo=UTC)
        assert engine.verify() == []

    def test_the_next_day_the_limit_allows_one_again(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        engine, sms, _ = ticking
        engine.tick(T0 + timedelta(minutes=30))
        engine.tick(T0 + timedelta(days=1, minutes=30))
        to_d1 = [m.case_id for m in sms.attempts if m.case_id != "L-9"]
        assert len(to_d1) == 2  # one each day, never two on one day
        assert engine.verify() == []

    def test_a_tick_whose_moment_is_behind_a_message_on_another_loan(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        """Two workers: one ticks at 09:31 and sends loan 1's SMS; the other's tick began
        at 09:30 and reaches loan 2 afterwards.  Judged at 09:30 the SMS of 09:31 would
        not count, and the debtor would get two that day: the batch is reviewed at
        09:31 instead, when the SMS is on file, and loan 2's message is denied."""
        engine, sms, clock = ticking
        store = engine.store
        for case_id in ("L-2", "L-3", "L-9"):
            store.schedule(case_id, T0 + timedelta(days=5))
        engine.tick(T0 + timedelta(minutes=31))  # the first worker: loan 1 only
        for case_id in ("L-2", "L-3"):
            store.schedule(case_id, T0 + timedelta(minutes=30))
        clock.set(T0 + timedelta(minutes=32))  # when the second reaches loans 2 and 3
        report = engine.tick(T0 + timedelta(minutes=30))  # the second, later in real time
        assert [message.case_id for message in sms.attempts] == ["L-1"]
        assert (report.sent, report.denied, report.errors) == (0, 2, [])
        denied = [e for e in engine.history("L-2") if e.kind == "contact_denied"]
        assert denied[0].at == T0 + timedelta(minutes=31)
        assert denied[0].data["reasons"][0]["rule"] == "POLICY-PER-DEBTOR-1"
        assert engine.verify() == []

    def test_a_tick_whose_moment_is_behind_the_case_itself(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        """An SMS recorded on loan 9 at 09:35 (another debtor's only loan), a tick that
        began at 09:30: the case is reviewed at 09:35, not refused as an error (its
        chain runs forward in time), and the other batch's cases stay at 09:30."""
        engine, _, clock = ticking
        engine.record_interaction(
            "L-9", "sms", "delivered", contact="m", at=T0 + timedelta(minutes=35)
        )
        clock.set(T0 + timedelta(minutes=36))  # when the tick reaches it
        report = engine.tick(T0 + timedelta(minutes=30), batch=1)
        assert report.errors == []
        reviewed = {
            case_id: [e.at for e in engine.history(case_id) if e.kind == "review"]
            for case_id in ("L-1", "L-9")
        }
        assert reviewed == {
            "L-1": [T0 + timedelta(minutes=30)],
            "L-9": [T0 + timedelta(minutes=35)],
        }
        assert engine.verify() == []

    def test_an_opt_out_on_one_loan_keeps_the_number_off_the_others(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        """The debtor replied T to an SMS about loan 1 (recorded as an opt-out of its
        number).  The CN pack has no rule on opt-outs, so no verdict stops a message:
        the engine's own choice of a number does, on every loan with that number, as
        it did on loan 1 alone; another debtor is untouched."""
        engine, sms, _ = ticking
        engine.record_opt_out("L-1", "sms", contact="m", at=T0 + timedelta(minutes=20))
        report = engine.tick(T0 + timedelta(minutes=30))
        assert [message.case_id for message in sms.attempts] == ["L-9"]
        assert (report.sent, report.unreachable, report.errors) == (1, 3, [])
        assert engine.verify() == []

    def test_a_consent_for_the_medium_on_the_loan_gives_the_number_back(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        """After the opt-out on loan 1 the debtor agreed to be texted about loan 2 again:
        loan 2's message goes (the per-debtor limit leaves loan 3's for tomorrow)."""
        engine, sms, _ = ticking
        engine.record_opt_out("L-1", "sms", contact="m", at=T0 + timedelta(minutes=20))
        engine.record_consent(
            "L-2", "sms", contact="m", covers=["medium"], at=T0 + timedelta(minutes=25)
        )
        engine.tick(T0 + timedelta(minutes=30))
        assert [message.case_id for message in sms.attempts] == ["L-2", "L-9"]

    def test_an_entry_ahead_of_the_clock_holds_its_debtor_back(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        """Another machine, its clock 5 minutes ahead, recorded an SMS on loan 1 at 09:35;
        here it is 09:30.  Judged at 09:30 the SMS would not count; judged at 09:35 a
        message would be judged at a moment not yet come.  Loans 1 to 3 are held back
        (reported) until 09:35; the other debtor's loan goes at 09:30."""
        engine, sms, clock = ticking
        engine.record_interaction(
            "L-1", "sms", "delivered", contact="m", at=T0 + timedelta(minutes=35)
        )
        clock.set(T0 + timedelta(minutes=30))
        report = engine.tick(T0 + timedelta(minutes=30))
        assert [message.case_id for message in sms.attempts] == ["L-9"]
        assert sorted(case_id for case_id, _ in report.errors) == ["L-1", "L-2", "L-3"]
        assert "ahead of the engine's clock" in report.errors[0][1]
        assert engine.store.next_review("L-2") == T0 + timedelta(minutes=35)
        clock.set(T0 + timedelta(minutes=36))
        report = engine.tick(T0 + timedelta(minutes=36))
        assert (report.errors, report.sent) == ([], 0)  # loan 1's SMS of 09:35 counts
        assert engine.verify() == []

    def test_a_settled_intent_is_counted_once(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        """After the tick the debtor's history holds the delivered message, not its intent too."""
        engine, _, _ = ticking
        engine.tick(T0 + timedelta(minutes=30))
        history = engine._recorder.debtor_history(engine.case("L-1"))
        assert history is not None
        assert [(a.case, a.channel, a.outcome, a.intent) for a in history.attempts] == [
            ("L-1", "sms", "delivered", None)
        ]

    def test_an_open_intent_counts_on_the_other_loans(
        self, ticking: tuple[Engine, Any, SettableClock]
    ) -> None:
        """An intent journaled and not yet settled (its adapter not called yet, or the
        worker died): the debtor's other loans count it, and so does its own loan for
        another message; only the intent sent again under its key is not counted
        against itself."""
        from arrears.operations import contacts, reviews

        engine, _, _ = ticking
        reviews.record_intent(
            engine._recorder,
            "L-1",
            key="k-1",
            step="overdue-sms",
            channel="sms",
            contact="m",
            template=None,
            text="x",
            at=T0,
        )
        proposal = {"channel": "sms", "contact": "m"}
        later = T0 + timedelta(minutes=5)
        again = contacts.judge_contact(
            engine._recorder, "L-1", proposal, at=later, record=False, resending="k-1"
        )
        assert again.allowed
        another = engine.judge_contact("L-1", proposal, at=later, record=False)
        assert another.rules == ("POLICY-PER-DEBTOR-1",)
        assert another.reasons[0].values["count"] == 2
        verdict = engine.judge_contact("L-2", proposal, at=later)
        assert verdict.rules == ("POLICY-PER-DEBTOR-1",)
        history = engine._recorder.debtor_history(engine.case("L-2"))
        assert history is not None
        assert [(a.case, a.outcome, a.intent) for a in history.attempts] == [
            ("L-1", "unknown", "k-1")
        ]

    @pytest.mark.parametrize(
        ("entry", "field"),
        [
            ("{limit: 0}", "per_debtor[0].limit"),
            ("{limit: 1, days: 0}", "per_debtor[0].days"),
            ("{limit: 1, channels: [fax]}", "per_debtor[0].channels"),
            ("{limit: 1, per: case}", "per_debtor[0].per"),
        ],
    )
    def test_a_bad_limit_is_refused_naming_its_field(
        self, tmp_path: Path, entry: str, field: str
    ) -> None:
        from arrears.policy import PolicyInvalid, load_policy

        path = tmp_path / "policy.yaml"
        text = LIMITED_POLICY.replace("  - {channels: [sms], limit: 1}", f"  - {entry}")
        path.write_text(text, encoding="utf-8")
        with pytest.raises(PolicyInvalid) as refused:
            load_policy(path)
        assert field in str(refused.value)


# -- student loans of one account: one particular debt (12 CFR 1006.14(b)(4)) ----------------

US_T0 = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)  # 09:00 in Chicago, a Monday
US_NUMBER = "+13125550177"


def student_loan(case_id: str, account: str | None, debtor: str = "US-D-1") -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": case_id,
        "debtor": {"id": debtor, "timezone": "America/Chicago"},
        "contacts": [{"id": "cell", "channel": "call", "address": US_NUMBER}],
        "balance": {"currency": "USD", "principal": "1000.00"},
        "due_date": "2026-08-01",
    }
    if account is not None:
        data["student_loan"] = {"account": account}
    return data


@pytest.fixture(params=["memory", "sqlite"])
def student_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A Regulation F engine: student loans A and B of one account, C of another, a car loan."""
    store: Any = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "a.db")
    made = Engine(store=store, compliance=Compliance(["US-RegF"]), clock=SettableClock(US_T0))
    made.open_cases(
        [
            student_loan("SL-A", "ACCT-1"),
            student_loan("SL-B", "ACCT-1"),
            student_loan("SL-C", "ACCT-2"),
            student_loan("CAR", None),
            # another debtor, the same account text
            student_loan("SL-X", "ACCT-1", debtor="US-D-2"),
        ]
    )
    yield made
    if isinstance(store, SQLiteStore):
        store.close()


def us_calls(engine: Engine, plan: list[str]) -> None:
    """One unanswered call a day-hour apart on each case of *plan*, in order, from Monday."""
    for index, case_id in enumerate(plan):
        at = US_T0 + timedelta(days=index // 2, hours=2 * (index % 2))
        if at > engine.clock.now():
            engine.clock.set(at)  # type: ignore[attr-defined]
        engine.record_interaction(case_id, "call", "no_answer", contact="cell", at=at)


def us_verdict(engine: Engine, case_id: str) -> Any:
    at = US_T0 + timedelta(days=5, hours=3)  # Saturday 12:00 in Chicago
    if at > engine.clock.now():
        engine.clock.set(at)  # type: ignore[attr-defined]
    return engine.judge_contact(
        case_id, {"channel": "call", "contact": "cell"}, at=at, record=False
    )


class TestStudentLoans:
    def test_seven_calls_across_one_account_deny_the_eighth_on_either(
        self, student_engine: Engine
    ) -> None:
        """Three calls on A and four on B, one account: seven calls about one debt, so the
        eighth is denied on A and on B, naming both loans; the car loan's six calls and
        the other account's loan are their own."""
        us_calls(student_engine, ["SL-A", "SL-B"] * 3 + ["SL-B"])
        us_calls(student_engine, ["CAR"] * 6)
        for case_id in ("SL-A", "SL-B"):
            verdict = us_verdict(student_engine, case_id)
            assert verdict.rules == ("US-7IN7",)
            reason = verdict.reasons[0]
            assert reason.values["count"] == 8
            assert reason.values["one_debt"] == ["SL-A", "SL-B"]
            assert "(student loans of one account, one debt: SL-A, SL-B)" in reason.message
        assert us_verdict(student_engine, "CAR").allowed
        assert us_verdict(student_engine, "SL-C").allowed
        assert us_verdict(student_engine, "SL-X").allowed  # another debtor's loan

    def test_loans_of_two_accounts_are_counted_apart(self, student_engine: Engine) -> None:
        """Six calls on A and six on C: under different accounts, neither reaches seven."""
        us_calls(student_engine, ["SL-A", "SL-C"] * 6)
        assert us_verdict(student_engine, "SL-A").allowed
        assert us_verdict(student_engine, "SL-C").allowed
        us_calls(student_engine, ["SL-B"])  # one more on A's account: seven about A's debt
        assert not us_verdict(student_engine, "SL-A").allowed
        assert us_verdict(student_engine, "SL-C").allowed

    def test_a_conversation_on_one_loan_quiets_the_account(self, student_engine: Engine) -> None:
        """A conversation about loan A on Monday: no call about loan B (the same debt) until
        the next Monday; the car loan is another debt."""
        student_engine.record_interaction("SL-A", "call", "conversation", contact="cell", at=US_T0)
        verdict = us_verdict(student_engine, "SL-B")
        assert verdict.rules == ("US-7IN7",)
        assert verdict.reasons[0].values["conversation_on"].isoformat() == "2026-10-05"
        assert us_verdict(student_engine, "CAR").allowed
        assert us_verdict(student_engine, "SL-C").allowed

    def test_the_account_survives_the_journal(self, student_engine: Engine) -> None:
        """The account is in the opening snapshot: replay gives it back, and a case
        without one (as every case opened before it) replays without one."""
        replayed = student_engine.replay("SL-A")
        assert replayed.student_loan == student_engine.case("SL-A").student_loan
        assert student_engine.case("SL-A").student_loan is not None
        assert student_engine.replay("CAR").student_loan is None
        assert student_engine.verify() == []

    def test_the_debtor_view_shows_the_loans_counted_as_one(self, student_engine: Engine) -> None:
        from arrears.explain import debtor_view

        view = debtor_view(student_engine, "US-D-1", US_T0)
        assert view is not None
        lines = {loan.case_id: str(loan) for loan in view.loans}
        assert lines["SL-A"].endswith("; one debt with SL-B (student loans of one account)")
        assert lines["SL-B"].endswith("; one debt with SL-A (student loans of one account)")
        assert "one debt" not in lines["SL-C"]
        assert "one debt" not in lines["CAR"]

    def test_the_account_is_never_shown(self) -> None:
        """The account number is personal data: no repr shows it, and a bad one is refused
        naming its field, not its value."""
        from arrears import StudentLoan

        assert "99017" not in repr(StudentLoan(account="ACCT-99017"))
        engine = Engine(store=MemoryStore(), compliance=Compliance(["US-RegF"]))
        with pytest.raises(InvalidInput) as refused:
            engine.open_case(student_loan("SL-Z", "ACCT-" + "7" * 200))
        assert refused.value.field == "student_loan.account"
        assert "7777" not in str(refused.value)


# -- what a debtor's history keeps for each case -----------------------------------------------
_CASES = ("C-1", "C-2", "C-3")
_attempt_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.integers(0, 240),  # minutes after T0
            st.sampled_from(_CASES),
            st.frozensets(st.sampled_from(_CASES), max_size=2),  # about
            st.sampled_from([None, "k-1", "k-2"]),  # intent key
        ),
        st.tuples(st.just("settle"), st.sampled_from(_CASES), st.sampled_from(["k-1", "k-2"])),
    ),
    max_size=25,
)


def _picked(debtor: DebtorHistory, case: str, across: str, moment: datetime) -> list[Attempt]:
    """What a cap judging *case* may count, picked from every attempt afresh."""
    group = debtor.debts.get(case, (case,)) if across == "debt" else None
    return [
        attempt
        for attempt in debtor.attempts
        if attempt.at >= moment
        and (group is None or any(attempt.concerns(member) for member in group))
    ]


class TestWhatTheDebtorHistoryKeeps:
    """`DebtorHistory.counted` and `DebtorHistory.carried` keep their picks per case: what they
    answer is always what picking afresh gives, however attempts and opt-outs are folded in."""

    @given(
        steps=_attempt_steps,
        asked=st.lists(
            st.tuples(
                st.sampled_from(_CASES), st.sampled_from(["debt", "debtor"]), st.integers(0, 240)
            ),
            min_size=1,
            max_size=4,
        ),
        student=st.booleans(),
    )
    def test_the_attempts_counted_are_those_picked_afresh(
        self,
        steps: list[tuple[Any, ...]],
        asked: list[tuple[str, str, int]],
        student: bool,
    ) -> None:
        debts = {"C-1": ("C-1", "C-2"), "C-2": ("C-1", "C-2")} if student else None
        debtor = DebtorHistory("D-1", _CASES, {}, debts)
        for step in steps:
            if step[0] == "add":
                _, minutes, case, about, intent = step
                at = T0 + timedelta(minutes=minutes)
                debtor.add(
                    Attempt(at, "call", "no_answer", "debtor", None, False, "collection",
                            about - {case}, case, intent)
                )  # fmt: skip
            else:
                debtor.settle(step[1], step[2])
            for case, across, minutes in asked:  # asked between folds: what is kept is read
                moment = T0 + timedelta(minutes=minutes)
                assert list(debtor.counted(case, across, moment)) == _picked(
                    debtor, case, across, moment
                )

    def test_an_opt_out_folded_in_reaches_the_other_cases_at_once(self) -> None:
        """Asked on U-2 (nothing carried), then an opt-out of U-1's number folded into the same
        history: U-2 now carries it under its own id for that number, U-1 not its own; U-2
        with other contact points (another tuple) is worked out for those."""
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(US_T0))
        engine.open_cases([us_loan(1, "mobile"), us_loan(2, "cell")], at=US_T0)
        first, second = engine.store.get("U-1"), engine.store.get("U-2")
        debtor = engine._recorder.debtor_history(second)
        assert debtor is not None
        assert debtor.opt_outs_on(second) == []
        at = US_T0 + timedelta(hours=1)
        engine.record_opt_out("U-1", "sms", contact="mobile", at=at)
        assert engine._recorder.debtor_history(second) is debtor
        carried = debtor.opt_outs_on(second)
        assert [(o.case, o.contact, o.at) for o in carried] == [("U-1", "cell", at)]
        assert debtor.opt_outs_on(first) == []
        moved = second.model_copy(
            update={"contacts": (ContactPoint(id="cell", channel="sms", address="+16175550999"),)}
        )
        assert debtor.opt_outs_on(moved) == []

    def test_the_opt_outs_reaching_a_case_follow_each_opt_out_folded_in(self) -> None:
        """U-2 judged (its opt-outs merged and kept), then an opt-out of U-1's number: U-2's
        number with it is refused at once; U-2 judged again (kept), then an opt-out of its
        other number on U-2 itself: that number is refused too, the kept list left."""
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(US_T0))
        engine.open_cases([us_loan(1, "mobile"), us_loan(2, "cell")], at=US_T0)
        cell = {"channel": "sms", "contact": "cell", "text": MIRANDA}
        other = {**cell, "contact": "other"}

        def allowed(proposal: dict[str, str], hours: int) -> bool:
            at = US_T0 + timedelta(hours=hours)
            return engine.judge_contact("U-2", proposal, at=at, record=False).allowed

        assert allowed(cell, 1)
        assert allowed(other, 1)
        engine.record_opt_out("U-1", "sms", contact="mobile", at=US_T0 + timedelta(hours=2))
        assert not allowed(cell, 3)
        assert allowed(other, 3)  # U-1's opt-out merged with U-2's own (none) and kept
        engine.record_opt_out("U-2", "sms", contact="other", at=US_T0 + timedelta(hours=4))
        assert not allowed(other, 5)
        assert not allowed(cell, 5)

    def test_the_opt_outs_reaching_a_case_are_merged_again_from_other_lists(self) -> None:
        """The merged list is kept for the lists it merged: another own list, the same list
        grown, or other contact points (another tuple) are merged again."""
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(US_T0))
        engine.open_cases([us_loan(1, "mobile"), us_loan(2, "cell")], at=US_T0)
        engine.record_opt_out("U-1", "sms", contact="mobile", at=US_T0 + timedelta(hours=2))
        second = engine.store.get("U-2")
        debtor = engine._recorder.debtor_history(second)
        assert debtor is not None
        own: list[Preference] = []
        merged = debtor.opt_outs_reaching(second, own)
        assert [(o.case, o.contact) for o in merged] == [("U-1", "cell")]
        assert debtor.opt_outs_reaching(second, own) is merged
        own.append(Preference(US_T0 + timedelta(hours=1), "sms", "other"))
        grown = debtor.opt_outs_reaching(second, own)
        assert [(o.case, o.contact) for o in grown] == [(None, "other"), ("U-1", "cell")]
        late = [Preference(US_T0 + timedelta(hours=3), "sms", "other")]
        assert [(o.case, o.contact) for o in debtor.opt_outs_reaching(second, late)] == [
            ("U-1", "cell"),
            (None, "other"),
        ]
        moved = second.model_copy(
            update={"contacts": (ContactPoint(id="cell", channel="sms", address="+16175550999"),)}
        )
        assert debtor.opt_outs_reaching(moved, late) is late

    def test_a_judgment_after_an_attempt_on_another_loan_counts_it(self) -> None:
        """US-7IN7 counts per debt: judged on loan 2 (its pick kept), then seven calls on loan 1
        about loan 2: the next judgment on loan 2 counts them."""
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(US_T0))
        engine.open_cases([us_loan(1, "mobile"), us_loan(2, "cell")], at=US_T0)
        at = US_T0 + timedelta(days=1)
        proposal = {"channel": "call", "contact": "cell"}
        assert engine.judge_contact("U-2", proposal, at=at, record=False).allowed
        for minute in range(7):
            engine.record_interaction(
                "U-1", "call", "no_answer", contact="mobile", about=["U-2"],
                at=at + timedelta(minutes=minute),
            )  # fmt: skip
        verdict = engine.judge_contact("U-2", proposal, at=at + timedelta(hours=1), record=False)
        assert verdict.rules == ("US-7IN7",)
        assert verdict.reasons[0].values["count"] == 8


TWO_STEPS_POLICY = """\
id: per-debtor-two
version: "1"
packs: [CN]
review: {time: "09:30"}
per_debtor:
  - {channels: [sms], limit: 2}
steps:
  - id: overdue-sms
    stages: [notified]
    send: {channel: sms}
  - id: overdue-sms-again
    stages: [notified]
    send: {channel: sms, purpose: reminder}
"""


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_a_review_asks_the_debtors_history_once(
    store_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each review asks for the debtor's history once, however many messages it judges:
    the intents it records on the way are folded into that same history
    (`Recorder.record`), so the per-debtor limit still counts them: two SMS a day, both
    L-1's; L-2's two, judged on the history L-2's review asked once, are denied."""
    from arrears.channels import RecordingChannel
    from arrears.policy import load_policy
    from arrears.recorder import Recorder

    path = tmp_path / "policy.yaml"
    path.write_text(TWO_STEPS_POLICY, encoding="utf-8")
    store: Any = MemoryStore() if store_kind == "memory" else SQLiteStore(tmp_path / "t.db")
    sms = RecordingChannel(channels=frozenset({"sms"}))
    made = Engine(policy=load_policy(path), store=store, channels=[sms], clock=SettableClock(T0))
    made.open_cases([sms_loan(1), sms_loan(2)])
    asked: list[str] = []
    original = Recorder.debtor_history

    def counted(self: Recorder, case: Any) -> Any:
        asked.append(case.id)
        return original(self, case)

    monkeypatch.setattr(Recorder, "debtor_history", counted)
    report = made.tick(T0 + timedelta(minutes=30))  # 09:30 in Shanghai
    assert sorted(asked) == ["L-1", "L-2"]  # two reviews, one ask each
    assert [message.case_id for message in sms.attempts] == ["L-1", "L-1"]
    assert (report.sent, report.denied) == (2, 2)
    assert dict(report.blocked_by) == {"POLICY-PER-DEBTOR-1": 2}
    if isinstance(store, SQLiteStore):
        store.close()
