"""Champion and challenger: is a variant's KPI different from the champion's, or is it noise?

    >>> comparison = compare_variants(kpis_from_journal(store.chains()))  # doctest: +SKIP
    >>> print(*comparison.sentences(), sep="\n")                          # doctest: +SKIP

For each KPI that is a proportion of counted things (cure rate, right-party
contact rate, promise-kept rate, denial rate), each variant's value gets a 95%
Wilson interval, and each challenger's difference from the champion gets a 95%
Newcomb interval and a two-sided score-test p-value.  Every one of these
figures comes from ``statsmodels`` (the ``report`` extra: ``pip install
'arrears[report]'``); none is computed by a formula of ours.

The recovery rate is a ratio of amounts, not a proportion: its interval, and
that of a challenger's difference, come from a percentile bootstrap over the
cases past due at entry (`recovery_ratios`), seeded, so the same journal gives
the same interval on every run.  ``docs/kpis.md`` ("Champion and challenger")
says what the figures mean and what they do not.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

from .errors import ArrearsError, InvalidInput
from .report_text import EN, ReportLocale, report_locale

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "ALPHA",
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "INTERVALS_NEED",
    "PROPORTIONS",
    "Comparison",
    "Counts",
    "Difference",
    "Proportion",
    "Ratio",
    "RatioDifference",
    "VariantReport",
    "champion_of",
    "compare_variants",
    "intervals_available",
    "recovery_ratios",
]

#: The significance level: a difference is called clear when its two-sided p-value is below it.
ALPHA: Final = 0.05

#: How many times the recovery rate's bootstrap resamples the cases.
BOOTSTRAP_RESAMPLES: Final = 4000

#: The bootstrap's seed: the same journal gives the same interval on every run.
BOOTSTRAP_SEED: Final = 20260901

#: What the report says in place of the intervals when statsmodels is not installed.
INTERVALS_NEED: Final = EN.intervals_need


class Counts(Protocol):
    """What the comparison reads of one variant's KPIs (`arrears.kpi.Kpis` has it)."""

    @property
    def cured(self) -> int:
        """Cases past due at entry and cured by the end."""

    @property
    def past_due_cases(self) -> int:
        """Cases past due at entry."""

    @property
    def right_party(self) -> int:
        """Calls and visits that reached the debtor."""

    @property
    def agent_contacts(self) -> int:
        """Calls and visits made."""

    @property
    def promises_kept(self) -> int:
        """Promises kept in full."""

    @property
    def promises_resolved(self) -> int:
        """Promises resolved."""

    @property
    def denied(self) -> int:
        """Contacts compliance denied."""

    @property
    def proposed(self) -> int:
        """Contacts proposed: made or denied."""

    @property
    def recovery_cases(self) -> Sequence[tuple[Decimal, Decimal]]:
        """Per case past due at entry: its amount past due then, and what it paid."""


class VariantReport(Protocol):
    """What the comparison reads of a report (`arrears.kpi.KpiReport` has it)."""

    @property
    def variants(self) -> Mapping[str, Counts]:
        """The KPIs of each variant, by name."""

    @property
    def champion(self) -> str | None:
        """The champion's name, when the caller knows it."""


#: The proportion KPIs compared: (name, what is counted, successes, trials).
PROPORTIONS: Final[
    tuple[tuple[str, str, Callable[[Counts], int], Callable[[Counts], int]], ...]
] = (
    ("cure rate", "cases", lambda k: k.cured, lambda k: k.past_due_cases),
    (
        "right-party contact rate",
        "calls and visits",
        lambda k: k.right_party,
        lambda k: k.agent_contacts,
    ),
    ("promise-kept rate", "promises", lambda k: k.promises_kept, lambda k: k.promises_resolved),
    ("denial rate", "contacts proposed", lambda k: k.denied, lambda k: k.proposed),
)

_RECOVERY: Final = "recovery rate"


def intervals_available() -> bool:
    """True when statsmodels, which computes every interval and p-value, is installed."""
    return importlib.util.find_spec("statsmodels") is not None


@dataclass(frozen=True, slots=True)
class Proportion:
    """One variant's value of one KPI, with its 95% Wilson interval.

    Attributes:
        successes: The cases (calls, promises) counted in the numerator.
        trials: Those counted in the denominator.
        low: The interval's lower end (``None`` when *trials* is 0).
        high: Its upper end (``None`` when *trials* is 0).
    """

    successes: int
    trials: int
    low: float | None
    high: float | None

    @property
    def value(self) -> float | None:
        """``successes / trials``, ``None`` when nothing was counted."""
        return self.successes / self.trials if self.trials else None

    def cell(self, locale: str = "en") -> str:
        """``"41.2% (38.1%–44.3%) of 988"``; ``"- of 0"`` when nothing was counted."""
        return _cell(report_locale(locale), self.value, self.low, self.high, self.trials)

    def to_json(self) -> dict[str, Any]:
        """The figures as plain JSON values (fractions, not percentages)."""
        return {
            "successes": self.successes,
            "trials": self.trials,
            "value": self.value,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True, slots=True)
