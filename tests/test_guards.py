"""Guards: named checks that pass with None or fail with the values they compared."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from arrears import (
    SYSTEM,
    Actor,
    Case,
    Guard,
    GuardContext,
    GuardFailure,
    InvalidInput,
    JournalEntry,
    Money,
    approved_by,
    arrears_cleared,
    attempts_at_least,
    balance_at_least,
    dpd_at_least,
    guard,
    no_active_hold,
    not_time_barred,
    notice_elapsed,
    paid_in_full,
    second_approver,
)
from arrears.journal import GENESIS, seal

MakeCase = Callable[..., Case]

#: 09:00 on 1 October 2026 in Shanghai: 30 days after the 2026-09-01 due date.
AT = datetime(2026, 10, 1, 1, tzinfo=UTC)
OFFICER = Actor("legal-1", frozenset({"legal_officer"}))
OTHER_OFFICER = Actor("legal-2", frozenset({"legal_officer"}))
AGENT = Actor("agent-7", frozenset({"agent"}))


def ctx(
    at: datetime = AT,
    *,
    actor: Actor = SYSTEM,
    approver: Actor | None = None,
    history: Sequence[JournalEntry] = (),
) -> GuardContext:
    return GuardContext(at, "some_trigger", actor, approver, history=lambda: history)


def entries(*kinds: str) -> tuple[JournalEntry, ...]:
    chain: list[JournalEntry] = []
    prev = GENESIS
    for seq, kind in enumerate(kinds):
        entry = seal("C-1", seq, AT, kind, {}, prev)
        chain.append(entry)
        prev = entry.hash
    return tuple(chain)


def hold(**fields: Any) -> dict[str, Any]:
    return {"id": "h1", "kind": "dispute", "reason": "amount disputed", "started_at": AT, **fields}


def assert_fails(
    check: Guard, case: Case, context: GuardContext, reason: str, values: Mapping[str, Any]
) -> None:
    failure = check(case, context)
    assert failure == GuardFailure(check.name, reason, values)


class TestDpdAtLeast:
    def test_name(self) -> None:
        """The guard prints as its factory call."""
        assert repr(dpd_at_least(90)) == "dpd_at_least(90)"
        assert dpd_at_least(90).name == "dpd_at_least(90)"

    def test_passes_at_the_threshold(self, make_case: MakeCase) -> None:
        """At exactly the required days past due the guard passes."""
        assert dpd_at_least(30)(make_case(), ctx()) is None

    def test_fails_below_with_both_values(self, make_case: MakeCase) -> None:
        """Below the threshold the failure gives the case's dpd and the minimum."""
        assert_fails(
            dpd_at_least(90),
            make_case(),
            ctx(),
            "dpd is 30, needs at least 90",
            {"dpd": 30, "minimum": 90},
        )

    @pytest.mark.parametrize("days", [-1, 1.5, True, "90", None])
    def test_bad_argument(self, days: object) -> None:
        """A negative, fractional, boolean or non-number threshold raises naming 'days'."""
        with pytest.raises(InvalidInput) as info:
            dpd_at_least(days)  # type: ignore[arg-type]
        assert info.value.field == "days"
        assert repr(days) in str(info.value)


class TestBalanceAtLeast:
    def test_passes_at_the_threshold(self, make_case: MakeCase) -> None:
        """Arrears of exactly the minimum pass."""
        assert balance_at_least(Money("1070.00", "CNY"))(make_case(), ctx()) is None

    def test_fails_below_with_both_amounts(self, make_case: MakeCase) -> None:
        """One fen short fails, naming both amounts."""
        check = balance_at_least(Money("1070.01", "CNY"))
        assert check.name == "balance_at_least(1070.01 CNY)"
        assert_fails(
            check,
            make_case(),
            ctx(),
            "arrears are 1070.00 CNY, needs at least 1070.01 CNY",
            {"arrears": "1070.00", "minimum": "1070.01", "currency": "CNY"},
        )

    def test_other_currency_fails_without_raising(self, make_case: MakeCase) -> None:
        """A threshold in another currency fails with both currencies named."""
        assert_fails(
            balance_at_least(Money("100", "USD")),
            make_case(),
            ctx(),
            "the case is in CNY, the threshold in USD",
            {"currency": "CNY", "threshold_currency": "USD"},
        )

    @pytest.mark.parametrize("minimum", ["1000", 1000, None])
    def test_bad_argument(self, minimum: object) -> None:
        """A threshold that is not Money raises naming 'minimum'."""
        with pytest.raises(InvalidInput) as info:
            balance_at_least(minimum)  # type: ignore[arg-type]
        assert info.value.field == "minimum"


