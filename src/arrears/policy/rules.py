"""Python rules a policy file names: ``module:function``, imported when the policy loads.

    rules:
      - lender_rules.tracing:skip_trace
      - {name: vip-first-call, function: "lender_rules.vip:first_call"}

Each reference is resolved with `importlib` from the Python path of the
process that loads the policy, so loading a policy runs code: the module's
top-level code at once, the function at every review.  A relative module is
refused: a policy names installed code, never a file beside it.  Every
problem names the reference and says what is wrong (module not found,
attribute missing, not callable, cannot take the facts).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from .facts import Facts

__all__ = ["PythonRule", "RuleFunction"]

RuleFunction = Callable[[Facts], Any]
"""A rule as imported: facts in; actions, trigger names or ``None`` out (`PolicyRule`)."""

_REFERENCE: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")


class PythonRule(BaseModel):
    """A Python rule a policy file names: ``module:function``, imported when the policy loads.

    In a file, an entry of ``rules`` is the reference alone
    (``lender_rules.tracing:skip_trace``) or a mapping with a name
    (``{name: skip-trace, function: "lender_rules.tracing:skip_trace"}``).
    The module is imported with `importlib` from the Python path of the
    process that loads the policy: importing it runs its code, so load only
    policy files you would run.  A relative module (``.rules:f``) is refused:
    a policy file names installed code, never a file beside it.

    Attributes:
        name: The rule's name, recorded as the source of what it asks for
            (the function's name when omitted).
        function: ``module:function`` (the attribute may be dotted: ``module:Class.method``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    # The pattern of every name in a policy (`arrears.policy.model.Name`).
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")] | None = None
    function: str

    _function: RuleFunction = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _reference_alone(cls, value: object) -> object:
        return {"function": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _import(self) -> Self:
        self._function = resolve_function(self.function)
        return self

    @property
    def rule_name(self) -> str:
        """The name the rule acts under: ``name``, or the function's own name."""
        return self.name or self.function.rpartition(":")[2].rpartition(".")[2]

    @property
    def call(self) -> RuleFunction:
        """The imported function."""
        return self._function


def _rule_error(message: str, value: str) -> PydanticCustomError:
    return PydanticCustomError(
        "python_rule", "{message}", {"message": f"got {value!r}: {message}", "field": "function"}
    )


def resolve_function(reference: str, argument: str = "the case's facts") -> Any:
    """Import the function *reference* names (``module:function``), or say what is wrong.

    Args:
        reference: ``module:function`` (the attribute may be dotted).
        argument: What the function is called with, named in the error when
            it cannot take one argument.

    Raises:
        PydanticCustomError: (a ``ValueError``) naming the reference and the problem.
    """
    if reference.startswith("."):
        raise _rule_error(
            "a relative module is not loaded: name an importable module "
            "(install it, or put its folder on PYTHONPATH)",
            reference,
        )
    if not _REFERENCE.match(reference):
        raise _rule_error(
            "expected module:function, e.g. lender_rules.tracing:skip_trace", reference
        )
    module_name, _, attribute = reference.partition(":")
    try:
        target: object = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name or module_name.startswith(f"{err.name}."):
            raise _rule_error(
                f"module {err.name!r} not found on the Python path "
                "(install it, or put its folder on PYTHONPATH)",
                reference,
            ) from None
        raise _rule_error(
            f"importing {module_name!r} raised {type(err).__name__}: {err}", reference
        ) from None
    except Exception as err:  # the module's own code failed: say so, with its error
        raise _rule_error(
            f"importing {module_name!r} raised {type(err).__name__}: {err}", reference
        ) from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise _rule_error(
                f"{module_name!r} has no attribute {attribute!r}", reference
            ) from None
    if not callable(target):
        raise _rule_error(
            f"{attribute!r} is not callable (its type is {type(target).__name__})", reference
        )
    try:
        inspect.signature(target).bind(None)
    except TypeError:
        raise _rule_error(
            f"{attribute!r} cannot be called with one argument ({argument})", reference
        ) from None
    except ValueError:  # no signature to read (some built-ins): called as it is
        pass
    return target
