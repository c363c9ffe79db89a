"""Jurisdiction per debtor and the lender's role: which rules judge a case, whom a rule binds.

The scenario files in tests/scenarios/jurisdictions/ show the verdicts a compliance
officer reads; these tests cover the picking, the role filter and the errors.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears import Engine, InvalidInput, SettableClock
from arrears.compliance import PACKS, UNMAPPED, Compliance, Role
from arrears.policy import PolicyInvalid, load_policy

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 10, 7, 10, 0, tzinfo=NY)
BY_STATE = {"US-MA": ["US-MA"], "US": ["US-RegF"], "CN": ["CN"]}
BY_STATE_US = {"US-MA": ["US-MA"], "default": ["US-RegF"]}
#: A letter with no attempt-to-collect disclosure: a creditor's wording, not a collector's.
PLAIN = "Your account is past due. Please call 617-555-0123 to arrange a payment."


def case(case_id: str, jurisdiction: str | None, debtor: str | None = None) -> dict[str, Any]:
    person: dict[str, Any] = {"id": debtor or f"D-{case_id}", "timezone": "America/New_York"}
    if jurisdiction is not None:
        person["jurisdiction"] = jurisdiction
    return {
        "id": case_id,
        "debtor": person,
        "contacts": [
            {"id": "home", "channel": "letter", "address": "12 Elm St"},
            {"id": "sms", "channel": "sms", "address": "+16175550100"},
        ],
        "balance": {"currency": "USD", "principal": "1640.00"},
        "due_date": "2026-07-01",
        "stage": "phone",
    }


def engine(compliance: Compliance, *cases: dict[str, Any]) -> Engine:
    made = Engine(compliance=compliance, clock=SettableClock(AT))
    for data in cases:
        made.open_case(data)
    return made


def letter(made: Engine, case_id: str, text: str = PLAIN) -> list[str]:
    """The rule ids denying a letter with *text* (empty when it is allowed)."""
    proposal = {"channel": "letter", "contact": "home", "text": text}
    verdict = made.judge_contact(case_id, proposal, at=AT, record=False)
    return [reason.rule for reason in verdict.reasons]


class TestPicking:
    def test_the_most_specific_code_first_then_the_country_then_the_default(self) -> None:
        compliance = Compliance(["UK"], jurisdictions=BY_STATE)
        assert compliance.packs_for("US-MA") == ("US-MA",)
        assert compliance.packs_for("US-NY") == ("US-RegF",)
        assert compliance.packs_for("US") == ("US-RegF",)
        assert compliance.packs_for("CN") == ("CN",)
        assert compliance.packs_for("GB-ENG") == ("UK",)
        assert compliance.packs_for(None) == ("UK",)
        assert [compliance.match(code) for code in ("US-MA", "US-WA", "GB-ENG")] == [
            "US-MA",
            "US",
            "default",
        ]

    def test_default_given_in_the_map_is_the_packs(self) -> None:
        compliance = Compliance(jurisdictions={"US-MA": ["US-MA"], "default": ["US-RegF"]})
        assert compliance.packs == ("US-RegF",)
        assert compliance.jurisdictions == {"US-MA": ("US-MA",)}
        assert compliance.packs_for("US-NY") == ("US-RegF",)

    def test_each_set_has_its_packs_rules_and_no_other(self) -> None:
        compliance = Compliance(jurisdictions=BY_STATE)
        ma = [rule.id for rule in compliance.rules_for("US-MA")]
        assert ma[-5:] == [
            "US-MA",
            "US-MA-OTHER",
            "US-MA-HOUSEHOLD",
            "US-MA-HOUSEHOLD-OTHER",
            "US-MA-HOURS",
        ]
        assert "US-MIRANDA" in ma
        assert "US-MA" not in [rule.id for rule in compliance.rules_for("US-NY")]
        assert all(rule.id.startswith("CN-") for rule in compliance.rules_for("CN"))
        # every rule in force somewhere: retention and template checks read these
        assert {"US-MA", "US-7IN7", "CN-SMS"} <= set(compliance.rule_ids)

    def test_no_match_and_no_default_denies_every_contact(self) -> None:
        compliance = Compliance(jurisdictions=BY_STATE)
        assert compliance.match("GB-ENG") is None
        assert compliance.packs_for("GB-ENG") == ()
        assert compliance.rules_for("GB-ENG") == (UNMAPPED,)
        made = engine(compliance, case("GB-1", "GB-ENG"), case("X-1", None))
        assert letter(made, "GB-1") == ["JURISDICTION"]
        assert letter(made, "X-1") == ["JURISDICTION"]  # no jurisdiction known: nothing covers it
        verdict = made.judge_contact("GB-1", {"channel": "letter", "contact": "home"}, at=AT)
        assert verdict.next_allowed_at is None
        assert "(GB-ENG)" in verdict.reasons[0].message

    def test_without_a_map_every_debtor_has_the_packs(self) -> None:
        """As before jurisdictions: the packs judge every debtor, whatever their code."""
        compliance = Compliance(["US-MA"])
        assert compliance.packs_for("CN") == compliance.packs_for(None) == ("US-MA",)
        made = engine(compliance, case("CN-1", "CN"))
        assert letter(made, "CN-1") == ["US-MIRANDA"]

    def test_a_debtor_is_judged_by_the_set_of_their_jurisdiction(self) -> None:
        compliance = Compliance(jurisdictions={"US": ["US-RegF"], "CN": ["CN"]})
        made = engine(compliance, case("US-1", "US-NY"), case("CN-1", "CN"))
        assert letter(made, "US-1") == ["US-MIRANDA"]
        assert letter(made, "CN-1") == []  # CN has no disclosure wording for letters

    def test_overrides_change_the_rule_in_every_set(self) -> None:
        compliance = Compliance(
            jurisdictions={"US-MA": ["US-MA"], "US": ["US-RegF"]},
            overrides={"US-7IN7": {"limit": 5}},
        )
        for code in ("US-MA", "US-NY"):
            (found,) = [rule for rule in compliance.rules_for(code) if rule.id == "US-7IN7"]
            assert found.limit == 5  # type: ignore[attr-defined]

    def test_added_compliance_keeps_the_policys_jurisdictions(self) -> None:
        from arrears.compliance import rule
        from arrears.policy import Policy

        @rule("LENDER-QUIET", "Lender policy 4.2")
        def quiet(j: Any) -> None:
            return None

        policy = Policy(id="p", version="1", jurisdictions=BY_STATE, role="creditor")
        made = Engine(
            policy=policy, compliance=Compliance(rules=[quiet]), compliance_mode="add"
        ).compliance
        assert made.packs_for("US-MA") == ("US-MA",)
        assert made.role is Role.CREDITOR
        assert "LENDER-QUIET" in [item.id for item in made.rules_for("CN")]
        assert "US-MIRANDA" not in made.rule_ids

    def test_added_compliance_keeps_its_own_jurisdictions(self) -> None:
        """The Chinese rules a lender adds for its Chinese debtors judge them, not the
        Americans: each set of the added compliance stays with its jurisdiction."""
        from arrears.policy import Policy

        policy = Policy(id="p", version="1", jurisdictions=BY_STATE_US, role="creditor")
        added = Compliance(jurisdictions={"CN": ["CN"]})
        made = Engine(policy=policy, compliance=added, compliance_mode="add").compliance
        ids = {code: [item.id for item in made.rules_for(code)] for code in ("US-NY", "CN")}
        assert not [rule_id for rule_id in ids["US-NY"] if rule_id.startswith("CN-")]
        assert "CN-HOURS" in ids["CN"]
        assert "US-BK" in ids["CN"]
        assert made.rules_for(None) == made.rules_for("US-NY")
        judged = engine(made, case("NY-1", "US-NY"))
        assert letter(judged, "NY-1") == []

    def test_added_compliance_with_another_role_is_refused(self) -> None:
        from arrears.policy import Policy

        policy = Policy(id="p", version="1", jurisdictions=BY_STATE_US, role="creditor")
        with pytest.raises(InvalidInput) as err:
            Engine(
                policy=policy,
                compliance=Compliance(["CN"], role="collector"),
                compliance_mode="add",
            )
        assert (err.value.field, err.value.value) == ("compliance.role", "collector")

    @given(
        code=st.sampled_from(["US-MA", "US-NY", "US", "CN", "GB-ENG", "GB", "FR-75", None]),
        keys=st.sets(st.sampled_from(["US-MA", "US", "CN", "GB-ENG"])),
        default=st.booleans(),
    )
    def test_the_set_is_the_first_of_code_country_default_that_is_mapped(
        self, code: str | None, keys: set[str], default: bool
    ) -> None:
        packs = {"US-MA": ["US-MA"], "US": ["US-RegF"], "CN": ["CN"], "GB-ENG": ["UK"]}
        compliance = Compliance(
            ["US-WA"] if default else [],
            jurisdictions={key: packs[key] for key in keys},
        )
        chain = [] if code is None else [code, code.partition("-")[0]]
        expected = next((tuple(packs[key]) for key in chain if key in keys), None)
        if expected is None:
            expected = ("US-WA",) if default else ()
        assert compliance.packs_for(code) == expected


class TestRoles:
    def test_a_creditor_is_bound_by_the_massachusetts_caps_not_by_regulation_f(self) -> None:
        compliance = Compliance(jurisdictions=BY_STATE, role="creditor")
        ids = [rule.id for rule in compliance.rules_for("US-MA")]
        assert ids == [
            "US-BK",
            "US-SCRA",
            "US-TCPA",
            "US-DECEASED",
            "US-MA",
            "US-MA-OTHER",
            "US-MA-HOUSEHOLD",
            "US-MA-HOUSEHOLD-OTHER",
            "US-MA-HOURS",
        ]

    @pytest.mark.parametrize("role", ["creditor", "collector", "debt_buyer", None])
    def test_no_role_texts_a_massachusetts_debtor_at_night(self, role: str | None) -> None:
        # 940 CMR 7.05(1), (3)(e): a creditor's calls to the household only 08:00-21:00;
        # Regulation F's US-TIME binds collectors only, so a creditor was let through.
        made = engine(Compliance(jurisdictions=BY_STATE, role=role), case("C-1", "US-MA"))
        text = "Harbor Card: your account is past due. Reply STOP to opt out."
        found = {}
        for hour in (7, 10, 21, 22):
            proposal = {"channel": "sms", "contact": "sms", "text": text}
            moment = AT.replace(day=8, hour=hour)
            verdict = made.judge_contact("C-1", proposal, at=moment, record=False)
            found[hour] = "US-MA-HOURS" in [reason.rule for reason in verdict.reasons]
        assert found == {7: True, 10: False, 21: True, 22: True}

    def test_a_debtor_in_two_jurisdictions_is_judged_by_both(self) -> None:
        made = engine(
            Compliance(jurisdictions=BY_STATE, role="creditor"),
            case("C-1", "US-MA", debtor="D-1"),
            case("C-2", "US-NY", debtor="D-1"),
        )
        text = "Harbor Card: your account is past due. Reply STOP to opt out."
        proposal = {"channel": "sms", "contact": "sms", "text": text}
        verdict = made.judge_contact("C-2", proposal, at=AT.replace(hour=22), record=False)
        assert not verdict.allowed

    @pytest.mark.parametrize("role", ["collector", "debt_buyer", None])
    def test_collectors_and_debt_buyers_are_bound_by_every_rule(self, role: str | None) -> None:
        compliance = Compliance(jurisdictions=BY_STATE, role=role)
        assert [rule.id for rule in compliance.rules_for("US-MA")] == [
            rule.id for rule in (*PACKS["US-RegF"].rules, *PACKS["US-MA"].rules)
        ]

    def test_washington_binds_collection_agencies_and_debt_buyers_only(self) -> None:
        """RCW 19.16.100(4), (5)(c): a creditor collecting its own claims is no collection agency.

        One collecting them under another name is one (RCW 19.16.100(4)(c)): role collector.
        """
        wa = [rule.id for rule in PACKS["US-WA"].rules]
        for role in ("collector", "debt_buyer"):
            assert set(wa) <= set(Compliance(["US-WA"], role=role).rule_ids)
        assert not set(wa) & set(Compliance(["US-WA"], role="creditor").rule_ids)

    @pytest.mark.parametrize("pack", ["CN", "UK"])
    def test_cn_and_uk_bind_creditors_and_collectors_alike(self, pack: str) -> None:
        rules = {role: Compliance([pack], role=role).rule_ids for role in Role}
        assert rules[Role.CREDITOR] == rules[Role.COLLECTOR] == rules[Role.DEBT_BUYER]
        assert rules[Role.CREDITOR] == Compliance([pack]).rule_ids

    def test_the_same_letter_a_creditor_may_send_a_collector_may_not(self) -> None:
        verdicts = {}
        for role in ("creditor", "collector"):
            made = engine(Compliance(jurisdictions=BY_STATE, role=role), case("MA-1", "US-MA"))
            verdicts[role] = letter(made, "MA-1")
        assert verdicts == {"creditor": [], "collector": ["US-MIRANDA"]}

    def test_an_override_of_a_rule_the_role_is_not_bound_by_is_accepted(self) -> None:
        """One policy's overrides serve whichever role it is run as."""
        compliance = Compliance(["US-RegF"], role="creditor", overrides={"US-7IN7": {"limit": 5}})
        assert "US-7IN7" not in compliance.rule_ids
        with pytest.raises(InvalidInput) as err:
            compliance.rule("US-7IN7")
        assert err.value.field == "rule_id"


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "field", "value"),
        [
            ({"jurisdictions": {"usa": ["CN"]}}, "jurisdictions", "usa"),
            ({"jurisdictions": {"US-MA": ["US-XX"]}}, "jurisdictions.US-MA", "US-XX"),
            ({"jurisdictions": {"US-MA": []}}, "jurisdictions.US-MA", []),
            ({"jurisdictions": {"US-MA": "US-MA"}}, "jurisdictions.US-MA", "US-MA"),
            ({"jurisdictions": ["US-MA"]}, "jurisdictions", "list"),
            (
                {"packs": ["CN"], "jurisdictions": {"default": ["UK"]}},
                "jurisdictions.default",
                ["UK"],
            ),
            ({"packs": ["US-XX"], "jurisdictions": {"CN": ["CN"]}}, "packs", "US-XX"),
            ({"role": "bank"}, "role", "bank"),
            ({"jurisdictions": {"US-MA\n": ["US-MA"]}}, "jurisdictions", "US-MA\n"),
        ],
    )
    def test_bad_input_names_the_field_and_the_value(
        self, kwargs: dict[str, Any], field: str, value: Any
    ) -> None:
        with pytest.raises(InvalidInput) as err:
            Compliance(**kwargs)
        assert (err.value.field, err.value.value) == (field, value)

    # "US-MA\n" (a record read with its line end) was taken, then matched only "US": a
    # Massachusetts debtor judged without the Massachusetts caps.
    @pytest.mark.parametrize(
        "code", ["us-ma", "USA", "US_MA", "US-", "US-MASS", "", "1A", "US-MA\n", "CN\n"]
    )
    def test_a_debtor_jurisdiction_that_is_not_iso_3166_is_refused(self, code: str) -> None:
        made = Engine(clock=SettableClock(AT))
        with pytest.raises(InvalidInput) as err:
            made.open_case(case("C-1", code))
        assert err.value.field == "debtor.jurisdiction"

    @pytest.mark.parametrize("code", ["CN", "US-MA", "GB-ENG", "FR-75", "CA-ON"])
    def test_iso_3166_codes_are_accepted(self, code: str) -> None:
        made = Engine(clock=SettableClock(AT))
        assert made.open_case(case("C-1", code)).debtor.jurisdiction == code


