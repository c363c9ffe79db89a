"""Rate ceilings: the most interest and late fees the law of a pack's jurisdiction allows.

A policy states the late-fee (penalty interest) rate its messages announce
(``lender.late_fee_rate`` per ``lender.late_fee_period``).  A rate above the
ceiling of one of its packs is refused when the policy loads (`Policy.problems`,
so ``arrears check`` reports it too), naming the field, the rate as a yearly
figure, the ceiling and where it comes from.

`CEILINGS` holds one `RateCeiling` per pack id.  Each says where its figure
comes from and whether the figure is the law's own or a default of this
library standing in for a figure that changes (an index rate) or that the law
leaves to the lender's own contracts.  A lender whose loans fall under
another ceiling sets ``lender.rate_ceiling`` (a yearly fraction: ``"0.24"``
is 24%); the problem then cites the policy instead.

A rate is made yearly as a borrower pays it: a daily rate times 365, a
monthly rate times 12 (no compounding).  Banks in China divide a yearly rate
by 360 to quote a daily one; multiplying by 365 gives the higher yearly figure,
so a rate close to the ceiling is refused rather than let through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ..limits import MAX_RATE
from .checks import FieldPath

__all__ = ["CEILINGS", "PERIODS_A_YEAR", "RateCeiling", "ceiling_for", "rate_problems", "yearly"]


@dataclass(frozen=True, slots=True)
class RateCeiling:
    """The most a pack's jurisdiction lets interest and late fees come to in a year.

    Attributes:
        pack: The pack id it belongs to.
        yearly: The ceiling as a yearly fraction (``Decimal("0.12")`` is 12%).
        basis: How the figure is arrived at, in words.
        citation: The provision it comes from.
        law: True when the figure is the law's own; False when it is this
            library's default for a figure the law ties to an index or leaves
            to contracts (the docs say which).
        configure: How a lender sets a different ceiling.
    """

    pack: str
    yearly: Decimal
    basis: str
    citation: str
    law: bool
    configure: str


#: The one-year Loan Prime Rate (LPR) the CN ceiling is four times of: 3.0%, as
#: published by the National Interbank Funding Center from 20 May 2025 [confirm
#: the figure in force when the loans were made].
CN_ONE_YEAR_LPR: Final = Decimal("0.030")

CEILINGS: Final[Mapping[str, RateCeiling]] = {
    "CN": RateCeiling(
        pack="CN",
        yearly=4 * CN_ONE_YEAR_LPR,
        basis="four times the one-year LPR when the contract was made (3.0% from 20 May 2025)",
        citation=(
            "法释〔2020〕17号 (private lending, 2020 amendment) arts. 25, 28, 29: interest, "
            "overdue interest, penalties and fees together"
        ),
        law=False,
        configure=(
            "set lender.rate_ceiling to four times the LPR of the month the contracts were "
            "made, or, for a licensed financial institution outside the private-lending rules "
            "(法释〔2020〕27号), to '0.24' (法发〔2017〕22号 art. 2)"
        ),
    ),
    "UK": RateCeiling(
        pack="UK",
        yearly=Decimal("0.008") * 365,
        basis="0.8% a day, the price cap on high-cost short-term credit",
        citation="FCA CONC 5A.2.3R",
        law=False,
        configure=(
            "set lender.rate_ceiling to the agreements' own ceiling; outside high-cost "
            "short-term credit default charges must not exceed reasonable costs (CONC 7.7.5R)"
        ),
    ),
}
"""The rate ceiling of each pack id that has one.  The packs of the United States
(``US-RegF`` and its state overlays) have none: federal law sets no general cap, and
state usury laws vary by lender licence and product, so a lender there sets
``lender.rate_ceiling`` itself."""

PERIODS_A_YEAR: Final[Mapping[str, int]] = {"day": 365, "month": 12, "year": 1}
"""How many of each late-fee period make a year, to compare a rate with a yearly ceiling."""


def yearly(rate: Decimal, period: str) -> Decimal:
    """*rate* per *period* (``day``, ``month`` or ``year``) as a yearly fraction, uncompounded.

    >>> yearly(Decimal("0.0005"), "day")
    Decimal('0.1825')
    """
    return rate * PERIODS_A_YEAR[period]


def ceiling_for(packs: Sequence[str]) -> RateCeiling | None:
    """The lowest ceiling among *packs* that have one (`CEILINGS`); ``None`` when none has."""
    found = [CEILINGS[pack] for pack in packs if pack in CEILINGS]
    return min(found, key=lambda ceiling: ceiling.yearly) if found else None


def _percent(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def rate_problems(packs: Sequence[str], lender: Mapping[str, Any]) -> list[tuple[FieldPath, str]]:
    """The late-fee rate of *lender* (a policy's ``lender``) above its ceiling, as problems.

    The ceiling is ``lender.rate_ceiling`` when set, else the lowest of *packs*'
    (`ceiling_for`).  Values that are not rates are left to `LenderDetails`,
    which reports them.
    """
    raw_rate = lender.get("late_fee_rate")
    if raw_rate is None or isinstance(raw_rate, bool | float):
        return []
    period = lender.get("late_fee_period", "day")
    if period not in PERIODS_A_YEAR:
        return []
    try:
        rate = Decimal(str(raw_rate))
        own = lender.get("rate_ceiling")
        chosen = None if own is None or isinstance(own, bool | float) else Decimal(str(own))
    except InvalidOperation:
        return []
    if not rate.is_finite() or (chosen is not None and not chosen.is_finite()):
        return []
    if rate >= MAX_RATE or (chosen is not None and chosen >= MAX_RATE):
        return []  # not a rate: `LenderDetails` says so
    per_year = yearly(rate, period)
    if chosen is not None:
        if per_year > chosen:
            return [
                (
                    ("lender", "late_fee_rate"),
                    f"got {raw_rate} a {period} ({_percent(per_year)} a year), above the "
                    f"policy's lender.rate_ceiling of {_percent(chosen)} a year",
                )
            ]
        return []
    ceiling = ceiling_for(packs)
    if ceiling is None or per_year <= ceiling.yearly:
        return []
    return [
        (
            ("lender", "late_fee_rate"),
            f"got {raw_rate} a {period} ({_percent(per_year)} a year), above the "
            f"{ceiling.pack} ceiling of {_percent(ceiling.yearly)} a year, {ceiling.basis} "
            f"({ceiling.citation}); another ceiling: {ceiling.configure}",
        )
    ]
