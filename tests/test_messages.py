"""Messages: templates from files, strict rendering, required facts, the packs' content rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st

from arrears import Case, InvalidInput, Money
from arrears.case import COMPONENTS
from arrears.channels import OutboundMessage
from arrears.compliance import Compliance
from arrears.messages import (
    MESSAGE_KINDS,
    LenderDetails,
    MessageKind,
    MessageRefused,
    MessageTemplate,
    TemplateSet,
    UnknownTemplate,
    context_for,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
    register_kind,
    sample_context,
    sms_segments,
    template_context,
)
from arrears.messages.sms import GSM7_BASIC, GSM7_EXTENDED

#: The moment of tests/conftest.py's clock, and the debtor's name in its cases.
START = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
DEBTOR_NAME = "王小明"

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "templates"

CN_LENDER = LenderDetails(
    name="安心消费金融",
    hotline="400-820-8820",
    signature="安心消费金融",
    email="service@anxin.example",
    late_fee_rate=Decimal("0.02"),
)
US_LENDER = {
    "name": "Acme Lending",
    "business_name": "ACME",
    "hotline": "1-800-555-0199",
    "email": "help@acme.example",
    "late_fee_rate": "0.0005",
}


@pytest.fixture(scope="module")
def examples() -> TemplateSet:
    return TemplateSet.load(EXAMPLES)


@pytest.fixture
def us_case() -> Case:
    return Case.model_validate(
        {
            "id": "US-1",
            "debtor": {
                "id": "D-9",
                "name": "Jane Roe",
                "timezone": "America/New_York",
                "locale": "en-US",
            },
            "contacts": [{"id": "m1", "channel": "sms", "address": "+12125550100"}],
            "balance": {"currency": "USD", "principal": "1200.00", "penalty": "50.00"},
            "due_date": "2026-08-31",
        }
    )


def one(sources: dict[str, str], **kwargs: Any) -> TemplateSet:
    return TemplateSet.from_sources(sources, **kwargs)


ZH_REMINDER = (
    "{{ sms_signature }}尊敬的客户,您有剩余欠款{{ amount_owed }},截止日期为{{ deadline }}。"
    "逾期将收取每日{{ late_fee_rate | percent }}的逾期罚息。"
    "如需帮助请致电{{ lender_hotline }}。回T退订"
)


class TestFormatting:
    def test_chinese_money_and_dates(self) -> None:
        """zh-CN writes ¥10,000.00 and 2026年8月31日, from CLDR data."""
        assert format_money(Money("10000", "CNY"), "zh-CN") == "¥10,000.00"
        assert format_date(date(2026, 8, 31), "zh-CN") == "2026年8月31日"

    def test_american_money_and_dates(self) -> None:
        """en-US writes $1,250.00 and August 31, 2026."""
        assert format_money(Money("1250", "USD"), "en-US") == "$1,250.00"
        assert format_date(date(2026, 8, 31), "en-US") == "August 31, 2026"

    def test_currency_minor_units_and_foreign_symbols(self) -> None:
        """Yen has no minor units; a foreign currency is marked as such."""
        assert format_money(Money("1250", "JPY"), "ja-JP") == "￥1,250"
        assert format_money(Money("1250", "USD"), "zh-CN") == "US$1,250.00"

    def test_percent_keeps_every_decimal(self) -> None:
        """A daily rate of 0.05% is not rounded to 0%."""
        assert format_percent(Decimal("0.02"), "zh-CN") == "2%"
        assert format_percent(Decimal("0.0005"), "en-US") == "0.05%"

    def test_float_rate_refused(self) -> None:
        """Rates are Decimals, never floats."""
        with pytest.raises(InvalidInput, match="never a float"):
            format_percent(0.02, "en-US")  # type: ignore[arg-type]

    def test_unknown_locale(self) -> None:
        """A locale CLDR does not know names the field."""
        with pytest.raises(InvalidInput, match="locale"):
            format_date(date(2026, 8, 31), "xx-YY")

    def test_datetime_in_a_zone(self) -> None:
        """An aware moment is written in the zone asked for; a naive one is refused."""
        from zoneinfo import ZoneInfo

        moment = datetime(2026, 8, 31, 1, 30, tzinfo=UTC)
        text = format_datetime(moment, "zh-CN", zone=ZoneInfo("Asia/Shanghai"))
        assert text == "2026年8月31日 09:30:00"
        with pytest.raises(InvalidInput, match="naive"):
            format_datetime(datetime(2026, 8, 31), "en-US")

    @pytest.mark.parametrize(
        "locale", ["zh-CN", "en-US", "ja-JP", "de-CH", "fr-FR", "hi-IN", "ar-EG", "sv-SE", "es-CO"]
    )
    def test_money_exactly_as_babel_writes_it(self, locale: str) -> None:
        """The formats kept per locale and currency give Babel's text to the byte."""
        amounts = ("0", "-0", "7", "0.5", "-1234.5", "1234567.891", "99999999999.995", "-0.004")
        for currency in ("CNY", "USD", "EUR", "JPY", "KWD", "INR"):
            for amount in amounts:
                money = Money.rounded(amount, currency)
                expected = format_currency(
                    money.amount, currency, locale=Locale.parse(locale, sep="-")
                )
                assert format_money(money, locale) == expected, (locale, currency, amount)

    def test_remembered_numbers_keep_their_sign_and_type(self) -> None:
        """Equal numbers written differently (-0 and 0) are not confused; nor a bool for 1."""
        assert format_percent(Decimal("0"), "en-US") == "0%"
        assert format_percent(Decimal("-0"), "en-US") == "-0%"
        assert format_number(Decimal("-0"), "en-US") == "-0"
        assert format_number(Decimal("0"), "en-US") == "0"
        assert format_percent(Decimal("0.050"), "en-US") == "5%"
        assert format_percent(Decimal("0.05"), "en-US") == "5%"
        assert format_number(1, "en-US") == "1"
        with pytest.raises(ArithmeticError):
            format_number(True, "en-US")

    def test_remembered_dates_by_style_and_locale(self) -> None:
        """A date's text is remembered per style and locale; a datetime is written as its date."""
        day = date(2026, 8, 31)
        assert format_date(day, "en-US", "short") == "8/31/26"
        assert format_date(day, "zh-CN", "short") == "2026/8/31"
        assert format_date(datetime(2026, 8, 31, 23, 0, tzinfo=UTC), "zh-CN") == "2026年8月31日"


