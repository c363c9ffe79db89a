"""One number is one address however it is written: the per-number caps and the opt-outs
carried across a debtor's loans count a phone number, not the way a loan system wrote it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import Case, ContactPoint, Debtor, Engine, SettableClock
from arrears.addresses import normal_address, phone_e164
from arrears.case import debtor_region
from arrears.compliance import Compliance
from arrears.errors import InvalidInput
from arrears.stores import SQLiteStore

MOMENT = datetime(2026, 10, 14, 14, 0, tzinfo=UTC)  # 10:00 in New York, 22:00 in Shanghai
MORNING = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def _two_loans(
    engine: Engine,
    zone: str | None,
    currency: str,
    channel: str,
    first: str,
    second: str,
    **debtor: Any,
) -> None:
    """Two loans of one debtor, the same number on each as each loan system wrote it."""
    for number, address in ((1, first), (2, second)):
        engine.open_case(
            {
                "id": f"LN-{number}",
                "debtor": {"id": "D-1", "timezone": zone, **debtor},
                "contacts": [{"id": f"phone-{number}", "channel": channel, "address": address}],
                "balance": {"currency": currency, "principal": "1000.00"},
                "due_date": "2026-09-01",
            }
        )


def _six_unanswered_then_judge(engine: Engine) -> list[str]:
    """Six unanswered calls to LN-1's phone this morning, then a call on LN-2 judged."""
    for minutes in range(6):
        engine.record_interaction(
            "LN-1", "call", "no_answer", contact="phone-1", at=MORNING + timedelta(minutes=minutes)
        )
    verdict = engine.judge_contact(
        "LN-2",
        {"channel": "call", "contact": "phone-2"},
        at=MORNING + timedelta(minutes=30),
        record=False,
    )
    return [reason.rule for reason in verdict.reasons]


class TestAcrossLoans:
    def test_the_per_number_dial_cap_counts_one_number_written_two_ways(self) -> None:
        """The seventh unanswered call of the day to one mobile is refused (CN-CALLS-ATTEMPTS)
        though the second loan wrote the number with spaces."""
        engine = Engine(compliance=Compliance(["CN"]), clock=SettableClock(MORNING))
        _two_loans(engine, "Asia/Shanghai", "CNY", "call", "+8613812345678", "+86 138 1234 5678")
        assert _six_unanswered_then_judge(engine) == ["CN-CALLS-ATTEMPTS"]

    def test_the_per_number_dial_cap_counts_a_number_in_full_width_digits(self) -> None:
        """A mobile written in the full-width digits of a Chinese keyboard, with no space,
        is the same mobile: the seventh unanswered call of the day is refused."""
        engine = Engine(compliance=Compliance(["CN"]), clock=SettableClock(MORNING))
        wide = "+86\uff11\uff13\uff18\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"
        _two_loans(engine, "Asia/Shanghai", "CNY", "call", "+8613812345678", wide)
        assert engine.case("LN-2").contact("phone-2").address == "+8613812345678"
        assert _six_unanswered_then_judge(engine) == ["CN-CALLS-ATTEMPTS"]

    def test_a_national_number_on_one_loan_is_the_international_one_on_another(self) -> None:
        """A Chinese mobile written nationally (138-1234-5678) on one loan of a debtor in
        Shanghai is the +86 number on the other."""
        engine = Engine(compliance=Compliance(["CN"]), clock=SettableClock(MORNING))
        _two_loans(engine, "Asia/Shanghai", "CNY", "call", "+8613812345678", "138-1234-5678")
        assert engine.case("LN-2").contact("phone-2").address == "+8613812345678"
        assert _six_unanswered_then_judge(engine) == ["CN-CALLS-ATTEMPTS"]

    def test_another_number_is_not_counted(self) -> None:
        """Six calls to one mobile leave a call to the debtor's other mobile allowed."""
        engine = Engine(compliance=Compliance(["CN"]), clock=SettableClock(MORNING))
        _two_loans(engine, "Asia/Shanghai", "CNY", "call", "+8613812345678", "139 1234 5678")
        assert _six_unanswered_then_judge(engine) == []

    def test_an_opt_out_of_a_number_reaches_it_written_another_way_on_another_loan(self) -> None:
        """An opt-out of texts to a number binds the debtor's other loan that wrote it
        '(617) 555-0100' (12 CFR 1006.6(e), 1006.14(h))."""
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(MOMENT))
        _two_loans(engine, "America/New_York", "USD", "sms", "+16175550100", "(617) 555-0100")
        engine.record_opt_out("LN-1", "sms", contact="phone-1")
        verdict = engine.judge_contact(
            "LN-2",
            {"channel": "sms", "contact": "phone-2"},
            at=MOMENT + timedelta(minutes=30),
            record=False,
        )
        assert not verdict.allowed

    def test_an_opt_out_of_an_email_reaches_its_domain_written_in_capitals(self) -> None:
        """An opt-out of e-mails to jane@example.com binds Jane@EXAMPLE.com's domain too: the
        domain is compared in lower case."""
        engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(MOMENT))
        _two_loans(
            engine, "America/New_York", "USD", "email", "jane@example.com", "jane@EXAMPLE.com"
        )
        assert engine.case("LN-2").contact("phone-2").address == "jane@example.com"
        engine.record_opt_out("LN-1", "email", contact="phone-1")
        verdict = engine.judge_contact(
            "LN-2",
            {"channel": "email", "contact": "phone-2"},
            at=MOMENT + timedelta(minutes=30),
            record=False,
        )
        assert not verdict.allowed


