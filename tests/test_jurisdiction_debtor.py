"""A debtor's jurisdiction across their loans, and derived from their residence.

A debtor whose cases carry different jurisdictions is judged on each by the
union of the rule sets of all of them; a debtor with no jurisdiction given is
judged by the set of their residence (the place of their address of record).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, InvalidInput, SettableClock
from arrears.channels import RecordingChannel
from arrears.compliance import Compliance
from arrears.compliance.packs import PACKS, Pack
from arrears.messages import MessageRefused, TemplateSet
from arrears.policy import load_policy
from arrears.policy.model import SendAction
from test_jurisdictions import BY_STATE
from test_jurisdictions import case as one_case

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 10, 7, 22, 0, tzinfo=NY)  # a Wednesday, after Massachusetts' 21:00
TEXT = "Harbor Card: your account is past due. Reply STOP to opt out."
SMS = {"channel": "sms", "contact": "sms", "text": TEXT}


def case(
    case_id: str,
    jurisdiction: str | None = None,
    *,
    debtor: str = "D-1",
    residence: str | None = None,
) -> dict[str, Any]:
    """A case of *debtor* (one debtor unless told), placed by *jurisdiction* and *residence*."""
    data = one_case(case_id, jurisdiction, debtor)
    if residence is not None:
        data["debtor"]["residence"] = residence
    return data


def engine(compliance: Compliance, *cases: dict[str, Any]) -> Engine:
    made = Engine(compliance=compliance, clock=SettableClock(AT))
    for data in cases:
        made.open_case(data)
    return made


def denied_by(made: Engine, case_id: str, proposal: dict[str, Any] = SMS) -> list[str]:
    verdict = made.judge_contact(case_id, proposal, at=AT, record=False)
    return [reason.rule for reason in verdict.reasons]


class TestADebtorInSeveralJurisdictions:
    def test_each_loan_is_judged_by_the_sets_of_every_loan(self) -> None:
        """940 CMR 7.05(3)(e) reaches the New York loan of a debtor whose other loan says
        Massachusetts: no text at 22:00 on either."""
        made = engine(
            Compliance(jurisdictions=BY_STATE, role="creditor"),
            case("C-1", "US-MA"),
            case("C-2", "US-NY"),
        )
        assert denied_by(made, "C-1") == ["US-MA-HOURS"]
        assert denied_by(made, "C-2") == ["US-MA-HOURS"]

    def test_a_debtor_with_one_jurisdiction_is_judged_as_before(self) -> None:
        made = engine(
            Compliance(jurisdictions=BY_STATE, role="creditor"),
            case("C-1", "US-NY"),
            case("C-2", "US-NY"),
            case("MA-1", "US-MA", debtor="D-2"),  # another debtor's code reaches nobody else
        )
        assert denied_by(made, "C-2") == []

    def test_the_union_holds_each_rule_once_in_judging_order(self) -> None:
        compliance = Compliance(jurisdictions={"US-MA": ["US-MA"], "US-WA": ["US-WA"]})
        ids = [rule.id for rule in compliance.rules_for_debtor("US-MA", ["US-WA", "US-MA"])]
        assert ids == [rule.id for rule in compliance.rules]  # every rule of both, once
        assert ids.count("US-TIME") == 1
        assert compliance.rules_for_debtor("US-MA", ["US-WA"]) is compliance.rules_for_debtor(
            "US-WA", ["US-MA"]
        )

    def test_a_loan_with_no_jurisdiction_adds_no_set_to_the_others(self) -> None:
        """A record that does not say where the debtor is does not bar their other loans;
        it is itself judged by the sets of the places the others say."""
        made = engine(
            Compliance(jurisdictions=BY_STATE, role="creditor"),
            case("C-1", "US-MA"),
            case("C-2"),
        )
        assert denied_by(made, "C-1") == ["US-MA-HOURS"]
        assert denied_by(made, "C-2") == ["JURISDICTION", "US-MA-HOURS"]

    def test_a_jurisdiction_no_set_covers_on_another_loan_stops_contact(self) -> None:
        made = engine(Compliance(jurisdictions=BY_STATE), case("C-1", "US-MA"), case("C-2", "FR"))
        verdict = made.judge_contact("C-1", SMS, at=AT, record=False)
        assert [reason.rule for reason in verdict.reasons][:2] == ["JURISDICTION", "US-TIME"]
        message = verdict.reasons[0].message
        assert "one of the jurisdictions the debtor's cases carry" in message
        assert "this case's: US-MA; the sets that cover the others: US-MA" in message
        assert verdict.next_allowed_at is None

    def test_a_loan_opened_later_in_another_jurisdiction_reaches_the_first(self) -> None:
        made = engine(Compliance(jurisdictions=BY_STATE, role="creditor"), case("C-1", "US-NY"))
        assert denied_by(made, "C-1") == []
        made.open_case(case("C-2", "US-MA"))
        assert denied_by(made, "C-1") == ["US-MA-HOURS"]


POLICY = """\
id: card-portfolio
version: "1"
role: creditor
jurisdictions:
  US-MA: [US-MA]
  default: [US-RegF]
