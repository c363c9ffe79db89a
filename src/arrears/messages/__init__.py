"""Messages: templates that state the facts, read well, fit an SMS and obey the law.

`TemplateSet` loads templates per name, channel and locale from files and
renders them in Jinja2's sandbox, strictly: a missing variable is an error.
Every rendered message is checked before it is returned: the facts its kind
must state (`MESSAGE_KINDS`), the content rules of the compliance packs
(forbidden wording, required disclosures, opt-out wording, third-party
safety), and for an SMS its length in parts (`sms_segments`).  A message that
fails is refused with `MessageRefused`, naming the template, the rule and the
match.  `TemplateSet.check` runs the same checks on sample values, as a
policy loads.

`context_for` gives a case's facts under the names templates use
(`template_context` only the costly ones a template reads, `review_context`
with the deadline a review gives a step's message); amounts and
dates print as the locale writes them (`format_money`, `format_date`).
"""

from ._errors import MessageRefused, TemplateProblem, UnknownTemplate
from .content import CONTENT_RULE_KINDS, THIRD_PARTY_SAFE, content_rules, judge_text
from .context import (
    CONTEXT_VARIABLES,
    LenderDetails,
    agreed_deadline,
    context_for,
    review_context,
    sample_context,
    template_context,
)
from .formatting import (
    babel_locale,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
)
from .kinds import DEBT_VARIABLES, MESSAGE_KINDS, MessageKind, register_kind
from .sms import GSM7_BASIC, GSM7_EXTENDED, SmsLength, sms_segments
from .templates import (
    DEFAULT_MAX_SEGMENTS,
    TEMPLATE_CHANNELS,
    MessageTemplate,
    RenderedMessage,
    TemplateMeta,
    TemplateSet,
)

__all__ = [
    "CONTENT_RULE_KINDS",
    "CONTEXT_VARIABLES",
    "DEBT_VARIABLES",
    "DEFAULT_MAX_SEGMENTS",
    "GSM7_BASIC",
    "GSM7_EXTENDED",
    "MESSAGE_KINDS",
    "TEMPLATE_CHANNELS",
    "THIRD_PARTY_SAFE",
    "LenderDetails",
    "MessageKind",
    "MessageRefused",
    "MessageTemplate",
    "RenderedMessage",
    "SmsLength",
    "TemplateMeta",
    "TemplateProblem",
    "TemplateSet",
    "UnknownTemplate",
    "agreed_deadline",
    "babel_locale",
    "content_rules",
    "context_for",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "format_percent",
    "judge_text",
    "register_kind",
    "review_context",
    "sample_context",
    "sms_segments",
    "template_context",
]
