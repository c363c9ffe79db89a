"""Message kinds: what each kind of message must state, may state, and whom it may go to.

A template names its kind in its front matter.  The kind's facts are checked
when the templates are checked (as a policy loads) and again on each render:
a reminder that never mentions the amount is refused by ``MSG-FACTS`` before
anyone receives it.  Register kinds of your own with `register_kind`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from ..compliance import Purpose
from ..errors import InvalidInput

__all__ = ["DEBT_VARIABLES", "MESSAGE_KINDS", "MessageKind", "register_kind"]

DEBT_VARIABLES: Final = frozenset(
    {
        "amount_owed",
        "case_id",
        "days_past_due",
        "deadline",
        "due_date",
        "fees",
        "interest",
        "late_fee_period",
        "late_fee_rate",
        "late_fee_terms",
        "outstanding",
        "penalty",
        "principal",
    }
)
"""Context variables that reveal the debt: never in a message for anyone but the debtor."""


@dataclass(frozen=True, slots=True)
class MessageKind:
    """A kind of message and the rules on its content.

    Attributes:
        name: The kind's name, as templates give it (``"reminder"``).
        facts: Fact → the context variables that state it; the template must
            use at least one variable of each fact.
        purpose: The purpose compliance judges it for (`arrears.compliance.Purpose`).
        parties: Whom it may be sent to.
        allowed_variables: When set, the only variables it may use (a
            limited-content message).
        forbidden_variables: Variables it must never use (the debt, in a
            message to a third party).
        channels: The channels it may go by; any when ``None``.
        first_communication: Judged as the first communication with the debtor
            (Reg F's attempt-to-collect disclosure).
        citation: Where its rules come from.
    """

    name: str
    facts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    purpose: str = Purpose.COLLECTION
    parties: frozenset[str] = frozenset({"debtor"})
    allowed_variables: frozenset[str] | None = None
    forbidden_variables: frozenset[str] = frozenset()
    channels: frozenset[str] | None = None
    first_communication: bool = False
    citation: str = ""


_AMOUNT: Final = ("amount_owed", "outstanding")
_DEADLINE: Final = ("deadline", "due_date")
_LATE_FEE: Final = ("late_fee_rate", "late_fee_terms")
_CONTACT: Final = ("lender_hotline", "lender_email", "lender_website", "callback_number")
_REMINDER_FACTS: Final = {
    "the amount owed": _AMOUNT,
    "the deadline": _DEADLINE,
    "the late-fee terms": _LATE_FEE,
    "a contact channel": _CONTACT,
}
_THIRD_PARTIES: Final = frozenset({"third_party", "employer"})

MESSAGE_KINDS: Final[dict[str, MessageKind]] = {
    kind.name: kind
    for kind in (
        MessageKind(
            name="notice",
            citation="a message with no required facts of its own (the packs still apply)",
        ),
        MessageKind(
            name="reminder",
            facts=_REMINDER_FACTS,
            citation="collection practice: a reminder states the amount still owed, the "
            "deadline, the late-fee terms and a way to get help",
        ),
        MessageKind(
            name="final_notice",
            facts=_REMINDER_FACTS,
            citation="collection practice: a final warning states the same facts as a reminder",
        ),
        MessageKind(
            name="first_communication",
            facts={"the amount owed": _AMOUNT, "a contact channel": _CONTACT},
            first_communication=True,
            citation="12 CFR 1006.18(e)(1): the first communication discloses that it is an "
            "attempt to collect a debt (judged by US-MIRANDA)",
        ),
        MessageKind(
            name="limited_content",
            facts={
                "a business name": ("business_name",),
                "a natural person to reply to": ("agent_name",),
                "a telephone number to reply to": ("lender_hotline", "callback_number"),
            },
            purpose=Purpose.LIMITED_CONTENT,
            allowed_variables=frozenset(
                {
                    "agent_name",
                    "business_name",
                    "callback_number",
                    "lender_hotline",
                    "now",
                    "reply_by",
                    "today",
                }
            ),
            channels=frozenset({"voicemail"}),
            citation="12 CFR 1006.2(j): a business name not indicating debt collection, a "
            "request to reply, natural persons' names, a telephone number; optionally a "
            "salutation, the date and time, suggested times to reply",
        ),
        MessageKind(
            name="location_request",
            facts={"a contact channel": _CONTACT},
            purpose=Purpose.LOCATION,
            parties=_THIRD_PARTIES,
            forbidden_variables=DEBT_VARIABLES,
            citation="12 CFR 1006.6(d), 1006.10; NIFA collection standard: a third party is "
            "never told of the debt",
        ),
    )
}
"""Every known message kind, by name."""


def register_kind(kind: MessageKind) -> None:
    """Make *kind* available to templates by its name.

    Raises:
        InvalidInput: the name is taken.
    """
    if kind.name in MESSAGE_KINDS:
        raise InvalidInput("kind.name", kind.name, f"a name not among {sorted(MESSAGE_KINDS)}")
    MESSAGE_KINDS[kind.name] = kind
