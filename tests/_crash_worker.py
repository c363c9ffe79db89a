"""A collection run that keeps everything on disk and can be killed at any step.

    python tests/_crash_worker.py DIR [--kill-after N] [--trace]

runs a real `Engine` with the CN example policy over a small portfolio for
`DAYS` simulated days, one tick a day, and prints a JSON summary.  State lives
in *DIR*:

``journal.jsonl``
    Every journal entry as one canonical JSON line, written, flushed and
    fsynced before the store's ``add`` or ``append`` returns (`FileStore`).
``provider.log``
    Every SMS the "provider" delivered, by idempotency key, one a line
    (`SmsProvider`); a key it has already delivered is answered ``duplicate``.
``points.log``
    With ``--trace``: every crash point passed, numbered from 1, with what
    had just happened (the test picks its kill points from it).

A run started on a *DIR* that already holds a journal rebuilds the engine from
it (a torn last line, left by a kill in the middle of a write, is cut off),
opens the cases of the portfolio not yet opened, and runs the tick again for
the day of the newest journal entry (the tick that may have been cut short:
the cases it had reviewed are not due again, the others are reviewed at the
same moment as they would have been), then the days after it.

With ``--resume MODE`` a run started on a journal does not run the cut tick
again but goes on the NEXT day (``next-day``), after recording, an hour after
the cut tick, a payment of everything owed (``payment``: the arrears are
cleared), a promise to pay (``promise``: the case changes stage) or the
case's closing by a supervisor (``closed``: a terminal stage) on every case
with an open outbox intent (`arrears.outbox.open_intents`); its days run
to `DAYS` inclusive, so a run cut on the last day is resumed too.  With
``--no-reports`` the provider answers no delivery report (``delivery``
returns ``None``), as an adapter that cannot say.  With ``--store sqlite``
the cases and the journal live in an SQLite file (``arrears.db``, through
`CrashingSQLite`) instead: there an entry is on disk only when its
transaction commits, so a kill at an ``append`` point loses the uncommitted
rest of the tick's phase.  ``--no-fsync`` writes the files without fsync (a
killed process loses nothing the kernel has; only a power cut would).

With ``--kill-after N`` the process sends itself SIGKILL at the N-th crash
point.  The crash points are, in order of occurrence: the start and the end of
each day's tick; in the middle of writing each journal line (half of it
written and fsynced: a torn line); after each journal line is written; after
the provider has delivered an SMS, before the send returns.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final

import structlog

from arrears import Actor, Case, Engine, JournalCorrupted, MemoryStore, SettableClock
from arrears.channels import DeliveryReport, OutboundMessage, SendResult
from arrears.events import replay
from arrears.journal import JournalEntry, read_jsonl
from arrears.outbox import open_intents
from arrears.policy import load_policy
from arrears.stores import SQLiteStore

#: The CN example policy (its templates sit next to it).
POLICY: Final = (
    Path(__file__).resolve().parents[1] / "examples" / "policies" / "cn_consumer_loan.yaml"
)
#: The portfolio is opened at the first tick's moment: 12:00 in Shanghai.
START: Final = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
#: Days simulated, one tick a day at `START`'s time of day.
DAYS: Final = 20
#: Cases in the portfolio.
CASES: Final = 30

#: Who closes cases in the ``closed`` resume mode.
SUPERVISOR: Final = Actor("sup-1", frozenset({"supervisor"}))

JOURNAL: Final = "journal.jsonl"
DATABASE: Final = "arrears.db"
PROVIDER: Final = "provider.log"
POINTS: Final = "points.log"


class CrashPoints:
    """Counts the crash points passed; kills the process at the chosen one.

    Args:
        kill_after: Send SIGKILL to this process at this crash point (from 1).
        trace: Where to write every point passed, ``N<TAB>label`` a line.
    """

    def __init__(self, kill_after: int | None = None, trace: IO[str] | None = None) -> None:
        self.kill_after = kill_after
        self.trace = trace
        self.passed = 0
        self.label = ""  # what the process is doing, for the trace (the tick's day)

    def hit(self, what: str, before_kill: Callable[[], None] | None = None) -> None:
        """Pass a crash point; at the chosen one, run *before_kill* and die."""
        self.passed += 1
        if self.trace is not None:
            self.trace.write(f"{self.passed}\t{what}\t{self.label}\n")
        if self.passed == self.kill_after:
            if before_kill is not None:
                before_kill()
            os.kill(os.getpid(), signal.SIGKILL)


#: Whether writes are fsynced (``--no-fsync`` turns it off for speed).
FSYNC = True


def _durable_write(stream: IO[bytes], data: bytes) -> None:
    stream.write(data)
    stream.flush()
    if FSYNC:
        os.fsync(stream.fileno())


class FileStore(MemoryStore):
    """A `MemoryStore` whose every ``add``, ``append`` and ``schedule`` is also on disk.

    Entries go to a JSON Lines file (`JournalEntry.to_json_line`), flushed and
    fsynced; each schedule change to a second file beside it (a review that
    changes nothing is not journaled: only its new time is kept); `load`
    rebuilds the store from both.
    """

    __slots__ = ("_crash", "_file", "_schedule")

    def __init__(self, path: Path, crash: CrashPoints | None = None) -> None:
        super().__init__()
        self._crash = crash or CrashPoints()
        self._file = path.open("ab")
        self._schedule = path.with_suffix(".schedule").open("ab")

    def close(self) -> None:
        """Close the journal and schedule files."""
        self._file.close()
        self._schedule.close()

    def schedule(self, case_id: str, at: datetime | None) -> None:
        super().schedule(case_id, at)
        line = f"{case_id}\t{'' if at is None else at.isoformat()}\n"
        _durable_write(self._schedule, line.encode())

    def add(self, case: Case, opened: JournalEntry) -> None:
        super().add(case, opened)
        self._write(opened)

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        super().append(entry, case)
        self._write(entry)

    def _write(self, entry: JournalEntry) -> None:
        data = (entry.to_json_line() + "\n").encode()
        where = f"{entry.kind} {entry.case_id}#{entry.seq}"
        self._crash.hit(f"torn {where}", lambda: _durable_write(self._file, data[: len(data) // 2]))
        _durable_write(self._file, data)
        self._crash.hit(f"append {where}")

    @classmethod
    def load(cls, path: Path, crash: CrashPoints | None = None) -> tuple[FileStore, int]:
        """Rebuild a store from its journal file; returns it and the bytes of torn line cut off.

        Every chain is checked and replayed (`arrears.events.replay`).  A last
        line without its newline was being written when the process died: the
        store never accepted it, so it is cut off the file.

        Raises:
            JournalCorrupted: a line or a chain does not verify.
        """
        raw = path.read_bytes() if path.exists() else b""
        end = raw.rfind(b"\n") + 1
        torn = len(raw) - end
        if torn:
            with path.open("r+b") as stream:
                stream.truncate(end)
                stream.flush()
                os.fsync(stream.fileno())
        chains, problems = read_jsonl(raw[:end].decode().splitlines())
        # A live journal has no seal line: that is the one problem a good file has.
        problems = [problem for problem in problems if problem.problem != "unsealed"]
        if problems:
            raise JournalCorrupted(problems)
        planned = path.with_suffix(".schedule")
        lines = planned.read_text().split("\n")[:-1] if planned.exists() else []
        store = cls(path, crash)
        for entries in chains.values():
            case = replay(entries)
            MemoryStore.add(store, case, entries[0])  # already on disk: not written again
            for entry in entries[1:]:
                MemoryStore.append(store, entry)
        for line in lines:  # the last time written for a case wins; a torn line is ignored
            case_id, _, at = line.partition("\t")
            if case_id in store:
                MemoryStore.schedule(store, case_id, datetime.fromisoformat(at) if at else None)
        return store, torn


class CrashingSQLite(SQLiteStore):
    """An `SQLiteStore` with a crash point after each entry it is given (not yet committed)."""

    def __init__(self, path: Path, crash: CrashPoints | None = None) -> None:
        super().__init__(path)
        self._crash = crash or CrashPoints()

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        super().append(entry, case)
        self._crash.hit(f"append {entry.kind} {entry.case_id}#{entry.seq}")


class SmsProvider:
    """An SMS gateway that remembers, on disk, every key it delivered, as real ones do.

    A message under a key already delivered is answered ``duplicate`` and not
    delivered again.  Each delivery is appended to the log and fsynced before
    `send` returns (the crash point ``delivered`` sits between the two).
    """

    channels: frozenset[str] = frozenset({"sms"})

    def __init__(
        self, path: Path, crash: CrashPoints | None = None, *, reports: bool = True
    ) -> None:
        self._crash = crash or CrashPoints()
        self.reports = reports
        self.delivered: set[str] = set()
        if path.exists():
            self.delivered.update(line.split("\t")[0] for line in path.read_text().splitlines())
        self._log = path.open("ab")

    def close(self) -> None:
        """Close the delivery log."""
        self._log.close()

    @staticmethod
    def provider_id(key: str) -> str:
        """The gateway's id of the message sent under *key*."""
        return f"sms-{key[:12]}"

    def send(self, message: OutboundMessage) -> SendResult:
        """Deliver *message*, once per key."""
        if message.key in self.delivered:
            return SendResult("duplicate", self.provider_id(message.key), "already delivered")
        _durable_write(self._log, f"{message.key}\t{message.case_id}\n".encode())
        self.delivered.add(message.key)
        self._crash.hit(f"delivered {message.case_id} {message.key[:8]}")
        return SendResult("sent", self.provider_id(message.key), "delivered")

    def delivery(self, key: str) -> DeliveryReport | None:
        """``delivered`` for a key it delivered, else nothing (nothing at all without reports)."""
        if not self.reports or key not in self.delivered:
            return None
        return DeliveryReport(key, "delivered", provider_id=self.provider_id(key))


