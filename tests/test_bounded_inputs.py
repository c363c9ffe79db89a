"""Every input is bounded: over a limit it is refused clearly and quickly, the case unchanged.

The inputs that could exhaust memory, recurse or crash a native library (a
YAML alias bomb, ten thousand nested brackets, a CEL chain of fifteen
thousand terms, a template that loops for ever) are tried in a child
process limited to 200 MB of address space and a few seconds, so a
regression fails the test instead of the test run.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import Actor, Case, Debtor, Engine, Hold, InvalidInput, Money, SettableClock
from arrears.errors import ArrearsError, ConditionError, DocumentInvalid, MessageRefused, TooLong
from arrears.limits import (
    ACTOR_ID,
    ADDRESS,
    CONDITION_COMPREHENSIONS,
    CONDITION_DEPTH,
    CONDITION_LENGTH,
    CONDITION_TERMS,
    CONTACTS,
    DOCUMENT_BYTES,
    FUTURE_TOLERANCE,
    MAX_AMOUNT,
    MESSAGE,
    NAME,
    REASON,
    TEMPLATE_SECONDS,
    TEMPLATE_SOURCE,
    TEMPLATE_STEPS,
    YAML_ALIASES,
    YAML_DEPTH,
    check_text,
)
from arrears.messages import TemplateSet
from arrears.policy import CelCondition, next_payday
from arrears.tick import TickReport

START = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
#: What a child process may use: the limits every risky input must stay within.
MEMORY = 200 * 1024 * 1024
#: A bound against unbounded work (a blow-up takes minutes or forever), not a speed
#: target: wide enough that a loaded machine, two to four times slower, stays inside.
SECONDS = 8.0


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_limited(code: str) -> str:
    """Run *code* in a child limited to `MEMORY`; it prints what it found, and how long it took.

    The time counts from the end of the imports (``arrears`` is imported first).
    """
    program = "import time, arrears, arrears.policy, arrears.messages\n"
    program += "started = time.perf_counter()\n" + textwrap.dedent(code)
    program += "\nprint('elapsed', time.perf_counter() - started)\n"
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=_limited,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    elapsed = float(done.stdout.split("elapsed")[-1])
    assert elapsed < SECONDS, done.stdout
    return done.stdout


def policy_problems(folder: Path, condition: str) -> str:
    """Load, in a limited child, a policy whose one step has *condition* at line 5; its problems.

    Each problem is printed as ``problem LINE FIELD MESSAGE``.
    """
    policy = folder / "policy.yaml"
    policy.write_text(
        f"id: p\nversion: '1'\nsteps:\n  - id: s\n    if: \"{condition}\"\n    fire: escalate\n",
        encoding="utf-8",
    )
    return run_limited(f"""
        from arrears.policy import load_policy, PolicyInvalid
        try:
            load_policy({str(policy)!r})
        except PolicyInvalid as err:
            for problem in err.problems:
                print("problem", problem.line, problem.field, problem.message[:200])
    """)


def case_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "C-1",
        "debtor": {"id": "D-1", "name": "王小明", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "p1", "channel": "sms", "address": "+8613900001111"}],
        "balance": {"currency": "CNY", "principal": "1000.00"},
        "due_date": "2026-09-01",
    }
    data.update(overrides)
    return data


@pytest.fixture
def opened() -> tuple[Engine, int]:
    """An engine on a settable clock with one case open, and the length of its journal."""
    engine = Engine(clock=SettableClock(START), future_tolerance=FUTURE_TOLERANCE)
    engine.open_case(case_data())
    return engine, len(engine.history("C-1"))


def unchanged(engine: Engine, entries: int) -> None:
    """The case has exactly the entries it had: the refusal stored nothing."""
    assert len(engine.history("C-1")) == entries
    assert engine.verify() == []


class TestFreeText:
    def test_a_long_name_is_refused_naming_the_field_and_its_length_only(self) -> None:
        """A 10 MB name: ``debtor.name``, its length and the limit, never the name."""
        engine = Engine(clock=SettableClock(START))
        name = "王" * 10_000_000
        started = time.perf_counter()
        with pytest.raises(InvalidInput) as info:
            engine.open_case(case_data(debtor={"id": "D-1", "name": name}))
        assert time.perf_counter() - started < SECONDS
        assert info.value.field == "debtor.name"
        assert info.value.value == TooLong(10_000_000)
        assert f"at most {NAME} characters" in str(info.value)
        assert "王" not in str(info.value)
        assert len(str(info.value)) < 300
        assert "C-1" not in list(engine.store.case_ids())

    def test_a_long_address_is_refused(self) -> None:
        """A contact point's address over `ADDRESS` names ``contacts[0].address``."""
        with pytest.raises(InvalidInput) as info:
            Engine(clock=SettableClock(START)).open_case(
                case_data(contacts=[{"id": "p1", "channel": "sms", "address": "1" * (ADDRESS + 1)}])
            )
        assert info.value.field == "contacts[0].address"
        assert info.value.value == TooLong(ADDRESS + 1)

    def test_a_name_with_a_line_end_after_it_is_refused(self, opened: tuple[Engine, int]) -> None:
        """A document kind or id, a stage or trigger name, ending in a line end (as a line
        read from a file carries it) is refused, not stored beside the same name without it."""
        engine, entries = opened
        with pytest.raises(InvalidInput) as info:
            engine.record_document("C-1", "proof_of_income\n")
        assert info.value.field == "kind"
        with pytest.raises(InvalidInput) as info:
            engine.record_document("C-1", "proof_of_income", reference="DOC-1\n")
        assert info.value.field == "reference"
        unchanged(engine, entries)
        from arrears.workflow import WorkflowDefinition

        with pytest.raises(InvalidInput) as info:
            WorkflowDefinition("w", "1", ("open\n", "closed"), "open\n", frozenset({"closed"}), ())
        assert info.value.field == "stages"

    def test_a_long_hold_reason_is_refused(self, opened: tuple[Engine, int]) -> None:
        """A hold's reason over `REASON`: refused, the case unchanged."""
        engine, entries = opened
        with pytest.raises(InvalidInput) as info:
            engine.add_hold("C-1", "dispute", reason="x" * (REASON + 1))
        assert "reason" in info.value.field
        unchanged(engine, entries)

    def test_a_long_trigger_reason_is_refused_at_the_write_path(
        self, opened: tuple[Engine, int]
    ) -> None:
        """A text reaching the journal over its limit is refused by the recorder, by its key."""
        engine, entries = opened
        with pytest.raises(InvalidInput) as info:
            engine.fire("C-1", "notify", reason="r" * 10_000_000)
        assert info.value.field == "reason"
        assert info.value.value == TooLong(10_000_000)
        unchanged(engine, entries)

    def test_a_long_payment_reference_is_refused(self, opened: tuple[Engine, int]) -> None:
        """A reference over `REFERENCE`: its length shown, not the text; nothing recorded."""
        engine, entries = opened
        with pytest.raises(InvalidInput) as info:
            engine.record_payment("C-1", Money("10", "CNY"), reference="R" * 10_000_000)
        assert info.value.field == "reference"
        assert info.value.value == TooLong(10_000_000)
        unchanged(engine, entries)

    def test_a_long_actor_id_is_refused(self) -> None:
        """A staff id over `ACTOR_ID`."""
        with pytest.raises(InvalidInput) as info:
            Actor("a" * 10_000_000)
        assert info.value.field == "actor.id"
        assert info.value.value == TooLong(10_000_000)

    def test_any_refused_value_too_long_to_repeat_is_shown_as_its_length(self) -> None:
        """`InvalidInput` never repeats a long text, whoever raises it."""
        error = InvalidInput("contact", "c" * 10_000_000, "one of the case's contacts")
        assert error.value == TooLong(10_000_000)
        assert len(str(error)) < 200

    def test_no_refusal_repeats_a_huge_id_trigger_or_list(self, opened: tuple[Engine, int]) -> None:
        """Unknown case and trigger, a list of 100,000 items: each shown by its size."""
        engine, entries = opened
        with pytest.raises(ArrearsError) as unknown_case:
            engine.case("A" * 1_000_000)
        with pytest.raises(ArrearsError) as unknown_trigger:
            engine.fire("C-1", "x" * 1_000_000)
        listed = InvalidInput("covers", ["calls"] * 100_000, "what a consent covers")
        for error in (unknown_case.value, unknown_trigger.value, listed):
            assert len(str(error)) < 1_000
        assert "<1000000 characters>" in str(unknown_case.value)
        assert "<100000 items>" in str(listed)
        unchanged(engine, entries)

    def test_contact_points_are_bounded(self) -> None:
        """100,000 contact points are refused at once, naming the field (not 5 s and 240 MB)."""
        points = [
            {"id": f"c{n}", "channel": "sms", "address": f"+86139{n:08d}"} for n in range(100_000)
        ]
        started = time.perf_counter()
        with pytest.raises(InvalidInput) as refused:
            Engine().open_case(case_data(contacts=points))
        assert time.perf_counter() - started < 2
        assert refused.value.field == "contacts"
        assert f"at most {CONTACTS} items" in refused.value.expected
        Engine().open_case(case_data(contacts=points[:CONTACTS]))

    @settings(max_examples=60, deadline=None)
    @given(st.integers(min_value=0, max_value=NAME + 40))
    def test_a_name_up_to_the_limit_is_taken_and_over_it_refused(self, length: int) -> None:
        """Exactly the texts of at most `NAME` characters are accepted."""
        name = "名" * length
        if length <= NAME:
            assert Debtor(id="D-1", name=name).name == name
        else:
            with pytest.raises(ValueError, match=f"at most {NAME} characters"):
                Debtor(id="D-1", name=name)

    @settings(max_examples=60, deadline=None)
    @given(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=200))
    def test_texts_up_to_each_limit_are_taken_and_longer_ones_refused(self, text: str) -> None:
        """`check_text`, `Actor` and `Hold` agree with their limits on any text."""
        for limit in (ACTOR_ID, 64, len(text)):
            if len(text) <= limit:
                assert check_text("field", text, limit) == text
            else:
                with pytest.raises(InvalidInput):
                    check_text("field", text, limit)
        if len(text) <= ACTOR_ID:
            Actor(text)
        else:
            with pytest.raises(InvalidInput):
                Actor(text)
        Hold(id="h1", kind="dispute", reason=text, started_at=START)


