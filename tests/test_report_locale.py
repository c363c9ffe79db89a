"""The report in Chinese: every label, note and sentence from the message table, no English left.

The same figures as the English report, written with the industry's terms
(催回率, 迁徙率 and 入催率, 回款率, 承诺还款, 承诺兑现率) and formatted as
zh-CN writes them (Babel): the text table, the comparison and the HTML page.
"""

from __future__ import annotations

import re
import string
from dataclasses import fields
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from arrears import Actor, Engine, InvalidInput, Money, SettableClock
from arrears.cli import main
from arrears.compliance import Compliance
from arrears.kpi import KpiReport, kpis_from_journal
from arrears.report import render_html
from arrears.report_text import (
    EN,
    REPORT_LOCALES,
    ZH_CN,
    ReportText,
    debtors_locale,
    policy_locale,
    report_language,
    report_locale,
)
from arrears.stores import open_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
END = START + timedelta(days=40)  # one complete period and a partial one
AGENT = Actor("agent-7", frozenset({"agent"}))

#: What may stay in Latin letters in a Chinese report: identifiers from the journal (buckets,
#: rule ids, variants), the names of statistical methods and software, and a file's name.
ALLOWED = {
    *(f"M{k}" for k in range(8)),
    "Mk",
    "CN-HOURS",
    "champion",
    "challenger",
    "Wilson",
    "Newcomb",
    "score",
    "bootstrap",
    "statsmodels",
    "docs/kpis.md",
}


def build(engine: Engine, clock: SettableClock) -> None:
    """Twelve cases in two variants (and one not yet due): calls that reach the debtor or
    not, SMS, promises kept and broken, payments, and calls at 23:00 that CN-HOURS denies."""
    for number in range(12):
        variant = ("champion", "challenger")[number % 2]
        case_id = f"L-{number:02d}"
        engine.open_case(
            {
                "id": case_id,
                "debtor": {"id": f"D-{number}", "timezone": "Asia/Shanghai"},
                "contacts": [{"id": "mobile", "channel": "call", "address": "+8613812345678"}],
                "balance": {"currency": "CNY", "principal": f"{1000 + 500 * number}.00"},
                "due_date": "2026-08-20",
                "variant": variant,
            },
            at=START,
        )
        if number % 4 == 1:
            call = {"channel": "call", "contact": "mobile"}
            late = START.replace(hour=23)
            assert not engine.judge_contact(case_id, call, at=late, actor=AGENT).allowed
        day = START + timedelta(days=1, hours=1)
        outcome = "conversation" if number % 3 else "no_answer"
        engine.record_interaction(case_id, "call", outcome, contact="mobile", actor=AGENT, at=day)
        engine.record_interaction(
            case_id, "sms", "delivered", contact="mobile", automated=True, at=day
        )
        if outcome == "conversation":
            due = (day + timedelta(days=3)).date()
            engine.record_promise(case_id, Money("500.00", "CNY"), due, at=day)
            if number % 2:
                engine.record_payment(case_id, Money("500.00", "CNY"), at=day + timedelta(days=2))
    engine.open_case(  # not yet due: in M0 at the start, for the M0→M1+ row (入催率)
        {
            "id": "L-M0",
            "debtor": {"id": "D-M0", "timezone": "Asia/Shanghai"},
            "balance": {"currency": "CNY", "not_due": "2000.00"},
            "due_date": "2026-09-10",
        },
        at=START,
    )
    clock.set(START + timedelta(days=10))
    for number in range(12):
        engine.review_promises(f"L-{number:02d}")


@pytest.fixture(scope="module")
def report() -> KpiReport:
    clock = SettableClock(START)
    engine = Engine(compliance=Compliance(["CN"]), clock=clock)
    build(engine, clock)
    return kpis_from_journal(engine.store.chains(), start=START, end=END, champion="champion")


