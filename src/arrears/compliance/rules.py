"""Rule kinds: the reusable building blocks every compliance pack is made of.

A rule is a small, frozen pydantic model: its parameters are fields, so a
lender overrides one (``limit=5``) and gets it validated, and the docs list
them.  `Rule.check` looks at one `Judgement` and returns ``None`` to allow or
a `Reason` to deny, carrying the values it compared and, when time alone will
lift the denial, the earliest moment it would allow (``retry_at``).

Write a new rule in Python by subclassing `Rule` (fields are its parameters)
or with the `rule` decorator on a function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..addresses import is_place_zone
from ..case import Channel, ContactPoint, Hold, HoldKind, Outcome, Party, Relationship
from .history import OPT_OUT_COVERS, Attempt, DebtorHistory, Preference
from .model import Judgement, Purpose, Reason, Role, StatementReach

if TYPE_CHECKING:
    import holidays

__all__ = [
    "SCOPE_ORDERS",
    "AutomatedNeedsConsent",
    "ContactHours",
    "FieldVisitStaffing",
    "ForbiddenWording",
    "FrequencyCap",
    "FunctionRule",
    "HoldBlocks",
    "LimitedContent",
    "MediumNeedsConsent",
    "MediumOptOut",
    "NoContactOnHolidays",
    "NoExposure",
    "NoticeRequired",
    "PassiveReporting",
    "PlaceRestriction",
    "RecordRetention",
    "ReplyNeedsContact",
    "RepresentedByAttorney",
    "RequiredWording",
    "Rule",
    "SelfIdentification",
    "ThirdPartyLocationOnly",
    "ThirdPartyWhenUnreachable",
    "TimeBarred",
    "ValidationNoticeDue",
    "WorkEmailNeedsConsent",
    "business_days_after",
    "earliest_local",
    "local_moment",
    "opted_out_since",
    "recorded_over",
    "rule",
    "validation_period_end",
]

RULE_ID: Final = r"^[A-Z][A-Z0-9]*(-[A-Za-z0-9]+)*$"
_HORIZON: Final = timedelta(days=8)


# -- local time -------------------------------------------------------------------
@lru_cache(maxsize=8192)
def earliest_local(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant on *day*, in *zone*, whose wall-clock time is *wall* or later.

    A wall time in a DST gap (02:30 on the night clocks spring forward) does
    not exist: the answer is the instant the gap ends.  In a fold (the hour
    that repeats) it is the first of the two.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=1 reads the wall time with the offset after the change (an
    # earlier instant, before the gap); fold=0 with the one before (after it).
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0).astimezone(zone)


def _in_span(moment: time, start: time, end: time) -> bool:
    """True when *moment* is in [start, end); a span may wrap midnight (22:00-08:00)."""
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def _span_end(local: datetime, start: time, end: time, zone: ZoneInfo) -> datetime:
    """The first instant after *local* (inside the span) where the span is over."""
    day = local.date()
    if start > end and local.time() >= start:
        day += timedelta(days=1)
    return earliest_local(day, end, zone)


def local_moment(day: date, wall: time, zone: ZoneInfo | None, like: datetime) -> datetime:
    """`earliest_local` in *zone*; with no zone known, *wall* on *day* in *like*'s own offset."""
    if zone is None:
        assert like.tzinfo is not None
        return datetime.combine(day, wall, tzinfo=like.tzinfo)
    return earliest_local(day, wall, zone)


_MIDNIGHT: Final = time(0)


def _day_start(day: date, zone: ZoneInfo | None, like: datetime) -> datetime:
    return local_moment(day, _MIDNIGHT, zone, like)


def business_days_after(start: date, count: int, calendar: holidays.HolidayBase) -> date:
    """The date *count* business days after *start*, skipping weekends and *calendar*'s holidays."""
    day = start
    left = count
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in calendar:
            left -= 1
    return day


def validation_period_end(sent: date, *, receipt_days: int = 5, period_days: int = 30) -> date:
    """The end of the Reg F validation period for a notice sent on *sent* (12 CFR 1006.34(b)(5)).

    The consumer is assumed to receive the notice *receipt_days* days after it
    was sent, not counting weekends and US federal holidays; the period ends
    *period_days* days after receipt.

    >>> validation_period_end(date(2026, 11, 20))   # a Friday; Thanksgiving on the 26th
    datetime.date(2026, 12, 30)
    """
    import holidays  # here, not at the top: the calendars load when first needed

    calendar = holidays.country_holidays("US")  # each year's holidays load when first asked
    return business_days_after(sent, receipt_days, calendar) + timedelta(days=period_days)


# -- consent and opt-out: who said what about which medium --------------------------
_ELECTRONIC: Final = frozenset({Channel.SMS, Channel.EMAIL})


def _address_of(j: Judgement, contact: str | None) -> str | None:
    """The address of the case's contact point *contact* (``None`` when unknown)."""
    if contact is None:
        return None
    if j.point is not None and j.point.id == contact:
        return j.point.address
    try:
        return j.case.contact(contact).address
    except KeyError:
        return None


def _same_address(j: Judgement, named: str | None, contact: str | None) -> bool:
    """True when *named* is *contact*, or another contact point with the same address."""
    if named is None or named == contact:
        return True
    address = _address_of(j, contact)
    return address is not None and address != "unknown" and _address_of(j, named) == address


def _party_of(j: Judgement, contact: str | None) -> str:
    """Whom contact point *contact* reaches; the debtor when none is named."""
    if contact is None:
        return Party.DEBTOR
    if j.point is not None and j.point.id == contact:
        return j.point.party
    try:
        return j.case.contact(contact).party
    except KeyError:
        return Party.DEBTOR


def _in_window(consent: Preference, moment: datetime, default: timedelta | None) -> bool:
    begin, end = consent.window(default)
    return begin <= moment and (end is None or moment <= end)


def _covers(medium: str, channel: str) -> bool:
    """A preference about *medium* is about a contact on *channel* (calls cover voicemail)."""
    covered = OPT_OUT_COVERS.get(medium)
    return channel == medium if covered is None else channel in covered


def _opt_out(
    j: Judgement, channel: str, contact: str | None, reach: StatementReach = "debtor"
) -> tuple[datetime, str] | None:
    """The latest opt-out that covers *channel* at *contact*: when, and of which medium.

    An opt-out of calls covers voicemail; an opt-out naming one contact point covers
    every contact point with the same address; a contact point recorded as opted
    out counts from the case's opening.  With *reach* ``debtor``, an opt-out
    recorded on another of the debtor's cases counts too (`Judgement.opt_outs`).
    """
    for opt_out in reversed(j.opt_outs(reach)):
        if (
            _covers(opt_out.channel, channel)
            and _same_address(j, opt_out.contact, contact)
            and opt_out.binds(j.person)
        ):
            return opt_out.at, opt_out.channel
    address = _address_of(j, contact)
    for point in j.case.contacts:
        if (
            point.opted_out
            and _covers(point.channel, channel)
            and (
                point.id == contact
                or (address not in (None, "unknown") and point.address == address)
            )
        ):
            return j.case.opened_at or j.at, point.channel
    return None


def consent_applies(
    j: Judgement,
    consent: Preference,
    scope: str,
    channel: str,
    contact: str | None,
    party: str,
    moment: datetime,
) -> bool:
    """True when *consent* answers *scope* for a contact on *channel* at *contact*.

    The consent must be for that scope, given by the person reached (a consent
    naming no contact point is the debtor's), about the medium (a consent to
    calls covers voicemail) and the address, and not revoked by an opt-out
    covering the contact between it and *moment*, on any of the debtor's cases
    (a revocation reaches the person).  Its window is the caller's.
    """
    if not consent.scoped(scope) or not _covers(consent.channel, channel):
        return False
    if not _same_address(j, consent.contact, contact) or _party_of(j, consent.contact) != party:
        return False
    for opt_out in reversed(j.opt_outs()):
        if opt_out.at <= consent.at:
            break
        if (
            opt_out.at <= moment
            and _covers(opt_out.channel, channel)
            and _same_address(j, opt_out.contact, contact)
            and opt_out.binds(j.person)
        ):
            return False
    return True


def opted_out_since(j: Judgement, reach: StatementReach = "debtor") -> tuple[datetime, str] | None:
    """When the person opted out of the proposal's medium or address, and of which medium.

    ``None`` when they did not, or a later consent for the ``medium`` restored it
    (a consent to be called back now does not).  With *reach* ``debtor`` (the
    default), an opt-out recorded on any of the debtor's cases counts, matched
    by address (`Judgement.opt_outs`); ``debt``: this case's own.
    """
    proposal = j.proposal
    found = _opt_out(j, proposal.channel, proposal.contact, reach)
    if found is None:
        return None
    since, _ = found
    for consent in reversed(j.history.consents):
        if consent.at <= since:
            break
        if (
            consent.at <= j.at
            and _in_window(consent, j.at, None)
            and consent_applies(
                j, consent, "medium", proposal.channel, proposal.contact, j.party, j.at
            )
        ):
            return None
    return found


def _debtors(
    j: Judgement, as_debtor: frozenset[Relationship], as_debtor_minor: frozenset[Relationship]
) -> frozenset[Relationship]:
    """*as_debtor*, with *as_debtor_minor* while the debtor is a minor (`Rule.debtors`)."""
    if as_debtor_minor and j.debtor_minor():
        return as_debtor | as_debtor_minor
    return as_debtor


