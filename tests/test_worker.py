"""The helper process: its results are what the same calls give here, and when it cannot
run a job (dead, failing) the callers get WorkerError and run the job themselves."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from provisioner.spec.analysis import analyse
from provisioner.plan.diff import diff_bodies
from provisioner.spec.load import load_specs
from provisioner.speed.worker import Worker, WorkerError

EXAMPLES = Path(__file__).resolve().parent / "examples"


@pytest.fixture
def worker():
    started = Worker.start()
    assert started is not None
    yield started
    started.close()


def test_analyses_are_those_made_here(worker: Worker) -> None:
    files = sorted(EXAMPLES.glob("*/*.yaml"))
    datas = [path.read_bytes() for path in files]
    assert len(datas) > 50
    assert worker.run("analyse", [(data,) for data in datas]) == [analyse(d) for d in datas]


def test_explanations_are_those_made_here(worker: Worker) -> None:
    before = {"name": "A", "priority": "3", "contactLists": ["x", "y"], "message": {"message": "SGk%3D"}}
    after = {"name": "A", "priority": "5", "contactLists": ["x"], "message": {"message": "SG8%3D"}}
    pairs = [(before, after), (after, before), (before, before)]
    assert worker.run("explain", pairs) == [diff_bodies(b, a) for b, a in pairs]
    assert worker.run("explain", pairs)[0]   # it does explain something


def test_a_failing_job_is_reported_and_the_helper_goes_on(worker: Worker) -> None:
    with pytest.raises(WorkerError, match="analyse"):
        worker.run("analyse", [("not bytes",)])
    with pytest.raises(WorkerError, match="KeyError"):
        worker.run("format the disk", [()])
    assert worker.run("analyse", [(b"name: x\n",)]) == [analyse(b"name: x\n")]


def test_a_dead_helper_is_an_error_not_a_hang(worker: Worker) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    os.waitpid(worker.pid, 0)
    with pytest.raises(WorkerError):
        worker.run("analyse", [(b"name: x\n",)])


def test_close_ends_and_reaps_the_helper() -> None:
    worker = Worker.start()
    assert worker is not None
    worker.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(worker.pid, os.WNOHANG)


def test_specs_loaded_through_a_helper_equal_those_loaded_here(tmp_path: Path,
                                                               worker: Worker) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "campaigns")
    here = load_specs([tmp_path / "campaigns"])
    there = load_specs([tmp_path / "campaigns"], analyser=worker)
    assert there.problems == here.problems and there.files == here.files
    assert there.campaigns == here.campaigns and len(here.campaigns) > 5


def test_a_dead_helper_only_costs_time(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "campaigns")
    worker = Worker.start()
    assert worker is not None
    os.kill(worker.pid, signal.SIGKILL)
    os.waitpid(worker.pid, 0)
    there = load_specs([tmp_path / "campaigns"], analyser=worker)
    here = load_specs([tmp_path / "campaigns"])
    assert there.problems == here.problems and there.campaigns == here.campaigns


def test_no_helper_where_other_threads_run() -> None:
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert Worker.start() is None
    finally:
        release.set()
        thread.join()


def test_a_silent_helper_is_given_up_on(worker: Worker,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("provisioner.speed.worker.WAIT_SECONDS", 0.2)
    os.kill(worker.pid, signal.SIGSTOP)   # alive, but answers nothing
    try:
        with pytest.raises(WorkerError, match="sent nothing"):
            worker.run("analyse", [(b"name: x\n",)])
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    with pytest.raises(WorkerError, match="sent nothing"):   # late replies are never read
        worker.run("analyse", [(b"name: y\n",)])
