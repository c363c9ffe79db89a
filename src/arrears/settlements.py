"""Approval limits for waivers and settlements: who may forgive how much.

An `ApprovalLimits` table gives each role the most it may waive alone (an
agent a little, a supervisor more).  Above every single limit, two people
must agree: the actor and a second approver, different people, each holding
one of the four-eyes roles, up to an optional ceiling.  `ApprovalLimits.authorise`
returns the `Approval` the engine journals (the limit applied, on what
basis, and who approved) or raises `ApprovalDenied`.

    >>> limits = ApprovalLimits(limits={"agent": Money("500", "CNY"),
    ...                                 "supervisor": Money("5000", "CNY")})
    >>> limits.authorise(Money("300", "CNY"), Actor("agent-7", {"agent"})).basis
    'actor'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from .errors import ApprovalDenied, CurrencyMismatch, InvalidInput
from .guards import Actor
from .money import Money

__all__ = ["Approval", "ApprovalLimits"]


@dataclass(frozen=True, slots=True)
class Approval:
    """Why a waiver was allowed, as the journal records it.

    Attributes:
        amount: The amount waived.
        basis: ``actor`` (within the actor's own limit), ``approver`` (within
            the approver's limit) or ``four_eyes`` (above every single limit,
            two people with four-eyes roles).
        limit: The limit applied; ``None`` when four eyes have no ceiling.
        actor: The actor's staff id.
        approver: The approver's staff id, when one was given.
    """

    amount: Money
    basis: str
    limit: Money | None
    actor: str
    approver: str | None

    def to_json(self) -> dict[str, Any]:
        """The journal form."""
        return {
            "basis": self.basis,
            "limit": None if self.limit is None else str(self.limit.amount),
            "actor": self.actor,
            "approver": self.approver,
        }


class ApprovalLimits(BaseModel):
    """The most each role may waive alone, and what two people may waive together.

    Attributes:
        limits: The largest waiver each role may grant alone, by role name.
        four_eyes_roles: Roles of the two people who may together approve a
            waiver above every single limit (the actor and the approver each
            need one).
        four_eyes_limit: The most two people may waive together; ``None`` for no ceiling.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    limits: dict[str, Money]
    four_eyes_roles: tuple[str, ...] = ("supervisor", "risk_officer")
    four_eyes_limit: Money | None = None

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        amounts = [*self.limits.values()]
        if self.four_eyes_limit is not None:
            amounts.append(self.four_eyes_limit)
        currencies = {m.currency for m in amounts}
        if len(currencies) != 1:
            raise ValueError(
                f"limits: got currencies {sorted(currencies)}, expected exactly one currency"
            )
        for role, limit in self.limits.items():
            if limit.amount < 0:
                raise ValueError(f"limits[{role}]: got {limit}, expected zero or more")
        return self

    @property
    def currency(self) -> str:
        """The currency of every limit."""
        return next(iter(self.limits.values())).currency

    def limit_of(self, actor: Actor) -> Money | None:
        """The most *actor* may waive alone (the highest limit among their roles), if any."""
        own = [self.limits[role] for role in actor.roles if role in self.limits]
        return max(own, key=lambda m: m.amount) if own else None

    def authorise(self, amount: Money, actor: Actor, approver: Actor | None = None) -> Approval:
        """Judge a waiver of *amount* by *actor*, with *approver* as a second person if given.

        Raises:
            InvalidInput: a bad amount or actor, or the approver is the actor.
            CurrencyMismatch: *amount* is not in the table's currency.
            ApprovalDenied: no limit covers the amount.
        """
        if not isinstance(amount, Money) or amount.amount <= 0:
            raise InvalidInput("amount", str(amount), "a positive Money amount")
        if amount.currency != self.currency:
            raise CurrencyMismatch("amount", self.currency, amount.currency)
        if not isinstance(actor, Actor):
            raise InvalidInput("actor", actor, "an Actor")
        if approver is not None:
            if not isinstance(approver, Actor):
                raise InvalidInput("approver", approver, "an Actor or None")
            if approver.same_person(actor):
                raise InvalidInput("approver", approver.id, "a second person, not the actor")
        approver_id = None if approver is None else approver.id
        own = self.limit_of(actor)
        if own is not None and amount <= own:
            return Approval(amount, "actor", own, actor.id, approver_id)
        theirs = None if approver is None else self.limit_of(approver)
        if theirs is not None and amount <= theirs:
            return Approval(amount, "approver", theirs, actor.id, approver_id)
        highest = max(self.limits.values(), key=lambda m: m.amount)
        roles = set(self.four_eyes_roles)
        if approver is not None and actor.roles & roles and approver.roles & roles:
            ceiling = self.four_eyes_limit
            if amount > highest and (ceiling is None or amount <= ceiling):
                return Approval(amount, "four_eyes", ceiling, actor.id, approver_id)
            if ceiling is not None and amount > ceiling:
                raise ApprovalDenied(
                    str(amount), str(ceiling), "above the four-eyes ceiling", actor.id, approver_id
                )
        needed = (
            f"a second approver with one of {sorted(roles)}"
            if amount > highest
            else "an approver whose role's limit covers it"
        )
        shown = "none" if own is None else str(own)
        raise ApprovalDenied(
            str(amount), shown, f"above the actor's limit; needs {needed}", actor.id, approver_id
        )
