"""A custom workflow: no field visits, a letter between SMS and phone, and a guard of our own.

Run it with ``python examples/custom_workflow.py``.  A lender that never
visits debtors at home, and must post a letter before it may phone, builds its
stage graph from the standard one:

* ``ladder`` adds the ``letter`` stage between ``sms`` and ``phone``;
* ``skip`` leaves ``field_visit`` out (so ``escalate`` ends at ``phone``);
* ``stage_guards`` puts a guard written with ``@guard`` on entering ``letter``.

It fires two cases through the graph, one of which has no postal address, and
prints the graph as a Mermaid diagram.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from arrears import (
    Case,
    Channel,
    Engine,
    GuardContext,
    Party,
    SettableClock,
    TransitionDenied,
    Workflow,
    guard,
    standard_definition,
)

# Only warnings and errors: this script prints its own account of each step.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


@guard("has_postal_address")
def has_postal_address(case: Case, ctx: GuardContext) -> tuple[str, Mapping[str, Any]] | None:
    """Passes when the debtor has a postal address that is not opted out."""
    usable = [
        point.id
        for point in case.contacts
        if point.channel == Channel.LETTER and point.party == Party.DEBTOR and not point.opted_out
    ]
    if usable:
        return None
    # The reason names what is missing, never the address itself.
    return "no postal address for the debtor", {"letter_contacts": 0}


def main() -> int:
    definition = standard_definition(
        ladder=("notified", "sms", "letter", "phone", "field_visit"),
        skip=("field_visit",),
        stage_guards={"letter": [has_postal_address]},
        name="cards-no-visits",
        version="2026.1",
    )
    workflow = Workflow(definition)
    print(f"workflow {workflow.name} v{workflow.version}")
    print(f"stages: {', '.join(workflow.stages)}")
    print(f"triggers from 'phone': {', '.join(workflow.available('phone'))}")

    clock = SettableClock(datetime(2026, 5, 4, 14, 0, tzinfo=UTC))
    engine = Engine(workflow, clock=clock)
    balance = {"currency": "EUR", "principal": "640.00", "fees": "15.00"}
    engine.open_case(
        {
            "id": "EU-CARD-1001",
            "debtor": {"id": "CUST-1001", "timezone": "Europe/Berlin", "locale": "de-DE"},
            "contacts": [
                {"id": "home", "channel": "letter", "address": "Musterstraße 1, 10115 Berlin"},
                {"id": "cell", "channel": "sms", "address": "+4915112345678", "consent": True},
            ],
            "balance": balance,
            "due_date": "2026-03-31",
        }
    )
    engine.open_case(
        {
            "id": "EU-CARD-1002",
            "debtor": {"id": "CUST-1002", "timezone": "Europe/Paris", "locale": "fr-FR"},
            "contacts": [{"id": "cell", "channel": "sms", "address": "+33612345678"}],
            "balance": balance,
            "due_date": "2026-04-10",
        }
    )

    for case_id in ("EU-CARD-1001", "EU-CARD-1002"):
        print(f"\n{case_id}")
        for trigger in ("notify", "escalate", "escalate", "escalate", "escalate"):
            try:
                result = engine.fire(case_id, trigger)
            except TransitionDenied as err:
                print(f"  {trigger:<9} refused in {err.stage}:")
                for failure in err.failures:
                    print(f"    - {failure.guard}: {failure.reason}")
                break
            print(f"  {trigger:<9} {result.source} -> {result.dest}")
            clock.advance(days=7)

    last = engine.history("EU-CARD-1001")[-1]
    print(f"\nevery transition and refusal records its workflow: {last.data['workflow']}")
    print(f"journal verifies: {not engine.verify()}")

    print("\n```mermaid")
    print(workflow.to_mermaid(), end="")
    print("```")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
