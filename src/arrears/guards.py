"""Guards: small, named checks that a transition must pass.

Each factory returns a slotted, printable guard object; calling it with a case
and a `GuardContext` returns ``None`` when the check passes or a `GuardFailure`
that names the guard and the values it compared::

    >>> dpd_at_least(90)
    dpd_at_least(90)

A refused trigger lists *every* failed guard, not only the first, so a
reviewer sees in one go why a case may not go to court yet.

Write your own with `guard`::

    @guard("not_vip")
    def not_vip(case, ctx):
        if case.id.startswith("VIP"):
            return "VIP accounts are handled by hand", {"case_id": case.id}
        return None
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from dateutil.relativedelta import relativedelta

from .case import Case, HoldKind
from .errors import GuardFailure, InvalidInput
from .limits import ACTOR_ID, ROLES, SHORT_TEXT, check_text
from .money import Money
from .plans import PlanStatus, PromiseStatus

if TYPE_CHECKING:
    from .journal import JournalEntry

__all__ = [
    "SYSTEM",
    "Actor",
    "Guard",
    "GuardContext",
    "GuardFailure",
    "active_plan",
    "approved_by",
    "arrears_cleared",
    "attempts_at_least",
    "balance_at_least",
    "broken_plan",
    "broken_promise",
    "completed_plan",
    "dpd_at_least",
    "guard",
    "kept_promise",
    "no_active_hold",
    "not_time_barred",
    "notice_elapsed",
    "open_promise",
    "paid_in_full",
    "second_approver",
]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who fires a trigger: a person with roles, or the system itself.

    The id is kept in Unicode NFKC form and may hold no control or invisible
    (format) character and no space before or after it, so ``'legal-3 '``
    and ``'legal\u200b-3'`` are refused rather than taken for a second person
    beside ``'legal-3'``; `same_person` compares ids without regard to case.

    Attributes:
        id: A staff id (not personal data such as a name).
        roles: The roles the actor holds, e.g. ``{"agent"}`` or ``{"legal_officer"}``.
    """

    id: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        staff_id = self.id
        if not isinstance(staff_id, str) or not staff_id:
            raise InvalidInput("actor.id", staff_id, "a non-empty staff id")
        check_text("actor.id", staff_id, ACTOR_ID)
        if staff_id != staff_id.strip() or any(
            unicodedata.category(char).startswith("C") for char in staff_id
        ):
            raise InvalidInput(
                "actor.id",
                staff_id.encode("unicode_escape").decode("ascii"),
                "a staff id without surrounding spaces, control or invisible characters",
            )
        normal = unicodedata.normalize("NFKC", staff_id)
        if normal != staff_id:
            object.__setattr__(self, "id", normal)
        if not isinstance(self.roles, frozenset):
            object.__setattr__(self, "roles", frozenset(self.roles))
        if len(self.roles) > ROLES:
            raise InvalidInput("actor.roles", len(self.roles), f"at most {ROLES} roles")
        for role in self.roles:
            if not isinstance(role, str):
                raise InvalidInput("actor.roles", type(role).__name__, "roles named by text")
            check_text("actor.roles", role, SHORT_TEXT)

    def same_person(self, other: Actor) -> bool:
        """Whether *other* is this actor: the same id, without regard to case (four eyes)."""
        return self.id.casefold() == other.id.casefold()

    @property
    def is_system(self) -> bool:
        """True for the engine acting on its own (ticks, cures)."""
        return self is SYSTEM or self.id == SYSTEM.id

    def to_json(self) -> dict[str, Any]:
        """The journal form: id and sorted roles."""
        return {"id": self.id, "roles": sorted(self.roles)}


#: The engine acting on its own: automatic escalation, cure on payment.
SYSTEM = Actor("system", frozenset({"system"}))


@dataclass(slots=True)
class GuardContext:
    """What a guard may look at besides the case.

    Attributes:
        at: The moment the trigger is judged.
        trigger: The trigger being fired.
        actor: Who fires it (`SYSTEM` for the engine).
        approver: A second person approving it, for four-eyes rules.
        history: Returns the case's journal entries, oldest first (loaded only
            when a guard asks).
        failures: Filled in while guards run.
    """

    at: datetime
    trigger: str
    actor: Actor = SYSTEM
    approver: Actor | None = None
    history: Callable[[], Sequence[JournalEntry]] = tuple
    failures: list[GuardFailure] = field(default_factory=list)


