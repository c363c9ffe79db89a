"""The KPIs recomputed from the exported journal, following ``docs/kpis.md`` alone.

`Reference` reads the JSON Lines export (`Engine.export_journal`) with the
standard library only: it knows nothing of `arrears.kpi` and rebuilds each
case's balance from what each entry's data says it changed.  Hypothesis then
drives random journals through the public `Engine` API — payments, reversals,
reduction plans with waivers, settlements, waivers, write-offs, instalments
falling due, cases opened before and after their due date, contacts and
denials, promises — and checks that `kpis_from_journal` agrees on every KPI,
over the default window and over random ones.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears import (
    Actor,
    ApprovalDenied,
    ApprovalLimits,
    Engine,
    InvalidInput,
    Money,
    RepaymentPlan,
    SettableClock,
    TransitionDenied,
    instalment_schedule,
)
from arrears.compliance import Compliance
from arrears.kpi import DEFAULT_COSTS, Kpis, kpis_from_journal

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
DAY = timedelta(days=1)
PERIOD = timedelta(days=30)
OVERDUE = ("principal", "interest", "fees", "penalty")


# -- the reference: docs/kpis.md, read literally ---------------------------------------------


@dataclass
class State:
    """What a case owes at a moment, by component, with its due date and variant."""

    balance: dict[str, Decimal]
    due: date
    variant: str | None
    # what fell due, by date, in the order it fell due (the opening's arrears first)
    fell: list[tuple[date, Decimal]] = field(default_factory=list)

    def overdue(self) -> Decimal:
        return sum((self.balance[name] for name in OVERDUE), Decimal(0))

    def age(self) -> None:
        """The due date: the oldest date of what is owed, the last of what fell due by
        date (payments pay the oldest first); unchanged when nothing is owed."""
        owed = self.overdue()
        for day, amount in sorted(self.fell, key=lambda part: part[0], reverse=True):
            if owed <= 0:
                break
            self.due, owed = day, owed - amount


@dataclass
class Chain:
    """One case's exported entries, in order."""

    opened: datetime
    zone: ZoneInfo | None
    currency: str
    first: State
    entries: list[dict[str, Any]] = field(default_factory=list)

    def state_at(self, at: datetime) -> State:
        """The opening snapshot changed by every later entry recorded before *at*, and by
        every reversal recorded at or after *at*, each part of it from the moment that part
        came off, when that is before *at*."""
        first = self.first
        state = State(dict(first.balance), first.due, first.variant, list(first.fell))
        for entry in self.entries:
            if moment(entry) >= at:
                break
            change(state, entry["kind"], entry["data"])
        corrected = False
        for came_off, recorded, owed in backdated(self.entries):
            if came_off < at <= recorded:
                corrected = True
                for name, amount in owed.items():
                    state.balance[name] += amount
        if corrected:
            state.age()
        return state

    def days_past_due(self, state: State, at: datetime) -> int:
        if state.overdue() <= 0:
            return 0
        local = at.astimezone(self.zone) if self.zone else at
        return max(0, (local.date() - state.due).days)

    def label(self, state: State, at: datetime) -> str:
        if state.overdue() <= 0 and state.balance["not_due"] <= 0:
            return "paid"
        dpd = self.days_past_due(state, at)
        if dpd <= 0:
            return "M0"
        months = (dpd + 29) // 30
        return f"M{months}" if months <= 6 else "M7+"


def moment(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["at"])


