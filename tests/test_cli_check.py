"""``arrears check POLICY...``: policies and the templates they send, checked before they run.

A sound policy prints ``OK path (id version): N steps, M escalations``; a
policy with problems prints each as ``file:line: field: message``.  The exit
status is 0 when all are sound, 1 when any has a problem, 2 on misuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from arrears.cli import main
from arrears.testing import check_policy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "policies"
TEMPLATES = ROOT / "examples" / "templates"

#: A sound CN policy sending the example templates; the tests break it one way at a time.
GOOD = f"""\
id: check-test
version: "1"
packs: [CN]
templates: {TEMPLATES}
lender:
  name: 安心消费金融
  hotline: 400-820-0000
  signature: 安心消费金融
  late_fee_rate: "0.0003"
steps:
  - id: overdue-sms
    stages: [notified, sms]
    when: {{dpd_in: [1, 3]}}
    send: {{channel: sms, template: overdue, deadline_days: 7}}
  - id: call
    stages: [phone]
    task: {{kind: call, queue: phone-team}}
escalations:
  - {{trigger: notify, from: [pre_due], when: {{dpd_at_least: 1}}}}
  - {{trigger: escalate, from: [notified], when: {{dpd_at_least: 3}}}}
"""

#: A step appended to GOOD: its first line is line 18 of the file.
STEP_LINE = 18


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def with_step(step: str) -> str:
    """GOOD with *step* (YAML lines, the first ``- id: ...``) added to its steps."""
    head, tail = GOOD.split("escalations:\n")
    assert head.count("\n") == STEP_LINE - 1
    return f"{head}{step}escalations:\n{tail}"


class TestSoundPolicies:
    @pytest.mark.parametrize(
        ("name", "label", "steps", "escalations"),
        [
            ("cn_consumer_loan.yaml", "cn-consumer-loan 2026.11", 10, 4),
            ("credit_card.yaml", "cn-credit-card 2026.11", 10, 4),
            ("us_third_party_regf.yaml", "us-third-party-regf 2026.11", 6, 3),
        ],
    )
    def test_the_example_policies(
        self, name: str, label: str, steps: int, escalations: int
    ) -> None:
        """Each example policy loads, its templates pass, and the summary line says so."""
        path = EXAMPLES / name
        code, out, err = invoke(str(path))
        assert (code, err) == (0, "")
        assert out == f"OK {path} ({label}): {steps} steps, {escalations} escalations\n"

    def test_a_reminder_after_the_due_date_needs_a_deadline(self, tmp_path: Path) -> None:
        """A reminder sent in a contact stage without deadline_days has no deadline to state.

        A review would render it without one for an overdue case with nothing
        agreed, and the template would be refused, so the check reports it at
        the step, naming the stage and the situation.
        """
        text = (EXAMPLES / "cn_consumer_loan.yaml").read_text(encoding="utf-8")
        text = text.replace("stages: [promise]", "stages: [sms, promise]")
        text = text.replace(
            "templates: ../templates", f"templates: {EXAMPLES.parent / 'templates'}"
        )
        path = write(tmp_path, "no_deadline.yaml", text)
        code, out, _ = invoke(str(path))
        assert code == 1
        assert (
            "steps[9].send.template: reminder.sms.zh-CN at step 'promise-reminder' in stage "
            "sms, overdue with no promise or plan (9999 days past due): MSG-VARIABLES: "
            "variable 'deadline' is not in the context; a review gives 'deadline' only with "
            "send.deadline_days, while a promise or plan runs, or before the due date"
        ) in out
        assert "in stage promise" not in out  # a promise gives its date

    def test_several_at_once(self, tmp_path: Path) -> None:
        """One line per policy, in the order given; singular nouns for one."""
        one = write(
            tmp_path,
            "one.yaml",
            "id: tiny\nversion: '2'\nsteps:\n"
            "  - {id: a, stages: [phone], task: {kind: call, queue: q}}\n"
            "escalations:\n  - {trigger: notify, when: {dpd_at_least: 1}}\n",
        )
        good = write(tmp_path, "good.yaml", GOOD)
        code, out, _ = invoke(str(one), str(good))
        assert code == 0
        assert out.splitlines() == [
            f"OK {one} (tiny 2): 1 step, 1 escalation",
            f"OK {good} (check-test 1): 2 steps, 2 escalations",
        ]

    def test_from_python(self, tmp_path: Path) -> None:
        """`check_policy` gives the policy and its problems to a lender's own tests."""
        result = check_policy(write(tmp_path, "good.yaml", GOOD))
        assert result.ok
        assert result.policy is not None
        assert result.policy.id == "check-test"
        assert result.problems == []


