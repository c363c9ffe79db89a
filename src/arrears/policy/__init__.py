"""Policies: what a lender decides, loaded from files, tested like code.

A `Policy` names its compliance packs, its stage graph, segments, the steps
that act on cases, the escalations that move them, and champion/challenger
variants.  `load_policy` reads one from YAML or TOML with every problem at its
line; `Engine(policy=...)` and `Engine.tick` run it.  Conditions are
structured (`When`) or CEL expressions (`CelCondition`), never ``eval``.
"""

from .conditions import CelCondition, ConditionError, When
from .facts import FACTS, Facts, next_payday
from .loader import PolicyInvalid, load_policy, parse_policy
from .model import (
    Action,
    Escalation,
    Policy,
    PolicyRule,
    Review,
    Segment,
    SendAction,
    Step,
    TaskAction,
    Variant,
    WorkflowOptions,
)

__all__ = [
    "FACTS",
    "Action",
    "CelCondition",
    "ConditionError",
    "Escalation",
    "Facts",
    "Policy",
    "PolicyInvalid",
    "PolicyRule",
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