def backdated(entries: list[dict[str, Any]]) -> list[tuple[datetime, datetime, dict[str, Decimal]]]:
    """What each reversal owes again, by the moment each part came off: ``(came off,
    reversal recorded, by component)``.  The reversed payment's ``applied`` from the
    payment; the credit it left that later ``credit_applied`` entries used, latest first,
    from those entries; the waiver of the reduction plan it re-opens, from the plan's
    completions since the payment (not those an earlier re-opening gave back already)."""
    by_seq = {entry["seq"]: entry for entry in entries}
    out: list[tuple[datetime, datetime, dict[str, Decimal]]] = []
    for index, entry in enumerate(entries):
        if entry["kind"] == "agreement_reopened":  # a completed reduction's waiver
            resolved = by_seq[entry["data"]["resolved_seq"]]
            owed = {k: Decimal(v) for k, v in entry["data"]["restored"].items()}
            if owed and moment(resolved) < moment(entry):
                out.append((moment(resolved), moment(entry), owed))
        if entry["kind"] != "payment_reversed":
            continue
        data, recorded = entry["data"], moment(entry)
        payment = by_seq[data["payment_seq"]]
        between = [item for item in entries[:index] if item["seq"] > payment["seq"]]
        parts = [(moment(payment), {k: Decimal(v) for k, v in payment["data"]["applied"].items()})]
        spent = Decimal(payment["data"]["credit"]) - Decimal(data["credit"])
        for item in reversed(between):
            if spent <= 0:
                break
            if item["kind"] == "credit_applied":
                part = {}
                for name, value in item["data"]["applied"].items():
                    part[name] = min(Decimal(value), spent)
                    spent -= part[name]
                parts.append((moment(item), part))
        plan = data.get("plan")
        if plan is not None and plan["status"] == "active":
            completions: list[tuple[datetime, dict[str, Decimal]]] = []
            for item in between:
                if reopens_plan(item, plan["id"]):  # its waivers are owed again already
                    completions = []
                elif item["kind"] == "plan_resolved" and item["data"]["plan_id"] == plan["id"]:
                    waived = {k: Decimal(v) for k, v in item["data"]["waived"].items()}
                    completions.append((moment(item), waived))
            parts.extend(completions)
        out.extend((came_off, recorded, owed) for came_off, owed in parts if came_off < recorded)
    return out


def reopens_plan(entry: dict[str, Any], plan_id: str) -> bool:
    """The entry makes plan *plan_id* active again."""
    data = entry["data"]
    if entry["kind"] == "payment_reversed":
        plan = data.get("plan")
        return plan is not None and plan["id"] == plan_id and plan["status"] == "active"
    return entry["kind"] == "agreement_reopened" and (data["agreement"], data["id"]) == (
        "plan",
        plan_id,
    )


def reversed_payments(entries: list[dict[str, Any]]) -> set[int]:
    """The seqs of the payments a later entry reversed."""
    return {e["data"]["payment_seq"] for e in entries if e["kind"] == "payment_reversed"}


def stands(entries: list[dict[str, Any]], index: int) -> bool:
    """The promise resolution at *index* is not undone later: not kept (only a kept one is
    undone), or kept and no reversal re-opened the promise before it was resolved again,
    no ``agreement_reopened`` names it."""
    resolved = entries[index]
    promise_id = resolved["data"]["promise_id"]
    if resolved["data"]["status"] != "kept":
        return True
    for later in entries[index + 1 :]:
        data = later["data"]
        if later["kind"] == "promise_resolved" and data["promise_id"] == promise_id:
            return True
        reopened = data.get("promise", {"id": None, "status": "kept"})
        if (
            later["kind"] == "payment_reversed"
            and reopened["id"] == promise_id
            and reopened["status"] != "kept"
        ):
            return False
        if later["kind"] == "agreement_reopened" and data["resolved_seq"] == resolved["seq"]:
            return False
    return True


