"""Forged ``payment_reversed`` entries that `verify` must refuse.

A forger who can seal entries writes a reversal the engine never would: one in an older
engine's format (no ``due_date``, no ``stage``) that leaves a cured case ``resolved``
while it owes everything again; one that records more owed again than the payment paid
(a reversal as a way to add to a debt); one naming another amount or reference; and one
in the older format after the engine had started recording due dates, to get past the
newer rules.  And an ``agreement_reopened`` (a plan over two loans re-opened on the other
loan) with more owed again than its resolution waived, without its stage, or twice.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from arrears import Engine, JournalCorrupted, SettableClock
from arrears.events import replay
from arrears.journal import JournalEntry, seal
from test_payments import START, cny, loan
from test_reversal_due_dates import as_older_engines_wrote


def cured_and_reversed() -> tuple[Engine, list[JournalEntry], JournalEntry]:
    """12,530 paid in ``sms`` cures the case (``resolved``); the payment bounces two days
    later.  The chain up to the cure, and the engine's own reversal entry."""
    clock = SettableClock(START)
    engine = Engine(clock=clock)
    case_id = engine.open_case(loan(stage="sms")).id
    clock.set(START + timedelta(hours=3))
    assert engine.record_payment(case_id, cny("12530.00"), reference="ALL").cured
    clock.set(START + timedelta(days=2))
    chain = list(engine.history(case_id))
    engine.reverse_payment(case_id, "ALL")
    genuine = engine.history(case_id)[-1]
    assert genuine.data["stage"] == {"from": "resolved", "to": "sms"}
    assert engine.verify() == []
    return engine, chain, genuine


def appended(chain: list[JournalEntry], at: Any, data: dict[str, Any]) -> list[JournalEntry]:
    """*chain* with a ``payment_reversed`` entry of *data* sealed after it."""
    last = chain[-1]
    entry = seal(last.case_id, last.seq + 1, at, "payment_reversed", data, last.hash)
    return [*chain, entry]


def refused(engine: Engine, chain: list[JournalEntry], match: str) -> None:
    with pytest.raises(JournalCorrupted, match=match):
        replay(chain, None, check=engine.workflow.entry_problem)


def test_the_genuine_reversal_verifies() -> None:
    engine, chain, genuine = cured_and_reversed()
    case = replay(
        appended(chain, genuine.at, dict(genuine.data)), None, check=engine.workflow.entry_problem
    )
    assert case.stage == "sms"
    assert case.arrears == cny("12530.00")


def test_an_older_format_reversal_cannot_leave_a_cured_case_resolved_while_it_owes() -> None:
    """No ``due_date`` (an older engine's format) and no ``stage``: the case would stay
    ``resolved``, terminal, with 12,530.00 owed again.  Every engine moved it back."""
    engine, chain, genuine = cured_and_reversed()
    # On a case that keeps its aging, no engine ever wrote the older format.
    data = {k: v for k, v in genuine.data.items() if k not in ("due_date", "stage", "aging")}
    refused(engine, appended(chain, genuine.at, data), "on a case that keeps what is overdue")
    chain = as_older_engines_wrote(chain)  # a case as the older engines opened it
    refused(engine, appended(chain, genuine.at, data), "moves the case nowhere")
    # With its stage, the older format still verifies (what an older engine wrote).
    older = {k: v for k, v in genuine.data.items() if k not in ("due_date", "aging")}
    assert (
        replay(appended(chain, genuine.at, older), None, check=engine.workflow.entry_problem).stage
        == "sms"
    )


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        (
            "restored",
            {"fees": "50.00", "interest": "360.00", "penalty": "120.00", "principal": "999999.00"},
            "restored",
        ),
        ("restored", {"principal": "12000.00"}, "restored"),
        ("credit", "500.00", "credit"),
        ("amount", "1.00", "amount"),
        ("reference", "OTHER", "reference"),
    ],
)
def test_a_reversal_records_only_what_undoing_the_payment_gives(
    name: str, value: Any, match: str
) -> None:
    """A reversal sealed with 999,999 of principal owed again (a debt grown by a
    "reversal"), with part of it forgiven, with credit that never was, or naming another
    amount or reference: refused."""
    engine, chain, genuine = cured_and_reversed()
    refused(engine, appended(chain, genuine.at, {**genuine.data, name: value}), match)


