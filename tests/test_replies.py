"""A contact with purpose ``reply`` is a reply only when it answers a contact the person started.

`Judgement.replying` finds what a reply answers; the packs' ``*-REPLY`` rules
(`ReplyNeedsContact`) deny a reply that answers nothing, so the rules that let
a reply through (`US-WA-CELL`, the UK moratoriums, `CN-THIRD-PARTY`...) never
trust a label alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import Engine, InvalidInput, SettableClock
from arrears.case import Case
from arrears.compliance import (
    PACKS,
    Compliance,
    ContactHistory,
    Judgement,
    PlaceRestriction,
    Proposal,
    ReplyNeedsContact,
    ThirdPartyLocationOnly,
    ThirdPartyWhenUnreachable,
    TimeBarred,
)
from arrears.compliance.packs import resolve

LA = ZoneInfo("America/Los_Angeles")
MOBILE = "+12065550180"
SISTER = "+12065550181"


def la(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LA)  # type: ignore[misc]


def wa_case(case_id: str = "WA-1") -> dict[str, Any]:
    """A Washington debtor with a mobile (calls and texts), an e-mail, a sister whom no
    person names (a call and a text point on one number) and a spouse."""
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "America/Los_Angeles"},
        "persons": [{"id": "pat", "relationship": "spouse"}],
        "contacts": [
            {"id": "mobile", "channel": "call", "address": MOBILE},
            {"id": "mobile-sms", "channel": "sms", "address": MOBILE},
            {"id": "email", "channel": "email", "address": "sam@example.com"},
            {"id": "sister", "channel": "call", "address": SISTER, "party": "third_party"},
            {"id": "sister-sms", "channel": "sms", "address": SISTER, "party": "third_party"},
            {"id": "pat-sms", "channel": "sms", "address": "+12065550182", "person": "pat"},
        ],
        "balance": {"currency": "USD", "principal": "980.00"},
        "due_date": "2026-07-01",
        "stage": "phone",
    }


@pytest.fixture
def wa() -> Engine:
    """An engine under US-WA with case WA-1 open, a validation notice sent, and two
    unanswered calls to the debtor's mobile on 14 October: the two a day are used."""
    engine = Engine(compliance=Compliance(["US-WA"]), clock=SettableClock(la(2026, 10, 1, 9)))
    engine.open_case(wa_case())
    engine.record_notice("WA-1", "validation", at=la(2026, 10, 1, 9))
    for hour in (9, 11):
        engine.record_interaction(
            "WA-1", "call", "no_answer", contact="mobile", at=la(2026, 10, 14, hour)
        )
    return engine


REPLY_TEXT = Proposal(channel="sms", contact="mobile-sms", purpose="reply")


def test_a_text_labelled_reply_with_nothing_to_answer_does_not_pass_the_two_a_day(
    wa: Engine,
) -> None:
    verdict = wa.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 12, 30), record=False)
    assert not verdict.allowed
    assert verdict.rules == ("US-REPLY",)
    assert verdict.next_allowed_at is None
    (reason,) = verdict.reasons
    assert "started no contact" in reason.message
    assert "collection" in reason.message
    assert reason.values == {"purpose": "reply"}
    # The same text as what it is, a collection text: the third of the day.
    collection = wa.judge_contact(
        "WA-1", {"channel": "sms", "contact": "mobile-sms"}, at=la(2026, 10, 14, 12, 30)
    )
    assert collection.rules == ("US-WA-CELL",)


def test_the_debtors_text_opens_one_reply(wa: Engine) -> None:
    wa.record_interaction(
        "WA-1", "sms", "delivered", contact="mobile-sms", inbound=True, at=la(2026, 10, 14, 12)
    )
    assert wa.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 12, 30)).allowed
    # By e-mail too: the debtor's own contact opens a reply to the debtor anywhere.
    by_email = Proposal(channel="email", contact="email", purpose="reply")
    assert wa.judge_contact("WA-1", by_email, at=la(2026, 10, 14, 12, 30)).allowed
    wa.record_interaction(
        "WA-1",
        "sms",
        "delivered",
        contact="mobile-sms",
        purpose="reply",
        at=la(2026, 10, 14, 12, 30),
    )
    second = wa.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 12, 45), record=False)
    assert second.rules == ("US-REPLY",)
    (reason,) = second.reasons
    assert reason.values["started_at"] == la(2026, 10, 14, 12)
    assert reason.values["answered_at"] == la(2026, 10, 14, 12, 30)
    assert "was answered on 2026-10-14" in reason.message
    # Their next text opens the next reply.
    wa.record_interaction(
        "WA-1", "sms", "reply", contact="mobile-sms", inbound=True, at=la(2026, 10, 14, 13)
    )
    assert wa.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 13, 5)).allowed


