"""One side of a two-process race on one store (run by test_write_path.py).

    python tests/_race_worker.py ROLE TARGET SCHEMA CASES ROUNDS SEED

``payer`` records payments (each under a reference of its own; some sent
again with the same amount, as a host retries after a timeout, and some
again with another amount, which must be refused), promises and waivers on
random cases.  ``agent`` records calls on the same cases and runs a tick
every few calls.  *TARGET* is an SQLite file or a PostgreSQL URL (then
*SCHEMA* is the schema; ``-`` for SQLite).  Both use the system clock.

Prints ``ready``, waits for a line on standard input (so both start
together), then prints one JSON line per call: ``op``, ``case``, ``marker``
(the payment's reference, the call's provider id or the waiver's reason,
by which the test finds what was recorded), ``ok`` and ``error`` (the
error's class when the call raised).
"""

from __future__ import annotations

import json
import logging
import random
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from arrears import (
    Actor,
    ApprovalLimits,
    ArrearsError,
    Engine,
    InvalidInput,
    Money,
)
from arrears.channels.recording import RecordingChannel
from arrears.policy import load_policy
from arrears.stores import open_store

CN_POLICY = Path(__file__).resolve().parent.parent / "examples/policies/cn_consumer_loan.yaml"
AGENT = Actor("agent-7", frozenset({"agent"}))
SUPERVISOR = Actor("super-2", frozenset({"supervisor"}))
LIMITS = ApprovalLimits(limits={"supervisor": Money("5000.00", "CNY")})


def engine_on(target: str, schema: str) -> Engine:
    """The engine each side (and the test) uses on the shared store."""
    options: dict[str, Any] = {} if schema == "-" else {"schema": schema, "max_size": 2}
    return Engine(
        policy=load_policy(CN_POLICY),
        store=open_store(target, **options),
        channels=[RecordingChannel()],
    )


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def call(op: str, case_id: str, marker: str | None, action: Any) -> Any:
    """Run one engine call and report it; the result, or None when it raised."""
    try:
        result = action()
    except ArrearsError as err:
        say(op=op, case=case_id, marker=marker, ok=False, error=type(err).__name__)
        return None
    say(op=op, case=case_id, marker=marker, ok=True, error=None)
    return result


def pay(engine: Engine, rng: random.Random, case_id: str, number: int, seed: int) -> None:
    arrears = engine.case(case_id).arrears
    if arrears.is_zero:
        return
    cents = int(arrears.amount * 100)
    share = cents if rng.random() < 0.3 or cents < 2 else rng.randint(1, cents - 1)
    amount = Money(Decimal(share) / 100, "CNY")
    reference = f"R{seed}-{number}"
    first = call(
        "pay",
        case_id,
        reference,
        lambda: engine.record_payment(case_id, amount, reference=reference),
    )
    if first is None:
        return
    if rng.random() < 0.3:  # sent again: the first recording's result, nothing recorded
        again = call(
            "pay_again",
            case_id,
            reference,
            lambda: engine.record_payment(case_id, amount, reference=reference),
        )
        if again != first:
            say(op="pay_again", case=case_id, marker=reference, ok=False, error="Different")
    if rng.random() < 0.1:  # the same reference for another amount: refused
        other = Money(amount.amount + Decimal("1.00"), "CNY")
        try:
            engine.record_payment(case_id, other, reference=reference)
        except InvalidInput:
            say(op="pay_other", case=case_id, marker=reference, ok=False, error="InvalidInput")
        else:
            say(op="pay_other", case=case_id, marker=reference, ok=True, error=None)


def payer(engine: Engine, rng: random.Random, cases: int, rounds: int, seed: int) -> None:
    for number in range(rounds):
        case_id = f"L-{rng.randrange(cases):03}"
        roll = rng.random()
        if roll < 0.6:
            pay(engine, rng, case_id, number, seed)
            continue
        arrears = engine.case(case_id).arrears
        if arrears.is_zero:
            continue
        if roll < 0.8:
            due = datetime.now(UTC).date() + timedelta(days=3)
            call(
                "promise",
                case_id,
                None,
                lambda c=case_id, a=arrears, d=due: engine.record_promise(c, a, d, actor=AGENT),
            )
        else:
            part = min(arrears, Money("10.00", "CNY"))
            marker = f"W{seed}-{number}"
            call(
                "waive",
                case_id,
                marker,
                lambda c=case_id, p=part, m=marker: engine.waive(
                    c, p, actor=SUPERVISOR, limits=LIMITS, reason=m
                ),
            )


def agent(engine: Engine, rng: random.Random, cases: int, rounds: int, seed: int) -> None:
    for number in range(rounds):
        case_id = f"L-{rng.randrange(cases):03}"
        outcome = rng.choice(["no_answer", "no_answer", "busy", "conversation"])
        marker = f"C{seed}-{number}"
        call(
            "call",
            case_id,
            marker,
            lambda c=case_id, o=outcome, m=marker: engine.record_interaction(
                c, "call", o, contact="p1", actor=AGENT, provider_id=m
            ),
        )
        if number % 20 == 19:
            report = engine.tick()
            say(op="tick", case=None, marker=None, ok=not report.errors, error=None)


def main() -> int:
    role, target, schema = sys.argv[1:4]
    cases, rounds, seed = map(int, sys.argv[4:7])
    structlog.configure(  # warnings to standard error: standard output is the report
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    engine = engine_on(target, schema)
    rng = random.Random(seed)
    print("ready", flush=True)
    sys.stdin.readline()
    (payer if role == "payer" else agent)(engine, rng, cases, rounds, seed)
    say(op="done", case=None, marker=None, ok=True, error=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
