"""Amounts, dates and rates written the way a reader in a locale expects, from CLDR data (Babel).

>>> from datetime import date
>>> from arrears import Money
>>> format_money(Money("10000", "CNY"), "zh-CN"), format_date(date(2026, 8, 31), "zh-CN")
('¥10,000.00', '2026年8月31日')
>>> format_money(Money("1250", "USD"), "en-US"), format_date(date(2026, 8, 31), "en-US")
('$1,250.00', 'August 31, 2026')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from ..clock import require_aware
from ..errors import InvalidInput
from ..money import Money

if TYPE_CHECKING:
    from babel import Locale
    from babel.numbers import NumberPattern

# Babel is imported by the functions that use it, on first use, not with `arrears`.

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
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(locale, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidInput("locale", locale, "a BCP 47 tag CLDR knows, e.g. 'zh-CN'") from None


_QUOTED: Final = re.compile(r"'([^']*)'")
#: Amounts that the probes of `_CurrencyFormat` check against Babel before it is used.
_PROBES: Final = tuple(
    Decimal(text) for text in ("0", "-0", "0.5", "7", "-1234.5", "1234567.891", "123456789012.345")
)


class _CurrencyFormat:
    """Babel's standard currency format for one locale and currency, looked up once.

    `babel.numbers.format_currency` parses the locale, finds its pattern, the
    currency's symbol and digits and the locale's number symbols on every
    call.  This keeps them and applies the steps of
    `babel.numbers.NumberPattern.apply` for a plain pattern (no scientific
    notation, significant digits or spelled-out currency name): the absolute
    value normalised and quantised to the currency's digits in the current
    decimal context, the integer part grouped, and the prefix and suffix of
    its sign, with the currency's symbol put in and the quoting removed.
    """

    __slots__ = ("_decimal", "_group", "_grouping", "_min_int", "_prefix", "_quantum", "_suffix")

    def __init__(self, pattern: NumberPattern, symbols: Mapping[str, str], currency: str) -> None:
        from babel.numbers import get_currency_precision, get_decimal_quantum

        self._group: str = symbols.get("group", ",")
        self._decimal: str = symbols.get("decimal", ".")
        self._grouping: tuple[int, int] = pattern.grouping
        self._min_int: int = pattern.int_prec[0]
        self._quantum = get_decimal_quantum(get_currency_precision(currency))
        self._prefix: tuple[str, str] = pattern.prefix
        self._suffix: tuple[str, str] = pattern.suffix

    @classmethod
    def of(cls, babel: Locale, currency: str) -> _CurrencyFormat | None:
        """The format of *currency* in *babel*, or ``None`` where only Babel itself will do."""
        from babel.numbers import format_currency, get_currency_symbol

        try:
            pattern = babel.currency_formats["standard"]
            symbols = babel.number_symbols["latn"]
        except KeyError:
            return None
        if (
            pattern.exp_prec
            or "@" in pattern.pattern
            or pattern.number_pattern == ""
            or pattern.scale
            or any("¤¤¤" in text for text in (*pattern.prefix, *pattern.suffix))
        ):
            return None
        found = cls(pattern, symbols, currency)
        symbol = get_currency_symbol(currency, babel)
        prefix = [_put_currency(text, currency, symbol) for text in pattern.prefix]
        suffix = [_put_currency(text, currency, symbol) for text in pattern.suffix]
        # Babel unquotes the whole text at once: the same as unquoting each part
        # when the number has no quote and the prefix pairs its own.
        if "'" in found._group + found._decimal or any(text.count("'") % 2 for text in prefix):
            return None
        found._prefix = (_unquote(prefix[0]), _unquote(prefix[1]))
        found._suffix = (_unquote(suffix[0]), _unquote(suffix[1]))
        for probe in _PROBES:
            if found.apply(probe) != format_currency(probe, currency, locale=babel):
                return None
        return found

    def apply(self, value: Decimal) -> str:
        """*value* (a finite `Decimal`) as `babel.numbers.format_currency` writes it."""
        value = value.scaleb(0)
        negative = value.is_signed()
        rounded = abs(value).normalize().quantize(self._quantum)
        whole, _, fraction = f"{rounded:f}".partition(".")
        if len(whole) < self._min_int:
            whole = "0" * (self._min_int - len(whole)) + whole
        size, grouped = self._grouping[0], ""
        while len(whole) > size:
            grouped = self._group + whole[-size:] + grouped
            whole = whole[:-size]
            size = self._grouping[1]
        number = whole + grouped
        if fraction:
            number += self._decimal + fraction
        return self._prefix[negative] + number + self._suffix[negative]


def _put_currency(text: str, currency: str, symbol: str) -> str:
    if "¤" in text:
        return text.replace("¤¤", currency.upper()).replace("¤", symbol)
    return text


def _unquote(text: str) -> str:
    return _QUOTED.sub(lambda match: match.group(1) or "'", text)


@lru_cache(maxsize=256)
def _currency_format(locale: str, currency: str) -> _CurrencyFormat | None:
    return _CurrencyFormat.of(babel_locale(locale), currency)


def format_money(amount: Money, locale: str) -> str:
    """*amount* with its currency's symbol and minor units, as *locale* writes it.

    ``¥10,000.00`` in ``zh-CN``, ``$1,250.00`` in ``en-US``; a foreign
    currency is marked as such (``US$1,250.00`` in ``zh-CN``).
    """
    value = amount.amount
    found = _currency_format(locale, amount.currency)
    if found is not None and value.is_finite():
        return found.apply(value)
    from babel.numbers import format_currency

    return format_currency(value, amount.currency, locale=babel_locale(locale))


@lru_cache(maxsize=1024, typed=True)
def _number(value: Decimal | int, signed: bool, locale: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=babel_locale(locale), decimal_quantization=False)


@lru_cache(maxsize=1024, typed=True)
def _percent(rate: Decimal | int, signed: bool, locale: str) -> str:
    from babel.numbers import format_percent as babel_format_percent

    return babel_format_percent(rate, locale=babel_locale(locale), decimal_quantization=False)


def _remembered(value: object) -> bool:
    """Whether a number's text may be remembered: an int (not a bool) or a finite `Decimal`."""
    return type(value) is int or (isinstance(value, Decimal) and value.is_finite())


