"""Both sides of every boundary of the base rule kinds: local time, contact hours and counts.

Each rule is judged directly on a `Judgement` so that the whole `Reason` (rule,
message, values compared, retry_at) can be compared exactly: the first minute
inside and the first minute outside a window, the last day a call counts and the
first it does not, the last day a consent exempts a call and the first it does
not, and the exact moment a denied contact may be retried, across DST changes
and spans that wrap midnight.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from pydantic import ValidationError

from arrears import InvalidInput
from arrears.case import Case
from arrears.compliance import Compliance, ContactHistory, Judgement, Proposal
from arrears.compliance.history import Attempt, DebtorHistory
from arrears.compliance.model import Reason
from arrears.compliance.rules import (
    RULE_ID,
    SCOPE_ORDERS,
    ContactHours,
    FrequencyCap,
    FunctionRule,
    Rule,
    _communicated,
    _consented,
    _latest,
    _reveals,
    business_days_after,
    earliest_local,
    local_moment,
    opted_out_since,
    rule,
    validation_period_end,
)

NY = ZoneInfo("America/New_York")
HONOLULU = ZoneInfo("Pacific/Honolulu")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")

MOBILE = "+16175550123"  # Boston: America/New_York
HONOLULU_NUMBER = "+18085550123"  # Hawaii: Pacific/Honolulu
SISTER = "+16175550999"


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NY)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


CONTACTS: list[dict[str, Any]] = [
    {"id": "mobile", "channel": "call", "address": MOBILE},
    {"id": "mobile-vm", "channel": "voicemail", "address": MOBILE},
    {"id": "mobile-sms", "channel": "sms", "address": MOBILE},
    {"id": "home", "channel": "call", "address": "+16175550456"},
    {"id": "den", "channel": "call", "address": "+16175550457", "landline": True},
    {"id": "office", "channel": "call", "address": "+16175550777", "work": True},
    {"id": "boss", "channel": "call", "address": "+16175550888", "party": "employer"},
    {"id": "sister", "channel": "call", "address": SISTER, "party": "third_party"},
    {"id": "friend", "channel": "call", "address": "+16175550666", "party": "third_party"},
    {"id": "nowhere", "channel": "call", "address": "unknown"},
]


def make_case(
    case_id: str = "C-1",
    timezone: str | None = "America/New_York",
    contacts: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Case:
    debtor: dict[str, Any] = {"id": "D-1"}
    if timezone is not None:
        debtor["timezone"] = timezone
    return Case.model_validate(
        {
            "id": case_id,
            "debtor": debtor,
            "contacts": CONTACTS if contacts is None else contacts,
            "balance": {"currency": "USD", "principal": "900.00"},
            "due_date": "2026-09-01",
            **extra,
        }
    )


class Log:
    """A contact history written event by event, as the journal would fold it."""

    def __init__(self) -> None:
        self.history = ContactHistory()
        self._seq = 0

    def _add(self, kind: str, at: datetime, data: dict[str, Any]) -> Log:
        self.history.add(self._seq, kind, at, data)
        self._seq += 1
        return self

    def attempt(
        self,
        at: datetime,
        outcome: str = "no_answer",
        contact: str | None = "mobile",
        channel: str = "call",
        party: str = "debtor",
        **more: Any,
    ) -> Log:
        data = {"channel": channel, "outcome": outcome, "party": party, **more}
        if contact is not None:
            data["contact"] = contact
        return self._add("interaction", at, data)

    def consent(
        self,
        at: datetime,
        channel: str = "call",
        contact: str | None = None,
        covers: list[str] | None = None,
        start: datetime | None = None,
        until: datetime | None = None,
    ) -> Log:
        data: dict[str, Any] = {"channel": channel}
        if contact is not None:
            data["contact"] = contact
        if covers is not None:
            data["covers"] = covers
        if start is not None:
            data["start"] = start.isoformat()
        if until is not None:
            data["until"] = until.isoformat()
        return self._add("consent", at, data)

    def opt_out(self, at: datetime, channel: str = "call", contact: str | None = None) -> Log:
        data = {"channel": channel} if contact is None else {"channel": channel, "contact": contact}
        return self._add("opt_out", at, data)

    def inconvenient(self, *spans: tuple[str, str]) -> Log:
        return self._add("inconvenient", ny(2026, 9, 1), {"spans": [list(s) for s in spans]})


def judgement(
    at: datetime,
    log: Log | None = None,
    case: Case | None = None,
    debtor: DebtorHistory | None = None,
    **proposal: Any,
) -> Judgement:
    fields = {"channel": "call", "contact": "mobile", **proposal}
    return Judgement(
        case or make_case(),
        (log or Log()).history,
        Proposal(**fields),
        at,
        debtor=(lambda: debtor) if debtor is not None else None,
    )


def check(item: Rule, at: datetime, log: Log | None = None, **kwargs: Any) -> Reason | None:
    j = judgement(at, log, **kwargs)
    assert item.applies(j), "the rule must judge this proposal"
    return item.check(j)


# -- local time -----------------------------------------------------------------------------------
class TestEarliestLocal:
    @pytest.mark.parametrize(
        ("wall", "expected"),
        [
            (time(1, 59, 59), utc(2026, 3, 8, 6, 59, 59)),  # the last second before the gap
            (time(2, 0), utc(2026, 3, 8, 7, 0)),  # the gap's first minute: its end
            (time(2, 59, 59), utc(2026, 3, 8, 7, 0)),
            (time(3, 0), utc(2026, 3, 8, 7, 0)),  # the first wall time after the gap
            (time(3, 0, 1), utc(2026, 3, 8, 7, 0, 1)),
        ],
    )
    def test_both_sides_of_the_spring_forward_gap(self, wall: time, expected: datetime) -> None:
        moment = earliest_local(date(2026, 3, 8), wall, NY)
        assert moment == expected
        assert moment.tzinfo is NY
        assert moment.microsecond == 0

    def test_the_instant_the_gap_ends_is_in_the_zone_after_the_change(self) -> None:
        moment = earliest_local(date(2026, 3, 8), time(2, 30), NY)
        assert moment.utcoffset() == timedelta(hours=-4)
        assert moment.replace(tzinfo=None) == datetime(2026, 3, 8, 3, 0)

    def test_a_half_hour_gap_ends_half_an_hour_later(self) -> None:
        """Lord Howe Island moves its clocks from 02:00 to 02:30 on 4 October 2026."""
        moment = earliest_local(date(2026, 10, 4), time(2, 10), LORD_HOWE)
        assert moment == utc(2026, 10, 3, 15, 30)
        assert moment.astimezone(LORD_HOWE).strftime("%H:%M") == "02:30"

    def test_in_the_fold_the_first_occurrence(self) -> None:
        """01:30 happens twice in New York on 1 November 2026: 05:30 UTC (EDT) comes first."""
        first = earliest_local(date(2026, 11, 1), time(1, 30), NY)
        assert first.astimezone(UTC) == utc(2026, 11, 1, 5, 30)
        assert first.fold == 0
        assert earliest_local(date(2026, 11, 1), time(2, 0), NY) == utc(2026, 11, 1, 7, 0)

    def test_local_moment_without_a_zone_keeps_the_offset_of_the_moment_given(self) -> None:
        offset = datetime(2026, 10, 1, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        moment = local_moment(date(2026, 10, 5), time(8, 0), None, offset)
        assert moment == datetime(2026, 10, 5, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        assert moment.tzinfo is offset.tzinfo
        assert local_moment(date(2026, 3, 8), time(2, 30), NY, offset) == utc(2026, 3, 8, 7)


class TestBusinessDays:
    NONE = holidays.HolidayBase()

    @pytest.mark.parametrize(
        ("start", "count", "expected"),
        [
            (date(2026, 10, 9), 0, date(2026, 10, 9)),  # none to count: the day itself
            (date(2026, 10, 8), 1, date(2026, 10, 9)),  # Thursday -> Friday
            (date(2026, 10, 9), 1, date(2026, 10, 12)),  # Friday -> Monday (weekend skipped)
            (date(2026, 10, 10), 1, date(2026, 10, 12)),  # Saturday -> Monday
            (date(2026, 10, 9), 5, date(2026, 10, 16)),
        ],
    )
    def test_weekends_are_skipped(self, start: date, count: int, expected: date) -> None:
        assert business_days_after(start, count, self.NONE) == expected

    def test_holidays_are_skipped(self) -> None:
        calendar = holidays.country_holidays("US", years=[2026])
        # Columbus Day, Monday 12 October 2026.
        assert business_days_after(date(2026, 10, 9), 1, calendar) == date(2026, 10, 13)

    def test_the_validation_period_reads_the_next_years_holidays(self) -> None:
        """Sent Monday 28 Dec 2026: New Year's Day 2027 is skipped, received Tuesday 5 Jan."""
        assert validation_period_end(date(2026, 12, 28)) == date(2027, 2, 4)

    def test_the_validation_period_parameters(self) -> None:
        assert validation_period_end(date(2026, 6, 1), receipt_days=0, period_days=0) == date(
            2026, 6, 1
        )
        assert validation_period_end(date(2026, 6, 1), receipt_days=1, period_days=1) == date(
            2026, 6, 3
        )
        assert validation_period_end(date(2026, 6, 1)) == date(2026, 7, 8)


# -- the base -------------------------------------------------------------------------------------
class Always(Rule):
    """Denies everything it judges."""

    def check(self, j: Judgement) -> Reason | None:
        return self.deny("no", retry_at=j.at + timedelta(hours=1), seen=1)


