"""Collection KPIs, read from the journal alone.

    >>> report = kpis_from_journal(engine.store.chains())   # doctest: +SKIP
    >>> print(report.table())                                # doctest: +SKIP

Every figure is computed from journal entries (the evidence), never from the
cases' current state, so the same figures come out of a live store, a
simulation, or a JSON Lines export read back with `arrears.journal.read_jsonl`.

What each KPI means (``docs/simulation.md`` has the same list):

cure rate
    Cases overdue when opened whose arrears were all paid by the end.
roll rates
    For every 30-day period of the run (or the whole run when shorter): of the
    cases in bucket Mk at its start, the share in M(k+1) at its end.
    ``M0`` is not yet due; ``paid`` means nothing is overdue any more.
right-party contact rate
    Calls and visits that reached the debtor (``conversation``), over all
    calls and visits made.
promise-kept rate
    Promises kept, over promises resolved (kept, partly kept or broken).
recovery rate
    Amount collected (payments) over the amount overdue when the cases were opened.
contacts per case
    Outbound contacts made (messages, calls, visits), per case.
cost per amount collected
    The contacts' cost (a price per channel: `DEFAULT_COSTS`, or your own)
    over the amount collected.
blocked by rule
    Contacts that compliance denied, by the rule that denied them (a denial
    by two rules counts for both).

Every KPI is also given per champion/challenger variant, as recorded in the
journal (``variant_assigned``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final
from zoneinfo import ZoneInfo

import orjson

from .case import bucket_of
from .journal import JournalEntry

__all__ = [
    "BUCKETS",
    "DEFAULT_COSTS",
    "KpiReport",
    "Kpis",
    "kpis_from_journal",
]

#: What one contact costs, per channel, in the cases' currency (illustrative CNY prices).
DEFAULT_COSTS: Final[Mapping[str, Decimal]] = {
    "sms": Decimal("0.05"),
    "email": Decimal("0.01"),
    "voicemail": Decimal("0.30"),
    "call": Decimal("1.50"),
    "letter": Decimal("8.00"),
    "visit": Decimal("120.00"),
}

#: The states a case is counted in for roll rates, in order.
BUCKETS: Final = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+", "paid")

_PERIOD: Final = timedelta(days=30)
_DAY: Final = timedelta(days=1)
#: Kinds that change the arrears, and kinds the KPIs read at all.
_READ: Final = frozenset(
    {
        "opened",
        "variant_assigned",
        "interaction",
        "contact_denied",
        "payment",
        "payment_reversed",
        "accrual",
        "instalment_due",
        "waiver",
        "settlement",
        "credit_applied",
        "promise_made",
        "promise_resolved",
    }
)
_AGENT_CHANNELS: Final = frozenset({"call", "visit"})


def _ratio(part: Decimal | int, whole: Decimal | int) -> float | None:
    return float(part) / float(whole) if whole else None


@dataclass
class Kpis:
    """The KPIs of one group of cases (all of them, or one variant).

    Amounts are in ``currency`` (the cases' currency; with several, only the
    cases in the most common one count towards the amounts).
    """

    cases: int = 0
    overdue_cases: int = 0
    cured: int = 0
    currency: str = ""
    overdue: Decimal = Decimal(0)
    collected: Decimal = Decimal(0)
    contacts: int = 0
    agent_contacts: int = 0
    right_party: int = 0
    promises: int = 0
    promises_kept: int = 0
    promises_resolved: int = 0
    cost: Decimal = Decimal(0)
    denied: int = 0
    blocked_by: Counter[str] = field(default_factory=Counter)
    contacts_by_channel: Counter[str] = field(default_factory=Counter)
    contacts_by_hour: dict[str, list[int]] = field(default_factory=dict)
    collected_by_day: list[Decimal] = field(default_factory=list)
    flows: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def cure_rate(self) -> float | None:
        """Cases overdue when opened that were cured by the end, over those cases."""
        return _ratio(self.cured, self.overdue_cases)

    @property
    def right_party_contact_rate(self) -> float | None:
        """Calls and visits that reached the debtor, over calls and visits made."""
        return _ratio(self.right_party, self.agent_contacts)

    @property
    def promise_kept_rate(self) -> float | None:
        """Promises kept in full, over promises resolved."""
        return _ratio(self.promises_kept, self.promises_resolved)

    @property
    def recovery_rate(self) -> float | None:
        """Amount collected over the amount overdue at opening."""
        return _ratio(self.collected, self.overdue)

    @property
    def contacts_per_case(self) -> float | None:
        """Outbound contacts made, per case."""
        return _ratio(self.contacts, self.cases)

    @property
    def cost_per_collected(self) -> float | None:
        """Cost of the contacts over the amount collected."""
        return _ratio(self.cost, self.collected)

    def roll_rates(self) -> dict[str, float]:
        """``{"M1→M2": share, …}``: of the cases in Mk at a period's start, the share in M(k+1)."""
        starts: Counter[str] = Counter()
        for (source, _), count in self.flows.items():
            starts[source] += count
        rates: dict[str, float] = {}
        for index, source in enumerate(BUCKETS[:-2]):
            dest = BUCKETS[index + 1]
            if starts[source]:
                rates[f"{source}→{dest}"] = self.flows[source, dest] / starts[source]
        return rates

    def cumulative_recovery(self) -> list[float]:
        """The recovery rate at the end of each day of the run."""
        total = Decimal(0)
        out: list[float] = []
        for amount in self.collected_by_day:
            total += amount
            out.append(float(total / self.overdue) if self.overdue else 0.0)
        return out

    def to_json(self) -> dict[str, Any]:
        """The KPIs as plain JSON values (rates as fractions, amounts as strings)."""
        return {
            "cases": self.cases,
            "cure_rate": self.cure_rate,
            "roll_rates": self.roll_rates(),
            "right_party_contact_rate": self.right_party_contact_rate,
            "promises": self.promises,
            "promise_kept_rate": self.promise_kept_rate,
            "currency": self.currency,
            "overdue": str(self.overdue),
            "collected": str(self.collected),
            "recovery_rate": self.recovery_rate,
            "contacts": self.contacts,
            "contacts_per_case": self.contacts_per_case,
            "cost": str(self.cost),
            "cost_per_collected": self.cost_per_collected,
            "denied": self.denied,
            "blocked_by": dict(sorted(self.blocked_by.items())),
            "contacts_by_channel": dict(sorted(self.contacts_by_channel.items())),
        }


