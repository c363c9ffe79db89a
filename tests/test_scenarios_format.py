"""Scenario files as a format: the line-aware YAML loader, and malformed files reported by line.

Nothing here asks the compliance rules for a verdict (that is in
``test_scenario_runner.py``): these files are refused before any is judged.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pydantic
import pytest
from click.testing import CliRunner
from pydantic import AwareDatetime, BaseModel, ConfigDict

from arrears import ArrearsError
from arrears._yaml import (
    DocumentInvalid,
    LocatedDocument,
    Problem,
    field_name,
    load,
    load_file,
    validation_problems,
)
from arrears.cli import main
from arrears.scenarios import InconvenientEvent, ScenarioInvalid, load_scenario, run_scenario

#: A valid scenario; the tests below break it one way at a time.  Its lines:
#: 2 rules, 3 case, 6 currency, 7 balance, 10 the contact, 12-13 the events,
#: 15-18 the one expectation.
VALID = """\
name: a call within 7 days of a conversation is denied
rules: [US-RegF]
case:
  id: C-1
  timezone: America/New_York
  currency: USD
  balance: 1250.00
  due_date: 2026-09-01
  contacts:
    - {id: mobile, channel: call}
events:
  - {at: 2026-10-01T09:00:00-04:00, type: notice_sent, kind: validation}
  - {at: 2026-10-02T14:00:00Z, type: contact, channel: call, contact: mobile, outcome: conversation}
expect:
  - at: 2026-10-08T11:00:00-04:00
    contact: {channel: call, contact: mobile}
    verdict: deny
    rules: [US-7IN7]
