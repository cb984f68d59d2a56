"""Issue 18, "Validate what the API rejects and what misleads a reviewer", by class:

1. a string the API needs non-blank, or a time/number that only looks right, is a located
   validation error, and validation is at least as strict as the emulator;
2. names that look the same in a review (Unicode normalisation, spacing, invisible
   characters) are refused across files, naming both places;
3. every string from a spec or the tenant is escaped wherever it is printed: no forged
   line, no terminal escape, no GitHub workflow command.
"""

from __future__ import annotations

import copy
import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from provisioner.spec import rules
from provisioner.spec import schema
from provisioner.spec.analysis import normalise
from provisioner.emulator.validation import validate_campaign
from provisioner.spec.printable import confusable_key, escape, escape_json, hidden
from provisioner.apply.progress import Progress
from provisioner.render.plans import render_json
from provisioner.render.text import render_text
from provisioner.render.markdown import render_markdown
from provisioner.render.problems import REPORTERS
from provisioner.spec.load import Problem, SpecSet, load_specs
from tests.conftest import EmulatorProcess, Workspace
from tests.test_drift import applied, ids_by_name
from tests.test_schema import VALID

HOSTILE = "Sale\n::error file=x::forged\x1b[2J\x1b]0;t\x07\u202eevil\u200b\u2028##[warning]x\r"
BLANKS = ["   ", "\t", "\u200b", "\u3164", " \u00a0 "]
# Every string field the API needs non-blank (emulator/validation.py `is_text`), by path.
NAMED = [("name",), ("contactLists", 0), ("dncLists", "name")]


def _doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy({**VALID, "dncLists": {"name": "testdnc"}})   # advanced format
    doc.update(changes)
    return doc


