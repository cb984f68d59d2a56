"""The plan as a pull-request comment: a sticky marker, a one-line summary, then one
collapsible block per changed campaign with its diff and the SMS text customers receive.

Pure: takes the plan JSON dict (docs/architecture.md, "Plan JSON"), returns a string.
GitHub refuses comments over 65,536 characters, so the result is kept under `limit` by
dropping campaign blocks from the end (never the summary) and saying how many were cut.
Every block is rendered at most once and lengths are summed as we go, so the work is
linear in the size of the plan however much is cut. Every string from a spec, a saved plan
or the tenant is escaped (`provisioner.spec.printable`) before Markdown escaping: the comment is
also printed to the CI log, where a line could otherwise issue a workflow command.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from provisioner.plan.diff import readable
from provisioner.render.symbols import SYMBOLS, kind_label, start_line, voice_line
from provisioner.render.text import describe_targets
from provisioner.spec.printable import escape

from provisioner.body.sms import sms_info

DEFAULT_LIMIT = 60_000

# Order of the blocks: what a reviewer must not miss comes first, since cutting starts at
# the end. noop changes get no block; they are only counted.
BLOCK_ORDER = ("start", "stop", "note", "delete", "blocked", "update", "create", "adopt",
               "orphan")
NOTES = {
    "orphan": "in state but in no spec: kept, never deleted unless asked "
              "(`ensure: absent` or `prune: true`)",
    "adopt": "exists on the tenant with no state: adopted into state",
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_BACKTICKS = re.compile(r"`+")
_SPACES = re.compile(r"^ | $| (?= )")


def render_markdown(plan: dict[str, Any], *, limit: int = DEFAULT_LIMIT) -> str:
    """Render a plan JSON dict as a GitHub/GitLab comment of fewer than `limit` characters."""
    env = str(plan.get("env") or "default")
    changes = plan.get("changes") or []
    counts = _counts(plan, changes)
    warnings = plan.get("warnings") or []
    head = f"<!-- provisioner-plan:{_marker_safe(env)} -->\n"
    if plan.get("targets"):   # said first: a reviewer must know the rest is not all
        head += f"**Targeted plan:** {describe_targets(plan['targets'], _code)}\n\n"
    total = sum(1 for change in changes if change.get("action") in BLOCK_ORDER
                or change.get("blocked_action") == "start")
    if not total:
        return head + _no_changes_line(counts["noop"], len(warnings)) + "\n"
    head += _summary_line(env, counts, len(warnings)) + "\n"
    return head + _fit(_blocks(changes, warnings), limit - len(head), total)


def _counts(plan: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, int]:
    """Counts per action: the plan's own summary where it has one, else counted."""
    counts = dict.fromkeys(("noop", *BLOCK_ORDER), 0)
    for change in changes:
        action = change.get("action", "")
        counts[action] = counts.get(action, 0) + 1
    for action, number in (plan.get("summary") or {}).items():
        counts[action] = int(number)
    return counts


def _plural(number: int, word: str) -> str:
    return f"{number} {word}" + ("" if number == 1 else "s")


def _no_changes_line(noop: int, warnings: int) -> str:
    tail = f" ({_plural(warnings, 'validation warning')})" if warnings else ""
    return f"No changes. {_plural(noop, 'campaign')} up to date.{tail}"


def _summary_line(env: str, counts: dict[str, int], warnings: int) -> str:
    starts = [f"**{counts[key]} to {key}**" for key in ("start", "stop") if counts.get(key)]
    parts = [*starts, f"{counts['create']} to create", f"{counts['update']} to update",
             f"{counts['delete']} to delete"]
    optional = (("noop", "unchanged"), ("adopt", "to adopt"), ("orphan", "orphaned"),
                ("blocked", "blocked"))
    parts += [f"{counts[key]} {label}" for key, label in optional if counts[key]]
    if warnings:
        parts.append(_plural(warnings, "validation warning"))
    return f"**Plan ({escape_md(env)}):** " + ", ".join(parts)


