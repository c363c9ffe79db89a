"""Evidence: verifying the journal (against its own heads, its replay and, when
given, a signed checkpoint), taking checkpoints, exporting the journal (signed
when a key is given) and restoring an engine from an export, checked against
the workflow it was recorded under.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import IO, Final, NamedTuple

from pydantic import ValidationError

from ..case import Case
from ..checkpoints import Anchors, Checkpoint, CheckpointLog, make_checkpoint
from ..crosschain import DebtorChains
from ..errors import CaseUnreadable, InvalidInput, JournalCorrupted
from ..events import NEGATIVE, replay
from ..journal import Head, JournalEntry, JournalProblem, SealKey, verify_chain, write_jsonl
from ..limits import LEASE
from ..logs import get_logger
from ..planner import ZONE_MOVE
from ..recorder import Recorder
from ..signing import Key
from ..store import Store

_log = get_logger("arrears")

#: The longest gap between reviews any policy sets: ``review.every_days`` at most 366
#: days, then up to 62 days off skipped (`arrears.planner.next_regular_review`), and a
#: change of the debtor's time zone (`arrears.planner.ZONE_MOVE`).  `verify` reports a
#: review scheduled further than this after the clock (or the debtor's newest entry),
#: whatever the policy: a bound from the policy's own cadence would count from the last
#: tick's moment, which nothing journals (a review that changes nothing is not
#: journaled), so a verify with a clock behind the last tick would report honest stores.
LONGEST_GAP: Final = timedelta(days=366 + 62) + ZONE_MOVE


def latest_next_review(at: datetime, tolerance: timedelta | None) -> datetime:
    """The latest next review a review at *at* sets: `LONGEST_GAP` after it, with the
    engine's future *tolerance* (a review held back for an entry dated that far ahead
    counts from it).  `record_review` refuses a later one, and `verify` does not take a
    journaled review's word beyond it."""
    return at + (tolerance or timedelta(0)) + LONGEST_GAP


def reschedule(rec: Recorder, case_id: str) -> datetime:
    """Put an open case back on the review schedule, as its journal says: at the next review
    its last journaled review set (`last_review`; at its opening when it has none), so a
    time already past makes it due at once.  Any lease on it is dropped.  Returns the time.

    Raises:
        UnknownCase: no such case.
        InvalidInput: the case stands in a terminal stage (nothing to review).
    """
    store = rec.store
    case = store.get(case_id)
    if rec.workflow.is_terminal(case.stage):
        raise InvalidInput("case_id", case_id, f"an open case (it stands in {case.stage!r})")
    moment = last_review(store.entries(case_id), case, rec.future_tolerance)
    # Off the schedule first, each in a unit of work of its own: a SQL store deletes the
    # review row, and the lease with it, then writes the review afresh.
    store.schedule(case_id, None)
    store.schedule(case_id, moment)
    _log.bind().info("case_rescheduled", case_id=case_id, at=moment.isoformat())
    return moment


def check_recorded_name(rec: Recorder, case_id: str, entries: Sequence[JournalEntry]) -> None:
    """Refuse a chain recorded under a workflow of another name than the engine's."""
    workflow = rec.workflow
    recorded = [
        tuple(entry.data["workflow"])
        for entry in entries
        if entry.kind in ("opened", "transition") and "workflow" in entry.data
    ]
    for name, version in dict.fromkeys(recorded):
        if name != workflow.name:
            raise InvalidInput(
                "workflow",
                f"{workflow.name} {workflow.version}",
                f"the workflow case {case_id} was recorded under ({name} {version})",
            )


def check_recorded_workflow(rec: Recorder, case: Case, entries: Sequence[JournalEntry]) -> None:
    """Refuse a chain recorded under another workflow than the engine's (`from_journal`)."""
    workflow = rec.workflow
    check_recorded_name(rec, case.id, entries)
    if case.stage not in workflow.stages:
        raise InvalidInput(
            "workflow",
            f"{workflow.name} {workflow.version}",
            f"a workflow with stage {case.stage!r}, where case {case.id} stands",
        )


def last_review(
    entries: Sequence[JournalEntry], case: Case, tolerance: timedelta | None = None
) -> datetime:
    """When a restored case is reviewed next: as its last journaled review said, else at once.

    A review that changed nothing is not journaled, so the time may be earlier
    than the one the exporting store held; a review run early does not act twice
    (its actions' keys are per day).  A review that said later than any review sets
    (`latest_next_review`, with the engine's future *tolerance*) is not taken at its word.
    """
    said = _schedule_said(entries, tolerance)
    if said is not None:
        return said
    assert case.opened_at is not None
    return case.opened_at


