"""Compliance: rules that judge every contact before it happens.

A `Compliance` holds the rules of one or more jurisdiction packs (``CN``,
``US-RegF``, ``US-MA``, ``US-WA``, ``UK``) with the lender's overrides and
rules of its own.  `Compliance.judge` answers "may we make this contact
now?" with a `Verdict`: allowed, or denied with every reason (rule id,
citation, the values compared) and the next moment it would be allowed.
`arrears.Engine.judge_contact` does the same for a case in the engine and
journals every denial.
"""

from .core import Compliance
from .history import (
    CONSENT_SCOPES,
    NOW_SCOPES,
    OPT_OUT_COVERS,
    Attempt,
    ContactHistory,
    Preference,
)
from .model import Judgement, Proposal, Purpose, Reason, Verdict, VisitDetails, zones_for_address
from .packs import PACKS, Pack, known_packs, known_rule_ids, register_pack
from .rules import (
    AutomatedNeedsConsent,
    ContactHours,
    FieldVisitStaffing,
    ForbiddenWording,
    FrequencyCap,
    FunctionRule,
    HoldBlocks,
    LimitedContent,
    MediumOptOut,
    NoContactOnHolidays,
    NoticeRequired,
    PassiveReporting,
    RecordRetention,
    RequiredWording,
    Rule,
    ThirdPartyLocationOnly,
    ThirdPartyWhenUnreachable,
    TimeBarred,
    ValidationNoticeDue,
    WorkEmailNeedsConsent,
    business_days_after,
    earliest_local,
    local_moment,
    opted_out_since,
    rule,
    validation_period_end,
)

__all__ = [
    "CONSENT_SCOPES",
    "NOW_SCOPES",
    "OPT_OUT_COVERS",
    "PACKS",
    "Attempt",
    "AutomatedNeedsConsent",
    "Compliance",
    "ContactHistory",
    "ContactHours",
    "FieldVisitStaffing",
    "ForbiddenWording",
    "FrequencyCap",
    "FunctionRule",
    "HoldBlocks",
    "Judgement",
    "LimitedContent",
    "MediumOptOut",
    "NoContactOnHolidays",
    "NoticeRequired",
    "Pack",
    "PassiveReporting",
    "Preference",
    "Proposal",
    "Purpose",
    "Reason",
    "RecordRetention",
    "RequiredWording",
    "Rule",
    "ThirdPartyLocationOnly",
    "ThirdPartyWhenUnreachable",
    "TimeBarred",
    "ValidationNoticeDue",
    "Verdict",
    "VisitDetails",
    "WorkEmailNeedsConsent",
    "business_days_after",
    "earliest_local",
    "known_packs",
    "known_rule_ids",
    "local_moment",
    "opted_out_since",
    "register_pack",
    "rule",
    "validation_period_end",
    "zones_for_address",
]
