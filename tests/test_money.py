"""Money: exact amounts in one ISO 4217 currency, and how a payment is allocated."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from arrears import CurrencyMismatch, InvalidInput, Money, allocate, minor_units
from arrears.money import currency_quantum


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


class TestMinorUnits:
    @pytest.mark.parametrize(
        ("currency", "units"), [("CNY", 2), ("USD", 2), ("JPY", 0), ("BHD", 3)]
    )
    def test_taken_from_iso_4217(self, currency: str, units: int) -> None:
        """Each currency has the number of decimal places ISO 4217 gives it."""
        assert minor_units(currency) == units

    @pytest.mark.parametrize(
        ("currency", "quantum"), [("CNY", "0.01"), ("JPY", "1"), ("BHD", "0.001")]
    )
    def test_the_quantum_is_one_minor_unit(self, currency: str, quantum: str) -> None:
        """currency_quantum is the value of one minor unit: a fen, a yen, a fils."""
        assert currency_quantum(currency) == Decimal(quantum)

    def test_amount_is_padded_to_the_minor_units(self) -> None:
        """An amount with fewer decimals is stored with exactly the currency's minor units."""
        assert Money("12.5", "CNY").amount == Decimal("12.50")
        assert str(Money("12.5", "CNY").amount) == "12.50"
        assert str(Money("7", "BHD").amount) == "7.000"
        assert str(Money("1000", "JPY").amount) == "1000"

    def test_int_and_decimal_amounts_are_accepted(self) -> None:
        """Ints and Decimals are exact and accepted as amounts."""
        assert Money(12, "CNY") == Money(Decimal("12.00"), "CNY") == Money(" 12 ", "CNY")

    @pytest.mark.parametrize(
        ("amount", "currency"), [("1.5", "JPY"), ("0.001", "CNY"), ("1.0001", "BHD")]
    )
    def test_more_decimals_than_the_currency_has_are_refused(
        self, amount: str, currency: str
    ) -> None:
        """An amount with more decimal places than the currency's minor units is refused."""
        with pytest.raises(InvalidInput) as info:
            Money(amount, currency)
        assert info.value.field == "amount"
        assert amount in str(info.value)
        assert currency in str(info.value)

    def test_amount_beyond_decimal_precision_is_refused(self) -> None:
        """An amount too large to hold exactly with its minor units is refused, not rounded."""
        with pytest.raises(InvalidInput) as info:
            Money("1e30", "CNY")
        assert info.value.field == "amount"
        assert "1e30" in str(info.value)


class TestRefusedAmounts:
    @pytest.mark.parametrize(
        "amount",
        [
            0.1,
            1.0,
            float("nan"),
            True,
            False,
            "NaN",
            "sNaN",
            "Infinity",
            "-Infinity",
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            "twelve",
            None,
        ],
        ids=repr,
    )
    def test_refused_with_the_field_and_value_named(self, amount: object) -> None:
        """Floats, bools, NaN, infinities and non-numbers raise InvalidInput naming 'amount'."""
        with pytest.raises(InvalidInput) as info:
            Money(amount, "CNY")  # type: ignore[arg-type]
        assert info.value.field == "amount"
        assert str(info.value).startswith("amount: got ")
        assert repr(amount) in str(info.value)

    def test_float_message_says_floats_are_never_accepted(self) -> None:
        """The message for a float says what would have been accepted instead."""
        with pytest.raises(InvalidInput, match=r"amount: got 0\.1, .*never a float"):
            Money(0.1, "CNY")  # type: ignore[arg-type]

    def test_invalid_input_is_a_value_error(self) -> None:
        """A caller catching ValueError catches a refused amount too."""
        with pytest.raises(ValueError, match="amount"):
            Money(float("inf"), "CNY")  # type: ignore[arg-type]


