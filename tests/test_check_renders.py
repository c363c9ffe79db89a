"""``arrears check`` renders every template as reviews would, and refuses what reviews would refuse.

Every step's template is rendered in every stage the step acts in and every
situation a review can meet there (a promise in its grace days, a plan
between instalments…), with the largest values the limits allow, through
the function reviews render with.  Late-fee rates above the ceiling of the
policy's jurisdiction are refused as the policy loads.  And a policy the
check passes runs a long simulation of extreme cases without one review
failing.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog
from click.testing import CliRunner

from arrears import Engine, Money, message_check
from arrears.cli import main
from arrears.compliance.packs import PACKS
from arrears.errors import PolicyInvalid
from arrears.limits import MAX_AMOUNT, NAME
from arrears.message_check import SITUATIONS, situations_for
from arrears.messages import TemplateSet, agreed_deadline, review_context
from arrears.messages import context as context_module
from arrears.plans import Instalment, Promise
from arrears.policy import Policy, load_policy
from arrears.policy.ceilings import CEILINGS, ceiling_for, rate_problems, yearly
from arrears.simulate import Simulation, synthetic_portfolio
from arrears.stores import open_store
from arrears.testing import PACK_LANGUAGES, PolicyHarness, check_policy

ROOT = Path(__file__).resolve().parent.parent
POLICY_FOLDERS = (
    ROOT / "examples" / "policies",
    ROOT / "src" / "arrears" / "examples" / "policies",
)
TEMPLATE_FOLDERS = (
    ROOT / "examples" / "templates",
    ROOT / "src" / "arrears" / "examples" / "templates",
)
CN = ROOT / "src" / "arrears" / "examples" / "policies" / "cn_consumer_loan.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def example_policies() -> list[Path]:
    return sorted(path for folder in POLICY_FOLDERS for path in folder.glob("*.yaml"))


def cn_policy(tmp_path: Path, edit: Any = None, *, templates: Path | None = None) -> Path:
    """The shipped CN policy in *tmp_path*, its templates folder absolute, edited by *edit*."""
    text = CN.read_text(encoding="utf-8").replace(
        "templates: ../templates", f"templates: {templates or TEMPLATE_FOLDERS[1]}"
    )
    if edit is not None:
        text = edit(text)
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def messages_of(path: Path) -> list[str]:
    return [problem.message for problem in check_policy(path).problems]


class TestExamples:
    @pytest.mark.parametrize("path", example_policies(), ids=lambda path: path.parent.parent.name)
    def test_every_example_policy_passes(self, path: Path) -> None:
        result = check_policy(path)
        assert [str(problem) for problem in result.problems] == []
        assert result.ok

    @pytest.mark.parametrize("folder", TEMPLATE_FOLDERS, ids=lambda path: path.parent.name)
    def test_every_example_template_passes_its_language_pack(self, folder: Path) -> None:
        templates = TemplateSet.load(folder)
        assert len(templates) == 13
        for pack, language in PACK_LANGUAGES.items():
            known = [pack_id for pack_id in PACKS if pack_id.split("-")[0] == pack]
            assert known, pack
            locales = {t.locale for t in templates if t.locale.split("-")[0] == language}
            assert templates.check([known[0]], locales=locales) == []

    def test_the_two_copies_are_the_same(self) -> None:
        """The shipped examples and the repository's are one set of files."""
        for kind in ("policies", "templates"):
            ours = sorted(p.name for p in (ROOT / "examples" / kind).iterdir())
            shipped = sorted(
                p.name for p in (ROOT / "src" / "arrears" / "examples" / kind).iterdir()
            )
            assert ours == shipped
            for name in ours:
                assert (ROOT / "examples" / kind / name).read_bytes() == (
                    ROOT / "src" / "arrears" / "examples" / kind / name
                ).read_bytes()


class TestJurisdictions:
    def test_each_template_is_judged_by_the_sets_of_its_language(self, tmp_path: Path) -> None:
        """A lender with Chinese and American debtors: the English SMS is not held to the
        Chinese signature and disclosure rules, the Chinese SMS not to Regulation F's."""
        path = cn_policy(
            tmp_path,
            lambda text: text.replace("packs: [CN]", "jurisdictions: {CN: [CN], US: [US-RegF]}"),
        )
        messages = [problem.message for problem in check_policy(path).problems]
        crossed = [
            message
            for message in messages
            if ("en-US" in message and "CN-" in message)
            or ("zh-CN" in message and "US-" in message)
        ]
        assert crossed == []
        # What is left is the English SMS's own: the Chinese lender name makes it UCS-2.
        assert messages
        assert all("en-US" in message and "MSG-SEGMENTS" in message for message in messages)