# -- the base ------------------------------------------------------------------------
class Rule(BaseModel):
    """A compliance rule: one check of a proposed contact, with its citation.

    Attributes:
        id: Unique within a set of packs, e.g. ``"US-7IN7"``.
        citation: The source: a regulation and section; ``[confirm]`` when the
            numbers come from secondary reports.
        title: What the rule does, in one line.
        enabled: A disabled rule judges nothing (a lender's override may turn
            one off or on).
        channels: The proposed channels it judges; all when ``None``.
        parties: The parties it judges (debtor, third party, employer); all when ``None``.
        purposes: The purposes it judges; all when ``None``.
        exempt: Purposes it never judges (e.g. a reply during breathing space).
        roles: The lender roles the rule binds (`Role`); every role when ``None``.
        as_debtor: Relationships (`arrears.case.Relationship`) whose persons this
            rule judges and counts as the debtor: who its law counts as the
            consumer (Regulation F's spouse, guardian, executor for 1006.6).
            A person of another relationship is the party their contact point says.
        as_debtor_minor: Relationships whose persons this rule counts as the debtor
            only while the debtor is recorded as a minor, on any of their cases
            (`Judgement.debtor_minor`): Regulation F's parent of a consumer who is
            a minor, 1006.6(a)(2).  Otherwise they are the party their contact
            point says (a third party), the reading that protects the debtor.
    """

    # defer_build: a rule kind's validator is built when the first rule of the
    # kind is made, so that the kinds no pack in use names cost nothing at import.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    #: Set by subclasses that judge only automated contacts and the like.
    kind: ClassVar[str] = "rule"

    id: str = Field(pattern=RULE_ID)
    citation: str = Field(min_length=1)
    title: str = ""
    enabled: bool = True
    channels: frozenset[Channel] | None = None
    parties: frozenset[Party] | None = None
    purposes: frozenset[str] | None = None
    exempt: frozenset[str] = frozenset()
    roles: frozenset[Role] | None = None
    as_debtor: frozenset[Relationship] = frozenset()
    as_debtor_minor: frozenset[Relationship] = frozenset()

    def binds(self, role: str | None) -> bool:
        """True when the rule binds a lender in *role*; every rule binds when it is ``None``."""
        return role is None or self.roles is None or role in self.roles

    def party_seen(self, party: str, relationship: str | None, minor: bool = False) -> str:
        """The party this rule judges a contact with *party* of *relationship* as:
        the debtor when the relationship is one of ``as_debtor``, or, when the
        debtor is a *minor*, one of ``as_debtor_minor``."""
        if relationship is not None and (
            relationship in self.as_debtor or (minor and relationship in self.as_debtor_minor)
        ):
            return Party.DEBTOR
        return party

    def debtors(self, j: Judgement) -> frozenset[Relationship]:
        """The relationships this rule counts as the debtor in judgment *j*:
        ``as_debtor``, with ``as_debtor_minor`` while the debtor is a minor."""
        return _debtors(j, self.as_debtor, self.as_debtor_minor)

    def seen(self, j: Judgement) -> str:
        """The party this rule judges *j*'s contact as (`party_seen`)."""
        relationship = j.relationship
        minor = (
            relationship is not None and relationship in self.as_debtor_minor and j.debtor_minor()
        )
        return self.party_seen(j.party, relationship, minor)

    def in_scope(self, channel: str, party: str, purpose: str) -> bool:
        """True when the rule is on and judges contacts on *channel* to *party* for *purpose*.

        `Compliance` asks once per combination and remembers the answer.
        """
        return (
            self.enabled
            and (self.channels is None or channel in self.channels)
            and (self.parties is None or party in self.parties)
            and (self.purposes is None or purpose in self.purposes)
            and purpose not in self.exempt
        )

    def admits(self, j: Judgement) -> bool:
        """Whether a proposal in scope is judged at all (kinds narrow it further)."""
        return True

    def admits_every(self) -> bool:
        """True when `admits` says yes to every proposal in scope, whatever it is: the
        kind narrows nothing, or this rule's parameters leave it nothing to narrow.
        `Compliance` then does not ask it, judgment after judgment (the rule is frozen:
        the answer holds as long as the rule)."""
        return type(self).admits is Rule.admits

    def applies(self, j: Judgement) -> bool:
        """True when this rule judges the proposal at all: in scope, and admitted."""
        proposal = j.proposal
        party = self.seen(j)
        return self.in_scope(proposal.channel, party, proposal.purpose) and self.admits(j)

    def check(self, j: Judgement) -> Reason | None:
        """``None`` to allow, a `Reason` to deny."""
        raise NotImplementedError

    def allows_until(self, j: Judgement) -> datetime | None:
        """Until when this rule still allows the contact it allows at ``j.at``, all else
        unchanged: it allows at every moment from ``j.at`` up to (not including) the
        answer; ``None`` when it allows at every later moment.

        `Compliance` asks it while it looks for a denied contact's next allowed moment
        (`Verdict.next_allowed_at`), for the rules that allowed: a later candidate
        moment judges again only the rules whose allowance has run out by then, and
        those that denied (a denial holds until its ``retry_at``).  The answer may be
        early, never late: this default, ``j.at``, has the rule judged again at every
        candidate.  A kind whose answer changes with the time only in ways it can state
        says so here (`Judgement.settled` tells when nothing on record changes later).
        """
        return j.at

    def deny(self, message: str, *, retry_at: datetime | None = None, **values: Any) -> Reason:
        """A `Reason` from this rule."""
        return Reason(self.id, self.citation, message, values, retry_at)

    def parameters(self) -> dict[str, Any]:
        """The rule's parameters (everything but id, citation and title), for docs."""
        return self.model_dump(exclude={"id", "citation", "title"}, mode="json")


class FunctionRule(Rule):
    """A rule written as a Python function (see `rule`)."""

    function: Callable[[Judgement], Reason | str | None] = Field(exclude=True)

    def check(self, j: Judgement) -> Reason | None:
        """Call the function; a string it returns becomes the denial's message."""
        outcome = self.function(j)
        if isinstance(outcome, str):
            return self.deny(outcome)
        return outcome


def rule(
    id: str, citation: str, *, title: str = "", **scope: Any
) -> Callable[[Callable[[Judgement], Reason | str | None]], FunctionRule]:
    """Turn a function ``(judgement) -> None | str | Reason`` into a rule.

    >>> @rule("LENDER-NO-SUNDAY", "Lender policy 4.2", channels={"call"})
    ... def no_sunday(j):
    ...     if j.local(j.at).weekday() == 6:
    ...         return "no calls on Sunday"
    ...     return None
    """

    def wrap(function: Callable[[Judgement], Reason | str | None]) -> FunctionRule:
        doc = (function.__doc__ or "").strip()
        return FunctionRule(
            id=id,
            citation=citation,
            title=title or (doc.splitlines()[0] if doc else ""),
            function=function,
            **scope,
        )

    return wrap


# -- time of day ---------------------------------------------------------------------
def _hhmm(moment: time) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"  # strftime("%H:%M"), faster