def _septets_and_parts(text: str) -> tuple[str, int, int]:
    """Encoding, units and parts, counted character by character (GSM 03.38, UTF-16)."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text):
        encoding, widths, single, part = "GSM-7", [1 + (c in GSM7_EXTENDED) for c in text], 160, 153
    else:
        encoding, widths, single, part = "UCS-2", [1 + (ord(c) > 0xFFFF) for c in text], 70, 67
    if sum(widths) <= single:
        return encoding, sum(widths), 1 if text else 0
    parts, used = 1, 0
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return encoding, sum(widths), parts


class TestSmsLength:
    @given(
        st.text(
            st.sampled_from(sorted(GSM7_BASIC))
            | st.sampled_from(sorted(GSM7_EXTENDED))
            | st.sampled_from(["中", "文", "ç", "😀"]),
            max_size=350,
        )
    )
    def test_counted_from_the_length_as_character_by_character(self, text: str) -> None:
        """The count from the length alone agrees with the count character by character."""
        length = sms_segments(text)
        assert (length.encoding, length.units, length.segments) == _septets_and_parts(text)


class TestLoading:
    def test_loads_the_examples(self, examples: TemplateSet) -> None:
        """Every example file is a template, named NAME.CHANNEL.LOCALE."""
        assert len(examples) == 13
        assert "reminder.sms.zh-CN" in examples
        assert "callback.voicemail.en-US" in examples
        template = examples.get("reminder", "sms", "zh-CN")
        assert template.kind.name == "reminder"
        assert template.max_segments == 2

    def test_bad_file_name(self, tmp_path: Path) -> None:
        """A .txt file not named NAME.CHANNEL.LOCALE.txt is refused, naming the file."""
        (tmp_path / "Reminder.txt").write_text("hi", encoding="utf-8")
        with pytest.raises(InvalidInput, match=r"Reminder\.txt"):
            TemplateSet.load(tmp_path)

    def test_other_files_are_skipped(self, tmp_path: Path) -> None:
        """A README beside the templates is not a template."""
        (tmp_path / "README.md").write_text("# templates", encoding="utf-8")
        (tmp_path / "hello.sms.en-US.txt").write_text("Hello", encoding="utf-8")
        assert TemplateSet.load(tmp_path).ids == ("hello.sms.en-US",)

    def test_syntax_error_names_the_file_and_line(self, tmp_path: Path) -> None:
        """A Jinja2 syntax error names the file and the line."""
        (tmp_path / "x.sms.en-US.txt").write_text("---\nkind: notice\n---\nok\n{{ oops", "utf-8")
        with pytest.raises(InvalidInput, match=r"x\.sms\.en-US\.txt, line 2"):
            TemplateSet.load(tmp_path)

    def test_unknown_front_matter_key(self) -> None:
        """The front matter is validated: an unknown key is named."""
        with pytest.raises(InvalidInput, match="max_segment"):
            one({"x.sms.en-US": "---\nmax_segment: 2\n---\nhi"})

    def test_unknown_kind_and_channel(self) -> None:
        """Unknown kinds and channels are refused when the template is read."""
        with pytest.raises(InvalidInput, match="kind"):
            one({"x.sms.en-US": "---\nkind: gossip\n---\nhi"})
        with pytest.raises(InvalidInput, match="channel"):
            one({"x.fax.en-US": "hi"})

    def test_duplicate_ids(self) -> None:
        """Two templates with one id cannot live in one set."""
        template = MessageTemplate.parse("x.sms.en-US", "hi")
        with pytest.raises(InvalidInput, match="already"):
            TemplateSet([template, template])

    def test_a_template_added_later_is_found(self) -> None:
        """Lookups are remembered, but a template added afterwards is found."""
        templates = one({"x.sms.zh": "甲{{ lender_name }}"})
        assert templates.get("x", "sms", "zh-CN").id == "x.sms.zh"
        templates.add(MessageTemplate.parse("x.sms.zh-CN", "乙{{ lender_name }}"))
        assert templates.get("x", "sms", "zh-CN").id == "x.sms.zh-CN"
        with pytest.raises(UnknownTemplate):
            templates.get("y", "sms", "zh-CN")

    def test_locale_fallback(self, examples: TemplateSet) -> None:
        """zh-Hans-CN and zh find zh-CN; en finds en-US; nothing in French."""
        assert examples.get("reminder", "sms", "zh-Hans-CN").locale == "zh-CN"
        assert examples.get("reminder", "sms", "zh").locale == "zh-CN"
        assert examples.get("reminder", "sms", "en").locale == "en-US"
        with pytest.raises(UnknownTemplate, match="fr-FR"):
            examples.get("reminder", "sms", "fr-FR")


class TestExamples:
    def test_zh_templates_pass_the_cn_pack(self, examples: TemplateSet) -> None:
        """The zh-CN examples meet their kinds' facts and the CN pack's content rules."""
        assert examples.check(["CN"], locales=["zh-CN"]) == []

    def test_en_templates_pass_reg_f(self, examples: TemplateSet) -> None:
        """The en-US examples meet their kinds' facts and Regulation F's content rules."""
        assert examples.check(["US-RegF"], locales=["en-US"]) == []

    def test_each_template_is_checked_against_the_sets_of_its_language(
        self, examples: TemplateSet
    ) -> None:
        """A CN and US lender's English SMS is not held to the CN signature rule, nor its
        Chinese SMS to Regulation F's opt-out wording: each meets the set it is sent under."""
        from arrears.compliance import Compliance

        both = Compliance(jurisdictions={"CN": ["CN"], "US": ["US-RegF"]})
        assert examples.check(compliance=both) == []
        assert examples.check(compliance=Compliance(["CN", "US-RegF"])) != []  # one set: all

    def test_a_template_of_another_region_is_for_the_sets_of_its_language(
        self, examples: TemplateSet
    ) -> None:
        """A CN and UK lender's en-US SMS is for its UK debtors (the only English set), not
        held to the CN signature rule; en-GB is preferred to en-US where both are mapped."""
        from arrears.compliance import Compliance

        cn_uk = Compliance(jurisdictions={"CN": ["CN"], "GB": ["UK"]})
        assert examples.check(compliance=cn_uk) == []
        assert examples.check(compliance=Compliance(["CN", "UK"])) != []
        us_uk = Compliance(jurisdictions={"US": ["US-RegF"], "GB": ["UK"]})
        packs = {
            locale: sorted({rule.id.split("-")[0] for rule in us_uk.rules_for_locale(locale)})
            for locale in ("en-GB", "en-US", "en", "zh-Hans-CN")
        }
        assert packs == {
            "en-GB": ["UK"],
            "en-US": ["US"],
            "en": ["UK", "US"],
            "zh-Hans-CN": ["UK", "US"],  # no set writes Chinese: every rule
        }

    def test_the_seed_reminder_renders_exactly(
        self, examples: TemplateSet, make_case: Callable[..., Case]
    ) -> None:
        """The seed's reminder: amount, deadline, daily penalty, hotline, signature, opt-out."""
        case = make_case(
            balance={"currency": "CNY", "principal": "0", "not_due": "10000.00"},
            due_date="2026-10-08",
        )
        context = context_for(case, START, lender=CN_LENDER)
        message = examples.render("reminder", "sms", "zh-CN", context, pack_ids=["CN"])
        assert message.text == (
            "【安心消费金融】尊敬的客户,根据我们的记录,您尚有剩余欠款¥10,000.00,"
            "还款截止日期为2026年10月8日。如逾期未还,将按合同约定收取每日2%的逾期罚息。"
            "如需帮助,请致电客服热线400-820-8820。回T退订"
        )
        assert message.sms is not None
        assert (message.sms.encoding, message.sms.segments) == ("UCS-2", 2)

    def test_overdue_reminder_states_days_and_penalty(
        self, examples: TemplateSet, make_case: Callable[..., Case]
    ) -> None:
        """30 days past due, ¥1,070.00, a deadline a week out, 每日2%的逾期罚息."""
        case = make_case()
        context = context_for(case, START, lender=CN_LENDER, deadline=date(2026, 10, 8))
        text = examples.render("overdue", "sms", "zh-CN", context, pack_ids=["CN"]).text
        assert "逾期30天" in text
        assert "¥1,070.00" in text
        assert "2026年10月8日" in text
        assert "每日2%的逾期罚息" in text
        assert DEBTOR_NAME not in text

    def test_third_party_request_names_no_debt(
        self, examples: TemplateSet, make_case: Callable[..., Case]
    ) -> None:
        """The contact request to a third party passes CN-THIRD-PARTY and says nothing of money."""
        context = context_for(make_case(), START, lender=CN_LENDER)
        message = examples.render(
            "contact_request", "sms", "zh-CN", context, party="third_party", pack_ids=["CN"]
        )
        assert "¥" not in message.text
        assert DEBTOR_NAME in message.text

    def test_us_first_communication(self, examples: TemplateSet, us_case: Case) -> None:
        """The Reg F first e-mail carries the attempt-to-collect disclosure and an opt-out."""
        at = datetime(2026, 9, 10, 14, 0, tzinfo=UTC)
        context = context_for(us_case, at, lender=US_LENDER)
        message = examples.render(
            "first_notice", "email", "en-US", context, pack_ids=["US-RegF"], case=us_case
        )
        assert message.subject == "Your account with Acme Lending"
        assert "This is an attempt to collect a debt" in message.text
        assert "$1,250.00 past due since August 31, 2026" in message.text

    def test_limited_content_voicemail(self, examples: TemplateSet, us_case: Case) -> None:
        """The limited-content voicemail: a business name, a person and a number, nothing more."""
        at = datetime(2026, 9, 10, 14, 0, tzinfo=UTC)
        context = context_for(us_case, at, lender=US_LENDER, agent_name="Alex Morgan")
        message = examples.render("callback", "voicemail", "en-US", context, pack_ids=["US-RegF"])
        assert message.text == (
            "Hello, this is Alex Morgan from ACME. Please call me back at 1-800-555-0199. "
            "Thank you."
        )

    def test_every_example_renders_for_a_real_case(
        self, examples: TemplateSet, make_case: Callable[..., Case], us_case: Case
    ) -> None:
        """Each example renders from `context_for` of a real case, for each party it is for."""
        cn = context_for(
            make_case(), START, lender=CN_LENDER, deadline=date(2026, 10, 8), agent_name="王芳"
        )
        us_at = datetime(2026, 9, 10, 14, 0, tzinfo=UTC)
        us = context_for(
            us_case, us_at, lender=US_LENDER, deadline=date(2026, 9, 20), agent_name="Alex Morgan"
        )
        for template in examples:
            chinese = template.locale == "zh-CN"
            for party in sorted(template.parties):
                message = examples.render(
                    template.name,
                    template.channel,
                    template.locale,
                    cn if chinese else us,
                    party=party,
                    pack_ids=["CN"] if chinese else ["US-RegF"],
                )
                assert message.text
                if message.sms is not None:
                    assert message.sms.segments <= (template.max_segments or 0)