def verify(rec: Recorder, anchors: Anchors | None = None) -> list[JournalProblem]:
    """Every problem of every chain against its recorded head, and of every case against its chain.

    A chain that holds is replayed, and the case the store keeps (what the
    engine acts on) must be the replay: a stored case edited beside its
    journal (a stage set to litigation, a principal lowered) is ``changed``,
    naming the fields that differ.  Then every debtor's chains that hold are
    judged together (`arrears.crosschain.DebtorChains`).  With *anchors* (a checkpoint's heads),
    every chain the checkpoint holds must still hold its checkpointed head
    (`Anchors.check`), and every case it holds must still be there
    (`Engine.verify`).
    """
    problems: list[JournalProblem] = []
    store = rec.store
    present: list[str] = []
    last: dict[str, int] = {}
    # Each open case, and where in *problems* its own end: its schedule is read after.
    open_at: list[_Open] = []
    # The newest entry on each debtor's chains that hold (a review held back waits for it).
    newest: dict[str, datetime] = {}
    across = DebtorChains()
    filing = getattr(store, "filed_debtors", None)
    filed = filing() if filing is not None else None
    for case_id, entries, row in _with_rows(store):
        present.append(case_id)
        head = store.head(case_id) if row is None else row[0]
        if anchors is not None:
            problems.extend(anchors.check(case_id, entries))
        if not entries:
            problems.extend(verify_chain(case_id, entries, head) or [_no_journal(case_id)])
            continue
        stored, unreadable = _stored_case(store, case_id, entries[-1].seq, row)
        try:
            # Verifies the chain against the head first, then every entry against the workflow.
            replayed = replay(entries, head, check=rec.workflow.entry_problem)
        except JournalCorrupted as corrupted:
            problems.extend(corrupted.problems)
            problems.extend(unreadable)
            debtor = stored.debtor.id if stored is not None else _opened_debtor(entries)
            if debtor is not None:
                across.skip(debtor)
            continue
        debtor = replayed.debtor.id
        if filed is not None and case_id in filed and filed[case_id] != debtor:
            problems.append(_misfiled(case_id, entries[-1].seq))
        across.add(debtor, case_id, entries)
        if debtor not in newest or newest[debtor] < entries[-1].at:
            newest[debtor] = entries[-1].at
        if stored is None:
            problems.extend(unreadable)
        else:
            problems.extend(stored_against_replay(entries, stored, replayed))
        if rec.workflow.is_terminal(replayed.stage):
            continue
        last[case_id] = entries[-1].seq
        said = _schedule_said(entries, rec.future_tolerance)
        open_at.append(_Open(case_id, len(problems), debtor, said))
    problems = _with_unscheduled(rec, problems, open_at, last, newest)
    problems.extend(_leased_too_long(rec, last))
    problems.extend(across.problems())
    if anchors is not None:
        problems.extend(anchors.missing(present))
    return problems


def _misfiled(case_id: str, seq: int) -> JournalProblem:
    """The problem of a case row filed under another debtor than its journal's."""
    detail = (
        "the stored row files the case under another debtor than its journal: the "
        "debtor's locks, caps and holds would miss it"
    )
    return JournalProblem(case_id, seq, "changed", detail)


class _Open(NamedTuple):
    """An open case whose schedule `verify` checks once every chain is done."""

    case_id: str
    end: int
    """How many problems stood once the case's own were found."""
    debtor: str
    said: datetime | None
    """When its last journaled review said it is reviewed next (``None``: never reviewed)."""


def _schedule_said(entries: Sequence[JournalEntry], tolerance: timedelta | None) -> datetime | None:
    """The next review a chain's last journaled review set, if any, and if no later than
    any review sets (`latest_next_review`): one further ahead was not the engine's (it
    refuses to record one), and lifts no bound."""
    for entry in reversed(entries):
        if entry.kind == "review":
            text = entry.data.get("next_review_at")
            if not isinstance(text, str):
                return None
            said = datetime.fromisoformat(text)
            return said if said <= latest_next_review(entry.at, tolerance) else None
    return None