def test_an_outcome_reply_is_their_contact(wa: Engine) -> None:
    """An attempt of ours the debtor wrote back to (outcome ``reply``) opens a reply."""
    wa.record_interaction("WA-1", "sms", "reply", contact="mobile-sms", at=la(2026, 10, 14, 12))
    assert wa.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 12, 30)).allowed


def test_a_contact_after_the_moment_judged_opens_nothing_then(wa: Engine) -> None:
    wa.record_interaction(
        "WA-1", "sms", "delivered", contact="mobile-sms", inbound=True, at=la(2026, 10, 14, 12)
    )
    case, history = wa.store.get("WA-1"), wa.contact_history("WA-1")
    assert wa.compliance is not None
    before = wa.compliance.judge(case, history, REPLY_TEXT, la(2026, 10, 14, 11, 59))
    assert "US-REPLY" in before.rules
    assert wa.compliance.judge(case, history, REPLY_TEXT, la(2026, 10, 14, 12)).allowed


def test_thirty_days_by_default_a_lender_may_change_them() -> None:
    engine = Engine(compliance=Compliance(["US-WA"]), clock=SettableClock(la(2026, 10, 1, 9)))
    engine.open_case(wa_case())
    engine.record_notice("WA-1", "validation", at=la(2026, 10, 1, 9))
    engine.record_interaction(
        "WA-1", "email", "delivered", contact="email", inbound=True, at=la(2026, 10, 2, 10)
    )
    reply = Proposal(channel="email", contact="email", purpose="reply")
    limit = la(2026, 10, 2, 10) + timedelta(days=30)  # elapsed: across the change of time
    assert engine.judge_contact("WA-1", reply, at=limit).allowed
    late = engine.judge_contact("WA-1", reply, at=limit + timedelta(minutes=1), record=False)
    assert late.rules == ("US-REPLY",)
    assert late.reasons[0].values["within_days"] == 30
    assert "more than 30 days old" in late.reasons[0].message
    history = engine.contact_history("WA-1")
    case = engine.store.get("WA-1")
    later = la(2026, 12, 20, 10)
    none = Compliance(["US-WA"], overrides={"US-REPLY": {"within_days": None}})
    assert none.judge(case, history, reply, later).allowed
    three = Compliance(["US-WA"], overrides={"US-REPLY": {"within_days": 3}})
    assert three.judge(case, history, reply, la(2026, 10, 5, 10)).allowed
    assert three.judge(case, history, reply, la(2026, 10, 5, 10, 1)).rules == ("US-REPLY",)
    with pytest.raises(InvalidInput) as err:
        Compliance(["US-WA"], overrides={"US-REPLY": {"within_days": 0}})
    assert err.value.field.startswith("overrides.US-REPLY")


def test_a_person_s_contact_opens_a_reply_to_that_person_only(wa: Engine) -> None:
    at = la(2026, 10, 14, 12, 30)
    wa.record_interaction(
        "WA-1", "call", "conversation", contact="sister", inbound=True, at=la(2026, 10, 14, 12)
    )
    wa.record_interaction(
        "WA-1", "sms", "delivered", contact="pat-sms", inbound=True, at=la(2026, 10, 14, 12, 5)
    )
    case, history = wa.store.get("WA-1"), wa.contact_history("WA-1")

    def answers(contact: str, channel: str = "sms") -> datetime | None:
        proposal = Proposal(channel=channel, contact=contact, purpose="reply")
        found = Judgement(case, history, proposal, at).replying()
        return found.at if found is not None else None

    # The sister, whom no person names, by her number: a text to it answers her call.
    assert answers("sister-sms") == la(2026, 10, 14, 12)
    assert answers("sister", "call") == la(2026, 10, 14, 12)
    assert answers("pat-sms") == la(2026, 10, 14, 12, 5)
    # Neither the sister's call nor the spouse's text is the debtor's.
    assert answers("mobile-sms") is None
    assert answers("email", "email") is None


def _timeline() -> st.SearchStrategy[list[tuple[int, str, str]]]:
    """Minutes after 14 October 08:00, who, and what: an inbound contact, a contact of
    ours the person wrote back to (outcome ``reply``), a reply of ours, or a collection
    contact of ours."""
    return st.lists(
        st.tuples(
            st.integers(0, 60 * 24 * 50),
            st.sampled_from(["mobile-sms", "email", "sister", "sister-sms", "pat-sms"]),
            st.sampled_from(["inbound", "wrote_back", "reply", "collection"]),
        ),
        max_size=14,
    )