@runtime_checkable
class Guard(Protocol):
    """A named check on a transition: ``None`` to pass, a `GuardFailure` to refuse."""

    name: str

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        """Judge *case* in *ctx*."""
        ...


class _Guard:
    """Shared plumbing: a guard prints as its name."""

    __slots__ = ("name",)
    name: str

    def __repr__(self) -> str:
        return self.name

    def fail(self, reason: str, **values: Any) -> GuardFailure:
        return GuardFailure(self.name, reason, values)


class _DpdAtLeast(_Guard):
    __slots__ = ("days",)

    def __init__(self, days: int) -> None:
        self.days = days
        self.name = f"dpd_at_least({days})"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        dpd = case.days_past_due(ctx.at)
        if dpd >= self.days:
            return None
        return self.fail(f"dpd is {dpd}, needs at least {self.days}", dpd=dpd, minimum=self.days)


def dpd_at_least(days: int) -> Guard:
    """Passes when the case is at least *days* past due."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidInput("days", days, "a whole number of days, zero or more")
    return _DpdAtLeast(days)


class _BalanceAtLeast(_Guard):
    __slots__ = ("minimum",)

    def __init__(self, minimum: Money) -> None:
        self.minimum = minimum
        self.name = f"balance_at_least({minimum})"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        arrears = case.arrears
        if arrears.currency != self.minimum.currency:
            return self.fail(
                f"the case is in {arrears.currency}, the threshold in {self.minimum.currency}",
                currency=arrears.currency,
                threshold_currency=self.minimum.currency,
            )
        if arrears >= self.minimum:
            return None
        return self.fail(
            f"arrears are {arrears}, needs at least {self.minimum}",
            arrears=str(arrears.amount),
            minimum=str(self.minimum.amount),
            currency=arrears.currency,
        )


def balance_at_least(minimum: Money) -> Guard:
    """Passes when the overdue amount is at least *minimum* (same currency)."""
    if not isinstance(minimum, Money):
        raise InvalidInput("minimum", minimum, "Money, e.g. Money('1000', 'CNY')")
    return _BalanceAtLeast(minimum)


class _NoActiveHold(_Guard):
    __slots__ = ("kinds",)

    def __init__(self, kinds: frozenset[HoldKind]) -> None:
        self.kinds = kinds
        shown = ", ".join(sorted(kinds)) if kinds else ""
        self.name = f"no_active_hold({shown})"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        if not case.holds:
            return None
        active = [
            hold
            for hold in case.holds
            if hold.active_at(ctx.at) and (not self.kinds or hold.kind in self.kinds)
        ]
        if not active:
            return None
        kinds = sorted({str(hold.kind) for hold in active})
        return self.fail(
            f"active hold: {', '.join(kinds)}", holds=[hold.id for hold in active], kinds=kinds
        )


def no_active_hold(*kinds: HoldKind | str) -> Guard:
    """Passes when no hold (or none of the given kinds) is in force."""
    try:
        chosen = frozenset(HoldKind(kind) for kind in kinds)
    except ValueError:
        expected = f"hold kinds among {[k.value for k in HoldKind]}"
        raise InvalidInput("kinds", list(kinds), expected) from None
    return _NoActiveHold(chosen)


class _ApprovedBy(_Guard):
    __slots__ = ("roles",)

    def __init__(self, roles: frozenset[str]) -> None:
        self.roles = roles
        self.name = f"approved_by({', '.join(sorted(roles))})"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        if ctx.actor.roles & self.roles:
            return None
        return self.fail(
            f"actor {ctx.actor.id!r} has roles {sorted(ctx.actor.roles)}, "
            f"needs one of {sorted(self.roles)}",
            actor=ctx.actor.id,
            actor_roles=sorted(ctx.actor.roles),
            required=sorted(self.roles),
        )


def approved_by(*roles: str) -> Guard:
    """Passes when the actor firing the trigger holds one of *roles*."""
    if not roles or not all(isinstance(role, str) and role.strip() for role in roles):
        raise InvalidInput("roles", list(roles), "one or more role names, none blank")
    return _ApprovedBy(frozenset(roles))


class _SecondApprover(_Guard):
    __slots__ = ("roles",)

    def __init__(self, roles: frozenset[str]) -> None:
        self.roles = roles
        self.name = f"second_approver({', '.join(sorted(roles))})"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        approver = ctx.approver
        if approver is None:
            return self.fail(
                f"needs a second approver with one of {sorted(self.roles)}, none given",
                approver=None,
                required=sorted(self.roles),
            )
        if approver.same_person(ctx.actor):
            return self.fail(
                f"approver {approver.id!r} is the actor; four eyes need two people",
                approver=approver.id,
                actor=ctx.actor.id,
            )
        if approver.same_person(SYSTEM):
            return self.fail(
                "the system approves nothing; four eyes need two people",
                approver=approver.id,
            )
        if not approver.roles & self.roles:
            return self.fail(
                f"approver {approver.id!r} has roles {sorted(approver.roles)}, "
                f"needs one of {sorted(self.roles)}",
                approver=approver.id,
                approver_roles=sorted(approver.roles),
                required=sorted(self.roles),
            )
        return None


def second_approver(*roles: str) -> Guard:
    """Four eyes: passes when a second person, not the actor, with one of *roles* approves."""
    if not roles or not all(isinstance(role, str) and role.strip() for role in roles):
        raise InvalidInput("roles", list(roles), "one or more role names, none blank")
    return _SecondApprover(frozenset(roles))


class _NoticeElapsed(_Guard):
    __slots__ = ("days", "kind")

    def __init__(self, kind: str, days: int) -> None:
        self.kind = kind
        self.days = days
        self.name = f"notice_elapsed({kind!r}, {days})"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        sent = case.notices.get(self.kind)
        if sent is None:
            return self.fail(f"no {self.kind!r} notice was sent", notice=self.kind, sent_at=None)
        elapsed = ctx.at - sent
        if elapsed >= timedelta(days=self.days):
            return None
        return self.fail(
            f"{self.kind!r} notice sent {elapsed.days} days ago, needs {self.days}",
            notice=self.kind,
            sent_at=sent.isoformat(),
            elapsed_days=elapsed.days,
            minimum=self.days,
        )


def notice_elapsed(kind: str, days: int) -> Guard:
    """Passes when a notice of *kind* was sent at least *days* days ago."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidInput("days", days, "a whole number of days, zero or more")
    if not isinstance(kind, str) or not kind.isidentifier():
        raise InvalidInput("kind", kind, "a notice kind such as 'demand_letter'")
    return _NoticeElapsed(kind, days)


