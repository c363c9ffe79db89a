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
from datetime import datetime, timedelta
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
    history = ContactHistory()
    if party != Party.DEBTOR:
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
    chosen = list(content_rules(rules))
    if party != Party.DEBTOR and not any(
        isinstance(rule, ThirdPartyWhenUnreachable) for rule in chosen
    ):
        chosen.append(THIRD_PARTY_SAFE)
    proposal = Proposal(channel=channel, party=party, purpose=purpose, text=text)
    judgement = Judgement(case, _history(party, at, first_communication), proposal, at)
    found: list[Reason] = []
    for rule in chosen:
        if rule.applies(judgement):
            reason = rule.check(judgement)
            if reason is not None:
                found.append(reason)
    return found
