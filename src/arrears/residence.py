"""Where a debtor lives, read from their postal address: an ISO 3166 code, or nothing.

`residence_of` turns an address into the code `Debtor.residence` holds:
the state, nation or province where that can be told from the address
itself, else the country, else ``None``.  It reads three kinds of address,
and each only by marks that name one place:

- **United States**: a USPS state abbreviation before a ZIP code, or a
  state's full name (``Boston, MA 02110``, ``Boston, Massachusetts 02110``)
  at the end of the address.  The District of Columbia is ``US-DC``; Puerto
  Rico, Guam, the U.S. Virgin Islands, American Samoa and the Northern
  Mariana Islands are their ISO 3166-2:US codes (``US-PR``…); an APO/FPO
  address (``AA``, ``AE``, ``AP``) is ``US``; the freely associated states
  that use ZIP codes are their own countries (``FM``, ``MH``, ``PW``).
- **United Kingdom**: the area of a postcode (its leading letters): ``BT`` is
  Northern Ireland (``GB-NIR``), the Scottish areas ``GB-SCT``, the Welsh
  ``GB-WLS``, the others ``GB-ENG``.  An area that straddles a border gives
  the country alone (``GB``).  The Crown Dependencies' postcodes are their
  own codes (``IM``, ``JE``, ``GG``): they are not in the United Kingdom.
- **China**: the province-level division named at the start of an address
  written in Chinese (``广东省深圳市…``), by its full name, as its ISO 3166-2:CN
  code (``CN-GD``).  Hong Kong, Macao and Taiwan have laws of their own and
  are given their ISO 3166-1 codes (``HK``, ``MO``, ``TW``), so that mainland
  rules never judge a debtor there by default.

Nothing is guessed: an address that names two places, or none this module
knows, gives ``None`` (or the country given).  The address is read and
forgotten: it is never logged, kept or repeated in an error.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from .errors import InvalidInput
from .limits import ADDRESS, check_text

__all__ = ["COUNTRY", "residence_of"]

COUNTRY: Final = re.compile(r"[A-Z]{2}\Z")
"""An ISO 3166-1 alpha-2 country code in upper case, as `residence_of` takes it."""

# -- United States ----------------------------------------------------------------------

#: USPS state and territory abbreviations with their ISO 3166-2:US code (or, for the
#: armed forces' and the freely associated states', the ISO 3166-1 code of the country).
_USPS: Final = {
    **{
        code: f"US-{code}"
        for code in [
            "AL",
            "AK",
            "AZ",
            "AR",
            "CA",
            "CO",
            "CT",
            "DE",
            "FL",
            "GA",
            "HI",
            "ID",
            "IL",
            "IN",
            "IA",
            "KS",
            "KY",
            "LA",
            "ME",
            "MD",
            "MA",
            "MI",
            "MN",
            "MS",
            "MO",
            "MT",
            "NE",
            "NV",
            "NH",
            "NJ",
            "NM",
            "NY",
            "NC",
            "ND",
            "OH",
            "OK",
            "OR",
            "PA",
            "RI",
            "SC",
            "SD",
            "TN",
            "TX",
            "UT",
            "VT",
            "VA",
            "WA",
            "WV",
            "WI",
            "WY",
            "DC",
            "PR",
            "VI",
            "GU",
            "AS",
            "MP",
        ]
    },
    "AA": "US",
    "AE": "US",
    "AP": "US",
    "FM": "FM",
    "MH": "MH",
    "PW": "PW",
}
_STATE_NAMES: Final = {
    "alabama": "US-AL",
    "alaska": "US-AK",
    "arizona": "US-AZ",
    "arkansas": "US-AR",
    "california": "US-CA",
    "colorado": "US-CO",
    "connecticut": "US-CT",
    "delaware": "US-DE",
    "florida": "US-FL",
    "georgia": "US-GA",
    "hawaii": "US-HI",
    "idaho": "US-ID",
    "illinois": "US-IL",
    "indiana": "US-IN",
    "iowa": "US-IA",
    "kansas": "US-KS",
    "kentucky": "US-KY",
    "louisiana": "US-LA",
    "maine": "US-ME",
    "maryland": "US-MD",
    "massachusetts": "US-MA",
    "michigan": "US-MI",
    "minnesota": "US-MN",
    "mississippi": "US-MS",
    "missouri": "US-MO",
    "montana": "US-MT",
    "nebraska": "US-NE",
    "nevada": "US-NV",
    "new hampshire": "US-NH",
    "new jersey": "US-NJ",
    "new mexico": "US-NM",
    "new york": "US-NY",
    "north carolina": "US-NC",
    "north dakota": "US-ND",
    "ohio": "US-OH",
    "oklahoma": "US-OK",
    "oregon": "US-OR",
    "pennsylvania": "US-PA",
    "rhode island": "US-RI",
    "south carolina": "US-SC",
    "south dakota": "US-SD",
    "tennessee": "US-TN",
    "texas": "US-TX",
    "utah": "US-UT",
    "vermont": "US-VT",
    "virginia": "US-VA",
    "washington": "US-WA",
    "west virginia": "US-WV",
    "wisconsin": "US-WI",
    "wyoming": "US-WY",
    "district of columbia": "US-DC",
    "d.c.": "US-DC",
    "puerto rico": "US-PR",
    "guam": "US-GU",
    "american samoa": "US-AS",
    "northern mariana islands": "US-MP",
    "virgin islands": "US-VI",
    "u.s. virgin islands": "US-VI",
    "us virgin islands": "US-VI",
}
#: ZIP prefixes that tell the state of Washington from the city of Washington, D.C.
#: (the one state name that is also a city's name written without its state).
_WASHINGTON_ZIP: Final = range(980, 995)
_DC_ZIP: Final = frozenset({200, 202, 203, 204, 205, 569})
#: What comes before a ZIP or ZIP+4 code ending the address.
_ZIP_END: Final = re.compile(r"^(.*?)[\s,]*(?<![0-9])(\d{5})(?:-\d{4})?$")

# -- United Kingdom ---------------------------------------------------------------------

_SCOTLAND: Final = frozenset(
    ["AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "ZE"]
)
_WALES: Final = frozenset(["CF", "LL", "SA"])
#: Areas with addresses on both sides of a border (Royal Mail's areas follow post towns,
#: not nations): TD and CA (England and Scotland); CH, HR, LD, NP and SY (England and Wales).
_STRADDLING: Final = frozenset(["CA", "CH", "HR", "LD", "NP", "SY", "TD"])
_ENGLAND: Final = frozenset(
    [
        "AL",
        "B",
        "BA",
        "BB",
        "BD",
        "BH",
        "BL",
        "BN",
        "BR",
        "BS",
        "CB",
        "CM",
        "CO",
        "CR",
        "CT",
        "CV",
        "CW",
        "DA",
        "DE",
        "DH",
        "DL",
        "DN",
        "DT",
        "DY",
        "E",
        "EC",
        "EN",
        "EX",
        "FY",
        "GL",
        "GU",
        "HA",
        "HD",
        "HG",
        "HP",
        "HU",
        "HX",
        "IG",
        "IP",
        "KT",
        "L",
        "LA",
        "LE",
        "LN",
        "LS",
        "LU",
        "M",
        "ME",
        "MK",
        "N",
        "NE",
        "NG",
        "NN",
        "NR",
        "NW",
        "OL",
        "OX",
        "PE",
        "PL",
        "PO",
        "PR",
        "RG",
        "RH",
        "RM",
        "S",
        "SE",
        "SG",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SP",
        "SR",
        "SS",
        "ST",
        "SW",
        "TA",
        "TF",
        "TN",
        "TQ",
        "TR",
        "TS",
        "TW",
        "UB",
        "W",
        "WA",
        "WC",
        "WD",
        "WF",
        "WN",
        "WR",
        "WS",
        "WV",
        "YO",
    ]
)
#: Postcode areas outside the four nations: the Crown Dependencies are countries of their
#: own (ISO 3166-1); British Forces and non-geographic addresses are the country alone.
_ELSEWHERE: Final = {"IM": "IM", "JE": "JE", "GY": "GG", "BF": "GB", "BX": "GB"}
_POSTCODE: Final = re.compile(
    r"(?<![A-Z0-9])([A-Z]{1,2})[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2}(?![A-Z0-9])"
)
_NATIONS: Final = {
    "england": "GB-ENG",
    "scotland": "GB-SCT",
    "wales": "GB-WLS",
    "northern ireland": "GB-NIR",
}

# -- China ------------------------------------------------------------------------------

#: The province-level divisions by their full names (ISO 3166-2:CN, the letter codes of 2017).
_PROVINCES: Final = {
    "北京市": "CN-BJ",
    "天津市": "CN-TJ",
    "上海市": "CN-SH",
    "重庆市": "CN-CQ",
    "河北省": "CN-HE",
    "山西省": "CN-SX",
    "辽宁省": "CN-LN",
    "吉林省": "CN-JL",
    "黑龙江省": "CN-HL",
    "江苏省": "CN-JS",
    "浙江省": "CN-ZJ",
    "安徽省": "CN-AH",
    "福建省": "CN-FJ",
    "江西省": "CN-JX",
    "山东省": "CN-SD",
    "河南省": "CN-HA",
    "湖北省": "CN-HB",
    "湖南省": "CN-HN",
    "广东省": "CN-GD",
    "海南省": "CN-HI",
    "四川省": "CN-SC",
    "贵州省": "CN-GZ",
    "云南省": "CN-YN",
    "陕西省": "CN-SN",
    "甘肃省": "CN-GS",
    "青海省": "CN-QH",
    "内蒙古自治区": "CN-NM",
    "广西壮族自治区": "CN-GX",
    "西藏自治区": "CN-XZ",
    "宁夏回族自治区": "CN-NX",
    "新疆维吾尔自治区": "CN-XJ",
    "香港特别行政区": "HK",
    "澳门特别行政区": "MO",
    "台湾省": "TW",
    "香港特別行政區": "HK",
    "澳門特別行政區": "MO",
    "台灣省": "TW",
}
_CHINA_PREFIX: Final = re.compile(r"^(?:中华人民共和国|中國|中国)")
#: Hong Kong, Macao and Taiwan by their short names, read only after 中国 ("中国香港").
_REGIONS_CODES: Final = {"香港": "HK", "澳门": "MO", "澳門": "MO", "台湾": "TW", "台灣": "TW"}
_REGIONS: Final = re.compile("^(?:" + "|".join(_REGIONS_CODES) + ")")
_CHINA_START: Final = re.compile(
    "^(?:" + "|".join(sorted(map(re.escape, _PROVINCES), key=len, reverse=True)) + ")"
)

# -- countries named at the end ---------------------------------------------------------

_COUNTRY_NAMES: Final = {
    "usa": "US",
    "u.s.a": "US",
    "us": "US",
    "u.s": "US",
    "united states": "US",
    "united states of america": "US",
    "uk": "GB",
    "u.k": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "china": "CN",
    "p.r. china": "CN",
    "pr china": "CN",
    "prc": "CN",
    "people's republic of china": "CN",
    "中国": "CN",
    "中华人民共和国": "CN",
}
#: A country named at the end of an address, after a separator.
_COUNTRY_AT_END: Final = re.compile(
    r"(?:^|[\s,;]+)("
    + "|".join(
        re.escape(name).replace(r"\ ", r"\s+")
        for name in sorted(_COUNTRY_NAMES, key=len, reverse=True)
    )
    + r")\.?\s*$",
    re.IGNORECASE,
)
#: Characters at the end of an address searched for a country's name: the longest name
#: with room for the separators around it.
_COUNTRY_TAIL: Final = 64
_SEPARATORS: Final = re.compile(r"\s*[,;\n\r]+\s*")
_SPACES: Final = re.compile(r"\s+")


def residence_of(address: str, country: str | None = None) -> str | None:
    """The ISO 3166 code of where *address* is, as far as the address itself tells; else ``None``.

    The code of the state, nation or province when the address names one
    (``US-MA``, ``GB-SCT``, ``CN-GD``), else of the country when it is known
    (*country*, or a country named at the end of the address), else ``None``:
    an address that cannot be read is not an error.  What is read, and its
    limits, is in the module's description and on the debtors page (*Where the
    debtor is*).

    Args:
        address: A postal address, lines separated by commas or new lines.
        country: The address's country as an ISO 3166-1 alpha-2 code, when the
            lender knows it (``US``, ``GB``, ``CN``): only that country's marks
            are read, and it is the answer when none is found.  A code the
            address contradicts (a Scottish postcode for ``US``) gives *country*.

    Raises:
        InvalidInput: *address* is not text or is longer than
            `arrears.limits.ADDRESS` characters (field ``address``: its type or
            its length, never the text), or *country* is not a country code.

    Example:
        >>> residence_of("1 Federal St, Boston, MA 02110")
        'US-MA'
        >>> residence_of("10 Princes Street, Edinburgh EH2 2AN")
        'GB-SCT'
        >>> residence_of("广东省深圳市南山区科技园")
        'CN-GD'
        >>> residence_of("12 Rue de Rivoli, Paris") is None
        True
    """
    if not isinstance(address, str):
        raise InvalidInput("address", type(address).__name__, "text: a postal address")
    check_text("address", address, ADDRESS)
    if country is not None and (not isinstance(country, str) or not COUNTRY.match(country)):
        shown = country if isinstance(country, str) else type(country).__name__
        raise InvalidInput(
            "country", shown[:16], "an ISO 3166-1 alpha-2 code in upper case such as 'US'"
        )
    text = unicodedata.normalize("NFKC", address).strip()
    at_end = _COUNTRY_AT_END.search(text, max(0, len(text) - _COUNTRY_TAIL))
    if at_end is not None:
        named = _COUNTRY_NAMES[_SPACES.sub(" ", at_end.group(1)).lower()]
        if country is not None and named != country:
            return country  # the lender's word against the address's: theirs, no subdivision
        country = named
        text = text[: at_end.start()]
    parts = [part for part in _SEPARATORS.split(text) if part]
    found = {
        code
        for code in (
            _united_states(parts, country) if country in (None, "US") else None,
            _united_kingdom(parts, text) if country in (None, "GB") else None,
            _china(text) if country in (None, "CN") else None,
        )
        if code is not None
    }
    if country is not None:
        inside = {code for code in found if code.partition("-")[0] == country}
        return inside.pop() if len(inside) == 1 else country
    return found.pop() if len(found) == 1 else None


def _united_states(parts: list[str], country: str | None) -> str | None:
    """The state of a U.S. address: its last part is a state and a ZIP, or (in the U.S.) a state."""
    if not parts:
        return None
    last = _SPACES.sub(" ", parts[-1])
    matched = _ZIP_END.match(last)
    if matched is None:
        if country != "US":
            return None  # a state's name alone ends addresses elsewhere too (New York, England)
        if last.lower() == "washington":
            return "US"  # the state, or the city of Washington, D.C.: not told apart
        return _state(last.split(" "), upper_only=True)
    words = matched.group(1).split(" ") if matched.group(1) else []
    if not words and len(parts) > 1:
        words = _SPACES.sub(" ", parts[-2]).split(" ")  # "Boston, MA, 02110"
    code = _state(words, upper_only=False)
    if code == "US-WA" and words[-1].lower() == "washington":
        prefix = int(matched.group(2)[:3])
        if prefix in _WASHINGTON_ZIP:
            return "US-WA"
        return "US-DC" if prefix in _DC_ZIP else "US"
    return code


def _state(words: list[str], *, upper_only: bool) -> str | None:
    """The code of the state the last of *words* name: a USPS abbreviation or a full name."""
    if not words:
        return None
    last = words[-1]
    if len(last) == 2 and last.isalpha() and (last.isupper() or not upper_only):
        return _USPS.get(last.upper())
    for count in range(min(4, len(words)), 0, -1):  # "west virginia" before "virginia"
        code = _STATE_NAMES.get(" ".join(words[-count:]).lower())
        if code is not None:
            return code
    return None


def _united_kingdom(parts: list[str], text: str) -> str | None:
    """The nation of a U.K. address: its postcode's area, else a nation named at its end."""
    postcodes = _POSTCODE.findall(text.upper())
    nation = _NATIONS.get(_SPACES.sub(" ", parts[-1]).lower()) if parts else None
    if not postcodes:
        return nation
    areas = set(postcodes)
    if len(areas) > 1:
        return None  # two postcodes of different areas: which is the debtor's is not said
    area = areas.pop()
    if area in _ELSEWHERE:
        return _ELSEWHERE[area]
    if area in _SCOTLAND:
        found = "GB-SCT"
    elif area in _WALES:
        found = "GB-WLS"
    elif area == "BT":
        found = "GB-NIR"
    elif area in _ENGLAND:
        found = "GB-ENG"
    elif area in _STRADDLING:
        return nation if nation is not None else "GB"
    else:
        return None  # no such postcode area: not a U.K. postcode
    return found if nation is None or nation == found else "GB"


def _china(text: str) -> str | None:
    """The province-level division a Chinese address starts with; ``CN`` for ``中国`` alone."""
    rest, named = _CHINA_PREFIX.subn("", text, count=1)
    rest = rest.lstrip(" ,、")
    matched = _CHINA_START.match(rest)
    if matched is not None:
        return _PROVINCES[matched.group(0)]
    if named:
        region = _REGIONS.match(rest)
        return _REGIONS_CODES[region.group(0)] if region is not None else "CN"
    return None