class TestSituations:
    def test_the_promise_stage_meets_promises_only(self) -> None:
        """promise_kept and promise_broken have no guards: a case leaves when its promise ends."""
        policy = load_policy(CN)
        assert [s.name for s in situations_for(policy, "promise")] == [
            "a promise before its date",
            "a promise due today",
            "a promise past its date, in its grace days",
        ]

    def test_a_paid_plan_with_arrears_left_leaves_repayment_plan(self) -> None:
        """plan_completed always leads out (with arrears left, to the first contact stage),
        and offer_plan asks for an active plan: the stage meets running plans only."""
        assert [s.name for s in situations_for(load_policy(CN), "repayment_plan")] == [
            "a plan between instalments",
            "a plan's last instalment past its date, in its grace days",
        ]

    def test_a_policy_firing_promise_meets_no_ended_promise(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A policy that fires ``promise`` itself cannot put a case there without one (the
        edge asks for an open promise); were the edge to ask for none, the check would
        meet the stage after its promise ended."""
        policy = Policy(id="p", version="1", inbound={"conversation": "promise"})
        running = [s.name for s in situations_for(policy, "promise")]
        assert running == [
            "a promise before its date",
            "a promise due today",
            "a promise past its date, in its grace days",
        ]
        leaving = dict(message_check._LEAVING)
        leaving["promise"] = (("promise_kept", "promise_broken"), ("promise",), "not_its_guard")
        monkeypatch.setattr(message_check, "_LEAVING", leaving)
        names = [s.name for s in situations_for(policy, "promise")]
        assert names == [*running, "in the promise stage after its promise ended"]

    def test_a_contact_stage_meets_every_situation(self) -> None:
        assert situations_for(load_policy(CN), "sms") == SITUATIONS


class TestPromiseInGrace:
    """The shipped CN promise reminder in a promise's grace days: the trial's refusal."""

    def promise(self, due: date, *, paid: str = "0", grace: int = 3) -> Promise:
        return Promise(
            id="promise-1",
            made_at=datetime(2027, 1, 1, 10, tzinfo=SHANGHAI),
            instalments=(Instalment(due=due, amount=Money("2000.00", "CNY")),),
            grace_days=grace,
            paid=Decimal(paid),
        )

    def test_the_deadline_is_the_last_day_of_grace(self) -> None:
        """Two days past the date with three days of grace: pay by the day after tomorrow's eve."""
        harness = PolicyHarness(CN, start="2027-01-04T09:30:00+08:00")
        case = harness.open(id="L-1", due_date="2026-12-01", principal="12000.00", stage="phone")
        case = case.model_copy(update={"promise": self.promise(date(2027, 1, 2))})
        assert agreed_deadline(case, date(2027, 1, 4)) == date(2027, 1, 5)
        assert agreed_deadline(case, date(2027, 1, 5)) == date(2027, 1, 5)
        assert agreed_deadline(case, date(2027, 1, 6)) is None  # broken: judged before any step
        at = datetime(2027, 1, 4, 9, 30, tzinfo=SHANGHAI)
        assert review_context(case, at, None)["deadline"] == date(2027, 1, 5)

    def test_a_covered_instalment_gives_no_grace_date(self) -> None:
        case = PolicyHarness(CN, start="2027-01-04T09:30:00+08:00").open(
            id="L-1", due_date="2026-12-01", principal="12000.00"
        )
        paid = case.model_copy(update={"promise": self.promise(date(2027, 1, 2), paid="2000")})
        assert agreed_deadline(paid, date(2027, 1, 4)) is None
        ahead = case.model_copy(update={"promise": self.promise(date(2027, 1, 9))})
        assert agreed_deadline(ahead, date(2027, 1, 4)) == date(2027, 1, 9)

    def test_the_review_sends_the_reminder_with_the_grace_date(self) -> None:
        harness = PolicyHarness(CN, start="2027-01-01T10:00:00+08:00")
        harness.open(id="L-1", due_date="2026-12-01", principal="12000.00", stage="phone")
        harness.engine.record_promise(
            "L-1", Money("2000.00", "CNY"), date(2027, 1, 2), grace_days=3
        )
        assert harness.stage("L-1") == "promise"
        report = harness.tick(datetime(2027, 1, 4, 9, 30, tzinfo=SHANGHAI))  # a Monday
        assert report.errors == []
        assert harness.sent("L-1")[-1] == ("2027-01-04", "sms", "reminder")
        assert "还款截止日期为2027年1月5日" in harness.texts("L-1")[-1]

    def test_the_check_would_have_caught_the_old_context(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With the deadline a review gave before (instalments ahead only), the check refuses
        the reminder in the grace context, naming the file, template, step and situation."""

        def ahead_only(case: Any, today: date) -> date | None:
            promise = case.promise
            if promise is None or not promise.is_open:
                return None
            dates = [part.due for part in promise.instalments if part.due >= today]
            return min(dates) if dates else None

        monkeypatch.setattr(context_module, "agreed_deadline", ahead_only)
        path = cn_policy(tmp_path)
        problems = check_policy(path).problems
        assert [(p.file, p.field) for p in problems] == [(str(path), "steps[9].send.template")]
        assert problems[0].message == (
            "reminder.sms.zh-CN at step 'promise-reminder' in stage promise, a promise past its "
            "date, in its grace days (9999 days past due): MSG-VARIABLES: variable 'deadline' "
            "is not in the context; a review gives 'deadline' only with send.deadline_days, "
            "while a promise or plan runs, or before the due date"
        )


class TestExtremeValues:
    def padded(self, tmp_path: Path, extra: int) -> Path:
        """The example templates, overdue.sms.zh-CN made *extra* characters longer."""
        folder = tmp_path / "templates"
        folder.mkdir()
        for source in TEMPLATE_FOLDERS[1].glob("*.txt"):
            text = source.read_text(encoding="utf-8")
            if source.name == "overdue.sms.zh-CN.txt":
                text = text.replace("协商。", "协商" + "。" * extra, 1)
            (folder / source.name).write_text(text, encoding="utf-8")
        return folder

    def test_a_134_character_sms_passes_samples_and_is_refused(self, tmp_path: Path) -> None:
        """134 characters with sample values (two UCS-2 parts, its limit); a review of a
        seven-figure debt makes three, so the check refuses it naming template and step."""
        folder = self.padded(tmp_path, 20)
        templates = TemplateSet.load(folder)
        sample = templates.get("overdue", "sms", "zh-CN")
        from arrears.messages import sample_context

        message, problems = sample.evaluate(sample_context("zh-CN"))
        assert problems == []
        assert message is not None
        assert message.sms is not None
        assert (message.sms.characters, message.sms.segments) == (134, 2)
        assert templates.check(["CN"], locales=["zh-CN"]) == []
        messages = messages_of(cn_policy(tmp_path, templates=folder))
        assert messages, "the check passed a template reviews refuse"
        first = messages[0]
        assert first.startswith("overdue.sms.zh-CN at step 'overdue-sms' in stage notified, ")
        assert "MSG-SEGMENTS: 3 SMS parts" in first
        assert first.endswith("at most 2; shorten the template or raise its max_segments")

    def test_a_seven_figure_debt_is_refused_in_a_review_too(self, tmp_path: Path) -> None:
        """What the check reports is what a review does with such a case."""
        folder = self.padded(tmp_path, 20)
        harness = PolicyHarness(
            load_policy(cn_policy(tmp_path, templates=folder)), start="2026-09-02T09:30:00+08:00"
        )
        harness.open(id="L-1", due_date="2026-09-01", principal="1234567.00", stage="notified")
        report = harness.tick()
        assert [error for _, error in report.errors] == [
            "MessageRefused: template 'overdue.sms.zh-CN' refused: MSG-SEGMENTS: 3 SMS parts "
            "(136 characters, "
            "UCS-2), at most 2"
        ]

    def test_a_debtor_name_of_the_longest_kind(self, tmp_path: Path) -> None:
        """A template naming the debtor in one SMS part cannot hold a name of NAME characters."""

        def edit(text: str) -> str:
            return text.replace(
                "    send: {channel: sms, template: final_notice, deadline_days: 7}",
                "    send: {channel: sms, template: named, deadline_days: 7}",
            )

        folder = self.padded(tmp_path, 0)
        (folder / "named.sms.zh-CN.txt").write_text(
            "---\nkind: final_notice\nmax_segments: 4\n---\n"
            "{{ sms_signature }}{{ debtor_name }}:欠款{{ amount_owed }},请于{{ deadline }}前还清,"
            "每日罚息{{ late_fee_rate | percent }}。电话{{ lender_hotline }}。回T退订",
            encoding="utf-8",
        )
        messages = messages_of(cn_policy(tmp_path, edit, templates=folder))
        assert len(messages) == 2
        assert "MSG-SEGMENTS: 5 SMS parts" in messages[0]
        assert "the debtor's name unknown" not in messages[0]
        assert messages[1].endswith(
            "the debtor's name unknown: MSG-VARIABLES: variable 'debtor_name' is not in the context"
        )
        assert NAME == 200

    def test_the_largest_amount_is_just_under_the_limit(self) -> None:
        from arrears.message_check import _largest_part

        part = Decimal(_largest_part("CNY"))
        assert 4 * part < MAX_AMOUNT
        assert len(f"{4 * part:,.2f}") == len(f"{MAX_AMOUNT - Decimal('0.01'):,.2f}")


class TestExplain:
    def policy(self, tmp_path: Path) -> Path:
        """The CN policy with a reminder after the due date and no deadline_days."""
        return cn_policy(
            tmp_path,
            lambda text: text.replace(
                "  - id: due-soon-reminder\n    stages: [pre_due]\n    when: {days_to_due: 3}\n",
                "  - id: due-soon-reminder\n    stages: [pre_due]\n",
            ),
        )

    def test_a_render_problem_is_shown_not_raised(self, tmp_path: Path) -> None:
        path = self.policy(tmp_path)
        assert any("at step 'due-soon-reminder' in stage pre_due" in m for m in messages_of(path))
        db = tmp_path / "cases.db"
        store = open_store(db)
        try:
            engine = Engine(policy=load_policy(path), store=store)
            engine.open_case(
                {
                    "id": "L-1",
                    "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
                    "contacts": [{"id": "mobile", "channel": "call", "address": "+8613812345678"}],
                    "balance": {"currency": "CNY", "principal": "3000.00"},
                    "due_date": "2026-09-01",
                },
                at=datetime(2026, 9, 3, 9, tzinfo=SHANGHAI),
            )
            explained = engine.explain("L-1", datetime(2026, 9, 3, 9, 30, tzinfo=SHANGHAI))
        finally:
            store.close()
        [step] = [s for s in explained.steps if s.source == "due-soon-reminder"]
        assert step.blocked
        assert step.verdict is None
        result = CliRunner().invoke(
            main,
            [
                "explain",
                "--db",
                str(db),
                "L-1",
                "--at",
                "2026-09-03T09:30:00+08:00",
                "--policy",
                str(path),
            ],
        )
        assert result.exit_code == 0, result.output
        assert result.exception is None
        assert (
            "step due-soon-reminder: send sms (reminder) - not rendered: template "
            "'reminder.sms.zh-CN' refused: MSG-VARIABLES: variable 'deadline' is not in the "
            "context"
        ) in result.stdout


class TestRateCeilings:
    def test_a_daily_five_percent_is_refused_under_cn(self, tmp_path: Path) -> None:
        path = cn_policy(
            tmp_path, lambda text: text.replace('late_fee_rate: "0.0005"', 'late_fee_rate: "0.05"')
        )
        path.write_text(
            path.read_text(encoding="utf-8").replace('  rate_ceiling: "0.24"\n', ""),
            encoding="utf-8",
        )
        with pytest.raises(PolicyInvalid) as caught:
            load_policy(path)
        [problem] = caught.value.problems
        assert problem.field == "lender.late_fee_rate"
        assert problem.message.startswith(
            "got 0.05 a day (1825% a year), above the CN ceiling of 12% a year, four times "
            "the one-year LPR"
        )
        assert "法释〔2020〕17号" in problem.message
        assert "set lender.rate_ceiling" in problem.message
        code = CliRunner().invoke(main, ["check", str(path)])
        assert code.exit_code == 1
        assert "lender.late_fee_rate: got 0.05 a day (1825% a year)" in code.stdout

    def test_a_policy_ceiling_is_cited_instead(self, tmp_path: Path) -> None:
        """The shipped CN policy sets 24% (a licensed institution): 0.05% a day passes, 5% not."""
        assert load_policy(CN).lender["rate_ceiling"] == "0.24"
        path = cn_policy(
            tmp_path, lambda text: text.replace('late_fee_rate: "0.0005"', 'late_fee_rate: "0.05"')
        )
        with pytest.raises(PolicyInvalid, match=r"above the policy's lender.rate_ceiling of 24%"):
            load_policy(path)

    @pytest.mark.parametrize(
        ("packs", "lender", "refused"),
        [
            (["CN"], {"late_fee_rate": "0.0003"}, False),  # 10.95% a year
            (["CN"], {"late_fee_rate": "0.0004"}, True),  # 14.6%
            (["CN"], {"late_fee_rate": "0.01", "late_fee_period": "month"}, False),  # 12%
            (["CN"], {"late_fee_rate": "0.0101", "late_fee_period": "month"}, True),
            (["CN"], {"late_fee_rate": "0.13", "late_fee_period": "year"}, True),
            (["CN"], {"late_fee_rate": "0.05", "rate_ceiling": "20"}, False),
            (["US-RegF"], {"late_fee_rate": "0.05"}, False),  # no US ceiling in the table
            (["UK"], {"late_fee_rate": "0.008"}, False),
            (["UK"], {"late_fee_rate": "0.0081"}, True),
            (["UK", "CN"], {"late_fee_rate": "0.0004"}, True),  # the lowest ceiling
            (["CN"], {}, False),
        ],
    )
    def test_ceilings(self, packs: list[str], lender: dict[str, str], refused: bool) -> None:
        assert bool(rate_problems(packs, lender)) is refused

    def test_the_table(self) -> None:
        assert CEILINGS["CN"].yearly == Decimal("0.120")
        assert not CEILINGS["CN"].law  # four times an index that moves: a default to confirm
        assert ceiling_for(["US-RegF", "US-MA"]) is None
        assert yearly(Decimal("0.0005"), "day") == Decimal("0.1825")
        for pack, ceiling in CEILINGS.items():
            assert pack in PACKS
            assert ceiling.citation
            assert ceiling.configure
            assert ceiling.basis

    def test_a_float_or_a_word_is_left_to_the_lender_check(self) -> None:
        assert rate_problems(["CN"], {"late_fee_rate": 0.05}) == []
        assert rate_problems(["CN"], {"late_fee_rate": "lots"}) == []


#: Cases in the simulation below: 2,000 (about 23 s of CPU, twice the time of 1,000);
#: ARREARS_SIMULATION_CASES changes it.
SIMULATED = int(os.environ.get("ARREARS_SIMULATION_CASES", "2000"))


@pytest.fixture
def quiet() -> Iterator[None]:
    """The engine's log lines at warning and above only (a review that failed still shows)."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    yield
    structlog.configure(**saved)


class TestSimulation:
    @pytest.mark.usefixtures("quiet")
    def test_a_checked_policy_never_fails_a_review(self) -> None:
        """120 days of cases with the largest balances and the longest names and ids, promises
        with grace days: no review fails (no variable missing, no SMS too long)."""
        assert check_policy(CN).ok
        cent = Decimal("0.01")
        most = ((MAX_AMOUNT - cent) / 4).quantize(cent, rounding=ROUND_DOWN)
        records = synthetic_portfolio(SIMULATED, seed=11)
        for record in records:
            balance = record["balance"]
            for name in ("principal", "interest", "fees", "penalty"):
                if name in balance:
                    balance[name] = f"{most:.2f}"
            if "not_due" in balance:
                balance["not_due"] = f"{4 * most:.2f}"
            record["id"] = (record["id"] + "-" + "9" * 128)[:128]
            record["debtor"]["name"] = ("欧阳明月" * NAME)[:NAME]
        simulation = Simulation(load_policy(CN), seed=11, grace_days=3)
        started = time.perf_counter()
        result = simulation.run(records, days=120)
        took = time.perf_counter() - started
        assert result.errors == 0
        steps = Counter(
            entry.data["step"]
            for _, chain in result.engine.store.chains()
            for entry in chain
            if entry.kind == "outbox_intent"
        )
        # Every kind of message the policy sends went out, the promise reminders too.
        assert set(steps) == {
            "payday-reminder",
            "due-soon-reminder",
            "overdue-sms",
            "phone-sms",
            "final-notice",
            "promise-reminder",
        }
        assert sum(steps.values()) > SIMULATED
        assert took < 120, f"{took:.0f} s"


def test_the_dates_span_the_longest_forms() -> None:
    """The check's review days print the longest dates: two-digit days and months."""
    from arrears.message_check import _longest_day

    day = _longest_day("zh-CN")
    assert (day.month, day.day) == (12, 31)
    assert _longest_day("en-US").month in (9, 12)
