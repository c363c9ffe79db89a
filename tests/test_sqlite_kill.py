"""Two processes share a tick over one SQLite file; one is killed; every action goes out once.

The file holds `CASES` cases, each due for one SMS (the CN example policy's
reminder one day past due).  Two worker processes run ``engine.tick(now,
owner=…)`` on it at once, leasing batches of cases.  One of them is killed
with SIGKILL half-way: right after its provider delivered a message and
before the send returned (so the journal has the intent and no result), or
at a moment the test picks from outside.  The other finishes what it can;
the dead worker's leased batch waits until its lease expires, and a rerun
after that finishes it.  The provider stand-in appends every delivered
idempotency key to a file (fsynced) and answers "duplicate" for a key it
already delivered, as real gateways do.

Then: every case's message was delivered exactly once, every case has
exactly one recorded result, nothing is due any more, and `verify` passes.

Run as a script, this file is the worker::

    python tests/test_sqlite_kill.py DB PROVIDER_LOG OWNER NOW LEASE_SECONDS [KILL_AFTER]
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

HERE = Path(__file__).resolve()
POLICY = HERE.parents[1] / "examples" / "policies" / "cn_consumer_loan.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The tick's moment: 09:30 in Shanghai, one day after every case's due date.
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=SHANGHAI)
CASES = 2_000
#: Cases a worker leases at a time (and so at most what a dead worker leaves leased).
BATCH = 50
#: The lease, in the tick's time: the rerun comes after it.
LEASE = timedelta(seconds=60)
TIMEOUT = 120


class FileProvider:
    """An SMS gateway stand-in shared by processes: delivers each key once, on disk.

    Every delivered key is appended to *path* (``key<TAB>case<TAB>owner``) and
    fsynced under an exclusive lock before `send` returns; a key already in the
    file, whoever delivered it, is answered ``duplicate``.  With *kill_after*,
    the process kills itself right after that many deliveries, before the
    send returns; with a negative *kill_after* it stops there instead (sleeps)
    and waits to be killed from outside, so the kill cannot come too late.
    """

    channels = frozenset({"sms"})

    def __init__(self, path: Path, owner: str, kill_after: int | None = None) -> None:
        self.path = path
        self.owner = owner
        self.kill_after = kill_after
        self.delivered = 0
        self._file = path.open("a+b")
        self._known: set[str] = set()
        self._read = 0

    def close(self) -> None:
        self._file.close()

    def send(self, message: Any) -> Any:
        from arrears.channels import SendResult

        fcntl.flock(self._file, fcntl.LOCK_EX)
        try:
            self._file.seek(self._read)
            fresh = self._file.read()
            self._read += len(fresh)
            self._known.update(line.split(b"\t")[0].decode() for line in fresh.splitlines())
            if message.key in self._known:
                return SendResult("duplicate", f"sms-{message.key[:12]}", "already delivered")
            line = f"{message.key}\t{message.case_id}\t{self.owner}\n".encode()
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._read += len(line)
            self._known.add(message.key)
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self.delivered += 1
        if self.delivered == self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.kill_after is not None and self.delivered == -self.kill_after:
            time.sleep(TIMEOUT)  # mid-tick, a delivery not yet answered: kill me here
        return SendResult("sent", f"sms-{message.key[:12]}", "delivered")

    def delivery(self, key: str) -> None:
        return None


def work(db: Path, log: Path, owner: str, now: datetime, lease: float, kill: int | None) -> Any:
    """One worker: a tick over the shared file under *owner*; its report as JSON."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from arrears import Engine, SettableClock
    from arrears.policy import load_policy
    from arrears.stores import SQLiteStore

    provider = FileProvider(log, owner, kill)
    with SQLiteStore(db) as store:
        engine = Engine(
            policy=load_policy(POLICY), store=store, channels=[provider], clock=SettableClock(now)
        )
        report = engine.tick(now, owner=owner, batch=BATCH, lease_for=timedelta(seconds=lease))
    provider.close()
    return report.to_json()


