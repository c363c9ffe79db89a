"""Policy scenarios: the example policies walked through cases, and `policy:` in the runner.

Every file under ``tests/policy_scenarios`` (but drafts in folders starting
with ``_``, such as ``_pending``) must pass.  The tests below write small
scenarios and policies of their own to pin what the runner does with
``tick`` events and ``stage`` / ``actions`` expectations, and how it reports
files that are not valid.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from arrears.cli import main
from arrears.scenarios import ScenarioInvalid, load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "tests" / "policy_scenarios"
TEMPLATES = ROOT / "examples" / "templates"


def scenario_files() -> list[Path]:
    return sorted(
        path
        for path in FOLDER.rglob("*.yaml")
        if not any(part.startswith(("_", ".")) for part in path.relative_to(FOLDER).parts[:-1])
    )


@pytest.mark.parametrize(
    "path", scenario_files(), ids=lambda path: f"{path.parent.name}/{path.stem}"
)
def test_policy_scenario(path: Path) -> None:
    """Each policy scenario file passes."""
    result = run_scenario(path)
    assert result.passed, "\n".join(result.failures)


def test_every_example_policy_has_scenarios() -> None:
    """At least four scenarios walk each example policy."""
    for name in ("cn_consumer_loan", "credit_card", "us_third_party_regf"):
        assert len(list((FOLDER / name).glob("*.yaml"))) >= 4, name


def test_the_policy_example_in_the_docs_is_the_file() -> None:
    """docs/scenarios.md shows a policy scenario of this folder exactly as it is (bar notes)."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "scenarios.md").read_text(), re.S)
    [shown] = [block for block in blocks if re.search(r"^policy: ", block, re.M)]
    file = FOLDER / "credit_card" / "cured_by_payment.yaml"
    text = file.read_text(encoding="utf-8")
    without_notes = re.sub(r"description: >\n(  .*\n)+", "", text)
    assert shown == without_notes


def test_arrears_test_runs_the_folder_and_skips_pending() -> None:
    """`arrears test tests/policy_scenarios` passes them all; _pending drafts are left out."""
    result = CliRunner().invoke(main, ["test", str(FOLDER)])
    assert result.exit_code == 0, result.output
    assert f"{len(scenario_files())} passed, 0 failed" in result.stdout


# -- the runner, on small policies of its own -------------------------------------------

#: A policy without templates (a message's text is then its template's name):
#: two SMS on day 1, one on day 3, a call task in the phone stage, a legal
#: review task from day 20.
POLICY = """\
id: runner-test
version: "7"
packs: [CN]
review: {time: "09:30"}
steps:
  - id: day-one-a
    stages: [notified]
    when: {dpd: 1}
    send: {channel: sms, template: alpha}
  - id: day-one-b
    stages: [notified]
    when: {dpd: 1}
    send: {channel: sms, template: beta}
  - id: day-three
    stages: [sms]
    when: {dpd: 3}
    send: {channel: sms, template: alpha}
  - id: call
    stages: [phone]
    task: {kind: call, queue: phone-team}
  - id: legal
    stages: [phone]
    when: {dpd_at_least: 20}
    task: {kind: legal_review, queue: legal}
escalations:
  - {trigger: notify, from: [pre_due], when: {dpd_at_least: 1}}
  - {trigger: escalate, from: [notified], when: {dpd_at_least: 3}}
  - {trigger: escalate, from: [sms], when: {dpd_at_least: 5}}
"""

