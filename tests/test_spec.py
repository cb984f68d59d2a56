"""load_specs over real files: the example folders, normalisation, and hostile input."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from provisioner.body import BODY_FIELDS, decode_message, encode_message
from provisioner.spec.analysis import normalise
from provisioner.spec.load import load_specs
from provisioner.disk.yamlnodes import MAX_FILE_BYTES, MAX_NODES, parse

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "examples"
EXPECT = re.compile(r"# expect( warning)?: (\d+):(\d+): (\S+): (.+)")


def expectations(path: Path) -> list[tuple[str, int, int, str, str]]:
    """(severity, line, column, path, fragment) from an example's leading comments."""
    found = []
    for raw in path.read_bytes().decode("latin-1").splitlines():
        match = EXPECT.fullmatch(raw)
        if match is None:
            break
        severity = "warning" if match[1] else "error"
        found.append((severity, int(match[2]), int(match[3]), match[4], match[5]))
    return found


def assert_matches(problems: list, expected: list) -> None:
    assert len(problems) == len(expected), [str(p) for p in problems]
    for severity, line, column, path, fragment in expected:
        hits = [p for p in problems if (p.severity, p.line, p.column, p.path) ==
                (severity, line, column, path) and fragment in p.message]
        assert hits, f"{line}:{column}: {path}: {fragment} not in {[str(p) for p in problems]}"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("example", sorted((EXAMPLES / "invalid").glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_example_reports_exactly_what_it_states(example: Path) -> None:
    expected = [e for e in expectations(example) if e[0] == "error"]
    assert expected, f"{example.name} states no expected error"
    specs = load_specs([example])
    assert not specs.ok
    assert_matches([p for p in specs.problems if p.severity == "error"], expected)
    assert all(p.file == f"tests/examples/invalid/{example.name}" for p in specs.problems)


@pytest.mark.parametrize("example", sorted((EXAMPLES / "valid").glob("*.yaml")), ids=lambda p: p.stem)
def test_valid_example_has_no_error_and_only_stated_warnings(example: Path) -> None:
    specs = load_specs([example])
    assert specs.ok, [str(p) for p in specs.problems]
    assert specs.campaigns
    assert_matches(specs.problems, expectations(example))


def test_create_page_sample_normalises_to_the_page_body() -> None:
    specs = load_specs([EXAMPLES / "valid" / "create-page-sample.yaml"])
    [campaign] = specs.campaigns
    days = [{"day": d, "start": "9:00 AM", "end": "6:00 PM"} for d in ("MO", "TU", "WE", "TH", "FR")]
    assert campaign.body == {
        "name": "Interactive Support SMS Campaign1212",
        "description": "This campaign sends an SMS with a link or instructions to interact with "
                       "an AI Agent. Customers can check order status, raise tickets, or get "
                       "help—all via chat-enabled SMS.",
        "contactLists": ["CL Only 2020 Dec 4"], "dncLists": {"name": "testdnc"}, "priority": "5",
        "format": "advanced", "campaignType": "sms",
        "dialingStrategy": {"callerId": {"phoneNumber": "+919860712345"}, "callingHours": {
            "frequency": "WEEKLY", "timezone": "Asia/Kolkata", "days": days}},
        "schedule": {"isSchedulingEnabled": False}, "experienceFlowName": "SMS Support Flow",
    }
    assert list(campaign.body) == [k for k in BODY_FIELDS if k in campaign.body]
    assert (campaign.lname, campaign.line, campaign.column) == (campaign.name.lower(), 3, 1)


def test_normalise_applies_the_conveniences_in_body_field_order() -> None:
    body = normalise({"protect": True, "ensure": "present", "message": {"text": "Hi é"},
                      "priority": 4, "format": "simple", "name": "N"})
    assert list(body) == ["name", "priority", "format", "campaignType", "message"]
    assert body["priority"] == "4" and body["campaignType"] == "sms"
    assert body["message"] == {"message": encode_message("Hi é")}


def test_base64_message_is_reencoded_in_the_canonical_form() -> None:
    body = normalise({"name": "N", "message": {"templateId": "", "message": "SGk="}})
    assert body["message"] == {"templateId": "", "message": "SGk%3D"}
    assert decode_message(body["message"]["message"]) == "Hi"


def test_folders_are_searched_recursively_sorted_skipping_hidden(tmp_path: Path) -> None:
    good = (EXAMPLES / "valid" / "absent-minimal.yaml").read_text()
    for rel in ("b/z.yml", "a.yaml", ".hidden/x.yaml", "notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(good.replace("Retired Campaign", rel))
    specs = load_specs([tmp_path, tmp_path / "a.yaml"])
    assert [c.name for c in specs.campaigns] == ["a.yaml", "b/z.yml"]
    data = (tmp_path / "a.yaml").read_bytes()
    assert specs.files[(tmp_path / "a.yaml").as_posix()] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_missing_path_is_an_error_and_empty_folder_a_warning(tmp_path: Path) -> None:
    specs = load_specs([tmp_path / "nope", tmp_path])
    assert [(p.severity, p.message) for p in specs.problems] == [
        ("error", "no such file or directory"), ("warning", "no *.yaml or *.yml spec files here")]


def test_name_clash_across_files_names_both_places(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("# first\nname: Old Promo\nensure: absent\n")
    (tmp_path / "b.yaml").write_text("name: OLD PROMO\nensure: absent\n")
    specs = load_specs([tmp_path])
    [problem] = specs.problems
    assert (problem.file, problem.line, problem.column) == ((tmp_path / "b.yaml").as_posix(), 1, 7)
    assert f"{(tmp_path / 'a.yaml').as_posix()}:2:7" in problem.message
    assert [c.name for c in specs.campaigns] == ["Old Promo"]


def test_oversized_file_is_refused_with_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    [problem] = load_specs([big]).problems
    assert "larger than 1024 KiB" in problem.message and problem.severity == "error"


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_bytes(b"")
    [problem] = load_specs([tmp_path / "empty.yaml"]).problems
    assert (problem.line, problem.column, problem.severity) == (1, 1, "error")


def test_full_billion_laughs_stops_at_the_node_cap() -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, cur in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    [doc], issues = parse("\n".join(lines).encode())
    assert not issues and doc.value is None
    assert f"more than {MAX_NODES} nodes" in doc.issues[-1].message


def test_duplicate_keys_name_both_lines_and_locate_through_merges() -> None:
    [doc], _ = parse(b"base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n  y: 3\n")
    assert [(i.line, i.column, i.path) for i in doc.issues] == [(5, 3, "$.m.y")]
    assert "first at line 4" in doc.issues[0].message
    assert doc.value["m"] == {"y": 3, "x": 1}
    assert doc.locate(("m", "x")) == (1, 14) and doc.locate(("m", "y"), key=True) == (5, 3)
    assert doc.locate(("m", "missing", 3)) == (3, 3)


def test_a_dangling_symlinked_spec_is_an_error_not_a_silent_skip(tmp_path: Path) -> None:
    """A skipped spec would look removed, and prune would delete its campaign."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    (folder / "loop").symlink_to(folder)   # a cycle is walked once
    result = load_specs([folder])
    assert [(p.file.endswith("gone.yaml"), p.severity) for p in result.problems] == [
        (True, "error")]
    assert "cannot read" in result.problems[0].message