#: (template text, packs, party, the rule that refuses it, the match shown)
BROKEN = {
    "missing amount": (
        "---\nkind: reminder\n---\n{{ sms_signature }}请于{{ deadline }}前还款,"
        "逾期收取每日{{ late_fee_rate | percent }}罚息。电话{{ lender_hotline }}。回T退订",
        ["CN"],
        "debtor",
        "MSG-FACTS",
        None,
    ),
    "a threat": (
        "---\nkind: reminder\n---\n" + ZH_REMINDER + "否则后果自负。",
        ["CN"],
        "debtor",
        "CN-CONDUCT",
        "后果自负",
    ),
    "claims to be a court": (
        "---\nkind: reminder\n---\n" + ZH_REMINDER + "我们是法院。",
        ["CN"],
        "debtor",
        "CN-CONDUCT",
        "我们是法院",
    ),
    "tells the family": (
        "---\nkind: reminder\n---\n" + ZH_REMINDER + "再不还款将告诉你的家人。",
        ["CN"],
        "debtor",
        "CN-CONDUCT",
        "告诉你的家人",
    ),
    "no signature": (
        "---\nkind: reminder\n---\n" + ZH_REMINDER.replace("{{ sms_signature }}", ""),
        ["CN"],
        "debtor",
        "CN-SMS",
        None,
    ),
    "a debt mention to a third party": (
        "---\nkind: location_request\n---\n{{ sms_signature }}请转告{{ debtor_name }}尽快处理欠款,"
        "电话{{ lender_hotline }}。拒收请回复R",
        ["CN"],
        "third_party",
        "CN-THIRD-PARTY",
        "欠款",
    ),
    "a debt variable to a third party": (
        "---\nkind: location_request\n---\n{{ sms_signature }}请转告{{ debtor_name }}"
        "{{ amount_owed }},电话{{ lender_hotline }}。拒收请回复R",
        ["CN"],
        "third_party",
        "MSG-THIRD-PARTY",
        None,
    ),
    "too many segments": (
        "---\nkind: reminder\nmax_segments: 1\n---\n" + ZH_REMINDER,
        ["CN"],
        "debtor",
        "MSG-SEGMENTS",
        None,
    ),
    "no opt-out in an American SMS": (
        "---\nkind: reminder\n---\n{{ outstanding }} due {{ deadline }}, late fee "
        "{{ late_fee_rate | percent }} a day. Call {{ lender_hotline }}. From a debt collector.",
        ["US-RegF"],
        "debtor",
        "US-MEDIUM",
        None,
    ),
    "no disclosure in a first communication": (
        "---\nkind: first_communication\n---\nYou have {{ amount_owed }} past due. "
        "Call {{ lender_hotline }}. Reply STOP to opt out.",
        ["US-RegF"],
        "debtor",
        "US-MIRANDA",
        None,
    ),
    "the debt in a limited-content voicemail": (
        "---\nkind: limited_content\n---\nThis is {{ agent_name }} of {{ business_name }} about "
        "your debt. Call {{ lender_hotline }}.",
        ["US-RegF"],
        "debtor",
        "US-LCM",
        "debt",
    ),
    "the amount in a limited-content voicemail": (
        "---\nkind: limited_content\n---\nThis is {{ agent_name }} of {{ business_name }}: "
        "{{ amount_owed }}. Call {{ lender_hotline }}.",
        ["US-RegF"],
        "debtor",
        "MSG-LIMITED",
        None,
    ),
    "a debt word to an American third party": (
        "---\nkind: location_request\n---\nThis is {{ agent_name }}. {{ debtor_name }} owes us. "
        "Call {{ lender_hotline }}. Reply STOP to opt out.",
        ["US-RegF"],
        "third_party",
        "US-3P",
        "owes",
    ),
    "pressure under the FCA": (
        "---\nkind: notice\n---\nPay now or we send the bailiffs. Call {{ lender_hotline }}.",
        ["UK"],
        "debtor",
        "UK-PRESSURE",
        "Pay now or",
    ),
}


