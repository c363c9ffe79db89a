"""YAML documents that remember where each value was written.

Scenario files (and, later, policy files) are written by people who are not
programmers, so every complaint about them must say *where*: the file, the
line and the field, e.g. ``tests/scenarios/x.yaml:14: expect[0].at: Input
should have timezone info``.  `load` builds plain Python data from PyYAML's
node tree (``yaml.compose`` with the safe loader) and records, for every path
such as ``("expect", 0, "at")``, the line of its key (or of the item, in a
list).  `validation_problems` turns a `pydantic.ValidationError` raised on
that data into problems at those lines.

Scalars are built so that nothing is lost on the way to pydantic:

- ``null``, booleans and integers keep their type;
- floats and timestamps stay the text that was written: ``balance:
  1250.00`` reaches pydantic as ``"1250.00"`` (an exact `Decimal`, never a
  binary float), and ``at: 2026-10-01T10:00:00`` as a string that pydantic
  parses and refuses, because it has no offset (PyYAML would have made it a
  naive `datetime` silently);
- YAML 1.1 base-60 numbers stay text too: ``from: 21:00`` is the time of day
  it looks like, not the integer 1260;
- a key given twice in one mapping is an error naming both lines, where
  PyYAML would keep the last value silently.

Anchors and aliases work; merge keys (``<<``) and explicit tags other than
YAML's standard ones are refused.

A document is bounded (`arrears.limits`): at most ``DOCUMENT_BYTES``
characters, ``YAML_DEPTH`` nested mappings and lists, ``YAML_ALIASES``
aliases and ``YAML_VALUES`` values once its aliases are expanded, so a
"billion laughs" or a file of ten thousand nested brackets is refused with a
`DocumentInvalid` naming the file and the line, never a `MemoryError` or a
`RecursionError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeAlias

import pydantic
import yaml

from .errors import DocumentInvalid, Problem, expected_of
from .limits import DOCUMENT_BYTES, YAML_ALIASES, YAML_DEPTH, YAML_VALUES

#: The longest scalar a problem repeats as written.
_SHOWN_SCALAR: Final = 64

__all__ = [
    "DocumentInvalid",
    "FieldPath",
    "LocatedDocument",
    "Problem",
    "field_name",
    "load",
    "load_file",
    "safe_load",
    "validation_problems",
]

FieldPath: TypeAlias = tuple[str | int, ...]
"""Where a value sits in a document: mapping keys and list positions, from the top."""

_TAG: Final = "tag:yaml.org,2002:"
_KEEP_TEXT: Final = frozenset({f"{_TAG}float", f"{_TAG}timestamp", f"{_TAG}str"})
_CONSTRUCT: Final = yaml.SafeLoader("")  # only its scalar constructors are used


@dataclass(frozen=True, slots=True)
class LocatedDocument:
    """Plain data loaded from YAML, with the line of every value in it.

    Attributes:
        file: The file name used in problems.
        data: The document as dicts, lists and scalars (``None`` for an empty file).
        lines: The line (1-based) of each path's key, or of the item in a list;
            ``()`` maps to the document's first line.
    """

    file: str
    data: Any
    lines: Mapping[FieldPath, int]

    def line_of(self, path: FieldPath) -> int:
        """The line of *path*, or of its nearest enclosing value when it is not in the document.

        A missing key is reported at the line of the mapping that lacks it.
        """
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def problem(self, path: FieldPath, message: str) -> Problem:
        """A `Problem` at *path*, on its line."""
        return Problem(self.file, self.line_of(path), field_name(path), message)


def field_name(path: FieldPath) -> str:
    """A path as a reader writes it: ``("expect", 0, "at")`` is ``expect[0].at``.

    >>> field_name(("case", "contacts", 1, "id"))
    'case.contacts[1].id'
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class _TooBig(Exception):
    """A document over one of the limits: where, and which."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a document nested too deeply or with too many aliases.

    The composer builds nested nodes by recursion: the depth is checked
    before Python's own limit is reached.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > YAML_ALIASES:
                raise _TooBig(line, f"more than {YAML_ALIASES} aliases")
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > YAML_DEPTH:
                raise _TooBig(line, f"mappings and lists nested more than {YAML_DEPTH} deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose(text: str, file: str) -> yaml.Node | None:
    """The node tree of *text*, bounded; `DocumentInvalid` naming *file* and the line."""
    if len(text) > DOCUMENT_BYTES:
        raise DocumentInvalid(
            [Problem(file, 1, "", f"{len(text)} characters, more than {DOCUMENT_BYTES}")]
        )
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_node()
    except _TooBig as err:
        raise DocumentInvalid([Problem(file, err.line, "", err.message)]) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = ", ".join(part for part in (err.context, err.problem) if part)
        raise DocumentInvalid([Problem(file, line, "", f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as err:
        raise DocumentInvalid([Problem(file, 1, "", f"not valid YAML: {err}")]) from None
    finally:
        loader.dispose()


def safe_load(text: str, file: str) -> Any:
    """*text* as PyYAML's safe loader builds it, within the same limits as `load`.

    For small documents read as PyYAML reads them (a template's front matter).

    Raises:
        DocumentInvalid: not YAML, or over a limit, naming *file* and the line.
    """
    root = _compose(text, file)
    if root is None:
        return None
    loader = _BoundedLoader("")
    try:
        return loader.construct_document(root)
    finally:
        loader.dispose()


class _Builder:
    """Turns a composed node tree into plain data, recording lines and problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[FieldPath, int] = {}
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # nodes being built: an alias inside itself is a cycle
        self._built = 0  # values built, aliases expanded: bounded by YAML_VALUES

    def fail(self, node: yaml.Node, path: FieldPath, message: str) -> None:
        self.problems.append(
            Problem(self.file, node.start_mark.line + 1, field_name(path), message)
        )

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self._built += 1
        if self._built > YAML_VALUES:
            raise _TooBig(
                node.start_mark.line + 1,
                f"more than {YAML_VALUES} values once its aliases are expanded",
            )
        if id(node) in self._open:
            self.fail(node, path, "an alias refers to a value that contains it")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, path)
            assert isinstance(node, yaml.ScalarNode)  # the only other kind compose builds
            return self._scalar(node, path)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[Any, Any]:
        if node.tag != f"{_TAG}map":
            self.fail(node, path, f"unsupported YAML tag {node.tag!r}; write a plain mapping")
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == f"{_TAG}merge":
                self.fail(key_node, path, "merge keys (<<) are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, path, "a key must be a plain word or number")
                continue
            key = self._scalar(key_node, path)
            if not isinstance(key, (str, int)):
                self.fail(key_node, path, f"a key must be a word or a number, not {key!r}")
                continue
            child = (*path, key)
            if key in first_line:
                self.fail(
                    key_node,
                    child,
                    f"duplicate key {key!r} (first given on line {first_line[key]})",
                )
                continue
            first_line[key] = line
            self.lines[child] = line
            result[key] = self.build(value_node, child)
        return result

    def _sequence(self, node: yaml.SequenceNode, path: FieldPath) -> list[Any]:
        if node.tag != f"{_TAG}seq":
            self.fail(node, path, f"unsupported YAML tag {node.tag!r}; write a plain list")
        result: list[Any] = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            self.lines[child] = item.start_mark.line + 1
            result.append(self.build(item, child))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: FieldPath) -> Any:
        tag = node.tag
        text = node.value
        if tag in _KEEP_TEXT:
            return text
        if tag == f"{_TAG}null":
            return None
        if tag == f"{_TAG}bool":
            return _CONSTRUCT.construct_yaml_bool(node)
        if tag == f"{_TAG}int":
            if ":" in text:  # YAML 1.1 base 60: "21:00" is a time of day to any reader
                return text
            try:
                return _CONSTRUCT.construct_yaml_int(node)
            except ValueError:  # not an integer, or one of more digits than Python reads
                if len(text) > _SHOWN_SCALAR:
                    self.fail(node, path, f"a number of {len(text)} characters: too long to read")
                else:
                    self.fail(node, path, f"{text!r} is not an integer")
                return None
        self.fail(node, path, f"unsupported YAML tag {tag!r}; write a plain value")
        return None


