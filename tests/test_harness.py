"""PolicyHarness: a policy under test in a few lines, as a lender would write it."""

from __future__ import annotations

import inspect
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from arrears import Balance, InvalidInput, Money
from arrears.harness import COMPONENTS
from arrears.policy import Facts
from arrears.testing import PolicyHarness

POLICY = Path(__file__).resolve().parent.parent / "examples" / "policies" / "cn_consumer_loan.yaml"


def test_reminder_three_days_before_due_then_overdue_sms() -> None:
    harness = PolicyHarness(POLICY, start="2026-08-28T09:30:00+08:00")
    harness.open(id="L-1", due_date="2026-09-01", principal="3000.00")
    harness.run(days=8)
    assert harness.sent("L-1") == [
        ("2026-08-29", "sms", "reminder"),
        ("2026-09-02", "sms", "overdue"),
        ("2026-09-04", "sms", "overdue"),
    ]
    assert harness.stage("L-1") == "sms"
    assert "逾期1天" in harness.texts("L-1")[1]


def test_calls_go_to_the_senior_team_for_large_balances() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-16T09:30:00+08:00")
    harness.open(id="L-2", due_date="2026-09-01", principal="25000.00", stage="phone")
    harness.run(days=1)
    [task] = harness.tasks("L-2")
    assert (task.queue, task.assignee, task.priority) == ("senior-team", "agent-senior-team", 1)


def test_late_evening_sms_is_denied_and_named() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-02T22:30:00+08:00")
    harness.open(id="L-3", due_date="2026-09-01", principal="900.00", stage="notified")
    harness.tick()
    assert harness.denied("L-3") == [("2026-09-02", ["CN-HOURS"])]


CARD = POLICY.parent / "credit_card.yaml"


def test_open_takes_every_balance_component() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-16T09:30:00+08:00")
    case = harness.open(
        id="L-4",
        due_date="2026-09-01",
        principal="6000.00",
        interest="120.50",
        fees=35,
        penalty=Decimal("3.10"),
        not_due="1000",
        credit="0.40",
    )
    assert case.balance.model_dump() == {
        "currency": "CNY",
        "principal": Decimal("6000.00"),
        "interest": Decimal("120.50"),
        "fees": Decimal("35.00"),
        "penalty": Decimal("3.10"),
        "not_due": Decimal("1000.00"),
        "credit": Decimal("0.40"),
    }
    assert harness.facts("L-4")["arrears"] == Decimal("6158.60")


def test_open_names_every_component_a_balance_has() -> None:
    """A component added to `Balance` is one `open` takes by name too."""
    components = {name for name in Balance.model_fields if name != "currency"}
    assert components <= set(inspect.signature(PolicyHarness.open).parameters)
    assert set(COMPONENTS) == components


def test_open_takes_a_whole_balance_in_the_currency_given() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-16T09:30:00+08:00")
    case = harness.open(
        id="L-5", due_date="2026-09-01", balance={"principal": "100", "interest": "7"}
    )
    assert (case.balance.currency, case.balance.arrears) == ("CNY", Money("107.00", "CNY"))
    usd = harness.open(
        id="L-6",
        due_date="2026-09-01",
        balance=Balance(currency="USD", principal="12.50", not_due="50"),
    )
    assert (usd.balance.arrears, usd.balance.outstanding) == (
        Money("12.50", "USD"),
        Money("62.50", "USD"),
    )


def test_a_component_beside_a_balance_is_refused_by_name() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-16T09:30:00+08:00")
    with pytest.raises(InvalidInput, match=r"^principal: got '3000.00', expected no principal="):
        harness.open(
            id="L-7",
            due_date="2026-09-01",
            principal="3000.00",
            balance={"currency": "CNY", "principal": "3000.00"},
        )
    with pytest.raises(InvalidInput) as refused:
        harness.open(
            id="L-7",
            due_date="2026-09-01",
            currency="USD",
            balance={"currency": "CNY", "principal": "3000.00"},
        )
    assert (refused.value.field, refused.value.value) == ("currency", "USD")
    with pytest.raises(InvalidInput, match=r"^principal: got None, expected what is owed"):
        harness.open(id="L-7", due_date="2026-09-01")
    assert "L-7" not in harness.engine.store


def test_a_bad_amount_is_refused_naming_its_component() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-16T09:30:00+08:00")
    with pytest.raises(InvalidInput) as refused:
        harness.open(id="L-8", due_date="2026-09-01", principal="10", penalty="1.005")
    assert refused.value.field == "balance.penalty"


def test_facts_are_what_the_tick_hands_a_python_rule() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-05T09:30:00+08:00")
    received: list[Facts] = []

    @harness.policy.rule("watch")
    def watch(facts: Facts) -> None:
        received.append(facts)

    harness.open(id="L-9", due_date="2026-09-01", principal="900.00", interest="12.00")
    harness.tick()  # the first review: the case escalates, then the rule runs
    harness.advance(timedelta(days=1))
    before = harness.facts("L-9")
    harness.tick()
    given = received[-1]
    assert type(before) is type(given) is Facts
    assert before.as_dict() == given.as_dict()
    assert (before.at, before.case.id, before.segment) == (given.at, "L-9", given.segment)
    assert (before["dpd"], before["arrears"]) == (5, Decimal("912.00"))
    assert [entry.hash for entry in before.entries()] == [
        entry.hash for entry in harness.engine.history("L-9")[: len(before.entries())]
    ]