class TestBrokenTemplates:
    @pytest.mark.parametrize("broken", sorted(BROKEN))
    def test_refused_naming_the_rule(self, broken: str) -> None:
        """Each broken template is refused on render, naming the template, rule and match."""
        source, packs, party, rule, match = BROKEN[broken]
        channel = "voicemail" if "voicemail" in broken else "sms"
        locale = "zh-CN" if "CN" in packs else "en-US"
        templates = one({f"broken.{channel}.{locale}": source})
        with pytest.raises(MessageRefused) as refused:
            templates.render(
                "broken", channel, locale, sample_context(locale), party=party, pack_ids=packs
            )
        error = refused.value
        assert rule in error.rules
        assert error.template == f"broken.{channel}.{locale}"
        assert rule in str(error)
        if match is not None:
            assert any(p.match == match for p in error.problems)
            assert repr(match) in str(error)

    @pytest.mark.parametrize("broken", sorted(BROKEN))
    def test_check_reports_it_at_load(self, broken: str) -> None:
        """`check` finds the same rule on sample values, as a policy loads."""
        source, packs, _, rule, _ = BROKEN[broken]
        channel = "voicemail" if "voicemail" in broken else "sms"
        locale = "zh-CN" if "CN" in packs else "en-US"
        templates = one({f"broken.{channel}.{locale}": source})
        assert rule in {problem.rule for problem in templates.check(packs)}

    def test_limited_content_by_sms(self) -> None:
        """A limited-content message goes by voicemail only."""
        templates = one(
            {
                "lcm.sms.en-US": "---\nkind: limited_content\n---\nThis is {{ agent_name }} of "
                "{{ business_name }}. Call {{ lender_hotline }}. Reply STOP to opt out."
            }
        )
        rules = {problem.rule for problem in templates.check(["US-RegF"])}
        assert {"MSG-CHANNEL", "US-LCM"} <= rules

    def test_time_barred_threat_needs_the_case(self, us_case: Case) -> None:
        """Threatening suit is refused by US-TIMEBAR only on a time-barred debt."""
        templates = one(
            {
                "suit.letter.en-US": "We may file a lawsuit over {{ amount_owed }}. "
                "This is from a debt collector."
            }
        )
        at = datetime(2026, 9, 10, 14, 0, tzinfo=UTC)
        context = context_for(us_case, at)
        templates.render("suit", "letter", "en-US", context, pack_ids=["US-RegF"], case=us_case)
        old = us_case.model_copy(update={"due_date": date(2015, 1, 31)})
        with pytest.raises(MessageRefused, match=r"US-TIMEBAR.*'lawsuit'"):
            templates.render("suit", "letter", "en-US", context, pack_ids=["US-RegF"], case=old)

    def test_an_override_changes_the_judgement(self) -> None:
        """Rules come from a `Compliance` with the lender's overrides when one is given."""
        templates = one({"x.sms.zh-CN": "---\nkind: reminder\n---\n" + ZH_REMINDER + "后果自负"})
        relaxed = Compliance(["CN"], overrides={"CN-CONDUCT": {"enabled": False}})
        context = sample_context("zh-CN")
        message = templates.render("x", "sms", "zh-CN", context, compliance=relaxed)
        assert message.text.endswith("后果自负")

    def test_refusal_quotes_no_personal_data(self) -> None:
        """The error names rules and matches, never the rendered text with the debtor's name."""
        templates = one(
            {"x.sms.zh-CN": "---\nkind: notice\n---\n{{ debtor_name }},否则后果自负。回T退订"}
        )
        context = sample_context("zh-CN", debtor_name=DEBTOR_NAME)
        with pytest.raises(MessageRefused) as refused:
            templates.render("x", "sms", "zh-CN", context, pack_ids=["CN"])
        assert DEBTOR_NAME not in str(refused.value)