class TestRule:
    @pytest.mark.parametrize("good", ["X", "US-7IN7", "UK-TIME", "CN-CALLS-EFFECTIVE", "A1-b2"])
    def test_ids_that_are_accepted(self, good: str) -> None:
        assert Always(id=good, citation="c").id == good

    @pytest.mark.parametrize("bad", ["", "x", "1X", "US-", "US--X", "US 7", "US-7IN7 ", "US_7"])
    def test_ids_that_are_refused(self, bad: str) -> None:
        with pytest.raises(ValidationError, match="id"):
            Always(id=bad, citation="c")

    def test_the_id_pattern(self) -> None:
        assert RULE_ID == r"^[A-Z][A-Z0-9]*(-[A-Za-z0-9]+)*$"

    def test_a_citation_is_required(self) -> None:
        with pytest.raises(ValidationError, match="citation"):
            Always(id="X", citation="")
        assert Always(id="X", citation="c").citation == "c"

    def test_defaults_judge_everything(self) -> None:
        item = Always(id="X", citation="c")
        assert (item.title, item.enabled, item.channels, item.parties, item.purposes) == (
            "",
            True,
            None,
            None,
            None,
        )
        assert item.exempt == frozenset()
        assert item.roles is None
        assert all(item.binds(role) for role in (None, "creditor", "collector", "debt_buyer"))
        assert item.kind == "rule"
        assert item.in_scope("call", "debtor", "collection")
        assert item.parameters() == {
            "enabled": True,
            "channels": None,
            "parties": None,
            "purposes": None,
            "exempt": [],
            "roles": None,
            "as_debtor": [],
            "as_debtor_minor": [],
        }

    @pytest.mark.parametrize(
        ("scope", "channel", "party", "purpose", "judged"),
        [
            ({"channels": frozenset({"sms"})}, "sms", "debtor", "collection", True),
            ({"channels": frozenset({"sms"})}, "call", "debtor", "collection", False),
            ({"parties": frozenset({"third_party"})}, "call", "third_party", "collection", True),
            ({"parties": frozenset({"third_party"})}, "call", "debtor", "collection", False),
            ({"purposes": frozenset({"location"})}, "call", "debtor", "location", True),
            ({"purposes": frozenset({"location"})}, "call", "debtor", "collection", False),
            ({"exempt": frozenset({"reply"})}, "call", "debtor", "reply", False),
            ({"exempt": frozenset({"reply"})}, "call", "debtor", "collection", True),
            ({"enabled": False}, "call", "debtor", "collection", False),
        ],
    )
    def test_scope(
        self, scope: dict[str, Any], channel: str, party: str, purpose: str, judged: bool
    ) -> None:
        assert Always(id="X", citation="c", **scope).in_scope(channel, party, purpose) is judged

    def test_applies_reads_the_proposal_and_whom_it_reaches(self) -> None:
        item = Always(
            id="X", citation="c", channels=frozenset({"call"}), parties=frozenset({"debtor"})
        )
        at = ny(2026, 10, 1, 10)
        assert item.applies(judgement(at))
        assert not item.applies(judgement(at, contact="sister"))
        assert not item.applies(judgement(at, channel="sms", contact="mobile-sms"))
        assert not Always(id="X", citation="c", purposes=frozenset({"reply"})).applies(
            judgement(at)
        )
        assert Always(id="X", citation="c", purposes=frozenset({"reply"})).applies(
            judgement(at, purpose="reply")
        )
        assert not Always(id="X", citation="c", exempt=frozenset({"reply"})).applies(
            judgement(at, purpose="reply")
        )

    def test_deny_carries_the_rule_the_values_and_the_retry(self) -> None:
        item = Always(id="X-NO", citation="Policy 1")
        at = ny(2026, 10, 1, 10)
        assert item.check(judgement(at)) == Reason(
            "X-NO", "Policy 1", "no", {"seen": 1}, at + timedelta(hours=1)
        )
        assert item.deny("why") == Reason("X-NO", "Policy 1", "why", {}, None)

    def test_the_base_check_is_abstract(self) -> None:
        class Bare(Rule):
            """Checks nothing of its own."""

        with pytest.raises(NotImplementedError):
            Bare(id="X", citation="c").check(judgement(ny(2026, 10, 1, 10)))
        assert Bare(id="X", citation="c").admits(judgement(ny(2026, 10, 1, 10))) is True


class TestFunctionRule:
    def test_a_string_is_the_message_and_a_reason_is_kept(self) -> None:
        answers: dict[str, Reason | str | None] = {"answer": "not today"}

        @rule("LENDER-X", "Lender policy 1", title="Mine", channels=frozenset({"sms"}))
        def mine(j: Judgement) -> Reason | str | None:
            """Ignored: the title is given."""
            return answers["answer"]

        assert isinstance(mine, FunctionRule)
        assert (mine.id, mine.citation, mine.title) == ("LENDER-X", "Lender policy 1", "Mine")
        assert mine.channels == frozenset({"sms"})
        j = judgement(ny(2026, 10, 1, 10), channel="sms", contact="mobile-sms")
        assert mine.check(j) == Reason("LENDER-X", "Lender policy 1", "not today", {}, None)
        kept = Reason("OTHER", "x", "kept", {"a": 1}, None)
        answers["answer"] = kept
        assert mine.check(j) is kept
        answers["answer"] = None
        assert mine.check(j) is None
        assert "function" not in mine.parameters()

    def test_the_title_is_the_first_line_of_the_docstring(self) -> None:
        @rule("LENDER-Y", "c")
        def documented(j: Judgement) -> None:
            """

            First line.
            Second line.
            """

        @rule("LENDER-Z", "c")
        def bare(j: Judgement) -> None:
            return None

        assert documented.title == "First line."
        assert bare.title == ""
        assert bare.channels is None


# -- contact hours --------------------------------------------------------------------------------
HOURS = ContactHours(id="X-TIME", citation="Policy 2")


def outside(local: str, at: str, zone: str = "America/New_York") -> str:
    return f"{local} local time in {zone} is outside {at}"


def hours_reason(
    message: str,
    retry: datetime | None,
    local: datetime,
    window: str = "08:00-21:00",
    rule_id: str = "X-TIME",
) -> Reason:
    zone = getattr(local.tzinfo, "key", "")
    return Reason(
        rule_id,
        "Policy 2",
        message,
        {"window": window, "local_time": local.isoformat(), "zone": zone},
        retry,
    )


class TestContactHoursWindow:
    def test_the_default_window_is_0800_to_2100(self) -> None:
        assert (HOURS.start, HOURS.end) == (time(8, 0), time(21, 0))
        assert HOURS.consent_minutes == 60
        assert HOURS.honour_named_times is True
        assert HOURS.work is None

    @pytest.mark.parametrize(
        ("at", "retry"),
        [
            (ny(2026, 10, 14, 0, 0), ny(2026, 10, 14, 8, 0)),
            (ny(2026, 10, 14, 7, 59), ny(2026, 10, 14, 8, 0)),
            (ny(2026, 10, 14, 21, 0), ny(2026, 10, 15, 8, 0)),
            (ny(2026, 10, 14, 23, 59), ny(2026, 10, 15, 8, 0)),
        ],
    )
    def test_outside_the_window(self, at: datetime, retry: datetime) -> None:
        message = outside(at.strftime("%H:%M"), "08:00-21:00")
        assert check(HOURS, at) == hours_reason(message, retry, at)

    @pytest.mark.parametrize("at", [ny(2026, 10, 14, 8, 0), ny(2026, 10, 14, 20, 59, 59)])
    def test_inside_the_window(self, at: datetime) -> None:
        assert check(HOURS, at) is None

    def test_a_window_of_its_own_on_both_sides(self) -> None:
        """Washington's home window: 07:29 is denied until 07:30; 20:59 allowed, 21:00 not."""
        wa = ContactHours(id="X-TIME", citation="Policy 2", start=time(7, 30), end=time(21, 0))
        early = ny(2026, 10, 14, 7, 29)
        assert check(wa, early) == hours_reason(
            outside("07:29", "07:30-21:00"), ny(2026, 10, 14, 7, 30), early, "07:30-21:00"
        )
        assert check(wa, ny(2026, 10, 14, 7, 30)) is None
        assert check(wa, ny(2026, 10, 14, 20, 59)) is None
        late = ny(2026, 10, 14, 21, 0)
        assert check(wa, late) == hours_reason(
            outside("21:00", "07:30-21:00"), ny(2026, 10, 15, 7, 30), late, "07:30-21:00"
        )

    def test_the_retry_across_spring_forward(self) -> None:
        """Denied at 21:30 EST on 7 March 2026; 08:00 EDT on the 8th is 12:00 UTC."""
        at = ny(2026, 3, 7, 21, 30)
        reason = check(HOURS, at)
        assert reason is not None
        assert reason.retry_at == utc(2026, 3, 8, 12, 0)

    def test_a_window_opening_in_the_gap_opens_when_the_gap_ends(self) -> None:
        night = ContactHours(id="X-TIME", citation="Policy 2", start=time(2, 30), end=time(21, 0))
        reason = check(night, ny(2026, 3, 7, 22, 0))
        assert reason is not None
        assert reason.retry_at == utc(2026, 3, 8, 7, 0)  # 03:00 EDT
        assert check(night, utc(2026, 3, 8, 7, 0)) is None
        assert check(night, utc(2026, 3, 8, 6, 59)) is not None  # 01:59 EST

    def test_the_retry_across_fall_back(self) -> None:
        """Denied at 21:00 EDT on 31 October 2026; 08:00 EST on 1 November is 13:00 UTC."""
        reason = check(HOURS, ny(2026, 10, 31, 21, 0))
        assert reason is not None
        assert reason.retry_at == utc(2026, 11, 1, 13, 0)

    def test_in_every_zone_the_numbers_admit(self) -> None:
        """No zone known: a Boston and a Honolulu number; the window must hold in both."""
        contacts = [
            {"id": "mobile", "channel": "call", "address": MOBILE},
            {"id": "hawaii", "channel": "call", "address": HONOLULU_NUMBER},
        ]
        case = make_case(timezone=None, contacts=contacts)
        noon = ny(2026, 10, 14, 12, 0)  # 06:00 in Honolulu
        assert check(HOURS, noon, case=case) == hours_reason(
            outside("06:00", "08:00-21:00", "Pacific/Honolulu"),
            ny(2026, 10, 14, 14, 0),
            noon.astimezone(HONOLULU),
        )
        assert check(HOURS, ny(2026, 10, 14, 14, 0), case=case) is None
        assert check(HOURS, ny(2026, 10, 14, 20, 59), case=case) is None
        late = ny(2026, 10, 14, 21, 0)  # 15:00 in Honolulu: New York is the zone that denies
        assert check(HOURS, late, case=case) == hours_reason(
            outside("21:00", "08:00-21:00"), ny(2026, 10, 15, 14, 0), late
        )

    def test_the_search_for_a_retry_stops_after_eight_days(self) -> None:
        """A Boston and a Phoenix number and a window of 08:00-11:00: no time is inside it in
        both zones until New York falls back on 1 November, when 10:00 EST is 08:00 in Phoenix
        (15:00 UTC). Eight days before that instant the retry is found; a minute earlier not."""
        contacts = [
            {"id": "mobile", "channel": "call", "address": MOBILE},
            {"id": "phoenix", "channel": "call", "address": "+16025550123"},
        ]
        case = make_case(timezone=None, contacts=contacts)
        narrow = ContactHours(id="X-TIME", citation="Policy 2", end=time(11, 0))
        found = check(narrow, utc(2026, 10, 24, 15, 0), case=case)
        assert found is not None
        assert found.retry_at == utc(2026, 11, 1, 15, 0)
        assert check(narrow, utc(2026, 11, 1, 15, 0), case=case) is None
        too_far = check(narrow, utc(2026, 10, 24, 14, 59), case=case)
        assert too_far is not None
        assert too_far.message == "07:59 local time in America/Phoenix is outside 08:00-11:00"
        assert too_far.retry_at is None

    def test_a_window_that_closes_when_it_opens_allows_nothing(self) -> None:
        empty = ContactHours(id="X-TIME", citation="Policy 2", start=time(9), end=time(9))
        at = ny(2026, 10, 14, 9, 0)
        assert check(empty, at) == hours_reason(
            outside("09:00", "09:00-09:00"), None, at, "09:00-09:00"
        )

    def test_no_zone_at_all_is_denied_for_good_unless_consented(self) -> None:
        case = make_case(
            timezone=None, contacts=[{"id": "mobile", "channel": "call", "address": "unknown"}]
        )
        at = ny(2026, 10, 14, 12, 0)
        assert check(HOURS, at, case=case) == Reason(
            "X-TIME",
            "Policy 2",
            "the debtor's location is unknown: no time zone, and no phone number that gives one",
            {},
            None,
        )
        consented = Log().consent(ny(2026, 10, 14, 11, 30), covers=["hours"])
        assert check(HOURS, at, consented, case=case) is None
        lapsed = Log().consent(ny(2026, 10, 14, 10, 30), covers=["hours"])
        assert check(HOURS, at, lapsed, case=case) is not None

    @pytest.mark.parametrize(
        ("work", "office", "mobile"),
        [(None, True, True), (True, True, False), (False, False, True)],
    )
    def test_work_narrows_what_is_judged(
        self, work: bool | None, office: bool, mobile: bool
    ) -> None:
        item = ContactHours(id="X-TIME", citation="Policy 2", work=work)
        at = ny(2026, 10, 14, 22, 0)
        assert item.admits(judgement(at, contact="office")) is office
        assert item.admits(judgement(at, contact="boss")) is office
        assert item.admits(judgement(at)) is mobile


