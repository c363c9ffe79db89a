"""What compliance judges and what it answers: a proposed contact, the reasons, the verdict."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from ..case import Case, Channel, ContactPoint, HoldKind, Outcome, Party, Relationship
from .history import (
    AGE_NOTICES,
    Attempt,
    ContactHistory,
    DebtorHistory,
    Preference,
    minor_at,
)

# The age notices are defined beside the history that carries them across a debtor's cases.
from .history import MINOR_NOTICE as MINOR_NOTICE
from .history import OF_AGE_NOTICE as OF_AGE_NOTICE

__all__ = [
    "Judgement",
    "Proposal",
    "Purpose",
    "Reason",
    "Role",
    "StatementReach",
    "Verdict",
    "VisitDetails",
]

_T = TypeVar("_T")

StatementReach = Literal["debt", "debtor"]
"""What a statement of the person reaches: the debt it was made about (``debt``), or
every debt of the person with this lender (``debtor``)."""


class Purpose:
    """The purposes a proposed contact may name; rules exempt or target some of them.

    Purposes are plain strings, so a lender may use its own; these are the ones
    the shipped packs know.
    """

    COLLECTION: Final = "collection"
    """Asking for payment: the default."""
    REPLY: Final = "reply"
    """Answering a contact the person started (allowed during breathing space, outside
    some caps).  Judged as one only when it answers one: an inbound contact from the
    person reached not yet answered by a reply (`Judgement.replying`); the packs'
    ``*-REPLY`` rules (`ReplyNeedsContact`) deny it otherwise."""
    VERIFICATION: Final = "verification"
    """Sending the verification of a disputed debt."""
    VALIDATION_NOTICE: Final = "validation_notice"
    """The validation notice of Reg F §1006.34."""
    TERMINATION_NOTICE: Final = "termination_notice"
    """Telling the consumer that collection efforts end (allowed after a cease request)."""
    REMEDY_NOTICE: Final = "remedy_notice"
    """Telling the consumer that remedies may be invoked (allowed after a cease request)."""
    REMEDY_INTENT: Final = "remedy_intent"
    """Telling the consumer that a specified remedy will be invoked (allowed after a cease)."""
    OPT_OUT_CONFIRMATION: Final = "opt_out_confirmation"
    """The one confirmation of an opt-out that may follow it."""
    LOCATION: Final = "location"
    """Asking a third party where the debtor can be reached, without naming the debt."""
    RELAY: Final = "relay"
    """Asking a contact person to tell the debtor to get in touch, without naming the debt."""
    LEGAL_ACTION: Final = "legal_action"
    """A suit, or a message that threatens one."""
    CREDIT_REPORT: Final = "credit_report"
    """Furnishing the debt to a credit bureau."""
    LIMITED_CONTENT: Final = "limited_content"
    """A limited-content message (Reg F §1006.2(j))."""
    REPRESENTATIVE: Final = "representative"
    """Dealing with someone established to act for the debtor: an executor of their estate,
    a debt adviser, the holder of a power of attorney."""
    GROUP_MESSAGE: Final = "group_message"
    """One message to several people at once (a group chat, a 群发 to contact persons)."""


class Role(StrEnum):
    """The lender's role in collecting a debt: which rules bind it (`Rule.roles`).

    A rule applies only to the roles it names; a `Compliance` with no role
    applies every rule, as if the lender held every role.
    """

    CREDITOR = "creditor"
    """The lender collecting its own debt (a first-party card issuer, a bank)."""
    COLLECTOR = "collector"
    """A third party collecting a debt owed to another (an agency)."""
    DEBT_BUYER = "debt_buyer"
    """A buyer of debts in default collecting them for itself."""


class VisitDetails(BaseModel):
    """How a field visit is staffed and prepared.

    Attributes:
        collectors: How many collectors go.
        credentials: They carry valid credentials and will show them.
        registered: The visit was reported in advance to the responsible department.
        recorded: It will be recorded (audio or video).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    collectors: int = Field(default=1, ge=1)
    credentials: bool = False
    registered: bool = False
    recorded: bool = False