def load(text: str, file: str) -> LocatedDocument:
    """Load one YAML document from *text*, remembering the line of every value.

    Args:
        text: The YAML source.
        file: The name to put in problems (usually the path as the user gave it).

    Returns:
        The data and the line of each of its paths.

    Raises:
        DocumentInvalid: the text is not YAML, holds more than one document,
            repeats a key in a mapping, uses a merge key or an unsupported tag,
            or is over a limit (size, depth, aliases, values).

    Example:
        >>> doc = load("expect:\\n  - at: 2026-10-08T11:00:00-04:00\\n", "x.yaml")
        >>> doc.data, doc.line_of(("expect", 0, "at"))
        ({'expect': [{'at': '2026-10-08T11:00:00-04:00'}]}, 2)
    """
    root = _compose(text, file)
    if root is None:
        return LocatedDocument(file, None, {(): 1})
    builder = _Builder(file)
    try:
        data = builder.build(root, ())
    except _TooBig as err:
        raise DocumentInvalid([Problem(file, err.line, "", err.message)]) from None
    if builder.problems:
        raise DocumentInvalid(sorted(builder.problems, key=lambda problem: problem.line))
    return LocatedDocument(file, data, {(): root.start_mark.line + 1, **builder.lines})


def load_file(path: str | os.PathLike[str], name: str | None = None) -> LocatedDocument:
    """Read *path* (UTF-8) and `load` it; problems name the file as *name* or as given.

    Raises:
        DocumentInvalid: the file cannot be read or decoded, or `load` refuses it.
    """
    file = name if name is not None else str(path)
    try:
        size = Path(path).stat().st_size
        if size > DOCUMENT_BYTES:  # refused before it is read
            raise DocumentInvalid(
                [Problem(file, 1, "", f"{size} bytes, more than {DOCUMENT_BYTES}")]
            )
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DocumentInvalid([Problem(file, 1, "", f"not UTF-8 text: {err.reason}")]) from None
    except OSError as err:
        raise DocumentInvalid([Problem(file, 1, "", f"cannot read: {err.strerror}")]) from None
    return load(text, file)


