"""Per-environment policies (issue 14), from the config's `policy:` of an environment and
checked on every resolved campaign by `validate` and `plan`:

    policy:
      callerIds: ["+14155550123"]   # the only numbers campaigns may send from
      requireDncList: true          # every SMS campaign links a DNC list
      quietHours: error             # US TCPA quiet hours (8 AM-9 PM): error | warning | off
      maxPriority: "3"              # the highest priority allowed (higher values run first)

A violation is a finding at the campaign value, naming the policy and the environment.
"""

from __future__ import annotations

from typing import Any

from provisioner.errors import ERROR, WARNING
from provisioner.spec import rules
from provisioner.spec.schema import Finding

# The policy's shape is checked where the config is read (provisioner/config.py).
_CALLER = ("dialingStrategy", "callerId", "phoneNumber")


def check(campaign: dict[str, Any], policy: dict[str, Any], env: str) -> list[Finding]:
    """The policy's findings on one resolved campaign (nothing for `ensure: absent`)."""
    if campaign.get("ensure") == "absent":
        return []
    found = _caller(campaign, policy, env) + _dnc(campaign, policy, env)
    found += _priority_finding(campaign, policy, env) + _quiet(campaign, policy, env)
    return found


def _caller(campaign: dict[str, Any], policy: dict[str, Any], env: str) -> list[Finding]:
    allowed = policy.get("callerIds")
    number = rules.get(campaign, *_CALLER)
    if not allowed or not isinstance(number, str) or number in allowed:
        return []
    return [Finding(_CALLER, f"caller id {number!r} is not allowed in environment {env!r} "
                             f"(policy callerIds: {', '.join(allowed)})")]


def _dnc(campaign: dict[str, Any], policy: dict[str, Any], env: str) -> list[Finding]:
    if not policy.get("requireDncList") or campaign.get("dncLists"):
        return []
    return [Finding((), f"no dncLists: environment {env!r} requires a DNC list on every "
                        "campaign (policy requireDncList)")]


def _priority_finding(campaign: dict[str, Any], policy: dict[str, Any],
                      env: str) -> list[Finding]:
    highest = _priority(policy.get("maxPriority"))
    given = _priority(campaign.get("priority"))
    if highest is None or given is None or given <= highest:
        return []
    return [Finding(("priority",), f"priority {given} is above {highest}, the highest allowed "
                                   f"in environment {env!r} (policy maxPriority)")]


def _quiet(campaign: dict[str, Any], policy: dict[str, Any], env: str) -> list[Finding]:
    """With quietHours: error, the quiet-hours warnings become errors naming the policy."""
    if policy.get("quietHours") != "error":
        return []
    return [Finding(f.path, f"{f.message}: not allowed in environment {env!r} (policy "
                            "quietHours: error)", ERROR)
            for f in rules.quiet_hours(campaign) if f.severity == WARNING]


def _priority(value: Any) -> int | None:
    """A priority "1".."5" (or 1..5) as a number; None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 5 and str(value).strip() == str(number) else None