class Proposal(BaseModel):
    """A contact the lender wants to make, judged before it happens.

    Name the contact point (``contact``) or, for a contact without one (a
    letter to the last known address, a visit), the ``party``.  With neither,
    the contact is for the debtor.

    Attributes:
        channel: The medium.
        contact: The id of one of the case's contact points.
        party: Whom it is for, when no contact point is named.
        automated: Autodialed, prerecorded or AI voice.
        purpose: What it is for (see `Purpose`); ``collection`` by default.
        text: The message that would be sent, when known (content rules read it).
        visit: Staffing of a field visit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)

    channel: Channel
    contact: str | None = None
    party: Party | None = None
    automated: bool = False
    purpose: str = Field(default=Purpose.COLLECTION, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    text: str | None = Field(default=None, repr=False)
    visit: VisitDetails | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a rule denies a contact.

    Attributes:
        rule: The rule's id, e.g. ``"US-7IN7"``.
        citation: Where the rule comes from.
        message: What was compared, in words: ``"8 counted calls in 7 days, limit 7"``.
        values: The values compared, by name (no personal data).
        retry_at: The earliest time this rule alone would allow the contact,
            all else unchanged; ``None`` when time alone will not (a hold, an opt-out).
    """

    rule: str
    citation: str
    message: str
    values: Mapping[str, Any] = field(default_factory=dict)
    retry_at: datetime | None = None

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The reason as plain JSON values, for the journal."""
        data: dict[str, Any] = {
            "rule": self.rule,
            "citation": self.citation,
            "message": self.message,
            "values": {k: _plain(v) for k, v in self.values.items()},
        }
        if self.retry_at is not None:
            data["retry_at"] = self.retry_at.isoformat()
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to "may we make this contact now?".

    Attributes:
        allowed: True when no rule denies it.
        reasons: Every rule that denies it, with the values compared.
        at: The moment judged.
        next_allowed_at: The earliest moment the same contact would be allowed if
            nothing else happens (``at`` itself when allowed); ``None`` when no
            time will do (a hold without an end, an opt-out, unknown location).
        proposal: What was judged.
    """

    allowed: bool
    reasons: tuple[Reason, ...]
    at: datetime
    next_allowed_at: datetime | None
    proposal: Proposal

    @property
    def rules(self) -> tuple[str, ...]:
        """The ids of the denying rules."""
        return tuple(reason.rule for reason in self.reasons)

    def __str__(self) -> str:
        if self.allowed:
            return "allowed"
        return "denied: " + "; ".join(str(reason) for reason in self.reasons)


_UNKNOWN_ZONE: Final = "Etc/Unknown"


@lru_cache(maxsize=4096)
def zones_for_address(address: str) -> tuple[ZoneInfo, ...]:
    """The time zones a phone number may be in, from the ``phonenumbers`` data.

    Empty when the text is not a valid international number or its zone is unknown.
    """
    import phonenumbers  # here, not at the top: its data loads when first needed
    from phonenumbers import timezone as phone_zones

    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException:
        return ()
    if not phonenumbers.is_valid_number(number):
        return ()
    zones: list[ZoneInfo] = []
    for name in phone_zones.time_zones_for_number(number):
        if name == _UNKNOWN_ZONE:
            continue
        try:
            zones.append(ZoneInfo(name))
        except ZoneInfoNotFoundError:  # pragma: no cover - data newer than tzdata
            continue
    return tuple(zones)


_PHONE_CHANNELS: Final = frozenset({Channel.CALL, Channel.SMS, Channel.VOICEMAIL})
# The representatives of a deceased debtor's estate (`Judgement.relationship_of`).
_ESTATE: Final = frozenset({Relationship.EXECUTOR, Relationship.ADMINISTRATOR})


