"""Money: an exact `Decimal` amount in one ISO 4217 currency.

Amounts carry exactly the currency's minor units (CNY and USD 2, JPY 0, BHD 3),
taken from the ISO 4217 table.  Floats are refused: ``0.1 + 0.2`` is not a
sum of money.  Arithmetic and ordering only work within one currency.

    >>> Money("1250.5", "CNY")
    Money('1250.50', 'CNY')
    >>> Money("100", "JPY") + Money("1", "JPY")
    Money('101', 'JPY')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation, getcontext
from typing import Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from .errors import CurrencyMismatch, InvalidInput
from .limits import MAX_AMOUNT

__all__ = [
    "ALLOCATION_ORDER",
    "Money",
    "allocate",
    "currency_quantum",
    "minor_units",
    "split",
]


_QUANTA: dict[str, Decimal] = {}


def currency_quantum(currency: str) -> Decimal:
    """The quantum of *currency*'s minor unit, e.g. ``Decimal("0.01")`` (cached per code)."""
    quantum = _QUANTA.get(currency)
    if quantum is not None:
        return quantum
    import iso4217  # here, not at the top: its table loads with the first currency

    try:
        units = iso4217.Currency(currency).exponent
    except ValueError:
        raise InvalidInput(
            "currency", currency, "an ISO 4217 code such as 'CNY' or 'USD'"
        ) from None
    if units is None:
        raise InvalidInput(
            "currency", currency, "a currency with minor units (ISO 4217 lists none for this code)"
        )
    quantum = _QUANTA[currency] = Decimal(1).scaleb(-units)
    return quantum


def minor_units(currency: str) -> int:
    """The number of decimal places ISO 4217 gives *currency* (CNY 2, JPY 0, BHD 3).

    Raises:
        InvalidInput: *currency* is not an ISO 4217 code, or has no minor units (e.g. XAU).
    """
    return -currency_quantum(currency).as_tuple().exponent  # type: ignore[operator]


def _to_decimal(amount: object, field: str) -> Decimal:
    if isinstance(amount, (bool, float)):
        raise InvalidInput(field, amount, "a Decimal, an int or a decimal string, never a float")
    if isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, str):
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise InvalidInput(field, amount, "a decimal string such as '1250.00'") from None
    else:
        raise InvalidInput(field, amount, "a Decimal, an int or a decimal string")
    if not value.is_finite():
        raise InvalidInput(field, amount, "a finite amount (not NaN or Infinity)")
    if not -MAX_AMOUNT < value < MAX_AMOUNT:
        raise InvalidInput(field, amount if isinstance(amount, str) else _magnitude(value), _WITHIN)
    return value


#: What an amount must be, in words.
_WITHIN: Final = f"an amount of less than {MAX_AMOUNT:,} units in absolute value"
_NEGATIVE_MAX: Final = -MAX_AMOUNT


def _magnitude(value: Decimal) -> str:
    """An amount too large to repeat in full (``1e400`` has 401 digits), as its order."""
    return f"{value:.3e}" if value.adjusted() > 30 else str(value)


_set = object.__setattr__