class TestRefusedCurrencies:
    @pytest.mark.parametrize("currency", ["XYZ", "XAU", "", "cny", None, 156])
    def test_refused_naming_the_currency(self, currency: object) -> None:
        """Unknown codes and codes without minor units (gold, XAU) raise naming 'currency'."""
        with pytest.raises(InvalidInput) as info:
            Money("1", currency)  # type: ignore[arg-type]
        assert info.value.field == "currency"
        assert repr(currency) in str(info.value)

    def test_minor_units_of_gold_is_refused(self) -> None:
        """minor_units refuses a code for which ISO 4217 lists no minor unit."""
        with pytest.raises(InvalidInput, match="currency: got 'XAU'"):
            minor_units("XAU")


class TestArithmetic:
    def test_sum_is_exact(self) -> None:
        """0.10 + 0.20 is exactly 0.30 (no binary floating point anywhere)."""
        assert cny("0.10") + cny("0.20") == cny("0.30")

    def test_subtraction_may_go_negative(self) -> None:
        """Subtracting more than there is gives a negative amount in the same currency."""
        assert cny("1.00") - cny("2.50") == cny("-1.50")
        assert -cny("3") == cny("-3.00")
        assert abs(cny("-3")) == cny("3.00")

    def test_multiplication_rounds_half_even(self) -> None:
        """Multiplying by a Decimal rounds the result to minor units, half to even."""
        assert cny("10.00") * Decimal("0.0125") == cny("0.12")
        assert cny("10.00") * Decimal("0.0135") == cny("0.14")
        assert 3 * cny("0.10") == cny("0.30")

    @pytest.mark.parametrize("factor", [1.5, True])
    def test_multiplication_by_float_or_bool_is_refused(self, factor: object) -> None:
        """A float or bool factor is refused, naming 'factor'."""
        with pytest.raises(InvalidInput) as info:
            cny("10") * factor  # type: ignore[operator]
        assert info.value.field == "factor"

    @pytest.mark.parametrize(
        "operation",
        [
            lambda a, b: a + b,
            lambda a, b: a - b,
            lambda a, b: a < b,
            lambda a, b: a <= b,
            lambda a, b: a > b,
            lambda a, b: a >= b,
        ],
        ids=["+", "-", "<", "<=", ">", ">="],
    )
    def test_different_currencies_do_not_mix(
        self, operation: Callable[[Money, Money], object]
    ) -> None:
        """Adding, subtracting or ordering CNY against USD raises CurrencyMismatch."""
        with pytest.raises(CurrencyMismatch) as info:
            operation(cny("1"), Money("1", "USD"))
        assert (info.value.left, info.value.right) == ("CNY", "USD")
        assert "USD" in str(info.value)
        assert "CNY" in str(info.value)

    def test_adding_a_plain_number_is_refused(self) -> None:
        """Money plus a bare number raises InvalidInput naming the operation."""
        with pytest.raises(InvalidInput) as info:
            cny("1") + 1  # type: ignore[operator]
        assert info.value.field == "+"
        assert not isinstance(info.value, CurrencyMismatch)

    def test_equality_needs_the_same_currency(self) -> None:
        """Equal amounts in different currencies are not equal, and never raise."""
        assert Money("1", "USD") != cny("1")
        assert cny("1") == cny("1.00")
        assert hash(cny("1")) == hash(cny("1.00"))
        assert cny("1") != Decimal("1.00")

    def test_ordering_within_one_currency(self) -> None:
        """Amounts in one currency sort by value."""
        amounts = [cny("3"), cny("-1"), cny("2.50")]
        assert sorted(amounts) == [cny("-1"), cny("2.50"), cny("3")]
        assert max(amounts) == cny("3")

    def test_truthiness_and_zero(self) -> None:
        """Money is falsy exactly when its amount is zero."""
        assert Money.zero("JPY").is_zero
        assert not Money.zero("JPY")
        assert cny("0.01")
        assert not cny("0.01").is_zero


