"""Message encoding: the translate-based URL encoding is exactly urllib's quote of the
Base64 text (the form the docs' samples show), and decoding undoes it."""

from __future__ import annotations

import base64
import random
from urllib.parse import quote

from provisioner.body import decode_message, encode_message


def texts() -> list[str]:
    rng = random.Random(7)
    found = ["", "Hi", "a" * 161, "日本語 🎉", "+/=", "€[]{}~|^\\"]
    for _ in range(500):
        top = rng.choice((0x7F, 0xFF, 0xFFFF, 0x10FFFF))
        chars = (chr(rng.randint(1, top)) for _ in range(rng.randint(0, 40)))
        found.append("".join(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF))
    return found


def test_encoding_is_urllib_quote_of_base64() -> None:
    for text in texts():
        expected = quote(base64.b64encode(text.encode("utf-8")).decode("ascii"), safe="")
        assert encode_message(text) == expected, text


def test_decoding_undoes_encoding_plain_or_url_encoded() -> None:
    for text in texts():
        encoded = encode_message(text)
        assert decode_message(encoded) == text
        assert decode_message(base64.b64encode(text.encode("utf-8")).decode("ascii")) == text