def change(state: State, kind: str, data: dict[str, Any]) -> None:
    """What an entry's data says it changed on the balance (the journal's own record)."""
    balance = state.balance

    def take(amounts: dict[str, str]) -> None:
        for name, amount in amounts.items():
            balance[name] -= Decimal(amount)

    if kind == "payment":
        take(data["applied"])
        balance["credit"] += Decimal(data["credit"])
    elif kind == "payment_reversed":
        for name, amount in data["restored"].items():
            balance[name] += Decimal(amount)
        balance["credit"] -= Decimal(data["credit"])
    elif kind == "waiver":
        take(data["applied"])
    elif kind == "settlement":
        take(data["applied"])
        take(data["waived"])
    elif kind == "plan_resolved":
        take(data["waived"])
    elif kind == "credit_applied":
        take(data["applied"])
        balance["credit"] -= sum((Decimal(v) for v in data["applied"].values()), Decimal(0))
    elif kind == "accrual":
        balance["penalty"] += Decimal(data["penalty"])
        balance["fees"] += Decimal(data["fee"])
        charged = Decimal(data["penalty"]) + Decimal(data["fee"])
        state.fell.append((date.fromisoformat(data["through"]), charged))
    elif kind == "instalment_due":
        balance["not_due"] -= Decimal(data["amount"])
        balance["principal"] += Decimal(data["amount"])
        state.fell.append((date.fromisoformat(data["due"]), Decimal(data["amount"])))
    elif kind == "variant_assigned":
        state.variant = data["variant"]
    state.age()


@dataclass
class Figures:
    """Every KPI of one group, counted as the page says."""

    cases: int = 0
    past_due_cases: int = 0
    cured: int = 0
    past_due: Decimal = Decimal(0)
    collected: Decimal = Decimal(0)
    collected_past_due: Decimal = Decimal(0)
    contacts: int = 0
    calls_and_visits: int = 0
    right_party: int = 0
    promises: int = 0
    promises_resolved: int = 0
    promises_kept: int = 0
    cost: Decimal = Decimal(0)
    denied: int = 0
    denied_by_channel: Counter[str] = field(default_factory=Counter)
    citations: Counter[str] = field(default_factory=Counter)
    # per period: {"Mk→M(k+1)": (rolled, at start)}
    rolls: list[dict[str, tuple[int, int]]] = field(default_factory=list)
    pooled: dict[str, tuple[int, int]] = field(default_factory=dict)
    # per case past due at entry: (amount past due at entry, collected in the window)
    recovery_cases: list[tuple[Decimal, Decimal]] = field(default_factory=list)


STATES = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")


def read_export(text: str) -> dict[str, Chain]:
    """The chains of a JSON Lines export, by case."""
    chains: dict[str, Chain] = {}
    for line in text.splitlines():
        entry = json.loads(line)
        case_id = entry.get("case_id")
        if entry.get("kind") == "opened":
            case = json.loads(entry["data"]["case"])
            zone = case["debtor"].get("timezone")
            balance = {
                name: Decimal(value)
                for name, value in case["balance"].items()
                if name != "currency"
            }
            chains[case_id] = Chain(
                opened=moment(entry),
                zone=ZoneInfo(zone) if zone else None,
                currency=case["balance"]["currency"],
                first=State(
                    balance,
                    date.fromisoformat(case["due_date"]),
                    case.get("variant"),
                    [(date.fromisoformat(day), Decimal(amount)) for day, amount in case["aging"]],
                ),
            )
        elif case_id in chains:
            chains[case_id].entries.append(entry)
    return chains


def default_window(text: str, chains: dict[str, Chain]) -> tuple[datetime, datetime]:
    """From the first opening, the fewest whole days that take in the last entry."""
    first = min(chain.opened for chain in chains.values())
    last = max(moment(json.loads(line)) for line in text.splitlines() if '"case_id"' in line)
    days = 1
    while first + days * DAY <= last:
        days += 1
    return first, first + days * DAY