#: (id, step or whole file, line, field, part of the message).
BROKEN = [
    (
        "unknown stage",
        with_step(
            "  - id: x\n    stages: [nowhere]\n    send: {channel: sms, template: overdue}\n"
        ),
        STEP_LINE + 1,
        "steps[2].stages[0]",
        "unknown stage 'nowhere'",
    ),
    (
        "unknown template",
        with_step("  - id: x\n    stages: [sms]\n    send: {channel: sms, template: nosuch}\n"),
        STEP_LINE + 2,
        "steps[2].send.template",
        "unknown template 'nosuch'",
    ),
    (
        "a condition that does not compile",
        with_step('  - id: x\n    if: "dpd >= "\n    send: {channel: sms, template: overdue}\n'),
        STEP_LINE + 1,
        "steps[2].if",
        "the CEL expression does not compile",
    ),
    (
        "a negative day count",
        with_step(
            "  - id: x\n    when: {dpd_at_least: -1}\n    send: {channel: sms, template: overdue}\n"
        ),
        STEP_LINE + 1,
        "steps[2].when.dpd_at_least",
        "greater than or equal to 0",
    ),
    (
        "a step in a terminal stage only",
        with_step(
            "  - id: x\n    stages: [resolved]\n    send: {channel: sms, template: overdue}\n"
        ),
        STEP_LINE + 1,
        "steps[2].stages",
        "can never fire: every stage named is terminal",
    ),
    (
        "a step whose days can never hold",
        with_step(
            "  - id: x\n    when: {dpd_at_least: 10, dpd_at_most: 5}\n"
            "    send: {channel: sms, template: overdue}\n"
        ),
        STEP_LINE + 1,
        "steps[2].when",
        "can never hold: days past due would have to be at least 10 and at most 5",
    ),
    (
        "a template in no locale of the packs",
        with_step(
            "  - id: x\n    stages: [sms]\n    send: {channel: letter, template: final_notice}\n"
        ),
        STEP_LINE + 2,
        "steps[2].send.template",
        "no letter template 'final_notice' in zh (only in en-US)",
    ),
    (
        "a template for another party",
        with_step(
            "  - id: x\n    stages: [sms]\n"
            "    send: {channel: sms, template: overdue, party: third_party}\n"
        ),
        STEP_LINE + 2,
        "steps[2].send.template",
        "overdue.sms.zh-CN may not go to the third_party",
    ),
    (
        "a deadline a review does not give",
        with_step("  - id: x\n    stages: [phone]\n    send: {channel: sms, template: reminder}\n"),
        STEP_LINE + 2,
        "steps[2].send.template",
        "reminder.sms.zh-CN at step 'x' in stage phone, overdue with no promise or plan "
        "(9999 days past due): MSG-VARIABLES: variable 'deadline' is not in the context",
    ),
    (
        "a lender detail the template needs",
        GOOD.replace("  hotline: 400-820-0000\n", ""),
        13,
        "steps[0].send.template",
        "overdue.sms.zh-CN uses 'lender_hotline': set lender.hotline in the policy",
    ),
    (
        "an unknown lender detail",
        GOOD.replace("  hotline: 400-820-0000\n", "  hotline: 400-820-0000\n  fax: '021-1234'\n"),
        8,
        "lender.fax",
        "expected one of",
    ),
    (
        # `promise` asks for an open promise: only recording one gives it, and fires it.
        "an escalation firing promise",
        """\
id: promise-by-rule
version: "1"
escalations:
  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}
  - {trigger: promise, from: [phone], when: {dpd_at_least: 20}}
""",
        5,
        "escalations[1].trigger",
        "got 'promise', which an escalation cannot fire: it needs an open promise to pay "
        "(open_promise()), and recording one (Engine.record_promise) fires it",
    ),
    (
        # `promise_broken` asks for the promise recorded broken: its review records that
        # and fires it; a rule firing it early would record a promise broken that is not.
        "an escalation firing promise_broken",
        """\
id: broken-by-rule
version: "1"
escalations:
  - {trigger: promise_broken, from: [promise], when: {dpd_at_least: 20}}
""",
        4,
        "escalations[0].trigger",
        "got 'promise_broken', which an escalation cannot fire: it needs the promise "
        "recorded broken or partly kept (broken_promise())",
    ),
    (
        "a step firing offer_plan",
        """\
id: plan-by-step
version: "1"
steps:
  - {id: offer, stages: [phone], fire: offer_plan}
""",
        4,
        "steps[0].fire",
        "got 'offer_plan', which a step cannot fire: it needs an active repayment plan "
        "(active_plan()), and starting one (Engine.start_plan) fires it",
    ),
    (
        # A ladder naming a stage twice makes two stages escalate into each other.
        "an escalation cycle in the ladder",
        """\
id: cycle
version: "1"
workflow:
  ladder: [notified, sms, phone, sms]
escalations:
  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}
  - {trigger: escalate, from: [notified], when: {dpd_at_least: 3}}
  - {trigger: escalate, from: [sms], when: {dpd_at_least: 15}}
  - {trigger: escalate, from: [phone], when: {dpd_at_least: 20}}
""",
        5,
        "escalations",
        "escalations cycle through phone -> sms -> phone with no escalation leading out",
    ),
    ("not YAML", "id: [unclosed\n", 2, "", "not valid YAML"),
]