class _Text(HTMLParser):
    """The text a reader sees: every text node outside ``<style>``, SVG text included."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._style = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style += tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._style -= tag == "style"

    def handle_data(self, data: str) -> None:
        if not self._style:
            self.parts.append(data)


def english_left(text: str) -> set[str]:
    """Latin-letter words of *text* (two letters or more: ``k`` in ``M(k+1)`` is no label)
    that are not in `ALLOWED`."""
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9\-/.']*[A-Za-z0-9]", text))
    return {word for word in words if word not in ALLOWED}


def test_the_report_has_every_kind_of_row_the_check_needs(report: KpiReport) -> None:
    """The journal exercises each label: variants, promises, denials, a partial period."""
    kpis = report.overall
    assert kpis.promises_resolved
    assert kpis.agent_contacts
    assert kpis.denied
    assert kpis.denied_by_channel == {"call": 3}
    assert len(report.periods) == 2
    assert report.periods[1].partial
    assert report.comparison() is not None
    assert "promise-kept rate" in report.table()


def test_no_english_label_is_left_in_the_chinese_table(report: KpiReport) -> None:
    text = report.table("zh-CN")
    assert english_left(text) == set()
    for term in ("催回率", "入催率（迁徙率 M0→M1+）", "回款率", "承诺还款数", "承诺兑现率"):
        assert term in text
    assert "冠军/挑战者策略对比" in text
    assert "（不完整，10 天）" in text
    # the same figures as the English table, cell for cell
    assert [values for _, values in report.rows("zh-CN")] == [
        values for _, values in report.rows("en")
    ]


def test_no_english_label_is_left_in_the_chinese_page(report: KpiReport) -> None:
    page = render_html(report, locale="zh-CN")
    parser = _Text()
    parser.feed(page)
    seen = " ".join(parser.parts)
    assert english_left(seen) == set()
    assert '<html lang="zh-CN"><head><meta charset="utf-8">' in page
    assert "<title>催收效果评估报告</title>" in page
    # the charts' text is text, for the browser to set in a CJK font of the page's stack
    assert "<text" in page
    assert '"Noto Sans CJK SC"' in page
    assert '"Microsoft YaHei"' in page
    for title in ("迁徙流向", "逐日累计回款率", "按渠道和时段的联系次数", "按规则的合规拒绝"):
        assert f"<h2>{title}</h2>" in page
    assert "挑战者 challenger 的催回率" in page


def test_numbers_money_and_dates_are_written_as_the_locale_writes_them(
    report: KpiReport,
) -> None:
    zh = report_locale("zh-CN")
    assert zh.moment(START) == "2026年9月1日 09:00 +08:00"
    assert zh.day(START) == "9月1日"
    assert zh.currency("CNY") == "人民币"
    assert report_locale("en").currency("CNY") == "CNY"
    assert zh.amount(Money("1234567.5", "CNY").amount, "CNY") == "1,234,567.50"
    assert zh.amount(Money("1234567", "JPY").amount, "JPY") == "1,234,567"
    assert report.window("zh-CN").startswith(
        "统计窗口 2026年9月1日 09:00 +08:00 至 2026年10月11日 09:00 +08:00（40 天）"
    )
    assert report.periods[0].describe("zh-CN") == "1：9月1日→10月1日"
    rows = dict(report.rows("zh-CN"))
    assert rows["期初逾期金额（人民币）"] == ["45,000.00", "24,000.00", "21,000.00"]


def test_every_language_has_the_same_fields_and_placeholders() -> None:
    """A template's named fields are the same in every language; mappings name the same keys."""
    parse = string.Formatter().parse
    for text in REPORT_LOCALES.values():
        for field in fields(ReportText):
            ours, theirs = getattr(text, field.name), getattr(EN, field.name)
            if isinstance(theirs, str):
                wanted = {name for _, name, _, _ in parse(theirs) if name}
                assert {name for _, name, _, _ in parse(ours) if name} == wanted, field.name
            elif not isinstance(theirs, bool):
                assert set(ours) == set(theirs), field.name
    # every field is translated, bar the ones that are symbols in both
    same = {
        field.name
        for field in fields(ReportText)
        if getattr(ZH_CN, field.name) == getattr(EN, field.name)
    }
    assert same == {"difference_row", "p_equals", "p_below"}


def test_an_unknown_language_is_refused() -> None:
    assert report_locale("zh").tag == "zh-CN"
    assert report_locale("zh_cn").tag == "zh-CN"
    with pytest.raises(InvalidInput, match="locale"):
        report_locale("fr-FR")