def portfolio(count: int = CASES) -> list[dict[str, Any]]:
    """*count* CN consumer loans with due dates from 25 days ago to 8 days ahead.

    Every fourth debtor has a payday (the 10th of the month); two live abroad,
    where the tick's moment is at night, so compliance denies their SMS.
    """
    today = START.date()
    records: list[dict[str, Any]] = []
    for number in range(count):
        due = today + timedelta(days=8 - (number * 37) % 34)
        debtor: dict[str, Any] = {
            "id": f"D-{number:03d}",
            "name": "王小明",
            "timezone": "America/New_York" if number in (5, 22) else "Asia/Shanghai",
            "locale": "zh-CN",
        }
        if number % 4 == 0:
            debtor["payday"] = "FREQ=MONTHLY;BYMONTHDAY=10"
        balance: dict[str, str] = {
            "currency": "CNY",
            "principal": f"{1000 + number * 997}.00",
            "interest": "52.10",
            "fees": "0",
            "penalty": "0",
        }
        if due >= today:
            balance["not_due"] = balance.pop("principal")
            balance["principal"] = "0"
        records.append(
            {
                "id": f"C-{number:03d}",
                "debtor": debtor,
                "contacts": [
                    {"id": "mobile", "channel": "call", "address": f"+86138{number:08d}"},
                    {"id": "sms", "channel": "sms", "address": f"+86139{number:08d}"},
                ],
                "balance": balance,
                "due_date": due.isoformat(),
            }
        )
    return records


