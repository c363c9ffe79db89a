"""The rule kinds from holds to records, judged one rule at a time.

Each test builds a case, its contact history and one proposal, and asks one
rule directly (`Rule.check`), so that a rule's own logic decides: a hold
ended by a notice, an attorney's silence, an opt-out's one confirmation, a
limitation period's last day. Boundaries are pinned on both sides in the
debtor's time zone, and every denial is compared whole (message, values,
retry_at).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from arrears.case import Case
from arrears.compliance import ContactHistory, Judgement, Proposal
from arrears.compliance.model import Reason
from arrears.compliance.rules import (
    AutomatedNeedsConsent,
    FieldVisitStaffing,
    ForbiddenWording,
    HoldBlocks,
    LimitedContent,
    MediumNeedsConsent,
    MediumOptOut,
    NoContactOnHolidays,
    NoExposure,
    NoticeRequired,
    PassiveReporting,
    PlaceRestriction,
    RecordRetention,
    RepresentedByAttorney,
    RequiredWording,
    Rule,
    SelfIdentification,
    ThirdPartyLocationOnly,
    ThirdPartyWhenUnreachable,
    TimeBarred,
    ValidationNoticeDue,
    WorkEmailNeedsConsent,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")
CITATION = "Test citation 1.1"
R = TypeVar("R", bound=Rule)

MOBILE = "+16175550123"
SISTER = "+16175550999"

CONTACTS: tuple[dict[str, Any], ...] = (
    {"id": "mobile", "channel": "call", "address": MOBILE},
    {"id": "sms", "channel": "sms", "address": MOBILE},
    {"id": "email", "channel": "email", "address": "jane@example.com"},
    {"id": "work-email", "channel": "email", "address": "jane@corp.example", "work": True},
    {"id": "work-phone", "channel": "call", "address": "+16175550777", "work": True},
    {"id": "home", "channel": "letter", "address": "12 Elm St, Boston, MA 02108"},
    {"id": "sister", "channel": "call", "address": SISTER, "party": "third_party"},
    {"id": "sister-sms", "channel": "sms", "address": SISTER, "party": "third_party"},
    {"id": "cousin", "channel": "call", "address": "+16175550555", "party": "third_party"},
    {"id": "boss", "channel": "call", "address": "+16175550888", "party": "employer"},
)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def just_before(moment: datetime) -> datetime:
    """The second before *moment*, read in Tokyo: a zone neither the debtor's nor the calendar's."""
    return (moment - timedelta(seconds=1)).astimezone(TOKYO)


def make_case(
    *,
    timezone: str | None = "America/New_York",
    contacts: tuple[dict[str, Any], ...] = CONTACTS,
    holds: tuple[dict[str, Any], ...] = (),
    notices: dict[str, datetime] | None = None,
    due_date: str = "2026-08-01",
    **extra: Any,
) -> Case:
    debtor: dict[str, Any] = {"id": "D-1"}
    if timezone is not None:
        debtor["timezone"] = timezone
    return Case.model_validate(
        {
            "id": "C-1",
            "debtor": debtor,
            "contacts": list(contacts),
            "balance": {"currency": "USD", "principal": "1250.00"},
            "due_date": due_date,
            "holds": list(holds),
            "notices": notices or {},
            **extra,
        }
    )


def hold(kind: str, started_at: datetime, hold_id: str = "H-1", **extra: Any) -> dict[str, Any]:
    return {"id": hold_id, "kind": kind, "reason": "recorded", "started_at": started_at, **extra}


Entry = tuple[str, datetime, dict[str, Any]]


def attempt(at: datetime, outcome: str = "no_answer", channel: str = "call", **data: Any) -> Entry:
    return ("interaction", at, {"channel": channel, "outcome": outcome, **data})


def consent(at: datetime, channel: str, contact: str | None, **data: Any) -> Entry:
    return ("consent", at, {"channel": channel, "contact": contact, **data})


def opt_out(at: datetime, channel: str, contact: str | None, via: str | None = None) -> Entry:
    data: dict[str, Any] = {"channel": channel, "contact": contact}
    if via is not None:
        data["via"] = via  # the medium the request came by
    return ("opt_out", at, data)


def history_of(*entries: Entry) -> ContactHistory:
    history = ContactHistory()
    for seq, (kind, at, data) in enumerate(entries):
        history.add(seq, kind, at, data)
    return history


def judgement(
    at: datetime,
    case: Case | None = None,
    history: ContactHistory | None = None,
    **proposal: Any,
) -> Judgement:
    fields: dict[str, Any] = {"channel": "call", "contact": "mobile", **proposal}
    return Judgement(
        case if case is not None else make_case(),
        history if history is not None else ContactHistory(),
        Proposal(**fields),
        at,
    )


def check(
    rule: Rule,
    at: datetime,
    case: Case | None = None,
    history: ContactHistory | None = None,
    **proposal: Any,
) -> Reason | None:
    return rule.check(judgement(at, case, history, **proposal))


def variant(rule: R, **changes: Any) -> R:
    """*rule* with other parameters, validated afresh as a lender's override is."""
    return type(rule).model_validate({**dict(rule), **changes})


def reason(rule: Rule, message: str, retry_at: datetime | None = None, **values: Any) -> Reason:
    return Reason(rule.id, CITATION, message, values, retry_at)


# -- holds -----------------------------------------------------------------------------------------
class TestHoldBlocks:
    dispute = HoldBlocks(
        id="X-DISPUTE",
        citation=CITATION,
        kinds=frozenset({"dispute"}),
        exempt=frozenset({"verification", "validation_notice"}),
    )

    def test_the_denial_names_the_hold_and_the_purposes_still_allowed(self) -> None:
        case = make_case(holds=(hold("dispute", ny(2026, 9, 10, 14)),))
        assert check(self.dispute, ny(2026, 9, 20, 10), case) == reason(
            self.dispute,
            "dispute hold since 2026-09-10: only validation_notice, verification allowed",
            hold="H-1",
            kind="dispute",
        )

    def test_without_exempt_purposes_no_contact_at_all(self) -> None:
        rule = HoldBlocks(id="X-BK", citation=CITATION, kinds=frozenset({"bankruptcy"}))
        case = make_case(holds=(hold("bankruptcy", ny(2026, 9, 10, 14), "BK-1"),))
        assert check(rule, ny(2026, 9, 20, 10), case) == reason(
            rule, "bankruptcy hold since 2026-09-10: no contact", hold="BK-1", kind="bankruptcy"
        )

    def test_only_its_kinds_and_only_while_in_force(self) -> None:
        case = make_case(
            holds=(
                hold("cease", ny(2026, 9, 1), "H-0"),
                hold("dispute", ny(2026, 9, 10, 14), "H-1", released_at=ny(2026, 9, 15)),
                hold("dispute", ny(2026, 9, 12), "H-2"),
            )
        )
        assert check(self.dispute, ny(2026, 9, 11), case) == reason(
            self.dispute,
            "dispute hold since 2026-09-10: only validation_notice, verification allowed",
            hold="H-1",
            kind="dispute",
        )
        # H-1 is released: the next matching hold is the one named.
        assert check(self.dispute, ny(2026, 9, 16), case) == reason(
            self.dispute,
            "dispute hold since 2026-09-12: only validation_notice, verification allowed",
            hold="H-2",
            kind="dispute",
        )
        assert check(self.dispute, ny(2026, 9, 10, 13, 59), case) is None
        assert check(self.dispute, ny(2026, 9, 10, 14), case) is not None

    def test_a_hold_with_an_end_is_retried_at_its_end(self) -> None:
        rule = HoldBlocks(
            id="X-BS", citation=CITATION, kinds=frozenset({"breathing_space"}), default_days=60
        )
        case = make_case(holds=(hold("breathing_space", ny(2026, 9, 1), ends_at=ny(2026, 9, 20)),))
        assert check(rule, ny(2026, 9, 19, 23, 59), case) == reason(
            rule,
            "breathing_space hold since 2026-09-01: no contact",
            retry_at=ny(2026, 9, 20),
            hold="H-1",
            kind="breathing_space",
        )
        assert check(rule, ny(2026, 9, 20), case) is None

    @pytest.mark.parametrize(
        ("written_only", "written", "blocks"),
        [
            (True, False, False),
            (True, None, True),
            (True, True, True),
            (False, False, True),
        ],
    )
    def test_written_only_ignores_a_hold_said_not_to_be_in_writing(
        self, written_only: bool, written: bool | None, blocks: bool
    ) -> None:
        rule = HoldBlocks(
            id="X-CEASE", citation=CITATION, kinds=frozenset({"cease"}), written_only=written_only
        )
        case = make_case(holds=(hold("cease", ny(2026, 9, 1), written=written),))
        expected = reason(rule, "cease hold since 2026-09-01: no contact", hold="H-1", kind="cease")
        assert check(rule, ny(2026, 9, 5), case) == (expected if blocks else None)