"""


def variant(old: str, new: str) -> str:
    """VALID with *old* (which must occur in it) replaced by *new*."""
    assert old in VALID, old
    return VALID.replace(old, new)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestLoader:
    def test_records_the_line_of_every_key_and_item(self) -> None:
        """Each path maps to the line of its key (or of its item in a list), block or flow style."""
        doc = load(VALID, "x.yaml")
        assert doc.line_of(()) == 1
        assert doc.line_of(("rules",)) == 2
        assert doc.line_of(("rules", 0)) == 2
        assert doc.line_of(("case", "currency")) == 6
        assert doc.line_of(("case", "contacts", 0, "channel")) == 10
        assert doc.line_of(("events", 1, "outcome")) == 13
        assert doc.line_of(("expect", 0)) == 15
        assert doc.line_of(("expect", 0, "at")) == 15
        assert doc.line_of(("expect", 0, "verdict")) == 17
        assert doc.line_of(("expect", 0, "rules", 0)) == 18

    def test_a_missing_path_takes_the_line_of_its_nearest_parent(self) -> None:
        """A key that is not there is placed at the mapping that lacks it."""
        doc = load(VALID, "x.yaml")
        assert doc.line_of(("case", "stage")) == 3
        assert doc.line_of(("expect", 0, "contact", "party")) == 16
        assert doc.line_of(("nowhere", 3)) == 1

    def test_decimals_and_times_stay_the_text_written(self) -> None:
        """Floats and timestamps reach the models as their exact source text."""
        doc = load(
            "balance: 1250.00\nrate: 1.10\nat: 2026-10-01T10:00:00-04:00\nnaive: 2026-10-01 10:00\n"
            "day: 2026-09-01\n",
            "x.yaml",
        )
        assert doc.data == {
            "balance": "1250.00",
            "rate": "1.10",
            "at": "2026-10-01T10:00:00-04:00",
            "naive": "2026-10-01 10:00",
            "day": "2026-09-01",
        }

    def test_null_bool_and_int_keep_their_type(self) -> None:
        """null, booleans and integers are typed as YAML says."""
        doc = load("a: ~\nb: null\nc: true\nd: false\ne: 42\nf: -7\ng: text\n", "x.yaml")
        assert doc.data == {
            "a": None,
            "b": None,
            "c": True,
            "d": False,
            "e": 42,
            "f": -7,
            "g": "text",
        }
        assert type(doc.data["e"]) is int

    def test_a_time_of_day_is_not_a_base_60_number(self) -> None:
        """`from: 21:00` stays the text "21:00" (YAML 1.1 would make it the integer 1260)."""
        assert load("from: 21:00\nto: 08:30\n", "x.yaml").data == {"from": "21:00", "to": "08:30"}

    def test_duplicate_key_names_both_lines(self) -> None:
        """A key given twice in one mapping is an error at the second, naming the first."""
        with pytest.raises(DocumentInvalid) as caught:
            load("case:\n  id: C-1\n  currency: USD\n  id: C-2\n", "x.yaml")
        assert (caught.value.line, caught.value.field) == (4, "case.id")
        assert str(caught.value) == "x.yaml:4: case.id: duplicate key 'id' (first given on line 2)"

    def test_duplicate_key_in_a_flow_mapping(self) -> None:
        """Duplicates in `{...}` are found too."""
        with pytest.raises(DocumentInvalid, match=r"x\.yaml:2: a\[0\]\.b: duplicate key 'b'"):
            load("a:\n  - {b: 1, b: 2}\n", "x.yaml")

    def test_syntax_error_names_its_line(self) -> None:
        """Text that is not YAML is refused at the line the parser stopped."""
        with pytest.raises(DocumentInvalid) as caught:
            load("a: 1\nb: [1, 2\nc: 3\n", "x.yaml")
        assert caught.value.line == 3
        assert caught.value.field == ""
        assert caught.value.message.startswith("not valid YAML")

    def test_merge_keys_and_custom_tags_are_refused(self) -> None:
        """`<<` merges and tags such as `!python/object` are errors, each at its line."""
        with pytest.raises(DocumentInvalid) as caught:
            load("base: &b {x: 1}\nother:\n  <<: *b\nodd: !thing 3\n", "x.yaml")
        assert [(p.line, p.field) for p in caught.value.problems] == [(3, "other"), (4, "odd")]

    def test_aliases_are_expanded(self) -> None:
        """An anchored value reused by alias is the same data in both places."""
        doc = load("a: &x [1, 2]\nb: *x\n", "x.yaml")
        assert doc.data == {"a": [1, 2], "b": [1, 2]}

    def test_empty_document(self) -> None:
        """An empty file loads as None."""
        assert load("", "x.yaml").data is None

    def test_load_file_names_the_file_as_given(self, tmp_path: Path) -> None:
        """Problems carry the path the caller gave, or the name passed."""
        path = write(tmp_path, "dup.yaml", "a: 1\na: 2\n")
        with pytest.raises(DocumentInvalid, match=r"^shown\.yaml:2: a: duplicate"):
            load_file(path, "shown.yaml")

    def test_load_file_refuses_text_that_is_not_utf8(self, tmp_path: Path) -> None:
        """Bytes that are not UTF-8 are one problem at line 1."""
        path = tmp_path / "latin.yaml"
        path.write_bytes("name: caf\xe9\n".encode("latin-1"))
        with pytest.raises(DocumentInvalid, match="not UTF-8"):
            load_file(path)

    def test_document_invalid_is_an_arrears_error(self) -> None:
        """Callers can catch every library error with ArrearsError."""
        assert issubclass(DocumentInvalid, ArrearsError)
        assert issubclass(ScenarioInvalid, DocumentInvalid)

    def test_field_name(self) -> None:
        """Paths read as a person writes them."""
        assert field_name(("expect", 0, "at")) == "expect[0].at"
        assert field_name(("rules", 1)) == "rules[1]"
        assert field_name(()) == ""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    expect: list[_Entry]


class TestValidationProblems:
    def problems(self, text: str) -> list[Problem]:
        doc = load(text, "tests/scenarios/x.yaml")
        with pytest.raises(pydantic.ValidationError) as caught:
            _Doc.model_validate(doc.data)
        return validation_problems(caught.value, doc)

    def test_naive_time_names_file_line_and_field(self) -> None:
        """A time without an offset is reported where it was written."""
        [problem] = self.problems(
            "name: x\nexpect:\n  - at: 2026-10-08T11:00:00-04:00\n  - at: 2026-10-08T12:00:00\n"
        )
        assert str(problem) == (
            "tests/scenarios/x.yaml:4: expect[1].at: Input should have timezone info"
        )

    def test_missing_field_is_placed_at_its_mapping(self) -> None:
        """A required key that is absent is reported at the mapping that lacks it."""
        [problem] = self.problems("expect:\n  - at: 2026-10-08T11:00:00Z\n")
        assert (problem.line, problem.field, problem.message) == (1, "name", "Field required")

    def test_unknown_key(self) -> None:
        """An undeclared key is reported at its own line."""
        [problem] = self.problems("name: x\nexpect:\n  - at: 2026-10-08T11:00:00Z\n    when: now\n")
        assert (problem.line, problem.field, problem.message) == (
            4,
            "expect[0].when",
            "unknown key",
        )

    def test_part_of_a_document(self) -> None:
        """Validating a part of the document keeps the part's place in paths and lines."""
        doc = load("policy:\n  entry:\n    at: 2026-10-08T11:00\n", "p.yaml")
        with pytest.raises(pydantic.ValidationError) as caught:
            _Entry.model_validate(doc.data["policy"]["entry"])
        [problem] = validation_problems(caught.value, doc, at=("policy", "entry"))
        assert (problem.line, problem.field) == (3, "policy.entry.at")

    def test_located_document_problem(self) -> None:
        """A problem of one's own at a path gets the path's line."""
        doc = LocatedDocument("x.yaml", {"a": [1]}, {(): 1, ("a",): 2, ("a", 0): 3})
        assert str(doc.problem(("a", 0), "too small")) == "x.yaml:3: a[0]: too small"


