"""Every reader of our own input files fed malformed data: spec files, the state file and
saved plan files. Each case ends in exit 1 with a located line naming the file (a spec
problem `campaigns/x.yaml:L:C: ...`, or one `error: ...` line), never `internal error`
(exit 3) or a traceback, and never in a hang; the state file is left byte for byte as it
was.

The kinds, one class each (issue 18): explicit YAML tags with values they cannot hold;
integers past Python's 4,300-digit int-str limit; nesting too deep; alias expansion past
the caps per document, file and run; files that are not regular (a FIFO, a symlink loop,
a folder that cannot be listed); JSON of the wrong shape; a file system that refuses a
write (full disk, read-only or unwritable folder); and a state path that is a symlink.
(provisioner.yaml and command-line options have their own matrix:
tests/test_malformed_settings.py.)
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioner.disk import limits
from provisioner.disk import regular as regularfile
from provisioner.cli import main
from provisioner.plan.model import FORMAT_VERSION
from provisioner.spec.load import load_specs
from provisioner.state.local import LocalBackend
from provisioner.state.model import State

ROOT = Path(__file__).resolve().parent.parent
HOST, STREAM, ACCOUNT = "https://kore.example", "st-1", "acc-1"
TARGET = {"host": HOST, "streamId": STREAM, "accountId": ACCOUNT}
SPEC = (ROOT / "tests/examples/valid/create-page-sample.yaml").read_text(encoding="utf-8")
HUGE = "1" * 5000
DEEP_JSON = "[" * 100_000 + "]" * 100_000
LAUGH = ("name: X{i}\na: &a [y, y, y, y, y, y, y, y, y, y]\nb: &b [*a, *a, *a, *a, *a, *a, *a, "
         "*a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, "
         "*c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n")
BOMBS = "---\n".join(LAUGH.format(i=i) for i in range(3000))   # ~1 MB, 3,000 documents


class Repo:
    """A campaigns folder with one valid spec, and a state file bound to TARGET."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "campaigns").mkdir(parents=True)
        (root / "campaigns" / "ok.yaml").write_text(SPEC, encoding="utf-8")
        self.state_file = root / "state" / "test.json"
        state = State.new(TARGET)
        state.record_campaign("Kept", "cd-1", {"name": "Kept"}, "sha256:" + "a" * 64)
        LocalBackend(self.state_file).write(state)
        self.saved = self.state_file.read_bytes()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("KORE_", "PROVISIONER_"))}
        self.env.update({"KORE_HOST": HOST, "KORE_STREAM_ID": STREAM, "KORE_ACCOUNT_ID": ACCOUNT,
                         "KORE_CLIENT_ID": "cs-1", "KORE_CLIENT_SECRET": "s3cr3t-never-shown",
                         "PROVISIONER_STATE": "state/test.json", "NO_COLOR": "1",
                         "PROVISIONER_CACHE_DIR": str(root / "cache")})

    def spec(self, name: str, text: str | bytes) -> Path:
        path = self.root / "campaigns" / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "provisioner", *args], cwd=self.root,
                              env=self.env, text=True, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=60)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def failed_cleanly(result: subprocess.CompletedProcess[str] | tuple[int, str], where: str,
                   says: str) -> str:
    """Exit 1, a line naming `where` and saying `says`, no crash: the line found."""
    code, stderr = (result.returncode, result.stdout + result.stderr
                    ) if not isinstance(result, tuple) else result
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert code == 1, stderr
    lines = [line for line in stderr.splitlines() if where in line and says in line]
    assert lines, f"no line with {where!r} and {says!r} in:\n{stderr}"
    return lines[0]


# -- spec files --------------------------------------------------------------------------------

def _field(value: str) -> str:
    return SPEC.replace('priority: "5"', f"priority: {value}")


