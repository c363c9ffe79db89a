"""Policies: the schema, structured and CEL conditions, loading with located errors, checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears import Engine, InvalidInput, SettableClock
from arrears.compliance.history import ContactHistory
from arrears.policy import (
    CelCondition,
    ConditionError,
    Facts,
    Policy,
    PolicyInvalid,
    When,
    conditions,
    load_policy,
    next_payday,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"

BASE = """\
id: test-policy
version: "1"
packs: [CN]
steps:
  - id: overdue-sms
    stages: [notified, sms]
    when: {dpd_in: [1, 3, 7]}
    send: {channel: sms}
escalations:
  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}
"""


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def facts_for(make_case: Any, at: datetime, **case: Any) -> Facts:
    return Facts(make_case(**case), at, ContactHistory())


class TestExamples:
    @pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
    def test_example_policies_load_and_build(self, path: Path) -> None:
        policy = load_policy(path)
        assert policy.problems() == []
        assert policy.build_workflow().definition.name == policy.id
        assert policy.build_compliance().packs == policy.packs


class TestWhen:
    def test_days_past_due_tests(self, make_case: Any) -> None:
        at = datetime(2026, 9, 4, 2, tzinfo=UTC)  # 3 days after the due date, in Shanghai
        facts = facts_for(make_case, at)
        assert facts["dpd"] == 3
        assert When(dpd_in=(1, 3, 7)).compile()(facts)
        assert not When(dpd_in=(1, 7)).compile()(facts)
        assert When(dpd_at_least=3, dpd_at_most=3).compile()(facts)
        # Every field must hold, whichever fails (first, middle or last).
        assert When(dpd_at_least=1, arrears_at_least="1000", bucket_in=["M1"]).compile()(facts)
        assert not When(dpd_at_least=4, arrears_at_least="1000", bucket_in=["M1"]).compile()(facts)
        assert not When(dpd_at_least=1, arrears_at_least="2000", bucket_in=["M1"]).compile()(facts)
        assert not When(dpd_at_least=1, arrears_at_least="1000", bucket_in=["M2"]).compile()(facts)

    def test_amounts_are_exact_decimals(self, make_case: Any) -> None:
        """CNY 1070.00 overdue: at least 1070.00, not at least 1070.01."""
        facts = facts_for(make_case, datetime(2026, 10, 1, tzinfo=UTC))
        assert facts["arrears"] == Decimal("1070.00")
        assert When(arrears_at_least=Decimal("1070.00")).compile()(facts)
        assert not When(arrears_at_least=Decimal("1070.01")).compile()(facts)

    @pytest.mark.parametrize(
        ("balance", "arrears", "outstanding"),
        [
            (
                {"currency": "CNY", "principal": "1000", "fees": "0.5", "not_due": "3000"},
                "1000.50",
                "4000.50",
            ),
            (
                {"currency": "JPY", "principal": "120000", "penalty": "600", "not_due": "50000"},
                "120600",
                "170600",
            ),
        ],
    )
    def test_arrears_and_outstanding_are_the_balances_own(
        self, make_case: Any, balance: dict[str, str], arrears: str, outstanding: str
    ) -> None:
        """The facts are Balance.arrears and .outstanding, to the currency's minor units."""
        facts = facts_for(make_case, datetime(2026, 10, 1, tzinfo=UTC), balance=balance)
        case = facts.case
        assert str(facts["arrears"]) == str(case.balance.arrears.amount) == arrears
        assert str(facts["outstanding"]) == str(case.balance.outstanding.amount) == outstanding

    @pytest.mark.parametrize(
        ("fields", "why"),
        [
            ({"dpd_at_least": 10, "dpd_at_most": 5}, "at least 10 and at most 5"),
            ({"dpd_in": [40, 50], "dpd_at_most": 30}, "none of dpd_in"),
            ({"arrears_at_least": "500", "arrears_below": "100"}, "at least 500"),
        ],
    )
    def test_contradictions_are_refused(self, fields: dict[str, Any], why: str) -> None:
        with pytest.raises(ValueError, match=why):
            When.model_validate(fields)

    def test_negative_days_are_refused(self) -> None:
        with pytest.raises(ValueError, match="greater than or equal to 0"):
            When.model_validate({"dpd_at_least": -1})