class TestNamedTimes:
    def test_the_first_and_the_last_minute_of_a_named_span(self) -> None:
        log = Log().inconvenient(("12:00", "14:00"))
        assert check(HOURS, ny(2026, 10, 14, 11, 59), log) is None
        for at in (ny(2026, 10, 14, 12, 0), ny(2026, 10, 14, 13, 59)):
            assert check(HOURS, at, log) == hours_reason(
                f"{at:%H:%M} local time in America/New_York is within 12:00-14:00, "
                "named inconvenient",
                ny(2026, 10, 14, 14, 0),
                at,
            )
        assert check(HOURS, ny(2026, 10, 14, 14, 0), log) is None

    def test_the_evening_half_of_an_overnight_span(self) -> None:
        """19:00-09:00 wraps midnight: from 19:00 the next allowed time is 09:00 the next day."""
        log = Log().inconvenient(("19:00", "09:00"))
        assert check(HOURS, ny(2026, 10, 14, 18, 59), log) is None
        evening = ny(2026, 10, 14, 19, 0)
        assert check(HOURS, evening, log) == hours_reason(
            "19:00 local time in America/New_York is within 19:00-09:00, named inconvenient",
            ny(2026, 10, 15, 9, 0),
            evening,
        )

    def test_the_morning_half_of_an_overnight_span(self) -> None:
        log = Log().inconvenient(("19:00", "09:00"))
        morning = ny(2026, 10, 15, 8, 59)
        assert check(HOURS, morning, log) == hours_reason(
            "08:59 local time in America/New_York is within 19:00-09:00, named inconvenient",
            ny(2026, 10, 15, 9, 0),
            morning,
        )
        assert check(HOURS, ny(2026, 10, 15, 9, 0), log) is None
        # Before the window opens the window is the reason, and the span moves the retry on.
        early = ny(2026, 10, 15, 7, 0)
        assert check(HOURS, early, log) == hours_reason(
            outside("07:00", "08:00-21:00"), ny(2026, 10, 15, 9, 0), early
        )

    def test_an_overnight_span_across_fall_back(self) -> None:
        """From 19:00 EDT on 31 October the span ends at 09:00 EST on 1 November: 14:00 UTC."""
        log = Log().inconvenient(("19:00", "09:00"))
        reason = check(HOURS, ny(2026, 10, 31, 19, 0), log)
        assert reason is not None
        assert reason.retry_at == utc(2026, 11, 1, 14, 0)

    def test_spans_that_follow_each_other_move_the_retry_to_the_last_end(self) -> None:
        log = Log().inconvenient(("12:00", "13:00"), ("13:00", "14:00"))
        reason = check(HOURS, ny(2026, 10, 14, 12, 30), log)
        assert reason is not None
        assert reason.retry_at == ny(2026, 10, 14, 14, 0)
        assert reason.message.endswith("within 12:00-13:00, named inconvenient")

    def test_a_span_over_the_whole_window_leaves_no_time(self) -> None:
        log = Log().inconvenient(("08:00", "21:00"))
        at = ny(2026, 10, 14, 10, 0)
        assert check(HOURS, at, log) == hours_reason(
            "10:00 local time in America/New_York is within 08:00-21:00, named inconvenient",
            None,
            at,
        )

    def test_a_span_ending_where_it_starts_names_no_time(self) -> None:
        log = Log().inconvenient(("12:00", "12:00"))
        assert check(HOURS, ny(2026, 10, 14, 12, 0), log) is None
        assert check(HOURS, ny(2026, 10, 14, 11, 59), log) is None

    def test_named_times_can_be_ignored(self) -> None:
        log = Log().inconvenient(("12:00", "14:00"))
        lenient = ContactHours(id="X-TIME", citation="Policy 2", honour_named_times=False)
        assert check(lenient, ny(2026, 10, 14, 12, 30), log) is None
        assert check(lenient, ny(2026, 10, 14, 21, 0), log) is not None


class TestHoursConsent:
    def test_a_consent_to_be_called_now_lasts_sixty_minutes_from_when_it_is_given(self) -> None:
        log = Log().consent(ny(2026, 10, 14, 21, 10))
        assert check(HOURS, ny(2026, 10, 14, 21, 9), log) is not None  # before it was given
        assert check(HOURS, ny(2026, 10, 14, 21, 10), log) is None
        assert check(HOURS, ny(2026, 10, 14, 22, 10), log) is None
        assert check(HOURS, ny(2026, 10, 14, 22, 10, 1), log) is not None

    def test_consent_minutes_of_its_own(self) -> None:
        log = Log().consent(ny(2026, 10, 14, 21, 10))
        brief = ContactHours(id="X-TIME", citation="Policy 2", consent_minutes=5)
        assert check(brief, ny(2026, 10, 14, 21, 15), log) is None
        assert check(brief, ny(2026, 10, 14, 21, 16), log) is not None

    def test_with_no_default_only_a_consent_with_an_end_counts(self) -> None:
        strict = ContactHours(id="X-TIME", citation="Policy 2", consent_minutes=0)
        open_ended = Log().consent(ny(2026, 10, 14, 21, 10))
        assert check(strict, ny(2026, 10, 14, 21, 10), open_ended) is not None
        assert check(strict, ny(2026, 10, 14, 21, 15), open_ended) is not None
        bounded = Log().consent(ny(2026, 10, 14, 21, 10), until=ny(2026, 10, 14, 23, 0))
        assert check(strict, ny(2026, 10, 14, 22, 59), bounded) is None
        assert check(strict, ny(2026, 10, 14, 23, 1), bounded) is not None
        both = (
            Log()
            .consent(ny(2026, 10, 14, 21, 0), until=ny(2026, 10, 14, 21, 5))
            .consent(ny(2026, 10, 14, 21, 10))
        )
        assert check(strict, ny(2026, 10, 14, 21, 15), both) is not None

    def test_a_consent_given_after_the_moment_does_not_reach_back(self) -> None:
        log = Log().consent(
            ny(2026, 10, 14, 21, 30),
            covers=["hours"],
            start=ny(2026, 10, 14, 21, 0),
            until=ny(2026, 10, 14, 23, 0),
        )
        assert check(HOURS, ny(2026, 10, 14, 21, 20), log) is not None
        assert check(HOURS, ny(2026, 10, 14, 21, 30), log) is None

    def test_a_window_from_a_start(self) -> None:
        log = Log().consent(
            ny(2026, 10, 14, 12, 0), covers=["hours"], start=ny(2026, 10, 14, 21, 30)
        )
        assert check(HOURS, ny(2026, 10, 14, 21, 29), log) is not None
        assert check(HOURS, ny(2026, 10, 14, 21, 30), log) is None
        assert check(HOURS, ny(2026, 10, 14, 22, 30), log) is None
        assert check(HOURS, ny(2026, 10, 14, 22, 31), log) is not None

    @pytest.mark.parametrize(
        ("consent", "proposal", "lifted"),
        [
            ({"covers": ["hours"]}, {}, True),
            ({"covers": ["calls"]}, {}, False),  # another question
            ({"channel": "sms"}, {}, False),  # another medium
            ({}, {"channel": "voicemail", "contact": "mobile-vm"}, True),  # calls cover voicemail
            ({"channel": "voicemail"}, {}, False),
            ({"contact": "mobile"}, {"contact": "mobile"}, True),
            ({"contact": "mobile"}, {"contact": "home"}, False),  # another number
            (
                {"contact": "mobile-vm", "channel": "call"},
                {"contact": "mobile"},
                True,
            ),  # same number
            ({"contact": "sister"}, {"contact": "mobile"}, False),  # another person
            ({}, {"contact": "sister"}, False),  # a consent naming no one is the debtor's
            ({"contact": "sister"}, {"contact": "sister"}, True),
            ({"contact": "gone"}, {"contact": "mobile"}, False),  # an unknown contact point
            ({"contact": "nowhere"}, {"contact": "home"}, False),  # unknown address
        ],
    )
    def test_what_a_consent_answers(
        self, consent: dict[str, Any], proposal: dict[str, Any], lifted: bool
    ) -> None:
        log = Log().consent(ny(2026, 10, 14, 21, 10), **consent)
        reason = check(HOURS, ny(2026, 10, 14, 21, 20), log, **proposal)
        assert (reason is None) is lifted

    def test_a_consent_given_by_another_person_on_a_shared_number(self) -> None:
        """The debtor's partner, a third party on the same number, agreed to a late call: it
        does not lift the window for a call to the debtor, only for one to the partner."""
        shared = [
            *CONTACTS,
            {"id": "partner", "channel": "call", "address": MOBILE, "party": "third_party"},
        ]
        case = make_case(contacts=shared)
        log = Log().consent(ny(2026, 10, 14, 21, 10), contact="partner", covers=["hours"])
        assert check(HOURS, ny(2026, 10, 14, 21, 20), log, case=case) is not None
        assert check(HOURS, ny(2026, 10, 14, 21, 20), log, case=case, contact="partner") is None
        debtors = Log().consent(ny(2026, 10, 14, 21, 10), contact="mobile-vm", covers=["hours"])
        assert check(HOURS, ny(2026, 10, 14, 21, 20), debtors, case=case) is None
        assert (
            check(HOURS, ny(2026, 10, 14, 21, 20), debtors, case=case, contact="partner")
            is not None
        )

    def test_a_consent_about_an_unknown_contact_point_lifts_nothing(self) -> None:
        log = Log().consent(ny(2026, 10, 14, 21, 10), contact="gone")
        assert check(HOURS, ny(2026, 10, 14, 21, 20), log, contact=None) is not None

    @pytest.mark.parametrize(
        ("opt_out", "lifted"),
        [
            (ny(2026, 10, 14, 21, 15), False),  # between the consent and the call: revoked
            (ny(2026, 10, 14, 21, 20), False),  # at the moment of the call
            (ny(2026, 10, 14, 21, 25), True),  # after the call
            (ny(2026, 10, 14, 21, 10), True),  # at the consent's own moment: before it
            (ny(2026, 10, 14, 21, 5), True),  # before the consent
        ],
    )
    def test_an_opt_out_after_the_consent_revokes_it(self, opt_out: datetime, lifted: bool) -> None:
        log = Log().opt_out(opt_out, contact="mobile").consent(ny(2026, 10, 14, 21, 10))
        reason = check(HOURS, ny(2026, 10, 14, 21, 20), log)
        assert (reason is None) is lifted

    def test_an_opt_out_of_another_medium_or_number_leaves_the_consent(self) -> None:
        log = (
            Log()
            .consent(ny(2026, 10, 14, 21, 10))
            .opt_out(ny(2026, 10, 14, 21, 12), channel="sms")
            .opt_out(ny(2026, 10, 14, 21, 13), contact="home")
        )
        assert check(HOURS, ny(2026, 10, 14, 21, 20), log) is None
        revoked = (
            Log()
            .consent(ny(2026, 10, 14, 21, 10))
            .opt_out(ny(2026, 10, 14, 21, 12), contact="mobile-vm", channel="call")
        )
        assert check(HOURS, ny(2026, 10, 14, 21, 20), revoked) is not None