# (id, file text, "line:column", what the problem says). The explicit-tag class: every
# constructor of a tagged scalar that can refuse its value, unknown tags, collection tags.
SPEC_CASES = [
    ("int-tag-word", _field('!!int "abc"'), "11:11", "'abc' is not a valid !!int value"),
    ("int-tag-verbatim", _field("!<tag:yaml.org,2002:int> zz"), "11:11", "not a valid !!int"),
    ("float-tag-word", _field("!!float x"), "11:11", "'x' is not a valid !!float value"),
    ("bool-tag-word", _field("!!bool maybe"), "11:11", "not a valid !!bool value"),
    ("null-tag-word", _field("!!null x"), "11:11", "not a valid !!null value"),
    ("binary-tag-junk", _field("!!binary '#%'"), "11:11", "unsupported YAML tag"),
    ("timestamp-tag-junk", _field("!!timestamp 2020-13-99"), "11:11", "not a priority"),
    ("unknown-tag", _field("!shout 5"), "11:11", "unsupported YAML tag !shout"),
    ("python-tag", _field("!!python/object:os.system x"), "11:11", "unsupported YAML tag"),
    ("set-tag", _field("!!set {a: null}"), "11:11", "unsupported YAML tag"),
    ("str-tag-on-list", _field("!!str [a]"), "11:11", "unsupported YAML tag"),
    ("int-past-limit", _field(HUGE), "11:11", "integer this large"),
    ("tagged-int-past-limit", _field("!!int " + HUGE), "11:11", "integer this large"),
    ("hex-int-past-limit", _field("0x" + "f" * 5000), "11:11", "integer this large"),
    ("base60-int-past-limit", _field("!!int 1" + ":59" * 3000), "11:11", "integer this large"),
    ("deep-nesting", _field("[" * 200 + "]" * 200), "11:", "nested deeper than 64"),
    ("alias-bombs-per-file", BOMBS, "65:4", "the file expands to more than 1000000 nodes"),
]


@pytest.mark.parametrize("text, place, says", [c[1:] for c in SPEC_CASES],
                         ids=[c[0] for c in SPEC_CASES])
def test_a_malformed_spec_is_a_located_problem(repo: Repo, text: str, place: str,
                                               says: str) -> None:
    repo.spec("bad.yaml", text)
    found = failed_cleanly(repo.run("validate"), f"campaigns/bad.yaml:{place}", says)
    assert found.startswith("campaigns/bad.yaml:")
    planned = repo.run("plan")
    failed_cleanly(planned, f"campaigns/bad.yaml:{place}", says)
    assert planned.stderr.splitlines()[-1].startswith("error: ")
    assert repo.state_file.read_bytes() == repo.saved


# (id, how to make campaigns/bad.yaml what it is, what the problem says)
def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _link_to_fifo(path: Path) -> None:
    os.mkfifo(path.with_name("pipe"))
    path.symlink_to("pipe")


def _loop(path: Path) -> None:
    path.symlink_to(path.name)


NOT_REGULAR = [("fifo", _fifo, "a FIFO (named pipe), not a regular file"),
               ("link-to-fifo", _link_to_fifo, "a FIFO (named pipe), not a regular file"),
               ("symlink-loop", _loop, "a symlink loop")]


@pytest.mark.parametrize("make, says", [c[1:] for c in NOT_REGULAR],
                         ids=[c[0] for c in NOT_REGULAR])
def test_a_spec_that_is_not_a_regular_file_is_named_not_waited_on(
        repo: Repo, make: Callable[[Path], None], says: str) -> None:
    make(repo.root / "campaigns" / "bad.yaml")
    for command in (("validate",), ("plan",), ("validate", "campaigns/bad.yaml")):
        failed_cleanly(repo.run(*command), "campaigns/bad.yaml:1:1", says)
    assert repo.state_file.read_bytes() == repo.saved


def test_a_symlink_loop_without_a_spec_suffix_is_named_too(repo: Repo) -> None:
    _loop(repo.root / "campaigns" / "folder")   # perhaps meant as a folder of specs
    failed_cleanly(repo.run("validate"), "campaigns/folder:1:1", "a symlink loop")