class TestFutureEntries:
    def test_an_entry_dated_9999_is_refused_and_the_case_goes_on(
        self, opened: tuple[Engine, int]
    ) -> None:
        """``at`` far ahead of the clock is refused naming ``at``; later entries still work."""
        engine, entries = opened
        with pytest.raises(InvalidInput) as info:
            engine.record_payment("C-1", Money("10", "CNY"), at=datetime(9999, 12, 31, tzinfo=UTC))
        assert info.value.field == "at"
        unchanged(engine, entries)
        engine.record_payment("C-1", Money("10", "CNY"), at=START + timedelta(minutes=1))
        engine.add_hold("C-1", "dispute", reason="disputed", at=START + timedelta(minutes=2))

    def test_the_tolerance_is_the_engines(self) -> None:
        """Within the tolerance an entry is taken; ``None`` takes any moment."""
        clock = SettableClock(START)
        engine = Engine(clock=clock, future_tolerance=timedelta(hours=1))
        engine.open_case(case_data(), at=START + timedelta(minutes=59))
        with pytest.raises(InvalidInput):
            engine.record_payment("C-1", Money("1", "CNY"), at=START + timedelta(hours=2))
        engine.future_tolerance = None
        engine.record_payment("C-1", Money("1", "CNY"), at=START + timedelta(days=400))

    def test_the_system_clock_has_a_small_tolerance_by_default(self) -> None:
        """On the system clock, an hour ahead is refused without asking for it."""
        engine = Engine()
        ahead = datetime.now(UTC) + timedelta(hours=1)
        with pytest.raises(InvalidInput) as info:
            engine.open_case(case_data(), at=ahead)
        assert info.value.field == "at"
        assert engine.future_tolerance == FUTURE_TOLERANCE

    def test_a_bad_tolerance_is_refused(self) -> None:
        """A negative tolerance, or one that is not a timedelta."""
        for bad in (timedelta(seconds=-1), 5):
            with pytest.raises(InvalidInput) as info:
                Engine(future_tolerance=bad)  # type: ignore[arg-type]
            assert info.value.field == "future_tolerance"

    def test_a_tick_ahead_of_the_clock_is_refused_and_a_moved_clock_ticks(self) -> None:
        """A tick's ``now`` is bounded too; a simulation moves its clock there instead."""
        from arrears.harness import PolicyHarness

        harness = PolicyHarness(
            Path(__file__).resolve().parents[1] / "examples" / "policies" / "cn_consumer_loan.yaml",
            start=START,
        )
        harness.engine.future_tolerance = FUTURE_TOLERANCE
        harness.open(id="L-1", due_date="2026-09-01", principal="1000.00")
        with pytest.raises(InvalidInput) as info:
            harness.engine.tick(START + timedelta(days=30))
        assert info.value.field == "now"
        report = harness.tick(START + timedelta(days=30))  # the clock moves there first
        assert isinstance(report, TickReport)
        assert report.reviewed >= 0


