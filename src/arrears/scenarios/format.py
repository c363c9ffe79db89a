"""The scenario format: the models a scenario file is read into.

`Scenario` and its parts are the format itself (``docs/scenarios.md``): every
key not declared here is an error, reported with its file, line and field.
Each part is immutable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from ..case import Channel, HoldKind, Identifier, Outcome, Party, Relationship
from ..compliance.model import Role
from ..holds import Reach
from ..limits import ADDRESS, SHORT_TEXT

__all__ = [
    "ActionExpectation",
    "CaseSpec",
    "CeaseEvent",
    "ConsentEvent",
    "ContactEvent",
    "ContactSpec",
    "DebtorPaymentEvent",
    "DebtorSpec",
    "DisputeEvent",
    "Event",
    "Expectation",
    "HoldEndEvent",
    "HoldEvent",
    "InconvenientEvent",
    "NoticeSentEvent",
    "OptOutEvent",
    "PaymentEvent",
    "PersonSpec",
    "PersonsEvent",
    "PromiseEvent",
    "ProposedContact",
    "Scenario",
    "StudentLoanSpec",
    "TakenAction",
    "TickEvent",
    "VerificationSentEvent",
    "VisitSpec",
]


class _Spec(BaseModel):
    """A part of the scenario format: immutable, and no key it does not declare."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_HH_MM: Final = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def _local_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not _HH_MM.fullmatch(value):
        raise ValueError(f"got {value!r}, expected a local time as HH:MM, e.g. '21:00'")
    return time.fromisoformat(value)


LocalTime = Annotated[time, BeforeValidator(_local_time)]
"""A time of day in the debtor's zone, written ``HH:MM``."""

Amount = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
"""A positive decimal amount, written as a decimal string (or a plain YAML number)."""

NoticeKind = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
"""A notice's kind, a word such as ``validation`` or ``demand_letter``."""

TaskKind = Literal["call", "visit", "negotiation", "legal_review"]
"""What a task asks a person to do."""

#: The media a policy sends through by itself; calls and visits are tasks for people.
_AUTOMATED_CHANNELS: Final = frozenset({"sms", "email", "letter", "voicemail"})
_TASK_CHANNELS: Final = frozenset({"call", "visit"})


# -- the case ---------------------------------------------------------------------------


class PersonSpec(_Spec):
    """Someone other than the debtor the case may contact (``case.persons``).

    Attributes:
        id: Unique within the case; contact points name it (``person``).
        relationship: How they stand to the debtor: ``spouse``, ``parent``,
            ``child``, ``sibling``, ``relative``, ``household``, ``guardian``,
            ``attorney``, ``executor``, ``administrator``, ``debt_adviser``,
            ``employer``, ``contact_person`` or ``other``.
    """

    id: Identifier
    relationship: Relationship


class ContactSpec(_Spec):
    """A way to reach someone about the case (``case.contacts``).

    Attributes:
        id: Unique within the case; events and expectations name it.
        channel: ``sms``, ``call``, ``voicemail``, ``email``, ``letter`` or ``visit``.
        party: ``debtor`` (default), ``third_party`` or ``employer``; for a
            contact point that names a ``person``, their relationship's party
            (``employer`` for the employer, else ``third_party``).
        person: Whose it is: one of ``case.persons`` by id; none for the debtor,
            or for a third party the contact point alone stands for.
        address: The number or address; ``"unknown"`` by default, which says
            nothing about where the person is.
        work: An address the employer provides (a work e-mail or phone).
        consent: The person agreed to be contacted here.
        opted_out: The person asked not to be contacted here.
        landline: The number is known not to be a mobile (the rules on calls
            and texts to mobiles do not judge it).
    """

    id: Identifier
    channel: Channel
    party: Party | None = None
    person: Identifier | None = None
    address: str = Field(default="unknown", min_length=1)
    work: bool = False
    consent: bool = False
    opted_out: bool = False
    landline: bool = False


class StudentLoanSpec(_Spec):
    """The case is a student loan (``case.student_loan``).

    Attributes:
        account: The account number it was serviced under when obtained; the
            debtor's student loans of one account are one debt to the caps
            that count per debt (12 CFR 1006.14(b)(4)).
    """

    account: str = Field(min_length=1, max_length=SHORT_TEXT)


