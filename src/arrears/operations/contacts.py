"""Contacts and consent: interactions, consents, opt-outs, inconvenient times,
notices, and compliance's judgment of a proposed contact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, time
from typing import Any

from ..case import Case, Channel, Outcome, Party, mask
from ..clock import require_aware
from ..compliance import CONSENT_SCOPES, DebtorHistory, Proposal, Verdict
from ..errors import (
    InvalidInput,
)
from ..guards import SYSTEM, Actor
from ..journal import JournalEntry
from ..logs import get_logger
from ..recorder import Recorder
from ._common import enum_of
from .stages import react

_log = get_logger("arrears")

#: What an inbound contact (one the person started) may have come to: we talked,
#: they left a message, or their text or e-mail reached us.
INBOUND_OUTCOMES = frozenset(
    {Outcome.CONVERSATION, Outcome.VOICEMAIL, Outcome.DELIVERED, Outcome.REPLY}
)


def record_interaction(
    rec: Recorder,
    case_id: str,
    channel: Channel | str,
    outcome: Outcome | str,
    *,
    contact: str | None = None,
    party: Party | str | None = None,
    purpose: str | None = None,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
    automated: bool = False,
    key: str | None = None,
    provider_id: str | None = None,
    recovered: str | None = None,
    step: str | None = None,
    reported_at: datetime | None = None,
    about: Iterable[str] | None = None,
    inbound: bool = False,
) -> JournalEntry:
    """Record a contact attempt and its outcome (a call, an SMS, a visit…).

    `arrears.engine.Engine.record_interaction`, which documents it.  The tick
    closes an open outbox intent of an earlier review with *recovered* (how:
    ``report``, ``resent`` or ``unanswered``), its *step*, and *reported_at*,
    when the provider says the message's status changed.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    data: dict[str, Any] = {
        "channel": str(enum_of(Channel, channel, "channel")),
        "outcome": str(enum_of(Outcome, outcome, "outcome")),
        "actor": actor.id,
        "automated": bool(automated),
    }
    who = None if party is None else str(enum_of(Party, party, "party"))
    if contact is not None:
        point = contact_point(rec, case, contact)
        if who is not None and who != point.party:
            raise InvalidInput("party", who, f"the party of contact point {contact!r}")
        data["contact"] = contact
        who = str(point.party)
        if point.person is not None:
            data["person"] = point.person
    data["party"] = who or str(Party.DEBTOR)
    if inbound is not False:
        if inbound is not True:
            raise InvalidInput("inbound", inbound, "True or False")
        if data["outcome"] not in INBOUND_OUTCOMES:
            expected = f"one of {sorted(map(str, INBOUND_OUTCOMES))} for an inbound contact"
            raise InvalidInput("outcome", data["outcome"], expected)
        # An autodialed call, or the result of an outbox message, is ours: marked
        # theirs, it would leave every frequency cap.
        if automated:
            raise InvalidInput("inbound", True, "False for an automated contact: we placed it")
        if key is not None or recovered is not None:
            raise InvalidInput(
                "inbound", True, "False for the result of an outbox message (key): it is ours"
            )
        data["inbound"] = True
    if purpose is not None:
        if not isinstance(purpose, str) or not purpose.isidentifier():
            raise InvalidInput("purpose", purpose, "a purpose such as 'collection'")
        data["purpose"] = purpose
    if about is not None:
        others = about_cases(rec, case, about)
        if others:
            data["about"] = others
    if key is not None:
        data["key"] = str(key)
    if provider_id is not None:
        data["provider_id"] = str(provider_id)
    if recovered is not None:
        data["recovered"] = recovered
        if step is not None:
            data["step"] = step
        if reported_at is not None:
            data["reported_at"] = require_aware(reported_at, "reported_at").isoformat()
    entry = rec.record(case, moment, "interaction", data)
    _log.bind().info(
        "interaction", case_id=case_id, channel=data["channel"], outcome=data["outcome"]
    )
    react(rec, case_id, data["outcome"], moment)
    return entry


