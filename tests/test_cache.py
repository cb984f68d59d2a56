"""The spec cache: hits, misses, invalidation, untrusted entries, --no-cache, concurrency;
and the parallel loader giving what the serial one gives."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.spec import load as spec
from provisioner.spec import files as specfiles
from provisioner.speed.cache import INDEX, SpecCache, cache_key
from provisioner.spec.load import load_specs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "examples"
sys.path.insert(0, str(ROOT / "bench"))
from gen import campaign  # noqa: E402


@pytest.fixture
def specs_dir(tmp_path: Path) -> Path:
    """Every example, valid and invalid (errors, warnings, a name clash), in one folder."""
    folder = tmp_path / "campaigns"
    for kind in ("valid", "invalid"):
        shutil.copytree(EXAMPLES / kind, folder / kind)
    return folder


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many files each load analysed (the real loading still runs)."""
    calls: list[int] = []
    real = specfiles.Loading.result

    def counting(self: specfiles.Loading) -> list:
        loaded = real(self)
        calls.append(sum(1 for _error, _digest, analysed, _stat in loaded
                         if analysed is not None))
        return loaded
    monkeypatch.setattr(specfiles.Loading, "result", counting)
    return calls


def snapshot(specs: spec.SpecSet) -> tuple:
    return (specs.problems, [(c, c.digest) for c in specs.campaigns], specs.files)


def test_second_load_is_all_hits_and_equal(specs_dir: Path, tmp_path: Path,
                                           counted: list[int]) -> None:
    cold = load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    warm = load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    assert counted[0] == len(cold.files) > 50 and counted[1] == 0
    assert snapshot(warm) == snapshot(cold) == snapshot(load_specs([specs_dir]))
    assert any(p.severity == "warning" for p in warm.problems)
    assert any("already used at" in p.message for p in warm.problems)


def test_one_changed_file_is_the_only_miss(specs_dir: Path, tmp_path: Path,
                                           counted: list[int]) -> None:
    load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    changed = specs_dir / "valid" / "create-page-sample.yaml"
    changed.write_text(changed.read_text().replace('priority: "5"', 'priority: "2"'))
    again = load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    assert counted[-1] == 1
    [sample] = [c for c in again.campaigns if c.file.endswith("create-page-sample.yaml")]
    assert sample.body["priority"] == "2"
    assert snapshot(again) == snapshot(load_specs([specs_dir]))


def test_renamed_file_is_a_hit_shown_under_its_new_name(specs_dir: Path, tmp_path: Path,
                                                        counted: list[int]) -> None:
    load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    (specs_dir / "invalid" / "day-twice.yaml").rename(specs_dir / "invalid" / "renamed.yaml")
    again = load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    assert counted[-1] == 0
    assert any(p.file.endswith("invalid/renamed.yaml") for p in again.problems)


@pytest.mark.parametrize("damage", [
    lambda data: data[:-10] + bytes(10),                   # payload overwritten
    lambda data: data[: len(data) // 2],                   # torn write
    lambda data: b"garbage\n" + data,                      # not our format
    lambda data: data.replace(b"\n", b"\n" + b"0" * 64 + b"\n", 1).replace(
        data.split(b"\n")[1], b"f" * 64, 1),               # checksum of something else
])
def test_corrupt_index_is_ignored(specs_dir: Path, tmp_path: Path, damage) -> None:
    load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    index = tmp_path / "cache" / INDEX
    index.write_bytes(damage(index.read_bytes()))
    digests = list(load_specs([specs_dir]).files.values())
    assert SpecCache(tmp_path / "cache").lookup(digests) == {}
    again = load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    assert snapshot(again) == snapshot(load_specs([specs_dir]))
    assert SpecCache(tmp_path / "cache").lookup(digests).keys() == set(digests)   # rewritten


def test_foreign_key_is_ignored(specs_dir: Path, tmp_path: Path, counted: list[int]) -> None:
    load_specs([specs_dir], cache=SpecCache(tmp_path / "cache", key=b"another-version"))
    assert SpecCache(tmp_path / "cache").key == cache_key() != b"another-version"
    load_specs([specs_dir], cache=SpecCache(tmp_path / "cache"))
    assert counted[-1] == counted[0] > 0


def test_entry_of_the_wrong_shape_is_a_miss(tmp_path: Path) -> None:
    cache = SpecCache(tmp_path / "cache")
    cache.store({"sha256:a": [[], [["too", "short"]]], "sha256:b": [[], []]})
    assert SpecCache(tmp_path / "cache").lookup(["sha256:a", "sha256:b"]) == {
        "sha256:b": [[], []]}


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "provisioner", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_cli_output_is_identical_with_and_without_cache(specs_dir: Path,
                                                        tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROVISIONER_CACHE_DIR": str(tmp_path / "c")}
    bypass = run_cli("validate", "--no-cache", "campaigns", cwd=tmp_path, env=env)
    assert not (tmp_path / "c").exists()
    cold = run_cli("validate", "campaigns", cwd=tmp_path, env=env)
    assert (tmp_path / "c" / INDEX).exists()
    warm = run_cli("validate", "campaigns", cwd=tmp_path, env=env)
    assert bypass.returncode == cold.returncode == warm.returncode == 1
    assert bypass.stdout == cold.stdout == warm.stdout
    assert "(warning)" in warm.stdout and "campaigns/invalid/tab-indentation.yaml:" in warm.stdout


def test_default_cache_dir_is_in_the_cwd(specs_dir: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROVISIONER_CACHE_DIR"}
    run_cli("validate", "campaigns/valid", cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)})
    assert (tmp_path / ".provisioner-cache" / INDEX).exists()


def _hammer(directory: str, worker: int) -> None:
    for round_ in range(15):
        SpecCache(directory).store({f"sha256:{worker}-{round_}": [[], []]})


def test_concurrent_writers_leave_a_valid_index(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path), n)) for n in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    entries = SpecCache(tmp_path).lookup(f"sha256:{n}-{r}" for n in range(4) for r in range(15))
    assert any(key.endswith("-14") for key in entries)   # readable, checksum good
    assert not list(tmp_path.glob(".*.tmp"))             # no temporary file left behind


