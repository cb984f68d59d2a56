"""Render a plan (its JSON dict form) as text, Terraform-like. Pure: returns a string.

Every string that came from a spec, a saved plan or the tenant goes through
`provisioner.spec.printable` first, so a name cannot forge a plan line, move the cursor or
issue a workflow command (names read from the tenant were never validated).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from provisioner.render.symbols import SYMBOLS, kind_label, start_line, voice_line
from provisioner.spec.printable import escape

COLOURS = {"create": "32", "update": "33", "delete": "31", "adopt": "36", "blocked": "31;1",
           "orphan": "35", "noop": "0", "start": "32;1", "stop": "33;1"}
SECTIONS: tuple[tuple[str, Callable[[dict[str, Any]], bool], str], ...] = (
    # first: a start reaches customers (issue 17)
    ("start", lambda c: c["action"] == "start",
     "To START (sends to customers; apply needs --allow-start)"),
    ("stop", lambda c: c["action"] == "stop", "To stop"),
    ("create", lambda c: c["action"] == "create" and not c["recreate"], "To create"),
    ("recreate", lambda c: c["action"] == "create" and c["recreate"],
     "Deleted outside the tool (will be created again)"),
    ("update", lambda c: c["action"] == "update" and not c["drift"], "To update"),
    ("drift", lambda c: c["action"] == "update" and c["drift"],
     "Changed outside the tool (will be set back to the spec)"),
    ("adopt", lambda c: c["action"] == "adopt", "To adopt (exists on the tenant, no state)"),
    ("delete", lambda c: c["action"] == "delete", "To delete"),
    ("blocked", lambda c: c["action"] == "blocked", "Blocked"),
    ("orphan", lambda c: c["action"] == "orphan", "Orphaned (in state, no spec; kept)"),
    ("note", lambda c: c["action"] == "noop" and c.get("blocked_action") == "start",
     "Not started"),
)


def summary_line(plan: dict[str, Any]) -> str:
    s = plan["summary"]
    line = (f"Plan: {s['create']} to create, {s['update']} to update, "
            f"{s['delete']} to delete, {s['noop']} unchanged")
    extras = [f"{s[k]} {label}" for k, label in (("adopt", "to adopt"), ("blocked", "blocked"),
                                                 ("orphan", "orphaned")) if s.get(k)]
    runs = [f"{s[k]} to {k}" for k in ("start", "stop") if s.get(k)]
    if runs:   # said first: a start reaches customers
        line = f"Plan: {', '.join(runs)}; " + line[len("Plan: "):]
    return line + "".join(f", {e}" for e in extras) + "."


def describe_targets(targets: dict[str, Any], quote: Callable[[str], str] | None = None
                     ) -> str:
    """What a targeted plan covers, and how many of the campaigns in the specs or the state
    that is (the others are left alone: not planned, not counted as changes). `quote` shows
    one pattern (default: escaped, in single quotes)."""
    shown = quote or (lambda pattern: f"'{_s(pattern)}'")
    include = " or ".join(map(shown, targets.get("include") or ()))
    exclude = " or ".join(map(shown, targets.get("exclude") or ()))
    which = f"only campaigns matching {include}" if include else "every campaign"
    if exclude:
        which += f", excluding those matching {exclude}"
    selected, known = targets.get("selected"), targets.get("known")
    if not isinstance(selected, int) or not isinstance(known, int):
        return which + "."
    others = known - selected
    return (f"{which} ({selected} of {known} campaigns in the specs or the state; the "
            f"other {others} {'is' if others == 1 else 'are'} left alone).")


def render_text(plan: dict[str, Any], *, colour: bool = False) -> str:
    """Terraform-like: one `+`/`~`/`-` line per campaign, field changes beneath, a summary."""
    paint = _painter(colour)
    lines: list[str] = []
    if plan.get("targets"):   # said first: a reviewer must know the rest is not all
        lines += [f"Targeted plan: {describe_targets(plan['targets'])}", ""]
    for _key, wanted, title in SECTIONS:
        group = [c for c in plan["changes"] if wanted(c)]
        if not group:
            continue
        lines.append(f"{title}:")
        for change in group:
            lines.extend(_text_change(change, paint))
        lines.append("")
    if not any(c["action"] != "noop" for c in plan["changes"]):
        lines.append("No changes. Recorded state matches the specs.")
    lines.append(paint("update" if _changes(plan) else "noop", summary_line(plan)))
    return "\n".join(lines) + "\n"


def _text_change(change: dict[str, Any], paint: Callable[[str, str], str]) -> list[str]:
    action = change["action"]
    label = _s(change["blocked_action"]) + " blocked" if action == "blocked" else action
    name = _s(change["name"])
    if change.get("previous_name"):   # a rename: one update of the same id
        name = f"{_s(change['previous_name'])} -> {name}"
    head = f"  {SYMBOLS[action]} {name}  ({label} {_s(kind_label(change))}"
    if change.get("status") not in (None, "", "Ready"):   # Preparing, Active, Scheduled...
        head += f", {_s(change['status'])}"
    head += f", id {_s(change['id'])})" if change.get("id") else ")"
    if change.get("source"):
        head += f"  {_s(change['source'])}"
    out = [paint(action, head)]
    if change.get("reason"):
        out.append(f"      # {_s(change['reason'])}")
    if change.get("ignored"):
        out.append(f"      # ignored (the console owns them; the tenant's values are sent): "
                   f"{', '.join(_s(path) for path in change['ignored'])}")
    for item in change.get("drift_changes") or []:
        out.append(f"      drift {_s(item['path'])}: {_v(item['before'])} -> "
                   f"{_v(item['after'])}")
    if action in ("create", "adopt") and change.get("after"):
        out.extend(f"      + {_s(k)}: {_v(v)}" for k, v in _readable(change["after"]).items())
    for item in change.get("changes") or []:
        out.append(f"      ~ {_s(item['path'])}: {_v(item['before'])} -> {_v(item['after'])}")
    if action == "start":
        out.append(f"      {_s(start_line(change))}")
    if change.get("message") and action != "start":
        m = change["message"]
        out.append(f"      sms: {m['encoding']}, {m['segments']} segment(s)")
    voice = voice_line(change.get("after")) if action in ("create", "update") else ""
    if voice:
        out.append(f"      {_s(voice)}")
    return out


def _readable(body: dict[str, Any]) -> dict[str, Any]:
    from provisioner.plan.diff import readable
    return readable(body) or {}


def _s(value: Any) -> str:
    return escape(str(value))


def _v(value: Any) -> str:
    return "(none)" if value is None else escape(json.dumps(value, ensure_ascii=False))


def _changes(plan: dict[str, Any]) -> bool:
    return any(c["action"] not in ("noop", "orphan") for c in plan["changes"])


def _painter(colour: bool) -> Callable[[str, str], str]:
    if not colour:
        return lambda _action, text: text
    return lambda action, text: f"\x1b[{COLOURS[action]}m{text}\x1b[0m"
