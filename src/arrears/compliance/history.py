"""The contact history: what the compliance rules need from a case's journal, folded once.

Rules ask the same questions on every judgment: how many calls in the last
seven days, when was the last conversation, what did the debtor opt out of.
Parsing a journal of hundreds of entries on every judgment would cost far
more than the rules themselves, so `ContactHistory` keeps only the facts that
matter for contact, in time order, and is brought up to date entry by entry
(`ContactHistory.extend`).  It is a projection of the journal, never a second
source of truth: `ContactHistory.from_entries` rebuilds it from the chain.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Any, Final

from ..journal import JournalEntry

if TYPE_CHECKING:
    from ..case import Case, ContactPoint

__all__ = [
    "AGE_NOTICES",
    "CONSENT_SCOPES",
    "MINOR_NOTICE",
    "NOW_SCOPES",
    "OF_AGE_NOTICE",
    "OPT_OUT_COVERS",
    "PERSON_KINDS",
    "Attempt",
    "ContactHistory",
    "DebtorHistory",
    "Preference",
    "minor_at",
]

#: The journal kind of a contact attempt: each such entry is one `Attempt`.
ATTEMPT_KIND: Final = "interaction"
#: The journal kind of a message about to be handed to its adapter (`arrears.outbox`).
INTENT_KIND: Final = "outbox_intent"
#: Entry kinds that settle an intent's key (`arrears.outbox.RESULT_KINDS`).
SETTLING_KINDS: Final = frozenset({ATTEMPT_KIND, "task_opened"})
#: Journal kinds the history reads; every other kind only moves ``seq`` on (``notice``
#: and ``opened`` for the notices of `AGE_NOTICES`: `ContactHistory.ages`).
CONTACT_KINDS: Final = frozenset(
    {
        ATTEMPT_KIND,
        "consent",
        "opt_out",
        "inconvenient",
        INTENT_KIND,
        "task_opened",
        "notice",
        "opened",
    }
)
#: The notice a lender records when it learns the debtor is a minor
#: (`arrears.compliance.Judgement.debtor_minor`); no birth date is kept.
MINOR_NOTICE: Final = "debtor_minor"
#: The notice a lender records when a debtor recorded as a minor has come of age.
OF_AGE_NOTICE: Final = "debtor_of_age"
#: The notices that say whether the debtor is a minor (`minor_at`): a fact about the
#: person, read on every case of theirs (`DebtorHistory.ages`).
AGE_NOTICES: Final = frozenset({MINOR_NOTICE, OF_AGE_NOTICE})
#: Journal kinds whose statement reaches the person across their debts (`DebtorHistory`):
#: an opt-out of a medium or an address, the times they named inconvenient, and the
#: notices of their being a minor or of age (``notice`` entries of `AGE_NOTICES`).
PERSON_KINDS: Final = frozenset({"opt_out", "inconvenient", "notice"})


@dataclass(frozen=True, slots=True)
class Attempt:
    """One recorded contact attempt.

    Attributes:
        at: When it happened.
        channel: The medium (``call``, ``sms``…).
        outcome: What came of it (``no_answer``, ``conversation``…).
        party: Whom it was meant to reach: ``debtor``, ``third_party`` or ``employer``.
        contact: The contact point's id, when one was used.
        automated: Autodialed, prerecorded or AI voice.
        purpose: What the contact was for (``collection``, ``location``…).
        about: The debtor's other cases (debts) the contact was also about, besides
            the case it is recorded on (a call about two loans counts toward each).
        case: The case it is recorded on, in a `DebtorHistory`; ``None`` in a
            case's own `ContactHistory` (the case itself).
        intent: The outbox key of a message journaled as intended and not yet
            settled by a result (`intended`); ``None`` for a recorded attempt.
        person: The person reached (`arrears.case.ContactPoint.person`), when the
            contact point named one; ``None`` otherwise.
        inbound: The person started it (an inbound call, a text or e-mail from
            them): not an attempt of ours, so no frequency cap counts it.
    """

    at: datetime
    channel: str
    outcome: str
    party: str
    contact: str | None
    automated: bool
    purpose: str
    about: frozenset[str] = frozenset()
    case: str | None = None
    intent: str | None = None
    person: str | None = None
    inbound: bool = False

    def concerns(self, case_id: str) -> bool:
        """True when the attempt was about *case_id*: recorded on it, or naming it in ``about``."""
        return self.case is None or self.case == case_id or case_id in self.about


def attempt_of(at: datetime, data: Mapping[str, Any], case: str | None = None) -> Attempt:
    """The `Attempt` an ``interaction`` entry's *data* records (on *case*, for a debtor's)."""
    about = data.get("about")
    return Attempt(
        at,
        data["channel"],
        data["outcome"],
        data.get("party", "debtor"),
        data.get("contact"),
        bool(data.get("automated", False)),
        data.get("purpose", "collection"),
        frozenset(about) if about else frozenset(),
        case,
        None,
        data.get("person"),
        bool(data.get("inbound", False)),
    )


def intended(at: datetime, data: Mapping[str, Any], case: str | None = None) -> Attempt:
    """The attempt an ``outbox_intent`` entry's *data* announces, its fate not yet known.

    A debtor's other cases count it as a message that may reach them (its
    outcome is ``unknown``) from the moment it is journaled, before any
    adapter is called: a debtor's cases reviewed together each see the
    messages planned for the others.  An intent that names no party is for
    the debtor; one that names no purpose is ``collection``.  A reply in the
    outbox answers the contact it replies to from the moment it is journaled
    (`arrears.compliance.Judgement.started`), so no second reply is approved
    before the first is sent.
    """
    return Attempt(
        at,
        data["channel"],
        "unknown",
        data.get("party", "debtor"),
        data.get("contact"),
        True,
        data.get("purpose", "collection"),
        frozenset(),
        case,
        data["key"],
        data.get("person"),
    )


#: What a consent may be for; each rule reads only the consents for its own question.
CONSENT_SCOPES: Final = frozenset({"hours", "calls", "automated", "medium"})
#: What a consent that names no scope is for: being contacted now (the contact
#: window and the call count), never a standing consent to automated contact or a
#: medium the person opted out of.
NOW_SCOPES: Final = frozenset({"hours", "calls"})

#: An opt-out of a medium covers these proposed channels: a request not to be
#: called covers voicemail left by a call, prerecorded or ringless (a voicemail is a call).
OPT_OUT_COVERS: Final[Mapping[str, frozenset[str]]] = {
    "call": frozenset({"call", "voicemail"}),
    "voicemail": frozenset({"voicemail"}),
    "sms": frozenset({"sms"}),
    "email": frozenset({"email"}),
    "letter": frozenset({"letter"}),
    "visit": frozenset({"visit"}),
}


@dataclass(frozen=True, slots=True)
class Preference:
    """A consent or an opt-out, for a channel and optionally one contact point.

    A consent carries what it covers: its scopes, the channel and
    contact point, and the window it is for (``start`` to ``until``).  An opt-out
    has none of these: it lasts until a consent for the ``medium`` restores it.

    Attributes:
        at: When it was given.
        channel: The medium it is about.
        contact: The contact point it is about; ``None`` means the whole channel.
        scopes: The questions a consent answers (`CONSENT_SCOPES`); ``None`` when
            it names none: then it is a consent to be contacted now (`NOW_SCOPES`).
        start: When the contact it agrees to may begin (``at`` when not said).
        until: When it lapses; ``None`` when not said (each rule then applies its
            own default: an hour for "now", until revoked for a standing consent).
        case: The case it was recorded on, when it reaches this one from another of
            the debtor's (``contact`` is then this case's id for its address);
            ``None`` on its own case.
        person: Who said it, when a person other than the debtor
            (`arrears.case.Person`); ``None`` for the debtor.  An opt-out of a
            whole medium by a person binds contacts with that person only.
        via: The medium an opt-out was asked by (``sms`` for a text saying STOP,
            ``call`` for a request made on the phone), when recorded; ``None``
            when not known (journals from before it was recorded): the one
            confirmation of an opt-out goes back through it
            (`arrears.compliance.MediumOptOut`).
    """

    at: datetime
    channel: str
    contact: str | None
    scopes: frozenset[str] | None = None
    start: datetime | None = None
    until: datetime | None = None
    case: str | None = None
    person: str | None = None
    via: str | None = None

    def binds(self, person: str | None) -> bool:
        """True when this preference binds a contact reaching *person* (the person's id,
        the debtor's, or ``None``): said by the debtor, about one address, or by them."""
        return self.person is None or self.contact is not None or self.person == person

    def covers(self, channel: str, contact: str | None) -> bool:
        """True when this preference is about *channel* and (if it names one) *contact*."""
        return self.channel == channel and (self.contact is None or self.contact == contact)

    def scoped(self, scope: str) -> bool:
        """True when this consent answers *scope* (``hours``, ``calls``…)."""
        return scope in (NOW_SCOPES if self.scopes is None else self.scopes)

    def window(self, default: timedelta | None) -> tuple[datetime, datetime | None]:
        """The moments it covers: from ``start`` (or ``at``) to ``until``, or to
        *default* after the start when no end was said (``None``: no end)."""
        begin = self.start or self.at
        if self.until is not None:
            return begin, self.until
        return begin, (begin + default if default is not None else None)


class ContactHistory:
    """The contact facts of one case, in time order, for the compliance rules.

    Attributes:
        seq: The sequence number of the last journal entry folded in (-1 when empty).
        attempts: Every recorded contact attempt, oldest first.
        consents: The debtor's direct consents to be contacted, oldest first.
        opt_outs: Media and addresses the debtor opted out of, oldest first.
        inconvenient: Local times the debtor named as inconvenient (start, end);
            the latest statement replaces the earlier ones.
        named_by: Local times each person other than the debtor named as
            inconvenient to them, by person id (`arrears.case.Person`).
        intents: The messages journaled as intended and not yet settled by a
            result, by outbox key (`intended`): not attempts of this case's own
            rules, counted by the debtor's other cases (`DebtorHistory`).
        ages: Every notice of `AGE_NOTICES` on the case, as ``(moment, kind)`` in time
            order: those its opening carried (`arrears.case.Case.notices`, as the host
            gave them) and each recorded since.  `arrears.case.Case.notices` keeps
            only the latest of each kind; whether the debtor was a minor at an earlier
            moment is read from all of them (`minor_at`).
    """

    __slots__ = (
        "_stamps",
        "ages",
        "attempts",
        "consents",
        "inconvenient",
        "intents",
        "named_by",
        "opt_outs",
        "seq",
    )

    def __init__(self) -> None:
        self.seq = -1
        self.attempts: list[Attempt] = []
        self._stamps: list[float] = []
        self.consents: list[Preference] = []
        self.opt_outs: list[Preference] = []
        self.inconvenient: tuple[tuple[time, time], ...] = ()
        self.named_by: dict[str, tuple[tuple[time, time], ...]] = {}
        self.intents: dict[str, Attempt] = {}
        self.ages: list[tuple[datetime, str]] = []

    @classmethod
    def from_entries(cls, entries: Iterable[JournalEntry]) -> ContactHistory:
        """Fold a case's journal entries (oldest first) into a history."""
        history = cls()
        history.extend(entries)
        return history

    def extend(self, entries: Iterable[JournalEntry]) -> None:
        """Fold the entries after ``seq`` in; entries already folded are skipped."""
        for entry in entries:
            if entry.seq > self.seq:
                data = entry.data if entry.kind in CONTACT_KINDS else _EMPTY
                self.add(entry.seq, entry.kind, entry.at, data)

    def add(self, seq: int, kind: str, at: datetime, data: Mapping[str, Any]) -> None:
        """Fold one journal entry in (the engine calls this as it records)."""
        self.seq = seq
        if kind in SETTLING_KINDS and self.intents:
            self.intents.pop(data.get("key"), None)  # type: ignore[arg-type]
        if kind == ATTEMPT_KIND:
            self.attempts.append(attempt_of(at, data))
            self._stamps.append(at.timestamp())
        elif kind == INTENT_KIND:
            self.intents.setdefault(data["key"], intended(at, data))
        elif kind == "consent":
            covers = data.get("covers")
            start = data.get("start")
            until = data.get("until")
            self.consents.append(
                Preference(
                    at,
                    data["channel"],
                    data.get("contact"),
                    frozenset(covers) if covers is not None else None,
                    datetime.fromisoformat(start) if start is not None else None,
                    datetime.fromisoformat(until) if until is not None else None,
                )
            )
        elif kind == "opt_out":
            self.opt_outs.append(
                Preference(
                    at,
                    data["channel"],
                    data.get("contact"),
                    person=data.get("person"),
                    via=data.get("via"),
                )
            )
        elif kind == "inconvenient":
            person = data.get("person")
            if person is None:
                self.inconvenient = spans_of(data)
            else:
                self.named_by[person] = spans_of(data)
        elif kind == "notice":
            notice = data.get("notice")
            if notice in AGE_NOTICES:
                insort(self.ages, (at, notice))
        elif kind == "opened":
            self.ages = opening_ages(data)

    def copy(self) -> ContactHistory:
        """An independent copy (the facts themselves are immutable and shared)."""
        twin = ContactHistory()
        twin.seq = self.seq
        twin.attempts = list(self.attempts)
        twin._stamps = list(self._stamps)
        twin.consents = list(self.consents)
        twin.opt_outs = list(self.opt_outs)
        twin.inconvenient = self.inconvenient
        twin.named_by = dict(self.named_by)
        twin.intents = dict(self.intents)
        twin.ages = list(self.ages)
        return twin

    def since(self, moment: datetime) -> Sequence[Attempt]:
        """The attempts at or after *moment*, oldest first."""
        return self.attempts[bisect_left(self._stamps, moment.timestamp()) :]

    def last_consent(self, channel: str, contact: str | None) -> Preference | None:
        """The latest consent about *channel* and *contact*, whatever it covers.

        Rules read `consents_for` instead, which keeps to one scope.
        """
        for consent in reversed(self.consents):
            if consent.covers(channel, contact):
                return consent
        return None

    def consents_for(self, scope: str, channel: str) -> list[Preference]:
        """The consents that answer *scope* on *channel*, latest first."""
        return [
            consent
            for consent in reversed(self.consents)
            if consent.channel == channel and consent.scoped(scope)
        ]

    def opt_out_for(self, channel: str, contact: str | None) -> Preference | None:
        """The latest opt-out about exactly *channel* and *contact*, if any.

        Rules read `arrears.compliance.rules.opted_out_since`, which also counts
        an opt-out of calls against voicemail and one address against its other
        contact points.
        """
        for opt_out in reversed(self.opt_outs):
            if opt_out.covers(channel, contact):
                return opt_out
        return None


class DebtorHistory:
    """The contact attempts on every case of one debtor, in time order, each naming its case.

    Rules that count over the debtor's debts (`arrears.compliance.FrequencyCap`
    with ``across="debtor"``), or over one debt when a contact recorded on
    another case was about it too, read it beside the case's own history.  It
    holds the messages journaled as intended and not yet settled too
    (`intended`, ``intent`` set): a debtor's cases reviewed in one tick each
    see the others' planned messages before any is sent.  Like
    `ContactHistory` it is a projection of the journal: the engine builds it
    from the cases' histories and folds each new attempt in as it records it.

    It holds what the person said that reaches all their debts too
    (`PERSON_KINDS`): each case's opt-outs and the times named inconvenient
    there, which the rules read on the debtor's other cases
    (`arrears.compliance.Judgement.opt_outs`); and what the lender recorded of
    the person's age on each case (`AGE_NOTICES`): a debtor recorded as a minor
    on one loan is a minor on each (`arrears.compliance.Judgement.debtor_minor`).

    Attributes:
        debtor: The debtor's id.
        cases: The debtor's case ids, in case id order.
        attempts: Every attempt on those cases, oldest first (`Attempt.case` set).
        addresses: Each case's contact points' addresses by id (personal data:
            kept in memory for matching a number across cases, never logged).
        persons: Each case's contact points' persons by id (`arrears.case.Person`),
            for the points that name one.
        folded: Each case's last folded entry: its sequence number and hash.
        opt_outs: Every opt-out on those cases, oldest first (`Preference.case` set).
        inconvenient: The times named inconvenient on each case that has any, by case id.
        ages: Each case's notices of `AGE_NOTICES` (`ContactHistory.ages`: every one,
            as ``(moment, kind)`` in time order), by case id, for the cases that have one.
        debts: The cases counted as one particular debt with each case, itself
            included (student loans of one account, `arrears.case.StudentLoan`);
            a case absent is its own debt.
        jurisdictions: The jurisdictions the debtor's cases carry
            (`arrears.Debtor.effective_jurisdiction`), each once, in case id order:
            the rule sets of all of them judge each case
            (`arrears.compliance.Compliance.rules_for_debtor`).
    """

    __slots__ = (
        "_carried",
        "_counted",
        "_open",
        "_reaching",
        "_stamps",
        "addresses",
        "ages",
        "attempts",
        "cases",
        "debtor",
        "debts",
        "folded",
        "inconvenient",
        "jurisdictions",
        "opt_outs",
        "persons",
    )

    def __init__(
        self,
        debtor: str,
        cases: Sequence[str],
        addresses: Mapping[str, Mapping[str, str]],
        debts: Mapping[str, tuple[str, ...]] | None = None,
        persons: Mapping[str, Mapping[str, str]] | None = None,
        jurisdictions: Sequence[str] = (),
    ) -> None:
        self.debtor = debtor
        self.cases = tuple(cases)
        self.addresses = addresses
        self.debts: Mapping[str, tuple[str, ...]] = debts or {}
        self.persons: Mapping[str, Mapping[str, str]] = persons or {}
        self.jurisdictions: tuple[str, ...] = tuple(jurisdictions)
        self.attempts: list[Attempt] = []
        self._stamps: list[float] = []
        self._open: set[tuple[str | None, str]] = set()  # (case, key) of the intents held
        # What `counted` and `opt_outs_on` keep per case (see there for how it stays true).
        self._counted: dict[tuple[str, str], tuple[float, list[Attempt], list[float]]] = {}
        self._carried: dict[str, tuple[tuple[ContactPoint, ...], list[Preference]]] = {}
        # `opt_outs_reaching`'s: from the own list at its length and `opt_outs_on`'s list.
        self._reaching: dict[
            str, tuple[Sequence[Preference], int, list[Preference], list[Preference]]
        ] = {}
        self.folded: dict[str, tuple[int, str]] = {}
        self.opt_outs: list[Preference] = []
        self.inconvenient: dict[str, tuple[tuple[time, time], ...]] = {}
        self.ages: dict[str, list[tuple[datetime, str]]] = {}

    @classmethod
    def merge(
        cls,
        debtor: str,
        histories: Mapping[str, ContactHistory],
        folded: Mapping[str, tuple[int, str]],
        addresses: Mapping[str, Mapping[str, str]],
        flagged: Mapping[str, Sequence[Preference]] | None = None,
        debts: Mapping[str, tuple[str, ...]] | None = None,
        persons: Mapping[str, Mapping[str, str]] | None = None,
        jurisdictions: Sequence[str] = (),
    ) -> DebtorHistory:
        """The debtor's history from each case's (*histories*, by case id, in case id order).

        *flagged*: each case's contact points recorded as opted out when it was
        opened, as opt-outs at its opening; they reach the other cases as one
        recorded there does.  *debts*: the cases counted as one particular debt
        with each case (`DebtorHistory.debts`).  *persons*: each case's contact
        points' persons by id (`DebtorHistory.persons`).  *jurisdictions*: those the
        cases carry (`DebtorHistory.jurisdictions`).  Each case's notices of
        `AGE_NOTICES` come from its history (`ContactHistory.ages`).
        """
        merged = cls(debtor, list(histories), addresses, debts, persons, jurisdictions)
        tagged = [
            replace(attempt, case=case_id)
            for case_id, history in histories.items()
            for attempt in (*history.attempts, *history.intents.values())
        ]
        tagged.sort(key=_moment)  # stable: one case's attempts keep their journal order
        merged.attempts = tagged
        merged._stamps = [attempt.at.timestamp() for attempt in tagged]
        merged._open = {(a.case, a.intent) for a in tagged if a.intent is not None}
        merged.folded = dict(folded)
        on_file = flagged or {}
        merged.opt_outs = sorted(
            (
                replace(opt_out, case=case_id)
                for case_id, history in histories.items()
                for opt_out in (*on_file.get(case_id, ()), *history.opt_outs)
            ),
            key=_said_at,
        )
        merged.inconvenient = {
            case_id: history.inconvenient
            for case_id, history in histories.items()
            if history.inconvenient
        }
        merged.ages = {
            case_id: list(history.ages) for case_id, history in histories.items() if history.ages
        }
        return merged

    def opt_outs_on(self, case: Case) -> list[Preference]:
        """The opt-outs recorded on the debtor's other cases, as they read on *case*,
        oldest first: one of a whole medium as it is; one of an address as an opt-out of
        each of *case*'s contact points with that address (`Preference.case` naming
        where it was recorded); one of an address *case* does not have, none.

        Kept per case with its contact points (changed ones are another tuple: worked
        out again), cleared when an opt-out is folded in (`state`); shared: not to change.
        """
        here, contacts = case.id, case.contacts
        kept = self._carried.get(here)
        if kept is not None and kept[0] is contacts:
            return kept[1]
        found: list[Preference] = []
        for said in self.opt_outs:
            if said.case == here:
                continue
            if said.contact is None:
                found.append(said)
                continue
            address = self.addresses.get(said.case or "", {}).get(said.contact)
            if address is None or address == "unknown":
                continue
            # `dataclasses.replace(said, contact=point.id)`, spelt out: twice as fast.
            found.extend(
                Preference(
                    said.at,
                    said.channel,
                    point.id,
                    said.scopes,
                    said.start,
                    said.until,
                    said.case,
                    said.person,
                    said.via,
                )
                for point in contacts
                if point.address == address
            )
        self._carried[here] = (contacts, found)
        return found

    def opt_outs_reaching(self, case: Case, own: Sequence[Preference]) -> Sequence[Preference]:
        """The opt-outs that reach *case*, oldest first: its own (*own*, oldest first)
        and those recorded on the debtor's other cases as they read on it
        (`opt_outs_on`), its own first at the same moment; *own* itself when no
        other case's reach it.

        Kept per case with the lists it merged: *own* as long as nothing is added
        to it, and `opt_outs_on`'s (another list once an opt-out is folded in or the
        case's contact points change); shared: not to change.
        """
        foreign = self.opt_outs_on(case)
        if not foreign:
            return own
        kept = self._reaching.get(case.id)
        if kept is not None and kept[0] is own and kept[1] == len(own) and kept[2] is foreign:
            return kept[3]
        found = sorted([*own, *foreign], key=_said_at)  # stable: own first at a moment
        self._reaching[case.id] = (own, len(own), foreign, found)
        return found

    def state(self, case: str, kind: str, at: datetime, data: Mapping[str, Any]) -> None:
        """Fold in what the person said on *case* that reaches their other debts
        (an entry of a kind of `PERSON_KINDS`; other kinds are ignored)."""
        if kind == "opt_out":
            self._carried.clear()
            opt_out = Preference(
                at,
                data["channel"],
                data.get("contact"),
                case=case,
                person=data.get("person"),
                via=data.get("via"),
            )
            if self.opt_outs and at < self.opt_outs[-1].at:
                self.opt_outs.insert(bisect_right([o.at for o in self.opt_outs], at), opt_out)
            else:
                self.opt_outs.append(opt_out)
        elif kind == "inconvenient" and "person" not in data:  # a person's are their own
            self.inconvenient[case] = spans_of(data)
        elif kind == "notice" and data.get("notice") in AGE_NOTICES:
            insort(self.ages.setdefault(case, []), (at, data["notice"]))

    def minor(self, case: str, own: Iterable[tuple[datetime, str]], at: datetime) -> bool:
        """True when the debtor is recorded as a minor at *at* (`minor_at`), read on
        every case: *case*'s own age notices (*own*, ``(moment, kind)`` pairs: its
        `ContactHistory.ages`) and those recorded on the debtor's other cases (`ages`)."""
        others = [kept for other, kept in self.ages.items() if other != case]
        if not others:
            return minor_at(own, at)
        return minor_at(chain(own, *others), at)

    def later_age_notice(self, at: datetime) -> bool:
        """True when an age notice on one of the debtor's cases is dated after *at*."""
        return any(kept[-1][0] > at for kept in self.ages.values())

    def add(self, attempt: Attempt) -> None:
        """Fold one attempt in (``attempt.case`` set), in time order."""
        if attempt.intent is not None:
            self._open.add((attempt.case, attempt.intent))
        stamp = attempt.at.timestamp()
        _insert(self.attempts, self._stamps, attempt, stamp)
        for (case, across), (cover, picked, stamps) in self._counted.items():
            if stamp >= cover and self._counts(attempt, case, across):
                _insert(picked, stamps, attempt, stamp)

    def settle(self, case: str, key: str) -> None:
        """Drop *case*'s intended message *key*: its result is recorded."""
        if (case, key) not in self._open:
            return
        self._open.discard((case, key))
        for index in range(len(self.attempts) - 1, -1, -1):
            attempt = self.attempts[index]
            if attempt.intent == key and attempt.case == case:
                stamp = self._stamps[index]
                del self.attempts[index]
                del self._stamps[index]
                for (judged, across), (cover, picked, stamps) in self._counted.items():
                    if stamp >= cover and self._counts(attempt, judged, across):
                        at = bisect_left(stamps, stamp)
                        while picked[at] is not attempt:  # those at the same moment
                            at += 1
                        del picked[at]
                        del stamps[at]
                return

    def since(self, moment: datetime) -> Sequence[Attempt]:
        """The attempts at or after *moment*, oldest first."""
        return self.attempts[bisect_left(self._stamps, moment.timestamp()) :]

    def counted(self, case: str, across: str, moment: datetime) -> Sequence[Attempt]:
        """The attempts at or after *moment*, oldest first, that a frequency cap judging
        *case* may count (`arrears.compliance.FrequencyCap`): with *across* ``debt``
        those about its debt (`Attempt.concerns` it, or a case counted as one debt with
        it in `debts`: 12 CFR 1006.14(b)(4)), with ``debtor`` all.  The messages
        journaled as intended and not yet settled count, *case*'s own too: two
        messages planned in one review of a case are two messages that may reach the
        person (the judgment of an intent sent again under its key leaves that one out:
        `arrears.compliance.Judgement.resending`).

        Kept per case and *across*, picked from the earliest *moment* asked on (a
        judgment's windows, then later ones): later asks cut the pick by its stamps;
        `add` and `settle` fold an attempt into each pick kept, or out of it.
        """
        stamp = moment.timestamp()
        kept = self._counted.get((case, across))
        if kept is None or stamp < kept[0]:
            first = bisect_left(self._stamps, stamp)
            picked = [a for a in self.attempts[first:] if self._counts(a, case, across)]
            kept = (stamp, picked, [attempt.at.timestamp() for attempt in picked])
            self._counted[(case, across)] = kept
        _, attempts, stamps = kept
        return attempts[bisect_left(stamps, stamp) :]

    def _counts(self, attempt: Attempt, case: str, across: str) -> bool:
        """Whether `counted` picks *attempt* for *case* and *across*."""
        return across != "debt" or any(map(attempt.concerns, self.debts.get(case, (case,))))

    def address(self, attempt: Attempt) -> str | None:
        """The address of the contact point *attempt* used (``None``: none named, or unknown)."""
        if attempt.contact is None or attempt.case is None:
            return None
        return self.addresses.get(attempt.case, {}).get(attempt.contact)


def _insert(attempts: list[Attempt], stamps: list[float], attempt: Attempt, stamp: float) -> None:
    """Put *attempt* (at *stamp*) in time order, after those at the same moment."""
    if not stamps or stamp >= stamps[-1]:
        attempts.append(attempt)
        stamps.append(stamp)
        return
    index = bisect_right(stamps, stamp)
    attempts.insert(index, attempt)
    stamps.insert(index, stamp)


def minor_at(notices: Iterable[tuple[datetime, str]], at: datetime) -> bool:
    """True when *notices* (age notices as ``(moment, kind)``, in any order: the
    history of them, not only the latest of each kind) record the debtor as a minor
    at *at*: the latest of them at or before *at* is a `MINOR_NOTICE`, and no
    `OF_AGE_NOTICE` is at that same moment (one at the same moment ends it).
    Without a minor notice the debtor is taken to be an adult.

        >>> from datetime import UTC, datetime
        >>> day = [datetime(2026, 10, d, tzinfo=UTC) for d in range(1, 7)]
        >>> told = [(day[0], MINOR_NOTICE), (day[2], OF_AGE_NOTICE), (day[4], MINOR_NOTICE)]
        >>> [minor_at(told, moment) for moment in day]
        [True, True, False, False, True, True]
    """
    latest: datetime | None = None
    minor = False
    for moment, kind in notices:
        if moment > at:
            continue
        if latest is None or moment > latest:
            latest, minor = moment, kind == MINOR_NOTICE
        elif moment == latest and kind != MINOR_NOTICE:
            minor = False
    return minor


def opening_ages(data: Mapping[str, Any]) -> list[tuple[datetime, str]]:
    """The notices of `AGE_NOTICES` an ``opened`` entry's *data* carries in its case
    (`arrears.case.Case.notices` as the host gave them), as ``(moment, kind)`` in
    time order: the snapshot is parsed only when it may hold one."""
    snapshot = data.get("case")
    if not isinstance(snapshot, str) or not any(key in snapshot for key in _AGE_KEYS):
        return []
    notices = json.loads(snapshot).get("notices") or {}
    return sorted(
        (datetime.fromisoformat(moment), kind)
        for kind, moment in notices.items()
        if kind in AGE_NOTICES
    )


def spans_of(data: Mapping[str, Any]) -> tuple[tuple[time, time], ...]:
    """The local time spans an ``inconvenient`` entry's *data* names."""
    return tuple(
        (time.fromisoformat(start), time.fromisoformat(end)) for start, end in data["spans"]
    )


def _moment(attempt: Attempt) -> datetime:
    return attempt.at


def _said_at(preference: Preference) -> datetime:
    return preference.at


_EMPTY: Final[Mapping[str, Any]] = {}
#: The age notices as keys of the JSON of an ``opened`` entry's case (`opening_ages`).
_AGE_KEYS: Final = tuple(f'"{kind}":' for kind in sorted(AGE_NOTICES))
