"""One symbol per plan action, shared by every renderer (text, markdown), so a reviewer who
reads both sees the same mark for the same action."""

from __future__ import annotations

from typing import Any

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "adopt": "=", "blocked": "!",
           "orphan": "?", "noop": " "}


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
