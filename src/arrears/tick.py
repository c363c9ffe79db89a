"""The daily tick: review every case that is due, under the engine's policy.

For each due case (and only those: the store keeps each case's next review
time), the tick

1. assigns a champion/challenger variant the first time (journaled),
2. fires the policy's escalations whose conditions hold, then the triggers
   its Python rules return (guards still judge; both before any step acts),
3. works out the steps that apply and the actions of the Python rules
   (2 and 3 as `arrears.planner` plans them: the plan `Engine.explain` shows),
4. passes every message through compliance: a denied one is journaled and the
   case is reviewed again at ``next_allowed_at`` (or skipped when no time
   will do),
5. sends allowed messages through an outbox: the intent is journaled with an
   idempotency key *before* the channel adapter is called, the result after
   (an intent left open by an earlier review is closed first: see below),
6. opens tasks for people (calls, visits, negotiations, legal reviews), once
   per debtor: a task of the same kind and queue open on another of the
   debtor's loans covers the case instead (`arrears.operations.tasks.covering`),
7. journals the review with the policy's id and version and the next review
   time when anything was recorded on the case today since its last review
   (`_journaled`); a review that changed nothing only moves the case on the
   store's schedule.

The idempotency key of an action is derived from the case, the step and the
day (in the debtor's calendar, `arrears.planner.outbox_key`): a step acts at
most once a day on a case. So a tick that dies half-way and is run again, or a
tick run twice for the same moment, sends nothing twice and loses nothing: a
key with a result is skipped, a key with an intent and no result is sent again
*with the same key* (adapters pass it on and providers drop the duplicate).

An intent still open at a later review (the next day, after a payment, a
stage change, or once the case is closed) is closed then, whatever the day:
the adapter is asked what became of it (``delivery``, in a phase 0 before the
batch's transaction) and its report journaled; when it cannot say, the
message is sent again under its key only while still warranted
(`_warranted`), else journaled as ``unknown`` (which the frequency caps
count).  A terminal case keeps its place on the schedule until its intents
are closed.  ``docs/operations.md`` ("Outbox recovery") explains the choices.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from .case import Case, Channel, Outcome
from .channels import DeliveryReport, OutboundMessage
from .compliance import DebtorHistory
from .compliance.rules import local_moment
from .errors import (
    ArrearsError,
    ConcurrencyConflict,
    InvalidInput,
    LeaseLost,
    TransitionDenied,
)
from .journal import JournalEntry
from .limits import LEASE
from .logs import get_logger
from .operations import agreements, charges, contacts, places, reviews, stages, tasks
from .outbox import RESULT_KINDS, OpenIntent, pending
from .planner import (
    RETRY_AFTER,
    ActionPlan,
    Planner,
    cadence_at,
    catch_up_review,
    contact_for,
    opt_outs_elsewhere,
    outbox_key,
    proposal_for,
    review_day,
)
from .plans import PlanStatus
from .policy import Facts, SendAction, TaskAction
from .recorder import Recorder
from .store import Store

__all__ = ["TickReport", "review_case", "run_tick"]

_log = get_logger("arrears")

#: How many escalations one review may fire in a row (a guard against loops).
MAX_ESCALATIONS: Final = 5
#: Entry kinds that settle an action's key for the day: sent or opened.  A denial
#: does not: a review run again judges the message again (and learns when to retry).
_RESULTS: Final = RESULT_KINDS
#: An open intent from at most this many days before the debtor's today may be sent
#: again when its adapter cannot say what became of it (and it is still warranted).
RESEND_DAYS: Final = 1
#: A step due on a day that had no review (an outage, a late job) acts at the next
#: review when the day is at most this many days before it; older days are journaled
#: as missed without asking which steps were due.
CATCH_UP_DAYS: Final = 7
#: Delivery statuses that say the provider took the message (recorded as delivered,
#: as the tick records a send the adapter accepted).
_ACCEPTED: Final = frozenset({"queued", "sent", "delivered"})
#: Entry kinds after an intent that make sending it again unwarranted: the stage, the
#: amounts it states, a hold, an agreement or the debtor's wishes changed since.
_STALE: Final = frozenset(
    {
        "transition",
        "payment",
        "payment_reversed",
        "agreement_reopened",
        "waiver",
        "settlement",
        "credit_applied",
        "hold_added",
        "opt_out",
        "promise_made",
        "plan_started",
    }
)


@dataclass
class TickReport:
    """What one tick did.

    Attributes:
        at: The tick's moment.
        reviewed: Cases reviewed.
        sent: Messages handed to an adapter and accepted.
        failed: Messages an adapter refused or could not deliver.
        denied: Messages compliance denied (rescheduled or skipped).
        tasks: Tasks opened for people (a loan brought under a task open on another
            loan of its debtor opens none).
        fired: Transitions fired by escalations and steps.
        refused: Escalations or steps whose guards refused.
        unreachable: Messages not sent for want of a usable contact point on their
            medium (none, or every one opted out).
        recovered: Open outbox intents of an earlier review closed by this tick:
            by the adapter's delivery report, by sending again under their key,
            or as ``unknown``.
        unknown: Of those, the ones closed as ``unknown`` (it may have reached
            the debtor: frequency caps count it).
        caught_up: Steps due on a day without a review that acted at this tick
            (listed under ``caught_up`` on the review entry).
        missed: Steps (or spans of days) due without a review that did not act,
            journaled under ``missed`` on the review entry with the reason: a
            steady count means the tick runs at the wrong hours or too seldom.
        errors: Cases whose review raised, with the error (they are retried
            at the next tick).
        blocked_by: Denials by rule id.
    """

    at: datetime
    reviewed: int = 0
    sent: int = 0
    failed: int = 0
    denied: int = 0
    tasks: int = 0
    fired: int = 0
    refused: int = 0
    unreachable: int = 0
    recovered: int = 0
    unknown: int = 0
    caught_up: int = 0
    missed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    blocked_by: Counter[str] = field(default_factory=Counter)

    def add(self, other: TickReport) -> None:
        """Count *other*'s work in this report too (a part of the same tick)."""
        for name in ("reviewed", "sent", "failed", "denied", "tasks", "fired", "refused"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unreachable += other.unreachable
        self.recovered += other.recovered
        self.unknown += other.unknown
        self.caught_up += other.caught_up
        self.missed += other.missed
        self.errors.extend(other.errors)
        self.blocked_by.update(other.blocked_by)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        return {
            "at": self.at.isoformat(),
            "reviewed": self.reviewed,
            "sent": self.sent,
            "failed": self.failed,
            "denied": self.denied,
            "tasks": self.tasks,
            "fired": self.fired,
            "refused": self.refused,
            "unreachable": self.unreachable,
            "recovered": self.recovered,
            "unknown": self.unknown,
            "caught_up": self.caught_up,
            "missed": self.missed,
            "errors": [list(error) for error in self.errors],
            "blocked_by": dict(self.blocked_by),
        }


def _later(moment: datetime) -> datetime:
    """`RETRY_AFTER` after *moment*, counted in real time (in UTC).

    Arithmetic on a local time adds wall-clock hours: across a DST change it
    would land an hour off, or on the very instant it started from.
    """
    return moment.astimezone(UTC) + RETRY_AFTER


def _since(entries: Sequence[JournalEntry], start: datetime) -> Iterator[JournalEntry]:
    """The entries recorded at or after *start*, newest first."""
    for entry in reversed(entries):
        if entry.at < start:
            return
        yield entry


@dataclass
class _Today:
    """What the journal says was done about each action key since the day began."""

    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    denied: dict[str, datetime | None] = field(default_factory=dict)
    steps: set[str] = field(default_factory=set)
    """Steps whose earlier intent was closed today by a report or sent again: done today."""


_QUIET: Final = _Today()
"""The outbox of a case with nothing recorded today (read only)."""


def _outbox_state(entries: Sequence[JournalEntry], start: datetime) -> _Today:
    """Intents, keys with a result, and denials (with when to retry), since *start*."""
    today = _Today()
    for entry in _since(entries, start):  # newest first: the latest denial wins
        if entry.kind == "outbox_intent":
            today.intents.setdefault(entry.data["key"], entry.data)
        elif entry.kind in _RESULTS and "key" in entry.data:
            today.done.add(entry.data["key"])
            if entry.data.get("recovered") in ("report", "resent") and "step" in entry.data:
                today.steps.add(entry.data["step"])
        elif entry.kind == "contact_denied" and "key" in entry.data:
            retry = entry.data.get("next_allowed_at")
            today.denied.setdefault(
                entry.data["key"], None if retry is None else datetime.fromisoformat(retry)
            )
    return today


@dataclass(slots=True)
class _Send:
    """A message whose intent is journaled, waiting for (or back from) its adapter."""

    action: SendAction
    key: str
    message: Any  # OutboundMessage
    status: str = ""
    provider_id: str | None = None
    retryable: bool = False
    step: str | None = None
    """The step of an earlier intent sent again under its key (a recovery), else ``None``."""


@dataclass(slots=True)
class _Review:
    """A review half done: planned and journaled up to the intents of its messages."""

    case_id: str
    facts: Facts
    sources: list[str] = field(default_factory=list)
    retry: list[datetime] = field(default_factory=list)
    sends: list[_Send] = field(default_factory=list)
    open: set[str] = field(default_factory=set)
    """Keys left open by this review (no answer from the adapter yet)."""
    steps: set[str] = field(default_factory=set)
    """Steps whose earlier intent this review closes or sends again: they do not act again."""
    missed: list[dict[str, str]] = field(default_factory=list)
    """Steps due on days without a review that do not act now, with the reason (`_catch_up`)."""
    caught_up: list[dict[str, str]] = field(default_factory=list)
    """Steps due on days without a review that act at this review, with their day."""
    catching: dict[str, dict[str, str]] = field(default_factory=dict)
    """The keys of the steps `_catch_up` hands the review, to their day and step."""
    denied: list[tuple[datetime, ActionPlan]] = field(default_factory=list)
    """Messages compliance denied until a later time, with that time."""
    next_review: datetime | None = None
    """The next regular review when it is not the policy's next from today (`cadence_at`)."""
    debtor: DebtorHistory | None = None
    """The debtor's history, once asked (`debtor_of`)."""
    asked: bool = False
    """Whether `debtor_of` has asked for it."""

    def debtor_of(self, rec: Recorder, case: Case) -> DebtorHistory | None:
        """The contacts on every case of the debtor (`Recorder.debtor_history`), asked once
        a review, however many messages it judges.

        What the review records in between (an intent, a refusal, a task) is
        recorded through *rec*, which folds it into that same history: asked
        again, the recorder would check every case's head to give the same
        object back.  Asked again only when the recorder no longer keeps it
        (`Recorder.keeps_debtor`: an entry that rebuilds it, which a review
        does not record).  ``None`` (the debtor's only case) stays so: a review
        opens no case.
        """
        found = self.debtor
        if not self.asked or (found is not None and not rec.keeps_debtor(case.debtor.id, found)):
            self.debtor = found = rec.debtor_history(case)
            self.asked = True
        return found


@dataclass(frozen=True, slots=True)
class _Asked:
    """What a channel adapter said of an open intent's key (`ChannelAdapter.delivery`)."""

    report: DeliveryReport | None
    error: str | None = None


class _Run:
    """One tick's view of the engine: the policy's plans and the day's times, worked out once.

    A tick asks the same questions of every case (which steps act in this
    stage, which escalations leave it, when is the next regular review in
    this zone on this day): the answers are kept here, and in its
    `Planner`, for the tick's length.
    """

    __slots__ = (
        "_days",
        "ahead",
        "answers",
        "moment",
        "now",
        "planner",
        "policy",
        "rec",
        "report",
        "terminal",
    )

    def __init__(self, rec: Recorder, now: datetime, report: TickReport) -> None:
        policy = rec.policy
        assert policy is not None
        self.rec = rec
        self.policy = policy
        self.planner = Planner(policy, rec.workflow)
        self.terminal = rec.workflow.definition.terminal  # stages a review leaves alone
        self.moment = now  # the tick's
        self.now = now  # the batch's (`reviewed_at`)
        # The batch's debtors with an entry dated after its moment (`_batch_moment`).
        self.ahead: dict[str, datetime] = {}
        self.report = report
        self._days: dict[Any, _Day] = {}
        self.answers: dict[str, _Asked] = {}  # by outbox key: what the adapters said (phase 0)

    def latest(self) -> datetime:
        """The latest moment a review may move to: the batch's, or the clock's now when
        later (never a moment not yet come: `_batch_moment`)."""
        return max(self.now, self.rec.clock.now())

    def reviewed_at(self, moment: datetime) -> None:
        """Review the next cases at *moment* (the tick's, or later: `_batch_moment`)."""
        if moment != self.now:
            self.now = moment
            self._days.clear()

    def day(self, case: Case) -> _Day:
        """Today where the debtor lives: its date, its start and the next regular review.

        Worked out once per time zone (the tick's moment is one): a tick asks
        it of every case it reviews.
        """
        zone = case.debtor.timezone
        found = self._days.get(zone)
        if found is None:
            now = self.now
            found = self._days[zone] = _Day(
                case.local_date(now),
                # In UTC, as the entries it is compared with are when the engine
                # records them: across zones a comparison asks a ZoneInfo its offset.
                _day_start(case, now).astimezone(UTC),
                self.planner.next_review(case, now),
            )
        return found


class _Day(NamedTuple):
    """Today in one time zone, for a tick (`_Run.day`)."""

    today: date
    start: datetime
    next_review: datetime


def review_case(rec: Recorder, case_id: str, now: datetime, report: TickReport) -> None:
    """Review one case under the engine's policy, all four phases at once."""
    run = _Run(rec, now, report)
    _ask(run, [case_id])
    review = _plan_review(run, case_id)
    if review is not None:
        _deliver(rec, review, report)
        _finish(run, review)


def _plan_review(run: _Run, case_id: str, *, due_only: bool = False) -> _Review | None:
    """Phase 1: agreements, escalations, open intents, steps; journal the new intents.

    With *due_only* (a batch's case), a case recorded on since it fell due is
    reviewed as the store schedules it now: another process may have moved its
    review (a debtor's move, `arrears.planner.moved_review`) after this tick
    took it; no longer due, it is left for its time.
    """
    rec, policy, now, report = run.rec, run.policy, run.now, run.report
    store = rec.store
    due_at = store.due_at(case_id)  # before anything reschedules it
    if due_only and due_at is not None and store.last_entry(case_id).at > due_at:
        due_at = store.next_review(case_id)  # as it is now, not as the batch was taken
        if due_at is None or due_at > now:
            return None
    case = store.get(case_id)
    ahead = run.ahead.get(case.debtor.id)
    if ahead is not None:  # held back (`_batch_moment`): reviewed once the clock is there
        problem = InvalidInput(
            "at",
            now.isoformat(),
            f"a moment not before the last entry on the debtor's cases ({ahead.isoformat()}), "
            "which is ahead of the engine's clock: reviewed again then",
        )
        report.errors.append((case_id, _said(problem)))
        _log.bind().warning("review_held", case_id=case_id, until=ahead.isoformat())
        store.schedule(case_id, ahead)
        return None
    if case.stage in run.terminal:
        _close_terminal(run, case_id)
        return None
    if due_only and due_at is not None and _out_of_hours_after_a_move(run, case, due_at):
        store.schedule(case_id, catch_up_review(policy, case, now))
        return None
    if policy.variants and case.variant is None:
        reviews.record_variant(rec, case_id, policy.variant_of(case_id) or "", at=now)
    report.reviewed += 1
    moved = _keep_agreements(rec, case, now)
    facts = rec.facts(rec.store.get(case_id), now)  # of the case as the agreements left it
    escalated, ruled = _escalate(run, facts)
    if escalated is not None:
        moved = True
        facts = escalated
    case = facts.case
    if moved and case.stage in run.terminal:
        _close_terminal(run, case_id)
        return None
    review = _Review(case_id, facts)
    start = run.day(case).start
    found = _pending(store, case_id)
    earlier = [intent for intent in found if intent.at < start]
    if earlier and _recover(run, review, earlier):  # journaled: plan on what it recorded
        if store.get(case_id).stage in run.terminal:  # an inbound reaction closed it
            _close_terminal(run, case_id, review)
            return review if review.sends else None
        facts = review.facts = rec.facts(store.get(case_id), now)
        case = facts.case
        ruled = None  # the rules are asked again, of the facts as recorded now
    plans = run.planner.actions(facts, ruled)
    late = due_at is not None and case.local_date(due_at) < run.day(case).today
    if late and policy.review.every_days > 1 and due_at is not None and _regular(run, case, due_at):
        on_cadence, review.next_review = cadence_at(policy, case, due_at, now)
        if not on_cadence:  # no review was due today: it only catches the days it missed up
            plans = []
    if due_at is not None and (late or not _regular(run, case, due_at)):
        plans += _catch_up(run, review, facts, plans, due_at)  # late, or a retry: days missed
    if store.last_entry(case_id).at < start:
        today = _QUIET  # nothing recorded today: no chain to read
    else:
        today = _outbox_state(store.entries(case_id), start)
    sent_again: set[str] = set()  # today's open intents whose step acts again (as before)
    for plan in plans:
        action = plan.action
        if plan.key in today.done:
            review.sources.append(plan.source)  # acted on earlier today (before a crash)
            continue
        if plan.source in today.steps or plan.source in review.steps:
            review.sources.append(plan.source)  # its earlier intent was closed today
            continue
        if plan.key in today.denied:
            retry = today.denied[plan.key]
            if retry is None or retry > now:  # judged today: not again until it may go
                if retry is not None:
                    review.retry.append(retry)
                    review.denied.append((retry, plan))
                continue
        if isinstance(action, TaskAction) and any(t.step == plan.source for t in case.tasks):
            continue  # the step's task is still open
        review.sources.append(plan.source)
        outcome: str | None = None  # why a step caught up did not act, if it did not
        if isinstance(action, str):
            if not _fire(rec, case, action, now, report, reason=f"policy step {plan.source}"):
                outcome = "its trigger was refused"
        elif isinstance(action, TaskAction):
            task = tasks.open_task(rec, case_id, action, key=plan.key, step=plan.source, at=now)
            if task.id == plan.key:  # else a task open on another loan of the debtor covers it
                report.tasks += 1
        else:
            intent = today.intents.get(plan.key)
            if intent is not None:
                sent_again.add(plan.key)
            sends, denied = len(review.sends), report.denied
            _intend(rec, case, action, plan, intent, facts, now, review, report)
            if len(review.sends) == sends:
                outcome = "denied" if report.denied > denied else "no usable contact point"
        caught = review.catching.get(plan.key)
        if caught is not None:
            if outcome is None:
                review.caught_up.append(caught)
            else:
                review.missed.append(caught | {"reason": f"caught up at this review: {outcome}"})
    # Today's intents whose step no longer acts (a hold, a payment, another stage since).
    left = [intent for intent in found if intent.at >= start and intent.key not in sent_again]
    if left:
        _recover(run, review, left)
        if store.get(case_id).stage in run.terminal:
            _close_terminal(run, case_id, review)
            return review if review.sends else None
    return review


def _catch_up(
    run: _Run, review: _Review, facts: Facts, plans: Sequence[ActionPlan], due_at: datetime
) -> list[ActionPlan]:
    """The steps due on the days since *due_at* that had no review, done now or journaled missed.

    A review that comes a day or more after the case was due (an outage, a
    job run late, a daily job before the review time) looks at each review
    day from the one it was due on to yesterday, at most `CATCH_UP_DAYS`
    back, and asks which steps applied at that day's review time, on the
    case as it stands now: the steps of the stage it stood in that day and
    of the stage it stands in now (the review that did not run could not
    escalate it: a reminder at 10 days past due is owed even though the
    case, unreviewed, was still in its first stage that day).  For each one
    the journal has no result of that day's key for:

    - the step acts in the case's stage now (it still applies: the case
      did not move on, or moved to a stage where the step acts too), it does
      not act today, and it is the step's latest such day: it acts now, under that day's key (so a
      review run again finds it done), and the review lists it under
      ``caught_up``;
    - else it is listed under ``missed`` with the reason: the case has left
      that stage, the step acts at this review anyway, it acts for a later
      day, or compliance denied it that day and no review came after the time
      it named.

    A day further back is listed as missed (``from``/``to``) without asking
    which steps it had.  A terminal case (paid, settled, written off) owes
    nothing more and is never caught up.
    """
    case, now = facts.case, run.now
    settings = run.policy.review
    zone = case.debtor.timezone
    today = run.day(case).today
    entries = run.rec.store.entries(case.id)
    first = case.local_date(due_at)
    # The days after the one the case was due on surely had no review: the steps of the
    # stage it stands in now are owed on them too (no review escalated it).  The day it
    # was due on may have had one before its review time, as every day a retry looks
    # back on did: on those, only the steps of the stage it stood in.
    unreviewed = first + timedelta(days=1)
    at_retry = first >= today
    if at_retry:  # due today at a retry time: back to the day of the last journaled review
        _after_a_move_west(run, review, case, entries)
        last = next((entry for entry in reversed(entries) if entry.kind == "review"), None)
        if last is None:
            return []
        first = review_day(run.policy, case, last.at)
        unreviewed = min(today, _moved_since(run, case, entries, last.seq))
    days: list[date] = []  # the review days of the policy's cadence, from *first* to yesterday
    day = first
    while day < today:
        if settings.is_working_day(day):
            days.append(day)
            day += timedelta(days=settings.every_days)
        else:
            day += timedelta(days=1)
    gone, days = days[:-CATCH_UP_DAYS], days[-CATCH_UP_DAYS:]
    if gone and not at_retry:  # a retry's older days had reviews, journaled or not
        review.missed.append(
            {
                "from": gone[0].isoformat(),
                "to": gone[-1].isoformat(),
                "reason": f"no review; more than {CATCH_UP_DAYS} review days before this one",
            }
        )
    if not days:
        return []
    start = local_moment(days[0], time(0), zone, now).astimezone(UTC)
    window = _outbox_state(entries, start)
    told = {  # what a review since then listed already (a retry review looks back again)
        (item.get("day"), item.get("step"))
        for entry in _since(entries, start)
        if entry.kind == "review"
        for item in entry.data.get("missed", ())
    }
    moves = [
        (entry.at, entry.data["source"])
        for entry in _since(entries, start)
        if entry.kind == "transition"
    ]
    moves.reverse()  # oldest first: the first move after a day names its stage that day
    acting = {plan.source for plan in plans}
    here = {step_id for _, step_id, _ in run.planner.steps(facts.variant, case.stage)}
    here.update(name for name, _ in run.planner.rules)  # a rule acts in every stage
    latest: dict[tuple[str, int], tuple[date, ActionPlan]] = {}
    for day in days:
        at = local_moment(day, settings.time, zone, now)
        end = local_moment(day + timedelta(days=1), time(0), zone, now)
        stage = next((source for moved, source in moves if moved >= end), case.stage)  # that night
        for source, action, index in _due_then(run, facts, stage, at, day >= unreviewed):
            key = outbox_key(case.id, day, source, index)
            if key in window.done or (day.isoformat(), source) in told:
                continue
            missed = {"day": day.isoformat(), "step": source}
            if key in window.denied:
                retry = window.denied[key]
                if retry is not None:  # denied until a time no review reached that day
                    reason = f"denied until {retry.isoformat()}; not sent that day"
                    review.missed.append(missed | {"reason": reason})
                continue  # denied for good: journaled as such that day
            if key in window.intents and source in review.steps:
                continue  # an earlier review's open intent: recovery closes it
            if isinstance(action, TaskAction) and any(t.step == source for t in case.tasks):
                continue  # its task is still open: nothing is owed
            if source not in here:  # it does not act in the stage the case is in now
                review.missed.append(missed | {"reason": f"the case has left stage {stage}"})
            elif source in acting:
                review.missed.append(missed | {"reason": "the step acts at this review"})
            else:
                earlier = latest.get((source, index))
                if earlier is not None:
                    reason = f"acts once, for {day.isoformat()}"
                    review.missed.append(
                        {"day": earlier[0].isoformat(), "step": source, "reason": reason}
                    )
                latest[source, index] = (day, ActionPlan(source, action, key))
    for day, plan in latest.values():
        review.catching[plan.key] = {"day": day.isoformat(), "step": plan.source}
    return [plan for _, plan in latest.values()]


#: How far back a review at a retry's time looks for a change of the debtor's time zone
#: (`_after_a_move_west`): a retry is due within a day of the review that set it.
_MOVE_LOOKBACK: Final = timedelta(days=2)


def _after_a_move_west(
    run: _Run, review: _Review, case: Case, entries: Sequence[JournalEntry]
) -> None:
    """Keep the next regular review of a review at a retry's time off the days reviewed
    already in the zone the debtor left.

    A retry is kept at its time when the debtor moves (`arrears.planner.moved_review`);
    the review then would be due next at the review time of its own date in the new
    zone, and moved west that date may be one reviewed in the old zone already (its
    step sent under its key before the debtor's midnight where they are now, where the
    review no longer looks): it is due at the next one after that day instead.  Only
    reviews at a retry's time ask, and only the entries of the last two days are read.
    """
    since = run.now - _MOVE_LOOKBACK
    before: Case | None = None
    for entry in reversed(entries):
        if before is None and entry.at < since:
            return
        if before is None and entry.kind == "debtor_changed" and "timezone" in entry.data:
            old = entry.data["timezone"]["from"]
            debtor = case.debtor.model_copy(update={"timezone": ZoneInfo(old) if old else None})
            before = case.model_copy(update={"debtor": debtor})
        elif before is not None and entry.kind == "review":
            reviewed = review_day(run.policy, before, entry.at)
            upcoming = review.next_review or run.day(case).next_review
            while case.local_date(upcoming) <= reviewed:
                upcoming = run.planner.next_review(case, upcoming)
            review.next_review = upcoming
            return


def _out_of_hours_after_a_move(run: _Run, case: Case, due_at: datetime) -> bool:
    """Whether the case is due at once after a change of the debtor's time zone
    (`arrears.planner.moved_review`: *due_at* is that change's moment) and the policy's
    messages may not go out now where the debtor is.

    The move judged them in hours at its moment; the tick comes later (a move at
    21:30 in Shanghai, the next tick at 22:00).  Reviewed then, the day's message
    would be denied until the next day and journaled missed: the review waits for
    a second after the next review time instead, and catches the day up then, in
    its hours, under the day's key, as a move that found the day's hours over does.
    Only a case due off the review time reads its journal, back to *due_at*.
    """
    if _regular(run, case, due_at) or not places.due_at_once(run.rec, case.id, due_at):
        return False
    return places.denied_until(run.rec, case.id, run.now) is not None


def _moved_since(run: _Run, case: Case, entries: Sequence[JournalEntry], seq: int) -> date:
    """The first day without a review, in the debtor's zone now, after a change of time zone
    journaled after entry *seq*; `date.max` when none was.

    A move east across the review time leaves the case due after the next
    review time (`arrears.planner.moved_review`): the day it skipped had no
    review, so the steps of the case's stage now are owed on it too, as on a
    day an outage skipped.  The last review stood for the days up to its review day
    in the zone the first move left, whatever review time passed there before the
    move with no tick to review it; the next day on is unreviewed.
    """
    found = date.max
    reviewed: datetime | None = entries[seq].at  # in the zone the first move left
    for entry in entries[seq + 1 :]:
        change = entry.data.get("timezone") if entry.kind == "debtor_changed" else None
        if change is None:
            continue
        old = change["from"]
        debtor = case.debtor.model_copy(update={"timezone": ZoneInfo(old) if old else None})
        before = case.model_copy(update={"debtor": debtor})
        at = entry.at if reviewed is None else reviewed
        found = min(found, review_day(run.policy, before, at) + timedelta(days=1))
        reviewed = None
    return found


def _regular(run: _Run, case: Case, due_at: datetime) -> bool:
    """Whether *due_at* is the policy's review time on its day (not a retry's time)."""
    slot = local_moment(
        case.local_date(due_at), run.policy.review.time, case.debtor.timezone, due_at
    )
    return slot.astimezone(UTC) == due_at.astimezone(UTC)


def _due_then(
    run: _Run, facts: Facts, stage: str, at: datetime, unreviewed: bool
) -> Iterator[tuple[str, SendAction | TaskAction | str, int]]:
    """What applied on a day a review may have missed: (step or rule, action, index).

    The steps of the stage the case stood in that day and, on a day that
    surely had no review (*unreviewed*), those of the stage it stands in now
    (a review that did not run could not move it on), each judged at the
    day's review time on the case as it is now in that stage; then what the
    policy's Python rules return on the facts of that day (their triggers
    aside: escalations are judged now).
    """
    case = facts.case
    seen: set[str] = set()
    first: Facts | None = None
    for where in dict.fromkeys((stage, case.stage) if unreviewed else (stage,)):
        probe = case if where == case.stage else case.model_copy(update={"stage": where})
        then = run.rec.facts(probe, at)
        if first is None:
            first = then
        for step, step_id, test in run.planner.steps(facts.variant, where):
            if step_id not in seen:
                seen.add(step_id)
                if test(then):
                    yield step_id, step.action, 0
    assert first is not None
    for name, function in run.planner.rules:
        for index, action in enumerate(function(first) or ()):
            if not isinstance(action, str):
                yield name, action, index


def _pending(store: Store, case_id: str) -> list[OpenIntent]:
    """The case's open intents (`arrears.outbox.pending`); none without reading the chain
    when its newest entry is its opening or a review that left nothing open."""
    last = store.last_entry(case_id)
    if last.kind == "opened" or (last.kind == "review" and not last.data.get("open")):
        return []
    return pending(store.entries(case_id))


def _ask(run: _Run, case_ids: Sequence[str]) -> None:
    """Phase 0: ask the adapters what became of the open intents of *case_ids*.

    Outside any transaction, as the sends are: a delivery report may be a
    call to the provider.  The answers are kept by key for phase 1.
    """
    store = run.rec.store
    found: list[OpenIntent] = []
    with store.transaction():  # one read of the batch (the rows the review reads next)
        for case_id in case_ids:
            try:
                found.extend(_pending(store, case_id))
            except Exception:  # the review will meet (and report) the same problem
                continue
    for intent in found:
        if intent.key not in run.answers:
            run.answers[intent.key] = _asked(run, intent)


def _asked(run: _Run, intent: OpenIntent) -> _Asked:
    try:
        adapter = reviews.channel_for(run.rec, intent.channel)
        return _Asked(adapter.delivery(intent.key))
    except Exception as err:  # a status endpoint down: the intent stays open, asked again
        _log.bind().warning(
            "delivery_unknown",
            case_id=intent.case_id,
            channel=intent.channel,
            error=type(err).__name__,
        )
        return _Asked(None, type(err).__name__)


def _recover(run: _Run, review: _Review, intents: Sequence[OpenIntent]) -> bool:
    """Close open intents of an earlier review (or of one whose step no longer acts).

    With the adapter's delivery report: journaled as it says (delivered or
    failed).  When the adapter cannot say: sent again under its key when still
    warranted (`_warranted`), else journaled as ``unknown``.  An intent the
    adapter could not be asked about stays open, the case reviewed again at
    ``now + RETRY_AFTER``.  Returns whether anything was journaled.
    """
    rec, now = run.rec, run.now
    journaled = False
    unanswered: list[OpenIntent] = []
    for intent in intents:
        asked = run.answers.get(intent.key)
        if asked is None or asked.error is not None:
            review.open.add(intent.key)
            review.steps.add(intent.step)  # not again while its message's fate is unknown
            review.retry.append(_later(now))
            continue
        found = asked.report
        status = "unknown" if found is None else found.status
        if found is None or (status not in _ACCEPTED and status != "failed"):
            unanswered.append(intent)
            continue
        outcome = Outcome.DELIVERED if status in _ACCEPTED else Outcome.FAILED
        _close(run, intent, outcome, "report", found)
        review.steps.add(intent.step)
        journaled = True
    if not unanswered:
        return journaled
    case = rec.store.get(review.case_id)
    entries = rec.store.entries(review.case_id)
    for intent in unanswered:
        action = _action_of(run, case, intent.step, in_stage=True)
        if action is not None and _warranted(run, review, case, intent, action, entries):
            message = _message(case, intent.key, intent.data)
            review.sends.append(_Send(action, intent.key, message, step=intent.step))
            review.steps.add(intent.step)
        else:
            _close(run, intent, Outcome.UNKNOWN, "unanswered", None)
            run.report.unknown += 1
            journaled = True
    return journaled


def _close(
    run: _Run, intent: OpenIntent, outcome: Outcome, how: str, found: DeliveryReport | None
) -> None:
    """Journal the result of an open intent: the interaction under its key, marked recovered."""
    rec = run.rec
    case = rec.store.get(intent.case_id)
    action = _action_of(run, case, intent.step, in_stage=False)
    contact = intent.data.get("contact")
    if contact is not None and not any(point.id == contact for point in case.contacts):
        contact = None
    contacts.record_interaction(
        rec,
        intent.case_id,
        intent.channel,
        outcome,
        contact=contact,
        party=action.party if action is not None and contact is None else None,
        purpose=action.purpose if action is not None else None,
        automated=action.automated if action is not None else True,
        key=intent.key,
        provider_id=found.provider_id if found is not None else None,
        recovered=how,
        step=intent.step,
        reported_at=_aware(found.at) if found is not None else None,
        at=run.now,
    )
    run.report.recovered += 1


def _aware(moment: datetime | None) -> datetime | None:
    """A provider's time, kept only when it names its offset (a naive one says too little)."""
    return moment if moment is not None and moment.utcoffset() is not None else None


def _close_terminal(run: _Run, case_id: str, review: _Review | None = None) -> None:
    """A case that left review (terminal): close its open intents, then take it off the schedule.

    Nothing is sent again to a case that is closed, paid or settled: an
    intent the adapter cannot report on is journaled as ``unknown``.  The
    case stays on the schedule (retried at ``now + RETRY_AFTER``) while an
    intent could not be asked about, so no intent stays open for good.
    """
    store = run.rec.store
    left: set[str] = set()
    for intent in _pending(store, case_id):
        if review is not None and any(send.key == intent.key for send in review.sends):
            continue  # handed to its adapter in this review: phase 3 records it
        asked = run.answers.get(intent.key)
        if asked is None or asked.error is not None:
            left.add(intent.key)
            continue
        found = asked.report
        status = "unknown" if found is None else found.status
        if found is not None and status in _ACCEPTED:
            _close(run, intent, Outcome.DELIVERED, "report", found)
        elif found is not None and status == "failed":
            _close(run, intent, Outcome.FAILED, "report", found)
        else:
            _close(run, intent, Outcome.UNKNOWN, "unanswered", None)
            run.report.unknown += 1
    if review is not None:
        review.open |= left
    if review is not None and review.sends:
        return  # phase 3 schedules it
    store.schedule(case_id, _later(run.now) if left else None)


def _action_of(run: _Run, case: Case, step: str, *, in_stage: bool) -> SendAction | None:
    """The message action of the policy's step *step*: in the case's stage only, or in any."""
    for candidate in run.policy.steps_for(case.variant):
        if candidate.id != step or candidate.send is None:
            continue
        if not in_stage or candidate.stages is None or case.stage in candidate.stages:
            return candidate.send
    return None


def _warranted(
    run: _Run,
    review: _Review,
    case: Case,
    intent: OpenIntent,
    action: SendAction,
    entries: Sequence[JournalEntry],
) -> bool:
    """Whether an open intent the adapter cannot report on may be sent again now, under its key.

    Only when it is recent (`RESEND_DAYS`), its step still acts in the
    case's stage (checked by the caller), nothing since changed what it was
    sent for (`_STALE`: a transition, a payment, a hold, a promise…), no hold
    is in force, and compliance allows the same message now.
    """
    now = run.now
    if (case.local_date(now) - case.local_date(intent.at)).days > RESEND_DAYS:
        return False
    if any(entry.kind in _STALE for entry in entries[intent.seq + 1 :]):
        return False
    if any(hold.active_at(now) for hold in case.holds):
        return False
    contact = intent.data.get("contact")
    point = next((point for point in case.contacts if point.id == contact), None)
    if contact is not None and point is None:
        return False
    # Judged as when planned: the rendered text, or none when the engine rendered none
    # (the intent then holds the template's name or the purpose, for the host).
    rendered = reviews.renders(run.rec, intent.data.get("template"))
    proposal = proposal_for(action, point, str(intent.data["text"]) if rendered else None)
    rec = run.rec
    verdict = contacts.judge_contact(
        rec,
        case.id,
        proposal,
        at=now,
        record=False,
        resending=intent.key,
        debtor=lambda: review.debtor_of(rec, case),
    )
    return verdict.allowed


def _deliver(rec: Recorder, review: _Review, report: TickReport) -> None:
    """Phase 2: hand each message to its adapter (outside any transaction)."""
    for send in review.sends:
        try:
            result = reviews.channel_for(rec, send.message.channel).send(send.message)
            send.status, send.provider_id = result.status, result.provider_id
            send.retryable = result.retryable
        except Exception as err:  # an adapter bug must not lose the record
            _log.bind().warning(
                "adapter_error",
                case_id=review.case_id,
                channel=send.message.channel,
                error=type(err).__name__,
            )
            send.status, send.provider_id, send.retryable = "failed", None, True


def _finish(run: _Run, review: _Review) -> None:
    """Phase 3: journal each result (with its key) and the review with its next time."""
    rec, now, report = run.rec, run.now, run.report
    for send in review.sends:
        if send.status == "failed" and send.retryable:
            report.failed += 1
            review.open.add(send.key)
            review.retry.append(_later(now))  # no result: retried with the same key
            continue
        outcome = Outcome.FAILED if send.status == "failed" else Outcome.DELIVERED
        recovered = send.step is not None  # an earlier intent, sent again under its key
        contacts.record_interaction(
            rec,
            review.case_id,
            send.message.channel,
            outcome,
            contact=send.message.contact,
            party=None if send.message.contact is not None else send.action.party,
            purpose=send.action.purpose,
            automated=send.action.automated,
            key=send.key,
            provider_id=send.provider_id,
            recovered="resent" if recovered else None,
            step=send.step,
            at=now,
        )
        if outcome == Outcome.FAILED:
            report.failed += 1
        else:
            report.sent += 1
        report.recovered += recovered
    case = rec.store.get(review.case_id)
    if case.stage in run.terminal:  # an inbound reaction may have closed it
        _close_terminal(run, review.case_id)
        return
    day = run.day(case)
    chosen = day.next_review if review.next_review is None else review.next_review
    working = run.policy.review.is_working_day
    for moment in review.retry:  # no review on a day off: a retry then waits for the next
        if now < moment < chosen and working(case.local_date(moment)):
            chosen = moment
    _missed_on_days_off(review, day.today, chosen, working)
    if not _missed_news(rec, case, review) and not _journaled(rec, case, now, day):
        rec.store.schedule(review.case_id, chosen)
        return
    report.caught_up += len(review.caught_up)
    report.missed += len(review.missed)
    reviews.record_review(
        rec,
        review.case_id,
        next_review_at=chosen,
        sources=review.sources,
        segment=review.facts.segment,
        open_keys=sorted(review.open),
        missed=review.missed,
        caught_up=review.caught_up,
        at=now,
    )


def _missed_on_days_off(
    review: _Review, today: date, chosen: datetime, working: Callable[[date], bool]
) -> None:
    """Journal as missed each message denied until a day off before the next review.

    With ``business_days`` or ``holidays`` no review runs on a day off, so a
    message denied until then (a hold ending on a Saturday) is not sent for
    its day: the review that learns it says so, as the review at a retry's
    time on a later day would.
    """
    for retry, plan in review.denied:
        if retry < chosen and not working(review.facts.case.local_date(retry)):
            day = review.catching.get(plan.key, {}).get("day", today.isoformat())
            reason = f"denied until {retry.isoformat()}, a day without reviews; not sent that day"
            item = {"day": day, "step": plan.source, "reason": reason}
            if item not in review.missed:
                review.missed.append(item)


def _missed_news(rec: Recorder, case: Case, review: _Review) -> bool:
    """Whether the review has missed steps to journal that its case's newest review lacks.

    A review run again after a crash that came between its entry and its
    schedule finds its own entry there, with the same list, and journals
    nothing twice.
    """
    if not review.missed:
        return False
    last = rec.store.last_entry(case.id)
    return last.kind != "review" or last.data.get("missed") != review.missed


def _journaled(rec: Recorder, case: Case, now: datetime, day: _Day) -> bool:
    """Whether a review is journaled: when the case's newest entry is from today and not a review.

    So a review that recorded anything (or follows anything recorded today,
    such as a payment, or the case's opening) journals what the policy made of
    it, and a review that changed nothing only moves the case on the
    schedule: the journal holds what happened to the case, not every look at
    it.  The rule reads only the journal, so a review cut short by a crash
    and run again decides as the uninterrupted one would have.
    """
    last = rec.store.last_entry(case.id)
    if last.kind == "review":
        return False
    if case.debtor.timezone is None:  # no zone: each moment's date in its own offset
        return case.local_date(last.at) == day.today
    if last.at < day.start:  # an instant before the debtor's midnight (both in UTC: quick)
        return False
    return last.at <= now or case.local_date(last.at) == day.today  # later today: still today


def _keep_agreements(rec: Recorder, case: Case, now: datetime) -> bool:
    """Charges, promises and plans first: they may move the case before the policy acts.

    Returns whether there was anything to keep.
    """
    kept = False
    if case.terms is not None:
        charges.accrue(rec, case.id, at=now)
        kept = True
    if case.promise is not None and case.promise.is_open:
        agreements.review_promises(rec, case.id, at=now)
        kept = True
    if case.plan is not None and (
        case.plan.status == PlanStatus.ACTIVE or agreements.plan_ended_in_stage(rec, case)
    ):
        agreements.review_plan(rec, case.id, at=now)
        kept = True
    return kept


def _day_start(case: Case, now: datetime) -> datetime:
    return local_moment(case.local_date(now), time(0), case.debtor.timezone, now)


def _escalate(run: _Run, facts: Facts) -> tuple[Facts | None, list[ActionPlan] | None]:
    """Fire the escalations whose conditions hold, stage after stage (`MAX_ESCALATIONS` at most).

    The planner names them in the policy's order, then the triggers the
    Python rules return (before any step acts: a step's task is not opened in
    a stage the rule moves the case out of); the first the guards allow
    moves the case, and the escalations of its new stage are judged on fresh
    facts.  Returns those facts (``None`` when nothing fired) and what the
    rules returned on the facts the steps will read (``None`` when not asked).
    """
    moved: Facts | None = None
    planner = run.planner
    for _ in range(MAX_ESCALATIONS):
        fired = False
        for escalation in planner.holding(facts):
            if _fire(
                run.rec,
                facts.case,
                escalation.trigger,
                run.now,
                run.report,
                reason="policy escalation",
            ):
                fired = True
                break
        ruled: list[ActionPlan] | None = None
        if not fired and planner.rules:
            ruled = planner.ruled(facts)
            for plan in ruled:
                if isinstance(plan.action, str) and _fire(
                    run.rec,
                    facts.case,
                    plan.action,
                    run.now,
                    run.report,
                    reason=f"policy rule {plan.source}",
                ):
                    fired = True
                    break
        if not fired:
            return moved, ruled
        moved = facts = run.rec.facts(run.rec.store.get(facts.case.id), run.now)
    return moved, None


def _fire(
    rec: Recorder, case: Case, trigger: str, now: datetime, report: TickReport, *, reason: str
) -> bool:
    if case.stage not in rec.workflow.sources_of(trigger):
        return False
    try:
        stages.fire(rec, case.id, trigger, at=now, reason=reason)
    except TransitionDenied:
        report.refused += 1
        return False
    report.fired += 1
    return True


def _intend(
    rec: Recorder,
    case: Case,
    action: SendAction,
    plan: ActionPlan,
    intent: Mapping[str, Any] | None,
    facts: Facts,
    now: datetime,
    review: _Review,
    report: TickReport,
) -> None:
    """Judge a message with compliance and journal its intent (or find the earlier one)."""
    debtor = review.debtor_of(rec, case)  # once a review: judged, and carried opt-outs
    carried = opt_outs_elsewhere(case, debtor, rec.compliance)
    point = contact_for(case, action, facts.history, carried)
    if point is None and action.channel != Channel.LETTER and intent is None:
        report.unreachable += 1  # no usable address on this medium: nothing to send
        return
    if intent is None:
        asked = lambda: review.debtor_of(rec, case)  # noqa: E731
        text, subject = reviews.render(rec, case, action, facts, now, asked)
        proposal = proposal_for(action, point, text)
        verdict = contacts.judge_contact(rec, case.id, proposal, at=now, key=plan.key, debtor=asked)
        if not verdict.allowed:
            report.denied += 1
            report.blocked_by.update(verdict.rules)
            if verdict.next_allowed_at is not None:
                review.retry.append(verdict.next_allowed_at)
                review.denied.append((verdict.next_allowed_at, plan))
            return
        intent = reviews.record_intent(
            rec,
            case.id,
            key=plan.key,
            step=plan.source,
            channel=action.channel,
            contact=point.id if point is not None else None,
            template=action.template,
            # Without a template set the message is the template's name, for the host.
            text=text if text is not None else (action.template or action.purpose),
            subject=subject,
            purpose=action.purpose,
            party=None if point is not None else action.party,
            at=now,
        )
    review.sends.append(_Send(action, plan.key, _message(case, plan.key, intent)))


def _message(case: Case, key: str, intent: Mapping[str, Any]) -> OutboundMessage:
    """The message an intent journaled, to hand (again) to its adapter under *key*."""
    contact = intent.get("contact")
    address = case.contact(contact).address if contact is not None else None
    return OutboundMessage(
        key=key,
        case_id=case.id,
        channel=str(intent["channel"]),
        contact=contact,
        address=address,
        text=str(intent["text"]),
        subject=intent.get("subject"),
        template=intent.get("template"),
        locale=case.debtor.locale,
    )


def run_tick(
    rec: Recorder,
    now: datetime,
    *,
    limit: int | None = None,
    batch: int = 500,
    owner: str | None = None,
    lease_for: timedelta = timedelta(minutes=15),
) -> TickReport:
    """Review every case due at *now* (at most *limit*), *batch* cases at a time.

    Each batch is planned in one store transaction (intents journaled), then
    its messages are handed to the adapters, then the results and reviews are
    journaled in a second transaction (a review with no message is finished
    in the first).  With an *owner*, cases are leased
    (`Store.lease`), so several workers share one tick without overlap; a
    lease a dead worker held expires after *lease_for*.  The batch's last
    transaction gives its leases back (`Store.release` inside it); a SQL
    store refuses to commit a batch whose lease ran out and was taken by
    another worker (`LeaseLost`: its cases are reported as errors).
    """
    report = TickReport(now)
    run = _Run(rec, now, report)
    store = rec.store
    left = limit
    started = monotonic()
    while left is None or left > 0:
        size = batch if left is None else min(batch, left)
        if owner:
            # Leases run from the tick's moment: a batch taken late in a long tick
            # gets the time already spent on top, so it cannot look expired (never
            # beyond `LEASE`: `verify` reports a lease further ahead).
            spent = timedelta(seconds=monotonic() - started)
            chosen = store.lease(now, size, owner, min(lease_for + spent, LEASE))
        else:
            chosen = store.due(now, size)
        if not chosen:
            break
        if owner:
            _leased_batch(run, chosen, owner)
        else:
            _run_batch(run, chosen)
        if left is not None:
            left -= len(chosen)
    _log.bind().info(
        "tick",
        at=now.isoformat(),
        reviewed=report.reviewed,
        sent=report.sent,
        denied=report.denied,
        tasks=report.tasks,
    )
    return report


def _leased_batch(run: _Run, case_ids: Sequence[str], owner: str) -> None:
    """Review a batch leased to *owner*; its leases go back with its last commit (or
    after it, when the batch failed or lost its lease to another worker)."""
    store = run.rec.store
    try:
        if _run_batch(run, case_ids, owner):
            return
    except LeaseLost as lost:
        run.report.errors.extend((case_id, _said(lost)) for case_id in case_ids)
        _log.bind().warning("lease_lost", cases=len(case_ids), case_id=lost.case_id)
    except BaseException:
        with contextlib.suppress(Exception):  # the error that stopped the tick is the one told
            store.release(case_ids, owner)
        raise
    store.release(case_ids, owner)


def _run_batch(run: _Run, case_ids: Sequence[str], owner: str | None = None) -> bool:
    """Review a batch; with an *owner*, its last transaction gives its leases back.

    Returns whether that transaction committed.
    """
    store = run.rec.store
    _ask(run, case_ids)

    debtors: set[str] = set()

    def plan() -> list[_Review]:
        debtors.clear()
        debtors.update(_read_debtors(run, case_ids))
        run.reviewed_at(_batch_moment(run, debtors))
        found = (_guarded(run, case_id, _plan_and_settle) for case_id in case_ids)
        planned = [review for review in found if review is not None]
        if owner and not planned:  # no message to hand over: this is the batch's last
            store.release(case_ids, owner)
        return planned

    try:
        planned = _batch_phase(run, case_ids, plan)
        if planned is None:
            return False
        if not planned:
            return True
        for review in planned:
            _deliver(run.rec, review, run.report)

        def finish() -> list[_Review]:
            # The batch's debtors again, before its cases are read: in order, at once,
            # not one by one as each review is journaled.
            _hold(store, debtors)
            for review in planned:
                _guarded(run, review.case_id, _finisher(review))
            if owner:
                store.release(case_ids, owner)
            return planned

        return _batch_phase(run, [review.case_id for review in planned], finish) is not None
    finally:
        run.reviewed_at(run.moment)
        run.ahead = {}


def _batch_moment(run: _Run, debtors: Iterable[str]) -> datetime:
    """The moment a batch is reviewed at: the tick's, or the latest entry already journaled
    on a case of the batch's debtors when that is later, up to the engine's clock.

    A tick's moment is taken when it starts, and the tick then runs for a
    while; another worker whose tick began later, or a person recording what
    a debtor said, may journal entries dated after it before this batch is
    read (its debtors locked).  Judged at the earlier moment, the rules would
    leave out what those entries record (a message counted by a per-debtor
    cap, an opt-out, a conversation), and a case of its own could not be
    written at all (its chain runs forward in time).  The batch is reviewed
    at the later moment instead, which is when it really is reviewed.

    Never after the clock's now, though (when that is later than the tick's
    moment): an entry dated ahead of it (another machine's clock runs ahead,
    within `arrears.recorder.Recorder.future_tolerance`) would have a message
    judged at a moment not yet come, and sent before it (before contact hours
    begin).  The debtors with such an entry are not reviewed in this batch
    (`_Run.ahead`: their cases are reported and reviewed again at that entry's
    moment).
    """
    store = run.rec.store
    read = getattr(store, "latest_entries", None)  # a SQL store: one query
    if read is not None:
        latest: dict[str, datetime] = read(debtors)
    else:
        latest = {}
        for debtor_id in debtors:
            for case_id in store.cases_of(debtor_id):
                with contextlib.suppress(Exception):  # the review will meet (and report) it
                    at = store.last_entry(case_id).at
                    if debtor_id not in latest or at > latest[debtor_id]:
                        latest[debtor_id] = at
    moment = run.moment
    run.reviewed_at(moment)
    cap = run.latest()
    for at in latest.values():
        if moment < at <= cap:
            moment = at
    run.ahead = {debtor_id: at for debtor_id, at in latest.items() if at > moment}
    if moment != run.moment:
        _log.bind().info(
            "batch_moved",
            at=run.moment.isoformat(),
            reviewed_at=moment.isoformat(),
            seconds=(moment - run.moment).total_seconds(),
        )
    return moment


def _read_debtors(run: _Run, case_ids: Sequence[str]) -> set[str]:
    """The batch's debtors, locked (`_hold`); a SQL store reads their cases at once (the
    rules judging a message ask for them), rather than once for each case reviewed.

    The locks are taken in one statement with the read, before anything else about
    the debtors is read (`_batch_moment`): whatever another writer added to their
    cases (a contact, an opt-out, a hold) was committed before it, and is read, or
    waits for this phase to commit.
    """
    store = run.rec.store
    read = getattr(store, "read_debtors", None)
    held = getattr(store, "debtors_held", None)
    locked: set[str] = set()
    if held is not None:
        # The debtors of the copies read ahead, locked and read in one round trip, and
        # the copies checked with them: a case whose row names another debtor now (changed
        # by hand) is read again below, and its debtor locked then.
        locked = held(case_ids)
        _hold(store, locked)
        if read is not None:
            read(locked)
    debtors: set[str] = set()
    for case_id in case_ids:
        with contextlib.suppress(Exception):  # the review will meet (and report) it
            debtors.add(store.get(case_id).debtor.id)
    if held is not None and debtors <= locked:
        return debtors
    _hold(store, debtors)
    if read is not None:
        read(debtors)
    return debtors


def _hold(store: object, debtors: Collection[str]) -> None:
    """Lock a phase's *debtors* until it commits, on a store several processes write
    (`arrears.stores.PostgresStore.lock_debtors`: in debtor order, in one statement).

    More than `_LOCKED_AT_ONCE` debtors take the lock on every debtor instead (one
    lock, as a bulk open does: every other writer waits for the phase), unless
    the transaction holds a debtor already (a tick inside a host's unit of work):
    each debtor is locked then, in order.
    """
    lock = getattr(store, "lock_debtors", None)
    if lock is None:
        return
    if len(debtors) > _LOCKED_AT_ONCE:
        every = getattr(store, "lock_every_debtor", None)
        if every is not None and every():
            return
    lock(debtors)


#: The most debtors a phase locks one by one (each a lock of the database's lock table
#: until the phase commits); a larger batch locks every debtor at once.
_LOCKED_AT_ONCE: Final = 1_000


def _batch_phase(
    run: _Run, case_ids: Sequence[str], phase: Callable[[], list[_Review]]
) -> list[_Review] | None:
    """One phase of a batch in one store transaction, run again once if its commit conflicts.

    A store that writes at commit (`SQLiteStore`) may find a lost race only
    then, for the whole batch: nothing of the phase was stored, so it runs
    again on fresh copies, counted afresh.  After a second conflict its cases
    are reported as errors and reviewed again at ``now + RETRY_AFTER`` (a
    message delivered in phase 2 and not recorded goes again under its key).
    """
    store, report = run.rec.store, run.report
    try:
        for _ in range(2):
            run.report = TickReport(run.now)
            try:
                with run.rec.atomic():
                    done = phase()
            except ConcurrencyConflict:
                continue
            report.add(run.report)
            return done
    finally:
        run.report = report
    for case_id in case_ids:
        report.errors.append((case_id, "ConcurrencyConflict: the batch lost a race twice"))
        with store.transaction():
            store.schedule(case_id, _later(run.now))
    _log.bind().warning("batch_failed", cases=len(case_ids), error="ConcurrencyConflict")
    return None


def _plan_and_settle(run: _Run, case_id: str) -> _Review | None:
    """Phase 1 for one case; a review with no message to hand over is finished at once.

    Phases 2 and 3 exist for messages (results are journaled after the
    adapter answers); a review that only opened tasks, fired triggers or did
    nothing journals the same entries in the same order in phase 1's
    transaction, so its case is written once per batch, not twice.
    """
    review = _plan_review(run, case_id, due_only=True)
    if review is not None and not review.sends:
        _finish(run, review)
        return None
    return review


def _finisher(review: _Review) -> Callable[[_Run, str], None]:
    """Phase 3 for one case, at the batch's moment, or later when an entry was recorded on
    the case while its messages were with the adapters (a person logging a call): its
    results are journaled after that entry, as they came, up to the engine's clock."""

    def finish(run: _Run, case_id: str) -> None:
        moment = run.now
        last = run.rec.store.last_entry(case_id).at
        if moment < last <= run.latest():
            run.reviewed_at(last)
            try:
                _finish(run, review)
            finally:
                run.reviewed_at(moment)
            return
        _finish(run, review)

    return finish


def _guarded(
    run: _Run, case_id: str, phase: Callable[[_Run, str], _Review | None]
) -> _Review | None:
    """Run one case's phase in a nested transaction; retry once on a conflict; never raise."""
    rec = run.rec
    store = rec.store
    for attempt in range(2):
        try:
            with rec.atomic():  # a savepoint: a failed review takes back only its own writes
                return phase(run, case_id)
        except ConcurrencyConflict:
            if attempt == 0:
                continue  # the store dropped its copy: once more on a fresh one
            error: Exception = ConcurrencyConflict(case_id, -1)
        except Exception as err:
            error = err
        run.report.errors.append((case_id, _said(error)))
        _log.bind().warning("review_failed", case_id=case_id, error=type(error).__name__)
        store.schedule(case_id, _later(run.now))
        return None
    return None


def _said(error: Exception) -> str:
    """What the report says of a failed review: an `ArrearsError`'s message (built to
    carry no personal data), or only the type of any other error (a host's rule or an
    adapter may put anything of the case in its message)."""
    if isinstance(error, ArrearsError):
        return f"{type(error).__name__}: {error}"
    return f"{type(error).__name__} (its message is withheld: it may carry case data)"
