"""The render context: the facts of a case, and the lender's details, under the names templates use.

Templates name variables in English snake_case whatever their language.
`context_for` builds them from a case; `CONTEXT_VARIABLES` lists every name
it may give.  A value that is not known is left out, never set to an empty
string: a template that uses it is refused, naming the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from ..case import COMPONENTS, Case
from ..clock import require_aware
from ..errors import InvalidInput, invalid_input
from ..limits import MAX_RATE
from ..plans import Promise, RepaymentPlan
from .formatting import babel_locale

__all__ = [
    "CONTEXT_VARIABLES",
    "LenderDetails",
    "agreed_deadline",
    "context_for",
    "review_context",
    "sample_context",
    "template_context",
]

CONTEXT_VARIABLES: Final[Mapping[str, str]] = {
    "agent_name": "the collector's name the debtor can ask for (given by the caller)",
    "amount_owed": "the overdue total (Money): principal, interest, fees and penalty",
    "business_name": "the lender's business name in limited-content messages",
    "callback_number": "a number to call back, when not the hotline (given by the caller)",
    "case_id": "the case id (the host's account reference)",
    "currency": "the case's ISO 4217 currency code",
    "days_past_due": "days since the first missed due date (int)",
    "deadline": "the date to pay by: the step's deadline_days, else the open promise's or "
    "plan's next date (the last day of grace of one passed unpaid), else the due date "
    "before it passes",
    "debtor_name": "the debtor's name, when known",
    "due_date": "the first missed due date",
    "fees": "overdue fees (Money)",
    "interest": "overdue interest (Money)",
    "late_fee_period": "the period of the late-fee rate: day, month or year",
    "late_fee_rate": "the late-fee (penalty interest) rate per period (Decimal, 0.02 is 2%)",
    "late_fee_terms": "the late-fee terms in words, when the lender writes them out",
    "lender_email": "the lender's service e-mail address",
    "lender_hotline": "the lender's service telephone number",
    "lender_name": "the lender's name",
    "lender_website": "the lender's website",
    "locale": "the debtor's locale (BCP 47)",
    "now": "the moment of rendering (aware datetime)",
    "outstanding": "everything still owed, due or not (Money)",
    "penalty": "overdue penalty interest and late charges (Money)",
    "principal": "overdue principal (Money)",
    "reply_by": "a suggested date to reply by (given by the caller)",
    "sms_signature": "the sender's signature in 【】, which Chinese SMS must carry",
    "today": "the date in the debtor's calendar",
}
"""Every variable `context_for` gives (or documents as the caller's), with what it holds."""

_NAME: Final = re.compile(r"^[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class LenderDetails:
    """What messages say about the lender; from the lender's settings.

    Attributes:
        name: The lender's name (``lender_name``).
        hotline: The service telephone number (``lender_hotline``).
        business_name: The name for limited-content messages, which must not
            indicate debt collection (``business_name``; the name when ``None``).
        email: A service e-mail address (``lender_email``).
        website: A website (``lender_website``).
        signature: The SMS signature without brackets, e.g. ``"安心消费金融"``
            (``sms_signature`` is ``"【安心消费金融】"``).
        late_fee_rate: The penalty rate per ``late_fee_period`` (``Decimal("0.0005")``).
        late_fee_period: ``"day"``, ``"month"`` or ``"year"``.
        late_fee_terms: The late-fee terms in words, if the lender writes them out.
        rate_ceiling: The most the lender's interest, late fees and charges may
            come to in a year (``Decimal("0.24")`` is 24%), when it is not the
            ceiling of the policy's packs (`arrears.policy.ceilings`); never
            said in a message.
    """

    name: str
    hotline: str | None = None
    business_name: str | None = None
    email: str | None = None
    website: str | None = None
    signature: str | None = None
    late_fee_rate: Decimal | None = None
    late_fee_period: Literal["day", "month", "year"] = "day"
    late_fee_terms: str | None = None
    rate_ceiling: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("late_fee_rate", "rate_ceiling"):
            value = getattr(self, name)
            if isinstance(value, float):
                raise InvalidInput(name, value, "a Decimal, never a float")
            if value is not None and not (value.is_finite() and 0 <= value < MAX_RATE):
                raise InvalidInput(
                    name, str(value), f"a rate of 0 or more and below {MAX_RATE}, e.g. 0.0005"
                )
        if self.late_fee_period not in ("day", "month", "year"):
            raise InvalidInput("late_fee_period", self.late_fee_period, "day, month or year")
        if self.signature is not None and not 2 <= len(self.signature.strip("【】")) <= 16:
            raise InvalidInput("signature", self.signature, "2 to 16 characters")

    @classmethod
    def of(cls, details: LenderDetails | Mapping[str, Any]) -> LenderDetails:
        """*details* as `LenderDetails`: itself, or built from a mapping of its fields.

        Raises:
            InvalidInput: an unknown field.
        """
        if isinstance(details, LenderDetails):
            return details
        known = {f.name for f in fields(cls)}
        for key in details:
            if key not in known:
                raise InvalidInput(f"lender.{key}", details[key], f"one of {sorted(known)}")
        values = dict(details)
        if not values.get("name"):
            raise InvalidInput("lender.name", values.get("name"), "the lender's name")
        for name in ("late_fee_rate", "rate_ceiling"):
            if isinstance(values.get(name), str | int) and not isinstance(values[name], bool):
                try:
                    values[name] = Decimal(str(values[name]))
                except ArithmeticError:
                    raise InvalidInput(
                        f"lender.{name}", values[name], "a decimal rate, e.g. '0.0005'"
                    ) from None
        try:
            return cls(**values)
        except InvalidInput as err:  # named as the policy names it: lender.late_fee_rate
            raise InvalidInput(f"lender.{err.field}", err.value, err.expected) from None

    def context(self) -> dict[str, Any]:
        """The lender's variables, the unknown ones left out."""
        values: dict[str, Any] = {
            "lender_name": self.name,
            "business_name": self.business_name or self.name,
            "lender_hotline": self.hotline,
            "lender_email": self.email,
            "lender_website": self.website,
            "sms_signature": f"【{self.signature.strip('【】')}】" if self.signature else None,
            "late_fee_rate": self.late_fee_rate,
            "late_fee_period": self.late_fee_period if self.late_fee_rate is not None else None,
            "late_fee_terms": self.late_fee_terms,
        }
        return {key: value for key, value in values.items() if value is not None}


def context_for(
    case: Case,
    at: datetime,
    *,
    lender: LenderDetails | Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The variables for rendering a message about *case* at *at*.

    Args:
        case: The case.
        at: The moment of sending (timezone-aware); ``today`` is its date in
            the debtor's calendar.
        lender: The lender's details (`LenderDetails` or a mapping of its fields);
            none (or an empty mapping) leaves the lender's variables out.
        extra: More variables (``deadline=date(…)``, ``agent_name="…"``), in
            snake_case; they replace computed ones of the same name.

    Returns:
        A dict of the variables in `CONTEXT_VARIABLES` that are known, plus *extra*.

    Raises:
        InvalidInput: a naive *at*, or a variable name not in snake_case.
    """
    return template_context(case, at, None, lender=lender, **extra)


def template_context(
    case: Case,
    at: datetime,
    used: AbstractSet[str] | None,
    *,
    lender: LenderDetails | Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """`context_for`, with the amounts and ``now`` only when *used* names them (all when ``None``).

    A template reads a few of the variables (`MessageTemplate.variables`); the
    amounts are `Money` values and ``now`` a conversion to the debtor's zone,
    which a review that sends a message would otherwise make for nothing.
    The other variables cost next to nothing and are always there.
    """
    moment = require_aware(at, "at")
    today = case.local_date(moment)
    balance = case.balance
    values: dict[str, Any] = {"case_id": case.id, "currency": case.currency}
    if used is None or "amount_owed" in used:
        values["amount_owed"] = balance.arrears
    if used is None or "outstanding" in used:
        values["outstanding"] = balance.outstanding
    if used is None or not used.isdisjoint(COMPONENTS):
        values.update(balance.components())
    values["due_date"] = case.due_date
    values["days_past_due"] = case.days_past_due(moment)
    values["today"] = today
    if used is None or "now" in used:
        zone = case.debtor.timezone
        values["now"] = moment.astimezone(zone) if zone else moment
    values["locale"] = case.debtor.locale
    if case.due_date >= today:
        values["deadline"] = case.due_date
    if case.debtor.name:
        values["debtor_name"] = case.debtor.name
    if lender:  # an empty mapping: a policy that says nothing of the lender
        values.update(_lender_context(lender))
    for key, value in extra.items():
        if not _NAME.match(key):
            raise InvalidInput("context", key, "a variable name in snake_case")
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def agreed_deadline(case: Case, today: date) -> date | None:
    """The date the case's open promise or active plan next asks a payment by, from *today* on.

    An instalment still ahead gives its own date.  One whose date has passed
    but whose grace (``grace_days``) has not, and which what was paid does not
    cover yet, gives the last day of its grace: the promise or plan breaks the
    day after (`arrears.plans.Promise.first_short`), so that is the date the
    debtor must pay by.  The earliest of these; ``None`` without an open
    promise or active plan, or when every instalment is paid or past its grace.
    """
    dates: list[date] = []
    agreements: list[Promise | RepaymentPlan] = []
    if case.promise is not None and case.promise.is_open:
        agreements.append(case.promise)
    if case.plan is not None and case.plan.is_active:
        agreements.append(case.plan)
    for agreement in agreements:
        running = Decimal(0)
        for part in agreement.instalments:
            running += part.amount.amount
            if part.due >= today:
                dates.append(part.due)
            elif agreement.paid < running and (today - part.due).days <= agreement.grace_days:
                dates.append(part.due + timedelta(days=agreement.grace_days))
    return min(dates) if dates else None


def review_context(
    case: Case,
    at: datetime,
    used: AbstractSet[str] | None,
    *,
    lender: LenderDetails | Mapping[str, Any] | None = None,
    deadline_days: int | None = None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The context a review renders a step's message with: `template_context` and its deadline.

    ``deadline`` is *deadline_days* after today (the step's
    ``send.deadline_days``) when given; else `agreed_deadline`, the next date
    of an open promise or active plan (the last day of grace of an
    instalment passed unpaid); else the due date while it is still ahead;
    else there is none.  *variables* are the step's ``send.variables``.
    `arrears check` builds its contexts with this function too, so what it
    renders is what a review renders.
    """
    extra: dict[str, Any] = dict(variables or {})
    today = case.local_date(require_aware(at, "at"))
    if deadline_days is not None:
        extra["deadline"] = today + timedelta(days=deadline_days)
    else:
        agreed = agreed_deadline(case, today)
        if agreed is not None:
            extra["deadline"] = agreed
    return template_context(case, at, used, lender=lender, **extra)


#: The last lender's variables: (the details or mapping, its items, the variables).
_last_lender: tuple[object, tuple[tuple[str, Any], ...], dict[str, Any]] | None = None
#: Values that never change in place, so a mapping of them is the same while they are.
_IMMUTABLE: Final = frozenset({str, int, bool, Decimal, type(None)})
_ABSENT: Final = object()


def _lender_context(lender: LenderDetails | Mapping[str, Any]) -> dict[str, Any]:
    """`LenderDetails.context` of *lender* (read only); the last one's is remembered.

    Every message of a policy names the same lender, so the variables of the
    last details (or mapping, while it holds the very same values) are kept.
    """
    global _last_lender
    last = _last_lender
    if last is not None and last[0] is lender:
        kept = last[1]
        if isinstance(lender, LenderDetails) or (
            len(lender) == len(kept)
            and all(lender.get(key, _ABSENT) is value for key, value in kept)
        ):
            return last[2]
    values = LenderDetails.of(lender).context()
    if isinstance(lender, LenderDetails):
        _last_lender = (lender, (), values)
    elif all(type(value) in _IMMUTABLE for value in lender.values()):
        _last_lender = (lender, tuple(lender.items()), values)
    return values


def _currency_of(locale: str) -> str:
    from babel.numbers import get_territory_currencies  # here: Babel loads on first use

    territory = babel_locale(locale).territory
    currencies = get_territory_currencies(territory) if territory else []
    return currencies[0] if currencies else "USD"


_SAMPLE_ZONES: Final = {"CN": "Asia/Shanghai", "US": "America/New_York", "GB": "Europe/London"}


def sample_context(locale: str, **extra: Any) -> dict[str, Any]:
    """A complete context of made-up values for checking templates in *locale*.

    Every variable of `CONTEXT_VARIABLES` is set (the currency is the
    locale's territory's); *extra* replaces or adds values.

    Raises:
        InvalidInput: a locale CLDR does not know, or one a debtor's cannot be
            (``debtor.locale``: language, optional script and region only).
    """
    territory = babel_locale(locale).territory or ""
    zone = _SAMPLE_ZONES.get(territory)
    currency = _currency_of(locale)
    chinese = babel_locale(locale).language == "zh"
    try:
        case = Case.model_validate(
            {
                "id": "SAMPLE-1",
                "debtor": {"id": "SAMPLE-D", "locale": locale, "timezone": zone},
                "balance": {"currency": currency, "principal": "10000", "penalty": "0"},
                "due_date": date(2026, 8, 31),
            }
        )
    except ValidationError as err:  # a tag CLDR knows but cases do not: "ca-ES-valencia"
        raise invalid_input(err) from err
    tz = ZoneInfo(zone) if zone else UTC
    at = datetime.combine(date(2026, 8, 28), time(10, 0), tzinfo=tz)
    lender = LenderDetails(
        name="安心消费金融" if chinese else "Acme Lending",
        business_name="安心" if chinese else "ACME",
        hotline="400-000-0000" if chinese else "1-800-555-0100",
        email="service@example.com",
        website="https://www.example.com",
        signature="安心消费金融" if chinese else "Acme",
        late_fee_rate=Decimal("0.0005"),
    )
    values = context_for(
        case,
        at,
        lender=lender,
        debtor_name="李雷" if chinese else "Pat Doe",
        agent_name="王芳" if chinese else "Alex Morgan",
        callback_number="400-000-0000" if chinese else "1-800-555-0100",
        reply_by=date(2026, 9, 4),
        late_fee_terms="每日0.05%的逾期罚息" if chinese else "a late fee of 0.05% a day",
    )
    values.update(extra)
    return values