class TestStrictRendering:
    def test_missing_variable_is_an_error(self) -> None:
        """A variable missing from the context is refused by name, never rendered empty."""
        templates = one({"x.sms.en-US": "Pay {{ amount_owed }} by {{ deadline }}."})
        context = sample_context("en-US")
        del context["deadline"]
        with pytest.raises(MessageRefused, match=r"MSG-VARIABLES: variable 'deadline' is not"):
            templates.render("x", "sms", "en-US", context)

    def test_unknown_variable_is_reported_at_load(self) -> None:
        """`check` names a variable no context gives and the front matter does not declare."""
        templates = one({"x.sms.en-US": "Hi {{ nickname }}"})
        problems = templates.check()
        assert [p.rule for p in problems] == ["MSG-VARIABLES"]
        assert "'nickname'" in problems[0].message
        declared = one({"x.sms.en-US": "---\nvariables: {nickname: Pat}\n---\nHi {{ nickname }}"})
        assert declared.check() == []

    def test_none_is_refused(self) -> None:
        """A None value is refused rather than printed as 'None'."""
        templates = one({"x.sms.en-US": "Hi {{ lender_name }}"})
        with pytest.raises(MessageRefused, match="lender_name"):
            templates.render("x", "sms", "en-US", {"lender_name": None})

    def test_float_is_refused(self) -> None:
        """Floats never reach a message: money is Money, rates are Decimal."""
        templates = one({"x.sms.en-US": "Rate {{ rate }}"})
        with pytest.raises(MessageRefused, match="float"):
            templates.render("x", "sms", "en-US", {"rate": 0.1})

    def test_sandbox(self) -> None:
        """The sandbox refuses reaching into Python internals."""
        templates = one({"x.sms.en-US": "{{ lender_name.__class__.__mro__ }}"})
        with pytest.raises(MessageRefused) as refused:
            templates.render("x", "sms", "en-US", {"lender_name": "Acme"})
        assert refused.value.rule == "MSG-SANDBOX"

    def test_values_format_for_the_template_locale(self) -> None:
        """Money, dates and decimals print in the template's locale without filters."""
        templates = one(
            {"x.letter.zh-CN": "{{ amount }} {{ day }} {{ n }} {{ day | date('short') }}"}
        )
        context = {"amount": Money("1234.5", "CNY"), "day": date(2026, 8, 31), "n": Decimal("1e4")}
        text = templates.render("x", "letter", "zh-CN", context).text
        assert text == "¥1,234.50 2026年8月31日 10,000 2026/8/31"

    def test_email_subject_is_checked_too(self) -> None:
        """The subject is rendered strictly and judged with the body."""
        templates = one({"x.email.zh-CN": "---\nsubject: 后果自负 {{ lender_name }}\n---\n你好"})
        with pytest.raises(MessageRefused, match="CN-CONDUCT"):
            templates.render("x", "email", "zh-CN", {"lender_name": "安心"}, pack_ids=["CN"])

    def test_locale_from_the_context(self, examples: TemplateSet) -> None:
        """With no locale given the context's (the debtor's) is used."""
        context = sample_context("zh-CN", agent_name="王芳")
        assert examples.render("overdue", "call", None, context).locale == "zh-CN"


