"""`Compliance`: the rules of the chosen packs, with the lender's overrides, judging contacts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError

from ..case import JURISDICTION, Case, Channel, mask
from ..clock import require_aware
from ..errors import InvalidInput, invalid_input
from .history import ContactHistory, DebtorHistory
from .model import Judgement, Proposal, Reason, Role, StatementReach, Verdict
from .packs import locales_of, resolve
from .rules import SCOPE_ORDERS, MediumOptOut, Rule

__all__ = ["DEFAULT", "UNMAPPED", "Compliance", "Unmapped"]

DEFAULT: Final = "default"
"""The key of `Compliance.jurisdictions`' default set in a mapping (and in a policy's)."""
_NONE: Final = "\x00none"
"""The set of a jurisdiction nothing covers (not a code: codes are letters and digits)."""
_SetKey = str | None | frozenset[str | None]
"""A key of a set of rules: a code, ``None`` (the default), _NONE, or a union's keys."""

#: How far ahead `Verdict.next_allowed_at` looks before it gives up.
HORIZON: Final = timedelta(days=400)
_ROUNDS: Final = 32
_PHONE: Final = frozenset({Channel.CALL, Channel.VOICEMAIL, Channel.SMS})


class Compliance:
    """The rules that judge every proposed contact, from jurisdiction packs.

    With *jurisdictions*, each debtor is judged by the rule set of the most
    specific code that matches theirs (`arrears.Debtor.effective_jurisdiction`:
    their ``jurisdiction``, else their ``residence``): ``US-MA``, then ``US``,
    then the default (*packs*).  A debtor no code matches and no default covers
    is not contacted at all: every proposal is denied by the ``JURISDICTION``
    reason until the lender maps their jurisdiction.  A debtor whose cases carry
    different jurisdictions is judged on each by the union of the sets of all
    of them (`rules_for_debtor`): a rule in several sets judges once.

    Args:
        packs: Pack ids, e.g. ``["US-MA"]`` (which brings ``US-RegF`` with it):
            the rules of every debtor, or with *jurisdictions* the default set
            (of debtors no code there matches, and of those with no jurisdiction).
        overrides: Rule id → parameters to change, e.g. ``{"US-7IN7": {"limit": 5}}``;
            validated like the rule itself.  ``{"enabled": False}`` turns a rule off.
            An override changes the rule in every set that has it.
        rules: Rules of your own (subclasses of `Rule`, or functions made rules
            with `arrears.compliance.rule`), judged after the packs' rules, in every set.
        jurisdictions: ISO 3166 code → pack ids, e.g. ``{"US-MA": ["US-MA"],
            "US": ["US-RegF"], "CN": ["CN"]}``; the key ``default`` may stand for
            *packs* (give one or the other).
        role: The lender's role, ``creditor``, ``collector`` or ``debt_buyer``
            (`Role`): only the rules that bind it judge (`Rule.roles`).  ``None``
            applies every rule, as if the lender held every role.

    Raises:
        InvalidInput: an unknown pack (``packs`` or ``jurisdictions.<code>``), a
            code that is not ISO 3166, a default given twice, an unknown role, an
            override for a rule the packs do not have, a bad parameter value, or
            two rules with one id.

    Example:
        >>> compliance = Compliance(["US-RegF"], overrides={"US-7IN7": {"limit": 5}})
        >>> compliance.rule("US-7IN7").limit
        5
        >>> by_state = Compliance(
        ...     jurisdictions={"US-MA": ["US-MA"], "default": ["US-RegF"]}, role="creditor"
        ... )
        >>> by_state.packs_for("US-MA"), by_state.packs_for("US-NY")
        (('US-MA',), ('US-RegF',))
        >>> "US-MIRANDA" in [rule.id for rule in by_state.rules_for("US-MA")]
        False
    """

    def __init__(
        self,
        packs: Sequence[str] = (),
        *,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        rules: Sequence[Rule] = (),
        jurisdictions: Mapping[str, Sequence[str]] | None = None,
        role: Role | str | None = None,
    ) -> None:
        if isinstance(packs, str):
            packs = (packs,)
        mapping = _mapping(jurisdictions)
        default = mapping.pop(DEFAULT, None)
        if default is not None and packs:
            raise InvalidInput(
                f"jurisdictions.{DEFAULT}",
                list(default),
                "no default beside packs: packs are the rule set of every debtor no code matches",
            )
        self.packs: tuple[str, ...] = tuple(packs) if default is None else default
        self.jurisdictions: dict[str, tuple[str, ...]] = mapping
        """The rule sets by jurisdiction code (the default set is `packs`)."""
        self.role: Role | None = _role(role)
        self.overrides: dict[str, dict[str, Any]] = {
            rule_id: dict(params) if isinstance(params, Mapping) else params
            for rule_id, params in (overrides or {}).items()
        }
        self.extra: tuple[Rule, ...] = tuple(rules)
        """The rules of your own, judged in every set after the packs' rules."""
        # The sets: None is the default, present without jurisdictions, or when given.
        named: dict[str | None, tuple[str, ...]] = {}
        if not mapping or self.packs or default is not None:
            named[None] = self.packs
        named.update(mapping)
        chosen: dict[str, Rule] = {}
        members: dict[str | None, list[str]] = {}
        for key, pack_ids in named.items():
            try:
                from_packs = tuple(resolve(pack_ids))
            except InvalidInput as err:
                field = "packs" if key is None else f"jurisdictions.{key}"
                raise InvalidInput(field, err.value, err.expected) from None
            ids = members[key] = []
            for item in from_packs:
                if chosen.setdefault(item.id, item) is not item:
                    raise InvalidInput("rules", item.id, "rule ids that appear once")
                ids.append(item.id)
        laws = set(chosen)
        for item in self.extra:
            if not isinstance(item, Rule):
                raise InvalidInput("rules", type(item).__name__, "Rule instances")
            if item.id in chosen:
                raise InvalidInput("rules", item.id, "rule ids that appear once")
            chosen[item.id] = item
            for ids in members.values():
                ids.append(item.id)
        for rule_id, params in (overrides or {}).items():
            if rule_id not in chosen:
                raise InvalidInput("overrides", rule_id, f"a rule id among {sorted(chosen)}")
            chosen[rule_id] = _override(chosen[rule_id], params, law=rule_id in laws)
        role_of = self.role
        self._by_id = {key: item for key, item in chosen.items() if item.binds(role_of)}
        self.rules: tuple[Rule, ...] = tuple(self._by_id.values())
        """Every rule in force, in any set: the default set's first."""
        self._sets: dict[_SetKey, tuple[Rule, ...]] = {
            key: tuple(self._by_id[rule_id] for rule_id in ids if rule_id in self._by_id)
            for key, ids in members.items()
        }
        self._sets[_NONE] = (UNMAPPED,)
        # The set key of each jurisdiction met (``_sets`` gains the union of the sets
        # of each group of jurisdictions one debtor's cases carry, keyed by the group),
        # and the rules in scope for each (set, channel, party, purpose, relationship):
        # worked out once.
        self._keys: dict[str | None, str | None] = {}
        self._by_locale: dict[str, tuple[Rule, ...]] = {}
        self._scoped: dict[tuple[_SetKey, str, str, str, str | None, bool], tuple[_Judge, ...]] = {}

    def __repr__(self) -> str:
        found = f"Compliance(packs={list(self.packs)!r}, rules={len(self.rules)}"
        if self.jurisdictions:
            found += f", jurisdictions={sorted(self.jurisdictions)!r}"
        if self.role is not None:
            found += f", role={self.role.value!r}"
        return found + ")"

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the rules in force (in any set), in judging order."""
        return tuple(self._by_id)

    def rule(self, rule_id: str) -> Rule:
        """The rule with that id.

        Raises:
            InvalidInput: no such rule.
        """
        try:
            return self._by_id[rule_id]
        except KeyError:
            raise InvalidInput("rule_id", rule_id, f"one of {sorted(self._by_id)}") from None

    def match(self, jurisdiction: str | None) -> str | None:
        """The key of the set that judges a debtor in *jurisdiction*.

        The code itself, then its country (``US`` for ``US-MA``), then
        ``"default"``; ``None`` when none covers it.
        """
        key = self._key(jurisdiction)
        if key is _NONE:
            return None
        return DEFAULT if key is None else key

    def packs_for(self, jurisdiction: str | None) -> tuple[str, ...]:
        """The pack ids that judge a debtor in *jurisdiction*; empty when none covers it."""
        key = self._key(jurisdiction)
        if key is _NONE:
            return ()
        return self.packs if key is None else self.jurisdictions[key]

    def rules_for(self, jurisdiction: str | Case | None) -> tuple[Rule, ...]:
        """The rules that judge a debtor in *jurisdiction* (or the debtor of a `Case`).

        For a jurisdiction no set covers: the one rule that denies every contact.
        """
        if isinstance(jurisdiction, Case):
            jurisdiction = jurisdiction.debtor.effective_jurisdiction
        return self._sets[self._key(jurisdiction)]

    def rules_for_debtor(
        self, jurisdiction: str | None, others: Iterable[str | None] = ()
    ) -> tuple[Rule, ...]:
        """The rules that judge a case whose debtor is in *jurisdiction* while the
        debtor's other cases carry the jurisdictions *others*.

        The union of the sets of *jurisdiction* and of every code among *others*
        (a record that gives none adds no set), in judging order, each rule
        once: a debtor whose records place them in two jurisdictions is
        protected by the laws of both.  When one of them no set covers, the
        ``JURISDICTION`` rule is among them and no contact is allowed.

        Example:
            >>> compliance = Compliance(jurisdictions={"US-MA": ["US-MA"], "US-WA": ["US-WA"]})
            >>> ids = [rule.id for rule in compliance.rules_for_debtor("US-MA", ["US-WA"])]
            >>> "US-MA-HOURS" in ids and "US-WA-HOURS" in ids, ids.count("US-TIME")
            (True, 1)
        """
        return self._sets[self._union_key(jurisdiction, others)]

    def rules_judging(
        self, case: Case, debtor: Callable[[], DebtorHistory | None] | None = None
    ) -> tuple[Rule, ...]:
        """The rules that judge *case*: those `judge` applies to a contact and a
        message rendered for it is checked against (`TemplateSet.render`).

        Its debtor's set, with the sets of the jurisdictions the debtor's other
        cases carry (`rules_for_debtor`).

        Args:
            case: The case.
            debtor: Gives the contacts on every case of the debtor
                (`DebtorHistory`), as `judge` takes it; called only when
                the sets differ by jurisdiction.  Without it, the case's own
                debtor's set.
        """
        if not self.jurisdictions:
            return self._sets[self._key(case.debtor.effective_jurisdiction)]
        return self._sets[self._which(case, debtor() if debtor is not None else None)]

    def opt_out_reach(
        self, case: Case, debtor: Callable[[], DebtorHistory | None] | None = None
    ) -> StatementReach:
        """How far an opt-out recorded on one of the debtor's cases reaches when the
        engine chooses the contact point of its own message on *case*
        (`arrears.planner.contact_for`).

        ``debt`` only when every `MediumOptOut` among the rules judging *case*
        (`rules_judging`) says so (a lender that relaxed it); ``debtor`` otherwise,
        also when no rule of the sets reads opt-outs (a pack whose law says nothing of
        them, a first-party creditor under Regulation F): what a person says about how
        they may be contacted is theirs, not one debt's, and the engine does not text
        a number about one loan that they asked it not to text about another.
        """
        reaches = {
            rule.reach
            for rule in self.rules_judging(case, debtor)
            if isinstance(rule, MediumOptOut)
        }
        return "debt" if reaches == {"debt"} else "debtor"

    def rules_for_locale(self, locale: str) -> tuple[Rule, ...]:
        """The rules a message template in *locale* is checked against (`TemplateSet.check`).

        With *jurisdictions*, the union of the sets whose packs write in the
        template's language (`Pack.locale`), those of its region too when
        there are such (an ``en-GB`` template is for the ``UK`` set, not the
        ``US-RegF`` one), and of the sets whose packs say no language; every
        rule when no set writes in its language.  Without, every rule: each
        debtor is judged by all of them.

        Example:
            >>> both = Compliance(jurisdictions={"CN": ["CN"], "GB": ["UK"]})
            >>> sorted({rule.id.split("-")[0] for rule in both.rules_for_locale("en-US")})
            ['UK']
        """
        found = self._by_locale.get(locale)
        if found is not None:
            return found
        language, region = _language_region(locale)
        same: list[str | None] = []  # the sets of the language
        here: list[str | None] = []  # those of its region too
        unsaid: list[str | None] = []  # the sets that say no language
        for key, pack_ids in self._pack_sets().items():
            said = locales_of(pack_ids)
            spoken = [_language_region(tag) for tag in said if tag is not None]
            if None in said:
                unsaid.append(key)
            if any(theirs == language for theirs, _ in spoken):
                same.append(key)
            if any(pair == (language, region) for pair in spoken):
                here.append(key)
        chosen = (here or same) and [*(here or same), *unsaid]
        found = self._union(frozenset(chosen)) if chosen else self.rules
        self._by_locale[locale] = found
        return found

    def _pack_sets(self) -> dict[str | None, tuple[str, ...]]:
        """The pack ids of each set, by key (``None``: the default), when there are several."""
        if not self.jurisdictions:
            return {}
        found: dict[str | None, tuple[str, ...]] = {}
        found.update(self.jurisdictions)
        if None in self._sets:
            found[None] = self.packs
        return found

    def _union_key(self, jurisdiction: str | None, others: Iterable[str | None]) -> _SetKey:
        """The key in ``_sets`` of the union of *jurisdiction*'s set and *others*' (built once)."""
        own = self._key(jurisdiction)
        keys = {own, *(self._key(code) for code in others if code is not None)}
        if len(keys) == 1:
            return own
        group = frozenset(keys)
        if group not in self._sets:
            self._sets[group] = self._union(group)
        return group

    def _union(self, keys: frozenset[str | None]) -> tuple[Rule, ...]:
        """The rules of the sets of *keys*, each once, in the order of `rules`."""
        ids = {item.id for key in keys for item in self._sets[key]}
        found = tuple(item for item in self.rules if item.id in ids)
        if _NONE not in keys:
            return found
        codes = sorted(key or DEFAULT for key in keys - {_NONE})
        return (UNMAPPED.model_copy(update={"beside": tuple(codes)}), *found)

    def _key(self, jurisdiction: str | None) -> str | None:
        """The key of *jurisdiction*'s set in ``_sets``: a code, ``None`` (default) or _NONE."""
        try:
            return self._keys[jurisdiction]
        except KeyError:
            pass
        found: str | None = _NONE
        if jurisdiction is not None and self.jurisdictions:
            country = jurisdiction.partition("-")[0]
            for code in (jurisdiction, country):
                if code in self.jurisdictions:
                    found = code
                    break
        if found is _NONE and None in self._sets:
            found = None
        self._keys[jurisdiction] = found
        return found

    def proposal(self, case: Case, proposal: Proposal | Mapping[str, Any]) -> Proposal:
        """Validate *proposal* against *case*: a known contact point on a compatible channel.

        Raises:
            InvalidInput: an unknown contact point, or one used on another medium;
                a mapping that is not a valid proposal (naming its field, e.g.
                ``proposal.channel``; a text or contact given is never shown).
        """
        if not isinstance(proposal, Proposal):
            if not isinstance(proposal, Mapping):
                raise InvalidInput("proposal", type(proposal).__name__, "a Proposal or a mapping")
            try:
                proposal = Proposal.model_validate(proposal)
            except ValidationError as err:
                raise invalid_input(err, prefix="proposal", hide=True) from err
        if proposal.contact is not None:
            try:
                point = case.contact(proposal.contact)
            except KeyError:
                known = [point.id for point in case.contacts]
                raise InvalidInput(
                    "contact", mask(proposal.contact), f"one of the case's contacts {known}"
                ) from None
            if point.channel != proposal.channel and not (
                point.channel in _PHONE and proposal.channel in _PHONE
            ):
                raise InvalidInput(
                    "channel",
                    proposal.channel,
                    f"a channel contact point {proposal.contact!r} serves ({point.channel})",
                )
            if proposal.party is not None and proposal.party != point.party:
                raise InvalidInput(
                    "party", proposal.party, f"the party of contact point {proposal.contact!r}"
                )
        return proposal

    def judge(
        self,
        case: Case,
        history: ContactHistory,
        proposal: Proposal | Mapping[str, Any],
        at: datetime,
        *,
        debtor: Callable[[], DebtorHistory | None] | None = None,
        resending: str | None = None,
    ) -> Verdict:
        """Would *proposal* be allowed at *at*?  Every denying rule is listed.

        Args:
            case: The case.
            history: Its contact history (`ContactHistory.from_entries` of its journal).
            proposal: The contact: a `Proposal` or a mapping of its fields.
            at: The moment of the contact.
            debtor: Gives the contacts on every case of the debtor (`DebtorHistory`),
                or ``None`` when the case is their only one; called at most once,
                when a rule that counts across cases first asks.  Without it only
                the case's own contacts are counted.
            resending: The outbox key of an intent sent again under its key (the
                tick's recovery): that intent does not count as the reply already
                made to the contact it answers.

        Returns:
            The verdict, with ``next_allowed_at`` when a later time would do.
        """
        moment = require_aware(at, "at")
        checked = self.proposal(case, proposal)
        judgement = Judgement(case, history, checked, moment, debtor=debtor, resending=resending)
        scoped = self._scope(judgement)
        denials = self._denials(judgement, scoped)
        if not denials:
            return Verdict(True, (), moment, moment, checked)
        reasons = tuple(denials.values())
        next_at = self._next_allowed(judgement, scoped, denials)
        return Verdict(False, reasons, moment, next_at, checked)

    def _which(self, case: Case, debtor: DebtorHistory | None) -> _SetKey:
        """The key of the set that judges *case*: its debtor's, with every set
        the jurisdictions of the debtor's other cases (*debtor*) name."""
        own = case.debtor.effective_jurisdiction
        if debtor is None or not debtor.jurisdictions:
            return self._key(own)
        return self._union_key(own, debtor.jurisdictions)

    def _scope(self, judgement: Judgement) -> tuple[_Judge, ...]:
        """The rules that judge *judgement*'s proposal, in judging order (worked out once
        per set, channel, party, purpose and relationship)."""
        proposal = judgement.proposal
        # Without jurisdictions every debtor has the one set: no lookup on this hot path.
        which = (
            self._which(judgement.case, judgement.debtor_history) if self.jurisdictions else None
        )
        relationship = judgement.relationship
        # A parent stands for a debtor who is a minor (Rule.as_debtor_minor).
        minor = relationship is not None and judgement.debtor_minor()
        key = (which, proposal.channel, judgement.party, proposal.purpose, relationship, minor)
        scoped = self._scoped.get(key)
        if scoped is None:
            _, channel, party, purpose, _, _ = key
            scoped = self._scoped[key] = tuple(
                _judge(item)
                for item in self._sets[which]
                if item.in_scope(channel, item.party_seen(party, relationship, minor), purpose)
            )
        return scoped

    @staticmethod
    def _denials(
        judgement: Judgement, scoped: tuple[_Judge, ...], which: Iterable[int] | None = None
    ) -> dict[int, Reason]:
        """The reasons of the rules of *scoped* that deny (those at positions *which*, when
        given), by position."""
        found: dict[int, Reason] = {}
        judged = enumerate(scoped) if which is None else ((i, scoped[i]) for i in which)
        for index, (admits, check, _) in judged:
            if admits is None or admits(judgement):
                reason = check(judgement)
                if reason is not None:
                    found[index] = reason
        return found

    def _next_allowed(
        self, judgement: Judgement, scoped: tuple[_Judge, ...], denials: dict[int, Reason]
    ) -> datetime | None:
        """Move to the latest retry time of the denying rules until none denies.

        Each candidate moment judges again only the rules whose answer may have
        changed since they last gave it: those that denied (a denial holds until its
        ``retry_at``), and those whose allowance has run out (`Rule.allows_until`).
        """
        start = judgement.at
        asked: Iterable[int] = range(len(scoped))  # the rules judged at `judgement`
        # By position: until when a rule that allowed still allows (None: from then on).
        # A rule of a kind that states nothing is never here: it is judged at each moment.
        allowing: dict[int, datetime | None] = {}
        for _ in range(_ROUNDS):
            retries = [reason.retry_at for reason in denials.values()]
            if None in retries:
                return None
            moment = max(retry for retry in retries if retry is not None)
            if moment <= judgement.at or moment - start > HORIZON:
                return None
            for index in asked:
                allows_until = scoped[index][2]
                if allows_until is not None and index not in denials:
                    allowing[index] = allows_until(judgement)
            judgement = judgement.moved(moment)
            now = self._scope(judgement)
            if now is not scoped:  # the person reached is judged as another party now
                scoped, allowing = now, {}
            # Those not in `allowing` (or there from before they denied: an earlier
            # moment) are judged again, and those whose allowance has run out.
            asked = [
                index
                for index in range(len(scoped))
                if (until := allowing.get(index, moment)) is not None and until <= moment
            ]
            denials = self._denials(judgement, scoped, asked)
            if not denials:
                return moment
        return None