class TestNationalNumbers:
    @pytest.mark.parametrize(
        ("debtor", "address", "expected"),
        [
            ({"jurisdiction": "US-MA"}, "617.555.0100", "+16175550100"),
            ({"residence": "GB-ENG"}, "07911 123456", "+447911123456"),
            ({"timezone": "Asia/Shanghai"}, "138 1234 5678", "+8613812345678"),
            ({"locale": "en-US"}, "(617) 555-0100", "+16175550100"),
            # A zone written as a link (the zone.tab lists New York, not US/Eastern).
            ({"timezone": "US/Eastern"}, "(617) 555-0100", "+16175550100"),
            ({"timezone": "Asia/Chongqing"}, "138 1234 5678", "+8613812345678"),
            # The jurisdiction wins over the locale: a Chinese-speaking debtor in Boston.
            ({"jurisdiction": "US-MA", "locale": "zh-CN"}, "617 555 0100", "+16175550100"),
        ],
    )
    def test_a_national_number_is_read_in_the_debtors_country(
        self, debtor: dict[str, str], address: str, expected: str
    ) -> None:
        """The country is the jurisdiction's, else the residence's, the time zone's, the
        locale's region."""
        case = Case.model_validate(
            {
                "id": "LN-1",
                "debtor": {"id": "D-1", **debtor},
                "contacts": [{"id": "m", "channel": "sms", "address": address}],
                "balance": {"currency": "USD", "principal": "1.00"},
                "due_date": "2026-09-01",
            }
        )
        assert case.contact("m").address == expected

    def test_a_national_number_of_a_debtor_of_no_known_country_is_refused(self) -> None:
        """With no jurisdiction, residence, time zone or locale region, a number without '+'
        is refused, naming the field and only the number's last four digits."""
        engine = Engine()
        with pytest.raises(InvalidInput) as raised:
            engine.open_case(
                {
                    "id": "LN-1",
                    "debtor": {"id": "D-1"},
                    "contacts": [
                        {"id": "e", "channel": "email", "address": "jane@example.com"},
                        {"id": "m", "channel": "sms", "address": "(617) 555-0100"},
                    ],
                    "balance": {"currency": "USD", "principal": "1.00"},
                    "due_date": "2026-09-01",
                }
            )
        assert raised.value.field == "contacts[1].address"
        assert raised.value.value == "**********0100"
        assert "617" not in str(raised.value)
        assert "LN-1" not in engine.store

    def test_a_new_contact_point_with_a_national_number_is_read_in_the_debtors_country(
        self,
    ) -> None:
        """A contact person's phone added by update_persons is read like the case's own."""
        engine = Engine(clock=SettableClock(MOMENT))
        _two_loans(engine, "America/New_York", "USD", "sms", "+16175550100", "+16175550100")
        engine.update_persons(
            "LN-1",
            [{"id": "P-1", "relationship": "spouse"}],
            contacts=[
                *engine.case("LN-1").contacts,
                {"id": "spouse", "channel": "call", "address": "617-555-0111", "person": "P-1"},
            ],
        )
        assert engine.case("LN-1").contact("spouse").address == "+16175550111"
        assert engine.verify() == []

    @pytest.mark.parametrize(
        ("jurisdiction", "address"),
        [("US-NY", "138 1234 5678"), ("US-MA", "07911 123456"), ("CN", "617 555 0100")],
    )
    def test_a_national_number_of_another_country_is_refused(
        self, jurisdiction: str, address: str
    ) -> None:
        """A debtor who moved to New York keeps the Chinese mobile a loan system writes
        nationally: read in the US it is no number (+1 381 234 5678), and is refused
        rather than kept as a number nobody has, apart from the debtor's +86 one."""
        with pytest.raises(InvalidInput, match=r"contacts\[0\]\.address") as raised:
            Engine().open_case(
                {
                    "id": "LN-1",
                    "debtor": {"id": "D-1", "jurisdiction": jurisdiction},
                    "contacts": [{"id": "m", "channel": "call", "address": address}],
                    "balance": {"currency": "USD", "principal": "1.00"},
                    "due_date": "2026-09-01",
                }
            )
        assert address[:3] not in str(raised.value)

    def test_a_number_that_is_none_is_refused(self) -> None:
        """An SMS address that is no number in the debtor's country is refused."""
        with pytest.raises(InvalidInput, match=r"contacts\[0\]\.address"):
            Engine().open_case(
                {
                    "id": "LN-1",
                    "debtor": {"id": "D-1", "jurisdiction": "CN"},
                    "contacts": [{"id": "m", "channel": "sms", "address": "call me"}],
                    "balance": {"currency": "CNY", "principal": "1.00"},
                    "due_date": "2026-09-01",
                }
            )