def test_report_command_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "zh.db"
    with open_store(path) as store:
        clock = SettableClock(START)
        engine = Engine(compliance=Compliance(["CN"]), clock=clock, store=store)
        build(engine, clock)
    runner = CliRunner()
    page = tmp_path / "zh.html"
    done = runner.invoke(
        main, ["report", "--db", str(path), "--locale", "zh-CN", "--html", str(page)]
    )
    assert done.exit_code == 0, done.output
    assert done.output.startswith("统计窗口 2026年9月1日 09:00 +08:00")
    assert "催回率" in done.output
    assert "<title>催收效果评估报告：zh.db</title>" in page.read_text(encoding="utf-8")
    # Without --locale, the debtors' language: in Shanghai with none given, zh-CN.
    assert runner.invoke(main, ["report", "--db", str(path)]).output.startswith("统计窗口")
    english = runner.invoke(main, ["report", "--db", str(path), "--locale", "en"])
    assert english.output.startswith("window 2026-09-01 09:00+08:00")
    wrong = runner.invoke(main, ["report", "--db", str(path), "--locale", "fr"])
    assert wrong.exit_code == 2
    assert "--locale" in wrong.output


# -- which language, when none is asked for ------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
CN_POLICY = ROOT / "examples" / "policies" / "cn_consumer_loan.yaml"
US_POLICY = ROOT / "examples" / "policies" / "us_third_party_regf.yaml"


def test_a_locale_tag_reads_as_a_report_language() -> None:
    assert [report_language(tag) for tag in ("en", "en-US", "en_GB", "EN-au")] == ["en"] * 4
    simplified = ("zh", "zh-CN", "zh_cn", "zh-Hans", "zh-Hans-CN", "zh-SG")
    assert [report_language(tag) for tag in simplified] == ["zh-CN"] * len(simplified)
    for other in ("zh-TW", "zh-HK", "zh-Hant", "zh-Hant-CN", "fr-FR", "ja", ""):
        assert report_language(other) is None, other


def test_the_debtors_language_is_the_one_more_than_half_of_them_read() -> None:
    assert debtors_locale({"zh-CN": 51, "en-US": 49}) == "zh-CN"
    assert debtors_locale({"zh-CN": 30, "zh-Hans": 21, "en": 49}) == "zh-CN"  # one language
    assert debtors_locale({"zh-CN": 50, "en": 50}) == "en"  # a tie: English
    assert debtors_locale({"zh-CN": 40, "fr-FR": 35, "en": 25}) == "en"  # no majority
    assert debtors_locale({"zh-TW": 90, "en": 10}) == "en"  # traditional is not zh-CN
    assert debtors_locale({"en-GB": 3}) == "en"
    assert debtors_locale({}) == "en"


def test_the_policy_language_is_its_packs_language() -> None:
    assert policy_locale(["CN"]) == "zh-CN"
    assert policy_locale(["US-RegF"]) == "en"
    assert policy_locale(["UK"]) == "en"
    assert policy_locale([]) == "en"
    assert policy_locale(["CN", "US-RegF"]) == "en"  # two languages: English
    assert policy_locale(["XX"]) == "en"  # a pack of no known language


def chinese_and_english(
    engine: Engine, chinese: int, english: int, english_opens: datetime = START
) -> None:
    """Past-due cases whose debtors read Chinese or English (their locale)."""
    for number in range(chinese + english):
        engine.open_case(
            {
                "id": f"L-{number:02d}",
                "debtor": {
                    "id": f"D-{number}",
                    "timezone": "Asia/Shanghai",
                    "locale": "zh-CN" if number < chinese else "en-US",
                },
                "balance": {"currency": "CNY", "principal": "1000.00"},
                "due_date": "2026-08-20",
            },
            at=START if number < chinese else english_opens,
        )


def test_the_report_counts_its_cases_debtors_locales() -> None:
    engine = Engine(clock=SettableClock(START))
    chinese_and_english(engine, 3, 2)
    report = kpis_from_journal(engine.store.chains())
    assert report.debtor_locales == {"zh-CN": 3, "en-US": 2}
    assert report.locale == "zh-CN"
    engine = Engine(clock=SettableClock(START))
    chinese_and_english(engine, 2, 3, english_opens=START + timedelta(days=20))
    assert kpis_from_journal(engine.store.chains()).locale == "en"
    # a window that ends before the English cases open counts the Chinese ones only
    window = kpis_from_journal(engine.store.chains(), start=START, end=START + timedelta(days=10))
    assert window.debtor_locales == {"zh-CN": 2}
    assert window.locale == "zh-CN"