class TestRounded:
    @pytest.mark.parametrize(
        ("amount", "currency", "expected"),
        [
            ("2.345", "CNY", "2.34"),
            ("2.355", "CNY", "2.36"),
            ("2.5", "JPY", "2"),
            ("3.5", "JPY", "4"),
            ("-2.345", "CNY", "-2.34"),
            ("1.0005", "BHD", "1.000"),
        ],
    )
    def test_half_to_even_by_default(self, amount: str, currency: str, expected: str) -> None:
        """Money.rounded rounds to the currency's minor units with banker's rounding."""
        assert Money.rounded(amount, currency) == Money(expected, currency)

    def test_rounding_mode_can_be_chosen(self) -> None:
        """Another rounding mode can be asked for explicitly."""
        assert Money.rounded("2.345", "CNY", ROUND_HALF_UP) == cny("2.35")

    def test_floats_are_refused_even_when_rounding(self) -> None:
        """Rounding does not make a float acceptable."""
        with pytest.raises(InvalidInput, match="amount"):
            Money.rounded(2.345, "CNY")  # type: ignore[arg-type]


class TestValueObject:
    def test_immutable(self) -> None:
        """Money cannot be changed after it is built."""
        money = cny("5")
        with pytest.raises(AttributeError):
            money.amount = Decimal("6")  # type: ignore[misc]
        with pytest.raises(AttributeError):
            del money.currency

    def test_pickle_round_trip(self) -> None:
        """A pickled amount comes back equal, with its minor units."""
        assert pickle.loads(pickle.dumps(Money("7", "BHD"))) == Money("7.000", "BHD")

    def test_repr_and_str(self) -> None:
        """repr rebuilds the value; str reads as amount and code."""
        assert repr(cny("1250.5")) == "Money('1250.50', 'CNY')"
        assert str(cny("1250.5")) == "1250.50 CNY"

    @pytest.mark.parametrize(
        "value",
        [Money("12.5", "CNY"), {"amount": "12.50", "currency": "CNY"}, "12.50 CNY"],
        ids=["money", "mapping", "text"],
    )
    def test_parse_accepts_three_forms(self, value: object) -> None:
        """Money.parse accepts Money, its JSON form and '12.50 CNY'."""
        assert Money.parse(value) == cny("12.50")

    @pytest.mark.parametrize(
        "value", [{"amount": "1"}, {"amount": "1", "currency": "CNY", "x": 1}, "12.50", 12]
    )
    def test_parse_refuses_other_forms(self, value: object) -> None:
        """Money.parse refuses anything else, naming the field it was told."""
        with pytest.raises(InvalidInput) as info:
            Money.parse(value, field="limit")
        assert info.value.field == "limit"

    def test_json_form_keeps_the_amount_as_text(self) -> None:
        """The JSON form carries the amount as a string, never a float."""
        assert cny("12.5").to_json() == {"amount": "12.50", "currency": "CNY"}

    def test_pydantic_field_round_trip(self) -> None:
        """As a pydantic field, Money validates its JSON form and dumps it back."""

        class Fee(BaseModel):
            charge: Money

        fee = Fee.model_validate({"charge": {"amount": "3.5", "currency": "CNY"}})
        assert fee.charge == cny("3.50")
        assert Fee.model_validate_json(fee.model_dump_json()) == fee
        assert fee.model_dump() == {"charge": {"amount": "3.50", "currency": "CNY"}}

    def test_pydantic_field_refuses_a_float_naming_the_field(self) -> None:
        """A float amount in a Money field raises ValidationError naming the field and value."""

        class Fee(BaseModel):
            charge: Money

        with pytest.raises(ValidationError) as info:
            Fee.model_validate({"charge": {"amount": 3.5, "currency": "CNY"}})
        assert info.value.errors()[0]["loc"] == ("charge",)
        assert "amount: got 3.5" in str(info.value)


OWED = {
    "principal": cny("1000.00"),
    "interest": cny("50.00"),
    "fees": cny("0"),
    "penalty": cny("20.00"),
}