class Money:
    """An exact amount in one ISO 4217 currency.

    Args:
        amount: A `Decimal`, an `int` or a decimal string. Floats, NaN and
            infinities are refused, and so is a value with more decimal places
            than the currency has minor units (use `Money.rounded` for computed
            values such as interest).
        currency: An ISO 4217 code, e.g. ``"CNY"``.

    Raises:
        InvalidInput: naming the field (``amount`` or ``currency``) and the value.
    """

    __slots__ = ("amount", "currency")

    amount: Decimal
    currency: str

    def __init__(self, amount: Decimal | int | str, currency: str) -> None:
        quantum = _QUANTA.get(currency) if isinstance(currency, str) else None
        if quantum is None:
            if not isinstance(currency, str):
                raise InvalidInput("currency", currency, "an ISO 4217 code such as 'CNY' or 'USD'")
            quantum = currency_quantum(currency)
        value = amount if type(amount) is Decimal else _to_decimal(amount, "amount")
        try:
            exact = value.quantize(quantum)
        except InvalidOperation:  # NaN, infinity, or more digits than the context allows
            _to_decimal(value, "amount")  # names NaN, infinity and an absurd amount as such
            # Within the limit, yet more digits than a caller's decimal context holds.
            shown = amount if isinstance(amount, str) else str(value)
            expected = f"at most {getcontext().prec} digits, the precision of the decimal context"
            raise InvalidInput("amount", shown, expected) from None
        if exact != value:
            _to_decimal(value, "amount")  # names NaN as such
            raise InvalidInput(
                "amount", amount, f"at most {minor_units(currency)} decimal places for {currency}"
            )
        if not _NEGATIVE_MAX < exact < MAX_AMOUNT:  # a Decimal, as given or as rounded
            raise InvalidInput("amount", str(exact), _WITHIN)
        _set(self, "amount", exact)
        _set(self, "currency", currency)

    @classmethod
    def rounded(
        cls, amount: Decimal | int | str, currency: str, rounding: str = ROUND_HALF_EVEN
    ) -> Money:
        """Build a `Money`, rounding *amount* to the currency's minor units.

        Banker's rounding (half to even) by default, as for computed interest.
        """
        value = _to_decimal(amount, "amount")
        try:
            exact = value.quantize(currency_quantum(currency), rounding=rounding)
        except InvalidOperation:  # more digits than a caller's decimal context holds
            expected = f"at most {getcontext().prec} digits, the precision of the decimal context"
            raise InvalidInput("amount", str(value), expected) from None
        return cls(exact, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in *currency*."""
        return cls(0, currency)

    # -- immutability -------------------------------------------------------
    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[type[Money], tuple[str, str]]:
        return (Money, (str(self.amount), self.currency))

    # -- arithmetic within one currency -------------------------------------
    def _same(self, other: object, op: str) -> Money:
        if not isinstance(other, Money):
            raise InvalidInput(op, other, f"Money in {self.currency}")
        if other.currency != self.currency:
            raise CurrencyMismatch(op, self.currency, other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other, "+").amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other, "-").amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        """Multiply by an int (exact) or a Decimal (rounded half to even)."""
        if isinstance(factor, bool) or not isinstance(factor, (int, Decimal)):
            raise InvalidInput("factor", factor, "an int or a Decimal, never a float")
        return Money.rounded(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "<").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "<=").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, ">").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, ">=").amount

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __bool__(self) -> bool:
        return bool(self.amount)

    @property
    def is_zero(self) -> bool:
        """True when the amount is exactly zero."""
        return not self.amount

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def to_json(self) -> dict[str, str]:
        """The JSON form: ``{"amount": "12.50", "currency": "CNY"}`` (amount as a string)."""
        return {"amount": str(self.amount), "currency": self.currency}

    @classmethod
    def parse(cls, value: object, field: str = "money") -> Money:
        """Accept a `Money`, its JSON form, or ``"12.50 CNY"``.

        Raises:
            InvalidInput: naming *field* and the value.
        """
        if isinstance(value, Money):
            return value
        if isinstance(value, Mapping):
            extra = set(value) - {"amount", "currency"}
            if extra or "amount" not in value or "currency" not in value:
                raise InvalidInput(field, dict(value), "{'amount': '12.50', 'currency': 'CNY'}")
            return cls(value["amount"], value["currency"])
        if isinstance(value, str) and " " in value.strip():
            amount, _, currency = value.strip().rpartition(" ")
            return cls(amount, currency)
        raise InvalidInput(field, value, "Money, {'amount': ..., 'currency': ...} or '12.50 CNY'")

    # -- pydantic integration ----------------------------------------------
    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate_money,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize_money, when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "object",
            "properties": {
                "amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            },
            "required": ["amount", "currency"],
        }


def _validate_money(value: object) -> Money:
    # pydantic turns ValueError into a ValidationError that carries the field's location
    # and the value given; the message says what was expected (of the amount or the
    # currency, named, when one of them is at fault), and repeats no value of the field.
    try:
        return Money.parse(value)
    except InvalidInput as err:
        if err.field == "money":
            raise ValueError(err.expected) from None
        if isinstance(value, Mapping) and err.field in value:  # the error names the key
            raise ValueError(f"{err.field}: got {err.value!r}, expected {err.expected}") from None
        raise ValueError(f"{err.expected} for its {err.field}") from None


def _serialize_money(value: Money) -> dict[str, str]:
    return value.to_json()


#: The default order in which a payment pays the components of what is overdue:
#: the costs of default first, principal last (the usual order in loan agreements
#: in China and the US; a lender configures its own).
ALLOCATION_ORDER: Final[tuple[str, ...]] = ("penalty", "fees", "interest", "principal")


def allocate(
    payment: Money, owed: Mapping[str, Money], order: Sequence[str] = ALLOCATION_ORDER
) -> tuple[dict[str, Money], Money]:
    """Split *payment* across the components of *owed*, in *order*.

    Args:
        payment: A positive amount.
        owed: What is owed per component, e.g. ``{"principal": ..., "interest": ...}``.
        order: The components in the order they are paid; every key of *owed*
            must appear in it.

    Returns:
        ``(applied, credit)``: the amount applied to each component (zero where
        nothing was) and what is left over, held as credit. The parts always sum
        to *payment*: nothing is lost and nothing created.

    Raises:
        InvalidInput: the payment is not positive or a component is not in *order*.
        CurrencyMismatch: a component is in another currency than the payment.
    """
    if payment.amount <= 0:
        raise InvalidInput("payment", str(payment), "a positive amount")
    missing = [name for name in owed if name not in order]
    if missing:
        raise InvalidInput("order", list(order), f"an order naming every component ({missing})")
    remaining = payment.amount
    applied: dict[str, Money] = {}
    for name in order:
        if name not in owed:
            continue
        due = owed[name]
        if due.currency != payment.currency:
            raise CurrencyMismatch(name, payment.currency, due.currency)
        part = min(remaining, max(due.amount, Decimal(0)))
        applied[name] = Money(part, payment.currency)
        remaining -= part
    return applied, Money(remaining, payment.currency)


def split(total: Money, weights: Sequence[Decimal]) -> list[Money]:
    """Share *total* in proportion to *weights*, in whole minor units, summing to it exactly.

    Each share is rounded down to the currency's minor unit; the units that
    rounding leaves go one each to the largest remainders, the earliest
    position first among equal ones (the largest remainder method), so the
    result depends on the order of *weights* and on nothing else.

    Examples:
        >>> [str(m.amount) for m in split(Money("100.00", "CNY"), [Decimal(1)] * 3)]
        ['33.34', '33.33', '33.33']
        >>> [str(m.amount) for m in split(Money("1000", "JPY"), [Decimal(2), Decimal(1)])]
        ['667', '333']

    Raises:
        InvalidInput: *total* is negative, or a weight is negative, or they sum to zero.
    """
    currency = total.currency
    if total.amount < 0:
        raise InvalidInput("total", str(total), "zero or more")
    for position, weight in enumerate(weights):
        if not isinstance(weight, Decimal) or not weight.is_finite() or weight < 0:
            raise InvalidInput(f"weights[{position}]", str(weight), "a Decimal of zero or more")
    whole = sum(weights, Decimal(0))
    if not whole:
        raise InvalidInput("weights", [str(w) for w in weights], "weights summing to more than 0")
    quantum = currency_quantum(currency)
    exact = [total.amount * weight / whole for weight in weights]
    parts = [value.quantize(quantum, rounding=ROUND_DOWN) for value in exact]
    spare = int((total.amount - sum(parts, Decimal(0))) / quantum)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in by_remainder[:spare]:
        parts[index] += quantum
    return [Money(part, currency) for part in parts]
