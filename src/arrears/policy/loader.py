"""Reading a policy from a YAML or TOML file, with every problem located.

    policy = load_policy("policies/cn_consumer.yaml")

A problem names the file, the line and the field:
``policies/cn.yaml:41: steps[3].when.dpd_at_least: Input should be greater
than or equal to 0``.  Every problem in the file is reported at once, then
the checks of the policy as a whole (unknown stages and triggers, steps that
can never fire, escalation cycles with no way out).

A policy file may name Python rules (``rules: [module:function, ...]``): they
are imported while the file loads, so loading a policy runs code
(`arrears.policy.PythonRule`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pydantic

from .._yaml import DocumentInvalid, LocatedDocument, Problem, load_file, validation_problems
from ..errors import PolicyInvalid
from .model import Policy

__all__ = ["PolicyInvalid", "load_policy", "parse_policy"]


def _toml(path: Path, name: str) -> LocatedDocument:
    """A TOML file as a located document (TOML's parser gives no lines but for syntax errors)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", 1)
        raise PolicyInvalid([Problem(name, line, "", f"not valid TOML: {err}")]) from None
    except ValueError:  # a number of more digits than Python reads (over 4,300)
        problem = Problem(name, 1, "", "not readable TOML: a number in it is too long to read")
        raise PolicyInvalid([problem]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyInvalid([Problem(name, 1, "", f"cannot read: {err}")]) from None
    lines = _toml_lines(text, data)
    return LocatedDocument(name, data, lines)


def _toml_lines(text: str, data: object) -> dict[tuple[str | int, ...], int]:
    """The line of each top-level key and table, found in the text (best effort)."""
    lines: dict[tuple[str | int, ...], int] = {(): 1}
    if not isinstance(data, dict):
        return lines
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        for key in data:
            if line.startswith((f"{key} ", f"{key}=", f"[{key}]", f"[[{key}]]", f"[{key}.")):
                lines.setdefault((key,), number)
    return lines


def parse_policy(document: LocatedDocument) -> Policy:
    """Validate a loaded document as a policy, then check it as a whole.

    Raises:
        PolicyInvalid: every problem found, each at its line and field.
    """
    try:
        policy = Policy.model_validate(document.data)
    except pydantic.ValidationError as err:
        raise PolicyInvalid(validation_problems(err, document)) from None
    problems = [document.problem(path, message) for path, message in policy.problems()]
    if problems:
        raise PolicyInvalid(sorted(problems, key=lambda problem: problem.line))
    return policy


def load_policy(path: str | os.PathLike[str], *, name: str | None = None) -> Policy:
    """Read a policy from a ``.yaml``/``.yml`` or ``.toml`` file.

    Args:
        path: The file.
        name: How problems name the file (the path as given, by default).

    Returns:
        The policy; its ``templates`` folder is resolved against the file's folder.
        The modules of its ``rules`` are imported (their code runs).

    Raises:
        PolicyInvalid: the file cannot be read, is not YAML or TOML, does not fit
            the schema (a rule's module not found, its attribute missing or not
            callable among them), or is inconsistent (every problem, at its line
            and field).
    """
    file = Path(path)
    shown = name if name is not None else str(path)
    if file.suffix == ".toml":
        document = _toml(file, shown)
    else:
        try:
            document = load_file(file, shown)
        except DocumentInvalid as err:
            raise PolicyInvalid(err.problems) from None
    policy = parse_policy(document)
    if policy.templates is not None and not Path(policy.templates).is_absolute():
        policy = policy.model_copy(update={"templates": str(file.parent / policy.templates)})
    return policy
