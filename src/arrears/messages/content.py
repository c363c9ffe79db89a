"""Judging a message's text with the content rules of the compliance packs.

The packs' rule objects do the judging (`ForbiddenWording`, `RequiredWording`,
`LimitedContent`, the third-party rules, the opt-out wording of
`MediumOptOut`, the threat words of `TimeBarred`): there is one list of
forbidden phrases, in the packs.  A rule is asked about the text in a
`Judgement` built so that only its content can deny: no contact point, a
history where the debtor was reached before (or, for a first communication,
never), and for a third party one where the debtor could not be reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Final

from ..case import Case, Outcome, Party
from ..compliance import (
    ContactHistory,
    ForbiddenWording,
    Judgement,
    LimitedContent,
    MediumOptOut,
    Proposal,
    Reason,
    RequiredWording,
    Rule,
    ThirdPartyLocationOnly,
    ThirdPartyWhenUnreachable,
    TimeBarred,
)

__all__ = ["CONTENT_RULE_KINDS", "THIRD_PARTY_SAFE", "content_rules", "judge_text"]

CONTENT_RULE_KINDS: Final[tuple[type[Rule], ...]] = (
    ForbiddenWording,
    RequiredWording,
    LimitedContent,
    ThirdPartyLocationOnly,
    ThirdPartyWhenUnreachable,
    MediumOptOut,
    TimeBarred,
)
"""The rule kinds that read a message's text; messages are judged by these."""

THIRD_PARTY_SAFE: Final = ThirdPartyWhenUnreachable(
    id="MSG-THIRD-PARTY",
    title="A message to anyone but the debtor never reveals the debt",
    citation="12 CFR 1006.6(d); NIFA collection standard; applied to every third-party "
    "message whatever the packs",
)
"""Judges every message to a third party, with the debt words of the packs' own rule kind."""


def content_rules(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """The rules among *rules* that judge a message's text."""
    return tuple(rule for rule in rules if isinstance(rule, CONTENT_RULE_KINDS))


def _history(party: str, at: datetime, first: bool) -> ContactHistory:
    return _made_history(party != Party.DEBTOR, first, at, at.tzinfo, at.fold)


@lru_cache(maxsize=64)
def _made_history(
    third_party: bool, first: bool, at: datetime, zone: tzinfo | None, fold: int
) -> ContactHistory:
    """The history judged against, shared by the judgments at one moment (rules only read it).

    *zone* and *fold* are part of the key because equal moments in other
    zones (or the other side of a clock change) would stamp other times.
    """
    history = ContactHistory()
    if third_party:
        # The debtor could not be reached: the condition for contacting anyone else.
        for seq, hours in enumerate((3, 2, 1)):
            history.add(
                seq,
                "interaction",
                at - timedelta(hours=hours),
                {"channel": "call", "outcome": Outcome.NO_ANSWER, "party": Party.DEBTOR},
            )
    elif not first:
        history.add(
            0,
            "interaction",
            at - timedelta(days=1),
            {"channel": "sms", "outcome": Outcome.DELIVERED, "party": Party.DEBTOR},
        )
    return history


def judge_text(
    text: str,
    *,
    channel: str,
    party: str,
    purpose: str,
    rules: Sequence[Rule],
    case: Case,
    at: datetime,
    first_communication: bool = False,
) -> list[Reason]:
    """Every content rule among *rules* that denies *text*, with its reason.

    Args:
        text: The message (an e-mail's subject and body together).
        channel: The channel it goes by.
        party: Whom it is for: ``debtor``, ``third_party`` or ``employer``.
        purpose: What it is for (`arrears.compliance.Purpose`).
        rules: The rules in force (a `Compliance`'s, or a pack's); others than
            content rules are skipped.
        case: The case (time-barred wording depends on its due date).
        at: The moment of sending.
        first_communication: Judge it as the first communication with the debtor.
    """
    proposal = Proposal(channel=channel, party=party, purpose=purpose, text=text)
    judgement = Judgement(case, _history(party, at, first_communication), proposal, at)
    found: list[Reason] = []
    for rule, in_scope in _judging(rules, channel, party, purpose, judgement):
        if rule.admits(judgement) if in_scope else rule.applies(judgement):
            reason = rule.check(judgement)
            if reason is not None:
                found.append(reason)
    return found


#: The most rule sets (with channel, party and purpose) `_judging` remembers.
_JUDGING_LIMIT: Final = 256
_judging_cache: dict[
    tuple[int, str, str, str], tuple[Sequence[Rule], tuple[tuple[Rule, bool], ...]]
] = {}


def _judging(
    rules: Sequence[Rule], channel: str, party: str, purpose: str, judgement: Judgement
) -> tuple[tuple[Rule, bool], ...]:
    """The content rules that may judge a text, each with whether its scope is known to hold.

    A rule of the usual kind is kept only when in scope, and then asked only
    whether it admits the judgment, as `Compliance` does; a rule that decides
    for itself whether it applies is asked that.  The answer for a tuple of
    rules (which cannot change) is remembered by the tuple's identity, the
    tuple kept with it so the identity stays its own.
    """
    key = (id(rules), channel, party, purpose)
    known = _judging_cache.get(key)
    if known is not None and known[0] is rules:
        return known[1]
    chosen = list(content_rules(rules))
    if party != Party.DEBTOR and not any(
        isinstance(rule, ThirdPartyWhenUnreachable) for rule in chosen
    ):
        chosen.append(THIRD_PARTY_SAFE)
    proposal = judgement.proposal
    scope = (proposal.channel, judgement.party, proposal.purpose)
    judging = tuple(
        (rule, True) if type(rule).applies is Rule.applies else (rule, False)
        for rule in chosen
        if type(rule).applies is not Rule.applies or rule.in_scope(*scope)
    )
    if isinstance(rules, tuple):
        if len(_judging_cache) >= _JUDGING_LIMIT:
            _judging_cache.clear()
        _judging_cache[key] = (rules, judging)
    return judging