class TestPayday:
    @pytest.mark.parametrize(
        "rule",
        [
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
        ],
    )
    def test_a_rule_that_never_gives_a_payday_is_refused_quickly(self, rule: str) -> None:
        """Checked once at input, in a bounded walk: no payday within two years."""
        started = time.perf_counter()
        with pytest.raises(ValueError, match="payday"):
            Debtor(id="D-1", payday=rule)
        assert time.perf_counter() - started < 0.5

    @pytest.mark.parametrize(
        ("rule", "part"),
        [
            ("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=3", "COUNT"),
            ("FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20270101", "UNTIL"),
            ("FREQ=YEARLY;INTERVAL=400", "INTERVAL"),
        ],
    )
    def test_a_payday_recurs_without_end_at_least_yearly(self, rule: str, part: str) -> None:
        """No end, and at least once a year."""
        with pytest.raises(ValueError, match=part):
            Debtor(id="D-1", payday=rule)

    def test_the_review_search_is_bounded(self) -> None:
        """At review a rule with no payday ahead costs a bounded walk, and gives ``None``."""
        started = time.perf_counter()
        assert next_payday("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", date(2026, 10, 1)) is None
        assert time.perf_counter() - started < SECONDS
        # 29 February, after 2096: none until 2104 (2100 is not a leap year), beyond the horizon.
        assert next_payday("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", date(2097, 3, 1)) is None
        assert next_payday("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", date(2026, 3, 1)) == date(
            2028, 2, 29
        )
        assert next_payday("FREQ=MONTHLY;BYMONTHDAY=15", date(2026, 10, 16)) == date(2026, 11, 15)
        assert next_payday("FREQ=WEEKLY;BYDAY=FR", date(2026, 11, 22)) == date(2026, 11, 27)