class TestBreathingSpaceDays:
    """60 days from the day after the entry, counted in London: the 60th day and the 61st."""

    uk = HoldBlocks(
        id="X-BS",
        citation=CITATION,
        kinds=frozenset({"breathing_space"}),
        default_days=60,
        first_day="next",
        calendar="Europe/London",
        exempt=frozenset({"reply"}),
    )
    # 02:00 in London on 1 March is still 28 February in New York.
    entered = london(2026, 3, 1, 2)

    def case(self) -> Case:
        return make_case(holds=(hold("breathing_space", self.entered),))

    def denial(self, rule: HoldBlocks, retry_at: datetime) -> Reason:
        allowed = ": only reply allowed" if rule.exempt else ": no contact"
        return reason(
            rule,
            "breathing_space hold since 2026-03-01" + allowed,
            retry_at=retry_at,
            hold="H-1",
            kind="breathing_space",
        )

    def test_day_one_is_the_day_after_the_entry_and_day_sixty_is_30_april(self) -> None:
        end = london(2026, 5, 1)  # midnight after the 60th day (2 March + 59 days)
        assert check(self.uk, just_before(end), self.case()) == self.denial(self.uk, end)
        assert check(self.uk, end, self.case()) is None

    def test_it_blocks_from_the_moment_it_is_recorded(self) -> None:
        assert check(self.uk, self.entered, self.case()) == self.denial(self.uk, london(2026, 5, 1))
        assert check(self.uk, self.entered - timedelta(seconds=1), self.case()) is None

    def test_counted_from_the_day_of_the_entry(self) -> None:
        rule = variant(self.uk, first_day="start")
        end = london(2026, 4, 30)
        assert check(rule, just_before(end), self.case()) == self.denial(rule, end)
        assert check(rule, end, self.case()) is None

    def test_without_a_calendar_the_debtors_days_count(self) -> None:
        rule = HoldBlocks(
            id="X-BS",
            citation=CITATION,
            kinds=frozenset({"breathing_space"}),
            default_days=60,
            first_day="next",
        )
        # Entered on 28 February in New York: day one is 1 March, day 60 is 29 April.
        end = ny(2026, 4, 30)
        assert check(rule, just_before(end), self.case()) == self.denial(rule, end)
        assert check(rule, end, self.case()) is None

    def test_with_no_zone_known_the_holds_own_offset_counts(self) -> None:
        rule = HoldBlocks(
            id="X-BS", citation=CITATION, kinds=frozenset({"breathing_space"}), default_days=10
        )
        started = datetime.fromisoformat("2026-03-01T23:00:00-05:00")
        case = make_case(
            timezone=None,
            contacts=({"id": "email", "channel": "email", "address": "jane@example.com"},),
            holds=(hold("breathing_space", started),),
        )
        end = utc(2026, 3, 11)  # 1 March + 10 days, midnight in the judged moment's offset
        assert check(rule, end - timedelta(seconds=1), case, contact="email", channel="email") == (
            reason(
                rule,
                "breathing_space hold since 2026-03-01: no contact",
                retry_at=end,
                hold="H-1",
                kind="breathing_space",
            )
        )
        assert check(rule, end, case, contact="email", channel="email") is None

    def test_a_recorded_end_wins_over_the_default_days(self) -> None:
        case = make_case(
            holds=(hold("breathing_space", self.entered, ends_at=london(2026, 6, 1, 12)),)
        )
        at = london(2026, 5, 20)
        assert check(self.uk, at, case) == self.denial(self.uk, london(2026, 6, 1, 12))

    def test_until_released_when_no_days_are_set(self) -> None:
        rule = HoldBlocks(id="X-BS", citation=CITATION, kinds=frozenset({"breathing_space"}))
        assert check(rule, london(2027, 1, 1), self.case()) == reason(
            rule,
            "breathing_space hold since 2026-03-01: no contact",
            hold="H-1",
            kind="breathing_space",
        )


class TestHoldEndedByNotices:
    crisis = HoldBlocks(
        id="X-MHCM",
        citation=CITATION,
        kinds=frozenset({"mental_health_crisis"}),
        ends_after_notice="crisis_treatment_ended",
        days_after_notice=30,
        calendar="Europe/London",
    )
    started = london(2026, 1, 5, 9)

    def denial(self, retry_at: datetime | None) -> Reason:
        return reason(
            self.crisis,
            "mental_health_crisis hold since 2026-01-05: no contact",
            retry_at=retry_at,
            hold="H-1",
            kind="mental_health_crisis",
        )

    def case(self, stopped: datetime | None, **extra: Any) -> Case:
        notices = {"crisis_treatment_ended": stopped} if stopped is not None else {}
        return make_case(
            holds=(hold("mental_health_crisis", self.started, **extra),), notices=notices
        )

    def test_the_treatment_end_is_day_one_of_thirty(self) -> None:
        # 23:30 in London on 10 February is still 10 February there (and in New York).
        case = self.case(london(2026, 2, 10, 23, 30))
        end = london(2026, 3, 12)
        assert check(self.crisis, just_before(end), case) == self.denial(end)
        assert check(self.crisis, end, case) is None

    def test_days_are_counted_in_the_rules_calendar(self) -> None:
        # 01:00 on 11 February in London is 10 February in New York: London's day counts.
        case = self.case(london(2026, 2, 11, 1))
        end = london(2026, 3, 13)
        assert check(self.crisis, just_before(end), case) == self.denial(end)
        assert check(self.crisis, end, case) is None

    def test_without_a_calendar_the_debtors_days_count(self) -> None:
        rule = HoldBlocks(
            id="X-MHCM",
            citation=CITATION,
            kinds=frozenset({"mental_health_crisis"}),
            ends_after_notice="crisis_treatment_ended",
            days_after_notice=30,
        )
        # 01:00 on 11 February in London is 20:00 on 10 February in New York.
        case = self.case(london(2026, 2, 11, 1))
        end = ny(2026, 3, 12)
        assert check(rule, just_before(end), case) == reason(
            rule,
            "mental_health_crisis hold since 2026-01-05: no contact",
            retry_at=end,
            hold="H-1",
            kind="mental_health_crisis",
        )
        assert check(rule, end, case) is None

    def test_a_notice_from_before_the_hold_is_ignored(self) -> None:
        case = self.case(self.started - timedelta(seconds=1))
        assert check(self.crisis, london(2026, 6, 1), case) == self.denial(None)

    def test_a_notice_at_the_holds_start_counts(self) -> None:
        case = self.case(self.started)
        assert check(self.crisis, london(2026, 1, 6), case) == self.denial(london(2026, 2, 4))

    def test_the_earlier_of_a_recorded_end_and_the_notices_end(self) -> None:
        stopped = london(2026, 2, 10, 12)
        early = self.case(stopped, ends_at=london(2026, 3, 1, 12))
        assert check(self.crisis, london(2026, 2, 20), early) == self.denial(london(2026, 3, 1, 12))
        late = self.case(stopped, ends_at=london(2026, 4, 1))
        assert check(self.crisis, london(2026, 2, 20), late) == self.denial(london(2026, 3, 12))

    def test_verification_sent_ends_a_dispute(self) -> None:
        rule = HoldBlocks(
            id="X-DISPUTE",
            citation=CITATION,
            kinds=frozenset({"dispute"}),
            ends_with_notice="verification",
        )
        started = ny(2026, 9, 10, 14)
        denial = reason(
            rule, "dispute hold since 2026-09-10: no contact", hold="H-1", kind="dispute"
        )
        for sent, expected in (
            (started - timedelta(seconds=1), denial),
            (started, None),
            (started + timedelta(days=3), None),
        ):
            case = make_case(holds=(hold("dispute", started),), notices={"verification": sent})
            assert check(rule, ny(2026, 9, 20), case) == expected
        other = make_case(holds=(hold("dispute", started),), notices={"validation": started})
        assert check(rule, ny(2026, 9, 20), other) == denial


class TestDisputeWithinTheValidationPeriod:
    rule = HoldBlocks(
        id="X-DISPUTE", citation=CITATION, kinds=frozenset({"dispute"}), validation_period=True
    )
    # Sent at 22:00 on 1 September in New York (2 September in UTC): the
    # period ends 9 October (Labor Day on the 7th not counted).
    sent = utc(2026, 9, 2, 2)

    def judge(self, started: datetime, *, notice: bool = True) -> Reason | None:
        notices = {"validation": self.sent} if notice else {}
        case = make_case(holds=(hold("dispute", started),), notices=notices)
        return check(self.rule, ny(2027, 2, 1), case)

    def test_a_dispute_on_the_last_day_of_the_period_blocks(self) -> None:
        # 03:00 UTC on 10 October is 23:00 on 9 October in New York.
        assert self.judge(utc(2026, 10, 10, 3)) == reason(
            self.rule, "dispute hold since 2026-10-10: no contact", hold="H-1", kind="dispute"
        )

    def test_a_dispute_the_day_after_does_not(self) -> None:
        assert self.judge(ny(2026, 10, 10, 0, 30)) is None
        assert self.judge(ny(2026, 10, 10, 12)) is None

    def test_with_no_validation_notice_every_dispute_blocks(self) -> None:
        assert self.judge(ny(2027, 1, 10), notice=False) == reason(
            self.rule, "dispute hold since 2027-01-10: no contact", hold="H-1", kind="dispute"
        )