class ContactHours(Rule):
    """Contact only inside a window of the debtor's local time, and never at times they named.

    When the debtor's time zone is unknown, the contact must be inside the
    window in every zone their phone numbers admit; with no zone at all it is
    denied until the location is known.  A direct consent for ``hours`` lifts
    the rule inside the window it names, or for ``consent_minutes`` after it
    when it names none (a consent to be contacted now).

    Attributes:
        start: The window opens (local time).
        end: The window closes (local time; a contact at ``end`` is outside).
        consent_minutes: How long a consent that names no end lifts the rule; 0: only
            consents with a stated window do.
        consent_lifts: Whether a direct consent lifts the rule at all; ``False`` for a
            law with no such exception (a lender may relax it in its overrides).
        honour_named_times: Also refuse the times the debtor named as inconvenient.
        named_times_reach: Which named times count: those named on any of the
            debtor's cases (``debtor``: the person named them, whichever debt
            the call was about), or only on this one (``debt``).
        work: Judge only contact points at work (True), only the others
            (False), or all (None).
    """

    start: time = time(8, 0)
    end: time = time(21, 0)
    consent_minutes: int = Field(default=60, ge=0)
    consent_lifts: bool = True
    honour_named_times: bool = True
    named_times_reach: StatementReach = "debtor"
    work: bool | None = None

    def admits(self, j: Judgement) -> bool:
        """Only contact points at work, or only the others, when ``work`` says so."""
        return self.work is None or j.at_work == self.work

    def admits_every(self) -> bool:
        """True without ``work`` (and a kind of its own that does not narrow `admits`)."""
        return self.work is None and type(self).admits is ContactHours.admits

    @cached_property
    def _default_window(self) -> timedelta | None:
        return timedelta(minutes=self.consent_minutes) if self.consent_minutes else None

    def _consented(self, j: Judgement) -> bool:
        """A direct consent for ``hours`` whose window holds this contact."""
        if not self.consent_lifts or not j.history.consents:
            return False
        default = self._default_window
        if default is None and not any(c.until is not None for c in j.history.consents):
            return False
        proposal = j.proposal
        at = j.at
        return any(
            consent.at <= at
            # With no default, a consent that names no end lifts nothing (not forever).
            and (default is not None or consent.until is not None)
            and _in_window(consent, at, default)
            and consent_applies(
                j, consent, "hours", proposal.channel, proposal.contact, j.party, at
            )
            for consent in j.history.consents
        )

    def _problem(
        self, j: Judgement, at: datetime
    ) -> tuple[datetime, datetime, tuple[time, time] | None] | None:
        """The first zone where *at* is inconvenient: when that ends, the local
        time there, and the named span it falls in (``None``: outside the window)."""
        start, end = self.start, self.end
        for zone in j.zones:
            local = at.astimezone(zone)
            wall = local.time()
            if not (start <= wall < end):
                day = local.date() if wall < start else local.date() + timedelta(days=1)
                return earliest_local(day, start, zone), local, None
            if self.honour_named_times:
                for span in j.inconvenient(self.named_times_reach):
                    if _in_span(wall, *span):
                        return _span_end(local, *span, zone), local, span
        return None

    def check(self, j: Judgement) -> Reason | None:
        """Deny outside the window (or in a named span) in any zone the debtor may be in.

        Two rules of this kind with the same window (Regulation F's and a state's)
        judge alike: the finding is worked out once per judgment and shared.
        """
        found = j.once(self._shared, self._finding, j)
        if found is None:
            return None
        message, retry, values = found
        return self.deny(message, retry_at=retry, **values)

    def _finding(self, j: Judgement) -> tuple[str, datetime | None, dict[str, Any]] | None:
        """``None`` when the contact is inside the window; else the denial's message,
        retry time and values."""
        if not j.zones:
            if self._consented(j):
                return None
            return (
                "the debtor's location is unknown: no time zone, and no phone number that "
                "gives one",
                None,
                {},
            )
        problem = self._problem(j, j.at)
        if problem is None or self._consented(j):
            return None
        moment, local, span = problem
        retry: datetime | None = None
        while moment - j.at <= _HORIZON:
            later = self._problem(j, moment)
            if later is None:
                retry = moment
                break
            moment = later[0]
        zone = str(local.tzinfo)  # a ZoneInfo's str is its key
        where = f"{_hhmm(local.time())} local time in {zone} is"
        if span is None:
            message = f"{where} outside {self._window}"
        else:
            message = f"{where} within {_hhmm(span[0])}-{_hhmm(span[1])}, named inconvenient"
        values = {"window": self._window, "local_time": local.isoformat(), "zone": zone}
        return message, retry, values

    @cached_property
    def _window(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    @cached_property
    def _shared(self) -> tuple[Any, ...]:
        """The key of the finding rules of this kind with the same window share
        (`Judgement.once`): made once, the rule being frozen."""
        return (
            type(self),
            self.start,
            self.end,
            self.consent_minutes,
            self.consent_lifts,
            self.honour_named_times,
            self.named_times_reach,
        )


# -- how often -------------------------------------------------------------------------
# Read once: on Python 3.11 each read of an enum member (``Party.DEBTOR``) goes through
# a descriptor, and the caps read these for every attempt in their window.
_DEBTOR: Final = Party.DEBTOR
_EMPLOYER: Final = Party.EMPLOYER
_UNKNOWN: Final = Outcome.UNKNOWN
_CONVERSATION: Final = Outcome.CONVERSATION
_CALLS: Final = frozenset({Channel.CALL, Channel.VOICEMAIL})
_PLACED: Final = frozenset(
    {Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.CONVERSATION, Outcome.WRONG_PARTY}
)


def _foreign_address(j: Judgement, attempt: Attempt) -> str | None:
    """The address of the contact point an attempt on another of the debtor's cases used."""
    debtor = j.debtor_history
    return debtor.address(attempt) if debtor is not None else None


def _same_number(j: Judgement, attempt: Attempt) -> bool:
    """True when an attempt on another of the debtor's cases used the proposal's address."""
    point = j.point
    if point is None or point.address == "unknown":
        return False
    return _foreign_address(j, attempt) == point.address


def _came_from_there(j: Judgement, started: Attempt) -> bool:
    """True when the contact the person *started* came by the proposal's medium from the
    address the proposal goes to (compared by address when it was recorded on another of
    the debtor's cases): a contact recorded without a contact point came from nowhere known."""
    return (
        started.channel == j.proposal.channel
        and started.contact is not None
        and (
            _same_address(j, started.contact, j.proposal.contact)
            if started.case is None or started.case == j.case.id
            else _same_number(j, started)  # recorded on another of the debtor's loans
        )
    )


def _local_contact(j: Judgement, attempt: Attempt) -> str | None:
    """The judged case's contact point for *attempt*'s address (its own id on this case)."""
    if attempt.case is None or attempt.case == j.case.id:
        return attempt.contact
    address = _foreign_address(j, attempt)
    if address is None:
        return None
    for point in j.case.contacts:
        if point.address == address:
            return point.id
    return None


#: How wide each scope of a `FrequencyCap` counts, narrowest first: a lender's override
#: may move a pack's rule later in each order (count more), never earlier.
SCOPE_ORDERS: Final[Mapping[str, tuple[str, ...]]] = {
    "per": ("contact", "person", "case"),
    "across": ("debt", "debtor"),
}


def _days_start(j: Judgement, days: int) -> datetime:
    """The start of the *days* calendar days ending with the judged moment's, in the
    debtor's calendar (once per judgment: caps and quiet days often share it)."""

    return j.once(("days", days), _first_day_start, j, days)


def _first_day_start(j: Judgement, days: int) -> datetime:
    first = j.local_date(j.at) - timedelta(days=days - 1)
    return _day_start(first, j.calendar_zone, j.at)


#: The weekday a calendar week starts on (`FrequencyCap.week_starts`), as `date.weekday`.
_WEEK_STARTS: Final[Mapping[str, int]] = {"monday": 0, "sunday": 6}


def _week_first(j: Judgement, starts: str) -> date:
    """The first day of the calendar week holding the judged moment's day, in the
    debtor's calendar, the week starting on *starts*."""
    today = j.local_date(j.at)
    return today - timedelta(days=(today.weekday() - _WEEK_STARTS[starts]) % 7)


def _week_start(j: Judgement, starts: str) -> datetime:
    """The start of the calendar week holding the judged moment (`_week_first`): local
    midnight of its first day, whatever the offset that day (once per judgment)."""
    return j.once(("week", starts), _week_first_start, j, starts)


def _week_first_start(j: Judgement, starts: str) -> datetime:
    return _day_start(_week_first(j, starts), j.calendar_zone, j.at)


def _numbers(j: Judgement, as_debtor: frozenset[Relationship]) -> frozenset[str]:
    """The addresses of the contact points of the person judged, the persons of the
    *as_debtor* relationships counting as the debtor (`_CapScope.numbers`)."""
    if j.party == _DEBTOR or j.relationship in as_debtor:
        points = [
            point
            for point in j.case.contacts
            if point.party == _DEBTOR
            or (as_debtor and j.relationship_of(point.person) in as_debtor)
        ]
    elif j.person is not None:
        points = [point for point in j.case.contacts if point.person == j.person]
    else:
        points = [j.point] if j.point is not None else []
    return frozenset(point.address for point in points if point.address != "unknown")


def _landlines(j: Judgement) -> frozenset[str]:
    """The addresses the judged case knows only as landlines: every contact point of
    the case with the address is marked `arrears.case.ContactPoint.landline`."""
    marked = {point.address for point in j.case.contacts if point.landline}
    other = {point.address for point in j.case.contacts if not point.landline}
    return frozenset(marked - other - {"unknown"})


def _to_landline(j: Judgement, attempt: Attempt) -> bool:
    """True when *attempt* was placed to a landline: a number the judged case knows only
    as one (`_landlines`), on its own contact points or, for an attempt recorded on
    another of the debtor's cases, by address; else a contact point of its own marked
    `arrears.case.ContactPoint.landline` whose number is unknown.  An attempt with no
    contact point, or to a number not marked, may have rung a mobile."""
    own = attempt.case is None or attempt.case == j.case.id
    if own and attempt.contact is None:
        return False
    address = _address_of(j, attempt.contact) if own else _foreign_address(j, attempt)
    if address is None:
        return False
    if address == "unknown":
        return own and j.case.contact(attempt.contact or "").landline
    return address in j.once(("landlines",), _landlines, j)


def _at_residence(point: ContactPoint) -> bool:
    """True for a number at the residence: a landline not at work (a number that may be
    a mobile rings wherever its owner is)."""
    return point.landline and not point.work and point.party != _EMPLOYER


def _residence_points(j: Judgement) -> tuple[frozenset[str], frozenset[str]]:
    """The ids and the addresses of the case's contact points at the residence."""
    points = [point for point in j.case.contacts if _at_residence(point)]
    return frozenset(point.id for point in points), frozenset(point.address for point in points)


def _own_attempts(j: Judgement, since: datetime) -> Sequence[Attempt]:
    """The case's attempts at or after *since* and its open intents (`ContactHistory.intents`)
    dated then or later, in time order, but the intent the judgment sends again
    (`Judgement.resending`)."""
    history = j.history
    attempts = history.since(since)
    if not history.intents:  # the usual judgment: nothing planned and not yet settled
        return attempts
    intents = [
        intent
        for intent in history.intents.values()
        if intent.at >= since and intent.intent != j.resending
    ]
    if not intents:
        return attempts
    # Stable: at one moment the recorded attempts first, then the intents in journal order.
    return sorted([*attempts, *intents], key=_moment_of)


def _moment_of(attempt: Attempt) -> float:
    return attempt.at.timestamp()


def _counted(
    j: Judgement, debtor: DebtorHistory, across: str, since: datetime
) -> Sequence[Attempt]:
    """The attempts about the debtor's cases a cap counting *across* may count, at or
    after *since* (`DebtorHistory.counted`), but the intent the judgment sends again."""
    return _but_resent(j, debtor.counted(j.case.id, across, since))


def _but_resent(j: Judgement, attempts: Sequence[Attempt]) -> Sequence[Attempt]:
    """*attempts* without the case's intent the judgment sends again (`Judgement.resending`)."""
    key, here = j.resending, j.case.id
    if key is None:
        return attempts
    return [a for a in attempts if not (a.intent == key and a.case == here)]


@dataclass(frozen=True, slots=True)
class _CapScope:
    """Whom and where a `FrequencyCap` counts: its ``per``, ``work`` and ``residence``, and
    the relationships it counts as the debtor, read once from the frozen rule.

    The test runs for every attempt in the cap's window, and a read of a rule's field
    goes through the attribute hook of a pydantic model, several times the cost of a
    plain slot's.
    """

    per: str
    work: bool | None
    residence: bool | None
    as_debtor: frozenset[Relationship]
    as_debtor_minor: frozenset[Relationship]

    def same(self, j: Judgement, attempt: Attempt) -> bool:
        """True when *attempt* counts for the person, contact point or case judged, at
        (or off) work and at (or away from) the residence as the cap says."""
        case = attempt.case
        own = case is None or case == j.case.id
        if self.work is not None:  # first: it settles most attempts of a cap at (or off) work
            if own:
                at_work = attempt.party == _EMPLOYER or attempt.contact in j.work_contacts
            else:
                at_work = attempt.party == _EMPLOYER or _foreign_address(j, attempt) in {
                    point.address for point in j.case.contacts if point.work
                }
            if at_work != self.work:
                return False
        if self.residence is not None:
            homes = j.once(("residence",), _residence_points, j)
            if own:
                at_home = attempt.contact is not None and attempt.contact in homes[0]
            else:
                at_home = _foreign_address(j, attempt) in homes[1]
            if at_home != self.residence:
                return False
        if self.per == "case":
            return True
        if self.per == "contact" and (contact := j.proposal.contact) is not None:
            if own:  # the same point, or another of the case's points with its number
                return attempt.contact == contact or (
                    attempt.contact is not None and _same_address(j, attempt.contact, contact)
                )
            return _same_number(j, attempt)
        as_debtor = _debtors(j, self.as_debtor, self.as_debtor_minor)
        if j.party == _DEBTOR or j.relationship in as_debtor:
            return attempt.party == _DEBTOR or (
                bool(as_debtor) and j.relationship_of(j.person_of(attempt)) in as_debtor
            )
        if j.person is not None and (person := j.person_of(attempt)) is not None:
            return person == j.person
        if own:
            return attempt.contact == j.proposal.contact and attempt.party == j.party
        return attempt.party == j.party and _same_number(j, attempt)

    def numbers(self, j: Judgement) -> frozenset[str]:
        """The numbers of the person judged (``per="person"``): the addresses of every
        contact point of theirs on the case; none for the other scopes.  Worked out
        once per judgment for the caps that count the same persons as the debtor."""
        if self.per != "person" or self.work is not None or self.residence is not None:
            return frozenset()
        as_debtor = _debtors(j, self.as_debtor, self.as_debtor_minor)
        return j.once(("numbers", as_debtor), _numbers, j, as_debtor)

    def rang(self, j: Judgement, attempt: Attempt) -> bool:
        """True when *attempt* was placed to one of the numbers of the person judged
        (`numbers`), whomever it was meant for: a number two persons share rings
        for both."""
        numbers = self.numbers(j)
        if not numbers:
            return False
        if attempt.case is None or attempt.case == j.case.id:
            return _address_of(j, attempt.contact) in numbers
        return _foreign_address(j, attempt) in numbers


class FrequencyCap(Rule):
    """At most ``limit`` counted contacts in a window; quiet days after a conversation.

    The window is ``days`` calendar days in the debtor's local time, today
    included ("7 consecutive days"), or the ``hours`` elapsed hours before the
    contact (a contact made exactly ``hours`` hours earlier has left it).  With
    ``week_starts`` (``days`` 7), it is the calendar week holding the contact
    instead, from local midnight of its first day (a Monday or a Sunday) in the
    debtor's time: the count starts again each week, and a denied contact is
    allowed again at the next week's start, whatever the offset that day.
    What counts: attempts on ``counted_channels`` whose outcome is in
    ``counted_outcomes`` or is ``unknown`` (a message that may have reached
    them: `arrears.case.Outcome.UNKNOWN`), to the same person (``per="person"``: the debtor
    across all their numbers, with the persons of the ``as_debtor`` relationships; a
    third party across the contact points that name them, or the one contact point
    that names no person), the same contact point (``per="contact"``: the same
    number or address, whichever case it is recorded on) or anyone on the case
    (``per="case"``).  Per person, a call placed to one of the person's numbers counts
    for them whomever it was meant for: a number two persons share rings for both (a
    conversation is only with the person who had it).  A contact the person started
    (`Attempt.inbound`: an inbound call, a text from them) is not an attempt of ours
    and never counts;
    a conversation they started still begins the ``quiet_days``.

    Which debts' contacts count is ``across``: ``"debt"`` counts the contacts
    about this case, those recorded on it and those recorded on another of the
    debtor's cases that were about it too (`Attempt.about`: a call about two
    loans counts toward each); ``"debtor"`` counts the contacts on every case
    of the debtor with this lender.  ``scope_reason`` says why, from the
    citation.  A lender's override may widen ``per`` (contact, person, case)
    or ``across`` (debt, debtor) of a pack's rule, never narrow them
    (`arrears.compliance.Compliance`).

    Attributes:
        limit: The most counted contacts allowed in the window, this one included.
        days: A window of calendar days, today included.
        hours: A window of hours, instead of days.
        week_starts: With ``days`` 7, the window is the calendar week starting on
            this day (``monday`` or ``sunday``) in the debtor's time, not any seven
            consecutive days; ``None``: the rolling window.  Any seven days hold
            every calendar week, whichever day it starts on: the rolling window is
            the stricter reading, a lender's to relax where the law says "calendar
            week".
        per: Whom the count is for.
        across: Which debts' contacts count: this one (``debt``) or all the
            debtor's (``debtor``).
        scope_reason: Why the count is over ``per`` and ``across``, from the source.
        counted_channels: The channels whose attempts count.
        counted_outcomes: The outcomes that count.
        noun: How the message names what is counted ("calls").
        quiet_days: After a conversation, no contact until this many days
            have passed, the conversation's day being day 1; 0 for none.
        consent_exempt_days: Calls placed with the person's direct consent for
            ``calls`` (inside the window it names) within this many days of it,
            its day being day 1, neither count nor are limited; 0 for none.
        consent_minutes: The window of a consent that names no end: this many
            minutes from its start (a consent to be called now).
        work: Count and judge only contact points at work (True), only the others (False).
        residence: Count and judge only the numbers at the residence (True): a contact
            point marked `arrears.case.ContactPoint.landline` and not at work; or only
            the numbers away from it (False): those at work, and every number that may
            be a mobile, which rings wherever its owner is.  A contact with no contact
            point is judged by both.  ``None``: no such split.
        mobile: Judge and count only numbers that may be mobiles: not a contact point
            marked `arrears.case.ContactPoint.landline` (a contact with no contact point
            is judged and counted).  Per person, the attempts on the person's
            landlines do not count toward the cap of their mobiles
            (`_to_landline`).
        relationships: Judge only contacts with the persons of these relationships
            (`arrears.case.Relationship`: a member of the debtor's household); every
            person when ``None``.  A contact point that names no person has none.
    """

    limit: int = Field(ge=0)
    days: int | None = Field(default=None, ge=1)
    hours: int | None = Field(default=None, ge=1)
    week_starts: Literal["monday", "sunday"] | None = None
    per: Literal["person", "contact", "case"] = "person"
    across: Literal["debt", "debtor"] = "debt"
    scope_reason: str = ""
    counted_channels: frozenset[Channel] = _CALLS
    counted_outcomes: frozenset[Outcome] = _PLACED
    noun: str = "calls"
    quiet_days: int = Field(default=0, ge=0)
    consent_exempt_days: int = Field(default=0, ge=0)
    consent_minutes: int = Field(default=60, ge=0)
    work: bool | None = None
    residence: bool | None = None
    mobile: bool = False
    relationships: frozenset[Relationship] | None = None

    @model_validator(mode="after")
    def _one_window(self) -> Self:
        if (self.days is None) == (self.hours is None):
            raise ValueError("give exactly one of days and hours for the window")
        if self.week_starts is not None and self.days != 7:
            raise ValueError(
                f"week_starts: got {self.week_starts!r}, expected none with a window of "
                f"days {self.days} and hours {self.hours}: a calendar week is days 7"
            )
        return self

    def admits_every(self) -> bool:
        """True when none of ``mobile``, ``residence``, ``relationships`` and ``work``
        narrows the contacts judged (and a kind of its own does not narrow `admits`)."""
        return (
            type(self).admits is FrequencyCap.admits
            and not self.mobile
            and self.residence is None
            and self.relationships is None
            and self.work is None
        )

    def admits(self, j: Judgement) -> bool:
        """Only contact points at work, or only the others, when ``work`` says so; only
        numbers not marked as landlines when ``mobile`` says so; only the persons of
        ``relationships`` when it names some."""
        if self.mobile and j.point is not None and j.point.landline:
            return False
        if (
            self.residence is not None
            and j.point is not None
            and _at_residence(j.point) != self.residence
        ):
            return False
        if self.relationships is not None and j.relationship not in self.relationships:
            return False
        return self.work is None or j.at_work == self.work

    def _attempts(self, j: Judgement, since: datetime) -> tuple[Sequence[Attempt], bool]:
        """The attempts at or after *since* that may count, and whether they span the debtor's
        cases: the case's own when it is the debtor's only one.

        The messages journaled as intended and not yet settled are among them (outcome
        ``unknown``), the case's own included: two steps of one review each sending an
        SMS are two SMS, the second judged knowing the first.  An intent sent again
        under its key (`Judgement.resending`) is not counted against itself.

        Worked out once per judgment: the caps of a pack with the same window, and
        the quiet days after a conversation, read the same attempts.
        """
        debtor = j.debtor_history
        if debtor is None:
            return j.once(("attempts", since), _own_attempts, j, since), False
        across = self.across
        return j.once(("attempts", since, across), _counted, j, debtor, across, since), True

    @cached_property
    def _scope(self) -> _CapScope:
        return _CapScope(self.per, self.work, self.residence, self.as_debtor, self.as_debtor_minor)

    def _window_start(self, j: Judgement) -> datetime:
        if self.hours is not None:
            # Elapsed hours: in UTC, so that a DST change neither adds nor removes one.
            return j.at.astimezone(UTC) - timedelta(hours=self.hours)
        if self.week_starts is not None:
            return _week_start(j, self.week_starts)
        assert self.days is not None
        return _days_start(j, self.days)

    def _consents(self, j: Judgement, since: datetime) -> list[Preference]:
        """The consents for ``calls`` that may cover a call at or after *since*."""
        span = self.consent_exempt_days
        if not span or not j.history.consents:
            return []
        earliest = since - timedelta(days=span + 1)
        found: list[Preference] = []
        for consent in reversed(j.history.consents):  # latest first: stop at the old ones
            if consent.at < earliest:
                break
            if consent.at <= j.at and consent.scoped("calls"):
                found.append(consent)
        return found

    @cached_property
    def _consent_window(self) -> timedelta:
        """The window of a consent that names no end (``consent_minutes``)."""
        return timedelta(minutes=self.consent_minutes)

    def _placed_with_consent(
        self,
        j: Judgement,
        consents: list[Preference],
        channel: str,
        contact: str | None,
        party: str,
        moment: datetime,
    ) -> bool:
        """True when a call at *moment* is placed with one of *consents*: inside its
        window, within ``consent_exempt_days`` of it (its day is day 1), not revoked."""
        default = self._consent_window
        for consent in consents:
            if (
                consent.at <= moment
                and (j.local_date(moment) - j.local_date(consent.at)).days
                < self.consent_exempt_days
                and _in_window(consent, moment, default)
                and consent_applies(j, consent, "calls", channel, contact, party, moment)
            ):
                return True
        return False

    def check(self, j: Judgement) -> Reason | None:
        """Count, compare, and say when the count will have dropped below the limit."""
        window_start = self._window_start(j)
        consents = self._consents(j, window_start)
        proposal = j.proposal
        if consents and self._placed_with_consent(
            j, consents, proposal.channel, proposal.contact, j.party, j.at
        ):
            return None
        reasons: list[tuple[datetime | None, str, dict[str, Any]]] = []
        counted: list[Attempt] = []
        channels, outcomes = self.counted_channels, self.counted_outcomes
        attempts, spanning = self._attempts(j, window_start)
        at, elapsed = j.at, self.hours is not None
        scope = self._scope
        rings = scope.per == "person" and scope.work is None  # `rang` can count
        mobile = self.mobile  # only the attempts that may have rung a mobile count
        for attempt in attempts:
            if attempt.at > at:
                break
            if (
                (not elapsed or attempt.at > window_start)
                and not attempt.inbound
                and attempt.channel in channels
                # An attempt whose fate is unknown may have reached the person: it counts.
                and (attempt.outcome in outcomes or attempt.outcome == _UNKNOWN)
                and (scope.same(j, attempt) or (rings and scope.rang(j, attempt)))
                and not (mobile and _to_landline(j, attempt))
                and not (
                    consents
                    and self._placed_with_consent(
                        j,
                        consents,
                        attempt.channel,
                        _local_contact(j, attempt) if spanning else attempt.contact,
                        attempt.party,
                        attempt.at,
                    )
                )
            ):
                counted.append(attempt)
        if len(counted) + 1 > self.limit:
            reasons.append(self._over(j, counted, self._one_debt(j)))
        if self.quiet_days:
            talk = self._last_conversation(j)
            if talk is not None:
                day = j.local_date(talk.at)
                until = day + timedelta(days=self.quiet_days)
                if j.local_date(j.at) < until:
                    reasons.append(
                        (
                            _day_start(until, j.calendar_zone, j.at),
                            f"a conversation on {day.isoformat()} (day 1 of "
                            f"{self.quiet_days}): no {self.noun} before {until.isoformat()}",
                            {"conversation_on": day, "quiet_days": self.quiet_days},
                        )
                    )
        if not reasons:
            return None
        retries = [retry for retry, _, _ in reasons]
        values: dict[str, Any] = {}
        for _, _, more in reasons:
            values.update(more)
        return self.deny(
            "; ".join(message for _, message, _ in reasons),
            retry_at=None if None in retries else max(r for r in retries if r is not None),
            **values,
        )

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on, while nothing on record changes later (`Judgement.settled`):
        the window only moves past the attempts it counts, and quiet days only end.
        A contact allowed because it is placed with the person's consent is judged
        again: the consent's window closes."""
        if not j.settled():
            return j.at
        if not self.consent_exempt_days or not j.history.consents:
            return None
        consents = self._consents(j, self._window_start(j))
        proposal = j.proposal
        if consents and self._placed_with_consent(
            j, consents, proposal.channel, proposal.contact, j.party, j.at
        ):
            return j.at
        return None

    def _one_debt(self, j: Judgement) -> tuple[str, ...]:
        """The debtor's cases counted as one debt with this one; empty when it is its own."""
        debtor = j.debtor_history
        if self.across != "debt" or debtor is None or not debtor.debts:
            return ()
        return debtor.debts.get(j.case.id, ())

    def _over(
        self, j: Judgement, counted: list[Attempt], group: tuple[str, ...] = ()
    ) -> tuple[datetime | None, str, dict[str, Any]]:
        """The count's reason, and when the oldest counted contacts leave the window.

        *group* is the cases counted as one debt with this one (student loans of
        one account); the reason names them.
        """
        if self.week_starts is not None:
            window = f"the calendar week from {self.week_starts.capitalize()}"
        elif self.days == 1:
            window = "a day"
        elif self.days is not None:
            window = f"{self.days} days"
        else:
            window = f"{self.hours} hours"
        retry: datetime | None = None
        if self.limit:
            drop = counted[len(counted) - self.limit]
            if self.hours is not None:
                retry = j.local(drop.at.astimezone(UTC) + timedelta(hours=self.hours))
            elif self.week_starts is not None:  # every count leaves at the week's end
                first = _week_first(j, self.week_starts) + timedelta(days=7)
                retry = _day_start(first, j.calendar_zone, j.at)
            else:
                assert self.days is not None
                day = j.local_date(drop.at) + timedelta(days=self.days)
                retry = _day_start(day, j.calendar_zone, j.at)
        count = len(counted) + 1
        message = f"{count} counted {self.noun} in {window}, limit {self.limit}"
        values: dict[str, Any] = {"count": count, "limit": self.limit, "window": window}
        if group:
            message += " (student loans of one account, one debt: " + ", ".join(group) + ")"
            values["one_debt"] = list(group)
        return retry, message, values

    def _last_conversation(self, j: Judgement) -> Attempt | None:
        """The latest conversation on the quiet days' first day or after it."""
        attempts, _ = self._attempts(j, _days_start(j, self.quiet_days))
        for attempt in reversed(attempts):
            if (
                attempt.at <= j.at
                and attempt.outcome == _CONVERSATION
                and attempt.channel in self.counted_channels
                and self._scope.same(j, attempt)
            ):
                return attempt
        return None


# -- holds -----------------------------------------------------------------------------------
class HoldBlocks(Rule):
    """No contact while a hold of the given kinds is in force, except the exempt purposes.

    Attributes:
        kinds: The hold kinds that block.
        written_only: Holds recorded as not in writing (``written=False``) do not
            block; unknown counts as written.
        default_days: A hold recorded without an end lasts this many calendar
            days (e.g. 60 for breathing space), ending at the end of the last one;
            0 when it lasts until released.
        first_day: Which day is the first of ``default_days``: the day the hold
            was recorded (``start``) or the day after (``next``: a UK moratorium
            starts the day after its entry on the register).  The hold blocks
            from the moment it was recorded either way.
        calendar: The IANA zone whose days are counted (``Europe/London`` for
            the UK register), a place's (`arrears.addresses.is_place_zone`: not
            ``GMT`` or ``UTC``); the debtor's when ``None``.
        ends_with_notice: A notice of this kind recorded after the hold began
            ends it (e.g. ``verification`` for a dispute).
        ends_after_notice: A notice of this kind recorded after the hold began
            (e.g. ``crisis_treatment_ended``) starts its last ``days_after_notice``
            days, the notice's day being the first.
        days_after_notice: How many days the hold lasts from that notice's day.
        validation_period: Only a dispute made within the validation period
            blocks (the period is computed from the ``validation`` notice; with
            no notice recorded, every dispute blocks).
    """

    kinds: frozenset[HoldKind]
    written_only: bool = False
    default_days: int = Field(default=0, ge=0)
    first_day: Literal["start", "next"] = "start"
    calendar: str | None = None
    ends_with_notice: str | None = None
    ends_after_notice: str | None = None
    days_after_notice: int = Field(default=0, ge=0)
    validation_period: bool = False

    @model_validator(mode="after")
    def _known_calendar(self) -> Self:
        if self.calendar is not None:
            try:
                ZoneInfo(self.calendar)
            except (ValueError, KeyError) as err:
                raise ValueError(f"calendar: {self.calendar!r} is not an IANA time zone") from err
            if not is_place_zone(self.calendar):  # EST's days start an hour off all summer
                raise ValueError(
                    f"calendar: {self.calendar!r} is not the IANA time zone of a place, "
                    "such as 'Europe/London' (not an abbreviation, a fixed offset or UTC)"
                )
        if self.ends_after_notice is not None and not self.days_after_notice:
            raise ValueError("days_after_notice: give the days the hold lasts after the notice")
        return self

    @cached_property
    def _zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.calendar) if self.calendar is not None else None

    def _day(self, j: Judgement, moment: datetime) -> date:
        """The calendar date of *moment* where the days are counted."""
        zone = self._zone or j.calendar_zone
        return moment.astimezone(zone).date() if zone is not None else moment.date()

    def _end_of_days(self, j: Judgement, first: date, days: int) -> datetime:
        """The end of the period of *days* days beginning with *first*: midnight after its last."""
        return _day_start(first + timedelta(days=days), self._zone or j.calendar_zone, j.at)

    def _blocking(self, j: Judgement, hold: Hold) -> datetime | bool | None:
        """False when *hold* does not block; else its end (None when open-ended)."""
        if hold.kind not in self.kinds or not hold.active_at(j.at):
            return False
        if self.written_only and hold.written is False:
            return False
        end = hold.ends_at
        if end is None and self.default_days:
            first = self._day(j, hold.started_at)
            if self.first_day == "next":
                first += timedelta(days=1)
            end = self._end_of_days(j, first, self.default_days)
            if j.at >= end:
                return False
        if self.ends_after_notice is not None:
            stopped = j.case.notices.get(self.ends_after_notice)
            if stopped is not None and stopped >= hold.started_at:
                last = self._end_of_days(j, self._day(j, stopped), self.days_after_notice)
                if j.at >= last:
                    return False
                end = last if end is None else min(end, last)
        if self.ends_with_notice is not None:
            sent = j.case.notices.get(self.ends_with_notice)
            if sent is not None and sent >= hold.started_at:
                return False
        if self.validation_period:
            sent = j.case.notices.get("validation")
            if sent is not None:
                last_day = validation_period_end(j.local(sent).date())
                if j.local(hold.started_at).date() > last_day:
                    return False
        return end

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on, while nothing on record changes later (`Judgement.settled`): a
        hold that does not block now, ended or not begun, or lifted by a notice, never
        will."""
        return None if j.settled() else j.at

    def check(self, j: Judgement) -> Reason | None:
        """Deny while any matching hold is in force."""
        for hold in j.case.holds:
            end = self._blocking(j, hold)
            if end is False:
                continue
            allowed = sorted(self.exempt)
            message = f"{hold.kind} hold since {hold.started_at.date().isoformat()}"
            message += f": only {', '.join(allowed)} allowed" if allowed else ": no contact"
            return self.deny(
                message,
                retry_at=end if isinstance(end, datetime) else None,
                hold=hold.id,
                kind=str(hold.kind),
            )
        return None


def _latest(notices: Mapping[str, datetime], kind: str | None, since: datetime) -> datetime | None:
    """When notice *kind* was last recorded, if at or after *since*."""
    if kind is None:
        return None
    moment = notices.get(kind)
    return moment if moment is not None and moment >= since else None


class RepresentedByAttorney(HoldBlocks):
    """No contact with a person represented by an attorney, but the law's two exceptions.

    While an ``attorney`` hold is in force the debtor is not contacted.  The
    bar lifts when the attorney consents to direct contact (a notice
    ``consent_notice`` recorded after the hold began), or when the attorney
    failed to respond to a communication from the collector (a notice
    ``contacted_notice``) within ``response_days`` days, the day of the
    communication not counted, and no ``response_notice`` came after it; and,
    when the lender turns it on, on the consumer's own direct consent
    (``consumer_consent_notice``).
    Third parties are judged only for ``third_party_purposes`` (location
    contacts); for them only the attorney's silence lifts the bar.

    Attributes:
        consent_notice: The notice recording the attorney's consent; ``None``: never lifts.
        consumer_consent_notice: A notice recording the consumer's own direct consent
            that lifts the bar for them; ``None`` (the default): it never does.
        contacted_notice: The notice recording a communication sent to the attorney.
        response_notice: The notice recording the attorney's answer.
        response_days: The reasonable period for the attorney's answer, in days;
            ``None``: silence never lifts the bar (the law names no number).
        third_party_purposes: Purposes of contacts with third parties this rule judges.
    """

    kinds: frozenset[HoldKind] = frozenset({HoldKind.ATTORNEY})
    consent_notice: str | None = "attorney_consent"
    consumer_consent_notice: str | None = None
    contacted_notice: str = "attorney_contacted"
    response_notice: str = "attorney_responded"
    response_days: int | None = Field(default=None, ge=1)
    third_party_purposes: frozenset[str] = frozenset({Purpose.LOCATION})

    def admits(self, j: Judgement) -> bool:
        """The debtor always; the attorney never; anyone else only for
        ``third_party_purposes``."""
        if j.relationship == Relationship.ATTORNEY:
            return False
        debtor = self.seen(j) == Party.DEBTOR
        return debtor or j.proposal.purpose in self.third_party_purposes

    def _silence_ends(self, j: Judgement, since: datetime) -> datetime | None:
        """When the attorney's silence since a communication after *since* lifts the bar."""
        if self.response_days is None:
            return None
        notices = j.case.notices
        sent = _latest(notices, self.contacted_notice, since)
        if sent is None:
            return None
        answered = _latest(notices, self.response_notice, sent)
        if answered is not None:
            return None
        day = j.local_date(sent) + timedelta(days=self.response_days + 1)
        return _day_start(day, j.calendar_zone, j.at)

    def check(self, j: Judgement) -> Reason | None:
        """Deny while a hold is in force and neither exception holds."""
        debtor = self.seen(j) == Party.DEBTOR
        for hold in j.case.holds:
            end = self._blocking(j, hold)
            if end is False:
                continue
            since = hold.started_at
            notices = j.case.notices
            if debtor and (
                _latest(notices, self.consent_notice, since)
                or _latest(notices, self.consumer_consent_notice, since)
            ):
                continue
            silence = self._silence_ends(j, since)
            if silence is not None and j.at >= silence:
                continue
            retry = end if isinstance(end, datetime) else None
            if silence is not None:
                retry = silence if retry is None else min(retry, silence)
            if debtor:
                message = f"represented by an attorney since {since.date().isoformat()}"
            else:
                message = (
                    f"represented by an attorney since {since.date().isoformat()}: "
                    "location information is asked of the attorney only"
                )
            return self.deny(message, retry_at=retry, hold=hold.id, kind=str(hold.kind))
        return None


