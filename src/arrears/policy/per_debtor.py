"""The lender's own limits on what one debtor receives across all their loans.

`DebtorLimit` is an entry of the policy file's ``per_debtor`` list; the policy
judges each as a compliance rule over the debtor (`DebtorLimit.rule`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..case import Channel, Outcome, Party
from ..compliance import FrequencyCap

__all__ = ["MESSAGE_CHANNELS", "DebtorLimit"]

#: The automated media: what a per-debtor limit counts when it names none.
MESSAGE_CHANNELS: frozenset[Channel] = frozenset(
    {Channel.SMS, Channel.EMAIL, Channel.LETTER, Channel.VOICEMAIL}
)
#: Outcomes a per-debtor limit does not count: a message that never left
#: (``failed``) and the debtor's own reply.
_NOT_RECEIVED: frozenset[Outcome] = frozenset({Outcome.FAILED, Outcome.REPLY})


class DebtorLimit(BaseModel):
    """The lender's own cap on what one debtor receives across all their loans.

    Each limit is judged as a compliance rule (a `arrears.compliance.FrequencyCap`
    over the debtor, ``across="debtor"``) with id ``POLICY-PER-DEBTOR-<n>``:
    the messages sent, and those journaled as intended in the same tick on the
    debtor's other loans, count; a message over the limit is denied and tried
    again when the window allows it.

    Attributes:
        channels: The media counted and limited; every automated medium
            (``sms``, ``email``, ``letter``, ``voicemail``) when omitted.
        limit: The most messages in the window, the proposed one included.
        days: The window: this many calendar days in the debtor's time, today included.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    channels: frozenset[Channel] = MESSAGE_CHANNELS
    limit: int = Field(ge=1, le=1000)
    days: int = Field(default=1, ge=1, le=366)

    def rule(self, index: int, policy: str) -> FrequencyCap:
        """This limit as the compliance rule the engine judges (*index* counts from 1)."""
        return FrequencyCap(
            id=f"POLICY-PER-DEBTOR-{index}",
            citation=f"policy {policy}: per_debtor[{index - 1}] (the lender's own limit)",
            title=f"At most {self.limit} per debtor in {self.days} day(s), across their loans",
            channels=self.channels,
            parties=frozenset({Party.DEBTOR}),
            counted_channels=self.channels,
            counted_outcomes=frozenset(Outcome) - _NOT_RECEIVED,
            limit=self.limit,
            days=self.days,
            per="person",
            across="debtor",
            scope_reason="the lender counts what one person receives, whichever loan it is about",
            noun="messages",
        )