class TestHoldBlocksParameters:
    def test_a_calendar_must_be_a_time_zone(self) -> None:
        for name in ("Mars/Olympus_Mons", "/etc/passwd"):
            with pytest.raises(ValidationError, match=f"calendar: '{name}' is not an IANA"):
                HoldBlocks(id="X-H", citation=CITATION, kinds=frozenset({"dispute"}), calendar=name)

    def test_a_notice_ending_the_hold_needs_its_days(self) -> None:
        with pytest.raises(
            ValidationError,
            match="days_after_notice: give the days the hold lasts after the notice",
        ):
            HoldBlocks(
                id="X-H",
                citation=CITATION,
                kinds=frozenset({"mental_health_crisis"}),
                ends_after_notice="crisis_treatment_ended",
            )

    def test_a_valid_calendar_and_days_are_accepted(self) -> None:
        rule = HoldBlocks(
            id="X-H",
            citation=CITATION,
            kinds=frozenset({"mental_health_crisis"}),
            calendar="Europe/London",
            ends_after_notice="crisis_treatment_ended",
            days_after_notice=30,
        )
        assert rule.calendar == "Europe/London"


class TestRepresentedByAttorney:
    rule = RepresentedByAttorney(id="X-ATTY", citation=CITATION, response_days=3)
    started = ny(2026, 9, 1, 10)
    debtor_message = "represented by an attorney since 2026-09-01"
    third_message = (
        "represented by an attorney since 2026-09-01: "
        "location information is asked of the attorney only"
    )

    def case(self, notices: dict[str, datetime] | None = None, **extra: Any) -> Case:
        return make_case(holds=(hold("attorney", self.started, "ATT-1", **extra),), notices=notices)

    def denial(self, message: str, retry_at: datetime | None = None) -> Reason:
        return reason(self.rule, message, retry_at=retry_at, hold="ATT-1", kind="attorney")

    def test_the_debtor_is_not_contacted(self) -> None:
        assert check(self.rule, ny(2026, 9, 10), self.case()) == self.denial(self.debtor_message)

    def test_a_third_party_is_judged_for_location_only(self) -> None:
        j = judgement(ny(2026, 9, 10), self.case(), contact="sister", purpose="location")
        assert self.rule.admits(j)
        assert self.rule.check(j) == self.denial(self.third_message)
        other = judgement(ny(2026, 9, 10), self.case(), contact="sister", purpose="relay")
        assert not self.rule.admits(other)
        boss = judgement(ny(2026, 9, 10), self.case(), contact="boss", purpose="location")
        assert self.rule.admits(boss)
        assert self.rule.admits(judgement(ny(2026, 9, 10), self.case(), purpose="relay"))

    def test_the_attorneys_consent_lifts_it_for_the_debtor_only(self) -> None:
        case = self.case({"attorney_consent": self.started})
        assert check(self.rule, ny(2026, 9, 10), case) is None
        assert check(
            self.rule, ny(2026, 9, 10), case, contact="sister", purpose="location"
        ) == self.denial(self.third_message)
        before = self.case({"attorney_consent": self.started - timedelta(seconds=1)})
        assert check(self.rule, ny(2026, 9, 10), before) == self.denial(self.debtor_message)

    def test_the_consumers_own_consent_only_when_the_lender_honours_it(self) -> None:
        case = self.case({"consumer_consent": ny(2026, 9, 5)})
        assert check(self.rule, ny(2026, 9, 10), case) == self.denial(self.debtor_message)
        honoured = variant(self.rule, consumer_consent_notice="consumer_consent")
        assert check(honoured, ny(2026, 9, 10), case) is None

    def test_silence_lifts_it_after_the_days_set_not_counting_the_day_sent(self) -> None:
        # Sent at 22:00 on Monday 7 September in New York (Tuesday in UTC): days
        # 8, 9 and 10 pass, contact from 00:00 on Friday 11 September.
        case = self.case({"attorney_contacted": utc(2026, 9, 8, 2)})
        lifted = ny(2026, 9, 11)
        assert check(self.rule, just_before(lifted), case) == self.denial(
            self.debtor_message, lifted
        )
        assert check(self.rule, lifted, case) is None
        assert check(self.rule, lifted, case, contact="sister", purpose="location") is None
        assert check(
            self.rule, just_before(lifted), case, contact="sister", purpose="location"
        ) == self.denial(self.third_message, lifted)

    def test_with_no_zone_known_days_end_in_the_judged_moments_offset(self) -> None:
        case = make_case(
            timezone=None,
            contacts=({"id": "email", "channel": "email", "address": "jane@example.com"},),
            holds=(hold("attorney", self.started, "ATT-1"),),
            notices={"attorney_contacted": ny(2026, 9, 7, 22)},
        )
        email: dict[str, Any] = {"channel": "email", "contact": "email"}
        lifted = utc(2026, 9, 11)  # 7 September in its own offset, three days passed
        assert check(self.rule, lifted - timedelta(seconds=1), case, **email) == self.denial(
            self.debtor_message, lifted
        )
        assert check(self.rule, lifted, case, **email) is None

    def test_an_answer_keeps_the_bar(self) -> None:
        sent = ny(2026, 9, 7, 12)
        for answered in (sent, sent + timedelta(days=1)):
            case = self.case({"attorney_contacted": sent, "attorney_responded": answered})
            assert check(self.rule, ny(2026, 9, 20), case) == self.denial(self.debtor_message)

    def test_an_answer_before_the_communication_does_not(self) -> None:
        sent = ny(2026, 9, 7, 12)
        case = self.case(
            {"attorney_contacted": sent, "attorney_responded": sent - timedelta(seconds=1)}
        )
        assert check(self.rule, ny(2026, 9, 20), case) is None

    def test_a_communication_before_the_representation_does_not_count(self) -> None:
        case = self.case({"attorney_contacted": self.started - timedelta(seconds=1)})
        assert check(self.rule, ny(2026, 12, 1), case) == self.denial(self.debtor_message)
        at_start = self.case({"attorney_contacted": self.started})
        assert check(self.rule, ny(2026, 9, 5), at_start) is None

    def test_silence_never_lifts_it_without_a_period(self) -> None:
        rule = RepresentedByAttorney(id="X-ATTY", citation=CITATION)
        case = self.case({"attorney_contacted": ny(2026, 9, 2)})
        assert check(rule, ny(2027, 9, 2), case) == self.denial(self.debtor_message)

    def test_retry_at_the_earlier_of_the_holds_end_and_the_silence(self) -> None:
        notices = {"attorney_contacted": ny(2026, 9, 7, 12)}
        early = self.case(notices, ends_at=ny(2026, 9, 10, 12))
        assert check(self.rule, ny(2026, 9, 9), early) == self.denial(
            self.debtor_message, ny(2026, 9, 10, 12)
        )
        late = self.case(notices, ends_at=ny(2026, 9, 20))
        assert check(self.rule, ny(2026, 9, 9), late) == self.denial(
            self.debtor_message, ny(2026, 9, 11)
        )
        no_silence = self.case(ends_at=ny(2026, 9, 20))
        assert check(self.rule, ny(2026, 9, 9), no_silence) == self.denial(
            self.debtor_message, ny(2026, 9, 20)
        )

    def test_an_exception_lifts_only_the_representation_it_came_after(self) -> None:
        first = hold("attorney", ny(2026, 8, 1), "ATT-0")
        for notices in (
            {"attorney_consent": ny(2026, 8, 15)},
            {"attorney_contacted": ny(2026, 8, 10)},
        ):
            case = make_case(
                holds=(first, hold("attorney", self.started, "ATT-1")), notices=notices
            )
            assert check(self.rule, ny(2026, 9, 10), case) == self.denial(self.debtor_message)

    def test_only_attorney_holds_in_force(self) -> None:
        case = make_case(
            holds=(
                hold("dispute", ny(2026, 8, 1), "D-1"),
                hold("attorney", ny(2026, 8, 2), "ATT-0", released_at=ny(2026, 8, 20)),
                hold("attorney", self.started, "ATT-1"),
            )
        )
        assert check(self.rule, ny(2026, 9, 10), case) == self.denial(self.debtor_message)
        assert check(self.rule, ny(2026, 8, 25), case) is None