class TestNoActiveHold:
    def test_name_lists_kinds_sorted(self) -> None:
        """Without kinds the name is bare; with kinds they are listed sorted."""
        assert no_active_hold().name == "no_active_hold()"
        assert no_active_hold("dispute", "cease").name == "no_active_hold(cease, dispute)"

    def test_passes_without_holds(self, make_case: MakeCase) -> None:
        """A case with no holds passes."""
        assert no_active_hold()(make_case(), ctx()) is None

    def test_fails_while_a_hold_is_active(self, make_case: MakeCase) -> None:
        """An active dispute hold fails, naming the hold and its kind."""
        assert_fails(
            no_active_hold(),
            make_case(holds=[hold()]),
            ctx(),
            "active hold: dispute",
            {"holds": ["h1"], "kinds": ["dispute"]},
        )

    @pytest.mark.parametrize(
        "fields",
        [
            {"started_at": AT + timedelta(hours=1)},
            {"started_at": AT - timedelta(days=10), "ends_at": AT},
            {"started_at": AT - timedelta(days=10), "released_at": AT - timedelta(days=1)},
        ],
        ids=["not-started", "ended", "released"],
    )
    def test_passes_when_the_hold_is_not_in_force(
        self, make_case: MakeCase, fields: dict[str, Any]
    ) -> None:
        """A hold not yet started, already ended or released does not block."""
        assert no_active_hold()(make_case(holds=[hold(**fields)]), ctx()) is None

    def test_only_the_named_kinds_count(self, make_case: MakeCase) -> None:
        """A guard for bankruptcy holds ignores an active dispute hold."""
        assert no_active_hold("bankruptcy")(make_case(holds=[hold()]), ctx()) is None

    def test_bad_kind(self) -> None:
        """An unknown hold kind raises naming 'kinds' and the value."""
        with pytest.raises(InvalidInput) as info:
            no_active_hold("holiday")
        assert info.value.field == "kinds"
        assert "holiday" in str(info.value)


#: Role lists the people guards refuse, and what they say instead.
BAD_ROLES = [(), ("",), (" ",), ("legal_officer", ""), ("agent", "\t"), ("agent", 3)]
ROLES_EXPECTED = "one or more role names, none blank"


class TestApprovedBy:
    def test_passes_for_an_actor_with_the_role(self, make_case: MakeCase) -> None:
        """An actor holding one of the roles passes."""
        check = approved_by("legal_officer", "supervisor")
        assert check.name == "approved_by(legal_officer, supervisor)"
        assert check(make_case(), ctx(actor=OFFICER)) is None

    def test_fails_for_an_actor_without_the_role(self, make_case: MakeCase) -> None:
        """An agent is refused, with the agent's roles and the required ones."""
        assert_fails(
            approved_by("legal_officer"),
            make_case(),
            ctx(actor=AGENT),
            "actor 'agent-7' has roles ['agent'], needs one of ['legal_officer']",
            {"actor": "agent-7", "actor_roles": ["agent"], "required": ["legal_officer"]},
        )

    @pytest.mark.parametrize("roles", BAD_ROLES, ids=repr)
    def test_bad_argument(self, roles: tuple[Any, ...]) -> None:
        """No roles, an empty or blank role or a non-string role raises naming 'roles'."""
        with pytest.raises(InvalidInput) as info:
            approved_by(*roles)
        assert str(info.value) == f"roles: got {list(roles)!r}, expected {ROLES_EXPECTED}"


