"""The shipped packs' numbers, each pinned on both sides, and the pack registry.

Every number a regulation fixes (hours, caps, windows, days, years) is a
parameter a lender may override; these tests hold the shipped value at the
edge where the law puts it: the last moment or count allowed and the first
denied. The scenario files in tests/scenarios/ show most of these edges as a
compliance officer reads them; the ones they do not reach are here, each
with the provision it comes from.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, InvalidInput, SettableClock
from arrears.case import Channel, HoldKind, Party
from arrears.compliance import PACKS, Compliance, known_packs, known_rule_ids
from arrears.compliance.packs import Pack, register_pack, resolve
from arrears.compliance.rules import ContactHours, FrequencyCap, HoldBlocks, RecordRetention

NY = ZoneInfo("America/New_York")

SHIPPED = ("CN", "US-RegF", "US-MA", "US-NY", "US-NYC", "US-WA", "UK")


def rule_of(pack_id: str, rule_id: str) -> Any:
    """The shipped rule *rule_id* of pack *pack_id*."""
    (found,) = [item for item in PACKS[pack_id].rules if item.id == rule_id]
    return found


# -- the registry ---------------------------------------------------------------------------------
@pytest.fixture
def registry() -> Iterator[None]:
    """Packs registered by a test are removed after it."""
    before = dict(PACKS)
    yield
    PACKS.clear()
    PACKS.update(before)


class TestRegistry:
    def test_the_shipped_packs_and_their_rule_ids(self) -> None:
        assert known_packs() == frozenset(SHIPPED)
        assert known_rule_ids() == {item.id for pack_id in SHIPPED for item in PACKS[pack_id].rules}
        assert {"CN-DECEASED", "US-DECEASED", "UK-DECEASED", "US-MA-OTHER"} <= known_rule_ids()

    def test_an_overlay_resolves_to_its_base_first_then_its_own_rules(self) -> None:
        ids = [item.id for item in resolve(["US-MA"])]
        regf = [item.id for item in PACKS["US-RegF"].rules]
        assert ids == [
            *regf,
            "US-MA",
            "US-MA-OTHER",
            "US-MA-HOUSEHOLD",
            "US-MA-HOUSEHOLD-OTHER",
            "US-MA-HOURS",
        ]

    def test_new_york_is_an_overlay_whose_rules_bind_every_role(self) -> None:
        """GBL 601 binds "principal creditor[s]" and their agents: no US-NY rule names roles."""
        ids = [item.id for item in resolve(["US-NY"])]
        regf = [item.id for item in PACKS["US-RegF"].rules]
        assert ids == [*regf, "US-NY-HOURS", "US-NY-CALLS", "US-NY-EMPLOYER", "US-NY-THREATS"]
        assert [item.roles for item in PACKS["US-NY"].rules] == [None] * 4
        calls = PACKS["US-NY"].rules[1]
        assert isinstance(calls, FrequencyCap)
        assert (calls.limit, calls.days, calls.per, calls.across) == (7, 7, "person", "debtor")

    def test_new_york_city_builds_on_new_york_and_binds_every_role(self) -> None:
        """6 RCNY 5-77's "debt collector" includes creditors collecting their own debts."""
        ids = [item.id for item in resolve(["US-NYC"])]
        state = [item.id for item in resolve(["US-NY"])]
        city = ["US-NYC-CONTACTS", "US-NYC-CONSENT", "US-NYC-OPTOUT", "US-NYC-WORK"]
        assert ids == [*state, *city, "US-NYC-EMPLOYER", "US-NYC-REPLY"]
        assert [item.roles for item in PACKS["US-NYC"].rules] == [None] * 6
        cap = PACKS["US-NYC"].rules[0]
        assert isinstance(cap, FrequencyCap)
        assert (cap.limit, cap.days, cap.per, cap.across) == (3, 7, "person", "debt")
        assert cap.counted_channels == frozenset(Channel)
        assert all("[confirm]" in item.citation for item in PACKS["US-NYC"].rules)

    def test_a_base_named_twice_or_shared_by_two_overlays_comes_once(self) -> None:
        ids = [item.id for item in resolve(["US-MA", "US-WA", "US-RegF", "US-MA"])]
        regf = [item.id for item in PACKS["US-RegF"].rules]
        assert ids == [
            *regf,
            "US-MA",
            "US-MA-OTHER",
            "US-MA-HOUSEHOLD",
            "US-MA-HOUSEHOLD-OTHER",
            "US-MA-HOURS",
            "US-WA",
            "US-WA-WORK",
            "US-WA-CELL",
            "US-WA-CELL-WEEK",
            "US-WA-HOURS",
            "US-WA-THREATS",
            "US-WA-NOTICE",
        ]

    def test_an_unknown_pack_names_the_field_the_value_and_the_packs(self) -> None:
        with pytest.raises(InvalidInput) as err:
            list(resolve(["CN", "US-TX"]))
        assert (err.value.field, err.value.value) == ("packs", "US-TX")
        assert str(err.value) == (
            "packs: got 'US-TX', expected one of "
            "['CN', 'UK', 'US-MA', 'US-NY', 'US-NYC', 'US-RegF', 'US-WA']"
        )

    def test_a_registered_pack_is_known_and_resolves_after_its_base(self, registry: None) -> None:
        quiet = ContactHours(
            id="LENDER-QUIET", citation="Lender policy 3.1", start=time(9), end=time(20)
        )
        register_pack(Pack(id="LENDER", title="A lender", rules=(quiet,), extends=("UK",)))
        assert known_packs() == frozenset({*SHIPPED, "LENDER"})
        assert "LENDER-QUIET" in known_rule_ids()
        ids = [item.id for item in resolve(["LENDER"])]
        assert ids == [*(item.id for item in PACKS["UK"].rules), "LENDER-QUIET"]

    def test_a_taken_id_is_refused_with_the_ids_taken(self, registry: None) -> None:
        with pytest.raises(InvalidInput) as err:
            register_pack(Pack(id="UK", title="Another UK", rules=()))
        assert (err.value.field, err.value.value) == ("pack.id", "UK")
        assert str(err.value) == (
            "pack.id: got 'UK', expected an id not among "
            "['CN', 'UK', 'US-MA', 'US-NY', 'US-NYC', 'US-RegF', 'US-WA']"
        )
        assert PACKS["UK"].title == "United Kingdom: FCA CONC 7 and the Breathing Space regulations"

    def test_an_unknown_base_is_refused_and_nothing_is_registered(self, registry: None) -> None:
        with pytest.raises(InvalidInput) as err:
            register_pack(Pack(id="US-TX", title="Texas", rules=(), extends=("US-RegF", "US-X")))
        assert (err.value.field, err.value.value) == ("pack.extends", "US-X")
        assert str(err.value) == (
            "pack.extends: got 'US-X', expected one of "
            "['CN', 'UK', 'US-MA', 'US-NY', 'US-NYC', 'US-RegF', 'US-WA']"
        )
        assert known_packs() == frozenset(SHIPPED)


