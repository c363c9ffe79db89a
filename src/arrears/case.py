"""The case model: a debtor, how to reach them, what is overdue, and where the case stands.

Everything here is a pydantic v2 model, validated on the way in.  Days past
due and the delinquency bucket are *derived* from the due date and a moment
you give; they are never stored, so they can never disagree with the dates.

Personal data (the debtor's name, contact addresses) is kept out of ``repr``
and out of validation errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sized
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Any, Final, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from .addresses import (
    PHONE_CHANNELS,
    UNKNOWN,
    country_of,
    is_e164,
    is_place_zone,
    normal_address,
    phone_e164,
)
from .agreements import Accrual, AgreementTerms
from .clock import require_aware
from .errors import InvalidInput, TooLong, described
from .holds import HoldKind, Reach, reaches_debtor
from .limits import (
    ADDRESS,
    CONTACTS,
    LATEST_DATE,
    MAX_AMOUNT,
    NAME,
    OPENING_ITEMS,
    PAYDAY_HORIZON_DAYS,
    REASON,
    SHORT_TEXT,
)
from .money import Money, currency_quantum, minor_units
from .plans import Promise, RepaymentPlan
from .residence import residence_of
from .tasks import Task

__all__ = [
    "COUNTRY_LOCALES",
    "JURISDICTION",
    "Balance",
    "Case",
    "Channel",
    "ContactPoint",
    "Debtor",
    "Hold",
    "HoldKind",
    "Outcome",
    "Party",
    "Person",
    "Relationship",
    "StudentLoan",
    "aged_in",
    "below_zero",
    "beyond_latest",
    "beyond_limit",
    "bucket_of",
    "checked_aging",
    "mask",
    "opening_aging",
    "paid_off",
    "youngest",
]

_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
Identifier = Annotated[
    str,
    Field(
        pattern=described(
            _ID_PATTERN,
            "an id of 1 to 128 letters, digits and . _ : / -, starting with a letter or digit",
        )
    ),
]
"""An id: 1-128 letters, digits and ``. _ : / -``, starting with a letter or digit."""

_LOCALE: Final = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$"
"""A BCP 47 tag of language, optional script and region: ``zh``, ``zh-Hans-CN``, ``en-US``."""


JURISDICTION: Final = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?\Z")
"""An ISO 3166 code: a country (ISO 3166-1 alpha-2, ``CN``) or a subdivision (ISO 3166-2,
``US-MA``, ``GB-ENG``), upper case."""
_ISO_3166: Final = "an ISO 3166 code in upper case such as 'CN', 'US-MA' or 'GB-ENG'"


def mask(value: str, keep: int = 4) -> str:
    """Mask personal data for logs and messages, keeping only the last *keep* characters.

    >>> mask("+8613812345678")
    '**********5678'
    """
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


class Channel(StrEnum):
    """A medium of contact."""

    SMS = "sms"
    CALL = "call"
    VOICEMAIL = "voicemail"
    EMAIL = "email"
    LETTER = "letter"
    VISIT = "visit"


class Party(StrEnum):
    """Who a contact point reaches."""

    DEBTOR = "debtor"
    THIRD_PARTY = "third_party"
    EMPLOYER = "employer"


class Relationship(StrEnum):
    """How a person other than the debtor stands to them (`Person.relationship`).

    The relationship is a fact; what follows from it is each jurisdiction's:
    who counts as the consumer, who may be told about the debt and whose
    contacts count together are the packs' rules (`arrears.compliance.Rule.as_debtor`),
    with their citations, never the engine's.  A relationship no rule names is a third
    party: never the consumer, never told about the debt.
    """

    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    """The debtor's son or daughter (of any age). Family in GBL 601(6) (US-NY-CALLS);
    elsewhere a third party."""
    SIBLING = "sibling"
    """The debtor's brother or sister. Family in GBL 601(6) (US-NY-CALLS); elsewhere a
    third party."""
    RELATIVE = "relative"
    """Another member of the debtor's family (a grandparent, an in-law, a cousin…).
    Family in GBL 601(6) (US-NY-CALLS); elsewhere a third party."""
    HOUSEHOLD = "household"
    """Someone living in the debtor's household who is not their family (a housemate, a
    partner they are not married to). Household in GBL 601(6) (US-NY-CALLS); elsewhere
    a third party."""
    GUARDIAN = "guardian"
    ATTORNEY = "attorney"
    """The debtor's attorney (lawyer) about the debt."""
    EXECUTOR = "executor"
    """The executor of the estate of a debtor who has died."""
    ADMINISTRATOR = "administrator"
    """The administrator of the estate of a debtor who has died."""
    DEBT_ADVISER = "debt_adviser"
    """A debt adviser (debt counsellor) acting for the debtor."""
    EMPLOYER = "employer"
    CONTACT_PERSON = "contact_person"
    """A contact person or reference the debtor gave (紧急联系人)."""
    OTHER = "other"


class Outcome(StrEnum):
    """What came of a contact attempt."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    NOT_CONNECTED = "not_connected"
    VOICEMAIL = "voicemail"
    CONVERSATION = "conversation"
    WRONG_PARTY = "wrong_party"
    DELIVERED = "delivered"
    FAILED = "failed"
    REPLY = "reply"
    """The debtor wrote back (an inbound message): not an attempt of ours."""
    UNKNOWN = "unknown"
    """A message that may or may not have reached the debtor: an outbox intent closed
    when the provider could not say and sending it again was no longer warranted.
    Frequency caps count it as a contact attempt."""


class _ByValue:
    """Validate a `StrEnum` field as one of its members' values, kept as a plain string.

    The same as pydantic's ``use_enum_values``, which looks each member's
    ``value`` up in Python after validation; this matches the values in
    pydantic's core (a member is accepted too, being equal to its value).
    """

    __slots__ = ()

    def __get_pydantic_core_schema__(
        self, source: type[StrEnum], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.literal_schema([member.value for member in source])


class Person(BaseModel):
    """Someone other than the debtor whom the case may contact, and how they stand to the debtor.

    A person has any number of contact points (`ContactPoint.person` names them);
    limits "per person" count them together.  No name is kept: the host system
    has it.

    Attributes:
        id: Unique within the case, and not the debtor's id.
        relationship: How they stand to the debtor (spouse, attorney, contact person…).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)

    id: Identifier
    relationship: Annotated[Relationship, _ByValue()]