# -- opt-outs -------------------------------------------------------------------------------------
class TestOptedOutSince:
    AT = ny(2026, 10, 14, 12, 0)
    OUT = ny(2026, 10, 10, 9, 0)

    def since(self, log: Log, case: Case | None = None, **proposal: Any) -> Any:
        return opted_out_since(judgement(self.AT, log, case=case, **proposal))

    def test_an_opt_out_of_calls_covers_voicemail_at_the_same_number(self) -> None:
        log = Log().opt_out(self.OUT, contact="mobile")
        assert self.since(log) == (self.OUT, "call")
        assert self.since(log, channel="voicemail", contact="mobile-vm") == (self.OUT, "call")
        assert self.since(log, contact="home") is None
        assert self.since(log, channel="sms", contact="mobile-sms") is None

    def test_an_opt_out_of_voicemail_does_not_cover_calls(self) -> None:
        log = Log().opt_out(self.OUT, channel="voicemail")
        assert self.since(log) is None
        assert self.since(log, channel="voicemail", contact="mobile-vm") == (self.OUT, "voicemail")

    def test_an_opt_out_of_a_medium_this_version_does_not_know_covers_only_itself(self) -> None:
        log = Log().opt_out(self.OUT, channel="fax")
        assert self.since(log) is None
        assert self.since(log, channel="letter", contact=None, party="debtor") is None

    def test_the_latest_opt_out_is_named(self) -> None:
        later = self.OUT + timedelta(days=1)
        log = (
            Log()
            .opt_out(self.OUT, contact="mobile")
            .opt_out(later, contact="home")
            .opt_out(later + timedelta(hours=1), channel="sms")
        )
        assert self.since(log) == (self.OUT, "call")
        assert self.since(log, contact="home") == (later, "call")

    def test_an_unknown_address_is_no_other_contact_points(self) -> None:
        log = Log().opt_out(self.OUT, contact="nowhere")
        assert self.since(log, contact="nowhere") == (self.OUT, "call")
        nowhere_too = [*CONTACTS, {"id": "nowhere-2", "channel": "call", "address": "unknown"}]
        case = make_case(contacts=nowhere_too)
        assert self.since(log, case=case, contact="nowhere-2") is None

    @pytest.mark.parametrize(
        ("consent", "restored"),
        [
            ({"at": ny(2026, 10, 11, 9), "covers": ["medium"]}, True),
            ({"at": ny(2026, 10, 11, 9), "covers": ["medium"], "contact": "mobile-vm"}, True),
            ({"at": ny(2026, 10, 11, 9), "covers": ["medium"], "contact": "home"}, False),
            ({"at": ny(2026, 10, 11, 9), "covers": ["medium"], "channel": "sms"}, False),
            ({"at": ny(2026, 10, 11, 9)}, False),  # a consent to be called now
            ({"at": ny(2026, 10, 11, 9), "covers": ["hours", "calls"]}, False),
            ({"at": ny(2026, 10, 10, 9), "covers": ["medium"]}, False),  # the same moment
            ({"at": ny(2026, 10, 9, 9), "covers": ["medium"]}, False),  # before the opt-out
            ({"at": ny(2026, 10, 14, 12), "covers": ["medium"]}, True),  # at the moment judged
            ({"at": ny(2026, 10, 14, 12, 1), "covers": ["medium"]}, False),  # after it
            (
                {"at": ny(2026, 10, 11, 9), "covers": ["medium"], "until": ny(2026, 10, 14, 12)},
                True,
            ),
            (
                {"at": ny(2026, 10, 11, 9), "covers": ["medium"], "until": ny(2026, 10, 14, 11)},
                False,  # lapsed
            ),
            (
                {"at": ny(2026, 10, 11, 9), "covers": ["medium"], "start": ny(2026, 10, 14, 13)},
                False,  # not yet
            ),
        ],
    )
    def test_a_consent_for_the_medium_restores_it(
        self, consent: dict[str, Any], restored: bool
    ) -> None:
        log = Log().opt_out(self.OUT, contact="mobile")
        log.consent(**{"channel": "call", **consent})
        assert (self.since(log) is None) is restored

    def test_a_restoring_consent_is_revoked_by_a_later_opt_out(self) -> None:
        log = (
            Log()
            .opt_out(self.OUT, contact="mobile")
            .consent(ny(2026, 10, 11, 9), covers=["medium"])
            .opt_out(ny(2026, 10, 12, 9), channel="sms")
        )
        assert self.since(log) is None
        log.opt_out(ny(2026, 10, 13, 9), contact="mobile-vm", channel="call")
        assert self.since(log) == (ny(2026, 10, 13, 9), "call")

    def test_a_contact_point_marked_opted_out(self) -> None:
        marked = [
            {**CONTACTS[0], "opted_out": True},
            *CONTACTS[1:],
            {"id": "mobile-2", "channel": "call", "address": MOBILE},
        ]
        opened = ny(2026, 9, 30, 9)
        case = make_case(contacts=marked, opened_at=opened)
        assert self.since(Log(), case=case) == (opened, "call")
        assert self.since(Log(), case=case, contact="mobile-2") == (opened, "call")
        assert self.since(Log(), case=case, channel="voicemail", contact="mobile-vm") == (
            opened,
            "call",
        )
        assert self.since(Log(), case=case, contact="home") is None
        assert self.since(Log(), case=make_case(contacts=marked)) == (self.AT, "call")
        unknown = [{**point, "opted_out": point["id"] == "nowhere"} for point in CONTACTS]
        unknown.append({"id": "nowhere-2", "channel": "call", "address": "unknown"})
        case = make_case(contacts=unknown)
        assert self.since(Log(), case=case, contact="nowhere") == (self.AT, "call")
        assert self.since(Log(), case=case, contact="nowhere-2") is None


# -- how often ------------------------------------------------------------------------------------
def cap(**fields: Any) -> FrequencyCap:
    return FrequencyCap(**{"id": "X-CAP", "citation": "Policy 3", "limit": 2, "days": 7, **fields})


def count_reason(
    count: int, limit: int, window: str, retry: datetime | None, noun: str = "calls"
) -> Reason:
    return Reason(
        "X-CAP",
        "Policy 3",
        f"{count} counted {noun} in {window}, limit {limit}",
        {"count": count, "limit": limit, "window": window},
        retry,
    )


def calls(*moments: datetime, **fields: Any) -> Log:
    log = Log()
    for moment in moments:
        log.attempt(moment, **fields)
    return log


class TestFrequencyCapFields:
    def test_defaults(self) -> None:
        item = cap()
        assert (item.hours, item.per, item.across, item.scope_reason, item.noun) == (
            None,
            "person",
            "debt",
            "",
            "calls",
        )
        assert item.counted_channels == frozenset({"call", "voicemail"})
        assert item.counted_outcomes == frozenset(
            {"no_answer", "voicemail", "conversation", "wrong_party"}
        )
        assert (item.quiet_days, item.consent_exempt_days, item.consent_minutes, item.work) == (
            0,
            0,
            60,
            None,
        )

    def test_the_scope_orders_go_from_narrow_to_wide(self) -> None:
        assert dict(SCOPE_ORDERS) == {
            "per": ("contact", "person", "case"),
            "across": ("debt", "debtor"),
        }

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"limit": -1}, "limit"),
            ({"days": 0}, "days"),
            ({"days": None, "hours": 0}, "hours"),
            ({"quiet_days": -1}, "quiet_days"),
            ({"consent_exempt_days": -1}, "consent_exempt_days"),
            ({"consent_minutes": -1}, "consent_minutes"),
            ({"per": "debtor"}, "per"),
            ({"across": "case"}, "across"),
        ],
    )
    def test_values_below_the_minimum_are_refused(self, fields: dict[str, Any], field: str) -> None:
        with pytest.raises(ValidationError) as err:
            cap(**fields)
        assert err.value.errors()[0]["loc"] == (field,)

    def test_the_smallest_values_are_accepted(self) -> None:
        item = cap(limit=0, days=1, quiet_days=0, consent_exempt_days=0, consent_minutes=0)
        assert (item.limit, item.days) == (0, 1)
        assert cap(days=None, hours=1).hours == 1
        with pytest.raises(ValidationError, match="give exactly one of days and hours"):
            cap(days=None)

    def test_contact_hours_refuses_negative_consent_minutes(self) -> None:
        with pytest.raises(ValidationError, match="consent_minutes"):
            ContactHours(id="X", citation="c", consent_minutes=-1)
        assert ContactHours(id="X", citation="c", consent_minutes=0).consent_minutes == 0