@dataclass
class KpiReport:
    """The KPIs of a journal: all cases together, and per champion/challenger variant.

    Attributes:
        overall: Every case.
        variants: One `Kpis` per variant recorded in the journal (empty without variants).
        start: The start of the period measured.
        end: Its end.
        days: Days in the period (whole days, at least one).
    """

    overall: Kpis
    variants: dict[str, Kpis]
    start: datetime
    end: datetime
    days: int

    def columns(self) -> list[tuple[str, Kpis]]:
        """``("all", overall)`` and then each variant, by name."""
        return [("all", self.overall), *sorted(self.variants.items())]

    def rows(self) -> list[tuple[str, list[str]]]:
        """The table's rows: a label and one formatted value per column."""
        columns = [kpis for _, kpis in self.columns()]
        money = self.overall.currency

        def pct(value: float | None) -> str:
            return "-" if value is None else f"{value:.1%}"

        def num(value: float | None, places: int = 2) -> str:
            return "-" if value is None else f"{value:,.{places}f}"

        rows: list[tuple[str, list[str]]] = [
            ("cases", [f"{k.cases:,}" for k in columns]),
            ("cure rate", [pct(k.cure_rate) for k in columns]),
        ]
        transitions = [f"{a}→{b}" for a, b in pairwise(BUCKETS[:-1])]
        rates = [k.roll_rates() for k in columns]
        for name in transitions:
            if any(name in found for found in rates):
                rows.append((f"roll rate {name}", [pct(found.get(name)) for found in rates]))
        rows += [
            ("right-party contact rate", [pct(k.right_party_contact_rate) for k in columns]),
            ("promises", [f"{k.promises:,}" for k in columns]),
            ("promise-kept rate", [pct(k.promise_kept_rate) for k in columns]),
            (f"amount overdue ({money})", [num(float(k.overdue)) for k in columns]),
            (f"amount collected ({money})", [num(float(k.collected)) for k in columns]),
            ("recovery rate", [pct(k.recovery_rate) for k in columns]),
            ("contacts per case", [num(k.contacts_per_case) for k in columns]),
            (f"cost per {money} collected", [num(k.cost_per_collected, 4) for k in columns]),
            ("contacts blocked", [f"{k.denied:,}" for k in columns]),
        ]
        rules = sorted({rule for k in columns for rule in k.blocked_by})
        for rule in rules:
            rows.append((f"  blocked by {rule}", [f"{k.blocked_by[rule]:,}" for k in columns]))
        return rows

    def table(self) -> str:
        """The KPIs as a plain-text table: one row per KPI, one column per group."""
        heads = [name for name, _ in self.columns()]
        rows = self.rows()
        label_width = max(len("KPI"), *(len(label) for label, _ in rows))
        widths = [
            max(len(head), *(len(values[index]) for _, values in rows))
            for index, head in enumerate(heads)
        ]
        lines = [
            "  ".join(
                [
                    "KPI".ljust(label_width),
                    *(h.rjust(w) for h, w in zip(heads, widths, strict=True)),
                ]
            )
        ]
        for label, values in rows:
            cells = (value.rjust(width) for value, width in zip(values, widths, strict=True))
            lines.append("  ".join([label.ljust(label_width), *cells]).rstrip())
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "overall": self.overall.to_json(),
            "variants": {name: kpis.to_json() for name, kpis in sorted(self.variants.items())},
        }


