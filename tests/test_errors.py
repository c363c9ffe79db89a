"""One error tree: every error of arrears is an `ArrearsError` defined in `arrears.errors`.

`invalid_input` turns pydantic's errors into `InvalidInput` naming the field and
the value, never the debtor's name or address; the public entry points that
validate a caller's mapping raise it (or an error of their own in the tree).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any

import pydantic
import pytest

import arrears
import arrears.errors
from arrears import Balance, Case, InvalidInput
from arrears.compliance import Compliance, ContactHistory
from arrears.errors import HIDDEN, MISSING, ArrearsError, invalid_input
from arrears.messages import TemplateSet, sample_context

DEBTOR_NAME = "王小明"
CALL_NUMBER = "+8613812345678"
SMS_NUMBER = "+8613900001111"


def _case_data(**overrides: Any) -> dict[str, Any]:
    """A valid case's input, with *overrides* replacing top-level fields."""
    data: dict[str, Any] = {
        "id": "C-1",
        "debtor": {"id": "D-1", "name": DEBTOR_NAME, "timezone": "Asia/Shanghai"},
        "contacts": [
            {"id": "p1", "channel": "call", "address": CALL_NUMBER},
            {"id": "p2", "channel": "sms", "address": SMS_NUMBER},
        ],
        "balance": {"currency": "CNY", "principal": "1000.00"},
        "due_date": "2026-09-01",
    }
    data.update(overrides)
    return data


#: Where each error was defined before `arrears.errors`: the old paths must still work.
OLD_HOMES = {
    "arrears": [
        "ApprovalDenied",
        "ArrearsError",
        "CurrencyMismatch",
        "DuplicateCase",
        "InvalidInput",
        "JournalCorrupted",
        "TransitionDenied",
        "UnknownCase",
        "UnknownTrigger",
    ],
    "arrears._yaml": ["DocumentInvalid", "Problem"],
    "arrears.policy": ["ConditionError", "PolicyInvalid"],
    "arrears.policy.loader": ["PolicyInvalid"],
    "arrears.policy.conditions": ["ConditionError"],
    "arrears.importer": ["PortfolioInvalid"],
    "arrears.testing": ["ScenarioInvalid"],
    "arrears.messages": ["MessageRefused", "TemplateProblem", "UnknownTemplate"],
    "arrears.messages._errors": ["MessageRefused", "TemplateProblem", "UnknownTemplate"],
    "arrears.guards": ["GuardFailure"],
    "arrears.journal": ["JournalProblem"],
    "arrears.stores": ["ConcurrencyConflict", "SchemaMismatch"],
}

#: The built-in classes an error also is, so ``except ValueError`` and friends keep working.
EXTRA_BASES = {
    "InvalidInput": ValueError,
    "CurrencyMismatch": ValueError,
    "ConditionError": ValueError,
    "UnknownCase": KeyError,
    "UnknownTemplate": KeyError,
}


def package_modules() -> list[ModuleType]:
    """Every module of arrears that imports here (optional extras may be missing)."""
    found = [arrears]
    for info in pkgutil.walk_packages(arrears.__path__, "arrears."):
        if info.name.endswith("__main__"):
            continue
        try:
            found.append(importlib.import_module(info.name))
        except ImportError:  # an optional dependency (a database driver) not installed
            continue
    return found


def error_classes(module: ModuleType) -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }


ERRORS = error_classes(arrears.errors)


class TestTheTree:
    def test_the_module_defines_the_errors(self) -> None:
        """`arrears.errors` lists every error it defines, and they are the whole tree."""
        defined = {
            name
            for name, cls in ERRORS.items()
            if cls.__module__ == "arrears.errors" and not name.startswith("_")
        }
        assert defined <= set(arrears.errors.__all__)
        assert {
            "ArrearsError",
            "InvalidInput",
            "DocumentInvalid",
            "PolicyInvalid",
            "ScenarioInvalid",
            "PortfolioInvalid",
            "ConditionError",
            "MessageRefused",
            "UnknownTemplate",
        } <= defined

    @pytest.mark.parametrize("name", sorted(n for n in ERRORS if n != "ArrearsError"))
    def test_every_error_is_an_arrears_error(self, name: str) -> None:
        cls = ERRORS[name]
        assert issubclass(cls, ArrearsError)
        assert (cls.__doc__ or "").strip(), f"{name} has no docstring"

    def test_no_error_class_lives_anywhere_else(self) -> None:
        """Walking every module: a public exception class is one of arrears.errors'."""
        elsewhere = []
        for module in package_modules():
            for name, cls in error_classes(module).items():
                if name.startswith("_") or not cls.__module__.startswith("arrears"):
                    continue
                if cls.__module__ != "arrears.errors" or not issubclass(cls, ArrearsError):
                    elsewhere.append(f"{module.__name__}.{name} ({cls.__module__})")
        assert elsewhere == []

    @pytest.mark.parametrize(("module", "names"), sorted(OLD_HOMES.items()))
    def test_old_import_paths_still_work(self, module: str, names: list[str]) -> None:
        """``from arrears.policy import PolicyInvalid`` gives `arrears.errors.PolicyInvalid`."""
        imported = importlib.import_module(module)
        for name in names:
            assert getattr(imported, name) is getattr(arrears.errors, name), (module, name)

    @pytest.mark.parametrize(("name", "base"), sorted(EXTRA_BASES.items()))
    def test_extra_bases_are_kept(self, name: str, base: type[Exception]) -> None:
        assert issubclass(ERRORS[name], base)
        assert issubclass(ERRORS[name], ArrearsError)

    def test_the_module_imports_nothing_of_arrears(self) -> None:
        """errors.py is a leaf: every other module may import it without a cycle."""
        source = inspect.getsource(arrears.errors)
        assert "from ." not in source
        assert "import arrears" not in source

    def test_a_condition_error_reaches_a_caller_as_an_arrears_error(self) -> None:
        from arrears.policy import CelCondition

        with pytest.raises(ArrearsError, match="boolean"):
            CelCondition("dpd + 1")


