"""Scenario files and their runner: compliance rules and lender policies tested in YAML.

A scenario is a YAML file a compliance officer can write without Python: a
case, what has happened to it, and what the library must decide next (the
format is described in ``docs/scenarios.md``).  `run_scenario` runs one and
says whether every expectation held; ``arrears test PATH...`` runs many.

A scenario judges contacts under compliance rule packs (``rules:``), or runs
a lender's policy file (``policy:``): ``tick`` events review the case as the
daily tick would, and expectations check the stage it reaches and the
actions (messages, tasks) the policy takes.

    >>> result = run_scenario("tests/scenarios/us_7in7.yaml")   # doctest: +SKIP
    >>> assert result.passed, "\\n".join(result.failures)       # doctest: +SKIP

The models (`Scenario` and its parts) are the format itself: every key not
declared there is an error, reported with its file, line and field, as a
`ScenarioInvalid`.

The package's modules:

- ``format``: the models a file is read into (`Scenario`, its case, events
  and expectations).
- ``loading``: `load_scenario`, reading a file and checking what the models
  cannot (order in time, references, rule ids, the policy file).
- ``runner``: `run_scenario` and its `ScenarioResult`.
"""

from __future__ import annotations

from ..errors import ScenarioInvalid
from .format import (
    ActionExpectation,
    CaseSpec,
    CeaseEvent,
    ConsentEvent,
    ContactEvent,
    ContactSpec,
    DebtorPaymentEvent,
    DisputeEvent,
    Event,
    Expectation,
    HoldEndEvent,
    HoldEvent,
    InconvenientEvent,
    NoticeSentEvent,
    OptOutEvent,
    PaymentEvent,
    PersonsEvent,
    PromiseEvent,
    ProposedContact,
    Scenario,
    TakenAction,
    TickEvent,
    VerificationSentEvent,
    VisitSpec,
)
from .loading import load_scenario
from .runner import ScenarioResult, run_scenario

__all__ = [
    "ActionExpectation",
    "CaseSpec",
    "CeaseEvent",
    "ConsentEvent",
    "ContactEvent",
    "ContactSpec",
    "DebtorPaymentEvent",
    "DisputeEvent",
    "Event",
    "Expectation",
    "HoldEndEvent",
    "HoldEvent",
    "InconvenientEvent",
    "NoticeSentEvent",
    "OptOutEvent",
    "PaymentEvent",
    "PersonsEvent",
    "PromiseEvent",
    "ProposedContact",
    "Scenario",
    "ScenarioInvalid",
    "ScenarioResult",
    "TakenAction",
    "TickEvent",
    "VerificationSentEvent",
    "VisitSpec",
    "load_scenario",
    "run_scenario",
]