CASE = """\
case:
  id: L-1
  timezone: Asia/Shanghai
  currency: CNY
  balance: "3000.00"
  due_date: 2026-10-01
  contacts:
    - {id: mobile, channel: call, address: "+8613812345678"}
    - {id: mobile-sms, channel: sms, address: "+8613812345678"}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def scenario(
    folder: Path,
    expect: str,
    *,
    events: str = "",
    policy: str = POLICY,
    head: str = "",
    case: str = CASE,
) -> Path:
    """A scenario in *folder* on *policy* (written beside it as policy.yaml)."""
    write(folder, "policy.yaml", policy)
    text = f"name: runner test\npolicy: policy.yaml\n{head}{case}"
    if events:
        text += f"events:\n{events}"
    text += f"expect:\n{expect}"
    return write(folder, "scenario.yaml", text)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


class TestStageAndActions:
    def test_a_walk_passes(self, tmp_path: Path) -> None:
        """Stages and actions checked day by day, tasks included, all hold."""
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T09:30:00+08:00\n"
            "    stage: notified\n"
            "    actions: [{channel: sms, template: beta}, {channel: sms, template: alpha}]\n"
            "  - at: 2026-10-03T09:30:00+08:00\n"
            "    actions: []\n"
            "  - at: 2026-10-04T09:30:00+08:00\n"
            "    stage: sms\n"
            "    actions: [{channel: sms}]\n"
            "  - at: 2026-10-06T09:30:00+08:00\n"
            "    stage: phone\n"
            "    actions: [{channel: call, queue: phone-team}]\n"
            "  - at: 2026-10-21T09:30:00+08:00\n"
            "    actions: [{task: legal_review, queue: legal}]\n",
        )
        result = run_scenario(path)
        assert result.passed, result.failures

    def test_a_wrong_stage_fails_naming_both(self, tmp_path: Path) -> None:
        """The failure names the entry, its line, the stage expected and the one reached."""
        path = scenario(tmp_path, "  - at: 2026-10-02T09:30:00+08:00\n    stage: sms\n")
        result = run_scenario(path)
        assert not result.passed
        line = line_of(path, "stage: sms")
        assert result.failures == [f"expect[0] (line {line - 1}): expected stage sms, got notified"]

    @pytest.mark.parametrize(
        "actions",
        [
            "[{channel: sms, template: alpha}]",
            "[{channel: sms}, {channel: sms}, {channel: sms}]",
            "[]",
            "[{channel: email}, {channel: sms, template: beta}]",
        ],
        ids=["one-missing", "one-too-many", "none", "wrong-channel"],
    )
    def test_actions_must_be_exactly_those_taken(self, tmp_path: Path, actions: str) -> None:
        """Every action taken must be expected, and every action expected taken."""
        path = scenario(tmp_path, f"  - at: 2026-10-02T09:30:00+08:00\n    actions: {actions}\n")
        result = run_scenario(path)
        assert not result.passed
        assert "got [sms alpha, sms beta]" in result.failures[0]

    def test_a_named_template_is_matched_before_a_bare_channel(self, tmp_path: Path) -> None:
        """A bare {channel: sms} takes whichever SMS the specific entries leave over."""
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T09:30:00+08:00\n"
            "    actions: [{channel: sms}, {channel: sms, template: alpha}]\n",
        )
        assert run_scenario(path).passed

    def test_a_task_queue_that_differs_fails(self, tmp_path: Path) -> None:
        """`queue` is compared when given."""
        path = scenario(
            tmp_path,
            "  - at: 2026-10-06T09:30:00+08:00\n    actions: [{channel: call, queue: field}]\n",
        )
        result = run_scenario(path)
        assert (
            "expected actions [call task (field)], got [call task (phone-team)]"
            in (result.failures[0])
        )

    def test_denied_messages_are_named_in_the_failure(self, tmp_path: Path) -> None:
        """A message the packs denied is not an action; the failure says which rule denied it."""
        late = POLICY.replace('review: {time: "09:30"}', 'review: {time: "23:00"}')
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T23:00:00+08:00\n    actions: [{channel: sms, template: alpha}]\n",
            policy=late,
        )
        result = run_scenario(path)
        assert "got [none] (denied: sms (CN-HOURS), sms (CN-HOURS))" in result.failures[0]

    def test_scenario_overrides_apply_on_top_of_the_policy(self, tmp_path: Path) -> None:
        """`overrides` change the policy's pack rules for this scenario only."""
        late = POLICY.replace('review: {time: "09:30"}', 'review: {time: "23:00"}')
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T23:00:00+08:00\n"
            "    actions: [{channel: sms, template: alpha}, {channel: sms, template: beta}]\n",
            policy=late,
            head="overrides: {CN-HOURS: {enabled: false}}\n",
        )
        assert run_scenario(path).passed

    def test_the_tick_reviews_only_when_a_review_is_due(self, tmp_path: Path) -> None:
        """After the 09:30 review, a tick at 15:00 the same day does nothing."""
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T15:00:00+08:00\n    actions: []\n",
            events="  - {at: 2026-10-02T09:30:00+08:00, type: tick}\n",
        )
        assert run_scenario(path).passed

    def test_a_failure_says_when_no_review_was_due(self, tmp_path: Path) -> None:
        """Expecting actions when the case was not due names the next review."""
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T15:00:00+08:00\n    actions: [{channel: sms}]\n",
            events="  - {at: 2026-10-02T09:30:00+08:00, type: tick}\n",
        )
        [failure] = run_scenario(path).failures
        assert failure.endswith(
            "expected actions [sms], got [none] "
            "(no review was due; the next is at 2026-10-03T09:30:00+08:00)"
        )

    def test_a_stage_expectation_runs_the_review_due(self, tmp_path: Path) -> None:
        """Without a tick before it, the entry's own tick runs the review that is due."""
        path = scenario(tmp_path, "  - at: 2026-10-04T12:00:00+08:00\n    stage: sms\n")
        assert run_scenario(path).passed

    def test_events_and_entries_are_one_timeline(self, tmp_path: Path) -> None:
        """With a policy, a payment may come between two expectations; it cures the case."""
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T09:30:00+08:00\n"
            "    stage: notified\n"
            "  - at: 2026-10-03T09:30:00+08:00\n"
            "    stage: resolved\n"
            "    actions: []\n",
            events='  - {at: 2026-10-02T12:00:00+08:00, type: payment, amount: "3000.00"}\n',
        )
        assert run_scenario(path).passed

    def test_contacts_are_judged_by_the_policys_packs(self, tmp_path: Path) -> None:
        """Under a policy, `contact:` entries work as with `rules:`, with the policy's packs."""
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T22:30:00+08:00\n"
            "    contact: {channel: sms, contact: mobile-sms}\n"
            "    verdict: deny\n"
            "    rules: [CN-HOURS]\n",
        )
        assert run_scenario(path).passed

    def test_a_failed_review_fails_the_scenario(self, tmp_path: Path) -> None:
        """A review that raises (a template refused) is reported with its moment."""
        policy = POLICY.replace(
            "packs: [CN]\n",
            f"packs: [CN]\ntemplates: {TEMPLATES}\nlender: {{name: 安心消费金融}}\n",
        ).replace("template: alpha", "template: reminder")
        policy = policy.replace(
            "  - id: day-one-b\n"
            "    stages: [notified]\n"
            "    when: {dpd: 1}\n"
            "    send: {channel: sms, template: beta}\n",
            "",
        )
        path = scenario(
            tmp_path,
            "  - at: 2026-10-02T09:30:00+08:00\n    stage: notified\n",
            events="  - {at: 2026-10-02T09:30:00+08:00, type: tick}\n",
            policy=policy,
            case=CASE.replace("  currency: CNY\n", "  locale: zh-CN\n  currency: CNY\n"),
        )
        result = run_scenario(path)
        assert not result.passed
        assert result.failures[0].startswith(
            f"events[0] (line {line_of(path, 'type: tick')}): "
            "the review at 2026-10-02T09:30:00+08:00 failed: MessageRefused"
        )


