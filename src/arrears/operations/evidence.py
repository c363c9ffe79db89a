"""Evidence: restoring an engine from an exported journal, checked against the
workflow it was recorded under.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import IO

from ..case import Case
from ..errors import InvalidInput, JournalCorrupted
from ..events import replay
from ..journal import JournalEntry, JournalProblem, verify_chain, write_jsonl
from ..logs import get_logger
from ..recorder import Recorder

_log = get_logger("arrears")


def check_recorded_workflow(rec: Recorder, case: Case, entries: Sequence[JournalEntry]) -> None:
    """Refuse a chain recorded under another workflow than the engine's (`from_journal`)."""
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
                f"the workflow case {case.id} was recorded under ({name} {version})",
            )
    if case.stage not in workflow.stages:
        raise InvalidInput(
            "workflow",
            f"{workflow.name} {workflow.version}",
            f"a workflow with stage {case.stage!r}, where case {case.id} stands",
        )


def last_review(entries: Sequence[JournalEntry], case: Case) -> datetime:
    """When a restored case is reviewed next: as its last journaled review said, else at once.

    A review that changed nothing is not journaled, so the time may be earlier
    than the one the exporting store held; a review run early does not act twice
    (its actions' keys are per day).
    """
    for entry in reversed(entries):
        if entry.kind == "review":
            return datetime.fromisoformat(entry.data["next_review_at"])
    assert case.opened_at is not None
    return case.opened_at


def verify(rec: Recorder) -> list[JournalProblem]:
    """Every problem of every chain against its recorded head, and of every case against its chain.

    A chain that holds is replayed, and the case the store keeps (what the
    engine acts on) must be the replay: a stored case edited beside its
    journal (a stage set to litigation, a principal lowered) is ``changed``,
    naming the fields that differ (`Engine.verify`).
    """
    problems: list[JournalProblem] = []
    store = rec.store
    for case_id, entries in store.chains():
        head = store.head(case_id)
        if not entries:
            problems.extend(verify_chain(case_id, entries, head))
            continue
        try:
            replayed = replay(entries, head)  # verifies the chain against the head first
        except JournalCorrupted as corrupted:
            problems.extend(corrupted.problems)
            continue
        problems.extend(stored_against_replay(entries, store.get(case_id), replayed))
    return problems


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
    return replay(rec.store.entries(case_id), rec.store.head(case_id))


def export(rec: Recorder, out: IO[str]) -> int:
    """Every chain as sealed JSON Lines (`Engine.export_journal`); the number of entries."""
    return write_jsonl(rec.store.chains(), out)


def restore(rec: Recorder, chains: Mapping[str, Sequence[JournalEntry]]) -> None:
    """Store every chain of an export, each case replayed from it (`Engine.from_journal`).

    Raises:
        JournalCorrupted: a chain's snapshot names another case.
        InvalidInput: a chain was recorded under another workflow than *rec*'s.
    """
    store = rec.store
    for case_id, entries in chains.items():
        case = replay(entries)
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
