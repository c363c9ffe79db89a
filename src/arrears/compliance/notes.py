"""What each rule's law says, in words, for the pack pages: the provision, its
exceptions and the edge cases, each shown by a scenario file.

`arrears.compliance.reference` writes these under the rule's heading on its
pack page.  A rule without a note gets its title, kind and parameters only.
"""

from __future__ import annotations

from typing import Final

__all__ = ["NOTES", "PACK_NOTES"]

_S: Final = "tests/scenarios/"


def _cases(*items: tuple[str, str]) -> str:
    return "\n".join(f"- {text} (`{_S}{path}`)" for text, path in items)


#: Which debts a moratorium holds, for `UK-BS` (and `UK-MHCM`, which refers to it).
_MORATORIUM_DEBTS: Final = (
    "**Which debts.** SI 2020/1311 reg 6: \"A 'moratorium debt' is any qualifying debt— (a) "
    "that was incurred by a debtor in relation to whom a moratorium is in place, (b) that "
    "was owed by the debtor at the point at which the application for the moratorium was "
    "made, and (c) about which information has been provided to the Secretary of State by "
    'a debt advice provider under these Regulations." Regs 7 and 11 protect the moratorium '
    'debts (no contact "in relation to a moratorium debt"), and a creditor told of a '
    "moratorium searches its records for the debtor's other debts and tells the debt "
    "advice provider (reg 14), who may add them (reg 15). By default the hold is the "
    "customer's: recorded on one debt, it is journaled on every debt of theirs with the "
    "lender (`arrears.holds.HOLD_REACH`), the reading that protects, since the search "
    "normally brings the other debts in. A lender that records the moratorium on the debts "
    "the notice lists only places the hold with `reach: case` "
    '(`add_hold(..., reach="case")`) on each of them, citing reg 6; a debt added later '
    "under reg 15 gets a hold of its own.\n\n"
)

#: How the engine reads a reply, the same in every pack's ``*-REPLY`` rule.
_REPLY_READING: Final = (
    "**How the engine reads it.** A proposal's purpose is the lender's word for what a "
    "contact is. A contact with purpose `reply` is denied unless the person it reaches "
    "started a contact (`inbound: true`, or an outcome `reply`) at "
    "or before it, within `within_days` (30 by default: the law sets no time, and an "
    "answer a month on is a new contact; a lender may lengthen it, shorten it, or set "
    "`null` for none), and no reply of ours has answered it since: one reply answers "
    "every contact before it, so a second reply needs a new contact from them. The "
    "person is the one reached: the debtor's own contact opens a reply to the debtor at "
    "any of their contact points, a spouse's a reply to the spouse, a contact person's "
    "a reply to them; a third party no person names is matched by the contact point or "
    "its address (`Judgement.replying`).\n\n"
    "A response to the person's communication is one response whatever loan it is "
    "filed under: their contacts and our replies on every case of the debtor count, so "
    "the debtor who phones about one loan may be answered on another, and one reply "
    "answers them on every loan (no second reply to one contact through another loan). "
    "A reply journaled in the outbox (`outbox_intent` with purpose `reply`) answers from "
    "the moment it is journaled, before it is sent: no second reply is approved while "
    "the first waits.\n\n"
    "A reply that answers nothing is denied, not judged as a collection contact: the "
    "purpose stays the lender's statement, and a wrong one (often a workflow's bug) is "
    "shown rather than silently re-read; it is never journaled as a reply, which later "
    "judgments would read as the answer given; and what only a reply may say (a contact "
    "person's payment details) never goes to someone who asked nothing. No time lifts "
    "the denial (`next_allowed_at` is none): propose the contact as `collection`, or "
    "record the person's contact first.\n\n"
)