class TestAmounts:
    @pytest.mark.parametrize("amount", ["1e400", "NaN", "Infinity", "-Infinity", "1e15", "1.001"])
    def test_money_out_of_range_is_refused_naming_the_amount(self, amount: str) -> None:
        """No bare `decimal.InvalidOperation`: `InvalidInput` naming ``amount``."""
        with pytest.raises(InvalidInput) as info:
            Money(amount, "CNY")
        assert info.value.field == "amount"

    def test_the_largest_amount_is_taken(self) -> None:
        """Just below `MAX_AMOUNT` is a sum of money."""
        assert Money(MAX_AMOUNT - Decimal("0.01"), "CNY").amount == MAX_AMOUNT - Decimal("0.01")

    @pytest.mark.parametrize("principal", ["1e400", "NaN", "Infinity", "1000000000000000", "1.001"])
    def test_a_balance_out_of_range_is_refused_naming_the_field(self, principal: str) -> None:
        """Through the engine: ``balance.principal``, nothing opened."""
        engine = Engine(clock=SettableClock(START))
        with pytest.raises(InvalidInput) as info:
            engine.open_case(case_data(balance={"currency": "CNY", "principal": principal}))
        assert info.value.field == "balance.principal"
        assert "C-1" not in engine.store.case_ids()

    def test_a_balance_whose_sum_money_cannot_hold_is_refused(self) -> None:
        """Each component just below `MAX_AMOUNT`, the sum over it: refused naming
        ``balance``, nothing opened.  Opened, it failed later: 1,000 of the principal paid,
        the instalment falling due left arrears no `Money` holds, and every reversal, cure
        and reading of the arrears raised about an ``amount`` the host never gave."""
        engine = Engine(clock=SettableClock(START))
        top = str(MAX_AMOUNT - Decimal("0.01"))
        with pytest.raises(InvalidInput) as info:
            engine.open_case(
                case_data(balance={"currency": "CNY", "principal": top, "not_due": top})
            )
        assert info.value.field == "balance"
        assert "C-1" not in engine.store.case_ids()
        half = str(MAX_AMOUNT / 2 - Decimal("0.01"))
        case = engine.open_case(
            case_data(balance={"currency": "CNY", "principal": half, "not_due": half})
        )
        assert case.balance.outstanding.amount == MAX_AMOUNT - Decimal("0.02")


class TestYaml:
    def test_an_alias_bomb_is_refused_within_the_limits(self, tmp_path: Path) -> None:
        """A "billion laughs" policy: `PolicyInvalid` naming the file, in bounded memory."""
        lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for level in range(1, 10):
            aliases = ", ".join([f"*a{level - 1}"] * 9)
            lines.append(f"a{level}: &a{level} [{aliases}]")
        bomb = tmp_path / "bomb.yaml"
        bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
        found = run_limited(f"""
            from arrears.policy import load_policy, PolicyInvalid
            try:
                load_policy({str(bomb)!r})
            except PolicyInvalid as err:
                print("refused", err.file, err.line, err.message)
        """)
        assert "refused" in found
        assert "bomb.yaml" in found
        assert "values once its aliases are expanded" in found or "aliases" in found

    def test_deep_nesting_is_refused_not_a_recursion_error(self, tmp_path: Path) -> None:
        """10,000 nested lists: `DocumentInvalid` at line 1, never a bare `RecursionError`."""
        deep = tmp_path / "deep.yaml"
        deep.write_text("steps: " + "[" * 10_000 + "]" * 10_000 + "\n", encoding="utf-8")
        found = run_limited(f"""
            from arrears.policy import load_policy, PolicyInvalid
            try:
                load_policy({str(deep)!r})
            except PolicyInvalid as err:
                print("refused", err.line, err.message)
        """)
        assert f"refused 1 mappings and lists nested more than {YAML_DEPTH} deep" in found

    def test_too_many_aliases_and_too_large_a_file_are_refused(self, tmp_path: Path) -> None:
        """More than `YAML_ALIASES` aliases; a file over `DOCUMENT_BYTES`, before it is read."""
        from arrears._yaml import load, load_file

        text = "a: &a 1\n" + "".join(f"b{i}: *a\n" for i in range(YAML_ALIASES + 1))
        with pytest.raises(DocumentInvalid) as info:
            load(text, "aliases.yaml")
        assert info.value.line == YAML_ALIASES + 2
        assert f"more than {YAML_ALIASES} aliases" in info.value.message
        big = tmp_path / "big.yaml"
        big.write_text("a: " + "x" * DOCUMENT_BYTES + "\n", encoding="utf-8")
        with pytest.raises(DocumentInvalid, match="bytes, more than"):
            load_file(big)

    def test_a_document_within_the_limits_loads_with_its_aliases(self) -> None:
        """Anchors and aliases still work."""
        from arrears._yaml import load

        assert load("a: &x [1, 2]\nb: *x\n", "ok.yaml").data == {"a": [1, 2], "b": [1, 2]}