class TestSecondApprover:
    check = second_approver("legal_officer", "supervisor")

    def test_passes_with_another_person_holding_the_role(self, make_case: MakeCase) -> None:
        """A second legal officer, not the actor, satisfies four eyes."""
        assert self.check.name == "second_approver(legal_officer, supervisor)"
        assert self.check(make_case(), ctx(actor=OFFICER, approver=OTHER_OFFICER)) is None

    def test_fails_without_an_approver(self, make_case: MakeCase) -> None:
        """No approver at all fails, naming the roles needed."""
        assert_fails(
            self.check,
            make_case(),
            ctx(actor=OFFICER),
            "needs a second approver with one of ['legal_officer', 'supervisor'], none given",
            {"approver": None, "required": ["legal_officer", "supervisor"]},
        )

    def test_fails_when_the_approver_is_the_actor(self, make_case: MakeCase) -> None:
        """The actor approving their own action is refused, even with the role."""
        assert_fails(
            self.check,
            make_case(),
            ctx(actor=OFFICER, approver=Actor("legal-1", frozenset({"supervisor"}))),
            "approver 'legal-1' is the actor; four eyes need two people",
            {"approver": "legal-1", "actor": "legal-1"},
        )

    def test_the_actor_in_capitals_is_still_the_actor(self, make_case: MakeCase) -> None:
        """'LEGAL-1' approving what 'legal-1' did is the same person: refused."""
        approver = Actor("LEGAL-1", frozenset({"supervisor"}))
        failure = self.check(make_case(), ctx(actor=OFFICER, approver=approver))
        assert failure is not None
        assert "four eyes need two people" in failure.reason

    @pytest.mark.parametrize("staff_id", ["legal-1 ", " legal-1", "legal\u200b-1", "legal-1\n"])
    def test_an_id_with_spaces_or_invisible_characters_is_refused(self, staff_id: str) -> None:
        """An id that would pass for a second person beside 'legal-1' is refused, escaped."""
        with pytest.raises(InvalidInput) as info:
            Actor(staff_id, frozenset({"supervisor"}))
        assert info.value.field == "actor.id"
        assert "\u200b" not in str(info.value)  # shown escaped, never as an invisible character

    def test_an_id_is_kept_in_nfkc_form(self) -> None:
        """A full-width id is the same staff id as its ASCII form."""
        assert Actor("ｌｅｇａｌ－１").id == "legal-1"

    def test_fails_when_the_approver_lacks_the_role(self, make_case: MakeCase) -> None:
        """An approver without one of the roles is refused, with their roles named."""
        assert_fails(
            self.check,
            make_case(),
            ctx(actor=OFFICER, approver=AGENT),
            "approver 'agent-7' has roles ['agent'], needs one of ['legal_officer', 'supervisor']",
            {
                "approver": "agent-7",
                "approver_roles": ["agent"],
                "required": ["legal_officer", "supervisor"],
            },
        )

    @pytest.mark.parametrize("roles", BAD_ROLES, ids=repr)
    def test_bad_argument(self, roles: tuple[Any, ...]) -> None:
        """No roles, an empty or blank role or a non-string role raises naming 'roles'."""
        with pytest.raises(InvalidInput) as info:
            second_approver(*roles)
        assert str(info.value) == f"roles: got {list(roles)!r}, expected {ROLES_EXPECTED}"


class TestNoticeElapsed:
    check = notice_elapsed("demand_letter", 30)

    def test_name(self) -> None:
        """The name shows the notice kind and the days."""
        assert self.check.name == "notice_elapsed('demand_letter', 30)"

    def test_fails_when_no_notice_was_sent(self, make_case: MakeCase) -> None:
        """Without the notice the guard fails, saying none was sent."""
        assert_fails(
            self.check,
            make_case(),
            ctx(),
            "no 'demand_letter' notice was sent",
            {"notice": "demand_letter", "sent_at": None},
        )

    def test_fails_before_the_period_ends(self, make_case: MakeCase) -> None:
        """29 days after the notice is not enough; the failure says how many days passed."""
        sent = AT - timedelta(days=29)
        assert_fails(
            self.check,
            make_case(notices={"demand_letter": sent}),
            ctx(),
            "'demand_letter' notice sent 29 days ago, needs 30",
            {
                "notice": "demand_letter",
                "sent_at": sent.isoformat(),
                "elapsed_days": 29,
                "minimum": 30,
            },
        )

    def test_passes_once_the_period_ends(self, make_case: MakeCase) -> None:
        """Exactly 30 days after the notice the guard passes."""
        case = make_case(notices={"demand_letter": AT - timedelta(days=30)})
        assert self.check(case, ctx()) is None

    def test_other_notice_kinds_do_not_count(self, make_case: MakeCase) -> None:
        """A notice of another kind does not satisfy the guard."""
        case = make_case(notices={"reminder": AT - timedelta(days=90)})
        assert self.check(case, ctx()) is not None

    @pytest.mark.parametrize(
        ("args", "field"),
        [(("demand_letter", -1), "days"), (("demand_letter", 1.0), "days"), (("", 30), "kind")],
    )
    def test_bad_arguments(self, args: tuple[Any, Any], field: str) -> None:
        """A bad period or an empty kind raises naming the argument."""
        with pytest.raises(InvalidInput) as info:
            notice_elapsed(*args)
        assert info.value.field == field