# -- media, consent and places ---------------------------------------------------------------------
class TestMediumOptOut:
    rule = MediumOptOut(id="X-MED", citation=CITATION, opt_out_phrases=(r"reply stop", r"unsub"))
    opted = ny(2026, 9, 5, 10)

    def opted_out(self, medium: str, what: str, channel: str | None = None) -> Reason:
        return reason(
            self.rule,
            f"the person opted out of {medium} on 2026-09-05 ({what})",
            channel=channel or medium,
            medium=medium,
            opted_out_at=self.opted,
        )

    def test_an_opted_out_medium_is_denied(self) -> None:
        history = history_of(opt_out(self.opted, "sms", "sms"))
        at = ny(2026, 9, 6)
        assert check(self.rule, at, history=history, channel="sms", contact="sms") == (
            self.opted_out("sms", "opted out")
        )
        confirmed = history_of(
            opt_out(self.opted, "sms", "sms"),
            attempt(self.opted, "delivered", "sms", contact="sms", purpose="opt_out_confirmation"),
        )
        assert check(self.rule, at, history=confirmed, channel="sms", contact="sms") == (
            self.opted_out("sms", "opted out")
        )

    def test_one_electronic_confirmation_by_the_same_medium(self) -> None:
        history = history_of(opt_out(self.opted, "sms", "sms", via="sms"))
        at = ny(2026, 9, 5, 10, 5)
        confirm: dict[str, Any] = {
            "channel": "sms",
            "contact": "sms",
            "purpose": "opt_out_confirmation",
        }
        assert check(self.rule, at, history=history, **confirm) is None
        # How the request came unrecorded: no confirmation (1006.14(h)(2)(i)'s "may").
        unknown = history_of(opt_out(self.opted, "sms", "sms"))
        assert check(self.rule, at, history=unknown, **confirm) is not None
        sent = history_of(
            opt_out(self.opted, "sms", "sms", via="sms"),
            attempt(self.opted, "delivered", "sms", contact="sms", purpose="opt_out_confirmation"),
        )
        assert check(self.rule, at, history=sent, **confirm) == self.opted_out(
            "sms", "confirmation already sent"
        )

    def test_a_confirmation_by_another_medium_is_not_the_one(self) -> None:
        history = history_of(
            opt_out(self.opted, "sms", "sms", via="sms"),
            attempt(
                ny(2026, 9, 5, 10, 1),
                "delivered",
                "email",
                contact="email",
                purpose="opt_out_confirmation",
            ),
        )
        confirm: dict[str, Any] = {
            "channel": "sms",
            "contact": "sms",
            "purpose": "opt_out_confirmation",
        }
        assert check(self.rule, ny(2026, 9, 5, 10, 5), history=history, **confirm) is None

    def test_a_call_never_confirms(self) -> None:
        history = history_of(opt_out(self.opted, "call", "mobile"))
        at = ny(2026, 9, 5, 10, 5)
        what = "only an electronic reply to an electronic opt-out may confirm it"
        assert check(
            self.rule, at, history=history, purpose="opt_out_confirmation"
        ) == self.opted_out("call", what)
        assert check(
            self.rule, at, history=history, channel="voicemail", purpose="opt_out_confirmation"
        ) == self.opted_out("call", what, channel="voicemail")
        assert check(self.rule, at, history=history, channel="voicemail") == self.opted_out(
            "call", "opted out", channel="voicemail"
        )

    def test_every_message_tells_how_to_opt_out_in_any_case(self) -> None:
        at = ny(2026, 9, 6)
        missing = reason(
            self.rule, "the message carries no way to opt out", expected=["reply stop", "unsub"]
        )
        sms: dict[str, Any] = {"channel": "sms", "contact": "sms"}
        assert check(self.rule, at, text="Please pay today.", **sms) == missing
        assert check(self.rule, at, text="Please pay. Reply STOP to end.", **sms) is None
        assert check(self.rule, at, text="To UNSUBSCRIBE click here.", **sms) is None
        assert check(self.rule, at, **sms) is None
        letter: dict[str, Any] = {"channel": "letter", "contact": "home"}
        assert check(self.rule, at, text="Please pay today.", **letter) is None
        plain = MediumOptOut(id="X-MED", citation=CITATION)
        assert check(plain, at, text="Please pay today.", **sms) is None

    def test_an_opt_out_is_named_before_a_missing_phrase(self) -> None:
        history = history_of(opt_out(self.opted, "email", "email"))
        at = ny(2026, 9, 6)
        assert check(
            self.rule, at, history=history, channel="email", contact="email", text="Pay."
        ) == self.opted_out("email", "opted out")


class TestAutomatedNeedsConsent:
    rule = AutomatedNeedsConsent(id="X-TCPA", citation=CITATION)
    HOW = "(the contact point's consent, or a consent recorded covering automated)"

    def test_only_automated_contacts_are_judged(self) -> None:
        assert self.rule.admits(judgement(ny(2026, 9, 6), automated=True))
        assert not self.rule.admits(judgement(ny(2026, 9, 6)))

    def test_without_consent_denied(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), automated=True) == reason(
            self.rule,
            f"automated call without the person's prior express consent {self.HOW}",
            automated=True,
        )
        assert check(
            self.rule, ny(2026, 9, 6), channel="sms", contact="sms", automated=True
        ) == reason(
            self.rule,
            f"automated sms without the person's prior express consent {self.HOW}",
            automated=True,
        )

    def test_a_consent_for_automated_contact_allows(self) -> None:
        history = history_of(
            consent(ny(2026, 9, 1), "call", "mobile", covers=["automated"]),
        )
        assert check(self.rule, ny(2026, 9, 6), history=history, automated=True) is None


class TestWorkEmailNeedsConsent:
    rule = WorkEmailNeedsConsent(id="X-WORKEMAIL", citation=CITATION)

    def test_a_work_address_needs_the_debtors_consent(self) -> None:
        work: dict[str, Any] = {"channel": "email", "contact": "work-email"}
        assert check(self.rule, ny(2026, 9, 6), **work) == reason(
            self.rule, "e-mail to an employer-provided address without the debtor's consent"
        )
        history = history_of(consent(ny(2026, 9, 1), "email", "work-email", covers=["medium"]))
        assert check(self.rule, ny(2026, 9, 6), history=history, **work) is None

    def test_a_home_address_needs_none(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), channel="email", contact="email") is None


class TestMediumNeedsConsent:
    rule = MediumNeedsConsent(id="X-CONSENT", citation=CITATION)
    email: ClassVar[dict[str, Any]] = {"channel": "email", "contact": "email"}

    def denial(self, channel: str = "email") -> Reason:
        return reason(
            self.rule,
            f"{channel} without the person's consent to be contacted by it",
            channel=channel,
        )

    def test_an_address_without_consent_is_denied_until_one_is_recorded(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), **self.email) == self.denial()
        history = history_of(consent(ny(2026, 9, 1), "email", "email", covers=["medium"]))
        assert check(self.rule, ny(2026, 9, 6), history=history, **self.email) is None

    def test_a_consent_to_be_contacted_now_is_no_consent_to_the_medium(self) -> None:
        history = history_of(consent(ny(2026, 9, 6, 9), "email", "email", covers=["hours"]))
        assert check(self.rule, ny(2026, 9, 6, 9, 5), history=history, **self.email) == (
            self.denial()
        )

    def test_an_opt_out_revokes_the_consent_for_its_medium_only(self) -> None:
        history = history_of(
            consent(ny(2026, 9, 1), "email", "email", covers=["medium"]),
            consent(ny(2026, 9, 1), "sms", "sms", covers=["medium"]),
            opt_out(ny(2026, 9, 3), "sms", "sms", via="sms"),
        )
        at = ny(2026, 9, 6)
        texts = {"channel": "sms", "contact": "sms"}
        assert check(self.rule, at, history=history, **texts) == self.denial("sms")
        assert check(self.rule, at, history=history, **self.email) is None
        again = history_of(
            consent(ny(2026, 9, 1), "sms", "sms", covers=["medium"]),
            opt_out(ny(2026, 9, 3), "sms", "sms", via="sms"),
            consent(ny(2026, 9, 4), "sms", "sms", covers=["medium"]),
        )
        assert check(self.rule, at, history=again, **texts) is None

    def test_their_own_message_opens_one_reply_only_when_the_rule_says(self) -> None:
        inbound = attempt(ny(2026, 9, 6, 9), "reply", channel="email", contact="email")
        reply = {**self.email, "purpose": "reply"}
        at = ny(2026, 9, 6, 10)
        assert check(self.rule, at, history=history_of(inbound), **reply) == self.denial()
        answering = variant(self.rule, reply_through_their_medium=True)
        assert check(answering, at, history=history_of(inbound), **reply) is None
        assert check(answering, at, history=history_of(inbound), **self.email) == reason(
            answering, "email without the person's consent to be contacted by it", channel="email"
        )
        texted = attempt(ny(2026, 9, 6, 9), "reply", channel="sms", contact="sms")
        assert check(answering, at, history=history_of(texted), **reply) == reason(
            answering, "email without the person's consent to be contacted by it", channel="email"
        )