class TestCount:
    AT = ny(2026, 10, 14, 12, 0)

    def test_the_limit_on_both_sides(self) -> None:
        assert check(cap(), self.AT, calls(ny(2026, 10, 10, 10))) is None
        two = calls(ny(2026, 10, 8, 10), ny(2026, 10, 10, 10))
        assert check(cap(limit=3), self.AT, two) is None
        # The call of the 8th leaves the window at midnight on the 15th.
        assert check(cap(), self.AT, two) == count_reason(3, 2, "7 days", ny(2026, 10, 15))

    def test_the_retry_waits_for_enough_calls_to_leave(self) -> None:
        three = calls(ny(2026, 10, 8, 10), ny(2026, 10, 9, 10), ny(2026, 10, 10, 10))
        assert check(cap(), self.AT, three) == count_reason(4, 2, "7 days", ny(2026, 10, 16))

    def test_the_first_day_of_the_window_counts_from_local_midnight(self) -> None:
        before = calls(ny(2026, 10, 7, 23, 59, 59), ny(2026, 10, 10, 10))
        assert check(cap(), ny(2026, 10, 14, 23, 59), before) is None
        first = calls(ny(2026, 10, 8, 0, 0), ny(2026, 10, 10, 10))
        assert check(cap(), ny(2026, 10, 14, 23, 59), first) == count_reason(
            3, 2, "7 days", ny(2026, 10, 15)
        )
        assert check(cap(), ny(2026, 10, 15, 0, 0), first) is None

    def test_the_window_across_fall_back(self) -> None:
        """Judged on 3 November (EST): the window opens at 00:00 EDT on 28 October."""
        at = ny(2026, 11, 3, 12)
        assert check(cap(), at, calls(ny(2026, 10, 27, 23, 59), ny(2026, 11, 2, 10))) is None
        counted = calls(ny(2026, 10, 28, 0, 0), ny(2026, 11, 2, 10))
        assert check(cap(), at, counted) == count_reason(3, 2, "7 days", ny(2026, 11, 4))
        assert ny(2026, 11, 4).utcoffset() == timedelta(hours=-5)

    def test_with_no_zone_known_days_are_those_of_the_moments_offset(self) -> None:
        case = make_case(
            timezone=None, contacts=[{"id": "mobile", "channel": "call", "address": "unknown"}]
        )
        at = utc(2026, 10, 14, 12)
        log = calls(utc(2026, 10, 7, 23, 59), utc(2026, 10, 8, 0, 0), utc(2026, 10, 9, 1))
        assert check(cap(), at, log, case=case) == count_reason(3, 2, "7 days", utc(2026, 10, 15))
        quiet = calls(utc(2026, 10, 8, 0, 0), outcome="conversation")
        reason = check(cap(limit=7, quiet_days=7), at, quiet, case=case)
        assert reason is not None
        assert reason.retry_at == utc(2026, 10, 15)

    def test_the_debtors_days_whatever_the_offset_of_the_moment_judged(self) -> None:
        """Judged at a moment written in Honolulu time, the window opens at midnight in New York:
        a call at 01:00 on its first day counts."""
        log = calls(ny(2026, 10, 8, 1, 0), ny(2026, 10, 10, 10))
        at = ny(2026, 10, 14, 12).astimezone(HONOLULU)
        assert check(cap(), at, log) == count_reason(3, 2, "7 days", ny(2026, 10, 15))

    def test_a_one_day_window_is_a_day(self) -> None:
        log = calls(ny(2026, 10, 13, 23, 59), ny(2026, 10, 14, 9, 0))
        assert check(cap(limit=1, days=1), self.AT, log) == count_reason(
            2, 1, "a day", ny(2026, 10, 15)
        )
        assert check(cap(limit=1, days=1), self.AT, calls(ny(2026, 10, 13, 23, 59))) is None
        # Two calls counted, limit 1: the later one must leave, on the 16th.
        assert check(cap(limit=1, days=2), self.AT, log) == count_reason(
            3, 1, "2 days", ny(2026, 10, 16)
        )

    def test_a_window_in_hours(self) -> None:
        daily = cap(limit=1, days=None, hours=24)
        log = calls(ny(2026, 10, 13, 13, 0))
        assert check(daily, ny(2026, 10, 14, 12, 59), log) == count_reason(
            2, 1, "24 hours", ny(2026, 10, 14, 13, 0)
        )
        # The retry is allowed: a call made exactly 24 hours ago has left the window.
        assert check(daily, ny(2026, 10, 14, 13, 0), log) is None

    def test_a_window_in_hours_is_elapsed_time_across_fall_back(self) -> None:
        """A call at 13:00 EDT on 31 October is 24 hours old at 12:00 EST on 1 November."""
        daily = cap(limit=1, days=None, hours=24)
        log = calls(ny(2026, 10, 31, 13, 0))
        reason = check(daily, ny(2026, 11, 1, 11, 59), log)
        assert reason == count_reason(2, 1, "24 hours", ny(2026, 11, 1, 12, 0))
        assert reason is not None
        assert reason.retry_at == utc(2026, 11, 1, 17, 0)
        assert check(daily, ny(2026, 11, 1, 12, 0), log) is None
        assert check(daily, ny(2026, 11, 1, 12, 30), log) is None

    def test_a_limit_of_zero_allows_nothing_and_time_does_not_help(self) -> None:
        assert check(cap(limit=0), self.AT) == count_reason(1, 0, "7 days", None)
        assert check(cap(limit=0, days=None, hours=3), self.AT) == count_reason(
            1, 0, "3 hours", None
        )

    def test_calls_after_the_moment_judged_do_not_count(self) -> None:
        log = calls(ny(2026, 10, 14, 11, 0), ny(2026, 10, 14, 12, 0), ny(2026, 10, 14, 12, 1))
        assert check(cap(limit=2), self.AT, log) == count_reason(3, 2, "7 days", ny(2026, 10, 21))
        assert check(cap(limit=3), self.AT, log) is None

    @pytest.mark.parametrize(
        ("channel", "outcome", "counted"),
        [
            ("call", "no_answer", True),
            ("call", "voicemail", True),
            ("call", "conversation", True),
            ("call", "wrong_party", True),
            ("call", "unknown", True),  # it may have reached them
            ("voicemail", "delivered", False),
            ("voicemail", "unknown", True),
            ("call", "busy", False),
            ("call", "not_connected", False),
            ("sms", "unknown", False),
        ],
    )
    def test_what_counts_by_default(self, channel: str, outcome: str, counted: bool) -> None:
        log = calls(ny(2026, 10, 14, 9), channel=channel, outcome=outcome)
        reason = check(cap(limit=1), self.AT, log)
        assert (reason is not None) is counted

    def test_counted_channels_and_outcomes_of_its_own(self) -> None:
        texts = cap(
            limit=1,
            counted_channels=frozenset({"sms"}),
            counted_outcomes=frozenset({"delivered"}),
            noun="texts",
        )
        log = calls(ny(2026, 10, 14, 9), channel="sms", outcome="delivered", contact="mobile-sms")
        reason = check(texts, self.AT, log, channel="sms", contact="mobile-sms")
        assert reason == count_reason(2, 1, "7 days", ny(2026, 10, 21), noun="texts")
        assert check(texts, self.AT, calls(ny(2026, 10, 14, 9))) is None