@dataclass
class _Fold:
    """One case's journal, reduced to what the KPIs need."""

    opened: datetime
    due: date
    zone: ZoneInfo | None
    currency: str
    overdue: Decimal
    variant: str | None = None
    # (moment, arrears after it), in time order
    arrears: list[tuple[datetime, Decimal]] = field(default_factory=list)
    # (moment, amount) of each payment (negative for a reversal) within the period
    payments: list[tuple[datetime, Decimal]] = field(default_factory=list)

    def local_date(self, at: datetime) -> date:
        return (at.astimezone(self.zone) if self.zone is not None else at).date()

    def state_at(self, at: datetime) -> str:
        """The case's bucket at *at* (``paid`` when nothing is overdue)."""
        owed = self.overdue
        for moment, amount in self.arrears:
            if moment > at:
                break
            owed = amount
        if owed <= 0:
            return "paid"
        return bucket_of(max(0, (self.local_date(at) - self.due).days))


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: object) -> ZoneInfo | None:
    if not isinstance(name, str):
        return None
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


def _data(entry: JournalEntry) -> dict[str, Any]:
    """The entry's data, parsed without caching it on the entry (journals can be large)."""
    data: dict[str, Any] = orjson.loads(entry.body)["data"]
    return data


def _sum(values: Mapping[str, Any]) -> Decimal:
    return sum((Decimal(str(value)) for value in values.values()), Decimal(0))