class TestCel:
    def test_fifteen_thousand_terms_are_refused_before_the_library(self, tmp_path: Path) -> None:
        """The chain that crashed the process: `PolicyInvalid` at the ``if``'s line instead."""
        chain = " + ".join(["dpd"] * 15_000) + " > 0"
        found = policy_problems(tmp_path, chain)
        assert "characters, more than" in found or "names and literals" in found
        assert "problem 5 steps[0].if" in found

    @pytest.mark.parametrize(
        ("source", "problem"),
        [
            ("x" * (CONDITION_LENGTH + 1), "characters"),
            (" + ".join(["dpd"] * (CONDITION_TERMS + 1)) + " > 0", "names and literals"),
            ("(" * (CONDITION_DEPTH + 1) + "dpd" + ")" * (CONDITION_DEPTH + 1) + " > 0", "nested"),
        ],
    )
    def test_each_limit_names_itself(self, source: str, problem: str) -> None:
        """Length, terms and depth, each with its count and limit, not the expression."""
        with pytest.raises(ConditionError, match=problem) as info:
            CelCondition(source)
        assert len(str(info.value)) < 100

    def test_the_largest_allowed_condition_runs_on_a_small_stack(self) -> None:
        """At the limits, compiled and evaluated in a thread with a 256 KiB stack."""
        found = run_limited("""
            import threading
            from arrears.policy import CelCondition
            terms = " + ".join(["dpd"] * 183)
            source = "(" * 16 + terms + ")" * 16 + " > 0"
            results = []
            def run():
                condition = CelCondition(source)
                results.append(condition._program.execute({"dpd": 1}))
            threading.stack_size(256 * 1024)
            thread = threading.Thread(target=run)
            thread.start()
            thread.join()
            print("result", results)
        """)
        assert "result [True]" in found

    def test_nested_comprehensions_are_refused_before_they_run(self, tmp_path: Path) -> None:
        """Five ``map``s over a list of 28 (17 million evaluations): refused at the ``if``."""
        items = "[" + ", ".join(str(i) for i in range(28)) + "]"
        source = (
            f"{items}.map(a, {items}.map(b, {items}.map(c, {items}.map(d, "
            f"{items}.map(e, 1))))).size() > 0"
        )
        found = policy_problems(tmp_path, source)
        assert "problem 5 steps[0].if" in found
        assert "5 comprehensions (map, filter, all, exists, exists_one), more than 2" in found

    def test_comprehensions_within_the_limit_run(self) -> None:
        """Two nested, over the largest lists the terms allow, are quick; a third is refused."""
        assert CONDITION_COMPREHENSIONS == 2
        items = "[" + ", ".join(["dpd"] * 90) + "]"
        started = time.perf_counter()
        condition = CelCondition(f"{items}.map(a, {items}.filter(b, b == a)).size() == 90")
        assert time.perf_counter() - started < SECONDS
        facts: Any = {"dpd": 3}
        assert condition(facts) is True
        with pytest.raises(ConditionError, match="3 comprehensions"):
            CelCondition(
                "holds.exists(h, h == 'x') || notices.all(n, n != 'y') "
                "|| holds.filter(h, true).size() > 1"
            )
        # A name inside a string is not a comprehension.
        assert CelCondition("segment != 'map filter all exists'")._program is not None

    @pytest.mark.parametrize(
        "source", ["dyn(1) / 0 > 1", "dpd > 0 && 10 / (dpd - dpd) > 1", "dpd % (dpd - dpd) > 1"]
    )
    def test_a_division_by_zero_is_a_condition_error(self, tmp_path: Path, source: str) -> None:
        """On the sample facts when the policy loads: `PolicyInvalid` at the ``if``, not a bare
        `ZeroDivisionError`."""
        with pytest.raises(ConditionError, match="by zero"):
            CelCondition(source)
        found = policy_problems(tmp_path, source)
        assert "problem 5 steps[0].if" in found
        assert "by zero" in found

    def test_arithmetic_errors_at_review_do_not_hold(self) -> None:
        """Facts that divide by zero or overflow make the condition false, never raise."""
        condition = CelCondition("100 / (dpd - 5) > 1 || dpd * 4611686018427387904 > 0")
        facts: Any = {"dpd": 5}
        assert condition(facts) is False
        facts = {"dpd": 4}
        assert condition(facts) is False  # 100 / -1, then an overflow
        facts = {"dpd": 6}
        assert condition(facts) is True


_LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"


