"""Money across a debtor's loans: a payment to the debtor shared over their cases in the
policy's order, each share journaled on its case, all of it one unit of work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _postgres import Database, fresh_schema, pause_after_reading, postgres_url
from arrears import Actor, Engine, InvalidInput, MemoryStore, Money, SettableClock
from arrears.case import Case
from arrears.channels import RecordingChannel
from arrears.errors import PolicyInvalid
from arrears.journal import JournalEntry
from arrears.money import split
from arrears.plans import RepaymentPlan, instalment_schedule
from arrears.policy import Policy, load_policy
from arrears.policy.allocation import AllocationRequest
from arrears.scenarios import ScenarioInvalid, load_scenario, run_scenario
from arrears.stores import SQLiteStore

T0 = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
#: The three loans of the worked example: (id, balance, due date).
LOANS = (
    ("L-1", "3600.00", "2026-09-10"),
    ("L-2", "1200.00", "2026-09-20"),
    ("L-3", "500.00", "2026-08-01"),
)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def loan(
    case_id: str,
    principal: str,
    due: str,
    *,
    currency: str = "CNY",
    debtor: str = "D-1",
    rate: str | None = None,
    stage: str = "phone",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": case_id,
        "debtor": {"id": debtor, "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "mobile", "channel": "call", "address": "+8613812345678"}],
        "balance": {"currency": currency, "principal": principal},
        "due_date": due,
        "stage": stage,
    }
    if rate is not None:
        data["terms"] = {"penalty_rate": rate}
    return data


@pytest.fixture
def engine(any_database: Database) -> Engine:
    """One debtor's three CNY loans, and another debtor's loan, on each store."""
    made = Engine(store=any_database.open(), clock=SettableClock(T0))
    made.open_cases([loan(*spec) for spec in LOANS])
    made.open_case(loan("L-9", "100.00", "2026-08-01", debtor="D-2"))
    return made


def shares(engine: Engine, reference: str) -> dict[str, str]:
    """The share each case's journal records under *reference*."""
    found = {}
    for case_id in engine.store.cases_of("D-1"):
        for entry in engine.history(case_id):
            if entry.kind == "payment" and entry.data.get("reference") == reference:
                found[case_id] = entry.data["amount"]
    return found


def payment_of(engine: Engine, case_id: str) -> JournalEntry:
    """The case's last payment entry."""
    return [entry for entry in engine.history(case_id) if entry.kind == "payment"][-1]