class _NotTimeBarred(_Guard):
    __slots__ = ("years",)

    def __init__(self, years: int) -> None:
        self.years = years
        self.name = f"not_time_barred({years})"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        barred_on = case.due_date + relativedelta(years=self.years)
        today = case.local_date(ctx.at)
        if today < barred_on:
            return None
        return self.fail(
            f"time-barred since {barred_on.isoformat()} ({self.years} years after the due date)",
            due_date=case.due_date.isoformat(),
            barred_on=barred_on.isoformat(),
            today=today.isoformat(),
        )


def not_time_barred(years: int) -> Guard:
    """Passes while fewer than *years* years have passed since the due date.

    The limitation period is the jurisdiction's (e.g. 3 years in China's Civil
    Code art. 188; 3-6 years by US state); it is a parameter, never assumed.
    """
    if isinstance(years, bool) or not isinstance(years, int) or years <= 0:
        raise InvalidInput("years", years, "a whole number of years, more than zero")
    return _NotTimeBarred(years)


class _AttemptsAtLeast(_Guard):
    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count
        self.name = f"attempts_at_least({count})"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        made = sum(1 for entry in ctx.history() if entry.kind == "interaction")
        if made >= self.count:
            return None
        return self.fail(
            f"{made} contact attempts recorded, needs at least {self.count}",
            attempts=made,
            minimum=self.count,
        )


