"""The one write path: every entry the engine records goes through `Recorder.record`.

A `Recorder` holds what every operation works with — the store, the stage
graph, the clock, the compliance rules, the policy and the people — and the
one way to change a case: `record` seals an entry on the case's chain,
applies it to the case through `arrears.events.apply_entry` (the same code
`replay` uses) and appends both to the store.  It keeps what the engine
remembers beside the store (each case's contact history, the open tasks) up
to date as it records, and drops it when a unit of work is rolled back.

`atomic` is the unit of work: one store transaction around everything an
operation records.  `operation` makes an engine method one: all of it is
stored or none of it, and a lost race (`ConcurrencyConflict`) is decided
again on the case as stored.  `detached` is how an operation's result
leaves the engine: as a copy the caller may change.

The operations themselves live in `arrears.operations`, one module per
concern; `arrears.engine.Engine` is the façade over them.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from functools import wraps
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, Protocol, TypeVar

from .case import Case, beyond_limit, one_debt
from .clock import Clock, require_aware
from .compliance import Compliance, ContactHistory, DebtorHistory
from .compliance.history import (
    ATTEMPT_KIND,
    INTENT_KIND,
    PERSON_KINDS,
    SETTLING_KINDS,
    Preference,
    attempt_of,
    intended,
)
from .errors import ConcurrencyConflict, InvalidInput, TooLong
from .events import apply_entry
from .journal import GENESIS, JournalEntry, seal
from .limits import (
    ACTOR_ID,
    ENTRY_TEXT,
    FUTURE_TOLERANCE,
    MAX_AMOUNT,
    MESSAGE,
    REASON,
    REFERENCE,
)
from .logs import get_logger
from .policy import Facts, Policy
from .store import Store
from .tasks import Agent, Task, merged
from .workflow import Workflow

if TYPE_CHECKING:
    from .channels import ChannelAdapter
    from .messages import TemplateSet
    from .settlements import ApprovalLimits

__all__ = ["ATTEMPTS", "Recorder", "detached", "detached_all", "operation"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_E = TypeVar("_E", bound=BaseException)

_log = get_logger("arrears")

#: The kinds of entry that change what a debtor's history keeps of a case beside its
#: contacts: its contact points' addresses and persons (``persons_changed``), the
#: jurisdictions the debtor's cases carry (``debtor_changed``).  The history is built
#: again after one.
REBUILDS_DEBTOR: Final = frozenset({"persons_changed", "debtor_changed"})

#: How many times an operation is decided again after losing a race, in all.
ATTEMPTS: Final = 5
#: Contact histories kept between judgments, at most (the most recently built).
_HISTORIES_KEPT: Final = 20_000


class Recorder:
    """What every operation works with, and the one way to record.

    Attributes:
        store: Where cases and the journal live.
        workflow: The stage graph every case follows.
        clock: The source of "now" when a call gives no ``at``.
        compliance: The rules that judge every proposed contact.
        policy: The lender's policy, if any.
        channels: The channel adapters messages are sent through.
        templates: The message templates the policy's steps name.
        agents: The people tasks are assigned to.
        approval_limits: The approval-limits table waivers and settlements use
            when given none.
        future_tolerance: How far after the clock's now an entry may be dated
            (`moment`); ``None`` allows any moment.
    """

    def __init__(
        self,
        *,
        store: Store,
        workflow: Workflow,
        clock: Clock,
        compliance: Compliance,
        policy: Policy | None,
        channels: tuple[ChannelAdapter, ...],
        templates: TemplateSet | None,
        agents: tuple[Agent, ...],
    ) -> None:
        self.store = store
        self.workflow = workflow
        self.clock = clock
        # The clock's now as `moment` last read it, the latest few: a moment passed on
        # from one (the same object, to a debtor's other loans) is the clock's reading too.
        self._clock_reads: deque[datetime] = deque(maxlen=16)
        self.compliance = compliance
        self.policy = policy
        self.channels = channels
        self.templates = templates
        self.agents = agents
        self.approval_limits: ApprovalLimits | None = None
        self.future_tolerance: timedelta | None = FUTURE_TOLERANCE
        # The open tasks (by debtor and id: a task covers loans of one debtor, and two
        # debtors' tasks may share an id a host gave) and how many each agent holds:
        # read from the store once, the first time they are asked for, then kept up
        # to date as tasks open, close and expire (`track_tasks`), so neither a task's
        # assignment nor listing the tasks reads every case.
        self.open_tasks: dict[tuple[str, str], Task] | None = None
        self.load: dict[str, int] = {}
        # Each open task's copies by the case holding it: a task covering several loans
        # of a debtor is held by each (`arrears.tasks.merged` makes the one listed).
        self._copies: dict[tuple[str, str], dict[str, Task]] = {}
        # Contact histories of the cases judged so far, kept up to date as entries
        # are recorded, so a judgment never re-reads the journal (bench: judge_contact).
        self._histories: dict[str, ContactHistory] = {}
        # The hash of the last entry each history folded in: a persistent store may
        # roll entries back (a failed savepoint) or another process may write, so a
        # history is only trusted while it ends where the store's chain does.
        self._folded: dict[str, str] = {}
        # Each debtor's contacts across their cases (for debtors with several), folded
        # as entries are recorded like the cases' histories; trusted while every case's
        # chain ends where the history's last fold of it did.
        self._debtors: dict[str, DebtorHistory] = {}
        # How deep in operations and atomic blocks the engine is (0: outside any),
        # and the refusal an operation journaled and is raising (see `atomic`).
        self.depth = 0
        self._refusal: BaseException | None = None
        self._unit = _Unit(self)

    # -- units of work ----------------------------------------------------------------
    def atomic(self) -> AbstractContextManager[None]:
        """One unit of work: everything recorded inside is stored, or nothing (`Engine.atomic`).

        A nested unit is a savepoint of the store's transaction.  A refusal the
        engine journaled on purpose (`refused`) is committed, then raised.
        """
        return self._unit

    def refused(self, error: _E) -> _E:
        """Mark *error* as a refusal whose entry was just journaled (see `atomic`)."""
        self._refusal = error
        return error

    def forget(self) -> None:
        """Drop what is kept beside the store after a unit of work was rolled back.

        The contact histories check themselves against the store's chain; the
        open tasks are read again from the store when next asked for.
        """
        self.open_tasks = None
        self.load = {}
        self._copies = {}

    # -- reading and recording -------------------------------------------------------
    def moment(self, case_id: str | None, at: datetime | None) -> datetime:
        """*at* (the clock's now when ``None``), checked: aware, in order, not in the future.

        Not before the case's last entry, and not more than `future_tolerance`
        after the clock's now.  An entry dated far ahead would stop the case: every later entry must
        come after it, so every payment, hold and tick until then would be refused.

        Raises:
            InvalidInput: a naive time, one before the case's last journal entry,
                or one too far after the clock's now (naming ``at``).
            ConcurrencyConflict: *at* is the clock's now (``None``, or a moment this
                method read from the clock, passed on to a debtor's other loans) and
                the case's last entry is after it but not after the clock's now read
                again: another writer recorded it while the operation waited for the
                debtor (a write across a debtor's loans reads the other loans once it
                holds the debtor).  The operation runs again, at the clock's new now.
        """
        if at is None:
            moment = self.clock.now()
            self._clock_reads.append(moment)
        else:
            moment = self.not_ahead(require_aware(at, "at"), "at")
        if case_id is not None:
            last = self.store.last_entry(case_id).at
            if moment < last:
                read = at is None or any(at is reading for reading in self._clock_reads)
                if read and self.clock.now() >= last:
                    raise ConcurrencyConflict(case_id, None)
                raise InvalidInput(
                    "at",
                    moment.isoformat(),
                    f"a time not before the case's last journal entry ({last.isoformat()})",
                )
        return moment

    def not_ahead(self, moment: datetime, field: str) -> datetime:
        """*moment*, unless it is more than `future_tolerance` after the clock's now.

        Raises:
            InvalidInput: it is, naming *field*, the moment and the latest allowed.
        """
        tolerance = self.future_tolerance
        if tolerance is not None:
            now = self.clock.now()
            if moment - now > tolerance:
                raise InvalidInput(
                    field,
                    moment.isoformat(),
                    f"a time no later than {tolerance} after the engine's clock "
                    f"({now.isoformat()}); set the clock, not the entry, to simulate the future",
                )
        return moment

    def lock_debtor(self, case: Case) -> None:
        """Hold the case's debtor against every other writer until the unit of work ends
        (``lock_debtors_now``, else ``lock_debtors``, on a store several processes write:
        `arrears.stores`), the lock a tick's batch takes before it reads about them.

        `record` takes it for every entry, so whatever a unit of work adds to a
        debtor's cases (a contact, an opt-out, a hold, a consent, a reply) is
        committed either before a batch locks the debtor, and read by its rules, or
        after that batch commits.  A write that judges by what the debtor's other
        cases hold (`arrears.operations.contacts.judge_contact`) takes it before it
        reads them.  It is taken at once (a round trip when not held yet): from the
        moment something is recorded, a batch reviewing the debtor waits for it.
        """
        store = self.store
        lock = getattr(store, "lock_debtors_now", None) or getattr(store, "lock_debtors", None)
        if lock is not None:
            lock((case.debtor.id,))

    def record(self, case: Case, at: datetime, kind: str, data: dict[str, Any]) -> JournalEntry:
        """Seal the next entry of the case's chain, apply it to *case*, and append both
        (its debtor held until the unit of work ends: `lock_debtor`).

        Raises:
            InvalidInput: a text in *data* is over its limit (`arrears.limits`),
                naming its key; or the entry would leave an amount of the case's
                balance, or the sum it owes, at or beyond `arrears.limits.MAX_AMOUNT`
                (charges accrued, a payment returned, a waiver owed again, credit
                piling up), naming it (``balance.penalty``, ``balance.owed``…) and
                its value.  Nothing is recorded; the unit of work is rolled back.
        """
        _texts_within(data, "")
        self.lock_debtor(case)
        store = self.store
        head = store.head(case.id)
        entry = seal(case.id, head.seq + 1, at, kind, data, head.hash)
        tasks_before = case.tasks
        balance = case.balance
        apply_entry(case, kind, at, data)
        if case.balance is not balance:
            _balance_within(case, kind)
        store.append(entry, case)
        if case.tasks is not tasks_before and self.open_tasks is not None:
            self.track_tasks(case.id, case.debtor.id, tasks_before, case.tasks)
        history = self._histories.get(case.id)
        if (
            history is not None
            and history.seq == entry.seq - 1
            and self._folded.get(case.id) == head.hash
        ):
            history.add(entry.seq, kind, at, data)
            self._folded[case.id] = entry.hash
        if self._debtors:
            debtor = self._debtors.get(case.debtor.id)
            if debtor is not None and debtor.folded.get(case.id) == (head.seq, head.hash):
                if kind in SETTLING_KINDS and "key" in data:
                    debtor.settle(case.id, data["key"])
                if kind == ATTEMPT_KIND:
                    debtor.add(attempt_of(at, data, case.id))
                elif kind == INTENT_KIND:
                    debtor.add(intended(at, data, case.id))
                elif kind in PERSON_KINDS:
                    debtor.state(case.id, kind, at, data)
                debtor.folded[case.id] = (entry.seq, entry.hash)
                if kind in REBUILDS_DEBTOR:  # addresses, persons or jurisdictions changed
                    del self._debtors[case.debtor.id]
        return entry

    def history(self, case_id: str) -> ContactHistory:
        """The recorder's own contact history of the case, brought up to date (not a copy)."""
        history = self._histories.get(case_id)
        head = self.store.head(case_id)
        if history is not None and history.seq >= head.seq:
            if history.seq > head.seq or self._folded.get(case_id) != head.hash:
                history = None  # it folded entries the store no longer holds (rolled back)
        elif history is not None:
            entries = self.store.entries(case_id)
            if history.seq < len(entries) and entries[history.seq].hash == self._folded.get(
                case_id
            ):
                history.extend(entries[history.seq + 1 :])
                self._folded[case_id] = entries[-1].hash
                return history
            history = None
        if history is None:
            entries = self.store.entries(case_id)
            history = ContactHistory.from_entries(entries)
            if len(self._histories) >= _HISTORIES_KEPT:
                # The oldest tenth goes: a tick over a million cases must not keep
                # a history for each (they are built again from the journal).
                for stale in list(self._histories)[: _HISTORIES_KEPT // 10]:
                    del self._histories[stale]
                    self._folded.pop(stale, None)
            self._histories[case_id] = history
            self._folded[case_id] = entries[-1].hash if entries else GENESIS
        return history

    def debtor_history(self, case: Case) -> DebtorHistory | None:
        """The contacts on every case of *case*'s debtor, brought up to date (not a copy).

        ``None`` when the case is the debtor's only one: its own history is
        theirs.  Kept between judgments and folded as entries are recorded;
        built again from the cases' histories when a case joined the debtor or
        a chain moved on outside this engine (another process, a rollback).
        """
        store = self.store
        debtor_id = case.debtor.id
        cases = store.cases_of(debtor_id)
        if len(cases) < 2:
            if self._debtors:
                self._debtors.pop(debtor_id, None)
            return None
        found = self._debtors.get(debtor_id)
        if found is not None and found.cases == tuple(cases):
            folded, head_of = found.folded, store.head
            for case_id in cases:
                if head_of(case_id) != folded.get(case_id):
                    break
            else:
                return found
        histories: dict[str, ContactHistory] = {}
        heads: dict[str, tuple[int, str]] = {}
        addresses: dict[str, dict[str, str]] = {}
        flagged: dict[str, list[Preference]] = {}  # contact points opted out on file
        persons: dict[str, dict[str, str]] = {}  # contact points' persons, by case
        stored: list[Case] = []
        for case_id in cases:
            histories[case_id] = self.history(case_id)
            head = store.head(case_id)
            heads[case_id] = (head.seq, head.hash)
            other = store.get(case_id)
            stored.append(other)
            addresses[case_id] = {point.id: point.address for point in other.contacts}
            persons[case_id] = {
                point.id: point.person for point in other.contacts if point.person is not None
            }
            opened = other.opened_at
            flagged[case_id] = [
                Preference(opened, point.channel, point.id)
                for point in other.contacts
                if point.opted_out and opened is not None
            ]
        places = (other.debtor.effective_jurisdiction for other in stored)
        found = DebtorHistory.merge(
            debtor_id,
            histories,
            heads,
            addresses,
            flagged,
            one_debt(stored),
            persons,
            tuple(dict.fromkeys(place for place in places if place is not None)),
        )
        if len(self._debtors) >= _HISTORIES_KEPT // 10:
            for stale in list(self._debtors)[: _HISTORIES_KEPT // 100]:
                del self._debtors[stale]
        self._debtors[debtor_id] = found
        return found

    def keeps_debtor(self, debtor_id: str, found: DebtorHistory) -> bool:
        """Whether *found* is still the history of *debtor_id* it keeps and folds entries into
        (not once `REBUILDS_DEBTOR` dropped it, or others' made it go)."""
        return self._debtors.get(debtor_id) is found

    def need_policy(self) -> Policy:
        """The policy.

        Raises:
            InvalidInput: the engine was built without one.
        """
        if self.policy is None:
            raise InvalidInput("policy", None, "an engine built with a policy (Engine(policy=...))")
        return self.policy

    def facts(self, case: Case, moment: datetime, *, detach: bool = False) -> Facts:
        """What the policy's conditions read about *case* at *moment*.

        The tick reads the working copies themselves; with *detach* (facts
        handed to a caller) the case, its history and its entries are copies.
        """
        case_id, store = case.id, self.store
        if detach:
            case = detached(case)

        def history() -> ContactHistory:
            found = self.history(case_id)
            return found.copy() if detach else found

        def entries() -> Sequence[JournalEntry]:
            found = store.entries(case_id)
            return detached_all(found) if detach else found

        return Facts(
            case,
            moment,
            history,
            entries=entries,
            variant=case.variant,
            segmenter=self.policy.segment_of if self.policy is not None else None,
        )

    # -- open tasks ---------------------------------------------------------------------
    def agent_load(self) -> dict[str, int]:
        """Open tasks per agent."""
        if not self.agents:
            return {}
        self.task_index()
        return self.load

    def task_index(self) -> dict[tuple[str, str], Task]:
        """The open tasks by debtor and id: read from the store once, then kept up to date."""
        if self.open_tasks is None:
            self.open_tasks = {}
            self._copies = {}
            for case_id in self.store.case_ids():
                case = self.store.get(case_id)
                self.track_tasks(case_id, case.debtor.id, (), case.tasks)
        return self.open_tasks

    def track_tasks(
        self, case_id: str, debtor_id: str, before: tuple[Task, ...], after: tuple[Task, ...]
    ) -> None:
        """Note the tasks a recorded entry opened, covered, closed or expired on *case_id*.

        A task counts once in its agent's load, however many cases of its
        debtor hold it; it leaves the index when the last of them no longer does.
        """
        index, load, copies = self.open_tasks, self.load, self._copies
        assert index is not None
        kept = {task.id for task in after}
        for task in before:
            if task.id not in kept:
                key = (debtor_id, task.id)
                held = copies.get(key)
                if held is not None:
                    held.pop(case_id, None)
                if held:
                    index[key] = merged(held)
                    continue
                copies.pop(key, None)
                index.pop(key, None)
                if task.assignee is not None:
                    load[task.assignee] = load.get(task.assignee, 0) - 1
        had = {task.id for task in before}
        for task in after:
            if task.id not in had:
                key = (debtor_id, task.id)
                held = copies.setdefault(key, {})
                if not held and task.assignee is not None:
                    load[task.assignee] = load.get(task.assignee, 0) + 1
                held[case_id] = task
                index[key] = merged(held)


#: The longest text an entry may hold under each key (`ENTRY_TEXT` under any other).
_TEXT_LIMITS: Final[dict[str, int]] = {
    "reason": REASON,
    "reference": REFERENCE,
    "actor": ACTOR_ID,
    "approver": ACTOR_ID,
    "text": MESSAGE,
    "subject": MESSAGE,
}
#: Texts this short are within every limit: the usual case, checked with one comparison.
_SHORTEST: Final = min(_TEXT_LIMITS.values())


def _texts_within(data: dict[str, Any], path: str) -> None:
    """Refuse an entry holding a text over its limit: the last guard of every free text.

    Each entry point checks its own inputs (`arrears.limits`); this catches
    any text that reaches the journal unchecked, naming its key.
    """
    for key, value in data.items():
        kind = type(value)
        if kind is str:
            if len(value) > _SHORTEST:
                limit = _TEXT_LIMITS.get(key, ENTRY_TEXT)
                if len(value) > limit:
                    raise InvalidInput(
                        path + key, TooLong(len(value)), f"at most {limit} characters"
                    )
        elif kind is dict:
            _texts_within(value, f"{path}{key}.")
        elif kind is list or kind is tuple:
            for index, item in enumerate(value):
                if type(item) is dict:
                    _texts_within(item, f"{path}{key}[{index}].")
                elif type(item) is str and len(item) > _SHORTEST:
                    _texts_within({f"{key}[{index}]": item}, path)


class _Unit(AbstractContextManager[None]):
    """What `Recorder.atomic` returns: one per recorder (the open store transactions it keeps).

    A class rather than a generator: the tick opens one for every case it
    reviews (a savepoint each).
    """

    __slots__ = ("_open", "_recorder")

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._open: list[AbstractContextManager[None]] = []

    def __enter__(self) -> None:
        recorder = self._recorder
        transaction = recorder.store.transaction()
        transaction.__enter__()
        self._open.append(transaction)
        recorder.depth += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        recorder = self._recorder
        transaction = self._open.pop()
        try:
            if kind is None or error is recorder._refusal:  # a journaled refusal is stored
                transaction.__exit__(None, None, None)
            else:
                transaction.__exit__(kind, error, trace)
                recorder.forget()
        except BaseException:
            recorder.forget()
            raise
        finally:
            recorder.depth -= 1
            if not recorder.depth:
                recorder._refusal = None


class _Recording(Protocol):
    """What `operation` needs of the object whose method it wraps: its recorder."""

    _recorder: Recorder


_O = TypeVar("_O", bound=_Recording)


def _balance_within(case: Case, kind: str) -> None:
    """Refuse the balance an entry of *kind* leaves *case* with when an amount of it is
    at or beyond `arrears.limits.MAX_AMOUNT`: stored, it would fail later (its arrears
    as `Money`, a reversal, a copy read back from a SQL store), far from its cause."""
    beyond = beyond_limit(case.balance)
    if beyond is not None:
        name, value = beyond
        raise InvalidInput(
            f"balance.{name}",
            str(value),
            f"less than {MAX_AMOUNT:,} units (arrears.limits.MAX_AMOUNT): the {kind} "
            f"would leave case {case.id} beyond what an amount may be",
        )


def operation(
    method: Callable[Concatenate[_O, _P], _R],
) -> Callable[Concatenate[_O, _P], _R]:
    """Make an engine method one unit of work: all of it is stored, or none of it.

    The method runs inside `Recorder.atomic`: every entry it records (a
    payment and the cure it causes, a promise and its transition…) and the
    case as it stands after them are written in one store transaction.  When
    the store reports that another writer changed the case first
    (`ConcurrencyConflict`), nothing was written: the method runs again on
    the case as now stored, up to `ATTEMPTS` times in all.  Called inside
    another operation or an atomic block, it joins that one (and its
    retries).  What it returns leaves as a copy (`detached`).
    """

    @wraps(method)
    def run(self: _O, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """The method, as one unit of work."""
        recorder = self._recorder
        if recorder.depth:
            return method(self, *args, **kwargs)
        attempt = 1
        while True:
            try:
                with recorder.atomic():
                    result = method(self, *args, **kwargs)
            except ConcurrencyConflict as conflict:
                if attempt == ATTEMPTS:
                    raise
                _log.bind().info(
                    "operation_retried",
                    operation=method.__name__,
                    case_id=conflict.case_id,
                    attempt=attempt,
                )
                attempt += 1
                continue
            return detached(result)

    return run


def detached(value: _R) -> _R:
    """What an operation returns, as a copy the caller may change without changing the store.

    Journal entries, cases and the data of an intent are copied; everything
    else an operation returns is immutable already (frozen models, named tuples).
    """
    found: Any = value
    if isinstance(found, JournalEntry):
        found = JournalEntry(found.case_id, found.seq, found.kind, found.at, found.body, found.hash)
    elif isinstance(found, Case):
        found = found.model_copy(deep=True)
    elif isinstance(found, dict):
        found = copy.deepcopy(found)
    result: _R = found
    return result


def detached_all(entries: Sequence[JournalEntry]) -> tuple[JournalEntry, ...]:
    """Copies of *entries* (see `detached`)."""
    return tuple(map(detached, entries))
