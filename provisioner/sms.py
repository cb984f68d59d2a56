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
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


def sms_info(text: str) -> tuple[str, int]:
    """(encoding, segments) of a message text. An empty text takes 0 segments."""
    if all(ch in _BASIC or ch in _EXTENSION for ch in text):
        encoding = GSM7
        units = [2 if ch in _EXTENSION else 1 for ch in text]
    else:
        encoding = UCS2
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return encoding, _segments(units, *_LIMITS[encoding])


def _segments(units: list[int], single: int, part: int) -> int:
    total = sum(units)
    if total <= single:
        return 1 if units else 0
    count, used = 1, 0
    for size in units:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count