class TestShares:
    def test_oldest_due_first(self, engine: Engine) -> None:
        """2,000.00: loan 3 (due 1 Aug) is paid in full, loan 1 (10 Sep) gets the rest."""
        paid = engine.record_debtor_payment("D-1", cny("2000.00"), reference="BANK-1", at=T0)
        assert paid.shares == {"L-3": cny("500.00"), "L-1": cny("1500.00")}
        assert shares(engine, "BANK-1") == {"L-1": "1500.00", "L-3": "500.00"}
        assert [engine.case(c).arrears for c in ("L-1", "L-2", "L-3")] == [
            cny("2100.00"),
            cny("1200.00"),
            cny("0.00"),
        ]
        cured = paid.payments["L-3"].cured
        assert cured is not None
        assert cured.dest == "resolved"
        assert paid.payments["L-1"].cured is None
        assert engine.case("L-9").arrears == cny("100.00")

    def test_each_share_records_the_whole_payment(self, engine: Engine) -> None:
        engine.record_debtor_payment("D-1", cny("2000.00"), reference="BANK-1", at=T0)
        assert payment_of(engine, "L-1").data["debtor"] == {
            "amount": "2000.00",
            "allocation": "oldest_due",
            "shares": [
                {"case_id": "L-3", "amount": "500.00"},
                {"case_id": "L-1", "amount": "1500.00"},
            ],
        }

    def test_highest_rate_first(self) -> None:
        engine = Engine(clock=SettableClock(T0))
        engine.open_cases(
            [
                loan("L-1", "3600.00", "2026-09-10", rate="0.0005"),
                loan("L-2", "1200.00", "2026-09-20", rate="0.0010"),
                loan("L-3", "500.00", "2026-08-01"),
            ]
        )
        paid = engine.record_debtor_payment(
            "D-1", cny("2000.00"), reference="B-1", at=T0, allocation="highest_rate"
        )
        # Loan 2 at 0.10 % a day owes 1,200.00 + 24 days of penalty (28.80).
        assert paid.shares == {"L-2": cny("1228.80"), "L-1": cny("771.20")}
        assert engine.case("L-2").arrears == cny("0.00")

    def test_pro_rata_rounds_to_the_cent_and_places_the_rest_by_remainder(
        self, engine: Engine
    ) -> None:
        """5,300.00 owed; 2,000.00 shared 500/3600/1200 : 188.679…, 1358.490…, 452.830…"""
        paid = engine.record_debtor_payment(
            "D-1", cny("2000.00"), reference="B-1", at=T0, allocation="pro_rata"
        )
        assert paid.shares == {
            "L-3": cny("188.68"),  # the largest remainder (0.009…) takes the cent
            "L-1": cny("1358.49"),
            "L-2": cny("452.83"),
        }

    def test_jpy_has_no_minor_unit(self) -> None:
        engine = Engine(clock=SettableClock(T0))
        engine.open_cases(
            [loan(f"J-{n}", "10000", "2026-09-01", currency="JPY") for n in (1, 2, 3)]
        )
        paid = engine.record_debtor_payment(
            "D-1", Money("10000", "JPY"), reference="B-1", at=T0, allocation="pro_rata"
        )
        assert [str(part.amount) for part in paid.shares.values()] == ["3334", "3333", "3333"]
        assert list(paid.shares) == ["J-1", "J-2", "J-3"]

    def test_more_than_everything_owed_stays_as_credit_on_the_first(self, engine: Engine) -> None:
        paid = engine.record_debtor_payment("D-1", cny("5400.00"), reference="B-1", at=T0)
        assert paid.shares == {"L-3": cny("600.00"), "L-1": cny("3600.00"), "L-2": cny("1200.00")}
        assert paid.payments["L-3"].credit == cny("100.00")
        assert engine.case("L-3").balance.credit == Decimal("100.00")
        assert [engine.case(c).stage for c in ("L-1", "L-2", "L-3")] == ["resolved"] * 3

    def test_a_case_in_another_currency_is_left_out(self, engine: Engine) -> None:
        engine.open_case(loan("L-4", "900.00", "2026-07-01", currency="USD"))
        paid = engine.record_debtor_payment("D-1", cny("600.00"), reference="B-1", at=T0)
        assert paid.shares == {"L-3": cny("500.00"), "L-1": cny("100.00")}
        assert engine.case("L-4").arrears == Money("900.00", "USD")

    def test_a_closed_case_is_left_out(self, engine: Engine) -> None:
        engine.record_payment("L-3", cny("500.00"), reference="OWN", at=T0)  # resolved
        paid = engine.record_debtor_payment("D-1", cny("100.00"), reference="B-1", at=T0)
        assert paid.shares == {"L-1": cny("100.00")}

    def test_a_disputed_debt_gets_no_share(self, engine: Engine) -> None:
        """15 U.S.C. 1692h: a single payment is not applied to a debt the debtor disputes."""
        engine.add_hold("L-3", "dispute", "the debtor disputes the amount", at=T0)
        paid = engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        assert paid.shares == {"L-1": cny("2000.00")}
        assert engine.case("L-3").arrears == cny("500.00")

    def test_the_debtors_directions_are_followed(self, engine: Engine) -> None:
        """15 U.S.C. 1692h: the debtor says how the payment is to be applied."""
        directed = {"L-2": cny("1200.00"), "L-1": cny("800.00")}
        paid = engine.record_debtor_payment(
            "D-1", cny("2000.00"), reference="B-1", at=T0, allocation=directed
        )
        assert paid.shares == {"L-1": cny("800.00"), "L-2": cny("1200.00")}
        assert payment_of(engine, "L-2").data["debtor"]["allocation"] == "directed"

    def test_directions_to_a_disputed_debt_are_refused(self, engine: Engine) -> None:
        engine.add_hold("L-3", "dispute", "the debtor disputes the amount", at=T0)
        with pytest.raises(InvalidInput) as caught:
            engine.record_debtor_payment(
                "D-1", cny("500.00"), reference="B-1", at=T0, allocation={"L-3": cny("500.00")}
            )
        assert (caught.value.field, caught.value.value) == ("allocation", ["L-3"])

    def test_the_policy_sets_the_order(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text("id: p\nversion: '1'\nallocation: pro_rata\n")
        engine = Engine(policy=load_policy(path), clock=SettableClock(T0))
        engine.open_cases([loan(*spec) for spec in LOANS])
        paid = engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        assert paid.shares["L-3"] == cny("188.68")
        assert payment_of(engine, "L-3").data["debtor"]["allocation"] == "pro_rata"

    def test_an_unknown_order_in_the_policy_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text("id: p\nversion: '1'\nallocation: newest_first\n")
        with pytest.raises(PolicyInvalid) as caught:
            load_policy(path)
        assert "policy.yaml:3: allocation: got 'newest_first', expected one of ['oldest_due'" in (
            str(caught.value)
        )


def largest_first(request: AllocationRequest) -> Mapping[str, Money]:
    """A lender's order: the largest arrears first."""
    left = request.amount
    found = {}
    for case in sorted(request.cases, key=lambda c: -request.owed[c.id].amount):
        found[case.id] = min(left, request.owed[case.id])
        left = left - found[case.id]
    return found


class TestLendersFunction:
    def test_its_shares_are_recorded(self, engine: Engine) -> None:
        paid = engine.record_debtor_payment(
            "D-1", cny("2000.00"), reference="B-1", at=T0, allocation=largest_first
        )
        assert paid.shares == {"L-1": cny("2000.00")}
        allocation = payment_of(engine, "L-1").data["debtor"]["allocation"]
        assert allocation == "test_debtor_money:largest_first"

    def test_named_in_a_policy_file(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text("id: p\nversion: '1'\nallocation: 'test_debtor_money:largest_first'\n")
        sys.path.insert(0, str(Path(__file__).parent))
        try:
            policy = load_policy(path)
        finally:
            sys.path.remove(str(Path(__file__).parent))
        engine = Engine(policy=policy, clock=SettableClock(T0))
        engine.open_cases([loan(*spec) for spec in LOANS])
        paid = engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        assert paid.shares == {"L-1": cny("2000.00")}

    @pytest.mark.parametrize(
        ("answer", "field", "expected"),
        [
            ({"L-1": cny("1999.99")}, "allocation", "summing to the payment, 2000.00 CNY"),
            ({"L-1": cny("2100.00"), "L-2": cny("-100.00")}, "allocation[L-2]", "zero or more"),
            ({"L-1": Money("2000.00", "USD")}, "allocation[L-1]", "Money in CNY"),
            ({"L-1": cny("1000.00"), "L-9": cny("1000.00")}, "allocation", "open cases"),
            (["L-1"], "allocation", "shares by case id"),
        ],
    )
    def test_a_bad_answer_is_refused_and_nothing_recorded(
        self, engine: Engine, answer: object, field: str, expected: str
    ) -> None:
        lengths = [len(engine.history(c)) for c in ("L-1", "L-2", "L-3")]
        with pytest.raises(InvalidInput) as caught:
            engine.record_debtor_payment(
                "D-1", cny("2000.00"), reference="B-1", at=T0, allocation=lambda _: answer
            )
        assert caught.value.field == field
        assert expected in caught.value.expected
        assert [len(engine.history(c)) for c in ("L-1", "L-2", "L-3")] == lengths


class TestOnceAndWhole:
    def test_sent_again_records_nothing_and_returns_the_same(self, engine: Engine) -> None:
        first = engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        lengths = [len(engine.history(c)) for c in ("L-1", "L-2", "L-3")]
        again = engine.record_debtor_payment(
            "D-1", cny("2000.00"), reference="B-1", at=T0 + timedelta(hours=1)
        )
        assert again == first
        assert list(again.shares) == ["L-3", "L-1"]  # in the order they were paid
        assert [len(engine.history(c)) for c in ("L-1", "L-2", "L-3")] == lengths

    def test_another_amount_under_the_reference_is_refused(self, engine: Engine) -> None:
        engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        with pytest.raises(InvalidInput) as caught:
            engine.record_debtor_payment("D-1", cny("2500.00"), reference="B-1", at=T0)
        assert "2000.00 CNY already" in caught.value.expected

    def test_a_reference_of_one_case_is_not_a_debtor_payment(self, engine: Engine) -> None:
        engine.record_payment("L-2", cny("100.00"), reference="B-1", at=T0)
        with pytest.raises(InvalidInput) as caught:
            engine.record_debtor_payment("D-1", cny("100.00"), reference="B-1", at=T0)
        assert "case 'L-2' alone" in caught.value.expected
        engine.record_debtor_payment("D-1", cny("600.00"), reference="B-2", at=T0)
        with pytest.raises(InvalidInput) as caught:  # nor a share a payment to one case
            engine.record_payment("L-1", cny("100.00"), reference="B-2", at=T0)
        assert "a payment to the debtor" in caught.value.expected

    def test_a_reference_of_the_debtor_is_refused_on_a_case_it_left_out(
        self, engine: Engine
    ) -> None:
        """B-1 paid loan 3 alone; the same reference on loan 1 would hide it from its reversal."""
        engine.record_debtor_payment("D-1", cny("100.00"), reference="B-1", at=T0)
        with pytest.raises(InvalidInput) as caught:
            engine.record_payment("L-1", cny("50.00"), reference="B-1", at=T0)
        assert "a payment to the debtor" in caught.value.expected
        assert shares(engine, "B-1") == {"L-3": "100.00"}
        reversed_ = engine.reverse_debtor_payment("D-1", "B-1", at=T0 + timedelta(hours=1))
        assert list(reversed_) == ["L-3"]
        assert engine.case("L-3").arrears == cny("500.00")

    def test_a_failure_on_the_last_share_leaves_nothing(self) -> None:
        store = _FailingAppend()
        engine = Engine(store=store, clock=SettableClock(T0))
        engine.open_cases([loan(*spec) for spec in LOANS])
        before = {c: engine.case(c).model_dump(mode="json") for c in ("L-1", "L-2", "L-3")}
        store.fail_on = "L-1"  # the second share: loan 3's payment and cure are appended first
        with pytest.raises(OSError, match="disk"):
            engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        assert {c: engine.case(c).model_dump(mode="json") for c in before} == before
        assert shares(engine, "B-1") == {}
        assert engine.verify() == []
        store.fail_on = None
        paid = engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        assert paid.shares == {"L-3": cny("500.00"), "L-1": cny("1500.00")}

    def test_a_process_killed_between_two_shares_leaves_nothing(self, tmp_path: Path) -> None:
        """SIGKILL after loan 3's share is appended and before loan 1's: no share is stored."""
        db = tmp_path / "a.db"
        with SQLiteStore(db) as store:
            Engine(store=store, clock=SettableClock(T0)).open_cases([loan(*spec) for spec in LOANS])
        script = textwrap.dedent(
            f"""
            import os, signal
            from datetime import datetime, UTC
            from arrears import Engine, Money, SettableClock
            from arrears.stores import SQLiteStore

            class Killed(SQLiteStore):
                def append(self, entry, case=None):
                    if entry.case_id == "L-1":
                        os.kill(os.getpid(), signal.SIGKILL)
                    super().append(entry, case)

            at = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)
            engine = Engine(store=Killed({str(db)!r}), clock=SettableClock(at))
            engine.record_debtor_payment("D-1", Money("2000.00", "CNY"), reference="B-1", at=at)
            """
        )
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
        assert run.returncode == -9, run.stderr.decode()
        with SQLiteStore(db) as store:
            engine = Engine(store=store, clock=SettableClock(T0))
            assert shares(engine, "B-1") == {}
            assert [len(engine.history(c)) for c in ("L-1", "L-2", "L-3")] == [1, 1, 1]
            assert engine.verify() == []
            paid = engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
            assert sorted(paid.shares) == ["L-1", "L-3"]


def two_writers(stack: ExitStack, url: str) -> tuple[Any, Any, Engine]:
    """Two PostgreSQL stores on one fresh schema (two processes' connections), and an
    engine on the first with the three loans opened."""
    from arrears.stores.postgres import PostgresStore

    schema = stack.enter_context(fresh_schema(url))
    one = stack.enter_context(PostgresStore(url, schema=schema, max_size=2))
    other = stack.enter_context(PostgresStore(url, schema=schema, max_size=2))
    engine = Engine(store=one, clock=SettableClock(T0))
    engine.open_cases([loan(*spec) for spec in LOANS])
    return one, other, engine


class TestOneReferenceRace:
    """Issue 20: a payment to loan 1 and a payment to the debtor that pays loan 3 alone,
    under one reference, in two processes (two connections to PostgreSQL), the second
    started once the first has looked for the reference: one is recorded, the other
    refused, whichever goes first."""

    @pytest.mark.parametrize("first", ["one_loan", "debtor"])
    def test_the_reference_names_one_kind_of_payment(self, first: str) -> None:
        url = postgres_url()
        later = T0 + timedelta(hours=1)
        calls: dict[str, Callable[[Engine], object]] = {
            "one_loan": lambda e: e.record_payment("L-1", cny("100.00"), reference="X-1", at=later),
            "debtor": lambda e: e.record_debtor_payment(
                "D-1", cny("500.00"), reference="X-1", at=later
            ),
        }
        second = "debtor" if first == "one_loan" else "one_loan"
        with ExitStack() as stack:
            one, other, engine = two_writers(stack, url)
            racer = Engine(store=other, clock=SettableClock(T0))
            outcome: dict[str, object] = {}

            def run_second() -> None:
                try:
                    calls[second](racer)
                    outcome[second] = "recorded"
                except InvalidInput as err:
                    outcome[second] = err

            thread = threading.Thread(target=run_second)
            pause_after_reading(one, "L-3", url, thread)  # the last loan it looks on
            calls[first](engine)
            outcome[first] = "recorded"
            thread.join(timeout=30)
            assert outcome[first] == "recorded"
            refused = outcome[second]
            assert isinstance(refused, InvalidInput)
            assert (refused.field, refused.value) == ("reference", "X-1")
            assert "a new reference" in refused.expected
            recorded = {
                (case_id, "debtor" in entry.data)
                for case_id in ("L-1", "L-2", "L-3")
                for entry in engine.history(case_id)
                if entry.kind == "payment" and entry.data.get("reference") == "X-1"
            }
            assert recorded == ({("L-1", False)} if first == "one_loan" else {("L-3", True)})
            assert engine.verify() == []


class _FailingAppend(MemoryStore):
    """A store whose append fails for one case (a host's store mirroring entries elsewhere)."""

    __slots__ = ("fail_on",)

    def __init__(self) -> None:
        super().__init__()
        self.fail_on: str | None = None

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        if entry.case_id == self.fail_on:
            raise OSError("the disk is full")
        super().append(entry, case)


class TestReversal:
    def test_every_share_is_reversed(self, engine: Engine) -> None:
        engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        later = T0 + timedelta(days=3)
        undone = engine.reverse_debtor_payment("D-1", "B-1", at=later, reason="returned")
        assert sorted(undone) == ["L-1", "L-3"]
        assert undone["L-3"].reopened == ("resolved", "phone")
        assert [engine.case(c).arrears for c in ("L-1", "L-2", "L-3")] == [
            cny("3600.00"),
            cny("1200.00"),
            cny("500.00"),
        ]
        assert [engine.history(c)[-1].kind for c in ("L-1", "L-3")] == ["payment_reversed"] * 2

    def test_a_share_alone_is_not_reversed(self, engine: Engine) -> None:
        engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        with pytest.raises(InvalidInput) as caught:
            engine.reverse_payment("L-1", "B-1", at=T0)
        assert "reverse_debtor_payment" in caught.value.expected

    def test_twice_is_refused(self, engine: Engine) -> None:
        engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
        engine.reverse_debtor_payment("D-1", "B-1", at=T0)
        with pytest.raises(InvalidInput):
            engine.reverse_debtor_payment("D-1", "B-1", at=T0)


class TestSplit:
    @given(
        st.integers(min_value=0, max_value=10**12),
        st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8).filter(any),
        st.sampled_from(["CNY", "JPY", "BHD"]),
    )
    def test_the_parts_sum_to_the_total_and_follow_the_weights(
        self, minor: int, weights: list[int], currency: str
    ) -> None:
        total = Money(Decimal(minor).scaleb(-_units(currency)), currency)
        parts = split(total, [Decimal(w) for w in weights])
        assert sum((p.amount for p in parts), Decimal(0)) == total.amount
        whole = sum(weights)
        for part, weight in zip(parts, weights, strict=True):
            exact = total.amount * weight / whole
            assert abs(part.amount - exact) < Decimal(1).scaleb(-_units(currency))
            assert part.amount >= 0


def _units(currency: str) -> int:
    return {"CNY": 2, "JPY": 0, "BHD": 3}[currency]


OWED = st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=5)