def about_cases(rec: Recorder, case: Case, about: Iterable[str]) -> list[str]:
    """The debtor's other cases a contact on *case* was also about, checked, in id order.

    The case itself may be named (it is left out: a contact is always about its own case).

    Raises:
        InvalidInput: a case that is not one of the debtor's, naming ``about``.
    """
    if isinstance(about, str):
        about = (about,)
    named = set(about)
    known = set(rec.store.cases_of(case.debtor.id))
    strangers = sorted(name if isinstance(name, str) else repr(name) for name in named - known)
    if strangers:
        raise InvalidInput("about", strangers, f"cases of the same debtor {sorted(known)}")
    named.discard(case.id)
    return sorted(named)


def contact_point(rec: Recorder, case: Case, contact: str) -> Any:
    """The case's contact point *contact*; `InvalidInput` (the value masked) if it has none."""
    try:
        return case.contact(contact)
    except KeyError:
        known = [point.id for point in case.contacts]
        # Masked: a caller may pass a phone number where an id belongs.
        raise InvalidInput(
            "contact", mask(contact), f"one of the case's contacts {known}"
        ) from None


def record_preference(
    rec: Recorder,
    kind: str,
    case_id: str,
    channel: Channel | str,
    contact: str | None,
    at: datetime | None,
    actor: Actor,
    *,
    covers: Iterable[str] | None = None,
    start: datetime | None = None,
    until: datetime | None = None,
    person: str | None = None,
    via: Channel | str | None = None,
) -> JournalEntry:
    """Record a ``consent`` or an ``opt_out`` (*kind*) for a channel or one contact point.

    A consent may say what it covers (*covers*, see
    `arrears.compliance.CONSENT_SCOPES`) and the window it is for (*start*,
    *until*); an opt-out says neither, and may say who asked (*person*, or the
    person the contact point names) and the medium the request came by (*via*).
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    data: dict[str, Any] = {
        "channel": str(enum_of(Channel, channel, "channel")),
        "actor": actor.id,
    }
    point = None
    if contact is not None:
        point = contact_point(rec, case, contact)
        data["contact"] = contact
    if kind == "opt_out":
        said_by = speaker(case, person, point)
        if said_by is not None:
            data["person"] = said_by
        if via is not None:
            data["via"] = str(enum_of(Channel, via, "via"))
    elif via is not None:
        raise InvalidInput("via", via, "None: a consent is recorded as given")
    elif person is not None:
        raise InvalidInput("person", person, "None: a consent is the person's at the contact point")
    if kind == "consent":
        data.update(_consent_scope(covers, start, until, moment))
    elif covers is not None or start is not None or until is not None:
        raise InvalidInput("covers", covers, "nothing: an opt-out has no scope or window")
    entry = rec.record(case, moment, kind, data)
    _log.bind().info(kind, case_id=case_id, channel=data["channel"])
    return entry


def speaker(case: Case, person: str | None, point: Any = None) -> str | None:
    """Who made a statement: a person of the case other than the debtor, or ``None`` for
    the debtor; *person* as given, else the person the contact point *point* names.

    Raises:
        InvalidInput: *person* is not one of the case's persons, or not the person
            *point* names.
    """
    named = point.person if point is not None else None
    if named == case.debtor.id:
        named = None
    if person is None or person == case.debtor.id:
        if person is not None and named is not None:
            raise InvalidInput("person", person, f"the person of contact point {point.id!r}")
        return named
    if case.person(person) is None:
        known = sorted(each.id for each in case.persons)
        raise InvalidInput("person", person, f"the debtor's id or one of the persons {known}")
    if point is not None and named != person:
        raise InvalidInput("person", person, f"the person of contact point {point.id!r}")
    return person


def _consent_scope(
    covers: Iterable[str] | None,
    start: datetime | None,
    until: datetime | None,
    moment: datetime,
) -> dict[str, Any]:
    """The ``covers``, ``start`` and ``until`` keys of a consent, checked."""
    data: dict[str, Any] = {}
    if covers is not None:
        if isinstance(covers, str):
            covers = (covers,)
        scopes = sorted(set(covers))
        unknown = [scope for scope in scopes if scope not in CONSENT_SCOPES]
        if unknown or not scopes:
            raise InvalidInput("covers", unknown or scopes, f"some of {sorted(CONSENT_SCOPES)}")
        data["covers"] = scopes
    begin = moment
    if start is not None:
        begin = require_aware(start, "start")
        data["start"] = begin.isoformat()
    if until is not None:
        end = require_aware(until, "until")
        if end <= begin:
            raise InvalidInput("until", end.isoformat(), f"a time after {begin.isoformat()}")
        data["until"] = end.isoformat()
    return data


def record_inconvenient(
    rec: Recorder,
    case_id: str,
    start: time,
    end: time,
    *,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
    person: str | None = None,
) -> JournalEntry:
    """Record local times the debtor (or *person*) named as inconvenient, ``start`` to ``end``.

    `arrears.engine.Engine.record_inconvenient`, which documents it.
    """
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, time) or value.tzinfo is not None:
            raise InvalidInput(name, value, "a local time of day such as time(12, 0)")
    if start == end:
        raise InvalidInput("end", end.isoformat(), "a time other than start")
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    said_by = speaker(case, person)
    history = rec.history(case_id)
    before = history.inconvenient if said_by is None else history.named_by.get(said_by, ())
    spans = [
        *([s.isoformat(), e.isoformat()] for s, e in before),
        [start.isoformat(), end.isoformat()],
    ]
    data: dict[str, Any] = {"spans": spans, "actor": actor.id}
    if said_by is not None:
        data["person"] = said_by
    entry = rec.record(case, moment, "inconvenient", data)
    _log.bind().info("inconvenient_times", case_id=case_id)
    return entry


def judge_contact(
    rec: Recorder,
    case_id: str,
    proposal: Proposal | Mapping[str, Any],
    *,
    at: datetime | None = None,
    record: bool = True,
    actor: Actor = SYSTEM,
    key: str | None = None,
    resending: str | None = None,
    debtor: Callable[[], DebtorHistory | None] | None = None,
) -> Verdict:
    """Judge a proposed contact with the engine's compliance rules, before it happens.

    `arrears.engine.Engine.judge_contact`, which documents it; *resending* is the
    outbox key of an intent the tick sends again (`arrears.compliance.Compliance.judge`);
    *debtor* gives the debtor's history when a rule asks it (the recorder's
    `debtor_history` when ``None``): a review that has it already hands it over.
    """
    case = rec.store.get(case_id)
    rec.lock_debtor(case)  # what another writer adds to the debtor's loans: before, or after
    moment = rec.moment(case_id, at)
    verdict = rec.compliance.judge(
        case,
        rec.history(case_id),
        proposal,
        moment,
        debtor=debtor if debtor is not None else lambda: rec.debtor_history(case),
        resending=resending,
    )
    if verdict.allowed or not record:
        return verdict
    chosen = verdict.proposal
    data: dict[str, Any] = {
        "channel": chosen.channel,
        "purpose": chosen.purpose,
        "automated": chosen.automated,
        "reasons": [reason.to_json() for reason in verdict.reasons],
        "actor": actor.id,
    }
    if chosen.contact is not None:
        data["contact"] = chosen.contact
    if chosen.party is not None:
        data["party"] = chosen.party
    if verdict.next_allowed_at is not None:
        data["next_allowed_at"] = verdict.next_allowed_at.isoformat()
    if key is not None:
        data["key"] = key
    rec.record(case, moment, "contact_denied", data)
    _log.bind().info(
        "contact_denied",
        case_id=case_id,
        channel=chosen.channel,
        rules=list(verdict.rules),
        actor=actor.id,
    )
    return verdict


def record_notice(
    rec: Recorder, case_id: str, notice: str, *, at: datetime | None = None, actor: Actor = SYSTEM
) -> JournalEntry:
    """Record that a notice (e.g. ``"demand_letter"``) was sent; guards count from it."""
    if not isinstance(notice, str) or not notice.isidentifier():
        raise InvalidInput("notice", notice, "a notice kind such as 'demand_letter'")
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    entry = rec.record(case, moment, "notice", {"notice": notice, "actor": actor.id})
    _log.bind().info("notice_sent", case_id=case_id, notice=notice)
    return entry
