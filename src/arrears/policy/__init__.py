"""Policies: what a lender decides, loaded from files, tested like code.

A `Policy` names its compliance packs, its stage graph, segments, the steps
that act on cases, the escalations that move them, and champion/challenger
variants.  `load_policy` reads one from YAML or TOML with every problem at its
line; `Engine(policy=...)` and `Engine.tick` run it.  Conditions are
structured (`When`) or CEL expressions (`CelCondition`), never ``eval``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .conditions import CelCondition, ConditionError, When
from .facts import FACTS, Facts, next_payday
from .model import (
    Action,
    Escalation,
    Policy,
    PolicyRule,
    PythonRule,
    Review,
    Segment,
    SendAction,
    Step,
    TaskAction,
    Variant,
    WorkflowOptions,
)
from .per_debtor import DebtorLimit

if TYPE_CHECKING:
    from .loader import PolicyInvalid, load_policy, parse_policy

__all__ = [
    "FACTS",
    "Action",
    "CelCondition",
    "ConditionError",
    "DebtorLimit",
    "Escalation",
    "Facts",
    "Policy",
    "PolicyInvalid",
    "PolicyRule",
    "PythonRule",
    "Review",
    "Segment",
    "SendAction",
    "Step",
    "TaskAction",
    "Variant",
    "When",
    "WorkflowOptions",
    "load_policy",
    "next_payday",
    "parse_policy",
]

#: Imported when first asked for: reading files needs the YAML parser.
_DEFERRED = {"PolicyInvalid": ".loader", "load_policy": ".loader", "parse_policy": ".loader"}


def __getattr__(name: str) -> Any:
    module = _DEFERRED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
