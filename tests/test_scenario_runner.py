"""Running scenarios: events replayed through the engine, verdicts judged by the rule packs.

These tests ask the real compliance rules (``US-RegF``) for verdicts, so a
change in a rule's behaviour shows up here as well as in its own tests.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from arrears import Engine, Money, errors, scenarios, testing
from arrears.cli import main
from arrears.scenarios import ScenarioInvalid, ScenarioResult, run_scenario

DOCS = Path(__file__).resolve().parent.parent / "docs" / "scenarios.md"

#: The case of every scenario below; events and expectations are added by `scenario`.
#: A validation notice is on record, so `US-VALID` never stands in the way.
HEAD = """\
name: {name}
rules: [US-RegF]
{extra}case:
  id: C-1
{zone}  currency: USD
  balance: "1250.00"
  due_date: 2026-09-01
  contacts:
    - {{id: mobile, channel: call{address}}}
    - {{id: text, channel: sms{address}}}
events:
  - {{at: 2026-10-01T09:00:00-04:00, type: notice_sent, kind: validation}}
"""

#: A call to the debtor's mobile, for `expect` entries.
CALL = "{channel: call, contact: mobile}"


def scenario(
    folder: Path,
    events: str = "",
    expect: str = "",
    *,
    name: str = "a scenario",
    extra: str = "",
    zone: str | None = "America/New_York",
    address: str | None = "+12125550100",
    file: str = "s.yaml",
) -> Path:
    """Write a scenario on the standard case; *events* and *expect* are YAML list items."""
    text = HEAD.format(
        name=name,
        extra=extra,
        zone=f"  timezone: {zone}\n" if zone else "",
        address=f", address: '{address}'" if address else "",
    )
    text += events + "expect:\n" + expect
    path = folder / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def entry(at: str, verdict: str, contact: str = CALL, **keys: str) -> str:
    """One `expect` item at 2026-10-<at> New York time."""
    lines = [f"  - at: 2026-10-{at}:00-04:00", f"    contact: {contact}", f"    verdict: {verdict}"]
    lines += [f"    {key}: {value}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def event(at: str, body: str) -> str:
    """One `events` item at 2026-10-<at> New York time."""
    return f"  - {{at: 2026-10-{at}:00-04:00, {body}}}\n"


CONVERSATION = event(
    "02T10:00", "type: contact, channel: call, contact: mobile, outcome: conversation"
)


def line_of(path: Path, fragment: str) -> int:
    """The line (1-based) of the first line of *path* containing *fragment*."""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in text:
            return number
    raise AssertionError(fragment)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestDocumentation:
    def test_the_example_in_the_docs_passes(self, tmp_path: Path) -> None:
        """The rules scenario shown in docs/scenarios.md passes as written."""
        blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
        [example] = [block for block in blocks if re.search(r"^rules: ", block, re.M)]
        path = tmp_path / "example.yaml"
        path.write_text(example, encoding="utf-8")
        result = run_scenario(path)
        assert result.failures == []
        assert result.passed


class TestWhereItLives:
    def test_every_scenario_name_is_still_importable_from_arrears_testing(self) -> None:
        """Code written before `arrears.scenarios` gets the same objects from `arrears.testing`."""
        assert [name for name in scenarios.__all__ if name not in testing.__all__] == []
        moved = [
            name
            for name in scenarios.__all__
            if getattr(testing, name) is not getattr(scenarios, name)
        ]
        assert moved == []

    def test_scenario_invalid_is_the_error_of_arrears_errors(self) -> None:
        """One class, whichever module it is imported from."""
        assert scenarios.ScenarioInvalid is errors.ScenarioInvalid
        assert issubclass(scenarios.ScenarioInvalid, errors.ArrearsError)


class TestResult:
    def test_a_passing_scenario(self, tmp_path: Path) -> None:
        """A scenario whose every expectation holds passes, with its name and path."""
        path = scenario(
            tmp_path, CONVERSATION, entry("08T11:00", "deny", rules="[US-7IN7]"), name="seven days"
        )
        assert run_scenario(path) == ScenarioResult("seven days", path, True, [])

    def test_wrong_verdict_explains_with_the_reasons(self, tmp_path: Path) -> None:
        """A verdict that differs is a failure naming the entry, its line and the reasons."""
        path = scenario(tmp_path, CONVERSATION, entry("08T11:00", "allow"))
        result = run_scenario(path)
        assert not result.passed
        [failure] = result.failures
        line = line_of(path, "2026-10-08T11:00")
        assert failure.startswith(f"expect[0] (line {line}): expected allow, got deny (reasons: ")
        assert "US-7IN7: a conversation on 2026-10-02" in failure

    def test_an_allowed_contact_that_should_be_denied(self, tmp_path: Path) -> None:
        """A contact allowed against expectation says there were no reasons."""
        path = scenario(tmp_path, "", entry("08T11:00", "deny"))
        [failure] = run_scenario(path).failures
        assert failure.endswith("expected deny, got allow (reasons: none)")

    def test_listed_rules_must_be_among_the_reasons(self, tmp_path: Path) -> None:
        """A denial for another rule than the one listed fails, naming the missing rule."""
        path = scenario(tmp_path, CONVERSATION, entry("08T11:00", "deny", rules="[US-TIME]"))
        [failure] = run_scenario(path).failures
        assert "expected US-TIME among the reasons" in failure
        assert "US-7IN7:" in failure

    def test_every_failed_entry_is_reported(self, tmp_path: Path) -> None:
        """Each entry is judged even after one fails."""
        expect = entry("08T11:00", "allow") + entry("09T11:00", "deny")
        path = scenario(tmp_path, CONVERSATION, expect)
        failures = run_scenario(path).failures
        assert [failure.split(" (line")[0] for failure in failures] == ["expect[0]", "expect[1]"]


class TestNextAllowedAt:
    def test_same_moment_in_another_offset_matches(self, tmp_path: Path) -> None:
        """next_allowed_at compares moments: 08:00 in New York is 12:00Z."""
        path = scenario(
            tmp_path,
            CONVERSATION,
            entry("08T11:00", "deny", next_allowed_at="2026-10-09T12:00:00Z"),
        )
        assert run_scenario(path).passed

    def test_a_different_moment_fails(self, tmp_path: Path) -> None:
        """A wrong next_allowed_at is a failure showing both moments."""
        path = scenario(
            tmp_path,
            CONVERSATION,
            entry("08T11:00", "deny", next_allowed_at="2026-10-09T09:00:00-04:00"),
        )
        [failure] = run_scenario(path).failures
        assert (
            "expected next_allowed_at 2026-10-09T09:00:00-04:00, got 2026-10-09T08:00:00-04:00"
            in failure
        )

    def test_null_means_never(self, tmp_path: Path) -> None:
        """`next_allowed_at: null` holds when no time will do, and fails for a timed denial."""
        events = event("02T10:00", "type: hold, kind: attorney")
        never = scenario(tmp_path, events, entry("08T11:00", "deny", next_allowed_at="null"))
        assert run_scenario(never).passed
        timed = scenario(
            tmp_path, CONVERSATION, entry("08T11:00", "deny", next_allowed_at="null"), file="t.yaml"
        )
        [failure] = run_scenario(timed).failures
        assert "expected next_allowed_at null, got 2026-10-09T08:00:00-04:00" in failure

    def test_an_allowed_contact_is_allowed_at_once(self, tmp_path: Path) -> None:
        """For an allowed contact next_allowed_at is the moment judged."""
        path = scenario(
            tmp_path, "", entry("08T11:00", "allow", next_allowed_at="2026-10-08T11:00:00-04:00")
        )
        assert run_scenario(path).passed


class TestRecord:
    def test_an_allowed_contact_is_recorded_with_its_outcome(self, tmp_path: Path) -> None:
        """`record: true` with a conversation makes the next call within 7 days a denial."""
        expect = entry("05T11:00", "allow", record="true", outcome="conversation") + entry(
            "06T11:00", "deny", rules="[US-7IN7]"
        )
        assert run_scenario(scenario(tmp_path, "", expect)).passed

    def test_the_default_outcome_is_no_answer(self, tmp_path: Path) -> None:
        """Recorded without an outcome, an unanswered call does not start the 7-day wait."""
        expect = entry("05T11:00", "allow", record="true") + entry("06T11:00", "allow")
        assert run_scenario(scenario(tmp_path, "", expect)).passed

    def test_without_record_nothing_is_recorded(self, tmp_path: Path) -> None:
        """Expectations change nothing unless they say record: true."""
        expect = entry("05T11:00", "allow") + entry("06T11:00", "allow")
        assert run_scenario(scenario(tmp_path, "", expect)).passed

    def test_a_denied_contact_is_not_recorded(self, tmp_path: Path) -> None:
        """record: true on a denial records no contact (the engine journals the denial itself)."""
        expect = entry("08T11:00", "deny", record="true", outcome="conversation") + entry(
            "09T11:00", "allow"
        )
        assert run_scenario(scenario(tmp_path, CONVERSATION, expect)).passed


class TestContactTimes:
    def test_the_debtors_evening(self, tmp_path: Path) -> None:
        """A call at 20:59 local time is allowed; an SMS at 21:30 is denied by US-TIME."""
        expect = entry("05T20:59", "allow") + entry(
            "05T21:30", "deny", contact="{channel: sms, contact: text}", rules="[US-TIME]"
        )
        assert run_scenario(scenario(tmp_path, "", expect)).passed

    def test_unknown_location_is_denied(self, tmp_path: Path) -> None:
        """No time zone and no address that tells one: the contact window cannot be met."""
        path = scenario(
            tmp_path, "", entry("05T12:00", "deny", rules="[US-TIME]"), zone=None, address=None
        )
        assert run_scenario(path).passed

    def test_inconvenient_times(self, tmp_path: Path) -> None:
        """Times the debtor named as inconvenient are denied by US-TIME."""
        events = event("02T10:00", "type: inconvenient, from: 12:00, to: 13:30")
        expect = entry("05T12:30", "deny", rules="[US-TIME]") + entry("05T13:30", "allow")
        assert run_scenario(scenario(tmp_path, events, expect)).passed


class TestEvents:
    def test_dispute_then_verification(self, tmp_path: Path) -> None:
        """A written dispute blocks collection until verification is sent."""
        events = event("02T10:00", "type: dispute, written: true") + event(
            "03T10:00", "type: verification_sent"
        )
        path = scenario(tmp_path, events, entry("03T11:00", "allow"))
        assert run_scenario(path).passed
        blocked = scenario(
            tmp_path,
            event("02T10:00", "type: dispute, written: true"),
            entry("03T11:00", "deny", rules="[US-DISPUTE]"),
            file="blocked.yaml",
        )
        assert run_scenario(blocked).passed

    def test_cease(self, tmp_path: Path) -> None:
        """A written request to stop denies collection calls."""
        path = scenario(
            tmp_path,
            event("02T10:00", "type: cease"),
            entry("03T11:00", "deny", rules="[US-CEASE]"),
        )
        assert run_scenario(path).passed

    def test_opt_out(self, tmp_path: Path) -> None:
        """An opt-out of SMS denies SMS and leaves calls alone."""
        events = event("02T10:00", "type: opt_out, channel: sms")
        expect = entry(
            "03T11:00", "deny", contact="{channel: sms, contact: text}", rules="[US-MEDIUM]"
        ) + entry("03T11:05", "allow")
        assert run_scenario(scenario(tmp_path, events, expect)).passed

    def test_hold_until_a_date(self, tmp_path: Path) -> None:
        """A bankruptcy hold until 5 October ends at midnight of that day in the debtor's zone."""
        events = event("02T10:00", "type: hold, kind: bankruptcy, until: 2026-10-05")
        expect = entry("04T23:59", "deny", rules="[US-BK]") + entry("05T08:00", "allow")
        assert run_scenario(scenario(tmp_path, events, expect)).passed

    def test_a_narrower_reach_than_the_kinds_is_refused_at_its_line(self, tmp_path: Path) -> None:
        """A bankruptcy reaches every debt of the person: ``reach: case`` is refused at its line."""
        path = scenario(
            tmp_path,
            event("02T10:00", "type: hold, kind: bankruptcy, reach: case"),
            entry("03T11:00", "deny", rules="[US-BK]"),
        )
        with pytest.raises(ScenarioInvalid) as caught:
            run_scenario(path)
        assert caught.value.line == line_of(path, "reach: case")
        assert caught.value.field == "events[1].reach"
        assert caught.value.message.startswith("got 'case', expected debtor")

    def test_an_unknown_reach_is_refused(self, tmp_path: Path) -> None:
        path = scenario(
            tmp_path,
            event("02T10:00", "type: cease, reach: household"),
            entry("03T11:00", "deny", rules="[US-CEASE]"),
        )
        with pytest.raises(ScenarioInvalid) as caught:
            run_scenario(path)
        assert caught.value.field == "events[1].reach"

    def test_hold_end(self, tmp_path: Path) -> None:
        """hold_end releases every active hold of the kind."""
        events = event("02T10:00", "type: hold, kind: attorney") + event(
            "02T11:00", "type: hold_end, kind: attorney"
        )
        assert run_scenario(scenario(tmp_path, events, entry("03T11:00", "allow"))).passed

    def test_consent_exempts_calls_from_the_seven_day_wait(self, tmp_path: Path) -> None:
        """Direct consent to a call lets it be made within 7 days of a conversation."""
        events = CONVERSATION + event("03T10:00", "type: consent, channel: call")
        assert run_scenario(scenario(tmp_path, events, entry("03T10:05", "allow"))).passed

    def test_automated_call(self, tmp_path: Path) -> None:
        """An autodialed call without prior consent is denied by US-TCPA."""
        path = scenario(
            tmp_path,
            "",
            entry(
                "03T11:00",
                "deny",
                contact="{channel: call, contact: mobile, automated: true}",
                rules="[US-TCPA]",
            ),
        )
        assert run_scenario(path).passed

    def test_payment(self, tmp_path: Path) -> None:
        """A payment is recorded in the case's currency."""
        events = event("02T10:00", "type: payment, amount: 50.00")
        assert run_scenario(scenario(tmp_path, events, entry("03T11:00", "allow"))).passed

    def test_overrides_reach_the_rules(self, tmp_path: Path) -> None:
        """`overrides: {US-7IN7: {enabled: false}}` turns the 7-day rule off."""
        path = scenario(
            tmp_path,
            CONVERSATION,
            entry("03T11:00", "allow"),
            extra="overrides: {US-7IN7: {enabled: false}}\n",
        )
        assert run_scenario(path).passed

    def test_a_bad_override_is_reported_at_its_line(self, tmp_path: Path) -> None:
        """A parameter the rule refuses makes the file invalid, at the override's line."""
        path = scenario(
            tmp_path, "", entry("03T11:00", "allow"), extra="overrides: {US-7IN7: {limit: -1}}\n"
        )
        with pytest.raises(ScenarioInvalid) as caught:
            run_scenario(path)
        assert (caught.value.line, caught.value.field) == (3, "overrides.US-7IN7.limit")


