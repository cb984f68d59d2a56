"""Reading our own JSON files (state, saved plans) so that no content makes us crash.

json.loads raises more than JSONDecodeError: ValueError for an integer of more digits than
Python converts (its int-str limit, 4,300 by default), and RecursionError for arrays or
objects nested about a thousand deep. `loads` turns all three into `JsonProblem`, whose
text is one line locating the problem; `problem` does the same for an exception a caller
caught from its own scanner. Nothing here costs anything until a parse has failed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

# A string literal, or one bracket: what nesting is counted over (strings may hold brackets).
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonProblem(ValueError):
    """A JSON text that cannot be read; the message says where and why, in one line."""


def loads(text: str, scan: Callable[[str], Any] | None = None) -> Any:
    """`scan(text)` (default json.loads), raising only JsonProblem for bad content."""
    try:
        return (scan or json.loads)(text)
    except (ValueError, RecursionError) as exc:
        raise JsonProblem(problem(exc, text)) from None


def problem(exc: BaseException, text: str) -> str:
    """One line saying where and why json.loads failed on `text` with `exc`."""
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    if isinstance(exc, RecursionError):
        return _too_deep(text)
    limit = sys.get_int_max_str_digits()
    found = re.search(r"\d{%d,}" % (limit + 1), text) if limit else None
    where = f"{_position(text, found.start())}: " if found else ""
    return f"{where}an integer of more than {limit} digits cannot be read"


def _too_deep(text: str) -> str:
    """Where the text nests deepest, and how deep (only after a parse gave up on it)."""
    depth, deepest, at = 0, 0, 0
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, token.start()
        elif mark in "]}":
            depth -= 1
    return f"{_position(text, at)}: nested {deepest} levels deep, too deep to read"


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"line {line} column {offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"