#: A rule in scope as `Compliance` runs it: its ``admits`` (``None`` when it admits
#: every proposal in scope: `Rule.admits_every`), its ``check``, and its
#: ``allows_until`` (``None`` when its kind states nothing: `Rule.allows_until`).
_Judge = tuple[
    Callable[[Judgement], bool] | None,
    Callable[[Judgement], Reason | None],
    Callable[[Judgement], datetime | None] | None,
]


def _judge(rule: Rule) -> _Judge:
    kind = type(rule)
    admits = None if rule.admits_every() else rule.admits
    allows_until = None if kind.allows_until is Rule.allows_until else rule.allows_until
    return admits, rule.check, allows_until


class Unmapped(Rule):
    """Deny every contact with a debtor whose jurisdiction no rule set covers.

    Which law protects them is not known, so nothing is allowed until the
    lender maps their jurisdiction (or gives a default set).
    """

    beside: tuple[str, ...] = ()
    """When the debtor's cases carry several jurisdictions: the keys of the sets that
    do cover some of them (the one not covered may be this case's or another's)."""

    def check(self, j: Judgement) -> Reason | None:
        """Always a denial, naming the jurisdiction (``unknown`` when not given)."""
        code = j.case.debtor.effective_jurisdiction or "unknown"
        if self.beside:
            return self.deny(
                "no compliance packs for one of the jurisdictions the debtor's cases carry "
                f"(this case's: {code}; the sets that cover the others: "
                f"{', '.join(self.beside)}): map it under jurisdictions or give a default "
                "set; no contact until then",
                jurisdiction=code,
            )
        return self.deny(
            f"no compliance packs for the debtor's jurisdiction ({code}): map it under "
            "jurisdictions or give a default set; no contact until then",
            jurisdiction=code,
        )


