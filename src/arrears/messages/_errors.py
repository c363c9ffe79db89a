"""What a template check finds, and the errors rendering raises.

ArrearsError
├── MessageRefused                 a rendered message (or its template) breaks a rule
└── UnknownTemplate (a KeyError)   no template of that name, channel and locale
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .._exceptions import ArrearsError

__all__ = ["MessageRefused", "TemplateProblem", "UnknownTemplate"]


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One rule a template, or a message rendered from it, does not meet.

    Attributes:
        template: The template's id, ``name.channel.locale`` (e.g. ``"reminder.sms.zh-CN"``).
        rule: The rule's id: a pack's (``"CN-CONDUCT"``) or the message checks'
            own (``"MSG-FACTS"``, ``"MSG-SEGMENTS"`` …).
        message: What is wrong, in words.
        match: The offending text, when the rule found some (a forbidden phrase).
        citation: Where the rule comes from.
    """

    template: str
    rule: str
    message: str
    match: str | None = None
    citation: str = ""

    def __str__(self) -> str:
        return f"{self.template}: {self.rule}: {self.message}"


class MessageRefused(ArrearsError):
    """A message may not be sent as rendered: it lacks a required fact or breaks a content rule.

    The message names the template, the rule and the match; it never quotes
    the rendered text, which may carry personal data.

    Attributes:
        template: The template's id.
        rule: The first failing rule's id.
        match: The first problem's offending text, if any.
        problems: Every problem found.
    """

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        if not problems:
            raise ValueError("MessageRefused needs at least one problem")
        self.problems = tuple(problems)
        first = self.problems[0]
        self.template = first.template
        self.rule = first.rule
        self.match = first.match
        listed = "; ".join(f"{p.rule}: {p.message}" for p in self.problems)
        super().__init__(f"template {first.template!r} refused: {listed}")

    @property
    def rules(self) -> tuple[str, ...]:
        """The ids of every failing rule, in order."""
        return tuple(problem.rule for problem in self.problems)


class UnknownTemplate(ArrearsError, KeyError):
    """No template with that name and channel in the locale asked for (or one it falls back to).

    Attributes:
        name: The template name asked for.
        channel: The channel asked for.
        locale: The locale asked for.
        known: The ids of the templates there are.
    """

    def __init__(self, name: str, channel: str, locale: str, known: Sequence[str]) -> None:
        self.name = name
        self.channel = channel
        self.locale = locale
        self.known = tuple(known)
        super().__init__(name)

    def __str__(self) -> str:
        known = ", ".join(self.known) or "none"
        return (
            f"template: no {self.name!r} for {self.channel} in {self.locale} "
            f"or a locale it falls back to (known: {known})"
        )
