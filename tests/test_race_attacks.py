"""Writers racing on one debtor on PostgreSQL (two connections, as two processes have),
the second started while the first is in the middle of its unit of work: two reversals
of one payment to the debtor, a payment during a tick's batch, a lease lost while the
adapter sends, and a worker killed (SIGKILL) between a batch's intents and its finish."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from _postgres import debtor_locks, fresh_schema, pause_after_reading, postgres_url, run_sql
from arrears import Engine, InvalidInput, SettableClock
from arrears.channels import OutboundMessage, RecordingChannel
from arrears.policy import load_policy
from arrears.stores.postgres import PostgresStore
from test_debtor_money import T0, cny, two_writers
from test_postgres_store import CN_POLICY, SHANGHAI, cn_case


def cn_worker(
    stack: ExitStack, url: str, schema: str, sms: RecordingChannel, now: datetime
) -> Engine:
    """An engine of the CN example policy on its own connection to *schema* (a worker)."""
    return Engine(
        policy=load_policy(CN_POLICY),
        store=stack.enter_context(PostgresStore(url, schema=schema, max_size=2)),
        channels=[sms],
        clock=SettableClock(now),
    )


class TestTwoReversalsOfOnePayment:
    """A returned payment to the debtor reversed twice at once (a bank's return file
    loaded by two workers): each share is reversed once, and the other call is refused."""

    def test_each_share_is_reversed_once(self) -> None:
        url = postgres_url()
        later = T0 + timedelta(days=3)
        with ExitStack() as stack:
            one, other, engine = two_writers(stack, url)
            paid = engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1", at=T0)
            assert sorted(paid.shares) == ["L-1", "L-3"]
            racer = Engine(store=other, clock=SettableClock(T0))
            outcome: dict[str, object] = {}

            def second() -> None:
                try:
                    racer.reverse_debtor_payment("D-1", "B-1", at=later)
                    outcome["second"] = "reversed"
                except InvalidInput as err:
                    outcome["second"] = err

            thread = threading.Thread(target=second)
            pause_after_reading(one, "L-3", url, thread)
            try:
                engine.reverse_debtor_payment("D-1", "B-1", at=later)
                outcome["first"] = "reversed"
            except InvalidInput as err:
                outcome["first"] = err
            thread.join(timeout=30)
            assert sorted(str(value) == "reversed" for value in outcome.values()) == [False, True]
            refused = next(value for value in outcome.values() if isinstance(value, InvalidInput))
            assert (refused.field, refused.value) == ("reference", "B-1")
            fresh = Engine(store=other, clock=SettableClock(later))
            for case_id in ("L-1", "L-3"):
                kinds = [entry.kind for entry in fresh.history(case_id)]
                assert kinds.count("payment_reversed") == 1, case_id
            assert fresh.case("L-3").arrears == cny("500.00")
            assert fresh.verify() == []


class TestALeaseLostAfterTheSend:
    """Worker A's lease runs out while its adapter sends; worker B takes the case, and
    A's finish is refused (`LeaseLost`).  The message went once, and B records it once."""

    @pytest.mark.parametrize("b_runs", ["after_the_send", "before_the_send"])
    def test_the_message_goes_once_and_is_recorded_once(self, b_runs: str) -> None:
        url = postgres_url()
        now = datetime(2026, 9, 3, 9, 30, tzinfo=SHANGHAI)
        sms = RecordingChannel(channels=frozenset({"sms"}))  # one provider for both workers
        with ExitStack() as stack:
            schema = stack.enter_context(fresh_schema(url))
            a, b = (cn_worker(stack, url, schema, sms, now) for _ in range(2))
            a.open_case(cn_case("L-1", due="2026-09-02"))
            send = sms.send
            b_reports = []

            def b_takes_over() -> None:
                # A's lease of one minute ran out: B's tick, ten minutes on, leases the case.
                b_reports.append(b.tick(now + timedelta(minutes=10), owner="B"))

            def send_and_lose_the_lease(message: Any) -> Any:
                sms.send = send  # type: ignore[method-assign]
                if b_runs == "before_the_send":
                    b_takes_over()
                result = send(message)
                if b_runs == "after_the_send":
                    b_takes_over()
                return result

            sms.send = send_and_lose_the_lease  # type: ignore[method-assign]
            report = a.tick(now, owner="A", lease_for=timedelta(minutes=1))
            assert [case_id for case_id, _ in report.errors] == ["L-1"]
            assert "LeaseLost" in report.errors[0][1]
            assert len(sms.sent) == 1
            later = b.tick(now + timedelta(minutes=20), owner="B")  # nothing left to close
            assert not later.errors
            history = b.history("L-1")
            key = sms.sent[0].key
            results = [e for e in history if e.kind == "interaction" and e.data["key"] == key]
            intents = [e for e in history if e.kind == "outbox_intent" and e.data["key"] == key]
            assert (len(intents), len(results)) == (1, 1)
            assert len(sms.sent) == 1
            assert b.verify() == []


#: A worker that ticks with lease owner ``A`` and is killed (SIGKILL) inside the
#: adapter's second send: the batch's intents are committed, its finish never runs.
_KILLED_WORKER = """
import json, os, signal, sys
from datetime import datetime, timedelta
sys.path.insert(0, sys.argv[4])
from test_postgres_store import CN_POLICY, SHANGHAI
from arrears import Engine, SettableClock
from arrears.channels import RecordingChannel
from arrears.policy import load_policy
from arrears.stores.postgres import PostgresStore

url, schema, log = sys.argv[1:4]
now = datetime(2026, 9, 3, 9, 30, tzinfo=SHANGHAI)
sms = RecordingChannel(channels=frozenset({"sms"}))
send = sms.send

def send_then_die(message):
    result = send(message)
    with open(log, "a") as out:  # the provider's own record of what it accepted
        out.write(message.model_dump_json() + "\\n")
        out.flush()
        os.fsync(out.fileno())
    if len(sms.sent) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return result

sms.send = send_then_die
store = PostgresStore(url, schema=schema, max_size=2)
engine = Engine(
    policy=load_policy(CN_POLICY), store=store, channels=[sms], clock=SettableClock(now)
)
engine.tick(now, owner="A", batch=10, lease_for=timedelta(minutes=5))
"""