def reference(
    chains: dict[str, Chain], start: datetime, end: datetime
) -> tuple[Figures, dict[str, Figures]]:
    """Every KPI over the window [start, end): all cases, and each variant."""
    periods: list[tuple[datetime, datetime]] = []
    at = start
    while at < end:
        periods.append((at, min(at + PERIOD, end)))
        at += PERIOD
    inside = [chain for chain in chains.values() if chain.opened < end]
    currencies = Counter(chain.currency for chain in inside).most_common(1)
    currency = currencies[0][0] if currencies else None
    overall = Figures(rolls=[{} for _ in periods])
    variants: dict[str, Figures] = {}
    for chain in inside:
        final = chain.state_at(end)
        groups = [overall]
        if final.variant is not None:
            groups.append(variants.setdefault(final.variant, Figures(rolls=[{} for _ in periods])))
        entry = max(start, chain.opened)
        at_entry = chain.state_at(entry)
        in_cohort = chain.days_past_due(at_entry, entry) >= 1
        cured = in_cohort and chain.days_past_due(final, end) == 0
        money = chain.currency == currency
        for figures in groups:
            figures.cases += 1
            figures.past_due_cases += in_cohort
            figures.cured += cured
            if in_cohort and money:
                figures.past_due += at_entry.overdue()
        undone = reversed_payments(chain.entries)
        recovered = Decimal(0)
        for position, item in enumerate(chain.entries):
            kind, data = item["kind"], item["data"]
            if not start <= moment(item) < end:
                continue
            amount = None
            if kind == "settlement" or (kind == "payment" and item["seq"] not in undone):
                amount = Decimal(data["amount"])
            if amount is not None and money and in_cohort:
                recovered += amount
            for figures in groups:
                if amount is not None and money:
                    figures.collected += amount
                    if in_cohort:
                        figures.collected_past_due += amount
                if kind == "interaction" and data["outcome"] != "reply":
                    figures.contacts += 1
                    figures.cost += DEFAULT_COSTS.get(data["channel"], Decimal(0))
                    if data["channel"] in ("call", "visit"):
                        figures.calls_and_visits += 1
                        figures.right_party += (
                            data["outcome"] == "conversation" and data.get("party") == "debtor"
                        )
                elif kind == "contact_denied":
                    figures.denied += 1
                    figures.denied_by_channel[data["channel"]] += 1
                    figures.citations.update({reason["rule"] for reason in data["reasons"]})
                elif kind == "promise_made":
                    figures.promises += 1
                elif kind == "promise_resolved" and stands(chain.entries, position):
                    figures.promises_resolved += 1
                    figures.promises_kept += data["status"] == "kept"
        if in_cohort and money:
            for figures in groups:
                figures.recovery_cases.append((at_entry.overdue(), recovered))
        for index, (begin, finish) in enumerate(periods):
            if chain.opened > begin:
                continue
            source = chain.label(chain.state_at(begin), begin)
            if source == "paid" or source == "M7+":
                continue
            dest = chain.label(chain.state_at(finish), finish)
            rolled = dest != "paid" and STATES.index(dest) > STATES.index(source)
            name = f"{source}→{STATES[STATES.index(source) + 1]}"
            for figures in groups:
                done, total = figures.rolls[index].get(name, (0, 0))
                figures.rolls[index][name] = (done + rolled, total + 1)
                if finish - begin == PERIOD:
                    done, total = figures.pooled.get(name, (0, 0))
                    figures.pooled[name] = (done + rolled, total + 1)
    return overall, variants


def agree(figures: Figures, kpis: Kpis) -> None:
    """Every KPI of `arrears.kpi` equals the reference's."""
    assert (kpis.cases, kpis.past_due_cases, kpis.cured) == (
        figures.cases,
        figures.past_due_cases,
        figures.cured,
    )
    assert kpis.past_due == figures.past_due
    assert kpis.collected == figures.collected
    assert kpis.collected_past_due == figures.collected_past_due
    assert (kpis.contacts, kpis.agent_contacts, kpis.right_party) == (
        figures.contacts,
        figures.calls_and_visits,
        figures.right_party,
    )
    assert (kpis.promises, kpis.promises_resolved, kpis.promises_kept) == (
        figures.promises,
        figures.promises_resolved,
        figures.promises_kept,
    )
    assert kpis.cost == figures.cost
    assert kpis.denied == figures.denied
    assert kpis.denied_by_channel == figures.denied_by_channel
    assert kpis.blocked_by == figures.citations
    for index, rolls in enumerate(figures.rolls):
        assert kpis.roll_counts(index + 1) == rolls
    assert kpis.roll_counts() == figures.pooled
    ratio = figures.cured / figures.past_due_cases if figures.past_due_cases else None
    assert kpis.cure_rate == ratio
    if figures.past_due:
        assert kpis.recovery_rate == float(figures.collected_past_due) / float(figures.past_due)
    # the denial rate: denied over proposed (made or denied), every channel
    proposed = figures.contacts + figures.denied
    assert kpis.proposed == proposed
    assert kpis.denial_rate == (figures.denied / proposed if proposed else None)
    # what the recovery rate's bootstrap draws from: one pair per case in the cohort
    assert sorted(kpis.recovery_cases) == sorted(figures.recovery_cases)
    assert sum(owed for owed, _ in kpis.recovery_cases) == figures.past_due