class TestPlaceRestriction:
    rule = PlaceRestriction(id="X-PLACE", citation=CITATION, notice="work_inconvenient")
    noticed = ny(2026, 9, 5, 10)
    work: ClassVar[dict[str, Any]] = {"contact": "work-phone"}

    def case(self) -> Case:
        return make_case(notices={"work_inconvenient": self.noticed})

    def denial(self) -> Reason:
        return reason(
            self.rule,
            "no contact at work: work_inconvenient on record since 2026-09-05",
            notice="work_inconvenient",
            since=self.noticed,
        )

    def test_only_contacts_at_work_are_judged(self) -> None:
        assert self.rule.admits(judgement(ny(2026, 9, 6), self.case(), **self.work))
        assert self.rule.admits(judgement(ny(2026, 9, 6), self.case(), contact="boss"))
        assert not self.rule.admits(judgement(ny(2026, 9, 6), self.case()))

    def test_denied_from_the_notice_on(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), self.case(), **self.work) == self.denial()
        assert check(self.rule, self.noticed, self.case(), **self.work) == self.denial()
        before = self.noticed - timedelta(seconds=1)
        assert check(self.rule, before, self.case(), **self.work) is None
        assert check(self.rule, ny(2026, 9, 6), **self.work) is None

    def test_a_later_consent_to_that_medium_lifts_it(self) -> None:
        at = ny(2026, 9, 6)
        for given, until, expected in (
            (self.noticed + timedelta(hours=1), None, None),
            (self.noticed, None, self.denial()),
            (at + timedelta(seconds=1), None, self.denial()),
            (at, None, None),
            (self.noticed + timedelta(hours=1), ny(2026, 9, 5, 12).isoformat(), self.denial()),
        ):
            data: dict[str, Any] = {"covers": ["medium"]}
            if until is not None:
                data["until"] = until
            history = history_of(consent(given, "call", "work-phone", **data))
            assert check(self.rule, at, self.case(), history, **self.work) == expected

    def test_an_opt_out_after_the_consent_revokes_it(self) -> None:
        at = ny(2026, 9, 6)
        given = consent(self.noticed + timedelta(hours=1), "call", "work-phone", covers=["medium"])
        revoked = history_of(given, opt_out(ny(2026, 9, 5, 12), "call", "work-phone"))
        assert check(self.rule, at, self.case(), revoked, **self.work) == self.denial()
        later = history_of(given, opt_out(ny(2026, 9, 7), "call", "work-phone"))
        assert check(self.rule, at, self.case(), later, **self.work) is None

    def test_one_reply_to_a_contact_the_debtor_started_from_work(self) -> None:
        reply: dict[str, Any] = {**self.work, "purpose": "reply"}
        inbound = attempt(ny(2026, 9, 6, 9), "reply", contact="work-phone")
        at = ny(2026, 9, 6, 10)
        assert check(self.rule, at, self.case(), history_of(inbound), **reply) is None
        assert check(self.rule, at, self.case(), history_of(inbound), **self.work) == self.denial()
        answered = attempt(ny(2026, 9, 6, 9, 30), "conversation", **reply)
        assert (
            check(self.rule, at, self.case(), history_of(inbound, answered), **reply)
            == self.denial()
        )
        again = attempt(ny(2026, 9, 6, 9, 45), "reply", contact="work-phone")
        assert (
            check(self.rule, at, self.case(), history_of(inbound, answered, again), **reply) is None
        )
        now = attempt(at, "reply", contact="work-phone")
        assert check(self.rule, at, self.case(), history_of(now), **reply) is None
        elsewhere = attempt(ny(2026, 9, 6, 9, 30), "conversation", contact="mobile")
        assert check(self.rule, at, self.case(), history_of(inbound, elsewhere), **reply) is None
        assert check(self.rule, at, self.case(), history_of(now), **reply) is None
        never = variant(self.rule, reply_once=False)
        assert check(never, at, self.case(), history_of(inbound), **reply) == self.denial()

    def test_the_reply_must_answer_a_contact_from_there_after_the_notice(self) -> None:
        reply: dict[str, Any] = {**self.work, "purpose": "reply"}
        at = ny(2026, 9, 6, 10)
        for inbound in (
            attempt(ny(2026, 9, 5, 9), "reply", contact="work-phone"),  # before the notice
            attempt(ny(2026, 9, 6, 11), "reply", contact="work-phone"),  # after the moment judged
            attempt(ny(2026, 9, 6, 9), "reply", contact="mobile"),  # from another number
            attempt(ny(2026, 9, 6, 9), "reply", "sms", contact="work-phone"),  # another medium
        ):
            assert check(self.rule, at, self.case(), history_of(inbound), **reply) == self.denial()

    def test_the_notice_is_a_notice_kind(self) -> None:
        with pytest.raises(ValidationError, match="notice"):
            PlaceRestriction(id="X-PLACE", citation=CITATION, notice="work inconvenient")


# -- third parties ---------------------------------------------------------------------------------
class TestThirdPartyLocationOnly:
    rule = ThirdPartyLocationOnly(id="X-3P", citation=CITATION)
    at = ny(2026, 9, 6, 10)
    sister: ClassVar[dict[str, Any]] = {"contact": "sister", "purpose": "location"}

    def test_judges_third_parties_and_employers(self) -> None:
        assert self.rule.in_scope("call", "third_party", "location")
        assert self.rule.in_scope("call", "employer", "location")
        assert not self.rule.in_scope("call", "debtor", "location")

    def test_only_for_the_purposes_allowed(self) -> None:
        assert check(self.rule, self.at, contact="sister") == reason(
            self.rule,
            "a third_party may only be contacted for location, not for collection",
            purpose="collection",
            allowed=["location"],
        )
        wider = variant(self.rule, allowed_purposes=frozenset({"location", "relay"}))
        assert check(wider, self.at, contact="boss", purpose="reply") == reason(
            wider,
            "a employer may only be contacted for location, relay, not for reply",
            purpose="reply",
            allowed=["location", "relay"],
        )
        assert check(wider, self.at, contact="sister", purpose="relay") is None
        asked = history_of(
            attempt(
                ny(2026, 9, 1), "conversation", contact="sister", party="third_party", **LOCATION
            )
        )
        assert check(wider, self.at, history=asked, contact="sister", purpose="relay") is None

    def test_once_per_person(self) -> None:
        earlier = ny(2026, 9, 1, 15)
        asked = history_of(
            attempt(earlier, "conversation", contact="sister", party="third_party", **LOCATION)
        )
        assert check(self.rule, self.at, history=asked, **self.sister) == reason(
            self.rule,
            "this person was already asked for location information on 2026-09-01",
            earlier=earlier,
        )
        assert check(self.rule, self.at, history=asked, contact="cousin", purpose="location") is (
            None
        )
        twice = variant(self.rule, once=False)
        assert check(twice, self.at, history=asked, **self.sister) is None

    def test_another_purpose_or_party_earlier_is_not_a_location_contact(self) -> None:
        for data in (
            {"contact": "sister", "party": "third_party", "purpose": "relay"},
            {"contact": "sister", "party": "employer", "purpose": "location"},
        ):
            history = history_of(attempt(ny(2026, 9, 1), "conversation", **data))
            assert check(self.rule, self.at, history=history, **self.sister) is None

    def test_the_text_never_names_the_debt_whatever_its_case(self) -> None:
        text = "Please ask Jane to call us about her OVERDUE account."
        assert check(self.rule, self.at, text=text, **self.sister) == reason(
            self.rule, "the text reveals the debt: 'OVERDUE'", match="OVERDUE"
        )
        for word, match in (
            ("Debt", "Debt"),
            ("debts", "debts"),
            ("OWES", "OWES"),
            ("owed", "owed"),
            ("Collection", "Collect"),
            ("ARREARS", "ARREARS"),
        ):
            found = check(self.rule, self.at, text=f"About the {word} today", **self.sister)
            assert found is not None
            assert found.values == {"match": match}
        assert check(self.rule, self.at, text="Please ask Jane to call us.", **self.sister) is None
        assert check(self.rule, self.at, text="Your owner called", **self.sister) is None

    def test_a_representative_may_hear_of_the_debt(self) -> None:
        rule = variant(
            self.rule,
            allowed_purposes=frozenset({"location", "representative"}),
            discloses_to=frozenset({"representative"}),
        )
        text = "About the debt of the late Jane Doe"
        assert check(rule, self.at, contact="sister", purpose="representative", text=text) is None
        assert check(rule, self.at, text=text, **self.sister) == reason(
            rule, "the text reveals the debt: 'debt'", match="debt"
        )

    def test_no_words_no_check(self) -> None:
        rule = variant(self.rule, debt_words=())
        assert check(rule, self.at, text="About your debt", **self.sister) is None


LOCATION: dict[str, Any] = {"purpose": "location"}


