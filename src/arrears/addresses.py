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
    there is none; ``None`` when *code* is no country calling code."""
    import phonenumbers

    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(code))
    if not regions:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(int(code), regions[0])
    found = metadata.national_prefix_for_parsing if metadata is not None else None
    # No trunk prefix: a pattern that matches nowhere, so the address is kept as it is.
    return re.compile(found or r"(?!)")


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
    (``US/Eastern``, ``PRC``); ``None`` for a zone of no one country (``UTC``) or one it
    does not list.

    >>> zone_country("Asia/Shanghai")
    'CN'
    """
    return _zone_countries().get(zone)


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """Each time zone's country, from ``zone.tab`` of the ``tzdata`` package, and each
    link's (``tzdata.zi``)."""
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
            if name not in countries and target in countries:
                countries[name] = countries[target]
    return countries