class TestNotTimeBarred:
    check = not_time_barred(3)

    def test_passes_the_day_before_the_bar(self, make_case: MakeCase) -> None:
        """On 2029-08-31 in Shanghai a debt due 2026-09-01 is not yet barred after 3 years."""
        assert self.check(make_case(), ctx(datetime(2029, 8, 31, 15, 59, tzinfo=UTC))) is None

    def test_fails_from_the_bar_in_the_debtors_calendar(self, make_case: MakeCase) -> None:
        """At 16:00 UTC on 2029-08-31 it is 1 September in Shanghai: the debt is barred."""
        assert self.check.name == "not_time_barred(3)"
        assert_fails(
            self.check,
            make_case(),
            ctx(datetime(2029, 8, 31, 16, 0, tzinfo=UTC)),
            "time-barred since 2029-09-01 (3 years after the due date)",
            {"due_date": "2026-09-01", "barred_on": "2029-09-01", "today": "2029-09-01"},
        )

    @pytest.mark.parametrize("years", [0, -3, 2.5, True])
    def test_bad_argument(self, years: object) -> None:
        """A period that is not a positive whole number of years raises naming 'years'."""
        with pytest.raises(InvalidInput) as info:
            not_time_barred(years)  # type: ignore[arg-type]
        assert info.value.field == "years"


class TestAttemptsAtLeast:
    check = attempts_at_least(3)

    def test_counts_only_interactions(self, make_case: MakeCase) -> None:
        """Two interactions among other entries are two attempts: not enough for three."""
        history = entries("opened", "interaction", "transition", "notice", "interaction")
        assert self.check.name == "attempts_at_least(3)"
        assert_fails(
            self.check,
            make_case(),
            ctx(history=history),
            "2 contact attempts recorded, needs at least 3",
            {"attempts": 2, "minimum": 3},
        )

    def test_passes_with_enough_attempts(self, make_case: MakeCase) -> None:
        """Three interactions pass."""
        history = entries("opened", "interaction", "interaction", "refusal", "interaction")
        assert self.check(make_case(), ctx(history=history)) is None

    def test_history_is_read_only_when_asked(self, make_case: MakeCase) -> None:
        """Other guards never load the history; this one reads it once."""
        calls: list[int] = []

        def history() -> tuple[JournalEntry, ...]:
            calls.append(1)
            return ()

        context = GuardContext(AT, "t", OFFICER, history=history)
        dpd_at_least(1)(make_case(), context)
        assert calls == []
        self.check(make_case(), context)
        assert calls == [1]

    @pytest.mark.parametrize("count", [-1, "3", False])
    def test_bad_argument(self, count: object) -> None:
        """A negative or non-integer count raises naming 'count'."""
        with pytest.raises(InvalidInput) as info:
            attempts_at_least(count)  # type: ignore[arg-type]
        assert info.value.field == "count"


