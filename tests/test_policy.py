"""Per-environment policies (issue 14) on resolved campaigns: each violation located at the
campaign value, naming the policy and the environment."""

from __future__ import annotations

from provisioner.spec.analysis import analyse
from provisioner.spec.record import Context

SPEC = b"""\
name: Policy Test
description: A campaign checked against a policy.
contactLists: [Customers]
priority: "4"
format: simple
message: {text: "Hello. Reply STOP to opt out."}
dialingStrategy:
  callerId: {phoneNumber: "+14155550123"}
  callingHours:
    frequency: DAILY
    timezone: America/Chicago
    days: [{day: MO, start: "7:00 AM", end: "5:00 PM"}]
"""


def problems(policy: dict[str, object]) -> list[tuple[int, int, str, str, str]]:
    context = Context("prod", ("prod",), {}, {}, policy, ())
    [[_, documents]] = [analyse(SPEC, context)]
    return [tuple(p) for p in documents[0][0]]  # type: ignore[misc]


def test_no_policy_leaves_the_warnings_as_they_were() -> None:
    found = problems({})
    assert [(p[0], p[2], p[4]) for p in found] == [
        (1, "$", "warning"), (12, "$.dialingStrategy.callingHours.days[0].start", "warning")]


def test_each_policy_is_an_error_at_the_value_naming_policy_and_environment() -> None:
    found = problems({"callerIds": ["+14155550100"], "requireDncList": True,
                      "quietHours": "error", "maxPriority": "3"})
    errors = {(p[0], p[2]): p[3] for p in found if p[4] == "error"}
    assert errors[(8, "$.dialingStrategy.callerId.phoneNumber")].startswith(
        "caller id '+14155550123' is not allowed in environment 'prod' (policy callerIds")
    assert "policy requireDncList" in errors[(1, "$")]
    assert errors[(4, "$.priority")].endswith("(policy maxPriority)")
    assert errors[(12, "$.dialingStrategy.callingHours.days[0].start")].endswith(
        "not allowed in environment 'prod' (policy quietHours: error)")
    assert not any("TCPA" in p[3] and p[4] == "warning" for p in found)   # made an error


def test_quiet_hours_off_drops_the_warning_and_allowed_values_pass() -> None:
    found = problems({"callerIds": ["+14155550123"], "quietHours": "off",
                      "maxPriority": "4"})
    assert [p[2] for p in found] == ["$"]   # only the no-DNC warning is left
