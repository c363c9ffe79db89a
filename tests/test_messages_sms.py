"""SMS length: encoding detection, characters and parts, against the published figures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.messages import GSM7_BASIC, GSM7_EXTENDED, sms_segments

GSM = sorted(GSM7_BASIC | GSM7_EXTENDED)

#: text → (encoding, characters, units, segments)
CASES = {
    "empty": ("", ("GSM-7", 0, 0, 0)),
    "160 GSM-7 characters": ("a" * 160, ("GSM-7", 160, 160, 1)),
    "161 GSM-7 characters": ("a" * 161, ("GSM-7", 161, 161, 2)),
    "306 GSM-7 characters: two full parts": ("a" * 306, ("GSM-7", 306, 306, 2)),
    "307 GSM-7 characters": ("a" * 307, ("GSM-7", 307, 307, 3)),
    "€ at the end of 160 septets": ("a" * 158 + "€", ("GSM-7", 159, 160, 1)),
    "€ across the 160 boundary": ("a" * 159 + "€", ("GSM-7", 160, 161, 2)),
    "80 € fill one message": ("€" * 80, ("GSM-7", 80, 160, 1)),
    "an escape never splits across parts": (
        "a" * 152 + "€" + "a" * 152,
        ("GSM-7", 305, 306, 3),
    ),
    "every double-width character": ("^{}[]~\\|€", ("GSM-7", 9, 18, 1)),
    "GSM-7 accents and Greek": ("àéÉÄΔΩ£¥§¿", ("GSM-7", 10, 10, 1)),
    "70 Chinese characters": ("中" * 70, ("UCS-2", 70, 70, 1)),
    "71 Chinese characters": ("中" * 71, ("UCS-2", 71, 71, 2)),
    "134 Chinese characters": ("中" * 134, ("UCS-2", 134, 134, 2)),
    "135 Chinese characters": ("中" * 135, ("UCS-2", 135, 135, 3)),
    "one Chinese character makes it all UCS-2": ("a" * 69 + "中", ("UCS-2", 70, 70, 1)),
    "€ with Chinese": ("中" * 69 + "€", ("UCS-2", 70, 70, 1)),
    "a lowercase ç is not GSM-7": ("ç", ("UCS-2", 1, 1, 1)),
    "35 emoji take 70 units": ("😀" * 35, ("UCS-2", 35, 70, 1)),
    "36 emoji take two parts": ("😀" * 36, ("UCS-2", 36, 72, 2)),
    "an emoji never splits across parts": (
        "中" * 66 + "😀" + "中" * 66,
        ("UCS-2", 133, 134, 3),
    ),
}


class TestPublishedFigures:
    @pytest.mark.parametrize("case", list(CASES))
    def test_table(self, case: str) -> None:
        """Encoding, characters, units and parts match GSM 03.38 and the 160/153, 70/67 limits."""
        text, expected = CASES[case]
        length = sms_segments(text)
        assert (length.encoding, length.characters, length.units, length.segments) == expected

    def test_per_segment_and_remaining(self) -> None:
        """One message holds 160 (GSM-7) or 70 (UCS-2); parts hold 153 or 67."""
        assert (sms_segments("a" * 100).per_segment, sms_segments("a" * 100).remaining) == (160, 60)
        assert (sms_segments("a" * 200).per_segment, sms_segments("a" * 200).remaining) == (
            153,
            106,
        )
        assert sms_segments("中" * 100).per_segment == 67

    def test_signature_is_billed(self) -> None:
        """Chinese operators bill the 【signature】 the gateway adds as part of the text."""
        text = "中" * 63
        assert sms_segments(text).segments == 1
        assert sms_segments(text, signature="【安心消费金融】").segments == 2

    def test_str(self) -> None:
        """The summary reads well in an error message."""
        assert str(sms_segments("中" * 71)) == "71 characters, UCS-2, 2 parts"


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)
GSM_TEXT = st.text(st.sampled_from(GSM), max_size=400)


class TestInvariants:
    @given(TEXT | GSM_TEXT, st.characters(exclude_categories=("Cs",)) | st.sampled_from(GSM))
    def test_appending_never_lowers_the_count(self, text: str, char: str) -> None:
        """Segments never decrease when a character is appended."""
        assert sms_segments(text + char).segments >= sms_segments(text).segments

    @given(TEXT | GSM_TEXT)
    def test_gsm7_exactly_when_every_character_is_gsm7(self, text: str) -> None:
        """GSM-7 only when every character is in the GSM 7-bit alphabet."""
        expected = "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text) else "UCS-2"
        assert sms_segments(text).encoding == expected

    @given(GSM_TEXT)
    def test_gsm7_units(self, text: str) -> None:
        """Extension characters count twice, the others once."""
        doubled = sum(1 for c in text if c in GSM7_EXTENDED)
        assert sms_segments(text).units == len(text) + doubled

    @given(TEXT | GSM_TEXT)
    def test_parts_hold_the_text(self, text: str) -> None:
        """The parts hold every unit, and no part is wasted."""
        length = sms_segments(text)
        assert length.characters == len(text)
        assert length.segments * length.per_segment >= length.units
        assert 0 <= length.remaining < length.per_segment or length.segments <= 1
        if length.segments > 1:
            # One fewer part could not hold it, even allowing for unsplittable pairs.
            assert (length.segments - 1) * length.per_segment < length.units + length.segments