# -- media, consent and parties ---------------------------------------------------------------
class ReplyNeedsContact(Rule):
    """A contact marked ``reply`` must answer a contact the person started.

    The purpose is the lender's word for what a contact is, and a reply is
    exempt from caps and holds, and may say what other contacts may not: so a
    proposal with purpose ``reply`` is judged a reply only when the person it
    reaches started a contact (an inbound call, a text or an e-mail from them,
    `arrears.engine.Engine.record_interaction` with ``inbound=True``, or an
    outcome ``reply``) that no reply of ours has answered yet, within
    ``within_days`` (`arrears.compliance.Judgement.replying`).  Otherwise it is
    denied, naming what is missing: it is not journaled as a reply, and the
    lender proposes it again as what it is (``collection``), judged by every
    rule a collection contact is.  Time alone does not lift the denial.

    Attributes:
        within_days: How long after their contact a reply may answer it, in days
            of 24 hours; ``None``: no limit.
    """

    purposes: frozenset[str] | None = frozenset({Purpose.REPLY})
    within_days: int | None = Field(default=30, ge=1)

    def check(self, j: Judgement) -> Reason | None:
        """Deny a reply that answers no contact the person started, or one answered already
        or too old."""
        within = timedelta(days=self.within_days) if self.within_days is not None else None
        if j.replying(within) is not None:
            return None
        inbound, answer = j.started()
        fix = "propose it as collection, or record their contact (inbound) first"
        if inbound is None:
            return self.deny(
                f"not a reply: the person reached started no contact to answer; {fix}",
                purpose=Purpose.REPLY,
            )
        if answer is not None:
            return self.deny(
                f"not a reply: their contact of {inbound.at.date().isoformat()} was answered "
                f"on {answer.at.date().isoformat()}; {fix}",
                purpose=Purpose.REPLY,
                started_at=inbound.at,
                answered_at=answer.at,
            )
        return self.deny(
            f"not a reply: their latest contact, of {inbound.at.date().isoformat()}, is more "
            f"than {self.within_days} days old; {fix}",
            purpose=Purpose.REPLY,
            started_at=inbound.at,
            within_days=self.within_days,
        )


