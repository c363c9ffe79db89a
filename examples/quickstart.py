"""Quickstart: three overdue accounts walked through the standard collection workflow.

Run it with ``python examples/quickstart.py`` (add ``-v`` to see the engine's
log lines on stderr).  It opens a consumer loan in Shanghai (CNY) and two
credit cards in the United States (USD), then:

* notifies them and escalates along the contact ladder;
* shows a ``start_legal`` refused, with every guard that failed;
* puts a dispute hold on a card, shows escalation blocked, releases the hold;
* records contact attempts, then a legal officer starts legal action, sends a
  demand letter and, 30 days later and with a second approver, files suit;
* records payments: one clears a card's arrears and cures it, another pays a
  card off and resolves it;
* verifies the journal, exports it to a JSON Lines file, imports it into a new
  engine and checks that every replayed case equals the live one.

Only case ids, stages, amounts and guard reasons are printed: never a name,
a phone number or an address.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import structlog

from arrears import (
    Actor,
    Balance,
    Case,
    ContactPoint,
    Debtor,
    Engine,
    Money,
    SettableClock,
    TransitionDenied,
)

# The engine logs every step (case opened, transition, refusal, hold, payment)
# at info level, with the case id bound and no personal data.  This script
# prints its own summary of the same steps, so by default only warnings and
# errors reach the terminal; `-v` shows the info lines too, on stderr so they
# never mix with the summary.  No timestamps: the story runs on a simulated
# clock, and the wall-clock time of each line would only confuse.  A host
# application configures structlog once, the same way, and sends the lines
# wherever its logs go.
VERBOSE = "-v" in sys.argv[1:]
structlog.configure(
    processors=[
        structlog.processors.add_log_level,
        structlog.dev.ConsoleRenderer(colors=False),
    ],
    wrapper_class=structlog.make_filtering_bound_logger(
        logging.INFO if VERBOSE else logging.WARNING
    ),
    logger_factory=structlog.PrintLoggerFactory(sys.stderr),
)

# People at the lender fire the manual triggers; their roles are checked.
AGENT = Actor("agent-017", frozenset({"agent"}))
LEGAL_OFFICER = Actor("legal-003", frozenset({"legal_officer"}))
SUPERVISOR = Actor("sup-001", frozenset({"supervisor"}))


def heading(text: str) -> None:
    print(f"\n== {text}")


def show_refusal(err: TransitionDenied) -> None:
    print(f"  {err.trigger} refused in stage {err.stage}:")
    for failure in err.failures:
        print(f"    - {failure.guard}: {failure.reason}")


def main() -> int:
    # 01:30 UTC on 2 March is 09:30 on 2 March in Shanghai but 20:30 on 1 March
    # in New York: days past due are counted in the debtor's own calendar.
    clock = SettableClock(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    engine = Engine(clock=clock)

    # A case can be given as a mapping (validated by pydantic) ...
    loan = engine.open_case(
        {
            "id": "CN-LOAN-0001",
            "debtor": {
                "id": "CUST-88120",
                "name": "王小明",
                "timezone": "Asia/Shanghai",
                "locale": "zh-CN",
            },
            "contacts": [
                {"id": "mobile", "channel": "call", "address": "+8613812345678", "consent": True},
                {"id": "sms", "channel": "sms", "address": "+8613812345678", "consent": True},
            ],
            "balance": {
                "currency": "CNY",
                "principal": "8000.00",
                "interest": "420.50",
                "fees": "50.00",
                "penalty": "136.80",
                "not_due": "16000.00",
            },
            "due_date": "2025-11-20",
        }
    )
    # ... or built from the models.
    card = engine.open_case(
        Case(
            id="US-CARD-0002",
            debtor=Debtor(id="CUST-40411", name="Jane Roe", timezone="America/New_York"),
            contacts=(
                ContactPoint(id="cell", channel="call", address="+12125550100", consent=True),
            ),
            balance=Balance(
                currency="USD",
                principal="1200.00",
                interest="38.20",
                fees="35.00",
                not_due="640.00",  # this month's statement, not yet due
            ),
            due_date=date(2026, 1, 15),
        )
    )
    small_card = engine.open_case(
        Case(
            id="US-CARD-0003",
            debtor=Debtor(id="CUST-51870", name="John Doe", timezone="America/Los_Angeles"),
            balance=Balance(currency="USD", principal="310.00", fees="25.00"),
            due_date=date(2026, 2, 1),
        )
    )

    heading("Opened")
    now = clock.now()
    for case in (loan, card, small_card):
        print(
            f"  {case.id:<13} {case.debtor.timezone!s:<20} local date {case.local_date(now)}  "
            f"arrears {case.arrears!s:>12}  dpd {case.days_past_due(now):>3}  "
            f"bucket {case.bucket(now)}"
        )

    heading("Notify and escalate (the system fires these)")
    for case in (loan, card, small_card):
        engine.fire(case.id, "notify")
    engine.fire(loan.id, "escalate")  # notified -> sms
    engine.fire(card.id, "escalate")  # notified -> sms
    for case in (loan, card, small_card):
        print(f"  {case.id:<13} {engine.case(case.id).stage}")

    heading("An agent tries to start legal action on the loan too early")
    try:
        engine.fire(loan.id, "start_legal", actor=AGENT)
    except TransitionDenied as err:
        show_refusal(err)

    heading("A dispute hold blocks escalation of the card")
    hold = engine.add_hold(card.id, "dispute", "cardholder disputes a late fee")
    try:
        engine.fire(card.id, "escalate")
    except TransitionDenied as err:
        show_refusal(err)
    clock.advance(days=2)
    engine.release_hold(card.id, hold.id, actor=SUPERVISOR)
    result = engine.fire(card.id, "escalate")
    print(f"  hold {hold.id} released; {card.id} escalated: {result.source} -> {result.dest}")

    heading("Contact attempts on the loan")
    engine.fire(loan.id, "escalate")  # sms -> phone
    for outcome in ("no_answer", "busy", "conversation"):
        engine.record_interaction(loan.id, "call", outcome, contact="mobile", actor=AGENT)
        print(f"  {clock.now():%Y-%m-%d} call: {outcome}")
        clock.advance(days=1)

    heading("A legal officer starts legal action and sends a demand letter")
    result = engine.fire(
        loan.id, "start_legal", actor=LEGAL_OFFICER, reason="no payment after 3 calls"
    )
    engine.record_notice(loan.id, "demand_letter", actor=LEGAL_OFFICER)
    print(f"  {loan.id} is in {result.dest}; demand letter sent {clock.now():%Y-%m-%d}")
    try:  # too early, and approving one's own filing is not four eyes
        engine.fire(loan.id, "file_suit", actor=LEGAL_OFFICER, approver=LEGAL_OFFICER)
    except TransitionDenied as err:
        show_refusal(err)

    clock.advance(days=30)
    result = engine.fire(loan.id, "file_suit", actor=LEGAL_OFFICER, approver=SUPERVISOR)
    print(f"  {clock.now():%Y-%m-%d} suit filed, approved by {SUPERVISOR.id}: {result.dest}")

    heading("Payments")
    partial = engine.record_payment(card.id, Money("50.00", "USD"), reference="ACH-1001")
    applied = ", ".join(f"{name} {part.amount}" for name, part in partial.applied.items())
    arrears = engine.case(card.id).arrears
    print(f"  {card.id} paid 50.00 USD -> {applied}; arrears now {arrears}")
    rest = engine.record_payment(card.id, arrears, reference="ACH-1002")
    assert rest.cured is not None
    print(f"  {card.id} paid the rest -> cure: {rest.cured.source} -> {rest.cured.dest}")
    print(f"  {card.id} still owes {engine.case(card.id).balance.outstanding}, not yet due")
    paid_off = engine.record_payment(small_card.id, Money("335.00", "USD"), reference="CARD-77")
    assert paid_off.cured is not None
    print(f"  {small_card.id} paid in full -> cure: {paid_off.cured.dest}")

    heading("The journal")
    problems = engine.verify()
    entries = sum(len(engine.history(case_id)) for case_id in engine.store.case_ids())
    print(f"  {entries} entries in {len(engine.store)} chains; verify(): {problems or 'intact'}")
    for entry in engine.history(card.id):
        print(f"    {entry.seq:>2} {entry.kind:<13} {entry.hash[:16]}…")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.jsonl"
        # The export is evidence: it holds the whole case, personal data
        # included, so it is written, read back and deleted here.
        with path.open("w", encoding="utf-8") as out:
            written = engine.export_journal(out)
        with path.open(encoding="utf-8") as lines:
            restored = Engine.from_journal(lines)
        size = path.stat().st_size
    print(f"  exported {written} entries ({size} bytes, sealed) and imported them again")

    heading("Replayed from the imported journal")
    same = True
    for case_id in engine.store.case_ids():
        live, replayed = engine.case(case_id), restored.case(case_id)
        equal = live == replayed
        same = same and equal
        holds = ", ".join(
            f"{hold.kind}{'' if hold.active_at(clock.now()) else ' (ended)'}" for hold in live.holds
        )
        print(
            f"  {case_id:<13} live {live.stage:<18} replayed {replayed.stage:<18} "
            f"{'equal' if equal else 'DIFFERENT'}{'  holds: ' + holds if holds else ''}"
        )
    print("\nAll replayed cases equal the live ones." if same else "\nReplay differs!")
    return 0 if same and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