# -- random journals through the public Engine API ------------------------------------------

AGENT = Actor("agent-7", frozenset({"agent"}))
SUPERVISOR = Actor("sup-3", frozenset({"supervisor"}))
RISK = Actor("risk-9", frozenset({"risk_officer"}))
LIMITS = ApprovalLimits(
    limits={"agent": Money("500.00", "CNY"), "supervisor": Money("5000.00", "CNY")}
)


def fen(units: int) -> Money:
    return Money(Decimal(units).scaleb(-2), "CNY")


STEP = st.one_of(
    st.tuples(st.just("wait"), st.integers(1, 24 * 12)),  # hours
    st.tuples(st.just("pay"), st.integers(1, 300_000)),
    st.tuples(st.just("reverse"), st.integers(0, 9)),
    st.tuples(st.just("waive"), st.integers(1, 60_000)),
    st.tuples(st.just("settle"), st.integers(1, 99)),
    st.tuples(st.just("promise"), st.integers(1, 300_000)),
    st.tuples(st.just("keep"), st.just(0)),
    st.tuples(st.just("plan"), st.integers(1, 99)),
    st.tuples(st.just("plan_pay"), st.just(0)),
    st.tuples(st.just("fall_due"), st.integers(1, 100_000)),
    st.tuples(st.just("review"), st.just(0)),
    st.tuples(st.just("call"), st.integers(0, 3)),
    st.tuples(st.just("sms"), st.just(0)),
    st.tuples(st.just("write_off"), st.just(0)),
    st.tuples(st.just("night_call"), st.just(0)),
    st.tuples(st.just("plan_completed"), st.integers(1, 99)),
)
CASE = st.tuples(
    st.integers(-20, 120),  # days past due at opening (negative: not yet due)
    st.integers(0, 40),  # opened this many days after the start
    st.sampled_from(["champion", "challenger", None]),
    st.booleans(),  # with agreement terms (penalty interest and a late fee)
    st.lists(STEP, max_size=12),
)
OUTCOMES = ("no_answer", "conversation", "wrong_party", "busy")