class CaseSpec(_Spec):
    """The case a scenario is about (``case:``).

    Attributes:
        id: The case id; the debtor gets the same id.
        timezone: The debtor's IANA zone; ``None`` when their location is unknown.
        locale: The debtor's language tag, which picks the policy's templates
            (``en`` unless given, e.g. ``zh-CN``).
        payday: When the debtor is paid, an RFC 5545 rule such as
            ``FREQ=MONTHLY;BYMONTHDAY=15`` (policies remind before it).
        jurisdiction: Where the debtor is, an ISO 3166 code (``US-MA``, ``CN``);
            it picks the scenario's ``jurisdictions`` set.
        residence: Where the debtor's address of record is, an ISO 3166 code;
            it stands for *jurisdiction* when that is not given.
        address: The debtor's postal address, read for *residence* when that is
            not given (`arrears.residence.residence_of`); not kept.
        currency: ISO 4217 code of the balance.
        balance: The overdue amount (principal), a decimal string.
        due_date: The first missed due date.
        stage: The workflow stage the case is in (the workflow's first stage,
            ``pre_due``, by default).
        contacts: The contact points.
        persons: The people other than the debtor the contact points reach.
        student_loan: Set when the case is a student loan: ``{account: ...}``.
        aging: What is overdue by the date it fell due, oldest first, as
            ``[date, amount]`` pairs (`arrears.Case.aging`): the oldest date is
            *due_date*, the amounts sum to *balance*; all of it under *due_date*
            when not given.
    """

    id: Identifier
    timezone: ZoneInfo | None = None
    locale: str = Field(default="en", min_length=1)
    payday: str | None = Field(default=None, min_length=1)
    jurisdiction: str | None = None
    residence: str | None = None
    address: str | None = Field(default=None, max_length=ADDRESS)
    currency: str
    balance: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    due_date: date
    stage: str | None = None
    contacts: tuple[ContactSpec, ...] = ()
    persons: tuple[PersonSpec, ...] = ()
    student_loan: StudentLoanSpec | None = None
    aging: tuple[tuple[date, Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]], ...] | None = (
        None
    )


class DebtorSpec(_Spec):
    """The debtor several cases of a scenario share (``debtor:``, with ``cases:``).

    Attributes:
        id: The debtor's id: every case is theirs (`arrears.Store.cases_of`).
        timezone: Their IANA zone; ``None`` when their location is unknown.
        locale: Their language tag (``en`` unless given).
        payday: When they are paid, an RFC 5545 rule.
        jurisdiction: Where they are, an ISO 3166 code: one for all their cases.
        residence: Where their address of record is, an ISO 3166 code; it stands
            for *jurisdiction* when that is not given.
        address: Their postal address, read for *residence* when that is not
            given; not kept.
    """

    id: Identifier
    timezone: ZoneInfo | None = None
    locale: str = Field(default="en", min_length=1)
    payday: str | None = Field(default=None, min_length=1)
    jurisdiction: str | None = None
    residence: str | None = None
    address: str | None = Field(default=None, max_length=ADDRESS)


#: The fields of a case that are its debtor's: given in ``debtor:`` when there is one.
DEBTOR_FIELDS: Final = ("timezone", "locale", "payday", "jurisdiction", "residence", "address")


# -- events -----------------------------------------------------------------------------


class _EventBase(_Spec):
    at: AwareDatetime
    case: Identifier | None = None
    """The case the event is about, by id: required when the scenario has several."""


class ContactEvent(_EventBase):
    """A contact attempt and its outcome (``type: contact``).

    Attributes:
        at: When.
        channel: The medium used.
        contact: The contact point's id; or give ``party``.
        party: Whom it reached, when no contact point is named.
        outcome: What came of it (``no_answer``, ``conversation``, …).
        automated: Autodialed, prerecorded or AI voice.
        inbound: The person started it (an inbound call, a text from them).
    """

    type: Literal["contact"]
    channel: Channel
    contact: Identifier | None = None
    party: Party | None = None
    outcome: Outcome
    about: tuple[Identifier, ...] = ()
    """The scenario's other cases the contact was also about (a call about two loans)."""
    automated: bool = False
    inbound: bool = False