def _with_unscheduled(
    rec: Recorder,
    problems: list[JournalProblem],
    open_at: Sequence[_Open],
    last: Mapping[str, int],
    newest: Mapping[str, datetime],
) -> list[JournalProblem]:
    """*problems* with ``unscheduled`` after each open case's own (*open_at*) that has no
    review scheduled, or one later than any policy schedules it (`LONGEST_GAP` after the
    clock, or after the debtor's newest entry when later; never before the next review
    the case's last journaled review set).

    A store with ``scheduled`` answers for every open case in one query; another
    is asked `next_review` of each.
    """
    store = rec.store
    ids = [item.case_id for item in open_at]
    batched = getattr(store, "scheduled", None)
    times: Mapping[str, datetime] = (
        batched(ids)
        if batched is not None
        else {case_id: at for case_id in ids if (at := store.next_review(case_id)) is not None}
    )
    now = rec.clock.now() + (rec.future_tolerance or timedelta(0))
    found: dict[str, str] = {}
    for item in open_at:
        at = times.get(item.case_id)
        if at is None:
            found[item.case_id] = (
                "an open case with no review scheduled: it would never be reviewed again"
            )
            continue
        # The latest moment a review of it may have run: the clock's now (with the
        # future tolerance), or the newest entry on its debtor's cases when later.
        debtor = newest.get(item.debtor)
        anchor = now if debtor is None or debtor <= now else debtor
        bound = anchor + LONGEST_GAP
        if item.said is not None and item.said > bound:
            bound = item.said
        if at > bound:
            found[item.case_id] = (
                f"an open case scheduled for review at {at.astimezone(UTC).isoformat()}, later "
                f"than the engine schedules it (at the latest {bound.astimezone(UTC).isoformat()}"
                "): no tick reviews it until then"
            )
    if not found:
        return problems
    merged: list[JournalProblem] = []
    done = 0
    for item in open_at:
        detail = found.get(item.case_id)
        if detail is None:
            continue
        merged.extend(problems[done : item.end])
        done = item.end
        merged.append(JournalProblem(item.case_id, last[item.case_id], "unscheduled", detail))
    merged.extend(problems[done:])
    return merged


def _leased_too_long(rec: Recorder, last: Mapping[str, int]) -> list[JournalProblem]:
    """``unscheduled``: the cases of *last* (an open case's chain, its last position) that a
    store with leases (``leased_beyond``) holds leased further ahead than any lease a tick
    grants (`arrears.limits.LEASE` after the clock, with the engine's future tolerance)."""
    leased_beyond = getattr(rec.store, "leased_beyond", None)
    if leased_beyond is None:
        return []
    bound = rec.clock.now() + (rec.future_tolerance or timedelta(0)) + LEASE
    return [
        JournalProblem(
            case_id,
            last[case_id],
            "unscheduled",
            f"leased until {until.isoformat()}, further ahead than any lease a tick grants "
            "(a day): no other worker reviews it until then",
        )
        for case_id, until in sorted(leased_beyond(bound))
        if case_id in last
    ]


#: How many chains `verify` reads the heads and stored cases of at once, on a store that
#: reads them together (``heads_and_cases``: one query a page, not two a case).
_PAGE: Final = 500


def _with_rows(
    store: Store,
) -> Iterator[tuple[str, Sequence[JournalEntry], tuple[Head, Case | CaseUnreadable] | None]]:
    """Every chain of *store* with its case's recorded head and stored case, read a page of
    chains at a time where the store reads them together (``heads_and_cases``); ``None``
    where it does not (`Store.head` and `Store.get` are asked of each)."""
    batched = getattr(store, "heads_and_cases", None)
    chains = store.chains()
    if batched is None:
        for case_id, entries in chains:
            yield case_id, entries, None
        return
    while page := list(islice(chains, _PAGE)):
        rows = batched([case_id for case_id, _ in page])
        for case_id, entries in page:
            yield case_id, entries, rows.get(case_id)


def _stored_case(
    store: Store,
    case_id: str,
    position: int,
    row: tuple[Head, Case | CaseUnreadable] | None = None,
) -> tuple[Case | None, list[JournalProblem]]:
    """The case *store* keeps for *case_id*, or the problem of a stored row that does not
    read as a case (edited by hand beside its journal): ``changed`` at the chain's last
    entry, naming the fields that do not read, never their values (the row holds personal
    data); ``negative`` for an amount below zero.  *row*: the head and case read with a page
    of others (`_with_rows`), when they were."""
    try:
        if row is None:
            return store.get(case_id), []
        if isinstance(row[1], CaseUnreadable):
            raise row[1]
        return row[1], []
    except CaseUnreadable as err:
        problems: list[JournalProblem] = []
        if err.negative:
            detail = f"the stored case holds a negative amount: {', '.join(err.negative)}"
            problems.append(JournalProblem(case_id, position, NEGATIVE, detail))
        rest = [name for name in err.fields if name not in err.negative]
        if rest:
            detail = f"the stored case does not read as a case: {', '.join(rest)}"
            problems.append(JournalProblem(case_id, position, "changed", detail))
        return None, problems