class TestForms:
    @pytest.mark.parametrize(
        ("address", "expected"),
        [
            ("+86 138 1234 5678", "+8613812345678"),
            ("+1 (617) 555-0100", "+16175550100"),
            ("+44 (0)20 7946 0000", "+442079460000"),  # the trunk 0 written after +44
            ("+116175550100", "+16175550100"),  # North America's trunk 1 after +1
            ("+1 617 555 0100 ext. 12", "+16175550100;ext=12"),
            ("+8613812345678", "+8613812345678"),
        ],
    )
    def test_an_international_number_in_e164(self, address: str, expected: str) -> None:
        """However written, an international number is kept in E.164."""
        point = ContactPoint(id="m", channel="call", address=address)
        assert point.address == expected

    def test_postal_addresses_and_unknown_are_kept_as_given(self) -> None:
        """A letter's address and the 'unknown' address are not phone numbers."""
        assert normal_address("letter", "12 Elm St, Boston") == "12 Elm St, Boston"
        assert normal_address("sms", "unknown") == "unknown"
        assert ContactPoint(id="m", channel="sms", address="unknown").address == "unknown"

    def test_a_debtor_of_no_known_country_has_no_region(self) -> None:
        """No jurisdiction, residence, zone of one country or locale region: no region."""
        assert debtor_region(Debtor(id="D-1")) is None
        assert debtor_region(Debtor(id="D-1", timezone="UTC")) is None
        assert debtor_region(Debtor(id="D-1", timezone="Europe/Zurich")) == "CH"
        assert debtor_region(Debtor(id="D-1", timezone="Etc/GMT")) is None  # a link to no country


def test_the_trunk_prefixes_are_the_phonenumbers_librarys() -> None:
    """A number in E.164 is kept as given without asking ``phonenumbers``, by the table of
    each country calling code's trunk prefix: that table says what the library installed
    says, for every code from 1 to 999 (a code it does not know, none either)."""
    from arrears.addresses import _national_prefix

    differ = {}
    for code in range(1, 1000):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
        expected = None
        if regions:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
                code, regions[0]
            )
            assert metadata is not None
            expected = metadata.national_prefix_for_parsing or r"(?!)"
        found = _national_prefix(str(code))
        if (None if found is None else found.pattern) != expected:
            differ[code] = (found, expected)
    assert differ == {}


@pytest.mark.parametrize(
    "address",
    [
        "+8613812345678",
        "+8601012345678",
        "+861012345678",
        "+16175550100",
        "+116175550100",
        "+442079460000",
        "+4402079460000",
        "+5491123456789",
        "+54150111234567",
        "+35315551234",
    ],
)
def test_e164_as_given_is_what_the_library_writes(address: str) -> None:
    """The quick path for a number that looks like E.164 gives what parsing it gives."""
    try:
        number = phonenumbers.parse(address)
    except phonenumbers.NumberParseException:
        expected = None
    else:
        expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    phone_e164.cache_clear()
    assert phone_e164(address) == expected