review: {time: "22:00"}
steps:
  - id: late-text
    stages: [phone]
    send: {channel: sms}
"""


class TestTickAndExplainAgree:
    def test_the_tick_is_refused_what_explain_shows_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text(POLICY, encoding="utf-8")
        made = Engine(
            policy=load_policy(path),
            channels=[RecordingChannel(channels=frozenset({"sms"}))],
            clock=SettableClock(AT),
        )
        made.open_case(case("C-1", "US-MA"), at=AT.replace(hour=9))
        made.open_case(case("C-2", "US-NY"), at=AT.replace(hour=9))
        explained = made.explain("C-2", AT)
        shown = [
            [reason.rule for reason in step.verdict.reasons]
            for step in explained.steps
            if step.verdict is not None
        ]
        assert str(explained).splitlines()[2] == (
            "packs: US-RegF, US-MA (jurisdiction US-NY, matched default; another case's "
            "jurisdiction US-MA, matched US-MA; role creditor)"
        )
        report = made.tick(AT)
        assert report.errors == []
        denied = [e.data for e in made.history("C-2") if e.kind == "contact_denied"]
        assert [[reason["rule"] for reason in data["reasons"]] for data in denied] == shown
        assert shown == [["US-TCPA", "US-MA-HOURS"]]  # automated, no consent; after 21:00
        assert not [e for e in made.history("C-2") if e.kind == "outbox_intent"]


class TestResidence:
    def test_the_residence_picks_the_set_when_no_jurisdiction_is_given(self) -> None:
        """209 CMR 18.01(1): persons "within the Commonwealth"; the address of record says so."""
        made = engine(
            Compliance(jurisdictions=BY_STATE, role="creditor"),
            case("MA-1", residence="US-MA", debtor="D-MA"),
            case("NY-1", residence="US-NY", debtor="D-NY"),
        )
        assert made.case("MA-1").debtor.effective_jurisdiction == "US-MA"
        assert denied_by(made, "MA-1") == ["US-MA-HOURS"]
        assert denied_by(made, "NY-1") == []

    def test_a_jurisdiction_given_is_taken_over_the_residence(self) -> None:
        made = engine(
            Compliance(jurisdictions=BY_STATE, role="creditor"),
            case("C-1", "US-NY", residence="US-MA"),
        )
        assert made.case("C-1").debtor.effective_jurisdiction == "US-NY"
        assert denied_by(made, "C-1") == []

    def test_with_neither_the_debtor_is_judged_as_before(self) -> None:
        made = engine(Compliance(jurisdictions=BY_STATE), case("X-1"))
        assert made.case("X-1").debtor.effective_jurisdiction is None
        assert denied_by(made, "X-1") == ["JURISDICTION"]

    def test_a_residence_on_another_loan_reaches_the_debtors_loans(self) -> None:
        made = engine(
            Compliance(jurisdictions=BY_STATE, role="creditor"),
            case("C-1", residence="US-MA"),
            case("C-2", "US-NY"),
        )
        assert denied_by(made, "C-2") == ["US-MA-HOURS"]

    @pytest.mark.parametrize("code", ["us-ma", "Massachusetts", "US-MA\n", ""])
    def test_a_residence_that_is_not_iso_3166_is_refused(self, code: str) -> None:
        made = Engine(clock=SettableClock(AT))
        with pytest.raises(InvalidInput) as err:
            made.open_case(case("C-1", residence=code))
        assert err.value.field == "debtor.residence"

    def test_explain_says_the_jurisdiction_is_the_residence(self) -> None:
        made = engine(
            Compliance(jurisdictions=BY_STATE, role="creditor"), case("MA-1", residence="US-MA")
        )
        assert made.compliance.packs_for("US-MA") == ("US-MA",)
        from arrears.explain import judged_by

        assert judged_by(made.compliance, made.case("MA-1")) == (
            "packs: US-MA (jurisdiction US-MA (residence), matched US-MA; role creditor)"
        )


class TestImportAndScenarios:
    def test_the_csv_columns_jurisdiction_and_residence(self, tmp_path: Path) -> None:
        from arrears.importer import import_portfolio

        path = tmp_path / "portfolio.csv"
        path.write_text(
            "id,debtor_id,currency,due_date,principal,jurisdiction,residence\n"
            "L-1,D-1,USD,2026-07-01,100.00,,US-MA\n"
            "L-2,D-2,USD,2026-07-01,100.00,US-NY,US-MA\n"
            "L-3,D-3,USD,2026-07-01,100.00,,\n",
            encoding="utf-8",
        )
        made = Engine(compliance=Compliance(jurisdictions=BY_STATE), clock=SettableClock(AT))
        report = import_portfolio(made, path)
        assert report.errors == []
        assert report.imported == 3
        found = {
            case_id: (made.case(case_id).debtor.jurisdiction, made.case(case_id).debtor.residence)
            for case_id in ("L-1", "L-2", "L-3")
        }
        assert found == {"L-1": (None, "US-MA"), "L-2": ("US-NY", "US-MA"), "L-3": (None, None)}

    def test_a_bad_residence_in_a_csv_names_the_column(self, tmp_path: Path) -> None:
        from arrears.importer import import_portfolio

        path = tmp_path / "portfolio.csv"
        path.write_text(
            "id,debtor_id,currency,due_date,residence\nL-1,D-1,USD,2026-07-01,Mass.\n",
            encoding="utf-8",
        )
        made = Engine(clock=SettableClock(AT))
        report = import_portfolio(made, path, skip_bad=True)
        assert [(error.line, error.field) for error in report.errors] == [(2, "residence")]

    def test_a_scenario_gives_the_residence_in_debtor(self, tmp_path: Path) -> None:
        from arrears.scenarios import run_scenario

        path = tmp_path / "scenario.yaml"
        path.write_text(SCENARIO, encoding="utf-8")
        result = run_scenario(path)
        assert result.passed, result.failures

    def test_an_unknown_key_beside_residence_stays_an_error(self, tmp_path: Path) -> None:
        from arrears.scenarios import ScenarioInvalid, load_scenario

        path = tmp_path / "scenario.yaml"
        path.write_text(SCENARIO.replace("residence:", "state:"), encoding="utf-8")
        with pytest.raises(ScenarioInvalid) as err:
            load_scenario(path)
        assert "state" in str(err.value)


SCENARIO = """\
name: a debtor placed by their residence
role: creditor
jurisdictions:
  US-MA: [US-MA]
  default: [US-RegF]