class TestArrearsClearedAndPaidInFull:
    def test_arrears_cleared_fails_while_anything_is_overdue(self, make_case: MakeCase) -> None:
        """1070.00 overdue fails arrears_cleared with the amount named."""
        check = arrears_cleared()
        assert check.name == "arrears_cleared()"
        assert_fails(
            check,
            make_case(),
            ctx(),
            "1070.00 CNY still overdue",
            {"arrears": "1070.00", "currency": "CNY"},
        )

    def test_arrears_cleared_ignores_what_is_not_yet_due(self, make_case: MakeCase) -> None:
        """Future instalments do not count as arrears."""
        case = make_case(balance={"currency": "CNY", "not_due": "5000.00"})
        assert arrears_cleared()(case, ctx()) is None

    def test_paid_in_full_counts_what_is_not_yet_due(self, make_case: MakeCase) -> None:
        """paid_in_full fails while future instalments are owed."""
        case = make_case(balance={"currency": "CNY", "not_due": "5000.00"})
        check = paid_in_full()
        assert check.name == "paid_in_full()"
        assert_fails(
            check,
            case,
            ctx(),
            "5000.00 CNY still owed",
            {"outstanding": "5000.00", "currency": "CNY"},
        )

    def test_paid_in_full_passes_when_nothing_is_owed(self, make_case: MakeCase) -> None:
        """A zero balance (credit aside) is paid in full."""
        case = make_case(balance={"currency": "CNY", "credit": "30.00"})
        assert paid_in_full()(case, ctx()) is None


class TestGuardDecorator:
    def test_function_becomes_a_named_guard(self, make_case: MakeCase) -> None:
        """A decorated function prints as its name and reports its own reason and values."""

        @guard("not_vip")
        def not_vip(case: Case, context: GuardContext) -> tuple[str, dict[str, Any]] | None:
            if case.id.startswith("VIP"):
                return "VIP accounts are handled by hand", {"case_id": case.id}
            return None

        assert repr(not_vip) == "not_vip"
        assert isinstance(not_vip, Guard)
        assert not_vip(make_case(), ctx()) is None
        assert not_vip(make_case(id="VIP-9"), ctx()) == GuardFailure(
            "not_vip", "VIP accounts are handled by hand", {"case_id": "VIP-9"}
        )

    @pytest.mark.parametrize("name", ["", None])
    def test_bad_name(self, name: object) -> None:
        """A guard without a name raises naming 'name'."""
        with pytest.raises(InvalidInput) as info:
            guard(name)  # type: ignore[arg-type]
        assert info.value.field == "name"

    def test_factories_build_guards(self) -> None:
        """Every factory's result satisfies the Guard protocol."""
        built = [
            dpd_at_least(1),
            balance_at_least(Money("1", "CNY")),
            no_active_hold(),
            approved_by("agent"),
            second_approver("supervisor"),
            notice_elapsed("demand_letter", 30),
            not_time_barred(3),
            attempts_at_least(3),
            arrears_cleared(),
            paid_in_full(),
        ]
        assert all(isinstance(check, Guard) for check in built)
        assert len({check.name for check in built}) == len(built)


class TestActorAndFailure:
    def test_roles_become_a_frozenset(self) -> None:
        """Roles given as any iterable are kept as a frozenset."""
        actor = Actor("sup-3", {"supervisor", "agent"})  # type: ignore[arg-type]
        assert actor.roles == frozenset({"supervisor", "agent"})
        assert type(actor.roles) is frozenset
        assert hash(actor) == hash(Actor("sup-3", frozenset({"agent", "supervisor"})))
        assert actor.to_json() == {"id": "sup-3", "roles": ["agent", "supervisor"]}

    @pytest.mark.parametrize("staff_id", ["", None, 7])
    def test_actor_needs_an_id(self, staff_id: object) -> None:
        """An actor without a staff id raises naming 'actor.id'."""
        with pytest.raises(InvalidInput) as info:
            Actor(staff_id)  # type: ignore[arg-type]
        assert info.value.field == "actor.id"

    def test_system_is_not_a_person(self) -> None:
        """SYSTEM is the system; a staff member is not."""
        assert SYSTEM.is_system
        assert not AGENT.is_system

    def test_failure_json_form(self) -> None:
        """A failure's journal form carries guard, reason and values."""
        failure = GuardFailure("dpd_at_least(90)", "dpd is 30, needs at least 90", {"dpd": 30})
        assert failure.to_json() == {
            "guard": "dpd_at_least(90)",
            "reason": "dpd is 30, needs at least 90",
            "values": {"dpd": 30},
        }