def refused(model: type[pydantic.BaseModel], data: dict[str, Any]) -> pydantic.ValidationError:
    with pytest.raises(pydantic.ValidationError) as caught:
        model.model_validate(data)
    return caught.value


class TestInvalidInput:
    def test_a_plain_field_is_named_with_its_value(self) -> None:
        """A bad due date: the field, the value as given and the form expected, with why."""
        error = refused(Case, _case_data(due_date="2026-02-30"))
        converted = invalid_input(error)
        assert isinstance(converted, InvalidInput)
        assert converted.field == "due_date"
        assert converted.value == "2026-02-30"
        assert str(converted) == (
            "due_date: got '2026-02-30', expected a date as YYYY-MM-DD, such as 2026-09-01 "
            "(day value is outside expected range)"
        )
        assert converted.__cause__ is error
        assert converted.more == ()

    @pytest.mark.parametrize(
        ("where", "given", "expected"),
        [
            (
                ("debtor", "timezone"),
                "America/Boston",
                "an IANA time zone such as 'America/New_York' or 'Asia/Shanghai'",
            ),
            (
                ("debtor", "locale"),
                "en_US",
                "a BCP 47 language tag such as 'en-US', 'en-GB' or 'zh-CN'",
            ),
            (
                ("balance", "principal"),
                "1,000.00",
                "a plain decimal such as 1000.00 (no separators, no currency sign)",
            ),
            (
                ("due_date",),
                "09/01/2026",
                "a date as YYYY-MM-DD, such as 2026-09-01 (invalid character in year)",
            ),
            (
                ("id",),
                "LOAN 1",
                "an id of 1 to 128 letters, digits and . _ : / -, starting with a letter or digit",
            ),
        ],
    )
    def test_a_value_of_the_wrong_form_is_told_the_form_expected(
        self, where: tuple[str, ...], given: str, expected: str
    ) -> None:
        """What a lender's loan system writes otherwise is answered with the form to write,
        never with pydantic's wording or a regular expression."""
        data = _case_data()
        inner = data
        for key in where[:-1]:
            inner[key] = dict(inner[key])
            inner = inner[key]
        inner[where[-1]] = given
        converted = invalid_input(refused(Case, data))
        assert (converted.field, converted.value, converted.expected) == (
            ".".join(where),
            given,
            expected,
        )

    def test_a_nested_field_is_named_by_its_path(self) -> None:
        data = _case_data()
        data["debtor"] = {**data["debtor"], "timezone": "Mars/Olympus"}
        converted = invalid_input(refused(Case, data))
        assert (converted.field, converted.value) == ("debtor.timezone", "Mars/Olympus")

    def test_a_models_own_check_names_its_field(self) -> None:
        """Balance's check of minor units says "principal: got …": the field is named."""
        data = _case_data(balance={"currency": "CNY", "principal": "1.001"})
        converted = invalid_input(refused(Case, data))
        assert converted.field == "balance.principal"
        assert converted.value == "1.001"
        assert converted.expected == "at most 2 decimal places for CNY"

    def test_a_phone_number_is_masked(self) -> None:
        """A contact's address is personal: only its last four digits are shown."""
        data = _case_data()
        data["contacts"] = [{"id": "p1", "channel": "fax", "address": CALL_NUMBER}]
        data["contacts"][0]["address"] = int(CALL_NUMBER)  # not a string: refused
        data["contacts"][0]["channel"] = "call"
        converted = invalid_input(refused(Case, data))
        assert converted.field == "contacts[0].address"
        assert converted.value == "*" * 9 + "5678"
        assert CALL_NUMBER[3:] not in str(converted)

    def test_a_missing_field_is_said_to_be_missing(self) -> None:
        """Not "got <hidden>, expected Field required": nothing was given, and a value is."""
        data = _case_data()
        del data["debtor"]
        converted = invalid_input(refused(Case, data))
        assert (converted.field, converted.value) == ("debtor", MISSING)
        assert str(converted) == "debtor: got nothing, expected a value: the field is required"

    def test_an_unknown_field_is_said_to_be_unknown(self) -> None:
        converted = invalid_input(refused(Case, _case_data(loan_type="card")))
        assert (converted.field, converted.value) == ("loan_type", HIDDEN)
        assert converted.expected == "no such field: check its spelling, or leave it out"

    def test_a_name_is_left_out(self) -> None:
        data = _case_data()
        data["debtor"] = {**data["debtor"], "name": [DEBTOR_NAME]}
        converted = invalid_input(refused(Case, data))
        assert converted.field == "debtor.name"
        assert converted.value is HIDDEN
        assert DEBTOR_NAME not in str(converted)
        assert (
            str(converted) == "debtor.name: got <hidden>, expected Input should be a valid string"
        )

    def test_an_unknown_key_of_a_contact_is_left_out(self) -> None:
        data = _case_data()
        data["contacts"] = [{**data["contacts"][1], "phone": SMS_NUMBER}]
        converted = invalid_input(refused(Case, data))
        assert (converted.field, converted.value) == ("contacts[0].phone", HIDDEN)
        assert SMS_NUMBER[3:] not in str(converted)

    def test_a_phone_number_in_the_wrong_field_is_masked(self) -> None:
        """A number given as the channel (columns mixed up) is not shown either."""
        data = _case_data()
        data["contacts"] = [{**data["contacts"][0], "channel": CALL_NUMBER}]
        converted = invalid_input(refused(Case, data))
        assert converted.field == "contacts[0].channel"
        assert CALL_NUMBER[3:] not in str(converted)

    def test_every_problem_is_listed(self) -> None:
        data = _case_data(due_date="soon", id="bad id!")
        data["debtor"] = {**data["debtor"], "name": 7}
        converted = invalid_input(refused(Case, data))
        fields = [converted.field, *(field for field, _, _ in converted.more)]
        assert fields == ["id", "debtor.name", "due_date"]
        message = str(converted)
        assert "id: got 'bad id!'" in message
        assert "due_date: got 'soon'" in message
        assert "debtor.name: got <hidden>" in message

    def test_a_model_that_shows_its_input_shows_it(self) -> None:
        """Balance carries no personal data: the value is shown, under the prefix."""
        converted = invalid_input(
            refused(Balance, {"currency": "CNY", "principal": "lots"}), prefix="balance"
        )
        assert (converted.field, converted.value) == ("balance.principal", "lots")

    def test_hide_forces_masking(self) -> None:
        """Told to hide, a value that looks like a phone number is masked in any field."""
        error = refused(Balance, {"currency": "CNY", "principal": "138-1234-5678"})
        assert invalid_input(error).value == "138-1234-5678"
        assert invalid_input(error, hide=True).value == "*" * 9 + "5678"
        error = refused(Balance, {"currency": "CNY", "principal": "ten"})
        assert invalid_input(error, hide=True).value == "ten"

    @pytest.mark.parametrize(
        ("prefix", "field"),
        [
            ("", "principal"),
            ("case.balance", "case.balance.principal"),
            ("reminder.sms.en: ", "reminder.sms.en: principal"),
        ],
    )
    def test_prefix(self, prefix: str, field: str) -> None:
        error = refused(Balance, {"currency": "CNY", "principal": "x"})
        assert invalid_input(error, prefix=prefix).field == field