def tick_moment(day: int) -> datetime:
    """The moment of the tick of day *day* (from 0)."""
    return START + timedelta(days=day)


class Run:
    """The engine, its store and its provider, rebuilt from *directory*."""

    def __init__(
        self,
        directory: Path,
        crash: CrashPoints | None = None,
        *,
        reports: bool = True,
        sqlite: bool = False,
    ) -> None:
        self.crash = crash or CrashPoints()
        self.store: FileStore | CrashingSQLite
        if sqlite:
            self.store, self.torn = CrashingSQLite(directory / DATABASE, self.crash), 0
        else:
            self.store, self.torn = FileStore.load(directory / JOURNAL, self.crash)
        self.provider = SmsProvider(directory / PROVIDER, self.crash, reports=reports)
        self.clock = SettableClock(START)
        self.engine = Engine(
            policy=load_policy(POLICY),
            store=self.store,
            channels=[self.provider],
            clock=self.clock,
        )
        for case_id in self.store.case_ids():
            case = self.store.get(case_id)
            if self.store.next_review(case_id) is None and not self.engine.workflow.is_terminal(
                case.stage
            ):  # opened, and the process died before its schedule line was written
                self.store.schedule(case_id, case.opened_at)

    def close(self) -> None:
        """Close the files."""
        self.store.close()
        self.provider.close()

    def latest(self) -> datetime | None:
        """The time of the newest journal entry, if any."""
        moments = [self.store.last_entry(case_id).at for case_id in self.store.case_ids()]
        return max(moments, default=None)

    def open_portfolio(self, records: Iterable[dict[str, Any]]) -> int:
        """Open the cases not opened yet, at `START`; returns how many."""
        missing = [record for record in records if record["id"] not in self.store]
        if missing:
            latest = self.latest()
            assert latest is None or latest == START, "cases missing after the ticks began"
            self.crash.label = "opening"
        return self.engine.open_cases(missing, at=START)

    def first_day(self) -> int:
        """The day whose tick runs first: the day of the newest entry (it may be cut short)."""
        latest = self.latest()
        return 0 if latest is None else (latest - START) // timedelta(days=1)

    def open_cases(self) -> list[str]:
        """The cases with an open outbox intent, in id order."""
        return sorted({intent.case_id for intent in open_intents(self.store.chains())})

    def disturb(self, mode: str, day: int) -> list[str]:
        """Change the cases with an open intent an hour after day *day*'s tick, as *mode* says.

        ``payment``: everything owed is paid (the case is cured);
        ``promise``: a promise to pay it in a week (the case moves to ``promise``
        where the stage allows); ``closed``: a supervisor closes the case
        (terminal).  Returns the cases changed.
        """
        moment = self.clock.set(tick_moment(day) + timedelta(hours=1))
        self.crash.label = f"after day {day}"
        changed = self.open_cases()
        for case_id in changed:
            case = self.store.get(case_id)
            if self.engine.workflow.is_terminal(case.stage):
                continue
            if mode == "payment":
                self.engine.record_payment(case_id, case.balance.outstanding, at=moment)
            elif mode == "promise":
                due = case.local_date(moment) + timedelta(days=7)
                self.engine.record_promise(case_id, case.balance.outstanding, due, at=moment)
            elif mode == "closed":
                self.engine.fire(case_id, "close", actor=SUPERVISOR, at=moment, reason="recalled")
        return changed

    def tick(self, day: int) -> dict[str, Any]:
        """Run the tick of day *day*; its report as JSON."""
        now = self.clock.set(tick_moment(day))
        self.crash.label = f"day {day}"
        self.crash.hit("tick-start")
        report = self.engine.tick(now)
        self.crash.hit("tick-end")
        return report.to_json()