def kpis_from_journal(
    chains: Iterable[tuple[str, Sequence[JournalEntry]]],
    *,
    costs: Mapping[str, Decimal] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> KpiReport:
    """The KPIs of the journal's cases over [*start*, *end*].

    Args:
        chains: ``(case_id, entries)`` pairs, as `Store.chains` gives them.
        costs: The cost of one contact per channel (`DEFAULT_COSTS` when omitted).
        start: The start of the period (the first case's opening when omitted).
        end: Its end (the last entry when omitted).
    """
    prices = {name: Decimal(str(value)) for name, value in (costs or DEFAULT_COSTS).items()}
    folds: list[tuple[_Fold, list[Kpis]]] = []
    overall = Kpis()
    variants: dict[str, Kpis] = {}
    currencies: Counter[str] = Counter()
    first: datetime | None = None
    last: datetime | None = None

    def within(at: datetime) -> bool:
        return (start is None or at >= start) and (end is None or at <= end)

    for _case_id, entries in chains:
        fold: _Fold | None = None
        events: list[tuple[str, datetime, dict[str, Any]]] = []
        for entry in entries:
            at = entry.at
            last = at if last is None or at > last else last
            if entry.kind not in _READ:
                continue
            data = _data(entry)
            if entry.kind == "opened":
                snapshot = orjson.loads(data["case"])
                balance = snapshot["balance"]
                fold = _Fold(
                    opened=at,
                    due=date.fromisoformat(snapshot["due_date"]),
                    zone=_zone(snapshot["debtor"].get("timezone")),
                    currency=balance["currency"],
                    overdue=sum(
                        (Decimal(balance.get(name, "0")) for name in _COMPONENTS), Decimal(0)
                    ),
                    variant=snapshot.get("variant"),
                )
                first = at if first is None or at < first else first
            elif entry.kind == "variant_assigned":
                if fold is not None:
                    fold.variant = data["variant"]
            else:
                events.append((entry.kind, at, data))
        if fold is None:
            continue
        targets = [overall]
        if fold.variant is not None:
            targets.append(variants.setdefault(fold.variant, Kpis()))
        folds.append((fold, targets))
        for kpis in targets:
            kpis.cases += 1
            kpis.overdue_cases += fold.overdue > 0
        currencies[fold.currency] += 1
        _count(fold, targets, events, prices, within)
    if first is None or last is None:
        moment = start or end or datetime.now().astimezone()
        return KpiReport(Kpis(), {}, start or moment, end or moment, 1)
    begin = start or first
    finish = end or last
    days = max(1, -(-int((finish - begin).total_seconds()) // 86_400))
    currency = currencies.most_common(1)[0][0]
    for kpis in (overall, *variants.values()):
        kpis.currency = currency
        kpis.collected_by_day = [Decimal(0)] * days
    for fold, targets in folds:
        if fold.currency != currency:
            continue
        for kpis in targets:
            kpis.overdue += fold.overdue
        for at, amount in fold.payments:
            day = min(days - 1, max(0, int((at - begin).total_seconds() // 86_400)))
            for kpis in targets:
                kpis.collected += amount
                kpis.collected_by_day[day] += amount
    periods = _periods(begin, finish)
    for fold, targets in folds:
        cured = fold.overdue > 0 and fold.state_at(finish) == "paid"
        for kpis in targets:
            kpis.cured += cured
        for period_start, period_end in periods:
            if fold.opened > period_start:
                continue
            flow = (fold.state_at(period_start), fold.state_at(period_end))
            if flow[0] == "paid":
                continue
            for kpis in targets:
                kpis.flows[flow] += 1
    return KpiReport(overall, variants, begin, finish, days)


_COMPONENTS: Final = ("principal", "interest", "fees", "penalty")


def _count(
    fold: _Fold,
    targets: Sequence[Kpis],
    events: Sequence[tuple[str, datetime, dict[str, Any]]],
    prices: Mapping[str, Decimal],
    within: Callable[[datetime], bool],
) -> None:
    """Add one case's entries (after ``opened``) to the groups it belongs to."""
    owed = fold.overdue
    for kind, at, data in events:
        if kind == "interaction":
            if data.get("outcome") == "reply" or not within(at):
                continue
            channel = data["channel"]
            hour = (at.astimezone(fold.zone) if fold.zone is not None else at).hour
            agent = channel in _AGENT_CHANNELS
            reached = (
                agent
                and data.get("outcome") == "conversation"
                and data.get("party", "debtor") == "debtor"
            )
            for kpis in targets:
                kpis.contacts += 1
                kpis.contacts_by_channel[channel] += 1
                kpis.contacts_by_hour.setdefault(channel, [0] * 24)[hour] += 1
                kpis.cost += prices.get(channel, Decimal(0))
                if agent:
                    kpis.agent_contacts += 1
                    kpis.right_party += reached
        elif kind == "contact_denied":
            if within(at):
                rules = {reason["rule"] for reason in data.get("reasons", ())}
                for kpis in targets:
                    kpis.denied += 1
                    kpis.blocked_by.update(rules)
        elif kind == "promise_made":
            if within(at):
                for kpis in targets:
                    kpis.promises += 1
        elif kind == "promise_resolved":
            if within(at):
                for kpis in targets:
                    kpis.promises_resolved += 1
                    kpis.promises_kept += data.get("status") == "kept"
        else:
            owed += _arrears_change(kind, data)
            fold.arrears.append((at, owed))
            if kind == "payment" and within(at):
                fold.payments.append((at, Decimal(data["amount"])))
            elif kind == "payment_reversed" and within(at):
                amount = _sum(data.get("restored", {})) + Decimal(data.get("credit", "0"))
                fold.payments.append((at, -amount))


def _arrears_change(kind: str, data: Mapping[str, Any]) -> Decimal:
    """How an entry changed the case's arrears (negative for what it paid or waived)."""
    if kind in ("payment", "credit_applied"):
        return -_sum(data.get("applied", {}))
    if kind in ("waiver", "settlement"):
        return -(_sum(data.get("applied", {})) + _sum(data.get("waived", {})))
    if kind == "accrual":
        return Decimal(data.get("penalty", "0")) + Decimal(data.get("fee", "0"))
    if kind == "instalment_due":
        return Decimal(data.get("amount", "0"))
    if kind == "payment_reversed":
        return _sum(data.get("restored", {}))
    return Decimal(0)


def _periods(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """30-day periods from *start* within *end*; the whole span when shorter than one."""
    periods: list[tuple[datetime, datetime]] = []
    moment = start
    while moment + _PERIOD <= end:
        periods.append((moment, moment + _PERIOD))
        moment += _PERIOD
    return periods or [(start, end)]
