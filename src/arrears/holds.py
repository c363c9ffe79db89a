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
    DECEASED = "deceased"
    ATTORNEY = "attorney"
    HARDSHIP = "hardship"
    VULNERABLE = "vulnerable"