class TestTemplates:
    def test_nested_loops_are_stopped(self) -> None:
        """A template that would loop 10^8 times: ``MSG-LIMITS`` within the limits."""
        found = run_limited(f"""
            from arrears.messages import TemplateSet
            from arrears.errors import MessageRefused
            source = {_LOOPS + "{{ lender_name }}"!r}
            templates = TemplateSet.from_sources({{"t.sms.en-US": source}})
            try:
                templates.render("t", "sms", "en-US", {{"lender_name": "Acme"}})
            except MessageRefused as err:
                print("refused", err.rule, err)
        """)
        assert (
            "refused MSG-LIMITS template 't.sms.en-US' refused: "
            f"MSG-LIMITS: more than {TEMPLATE_STEPS}" in found
        )

    @pytest.mark.parametrize(
        "body",
        [
            "{{ 'x' * 1000000000 }}",
            "{{ 10 ** 100000 }}",
            "{% set s = 'xxxxxxxxxx' %}" + "{% set s = s ~ s %}" * 40 + "{{ s }}",
            "{% set ns = namespace(s='x') %}{% for i in range(99) %}{% set ns.s = ns.s ~ ns.s %}"
            "{% endfor %}",
            "{{ lender_name | center(1000000000) }}",
            "{{ lender_name.ljust(1000000000) }}",
            "{{ '%01000000000d' % 1 }}",
            "{{ lender_name | replace('', 'x' * 10000) }}",
            "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
            "{{ f(40) }}",
            "{{ '{:>3000000000}'.format(1) }}",
            "{{ '{:>999999999}'.format(1) }}",
            "{{ '{a}'.format_map({'a': 1}) }}",
            "{{ range(10000) | map('string') | join('x' * 19999) }}",
            "{{ range(10000) | map('string') | map('center', 20000) | join }}",
            "{{ range(10000) | list | tojson(indent=19999) }}",
            "{{ range(10000) | map('string') | map('center', 20000) | list | length }}",
        ],
    )
    def test_what_would_fill_the_memory_or_hang_is_refused(self, body: str) -> None:
        """Operators, filters, methods and macros: refused before they build a huge value."""
        found = run_limited(f"""
            from arrears.messages import TemplateSet
            from arrears.errors import MessageRefused
            templates = TemplateSet.from_sources({{"t.sms.en-US": {body + "{{ lender_name }}"!r}}})
            try:
                templates.render("t", "sms", "en-US", {{"lender_name": "Acme"}})
            except MessageRefused as err:
                print("refused", err.rule)
        """)
        assert "refused MSG-LIMITS" in found

    def test_a_busy_machine_does_not_refuse_a_rendering(self, monkeypatch: Any) -> None:
        """The time a rendering may take is its thread's CPU time: the wall clock racing on
        (other work on the cores, a first locale loaded) refuses nothing; CPU time spent does.
        """
        import arrears.messages.templates as rendering

        class Clock:
            wall = cpu = 0.0

            def monotonic(self) -> float:
                self.wall += 5.0  # every look at the wall clock: five seconds later
                return self.wall

            def thread_time(self) -> float:
                return self.cpu

        clock = Clock()
        monkeypatch.setattr(rendering, "_time", clock)
        body = "{% for i in range(50) %}{{ i }}{% endfor %}{{ lender_name }}"
        templates = TemplateSet.from_sources({"t.sms.en-US": body})
        text = templates.render("t", "sms", "en-US", {"lender_name": "Acme"}).text
        assert text.endswith("49Acme")

        def busy() -> float:  # and now the rendering itself spends the CPU
            clock.cpu += 0.4
            return clock.cpu

        monkeypatch.setattr(clock, "thread_time", busy)
        with pytest.raises(MessageRefused) as info:
            templates.render("t", "sms", "en-US", {"lender_name": "Acme"})
        assert "MSG-LIMITS" in info.value.rules
        assert f"took more than {TEMPLATE_SECONDS:g} s" in str(info.value)

    def test_lipsum_and_the_generators_are_gone(self) -> None:
        """``lipsum(1000000)`` ran for half a minute in one call: it is no longer a global."""
        found = run_limited("""
            from arrears.messages import TemplateSet
            from arrears.errors import MessageRefused
            for name in ("lipsum(1000000)", "cycler(1, 2)", "joiner()"):
                templates = TemplateSet.from_sources({"t.sms.en-US": "{{ " + name + " }}"})
                try:
                    templates.render("t", "sms", "en-US", {})
                except MessageRefused as err:
                    print("refused", err.rules)
        """)
        assert found.count("refused ('MSG-VARIABLES',)") == 3

    def test_join_and_tojson_within_the_limits_render(self) -> None:
        """The checked ``join`` keeps its separator and ``attribute``; a small indent is fine."""
        body = (
            "{{ range(3) | join(', ') }}|{{ [{'n': 'a'}, {'n': 'b'}] | join('/', attribute='n') }}"
            "|{{ [1, 2] | tojson(indent=2) }}|{{ '%05d' | format(42) }}"
        )
        templates = TemplateSet.from_sources({"t.letter.en-US": body + "{{ lender_name }}"})
        text = templates.render("t", "letter", "en-US", {"lender_name": "Acme"}).text
        assert text == "0, 1, 2|a/b|[\n  1,\n  2\n]|00042Acme"

    def test_a_source_over_the_limit_is_refused(self) -> None:
        """A template's source over `TEMPLATE_SOURCE`: `InvalidInput`, its length shown."""
        with pytest.raises(InvalidInput) as info:
            TemplateSet.from_sources({"t.sms.en-US": "x" * (TEMPLATE_SOURCE + 1)})
        assert info.value.value == TooLong(TEMPLATE_SOURCE + 1)

    def test_front_matter_is_bounded(self) -> None:
        """Front matter nested too deeply: `InvalidInput` naming it, no `RecursionError`."""
        source = "---\nvariables: " + "[" * 5000 + "]" * 5000 + "\n---\nHi {{ lender_name }}"
        with pytest.raises(InvalidInput) as info:
            TemplateSet.from_sources({"t.sms.en-US": source})
        assert "front matter" in info.value.field

    def test_a_message_longer_than_the_limit_is_refused(self) -> None:
        """What renders past `MESSAGE` characters is not sent."""
        body = "{% for i in range(5000) %}abcde{% endfor %}{{ lender_name }}"
        templates = TemplateSet.from_sources({"t.letter.en-US": body})
        with pytest.raises(MessageRefused) as info:
            templates.render("t", "letter", "en-US", {"lender_name": "Acme"})
        assert "MSG-LIMITS" in info.value.rules
        assert f"more than {MESSAGE}" in str(info.value)