_WHO = {
    "mobile-sms": "debtor",
    "email": "debtor",
    "sister": "sister",
    "sister-sms": "sister",
    "pat-sms": "pat",
}
_CHANNEL = {"mobile-sms": "sms", "email": "email", "sister": "call", "sister-sms": "sms"}
_START = la(2026, 10, 14, 8)
_CASE = Case.model_validate(wa_case())


@settings(max_examples=150, deadline=None)
@given(
    timeline=_timeline(),
    target=st.sampled_from(["mobile-sms", "email", "sister-sms", "pat-sms"]),
    judged=st.integers(0, 60 * 24 * 50),
    within=st.sampled_from([None, 1, 30]),
)
def test_a_reply_answers_the_persons_latest_contact_when_no_reply_followed(
    timeline: list[tuple[int, str, str]], target: str, judged: int, within: int | None
) -> None:
    """Whatever the history, a reply is judged one exactly when, among the person's
    contacts and our replies to them up to the moment judged, the latest is theirs and
    came within the window; and US-REPLY denies exactly the others."""
    history = ContactHistory()
    events = sorted(timeline, key=lambda event: event[0])
    for seq, (minute, contact, what) in enumerate(events):
        data: dict[str, Any] = {
            "channel": _CHANNEL.get(contact, "sms"),
            "outcome": "reply" if what == "wrote_back" else "delivered",
            "contact": contact,
            "party": "debtor" if _WHO[contact] == "debtor" else "third_party",
        }
        if contact == "pat-sms":
            data["person"] = "pat"
        if what == "inbound":
            data["inbound"] = True
        if what == "reply":
            data["purpose"] = "reply"
        history.add(seq, "interaction", _START + timedelta(minutes=minute), data)
    at = _START + timedelta(minutes=judged)
    window = timedelta(days=within) if within is not None else None
    proposal = Proposal(channel=_CHANNEL.get(target, "sms"), contact=target, purpose="reply")
    found = Judgement(_CASE, history, proposal, at).replying(window)

    theirs = [
        (minute, what)
        for minute, contact, what in events
        if _WHO[contact] == _WHO[target]
        and _START + timedelta(minutes=minute) <= at
        and what != "collection"
    ]
    expected = None
    if theirs and theirs[-1][1] != "reply":
        moment = _START + timedelta(minutes=theirs[-1][0])
        if window is None or moment >= at - window:
            expected = moment
    assert (found.at if found is not None else None) == expected

    compliance = Compliance(
        ["US-WA"], overrides={"US-REPLY": {"within_days": within}}, role="collector"
    )
    verdict = compliance.judge(_CASE, history, proposal, at)
    assert ("US-REPLY" in verdict.rules) == (expected is None)


def _allows_a_reply(rule: Any) -> bool:
    """True when *rule* lets a contact with purpose reply through where another is judged."""
    if "reply" in rule.exempt:
        return True
    if isinstance(rule, ThirdPartyLocationOnly | ThirdPartyWhenUnreachable):
        return "reply" in rule.allowed_purposes
    if isinstance(rule, TimeBarred):
        return "reply" in rule.still_allowed
    if isinstance(rule, PlaceRestriction):
        return rule.reply_once
    return False


@pytest.mark.parametrize("pack_id", sorted(PACKS))
def test_every_pack_that_lets_a_reply_through_checks_that_it_is_one(pack_id: str) -> None:
    """A pack whose rules exempt or allow ``reply`` has a ReplyNeedsContact binding every
    role those rules bind, judging every channel and party."""
    rules = list(resolve([pack_id]))
    lenient = [rule for rule in rules if _allows_a_reply(rule)]
    checks = [rule for rule in rules if isinstance(rule, ReplyNeedsContact)]
    if not lenient:
        return
    assert checks, f"{pack_id} lets a reply through without checking it is one"
    for check in checks:
        assert check.enabled
        assert check.channels is None
        assert check.parties is None
    for rule in lenient:
        roles = rule.roles
        assert any(
            check.roles is None or (roles is not None and roles <= check.roles) for check in checks
        ), rule.id