class TestAllocate:
    def test_default_order_pays_penalty_fees_interest_then_principal(self) -> None:
        """A partial payment pays penalty first, then fees, interest, and principal last."""
        applied, credit = allocate(cny("30.00"), OWED)
        assert applied == {
            "penalty": cny("20.00"),
            "fees": cny("0"),
            "interest": cny("10.00"),
            "principal": cny("0"),
        }
        assert list(applied) == ["penalty", "fees", "interest", "principal"]
        assert credit == cny("0")

    def test_overpayment_is_returned_as_credit(self) -> None:
        """Paying more than is owed pays everything and keeps the rest as credit."""
        applied, credit = allocate(cny("1100.00"), OWED)
        assert applied == {
            "penalty": cny("20.00"),
            "fees": cny("0"),
            "interest": cny("50.00"),
            "principal": cny("1000.00"),
        }
        assert credit == cny("30.00")

    def test_custom_order(self) -> None:
        """A lender's own order is followed: here principal first."""
        applied, _ = allocate(
            cny("1010.00"), OWED, order=("principal", "interest", "fees", "penalty")
        )
        assert applied["principal"] == cny("1000.00")
        assert applied["interest"] == cny("10.00")
        assert applied["penalty"] == cny("0")

    def test_an_order_may_name_components_the_debt_lacks(self) -> None:
        """Components the order names but the debt has none of are skipped, nothing lost."""
        owed = {"interest": cny("50.00"), "principal": cny("1000.00")}
        applied, credit = allocate(cny("70.00"), owed)  # the default order names four
        assert applied == {"interest": cny("50.00"), "principal": cny("20.00")}
        assert list(applied) == ["interest", "principal"]
        assert credit == cny("0")

    def test_order_must_name_every_component(self) -> None:
        """An order that leaves out a component is refused, naming 'order'."""
        with pytest.raises(InvalidInput) as info:
            allocate(cny("10"), OWED, order=("principal", "interest"))
        assert info.value.field == "order"
        assert "penalty" in str(info.value)

    @pytest.mark.parametrize("amount", ["0", "-5.00"])
    def test_payment_must_be_positive(self, amount: str) -> None:
        """A zero or negative payment is refused, naming 'payment' and the amount."""
        with pytest.raises(InvalidInput) as info:
            allocate(cny(amount), OWED)
        assert info.value.field == "payment"
        assert f"{cny(amount)}" in str(info.value)

    def test_component_in_another_currency_is_refused(self) -> None:
        """A component owed in another currency than the payment raises CurrencyMismatch."""
        with pytest.raises(CurrencyMismatch) as info:
            allocate(cny("10"), {**OWED, "fees": Money("5", "USD")})
        assert info.value.field == "fees"

    @given(
        payment=st.integers(min_value=1, max_value=10**9),
        owed=st.lists(st.integers(min_value=0, max_value=10**8), min_size=4, max_size=4),
        currency=st.sampled_from(["CNY", "JPY", "BHD"]),
    )
    def test_parts_and_credit_sum_to_the_payment(
        self, payment: int, owed: list[int], currency: str
    ) -> None:
        """Whatever is owed, the parts plus the credit equal the payment and none is negative."""
        scale = Decimal(1).scaleb(-minor_units(currency))
        components = dict(
            zip(
                ("principal", "interest", "fees", "penalty"),
                (Money(units * scale, currency) for units in owed),
                strict=True,
            )
        )
        paid = Money(payment * scale, currency)
        applied, credit = allocate(paid, components)
        total = sum((part.amount for part in applied.values()), credit.amount)
        assert total == paid.amount
        assert credit.amount >= 0
        for name, part in applied.items():
            assert Decimal(0) <= part.amount <= components[name].amount
        assert credit.is_zero or all(applied[n] == components[n] for n in components)


#: What an amount out of range is told it should be.
WITHIN = "an amount of less than 1,000,000,000,000,000 units in absolute value"


