"""A tick killed at any step and run again sends every action exactly once and loses none.

`_crash_worker.py` runs the CN example policy over 30 cases for 20 days with a
journal and an SMS provider on disk.  A clean run lists every crash point it
passes; each scenario below kills a fresh run with SIGKILL at one of them
(chosen by what had just happened, early, half-way or late in the run), runs
it again to the end, and compares it with the clean run: every action's key
is in the provider's log exactly once, every chain verifies, every case ends
in the same stage, and the journal holds the same facts at the same moments.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import structlog

from _crash_worker import (
    CASES,
    DAYS,
    JOURNAL,
    POINTS,
    PROVIDER,
    FileStore,
    Run,
    portfolio,
    tick_moment,
)
from arrears import JournalCorrupted
from arrears.journal import JournalEntry

WORKER = Path(__file__).with_name("_crash_worker.py")
#: Each run of the worker takes about a second; it never needs this long.
TIMEOUT = 60


class Scenario(NamedTuple):
    """Kill a run at the crash point *fraction* of the way through those of *kind*.

    With *again*, kill the run that resumes it too, at its *again*-th crash point.
    """

    kind: str
    fraction: float
    again: int | None = None


#: What had just happened when the process died.
SCENARIOS: dict[str, Scenario] = {
    # Opening the portfolio: half a case written, the first case, all of them.
    "opening-torn": Scenario("torn opened", 0.5),
    "opening-first": Scenario("append opened", 0.0),
    "opening-last": Scenario("append opened", 1.0),
    # Tick boundaries: before the first review, between two days, after the last.
    "tick-start-first": Scenario("tick-start", 0.0),
    "tick-end-middle": Scenario("tick-end", 0.5),
    "tick-end-last": Scenario("tick-end", 1.0),
    # Between the intent and the delivery (the intent journaled, or half of it).
    "intent-early": Scenario("append outbox_intent", 0.0),
    "intent-middle": Scenario("append outbox_intent", 0.5),
    "intent-late": Scenario("append outbox_intent", 1.0),
    "intent-torn": Scenario("torn outbox_intent", 0.3),
    # Between the delivery and its result: delivered, the send not yet returned.
    "delivered-early": Scenario("delivered", 0.05),
    "delivered-middle": Scenario("delivered", 0.5),
    "delivered-late": Scenario("delivered", 0.95),
    # The result half written, or written and the review not yet.
    "result-torn": Scenario("torn interaction", 0.6),
    "result-written": Scenario("append interaction", 0.4),
    # Mid-review: after an escalation, a task, a denial.
    "escalated-early": Scenario("append transition", 0.1),
    "escalated-late": Scenario("append transition", 0.9),
    "escalation-torn": Scenario("torn transition", 0.5),
    "task-opened": Scenario("append task_opened", 0.5),
    "task-torn": Scenario("torn task_opened", 0.2),
    "denied": Scenario("append contact_denied", 0.5),
    "denied-torn": Scenario("torn contact_denied", 0.0),
    # Mid-tick: between two cases' reviews, or half a review written.
    "review-early": Scenario("append review", 0.02),
    "review-middle": Scenario("append review", 0.5),
    "review-late": Scenario("append review", 0.98),
    "review-torn": Scenario("torn review", 0.7),
    # Killed again while recovering.
    "twice-intent": Scenario("append outbox_intent", 0.2, again=300),
    "twice-delivered": Scenario("delivered", 0.3, again=41),
}


def _worker(directory: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WORKER), str(directory), *options],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _kind(what: str) -> str:
    words = what.split()
    return " ".join(words[:2]) if words[0] in ("torn", "append") else words[0]


@dataclass
class Clean:
    """The run nobody killed."""

    directory: Path
    points: list[tuple[int, str, str]]  # (number, what had happened, day)

    def kill_point(self, scenario: Scenario) -> tuple[int, str]:
        """The crash point a scenario kills at, and what had just happened there."""
        found = [
            (n, f"{what} ({day})") for n, what, day in self.points if _kind(what) == scenario.kind
        ]
        assert found, f"the clean run passes no crash point {scenario.kind!r}"
        return found[round(scenario.fraction * (len(found) - 1))]


@dataclass
class Crashed:
    """A run killed at *point* and run again to the end."""

    directory: Path
    point: int
    what: str
    killed: list[int]  # the return codes of the killed runs
    resumed: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Clean:
    directory = tmp_path_factory.mktemp("clean")
    done = _worker(directory, "--trace")
    assert done.returncode == 0, done.stderr
    points = []
    for line in (directory / POINTS).read_text().splitlines():
        number, what, day = line.split("\t")
        points.append((int(number), what, day))
    return Clean(directory, points)


def _crash(clean: Clean, base: Path, name: str) -> Crashed:
    scenario = SCENARIOS[name]
    point, what = clean.kill_point(scenario)
    directory = base / name
    killed = [_worker(directory, "--kill-after", str(point)).returncode]
    if scenario.again is not None:
        killed.append(_worker(directory, "--kill-after", str(scenario.again)).returncode)
    return Crashed(directory, point, what, killed, _worker(directory))


@pytest.fixture(scope="module")
def crashed(clean: Clean, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Crashed]:
    """Every scenario, run on as many cores as there are (each run is its own process)."""
    base = tmp_path_factory.mktemp("crashed")
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        runs = pool.map(lambda name: _crash(clean, base, name), SCENARIOS)
        return dict(zip(SCENARIOS, runs, strict=True))


def _delivered(directory: Path) -> list[str]:
    return [line.split("\t")[0] for line in (directory / PROVIDER).read_text().splitlines()]


@dataclass
class Rebuilt:
    """What a run left on disk, rebuilt as the worker does at start-up."""

    stages: dict[str, str]
    chains: dict[str, list[JournalEntry]]
    problems: list[Any]
    torn: int


def _rebuild(directory: Path) -> Rebuilt:
    run = Run(directory)
    try:
        engine = run.engine
        # Verified once the run is over: the schedule is judged from the clock.
        run.clock.set(tick_moment(DAYS))
        return Rebuilt(
            stages={case_id: engine.case(case_id).stage for case_id in run.store.case_ids()},
            chains={case_id: list(chain) for case_id, chain in run.store.chains()},
            problems=engine.verify(),
            torn=run.torn,
        )
    finally:
        run.close()


def _facts(chain: list[JournalEntry]) -> dict[str, Any]:
    """What a chain says happened, in the terms a resumed run must match exactly.

    Every entry but reviews and denials, in order and whole; every review by
    its moment and the next review it set (not by the steps it lists: a
    review finished after a crash lists those the resumed review acted on);
    every denial by its moment and key (a denial whose review was cut short
    is judged, and journaled, again).
    """
    return {
        "entries": [
            (entry.kind, entry.at.isoformat(), entry.data)
            for entry in chain
            if entry.kind not in ("review", "contact_denied")
        ],
        "reviews": [
            (entry.at.isoformat(), entry.data["next_review_at"])
            for entry in chain
            if entry.kind == "review"
        ],
        "denials": sorted(
            {
                (entry.at.isoformat(), entry.data.get("key", ""))
                for entry in chain
                if entry.kind == "contact_denied"
            }
        ),
    }


@pytest.fixture(scope="module")
def expected(clean: Clean) -> Rebuilt:
    return _rebuild(clean.directory)


def test_the_clean_run_does_what_the_policy_says(clean: Clean, expected: Rebuilt) -> None:
    delivered = _delivered(clean.directory)
    intents = [
        entry.data["key"]
        for chain in expected.chains.values()
        for entry in chain
        if entry.kind == "outbox_intent"
    ]
    assert expected.problems == []
    assert len(expected.stages) == CASES
    assert len(delivered) == len(set(delivered)) == len(intents) > 50
    assert set(delivered) == set(intents)
    kinds = Counter(_kind(what) for _, what, _ in clean.points)
    assert kinds["tick-start"] == kinds["tick-end"] == DAYS
    # Escalations, tasks and denials happen too, so killing there means something.
    assert kinds["append transition"]
    assert kinds["append task_opened"]
    assert kinds["append contact_denied"]
    assert set(expected.stages.values()) >= {"phone", "sms"}


def test_the_kill_points_cover_the_whole_run(clean: Clean) -> None:
    points = sorted({clean.kill_point(scenario)[0] for scenario in SCENARIOS.values()})
    assert len(points) >= 20
    assert points[0] <= len(clean.points) * 0.05
    assert points[-1] >= len(clean.points) * 0.95


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_killed_run_resumed_sends_each_action_once(
    name: str, clean: Clean, expected: Rebuilt, crashed: dict[str, Crashed]
) -> None:
    run = crashed[name]
    where = f"killed at crash point {run.point}: {run.what}"
    assert run.killed == [-signal.SIGKILL] * len(run.killed), where
    assert run.resumed.returncode == 0, f"{where}\n{run.resumed.stderr}"
    summary = json.loads(run.resumed.stdout.splitlines()[-1])
    assert summary["errors"] == [], where
    if run.what.startswith("torn") and SCENARIOS[name].again is None:
        assert summary["torn_bytes"] > 0, where  # the half-written line was cut off

    delivered = _delivered(run.directory)
    duplicates = [key for key, count in Counter(delivered).items() if count > 1]
    assert duplicates == [], where
    wanted = set(_delivered(clean.directory))
    assert sorted(wanted - set(delivered)) == [], f"{where}: never delivered"
    assert sorted(set(delivered) - wanted) == [], f"{where}: not in the clean run"

    rebuilt = _rebuild(run.directory)
    assert rebuilt.problems == [], where
    assert rebuilt.torn == 0, where
    assert rebuilt.stages == expected.stages, where


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_killed_run_resumed_journals_what_the_clean_run_did(
    name: str, expected: Rebuilt, crashed: dict[str, Crashed]
) -> None:
    run = crashed[name]
    where = f"killed at crash point {run.point}: {run.what}"
    rebuilt = _rebuild(run.directory)
    for case_id, chain in expected.chains.items():
        assert _facts(rebuilt.chains[case_id]) == _facts(chain), f"{where}: case {case_id}"


@pytest.fixture
def quiet() -> Iterator[None]:
    """Warnings only while the test runs in this process, as the worker logs.

    Unlike the worker's `quiet_logs`, nothing is cached on first use and the
    configuration is put back, so the tests after this one still see (and
    check) every log line.
    """
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    yield
    structlog.configure(**saved)


@pytest.mark.usefixtures("quiet")
def test_a_tick_run_twice_for_the_same_moment_sends_nothing_the_second_time(
    tmp_path: Path,
) -> None:
    run = Run(tmp_path)
    try:
        run.open_portfolio(portfolio())
        sent = 0
        for day in range(DAYS):
            first = run.tick(day)
            journal = (tmp_path / JOURNAL).read_bytes()
            delivered = _delivered(tmp_path)
            second = run.tick(day)
            assert (second["reviewed"], second["sent"], second["tasks"]) == (0, 0, 0)
            assert (tmp_path / JOURNAL).read_bytes() == journal
            assert _delivered(tmp_path) == delivered
            sent += first["sent"]
        assert sent == len(_delivered(tmp_path)) > 0
    finally:
        run.close()


@pytest.fixture
def journal(tmp_path: Path, quiet: None) -> Path:
    """A journal file of three cases after two ticks."""
    run = Run(tmp_path)
    try:
        run.open_portfolio(portfolio(3))
        run.tick(0)
        run.tick(1)
    finally:
        run.close()
    return tmp_path / JOURNAL


def test_a_torn_last_line_is_cut_off_at_start_up(journal: Path) -> None:
    whole = journal.read_bytes()
    last = whole[whole.rstrip(b"\n").rfind(b"\n") + 1 :]
    with journal.open("ab") as stream:
        stream.write(last[: len(last) // 2])  # a write the kill cut short
    store, torn = FileStore.load(journal)
    store.close()
    assert torn == len(last) // 2
    assert journal.read_bytes() == whole
    assert sum(len(chain) for _, chain in store.chains()) == whole.count(b"\n")


def test_a_journal_cut_mid_line_loses_only_that_entry(journal: Path) -> None:
    whole = journal.read_bytes()
    lines = whole.splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]) + lines[-1][:10])
    store, torn = FileStore.load(journal)
    store.close()
    assert torn == 10
    assert journal.read_bytes() == b"".join(lines[:-1])
    assert sum(len(chain) for _, chain in store.chains()) == len(lines) - 1


def test_a_line_cut_short_before_the_last_is_corruption_not_a_torn_write(
    journal: Path,
) -> None:
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3][:40] + b"\n"
    journal.write_bytes(b"".join(lines))
    with pytest.raises(JournalCorrupted):
        FileStore.load(journal)