class TestCel:
    def test_evaluates_on_the_facts(self, make_case: Any) -> None:
        facts = facts_for(make_case, datetime(2026, 10, 1, tzinfo=UTC))  # dpd 30
        assert CelCondition("dpd >= 30 && arrears >= 1000.0 && stage == 'pre_due'")(facts)
        assert not CelCondition("bucket == 'M2'")(facts)
        assert CelCondition("'dispute' in holds || size(holds) == 0")(facts)

    @pytest.mark.parametrize(
        ("source", "why"),
        [
            ("dpd >= ", "Syntax error|parse"),
            ("days_overdue > 3", "Undefined variable"),
            ("dpd > 'x'", "No such overload"),
            ("dpd + 1", "not a boolean"),
        ],
    )
    def test_bad_expressions_are_refused_when_compiled(self, source: str, why: str) -> None:
        with pytest.raises(ConditionError, match=why):
            CelCondition(source)

    @given(
        st.lists(
            st.tuples(
                st.integers(0, 120),
                st.decimals(0, 50_000, places=2),
                st.sampled_from(["large", "standard", None]),
                st.sampled_from([[], ["dispute"]]),
            ),
            min_size=1,
            max_size=30,
        )
    )
    def test_remembered_results_are_the_results(
        self, cases: list[tuple[int, Decimal, str | None, list[str]]]
    ) -> None:
        """Results are remembered by the facts' values: each case, seen twice, gets its own."""
        condition = CelCondition("dpd >= 30 && arrears >= 1000.0 && segment == 'large'")
        with_holds = CelCondition("dpd >= 30 && size(holds) == 0")
        with patch.object(conditions, "_RESULTS_KEPT", 5):  # and forgotten, now and then
            for dpd, arrears, segment, holds in cases * 2:
                facts = {"dpd": dpd, "arrears": arrears, "segment": segment, "holds": holds}
                expected = dpd >= 30 and arrears >= 1000 and segment == "large"
                assert condition(facts) is expected  # type: ignore[arg-type]
                assert with_holds(facts) is (dpd >= 30 and not holds)  # type: ignore[arg-type]

    def test_a_null_fact_makes_the_condition_false(self, make_case: Any) -> None:
        facts = facts_for(make_case, datetime(2026, 10, 1, tzinfo=UTC))
        assert facts["days_to_payday"] is None
        assert not CelCondition("days_to_payday <= 3")(facts)


class TestAttemptsFact:
    """attempts_7d counted on the journal's tail agrees with the folded contact history."""

    @pytest.mark.parametrize(
        ("at", "expected"),
        [
            (datetime(2026, 10, 9, 12, tzinfo=UTC), 3),  # 3, 5, 9 Oct; 2 Oct is 7 days 2 h back
            (datetime(2026, 10, 9, 10, tzinfo=UTC), 4),  # the window still holds 2 Oct 10:00
            (datetime(2026, 10, 5, 0, tzinfo=UTC), 2),  # the later attempts are not counted
            (datetime(2026, 10, 20, tzinfo=UTC), 0),
        ],
    )
    def test_attempts_in_seven_days(self, make_case: Any, at: datetime, expected: int) -> None:
        engine = Engine(clock=SettableClock(datetime(2026, 10, 1, tzinfo=UTC)))
        case = engine.open_case(make_case())
        for day in (2, 3, 5, 9):
            moment = datetime(2026, 10, day, 10, tzinfo=UTC)
            engine.record_interaction("C-1", "call", "no_answer", contact="p1", at=moment)
            engine.record_consent("C-1", "sms", at=moment)  # entries that are not attempts
        engine._recorder._histories.clear()  # nothing folded: the fact reads the journal
        from_journal = engine._recorder.facts(case, at)["attempts_7d"]
        from_history = Facts(case, at, engine.contact_history("C-1"))["attempts_7d"]
        assert from_journal == from_history == expected


