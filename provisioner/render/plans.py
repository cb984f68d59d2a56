"""Plans rendered by `--format`: one table of renderers, each writing to the stream it is
given. Every renderer reads the plan's JSON form (`Plan.to_dict()`), so a saved plan renders
as a fresh one does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TextIO

from provisioner.render.text import render_text
from provisioner.spec.printable import escape_json

PlanRenderer = Callable[[dict[str, Any], TextIO, bool], None]   # (plan, stream, colour)


def render_json(plan: dict[str, Any]) -> str:
    """The plan as JSON, hidden characters written as `\\uXXXX` (the same value, visible)."""
    return escape_json(json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def _text(plan: dict[str, Any], stream: TextIO, colour: bool) -> None:
    stream.write(render_text(plan, colour=colour))


def _json(plan: dict[str, Any], stream: TextIO, colour: bool) -> None:
    stream.write(render_json(plan))


def _markdown(plan: dict[str, Any], stream: TextIO, colour: bool) -> None:
    from provisioner.render.markdown import render_markdown   # only when asked for
    stream.write(render_markdown(plan))


RENDERERS: dict[str, PlanRenderer] = {"text": _text, "json": _json, "markdown": _markdown}


def render_plan(plan: dict[str, Any], fmt: str, stream: TextIO, *, colour: bool = False
                ) -> None:
    """Write `plan` to `stream` in `fmt` (a key of RENDERERS); colour only for text."""
    RENDERERS[fmt](plan, stream, colour)