class TestAWorkerKilledMidBatch:
    """SIGKILL between a batch's intents and its finish: the next worker, once the lease
    ran out, reviews every case once, each message goes once, no debtor lock is held."""

    def test_the_next_worker_finishes_the_batch(self, tmp_path: Any) -> None:
        url = postgres_url()
        now = datetime(2026, 9, 3, 9, 30, tzinfo=SHANGHAI)
        log = tmp_path / "provider.log"
        with ExitStack() as stack:
            schema = stack.enter_context(fresh_schema(url))
            store = stack.enter_context(PostgresStore(url, schema=schema, max_size=2))
            sms = RecordingChannel(channels=frozenset({"sms"}))
            b = Engine(
                policy=load_policy(CN_POLICY), store=store, channels=[sms], clock=SettableClock(now)
            )
            for number in range(4):
                b.open_case(cn_case(f"L-{number}", due="2026-09-02"))
            tests = str(Path(__file__).parent)
            killed = subprocess.run(
                [sys.executable, "-c", _KILLED_WORKER, url, schema, str(log), tests],
                capture_output=True,
                timeout=120,
                check=False,
            )
            assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
            accepted = [
                OutboundMessage.model_validate_json(line) for line in log.read_text().splitlines()
            ]
            assert len(accepted) == 2
            for message in accepted:  # the provider remembers what it accepted
                sms.send(message)
            # The dead worker's connections are gone, and with them its locks.
            debtors = [f"D-L-{number}" for number in range(4)]
            deadline = time.monotonic() + 10
            while debtor_locks(url, schema=schema, debtors=debtors) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert debtor_locks(url, schema=schema, debtors=debtors) == 0
            report = b.tick(now + timedelta(minutes=10), owner="B")
            assert not report.errors
            assert report.reviewed == 4
            assert b.tick(now + timedelta(minutes=20), owner="B").reviewed == 0
            for number in range(4):
                history = b.history(f"L-{number}")
                intents = [e.data["key"] for e in history if e.kind == "outbox_intent"]
                results = [e.data["key"] for e in history if e.kind == "interaction"]
                assert sorted(intents) == sorted(results)
                assert len(set(intents)) == len(intents)
                assert [e.kind for e in history].count("review") == 1
            assert len(sms.sent) == len({message.key for message in sms.sent}) == 4
            assert b.verify() == []
            assert debtor_locks(url, schema=schema, debtors=debtors) == 0
            held = run_sql(
                url, schema, "SELECT count(*) FROM reviews WHERE lease_owner IS NOT NULL"
            )
            assert held == [(0,)]


class TestAPaymentDuringATick:
    """A payment to the debtor recorded by another process while a tick's batch is
    between its intents and its finish, or while it plans: neither write is lost."""

    @pytest.mark.parametrize("during", ["send", "plan"])
    def test_the_payment_and_the_review_are_both_kept(self, during: str) -> None:
        url = postgres_url()
        now = datetime(2026, 9, 3, 9, 30, tzinfo=SHANGHAI)
        sms = RecordingChannel(channels=frozenset({"sms"}))
        with ExitStack() as stack:
            schema = stack.enter_context(fresh_schema(url))
            a, b = (cn_worker(stack, url, schema, sms, now) for _ in range(2))
            for case_id in ("L-1", "L-2"):
                data = cn_case(case_id, due="2026-09-02")
                data["debtor"]["id"] = "D-1"
                a.open_case(data)
            outcome: dict[str, object] = {}

            def pay() -> None:
                paid = b.record_debtor_payment("D-1", cny("6240.00"), reference="P-1", at=now)
                outcome["paid"] = sorted(paid.shares)

            racer = threading.Thread(target=pay)
            if during == "send":
                send = sms.send

                def send_then_pay(message: Any) -> Any:
                    sms.send = send  # type: ignore[method-assign]
                    result = send(message)
                    racer.start()
                    racer.join(timeout=30)
                    return result

                sms.send = send_then_pay  # type: ignore[method-assign]
            else:
                pause_after_reading(a.store, "L-2", url, racer)
            report = a.tick(now, owner="A")
            racer.join(timeout=30)
            assert outcome["paid"] == ["L-1", "L-2"]
            assert not report.errors
            fresh = Engine(
                policy=load_policy(CN_POLICY),
                store=stack.enter_context(PostgresStore(url, schema=schema, max_size=2)),
                clock=SettableClock(now),
            )
            for case_id in ("L-1", "L-2"):
                kinds = [entry.kind for entry in fresh.history(case_id)]
                # Paid in full, the case is resolved: a review of a terminal case journals none.
                assert kinds.count("payment") == 1, kinds
                assert kinds.count("review") <= 1, kinds
                assert fresh.case(case_id).arrears.amount == 0
                assert fresh.replay(case_id) == fresh.case(case_id)
                intents = [
                    e.data["key"] for e in fresh.history(case_id) if e.kind == "outbox_intent"
                ]
                results = [e.data["key"] for e in fresh.history(case_id) if e.kind == "interaction"]
                assert sorted(intents) == sorted(results)
            assert len(sms.sent) == len({message.key for message in sms.sent})
            assert fresh.verify() == []