@pytest.mark.parametrize("prefix", ["CN", "US", "UK"])
def test_each_pack_ends_direct_contact_when_the_debtor_has_died(prefix: str) -> None:
    """General practice: a deceased debtor's estate is dealt with through its representative."""
    pack_id = {"CN": "CN", "US": "US-RegF", "UK": "UK"}[prefix]
    deceased = rule_of(pack_id, f"{prefix}-DECEASED")
    assert isinstance(deceased, HoldBlocks)
    assert deceased.title == (
        "No collection contact addressed to a debtor who has died; the estate is a third party"
    )
    assert deceased.citation == (
        "General practice: collection on a deceased debtor's estate goes through its representative"
    )
    assert deceased.kinds == {HoldKind.DECEASED}
    assert deceased.parties == {Party.DEBTOR}
    assert PACKS[pack_id].rules[-1] is deceased


# -- record retention -----------------------------------------------------------------------------
class TestRecordRetention:
    """The journal of a case may be purged only once the pack's years have passed."""

    LAST = datetime(2026, 11, 3, 6, 5, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("pack_id", "rule_id", "years", "citation"),
        [
            # Credit-card business rules (2011) Art. 68: collection records kept 2 years.
            ("CN", "CN-RECORDS", 2, "Credit-card business rules (2011) Art. 68 [confirm]"),
            # 12 CFR 1006.100(a): 3 years after the last collection activity on the debt.
            (
                "US-RegF",
                "US-RECORDS",
                3,
                "12 CFR 1006.100(a); recordings of calls 3 years after each call, 1006.100(b)",
            ),
        ],
    )
    def test_kept_until_the_last_second_then_released(
        self, pack_id: str, rule_id: str, years: int, citation: str
    ) -> None:
        engine = Engine(compliance=Compliance([pack_id]), clock=SettableClock(self.LAST))
        engine.open_case(
            {
                "id": "R-1",
                "debtor": {"id": "D-R-1", "timezone": "Atlantic/Reykjavik"},
                "balance": {"currency": "USD", "principal": "100.00"},
                "due_date": "2026-09-01",
            }
        )
        until = self.LAST.replace(year=2026 + years)
        with pytest.raises(InvalidInput) as err:
            engine.check_purge("R-1", at=until - timedelta(seconds=1))
        assert str(err.value) == (
            f"purge: got 'R-1', expected a case whose records may go: {rule_id} keeps them "
            f"until {until.isoformat()}, {years} years after the last collection activity on "
            f"{self.LAST.isoformat()} ({citation})"
        )
        retention = engine.check_purge("R-1", at=until)
        assert retention is not None
        assert (retention.rule, retention.until, retention.years) == (rule_id, until, years)
        assert isinstance(rule_of(pack_id, rule_id), RecordRetention)