class Story:
    """Cases driven through the public Engine API, on one clock."""

    def __init__(self) -> None:
        self.clock = SettableClock(START)
        self.engine = Engine(compliance=Compliance(["CN"]), clock=self.clock)
        self.engine.approval_limits = LIMITS
        self.references: dict[str, list[str]] = {}
        self.payments = 0

    def open(self, index: int, dpd: int, variant: str | None, terms: bool) -> str:
        today = self.clock.now().astimezone(SHANGHAI).date()
        due = today - timedelta(days=dpd)
        balance: dict[str, str] = {"currency": "CNY", "not_due": "1000.00"}
        if dpd > 0 or dpd % 2 == 0:  # past due; or due, not yet past due (M0 with arrears)
            balance["principal"] = "3500.00"
        else:  # not yet due: the instalment falls due later (fall_due)
            balance["not_due"] = "4500.00"
        record: dict[str, Any] = {
            "id": f"LN-{index}",
            "debtor": {"id": f"D-{index}", "timezone": "Asia/Shanghai"},
            "contacts": [{"id": "mobile", "channel": "call", "address": "+8613812345678"}],
            "balance": balance,
            "due_date": due.isoformat(),
            "stage": "phone" if dpd > 0 else "pre_due",
        }
        if variant is not None:
            record["variant"] = variant
        if terms:
            record["terms"] = {
                "penalty_rate": "0.0005",
                "late_fee": {"amount": "50.00", "currency": "CNY"},
            }
        case_id = self.engine.open_case(record).id
        for kind in ("proof_of_income", "bank_statement"):
            self.engine.record_document(case_id, kind)
        self.references[case_id] = []
        return case_id

    def today(self, case_id: str) -> date:
        return self.engine.case(case_id).local_date(self.clock.now())

    def pay(self, case_id: str, amount: Money) -> None:
        if amount.is_zero:
            return
        self.payments += 1
        reference = f"PAY-{self.payments}"
        with contextlib.suppress(InvalidInput):
            self.engine.record_payment(case_id, amount, reference=reference)
            self.references[case_id].append(reference)

    def plan(self, case_id: str, waived_pct: int) -> None:
        arrears = self.engine.arrears_at(case_id)
        waived = (arrears.amount * waived_pct / 100).quantize(Decimal("0.01"))
        rest = arrears.amount - waived
        if not waived or rest <= 0:
            return
        plan = RepaymentPlan(
            id=f"PLAN-{len(self.engine.history(case_id))}",
            kind="reduction",
            instalments=instalment_schedule(Money(rest, "CNY"), self.today(case_id) + DAY, count=2),
            waived=waived,
        )
        with contextlib.suppress(InvalidInput, TransitionDenied):
            self.engine.start_plan(case_id, plan, actor=AGENT)

    def step(self, case_id: str, kind: str, value: int) -> None:
        engine = self.engine
        with contextlib.suppress(InvalidInput, TransitionDenied, ApprovalDenied):
            if kind == "wait":
                self.clock.advance(hours=value)
            elif kind == "pay":
                self.pay(case_id, fen(value))
            elif kind == "reverse":
                references = self.references[case_id]
                if references:
                    engine.reverse_payment(case_id, references.pop(value % len(references)))
            elif kind == "waive":
                engine.waive(case_id, fen(value), actor=AGENT)
            elif kind == "settle":
                owed = engine.case(case_id).balance.outstanding.amount
                amount = (owed * value / 100).quantize(Decimal("0.01"))
                if amount:
                    engine.settle(case_id, Money(amount, "CNY"), actor=SUPERVISOR, approver=RISK)
            elif kind == "promise":
                outstanding = engine.case(case_id).balance.outstanding
                amount = min(fen(value), outstanding)
                if not amount.is_zero:
                    engine.record_promise(case_id, amount, self.today(case_id) + 3 * DAY)
            elif kind == "keep":
                promise = engine.case(case_id).promise
                if promise is not None and promise.is_open:
                    self.pay(case_id, promise.remaining)
            elif kind == "plan":
                self.plan(case_id, value)
            elif kind == "plan_pay":
                plan = engine.case(case_id).plan
                if plan is not None and plan.is_active:
                    for index in range(len(plan.instalments)):
                        owed = plan.due_through(index).amount - plan.paid
                        if owed > 0:
                            self.pay(case_id, Money(owed, "CNY"))
                            break
            elif kind == "fall_due":
                case = engine.case(case_id)
                falling = min(fen(value).amount, case.balance.not_due)
                # In date order, as instalments fall due: the reference ages by amount, so
                # it agrees with the engine's aging only then (docs/payments.md); a case
                # opened with arrears dated ahead of today has its next instalment after.
                due = max([self.today(case_id), *(day for day, _ in case.aging or ())])
                if falling:
                    engine.fall_due(case_id, Money(falling, "CNY"), due=due)
            elif kind == "review":
                engine.review_promises(case_id)
                engine.review_plan(case_id)
            elif kind == "call":
                proposal = {"channel": "call", "contact": "mobile"}
                if engine.judge_contact(case_id, proposal, actor=AGENT).allowed:
                    engine.record_interaction(
                        case_id, "call", OUTCOMES[value], contact="mobile", actor=AGENT
                    )
            elif kind == "sms":
                engine.record_interaction(
                    case_id, "sms", "delivered", contact="mobile", automated=True
                )
            elif kind == "write_off":
                engine.fire(case_id, "write_off", actor=SUPERVISOR, approver=RISK)
            elif kind == "night_call":  # after 22:00 in Shanghai: the CN pack denies it
                local = self.clock.now().astimezone(SHANGHAI)
                late = local.replace(hour=23, minute=0, second=0, microsecond=0)
                self.clock.set(late if late > local else late + DAY)
                engine.judge_contact(case_id, {"channel": "call", "contact": "mobile"}, actor=AGENT)
            elif kind == "plan_completed":  # a reduction plan paid in full: its waiver applies
                self.plan(case_id, value)
                for _ in range(2):
                    self.step(case_id, "plan_pay", 0)


