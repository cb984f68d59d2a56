"""How an SMS text travels: GSM-7 or UCS-2, and in how many segments.

GSM-7 (3GPP TS 23.038 default alphabet) fits 160 septets in one message and 153 per part of a
concatenated one; characters of the extension table take two septets (escape + char). Any
character outside GSM-7 makes the whole message UCS-2: 70 UTF-16 units, 67 per part. A
two-unit character (escape pair, surrogate pair) is never split across parts, as phones do.
"""

from __future__ import annotations

GSM7 = "GSM-7"
UCS2 = "UCS-2"

_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7_ALL = _BASIC | _EXTENSION
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


def sms_info(text: str) -> tuple[str, int]:
    """(encoding, segments) of a message text. An empty text takes 0 segments."""
    chars = set(text)   # set algebra, not a Python loop per character
    if chars <= _GSM7_ALL:
        encoding, wide = GSM7, chars & _EXTENSION
    else:
        encoding, wide = UCS2, {ch for ch in chars if ord(ch) > 0xFFFF}
    single, part = _LIMITS[encoding]
    total = len(text) + sum(text.count(ch) for ch in wide)
    if total <= single:
        return encoding, 1 if text else 0
    return encoding, _segments([2 if ch in wide else 1 for ch in text], single, part)


def _segments(units: list[int], single: int, part: int) -> int:
    count, used = 1, 0
    for size in units:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count