def test_the_one_reply_at_work_answers_the_debtors_latest_contact_from_there() -> None:
    """US-PLACE reads the same answer: a reply at work answers the debtor's latest
    contact, when it came from that address by that medium, and any reply of ours to
    the debtor answers it."""
    case = wa_case()
    case["contacts"] += [
        {"id": "office-sms", "channel": "sms", "address": "+12065550999", "work": True},
    ]
    engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(la(2026, 10, 1, 9)))
    engine.open_case(case)
    engine.record_notice("WA-1", "validation", at=la(2026, 10, 1, 9))
    engine.record_notice("WA-1", "work_inconvenient", at=la(2026, 10, 5, 9))
    at_work = Proposal(channel="sms", contact="office-sms", purpose="reply")
    # A letter from the debtor, recorded with no contact point: from nowhere known.
    engine.record_interaction(
        "WA-1", "letter", "delivered", party="debtor", inbound=True, at=la(2026, 10, 6, 10)
    )
    assert engine.judge_contact("WA-1", at_work, at=la(2026, 10, 6, 11), record=False).rules == (
        "US-PLACE",
    )
    engine.record_interaction(
        "WA-1", "sms", "delivered", contact="office-sms", inbound=True, at=la(2026, 10, 6, 12)
    )
    assert engine.judge_contact("WA-1", at_work, at=la(2026, 10, 6, 12, 10)).allowed
    # Answered by e-mail at home: the text from work has had its reply.
    engine.record_interaction(
        "WA-1", "email", "delivered", contact="email", purpose="reply", at=la(2026, 10, 6, 12, 20)
    )
    after = engine.judge_contact("WA-1", at_work, at=la(2026, 10, 6, 12, 30), record=False)
    assert set(after.rules) == {"US-PLACE", "US-REPLY"}


# -- one reply per person, across the debtor's loans, the outbox included ----------------
REPLY_POLICY = """\
id: replies
version: "1"
packs: [US-WA]
review: {time: "09:00"}
steps:
  - id: answer
    stages: [phone]
    send: {channel: sms, purpose: reply}
  - id: answer-again
    stages: [phone]
    send: {channel: sms, purpose: reply}
"""


@pytest.fixture
def two_loans(tmp_path: Any) -> Engine:
    """WA-1 and WA-2, two loans of one Washington debtor on the same mobile, under a policy
    (so that the outbox can be written), a validation notice sent on each."""
    from arrears.channels import RecordingChannel
    from arrears.policy import load_policy

    path = tmp_path / "policy.yaml"
    path.write_text(REPLY_POLICY, encoding="utf-8")
    sms = RecordingChannel(channels=frozenset({"sms"}))
    engine = Engine(
        policy=load_policy(path), channels=[sms], clock=SettableClock(la(2026, 10, 1, 9))
    )
    for case_id in ("WA-1", "WA-2"):
        loan = wa_case(case_id)
        loan["debtor"] = {"id": "D-WA", "timezone": "America/Los_Angeles"}
        for point in loan["contacts"]:  # texts from the tick are automated: consent given
            point["consent"] = point["id"] == "mobile-sms"
        engine.open_case(loan)
        engine.record_notice(case_id, "validation", at=la(2026, 10, 1, 9))
    return engine


def test_the_debtors_text_about_one_loan_is_answered_on_the_other(two_loans: Engine) -> None:
    """The debtor texts about loan 1; the answer is recorded on loan 2.  It is a reply
    (12 CFR 1006.14(h)(2)(ii), RCW 19.16.250(18): "responding to a communication from the
    debtor", whatever loan it is filed under), and the one reply: no second on loan 1."""
    engine = two_loans
    engine.record_interaction(
        "WA-1", "sms", "delivered", contact="mobile-sms", inbound=True, at=la(2026, 10, 14, 12)
    )
    first = engine.judge_contact("WA-2", REPLY_TEXT, at=la(2026, 10, 14, 12, 30))
    assert first.allowed, first
    engine.record_interaction(
        "WA-2",
        "sms",
        "delivered",
        contact="mobile-sms",
        purpose="reply",
        at=la(2026, 10, 14, 12, 30),
    )
    second = engine.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 12, 45), record=False)
    assert second.rules == ("US-REPLY",)
    (reason,) = second.reasons
    assert reason.values["started_at"] == la(2026, 10, 14, 12)
    assert reason.values["answered_at"] == la(2026, 10, 14, 12, 30)