def test_older_format_after_a_reversal_that_records_a_due_date_is_refused() -> None:
    """Two payments; the engine reverses the first (its entry records a due date).  A
    reversal of the second sealed in the older format, under whose rules the figures are
    not judged, is refused: the engine that wrote the first writes a due date on every
    reversal since."""
    clock = SettableClock(START)
    engine = Engine(clock=clock)
    case_id = engine.open_case(loan(stage="sms")).id
    engine.record_payment(case_id, cny("100.00"), reference="A")
    engine.record_payment(case_id, cny("200.00"), reference="B")
    clock.set(START + timedelta(days=1))
    engine.reverse_payment(case_id, "A")
    chain = list(engine.history(case_id))
    assert "due_date" in chain[-1].data
    clock.set(START + timedelta(days=2))
    engine.reverse_payment(case_id, "B")
    genuine = engine.history(case_id)[-1]
    assert engine.verify() == []
    chain = as_older_engines_wrote(chain)  # due dates recorded, but no aging yet
    older = {k: v for k, v in genuine.data.items() if k not in ("due_date", "aging")}
    refused(engine, appended(chain, genuine.at, older), "records no due date after one that does")


def reopened_on_the_other_loan() -> tuple[Engine, list[JournalEntry], JournalEntry]:
    """A plan of 2,000 over two loans paid in full by one payment to the debtor, then
    returned: LN-B's chain up to its plan's completion, and the engine's own
    ``agreement_reopened`` entry re-opening it."""
    from test_attack_reversal_crash import planned_and_paid
    from test_reversal_due_dates import shanghai

    clock = SettableClock(shanghai(date(2027, 3, 2)))
    engine = Engine(clock=clock)
    planned_and_paid(engine, clock)
    chain = list(engine.history("LN-B"))
    clock.set(shanghai(date(2027, 3, 6)))
    engine.reverse_debtor_payment("D-1", "B-1")
    genuine = engine.history("LN-B")[len(chain)]
    assert genuine.kind == "agreement_reopened"
    assert engine.verify() == []
    return engine, chain, genuine


def sealed(
    chain: list[JournalEntry], kind: str, at: Any, data: dict[str, Any]
) -> list[JournalEntry]:
    last = chain[-1]
    return [*chain, seal(last.case_id, last.seq + 1, at, kind, data, last.hash)]


class TestAgreementReopened:
    def test_the_genuine_entry_verifies(self) -> None:
        engine, chain, genuine = reopened_on_the_other_loan()
        forged = sealed(chain, genuine.kind, genuine.at, dict(genuine.data))
        assert replay(forged, None, check=engine.workflow.entry_problem).stage == "repayment_plan"

    def test_it_cannot_add_to_the_debt(self) -> None:
        """The plan waived nothing: an entry re-opening it with 999,999 owed again is
        refused (it verified, and the debt grew by it)."""
        engine, chain, genuine = reopened_on_the_other_loan()
        data = {**genuine.data, "restored": {"principal": "999999.00"}}
        refused(engine, sealed(chain, genuine.kind, genuine.at, data), "owes again")

    def test_it_cannot_leave_the_case_where_the_plan_took_it(self) -> None:
        """Without its stage, the case would stay in ``pre_due`` under an active plan."""
        engine, chain, genuine = reopened_on_the_other_loan()
        data = {k: v for k, v in genuine.data.items() if k != "stage"}
        refused(engine, sealed(chain, genuine.kind, genuine.at, data), "moves the case nowhere")

    def test_it_re_opens_only_what_the_case_holds_completed(self) -> None:
        """The same entry sealed twice: the second names a plan already active again."""
        engine, chain, genuine = reopened_on_the_other_loan()
        once = sealed(chain, genuine.kind, genuine.at, dict(genuine.data))
        data = {k: v for k, v in genuine.data.items() if k != "stage"}
        refused(engine, sealed(once, genuine.kind, genuine.at, data), "not the plan the case holds")