class MediumOptOut(Rule):
    """Do not use a medium or address the person opted out of, except one confirmation.

    An opt-out of calls covers voicemail (prerecorded, ringless and
    limited-content messages are calls); an opt-out naming one contact point
    covers every contact point with its address.  Only a later consent for the
    ``medium`` restores it.  The one confirmation allowed (12 CFR
    1006.14(h)(2)(i)) is a reply to an opt-out of an electronic medium (SMS or
    e-mail), sent back through the medium the person made the request by
    (`Preference.via`), electronically: a STOP texted is confirmed by one text,
    a request e-mailed about texts by one e-mail (which this rule does not
    stop), a request made on the phone by none; never a call.  When the
    opt-out does not say how it was asked (recorded without ``via``, or a
    contact point on file as opted out), no confirmation is allowed through
    the medium opted out of: a confirmation is the collector's option, never
    the person's right, and the request may have come another way; a lender
    that reads an unrecorded request as made through the medium opted out of
    sets ``confirm_unknown_via``.
    When ``opt_out_phrases`` is set, every message on ``text_channels`` whose
    text is known must tell the reader how to opt out.

    An opt-out reaches the person: recorded on one of the debtor's cases, it
    stops the medium (or the address, matched by address whatever its id) on
    all of them, and the one confirmation is one across them (``reach``).

    Attributes:
        text_channels: Channels whose messages must carry an opt-out.
        opt_out_phrases: Patterns (regular expressions, case-insensitive), one
            of which the text must contain.
        reach: Which opt-outs count: those recorded on any of the debtor's cases
            (``debtor``), or only on this one (``debt``).
        confirm_unknown_via: Read an opt-out that does not say how it was asked as
            asked through the medium opted out of (its one confirmation then goes
            through that medium, when electronic); off: no confirmation.
        reply_through_their_medium: When the person later starts a contact through
            the medium or address they opted out of (an e-mail from the address,
            a call from the number), one reply (``purpose: reply``, answering that
            contact: `Judgement.replying`) may go back through it, to that same
            address, from any of the debtor's loans (the address on file there,
            whatever its id) (12 CFR 1006.14(h)(2)(ii)); off: the opt-out holds for
            replies too.
    """

    text_channels: frozenset[Channel] = frozenset({Channel.SMS, Channel.EMAIL})
    opt_out_phrases: tuple[str, ...] = ()
    reach: StatementReach = "debtor"
    confirm_unknown_via: bool = False
    reply_through_their_medium: bool = False

    def _answers_their_contact(self, j: Judgement, since: datetime, medium: str) -> bool:
        """True when the proposal is the one reply to a contact the person started, after
        opting out, through the medium opted out of, going back to the same address."""
        if not self.reply_through_their_medium or j.proposal.purpose != Purpose.REPLY:
            return False
        inbound = j.replying()
        return (
            inbound is not None
            and inbound.at >= since
            and _covers(medium, inbound.channel)
            and _came_from_there(j, inbound)
        )

    @cached_property
    def _phrases(self) -> re.Pattern[str] | None:
        if not self.opt_out_phrases:
            return None
        return re.compile("|".join(self.opt_out_phrases), re.IGNORECASE)

    def _via(self, j: Judgement, since: datetime, medium: str) -> str | None:
        """The medium the opt-out of *medium* made at *since* was asked by; *medium* itself
        when not recorded and ``confirm_unknown_via`` is set; ``None`` when not known (a
        contact point on file as opted out says nothing of how)."""
        proposal = j.proposal
        unknown = medium if self.confirm_unknown_via else None
        for opt_out in reversed(j.opt_outs(self.reach)):
            if (
                opt_out.at == since
                and opt_out.channel == medium
                and _covers(opt_out.channel, proposal.channel)
                and _same_address(j, opt_out.contact, proposal.contact)
                and opt_out.binds(j.person)
            ):
                return opt_out.via if opt_out.via is not None else unknown
        return unknown

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on, while nothing on record changes later (`Judgement.settled`): the
        opt-outs, the consents that restore a medium and the confirmations sent are read
        whenever they came, and a consent's window cannot close later."""
        return None if j.settled() else j.at

    def check(self, j: Judgement) -> Reason | None:
        """Deny an opted-out medium (but its one confirmation) and messages without an opt-out."""
        proposal = j.proposal
        opted = opted_out_since(j, self.reach)
        if opted is not None and self._answers_their_contact(j, *opted):
            opted = None
        if opted is not None:
            since, medium = opted
            confirming = proposal.purpose == Purpose.OPT_OUT_CONFIRMATION
            via = self._via(j, since, medium) if confirming else None
            electronic = medium in _ELECTRONIC and via in _ELECTRONIC and proposal.channel == via
            debtor = j.debtor_history if self.reach == "debtor" else None
            sent = j.history.since(since) if debtor is None else debtor.since(since)
            confirmed = confirming and any(
                attempt.purpose == Purpose.OPT_OUT_CONFIRMATION
                and attempt.channel == proposal.channel
                for attempt in sent
            )
            if not (confirming and electronic and not confirmed):
                if confirming and not electronic:
                    if medium not in _ELECTRONIC:
                        what = "only an electronic reply to an electronic opt-out may confirm it"
                    elif via is None:
                        what = "how it was asked is not recorded: no confirmation by " + medium
                    elif via not in _ELECTRONIC:
                        what = f"asked by {via}: only an electronic reply may confirm it"
                    else:
                        what = f"asked by {via}: only a reply by {via} may confirm it"
                else:
                    what = "confirmation already sent" if confirmed else "opted out"
                return self.deny(
                    f"the person opted out of {medium} on {since.date().isoformat()} ({what})",
                    channel=proposal.channel,
                    medium=medium,
                    opted_out_at=since,
                )
        pattern = self._phrases
        if (
            pattern is not None
            and proposal.text is not None
            and proposal.channel in self.text_channels
            and not pattern.search(proposal.text)
        ):
            return self.deny(
                "the message carries no way to opt out", expected=list(self.opt_out_phrases)
            )
        return None