ConsentScope = Literal["hours", "calls", "automated", "medium"]
"""What a consent is for (see `arrears.compliance.CONSENT_SCOPES`)."""


class ConsentEvent(_EventBase):
    """A direct consent to be contacted on a channel (``type: consent``).

    With ``channel`` alone it is the debtor's consent to be contacted now (the
    contact window and the call count, for an hour); the other keys say what
    else it covers.

    Attributes:
        channel: The medium.
        contact: The contact point (its address) it is about; all of the channel's
            (the debtor's) when omitted.
        covers: What it is for: ``hours``, ``calls``, ``automated``, ``medium``.
        start: ``from``: when the contact it agrees to may begin.
        until: When it lapses.
    """

    type: Literal["consent"]
    channel: Channel
    contact: Identifier | None = None
    covers: tuple[ConsentScope, ...] | None = Field(default=None, min_length=1)
    start: AwareDatetime | None = Field(default=None, alias="from")
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _window(self) -> ConsentEvent:
        begin = self.start or self.at
        if self.until is not None and self.until <= begin:
            raise ValueError(
                f"until: got {self.until.isoformat()}, expected a time after "
                f"{begin.isoformat()} (the consent's start)"
            )
        return self


class OptOutEvent(_EventBase):
    """The debtor (or ``person``) asked to stop using a medium, or one address of it
    (``type: opt_out``)."""

    type: Literal["opt_out"]
    channel: Channel
    contact: Identifier | None = None
    person: Identifier | None = None
    via: Channel | None = None
    """The medium the request came by (``sms`` for a text saying STOP); its one
    confirmation goes back through it.  Not recorded when absent."""


class InconvenientEvent(_EventBase):
    """The debtor (or ``person``) named times that are inconvenient (``type: inconvenient``,
    ``from``, ``to``).

    Attributes:
        start: ``from``, local ``HH:MM``.
        end: ``to``, local ``HH:MM`` (before ``from`` when the span crosses midnight).
        person: Who named them, when one of the case's persons; theirs only.
    """

    type: Literal["inconvenient"]
    start: LocalTime = Field(alias="from")
    end: LocalTime = Field(alias="to")
    person: Identifier | None = None


class DisputeEvent(_EventBase):
    """The debtor disputes the debt (``type: dispute``, ``written: true|false``).

    Attributes:
        written: Whether it came in writing.
        reach: ``debtor`` when the debtor disputes every debt they owe the lender;
            by default the debt of the event's case (`arrears.holds.HOLD_REACH`).
    """

    type: Literal["dispute"]
    written: bool
    reach: Reach | None = None


class VerificationSentEvent(_EventBase):
    """Verification was sent; every dispute hold ends (``type: verification_sent``)."""

    type: Literal["verification_sent"]


class CeaseEvent(_EventBase):
    """A written request to stop communicating (``type: cease``).

    Attributes:
        reach: ``debtor`` when the request names every debt; by default the debt of
            the event's case (`arrears.holds.HOLD_REACH`).
    """

    type: Literal["cease"]
    reach: Reach | None = None


def _not_dispute_or_cease(kind: HoldKind) -> HoldKind:
    if kind in (HoldKind.DISPUTE, HoldKind.CEASE):
        raise ValueError(f"a {kind} is its own event: write type: {kind}")
    return kind


class HoldEvent(_EventBase):
    """A hold begins (``type: hold``).

    Attributes:
        kind: ``bankruptcy``, ``breathing_space``, ``mental_health_crisis``, ``mental_capacity``,
            ``deceased``, ``attorney``, ``hardship`` (or another `HoldKind` but
            ``dispute`` and ``cease``,
            which have events of their own).
        until: The date it ends (at midnight in the debtor's zone, UTC when unknown).
        reach: ``debtor`` to widen a hold that reaches one debt (an attorney acting on
            every debt, a hardship agreed for all of them) to every case of the debtor;
            ``case`` records a breathing space or a mental health crisis moratorium on
            the event's case only (a debt its notice lists), and is refused for any
            other kind whose reach is the debtor (`arrears.holds.HOLD_REACH`).
    """

    type: Literal["hold"]
    kind: Annotated[HoldKind, AfterValidator(_not_dispute_or_cease)]
    until: date | None = None
    reach: Reach | None = None