POLICY = """\
id: card-portfolio
version: "1"
role: {role}
jurisdictions:
  US-MA: [US-MA]
  default: [US-RegF]
"""


class TestPolicy:
    def test_a_policy_gives_role_and_jurisdictions_to_its_engine(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        verdicts = {}
        for role in ("creditor", "collector"):
            path.write_text(POLICY.format(role=role), encoding="utf-8")
            policy = load_policy(path)
            made = Engine(policy=policy, clock=SettableClock(AT))
            made.open_case(case("MA-1", "US-MA"))
            made.open_case(case("NY-1", "US-NY"))
            verdicts[role] = (letter(made, "MA-1"), letter(made, "NY-1"))
            assert made.compliance.packs_for("US-MA") == ("US-MA",)
        assert verdicts == {
            "creditor": ([], []),
            "collector": (["US-MIRANDA"], ["US-MIRANDA"]),
        }

    @pytest.mark.parametrize(
        ("change", "line", "field", "message"),
        [
            (("[US-MA]", "[US-XX]"), 5, "jurisdictions.US-MA", "'US-XX'"),
            (("role: creditor", "role: bank"), 3, "role", "creditor"),
            (("  default:", "  Texas:"), 4, "jurisdictions", "'Texas'"),
            (('version: "1"', 'version: "1"\npacks: [CN]'), 7, "jurisdictions.default", "packs"),
        ],
    )
    def test_bad_keys_name_the_line_and_field(
        self, tmp_path: Path, change: tuple[str, str], line: int, field: str, message: str
    ) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text(POLICY.format(role="creditor").replace(*change), encoding="utf-8")
        with pytest.raises(PolicyInvalid) as err:
            load_policy(path)
        problem = err.value.problems[0]
        assert (problem.line, problem.field) == (line, field), err.value
        assert message in problem.message


class TestShowingWhichPacksJudge:
    def test_explain_says_which_packs_judge_the_case(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text(POLICY.format(role="creditor"), encoding="utf-8")
        made = Engine(policy=load_policy(path), clock=SettableClock(AT))
        made.open_case(case("MA-1", "US-MA"))
        made.open_case(case("NY-1", "US-NY"))
        lines = {
            case_id: str(made.explain(case_id, AT)).splitlines()[2] for case_id in ("MA-1", "NY-1")
        }
        assert lines == {
            "MA-1": "packs: US-MA (jurisdiction US-MA, matched US-MA; role creditor)",
            "NY-1": "packs: US-RegF (jurisdiction US-NY, matched default; role creditor)",
        }

    def test_explain_says_when_no_set_covers_the_debtor(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text('id: p\nversion: "1"\njurisdictions: {US: [US-RegF]}\n', encoding="utf-8")
        made = Engine(policy=load_policy(path), clock=SettableClock(AT))
        made.open_case(case("X-1", None))
        assert str(made.explain("X-1", AT)).splitlines()[2] == (
            "packs: none (jurisdiction unknown, covered by no set: no contact)"
        )

    def test_explain_without_jurisdictions_or_role_is_as_before(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text('id: p\nversion: "1"\npacks: [US-RegF]\n', encoding="utf-8")
        made = Engine(policy=load_policy(path), clock=SettableClock(AT))
        made.open_case(case("MA-1", "US-MA"))
        explained = made.explain("MA-1", AT)
        assert explained.rules is None
        assert "packs:" not in str(explained)

    def test_check_prints_the_packs_of_each_jurisdiction_and_the_role(self, tmp_path: Path) -> None:
        from click.testing import CliRunner

        from arrears.cli import main

        path = tmp_path / "policy.yaml"
        path.write_text(POLICY.format(role="collector"), encoding="utf-8")
        result = CliRunner().invoke(main, ["check", str(path)])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[1] == (
            "  packs by jurisdiction: US-MA → US-MA; default → US-RegF; role collector"
        )


SCENARIO = """\
name: a policy's jurisdictions and role judge a scenario's contacts
policy: policy.yaml
{overrides}
case:
  id: MA-1
  timezone: America/New_York
  jurisdiction: US-MA
  currency: USD
  balance: "100.00"
  due_date: 2026-07-01
  contacts:
    - {{id: home, channel: letter, address: "12 Elm St"}}
    - {{id: sms, channel: sms, address: "+16175550100"}}
events:
  - {{at: 2026-10-05T10:00:00-04:00, type: contact, channel: sms, contact: sms, outcome: delivered}}
expect:
  - at: 2026-10-07T10:00:00-04:00
    contact: {{channel: letter, contact: home, text: "{text}"}}
    verdict: allow
  - at: 2026-10-07T10:00:00-04:00
    contact: {{channel: sms, contact: sms, text: "Reply STOP to opt out."}}
    verdict: {sms}
"""


class TestScenarioFiles:
    @pytest.mark.parametrize(
        ("overrides", "sms"),
        [("", "allow"), ("overrides: {US-MA: {limit: 1}}", "deny")],
    )
    def test_a_policy_scenario_judges_by_the_policys_jurisdictions_and_role(
        self, tmp_path: Path, overrides: str, sms: str
    ) -> None:
        """With the scenario's overrides too (the engine is then built from the policy's keys)."""
        from arrears.scenarios import run_scenario

        (tmp_path / "policy.yaml").write_text(POLICY.format(role="creditor"), encoding="utf-8")
        path = tmp_path / "scenario.yaml"
        path.write_text(SCENARIO.format(overrides=overrides, text=PLAIN, sms=sms), "utf-8")
        result = run_scenario(path)
        assert result.passed, result.failures

    @pytest.mark.parametrize(
        ("extra", "field", "message"),
        [
            ("role: creditor", "role", "give role in the policy file"),
            ("jurisdictions: {CN: [CN]}", "jurisdictions", "give jurisdictions in the policy"),
        ],
    )
    def test_role_and_jurisdictions_belong_to_the_policy_when_there_is_one(
        self, tmp_path: Path, extra: str, field: str, message: str
    ) -> None:
        from arrears.scenarios import ScenarioInvalid, load_scenario

        (tmp_path / "policy.yaml").write_text(POLICY.format(role="creditor"), encoding="utf-8")
        path = tmp_path / "scenario.yaml"
        text = SCENARIO.format(overrides=extra, text=PLAIN, sms="allow")
        path.write_text(text, "utf-8")
        with pytest.raises(ScenarioInvalid) as err:
            load_scenario(path)
        assert (err.value.problems[0].field, err.value.problems[0].line) == (field, 3)
        assert message in err.value.problems[0].message

    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            ("jurisdictions: {US-MA: [US-XX]}", "jurisdictions.US-MA[0]", "unknown rule pack"),
            ("jurisdictions: {usa: [US-MA]}", "jurisdictions", "'usa'"),
            ("role: bank", "role", "creditor"),
        ],
    )
    def test_bad_keys_of_a_rules_scenario_name_the_field(
        self, tmp_path: Path, change: str, field: str, message: str
    ) -> None:
        from arrears.scenarios import ScenarioInvalid, run_scenario

        path = tmp_path / "scenario.yaml"
        text = SCENARIO.format(overrides=change, text=PLAIN, sms="allow")
        path.write_text(text.replace("policy: policy.yaml", "rules: [US-RegF]"), "utf-8")
        with pytest.raises(ScenarioInvalid) as err:
            run_scenario(path)
        problem = err.value.problems[0]
        assert problem.field.startswith(field), err.value
        assert message in problem.message
