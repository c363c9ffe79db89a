"""Amounts, dates and rates written the way a reader in a locale expects, from CLDR data (Babel).

>>> from datetime import date
>>> from arrears import Money
>>> format_money(Money("10000", "CNY"), "zh-CN"), format_date(date(2026, 8, 31), "zh-CN")
('¥10,000.00', '2026年8月31日')
>>> format_money(Money("1250", "USD"), "en-US"), format_date(date(2026, 8, 31), "en-US")
('$1,250.00', 'August 31, 2026')
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from .._exceptions import InvalidInput
from ..clock import require_aware
from ..money import Money

__all__ = [
    "babel_locale",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "format_percent",
]


@lru_cache(maxsize=256)
def babel_locale(locale: str) -> Locale:
    """The Babel `Locale` for a BCP 47 tag such as ``"zh-CN"`` or ``"en-US"``.

    Raises:
        InvalidInput: a tag CLDR does not know.
    """
    try:
        return Locale.parse(locale, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidInput("locale", locale, "a BCP 47 tag CLDR knows, e.g. 'zh-CN'") from None


def format_money(amount: Money, locale: str) -> str:
    """*amount* with its currency's symbol and minor units, as *locale* writes it.

    ``¥10,000.00`` in ``zh-CN``, ``$1,250.00`` in ``en-US``; a foreign
    currency is marked as such (``US$1,250.00`` in ``zh-CN``).
    """
    return babel_numbers.format_currency(
        amount.amount, amount.currency, locale=babel_locale(locale)
    )


def format_number(value: Decimal | int, locale: str) -> str:
    """A number with *locale*'s grouping and decimal signs, every decimal kept."""
    return babel_numbers.format_decimal(
        value, locale=babel_locale(locale), decimal_quantization=False
    )


def format_percent(rate: Decimal | int, locale: str) -> str:
    """A rate (``Decimal("0.02")``) as a percentage (``2%``), every decimal kept (``0.05%``)."""
    if isinstance(rate, float):
        raise InvalidInput("rate", rate, "a Decimal, never a float")
    return babel_numbers.format_percent(
        rate, locale=babel_locale(locale), decimal_quantization=False
    )


def format_date(day: date, locale: str, style: str = "long") -> str:
    """A calendar date: ``2026年8月31日`` (zh-CN) or ``August 31, 2026`` (en-US).

    Args:
        day: The date.
        locale: A BCP 47 tag.
        style: ``"short"``, ``"medium"``, ``"long"`` or ``"full"`` (CLDR's
            styles), or a CLDR pattern such as ``"M月d日"``.
    """
    if isinstance(day, datetime):
        day = day.date()
    return babel_dates.format_date(day, style, locale=babel_locale(locale))


def format_datetime(
    moment: datetime, locale: str, style: str = "medium", *, zone: tzinfo | None = None
) -> str:
    """A moment, in *zone* (its own offset when ``None``), as *locale* writes it.

    Raises:
        InvalidInput: a naive datetime.
    """
    moment = require_aware(moment, "moment")
    local = moment.astimezone(zone) if zone is not None else moment
    return babel_dates.format_datetime(
        local, style, tzinfo=local.tzinfo, locale=babel_locale(locale)
    )