class TestRefusalMessages:
    """What a user reads when an amount or a currency is refused, word for word."""

    @pytest.mark.parametrize(
        ("amount", "currency", "message"),
        [
            ("twelve", "CNY", "amount: got 'twelve', expected a decimal string such as '1250.00'"),
            (
                b"12.50",
                "CNY",
                "amount: got b'12.50', expected a Decimal, an int or a decimal string",
            ),
            ("NaN", "CNY", "amount: got 'NaN', expected a finite amount (not NaN or Infinity)"),
            (
                0.1,
                "CNY",
                "amount: got 0.1, expected a Decimal, an int or a decimal string, never a float",
            ),
            ("1.5", "JPY", "amount: got '1.5', expected at most 0 decimal places for JPY"),
            (
                "1",
                "XYZ",
                "currency: got 'XYZ', expected an ISO 4217 code such as 'CNY' or 'USD'",
            ),
            (
                "1",
                "XAU",
                "currency: got 'XAU', expected a currency with minor units"
                " (ISO 4217 lists none for this code)",
            ),
            ("1", 156, "currency: got 156, expected an ISO 4217 code such as 'CNY' or 'USD'"),
            (
                "1",
                ["CNY"],
                "currency: got ['CNY'], expected an ISO 4217 code such as 'CNY' or 'USD'",
            ),
        ],
        ids=["word", "bytes", "nan", "float", "decimals", "unknown", "gold", "number", "list"],
    )
    def test_the_field_the_value_and_what_was_expected(
        self, amount: object, currency: object, message: str
    ) -> None:
        """Each refusal names the field, repeats the value and says what would be accepted."""
        with pytest.raises(InvalidInput) as info:
            Money(amount, currency)  # type: ignore[arg-type]
        assert str(info.value) == message

    @pytest.mark.parametrize(
        ("amount", "shown"),
        [
            (10**15, "1000000000000000"),
            (-(10**15), "-1000000000000000"),
            ("1e15", "1e15"),
            (" -1000000000000000.00 ", " -1000000000000000.00 "),
            (Decimal(10**15), "1000000000000000.00"),
            (Decimal(-(10**15)), "-1000000000000000.00"),
            (Decimal("1e30"), "1E+30"),
            (Decimal("1e31"), "1.000e+31"),
            (Decimal("-1e400"), "-1.000e+400"),
            (10**400, "1.000e+400"),
        ],
        ids=repr,
    )
    def test_an_amount_out_of_range_is_named_never_repeated_in_full(
        self, amount: object, shown: str
    ) -> None:
        """A quadrillion is refused; text is shown as given, over 31 digits as an order."""
        with pytest.raises(InvalidInput) as info:
            Money(amount, "CNY")  # type: ignore[arg-type]
        assert (info.value.field, info.value.value, info.value.expected) == (
            "amount",
            shown,
            WITHIN,
        )
        assert str(info.value) == f"amount: got {shown!r}, expected {WITHIN}"

    @pytest.mark.parametrize(
        "amount",
        [
            "999999999999999.99",
            "-999999999999999.99",
            Decimal("999999999999999.99"),
            Decimal("-999999999999999.99"),
        ],
        ids=repr,
    )
    def test_one_cent_under_a_quadrillion_is_accepted(self, amount: object) -> None:
        """The largest amount in either direction is still an amount."""
        assert Money(amount, "CNY").amount == Decimal(amount)  # type: ignore[arg-type]

    def test_rounding_up_to_a_quadrillion_is_refused(self) -> None:
        """An amount reaching the limit only by rounding is refused, naming the rounded value."""
        assert Money.rounded("999999999999999.994", "CNY") == cny("999999999999999.99")
        with pytest.raises(InvalidInput) as info:
            Money.rounded("999999999999999.995", "CNY")
        assert str(info.value) == f"amount: got '1000000000000000.00', expected {WITHIN}"

    def test_rounded_names_the_amount(self) -> None:
        """Money.rounded refuses a float naming 'amount', like the constructor."""
        with pytest.raises(InvalidInput) as info:
            Money.rounded(2.345, "CNY")  # type: ignore[arg-type]
        assert str(info.value) == (
            "amount: got 2.345, expected a Decimal, an int or a decimal string, never a float"
        )

    def test_more_digits_than_the_decimal_context_holds_is_refused(self) -> None:
        """Under a caller's low decimal precision an amount is refused, never rounded."""
        with localcontext(prec=10):
            assert Money("12345678.90", "CNY").amount == Decimal("12345678.90")  # ten digits
            with pytest.raises(InvalidInput) as info:
                Money(" 123456789.01 ", "CNY")
            assert str(info.value) == (
                "amount: got ' 123456789.01 ', expected at most 10 digits,"
                " the precision of the decimal context"
            )
            with pytest.raises(InvalidInput) as info:
                Money(12345678901, "JPY")
            assert str(info.value) == (
                "amount: got '12345678901', expected at most 10 digits,"
                " the precision of the decimal context"
            )
            # Rounding a computed amount to more digits than that: named, not InvalidOperation.
            assert Money.rounded("1234567.895", "CNY").amount == Decimal("1234567.90")
            with pytest.raises(InvalidInput) as info:
                Money.rounded(Decimal("123456789.014"), "CNY")
            assert str(info.value) == (
                "amount: got '123456789.014', expected at most 10 digits,"
                " the precision of the decimal context"
            )