class TestLoadScenario:
    def test_reads_the_valid_scenario(self, tmp_path: Path) -> None:
        """The decimals are exact, the dates are dates, the times are aware."""
        scenario = load_scenario(write(tmp_path, "ok.yaml", VALID))
        assert scenario.case.balance == Decimal("1250.00")
        assert str(scenario.case.balance) == "1250.00"
        assert scenario.case.due_date == date(2026, 9, 1)
        assert all(event.at.tzinfo is not None for event in scenario.events)
        assert scenario.expect[0].rules == ("US-7IN7",)

    def test_local_times_of_an_inconvenient_event(self, tmp_path: Path) -> None:
        """`from: 21:00` and `to: 08:00`, unquoted, are times of day."""
        text = variant(
            "type: notice_sent, kind: validation}",
            "type: inconvenient, from: 21:00, to: 08:00}",
        )
        event = load_scenario(write(tmp_path, "x.yaml", text)).events[0]
        assert isinstance(event, InconvenientEvent)
        assert (event.start, event.end) == (time(21, 0), time(8, 0))

    def test_the_extras(self, tmp_path: Path) -> None:
        """description, overrides, contact extras and expectation extras are accepted."""
        text = (
            variant(
                "rules: [US-RegF]\n",
                "description: why\nrules: [US-RegF]\noverrides: {US-7IN7: {limit: 5}}\n",
            )
            .replace(
                "- {id: mobile, channel: call}",
                "- {id: mobile, channel: call, address: '+12125550100', work: false, "
                "consent: true, opted_out: false}",
            )
            .replace(
                "contact: {channel: call, contact: mobile}",
                "contact: {channel: call, contact: mobile, purpose: collection, text: hi, "
                "visit: {collectors: 2, credentials: true, registered: true, recorded: true}}\n"
                "    next_allowed_at: 2026-10-09T08:00:00-04:00",
            )
        )
        scenario = load_scenario(write(tmp_path, "x.yaml", text))
        assert scenario.description == "why"
        assert scenario.overrides == {"US-7IN7": {"limit": 5}}
        assert scenario.case.contacts[0].consent is True
        assert scenario.expect[0].next_allowed_at is not None

    def test_address_defaults_to_unknown(self, tmp_path: Path) -> None:
        """A contact without an address says nothing about where the person is."""
        scenario = load_scenario(write(tmp_path, "x.yaml", VALID))
        assert scenario.case.contacts[0].address == "unknown"

    def test_run_scenario_raises_scenario_invalid(self, tmp_path: Path) -> None:
        """From Python, a malformed file raises ScenarioInvalid with file, line, field, message."""
        path = write(tmp_path, "x.yaml", variant("verdict: deny", "verdict: refuse"))
        with pytest.raises(ScenarioInvalid) as caught:
            run_scenario(path)
        err = caught.value
        assert (err.file, err.line, err.field) == (str(path), 17, "expect[0].verdict")
        assert "'allow' or 'deny'" in err.message