class Ratio:
    """One variant's recovery rate, with its 95% percentile-bootstrap interval over cases.

    Attributes:
        cases: The cases past due at entry (each is one draw of the bootstrap).
        past_due: What they had past due at entry.
        collected: What they paid in the window (a payment reversed left out).
        low: The interval's lower end (``None`` without cases).
        high: Its upper end (``None`` without cases).
    """

    cases: int
    past_due: Decimal
    collected: Decimal
    low: float | None
    high: float | None

    @property
    def trials(self) -> int:
        """The cases past due at entry (the sample size, as `Proportion.trials`)."""
        return self.cases

    @property
    def value(self) -> float | None:
        """``collected / past_due``, ``None`` without cases."""
        return float(self.collected) / float(self.past_due) if self.past_due else None

    def cell(self, locale: str = "en") -> str:
        """``"33.3% (21.0%–47.5%) of 400"``; ``"- of 0"`` without cases."""
        return _cell(report_locale(locale), self.value, self.low, self.high, self.cases)

    def to_json(self) -> dict[str, Any]:
        """The figures as plain JSON values (fractions; amounts as strings)."""
        return {
            "cases": self.cases,
            "trials": self.cases,
            "past_due": str(self.past_due),
            "collected": str(self.collected),
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "method": "bootstrap",
        }


def _cell(
    words: ReportLocale, value: float | None, low: float | None, high: float | None, trials: int
) -> str:
    if value is None or low is None or high is None:
        return words.text.empty_cell
    return words.text.proportion_cell.format(
        value=words.pct(value), low=words.pct(low), high=words.pct(high), trials=words.count(trials)
    )


@dataclass(frozen=True, slots=True)
class Difference:
    """A challenger's KPI against the champion's: challenger minus champion.

    Attributes:
        kpi: The KPI's name (``"cure rate"``).
        unit: What its denominator counts (``"cases"``).
        champion: The champion variant's name.
        challenger: The challenger's.
        of_champion: The champion's value and interval.
        of_challenger: The challenger's.
        low: The lower end of the difference's 95% interval (a fraction; ``None``
            when either variant counted nothing).
        high: Its upper end.
        p_value: The two-sided p-value of "no difference" (``None`` when there is
            nothing to test: a variant counted nothing, or both are 0% or both 100%).
    """

    kpi: str
    unit: str
    champion: str
    challenger: str
    of_champion: Proportion
    of_challenger: Proportion
    low: float | None
    high: float | None
    p_value: float | None

    @property
    def difference(self) -> float | None:
        """Challenger minus champion (a fraction), ``None`` when either counted nothing."""
        ours, theirs = self.of_challenger.value, self.of_champion.value
        return None if ours is None or theirs is None else ours - theirs

    @property
    def significant(self) -> bool:
        """True when the p-value is below `ALPHA` (two-sided, no correction for many KPIs)."""
        return self.p_value is not None and self.p_value < ALPHA

    def sentence(self, locale: str = "en") -> str:
        """The comparison in one plain sentence, with the interval, the p-value and the sizes."""
        words = report_locale(locale)
        text = words.text
        known = self._known(words)
        difference = self.difference
        if difference is None or self.low is None or self.high is None:
            return text.sentence_nothing.format(**known)
        if self.p_value is None:
            value = words.pct(self.of_champion.value)
            return text.sentence_same.format(value=value, **known)
        interval = text.interval.format(low=words.points(self.low), high=words.points(self.high))
        figures = text.figures.format(
            interval=interval, p=words.p_value(self.p_value), sizes=known["sizes"]
        )
        return _verdict(words, self.significant, difference, figures, known)

    def _known(self, words: ReportLocale) -> dict[str, str]:
        return _known(words, self.kpi, self.unit, self.champion, self.challenger, self)

    def cell(self, locale: str = "en") -> str:
        """``"+3.1 pts (+0.4 to +5.8), p = 0.02"`` for the table."""
        words = report_locale(locale)
        text = _difference_cell(words, self.difference, self.low, self.high)
        if text == "-" or self.p_value is None:
            return text
        return text + words.text.p_suffix.format(p=words.p_value(self.p_value))

    def to_json(self) -> dict[str, Any]:
        """The comparison as plain JSON values (fractions, not percentages)."""
        return {
            "kpi": self.kpi,
            "champion": self.champion,
            "challenger": self.challenger,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "p_value": self.p_value,
            "significant": self.significant,
        }


