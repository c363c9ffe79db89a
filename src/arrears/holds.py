"""The reasons collection may be paused beside the stage: `HoldKind`, and what each reaches.

A module of its own, below both the case model (`arrears.case.Hold`) and the
agreement's terms (`AgreementTerms.freeze_on_holds`), which both name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, Literal

__all__ = ["HOLD_REACH", "HoldKind", "Reach"]

Reach = Literal["case", "debtor"]
"""What a hold covers: the debt it is recorded on (``case``), or every debt of the
person with this lender (``debtor``)."""


class HoldKind(StrEnum):
    """Why collection is paused beside the stage."""

    DISPUTE = "dispute"
    CEASE = "cease"
    BANKRUPTCY = "bankruptcy"
    BREATHING_SPACE = "breathing_space"
    MENTAL_HEALTH_CRISIS = "mental_health_crisis"
    """A mental health crisis moratorium (England and Wales, SI 2020/1311 Part 3): it
    lasts for the crisis treatment and 30 days after it, not a fixed 60 days."""
    MENTAL_CAPACITY = "mental_capacity"
    """The firm was told, or ought reasonably to be aware, that the customer may lack the
    mental capacity to make decisions about the debt or to engage in its recovery (FCA
    CONC 7.10.1R): recovery is suspended until released, or for the period a pack sets."""
    DECEASED = "deceased"
    ATTORNEY = "attorney"
    HARDSHIP = "hardship"
    VULNERABLE = "vulnerable"


HOLD_REACH: Final[Mapping[HoldKind, tuple[Reach, str]]] = {
    HoldKind.BANKRUPTCY: (
        "debtor",
        "the automatic stay bars any act to collect a claim against the debtor "
        "(11 U.S.C. 362(a)(6)), whichever debt it is",
    ),
    HoldKind.DECEASED: ("debtor", "the person has died: every debt goes to their estate"),
    HoldKind.BREATHING_SPACE: (
        "debtor",
        "a moratorium protects the person from creditors' action on their debts "
        "(SI 2020/1311 regs 7, 11)",
    ),
    HoldKind.MENTAL_HEALTH_CRISIS: (
        "debtor",
        "a mental health crisis moratorium protects the person on their debts "
        "(SI 2020/1311 Part 3, reg 28)",
    ),
    HoldKind.MENTAL_CAPACITY: (
        "debtor",
        "capacity is the customer's, not one account's: recovery of a debt from a customer "
        'who might not have the mental capacity to make decisions about "the management of '
        "the customer's debt\" is suspended (FCA CONC 7.10.1R)",
    ),
    HoldKind.VULNERABLE: (
        "debtor",
        "vulnerability is the customer's, not one account's (FCA FG21/1)",
    ),
    HoldKind.DISPUTE: (
        "case",
        "a dispute is of the debt it names (12 CFR 1006.38); the debtor may name several",
    ),
    HoldKind.CEASE: (
        "case",
        "a request to stop is about the debt it names (15 U.S.C. 1692c(c)); the debtor may "
        "say it covers every debt",
    ),
    HoldKind.ATTORNEY: (
        "case",
        "representation is with respect to such debt (12 CFR 1006.6(b)(2)); the debtor may "
        "say the attorney acts on every debt",
    ),
    HoldKind.HARDSHIP: ("case", "a forbearance agreed on one loan"),
}
"""Each hold kind's reach and why: a hold that reaches the ``debtor`` is journaled on
every case of the person; a lender (or the debtor's own word) may widen a ``case`` reach
to the debtor, never narrow a ``debtor`` one."""