def _set(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _errors(doc: dict[str, Any]) -> list[schema.Finding]:
    return [f for f in schema.check(doc) + rules.check(doc) if f.severity == "error"]


# 1. What the API rejects ---------------------------------------------------------------

def _variants() -> list[tuple[str, dict[str, Any], tuple[str | int, ...]]]:
    """(label, document, path of the bad value) for every field and kind of blank."""
    found = []
    for blank in BLANKS:
        for path in (*NAMED, ("experienceFlowName",)):
            found.append((f"{path}={blank!r}", _set(_doc(), path, blank), path))
        found.append((f"text={blank!r}", _doc(message={"text": blank}), ("message", "text")))
        found.append((f"base64={blank!r}", _doc(message={"message": normalise(
            _doc(message={"text": blank}))["message"]["message"]}), ("message", "message")))
    hours = ("dialingStrategy", "callingHours", "days", 0)
    for bad in ("9:00 AM\n", "9:00 AM ", " 9:00 AM", "9:00 AM\r\n"):
        found.append((f"start={bad!r}", _set(_doc(), (*hours, "start"), bad), (*hours, "start")))
    number = ("dialingStrategy", "callerId", "phoneNumber")
    for bad in ("+14155550123\n", " +14155550123"):
        found.append((f"phone={bad!r}", _set(_doc(), number, bad), number))
    zone = ("dialingStrategy", "callingHours", "timezone")
    found.append(("zone", _set(_doc(), zone, "Asia/Kolkata\n"), zone))
    return found


@pytest.mark.parametrize("label,doc,path", _variants(), ids=[v[0] for v in _variants()])
def test_every_blank_or_inexact_value_is_a_located_error(label: str, doc: dict[str, Any],
                                                        path: tuple[str | int, ...]) -> None:
    assert [f.path for f in _errors(doc)] == [path], label


def test_validation_is_at_least_as_strict_as_the_emulator() -> None:
    refused_by_emulator = 0
    for label, doc, _ in _variants():
        body = normalise(doc)
        if validate_campaign(body, query_type="sms", full_put=True):
            refused_by_emulator += 1
            assert _errors(doc), f"{label}: the emulator refuses what validate accepts"
    assert refused_by_emulator >= 20   # the blank and inexact values above


def test_emulator_matches_times_and_numbers_in_full() -> None:
    body = normalise(_doc())
    assert validate_campaign(body, query_type="sms", full_put=True) == []
    hours = body["dialingStrategy"]["callingHours"]["days"][0]
    late = copy.deepcopy(body)
    late["dialingStrategy"]["callingHours"]["days"][0] = {**hours, "start": "6:00 PM",
                                                          "end": "9:00 AM\n"}
    assert validate_campaign(late, query_type="sms", full_put=True) == [
        "$.dialingStrategy.callingHours.days[0].end must be a time h:mm AM|PM"]
    phone = copy.deepcopy(body)
    phone["dialingStrategy"]["callerId"]["phoneNumber"] = "+14155550123\n"
    assert validate_campaign(phone, query_type="sms", full_put=True) == [
        "$.dialingStrategy.callerId.phoneNumber must be an E.164 number"]


@pytest.mark.parametrize("decider", ["jsonschema-rs", "compiled", "jsonschema"])
def test_every_schema_decider_reads_dollar_as_the_end_of_the_string(decider: str) -> None:
    doc = _set(_doc(), ("dialingStrategy", "callingHours", "days", 0, "end"), "6:00 PM\n")
    check = {"jsonschema-rs": schema.fast_check(), "compiled": schema.compiled_check(),
             "jsonschema": schema.validator().is_valid}[decider]
    assert not check(doc)
    assert check(_doc())


@pytest.mark.parametrize("name", ["Spring\u200bSale", "Spring\x1bSale", "Spring\nSale",
                                  "Spring\u202eSale", "Spring\u00a0Sale", "Sale\u3164",
                                  " Spring Sale", "Spring Sale\t", "Spring Sale "])
def test_invisible_control_or_surrounding_characters_in_names_are_refused(name: str) -> None:
    for path in (("name",), ("contactLists", 0), ("dncLists", "name")):
        [finding] = _errors(_set(_doc(), path, name))
        assert finding.path == path
        assert "\n" not in finding.message and "\x1b" not in finding.message


def test_names_that_merely_look_foreign_are_accepted() -> None:
    for name in ("Café Ünïcode", "Frühlings-Sale 2024", "春のセール", "Spring  Sale"):
        assert _errors(_doc(name=name)) == [], name


# 2. Names that look the same -----------------------------------------------------------

CONFUSABLE = ["Spring Sale", "Spring  Sale", "Ｓpring Sale", "SPRING SALE",
              "Spring Sal\u00e9", "Spring Sale\u0301", "STRASSE Promo", "straße promo"]


def test_confusable_key_is_a_function_of_the_state_identity() -> None:
    for name in CONFUSABLE + ["Ab\u200bc", "\u212bngstrom"]:
        assert confusable_key(name) == confusable_key(name.lower())
        assert confusable_key(name) == confusable_key(name.upper().lower())
    assert confusable_key("Spring Sale") == confusable_key("Ｓpring  Sale\u200b")
    assert confusable_key("Spring Salé") == confusable_key(unicodedata.normalize("NFD", "Spring Salé"))
    assert confusable_key("Spring Sale") != confusable_key("Spring Sales")


def _spec_text(name: str) -> str:
    path = Path(__file__).parent / "examples" / "invalid" / "name-clash.yaml"
    body = path.read_text(encoding="utf-8").split("---\n")[1]
    return body.replace("name: EXAMPLE campaign", "name: " + json.dumps(name))


def test_confusable_names_across_files_are_refused_naming_both_places(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for index, name in enumerate(["Spring Sale", "Spring  Sale", "Ｓpring Sale",
                                  "Spring Sal\u00e9", "Spring Sale\u0301"]):
        Path(f"c{index}.yaml").write_text(_spec_text(name), encoding="utf-8")
    specs = load_specs([tmp_path])
    assert [c.name for c in specs.campaigns] == ["Spring Sale", "Spring Salé"]
    clashes = [p for p in specs.problems if "looks the same" in p.message]
    assert [(p.file, p.line, p.column) for p in clashes] == [
        ("c1.yaml", 1, 7), ("c2.yaml", 1, 7), ("c4.yaml", 1, 7)]
    assert all("at c0.yaml:1:7" in p.message for p in clashes[:2])
    assert "at c3.yaml:1:7" in clashes[2].message


# 3. Escaping ---------------------------------------------------------------------------

def _unsafe_lines(text: str, *, annotations: bool = False) -> list[str]:
    """Lines with a hidden character or that a GitHub runner would read as a command (with
    `annotations`, a line may start with our own `::error ` or `::warning `)."""
    if annotations:
        text = re.sub(r"^::(error|warning)[ :]", "", text, flags=re.MULTILINE)
    return [line for line in text.split("\n")
            if any(hidden(ch) for ch in line) or re.match(r"\s*(::|##\[)", line)]


def test_escape_shows_every_hidden_character_and_is_idempotent() -> None:
    assert escape("a\nb\x1b[2J\u200b\u202e\U000e0001") == \
        "a\\nb\\x1b[2J\\u200b\\u202e\\U000e0001"
    assert escape("::error::x") == "\\x3a:error::x"
    assert escape("  ##[warning]x") == "  \\x23#[warning]x"
    assert escape("a::b") == "a::b" and escape("Café 春") == "Café 春"
    assert escape("one\n::two", keep_newlines=True) == "one\n\\x3a:two"
    every = "".join(chr(code) for code in range(0x30000) if not 0xD800 <= code < 0xE000)
    once = escape(every)
    assert escape(once) == once and not _unsafe_lines(once)


def test_escape_json_keeps_the_value_and_shows_it() -> None:
    text = json.dumps({"n": HOSTILE + "\U000e0001\x85"}, ensure_ascii=False)
    shown = escape_json(text)
    assert json.loads(shown) == json.loads(text) and not _unsafe_lines(shown)


def _hostile_plan() -> dict[str, Any]:
    change = {"name": HOSTILE, "lname": HOSTILE.lower(), "id": "cd-\x1b[31m", "recreate": False,
              "drift": True, "before": {"name": HOSTILE}, "after": {"name": HOSTILE,
              "description": HOSTILE, "message": {"message": "SGkh"}},
              "changes": [{"path": "$.x\n::error::y", "before": HOSTILE, "after": "\x1b[2J"}],
              "drift_changes": [{"path": "$.\u202e", "before": None, "after": HOSTILE}],
              "reason": HOSTILE, "source": "campaigns/\n::error::x.yaml:1:1",
              "message": {"text": HOSTILE + "\n::set-output name=x::y", "encoding": "UCS-2",
                          "segments": 1}}
    changes = [{**change, "action": action} for action in
               ("create", "update", "adopt", "delete", "orphan")]
    changes.append({**change, "action": "blocked", "blocked_action": "delete\n::error::z"})
    summary = {"create": 1, "update": 1, "delete": 1, "noop": 0, "adopt": 1, "blocked": 1,
               "orphan": 1}
    return {"env": "test", "changes": changes, "summary": summary,
            "warnings": [{"file": "x\n::error::w", "line": 1, "column": 1, "path": "$\x1b",
                          "message": HOSTILE}]}


@pytest.mark.parametrize("fmt", ["text", "colour", "markdown", "json"])
def test_every_plan_renderer_escapes_spec_and_tenant_strings(fmt: str) -> None:
    plan = _hostile_plan()
    text = {"text": lambda: render_text(plan), "colour": lambda: render_text(plan, colour=True),
            "markdown": lambda: render_markdown(plan), "json": lambda: render_json(plan)}[fmt]()
    if fmt == "colour":   # our own colour codes, and nothing else
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert _unsafe_lines(text) == []
    if fmt == "json":
        assert json.loads(text) == plan
    if fmt == "text":   # one head line per campaign: nothing forged
        heads = [line for line in text.splitlines() if line.startswith("  ") and "  (" in line]
        assert len(heads) == len(plan["changes"])


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_every_validate_reporter_escapes(fmt: str) -> None:
    problem = Problem("x\n::error::f\x1b.yaml", 1, 2, "$.k\n::warning::p", HOSTILE, "error")
    out = io.StringIO()
    REPORTERS[fmt](SpecSet(problems=[problem, problem]), out)
    text = out.getvalue()
    if fmt == "github":   # its own two annotations, and nothing else starts a command
        assert [line[:8] for line in text.splitlines()] == ["::error "] * 2
    assert _unsafe_lines(text, annotations=fmt == "github") == []
    if fmt == "json":
        assert json.loads(out.getvalue())[0]["message"] == HOSTILE
    if fmt != "json":
        assert len(out.getvalue().splitlines()) == 3 if fmt == "text" else 2


@pytest.mark.parametrize("tty", [False, True])
def test_progress_writes_one_visible_line_per_event(tty: bool) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty
    stream = Stream()
    progress = Progress(stream, clock=lambda: 0.0)
    progress.start(2)
    progress.event("done", HOSTILE + ": created")
    progress.event("retry\n::error::k", HOSTILE)
    progress.finish()
    # the bar (terminal only) is our own: drawn, then cleared before the next line
    text = re.sub(r"\[[#.]{30}\] \d+/\d+ actions[^\r\n]*\r\x1b\[K", "", stream.getvalue())
    assert _unsafe_lines(text) == []
    lines = [line for line in text.splitlines() if not line.startswith("progress: ")]
    assert lines == [escape(HOSTILE) + ": created", escape(f"retry\n::error::k: {HOSTILE}")]


def test_validate_cli_never_prints_a_raw_key_or_name(tmp_path: Path) -> None:
    import subprocess
    import sys

    spec = tmp_path / "evil.yaml"
    spec.write_text(_spec_text("Evil\n::error::forged\x1b[2J") +
                    '"x\\n::error file=a::b\\u001b[2J": 1\n', encoding="utf-8")
    for fmt in ("text", "json", "github"):
        result = subprocess.run([sys.executable, "-m", "provisioner", "validate", "--format",
                                 fmt, str(spec)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr
        assert _unsafe_lines(result.stdout, annotations=fmt == "github") == [], fmt


def test_tenant_names_and_values_are_escaped_in_plan_and_drift(workspace: Workspace,
                                                               emulator: EmulatorProcess) -> None:
    names = applied(workspace, 2)
    ids = ids_by_name(emulator)
    emulator.admin("PATCH", f"campaigns/{ids[names[0]]}", json={
        "description": HOSTILE, "message": {"message": "SGkh", HOSTILE: HOSTILE}})
    emulator.admin("PATCH", f"campaigns/{ids[names[1]]}", json={"name": names[1] + HOSTILE})
    for args in (("plan", "--refresh"), ("plan", "--refresh", "--format", "markdown"),
                 ("drift",), ("drift", "--format", "markdown"), ("plan", "--refresh-only")):
        result = workspace.run(*args)
        assert "Traceback" not in result.stderr, args
        assert _unsafe_lines(result.stdout) == [], args
        assert _unsafe_lines(result.stderr) == [], args
    applied_ = workspace.run("apply", "--auto-approve")
    assert applied_.returncode == 0, applied_.stderr
    assert _unsafe_lines(applied_.stdout + applied_.stderr) == []
    assert names[1] in ids_by_name(emulator)   # set back to the spec




def test_error_lines_are_escaped_too(workspace: Workspace) -> None:
    """An error message carries paths and names as given: it is printed as one escaped
    line, so it cannot forge a line or a workflow command either."""
    result = workspace.run("plan", "--campaigns", "no\n::error::forged\x1b[2J")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines == [r"error: no\n::error::forged\x1b[2J: no such campaigns folder"]