debtor:
  id: D-1
  timezone: America/New_York
  residence: US-MA
cases:
  - id: LOAN-1
    currency: USD
    balance: "100.00"
    due_date: 2026-07-01
    contacts:
      - {id: sms, channel: sms, address: "+16175550100"}
expect:
  - at: 2026-10-07T21:30:00-04:00
    case: LOAN-1
    contact: {channel: sms, contact: sms, text: "Reply STOP to opt out."}
    verdict: deny
    rules: [US-MA-HOURS]
"""


def _wording_engine(monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A collector's engine with a New York set of no wording rule (a lender's own pack)
    beside Massachusetts', and one template: `TEXT`, without the debt-collector disclosure."""
    monkeypatch.setitem(PACKS, "NY-QUIET", Pack(id="NY-QUIET", title="New York", rules=()))
    compliance = Compliance(
        jurisdictions={"US-MA": ["US-MA"], "US-NY": ["NY-QUIET"]}, role="collector"
    )
    return Engine(
        compliance=compliance,
        clock=SettableClock(AT),
        templates=TemplateSet.from_sources({"plain.sms.en-US": TEXT}),
    )


class TestAMessageIsCheckedByTheSetsThatJudgeTheCase:
    """A message rendered for a case is checked against the rules that judge a contact
    on it: the union of the sets of every jurisdiction the debtor's cases carry."""

    def test_a_new_york_loan_s_message_meets_massachusetts_wording_rules(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A lender's New York set with no wording rule of its own; the debtor's other loan
        # is in Massachusetts, whose set (over Regulation F) wants the debt-collector
        # disclosure (12 CFR 1006.18(e)): the text without it goes on neither loan.
        made = _wording_engine(monkeypatch)
        made.open_case(case("C-MA", "US-MA"))
        made.open_case(case("C-NY", "US-NY"))
        action = SendAction(channel="sms", template="plain")
        for case_id in ("C-MA", "C-NY"):
            with pytest.raises(MessageRefused, match="US-MIRANDA"):
                made.render(made.case(case_id), action, made.facts(case_id, AT), AT)
        assert "US-MIRANDA" in denied_by(made, "C-NY")  # as the judgment says

    def test_a_debtor_with_one_loan_is_checked_by_their_own_set(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        made = _wording_engine(monkeypatch)
        made.open_case(case("C-NY", "US-NY"))
        made.open_case(case("C-MA", "US-MA", debtor="D-2"))  # another debtor's code
        action = SendAction(channel="sms", template="plain")
        text, _ = made.render(made.case("C-NY"), action, made.facts("C-NY", AT), AT)
        assert text == TEXT