NOTES: Final[dict[str, str]] = {
    "US-TIME": (
        "**The law.** A debt collector may not communicate at a time it knows or should know "
        "is inconvenient; before 08:00 and from 21:00 at the consumer's location are "
        "inconvenient, unless the consumer consented directly (12 CFR 1006.6(b)(1)).\n\n"
        "**Consent has a scope.** A consent lifts the window only for what it covers: a "
        "consent recorded for `hours`, on that medium (a consent to calls covers voicemail), "
        "at that address, inside the window it names; a consent that names no window is a "
        "consent to be contacted now and lasts `consent_minutes`.\n\n"
        "**Across the consumer's debts.** A time the collector knows is inconvenient it "
        "knows whichever debt it calls about: the times named on any of the consumer's "
        "debts are honoured on all (`named_times_reach: debtor`; a lender may set `debt`). "
        "A consent widens what may be done, so it reaches only what the consumer agreed to: "
        "the debt it was given on.\n\n"
        "**Whose time.** A time a person other than the debtor names (a spouse: "
        "`record_inconvenient(..., person=...)`) is inconvenient to them: it binds contacts "
        "with that person only, the consumer communicated with. The debtor's named times "
        "bind every contact on the case.\n\n"
        + _cases(
            (
                "a time the spouse named binds calls to the spouse, not to the debtor",
                "persons/regf_spouse_speaks_for_themselves.yaml",
            ),
            (
                "a time named on one debt is inconvenient for calls about each",
                "debtors/us_inconvenient_time_named_on_one_loan_applies_on_all.yaml",
            ),
            (
                "a consent to a late call about one debt does not cover another",
                "debtors/us_consent_given_on_one_loan_stays_on_it.yaml",
            ),
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
        '**Student loans.** "For purposes of this paragraph (b), particular debt means each '
        "of a consumer's debts in collection. However, in the case of student loan debts, "
        "the term particular debt means all student loan debts that a consumer owes or "
        "allegedly owes that were serviced under a single account number at the time the "
        'debts were obtained by a debt collector" (1006.14(b)(4), the eCFR text). A case '
        "says it is one with `student_loan: {account: ...}`, the account number the loans "
        "were serviced under when the collector obtained them (not a later servicer's); "
        "the calls on every case of the debtor with that account count together, and a "
        "denial names the loans counted as one. Any other debt, a student loan serviced "
        "under an account of its own included, is a particular debt by itself.\n\n"
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
                "a call on the consent's seventh day is still not counted",
                "us_regf/7in7_consent_covers_its_seventh_day.yaml",
            ),
            (
                "a call that did not connect does not count",
                "us_regf/7in7_not_connected_not_counted.yaml",
            ),
            (
                "a call the consumer made is not one placed: it is not counted",
                "persons/regf_inbound_call_not_counted.yaml",
            ),
            (
                "a conversation the consumer started begins the seven quiet days (the text "
                "names no caller: the reading that protects the consumer)",
                "persons/regf_inbound_conversation_starts_quiet_days.yaml",
            ),
            (
                "two student loans of one account: seven calls across them, the 8th denied "
                "on either; the debtor's car loan is its own debt",
                "debtors/us_7in7_student_loans_of_one_account_one_debt.yaml",
            ),
            (
                "two student loans serviced under different accounts are counted apart",
                "debtors/us_7in7_student_loans_of_two_accounts_two_debts.yaml",
            ),
            (
                "a call to a number the debtor and spouse share counts for both, whomever it "
                "was meant for (the reading that protects the consumer)",
                "persons/regf_a_shared_number_rings_for_everyone_on_it.yaml",
            ),
        )
    ),
    "US-3P": (
        "**The law.** A debt collector may not communicate about a debt with anyone but the "
        "consumer, the consumer's attorney, a consumer reporting agency, the creditor and the "
        "attorneys of the creditor or collector (12 CFR 1006.6(d)(1)), except to acquire "
        "location information, and then not more than once with the same person "
        "(1006.10(c)). For 1006.6 the consumer includes the consumer's spouse, the parent of a "
        "consumer who is a minor, the guardian, and the executor or administrator of the "
        "estate, if the consumer is deceased (1006.6(a)(1)-(4), 1006.2(e)).\n\n"
        "**How the engine reads it.** A person's relationship decides: `spouse`, `guardian`, "
        "`executor`, `administrator` (the consumer) and `attorney` (no third party) are not "
        "judged by this rule (`as_debtor`). A `parent` is the consumer only while the lender "
        "records the consumer as a minor (`as_debtor_minor`): a case keeps no birth date, "
        "the lender records what it learns, a `debtor_minor` notice when the consumer is a "
        "minor and a `debtor_of_age` notice when they come of age (`record_notice`). "
        "Without the notice a parent is a third party, the reading that protects the "
        "consumer, since what may be said to the consumer may then be said to the parent; "
        "while the consumer is a minor the parent is the consumer for `US-CEASE` and "
        "`US-ATTY` too, so a written request to stop and the consumer's attorney reach "
        "contacts with the parent. A lender may set `as_debtor_minor: []` in its overrides "
        "(a parent always a third party) or add `parent` to `as_debtor` (always the "
        "consumer). Being a minor is a fact about the person, not a debt: the notice may be "
        "recorded on any of the debtor's cases, and the latest `debtor_minor` or "
        "`debtor_of_age` on any of them decides on each, so a parent's written request to "
        "stop received about one loan binds contacts with them about every loan it names. "
        "A `child`, `sibling`, `relative` or `household` member (a housemate) is a third "
        "party, as a contact person is: 1006.6(a) names no other family or household, so they "
        "are asked for location information only, once, and never told about the debt. "
        "An `executor` or `administrator` is the consumer only while a `deceased` hold is in "
        "force: before, the case records no death, and they are a third party (`other`). "
        '"Once per person" counts the person across their contact points, and across the '
        "consumer's debts with the lender (`across: debtor`): the person is asked where the "
        "consumer is, which no debt changes, so a person asked about one debt has been asked. "
        "On another debt's case the person is matched by their id, or, for a contact point "
        "naming no person, by the number or address.\n\n"
        + _cases(
            (
                "a person asked about one debt is not asked again about another",
                "debtors/us_third_party_asked_once_across_debts.yaml",
            ),
            (
                "the spouse may hear about the debt, an adult's parent and a contact person not",
                "persons/regf_spouse_is_the_consumer.yaml",
            ),
            (
                "the parent of a consumer recorded as a minor is the consumer",
                "persons/regf_parent_of_a_minor_is_the_consumer.yaml",
            ),
            (
                "a written request to stop reaches the parent of a consumer recorded as a minor",
                "persons/regf_request_to_stop_reaches_a_minors_parent.yaml",
            ),
            (
                "once the consumer has come of age the parent is a third party again",
                "persons/regf_parent_is_a_third_party_once_the_minor_comes_of_age.yaml",
            ),
            (
                "a consumer recorded as a minor on one loan is a minor on every loan: their "
                "parent's request to stop about the other loan binds them as the consumer's",
                "debtors/us_minor_recorded_on_one_loan_reaches_every_loan.yaml",
            ),
            (
                "after a divorce is recorded the former spouse is a third party; an executor "
                "added after the death is the consumer",
                "persons/regf_divorce_makes_the_spouse_a_third_party.yaml",
            ),
            (
                "the executor of a living consumer's estate is a third party",
                "persons/regf_executor_of_a_living_consumer_is_a_third_party.yaml",
            ),
            (
                "once the consumer has died, the executor and the administrator are the consumer",
                "persons/regf_executor_is_the_consumer_after_death.yaml",
            ),
            (
                "a neighbour with two numbers is asked for location information once",
                "persons/regf_third_party_two_numbers_one_person.yaml",
            ),
            ("once per person", "us_regf/3p_location_information_once.yaml"),
            (
                "the consumer's child and housemate are third parties: location only, once",
                "persons/regf_child_and_housemate_are_third_parties.yaml",
            ),
        )
    ),
    "US-WA": (
        '**The law.** A communication is presumed to have been made to harass if "it is made '
        "with a debtor or spouse in any form, manner, or place, more than three times in a "
        "single week, unless the licensee is responding to a communication from the debtor "
        'or spouse" (RCW 19.16.250(13)(a)); at the debtor\'s place of employment, "more than '
        'one time in a single week" ((13)(b)); with the debtor or spouse at their place of '
        'residence "between the hours of 9:00 p.m. and 7:30 a.m." ((13)(c)).\n\n'
        "The text read is RCW 19.16.250 as amended by 2019 c 227 and 2019 c 201 (the Code "
        "Reviser's publication).\n\n"
        "**How the engine reads it.** The debtor and a person of relationship `spouse` are "
        "counted together (`as_debtor`), on any of their contact points: the fourth "
        "communication in the week with either is denied. The count is of communications "
        'with the debtor, "any person owing or alleged to owe a claim" (RCW '
        "19.16.100(8)), whichever of their debts with the lender each was about "
        "(`across: debtor`); the library counted each debt apart before, which allowed three "
        'a week per loan. "In any form, manner, or place" takes in a visit: visits are '
        "judged and counted with calls, texts, e-mails and letters (they were left out "
        "before). A communication the debtor or "
        "spouse started (`inbound`) is not one the agency initiated and is not counted. "
        "The statute names the spouse alone: the debtor's other family (`parent`, `child`, "
        "`sibling`, `relative`), a `household` member, contact persons and the employer are "
        "not counted here (Regulation F's rules judge them as third parties). A reply to a "
        "communication "
        "the debtor or the spouse started (`purpose: reply`, checked by `US-REPLY`: the "
        "spouse's contact opens a reply to the spouse) is the statute's exception: it is not "
        "judged, but counts toward the three, as in `US-WA-CELL`. `US-WA-WORK` ((13)(b)) "
        "excepts a reply to the debtor's own contact the same way.\n\n"
        + _cases(
            (
                "past the three, a reply to the debtor's own call is allowed",
                "us_wa/three_a_week_reply_to_the_debtor_allowed.yaml",
            ),
            (
                "past the three, a reply to the spouse's own text is allowed",
                "persons/wa_spouse_text_answered_past_three_a_week.yaml",
            ),
            (
                "past the one a week at work, a reply to the debtor's call from work",
                "us_wa/work_reply_to_the_debtor_allowed.yaml",
            ),
            (
                "two texts to the debtor and one to the spouse: the fourth with either is denied",
                "persons/wa_debtor_and_spouse_share_three_a_week.yaml",
            ),
            (
                "a text the spouse sent us is not counted",
                "persons/wa_inbound_not_counted.yaml",
            ),
            (
                "two texts about one loan and an e-mail about another use up the week",
                "debtors/us_wa_three_a_week_across_loans.yaml",
            ),
            (
                "a visit counts with the texts, and one past the three is denied",
                "us_wa/visit_is_a_communication_in_any_form.yaml",
            ),
        )
    ),
    "US-WA-WORK": (
        '**The law.** A communication is presumed to harass if "it is made with a debtor at '
        "his or her place of employment more than one time in a single week, unless the "
        'licensee is responding to a communication from the debtor" (RCW 19.16.250(13)(b)).'
        "\n\n"
        "**How the engine reads it.** One communication a week on the debtor's contact points "
        "at work (`work: true`, a visit at work included), whichever of the debtor's debts "
        "it was about, as `US-WA` counts; a reply to the debtor's own communication "
        "(`purpose: reply`, checked by `US-REPLY`) is not judged but counts. A call to the "
        "employer is a third-party contact, not a communication with the debtor at work.\n\n"
        + _cases(
            (
                "a second communication at work in the week is denied",
                "us_wa/work_one_communication_per_week.yaml",
            ),
            (
                "the debtor's work numbers share the one",
                "us_wa/work_numbers_share_one_allowance.yaml",
            ),
            (
                "a reply to the debtor's call from work is allowed",
                "us_wa/work_reply_to_the_debtor_allowed.yaml",
            ),
            (
                "a call to the employer is not the week's communication at work",
                "us_wa/employer_call_is_not_the_weekly_work_communication.yaml",
            ),
        )
    ),
    "US-WA-HOURS": (
        '**The law.** A communication is presumed to harass if "it is made with the debtor or '
        "spouse at his or her place of residence between the hours of 9:00 p.m. and 7:30 "
        "a.m. A call to a telephone is presumed to be received in the local time zone to "
        "which the area code of the number called is assigned for landline numbers, unless "
        "the licensee reasonably believes the telephone is located in a different time "
        'zone" (RCW 19.16.250(13)(c)); a number whose area code has no geographic area (a '
        "toll-free number) is presumed to ring in the zone of the debtor's last known "
        "residence.\n\n"
        "**How the engine reads it.** Every contact but a letter, with anyone, on any contact "
        "point not at work, is judged in the debtor's time zone when the case records it "
        "(what the licensee reasonably believes); otherwise in every zone the debtor's "
        "numbers admit, as `US-TIME` does. Unlike (13)(a) and (b), which except a response "
        "to the debtor's own communication, (13)(c) names no exception: a consent the "
        "debtor gives does not lift it (`consent_lifts: false`), where it lifts Regulation "
        "F's `US-TIME` (12 CFR 1006.6(b)(4)). The library let a consent lift it before; a "
        "lender that reads the debtor's own request as rebutting the presumption sets "
        "`consent_lifts: true` in its overrides. A contact at 21:00 is denied and one at "
        "07:30 allowed, as the window is written in `US-TIME`.\n\n"
        + _cases(
            (
                "a call home at 07:15 is denied, 21:00 too",
                "us_wa/home_hours_before_0730_denied.yaml",
            ),
            (
                "the debtor's consent does not lift it",
                "us_wa/home_hours_consent_does_not_lift.yaml",
            ),
            (
                "a lender that lets the consent lift it",
                "overrides/us_wa_hours_lender_lets_consent_lift.yaml",
            ),
        )
    ),
    "US-WA-THREATS": (
        '**The law.** No licensee shall "communicate with a debtor or anyone else in such a '
        "manner as to harass, intimidate, threaten, or embarrass a debtor, including but not "
        "limited to communication at an unreasonable hour, with unreasonable frequency, by "
        "threats of force or violence, by threats of criminal prosecution, and by use of "
        'offensive language" (RCW 19.16.250(13)); nor "threaten the debtor with impairment '
        "of his or her credit rating if a claim is not paid: PROVIDED, That advising a "
        "debtor that the licensee has reported or intends to report a claim to a credit "
        "reporting agency is not considered a threat if the licensee actually has reported "
        'or intends to report the claim" ((11)); nor "in any manner convey the impression '
        "that the licensee is vouched for, bonded to or by, or is an instrumentality of the "
        'state of Washington or any agency or department thereof" ((20)); nor "publish or '
        "post or cause to be published or posted, any list of debtors commonly known as "
        "'bad debt lists' or threaten to do so\" ((3)); nor \"advertise for sale or threaten "
        "to advertise for sale any claim as a means of endeavoring to enforce payment "
        'thereof" ((6)).\n\n'
        "**How the engine reads it.** The message text is searched for a threat to ruin or "
        "damage the debtor's credit (rating, score, history), a threat of violence, "
        'profanity and name-calling ("deadbeat", "scum"), and a '
        "claim to be vouched for, bonded, backed or approved by the State of Washington or "
        "to be one of its agencies, a bad-debt list, publishing or posting the debtor's "
        "name, and advertising the debt or claim for sale ((3), (6): posting a list or an "
        "advertisement is done outside the engine; a message that names one or threatens "
        "it is judged). Saying the claim has been or will be reported to a "
        "credit reporting agency is not matched. Threats of arrest or criminal prosecution "
        "and posing as the police are `US-FALSE`'s (Regulation F), which judges the same "
        "roles.\n\n"
        '**Whom it binds.** Licensees: RCW 19.16.250 speaks to them, and a "collection '
        'agency" is one collecting claims "owed or due or asserted to be owed or due '
        'another person", a debt buyer, or one collecting its own claim under "a fictitious '
        'name or any name other than his or her own" (RCW 19.16.100(4), read in the code '
        "as published by wa-law.org and instalawyer.io). The rule judges the roles "
        "`collector` and `debt_buyer`; a creditor collecting its own debt in its own name is "
        "not a licensee, and one that collects under another name sets its role to "
        "`collector`. The words are judged in every message with a text, whoever it is to "
        '("a debtor or anyone else", (13)).\n\n'
        + _cases(
            (
                "a threat to ruin the credit, a claim of the state's bond, name-calling, a "
                "bad-debt list and advertising the debt for sale are denied; saying the "
                "claim was reported goes",
                "us_wa/no_threat_to_credit_rating_or_state_backing.yaml",
            ),
            (
                "a threat of force and a slur are denied; a plain demand goes",
                "us_wa/threats_hurt_you_and_slurs_denied.yaml",
            ),
            (
                "a creditor collecting its own debt is not judged by it",
                "us_wa/threats_rule_does_not_bind_a_creditor.yaml",
            ),
        )
    ),
    "US-WA-NOTICE": (
        '**The law.** No licensee shall "give or send to any debtor or cause to be given or '
        "sent to any debtor, any notice, letter, message, or form, other than through proper "
        "legal action, process, or proceedings, which represents or implies that a claim "
        "exists unless it shall indicate in clear and legible type: (a) The name of the "
        "licensee and the city, street, and number at which he or she is licensed to do "
        "business\" (RCW 19.16.250(8)); (b) to (e) add the original creditor's name, if "
        "known, and, in the first notice, an itemization of the claim.\n\n"
        "**How the engine reads it.** Every written message to the debtor is judged: a "
        'letter, an e-mail and a text (a "message" in type), but a limited-content '
        "message, which implies no claim. The engine does not know the licensee's name nor "
        "where it is licensed. By default the text must give a whole street address: a "
        "number and a street (or a post office box), then the city, a comma, the state and "
        "the ZIP code (a number and some words alone are no street); the "
        "licensee's name is a fact with no pattern, not judged until the lender gives one. "
        "The patterns find an address, not the licensee's: a lender names itself and its "
        "licensed address in its overrides, which the "
        'protective reading asks of it: `{"US-WA-NOTICE": {"required": {"the '
        'licensee\'s name": ["Cascade Recovery,? LLC"], "the street and number at '
        'which the licensee is licensed": ["1200 Fifth Ave(nue)?"], "the city at '
        'which the licensee is licensed": ["Seattle,? WA 98101"]}}}` (each fact '
        'given; a fact with no pattern is not judged). A lender that reads "message" as '
        'not reaching a text narrows the channels (`{"channels": ["letter", '
        "\"email\"]}`). Only the text sent is read: the type's clarity, (8)(b)'s creditor "
        "and the first notice's itemization ((8)(c), (e)) are not judged (see below).\n\n"
        + _cases(
            (
                "a letter and a text with no address are denied; a letter and an e-mail "
                "with the street, number and city are allowed",
                "us_wa/notice_shows_the_licensee_and_its_address.yaml",
            ),
            (
                "a number and some words are no street, words before a ZIP code no city; "
                "a street needs no suffix word",
                "us_wa/notice_an_address_is_a_whole_address.yaml",
            ),
            (
                "a lender that names itself and its licensed address",
                "overrides/us_wa_notice_lender_names_itself.yaml",
            ),
        )
    ),
    "US-WA-CELL": (
        '**The law.** No licensee shall "call, or send a text message or other electronic '
        "communication to, a cellular telephone or other wireless device more than twice in "
        "any day when the licensee knows or reasonably should know that the number belongs "
        "to a cellular telephone or other wireless device, unless the licensee is responding "
        "to a communication from the debtor or the person to whom the call, text message, or "
        'other electronic communication is made" (RCW 19.16.250(18)). It "is not in violation '
        "of this subsection if the licensee at least monthly updates its records with "
        'information provided by a commercial provider of cellular telephone lists" and '
        "calls a number not on the latest list; nothing in it increases the three a week of "
        "(13)(a).\n\n"
        "**How the engine reads it.** A case does not say which numbers are mobiles, and "
        "most are: every number is judged as one (the reading that protects the debtor) "
        "unless its contact point is marked `landline: true`. Marking a number a landline "
        "is the lender's relaxation, for the numbers it knows are not mobiles (for example "
        "those absent from a cellular list it updates at least monthly, the statute's safe "
        "harbour); turning the rule off (`enabled: false`) drops it for every number. The "
        "count is per number, whoever answers and whichever of the debtor's loans the calls "
        "and texts were about, over a calendar day in the debtor's time; every call placed "
        "and text sent counts, answered or not. A reply to a communication the person "
        "started (`purpose: reply`, a reply only while it answers their own contact: "
        "`US-REPLY`) is not judged, but counts toward the two: whether a "
        "response counts is not said, and counting it protects the debtor. A call or text "
        "the person started (`inbound`) is not one of ours. E-mail is not sent to a number "
        "and is not counted. The three a week of `US-WA` still apply.\n\n"
        + _cases(
            ("a third call or text in a day is denied", "us_wa/cell_two_calls_or_texts_a_day.yaml"),
            ("the second call is allowed", "us_wa/cell_second_call_of_the_day_allowed.yaml"),
            (
                "a reply to the debtor's text is allowed",
                "us_wa/cell_reply_to_the_debtor_allowed.yaml",
            ),
            ("a number marked a landline is not judged", "us_wa/cell_landline_not_limited.yaml"),
            (
                "calls about two loans count together",
                "debtors/us_wa_cell_two_a_day_across_loans.yaml",
            ),
        )
    ),
    "US-WA-CELL-WEEK": (
        "**The law.** RCW 19.16.250(17) forbids calls and telegrams whose charges the "
        'addressee pays, with this proviso: "(a) This subsection does not prohibit a '
        "licensee from attempting to communicate by way of a cellular telephone or other "
        "wireless device: PROVIDED, That a licensee cannot cause charges to be incurred to "
        "the recipient of the attempted communication more than three times in any calendar "
        "week when the licensee knows or reasonably should know that the number belongs to a "
        "cellular telephone or other wireless device, unless the licensee is responding to a "
        'communication from the debtor or the person to whom the call is made." (b) is the '
        "safe harbour of a cellular list updated at least monthly, as in (18); (c): the "
        "subsection does not increase the three communications a week of (13)(a).\n\n"
        "**How the engine reads it.** The collector cannot know whether the recipient's plan "
        "charges for a call or a text, so every call, voicemail and text placed to a number "
        "that may be a mobile counts, answered or not (the reading that protects); numbers "
        'are judged as mobiles unless marked `landline: true`, as for `US-WA-CELL`. "Any '
        "calendar week\" is read by default as any seven consecutive days in the debtor's "
        "calendar: the statute does not say which day a calendar week starts on, and seven "
        "rolling days hold every calendar week to three, whichever its first day, so the "
        "default keeps a lender within any reading (it does not allow three on a Saturday "
        "and three more on the Sunday). A lender that reads the statute's words sets the "
        "week's first day in its overrides, `week_starts: monday` or `sunday` "
        '(`{"US-WA-CELL-WEEK": {"week_starts": "monday"}}`, citing RCW 19.16.250(17)(a)): '
        "the count is then per calendar week, from midnight of its first day in the "
        "debtor's time, whatever the clocks do that week, and a denied attempt is allowed "
        "again when the next week starts. The three are the recipient's: the count is per "
        "person, across all their numbers that may be mobiles, whichever loan the attempts "
        "were about (the library counted each number apart before, which let a debtor with "
        "two mobiles be called six times a week). A call placed to one of a person's "
        "numbers counts for them whomever it was meant for, so each number is held to three "
        "as well; a contact point that names no person is counted alone. The attempts on a "
        "number marked `landline: true` are neither judged nor counted: no charge falls on "
        "a mobile's recipient. An attempt recorded on another of the debtor's loans is a "
        "landline's when this case marks its number so. (17) names no spouse, unlike "
        "(13)(a): the debtor's spouse is a recipient of their own, with three of their own "
        "(`US-WA` still counts the communications with both together). A reply "
        "(`purpose: reply`, checked by `US-REPLY`) is the statute's exception: not judged, "
        "but counted. The defaults protect the debtor; what a lender may relax is its own "
        "to establish: marking the numbers it knows are landlines, counting calendar weeks "
        "(`week_starts`), or, knowing the recipients bear no charges, turning the rule off "
        "(`enabled: false`); the count cannot be narrowed back to one number "
        "(`per: contact`), which the text does not read. `US-WA` and `US-WA-CELL` still "
        "apply beside it.\n\n"
        + _cases(
            (
                "a fourth attempt in a week to a mobile is denied; a landline is not judged",
                "us_wa/cell_three_a_week_to_a_mobile.yaml",
            ),
            (
                "a debtor's two mobiles share the three, the landline calls are not counted, "
                "the spouse's mobile has three of its own",
                "us_wa/cell_three_a_week_per_person_across_mobiles.yaml",
            ),
            (
                "a reply to the debtor's text is allowed past the three",
                "us_wa/cell_three_a_week_reply_allowed.yaml",
            ),
            (
                "attempts about two loans count together",
                "debtors/us_wa_cell_three_a_week_across_loans.yaml",
            ),
            (
                "by default, three attempts Thursday to Saturday deny a fourth on the Monday",
                "us_wa/cell_week_default_counts_any_seven_days.yaml",
            ),
            (
                "a lender that counts calendar weeks from Monday allows it",
                "overrides/us_wa_cell_week_lender_counts_calendar_weeks.yaml",
            ),
            (
                "a calendar week across the change to summer time",
                "dst/los_angeles_calendar_week_across_spring_forward.yaml",
            ),
        )
    ),
    "US-VALID": (
        "**The law.** Within five days after the initial communication with a consumer in "
        "connection with the collection of a debt, the debt collector sends the validation "
        "notice (12 CFR 1006.34(a)(1)). The pack ships the rule switched off: a lender that "
        "records its validation notices here (`notice_sent`, kind `validation`) turns it "
        "on.\n\n"
        "**Across the consumer's debts.** The initial communication is the first about "
        "this debt: recorded on its case, or recorded on another of the consumer's debts "
        "and naming it (`about`): a conversation about two debts starts the five days of "
        "each, and each debt needs its own notice.\n\n"
        + _cases(
            (
                "a conversation about two debts starts the days of each",
                "debtors/us_validation_due_after_a_call_about_two_debts.yaml",
            ),
            (
                "a limited-content voicemail does not start them",
                "us_regf/valid_limited_content_voicemail_is_not_first_communication.yaml",
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
        "**Across the consumer's debts.** The initial communication is read on the debt's "
        "own case: the first communication recorded on it carries both statements, even "
        "when a call recorded on another debt was about it too (the reading that asks for "
        "more).\n\n"
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
        "a consent to be contacted now does not.\n\n"
        '**The response to their own contact.** "If a person initiates contact with a debt '
        "collector using an address or a telephone number that the person previously "
        "requested the debt collector not use, the debt collector may respond once to that "
        'person-initiated communication" (1006.14(h)(2)(ii)). A contact marked `reply` '
        "that answers a contact the person started after the opt-out (`inbound: true`, or an "
        "outcome `reply`), through the medium opted out of, goes back through it to the same "
        "address (`reply_through_their_medium`): once, since `US-REPLY` allows one reply per "
        "contact they start. A contact they started by another medium (a call, after an "
        "opt-out of e-mail) opens no reply through the medium opted out of.\n\n"
        "**The one confirmation.** It is a reply to the request, so it goes back through "
        "the medium the request came by, recorded with the opt-out (`via`: "
        '`record_opt_out(..., via="sms")`, scenario key `via`): a STOP texted is confirmed '
        "by one text; a request e-mailed not to text by one e-mail (which the opt-out does "
        "not stop), never a text; a request made on the phone or by letter by no "
        "confirmation through the medium opted out of, and never by a call or voicemail. It "
        "is allowed once, and only for an opt-out of an electronic medium. An opt-out "
        "recorded without `via` (journals from before it was recorded, a contact point on "
        "file as opted out) does not say how it was asked: no confirmation is allowed "
        "through the medium opted out of. The confirmation is the collector's option, "
        "never the person's right, so denying it costs the person nothing, while a message "
        "through the medium they stopped, by a request that may have come another way, is "
        "the harm the rule prevents. A lender that reads an unrecorded request as made "
        "through the medium opted out of (the library's earlier reading) sets "
        "`confirm_unknown_via: true`.\n\n"
        "**Across the person's debts.** The request is the person's, made \"in connection "
        'with the collection of a debt": the pack reads it as reaching every debt of the '
        "person with this lender, the reading that protects (`reach: debtor`): an opt-out "
        "recorded on one debt stops the medium, or the number or address (matched by address "
        "whatever its id on each debt), on all of them, debts opened later included, and the "
        "one confirmation is one across them. A lender that reads it per debt sets `reach: "
        "debt`. A consent that restores the medium reaches only the debt it was given on.\n\n"
        '**The opt-out statement.** A debt collector communicating electronically "must '
        "include in such communication or attempt to communicate a clear and conspicuous "
        "statement describing a reasonable and simple method by which the consumer can opt out "
        "of further electronic communications or attempts to communicate by the debt collector "
        'to that address or telephone number" (12 CFR 1006.6(e)). The text of every SMS and '
        "e-mail must describe a method (`opt_out_phrases`: *reply/text STOP*, *unsubscribe*, "
        '*opt out*); the bare word "stop" in another sentence is not one. Letters need none. '
        "The rule speaks of the consumer; the pack asks it of every text and e-mail, those to "
        "other people included (the reading that protects; narrow `text_channels` or the "
        "phrases to relax it). The procedures of 1006.6(d)(3)-(5) for choosing an e-mail "
        "address or a number to text are a safe harbour against liability for reaching a "
        "third party by mistake, not a prohibition: no rule here.\n\n"
        "**Whose request.** A request by a person other than the debtor (a spouse, an "
        "executor: `record_opt_out(..., person=...)`) not to use a whole medium binds "
        'contacts with that person only: "with the person if the person has requested". '
        "The debtor's binds every contact on the case; a request about one address binds "
        "every contact at that address.\n\n"
        + _cases(
            (
                "the spouse's own opt-out of texts and inconvenient time bind the spouse only",
                "persons/regf_spouse_speaks_for_themselves.yaml",
            ),
            (
                "an opt-out of texts to a number on one debt stops them on every debt",
                "debtors/us_medium_opt_out_on_one_loan_reaches_every_loan.yaml",
            ),
            (
                "a lender that narrows it to the debt",
                "debtors/us_medium_lender_narrows_opt_outs_to_the_debt.yaml",
            ),
            (
                "a text without a way to opt out is denied",
                "us_regf/medium_text_must_offer_opt_out.yaml",
            ),
            (
                "an e-mail from the address opted out of is answered once by e-mail to it, no more",
                "us_regf/medium_reply_once_through_the_opted_out_address.yaml",
            ),
            (
                "a call from the consumer opens no reply by e-mail after an opt-out of e-mail",
                "us_regf/medium_reply_to_a_call_not_through_the_opted_out_medium.yaml",
            ),
            (
                "an e-mail from the consumer recorded without its address opens no reply",
                "us_regf/medium_reply_not_to_a_contact_from_no_known_address.yaml",
            ),
            (
                "an e-mail says how to opt out of e-mail",
                "us_regf/medium_email_must_offer_opt_out.yaml",
            ),
            (
                'the word "stop" alone is not a method',
                "us_regf/medium_the_word_stop_alone_is_not_a_method.yaml",
            ),
            ("letters need no opt-out statement", "us_regf/medium_letters_need_no_opt_out.yaml"),
            (
                "a location text to a relative carries one too",
                "us_regf/3p_location_text_also_offers_opt_out.yaml",
            ),
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
                "texts stopped by an e-mail: confirmed by e-mail, never by a text",
                "us_regf/medium_text_opt_out_asked_by_email_confirmed_by_email.yaml",
            ),
            (
                "texts stopped on the phone: no confirming text",
                "us_regf/medium_text_opt_out_asked_on_the_phone_not_confirmed_by_text.yaml",
            ),
            (
                "how the opt-out was asked is not recorded: no confirmation",
                "us_regf/medium_opt_out_not_saying_how_asked_is_not_confirmed.yaml",
            ),
            (
                "a lender reads an unrecorded opt-out as asked by the medium opted out of",
                "overrides/us_medium_unrecorded_opt_out_confirmed_when_the_lender_says.yaml",
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
        "**Whom it binds.** Every role. 940 CMR 7.03 defines a creditor widely (its agents "
        "and attorneys, a buyer of delinquent debt who hires a collector) and the Attorney "
        "General applies 940 CMR 7.00 to third-party collection agencies too; licensed debt "
        "collectors have the same two-in-seven-days cap in 209 CMR 18.16(1)(d), which counts "
        "the communications they engage the consumer in. One rule, counted the stricter way, "
        "judges creditors, collectors and debt buyers alike.\n\n"
        "**How the engine reads it.** Counted: `no_answer`, `voicemail` (limited-content "
        "ones included), `conversation`, `delivered`, `wrong_party` (someone answered the "
        "debtor's number: the creditor reached it). Exempt: `busy`, `not_connected`, "
        "`failed` (unable to reach the debtor or leave a message) and the debtor's own "
        "messages (`reply`). A ring-out with no voicemail box is exempt in law, but the "
        "outcome `no_answer` does not tell it apart from a choice not to leave a message, so "
        "it counts unless the lender overrides `counted_outcomes` with its own record. "
        "The cap is on communications with the debtor: 7.04 governs contact with the debtor, "
        "and persons residing in the debtor's household other than the debtor have their "
        "own section, 7.05 (a creditor may assume that a contact directed to the household "
        "reaches the debtor or them, 7.05(1)). So the debtor's family and household members "
        "(`spouse`, `child`, `household`…) are not counted with the debtor here; 7.05(3)(d)'s "
        "own count of calls to them is `US-MA-HOUSEHOLD`'s.\n\n"
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
            (
                "the home line and the cell phone share the week's two",
                "us_ma/numbers_of_a_kind_are_counted_together.yaml",
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
            (
                "the office line and the work mobile share the two",
                "us_ma/numbers_of_a_kind_are_counted_together.yaml",
            ),
        )
    ),
    "US-MA-HOUSEHOLD": (
        "**The law.** It is unfair for a creditor to contact persons who reside in the "
        'household of a debtor, other than the debtor, by "engaging any person in '
        "communications via telephone, initiated by the creditor, in excess of two calls in "
        "each seven-day period at a debtor's residence and two calls in each 30-day period "
        "other than at a debtor's residence, for each debt\" (940 CMR 7.05(3)(d)); a creditor "
        "may assume that contacts directed to the debtor's household reach the debtor or "
        "the persons residing there (7.05(1)). This rule is the seven-day cap; "
        "`US-MA-HOUSEHOLD-OTHER` is the 30-day one.\n\n"
        "**Whom it binds.** Every role, as `US-MA`: 940 CMR 7.00 binds creditors, widely "
        "defined, and the Attorney General applies it to collection agencies.\n\n"
        '**How the engine reads it.** The count is each household member\'s ("any person"), '
        "per debt, on the numbers at the residence: a home landline (a contact point marked "
        "`landline`, not at work). Their mobiles and their work numbers are away from it, "
        "`US-MA-HOUSEHOLD-OTHER`'s: 7.05(3)(d) speaks of calls \"at a debtor's residence\" "
        "where 7.04(1), for the debtor, names \"the debtor's place of residence, cellular "
        "telephone, or other telephone number provided by the debtor as his or her personal "
        'telephone number" (7.04(1)(e), calls "subject to the limitations set forth in 940 '
        'CMR 7.04(1)(f)"); 7.05 names no cellular telephone, and a mobile rings wherever its '
        "owner is, so a household member's own mobile takes the stricter 30-day count. The "
        'definitions of 940 CMR 7.03 ("communication", "creditor", "debtor") were '
        "searched for in the published copies of the regulation (Justia, Cornell) and not "
        "found; 7.04 to 7.08 were read there, and 7.03 only as other texts quote its "
        '"creditor", so the reading rests on the words of 7.04 and 7.05, which name no '
        '"household" apart from "persons who reside in the household of a debtor". A '
        "number not marked `landline` may be a mobile: a lender that knows a "
        "household member's home line marks it `landline` to give it the residence's two a "
        "week. The debtor is not judged here (7.04(1)(f), `US-MA`), nor "
        "is a person who does not reside with them (a neighbour, a contact person: 7.06). "
        "A case records how a person stands to the debtor, not where they live: read in the "
        "debtor's favour, every family member (`spouse`, `parent`, `child`, `sibling`, "
        "`relative`) is taken to reside with them, with the `household` member; a lender who "
        "knows who lives there narrows `relationships` in its overrides. The text counts "
        '"calls"; read in the debtor\'s favour, texts and voicemails count and are judged '
        "too, as 7.04(1)(f) treats them as communications via telephone, and what counts is "
        "what `US-MA` counts (a call that rang out included, *Armata*); a call or text the "
        "household member started is not initiated by the creditor and never counts. A "
        "lender may narrow `channels` and `counted_outcomes` in its overrides.\n\n"
        + _cases(
            (
                "the wife's third call in the week is denied; the son and the debtor are not",
                "us_ma/household_member_two_calls_per_week.yaml",
            ),
            (
                "calls the housemate started do not count",
                "us_ma/household_member_own_calls_not_counted.yaml",
            ),
            (
                "a lender that knows only the housemate lives there narrows `relationships`",
                "overrides/us_ma_household_lender_names_who_resides.yaml",
            ),
        )
    ),
    "US-MA-HOUSEHOLD-OTHER": (
        "**The law.** Two calls in each 30-day period other than at the debtor's residence, "
        "for each debt, to each person residing in the debtor's household "
        "(940 CMR 7.05(3)(d)); counted as for `US-MA-HOUSEHOLD`, on the member's numbers "
        "away from the residence, together: their work numbers and every number that may be "
        "a mobile (not marked `landline`), their own mobile included. The library read a "
        "household member's mobile as at the residence (two a week) before; a lender that "
        "holds that reading turns both household rules off and adds its own caps split by "
        "`work`, as they were.\n\n"
        + _cases(
            (
                "the father's work line: a third call in 30 days is denied; a neighbour is "
                "not judged",
                "us_ma/household_member_work_number_two_calls_per_30_days.yaml",
            ),
            (
                "her mobile and her work line share the two in 30 days; her home landline "
                "has its own two a week",
                "us_ma/household_member_own_mobile_is_away_from_the_residence.yaml",
            ),
        )
    ),
    "US-MA-HOURS": (
        "**The law.** It is an unfair or deceptive act for a creditor to contact persons who "
        "reside in the debtor's household by \"(e) Placing telephone calls at times known to "
        "be times other than the normal waking hours of the person called, or if normal "
        "waking hours are not known, at any time other than between 8:00 A.M. and 9:00 P.M. "
        'eastern time" (940 CMR 7.05(3)(e)), and "A creditor may assume that all contacts '
        "directed to the debtor's household are received either by the debtor or persons "
        'residing in the household of the debtor" (7.05(1)); read in the code as published '
        "by Justia. A call to the household is thus held to the household's waking hours, "
        'whoever answers. Licensed debt collectors assume "the convenient time for '
        "communicating with a consumer is after 8:00 A.M. and before 9:00 P.M at the "
        "consumer's location\" (209 CMR 18.16(1)(a), read at Cornell LII).\n\n"
        "**Whom it binds.** Every role: Regulation F's hours (`US-TIME`) bind debt "
        "collectors only, so without this rule a creditor collecting its own debt would "
        "call a Massachusetts debtor at night. Read in the debtor's favour, it judges every "
        "number of the debtor and texts as well as calls (940 CMR 7.04(1)(f) counts texts "
        "as communications via telephone); a lender may narrow `channels` in its overrides.\n\n"
        "**How the engine reads it.** The window is 08:00 to 21:00 in the debtor's local "
        "time (Eastern, the regulation's, for a debtor in Massachusetts). Normal waking hours "
        "that are known are the times the debtor named as inconvenient "
        "(`record_inconvenient`, scenario event `inconvenient`): a night worker who sleeps "
        "08:00-16:00 is not called then, though it is inside the window "
        "(`honour_named_times`). A consent the debtor gives for `hours` lifts it, as in "
        "`US-TIME`: a debtor who asks to be called at 21:30 tells the creditor that hour is "
        'a waking one, and 209 CMR 18.16(1) excepts "the prior consent of the consumer '
        'given directly to the debt collector". A lender that will not rely on it sets '
        "`consent_lifts: false`.\n\n"
        + _cases(
            (
                "a creditor's call at 21:30 and text at 07:45 are denied",
                "jurisdictions/us_creditor_ma_debtor_calls_in_waking_hours.yaml",
            ),
            (
                "the hours a night worker named as asleep bind a creditor inside 08:00-21:00",
                "us_ma/hours_debtor_named_waking_hours_bind_a_creditor.yaml",
            ),
            (
                "one creditor, a Massachusetts and a New York debtor: each state's hours",
                "debtors/us_ma_and_ny_debtors_of_one_creditor.yaml",
            ),
            (
                "one collector, the same two debtors",
                "debtors/us_ma_and_ny_debtors_of_one_collector.yaml",
            ),
        )
    ),
    "US-NY-HOURS": (
        '**The law.** "No principal creditor, as defined by this article, or his agent shall: '
        "... Communicate with the debtor or any member of his family or household with such "
        "frequency or at such unusual hours or in such a manner as can reasonably be expected "
        'to abuse or harass the debtor" (GBL 601(6)). A principal creditor is the person to '
        "whom a consumer claim is owed, any assignee for value, and a buyer of defaulted debts "
        "whose principal purpose is collecting them (GBL 600(3)); "
        "the agency collecting for either is the agent.\n\n"
        "**Whom it binds.** Every role: without it a creditor collecting its own debt, whom "
        "Regulation F's hours (`US-TIME`) do not bind, would call a New York debtor at "
        "night.\n\n"
        "**How the engine reads it.** The statute names no hours. The rule reads unusual "
        "hours as Regulation F's presumption, before 08:00 and from 21:00 at the debtor's "
        "location (12 CFR 1006.6(b)(1)(i)), this library's default: a lender may move "
        "`start` and `end` in its overrides. Times the debtor named as inconvenient are "
        "refused too, and a consent to be contacted at a late hour lifts the rule for what it "
        "covers, as for `US-TIME`: a call the debtor asked for cannot be expected to harass "
        "them. It judges every medium but letters (judged when they arrive), and every "
        "person: the family and household the statute names, and anyone else.\n\n"
        + _cases(
            (
                "a creditor's call at 21:30 and text at 07:45 are denied",
                "us_ny/creditor_calls_in_waking_hours.yaml",
            ),
            (
                "a late call the debtor asked for is allowed, a text then is not",
                "us_ny/late_call_the_debtor_asked_for.yaml",
            ),
            (
                "a creditor and an agency, each with a Massachusetts and a New York debtor",
                "debtors/us_ma_and_ny_debtors_of_one_creditor.yaml",
            ),
        )
    ),
    "US-NY-CALLS": (
        "**The law.** No principal creditor or his agent shall communicate with the debtor or "
        'any member of his family or household "with such frequency ... as can reasonably be '
        'expected to abuse or harass the debtor" (GBL 601(6)).\n\n'
        "**Whom it binds.** Every role (see `US-NY-HOURS`). A debt collector is also bound "
        "by Regulation F's count per debt (`US-7IN7`); this rule adds the count per debtor.\n\n"
        "**How the engine reads it.** The statute names no number: the rule takes Regulation "
        "F's presumption, more than 7 calls in 7 consecutive days (12 CFR 1006.14(b)(2)), as "
        "this library's default. What it weighs is how often the debtor is called, not how "
        "often about one claim: the calls to the debtor about every debt with the lender "
        "count together (`across: debtor`), with those to every member of the debtor's family "
        "or household a case records (`as_debtor`): `spouse`, `parent`, `child`, `sibling`, "
        "`relative` and `household` (someone living with the debtor who is not family, a "
        "housemate). A `guardian`, an attorney or a contact person is neither as such: one "
        "who is family is recorded as family. Every call placed counts, answered or not, "
        "voicemail included; a call the "
        "person started (`inbound`) does not. Calls to a contact person or the employer are "
        "not counted here. A lender may lower `limit`; raising it, or counting per debt, "
        "is its own reading of the statute, to be documented.\n\n"
        + _cases(
            (
                "calls about two loans count together: the eighth in the week is denied",
                "us_ny/seven_calls_in_seven_days_across_loans.yaml",
            ),
            (
                "an agency within Regulation F's count per debt is denied by the count per debtor",
                "us_ny/collector_counts_per_debtor_where_regf_counts_per_debt.yaml",
            ),
            (
                "the spouse's and the parent's calls count with the debtor's; a contact "
                "person's and the debtor's own do not",
                "us_ny/spouse_calls_count_with_the_debtor.yaml",
            ),
            (
                "the child's and the housemate's calls count with the debtor's",
                "us_ny/child_and_housemate_count_with_the_debtor.yaml",
            ),
        )
    ),
    "US-NYC-CONTACTS": (
        "**The law.** 6 RCNY 5-77, the Department of Consumer and Worker Protection's "
        "rule, as reported: a debt collector may not communicate or attempt to communicate "
        "with a consumer more than three times in any seven-day period, across all channels "
        '(Sheppard Mullin, August 2025, of the 2024 text; "phone calls, emails, texts, and '
        'social media messages", Tariq; "three attempts within seven days", NICE, of the '
        "2026 text). The 2024 text counted the attempts for each non-affiliated creditor; "
        'the 2026 text "[c]hanged the communication frequency cap for all debt collectors '
        "collecting multiple debts from the same consumer to applying on a per-account "
        "basis\" (Americollect, April 2026). The rule's own words were not read [confirm].\n\n"
        '**Whom it binds.** Every role: the rule\'s "debt collector" includes a creditor '
        'collecting its own debts once an account enters collection ("[c]reditors '
        "collecting or attempting to collect in their name debts owed or asserted to be "
        'owed to them are still covered", DCWP FAQs as quoted by Orrick, April 2025).\n\n'
        "**How the engine reads it.** Every communication or attempt of the lender's to "
        "the consumer counts, by any medium: calls placed (answered or not, busy or not "
        "connected), voicemail, texts and e-mails (delivered or failed), letters and "
        "visits, and a message whose fate is unknown. The reports name no exception "
        "for letters: the protective reading counts them, and a lender that reads the rule "
        "otherwise narrows `counted_channels` in its overrides and documents why. A "
        "contact the consumer started (`inbound`) is not one of the lender's and does not "
        "count; a reply to it is the lender's and counts. The count is per account "
        "(`across: debt`): each of the consumer's loans has its own three, and loans the "
        "lender groups as one debt count together. The window is seven calendar days in "
        "the consumer's time, today included. New York's count per debtor (`US-NY-CALLS`) "
        "still counts every loan's calls together, and Regulation F's (`US-7IN7`) binds a "
        "debt collector too.\n\n"
        + _cases(
            (
                "a call, an e-mail and a letter are three: a fourth call or text in the week "
                "is denied; the consumer's own call does not count",
                "us_nyc/three_contacts_in_seven_days_by_every_medium.yaml",
            ),
            (
                "three attempts about the card deny a fourth about it, not a call about the "
                "car loan",
                "us_nyc/each_account_counts_its_own_three.yaml",
            ),
            (
                "a debt buyer's policy naming `US-NYC`: a text with consent is the third "
                "contact of the week, a call after it is denied",
                "us_nyc/debt_buyer_policy_for_city_debtors.yaml",
            ),
            (
                "a lender that reads the cap as not counting letters narrows `counted_channels`",
                "overrides/us_nyc_letters_not_counted_when_the_lender_reads_it_so.yaml",
            ),
        )
    ),
    "US-NYC-CONSENT": (
        "**The law.** As reported of 6 RCNY 5-77: e-mail, text and social-media contact "
        "require the consumer's written, revocable consent (Sheppard Mullin, August 2025; "
        '"obtain consumer consent for electronic communications with clear opt-out '
        'options", Orrick on the DCWP FAQs, April 2025); collectors may answer through '
        "the electronic channel the consumer used, when the consumer started the "
        'communication (Tariq, of the 2024 text); the 2026 text "[s]treamlined the '
        'process for a consumer to consent to electronic communication" and made a '
        "request to stop electronic communications specific to the medium (Americollect, "
        "April 2026) [confirm].\n\n"
        "**Whom it binds.** Every role (see `US-NYC-CONTACTS`). Regulation F asks no "
        "consent for e-mail or texts.\n\n"
        "**How the engine reads it.** An e-mail or a text to the consumer needs a standing "
        "consent to the medium: the contact point's own (`consent: true`, given with the "
        "address) or a consent recorded for the `medium` on the case (a consent to be "
        "contacted now, for `hours` or `calls`, is not one). How the consent was given, "
        "in writing or not, is the lender's to record: the rule reads what is on file. An "
        "opt-out of the medium or the address revokes it for that medium only, until a "
        "later consent restores it. The consumer writing to the lender is no consent: it "
        "opens one reply (`purpose: reply`) through the same medium to the same address "
        "(`reply_through_their_medium`), which a lender may turn off.\n\n"
        + _cases(
            (
                "a STOP by text revokes the consent to texts, not to e-mail; an address "
                "without consent is denied",
                "us_nyc/email_and_text_need_consent_and_stop_by_medium.yaml",
            ),
            (
                "a consent on one loan reaches that loan; the consumer's own e-mail opens "
                "one reply, not a consent",
                "us_nyc/email_allowed_once_the_consumer_consents.yaml",
            ),
        )
    ),
    "US-NYC-OPTOUT": (
        "**The law.** As reported of 6 RCNY 5-77: every electronic communication includes "
        "a no-cost, one-word opt-out (\"e.g., 'STOP'\", Sheppard Mullin, August 2025); a "
        "request to stop is specific to the electronic medium (Americollect, April 2026) "
        "[confirm].\n\n"
        "**Whom it binds.** Every role; Regulation F's `US-MEDIUM` binds debt collectors "
        "only.\n\n"
        "**How the engine reads it.** A medium or address the consumer opted out of is not "
        "used again (an opt-out of calls covers voicemail), until a later consent for the "
        "`medium`; the one electronic confirmation Regulation F allows is kept. Every "
        "e-mail and text whose text is known must tell the reader to reply or text STOP, "
        'or to unsubscribe: "opt out" alone is not one word.\n\n'
        + _cases(
            (
                "a text without STOP is denied; after a STOP by text, texts are denied and "
                "e-mail is not",
                "us_nyc/email_and_text_need_consent_and_stop_by_medium.yaml",
            ),
        )
    ),
    "US-NYC-WORK": (
        "**The law.** 6 RCNY 5-77 has a rule about communications at the consumer's "
        'workplace; the 2026 text "[r]emoved the reference to a consumer\'s working hours" '
        "from it (Americollect, April 2026). Its words were not read [confirm].\n\n"
        "**Whom it binds.** Every role: Regulation F's `US-PLACE` binds debt collectors "
        "only.\n\n"
        "**How the engine reads it.** As Regulation F's 1006.6(b)(1)(ii) reads a place "
        "known to be inconvenient: once the consumer said contact at work is inconvenient "
        "(the notice `work_inconvenient`), no contact reaches them at work (a contact point "
        "marked `work`, or the employer), but one reply to a contact they started from "
        "there, until they consent to it again.\n\n"
        + _cases(
            (
                "a creditor's office call is denied once the consumer said no, the mobile is not",
                "us_nyc/creditor_not_at_work_once_told.yaml",
            ),
        )
    ),
    "US-NYC-EMPLOYER": (
        "**The law.** The same rule about workplace communications (see `US-NYC-WORK`) "
        "[confirm].\n\n"
        "**Whom it binds.** Every role: Regulation F's `US-EMPLOYER` binds debt collectors "
        "only.\n\n"
        "**How the engine reads it.** As Regulation F's 1006.6(b)(3): once the lender knows "
        "the employer prohibits such contact (the notice `employer_prohibits`), no contact "
        "reaches the consumer at work, not even a reply, unless the consumer consents to "
        "it directly.\n\n"
        + _cases(
            (
                "the office call and the reply to the consumer's call from the office are denied",
                "us_nyc/creditor_not_at_work_once_the_employer_forbids_it.yaml",
            ),
        )
    ),
    "US-NYC-REPLY": (
        "**The law.** The city's rules let a collector answer a communication the consumer "
        "started (the one reply `US-NYC-WORK` lets through, and the reply to the consumer's "
        "own e-mail or text `US-NYC-CONSENT` lets through). Their words were not read "
        "[confirm].\n\n"
        "**Whom it binds.** Every role: Regulation F's `US-REPLY`, which checks the same "
        "for debt collectors, binds them only, and without this rule a creditor could mark "
        "any call a reply.\n\n"
        "**How the engine reads it.** A contact marked `purpose: reply` must answer a "
        "communication the consumer started (an `inbound` contact) within 30 days, once; "
        "otherwise it is denied here, and judged by every other rule as any contact would "
        "be.\n\n"
        + _cases(
            (
                "a call to the office marked reply with nothing to answer",
                "us_nyc/creditor_reply_at_work_only_to_the_consumers_own_call.yaml",
            ),
            (
                "one reply to the consumer's call from the office, not two",
                "us_nyc/creditor_replies_once_to_the_consumers_call_from_work.yaml",
            ),
        )
    ),
    "US-NY-EMPLOYER": (
        '**The law.** No principal creditor or his agent shall "communicate or threaten to '
        "communicate the nature of a consumer claim to the debtor's employer prior to "
        "obtaining final judgment against the debtor. The provisions of this subdivision shall "
        "not prohibit a principal creditor from communicating with the debtor's employer to "
        'execute a wage assignment agreement if the debtor has consented to such an agreement" '
        "(GBL 601(4)).\n\n"
        "**Whom it binds.** Every role. Regulation F's third-party rule (`US-3P`) already "
        "keeps a debt collector from naming the debt to anyone; this rule binds the creditor "
        "too.\n\n"
        "**How the engine reads it.** A message to a contact point of the employer (party "
        "`employer`) whose text names a debt, a balance, something owed, overdue or past due, "
        "a loan, a payment or repayment, a default, a judgment or a garnishment is denied (the "
        "kind of claim, or what is missing on it, tells its nature as plainly as its amount); a "
        "request to pass on a message is allowed. A "
        "case records no judgment, so the rule holds until the lender turns it off for a "
        "case with a final judgment (an override).\n\n"
        '**The wage assignment.** The exception lets "a principal creditor" communicate '
        'with the employer "to execute a wage assignment agreement if the debtor has '
        'consented to such an agreement"; it does not name the agent, whom the prohibition '
        'names ("No principal creditor ... or his agent"), so a collection agency has no '
        "such exception (GBL 601(4)). A case records neither the "
        "agreement nor the debtor's consent to it, so the rule holds for every purpose by "
        "default, the reading that protects the debtor. A creditor or debt buyer (a principal "
        "creditor, GBL 600(3)) whose debtor has signed such an agreement relaxes it in its "
        "overrides, `US-NY-EMPLOYER: {exempt: [wage_assignment]}`, and names the purpose "
        "`wage_assignment` on the messages that execute it: those go to the employer, "
        "the others are still judged. A collector's policy must not set it.\n\n"
        + _cases(
            (
                "a request to call back goes to the employer, a message naming the balance "
                "does not",
                "us_ny/employer_not_told_of_the_claim.yaml",
            ),
            (
                "a message about missed loan payments is denied",
                "us_ny/threats_and_claims_in_any_tense_and_the_city_police.yaml",
            ),
            (
                "a creditor executing a wage assignment the debtor signed exempts "
                "`wage_assignment`; its other messages to the employer are still judged",
                "overrides/us_ny_employer_wage_assignment_of_a_creditor.yaml",
            ),
        )
    ),
    "US-TIMEBAR": (
        '**The law.** "A debt collector must not bring or threaten to bring a legal action '
        'against a consumer to collect a time-barred debt" (12 CFR 1006.26(b)).\n\n'
        "**How the engine reads it.** From the day the debt is barred (`limitation_years` "
        "after the first missed due date, in the debtor's calendar), legal action "
        "(`legal_action`) is denied, and so is a text that threatens it in any wording "
        "(`threat_words`): to sue or being sued, a lawsuit, a court, legal action or "
        "proceedings, a judgment, or a garnishment (which only a judgment allows). A request "
        "to pay that threatens nothing is allowed. Patterns find the plain forms only: the "
        "lender's templates remain its own to review.\n\n"
        '**Definitions and exceptions.** The statute of limitations is "the period '
        "prescribed by applicable law for bringing a legal action against the consumer to "
        'collect a debt" and a time-barred debt "a debt for which the applicable statute of '
        'limitations has expired" (1006.26(a)): state law, so `limitation_years` is set for '
        "the debt's state (6 by default) and a state's own pack may restart the period "
        '(`restarted_by`). The prohibition "does not apply to proofs of claim filed in '
        'connection with a bankruptcy proceeding" (1006.26(b)); the library has no purpose '
        "for a proof of claim, which a lender files outside it. Reg F forbids the suit and "
        "the threat only: a consumer's refusal to pay a barred debt does not stop a "
        "request that threatens nothing (`refusal_notice` is off; state packs switch it "
        "on).\n\n"
        "**Saying no suit will come.** The time-barred-debt disclosure that state law "
        "requires, and that the validation notice may carry (1006.34(d)(3)(iv)(B)), speaks "
        'of suits: "The law limits how long you can be sued on a debt. Because of the age '
        'of your debt, we will not sue you for it." It threatens nothing: the pack reads the '
        "statement that the collector will not or cannot sue, ending its sentence, as no "
        'threat (`disclaimers`), while a promise not to sue on a condition ("we will not '
        'sue you if you pay") implies the suit and is denied. A lender that wants every '
        "mention of a suit denied sets `disclaimers: []`.\n\n"
        "**Whom it binds.** Debt collectors and debt buyers (Regulation F); a creditor "
        "collecting its own debt is judged by the state's rules.\n\n"
        + _cases(
            (
                '"you will be sued", "legal proceedings", a judgment and a garnishment are '
                "denied; a plain request to pay is allowed",
                "us_regf/timebar_any_word_for_a_suit_is_a_threat.yaml",
            ),
            (
                "no suit and no threat of one once barred",
                "us_regf/timebar_no_suit_on_time_barred_debt.yaml",
            ),
            (
                "a suit within the limitation period is not this rule's concern",
                "us_regf/timebar_suit_within_limitation_period.yaml",
            ),
            (
                "a suit on the last day of the period is allowed, from the next denied; a "
                "refusal to pay does not stop a letter that threatens nothing",
                "us_regf/timebar_boundary_day_and_no_refusal_rule.yaml",
            ),
            (
                "the last day ends at midnight where the consumer lives",
                "us_regf/timebar_last_day_counted_in_the_consumers_zone.yaml",
            ),
            (
                "a state's three-year period set by the lender",
                "overrides/us_timebar_three_year_state_limitation.yaml",
            ),
            (
                '"we will not sue you for it" is no threat; "we will not sue you if you pay" '
                "is one",
                "us_regf/timebar_saying_we_will_not_sue_is_no_threat.yaml",
            ),
        )
    ),
    "US-FALSE": (
        '**The law.** "A debt collector must not use any false, deceptive, or misleading '
        'representation or means in connection with the collection of any debt" (12 CFR '
        '1006.18(a), carrying 15 USC 1692e), among them "the representation or implication '
        "that nonpayment of any debt will result in the arrest or imprisonment of any "
        'person" (1692e(4)), "the false representation or implication that the debt '
        "collector is vouched for, bonded by, or affiliated with the United States or any "
        'State" (1692e(1)), "the threat to take any action that cannot legally be taken" '
        '(1692e(5)) and "the false representation or implication that the consumer '
        'committed any crime or other conduct in order to disgrace the consumer" '
        "(1692e(7)).\n\n"
        "**How the engine reads it.** Nonpayment of a consumer debt never leads to arrest "
        "or prison, so every text that speaks of an arrest, jail, prison or handcuffs, of "
        "criminal charges or a prosecution, or presents itself as the police, a sheriff, a "
        "marshal, the FBI, the IRS, a district attorney, the attorney general or a "
        "government is denied, to every person and by every medium with a text. It binds "
        "debt collectors and debt buyers; a creditor collecting its own debt is judged by "
        "state law (`US-NY-THREATS`). Patterns find the plain forms only: the lender's "
        "templates remain its own to review.\n\n"
        "**Edge cases.** The wording is denied in a text, an e-mail and a call's script "
        "alike, whoever it goes to. A statement that the collector is *not* a government "
        "agency, or the word *arrears*, is not caught; a threat of a lawful suit is not "
        "this rule's (it is `US-TIMEBAR`'s once the debt is barred). Whether a threatened "
        'action is one that "cannot legally be taken" or "is not intended to be taken" '
        "(1692e(5)) depends on facts no text shows, beyond arrest and prison, and is left "
        "to the lender's review.\n\n"
        + _cases(
            (
                "a threat of arrest, of jail, of criminal charges, and a letter from the "
                "sheriff's office are denied; a plain request is allowed",
                "us_regf/false_no_arrest_no_police.yaml",
            ),
            (
                "posing as the IRS by text or the FBI on a call, a criminal record or a "
                'prosecution are denied; "not affiliated with any government agency" and '
                '"arrears" are allowed',
                "us_regf/false_more_ways_to_pose_or_threaten.yaml",
            ),
            (
                "a creditor collecting its own debt is not judged by this rule",
                "us_regf/false_does_not_bind_a_creditor.yaml",
            ),
        )
    ),
    "US-LCM": (
        '**The law.** A limited-content message is "a voicemail message for a consumer that '
        "includes all of the content described in paragraph (j)(1) of this section, that may "
        "include any of the content described in paragraph (j)(2) of this section, and that "
        'includes no other content" (12 CFR 1006.2(j)). Required: a business name for the '
        "debt collector that does not indicate that it is in the debt collection business; "
        "a request that the consumer reply; the name of one or more natural persons to "
        "contact; a telephone number to reply to (1006.2(j)(1)). Optional: a salutation; "
        "the date and time of the message; suggested dates and times to reply; a statement "
        "that the consumer may speak to any of the company's representatives or associates "
        "(1006.2(j)(2)). Such a message conveys no information about a debt, so it is no "
        "communication (comment 2(d)-2) and needs no 1006.18(e) disclosure (comment 18(e)-1), "
        "but it is an attempt to communicate (1006.2(b)): the hours, the call caps, the "
        "opt-outs and the cease rules still apply to it.\n\n"
        '**Exceptions and limits.** "A message knowingly left for a third party is not a '
        'limited-content message because it is not for a consumer" (comment 2(j)-2); a '
        'more detailed description of who will answer ("the credit card receivables '
        'group") makes the message not limited-content (comment 2(j)(2)-1).\n\n'
        "**How the engine reads it.** A contact with purpose `limited_content` goes by "
        "voicemail only (`media`): the definition is of a voicemail, so a text or an e-mail "
        "with the same words is denied. Its text must not reveal the debt (`debt_words`: "
        "*debt*, *owe*, *overdue*, *arrears*, *collect*); the required items are the "
        "lender's template to supply. Other rules read the purpose: `US-MIRANDA` and "
        "`US-VALID` do not count such a voicemail as the first communication. A voicemail "
        "to a number the lender records as a third party's is judged by `US-3P` as a "
        "contact with that person, whatever its purpose.\n\n"
        "**Whom it binds.** Debt collectors and debt buyers.\n\n"
        + _cases(
            (
                "a voicemail may be limited-content, a text never",
                "us_regf/lcm_voicemail_only.yaml",
            ),
            (
                "a voicemail naming the debt or collection is denied",
                "us_regf/lcm_mentions_debt_denied.yaml",
            ),
            (
                "the optional content (date and time, times to reply, any of our "
                "representatives) keeps it limited-content; an overdue account does not",
                "us_regf/lcm_optional_content_allowed.yaml",
            ),
            (
                "a limited-content voicemail is not the initial communication",
                "us_regf/miranda_first_communication_after_limited_content_voicemail.yaml",
            ),
            (
                "the same voicemail left on a friend's number is a contact with the friend",
                "us_regf/lcm_left_for_a_third_party_is_not_limited_content.yaml",
            ),
        )
    ),
    "US-DISPUTE": (
        '**The law.** "Upon receipt of a dispute submitted by the consumer in writing within '
        "the validation period, a debt collector must cease collection of the debt, or any "
        "disputed portion of the debt, until the debt collector: (i) Sends a copy either of "
        "verification of the debt or of a judgment to the consumer in writing or "
        'electronically" (12 CFR 1006.38(d)(2)); or, for a duplicative dispute (substantially '
        "the same as one already answered, with no new and material information, "
        "1006.38(a)(1)), tells the consumer it is duplicative and refers them to the earlier "
        "response (1006.38(d)(2)(ii)). The validation period starts when the validation "
        "information is provided and ends 30 days after the consumer receives it, assumed "
        "received five days after it was provided, weekends and federal holidays excluded "
        "(1006.34(b)(5)). A written request for the original creditor's name and address "
        "within that period also stops collection until it is sent (1006.38(c)).\n\n"
        "**How the engine reads it.** A `dispute` hold recorded as written (a dispute "
        "recorded without saying is read as written) stops every contact about the debt, "
        "except the validation notice and the verification itself, until a `verification` "
        "notice is recorded after it. A dispute recorded after the validation period "
        "(`validation_period_end`, from the recorded `validation` notice) does not stop "
        "collection under this rule; with no validation notice recorded every written "
        "dispute does (the reading that protects: the period cannot be placed). The hold "
        'stops the whole debt where the law stops "the disputed portion": a lender that '
        "collects the undisputed part records the dispute and its own partial release. "
        "The answer to a duplicative dispute, and a request for the original creditor, "
        "have no notice kind of their own: record the first as `verification`, the second "
        "as a `dispute` hold that the answer (`verification`) ends.\n\n"
        "**Whom it binds.** Debt collectors and debt buyers; the hold is on the debt it "
        "names (`HOLD_REACH`: a dispute of one loan leaves the others).\n\n"
        + _cases(
            (
                "a written dispute within the period stops collection; verification may go",
                "us_regf/dispute_written_stops_collection.yaml",
            ),
            (
                "collection resumes once verification is sent",
                "us_regf/dispute_verification_sent_resumes.yaml",
            ),
            (
                "an oral dispute does not stop collection",
                "us_regf/dispute_oral_does_not_stop_collection.yaml",
            ),
            (
                "a dispute on the last day of the period stops it",
                "us_regf/dispute_on_last_day_of_validation_period.yaml",
            ),
            (
                "a dispute after the period does not",
                "us_regf/dispute_after_validation_period_no_hold.yaml",
            ),
            (
                "with no validation notice on record, every written dispute stops collection",
                "us_regf/dispute_without_validation_notice_on_record_stops_collection.yaml",
            ),
            (
                "a dispute of one debt leaves the other",
                "debtors/us_dispute_on_one_debt_leaves_the_other.yaml",
            ),
        )
    ),
    "US-CEASE": (
        '**The law.** "If a consumer notifies a debt collector in writing that the consumer '
        "refuses to pay a debt or that the consumer wants the debt collector to cease further "
        "communication with the consumer, the debt collector must not communicate or attempt "
        'to communicate further with the consumer with respect to such debt" (12 CFR '
        "1006.6(c)(1)), except to advise that its further efforts are being terminated, to "
        "notify that it or the creditor may invoke specified remedies it ordinarily invokes, "
        "or, where applicable, that it intends to invoke a specified remedy (1006.6(c)(2)). "
        "An electronic notice through a medium the collector accepts is in writing, and the "
        "notice takes effect when the collector receives it (comments 6(c)(1)-1, -2). For "
        "1006.6 the consumer includes the spouse, a minor's parent, the guardian, the "
        "executor or administrator of a deceased consumer's estate (any personal "
        "representative, comment 6(a)(4)-1) and a confirmed successor in interest "
        "(1006.6(a)). An opt-out of one e-mail address is no request to stop "
        "(comment 6(d)(4)(ii)(D)-2).\n\n"
        "**How the engine reads it.** A `cease` hold, recorded when the written notice is "
        "received (a refusal to pay is recorded the same way), stops every contact with the "
        "consumer about the debt, by every medium, except the three notices "
        "(`termination_notice`, `remedy_notice`, `remedy_intent`). The spouse, guardian, "
        "executor and administrator, and a minor's parent, are the consumer here "
        "(`as_debtor`): the consumer's request stops contacts with them too. A confirmed "
        "successor in interest (a mortgage term) has no relationship of its own: record "
        "one as `other` and hold its contacts by the lender's own rule. Third parties may "
        "still be asked for location information (`US-3P`). No time ends the hold: the "
        "consumer's later consent is recorded by releasing it.\n\n"
        "**Whom it binds.** Debt collectors and debt buyers; the hold is on the debt it "
        "names, or every debt when the request names them all.\n\n"
        + _cases(
            (
                "only the three permitted notices remain",
                "us_regf/cease_only_permitted_notices.yaml",
            ),
            (
                "a third party may still be asked for the consumer's location",
                "us_regf/cease_location_call_to_third_party_allowed.yaml",
            ),
            (
                "the consumer's request covers the spouse",
                "persons/regf_cease_from_the_consumer_covers_the_spouse.yaml",
            ),
            (
                "it reaches a minor's parent",
                "persons/regf_request_to_stop_reaches_a_minors_parent.yaml",
            ),
            (
                "a request about one debt leaves the others",
                "debtors/us_cease_on_one_debt_leaves_the_others.yaml",
            ),
            (
                "a request naming every debt reaches every loan",
                "debtors/us_cease_naming_every_debt_reaches_every_loan.yaml",
            ),
            (
                "a minor recorded on one loan is a minor on every loan",
                "debtors/us_minor_recorded_on_one_loan_reaches_every_loan.yaml",
            ),
        )
    ),
    "US-WORKEMAIL": (
        '**The law.** A debt collector must not "communicate or attempt to communicate with '
        "a consumer by sending an email to an email address that the debt collector knows is "
        "provided to the consumer by the consumer's employer, unless the email address is "
        'one described in § 1006.6(d)(4)(i) or (iii)" (12 CFR 1006.22(f)(3)): an address '
        "the consumer used to communicate with the collector about the debt and has not "
        "opted out of (1006.6(d)(4)(i)(A)), one the consumer consented directly to the "
        "collector's using (1006.6(d)(4)(i)(B)), or one a prior collector obtained so "
        "(1006.6(d)(4)(iii); comment 22(f)(3)-1). The collector knows the address is the "
        "employer's when any person has told it so, and need not review accounts by hand "
        "to find out (comment 6(d)(4)(ii)(E)-2).\n\n"
        "**How the engine reads it.** An e-mail to a contact point marked `work: true` is "
        "denied unless a consent for the `medium` is on record for it. The pack asks for "
        "the recorded consent where the law also accepts the consumer's own e-mail from "
        "that address and a prior collector's use: the stricter reading, since whether an "
        'e-mail was "about the debt" and whether the prior collector\'s procedures held are '
        "facts the lender records, by recording the consent. The place rules (`US-PLACE`, "
        "`US-EMPLOYER`) judge the same e-mail separately.\n\n"
        "**Whom it binds.** Debt collectors and debt buyers, for e-mail to the consumer.\n\n"
        + _cases(
            (
                "no e-mail to the work address without consent; a personal one is fine",
                "us_regf/workemail_needs_consent.yaml",
            ),
            (
                "with the consumer's consent it is allowed",
                "us_regf/workemail_with_consent_allowed.yaml",
            ),
            (
                "the consumer's own e-mail from work is not read as consent",
                "us_regf/workemail_their_email_from_work_is_no_consent.yaml",
            ),
            (
                'after "not at work", both rules deny it',
                "us_regf/place_work_email_without_consent_two_reasons.yaml",
            ),
            (
                "with consent, both rules allow it",
                "us_regf/place_work_email_with_consent_passes_both_rules.yaml",
            ),
        )
    ),
    "US-PASSIVE": (
        "**The law.** A debt collector must not furnish information about a debt to a "
        'consumer reporting agency before it "(i) Speaks to the consumer about the debt in '
        "person or by telephone; or (ii) Places a letter in the mail or sends an electronic "
        "message to the consumer about the debt and waits a reasonable period of time to "
        'receive a notice of undeliverability" (12 CFR 1006.30(a)(1)); 14 consecutive days '
        "from the mailing or sending is a reasonable period (comment 30(a)(1)-2). A notice "
        "of undeliverability received in the period bars furnishing until the collector "
        "otherwise satisfies the rule, by a new letter and its own period, say (comment "
        "30(a)(1)-3). The validation notice is a message about the debt (comment 30(a)(1)-1). "
        "Furnishing to a check-writing specialty agency is exempt (1006.30(a)(2)). The rule "
        "is 1006.30(a), not 1006.22(f)(4): that paragraph forbids messages on social media "
        "viewable by the public or the person's contacts, a medium this library does not "
        "send by.\n\n"
        "**How the engine reads it.** A contact with purpose `credit_report` is allowed "
        "after a conversation with the consumer, or `days` (14) after the first delivered "
        "letter, e-mail or text to them (`media`). A voicemail is neither speaking to the "
        "consumer nor a message. A failure recorded on a medium sets aside every message "
        "delivered by it: a second letter after a returned one does not start a new period "
        "(stricter than comment 30(a)(1)-3.ii); a conversation, or a message by another "
        "medium, does.\n\n"
        "**Whom it binds.** Debt collectors and debt buyers.\n\n"
        + _cases(
            (
                "no reporting before any contact",
                "us_regf/passive_no_reporting_before_contact.yaml",
            ),
            (
                "reporting after a conversation",
                "us_regf/passive_reporting_after_conversation.yaml",
            ),
            (
                "14 days after a delivered text",
                "us_regf/passive_reporting_fourteen_days_after_message.yaml",
            ),
            (
                "a voicemail does not permit reporting",
                "us_regf/passive_voicemail_does_not_permit_reporting.yaml",
            ),
            (
                "a letter returned undeliverable in the period does not, after 14 days either",
                "us_regf/passive_undeliverable_letter_does_not_permit_reporting.yaml",
            ),
        )
    ),
    "US-BK": (
        '**The law.** A bankruptcy petition "operates as a stay, applicable to all entities, '
        'of" among others "the commencement or continuation ... of a judicial, '
        'administrative, or other action or proceeding against the debtor" and "any act to '
        "collect, assess, or recover a claim against the debtor that arose before the "
        'commencement of the case" (11 USC 362(a)(1), (6)). Exceptions are listed in 362(b) '
        "(domestic support obligations, criminal proceedings and others); the stay ends as "
        "362(c) provides (the case closed or dismissed, a discharge granted or denied) or "
        "when the court lifts it (362(d)); after a discharge the discharge injunction "
        "(524(a)) forbids collecting the discharged debt as a personal liability.\n\n"
        "**How the engine reads it.** A `bankruptcy` hold stops every contact, to every "
        "person and by every medium, suits included, from the moment it is recorded until "
        "its end (the date the stay ended: dismissal, relief from the stay) or its release. "
        "The pack knows no exception of 362(b): a lender collecting a claim the stay does "
        "not reach records no hold for it. A discharge is recorded by keeping the hold "
        "(the discharged debt is never collected again from the debtor).\n\n"
        '**Whom it binds.** Every role: "all entities", the creditor collecting its own '
        "debt included. The stay is the debtor's (`HOLD_REACH`): recorded on one debt, it "
        "holds every debt of theirs.\n\n"
        + _cases(
            (
                "the stay blocks every act to collect, by any channel and through third parties",
                "us_regf/bk_stay_blocks_every_collection_act.yaml",
            ),
            (
                "once the stay ends on a known date, collection may resume",
                "us_regf/bk_stay_lifted_contact_allowed.yaml",
            ),
            (
                "it binds the creditor collecting its own debt",
                "us_regf/bk_stay_binds_the_creditor_too.yaml",
            ),
            (
                "recorded on one debt, it stays every debt",
                "debtors/us_bankruptcy_on_one_debt_stays_every_debt.yaml",
            ),
            (
                "a payment to the debtor is recorded, and the stay still holds",
                "debtors/us_payment_to_the_debtor_under_bankruptcy.yaml",
            ),
        )
    ),
    "US-SCRA": (
        '**The law.** "In any action or proceeding covered by this section, the court, '
        "before entering judgment for the plaintiff, shall require the plaintiff to file "
        "with the court an affidavit (A) stating whether or not the defendant is in military "
        "service and showing necessary facts to support the affidavit; or (B) if the "
        "plaintiff is unable to determine whether or not the defendant is in military "
        'service, stating that the plaintiff is unable to determine" it (50 USC 3931(b)(1), '
        "the Servicemembers Civil Relief Act; read as quoted by the Utah Office of Recovery "
        "Services). An obligation incurred before military service bears no more than 6 "
        "percent interest during the service, once the servicemember asks in writing with "
        "a copy of the orders (50 USC 3937).\n\n"
        "**How the engine reads it.** A contact with purpose `legal_action` is denied until "
        "a `military_status_check` notice is on record (the plaintiff's affidavit rests on "
        "it: the Department of Defense's status report is the usual source). Other contacts "
        "are not this rule's. The interest cap is the lender's ledger to apply: the title "
        "names it, no rule enforces it.\n\n"
        "**Whom it binds.** Every role: the affidavit is every plaintiff's.\n\n"
        + _cases(
            (
                "no suit before the status check; allowed once it is recorded",
                "us_regf/scra_military_status_before_suit.yaml",
            ),
            (
                "a suit may proceed with the check on record",
                "us_regf/scra_status_checked_suit_allowed.yaml",
            ),
        )
    ),
    "US-DECEASED": (
        '**The law.** A consumer is "any natural person, whether living or deceased, '
        'obligated or allegedly obligated to pay any debt" (12 CFR 1006.2(e)), and for 1006.6 '
        "the consumer includes \"the executor or administrator of the consumer's estate, if "
        'the consumer is deceased" (1006.6(a)(4)): any personal representative, "any person '
        "who is authorized to act on behalf of the deceased consumer's estate\" (comment "
        "6(a)(4)-1), and the surviving spouse (comment 6(a)(1)-1). When the collector knows "
        'or should know the consumer has died, the validation information goes to "an '
        "individual that the debt collector identifies by name who is authorized to act on "
        "behalf of the deceased consumer's estate\" (comment 34(a)(1)-1). The decedent's "
        "debts are the estate's: the collector may not represent that another person is "
        "personally liable (1006.18(a), (c)).\n\n"
        "**How the engine reads it.** A `deceased` hold denies every contact addressed to "
        "the debtor, by every medium, with no end. Contacts with the estate's representative "
        "(a person recorded as `executor` or `administrator`) and the surviving spouse are "
        "contacts with the consumer under the Reg F rules (`US-3P`, `US-CEASE`); anyone "
        "else is a third party, asked only for location information, such as who "
        "represents the estate. A letter addressed to the deceased at their old address is "
        'denied, even one to "the estate of" them: the commentary asks for a named '
        "representative. The rule's title, shared with the other packs, calls the estate a "
        "third party: under Regulation F its representative is the consumer, as above.\n\n"
        "**Whom it binds.** Every role. The death is the person's (`HOLD_REACH`): recorded "
        "on one debt, it holds every debt of theirs.\n\n"
        + _cases(
            (
                "no contact addressed to the debtor; a location call to a relative is allowed",
                "us_regf/deceased_no_contact_addressed_to_debtor.yaml",
            ),
            (
                "once the consumer has died, the executor or administrator is the consumer",
                "persons/regf_executor_is_the_consumer_after_death.yaml",
            ),
            (
                "before the death, the executor is a third party",
                "persons/regf_executor_of_a_living_consumer_is_a_third_party.yaml",
            ),
            (
                "a death recorded on one loan reaches all three",
                "debtors/us_death_recorded_on_one_loan_reaches_all_three.yaml",
            ),
        )
    ),
    "US-NY-THREATS": (
        '**The law.** No principal creditor or his agent shall "simulate in any manner a law '
        "enforcement officer, or a representative of any governmental agency of the state of "
        'New York or any of its political subdivisions" (GBL 601(1)), nor "threaten to '
        "communicate the nature of a consumer claim to the debtor's employer\" (601(4)).\n\n"
        "**How the engine reads it.** Every role, every person, every medium with a text: "
        "a threat to tell, call or write to the debtor's employer, boss or workplace, in any "
        'tense or voice ("we are contacting your employer", "your employer will be told"), '
        "a message presenting itself as the police, a sheriff, a marshal, a district attorney, "
        "the attorney general, the State of New York, its State Police or Department of "
        "Financial Services, New York City or its NYPD, or a county (the statute's "
        '"political subdivisions"), and a mention of an arrest warrant are denied. Patterns '
        "find the plain forms only: "
        "the lender's templates remain its own to review.\n\n"
        + _cases(
            (
                'a threat to contact the employer and a message from "the Sheriff\'s office" '
                "are denied",
                "us_ny/no_threat_to_tell_the_employer_or_pose_as_police.yaml",
            ),
            (
                "a threat in the present tense or the passive voice, and a text from the State "
                "Police or the NYPD, are denied",
                "us_ny/threats_and_claims_in_any_tense_and_the_city_police.yaml",
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
        + _MORATORIUM_DEBTS
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
            (
                "recorded on one debt, it holds every debt of the customer",
                "debtors/uk_breathing_space_on_one_account_reaches_all_three.yaml",
            ),
            (
                "recorded on the debt the notice lists only, another debt is not held",
                "debtors/uk_breathing_space_lender_records_it_on_the_listed_debt_only.yaml",
            ),
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
        "given. Which debts it holds is read as for `UK-BS`: every debt of the customer by "
        "default, or the debts the notice lists when the lender records it with "
        "`reach: case` on each.\n\n"
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
            (
                "recorded on the two debts the notice lists, the third is not held",
                "debtors/uk_crisis_moratorium_lender_records_it_on_the_two_listed_debts.yaml",
            ),
        )
    ),
    "CN-CALLS-EFFECTIVE": (
        "**The rule.** GB/T 45251-2025, as quoted in reports (希财网; the same words in the "
        "NIFA 互联网金融贷后催收业务指引 of 2024, which the standard replaces): "
        "以语音形式进行告知式催收时，同一金融机构和其合作的第三方催收机构对单一债务人拨通电话"
        "频次每日合计不应超过3次 (when collecting by voice, the calls that get through to one "
        "debtor from the institution and the collection agencies it works with together must "
        "not exceed 3 a day) [confirm the clause]. An earlier version of this pack credited "
        "the China Banking Association guideline with the number; the reports of that "
        "guideline give only the 6 dial attempts (`CN-CALLS-ATTEMPTS`).\n\n"
        "**How the engine reads it.** A call gets through (拨通) when it is answered, by the "
        "debtor or by their voicemail: a voice message left is a voice notification, so "
        "`conversation` and `voicemail` both count (the reading that protects the debtor; a "
        "lender who reads 拨通 as a conversation only sets `counted_outcomes: "
        "[conversation]`). AI voice calls count like any other. The count is the debtor's, "
        "across their loans and contact numbers (`across: debtor`), and resets at the "
        "debtor's local midnight.\n\n"
        + _cases(
            ("three answered calls a day", "cn/calls_effective_three_answered_a_day.yaml"),
            ("unanswered calls are not counted", "cn/calls_effective_unanswered_not_counted.yaml"),
            (
                "a call taken by voicemail is counted",
                "cn/calls_effective_voicemail_counts.yaml",
            ),
            (
                "a lender that counts conversations only",
                "overrides/cn_voicemail_not_counted_when_the_lender_reads_it_so.yaml",
            ),
            (
                "the day is the debtor's local day",
                "cn/calls_effective_window_straddles_midnight.yaml",
            ),
        )
    ),
    "CN-CALLS-ATTEMPTS": (
        "**The rule.** The China Banking Association's 金融机构个人消费类贷款催收工作指引(试行) "
        "(2026), chapter 3, as 中新网 reported it on 2026-01-30: 债务人电话未接通的，催收人员"
        "对债务人同一联系方式尝试拨打次数当天不宜超过6次；与债务人另有约定除外 (when the "
        "debtor's phone is not answered, no more than 6 attempts a day to the same number, "
        "unless otherwise agreed with the debtor) [confirm the article].\n\n"
        "**How the engine reads it.** Every call to a number that does not reach the debtor "
        "counts (`no_answer`, `busy`, `not_connected`, `voicemail`), per number and across the "
        "debtor's loans. The guideline's exception for an agreement with the debtor is not "
        "modelled: a lender that has one raises `limit` in its configuration.\n\n"
        + _cases(
            ("six attempts a day per number", "cn/calls_attempts_six_per_number_a_day.yaml"),
            ("the sixth is still allowed", "cn/calls_attempts_sixth_still_allowed.yaml"),
            (
                "a voicemail contact point shares its number's count",
                "cn/calls_attempts_voicemail_point_shares_the_number.yaml",
            ),
        )
    ),
    "CN-VISIT": (
        "**The rule.** The China Banking Association guideline (2026), Art. 22 as reported "
        "(网易, 2026-01): 外访催收应安排不少于两名催收人员共同实施 (a field visit is made by "
        "at least two collectors together) [confirm the article]; the credentials, advance "
        "registration and recording are reported requirements of the same guideline and "
        "of GB/T 45251-2025 [confirm the clauses]. The guideline counts 外访催收 among the "
        "forms of collection and bars it, as every form, from 22:00 to 08:00 without the "
        "debtor's consent (经济参考报's report, read in a re-post; `CN-HOURS`).\n\n"
        "**How the engine reads it.** A visit is proposed with what it will be "
        "(`visit: {collectors, credentials, registered, recorded}`); one that falls short is "
        "denied naming each thing it lacks, and a visit proposed without them is denied "
        "for all of them, the reading that protects the debtor: the engine cannot see the "
        "visit, only what the lender states of it. More than two collectors are allowed. "
        "A lender whose own process answers a requirement elsewhere turns it off "
        "(`registered: false`, say) or raises `collectors`. The visit's hour is "
        "`CN-HOURS`'s and whom it may reach `CN-THIRD-PARTY`'s and `CN-EXPOSURE`'s.\n\n"
        "**Whom it binds.** Every role: the institution and the collection agencies it "
        "works with.\n\n"
        + _cases(
            (
                "one collector, or a missing credential, registration or recording, denied",
                "cn/visit_two_credentialed_collectors.yaml",
            ),
            (
                "three collectors go; a visit stated without its details is denied; at "
                "22:30 it is `CN-HOURS` that denies",
                "cn/visit_three_collectors_and_no_details.yaml",
            ),
        )
    ),
    "CN-RECORDS": (
        "**The rule.** 商业银行信用卡业务监督管理办法 (CBRC Order 2011 No. 2), Art. 68: the "
        "card issuer collects from the debtor and their guarantor only, not from a third "
        "party unrelated to the debt, uses no violence, coercion, threats or insults, "
        "records the collection process and keeps the records at least 2 years for "
        "inspection (记录材料至少保存2年备查). The official text was not read here; the "
        "article was read as re-quoted on two Chinese legal-information pages (in "
        "Traditional characters, one of them in a garbled transcription) [confirm the "
        "words].\n\n"
        "**How the engine reads it.** It judges no contact: `Engine.check_purge` refuses to "
        "purge a case's records before `years` have passed since its last journal entry, "
        "naming this rule and its citation: every record is then at least that old, the "
        "newest included. The article binds card issuers; the pack keeps every lender's "
        "records the 2 years (the journal is also the evidence of how the debt was "
        "collected). The kind is tested in `tests/test_retention.py`, this rule's 2 years in "
        "`tests/test_pack_parameters.py`."
    ),
    "CN-SMS": (
        "**The rule.** MIIT Order 31, 通信短信息服务管理规定 (2015, in force 2015-06-30), as "
        "新华网 reported it: whoever sends commercial short messages 应当提供便捷和有效的拒绝"
        "接收方式并随短信息告知用户 (must offer an easy and effective way to refuse them and "
        "say so in the message) [confirm the article]. A collection text is not a "
        "commercial message in every reading; the engine asks it of every SMS, the reading "
        "that protects the debtor (turn the rule off or override `required` to relax it). "
        "The 【signature】 of 2-16 characters is a carriers' platform rule, not a number in "
        "the order.\n\n"
        "**How the engine reads it.** Every SMS, to anyone, by every role, is read for a "
        "【signature】 of 2 to 16 characters and for a way to refuse: 退订, 拒收, or "
        '"reply T/N" (回T, 回复N). A 【】 of one character, or of more than 16, is not a '
        "signature. Calls and voice messages are not judged by it: who is calling is "
        "`CN-IDENTIFY`'s, for which a text's signature names the institution.\n\n"
        + _cases(
            ("signature and a way to refuse", "cn/sms_signature_and_opt_out.yaml"),
            (
                "a signature too short or too long; 拒收 and 回N are ways to refuse; a call "
                "is not judged",
                "cn/sms_signature_length_and_ways_to_refuse.yaml",
            ),
            (
                "the signature also names the institution for `CN-IDENTIFY`",
                "cn/identify_sms_is_identified_by_its_signature.yaml",
            ),
            (
                "an English text to a debtor in China lacks both",
                "jurisdictions/cn_and_uk_debtors_each_by_their_pack.yaml",
            ),
        )
    ),
    "CN-CONDUCT": (
        "**The rule.** The China Banking Association guideline (2026) lists what collectors "
        "must never do, as 经济参考报 reported it (read in a re-post): 冒用行政机关、司法机关"
        "等名义…开展催收行为 (acting in the name of an administrative or judicial authority); "
        "通过散布他人隐私、非法获取个人信息，采用恐吓、辱骂、欺诈、威胁、暴力、涉黑等不当手段"
        "开展催收 (spreading private information; intimidation, insults, fraud, threats, "
        "violence, gang methods); 以列入虚构的黑名单、虚构的不良信用数据库为由开展催收 "
        "(collecting on the ground of a fictitious blacklist or bad-credit database); "
        "以虚假承诺、夸大债务数额、性质、法律后果为由开展催收 (false promises, exaggerating "
        "the debt's amount, nature or legal consequences); 以催收名义收取额外费用 (extra fees "
        "charged in collection's name); 诱导或逼迫债务人通过新增借贷或非法渠道筹集资金偿还"
        "债务 (inducing or forcing the debtor to raise the money by new borrowing or illegal "
        "channels) [confirm against the guideline]. The credit-card rules (2011) Art. 68: "
        "不得采用暴力、胁迫、恐吓或辱骂等不当催收行为 (as re-quoted; `CN-RECORDS`). The NIFA "
        "self-discipline convention (2018) was not read here.\n\n"
        "**How the engine reads it.** The text of a message or a call script is searched "
        "for: threats of violence (打死, 弄死, 砍死, 去死) and menace (后果自负, 走着瞧); "
        "insults (老赖, 骗子, 不要脸); posing as the police, a court or the procuratorate "
        "(我们是法院/公安/警察/检察院, 公安机关已, 法院传票, 立案抓捕); exaggerated legal "
        "consequences (坐牢, 拘留); spreading the debt (曝光, 通讯录, 告诉/通知你的家人、单位…, "
        "also `CN-EXPOSURE`'s); a blacklist (黑名单); new borrowing to pay (借钱来还, "
        "借网贷还, 以贷养贷, 办信用卡来还); a collection fee (催收费). The guideline forbids "
        "a *fictitious* blacklist; the engine cannot tell one list from another and denies "
        "every 黑名单, the reading that protects: a lender that must tell a judgment debtor "
        "of the court's list of dishonest judgment debtors overrides `patterns`. Saying the "
        "overdue loan is reported to the credit reference system (征信) is not matched. The "
        "manner of a call or a visit (its tone) is not seen: only the words given.\n\n"
        "**Whom it binds.** Every role, in every message and call script, to anyone.\n\n"
        + _cases(
            (
                "an insult, a threat to tell the employer, posing as the police: denied; a "
                "polite reminder goes",
                "cn/conduct_no_threats_or_insults.yaml",
            ),
            (
                "a threat to tell the family is a threat and an exposure",
                "cn/exposure_threat_to_tell_family_two_rules.yaml",
            ),
            (
                "a blacklist, borrowing anew to pay, a collection fee: denied; the credit "
                "report and instalments may be mentioned",
                "cn/conduct_blacklist_new_borrowing_and_fees.yaml",
            ),
        )
    ),
    "CN-DECEASED": (
        "**The law.** Civil Code (民法典) Art. 1161: 继承人以所得遗产实际价值为限清偿被继承人"
        "依法应当缴纳的税款和债务。超过遗产实际价值部分，继承人自愿偿还的不在此限。继承人放弃"
        "继承的，对被继承人依法应当缴纳的税款和债务可以不负清偿责任 (the heirs pay the "
        "deceased's taxes and debts up to the actual value of what they inherit; beyond it "
        "only if they choose to; an heir who renounces the inheritance need not pay), read "
        "as quoted in a law firm's case note. The debt is the estate's: no one owes it from "
        "their own means because they were family. The collection guidelines let a "
        "contact person be reached when the debtor has died (`CN-THIRD-PARTY`), and the "
        "credit-card rules Art. 68 forbid collecting from a third party unrelated to the "
        "debt.\n\n"
        "**How the engine reads it.** A `deceased` hold denies every contact addressed to "
        "the debtor, by any channel and for any purpose, with no end (`next_allowed_at` "
        "none) until it is released. Recorded on one loan, it is journaled on every loan of "
        "the person (`arrears.holds.HOLD_REACH`: every debt goes to the estate). A contact "
        "person may then be asked to pass on a message or to put the lender in touch with "
        "the heirs (`relay`, `CN-THIRD-PARTY`), never asked to pay nor told of the debt "
        "(`CN-EXPOSURE`); one who offers to pay may be answered (`CN-REPLY`). What an heir "
        "owes, within the estate, is settled with the heirs or the estate's administrator "
        "or in court, outside these rules.\n\n"
        "**Whom it binds.** Every role.\n\n"
        + _cases(
            (
                "no call to the debtor; a contact person is asked to pass on a message",
                "cn/deceased_contact_person_instead.yaml",
            ),
            (
                "recorded on one loan, the death stops calls about each of three",
                "debtors/cn_death_recorded_on_one_loan_reaches_every_loan.yaml",
            ),
        )
    ),
    "UK-VISIT": (
        "**The rule.** \"A firm must ensure that all persons visiting a customer's property "
        "on its behalf act at all times in accordance with the requirements of CONC 7 and do "
        "not: ... (2) visit a customer at a time when they know or suspect that the customer "
        'is, or may be, particularly vulnerable" (FCA CONC 7.9.14R, a rule; the text was read '
        "in the Handbook's related-provisions listing, where it comes next after CONC "
        "7.9.13G without its number printed, so the number is taken from that order "
        '[confirm]; CONC 7.2.1R(2) as in force from 2024 says "vulnerable" where it said '
        '"particularly vulnerable", and the engine reads 7.9.14R(2) the same wider way). '
        '"Customers who have mental health difficulties or mental capacity '
        'limitations may fall into the category of vulnerable customers" (CONC 7.2.2G), and '
        "firms should have regard to the FCA's guidance on vulnerable customers, FG21/1 "
        "(CONC 7.2.2AG).\n\n"
        "**How the engine reads it.** A visit is denied while a `vulnerable`, "
        "`mental_capacity` or `mental_health_crisis` hold is in force, until the hold is "
        "released (`hold_end`): the rule speaks of a customer who *may be* vulnerable, so a "
        "crisis hold keeps visits off after the moratorium itself ends (`UK-MHCM`), until "
        "the firm is satisfied and releases it. Letters and calls are judged by the other "
        "rules. A lender who reads it otherwise overrides `kinds`. The rule's other limbs are "
        "not checked before a visit: no threatening manner, no entry without consent, leave "
        "when asked or when the customer is distressed or may lack capacity (they are "
        "conduct during the visit); no visit at an inappropriate place without consent "
        "(`UK-WHERE` for work); no visit without the customer's prior agreement while the "
        "debt is disputed (limb (7): the lender's to check).\n\n"
        + _cases(
            ("a vulnerable customer is not visited", "uk/visit_vulnerable_customer_denied.yaml"),
            ("no hold, a visit is allowed", "uk/visit_allowed_without_vulnerability.yaml"),
            (
                "after a crisis moratorium, no visit until the hold is released",
                "uk/visit_after_crisis_moratorium_until_released.yaml",
            ),
            (
                "a visit again once the firm releases the hold",
                "uk/visit_allowed_once_crisis_hold_released.yaml",
            ),
            (
                "a capacity hold bars a visit even as a reply",
                "uk/visit_capacity_hold_even_as_reply.yaml",
            ),
            (
                "a lender that bars visits on a vulnerability hold only",
                "overrides/uk_visit_vulnerable_hold_only.yaml",
            ),
        )
    ),
    "UK-FORBEAR": (
        '**The law.** "A firm must treat customers in default or in arrears difficulties '
        'with forbearance and due consideration" (FCA CONC 7.3.4R, a rule; read in the '
        "Handbook's related-provisions listings and its CONC 7.3 page as of 2016; from 2025 "
        'the section speaks of customers "in or approaching arrears or in default"). '
        'CONC 7.3.5G (guidance) gives examples, "as may be relevant in the circumstances": '
        "considering suspending, reducing, waiving or cancelling further interest or "
        "charges, allowing a longer period to repay, accepting token payments for a "
        "reasonable time, directing the customer to free and independent debt advice. The "
        "firm should allow the customer reasonable time and opportunity to repay, not "
        "refuse a reasonable proposal for affordable payments, and not operate a policy of "
        "refusing to negotiate with a customer developing a repayment plan (the same "
        "section); it must not pressurise them (CONC 7.3.10R, `UK-PRESSURE`).\n\n"
        "**How the engine reads it.** The duty runs through the whole of arrears and "
        "which measure fits is the firm's judgment; the engine checks the step it can see: "
        "a contact whose purpose is `legal_action` (a letter before claim, a call about "
        "proceedings), by any channel, is denied until a `forbearance` notice is on record "
        "on that debt (`Engine.record_notice`), the firm's record that it considered and "
        "offered forbearance. No time lifts it (`next_allowed_at` none). It is read per "
        "debt: forbearance offered on one account does not clear legal action on another. "
        "Other contacts are not held by it.\n\n"
        "**Whom it binds.** Every role: CONC 7.3 binds lenders, owners and debt collectors.\n\n"
        + _cases(
            ("no legal action before forbearance", "uk/forbear_before_legal_action.yaml"),
            ("legal action once it is offered", "uk/forbear_offered_legal_action_allowed.yaml"),
            (
                "a reminder goes; legal action waits by call or letter; an offer on another "
                "account does not count",
                "uk/forbear_judges_legal_action_only.yaml",
            ),
        )
    ),
    "UK-DECEASED": (
        "**The law.** CONC has no provision naming the deceased customer (none was found in "
        'CONC 7 as read here). In debt collecting the customer includes "a person to whom '
        "rights and duties under the agreement are passed by assignment or operation of "
        "law\" (CONC 7.3.1G(2), read in the Handbook's CONC 7.3): on death, the personal "
        'representatives who administer the estate. A firm "must not disclose details of '
        "a debt to an individual without first establishing, by suitably appropriate "
        'means, that the individual is (or acts on behalf of) the borrower" (CONC 7.9.10R) '
        "and must not unfairly disclose it to a third party (CONC 7.9). Bereavement is a "
        "life event the FCA names among the drivers of vulnerability in FG21/1, to which "
        "CONC 7.2.2AG refers, and its 2025 review of how banks treat bereaved customers asks "
        "firms to recognise and respond to them (both as reported by trade publications; "
        "FG21/1 itself was not read here) [confirm].\n\n"
        "**How the engine reads it.** A `deceased` hold denies every contact addressed to "
        "the customer, by any channel and for any purpose, a reply included (whoever "
        "answers the customer's phone or mail is someone else), until released. Recorded on "
        "one account it is journaled on each of the person's accounts "
        "(`arrears.holds.HOLD_REACH`). The executor or administrator, once established as "
        "acting for the estate, is a third party reached with purpose `representative` "
        "(`UK-3P`); a collection contact to anyone else, relatives included, is `UK-3P`'s "
        "to deny.\n\n"
        "**Whom it binds.** Every role.\n\n"
        + _cases(
            (
                "no call to the customer; a letter to the executor as representative",
                "uk/deceased_no_contact_addressed_to_customer.yaml",
            ),
            (
                "no letter or text either, about any account",
                "uk/deceased_every_channel_and_every_account.yaml",
            ),
        )
    ),
    "CN-HOURS": (
        "**The rule.** GB/T 45251-2025 (互联网金融 个人网络消费信贷 贷后催收风控指引, "
        "issued and in force 2025-02-28 by SAMR and SAC): 双方未约定催收时间的，催收作业不应"
        "在每日22:00至次日8:00催收 (no collection from 22:00 to 08:00 unless the times were "
        "agreed). The China Banking Association's 金融机构个人消费类贷款催收工作指引(试行) "
        "(published 2026-01-30, seven chapters and 54 articles) says the same for calls, "
        "visits and any other collection: 未经债务人同意，严禁在每日晚22:00至次日早8:00进行"
        "电话催收、外访催收及其他催收. Both as quoted in reports (希财网 on the standard; "
        "中新网 and 中国证券报, 2026-01-30/31, on the guideline): [confirm the clauses] "
        "against the texts. The agreement covers the contact the "
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
        "**The rule.** The national standard GB/T 45251-2025 互联网金融 个人网络消费信贷 "
        "贷后催收风控指引, as quoted by 北京商报 (2025-03-13): collect only from the debtor, "
        "never from contact persons "
        "(只向债务人催收，不应向联系人催收). A contact person may be contacted only when the "
        "debtor cannot be reached (to restore contact), or has died or lacks capacity (to "
        "reach heirs or others concerned); they may only be asked for a way to reach the "
        "debtor or to pass on a message, never told the amount or age of the debt. If they "
        "refuse, or ask not to be contacted again, they are not contacted again. When a "
        "contact person says they will pay for the debtor, the information needed to pay may "
        "be given.\n\n"
        "**How the engine reads it.** Allowed purposes: `location`, `relay` and `reply` (an "
        "answer to the contact person's own contact, `CN-REPLY`, which alone may carry "
        "payment details). The standard lets lender and debtor agree in the contract when "
        "the debtor counts as unreachable (金融机构与债务人可通过协议约定等方式明确无法联系到"
        "债务人本人的具体场景); the China Banking Association guideline (2026) names the "
        "debtor's own number being invalid or 连续三次无法联系上本人 (three consecutive failures "
        "to reach them), as reported (epaper.csjrw.cn, 2026-02-04) [confirm the article]. "
        "Unreachable here "
        "means the last 3 attempts to reach the debtor failed (`failed_attempts`), about any "
        "of the "
        "borrower's loans (`across: debtor`): reachability is the borrower's, so an answer "
        "about one loan makes them reachable about every loan, and failed calls about "
        "different loans count together. A refusal is an "
        "opt-out on any medium at any of the person's contact points (or a contact point "
        "marked `opted_out`) and stops every medium at every contact point with that "
        "address, and at every contact point of the same person (`ContactPoint.person`). "
        "A refusal is the person's, not one loan's: recorded on one of the borrower's loans, "
        "it stops contact with that person (matched by address, or by the person) about every "
        "loan of the borrower. A spouse is a contact person like any other: CN has no "
        "relationship that counts as the debtor.\n\n"
        + _cases(
            (
                "a refusal on one loan reaches the borrower's other loans",
                "debtors/cn_contact_person_refusal_reaches_every_loan.yaml",
            ),
            (
                "a borrower who answers about one loan is reachable about the others",
                "debtors/cn_contact_person_not_while_the_debtor_answers_about_another_loan.yaml",
            ),
            (
                "failed calls about three loans make the borrower unreachable",
                "debtors/cn_failed_calls_about_every_loan_count_together.yaml",
            ),
            (
                "only when the debtor is unreachable",
                "cn/third_party_only_when_debtor_unreachable.yaml",
            ),
            (
                "after three failed attempts, a relay without the debt",
                "cn/third_party_after_three_failed_attempts.yaml",
            ),
            (
                "two failed attempts are not enough, the third is",
                "cn/third_party_not_after_two_failed_attempts.yaml",
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
            (
                "a refusal on one number stops the person's other numbers",
                "persons/cn_refusal_binds_every_number_of_the_person.yaml",
            ),
            (
                "a refusal about one loan stops contact about the debtor's other loans",
                "persons/cn_refusal_binds_every_loan_of_the_debtor.yaml",
            ),
            (
                "a spouse is a contact person: never asked to pay",
                "persons/cn_spouse_is_a_contact_person.yaml",
            ),
        )
    ),
    "US-ATTY": (
        '**The law.** A debt collector "must not communicate or attempt to communicate with a '
        "consumer in connection with the collection of any debt ... if the debt collector "
        "knows the consumer is represented by an attorney with respect to such debt and knows, "
        "or can readily ascertain, such attorney's name and address, unless the attorney fails "
        "to respond within a reasonable period of time to a communication from the debt "
        "collector or unless the attorney consents to the debt collector's direct "
        'communication with the consumer" (12 CFR 1006.6(b)(2)). The prohibitions of (b)(1)-(3) '
        'do not apply with "the prior consent of the consumer given directly to the debt '
        'collector" or the express permission of a court (1006.6(b)(4)). Once the collector '
        'knows of the attorney, it does "not communicate with any person other than that '
        'attorney" to acquire location information, "unless the attorney fails to respond '
        "to the debt collector's communication within a reasonable period of time\" "
        "(1006.10(b)(5)).\n\n"
        "**How the engine reads it.** Record an `attorney` hold when the attorney is known "
        "(the engine reads the hold as knowing, or able to ascertain, the name and address). "
        "It blocks every contact with the consumer, and location contacts with anyone else. "
        "It lifts for the consumer on the notice `attorney_consent` recorded after the hold "
        "began, and for the consumer and others when the attorney was sent a communication "
        "(notice `attorney_contacted`) and did not answer (no `attorney_responded` after it) "
        "within `response_days`, the day of the communication not counted. The rule names no "
        "number for a reasonable period, so `response_days` is unset and silence never lifts "
        "the bar: the reading that protects the consumer; a lender sets the period it can "
        "defend. The consumer's own direct consent does not lift it either unless the lender "
        "names the notice that records it (`consumer_consent_notice`): that consent must be "
        "given in a communication that did not itself breach (b)(2), which the engine cannot "
        "tell. A court's permission is not modelled (release the hold).\n\n"
        + _cases(
            ("no direct contact", "us_regf/atty_represented_no_direct_contact.yaml"),
            ("the attorney's consent lifts it", "us_regf/atty_attorney_consent_lifts_the_bar.yaml"),
            (
                "a consent from before the representation does not",
                "us_regf/atty_consent_before_representation_does_not_count.yaml",
            ),
            (
                "with 30 days set: denied at 23:59 on day 30, allowed at 00:00 on day 31",
                "us_regf/atty_silence_lifts_after_the_period_set.yaml",
            ),
            (
                "by default silence never lifts it",
                "us_regf/atty_silence_never_lifts_by_default.yaml",
            ),
            (
                "an attorney who answered is not silent",
                "us_regf/atty_answered_attorney_keeps_the_bar.yaml",
            ),
            (
                "the period runs from the latest unanswered communication",
                "us_regf/atty_silence_counts_from_the_latest_letter.yaml",
            ),
            (
                "no location calls to relatives",
                "us_regf/atty_no_location_calls_to_third_parties.yaml",
            ),
            (
                "the attorney's consent does not open location calls",
                "us_regf/atty_consent_does_not_open_third_parties.yaml",
            ),
            ("the attorney's silence does", "us_regf/atty_silence_opens_location_calls.yaml"),
            (
                "a representation with an end date",
                "us_regf/atty_representation_until_a_date.yaml",
            ),
            (
                "the consumer's own consent: off by default",
                "us_regf/atty_consumer_consent_does_not_lift_by_default.yaml",
            ),
            (
                "and honoured when the lender turns it on",
                "us_regf/atty_consumer_consent_when_the_lender_honours_it.yaml",
            ),
            (
                "the representation ended",
                "us_regf/atty_representation_ended_contact_allowed.yaml",
            ),
            (
                "the attorney, named as a person, is the one to call; the spouse, the consumer "
                "for 1006.6, is not",
                "persons/regf_attorney_is_asked_while_representing.yaml",
            ),
        )
    ),
    "US-PLACE": (
        "**The law.** A debt collector must not communicate or attempt to communicate with a "
        'consumer "at any unusual place, or at a place that the debt collector knows or should '
        'know is inconvenient to the consumer" (12 CFR 1006.6(b)(1)(ii)), except with "the '
        'prior consent of the consumer given directly to the debt collector" '
        "(1006.6(b)(4)(i)). When the consumer starts a communication from a place they said is "
        "inconvenient, the collector may respond once, at that place and through the same "
        "medium (comment 6(b)(1)-2).\n\n"
        "**How the engine reads it.** The place the case knows is the consumer's work: every "
        "contact point marked `work` (phone, texts, e-mail, a visit). Record the consumer's "
        "statement as the notice `work_inconvenient`; it lasts until a consent for the "
        "`medium` at that contact point given after it (the consumer agrees to be contacted "
        "there again). A consent for `hours` lifts the hour, not the place. The one reply "
        "(purpose `reply`) answers a message or call from the consumer (recorded `inbound`, "
        "or an outcome `reply`) at that address, by that medium, after the statement, their "
        "latest contact and not answered yet (`US-REPLY`). Another place named inconvenient "
        "(a relative's home) is an address: record an opt-out of it (`US-MEDIUM`). A contact "
        "with the employer itself is a third-party contact (`US-3P`).\n\n"
        + _cases(
            (
                "the office line denied, the mobile allowed",
                "us_regf/place_work_inconvenient_denied_home_allowed.yaml",
            ),
            (
                "every contact point at work: call, text, e-mail, visit",
                "us_regf/place_covers_every_contact_point_at_work.yaml",
            ),
            (
                "a consent for the office restores it",
                "us_regf/place_consent_to_work_contact_restores_it.yaml",
            ),
            (
                "a consent for the mobile does not",
                "us_regf/place_consent_for_another_address_does_not_lift.yaml",
            ),
            (
                "a consent from before the statement does not",
                "us_regf/place_consent_before_the_statement_does_not_lift.yaml",
            ),
            (
                "a consent to the hour is not one to the place",
                "us_regf/place_hours_consent_is_not_place_consent.yaml",
            ),
            ("one reply by text, not a call", "us_regf/place_one_reply_to_a_text_from_work.yaml"),
            (
                "a text from before the statement opens no reply",
                "us_regf/place_reply_needs_a_contact_after_the_statement.yaml",
            ),
            (
                "the work e-mail with consent passes both rules",
                "us_regf/place_work_email_with_consent_passes_both_rules.yaml",
            ),
            (
                "without consent, two reasons",
                "us_regf/place_work_email_without_consent_two_reasons.yaml",
            ),
            (
                "a location call to the employer is a third-party contact",
                "us_regf/place_employer_location_call_is_not_a_contact_at_work.yaml",
            ),
            (
                "Washington's one call a week at work is taken away too",
                "us_wa/work_notice_bars_the_weekly_allowance.yaml",
            ),
        )
    ),
    "US-EMPLOYER": (
        "**The law.** A debt collector must not communicate or attempt to communicate with a "
        "consumer \"at the consumer's place of employment if the debt collector knows or has "
        "reason to know that the consumer's employer prohibits the consumer from receiving "
        "such communication\" (12 CFR 1006.6(b)(3)), except with the consumer's prior consent "
        "given directly to the collector (1006.6(b)(4)(i)).\n\n"
        "**How the engine reads it.** Record what the collector knows or has reason to know as "
        "the notice `employer_prohibits`; every contact point marked `work` is then denied, "
        "until the consumer's consent for the `medium` there. The one-reply allowance of "
        "comment 6(b)(1)-2 is for a place the consumer called inconvenient, not for the "
        "employer's prohibition: `reply_once` is off.\n\n"
        + _cases(
            (
                "the office denied, the mobile allowed",
                "us_regf/employer_prohibits_calls_at_work.yaml",
            ),
            ("no reply at work either", "us_regf/employer_prohibits_no_reply_at_work.yaml"),
            (
                "the consumer's direct consent lifts it",
                "us_regf/employer_prohibits_consumer_consent_lifts.yaml",
            ),
            (
                "with the consumer's own statement: two reasons",
                "us_regf/employer_and_consumer_both_said_no.yaml",
            ),
        )
    ),
    "UK-TIME": (
        '**The rule.** "A firm must not contact customers at unreasonable times and must pay '
        "due regard to the reasonable requests of customers (for example, customers who work "
        'in a shift pattern) in respect of when, where and how they may be contacted" (FCA '
        "CONC 7.9.4R, a rule). CONC names no hours: 08:00-21:00 is this library's default "
        "(`start`, `end`), and the times the customer named are honoured. CONC sets no number "
        "for how often a customer may be contacted either; no frequency rule is shipped for the "
        "UK (add a `FrequencyCap` of your own for your policy). Where and how are "
        "`UK-WHERE` and `UK-MEDIUM`. The requests are the customer's: the times named on any of "
        "their accounts are honoured on all (`named_times_reach: debtor`).\n\n"
        + _cases(
            (
                "times asked for on one account hold on another",
                "debtors/uk_medium_and_times_the_customer_asked_for_reach_every_account.yaml",
            ),
            (
                "07:59 denied, 08:00 and 20:59 allowed, 21:00 denied",
                "uk/time_window_boundaries.yaml",
            ),
            ("times the customer asked for", "uk/time_requested_times_respected.yaml"),
            ("when and where together", "uk/where_and_when_both_respected.yaml"),
        )
    ),
    "UK-WHERE": (
        "**The rule.** FCA CONC 7.9.4R (a rule): due regard to the customer's reasonable "
        'requests "in respect of when, where and how they may be contacted".\n\n'
        "**How the engine reads it.** As `US-PLACE`: the notice `work_inconvenient` bars every "
        "contact point marked `work`; a later consent for the `medium` there lifts it; one "
        "reply, by the medium the customer used, to a message from there.\n\n"
        + _cases(
            (
                "the work number denied, the mobile allowed",
                "uk/where_work_inconvenient_denied.yaml",
            ),
            ("one text in reply, not a call", "uk/where_one_reply_by_the_same_medium.yaml"),
            ("the customer agrees again", "uk/where_customer_agrees_to_work_contact_again.yaml"),
        )
    ),
    "UK-MEDIUM": (
        "**The rule.** FCA CONC 7.9.4R (a rule): due regard to the customer's reasonable "
        'requests about "how they may be contacted".\n\n'
        "**How the engine reads it.** As `US-MEDIUM`, without its opt-out statement (a Reg F "
        "requirement, not a CONC one): an opt-out of a medium or an address stops it (calls "
        "cover voicemail) until a consent for the `medium`; one electronic confirmation is "
        "allowed, back through the medium the request came by (`via`), none when that is not "
        "recorded. The request is the customer's: made on one account, it holds on all their "
        "accounts with the firm (`reach: debtor`).\n\n"
        + _cases(
            (
                "asked on one account, not e-mailed about another",
                "debtors/uk_medium_and_times_the_customer_asked_for_reach_every_account.yaml",
            ),
            ("no e-mail after an opt-out; calls allowed", "uk/medium_email_opt_out_respected.yaml"),
            ("one confirming text, then none", "uk/medium_one_confirmation_then_none.yaml"),
            ("no calls covers voicemail", "uk/medium_call_opt_out_covers_voicemail.yaml"),
            ("no opt-out sentence is required", "uk/medium_no_opt_out_sentence_required.yaml"),
            ("a consent restores it", "uk/medium_consent_restores_email.yaml"),
        )
    ),
    "UK-3P": (
        '**The rules.** "A firm must not unfairly disclose or threaten to disclose information '
        "relating to the customer's debt to a third party\" (CONC 7.9.6R). When contacting a "
        'customer "a firm must take reasonable steps to ensure that third parties do not '
        'become aware that the customer is being pursued in respect of a debt" (7.9.7R(2)). '
        '"A firm must not disclose details of a debt to an individual without first '
        "establishing, by suitably appropriate means, that the individual is (or acts on "
        'behalf of) the borrower" (7.9.10R). All three are rules (R); the examples of '
        'reasonable steps ("private and confidential" post, no collection name visible) are '
        "guidance (7.9.8G).\n\n"
        "**How the engine reads it.** A third party or the employer may be contacted to find "
        "the customer (`location`), to ask them to get in touch (`relay`) or to answer them "
        "(`reply`), never to collect, and the text never names the debt (the debt words: "
        "debt, owe, arrears, missed payments, outstanding balance, default…). Someone "
        "established to act for the customer (an executor, a debt adviser, an attorney under "
        "a power of attorney) is contacted with purpose `representative`, whose text may name "
        "the debt. When the case names the person, their relationship must be one that acts "
        "for the customer (`attorney`, `debt_adviser`, `executor`, `administrator`, "
        "`guardian`): a spouse, a parent or a contact person is a third party, whatever the "
        "purpose says. CONC sets no once-only limit on location questions (Reg F's is "
        "American).\n\n"
        + _cases(
            ("a relay, without the arrears", "uk/third_party_relay_without_the_debt.yaml"),
            ("never asked to pay", "uk/third_party_never_asked_to_pay.yaml"),
            ("location may be asked again", "uk/third_party_location_may_be_asked_again.yaml"),
            ("a reply gives no details", "uk/third_party_reply_gives_no_details.yaml"),
            (
                "a debt adviser acting for the customer",
                "uk/third_party_debt_adviser_may_discuss_the_debt.yaml",
            ),
            ("the employer is a third party too", "uk/third_party_employer_not_told.yaml"),
            (
                "a spouse is no representative; a debt adviser named as a person is",
                "persons/uk_spouse_is_not_a_representative.yaml",
            ),
            (
                "the executor of a deceased customer's estate",
                "uk/deceased_no_contact_addressed_to_customer.yaml",
            ),
        )
    ),
    "UK-OCCUPIER": (
        '**The guidance.** "A firm which: (1) threatens debt recovery action against the '
        "'occupier' of particular premises; or (2) sends a payment demand to all persons "
        "sharing the same name and date of birth or address as the customer; is likely to "
        'contravene CONC 7.9.10 R" (CONC 7.9.11G: guidance, on the rule 7.9.10R). The rule '
        "denies texts addressed to the occupier or to all residents.\n\n"
        + _cases(
            ("a letter to the occupier", "uk/occupier_letter_denied.yaml"),
            ("a demand to all residents", "uk/occupier_all_residents_denied.yaml"),
        )
    ),
    "UK-PRESSURE": (
        '**The rules.** "A firm must not pressurise a customer: (1) to pay a debt in one '
        "single or very few repayments or in unreasonably large amounts, when to do so would "
        "have an adverse impact on the customer's financial circumstances; (2) to pay a debt "
        "within an unreasonably short period of time; or (3) to raise funds to repay the debt "
        'by selling their property, borrowing money or increasing existing borrowing" (CONC '
        '7.3.10R). "A firm must not threaten to commence court action, including an '
        "application for a charging order or (in Scotland) an inhibition or an order for "
        "sale, in order to pressurise a customer in or approaching arrears or in default to "
        'pay more than they can reasonably afford" (CONC 7.3.18R, as the Handbook words it '
        'now; the 2018 and 2021 texts said "a customer in default or arrears difficulties"). '
        "Both are rules (R). The engine denies the court threat whatever the sum asked for: "
        "whether a sum is more than the customer can reasonably afford is not in the text "
        "of a message, and the wider reading protects the customer.\n\n"
        "**How the engine reads it.** Whether words pressurise is a person's judgment; the "
        "patterns catch the plain cases (court, bailiffs, prison, *sell your car*, *take out a "
        "loan to pay*, *the full balance within 24 hours*). Extend `patterns` with your own.\n\n"
        + _cases(
            ("no threats of court", "uk/pressure_no_court_threats.yaml"),
            ("no selling property to pay", "uk/pressure_sell_property_denied.yaml"),
            ("no borrowing to pay", "uk/pressure_borrow_to_pay_denied.yaml"),
            (
                "no whole balance within 24 hours; an affordable amount is fine",
                "uk/pressure_whole_balance_within_24_hours.yaml",
            ),
        )
    ),
    "CN-IDENTIFY": (
        "**The rule.** GB/T 45251-2025 and the China Banking Association guideline (2026), "
        "as reported (愉见财经 on the guideline: 催收不止要自报家门) [confirm the clauses]: "
        "in each collection contact the "
        "collector states the institution they act for and their own identity. The credit-card "
        "rules (2011, 商业银行信用卡业务监督管理办法) Art. 69 ask the same of a collection "
        "letter (the issuer's contact "
        "details and seal).\n\n"
        "**How the engine reads it.** A call or voice message whose script is known must name "
        "the institution (a self-introduction naming a bank, finance company, centre or "
        "platform, or a 【signature】) and, when a person makes it, the collector: a staff "
        'number (工号) or "我是…专员/催收员/调解员 <name>". A bare "客服" is not an identity '
        '("客服热线" is a hotline). An AI voice names the institution only. An SMS is '
        "identified by its 【signature】 (`CN-SMS`). Override `required` and `personal` to "
        "match your scripts.\n\n"
        + _cases(
            (
                "neither, or the institution alone, denied; both allowed",
                "cn/identify_call_names_institution_and_collector.yaml",
            ),
            ("the hotline is not an identity", "cn/identify_hotline_is_not_an_identity.yaml"),
            (
                "an AI voice names the institution",
                "cn/identify_ai_voice_names_the_institution.yaml",
            ),
            ("voice messages too", "cn/identify_voicemail_too.yaml"),
            (
                "an SMS is identified by its signature",
                "cn/identify_sms_is_identified_by_its_signature.yaml",
            ),
            ("a call to a contact person too", "cn/identify_contact_person_call.yaml"),
        )
    ),
    "CN-EXPOSURE": (
        "**The rules.** The credit-card business rules (2011) Art. 68: collection is directed "
        'at the debtor and their guarantor, "不得对与债务无关的第三人进行催收" (not at a third '
        "party unrelated to the debt). The NIFA self-discipline convention (2018) and the "
        "national standard GB/T 45251-2025 forbid spreading the debtor's information and "
        "exposing the debt; the China Banking Association guideline (2026) forbids posting "
        "collection notices or lawyers' letters in public places (严禁在公众场所张贴催收公告、"
        "律师函等文书, as 中新网 reported it). The Personal Information Protection Law: "
        '"任何组织、个人不得非法收集、使用、加工、传输他人个人信息，不得非法买卖、提供或者公开'
        '他人个人信息" (Art. 10); "个人信息处理者不得公开其处理的个人信息，取得个人单独同意的'
        '除外" (Art. 25); the lawful bases for processing are Art. 13. Group messages (群发, '
        "group chats) are named in reports of the 2025 standard, not in a text read here "
        "[confirm].\n\n"
        "**How the engine reads it.** Denied: a contact whose purpose is `group_message`, "
        "whoever it is for; a third party the case does not list as a contact person (named "
        "by `party` only, a number found elsewhere); the employer, listed or not (the reading "
        "that protects the debtor: the employer is never a contact person for a consumer "
        "loan; a lender whose borrowers name it sets `unrelated_parties: []`); a text that "
        'publicises the debt or threatens to (曝光, 朋友圈, 公示, 通讯录, "we will contact '
        'your family"…). Contacts with listed contact persons are judged by '
        "`CN-THIRD-PARTY`.\n\n"
        + _cases(
            ("a group message denied", "cn/exposure_group_message_denied.yaml"),
            (
                "a group message to contact persons",
                "cn/exposure_group_message_to_contact_persons.yaml",
            ),
            (
                "a third party not on file is unrelated",
                "cn/exposure_person_not_on_file_is_unrelated.yaml",
            ),
            ("the employer is never contacted", "cn/exposure_employer_is_never_contacted.yaml"),
            (
                "a lender that relaxes it for the employer",
                "cn/exposure_employer_allowed_when_the_lender_relaxes.yaml",
            ),
            ("publicity in the text", "cn/exposure_publicity_in_the_text_denied.yaml"),
            (
                "a threat to tell the family: two rules",
                "cn/exposure_threat_to_tell_family_two_rules.yaml",
            ),
        )
    ),
    "UK-TIMEBAR": (
        "**The law.** In England and Wales an action on a simple contract debt may not be "
        "brought after six years from the date the cause of action accrued (Limitation Act "
        "1980 s.5; six years in Northern Ireland too); a written acknowledgement or a payment "
        "starts the period again (s.29(5)), but a debt already barred is not revived "
        "(s.29(7)). In Scotland the obligation prescribes after five years and is "
        "extinguished (Prescription and Limitation (Scotland) Act 1973 s.6). CONC 7.15: "
        '7.15.1G "In England, Wales and Northern Ireland, the limitation period is generally '
        'six years in relation to debt. In Scotland, the prescriptive period is five years"; '
        '7.15.3G "In Scotland, a statute barred debt ceases to exist and is no longer '
        'recoverable" (unless claimed or acknowledged within the period); 7.15.4R "A firm '
        "must endeavour to ensure that it does not mislead a customer as to the customer's "
        'rights and obligations"; 7.15.7G "it is misleading for a firm to suggest or state '
        "that a customer may be the subject of court action for the sum of the statute "
        "barred debt when the firm knows, or reasonably ought to know, that the relevant "
        'limitation period has expired"; 7.15.8R "a firm must not continue to demand payment '
        "from a customer after the customer has stated that he will not be paying the debt "
        'because it is statute barred".\n\n'
        "**How the engine reads it.** The period runs from the case's first missed due date, "
        "or from the notice `acknowledged` (a written acknowledgement or a part payment) when "
        "it came before the period ran out. From the day the debt is barred (the debtor's "
        "local date), court action (`legal_action`) is denied, and so is any text that "
        "mentions court, judgments, bailiffs or says the debt is legally enforceable "
        "(`threat_words`). A payment request that threatens nothing is still allowed "
        "until the customer's statement is recorded as the notice `statute_barred_refusal`; "
        "from then on every contact but a `reply` is denied. A statement recorded before the "
        "debt is barred takes effect from the day it is. For a Scottish debt override "
        "`limitation_years: 5` and `extinguished: true`: every demand stops once it "
        "prescribes, whatever the customer said. The rule does not know where a debt is "
        "governed: the pack's default is England and Wales.\n\n"
        + _cases(
            (
                "court action allowed on the last day, denied from the day it is barred; "
                '"legally enforceable" denied',
                "uk/timebar_no_court_action_once_statute_barred.yaml",
            ),
            (
                "the customer's refusal ends demands; a reply allowed",
                "uk/timebar_refusal_ends_demands_for_payment.yaml",
            ),
            (
                "a refusal before the debt is barred takes effect only when it is",
                "uk/timebar_refusal_before_the_bar_does_not_stop_demands.yaml",
            ),
            (
                "an acknowledgement within the six years starts them again",
                "uk/timebar_acknowledgement_restarts_the_six_years.yaml",
            ),
            (
                "an acknowledgement after they ran out revives nothing",
                "uk/timebar_acknowledgement_after_the_bar_does_not_revive.yaml",
            ),
            (
                "a Scottish debt: five years, then extinguished",
                "overrides/uk_timebar_scottish_debt_extinguished_after_five_years.yaml",
            ),
        )
    ),
    "UK-CAPACITY": (
        "**The law.** A firm must suspend the pursuit of recovery of a debt when it has been "
        "told that the customer might not have the mental capacity to make the relevant "
        "financial decisions or to engage in the recovery process, or understands or ought "
        "reasonably to be aware that they lack it (FCA CONC 7.10.1R). It should allow the "
        "customer, or someone acting for them, a reasonable time to provide evidence of the "
        "effect of the limitation (7.10.2G), and may still pursue the debt through a "
        "responsible third party acting for the customer with their prior consent, such as "
        "the attorney under a registered lasting power of attorney (7.10.3G). A customer in "
        "mental health crisis treatment is protected further by the crisis moratorium "
        "(`UK-MHCM`); CONC 7.2.1R asks for policies for particularly vulnerable customers.\n\n"
        "**How the engine reads it.** Record a `mental_capacity` hold when the firm is told "
        "or becomes aware. It blocks every contact with the customer but a `reply` until it "
        "is released (`default_days: 0`): the debtor-protective reading, since CONC names no "
        "period. A lender whose written policy gives a fixed period for evidence overrides "
        "`default_days` (London days, the day recorded being the first), citing CONC "
        "7.10.2G; a hold with an `until` ends then. Contact with a third party recorded as "
        "`representative` is judged by `UK-3P`, not by this rule. Signposting to free debt "
        "advice is the firm's step, recorded as a notice; the rule does not demand it.\n\n"
        + _cases(
            (
                "collection denied with no end; a reply and the attorney allowed",
                "uk/capacity_recovery_suspended_until_released.yaml",
            ),
            ("contact resumes when released", "uk/capacity_contact_resumes_when_released.yaml"),
            (
                "a lender's 30-day period ends at the end of the 30th day",
                "overrides/uk_capacity_lender_sets_a_thirty_day_period.yaml",
            ),
        )
    ),
    "US-RECORDS": (
        "**The law.** A debt collector must retain records that are evidence of compliance or "
        "noncompliance with the FDCPA and Regulation F from the day it begins collection "
        "activity on a debt until three years after its last collection activity on it "
        "(12 CFR 1006.100(a)); a recorded telephone call is kept three years after the call "
        "(1006.100(b)).\n\n"
        "**How the engine reads it.** It judges no contact. The case's last journal entry "
        "stands for its last collection activity (never earlier than it, so nothing goes "
        "early; every recorded call is on or before it). `Engine.check_purge(case_id)` and "
        "`arrears.compliance.check_purge` refuse a purge before three years after that "
        "entry, naming this rule and its citation; `retention_until` gives the date. Run the "
        "check before the retention procedure's export and delete (see the operations "
        "guide). Tested in `tests/test_retention.py`."
    ),
    "US-REPLY": (
        "**The law.** Regulation F lets a debt collector respond once to a communication "
        "the consumer initiates from a place they said is inconvenient, through the same "
        "medium (12 CFR 1006.6(b)(1)(ii), comment 6(b)(1)-2); Washington excepts from its two "
        'calls or texts a day a licensee "responding to a communication from the debtor or '
        "the person to whom the call, text message, or other electronic communication is "
        'made" (RCW 19.16.250(18)). Neither reaches a contact the collector starts: the '
        "rules that let a `reply` through (`US-PLACE`, `US-WA-CELL`) rely on this one to "
        "check that it is one.\n\n"
        + _REPLY_READING
        + _cases(
            (
                "a text marked reply when the debtor wrote nothing; as collection, the third",
                "us_wa/cell_reply_without_a_text_from_the_debtor_denied.yaml",
            ),
            (
                "the debtor's text opens one reply; a second needs another text",
                "us_wa/cell_reply_answers_the_debtors_text_once.yaml",
            ),
            (
                "the spouse's text opens a reply to the spouse, not to the debtor",
                "persons/wa_spouse_text_opens_a_reply_to_the_spouse_only.yaml",
            ),
            (
                "a text about one loan answered on the other: the one reply on both",
                "debtors/us_wa_reply_to_a_text_about_another_loan.yaml",
            ),
            (
                "a lender answers within 3 days",
                "overrides/us_reply_window_set_by_the_lender.yaml",
            ),
            ("one reply by text from work", "us_regf/place_one_reply_to_a_text_from_work.yaml"),
        )
    ),
    "UK-REPLY": (
        "**The law.** The breathing space and mental health crisis moratoriums stop contact "
        "demanding payment, not an answer to the debtor's own query (SI 2020/1311 regs 7, "
        "11: `UK-BS`, `UK-MHCM`); so does the suspension of recovery while the customer may "
        "lack capacity (CONC 7.10.1R: `UK-CAPACITY`) and a refusal to pay a statute-barred "
        "debt (CONC 7.15: `UK-TIMEBAR`). A third party who contacted the firm may be answered "
        "without being told of the debt (CONC 7.9: `UK-3P`), and a customer who writes from "
        "a place they asked not to be contacted at may be answered once (CONC 7.9.4R: "
        "`UK-WHERE`). Each of these is an answer to a contact the person started.\n\n"
        + _REPLY_READING
        + _cases(
            (
                "in a breathing space, a reply with no query to answer",
                "uk/breathing_space_reply_needs_the_debtors_query.yaml",
            ),
            (
                "a reply to the customer's query is allowed",
                "uk/breathing_space_reply_allowed.yaml",
            ),
            (
                "30 days to answer, then not a reply",
                "uk/reply_within_thirty_days_of_the_query.yaml",
            ),
            ("answering a partner who texted", "uk/third_party_reply_gives_no_details.yaml"),
        )
    ),
    "CN-REPLY": (
        "**The rule.** `CN-THIRD-PARTY` lets a contact person be answered (`reply`), and only "
        "an answer may carry what is needed to pay when they said they will pay for the "
        "debtor (national standard 2025: 当联系人明确表示愿意为债务人偿还欠款时，可视情况提供"
        "还款所需必要信息): an answer to their own contact.\n\n"
        + _REPLY_READING
        + _cases(
            (
                "another person's call opens no reply to the emergency contact",
                "cn/third_party_reply_needs_their_own_contact.yaml",
            ),
            (
                "the contact person calls to offer to pay: the reply may carry the details",
                "cn/third_party_reply_to_offer_to_pay.yaml",
            ),
        )
    ),
}


#: What a pack page says of the pack as a whole, after its introduction: the law it
#: leaves out, and why.
PACK_NOTES: Final[dict[str, str]] = {
    "US-WA": (
        "## What the engine does not judge\n\n"
        "The rules above are the subsections of RCW 19.16.250 a proposed contact can be "
        "judged by: its medium, whom and where it reaches, when, how often, and its text. "
        "Their defaults take the reading that protects the debtor; a lender relaxes one "
        "only in its configuration (`overrides`, or marking a number `landline: true`), "
        "each rule's section says how. The rest of the section is the lender's to keep, "
        "for the reasons given.\n\n"
        '**(19) A blocked caller ID.** No licensee shall "intentionally block its telephone '
        "number from displaying on a debtor's telephone.\" The engine places no call and a "
        "proposal does not say what number a call shows: it has no notion of caller ID, and "
        "no rule stands for it. The lender configures its dialler and its texting provider "
        "to present a number that displays (presentation allowed, not withheld, private or "
        "anonymous), one that reaches it when called back, on every call to a debtor "
        "reached under this pack.\n\n"
        "**(17)'s collect calls and telegrams.** Its opening forbids calls and telegrams "
        "whose charges the addressee pays; the engine places neither. The charges a mobile's "
        "recipient may bear are `US-WA-CELL-WEEK`'s.\n\n"
        "| subsection | what it forbids | why the engine does not judge it |\n"
        "|---|---|---|\n"
        "| (1) | collecting for an out-of-state creditor without a Washington office | "
        "licensing and business, not a contact |\n"
        "| (2) | means contrary to the postal laws | how a letter is carried, outside the "
        "engine |\n"
        "| (4) | a badge, a uniform, an implied connection with law enforcement or "
        "government | `US-FALSE` (Regulation F) matches a claim to be the police or a "
        "government in the text; badges and uniforms are not in a proposal |\n"
        "| (5) | the unauthorized practice of law | not in a contact |\n"
        "| (7) | a name other than the licensed one | the engine knows no name: a lender "
        "that gives its own to `US-WA-NOTICE` has its written messages checked for it |\n"
        "| (8)(b)-(e) | the original creditor's name; the itemization of the first notice, "
        "or of a changed amount | a text is not parsed for amounts: the lender's letter "
        "templates carry them (`US-WA-NOTICE` judges (8)(a)) |\n"
        "| (9) | a first written communication through legal process without (8)(c)'s "
        "itemization | legal process is outside the engine |\n"
        "| (10) | telling third parties of the claim, but as (a)-(e) allow | a case does "
        "not record a judgment nor the written notice (10)(c) and (d) wait on; Regulation "
        "F's `US-3P` judges contacts with third parties, the employer among them |\n"
        "| (12) | communicating with a debtor an attorney represents | `US-ATTY` "
        "(Regulation F) stops contacts while an `attorney` hold is on; (12)'s exception, an "
        "attorney who does not answer the licensee's written request, is the lender's to "
        "judge: it ends the hold |\n"
        "| (14) | forms simulating judicial process, government documents, telegrams or "
        "emergency messages | a form's look is not in its text |\n"
        "| (15), (16), (21), (22) | fees that cannot legally be added; threats of action "
        "that cannot legally be taken; sums beyond those the law allows | what is lawful "
        "turns on the contract and the facts, which the engine does not hold |\n"
        "| (18)'s and (17)(b)'s safe harbour | a commercial cellular list updated monthly "
        "| the lender's to keep: it marks the numbers absent from the list `landline: "
        "true` |\n"
        "| (23), (25)-(27) | suits and arbitration barred by limitation; vehicle transfers; "
        "bonds; unfiled summonses | litigation, outside the engine (`US-TIMEBAR` judges a "
        "threat of suit on a time-barred debt) |\n"
        "| (24) | oral contact about a disputed series of dishonoured checks | a case does "
        "not record a series of instruments nor a police report |\n"
        "| (28), (29) | medical and hospital debt: first-notice statements, itemized "
        "statements on request, no credit report for 180 days, no collection while charity "
        "care is pending | a case does not record that a debt is medical or hospital debt "
        "nor a charity-care application |\n"
    ),
    "US-NY": (
        "## What this pack leaves out\n\n"
        "**23 NYCRR 1** (the Department of Financial Services' rule for debt collectors, in "
        'force since 2015) binds debt collectors only: "Does 23 NYCRR 1 apply to the '
        'collection of debts by original creditors? A. No." (DFS, FAQs on 23 NYCRR 1). What '
        "it requires is mostly written notices and records (the disclosures of 1.2 within "
        "five days of the first communication, the statute-of-limitations notice of 1.3, "
        "substantiation on request, 1.4) that a lender sends and keeps outside this library; "
        "their Regulation F counterparts are `US-VALID` and `US-RECORDS`.\n\n"
        "**The proposed amendments to 23 NYCRR 1** (DFS-50-21-00016-P, 2021, revised in "
        "December 2022) would have limited debt collectors to one telephone call and three "
        "attempted calls per seven days per consumer and required written, revocable consent "
        "for e-mail and text messages (Hinshaw & Culbertson, October 2021; Troutman Pepper, "
        "January 2023). The proposal lapsed unadopted: the Department did not publish it for "
        "adoption by its deadline, March 15, 2023 (Maurice Wutscher, March 2023). No notice "
        "of adoption, and no later proposal, was found in the sources searched for this "
        "page (the published copies of 23 NYCRR 1, law-firm and trade-press reports to "
        "2026, the Department's FAQs); the copy of the regulation read, \"Below are the "
        'complete debt-buyer regulations promulgated in 2015" (The Langel Firm), has the '
        "2015 text. Whether the 2015 rule has a section 1.6 could not be settled: the copies "
        "found were read only to section 1.1, and of the sections of Part 1 only 1.2 was "
        "found on its own (Justia, Casetext) [confirm]. Reports of the rule as adopted say "
        "it lets consumers have collectors communicate with them by e-mail (Credit Union "
        "Times, December 2014), and of its revised proposal of July 2014 that only the "
        "consumer may start electronic communication and that e-mail may not go to an "
        "address the employer operates, the consumer affirming the address is not a work "
        "one (insideARM, July 2014); these are reports, not the rule's words, and the pack "
        "adds no rule on them: Regulation F's `US-WORKEMAIL` (12 CFR 1006.22(f)(3)) already "
        "keeps a debt collector's e-mail from an address it knows the employer provides, "
        "unless the consumer consented. "
        "The pack does not encode the "
        "proposal. A lender who holds it in force, or applies it by choice, adds a "
        "`FrequencyCap` and a consent rule in a pack of its own (`register_pack`).\n\n"
        "**New York City** (6 RCNY 5-77, the Department of Consumer and Worker "
        "Protection's debt collection rules, in force since September 1, 2026) applies to "
        "consumers in the city only, and has its own pack, [US-NYC](US-NYC.md), built on "
        "this one from the DCWP's guidance and reports of the rule, whose text was not "
        "found; that page says what was read. The city has no ISO 3166 code: a lender "
        "reaches the pack by mapping `US-NY` to `[US-NY, US-NYC]` in `jurisdictions`, "
        "which holds every New York debtor to the city's rules, or by a policy of its own "
        "whose `packs` name `US-NYC` for the debtors it knows live in the city."
    ),
    "US-NYC": (
        "## Where the city is\n\n"
        "New York City has no ISO 3166 code, so no debtor's `jurisdiction` names it "
        "([debtors](../debtors.md#where-the-debtor-is)). Two honest ways reach the pack:\n\n"
        "- `jurisdictions: {US-NY: [US-NY, US-NYC]}` holds every New York debtor to the "
        "city's rules: the protective reading when the lender cannot tell a city address "
        "from another;\n"
        "- a policy of its own, `packs: [US-NYC]` (which brings `US-NY` and `US-RegF`), for "
        "the debtors the lender knows live in the five boroughs, with its usual policy "
        "for the others.\n\n"
        "## What was read, and what this pack leaves out\n\n"
        "The rule's own text, as amended in 2024 and re-adopted with changes on February "
        "26, 2026, was searched for in stored copies of the Rules of the City of New York, "
        "the city's rules site and The City Record, and not found. The DCWP's Frequently "
        "Asked Questions on New Rules for Debt Collectors could be read only to their "
        'first answer (the Amended Rules "apply to: collection activities on or after" '
        'their effective date and "all debt accounts regardless of when the account was '
        'charged off or when debt collection began"); what the FAQs say of creditors is '
        "quoted from Orrick (April 2025). Every number of this pack comes from reports of "
        "the rule (Sheppard Mullin, August 2025; Tariq; Americollect, April 2026; NICE, "
        "2026; ABA Banking Journal, February 26, 2026) and is marked [confirm].\n\n"
        "**Hours.** The reports read give no hours of the city's own; `US-NY-HOURS` "
        "(08:00 to 21:00 at the debtor's location, every role) applies.\n\n"
        "**Left to the lender's letters and records**, as reported: the validation notice "
        "within five days of the first contact, the notices on time-barred and medical "
        "debt, the consumer-reporting notice sent through one medium used with the "
        "consumer, disputes in any mode the consumer uses and verification within 60 days, "
        "language preferences, and the records of every communication and attempt (6 RCNY "
        "2-193) for three years. Social-media messages are no channel of this library."
    ),
}
