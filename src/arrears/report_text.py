"""The KPI report's words and numbers in each language it is written in.

    >>> words = report_locale("zh-CN")
    >>> words.text.cure_rate, words.pct(2 / 3), words.amount(Decimal("7500"), "CNY")
    ('催回率', '66.7%', '7,500.00')

One mechanism for the text table (`arrears.kpi.KpiReport.table`), the
comparison (`arrears.comparison`) and the HTML report (`arrears.report`): a
typed message table.  `ReportText` has one field per label, explanation and
sentence; each language is one instance of it (`EN`, `ZH_CN`), so a language
that leaves a field out does not load, and a misspelt field is a type error.
A field holds a `str.format` template with named fields (``{currency}``),
the same names in every language.

`ReportLocale` pairs a language's text with its formatting: counts, rates,
amounts and moments as the locale writes them, from CLDR data (Babel, through
`arrears.messages.formatting`).  The Chinese labels are the industry's:
催回率, 迁徙率 (and 入催率 for M0→M1+), 回款率, 承诺还款, 承诺兑现率.

Which language a report is written in when none is asked for follows the
portfolio (``docs/kpis.md``, "Which language"): `debtors_locale` for a report
read from a journal (the language more than half of its cases' debtors
read), `policy_locale` for a run of a policy (the language of its packs).

    >>> debtors_locale({"zh-CN": 7, "en-US": 3}), policy_locale(["CN"])
    ('zh-CN', 'zh-CN')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from .errors import InvalidInput

if TYPE_CHECKING:
    from babel import Locale

__all__ = [
    "EN",
    "REPORT_LOCALES",
    "ZH_CN",
    "ReportLocale",
    "ReportText",
    "debtors_locale",
    "policy_locale",
    "report_language",
    "report_locale",
]


@dataclass(frozen=True, slots=True)
class ReportText:
    """Every word of the KPI report in one language (`str.format` templates).

    The fields are grouped as the report reads: the KPI table and its notes,
    the roll rates by period, the champion/challenger comparison, then the
    HTML page and its charts.  The mappings name things found in the journal:
    channels (``"call"``) and the compared KPIs (by their English name, which
    the JSON keeps).
    """

    # -- the window and the KPI table -------------------------------------------------------
    corner: str
    all_cases: str
    window: str
    window_partial: str
    period: str
    period_partial: str
    cases: str
    past_due_cases: str
    cured: str
    cure_rate: str
    roll_rate: str
    roll_rate_first: str
    roll_rates_none: str
    calls_and_visits: str
    right_party_contact_rate: str
    promises_made: str
    promises_resolved: str
    promise_kept_rate: str
    past_due: str
    collected_past_due: str
    recovery_rate: str
    collected: str
    contacts: str
    contacts_per_case: str
    cost_per_collected: str
    denied: str
    denial_rate: str
    rules_cited: str
    note_cohort: str
    note_rolls: str
    note_rolls_partial: str
    note_rolls_end: str
    note_recovery: str
    note_denied: str
    note_denial_rate: str
    note_definitions: str
    # -- roll rates by period ---------------------------------------------------------------
    roll_corner: str
    pooled: str
    pooled_complete: str
    no_rolls: str
    no_rolls_html: str
    share: str
    # -- champion and challenger ------------------------------------------------------------
    comparison_title: str
    champion_head: str
    difference_row: str
    proportion_cell: str
    empty_cell: str
    difference_cell: str
    p_suffix: str
    p_equals: str
    p_below: str
    interval: str
    bootstrap_interval: str
    sizes: str
    figures: str
    bootstrap_figures: str
    sentence_nothing: str
    sentence_same: str
    sentence_unclear: str
    sentence_higher: str
    sentence_lower: str
    comparison_note: str
    bootstrap_note: str
    intervals_need: str
    # -- the HTML page and its charts -------------------------------------------------------
    html_lang: str
    title: str
    title_of: str
    demo_title: str
    simulation_title: str
    run_note: str
    meta: str
    kpis_heading: str
    rolls_heading: str
    rolls_explained: str
    comparison_heading: str
    chart_flow: str
    chart_recovery: str
    chart_contacts: str
    chart_blocks: str
    flow_title: str
    flow_x: str
    flow_y: str
    flow_none: str
    flow_paid: str
    flow_no_period: str
    recovery_x: str
    recovery_y: str
    contacts_x: str
    contacts_y: str
    blocks_none: str
    blocks_x: str
    intervals_x: str
    # -- names of things in the journal ----------------------------------------------------
    channels: Mapping[str, str]
    kpis: Mapping[str, str]
    units: Mapping[str, str]
    # -- how moments and currencies are written ---------------------------------------------
    moment_pattern: str
    day_pattern: str
    currency_by_name: bool


EN: Final = ReportText(
    corner="KPI",
    all_cases="all",
    window="window {start} to {end} ({days} days): {complete} complete 30-day period(s)",
    window_partial=" and 1 partial period ({days} days)",
    period="{index}: {start}→{end}",
    period_partial=" (partial, {days} days)",
    cases="cases",
    past_due_cases="cases past due at entry",
    cured="cured by the end",
    cure_rate="cure rate",
    roll_rate="roll rate {name}",
    roll_rate_first="roll rate {name}",
    roll_rates_none="roll rates",
    calls_and_visits="calls and visits made",
    right_party_contact_rate="right-party contact rate",
    promises_made="promises made",
    promises_resolved="promises resolved",
    promise_kept_rate="promise-kept rate",
    past_due="amount past due at entry ({currency})",
    collected_past_due="collected from those cases ({currency})",
    recovery_rate="recovery rate",
    collected="amount collected, all cases ({currency})",
    contacts="contacts made (all channels)",
    contacts_per_case="contacts per case",
    cost_per_collected="cost per {currency} collected",
    denied="contacts denied by compliance",
    denial_rate="denial rate",
    rules_cited="rules cited by denials",
    note_cohort="Cases past due at entry: one day or more past due at the window's start "
    "(or at opening, for cases opened in it); cured: nothing past due at its end.",
    note_rolls="Roll rate Mk→M(k+1)+: of the cases in Mk at a period's start, the share in "
    "M(k+1) or worse at its end; pooled over the {pooled} complete 30-day period(s)",
    note_rolls_partial=", the partial one shown below only.",
    note_rolls_end=".",
    note_recovery="Recovery rate: collected from the cases past due at entry (payments and "
    "settlements; a payment reversed is not counted) over their amount past due at entry.",
    note_denied="Contacts denied: every contact compliance refused, the agents' calls and "
    "visits and the automated messages alike; a denial citing several rules counts under "
    "each rule ({several} cite more than one).",
    note_denial_rate="Denial rate: contacts denied over contacts proposed (those made and "
    "those denied), every channel.",
    note_definitions="Definitions: docs/kpis.md.",
    roll_corner="roll rates, all cases",
    pooled="pooled ({count})",
    pooled_complete="pooled ({count} complete)",
    no_rolls="roll rates: no case was past due or current at a period's start",
    no_rolls_html="No case was past due or current at a period's start.",
    share="{share} of {count}",
    comparison_title="champion/challenger, 95% confidence intervals (champion: {champion})",
    champion_head="{variant} (champion)",
    difference_row="{challenger} − {champion}",
    proportion_cell="{value} ({low}–{high}) of {trials}",
    empty_cell="- of 0",
    difference_cell="{difference} pts ({low} to {high})",
    p_suffix=", p {p}",
    p_equals="= {p}",
    p_below="< {p}",
    interval="95% CI {low} to {high} points",
    bootstrap_interval="95% bootstrap CI {low} to {high} points",
    sizes="{challenger_trials} {unit} in {challenger}, {champion_trials} in {champion}",
    figures="{interval}; p {p}; {sizes}",
    bootstrap_figures="{interval}; {sizes}",
    sentence_nothing="challenger {challenger}'s {kpi}: nothing to compare with champion "
    "{champion}'s ({sizes}).",
    sentence_same="challenger {challenger}'s {kpi}: no difference from champion {champion}'s, "
    "both {value} ({sizes}).",
    sentence_unclear="challenger {challenger}'s {kpi}: no clear difference from champion "
    "{champion}'s ({difference} points, {figures}).",
    sentence_higher="challenger {challenger}'s {kpi} is {difference} points higher than "
    "champion {champion}'s ({figures}).",
    sentence_lower="challenger {challenger}'s {kpi} is {difference} points lower than "
    "champion {champion}'s ({figures}).",
    comparison_note="Intervals: Wilson for each variant, Newcomb for a difference; p: two-sided "
    "score test; a difference is called clear when p < {alpha}, with no correction for "
    "comparing several KPIs (docs/kpis.md).",
    bootstrap_note="Recovery rate: a percentile bootstrap over the cases past due at entry "
    "({resamples} resamples, seed {seed}); a difference is called clear when its interval "
    "leaves out 0.",
    intervals_need="Confidence intervals for champion/challenger need statsmodels: "
    "pip install 'arrears[report]'.",
    html_lang="en",
    title="Collection report",
    title_of="Collection report: {name}",
    demo_title="arrears demo: collection report",
    simulation_title="Simulation of {name}",
    run_note="policy {policy} {version}, seed {seed}; the agents proposed {calls} calls "
    "({denied_calls} denied by compliance) and {visits} field visits ({denied_visits} denied); "
    "{payments} payments",
    meta="{window}; {cases} cases",
    kpis_heading="KPIs",
    rolls_heading="Roll rates by period",
    rolls_explained="Of the cases in Mk at a period's start, the share in M(k+1) or worse at "
    "its end, and how many were in Mk at the start. A partial period is shown here only; the "
    "pooled figures count the complete ones.",
    comparison_heading="Champion and challenger",
    chart_flow="Roll-rate flow",
    chart_recovery="Cumulative recovery by day",
    chart_contacts="Contacts by channel and hour",
    chart_blocks="Blocks by rule",
    flow_title="Roll-rate flow over {count} complete period(s) (share of each starting bucket)",
    flow_x="bucket at the end of the period",
    flow_y="bucket at the start",
    flow_none="no case owed anything at a period's start",
    flow_paid="paid",
    flow_no_period="no complete 30-day period in the window",
    recovery_x="day",
    recovery_y="recovered (% of past due at entry)",
    contacts_x="hour of the day (debtor's local time)",
    contacts_y="contacts",
    blocks_none="no contact was blocked",
    blocks_x="denials citing the rule (a denial citing two rules counts for both)",
    intervals_x="% (95% confidence interval)",
    channels={
        "sms": "sms",
        "call": "call",
        "voicemail": "voicemail",
        "email": "email",
        "letter": "letter",
        "visit": "visit",
    },
    kpis={
        "cure rate": "cure rate",
        "right-party contact rate": "right-party contact rate",
        "promise-kept rate": "promise-kept rate",
        "denial rate": "denial rate",
        "recovery rate": "recovery rate",
    },
    units={
        "cases": "cases",
        "calls and visits": "calls and visits",
        "promises": "promises",
        "contacts proposed": "contacts proposed",
    },
    moment_pattern="yyyy-MM-dd HH:mmxxx",
    day_pattern="MM-dd",
    currency_by_name=False,
)

ZH_CN: Final = ReportText(
    corner="指标",
    all_cases="全部",
    window="统计窗口 {start} 至 {end}（{days} 天）：{complete} 个完整的 30 天周期",
    window_partial="，另有 1 个不完整周期（{days} 天）",
    period="{index}：{start}→{end}",
    period_partial="（不完整，{days} 天）",
    cases="案件数",
    past_due_cases="期初逾期案件数",
    cured="期末已催回",
    cure_rate="催回率",
    roll_rate="迁徙率 {name}",
    roll_rate_first="入催率（迁徙率 {name}）",
    roll_rates_none="迁徙率",
    calls_and_visits="电催与上门次数",
    right_party_contact_rate="本人接通率",
    promises_made="承诺还款数",
    promises_resolved="已判定的承诺还款数",
    promise_kept_rate="承诺兑现率",
    past_due="期初逾期金额（{currency}）",
    collected_past_due="其中回款金额（{currency}）",
    recovery_rate="回款率",
    collected="全部案件回款金额（{currency}）",
    contacts="联系次数（全部渠道）",
    contacts_per_case="案均联系次数",
    cost_per_collected="联系成本 / 回款金额（{currency}）",
    denied="合规拒绝的联系次数",
    denial_rate="合规拒绝率（占提议联系）",
    rules_cited="拒绝所依据的规则",
    note_cohort="期初逾期案件：统计窗口开始时（窗口内新开的案件则在开案时）逾期一天或以上的案件；"
    "催回：窗口结束时已无逾期欠款。",
    note_rolls="迁徙率 Mk→M(k+1)+：周期开始时处于 Mk 的案件中，周期结束时处于 M(k+1) "
    "或更差逾期阶段的比例（M0→M1+ 即入催率）；按 {pooled} 个完整的 30 天周期合并计算",
    note_rolls_partial="，不完整周期只在下方分周期表中列出。",
    note_rolls_end="。",
    note_recovery="回款率（贷款回收率）：期初逾期案件在窗口内的回款（还款与和解金额；已冲正的还款不计）"
    "除以这些案件的期初逾期金额。",
    note_denied="合规拒绝的联系：合规规则拒绝的每一次联系，包括催收员的电话和上门，也包括自动发送的消息；"
    "一次拒绝引用多条规则时，在每条规则下各计一次（其中 {several} 次拒绝引用了多条规则）。",
    note_denial_rate="合规拒绝率：被拒绝的联系除以提议的联系（已发出的与被拒绝的之和），全部渠道。",
    note_definitions="指标定义：docs/kpis.md。",
    roll_corner="迁徙率（全部案件）",
    pooled="合并（{count}）",
    pooled_complete="合并（{count} 个完整周期）",
    no_rolls="迁徙率：周期开始时没有逾期或正常还款中的案件",
    no_rolls_html="周期开始时没有逾期或正常还款中的案件。",
    share="{share}，共 {count}",
    comparison_title="冠军/挑战者策略对比，95% 置信区间（冠军策略：{champion}）",
    champion_head="{variant}（冠军）",
    difference_row="{challenger} − {champion}",
    proportion_cell="{value}（{low}–{high}），共 {trials}",
    empty_cell="-，共 0",
    difference_cell="{difference} 个百分点（{low} 至 {high}）",
    p_suffix="，p {p}",
    p_equals="= {p}",
    p_below="< {p}",
    interval="95% 置信区间 {low} 至 {high} 个百分点",
    bootstrap_interval="95% 自助法置信区间 {low} 至 {high} 个百分点",
    sizes="{challenger} 组 {challenger_trials} {unit}，{champion} 组 {champion_trials} {unit}",
    figures="{interval}；p {p}；{sizes}",
    bootstrap_figures="{interval}；{sizes}",
    sentence_nothing="挑战者 {challenger} 的{kpi}：无法与冠军 {champion} 比较（{sizes}）。",
    sentence_same="挑战者 {challenger} 的{kpi}与冠军 {champion} 没有差异，"
    "均为 {value}（{sizes}）。",
    sentence_unclear="挑战者 {challenger} 的{kpi}与冠军 {champion} 无明显差异"
    "（{difference} 个百分点，{figures}）。",
    sentence_higher="挑战者 {challenger} 的{kpi}比冠军 {champion} 高 {difference} 个百分点"
    "（{figures}）。",
    sentence_lower="挑战者 {challenger} 的{kpi}比冠军 {champion} 低 {difference} 个百分点"
    "（{figures}）。",
    comparison_note="区间：各组为 Wilson 区间，差值为 Newcomb 区间；p 值：双侧 score 检验；"
    "p < {alpha} 时称差异明显，未对同时比较多个指标做校正（docs/kpis.md）。",
    bootstrap_note="回款率：对期初逾期案件做百分位自助法（bootstrap）重抽样（{resamples} 次，"
    "随机种子 {seed}）；差值的区间不含 0 时称差异明显。",
    intervals_need="冠军/挑战者策略的置信区间需要 statsmodels：pip install 'arrears[report]'。",
    html_lang="zh-CN",
    title="催收效果评估报告",
    title_of="催收效果评估报告：{name}",
    demo_title="arrears 演示：催收效果评估报告",
    simulation_title="策略模拟：{name}",
    run_note="策略 {policy} {version}，随机种子 {seed}；催收员共提议 {calls} 次电话"
    "（{denied_calls} 次被合规拒绝）和 {visits} 次上门（{denied_visits} 次被拒绝）；"
    "共 {payments} 笔还款",
    meta="{window}；共 {cases} 个案件",
    kpis_heading="指标",
    rolls_heading="分周期迁徙率",
    rolls_explained="周期开始时处于 Mk 的案件中，周期结束时处于 M(k+1) 或更差逾期阶段的比例，"
    "以及周期开始时处于 Mk 的案件数。不完整周期只在此列出；合并数只计完整周期。",
    comparison_heading="冠军与挑战者策略",
    chart_flow="迁徙流向",
    chart_recovery="逐日累计回款率",
    chart_contacts="按渠道和时段的联系次数",
    chart_blocks="按规则的合规拒绝",
    flow_title="{count} 个完整周期的迁徙流向（占期初各逾期阶段的比例）",
    flow_x="周期结束时的逾期阶段",
    flow_y="周期开始时的逾期阶段",
    flow_none="周期开始时没有欠款的案件",
    flow_paid="已结清",
    flow_no_period="统计窗口内没有完整的 30 天周期",
    recovery_x="天",
    recovery_y="累计回款（占期初逾期金额 %）",
    contacts_x="时段（债务人当地时间）",
    contacts_y="联系次数",
    blocks_none="没有联系被合规拒绝",
    blocks_x="引用该规则的拒绝次数（引用两条规则的拒绝在两条下各计一次）",
    intervals_x="%（95% 置信区间）",
    channels={
        "sms": "短信",
        "call": "电话",
        "voicemail": "语音留言",
        "email": "电子邮件",
        "letter": "信函",
        "visit": "上门",
    },
    kpis={
        "cure rate": "催回率",
        "right-party contact rate": "本人接通率",
        "promise-kept rate": "承诺兑现率",
        "denial rate": "合规拒绝率",
        "recovery rate": "回款率",
    },
    units={
        "cases": "个案件",
        "calls and visits": "次电催与上门",
        "promises": "个承诺还款",
        "contacts proposed": "次提议联系",
    },
    moment_pattern="y年M月d日 HH:mm xxx",
    day_pattern="M月d日",
    currency_by_name=True,
)

#: The languages the report is written in, by BCP 47 tag.
REPORT_LOCALES: Final[Mapping[str, ReportText]] = {"en": EN, "zh-CN": ZH_CN}


@dataclass(frozen=True, slots=True)
class ReportLocale:
    """A language's `ReportText` and its formatting of numbers, amounts and moments.

    Attributes:
        tag: The BCP 47 tag (``"en"``, ``"zh-CN"``).
        text: The words.
    """

    tag: str
    text: ReportText

    def count(self, value: int) -> str:
        """A count with the locale's grouping: ``1,234``."""
        from babel.numbers import format_decimal

        return format_decimal(value, "#,##0", locale=self._babel)

    def pct(self, value: float | None, places: int = 1) -> str:
        """A fraction as a percentage with *places* decimals (``66.7%``); ``-`` for ``None``."""
        if value is None:
            return "-"
        from babel.numbers import format_percent

        pattern = "#,##0" + ("." + "0" * places if places else "") + "%"
        return format_percent(value, pattern, locale=self._babel)

    def num(self, value: float | None, places: int = 2) -> str:
        """A number with *places* decimals (``8.43``); ``-`` for ``None``."""
        if value is None:
            return "-"
        from babel.numbers import format_decimal

        return format_decimal(value, "#,##0." + "0" * places, locale=self._babel)

    def amount(self, value: Decimal, currency: str) -> str:
        """An amount to its currency's minor units (``7,500.00`` CNY, ``7,500`` JPY), without
        the symbol, which the row's label names."""
        from babel.numbers import format_currency, format_decimal

        if not currency:
            return format_decimal(value, "#,##0.00", locale=self._babel)
        return format_currency(
            value, currency, "#,##0.00", locale=self._babel, currency_digits=True
        )

    def points(self, fraction: float) -> str:
        """A difference of two rates in percentage points, signed: ``+9.5``, ``-2.8``."""
        from babel.numbers import format_decimal

        return format_decimal(100 * fraction, "+#,##0.0;-#,##0.0", locale=self._babel)

    def magnitude(self, fraction: float) -> str:
        """The size of a difference in percentage points, unsigned: ``9.5``."""
        return self.num(100 * abs(fraction), 1)

    def p_value(self, value: float) -> str:
        """``"= 0.0213"``, ``"< 0.001"``: three significant digits, so 0.0499 never reads 0.05."""
        from babel.numbers import format_decimal

        if value < 0.001:
            return self.text.p_below.format(p=format_decimal(0.001, locale=self._babel))
        return self.text.p_equals.format(p=format_decimal(value, "@##", locale=self._babel))

    def moment(self, moment: datetime) -> str:
        """A moment in its own offset: ``2026-09-01 09:00+08:00``, ``2026年9月1日 09:00 +08:00``."""
        from babel.dates import format_datetime

        return format_datetime(
            moment, self.text.moment_pattern, tzinfo=moment.tzinfo, locale=self._babel
        )

    def day(self, moment: datetime) -> str:
        """A moment's month and day: ``09-01``, ``9月1日``."""
        from babel.dates import format_datetime

        return format_datetime(
            moment, self.text.day_pattern, tzinfo=moment.tzinfo, locale=self._babel
        )

    def currency(self, code: str) -> str:
        """How a row's label names a currency: its code (``CNY``) or, where the language
        says so, its name in the language (``人民币``)."""
        if not code or not self.text.currency_by_name:
            return code
        from babel.numbers import get_currency_name

        return get_currency_name(code, locale=self._babel)

    def channel(self, name: str) -> str:
        """A channel's name in the language (a channel it does not know: as recorded)."""
        return self.text.channels.get(name, name)

    def kpi(self, name: str) -> str:
        """A compared KPI's name in the language (by its English name)."""
        return self.text.kpis.get(name, name)

    def unit(self, name: str) -> str:
        """What a compared KPI counts, in the language (by its English name)."""
        return self.text.units.get(name, name)

    @property
    def _babel(self) -> Locale:
        from .messages.formatting import babel_locale

        return babel_locale(self.tag)


