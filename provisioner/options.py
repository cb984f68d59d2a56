"""Numbers from the command line, provisioner.yaml and environment variables, checked in one
place: a count, a number of seconds, a probability or a port that is nan, infinite,
negative where that means nothing, or out of range is refused before anything runs.

`whole_number` and `finite_number` raise ValueError saying what is wrong (the config reader
turns that into a located ConfigError); `count`, `seconds`, `probability` and `port` wrap
them as argparse `type=` functions, so a bad option is a usage error (exit 1, one line).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
_DIGITS = re.compile(r"[+-]?[0-9]{1,18}")   # ASCII digits only; 18 keep int() far from its limit
MAX_PORT = 65535
MAX_SECONDS = 86_400.0   # a day: no wait, lag or timeout of this tool needs longer


def whole_number(value: object, *, low: int = 0, high: int | None = None) -> int:
    """An int from YAML or text: 60 or "60", never 1.5, True, "1e3", "nan" or "²"."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError(f"must be a whole number, not {_shown(value)}")
    _check_range(number, low, high)
    return number


def finite_number(value: object, *, low: float | None = 0.0,
                  high: float | None = None) -> float:
    """A float from YAML or text that is neither nan nor infinite, within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"must be a number, not {_shown(value)}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        raise ValueError(f"must be a number, not {_shown(value)}") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, not {_shown(value)}")
    _check_range(number, low, high)
    return number


def _check_range(number: float, low: float | None, high: float | None) -> None:
    if low is not None and number < low:
        raise ValueError(f"must be at least {low:g}{_upto(high)}, not {_shown(number)}")
    if high is not None and number > high:
        raise ValueError(f"must be at most {high:g}, not {_shown(number)}")


def _upto(high: float | None) -> str:
    return "" if high is None else f" and at most {high:g}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _argument(convert: Callable[[str], T], name: str) -> Callable[[str], T]:
    """An argparse `type=`: ValueError becomes a usage error naming the option."""
    def parse(text: str) -> T:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = name
    return parse


def count(low: int = 0, high: int | None = None) -> Callable[[str], int]:
    """A whole number in [low, high] (a parallelism, a serial, a rate, milliseconds)."""
    return _argument(lambda text: whole_number(text, low=low, high=high), "count")


def seconds(high: float = MAX_SECONDS) -> Callable[[str], float]:
    """A finite, non-negative number of seconds, at most `high`."""
    return _argument(lambda text: finite_number(text, low=0.0, high=high), "seconds")


def probability() -> Callable[[str], float]:
    """A finite number from 0 to 1."""
    return _argument(lambda text: finite_number(text, low=0.0, high=1.0), "probability")


def port() -> Callable[[str], int]:
    """A TCP port, 0 (pick a free one) to 65535."""
    return _argument(lambda text: whole_number(text, low=0, high=MAX_PORT), "port")