class TestPayday:
    def test_next_payday(self) -> None:
        assert next_payday("FREQ=MONTHLY;BYMONTHDAY=15", date(2026, 10, 15)) == date(2026, 10, 15)
        assert next_payday("FREQ=MONTHLY;BYMONTHDAY=-1", date(2027, 2, 2)) == date(2027, 2, 28)
        assert next_payday("FREQ=WEEKLY;BYDAY=FR", date(2026, 11, 22)) == date(2026, 11, 27)

    def test_days_to_payday_is_a_fact(self, make_case: Any) -> None:
        debtor = {"id": "D-1", "timezone": "Asia/Shanghai", "payday": "FREQ=MONTHLY;BYMONTHDAY=10"}
        facts = facts_for(make_case, datetime(2026, 10, 7, 2, tzinfo=UTC), debtor=debtor)
        assert facts["days_to_payday"] == 3

    def test_a_bad_rule_is_refused(self, make_case: Any) -> None:
        with pytest.raises(ValueError, match="payday"):
            make_case(debtor={"id": "D-1", "payday": "every friday"})


class TestLoading:
    def test_a_policy_loads(self, tmp_path: Path) -> None:
        policy = load_policy(write(tmp_path, BASE))
        assert (policy.id, policy.version, policy.packs) == ("test-policy", "1", ("CN",))

    def test_toml_loads_too(self, tmp_path: Path) -> None:
        text = """\
id = "toml-policy"
version = "2"
packs = ["UK"]

[[steps]]
id = "reminder"
stages = ["notified"]
send = {channel = "email"}
when = {dpd_in = [1, 5]}
"""
        policy = load_policy(write(tmp_path, text, "policy.toml"))
        assert policy.steps[0].when == When(dpd_in=(1, 5))

    @pytest.mark.parametrize(
        ("change", "line", "field", "message"),
        [
            (
                ("stages: [notified, sms]", "stages: [notified, texting]"),
                6,
                "steps[0].stages[1]",
                "unknown stage 'texting'",
            ),
            (
                ("{dpd_in: [1, 3, 7]}", "{dpd_at_least: -1}"),
                7,
                "steps[0].when.dpd_at_least",
                "greater than or equal to 0",
            ),
            (("when: {dpd_in: [1, 3, 7]}", 'if: "dpd >= "'), 7, "steps[0].if", "does not compile"),
            (
                ("stages: [notified, sms]", "stages: [resolved, closed]"),
                6,
                "steps[0].stages",
                "can never fire",
            ),
            (
                ("{dpd_in: [1, 3, 7]}", "{dpd_at_least: 10, dpd_at_most: 5}"),
                7,
                "steps[0].when",
                "can never hold",
            ),
            (
                ("trigger: notify", "trigger: start_legal"),
                10,
                "escalations[0].trigger",
                "manual trigger",
            ),
            (
                ("trigger: notify", "trigger: notfy"),
                10,
                "escalations[0].trigger",
                "unknown trigger 'notfy'",
            ),
            (("packs: [CN]", "packs: [CN, XX]"), 3, "packs", "unknown packs ['XX']"),
            (
                ("send: {channel: sms}", "send: {channel: call}"),
                8,
                "steps[0].send.channel",
                "needs a person: use a task",
            ),
            (('version: "1"', 'version: "1"\ncolour: blue'), 3, "colour", "unknown key"),
        ],
    )
    def test_bad_policies_name_the_file_line_and_field(
        self, tmp_path: Path, change: tuple[str, str], line: int, field: str, message: str
    ) -> None:
        path = write(tmp_path, BASE.replace(*change))
        with pytest.raises(PolicyInvalid) as err:
            load_policy(path)
        problem = err.value.problems[0]
        assert (problem.file, problem.line, problem.field) == (str(path), line, field), err.value
        assert message in problem.message

    def test_an_escalation_cycle_with_no_exit(self, tmp_path: Path) -> None:
        """A ladder naming sms twice: sms -> phone -> sms, nothing leading on."""
        text = BASE.replace(
            "packs: [CN]\n", "packs: [CN]\nworkflow:\n  ladder: [notified, sms, phone, sms]\n"
        ) + ("  - {trigger: escalate, from: [sms]}\n  - {trigger: escalate, from: [phone]}\n")
        with pytest.raises(PolicyInvalid, match="cycle through phone -> sms"):
            load_policy(write(tmp_path, text))

    def test_a_cycle_with_an_exit_is_fine(self, tmp_path: Path) -> None:
        text = BASE + (
            "  - {trigger: escalate, from: [notified]}\n"
            "  - {trigger: escalate, from: [sms], when: {dpd_at_least: 45}}\n"
        )
        assert load_policy(write(tmp_path, text)).escalations[-1].trigger == "escalate"

    @pytest.mark.parametrize(
        ("trigger", "guard"),
        [
            ("promise", "open_promise()"),
            ("offer_plan", "active_plan()"),
            ("promise_kept", "kept_promise()"),
            ("promise_broken", "broken_promise()"),
            ("plan_completed", "completed_plan()"),
            ("plan_broken", "broken_plan()"),
        ],
    )
    def test_a_rule_firing_an_agreement_trigger(
        self, tmp_path: Path, trigger: str, guard: str
    ) -> None:
        """Each trigger into or out of an agreement's stage asks for a promise or a plan only
        recording it, or its review, gives (and that fires the trigger itself): an escalation
        or a step firing it is a problem naming the field and the trigger."""
        text = BASE + f"  - {{trigger: {trigger}}}\n"
        text = text.replace("    send: {channel: sms}\n", f"    fire: {trigger}\n")
        with pytest.raises(PolicyInvalid) as err:
            load_policy(write(tmp_path, text))
        found = {(problem.field, problem.message.split(":")[0]) for problem in err.value.problems}
        assert (
            "escalations[1].trigger",
            f"got {trigger!r}, which an escalation cannot fire",
        ) in found
        assert ("steps[0].fire", f"got {trigger!r}, which a step cannot fire") in found
        assert all(
            guard in problem.message for problem in err.value.problems if "got" in problem.message
        )

    def test_variant_shares_and_references(self, tmp_path: Path) -> None:
        text = BASE + (
            "variants:\n  - {id: champion, share: 70}\n  - {id: challenger, share: 20}\n"
        )
        with pytest.raises(PolicyInvalid, match=r"add up to 90, not 100"):
            load_policy(write(tmp_path, text))
        text = BASE.replace("{dpd_in: [1, 3, 7]}", "{segment_in: [vip]}")
        with pytest.raises(PolicyInvalid, match="unknown segment 'vip'"):
            load_policy(write(tmp_path, text))

    def test_every_problem_is_reported_at_once(self, tmp_path: Path) -> None:
        text = BASE.replace("[notified, sms]", "[texting]").replace("notify", "notfy")
        with pytest.raises(PolicyInvalid) as err:
            load_policy(write(tmp_path, text))
        assert [problem.field for problem in err.value.problems] == [
            "steps[0].stages[0]",
            "escalations[0].trigger",
        ]

    def test_an_engine_refuses_an_inconsistent_policy_built_in_python(self) -> None:
        policy = Policy.model_validate(
            {"id": "p", "version": "1", "escalations": [{"trigger": "nope"}]}
        )
        with pytest.raises(InvalidInput, match=r"escalations\.0\.trigger"):
            Engine(policy=policy)


class TestVariants:
    def test_assignment_is_stable_and_follows_the_shares(self) -> None:
        policy = Policy.model_validate(
            {
                "id": "cc",
                "version": "1",
                "variants": [{"id": "champion", "share": 80}, {"id": "challenger", "share": 20}],
            }
        )
        ids = [f"L-{n:05d}" for n in range(5000)]
        first = [policy.variant_of(case_id) for case_id in ids]
        assert first == [policy.variant_of(case_id) for case_id in ids]
        share = first.count("challenger") / len(first)
        assert 0.17 < share < 0.23