class TestOperations:
    @pytest.mark.parametrize(
        ("operation", "symbol"),
        [
            (lambda a, b: a + b, "+"),
            (lambda a, b: a - b, "-"),
            (lambda a, b: a < b, "<"),
            (lambda a, b: a <= b, "<="),
            (lambda a, b: a > b, ">"),
            (lambda a, b: a >= b, ">="),
        ],
        ids=["+", "-", "<", "<=", ">", ">="],
    )
    def test_a_mismatch_names_the_operation(
        self, operation: Callable[[Money, Money], object], symbol: str
    ) -> None:
        """CNY against USD names the operation, the currency met and the one expected."""
        with pytest.raises(CurrencyMismatch) as info:
            operation(cny("1"), Money("1", "USD"))
        assert str(info.value) == (
            f"{symbol}: got 'USD', expected an amount in CNY, the currency it is combined with"
        )

    def test_a_plain_number_is_named(self) -> None:
        """Money plus a bare number names the operation, the number and what it should be."""
        with pytest.raises(InvalidInput) as info:
            cny("1") + 1  # type: ignore[operator]
        assert str(info.value) == "+: got 1, expected Money in CNY"

    def test_a_float_factor_is_named(self) -> None:
        """Multiplying by a float names the factor and what it should be."""
        with pytest.raises(InvalidInput) as info:
            cny("10") * 1.5  # type: ignore[operator]
        assert str(info.value) == "factor: got 1.5, expected an int or a Decimal, never a float"

    def test_equal_amounts_and_one_cent_apart(self) -> None:
        """Equal amounts are <= and >= each other but neither < nor >; one cent decides."""
        one, same, more = cny("1.00"), cny("1"), cny("1.01")
        assert (one < same, one <= same, one > same, one >= same) == (False, True, False, True)
        assert (one < more, one <= more, one > more, one >= more) == (True, True, False, False)
        assert (more < one, more <= one, more > one, more >= one) == (False, False, True, True)

    def test_different_amounts_hash_apart(self) -> None:
        """The hash follows the amount and the currency."""
        assert hash(cny("1")) != hash(cny("2"))
        assert hash(cny("1")) != hash(Money("1", "USD"))

    def test_immutability_is_explained(self) -> None:
        """Setting or deleting a field says that Money is immutable."""
        money = cny("5")
        with pytest.raises(AttributeError, match=r"^Money is immutable$"):
            money.amount = Decimal("6")  # type: ignore[misc]
        with pytest.raises(AttributeError, match=r"^Money is immutable$"):
            del money.amount
        assert money == cny("5")