class TestCalendarWeek:
    """``week_starts``: the window is the calendar week holding the moment judged, from local
    midnight of its first day, and a denied contact waits for the next week's start."""

    #: Thursday 8, Friday 9 and Saturday 10 October 2026 (Monday 12 starts a week).
    THREE = (ny(2026, 10, 8, 10), ny(2026, 10, 9, 10), ny(2026, 10, 10, 10))

    def test_a_week_from_monday(self) -> None:
        weekly = cap(limit=3, week_starts="monday")
        window = "the calendar week from Monday"
        assert check(weekly, ny(2026, 10, 11, 23, 59), calls(*self.THREE)) == count_reason(
            4, 3, window, ny(2026, 10, 12)
        )
        assert check(weekly, ny(2026, 10, 12, 0, 0), calls(*self.THREE)) is None
        # The rolling seven days of the default still count the three on the Monday.
        assert check(cap(limit=3), ny(2026, 10, 12, 10), calls(*self.THREE)) == count_reason(
            4, 3, "7 days", ny(2026, 10, 15)
        )

    def test_a_week_from_sunday(self) -> None:
        weekly = cap(limit=3, week_starts="sunday")
        assert check(weekly, ny(2026, 10, 10, 23, 59), calls(*self.THREE)) == count_reason(
            4, 3, "the calendar week from Sunday", ny(2026, 10, 11)
        )
        assert check(weekly, ny(2026, 10, 11, 0, 0), calls(*self.THREE)) is None

    def test_the_first_day_counts_from_local_midnight(self) -> None:
        """A call at 23:59:59 on the Sunday is in the week before; one at 00:00 on the
        Monday is in the week, whatever the offset of the moment judged."""
        weekly = cap(limit=1, week_starts="monday")
        log = calls(ny(2026, 10, 11, 23, 59, 59), ny(2026, 10, 12, 0, 0))
        at = ny(2026, 10, 14, 12).astimezone(HONOLULU)
        assert check(weekly, at, log) == count_reason(
            2, 1, "the calendar week from Monday", ny(2026, 10, 19)
        )
        assert check(weekly, at, calls(ny(2026, 10, 11, 23, 59, 59))) is None

    def test_the_week_across_fall_back(self) -> None:
        """The week from Sunday 1 November starts at 00:00 EDT, before the clocks go back at
        02:00; judged on the Saturday (EST), a call at 00:30 EDT that Sunday counts, one at
        23:59 EDT on the Saturday before does not, and the next week starts at 00:00 EST."""
        weekly = cap(limit=1, week_starts="sunday")
        at = ny(2026, 11, 7, 12)
        assert check(weekly, at, calls(ny(2026, 10, 31, 23, 59))) is None
        reason = check(weekly, at, calls(ny(2026, 10, 31, 23, 59), ny(2026, 11, 1, 0, 30)))
        assert reason == count_reason(2, 1, "the calendar week from Sunday", ny(2026, 11, 8))
        assert reason is not None
        assert reason.retry_at == utc(2026, 11, 8, 5, 0)

    def test_with_no_zone_known_weeks_are_those_of_the_moments_offset(self) -> None:
        case = make_case(
            timezone=None, contacts=[{"id": "mobile", "channel": "call", "address": "unknown"}]
        )
        weekly = cap(limit=1, week_starts="monday")
        log = calls(utc(2026, 10, 11, 23, 59), utc(2026, 10, 12, 0, 0))
        reason = check(weekly, utc(2026, 10, 14, 12), log, case=case)
        assert reason == count_reason(2, 1, "the calendar week from Monday", utc(2026, 10, 19))

    def test_a_limit_of_zero_allows_nothing_and_a_new_week_does_not_help(self) -> None:
        weekly = cap(limit=0, week_starts="sunday")
        assert check(weekly, ny(2026, 10, 14, 12)) == count_reason(
            1, 0, "the calendar week from Sunday", None
        )

    @pytest.mark.parametrize("window", [{"days": 1}, {"days": 14}, {"days": None, "hours": 168}])
    def test_a_calendar_week_is_seven_days(self, window: dict[str, Any]) -> None:
        with pytest.raises(ValidationError, match="a calendar week is days 7"):
            cap(week_starts="monday", **window)

    def test_only_monday_or_sunday(self) -> None:
        with pytest.raises(ValidationError) as err:
            cap(week_starts="tuesday")
        assert err.value.errors()[0]["loc"] == ("week_starts",)
        assert cap().week_starts is None

    def test_a_lender_sets_it_in_its_overrides(self) -> None:
        """The pack counts any seven days for US-WA-CELL-WEEK; a lender may count calendar
        weeks, not on a rule whose window is not seven days."""
        assert Compliance(["US-WA"]).rule("US-WA-CELL-WEEK").week_starts is None  # type: ignore[attr-defined]
        relaxed = Compliance(["US-WA"], overrides={"US-WA-CELL-WEEK": {"week_starts": "sunday"}})
        assert relaxed.rule("US-WA-CELL-WEEK").week_starts == "sunday"  # type: ignore[attr-defined]
        with pytest.raises(InvalidInput) as caught:
            Compliance(["US-WA"], overrides={"US-WA-CELL": {"week_starts": "monday"}})
        assert (caught.value.field, caught.value.value) == (
            "overrides.US-WA-CELL.week_starts",
            "monday",
        )


class TestWhoseContactsCount:
    AT = ny(2026, 10, 14, 12, 0)

    @pytest.mark.parametrize(
        ("per", "contact", "counted"),
        [
            ("person", "mobile", True),
            ("person", "home", True),  # the debtor on another number
            ("person", "office", True),
            ("person", "sister", False),  # another person
            ("person", "boss", False),
            ("contact", "mobile", True),
            ("contact", "home", False),
            ("case", "home", True),
            ("case", "sister", True),
            ("case", "boss", True),
        ],
    )
    def test_for_the_debtor(self, per: str, contact: str, counted: bool) -> None:
        party = {"sister": "third_party", "boss": "employer"}.get(contact, "debtor")
        log = calls(ny(2026, 10, 14, 9), contact=contact, party=party)
        reason = check(cap(limit=1, per=per), self.AT, log)
        assert (reason is not None) is counted

    def test_per_contact_without_a_contact_point_is_per_person(self) -> None:
        log = calls(ny(2026, 10, 14, 9), contact="home")
        letter = {"channel": "call", "contact": None, "party": "debtor"}
        assert check(cap(limit=1, per="contact"), self.AT, log, **letter) is not None
        assert check(cap(limit=1, per="contact"), self.AT, log) is None

    @pytest.mark.parametrize(
        ("contact", "party", "counted"),
        [
            ("sister", "third_party", True),
            ("friend", "third_party", False),  # another third party
            ("mobile", "debtor", False),
            (None, "third_party", False),  # a third party reached without this contact point
        ],
    )
    def test_for_a_third_party(self, contact: str | None, party: str, counted: bool) -> None:
        log = calls(ny(2026, 10, 14, 9), contact=contact, party=party)
        reason = check(cap(limit=1), self.AT, log, contact="sister")
        assert (reason is not None) is counted

    @pytest.mark.parametrize(
        ("work", "per", "contact", "party", "proposal", "counted"),
        [
            (True, "person", "office", "debtor", "office", True),
            (True, "person", "mobile", "debtor", "office", False),  # not at work
            (True, "case", "boss", "employer", "office", True),  # the employer is at work
            (True, "case", "mobile", "debtor", "office", False),
            (True, "case", "sister", "third_party", "office", False),
            (False, "person", "mobile", "debtor", "mobile", True),
            (False, "person", "office", "debtor", "mobile", False),  # at work
            (False, "case", "boss", "employer", "mobile", False),
        ],
    )
    def test_at_work_or_not(
        self,
        work: bool,
        per: str,
        contact: str,
        party: str,
        proposal: str,
        counted: bool,
    ) -> None:
        log = calls(ny(2026, 10, 14, 9), contact=contact, party=party)
        reason = check(cap(limit=1, per=per, work=work), self.AT, log, contact=proposal)
        assert (reason is not None) is counted

    @pytest.mark.parametrize(
        ("work", "office", "mobile"),
        [(None, True, True), (True, True, False), (False, False, True)],
    )
    def test_work_narrows_what_is_judged(
        self, work: bool | None, office: bool, mobile: bool
    ) -> None:
        item = cap(work=work)
        assert item.admits(judgement(self.AT, contact="office")) is office
        assert item.admits(judgement(self.AT, contact="boss")) is office
        assert item.admits(judgement(self.AT)) is mobile

    @pytest.mark.parametrize(
        ("residence", "per", "contact", "party", "proposal", "counted"),
        [
            (True, "person", "den", "debtor", "den", True),
            (True, "person", "mobile", "debtor", "den", False),  # a mobile is away
            (True, "person", "office", "debtor", "den", False),
            (True, "person", "home", "debtor", "den", False),  # not known to be a landline
            (False, "person", "mobile", "debtor", "office", True),  # mobile and work together
            (False, "person", "office", "debtor", "mobile", True),
            (False, "person", "den", "debtor", "mobile", False),  # at the residence
            (False, "case", "boss", "employer", "mobile", True),  # the employer is away
        ],
    )
    def test_at_the_residence_or_away(
        self,
        residence: bool,
        per: str,
        contact: str,
        party: str,
        proposal: str,
        counted: bool,
    ) -> None:
        log = calls(ny(2026, 10, 14, 9), contact=contact, party=party)
        item = cap(limit=1, per=per, residence=residence)
        reason = check(item, self.AT, log, contact=proposal)
        assert (reason is not None) is counted

    @pytest.mark.parametrize(
        ("residence", "den", "away"),
        [(None, True, True), (True, True, False), (False, False, True)],
    )
    def test_residence_narrows_what_is_judged(
        self, residence: bool | None, den: bool, away: bool
    ) -> None:
        item = cap(residence=residence)
        assert item.admits(judgement(self.AT, contact="den")) is den
        for contact in ("mobile", "home", "office", "boss"):
            assert item.admits(judgement(self.AT, contact=contact)) is away
        # a contact with no contact point is judged by both
        assert item.admits(judgement(self.AT, contact=None, party="debtor")) is True


# -- across the debtor's cases --------------------------------------------------------------------
OTHER_CONTACTS: list[dict[str, Any]] = [
    {"id": "phone", "channel": "call", "address": MOBILE},  # the same number as C-1's mobile
    {"id": "landline", "channel": "call", "address": "+16175550321"},  # on C-2 only
    {"id": "hall", "channel": "call", "address": "+16175550457"},  # C-1's home landline
    {"id": "desk", "channel": "call", "address": "+16175550777", "work": True},  # C-1's office
    {"id": "sis", "channel": "call", "address": SISTER, "party": "third_party"},
    {"id": "pal", "channel": "call", "address": "+16175550666", "party": "third_party"},
    {"id": "void", "channel": "call", "address": "unknown"},
]


def debtor_history(own: Log, other: Log) -> DebtorHistory:
    addresses = {
        "C-1": {point["id"]: point["address"] for point in CONTACTS},
        "C-2": {point["id"]: point["address"] for point in OTHER_CONTACTS},
    }
    return DebtorHistory.merge("D-1", {"C-1": own.history, "C-2": other.history}, {}, addresses)


def across(
    item: FrequencyCap, at: datetime, own: Log, other: Log, **proposal: Any
) -> Reason | None:
    return check(item, at, own, debtor=debtor_history(own, other), **proposal)