@lru_cache(maxsize=16)
def report_locale(tag: str = "en") -> ReportLocale:
    """The report's language and formatting for *tag*: one of `REPORT_LOCALES`, in any case,
    with ``_`` or ``-``; ``"zh"`` is ``"zh-CN"``.

    Raises:
        InvalidInput: a language the report is not written in.
    """
    wanted = tag.replace("_", "-").casefold() if isinstance(tag, str) else ""
    wanted = {"zh": "zh-cn", "zh-hans": "zh-cn", "zh-hans-cn": "zh-cn"}.get(wanted, wanted)
    for known, text in REPORT_LOCALES.items():
        if known.casefold() == wanted:
            return ReportLocale(known, text)
    raise InvalidInput("locale", tag, f"one of {', '.join(REPORT_LOCALES)}")


#: Chinese subtags that mean traditional characters, which the zh-CN report is not written in.
_TRADITIONAL: Final = frozenset({"hant", "tw", "hk", "mo"})


def report_language(tag: str) -> str | None:
    """The report language (a key of `REPORT_LOCALES`) a reader of *tag* reads, or ``None``.

    English for any English tag (``en``, ``en-US``, ``en_GB``); ``zh-CN`` for Chinese
    in simplified characters (``zh``, ``zh-CN``, ``zh-Hans``, ``zh-SG``), not for
    traditional (``zh-TW``, ``zh-HK``, ``zh-Hant``); ``None`` for any other language.

        >>> report_language("en-GB"), report_language("zh_Hans_CN"), report_language("zh-TW")
        ('en', 'zh-CN', None)
    """
    parts = tag.replace("_", "-").casefold().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh" and not _TRADITIONAL & set(parts[1:]):
        return "zh-CN"
    return None