# -- Regulation F ---------------------------------------------------------------------------------
def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NY)  # type: ignore[misc]


def us_engine(pack_id: str = "US-RegF", *, validation: bool = True) -> Engine:
    """An engine under *pack_id* with a New York debtor's case C-1 open on 30 September 2026."""
    engine = Engine(compliance=Compliance([pack_id]), clock=SettableClock(ny(2026, 9, 30, 9)))
    engine.open_case(
        {
            "id": "C-1",
            "debtor": {"id": "D-1", "timezone": "America/New_York"},
            "contacts": [
                {"id": "mobile", "channel": "call", "address": "+16175550100"},
                {"id": "work", "channel": "call", "address": "+16175550200", "work": True},
                {"id": "home", "channel": "letter", "address": "12 Elm St, Boston, MA 02118"},
            ],
            "balance": {"currency": "USD", "principal": "1250.00"},
            "due_date": "2026-07-01",
        }
    )
    if validation:
        engine.record_notice("C-1", "validation")
    return engine


def judge(engine: Engine, at: datetime, **proposal: Any) -> Any:
    """The verdict on a proposed contact (a call to the mobile by default), not journaled."""
    return engine.judge_contact(
        "C-1", {"channel": "call", "contact": "mobile", **proposal}, at=at, record=False
    )


class TestCease:
    """12 CFR 1006.6(c): the consumer notifies the collector *in writing* to stop."""

    def test_a_request_made_orally_does_not_stop_collection(self) -> None:
        engine = us_engine()
        engine.add_hold("C-1", "cease", "asked on the phone", written=False, at=ny(2026, 10, 2, 9))
        verdict = judge(engine, ny(2026, 10, 2, 10))
        assert (verdict.allowed, verdict.reasons) == (True, ())

    @pytest.mark.parametrize("written", [True, None])
    def test_a_written_request_or_one_of_unknown_form_does(self, written: bool | None) -> None:
        engine = us_engine()
        hold = engine.add_hold("C-1", "cease", "letter", written=written, at=ny(2026, 10, 2, 9))
        verdict = judge(engine, ny(2026, 10, 2, 10))
        assert verdict.rules == ("US-CEASE",)
        assert verdict.reasons[0].message == (
            "cease hold since 2026-10-02: only remedy_intent, remedy_notice, termination_notice "
            "allowed"
        )
        assert dict(verdict.reasons[0].values) == {"hold": hold.id, "kind": "cease"}
        assert verdict.next_allowed_at is None