class TestAcrossCases:
    AT = ny(2026, 10, 14, 12, 0)

    @pytest.mark.parametrize(
        ("scope", "about", "counted"),
        [
            ("debt", None, False),  # a call about the other loan only
            ("debt", ["C-1"], True),  # a call about both loans counts toward each
            ("debt", ["C-3"], False),
            ("debtor", None, True),
        ],
    )
    def test_which_debts(self, scope: str, about: list[str] | None, counted: bool) -> None:
        more = {"about": about} if about is not None else {}
        other = calls(ny(2026, 10, 14, 9), contact="phone", **more)
        reason = across(cap(limit=1, across=scope), self.AT, Log(), other)
        assert (reason is not None) is counted

    def test_the_count_and_retry_span_both_cases(self) -> None:
        own = calls(ny(2026, 10, 9, 9))
        other = calls(ny(2026, 10, 8, 9), ny(2026, 10, 10, 9), contact="landline")
        assert across(cap(limit=2, across="debtor"), self.AT, own, other) == count_reason(
            4, 2, "7 days", ny(2026, 10, 16)
        )

    @pytest.mark.parametrize(
        ("other_contact", "proposal", "counted"),
        [
            ("phone", "mobile", True),  # the same number, another id on the other case
            ("landline", "mobile", False),
            ("void", "nowhere", False),  # an unknown address is no number
            (None, "mobile", False),
        ],
    )
    def test_per_contact_counts_the_number(
        self, other_contact: str | None, proposal: str, counted: bool
    ) -> None:
        other = calls(ny(2026, 10, 14, 9), contact=other_contact)
        item = cap(limit=1, per="contact", across="debtor")
        reason = across(item, self.AT, Log(), other, contact=proposal)
        assert (reason is not None) is counted

    @pytest.mark.parametrize(
        ("other_contact", "party", "counted"),
        [("sis", "third_party", True), ("pal", "third_party", False), ("phone", "debtor", False)],
    )
    def test_a_third_party_is_recognised_by_number(
        self, other_contact: str, party: str, counted: bool
    ) -> None:
        other = calls(ny(2026, 10, 14, 9), contact=other_contact, party=party)
        reason = across(cap(limit=1, across="debtor"), self.AT, Log(), other, contact="sister")
        assert (reason is not None) is counted

    @pytest.mark.parametrize(
        ("other_contact", "party", "counted"),
        [("desk", "debtor", True), ("phone", "debtor", False), ("sis", "employer", True)],
    )
    def test_at_work_is_recognised_by_number(
        self, other_contact: str, party: str, counted: bool
    ) -> None:
        other = calls(ny(2026, 10, 14, 9), contact=other_contact, party=party)
        item = cap(limit=1, per="case", across="debtor", work=True)
        reason = across(item, self.AT, Log(), other, contact="office")
        assert (reason is not None) is counted

    @pytest.mark.parametrize(
        ("residence", "other_contact", "counted"),
        [
            (True, "hall", True),
            (True, "phone", False),
            (False, "phone", True),
            (False, "hall", False),
        ],
    )
    def test_the_residence_is_recognised_by_number(
        self, residence: bool, other_contact: str, counted: bool
    ) -> None:
        other = calls(ny(2026, 10, 14, 9), contact=other_contact)
        item = cap(limit=1, per="case", across="debtor", residence=residence)
        proposal = "den" if residence else "mobile"
        reason = across(item, self.AT, Log(), other, contact=proposal)
        assert (reason is not None) is counted

    def test_own_calls_count_with_the_debtors_history(self) -> None:
        own = calls(ny(2026, 10, 14, 9))
        assert across(cap(limit=1), self.AT, own, Log()) is not None
        assert across(cap(limit=1, per="contact"), self.AT, own, Log()) is not None
        assert across(cap(limit=1, per="contact"), self.AT, own, Log(), contact="home") is None


# -- quiet days after a conversation --------------------------------------------------------------
def quiet_message(day: str, until: str, days: int = 7) -> str:
    return f"a conversation on {day} (day 1 of {days}): no calls before {until}"


class TestQuietDays:
    QUIET = cap(limit=7, quiet_days=7)

    def test_day_seven_denied_day_eight_allowed(self) -> None:
        log = calls(ny(2026, 10, 2, 10), outcome="conversation")
        assert check(self.QUIET, ny(2026, 10, 8, 23, 59), log) == Reason(
            "X-CAP",
            "Policy 3",
            quiet_message("2026-10-02", "2026-10-09"),
            {"conversation_on": date(2026, 10, 2), "quiet_days": 7},
            ny(2026, 10, 9),
        )
        assert check(self.QUIET, ny(2026, 10, 9, 0, 0), log) is None

    def test_a_conversation_late_on_day_one(self) -> None:
        log = calls(ny(2026, 10, 2, 23, 59), outcome="conversation")
        reason = check(self.QUIET, ny(2026, 10, 8, 23, 59), log)
        assert reason is not None
        assert reason.retry_at == ny(2026, 10, 9)
        assert check(self.QUIET, ny(2026, 10, 9), log) is None

    def test_the_latest_conversation_counts(self) -> None:
        log = calls(ny(2026, 10, 2, 10), ny(2026, 10, 5, 10), outcome="conversation")
        reason = check(self.QUIET, ny(2026, 10, 9, 10), log)
        assert reason is not None
        assert reason.message == quiet_message("2026-10-05", "2026-10-12")
        assert reason.retry_at == ny(2026, 10, 12)

    def test_the_debtors_days_whatever_the_offset_of_the_moment_judged(self) -> None:
        """Judged at a moment written in Honolulu time: the quiet days are New York days, and a
        conversation at 01:00 on the first of them still counts."""
        log = calls(ny(2026, 10, 2, 1, 0), outcome="conversation")
        at = ny(2026, 10, 8, 12).astimezone(HONOLULU)
        reason = check(self.QUIET, at, log)
        assert reason is not None
        assert reason.retry_at == ny(2026, 10, 9)

    def test_with_no_zone_known_a_conversation_is_on_the_day_of_its_own_offset(self) -> None:
        """No zone is known: the conversation at 19:30 on 1 October (-05:00) is on the 1st,
        though it was 00:30 on the 2nd in UTC; its seven days end with the 7th."""
        contacts = [{"id": "mobile", "channel": "call", "address": "unknown"}]
        case = make_case(timezone=None, contacts=contacts)
        talk = datetime(2026, 10, 1, 19, 30, tzinfo=timezone(timedelta(hours=-5)))
        log = calls(talk, outcome="conversation")
        reason = check(self.QUIET, utc(2026, 10, 7, 23, 59), log, case=case)
        assert reason is not None
        assert reason.retry_at == utc(2026, 10, 8)
        assert check(self.QUIET, utc(2026, 10, 8, 12), log, case=case) is None

    def test_a_conversation_at_the_moment_judged(self) -> None:
        log = calls(ny(2026, 10, 14, 10), outcome="conversation")
        reason = check(self.QUIET, ny(2026, 10, 14, 10), log)
        assert reason is not None
        assert reason.message == quiet_message("2026-10-14", "2026-10-21")

    def test_one_quiet_day_is_the_conversations_own(self) -> None:
        item = cap(limit=7, quiet_days=1)
        log = calls(ny(2026, 10, 14, 9), outcome="conversation")
        assert check(item, ny(2026, 10, 14, 23, 59), log) == Reason(
            "X-CAP",
            "Policy 3",
            quiet_message("2026-10-14", "2026-10-15", days=1),
            {"conversation_on": date(2026, 10, 14), "quiet_days": 1},
            ny(2026, 10, 15),
        )
        assert check(item, ny(2026, 10, 15), log) is None

    @pytest.mark.parametrize(
        ("fields", "proposal"),
        [
            ({"outcome": "no_answer"}, {}),
            ({"outcome": "conversation", "channel": "sms", "contact": "mobile-sms"}, {}),
            ({"outcome": "conversation", "contact": "sister", "party": "third_party"}, {}),
            ({"outcome": "conversation", "at": ny(2026, 10, 14, 10, 1)}, {}),  # later
            ({"outcome": "conversation", "at": ny(2026, 10, 7, 23, 59)}, {}),  # 8 days ago
        ],
    )
    def test_what_is_not_a_conversation_that_counts(
        self, fields: dict[str, Any], proposal: dict[str, Any]
    ) -> None:
        at = fields.pop("at", ny(2026, 10, 13, 10))
        log = calls(at, **fields)
        assert check(self.QUIET, ny(2026, 10, 14, 10), log, **proposal) is None

    def test_none_by_default(self) -> None:
        log = calls(ny(2026, 10, 14, 9), outcome="conversation")
        assert check(cap(), ny(2026, 10, 14, 10), log) is None

    def test_both_reasons_and_the_later_retry(self) -> None:
        log = calls(ny(2026, 10, 2, 10), outcome="conversation").attempt(ny(2026, 10, 4, 10))
        assert check(cap(limit=1, quiet_days=7), ny(2026, 10, 5, 10), log) == Reason(
            "X-CAP",
            "Policy 3",
            "3 counted calls in 7 days, limit 1; " + quiet_message("2026-10-02", "2026-10-09"),
            {
                "count": 3,
                "limit": 1,
                "window": "7 days",
                "conversation_on": date(2026, 10, 2),
                "quiet_days": 7,
            },
            ny(2026, 10, 11),  # the call of the 4th leaves the window on the 11th
        )
        reason = check(cap(limit=0, quiet_days=7), ny(2026, 10, 5, 10), log)
        assert reason is not None
        assert reason.retry_at is None


# -- calls placed with consent (12 CFR 1006.14(b)(3)(i)) ------------------------------------------
GIVEN = ny(2026, 10, 5, 9, 0)  # day 1 of the seven


def consented(**fields: Any) -> Log:
    window = {"covers": ["calls"], "until": ny(2026, 10, 25)}
    return Log().consent(GIVEN, **{**window, **fields})