def debtors_locale(locales: Mapping[str, int]) -> str:
    """The language of a report on cases whose debtors' locales are *locales* (tag: cases).

    The report language (`report_language`) that more than half of the cases'
    debtors read; English when no language has more than half (a tie, or a
    portfolio in languages the report is not written in).

        >>> debtors_locale({"zh-CN": 51, "en": 49}), debtors_locale({"zh-CN": 5, "en": 5})
        ('zh-CN', 'en')
    """
    total = sum(locales.values())
    readers: dict[str, int] = {}
    for tag, cases in locales.items():
        language = report_language(tag)
        if language is not None:
            readers[language] = readers.get(language, 0) + cases
    for language, cases in readers.items():
        if 2 * cases > total:
            return language
    return "en"


def policy_locale(packs: Sequence[str]) -> str:
    """The language of a report on a run of a policy whose compliance packs are *packs*.

    The language of the packs' jurisdiction (`arrears.testing.PACK_LANGUAGES`:
    ``CN`` is Chinese, ``US`` and ``UK`` English), when every pack whose
    language is known has the same one; English otherwise (no pack, or packs of
    two languages).

        >>> policy_locale(["CN"]), policy_locale(["US"]), policy_locale(["CN", "US"])
        ('zh-CN', 'en', 'en')
    """
    from .testing import PACK_LANGUAGES

    found: set[str] = set()
    for pack in packs:
        language = PACK_LANGUAGES.get(pack.split("-")[0])
        written = report_language(language) if language is not None else None
        if written is not None:
            found.add(written)
    return found.pop() if len(found) == 1 else "en"