class HoldEndEvent(_EventBase):
    """Every active hold of a kind ends (``type: hold_end``)."""

    type: Literal["hold_end"]
    kind: HoldKind


class NoticeSentEvent(_EventBase):
    """A notice was sent, e.g. ``validation`` (``type: notice_sent``)."""

    type: Literal["notice_sent"]
    kind: NoticeKind


class PaymentEvent(_EventBase):
    """A payment in the case's currency (``type: payment``, ``amount``)."""

    type: Literal["payment"]
    amount: Amount


class PromiseEvent(_EventBase):
    """A promise to pay ``amount`` by ``due`` (``type: promise``); ``covers``: the other
    cases it also covers (one promise over several loans)."""

    type: Literal["promise"]
    amount: Amount
    due: date
    covers: tuple[Identifier, ...] = ()


class DebtorPaymentEvent(_EventBase):
    """A payment to the debtor, naming no case (``type: debtor_payment``, ``amount``,
    ``currency``: the first case's, ``allocation``: the policy's, when omitted)."""

    type: Literal["debtor_payment"]
    amount: Amount
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    allocation: Literal["oldest_due", "highest_rate", "pro_rata"] | None = None


class TickEvent(_EventBase):
    """Run the policy at ``at``, as the daily tick would (``type: tick``; only with ``policy:``).

    The case is reviewed when a review is due at ``at``: at once after it is
    opened, then at the policy's ``review.time`` on the days it schedules.
    """

    type: Literal["tick"]


class PersonsEvent(_EventBase):
    """The case's persons from now on (``type: persons``), as `arrears.Engine.update_persons`.

    Attributes:
        persons: Every person of the case after the change (a divorced spouse
            stays, as ``other``).
        contacts: New contact points (a new person's phone), added beside the
            case's own.
    """

    type: Literal["persons"]
    persons: tuple[PersonSpec, ...]
    contacts: tuple[ContactSpec, ...] = ()


_EVENT_TYPES: Final = {
    "contact": ContactEvent,
    "consent": ConsentEvent,
    "opt_out": OptOutEvent,
    "inconvenient": InconvenientEvent,
    "persons": PersonsEvent,
    "dispute": DisputeEvent,
    "verification_sent": VerificationSentEvent,
    "cease": CeaseEvent,
    "hold": HoldEvent,
    "hold_end": HoldEndEvent,
    "notice_sent": NoticeSentEvent,
    "payment": PaymentEvent,
    "debtor_payment": DebtorPaymentEvent,
    "promise": PromiseEvent,
    "tick": TickEvent,
}


def _event_tag(value: Any) -> str | None:
    # Tags are "<type> event", never a key of an event, so an error's location
    # inside an event maps back onto the file unambiguously.
    kind = value.get("type") if isinstance(value, Mapping) else getattr(value, "type", None)
    return f"{kind} event" if isinstance(kind, str) and kind in _EVENT_TYPES else None


Event = Annotated[
    Annotated[ContactEvent, Tag("contact event")]
    | Annotated[ConsentEvent, Tag("consent event")]
    | Annotated[OptOutEvent, Tag("opt_out event")]
    | Annotated[InconvenientEvent, Tag("inconvenient event")]
    | Annotated[PersonsEvent, Tag("persons event")]
    | Annotated[DisputeEvent, Tag("dispute event")]
    | Annotated[VerificationSentEvent, Tag("verification_sent event")]
    | Annotated[CeaseEvent, Tag("cease event")]
    | Annotated[HoldEvent, Tag("hold event")]
    | Annotated[HoldEndEvent, Tag("hold_end event")]
    | Annotated[NoticeSentEvent, Tag("notice_sent event")]
    | Annotated[PaymentEvent, Tag("payment event")]
    | Annotated[DebtorPaymentEvent, Tag("debtor_payment event")]
    | Annotated[PromiseEvent, Tag("promise event")]
    | Annotated[TickEvent, Tag("tick event")],
    Discriminator(
        _event_tag,
        custom_error_type="event_type",
        custom_error_message=f"expected one of {', '.join(_EVENT_TYPES)}",
        custom_error_context={"field": "type"},
    ),
]
"""One thing that happened before the expectations, chosen by its ``type``."""