# -- contact hours, on every medium they cover -----------------------------------------------------
HOURS = [
    # GB/T 45251-2025; China Banking Association guideline (2026): 08:00-22:00.
    ("CN", "CN-HOURS", "Asia/Shanghai", time(8), time(22)),
    # 12 CFR 1006.6(b)(1)(i): before 08:00 and from 21:00 are inconvenient.
    ("US-RegF", "US-TIME", "America/New_York", time(8), time(21)),
    # RCW 19.16.250(13)(c): at home before 07:30 or after 21:00 (here with US-TIME off).
    ("US-WA", "US-WA-HOURS", "America/Los_Angeles", time(7, 30), time(21)),
    # GBL 601(6): "unusual hours"; Regulation F's 08:00-21:00 is the library's default.
    ("US-NY", "US-NY-HOURS", "America/New_York", time(8), time(21)),
    # FCA CONC 7.9.4R: unreasonable times; 08:00-21:00 is the library's default.
    ("UK", "UK-TIME", "Europe/London", time(8), time(21)),
]
TIMED = ("call", "voicemail", "sms", "email", "visit")


def hours_engine(pack_id: str, zone: str) -> Engine:
    """An engine under *pack_id* (US-TIME off under US-WA) with one contact point per medium."""
    overrides = {"US-TIME": {"enabled": False}} if pack_id == "US-WA" else {}
    engine = Engine(compliance=Compliance([pack_id], overrides=overrides))
    contacts = [
        {"id": channel, "channel": channel, "address": f"+1617555010{number}"}
        for number, channel in enumerate(("call", "voicemail", "sms"))
    ]
    contacts += [
        {"id": "email", "channel": "email", "address": "debtor@example.com"},
        {"id": "visit", "channel": "visit", "address": "12 Elm St"},
        {"id": "letter", "channel": "letter", "address": "12 Elm St"},
    ]
    engine.open_case(
        {
            "id": "C-1",
            "debtor": {"id": "D-1", "timezone": zone},
            "contacts": contacts,
            "balance": {"currency": "USD", "principal": "1250.00"},
            "due_date": "2026-07-01",
        },
        at=datetime(2026, 9, 1, tzinfo=UTC),
    )
    engine.record_notice("C-1", "validation", at=datetime(2026, 9, 1, tzinfo=UTC))
    return engine


def denying(engine: Engine, channel: str, at: datetime) -> tuple[str, ...]:
    """The rules that deny a contact by *channel* at *at*."""
    verdict = engine.judge_contact(
        "C-1", {"channel": channel, "contact": channel}, at=at, record=False
    )
    return tuple(verdict.rules)


@pytest.mark.parametrize(("pack_id", "rule_id", "zone", "start", "end"), HOURS)
@pytest.mark.parametrize("channel", TIMED)
def test_contact_hours_on_each_medium_from_the_first_minute_to_the_last(
    pack_id: str, rule_id: str, zone: str, start: time, end: time, channel: str
) -> None:
    engine = hours_engine(pack_id, zone)
    day = datetime(2026, 10, 6, tzinfo=ZoneInfo(zone))
    first = day.replace(hour=start.hour, minute=start.minute)
    closing = day.replace(hour=end.hour, minute=end.minute)
    assert rule_id in denying(engine, channel, first - timedelta(minutes=1))
    assert rule_id not in denying(engine, channel, first)
    assert rule_id not in denying(engine, channel, closing - timedelta(minutes=1))
    assert rule_id in denying(engine, channel, closing)


