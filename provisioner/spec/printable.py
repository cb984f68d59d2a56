"""Strings from specs or from the tenant made safe to print, and names compared as a
reviewer sees them.

A name, an id, a file path or a message text can hold anything: a newline that forges a plan
line, an escape sequence that rewrites a terminal, a bidi override that reorders what a
reviewer reads, a zero-width space that makes two names look alike, or a leading `::` that
a GitHub runner reads as a workflow command. `escape` shows every such character as a
Python-style escape (`\\n`, `\\x1b`, `\\u200b`), so the result is one line of visible
characters; it is idempotent, so a string escaped by a caller can be escaped again at the
sink. Every renderer and every line sink uses it; none relies on validation, since names
read from the tenant (drift, import, adopt, listings) were never validated by us.

Pure functions; no I/O.
"""

from __future__ import annotations

import re
import unicodedata

# Invisible although str.isprintable() calls them printable (Unicode's Default_Ignorable
# code points outside the Cc/Cf/Z* categories, and the blank Braille pattern): combining
# grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors,
# variation selectors and their supplement.
_IGNORABLE = ("\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
              "\U000e0100-\U000e01ef")
_IGNORABLE_RE = re.compile(f"[{_IGNORABLE}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# A line whose first visible characters are `::` (or the older `##[`) is a GitHub Actions
# workflow command (actions/runner ActionCommand.TryParseV2 / TryParse trim the line first).
_COMMAND = re.compile(r"\s*(::|##\[)")


def hidden(char: str) -> bool:
    """True for a character a reader cannot see as itself: control and format characters
    (Cc, Cf), line and paragraph separators (Zl, Zp), spaces other than U+0020 (Zs),
    surrogates, private-use and unassigned code points, and default-ignorable ones."""
    return not char.isprintable() or _IGNORABLE_RE.match(char) is not None


def hidden_chars(text: str) -> list[str]:
    """The distinct hidden characters of `text`, escaped, in order of first use."""
    if _visible(text):
        return []
    return list(dict.fromkeys(_escape_char(ch) for ch in text if hidden(ch)))


def escape(text: str, *, keep_newlines: bool = False) -> str:
    """`text` as one line of visible characters (or, with keep_newlines, lines split only at
    its own `\\n`), with a workflow command at the start of any line neutralised."""
    if keep_newlines:
        return "\n".join(escape(line) for line in text.split("\n"))
    if not _visible(text):
        text = "".join(_escape_char(ch) if hidden(ch) else ch for ch in text)
    match = _COMMAND.match(text)
    if match is not None:   # `\x3a:` and `\x23#[` read the same and command nothing
        start = match.start(1)
        text = f"{text[:start]}\\x{ord(text[start]):02x}{text[start + 1:]}"
    return text


def escape_json(text: str) -> str:
    """JSON text (already escaped by json.dumps for C0 controls) with every other hidden
    character written as a JSON `\\uXXXX` escape: the same value, visible."""
    if _visible(text.replace("\n", "")):
        return text
    return "".join(ch if ch == "\n" or not hidden(ch) else _json_char(ch) for ch in text)


def confusable_key(name: str) -> str:
    """What a reviewer sees of a name: NFKC, case-folded, hidden characters dropped and
    whitespace collapsed. Two names with one key look the same in a review. A function of
    `name.lower()`, so names equal case-insensitively (the state's identity) share a key."""
    if name.isascii() and name.isprintable():   # the common case, without a loop per character
        lowered = name.lower()
        if "  " in lowered or lowered[:1] == " " or lowered[-1:] == " ":
            return " ".join(lowered.split())
        return lowered
    text = unicodedata.normalize("NFKC", name.lower()).casefold()
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not hidden(ch) or ch.isspace())
    return " ".join(text.split())


def _visible(text: str) -> bool:
    return text.isprintable() and _IGNORABLE_RE.search(text) is None


def _escape_char(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _json_char(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xd800 + (code >> 10):04x}\\u{0xdc00 + (code & 0x3ff):04x}"