def _data_path(document: LocatedDocument, loc: Iterable[int | str]) -> FieldPath:
    """The document path an error's ``loc`` points at.

    Pydantic puts extra steps into ``loc`` (the tag of a tagged union, the
    name of a member type); they are not keys of the data, so only steps
    that lead to a value are kept, plus a last key that a mapping lacks
    (the name of a missing field).
    """
    steps = list(loc)
    path: list[str | int] = []
    current: Any = document.data
    for position, step in enumerate(steps):
        in_mapping = isinstance(current, Mapping) and step in current
        in_list = isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current)
        if in_mapping or in_list:
            current = current[step]
            path.append(step)
        elif position == len(steps) - 1 and isinstance(current, Mapping):
            path.append(step)
    return tuple(path)


def validation_problems(
    error: pydantic.ValidationError, document: LocatedDocument, *, at: FieldPath = ()
) -> list[Problem]:
    """Turn a pydantic error on (part of) *document*'s data into problems at their lines.

    Args:
        error: Raised by validating ``document.data`` (or the part of it at *at*).
        document: The document the data came from.
        at: Where the validated data sits in the document, when it was only a part.

    Returns:
        One problem per pydantic error, in line order, its message as
        `arrears.errors.expected_of` says it: pydantic's (``Input should have
        timezone info``, without its ``Value error, `` prefix), or the form to
        write for a time zone, a date, a decimal or a pattern; a field's own
        check that names the field is not made to name it twice.  An error
        raised with a ``field`` in its context (a tagged union whose tag is
        missing or unknown) names that field.
    """
    problems: list[Problem] = []
    errors = error.errors(include_url=False)
    inner = {item["loc"][:end] for item in errors for end in range(len(item["loc"]))}
    for item in errors:
        if item["type"] == "too_short" and item["loc"] in inner:
            continue  # pydantic counts a tuple's invalid items as missing: the item says more
        path = _data_path(document, (*at, *item["loc"]))
        context = item.get("ctx") or {}
        extra = context.get("field")
        if isinstance(extra, str) and not (path and path[-1] == extra):
            path = (*path, extra)
        message = expected_of(item)
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif path and message.startswith(f"{path[-1]}: got "):
            message = message[len(f"{path[-1]}: ") :]  # the field's own check names it again
        problems.append(document.problem(path, message))
    problems.sort(key=lambda problem: problem.line)
    return problems