@dataclass(frozen=True, slots=True)
class RatioDifference:
    """A challenger's recovery rate against the champion's: challenger minus champion, with
    the 95% percentile-bootstrap interval of the difference (each variant's cases resampled
    on their own).

    Attributes:
        champion: The champion variant's name.
        challenger: The challenger's.
        of_champion: The champion's recovery rate and interval.
        of_challenger: The challenger's.
        low: The lower end of the difference's interval (``None`` when either has no cases).
        high: Its upper end.
    """

    champion: str
    challenger: str
    of_champion: Ratio
    of_challenger: Ratio
    low: float | None
    high: float | None

    #: The KPI compared (as `Difference.kpi`).
    kpi: ClassVar[str] = _RECOVERY
    #: What its sample counts.
    unit: ClassVar[str] = "cases"
    #: No p-value: the interval says whether the difference is clear.
    p_value: ClassVar[None] = None

    @property
    def difference(self) -> float | None:
        """Challenger minus champion (a fraction), ``None`` when either has no cases."""
        ours, theirs = self.of_challenger.value, self.of_champion.value
        return None if ours is None or theirs is None else ours - theirs

    @property
    def significant(self) -> bool:
        """True when the difference's interval leaves out 0."""
        if self.low is None or self.high is None:
            return False
        return self.low > 0 or self.high < 0

    def sentence(self, locale: str = "en") -> str:
        """The comparison in one plain sentence, with the bootstrap interval and the sizes."""
        words = report_locale(locale)
        text = words.text
        known = _known(words, self.kpi, self.unit, self.champion, self.challenger, self)
        difference = self.difference
        if difference is None or self.low is None or self.high is None:
            return text.sentence_nothing.format(**known)
        if self.low == self.high == difference == 0:  # every resample alike: both 0%, say
            return text.sentence_same.format(value=words.pct(self.of_champion.value), **known)
        interval = text.bootstrap_interval.format(
            low=words.points(self.low), high=words.points(self.high)
        )
        figures = text.bootstrap_figures.format(interval=interval, sizes=known["sizes"])
        return _verdict(words, self.significant, difference, figures, known)

    def cell(self, locale: str = "en") -> str:
        """``"+3.1 pts (+0.4 to +5.8)"`` for the table."""
        return _difference_cell(report_locale(locale), self.difference, self.low, self.high)

    def to_json(self) -> dict[str, Any]:
        """The comparison as plain JSON values (fractions, not percentages)."""
        return {
            "kpi": self.kpi,
            "champion": self.champion,
            "challenger": self.challenger,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "p_value": None,
            "significant": self.significant,
            "method": "bootstrap",
        }


def _known(
    words: ReportLocale,
    kpi: str,
    unit: str,
    champion: str,
    challenger: str,
    found: Difference | RatioDifference,
) -> dict[str, str]:
    """The names and sizes every sentence of a comparison reads."""
    sizes = words.text.sizes.format(
        challenger_trials=words.count(found.of_challenger.trials),
        champion_trials=words.count(found.of_champion.trials),
        unit=words.unit(unit),
        challenger=challenger,
        champion=champion,
    )
    return {"kpi": words.kpi(kpi), "champion": champion, "challenger": challenger, "sizes": sizes}


def _verdict(
    words: ReportLocale, significant: bool, difference: float, figures: str, known: dict[str, str]
) -> str:
    text = words.text
    if not significant:
        return text.sentence_unclear.format(
            difference=words.points(difference), figures=figures, **known
        )
    template = text.sentence_higher if difference > 0 else text.sentence_lower
    return template.format(difference=words.magnitude(difference), figures=figures, **known)


