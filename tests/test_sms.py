"""GSM-7 / UCS-2 detection and segment counts (160/153, 70/67)."""

from __future__ import annotations

import pytest

from provisioner.body.sms import GSM7, UCS2, sms_info


@pytest.mark.parametrize("text,expected", [
    ("", (GSM7, 0)),
    ("a" * 160, (GSM7, 1)),
    ("a" * 161, (GSM7, 2)),
    ("a" * 306, (GSM7, 2)),
    ("a" * 307, (GSM7, 3)),
    ("{" * 80, (GSM7, 1)),            # extension characters take two septets
    ("€" * 81, (GSM7, 2)),
    ("a" * 152 + "€" + "a" * 152, (GSM7, 3)),   # the escape pair is not split across parts
    ("Grüße, Ñandù! @£$¥", (GSM7, 1)),
    ("Ñandú", (UCS2, 1)),              # ú is not in GSM-7 (ù is)
    ("ж" * 70, (UCS2, 1)),
    ("ж" * 71, (UCS2, 2)),
    ("ж" * 134, (UCS2, 2)),
    ("ж" * 135, (UCS2, 3)),
    ("😀" * 35, (UCS2, 1)),           # 70 UTF-16 units
    ("😀" * 36, (UCS2, 2)),
    ("a" * 159 + "`", (UCS2, 3)),     # one non-GSM character makes the whole text UCS-2
])
def test_sms_info(text: str, expected: tuple[str, int]) -> None:
    assert sms_info(text) == expected