#: (id, the broken text, line, field, a fragment of the message)
MALFORMED = [
    (
        "missing required field",
        variant("  currency: USD\n", ""),
        3,
        "case.currency",
        "Field required",
    ),
    (
        "naive time",
        variant("at: 2026-10-08T11:00:00-04:00", "at: 2026-10-08T11:00:00"),
        15,
        "expect[0].at",
        "Input should have timezone info",
    ),
    (
        "unknown rule id",
        variant("rules: [US-7IN7]", "rules: [US-8IN8]"),
        18,
        "expect[0].rules[0]",
        "unknown rule id 'US-8IN8'; did you mean US-7IN7?",
    ),
    (
        "a time zone that is not one",
        variant("  timezone: America/New_York\n", "  timezone: America/Boston\n"),
        5,
        "case.timezone",
        "an IANA time zone such as 'America/New_York' or 'Asia/Shanghai'",
    ),
    (
        "unknown key",
        variant("  balance: 1250.00\n", "  balance: 1250.00\n  colour: red\n"),
        8,
        "case.colour",
        "unknown key",
    ),
    (
        "unknown pack",
        variant("rules: [US-RegF]", "rules: [US-RegF, XX-Nowhere]"),
        2,
        "rules[1]",
        "unknown rule pack 'XX-Nowhere'",
    ),
    (
        "events out of order",
        variant("2026-10-01T09:00:00-04:00", "2026-10-03T09:00:00-04:00"),
        13,
        "events[1].at",
        "is before events[0].at",
    ),
    (
        "unknown event type",
        variant("type: notice_sent, kind: validation", "type: telegram"),
        12,
        "events[0].type",
        "expected one of contact, consent",
    ),
    (
        "error inside an event",
        variant("outcome: conversation", "outcome: chat"),
        13,
        "events[1].outcome",
        "Input should be 'no_answer'",
    ),
    (
        "unknown contact id",
        variant(
            "contact: {channel: call, contact: mobile}", "contact: {channel: call, contact: home}"
        ),
        16,
        "expect[0].contact.contact",
        "no contact 'home' in case.contacts",
    ),
    (
        "expectation before the last event",
        variant("at: 2026-10-08T11:00:00-04:00", "at: 2026-10-02T09:59:00-04:00"),
        15,
        "expect[0].at",
        "is before the last event",
    ),
    (
        "expectations out of order",
        VALID
        + (
            "  - at: 2026-10-08T10:00:00-04:00\n"
            "    contact: {channel: call, contact: mobile}\n"
            "    verdict: deny\n"
        ),
        19,
        "expect[1].at",
        "is before expect[0].at",
    ),
    (
        "neither rules nor policy",
        variant("rules: [US-RegF]\n", ""),
        1,
        "rules",
        "give rules (rule pack ids) or policy",
    ),
    (
        "rules and policy",
        variant("rules: [US-RegF]\n", "rules: [US-RegF]\npolicy: lender.yaml\n"),
        3,
        "policy",
        "not both",
    ),
    (
        "no such policy file",
        variant("rules: [US-RegF]\n", "policy: lender.yaml\n"),
        2,
        "policy",
        "no policy file",
    ),
    (
        "tick without a policy",
        variant("type: notice_sent, kind: validation", "type: tick"),
        12,
        "events[0].type",
        "a tick runs a policy",
    ),
    (
        "stage without a policy",
        variant("    verdict: deny\n    rules: [US-7IN7]\n", "    stage: phone\n"),
        17,
        "expect[0].stage",
        "stage expectations check a policy",
    ),
    (
        "too many decimal places",
        variant("balance: 1250.00", "balance: 1250.001"),
        7,
        "case.balance",
        "at most 2 decimal places",
    ),
    (
        "unknown currency",
        variant("currency: USD", "currency: ABC"),
        6,
        "case.currency",
        "ISO 4217",
    ),
    (
        "duplicate key",
        variant("  due_date: 2026-09-01\n", "  due_date: 2026-09-01\n  due_date: 2026-09-02\n"),
        9,
        "case.due_date",
        "duplicate key 'due_date' (first given on line 8)",
    ),
    (
        "an engine refusal names the event",
        variant(
            "type: notice_sent, kind: validation}",
            "type: hold, kind: bankruptcy, until: 2026-09-30}",
        ),
        12,
        "events[0].until",
        "a time after the hold starts",
    ),
]


