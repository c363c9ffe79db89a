"""Message templates: loaded from files, rendered in a sandbox, checked before anything is sent.

A template is a text file named ``NAME.CHANNEL.LOCALE.txt``
(``reminder.sms.zh-CN.txt``), optionally opening with YAML front matter
between two ``---`` lines::

    ---
    kind: reminder          # what it must state (see arrears.messages.MESSAGE_KINDS)
    max_segments: 2         # SMS only: the most parts it may take
    parties: [debtor]       # whom it may go to (default: the kind's)
    subject: "..."          # e-mail and letter: the subject, a template too
    variables: {}           # variables of your own, with sample values for checks
    ---
    {{ sms_signature }}您有{{ amount_owed }}逾期未还……

The body is a Jinja2 template rendered in Jinja2's sandbox with
`StrictUndefined`: a variable that is missing is an error, never an empty
string.  Rendering is bounded (`arrears.limits`): a source of at most
``TEMPLATE_SOURCE`` characters, at most ``TEMPLATE_STEPS`` loop iterations and
macro calls and ``TEMPLATE_SECONDS`` seconds per rendering, and no value or
message longer than ``MESSAGE`` characters (operators, filters and methods that
would build a longer one are refused before they run), so a template that
would hang or fill the memory is refused as ``MSG-LIMITS``.  A problem names
the template, the rule and the kind of error, never the rendered text or a
value from the case: the debtor's name stays out of reports and logs.  Money,
dates, datetimes and decimals print as the template's locale writes them; the
filters ``money``, ``date(style)``, ``datetime(style)``, ``percent`` and
``number`` do the same explicitly.
"""

from __future__ import annotations

import functools
import re
import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..case import Case, Channel, Party
from ..compliance import Compliance, DebtorHistory, Rule
from ..compliance.packs import resolve
from ..errors import DocumentInvalid, InvalidInput, TooLong, invalid_input
from ..limits import (
    MESSAGE,
    TEMPLATE_CHARACTERS,
    TEMPLATE_SECONDS,
    TEMPLATE_SOURCE,
    TEMPLATE_STEPS,
)
from ..money import Money
from ._errors import MessageRefused, TemplateProblem, UnknownTemplate
from .content import judge_text
from .context import CONTEXT_VARIABLES, sample_context
from .formatting import (
    babel_locale,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
)
from .kinds import DEBT_VARIABLES, MESSAGE_KINDS, MessageKind
from .sms import SmsLength, sms_segments

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    from ..channels import OutboundMessage

# Jinja2 and the YAML parser are imported by the functions that use them, on
# first use (the first template loaded), not with `arrears`.

__all__ = [
    "DEFAULT_MAX_SEGMENTS",
    "TEMPLATE_CHANNELS",
    "MessageTemplate",
    "RenderedMessage",
    "TemplateMeta",
    "TemplateSet",
]

TEMPLATE_CHANNELS: Final = frozenset({"sms", "email", "letter", "voicemail", "call"})
"""The channels templates are written for (``call`` is a call script)."""

DEFAULT_MAX_SEGMENTS: Final = 3
"""The most parts an SMS template may take when its front matter sets no ``max_segments``."""

_FILE: Final = re.compile(
    r"^(?P<name>[a-z][a-z0-9_]*)\.(?P<channel>[a-z]+)\.(?P<locale>[a-z]{2,3}(?:-[A-Za-z0-9]+)*)\.txt$"
)
_ID: Final = re.compile(
    r"^(?P<name>[a-z][a-z0-9_]*)\.(?P<channel>[a-z]+)\.(?P<locale>[a-z]{2,3}(?:-[A-Za-z0-9]+)*)$"
)
_FRONT: Final = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.DOTALL | re.MULTILINE)