class TestTermsFields:
    """A wrong value of a field of a case's ``terms`` is one message, naming the field and
    the value once; a field given as a mapping names the key at fault."""

    MONEY = "Money, {'amount': ..., 'currency': ...} or '12.50 CNY'"

    @pytest.mark.parametrize(
        ("terms", "message"),
        [
            ({"penalty_cap": "abc"}, f"terms.penalty_cap: got 'abc', expected {MONEY}"),
            ({"penalty_cap": 5}, f"terms.penalty_cap: got 5, expected {MONEY}"),
            ({"penalty_cap": [1]}, f"terms.penalty_cap: got <hidden>, expected {MONEY}"),
            ({"late_fee": True}, f"terms.late_fee: got True, expected {MONEY}"),
            ({"fee_cap": "1.5"}, f"terms.fee_cap: got '1.5', expected {MONEY}"),
            (
                {"penalty_cap": "abc CNY"},
                "terms.penalty_cap: got 'abc CNY', expected a decimal string such as '1250.00' "
                "for its amount",
            ),
            (
                {"late_fee": "12 XX"},
                "terms.late_fee: got '12 XX', expected an ISO 4217 code such as 'CNY' or 'USD' "
                "for its currency",
            ),
            (
                {"fee_cap": {"amount": "x", "currency": "CNY"}},
                "terms.fee_cap.amount: got 'x', expected a decimal string such as '1250.00'",
            ),
            (
                {"penalty_cap": {"amount": "1"}},
                "terms.penalty_cap: got <hidden>, expected {'amount': '12.50', 'currency': 'CNY'}",
            ),
            (
                {"penalty_rate": 0.5},
                "terms.penalty_rate: got 0.5, expected a decimal string such as '0.0005', "
                "never a float",
            ),
            (
                {"penalty_rate": "x"},
                "terms.penalty_rate: got 'x', expected a plain decimal such as 1000.00 "
                "(no separators, no currency sign)",
            ),
            (
                {"penalty_base": ["x"]},
                "terms.penalty_base: got <hidden>, expected some of "
                "('principal', 'interest', 'fees')",
            ),
            (
                {"late_fee_after_days": "x"},
                "terms.late_fee_after_days: got 'x', expected Input should be a valid integer, "
                "unable to parse string as an integer",
            ),
            # An unknown key: its value is left out, and the message says so in full words.
            (
                {"grace_days": "x"},
                "terms.grace_days: got <hidden>, expected no such field: "
                "check its spelling, or leave it out",
            ),
        ],
    )
    def test_one_message_naming_the_field_and_the_value(
        self, terms: dict[str, Any], message: str
    ) -> None:
        converted = invalid_input(refused(Case, _case_data(terms=terms)))
        assert str(converted) == message
        assert converted.more == ()

    def test_a_value_quoted_inside_a_word_is_not_masked(self) -> None:
        """Only a quotation of the value standing alone is replaced where the value is
        hidden: the 'e's of 'no such field: check its spelling' stay."""
        converted = invalid_input(refused(Case, _case_data(colour="e")))
        assert converted.expected == "no such field: check its spelling, or leave it out"