def test_facts_are_copies() -> None:
    harness = PolicyHarness(POLICY, start="2026-09-05T09:30:00+08:00")
    harness.open(id="L-10", due_date="2026-09-01", principal="900.00")
    facts = harness.facts("L-10")
    facts.case.balance.__dict__["principal"] = Decimal("1.00")
    assert harness.case("L-10").balance.principal == Decimal("900.00")


def test_a_task_that_needs_a_skill_is_assigned() -> None:
    """The credit-record warning needs the skill credit-warning: its queue's agent has it."""
    harness = PolicyHarness(CARD, start="2026-09-16T10:00:00+08:00")
    harness.open(id="C-1", due_date="2026-09-01", principal="60000.00", stage="phone")
    harness.run(days=1)
    assignees = {task.queue: task.assignee for task in harness.tasks("C-1")}
    assert assignees == {"card-phone": "agent-card-phone", "card-senior": "agent-card-senior"}


def test_start_must_be_a_time_with_an_offset() -> None:
    with pytest.raises(InvalidInput, match=r"^start: got 'tomorrow'"):
        PolicyHarness(POLICY, start="tomorrow")
    with pytest.raises(InvalidInput, match=r"^start:"):
        PolicyHarness(POLICY, start="2026-09-05T09:30:00")


def _policy(tmp_path: Path, packs: str) -> Path:
    """A policy with *packs* (a YAML line: ``packs: [...]`` or ``jurisdictions: {...}``)."""
    file = tmp_path / "policy.yaml"
    file.write_text(
        f'id: p\nversion: "1"\n{packs}\nreview: {{time: "10:00"}}\n'
        "escalations:\n  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}\n",
        encoding="utf-8",
    )
    return file


@pytest.mark.parametrize(
    ("packs", "expected"),
    [
        ("packs: [CN]", ("CNY", "Asia/Shanghai", "zh-CN", "+8613812345678", None)),
        ("packs: [UK]", ("GBP", "Europe/London", "en-GB", "+447911123456", None)),
        ("packs: [US-RegF, US-MA]", ("USD", "America/New_York", "en-US", "+12125550123", None)),
        (
            "jurisdictions: {US-MA: [US-MA], US: [US-RegF]}",
            ("USD", "America/New_York", "en-US", "+12125550123", "US-MA"),
        ),
        (
            "jurisdictions: {GB: [UK], default: [US-RegF]}",
            ("GBP", "Europe/London", "en-GB", "+447911123456", None),
        ),
    ],
)
def test_open_defaults_follow_the_country_of_the_first_pack(
    tmp_path: Path, packs: str, expected: tuple[str, ...]
) -> None:
    """A UK or US policy's cases are not opened in yuan in Shanghai with a Chinese number."""
    harness = PolicyHarness(_policy(tmp_path, packs), start="2026-09-16T10:00:00+00:00")
    case = harness.open(id="L-1", due_date="2026-09-01", principal="100.00")
    [contact] = case.contacts
    assert (
        case.currency,
        str(case.debtor.timezone),
        case.debtor.locale,
        contact.address,
        case.debtor.jurisdiction,
    ) == expected


def test_open_takes_the_debtors_jurisdiction(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "jurisdictions: {US-MA: [US-MA], US-NY: [US-NY]}")
    harness = PolicyHarness(policy, start="2026-09-16T10:00:00-04:00")
    case = harness.open(id="NY-1", due_date="2026-09-01", principal="100.00", jurisdiction="US-NY")
    assert case.debtor.jurisdiction == "US-NY"


@pytest.mark.parametrize(
    ("jurisdiction", "expected"),
    [
        ("GB-ENG", ("GBP", "Europe/London", "en-GB", "+447911123456")),
        ("CN", ("CNY", "Asia/Shanghai", "zh-CN", "+8613812345678")),
        ("US-WA", ("USD", "America/New_York", "en-US", "+12125550123")),
    ],
)
def test_open_defaults_follow_the_set_of_the_given_jurisdiction(
    tmp_path: Path, jurisdiction: str, expected: tuple[str, ...]
) -> None:
    """An English debtor of a lender whose first set is China's is opened in pounds in London,
    not in yuan in Shanghai with a Chinese number; a debtor of the default set, as the first."""
    policy = _policy(tmp_path, "jurisdictions: {CN: [CN], GB: [UK], default: [US-RegF]}")
    harness = PolicyHarness(policy, start="2026-09-16T10:00:00+00:00")
    case = harness.open(
        id="L-1", due_date="2026-09-01", principal="100.00", jurisdiction=jurisdiction
    )
    [contact] = case.contacts
    found = (case.currency, str(case.debtor.timezone), case.debtor.locale, contact.address)
    assert (*found, case.debtor.jurisdiction) == (*expected, jurisdiction)