def test_parallel_workers_give_what_one_process_gives(tmp_path: Path) -> None:
    rng = random.Random(3)
    texts = [campaign(i, rng, 3)[0] for i in range(specfiles.PARALLEL_MIN_FILES + 20)]
    texts[7] = texts[7].replace("format: ", "format: fancy")          # an error
    texts[30] = texts[30].replace("dncLists:\n  name:", "dncList:\n  name:")   # another
    for i, text in enumerate(texts):
        (tmp_path / f"c{i:04d}.yaml").write_text(text)
    serial, parallel = load_specs([tmp_path], workers=1), load_specs([tmp_path], workers=2)
    assert snapshot(parallel) == snapshot(serial)
    errors = [p for p in serial.problems if p.severity == "error"]
    assert len(serial.campaigns) == len(texts) - 2 and len(errors) == 2


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the spec files read (os.read calls during a load)."""
    calls: list[int] = []
    real = os.read

    def counting(fd: int, n: int) -> bytes:
        calls.append(fd)
        return real(fd, n)
    monkeypatch.setattr(os, "read", counting)
    return calls


def test_unchanged_files_are_not_even_read_once_their_stat_is_trusted(
        specs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("provisioner.speed.cache.RACY_NS", 0)
    cache_path = tmp_path / "cache"
    first = load_specs([specs_dir], cache=SpecCache(cache_path))
    reads = _reads(monkeypatch)
    second = load_specs([specs_dir], cache=SpecCache(cache_path))
    assert reads == []
    assert snapshot(second) == snapshot(first)

    changed = specs_dir / "valid" / "multi-document.yaml"
    changed.write_bytes(changed.read_bytes().replace(b"First Of Two", b"First Of 2"))
    third = load_specs([specs_dir], cache=SpecCache(cache_path))
    assert len(reads) == 1   # only the edited file
    assert "First Of 2" in {c.name for c in third.campaigns}


def test_a_file_as_new_as_the_index_is_read_again(specs_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Within the racy window (an edit in the same timestamp tick as the index write could
    keep the old times) the stat is not trusted: the file is read and hashed."""
    cache_path = tmp_path / "cache"
    load_specs([specs_dir], cache=SpecCache(cache_path))
    reads = _reads(monkeypatch)
    load_specs([specs_dir], cache=SpecCache(cache_path))
    files = list(specs_dir.rglob("*.y*ml"))
    assert len(reads) == len(files)


def _touch_one(specs_dir: Path, n: int) -> None:
    changed = specs_dir / "valid" / "create-page-sample.yaml"
    text = changed.read_text()
    changed.write_text(text.replace('description: "', f'description: "run {n} ', 1)
                       if 'description: "' in text else text + f"\n# run {n}\n")


def test_a_warm_run_appends_to_the_journal_instead_of_rewriting_the_index(
        specs_dir: Path, tmp_path: Path, counted: list[int]) -> None:
    cache_path = tmp_path / "cache"
    load_specs([specs_dir], cache=SpecCache(cache_path))
    index = (cache_path / INDEX).stat()
    for n in range(3):
        _touch_one(specs_dir, n)
        again = load_specs([specs_dir], cache=SpecCache(cache_path))
        assert counted[-1] == 1
        assert snapshot(again) == snapshot(load_specs([specs_dir]))
    after = (cache_path / INDEX).stat()
    assert (after.st_ino, after.st_mtime_ns) == (index.st_ino, index.st_mtime_ns)
    [log] = cache_path.glob("specs-*.log")
    assert log.stat().st_size > 0
    load_specs([specs_dir], cache=SpecCache(cache_path))
    assert counted[-1] == 0   # what the journal recorded is found again


def test_a_torn_journal_record_is_ignored(specs_dir: Path, tmp_path: Path,
                                          counted: list[int]) -> None:
    cache_path = tmp_path / "cache"
    load_specs([specs_dir], cache=SpecCache(cache_path))
    _touch_one(specs_dir, 1)
    load_specs([specs_dir], cache=SpecCache(cache_path))
    [log] = cache_path.glob("specs-*.log")
    log.write_bytes(log.read_bytes()[:-5])
    again = load_specs([specs_dir], cache=SpecCache(cache_path))
    assert counted[-1] == 1   # the torn record's analysis is not trusted: analysed again
    assert snapshot(again) == snapshot(load_specs([specs_dir]))


def test_a_grown_journal_is_folded_into_a_new_index(specs_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("provisioner.speed.cache.LOG_MIN_BYTES", 0)
    cache_path = tmp_path / "cache"
    load_specs([specs_dir], cache=SpecCache(cache_path))
    _touch_one(specs_dir, 99)
    load_specs([specs_dir], cache=SpecCache(cache_path))
    [first] = cache_path.glob("specs-*.log")
    for n in range(12):
        _touch_one(specs_dir, n)
        load_specs([specs_dir], cache=SpecCache(cache_path))
    logs = list(cache_path.glob("specs-*.log"))
    assert first not in logs and len(logs) <= 1   # rewritten with a new journal, old removed
    assert snapshot(load_specs([specs_dir], cache=SpecCache(cache_path))) == snapshot(
        load_specs([specs_dir]))
