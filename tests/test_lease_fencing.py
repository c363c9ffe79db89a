"""A worker whose lease ran out in the middle of a batch cannot commit the rest of it.

Worker 1 leases a case and journals its SMS intent (phase 1); while its
provider is slow to answer (phase 2), its lease runs out and worker 2 takes
the debtor, recovers the open intent under its key and finishes the review.
When worker 1's provider answers at last, its results and review must not
be stored over worker 2's: the store refuses the commit (`LeaseLost`), and
the tick reports the case and goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _postgres import contract_store
from arrears import Engine, SettableClock
from arrears.channels import OutboundMessage, RecordingChannel, SendResult
from arrears.policy import load_policy
from arrears.stores import SQLiteStore

POLICY = """\
id: lease-test
version: "1"
packs: [CN]
review: {time: "09:30"}
steps:
  - id: overdue-sms
    stages: [notified]
    when: {dpd_in: [1, 30]}
    send: {channel: sms}
"""
NOW = datetime(2026, 10, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
LEASE = timedelta(minutes=15)


class SlowProvider(RecordingChannel):
    """A provider that, at its first send, stalls while *meanwhile* runs."""

    def __init__(self) -> None:
        super().__init__(channels={"sms"})
        self.meanwhile: Callable[[], None] | None = None

    def send(self, message: OutboundMessage) -> SendResult:
        stall, self.meanwhile = self.meanwhile, None
        if stall is not None:
            stall()
        return super().send(message)


def _sqlite(folder: Path) -> SQLiteStore:
    return SQLiteStore(folder / "arrears.db")


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Any]:
    opener = _sqlite if request.param == "sqlite" else contract_store
    opened: list[Any] = []

    def make() -> Any:
        store = opener(tmp_path)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def test_a_worker_whose_lease_ran_out_cannot_commit_its_stale_batch(
    open_store: Callable[[], Any], tmp_path: Path
) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    policy = load_policy(tmp_path / "policy.yaml")
    provider = SlowProvider()
    first = Engine(policy=policy, store=open_store(), channels=[provider], clock=SettableClock(NOW))
    first.open_case(
        {
            "id": "L-1",
            "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "contacts": [{"id": "s", "channel": "sms", "address": "+8613912345678"}],
            "balance": {"currency": "CNY", "principal": "3000.00"},
            "due_date": "2026-10-01",
            "stage": "notified",
        },
        at=NOW - timedelta(hours=1),
    )
    later = NOW + LEASE + timedelta(minutes=1)  # the first worker's lease has run out
    second = Engine(
        policy=policy, store=open_store(), channels=[provider], clock=SettableClock(later)
    )
    taken_over: list[Any] = []
    provider.meanwhile = lambda: taken_over.append(second.tick(later, owner="w2", lease_for=LEASE))

    stale = first.tick(NOW, owner="w1", lease_for=LEASE)

    assert [(report.reviewed, report.errors) for report in taken_over] == [(1, [])]
    entries = second.store.entries("L-1")
    # The second worker's review stands: its next review is the one stored.
    chosen = datetime.fromisoformat(entries[-1].data["next_review_at"])
    assert second.store.next_review("L-1") == chosen
    assert [case_id for case_id, _ in stale.errors] == ["L-1"]
    assert stale.errors[0][1].startswith("LeaseLost")
    kinds = [entry.kind for entry in entries]
    # One intent (the first worker's), one result and one review (the second's).
    assert kinds.count("review") == 1
    assert len([entry for entry in entries if entry.data.get("key")]) == 2
    assert [message.key for message in provider.sent] == [entries[-3].data["key"]]
    assert entries[-1].kind == "review"
    assert entries[-1].at == later
