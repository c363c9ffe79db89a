"""Record retention: Reg F's three years after the last collection activity (12 CFR 1006.100),
the date `retention_until` gives and the purge `check_purge` and `Engine.check_purge` refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, InvalidInput, SettableClock, UnknownCase
from arrears.compliance import (
    Compliance,
    RecordRetention,
    Retention,
    check_purge,
    retention_until,
)

NY = ZoneInfo("America/New_York")


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NY)  # type: ignore[misc]


def us_case(case_id: str = "R-1") -> dict[str, object]:
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "America/New_York"},
        "contacts": [{"id": "mobile", "channel": "call", "address": "+16175550123"}],
        "balance": {"currency": "USD", "principal": "1250.00"},
        "due_date": "2026-09-01",
        "stage": "phone",
    }


class TestRetentionUntil:
    def test_reg_f_keeps_records_three_years_after_the_last_activity(self) -> None:
        rules = Compliance(["US-RegF"]).rules
        retention = retention_until(rules, ny(2026, 11, 3, 14, 5))
        assert retention == Retention(
            until=ny(2029, 11, 3, 14, 5),
            rule="US-RECORDS",
            citation="12 CFR 1006.100(a); recordings of calls 3 years after each call, 1006.100(b)",
            years=3,
        )

    def test_an_overlay_keeps_the_federal_period(self) -> None:
        retention = retention_until(Compliance(["US-MA"]).rules, ny(2026, 11, 3))
        assert retention is not None
        assert (retention.rule, retention.until) == ("US-RECORDS", ny(2029, 11, 3))

    def test_the_longest_period_wins(self) -> None:
        longer = RecordRetention(id="LENDER-RECORDS", citation="Lender policy 9.1", years=7)
        rules = Compliance(["US-RegF"], rules=[longer]).rules
        retention = retention_until(rules, ny(2026, 11, 3))
        assert retention is not None
        assert (retention.rule, retention.until) == ("LENDER-RECORDS", ny(2033, 11, 3))

    def test_a_disabled_rule_keeps_nothing(self) -> None:
        rules = Compliance(["US-RegF"], overrides={"US-RECORDS": {"enabled": False}}).rules
        assert retention_until(rules, ny(2026, 11, 3)) is None

    def test_no_pack_with_a_period_keeps_nothing(self) -> None:
        assert retention_until(Compliance(["UK"]).rules, ny(2026, 11, 3)) is None

    def test_29_february_ends_on_28_february(self) -> None:
        retention = retention_until(Compliance(["US-RegF"]).rules, ny(2028, 2, 29, 10))
        assert retention is not None
        assert retention.until == ny(2031, 2, 28, 10)

    def test_a_naive_last_activity_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            retention_until(Compliance(["US-RegF"]).rules, datetime(2026, 11, 3))
        assert caught.value.field == "last_activity"


class TestCheckPurge:
    RULES = Compliance(["US-RegF"]).rules

    def test_refused_one_second_before_three_years_with_the_citation(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            check_purge(self.RULES, "R-1", ny(2026, 11, 3, 14, 5), ny(2029, 11, 3, 14, 4, 59))
        error = caught.value
        assert (error.field, error.value) == ("purge", "R-1")
        # Three years on the wall clock: 3 November 2029 is still summer time in New York.
        assert "US-RECORDS keeps them until 2029-11-03T14:05:00-04:00" in error.expected
        assert "12 CFR 1006.100(a)" in error.expected

    def test_allowed_from_three_years_after(self) -> None:
        retention = check_purge(self.RULES, "R-1", ny(2026, 11, 3, 14, 5), ny(2029, 11, 3, 14, 5))
        assert retention is not None
        assert retention.until == ny(2029, 11, 3, 14, 5)

    def test_the_moment_is_compared_as_an_instant(self) -> None:
        """18:05 UTC is 14:05 in New York on 3 November 2029 (summer time until the 4th)."""
        at = datetime(2029, 11, 3, 18, 5, tzinfo=UTC)
        assert check_purge(self.RULES, "R-1", ny(2026, 11, 3, 14, 5), at) is not None
        with pytest.raises(InvalidInput):
            check_purge(self.RULES, "R-1", ny(2026, 11, 3, 14, 5), at.replace(minute=4))

    def test_a_naive_moment_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            check_purge(self.RULES, "R-1", ny(2026, 11, 3), datetime(2030, 1, 1))
        assert caught.value.field == "at"

    def test_nothing_to_keep_allows_at_once(self) -> None:
        assert (
            check_purge(Compliance(["UK"]).rules, "R-1", ny(2026, 11, 3), ny(2026, 11, 3)) is None
        )


class TestEngineCheckPurge:
    def test_counts_from_the_case_s_last_journal_entry(self) -> None:
        clock = SettableClock(ny(2026, 10, 1, 9))
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=clock)
        engine.open_case(us_case())
        engine.record_notice("R-1", "validation", at=ny(2026, 10, 2, 9))
        last = engine.history("R-1")[-1].at
        assert last == ny(2026, 10, 2, 9)
        clock.set(ny(2029, 10, 2, 8, 59))
        with pytest.raises(InvalidInput) as caught:
            engine.check_purge("R-1")
        assert "until 2029-10-02T09:00:00-04:00" in caught.value.expected
        assert "1006.100" in caught.value.expected
        retention = engine.check_purge("R-1", at=ny(2029, 10, 2, 9))
        assert retention is not None
        assert retention.rule == "US-RECORDS"

    def test_a_later_entry_moves_the_date(self) -> None:
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(ny(2026, 10, 1, 9)))
        engine.open_case(us_case())
        engine.record_notice("R-1", "validation", at=ny(2026, 10, 2, 9))
        engine.record_notice("R-1", "military_status_check", at=ny(2027, 3, 5, 9))
        with pytest.raises(InvalidInput):
            engine.check_purge("R-1", at=ny(2029, 10, 2, 9))
        assert engine.check_purge("R-1", at=ny(2030, 3, 5, 9)) is not None

    def test_an_unknown_case(self) -> None:
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(ny(2026, 10, 1, 9)))
        with pytest.raises(UnknownCase):
            engine.check_purge("nope")