class TestThirdPartyWhenUnreachable:
    rule = ThirdPartyWhenUnreachable(id="X-CP", citation=CITATION)
    at = ny(2026, 9, 6, 10)
    sister: ClassVar[dict[str, Any]] = {"contact": "sister", "purpose": "location"}

    def unreachable(self, *extra: Entry) -> ContactHistory:
        return history_of(
            attempt(ny(2026, 9, 1, 10), "conversation"),
            attempt(ny(2026, 9, 2, 10), "no_answer"),
            attempt(ny(2026, 9, 3, 10), "busy"),
            attempt(ny(2026, 9, 3, 11), "conversation", contact="cousin", party="third_party"),
            attempt(ny(2026, 9, 4, 10), "not_connected"),
            *extra,
        )

    def not_unreachable(self, failed: int, last: list[str]) -> Reason:
        return reason(
            self.rule,
            f"the debtor is not unreachable: {failed} of the last 3 attempts failed",
            failed=failed,
            needed=3,
            last_outcomes=last,
        )

    def test_allowed_after_three_failed_attempts_in_a_row(self) -> None:
        assert check(self.rule, self.at, history=self.unreachable(), **self.sister) is None

    def test_denied_while_the_debtor_can_be_reached(self) -> None:
        history = history_of(
            attempt(ny(2026, 9, 2, 10), "failed", "sms", contact="sms"),
            attempt(ny(2026, 9, 3, 10), "conversation"),
            attempt(ny(2026, 9, 4, 10), "wrong_party"),
        )
        assert check(self.rule, self.at, history=history, **self.sister) == self.not_unreachable(
            2, ["failed", "conversation", "wrong_party"]
        )
        answered = self.unreachable(attempt(ny(2026, 9, 5, 10), "voicemail"))
        assert check(self.rule, self.at, history=answered, **self.sister) == (
            self.not_unreachable(2, ["busy", "not_connected", "voicemail"])
        )

    def test_too_few_attempts(self) -> None:
        history = history_of(attempt(ny(2026, 9, 3), "no_answer"), attempt(ny(2026, 9, 4), "busy"))
        assert check(self.rule, self.at, history=history, **self.sister) == self.not_unreachable(
            2, ["no_answer", "busy"]
        )
        assert check(self.rule, self.at, **self.sister) == self.not_unreachable(0, [])
        once = variant(self.rule, failed_attempts=1)
        single = history_of(attempt(ny(2026, 9, 4), "no_answer"))
        assert check(once, self.at, history=single, **self.sister) is None

    def test_when_the_debtor_died_no_attempts_are_needed(self) -> None:
        dead = make_case(holds=(hold("deceased", ny(2026, 9, 1)),))
        assert check(self.rule, self.at, dead, **self.sister) is None
        assert check(self.rule, self.at, dead, text="关于您弟弟的欠款", **self.sister) == reason(
            self.rule, "the text reveals the debt: '欠款'", match="欠款"
        )
        released = make_case(holds=(hold("deceased", ny(2026, 9, 1), released_at=ny(2026, 9, 2)),))
        assert check(self.rule, self.at, released, **self.sister) == self.not_unreachable(0, [])
        other = make_case(holds=(hold("dispute", ny(2026, 9, 1)),))
        assert check(self.rule, self.at, other, **self.sister) == self.not_unreachable(0, [])

    def test_never_asked_to_pay(self) -> None:
        assert check(self.rule, self.at, history=self.unreachable(), contact="sister") == reason(
            self.rule,
            "a contact person may only be asked how to reach the debtor or to pass on "
            "a message, not contacted for collection",
            purpose="collection",
            allowed=["location", "relay", "reply"],
        )

    def test_the_text_reveals_nothing_but_in_a_reply(self) -> None:
        text = "Tell Jane her DEBT is overdue"
        history = self.unreachable()
        assert check(self.rule, self.at, history=history, text=text, **self.sister) == reason(
            self.rule, "the text reveals the debt: 'DEBT'", match="DEBT"
        )
        assert (
            check(self.rule, self.at, history=history, text=text, contact="sister", purpose="reply")
            is None
        )

    def test_a_refusal_at_any_of_their_points_stops_every_medium(self) -> None:
        refused = ny(2026, 9, 4, 12)
        history = self.unreachable(opt_out(refused, "sms", "sister-sms"))
        assert check(self.rule, self.at, history=history, **self.sister) == reason(
            self.rule,
            "this person refused further contact on 2026-09-04: no contact by any medium",
            refused_at=refused,
        )
        assert check(self.rule, self.at, history=history, contact="cousin", **LOCATION) is None

    def test_a_refusal_naming_no_point_or_another_person_does_not_count(self) -> None:
        for entry in (
            opt_out(ny(2026, 9, 4), "sms", None),
            opt_out(ny(2026, 9, 4), "call", "mobile"),
        ):
            history = self.unreachable(entry)
            assert check(self.rule, self.at, history=history, **self.sister) is None

    def test_a_point_marked_opted_out_is_a_refusal_from_the_opening(self) -> None:
        opened = ny(2026, 8, 1, 9)
        contacts = (*CONTACTS, {**CONTACTS[7], "id": "sister-2", "opted_out": True})
        case = make_case(contacts=contacts, opened_at=opened)
        expected = reason(
            self.rule,
            "this person refused further contact on 2026-08-01: no contact by any medium",
            refused_at=opened,
        )
        history = self.unreachable()
        assert check(self.rule, self.at, case, history, **self.sister) == expected
        assert check(self.rule, self.at, case, history, contact="sister-2", **LOCATION) == expected
        unopened = make_case(contacts=contacts)
        assert check(self.rule, self.at, unopened, history, **self.sister) == reason(
            self.rule,
            "this person refused further contact on 2026-09-06: no contact by any medium",
            refused_at=self.at,
        )

    def test_an_unknown_address_is_no_one_elses(self) -> None:
        contacts = (
            *CONTACTS,
            {"id": "aunt", "channel": "call", "address": "unknown", "party": "third_party"},
            {
                "id": "uncle",
                "channel": "call",
                "address": "unknown",
                "party": "third_party",
                "opted_out": True,
            },
        )
        case = make_case(contacts=contacts)
        assert check(self.rule, self.at, case, self.unreachable(), contact="aunt", **LOCATION) is (
            None
        )

    def test_the_debtors_own_opted_out_point_is_not_a_refusal(self) -> None:
        contacts = (
            *CONTACTS,
            {"id": "shared", "channel": "call", "address": SISTER, "opted_out": True},
        )
        case = make_case(contacts=contacts)
        assert check(self.rule, self.at, case, self.unreachable(), **self.sister) is None

    def test_without_a_contact_point_no_refusal_is_read(self) -> None:
        history = self.unreachable(opt_out(ny(2026, 9, 4), "sms", "sister-sms"))
        assert (
            check(
                self.rule, self.at, history=history, contact=None, party="third_party", **LOCATION
            )
            is None
        )


# -- legal steps -----------------------------------------------------------------------------------
class TestTimeBarred:
    rule = TimeBarred(id="X-TB", citation=CITATION, limitation_years=6)
    legal: ClassVar[dict[str, Any]] = {
        "channel": "letter",
        "contact": "home",
        "purpose": "legal_action",
    }
    letter: ClassVar[dict[str, Any]] = {"channel": "letter", "contact": "home"}

    def barred(self, rule: TimeBarred, since: str) -> Reason:
        return reason(
            rule,
            f"the debt is time-barred since {since}",
            barred_on=date.fromisoformat(since[:10]),
        )

    def test_the_last_day_and_the_day_after_in_the_debtors_zone(self) -> None:
        case = make_case(due_date="2020-03-10")
        # 03:59 UTC on 10 March is 23:59 on 9 March in New York: the last day.
        assert check(self.rule, utc(2026, 3, 10, 3, 59), case, **self.legal) is None
        assert check(self.rule, utc(2026, 3, 10, 4), case, **self.legal) == self.barred(
            self.rule, "2026-03-10 (6 years after 2020-03-10)"
        )
        assert self.rule.barred_on(judgement(utc(2026, 1, 1), case)) == (
            date(2026, 3, 10),
            date(2020, 3, 10),
        )

    def test_a_29_february_due_date_is_barred_on_1_march(self) -> None:
        case = make_case(due_date="2020-02-29")
        j = judgement(ny(2026, 1, 1), case)
        assert self.rule.barred_on(j) == (date(2026, 3, 1), date(2020, 2, 29))
        assert check(self.rule, ny(2026, 2, 28, 23, 59), case, **self.legal) is None
        assert check(self.rule, ny(2026, 3, 1), case, **self.legal) == self.barred(
            self.rule, "2026-03-01 (6 years after 2020-02-29)"
        )
        four = variant(self.rule, limitation_years=4)
        assert four.barred_on(j) == (date(2024, 2, 29), date(2020, 2, 29))
        three = variant(self.rule, limitation_years=3)
        assert three.barred_on(j) == (date(2023, 3, 1), date(2020, 2, 29))

    def test_a_threat_in_any_text_once_barred_whatever_its_case(self) -> None:
        case = make_case(due_date="2020-03-10")
        text = "We will see you in COURT."
        assert check(self.rule, ny(2026, 3, 10), case, text=text, **self.letter) == reason(
            self.rule,
            "the text threatens a suit on a time-barred debt: 'COURT'",
            barred_on=date(2026, 3, 10),
            match="COURT",
        )
        assert check(self.rule, ny(2026, 3, 9, 23, 59), case, text=text, **self.letter) is None
        for words, match in (
            ("we may Sue", "Sue"),
            ("a LAWSUIT", "LAWSUIT"),
            ("Legal Action", "Legal Action"),
        ):
            found = check(self.rule, ny(2026, 4, 1), case, text=words, **self.letter)
            assert found is not None
            assert found.values["match"] == match
        assert check(self.rule, ny(2026, 4, 1), case, text="Please pay.", **self.letter) is None
        assert check(self.rule, ny(2026, 4, 1), case, **self.letter) is None

    def test_an_extinguished_debt_is_not_demanded(self) -> None:
        rule = variant(self.rule, extinguished=True, limitation_years=5)
        case = make_case(due_date="2020-03-10")
        assert check(rule, ny(2025, 3, 10), case, **self.letter) == reason(
            rule,
            "the debt is extinguished since 2025-03-10 (5 years after 2020-03-10): "
            "no demand for payment",
            barred_on=date(2025, 3, 10),
        )
        assert check(rule, ny(2025, 3, 9, 23), case, **self.letter) is None
        assert check(rule, ny(2025, 3, 10), case, purpose="reply", **self.letter) is None
        assert check(
            rule, ny(2025, 3, 10), case, purpose="reply", text="or we go to court", **self.letter
        ) == reason(
            rule,
            "the text threatens a suit on a time-barred debt: 'court'",
            barred_on=date(2025, 3, 10),
            match="court",
        )

    def test_no_further_demand_after_the_customer_refused_because_of_the_bar(self) -> None:
        rule = variant(self.rule, refusal_notice="statute_barred_refusal")
        refused = ny(2026, 4, 1, 15)
        case = make_case(due_date="2020-03-10", notices={"statute_barred_refusal": refused})
        expected = reason(
            rule,
            "the customer said on 2026-04-01 they will not pay a debt time-barred since "
            "2026-03-10 (6 years after 2020-03-10): no further demand",
            barred_on=date(2026, 3, 10),
            refused_at=refused,
        )
        assert check(rule, refused, case, **self.letter) == expected
        assert check(rule, refused - timedelta(seconds=1), case, **self.letter) is None
        assert check(rule, ny(2026, 4, 2), case, purpose="reply", **self.letter) is None
        # Without the notice kind named, the refusal is not read.
        assert check(self.rule, ny(2026, 4, 2), case, **self.letter) is None

    @pytest.mark.parametrize(
        ("acknowledged", "barred", "start"),
        [
            (ny(2022, 5, 1, 12), date(2028, 5, 1), date(2022, 5, 1)),
            # 03:00 UTC on 10 March is 9 March in New York: the day before the bar.
            (utc(2026, 3, 10, 3), date(2032, 3, 9), date(2026, 3, 9)),
            (ny(2026, 3, 10), date(2026, 3, 10), date(2020, 3, 10)),
            (ny(2020, 3, 10, 12), date(2026, 3, 10), date(2020, 3, 10)),
            (ny(2020, 3, 11), date(2026, 3, 11), date(2020, 3, 11)),
        ],
    )
    def test_an_acknowledgement_before_the_bar_restarts_the_period(
        self, acknowledged: datetime, barred: date, start: date
    ) -> None:
        rule = variant(self.rule, restarted_by="acknowledged")
        case = make_case(due_date="2020-03-10", notices={"acknowledged": acknowledged})
        assert rule.barred_on(judgement(ny(2026, 1, 1), case)) == (barred, start)
        assert self.rule.barred_on(judgement(ny(2026, 1, 1), case)) == (
            date(2026, 3, 10),
            date(2020, 3, 10),
        )