def _consented(j: Judgement, scope: str) -> bool:
    """A standing consent for *scope* in force: the contact point carries one and no
    opt-out revoked it, or a consent for *scope* recorded later than any opt-out,
    inside its window (no end: until revoked)."""
    proposal = j.proposal
    for consent in reversed(j.history.consents):
        if (
            consent.at <= j.at
            and _in_window(consent, j.at, None)
            and consent_applies(
                j, consent, scope, proposal.channel, proposal.contact, j.party, j.at
            )
        ):
            return True
    if j.point is None or not j.point.consent:
        return False
    return _opt_out(j, proposal.channel, proposal.contact) is None


class AutomatedNeedsConsent(Rule):
    """Autodialed, prerecorded or AI-voice contacts need the person's prior express consent.

    The consent is the contact point's own (given with the number) or a consent
    recorded for ``automated`` contact; a consent to be called back now is not
    one.  A revocation (an opt-out covering the medium or the address) is
    honoured at once.
    """

    def admits(self, j: Judgement) -> bool:
        """Only automated proposals."""
        return j.proposal.automated

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on, while nothing on record changes later (`Judgement.settled`)."""
        return None if j.settled() else j.at

    def check(self, j: Judgement) -> Reason | None:
        """Deny without consent, or after it was revoked."""
        if _consented(j, "automated"):
            return None
        return self.deny(
            f"automated {j.proposal.channel} without the person's prior express consent "
            "(the contact point's consent, or a consent recorded covering automated)",
            automated=True,
        )


class WorkEmailNeedsConsent(Rule):
    """No e-mail to an address the debtor's employer provided, unless they consented to it."""

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on, while nothing on record changes later (`Judgement.settled`)."""
        return None if j.settled() else j.at

    def check(self, j: Judgement) -> Reason | None:
        """Deny an e-mail to a work address without consent."""
        if not j.at_work or _consented(j, "medium"):
            return None
        return self.deny("e-mail to an employer-provided address without the debtor's consent")


class MediumNeedsConsent(Rule):
    """No contact through the rule's media (e-mail, text) without the person's standing consent.

    The consent is the contact point's own (given with the address) or a consent
    recorded for the ``medium``; a consent to be contacted now (for ``hours`` or
    ``calls``) is not one.  An opt-out of the medium or the address revokes it,
    for that medium only, until a later consent for the ``medium`` restores it.
    A person's writing to the lender is no consent to be written to.

    Attributes:
        reply_through_their_medium: When the person started a contact through the
            medium (an e-mail from the address, a text from the number), one reply
            (``purpose: reply``, answering that contact: `Judgement.replying`) may go
            back through it, to that same address, without a consent; off: a reply
            needs the consent too.
    """

    reply_through_their_medium: bool = False

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on, while nothing on record changes later (`Judgement.settled`)."""
        return None if j.settled() else j.at

    def _answers_their_contact(self, j: Judgement) -> bool:
        """The proposal is the reply to a contact the person started through this medium,
        going back to the address it came from."""
        if not self.reply_through_their_medium or j.proposal.purpose != Purpose.REPLY:
            return False
        started = j.replying()
        return started is not None and _came_from_there(j, started)

    def check(self, j: Judgement) -> Reason | None:
        """Deny a contact through the medium without a standing consent to it."""
        if _consented(j, "medium") or self._answers_their_contact(j):
            return None
        return self.deny(
            f"{j.proposal.channel} without the person's consent to be contacted by it",
            channel=j.proposal.channel,
        )


