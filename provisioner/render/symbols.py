"""One symbol per plan action, shared by every renderer (text, markdown), so a reviewer who
reads both sees the same mark for the same action."""

from __future__ import annotations

from typing import Any

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "adopt": "=", "blocked": "!",
           "orphan": "?", "noop": " ", "start": ">", "stop": "#"}


def kind_label(change: dict[str, Any]) -> str:
    """What a plan entry is, for a reviewer: "contact list", "SMS campaign", or "voice
    campaign (Agentless)" (issue 16). Read from the entry's kind and its body."""
    if change.get("kind") == "ContactList":
        return "contact list"
    body = change.get("after") or change.get("before") or {}
    if body.get("campaignType") == "voice":
        mode = body.get("dialingMode")
        return f"voice campaign ({mode})" if isinstance(mode, str) else "voice campaign"
    return "SMS campaign"   # the normal form's default campaignType


def voice_line(body: dict[str, Any] | None) -> str:
    """One line of what a voice campaign will do when it runs (its dialing settings), or ""
    for anything else."""
    if not body or body.get("campaignType") != "voice":
        return ""
    strategy = body.get("dialingStrategy") or {}
    route = (f"flow {body['experienceFlowName']}" if body.get("experienceFlowName")
             else f"queue {body['queue_name']}" if body.get("queue_name") else "")
    parts = [str(body.get("dialingMode", "?")), route,
             f"{strategy.get('dialingOrder', '?')} order",
             f"{strategy.get('maxAttemptsPerRecord', '?')} attempt(s) per contact",
             f"retry after {strategy.get('defaultRetryPeriod', '?')} min",
             f"ring {strategy.get('maxRingTime', '?')} s"]
    if body.get("enableMachineDetect"):
        parts.append(f"machine detection {body['enableMachineDetect']}")
    dnc = (body.get("dncLists") or {}).get("name") if isinstance(body.get("dncLists"),
                                                                  dict) else None
    if dnc:
        parts.append(f"DNC list {dnc}")
    return "voice: " + ", ".join(part for part in parts if part)


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def start_line(change: dict[str, Any]) -> str:
    """What a start does, in words a reviewer cannot miss: "starts sending SMS to lists X,
    Y; window MO-FR 9:00 AM-6:00 PM Asia/Kolkata" (issue 17)."""
    body = change.get("after") or {}
    lists = ", ".join(str(name) for name in change.get("lists") or ()) or "(none)"
    verb = "calling" if body.get("campaignType") == "voice" else "sending SMS to"
    hours = (body.get("dialingStrategy") or {}).get("callingHours") or {}
    line = f"starts {verb} lists {lists}"
    window = calling_window(hours.get("days") or [])
    if window:
        line += f"; window {window} {hours.get('timezone', '')}".rstrip()
    if change.get("rerun"):
        line += f"; rerun {change['rerun']}"
    return line


def calling_window(days: list[Any]) -> str:
    """Calling hours as day ranges sharing one time window: "MO-FR 9:00 AM-6:00 PM, SA
    10:00 AM-2:00 PM"."""
    spans: list[tuple[list[str], str]] = []
    ordered = sorted((d for d in days if isinstance(d, dict)),
                     key=lambda d: _DAYS.index(d.get("day")) if d.get("day") in _DAYS else 9)
    for day in ordered:
        window = f"{day.get('start', '?')}-{day.get('end', '?')}"
        code = str(day.get("day", "?"))
        last = spans[-1] if spans else None
        if (last is not None and last[1] == window and last[0][-1] in _DAYS
                and code in _DAYS and _DAYS.index(code) == _DAYS.index(last[0][-1]) + 1):
            last[0].append(code)
        else:
            spans.append(([code], window))
    return ", ".join((f"{codes[0]}-{codes[-1]}" if len(codes) > 1 else codes[0]) + f" {window}"
                     for codes, window in spans)