def _fit(blocks: Iterator[tuple[bool, str]], room: int, total: int) -> str:
    """Keep the longest prefix of blocks that fits in `room`, with a note for the rest.

    Room for the note is reserved only once a block no longer fits beside it; blocks are
    rendered lazily and each one's length is added once.
    """
    reserve = len(_omitted_note(total)) + 1
    kept: list[str] = []
    used = 0
    cut: tuple[int, int] | None = None  # (index into kept, campaigns kept) for the note
    shown = 0
    for is_campaign, block in blocks:
        used += len(block)
        if cut is None and used >= room - reserve:
            cut = (len(kept), shown)
        if used >= room:
            assert cut is not None   # set at the latest by this block: reserve >= 0
            index, shown_at_cut = cut
            return "".join(kept[:index]) + _omitted_note(total - shown_at_cut)
        kept.append(block)
        shown += is_campaign
    return "".join(kept)


def _omitted_note(number: int) -> str:
    return (f"\n… {_plural(number, 'more campaign')} not shown "
            "(full plan in the job's artifacts / `provisioner plan`)\n")


def _blocks(changes: list[dict[str, Any]],
            warnings: list[dict[str, Any]]) -> Iterator[tuple[bool, str]]:
    """(is a campaign block, text) in display order; bucketed, so no sort is needed."""
    if warnings:
        yield False, _warnings_block(warnings)
    buckets: dict[str, list[dict[str, Any]]] = {action: [] for action in BLOCK_ORDER}
    for change in changes:
        action = change.get("action", "")
        if action == "noop" and change.get("blocked_action") == "start":
            action = "note"   # why a campaign with `run: active` is not started
        buckets.get(action, []).append(change)
    for action in BLOCK_ORDER:
        for change in buckets[action]:
            yield True, _campaign_block(change)


def _warnings_block(warnings: list[dict[str, Any]], shown: int = 20) -> str:
    lines = [f"\n<details><summary>{_plural(len(warnings), 'validation warning')}"
             "</summary>\n\n"]
    for warning in warnings[:shown]:
        place = ":".join(str(warning.get(key, "?")) for key in ("file", "line", "column"))
        lines.append(f"- {_code(place)} {_code(str(warning.get('path', '$')))}: "
                     f"{escape_md(str(warning.get('message', '')))}\n")
    if len(warnings) > shown:
        lines.append(f"- … and {len(warnings) - shown} more (run `provisioner validate`)\n")
    return "".join(lines) + "\n</details>\n"


def _campaign_block(change: dict[str, Any]) -> str:
    action = change.get("action", "")
    parts = [f"\n<details><summary>{_block_title(change)}</summary>\n\n"]
    note = escape_md(str(change["reason"])) if change.get("reason") else NOTES.get(action)
    if note:
        parts.append(f"> {note}\n\n")
    drift = _change_lines(change.get("drift_changes") or [])
    if drift:
        parts.append("Changed outside the tool (recorded → tenant):\n\n")
        parts.append(fenced("\n".join(drift), "diff"))
    diff = _diff_lines(change)
    if diff:
        parts.append("Planned (tenant → spec):\n\n" if drift else "")
        parts.append(fenced("\n".join(diff), "diff"))
    if change.get("message") and _shows_message(change):
        parts.append(_message_section(change["message"]))
    if action == "start":
        parts.append(f"**{escape_md(start_line(change))}**\n\n")
    voice = voice_line(change.get("after")) if action in ("create", "update") else ""
    if voice:
        parts.append(f"{escape_md(voice)}\n\n")
    return "".join(parts) + "</details>\n"


def _shows_message(change: dict[str, Any]) -> bool:
    """The SMS text of a new campaign, or of one whose message changes: what customers get."""
    if change.get("action") == "create":
        return True
    return any(str(item.get("path", "")).startswith("$.message")
               for item in change.get("changes") or [])


