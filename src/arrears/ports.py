"""What the tick and `explain` ask of an engine, as protocols.

`Engine.tick` and `Engine.explain` hand the engine to `arrears.tick` and
`arrears.explain`.  Typed against these protocols, which `Engine` meets,
those modules need not import the engine that imports them: the package's
modules form layers, with no import cycle.  Each protocol lists only what its
user calls, and only public members.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .case import Case, Outcome, Party
    from .channels import ChannelAdapter
    from .clock import Clock
    from .compliance import Compliance, ContactHistory, Proposal, Verdict
    from .policy import Facts, Policy, SendAction, TaskAction
    from .store import Store
    from .workflow import Workflow

__all__ = ["ExplainEngine", "TickEngine"]


class TickEngine(Protocol):
    """The engine as the tick (`arrears.tick.run_tick`) uses it."""

    @property
    def policy(self) -> Policy | None:
        """The policy the tick runs."""

    @property
    def workflow(self) -> Workflow:
        """The stage graph."""

    @property
    def store(self) -> Store:
        """Where cases, their schedule and the journal live."""

    def atomic(self) -> AbstractContextManager[None]:
        """A unit of work: everything recorded inside is stored, or nothing."""

    def facts(self, case_id: str, at: datetime | None = None) -> Facts:
        """What the policy's conditions read about the case at *at*."""

    def record_variant(self, case_id: str, variant: str, *, at: datetime | None = None) -> object:
        """Record the case's champion/challenger variant."""

    def accrue(self, case_id: str, *, at: datetime | None = None) -> object:
        """Charge what the case's terms make due up to *at*."""

    def review_promises(self, case_id: str, *, at: datetime | None = None) -> object:
        """Judge the case's open promise at *at*."""

    def review_plan(self, case_id: str, *, at: datetime | None = None) -> object:
        """Judge the case's active repayment plan at *at*."""

    def fire(
        self,
        case_id: str,
        trigger: str,
        *,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> object:
        """Fire a trigger; raises `TransitionDenied` when a guard refuses."""

    def open_task(
        self, case_id: str, action: TaskAction, *, key: str, step: str, at: datetime | None = None
    ) -> object:
        """Open a task for a person on the case."""

    def render(
        self, case: Case, action: SendAction, facts: Facts, at: datetime
    ) -> tuple[str | None, str | None]:
        """A message's text and subject."""

    def judge_contact(
        self,
        case_id: str,
        proposal: Proposal,
        *,
        at: datetime | None = None,
        key: str | None = None,
    ) -> Verdict:
        """Judge (and journal) a proposed contact under compliance."""

    def record_intent(
        self,
        case_id: str,
        *,
        key: str,
        step: str,
        channel: str,
        contact: str | None,
        template: str | None,
        text: str,
        subject: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Journal the intent to send a message, before its adapter is called."""

    def channel_for(self, channel: str) -> ChannelAdapter:
        """The adapter that serves *channel*."""

    def record_interaction(
        self,
        case_id: str,
        channel: str,
        outcome: Outcome,
        *,
        contact: str | None = None,
        party: Party | str | None = None,
        purpose: str | None = None,
        at: datetime | None = None,
        automated: bool = False,
        key: str | None = None,
        provider_id: str | None = None,
    ) -> object:
        """Journal the result of a contact."""

    def record_review(
        self,
        case_id: str,
        *,
        next_review_at: datetime,
        sources: Sequence[str] = (),
        segment: str | None = None,
        at: datetime | None = None,
    ) -> object:
        """Journal the review and schedule the next one."""


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

    def render(
        self, case: Case, action: SendAction, facts: Facts, at: datetime
    ) -> tuple[str | None, str | None]:
        """A message's text and subject."""