class TemplateMeta(BaseModel):
    """A template's front matter.

    Attributes:
        kind: The message kind (`MESSAGE_KINDS`): what it must and may state.
        description: What the template is for, in a line.
        subject: The subject of an e-mail or letter (a template too).
        max_segments: SMS only: the most parts the rendered text may take
            (`DEFAULT_MAX_SEGMENTS` when not set).
        parties: Whom it may be sent to; the kind's parties when not set.
        first_communication: Judge it as the first communication with the
            debtor; the kind's setting when not set.
        variables: Variables of the template's own beyond `CONTEXT_VARIABLES`,
            each with a sample value used when the templates are checked.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = "notice"
    description: str = ""
    subject: str | None = None
    max_segments: int | None = Field(default=None, ge=1, le=10)
    parties: frozenset[Party] | None = None
    first_communication: bool | None = None
    variables: dict[str, Any] = Field(default_factory=dict)


class _Refusal(Exception):
    """Raised inside rendering (by finalize) to become a `TemplateProblem`."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class _Budget:
    """What one rendering may still spend: loop iterations and macro calls, characters
    built by filters and methods, and time."""

    __slots__ = ("characters", "deadline", "started", "steps")

    def __init__(self) -> None:
        self.steps = TEMPLATE_STEPS
        self.characters = TEMPLATE_CHARACTERS
        self.started = _time.thread_time()
        self.deadline = _time.monotonic() + TEMPLATE_SECONDS

    def spent(self) -> bool:
        """Whether the rendering has used its time, once the wall clock passed its deadline.

        The time counted is the rendering thread's own CPU time: a machine busy with
        other work, or this process loading a locale's data for the first time while
        the other core runs something else, does not refuse a rendering that did little.
        The wall clock is read at every step (cheap); the CPU time only once it says the
        time may be up, and the deadline moves on by what is left.
        """
        used = _time.thread_time() - self.started
        if used > TEMPLATE_SECONDS:
            return True
        self.deadline = _time.monotonic() + (TEMPLATE_SECONDS - used)
        return False

    def build(self, value: Any) -> None:
        """Count the text a filter or method built; refuse the rendering past the limits."""
        if type(value) is str:
            self.characters -= len(value)
            if self.characters < 0:
                raise _Refusal(
                    "MSG-LIMITS",
                    f"filters and methods built more than {TEMPLATE_CHARACTERS} characters",
                )
        if _time.monotonic() > self.deadline and self.spent():
            raise _Refusal("MSG-LIMITS", f"rendering took more than {TEMPLATE_SECONDS:g} s")

    def spend(self) -> str:
        """One step more; refuse the rendering past the limits.  Renders as nothing."""
        self.steps -= 1
        if self.steps < 0:
            raise _Refusal(
                "MSG-LIMITS", f"more than {TEMPLATE_STEPS} loop iterations and macro calls"
            )
        if _time.monotonic() > self.deadline and self.spent():
            raise _Refusal("MSG-LIMITS", f"rendering took more than {TEMPLATE_SECONDS:g} s")
        return ""


#: The budget of the rendering under way in this thread (or task).
_BUDGET: ContextVar[_Budget] = ContextVar("arrears_template_budget")


def _spend() -> str:
    budget = _BUDGET.get(None)
    return budget.spend() if budget is not None else ""


def _built(value: Any) -> None:
    budget = _BUDGET.get(None)
    if budget is not None:
        budget.build(value)


def _too_long(what: str, length: int) -> _Refusal:
    return _Refusal("MSG-LIMITS", f"{what} of {length} characters, more than {MESSAGE}")


def _size(value: Any) -> int:
    """How long *value* would print, at most (0 when it is not a text or a sequence)."""
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def _checked_join(values: Sequence[Any]) -> str:
    """Jinja2's ``~`` (concatenation), refused past `MESSAGE` characters."""
    text = "".join([value if type(value) is str else str(value) for value in values])
    if len(text) > MESSAGE:
        raise _too_long("a text", len(text))
    return text


def _bounded_range(*args: int) -> range:
    """``range``, at most `TEMPLATE_STEPS` long."""
    numbers = range(*args)
    if len(numbers) > TEMPLATE_STEPS:
        raise _Refusal(
            "MSG-LIMITS", f"a range of {len(numbers)} numbers, more than {TEMPLATE_STEPS}"
        )
    return numbers


#: A width or precision in a format: ``%20000d``, ``%.20000f``.
_WIDE: Final = re.compile(r"%[-+ #0]*(?:\d{5,}|\d*\.\d{5,})")
#: The most spaces ``tojson`` may indent by.
_JSON_INDENT: Final = 8