def _block_title(change: dict[str, Any]) -> str:
    action = change.get("action", "")
    label = (f"{escape_md(str(change['blocked_action']))} blocked"
             if change.get("blocked_action") else action)
    if action == "noop":   # a note: why a campaign with `run: active` is not started
        label = "not started"
    name = _code(str(change.get("name", "")))
    if change.get("previous_name"):   # a rename: one update of the same id
        name = f"{_code(str(change['previous_name']))} -> {name}"
    title = (f"<code>{SYMBOLS.get(action, '')}</code> {label} "
             f"{escape_md(kind_label(change))} {name}")
    flags = [text for key, text in (("recreate", "deleted outside the tool"),
                                     ("drift", "changed outside the tool")) if change.get(key)]
    if change.get("ignored"):
        flags.append("ignored, owned by the console: " + ", ".join(
            _code(str(path)) for path in change["ignored"]))
    if flags:
        title += " (" + "; ".join(flags) + ")"
    if change.get("status") not in (None, "", "Ready"):   # Preparing, Active, Scheduled...
        title += f" status {escape_md(str(change['status']))}"
    if change.get("id"):
        title += f" id {_code(str(change['id']))}"
    if change.get("source"):
        title += f" from {_code(str(change['source']))}"
    return title


def _diff_lines(change: dict[str, Any]) -> list[str]:
    action = change.get("action")
    if action == "create" and change.get("after") is not None:
        return [f"+ {path}: {value}" for path, value in _flatten(readable(change["after"]))]
    if action == "delete" and change.get("before") is not None:
        return [f"- {path}: {value}" for path, value in _flatten(readable(change["before"]))]
    return _change_lines(change.get("changes") or [])


def _change_lines(items: list[dict[str, Any]]) -> list[str]:
    """`-` before / `+` after per path; a side that is None is missing (provisioner/plan/diff.py)."""
    lines: list[str] = []
    for item in items:
        path = _short_path(str(item.get("path", "$")))
        if item.get("before") is not None:
            lines.append(f"- {path}: {_value(item['before'])}")
        if item.get("after") is not None:
            lines.append(f"+ {path}: {_value(item['after'])}")
    return lines


def _flatten(value: Any, path: str = "") -> Iterable[tuple[str, str]]:
    """Leaf (path, JSON value) pairs; lists of scalars stay on one line."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{path}[{index}]")
    else:
        yield escape(path or "$"), _value(value)


def _short_path(path: str) -> str:
    return escape(path[2:] if path.startswith("$.") else path)


def _value(value: Any) -> str:
    # JSON keeps every value on one line (newlines escaped), so a diff line stays a line.
    return escape(json.dumps(value, ensure_ascii=False))


def _message_section(message: dict[str, Any]) -> str:
    text = str(message.get("text", ""))
    encoding, segments = message.get("encoding"), message.get("segments")
    if encoding is None or segments is None:
        encoding, segments = sms_info(text)
    facts = [str(encoding)] if encoding else []
    if segments is not None:
        facts.append(_plural(int(segments), "segment"))
    facts.append(_plural(len(text), "character"))
    shown = escape(text, keep_newlines=True)   # its own lines kept, nothing else hidden
    return f"**SMS text** ({', '.join(facts)}):\n\n" + fenced(shown, "text")


def fenced(text: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in `text`."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}\n\n"


def escape_md(text: str) -> str:
    """User text made inert for inline Markdown/HTML: one line (control and invisible
    characters shown as escapes), no markup, no @mentions, every space visible."""
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(escape(text), quote=False))
    # A zero-width space after @ keeps "@team" from notifying anyone (as bots do).
    return _spaces(escaped.replace("@", "@&#8203;"))


def _code(text: str) -> str:
    # Inside <code> Markdown is not parsed and GitHub links no @mention or #ref.
    return f"<code>{_spaces(html.escape(escape(text)))}</code>"


def _spaces(text: str) -> str:
    """HTML shows a run of spaces as one and drops them at the ends: keep each visible, so
    'Spring  Sale' and 'Spring Sale' do not read the same."""
    return _SPACES.sub("&nbsp;", text)


def _marker_safe(env: str) -> str:
    """The env name as it can stand inside an HTML comment (no `--`, no `>`)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", env).replace("--", "-_")
