"""What `explain` asks of an engine, as a protocol.

`Engine.explain` hands the engine to `arrears.explain`.  Typed against
`ExplainEngine`, which `Engine` meets, that module need not import the
engine that imports it: the package's modules form layers, with no import
cycle.  The protocol lists only what `explain` calls, and only public
members.  (The tick works below the engine, on its `arrears.recorder.Recorder`
and the operations themselves.)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .case import Case
    from .clock import Clock
    from .compliance import Compliance, ContactHistory, DebtorHistory
    from .policy import Facts, Policy, SendAction
    from .store import Store
    from .workflow import Workflow

__all__ = ["ExplainEngine"]


class ExplainEngine(Protocol):
    """The engine as `Engine.explain` (`arrears.explain.explain_case`) uses it."""

    @property
    def policy(self) -> Policy | None:
        """The policy explained."""

    @property
    def workflow(self) -> Workflow:
        """The stage graph."""

    @property
    def store(self) -> Store:
        """Where cases and the journal live."""

    @property
    def clock(self) -> Clock:
        """The source of "now"."""

    @property
    def compliance(self) -> Compliance:
        """The rules that judge contacts."""

    def facts(self, case_id: str, at: datetime | None = None) -> Facts:
        """What the policy's conditions read about the case at *at*."""

    def contact_history(self, case_id: str) -> ContactHistory:
        """The case's contact history."""

    def debtor_history(self, case_id: str) -> DebtorHistory | None:
        """The contacts on every case of the case's debtor (``None``: their only case)."""

    def render(
        self, case: Case, action: SendAction, facts: Facts, at: datetime
    ) -> tuple[str | None, str | None]:
        """A message's text and subject."""
