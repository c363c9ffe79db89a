"""A debtor's time zone names a place: abbreviations and fixed offsets are refused.

``EST`` is UTC-5 all year (a link to ``America/Panama``): a debtor in New York given it
has their hours judged an hour off all summer, so a call at 21:30 New York time in July
is read as 20:30 and allowed, where 12 CFR 1006.6(b)(1)(i) forbids it.  New input
(`Engine.open_case`, `Engine.update_debtor`, an imported portfolio, a scenario file, a
rule's calendar) is refused; a case stored with such a zone still loads, replays and is
verified as it was.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from arrears import Engine, InvalidInput, SettableClock
from arrears.addresses import country_of, is_place_zone, zone_country
from arrears.case import place_zone
from arrears.compliance import Compliance
from arrears.compliance.rules import HoldBlocks
from arrears.importer import import_portfolio
from arrears.operations import cases as opening
from arrears.scenarios import ScenarioInvalid, run_scenario
from arrears.stores import SQLiteStore

NY = ZoneInfo("America/New_York")
#: A Wednesday in July, 21:30 in New York (EDT, UTC-4): 20:30 at UTC-5.
JULY_EVENING = datetime(2026, 7, 15, 21, 30, tzinfo=NY)
MORNING = JULY_EVENING.replace(hour=9, minute=0)
CALL = {"channel": "call", "contact": "phone"}
NOT_PLACES = [
    "EST",
    "MST",
    "HST",
    "CET",
    "EET",
    "MET",
    "WET",
    "EST5EDT",
    "CST6CDT",
    "MST7MDT",
    "PST8PDT",
    "Etc/GMT+5",
    "Etc/GMT-8",
    "UTC",
    "Etc/UTC",
    "GMT",
    "Zulu",
    "Factory",
]
PLACES = [
    "America/New_York",
    "US/Eastern",
    "America/Phoenix",
    "US/Arizona",
    "Asia/Shanghai",
    "PRC",
    "Asia/Chongqing",
    "Europe/London",
    "GB",
]


def loan(zone: str | None, case_id: str = "L-1") -> dict[str, Any]:
    """A collector's case of a debtor in the US whose time zone is *zone*."""
    return {
        "id": case_id,
        "debtor": {"id": "D-1", "timezone": zone, "jurisdiction": "US"},
        "contacts": [{"id": "phone", "channel": "call", "address": "+12125550100"}],
        "balance": {"currency": "USD", "principal": "900.00"},
        "due_date": "2026-06-01",
        "stage": "phone",
    }


def collector(store: Any = None) -> Engine:
    compliance = Compliance(jurisdictions={"US": ["US-RegF"]}, role="collector")
    if store is None:
        return Engine(compliance=compliance, clock=SettableClock(JULY_EVENING))
    return Engine(store=store, compliance=compliance, clock=SettableClock(JULY_EVENING))


def denied_by(engine: Engine, at: datetime = JULY_EVENING) -> list[str]:
    verdict = engine.judge_contact("L-1", CALL, at=at, record=False)
    return [reason.rule for reason in verdict.reasons]


def opened_as_before(engine: Engine, case: dict[str, Any], monkeypatch: Any) -> None:
    """Open *case* as a release that took any known zone did (a stored case of then)."""
    with monkeypatch.context() as patch:
        patch.setattr(opening, "check_debtor_zone", lambda debtor: None)
        engine.open_case(case, at=MORNING)


class TestWhichZonesArePlaces:
    @pytest.mark.parametrize("zone", PLACES)
    def test_a_zone_or_a_link_to_one_is_a_place(self, zone: str) -> None:
        assert is_place_zone(zone)
        assert place_zone("timezone", zone) == zone

    @pytest.mark.parametrize("zone", NOT_PLACES)
    def test_an_abbreviation_a_rule_or_an_offset_is_not(self, zone: str) -> None:
        ZoneInfo(zone)  # the system knows it
        assert not is_place_zone(zone)
        with pytest.raises(InvalidInput) as err:
            place_zone("timezone", zone)
        assert (err.value.field, err.value.value) == ("timezone", zone)
        assert "'America/New_York'" in err.value.expected

    def test_an_abbreviation_is_in_no_country(self) -> None:
        # EST links to America/Panama, MST to America/Phoenix, CET to Europe/Brussels:
        # none of them says where the debtor is.
        assert [zone_country(zone) for zone in ("EST", "MST", "HST", "CET")] == [None] * 4
        assert country_of(None, None, "EST") is None
        assert zone_country("US/Eastern") == "US"
        assert zone_country("America/Panama") == "PA"


class TestOpeningACase:
    def test_the_july_evening_call_is_denied_in_new_york_time(self) -> None:
        engine = collector()
        engine.open_case(loan("America/New_York"), at=MORNING)
        assert denied_by(engine) == ["US-TIME"]
        assert denied_by(engine, JULY_EVENING.replace(hour=20, minute=30)) == []

    @pytest.mark.parametrize("zone", ["EST", "EST5EDT", "Etc/GMT+5", "UTC", "Etc/UTC"])
    def test_a_zone_of_no_place_is_refused(self, zone: str) -> None:
        engine = collector()
        with pytest.raises(InvalidInput) as err:
            engine.open_case(loan(zone), at=MORNING)
        assert err.value.field == "debtor.timezone"
        assert err.value.value == zone
        assert "such as 'America/New_York'" in err.value.expected
        assert "L-1" not in engine.store

    def test_a_case_object_is_refused_too(self) -> None:
        from arrears.case import Case

        with pytest.raises(InvalidInput, match=r"debtor\.timezone: got 'MST'"):
            collector().open_case(Case.model_validate(loan("MST")), at=MORNING)

    def test_a_link_to_a_place_opens(self) -> None:
        engine = collector()
        engine.open_case(loan("US/Eastern"), at=MORNING)
        assert engine.case("L-1").debtor.timezone == ZoneInfo("US/Eastern")
        assert denied_by(engine) == ["US-TIME"]

    def test_no_zone_opens(self) -> None:
        collector().open_case(loan(None), at=MORNING)