class TestPersonalData:
    @pytest.mark.parametrize(
        "body",
        [
            "{{ debtor_name | money }}",
            "{{ {'a': 1}[debtor_name] }}",
            "{{ debtor_name | int + 'x' }}",
            "{{ debtor_name.nope() }}",
            "{{ debtor_name | attr('__class__') }}",
        ],
    )
    def test_a_failing_filter_names_the_template_and_the_error_type_only(self, body: str) -> None:
        """The refusal carries the template, the rule, the line: never the debtor's name."""
        templates = TemplateSet.from_sources({"t.sms.en-US": "{{ lender_name }} " + body})
        with pytest.raises(MessageRefused) as info:
            templates.render(
                "t", "sms", "en-US", {"lender_name": "Acme", "debtor_name": "Jane Roe"}
            )
        text = str(info.value) + repr(info.value.problems)
        assert "Jane" not in text
        assert "Roe" not in text
        assert info.value.template == "t.sms.en-US"

    def test_what_a_tick_reports_of_a_refusal_lacks_the_name(self) -> None:
        """A tick reports a failed review as ``Type: message``: for a refused template,
        that line names the template and the rule, not the debtor."""
        templates = TemplateSet.from_sources({"t.sms.zh-CN": "{{ debtor_name | money }}"})
        with pytest.raises(MessageRefused) as info:
            templates.render("t", "sms", "zh-CN", {"debtor_name": "王小明"})
        line = f"{type(info.value).__name__}: {info.value}"
        assert "王小明" not in line
        assert line.startswith("MessageRefused: template 't.sms.zh-CN' refused: MSG-TEMPLATE")


def test_every_refusal_is_an_arrears_error() -> None:
    """The errors above share the one tree users catch."""
    refusals: list[Callable[[], object]] = [
        lambda: Money("1e400", "CNY"),
        lambda: Actor("a" * 200),
        lambda: CelCondition("x" * 3000),
        lambda: Case.model_validate(case_data()) and check_text("f", "x" * 2, 1),
    ]
    for refusal in refusals:
        with pytest.raises(ArrearsError):
            refusal()


# -- the largest value of each field, through the API and the command line ------------------

TEN_MB = 10 * 1024 * 1024
HUGE = 10**5000  # more digits than Python writes out (4,300)


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


#: (field given, its largest value, the field named, what the refusal shows of the value)
LARGEST: list[tuple[str, Any, str, str]] = [
    ("id", "L" * TEN_MB, "id", f"<{TEN_MB} characters>"),
    ("id", HUGE, "id", "<5001 digits>"),
    ("version", HUGE, "version", "<5001 digits>"),
    ("due_date", -HUGE, "due_date", "<5001 digits>"),
    ("balance", {"currency": "CNY", "principal": "9" * TEN_MB}, "balance.principal", ""),
    ("balance", {"currency": "CNY", "principal": HUGE}, "balance.principal", "<5001 digits>"),
    ("debtor", {"id": "D-1", "timezone": "A" * TEN_MB}, "debtor.timezone", ""),
    ("debtor", _deep(10_000), "debtor.id", "nothing"),
    ("terms", {"penalty_rate": "0." + "1" * TEN_MB}, "terms.penalty_rate", ""),
    ("terms", {"penalty_base": ["principal"] * 100_000}, "terms.penalty_base", "<hidden>"),
    ("terms", {"penalty_base": ["principal", "principal"]}, "terms.penalty_base", "<hidden>"),
    ("terms", {"freeze_on_holds": ["dispute"] * 100_000}, "terms.freeze_on_holds", "<hidden>"),
    ("terms", {"late_fee_after_days": HUGE}, "terms.late_fee_after_days", "<5001 digits>"),
    ("tasks", [{}] * 100_000, "tasks", "<100000 items>"),
    ("documents", ["proof_of_income"] * 100_000, "documents", "<100000 items>"),
    ("notices", {f"n{i}": "2026-09-02T00:00:00Z" for i in range(100_000)}, "notices", ""),
    ("notices", {"x" * TEN_MB: "2026-09-02T00:00:00Z"}, "notices", f"<{TEN_MB} characters>"),
    ("holds", [{}] * 100_000, "holds", "<100000 items>"),
    ("aging", [["2026-09-01", "1"]] * 100_000, "aging", "<100000 items>"),
    ("contacts", [{}] * 100_000, "contacts", "<100000 items>"),
]