def test_report_command_follows_the_debtors_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "mostly-zh.db"
    with open_store(path) as store:
        chinese_and_english(Engine(clock=SettableClock(START), store=store), 3, 2)
    runner = CliRunner()
    page = tmp_path / "mostly-zh.html"
    chinese = runner.invoke(main, ["report", "--db", str(path), "--html", str(page)])
    assert chinese.exit_code == 0, chinese.output
    assert chinese.output.startswith("统计窗口 2026年9月1日 09:00 +08:00")
    assert '<html lang="zh-CN">' in page.read_text(encoding="utf-8")
    for option in ("--lang", "--locale"):
        english = runner.invoke(main, ["report", "--db", str(path), option, "EN"])
        assert english.exit_code == 0, english.output
        assert english.output.startswith("window 2026-09-01 09:00+08:00")
    same = runner.invoke(main, ["report", "--db", str(path), "--lang", "zh_Hans"])
    assert same.output == chinese.output.replace(f"report: {page}\n", "")


@pytest.mark.parametrize("command", ["report", "demo", "simulate"])
def test_an_unknown_language_is_one_line_naming_it_and_the_known_ones(
    command: str, tmp_path: Path
) -> None:
    line = {
        "report": ["report", "--db", str(tmp_path / "none.db")],
        "demo": ["demo", "--cases", "2", "--days", "1", "--db", str(tmp_path / "demo.db")],
        "simulate": ["simulate", str(CN_POLICY), "--synthetic", "2", "--days", "1"],
    }[command]
    done = CliRunner().invoke(main, [*line, "--lang", "fr-FR"])
    assert done.exit_code == 2, done.output
    errors = [text for text in done.stderr.splitlines() if text.startswith("Error")]
    assert errors == [
        "Error: Invalid value for '--locale' / '--lang': 'fr-FR' is not a language of the "
        "report (one of en, zh-CN)"
    ]
    assert not (tmp_path / "demo.db").exists()  # refused before anything ran


def test_simulate_writes_in_the_language_of_the_policys_packs(tmp_path: Path) -> None:
    runner = CliRunner()
    line = ["--synthetic", "3", "--days", "1", "--seed", "2"]
    page = tmp_path / "cn.html"
    cn = runner.invoke(
        main,
        ["simulate", str(CN_POLICY), *line, "--db", str(tmp_path / "cn.db"), "--html", str(page)],
    )
    assert cn.exit_code == 0, cn.output
    assert cn.output.startswith("统计窗口 ")
    assert "策略 cn-consumer-loan 2026.11，随机种子 2；催收员共提议 " in cn.output
    # the synthetic debtors read zh-CN, so the report command's default is the same language
    assert f"the same figures: arrears report --db {tmp_path / 'cn.db'}\n" in cn.output
    written = page.read_text(encoding="utf-8")
    assert "<title>策略模拟：cn_consumer_loan.yaml</title>" in written
    assert '<p class="meta">策略 cn-consumer-loan 2026.11，随机种子 2；' in written
    english = runner.invoke(
        main, ["simulate", str(CN_POLICY), *line, "--db", str(tmp_path / "en.db"), "--lang", "en"]
    )
    assert english.exit_code == 0, english.output
    assert english.output.startswith("window ")
    assert "policy cn-consumer-loan 2026.11, seed 2; the agents proposed " in english.output
    assert f"arrears report --db {tmp_path / 'en.db'} --lang en\n" in english.output
    us = runner.invoke(main, ["simulate", str(US_POLICY), *line])
    assert us.exit_code == 0, us.output
    assert us.output.startswith("window ")
    # the JSON is the same in every language
    as_json = [
        runner.invoke(main, ["simulate", str(CN_POLICY), *line, "--json", *lang]).stdout
        for lang in ([], ["--lang", "en"])
    ]
    assert as_json[0] == as_json[1]
    assert '"cases": 3' in as_json[0]


def test_demo_writes_in_the_policys_language_unless_told(tmp_path: Path) -> None:
    runner = CliRunner()
    page = tmp_path / "demo.html"
    line = ["demo", "--cases", "3", "--days", "1", "--db", str(tmp_path / "demo.db")]
    done = runner.invoke(main, [*line, "--html", str(page)])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[1].startswith("统计窗口 ")
    assert "<title>arrears 演示：催收效果评估报告</title>" in page.read_text(encoding="utf-8")
    done = runner.invoke(main, [*line, "--html", str(page), "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[1].startswith("window ")
    assert "<title>arrears demo: collection report</title>" in page.read_text(encoding="utf-8")