class TestFactoryRefusals:
    """What a policy author reads when a guard is built wrong, word for word."""

    @pytest.mark.parametrize(
        ("build", "message"),
        [
            (
                lambda: dpd_at_least(-1),
                "days: got -1, expected a whole number of days, zero or more",
            ),
            (
                lambda: balance_at_least("1000"),
                "minimum: got '1000', expected Money, e.g. Money('1000', 'CNY')",
            ),
            (
                lambda: no_active_hold("dispute", "holiday"),
                "kinds: got ['dispute', 'holiday'], expected hold kinds among ['dispute',"
                " 'cease', 'bankruptcy', 'breathing_space', 'mental_health_crisis',"
                " 'mental_capacity', 'deceased', 'attorney', 'hardship', 'vulnerable']",
            ),
            (
                lambda: notice_elapsed("demand_letter", -1),
                "days: got -1, expected a whole number of days, zero or more",
            ),
            (
                lambda: notice_elapsed("demand letter", 30),
                "kind: got 'demand letter', expected a notice kind such as 'demand_letter'",
            ),
            (
                lambda: notice_elapsed(7, 30),
                "kind: got 7, expected a notice kind such as 'demand_letter'",
            ),
            (
                lambda: not_time_barred(0),
                "years: got 0, expected a whole number of years, more than zero",
            ),
            (
                lambda: attempts_at_least(-1),
                "count: got -1, expected a whole number, zero or more",
            ),
            (lambda: guard(""), "name: got '', expected a non-empty guard name"),
        ],
        ids=[
            "dpd",
            "balance",
            "hold-kind",
            "notice-days",
            "notice-kind",
            "notice-kind-type",
            "years",
            "count",
            "name",
        ],
    )
    def test_the_argument_the_value_and_what_was_expected(
        self, build: Callable[[], Guard], message: str
    ) -> None:
        """Each refusal names the argument, repeats the value and says what is accepted."""
        with pytest.raises(InvalidInput) as info:
            build()
        assert str(info.value) == message

    @pytest.mark.parametrize(
        "build",
        [
            lambda: dpd_at_least(1.0),
            lambda: notice_elapsed("demand_letter", True),
            lambda: notice_elapsed("demand_letter", 30.0),
            lambda: not_time_barred(True),
            lambda: not_time_barred(3.0),
            lambda: attempts_at_least(True),
            lambda: attempts_at_least(3.0),
            lambda: guard(None),
        ],
        ids=[
            "dpd",
            "notice-bool",
            "notice-float",
            "years-bool",
            "years-float",
            "count-bool",
            "count-float",
            "name-none",
        ],
    )
    def test_bools_and_floats_are_not_whole_numbers(self, build: Callable[[], Guard]) -> None:
        """True is not one day, and 3.0 is not three: both are refused."""
        with pytest.raises(InvalidInput):
            build()

    def test_the_smallest_thresholds_are_accepted(self, make_case: MakeCase) -> None:
        """Zero days, zero attempts and a one-year period are thresholds like any other."""
        assert dpd_at_least(0)(make_case(), ctx()) is None
        assert attempts_at_least(0)(make_case(), ctx()) is None
        sent = {"demand_letter": AT}
        assert notice_elapsed("demand_letter", 0)(make_case(notices=sent), ctx()) is None
        one_year = not_time_barred(1)
        assert one_year.name == "not_time_barred(1)"
        assert one_year(make_case(), ctx(datetime(2027, 8, 31, 15, 59, tzinfo=UTC))) is None
        assert one_year(make_case(), ctx(datetime(2027, 8, 31, 16, 0, tzinfo=UTC))) is not None


