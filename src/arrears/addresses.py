"""Contact addresses in one form, so that one number or mailbox is one address.

A phone number reaches the same telephone however it is written: ``+86 138 1234
5678``, ``+8613812345678`` and, in China, ``138-1234-5678``.  The per-number caps
(``CN-CALLS-ATTEMPTS``: at most six unanswered calls a day to one number) and the
opt-outs carried to the debtor's other loans (12 CFR 1006.6(e), 1006.14(h)) compare
addresses, so each is kept in one form when its contact point is made:

* a phone number (``call``, ``sms``, ``voicemail``) in E.164, ``+`` and digits
  (`phone_e164`), with ``;ext=`` and the extension when it has one; a national
  number (no ``+``) is read in the debtor's country (`country_of`);
* an e-mail address with its domain in lower case (domains are not case-sensitive,
  RFC 5321 section 2.4; the local part is kept as given);
* anything else (a postal address, ``"unknown"``) as given.

A stored case is read back through the same validation, so a case stored before
addresses were kept in one form compares in it too; its journal is not rewritten.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Final

__all__ = [
    "PHONE_CHANNELS",
    "UNKNOWN",
    "country_of",
    "is_e164",
    "is_place_zone",
    "normal_address",
    "phone_e164",
    "zone_country",
]

#: The channels whose address is a phone number.
PHONE_CHANNELS: Final = frozenset({"call", "sms", "voicemail"})
#: The address of a contact point whose address is not known: kept as it is.
UNKNOWN: Final = "unknown"

#: A number as E.164 writes it: ``+``, then up to fifteen ASCII digits, the first not
#: zero (``\d`` would take the full-width digits of a Chinese keyboard as they are).
_E164: Final = re.compile(r"\+[1-9][0-9]{1,14}\Z")
#: A locale's region subtag: ``en-US`` → ``US`` (a numeric region names no country).
_LOCALE_REGION: Final = re.compile(r"-([A-Z]{2})\Z")


@lru_cache(maxsize=1 << 15)
def phone_e164(address: str, region: str | None = None) -> str | None:
    """*address* as an E.164 number (``+8613812345678``), or ``None`` when it is not one.

    An address with ``+`` is read as an international number; one without as a
    national number of *region* (an ISO 3166-1 code, ``US``), which it needs, and
    which must be a valid number there (``138 1234 5678`` is none in the US).
    Spaces, dashes, dots and parentheses are ignored, and so is a trunk prefix
    written after the country code (``+44 (0)20 …``).  An extension is kept after
    ``;ext=`` (RFC 3966).

    Remembered: reading a number costs tens of microseconds, and every case a store
    reads back is validated (a number already in E.164 is checked in a few).

    >>> phone_e164("+86 138 1234 5678")
    '+8613812345678'
    >>> phone_e164("(617) 555-0100", "US")
    '+16175550100'
    >>> phone_e164("(617) 555-0100") is None
    True
    """
    if _E164.match(address) and _plain_international(address):
        return address
    import phonenumbers  # here, not at the top: its data loads when first needed

    try:
        number = phonenumbers.parse(address, region)
    except phonenumbers.NumberParseException:
        return None
    if not number.national_number:  # pragma: no cover - the parser refuses these itself
        return None
    # A national number is read in the debtor's country as a guess: one that is no number
    # there (a Chinese mobile in the US, +1 381...) is refused, not kept wrong.
    national = region is not None and address.lstrip()[:1] not in ("+", "\uff0b")
    if national and not phonenumbers.is_valid_number(number):
        return None
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _E164.match(written):
        return None
    return f"{written};ext={number.extension}" if number.extension else written


def is_e164(address: str) -> bool:
    """True for a number in E.164, ``+`` and up to fifteen digits (then, maybe, ``;ext=``
    and an extension), as `phone_e164` writes it."""
    return _E164.match(address.partition(";ext=")[0]) is not None


def _plain_international(address: str) -> bool:
    """True when an E.164-looking *address* is already as the parser would write it: its
    country code is one, and no national (trunk) prefix follows it."""
    for length in (1, 2, 3):
        prefix = _national_prefix(address[1 : 1 + length])
        if prefix is not None:
            return prefix.match(address, 1 + length) is None
    return False


@lru_cache(maxsize=512)
def _national_prefix(code: str) -> re.Pattern[str] | None:
    """What the numbers of country calling code *code* may start with that is a trunk
    prefix (``0``, or ``1`` in North America), as a pattern that matches nothing when
    there is none; ``None`` when *code* is no country calling code.

    Read from the tables below, so that a number already in E.164 is checked without
    loading ``phonenumbers``.
    """
    number = int(code)
    if number in _NO_TRUNK_PREFIX:
        return _NOWHERE
    found = "0" if number in _TRUNK_PREFIX_ZERO else _TRUNK_PREFIX.get(number)
    return None if found is None else re.compile(found)


def _codes(text: str) -> frozenset[int]:
    return frozenset(int(code) for code in text.split())


# The trunk prefixes of every country calling code, as the ``phonenumbers`` library
# (9.0) parses them: its ``national_prefix_for_parsing`` of the code's main region.
# tests/test_contact_addresses.py checks them against the library installed.

#: A trunk prefix of a code that has none: a pattern that matches nowhere.
_NOWHERE: Final = re.compile(r"(?!)")
#: The country calling codes (ITU-T E.164) whose numbers take no trunk prefix.
_NO_TRUNK_PREFIX: Final = _codes(
    """
    30 34 39 45 47 48 52 56 65 216 220 221 222 223 224 225 226 227 228 229 230 235 236
    237 238 239 240 242 244 245 246 247 248 253 257 258 266 267 268 269 290 297 299 350
    351 354 356 357 371 372 376 420 500 501 502 503 504 505 507 509 592 597 599 670 673
    674 675 676 677 678 679 680 681 682 683 685 687 688 689 690 691 800 808 852 853 870
    878 881 882 883 888 960 965 968 973 974 975 979 992 998
    """
)

#: The country calling codes whose trunk prefix is ``0``.
_TRUNK_PREFIX_ZERO: Final = _codes(
    """
    20 27 31 32 33 40 41 43 46 49 51 53 58 60 62 63 64 66 84 90 91 92 93 94 95 98 211
    212 213 218 231 232 233 234 243 249 250 251 252 254 255 256 260 262 263 264 265 291
    353 355 358 359 373 374 377 380 381 382 383 385 386 387 389 421 508 590 593 594 595
    596 598 686 850 855 856 880 886 961 962 963 964 966 967 970 971 972 976 977 994 995
    996
    """
)

#: The other country calling codes, each with its trunk prefix as a pattern.
_TRUNK_PREFIX: Final[dict[int, str]] = {
    1: r"1",
    7: r"8",
    36: r"06",
    44: r"0|180020",
    54: (
        r"0?(?:(11|2(?:2(?:02?|[13]|2[13-79]|4[1-6]|5[2457]|6[124-8]|7[1-4]|8[13-6]"
        r"|9[1267])|3(?:02?|1[467]|2[03-6]|3[13-8]|[49][2-6]|5[2-8]|[67])"
        r"|4(?:7[3-578]|9)|6(?:[0136]|2[24-6]|4[6-8]?|5[15-8])|80|9(?:0[1-3]|[19]"
        r"|2\d|3[1-6]|4[02568]?|5[2-4]|6[2-46]|72?|8[23]?))|3(?:3(?:2[79]|6|8[2578])"
        r"|4(?:0[0-24-9]|[12]|3[5-8]?|4[24-7]|5[4-68]?|6[02-9]|7[126]|8[2379]?"
        r"|9[1-36-8])|5(?:1|2[1245]|3[237]?|4[1-46-9]|6[2-4]|7[1-6]|8[2-5]?)|6[24]"
        r"|7(?:[069]|1[1568]|2[15]|3[145]|4[13]|5[14-8]|7[2-57]|8[126])|8(?:[01]"
        r"|2[15-7]|3[2578]?|4[13-6]|5[4-8]?|6[1-357-9]|7[36-8]?|8[5-8]?"
        r"|9[124])))15)?"
    ),
    55: r"(?:0|90)(?:(1[245]|2[1-35]|31|4[13]|[56]5|99)(\d{10,11}))?",
    57: r"0([3579]|4(?:[14]4|56))?",
    61: r"(183[12])|0",
    81: r"(000[2569]\d{4,6})$|(?:(?:003768)0?)|0",
    82: r"0(8(?:[1-46-8]|5\d\d))?",
    86: r"(1(?:[12]\d|79)\d\d)|0",
    241: r"0(11\d{6}|60\d{6}|61\d{6}|6[256]\d{6}|7[467]\d{6})",
    261: r"([24-9]\d{6})$|0",
    298: r"(10(?:01|[12]0|88))",
    352: r"(15(?:0[06]|1[12]|[35]5|4[04]|6[26]|77|88|99)\d)",
    370: r"[08]",
    375: r"0|80?",
    378: r"([89]\d{5})$",
    423: r"(1001)|0",
    506: r"(19(?:0[0-2468]|1[09]|20|66|77|99))",
    591: r"0(1\d)?",
    672: r"([0-258]\d{4})$",
    692: r"1",
    993: r"8",
}


def normal_address(channel: str, address: str, region: str | None = None) -> str:
    """*address* of a contact point on *channel* in the form it is compared in.

    A phone number in E.164 (read in *region* when national); an e-mail address
    with its domain in lower case; anything else, and a number that cannot be read
    (a national one with no *region*), as given.

    >>> normal_address("sms", "+1 (617) 555-0100")
    '+16175550100'
    >>> normal_address("email", "Jane.Roe@Example.COM")
    'Jane.Roe@example.com'
    """
    if address == UNKNOWN:
        return address
    if channel in PHONE_CHANNELS:
        return phone_e164(address, region) or address
    if channel == "email":
        local, at, domain = address.strip().rpartition("@")
        return f"{local}@{domain.lower()}" if at else address
    return address


def country_of(
    jurisdiction: str | None,
    residence: str | None,
    zone: str | None,
    locale: str | None = None,
) -> str | None:
    """The country (ISO 3166-1) a debtor is in, as far as their fields tell, if any.

    The first known of: the country of their *jurisdiction* and of their *residence*
    (ISO 3166 codes, ``US-MA``: ``US``), that of their time *zone* (`zone_country`:
    ``America/New_York`` is in the US), and their *locale*'s region (``zh-CN``: ``CN``).
    ``None`` when none is known.

    >>> country_of(None, None, "America/New_York", "zh-CN")
    'US'
    """
    for code in (jurisdiction, residence):
        if code is not None:
            return code[:2]
    if zone is not None:
        country = zone_country(zone)
        if country is not None:
            return country
    found = _LOCALE_REGION.search(locale) if locale is not None else None
    return found.group(1) if found else None


def zone_country(zone: str) -> str | None:
    """The country (ISO 3166-1) of IANA time zone *zone*, as the time-zone database's
    ``zone.tab`` places it (``America/New_York``: ``US``), or the zone a link names
    (``US/Eastern``, ``PRC``); ``None`` for a zone of no one country (``UTC``), one named
    for an abbreviation or a rule (``EST``, ``EST5EDT``: `is_place_zone`) or one it does
    not list.

    >>> zone_country("Asia/Shanghai")
    'CN'
    """
    return _zone_countries().get(zone)


def is_place_zone(zone: str) -> bool:
    """Whether IANA time zone *zone* names a place: a zone the time-zone database's
    ``zone.tab`` lists (``America/New_York``), or a link kept for an older name of one
    (``US/Eastern``, ``PRC``) — the zones `zone_country` places in a country.

    Not a place: an abbreviation (``EST``, ``CET``), a POSIX rule (``EST5EDT``), a fixed
    offset (``Etc/GMT+5``), ``UTC`` and its other names.  ``EST`` is UTC-5 all year, a
    link to ``America/Panama``: a debtor in New York given it would have their hours
    judged an hour off all summer.

    >>> is_place_zone("US/Eastern"), is_place_zone("EST")
    (True, False)
    """
    return zone in _zone_countries()


#: The zones named for an abbreviation or a POSIX rule rather than a place, which recent
#: releases of the time-zone database make links to a place's zone of the same offset
#: (``EST`` to ``America/Panama``, ``CET`` to ``Europe/Brussels``): in no country.
_NOT_PLACES: Final = frozenset(
    {"CET", "EET", "MET", "WET", "EST", "HST", "MST", "EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT"}
)


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """Each time zone's country, from ``zone.tab`` of the ``tzdata`` package, and each
    link's (``tzdata.zi``) but an abbreviation's (`_NOT_PLACES`)."""
    try:
        text = (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - tzdata is required
        return {}
    countries: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            if len(fields) >= 3:
                countries[fields[2]] = fields[0]
    # A zone's other names (``PRC``, ``US/Eastern``, ``Asia/Chongqing``) are links, which
    # zone.tab does not list: each is in its zone's country, unless zone.tab places it.
    try:
        links = (resources.files("tzdata.zoneinfo") / "tzdata.zi").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - tzdata ships it
        links = ""
    for line in links.splitlines():
        if line.startswith("L "):
            _, target, name = line.split()
            if name not in countries and target in countries and name not in _NOT_PLACES:
                countries[name] = countries[target]
    return countries