class TestRefusedWhileRunning:
    def test_a_proposal_the_rules_cannot_take(self, tmp_path: Path) -> None:
        """A visit with no collectors is refused at the visit's field, not judged."""
        contact = "{channel: visit, party: debtor, visit: {collectors: 0}}"
        path = scenario(tmp_path, "", entry("03T11:00", "allow", contact=contact))
        with pytest.raises(ScenarioInvalid) as caught:
            run_scenario(path)
        assert caught.value.field == "expect[0].contact.visit.collectors"
        assert caught.value.line == line_of(path, "channel: visit")

    def test_a_contact_point_on_another_medium(self, tmp_path: Path) -> None:
        """E-mail to a phone number is refused at the proposed channel."""
        contact = "{channel: email, contact: mobile}"
        path = scenario(tmp_path, "", entry("03T11:00", "allow", contact=contact))
        with pytest.raises(ScenarioInvalid) as caught:
            run_scenario(path)
        assert caught.value.field == "expect[0].contact.channel"
        assert "'email'" in caught.value.message


class TestPromises:
    EVENTS = event("02T10:00", "type: promise, amount: '100.00', due: 2026-10-09")

    def test_reported_when_the_engine_has_no_promises(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without Engine.record_promise, a promise event is refused at its line."""
        monkeypatch.delattr(Engine, "record_promise", raising=False)
        path = scenario(tmp_path, self.EVENTS, entry("03T11:00", "allow"))
        with pytest.raises(ScenarioInvalid) as caught:
            run_scenario(path)
        assert caught.value.field == "events[1].type"
        assert caught.value.line == line_of(path, "type: promise")
        assert caught.value.message == "promise events are not supported by this version"

    def test_recorded_through_the_engine(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With Engine.record_promise, the amount (as Money) and due date are passed on."""
        calls: list[tuple[Any, ...]] = []

        def record_promise(
            self: Engine, case_id: str, amount: Money, due: date, *, at: Any = None
        ) -> None:
            calls.append((case_id, amount, due, at.isoformat()))

        monkeypatch.setattr(Engine, "record_promise", record_promise, raising=False)
        path = scenario(tmp_path, self.EVENTS, entry("03T11:00", "allow"))
        assert run_scenario(path).passed
        assert calls == [
            ("C-1", Money(Decimal("100.00"), "USD"), date(2026, 10, 9), "2026-10-02T10:00:00-04:00")
        ]


class TestCommandLine:
    def test_all_pass(self, tmp_path: Path) -> None:
        """Exit 0, a PASS line per scenario and the summary."""
        scenario(tmp_path, "", entry("03T11:00", "allow"), name="first", file="a.yaml")
        scenario(tmp_path, "", entry("03T11:00", "allow"), name="second", file="b.yml")
        code, out, err = invoke("test", str(tmp_path))
        assert (code, err) == (0, "")
        assert out == "PASS first\nPASS second\n2 passed, 0 failed\n"

    def test_any_fails(self, tmp_path: Path) -> None:
        """Exit 1, a FAIL line saying why."""
        scenario(tmp_path, "", entry("03T11:00", "allow"), name="good", file="a.yaml")
        scenario(tmp_path, CONVERSATION, entry("03T11:00", "allow"), name="bad", file="b.yaml")
        code, out, _ = invoke("test", str(tmp_path))
        assert code == 1
        lines = out.splitlines()
        assert lines[0] == "PASS good"
        assert lines[1].startswith("FAIL bad: expect[0] (line ")
        assert "expected allow, got deny (reasons: US-7IN7: " in lines[1]
        assert lines[2] == "1 passed, 1 failed"

    def test_invalid_wins_over_failed(self, tmp_path: Path) -> None:
        """An invalid file makes the exit 2 while the other scenarios still run and print."""
        scenario(tmp_path, "", entry("03T11:00", "allow"), name="good", file="a.yaml")
        scenario(tmp_path, CONVERSATION, entry("03T11:00", "allow"), name="bad", file="b.yaml")
        bad = scenario(tmp_path, "", entry("03T11:00", "perhaps"), file="c.yaml")
        code, out, err = invoke("test", str(tmp_path))
        assert code == 2
        assert out.splitlines()[0] == "PASS good"
        assert out.splitlines()[-1] == "1 passed, 1 failed"
        assert f"{bad}:{line_of(bad, 'verdict: perhaps')}: expect[0].verdict: " in err

    def test_engine_logs_stay_off_standard_output(self, tmp_path: Path) -> None:
        """Only results reach standard output; -v puts the engine's log lines on standard error."""
        path = scenario(tmp_path, CONVERSATION, entry("08T11:00", "deny"))
        _, out, err = invoke("test", str(path))
        assert "contact_denied" not in out + err
        _, out, err = invoke("test", "-v", str(path))
        assert "contact_denied" not in out
        assert "contact_denied" in err
