"""`Compliance`: the rules of the chosen packs, with the lender's overrides, judging contacts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError

from ..case import Case, Channel, mask
from ..clock import require_aware
from ..errors import InvalidInput, invalid_input
from .history import ContactHistory, DebtorHistory
from .model import Judgement, Proposal, Reason, Verdict
from .packs import resolve
from .rules import SCOPE_ORDERS, Rule

__all__ = ["Compliance"]

#: How far ahead `Verdict.next_allowed_at` looks before it gives up.
HORIZON: Final = timedelta(days=400)
_ROUNDS: Final = 32
_PHONE: Final = frozenset({Channel.CALL, Channel.VOICEMAIL, Channel.SMS})


class Compliance:
    """The rules that judge every proposed contact, from jurisdiction packs.

    Args:
        packs: Pack ids, e.g. ``["US-MA"]`` (which brings ``US-RegF`` with it).
        overrides: Rule id → parameters to change, e.g. ``{"US-7IN7": {"limit": 5}}``;
            validated like the rule itself.  ``{"enabled": False}`` turns a rule off.
        rules: Rules of your own (subclasses of `Rule`, or functions made rules
            with `arrears.compliance.rule`), judged after the packs' rules.

    Raises:
        InvalidInput: an unknown pack, an override for a rule the packs do not
            have, a bad parameter value, or two rules with one id.

    Example:
        >>> compliance = Compliance(["US-RegF"], overrides={"US-7IN7": {"limit": 5}})
        >>> compliance.rule("US-7IN7").limit
        5
    """

    def __init__(
        self,
        packs: Sequence[str] = (),
        *,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        rules: Sequence[Rule] = (),
    ) -> None:
        if isinstance(packs, str):
            packs = (packs,)
        self.packs: tuple[str, ...] = tuple(packs)
        chosen: dict[str, Rule] = {}
        from_packs = tuple(resolve(self.packs))
        laws = {item.id for item in from_packs}
        for item in (*from_packs, *rules):
            if not isinstance(item, Rule):
                raise InvalidInput("rules", type(item).__name__, "Rule instances")
            if item.id in chosen:
                raise InvalidInput("rules", item.id, "rule ids that appear once")
            chosen[item.id] = item
        for rule_id, params in (overrides or {}).items():
            if rule_id not in chosen:
                raise InvalidInput("overrides", rule_id, f"a rule id among {sorted(chosen)}")
            chosen[rule_id] = _override(chosen[rule_id], params, law=rule_id in laws)
        self.rules: tuple[Rule, ...] = tuple(chosen.values())
        self._by_id = chosen
        # The rules in scope for each (channel, party, purpose, relationship), worked out once.
        self._scoped: dict[tuple[str, str, str, str | None], tuple[Rule, ...]] = {}

    def __repr__(self) -> str:
        return f"Compliance(packs={list(self.packs)!r}, rules={len(self.rules)})"

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the rules in force, in judging order."""
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

        Returns:
            The verdict, with ``next_allowed_at`` when a later time would do.
        """
        moment = require_aware(at, "at")
        checked = self.proposal(case, proposal)
        judgement = Judgement(case, history, checked, moment, debtor=debtor)
        reasons = self._reasons(judgement)
        if not reasons:
            return Verdict(True, (), moment, moment, checked)
        return Verdict(False, reasons, moment, self._next_allowed(judgement, reasons), checked)

    def _reasons(self, judgement: Judgement) -> tuple[Reason, ...]:
        proposal = judgement.proposal
        key = (proposal.channel, judgement.party, proposal.purpose, judgement.relationship)
        scoped = self._scoped.get(key)
        if scoped is None:
            channel, party, purpose, relationship = key
            scoped = self._scoped[key] = tuple(
                item
                for item in self.rules
                if item.in_scope(channel, item.party_seen(party, relationship), purpose)
            )
        found: list[Reason] = []
        for rule in scoped:
            if rule.admits(judgement):
                reason = rule.check(judgement)
                if reason is not None:
                    found.append(reason)
        return tuple(found)

    def _next_allowed(self, judgement: Judgement, reasons: tuple[Reason, ...]) -> datetime | None:
        """Move to the latest retry time of the denying rules until none denies."""
        start = judgement.at
        for _ in range(_ROUNDS):
            retries = [reason.retry_at for reason in reasons]
            if any(retry is None for retry in retries):
                return None
            moment = max(retry for retry in retries if retry is not None)
            if moment <= judgement.at or moment - start > HORIZON:
                return None
            judgement = judgement.moved(moment)
            reasons = self._reasons(judgement)
            if not reasons:
                return moment
        return None


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
