"""Collection KPIs, read from the journal alone.

    >>> report = kpis_from_journal(engine.store.chains())   # doctest: +SKIP
    >>> print(report.table())                                # doctest: +SKIP

Every figure is computed from journal entries (the evidence), never from the
cases' current state, so the same figures come out of a live store, a
simulation, or a JSON Lines export read back with `arrears.journal.read_jsonl`.
Each case is rebuilt from its chain entry by entry with
`arrears.events.apply_entry`, as `arrears.events.replay` rebuilds it, so its
arrears, due date and bucket at any moment are the engine's own.

What each KPI means (``docs/simulation.md`` has the same list):

cure rate
    Cases overdue when opened with nothing overdue at the end: paid, waived,
    settled, or the rest forgiven by a completed reduction plan.
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
    Amount collected (payments and settlements, less the payments reversed)
    over the amount overdue when the cases were opened.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final
from zoneinfo import ZoneInfo

import orjson

from .case import Balance, Case, bucket_of, overdue_sum
from .events import apply_entry
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
    """One case's journal, reduced to what the KPIs need.

    The arrears, due date and stage are read from the case as the journal
    rebuilds it (`_states`), never worked out here.
    """

    opened: datetime
    due: date
    zone: ZoneInfo | None
    currency: str
    overdue: Decimal
    variant: str | None = None
    # (moment, arrears after it, due date after it), in time order, when either changed
    arrears: list[tuple[datetime, Decimal, date]] = field(default_factory=list)
    # (moment, amount) of each payment (negative for a reversal) within the period
    payments: list[tuple[datetime, Decimal]] = field(default_factory=list)
    # The case's stage and arrears after its last entry
    stage: str = ""
    final: Decimal = Decimal(0)

    def local_date(self, at: datetime) -> date:
        return (at.astimezone(self.zone) if self.zone is not None else at).date()

    def state_at(self, at: datetime) -> str:
        """The case's bucket at *at* (``paid`` when nothing is overdue)."""
        owed, due = self.overdue, self.due
        for moment, amount, day in self.arrears:
            if moment > at:
                break
            owed, due = amount, day
        if owed <= 0:
            return "paid"
        return bucket_of(max(0, (self.local_date(at) - due).days))


class _Data(Mapping[str, Any]):
    """An entry's data, parsed on first use and not cached on the entry.

    `apply_entry` reads nothing of most record-only kinds (reviews, outbox
    intents), and a journal holds many of them.
    """

    __slots__ = ("_body", "_parsed")

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._parsed: dict[str, Any] | None = None

    def parsed(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = orjson.loads(self._body)["data"]
        return self._parsed

    def __getitem__(self, key: str) -> Any:
        return self.parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.parsed())

    def __len__(self) -> int:
        return len(self.parsed())


def _states(entries: Iterable[JournalEntry]) -> Iterator[tuple[JournalEntry, _Data, Case]]:
    """Each entry of a chain from its ``opened`` on, with its data and the case after it.

    The case is rebuilt as `arrears.events.replay` rebuilds it: from the
    ``opened`` entry's snapshot, changed by `arrears.events.apply_entry` for
    every entry, the one function the engine changes a case with.  Entries
    before ``opened`` are skipped.  The chain is not verified here (a store's
    chains are, and `read_jsonl` checks an export).  One case object is
    changed in place: read what is needed from it before the next step.
    """
    case: Case | None = None
    for entry in entries:
        if case is None:
            if entry.kind != "opened":
                continue
            data = _Data(entry.body)
            case = Case.model_validate_json(data["case"])
        else:
            data = _Data(entry.body)
        apply_entry(case, entry.kind, entry.at, data)
        yield entry, data, case


def kpis_from_journal(
    chains: Iterable[tuple[str, Sequence[JournalEntry]]],
    *,
    costs: Mapping[str, Decimal] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> KpiReport:
    """The KPIs of the journal's cases over [*start*, *end*].

    Each case is rebuilt from its chain entry by entry as `arrears.events.replay`
    does, so its arrears, stage and bucket at any moment are the engine's own.

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
        for entry in entries:
            last = entry.at if last is None or entry.at > last else last
        folded = _fold(entries, within)
        if folded is None:
            continue
        fold, events = folded
        first = fold.opened if first is None or fold.opened < first else first
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


#: Kinds counted as contacts, denials and promises (read after the case is folded).
_COUNTED: Final = frozenset({"interaction", "contact_denied", "promise_made", "promise_resolved"})
#: Kinds that bring money in (their ``amount``).
_COLLECTED: Final = frozenset({"payment", "settlement"})


def _fold(
    entries: Iterable[JournalEntry], within: Callable[[datetime], bool]
) -> tuple[_Fold, list[tuple[str, datetime, dict[str, Any]]]] | None:
    """Fold one case's chain through `_states`: its arrears over time, its money, its contacts.

    Returns:
        The fold and the entries `_count` reads, or ``None`` for a chain without ``opened``.
    """
    fold: _Fold | None = None
    events: list[tuple[str, datetime, dict[str, Any]]] = []
    paid: dict[int, Decimal] = {}  # the amount of each payment, by its seq
    balance: Balance | None = None
    due: date | None = None
    case: Case | None = None
    for entry, data, case in _states(entries):
        kind, at = entry.kind, entry.at
        if fold is None:
            balance, due = case.balance, case.due_date
            fold = _Fold(
                opened=at,
                due=due,
                zone=case.debtor.timezone,
                currency=case.currency,
                overdue=overdue_sum(balance),
            )
            continue
        if case.balance is not balance or case.due_date != due:
            # apply_entry replaces the balance whenever it changes it
            balance, due = case.balance, case.due_date
            fold.arrears.append((at, overdue_sum(balance), due))
        if kind in _COUNTED:
            events.append((kind, at, data.parsed()))
        elif kind in _COLLECTED:
            amount = Decimal(data["amount"])
            if kind == "payment":
                paid[entry.seq] = amount
            if within(at):
                fold.payments.append((at, amount))
        elif kind == "payment_reversed" and within(at):
            # What the reversed payment brought in, not what undoing it owes again
            # (which includes a reduction plan's waiver it had completed).
            amount = paid.get(data["payment_seq"], Decimal(data.get("amount", "0")))
            fold.payments.append((at, -amount))
    if fold is None or case is None:
        return None
    fold.variant = case.variant
    fold.stage = case.stage
    fold.final = overdue_sum(case.balance)
    return fold, events


def _count(
    fold: _Fold,
    targets: Sequence[Kpis],
    events: Sequence[tuple[str, datetime, dict[str, Any]]],
    prices: Mapping[str, Decimal],
    within: Callable[[datetime], bool],
) -> None:
    """Add one case's contacts, denials and promises to the groups it belongs to."""
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
        elif kind == "promise_resolved" and within(at):
            for kpis in targets:
                kpis.promises_resolved += 1
                kpis.promises_kept += data.get("status") == "kept"


def _periods(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """30-day periods from *start* within *end*; the whole span when shorter than one."""
    periods: list[tuple[datetime, datetime]] = []
    moment = start
    while moment + _PERIOD <= end:
        periods.append((moment, moment + _PERIOD))
        moment += _PERIOD
    return periods or [(start, end)]