def _difference_cell(
    words: ReportLocale, difference: float | None, low: float | None, high: float | None
) -> str:
    if difference is None or low is None or high is None:
        return "-"
    return words.text.difference_cell.format(
        difference=words.points(difference), low=words.points(low), high=words.points(high)
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every compared KPI of every variant, with intervals, against the champion.

    Attributes:
        champion: The champion variant's name.
        variants: The variants, the champion first, then the challengers by name.
        values: ``{kpi: {variant: Proportion or Ratio}}``: the proportions in `PROPORTIONS`
            order, then the recovery rate; a KPI no variant counted anything for is left out.
        differences: One per KPI in *values* and challenger.
    """

    champion: str
    variants: tuple[str, ...]
    values: dict[str, dict[str, Proportion | Ratio]]
    differences: tuple[Difference | RatioDifference, ...]

    def rows(self, locale: str = "en") -> list[tuple[str, list[str]]]:
        """The table's rows: per KPI, each variant's value and interval, then each challenger's
        difference in the challenger's column."""
        words = report_locale(locale)
        rows: list[tuple[str, list[str]]] = []
        for name in self.values:
            cells = [self.values[name][variant].cell(locale) for variant in self.variants]
            rows.append((words.kpi(name), cells))
            for difference in self.differences:
                if difference.kpi != name:
                    continue
                cells = [
                    difference.cell(locale) if variant == difference.challenger else ""
                    for variant in self.variants
                ]
                label = words.text.difference_row.format(
                    challenger=difference.challenger, champion=self.champion
                )
                rows.append((f"  {label}", cells))
        return rows

    def heads(self, locale: str = "en") -> list[str]:
        """The column heads: ``"A (champion)"``, then each challenger."""
        text = report_locale(locale).text
        return [
            text.champion_head.format(variant=variant) if variant == self.champion else variant
            for variant in self.variants
        ]

    def sentences(self, locale: str = "en") -> list[str]:
        """One plain sentence per KPI and challenger."""
        return [difference.sentence(locale) for difference in self.differences]

    def notes(self, locale: str = "en") -> list[str]:
        """How the figures were computed (printed under the sentences)."""
        words = report_locale(locale)
        notes = [words.text.comparison_note.format(alpha=f"{ALPHA:g}")]
        if _RECOVERY in self.values:
            notes.append(
                words.text.bootstrap_note.format(
                    resamples=words.count(BOOTSTRAP_RESAMPLES), seed=BOOTSTRAP_SEED
                )
            )
        return notes

    def to_json(self) -> dict[str, Any]:
        """The comparison as plain JSON values."""
        return {
            "champion": self.champion,
            "alpha": ALPHA,
            "bootstrap": {"resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED},
            "values": {
                name: {variant: value.to_json() for variant, value in by_variant.items()}
                for name, by_variant in self.values.items()
            },
            "differences": [difference.to_json() for difference in self.differences],
        }


def recovery_ratios(
    cases: Sequence[tuple[Decimal, Decimal]],
    *,
    variant: str = "",
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> NDArray[np.float64]:
    """The recovery rate of *resamples* bootstrap samples of *cases*.

    Each sample draws ``len(cases)`` cases with replacement, all equally
    likely, and its recovery rate is what the drawn cases paid over what they
    had past due at entry (a ratio of sums, as the KPI is).  The cases are put
    in order first and the draws are seeded by *seed* and *variant*, so the same
    cases give the same ratios however the journal lists them, and two variants
    draw independently of each other.

    Args:
        cases: ``(amount past due at entry, collected)`` per case; every amount past due
            is positive (a case past due owes something overdue).
        variant: The variant's name, mixed into the seed.
        resamples: How many samples.
        seed: The seed.

    Raises:
        InvalidInput: no cases, or fewer than one resample.
    """
    import numpy as np

    if not cases:
        raise InvalidInput("cases", [], "at least one case past due at entry")
    if resamples < 1:
        raise InvalidInput("resamples", resamples, "one or more")
    ordered = sorted(cases)
    owed = np.array([float(amount) for amount, _ in ordered])
    paid = np.array([float(amount) for _, amount in ordered])
    generator = np.random.default_rng([seed, *variant.encode()])
    size = len(ordered)
    ratios = np.empty(resamples)
    chunk = max(1, 2_000_000 // size)  # at most about 2 million draws in memory at once
    for first in range(0, resamples, chunk):
        count = min(chunk, resamples - first)
        drawn = generator.integers(0, size, size=(count, size))
        ratios[first : first + count] = paid[drawn].sum(axis=1) / owed[drawn].sum(axis=1)
    return ratios


def _ratio(variant: str, cases: Sequence[tuple[Decimal, Decimal]]) -> tuple[Ratio, Any]:
    """A variant's recovery rate with its interval, and its bootstrap ratios (``None``
    without cases)."""
    import numpy as np

    owed = sum((amount for amount, _ in cases), Decimal(0))
    paid = sum((amount for _, amount in cases), Decimal(0))
    if not cases:
        return Ratio(0, owed, paid, None, None), None
    ratios = recovery_ratios(cases, variant=variant)
    low, high = np.quantile(ratios, [ALPHA / 2, 1 - ALPHA / 2])
    return Ratio(len(cases), owed, paid, float(low), float(high)), ratios


def champion_of(variants: Sequence[str], champion: str | None = None) -> str:
    """The champion among *variants*: *champion* when given, else the variant named
    ``champion``, else the first by name.

    Raises:
        InvalidInput: *champion* is given and is not one of *variants*, or there are none.
    """
    names = sorted(variants)
    if not names:
        raise InvalidInput("variants", [], "at least one variant")
    if champion is not None:
        if champion not in names:
            raise InvalidInput("champion", champion, f"one of the variants {names}")
        return champion
    return "champion" if "champion" in names else names[0]


def compare_variants(report: VariantReport, champion: str | None = None) -> Comparison | None:
    """Each proportion KPI of each variant of *report* with its Wilson interval, and the recovery
    rate with its bootstrap interval; and each challenger against the champion.

    Args:
        report: The KPIs, per variant (`arrears.kpi.kpis_from_journal`).
        champion: The champion's name (default: ``report.champion``, else as `champion_of`).

    Returns:
        The comparison, or ``None`` when the report has fewer than two variants.

    Raises:
        ArrearsError: statsmodels is not installed (`INTERVALS_NEED` says how to install it).
        InvalidInput: *champion* is not one of the report's variants.
    """
    if len(report.variants) < 2:
        return None
    if not intervals_available():
        raise ArrearsError(INTERVALS_NEED)
    import numpy as np
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        proportion_confint,
        test_proportions_2indep,
    )

    first = champion_of(list(report.variants), champion or report.champion)
    order = (first, *sorted(name for name in report.variants if name != first))
    values: dict[str, dict[str, Proportion | Ratio]] = {}
    differences: list[Difference | RatioDifference] = []
    # 0/0 and x/0 inside statsmodels (a ratio it computes alongside, both rates 0% or 100%)
    # become NaN, which is read below; numpy's warnings about them say nothing more.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, unit, successes, trials in PROPORTIONS:
            by_variant: dict[str, Proportion] = {}
            for variant in order:
                kpis = report.variants[variant]
                count, total = successes(kpis), trials(kpis)
                low = high = None
                if total:
                    bounds = proportion_confint(count, total, alpha=ALPHA, method="wilson")
                    # Wilson's interval holds the rate; at 0% or 100% statsmodels' end can
                    # fall a rounding error inside it (0.9999999999999999 for 20 of 20).
                    low = min(float(bounds[0]), count / total)
                    high = max(float(bounds[1]), count / total)
                by_variant[variant] = Proportion(count, total, low, high)
            if not any(value.trials for value in by_variant.values()):
                continue  # no variant counted anything: nothing to show
            values[name] = dict(by_variant)
            base = by_variant[first]
            for variant in order[1:]:
                other = by_variant[variant]
                low = high = p_value = None
                if base.trials and other.trials:
                    ends = confint_proportions_2indep(
                        other.successes,
                        other.trials,
                        base.successes,
                        base.trials,
                        method="newcomb",
                        compare="diff",
                        alpha=ALPHA,
                    )
                    low, high = float(ends[0]), float(ends[1])
                    test = test_proportions_2indep(
                        other.successes,
                        other.trials,
                        base.successes,
                        base.trials,
                        method="score",
                        compare="diff",
                        alternative="two-sided",
                    )
                    found = float(test.pvalue)
                    p_value = None if np.isnan(found) else found
                differences.append(
                    Difference(name, unit, first, variant, base, other, low, high, p_value)
                )
    _compare_recovery(report, order, values, differences)
    return Comparison(first, order, values, tuple(differences))


def _compare_recovery(
    report: VariantReport,
    order: Sequence[str],
    values: dict[str, dict[str, Proportion | Ratio]],
    differences: list[Difference | RatioDifference],
) -> None:
    """Each variant's recovery rate with its bootstrap interval, and each challenger's
    difference from the champion (the first of *order*); nothing when no variant has a case
    past due at entry."""
    import numpy as np

    found = {variant: _ratio(variant, report.variants[variant].recovery_cases) for variant in order}
    if not any(ratio.cases for ratio, _ in found.values()):
        return
    values[_RECOVERY] = {variant: ratio for variant, (ratio, _) in found.items()}
    base, base_ratios = found[order[0]]
    for variant in order[1:]:
        other, ratios = found[variant]
        low = high = None
        if base_ratios is not None and ratios is not None:
            ends = np.quantile(ratios - base_ratios, [ALPHA / 2, 1 - ALPHA / 2])
            low, high = float(ends[0]), float(ends[1])
        differences.append(RatioDifference(order[0], variant, base, other, low, high))
