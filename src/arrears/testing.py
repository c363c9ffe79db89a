"""What a lender needs to test its own code: a policy harness, a recording channel, checks.

- `PolicyHarness` runs a policy in a few lines of pytest: an engine built
  from the policy as production would, a recording channel for every
  automated medium, one agent per task queue and a settable clock.
- `RecordingChannel` records what it is asked to send, for tests that build
  an engine themselves.
- `check_policy` checks a policy file and the templates it sends (what
  ``arrears check`` runs).

    >>> check_policy("policies/cn.yaml").problems   # doctest: +SKIP
    []

The scenario format and its runner (`run_scenario`, `load_scenario`,
`Scenario` and its parts, `ScenarioResult`, `ScenarioInvalid`) moved to
`arrears.scenarios`; their names are still importable from here, for code
written before the move.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ._yaml import DocumentInvalid, FieldPath, LocatedDocument, Problem, load_file
from .channels import RecordingChannel
from .errors import ArrearsError, InvalidInput
from .harness import PolicyHarness
from .message_check import render_failures
from .messages import LenderDetails, MessageTemplate, TemplateSet
from .policy import Policy, PolicyInvalid, SendAction, Step, load_policy

# The scenario format and runner, which lived here before `arrears.scenarios`.
from .scenarios import (
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
    ScenarioInvalid,
    ScenarioResult,
    TakenAction,
    TickEvent,
    VerificationSentEvent,
    VisitSpec,
    load_scenario,
    run_scenario,
)

__all__ = [
    "PACK_LANGUAGES",
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
    "PolicyCheck",
    "PolicyHarness",
    "PromiseEvent",
    "ProposedContact",
    "RecordingChannel",
    "Scenario",
    "ScenarioInvalid",
    "ScenarioResult",
    "TakenAction",
    "TickEvent",
    "VerificationSentEvent",
    "VisitSpec",
    "check_policy",
    "load_scenario",
    "run_scenario",
]


#: The language of each jurisdiction's messages, by the part of a pack id before
#: its first "-": the templates a policy's checks judge unless locales are given
#: (a CN policy's zh-CN templates against the CN pack, not its en-US ones).
PACK_LANGUAGES: Final[Mapping[str, str]] = {"CN": "zh", "US": "en", "UK": "en"}


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """What checking a policy file found.

    Attributes:
        path: The file.
        policy: The policy, or ``None`` when it does not load.
        problems: Every problem, each naming the file, the line and the field.
    """

    path: Path
    policy: Policy | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when the policy loads and nothing is wrong with it."""
        return self.policy is not None and not self.problems


def _located(file: Path, shown: str) -> LocatedDocument:
    """The policy file with its lines (only the top for TOML, whose parser gives none)."""
    try:
        return load_file(file, shown)
    except DocumentInvalid:
        return LocatedDocument(shown, None, {(): 1})


def _wanted(locale: str, chosen: Sequence[str]) -> bool:
    """True when *locale* is one of *chosen*, or in a language *chosen* names (``zh``)."""
    return any(locale == item or locale.split("-")[0] == item for item in chosen)


def check_policy(
    path: str | os.PathLike[str], *, locales: Sequence[str] | None = None
) -> PolicyCheck:
    """Check a policy file: what `load_policy` checks, then its templates and lender details.

    With a ``templates`` folder, the ``lender`` details are validated, and
    every template a step sends is looked up by name and channel (a name
    with no template is a problem at the step's ``send.template``) and
    checked as `TemplateSet.check` does, against the policy's packs and
    overrides, for the party the step sends to.  A template must also use
    only variables a review gives it (the case's facts, the lender details
    the policy sets, the step's ``send.variables``), and it is rendered for
    the step in every stage it acts in and every situation a review can meet
    there, with the largest values the limits allow, as a review renders it
    (`arrears.message_check`): a variable missing in one of them (``deadline``
    for an overdue case with nothing agreed) or an SMS over its
    ``max_segments`` is a problem naming the template, the step, the stage
    and the situation.

    Args:
        path: The policy file (YAML or TOML).
        locales: The locales whose templates are checked, e.g. ``["zh-CN"]``
            (a bare language such as ``"zh"`` takes all of it); by default
            the languages of the policy's packs (`PACK_LANGUAGES`), or every
            locale when none of its packs is listed there.

    Returns:
        The policy (``None`` when it does not load) and every problem found.
    """
    file = Path(path)
    shown = str(path)
    try:
        policy = load_policy(file, name=shown)
    except PolicyInvalid as err:
        return PolicyCheck(file, None, list(err.problems))
    if policy.templates is None:
        return PolicyCheck(file, policy, [])
    document = _located(file, shown)
    problems: list[Problem] = []
    try:  # what messages say about the lender: read only when templates are rendered
        LenderDetails.of(policy.lender)
    except InvalidInput as err:
        problems.append(
            document.problem(
                tuple(err.field.split(".")), f"got {err.value!r}, expected {err.expected}"
            )
        )
    except (TypeError, ValueError, ArithmeticError) as err:
        problems.append(document.problem(("lender",), str(err)))
    problems.extend(_template_problems(policy, document, locales))
    return PolicyCheck(file, policy, sorted(problems, key=lambda problem: problem.line))


