"""Loading a scenario file: the format, then what the schema cannot say.

`load_scenario` reads a file into a `Scenario` and checks it: order in time,
references between its parts, the rule packs and rule ids it names and, with
``policy:``, the policy file (loaded, with its templates) and the stages and
templates the scenario expects of it.  Every problem names the file, the line
and the field; a policy's own problems name the policy's file.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pydantic

from .._yaml import DocumentInvalid, FieldPath, LocatedDocument, Problem, field_name, load_file
from .._yaml import validation_problems as _validation_problems
from ..compliance import UNMAPPED, known_packs, known_rule_ids
from ..errors import ArrearsError, InvalidInput, ScenarioInvalid
from ..messages import TemplateSet
from ..money import currency_quantum
from ..policy import Policy, PolicyInvalid, Step, load_policy
from .format import (
    DEBTOR_FIELDS,
    CaseSpec,
    ConsentEvent,
    ContactEvent,
    DebtorPaymentEvent,
    OptOutEvent,
    PaymentEvent,
    PersonsEvent,
    PromiseEvent,
    Scenario,
    TickEvent,
)

__all__ = ["load_scenario"]


def _structure_problems(scenario: Scenario, document: LocatedDocument) -> list[Problem]:
    """What the schema cannot say: order in time, references, and what needs a policy."""
    problems: list[Problem] = []

    def problem(path: FieldPath, message: str) -> None:
        problems.append(document.problem(path, message))

    if scenario.rules is None and scenario.policy is None and scenario.jurisdictions is None:
        problem(("rules",), "missing: give rules (rule pack ids) or policy (a policy file)")
    if scenario.rules is not None and scenario.policy is not None:
        problem(("policy",), "give rules or policy, not both")
    if scenario.policy is not None:
        for name in ("jurisdictions", "role"):
            if name in scenario.model_fields_set:
                problem((name,), f"the policy's: give {name} in the policy file")
    with_policy = scenario.policy is not None

    specs = scenario.specs
    names = [spec.id for _, spec in specs]
    for where, spec in specs:
        if names.count(spec.id) > 1:
            problem((*where, "id"), f"case id {spec.id!r} appears twice")
        if scenario.debtor is not None:
            for name in DEBTOR_FIELDS:
                if name in spec.model_fields_set:
                    problem((*where, name), f"the debtor's: give {name} in debtor:")
        try:
            quantum = currency_quantum(spec.currency)
        except InvalidInput as err:
            problem((*where, "currency"), f"got {spec.currency!r}, expected {err.expected}")
            continue
        amounts: list[tuple[FieldPath, Decimal]] = [((*where, "balance"), spec.balance)]
        for index, event in enumerate(scenario.events):
            if isinstance(event, (PaymentEvent, PromiseEvent)) and (
                scenario.spec_of(event.case) is spec
            ):
                amounts.append((("events", index, "amount"), event.amount))
            if (
                isinstance(event, DebtorPaymentEvent)
                and (event.currency or specs[0][1].currency) == spec.currency
            ):
                amounts.append((("events", index, "amount"), event.amount))
        for at, amount in amounts:
            if amount.quantize(quantum) != amount:
                places = -quantum.as_tuple().exponent  # type: ignore[operator]
                problem(at, f"got {amount}, expected at most {places} decimal places")
        seen: set[str] = set()
        for index, point in enumerate(spec.contacts):
            if point.id in seen:
                problem((*where, "contacts", index, "id"), f"contact id {point.id!r} appears twice")
            seen.add(point.id)
        persons: set[str] = set()
        for index, person in enumerate(spec.persons):
            if person.id in persons:
                problem((*where, "persons", index, "id"), f"person id {person.id!r} appears twice")
            persons.add(person.id)
        for index, point in enumerate(spec.contacts):
            if point.person is not None and point.person not in persons:
                listed = ", ".join(sorted(persons)) or "none"
                problem(
                    (*where, "contacts", index, "person"),
                    f"no person {point.person!r} in {field_name(where)}.persons (known: {listed})",
                )

    def case_named(path: FieldPath, case_id: str | None) -> CaseSpec | None:
        """The case an event or expectation is about; a problem when it names none or a stranger."""
        found = scenario.spec_of(case_id)
        if found is None:
            listed = ", ".join(names)
            if case_id is None:
                problem((*path, "case"), f"missing: name the case it is about (one of {listed})")
            else:
                problem((*path, "case"), f"no case {case_id!r} in the scenario (known: {listed})")
        return found

    # Contact points a ``persons`` event adds, by the case it is about: events after it
    # and the expectations (all after every event) may name them.
    added: dict[int, set[str]] = {}

    def refer(path: FieldPath, contact: str | None, spec: CaseSpec | None) -> None:
        if spec is None or contact is None:
            return
        known = {point.id for point in spec.contacts} | added.get(id(spec), set())
        if contact not in known:
            listed = ", ".join(sorted(known)) or "none"
            where = next(at for at, found in specs if found is spec)
            label = field_name(where)
            problem(path, f"no contact {contact!r} in {label}.contacts (known: {listed})")

    latest: datetime | None = None
    for index, event in enumerate(scenario.events):
        before = scenario.events[index - 1].at if index else None
        if before is not None and event.at < before:
            problem(
                ("events", index, "at"),
                f"{event.at.isoformat()} is before events[{index - 1}].at "
                f"({before.isoformat()}); events are listed oldest first",
            )
        latest = event.at if latest is None else max(latest, event.at)
        if isinstance(event, DebtorPaymentEvent):  # the debtor's, not one case's
            if event.case is not None:
                problem(("events", index, "case"), "a payment to the debtor names no case")
            continue
        about = case_named(("events", index), event.case)
        if isinstance(event, PromiseEvent):
            for position, other in enumerate(event.covers):
                if other not in names or other == event.case:
                    problem(("events", index, "covers", position), f"no other case {other!r} here")
        if isinstance(event, (ContactEvent, OptOutEvent, ConsentEvent)):
            refer(("events", index, "contact"), event.contact, about)
        if isinstance(event, PersonsEvent) and about is not None:
            added.setdefault(id(about), set()).update(point.id for point in event.contacts)
        if isinstance(event, ContactEvent):
            for position, other in enumerate(event.about):
                if other not in names:
                    problem(("events", index, "about", position), f"no case {other!r} here")
        if isinstance(event, ContactEvent) and event.contact is None and event.party is None:
            problem(("events", index, "contact"), "missing: give contact (an id) or party")
        if isinstance(event, TickEvent) and not with_policy:
            problem(
                ("events", index, "type"),
                "a tick runs a policy: give policy (a policy file) instead of rules",
            )

    for index, entry in enumerate(scenario.expect):
        path: FieldPath = ("expect", index)
        # With a policy the scenario is one timeline: events and entries are taken
        # together in time order, so a walk can check each day and pay in between.
        if index == 0 and latest is not None and entry.at < latest and not with_policy:
            problem(
                (*path, "at"),
                f"{entry.at.isoformat()} is before the last event ({latest.isoformat()})",
            )
        elif index > 0 and entry.at < scenario.expect[index - 1].at:
            problem(
                (*path, "at"),
                f"{entry.at.isoformat()} is before expect[{index - 1}].at "
                f"({scenario.expect[index - 1].at.isoformat()})",
            )
        judged = case_named(path, entry.case)
        given = entry.model_fields_set
        policy_keys = [key for key in ("stage", "actions") if key in given]
        if policy_keys and not with_policy:
            which = policy_keys[0]
            problem(
                (*path, which),
                f"{which} expectations check a policy: give policy (a policy file) "
                "instead of rules",
            )
            continue
        if entry.contact is None:
            if policy_keys:
                for key in ("verdict", "rules", "next_allowed_at", "record", "outcome"):
                    if key in given:
                        problem((*path, key), f"{key} judges a contact: give contact too")
                continue
            problem((*path, "contact"), "missing: give contact (the contact to judge)")
            continue
        if entry.verdict is None:
            problem((*path, "verdict"), "missing: give verdict (allow or deny)")
        refer((*path, "contact", "contact"), entry.contact.contact, judged)
        if entry.contact.contact is None and entry.contact.party is None:
            problem((*path, "contact", "contact"), "missing: give contact (an id) or party")
        if "outcome" in given and not entry.record:
            problem((*path, "outcome"), "an outcome is recorded only with record: true")
    return problems


def _rule_problems(scenario: Scenario, document: LocatedDocument) -> list[Problem]:
    """Pack ids and rule ids that the library does not know."""
    problems: list[Problem] = []
    packs = known_packs()
    rule_ids = known_rule_ids() | {UNMAPPED.id}
    for index, pack in enumerate(scenario.rules or ()):
        if pack not in packs:
            problems.append(
                document.problem(
                    ("rules", index),
                    f"unknown rule pack {pack!r}; known packs: {', '.join(sorted(packs))}",
                )
            )
    for code, pack_ids in (scenario.jurisdictions or {}).items():
        for index, pack in enumerate(pack_ids):
            if pack not in packs:
                problems.append(
                    document.problem(
                        ("jurisdictions", code, index),
                        f"unknown rule pack {pack!r}; known packs: {', '.join(sorted(packs))}",
                    )
                )
    for rule in scenario.overrides:
        if rule not in rule_ids:
            problems.append(document.problem(("overrides", rule), _unknown_rule(rule, rule_ids)))
    for index, entry in enumerate(scenario.expect):
        for position, rule in enumerate(entry.rules):
            if rule not in rule_ids:
                problems.append(
                    document.problem(
                        ("expect", index, "rules", position), _unknown_rule(rule, rule_ids)
                    )
                )
    return problems


def _unknown_rule(rule: str, rule_ids: AbstractSet[str]) -> str:
    """Why *rule* is refused, with the known ids it may be a misspelling of."""
    close = difflib.get_close_matches(rule, sorted(rule_ids), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown rule id {rule!r}{hint}"


@dataclass(frozen=True, slots=True)
class _PolicySetup:
    """A scenario's policy, loaded: the policy, its file as problems name it, its templates."""

    policy: Policy
    file: str
    templates: TemplateSet | None