def attempts_at_least(count: int) -> Guard:
    """Passes when at least *count* contact attempts are in the case's journal."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidInput("count", count, "a whole number, zero or more")
    return _AttemptsAtLeast(count)


class _ArrearsCleared(_Guard):
    __slots__ = ()

    def __init__(self) -> None:
        self.name = "arrears_cleared()"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        arrears = case.arrears
        if arrears.is_zero:
            return None
        return self.fail(
            f"{arrears} still overdue", arrears=str(arrears.amount), currency=arrears.currency
        )


def arrears_cleared() -> Guard:
    """Passes when nothing is overdue any more."""
    return _ArrearsCleared()


class _PaidInFull(_Guard):
    __slots__ = ()

    def __init__(self) -> None:
        self.name = "paid_in_full()"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        outstanding = case.balance.outstanding
        if outstanding.is_zero:
            return None
        return self.fail(
            f"{outstanding} still owed",
            outstanding=str(outstanding.amount),
            currency=outstanding.currency,
        )


def paid_in_full() -> Guard:
    """Passes when nothing is owed at all, due or not."""
    return _PaidInFull()


class _OpenPromise(_Guard):
    __slots__ = ()

    def __init__(self) -> None:
        self.name = "open_promise()"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        promise = case.promise
        if promise is not None and promise.is_open:
            return None
        if promise is None:
            return self.fail(
                "no promise to pay is recorded; record one (record_promise), which moves the case",
                promise=None,
                status=None,
            )
        return self.fail(
            f"promise {promise.id!r} is {promise.status}, not open; record a new one "
            "(record_promise), which moves the case",
            promise=promise.id,
            status=str(promise.status),
        )


def open_promise() -> Guard:
    """Passes when the case holds an open promise to pay.

    The ``promise`` stage runs on one: its reviews keep or break it, and
    that moves the case on (``promise_kept``, ``promise_broken``).  Entered
    without one, nothing would ever move it.
    """
    return _OpenPromise()


class _AgreementIn(_Guard):
    """The case's promise or plan (*key*) in one of *statuses*."""

    __slots__ = ("key", "statuses", "what")

    def __init__(self, name: str, key: str, statuses: tuple[str, ...]) -> None:
        self.name = name
        self.key = key
        self.statuses = statuses
        self.what = "promise to pay" if key == "promise" else "repayment plan"

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        held = case.promise if self.key == "promise" else case.plan
        if held is not None and held.status in self.statuses:
            return None
        required = " or ".join(self.statuses)
        if held is None:
            reason = f"no {self.what} is recorded, needs one {required}"
            return self.fail(reason, **{self.key: None}, status=None, required=required)
        return self.fail(
            f"{self.what.removesuffix(' to pay')} {held.id!r} is {held.status}, "
            f"needs one {required}",
            **{self.key: held.id},
            status=str(held.status),
            required=required,
        )


def kept_promise() -> Guard:
    """Passes when the case's promise to pay is recorded kept: ``promise_kept`` asks for it,
    which the payment or review that keeps the promise fires once it records so."""
    return _AgreementIn("kept_promise()", "promise", (PromiseStatus.KEPT,))


def broken_promise() -> Guard:
    """Passes when the case's promise to pay is recorded broken or partly kept:
    ``promise_broken`` asks for it, which the review that finds it short fires."""
    statuses = (PromiseStatus.BROKEN, PromiseStatus.PARTLY_KEPT)
    return _AgreementIn("broken_promise()", "promise", statuses)


def active_plan() -> Guard:
    """Passes when the case holds an active repayment plan.

    The ``repayment_plan`` stage runs on one: its reviews complete or break
    it, and that moves the case on (``plan_completed``, ``plan_broken``).
    Entered without one, nothing would ever move it; `Engine.start_plan`
    records the plan and fires ``offer_plan`` together.
    """
    return _AgreementIn("active_plan()", "plan", (PlanStatus.ACTIVE,))


def completed_plan() -> Guard:
    """Passes when the case's repayment plan is completed (every instalment paid): every
    ``plan_completed`` edge asks for it, which the payment or review that completes the
    plan fires once it records so."""
    return _AgreementIn("completed_plan()", "plan", (PlanStatus.COMPLETED,))


def broken_plan() -> Guard:
    """Passes when the case's repayment plan is recorded broken: ``plan_broken`` asks for
    it, which the review that finds an instalment short fires."""
    return _AgreementIn("broken_plan()", "plan", (PlanStatus.BROKEN,))


GuardResult = tuple[str, Mapping[str, Any]] | None


class _FunctionGuard(_Guard):
    __slots__ = ("func",)

    def __init__(self, name: str, func: Callable[[Case, GuardContext], GuardResult]) -> None:
        self.name = name
        self.func = func

    def __call__(self, case: Case, ctx: GuardContext) -> GuardFailure | None:
        result = self.func(case, ctx)
        if result is None:
            return None
        reason, values = result
        return GuardFailure(self.name, reason, dict(values))


def guard(name: str) -> Callable[[Callable[[Case, GuardContext], GuardResult]], Guard]:
    """Turn a function into a named guard.

    The function returns ``None`` to pass, or ``(reason, values)`` to refuse.
    """
    if not isinstance(name, str) or not name:
        raise InvalidInput("name", name, "a non-empty guard name")

    def wrap(func: Callable[[Case, GuardContext], GuardResult]) -> Guard:
        return _FunctionGuard(name, func)

    return wrap