class TestMalformedScenarios:
    @pytest.mark.parametrize(
        ("text", "line", "field", "message"),
        [case[1:] for case in MALFORMED],
        ids=[case[0] for case in MALFORMED],
    )
    def test_exit_2_naming_file_line_and_field(
        self, tmp_path: Path, text: str, line: int, field: str, message: str
    ) -> None:
        """`arrears test` exits 2 and prints `file:line: field: message` on stderr."""
        path = write(tmp_path, "broken.yaml", text)
        code, out, err = invoke("test", str(path))
        assert code == 2, (out, err)
        assert f"{path}:{line}: {field}: " in err
        assert message in err
        assert out == "0 passed, 0 failed\n"
        assert "PASS" not in out
        assert "FAIL" not in out

    def test_every_problem_is_listed(self, tmp_path: Path) -> None:
        """All schema problems of a file are reported, each on its own line, in line order."""
        text = variant("currency: USD", "currency: 12").replace("verdict: deny", "verdict: no")
        path = write(tmp_path, "x.yaml", text)
        _, _, err = invoke("test", str(path))
        lines = err.splitlines()
        assert lines[0].startswith(f"{path}:6: case.currency: ")
        assert lines[1].startswith(f"{path}:17: expect[0].verdict: ")

    def test_keeps_running_the_other_files(self, tmp_path: Path) -> None:
        """One invalid file does not stop the others from being checked; the exit is still 2."""
        first = write(tmp_path, "a.yaml", variant("  currency: USD\n", ""))
        second = write(tmp_path, "b.yaml", variant("verdict: deny", "verdict: maybe"))
        code, _, err = invoke("test", str(tmp_path))
        assert code == 2
        assert f"{first}:3: case.currency" in err
        assert f"{second}:17: expect[0].verdict" in err
        assert "2 files are not a valid scenario" in err

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "got an empty file"),
            ("- just\n- a list\n", "got list"),
            ("name: [unclosed\n", "not valid YAML"),
        ],
        ids=["empty", "list", "syntax"],
    )
    def test_not_a_scenario_at_all(self, tmp_path: Path, text: str, message: str) -> None:
        """Files that are not a mapping are refused at line 1 (or where the parser stopped)."""
        path = write(tmp_path, "x.yaml", text)
        code, _, err = invoke("test", str(path))
        assert code == 2
        assert err.startswith(f"{path}:")
        assert message in err


class TestCommandLine:
    def test_help(self) -> None:
        """`arrears --help` lists the test command."""
        code, out, _ = invoke("--help")
        assert code == 0
        assert "test" in out

    def test_test_help(self) -> None:
        """`arrears test --help` explains the exit statuses."""
        code, out, _ = invoke("test", "--help")
        assert code == 0
        assert "Exit status: 0" in out

    def test_paths_are_required(self) -> None:
        """Without a path it is a usage error (exit 2)."""
        code, _, err = invoke("test")
        assert code == 2
        assert "PATHS" in err

    def test_a_folder_without_scenarios(self, tmp_path: Path) -> None:
        """A folder with no *.yaml or *.yml is a usage error."""
        write(tmp_path, "notes.txt", "nothing")
        code, _, err = invoke("test", str(tmp_path))
        assert code == 2
        assert "no scenario files" in err

    def test_a_missing_path(self, tmp_path: Path) -> None:
        """A path that does not exist is a usage error."""
        code, _, err = invoke("test", str(tmp_path / "nope.yaml"))
        assert code == 2
        assert "does not exist" in err

    def test_python_dash_m_on_a_folder(self, tmp_path: Path) -> None:
        """`python -m arrears test` searches folders recursively, sorted, and skips other files."""
        write(tmp_path, "scenarios/b/late.yml", variant("verdict: deny", "verdict: later"))
        write(tmp_path, "scenarios/a.yaml", variant("  currency: USD\n", ""))
        write(tmp_path, "scenarios/README.md", "not a scenario")
        done = subprocess.run(
            [sys.executable, "-m", "arrears", "test", "scenarios"],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
        assert done.returncode == 2, done.stderr
        a = str(Path("scenarios", "a.yaml"))
        late = str(Path("scenarios", "b", "late.yml"))
        assert done.stderr.splitlines() == [
            f"{a}:3: case.currency: Field required",
            f"{late}:17: expect[0].verdict: Input should be 'allow' or 'deny'",
            "2 files are not a valid scenario",
        ]
        assert done.stdout == "0 passed, 0 failed\n"