class TestAllocationInvariant:
    @settings(max_examples=40, deadline=None)
    @given(
        OWED,
        st.integers(min_value=1, max_value=3_000_000),
        st.sampled_from(["oldest_due", "highest_rate", "pro_rata"]),
    )
    def test_shares_sum_to_the_payment_and_exceed_no_balance_but_the_first(
        self, owed: list[int], paid: int, allocation: str
    ) -> None:
        engine = Engine(clock=SettableClock(T0))
        engine.open_cases(
            [
                loan(f"L-{n}", str(Decimal(cents).scaleb(-2)), f"2026-09-{n + 1:02d}")
                for n, cents in enumerate(owed)
            ]
        )
        amount = cny(str(Decimal(paid).scaleb(-2)))
        result = engine.record_debtor_payment(
            "D-1", amount, reference="B", at=T0, allocation=allocation
        )
        assert sum((p.amount for p in result.shares.values()), Decimal(0)) == amount.amount
        first = "L-0"  # the oldest due: the one that keeps what is left
        for case_id, part in result.shares.items():
            balance = Decimal(owed[int(case_id[2:])]).scaleb(-2)
            if case_id != first:
                assert part.amount <= balance
            assert engine.case(case_id).balance.credit == max(part.amount - balance, 0)
        total = sum(Decimal(c).scaleb(-2) for c in owed)
        assert engine.case(first).balance.credit == max(amount.amount - total, 0)