class TestPoliciesWithProblems:
    @pytest.mark.parametrize(
        ("text", "line", "field", "message"),
        [case[1:] for case in BROKEN],
        ids=[case[0] for case in BROKEN],
    )
    def test_exit_1_naming_file_line_and_field(
        self, tmp_path: Path, text: str, line: int, field: str, message: str
    ) -> None:
        """`arrears check` exits 1 and prints `file:line: field: message`."""
        path = write(tmp_path, "policy.yaml", text)
        code, out, err = invoke(str(path))
        assert code == 1, (out, err)
        assert not out.startswith("OK")
        where = f"{path}:{line}: {field}: " if field else f"{path}:{line}: "
        matching = [row for row in out.splitlines() if row.startswith(where)]
        assert matching, out
        assert message in matching[0]

    def test_the_good_ones_still_say_ok(self, tmp_path: Path) -> None:
        """A policy with problems does not hide the others; the exit is still 1."""
        good = write(tmp_path, "good.yaml", GOOD)
        bad = write(tmp_path, "bad.yaml", GOOD.replace("dpd_in: [1, 3]", "dpd_in: []"))
        code, out, _ = invoke(str(bad), str(good))
        assert code == 1
        lines = out.splitlines()
        assert lines[0].startswith(f"{bad}:")
        assert lines[-1].startswith(f"OK {good} ")

    def test_every_problem_is_listed_in_line_order(self, tmp_path: Path) -> None:
        """Template problems of several steps are all reported."""
        text = with_step(
            "  - id: x\n    stages: [sms]\n    send: {channel: sms, template: nosuch}\n"
            "  - id: y\n    stages: [sms]\n    send: {channel: email, template: nothing}\n"
        )
        code, out, _ = invoke(str(write(tmp_path, "policy.yaml", text)))
        assert code == 1
        assert [row.split(": ")[1] for row in out.splitlines()] == [
            "steps[2].send.template",
            "steps[3].send.template",
        ]

    def test_a_chosen_locale_checks_its_templates(self) -> None:
        """--locale en-US judges the English templates against the CN pack: they lack 【…】."""
        path = EXAMPLES / "credit_card.yaml"
        code, out, _ = invoke("--locale", "en-US", str(path))
        assert code == 1
        assert "overdue.sms.en-US: CN-SMS: the text lacks: sender signature" in out

    def test_a_variable_only_a_caller_gives(self, tmp_path: Path) -> None:
        """A template that needs agent_name needs the step to give it (send.variables)."""
        text = f"""\
id: voicemail
version: "1"
packs: [US-RegF]
templates: {TEMPLATES}
lender: {{name: Acme Recovery Services, business_name: ACME, hotline: 1-800-555-0100}}
steps:
  - id: callback
    stages: [phone]
    send: {{channel: voicemail, template: callback, purpose: limited_content}}
"""
        path = write(tmp_path, "voicemail.yaml", text)
        code, out, _ = invoke(str(path))
        assert code == 1
        assert out == (
            f"{path}:9: steps[0].send.template: callback.voicemail.en-US uses "
            "'agent_name', which a review never gives: set send.variables\n"
        )
        fixed = text.replace(
            "purpose: limited_content}",
            "purpose: limited_content, variables: {agent_name: Maria Lopez}}",
        )
        code, out, _ = invoke(str(write(tmp_path, "voicemail.yaml", fixed)))
        assert (code, out.startswith("OK ")) == (0, True), out

    def test_a_templates_folder_that_is_not_there(self, tmp_path: Path) -> None:
        """A missing folder is a problem at the policy's `templates` line."""
        path = write(tmp_path, "p.yaml", GOOD.replace(f"templates: {TEMPLATES}", "templates: gone"))
        code, out, _ = invoke(str(path))
        assert code == 1
        assert out.startswith(f"{path}:4: templates: the templates do not load")


class TestUsage:
    def test_no_policy_named(self) -> None:
        """Without an argument the command is misused: exit 2."""
        code, _, err = invoke()
        assert code == 2
        assert "Missing argument" in err

    def test_no_such_file(self, tmp_path: Path) -> None:
        """A file that is not there is a usage error, not a policy problem."""
        code, _, err = invoke(str(tmp_path / "none.yaml"))
        assert code == 2
        assert "does not exist" in err

    def test_a_folder(self, tmp_path: Path) -> None:
        """A folder is not a policy file."""
        code, _, _ = invoke(str(tmp_path))
        assert code == 2