def _negative(value: Decimal | int) -> bool:
    """The sign, which tells ``-0`` from ``0`` (equal, but written differently)."""
    return value.is_signed() if isinstance(value, Decimal) else value < 0


def format_number(value: Decimal | int, locale: str) -> str:
    """A number with *locale*'s grouping and decimal signs, every decimal kept."""
    if _remembered(value):
        return _number(value, _negative(value), locale)
    from babel.numbers import format_decimal

    return format_decimal(value, locale=babel_locale(locale), decimal_quantization=False)


def format_percent(rate: Decimal | int, locale: str) -> str:
    """A rate (``Decimal("0.02")``) as a percentage (``2%``), every decimal kept (``0.05%``)."""
    if isinstance(rate, float):
        raise InvalidInput("rate", rate, "a Decimal, never a float")
    if _remembered(rate):
        return _percent(rate, _negative(rate), locale)
    from babel.numbers import format_percent as babel_format_percent

    return babel_format_percent(rate, locale=babel_locale(locale), decimal_quantization=False)


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
    if type(day) is date and type(style) is str:
        return _date(day, style, locale)
    from babel.dates import format_date as babel_format_date

    return babel_format_date(day, style, locale=babel_locale(locale))


@lru_cache(maxsize=4096)
def _date(day: date, style: str, locale: str) -> str:
    from babel.dates import format_date as babel_format_date

    return babel_format_date(day, style, locale=babel_locale(locale))


def format_datetime(
    moment: datetime, locale: str, style: str = "medium", *, zone: tzinfo | None = None
) -> str:
    """A moment, in *zone* (its own offset when ``None``), as *locale* writes it.

    Raises:
        InvalidInput: a naive datetime.
    """
    moment = require_aware(moment, "moment")
    local = moment.astimezone(zone) if zone is not None else moment
    from babel.dates import format_datetime as babel_format_datetime

    return babel_format_datetime(local, style, tzinfo=local.tzinfo, locale=babel_locale(locale))