class TestNoticeRequired:
    rule = NoticeRequired(id="X-SCRA", citation=CITATION, notice="military_status_check")

    def test_denied_until_the_notice_is_recorded(self) -> None:
        assert check(self.rule, ny(2026, 9, 6)) == reason(
            self.rule, "no military_status_check notice on record", notice="military_status_check"
        )
        case = make_case(notices={"military_status_check": ny(2026, 9, 1)})
        assert check(self.rule, ny(2026, 9, 6), case) is None


class TestValidationNoticeDue:
    rule = ValidationNoticeDue(id="X-VALID", citation=CITATION, days=5)
    # 03:30 UTC on 5 September is 23:30 on 4 September in New York.
    first = utc(2026, 9, 5, 3, 30)

    def history(self) -> ContactHistory:
        return history_of(
            attempt(ny(2026, 9, 1, 10), "no_answer"),
            attempt(ny(2026, 9, 2, 10), "voicemail", "voicemail", purpose="limited_content"),
            attempt(ny(2026, 9, 3, 10), "conversation", contact="sister", party="third_party"),
            attempt(self.first, "conversation"),
            attempt(ny(2026, 9, 6, 10), "delivered", "email", contact="email"),
        )

    def test_due_within_five_days_of_the_first_communication(self) -> None:
        assert check(self.rule, ny(2026, 9, 9, 23, 59), history=self.history()) is None
        assert check(self.rule, ny(2026, 9, 10), history=self.history()) == reason(
            self.rule,
            "no validation notice on record, due by 2026-09-09",
            first_communication=self.first,
            deadline=date(2026, 9, 9),
        )

    def test_a_notice_on_record_ends_it(self) -> None:
        case = make_case(notices={"validation": ny(2026, 9, 20)})
        assert check(self.rule, ny(2026, 10, 1), case, self.history()) is None

    def test_nothing_due_before_a_communication(self) -> None:
        history = history_of(attempt(ny(2026, 9, 1, 10), "no_answer"))
        assert check(self.rule, ny(2026, 10, 1), history=history) is None


class TestPassiveReporting:
    rule = PassiveReporting(id="X-PASSIVE", citation=CITATION, days=14)
    report: ClassVar[dict[str, Any]] = {
        "channel": "letter",
        "contact": "home",
        "purpose": "credit_report",
    }
    sent = ny(2026, 9, 1, 10)

    def waiting(self) -> Reason:
        return reason(
            self.rule,
            "no conversation, and the first message was sent on 2026-09-01: wait 14 days",
            retry_at=self.sent + timedelta(days=14),
            sent_at=self.sent,
        )

    def nothing(self) -> Reason:
        return reason(self.rule, "no conversation with the consumer and no delivered message")

    def test_fourteen_days_after_the_first_delivered_message(self) -> None:
        history = history_of(
            attempt(self.sent, "delivered", "letter", contact="home"),
            attempt(ny(2026, 9, 3, 10), "delivered", "email", contact="email"),
        )
        ready = self.sent + timedelta(days=14)
        assert check(self.rule, ready - timedelta(seconds=1), history=history, **self.report) == (
            self.waiting()
        )
        assert check(self.rule, ready, history=history, **self.report) is None

    def test_after_a_conversation_at_once(self) -> None:
        history = history_of(attempt(ny(2026, 9, 2, 10), "conversation"))
        assert check(self.rule, ny(2026, 9, 2, 11), history=history, **self.report) is None
        assert check(self.rule, ny(2026, 9, 2, 10), history=history, **self.report) is None
        assert check(self.rule, ny(2026, 9, 2, 9), history=history, **self.report) == (
            self.nothing()
        )

    def test_nothing_that_counts(self) -> None:
        history = history_of(
            attempt(ny(2026, 9, 1), "conversation", contact="sister", party="third_party"),
            attempt(
                ny(2026, 9, 1, 1), "delivered", "sms", contact="sister-sms", party="third_party"
            ),
            attempt(ny(2026, 9, 2), "voicemail", "voicemail"),
            attempt(ny(2026, 9, 2, 1), "delivered", "voicemail"),
            attempt(ny(2026, 9, 3), "delivered", "email", contact="email"),
            attempt(ny(2026, 9, 4), "failed", "email", contact="email"),
        )
        assert check(self.rule, ny(2026, 9, 30), history=history, **self.report) == self.nothing()

    def test_only_what_happened_before_the_moment_judged(self) -> None:
        history = history_of(
            attempt(ny(2026, 9, 5), "delivered", "sms", contact="sms"),
            attempt(ny(2026, 9, 6), "conversation"),
        )
        assert check(self.rule, ny(2026, 9, 4, 12), history=history, **self.report) == (
            self.nothing()
        )

    def test_a_bounce_on_another_channel_leaves_a_letter(self) -> None:
        history = history_of(
            attempt(self.sent, "delivered", "letter", contact="home"),
            attempt(ny(2026, 9, 4), "failed", "email", contact="email"),
        )
        assert check(self.rule, ny(2026, 9, 10), history=history, **self.report) == self.waiting()


# -- visits and content ----------------------------------------------------------------------------
class TestFieldVisitStaffing:
    rule = FieldVisitStaffing(id="X-VISIT", citation=CITATION)
    visit: ClassVar[dict[str, Any]] = {"channel": "visit", "contact": None, "party": "debtor"}

    def test_judges_visits_only(self) -> None:
        assert self.rule.in_scope("visit", "debtor", "collection")
        assert not self.rule.in_scope("call", "debtor", "collection")

    def test_every_missing_requirement_is_named(self) -> None:
        missing = [
            "0 collectors, at least 2",
            "no credentials",
            "not registered",
            "not recorded",
        ]
        assert check(self.rule, ny(2026, 9, 6), **self.visit) == reason(
            self.rule, "field visit: " + "; ".join(missing), missing=missing
        )
        one = {"collectors": 1, "credentials": True, "registered": True, "recorded": False}
        assert check(self.rule, ny(2026, 9, 6), visit=one, **self.visit) == reason(
            self.rule,
            "field visit: 1 collectors, at least 2; not recorded",
            missing=["1 collectors, at least 2", "not recorded"],
        )

    def test_a_well_staffed_visit_passes(self) -> None:
        full = {"collectors": 2, "credentials": True, "registered": True, "recorded": True}
        assert check(self.rule, ny(2026, 9, 6), visit=full, **self.visit) is None

    def test_only_the_requirements_switched_on(self) -> None:
        rule = FieldVisitStaffing(
            id="X-VISIT",
            citation=CITATION,
            collectors=1,
            credentials=False,
            registered=False,
            recorded=False,
        )
        assert check(rule, ny(2026, 9, 6), visit={"collectors": 1}, **self.visit) is None
        assert check(rule, ny(2026, 9, 6), **self.visit) == reason(
            rule, "field visit: 0 collectors, at least 1", missing=["0 collectors, at least 1"]
        )
        credentials = variant(rule, credentials=True)
        assert check(credentials, ny(2026, 9, 6), visit={"collectors": 1}, **self.visit) == (
            reason(credentials, "field visit: no credentials", missing=["no credentials"])
        )


class TestForbiddenWording:
    rule = ForbiddenWording(id="X-WORDS", citation=CITATION, patterns=(r"\bidiot\b", r"jail"))

    def test_the_match_is_shown_whatever_its_case(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), text="You IDIOT, pay now") == reason(
            self.rule, "forbidden wording: 'IDIOT'", match="IDIOT"
        )
        assert check(self.rule, ny(2026, 9, 6), text="or go to Jail") == reason(
            self.rule, "forbidden wording: 'Jail'", match="Jail"
        )

    def test_clean_or_absent_text_passes(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), text="Please pay by Friday") is None
        assert check(self.rule, ny(2026, 9, 6)) is None
        empty = ForbiddenWording(id="X-WORDS", citation=CITATION, patterns=())
        assert check(empty, ny(2026, 9, 6), text="You idiot") is None