class TestParseMessages:
    def test_default_field_is_money(self) -> None:
        """Without a field name, parse names 'money' and lists the accepted forms."""
        with pytest.raises(InvalidInput) as info:
            Money.parse(12)
        assert str(info.value) == (
            "money: got 12, expected Money, {'amount': ..., 'currency': ...} or '12.50 CNY'"
        )

    def test_a_models_money_field_names_the_value_once(self) -> None:
        """In a model, pydantic names the field and the value: the message says only what
        was expected, of the amount or the currency when one of them is at fault."""

        class Fee(BaseModel):
            fee: Money

        for value, expected in [
            ("abc", "Money, {'amount': ..., 'currency': ...} or '12.50 CNY'"),
            ("abc CNY", "a decimal string such as '1250.00' for its amount"),
        ]:
            with pytest.raises(ValidationError) as info:
                Fee(fee=value)
            (error,) = info.value.errors()
            assert (error["loc"], error["input"], error["msg"]) == (
                ("fee",),
                value,
                f"Value error, {expected}",
            )

    def test_a_mapping_without_a_currency_is_named(self) -> None:
        """A mapping lacking a key is repeated and the JSON form is shown."""
        with pytest.raises(InvalidInput) as info:
            Money.parse({"amount": "1"}, field="limit")
        assert str(info.value) == (
            "limit: got {'amount': '1'}, expected {'amount': '12.50', 'currency': 'CNY'}"
        )

    def test_the_currency_is_the_last_word(self) -> None:
        """'1 000.00 CNY' splits at the last space: the amount '1 000.00' is what is refused."""
        with pytest.raises(InvalidInput) as info:
            Money.parse("1 000.00 CNY")
        assert str(info.value) == (
            "amount: got '1 000.00', expected a decimal string such as '1250.00'"
        )

    def test_json_schema(self) -> None:
        """A Money field is described as an object of an amount string and a currency code."""

        class Fee(BaseModel):
            charge: Money

        assert Fee.model_json_schema()["properties"]["charge"] == {
            "type": "object",
            "properties": {
                "amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            },
            "required": ["amount", "currency"],
            "title": "Charge",
        }


class TestAllocateMessages:
    @pytest.mark.parametrize(("amount", "shown"), [("0", "0.00 CNY"), ("-5", "-5.00 CNY")])
    def test_a_payment_that_is_not_positive(self, amount: str, shown: str) -> None:
        """A zero or negative payment is named with its currency."""
        with pytest.raises(InvalidInput) as info:
            allocate(cny(amount), OWED)
        assert str(info.value) == f"payment: got {shown!r}, expected a positive amount"

    def test_an_order_leaving_out_components(self) -> None:
        """The order is repeated and the components it leaves out are listed."""
        with pytest.raises(InvalidInput) as info:
            allocate(cny("10"), OWED, order=("principal", "interest"))
        assert str(info.value) == (
            "order: got ['principal', 'interest'],"
            " expected an order naming every component (['fees', 'penalty'])"
        )

    def test_a_component_in_another_currency(self) -> None:
        """The component, its currency and the payment's are named."""
        with pytest.raises(CurrencyMismatch) as info:
            allocate(cny("10"), {**OWED, "fees": Money("5", "USD")})
        assert (info.value.left, info.value.right) == ("CNY", "USD")
        assert str(info.value) == (
            "fees: got 'USD', expected an amount in CNY, the currency it is combined with"
        )

    def test_an_order_naming_absent_components_pins_the_split(self) -> None:
        """Absent components take nothing: 70.00 pays interest 50.00 then principal 20.00."""
        owed = {"principal": cny("1000.00"), "interest": cny("50.00")}
        applied, credit = allocate(cny("70.00"), owed, order=("fees", "interest", "principal"))
        assert applied == {"interest": cny("50.00"), "principal": cny("20.00")}
        assert credit == cny("0")
