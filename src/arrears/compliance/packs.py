"""Jurisdiction packs: the shipped rules, with their numbers and citations.

A pack is plain data: an id, a title, the packs it builds on and its rules,
each rule a configured instance of a kind from `arrears.compliance.rules`.
Numbers reported only by secondary sources say ``[confirm]`` in their
citation: they are parameters a lender can override, never silent constants.

Register a pack of your own with `register_pack`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import time
from typing import Final

from ..case import Channel, HoldKind, Outcome, Party, Relationship
from ..errors import InvalidInput
from .model import Purpose, Role
from .rules import (
    AutomatedNeedsConsent,
    ContactHours,
    FieldVisitStaffing,
    ForbiddenWording,
    FrequencyCap,
    HoldBlocks,
    LimitedContent,
    MediumNeedsConsent,
    MediumOptOut,
    NoExposure,
    NoticeRequired,
    PassiveReporting,
    PlaceRestriction,
    RecordRetention,
    ReplyNeedsContact,
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

__all__ = [
    "PACKS",
    "Pack",
    "known_packs",
    "known_rule_ids",
    "locales_of",
    "register_pack",
    "resolve",
]


@dataclass(frozen=True, slots=True)
class Pack:
    """A named set of rules for one jurisdiction, optionally on top of other packs.

    Attributes:
        id: The pack's id, e.g. ``"US-RegF"``.
        title: What it covers.
        rules: Its own rules.
        extends: Packs whose rules come first (an overlay such as ``US-MA``
            adds to ``US-RegF``).
        source: The law or guidance it encodes.
        locale: The language (BCP 47) of the messages its rules are written for,
            e.g. ``zh-CN``; an overlay takes its bases'.  Message templates are
            checked against the rules of the packs of their language
            (`arrears.compliance.Compliance.rules_for_locale`); ``None``: any.
    """

    id: str
    title: str
    rules: tuple[Rule, ...]
    extends: tuple[str, ...] = ()
    source: str = ""
    locale: str | None = None


_DIRECT: Final = frozenset({Party.DEBTOR})
_THIRD: Final = frozenset({Party.THIRD_PARTY, Party.EMPLOYER})
_PHONE: Final = frozenset({Channel.CALL, Channel.VOICEMAIL, Channel.SMS})
_CALLS: Final = frozenset({Channel.CALL, Channel.VOICEMAIL})
_MESSAGES: Final = frozenset(
    {Channel.SMS, Channel.EMAIL, Channel.LETTER, Channel.VOICEMAIL, Channel.CALL}
)
_COMMUNICATED: Final = frozenset({Outcome.CONVERSATION, Outcome.VOICEMAIL, Outcome.DELIVERED})
# 940 CMR 7.04(1)(f) as read in Armata v. Target Corp., 480 Mass. 14 (2018): a call
# the creditor placed is an initiated communication whether or not anyone answered or
# a message was left; only a creditor truly unable to reach the debtor or to leave a
# message (busy, not connected, a text that failed) is exempt.
_MA_INITIATED: Final = frozenset(
    {
        Outcome.CONVERSATION,
        Outcome.VOICEMAIL,
        Outcome.DELIVERED,
        Outcome.NO_ANSWER,
        Outcome.WRONG_PARTY,
    }
)
# Regulation F binds debt collectors (12 CFR 1006.2(i)): a third party collecting for
# another, and a debt buyer whose business's principal purpose is collecting debts (the
# "principal purpose" prong of 1006.2(i)(1), whether the debts are its own or another's).
# Henson v. Santander Consumer USA Inc., 582 U.S. 79 (2017), left that prong open for a
# buyer collecting its own debts: read in the consumer's favour, a debt buyer is bound.
# A creditor collecting its own debts in its own name is not: they are not "owed or due
# another" (1006.2(i)(1); a creditor using a name that suggests a third party is).
_DEBT_COLLECTORS: Final = frozenset({Role.COLLECTOR, Role.DEBT_BUYER})
_ANY_CHANNEL: Final = frozenset(Channel)
# 12 CFR 1006.6(a) (for 1006.6, "consumer" includes these; 1006.2(e)): the spouse, the
# guardian, the executor or administrator of the estate.  The parent counts only when the
# consumer is a minor (1006.6(a)(2)): while the lender records it (a ``debtor_minor`` notice
# on any of the debtor's cases, not ended by a later ``debtor_of_age`` on any; no birth date
# is kept), else the parent is a third
# party, the reading that protects the consumer (_REGF_MINOR, Rule.as_debtor_minor).
# 1006.6(d)(1) also lets the collector communicate with the consumer's attorney: for the
# third-party rule the attorney is no third party.
_REGF_CONSUMER: Final = frozenset(
    {
        Relationship.SPOUSE,
        Relationship.GUARDIAN,
        Relationship.EXECUTOR,
        Relationship.ADMINISTRATOR,
    }
)
_REGF_MINOR: Final = frozenset({Relationship.PARENT})
# RCW 19.16.250(18) counts a call or a text sent, whatever came of it.
_PLACED_ANY: Final = frozenset(set(Outcome) - {Outcome.REPLY})
# A letter is judged when it arrives, not when it is posted: hours do not apply to it.
_TIMED: Final = frozenset(set(Channel) - {Channel.LETTER})


def _deceased(prefix: str) -> HoldBlocks:
    return HoldBlocks(
        id=f"{prefix}-DECEASED",
        title="No collection contact addressed to a debtor who has died; "
        "the estate is a third party",
        citation="General practice: collection on a deceased debtor's estate goes through "
        "its representative",
        kinds=frozenset({HoldKind.DECEASED}),
        parties=_DIRECT,
    )


# Who is calling: an institution named in a self-introduction or a 【signature】…
_INSTITUTION: Final = (
    "【[^【】]{2,16}】",
    r"(?:我是|我们是|这里是|来自)\s*[^，,。；;！!？?\s]{2,30}?(?:银行|金融|贷款|公司|中心|机构|平台)",
)
# …and the collector: a staff number (工号), or "I am <role> <name>" (a bare "客服" is not
# an identity: "客服热线" is a hotline).
_COLLECTOR: Final = (
    r"工号\s*[:：]?\s*[A-Za-z0-9]{2,}",
    r"我是[^，,。；;]{0,20}?(?:专员|催收员|调解员|坐席|业务员)\s*[\u4e00-\u9fffA-Za-z]{1,6}",
)
# Publicity: exposing the debt to others, or threatening to.
_EXPOSURE: Final = (
    "曝光",
    "群发",
    "通讯录",
    "朋友圈",
    "张贴",
    "公示",
    "大字报",
    "悬赏",
    "公开(?:你|您)的?(?:欠款|债务|信息|身份)",
    "(?:告诉|通知|联系)(?:你|您)的?(?:家人|亲友|同事|单位|领导|朋友|公司|邻居)",
)

CN: Final = Pack(
    id="CN",
    title="China: consumer-finance and credit-card collection",
    locale="zh-CN",
    source="GB/T 45251-2025 (national standard on post-loan collection); China Banking "
    "Association guideline (2026); MIIT Order 31; credit-card rules (2011); PIPL",
    rules=(
        ContactHours(
            id="CN-HOURS",
            title="No collection contact 22:00-08:00 in the debtor's local time unless agreed",
            citation="GB/T 45251-2025 互联网金融 个人网络消费信贷 贷后催收风控指引: "
            "双方未约定催收时间的，催收作业不应在每日22:00至次日8:00催收; China Banking "
            "Association 金融机构个人消费类贷款催收工作指引(试行) (2026), ch. 3: 未经债务人同意，"
            "严禁在每日晚22:00至次日早8:00进行电话催收、外访催收及其他催收 [confirm]",
            channels=_TIMED,
            start=time(8, 0),
            end=time(22, 0),
        ),
        FrequencyCap(
            id="CN-CALLS-EFFECTIVE",
            title="At most 3 answered voice calls a day per debtor (by them or by their "
            "voicemail), AI voice included",
            citation="GB/T 45251-2025: 以语音形式进行告知式催收时，同一金融机构和其合作的第三方"
            "催收机构对单一债务人拨通电话频次每日合计不应超过3次 [confirm]",
            channels=_CALLS,
            parties=_DIRECT,
            limit=3,
            days=1,
            across="debtor",
            scope_reason="per debtor: the cap is on the calls that get through to a person a day, "
            "whichever of their loans with the lender a call is about",
            counted_outcomes=frozenset({Outcome.CONVERSATION, Outcome.VOICEMAIL}),
            noun="answered calls",
        ),
        FrequencyCap(
            id="CN-CALLS-ATTEMPTS",
            title="At most 6 unanswered dial attempts a day per contact number",
            citation="China Banking Association 金融机构个人消费类贷款催收工作指引(试行) (2026), "
            "ch. 3: 债务人电话未接通的，催收人员对债务人同一联系方式尝试拨打次数当天不宜超过6次；"
            "与债务人另有约定除外 [confirm]",
            channels=_CALLS,
            limit=6,
            days=1,
            per="contact",
            across="debtor",
            scope_reason="per contact number: the dials a number receives a day, whichever "
            "of the debtor's loans with the lender a dial is about",
            counted_outcomes=frozenset(
                {Outcome.NO_ANSWER, Outcome.BUSY, Outcome.NOT_CONNECTED, Outcome.VOICEMAIL}
            ),
            noun="unanswered dial attempts",
        ),
        ThirdPartyWhenUnreachable(
            id="CN-THIRD-PARTY",
            title="Contact persons only to ask how to reach the debtor or to pass on a "
            "message, never to ask them to pay; only when the debtor is unreachable (3 failed "
            "contacts) or has died; never disclose the debt; once they refuse, no contact by "
            "any medium",
            citation="GB/T 45251-2025 互联网金融 个人网络消费信贷 贷后催收风控指引: "
            "只向债务人催收，不应向联系人催收; China Banking Association guideline (2026): a third "
            "party only when the debtor is unreachable (失联), such as 连续三次无法联系上本人 "
            "[confirm]",
            failed_attempts=3,
            scope_reason="per debtor: a contact person is called only when the debtor is "
            "unreachable (失联), which is the person's state, not one loan's: an answer about "
            "any of their loans with the lender shows they can be reached, and failed calls "
            "about any of them count",
        ),
        FieldVisitStaffing(
            id="CN-VISIT",
            title="Field visits by at least 2 credentialed collectors, pre-registered, recorded",
            citation="China Banking Association guideline (2026), Art. 22: 外访催收应安排不少于"
            "两名催收人员共同实施 [confirm]",
        ),
        ForbiddenWording(
            id="CN-CONDUCT",
            title="No threats, insults, violence, false claims to be police or court, "
            "spreading private data, blacklists, extra collection fees, or pushing the "
            "debtor to borrow anew to pay",
            citation="NIFA self-discipline convention on collection (2018); China Banking "
            "Association guideline (2026); credit-card rules (2011) Art. 68 [confirm]",
            patterns=(
                "打死",
                "弄死",
                "砍死",
                "后果自负",
                "走着瞧",
                "老赖",
                "骗子",
                "不要脸",
                "去死",
                "我们是(?:法院|公安|警察|检察院)",
                "公安机关已",
                "法院传票",
                "立案抓捕",
                "坐牢",
                "拘留",
                "曝光",
                "通讯录",
                "(?:告诉|通知)你的?(?:家人|同事|单位|领导|朋友|公司)",
                # The 2026 guideline's other limbs: no (fictitious) blacklist, no pushing the
                # debtor to borrow anew to pay, no extra fee charged in collection's name.
                "黑名单",
                "借(?:钱|网贷|高利贷)来?还",
                "以贷(?:养|还)贷",
                "(?:办|刷|套现)(?:张|个)?信用卡来?还",
                "催收(?:服务)?费",
            ),
        ),
        SelfIdentification(
            id="CN-IDENTIFY",
            title="A collection call or voice message says which institution is calling and "
            "who the collector is (staff number or name); an automated one names the "
            "institution",
            citation="GB/T 45251-2025 and China Banking Association guideline (2026): "
            "collectors state their institution and identity [confirm]",
            channels=_CALLS,
            required={"the institution's name": _INSTITUTION},
            personal={"the collector's staff number or name": _COLLECTOR},
        ),
        NoExposure(
            id="CN-EXPOSURE",
            title="Never expose the debt: no group messages, no third party unrelated to the "
            "debt (one not on file as a contact person, or the employer), no publicising or "
            "threatening to publicise it",
            citation="Credit-card business rules (2011) Art. 68: 不得对与债务无关的第三人进行催收; "
            "GB/T 45251-2025; NIFA self-discipline convention on collection (2018); China "
            "Banking Association guideline (2026): 严禁在公众场所张贴催收公告、律师函等文书; "
            "Personal Information Protection Law Art. 10 (不得非法…提供或者公开他人个人信息), "
            "Art. 25 (不得公开其处理的个人信息，取得个人单独同意的除外); group messages "
            "[confirm]",
            patterns=_EXPOSURE,
        ),
        RecordRetention(
            id="CN-RECORDS",
            title="Keep collection records at least 2 years",
            citation="Credit-card business rules (2011) Art. 68 [confirm]",
            years=2,
        ),
        RequiredWording(
            id="CN-SMS",
            title="An SMS names its sender in 【】 (2-16 characters) and tells how to refuse "
            "further messages",
            citation="MIIT Order 31 (通信短信息服务管理规定, 2015): 提供便捷和有效的拒绝接收方式"
            "并随短信息告知用户 [confirm]; the 2-12/16 character signature is a "
            "platform rule",
            channels=frozenset({Channel.SMS}),
            required={
                "sender signature 【…】": ("【[^【】]{2,16}】",),
                "a way to refuse further messages": ("退订", "拒收", r"回复?\s*[TtNn]\b"),
            },
        ),
        ReplyNeedsContact(
            id="CN-REPLY",
            title="A contact marked reply answers a contact the person started (an inbound "
            "call, a text from them), once, within 30 days; otherwise it is not a reply",
            citation="GB/T 45251-2025 互联网金融 个人网络消费信贷 贷后催收风控指引: "
            "当联系人明确表示愿意为债务人偿还欠款时，可视情况提供还款所需必要信息 (an answer "
            "to the contact person's own offer, CN-THIRD-PARTY); the 30 days are this "
            "library's default, not a number in the standard",
        ),
        _deceased("CN"),
    ),
)

_ATTEMPT_TO_COLLECT: Final = (r"attempt(?:ing)?\s+to\s+collect\s+a\s+debt",)
_INFORMATION_USED: Final = (
    r"information\s+(?:obtained|we\s+obtain)\s+will\s+be\s+used\s+for\s+that\s+purpose",
)
_MIRANDA_FULL: Final = {
    "the attempt-to-collect disclosure": _ATTEMPT_TO_COLLECT,
    "that any information obtained will be used for that purpose": _INFORMATION_USED,
}
_DEBT_COLLECTOR_LATER: Final = (r"debt\s+collector",)
# 1006.6(e): "a clear and conspicuous statement describing a reasonable and simple method
# by which the consumer can opt out": an instruction, not the bare word "stop".
_OPT_OUT_METHOD: Final = (
    r"\b(?:reply|text|send|respond)(?:\s+with)?\s+[\"'“]?stop\b",
    r"\bunsubscribe\b",
    r"\bopt[ -]?out\b",
)

# 15 USC 1692e(1), (4), (5), (7), which 12 CFR 1006.18(a) carries: nonpayment of a consumer
# debt never leads to arrest or prison, and a debt collector is no police officer or
# government agency.
_US_NO_SUIT: Final = (
    # The time-barred-debt disclosures state law requires (California's "The law
    # limits how long you can be sued on a debt. Because of the age of your debt,
    # [creditor] will not sue you for it."), which 12 CFR 1006.34(d)(3)(iv)(B) lets
    # the validation notice carry: a statement that ends the sentence, never one
    # followed by a condition ("we will not sue you if you pay" is still a threat).
    r"\bthe law limits how long you can be sued on a debt\b",
    r"\b(?:will|can)\s*not\s+sue\s+you(?:\s+for\s+(?:it|this\s+debt|the\s+debt))?"
    r"(?=\s*(?:[.;!]|$))",
    r"\b(?:won|can)['\u2019]t\s+sue\s+you(?:\s+for\s+(?:it|this\s+debt|the\s+debt))?"
    r"(?=\s*(?:[.;!]|$))",
)
_US_FALSE: Final = (
    r"\b(?:arrest(?:ed|s|ing)?|jail(?:ed)?|imprison(?:ed|ment)?|prison|handcuff(?:ed|s)?)\b",
    r"\bcriminal\s+(?:charges?|complaint|case|prosecution|record)\b",
    r"\bprosecut(?:e|ed|ion)\b",
    r"\b(?:this is|we are|we're|i am|i'm|calling from|on behalf of|with|from)\s+"
    r"(?:the\s+|a\s+|your\s+local\s+)?(?:police|sheriff|marshal|fbi|irs|district attorney|"
    r"attorney general|law enforcement|department of justice|federal government|"
    r"u\.?s\.? government|state government)",
)

US_REGF: Final = Pack(
    id="US-RegF",
    title="United States: Regulation F (12 CFR 1006), for third-party debt collectors",
    locale="en-US",
    source="12 CFR part 1006; 11 USC 362; 50 USC 3931, 3937; 47 USC 227",
    rules=(
        ContactHours(
            id="US-TIME",
            title="No contact before 08:00 or at/after 21:00 at the consumer's location, "
            "nor at times they named; if the location is unknown, convenient everywhere "
            "it may be; unless the consumer consented directly",
            citation="12 CFR 1006.6(b)(1)(i)",
            roles=_DEBT_COLLECTORS,
            channels=_TIMED,
            start=time(8, 0),
            end=time(21, 0),
        ),
        FrequencyCap(
            id="US-7IN7",
            title="More than 7 calls in 7 consecutive days, or a call within 7 days after a "
            "telephone conversation, is presumed harassment; a call placed with the person's "
            "direct consent for it (inside its window, within 7 days) is not counted",
            citation="12 CFR 1006.14(b)(2)-(3)",
            roles=_DEBT_COLLECTORS,
            channels=_CALLS,
            limit=7,
            days=7,
            quiet_days=7,
            consent_exempt_days=7,
            scope_reason="per person per particular debt (1006.14(b)(2)); a call about several "
            "debts counts toward each, and a person's student loans serviced under one "
            "account number when obtained are one debt (1006.14(b)(4); "
            "Case.student_loan)",
        ),
        LimitedContent(
            id="US-LCM",
            title="A limited-content message is a voicemail only and never mentions the debt",
            citation="12 CFR 1006.2(j)",
            roles=_DEBT_COLLECTORS,
        ),
        RequiredWording(
            id="US-MIRANDA",
            title="The initial communication says the collector is attempting to collect a "
            "debt and that any information obtained will be used for that purpose, and so "
            "does the initial written one when the first was oral; later ones say they are "
            "from a debt collector",
            citation="12 CFR 1006.18(e)(1)-(2); 1006.2(j), comment 18(e)-1",
            roles=_DEBT_COLLECTORS,
            channels=_MESSAGES,
            parties=_DIRECT,
            exempt=frozenset({Purpose.LIMITED_CONTENT}),
            first_required=_MIRANDA_FULL,
            first_written_required=_MIRANDA_FULL,
            required={"the debt-collector disclosure": _DEBT_COLLECTOR_LATER},
        ),
        ValidationNoticeDue(
            id="US-VALID",
            title="The validation notice goes out within 5 days of the first communication; "
            "off by default (turn it on when validation notices are recorded here)",
            citation="12 CFR 1006.34(a)(1); the validation period (validation_period_end) "
            "per 1006.34(b)(5)",
            roles=_DEBT_COLLECTORS,
            parties=_DIRECT,
            purposes=frozenset({Purpose.COLLECTION}),
            days=5,
            # Many lenders send the notice with the first letter, outside this
            # library: blocking on its absence is a choice to switch on.
            enabled=False,
        ),
        HoldBlocks(
            id="US-DISPUTE",
            title="A written dispute within the validation period stops collection until "
            "verification is sent",
            citation="12 CFR 1006.38(d)(2)",
            roles=_DEBT_COLLECTORS,
            kinds=frozenset({HoldKind.DISPUTE}),
            written_only=True,
            ends_with_notice="verification",
            validation_period=True,
            exempt=frozenset({Purpose.VERIFICATION, Purpose.VALIDATION_NOTICE}),
        ),
        HoldBlocks(
            id="US-CEASE",
            title="After a written request to stop, only the three permitted notices remain; "
            "the consumer's spouse, guardian, executor or administrator, and a minor's "
            "parent, is the consumer here",
            citation="12 CFR 1006.6(c); who is the consumer: 1006.6(a)(1)-(4), 1006.2(e)",
            roles=_DEBT_COLLECTORS,
            kinds=frozenset({HoldKind.CEASE}),
            parties=_DIRECT,
            as_debtor=_REGF_CONSUMER,
            as_debtor_minor=_REGF_MINOR,
            written_only=True,
            exempt=frozenset(
                {Purpose.TERMINATION_NOTICE, Purpose.REMEDY_NOTICE, Purpose.REMEDY_INTENT}
            ),
        ),
        RepresentedByAttorney(
            id="US-ATTY",
            title="A consumer represented by an attorney about the debt is not contacted "
            "directly, unless the attorney consents or fails to respond within a reasonable "
            "period; location information is then asked of the attorney only",
            citation="12 CFR 1006.6(b)(2); 1006.10(b)(5); who is the consumer: 1006.6(a)(1)-(4)",
            roles=_DEBT_COLLECTORS,
            as_debtor=_REGF_CONSUMER,
            as_debtor_minor=_REGF_MINOR,
        ),
        PlaceRestriction(
            id="US-PLACE",
            title="No contact at work once the consumer said it is inconvenient there, unless "
            "they consent to it again; one reply to a contact they started from there",
            citation="12 CFR 1006.6(b)(1)(ii), (b)(4)(i); comment 6(b)(1)-2",
            roles=_DEBT_COLLECTORS,
            parties=_DIRECT,
            notice="work_inconvenient",
        ),
        PlaceRestriction(
            id="US-EMPLOYER",
            title="No contact at work once the collector knows or has reason to know the "
            "employer prohibits it, unless the consumer consents directly",
            citation="12 CFR 1006.6(b)(3), (b)(4)(i)",
            roles=_DEBT_COLLECTORS,
            parties=_DIRECT,
            notice="employer_prohibits",
            reply_once=False,
        ),
        MediumOptOut(
            id="US-MEDIUM",
            title="No contact by a medium or address the consumer opted out of (a request not "
            "to be called covers voicemail to that number), except one electronic reply "
            "confirming an electronic opt-out, and one response to a contact the consumer "
            "started through it; every e-mail and SMS tells how to opt out",
            citation="12 CFR 1006.14(h); 1006.2(b); 1006.6(e)",
            roles=_DEBT_COLLECTORS,
            opt_out_phrases=_OPT_OUT_METHOD,
            reply_through_their_medium=True,
        ),
        WorkEmailNeedsConsent(
            id="US-WORKEMAIL",
            title="No e-mail to an employer-provided address without the consumer's consent",
            citation="12 CFR 1006.22(f)(3)",
            roles=_DEBT_COLLECTORS,
            channels=frozenset({Channel.EMAIL}),
            parties=_DIRECT,
        ),
        ThirdPartyLocationOnly(
            id="US-3P",
            title="Third parties only for location information, once per person, "
            "without mentioning the debt; the consumer's spouse, guardian, executor or "
            "administrator, and a minor's parent, is the consumer here, and their attorney "
            "no third party",
            citation="12 CFR 1006.6(d), 1006.10; who is the consumer: 1006.6(a)(1)-(4), "
            "1006.2(e); the consumer's attorney: 1006.6(d)(1)",
            roles=_DEBT_COLLECTORS,
            as_debtor=_REGF_CONSUMER | {Relationship.ATTORNEY},
            as_debtor_minor=_REGF_MINOR,
            scope_reason="per person across the consumer's debts: the person is asked for "
            "location information about the consumer, not about a debt, and may not be "
            "communicated with more than once for it (1006.10), whichever debt "
            "the collector is collecting",
        ),
        TimeBarred(
            id="US-TIMEBAR",
            title="No suit or threat of suit on a time-barred debt",
            citation="12 CFR 1006.26(b); the limitation period is state law: set "
            "limitation_years for the debt's state",
            roles=_DEBT_COLLECTORS,
            limitation_years=6,
            disclaimers=_US_NO_SUIT,
        ),
        ForbiddenWording(
            id="US-FALSE",
            title="No threat of arrest or prison, no accusation of a crime, no posing as the "
            "police or a government agency",
            citation="12 CFR 1006.18(a) (no false, deceptive or misleading representation); "
            '15 USC 1692e(1) ("affiliated with the United States or any State, including the '
            'use of any badge, uniform, or facsimile thereof"), 1692e(4) ("nonpayment of any '
            'debt will result in the arrest or imprisonment of any person"), 1692e(5) ("any '
            'action that cannot legally be taken"), 1692e(7) ("the consumer committed any '
            'crime")',
            roles=_DEBT_COLLECTORS,
            patterns=_US_FALSE,
        ),
        PassiveReporting(
            id="US-PASSIVE",
            title="No credit reporting before speaking to the consumer or 14 days after a "
            "message that was not returned undeliverable",
            citation="12 CFR 1006.30(a)",
            roles=_DEBT_COLLECTORS,
            purposes=frozenset({Purpose.CREDIT_REPORT}),
            days=14,
        ),
        RecordRetention(
            id="US-RECORDS",
            title="Keep the records of a debt, call recordings included, from the first "
            "collection activity until 3 years after the last; no purge before then",
            citation="12 CFR 1006.100(a); recordings of calls 3 years after each call, 1006.100(b)",
            roles=_DEBT_COLLECTORS,
            years=3,
        ),
        HoldBlocks(
            id="US-BK",
            title="Bankruptcy stay: no act to collect, no suit",
            citation="11 USC 362(a)",
            kinds=frozenset({HoldKind.BANKRUPTCY}),
        ),
        NoticeRequired(
            id="US-SCRA",
            title="Check military status before legal escalation (6% interest cap for "
            "servicemembers)",
            citation="50 USC 3931, 3937",
            purposes=frozenset({Purpose.LEGAL_ACTION}),
            notice="military_status_check",
        ),
        AutomatedNeedsConsent(
            id="US-TCPA",
            title="Autodialed, prerecorded or AI-voice calls and texts need prior express "
            "consent (the number's own, or a consent recorded for automated contact, not a "
            "callback request); a revocation is honoured at once (the law allows 10 business "
            "days)",
            citation="47 USC 227(b)(1)(A); 47 CFR 64.1200(a)(10)",
            channels=_PHONE,
        ),
        ReplyNeedsContact(
            id="US-REPLY",
            title="A contact marked reply answers a communication the consumer (or the "
            "person reached) started, once, within 30 days; otherwise it is not a reply",
            citation='12 CFR 1006.6(b)(1)(ii), comment 6(b)(1)-2 (the consumer "initiates a '
            'communication"; the collector may "respond once"); for US-WA-CELL, RCW '
            '19.16.250(18) ("responding to a communication from the debtor or the person to '
            "whom the call ... is made\"); the 30 days are this library's default, not a "
            "number in either text",
            roles=_DEBT_COLLECTORS,
        ),
        _deceased("US"),
    ),
)

# Who the Massachusetts caps bind.  940 CMR 7.00 speaks of "creditors", and its 7.03
# definition reaches anyone collecting a debt owed to them and their agents, and a buyer of
# delinquent debt who hires a collector; the Attorney General reads it to bind third-party
# collection agencies too, while the Division of Banks reads it not to.  209 CMR 18.16(1)(d)
# sets the same two-in-seven-days and two-in-thirty-days caps on licensed debt collectors,
# counting the communications they "engage" the consumer in; 940 CMR 7.04(1)(f) counts every
# communication initiated (Armata).  Read in the debtor's favour: one rule per cap, binding
# every role, counted as 940 CMR 7 counts (the stricter), citing both texts.
# 940 CMR 7.05 protects "persons who reside in the household of a debtor, other than the
# debtor".  A case records how a person stands to the debtor, not where they live: read in
# the debtor's favour, every family member is taken to reside with them, with the
# `household` member who is not family.  A lender who knows better narrows `relationships`.
_MA_HOUSEHOLD: Final = frozenset(
    {
        Relationship.SPOUSE,
        Relationship.PARENT,
        Relationship.CHILD,
        Relationship.SIBLING,
        Relationship.RELATIVE,
        Relationship.HOUSEHOLD,
    }
)


def _ma_household(
    rule_id: str, *, title: str, citation: str, days: int, residence: bool
) -> FrequencyCap:
    """One of 940 CMR 7.05(3)(d)'s two caps on calls to the debtor's household: 2 initiated
    calls per person per debt in *days*, at the residence or away from it (*residence*)."""
    return FrequencyCap(
        id=rule_id,
        title=title,
        citation=citation,
        channels=_PHONE,
        parties=frozenset({Party.THIRD_PARTY}),
        relationships=_MA_HOUSEHOLD,
        limit=2,
        days=days,
        per="person",
        scope_reason='per person, per debt (940 CMR 7.05(3)(d): "engaging any person '
        '... for each debt")',
        counted_channels=_PHONE,
        counted_outcomes=_MA_INITIATED,
        noun="initiated communications",
        residence=residence,
    )


US_MA: Final = Pack(
    id="US-MA",
    title="Massachusetts overlay on Regulation F (whose own rules bind debt collectors only)",
    source="940 CMR 7.00 (the Attorney General's, for creditors); 209 CMR 18.00 (the Division "
    "of Banks', for debt collectors)",
    extends=("US-RegF",),
    rules=(
        FrequencyCap(
            id="US-MA",
            title="At most 2 initiated communications per 7 days to a personal number, per "
            "debt; a call that rang out unanswered or without a message counts",
            citation="940 CMR 7.04(1)(f); Armata v. Target Corp., 480 Mass. 14 (2018); Attorney "
            "General's guidance (2013); for debt collectors also 209 CMR 18.16(1)(d)",
            channels=_PHONE,
            parties=_DIRECT,
            limit=2,
            days=7,
            per="person",
            scope_reason="per debt (940 CMR 7.04(1)(f))",
            counted_channels=_PHONE,
            counted_outcomes=_MA_INITIATED,
            noun="initiated communications",
            work=False,
        ),
        FrequencyCap(
            id="US-MA-OTHER",
            title="At most 2 initiated communications per 30 days to other numbers "
            "(work), per debt; a call that rang out unanswered or without a message counts",
            citation="940 CMR 7.04(1)(f); Armata v. Target Corp., 480 Mass. 14 (2018); Attorney "
            "General's guidance (2013); for debt collectors also 209 CMR 18.16(1)(d)",
            channels=_PHONE,
            parties=_DIRECT,
            limit=2,
            days=30,
            per="person",
            scope_reason="per debt (940 CMR 7.04(1)(f))",
            counted_channels=_PHONE,
            counted_outcomes=_MA_INITIATED,
            noun="initiated communications",
            work=True,
        ),
        # 940 CMR 7.05(3)(d): persons residing in the debtor's household other than the debtor
        # have their own two calls in 7 days "at a debtor's residence" and two in 30 days
        # "other than at a debtor's residence", per debt, counted for each such person.  Unlike
        # 7.04(1)(e) for the debtor ("place of residence, cellular telephone, or other telephone
        # number provided by the debtor as his or her personal telephone number"), 7.05 names
        # no cellular telephone: a household member's own mobile rings wherever they are, not
        # at the residence, and takes the stricter 30-day count; only a home landline (a
        # contact point marked `landline`, not at work) is at the residence.
        _ma_household(
            "US-MA-HOUSEHOLD",
            title="At most 2 initiated calls per 7 days to each member of the debtor's "
            "household at the residence (a home landline), per debt; a call that rang out "
            "counts",
            citation='940 CMR 7.05(3)(d): "in excess of two calls in each seven-day period at '
            "a debtor's residence and two calls in each 30-day period other than at a "
            "debtor's residence, for each debt\"; (1); a mobile is not at the residence",
            days=7,
            residence=True,
        ),
        _ma_household(
            "US-MA-HOUSEHOLD-OTHER",
            title="At most 2 initiated calls per 30 days to each member of the debtor's "
            "household away from the residence (their mobiles and work numbers, together), "
            "per debt",
            citation='940 CMR 7.05(3)(d): "two calls in each 30-day period other than at a '
            "debtor's residence, for each debt\"; a household member's own mobile is not at "
            "the residence",
            days=30,
            residence=False,
        ),
        # Regulation F's hours (US-TIME) bind debt collectors only; 940 CMR 7.05(3)(e) forbids
        # a creditor's calls to the household outside 08:00-21:00 (Eastern, Massachusetts's
        # own time), and 7.05(1) lets it assume a call to the household reaches its members.
        # Read in the debtor's favour: every role, every personal and work number, texts too.
        ContactHours(
            id="US-MA-HOURS",
            title="No telephone contact before 08:00 or at/after 21:00, nor at times the "
            "debtor named (their normal waking hours), whoever collects",
            citation="940 CMR 7.05(1), (3)(e); for debt collectors also 209 CMR 18.16(1)(a)",
            channels=_PHONE,
            start=time(8, 0),
            end=time(21, 0),
        ),
    ),
)

# RCW 19.16.250(13) (threats of force or violence, offensive language: profanity and
# name-calling), (11) (impairing the credit rating; a
# statement that the claim is or will be reported to a credit reporting agency is allowed),
# (20) (vouched for or bonded by the state).  Criminal prosecution and posing as the police
# are US-FALSE's already.
_WA_THREATS: Final = (
    r"\b(?:ruin|destroy|wreck|damage|hurt|impair|trash)(?:s|ed|ing)?\s+(?:your|his|her|their)"
    r"\s+(?:credit|credit\s+(?:rating|score|history|record))\b",
    r"\b(?:your|his|her|their)\s+credit(?:\s+(?:rating|score|history))?\s+(?:will|is going to|"
    r"could|may)\s+(?:be\s+)?(?:ruined|destroyed|damaged|impaired|suffer|drop|tank)",
    r"\b(?:hurt|harm|beat\s+up|kill)\s+you\b",
    r"\b(?:vouched\s+for|bonded|endorsed|backed|approved)\s+by\s+the\s+state\s+of\s+"
    r"washington\b",
    r"\b(?:an?\s+)?(?:agency|instrumentality|department)\s+of\s+the\s+state\s+of\s+washington\b",
    r"\b(?:f+u+c+k\w*|shit\w*|bitch\w*|bastards?|assholes?|dead\s*beats?|scumbags?|scum)\b",
    # (3): a "bad debt list", posted or threatened; (6): advertising the claim for sale.
    r"\bbad[\s-]+debt(?:ors?)?['\u2019]?s?\s+lists?\b",
    r"\b(?:publish|post)(?:es|s|ed|ing)?\s+your\s+name\b",
    r"\badvertis(?:e|es|ed|ing)\s+(?:your|this|the)\s+(?:debt|claim|account)\s+for\s+sale\b",
)

# RCW 19.16.250(8)(a): a written notice implying a claim shows "the name of the licensee
# and the city, street, and number at which he or she is licensed to do business".  The
# engine does not know the licensee's name or its licensed address: by default it requires
# a street address (a number and a street) and a city with its state and ZIP code; the
# licensee's name is a fact with no pattern until the lender gives its own (and may give
# its licensed address in place of the generic one) in its overrides.
#: US states (and the District) by postal code, for an address's last line.
_US_STATES: Final = (
    "al|ak|az|ar|ca|co|ct|de|dc|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|"
    "nh|nj|nm|ny|nc|nd|oh|ok|or|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy|washington"
)
#: An address's last line: the city, a comma, the state and the ZIP code.
_WA_LAST_LINE: Final = rf"[a-z][a-z .'-]{{1,40}},\s*(?:{_US_STATES})\.?\s+\d{{5}}(?:-\d{{4}})?\b"
# The street and number count only as part of a whole address, its last line following:
# a number and some words alone ("pay 980 today the easy way") are no street, and a
# street needs no suffix word ("1200 Broadway").
_WA_STREET: Final = (
    rf"\b\d{{1,6}}[a-z]?(?:\s+[\w.'#-]+){{1,6}},\s*(?:(?:suite|ste|unit|#)\s*[\w-]+,\s*)?"
    rf"{_WA_LAST_LINE}",
    rf"\bp\.?\s*o\.?\s+box\s+\d+,\s*{_WA_LAST_LINE}",
)
_WA_CITY: Final = (rf"\b{_WA_LAST_LINE}",)

# RCW 19.16.250 binds licensees, collection agencies: those collecting claims owed another
# and debt buyers (RCW 19.16.100(4)(a), (d)); a business collecting its own claims in its
# true name is not one (RCW 19.16.100(5)(c)), but one collecting them under another name is
# (RCW 19.16.100(4)(c)): its role is then collector.
US_WA: Final = Pack(
    id="US-WA",
    title="Washington overlay on Regulation F",
    source="RCW 19.16.250",
    extends=("US-RegF",),
    rules=(
        FrequencyCap(
            id="US-WA",
            title="More than 3 communications a week with the debtor or their spouse, "
            "together, is presumed harassment; contacts they started do not count",
            citation='RCW 19.16.250(13)(a): a communication "with a debtor or spouse in any '
            "form, manner, or place, more than three times in a single week, unless the "
            'licensee is responding to a communication from the debtor or spouse"',
            roles=_DEBT_COLLECTORS,
            # "In any form, manner, or place": a visit is a communication too.
            channels=_ANY_CHANNEL,
            parties=_DIRECT,
            # The statute's exception: a reply (one US-REPLY verified as answering the
            # debtor's or the spouse's own contact) is not judged, but still counts.
            exempt=frozenset({Purpose.REPLY}),
            as_debtor=frozenset({Relationship.SPOUSE}),
            limit=3,
            days=7,
            per="person",
            # The count is of communications with the debtor, a person "owing or alleged to
            # owe a claim" (RCW 19.16.100(8)), not with one claim: every debt counts.
            across="debtor",
            scope_reason="the debtor and their spouse together, on any of their contact "
            "points, whichever of the debtor's debts the communications were about (RCW "
            '19.16.250(13)(a): "with a debtor or spouse in any form, manner, or place")',
            counted_channels=_ANY_CHANNEL,
            counted_outcomes=_COMMUNICATED,
            noun="communications",
        ),
        FrequencyCap(
            id="US-WA-WORK",
            title="More than 1 communication a week at the debtor's work is presumed "
            "harassment; a reply to the debtor's own contact is allowed",
            citation='RCW 19.16.250(13)(b): a communication "with a debtor at his or her place '
            "of employment more than one time in a single week, unless the licensee is "
            'responding to a communication from the debtor"',
            roles=_DEBT_COLLECTORS,
            channels=_ANY_CHANNEL,
            parties=_DIRECT,
            exempt=frozenset({Purpose.REPLY}),
            limit=1,
            days=7,
            per="person",
            across="debtor",
            scope_reason="the debtor at work, whichever of their debts the communications "
            'were about (RCW 19.16.250(13)(b): "with a debtor at his or her place of '
            'employment")',
            counted_channels=_ANY_CHANNEL,
            counted_outcomes=_COMMUNICATED,
            noun="communications at work",
            work=True,
        ),
        # "Knows or reasonably should know" a number is a mobile: a case does not say
        # which numbers are, so every number is judged unless its contact point is
        # marked ``landline`` (the lender's to establish, e.g. by the statute's safe
        # harbour: a cellular list from a commercial provider, updated at least monthly).
        # A reply the statute excepts is not judged, but still counts toward the two.
        FrequencyCap(
            id="US-WA-CELL",
            title="At most 2 calls or texts a day to a number that may be a mobile, whoever "
            "answers and whichever loan they are about; a reply to them is allowed",
            citation='RCW 19.16.250(18): "Call, or send a text message or other electronic '
            "communication to, a cellular telephone or other wireless device more than twice "
            "in any day when the licensee knows or reasonably should know that the number "
            "belongs to a cellular telephone or other wireless device, unless the licensee is "
            "responding to a communication from the debtor or the person to whom the call, "
            'text message, or other electronic communication is made"',
            roles=_DEBT_COLLECTORS,
            channels=_PHONE,
            exempt=frozenset({Purpose.REPLY}),
            limit=2,
            days=1,
            per="contact",
            across="debtor",
            scope_reason="per number, a day being a calendar day in the debtor's time, "
            "whichever of the debtor's debts the calls and texts were about (RCW "
            '19.16.250(18): "a cellular telephone ... more than twice in any day")',
            counted_channels=_PHONE,
            counted_outcomes=_PLACED_ANY,
            noun="calls and texts to the number",
            mobile=True,
        ),
        # RCW 19.16.250(17)(a): an attempt to communicate by way of a cellular telephone
        # may cause the recipient charges (minutes, messages); the collector cannot know
        # the recipient's plan, so every call, voicemail and text placed to a number that
        # may be a mobile counts, whatever came of it.  "Any calendar week" is read as any
        # seven consecutive days: a rolling window holds every calendar week to three,
        # whichever day it starts on (the statute does not say), and does not allow three on
        # a Saturday and three more on the Sunday; a lender that reads the words sets
        # ``week_starts`` in its overrides (`FrequencyCap.week_starts`).  A lender that
        # knows the recipient bears no charges may turn the rule off.  (17)(b) is the
        # same safe harbour as (18) (`landline`); (17)(c): the cap adds nothing to the
        # three a week of (13)(a), which still applies beside it.  The three are the
        # recipient's, not a number's: a person's numbers that may be mobiles share them
        # (a call to one of them counts whomever it was meant for, so each number is held
        # to three as well); the calls to their landlines are not counted.  A spouse is a
        # recipient of their own: (17) names no spouse, unlike (13)(a).
        FrequencyCap(
            id="US-WA-CELL-WEEK",
            title="At most 3 calls or texts a week to one person's numbers that may be "
            "mobiles, all of them together, whoever answers and whichever loan they are "
            "about; a reply to them is allowed",
            citation='RCW 19.16.250(17)(a): "a licensee cannot cause charges to be incurred to '
            "the recipient of the attempted communication more than three times in any "
            "calendar week when the licensee knows or reasonably should know that the number "
            "belongs to a cellular telephone or other wireless device, unless the licensee is "
            "responding to a communication from the debtor or the person to whom the call is "
            'made"; (17)(b), (c)',
            roles=_DEBT_COLLECTORS,
            channels=_PHONE,
            exempt=frozenset({Purpose.REPLY}),
            limit=3,
            days=7,
            per="person",
            across="debtor",
            scope_reason="per recipient, across all their numbers that may be mobiles (a "
            "call to one of them counting whomever it was meant for), over any 7 consecutive "
            "days in the debtor's calendar (every calendar week among them), whichever of the "
            "debtor's debts the calls and texts were about (RCW 19.16.250(17)(a): \"charges "
            'to be incurred to the recipient ... more than three times in any calendar week")',
            counted_channels=_PHONE,
            counted_outcomes=_PLACED_ANY,
            noun="calls and texts to their mobiles",
            mobile=True,
        ),
        # (13)(c) has no exception for the debtor's consent or request, where (a) and (b)
        # except a response to the debtor's own communication: a consent does not lift it
        # (a lender may set ``consent_lifts`` in its overrides).
        ContactHours(
            id="US-WA-HOURS",
            title="No contact at home before 07:30 or at/after 21:00, even with the debtor's "
            "consent",
            citation='RCW 19.16.250(13)(c): a communication "made with the debtor or spouse at '
            'his or her place of residence between the hours of 9:00 p.m. and 7:30 a.m." is '
            "presumed to harass",
            roles=_DEBT_COLLECTORS,
            channels=_TIMED,
            start=time(7, 30),
            end=time(21, 0),
            consent_lifts=False,
            work=False,
        ),
        ForbiddenWording(
            id="US-WA-THREATS",
            title="No threat of force or violence, no offensive language, no threat to impair "
            "the debtor's credit rating, no claim to be vouched for or bonded by the State of "
            "Washington, no bad-debt list, no advertising the claim for sale",
            citation='RCW 19.16.250(13) (communication "by threats of force or violence" or '
            '"by use of offensive language"), '
            '(11) ("Threaten the debtor with impairment of his or her credit rating if a claim '
            'is not paid"; saying the claim has been or will be reported to a credit reporting '
            'agency is not a threat), (20) ("convey the impression that the licensee is vouched '
            'for, bonded to or by, or is an instrumentality of the state of Washington"), (3) '
            "(\"Publish or post ... any list of debtors commonly known as 'bad debt lists' or "
            'threaten to do so"), (6) ("Advertise for sale or threaten to advertise for sale '
            'any claim as a means of endeavoring to enforce payment thereof")',
            roles=_DEBT_COLLECTORS,
            patterns=_WA_THREATS,
        ),
        # (8): "any notice, letter, message, or form ... which represents or implies that a
        # claim exists" shows them "in clear and legible type": every written message to
        # the debtor, a text included; a limited-content message implies no claim.
        RequiredWording(
            id="US-WA-NOTICE",
            title="A letter, e-mail or text to the debtor shows the street, number and city "
            "at which the licensee is licensed, and its name once the lender gives it",
            citation="RCW 19.16.250(8)(a): no notice, letter, message, or form that "
            '"represents or implies that a claim exists unless it shall indicate in clear and '
            "legible type: (a) The name of the licensee and the city, street, and number at "
            'which he or she is licensed to do business"',
            roles=_DEBT_COLLECTORS,
            channels=frozenset({Channel.LETTER, Channel.EMAIL, Channel.SMS}),
            parties=_DIRECT,
            exempt=frozenset({Purpose.LIMITED_CONTENT}),
            required={
                "the licensee's name": (),
                "the street and number at which the licensee is licensed": _WA_STREET,
                "the city at which the licensee is licensed": _WA_CITY,
            },
        ),
    ),
)

# GBL 601 binds "principal creditor[s]" and their agents.  A principal creditor is "any
# person ... to whom a consumer claim is owed, due or asserted to be due or owed, or any
# assignee for value", and a buyer of debts in default whose principal purpose is
# collecting them (GBL 600(3); the debt buyer's sentence is in the text as published by the
# Senate): the creditor, the debt buyer, and the agency collecting for either.
# Every role.  Its 601(6) names no hours and no number: the windows below are Regulation
# F's presumptions (12 CFR 1006.6(b)(1)(i), 1006.14(b)(2)), this library's defaults,
# counted per debtor across their debts (601(6) is about how often "the debtor or any
# member of his family or household" is communicated with, not about one claim).  23
# NYCRR 1 binds debt collectors only ("Does 23 NYCRR 1 apply to the collection of debts
# by original creditors? A. No.", DFS FAQ); its amendments proposed in 2021 and 2022
# (a call cap, consent for electronic communications) lapsed unadopted in March 2023 and
# are not encoded (docs/packs/US-NY.md).
# GBL 601(6) names "the debtor or any member of his family or household": every family
# relationship a case records, and a household member who is not family, count with the
# debtor.  A guardian, an attorney or a contact person is neither as such.
_NY_FAMILY: Final = frozenset(
    {
        Relationship.SPOUSE,
        Relationship.PARENT,
        Relationship.CHILD,
        Relationship.SIBLING,
        Relationship.RELATIVE,
        Relationship.HOUSEHOLD,
    }
)
_NY_CLAIM_WORDS: Final = (
    r"\bdebts?\b",
    r"\bowe[sd]?\b",
    r"\bcollect",
    r"\bpast[ -]due\b",
    r"\boverdue\b",
    r"\bdelinquen",
    r"\barrears\b",
    r"\bunpaid\b",
    r"\bbalance\b",
    r"\bjudg(?:e)?ment\b",
    r"\bgarnish",
    # The kind of claim or what is missing on it tells its nature as plainly.
    r"\bloans?\b",
    r"\b(?:re)?payments?\b",
    r"\brepa(?:y|id)",
    r"\bdefault(?:ed|s)?\b",
)
_NY_WORKPLACE: Final = r"(?:employer|boss|manager|supervisor|workplace|job|HR|human resources)"
_NY_THREATS: Final = (
    # 601(4): "threaten to communicate the nature of a consumer claim to the debtor's
    # employer", in any tense or voice: "we will contact your employer", "we are
    # contacting your employer", "your employer will be told".
    r"\b(?:tell|inform|notify|contact|call|phone|write|writ|let|reach|speak|talk|go)"
    r"(?:s|ed|ing|ified|ifying)?\s+(?:(?:to|with|out to)\s+)?your\s+" + _NY_WORKPLACE + r"\b",
    r"\byour\s+" + _NY_WORKPLACE + r"\s+(?:will|would|may|might|could|shall|is going to|"
    r"is about to)\s+(?:be\s+)?(?:told|informed|notified|contacted|called|hear|learn|know|find)",
    # 601(1): "Simulate in any manner a law enforcement officer, or a representative of any
    # governmental agency of the state of New York or any of its political subdivisions"
    # (its cities and counties: the NYPD, a county sheriff).
    r"\b(?:this is|we are|we're|i am|i'm|calling from|on behalf of|with|from)\s+"
    r"(?:the\s+|a\s+)?(?:police|sheriff|marshal|district attorney|attorney general|"
    r"state of new york|new york state|new york city|city of new york|"
    r"county\s+(?:sheriff|police|attorney|marshal)|"
    r"department of financial services|law enforcement|state troopers?)",
    r"\b(?:nypd|nysp)\b",
    r"\bstate\s+(?:police|troopers?)\b",
    r"\b(?:officer|detective|deputy|trooper|sergeant|sgt\.?)\s+[a-z'.-]+\s*(?:,|of|from|with)"
    r"\s*(?:the\s+)?(?:[a-z]+\s+){0,3}(?:police|sheriff|marshal|county)",
    r"\b(?:arrest\s+warrant|warrant\s+for\s+your\s+arrest)\b",
)

US_NY: Final = Pack(
    id="US-NY",
    title="New York overlay on Regulation F (whose own rules bind debt collectors only)",
    source="NY General Business Law art. 29-H (601, for principal creditors and their agents); "
    "23 NYCRR 1 (the Department of Financial Services', for debt collectors) was read and is "
    "left to Regulation F (see the end of this page)",
    extends=("US-RegF",),
    rules=(
        ContactHours(
            id="US-NY-HOURS",
            title="No communication with the debtor or their household before 08:00 or "
            "at/after 21:00, nor at times they named, whoever collects",
            citation='GBL 601(6): no principal creditor or his agent shall "communicate with '
            "the debtor or any member of his family or household with such frequency or at "
            "such unusual hours ... as can reasonably be expected to abuse or harass the "
            "debtor\"; the 08:00-21:00 window is Regulation F's (12 CFR 1006.6(b)(1)(i)), "
            "this library's default, not a number in the GBL",
            channels=_TIMED,
            start=time(8, 0),
            end=time(21, 0),
        ),
        FrequencyCap(
            id="US-NY-CALLS",
            title="At most 7 calls in 7 days to the debtor and the members of their family "
            "or household, together, across all their debts with the lender, whoever collects",
            citation='GBL 601(6) ("with such frequency ... as can reasonably be expected to '
            "abuse or harass the debtor\"); the 7 calls in 7 days are Regulation F's "
            "presumption (12 CFR 1006.14(b)(2)), this library's default, not a number in "
            "the GBL",
            channels=_CALLS,
            parties=_DIRECT,
            as_debtor=_NY_FAMILY,
            limit=7,
            days=7,
            per="person",
            across="debtor",
            scope_reason="per debtor, with their family and household, across every debt "
            "with the lender: "
            'GBL 601(6) weighs how often "the debtor or any member of his family or '
            'household" is communicated with, not how often about one claim',
            noun="calls",
        ),
        ForbiddenWording(
            id="US-NY-EMPLOYER",
            title="Never tell the debtor's employer about the claim before a final "
            "judgment, whoever collects",
            citation='GBL 601(4): no principal creditor or his agent shall "communicate or '
            "threaten to communicate the nature of a consumer claim to the debtor's employer "
            'prior to obtaining final judgment against the debtor" (the exception for a wage '
            "assignment the debtor consented to names the principal creditor only)",
            parties=frozenset({Party.EMPLOYER}),
            patterns=_NY_CLAIM_WORDS,
        ),
        ForbiddenWording(
            id="US-NY-THREATS",
            title="No threat to tell the debtor's employer, no posing as police or a New "
            "York state, city or county agency, whoever collects",
            citation='GBL 601(4) ("threaten to communicate the nature of a consumer claim to '
            'the debtor\'s employer"), in any tense or voice; 601(1) ("Simulate in any '
            "manner a law enforcement officer, or a representative of any governmental "
            'agency of the state of New York or any of its political subdivisions": the '
            "State Police, the NYPD, a county sheriff)",
            patterns=_NY_THREATS,
        ),
    ),
)

# New York City: 6 RCNY 5-77 (the Department of Consumer and Worker Protection's rules),
# adopted in August 2024, re-adopted with changes in February 2026 and in force since
# September 1, 2026.  The rule's own text was not found: what is encoded is what the DCWP's
# FAQs and reports state of it, each number marked [confirm] (docs/packs/US-NYC.md).  It
# binds "debt collectors", defined to include creditors collecting their own debts once an
# account enters collection ("[c]reditors collecting or attempting to collect in their name
# debts owed or asserted to be owed to them are still covered", DCWP FAQs): every role.
# The city has no ISO 3166 code: a lender reaches the pack by mapping US-NY to
# [US-NY, US-NYC], or by a policy of its own for the debtors it knows live in the city.
_NYC_ELECTRONIC: Final = frozenset({Channel.EMAIL, Channel.SMS})
# A one-word opt-out such as STOP, stated in the message.
_NYC_OPT_OUT: Final = (
    r"\b(?:reply|text|send|respond)(?:\s+with)?\s+[\"'“]?stop\b",
    r"\bunsubscribe\b",
)
US_NYC: Final = Pack(
    id="US-NYC",
    title="New York City overlay on New York: 6 RCNY 5-77 as the DCWP's guidance and reports "
    "state it, for creditors, debt collectors and debt buyers alike",
    source="6 RCNY 5-76 to 5-77 (the Department of Consumer and Worker Protection's debt "
    "collection rules, as amended in 2024 and 2026, in force since September 1, 2026), read "
    "through the DCWP's Frequently Asked Questions on New Rules for Debt Collectors and "
    "reports of the rule; its text was not found (see the end of this page)",
    extends=("US-NY",),
    rules=(
        FrequencyCap(
            id="US-NYC-CONTACTS",
            title="At most 3 communications or attempts in 7 days to the consumer, by every "
            "medium together, per account, whoever collects; the consumer's own contacts do "
            "not count",
            citation="6 RCNY 5-77 (DCWP, 2024, amended 2026): no more than three "
            "communications or attempted communications in any seven-day period across all "
            "media (Sheppard Mullin, August 2025, of the 2024 text; calls, e-mails, texts "
            "and social media: Tariq, 2024; NICE, 2026), counted "
            "per account since the 2026 text (Americollect, April 2026) [confirm]",
            parties=_DIRECT,
            limit=3,
            days=7,
            per="person",
            across="debt",
            scope_reason="per account: the 2026 text applies the cap to each account of a "
            "consumer with several debts (Americollect, April 2026) [confirm]",
            counted_channels=frozenset(Channel),
            # "communications or attempts": every outcome of an attempt of ours.
            counted_outcomes=_PLACED_ANY,
            noun="communications or attempts",
        ),
        MediumNeedsConsent(
            id="US-NYC-CONSENT",
            title="No e-mail or text message without the consumer's consent to that medium, "
            "but a reply to one they sent; an opt-out revokes it for that medium only, "
            "whoever collects",
            citation="6 RCNY 5-77 (DCWP, 2024, amended 2026): electronic communications "
            "(e-mail, text, social media) only with the consumer's consent, revocable "
            "(Sheppard Mullin, August 2025; Orrick, April 2025), a reply through the "
            "medium the consumer wrote by allowed (Tariq, of the 2024 text), a request to "
            "stop one electronic medium stopping that medium only (Americollect, April "
            "2026) [confirm]",
            channels=_NYC_ELECTRONIC,
            parties=_DIRECT,
            # "collectors [may] respond to you via the same electronic channel you use,
            # but only if you initiate the communication" (Tariq, of the 2024 text).
            reply_through_their_medium=True,
        ),
        MediumOptOut(
            id="US-NYC-OPTOUT",
            title="No contact by a medium or address the consumer opted out of; every e-mail "
            "and text tells how to stop it with one word (STOP), whoever collects",
            citation="6 RCNY 5-77 (DCWP, 2024, amended 2026): every electronic communication "
            'carries a free, one-word opt-out ("e.g., STOP", Sheppard Mullin, August 2025); '
            "a request to stop is specific to the electronic medium (Americollect, April "
            "2026) [confirm]",
            parties=_DIRECT,
            opt_out_phrases=_NYC_OPT_OUT,
        ),
        PlaceRestriction(
            id="US-NYC-WORK",
            title="No contact at work once the consumer said it is inconvenient there, "
            "whoever collects; one reply to a contact they started from there",
            citation="6 RCNY 5-77 (DCWP, 2024, amended 2026), the rule about workplace "
            "communications, from which the 2026 text removed the reference to the "
            "consumer's working hours (Americollect, April 2026); read as 12 CFR "
            "1006.6(b)(1)(ii) reads it, for every role [confirm]",
            parties=_DIRECT,
            notice="work_inconvenient",
        ),
        PlaceRestriction(
            id="US-NYC-EMPLOYER",
            title="No contact at work once it is known the employer prohibits it, unless the "
            "consumer consents directly, whoever collects",
            citation="6 RCNY 5-77 (DCWP, 2024, amended 2026), the rule about workplace "
            "communications (Americollect, April 2026); read as 12 CFR 1006.6(b)(3) reads "
            "it, for every role [confirm]",
            parties=_DIRECT,
            notice="employer_prohibits",
            reply_once=False,
        ),
        ReplyNeedsContact(
            id="US-NYC-REPLY",
            title="A contact marked reply answers a communication the consumer started, once, "
            "within 30 days, whoever collects; otherwise it is not a reply",
            citation="6 RCNY 5-77 as US-NYC-WORK and US-NYC-CONSENT read it (a response to the "
            "consumer's own communication), for every role: Regulation F's US-REPLY binds "
            "debt collectors only; the 30 days are this library's default [confirm]",
        ),
    ),
)

_UK_DEBT_WORDS: Final = (
    r"\bdebts?\b",
    r"\bowe[sd]?\b",
    r"\bcollect",
    r"\boverdue\b",
    r"\barrears\b",
    r"\bmissed payments?\b",
    r"\boutstanding balance\b",
    r"\bdefault(?:ed)?\b",
)

# CONC 7.15: once a debt is statute barred, nothing may suggest court action or that the
# debt can still be enforced through the courts.
_UK_ENFORCEABLE: Final = (
    r"\bsue\b",
    r"\bcourt\b",
    r"legal (?:action|proceedings)",
    r"\bCCJ\b",
    r"\bjudg(?:e)?ments?\b",
    r"\blegally (?:enforceable|obliged|bound|required)\b",
    r"\bbailiffs?\b",
    r"\benforcement (?:agents?|action)\b",
)

UK: Final = Pack(
    id="UK",
    title="United Kingdom: FCA CONC 7 and the Breathing Space regulations",
    locale="en-GB",
    source="FCA Handbook CONC 7; SI 2020/1311",
    rules=(
        ContactHours(
            id="UK-TIME",
            title="No contact at unreasonable times (default 08:00-21:00); respect the times "
            "the customer asked for",
            citation="FCA CONC 7.9.4R; the 08:00-21:00 window is this library's default, "
            "not a number in CONC",
            channels=_TIMED,
            start=time(8, 0),
            end=time(21, 0),
        ),
        PlaceRestriction(
            id="UK-WHERE",
            title="Respect where the customer asked not to be contacted: no contact at work "
            "once they said so, unless they agree again; one reply to a contact they started",
            citation='FCA CONC 7.9.4R ("when, where and how they may be contacted")',
            parties=_DIRECT,
            notice="work_inconvenient",
        ),
        MediumOptOut(
            id="UK-MEDIUM",
            title="Respect how the customer asked to be contacted: no contact by a medium or "
            "address they asked us not to use, except one electronic reply confirming it",
            citation='FCA CONC 7.9.4R ("when, where and how they may be contacted")',
        ),
        ThirdPartyLocationOnly(
            id="UK-3P",
            title="A third party is contacted only to find the customer, pass on a request to "
            "get in touch, or answer them, never told of the debt; only someone established to "
            "act for the customer (an executor, a debt adviser) is dealt with about it, never a "
            "spouse or a contact person as such",
            citation="FCA CONC 7.9.6R, 7.9.7R(2), 7.9.10R",
            once=False,
            scope_reason="nothing counted: CONC 7.9 sets no number of contacts with a third "
            "party (once is off)",
            allowed_purposes=frozenset(
                {Purpose.LOCATION, Purpose.RELAY, Purpose.REPLY, Purpose.REPRESENTATIVE}
            ),
            discloses_to=frozenset({Purpose.REPRESENTATIVE}),
            representatives=frozenset(
                {
                    Relationship.ATTORNEY,
                    Relationship.DEBT_ADVISER,
                    Relationship.EXECUTOR,
                    Relationship.ADMINISTRATOR,
                    Relationship.GUARDIAN,
                }
            ),
            debt_words=_UK_DEBT_WORDS,
        ),
        ForbiddenWording(
            id="UK-OCCUPIER",
            title='No demand or threat addressed to "the occupier" or to everyone at an address',
            citation="FCA CONC 7.9.11G (guidance) on CONC 7.9.10R",
            patterns=(
                r"\b(?:the|to the|dear)\s+occupiers?\b",
                r"\ball\s+(?:residents|occupants)\b",
            ),
        ),
        ForbiddenWording(
            id="UK-PRESSURE",
            title="No pressure to pay in one or a few large sums, within an unreasonably short "
            "time, or by selling property or borrowing; no threats of court to pressure",
            citation="FCA CONC 7.3.10R; CONC 7.3.18R (no threat of court action to pressurise "
            "a customer to pay more than they can reasonably afford)",
            patterns=(
                r"take you to court",
                r"court action (?:will|against you)",
                r"\bbailiffs?\b",
                r"\barrest",
                r"\bprison\b",
                r"\bjail\b",
                r"final chance",
                r"pay (?:now|today) or",
                r"\bsell (?:your|the) (?:house|home|car|property|belongings)\b",
                r"\b(?:borrow|take out (?:a|another) loan)\b[^.]{0,40}\bto (?:pay|clear)\b",
                r"\b(?:pay|clear) (?:the|your) (?:full|whole|entire) (?:balance|amount|debt) "
                r"(?:today|now|within (?:24|48) hours)",
            ),
        ),
        NoticeRequired(
            id="UK-FORBEAR",
            title="Offer forbearance (longer term, interest waiver, token payments, debt "
            "advice) before escalating",
            citation="FCA CONC 7.3.4R (forbearance and due consideration); examples in "
            "CONC 7.3.5G (guidance)",
            purposes=frozenset({Purpose.LEGAL_ACTION}),
            notice="forbearance",
        ),
        HoldBlocks(
            id="UK-VISIT",
            title="No field visit while the customer is known or suspected to be, or may be, "
            "vulnerable: a vulnerability, mental capacity or mental health crisis hold",
            citation='FCA CONC 7.9.14R(2): no visit "at a time when they know or suspect that '
            'the customer is, or may be, particularly vulnerable"; CONC 7.2.2G (mental health '
            "difficulties or mental capacity limitations); CONC 7.2.2AG (FCA FG21/1)",
            channels=frozenset({Channel.VISIT}),
            kinds=frozenset(
                {HoldKind.VULNERABLE, HoldKind.MENTAL_CAPACITY, HoldKind.MENTAL_HEALTH_CRISIS}
            ),
        ),
        HoldBlocks(
            id="UK-BS",
            title="Breathing space: from the day after its entry on the register to the end of "
            "the 60th day (London days); no contact demanding payment, replies to the "
            "debtor's own questions allowed",
            citation="SI 2020/1311 regs 7, 11, 25(2), 26",
            kinds=frozenset({HoldKind.BREATHING_SPACE}),
            default_days=60,
            first_day="next",
            calendar="Europe/London",
            exempt=frozenset({Purpose.REPLY}),
        ),
        HoldBlocks(
            id="UK-MHCM",
            title="Mental health crisis moratorium: for the crisis treatment and 30 days after "
            "it (the day treatment stops being the first), not 60 days; no contact demanding "
            "payment, replies to the debtor's own questions allowed",
            citation="SI 2020/1311 regs 7, 11, 28-32",
            kinds=frozenset({HoldKind.MENTAL_HEALTH_CRISIS}),
            ends_after_notice="crisis_treatment_ended",
            days_after_notice=30,
            calendar="Europe/London",
            exempt=frozenset({Purpose.REPLY}),
        ),
        TimeBarred(
            id="UK-TIMEBAR",
            title="Once the debt is statute barred (6 years from the first missed payment, or "
            "from a later acknowledgement or payment made before then), no court action and no "
            "suggestion of it or that the debt is still enforceable in court; no further demand "
            "once the customer says they will not pay because it is statute barred. For a "
            "Scottish debt set 5 years and extinguished: no demand at all once prescribed",
            citation="FCA CONC 7.15 (statute barred debts: 7.15.1G the six and five years; "
            "7.15.3G Scotland; 7.15.4R do not mislead; 7.15.7G no suggestion of court action; "
            "7.15.8R no demand after the customer's refusal); "
            "Limitation Act 1980 ss.5, 29(5), 29(7); Prescription and Limitation (Scotland) Act "
            "1973 s.6",
            limitation_years=6,
            threat_words=_UK_ENFORCEABLE,
            restarted_by="acknowledged",
            refusal_notice="statute_barred_refusal",
        ),
        HoldBlocks(
            id="UK-CAPACITY",
            title="Suspend recovery while the customer may lack the mental capacity to make "
            "decisions about the debt or to engage in its recovery: no contact with the "
            "customer until the hold is released (replies to their own questions allowed); "
            "someone established to act for them, such as the attorney under a registered "
            "lasting power of attorney, may still be dealt with",
            citation="FCA CONC 7.10.1R; a reasonable time for evidence, CONC 7.10.2G; a "
            "responsible third party acting with prior consent, CONC 7.10.3G",
            kinds=frozenset({HoldKind.MENTAL_CAPACITY}),
            parties=_DIRECT,
            calendar="Europe/London",
            exempt=frozenset({Purpose.REPLY}),
        ),
        ReplyNeedsContact(
            id="UK-REPLY",
            title="A contact marked reply answers a contact the customer (or the third party "
            "reached) started, once, within 30 days; otherwise it is not a reply",
            citation="SI 2020/1311 regs 7, 11 (a reply to the debtor's own query, as UK-BS and "
            "UK-MHCM read them); FCA CONC 7.9 (answering a third party who contacted the firm, "
            "UK-3P); CONC 7.10 (replies to the customer's own questions, UK-CAPACITY); the 30 "
            "days are this library's default, not a number in either text",
        ),
        _deceased("UK"),
    ),
)

PACKS: Final[dict[str, Pack]] = {
    pack.id: pack for pack in (CN, US_REGF, US_MA, US_NY, US_NYC, US_WA, UK)
}
"""Every registered pack, by id."""


def register_pack(pack: Pack) -> None:
    """Make *pack* available by its id (a lender's own pack, say).

    Raises:
        InvalidInput: the id is taken, or a pack it extends is unknown.
    """
    if pack.id in PACKS:
        raise InvalidInput("pack.id", pack.id, f"an id not among {sorted(PACKS)}")
    for base in pack.extends:
        if base not in PACKS:
            raise InvalidInput("pack.extends", base, f"one of {sorted(PACKS)}")
    PACKS[pack.id] = pack


def known_packs() -> frozenset[str]:
    """The ids of every registered pack."""
    return frozenset(PACKS)


def known_rule_ids() -> frozenset[str]:
    """The ids of every rule in every registered pack."""
    return frozenset(rule.id for pack in PACKS.values() for rule in pack.rules)


def locales_of(pack_ids: Sequence[str]) -> frozenset[str | None]:
    """The languages of the named packs' messages (`Pack.locale`), their bases' included.

    ``None`` among them when a pack, and none of its bases, says.

    Raises:
        InvalidInput: an unknown pack id.
    """
    found: set[str | None] = set()
    for pack_id in pack_ids:
        pack = PACKS.get(pack_id)
        if pack is None:
            raise InvalidInput("packs", pack_id, f"one of {sorted(PACKS)}")
        bases = locales_of(pack.extends) - {None}
        found.update({pack.locale} if pack.locale is not None else bases or {None})
    return frozenset(found)


def resolve(pack_ids: Sequence[str]) -> Iterator[Rule]:
    """The rules of the named packs, bases first, each pack once.

    Raises:
        InvalidInput: an unknown pack id.
    """
    seen: set[str] = set()

    def walk(pack_id: str) -> Iterator[Rule]:
        pack = PACKS.get(pack_id)
        if pack is None:
            raise InvalidInput("packs", pack_id, f"one of {sorted(PACKS)}")
        if pack_id in seen:
            return
        seen.add(pack_id)
        for base in pack.extends:
            yield from walk(base)
        yield from pack.rules

    for pack_id in pack_ids:
        yield from walk(pack_id)