class TestAStoredCase:
    def test_a_case_stored_with_est_loads_replays_and_verifies(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "cases.db"
        first = collector(SQLiteStore(path))
        opened_as_before(first, loan("EST"), monkeypatch)
        # What the refusal prevents: the July call read as 20:30 EST, and allowed.
        assert denied_by(first) == []
        first.store.close()
        again = collector(SQLiteStore(path))
        assert again.case("L-1").debtor.timezone == ZoneInfo("EST")
        assert again.replay("L-1").debtor.timezone == ZoneInfo("EST")
        assert again.verify() == []
        # The lender corrects it: from then on New York's hours judge the call.
        again.update_debtor("D-1", timezone="America/New_York", reason="zone of the address")
        assert denied_by(again) == ["US-TIME"]
        assert again.replay("L-1").debtor.timezone == NY
        assert again.verify() == []


class TestUpdateDebtor:
    def test_a_zone_of_no_place_is_refused(self) -> None:
        engine = collector()
        engine.open_case(loan("America/Chicago"), at=MORNING)
        with pytest.raises(InvalidInput) as err:
            engine.update_debtor("D-1", timezone="EST")
        assert (err.value.field, err.value.value) == ("timezone", "EST")
        assert engine.case("L-1").debtor.timezone == ZoneInfo("America/Chicago")
        assert len(engine.history("L-1")) == 1

    def test_a_link_to_a_place_is_taken(self) -> None:
        engine = collector()
        engine.open_case(loan("America/Chicago"), at=MORNING)
        engine.update_debtor("D-1", timezone="US/Eastern")
        assert engine.case("L-1").debtor.timezone == ZoneInfo("US/Eastern")
        assert denied_by(engine) == ["US-TIME"]


class TestImport:
    HEADER = "id,debtor_id,timezone,currency,principal,due_date,phone"

    def test_a_row_with_an_abbreviation_is_a_bad_row(self, tmp_path: Path) -> None:
        path = tmp_path / "portfolio.csv"
        rows = [
            self.HEADER,
            "L-1,D-1,America/New_York,USD,900.00,2026-06-01,+12125550100",
            "L-2,D-2,EST,USD,900.00,2026-06-01,+12125550101",
        ]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        engine = collector()
        report = import_portfolio(engine, path)
        assert [(error.line, error.field) for error in report.errors] == [(3, "timezone")]
        assert "America/New_York" in report.errors[0].message
        assert report.imported == 0
        assert sorted(engine.store.case_ids()) == []


SCENARIO = """\
name: A call at 21:30 in New York in July
role: collector
jurisdictions:
  default: [US-RegF]
case:
  id: L-1
  timezone: {zone}
  jurisdiction: US
  currency: USD
  balance: "900.00"
  due_date: 2026-06-01
  stage: phone
  contacts:
    - {{id: phone, channel: call, party: debtor, address: "+12125550100"}}
expect:
  - at: 2026-07-15T21:30:00-04:00
    contact: {{channel: call, contact: phone}}
    verdict: deny
    rules: [US-TIME]
"""


class TestScenarioFiles:
    def test_new_york_denies_the_call(self, tmp_path: Path) -> None:
        path = tmp_path / "s.yaml"
        path.write_text(SCENARIO.format(zone="America/New_York"), encoding="utf-8")
        result = run_scenario(path)
        assert (result.passed, result.failures) == (True, [])

    def test_est_is_refused_at_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "s.yaml"
        path.write_text(SCENARIO.format(zone="EST"), encoding="utf-8")
        with pytest.raises(ScenarioInvalid) as err:
            run_scenario(path)
        text = str(err.value)
        assert "s.yaml:7: case.timezone: got 'EST'" in text
        assert "such as 'America/New_York'" in text


class TestRuleCalendar:
    @pytest.mark.parametrize("zone", ["GMT", "UTC", "WET"])
    def test_a_calendar_of_no_place_is_refused(self, zone: str) -> None:
        with pytest.raises(ValidationError, match=f"calendar: '{zone}' is not the IANA time"):
            HoldBlocks(id="X-H", citation="x", kinds=frozenset({"dispute"}), calendar=zone)

    def test_a_place_is_taken(self) -> None:
        rule = HoldBlocks(
            id="X-H", citation="x", kinds=frozenset({"dispute"}), calendar="Europe/London"
        )
        assert rule.calendar == "Europe/London"


class TestSimulationPortfolio:
    def test_a_record_with_an_abbreviation_is_refused_at_its_position(self, tmp_path: Path) -> None:
        from arrears.simulate import load_portfolio

        good, bad = loan("America/New_York"), loan("HST", "L-2")
        path = tmp_path / "portfolio.jsonl"
        path.write_text(f"{json.dumps(good)}\n{json.dumps(bad)}\n", encoding="utf-8")
        with pytest.raises(InvalidInput) as err:
            load_portfolio(path)
        assert (err.value.field, err.value.value) == ("portfolio[1].debtor.timezone", "HST")
