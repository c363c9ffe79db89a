"""Small checks the operations share: enum values, money in the case's
currency, actors, models built from input.
"""

from __future__ import annotations

from collections.abc import Iterable
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

_log = get_logger("arrears")

_M = TypeVar("_M", bound=BaseModel)


def lock_debtors(store: object, debtor_ids: Iterable[str]) -> None:
    """Hold the debtors against other writers until the unit of work ends, on a store
    that can (`arrears.stores.SQLiteStore`, `arrears.stores.PostgresStore`:
    ``lock_debtors``); a store in one process's memory has no other writer.

    Taken before reading which cases a debtor has, by each write that must see
    all of them: opening a case (it inherits the debtor's holds), a hold that
    reaches the debtor, a task that covers the debtor's loans.
    """
    lock = getattr(store, "lock_debtors", None)
    if lock is not None:
        lock(debtor_ids)


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
