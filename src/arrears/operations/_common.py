"""Small checks the operations share: enum values, money in the case's
currency, actors, models built from input.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..case import Case
from ..errors import (
    CurrencyMismatch,
    InvalidInput,
)
from ..guards import Actor
from ..logs import get_logger
from ..money import Money
from ..recorder import Recorder

_log = get_logger("arrears")

_M = TypeVar("_M", bound=BaseModel)


def enum_of(kind: type[Any], value: object, field: str) -> Any:
    """*value* as a member of *kind*; `InvalidInput` naming *field* and the members otherwise."""
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(field, value, f"one of {[member.value for member in kind]}") from None


def check_actor(actor: object) -> None:
    """Refuse anything but an `Actor` as the actor."""
    if not isinstance(actor, Actor):
        raise InvalidInput("actor", actor, "an Actor")


def case_money(case: Case, amount: object, field: str) -> Money:
    """*amount* checked: positive `Money` in the case's currency, named *field* if not."""
    if not isinstance(amount, Money):
        raise InvalidInput(field, amount, f"Money in {case.currency}")
    if amount.currency != case.currency:
        raise CurrencyMismatch(field, case.currency, amount.currency)
    if amount.amount <= 0:
        raise InvalidInput(field, str(amount), "a positive amount")
    return amount


def build(model: type[_M], field: str, **values: Any) -> _M:
    """*model* built from *values*; a validation error becomes `InvalidInput` named *field*."""
    try:
        return model(**values)
    except ValidationError as err:
        first = err.errors()[0]
        raise InvalidInput(field, ".".join(map(str, first["loc"])), first["msg"]) from None


def hold_debtor(rec: Recorder, debtor_id: str) -> None:
    """Hold the debtor's payments until the unit of work ends, where the store can
    (``hold_debtor``, `arrears.store.Store`): what is read of the debtor's loans
    next is what a payment being recorded in another process stored."""
    hold = getattr(rec.store, "hold_debtor", None)
    if hold is not None:
        hold(debtor_id)
