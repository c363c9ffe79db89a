"""Verdicts over a varied portfolio match the stored ones: speed work changes no verdict.

A seeded portfolio of cases under five rule sets (US-MA, US-WA, US-RegF, CN,
UK), debtors with one, three and five loans, persons and contact persons,
numbers at work, numbers shared across loans, debtors of unknown time zone,
consents with and without windows, opt-outs of media and of addresses, named
inconvenient times, holds, inbound contacts and contacts about several loans,
is judged at hundreds of moments with varied proposals.  Every verdict
(allowed, each reason's rule, message, values and retry time, and the next
allowed moment) is compared with ``verdicts_stable.json``, written by the code
as it was before the judge's hot path was reworked.

After a change that is meant to change verdicts, write the file again::

    python tests/test_verdicts_stable.py --write

and review its diff: each changed line is a verdict that changed.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from arrears import Engine, MemoryStore, SettableClock
from arrears.compliance import Compliance, Proposal, Verdict

EXPECTED = Path(__file__).with_name("verdicts_stable.json")

# Tuesday 2026-03-24, 14:00 UTC: the histories run from early February, and the
# judgments after them across the US change to summer time (8 March).
T0 = datetime(2026, 3, 24, 14, 0, tzinfo=UTC)
JURISDICTIONS = {
    "US-MA": ["US-MA"],
    "US-WA": ["US-WA"],
    "CN": ["CN"],
    "GB": ["UK"],
    "default": ["US-RegF"],
}
#: Per jurisdiction: the debtor's zone (None: unknown, read from the numbers) and the
#: country code of their numbers.
PLACES = {
    "US-MA": ("America/New_York", "+1617555"),
    "US-WA": (None, "+1206555"),
    "CN": ("Asia/Shanghai", "+86138000"),
    "GB": ("Europe/London", "+447700900"),
    "US": (None, "+1212555"),
}
#: Loans per debtor: one alone, three, and five.
LOANS = (1, 3, 5)
CHANNELS_OF = {"mobile": "call", "sms": "sms", "email": "email", "office": "call"}
OUTCOMES = ("no_answer", "voicemail", "busy", "conversation", "not_connected", "delivered")


def _case(rng: random.Random, code: str, debtor: str, case_id: str) -> dict[str, Any]:
    zone, prefix = PLACES[code]
    shared = rng.random() < 0.7  # the debtor's mobile is the same number on every loan
    mobile = f"{prefix}{100 + (0 if shared else rng.randrange(1, 9)):04d}"
    contacts: list[dict[str, Any]] = [
        {"id": "mobile", "channel": "call", "address": mobile},
        {"id": "sms", "channel": "sms", "address": mobile},
        {"id": "email", "channel": "email", "address": f"{debtor.lower()}@example.com"},
        {"id": "office", "channel": "call", "address": f"{prefix}0999", "work": True},
        {"id": "pat-mobile", "channel": "call", "address": f"{prefix}0201", "person": "pat"},
        {"id": "lee-home", "channel": "call", "address": f"{prefix}0301", "person": "lee"},
    ]
    if rng.random() < 0.2:
        contacts[4]["opted_out"] = True
    if rng.random() < 0.3:
        contacts[0]["consent"] = True
    record: dict[str, Any] = {
        "id": case_id,
        "debtor": {"id": debtor, "jurisdiction": code},
        "persons": [
            {"id": "pat", "relationship": "spouse"},
            {"id": "lee", "relationship": "contact_person"},
        ],
        "contacts": contacts,
        "balance": {"currency": "CNY" if code == "CN" else "USD", "principal": "1250.00"},
        "due_date": "2025-12-01",
        "stage": "phone",
    }
    if zone is not None:
        record["debtor"]["timezone"] = zone
    if rng.random() < 0.25:
        record["student_loan"] = {"account": "SL-1"}
    return record


def _history(engine: Engine, rng: random.Random, case_id: str, others: list[str]) -> datetime:
    """A month and a half of contacts on *case_id*; the moment of the last."""
    moment = T0 - timedelta(days=50) + timedelta(minutes=rng.randrange(600))
    engine.record_notice(case_id, "validation", at=moment)
    for _ in range(rng.randrange(25, 60)):
        moment += timedelta(hours=rng.choice((2, 5, 9, 14, 20, 27)), minutes=rng.randrange(60))
        roll = rng.random()
        if roll < 0.06:
            engine.record_consent(
                case_id,
                rng.choice(("call", "sms")),
                contact=rng.choice((None, "mobile", "sms")),
                covers=rng.choice((None, ["hours"], ["calls"], ["hours", "calls"], ["medium"])),
                until=rng.choice((None, moment + timedelta(hours=rng.randrange(1, 48)))),
                at=moment,
            )
        elif roll < 0.09:
            engine.record_opt_out(
                case_id,
                rng.choice(("email", "sms", "call")),
                contact=rng.choice((None, "email", "sms", "office", "pat-mobile")),
                at=moment,
            )
        elif roll < 0.11:
            start = time(rng.choice((6, 12, 19, 22)), rng.choice((0, 30)))
            engine.record_inconvenient(case_id, start, time((start.hour + 3) % 24, 0), at=moment)
        elif roll < 0.12:
            engine.add_hold(
                case_id,
                rng.choice(("dispute", "cease")),
                "stated in a call",
                until=moment + timedelta(days=rng.randrange(1, 10)),
                at=moment,
            )
        else:
            contact = rng.choice(("mobile", "mobile", "mobile", "sms", "office", "pat-mobile"))
            channel = CHANNELS_OF.get(contact, "call")
            outcome = "delivered" if channel == "sms" else rng.choice(OUTCOMES[:5])
            about = [rng.choice(others)] if others and rng.random() < 0.2 else None
            inbound = rng.random() < 0.05
            if inbound:
                outcome = "conversation" if channel == "call" else "delivered"
            engine.record_interaction(
                case_id,
                channel,
                outcome,
                contact=contact,
                purpose="location" if contact == "pat-mobile" else None,
                about=about,
                inbound=inbound,
                at=moment,
            )
    return moment


PROPOSALS = (
    Proposal(channel="call", contact="mobile"),
    Proposal(channel="call", contact="mobile", automated=True),
    Proposal(channel="voicemail", contact="mobile"),
    Proposal(channel="sms", contact="sms", text="From a debt collector. Reply STOP to end."),
    Proposal(channel="sms", contact="sms", purpose="opt_out_confirmation"),
    Proposal(channel="email", contact="email", text="This is a debt collector."),
    Proposal(channel="call", contact="office"),
    Proposal(channel="call", contact="pat-mobile", purpose="location"),
    Proposal(channel="call", contact="lee-home", purpose="relay"),
    Proposal(channel="letter", party="debtor"),
)


def judged() -> dict[str, str]:
    """Every judgment of the portfolio: its key and its verdict, one line each."""
    rng = random.Random(20260302)
    engine = Engine(
        store=MemoryStore(),
        compliance=Compliance(jurisdictions=JURISDICTIONS),
        clock=SettableClock(T0 - timedelta(days=60)),
    )
    loans: list[str] = []
    for code in PLACES:
        for number, count in enumerate(LOANS):
            debtor = f"D-{code}-{number}"
            ids = [f"L-{code}-{number}-{loan}" for loan in range(count)]
            for case_id in ids:
                engine.open_case(_case(rng, code, debtor, case_id), at=T0 - timedelta(days=60))
            loans.extend(ids)
    last: dict[str, datetime] = {}
    for case_id in loans:
        debtor = case_id.rsplit("-", 1)[0]
        others = [other for other in loans if other.startswith(debtor) and other != case_id]
        last[case_id] = _history(engine, rng, case_id, others)
    found: dict[str, str] = {}
    for case_id in loans:
        for step in range(40):
            at = last[case_id] + timedelta(
                hours=step * 7 + rng.randrange(7), minutes=rng.randrange(60)
            )
            index = rng.randrange(len(PROPOSALS))
            verdict = engine.judge_contact(case_id, PROPOSALS[index], at=at, record=False)
            found[f"{case_id} {index} {at.isoformat()}"] = _line(verdict)
    return found


def _line(verdict: Verdict) -> str:
    """The verdict in one line: outcome, rules and next moment readable, the rest hashed."""
    full = json.dumps(
        [
            verdict.allowed,
            [reason.to_json() for reason in verdict.reasons],
            verdict.next_allowed_at.isoformat() if verdict.next_allowed_at else None,
        ],
        sort_keys=True,
        ensure_ascii=False,
    )
    digest = hashlib.sha256(full.encode()).hexdigest()[:16]
    rules = ",".join(verdict.rules) or "-"
    after = verdict.next_allowed_at.isoformat() if verdict.next_allowed_at else "never"
    return f"{'allowed' if verdict.allowed else 'denied'} {rules} next={after} {digest}"


def test_every_verdict_is_the_stored_one() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    found = judged()
    assert list(found) == list(expected)
    changed = {key: (expected[key], line) for key, line in found.items() if expected[key] != line}
    assert not changed, f"{len(changed)} verdicts changed, e.g. {next(iter(changed.items()))}"


def test_the_portfolio_reaches_the_rules_that_matter() -> None:
    """The stored set is worth comparing: allowed and denied, by the rules the hot path runs."""
    lines = list(json.loads(EXPECTED.read_text(encoding="utf-8")).values())
    assert sum(line.startswith("allowed") for line in lines) > len(lines) // 10
    rules = {rule for line in lines for rule in line.split()[1].split(",")}
    for rule in ("US-TIME", "US-MA-HOURS", "US-7IN7", "US-MA", "US-MEDIUM", "US-3P", "CN-HOURS"):
        assert rule in rules
    assert sum("next=never" not in line and line.startswith("denied") for line in lines) > 100


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    EXPECTED.write_text(json.dumps(judged(), indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