def quiet_logs() -> None:
    """Log warnings only (the engine logs every entry at info)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Open the portfolio (or resume), run the ticks to the end, print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--kill-after", type=int, default=None, metavar="N")
    parser.add_argument("--trace", action="store_true", help="write every crash point passed")
    parser.add_argument(
        "--resume",
        choices=["same-day", "next-day", "payment", "promise", "closed"],
        default="same-day",
    )
    parser.add_argument("--no-reports", action="store_true", help="the provider reports nothing")
    parser.add_argument("--store", choices=["file", "sqlite"], default="file")
    parser.add_argument("--no-fsync", action="store_true", help="write without fsync")
    args = parser.parse_args(argv)
    quiet_logs()
    global FSYNC
    FSYNC = not args.no_fsync
    directory: Path = args.directory
    directory.mkdir(parents=True, exist_ok=True)
    trace = (directory / POINTS).open("w") if args.trace else None
    sqlite = args.store == "sqlite"
    resuming = (directory / (DATABASE if sqlite else JOURNAL)).exists()
    run = Run(
        directory,
        CrashPoints(args.kill_after, trace),
        reports=not args.no_reports,
        sqlite=sqlite,
    )
    opened = run.open_portfolio(portfolio())
    first = run.first_day()
    days = range(first, DAYS)
    open_before = len(open_intents(run.store.chains()))
    changed: list[str] = []
    if resuming and args.resume != "same-day":
        if args.resume in ("payment", "promise", "closed"):
            changed = run.disturb(args.resume, first)
        days = range(first + 1, max(DAYS, first + 2))
    reports = [run.tick(day) for day in days]
    run.close()
    if trace is not None:
        trace.close()
    summary = {
        "torn_bytes": run.torn,
        "opened": opened,
        "first_day": first,
        "ticks": len(reports),
        "reviewed": sum(report["reviewed"] for report in reports),
        "sent": sum(report["sent"] for report in reports),
        "denied": sum(report["denied"] for report in reports),
        "tasks": sum(report["tasks"] for report in reports),
        "recovered": sum(report["recovered"] for report in reports),
        "unknown": sum(report["unknown"] for report in reports),
        "open_before": open_before,
        "changed": changed,
        "errors": [error for report in reports for error in report["errors"]],
        "crash_points": run.crash.passed,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