def _check_arguments(values: Iterable[Any]) -> None:
    """Refuse a number that would make a text longer than `MESSAGE` (a width, a count)."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MESSAGE:
            raise _Refusal("MSG-LIMITS", f"a number above {MESSAGE} given to a filter or method")
        if _size(value) > MESSAGE:
            raise _too_long("an argument", _size(value))


def _check_replace(text: Any, old: Any, new: Any) -> None:
    """Refuse a ``replace`` whose result would be longer than `MESSAGE`."""
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        grows = (text.count(old) if old else len(text) + 1) * (len(new) - len(old))
        if len(text) + grows > MESSAGE:
            raise _too_long("a replacement", len(text) + grows)


def _checked_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """*function*, a filter, refusing arguments and results past the limits."""

    # A filter marked pass_context (or the like) takes Jinja2's context before its value.
    skip = 1 if hasattr(function, "jinja_pass_arg") else 0

    @functools.wraps(function)  # keeps Jinja2's pass_context marks
    def checked(*args: Any, **kwargs: Any) -> Any:
        given = args[skip:]
        _check_arguments(given[1:])
        _check_arguments(kwargs.values())
        if name == "replace" and len(given) >= 3:
            _check_replace(given[0], given[1], given[2])
        if name == "format" and given and isinstance(given[0], str) and _WIDE.search(given[0]):
            raise _Refusal("MSG-LIMITS", f"a format width above {MESSAGE}")
        if name == "tojson":
            indent = kwargs.get("indent", given[1] if len(given) > 1 else None)
            if indent is not None and not (isinstance(indent, int) and 0 <= indent <= _JSON_INDENT):
                raise _Refusal("MSG-LIMITS", f"a JSON indent other than 0 to {_JSON_INDENT}")
        result = function(*args, **kwargs)
        if _size(result) > MESSAGE:
            raise _too_long(f"the result of {name}", _size(result))
        _built(result)
        return result

    return checked


def _within_limits(tree: Any) -> Any:
    """*tree*, a parsed template, with every loop, macro and ``~`` counted against the budget."""
    from jinja2 import nodes
    from jinja2.visitor import NodeTransformer

    def step(lineno: int) -> Any:
        call = nodes.Call(nodes.Name("_arrears_step", "load"), [], [], None, None)
        return nodes.Output([call]).set_lineno(lineno)

    class Counting(NodeTransformer):
        def visit_For(self, node: Any) -> Any:  # noqa: N802 (Jinja2's visitor names)
            node = self.generic_visit(node)
            node.body.insert(0, step(node.lineno))
            return node

        def visit_Macro(self, node: Any) -> Any:  # noqa: N802
            node = self.generic_visit(node)
            node.body.insert(0, step(node.lineno))
            return node

        def visit_CallBlock(self, node: Any) -> Any:  # noqa: N802
            node = self.generic_visit(node)
            node.body.insert(0, step(node.lineno))
            return node

        def visit_Concat(self, node: Any) -> Any:  # noqa: N802
            node = self.generic_visit(node)
            join = nodes.Name("_arrears_join", "load")
            return nodes.Call(join, [nodes.List(node.nodes)], [], None, None).set_lineno(
                node.lineno
            )

    counted = Counting().visit(tree)
    counted.set_environment(tree.environment)
    return counted


def _sandbox_class() -> type[SandboxedEnvironment]:
    """Jinja2's sandbox, with the operators and calls that could build a huge value checked."""
    from jinja2.sandbox import SandboxedEnvironment

    class MessageSandbox(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "+", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                if isinstance(right, (int, float)) and abs(right) > 64:
                    raise _Refusal("MSG-LIMITS", "an exponent above 64")
            elif operator == "*":
                for one, other in ((left, right), (right, left)):
                    if isinstance(other, int) and _size(one) * abs(other) > MESSAGE:
                        raise _too_long("a repetition", _size(one) * abs(other))
                    if (
                        isinstance(one, int)
                        and isinstance(other, int)
                        and one.bit_length() + other.bit_length() > 256
                    ):
                        raise _Refusal("MSG-LIMITS", "a product of more than 256 bits")
            elif operator == "+":
                if _size(left) + _size(right) > MESSAGE:
                    raise _too_long("a sum", _size(left) + _size(right))
            elif operator == "%" and isinstance(left, str):
                _check_arguments(right if isinstance(right, tuple) else (right,))
                if _WIDE.search(left):
                    raise _Refusal("MSG-LIMITS", f"a format width above {MESSAGE}")
            result = super().call_binop(context, operator, left, right)
            if _size(result) > MESSAGE:
                raise _too_long("a value", _size(result))
            return result

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            receiver = getattr(__obj, "__self__", None)
            if isinstance(receiver, str):  # a method of a text: ljust(10**9), replace, format
                _check_arguments(args)
                _check_arguments(kwargs.values())
                name = getattr(__obj, "__name__", "")
                if name == "replace" and len(args) >= 2:
                    _check_replace(receiver, args[0], args[1])
            result = super().call(__context, __obj, *args, **kwargs)
            if _size(result) > MESSAGE:
                raise _too_long("a value", _size(result))
            _built(result)
            return result

        def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
            """``str.format`` and ``format_map`` are refused: a width (``{:>999999999}``)
            builds its text before any check could see it; the ``format`` filter and
            ``~`` do the same job, checked."""
            if super().wrap_str_format(value) is None:
                return None

            def refused(*args: Any, **kwargs: Any) -> str:
                raise _Refusal("MSG-LIMITS", "str.format in a template; use the format filter or ~")

            return refused

    return MessageSandbox


def _bounded_join(env: SandboxedEnvironment) -> Callable[..., str]:
    """Jinja2's ``join`` filter, refused as soon as its text would pass `MESSAGE` characters.

    The parts are counted as they come, so a join of ten thousand long parts
    stops at the first one past the limit instead of building them all.
    """
    from jinja2.filters import make_attrgetter

    def join(value: Iterable[Any], d: str = "", attribute: str | int | None = None) -> str:
        if attribute is not None:
            value = map(make_attrgetter(env, attribute), value)
        separator = str(d)
        parts: list[str] = []
        total = 0
        for item in value:
            text = item if type(item) is str else str(item)
            total += len(text) + (len(separator) if parts else 0)
            if total > MESSAGE:
                raise _Refusal("MSG-LIMITS", f"a join of more than {MESSAGE} characters")
            parts.append(text)
        return separator.join(parts)

    return join


@lru_cache(maxsize=64)
def _environment(locale: str) -> SandboxedEnvironment:
    """The sandbox for *locale*: its formats for values and filters, strict about variables."""
    import jinja2

    def finalize(value: Any) -> Any:
        if type(value) is str or type(value) is int:
            return value
        if value is None:
            raise _Refusal("MSG-VARIABLES", "a value renders as None; leave it out instead")
        if isinstance(value, Money):
            return format_money(value, locale)
        if isinstance(value, datetime):
            return format_datetime(value, locale)
        if isinstance(value, date):
            return format_date(value, locale)
        if isinstance(value, float):
            raise _Refusal("MSG-VARIABLES", "a float renders in a message; use Decimal or Money")
        if isinstance(value, Decimal):
            return format_number(value, locale)
        return value

    env = _sandbox_class()(
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["money"] = lambda value: format_money(value, locale)
    env.filters["date"] = lambda value, style="long": format_date(value, locale, style)
    env.filters["datetime"] = lambda value, style="medium": format_datetime(value, locale, style)
    env.filters["percent"] = lambda value: format_percent(value, locale)
    env.filters["number"] = lambda value: format_number(value, locale)
    env.filters["join"] = _bounded_join(env)
    for name, function in list(env.filters.items()):
        env.filters[name] = _checked_filter(name, function)
    # lipsum(1000000) runs for half a minute in one call no budget can interrupt;
    # cycler and joiner have no use in a message.
    for unused in ("lipsum", "cycler", "joiner"):
        env.globals.pop(unused, None)
    env.globals["range"] = _bounded_range
    env.globals["_arrears_step"] = _spend
    env.globals["_arrears_join"] = _checked_join
    return env


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message rendered from a template, checked and ready to send.

    Attributes:
        template: The template's id, ``name.channel.locale``.
        name: The template's name.
        channel: Its channel.
        locale: Its locale (the one the text is written in).
        kind: Its message kind.
        party: Whom it is for.
        text: The message (personal data: kept out of ``repr``).
        subject: The subject of an e-mail or letter.
        sms: The SMS length and parts, for an SMS.
    """

    template: str
    name: str
    channel: str
    locale: str
    kind: str
    party: str
    text: str = field(repr=False)
    subject: str | None = field(default=None, repr=False)
    sms: SmsLength | None = None

    def outbound(
        self, *, key: str, case_id: str, contact: str | None = None, address: str | None = None
    ) -> OutboundMessage:
        """The `arrears.channels.OutboundMessage` that sends this text.

        Args:
            key: The idempotency key (the outbox's).
            case_id: The case it is about.
            contact: The contact point's id.
            address: The number or address to send to.
        """
        from ..channels import OutboundMessage

        return OutboundMessage(
            key=key,
            case_id=case_id,
            channel=self.channel,
            contact=contact,
            address=address,
            text=self.text,
            subject=self.subject,
            template=self.template,
            locale=self.locale,
        )


class MessageTemplate:
    """One template: a name, a channel, a locale, its front matter and its compiled body.

    Build one with `MessageTemplate.parse` (or let `TemplateSet.load` read a
    folder).  Rendering goes through `TemplateSet.render`, which picks the
    template and the rules.

    Attributes:
        name: The template's name (``reminder``).
        channel: ``sms``, ``email``, ``letter``, ``voicemail`` or ``call``.
        locale: The BCP 47 locale it is written in.
        meta: Its front matter.
        kind: Its message kind.
        source: The body's source text.
        origin: Where it was read from (a file name), for error messages.
        variables: Every variable the body and subject use.
    """

    def __init__(
        self, name: str, channel: str, locale: str, source: str, *, origin: str | None = None
    ) -> None:
        self.origin = origin or f"{name}.{channel}.{locale}"
        if channel not in TEMPLATE_CHANNELS:
            raise InvalidInput(
                f"{self.origin}: channel", channel, f"one of {sorted(TEMPLATE_CHANNELS)}"
            )
        babel_locale(locale)
        if not isinstance(source, str) or len(source) > TEMPLATE_SOURCE:
            raise InvalidInput(
                f"{self.origin}: source",
                TooLong(len(source)) if isinstance(source, str) else type(source).__name__,
                f"a template of at most {TEMPLATE_SOURCE} characters",
            )
        self.name = name
        self.channel = channel
        self.locale = locale
        self.meta, self.source = _front_matter(source, self.origin)
        kind = MESSAGE_KINDS.get(self.meta.kind)
        if kind is None:
            raise InvalidInput(
                f"{self.origin}: kind", self.meta.kind, f"one of {sorted(MESSAGE_KINDS)}"
            )
        self.kind: MessageKind = kind
        env = _environment(locale)
        self._body, used = _compile(env, self.source, self.origin)
        self._subject: jinja2.Template | None = None
        if self.meta.subject is not None:
            self._subject, more = _compile(env, self.meta.subject, f"{self.origin} (subject)")
            used |= more
        self.variables: frozenset[str] = frozenset(used)
        self._sorted_variables = tuple(sorted(used))
        self._parties = (
            frozenset(str(party) for party in self.meta.parties)
            if self.meta.parties is not None
            else self.kind.parties
        )

    @classmethod
    def parse(cls, template_id: str, text: str, *, origin: str | None = None) -> MessageTemplate:
        """A template from its id (``"reminder.sms.zh-CN"``) and its text (front matter and body).

        Raises:
            InvalidInput: a malformed id, front matter or template syntax, naming where.
        """
        found = _ID.match(template_id)
        if found is None:
            raise InvalidInput("template id", template_id, "NAME.CHANNEL.LOCALE in snake_case")
        return cls(
            found["name"], found["channel"], found["locale"], text, origin=origin or template_id
        )

    def __repr__(self) -> str:
        return f"MessageTemplate({self.id!r}, kind={self.kind.name!r})"

    @property
    def id(self) -> str:
        """``name.channel.locale``."""
        return f"{self.name}.{self.channel}.{self.locale}"

    @property
    def parties(self) -> frozenset[str]:
        """Whom it may be sent to."""
        return self._parties

    @property
    def first_communication(self) -> bool:
        """Whether it is judged as the first communication with the debtor."""
        if self.meta.first_communication is not None:
            return self.meta.first_communication
        return self.kind.first_communication

    @property
    def max_segments(self) -> int | None:
        """The most SMS parts it may take (``None`` on other channels)."""
        if self.channel != Channel.SMS:
            return None
        return self.meta.max_segments or DEFAULT_MAX_SEGMENTS

    def _problem(self, rule: str, message: str, *, citation: str = "") -> TemplateProblem:
        return TemplateProblem(self.id, rule, message, None, citation or self.kind.citation)

    @cached_property
    def structural_problems(self) -> tuple[TemplateProblem, ...]:
        """What is wrong with the template whatever the values: facts, channel, variables used."""
        kind = self.kind
        found: list[TemplateProblem] = []
        if kind.channels is not None and self.channel not in kind.channels:
            found.append(
                self._problem(
                    "MSG-CHANNEL",
                    f"a {kind.name} message may not go by {self.channel} "
                    f"(only {', '.join(sorted(kind.channels))})",
                )
            )
        for fact, names in kind.facts.items():
            if not self.variables & set(names):
                found.append(
                    self._problem(
                        "MSG-FACTS",
                        f"a {kind.name} must state {fact}: use one of {', '.join(names)}",
                    )
                )
        if kind.allowed_variables is not None:
            extra = sorted(self.variables - kind.allowed_variables)
            if extra:
                found.append(
                    self._problem(
                        "MSG-LIMITED",
                        f"a {kind.name} message may carry only "
                        f"{', '.join(sorted(kind.allowed_variables))}; it uses {', '.join(extra)}",
                    )
                )
        forbidden = set(kind.forbidden_variables)
        if self.parties - {Party.DEBTOR}:
            forbidden |= DEBT_VARIABLES
        revealing = sorted(self.variables & forbidden)
        if revealing:
            found.append(
                self._problem(
                    "MSG-THIRD-PARTY",
                    f"a message for {', '.join(sorted(self.parties - {'debtor'}))} reveals the "
                    f"debt through {', '.join(revealing)}",
                    citation="12 CFR 1006.6(d); NIFA collection standard",
                )
            )
        return tuple(found)

    def _undefined(self, err: jinja2.UndefinedError) -> str:
        """What was undefined, named only by what the template itself says (its variables)."""
        found = re.search(r"'([^']+)' is undefined", str(err))
        if found and found.group(1) in self.variables:
            return f"variable {found.group(1)!r} is not in the context"
        return f"an undefined value{_where(err)}"

    @cached_property
    def undeclared(self) -> tuple[str, ...]:
        """Variables it uses that are neither in `CONTEXT_VARIABLES` nor in its front matter."""
        known = set(CONTEXT_VARIABLES) | set(self.meta.variables)
        return tuple(sorted(self.variables - known))

    def evaluate(
        self,
        context: Mapping[str, Any],
        *,
        party: str = Party.DEBTOR,
        rules: Sequence[Rule] = (),
        case: Case | None = None,
        at: datetime | None = None,
        first_communication: bool | None = None,
    ) -> tuple[RenderedMessage | None, list[TemplateProblem]]:
        """Render with *context* and check it: the message (if it rendered) and every problem.

        `TemplateSet.render` raises `MessageRefused` when the list is not empty.
        """
        problems = list(self.structural_problems)
        if party not in self.parties:
            problems.append(
                self._problem(
                    "MSG-PARTY",
                    f"the template is for {', '.join(sorted(self.parties))}, not {party}"
                    + (
                        "; a third party gets a third-party-safe template"
                        if party != "debtor"
                        else ""
                    ),
                    citation="12 CFR 1006.6(d); NIFA collection standard",
                )
            )
        for name in self._sorted_variables:
            if name in context and context[name] is None:
                problems.append(
                    self._problem("MSG-VARIABLES", f"variable {name!r} is None; leave it out")
                )
        import jinja2  # loaded already: the template was compiled

        # Whatever goes wrong, the problem names the template, its line and the kind
        # of error, never the error's own text: that may quote a value of the case
        # (a filter failing on the debtor's name), and problems reach reports and logs.
        token = _BUDGET.set(_Budget())
        try:
            text = self._body.render(context).strip()
            subject = self._subject.render(context).strip() if self._subject is not None else None
        except jinja2.UndefinedError as err:
            rule = "MSG-SANDBOX" if "unsafe" in str(err) else "MSG-VARIABLES"
            problems.append(self._problem(rule, self._undefined(err)))
            return None, problems
        except _Refusal as err:
            problems.append(self._problem(err.rule, f"{err.message}{_where(err)}"))
            return None, problems
        except jinja2.exceptions.SecurityError as err:
            problems.append(self._problem("MSG-SANDBOX", f"unsafe template operation{_where(err)}"))
            return None, problems
        except RecursionError as err:
            problems.append(self._problem("MSG-LIMITS", f"macros nested too deeply{_where(err)}"))
            return None, problems
        except Exception as err:  # a filter failing on any value is the template's problem
            problems.append(
                self._problem("MSG-TEMPLATE", f"{type(err).__name__} while rendering{_where(err)}")
            )
            return None, problems
        finally:
            _BUDGET.reset(token)
        longest = max(len(text), len(subject or ""))
        if longest > MESSAGE:
            problems.append(
                self._problem("MSG-LIMITS", f"renders {longest} characters, more than {MESSAGE}")
            )
            return None, problems
        sms = sms_segments(text) if self.channel == Channel.SMS else None
        limit = self.max_segments
        if sms is not None and limit is not None and sms.segments > limit:
            problems.append(
                self._problem(
                    "MSG-SEGMENTS",
                    f"{sms.segments} SMS parts ({sms.characters} characters, {sms.encoding}), "
                    f"at most {limit}",
                    citation="the template's max_segments",
                )
            )
        judged_case = case if case is not None else _case_for(context, self.locale)
        moment = at if at is not None else _moment_for(context, judged_case)
        first = self.first_communication if first_communication is None else first_communication
        whole = f"{subject}\n{text}" if subject else text
        for reason in judge_text(
            whole,
            channel=self.channel,
            party=party,
            purpose=self.kind.purpose,
            rules=rules,
            case=judged_case,
            at=moment,
            first_communication=first,
        ):
            match = reason.values.get("match")
            problems.append(
                TemplateProblem(
                    self.id,
                    reason.rule,
                    reason.message,
                    match if isinstance(match, str) else None,
                    reason.citation,
                )
            )
        message = RenderedMessage(
            template=self.id,
            name=self.name,
            channel=self.channel,
            locale=self.locale,
            kind=self.kind.name,
            party=party,
            text=text,
            subject=subject,
            sms=sms,
        )
        return message, problems


def _where(err: BaseException) -> str:
    """`` (line N)``: the template's line *err* was raised on, when its traceback tells."""
    line = None
    trace = err.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return "" if line is None else f" (line {line})"


def _front_matter(text: str, origin: str) -> tuple[TemplateMeta, str]:
    found = _FRONT.match(text)
    if found is None:
        return TemplateMeta(), text
    from .._yaml import safe_load

    try:
        data = safe_load(found.group(1), f"{origin} (front matter)") or {}
    except DocumentInvalid as err:
        raise InvalidInput(
            f"{origin}: front matter", "YAMLError", f"valid YAML within limits ({err.message})"
        ) from None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{origin}: front matter", type(data).__name__, "a mapping")
    try:
        return TemplateMeta.model_validate(data), text[found.end() :]
    except ValidationError as err:
        raise invalid_input(err, prefix=f"{origin}: ") from err


def _compile(
    env: SandboxedEnvironment, source: str, origin: str
) -> tuple[jinja2.Template, set[str]]:
    import jinja2
    from jinja2 import meta

    try:
        tree = env.parse(source)
        used = set(meta.find_undeclared_variables(tree))
        template = env.from_string(_within_limits(tree))
    except jinja2.TemplateSyntaxError as err:
        raise InvalidInput(
            f"{origin}, line {err.lineno}", err.message, "valid Jinja2 template syntax"
        ) from None
    except RecursionError:
        raise InvalidInput(
            f"{origin}: source", "RecursionError", "a template nested less deeply"
        ) from None
    # The template's globals are a chain of its own (none) over the environment's,
    # which Jinja2 walks in Python on every render; the environment is this
    # module's and never changes, so a plain copy holds the same names.
    template.globals = dict(template.globals)
    return template, used


def _case_for(context: Mapping[str, Any], locale: str) -> Case:
    """A minimal case for judging wording, from the context's currency and due date."""
    amount = context.get("amount_owed")
    currency = amount.currency if isinstance(amount, Money) else context.get("currency", "USD")
    due = context.get("due_date")
    debtor_locale = context.get("locale", locale)
    try:
        return Case.model_validate(
            {
                "id": "MESSAGE-CHECK",
                "debtor": {"id": "MESSAGE-CHECK", "locale": debtor_locale},
                "balance": {"currency": currency, "principal": "1"},
                "due_date": due if isinstance(due, date) else date(2026, 8, 31),
            }
        )
    except ValidationError as err:  # the context's locale or currency
        raise invalid_input(err) from err


def _moment_for(context: Mapping[str, Any], case: Case) -> datetime:
    now = context.get("now")
    if isinstance(now, datetime) and now.tzinfo is not None:
        return now
    zone = case.debtor.timezone or UTC
    return datetime.combine(
        case.due_date, time(12), tzinfo=zone if isinstance(zone, ZoneInfo) else UTC
    )


#: The most (name, channel, locale) lookups a `TemplateSet` remembers.
_FOUND_LIMIT: Final = 1024


def _fallbacks(locale: str) -> list[str]:
    """The locales to try for *locale*, most specific first: zh-Hans-CN, zh-CN, zh."""
    parts = locale.split("-")
    tried = [locale]
    if len(parts) == 3:
        tried.append(f"{parts[0]}-{parts[2]}")
    tried.append(parts[0])
    return list(dict.fromkeys(tried))


class TemplateSet:
    """The templates a lender sends from, by name, channel and locale.

    Args:
        templates: The templates.
        packs: The compliance packs whose content rules judge every rendered
            message unless `render` or `check` names others.

    Raises:
        InvalidInput: two templates with one id.

    Example:
        >>> templates = TemplateSet.from_sources({"hello.sms.en-US": "Hi {{ lender_name }}"})
        >>> templates.render("hello", "sms", "en-US", {"lender_name": "Acme"}).text
        'Hi Acme'
    """

    def __init__(
        self, templates: Iterable[MessageTemplate] = (), *, packs: Sequence[str] = ()
    ) -> None:
        self._templates: dict[str, MessageTemplate] = {}
        self.packs: tuple[str, ...] = (packs,) if isinstance(packs, str) else tuple(packs)
        self._rules: dict[tuple[str, ...], tuple[Rule, ...]] = {}
        self._found: dict[tuple[str, str, str], MessageTemplate] = {}
        for template in templates:
            self.add(template)

    @classmethod
    def load(cls, folder: str | Path, *, packs: Sequence[str] = ()) -> TemplateSet:
        """Every ``NAME.CHANNEL.LOCALE.txt`` file in *folder* (other files are skipped).

        Raises:
            InvalidInput: a ``.txt`` file whose name, front matter or syntax is
                wrong, naming the file (and the line).
        """
        root = Path(folder)
        if not root.is_dir():
            raise InvalidInput("folder", str(root), "a folder of templates")
        found: list[MessageTemplate] = []
        for path in sorted(root.glob("*.txt")):
            match = _FILE.match(path.name)
            if match is None:
                raise InvalidInput(
                    "template file",
                    path.name,
                    "NAME.CHANNEL.LOCALE.txt, e.g. reminder.sms.zh-CN.txt",
                )
            found.append(
                MessageTemplate(
                    match["name"],
                    match["channel"],
                    match["locale"],
                    path.read_text(encoding="utf-8"),
                    origin=path.name,
                )
            )
        return cls(found, packs=packs)

    @classmethod
    def from_sources(cls, sources: Mapping[str, str], *, packs: Sequence[str] = ()) -> TemplateSet:
        """Templates from a mapping of id (``"reminder.sms.zh-CN"``) to text."""
        return cls(
            (MessageTemplate.parse(template_id, text) for template_id, text in sources.items()),
            packs=packs,
        )

    def add(self, template: MessageTemplate) -> None:
        """Add *template*.

        Raises:
            InvalidInput: a template with its id is already there.
        """
        if template.id in self._templates:
            raise InvalidInput("template", template.id, "an id not already in the set")
        self._templates[template.id] = template
        self._found.clear()

    def __len__(self) -> int:
        return len(self._templates)

    def __iter__(self) -> Iterator[MessageTemplate]:
        return iter(self._templates.values())

    def __contains__(self, template_id: object) -> bool:
        return template_id in self._templates

    def __repr__(self) -> str:
        return f"TemplateSet({len(self)} templates, packs={list(self.packs)!r})"

    @property
    def ids(self) -> tuple[str, ...]:
        """The templates' ids, sorted."""
        return tuple(sorted(self._templates))

    def get(self, name: str, channel: str, locale: str) -> MessageTemplate:
        """The template for *name* on *channel* in *locale*, or the nearest locale.

        ``zh-Hans-CN`` falls back to ``zh-CN`` then ``zh``, then to any
        template in the same language (``en`` finds ``en-US``).

        Raises:
            UnknownTemplate: none of them is there.
        """
        key = (name, channel, locale)
        template = self._found.get(key)
        if template is None:
            template = self._find(name, channel, locale)
            if len(self._found) >= _FOUND_LIMIT:
                self._found.clear()
            self._found[key] = template
        return template

    def _find(self, name: str, channel: str, locale: str) -> MessageTemplate:
        for candidate in _fallbacks(locale):
            template = self._templates.get(f"{name}.{channel}.{candidate}")
            if template is not None:
                return template
        language = locale.split("-")[0]
        for template_id in self.ids:
            template = self._templates[template_id]
            if (
                template.name == name
                and template.channel == channel
                and template.locale.split("-")[0] == language
            ):
                return template
        raise UnknownTemplate(name, channel, locale, self.ids)

    def rules(
        self, pack_ids: Sequence[str] | None = None, compliance: Compliance | None = None
    ) -> tuple[Rule, ...]:
        """The rules that judge messages: *compliance*'s, else *pack_ids*', else the set's packs."""
        if compliance is not None:
            return compliance.rules
        key = (
            self.packs
            if pack_ids is None
            else ((pack_ids,) if isinstance(pack_ids, str) else tuple(pack_ids))
        )
        rules = self._rules.get(key)
        if rules is None:
            rules = self._rules[key] = tuple(resolve(key))
        return rules

    def render(
        self,
        name: str,
        channel: str,
        locale: str | None,
        context: Mapping[str, Any],
        *,
        party: str = Party.DEBTOR,
        pack_ids: Sequence[str] | None = None,
        compliance: Compliance | None = None,
        case: Case | None = None,
        at: datetime | None = None,
        first_communication: bool | None = None,
        debtor: Callable[[], DebtorHistory | None] | None = None,
    ) -> RenderedMessage:
        """Render a message and check it; refuse it if anything is wrong.

        Args:
            name: The template's name.
            channel: The channel.
            locale: The debtor's locale; ``None`` takes the context's ``locale``.
            context: The variables (`context_for` builds them from a case).
            party: Whom it is for: ``debtor``, ``third_party`` or ``employer``.
            pack_ids: The packs whose content rules judge it (default: the set's).
            compliance: A `Compliance` whose rules (with the lender's
                overrides) judge it instead of *pack_ids*: with *case*, those
                that judge the case (`Compliance.rules_judging`).
            case: The case, for rules that read it (time-barred wording);
                a minimal case from the context when ``None``.
            at: The moment of sending; the context's ``now`` when ``None``.
            first_communication: Judge it as the first communication with the
                debtor (default: the template's setting).
            debtor: Gives the contacts on every case of *case*'s debtor
                (`arrears.compliance.DebtorHistory`): the jurisdictions of the
                debtor's other cases add their sets, as when a contact is judged.

        Raises:
            UnknownTemplate: no such template.
            MessageRefused: a missing variable, a missing fact, forbidden
                wording, too many SMS parts…, naming the template, the rule and the match.
            InvalidInput: no *case*, and the context's ``locale`` or currency
                is not one a case can have (``debtor.locale``, ``balance.currency``).
        """
        wanted = locale if locale is not None else str(context.get("locale", ""))
        template = self.get(name, channel, wanted)
        message, problems = template.evaluate(
            context,
            party=party,
            rules=(
                compliance.rules_judging(case, debtor)
                if compliance is not None and case is not None
                else self.rules(pack_ids, compliance)
            ),
            case=case,
            at=at,
            first_communication=first_communication,
        )
        if problems or message is None:
            raise MessageRefused(problems)
        return message

    def check(
        self,
        pack_ids: Sequence[str] | None = None,
        *,
        compliance: Compliance | None = None,
        context: Mapping[str, Any] | None = None,
        locales: Iterable[str] | None = None,
    ) -> list[TemplateProblem]:
        """Every problem of every template, rendered with sample values: run it as a policy loads.

        Each template is rendered for each party it may go to, with
        `sample_context` for its locale, its front matter's ``variables`` and
        *context*, and judged as `render` would.

        Args:
            pack_ids: The packs whose content rules judge them (default: the set's).
            compliance: A `Compliance` whose rules judge them instead: each
                template those of the jurisdictions whose packs write in its
                language (`Compliance.rules_for_locale`: a policy's English SMS is
                not held to the Chinese signature rule of its ``CN`` set).
            context: Sample values to use instead of `sample_context`'s.
            locales: Check only the templates in these locales (a CN policy
                checks its zh-CN templates against the CN pack).

        Returns:
            The problems, in template order; empty when all is well.
        """
        found: list[TemplateProblem] = []
        every = self.rules(pack_ids, compliance)
        wanted = None if locales is None else frozenset(locales)
        for template_id in self.ids:
            template = self._templates[template_id]
            if wanted is not None and template.locale not in wanted:
                continue
            seen: set[TemplateProblem] = set()
            for name in template.undeclared:
                problem = TemplateProblem(
                    template.id,
                    "MSG-VARIABLES",
                    f"uses {name!r}, which is not a known variable; declare it under "
                    "variables in the front matter",
                )
                seen.add(problem)
                found.append(problem)
            if template.undeclared:
                found.extend(template.structural_problems)
                continue
            values = sample_context(template.locale, **template.meta.variables, **(context or {}))
            rules = every if compliance is None else compliance.rules_for_locale(template.locale)
            for party in sorted(template.parties):
                _, problems = template.evaluate(values, party=party, rules=rules)
                for problem in problems:
                    if problem not in seen:
                        seen.add(problem)
                        found.append(problem)
        return found