class ContactPoint(BaseModel):
    """One way to reach someone about the case: a phone number, an e-mail address, a home.

    Attributes:
        id: The contact point's id, unique within its case.
        channel: The medium this address is used with.
        address: The number or address (personal data: never logged), kept in one
            form (`arrears.addresses`): a phone number in E.164, a national one read in
            the debtor's country by the case (`debtor_region`), an e-mail address with
            its domain in lower case.
        party: Whom it reaches: the debtor, a third party or the employer.  When
            ``person`` names one of the case's persons it follows from their
            relationship (the employer, else a third party) and may be left out.
        person: Whose it is: one of the case's `Person` ids, or the debtor's id;
            ``None`` for the debtor (``party`` debtor) or, for a third party
            named by no person, the one person this contact point reaches.
        consent: The person agreed to be contacted here (e.g. by automated calls).
        opted_out: The person asked not to be contacted here.
        work: The address is at the person's work or was provided by their employer
            (a work phone, a work e-mail); contact there is limited more tightly.
        landline: The number is known not to be a mobile (cellular or other
            wireless device).  Unmarked, every number may be one: the rules that
            limit calls and texts to mobiles (``FrequencyCap.mobile``) judge it.
            Left out of the stored case when false.
    """

    # Enum fields keep their plain string value (_ByValue): half the cost of dumping
    # a contact point into the journal, and Channel.CALL == "call" all the same.
    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, use_enum_values=True
    )

    id: Identifier
    channel: Annotated[Channel, _ByValue()]
    address: str = Field(min_length=1, max_length=ADDRESS, repr=False)
    party: Annotated[Party, _ByValue()] = Field(default=Party.DEBTOR, validate_default=True)
    person: Identifier | None = None
    consent: bool = False
    opted_out: bool = False
    work: bool = False
    landline: bool = Field(default=False, exclude_if=lambda marked: not marked)

    @field_validator("address")
    @classmethod
    def _one_form(cls, value: str, info: ValidationInfo) -> str:
        # One number is one address however it is written (arrears.addresses): an
        # international number in E.164 here, a national one where the case knows its
        # country (Case), an e-mail's domain in lower case.
        channel = info.data.get("channel")
        if channel in PHONE_CHANNELS:  # phone_e164 inlined: every stored case read runs this
            return phone_e164(value) or value
        return normal_address(channel, value) if channel == "email" else value