def _opened_debtor(entries: Sequence[JournalEntry]) -> str | None:
    """The debtor id of the case a chain's ``opened`` entry records, if it reads."""
    if entries[0].kind != "opened":
        return None
    try:
        return Case.model_validate_json(entries[0].data["case"]).debtor.id
    except (KeyError, TypeError, ValidationError):
        return None


def checkpoint(
    rec: Recorder,
    key: Key,
    previous: CheckpointLog | None = None,
    *,
    purged: Iterable[str] = (),
) -> Checkpoint:
    """A signed checkpoint of every chain's head as the store holds it now (`Engine.checkpoint`).

    Every chain is verified against its recorded head first and, with
    *previous*, against the last checkpoint's heads: a journal that does not
    hold is never checkpointed.

    Raises:
        JournalCorrupted: a chain does not hold, or no longer holds the last
            checkpoint's head; or *previous* does not hold.
        InvalidInput: as `arrears.checkpoints.make_checkpoint`.
    """
    anchors = previous.anchors() if previous is not None and previous.checkpoints else None
    if previous is not None and previous.problems:
        raise JournalCorrupted(previous.problems)
    store = rec.store
    gone = list(purged)
    problems: list[JournalProblem] = []
    heads: dict[str, tuple[int, str]] = {}
    at = rec.clock.now()
    for case_id, entries in store.chains():
        found = verify_chain(case_id, entries, store.head(case_id))
        problems.extend(found if found or entries else [_no_journal(case_id)])
        if anchors is not None:
            problems.extend(anchors.check(case_id, entries))
        if entries:
            heads[case_id] = (entries[-1].seq + 1, entries[-1].hash)
    if anchors is not None:
        problems.extend(anchors.missing([*heads, *gone]))
    if problems:
        raise JournalCorrupted(problems)
    return make_checkpoint(heads, key, at=at, previous=previous, purged=gone)


def _no_journal(case_id: str) -> JournalProblem:
    """A stored case without a journal whose head claims none: every case is stored with
    its opening entry, so this one was put there beside the engine (past whatever guards
    it stands beyond).  A head that claims entries is ``truncated`` instead."""
    return JournalProblem(case_id, 0, "removed", "the store holds the case but no journal")


def stored_against_replay(
    entries: Sequence[JournalEntry], stored: Case, replayed: Case
) -> list[JournalProblem]:
    """The problem of a stored case that is not its chain's replay (none when it is)."""
    kept, rebuilt = stored.model_dump(mode="json"), replayed.model_dump(mode="json")
    differ = sorted(
        name for name in kept.keys() | rebuilt.keys() if kept.get(name) != rebuilt.get(name)
    )
    if not differ:
        return []
    detail = f"the stored case differs from its journal's replay in: {', '.join(differ)}"
    return [JournalProblem(stored.id, entries[-1].seq, "changed", detail)]


def replay_case(rec: Recorder, case_id: str) -> Case:
    """The case rebuilt from its journal alone (`Engine.replay`)."""
    store = rec.store
    return replay(store.entries(case_id), store.head(case_id), check=rec.workflow.entry_problem)


def export(rec: Recorder, out: IO[str], key: SealKey | None = None) -> int:
    """Every chain as sealed JSON Lines, the seal signed by *key* when given
    (`Engine.export_journal`); the number of entries."""
    return write_jsonl(rec.store.chains(), out, key)


def restore(rec: Recorder, chains: Mapping[str, Sequence[JournalEntry]]) -> None:
    """Store every chain of an export, each case replayed from it (`Engine.from_journal`).

    Raises:
        JournalCorrupted: a chain's snapshot names another case, or an entry
            the workflow forbids (`arrears.workflow.Workflow.entry_problem`).
        InvalidInput: a chain was recorded under another workflow than *rec*'s.
    """
    store = rec.store
    for case_id, entries in chains.items():
        check_recorded_name(rec, case_id, entries)  # before its rules judge the chain
        try:
            case = replay(entries, check=rec.workflow.entry_problem)
        except JournalCorrupted:
            # A version of the workflow without the stage the case stands in says so
            # first: that, not a forgery, is the likelier cause.
            check_recorded_workflow(rec, replay(entries), entries)
            raise
        check_recorded_workflow(rec, case, entries)
        store.add(case, entries[0])
        for entry in entries[1:]:
            store.append(entry)
        if not rec.workflow.is_terminal(case.stage):
            store.schedule(case.id, last_review(entries, case))
        if case.id != case_id:
            raise JournalCorrupted(
                [JournalProblem(case_id, 0, "changed", "snapshot id differs from the chain")]
            )
