"""The case model: validated input, derived days past due and buckets, personal data kept out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from arrears import (
    Balance,
    Case,
    Channel,
    ContactPoint,
    Debtor,
    Hold,
    HoldKind,
    InvalidInput,
    Money,
    Party,
    bucket_of,
    mask,
)
from arrears.clock import instant, per_moment
from arrears.errors import invalid_input
from arrears.journal import moment_text

MakeCase = Callable[..., Case]

DEBTOR = {"id": "D-1", "name": "王小明", "timezone": "Asia/Shanghai", "locale": "zh-CN"}
BALANCE = {"currency": "CNY", "principal": "1000.00", "interest": "50.00", "penalty": "20.00"}


def locations(error: ValidationError) -> list[tuple[Any, ...]]:
    return [tuple(item["loc"]) for item in error.errors()]


class TestDaysPastDue:
    def test_counted_in_the_debtors_calendar(self, make_case: MakeCase) -> None:
        """At 16:30 UTC on 1 October it is already 2 October in Shanghai: 31 days, bucket M2."""
        case = make_case()
        at = datetime(2026, 10, 1, 16, 30, tzinfo=UTC)
        assert case.local_date(at) == date(2026, 10, 2)
        assert case.days_past_due(at) == 31
        assert case.bucket(at) == "M2"

    def test_same_moment_earlier_in_the_utc_day(self, make_case: MakeCase) -> None:
        """At 15:59 UTC it is still 1 October in Shanghai: 30 days, bucket M1."""
        case = make_case()
        at = datetime(2026, 10, 1, 15, 59, tzinfo=UTC)
        assert case.days_past_due(at) == 30
        assert case.bucket(at) == "M1"

    def test_without_a_zone_the_moments_own_offset_is_used(self, make_case: MakeCase) -> None:
        """With no known time zone the date is read in the offset of the given moment."""
        case = make_case(debtor={"id": "D-1"})
        at = datetime(2026, 10, 1, 16, 30, tzinfo=UTC)
        assert case.days_past_due(at) == 30
        assert case.days_past_due(at.astimezone(timezone(timedelta(hours=9)))) == 31

    def test_zero_before_the_due_date(self, make_case: MakeCase) -> None:
        """Before (and on) the due date nothing is past due."""
        case = make_case()
        assert case.days_past_due(datetime(2026, 8, 20, tzinfo=UTC)) == 0
        assert case.days_past_due(datetime(2026, 9, 1, 4, tzinfo=UTC)) == 0
        assert case.bucket(datetime(2026, 8, 20, tzinfo=UTC)) == "M0"

    def test_zero_when_nothing_is_overdue(self, make_case: MakeCase) -> None:
        """A case whose overdue components are all zero is not past due, whatever the date."""
        case = make_case(balance={"currency": "CNY", "not_due": "5000.00"})
        at = datetime(2027, 3, 1, tzinfo=UTC)
        assert case.days_past_due(at) == 0
        assert case.bucket(at) == "M0"

    def test_naive_moment_is_refused(self, make_case: MakeCase) -> None:
        """A naive datetime raises InvalidInput naming 'at' and the value."""
        with pytest.raises(InvalidInput) as info:
            make_case().days_past_due(datetime(2026, 10, 1, 12))
        assert info.value.field == "at"
        assert "2026-10-01T12:00:00" in str(info.value)

    def test_a_zone_that_gives_no_offset_is_naive(self, make_case: MakeCase) -> None:
        """A tzinfo whose utcoffset is None makes a naive datetime (Python's own rule): refused."""

        class Nowhere(tzinfo):
            def utcoffset(self, dt: datetime | None) -> None:
                return None

        with pytest.raises(InvalidInput) as info:
            make_case().days_past_due(datetime(2026, 10, 1, 12, tzinfo=Nowhere()))
        assert info.value.field == "at"

    def test_non_datetime_moment_is_refused(self, make_case: MakeCase) -> None:
        """A date string is not a moment: InvalidInput naming 'at'."""
        with pytest.raises(InvalidInput) as info:
            make_case().bucket("2026-10-01")  # type: ignore[arg-type]
        assert info.value.field == "at"


class TestPerMoment:
    """Moments remembered by identity: an equal moment in another zone is not the same one."""

    def test_equal_moments_in_other_zones_keep_their_own_text(self) -> None:
        utc = datetime(2026, 11, 3, 1, 30, tzinfo=UTC)
        shanghai = utc.astimezone(ZoneInfo("Asia/Shanghai"))
        assert utc == shanghai
        assert moment_text(utc) == "2026-11-03T01:30:00+00:00"
        assert moment_text(shanghai) == "2026-11-03T09:30:00+08:00"
        assert moment_text(utc) == "2026-11-03T01:30:00+00:00"  # remembered, still its own
        assert instant(shanghai) == instant(utc) == 1793669400.0

    def test_a_dropped_moment_is_worked_out_again(self) -> None:
        calls: list[datetime] = []
        offset = per_moment(lambda at: calls.append(at) or at.utcoffset())
        new_york, start = ZoneInfo("America/New_York"), datetime(2026, 3, 8, 6, 59, tzinfo=UTC)
        first = start.astimezone(new_york)  # 01:59 EST, a minute before clocks go forward
        assert offset(first) == offset(first) == timedelta(hours=-5)
        assert calls == [first]
        later = [(start + timedelta(minutes=n)).astimezone(new_york) for n in range(1, 70)]
        assert offset(later[0]) == timedelta(hours=-4)  # 07:00 UTC: daylight time began
        for moment in later:
            offset(moment)
        assert offset(first) == timedelta(hours=-5)
        assert calls.count(first) == 2


class TestBucketOf:
    @pytest.mark.parametrize(
        ("dpd", "bucket"),
        [
            (-3, "M0"),
            (0, "M0"),
            (1, "M1"),
            (30, "M1"),
            (31, "M2"),
            (60, "M2"),
            (61, "M3"),
            (150, "M5"),
            (151, "M6"),
            (180, "M6"),
            (181, "M7+"),
            (2000, "M7+"),
        ],
    )
    def test_edges(self, dpd: int, bucket: str) -> None:
        """Buckets are 30-day bands: M1 is 1-30, M2 31-60, … M6 151-180, then M7+."""
        assert bucket_of(dpd) == bucket


class TestDerivedValuesAreNeverGiven:
    @pytest.mark.parametrize("field", ["days_past_due", "bucket", "dpd"])
    def test_refused_as_input(self, make_case: MakeCase, field: str) -> None:
        """Days past due and bucket cannot be passed in: they would be stored twice."""
        with pytest.raises(ValidationError) as info:
            make_case(**{field: 31})
        assert locations(info.value) == [(field,)]

    def test_not_stored_on_the_case(self, make_case: MakeCase) -> None:
        """A case's dump holds the due date but neither days past due nor bucket."""
        dumped = make_case().model_dump()
        assert dumped["due_date"] == date(2026, 9, 1)
        assert not {"days_past_due", "dpd", "bucket"} & set(dumped)


class TestBadInput:
    @pytest.mark.parametrize(
        ("overrides", "location"),
        [
            ({"debtor": {**DEBTOR, "timezone": "Mars/Base"}}, ("debtor", "timezone")),
            ({"debtor": {**DEBTOR, "locale": "zh_CN"}}, ("debtor", "locale")),
            ({"debtor": {**DEBTOR, "locale": "Chinese"}}, ("debtor", "locale")),
            ({"debtor": {**DEBTOR, "id": "has space"}}, ("debtor", "id")),
            ({"id": ""}, ("id",)),
            (
                {"contacts": [{"id": "p1", "channel": "pigeon", "address": "x"}]},
                ("contacts", 0, "channel"),
            ),
            (
                {"contacts": [{"id": "p1", "channel": "call", "address": "x", "party": "x"}]},
                ("contacts", 0, "party"),
            ),
            (
                {"contacts": [{"id": "p1", "channel": "call", "address": ""}]},
                ("contacts", 0, "address"),
            ),
            ({"balance": {**BALANCE, "principal": "-1.00"}}, ("balance", "principal")),
            ({"balance": {**BALANCE, "fees": "NaN"}}, ("balance", "fees")),
            ({"balance": {**BALANCE, "penalty": "Infinity"}}, ("balance", "penalty")),
            ({"due_date": "2026-02-30"}, ("due_date",)),
            ({"version": -1}, ("version",)),
            ({"opened_at": "2026-10-01T09:00:00"}, ("opened_at",)),
            ({"notices": {"demand_letter": "2026-10-01T09:00:00"}}, ("notices", "demand_letter")),
            ({"nickname": "x"}, ("nickname",)),
        ],
        ids=[
            "bad-timezone",
            "underscore-locale",
            "word-locale",
            "bad-debtor-id",
            "empty-id",
            "unknown-channel",
            "unknown-party",
            "empty-address",
            "negative-component",
            "nan-component",
            "infinite-component",
            "impossible-date",
            "negative-version",
            "naive-opened-at",
            "naive-notice",
            "unknown-field",
        ],
    )
    def test_error_names_the_field(
        self, make_case: MakeCase, overrides: dict[str, Any], location: tuple[Any, ...]
    ) -> None:
        """A bad value raises ValidationError located at the field that holds it."""
        with pytest.raises(ValidationError) as info:
            make_case(**overrides)
        assert locations(info.value) == [location]
        assert ".".join(map(str, location)) in str(info.value)

    def test_bad_timezone_names_the_zone(self, make_case: MakeCase) -> None:
        """An unknown IANA zone is named in the refusal, once: the value, then what a
        zone is (a ten-megabyte one is not repeated in the message)."""
        with pytest.raises(ValidationError) as info:
            make_case(debtor={**DEBTOR, "timezone": "Mars/Base"})
        assert str(invalid_input(info.value)) == (
            "debtor.timezone: got 'Mars/Base', expected an IANA time zone such as "
            "'America/New_York' or 'Asia/Shanghai'"
        )

    def test_duplicate_contact_ids(self, make_case: MakeCase) -> None:
        """Two contact points with one id are refused, naming 'contacts' and the id."""
        twice = [
            {"id": "p1", "channel": "call", "address": "+8613812345678"},
            {"id": "p1", "channel": "sms", "address": "+8613900001111"},
        ]
        with pytest.raises(ValidationError, match=r"contacts: contact id 'p1' appears twice"):
            make_case(contacts=twice)

    def test_float_component(self, make_case: MakeCase) -> None:
        """A float amount is refused with the component and the value named."""
        with pytest.raises(ValidationError) as info:
            make_case(balance={**BALANCE, "interest": 50.0})
        assert locations(info.value) == [("balance",)]
        assert "interest: got 50.0" in str(info.value)
        assert "never a float" in str(info.value)

    def test_more_decimals_than_the_currency_has(self, make_case: MakeCase) -> None:
        """JPY has no minor unit, so 1000.5 yen is refused naming the component and value."""
        with pytest.raises(ValidationError, match=r"principal: got 1000\.5, .*0 decimal places"):
            make_case(balance={"currency": "JPY", "principal": "1000.5"})

    @pytest.mark.parametrize("currency", ["XYZ", "XAU"])
    def test_unusable_currency(self, make_case: MakeCase, currency: str) -> None:
        """An unknown code or one without minor units is refused naming 'currency'."""
        with pytest.raises(ValidationError, match=f"currency: got '{currency}'"):
            make_case(balance={"currency": currency, "principal": "1"})

    @pytest.mark.parametrize("field", ["started_at", "ends_at", "released_at"])
    def test_naive_hold_times(self, field: str) -> None:
        """Every time on a hold must be timezone-aware."""
        data: dict[str, Any] = {
            "id": "h1",
            "kind": "dispute",
            "reason": "amount disputed",
            "started_at": datetime(2026, 10, 1, tzinfo=UTC),
        }
        data[field] = datetime(2026, 10, 5, 9)
        with pytest.raises(ValidationError) as info:
            Hold.model_validate(data)
        assert locations(info.value) == [(field,)]

    def test_hold_must_end_after_it_starts(self) -> None:
        """A hold ending before its start is refused with both times named."""
        with pytest.raises(ValidationError, match=r"ends_at: got 2026-09-30T00:00:00\+00:00"):
            Hold(
                id="h1",
                kind=HoldKind.DISPUTE,
                reason="amount disputed",
                started_at=datetime(2026, 10, 1, tzinfo=UTC),
                ends_at=datetime(2026, 9, 30, tzinfo=UTC),
            )

    def test_unknown_hold_kind(self) -> None:
        """A hold kind outside the list is refused naming 'kind'."""
        with pytest.raises(ValidationError) as info:
            Hold(
                id="h1",
                kind="vacation",  # type: ignore[arg-type]
                reason="r",
                started_at=datetime(2026, 10, 1, tzinfo=UTC),
            )
        assert locations(info.value) == [("kind",)]


class TestPersonalData:
    def test_repr_hides_name_and_addresses(self, make_case: MakeCase) -> None:
        """Neither the debtor's name nor any contact address appears in a case's repr."""
        text = repr(make_case()) + str(make_case())
        assert "王小明" not in text
        assert "13812345678" not in text
        assert "13900001111" not in text
        assert "Asia/Shanghai" in text

    def test_debtor_error_hides_the_name(self) -> None:
        """A Debtor that fails validation does not echo its name."""
        with pytest.raises(ValidationError) as info:
            Debtor(id="D-1", name=["王小明"], locale="zh-CN")  # type: ignore[arg-type]
        assert "王小明" not in str(info.value)
        assert locations(info.value) == [("name",)]

    def test_contact_error_hides_the_address(self) -> None:
        """A ContactPoint that fails validation does not echo its address."""
        with pytest.raises(ValidationError) as info:
            ContactPoint(id="p 1", channel=Channel.CALL, address="+8613812345678")
        assert "13812345678" not in str(info.value)
        assert locations(info.value) == [("id",)]

    @pytest.mark.parametrize(
        "overrides",
        [
            {"debtor": {**DEBTOR, "name": ["王小明"]}},
            {"debtor": {**DEBTOR, "locale": "xx_XX"}},
            {"debtor": "王小明"},
            {"contacts": [{"id": "p1", "channel": "call", "address": ["+8613812345678"]}]},
            {"contacts": "+8613812345678"},
            {
                "contacts": [
                    {"id": "p1", "channel": "call", "address": "+8613812345678"},
                    {"id": "p1", "channel": "sms", "address": "+8613812345678"},
                ]
            },
            {"bucket": "M2"},
        ],
        ids=[
            "name-not-text",
            "bad-locale",
            "name-as-debtor",
            "address-not-text",
            "address-as-contacts",
            "duplicate-contacts",
            "derived-field",
        ],
    )
    def test_case_errors_hide_name_and_addresses(
        self, make_case: MakeCase, overrides: dict[str, Any]
    ) -> None:
        """No validation error of a case, nested or whole, shows the name or an address."""
        with pytest.raises(ValidationError) as info:
            make_case(**overrides)
        text = str(info.value)
        assert "王小明" not in text
        assert "13812345678" not in text

    def test_mask_keeps_the_last_four(self) -> None:
        """mask keeps the last four characters and hides the rest."""
        assert mask("+8613812345678") == "**********5678"
        assert mask("abc") == "***"


class TestModels:
    def test_valid_case(self, make_case: MakeCase) -> None:
        """A valid case is built with its zone, contacts and exact balance."""
        case = make_case()
        assert case.debtor.timezone == ZoneInfo("Asia/Shanghai")
        assert case.debtor.locale == "zh-CN"
        assert [(p.id, p.channel, p.party) for p in case.contacts] == [
            ("p1", Channel.CALL, Party.DEBTOR),
            ("p2", Channel.SMS, Party.DEBTOR),
        ]
        assert case.stage == "pre_due"
        assert case.version == 0
        assert case.currency == "CNY"
        assert case.arrears == Money("1070.00", "CNY")

    def test_contact_lookup(self, make_case: MakeCase) -> None:
        """contact() finds a contact point by id and raises KeyError for an unknown one."""
        case = make_case()
        assert case.contact("p2").channel == Channel.SMS
        with pytest.raises(KeyError):
            case.contact("p9")

    @pytest.mark.parametrize("locale", ["zh", "zh-CN", "zh-Hans-CN", "en-US", "es-419"])
    def test_locales_accepted(self, locale: str) -> None:
        """Language, optional script and region tags are accepted."""
        assert Debtor(id="D-1", locale=locale).locale == locale

    def test_balance_amounts_get_exact_minor_units(self) -> None:
        """Components are stored with exactly the currency's minor units."""
        balance = Balance(currency="CNY", principal="1000", penalty=Decimal("20.5"))
        assert str(balance.principal) == "1000.00"
        assert str(balance.penalty) == "20.50"
        assert str(Balance(currency="JPY", principal="1000.0").principal) == "1000"

    def test_balance_components_not_given_are_the_currencys_zero(self) -> None:
        """An amount left out is zero with the currency's minor units, shared, and not 'given'."""
        cny = Balance(currency="CNY", principal="1000")
        again = Balance(currency="CNY", principal="7")
        yen = Balance(currency="JPY", principal="1000")
        assert [str(cny.money(name).amount) for name in ("interest", "not_due", "credit")] == [
            "0.00",
            "0.00",
            "0.00",
        ]
        assert str(yen.credit) == "0"
        assert cny.credit is again.fees  # one zero per currency, not one per case
        assert cny.model_fields_set == {"currency", "principal"}
        assert cny.model_dump_json() == (
            '{"currency":"CNY","principal":"1000.00","interest":"0.00","fees":"0.00",'
            '"penalty":"0.00","not_due":"0.00","credit":"0.00"}'
        )

    def test_balance_errors_are_located_at_their_field(self, make_case: MakeCase) -> None:
        """Too many decimals and an unusable currency name the field inside the balance."""
        with pytest.raises(ValidationError) as info:
            make_case(balance={"currency": "JPY", "principal": "1000.5", "fees": "3.25"})
        assert locations(info.value) == [("balance", "principal"), ("balance", "fees")]
        assert "fees: got 3.25, expected at most 0 decimal places for JPY" in str(info.value)
        with pytest.raises(ValidationError) as info:
            make_case(balance={"currency": "XYZ", "principal": "1.005"})
        assert locations(info.value) == [("balance", "currency")]

    def test_each_part_keeps_its_own_given_fields(self, make_case: MakeCase) -> None:
        """pydantic's record of the given fields is each model's own, as pydantic makes it."""
        first, second = make_case(id="L-1"), make_case(id="L-2")
        assert first.balance.model_fields_set == second.balance.model_fields_set
        for part in ("debtor", "balance"):
            assert (
                getattr(first, part).model_fields_set is not getattr(second, part).model_fields_set
            )
        engine_changed = first.model_copy()
        engine_changed.stage = "notified"
        assert "stage" in engine_changed.model_fields_set
        assert "stage" not in first.model_fields_set

    def test_the_library_writes_no_private_attribute_of_pydantic(self) -> None:
        """Models change through pydantic's public means only (assignment, validators, copies)."""
        package = Path(__file__).resolve().parents[1] / "src" / "arrears"
        private = re.compile(
            r"__pydantic_(fields_set|private|extra)__|\.__dict__\s*\[|__dict__\.(update|setdefault)"
        )
        found = [
            f"{path.relative_to(package).as_posix()}:{number}"
            for path in sorted(package.rglob("*.py"))
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
            if private.search(line)
        ]
        assert found == []

    def test_balance_totals(self) -> None:
        """arrears sums the overdue components; outstanding adds what is not yet due."""
        balance = Balance(
            currency="CNY", principal="1000", interest="50", penalty="20", not_due="5000"
        )
        assert balance.arrears == Money("1070.00", "CNY")
        assert balance.outstanding == Money("6070.00", "CNY")
        assert balance.has_arrears
        assert balance.components() == {
            "principal": Money("1000", "CNY"),
            "interest": Money("50", "CNY"),
            "fees": Money("0", "CNY"),
            "penalty": Money("20", "CNY"),
        }
        assert balance.money("not_due") == Money("5000", "CNY")

    def test_after_payment(self) -> None:
        """after_payment takes the applied parts off and adds the credit."""
        balance = Balance(currency="CNY", principal="1000", interest="50", penalty="20")
        paid = balance.after_payment(
            {"penalty": Decimal("20.00"), "interest": Decimal("10.00")}, Decimal("0.00")
        )
        assert (paid.penalty, paid.interest, paid.principal) == (
            Decimal("0.00"),
            Decimal("40.00"),
            Decimal("1000.00"),
        )
        assert balance.penalty == Decimal("20.00")

    def test_after_payment_refuses_paying_more_than_owed(self) -> None:
        """Taking more off a component than it owes is refused naming 'applied'."""
        balance = Balance(currency="CNY", penalty="20")
        with pytest.raises(InvalidInput) as info:
            balance.after_payment({"penalty": Decimal("25.00")}, Decimal(0))
        assert info.value.field == "applied"

    def test_models_are_frozen(self, make_case: MakeCase) -> None:
        """Debtor, contact points and balances cannot be changed in place."""
        case = make_case()
        with pytest.raises(ValidationError):
            case.debtor.locale = "en"  # type: ignore[misc]
        with pytest.raises(ValidationError):
            case.balance.principal = Decimal(0)  # type: ignore[misc]

    def test_hold_active_window(self) -> None:
        """A hold is active from its start until its end or its release, whichever is first."""
        start = datetime(2026, 10, 1, tzinfo=UTC)
        hold = Hold(
            id="h1",
            kind=HoldKind.BREATHING_SPACE,
            reason="breathing space",
            started_at=start,
            ends_at=start + timedelta(days=60),
        )
        assert not hold.active_at(start - timedelta(seconds=1))
        assert hold.active_at(start)
        assert hold.active_at(start + timedelta(days=59))
        assert not hold.active_at(start + timedelta(days=60))
        released = hold.model_copy(update={"released_at": start + timedelta(days=5)})
        assert released.active_at(start + timedelta(days=4))
        assert not released.active_at(start + timedelta(days=5))

    def test_active_holds(self, make_case: MakeCase) -> None:
        """active_holds lists only the holds in force at the given moment."""
        start = datetime(2026, 10, 1, tzinfo=UTC)
        hold = {"kind": "dispute", "reason": "disputed", "started_at": start}
        case = make_case(
            holds=[
                {**hold, "id": "h1", "ends_at": start + timedelta(days=1)},
                {**hold, "id": "h2"},
            ]
        )
        assert [h.id for h in case.active_holds(start + timedelta(hours=1))] == ["h1", "h2"]
        assert [h.id for h in case.active_holds(start + timedelta(days=2))] == ["h2"]

    def test_json_round_trip(self, make_case: MakeCase) -> None:
        """A case dumped to JSON validates back to an equal case."""
        case = make_case(notices={"demand_letter": datetime(2026, 10, 1, tzinfo=UTC)})
        assert Case.model_validate_json(case.model_dump_json()) == case


class TestPayday:
    """A payday is a recurring date: no finer than daily, no hours (a review walks the rule)."""

    @pytest.mark.parametrize(
        ("rule", "said"),
        [
            ("FREQ=SECONDLY", "not SECONDLY"),
            ("freq=minutely;interval=1", "not MINUTELY"),
            ("FREQ=HOURLY;INTERVAL=24", "not HOURLY"),
            ("FREQ=DAILY;BYHOUR=9,17", "no BYHOUR"),
        ],
    )
    def test_a_rule_finer_than_a_day_is_refused(self, rule: str, said: str) -> None:
        with pytest.raises(ValidationError) as info:
            Debtor(id="D-1", payday=rule)
        assert said in str(info.value)

    @pytest.mark.parametrize(
        "rule", ["FREQ=MONTHLY;BYMONTHDAY=15", "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=WEEKLY;BYDAY=FR"]
    )
    def test_a_daily_or_coarser_rule_is_kept(self, rule: str) -> None:
        assert Debtor(id="D-1", payday=rule).payday == rule

    def test_open_case_refuses_it_naming_the_field(self, engine: Any, make_case: Any) -> None:
        """Through the engine: InvalidInput on ``debtor.payday``, nothing stored."""
        record = make_case().model_dump(mode="json")
        record["debtor"]["payday"] = "FREQ=SECONDLY"
        with pytest.raises(InvalidInput) as info:
            engine.open_case(record)
        assert info.value.field == "debtor.payday"
        assert len(engine.store) == 0


@pytest.mark.parametrize("zero", ["-0.00", "-0", Decimal("-0.000")])
def test_a_negative_zero_is_kept_as_zero(make_case: Callable[..., Case], zero: object) -> None:
    # A statement or a journal entry showing "-0.00" owed would be read as a credit.
    case = make_case(balance={"currency": "CNY", "principal": "1000.00", "fees": zero})
    assert str(case.balance.fees) == "0.00"
    assert not case.balance.fees.is_signed()
    assert case.model_dump(mode="json")["balance"]["fees"] == "0.00"