class TestParties:
    def test_debtor_template_not_for_third_parties(self, examples: TemplateSet) -> None:
        """A reminder is never sent to a third party: a third-party-safe template is needed."""
        context = sample_context("zh-CN")
        with pytest.raises(MessageRefused, match=r"MSG-PARTY.*third-party-safe"):
            examples.render("reminder", "sms", "zh-CN", context, party="third_party")

    def test_third_party_template_not_for_the_debtor(self, examples: TemplateSet) -> None:
        """A location request is for third parties."""
        with pytest.raises(MessageRefused, match="MSG-PARTY"):
            examples.render("contact_request", "sms", "zh-CN", sample_context("zh-CN"))

    def test_third_party_check_without_packs(self) -> None:
        """Even with no pack, a message to a third party never names the debt."""
        templates = one(
            {
                "x.sms.en-US": "---\nkind: location_request\n---\nAbout the overdue account, "
                "call {{ lender_hotline }}"
            }
        )
        with pytest.raises(MessageRefused, match=r"MSG-THIRD-PARTY.*'overdue'"):
            templates.render("x", "sms", "en-US", sample_context("en-US"), party="third_party")


class TestContext:
    def test_context_for_a_case(self, make_case: Callable[..., Case]) -> None:
        """The case's facts under English snake_case names; the lender's from its details."""
        context = context_for(make_case(), START, lender=CN_LENDER)
        assert context["amount_owed"] == Money("1070.00", "CNY")
        assert context["days_past_due"] == 30
        assert context["due_date"] == date(2026, 9, 1)
        assert context["today"] == date(2026, 10, 1)
        assert context["locale"] == "zh-CN"
        assert context["sms_signature"] == "【安心消费金融】"
        assert context["late_fee_rate"] == Decimal("0.02")
        assert context["debtor_name"] == DEBTOR_NAME
        assert "deadline" not in context  # overdue: the caller says by when

    def test_a_templates_context_leaves_out_only_what_it_does_not_read(
        self, examples: TemplateSet, make_case: Callable[..., Case]
    ) -> None:
        """Every example template renders the same from template_context as from context_for."""
        case = make_case(
            balance={"currency": "CNY", "principal": "1000", "fees": "15", "not_due": "3000"}
        )
        lender = CN_LENDER
        extra = {"deadline": date(2026, 10, 8), "agent_name": "Li Na", "reply_by": START.date()}
        rendered_both = 0
        for template_id in examples.ids:
            name, channel, locale = template_id.split(".")
            template = examples.get(name, channel, locale)
            full = context_for(case, START, lender=lender, **extra)
            used = template_context(case, START, template.variables, lender=lender, **extra)
            assert {key: full[key] for key in used} == used
            left_out = set(full) - set(used)
            assert not left_out & template.variables
            assert left_out <= {"amount_owed", "outstanding", "now", *COMPONENTS}
            first, second = (
                template.evaluate(context, case=case, at=START) for context in (full, used)
            )
            assert first == second, template_id
            rendered_both += first[0] is not None
        assert rendered_both >= 5
        overdue = examples.get("overdue", "sms", "zh-CN")
        assert (
            set(template_context(case, START, overdue.variables))
            & {
                "outstanding",
                "principal",
                "now",
            }
            == set()
        )

    def test_deadline_before_due(self, make_case: Callable[..., Case]) -> None:
        """Before the due date, the deadline is the due date."""
        context = context_for(make_case(due_date="2026-10-05"), START)
        assert context["deadline"] == date(2026, 10, 5)

    def test_extra_values(self, make_case: Callable[..., Case]) -> None:
        """Extra values replace computed ones; None leaves a value out; names are snake_case."""
        context = context_for(make_case(), START, debtor_name=None, deadline=date(2026, 10, 8))
        assert "debtor_name" not in context
        assert context["deadline"] == date(2026, 10, 8)
        with pytest.raises(InvalidInput, match="snake_case"):
            context_for(make_case(), START, Deadline=date(2026, 10, 8))

    def test_lender_mapping(self, make_case: Callable[..., Case]) -> None:
        """Lender details may come as a mapping (a policy file); unknown fields are named."""
        context = context_for(make_case(), START, lender=US_LENDER)
        assert context["business_name"] == "ACME"
        assert context["late_fee_rate"] == Decimal("0.0005")
        assert "sms_signature" not in context
        with pytest.raises(InvalidInput, match=r"lender\.phone"):
            context_for(make_case(), START, lender={"name": "X", "phone": "1"})
        with pytest.raises(InvalidInput, match=r"lender\.name"):
            context_for(make_case(), START, lender={"hotline": "1"})
        assert "lender_name" not in context_for(make_case(), START, lender={})

    def test_a_changed_lender_mapping_is_read_again(self, make_case: Callable[..., Case]) -> None:
        """The lender's variables are kept between messages, but never past a change."""
        lender = dict(US_LENDER)
        assert context_for(make_case(), START, lender=lender)["lender_hotline"] == "1-800-555-0199"
        lender["hotline"] = "1-800-555-0111"
        assert context_for(make_case(), START, lender=lender)["lender_hotline"] == "1-800-555-0111"
        del lender["hotline"]
        assert "lender_hotline" not in context_for(make_case(), START, lender=lender)
        lender["phone"] = "1"
        with pytest.raises(InvalidInput, match=r"lender\.phone"):
            context_for(make_case(), START, lender=lender)

    def test_naive_moment_refused(self, make_case: Callable[..., Case]) -> None:
        """Times are timezone-aware."""
        with pytest.raises(InvalidInput, match="at"):
            context_for(make_case(), datetime(2026, 10, 1, 9, 0))


