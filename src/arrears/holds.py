"""The reasons collection may be paused beside the stage: `HoldKind`.

A module of its own, below both the case model (`arrears.case.Hold`) and the
agreement's terms (`AgreementTerms.freeze_on_holds`), which both name them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["HoldKind"]


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