def _writings(number: phonenumbers.PhoneNumber) -> st.SearchStrategy[str]:
    """The ways a loan system may write *number*: international or national, each digit
    group split by spaces, dashes, dots or nothing, the area code maybe in parentheses."""
    region = phonenumbers.region_code_for_number(number)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def written(text: str, separator: str, parentheses: bool) -> str:
        groups = "".join(c if c.isdigit() or c == "+" else " " for c in text).split()
        if parentheses and len(groups) > 2:
            groups[-3] = f"({groups[-3]})"
        return separator.join(groups)

    assert region is not None
    return st.builds(
        written,
        st.sampled_from([national, international]),
        st.sampled_from([" ", "-", ".", "", "  "]),
        st.booleans(),
    )


_NUMBERS = st.sampled_from(
    [
        phonenumbers.parse("+8613812345678"),
        phonenumbers.parse("+862164001234"),  # a Shanghai landline
        phonenumbers.parse("+16175550123"),
        phonenumbers.parse("+447911123456"),
        phonenumbers.parse("+442079460000"),
    ]
)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), number=_NUMBERS)
def test_any_writing_of_a_number_is_one_number(data: st.DataObject, number: Any) -> None:
    """Spaces, dashes, dots, parentheses, national or international: one E.164 number, in
    the debtor's country and by phone_e164 alike."""
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    region = phonenumbers.region_code_for_number(number)
    first = data.draw(_writings(number))
    second = data.draw(_writings(number))
    case = Case.model_validate(
        {
            "id": "LN-1",
            "debtor": {"id": "D-1", "jurisdiction": region},
            "contacts": [
                {"id": "a", "channel": "call", "address": first},
                {"id": "b", "channel": "sms", "address": second},
            ],
            "balance": {"currency": "USD", "principal": "1.00"},
            "due_date": "2026-09-01",
        }
    )
    assert [point.address for point in case.contacts] == [expected, expected]
    assert phone_e164(first, region) == phone_e164(second, region) == expected


@contextmanager
def _as_before_numbers_were_kept_in_one_form(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Open cases as a version of arrears that kept every address as given."""
    import arrears.case
    import arrears.operations.cases

    with monkeypatch.context() as patch:
        patch.setattr(arrears.case, "phone_e164", lambda address, region=None: None)
        patch.setattr(arrears.case, "normal_address", lambda channel, address, region=None: address)
        patch.setattr(arrears.case, "in_region", lambda debtor, contacts: contacts)
        patch.setattr(arrears.operations.cases, "check_numbers", lambda contacts: None)
        yield


def test_a_case_stored_with_the_number_as_given_compares_in_e164(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case stored (and journaled) with '+86 138 1234 5678' before numbers were kept in
    E.164 reads back in E.164: its calls count with the other loan's, and its journal,
    not rewritten, still verifies."""
    path = tmp_path / "arrears.db"
    with _as_before_numbers_were_kept_in_one_form(monkeypatch):
        old = Engine(
            store=SQLiteStore(path), compliance=Compliance(["CN"]), clock=SettableClock(MORNING)
        )
        _two_loans(old, "Asia/Shanghai", "CNY", "call", "+8613812345678", "+86 138 1234 5678")
        old.store.close()
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT journal.body, cases.body FROM journal JOIN cases ON cases.id = case_id "
            "WHERE case_id = 'LN-2' AND seq = 0"
        ).fetchall()
    # The stored case and its journal keep the number as it was given.
    ((journal, stored),) = rows
    assert "+86 138 1234 5678" in bytes(journal).decode()
    assert "+86 138 1234 5678" in stored
    with SQLiteStore(path) as store:
        engine = Engine(store=store, compliance=Compliance(["CN"]), clock=SettableClock(MORNING))
        assert engine.case("LN-2").contact("phone-2").address == "+8613812345678"
        assert _six_unanswered_then_judge(engine) == ["CN-CALLS-ATTEMPTS"]
        assert engine.verify() == []


# -- the locale of a debtor opened without one ---------------------------------------------

POLICY = Path(__file__).resolve().parents[1] / "examples" / "policies" / "cn_consumer_loan.yaml"
DUE = date(2026, 9, 30)