# -- expectations -----------------------------------------------------------------------


class VisitSpec(_Spec):
    """How a proposed field visit would be made (``visit:``); unset keys take the rule's default."""

    collectors: int | None = Field(default=None, ge=0)
    credentials: bool | None = None
    registered: bool | None = None
    recorded: bool | None = None


class ProposedContact(_Spec):
    """The contact an expectation asks about (``contact:`` of an ``expect`` entry).

    Attributes:
        channel: The medium.
        contact: The contact point's id; or give ``party``.
        party: Whom it would reach, when no contact point is named.
        automated: Autodialed, prerecorded or AI voice.
        purpose: Why (``collection`` unless given).
        text: The message text, for rules that check content.
        visit: How a field visit would be made.
    """

    channel: Channel
    contact: Identifier | None = None
    party: Party | None = None
    automated: bool = False
    purpose: str | None = Field(default=None, min_length=1)
    text: str | None = None
    visit: VisitSpec | None = None


class ActionExpectation(_Spec):
    """An action the policy should take (an item of ``actions:``; only with ``policy:``).

    A message is ``{channel, template?}``; a task for a person is ``{channel:
    call}`` or ``{channel: visit}`` (tasks have no template), or ``{task:
    KIND}`` for any kind, ``legal_review`` and ``negotiation`` included.

    Attributes:
        channel: The message's medium, or ``call`` / ``visit`` for a task.
        template: The message's template name; any when omitted.
        task: The task's kind: ``call``, ``visit``, ``negotiation`` or ``legal_review``.
        queue: The task's queue; any when omitted.
    """

    channel: Channel | None = None
    template: str | None = Field(default=None, min_length=1)
    task: TaskKind | None = None
    queue: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> ActionExpectation:
        if self.channel is None and self.task is None:
            raise ValueError("give channel (and optionally template) or task (a task's kind)")
        if self.task is not None and self.template is not None:
            raise ValueError("a task has no template: give template only with a message")
        if self.channel in _TASK_CHANNELS and self.template is not None:
            raise ValueError(
                f"a {self.channel} is a task for a person and has no template; "
                "give template only with sms, email, letter or voicemail"
            )
        if self.task is not None and self.channel is not None and self.channel != self.task:
            raise ValueError(f"task {self.task} has no channel {self.channel}; give one of them")
        if self.queue is not None and self.task is None and self.channel not in _TASK_CHANNELS:
            raise ValueError("a message has no queue: give queue only with a task")
        return self

    def matches(self, action: TakenAction) -> bool:
        """True when *action* is this one (what is omitted here is not compared)."""
        return (
            (self.channel is None or self.channel == action.channel)
            and (self.task is None or self.task == action.task)
            and (self.template is None or self.template == action.template)
            and (self.queue is None or self.queue == action.detail)
        )

    def __str__(self) -> str:
        queue = f" ({self.queue})" if self.queue is not None else ""
        if self.task is not None:
            return f"{self.task} task{queue}"
        channel = str(self.channel)
        if channel in _TASK_CHANNELS:
            return f"{channel} task{queue}"
        return f"{channel} {self.template}" if self.template is not None else channel


