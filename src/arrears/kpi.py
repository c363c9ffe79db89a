"""Collection KPIs, read from the journal alone.

    >>> report = kpis_from_journal(engine.store.chains())   # doctest: +SKIP
    >>> print(report.table())                                # doctest: +SKIP

Every figure is computed from journal entries (the evidence), never from the
cases' current state, so the same figures come out of a live store, a
simulation, or a JSON Lines export read back with `arrears.journal.read_jsonl`.
Each case is rebuilt from its chain entry by entry with
`arrears.events.apply_entry`, as `arrears.events.replay` rebuilds it, so its
arrears, due date and bucket at any moment are the engine's own.

``docs/kpis.md`` defines every figure: its formula, the cases and amounts it
counts, the window and the periods.  In short, over a window ``[start, end)``:

cure rate
    Of the cases past due (one day or more) when they enter the window, the
    share with nothing past due at its end.
roll rates
    Per 30-day period, and pooled over the complete periods: of the cases in
    Mk at a period's start, the share in M(k+1) or worse at its end.
right-party contact rate
    Calls and visits that reached the debtor, over calls and visits made.
promise-kept rate
    Promises kept in full, over promises resolved in the window (a resolution
    a reversal re-opened is neither).
recovery rate
    What the cases past due at entry paid in the window (payments not
    reversed, and settlements) over what they had past due at entry.
contacts per case, cost per amount collected, contacts denied
    Outbound contacts made, their cost, and contacts compliance denied (by
    channel, and the rules each denial cites).
denial rate
    Contacts denied over contacts proposed (made or denied), every channel.

A reversal undoes what it undid in every window, also one that ended before
it was recorded: the figures read the record as known when the report is made.

The table, its notes and the HTML report are written in English or Chinese
(``locale="zh-CN"``), from one message table (`arrears.report_text`).

Every KPI is also given per champion/challenger variant, as recorded in the
journal (``variant_assigned``); with two variants or more, `KpiReport.comparison`
gives the proportions' 95% intervals and each challenger's difference from the
champion (`arrears.comparison`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final
from zoneinfo import ZoneInfo

import orjson

from .case import Balance, Case, bucket_of, overdue_sum
from .comparison import Comparison, compare_variants, intervals_available
from .errors import InvalidInput
from .events import apply_entry
from .journal import JournalEntry
from .limits import EARLIEST_MOMENT, LATEST_MOMENT
from .report_text import ReportLocale, debtors_locale, report_locale
from .reversals import AgedSpell, Spell, returned_payments

__all__ = [
    "BUCKETS",
    "DEFAULT_COSTS",
    "PERIOD",
    "KpiReport",
    "Kpis",
    "Period",
    "journal_window",
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

#: The states a case is counted in for roll rates, best last: ``M0`` owes but nothing is
#: past due, ``M1``..``M7+`` by days past due, ``paid`` owes nothing at all.
BUCKETS: Final = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+", "paid")
_DELINQUENT: Final = BUCKETS[:-1]

#: The length of one roll-rate period.
PERIOD: Final = timedelta(days=30)
_DAY: Final = timedelta(days=1)
_AGENT_CHANNELS: Final = frozenset({"call", "visit"})


def _ratio(part: Decimal | int, whole: Decimal | int) -> float | None:
    return float(part) / float(whole) if whole else None


@dataclass(frozen=True, slots=True)
class Period:
    """One roll-rate period of the window: ``[start, end)``.

    Attributes:
        index: 1 for the first period of the window.
        start: Its first moment.
        end: The moment after it (the window's end for the last one).
    """

    index: int
    start: datetime
    end: datetime

    @property
    def partial(self) -> bool:
        """True when the period is shorter than `PERIOD` (the last one of a window can be)."""
        return self.end - self.start < PERIOD

    @property
    def label(self) -> str:
        """``"1: 09-01→10-01"``, with ``" (partial, 12.5 days)"`` for a partial period."""
        return self.describe()

    def describe(self, locale: str = "en") -> str:
        """The period in *locale*'s words: ``"1: 09-01→10-01"``, ``"1：9月1日→10月1日"``, with
        how long it is when partial (``" (partial, 12.5 days)"``)."""
        words = report_locale(locale)
        text = words.text.period.format(
            index=self.index, start=words.day(self.start), end=words.day(self.end)
        )
        if self.partial:
            text += words.text.period_partial.format(days=_days(self.end - self.start))
        return text

    def to_json(self) -> dict[str, Any]:
        """The period as plain JSON values."""
        return {
            "index": self.index,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "partial": self.partial,
        }


def _days(span: timedelta) -> str:
    """A span in days, to three significant digits: ``12.5``."""
    return f"{span / _DAY:.3g}"


#: The window's bounds, said: a day inside the calendar's first (each moment converts to
#: every time zone) and the day after the latest due date (`arrears.limits.EARLIEST_MOMENT`,
#: `arrears.limits.LATEST_MOMENT`), as a command's time options are bounded.
_WITHIN: Final = f"a moment from {EARLIEST_MOMENT.isoformat()} to {LATEST_MOMENT.isoformat()}"


def _periods(start: datetime, end: datetime) -> tuple[Period, ...]:
    """`PERIOD`-long periods from *start*; the last one ends at *end* (partial when shorter)."""
    periods: list[Period] = []
    moment = start
    # Measured from *end*, not added to *moment*: a window to the last day of the calendar
    # (9999-12-31) has no moment a period after its last start.
    while end - moment > PERIOD:
        periods.append(Period(len(periods) + 1, moment, moment + PERIOD))
        moment += PERIOD
    if moment < end:
        periods.append(Period(len(periods) + 1, moment, end))
    return tuple(periods)


@dataclass
class Kpis:
    """The KPIs of one group of cases (all of them, or one variant).

    Amounts are in ``currency`` (the cases' currency; with several, only the
    cases in the most common one count towards the amounts).  ``docs/kpis.md``
    defines each figure.  What a reversal undid is not counted, whenever the
    reversal was recorded: a payment reversed is not collected, a promise kept
    then re-opened is not kept, and the cases' states are corrected by it.
    """

    cases: int = 0
    past_due_cases: int = 0
    cured: int = 0
    currency: str = ""
    past_due: Decimal = Decimal(0)
    collected: Decimal = Decimal(0)
    collected_past_due: Decimal = Decimal(0)
    contacts: int = 0
    agent_contacts: int = 0
    right_party: int = 0
    promises: int = 0
    promises_kept: int = 0
    promises_resolved: int = 0
    cost: Decimal = Decimal(0)
    denied: int = 0
    denied_by_channel: Counter[str] = field(default_factory=Counter)
    denied_several_rules: int = 0
    blocked_by: Counter[str] = field(default_factory=Counter)
    contacts_by_channel: Counter[str] = field(default_factory=Counter)
    contacts_by_hour: dict[str, list[int]] = field(default_factory=dict)
    collected_by_day: list[Decimal] = field(default_factory=list)
    recovered_by_day: list[Decimal] = field(default_factory=list)
    periods: tuple[Period, ...] = ()
    period_flows: list[Counter[tuple[str, str]]] = field(default_factory=list)
    #: Per case past due at entry (in ``currency``): (amount past due at entry, collected from it).
    recovery_cases: list[tuple[Decimal, Decimal]] = field(default_factory=list)

    @property
    def cure_rate(self) -> float | None:
        """Cases past due at entry with nothing past due at the window's end, over those cases."""
        return _ratio(self.cured, self.past_due_cases)

    @property
    def right_party_contact_rate(self) -> float | None:
        """Calls and visits that reached the debtor, over calls and visits made."""
        return _ratio(self.right_party, self.agent_contacts)

    @property
    def promise_kept_rate(self) -> float | None:
        """Promises kept in full, over promises resolved (resolutions that stand: a kept one a
        reversal re-opened counts in neither)."""
        return _ratio(self.promises_kept, self.promises_resolved)

    @property
    def recovery_rate(self) -> float | None:
        """Collected from the cases past due at entry, over what they had past due then."""
        return _ratio(self.collected_past_due, self.past_due)

    @property
    def proposed(self) -> int:
        """Contacts proposed: those made (outbound) and those compliance denied."""
        return self.contacts + self.denied

    @property
    def denial_rate(self) -> float | None:
        """Contacts denied by compliance, over contacts proposed (made or denied)."""
        return _ratio(self.denied, self.proposed)

    @property
    def contacts_per_case(self) -> float | None:
        """Outbound contacts made, per case."""
        return _ratio(self.contacts, self.cases)

    @property
    def cost_per_collected(self) -> float | None:
        """Cost of the contacts over the amount collected (all cases)."""
        return _ratio(self.cost, self.collected)

    @property
    def complete_periods(self) -> int:
        """How many periods of the window are whole (the pooled roll rates count these)."""
        return sum(not period.partial for period in self.periods)

    @property
    def flows(self) -> Counter[tuple[str, str]]:
        """``(state at start, state at end)`` counts, pooled over the complete periods."""
        pooled: Counter[tuple[str, str]] = Counter()
        for period, flows in zip(self.periods, self.period_flows, strict=True):
            if not period.partial:
                pooled.update(flows)
        return pooled

    def roll_counts(self, period: int | None = None) -> dict[str, tuple[int, int]]:
        """``{"M1→M2": (rolled, at start), …}``: pooled, or of period number *period*.

        Raises:
            InvalidInput: *period* is not the number of one of the window's periods.
        """
        if period is None:
            flows = self.flows
        elif 1 <= period <= len(self.period_flows):
            flows = self.period_flows[period - 1]
        else:
            raise InvalidInput("period", period, f"a period number from 1 to {len(self.periods)}")
        counts: dict[str, tuple[int, int]] = {}
        for index, source in enumerate(_DELINQUENT[:-1]):
            starting = rolled = 0
            for (start, end), count in flows.items():
                if start != source:
                    continue
                starting += count
                if end != "paid" and _DELINQUENT.index(end) > index:
                    rolled += count
            if starting:
                counts[f"{source}→{_DELINQUENT[index + 1]}"] = (rolled, starting)
        return counts

    def roll_rates(self, period: int | None = None) -> dict[str, float]:
        """``{"M1→M2": share, …}``: of the cases in Mk at a period's start, the share in
        M(k+1) or worse at its end; pooled over the complete periods, or of one period."""
        return {
            name: rolled / starting for name, (rolled, starting) in self.roll_counts(period).items()
        }

    def cumulative_recovery(self) -> list[float]:
        """The recovery rate at the end of each day of the window (the last is `recovery_rate`)."""
        total = Decimal(0)
        out: list[float] = []
        for amount in self.recovered_by_day:
            total += amount
            out.append(float(total / self.past_due) if self.past_due else 0.0)
        return out

    def to_json(self) -> dict[str, Any]:
        """The KPIs as plain JSON values (rates as fractions, amounts as strings)."""
        return {
            "cases": self.cases,
            "past_due_cases": self.past_due_cases,
            "cured": self.cured,
            "cure_rate": self.cure_rate,
            "roll_rates": self.roll_rates(),
            "roll_rates_by_period": [
                {
                    **period.to_json(),
                    "rates": self.roll_rates(period.index),
                    "counts": {
                        name: {"rolled": rolled, "at_start": starting}
                        for name, (rolled, starting) in self.roll_counts(period.index).items()
                    },
                }
                for period in self.periods
            ],
            "calls_and_visits": self.agent_contacts,
            "right_party_contacts": self.right_party,
            "right_party_contact_rate": self.right_party_contact_rate,
            "promises": self.promises,
            "promises_resolved": self.promises_resolved,
            "promises_kept": self.promises_kept,
            "promise_kept_rate": self.promise_kept_rate,
            "currency": self.currency,
            "past_due": str(self.past_due),
            "collected": str(self.collected),
            "collected_past_due": str(self.collected_past_due),
            "recovery_rate": self.recovery_rate,
            "contacts": self.contacts,
            "contacts_per_case": self.contacts_per_case,
            "cost": str(self.cost),
            "cost_per_collected": self.cost_per_collected,
            "denied": self.denied,
            "contacts_proposed": self.proposed,
            "denial_rate": self.denial_rate,
            "denied_by_channel": dict(sorted(self.denied_by_channel.items())),
            "denied_several_rules": self.denied_several_rules,
            "blocked_by": dict(sorted(self.blocked_by.items())),
            "contacts_by_channel": dict(sorted(self.contacts_by_channel.items())),
        }


@dataclass
class KpiReport:
    """The KPIs of a journal over one window: all cases, and per champion/challenger variant.

    Attributes:
        overall: Every case.
        variants: One `Kpis` per variant recorded in the journal (empty without variants).
        start: The window's first moment.
        end: The moment after its last (the window is ``[start, end)``).
        days: Days in the window (whole days, at least one).
        periods: The window's roll-rate periods, the last one partial when shorter.
        journal: The journal's first opening and last entry (``None`` when empty).
        champion: The champion variant (``None``: the variant named ``champion``, else the
            first by name; see `arrears.comparison.champion_of`).
        debtor_locales: How many of the cases counted have a debtor of each locale, as
            the cases were opened (``{"zh-CN": 1500}``); `locale` reads it.
    """

    overall: Kpis
    variants: dict[str, Kpis]
    start: datetime
    end: datetime
    days: int
    periods: tuple[Period, ...] = ()
    journal: tuple[datetime, datetime] | None = None
    champion: str | None = None
    debtor_locales: dict[str, int] = field(default_factory=dict)

    @property
    def locale(self) -> str:
        """The language the report is written in unless another is asked for: the one more
        than half of its cases' debtors read (`arrears.report_text.debtors_locale`), else
        English."""
        return debtors_locale(self.debtor_locales)

    def comparison(self) -> Comparison | None:
        """Each variant's proportions with 95% intervals, and each challenger against the
        champion (`arrears.comparison.compare_variants`); ``None`` with fewer than two variants.

        Raises:
            ArrearsError: statsmodels is not installed (``pip install 'arrears[report]'``).
        """
        return compare_variants(self)

    def comparison_table(self, locale: str = "en") -> str:
        """The comparison as plain text (empty with fewer than two variants): the grid,
        one sentence per KPI and challenger, and how the figures were computed."""
        if len(self.variants) < 2:
            return ""
        words = report_locale(locale)
        if not intervals_available():
            return words.text.intervals_need + "\n"
        found = self.comparison()
        if found is None:  # pragma: no cover - two variants or more always compare
            return ""
        lines = [
            words.text.comparison_title.format(champion=found.champion),
            _grid(words.text.corner, found.heads(locale), found.rows(locale)).rstrip("\n"),
            *found.sentences(locale),
            *found.notes(locale),
        ]
        return "\n".join(lines) + "\n"

    @property
    def whole_journal(self) -> bool:
        """True when the window is the journal's default one (`journal_window`)."""
        if self.journal is None:
            return False
        return (self.start, self.end) == _default_window(*self.journal)

    def columns(self, locale: str = "en") -> list[tuple[str, Kpis]]:
        """``("all", overall)`` (in *locale*'s words) and then each variant, by name."""
        return [
            (report_locale(locale).text.all_cases, self.overall),
            *sorted(self.variants.items()),
        ]

    def window(self, locale: str = "en") -> str:
        """The window and its periods, in words (the first line of `table`)."""
        words = report_locale(locale)
        partial = [period for period in self.periods if period.partial]
        text = words.text.window.format(
            start=words.moment(self.start),
            end=words.moment(self.end),
            days=words.count(self.days),
            complete=words.count(len(self.periods) - len(partial)),
        )
        if partial:
            text += words.text.window_partial.format(days=_days(partial[0].end - partial[0].start))
        return text

    def rows(self, locale: str = "en") -> list[tuple[str, list[str]]]:
        """The table's rows: a label and one formatted value per column (a label that starts
        with two spaces is a part of the row above it)."""
        return [(label, values) for _, label, values in self._rows(report_locale(locale))]

    def keys(self) -> list[str]:
        """The key of each row of `rows`, in order: where its figures are in `to_json`'s
        ``overall`` and ``variants`` (``"cure_rate"``, ``"roll_rates.M1→M2"``,
        ``"denied_by_channel.call"``); ``""`` for a row that is not there as such."""
        return [key for key, _, _ in self._rows(report_locale("en"))]

    def _rows(self, words: ReportLocale) -> list[tuple[str, str, list[str]]]:
        """``(key, label, values)`` per row of the table, in *words*' language."""
        text = words.text
        columns = [kpis for _, kpis in self.columns()]
        money = words.currency(self.overall.currency)
        currency = self.overall.currency
        rows: list[tuple[str, str, list[str]]] = [
            ("cases", text.cases, [words.count(k.cases) for k in columns]),
            (
                "past_due_cases",
                text.past_due_cases,
                [words.count(k.past_due_cases) for k in columns],
            ),
            ("cured", "  " + text.cured, [words.count(k.cured) for k in columns]),
            ("cure_rate", text.cure_rate, [words.pct(k.cure_rate) for k in columns]),
        ]
        rates = [k.roll_rates() for k in columns]
        for source, dest in pairwise(_DELINQUENT):
            name = f"{source}→{dest}"
            if any(name in found for found in rates):
                label = text.roll_rate_first if source == "M0" else text.roll_rate
                rows.append(
                    (
                        f"roll_rates.{name}",
                        label.format(name=_roll_label(name)),
                        [words.pct(found.get(name)) for found in rates],
                    )
                )
        if not self.overall.complete_periods:
            rows.append(("", text.roll_rates_none, ["-" for _ in columns]))
        rows += [
            (
                "calls_and_visits",
                text.calls_and_visits,
                [words.count(k.agent_contacts) for k in columns],
            ),
            (
                "right_party_contact_rate",
                text.right_party_contact_rate,
                [words.pct(k.right_party_contact_rate) for k in columns],
            ),
            ("promises", text.promises_made, [words.count(k.promises) for k in columns]),
            (
                "promises_resolved",
                text.promises_resolved,
                [words.count(k.promises_resolved) for k in columns],
            ),
            (
                "promise_kept_rate",
                text.promise_kept_rate,
                [words.pct(k.promise_kept_rate) for k in columns],
            ),
            (
                "past_due",
                text.past_due.format(currency=money),
                [words.amount(k.past_due, currency) for k in columns],
            ),
            (
                "collected_past_due",
                text.collected_past_due.format(currency=money),
                [words.amount(k.collected_past_due, currency) for k in columns],
            ),
            ("recovery_rate", text.recovery_rate, [words.pct(k.recovery_rate) for k in columns]),
            (
                "collected",
                text.collected.format(currency=money),
                [words.amount(k.collected, currency) for k in columns],
            ),
            ("contacts", text.contacts, [words.count(k.contacts) for k in columns]),
            (
                "contacts_per_case",
                text.contacts_per_case,
                [words.num(k.contacts_per_case) for k in columns],
            ),
            (
                "cost_per_collected",
                text.cost_per_collected.format(currency=money),
                [words.num(k.cost_per_collected, 4) for k in columns],
            ),
            ("denied", text.denied, [words.count(k.denied) for k in columns]),
        ]
        channels = sorted({name for k in columns for name in k.denied_by_channel})
        for channel in channels:
            rows.append(
                (
                    f"denied_by_channel.{channel}",
                    "  " + words.channel(channel),
                    [words.count(k.denied_by_channel[channel]) for k in columns],
                )
            )
        rows.append(("denial_rate", text.denial_rate, [words.pct(k.denial_rate) for k in columns]))
        rules = sorted({rule for k in columns for rule in k.blocked_by})
        if rules:
            rows.append(
                ("", text.rules_cited, [words.count(sum(k.blocked_by.values())) for k in columns])
            )
            for rule in rules:
                rows.append(
                    (
                        f"blocked_by.{rule}",
                        f"  {rule}",
                        [words.count(k.blocked_by[rule]) for k in columns],
                    )
                )
        return rows

    def notes(self, locale: str = "en") -> list[str]:
        """What the table's populations are, one sentence a line (printed under it)."""
        text = report_locale(locale).text
        pooled = self.overall.complete_periods
        several = self.overall.denied_several_rules
        words = report_locale(locale)
        rolls = text.note_rolls.format(pooled=words.count(pooled))
        rolls += text.note_rolls_partial if pooled < len(self.periods) else text.note_rolls_end
        return [
            text.note_cohort,
            rolls,
            text.note_recovery,
            text.note_denied.format(several=words.count(several)),
            text.note_denial_rate,
            text.note_definitions,
        ]

    def roll_table(self, locale: str = "en") -> str:
        """Roll rates of all cases, period by period and pooled, with the cases at each start."""
        words = report_locale(locale)
        kpis = self.overall
        heads = [period.describe(locale) for period in self.periods]
        heads.append(words.text.pooled.format(count=words.count(kpis.complete_periods)))
        counts = [kpis.roll_counts(period.index) for period in self.periods] + [kpis.roll_counts()]
        names = [
            f"{a}→{b}"
            for a, b in pairwise(_DELINQUENT)
            if any(f"{a}→{b}" in found for found in counts)
        ]
        if not names:
            return words.text.no_rolls + "\n"
        rows = [
            (_roll_label(name), [_roll_cell(words, found.get(name)) for found in counts])
            for name in names
        ]
        return _grid(words.text.roll_corner, heads, rows)

    def table(self, locale: str = "en") -> str:
        """The KPIs as plain text: the window, one row per KPI and one column per group,
        the notes on what each figure counts, and the roll rates period by period; in
        English (``"en"``) or Chinese (``"zh-CN"``)."""
        words = report_locale(locale)
        heads = [name for name, _ in self.columns(locale)]
        lines = [
            self.window(locale),
            _grid(words.text.corner, heads, self.rows(locale)).rstrip("\n"),
        ]
        lines += self.notes(locale)
        lines.append("")
        lines.append(self.roll_table(locale).rstrip("\n"))
        compared = self.comparison_table(locale)
        if compared:
            lines += ["", compared.rstrip("\n")]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "periods": [period.to_json() for period in self.periods],
            "overall": self.overall.to_json(),
            "variants": {name: kpis.to_json() for name, kpis in sorted(self.variants.items())},
            **self._comparison_json(),
        }

    def _comparison_json(self) -> dict[str, Any]:
        """``{"comparison": …}`` with two variants or more; what it needs when not installed."""
        if len(self.variants) < 2:
            return {}
        if not intervals_available():
            return {"comparison": {"unavailable": report_locale("en").text.intervals_need}}
        found = self.comparison()
        return {} if found is None else {"comparison": found.to_json()}


