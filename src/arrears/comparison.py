"""Champion and challenger: is a variant's KPI different from the champion's, or is it noise?

    >>> comparison = compare_variants(kpis_from_journal(store.chains()))  # doctest: +SKIP
    >>> print(*comparison.sentences(), sep="\n")                          # doctest: +SKIP

For each KPI that is a proportion of counted things (cure rate, right-party
contact rate, promise-kept rate), each variant's value gets a 95% Wilson
interval, and each challenger's difference from the champion gets a 95%
Newcomb interval and a two-sided score-test p-value.  Every figure comes from
``statsmodels`` (the ``report`` extra: ``pip install 'arrears[report]'``); none
is computed by a formula of ours.  ``docs/kpis.md`` ("Champion and
challenger") says what the figures mean and what they do not.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from .errors import ArrearsError, InvalidInput

__all__ = [
    "ALPHA",
    "INTERVALS_NEED",
    "PROPORTIONS",
    "Comparison",
    "Counts",
    "Difference",
    "Proportion",
    "VariantReport",
    "champion_of",
    "compare_variants",
    "intervals_available",
]

#: The significance level: a difference is called clear when its two-sided p-value is below it.
ALPHA: Final = 0.05

#: What the report says in place of the intervals when statsmodels is not installed.
INTERVALS_NEED: Final = (
    "Confidence intervals for champion/challenger need statsmodels: pip install 'arrears[report]'."
)


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


class VariantReport(Protocol):
    """What the comparison reads of a report (`arrears.kpi.KpiReport` has it)."""

    @property
    def variants(self) -> Mapping[str, Counts]:
        """The KPIs of each variant, by name."""

    @property
    def champion(self) -> str | None:
        """The champion's name, when the caller knows it."""


#: The KPIs compared: (name, what is counted, successes, trials).
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
)


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

    def cell(self) -> str:
        """``"41.2% (38.1–44.3) of 988"``; ``"- of 0"`` when nothing was counted."""
        if self.value is None or self.low is None or self.high is None:
            return "- of 0"
        return f"{self.value:.1%} ({self.low:.1%}–{self.high:.1%}) of {self.trials:,}"

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

    def sentence(self) -> str:
        """The comparison in one plain sentence, with the interval, the p-value and the sizes."""
        who = f"challenger {self.challenger}'s {self.kpi}"
        sizes = (
            f"{self.of_challenger.trials:,} {self.unit} in {self.challenger}, "
            f"{self.of_champion.trials:,} in {self.champion}"
        )
        difference = self.difference
        if difference is None or self.low is None or self.high is None:
            return f"{who}: nothing to compare with champion {self.champion}'s ({sizes})."
        interval = f"95% CI {100 * self.low:+.1f} to {100 * self.high:+.1f} points"
        if self.p_value is None:
            return (
                f"{who}: no difference from champion {self.champion}'s, both "
                f"{self.of_champion.value:.1%} ({sizes})."
            )
        figures = f"{interval}; p {_p(self.p_value)}; {sizes}"
        if not self.significant:
            return (
                f"{who}: no clear difference from champion {self.champion}'s "
                f"({100 * difference:+.1f} points, {figures})."
            )
        direction = "higher" if difference > 0 else "lower"
        return (
            f"{who} is {100 * abs(difference):.1f} points {direction} than champion "
            f"{self.champion}'s ({figures})."
        )

    def cell(self) -> str:
        """``"+3.1 pts (+0.4 to +5.8), p = 0.02"`` for the table."""
        difference = self.difference
        if difference is None or self.low is None or self.high is None:
            return "-"
        text = f"{100 * difference:+.1f} pts ({100 * self.low:+.1f} to {100 * self.high:+.1f})"
        return text + ("" if self.p_value is None else f", p {_p(self.p_value)}")

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


def _p(value: float) -> str:
    """``"= 0.0213"``, ``"< 0.001"``: three significant digits, so 0.0499 never reads 0.05."""
    return "< 0.001" if value < 0.001 else f"= {value:.3g}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every proportion KPI of every variant, with intervals, against the champion.

    Attributes:
        champion: The champion variant's name.
        variants: The variants, the champion first, then the challengers by name.
        values: ``{kpi: {variant: Proportion}}``, in `PROPORTIONS` order; a KPI no variant
            counted anything for is left out.
        differences: One per KPI in *values* and challenger.
    """

    champion: str
    variants: tuple[str, ...]
    values: dict[str, dict[str, Proportion]]
    differences: tuple[Difference, ...]

    def rows(self) -> list[tuple[str, list[str]]]:
        """The table's rows: per KPI, each variant's value and interval, then each challenger's
        difference in the challenger's column."""
        rows: list[tuple[str, list[str]]] = []
        for name in self.values:
            rows.append((name, [self.values[name][variant].cell() for variant in self.variants]))
            for difference in self.differences:
                if difference.kpi != name:
                    continue
                cells = [
                    difference.cell() if variant == difference.challenger else ""
                    for variant in self.variants
                ]
                rows.append((f"  {difference.challenger} − {self.champion}", cells))
        return rows

    def heads(self) -> list[str]:
        """The column heads: ``"A (champion)"``, then each challenger."""
        return [
            f"{variant} (champion)" if variant == self.champion else variant
            for variant in self.variants
        ]

    def sentences(self) -> list[str]:
        """One plain sentence per KPI and challenger."""
        return [difference.sentence() for difference in self.differences]

    def notes(self) -> list[str]:
        """How the figures were computed (printed under the sentences)."""
        return [
            "Intervals: Wilson for each variant, Newcomb for a difference; p: two-sided score "
            f"test; a difference is called clear when p < {ALPHA:g}, with no correction for "
            "comparing several KPIs (docs/kpis.md)."
        ]

    def to_json(self) -> dict[str, Any]:
        """The comparison as plain JSON values."""
        return {
            "champion": self.champion,
            "alpha": ALPHA,
            "values": {
                name: {variant: value.to_json() for variant, value in by_variant.items()}
                for name, by_variant in self.values.items()
            },
            "differences": [difference.to_json() for difference in self.differences],
        }


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
    """Each proportion KPI of each variant of *report* with its interval, and each challenger
    against the champion.

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
    values: dict[str, dict[str, Proportion]] = {}
    differences: list[Difference] = []
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
                    low, high = float(bounds[0]), float(bounds[1])
                by_variant[variant] = Proportion(count, total, low, high)
            if not any(value.trials for value in by_variant.values()):
                continue  # no variant counted anything: nothing to show
            values[name] = by_variant
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
    return Comparison(first, order, values, tuple(differences))