def _policy_steps(policy: Policy) -> list[Step]:
    """Every step of the policy, its variants' included."""
    steps = list(policy.steps)
    for variant in policy.variants:
        steps.extend(variant.steps or ())
    return steps


def _policy_problem(file: Path, shown: str, path: FieldPath, message: str) -> Problem:
    """A problem at *path* of the policy file, on its line when the file is YAML."""
    try:
        return load_file(file, shown).problem(path, message)
    except DocumentInvalid:
        return Problem(shown, 1, field_name(path), message)


def _load_policy(
    scenario: Scenario, document: LocatedDocument, path: str | os.PathLike[str]
) -> _PolicySetup:
    """The scenario's policy and templates; their own problems name the policy's file and line."""
    assert scenario.policy is not None
    file = Path(path).parent / scenario.policy
    shown = os.path.normpath(file)
    if not file.is_file():
        raise ScenarioInvalid(
            [
                document.problem(
                    ("policy",),
                    f"no policy file {shown} (the path is relative to the scenario's folder)",
                )
            ]
        )
    try:
        policy = load_policy(file, name=shown)
    except PolicyInvalid as err:
        count = len(err.problems)
        noun = "problem follows" if count == 1 else f"{count} problems follow"
        head = document.problem(("policy",), f"the policy {shown} is not valid ({noun})")
        raise ScenarioInvalid([head, *err.problems]) from None
    templates = None
    if policy.templates is not None:
        try:
            templates = TemplateSet.load(policy.templates)
        except ArrearsError as err:
            raise ScenarioInvalid(
                [_policy_problem(file, shown, ("templates",), f"the templates do not load: {err}")]
            ) from None
    return _PolicySetup(policy, shown, templates)


