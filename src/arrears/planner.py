"""What the policy would do with a case at a moment: the plan behind the tick and `explain`.

A `Planner` reads the policy and the stage graph; given a case's `Facts` (the
case and the moment are in them) it says

- which escalations' conditions hold, in the policy's order,
- which triggers the Python rules return: escalations too, judged after the
  policy's and before any step acts,
- which steps and Python rules act, each with its idempotency key,
- when the case is next reviewed in the ordinary course.

It reads no store, sends nothing and records nothing.  The tick
(`arrears.tick`) fires the escalations through the engine, where the guards
judge them, hands out what the steps ask for and journals the review;
`Engine.explain` shows the same plan without doing any of it.

The idempotency key of an action is derived from the case, the step and the
day in the debtor's calendar (`outbox_key`): a step acts at most once a day
on a case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

from .case import Case, Channel, ContactPoint
from .compliance import Compliance, DebtorHistory, Proposal
from .compliance.history import ContactHistory, Preference
from .compliance.rules import local_moment
from .policy import Facts, Policy, SendAction, TaskAction
from .policy.conditions import Test
from .policy.model import Escalation, PolicyRule, Step
from .workflow import Workflow

__all__ = [
    "ActionPlan",
    "Plan",
    "Planner",
    "cadence_at",
    "catch_up_review",
    "contact_for",
    "moved_review",
    "next_regular_review",
    "outbox_key",
    "proposal_for",
    "review_day",
]

_PHONE: Final = frozenset({Channel.SMS, Channel.CALL, Channel.VOICEMAIL})
#: How long after the next review time a case is due whose review day a move east skipped
#: (`moved_review`): not the review time, so the review catches the day up.
_CATCH_UP_DELAY: Final = timedelta(seconds=1)
#: When a send failed with a retryable error (or a case's review failed), review again
#: this much later (`arrears.tick`).
RETRY_AFTER: Final = timedelta(hours=1)
#: How much later than its regular next review a change of the debtor's time zone may
#: leave a case (`moved_review`: the same review day in the new zone, whose calendar may
#: stand two days behind the old one, its review time not yet come there).
ZONE_MOVE: Final = timedelta(days=3)


class ActionPlan(NamedTuple):
    """One action the policy wants for a case at a review.

    A named tuple, as cheap to make as a tuple: a tick makes one for each
    step that acts on each case it reviews.

    Attributes:
        source: The step id or Python rule name that asked for it.
        action: A `SendAction`, a `TaskAction`, or a trigger's name.
        key: Its idempotency key.
    """

    source: str
    action: SendAction | TaskAction | str
    key: str


class Plan(NamedTuple):
    """What the policy would do with a case at a moment, before any of it is done.

    Attributes:
        escalations: The escalations that may fire from the case's stage and
            whose conditions hold, in the policy's order (the guards have not
            judged them).
        actions: What the steps and Python rules of the case's stage and
            variant ask for, in order, with their keys (but the triggers the
            rules return: those are in *rule_escalations*).
        next_review_at: The next regular review after the moment.
        rule_escalations: The triggers the Python rules return, in order: fired
            after the policy's escalations and before the steps act, so a step
            does not act in a stage the case is about to leave.
    """

    escalations: tuple[Escalation, ...]
    actions: list[ActionPlan]
    next_review_at: datetime
    rule_escalations: tuple[ActionPlan, ...] = ()


def outbox_key(case_id: str, day: date, source: str, index: int = 0) -> str:
    """The idempotency key of an action: one per case, step and day in the debtor's calendar.

    A step acts at most once a day on a case: a tick run again the same day
    (after a crash, or to retry a failed send) finds the same key.
    """
    text = f"{case_id}|{day.isoformat()}|{source}|{index}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def review_day(policy: Policy, case: Case, moment: datetime) -> date:
    """The review day a review at *moment* stands for, in the debtor's calendar.

    Today, once the policy's review time has come on a working day; before
    it (or on a day off), the last working day before: a daily job that runs
    at 00:30 does the review of the day before, late, not the review of a day
    whose review time has not come.
    """
    zone = case.debtor.timezone
    settings = policy.review
    day = case.local_date(moment)
    start = local_moment(day, settings.time, zone, moment)
    if settings.is_working_day(day) and moment.astimezone(UTC) >= start.astimezone(UTC):
        return day
    for _ in range(31):  # weekends and holidays are skipped when the policy says so
        day -= timedelta(days=1)
        if settings.is_working_day(day):
            break
    return day


def next_regular_review(policy: Policy, case: Case, after: datetime) -> datetime:
    """The next review at the policy's time of day, ``every_days`` after the review day of *after*.

    The review day (`review_day`) is today once the review time has passed,
    else the working day before, so a job run at any hour reviews each case
    every ``every_days`` days: at 00:30 the next review is at today's review
    time (reached by tomorrow's run), not tomorrow's (which would skip a day).
    With ``business_days`` or ``holidays`` in the policy's review settings, a
    review that would fall on a weekend or a public holiday moves to the next
    working day.  Always after *after*.
    """
    settings = policy.review
    day = review_day(policy, case, after) + timedelta(days=settings.every_days)
    zone = case.debtor.timezone
    for _ in range(62):  # weekends and holidays are skipped when the policy says so
        if settings.is_working_day(day):
            moment = local_moment(day, settings.time, zone, after)
            if moment.astimezone(UTC) > after.astimezone(UTC):  # instants, not wall times
                return moment
        day += timedelta(days=1)
    return local_moment(day, settings.time, zone, after)


def cadence_at(
    policy: Policy, case: Case, due_at: datetime, now: datetime
) -> tuple[bool, datetime]:
    """For a review late for the regular review at *due_at*: whether the review day of *now*
    is a day of that review's cadence, and the cadence's next review after *now*.

    A review that comes late (an outage) keeps the case on the days it was due
    on: with ``every_days: 3`` and reviews due on 31 August and 3 September, a
    review run on 5 September catches 3 September up, acts for no day of its
    own (5 September is not a review day) and leaves the case due on 6
    September, as if the outage had not been.  Working days are skipped as
    `next_regular_review` skips them.
    """
    day = review_day(policy, case, now)
    moment = due_at
    on = case.local_date(moment) == day
    while moment <= now:
        moment = next_regular_review(policy, case, moment)
        on = on or (moment <= now and case.local_date(moment) == day)
    return on, moment


def catch_up_review(policy: Policy, case: Case, after: datetime) -> datetime:
    """A second after the next regular review of *case* after *after*: not the review time,
    so the review then looks back from the last journaled review and catches up, in the
    day's hours, the days it finds no review for (`moved_review`)."""
    return next_regular_review(policy, case, after) + _CATCH_UP_DELAY


def moved_review(
    policy: Policy,
    old: ZoneInfo | None,
    new: ZoneInfo | None,
    due: datetime,
    now: datetime,
    *,
    in_hours: Callable[[], bool] | None = None,
    at_once: bool = False,
) -> datetime:
    """When a case due at *due* is reviewed once its debtor moved, at *now*, from the time
    zone *old* to *new*.

    A review due at the policy's review time stands for its day in the old
    zone: it moves to that day's review time in the new zone (the next working
    day's when the policy skips days off), so each review day is reviewed
    once.  Left where it was, a debtor moved east would be reviewed a day
    late, at night (the day's step caught up out of hours, or missed), and a
    debtor moved west reviewed twice on one day (the step sent again).  When
    that time has passed already in the new zone (a move east across the
    review time), the case is due at once while that day lasts there and
    *in_hours* says its messages may still go out that day (``None``: they
    may), else a second after the next review time there, a time that is not
    the review time, so the tick looks back from the last journaled review and
    catches the skipped day up then, in the day's hours (its steps owed as on
    a day an outage skipped): reviewed at once, at 22:00 on the same date, its
    message would be denied until the next day and journaled missed.

    A review due a second after the review time (such a catch-up, set by an
    earlier move) stands for the working day before its own, the latest day
    it catches up, which no review has had: it moves as a review of that day
    does, and stays a catch-up a second after the time it moves to, so a
    second move (within the hour, before the case was reviewed) neither
    leaves it at a time that is night where the debtor is now nor loses the
    skipped day.  A review due at once after an earlier move, not reviewed yet
    (*at_once*: *due* is that move's moment), stands for its date in the old
    zone, whose review time had passed there in its hours: it moves as the
    review of that day, so moved on west it is not a review of the day before
    there (its step sent already under its key).  Any other due time (a
    message denied until then, a send retried, a case not reviewed yet)
    stays: the review then judges again in the new zone.  *due* when either
    zone is unknown.
    """
    settings = policy.review
    if old is None or new is None or old == new:
        return due
    day = due.astimezone(old).date()
    slot = local_moment(day, settings.time, old, due)
    delay = timedelta(0) if at_once else due.astimezone(UTC) - slot.astimezone(UTC)
    if delay == _CATCH_UP_DELAY:  # a catch-up: it stands for the working day it skipped
        for _ in range(62):  # weekends and holidays are skipped when the policy says so
            day -= timedelta(days=1)
            if settings.is_working_day(day):
                break
    elif delay:
        return due
    for _ in range(62):  # weekends and holidays are skipped when the policy says so
        if settings.is_working_day(day):
            break
        day += timedelta(days=1)
    moved = local_moment(day, settings.time, new, due) + delay
    if moved.astimezone(UTC) > now.astimezone(UTC):
        return moved
    if now.astimezone(new).date() == day and (in_hours is None or in_hours()):
        return now  # still that day there, in its hours: reviewed at once
    for _ in range(62):  # the next review time in the new zone, caught up a second after
        day += timedelta(days=1)
        if settings.is_working_day(day):
            moved = local_moment(day, settings.time, new, due)
            if moved.astimezone(UTC) > now.astimezone(UTC):
                break
    return moved + _CATCH_UP_DELAY


class Planner:
    """The plans of one policy on one stage graph.

    The tables a plan reads (which steps act in a stage, which escalations
    leave it) are worked out the first time they are asked for and kept: a
    tick asks the same questions of every case it reviews, so it keeps one
    planner for its length.

    Args:
        policy: The policy.
        workflow: The stage graph the cases follow (the policy's, as a rule).
    """

    __slots__ = ("_escalations", "_steps", "policy", "rules", "workflow")

    def __init__(self, policy: Policy, workflow: Workflow) -> None:
        self.policy = policy
        self.workflow = workflow
        self.rules: tuple[tuple[str, PolicyRule], ...] = policy.rules
        self._steps: dict[tuple[str | None, str], tuple[tuple[Step, str, Test], ...]] = {}
        self._escalations: dict[str, tuple[tuple[Escalation, Test], ...]] = {}

    def applies(self, escalation: Escalation, stage: str) -> bool:
        """Whether *escalation* may fire from *stage*: its trigger leaves it, and its ``from``."""
        return stage in self.workflow.sources_of(escalation.trigger) and (
            escalation.from_ is None or stage in escalation.from_
        )

    def escalations(self, stage: str) -> tuple[tuple[Escalation, Test], ...]:
        """The escalations that may fire from *stage*, with their tests, in the policy's order."""
        found = self._escalations.get(stage)
        if found is None:
            found = self._escalations[stage] = tuple(
                (escalation, escalation.test)
                for escalation in self.policy.escalations
                if self.applies(escalation, stage)
            )
        return found

    def holding(self, facts: Facts) -> Iterator[Escalation]:
        """The escalations that may fire from the case's stage and whose conditions hold.

        In the policy's order, each condition judged only when the one before
        is passed over: the tick fires the first one the guards allow, and
        plans again from the stage it leads to.
        """
        for escalation, test in self.escalations(facts.case.stage):
            if test(facts):
                yield escalation

    def steps(self, variant: str | None, stage: str) -> tuple[tuple[Step, str, Test], ...]:
        """(step, id, condition) for the steps of *variant* that act in *stage*, in order."""
        found = self._steps.get((variant, stage))
        if found is None:
            found = self._steps[variant, stage] = self.policy.compiled_steps(variant, stage)
        return found

    def ruled(self, facts: Facts) -> list[ActionPlan]:
        """Everything the Python rules return for the case now, in order, with their keys.

        A trigger's name among them is an escalation (`Plan.rule_escalations`);
        the rest are actions, after the steps'.  The key counts the rule's
        results, triggers included, so an action keeps its key whatever else
        the rule returns.
        """
        plans: list[ActionPlan] = []
        if not self.rules:
            return plans
        case_id, day = facts.case.id, facts["today"]
        for name, function in self.rules:
            for index, action in enumerate(function(facts) or ()):
                plans.append(ActionPlan(name, action, outbox_key(case_id, day, name, index)))
        return plans

    def actions(self, facts: Facts, ruled: list[ActionPlan] | None = None) -> list[ActionPlan]:
        """What the steps and Python rules want for the case now, in order, with their keys.

        The triggers the rules return are left out: they are escalations,
        judged before the steps (`ruled`, `Plan.rule_escalations`).  *ruled*
        is what `ruled` returned for these facts, when it was asked already.
        """
        case = facts.case
        plans: list[ActionPlan] = []
        for step, step_id, test in self.steps(facts.variant, case.stage):
            if test(facts):
                day: date = facts["today"]
                plans.append(ActionPlan(step_id, step.action, outbox_key(case.id, day, step_id)))
        for plan in self.ruled(facts) if ruled is None else ruled:
            if not isinstance(plan.action, str):
                plans.append(plan)
        return plans

    def next_review(self, case: Case, after: datetime) -> datetime:
        """The next regular review of *case* after *after* (`next_regular_review`)."""
        return next_regular_review(self.policy, case, after)

    def plan(self, facts: Facts) -> Plan:
        """Everything the policy would do with the case (``facts.case``) at ``facts.at``.

        The escalations are those of the case's stage now: firing one moves
        the case, and the tick plans again from there.  Each Python rule is
        called once.
        """
        ruled = self.ruled(facts)
        return Plan(
            tuple(self.holding(facts)),
            self.actions(facts, ruled),
            self.next_review(facts.case, facts.at),
            tuple(plan for plan in ruled if isinstance(plan.action, str)),
        )


def contact_for(
    case: Case,
    action: SendAction,
    history: ContactHistory | None = None,
    carried: Sequence[Preference] = (),
) -> ContactPoint | None:
    """The contact point to use: the party's, not opted out, its own channel first.

    The party's points for the action's own channel are used; only when it has
    none may an SMS or a voicemail go to a number kept for calls (or the other
    way round).  A point the debtor opted out of (when the case was opened, or
    since, for that channel, and not consented to again) is never chosen, and
    neither is another point with the same address.  *carried*: the opt-outs
    recorded on the debtor's other cases as they read on this one
    (`arrears.compliance.DebtorHistory.opt_outs_on`), which count as the case's own.
    """
    own = [point for point in case.contacts if point.party == action.party]
    exact = [point for point in own if point.channel == action.channel]
    if not exact and action.channel in _PHONE:  # an SMS may go to a number kept for calls
        exact = [point for point in own if point.channel in _PHONE]
    refused = {
        point.address
        for point in exact
        if point.opted_out or _opted_out(history, action.channel, point.id, carried)
    }
    usable = [point for point in exact if point.address not in refused]
    return usable[0] if usable else None


def opt_outs_elsewhere(
    case: Case, debtor: DebtorHistory | None, compliance: Compliance
) -> list[Preference]:
    """The opt-outs recorded on the debtor's other cases that reach *case* when the engine
    chooses the contact point of its own message (`contact_for`'s *carried*): all of
    them, as they read on *case*, unless the rules judging it keep an opt-out to its
    own debt (`arrears.compliance.Compliance.opt_out_reach`)."""
    if debtor is None or not debtor.opt_outs:
        return []
    if compliance.opt_out_reach(case, lambda: debtor) == "debt":
        return []
    return debtor.opt_outs_on(case)


def proposal_for(action: SendAction, point: ContactPoint | None, text: str | None) -> Proposal:
    """The compliance proposal for sending *action* to *point* (or to its party)."""
    return Proposal(
        channel=action.channel,
        contact=point.id if point is not None else None,
        party=None if point is not None else action.party,
        automated=action.automated,
        purpose=action.purpose,
        text=text,
    )


def _opted_out(
    history: ContactHistory | None,
    channel: str,
    contact: str,
    carried: Sequence[Preference] = (),
) -> bool:
    """Opted out of *channel* at *contact* (on the case, or on another of the debtor's:
    *carried*), and not given back since by a consent for the medium on the case (a
    consent to be called back this afternoon does not restore it)."""
    opted = history.opt_out_for(channel, contact) if history is not None else None
    for said in carried:
        if said.covers(channel, contact) and (opted is None or said.at > opted.at):
            opted = said
    if opted is None:
        return False
    if history is None:
        return True
    return not any(
        consent.at >= opted.at
        for consent in history.consents_for("medium", channel)
        if consent.covers(channel, contact)
    )