@pytest.mark.parametrize(("pack_id", "rule_id", "zone", "start", "end"), HOURS)
def test_a_letter_is_judged_when_it_arrives_not_by_the_hour_it_is_posted(
    pack_id: str, rule_id: str, zone: str, start: time, end: time
) -> None:
    engine = hours_engine(pack_id, zone)
    late = datetime(2026, 10, 6, 23, 30, tzinfo=ZoneInfo(zone))
    assert rule_id not in denying(engine, "letter", late)
    assert rule_id in denying(engine, "call", late)


# -- call caps: a voice message is a call placed ---------------------------------------------------
CAPS = [
    # GB/T 45251-2025: 3 calls a day that get through, AI voice included.
    ("CN", "CN-CALLS-EFFECTIVE", "Asia/Shanghai", "conversation", 3),
    # China Banking Association guideline (2026): 6 unanswered dial attempts a day per number.
    ("CN", "CN-CALLS-ATTEMPTS", "Asia/Shanghai", "no_answer", 6),
    # 12 CFR 1006.14(b)(2)(i): more than 7 calls in 7 consecutive days.
    ("US-RegF", "US-7IN7", "America/New_York", "no_answer", 7),
]


@pytest.mark.parametrize(("pack_id", "rule_id", "zone", "outcome", "limit"), CAPS)
def test_a_call_cap_counts_and_limits_voice_messages_too(
    pack_id: str, rule_id: str, zone: str, outcome: str, limit: int
) -> None:
    engine = Engine(compliance=Compliance([pack_id]))
    tz = ZoneInfo(zone)
    engine.open_case(
        {
            "id": "C-1",
            "debtor": {"id": "D-1", "timezone": zone},
            "contacts": [
                {"id": "mobile", "channel": "call", "address": "+16175550100"},
                {"id": "mobile-vm", "channel": "voicemail", "address": "+16175550100"},
            ],
            "balance": {"currency": "USD", "principal": "1250.00"},
            "due_date": "2026-07-01",
        },
        at=datetime(2026, 10, 1, 9, tzinfo=tz),
    )
    engine.record_notice("C-1", "validation", at=datetime(2026, 10, 1, 9, tzinfo=tz))
    # The cap's calls: messages left on the number count as calls placed (the dial attempts
    # per number are all on the voice-message contact point: it has its own count).
    for number in range(limit):
        by_voicemail = number % 2 or rule_id == "CN-CALLS-ATTEMPTS"
        channel, contact = ("voicemail", "mobile-vm") if by_voicemail else ("call", "mobile")
        engine.record_interaction(
            "C-1",
            channel,
            "voicemail" if channel == "voicemail" and outcome != "conversation" else outcome,
            contact=contact,
            at=datetime(2026, 10, 6, 9 + number, tzinfo=tz),
        )
    after = datetime(2026, 10, 6, 19, 30, tzinfo=tz)
    verdict = engine.judge_contact(
        "C-1", {"channel": "voicemail", "contact": "mobile-vm"}, at=after, record=False
    )
    assert rule_id in verdict.rules


# -- the debt-collector disclosure, on every medium ------------------------------------------------
@pytest.mark.parametrize("channel", ["call", "voicemail", "sms", "email", "letter"])
def test_every_later_communication_says_it_is_from_a_debt_collector(channel: str) -> None:
    """12 CFR 1006.18(e)(2): oral and written ones alike (1006.18(e)(1) for the first)."""
    engine = hours_engine("US-RegF", "America/New_York")
    engine.record_interaction(
        "C-1", "letter", "delivered", contact="letter", at=ny(2026, 10, 1, 12)
    )
    at = ny(2026, 10, 6, 10)
    bare = "Your balance of $1,250.00 is past due. To opt out, reply STOP."
    told = "This is from a debt collector. " + bare
    assert "US-MIRANDA" in denying_text(engine, channel, at, bare)
    assert "US-MIRANDA" not in denying_text(engine, channel, at, told)


def denying_text(engine: Engine, channel: str, at: datetime, text: str) -> tuple[str, ...]:
    """The rules that deny a contact by *channel* at *at* saying *text*."""
    proposal = {"channel": channel, "contact": channel, "text": text}
    return tuple(engine.judge_contact("C-1", proposal, at=at, record=False).rules)