def _against_policy(
    scenario: Scenario, document: LocatedDocument, setup: _PolicySetup
) -> list[Problem]:
    """Stage and template names the scenario uses that the policy does not have."""
    problems: list[Problem] = []
    workflow = setup.policy.build_workflow()
    stages = list(workflow.stages)
    opening = [stage for stage in stages if stage in workflow.opening]
    for where, spec in scenario.specs:
        start = spec.stage
        if start is None or start in opening:
            continue
        if start not in stages:
            what = "not a stage of the policy"
        elif workflow.is_terminal(start):
            what = "a terminal stage"
        else:
            what = "a stage a case reaches only through a person's decision"
        problems.append(
            document.problem(
                (*where, "stage"), f"{start!r} is {what}; a case starts in one of {opening}"
            )
        )
    sent = sorted(
        {
            step.send.template
            for step in _policy_steps(setup.policy)
            if step.send is not None and step.send.template is not None
        }
    )
    for index, entry in enumerate(scenario.expect):
        if "stage" in entry.model_fields_set and entry.stage not in stages:
            problems.append(
                document.problem(
                    ("expect", index, "stage"),
                    f"unknown stage {entry.stage!r}; the policy's stages are {stages}",
                )
            )
        for position, action in enumerate(entry.actions or ()):
            if action.template is not None and action.template not in sent:
                problems.append(
                    document.problem(
                        ("expect", index, "actions", position, "template"),
                        f"no step of the policy sends template {action.template!r} "
                        f"(its steps send: {', '.join(sent) or 'none'})",
                    )
                )
    return problems


def _load(
    path: str | os.PathLike[str],
) -> tuple[Scenario, LocatedDocument, _PolicySetup | None]:
    """The scenario at *path*, checked, with its document (for lines) and its policy."""
    try:
        document = load_file(path)
    except DocumentInvalid as err:
        raise ScenarioInvalid(err.problems) from None
    if not isinstance(document.data, Mapping):
        found = "an empty file" if document.data is None else type(document.data).__name__
        raise ScenarioInvalid(
            [document.problem((), f"got {found}, expected a mapping of name, rules, case, expect")]
        )
    try:
        scenario = Scenario.model_validate(document.data)
    except pydantic.ValidationError as err:
        raise ScenarioInvalid(_validation_problems(err, document)) from None
    for check in (_structure_problems, _rule_problems):
        problems = check(scenario, document)
        if problems:
            raise ScenarioInvalid(sorted(problems, key=lambda problem: problem.line))
    if scenario.policy is None:
        return scenario, document, None
    setup = _load_policy(scenario, document, path)
    problems = _against_policy(scenario, document, setup)
    if problems:
        raise ScenarioInvalid(sorted(problems, key=lambda problem: problem.line))
    return scenario, document, setup


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and check a scenario file without running it.

    Args:
        path: The YAML file.

    Returns:
        The scenario, with every time aware and every id checked.

    Raises:
        ScenarioInvalid: the file is not YAML or not a valid scenario, or its
            policy file does not load; every problem names the file, the line
            and the field (the policy's own problems name the policy's file).
    """
    return _load(path)[0]