def loans(count: int) -> list[dict[str, Any]]:
    due = (NOW - timedelta(days=1)).date().isoformat()
    return [
        {
            "id": f"L-{number:05d}",
            "debtor": {"id": f"D-{number:05d}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "contacts": [{"id": "sms", "channel": "sms", "address": f"+86139{number:08d}"}],
            "balance": {"currency": "CNY", "principal": f"{1000 + number}.00"},
            "due_date": due,
            "stage": "notified",
        }
        for number in range(count)
    ]


def build(db: Path) -> None:
    from arrears import Engine, SettableClock
    from arrears.stores import SQLiteStore

    opened = NOW - timedelta(hours=1)
    with SQLiteStore(db) as store:
        engine = Engine(store=store, clock=SettableClock(opened))
        with store.transaction():
            engine.open_cases(loans(CASES), at=opened)


#: The workers a test started: reaped after it, so a test that fails leaves no process or
#: open pipe behind (a pipe left open is reported in whichever test runs next).
_STARTED: list[Any] = []


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate()


def start(db: Path, log: Path, owner: str, now: datetime, kill: int | None = None) -> Any:
    args = [sys.executable, str(HERE), str(db), str(log), owner, now.isoformat()]
    args += [str(LEASE.total_seconds()), str(kill or 0)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _STARTED.append(process)
    return process


def finish(process: Any) -> dict[str, Any] | None:
    out, err = process.communicate(timeout=TIMEOUT)
    if process.returncode == -signal.SIGKILL:
        return None
    assert process.returncode == 0, err
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def check(db: Path, log: Path, after: datetime) -> None:
    """Every case delivered once and recorded once; nothing due; the journal verifies."""
    from arrears import Engine
    from arrears.stores import SQLiteStore

    lines = [line.split("\t") for line in log.read_text().splitlines()]
    keys = Counter(key for key, _, _ in lines)
    assert max(keys.values()) == 1, "a key was delivered twice"
    per_case = Counter(case_id for _, case_id, _ in lines)
    assert len(per_case) == CASES
    assert set(per_case.values()) == {1}
    with SQLiteStore(db) as store:
        engine = Engine(store=store)
        assert store.due(after) == []
        for case_id in store.case_ids():
            entries = engine.history(case_id)
            results = [entry.data for entry in entries if entry.kind == "interaction"]
            intents = [entry.data for entry in entries if entry.kind == "outbox_intent"]
            assert len(results) == 1, case_id
            assert len(intents) == 1, case_id
            assert results[0]["key"] == intents[0]["key"]
            assert keys[results[0]["key"]] == 1
            assert [entry.kind for entry in entries].count("review") == 1
        assert engine.verify() == []


@pytest.mark.parametrize("how", ["self-killed-after-a-delivery", "killed-from-outside"])
def test_two_workers_one_killed(tmp_path: Path, how: str) -> None:
    """One of two workers dies mid-tick; the other and a rerun deliver everything once."""
    db, log = tmp_path / "arrears.db", tmp_path / "provider.log"
    build(db)
    log.touch()
    if how.startswith("self"):
        doomed = start(db, log, "w1", NOW, kill=300)
        other = start(db, log, "w2", NOW)
    else:
        # It stops within its first batch and waits to be killed: started alone, it holds
        # that batch whatever the other worker takes once it starts (on a busy machine the
        # other could take every case before this one reached a later delivery).
        doomed = start(db, log, "w1", NOW, kill=-(BATCH // 2))
        deadline = time.monotonic() + TIMEOUT
        while log.read_text().count("\tw1\n") < BATCH // 2 and time.monotonic() < deadline:
            assert doomed.poll() is None, "the worker finished before it could be killed"
            time.sleep(0.01)
        other = start(db, log, "w2", NOW)
        while "\tw2\n" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)  # the two share the tick until the kill
        doomed.send_signal(signal.SIGKILL)
    assert finish(doomed) is None  # killed
    survivor = finish(other)
    assert survivor is not None
    assert not survivor["errors"]
    left = CASES - log.read_text().count("\n")
    # Before the dead worker's lease runs out, a new worker leaves its cases alone.
    early = finish(start(db, log, "w3", NOW + LEASE / 2))
    assert early is not None
    assert early["reviewed"] == 0
    # After it, a rerun takes them, sends what was not delivered, and records the rest.
    # A lease runs `lease_for` plus the time the tick had spent when it was taken (a
    # loaded machine may take seconds): a whole lease later, it has run out for sure.
    later = NOW + 2 * LEASE
    rerun = finish(start(db, log, "w3", later))
    assert rerun is not None
    assert not rerun["errors"]
    assert 0 < rerun["reviewed"] <= BATCH
    assert rerun["sent"] == rerun["reviewed"]  # "duplicate" answers count as sent
    assert CASES - log.read_text().count("\n") == 0 <= left
    check(db, log, later)


if __name__ == "__main__":
    db_arg, log_arg, owner_arg, now_arg, lease_arg, kill_arg = sys.argv[1:7]
    report = work(
        Path(db_arg),
        Path(log_arg),
        owner_arg,
        datetime.fromisoformat(now_arg),
        float(lease_arg),
        int(kill_arg) or None,
    )
    print(json.dumps(report))