def export(engine: Engine) -> str:
    out = io.StringIO()
    engine.export_journal(out)
    return out.getvalue()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases=st.lists(CASE, min_size=1, max_size=4),
    window=st.one_of(st.none(), st.tuples(st.integers(0, 24 * 50), st.integers(1, 24 * 90))),
)
def test_the_kpis_agree_with_a_reference_written_from_the_definitions(
    cases: list[tuple[int, int, str | None, bool, list[tuple[str, int]]]],
    window: tuple[int, int] | None,
) -> None:
    story = Story()
    opened: list[tuple[str, list[tuple[str, int]]]] = []
    for index, (dpd, delay, variant, terms, steps) in enumerate(
        sorted(cases, key=lambda case: case[1])
    ):
        story.clock.set(max(story.clock.now(), START + delay * DAY))
        opened.append((story.open(index, dpd, variant, terms), steps))
    for position in range(max(len(steps) for _, steps in opened)):
        for case_id, steps in opened:
            if position < len(steps):
                story.step(case_id, *steps[position])
    text = export(story.engine)
    chains = read_export(text)
    if window is None:
        start, end = default_window(text, chains)
        report = kpis_from_journal(story.engine.store.chains())
        assert (report.start, report.end) == (start, end)
    else:
        start = START + timedelta(hours=window[0])
        end = start + timedelta(hours=window[1])
        report = kpis_from_journal(story.engine.store.chains(), start=start, end=end)
    assert len(report.periods) == -(-(end - start) // PERIOD)
    overall, variants = reference(chains, start, end)
    agree(overall, report.overall)
    assert sorted(report.variants) == sorted(variants)
    for name, figures in variants.items():
        agree(figures, report.variants[name])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=st.lists(CASE, min_size=1, max_size=3), cut=st.integers(1, 24 * 60))
def test_what_a_reversal_undid_counts_in_no_window(
    cases: list[tuple[int, int, str | None, bool, list[tuple[str, int]]]], cut: int
) -> None:
    """Two windows back to back: the money of each is never below zero and adds up to the
    whole's; each promise counts as resolved at most once, in one of them or neither."""
    story = Story()
    opened: list[tuple[str, list[tuple[str, int]]]] = []
    for index, (dpd, delay, variant, terms, steps) in enumerate(
        sorted(cases, key=lambda case: case[1])
    ):
        story.clock.set(max(story.clock.now(), START + delay * DAY))
        opened.append((story.open(index, dpd, variant, terms), steps))
    for position in range(max(len(steps) for _, steps in opened)):
        for case_id, steps in opened:
            if position < len(steps):
                story.step(case_id, *steps[position])
    chains = list(story.engine.store.chains())
    whole = kpis_from_journal(chains)
    middle = min(whole.start + timedelta(hours=cut), whole.end - timedelta(hours=1))
    first = kpis_from_journal(chains, start=whole.start, end=middle).overall
    second = kpis_from_journal(chains, start=middle, end=whole.end).overall
    assert first.collected >= 0
    assert second.collected >= 0
    assert all(amount >= 0 for amount in (*first.collected_by_day, *second.collected_by_day))
    assert first.collected + second.collected == whole.overall.collected
    resolved = first.promises_resolved + second.promises_resolved
    assert resolved == whole.overall.promises_resolved <= whole.overall.promises
    assert first.promises_kept + second.promises_kept == whole.overall.promises_kept