class TestConsentExemption:
    EXEMPT = cap(limit=1, days=14, consent_exempt_days=7)

    def test_the_seventh_day_is_exempt_and_the_eighth_is_not(self) -> None:
        log = consented().attempt(ny(2026, 10, 5, 8, 0))  # before the consent: counted
        assert check(self.EXEMPT, ny(2026, 10, 11, 23, 59), log) is None
        assert check(self.EXEMPT, ny(2026, 10, 12, 0, 0), log) == count_reason(
            2, 1, "14 days", ny(2026, 10, 19)
        )

    def test_calls_placed_with_consent_leave_the_count_until_the_eighth_day(self) -> None:
        day7 = consented().attempt(ny(2026, 10, 11, 23, 0))
        assert check(self.EXEMPT, ny(2026, 10, 13, 10), day7) is None
        day8 = consented().attempt(ny(2026, 10, 12, 0, 0))
        assert check(self.EXEMPT, ny(2026, 10, 13, 10), day8) == count_reason(
            2, 1, "14 days", ny(2026, 10, 26)
        )

    def test_a_call_before_the_consent_was_given_is_not_placed_with_it(self) -> None:
        early = consented(start=ny(2026, 10, 5, 8, 0)).attempt(ny(2026, 10, 5, 8, 59))
        assert check(self.EXEMPT, ny(2026, 10, 13, 10), early) is not None
        on_time = consented(start=ny(2026, 10, 5, 8, 0)).attempt(GIVEN)
        assert check(self.EXEMPT, ny(2026, 10, 13, 10), on_time) is None

    def test_a_consent_to_be_called_now_covers_sixty_minutes(self) -> None:
        now = {"covers": None, "until": None}
        inside = consented(**now).attempt(ny(2026, 10, 5, 10, 0))
        assert check(self.EXEMPT, ny(2026, 10, 6, 10), inside) is None
        outside_ = consented(**now).attempt(ny(2026, 10, 5, 10, 1))
        assert check(self.EXEMPT, ny(2026, 10, 6, 10), outside_) is not None
        brief = cap(limit=1, days=14, consent_exempt_days=7, consent_minutes=5)
        assert (
            check(brief, ny(2026, 10, 6, 10), consented(**now).attempt(ny(2026, 10, 5, 9, 5)))
            is None
        )
        assert check(brief, ny(2026, 10, 6, 10), inside) is not None

    def test_the_window_the_consent_names(self) -> None:
        log = consented(start=ny(2026, 10, 6, 14), until=ny(2026, 10, 6, 16))
        log.attempt(ny(2026, 10, 5, 12))  # counted: before the window
        assert check(self.EXEMPT, ny(2026, 10, 6, 13, 59), log) is not None
        assert check(self.EXEMPT, ny(2026, 10, 6, 14, 0), log) is None
        assert check(self.EXEMPT, ny(2026, 10, 6, 16, 0), log) is None
        assert check(self.EXEMPT, ny(2026, 10, 6, 16, 1), log) is not None

    @pytest.mark.parametrize(
        ("fields", "proposal"),
        [
            ({"covers": ["hours"]}, {}),  # another question
            ({"channel": "sms"}, {}),
            ({"contact": "home"}, {}),  # another number
            ({"contact": "sister"}, {}),  # another person's consent
            ({}, {"contact": "sister"}),  # the debtor's consent is not a third party's
        ],
    )
    def test_a_consent_that_does_not_answer_the_call(
        self, fields: dict[str, Any], proposal: dict[str, Any]
    ) -> None:
        log = consented(**fields)
        log.attempt(
            ny(2026, 10, 5, 12),
            contact=proposal.get("contact", "mobile"),
            party="third_party" if proposal else "debtor",
        )
        assert check(self.EXEMPT, ny(2026, 10, 6, 10), log, **proposal) is not None

    def test_the_debtors_consent_for_one_number_covers_its_other_contact_points(self) -> None:
        log = consented(contact="mobile-vm").attempt(ny(2026, 10, 5, 12))
        assert check(self.EXEMPT, ny(2026, 10, 6, 10), log) is None
        sister = consented(contact="sister").attempt(
            ny(2026, 10, 5, 12), contact="sister", party="third_party"
        )
        assert check(self.EXEMPT, ny(2026, 10, 6, 10), sister, contact="sister") is None

    def test_an_opt_out_revokes_it(self) -> None:
        log = consented().opt_out(ny(2026, 10, 6, 9), contact="mobile")
        log.attempt(ny(2026, 10, 5, 8))  # before the consent: counted
        log.attempt(ny(2026, 10, 5, 12))  # placed with the consent before the opt-out: not counted
        assert check(self.EXEMPT, ny(2026, 10, 6, 8, 59), log) is None
        assert check(self.EXEMPT, ny(2026, 10, 6, 10), log) == count_reason(
            2, 1, "14 days", ny(2026, 10, 19)
        )

    def test_a_call_placed_the_instant_consent_is_given(self) -> None:
        log = Log().attempt(ny(2026, 10, 5, 8, 0)).consent(GIVEN)
        assert check(self.EXEMPT, GIVEN, log) is None
        assert check(self.EXEMPT, GIVEN - timedelta(seconds=1), log) is not None

    def test_an_old_consent_does_not_hide_a_recent_one(self) -> None:
        log = Log().consent(ny(2026, 9, 1, 9), covers=["calls"], until=ny(2026, 9, 2))
        log.consent(GIVEN, covers=["calls"], until=ny(2026, 10, 25))
        log.attempt(ny(2026, 10, 5, 8))  # before the consent: counted
        assert check(self.EXEMPT, ny(2026, 10, 6, 10), log) is None

    def test_no_exemption_by_default(self) -> None:
        log = consented().attempt(ny(2026, 10, 5, 12))
        assert check(cap(limit=1, days=14), ny(2026, 10, 6, 10), log) is not None

    def test_a_consent_before_the_window_still_exempts_the_calls_of_its_seven_days(self) -> None:
        """An hours window: a consent given in the first minutes of 7 October exempts a call on
        the 13th (day 7) though it is older than the window and six days before it."""
        item = cap(limit=1, days=None, hours=24, consent_exempt_days=7)
        log = Log().consent(ny(2026, 10, 7, 0, 30), covers=["calls"], until=ny(2026, 10, 25))
        log.attempt(ny(2026, 10, 13, 16))
        assert check(item, ny(2026, 10, 14, 15), log) is None
        log.attempt(ny(2026, 10, 14, 9))  # day 8: counted
        assert check(item, ny(2026, 10, 14, 15), log) == count_reason(
            2, 1, "24 hours", ny(2026, 10, 15, 9)
        )

    def test_an_own_call_keeps_its_contact_point_beside_the_debtors_history(self) -> None:
        """Two contact points whose number is not known: a consent about the second one
        exempts the calls placed on it, which are not the first one's."""
        unknown = [*CONTACTS, {"id": "nowhere-2", "channel": "call", "address": "unknown"}]
        case = make_case(contacts=unknown)
        own = consented(contact="nowhere-2").attempt(ny(2026, 10, 5, 12), contact="nowhere-2")
        item = cap(limit=1, days=14, consent_exempt_days=7)
        day8 = ny(2026, 10, 12, 10)
        debtor = debtor_history(own, Log())
        assert check(item, day8, own, case=case, debtor=debtor, contact="nowhere-2") is None
        assert check(item, day8, own, case=case, contact="nowhere-2") is None

    def test_a_call_on_another_case_to_the_same_number(self) -> None:
        """Judged on day 8 (not exempt): the call of day 1 on the other case is exempt when it
        used the number the consent names."""
        own = consented(contact="mobile")
        item = cap(limit=1, days=14, consent_exempt_days=7, across="debtor")
        day8 = ny(2026, 10, 12, 10)
        same = calls(ny(2026, 10, 5, 12), contact="phone")
        assert across(item, day8, own, same) is None
        other = calls(ny(2026, 10, 5, 12), contact="landline")
        assert across(item, day8, own, other) == count_reason(2, 1, "14 days", ny(2026, 10, 19))
        nothing = calls(ny(2026, 10, 5, 12), contact=None)
        assert across(item, day8, own, nothing) is not None
        assert across(item, day8, consented(), other) is None  # a consent naming no number


# -- helpers the later rule kinds share -----------------------------------------------------------
class TestSharedHelpers:
    AT = ny(2026, 10, 14, 12, 0)

    def test_latest_notice_since(self) -> None:
        sent = ny(2026, 10, 10, 9)
        notices = {"attorney_contacted": sent}
        assert _latest(notices, "attorney_contacted", sent) == sent
        assert _latest(notices, "attorney_contacted", sent - timedelta(days=1)) == sent
        assert _latest(notices, "attorney_contacted", sent + timedelta(seconds=1)) is None
        assert _latest(notices, "attorney_responded", sent) is None
        assert _latest(notices, None, sent) is None

    @pytest.mark.parametrize(
        ("fields", "consented_"),
        [
            ({"covers": ["automated"]}, True),  # no end: until revoked
            ({"covers": ["automated"], "until": ny(2026, 10, 14, 12)}, True),
            ({"covers": ["automated"], "until": ny(2026, 10, 14, 11, 59)}, False),
            ({"covers": ["automated"], "start": ny(2026, 10, 14, 12, 1)}, False),
            ({"covers": ["automated"], "at": ny(2026, 10, 14, 12, 1)}, False),  # later
            ({"covers": ["automated"], "at": ny(2026, 10, 14, 12)}, True),
            ({"covers": ["hours", "calls"]}, False),
            ({}, False),  # a consent to be called now is not a standing consent
            ({"covers": ["automated"], "contact": "home"}, False),
        ],
    )
    def test_a_standing_consent(self, fields: dict[str, Any], consented_: bool) -> None:
        log = Log().consent(**{"at": ny(2026, 10, 1, 9), **fields})
        assert _consented(judgement(self.AT, log), "automated") is consented_

    def test_a_standing_consent_ends_with_an_opt_out_after_it(self) -> None:
        log = Log().consent(ny(2026, 10, 1, 9), covers=["automated"])
        log.opt_out(ny(2026, 10, 14, 11), contact="mobile")
        assert _consented(judgement(self.AT, log), "automated") is False
        assert _consented(judgement(ny(2026, 10, 14, 10, 59), log), "automated") is True

    def test_a_contact_point_that_carries_consent(self) -> None:
        points = [{**CONTACTS[0], "consent": True}, *CONTACTS[1:]]
        case = make_case(contacts=points)
        assert _consented(judgement(self.AT, case=case), "automated") is True
        assert _consented(judgement(self.AT, case=case, contact="home"), "automated") is False
        no_point = judgement(self.AT, case=case, contact=None, party="debtor")
        assert _consented(no_point, "automated") is False
        revoked = Log().opt_out(ny(2026, 10, 2, 9), contact="mobile")
        assert _consented(judgement(self.AT, revoked, case=case), "automated") is False
        elsewhere = Log().opt_out(ny(2026, 10, 2, 9), contact="home")
        assert _consented(judgement(self.AT, elsewhere, case=case), "automated") is True

    def test_reveals(self) -> None:
        item = Always(id="X-3P", citation="Policy 4")
        pattern = re.compile(r"\bdebts?\b", re.IGNORECASE)
        j = judgement(self.AT, text="About your Debt of $900.")
        assert _reveals(item, j, pattern) == Reason(
            "X-3P", "Policy 4", "the text reveals the debt: 'Debt'", {"match": "Debt"}, None
        )
        assert _reveals(item, j, None) is None
        assert _reveals(item, judgement(self.AT), pattern) is None
        assert _reveals(item, judgement(self.AT, text="Please call us back."), pattern) is None

    @pytest.mark.parametrize(
        ("party", "outcome", "purpose", "communicated"),
        [
            ("debtor", "conversation", "collection", True),
            ("debtor", "delivered", "collection", True),
            ("debtor", "voicemail", "collection", True),
            ("debtor", "voicemail", "limited_content", False),
            ("debtor", "no_answer", "collection", False),
            ("debtor", "reply", "collection", False),
            ("third_party", "conversation", "collection", False),
        ],
    )
    def test_what_conveys_information_to_the_debtor(
        self, party: str, outcome: str, purpose: str, communicated: bool
    ) -> None:
        attempt = Attempt(self.AT, "call", outcome, party, "mobile", False, purpose)
        assert _communicated(attempt) is communicated