class TestEntryPoints:
    def test_a_bad_proposal_names_its_field(self, make_case: Any) -> None:
        """`Compliance.judge` given a malformed mapping: InvalidInput, the text not shown."""
        compliance = Compliance(["US-RegF"])
        case = make_case()
        text = f"Dear {DEBTOR_NAME}, call {CALL_NUMBER}"
        with pytest.raises(InvalidInput) as caught:
            compliance.judge(
                case,
                ContactHistory(),
                {"channel": "pigeon", "contact": "p1", "text": text},
                datetime(2026, 10, 1, 2, 0, tzinfo=UTC),
            )
        assert caught.value.field == "proposal.channel"
        assert caught.value.value == "pigeon"
        assert isinstance(caught.value.__cause__, pydantic.ValidationError)
        assert DEBTOR_NAME not in str(caught.value)

    def test_a_bad_proposal_text_is_not_shown(self, make_case: Any) -> None:
        with pytest.raises(InvalidInput) as caught:
            Compliance(["US-RegF"]).proposal(make_case(), {"channel": "sms", "text": [DEBTOR_NAME]})
        assert (caught.value.field, caught.value.value) == ("proposal.text", HIDDEN)
        assert DEBTOR_NAME not in str(caught.value)

    def test_a_bad_override_names_its_field_and_keeps_the_cause(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            Compliance(["US-RegF"], overrides={"US-7IN7": {"limit": -1}})
        assert (caught.value.field, caught.value.value) == ("overrides.US-7IN7.limit", -1)
        assert isinstance(caught.value.__cause__, pydantic.ValidationError)

    def test_bad_front_matter_names_the_template_and_field(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            TemplateSet.from_sources({"x.sms.en-US": "---\nmax_segments: 99\n---\nhi"})
        assert caught.value.field == "x.sms.en-US: max_segments"
        assert caught.value.value == 99
        assert "less than or equal to 10" in caught.value.expected

    def test_a_sample_context_for_a_locale_no_case_can_have(self) -> None:
        """CLDR knows ``ca-ES-valencia``; a debtor's locale cannot carry a variant."""
        with pytest.raises(InvalidInput) as caught:
            sample_context("ca-ES-valencia")
        assert (caught.value.field, caught.value.value) == ("debtor.locale", "ca-ES-valencia")

    def test_rendering_with_a_context_locale_no_case_can_have(self) -> None:
        templates = TemplateSet.from_sources({"x.sms.en-US": "Hello"})
        context = {"locale": "en_US", "due_date": date(2026, 9, 1)}
        with pytest.raises(InvalidInput) as caught:
            templates.render("x", "sms", "en-US", context)
        assert (caught.value.field, caught.value.value) == ("debtor.locale", "en_US")
