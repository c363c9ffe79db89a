"""`arrears run`: the tick on a cadence, in a process of its own, until it is told to stop.

A `Runner` ticks its engine every ``every`` (``[run]`` in ``arrears.toml``),
each tick one batch at a time under the worker's lease owner, so several
runners share a store without reviewing a case twice (`Store.lease`).  The
tick itself resolves the outbox intents an earlier, interrupted review left
open (its phase 0: `arrears.tick`).

Stopping: the first SIGTERM or SIGINT lets the batch under way finish (its
messages are sent and their results journaled), then the run stops (exit 0,
or 1 when a case review raised during the run).  A second one abandons the
batch at once (exit 4): that too loses nothing, as the outbox journals each
intent before its message is handed over, and the next review closes every
intent left open (``docs/operations.md``, "Outbox recovery").  SIGUSR1
prints a status line on standard output; the status file, when set, is
rewritten after every batch.

With a *start* moment the run is simulated: its clock (a `SettableClock`)
reads each tick's moment in turn, ``start``, ``start + every``…, with no wait
between ticks, up to *until*.  Tests and replays use it; the store is real.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

from .clock import Clock, SettableClock, SystemClock
from .logs import configured_for, get_logger
from .tick import TickReport

if TYPE_CHECKING:
    from .config import Config
    from .engine import Engine
    from .store import Store

__all__ = [
    "ABANDONED",
    "FAILING",
    "REFUSED",
    "REVIEWS_FAILED",
    "STOPPED",
    "RunStatus",
    "Runner",
    "engine_from_config",
    "logs_from",
]

_log = get_logger("arrears.run")

#: Exit statuses of ``arrears run``.
STOPPED: Final = 0
"""Stopped as asked (a signal, or ``--until`` reached), every batch finished."""
REVIEWS_FAILED: Final = 1
"""Stopped as asked, and at least one case review raised during the run (each was logged)."""
REFUSED: Final = 2
"""Refused to start: the configuration, the policy or the store is unusable, or an adapter is
missing for a channel the policy sends on."""
FAILING: Final = 3
"""Gave up: ``max_failures`` ticks in a row failed as a whole (the store out of reach)."""
ABANDONED: Final = 4
"""A second signal abandoned the batch under way (safe: see the module's text)."""

#: The counts a run adds up over its ticks (`RunStatus.totals`, with ``errors``).
_COUNTED: Final = ("reviewed", "sent", "failed", "denied", "tasks", "recovered")
#: The longest a wait between ticks goes without looking whether a stop was asked for.
_POLL: Final = 0.2


class _Abandoned(BaseException):
    """Raised in the main thread by a second stop signal: the batch under way is given up."""


@dataclass
class RunStatus:
    """What a run is doing: the status line and the status file say it.

    Attributes:
        owner: The lease owner.
        pid: The process.
        state: ``starting``, ``ticking``, ``waiting``, ``stopping``, ``stopped``,
            ``abandoned`` or ``failed``.
        started_at: When the run started (the system clock).
        ticks: Ticks finished.
        last_tick: The moment of the latest tick begun.
        next_tick: The moment of the next tick (the same as ``last_tick`` while
            that tick is under way or was cut short by a stop).
        last: The latest tick's report, as far as it got.
        totals: Counts over the whole run (``reviewed``, ``sent``, ``failed``,
            ``denied``, ``tasks``, ``recovered``, ``errors``).
        failures: Ticks in a row that failed as a whole.
        last_error: The type of the latest such failure.
    """

    owner: str
    pid: int = field(default_factory=os.getpid)
    state: str = "starting"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ticks: int = 0
    last_tick: datetime | None = None
    next_tick: datetime | None = None
    last: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*_COUNTED, "errors"), 0))
    failures: int = 0
    last_error: str | None = None

    def count(self, report: TickReport) -> None:
        """Add *report*'s counts to the totals."""
        for name in _COUNTED:
            self.totals[name] += getattr(report, name)
        self.totals["errors"] += len(report.errors)

    def to_json(self) -> dict[str, Any]:
        """The status as plain JSON values (what the status file holds)."""
        return {
            "owner": self.owner,
            "pid": self.pid,
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "updated_at": datetime.now(UTC).isoformat(),
            "ticks": self.ticks,
            "last_tick": _iso(self.last_tick),
            "next_tick": _iso(self.next_tick),
            "last": self.last,
            "totals": dict(self.totals),
            "failures": self.failures,
            "last_error": self.last_error,
        }

    def line(self) -> str:
        """One line for a person: state, ticks, the latest tick, the totals."""
        totals = " ".join(f"{name}={value}" for name, value in self.totals.items())
        return (
            f"arrears run {self.owner} pid={self.pid} state={self.state} ticks={self.ticks} "
            f"last_tick={_iso(self.last_tick)} next_tick={_iso(self.next_tick)} {totals} "
            f"failures={self.failures}"
        )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class Runner:
    """Tick *engine* every *every* until stopped.

    Args:
        engine: The engine, with its policy, its store and an adapter for
            every channel the policy sends on.
        every: The cadence.
        owner: The lease owner this worker reviews under.
        lease_for: How long a lease lasts.
        batch: Cases per batch: a stop waits for the batch under way.
        status_file: Rewritten (atomically) after every batch, when set.
        start: Simulate time from this moment: the engine's clock must be a
            `SettableClock`, set to each tick's moment; no wait between ticks.
        until: Stop before the first tick after this moment.
        max_failures: Ticks in a row that may fail as a whole before the run
            gives up (`FAILING`).
        out: Where the status line goes (a file descriptor: standard output).

    Raises:
        InvalidInput: *start* given with an engine whose clock is not a `SettableClock`.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        every: timedelta,
        owner: str,
        lease_for: timedelta = timedelta(minutes=15),
        batch: int = 500,
        status_file: Path | None = None,
        start: datetime | None = None,
        until: datetime | None = None,
        max_failures: int = 5,
        out: int = 1,
    ) -> None:
        from .errors import InvalidInput

        if every <= timedelta(0):
            raise InvalidInput("every", every, "a positive duration")
        if start is not None and not isinstance(engine.clock, SettableClock):
            raise InvalidInput("start", start, "an engine whose clock is a SettableClock")
        self.engine = engine
        self.every = every
        self.owner = owner
        self.lease_for = lease_for
        self.batch = batch
        self.status_file = status_file
        self.start = start
        self.until = until
        self.max_failures = max_failures
        self.status = RunStatus(owner)
        self._out = out
        self._stopping = False
        self._errors = False

    # -- signals ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop after the batch under way (what the first SIGTERM or SIGINT does)."""
        self._stopping = True
        if self.status.state not in ("stopped", "abandoned", "failed"):
            self.status.state = "stopping"

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        if self._stopping:
            raise _Abandoned(signal.Signals(signum).name)
        _log.bind().warning("run_stopping", signal=signal.Signals(signum).name)
        self.stop()

    def _on_status(self, _signum: int, _frame: FrameType | None) -> None:
        # os.write, not print: the main thread may be inside a buffered write.
        os.write(self._out, (self.status.line() + "\n").encode())

    @contextlib.contextmanager
    def signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT stop the run, SIGUSR1 prints the status line (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handlers: dict[signal.Signals, Callable[[int, FrameType | None], None]] = {
            signal.SIGTERM: self._on_stop,
            signal.SIGINT: self._on_stop,
        }
        if hasattr(signal, "SIGUSR1"):
            handlers[signal.SIGUSR1] = self._on_status
        saved = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
        try:
            yield
        finally:
            for signum, handler in saved.items():
                signal.signal(signum, handler)

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> int:
        """Tick until stopped; returns the exit status (`STOPPED`, `REVIEWS_FAILED`…)."""
        with self.signals():
            try:
                return self._loop()
            except _Abandoned as err:
                self.status.state = "abandoned"
                self._write_status()
                _log.bind().warning("run_abandoned", signal=str(err))
                return ABANDONED

    def _loop(self) -> int:
        clock = self.engine.clock
        status = self.status
        slot = self.start if self.start is not None else clock.now()
        _log.bind().info(
            "run_started",
            owner=self.owner,
            every=self.every.total_seconds(),
            simulated=self.start is not None,
        )
        while not self._stopping:
            if self.until is not None and slot > self.until:
                break
            status.next_tick = slot
            if self.start is not None:
                assert isinstance(clock, SettableClock)
                clock.set(slot)
                moment = slot
            else:
                if not self._wait_until(clock, slot):
                    break
                moment = clock.now()
            finished = self._tick(moment)
            if status.failures >= self.max_failures:
                status.state = "failed"
                self._write_status()
                _log.bind().error("run_failed", failures=status.failures, error=status.last_error)
                return FAILING
            if not finished:
                break  # cut short by a stop: the next run ticks this moment again
            slot = max(slot + self.every, moment) if self.start is None else slot + self.every
            status.next_tick = slot
            status.state = "waiting"
            self._write_status()
        status.state = "stopped"
        self._write_status()
        _log.bind().info("run_stopped", ticks=status.ticks, **status.totals)
        return REVIEWS_FAILED if self._errors else STOPPED

    def _wait_until(self, clock: Clock, slot: datetime) -> bool:
        """Wait (in real time) until *slot*; False when a stop was asked for meanwhile."""
        while not self._stopping:
            left = (slot - clock.now()).total_seconds()
            if left <= 0:
                return True
            time.sleep(min(left, _POLL))
        return False

    def _tick(self, moment: datetime) -> bool:
        """One tick at *moment*, batch after batch; False when a stop cut it short."""
        engine, status = self.engine, self.status
        store: Store = engine.store
        status.state = "ticking"
        status.last_tick = status.next_tick = moment
        report = TickReport(moment)
        started = time.monotonic()
        try:
            head = store.due(moment, 1)
            while head:
                if self._stopping:
                    return False
                part = engine.tick(
                    moment,
                    limit=self.batch,
                    batch=self.batch,
                    owner=self.owner,
                    lease_for=self.lease_for,
                )
                report.add(part)
                status.count(part)
                status.last = report.to_json()
                self._write_status()
                after = store.due(moment, 1)
                if after == head:  # the earliest due case did not move: nothing more to take
                    break
                head = after
        except Exception as err:
            status.failures += 1
            status.last_error = type(err).__name__
            _log.bind().error("tick_failed", at=moment.isoformat(), error=type(err).__name__)
            return True
        status.failures = 0
        status.ticks += 1
        status.last = report.to_json()
        self._errors = self._errors or bool(report.errors)
        _log.bind().info(
            "run_tick",
            at=moment.isoformat(),
            seconds=round(time.monotonic() - started, 3),
            reviewed=report.reviewed,
            sent=report.sent,
            failed=report.failed,
            denied=report.denied,
            tasks=report.tasks,
            recovered=report.recovered,
            errors=len(report.errors),
        )
        return True

    def _write_status(self) -> None:
        """Rewrite the status file (a temporary file renamed over it: never half written)."""
        path = self.status_file
        if path is None:
            return
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.status.to_json(), sort_keys=True) + "\n", "utf-8")
        os.replace(temporary, path)


def engine_from_config(
    config: Config, *, clock: Clock | None = None, store: Store | None = None
) -> Engine:
    """The engine a configuration describes: its policy, its store and its adapters.

    Args:
        config: The loaded ``arrears.toml``.
        clock: The engine's (and the adapters') clock; the system clock when omitted.
        store: The store, when already open; `Config.open_store` otherwise.

    Raises:
        PolicyInvalid: the policy does not load.
        ConfigInvalid: an adapter cannot be built.
        ChannelsMissing: the policy's steps send on a channel no adapter serves.
    """
    from .engine import Engine

    chosen = clock or SystemClock()
    policy = config.load_policy()
    adapters = config.build_adapters(clock=chosen)
    engine = Engine(
        policy=policy,
        store=store if store is not None else config.open_store(),
        clock=chosen,
        channels=adapters,
    )
    missing = engine.missing_channels()  # with no adapter at all the constructor does not check
    if missing:
        from .errors import ChannelsMissing

        raise ChannelsMissing(missing, ())
    return engine


@contextlib.contextmanager
def logs_from(config: Config) -> Iterator[None]:
    """Log as *config* says (`Config.configure_logging`) inside the block, then as before."""
    with configured_for(**config.logging_settings(sys.stderr)):
        yield