def test_a_reply_in_the_outbox_answers_the_text_before_it_is_sent(two_loans: Engine) -> None:
    """A reply journaled as intended (planned, not yet handed to its adapter) is the answer:
    a second reply, on the same loan or the other, is not approved while the first waits."""
    from arrears.operations import reviews

    engine = two_loans
    engine.record_interaction(
        "WA-1", "sms", "delivered", contact="mobile-sms", inbound=True, at=la(2026, 10, 14, 12)
    )
    intent = reviews.record_intent(
        engine._recorder,
        "WA-1",
        key="reply-1",
        step="answer",
        channel="sms",
        contact="mobile-sms",
        template=None,
        text="Thanks for your message",
        purpose="reply",
        at=la(2026, 10, 14, 12, 20),
    )
    assert intent["purpose"] == "reply"
    for case_id in ("WA-1", "WA-2"):
        verdict = engine.judge_contact(
            case_id, REPLY_TEXT, at=la(2026, 10, 14, 12, 30), record=False
        )
        assert verdict.rules == ("US-REPLY",), case_id
        (reason,) = verdict.reasons
        assert reason.values["answered_at"] == la(2026, 10, 14, 12, 20)
    # Its result settles the intent: still the one answer.
    engine.record_interaction(
        "WA-1",
        "sms",
        "failed",
        contact="mobile-sms",
        purpose="reply",
        key="reply-1",
        at=la(2026, 10, 14, 12, 40),
    )
    later = engine.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 12, 45), record=False)
    assert later.rules == ("US-REPLY",)


def test_a_reply_in_the_outbox_of_a_lone_loan_answers_too(wa: Engine, tmp_path: Any) -> None:
    """With one loan (no debtor history) the case's own open intents are read."""
    from arrears.operations import reviews
    from arrears.policy import load_policy

    path = tmp_path / "policy.yaml"
    path.write_text(REPLY_POLICY, encoding="utf-8")
    wa._recorder.policy = load_policy(path)
    wa.record_interaction(
        "WA-1", "sms", "delivered", contact="mobile-sms", inbound=True, at=la(2026, 10, 14, 12)
    )
    assert wa.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 12, 10), record=False).allowed
    reviews.record_intent(
        wa._recorder,
        "WA-1",
        key="reply-1",
        step="answer",
        channel="sms",
        contact="mobile-sms",
        template=None,
        text="Thanks",
        purpose="reply",
        at=la(2026, 10, 14, 12, 20),
    )
    verdict = wa.judge_contact("WA-1", REPLY_TEXT, at=la(2026, 10, 14, 12, 30), record=False)
    assert verdict.rules == ("US-REPLY",)


def test_the_tick_sends_one_reply_to_one_text_across_two_loans(two_loans: Engine) -> None:
    """Two policy steps that answer, on every loan: the first reply, journaled in the
    outbox, answers the text; the other step's, and the other loan's, are denied (before,
    a reply in the outbox was read as a collection message: two replies were sent)."""
    engine = two_loans
    (sms,) = engine._recorder.channels
    engine.record_interaction(
        "WA-1", "sms", "delivered", contact="mobile-sms", inbound=True, at=la(2026, 10, 14, 8)
    )
    engine.clock.set(la(2026, 10, 14, 9, 5))  # type: ignore[attr-defined]
    report = engine.tick(la(2026, 10, 14, 9, 5))
    assert len(sms.attempts) == 1
    assert report.blocked_by.get("US-REPLY") == 3


def test_a_reply_no_adapter_can_report_on_is_sent_again_under_its_key(
    two_loans: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies after journaling a reply as intended, before handing it over: the
    next tick cannot learn its fate (the adapter knows nothing of its key), finds it still
    warranted and sends it again under the same key.  The intent is not itself the answer
    that makes it unnecessary; it still answers for every other reply (before, it blocked
    itself: closed as unknown, and the debtor got no reply at all).  Without a template
    set its intent holds the purpose for the host: judged, as when planned, with no text
    (before, that placeholder failed the wording rules)."""

    class Killed(BaseException):
        """The process killed between the intent's commit and the send."""

    engine = two_loans
    (sms,) = engine._recorder.channels
    engine.record_interaction(
        "WA-1", "sms", "delivered", contact="mobile-sms", inbound=True, at=la(2026, 10, 14, 8)
    )

    def killed(message: Any) -> Any:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(sms, "send", killed)
        engine.clock.set(la(2026, 10, 14, 9, 5))  # type: ignore[attr-defined]
        with pytest.raises(Killed):
            engine.tick(la(2026, 10, 14, 9, 5))
    (intent,) = [e for e in engine.history("WA-1") if e.kind == "outbox_intent"]
    # The next day's review plans under keys of its own: the intent is judged again.
    engine.clock.set(la(2026, 10, 15, 9, 5))  # type: ignore[attr-defined]
    report = engine.tick(la(2026, 10, 15, 9, 5))
    assert [message.key for message in sms.attempts] == [intent.data["key"]]
    assert report.sent == 1
    assert report.unknown == 0
    # The one reply still answers the text: no other reply goes out, on either loan.
    assert not engine.judge_contact(
        "WA-2", REPLY_TEXT, at=la(2026, 10, 15, 9, 30), record=False
    ).allowed
