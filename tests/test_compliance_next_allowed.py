"""The next allowed moment of a denied contact: the search's jumps against a step-by-step search.

`Compliance.judge` finds `Verdict.next_allowed_at` by jumping to the latest
retry time of the denying rules and judging again there only the rules whose
answer may have changed (`Rule.allows_until`).  These tests judge the same
contact every 15 minutes instead, from the moment judged on, and check that the
first moment allowed is the one the jumps found.  Every time in the histories
is on that 15-minute grid (and the debtors' zones are whole hours from UTC), so
each moment at which a rule's answer changes is on it too.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import Engine, SettableClock
from arrears.compliance import Compliance, Judgement, Reason, Rule

STEP = timedelta(minutes=15)
#: How far the step-by-step search looks: past the longest window of the packs judged
#: (7 days, and the quiet days after a conversation) and a night.
REACH = timedelta(days=9)
START = datetime(2026, 10, 19, 9, 0, tzinfo=ZoneInfo("America/New_York"))
#: The engine's clock: after every moment judged (an engine judges none far ahead of it).
LATER = START + timedelta(days=90)
PROPOSALS: dict[str, dict[str, Any]] = {
    "call": {"channel": "call", "contact": "mobile"},
    "office": {"channel": "call", "contact": "office"},
    "sms": {"channel": "sms", "contact": "sms"},
    "email": {"channel": "email", "contact": "email"},
    "automated": {"channel": "call", "contact": "mobile", "automated": True},
}


def _case(case_id: str, debtor: str, zone: str) -> dict[str, Any]:
    return {
        "id": case_id,
        "debtor": {"id": debtor, "timezone": zone},
        "contacts": [
            {"id": "mobile", "channel": "call", "address": "+16175550123"},
            {"id": "sms", "channel": "sms", "address": "+16175550123"},
            {"id": "email", "channel": "email", "address": "jane@example.com"},
            {"id": "office", "channel": "call", "address": "+16175550999", "work": True},
        ],
        "balance": {"currency": "USD", "principal": "1250.00"},
        "due_date": "2026-09-01",
        "stage": "phone",
    }


def stepwise(engine: Engine, case_id: str, proposal: dict[str, Any], at: datetime) -> Any:
    """The first moment from *at* on, every 15 minutes, at which the contact is allowed;
    ``None`` when none is within `REACH`."""
    moment = at
    while moment - at <= REACH:
        if engine.judge_contact(case_id, proposal, at=moment, record=False).allowed:
            return moment
        moment += STEP
    return None


def same_next_moment(engine: Engine, case_id: str, proposal: dict[str, Any], at: datetime) -> bool:
    """True when the verdict's next allowed moment is the step-by-step search's."""
    found = engine.judge_contact(case_id, proposal, at=at, record=False).next_allowed_at
    expected = stepwise(engine, case_id, proposal, at)
    if expected is None:  # none within reach: none at all, or one beyond it
        return found is None or found - at > REACH
    return found == expected


# -- the property ---------------------------------------------------------------------------------
_EVENTS = st.one_of(
    st.tuples(
        st.just("interaction"),
        st.sampled_from(["call", "sms", "office"]),
        st.sampled_from(["no_answer", "voicemail", "busy", "conversation", "delivered"]),
    ),
    st.tuples(st.just("inbound"), st.sampled_from(["call", "sms"]), st.just("conversation")),
    st.tuples(
        st.just("consent"), st.sampled_from(["call", "sms"]), st.integers(0, 3 * 24 * 4)
    ),  # its window, in steps: 0 for a consent with no window
    st.tuples(st.just("opt_out"), st.sampled_from(["sms", "email"]), st.just(0)),
    st.tuples(st.just("inconvenient"), st.integers(0, 95), st.integers(1, 24)),
    st.tuples(st.just("hold"), st.sampled_from(["dispute", "bankruptcy"]), st.integers(1, 8 * 96)),
)


@settings(max_examples=int(os.environ.get("NEXT_ALLOWED_EXAMPLES", 80)), deadline=None)
@given(
    pack=st.sampled_from(["US-MA", "US-RegF", "US-WA", "US-WA weeks", "CN", "UK"]),
    zone=st.sampled_from(["America/New_York", "America/Chicago", "Asia/Shanghai", "Europe/London"]),
    loans=st.integers(1, 2),
    events=st.lists(st.tuples(st.integers(1, 2 * 96), st.integers(0, 1), _EVENTS), max_size=20),
    probe=st.integers(0, 4 * 96),
    later=st.lists(st.tuples(st.integers(1, 48), st.sampled_from(["no_answer", "voicemail"]))),
    which=st.sampled_from(sorted(PROPOSALS)),
)
def test_the_jumps_find_the_first_moment_the_steps_find(
    pack: str,
    zone: str,
    loans: int,
    events: list[tuple[int, int, tuple[Any, ...]]],
    probe: int,
    later: list[tuple[int, str]],
    which: str,
) -> None:
    """Whatever the history, and calls on the other loan about this one recorded after the
    moment judged (they count at later moments), the jumps find the first moment the
    step-by-step search allows."""
    compliance = (
        Compliance(["US-WA"], overrides={"US-WA-CELL-WEEK": {"week_starts": "sunday"}})
        if pack == "US-WA weeks"  # a lender's calendar weeks: the retry is the next week's start
        else Compliance([pack])
    )
    engine = Engine(compliance=compliance, clock=SettableClock(LATER))
    cases = [f"C-{number}" for number in range(loans)]
    for case_id in cases:
        engine.open_case(_case(case_id, "D-1", zone), at=START)
        engine.record_notice(case_id, "validation", at=START)
    moment = START
    for steps, loan, (kind, first, second) in events:
        moment += steps * STEP
        case_id = cases[loan % loans]
        if kind == "interaction":
            channel = "sms" if first == "sms" else "call"
            contact = {"call": "mobile", "sms": "sms", "office": "office"}[first]
            outcome = "delivered" if channel == "sms" else second.replace("delivered", "no_answer")
            # On the second loan, about the first too: it counts toward its caps.
            about = [cases[0]] if case_id != cases[0] else None
            engine.record_interaction(
                case_id, channel, outcome, contact=contact, at=moment, about=about
            )
        elif kind == "inbound":
            contact = "mobile" if first == "call" else "sms"
            outcome = "conversation" if first == "call" else "reply"
            engine.record_interaction(
                case_id, first, outcome, contact=contact, at=moment, inbound=True
            )
        elif kind == "consent":
            until = moment + second * STEP if second else None
            start = moment if until is not None else None
            engine.record_consent(case_id, first, at=moment, start=start, until=until)
        elif kind == "opt_out":
            engine.record_opt_out(case_id, first, at=moment)
        elif kind == "inconvenient":
            begin = first * 15
            end = (begin + second * 15) % (24 * 60)
            engine.record_inconvenient(
                case_id, time(begin // 60, begin % 60), time(end // 60, end % 60), at=moment
            )
        else:
            engine.add_hold(case_id, first, "a test", until=moment + second * STEP, at=moment)
    at = moment + probe * STEP
    if loans > 1:  # calls on the other loan, about this one too, after the moment judged
        moment = at
        for steps, outcome in later:
            moment += steps * STEP
            engine.record_interaction(
                cases[1], "call", outcome, contact="mobile", at=moment, about=[cases[0]]
            )
    assert same_next_moment(engine, cases[0], PROPOSALS[which], at)


# -- the property fails when a rule states a wrong moment ----------------------------------------
class _NotBeforeNine(Rule):
    """Deny before 09:00 New York time (a lender's rule), stating its moments as told."""

    lie_until: bool = False
    late_retry: bool = False

    def check(self, j: Judgement) -> Reason | None:
        local = j.at.astimezone(START.tzinfo)
        if local.time() >= time(9):
            return None
        retry = local.replace(hour=9, minute=0, second=0, microsecond=0)
        return self.deny("before 09:00", retry_at=retry + timedelta(hours=1) * self.late_retry)

    def allows_until(self, j: Judgement) -> datetime | None:
        if self.lie_until:
            return None  # wrong: it denies again before nine tomorrow
        local = j.at.astimezone(START.tzinfo)
        return datetime.combine(local.date() + timedelta(days=1), time(0), START.tzinfo)


def _with(rule: Rule) -> tuple[Engine, dict[str, Any], datetime]:
    engine = Engine(compliance=Compliance(["US-RegF"], rules=[rule]), clock=SettableClock(LATER))
    engine.open_case(_case("C-0", "D-1", "America/New_York"), at=START)
    engine.record_notice("C-0", "validation", at=START)
    # 22:00: outside Regulation F's hours, so the search jumps to 08:00 the next day.
    return engine, PROPOSALS["call"], START.replace(hour=22)


def _rule(**lies: bool) -> _NotBeforeNine:
    return _NotBeforeNine(id="LENDER-NINE", citation="Lender policy 1", **lies)


def test_a_rule_that_states_its_moments_rightly_agrees() -> None:
    engine, proposal, at = _with(_rule())
    verdict = engine.judge_contact("C-0", proposal, at=at, record=False)
    assert verdict.next_allowed_at == START.replace(day=20, hour=9)
    assert same_next_moment(engine, "C-0", proposal, at)


def test_an_allowance_stated_too_long_is_caught() -> None:
    """The rule allows at 22:00 and says it always will: the jumps, trusting it, answer
    08:00 (Regulation F's opening), where the steps find 09:00."""
    engine, proposal, at = _with(_rule(lie_until=True))
    verdict = engine.judge_contact("C-0", proposal, at=at, record=False)
    assert verdict.next_allowed_at == START.replace(day=20, hour=8)
    assert stepwise(engine, "C-0", proposal, at) == START.replace(day=20, hour=9)
    assert not same_next_moment(engine, "C-0", proposal, at)


def test_a_retry_stated_too_late_is_caught() -> None:
    engine, proposal, _ = _with(_rule(late_retry=True))
    at = START.replace(day=20, hour=8, minute=30)
    assert not same_next_moment(engine, "C-0", proposal, at)


# -- the search judges again only what may have changed --------------------------------------------
class _Counted(Rule):
    """Allow always, from then on, counting the judgments (a stand-in for a costly rule)."""

    calls: list[datetime]

    def check(self, j: Judgement) -> Reason | None:
        self.calls.append(j.at)
        return None

    def allows_until(self, j: Judgement) -> datetime | None:
        return None


def test_a_rule_that_allows_from_then_on_is_not_judged_again() -> None:
    """At 22:00 the hours deny; at 08:00, the next opening, only they are judged again."""
    counted = _Counted(id="LENDER-COUNTED", citation="Lender policy 2", calls=[])
    engine, proposal, at = _with(counted)
    verdict = engine.judge_contact("C-0", proposal, at=at, record=False)
    assert verdict.next_allowed_at == START.replace(day=20, hour=8)
    assert counted.calls == [at]


def test_a_cap_counts_a_contact_recorded_after_the_moment_judged() -> None:
    """A call on the debtor's other loan, about this one too, recorded after the moment
    judged: the cap (2 calls in 7 days under 940 CMR 7.04(1)(f)) allows at 22:00 but
    not at 08:00, when that call is in its window; so the next moment is a week on."""
    engine = Engine(compliance=Compliance(["US-MA"]), clock=SettableClock(LATER))
    for case_id in ("C-0", "C-1"):
        engine.open_case(_case(case_id, "D-1", "America/New_York"), at=START)
        engine.record_notice(case_id, "validation", at=START)
    engine.record_interaction(
        "C-0", "call", "no_answer", contact="mobile", at=START.replace(hour=10)
    )
    engine.record_interaction(
        "C-1", "call", "no_answer", contact="mobile", at=START.replace(hour=23), about=["C-0"]
    )
    at = START.replace(hour=22)
    verdict = engine.judge_contact("C-0", PROPOSALS["call"], at=at, record=False)
    assert verdict.rules == ("US-TIME", "US-MA-HOURS")
    assert verdict.next_allowed_at == START.replace(day=26, hour=8)
    assert same_next_moment(engine, "C-0", PROPOSALS["call"], at)