class _Sms:
    """An SMS adapter that notes, for each message, the debtor's days past due at sending."""

    channels = frozenset({"sms"})

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine
        self.days_past_due: list[int] = []
        self.texts: list[str] = []

    def send(self, message: Any) -> Any:
        from arrears.channels import SendResult

        engine = self._engine()
        local = engine.case(message.case_id).local_date(engine.clock.now())
        self.days_past_due.append((local - DUE).days)
        self.texts.append(message.text)
        return SendResult("sent", f"p-{message.key[:8]}", "ok")

    def delivery(self, key: str) -> None:
        return None


def test_the_cn_example_reviews_a_debtor_opened_without_a_locale() -> None:
    """A debtor in Shanghai opened with no locale is written to in Chinese: the CN example
    policy checks OK and sends its reminders on days 1, 3 and 7, none refused."""
    from arrears.policy import load_policy
    from arrears.testing import check_policy

    assert check_policy(str(POLICY)).ok
    clock = SettableClock(datetime(2026, 10, 1, 1, 30, tzinfo=UTC))  # 09:30 in Shanghai
    holder: list[Engine] = []
    sms = _Sms(lambda: holder[0])
    engine = Engine(policy=load_policy(POLICY), channels=[sms], clock=clock)
    holder.append(engine)
    engine.open_case(
        {
            "id": "LN-1",
            "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
            "contacts": [{"id": "sms", "channel": "sms", "address": "+8613900001111"}],
            "balance": {"currency": "CNY", "principal": "3000.00"},
            "due_date": DUE.isoformat(),
        }
    )
    assert engine.case("LN-1").debtor.locale == "zh-CN"
    errors = []
    for _ in range(8):
        errors += engine.tick(clock.now()).errors
        clock.advance(days=1)
    assert errors == []
    assert sms.days_past_due == [1, 3, 7]
    assert all("安心消费金融" in text for text in sms.texts)


@pytest.mark.parametrize(
    ("debtor", "locale"),
    [
        ({"jurisdiction": "CN"}, "zh-CN"),
        ({"residence": "CN", "timezone": "America/New_York"}, "zh-CN"),
        ({"timezone": "Asia/Shanghai"}, "zh-CN"),
        # Other names of Shanghai's zone, links in the time-zone database.
        ({"timezone": "Asia/Chongqing"}, "zh-CN"),
        ({"timezone": "PRC"}, "zh-CN"),
        ({"timezone": "Asia/Shanghai", "locale": "en-US"}, "en-US"),  # given: kept
        ({"jurisdiction": "US-MA", "timezone": "Asia/Shanghai"}, "en"),  # the jurisdiction's
        ({"timezone": "Europe/London"}, "en"),
        ({}, "en"),
    ],
)
def test_a_debtor_opened_without_a_locale_has_their_countrys(
    debtor: dict[str, str], locale: str
) -> None:
    """The locale not given is the country's where it is not English (China's zh-CN), the
    country being the jurisdiction's, else the residence's, else the time zone's."""
    assert Debtor.model_validate({"id": "D-1", **debtor}).locale == locale


def test_a_stored_debtor_keeps_the_locale_it_was_opened_with() -> None:
    """A debtor read back keeps its locale: 'en' stored stays 'en' in Shanghai."""
    stored = Debtor(id="D-1", timezone="Asia/Shanghai", locale="en").model_dump_json()
    assert Debtor.model_validate_json(stored).locale == "en"


def test_a_stored_number_that_cannot_be_read_is_kept_and_a_new_one_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A case stored before with a national number of a debtor of no known country reads
    back with it as given; its persons still change, and a new such number is refused."""
    engine = Engine(clock=SettableClock(MOMENT))
    with _as_before_numbers_were_kept_in_one_form(monkeypatch):
        _two_loans(engine, None, "USD", "sms", "617 555 0100", "+16175550100")
    own = engine.case("LN-1").contacts
    assert [point.address for point in own] == ["617 555 0100"]
    spouse = {"id": "spouse", "channel": "call", "address": "+16175550111", "person": "P-1"}
    engine.update_persons(
        "LN-1", [{"id": "P-1", "relationship": "spouse"}], contacts=[*own, spouse]
    )
    with pytest.raises(InvalidInput) as raised:
        engine.update_persons(
            "LN-1",
            [{"id": "P-1", "relationship": "spouse"}],
            contacts=[*own, spouse, {**spouse, "id": "spouse-2", "address": "617 555 0112"}],
        )
    assert (raised.value.field, raised.value.value) == ("contacts[2].address", "********0112")
    assert engine.verify() == []
