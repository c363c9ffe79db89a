"""What each rule's law says, in words, for the pack pages: the provision, its
exceptions and the edge cases, each shown by a scenario file.

`arrears.compliance.reference` writes these under the rule's heading on its
pack page.  A rule without a note gets its title, kind and parameters only.
"""

from __future__ import annotations

from typing import Final

__all__ = ["NOTES"]

_S: Final = "tests/scenarios/"


def _cases(*items: tuple[str, str]) -> str:
    return "\n".join(f"- {text} (`{_S}{path}`)" for text, path in items)


NOTES: Final[dict[str, str]] = {
    "US-TIME": (
        "**The law.** A debt collector may not communicate at a time it knows or should know "
        "is inconvenient; before 08:00 and from 21:00 at the consumer's location are "
        "inconvenient, unless the consumer consented directly (12 CFR 1006.6(b)(1)).\n\n"
        "**Consent has a scope.** A consent lifts the window only for what it covers: a "
        "consent recorded for `hours`, on that medium (a consent to calls covers voicemail), "
        "at that address, inside the window it names; a consent that names no window is a "
        "consent to be contacted now and lasts `consent_minutes`.\n\n"
        + _cases(
            (
                "a call at 21:20 after a consent at 21:10; 07:00 next day denied",
                "us_regf/time_direct_consent_after_2100.yaml",
            ),
            (
                "a consent for one number at 21:30-21:45 covers neither another number nor 21:50",
                "us_regf/time_consent_for_one_number_and_window.yaml",
            ),
            (
                "a consent to a late call does not cover a text at that hour",
                "us_regf/time_consent_for_calls_does_not_cover_texts.yaml",
            ),
        )
    ),
    "US-7IN7": (
        "**The law.** Placing a call to a person about a debt more than seven times in seven "
        "consecutive days, or within seven days after a telephone conversation about it (the "
        "conversation's day is day 1), is presumed harassment (12 CFR 1006.14(b)(2)). Calls "
        "not connected, and calls *placed with* the person's prior consent given directly "
        "within seven days of it (its day is day 1), do not count towards either test "
        "(1006.14(b)(3)).\n\n"
        "**How the engine reads it.** A consent carries what it covers (`covers: [calls]`), "
        "its medium and address, and its window (`from`, `until`); a call is placed with it "
        "only inside that window and within the seven days, whatever longer window the "
        "consumer named. A consent that names no scope or window is a consent to be called "
        "now (`consent_minutes`). An opt-out covering the call revokes it.\n\n"
        + _cases(
            (
                "the 8th counted call in seven days is denied",
                "us_regf/7in7_eighth_call_denied.yaml",
            ),
            (
                "a callback at the time the consumer asked for is allowed after a conversation",
                "us_regf/7in7_direct_consent_exempts.yaml",
            ),
            (
                "a callback this afternoon covers that call, not the next morning's",
                "us_regf/7in7_callback_consent_covers_only_that_call.yaml",
            ),
            (
                "a consent for three weeks covers calls for seven days only",
                "us_regf/7in7_consent_lapses_after_seven_days.yaml",
            ),
            (
                "a call that did not connect does not count",
                "us_regf/7in7_not_connected_not_counted.yaml",
            ),
        )
    ),
    "US-MIRANDA": (
        "**The law.** In its initial communication with a consumer a debt collector says that "
        "it is attempting to collect a debt *and* that any information obtained will be used "
        "for that purpose; if the initial communication was oral, its initial written "
        "communication says so too; every later communication says it is from a debt "
        "collector (12 CFR 1006.18(e)(1)-(2)). A limited-content message is not a "
        "communication (1006.2(j); comment 18(e)-1).\n\n"
        "**Edge cases.** The first written communication after an oral one is also a later "
        "communication, so it carries both statements (the reading that protects the "
        "consumer). A voicemail that conveyed information is an oral communication. Written "
        "means `letter`, `email` and `sms` (`written_channels`).\n\n"
        + _cases(
            (
                'saying only "debt collector" the first time is denied',
                "us_regf/miranda_first_communication.yaml",
            ),
            (
                "the first communication must also say how information will be used",
                "us_regf/miranda_first_needs_information_use_statement.yaml",
            ),
            (
                "the first letter after a call repeats the whole disclosure",
                "us_regf/miranda_initial_written_after_oral.yaml",
            ),
            (
                "that letter also says it is from a debt collector",
                "us_regf/miranda_initial_written_also_says_debt_collector.yaml",
            ),
            (
                "after a voicemail, the first text carries the whole disclosure",
                "us_regf/miranda_voicemail_then_first_text.yaml",
            ),
            (
                "after a written communication, the short statement is enough",
                "us_regf/miranda_later_letter_after_written_short_form.yaml",
            ),
            (
                "a limited-content voicemail is not the initial communication",
                "us_regf/miranda_first_communication_after_limited_content_voicemail.yaml",
            ),
        )
    ),
    "US-MEDIUM": (
        "**The law.** A debt collector must not communicate or attempt to communicate through "
        "a medium, or at an address or number, the person asked it not to use "
        "(12 CFR 1006.14(h)(1)). An attempt to communicate is any act to initiate contact, a "
        "limited-content message included (1006.2(b)), and a voicemail is left by placing a "
        "call: a request not to be called at a number covers prerecorded, ringless and "
        "limited-content voicemail to it. Exceptions: one electronic reply confirming an "
        "electronic opt-out, containing nothing else (1006.14(h)(2)(i)); a reply to a contact "
        "the person started through that medium (1006.14(h)(2)(ii)); what other law requires "
        "(1006.14(h)(2)(iii)). Every e-mail and text tells how to opt out (1006.6(e)).\n\n"
        "**How the engine reads it.** An opt-out naming a contact point covers every contact "
        "point with the same address. Only a consent recorded for the `medium` restores it; "
        "a consent to be contacted now does not. A confirmation is allowed once, by SMS or "
        "e-mail, through the medium opted out of; never by a call or voicemail.\n\n"
        + _cases(
            (
                "after an opt-out of texts, one confirming text, then none",
                "us_regf/medium_opt_out_of_texts.yaml",
            ),
            (
                "an opt-out of calls covers voicemail of every kind; texts stay allowed",
                "us_regf/medium_call_opt_out_covers_voicemail.yaml",
            ),
            (
                "an opt-out of calls is never confirmed by a call or voicemail",
                "us_regf/medium_call_opt_out_is_never_confirmed_by_a_call.yaml",
            ),
            (
                "an opt-out of all texts: one confirmation by text, nothing more",
                "us_regf/medium_text_opt_out_confirmed_by_text_only.yaml",
            ),
            (
                "an opt-out at a number covers the other contact points for it",
                "us_regf/medium_number_opt_out_covers_its_other_contact_points.yaml",
            ),
            (
                "an opt-out of e-mail: one confirming e-mail; calls allowed",
                "us_regf/medium_email_opt_out_confirmed_once_by_email.yaml",
            ),
            (
                "a consent to be contacted now leaves the opt-out in force",
                "us_regf/medium_callback_consent_leaves_opt_out_in_force.yaml",
            ),
            (
                "a consent for the medium restores it",
                "us_regf/medium_callback_consent_does_not_restore_opted_out_number.yaml",
            ),
        )
    ),
    "US-TCPA": (
        "**The law.** A call or text to a cell phone made with an autodialer, an artificial or "
        "prerecorded voice needs the called party's prior express consent "
        "(47 USC 227(b)(1)(A)); a revocation by any reasonable means is honoured "
        "(47 CFR 64.1200(a)(10)).\n\n"
        "**How the engine reads it.** The consent is the number's own (`consent: true` on the "
        "contact point) or one recorded for `automated` contact on that medium and address; "
        "it lasts until revoked or its `until`. A request to be called back is not one. An "
        "opt-out of calls revokes it for prerecorded voicemail too.\n\n"
        + _cases(
            (
                "consent given with the number, then revoked",
                "us_regf/tcpa_consent_given_then_revoked.yaml",
            ),
            (
                "a callback consent is not consent to autodialed calls",
                "us_regf/tcpa_callback_consent_alone_denied.yaml",
            ),
            (
                "a consent for automated calls lasts, for calls only",
                "us_regf/tcpa_callback_consent_is_not_automated_consent.yaml",
            ),
            (
                "an opt-out of calls revokes it for prerecorded voicemail",
                "us_regf/tcpa_call_opt_out_revokes_prerecorded_voicemail.yaml",
            ),
        )
    ),
    "US-MA": (
        "**The law.** A creditor may not initiate more than two communications by telephone "
        "(a call, a text message or a recorded audio message) in each seven-day period to "
        "the debtor's residence, cell phone or other personal number, per debt "
        "(940 CMR 7.04(1)(f)). A call the creditor places is an initiated communication "
        "whether or not anyone answers and whether or not the creditor leaves a message, "
        "autodialed or not (*Armata v. Target Corp.*, 480 Mass. 14 (2018)). Only a creditor "
        "truly unable to reach the debtor or to leave a message is exempt (Attorney General's "
        "guidance, 2013).\n\n"
        "**How the engine reads it.** Counted: `no_answer`, `voicemail` (limited-content "
        "ones included), `conversation`, `delivered`, `wrong_party` (someone answered the "
        "debtor's number: the creditor reached it). Exempt: `busy`, `not_connected`, "
        "`failed` (unable to reach the debtor or leave a message) and the debtor's own "
        "messages (`reply`). A ring-out with no voicemail box is exempt in law, but the "
        "outcome `no_answer` does not tell it apart from a choice not to leave a message, so "
        "it counts unless the lender overrides `counted_outcomes` with its own record.\n\n"
        + _cases(
            (
                "two delivered texts use up the week",
                "us_ma/personal_number_two_communications_per_week.yaml",
            ),
            (
                "calls that rang out without a message count",
                "us_ma/unanswered_calls_count_as_communications.yaml",
            ),
            (
                "busy and unconnected calls are exempt",
                "us_ma/busy_and_not_connected_calls_are_exempt.yaml",
            ),
            ("failed texts are exempt, delivered ones count", "us_ma/failed_texts_are_exempt.yaml"),
            ("autodialed calls count", "us_ma/autodialed_calls_count.yaml"),
            (
                "a call answered by someone else counts",
                "us_ma/call_answered_by_someone_else_counts.yaml",
            ),
            (
                "the debtor's own texts do not count",
                "us_ma/debtor_reply_is_not_initiated_by_creditor.yaml",
            ),
            ("limited-content voicemails count", "us_ma/limited_content_voicemails_count.yaml"),
            (
                "calls to a neighbour do not count",
                "us_ma/third_party_communications_not_counted.yaml",
            ),
        )
    ),
    "US-MA-OTHER": (
        "**The law.** Two initiated communications in each 30-day period to numbers other "
        "than the debtor's residence, cell phone or personal number, per debt "
        "(940 CMR 7.04(1)(f)); counted as for `US-MA`.\n\n"
        + _cases(
            (
                "the work line: a third message in 30 days is denied",
                "us_ma/work_number_two_communications_per_30_days.yaml",
            ),
        )
    ),
    "UK-BS": (
        "**The law.** A standard breathing space moratorium starts on the day after the "
        "Secretary of State enters it on the register (SI 2020/1311 regs 25(2), 26(1)) and "
        "continues for 60 days beginning with that day (reg 26(2)): it ends at the end of "
        "the 60th day. While it lasts the creditor may not charge interest or fees or take "
        "enforcement action, nor contact the debtor to demand payment (regs 7, 11); a reply "
        "to the debtor's own query is allowed. It ends earlier on cancellation (a released "
        "hold) or the debtor's death.\n\n"
        "**How the engine reads it.** The days are London days (`calendar`); the hold blocks "
        "from the moment it is recorded, and the day it is recorded stands for the day of "
        "the entry (a notice comes on or after that day, so the end is never early). A "
        "lender that knows the entry day may record the hold's `until` instead.\n\n"
        + _cases(
            ("contact demanding payment is denied", "uk/breathing_space_collection_denied.yaml"),
            ("a reply to the debtor's query is allowed", "uk/breathing_space_reply_allowed.yaml"),
            (
                "the moratorium ends at the end of day 60, day 1 being the day after the entry",
                "uk/breathing_space_ends_at_end_of_sixtieth_day.yaml",
            ),
            (
                "London days across the change from summer time",
                "uk/breathing_space_counts_london_days.yaml",
            ),
            ("contact resumes after the 60 days", "uk/breathing_space_ends_after_sixty_days.yaml"),
        )
    ),
    "UK-MHCM": (
        "**The law.** A mental health crisis moratorium (SI 2020/1311 Part 3, regs 28-32) is "
        "for a debtor receiving mental health crisis treatment; it has the same effect as a "
        "breathing space (regs 7, 11) but no 60-day limit: it ends at the end of the period "
        "of 30 days beginning with the day the debtor stops receiving crisis treatment "
        "(reg 32), or earlier on cancellation or death.\n\n"
        "**How the engine reads it.** Record it as a `mental_health_crisis` hold; it blocks "
        "until released or until 30 London days from the day recorded by the notice "
        "`crisis_treatment_ended` (that day counted), when the notice comes after the hold "
        "began. A hold `until` recorded from the register's notice of its end is used as "
        "given.\n\n"
        + _cases(
            (
                "still in force after 90 days; a reply is allowed",
                "uk/mental_health_crisis_lasts_beyond_sixty_days.yaml",
            ),
            (
                "ends at the end of 30 days from the day treatment stopped",
                "uk/mental_health_crisis_ends_thirty_days_after_treatment.yaml",
            ),
            (
                "a treatment end from before the moratorium does not end it",
                "uk/mental_health_crisis_treatment_end_before_moratorium_ignored.yaml",
            ),
            (
                "an end date recorded with the hold, across the clock change",
                "dst/london_breathing_space_ends_across_change.yaml",
            ),
        )
    ),
    "CN-HOURS": (
        "**The rule.** No collection contact from 22:00 to 08:00 unless agreed with the "
        "debtor (national standard 2025) [confirm]. The agreement covers the contact the "
        "debtor agreed to: a consent for `hours` inside its window, or for `consent_minutes` "
        "after a consent to be contacted now.\n\n"
        + _cases(
            ("a call at 22:15 the debtor asked for", "cn/hours_agreed_by_debtor.yaml"),
            (
                "that agreement does not cover 23:30 or 07:00",
                "cn/hours_agreed_only_for_the_agreed_call.yaml",
            ),
        )
    ),
    "CN-THIRD-PARTY": (
        "**The rule.** The national standard 互联网金融 个人网络消费信贷 贷后催收风控指引 "
        "(2025): collect only from the debtor, never from contact persons "
        "(只向债务人催收，不应向联系人催收). A contact person may be contacted only when the "
        "debtor cannot be reached (to restore contact), or has died or lacks capacity (to "
        "reach heirs or others concerned); they may only be asked for a way to reach the "
        "debtor or to pass on a message, never told the amount or age of the debt. If they "
        "refuse, or ask not to be contacted again, they are not contacted again. When a "
        "contact person says they will pay for the debtor, the information needed to pay may "
        "be given.\n\n"
        "**How the engine reads it.** Allowed purposes: `location`, `relay` and `reply` (an "
        "answer to the contact person, which alone may carry payment details). Unreachable "
        "means the last 3 attempts to reach the debtor failed [confirm]. A refusal is an "
        "opt-out on any medium at any of the person's contact points (or a contact point "
        "marked `opted_out`) and stops every medium at every contact point with that "
        "address. The case does not know which other numbers belong to the same person: "
        "record the refusal against each of them.\n\n"
        + _cases(
            (
                "only when the debtor is unreachable",
                "cn/third_party_only_when_debtor_unreachable.yaml",
            ),
            (
                "after three failed attempts, a relay without the debt",
                "cn/third_party_after_three_failed_attempts.yaml",
            ),
            ("never asked to pay", "cn/third_party_never_asked_to_pay.yaml"),
            (
                "a refusal on a call stops texts too",
                "cn/third_party_refusal_covers_every_medium.yaml",
            ),
            ("a refusal by text stops calls", "cn/third_party_refusal_by_text_stops_calls.yaml"),
            (
                "a refusal binds that person only",
                "cn/third_party_refusal_does_not_bind_another_person.yaml",
            ),
            ("a refusal on file before the case", "cn/third_party_marked_refused_on_file.yaml"),
            (
                "an offer to pay may be answered with payment details",
                "cn/third_party_reply_to_offer_to_pay.yaml",
            ),
            (
                "the debtor has died: relay to reach the estate",
                "cn/deceased_contact_person_instead.yaml",
            ),
        )
    ),
}
