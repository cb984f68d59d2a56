"""Explain what changed between two campaign bodies, field by field, for a reviewer.

deepdiff explains; it never decides (a digest decides whether anything changed). The SMS
message is compared decoded, so a reviewer reads the text and not Base64.
"""

from __future__ import annotations

from typing import Any

from provisioner.body import TOP_DEFAULTS, decode_message


def readable(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of `body` whose `message.message` is replaced by the decoded `message.text`."""
    if body is None:
        return None
    message = body.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("message"), str):
        return body
    try:
        text = decode_message(message["message"])
    except ValueError:
        return body
    rest = {k: v for k, v in message.items() if k != "message"}
    return {**body, "message": {**rest, "text": text}}


def diff_bodies(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """[{"path": "$.priority", "before": "3", "after": "5"}, ...]; a missing side is None."""
    from deepdiff import DeepDiff  # imported only when an update needs explaining (~0.2 s)

    tree = DeepDiff(readable(before or {}), readable(after or {}), view="tree",
                    ignore_order=False)
    changes = []
    for report in tree.values():
        for level in report:
            changes.append({
                "path": json_path(level.path(output_format="list")),
                "before": _present(level.t1),
                "after": _present(level.t2),
            })
    changes.sort(key=lambda c: c["path"])
    return [c for c in changes if not _default_vs_absent(c)]


def _default_vs_absent(change: dict[str, Any]) -> bool:
    """A field left out on one side and at its server default on the other is no change."""
    key = change["path"][2:]
    if key not in TOP_DEFAULTS:
        return False
    sides = (change["before"], change["after"])
    return None in sides and TOP_DEFAULTS[key] in sides


def json_path(parts: list[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _present(value: Any) -> Any:
    # deepdiff marks a missing side with a `NotPresent` sentinel
    return None if type(value).__name__ == "NotPresent" else value


def message_info(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """{"text", "encoding", "segments"} for a simple-format SMS body, else None."""
    text = (readable(body) or {}).get("message", {}).get("text") if body else None
    if not isinstance(text, str):
        return None
    from provisioner.body.sms import sms_info
    encoding, segments = sms_info(text)
    return {"text": text, "encoding": encoding, "segments": segments}