def test_an_unknown_debtor_is_named(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as caught:
        engine.record_debtor_payment("D-404", cny("10.00"), reference="B", at=T0)
    assert (caught.value.field, caught.value.value) == ("debtor_id", "D-404")


def test_a_payment_in_no_case_currency_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as caught:
        engine.record_debtor_payment("D-1", Money("10.00", "USD"), reference="B", at=T0)
    assert caught.value.field == "amount"


AGENT = Actor("agent-7", frozenset({"agent"}))


def plan_of(total: str, count: int, first: date = date(2026, 11, 1)) -> RepaymentPlan:
    return RepaymentPlan(
        id="PLAN-1",
        kind="minimum",
        instalments=instalment_schedule(cny(total), first, count=count),
        grace_days=3,
    )


def schedule(engine: Engine, case_id: str) -> list[tuple[str, str]]:
    plan = engine.case(case_id).plan
    assert plan is not None
    return [(part.due.isoformat(), str(part.amount.amount)) for part in plan.instalments]


SUPERVISOR = Actor("super-2", frozenset({"supervisor"}))


def start_reduction(engine: Engine) -> None:
    """4,000.00 in four from 1 Nov over loans 1 and 2, 800.00 waived (600.00 and 200.00):
    loan 1 pays the first three instalments, loan 2 the last."""
    for kind in ("bank_statement", "proof_of_income"):
        engine.record_document("L-1", kind, at=T0)
    plan = RepaymentPlan(
        id="R-1",
        kind="reduction",
        instalments=instalment_schedule(cny("4000.00"), date(2026, 11, 1), count=4),
        waived=Decimal("800.00"),
        grace_days=3,
    )
    engine.start_plan("L-1", plan, actor=AGENT, approver=SUPERVISOR, at=T0, covers=["L-2"])


class TestPlanOverSeveralLoans:
    def test_each_loan_starts_its_share_under_one_id(self, engine: Engine) -> None:
        """4,800.00 in four of 1,200.00: loan 1 (older) takes the first three, loan 2 the last."""
        whole = engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"])
        assert whole.cases == ("L-1", "L-2")
        assert schedule(engine, "L-1") == [
            ("2026-11-01", "1200.00"),
            ("2026-12-01", "1200.00"),
            ("2027-01-01", "1200.00"),
        ]
        assert schedule(engine, "L-2") == [("2027-02-01", "1200.00")]
        for case_id in ("L-1", "L-2"):
            case = engine.case(case_id)
            assert case.plan is not None
            assert (case.plan.id, case.plan.cases, case.stage) == (
                "PLAN-1",
                ("L-1", "L-2"),
                "repayment_plan",
            )
            assert [e.kind for e in engine.history(case_id)][-2:] == ["plan_started", "transition"]
        assert engine.case("L-3").plan is None

    def test_pro_rata_splits_every_instalment(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text("id: p\nversion: '1'\nallocation: pro_rata\n")
        engine = Engine(policy=load_policy(path), clock=SettableClock(T0))
        engine.open_cases([loan(*spec) for spec in LOANS])
        engine.start_plan("L-1", plan_of("4800.00", 3), actor=AGENT, at=T0, covers=["L-2"])
        assert [amount for _, amount in schedule(engine, "L-1")] == ["1200.00"] * 3
        assert [amount for _, amount in schedule(engine, "L-2")] == ["400.00"] * 3

    def test_a_missed_instalment_breaks_it_on_every_loan_at_once(self, engine: Engine) -> None:
        """Loan 2's own share falls due in February; the November shortfall breaks it too."""
        engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"])
        engine.record_payment("L-1", cny("1000.00"), reference="P-1", at=T0 + timedelta(days=10))
        after_grace = datetime(2026, 11, 5, 1, tzinfo=UTC)
        engine.review_plan("L-2", at=after_grace)
        for case_id in ("L-1", "L-2"):
            case = engine.case(case_id)
            assert case.plan is not None
            assert case.plan.status == "broken"
            resolved = [e for e in engine.history(case_id) if e.kind == "plan_resolved"]
            assert [(e.data["shortfall"], e.data["instalment"]) for e in resolved] == [
                ("200.00", 0)
            ]
        assert engine.case("L-1").plan.paid == Decimal("1000.00")  # type: ignore[union-attr]

    def test_the_instalments_together_keep_it(self, engine: Engine) -> None:
        """Paid on loan 1, the November instalment keeps the plan on loan 2 as well."""
        engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"])
        engine.record_payment("L-1", cny("1200.00"), reference="P-1", at=T0 + timedelta(days=10))
        engine.review_plan("L-2", at=datetime(2026, 11, 5, 1, tzinfo=UTC))
        assert [engine.case(c).plan.status for c in ("L-1", "L-2")] == ["active"] * 2  # type: ignore[union-attr]

    def test_completed_once_every_share_is_paid(self, engine: Engine) -> None:
        engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"])
        later = T0 + timedelta(days=10)
        engine.record_payment("L-1", cny("3600.00"), reference="P-1", at=later)
        assert engine.case("L-1").plan.status == "active"  # type: ignore[union-attr]
        engine.record_payment("L-2", cny("1200.00"), reference="P-2", at=later)
        for case_id in ("L-1", "L-2"):
            resolved = [
                e.data["status"] for e in engine.history(case_id) if e.kind == "plan_resolved"
            ]
            assert resolved == ["completed"]
            assert engine.case(case_id).stage == "resolved"

    def test_reversing_the_payment_that_completed_it_reopens_it_on_every_loan(
        self, engine: Engine
    ) -> None:
        engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"])
        later = T0 + timedelta(days=10)
        engine.record_payment("L-2", cny("1200.00"), reference="P-2", at=later)
        engine.record_payment("L-1", cny("3600.00"), reference="P-1", at=later)
        engine.reverse_payment("L-1", "P-1", at=later + timedelta(hours=1))
        statuses = [engine.case(c).plan.status for c in ("L-1", "L-2")]  # type: ignore[union-attr]
        assert statuses == ["active", "active"]

    def test_shares_paid_at_once_in_two_processes_complete_it_at_once(self) -> None:
        """Loan 2's share is paid in another process while loan 1's payment, which holds the
        debtor from when it is recorded, is reading loan 2: loan 2's waits for it, sees it,
        and completes the plan on both loans, with the reduction's waiver.  (Before every
        payment held the debtor, neither saw the other, and only the next review, the
        tick's, completed it.)"""
        url = postgres_url()
        with ExitStack() as stack:
            one, other, engine = two_writers(stack, url)
            start_reduction(engine)
            later = T0 + timedelta(days=10)
            racer = Engine(store=other, clock=SettableClock(T0))
            racing = threading.Thread(
                target=lambda: racer.record_payment("L-2", cny("1000.00"), at=later)
            )
            read = one.get

            def read_then_race(case_id: str) -> Case:
                found = read(case_id)
                if case_id == "L-2" and racing.ident is None:  # loan 1's payment reads loan 2
                    racing.start()
                    racing.join(1.5)  # it waits for the debtor until loan 1's commits
                    assert racing.is_alive()
                return found

            one.get = read_then_race  # type: ignore[method-assign]
            engine.record_payment("L-1", cny("3000.00"), at=later)
            one.get = read  # type: ignore[method-assign]
            racing.join(30)
            assert not racing.is_alive()
            assert [engine.case(c).plan.paid for c in ("L-1", "L-2")] == [  # type: ignore[union-attr]
                Decimal("3000.00"),
                Decimal("1000.00"),
            ]
            for case_id in ("L-1", "L-2"):  # no review needed
                case = engine.case(case_id)
                assert case.plan is not None
                assert (case.plan.status, case.arrears, case.stage) == (
                    "completed",
                    cny("0.00"),
                    "resolved",
                )
            assert engine.verify() == []

    def test_a_loan_that_cannot_start_it_leaves_every_loan_as_it_was(self, engine: Engine) -> None:
        own = RepaymentPlan(
            id="OWN",
            kind="minimum",
            instalments=instalment_schedule(cny("1200.00"), date(2026, 11, 1), count=2),
        )
        engine.start_plan("L-2", own, actor=AGENT, at=T0)
        before = len(engine.history("L-1"))
        with pytest.raises(InvalidInput) as caught:
            engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"])
        assert caught.value.field == "plan"
        assert len(engine.history("L-1")) == before
        assert engine.case("L-1").plan is None

    @pytest.mark.parametrize("what", ["plan", "promise"])
    def test_a_failure_on_the_second_loan_leaves_nothing_on_the_first(self, what: str) -> None:
        store = _FailingAppend()
        engine = Engine(store=store, clock=SettableClock(T0))
        engine.open_cases([loan(*spec) for spec in LOANS])
        before = engine.case("L-1").model_dump(mode="json")
        store.fail_on = "L-2"

        def agree() -> object:
            if what == "plan":
                return engine.start_plan(
                    "L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"]
                )
            return engine.record_promise(
                "L-1", cny("4800.00"), date(2026, 10, 20), at=T0, actor=AGENT, covers=["L-2"]
            )

        with pytest.raises(OSError, match="disk"):
            agree()
        assert engine.case("L-1").model_dump(mode="json") == before
        assert len(engine.history("L-1")) == 1
        assert engine.verify() == []

    def test_it_must_add_up_to_the_loans_together(self, engine: Engine) -> None:
        with pytest.raises(InvalidInput) as caught:
            engine.start_plan("L-1", plan_of("3600.00", 3), actor=AGENT, at=T0, covers=["L-2"])
        assert "4800.00 CNY" in caught.value.expected

    @pytest.mark.parametrize("covers", [["L-9"], ["L-1"], ["L-2", "L-2"], ["L-404"]])
    def test_it_covers_other_loans_of_the_same_debtor(
        self, engine: Engine, covers: list[str]
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=covers)
        assert caught.value.field.startswith("covers[")

    def test_covers_names_at_least_one_other_loan(self, engine: Engine) -> None:
        """An empty ``covers`` is refused: an agreement over its own loan alone has none."""
        with pytest.raises(InvalidInput) as caught:
            engine.start_plan("L-1", plan_of("3600.00", 3), actor=AGENT, at=T0, covers=[])
        assert caught.value.field == "covers"
        with pytest.raises(InvalidInput) as caught:
            engine.record_promise(
                "L-1", cny("300.00"), date(2026, 10, 20), at=T0, actor=AGENT, covers=[]
            )
        assert caught.value.field == "covers"
        assert engine.case("L-1").plan is None
        assert engine.case("L-1").promise is None


class TestPromiseOverSeveralLoans:
    def test_each_loan_records_its_share_under_one_id(self, engine: Engine) -> None:
        """4,000.00 by 20 Oct over loans 1 and 3: loan 3 (due 1 Aug) 500.00, loan 1 the rest."""
        promise = engine.record_promise(
            "L-1", cny("4000.00"), date(2026, 10, 20), at=T0, actor=AGENT, covers=["L-3"]
        )
        assert promise.cases == ("L-1", "L-3")
        for case_id, share in (("L-1", "3500.00"), ("L-3", "500.00")):
            own = engine.case(case_id).promise
            assert own is not None
            assert (own.id, str(own.total.amount), own.cases) == (promise.id, share, promise.cases)
            assert engine.case(case_id).stage == "promise"

    def test_a_loan_left_nothing_is_not_covered(self, engine: Engine) -> None:
        promise = engine.record_promise(
            "L-1", cny("300.00"), date(2026, 10, 20), at=T0, actor=AGENT, covers=["L-3"]
        )
        assert promise.cases == ("L-3",)
        assert engine.case("L-1").promise is None

    def test_kept_once_every_share_is_paid(self, engine: Engine) -> None:
        engine.record_promise(
            "L-1", cny("4000.00"), date(2026, 10, 20), at=T0, actor=AGENT, covers=["L-3"]
        )
        paid = engine.record_debtor_payment(
            "D-1", cny("4000.00"), reference="B-1", at=T0 + timedelta(days=2)
        )
        assert paid.shares == {"L-3": cny("500.00"), "L-1": cny("3500.00")}
        for case_id in ("L-1", "L-3"):
            statuses = [
                e.data["status"] for e in engine.history(case_id) if e.kind == "promise_resolved"
            ]
            assert statuses == ["kept"]

    def test_short_after_the_grace_it_is_partly_kept_on_every_loan(self, engine: Engine) -> None:
        """Loan 3's share is paid in full; the promise as a whole is not: partly kept on both."""
        engine.record_promise(
            "L-1", cny("4000.00"), date(2026, 10, 20), at=T0, actor=AGENT, covers=["L-3"]
        )
        engine.record_payment("L-3", cny("500.00"), reference="P-1", at=T0 + timedelta(days=1))
        engine.review_promises("L-1", at=datetime(2026, 10, 21, 1, tzinfo=UTC))
        for case_id in ("L-1", "L-3"):
            resolved = [e.data for e in engine.history(case_id) if e.kind == "promise_resolved"]
            assert [(d["status"], d["shortfall"]) for d in resolved] == [("partly_kept", "3500.00")]

    def test_reversing_the_payment_that_kept_it_reopens_it_on_every_loan(
        self, engine: Engine
    ) -> None:
        engine.record_promise(
            "L-1", cny("4000.00"), date(2026, 10, 20), at=T0, actor=AGENT, covers=["L-3"]
        )
        engine.record_payment("L-3", cny("500.00"), reference="P-3", at=T0 + timedelta(days=1))
        engine.record_payment("L-1", cny("3500.00"), reference="P-1", at=T0 + timedelta(days=1))
        engine.reverse_payment("L-1", "P-1", at=T0 + timedelta(days=2))
        statuses = [engine.case(c).promise.status for c in ("L-1", "L-3")]  # type: ignore[union-attr]
        assert statuses == ["open", "open"]

    def test_reversing_a_payment_to_an_earlier_promise_of_the_same_name_leaves_it(
        self, engine: Engine
    ) -> None:
        """Loan 2's own promise-1 took 200.00; the promise over loans 1 and 2, agreed on
        loan 1, is named promise-1 too. Returning the 200.00 takes nothing off it."""
        engine.record_promise("L-2", cny("1200.00"), date(2026, 10, 20), at=T0, actor=AGENT)
        engine.record_payment("L-2", cny("200.00"), reference="P-1", at=T0 + timedelta(hours=1))
        whole = engine.record_promise(
            "L-1",
            cny("4600.00"),
            date(2026, 10, 25),
            at=T0 + timedelta(hours=2),
            actor=AGENT,
            covers=["L-2"],
        )
        assert whole.id == "promise-1"
        engine.record_payment("L-2", cny("300.00"), reference="P-2", at=T0 + timedelta(hours=3))
        engine.reverse_payment("L-2", "P-1", at=T0 + timedelta(hours=4))
        own = engine.case("L-2").promise
        assert own is not None
        assert (own.id, own.paid, own.status) == ("promise-1", Decimal("300.00"), "open")
        assert engine.case("L-2").arrears == cny("900.00")
        replayed = engine.replay("L-2")
        assert replayed.promise == own

    def test_more_than_the_loans_owe_together_is_refused(self, engine: Engine) -> None:
        with pytest.raises(InvalidInput) as caught:
            engine.record_promise(
                "L-1", cny("4100.01"), date(2026, 10, 20), at=T0, actor=AGENT, covers=["L-3"]
            )
        assert caught.value.expected == "at most the 4100.00 CNY the cases owe together"


SCENARIO = """\
name: a payment to the debtor
rules: [CN]
debtor: {id: D-1, timezone: Asia/Shanghai}
cases:
  - {id: L-1, currency: CNY, balance: "10.00", due_date: 2026-09-01}
  - {id: L-2, currency: CNY, balance: "10.00", due_date: 2026-09-02}
events:
  - {at: 2026-10-14T09:00:00+08:00, type: debtor_payment, amount: "5.00"}
  - {at: 2026-10-14T09:05:00+08:00, case: L-2, type: promise, amount: "5.00",
     due: 2026-10-20, covers: [L-1]}
expect:
  - {at: 2026-10-14T10:00:00+08:00, case: L-1, contact: {channel: sms, party: debtor},
     verdict: allow}
"""


def state(engine: Engine, case_id: str, what: str) -> tuple[str, str, Money, str]:
    """The case's promise or plan (*what*) status, its stage, arrears, and its id."""
    case = engine.case(case_id)
    held = getattr(case, what)
    assert held is not None
    return (str(held.status), case.stage, case.arrears, held.id)


class TestPaymentToTheDebtorUnderAPlan:
    """Issue 20: a payment to the debtor pays what a plan over several loans still asks
    first, so the plan is not broken while the money sat on a loan outside it."""

    def test_the_instalment_due_is_paid_before_an_older_loan_outside_the_plan(
        self, engine: Engine
    ) -> None:
        """The reduction's first instalment (1,000.00 on 1 Nov, loan 1's) is paid in full;
        ``oldest_due`` alone would have sent 500.00 to loan 3 (due 1 Aug) and broken it."""
        start_reduction(engine)
        paid = engine.record_debtor_payment(
            "D-1", cny("1000.00"), reference="B-1", at=datetime(2026, 11, 1, 1, tzinfo=UTC)
        )
        assert paid.shares == {"L-1": cny("1000.00")}
        assert payment_of(engine, "L-1").data["debtor"]["allocation"] == "plans, then oldest_due"
        engine.review_plan("L-2", at=datetime(2026, 11, 5, 1, tzinfo=UTC))
        assert [str(engine.case(c).plan.status) for c in ("L-1", "L-2")] == ["active"] * 2  # type: ignore[union-attr]
        assert engine.case("L-3").arrears == cny("500.00")

    def test_the_plan_whole_then_the_rest_in_the_policys_order(self, engine: Engine) -> None:
        """4,500.00: loan 1's 3,000.00 and loan 2's 1,000.00 complete the plan (the waiver
        applied on both), the 500.00 left pays loan 3."""
        start_reduction(engine)
        paid = engine.record_debtor_payment(
            "D-1", cny("4500.00"), reference="B-1", at=T0 + timedelta(days=1)
        )
        assert paid.shares == {"L-1": cny("3000.00"), "L-2": cny("1000.00"), "L-3": cny("500.00")}
        for case_id in ("L-1", "L-2", "L-3"):
            assert (engine.case(case_id).stage, engine.case(case_id).arrears) == (
                "resolved",
                cny("0.00"),
            )
        assert engine.verify() == []

    def test_the_debtors_directions_and_an_order_given_are_followed(self, engine: Engine) -> None:
        """An ``allocation`` passed to the call is followed as given (15 U.S.C. 1692h: the
        debtor's directions; a lender's order chosen for this payment)."""
        start_reduction(engine)
        at = T0 + timedelta(days=1)
        paid = engine.record_debtor_payment(
            "D-1", cny("1000.00"), reference="B-1", at=at, allocation="oldest_due"
        )
        assert paid.shares == {"L-3": cny("500.00"), "L-1": cny("500.00")}
        directed = engine.record_debtor_payment(
            "D-1", cny("100.00"), reference="B-2", at=at, allocation={"L-2": cny("100.00")}
        )
        assert directed.shares == {"L-2": cny("100.00")}

    def test_an_instalment_partly_paid_takes_only_what_it_lacks(self, engine: Engine) -> None:
        """Loan 1 paid 700.00 of its first instalment itself: 300.00 go to it, then loan 1's
        second instalment (1 Dec) before anything reaches loan 3."""
        start_reduction(engine)
        at = T0 + timedelta(days=1)
        engine.record_payment("L-1", cny("700.00"), reference="P-1", at=at)
        paid = engine.record_debtor_payment("D-1", cny("1500.00"), reference="B-1", at=at)
        assert paid.shares == {"L-1": cny("1500.00")}
        plan = engine.case("L-1").plan
        assert plan is not None
        assert plan.paid == Decimal("2200.00")


class TestReversedOverSeveralLoans:
    """Issue 20: a reversal re-opens a promise or plan over several loans on every loan, in
    the same unit of work, each case back in the stage its resolution moved it from."""

    def test_a_reduction_plan_comes_back_on_every_loan(self, engine: Engine) -> None:
        """Loan 2's share (1,000.00) was paid and its case left in the plan; loan 1's
        3,000.00 completed the plan, the waiver resolving both. Returning it puts both
        back in the plan, each with its share of the waiver owed again."""
        start_reduction(engine)
        later = T0 + timedelta(days=10)
        engine.record_payment("L-2", cny("1000.00"), reference="P-2", at=later)
        assert state(engine, "L-2", "plan")[:3] == ("active", "repayment_plan", cny("200.00"))
        engine.record_payment("L-1", cny("3000.00"), reference="P-1", at=later)
        for case_id in ("L-1", "L-2"):
            assert state(engine, case_id, "plan")[:3] == ("completed", "resolved", cny("0.00"))
        back = engine.reverse_payment("L-1", "P-1", at=later + timedelta(hours=1))
        assert back.reopened == ("resolved", "repayment_plan")
        assert state(engine, "L-1", "plan") == ("active", "repayment_plan", cny("3600.00"), "R-1")
        assert state(engine, "L-2", "plan") == ("active", "repayment_plan", cny("200.00"), "R-1")
        (reopened,) = [e for e in engine.history("L-2") if e.kind == "agreement_reopened"]
        resolved = engine.history("L-2")[reopened.data["resolved_seq"]]
        assert (resolved.kind, resolved.data["status"]) == ("plan_resolved", "completed")
        assert reopened.data == {
            "agreement": "plan",
            "id": "R-1",
            "resolved_seq": resolved.seq,
            "case_id": "L-1",
            "reference": "P-1",
            "restored": {"principal": "200.00"},
            "actor": "system",
            "stage": {"from": "resolved", "to": "repayment_plan"},
            # the waiver owed again, back on the date it was waived from
            "aging": [["2026-09-20", "200.00"]],
        }
        assert engine.verify() == []
        # Paid again, it completes again on both, the waiver applied once more.
        engine.record_payment("L-1", cny("3000.00"), reference="P-3", at=later + timedelta(hours=2))
        for case_id in ("L-1", "L-2"):
            assert state(engine, case_id, "plan")[:3] == ("completed", "resolved", cny("0.00"))
        assert engine.verify() == []

    def test_a_promise_comes_back_on_every_loan(self, engine: Engine) -> None:
        """4,000.00 over loans 1 (3,600.00) and 2 (400.00): loan 2's share paid, loan 1's
        payment keeps it; loan 2 left the promise stage for the ladder (``promise_kept``)
        and loan 1 was cured. Returning loan 1's payment puts both back in ``promise``."""
        engine.record_promise(
            "L-1", cny("4000.00"), date(2026, 10, 20), at=T0, actor=AGENT, covers=["L-2"]
        )
        later = T0 + timedelta(days=1)
        engine.record_payment("L-2", cny("400.00"), reference="P-2", at=later)
        engine.record_payment("L-1", cny("3600.00"), reference="P-1", at=later)
        assert [state(engine, c, "promise")[:2] for c in ("L-1", "L-2")] == [
            ("kept", "resolved"),
            ("kept", "notified"),
        ]
        back = engine.reverse_payment("L-1", "P-1", at=later + timedelta(hours=1))
        assert back.reopened == ("resolved", "promise")
        assert [state(engine, c, "promise") for c in ("L-1", "L-2")] == [
            ("open", "promise", cny("3600.00"), "promise-1"),
            ("open", "promise", cny("800.00"), "promise-1"),
        ]
        assert engine.case("L-2").promise.paid == Decimal("400.00")  # type: ignore[union-attr]
        assert engine.verify() == []
        # Judged whole again: short after its date, partly kept on both.
        engine.review_promises("L-2", at=datetime(2026, 10, 21, 1, tzinfo=UTC))
        assert [str(engine.case(c).promise.status) for c in ("L-1", "L-2")] == [  # type: ignore[union-attr]
            "partly_kept"
        ] * 2

    def test_reversing_twice_records_nothing_more(self, engine: Engine) -> None:
        start_reduction(engine)
        later = T0 + timedelta(days=10)
        engine.record_payment("L-2", cny("1000.00"), reference="P-2", at=later)
        engine.record_payment("L-1", cny("3000.00"), reference="P-1", at=later)
        engine.reverse_payment("L-1", "P-1", at=later)
        lengths = [len(engine.history(c)) for c in ("L-1", "L-2")]
        with pytest.raises(InvalidInput) as caught:
            engine.reverse_payment("L-1", "P-1", at=later)
        assert caught.value.expected == "a payment not already reversed"
        assert [len(engine.history(c)) for c in ("L-1", "L-2")] == lengths
        assert state(engine, "L-2", "plan")[:3] == ("active", "repayment_plan", cny("200.00"))

    def test_a_payment_reversed_after_the_plan_was_broken_reopens_nothing_elsewhere(
        self, engine: Engine
    ) -> None:
        """Only a plan completed comes back: one broken since stays broken on every loan."""
        engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"])
        engine.record_payment("L-2", cny("300.00"), reference="P-2", at=T0 + timedelta(days=1))
        engine.review_plan("L-1", at=datetime(2026, 11, 5, 1, tzinfo=UTC))
        engine.reverse_payment("L-2", "P-2", at=datetime(2026, 11, 6, 1, tzinfo=UTC))
        assert [str(engine.case(c).plan.status) for c in ("L-1", "L-2")] == ["broken"] * 2  # type: ignore[union-attr]
        assert not [e for e in engine.history("L-1") if e.kind == "agreement_reopened"]

    def test_a_payment_to_the_debtor_reversed_reopens_each_loan_once(self, engine: Engine) -> None:
        """The payment to the debtor that paid loans 3, 1 and 2 in full completed the plan;
        reversing every share leaves each loan as it was before it, the plan active."""
        start_reduction(engine)
        later = T0 + timedelta(days=10)
        before = {c: engine.case(c).arrears for c in ("L-1", "L-2", "L-3")}
        engine.record_debtor_payment("D-1", cny("5300.00"), reference="B-1", at=later)
        assert [engine.case(c).stage for c in ("L-1", "L-2", "L-3")] == ["resolved"] * 3
        engine.reverse_debtor_payment("D-1", "B-1", at=later + timedelta(hours=1))
        assert {c: engine.case(c).arrears for c in ("L-1", "L-2", "L-3")} == before
        assert [engine.case(c).stage for c in ("L-1", "L-2", "L-3")] == [
            "repayment_plan",
            "repayment_plan",
            "phone",
        ]
        for case_id in ("L-1", "L-2"):
            plan = engine.case(case_id).plan
            assert plan is not None
            assert (str(plan.status), plan.paid, plan.ended_at) == ("active", Decimal(0), None)
        assert engine.verify() == []


class TestScenarioEvents:
    @pytest.mark.parametrize(
        ("old", "new", "field", "message"),
        [
            (
                "type: debtor_payment",
                "case: L-1, type: debtor_payment",
                "events[0].case",
                "a payment to the debtor names no case",
            ),
            ('amount: "5.00"}', 'amount: "5.001"}', "events[0].amount", "2 decimal places"),
            ("covers: [L-1]", "covers: [L-3]", "events[1].covers[0]", "no other case 'L-3'"),
            ("covers: [L-1]", "covers: [L-2]", "events[1].covers[0]", "no other case 'L-2'"),
            (
                'amount: "5.00"}',
                'amount: "5.00", allocation: newest}',
                "events[0].allocation",
                "oldest_due",
            ),
        ],
    )
    def test_problems_name_the_field(
        self, tmp_path: Path, old: str, new: str, field: str, message: str
    ) -> None:
        path = tmp_path / "s.yaml"
        assert old in SCENARIO
        path.write_text(SCENARIO.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(ScenarioInvalid) as caught:
            load_scenario(path)
        assert any(field in str(p) and message in str(p) for p in caught.value.problems), str(
            caught.value
        )

    def test_the_payment_and_the_promise_are_recorded(self, tmp_path: Path) -> None:
        path = tmp_path / "s.yaml"
        path.write_text(SCENARIO, encoding="utf-8")
        assert run_scenario(path).passed


class TestTheTick:
    @pytest.fixture
    def ticking(self, tmp_path: Path) -> Iterator[Engine]:
        """The CN policy over the three loans, loans 1 and 2 under one plan from 14 October."""
        policy = load_policy(Path(__file__).parents[1] / "examples/policies/cn_consumer_loan.yaml")
        with SQLiteStore(tmp_path / "a.db") as store:
            engine = Engine(
                policy=policy,
                store=store,
                clock=SettableClock(T0),
                channels=[RecordingChannel(channels=["sms", "email", "letter", "voicemail"])],
            )
            engine.open_cases([loan(*spec) for spec in LOANS])
            engine.start_plan("L-1", plan_of("4800.00", 4), actor=AGENT, at=T0, covers=["L-2"])
            yield engine

    def resolved(self, engine: Engine) -> dict[str, list[str]]:
        kinds = ("plan_resolved", "plan_instalment_late")
        return {
            case_id: [e.kind for e in engine.history(case_id) if e.kind in kinds]
            for case_id in ("L-1", "L-2")
        }

    def test_a_missed_instalment_breaks_it_once_on_each_loan(self, ticking: Engine) -> None:
        """Both loans are reviewed: the first breaks the plan on both, the second finds it
        broken; each loan has one plan_resolved entry and leaves repayment_plan."""
        ticking.tick(datetime(2026, 11, 2, 1, 30, tzinfo=UTC))  # after 1 Nov: late on both
        ticking.tick(datetime(2026, 11, 5, 1, 30, tzinfo=UTC))  # after the grace: broken
        assert self.resolved(ticking) == {
            "L-1": ["plan_instalment_late", "plan_resolved"],
            "L-2": ["plan_instalment_late", "plan_resolved"],
        }
        # Out of the plan (to phone), then up the ladder (both are past 45 days).
        assert [ticking.case(c).stage for c in ("L-1", "L-2")] == ["field_visit"] * 2
        assert ticking.verify() == []

    def test_an_instalment_paid_on_either_loan_keeps_it_on_both(self, ticking: Engine) -> None:
        """1,200.00 paid on loan 2 (its own share) covers the whole plan's first instalment."""
        ticking.record_payment("L-2", cny("1200.00"), reference="P-1", at=T0)
        ticking.tick(datetime(2026, 11, 5, 1, 30, tzinfo=UTC))
        assert self.resolved(ticking) == {"L-1": [], "L-2": []}
        assert ticking.case("L-1").plan.status == "active"  # type: ignore[union-attr]


class TestPlanSharesInvariant:
    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.integers(min_value=1, max_value=2_000_000), min_size=2, max_size=4),
        st.integers(min_value=1, max_value=12),
        st.sampled_from(["oldest_due", "highest_rate", "pro_rata"]),
    )
    def test_each_loan_pays_its_arrears_and_each_date_the_whole_instalment(
        self, owed: list[int], count: int, allocation: str
    ) -> None:
        policy = Policy(id="p", version="1", allocation=allocation)
        engine = Engine(policy=policy, clock=SettableClock(T0))
        engine.open_cases(
            [
                loan(f"L-{n}", str(Decimal(cents).scaleb(-2)), f"2026-09-{n + 1:02d}")
                for n, cents in enumerate(owed)
            ]
        )
        total = cny(str(Decimal(sum(owed)).scaleb(-2)))
        if total.amount < Decimal(count).scaleb(-2):
            return  # fewer cents than instalments
        parts = instalment_schedule(total, date(2026, 11, 1), count=count)
        plan = RepaymentPlan(id="P", kind="minimum", instalments=parts)
        others = [f"L-{n}" for n in range(1, len(owed))]
        engine.start_plan("L-0", plan, actor=AGENT, at=T0, covers=others)
        by_date: dict[date, Decimal] = {}
        for n, cents in enumerate(owed):
            share = engine.case(f"L-{n}").plan
            assert share is not None
            assert share.total.amount == Decimal(cents).scaleb(-2)
            for part in share.instalments:
                by_date[part.due] = by_date.get(part.due, Decimal(0)) + part.amount.amount
        assert by_date == {part.due: part.amount.amount for part in parts}