class Judgement:
    """One judgment in progress: the case, its history, the proposal and the moment.

    Rules read it; the facts several rules need (the contact point, the zones
    the debtor may be in) are worked out once per judgment, and a rule may
    keep what others (or itself, at another step) will ask again with `once`.

    Attributes:
        case: The case.
        history: Its contact history.
        proposal: The proposed contact.
        at: The moment judged.
        point: The contact point used, if the proposal names one.
        party: Whom the contact reaches.
        person: The person it reaches: the debtor's id for the debtor, the
            person the contact point names, or ``None`` for a third party named
            by no person (then the contact point stands for them).
        relationship: The relationship to the debtor of the person reached
            (`arrears.case.Relationship`); ``employer`` for the employer, ``None``
            for the debtor or when not known.
        zones: Where the debtor may be: their zone when known, else every zone
            their phone numbers admit; empty when that cannot be known.
        calendar_zone: The zone whose calendar days count: the debtor's, else the
            first possible one; ``None`` when nothing is known.
        at_work: The contact reaches the debtor at work (an employer, or a
            contact point marked ``work``).
        debtor_history: The contacts on every case of the debtor (`DebtorHistory`),
            read when a rule first asks; ``None`` when the case is the debtor's only one.
        resending: The outbox key of the message this judgment would send again under
            that key (the tick's recovery of an intent no adapter could report on), or
            ``None``: that intent is not the reply that answers the person already.
    """

    __slots__ = (
        "_days",
        "_debtor",
        "_debtor_source",
        "_memo",
        "_named",
        "_opted",
        "_settled",
        "at",
        "at_work",
        "calendar_zone",
        "case",
        "history",
        "party",
        "person",
        "point",
        "proposal",
        "relationship",
        "resending",
        "work_contacts",
        "zones",
    )

    def __init__(
        self,
        case: Case,
        history: ContactHistory,
        proposal: Proposal,
        at: datetime,
        *,
        debtor: Callable[[], DebtorHistory | None] | None = None,
        resending: str | None = None,
        _like: Judgement | None = None,
    ) -> None:
        self.case = case
        self.history = history
        self.proposal = proposal
        self.at = at
        self.resending: str | None = _like.resending if _like is not None else resending
        self._days: dict[datetime, date] = {}
        self._memo: dict[Hashable, Any] = {}
        self._debtor_source = debtor
        self._debtor: DebtorHistory | bool | None = False  # False: not asked yet
        # What the person said on any of their cases (`opt_outs`, `inconvenient`).
        self._opted: Sequence[Preference] | None = None
        self._named: tuple[tuple[time, time], ...] | None = None
        self._settled: bool | None = None
        self.point: ContactPoint | None
        self.party: str
        self.person: str | None
        self.relationship: str | None
        self.zones: tuple[ZoneInfo, ...]
        self.work_contacts: frozenset[str]
        if _like is not None:
            self._debtor_source = _like._debtor_source
            self._debtor = _like._debtor
            self._opted = _like._opted
            self._named = _like._named
            self.point = _like.point
            self.party = _like.party
            self.person = _like.person
            # An estate's representative stands for the debtor only from the death on.
            self.relationship = (
                self.relationship_of(_like.person)
                if _like.relationship in _ESTATE or _like.relationship == Relationship.OTHER
                else _like.relationship
            )
            self.zones = _like.zones
            self.work_contacts = _like.work_contacts
        else:
            self.point = case.contact(proposal.contact) if proposal.contact is not None else None
            self.party = (
                self.point.party if self.point is not None else (proposal.party or Party.DEBTOR)
            )
            named = self.point.person if self.point is not None else None
            if self.party == Party.DEBTOR:
                self.person, self.relationship = case.debtor.id, None
            elif named is not None:
                self.person, self.relationship = named, self.relationship_of(named)
            else:
                self.person = None
                self.relationship = Relationship.EMPLOYER if self.party == Party.EMPLOYER else None
            self.zones = _zones_of(case)
            self.work_contacts = frozenset(point.id for point in case.contacts if point.work)
        self.calendar_zone: ZoneInfo | None = self.zones[0] if self.zones else None
        self.at_work = self.party == Party.EMPLOYER or (self.point is not None and self.point.work)

    def once(self, key: Hashable, compute: Callable[..., _T], *args: Any) -> _T:
        """``compute(*args)``'s answer for *key*, worked out the first time this judgment
        is asked.

        For a fact several rules read, or one rule at several steps (the attempts
        since a window's start, the numbers of the person reached): the first to
        ask computes it, the others share it.  *key* must name everything the
        answer depends on besides this judgment (its case, proposal and moment):
        *args* among it; the answer is shared, so no rule may change it.  A
        judgment at another moment (`moved`) starts afresh.  The arguments are
        passed rather than captured in a function made at each call, which would
        cost about what a lookup that finds the answer costs.
        """
        memo = self._memo
        found = memo.get(key, _ASKED_NOT)
        if found is _ASKED_NOT:
            found = memo[key] = compute(*args)
        return found  # type: ignore[no-any-return]

    def relationship_of(self, person: str | None) -> str | None:
        """The relationship to the debtor of the case's person *person* (``None``: the
        debtor, or not one of the case's persons) as it stands at the moment judged.

        The executor or administrator of the debtor's estate is one only once the
        debtor has died (12 CFR 1006.6(a)(4): "if the consumer is deceased"): until a
        ``deceased`` hold is in force they are ``other``, a third party.
        """
        if person is None:
            return None
        found = self.case.person(person)
        if found is None:
            return None
        if found.relationship in _ESTATE and not any(
            hold.kind == HoldKind.DECEASED for hold in self.case.active_holds(self.at)
        ):
            return Relationship.OTHER
        return found.relationship

    def debtor_minor(self) -> bool:
        """True when the debtor is recorded as a minor at the moment judged, on any of
        their cases.

        The lender records what it learns, not a birth date: a notice
        `MINOR_NOTICE` (the debtor is a minor) recorded at or before the moment,
        not ended by a later `OF_AGE_NOTICE` (the debtor has come of age) at or
        before it (`arrears.compliance.history.minor_at`).  Being a minor is a fact
        about the person, not a loan: the latest of these notices at or before the
        moment on any of the debtor's cases decides (`DebtorHistory.ages`), so a
        notice recorded on one loan holds on each.  Every notice counts, not only
        the latest of each kind (`ContactHistory.ages`): a debtor recorded a minor,
        then of age, then a minor again was a minor before coming of age.
        Without the notice the debtor is taken to be an adult: a parent is then
        no stand-in for them (12 CFR 1006.6(a)(2)).
        """
        return self.once(("minor",), self._debtor_minor)

    def _debtor_minor(self) -> bool:
        notices = self.case.notices
        debtor = self.debtor_history
        if debtor is None or not debtor.ages:  # most debtors: no age notice anywhere else
            if MINOR_NOTICE not in notices:  # none ever on this case either
                return False
            return minor_at(self._own_ages(notices), self.at)
        return debtor.minor(self.case.id, self._own_ages(notices), self.at)

    def _own_ages(self, notices: Mapping[str, datetime]) -> list[tuple[datetime, str]]:
        """The case's own age notices: its history's, and the latest of each kind the
        case keeps (the same ones, unless the history was built without them)."""
        latest = [(moment, kind) for kind, moment in notices.items() if kind in AGE_NOTICES]
        return [*self.history.ages, *latest]

    def person_of(self, attempt: Attempt) -> str | None:
        """The person *attempt* reached: the one it names, the debtor's id for the debtor,
        or the person its contact point on this case names; ``None`` when not known."""
        if attempt.person is not None:
            return attempt.person
        if attempt.party == Party.DEBTOR:
            return self.case.debtor.id
        if attempt.contact is not None and (attempt.case is None or attempt.case == self.case.id):
            try:
                return self.case.contact(attempt.contact).person
            except KeyError:
                return None
        debtor = self.debtor_history if attempt.contact is not None else None  # another loan's
        if debtor is not None and attempt.case is not None:
            return debtor.persons.get(attempt.case, {}).get(attempt.contact or "")
        return None

    def started(self) -> tuple[Attempt | None, Attempt | None]:
        """The latest contact the person reached started, and our reply that answered it.

        A contact they started is an inbound one (`Attempt.inbound`, or an outcome
        ``reply``: they wrote back), recorded at or before the moment judged on any
        of the debtor's cases (they phoned about one loan, the answer is recorded on
        another), from the person the proposal reaches: the same person, or, for a
        third party no person names, the same party at the same contact point or
        address.  It is answered by a contact of ours with purpose ``reply`` to that
        person after it, on any of those cases, whatever came of it, or by one in
        the outbox not sent yet.  ``(None, None)`` when they started none; the reply
        is ``None`` when the latest is not answered yet.  One reply answers every
        contact they started before it: a second needs a new contact from them.
        """
        return self.once(("started",), self._started)

    def _started(self) -> tuple[Attempt | None, Attempt | None]:
        answer: Attempt | None = None
        at = self.at
        debtor, history = self.debtor_history, self.history
        # The debtor's history holds every case's attempts and open intents, tagged.
        for attempt in reversed(debtor.attempts if debtor is not None else history.attempts):
            if attempt.at > at or not self._from_reached(attempt):
                continue
            if attempt.inbound or attempt.outcome == Outcome.REPLY:
                if answer is None and debtor is None and history.intents:
                    answer = self._queued(attempt)
                return attempt, answer
            if answer is None and attempt.purpose == _REPLY and not self._resent(attempt):
                answer = attempt
        return None, None

    def _queued(self, inbound: Attempt) -> Attempt | None:
        """A reply in this case's outbox, journaled after *inbound*, to the person reached."""
        return next(
            (
                intent
                for intent in self.history.intents.values()
                if intent.purpose == _REPLY
                and inbound.at <= intent.at <= self.at
                and not self._resent(intent)
                and self._from_reached(intent)
            ),
            None,
        )

    def _resent(self, attempt: Attempt) -> bool:
        """True when *attempt* is the intent this judgment sends again under its key
        (`resending`): a message is not the answer that makes itself unnecessary."""
        return attempt.intent is not None and attempt.intent == self.resending

    def _from_reached(self, attempt: Attempt) -> bool:
        """True when *attempt* is with the person the proposal reaches (see `started`)."""
        if self.person is not None:
            return self.person_of(attempt) == self.person
        if attempt.party != self.party:
            return False
        if attempt.case is not None and attempt.case != self.case.id:  # on another loan
            debtor = self.debtor_history
            here = self.point.address if self.point is not None else "unknown"
            return debtor is not None and here != "unknown" and debtor.address(attempt) == here
        contact = self.proposal.contact
        if attempt.contact is None or contact is None:
            return attempt.contact == contact
        if attempt.contact == contact:
            return True
        address = self.point.address if self.point is not None else None
        if address is None or address == "unknown":
            return False
        try:
            return self.case.contact(attempt.contact).address == address
        except KeyError:
            return False

    def replying(self, within: timedelta | None = None) -> Attempt | None:
        """The contact the person started that a reply now would answer; ``None`` when
        there is none: they started none, our reply answered the latest already, or
        (with *within*) it came more than *within* before the moment judged.

        The one test of "a reply to a communication from the person" every rule
        reads (`started` says whose contacts and which replies count).
        """
        inbound, answer = self.started()
        if inbound is None or answer is not None:
            return None
        if within is not None and inbound.at < self.at - within:
            return None
        return inbound

    def settled(self) -> bool:
        """True when nothing on record takes effect after the moment judged.

        Every attempt, intent, consent, opt-out and notice on the case, and every attempt,
        opt-out and age notice on the debtor's other cases, is dated at or before it; no hold of the
        case starts, ends or is released after it; no consent's window opens or closes
        after it.  A rule that reads only such facts answers the same at every later
        moment, but for the windows of its own (`Rule.allows_until`).  Worked out once
        per judgment.
        """
        found = self._settled
        if found is None:
            found = self._settled = self._nothing_later()
        return found

    def _nothing_later(self) -> bool:
        at = self.at
        history = self.history
        if history.attempts and history.attempts[-1].at > at:  # a chain is in time order
            return False
        if history.opt_outs and history.opt_outs[-1].at > at:
            return False
        if history.intents and any(intent.at > at for intent in history.intents.values()):
            return False
        for consent in history.consents:
            if (
                consent.at > at
                or (consent.start is not None and consent.start > at)
                or (consent.until is not None and consent.until >= at)  # in it at its end
            ):
                return False
        case = self.case
        for moment in case.notices.values():
            if moment > at:
                return False
        for hold in case.holds:
            if (
                hold.started_at > at
                or (hold.ends_at is not None and hold.ends_at > at)
                or (hold.released_at is not None and hold.released_at > at)
            ):
                return False
        debtor = self.debtor_history
        return debtor is None or not (
            (debtor.attempts and debtor.attempts[-1].at > at)  # both kept in time order
            or (debtor.opt_outs and debtor.opt_outs[-1].at > at)
            or (debtor.ages and debtor.later_age_notice(at))
        )

    def moved(self, at: datetime) -> Judgement:
        """The same judgment at another moment."""
        return Judgement(self.case, self.history, self.proposal, at, _like=self)

    @property
    def debtor_history(self) -> DebtorHistory | None:
        """The contacts on every case of the debtor; ``None`` when this case is their only one.

        Asked of the engine once per judgment, when a rule first needs it.
        """
        found = self._debtor
        if found is False:
            source = self._debtor_source
            found = self._debtor = source() if source is not None else None
        assert found is not True
        return found

    def opt_outs(self, reach: StatementReach = "debtor") -> Sequence[Preference]:
        """The opt-outs that reach this case, oldest first.

        With *reach* ``debt``, the case's own.  With ``debtor``, also those
        recorded on the debtor's other cases: of a whole medium, or of an
        address this case has too (then named by this case's contact point for
        it, `Preference.case` naming where it was recorded); an opt-out of an
        address this case does not have reaches nothing here.
        """
        own = self.history.opt_outs
        if reach == "debt":
            return own
        found = self._opted
        if found is None:
            debtor = self.debtor_history
            found = own
            if debtor is not None and debtor.opt_outs:
                found = debtor.opt_outs_reaching(self.case, own)
            self._opted = found
        return found

    def inconvenient(self, reach: StatementReach = "debtor") -> tuple[tuple[time, time], ...]:
        """The local time spans named inconvenient: by the debtor, on this case (*reach*
        ``debt``) or on any of the debtor's cases (``debtor``), this case's first; and
        by the person the contact reaches, when not the debtor, on this case.

        The times a spouse or an executor named are inconvenient to them
        (12 CFR 1006.6(b)(1)(i): "inconvenient to the consumer" communicated
        with): they bind contacts with that person, not with the debtor."""
        if reach == "debtor" and self._named is not None:  # worked out once per judgment
            return self._named
        own = self.history.inconvenient
        person = self.person
        if person is not None and person != self.case.debtor.id:
            theirs = self.history.named_by.get(person, ())
            if theirs:
                own = (*own, *(span for span in theirs if span not in own))
        if reach == "debt":
            return own
        debtor = self.debtor_history
        found = own
        if debtor is not None and debtor.inconvenient:
            spans = list(own)
            for case_id, named in debtor.inconvenient.items():
                if case_id != self.case.id:
                    spans.extend(span for span in named if span not in spans)
            found = tuple(spans)
        self._named = found
        return found

    def local(self, moment: datetime) -> datetime:
        """*moment* in the calendar zone (in its own offset when nothing is known)."""
        zone = self.calendar_zone
        return moment.astimezone(zone) if zone is not None else moment

    def local_date(self, moment: datetime) -> date:
        """The calendar date of *moment* where the debtor is (remembered per judgment)."""
        day = self._days.get(moment)
        if day is None:
            day = self._days[moment] = self.local(moment).date()
        return day


#: What `Judgement.once` finds for a key not asked yet (``None`` may be an answer).
_ASKED_NOT: Final = object()
#: The purpose of a reply (`Purpose.REPLY`), read while walking a history.
_REPLY: Final = Purpose.REPLY


def _zones_of(case: Case) -> tuple[ZoneInfo, ...]:
    zone = case.debtor.timezone
    if zone is not None:
        return (zone,)
    found: dict[str, ZoneInfo] = {}
    for point in case.contacts:
        if point.party == Party.DEBTOR and point.channel in _PHONE_CHANNELS:
            for candidate in zones_for_address(point.address):
                found.setdefault(candidate.key, candidate)
    return tuple(found[key] for key in sorted(found))
