"""The reasons collection may be paused beside the stage: `HoldKind`, and what each reaches.

A module of its own, below both the case model (`arrears.case.Hold`) and the
agreement's terms (`AgreementTerms.freeze_on_holds`), which both name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, Literal, NamedTuple

__all__ = ["HOLD_REACH", "HoldKind", "HoldReach", "Reach", "reaches_debtor"]

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


class HoldReach(NamedTuple):
    """What a hold of one kind reaches, and why (`HOLD_REACH`)."""

    reach: Reach
    """``debtor``: journaled on every case of the person; ``case``: on the case it is
    placed on, unless placed with ``reach="debtor"``."""
    why: str
    """The reason, from the source."""
    listed: bool = False
    """The law's own reach is the debts a notice lists, not every debt of the person:
    ``debtor`` stays the default (the reading that protects), and a lender may record the
    hold on the listed debts only (``add_hold(..., reach="case")`` on each of them).
    False: a ``debtor`` reach is never narrowed."""


HOLD_REACH: Final[Mapping[HoldKind, HoldReach]] = {
    HoldKind.BANKRUPTCY: HoldReach(
        "debtor",
        "the automatic stay bars any act to collect a claim against the debtor "
        "(11 U.S.C. 362(a)(6)), whichever debt it is",
    ),
    HoldKind.DECEASED: HoldReach("debtor", "the person has died: every debt goes to their estate"),
    HoldKind.BREATHING_SPACE: HoldReach(
        "debtor",
        "a moratorium protects the person from creditors' action on their moratorium debts "
        "(SI 2020/1311 regs 7, 11), the qualifying debts the debt advice provider gave the "
        "Secretary of State (reg 6); a creditor told of one searches for the debtor's other "
        "debts and tells the debt advice provider (reg 14), which brings them in (reg 15)",
        listed=True,
    ),
    HoldKind.MENTAL_HEALTH_CRISIS: HoldReach(
        "debtor",
        "a mental health crisis moratorium protects the person on their moratorium debts "
        "(SI 2020/1311 Part 3, reg 28; regs 6, 7, 11), brought in as for a breathing space "
        "(regs 14, 15)",
        listed=True,
    ),
    HoldKind.MENTAL_CAPACITY: HoldReach(
        "debtor",
        "capacity is the customer's, not one account's: recovery of a debt from a customer "
        'who might not have the mental capacity to make decisions about "the management of '
        "the customer's debt\" is suspended (FCA CONC 7.10.1R)",
    ),
    HoldKind.VULNERABLE: HoldReach(
        "debtor",
        "vulnerability is the customer's, not one account's (FCA FG21/1)",
    ),
    HoldKind.DISPUTE: HoldReach(
        "case",
        "a dispute is of the debt it names (12 CFR 1006.38); the debtor may name several",
    ),
    HoldKind.CEASE: HoldReach(
        "case",
        "a request to stop is about the debt it names (15 U.S.C. 1692c(c)); the debtor may "
        "say it covers every debt",
    ),
    HoldKind.ATTORNEY: HoldReach(
        "case",
        "representation is with respect to such debt (12 CFR 1006.6(b)(2)); the debtor may "
        "say the attorney acts on every debt",
    ),
    HoldKind.HARDSHIP: HoldReach("case", "a forbearance agreed on one loan"),
}
"""Each hold kind's reach and why: a hold that reaches the ``debtor`` is journaled on
every case of the person; a lender (or the debtor's own word) may widen a ``case`` reach
to the debtor, and narrow a ``debtor`` one only where the law's own reach is the debts a
notice lists (`HoldReach.listed`: a breathing space, a mental health crisis moratorium)."""


def reaches_debtor(kind: str, reach: str | None) -> bool:
    """True when a hold of *kind* placed with *reach* covers every debt of the person.

    *reach* ``debtor`` widens any kind; ``case`` narrows only a kind whose reach is the
    debts a notice lists (`HoldReach.listed`), and is read as the kind's own reach for
    any other (a bankruptcy stays on every debt); ``None`` is the kind's own reach.  A
    kind not known reaches its case.
    """
    if reach == "debtor":
        return True
    try:
        law = HOLD_REACH[HoldKind(kind)]
    except (ValueError, KeyError):
        return False
    if law.reach != "debtor":
        return False
    return not (reach == "case" and law.listed)