class TestLargestInputs:
    """Each field of a case given to `open_case` at the largest a caller can give: ten
    megabytes of text, a number of five thousand digits, a hundred thousand items, ten
    thousand levels of nesting.  Each is refused quickly as `InvalidInput` naming the field,
    the value shown by its size (never written out), the store untouched."""

    @pytest.mark.parametrize(
        ("given", "value", "field", "shown"),
        LARGEST,
        ids=[f"{given}-{field}-{index}" for index, (given, _, field, _) in enumerate(LARGEST)],
    )
    def test_open_case(self, given: str, value: Any, field: str, shown: str) -> None:
        engine = Engine(clock=SettableClock(START))
        started = time.perf_counter()
        with pytest.raises(InvalidInput) as info:
            engine.open_case(case_data(**{given: value}))
        assert time.perf_counter() - started < SECONDS
        assert info.value.field == field
        if shown:
            assert repr(info.value.value) == shown
        assert len(str(info.value)) < 1_000
        assert len(engine.store) == 0

    def test_the_largest_accepted_values_open(self) -> None:
        """Each at its limit is taken: 1,000 documents and notices, a rate of 28 digits."""
        engine = Engine(clock=SettableClock(START))
        case = engine.open_case(
            case_data(
                documents=["proof_of_income"] * 1_000,
                notices={f"notice_{n}": "2026-09-02T00:00:00Z" for n in range(1_000)},
                terms={
                    "penalty_rate": "0." + "1" * 28,
                    "penalty_base": ["principal", "interest", "fees"],
                },
            )
        )
        assert len(case.notices) == 1_000
        assert case.terms is not None
        assert case.terms.penalty_rate == Decimal("0." + "1" * 28)

    def test_import_a_row_of_the_largest_values(self, tmp_path: Path) -> None:
        """`arrears import`: a JSON Lines row of huge values is a bad row, named by line (and
        field), without a traceback and without the value written out."""
        from click.testing import CliRunner

        from arrears.cli import main

        rows = tmp_path / "portfolio.jsonl"
        big = json.dumps(case_data(id="C-1", tasks=[{}] * 100_000))
        huge = json.dumps(case_data(id="C-2", version=0))
        huge = huge.replace('"version": 0', '"version": ' + "9" * 5_000)
        rows.write_text(f"{big}\n{huge}\n", encoding="utf-8")
        result = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "a.db"), str(rows)])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert f"{rows}:1: tasks: expected at most 1000 items" in result.output
        line_2 = [line for line in result.output.splitlines() if line.startswith(f"{rows}:2: ")]
        assert len(line_2) == 1, result.output
        assert "9" * 100 not in line_2[0]

    @pytest.mark.parametrize("suffix", [".yaml", ".toml"])
    def test_check_a_policy_of_the_largest_numbers(self, tmp_path: Path, suffix: str) -> None:
        """`arrears check`: a number of five thousand digits in a policy is a problem at its
        line, not a traceback, and not written out."""
        from click.testing import CliRunner

        from arrears.cli import main

        digits = "9" * 5_000
        path = tmp_path / f"policy{suffix}"
        if suffix == ".yaml":
            path.write_text(f'id: p\nversion: "1"\nreview: {{every_days: {digits}}}\n')
            expected = f"{path}:3: review.every_days: a number of 5000 characters: too long to read"
        else:
            path.write_text(f'id = "p"\nversion = "1"\n[review]\nevery_days = {digits}\n')
            expected = f"{path}:1: not readable TOML: a number in it is too long to read"
        result = CliRunner().invoke(main, ["check", str(path)])
        assert result.exit_code == 1
        assert result.output.strip() == expected

    @pytest.mark.parametrize("rate", ["1e99999", "9" * 5_000, "10"])
    def test_a_lender_rate_beyond_any_rate(self, rate: str) -> None:
        """A rate of 10 (1,000% a period) or more is no rate: refused naming the field,
        never written out in full in a problem about the ceiling."""
        from arrears.policy import Policy

        policy = Policy(
            id="p", version="1", packs=("CN",), lender={"name": "Acme", "late_fee_rate": rate}
        )
        problems = policy.problems()
        assert [(path, message.split(",")[0]) for path, message in problems] == [
            (("lender", "late_fee_rate"), problems[0][1].split(",")[0])
        ]
        assert problems[0][0] == ("lender", "late_fee_rate")
        assert "expected a rate of 0 or more and below 10" in problems[0][1]
        assert len(problems[0][1]) < 400