class TestRequiredWording:
    rule = RequiredWording(
        id="X-MIRANDA",
        citation=CITATION,
        required={"collector": (r"debt collector",), "name": (r"acme", r"a\.c\.m\.e")},
    )
    sms: ClassVar[dict[str, Any]] = {"channel": "sms", "contact": "sms"}

    def test_every_missing_fact_is_named(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), text="Please pay") == reason(
            self.rule, "the text lacks: collector, name", missing=["collector", "name"]
        )
        assert check(self.rule, ny(2026, 9, 6), text="A.C.M.E. calling") == reason(
            self.rule, "the text lacks: collector", missing=["collector"]
        )
        assert check(self.rule, ny(2026, 9, 6), text="ACME, a DEBT COLLECTOR") is None
        assert check(self.rule, ny(2026, 9, 6)) is None

    def test_the_first_communication_needs_its_own_facts(self) -> None:
        rule = variant(self.rule, first_required={"purpose": (r"information obtained",)})
        text = "Acme, a debt collector"
        first = reason(rule, "the text lacks: purpose", missing=["purpose"])
        assert check(rule, ny(2026, 9, 6), text=text) == first
        not_reached = history_of(
            attempt(ny(2026, 9, 1), "no_answer"),
            attempt(ny(2026, 9, 2), "voicemail", "voicemail", purpose="limited_content"),
        )
        assert check(rule, ny(2026, 9, 6), history=not_reached, text=text) == first
        reached = history_of(attempt(ny(2026, 9, 2), "conversation"))
        assert check(rule, ny(2026, 9, 6), history=reached, text=text) is None

    def test_the_first_written_after_oral_ones_needs_more(self) -> None:
        rule = variant(self.rule, first_written_required={"collector": (r"debt collector",)})
        ruled = variant(
            self.rule,
            required={"name": (r"acme",)},
            first_written_required={"collector": (r"debt collector",)},
        )
        oral = history_of(attempt(ny(2026, 9, 2), "conversation"))
        lacks = reason(ruled, "the text lacks: collector", missing=["collector"])
        assert check(ruled, ny(2026, 9, 6), history=oral, text="Acme", **self.sms) == lacks
        assert check(ruled, ny(2026, 9, 6), history=oral, text="Acme") is None
        written = history_of(
            attempt(ny(2026, 9, 1), "conversation"),
            attempt(ny(2026, 9, 2), "delivered", "email", contact="email"),
        )
        assert check(ruled, ny(2026, 9, 6), history=written, text="Acme", **self.sms) is None
        # With no communication yet, the ordinary facts (no first_required set).
        assert check(ruled, ny(2026, 9, 6), text="Acme", **self.sms) is None
        assert check(ruled, ny(2026, 9, 6), text="Hello", **self.sms) == reason(
            ruled, "the text lacks: name", missing=["name"]
        )
        assert check(rule, ny(2026, 9, 6), text="Acme", **self.sms) == reason(
            rule, "the text lacks: collector", missing=["collector"]
        )


class TestLimitedContent:
    rule = LimitedContent(id="X-LCM", citation=CITATION)
    vm: ClassVar[dict[str, Any]] = {"channel": "voicemail", "purpose": "limited_content"}

    def test_by_voicemail_only(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), channel="sms", contact="sms") == reason(
            self.rule, "a limited-content message may not go by sms", allowed=["voicemail"]
        )
        assert check(self.rule, ny(2026, 9, 6), text="Please call Acme", **self.vm) is None

    def test_never_the_debt(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), text="About a Debt, call Acme", **self.vm) == (
            reason(self.rule, "the text reveals the debt: 'Debt'", match="Debt")
        )


class TestSelfIdentification:
    rule = SelfIdentification(
        id="X-ID",
        citation=CITATION,
        required={"institution": (r"acme",)},
        personal={"collector": (r"staff no\. \d+",)},
    )

    def test_a_person_gives_their_own_identity_too(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), text="Acme calling") == reason(
            self.rule, "the text lacks: collector", missing=["collector"]
        )
        assert check(self.rule, ny(2026, 9, 6), text="Acme, STAFF NO. 42") is None
        assert check(self.rule, ny(2026, 9, 6), text="hello") == reason(
            self.rule,
            "the text lacks: institution, collector",
            missing=["institution", "collector"],
        )

    def test_an_automated_voice_gives_the_institution_only(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), text="Acme calling", automated=True) is None
        assert check(self.rule, ny(2026, 9, 6), text="hello", automated=True) == reason(
            self.rule, "the text lacks: institution", missing=["institution"]
        )


class TestNoExposure:
    rule = NoExposure(id="X-EXPOSE", citation=CITATION, patterns=(r"tell your family",))

    def test_no_group_messages(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), purpose="group_message") == reason(
            self.rule,
            "a message to several people at once (group_message) exposes the debt",
            purpose="group_message",
        )

    def test_no_unrelated_third_party(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), contact="boss") == reason(
            self.rule,
            "a third party unrelated to the debt (the employer) is never contacted",
            party="employer",
        )
        assert check(self.rule, ny(2026, 9, 6), contact=None, party="third_party") == reason(
            self.rule,
            "a third party unrelated to the debt (no contact person on file) is never contacted",
            party="third_party",
        )
        assert check(self.rule, ny(2026, 9, 6), contact="sister") is None
        assert check(self.rule, ny(2026, 9, 6), contact=None, channel="letter") is None
        relaxed = variant(self.rule, unrelated_parties=frozenset())
        assert check(relaxed, ny(2026, 9, 6), contact="boss") is None

    def test_no_publicity_in_the_text(self) -> None:
        assert check(self.rule, ny(2026, 9, 6), text="We will TELL YOUR FAMILY") == reason(
            self.rule, "the text publicises the debt: 'TELL YOUR FAMILY'", match="TELL YOUR FAMILY"
        )
        assert check(self.rule, ny(2026, 9, 6), text="Please pay") is None
        plain = NoExposure(id="X-EXPOSE", citation=CITATION)
        assert check(plain, ny(2026, 9, 6), text="We will tell your family") is None


# -- calendars and records -------------------------------------------------------------------------
class TestNoContactOnHolidays:
    us = NoContactOnHolidays(id="X-HOL", citation=CITATION, country="US")

    def test_a_holiday_in_the_debtors_zone_until_its_end(self) -> None:
        # 03:00 UTC on 27 November is 22:00 on Thanksgiving in New York.
        assert check(self.us, utc(2026, 11, 27, 3)) == reason(
            self.us,
            "2026-11-26 is a public holiday in US (Thanksgiving Day)",
            retry_at=ny(2026, 11, 27),
            holiday="Thanksgiving Day",
        )
        assert check(self.us, utc(2026, 11, 26, 3)) is None
        assert check(self.us, ny(2026, 11, 27)) is None

    def test_with_no_zone_known_the_judged_moments_own_day(self) -> None:
        case = make_case(
            timezone=None,
            contacts=({"id": "email", "channel": "email", "address": "jane@example.com"},),
        )
        at = datetime.fromisoformat("2026-11-26T22:00:00-05:00")
        assert check(self.us, at, case, channel="email", contact="email") == reason(
            self.us,
            "2026-11-26 is a public holiday in US (Thanksgiving Day)",
            retry_at=datetime.fromisoformat("2026-11-27T00:00:00-05:00"),
            holiday="Thanksgiving Day",
        )

    def test_consecutive_holidays_retry_after_the_last(self) -> None:
        gb = NoContactOnHolidays(id="X-HOL", citation=CITATION, country="GB")
        case = make_case(timezone="Europe/London")
        assert check(gb, london(2026, 12, 25, 10), case) == reason(
            gb,
            "2026-12-25 is a public holiday in GB (Christmas Day)",
            retry_at=london(2026, 12, 27),
            holiday="Christmas Day",
        )

    def test_a_subdivisions_own_holidays(self) -> None:
        ma = NoContactOnHolidays(id="X-HOL", citation=CITATION, country="US", subdivision="MA")
        assert check(ma, ny(2026, 4, 20, 10)) == reason(
            ma,
            "2026-04-20 is a public holiday in US (Patriots' Day)",
            retry_at=ny(2026, 4, 21),
            holiday="Patriots' Day",
        )
        assert check(self.us, ny(2026, 4, 20, 10)) is None

    def test_the_country_is_an_iso_code(self) -> None:
        with pytest.raises(ValidationError, match="country"):
            NoContactOnHolidays(id="X-HOL", citation=CITATION, country="gb")


class TestRecordRetention:
    rule = RecordRetention(id="X-REC", citation=CITATION, years=3)

    def test_it_judges_no_contact(self) -> None:
        assert not self.rule.in_scope("call", "debtor", "collection")
        assert not self.rule.in_scope("letter", "third_party", "location")
        assert self.rule.check(judgement(ny(2026, 9, 6))) is None

    def test_kept_the_years_set_from_the_last_entry(self) -> None:
        assert self.rule.keep_until(ny(2026, 9, 6, 10)) == ny(2029, 9, 6, 10)
        assert self.rule.keep_until(ny(2024, 2, 29, 10)) == ny(2027, 2, 28, 10)
        four = RecordRetention(id="X-REC", citation=CITATION, years=4)
        assert four.keep_until(ny(2024, 2, 29, 10)) == ny(2028, 2, 29, 10)