def test_a_folder_that_cannot_be_listed_is_named(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # (chmod 000 does not stop root: the refusal is injected where the listing happens)
    (repo.root / "campaigns" / "locked").mkdir()
    (repo.root / "campaigns" / "locked" / "x.yaml").write_text(SPEC, encoding="utf-8")
    real_scandir, real_read = os.scandir, regularfile.read_regular

    def refuse(path: Any) -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_scandir(path)

    def refuse_read(path: Any, *args: Any) -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_read(path, *args)
    monkeypatch.setattr(os, "scandir", refuse)
    monkeypatch.setattr("provisioner.spec.files.read_regular", refuse_read)
    monkeypatch.chdir(repo.root)
    code = main(["validate", "--no-cache"])
    failed_cleanly((code, capsys.readouterr().out), "campaigns/locked:1:1",
                   "cannot read: Permission denied")


def test_upper_case_suffixes_are_spec_files(repo: Repo) -> None:
    (repo.root / "campaigns" / "ok.yaml").unlink()
    repo.spec("A.YAML", SPEC)
    repo.spec("b.Yml", SPEC.replace("Campaign1212", "Campaign B"))
    result = repo.run("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 valid campaign(s) in 2 file(s)" in result.stdout


def test_alias_expansion_is_capped_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    # Files each within the per-file cap, many of them: the run stops expanding, says so
    # for the files it refused, and caches none of those refusals.
    one = "---\n".join(LAUGH.format(i=i) for i in range(2))   # 2 x 100,001 nodes
    for i in range(6):
        (tmp_path / f"f{i}.yaml").write_text(one, encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_RUN_NODES", 500_000)
    specs = load_specs([tmp_path], workers=1)
    refused = [p for p in specs.problems if "of this run expand to more than 500000" in p.message]
    assert refused and refused[0].file.endswith("f2.yaml") and (refused[0].line, refused[0].column) == (1, 1)
    monkeypatch.setattr(limits, "MAX_RUN_NODES", 20_000_000)
    again = load_specs([tmp_path], workers=1)
    assert not any("of this run" in p.message for p in again.problems)


def test_a_run_cap_refusal_is_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from provisioner.speed.cache import SpecCache

    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "a.yaml").write_text(LAUGH.format(i=0), encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_RUN_NODES", 10)
    first = load_specs([tmp_path / "specs"], cache=SpecCache(tmp_path / "cache"), workers=1)
    assert any("of this run" in p.message for p in first.problems)
    monkeypatch.setattr(limits, "MAX_RUN_NODES", 20_000_000)
    second = load_specs([tmp_path / "specs"], cache=SpecCache(tmp_path / "cache"), workers=1)
    assert not any("of this run" in p.message for p in second.problems)
    assert any("document expands to more than" in p.message for p in second.problems)


# -- the state file ----------------------------------------------------------------------------

def _state_text(**changes: Any) -> str:
    document: dict[str, Any] = {"format_version": 1, "lineage": "l-1", "serial": 3,
                                "target": dict(TARGET), "campaigns": {}, "pending": {}}
    document.update(changes)
    return json.dumps(document)


# (id, the state file's text, what the error says). Each is a content a reader can meet.
STATE_CASES = [
    ("truncated", _state_text()[:30], "is corrupt (line 1 column"),
    ("not-utf8", b'{"serial": "\xff"}', "cannot read state"),
    ("deep-nesting", DEEP_JSON, "nested 100000 levels deep, too deep to read"),
    ("deep-in-a-body", _state_text()[:-1] + ', "x": ' + DEEP_JSON + "}",
     "nested 100001 levels deep, too deep to read"),
    ("int-past-limit", _state_text(serial=0)[:-1] + ', "x": ' + HUGE + "}",
     "an integer of more than 4300 digits"),
    ("serial-past-limit", _state_text().replace('"serial": 3', '"serial": ' + HUGE),
     "an integer of more than 4300 digits"),
    ("list", "[]", "is malformed: expected a JSON object"),
    ("serial-string", _state_text(serial="3"), "serial must be a non-negative integer"),
    ("campaigns-list", _state_text(campaigns=[]), "campaigns must be an object"),
    ("entry-not-object", _state_text(campaigns={"a": 1}), "campaigns['a'] must be an object"),
    ("target-missing", _state_text(target=None), "target must be an object"),
]


@pytest.mark.parametrize("text, says", [c[1:] for c in STATE_CASES],
                         ids=[c[0] for c in STATE_CASES])
@pytest.mark.parametrize("command", [("plan",), ("state", "list"), ("state", "rm", "kept")])
def test_a_malformed_state_file_is_a_located_error(repo: Repo, text: str | bytes, says: str,
                                                   command: tuple[str, ...]) -> None:
    repo.state_file.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    before = repo.state_file.read_bytes()
    line = failed_cleanly(repo.run(*command), "state/test.json", says)
    assert line.startswith("error: state") or line.startswith("error: cannot read state")
    assert repo.state_file.read_bytes() == before


@pytest.mark.parametrize("make, says", [c[1:] for c in NOT_REGULAR],
                         ids=[c[0] for c in NOT_REGULAR])
def test_a_state_path_that_is_not_a_regular_file_is_named(
        repo: Repo, make: Callable[[Path], None], says: str) -> None:
    repo.state_file.unlink()
    make(repo.state_file)
    for command in (("plan",), ("state", "list")):
        failed_cleanly(repo.run(*command), "test.json", says)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES],
                         ids=["disk-full", "read-only", "no-permission"])
@pytest.mark.parametrize("stage", ["lock", "write"])
def test_a_state_write_the_file_system_refuses_is_a_located_error(
        repo: Repo, code: int, stage: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Injected (root ignores permissions, and a test cannot fill a disk): the lock file's
    # creation fails, or the state's temporary file's.
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        writes = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if writes and (stage == "lock" or str(path).endswith(".tmp")):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.chdir(repo.root)
    monkeypatch.setenv("PROVISIONER_STATE", "state/test.json")
    monkeypatch.setattr(os, "open", refusing_open)
    status = main(["state", "rm", "kept"])
    monkeypatch.undo()
    doing = "lock" if stage == "lock" else "write"
    line = failed_cleanly((status, capsys.readouterr().err), "state/test.json",
                          f"cannot {doing} state state/test.json: {os.strerror(code)}")
    assert line.startswith("error: ")
    assert repo.state_file.read_bytes() == repo.saved
    assert not (repo.state_file.parent / "test.json.lock").exists()


def test_a_symlinked_state_file_is_written_and_locked_where_it_points(repo: Repo) -> None:
    real = repo.root / "shared" / "state.json"
    real.parent.mkdir()
    repo.state_file.rename(real)
    repo.state_file.symlink_to(os.path.relpath(real, repo.state_file.parent))
    # A lock held on the real file (by this live process) must stop a run through the link.
    holder = {"id": "lock-9", "pid": os.getpid(), "host": socket.gethostname(), "user": "x",
              "since": "2024-01-01T00:00:00Z", "operation": "apply"}
    lock = real.with_name("state.json.lock")
    lock.write_text(json.dumps(holder), encoding="utf-8")
    refused = repo.run("state", "rm", "kept")
    failed_cleanly(refused, "state/test.json", "is locked by x@")
    assert real.read_bytes() == repo.saved
    lock.unlink()
    done = repo.run("state", "rm", "kept")
    assert done.returncode == 0, done.stderr
    assert repo.state_file.is_symlink()
    assert json.loads(real.read_text(encoding="utf-8"))["campaigns"] == {}
    assert real.with_name("state.json.backup").read_bytes() == repo.saved
    assert not (repo.state_file.parent / "test.json.backup").exists()
    assert not (repo.state_file.parent / "test.json.lock").exists()


# -- saved plan files --------------------------------------------------------------------------

def _plan(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION, "env": "default", "target": dict(TARGET),
        "state": {"lineage": "l-1", "serial": 1}, "specs": {"campaigns/ok.yaml": "sha256:x"},
        "refreshed": False, "warnings": [],
        "changes": [{"action": "create", "name": "A", "lname": "a", "digest_after": "sha256:y"}],
    }
    document.update(changes)
    return document


def _change(**fields: Any) -> list[dict[str, Any]]:
    return [{**_plan()["changes"][0], **fields}]


# (id, the plan file's text, what the error says)
PLAN_CASES = [
    ("truncated", json.dumps(_plan())[:40], "not a plan file (line 1 column"),
    ("not-utf8", b'{"env": "\xff"}', "byte 9 is not UTF-8"),
    ("deep-nesting", DEEP_JSON, "nested 100000 levels deep, too deep to read"),
    ("int-past-limit", json.dumps(_plan())[:-1] + ', "x": ' + HUGE + "}",
     "an integer of more than 4300 digits"),
    ("list", "[]", "$ must be an object, not a list"),
    ("format-version", json.dumps(_plan(format_version=True)), "$.format_version must be 1"),
    ("env-missing", json.dumps({k: v for k, v in _plan().items() if k != "env"}),
     "$.env is missing"),
    ("env-list", json.dumps(_plan(env=["x"])), "$.env must be a string, not a list"),
    ("state-string", json.dumps(_plan(state="x")), "$.state must be an object"),
    ("serial-string", json.dumps(_plan(state={"lineage": None, "serial": "1"})),
     "$.state.serial must be a non-negative integer"),
    ("specs-string", json.dumps(_plan(specs="abc")), "$.specs must be an object of strings"),
    ("specs-values-lists", json.dumps(_plan(specs={"a": [1]})), "$.specs must be an object"),
    ("changes-object", json.dumps(_plan(changes={})), "$.changes must be a list of objects"),
    ("change-not-object", json.dumps(_plan(changes=[1])), "$.changes must be a list of objects"),
    ("change-no-lname", json.dumps(_plan(changes=[{"action": "create", "name": "A"}])),
     "$.changes[0] lacks 'lname'"),
    ("change-unknown-key", json.dumps(_plan(changes=_change(bogus=1))), "unknown key 'bogus'"),
    ("change-lname-list", json.dumps(_plan(changes=_change(lname=["a"]))),
     "$.changes[0].lname must be a string, not a list"),
    ("change-digest-object", json.dumps(_plan(changes=_change(digest_after={}))),
     "$.changes[0].digest_after must be a string or null"),
    ("change-drift-string", json.dumps(_plan(changes=_change(drift="no"))),
     "$.changes[0].drift must be true or false"),
    ("target-list", json.dumps(_plan(target=[])), "$.target must be an object or null"),
    ("target-host-number", json.dumps(_plan(target={**TARGET, "host": 1})),
     "missing or bad 'target'"),
    ("warnings-string", json.dumps(_plan(warnings="x")), "$.warnings must be a list"),
]


@pytest.mark.parametrize("text, says", [c[1:] for c in PLAN_CASES],
                         ids=[c[0] for c in PLAN_CASES])
def test_a_malformed_saved_plan_is_a_located_error(repo: Repo, text: str | bytes,
                                                   says: str) -> None:
    plan = repo.root / "saved.json"
    plan.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    line = failed_cleanly(repo.run("apply", "saved.json"), "saved.json", says)
    assert line.startswith("error: saved.json: ")
    assert repo.state_file.read_bytes() == repo.saved


@pytest.mark.parametrize("make, says", [c[1:] for c in NOT_REGULAR],
                         ids=[c[0] for c in NOT_REGULAR])
def test_a_saved_plan_that_is_not_a_regular_file_is_named(
        repo: Repo, make: Callable[[Path], None], says: str) -> None:
    make(repo.root / "saved.json")
    failed_cleanly(repo.run("apply", "saved.json"), "error: saved.json: ", says)
    assert repo.state_file.read_bytes() == repo.saved