class TestActorRefusals:
    @pytest.mark.parametrize(
        ("staff_id", "roles", "message"),
        [
            ("", (), "actor.id: got '', expected a non-empty staff id"),
            (None, (), "actor.id: got None, expected a non-empty staff id"),
            ("x" * 129, (), "actor.id: got <129 characters>, expected at most 128 characters"),
            (
                "legal-1 ",
                (),
                "actor.id: got 'legal-1 ', expected a staff id without surrounding spaces,"
                " control or invisible characters",
            ),
            (
                "legal\u200b-1",
                (),
                "actor.id: got 'legal\\\\u200b-1', expected a staff id without surrounding"
                " spaces, control or invisible characters",
            ),
            (
                "legal-1",
                [f"role-{n}" for n in range(33)],
                "actor.roles: got 33, expected at most 32 roles",
            ),
            ("legal-1", [3], "actor.roles: got 'int', expected roles named by text"),
            (
                "legal-1",
                ["r" * 129],
                "actor.roles: got <129 characters>, expected at most 128 characters",
            ),
        ],
        ids=["empty", "none", "long-id", "space", "invisible", "33-roles", "int-role", "long-role"],
    )
    def test_the_field_the_value_and_what_was_expected(
        self, staff_id: object, roles: Sequence[object], message: str
    ) -> None:
        """A refused actor names the field and the value (escaped, or only its length)."""
        with pytest.raises(InvalidInput) as info:
            Actor(staff_id, frozenset(roles))  # type: ignore[arg-type]
        assert str(info.value) == message

    def test_the_longest_id_and_the_most_roles_are_accepted(self) -> None:
        """128 characters of id and 32 roles of 128 characters each are within the limits."""
        roles = frozenset(f"{n:03d}".ljust(128, "r") for n in range(32))
        actor = Actor("x" * 128, roles)
        assert (len(actor.id), len(actor.roles)) == (128, 32)

    def test_the_system_by_id(self) -> None:
        """An actor with the system's id is the system, whatever roles it is given."""
        assert Actor("system").is_system
        assert not Actor("System").is_system
        assert not Actor("systems", frozenset({"system"})).is_system
        assert Actor("legal-1").same_person(Actor("LEGAL-1"))
        assert not Actor("legal-1").same_person(Actor("legal-2"))


class TestPeopleGuards:
    def test_any_one_of_the_roles_will_do(self, make_case: MakeCase) -> None:
        """An actor or approver holding the second of two roles passes."""
        assert approved_by("supervisor", "legal_officer")(make_case(), ctx(actor=OFFICER)) is None
        check = second_approver("supervisor", "legal_officer")
        assert check(make_case(), ctx(actor=AGENT, approver=OFFICER)) is None

    def test_the_system_approves_nothing(self, make_case: MakeCase) -> None:
        """An approver with the system's id, in any case, is refused as no second person."""
        assert_fails(
            second_approver("supervisor"),
            make_case(),
            ctx(actor=OFFICER, approver=Actor("SYSTEM", frozenset({"supervisor"}))),
            "the system approves nothing; four eyes need two people",
            {"approver": "SYSTEM"},
        )


class TestHoldsAndNotices:
    def test_every_active_hold_is_named(self, make_case: MakeCase) -> None:
        """Two active holds of two kinds are both named, kinds sorted; an ended one is not."""
        holds = [
            hold(id="h1", kind="dispute"),
            hold(id="h2", kind="cease"),
            hold(id="h3", kind="hardship", started_at=AT - timedelta(days=10), ends_at=AT),
        ]
        assert_fails(
            no_active_hold(),
            make_case(holds=holds),
            ctx(),
            "active hold: cease, dispute",
            {"holds": ["h1", "h2"], "kinds": ["cease", "dispute"]},
        )

    def test_a_named_kind_in_force_refuses(self, make_case: MakeCase) -> None:
        """A guard for disputes and ceases is refused by an active dispute."""
        assert_fails(
            no_active_hold("cease", "dispute"),
            make_case(holds=[hold()]),
            ctx(),
            "active hold: dispute",
            {"holds": ["h1"], "kinds": ["dispute"]},
        )

    def test_a_second_short_of_the_period(self, make_case: MakeCase) -> None:
        """A second before 30 days have passed the notice has 29 whole days."""
        sent = AT - timedelta(days=30) + timedelta(seconds=1)
        failure = notice_elapsed("demand_letter", 30)(
            make_case(notices={"demand_letter": sent}), ctx()
        )
        assert failure is not None
        assert failure.values["elapsed_days"] == 29


@pytest.mark.parametrize(
    ("guard", "name"),
    [
        (lambda: notice_elapsed("validation", 30), "notice_elapsed('validation', 30)"),
        (lambda: second_approver("legal", "credit"), "second_approver(credit, legal)"),
        (lambda: approved_by("legal", "credit"), "approved_by(credit, legal)"),
        (lambda: no_active_hold("dispute", "bankruptcy"), "no_active_hold(bankruptcy, dispute)"),
    ],
)
def test_a_guard_prints_as_its_factory_call(guard: Any, name: str) -> None:
    """Refusals and the journal name a guard by its call, roles and kinds in sorted order."""
    made = guard()
    assert (repr(made), made.name) == (name, name)
