"""The policy's reviews: variants, review entries, outbox intents, message
rendering and the adapters that send them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..case import Case
from ..channels import ChannelAdapter
from ..clock import instant, require_aware
from ..compliance import DebtorHistory
from ..errors import (
    InvalidInput,
)
from ..journal import JournalEntry, moment_text
from ..logs import get_logger
from ..messages.context import review_context
from ..policy import Facts, SendAction
from ..recorder import Recorder
from .evidence import latest_next_review

_log = get_logger("arrears")


def record_variant(
    rec: Recorder, case_id: str, variant: str, *, at: datetime | None = None
) -> JournalEntry:
    """Record the champion/challenger variant a case was assigned to."""
    policy = rec.need_policy()
    known = [candidate.id for candidate in policy.variants]
    if variant not in known:
        raise InvalidInput("variant", variant, f"one of the policy's variants {known}")
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    return rec.record(
        case, moment, "variant_assigned", {"variant": variant, "policy": policy.label()}
    )


def record_review(
    rec: Recorder,
    case_id: str,
    *,
    next_review_at: datetime,
    sources: Sequence[str] = (),
    segment: str | None = None,
    open_keys: Sequence[str] = (),
    missed: Sequence[Mapping[str, str]] = (),
    caught_up: Sequence[Mapping[str, str]] = (),
    at: datetime | None = None,
) -> JournalEntry:
    """Record that the policy reviewed the case, and when it looks again.

    *open_keys* are the outbox keys the review leaves without a result (a
    retryable failure, an adapter that could not be asked): the next review
    reads them from here (`arrears.outbox.pending`).  *missed* and
    *caught_up* are the steps due on days without a review (``day``,
    ``step``; a missed one with its ``reason``, or a span of days
    ``from``/``to`` with a reason): see "When the tick runs" in
    ``docs/operations.md``.
    """
    policy = rec.need_policy()
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    upcoming = require_aware(next_review_at, "next_review_at")
    if instant(upcoming) <= instant(moment):
        raise InvalidInput(
            "next_review_at", upcoming.isoformat(), f"a time after {moment.isoformat()}"
        )
    latest = latest_next_review(moment, rec.future_tolerance)
    if upcoming > latest:
        raise InvalidInput(
            "next_review_at",
            upcoming.isoformat(),
            f"a time no later than {latest.isoformat()}, the longest gap between reviews "
            "any policy sets",
        )
    data: dict[str, Any] = {
        "policy": policy.label(),
        "next_review_at": moment_text(upcoming),
        "steps": list(sources),
    }
    if segment is not None:
        data["segment"] = segment
    if case.variant is not None:
        data["variant"] = case.variant
    if open_keys:
        data["open"] = [str(key) for key in open_keys]
    if missed:
        data["missed"] = [dict(item) for item in missed]
    if caught_up:
        data["caught_up"] = [dict(item) for item in caught_up]
    entry = rec.record(case, moment, "review", data)  # in the operation's unit of work, with:
    rec.store.schedule(case_id, upcoming)
    return entry


def record_intent(
    rec: Recorder,
    case_id: str,
    *,
    key: str,
    step: str,
    channel: str,
    contact: str | None,
    template: str | None,
    text: str,
    subject: str | None = None,
    purpose: str | None = None,
    party: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Journal the intent to send a message, before the adapter is called (the outbox).

    The intent says what the message is for when it is not ``collection`` (a
    ``reply`` in the outbox answers the person's contact before it is sent), and
    whom it reaches when not the debtor: the contact point's party and person.
    """
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    data: dict[str, Any] = {
        "key": key,
        "step": step,
        "channel": channel,
        "text": text,
        "policy": rec.need_policy().label(),
    }
    for name, value in (("contact", contact), ("template", template), ("subject", subject)):
        if value is not None:
            data[name] = value
    if purpose is not None and purpose != "collection":
        data["purpose"] = purpose
    point = case.contact(contact) if contact is not None else None
    who = str(point.party) if point is not None else (str(party) if party is not None else None)
    if who is not None and who != "debtor":
        data["party"] = who
    if point is not None and point.person is not None:
        data["person"] = point.person
    rec.record(case, moment, "outbox_intent", data)
    _log.bind().info("outbox_intent", case_id=case_id, channel=channel, step=step)
    return data


def renders(rec: Recorder, template: str | None) -> bool:
    """Whether the engine renders a message of *template* (a template set, and a template
    named), or leaves its text to the host (`render` gives none)."""
    return rec.templates is not None and template is not None


def render(
    rec: Recorder,
    case: Case,
    action: SendAction,
    facts: Facts,
    at: datetime,
    debtor: Callable[[], DebtorHistory | None] | None = None,
) -> tuple[str | None, str | None]:
    """A message's text and subject from the template set; ``(None, None)`` without one.

    *debtor* gives the debtor's history when the template set asks it (the
    recorder's `debtor_history` when ``None``).
    """
    if rec.templates is None or action.template is None:  # `renders`, narrowed for typing
        return None, None
    lender = rec.policy.lender if rec.policy is not None else {}
    # Only the variables the template reads (its amounts cost a Money each).
    used = rec.templates.get(action.template, action.channel, case.debtor.locale).variables
    context = review_context(
        case,
        at,
        used,
        lender=lender,
        deadline_days=action.deadline_days,
        variables=action.variables,
    )
    rendered = rec.templates.render(
        action.template,
        action.channel,
        case.debtor.locale,
        context,
        party=action.party,
        compliance=rec.compliance,
        case=case,
        at=at,
        debtor=debtor if debtor is not None else lambda: rec.debtor_history(case),
    )
    return rendered.text, rendered.subject


def channel_for(rec: Recorder, channel: str) -> ChannelAdapter:
    """The adapter that serves *channel*.

    `arrears.engine.Engine.channel_for`, which documents it.
    """
    for adapter in rec.channels:
        if channel in adapter.channels:
            return adapter
    served = sorted({name for adapter in rec.channels for name in adapter.channels})
    raise InvalidInput("channel", channel, f"a channel an adapter serves ({served})")