class TestInvalidPolicyScenarios:
    """Files refused before anything runs: exit 2, each problem at its file, line and field."""

    def refused(self, path: Path) -> str:
        code, out, err = invoke("test", str(path))
        assert code == 2, (out, err)
        return err

    def test_a_policy_that_does_not_load(self, tmp_path: Path) -> None:
        """The scenario's policy line, then the policy's own problems at the policy's lines."""
        broken = POLICY.replace("when: {dpd: 3}", "when: {dpd_at_least: -1}")
        path = scenario(tmp_path, "  - at: 2026-10-02T09:30:00+08:00\n    stage: notified\n")
        write(tmp_path, "policy.yaml", broken)
        err = self.refused(path)
        lines = err.splitlines()
        assert lines[0] == (
            f"{path}:2: policy: the policy {tmp_path / 'policy.yaml'} is not valid "
            "(problem follows)"
        )
        policy_line = line_of(tmp_path / "policy.yaml", "dpd_at_least: -1")
        assert lines[1].startswith(
            f"{tmp_path / 'policy.yaml'}:{policy_line}: steps[2].when.dpd_at_least: "
        )

    def test_the_policy_path_is_relative_to_the_scenario(self, tmp_path: Path) -> None:
        """A policy one folder up is found as ../policy.yaml and named without the `..`."""
        write(tmp_path, "policy.yaml", "id: Bad Id\nversion: '1'\n")
        text = (
            "name: x\npolicy: ../policy.yaml\n"
            + CASE
            + "expect:\n  - {at: 2026-10-02T09:30:00+08:00, stage: notified}\n"
        )
        path = write(tmp_path, "sub/scenario.yaml", text)
        err = self.refused(path)
        assert f"{tmp_path / 'policy.yaml'}:1: id: " in err

    def test_no_such_policy_file(self, tmp_path: Path) -> None:
        """A missing policy file is a problem at the scenario's `policy` line."""
        text = (
            "name: x\npolicy: nowhere.yaml\n"
            + CASE
            + "expect:\n  - {at: 2026-10-02T09:30:00+08:00, stage: notified}\n"
        )
        path = write(tmp_path, "scenario.yaml", text)
        assert f"{path}:2: policy: no policy file {tmp_path / 'nowhere.yaml'}" in self.refused(path)

    @pytest.mark.parametrize(
        ("expect", "field", "message"),
        [
            ("stage: nowhere", "expect[0].stage", "unknown stage 'nowhere'"),
            (
                "actions: [{channel: sms, template: gamma}]",
                "expect[0].actions[0].template",
                "no step of the policy sends template 'gamma'",
            ),
            (
                "actions: [{channel: call, template: alpha}]",
                "expect[0].actions[0]",
                "a call is a task for a person and has no template",
            ),
            ("actions: [{template: alpha}]", "expect[0].actions[0]", "give channel"),
            (
                "actions: [{channel: sms, queue: phone-team}]",
                "expect[0].actions[0]",
                "a message has no queue",
            ),
            ("actions: [{task: dance}]", "expect[0].actions[0].task", "Input should be"),
            ("stage: sms, verdict: deny", "expect[0].verdict", "give contact too"),
        ],
        ids=[
            "unknown-stage",
            "unknown-template",
            "call-with-template",
            "no-channel",
            "queue-on-message",
            "unknown-task",
            "verdict-without-contact",
        ],
    )
    def test_bad_expectations(self, tmp_path: Path, expect: str, field: str, message: str) -> None:
        """Names the policy does not have, and keys that do not fit together, are refused."""
        path = scenario(tmp_path, f"  - {{at: 2026-10-02T09:30:00+08:00, {expect}}}\n")
        err = self.refused(path)
        assert f"{path}:{line_of(path, 'at: 2026-10-02')}: {field}: " in err
        assert message in err

    def test_a_start_stage_the_policy_does_not_have(self, tmp_path: Path) -> None:
        """`case.stage` must be a stage of the policy's workflow a case may be opened in."""
        path = scenario(
            tmp_path,
            "  - {at: 2026-10-02T09:30:00+08:00, stage: notified}\n",
            case=CASE.replace("  currency: CNY\n", "  stage: resolved\n  currency: CNY\n"),
        )
        err = self.refused(path)
        assert f"{path}:{line_of(path, 'stage: resolved')}: case.stage: " in err
        assert "'resolved' is a terminal stage" in err

    def test_a_start_stage_only_a_person_brings_a_case_to(self, tmp_path: Path) -> None:
        """`case.stage` must be one a case may be opened in: never a legal stage."""
        path = scenario(
            tmp_path,
            "  - {at: 2026-10-02T09:30:00+08:00, stage: notified}\n",
            case=CASE.replace("  currency: CNY\n", "  stage: legal.litigation\n  currency: CNY\n"),
        )
        err = self.refused(path)
        assert f"{path}:{line_of(path, 'stage: legal.litigation')}: case.stage: " in err
        assert "reaches only through a person's decision" in err
        assert "'pre_due'" in err

    def test_a_locale_the_debtor_cannot_have(self, tmp_path: Path) -> None:
        """`case.locale` is checked as the debtor's language tag."""
        path = scenario(
            tmp_path,
            "  - {at: 2026-10-02T09:30:00+08:00, stage: notified}\n",
            case=CASE.replace("  currency: CNY\n", "  locale: 'zh CN!'\n  currency: CNY\n"),
        )
        err = self.refused(path)
        assert f"{path}:{line_of(path, 'locale:')}: case.locale: " in err

    def test_templates_that_do_not_load(self, tmp_path: Path) -> None:
        """A templates folder that is not there is a problem at the policy's `templates` line."""
        policy = POLICY.replace("packs: [CN]\n", "packs: [CN]\ntemplates: missing\n")
        path = scenario(
            tmp_path, "  - {at: 2026-10-02T09:30:00+08:00, stage: notified}\n", policy=policy
        )
        err = self.refused(path)
        policy_file = tmp_path / "policy.yaml"
        assert f"{policy_file}:{line_of(policy_file, 'templates:')}: templates: " in err

    def test_load_scenario_checks_the_policy_too(self, tmp_path: Path) -> None:
        """`load_scenario` refuses the same files, without running them."""
        path = scenario(tmp_path, "  - {at: 2026-10-02T09:30:00+08:00, stage: nowhere}\n")
        with pytest.raises(ScenarioInvalid) as caught:
            load_scenario(path)
        assert caught.value.field == "expect[0].stage"


class TestWithoutAPolicy:
    def test_an_expectation_before_the_last_event_is_still_refused(self, tmp_path: Path) -> None:
        """With rules, events still all come before the expectations."""
        text = (
            "name: x\nrules: [CN]\n"
            + CASE
            + "events:\n  - {at: 2026-10-03T10:00:00+08:00, type: notice_sent, kind: x}\n"
            "expect:\n  - at: 2026-10-02T10:00:00+08:00\n"
            "    contact: {channel: sms, contact: mobile-sms}\n    verdict: allow\n"
        )
        path = write(tmp_path, "scenario.yaml", text)
        code, _, err = invoke("test", str(path))
        assert code == 2
        assert "expect[0].at: " in err
        assert "is before the last event" in err