class Debtor(BaseModel):
    """The person who owes.

    Attributes:
        id: The debtor's id in the host system.
        name: Full name (personal data: never logged).
        timezone: IANA time zone of the debtor's place, e.g. ``"Asia/Shanghai"``;
            ``None`` when unknown.  A new case's must name a place (`place_zone`:
            not ``EST`` or ``UTC``); a stored one is read as it was.
        locale: BCP 47 language tag for messages, e.g. ``"zh-CN"`` or ``"en-US"``.
            Not given, it is the locale of the debtor's country (their jurisdiction's,
            residence's or time zone's) where that is not English (`COUNTRY_LOCALES`:
            ``zh-CN`` in China), else ``"en"``.
        payday: When the debtor is paid, as an RFC 5545 recurrence rule, e.g.
            ``"FREQ=MONTHLY;BYMONTHDAY=15"`` (policies remind a few days before it).
        jurisdiction: Where the debtor is, as an ISO 3166 code (`JURISDICTION`):
            ``CN``, ``US-MA``, ``GB-ENG``; it picks the compliance rules that judge
            contacts with them (`arrears.compliance.Compliance`); ``None`` when not known.
        residence: Where the debtor's address of record is, as an ISO 3166 code:
            the country, or the state or province when known (``US-MA``).  It
            stands for *jurisdiction* when that is not given
            (`effective_jurisdiction`): the laws place the consumer where they
            live (12 CFR 1006.6(b)(1)(i), "the consumer's location"; 209 CMR
            18.01, persons "within the Commonwealth").

    The input may also give ``address``, the debtor's postal address, and no
    ``residence``: the residence is then read from it (`arrears.residence.residence_of`:
    the state, nation or province, else the country, else ``None``).  The
    address itself is not kept: only the code is.  A ``residence`` given wins.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    id: Identifier
    name: str | None = Field(default=None, max_length=NAME, repr=False)
    timezone: ZoneInfo | None = None
    locale: str = Field(
        default="en",
        pattern=described(_LOCALE, "a BCP 47 language tag such as 'en-US', 'en-GB' or 'zh-CN'"),
    )
    payday: str | None = Field(default=None, max_length=200)
    jurisdiction: str | None = None
    residence: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _residence_from_address(cls, data: Any) -> Any:
        # An input field only: the address is read for the code and dropped.
        if type(data) is not dict:
            return data
        if "locale" not in data:  # a stored debtor always has one: read back as it was
            data = _with_country_locale(data)
        if "address" not in data:
            return data
        data = dict(data)
        address = data.pop("address")
        if address is None:
            return data
        if not isinstance(address, str):
            raise ValueError(
                f"address: got {type(address).__name__}, expected text: the debtor's postal address"
            )
        if len(address) > ADDRESS:
            raise PydanticCustomError(
                "string_too_long",
                "address: got {length} characters, expected at most {max_length} characters",
                {"length": len(address), "max_length": ADDRESS},
            )
        if data.get("residence") is None:
            data["residence"] = residence_of(address)
        return data

    @field_validator("timezone", mode="before")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        # Named here, not by pydantic's own check, whose message repeats the text given
        # (ten megabytes of it, given ten megabytes).
        if (
            value is not None
            and not isinstance(value, ZoneInfo)
            and (not isinstance(value, str) or zone_name_or_none(value) is None)
        ):
            raise ValueError("an IANA time zone such as 'America/New_York' or 'Asia/Shanghai'")
        return value

    @field_validator("jurisdiction", "residence")
    @classmethod
    def _iso_3166(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not JURISDICTION.match(value):
            raise ValueError(f"{info.field_name}: got {value[:16]!r}, expected {_ISO_3166}")
        return value

    @property
    def effective_jurisdiction(self) -> str | None:
        """The code that picks the debtor's rules: `jurisdiction`, else `residence`.

        ``None`` when neither is given.
        """
        return self.jurisdiction if self.jurisdiction is not None else self.residence

    @field_validator("payday")
    @classmethod
    def _recurrence(cls, value: str | None) -> str | None:
        if value is not None:
            problem = _recurrence_problem(value)
            if problem is not None:
                raise ValueError(
                    f"payday: got {value!r}, expected an RFC 5545 rule such as "
                    f"'FREQ=MONTHLY;BYMONTHDAY=15' ({problem})"
                )
        return value


#: The locale of a debtor opened without one, by their country, where it is not English:
#: the language the country's compliance pack judges messages in (``CN-SMS`` reads a
#: Chinese message: a debtor in Shanghai opened with no locale is written to in Chinese).
COUNTRY_LOCALES: Final[Mapping[str, str]] = {"CN": "zh-CN"}


def _with_country_locale(data: dict[str, Any]) -> dict[str, Any]:
    """A debtor's input given no ``locale`` with that of their country (`COUNTRY_LOCALES`),
    the country being that of their jurisdiction, residence or time zone; as it is when
    none is known, or its locale is English (``Debtor.locale``'s default)."""
    jurisdiction, residence, zone = (data.get(name) for name in _PLACES)
    if isinstance(zone, ZoneInfo):
        zone = zone.key
    if not all(value is None or isinstance(value, str) for value in (jurisdiction, residence)):
        return data  # not codes: refused by their fields' own checks
    country = country_of(jurisdiction, residence, zone if isinstance(zone, str) else None)
    locale = COUNTRY_LOCALES.get(country) if country is not None else None
    return data if locale is None else {**data, "locale": locale}


#: The fields of a debtor's input that place them, most telling first.
_PLACES: Final = ("jurisdiction", "residence", "timezone")


def debtor_region(debtor: Debtor) -> str | None:
    """The country a national phone number of *debtor*'s is read in (ISO 3166-1), if any:
    that of their jurisdiction, else residence, else time zone, else their locale's region
    (`arrears.addresses.country_of`).  ``None`` when none is known: a national number is
    then refused (`Engine.open_case`)."""
    zone = debtor.timezone.key if debtor.timezone is not None else None
    return country_of(debtor.jurisdiction, debtor.residence, zone, debtor.locale)


@lru_cache(maxsize=1024)
def _recurrence_problem(rule: str) -> str | None:
    """Why *rule* is not an RFC 5545 recurrence rule for a payday, or ``None`` when it is.

    A payday recurs without end (no ``COUNT``, ``UNTIL`` or ``DTSTART``), daily
    at the finest, at least once a year, and its pattern gives a payday within
    `arrears.limits.PAYDAY_HORIZON_DAYS` of a start: a rule that never does
    (the 30th of February) would make every review walk the calendar to the
    year 9999 looking for one.

    Remembered: a portfolio has a handful of distinct paydays, and parsing one
    costs more than validating the rest of a case (a store reads every case it
    reviews back through validation).
    """
    if "\n" in rule or "\r" in rule:
        return "one line: FREQ=…;BY…=…"
    names: dict[str, str] = {}
    for part in rule.upper().removeprefix("RRULE:").split(";"):
        name, _, value = part.partition("=")
        names[name.strip()] = value.strip()
    unknown = sorted(set(names) & _NOT_PAYDAY_PARTS)
    if unknown:
        return f"a payday recurs without end and is a date: no {', '.join(unknown)}"
    frequency = names.get("FREQ")
    if frequency is not None and frequency not in _PAYDAY_FREQUENCIES:
        return f"a payday recurs daily at the finest, not {frequency}"
    interval = names.get("INTERVAL", "1")
    if frequency is not None and interval.isdigit():
        most = _PAYDAY_FREQUENCIES[frequency]
        if not 1 <= int(interval) <= most:
            return f"a payday comes at least once a year: INTERVAL from 1 to {most} for {frequency}"
    try:
        # Paydays are calendar dates in the debtor's zone: a naive start is right.  The
        # pattern is tried on the last two years the calendar has (dateutil stops at the
        # year 9999), so a rule with no payday costs a bounded walk, never centuries.
        recurrence = rrulestr(rule, dtstart=_LAST_YEARS)
        first = recurrence.after(_LAST_YEARS, inc=True)
    except (ValueError, TypeError, OverflowError) as err:
        return str(err)
    if first is None or (first - _LAST_YEARS).days > PAYDAY_HORIZON_DAYS:
        return f"a rule that gives a payday within {PAYDAY_HORIZON_DAYS} days"
    return None


#: Parts of RFC 5545 rules a payday has not: it is a date, and recurs without end.
_NOT_PAYDAY_PARTS: Final = frozenset(
    {"COUNT", "UNTIL", "DTSTART", "BYHOUR", "BYMINUTE", "BYSECOND", "BYEASTER"}
)
#: How often a payday may recur (a finer rule, ``SECONDLY``, would make each review walk
#: millions of occurrences), with the longest ``INTERVAL`` that still gives one a year.
_PAYDAY_FREQUENCIES: Final = {"DAILY": 366, "WEEKLY": 52, "MONTHLY": 12, "YEARLY": 1}
#: Where a payday rule's pattern is tried: two years before the calendar ends.
_LAST_YEARS: Final = datetime(9997, 1, 1)  # noqa: DTZ001 (a date in the debtor's zone)


Amount = Annotated[Decimal, Field(ge=0, lt=MAX_AMOUNT, allow_inf_nan=False)]
"""A non-negative decimal amount below `arrears.limits.MAX_AMOUNT`; floats are refused by
`Balance` before this is reached."""

_ZERO: Final = Decimal(0)
"""The default of every `Balance` amount (shared: pydantic does not copy a hashable default)."""
_ZEROS: dict[str, Decimal] = {}


def _zero_in(currency: str, quantum: Decimal) -> Decimal:
    """Zero with exactly *currency*'s minor units (its *quantum*): one shared object each."""
    zero = _ZEROS.get(currency)
    if zero is None:
        zero = _ZEROS[currency] = _ZERO.quantize(quantum)
    return zero


COMPONENTS: Final = ("principal", "interest", "fees", "penalty")
"""The overdue components of a balance, in declaration order."""
_AMOUNTS: Final = (*COMPONENTS, "not_due", "credit")


class Balance(BaseModel):
    """What the debtor owes, by component, in one ISO 4217 currency.

    The four components are the *overdue* amounts (the arrears); ``not_due``
    is the part of the loan not yet due (future instalments) and ``credit`` an
    overpayment held for the debtor.  Amounts are decimals with exactly the
    currency's minor units; read them as `Money` through `money`, `arrears`,
    `outstanding` and `components`.

    Attributes:
        currency: ISO 4217 code, e.g. ``"CNY"``.
        principal: Overdue principal.
        interest: Overdue interest.
        fees: Overdue fees.
        penalty: Penalty interest and late charges.
        not_due: Principal not yet due; zero when the whole loan is due.
        credit: Overpayment held for the debtor, never lost.

    Example:
        >>> Balance(currency="CNY", principal="1000", penalty="20").arrears
        Money('1020.00', 'CNY')
    """

    # A component not given is validated too, so it becomes the currency's zero ("0.00").
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    currency: str
    principal: Amount = _ZERO
    interest: Amount = _ZERO
    fees: Amount = _ZERO
    penalty: Amount = _ZERO
    not_due: Amount = _ZERO
    credit: Amount = _ZERO

    @model_validator(mode="before")
    @classmethod
    def _no_floats(cls, data: Any) -> Any:
        if isinstance(data, (dict, Mapping)):  # dict first: no ABC check for a dict
            for value in data.values():
                if isinstance(value, float):
                    name = next(key for key, item in data.items() if item is value)
                    raise ValueError(
                        f"{name}: got {value!r}, expected a decimal string, never a float"
                    )
        return data

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, currency: str) -> str:
        try:
            currency_quantum(currency)
        except InvalidInput as err:
            raise ValueError(f"currency: got {currency!r}, expected {err.expected}") from None
        return currency

    @field_validator(*_AMOUNTS)
    @classmethod
    def _minor_units(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        # The amounts come after the currency: it is in info.data unless it was refused.
        currency = info.data.get("currency")
        if currency is None:
            return value  # the currency's own error says why
        quantum = currency_quantum(currency)
        if value.same_quantum(quantum) and not value.is_signed():
            return value  # already exact ("1250.00" in CNY): keep it, no new Decimal
        if not value:  # not given, or given as zero ("-0.00" too): one shared zero per currency
            return _zero_in(currency, quantum)
        exact = value.quantize(quantum)
        if exact != value:
            name = info.field_name
            raise ValueError(
                f"{name}: got {value}, expected at most {minor_units(currency)} decimal places "
                f"for {currency}"
            )
        return exact

    @model_validator(mode="after")
    def _owed_within_bounds(self) -> Self:
        # Everything owed is read as one `Money` (`outstanding`, the cure's guard), and an
        # instalment falling due adds ``not_due`` to the arrears: a balance whose sum
        # `Money` cannot hold would open, then fail every payment, reversal and cure.
        owed = overdue_sum(self) + self.not_due
        if not owed < MAX_AMOUNT:
            raise ValueError(
                f"balance: got {owed} owed in all (overdue and not yet due), expected less "
                f"than {MAX_AMOUNT:,} units"
            )
        return self

    def money(self, name: str) -> Money:
        """One component (or ``not_due`` / ``credit``) as `Money`."""
        return Money(getattr(self, name), self.currency)

    @property
    def has_arrears(self) -> bool:
        """True while anything is overdue."""
        return bool(self.principal or self.interest or self.fees or self.penalty)

    @property
    def arrears(self) -> Money:
        """The overdue total: principal + interest + fees + penalty."""
        return Money(overdue_sum(self), self.currency)

    @property
    def outstanding(self) -> Money:
        """Everything still owed, due or not."""
        return Money(overdue_sum(self) + self.not_due, self.currency)

    def components(self) -> dict[str, Money]:
        """The overdue components as `Money`, by name."""
        return {name: Money(getattr(self, name), self.currency) for name in COMPONENTS}

    def after_payment(self, applied: Mapping[str, Decimal], credit: Decimal) -> Balance:
        """A new balance with *applied* taken off the named components and *credit* added."""
        update: dict[str, Decimal] = {
            name: getattr(self, name) - amount for name, amount in applied.items()
        }
        update["credit"] = self.credit + credit
        if any(value < 0 for value in update.values()):
            raise InvalidInput(
                "applied",
                {k: str(v) for k, v in applied.items()},
                "no more than each component owes",
            )
        return self.model_copy(update=update)


def beyond_limit(balance: Balance) -> tuple[str, Decimal] | None:
    """The first amount of *balance* that is not below `arrears.limits.MAX_AMOUNT`, by
    name (``owed`` for the sum owed in all, overdue and not yet due), or ``None``.

    A balance built from input is held to the limit as it is validated; one an
    entry changes is not validated again (`arrears.events`), so the engine asks
    this of it before journaling the entry (`arrears.recorder.Recorder.record`).
    """
    for name in _AMOUNTS:
        value: Decimal = getattr(balance, name)
        if not value < MAX_AMOUNT:
            return name, value
    owed = overdue_sum(balance) + balance.not_due
    if not owed < MAX_AMOUNT:
        return "owed", owed
    return None


def beyond_latest(case: Case) -> str | None:
    """The first of *case*'s due dates later than `arrears.limits.LATEST_DATE`, by name
    (``due_date``, ``aging``, ``promise``, ``plan``), or ``None``.

    A case opened is held to the limit as it is validated, and a due date the
    engine is given (an instalment falling due, a promise, a plan) as it is
    checked; one an entry changes is not validated again (`arrears.events`),
    so `arrears.events.replay` asks this after each entry that moves one: a
    journal written before the engine refused it, or forged, holds a case no
    store reads back and reviews whose dates run off the calendar.
    """
    if case.due_date > LATEST_DATE:
        return "due_date"
    if case.aging and max(due for due, _ in case.aging) > LATEST_DATE:
        return "aging"
    for name, agreement in (("promise", case.promise), ("plan", case.plan)):
        if agreement is not None and max(part.due for part in agreement.instalments) > LATEST_DATE:
            return name
    return None


def below_zero(balance: Balance) -> str | None:
    """The first amount of *balance* below zero, by name, or ``None``.

    A balance built from input is never (`Amount`); one an entry changes is
    not validated again (`arrears.events`), so `arrears.events.replay` asks
    this after each entry that changes it.
    """
    for name in _AMOUNTS:
        if getattr(balance, name) < 0:
            return str(name)
    return None


def overdue_sum(balance: Balance) -> Decimal:
    """The sum of *balance*'s overdue components, exact in its currency (`Balance.arrears`).

    The components are exact in the currency already, so their sum is too:
    a policy's segments read it of every case a tick reviews, without a `Money`.
    """
    return balance.principal + balance.interest + balance.fees + balance.penalty


Aging = tuple[tuple[date, Decimal], ...]
"""What is overdue by the date it fell due, oldest first: ``((due, amount), ...)``, each
date once, each amount above zero (`Case.aging`)."""


def aged_in(aging: Aging, due: date, amount: Decimal) -> Aging:
    """*aging* with *amount* falling due on *due*, in its place by date (added to an
    amount already due that day)."""
    if amount <= 0:
        return aging
    out = list(aging)
    index = len(out)
    while index and out[index - 1][0] > due:
        index -= 1
    if index and out[index - 1][0] == due:
        out[index - 1] = (due, out[index - 1][1] + amount)
    else:
        out.insert(index, (due, amount))
    return tuple(out)


def paid_off(aging: Aging, amount: Decimal) -> Aging:
    """*aging* with *amount* taken off the oldest dates first: a payment pays the oldest
    instalment not fully paid, whatever components the money itself went to."""
    if amount <= 0:
        return aging
    index = 0
    while index < len(aging) and aging[index][1] <= amount:
        amount -= aging[index][1]
        index += 1
    if index == len(aging):
        return ()
    due, left = aging[index]
    return ((due, left - amount), *aging[index + 1 :]) if amount else aging[index:]


def opening_aging(balance: Balance, due_date: date) -> Aging:
    """The aging of a case opened without one: its arrears (of *balance*) all fell due on
    its *due_date*, the one date the record gives."""
    arrears = overdue_sum(balance)
    return ((due_date, arrears),) if arrears else ()


def youngest(additions: Iterable[tuple[date, Decimal]], owed: Decimal) -> Aging:
    """The last *owed* of everything that fell due (*additions*, in any order), by date:
    the aging of a case owing *owed* whose payments all paid the oldest dates first.

    What a returned payment (or a waiver undone) makes owed again goes back on the
    dates paid last, so the case ages as if that money had never come.
    """
    aging: Aging = ()
    for due, amount in additions:
        aging = aged_in(aging, due, amount)
    total = sum((amount for _, amount in aging), Decimal(0))
    return paid_off(aging, total - owed) if owed > 0 else ()


class StudentLoan(BaseModel):
    """The case is a student loan: the account it was serviced under when it was obtained.

    Under 12 CFR 1006.14(b)(4), the student loans a consumer owes
    that were serviced under a single account number when the debt collector
    obtained them are one particular debt: the call frequency caps that count
    per debt (`arrears.compliance.FrequencyCap` with ``across="debt"``) count
    the calls on every case of the debtor with the same account together.

    Attributes:
        account: The servicing account number at acquisition, as the host
            system keeps it (compared exactly; never logged nor shown).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    account: str = Field(min_length=1, max_length=SHORT_TEXT, repr=False)


class Hold(BaseModel):
    """A pause beside the stage: while active, escalation is refused.

    Attributes:
        id: Unique within the case.
        kind: Dispute, cease, bankruptcy, breathing space, deceased, attorney or hardship.
        reason: Why, in words a reviewer understands (no personal data).
        started_at: When it began.
        ends_at: When it ends by law or agreement (e.g. 60 days of breathing space);
            ``None`` until released.
        released_at: When it was released early; ``None`` while not released.
        written: For a dispute or a request to stop: whether it was made in
            writing (some rules act on written ones only); ``None`` when not said.
        origin: The case it was placed on, when it reaches this one from another of
            the debtor's (same id on each); ``None`` on the case it was placed on.
        reach: ``debtor`` when it was placed to cover every debt of the person
            though its kind covers one (``add_hold(..., reach="debtor")``);
            ``case`` when a moratorium was recorded on the debts its notice lists
            only (``add_hold(..., reach="case")``, for the kinds whose law reaches
            those debts: `arrears.holds.HoldReach.listed`); ``None``: the kind's own
            reach (`arrears.holds.HOLD_REACH`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)

    id: Identifier
    kind: HoldKind
    reason: str = Field(min_length=1, max_length=REASON)
    started_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    released_at: AwareDatetime | None = None
    written: bool | None = None
    origin: Identifier | None = None
    reach: Reach | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at is not None and self.ends_at <= self.started_at:
            raise ValueError(
                f"ends_at: got {self.ends_at.isoformat()}, expected a time after started_at "
                f"({self.started_at.isoformat()})"
            )
        return self

    def active_at(self, at: datetime) -> bool:
        """True when the hold is in force at *at*."""
        if at < self.started_at:
            return False
        if self.released_at is not None and at >= self.released_at:
            return False
        return self.ends_at is None or at < self.ends_at

    def reaches_debtor(self) -> bool:
        """True when the hold covers every debt of the person: by its kind, or as placed
        (`arrears.holds.reaches_debtor`)."""
        return reaches_debtor(self.kind, self.reach)

    def over_at(self, at: datetime) -> bool:
        """True when the hold has ended by *at*: released, or past its end."""
        if self.released_at is not None and self.released_at <= at:
            return True
        return self.ends_at is not None and self.ends_at <= at


@lru_cache(maxsize=4096)
def _local_date(zone: ZoneInfo, at: datetime) -> date:
    """The date at *at* in *zone*: remembered, since a tick asks it of every case at one moment."""
    return at.astimezone(zone).date()


def bucket_of(days_past_due: int) -> str:
    """The delinquency bucket for a number of days past due.

    ``M0`` is current; ``M1`` is 1-30 days, ``M2`` 31-60, … ``M6`` 151-180 and
    ``M7+`` anything beyond 180 days (the usual write-off horizon).

    Examples:
        >>> [bucket_of(d) for d in (0, 1, 30, 31, 180, 181)]
        ['M0', 'M1', 'M1', 'M2', 'M6', 'M7+']
    """
    if days_past_due <= 0:
        return "M0"
    months = (days_past_due + 29) // 30
    return f"M{months}" if months <= 6 else "M7+"


class Case(BaseModel):
    """One overdue loan (or card account) being collected.

    Open a case through `Engine.open_case`; from then on only the engine changes
    its stage, holds and balance, and every change is in the journal.

    Attributes:
        id: The case id (the host system's account or loan id).
        debtor: Who owes.
        contacts: How to reach the debtor and others.
        persons: The people other than the debtor the contacts reach, with their
            relationship to the debtor (`Person`); a contact point names its person.
        balance: What is overdue, by component, and what is not yet due.
        due_date: The first missed due date (the oldest unpaid instalment).
        stage: The workflow stage; set by the engine.
        holds: Every hold the case has had, active or not.
        notices: The last time each kind of notice was sent (``{"legal": ...}``).
        version: Bumped on every change the engine makes.
        opened_at: When the case was opened in `arrears`.
        terms: The agreement's terms for penalty interest and late fees, if any.
        accrual: What has been charged under the terms so far; set by the engine.
        promise: The latest promise to pay (open, kept, partly kept or broken).
        plan: The latest repayment plan (active, completed or broken).
        documents: The kinds of document recorded for the case, e.g.
            ``proof_of_income``; set by the engine.
        variant: The champion/challenger variant of the policy the case is in.
        tasks: The open tasks for people on the case (calls, visits…).
        student_loan: Set when the case is a student loan: the account it was
            serviced under when obtained; the debtor's student loans of one
            account are one debt to the caps that count per debt (`StudentLoan`).
        aging: What is overdue by the date it fell due, oldest first (`Aging`): the
            opening's arrears under its due date (or as the host splits them), each
            instalment under its own; whatever pays or waives arrears takes the
            oldest first, and ``due_date`` is the oldest date with something left.
            Set by the engine when it opens the case; ``None`` for a case opened
            before cases kept it, whose due date moves only when an instalment
            falls due while nothing is overdue.
    """

    # The input of a case holds the debtor's name and contact addresses: pydantic
    # applies the outermost model's setting to nested errors, so Debtor's and
    # ContactPoint's own hide_input_in_errors does not reach them here.
    model_config = ConfigDict(extra="forbid", validate_assignment=False, hide_input_in_errors=True)

    id: Identifier
    debtor: Debtor
    contacts: tuple[ContactPoint, ...] = Field(default=(), max_length=CONTACTS)
    balance: Balance
    due_date: date
    stage: str = "pre_due"
    holds: tuple[Hold, ...] = ()
    notices: dict[str, AwareDatetime] = Field(default_factory=dict)
    version: int = Field(default=0, ge=0)
    opened_at: AwareDatetime | None = None
    terms: AgreementTerms | None = None
    accrual: Accrual | None = None
    promise: Promise | None = None
    plan: RepaymentPlan | None = None
    documents: tuple[Annotated[str, Field(max_length=SHORT_TEXT)], ...] = ()
    variant: str | None = Field(default=None, max_length=SHORT_TEXT)
    tasks: tuple[Task, ...] = ()
    persons: tuple[Person, ...] = Field(default=(), max_length=CONTACTS)
    student_loan: StudentLoan | None = None
    aging: tuple[tuple[date, Amount], ...] | None = None

    @field_validator("due_date", mode="before")
    @classmethod
    def _plain_date(cls, value: Any) -> Any:
        # A time, even midnight, is not a date: whose midnight it is is not said.
        if isinstance(value, datetime) or (isinstance(value, str) and len(value) != 10):
            shown = value.isoformat() if isinstance(value, datetime) else value[:32]
            raise ValueError(f"due_date: got {shown!r}, expected a date, YYYY-MM-DD, not a time")
        return value

    @field_validator("due_date")
    @classmethod
    def _not_too_late(cls, value: date) -> date:
        if value > LATEST_DATE:
            raise ValueError(
                f"due_date: got {value.isoformat()!r}, expected a date no later than "
                f"{LATEST_DATE.isoformat()}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # One validator for both checks, each skipped when there is nothing to
        # compare: it runs on every case opened (bench: load_and_fire).
        contacts = self.contacts
        count = len(contacts)
        if count == 2:  # the usual pair (a phone for calls and for SMS): no set to build
            repeated = contacts[0].id == contacts[1].id
        else:
            repeated = count > 2 and len({point.id for point in contacts}) < count
        if repeated:
            seen: set[str] = set()
            for point in contacts:
                if point.id in seen:
                    raise ValueError(f"contacts: contact id {point.id!r} appears twice")
                seen.add(point.id)
        if self.terms is not None or self.promise is not None or self.plan is not None:
            currency = self.balance.currency
            for name, agreement in (
                ("terms", self.terms),
                ("promise", self.promise),
                ("plan", self.plan),
            ):
                found = agreement.currency if agreement is not None else None
                if found is not None and found != currency:
                    raise ValueError(f"{name}: got amounts in {found}, expected {currency}")
        for point in contacts:  # a number without "+" is read in the debtor's country
            if point.address[0] != "+" and _national(point):
                contacts = self.contacts = in_region(self.debtor, contacts)
                break
        if self.persons or any(point.person is not None for point in contacts):
            self.contacts = _with_persons(self.debtor.id, self.persons, contacts)
        return self

    @property
    def currency(self) -> str:
        """The case's currency (that of its balance)."""
        return self.balance.currency

    @property
    def arrears(self) -> Money:
        """The overdue total."""
        return self.balance.arrears

    def local_date(self, at: datetime) -> date:
        """The calendar date at *at* where the debtor lives (in *at*'s own offset if unknown)."""
        zone = self.debtor.timezone
        return _local_date(zone, at) if zone is not None else at.date()

    def days_past_due(self, at: datetime) -> int:
        """Days from the first missed due date to *at*, in the debtor's calendar.

        Zero when nothing is overdue or the due date has not passed.
        """
        require_aware(at, "at")
        if not self.balance.has_arrears:
            return 0
        zone = self.debtor.timezone  # local_date, inlined: a guard asks on every fire
        today = _local_date(zone, at) if zone is not None else at.date()
        return max(0, (today - self.due_date).days)

    def bucket(self, at: datetime) -> str:
        """The delinquency bucket (``M0``, ``M1``, …, ``M7+``) at *at*."""
        return bucket_of(self.days_past_due(at))

    def active_holds(self, at: datetime) -> tuple[Hold, ...]:
        """The holds in force at *at*."""
        return tuple(hold for hold in self.holds if hold.active_at(at))

    def person(self, person_id: str) -> Person | None:
        """The person with that id; ``None`` for the debtor or an id the case does not list."""
        for person in self.persons:
            if person.id == person_id:
                return person
        return None

    def contact(self, contact_id: str) -> ContactPoint:
        """The contact point with that id.

        Raises:
            KeyError: no such contact point.
        """
        for point in self.contacts:
            if point.id == contact_id:
                return point
        raise KeyError(contact_id)


def _national(point: ContactPoint) -> bool:
    """True for a phone number not (yet) in E.164: written without ``+`` (`in_region`)."""
    return point.channel in PHONE_CHANNELS and point.address[0] != "+" and point.address != UNKNOWN


def in_region(debtor: Debtor, contacts: tuple[ContactPoint, ...]) -> tuple[ContactPoint, ...]:
    """*contacts* with each national phone number read in *debtor*'s country, in E.164.

    The country is `debtor_region`'s; a number it cannot read (or
    with no country known) is kept as given, for `check_numbers` to refuse on the
    way in: a case stored before numbers were kept in E.164 still reads back.
    """
    if not any(_national(point) for point in contacts):
        return contacts
    region = debtor_region(debtor)
    if region is None:
        return contacts
    return tuple(
        point.model_copy(update={"address": normal_address(point.channel, point.address, region)})
        if _national(point)
        else point
        for point in contacts
    )


def check_numbers(contacts: tuple[ContactPoint, ...], kept: tuple[ContactPoint, ...] = ()) -> None:
    """Refuse a phone number that could not be put in E.164 (`in_region`), but at the
    contact points of *kept* (a case's own, stored before numbers were kept in E.164).

    Raises:
        InvalidInput: naming ``contacts[i].address`` and the number masked to its last
            four characters: a national number of a debtor whose country is not known
            (no jurisdiction, residence, time zone or locale region), or no number.
    """
    stored = {(point.id, point.address) for point in kept}
    for index, point in enumerate(contacts):
        address = point.address
        if (
            point.channel in PHONE_CHANNELS
            and address != UNKNOWN
            and not is_e164(address)
            and (point.id, address) not in stored
        ):
            raise InvalidInput(
                f"contacts[{index}].address",
                mask(address),
                "a phone number in E.164 ('+', the country code and the number), or "
                "a national number of the debtor's country, known from their "
                "jurisdiction, residence, time zone or locale (en-US)",
            )


#: The lists and mappings of a case given to be opened, and how many items each may hold.
_OPENING_SIZES: Final = {
    "contacts": CONTACTS,
    "persons": CONTACTS,
    "holds": OPENING_ITEMS,
    "tasks": OPENING_ITEMS,
    "documents": OPENING_ITEMS,
    "notices": OPENING_ITEMS,
    "aging": OPENING_ITEMS,
}


def check_opening_sizes(data: Mapping[str, Any]) -> None:
    """Refuse a case given to be opened (a mapping of its fields) whose lists or mappings
    hold more items than a case opens with (`arrears.limits.OPENING_ITEMS`, `CONTACTS`),
    and a notice that is not named as `Engine.record_notice` names one, before any item is
    validated: a hundred thousand of them cost seconds to validate, and minutes to report
    when each is wrong.

    Raises:
        InvalidInput: naming the field and its count of items, or the notice's name.
    """
    for name, most in _OPENING_SIZES.items():
        value = data.get(name)
        if isinstance(value, Sized) and not isinstance(value, str) and len(value) > most:
            raise InvalidInput(name, TooLong(len(value), "items"), f"at most {most} items")
    notices = data.get("notices")
    if isinstance(notices, Mapping):
        for kind in notices:
            if not isinstance(kind, str) or len(kind) > SHORT_TEXT or not kind.isidentifier():
                raise InvalidInput(
                    "notices", kind, "notice kinds such as 'demand_letter' as the keys"
                )


def checked_aging(case: Case) -> Aging:
    """*case*'s aging as a host gives it when opening the case (`Case.aging`), exact in the
    currency; the engine's own is not checked again (a stored case is checked against its
    journal by `verify`).

    Raises:
        InvalidInput: the dates are not each once and oldest first, the oldest is not the
            due date, one is later than `arrears.limits.LATEST_DATE`, or the amounts are
            not above zero, exact in the currency and summing to the arrears.
    """
    aging = case.aging or ()
    shown = [[due.isoformat(), str(amount)] for due, amount in aging][:4]
    quantum = currency_quantum(case.currency)
    days = [due for due, _ in aging]
    if any(later <= earlier for earlier, later in pairwise(days)):
        raise InvalidInput("aging", shown, "each due date once, oldest first")
    if any(amount <= 0 or amount.quantize(quantum) != amount for _, amount in aging):
        raise InvalidInput("aging", shown, f"amounts above zero in {case.currency}'s minor units")
    aging = tuple((due, amount.quantize(quantum)) for due, amount in aging)
    total = sum((amount for _, amount in aging), Decimal(0))
    arrears = overdue_sum(case.balance)
    if total != arrears:
        raise InvalidInput(
            "aging", shown, f"amounts summing to the arrears, {arrears} (they sum to {total})"
        )
    if days and days[0] != case.due_date:
        raise InvalidInput(
            "aging", shown, f"the oldest date to be the due date, {case.due_date.isoformat()}"
        )
    if days and days[-1] > LATEST_DATE:  # each becomes the due date as the older are paid
        raise InvalidInput("aging", shown, f"dates no later than {LATEST_DATE.isoformat()}")
    return aging


def one_debt(cases: Iterable[Case]) -> dict[str, tuple[str, ...]]:
    """The cases counted as one particular debt with each case, among one debtor's *cases*.

    A debtor's student loans serviced under one account number (`StudentLoan`)
    are one debt (12 CFR 1006.14(b)(4)): each such case maps to
    the ids of every case of its group, itself included, in case id order.  A
    case alone in its group, or no student loan, is absent (it is its own debt).
    """
    groups: dict[str, list[str]] = {}
    for case in cases:
        if case.student_loan is not None:
            groups.setdefault(case.student_loan.account, []).append(case.id)
    found: dict[str, tuple[str, ...]] = {}
    for ids in groups.values():
        if len(ids) > 1:
            group = tuple(sorted(ids))
            for case_id in group:
                found[case_id] = group
    return found


def party_of(relationship: str) -> Party:
    """The party a person of *relationship* is: the employer, else a third party."""
    return Party.EMPLOYER if relationship == Relationship.EMPLOYER else Party.THIRD_PARTY


def _with_persons(
    debtor: str, persons: tuple[Person, ...], contacts: tuple[ContactPoint, ...]
) -> tuple[ContactPoint, ...]:
    """*contacts* checked against *persons*, each naming a person given its party.

    Raises:
        InvalidInput: a person listed twice or with the debtor's id, a contact point
            naming an unknown person, or a party that contradicts the person's
            relationship (naming the field and the values).
    """
    relationships: dict[str, str] = {}
    for index, person in enumerate(persons):
        if person.id == debtor or person.id in relationships:
            what = "not the debtor's" if person.id == debtor else "not one listed before"
            raise InvalidInput(f"persons.{index}.id", person.id, f"a new id, {what}")
        relationships[person.id] = person.relationship
    checked: list[ContactPoint] = []
    for index, point in enumerate(contacts):
        name = point.person
        if name is None:
            checked.append(point)
            continue
        if name == debtor:
            expected = Party.DEBTOR
        elif name in relationships:
            expected = party_of(relationships[name])
        else:
            raise InvalidInput(
                f"contacts.{index}.person",
                name,
                f"the debtor's id or one of the persons {sorted(relationships)}",
            )
        if point.party != expected:
            if "party" in point.model_fields_set:
                raise InvalidInput(
                    f"contacts.{index}.party",
                    point.party,
                    f"{expected.value!r} for person {name!r}",
                )
            point = point.model_copy(update={"party": expected.value})
        checked.append(point)
    return tuple(checked)


def persons_and_contacts(
    case: Case, change: Mapping[str, Any]
) -> tuple[tuple[Person, ...], tuple[ContactPoint, ...]]:
    """The persons and contact points of *case* after *change*, checked together.

    *change* holds ``persons`` (every person after it) and, optionally,
    ``contacts`` (every contact point after it; absent, the case's own stay,
    each point of a person taking the party of their relationship now).
    The same checks as a case opened with them: ids unique, no person with the
    debtor's id, every contact point's person one of them, its party theirs.

    Raises:
        InvalidInput: a check fails (naming the field, e.g. ``persons.1.id``, and the value).
        pydantic.ValidationError: a person or contact point that is not one.
    """
    persons = tuple(Person.model_validate(person) for person in change["persons"])
    if len(persons) > CONTACTS:
        raise InvalidInput("persons", len(persons), f"at most {CONTACTS} persons")
    given = change.get("contacts")
    if given is None:  # a person's points follow their new relationship (employer or not)
        contacts = tuple(
            point
            if point.person is None or point.person == case.debtor.id
            else ContactPoint.model_validate(point.model_dump(exclude={"party"}))
            for point in case.contacts
        )
    else:
        contacts = in_region(
            case.debtor, tuple(ContactPoint.model_validate(point) for point in given)
        )
    if len(contacts) > CONTACTS:
        raise InvalidInput("contacts", len(contacts), f"at most {CONTACTS} contact points")
    seen: set[str] = set()
    for index, point in enumerate(contacts):
        if point.id in seen:
            raise InvalidInput(f"contacts.{index}.id", point.id, "an id not listed before")
        seen.add(point.id)
    if given is not None:
        _keeps_contact_points(case, contacts)
    return persons, _with_persons(case.debtor.id, persons, contacts)


#: What a contact point keeps through a change of persons: what was recorded
#: against it (an opt-out, a count of calls) is matched by its id and address,
#: and a consent or an opt-out is recorded by its own entry, never by this one.
_KEPT: Final = ("channel", "address", "consent", "opted_out", "work")


def _keeps_contact_points(case: Case, changed: tuple[ContactPoint, ...]) -> None:
    """Refuse a change that drops a contact point or changes more than whose it is.

    A point's ``person`` (and with it its ``party``) may change; its channel,
    address, ``consent``, ``opted_out`` and ``work`` may not: a new address is a
    new contact point, a consent is `record_consent`'s and an opt-out is lifted
    by none (12 CFR 1006.14(h)).

    Raises:
        InvalidInput: a point dropped (``contacts``, its id) or changed
            (``contacts.<id>``, naming the fields, never the address).
    """
    after = {point.id: point for point in changed}
    for point in case.contacts:
        found = after.get(point.id)
        if found is None:
            raise InvalidInput(
                "contacts", point.id, "every contact point of the case kept (add new ones)"
            )
        moved = [name for name in _KEPT if getattr(found, name) != getattr(point, name)]
        if moved:
            raise InvalidInput(
                f"contacts.{point.id}",
                f"a new {', '.join(moved)}",
                "the same channel, address, consent, opted_out and work: a new address is a "
                "new contact point, a consent or an opt-out is recorded on its own",
            )


def place_code(field: str, value: object) -> str | None:
    """*value* as a debtor's ``jurisdiction`` or ``residence``: an ISO 3166 code
    (`JURISDICTION`, as `Debtor` checks it), or ``None`` (not known).

    Raises:
        InvalidInput: anything else, naming *field* (a text shown to 16 characters).
    """
    if value is None or (isinstance(value, str) and JURISDICTION.match(value)):
        return value
    shown = value[:16] if isinstance(value, str) else type(value).__name__
    raise InvalidInput(field, shown, f"{_ISO_3166}, or None")


def debtor_place(debtor: Debtor, field: str) -> str | None:
    """The debtor's ``jurisdiction``, ``residence`` or ``timezone`` (*field*) as a
    ``debtor_changed`` entry writes it: a code, a time zone's name, or ``None``."""
    if field == "timezone":
        return debtor.timezone.key if debtor.timezone is not None else None
    value: str | None = getattr(debtor, field)
    return value


def zone_name_or_none(value: str) -> str | None:
    """*value* when it names an IANA time zone the system knows (at most 64 characters),
    else ``None``."""
    return value if 0 < len(value) <= 64 and _known_zone(value) else None


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    """Whether the system knows time zone *name* (asked of every debtor read: remembered)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_name(field: str, value: object) -> str | None:
    """*value* as a debtor's ``timezone``: the name of an IANA time zone the system knows
    (``America/Los_Angeles``), or ``None`` (not known).

    Raises:
        InvalidInput: anything else, naming *field* (a text shown to 40 characters).
    """
    if value is None:
        return None
    if isinstance(value, str) and zone_name_or_none(value) is not None:
        return value
    shown = value[:40] if isinstance(value, str) else type(value).__name__
    raise InvalidInput(field, shown, "an IANA time zone such as 'America/New_York', or None")


#: What a new debtor's time zone must be, as its refusal says.
_PLACE_ZONE: Final = (
    "the IANA time zone of the debtor's place, such as 'America/New_York', or None: "
    "not an abbreviation, a POSIX rule or a fixed offset ('EST' is UTC-5 all year, "
    "an hour off New York all summer), nor UTC"
)


def place_zone(field: str, value: object) -> str | None:
    """*value* as a new debtor's ``timezone``: the name of an IANA time zone of a place
    (`arrears.addresses.is_place_zone`: ``America/New_York``, ``US/Eastern``), or
    ``None`` (not known).

    The hours the law allows are those at the consumer's location (12 CFR
    1006.6(b)(1)(i)): ``EST`` is UTC-5 all year, so a call at 21:30 in New York in
    July would be judged 20:30 under it and allowed.  A zone of no place (``EST``,
    ``EST5EDT``, ``Etc/GMT+5``, ``UTC``) is refused on new input only: a stored case
    or journal entry carrying one is read as it was (`zone_name`).

    Raises:
        InvalidInput: anything else, naming *field* and the value.
    """
    name = zone_name(field, value)
    if name is None or is_place_zone(name):
        return name
    raise InvalidInput(field, name, _PLACE_ZONE)


def check_debtor_zone(debtor: Debtor, field: str = "debtor.timezone") -> None:
    """Refuse a new case's *debtor* whose time zone names no place (`place_zone`).

    Raises:
        InvalidInput: naming *field* (``debtor.timezone``) and the zone.
    """
    zone = debtor.timezone
    if zone is not None:
        place_zone(field, zone.key if zone.key is not None else type(zone).__name__)


def set_field(case: Case, name: str, value: Any) -> None:
    """Set one field of *case* as the engine changes it: ``case.<name> = value``.

    Plain assignment: `Case` does not validate assignments, so the value is
    the engine's, already checked; a subclass may validate assignments or
    define a property, and is assigned the same way.
    """
    setattr(case, name, value)