class TestRenderedMessage:
    def test_repr_hides_the_text(self, examples: TemplateSet) -> None:
        """The text may name the debtor: it is not in the repr."""
        context = sample_context("zh-CN", debtor_name=DEBTOR_NAME)
        message = examples.render(
            "contact_request", "sms", "zh-CN", context, party="third_party", pack_ids=["CN"]
        )
        assert DEBTOR_NAME in message.text
        assert DEBTOR_NAME not in repr(message)

    def test_outbound(self, examples: TemplateSet) -> None:
        """A rendered message becomes an `OutboundMessage` with the outbox's key."""
        message = examples.render("reminder", "sms", "zh-CN", sample_context("zh-CN"))
        outbound = message.outbound(key="C-1:reminder:1", case_id="C-1", contact="p2")
        assert isinstance(outbound, OutboundMessage)
        assert (outbound.channel, outbound.template, outbound.locale) == (
            "sms",
            "reminder.sms.zh-CN",
            "zh-CN",
        )
        assert outbound.text == message.text


class TestKinds:
    def test_register_a_kind(self) -> None:
        """A lender's own kind names its facts; the name must be new."""
        kind = MessageKind(name="promise_confirmation", facts={"the date": ("promise_date",)})
        register_kind(kind)
        try:
            templates = one(
                {
                    "x.sms.en-US": "---\nkind: promise_confirmation\nvariables: "
                    "{promise_date: 2026-09-05}\n---\nThanks, see you {{ lender_name }}"
                }
            )
            assert [p.rule for p in templates.check()] == ["MSG-FACTS"]
            with pytest.raises(InvalidInput, match="promise_confirmation"):
                register_kind(kind)
        finally:
            del MESSAGE_KINDS["promise_confirmation"]


class TestPublicSurface:
    @pytest.mark.parametrize("module", ["arrears.messages", "arrears.channels", "arrears.logs"])
    def test_every_public_name_is_documented(self, module: str) -> None:
        """Each exported name, and each public method of an exported class, has a docstring."""
        import importlib
        import inspect

        namespace = importlib.import_module(module)
        assert sorted(namespace.__all__, key=str.lower) == sorted(
            set(namespace.__all__), key=str.lower
        )
        missing: list[str] = []
        for name in namespace.__all__:
            value = getattr(namespace, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                if not (value.__doc__ or "").strip():
                    missing.append(name)
                if inspect.isclass(value):
                    for attr, member in vars(value).items():
                        if attr.startswith("_"):
                            continue
                        if isinstance(member, classmethod | staticmethod):
                            member = member.__func__
                        documentable = inspect.isfunction(member) or isinstance(member, property)
                        if documentable and not (member.__doc__ or "").strip():
                            missing.append(f"{name}.{attr}")
        assert missing == []