class PlaceRestriction(Rule):
    """No contact at a place the person is known not to be contacted at (work), with consent
    and the one reply as exceptions.

    Once notice ``notice`` is on record (the debtor said contact at work is
    inconvenient; the employer forbids it), contacts reaching the debtor at
    work are denied: a contact point marked ``work``, or the employer.  A
    later consent for the ``medium`` at that contact point lifts it (the
    debtor agreed to be contacted there).  When ``reply_once`` is set, a
    ``reply`` is allowed when what it answers (`Judgement.replying`: the
    debtor's latest contact, not answered yet) came from that address, by the
    same medium, after the notice: one reply to each such contact.

    Attributes:
        notice: The notice kind that records the restriction.
        reply_once: Allow one reply to a contact the debtor started from there.
    """

    notice: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    reply_once: bool = True

    def admits(self, j: Judgement) -> bool:
        """Only contacts that reach the debtor at work."""
        return j.at_work

    def _consented(self, j: Judgement, since: datetime) -> bool:
        proposal = j.proposal
        return any(
            consent.at > since
            and consent.at <= j.at
            and _in_window(consent, j.at, None)
            and consent_applies(
                j, consent, "medium", proposal.channel, proposal.contact, j.party, j.at
            )
            for consent in j.history.consents
        )

    def _replying(self, j: Judgement, since: datetime) -> bool:
        """The reply answers a contact the debtor started here, by this medium, after
        *since* (`Judgement.replying`: not answered yet)."""
        started = j.replying()
        return started is not None and started.at >= since and _came_from_there(j, started)

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on, while nothing on record changes later (`Judgement.settled`)."""
        return None if j.settled() else j.at

    def check(self, j: Judgement) -> Reason | None:
        """Deny contact at work once the restriction is on record, but its exceptions."""
        since = j.case.notices.get(self.notice)
        if since is None or since > j.at or self._consented(j, since):
            return None
        if self.reply_once and j.proposal.purpose == Purpose.REPLY and self._replying(j, since):
            return None
        return self.deny(
            f"no contact at work: {self.notice} on record since {since.date().isoformat()}",
            notice=self.notice,
            since=since,
        )


_DEBT_WORDS_EN: Final = (
    r"\bdebts?\b",
    r"\bowe[sd]?\b",
    r"\bcollect",
    r"\boverdue\b",
    r"\barrears\b",
)
_DEBT_WORDS_ZH: Final = ("欠款", "逾期", "债务", "还款", "催收", "欠债")


class _Wording(Rule):
    """Shared: compiled, case-insensitive patterns."""

    def _compile(self, patterns: Iterable[str]) -> re.Pattern[str] | None:
        joined = "|".join(f"(?:{pattern})" for pattern in patterns)
        return re.compile(joined, re.IGNORECASE) if joined else None


class ThirdPartyLocationOnly(_Wording):
    """A third party may be asked only where the debtor is, once, without naming the debt.

    Which contacts the ``once`` counts is ``across``: with ``"debtor"`` (the
    default) a person asked where the debtor is about one of the debtor's
    loans has been asked, whichever loan the next contact is about (the
    person is matched by their id, else by the number or address); with
    ``"debt"``, only the contacts about this loan (recorded on it, or on
    another loan naming it in `Attempt.about`).  A lender may widen a pack's
    ``across``, never narrow it.

    Attributes:
        once: Only one location contact per person.
        across: Which loans' contacts ``once`` counts: this one (``debt``) or
            every loan of the debtor with this lender (``debtor``).
        scope_reason: Why the count is over ``across``, from the source.
        debt_words: Patterns that reveal the debt; a text containing one is denied.
        allowed_purposes: What a third party may be contacted for (``location``;
            a pack may add ``relay``, ``reply`` or ``representative``).
        discloses_to: Purposes whose text may name the debt (``representative``:
            someone established to act for the debtor); every other text never does.
        representatives: The relationships of the persons who may be contacted for
            a ``discloses_to`` purpose; ``None``: the purpose alone decides.  A
            person of another relationship (a spouse, a contact person, the
            employer) is not one, whatever the purpose says; a third party's contact
            point naming no person is judged by the purpose.
    """

    parties: frozenset[Party] | None = frozenset({Party.THIRD_PARTY, Party.EMPLOYER})
    once: bool = True
    across: Literal["debt", "debtor"] = "debtor"
    scope_reason: str = ""
    debt_words: tuple[str, ...] = _DEBT_WORDS_EN
    allowed_purposes: frozenset[str] = frozenset({Purpose.LOCATION})
    discloses_to: frozenset[str] = frozenset()
    representatives: frozenset[Relationship] | None = None

    @cached_property
    def _debt(self) -> re.Pattern[str] | None:
        return self._compile(self.debt_words)

    def check(self, j: Judgement) -> Reason | None:
        """Deny other purposes, a second location contact, and words revealing the debt."""
        proposal = j.proposal
        if (
            proposal.purpose in self.discloses_to
            and self.representatives is not None
            and j.relationship is not None
            and j.relationship not in self.representatives
        ):
            acting = sorted(str(relationship) for relationship in self.representatives)
            return self.deny(
                f"a {j.relationship} does not act for the debtor: {proposal.purpose} is for "
                f"{', '.join(acting)}",
                purpose=proposal.purpose,
                relationship=j.relationship,
                allowed=acting,
            )
        if proposal.purpose not in self.allowed_purposes:
            allowed = sorted(self.allowed_purposes)
            return self.deny(
                f"a {j.party} may only be contacted for {', '.join(allowed)}, "
                f"not for {proposal.purpose}",
                purpose=proposal.purpose,
                allowed=allowed,
            )
        if self.once and proposal.purpose == Purpose.LOCATION:
            for attempt in recorded_over(j, self.across):
                if attempt.purpose == Purpose.LOCATION and _same_person(j, attempt):
                    values: dict[str, Any] = {"earlier": attempt.at}
                    where = ""
                    if attempt.case not in (None, j.case.id):
                        values["case"] = attempt.case
                        where = f" (about {attempt.case})"
                    return self.deny(
                        f"this person was already asked for location information on "
                        f"{attempt.at.date().isoformat()}{where}",
                        **values,
                    )
        if proposal.purpose in self.discloses_to:
            return None
        return _reveals(self, j, self._debt)


def _points_of(j: Judgement) -> frozenset[str]:
    """The case's contact points of the person the judged contact point names (none when
    it names no person)."""
    person = j.point.person if j.point is not None else None
    if person is None:
        return frozenset()
    return frozenset(point.id for point in j.case.contacts if point.person == person)


def _refused_elsewhere(j: Judgement) -> datetime | None:
    """When the person judged refused contact at a point naming them on another of the
    debtor's cases (a person's id names them on every case of the debtor).  A refusal
    there at the same address is among `Judgement.opt_outs` already."""
    debtor = j.debtor_history
    person = j.point.person if j.point is not None else None
    if debtor is None or person is None:
        return None
    for opt_out in reversed(debtor.opt_outs):
        case = opt_out.case
        if case is None or case == j.case.id or opt_out.contact is None:
            continue
        if debtor.persons.get(case, {}).get(opt_out.contact) == person:
            return opt_out.at
    return None


def recorded_over(j: Judgement, across: StatementReach) -> Sequence[Attempt]:
    """The recorded contact attempts a rule counting over *across* reads, oldest first.

    ``debt``: those about this case: recorded on it, or recorded on another of
    the debtor's cases and naming it (`Attempt.about`).  ``debtor``: those on
    every case of the debtor.  The case's own when it is the debtor's only one.
    Messages journaled as intended and not yet settled are not attempts yet.
    """
    debtor = j.debtor_history
    if debtor is None:
        return j.history.attempts
    if across == "debtor":
        return [attempt for attempt in debtor.attempts if attempt.intent is None]
    case_id = j.case.id
    return [a for a in debtor.attempts if a.intent is None and a.concerns(case_id)]


def _person_across(j: Judgement, attempt: Attempt) -> str | None:
    """The person *attempt* reached, on this case or another of the debtor's: the one it
    names, the debtor, or the person its contact point names where it was recorded."""
    person = j.person_of(attempt)
    if person is None and attempt.case not in (None, j.case.id) and attempt.contact is not None:
        debtor = j.debtor_history
        if debtor is not None:
            person = debtor.persons.get(attempt.case or "", {}).get(attempt.contact)
    return person


def _same_person(j: Judgement, attempt: Attempt) -> bool:
    """True when an attempt on the case, or on another of the debtor's, reached the person
    the judged contact reaches: the person both name, else the same contact point (on
    another case: the same number or address)."""
    if j.person is not None and (person := _person_across(j, attempt)) is not None:
        return person == j.person
    if attempt.party != j.party:
        return False
    if attempt.case is None or attempt.case == j.case.id:
        return attempt.contact == j.proposal.contact
    return _same_number(j, attempt)


def _reveals(rule: Rule, j: Judgement, pattern: re.Pattern[str] | None) -> Reason | None:
    text = j.proposal.text
    if pattern is None or text is None:
        return None
    found = pattern.search(text)
    if found is None:
        return None
    return rule.deny(f"the text reveals the debt: {found.group(0)!r}", match=found.group(0))


_FAILED: Final = frozenset(
    {Outcome.NO_ANSWER, Outcome.BUSY, Outcome.NOT_CONNECTED, Outcome.FAILED, Outcome.WRONG_PARTY}
)


class ThirdPartyWhenUnreachable(_Wording):
    """Contact persons only to find the debtor or pass on a message, and only when needed.

    A contact person may be asked only for a way to reach the debtor
    (``location``) or to pass on a message (``relay``), or answered when they
    asked (``reply``): never asked to pay.  They may be contacted only when the
    debtor cannot be reached (the last ``failed_attempts`` attempts to reach the
    debtor all failed: no answer, busy, not connected, failed, wrong party) or
    has died.  A person who refused further contact (an opt-out on any medium
    at any of their contact points) is not contacted again by any medium at any
    contact point with the same address.  The text must not reveal the debt,
    except in a reply.

    Whether the debtor is unreachable is read ``across``: with ``"debtor"`` (the
    default) from the attempts to reach the debtor about any of their loans
    with this lender (a debtor who answered about one loan is reachable,
    whichever loan the contact person would be called about; three failed
    calls are three, whichever loans they were about); with ``"debt"``, from
    the attempts about this loan only.  A lender may widen a pack's
    ``across``, never narrow it.

    Attributes:
        failed_attempts: Consecutive failed attempts that make the debtor unreachable.
        allowed_purposes: What a contact person may be contacted for.
        debt_words: Patterns that reveal the debt.
        across: Whose attempts to reach the debtor count: those about this loan
            (``debt``) or about any loan of the debtor (``debtor``).
        scope_reason: Why the attempts are read over ``across``, from the source.
    """

    parties: frozenset[Party] | None = frozenset({Party.THIRD_PARTY, Party.EMPLOYER})
    failed_attempts: int = Field(default=3, ge=1)
    across: Literal["debt", "debtor"] = "debtor"
    scope_reason: str = ""
    allowed_purposes: frozenset[str] = frozenset({Purpose.LOCATION, Purpose.RELAY, Purpose.REPLY})
    debt_words: tuple[str, ...] = _DEBT_WORDS_ZH + _DEBT_WORDS_EN

    @cached_property
    def _debt(self) -> re.Pattern[str] | None:
        return self._compile(self.debt_words)

    def _refused(self, j: Judgement) -> datetime | None:
        """When this person refused further contact, on any medium, at any of their points:
        those with the address, and every point of the person the contact point names."""
        contact = j.proposal.contact
        theirs = _points_of(j)
        for opt_out in reversed(j.opt_outs()):  # a refusal on any of the debtor's loans
            if opt_out.contact is None:
                if opt_out.person is not None and opt_out.person == j.person:
                    return opt_out.at  # the person's own refusal, of a whole medium
            elif opt_out.contact in theirs or _same_address(j, opt_out.contact, contact):
                return opt_out.at
        refused = _refused_elsewhere(j)
        if refused is not None:
            return refused
        address = _address_of(j, contact)
        for point in j.case.contacts:
            if (
                point.opted_out
                and point.party != Party.DEBTOR
                and (
                    point.id == contact
                    or point.id in theirs
                    or (address not in (None, "unknown") and point.address == address)
                )
            ):
                return j.case.opened_at or j.at
        return None

    def check(self, j: Judgement) -> Reason | None:
        """Deny a refused person, any purpose but finding or telling the debtor, and
        contact while the debtor is reachable and alive."""
        proposal = j.proposal
        if proposal.contact is not None:
            refused = self._refused(j)
            if refused is not None:
                return self.deny(
                    f"this person refused further contact on {refused.date().isoformat()}: "
                    "no contact by any medium",
                    refused_at=refused,
                )
        if proposal.purpose not in self.allowed_purposes:
            return self.deny(
                f"a contact person may only be asked how to reach the debtor or to pass on "
                f"a message, not contacted for {proposal.purpose}",
                purpose=proposal.purpose,
                allowed=sorted(self.allowed_purposes),
            )
        wording = None if proposal.purpose == Purpose.REPLY else self._debt
        if any(hold.kind == HoldKind.DECEASED and hold.active_at(j.at) for hold in j.case.holds):
            return _reveals(self, j, wording)
        tried = recorded_over(j, self.across)
        recent = [attempt for attempt in tried if attempt.party == Party.DEBTOR][
            -self.failed_attempts :
        ]
        failed = sum(1 for attempt in recent if attempt.outcome in _FAILED)
        if len(recent) < self.failed_attempts or failed < self.failed_attempts:
            last = [attempt.outcome for attempt in recent]
            return self.deny(
                f"the debtor is not unreachable: {failed} of the last "
                f"{self.failed_attempts} attempts failed",
                failed=failed,
                needed=self.failed_attempts,
                last_outcomes=last,
            )
        return _reveals(self, j, wording)


# -- legal steps and reporting -----------------------------------------------------------------
class TimeBarred(_Wording):
    """No suit, and no threat of one, once the debt is time-barred.

    The limitation period runs from the first missed due date, or from a later
    acknowledgement or part payment recorded before the period ran out
    (``restarted_by``: a period that has run out is not restarted).  Once the
    debt is barred, two further protections may be switched on: after the
    customer said they will not pay because the debt is barred
    (``refusal_notice``), or where the bar extinguishes the debt
    (``extinguished``), every contact is denied but the ``still_allowed``
    purposes.

    Attributes:
        limitation_years: The statute of limitations, in years.
        threat_words: Patterns that threaten a suit, or say the debt is still
            legally enforceable; denied in any text once barred.
        disclaimers: Patterns of statements that no suit will or can be brought
            (a time-barred-debt disclosure that state law requires, "we will not
            sue you for it"); the words they match are not read as threats.
            Empty: every mention of a suit is one.
        restarted_by: A notice kind (e.g. ``acknowledged``) recording a written
            acknowledgement or a part payment; the period runs again from it
            when it came before the debt was barred.  ``None``: never restarted.
        refusal_notice: A notice kind recording that the customer said they
            will not pay because the debt is barred; once it is on record and
            the debt is barred, no more demands.  ``None``: not read.
        extinguished: The bar ends the debt itself (Scots prescription): once
            barred, no more demands whatever the customer said.
        still_allowed: The purposes allowed after a refusal or once the debt is
            extinguished (a reply to the customer's own question).
    """

    limitation_years: int = Field(default=6, ge=1)
    threat_words: tuple[str, ...] = (
        r"\bsu(?:e|ed|es|ing)\b",
        r"\blaw ?suits?\b",
        r"\bcourts?\b",
        r"legal (?:action|proceedings?)",
        r"\bjudg(?:e)?ments?\b",
        r"\bgarnish",
    )
    disclaimers: tuple[str, ...] = ()
    restarted_by: str | None = None
    refusal_notice: str | None = None
    extinguished: bool = False
    still_allowed: frozenset[str] = frozenset({Purpose.REPLY})

    @cached_property
    def _threats(self) -> re.Pattern[str] | None:
        return self._compile(self.threat_words)

    @cached_property
    def _disclaimers(self) -> re.Pattern[str] | None:
        return self._compile(self.disclaimers)

    def _add_years(self, start: date) -> date:
        try:
            return start.replace(year=start.year + self.limitation_years)
        except ValueError:  # 29 February
            return date(start.year + self.limitation_years, 3, 1)

    def barred_on(self, j: Judgement) -> tuple[date, date]:
        """The day the debt becomes barred, and the day its period runs from."""
        start = j.case.due_date
        barred_on = self._add_years(start)
        if self.restarted_by is not None:
            restart = j.case.notices.get(self.restarted_by)
            if restart is not None:
                day = j.local(restart).date()
                if start < day < barred_on:
                    start, barred_on = day, self._add_years(day)
        return barred_on, start

    def allows_until(self, j: Judgement) -> datetime | None:
        """Until the day the debt becomes barred, then from then on, while nothing on
        record changes later (`Judgement.settled`); judged again when the debtor's
        calendar is not known (the day is then read in each moment's own offset)."""
        if not j.settled() or j.calendar_zone is None:
            return j.at
        barred_on, _ = self.barred_on(j)
        if j.local_date(j.at) < barred_on:
            return _day_start(barred_on, j.calendar_zone, j.at)
        return None

    def check(self, j: Judgement) -> Reason | None:
        """Deny legal action, or a text that threatens it, on a time-barred debt; and any
        demand once the customer refused to pay because of the bar, or the debt is extinguished."""
        barred_on, start = self.barred_on(j)
        if j.local(j.at).date() < barred_on:
            return None
        since = f"{barred_on.isoformat()} ({self.limitation_years} years after {start.isoformat()})"
        if j.proposal.purpose == Purpose.LEGAL_ACTION:
            return self.deny(f"the debt is time-barred since {since}", barred_on=barred_on)
        if j.proposal.purpose not in self.still_allowed:
            if self.extinguished:
                return self.deny(
                    f"the debt is extinguished since {since}: no demand for payment",
                    barred_on=barred_on,
                )
            refused = (
                j.case.notices.get(self.refusal_notice) if self.refusal_notice is not None else None
            )
            if refused is not None and refused <= j.at:
                return self.deny(
                    f"the customer said on {refused.date().isoformat()} they will not pay a debt "
                    f"time-barred since {since}: no further demand",
                    barred_on=barred_on,
                    refused_at=refused,
                )
        text = j.proposal.text
        pattern = self._threats
        if text is not None and self._disclaimers is not None:
            text = self._disclaimers.sub(" ", text)
        if text is not None and pattern is not None and (found := pattern.search(text)):
            return self.deny(
                f"the text threatens a suit on a time-barred debt: {found.group(0)!r}",
                barred_on=barred_on,
                match=found.group(0),
            )
        return None


class NoticeRequired(Rule):
    """A notice must be on record before this contact (e.g. a military-status check before suit).

    Attributes:
        notice: The notice kind that must have been recorded.
    """

    notice: str

    def check(self, j: Judgement) -> Reason | None:
        """Deny while the notice has not been recorded."""
        if self.notice in j.case.notices:
            return None
        return self.deny(f"no {self.notice} notice on record", notice=self.notice)


_REACHED: Final = frozenset({Outcome.CONVERSATION, Outcome.DELIVERED, Outcome.VOICEMAIL})


def _communicated(attempt: Attempt) -> bool:
    """The attempt conveyed information to the debtor (a limited-content message does not)."""
    return (
        attempt.party == Party.DEBTOR
        and attempt.outcome in _REACHED
        and attempt.purpose != Purpose.LIMITED_CONTENT
    )


class ValidationNoticeDue(Rule):
    """The validation notice goes out within ``days`` days of the first communication.

    Once that time has passed without a ``validation`` notice on record,
    collection contacts are denied until it is sent.  The first communication
    is the first about this debt: recorded on it, or recorded on another of
    the debtor's debts and naming it (`Attempt.about`: a conversation about
    two debts starts the days of each).

    Attributes:
        days: Days after the first communication.
    """

    days: int = Field(default=5, ge=0)

    def check(self, j: Judgement) -> Reason | None:
        """Deny collection after the deadline while no validation notice is recorded."""
        if "validation" in j.case.notices:
            return None
        for attempt in recorded_over(j, "debt"):
            if _communicated(attempt):
                deadline = j.local(attempt.at).date() + timedelta(days=self.days)
                if j.local(j.at).date() > deadline:
                    return self.deny(
                        f"no validation notice on record, due by {deadline.isoformat()}",
                        first_communication=attempt.at,
                        deadline=deadline,
                    )
                return None
        return None


class PassiveReporting(Rule):
    """No credit reporting before speaking to the consumer, or ``days`` after a message.

    A message counts when it was a letter or an electronic message (``media``)
    that was delivered, and nothing on the same channel came back undeliverable;
    a voicemail does not count.

    Attributes:
        days: Days to wait after a delivered message.
        media: The channels whose delivered messages count.
    """

    days: int = Field(default=14, ge=0)
    media: frozenset[Channel] = frozenset({Channel.LETTER, Channel.EMAIL, Channel.SMS})

    def check(self, j: Judgement) -> Reason | None:
        """Allow after a conversation, or ``days`` after an undisputed delivered message."""
        attempts = [a for a in j.history.attempts if a.party == Party.DEBTOR and a.at <= j.at]
        if any(a.outcome == Outcome.CONVERSATION for a in attempts):
            return None
        bounced = {a.channel for a in attempts if a.outcome == Outcome.FAILED}
        sent = [
            a
            for a in attempts
            if a.outcome == Outcome.DELIVERED
            and a.channel in self.media
            and a.channel not in bounced
        ]
        if sent:
            ready = sent[0].at + timedelta(days=self.days)
            if j.at >= ready:
                return None
            return self.deny(
                f"no conversation, and the first message was sent on "
                f"{sent[0].at.date().isoformat()}: wait {self.days} days",
                retry_at=ready,
                sent_at=sent[0].at,
            )
        return self.deny("no conversation with the consumer and no delivered message")


# -- field visits ---------------------------------------------------------------------------------
class FieldVisitStaffing(Rule):
    """Field visits by at least ``collectors`` collectors, credentialed, registered and recorded.

    Attributes:
        collectors: The least number of collectors.
        credentials: They must carry credentials.
        registered: The visit must be reported in advance.
        recorded: It must be recorded.
    """

    channels: frozenset[Channel] | None = frozenset({Channel.VISIT})
    collectors: int = Field(default=2, ge=1)
    credentials: bool = True
    registered: bool = True
    recorded: bool = True

    def check(self, j: Judgement) -> Reason | None:
        """Deny a visit that lacks any requirement, naming each."""
        visit = j.proposal.visit
        missing: list[str] = []
        staff = visit.collectors if visit is not None else 0
        if staff < self.collectors:
            missing.append(f"{staff} collectors, at least {self.collectors}")
        for need in ("credentials", "registered", "recorded"):
            if getattr(self, need) and not (visit is not None and getattr(visit, need)):
                missing.append(f"not {need}" if need != "credentials" else "no credentials")
        if not missing:
            return None
        return self.deny("field visit: " + "; ".join(missing), missing=missing)


# -- content --------------------------------------------------------------------------------------
class ForbiddenWording(_Wording):
    """The message text must not contain any of these patterns (threats, insults, false claims).

    Attributes:
        patterns: Regular expressions, case-insensitive.
    """

    patterns: tuple[str, ...]

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return self._compile(self.patterns)

    def check(self, j: Judgement) -> Reason | None:
        """Deny a text with a forbidden phrase, showing the match."""
        text = j.proposal.text
        pattern = self._pattern
        if text is None or pattern is None:
            return None
        found = pattern.search(text)
        if found is None:
            return None
        return self.deny(f"forbidden wording: {found.group(0)!r}", match=found.group(0))

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on: the text does not change with the moment."""
        return None


class RequiredWording(_Wording):
    """The message text must contain each required fact.

    Attributes:
        required: Fact name → patterns, one of which must appear.
        first_required: Facts required instead in the first communication with
            the debtor (no earlier contact reached them); empty: same as ``required``.
        first_written_required: Facts required as well in the first written
            communication when every earlier one was oral (a conversation, a
            voicemail); empty: none.
        written_channels: The channels whose messages are written.
    """

    required: dict[str, tuple[str, ...]]
    first_required: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    first_written_required: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    written_channels: frozenset[Channel] = frozenset({Channel.LETTER, Channel.EMAIL, Channel.SMS})

    @cached_property
    def _facts(self) -> dict[str, re.Pattern[str] | None]:
        return {fact: self._compile(patterns) for fact, patterns in self.required.items()}

    @cached_property
    def _first_facts(self) -> dict[str, re.Pattern[str] | None]:
        return {fact: self._compile(patterns) for fact, patterns in self.first_required.items()}

    @cached_property
    def _first_written_facts(self) -> dict[str, re.Pattern[str] | None]:
        extra = {
            fact: self._compile(patterns) for fact, patterns in self.first_written_required.items()
        }
        return {**self._facts, **extra}

    def _which(self, j: Judgement) -> dict[str, re.Pattern[str] | None]:
        """The facts this message needs: first, first written after oral ones, or later."""
        if not (self.first_required or self.first_written_required):
            return self._facts
        attempts = j.history.attempts
        # Both searches stop at the first match: most histories answer within a few entries.
        if not any(map(_communicated, attempts)):
            return self._first_facts if self.first_required else self._facts
        written = self.written_channels
        if (
            self.first_written_required
            and j.proposal.channel in written
            and not any(
                attempt.channel in written and _communicated(attempt) for attempt in attempts
            )
        ):
            return self._first_written_facts
        return self._facts

    def allows_until(self, j: Judgement) -> datetime | None:
        """From then on: the text, and which communication it is (read from every
        attempt on record, whenever), do not change with the moment."""
        return None

    def check(self, j: Judgement) -> Reason | None:
        """Deny a text that lacks a required fact, naming it."""
        text = j.proposal.text
        if text is None:
            return None
        facts = self._which(j)
        missing = [
            fact
            for fact, pattern in facts.items()
            if pattern is not None and not pattern.search(text)
        ]
        if not missing:
            return None
        return self.deny("the text lacks: " + ", ".join(missing), missing=missing)


class LimitedContent(_Wording):
    """A limited-content message goes by voicemail only and never mentions the debt.

    Attributes:
        media: The channels a limited-content message may use.
        debt_words: Patterns that reveal the debt.
    """

    purposes: frozenset[str] | None = frozenset({Purpose.LIMITED_CONTENT})
    media: frozenset[Channel] = frozenset({Channel.VOICEMAIL})
    debt_words: tuple[str, ...] = _DEBT_WORDS_EN

    @cached_property
    def _debt(self) -> re.Pattern[str] | None:
        return self._compile(self.debt_words)

    def check(self, j: Judgement) -> Reason | None:
        """Deny on any other medium, or a text that reveals the debt."""
        if j.proposal.channel not in self.media:
            return self.deny(
                f"a limited-content message may not go by {j.proposal.channel}",
                allowed=sorted(self.media),
            )
        return _reveals(self, j, self._debt)


class SelfIdentification(RequiredWording):
    """A collector says who is contacting: the institution, and (a person) their own identity.

    Facts in ``required`` are required of every message; facts in
    ``personal`` only of a contact a person makes (not ``automated``: an AI
    voice has no staff number to give).

    Attributes:
        personal: Fact name → patterns, required when a person makes the contact.
    """

    personal: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @cached_property
    def _personal_facts(self) -> dict[str, re.Pattern[str] | None]:
        extra = {fact: self._compile(patterns) for fact, patterns in self.personal.items()}
        return {**self._facts, **extra}

    def _which(self, j: Judgement) -> dict[str, re.Pattern[str] | None]:
        """Every fact for a person's contact; the institution's only for an automated one."""
        return self._facts if j.proposal.automated else self._personal_facts


class NoExposure(_Wording):
    """Never expose the debt: no group messages, no unrelated third parties, no publicity.

    Denied: a contact whose purpose is a message to several people at once
    (``group_purposes``); a contact with a third party who is not one of the
    case's contact persons (named by ``party`` with no contact point) or is of
    an ``unrelated_parties`` kind (the employer); a text that publicises the
    debt or threatens to (``patterns``).

    Attributes:
        group_purposes: Purposes that reach several people at once.
        unrelated_parties: Parties never related to the debt, contact point or not.
        patterns: Patterns of publicity (regular expressions, case-insensitive).
    """

    group_purposes: frozenset[str] = frozenset({Purpose.GROUP_MESSAGE})
    unrelated_parties: frozenset[Party] = frozenset({Party.EMPLOYER})
    patterns: tuple[str, ...] = ()

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return self._compile(self.patterns)

    def check(self, j: Judgement) -> Reason | None:
        """Deny a group message, an unrelated third party, or publicity in the text."""
        proposal = j.proposal
        if proposal.purpose in self.group_purposes:
            return self.deny(
                f"a message to several people at once ({proposal.purpose}) exposes the debt",
                purpose=proposal.purpose,
            )
        if j.party != Party.DEBTOR and (
            j.party in self.unrelated_parties or proposal.contact is None
        ):
            why = "the employer" if j.party == Party.EMPLOYER else "no contact person on file"
            return self.deny(
                f"a third party unrelated to the debt ({why}) is never contacted",
                party=j.party,
            )
        text = proposal.text
        pattern = self._pattern
        if text is not None and pattern is not None and (found := pattern.search(text)):
            return self.deny(
                f"the text publicises the debt: {found.group(0)!r}", match=found.group(0)
            )
        return None


# -- calendars and records -------------------------------------------------------------------------
class NoContactOnHolidays(Rule):
    """No contact on public holidays of a country's calendar (the ``holidays`` package).

    Attributes:
        country: ISO 3166 country code, e.g. ``"CN"``.
        subdivision: A state or province code, where holidays differ.
    """

    country: str = Field(pattern=r"^[A-Z]{2}$")
    subdivision: str | None = None

    @cached_property
    def _calendar(self) -> holidays.HolidayBase:
        import holidays  # here, not at the top: the calendars load when first needed

        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    def check(self, j: Judgement) -> Reason | None:
        """Deny on a holiday in the debtor's calendar; retry the next working day at 00:00."""
        day = j.local(j.at).date()
        name = self._calendar.get(day)
        if name is None:
            return None
        after = day + timedelta(days=1)
        while after in self._calendar:
            after += timedelta(days=1)
        return self.deny(
            f"{day.isoformat()} is a public holiday in {self.country} ({name})",
            retry_at=_day_start(after, j.calendar_zone, j.at),
            holiday=name,
        )


class RecordRetention(Rule):
    """An obligation, not a check: keep the journal at least ``years`` years.

    It judges no contact; stores and exports read `years` before purging.

    Attributes:
        years: The least time to keep collection records.
    """

    years: int = Field(ge=1)

    def in_scope(self, channel: str, party: str, purpose: str) -> bool:
        """Never: retention judges no contact."""
        return False

    def check(self, j: Judgement) -> Reason | None:
        """Nothing to judge."""
        return None

    def keep_until(self, last_entry: datetime) -> datetime:
        """The earliest moment the records of a case whose journal ends at *last_entry* may go."""
        try:
            return last_entry.replace(year=last_entry.year + self.years)
        except ValueError:  # 29 February
            return last_entry.replace(year=last_entry.year + self.years, day=28)
