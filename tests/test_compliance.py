"""The compliance engine: rule kinds, packs, overrides, verdicts and their journal records.

The scenario files in tests/scenarios/ cover each pack's rules as a compliance
officer reads them; these tests cover the mechanics under them: local time
across DST, rolling windows, next_allowed_at, overrides and the engine's records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import Engine, InvalidInput, SettableClock
from arrears.compliance import (
    PACKS,
    Compliance,
    ContactHistory,
    ContactHours,
    FrequencyCap,
    Judgement,
    NoContactOnHolidays,
    Proposal,
    RecordRetention,
    earliest_local,
    known_packs,
    known_rule_ids,
    rule,
    validation_period_end,
    zones_for_address,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SHANGHAI = ZoneInfo("Asia/Shanghai")

BOSTON_MOBILE = "+16175550123"
TOLL_FREE = "+18005550100"


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NY)  # type: ignore[misc]


def us_case(
    case_id: str = "C-1", timezone: str | None = "America/New_York", **extra: Any
) -> dict[str, Any]:
    debtor: dict[str, Any] = {"id": f"D-{case_id}"}
    if timezone is not None:
        debtor["timezone"] = timezone
    data: dict[str, Any] = {
        "id": case_id,
        "debtor": debtor,
        "contacts": [
            {"id": "mobile", "channel": "call", "address": BOSTON_MOBILE},
            {"id": "email", "channel": "email", "address": "jane@example.com"},
            {"id": "work-email", "channel": "email", "address": "jane@corp.example", "work": True},
            {"id": "sister", "channel": "call", "address": "+16175550999", "party": "third_party"},
        ],
        "balance": {"currency": "USD", "principal": "1250.00"},
        "due_date": "2026-09-01",
        "stage": "phone",
    }
    data.update(extra)
    return data


@pytest.fixture
def regf() -> Engine:
    """An engine under Reg F with case C-1 open (New York debtor) and a validation notice sent."""
    engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(ny(2026, 9, 30, 9)))
    engine.open_case(us_case())
    engine.record_notice("C-1", "validation")
    return engine


Judge = Callable[..., Any]


def call(engine: Engine, at: datetime, case_id: str = "C-1", **proposal: Any) -> Any:
    fields = {"channel": "call", "contact": "mobile", **proposal}
    return engine.judge_contact(case_id, fields, at=at, record=False)


# -- local time -----------------------------------------------------------------------------------
class TestEarliestLocal:
    def test_ordinary_time(self) -> None:
        assert earliest_local(date(2026, 7, 1), time(8), NY) == ny(2026, 7, 1, 8)

    def test_in_the_spring_forward_gap_it_is_the_end_of_the_gap(self) -> None:
        """02:30 does not exist in New York on 8 March 2026: the next instant is 03:00 EDT."""
        moment = earliest_local(date(2026, 3, 8), time(2, 30), NY)
        assert moment.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
        assert moment.astimezone(NY).strftime("%H:%M %Z") == "03:00 EDT"

    def test_in_the_fall_back_fold_it_is_the_first_occurrence(self) -> None:
        """01:30 happens twice in London on 25 October 2026: the BST one (00:30 UTC) comes first."""
        moment = earliest_local(date(2026, 10, 25), time(1, 30), LONDON)
        assert moment.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


class TestZonesForAddress:
    def test_a_boston_mobile_is_in_new_york_time(self) -> None:
        assert [zone.key for zone in zones_for_address(BOSTON_MOBILE)] == ["America/New_York"]

    def test_a_toll_free_number_spans_the_continent(self) -> None:
        keys = {zone.key for zone in zones_for_address(TOLL_FREE)}
        assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu"} <= keys

    @pytest.mark.parametrize("address", ["unknown", "+1555", "not a number"])
    def test_no_zone_for_what_is_not_a_valid_number(self, address: str) -> None:
        assert zones_for_address(address) == ()


# -- contact hours --------------------------------------------------------------------------------
class TestContactHours:
    @pytest.mark.parametrize(
        ("hour", "minute", "allowed"),
        [(7, 59, False), (8, 0, True), (20, 59, True), (21, 0, False), (23, 30, False)],
    )
    def test_reg_f_window_edges(self, regf: Engine, hour: int, minute: int, allowed: bool) -> None:
        verdict = call(regf, ny(2026, 10, 1, hour, minute))
        assert verdict.allowed is allowed
        assert verdict.rules == (() if allowed else ("US-TIME",))

    def test_an_sms_at_2130_is_denied_with_the_local_time_named(self, regf: Engine) -> None:
        verdict = call(regf, ny(2026, 10, 1, 21, 30), channel="sms")
        assert verdict.rules == ("US-TIME",)
        assert verdict.reasons[0].message == (
            "21:30 local time in America/New_York is outside 08:00-21:00"
        )
        assert verdict.next_allowed_at == ny(2026, 10, 2, 8, 0)

    def test_next_allowed_across_spring_forward(self) -> None:
        """Denied at 21:30 EST on 7 March; allowed again at 08:00 EDT, which is 12:00 UTC."""
        engine = Engine(compliance=Compliance(["US-RegF"]))
        engine.open_case(us_case(), at=ny(2026, 3, 1, 9))
        engine.record_notice("C-1", "validation", at=ny(2026, 3, 1, 9))
        verdict = call(engine, ny(2026, 3, 7, 21, 30))
        assert verdict.next_allowed_at is not None
        assert verdict.next_allowed_at.astimezone(UTC) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)

    def test_debtor_zone_not_the_lender_zone(self) -> None:
        """10:00 in Shanghai is 22:00 the evening before in New York: denied."""
        engine = Engine(compliance=Compliance(["US-RegF"]))
        engine.open_case(us_case(), at=datetime(2026, 9, 30, 9, tzinfo=SHANGHAI))
        engine.record_notice("C-1", "validation", at=datetime(2026, 9, 30, 9, tzinfo=SHANGHAI))
        verdict = call(engine, datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI))
        assert verdict.rules == ("US-TIME",)
        assert verdict.next_allowed_at == ny(2026, 10, 2, 8, 0)

    def test_unknown_zone_uses_the_numbers_zones(self) -> None:
        engine = Engine(compliance=Compliance(["US-RegF"]))
        engine.open_case(us_case(timezone=None), at=ny(2026, 9, 30, 9))
        engine.record_notice("C-1", "validation", at=ny(2026, 9, 30, 9))
        assert call(engine, ny(2026, 10, 1, 20, 30)).allowed
        assert call(engine, ny(2026, 10, 1, 21, 30)).rules == ("US-TIME",)

    def test_unknown_zone_with_a_toll_free_number_needs_every_zone_convenient(self) -> None:
        """12:00 in New York is 06:00 in Honolulu: denied; the window common to all opens later."""
        contacts = [{"id": "mobile", "channel": "call", "address": TOLL_FREE}]
        engine = Engine(compliance=Compliance(["US-RegF"]))
        engine.open_case(us_case(timezone=None, contacts=contacts), at=ny(2026, 9, 30, 9))
        engine.record_notice("C-1", "validation", at=ny(2026, 9, 30, 9))
        verdict = call(engine, ny(2026, 10, 1, 12, 0))
        assert verdict.rules == ("US-TIME",)
        assert verdict.next_allowed_at is not None
        retry = verdict.next_allowed_at
        assert call(engine, retry).allowed
        for zone in zones_for_address(TOLL_FREE):
            assert time(8) <= retry.astimezone(zone).time() < time(21), zone.key

    def test_unknown_location_is_denied_until_resolved(self) -> None:
        contacts = [{"id": "mobile", "channel": "call", "address": "unknown"}]
        engine = Engine(compliance=Compliance(["US-RegF"]))
        engine.open_case(us_case(timezone=None, contacts=contacts), at=ny(2026, 9, 30, 9))
        verdict = call(engine, ny(2026, 10, 1, 12, 0))
        assert verdict.rules == ("US-TIME",)
        assert "location is unknown" in verdict.reasons[0].message
        assert verdict.next_allowed_at is None

    def test_direct_consent_lifts_the_window_for_an_hour(self, regf: Engine) -> None:
        regf.record_consent("C-1", "call", at=ny(2026, 10, 1, 21, 10))
        assert call(regf, ny(2026, 10, 1, 21, 30)).allowed
        assert not call(regf, ny(2026, 10, 1, 22, 30)).allowed

    def test_times_the_debtor_named_are_refused_even_across_midnight(self, regf: Engine) -> None:
        regf.record_inconvenient("C-1", time(12, 0), time(13, 30), at=ny(2026, 9, 30, 10))
        regf.record_inconvenient("C-1", time(20, 0), time(9, 0), at=ny(2026, 9, 30, 10))
        lunch = call(regf, ny(2026, 10, 1, 12, 15))
        assert lunch.rules == ("US-TIME",)
        assert "named inconvenient" in lunch.reasons[0].message
        assert lunch.next_allowed_at == ny(2026, 10, 1, 13, 30)
        assert call(regf, ny(2026, 10, 1, 8, 30)).next_allowed_at == ny(2026, 10, 1, 9, 0)
        assert call(regf, ny(2026, 10, 1, 19, 59)).allowed

    def test_an_empty_or_aware_span_is_refused(self, regf: Engine) -> None:
        with pytest.raises(InvalidInput, match="end"):
            regf.record_inconvenient("C-1", time(9), time(9))
        with pytest.raises(InvalidInput, match="start"):
            regf.record_inconvenient("C-1", time(9, tzinfo=UTC), time(10))


# -- frequency ------------------------------------------------------------------------------------
class TestSevenInSeven:
    def calls(
        self, engine: Engine, days: range, outcome: str = "no_answer", hour: int = 10
    ) -> None:
        for day in days:
            engine.record_interaction(
                "C-1", "call", outcome, contact="mobile", at=ny(2026, 10, day, hour)
            )

    def test_the_eighth_counted_call_in_seven_days_is_denied(self, regf: Engine) -> None:
        self.calls(regf, range(1, 8))
        verdict = call(regf, ny(2026, 10, 7, 15))
        assert verdict.rules == ("US-7IN7",)
        assert verdict.reasons[0].message == "8 counted calls in 7 days, limit 7"
        assert verdict.reasons[0].values["count"] == 8
        # The call of 1 October leaves the window at midnight on the 8th; the window opens at 08:00.
        assert verdict.next_allowed_at == ny(2026, 10, 8, 8, 0)

    def test_calls_that_did_not_connect_do_not_count(self, regf: Engine) -> None:
        self.calls(regf, range(1, 7))
        self.calls(regf, range(7, 8), outcome="not_connected")
        assert call(regf, ny(2026, 10, 7, 15)).allowed

    def test_calls_to_a_third_party_do_not_count_for_the_debtor(self, regf: Engine) -> None:
        self.calls(regf, range(1, 7))
        regf.record_interaction(
            "C-1", "call", "no_answer", contact="sister", at=ny(2026, 10, 7, 10)
        )
        assert call(regf, ny(2026, 10, 7, 15)).allowed

    def test_calls_on_another_debt_do_not_count(self, regf: Engine) -> None:
        regf.open_case(us_case("C-2"), at=ny(2026, 9, 30, 10))
        for day in range(1, 8):
            regf.record_interaction(
                "C-2", "call", "no_answer", contact="mobile", at=ny(2026, 10, day, 10)
            )
        self.calls(regf, range(1, 7))
        assert call(regf, ny(2026, 10, 7, 15)).allowed
        assert not call(regf, ny(2026, 10, 7, 15), case_id="C-2").allowed

    def test_after_a_conversation_on_day_1_day_7_is_denied_and_day_8_allowed(
        self, regf: Engine
    ) -> None:
        self.calls(regf, range(2, 3), outcome="conversation")
        day7 = call(regf, ny(2026, 10, 8, 20, 59))
        assert day7.rules == ("US-7IN7",)
        assert day7.next_allowed_at == ny(2026, 10, 9, 8, 0)
        assert call(regf, ny(2026, 10, 9, 8, 0)).allowed

    def test_consent_within_seven_days_exempts_the_calls_it_covers(self, regf: Engine) -> None:
        self.calls(regf, range(1, 8))
        regf.record_consent(
            "C-1",
            "call",
            at=ny(2026, 10, 7, 12),
            covers=["calls"],
            start=ny(2026, 10, 7, 14),
            until=ny(2026, 10, 7, 16),
        )
        assert call(regf, ny(2026, 10, 7, 15)).allowed
        # Outside the window it names the consent covers nothing: the 8th call is denied.
        assert call(regf, ny(2026, 10, 7, 16, 30)).rules == ("US-7IN7",)

    def test_a_consent_to_be_called_now_covers_an_hour(self, regf: Engine) -> None:
        self.calls(regf, range(1, 8))
        regf.record_consent("C-1", "call", at=ny(2026, 10, 7, 12))
        assert call(regf, ny(2026, 10, 7, 12, 59)).allowed
        assert call(regf, ny(2026, 10, 7, 13, 1)).rules == ("US-7IN7",)

    def test_a_consent_for_another_scope_exempts_nothing(self, regf: Engine) -> None:
        self.calls(regf, range(1, 8))
        regf.record_consent("C-1", "call", at=ny(2026, 10, 7, 12), covers=["automated"])
        assert call(regf, ny(2026, 10, 7, 12, 10)).rules == ("US-7IN7",)

    def test_override_makes_the_cap_stricter(self) -> None:
        engine = Engine(compliance=Compliance(["US-RegF"], overrides={"US-7IN7": {"limit": 3}}))
        engine.open_case(us_case(), at=ny(2026, 9, 30, 9))
        engine.record_notice("C-1", "validation", at=ny(2026, 9, 30, 9))
        for day in (1, 2, 3):
            engine.record_interaction(
                "C-1", "call", "no_answer", contact="mobile", at=ny(2026, 10, day, 10)
            )
        verdict = call(engine, ny(2026, 10, 3, 15))
        assert verdict.reasons[0].message == "4 counted calls in 7 days, limit 3"


class TestChinaDailyCaps:
    @pytest.fixture
    def cn(self) -> Engine:
        engine = Engine(compliance=Compliance(["CN"]))
        engine.open_case(
            {
                "id": "C-1",
                "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
                "contacts": [{"id": "m", "channel": "call", "address": "+8613812345678"}],
                "balance": {"currency": "CNY", "principal": "10000.00"},
                "due_date": "2026-09-01",
                "stage": "phone",
            },
            at=datetime(2026, 10, 1, 8, tzinfo=SHANGHAI),
        )
        return engine

    def test_three_answered_calls_a_day_then_midnight_resets(self, cn: Engine) -> None:
        for hour in (9, 12, 21):
            cn.record_interaction(
                "C-1",
                "call",
                "conversation",
                contact="m",
                at=datetime(2026, 10, 1, hour, tzinfo=SHANGHAI),
            )
        verdict = cn.judge_contact(
            "C-1",
            {"channel": "call", "contact": "m"},
            at=datetime(2026, 10, 1, 21, 30, tzinfo=SHANGHAI),
            record=False,
        )
        assert verdict.rules == ("CN-CALLS-EFFECTIVE",)
        assert verdict.reasons[0].message == "4 counted answered calls in a day, limit 3"
        assert verdict.next_allowed_at == datetime(2026, 10, 2, 8, 0, tzinfo=SHANGHAI)

    def test_six_unanswered_attempts_per_number(self, cn: Engine) -> None:
        for minute in range(0, 60, 10):
            cn.record_interaction(
                "C-1",
                "call",
                "no_answer",
                contact="m",
                at=datetime(2026, 10, 1, 23, minute, tzinfo=SHANGHAI) - timedelta(hours=10),
            )
        verdict = cn.judge_contact(
            "C-1",
            {"channel": "call", "contact": "m"},
            at=datetime(2026, 10, 1, 14, tzinfo=SHANGHAI),
            record=False,
        )
        assert verdict.rules == ("CN-CALLS-ATTEMPTS",)


# -- the engine's records -------------------------------------------------------------------------
class TestRecords:
    def test_a_denial_is_journaled_with_every_reason(self, regf: Engine) -> None:
        before = len(regf.history("C-1"))
        verdict = regf.judge_contact(
            "C-1", {"channel": "sms", "contact": "mobile"}, at=ny(2026, 10, 1, 22)
        )
        entries = regf.history("C-1")
        assert len(entries) == before + 1
        last = entries[-1]
        assert last.kind == "contact_denied"
        assert [reason["rule"] for reason in last.data["reasons"]] == list(verdict.rules)
        assert last.data["reasons"][0]["citation"] == "12 CFR 1006.6(b)(1)(i)"
        assert last.data["next_allowed_at"] == "2026-10-02T08:00:00-04:00"
        assert regf.verify() == []
        assert regf.replay("C-1") == regf.case("C-1")

    def test_an_allowed_judgment_and_record_false_leave_no_entry(self, regf: Engine) -> None:
        before = len(regf.history("C-1"))
        assert regf.judge_contact(
            "C-1", {"channel": "call", "contact": "mobile"}, at=ny(2026, 10, 1, 10)
        ).allowed
        assert not regf.judge_contact(
            "C-1", {"channel": "call", "contact": "mobile"}, at=ny(2026, 10, 1, 22), record=False
        ).allowed
        assert len(regf.history("C-1")) == before

    def test_a_denial_does_not_count_as_a_call(self, regf: Engine) -> None:
        for _ in range(20):
            regf.judge_contact(
                "C-1", {"channel": "call", "contact": "mobile"}, at=ny(2026, 10, 1, 22)
            )
        assert call(regf, ny(2026, 10, 2, 9)).allowed

    def test_denial_logs_name_rules_not_people(
        self, regf: Engine, logs: list[dict[str, Any]]
    ) -> None:
        regf.judge_contact("C-1", {"channel": "call", "contact": "mobile"}, at=ny(2026, 10, 1, 22))
        event = next(entry for entry in logs if entry["event"] == "contact_denied")
        assert event["rules"] == ["US-TIME"]
        assert BOSTON_MOBILE[2:] not in repr(logs)

    def test_unknown_contact_is_masked(self, regf: Engine) -> None:
        with pytest.raises(InvalidInput) as err:
            regf.judge_contact(
                "C-1", {"channel": "call", "contact": "+16175550123"}, at=ny(2026, 10, 1, 10)
            )
        assert BOSTON_MOBILE not in str(err.value)
        assert "*******0123" in str(err.value)

    def test_a_contact_point_used_on_another_medium_is_refused(self, regf: Engine) -> None:
        with pytest.raises(InvalidInput, match="channel"):
            regf.judge_contact(
                "C-1", {"channel": "email", "contact": "mobile"}, at=ny(2026, 10, 1, 10)
            )

    def test_the_cached_history_equals_one_built_from_the_journal(self, regf: Engine) -> None:
        regf.judge_contact("C-1", {"channel": "call", "contact": "mobile"}, at=ny(2026, 10, 1, 10))
        regf.record_interaction(
            "C-1", "call", "conversation", contact="mobile", at=ny(2026, 10, 1, 11)
        )
        regf.record_opt_out("C-1", "email", at=ny(2026, 10, 1, 12))
        regf.record_consent("C-1", "call", at=ny(2026, 10, 1, 13))
        regf.record_consent(
            "C-1",
            "call",
            contact="mobile",
            covers=["hours", "calls"],
            until=ny(2026, 10, 1, 14),
            at=ny(2026, 10, 1, 13, 30),
        )
        cached = regf.contact_history("C-1")
        rebuilt = ContactHistory.from_entries(regf.history("C-1"))
        assert cached.attempts == rebuilt.attempts
        assert cached.opt_outs == rebuilt.opt_outs
        assert cached.consents == rebuilt.consents
        assert cached.seq == rebuilt.seq == regf.store.head("C-1").seq


# -- packs, overrides and rules of your own -------------------------------------------------------
class TestPacks:
    def test_the_shipped_packs(self) -> None:
        assert known_packs() >= {"CN", "US-RegF", "US-MA", "US-NY", "US-NYC", "US-WA", "UK"}

    def test_overlays_bring_their_base(self) -> None:
        ids = Compliance(["US-MA"]).rule_ids
        assert "US-7IN7" in ids
        assert "US-MA" in ids
        assert ids.index("US-7IN7") < ids.index("US-MA")

    def test_every_rule_cites_its_source_and_confirm_is_kept(self) -> None:
        for pack in PACKS.values():
            for item in pack.rules:
                assert item.citation, item.id
                assert item.title, item.id
        assert "[confirm]" in PACKS["CN"].rules[0].citation
        assert len(known_rule_ids()) == sum(len(pack.rules) for pack in PACKS.values())

    def test_unknown_pack(self) -> None:
        with pytest.raises(InvalidInput, match="US-TX"):
            Compliance(["US-TX"])

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"US-9IN9": {"limit": 3}}, "overrides"),
            ({"US-7IN7": {"limit": -1}}, "overrides.US-7IN7.limit"),
            ({"US-7IN7": {"limits": 3}}, "overrides.US-7IN7.limits"),
            ({"US-7IN7": {"id": "X"}}, "overrides.US-7IN7.id"),
        ],
    )
    def test_bad_overrides_name_the_field(self, overrides: dict[str, Any], field: str) -> None:
        with pytest.raises(InvalidInput) as err:
            Compliance(["US-RegF"], overrides=overrides)
        assert err.value.field == field

    def test_a_rule_can_be_turned_off(self, regf: Engine) -> None:
        engine = Engine(
            compliance=Compliance(["US-RegF"], overrides={"US-TIME": {"enabled": False}})
        )
        engine.open_case(us_case(), at=ny(2026, 9, 30, 9))
        assert call(engine, ny(2026, 10, 1, 23)).allowed

    def test_a_rule_written_in_python(self) -> None:
        @rule("LENDER-NO-SUNDAY", "Lender policy 4.2", channels=frozenset({"call"}))
        def no_sunday(j: Judgement) -> str | None:
            """No calls on Sunday."""
            return "no calls on Sunday" if j.local(j.at).weekday() == 6 else None

        engine = Engine(compliance=Compliance(["US-RegF"], rules=[no_sunday]))
        engine.open_case(us_case(), at=ny(2026, 9, 30, 9))
        engine.record_notice("C-1", "validation", at=ny(2026, 9, 30, 9))
        sunday = call(engine, ny(2026, 10, 4, 10))
        assert sunday.rules == ("LENDER-NO-SUNDAY",)
        assert sunday.reasons[0].citation == "Lender policy 4.2"
        assert no_sunday.title == "No calls on Sunday."
        assert call(engine, ny(2026, 10, 5, 10)).allowed

    def test_duplicate_rule_ids_are_refused(self) -> None:
        mine = ContactHours(id="US-TIME", citation="mine")
        with pytest.raises(InvalidInput, match="US-TIME"):
            Compliance(["US-RegF"], rules=[mine])

    def test_frequency_cap_needs_exactly_one_window(self) -> None:
        with pytest.raises(ValueError, match="exactly one of days and hours"):
            FrequencyCap(id="X-CAP", citation="x", limit=1, days=1, hours=24)

    def test_holiday_calendar(self) -> None:
        """1 October is National Day in China; contact resumes after the Golden Week holidays."""
        holidays_rule = NoContactOnHolidays(
            id="LENDER-HOLIDAYS", citation="Lender policy", country="CN"
        )
        engine = Engine(compliance=Compliance(rules=[holidays_rule]))
        engine.open_case(
            {
                "id": "C-1",
                "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
                "contacts": [{"id": "m", "channel": "call", "address": "+8613812345678"}],
                "balance": {"currency": "CNY", "principal": "100.00"},
                "due_date": "2026-09-01",
            },
            at=datetime(2026, 9, 30, 8, tzinfo=SHANGHAI),
        )
        verdict = engine.judge_contact(
            "C-1",
            {"channel": "call", "contact": "m"},
            at=datetime(2026, 10, 1, 10, tzinfo=SHANGHAI),
        )
        assert verdict.rules == ("LENDER-HOLIDAYS",)
        assert "National Day" in verdict.reasons[0].message
        assert verdict.next_allowed_at is not None
        assert verdict.next_allowed_at.date() > date(2026, 10, 3)

    def test_record_retention(self) -> None:
        retention = RecordRetention(id="X-REC", citation="x", years=2)
        assert retention.keep_until(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(
            2026, 2, 28, tzinfo=UTC
        )

    def test_validation_period_skips_weekends_and_federal_holidays(self) -> None:
        """Sent Friday 20 Nov 2026: received Monday 30 Nov (Thanksgiving skipped); ends 30 Dec."""
        assert validation_period_end(date(2026, 11, 20)) == date(2026, 12, 30)
        assert validation_period_end(date(2026, 6, 1)) == date(2026, 7, 8)


# -- invariants -----------------------------------------------------------------------------------
_OUTCOMES = st.sampled_from(["no_answer", "busy", "not_connected", "voicemail", "conversation"])


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.tuples(st.integers(1, 60 * 30), _OUTCOMES), max_size=25),
    probe=st.integers(0, 60 * 24 * 10),
    pack=st.sampled_from(["US-RegF", "CN", "UK", "US-MA", "US-NY", "US-NYC", "US-WA"]),
)
def test_next_allowed_at_is_allowed(gaps: list[tuple[int, str]], probe: int, pack: str) -> None:
    """Whenever a verdict names a next allowed time, the same contact is allowed then."""
    engine = Engine(compliance=Compliance([pack]))
    start = ny(2026, 10, 20, 9)
    engine.open_case(us_case(), at=start)
    engine.record_notice("C-1", "validation", at=start)
    engine.record_notice("C-1", "forbearance", at=start)
    moment = start
    for minutes, outcome in gaps:
        moment += timedelta(minutes=minutes)
        engine.record_interaction("C-1", "call", outcome, contact="mobile", at=moment)
    at = moment + timedelta(minutes=probe)
    verdict = call(engine, at)
    if verdict.allowed:
        assert verdict.next_allowed_at == at
    elif verdict.next_allowed_at is not None:
        assert verdict.next_allowed_at > at
        assert call(engine, verdict.next_allowed_at).allowed


def test_judging_changes_nothing_but_the_journal() -> None:
    compliance = Compliance(["US-RegF"])
    engine = Engine(compliance=compliance)
    engine.open_case(us_case(), at=ny(2026, 9, 30, 9))
    case = engine.case("C-1")
    history = ContactHistory.from_entries(engine.history("C-1"))
    proposal = Proposal(channel="call", contact="mobile")
    first = compliance.judge(case, history, proposal, ny(2026, 10, 1, 22))
    again = compliance.judge(case, history, proposal, ny(2026, 10, 1, 22))
    assert first == again
    assert case == engine.case("C-1")


# -- the findings of the legal review: consent scope, opt-outs, disclosures, moratoria ---------
def _engine(packs: list[str], start: datetime, **case: Any) -> tuple[Engine, SettableClock]:
    clock = SettableClock(start)
    engine = Engine(compliance=Compliance(packs), clock=clock)
    engine.open_case(us_case(**case))
    engine.record_notice("C-1", "validation")
    return engine, clock


class TestConsentScope:
    def test_unknown_scope_and_backwards_window_are_refused(self) -> None:
        engine, _ = _engine(["US-RegF"], ny(2026, 10, 1, 9))
        with pytest.raises(InvalidInput, match="covers"):
            engine.record_consent("C-1", "call", covers=["everything"])
        with pytest.raises(InvalidInput, match="until"):
            engine.record_consent("C-1", "call", until=ny(2026, 10, 1, 8))

    def test_the_journal_keeps_what_the_consent_covers(self) -> None:
        engine, _ = _engine(["US-RegF"], ny(2026, 10, 1, 9))
        entry = engine.record_consent(
            "C-1", "call", contact="mobile", covers=["calls", "hours"], until=ny(2026, 10, 1, 17)
        )
        assert entry.data["covers"] == ["calls", "hours"]
        assert entry.data["until"] == ny(2026, 10, 1, 17).isoformat()
        consent = ContactHistory.from_entries(engine.history("C-1")).consents[-1]
        assert consent.scopes == frozenset({"calls", "hours"})
        assert consent.window(None) == (ny(2026, 10, 1, 9), ny(2026, 10, 1, 17))

    def test_a_callback_consent_is_not_consent_to_automated_calls(self) -> None:
        engine, clock = _engine(["US-RegF"], ny(2026, 10, 1, 9))
        engine.record_consent("C-1", "call")
        automated = {"channel": "call", "contact": "mobile", "automated": True}
        assert engine.judge_contact("C-1", automated).rules == ("US-TCPA",)
        engine.record_consent("C-1", "call", contact="mobile", covers=["automated"])
        clock.set(ny(2026, 12, 1, 10))
        assert engine.judge_contact("C-1", automated).allowed

    def test_a_consent_to_another_persons_number_does_not_lift_the_debtors_window(
        self,
    ) -> None:
        engine, clock = _engine(["US-RegF"], ny(2026, 10, 1, 21, 5))
        engine.record_consent("C-1", "call", contact="sister", covers=["hours"])
        clock.set(ny(2026, 10, 1, 21, 10))
        assert engine.judge_contact("C-1", {"channel": "call", "contact": "mobile"}).rules == (
            "US-TIME",
        )


class TestOptOutOfCalls:
    def test_a_call_opt_out_covers_voicemail_and_only_a_text_confirms_a_text_opt_out(
        self,
    ) -> None:
        contacts = [
            {"id": "mobile", "channel": "call", "address": BOSTON_MOBILE},
            {"id": "mobile-sms", "channel": "sms", "address": BOSTON_MOBILE},
        ]
        engine, _ = _engine(["US-RegF"], ny(2026, 10, 1, 10), contacts=contacts)
        engine.record_opt_out("C-1", "call", contact="mobile")
        for channel in ("call", "voicemail"):
            for purpose in ("collection", "limited_content", "opt_out_confirmation"):
                verdict = engine.judge_contact(
                    "C-1", {"channel": channel, "contact": "mobile", "purpose": purpose}
                )
                assert "US-MEDIUM" in verdict.rules, (channel, purpose)
        engine.record_opt_out("C-1", "sms", contact="mobile-sms", via="sms")  # STOP texted
        confirm = {"channel": "sms", "contact": "mobile-sms", "purpose": "opt_out_confirmation"}
        assert engine.judge_contact("C-1", confirm).allowed

    def test_the_confirmation_goes_back_by_the_medium_the_request_came_by(self) -> None:
        """12 CFR 1006.14(h)(2)(i): a reply to the request.  Asked on the phone not to text:
        no confirming text; the medium not recorded: none either, the reason saying why."""
        contacts = [{"id": "mobile-sms", "channel": "sms", "address": BOSTON_MOBILE}]
        confirm = {"channel": "sms", "contact": "mobile-sms", "purpose": "opt_out_confirmation"}
        expected = {
            "call": "(asked by call: only an electronic reply may confirm it)",
            "email": "(asked by email: only a reply by email may confirm it)",
            None: "(how it was asked is not recorded: no confirmation by sms)",
        }
        for via, why in expected.items():
            engine, _ = _engine(["US-RegF"], ny(2026, 10, 1, 10), contacts=contacts)
            engine.record_opt_out("C-1", "sms", contact="mobile-sms", via=via)
            verdict = engine.judge_contact("C-1", confirm, record=False)
            assert verdict.rules == ("US-MEDIUM",), via
            assert verdict.reasons[0].message == (
                f"the person opted out of sms on 2026-10-01 {why}"
            )
        with pytest.raises(InvalidInput) as err:
            engine.record_opt_out("C-1", "sms", via="fax")
        assert (err.value.field, err.value.value) == ("via", "fax")


class TestMassachusettsCounts:
    @pytest.mark.parametrize(
        ("outcome", "counted"),
        [
            ("no_answer", True),
            ("voicemail", True),
            ("conversation", True),
            ("wrong_party", True),
            ("busy", False),
            ("not_connected", False),
        ],
    )
    def test_what_an_initiated_communication_is(self, outcome: str, counted: bool) -> None:
        engine, clock = _engine(["US-MA"], ny(2026, 10, 5, 10))
        for day in (5, 6):
            clock.set(ny(2026, 10, day, 10))
            engine.record_interaction("C-1", "call", outcome, contact="mobile")
        clock.set(ny(2026, 10, 6, 11))
        verdict = engine.judge_contact("C-1", {"channel": "call", "contact": "mobile"})
        assert ("US-MA" in verdict.rules) is counted


class TestMiranda:
    FULL = (
        "This is an attempt to collect a debt and any information obtained will be used "
        "for that purpose."
    )

    def test_the_first_written_communication_after_an_oral_one_repeats_the_disclosure(
        self,
    ) -> None:
        engine, clock = _engine(["US-RegF"], ny(2026, 10, 1, 10))
        engine.record_interaction("C-1", "call", "conversation", contact="mobile")
        clock.set(ny(2026, 10, 2, 10))
        email = {"channel": "email", "contact": "email"}
        short = {**email, "text": "From a debt collector. Reply STOP to opt out."}
        full = {**email, "text": f"From a debt collector. {self.FULL} Reply STOP to opt out."}
        assert engine.judge_contact("C-1", short).rules == ("US-MIRANDA",)
        assert engine.judge_contact("C-1", full).allowed
        engine.record_interaction("C-1", "email", "delivered", contact="email")
        assert engine.judge_contact("C-1", short).allowed


LONDON_CASE: dict[str, Any] = {
    "debtor": {"id": "D-UK", "timezone": "Europe/London"},
    "contacts": [{"id": "mobile", "channel": "call", "address": "+447911123456"}],
    "balance": {"currency": "GBP", "principal": "900.00"},
}


@settings(max_examples=40, deadline=None)
@given(minutes=st.integers(min_value=0, max_value=365 * 24 * 60 - 1))
def test_breathing_space_ends_at_london_midnight_after_day_60(minutes: int) -> None:
    """Whenever the hold is recorded, it ends at 00:00 London time 61 days after that day."""
    started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    clock = SettableClock(started)
    engine = Engine(compliance=Compliance(["UK"]), clock=clock)
    engine.open_case({**us_case(), **LONDON_CASE})
    engine.add_hold("C-1", "breathing_space", "standard breathing space")
    first = started.astimezone(LONDON).date() + timedelta(days=1)
    end = earliest_local(first + timedelta(days=60), time(0), LONDON)
    history = ContactHistory.from_entries(engine.history("C-1"))
    case = engine.case("C-1")
    proposal = Proposal(channel="letter", party="debtor")
    compliance = engine.compliance
    assert "UK-BS" in compliance.judge(case, history, proposal, end - timedelta(seconds=1)).rules
    assert "UK-BS" not in compliance.judge(case, history, proposal, end).rules


class TestContactPersons:
    def test_a_refusal_on_any_medium_stops_every_contact_with_that_person(self) -> None:
        contacts = [
            {"id": "mobile", "channel": "call", "address": "+8613812345678"},
            {
                "id": "friend",
                "channel": "call",
                "address": "+8613987654321",
                "party": "third_party",
            },
            {
                "id": "friend-sms",
                "channel": "sms",
                "address": "+8613987654321",
                "party": "third_party",
            },
        ]
        start = datetime(2026, 10, 12, 10, tzinfo=SHANGHAI)
        clock = SettableClock(start)
        engine = Engine(compliance=Compliance(["CN"]), clock=clock)
        engine.open_case(
            us_case(contacts=contacts, debtor={"id": "D-CN", "timezone": "Asia/Shanghai"})
        )
        for hour in (10, 11, 12):
            clock.set(start.replace(hour=hour))
            engine.record_interaction("C-1", "call", "no_answer", contact="mobile")
        relay = {"channel": "call", "contact": "friend", "purpose": "relay"}
        assert engine.judge_contact("C-1", relay).allowed
        assert (
            "CN-THIRD-PARTY"
            in engine.judge_contact("C-1", {**relay, "purpose": "collection"}).rules
        )
        engine.record_opt_out("C-1", "sms", contact="friend-sms")
        assert "CN-THIRD-PARTY" in engine.judge_contact("C-1", relay).rules


# -- places, attorneys, identification and exposure ---------------------------------------------
class TestRepresentedByAttorney:
    def _engine(self, **overrides: Any) -> tuple[Engine, SettableClock]:
        clock = SettableClock(ny(2026, 10, 5, 12))
        engine = Engine(
            compliance=Compliance(["US-RegF"], overrides={"US-ATTY": overrides}), clock=clock
        )
        engine.open_case(us_case())
        engine.record_notice("C-1", "validation")
        engine.add_hold("C-1", "attorney", "represented about this debt")
        return engine, clock

    def test_silence_counts_whole_days_after_the_letter(self) -> None:
        engine, clock = self._engine(response_days=10)
        clock.set(ny(2026, 10, 6, 15))
        engine.record_notice("C-1", "attorney_contacted")
        letter = {"channel": "letter", "party": "debtor"}
        late = engine.judge_contact("C-1", letter, at=ny(2026, 10, 16, 23, 59), record=False)
        assert late.rules == ("US-ATTY",)
        assert late.next_allowed_at == ny(2026, 10, 17)
        assert engine.judge_contact("C-1", letter, at=ny(2026, 10, 17), record=False).allowed
        clock.set(ny(2026, 10, 16, 9))
        engine.record_notice("C-1", "attorney_responded")
        answered = engine.judge_contact("C-1", letter, at=ny(2026, 10, 20, 10), record=False)
        assert answered.rules == ("US-ATTY",)
        assert answered.next_allowed_at is None

    def test_third_parties_are_judged_for_location_only_and_the_attorneys_consent_is_not_theirs(
        self,
    ) -> None:
        engine, clock = self._engine()
        location = {"channel": "call", "contact": "sister", "purpose": "location"}
        assert "US-ATTY" in engine.judge_contact("C-1", location, record=False).rules
        collection = engine.judge_contact(
            "C-1", {**location, "purpose": "collection"}, record=False
        )
        assert "US-ATTY" not in collection.rules
        assert "US-3P" in collection.rules
        clock.set(ny(2026, 10, 8, 10))
        engine.record_notice("C-1", "attorney_consent")
        assert engine.judge_contact("C-1", {"channel": "call", "contact": "mobile"}).allowed
        assert "US-ATTY" in engine.judge_contact("C-1", location, record=False).rules

    def test_the_consumers_own_consent_counts_only_when_named(self) -> None:
        call = {"channel": "call", "contact": "mobile"}
        for overrides, allowed in (({}, False), ({"consumer_consent_notice": "said_yes"}, True)):
            engine, clock = self._engine(**overrides)
            clock.set(ny(2026, 10, 8, 10))
            engine.record_notice("C-1", "said_yes")
            assert engine.judge_contact("C-1", call, record=False).allowed is allowed


class TestPlaces:
    def test_one_reply_by_the_medium_the_debtor_used_at_that_address(self) -> None:
        contacts = [
            {"id": "mobile", "channel": "call", "address": BOSTON_MOBILE},
            {"id": "office", "channel": "call", "address": "+16175550999", "work": True},
            {"id": "office-sms", "channel": "sms", "address": "+16175550999", "work": True},
        ]
        engine, clock = _engine(["US-RegF"], ny(2026, 10, 5, 10), contacts=contacts)
        engine.record_notice("C-1", "work_inconvenient")
        clock.set(ny(2026, 10, 6, 12))
        engine.record_interaction("C-1", "call", "reply", contact="office")
        reply_call = {"channel": "call", "contact": "office", "purpose": "reply"}
        reply_text = {"channel": "sms", "contact": "office-sms", "purpose": "reply"}
        assert engine.judge_contact("C-1", reply_call, record=False).allowed
        assert engine.judge_contact("C-1", reply_text, record=False).rules == ("US-PLACE",)
        engine.record_interaction("C-1", "call", "conversation", contact="office", purpose="reply")
        assert "US-PLACE" in engine.judge_contact("C-1", reply_call, record=False).rules
        mobile = engine.judge_contact("C-1", {"channel": "call", "contact": "mobile"}, record=False)
        assert "US-PLACE" not in mobile.rules

    def test_the_employers_prohibition_has_no_reply_allowance(self) -> None:
        contacts = [{"id": "office", "channel": "call", "address": "+16175550999", "work": True}]
        engine, clock = _engine(["US-RegF"], ny(2026, 10, 5, 10), contacts=contacts)
        engine.record_notice("C-1", "employer_prohibits")
        clock.set(ny(2026, 10, 6, 12))
        engine.record_interaction("C-1", "call", "reply", contact="office")
        reply = {"channel": "call", "contact": "office", "purpose": "reply"}
        assert engine.judge_contact("C-1", reply, record=False).rules == ("US-EMPLOYER",)


def _cn(text: str | None = None, **proposal: Any) -> tuple[Compliance, Any, Proposal]:
    engine = Engine(compliance=Compliance(["CN"]))
    at = datetime(2026, 10, 14, 10, tzinfo=SHANGHAI)
    contacts = [
        {"id": "mobile", "channel": "call", "address": "+8613812345678"},
        {"id": "boss", "channel": "call", "address": "+862150001234", "party": "employer"},
    ]
    engine.open_case(
        us_case(contacts=contacts, debtor={"id": "D-CN", "timezone": "Asia/Shanghai"}), at=at
    )
    return engine.compliance, engine.case("C-1"), Proposal(text=text, **proposal)


class TestIdentificationAndExposure:
    @pytest.mark.parametrize(
        ("text", "automated", "missing"),
        [
            ("您好，请问是张伟先生吗？", False, ["the institution's name", "the collector's"]),
            ("这里是示例消费金融，请拨打客服热线400-800-1234。", False, ["the collector's"]),
            ("这里是示例消费金融，请拨打客服热线400-800-1234。", True, []),
            ("我是示例消费金融的调解员王强，工号B77。", False, []),
        ],
    )
    def test_a_call_names_the_institution_and_a_person_names_themselves(
        self, text: str, automated: bool, missing: list[str]
    ) -> None:
        compliance, case, proposal = _cn(
            text, channel="call", contact="mobile", automated=automated
        )
        at = datetime(2026, 10, 14, 10, tzinfo=SHANGHAI)
        verdict = compliance.judge(case, ContactHistory(), proposal, at)
        reasons = [r for r in verdict.reasons if r.rule == "CN-IDENTIFY"]
        if not missing:
            assert reasons == []
        else:
            lacking = reasons[0].values["missing"]
            assert len(lacking) == len(missing)
            assert all(name.startswith(start) for name, start in zip(lacking, missing, strict=True))

    def test_unrelated_third_parties_and_group_messages(self) -> None:
        at = datetime(2026, 10, 14, 10, tzinfo=SHANGHAI)
        for proposal, why in (
            ({"channel": "call", "party": "third_party", "purpose": "relay"}, "no contact person"),
            ({"channel": "call", "contact": "boss", "purpose": "relay"}, "the employer"),
            ({"channel": "call", "contact": "mobile", "purpose": "group_message"}, "several"),
        ):
            compliance, case, checked = _cn(**proposal)
            reason = {
                r.rule: r for r in compliance.judge(case, ContactHistory(), checked, at).reasons
            }
            assert why in reason["CN-EXPOSURE"].message
        relaxed = Compliance(["CN"], overrides={"CN-EXPOSURE": {"unrelated_parties": []}})
        _, case, boss = _cn(channel="call", contact="boss", purpose="relay")
        assert "CN-EXPOSURE" not in relaxed.judge(case, ContactHistory(), boss, at).rules


class TestOptOutStatement:
    @pytest.mark.parametrize(
        ("text", "allowed"),
        [
            ("From a debt collector: late fees stop once you pay.", False),
            ("From a debt collector. Reply STOP to opt out.", True),
            ('From a debt collector. Text "stop" to end texts.', True),
            ("From a debt collector. To unsubscribe, click the link.", True),
        ],
    )
    def test_the_statement_describes_a_method(self, regf: Engine, text: str, allowed: bool) -> None:
        regf.record_interaction("C-1", "letter", "delivered", party="debtor")
        proposal = {"channel": "email", "contact": "email", "text": text}
        verdict = regf.judge_contact("C-1", proposal, at=ny(2026, 10, 1, 10), record=False)
        assert ("US-MEDIUM" not in verdict.rules) is allowed


def test_every_note_names_a_rule_and_scenarios_that_exist() -> None:
    import re
    from pathlib import Path

    from arrears.compliance.notes import NOTES

    root = Path(__file__).parent.parent
    assert set(NOTES) <= known_rule_ids()
    # A retention rule judges no contact, so no scenario can show it: its note names its tests.
    retention = {
        item.id
        for pack in PACKS.values()
        for item in pack.rules
        if isinstance(item, RecordRetention)
    }
    for rule_id, note in NOTES.items():
        paths = re.findall(r"\(`(tests/scenarios/[^`]+)`\)", note)
        if rule_id in retention:
            assert not paths, rule_id
            assert "tests/test_retention.py" in note, rule_id
            continue
        assert paths, rule_id
        assert all((root / path).is_file() for path in paths), rule_id
