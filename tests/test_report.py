"""validate reporters, writing to an injected stream."""

from __future__ import annotations

import io
import json

from provisioner.render.problems import GITHUB_LIMIT, REPORTERS, format_problem
from provisioner.spec.load import Problem, SpecSet

ERROR = Problem("campaigns/x.yaml", 12, 7, "$.dialingStrategy.callingHours.days[2].start",
                "'25:00 PM' is not a time like 9:00 AM", "error")
WARNING = Problem("campaigns/y.yaml", 1, 1, "$", "SMS campaign without dncLists", "warning")


def render(fmt: str, problems: list[Problem]) -> str:
    stream = io.StringIO()
    REPORTERS[fmt](SpecSet(problems=problems, files={"campaigns/x.yaml": "sha256:0"}), stream)
    return stream.getvalue()


def test_text_lines_and_summary() -> None:
    lines = render("text", [ERROR, WARNING]).splitlines()
    assert lines == [
        "campaigns/x.yaml:12:7: $.dialingStrategy.callingHours.days[2].start: "
        "'25:00 PM' is not a time like 9:00 AM",
        "campaigns/y.yaml:1:1: $: SMS campaign without dncLists (warning)",
        "0 valid campaign(s) in 1 file(s); 1 error(s), 1 warning(s)",
    ]
    assert format_problem(ERROR) == lines[0]


def test_json_is_a_list_of_problem_objects() -> None:
    data = json.loads(render("json", [ERROR, WARNING]))
    assert data[0] == {"file": "campaigns/x.yaml", "line": 12, "column": 7,
                       "path": ERROR.path, "message": ERROR.message, "severity": "error"}
    assert [item["severity"] for item in data] == ["error", "warning"]
    assert json.loads(render("json", [])) == []


def test_github_annotations_escape_and_stop_at_the_limit() -> None:
    odd = Problem("a,b:c.yaml", 2, 3, "$", "50% off\nnow", "error")
    many = [odd] + [ERROR] * (GITHUB_LIMIT + 2) + [WARNING]
    lines = render("github", many).splitlines()
    assert lines[0] == "::error file=a%2Cb%3Ac.yaml,line=2,col=3::$: 50%25 off%0Anow"
    assert lines[1] == ("::error file=campaigns/x.yaml,line=12,col=7::$.dialingStrategy."
                        "callingHours.days[2].start: '25:00 PM' is not a time like 9:00 AM")
    assert lines[GITHUB_LIMIT] == "::error::3 more errors not shown; run provisioner validate locally"
    assert lines[GITHUB_LIMIT + 1:] == ["::warning file=campaigns/y.yaml,line=1,col=1::$: "
                                        "SMS campaign without dncLists"]
