"""The persons of a case over time: who the contacts reach and how they stand to the debtor.

A case opens with its persons (`arrears.case.Person`); afterwards a new contact
person, a spouse, the executor of a deceased debtor's estate, or a relationship
that ends (a divorce: the spouse is no longer one) is a ``persons_changed``
entry, evidence like any other, and the rules judge every later contact with
the persons as they stand then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ..case import ContactPoint, Person, check_numbers, persons_and_contacts
from ..errors import InvalidInput, invalid_input
from ..guards import SYSTEM, Actor
from ..journal import JournalEntry
from ..limits import REASON
from ..logs import get_logger
from ..recorder import Recorder
from ._common import check_actor

_log = get_logger("arrears")


def update_persons(
    rec: Recorder,
    case_id: str,
    persons: Iterable[Person | Mapping[str, Any]],
    *,
    contacts: Iterable[ContactPoint | Mapping[str, Any]] | None = None,
    reason: str | None = None,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> JournalEntry:
    """Record the case's persons (and contact points) from now on.

    `arrears.engine.Engine.update_persons`, which documents it.
    """
    check_actor(actor)
    case = rec.store.get(case_id)
    moment = rec.moment(case_id, at)
    if isinstance(persons, (str, Mapping)):
        raise InvalidInput("persons", type(persons).__name__, "a list of persons")
    listed = [_json(person) for person in persons]
    data: dict[str, Any] = {"persons": listed, "actor": actor.id}
    update: dict[str, Any] = {"persons": listed}
    if contacts is not None:
        if isinstance(contacts, (str, Mapping)):
            raise InvalidInput("contacts", type(contacts).__name__, "a list of contact points")
        points = [_json(point) for point in contacts]
        update["contacts"] = points
        data["contacts"] = points
    if reason is not None:
        if not isinstance(reason, str) or not 0 < len(reason) <= REASON:
            raise InvalidInput("reason", reason, f"a text of 1 to {REASON} characters")
        data["reason"] = reason
    for field in update:
        for index, item in enumerate(update[field]):
            try:
                (Person if field == "persons" else ContactPoint).model_validate(item)
            except ValidationError as err:
                raise invalid_input(err, prefix=f"{field}.{index}.") from err
    _, checked = persons_and_contacts(case, update)
    if contacts is not None:
        check_numbers(checked, case.contacts)
    entry = rec.record(case, moment, "persons_changed", data)
    _log.bind().info("persons_changed", case_id=case_id, persons=len(listed), actor=actor.id)
    return entry


def _json(value: Any) -> Any:
    """A person or contact point as the entry keeps it (JSON); a mapping as given."""
    if isinstance(value, (Person, ContactPoint)):
        return value.model_dump(mode="json", exclude_defaults=True)
    if isinstance(value, Mapping):
        return dict(value)
    return value  # refused by the case's validation, naming it
