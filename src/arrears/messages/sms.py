"""SMS length: the encoding a text needs, its length in that encoding, and the parts it is sent in.

GSM 03.38 (3GPP TS 23.038) 7-bit text fits 160 characters in one message;
split, each part carries a 6-byte header and holds 153.  The characters of
the extension table (``^ { } [ ] ~ \\ | €`` and form feed) take two septets
each, and a part never ends between the two.  A text with any character
outside the GSM 7-bit alphabet is sent as UCS-2 (UTF-16): 70 code units in
one message, 67 per part, and a character outside the Basic Multilingual
Plane (an emoji) takes two units that are never split.

Chinese operators count the sender's 【signature】 as part of the text: pass
the signature when the gateway adds it, so it is counted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["GSM7_BASIC", "GSM7_EXTENDED", "SmsLength", "sms_segments"]

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 7-bit default alphabet: one septet each."""

GSM7_EXTENDED: Final = frozenset("\f^{}\\[~]|€")
"""The GSM 7-bit extension table: an escape and the character, two septets each."""

#: (one message, per part of a split message), in septets or UTF-16 code units.
_LIMITS: Final = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True, slots=True)
class SmsLength:
    """How an SMS text is encoded and into how many parts it is split.

    Attributes:
        encoding: ``"GSM-7"`` when every character is in the GSM 7-bit
            alphabet (basic or extension table), else ``"UCS-2"``.
        characters: The number of characters (Unicode code points).
        units: The length in the encoding: septets for GSM-7 (extension
            characters count twice), UTF-16 code units for UCS-2.
        segments: The number of messages the operator sends (and bills).
        per_segment: What one part holds: 160 or 153 (GSM-7), 70 or 67 (UCS-2).
        remaining: Units left in the last part before another is needed.
    """

    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    units: int
    segments: int
    per_segment: int
    remaining: int

    def __str__(self) -> str:
        parts = "part" if self.segments == 1 else "parts"
        return f"{self.characters} characters, {self.encoding}, {self.segments} {parts}"


#: A character outside the basic alphabet; outside the whole GSM 7-bit alphabet.
_NOT_BASIC: Final = re.compile(f"[^{''.join(map(re.escape, sorted(GSM7_BASIC)))}]")
_NOT_GSM7: Final = re.compile(f"[^{''.join(map(re.escape, sorted(GSM7_BASIC | GSM7_EXTENDED)))}]")
#: A character outside the Basic Multilingual Plane: two UTF-16 code units.
_ASTRAL: Final = re.compile("[\U00010000-\U0010ffff]")


def _widths(text: str) -> tuple[Literal["GSM-7", "UCS-2"], list[int]]:
    """The encoding and each character's width in it."""
    widths: list[int] = []
    for char in text:
        if char in GSM7_BASIC:
            widths.append(1)
        elif char in GSM7_EXTENDED:
            widths.append(2)
        else:
            return "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]
    return "GSM-7", widths


def sms_segments(text: str, *, signature: str | None = None) -> SmsLength:
    """The encoding, length and number of parts of an SMS.

    Args:
        text: The message as sent.
        signature: A sender signature the gateway adds before the text (e.g.
            ``"【安心消费金融】"``); Chinese operators bill it as part of the text.

    Example:
        >>> sms_segments("a" * 160).segments, sms_segments("a" * 161).segments
        (1, 2)
        >>> str(sms_segments("【安心消费金融】您有欠款待还。"))
        '15 characters, UCS-2, 1 part'
    """
    if signature:
        text = signature + text
    length = len(text)
    encoding: Literal["GSM-7", "UCS-2"] = "GSM-7"
    units = -1  # not known yet: counted character by character below
    if _NOT_BASIC.search(text) is None:
        units = length
    elif _NOT_GSM7.search(text) is not None and _ASTRAL.search(text) is None:
        encoding, units = "UCS-2", length
    if units == length:
        # One unit a character: the parts follow from the length alone.
        single, part = _LIMITS[encoding]
        if units <= single:
            return SmsLength(encoding, length, units, 1 if text else 0, single, single - units)
        segments = -(-units // part)
        return SmsLength(encoding, length, units, segments, part, segments * part - units)
    encoding, widths = _widths(text)
    single, part = _LIMITS[encoding]
    units = sum(widths)
    if units <= single:
        return SmsLength(encoding, len(text), units, 1 if text else 0, single, single - units)
    # Fill each part greedily; a double-width character never straddles two parts.
    segments, used = 1, 0
    for width in widths:
        if used + width > part:
            segments += 1
            used = 0
        used += width
    return SmsLength(encoding, len(text), units, segments, part, part - used)