def _roll_label(name: str) -> str:
    """``M1→M2+``: a roll counts the cases in M(k+1) or worse."""
    return name if name.endswith("+") else name + "+"


def _roll_cell(words: ReportLocale, counts: tuple[int, int] | None) -> str:
    """``"38.1% of 225"``: the share rolled and the cases at the start; ``-`` when none."""
    if counts is None:
        return "-"
    rolled, starting = counts
    return words.text.share.format(share=words.pct(rolled / starting), count=words.count(starting))


def _grid(corner: str, heads: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A plain-text table: labels on the left, one right-aligned column per head, aligned by
    the cells a terminal gives each character (two for a Chinese one)."""
    from rich.cells import cell_len

    def left(text: str, width: int) -> str:
        return text + " " * (width - cell_len(text))

    def right(text: str, width: int) -> str:
        return " " * (width - cell_len(text)) + text

    label_width = max(cell_len(corner), *(cell_len(label) for label, _ in rows))
    widths = [
        max(cell_len(head), *(cell_len(values[index]) for _, values in rows))
        for index, head in enumerate(heads)
    ]
    cells = (right(h, w) for h, w in zip(heads, widths, strict=True))
    lines = ["  ".join([left(corner, label_width), *cells])]
    for label, values in rows:
        cells = (right(value, width) for value, width in zip(values, widths, strict=True))
        lines.append("  ".join([left(label, label_width), *cells]).rstrip())
    return "\n".join(lines) + "\n"


# -- one case's chain, folded ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _State:
    """What the KPIs read of a case at a moment: set by `apply_entry`, never worked out here."""

    balance: Balance
    due: date
    variant: str | None


@dataclass
class _Fold:
    """One case's journal, reduced to what the KPIs need.

    ``changes`` holds the case's state after its opening and after each entry
    that changed its balance, due date or variant, as the journal rebuilds it
    (`_states`).  ``events`` holds the entries the KPIs count, in order: a
    payment reversed and a promise kept that a reversal re-opened stay in it,
    under a kind `_count` does not count (``reversed``, ``reopened``).
    ``corrections`` holds what reversals owe again, each part from the moment
    it came off (the reversed payment, the charges its credit paid, the plan
    waiver it completed) to the reversal: the case as corrected (`state_at`).
    """

    opened: datetime
    zone: ZoneInfo | None
    currency: str
    locale: str
    changes: list[tuple[datetime, _State]] = field(default_factory=list)
    # (kind, moment, data): contacts, denials, promises; money as (kind, moment, amount)
    events: list[tuple[str, datetime, Any]] = field(default_factory=list)
    # (came off, reversal recorded, owed again by component)
    corrections: list[tuple[datetime, datetime, dict[str, Decimal]]] = field(default_factory=list)
    # (from, first missed due date as corrected): `Spell`, the payments returned unpaid
    dues: list[tuple[datetime, date]] = field(default_factory=list)

    def state_at(self, at: datetime) -> _State:
        """The case at *at* as corrected: its opening, changed by every later entry recorded
        before *at*, and by every reversal recorded later of a payment recorded before *at*
        (what the payment paid owed again, as the reversal restores it, and the first
        missed due date as the reversal restores it: ``dues``)."""
        state = self.changes[0][1]
        for moment, later in self.changes[1:]:
            if moment >= at:
                break
            state = later
        due = self.dues[0][1]
        for moment, corrected in self.dues[1:]:
            if moment >= at:
                break
            due = corrected
        owed: dict[str, Decimal] = {}
        for came_off, undone, amounts in self.corrections:
            if came_off < at <= undone:
                for name, amount in amounts.items():
                    owed[name] = owed.get(name, Decimal(0)) + amount
        if not owed:
            return state if due == state.due else _State(state.balance, due, state.variant)
        balance = state.balance
        update = {name: getattr(balance, name) + amount for name, amount in owed.items()}
        return _State(balance.model_copy(update=update), due, state.variant)

    def days_past_due(self, state: _State, at: datetime) -> int:
        """`Case.days_past_due` of the case in *state* at *at* (the debtor's calendar)."""
        if not overdue_sum(state.balance):
            return 0
        local = at.astimezone(self.zone) if self.zone is not None else at
        return max(0, (local.date() - state.due).days)

    def bucket(self, state: _State, at: datetime) -> str:
        """``paid`` (nothing owed), ``M0`` (nothing past due) or ``M1``..``M7+``."""
        balance = state.balance
        if not overdue_sum(balance) and not balance.not_due:
            return "paid"
        return bucket_of(self.days_past_due(state, at))


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


#: Kinds counted as contacts, denials and promises made (read after the case is folded).
_COUNTED: Final = frozenset({"interaction", "contact_denied", "promise_made"})
#: Kinds that may move the due date as `Spell` folds it.
_SPELL: Final = frozenset({"instalment_due", "payment", "payment_reversed"})


def _amounts(parts: Mapping[str, str]) -> dict[str, Decimal]:
    """Amounts by component, as an entry's data writes them."""
    return {name: Decimal(value) for name, value in parts.items()}


@dataclass
class _Undoing:
    """What a case's reversals may undo, gathered while its chain is folded."""

    # by seq: (moment, applied by component, credit left, index in the fold's events)
    payments: dict[int, tuple[datetime, dict[str, Decimal], Decimal, int]] = field(
        default_factory=dict
    )
    # credit_applied entries, in order: (seq, moment, applied by component)
    credit_used: list[tuple[int, datetime, dict[str, Decimal]]] = field(default_factory=list)
    # plan_resolved entries, in order: (seq, moment, plan id, waived by component)
    plans: list[tuple[int, datetime, str, dict[str, Decimal]]] = field(default_factory=list)
    # promise_resolved and plan_resolved entries by seq: (moment, index in events or -1)
    resolutions: dict[int, tuple[datetime, int]] = field(default_factory=dict)
    # by promise id: the index in events of its kept resolution that stands
    kept: dict[str, int] = field(default_factory=dict)

    def reverse(self, fold: _Fold, at: datetime, data: Mapping[str, Any]) -> None:
        """A ``payment_reversed`` entry: the payment not collected, the promise it kept not
        kept, and each part it owes again owed from the moment it came off."""
        payment = self.payments.get(data["payment_seq"])
        if payment is not None:
            paid_at, applied, left, index = payment
            fold.events[index] = ("reversed", paid_at, fold.events[index][2])
            parts: list[tuple[datetime, dict[str, Decimal]]] = [(paid_at, applied)]
            # the credit it left that later charges used, latest first, as the reversal
            # restores it
            spent = left - Decimal(data["credit"])
            for seq, used_at, used in reversed(self.credit_used):
                if spent <= 0 or seq < data["payment_seq"]:
                    break
                part: dict[str, Decimal] = {}
                for name, value in used.items():
                    part[name] = min(value, spent)
                    spent -= part[name]
                parts.append((used_at, part))
            plan = data.get("plan")
            if plan is not None and plan["status"] == "active":
                parts.extend(
                    (resolved_at, waived)
                    for seq, resolved_at, plan_id, waived in self.plans
                    if seq > data["payment_seq"] and plan_id == plan["id"]
                )
                self.forget_plan(plan["id"])
            fold.corrections.extend(
                (came_off, at, amounts) for came_off, amounts in parts if came_off < at
            )
        promise = data.get("promise")
        if promise is not None and promise["status"] != "kept":
            self.undo_kept(fold, self.kept.pop(promise["id"], -1))

    def reopen(self, fold: _Fold, at: datetime, data: Mapping[str, Any]) -> None:
        """An ``agreement_reopened`` entry: the promise it names not kept, a completed
        reduction's waiver owed from the moment the plan completed."""
        resolved_at, index = self.resolutions.get(data["resolved_seq"], (at, -1))
        if data["agreement"] == "promise":
            self.undo_kept(fold, index)
            if index >= 0 and self.kept.get(data["id"]) == index:
                del self.kept[data["id"]]
        else:
            self.forget_plan(data["id"])
        restored = _amounts(data["restored"])
        if restored and resolved_at < at:
            fold.corrections.append((resolved_at, at, restored))

    def forget_plan(self, plan_id: str) -> None:
        """The plan is active again: the waivers of its completions so far are owed already."""
        self.plans = [plan for plan in self.plans if plan[2] != plan_id]

    @staticmethod
    def undo_kept(fold: _Fold, index: int) -> None:
        """The promise resolution at *index* in *fold*'s events no longer stands."""
        if index >= 0 and fold.events[index][0] == "promise_resolved":
            _kind, resolved_at, data = fold.events[index]
            fold.events[index] = ("reopened", resolved_at, data)


def _fold(entries: Iterable[JournalEntry]) -> _Fold | None:
    """Fold one case's chain through `_states`: its state over time, its money, its contacts.

    Returns:
        The fold, or ``None`` for a chain without ``opened``.
    """
    fold: _Fold | None = None
    undoing = _Undoing()
    last: _State | None = None
    chain = list(entries)
    spell: Spell | AgedSpell | None = None
    for entry, data, case in _states(chain):
        kind, at = entry.kind, entry.at
        if fold is None or last is None or spell is None:
            last = _State(case.balance, case.due_date, case.variant)
            fold = _Fold(
                opened=at,
                zone=case.debtor.timezone,
                currency=case.currency,
                locale=case.debtor.locale,
            )
            fold.changes.append((at, last))
            # the due date as the reversals recorded later restore it, from the start
            if case.aging is not None:  # a case that keeps its aging
                spell = AgedSpell(case, AgedSpell.returned(chain))
            else:
                spell = Spell(case.due_date, returned_payments(chain))
            fold.dues.append((at, spell.due))
            continue
        if isinstance(spell, AgedSpell):
            spell.step(kind, entry.seq, data, case)
            if spell.due != fold.dues[-1][1]:
                fold.dues.append((at, spell.due))
        elif kind in _SPELL:
            spell.step(kind, entry.seq, data, last.balance)
            if spell.due != fold.dues[-1][1]:
                fold.dues.append((at, spell.due))
        if (
            case.balance is not last.balance
            or case.due_date != last.due
            or case.variant != last.variant
        ):
            # apply_entry replaces the balance whenever it changes it
            last = _State(case.balance, case.due_date, case.variant)
            fold.changes.append((at, last))
        if kind in _COUNTED:
            fold.events.append((kind, at, data.parsed()))
        elif kind == "payment":
            undoing.payments[entry.seq] = (
                at,
                _amounts(data["applied"]),
                Decimal(data["credit"]),
                len(fold.events),
            )
            fold.events.append(("money", at, Decimal(data["amount"])))
        elif kind == "settlement":
            fold.events.append(("money", at, Decimal(data["amount"])))
        elif kind == "credit_applied":
            undoing.credit_used.append((entry.seq, at, _amounts(data["applied"])))
        elif kind == "promise_resolved":
            index = len(fold.events)
            undoing.resolutions[entry.seq] = (at, index)
            if data["status"] == "kept":
                undoing.kept[data["promise_id"]] = index
            fold.events.append((kind, at, data.parsed()))
        elif kind == "plan_resolved":
            undoing.resolutions[entry.seq] = (at, -1)
            undoing.plans.append((entry.seq, at, data["plan_id"], _amounts(data["waived"])))
        elif kind == "payment_reversed":
            undoing.reverse(fold, at, data)
        elif kind == "agreement_reopened":
            undoing.reopen(fold, at, data)
    return fold


# -- the window and the report -----------------------------------------------------------------


def journal_window(
    chains: Iterable[tuple[str, Sequence[JournalEntry]]],
) -> tuple[datetime, datetime]:
    """The default window of a journal: ``[first opening, first opening + N days)``.

    N is the smallest whole number of days after the first ``opened`` entry
    that is later than the journal's last entry, so every entry is inside.

    Raises:
        InvalidInput: the journal has no ``opened`` entry.
    """
    first: datetime | None = None
    last: datetime | None = None
    for _case_id, entries in chains:
        for entry in entries:
            if entry.kind == "opened" and (first is None or entry.at < first):
                first = entry.at
            if last is None or entry.at > last:
                last = entry.at
    if first is None or last is None:
        raise InvalidInput("chains", "no opened entry", "a journal with at least one case")
    return _default_window(first, last)


def _default_window(first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """``[first, first + N days)``, N the fewest whole days that take in *last*."""
    return first, first + _DAY * max(1, (last - first) // _DAY + 1)


def kpis_from_journal(
    chains: Iterable[tuple[str, Sequence[JournalEntry]]],
    *,
    costs: Mapping[str, Decimal] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    champion: str | None = None,
) -> KpiReport:
    """The KPIs of the journal's cases over the window ``[start, end)``, as ``docs/kpis.md``
    defines them.

    Each case is rebuilt from its chain entry by entry as `arrears.events.replay`
    does, so its arrears, due date and bucket at any moment are the engine's own.

    Args:
        chains: ``(case_id, entries)`` pairs, as `Store.chains` gives them.
        costs: The cost of one contact per channel (`DEFAULT_COSTS` when omitted).
        start: The window's first moment (the journal's first opening when omitted).
        end: The moment after its last (when omitted: the smallest whole number
            of days after *start* that is later than the journal's last entry,
            as `journal_window` gives it).
        champion: The champion variant, which challengers are compared with
            (`KpiReport.comparison`); by default the variant named ``champion``,
            else the first by name.

    Raises:
        InvalidInput: *end* is not after *start*, either is naive or outside 0001-01-02
            to 3000-01-01 (UTC), or *champion* is not a variant of the journal.
    """
    for name, moment in (("start", start), ("end", end)):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInput(name, moment.isoformat(), "an aware datetime")
        if moment is not None and not EARLIEST_MOMENT <= moment <= LATEST_MOMENT:
            raise InvalidInput(name, moment.isoformat(), _WITHIN)
    prices = {name: Decimal(str(value)) for name, value in (costs or DEFAULT_COSTS).items()}
    folds: list[_Fold] = []
    first: datetime | None = None
    last: datetime | None = None
    for _case_id, entries in chains:
        for entry in entries:
            last = entry.at if last is None or entry.at > last else last
        fold = _fold(entries)
        if fold is None:
            continue
        first = fold.opened if first is None or fold.opened < first else first
        folds.append(fold)
    if first is None or last is None:
        moment = start or end or datetime.now().astimezone()
        return KpiReport(Kpis(), {}, start or moment, end or start or moment, 1)
    begin = start or first
    finish = end if end is not None else _default_window(begin, last)[1]
    if finish <= begin:
        raise InvalidInput("end", finish.isoformat(), f"a moment after the start, {begin}")
    report = _report(folds, prices, begin, finish)
    report.journal = (first, last)
    if champion is not None and champion not in report.variants:
        raise InvalidInput("champion", champion, f"one of the variants {sorted(report.variants)}")
    report.champion = champion
    return report


def _report(
    folds: Sequence[_Fold], prices: Mapping[str, Decimal], begin: datetime, finish: datetime
) -> KpiReport:
    """Count every fold opened before *finish* into the report of ``[begin, finish)``."""
    days = max(1, -(-(finish - begin) // _DAY))
    periods = _periods(begin, finish)
    inside = [fold for fold in folds if fold.opened < finish]
    currencies = Counter(fold.currency for fold in inside)
    currency = currencies.most_common(1)[0][0] if currencies else ""
    overall = Kpis()
    variants: dict[str, Kpis] = {}

    def group(variant: str | None) -> list[Kpis]:
        if variant is None:
            return [overall]
        return [overall, variants.setdefault(variant, Kpis())]

    counted: list[tuple[_Fold, list[Kpis], bool, Decimal]] = []
    for fold in inside:
        final = fold.state_at(finish)
        targets = group(final.variant)
        entry = max(begin, fold.opened)
        at_entry = fold.state_at(entry)
        past_due = fold.days_past_due(at_entry, entry) >= 1
        cured = past_due and fold.days_past_due(final, finish) == 0
        for kpis in targets:
            kpis.cases += 1
            kpis.past_due_cases += past_due
            kpis.cured += cured
            if past_due and fold.currency == currency:
                kpis.past_due += overdue_sum(at_entry.balance)
        counted.append((fold, targets, past_due, overdue_sum(at_entry.balance)))
    for kpis in (overall, *variants.values()):
        kpis.currency = currency
        kpis.collected_by_day = [Decimal(0)] * days
        kpis.recovered_by_day = [Decimal(0)] * days
        kpis.periods = periods
        kpis.period_flows = [Counter() for _ in periods]
    for fold, targets, past_due, owed in counted:
        cohort = past_due and fold.currency == currency
        recovered = _count(fold, targets, prices, begin, finish, cohort, fold.currency == currency)
        if cohort:
            for kpis in targets:
                kpis.recovery_cases.append((owed, recovered))
        for number, period in enumerate(periods):
            if fold.opened > period.start:
                continue
            flow = (
                fold.bucket(fold.state_at(period.start), period.start),
                fold.bucket(fold.state_at(period.end), period.end),
            )
            if flow[0] == "paid":
                continue
            for kpis in targets:
                kpis.period_flows[number][flow] += 1
    report = KpiReport(overall, variants, begin, finish, days, periods)
    report.debtor_locales = dict(Counter(fold.locale for fold in inside))
    return report


def _count(
    fold: _Fold,
    targets: Sequence[Kpis],
    prices: Mapping[str, Decimal],
    begin: datetime,
    finish: datetime,
    cohort: bool,
    main_currency: bool,
) -> Decimal:
    """Add one case's money, contacts, denials and promises in ``[begin, finish)`` to its groups.

    Returns:
        What the case paid in the window (a payment reversed, whenever, left out), counted
        in the recovery rate when it is in the cohort.
    """
    recovered = Decimal(0)
    for kind, at, data in fold.events:
        if not begin <= at < finish:
            continue
        if kind == "money":
            if not main_currency:
                continue
            day = int((at - begin) // _DAY)
            recovered += data
            for kpis in targets:
                kpis.collected += data
                kpis.collected_by_day[day] += data
                if cohort:
                    kpis.collected_past_due += data
                    kpis.recovered_by_day[day] += data
        elif kind == "interaction":
            if data.get("outcome") == "reply":
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
            rules = {reason["rule"] for reason in data.get("reasons", ())}
            channel = data.get("channel", "")
            for kpis in targets:
                kpis.denied += 1
                kpis.denied_by_channel[channel] += 1
                kpis.denied_several_rules += len(rules) > 1
                kpis.blocked_by.update(rules)
        elif kind == "promise_made":
            for kpis in targets:
                kpis.promises += 1
        elif kind == "promise_resolved":
            for kpis in targets:
                kpis.promises_resolved += 1
                kpis.promises_kept += data.get("status") == "kept"
    return recovered
