"""A cap on what one debtor (or one case) receives holds within one review too: two steps of
one review sending an SMS are two SMS, the second judged knowing the first is planned."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from _postgres import fresh_schema, postgres_url
from arrears import Engine, MemoryStore, SettableClock
from arrears.case import Channel, Outcome
from arrears.channels import RecordingChannel
from arrears.compliance import Compliance, FrequencyCap
from arrears.policy import load_policy
from arrears.stores import SQLiteStore

T0 = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
REVIEW = T0 + timedelta(minutes=30)  # 09:30 in Shanghai, the review time
NUMBER = "+8613812345678"

STEPS = """\
steps:
  - id: overdue-sms
    stages: [notified]
    send: {channel: sms}
  - id: overdue-sms-again
    stages: [notified]
    send: {channel: sms, purpose: reminder}
"""
PER_DEBTOR = f"""\
id: per-debtor-one
version: "1"
packs: [CN]
review: {{time: "09:30"}}
per_debtor:
  - {{channels: [sms], limit: 1}}
{STEPS}"""
NO_LIMIT = f"""\
id: no-limit
version: "1"
packs: [CN]
review: {{time: "09:30"}}
{STEPS}"""

#: A lender's own cap of one SMS a day per case (``per="case"``, ``across="debt"``).
PER_CASE = FrequencyCap(
    id="OWN-SMS-PER-CASE",
    citation="the lender's own limit",
    title="At most one SMS a day per case",
    channels=frozenset({Channel.SMS}),
    counted_channels=frozenset({Channel.SMS}),
    counted_outcomes=frozenset(Outcome) - {Outcome.FAILED, Outcome.REPLY},
    limit=1,
    days=1,
    per="case",
    across="debt",
    noun="messages",
)


def sms_loan(number: int, debtor: str = "D-1") -> dict[str, Any]:
    return {
        "id": f"L-{number}",
        "debtor": {"id": debtor, "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "m", "channel": "sms", "address": NUMBER}],
        "balance": {"currency": "CNY", "principal": "1000.00"},
        "due_date": "2026-09-01",
        "stage": "notified",
    }


Make = Callable[..., tuple[Engine, RecordingChannel]]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Make]:
    """Build an engine with a recording SMS adapter over a fresh store of the param's kind."""
    with ExitStack() as stack:

        def build(text: str, compliance: Compliance | None = None) -> tuple[Engine, Any]:
            path = tmp_path / "policy.yaml"
            path.write_text(text, encoding="utf-8")
            if request.param == "memory":
                store: Any = MemoryStore()
            elif request.param == "sqlite":
                store = SQLiteStore(tmp_path / "caps.db")
                stack.callback(store.close)
            else:
                from arrears.stores.postgres import PostgresStore

                url = postgres_url()
                schema = stack.enter_context(fresh_schema(url))
                store = PostgresStore(url, schema=schema, max_size=2)
                stack.callback(store.close)
            sms = RecordingChannel(channels=frozenset({"sms"}))
            engine = Engine(
                policy=load_policy(path),
                store=store,
                channels=[sms],
                clock=SettableClock(T0),
                compliance=compliance,
                compliance_mode="add" if compliance is not None else None,
            )
            return engine, sms

        yield build


def sent_on(sms: RecordingChannel) -> list[str]:
    return [message.case_id for message in sms.attempts]


def test_two_sms_steps_of_one_review_send_one_under_a_per_debtor_limit_of_one(
    make: Make,
) -> None:
    engine, sms = make(PER_DEBTOR)
    engine.open_case(sms_loan(1), at=T0)
    report = engine.tick(REVIEW)
    assert sent_on(sms) == ["L-1"]
    assert (report.sent, report.denied) == (1, 1)
    assert dict(report.blocked_by) == {"POLICY-PER-DEBTOR-1": 1}
    denied = [e for e in engine.history("L-1") if e.kind == "contact_denied"]
    assert len(denied) == 1
    assert denied[0].data["reasons"][0]["rule"] == "POLICY-PER-DEBTOR-1"
    assert denied[0].data["reasons"][0]["values"] == {"count": 2, "limit": 1, "window": "a day"}
    # 08:00 the next day in Shanghai: the window allows one again (and CN hours start).
    assert datetime.fromisoformat(denied[0].data["next_allowed_at"]) == datetime(
        2026, 10, 15, 0, 0, tzinfo=UTC
    )
    assert engine.verify() == []


def test_the_limit_holds_across_reviews_and_loans_of_two_steps_each(make: Make) -> None:
    engine, sms = make(PER_DEBTOR)
    engine.open_cases([sms_loan(1), sms_loan(2), sms_loan(9, debtor="D-2")], at=T0)
    report = engine.tick(REVIEW)
    assert sorted(sent_on(sms)) == ["L-1", "L-9"]  # one SMS per debtor, of four and two planned
    assert (report.sent, report.denied) == (2, 4)
    engine.tick(REVIEW + timedelta(days=1))
    to_d1 = [case_id for case_id in sent_on(sms) if case_id != "L-9"]
    assert len(to_d1) == 2  # one each day, never two on one day
    days = {
        datetime.fromisoformat(str(e.data.get("sent_at", e.at.isoformat()))).date()
        for case_id in ("L-1", "L-2")
        for e in engine.history(case_id)
        if e.kind == "interaction"
    }
    assert len(days) == 2
    assert engine.verify() == []


def test_a_per_case_cap_holds_within_one_review(make: Make) -> None:
    engine, sms = make(NO_LIMIT, Compliance(rules=[PER_CASE]))
    engine.open_cases([sms_loan(1), sms_loan(2)], at=T0)
    report = engine.tick(REVIEW)
    assert sent_on(sms) == ["L-1", "L-2"]  # one per case: the cap counts per case
    assert (report.sent, report.denied) == (2, 2)
    assert dict(report.blocked_by) == {"OWN-SMS-PER-CASE": 2}
    assert engine.verify() == []


def test_without_a_limit_both_steps_send(make: Make) -> None:
    engine, sms = make(NO_LIMIT)
    engine.open_case(sms_loan(1), at=T0)
    report = engine.tick(REVIEW)
    assert sent_on(sms) == ["L-1", "L-1"]
    assert (report.sent, report.denied) == (2, 0)