UNMAPPED: Final = Unmapped(
    id="JURISDICTION",
    title="No contact with a debtor whose jurisdiction no rule set covers",
    citation="The lender's jurisdictions map: the law that protects the debtor is not known",
)
"""The rule set of a debtor whose jurisdiction no set of a `Compliance` covers."""


def _language_region(tag: str) -> tuple[str, str]:
    """The language and the region (empty when none) of a BCP 47 *tag*: ``zh-Hans-CN``
    is ``("zh", "cn")``."""
    language, *rest = tag.lower().split("-")
    region = next((part for part in rest if len(part) == 2 or part.isdigit()), "")
    return language, region


def _role(role: Role | str | None) -> Role | None:
    if role is None:
        return None
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput("role", role, f"one of {[item.value for item in Role]}") from None


def _mapping(jurisdictions: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """*jurisdictions* checked: ISO 3166 codes (or ``default``) to sequences of pack ids."""
    if jurisdictions is None:
        return {}
    if not isinstance(jurisdictions, Mapping):
        raise InvalidInput(
            "jurisdictions", type(jurisdictions).__name__, "a mapping of code to pack ids"
        )
    found: dict[str, tuple[str, ...]] = {}
    for code, pack_ids in jurisdictions.items():
        if not isinstance(code, str) or (code != DEFAULT and not JURISDICTION.match(code)):
            raise InvalidInput(
                "jurisdictions",
                code,
                "an ISO 3166 code (US, US-MA, GB-ENG) or 'default'",
            )
        if isinstance(pack_ids, str) or not isinstance(pack_ids, Sequence):
            raise InvalidInput(f"jurisdictions.{code}", pack_ids, "a list of pack ids")
        if not pack_ids:
            raise InvalidInput(
                f"jurisdictions.{code}", [], "at least one pack id (leave the code out instead)"
            )
        found[code] = tuple(pack_ids)
    return found


def _override(rule: Rule, params: Mapping[str, Any], *, law: bool) -> Rule:
    """*rule* with *params* changed; a pack's (*law*) counting scope only ever widened."""
    if not isinstance(params, Mapping):
        raise InvalidInput(f"overrides.{rule.id}", params, "a mapping of parameter to value")
    for name in params:
        if name in ("id", "citation"):
            raise InvalidInput(f"overrides.{rule.id}.{name}", params[name], "a rule parameter")
    try:
        changed = type(rule).model_validate({**dict(rule), **params})
    except ValidationError as err:
        raise invalid_input(err, prefix=f"overrides.{rule.id}") from err
    if law:
        for name, order in SCOPE_ORDERS.items():
            fixed, wanted = getattr(rule, name, None), getattr(changed, name, None)
            if fixed in order and wanted in order and order.index(wanted) < order.index(fixed):
                wider = [scope for scope in order if order.index(scope) >= order.index(fixed)]
                raise InvalidInput(
                    f"overrides.{rule.id}.{name}",
                    wanted,
                    f"one of {wider}: the law counts {rule.id} {name} {fixed}; "
                    "a lender may widen the scope, never narrow it",
                )
    return changed