class Expectation(_Spec):
    """One ``expect`` entry: what must be decided at ``at``.

    An entry judges a proposed ``contact``, or checks the policy's ``stage``
    and ``actions`` (both only with ``policy:``), or both: the policy runs
    first, then the contact is judged.

    Attributes:
        at: When it is judged.
        case: The case it is about, by id: required when the scenario has several.
        contact: The proposed contact to judge.
        verdict: ``allow`` or ``deny``.
        rules: Rule ids that must be among the verdict's reasons.
        next_allowed_at: The verdict's ``next_allowed_at`` (``null`` for none),
            checked only when given.
        record: Record the contact when it is allowed, before the next entry.
        outcome: The outcome recorded (``no_answer`` unless given).
        stage: The case's stage after running the policy up to ``at``.
        actions: Every action the policy takes at ``at``: the messages it
            sends and the tasks it opens (``[]``: none).
    """

    at: AwareDatetime
    case: Identifier | None = None
    contact: ProposedContact | None = None
    verdict: Literal["allow", "deny"] | None = None
    rules: tuple[str, ...] = ()
    next_allowed_at: AwareDatetime | None = None
    record: bool = False
    outcome: Outcome = Outcome.NO_ANSWER
    stage: str | None = None
    actions: tuple[ActionExpectation, ...] | None = None


class Scenario(_Spec):
    """A whole scenario file.

    Attributes:
        name: What it shows, one line; printed by ``arrears test``.
        description: Longer notes for the reader.
        rules: The rule packs to apply, by pack id (with ``jurisdictions``, the
            default set).
        jurisdictions: Rule packs by the debtor's jurisdiction, most specific code
            first (``US-MA``, then ``US``), instead of or beside ``rules``.
        role: The lender's role (``creditor``, ``collector``, ``debt_buyer``): only
            the rules that bind it judge; every rule when omitted.
        policy: A policy file, relative to the scenario's folder; its packs
            judge every contact.
        overrides: Rule parameters to change, by rule id (on top of the
            policy's own overrides).
        case: The case, when the scenario has one (the debtor has its id).
        debtor: The debtor the ``cases`` share.
        cases: Several cases of one debtor, instead of ``case``; each event and
            expectation names the one it is about (``case:``).
        events: What happened before, oldest first.
        expect: What must be decided, in order.
    """

    name: str = Field(min_length=1)
    description: str | None = None
    rules: tuple[str, ...] | None = Field(default=None, min_length=1)
    jurisdictions: dict[str, tuple[str, ...]] | None = Field(default=None, min_length=1)
    role: Role | None = None
    policy: str | None = None
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    case: CaseSpec | None = None
    debtor: DebtorSpec | None = None
    cases: tuple[CaseSpec, ...] | None = Field(default=None, min_length=1)
    events: tuple[Event, ...] = ()
    expect: tuple[Expectation, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_way_to_give_cases(self) -> Scenario:
        if (self.case is None) == (self.cases is None):
            raise ValueError("give case (one case) or cases (several of one debtor), not both")
        if self.debtor is not None and self.cases is None:
            raise ValueError("debtor: give it with cases (the case's own debtor is case:)")
        return self

    @property
    def specs(self) -> tuple[tuple[tuple[str | int, ...], CaseSpec], ...]:
        """Each case with where it is in the file (``("case",)`` or ``("cases", i)``)."""
        if self.cases is None:
            assert self.case is not None
            return ((("case",), self.case),)
        return tuple((("cases", index), spec) for index, spec in enumerate(self.cases))

    def spec_of(self, case_id: str | None) -> CaseSpec | None:
        """The case named *case_id* (the only one when ``None`` and there is one), else ``None``."""
        specs = [spec for _, spec in self.specs]
        if case_id is None:
            return specs[0] if len(specs) == 1 else None
        return next((spec for spec in specs if spec.id == case_id), None)


@dataclass(frozen=True, slots=True)
class TakenAction:
    """An action a policy took when it ran: a message sent or a task opened.

    Attributes:
        channel: The message's medium; ``call`` or ``visit`` for those tasks,
            ``None`` for other tasks (a legal review).
        template: The message's template; ``None`` for a task.
        task: The task's kind; ``None`` for a message.
        step: The policy step that asked for it.
        detail: The task's queue; ``None`` for a message.
    """

    channel: str | None
    template: str | None
    task: str | None
    step: str
    detail: str | None = None

    def __str__(self) -> str:
        if self.task is not None:
            return f"{self.task} task ({self.detail})" if self.detail else f"{self.task} task"
        return f"{self.channel} {self.template}" if self.template else str(self.channel)