def _sends(policy: Policy) -> list[tuple[FieldPath, Step, SendAction]]:
    """Every step that sends a template, its variants' included, with the path of the name."""
    found: list[tuple[FieldPath, Step, SendAction]] = []
    groups: list[tuple[FieldPath, Sequence[Step]]] = [(("steps",), policy.steps)]
    for index, variant in enumerate(policy.variants):
        if variant.steps is not None:
            groups.append((("variants", index, "steps"), variant.steps))
    for where, steps in groups:
        for index, step in enumerate(steps):
            if step.send is not None and step.send.template is not None:
                found.append(((*where, index, "send", "template"), step, step.send))
    return found


#: The lender's variables, each with the key of the policy's ``lender`` that gives it.
_LENDER_KEYS: Final = {
    "lender_name": "name",
    "business_name": "business_name",
    "lender_hotline": "hotline",
    "lender_email": "email",
    "lender_website": "website",
    "sms_signature": "signature",
    "late_fee_rate": "late_fee_rate",
    "late_fee_period": "late_fee_rate",
    "late_fee_terms": "late_fee_terms",
}

#: Variables only the caller of `context_for` gives: a review never does.
_CALLERS_VARIABLES: Final = frozenset({"agent_name", "callback_number", "reply_by"})


def _unfilled(template: MessageTemplate, step: Step, lender: frozenset[str]) -> list[str]:
    """Why a review cannot fill the variables *template* uses when *step* sends it."""
    why: list[str] = []
    given = set(step.send.variables) if step.send is not None else set()
    for name in sorted(template.variables):
        if name in given:
            continue
        if name in _CALLERS_VARIABLES or name in template.meta.variables:
            why.append(f"uses {name!r}, which a review never gives: set send.variables")
        elif name not in lender and name in _LENDER_KEYS:
            why.append(f"uses {name!r}: set lender.{_LENDER_KEYS[name]} in the policy")
    return why


def _template_problems(
    policy: Policy, document: LocatedDocument, locales: Sequence[str] | None
) -> list[Problem]:
    assert policy.templates is not None
    try:
        templates = TemplateSet.load(policy.templates)
    except ArrearsError as err:
        return [document.problem(("templates",), f"the templates do not load: {err}")]
    if locales is None:
        every = (
            *policy.packs,
            *(pack for packs in policy.jurisdictions.values() for pack in packs),
        )
        languages = [PACK_LANGUAGES.get(pack.split("-")[0]) for pack in every]
        locales = sorted({language for language in languages if language is not None})
    problems: list[Problem] = []
    chosen: dict[str, FieldPath] = {}
    # (where, step, send, template) to render in every situation: those with nothing unfilled.
    renders: list[tuple[FieldPath, Step, SendAction, MessageTemplate]] = []
    lender = frozenset(LenderDetails.of(policy.lender).context()) if _sound(policy) else None
    for where, step, action in _sends(policy):
        name, channel = str(action.template), str(action.channel)
        same = [t for t in templates if t.name == name and t.channel == channel]
        if not same:
            others = sorted({t.name for t in templates if t.channel == channel})
            problems.append(
                document.problem(
                    where,
                    f"unknown template {name!r} (the {channel} templates are: "
                    f"{', '.join(others) or 'none'})",
                )
            )
            continue
        mine = [t for t in same if not locales or _wanted(t.locale, locales)]
        if not mine:
            found = ", ".join(sorted(t.locale for t in same))
            problems.append(
                document.problem(
                    where,
                    f"no {channel} template {name!r} in {', '.join(locales)} (only in {found})",
                )
            )
            continue
        for template in mine:
            if action.party not in template.parties:
                problems.append(
                    document.problem(
                        where,
                        f"{template.id} may not go to the {action.party} (only to "
                        f"{', '.join(sorted(template.parties))})",
                    )
                )
            if lender is not None:
                unfilled = _unfilled(template, step, lender)
                for why in unfilled:
                    problems.append(document.problem(where, f"{template.id} {why}"))
                if not unfilled and action.party in template.parties:
                    renders.append((where, step, action, template))
            chosen.setdefault(template.id, where)
    subset = TemplateSet(t for t in templates if t.id in chosen)
    known = subset.check(compliance=policy.build_compliance())
    for found_problem in known:
        problems.append(document.problem(chosen[found_problem.template], str(found_problem)))
    if any(t.undeclared for t in subset):
        return problems  # a variable no context has: the renders would only repeat it
    places = {id(step): where for where, step, _, _ in renders}
    sends = [(step, action, template) for _, step, action, template in renders]
    for step, failure in render_failures(policy, sends, known):
        problems.append(document.problem(places[id(step)], str(failure)))
    return problems


def _sound(policy: Policy) -> bool:
    """True when the policy's lender details are valid (they are reported apart)."""
    try:
        LenderDetails.of(policy.lender)
    except (ArrearsError, TypeError, ValueError, ArithmeticError):
        return False
    return True
