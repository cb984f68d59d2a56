"""A helper process for the second core: it imports the slow-to-import code a warm plan
needs last (the YAML analysis for the files that changed, deepdiff to explain the updates:
together about 70 ms, a fifth of a warm plan at 10,000 campaigns) while this process lists
and stats the spec files and reads the caches and the state; then it runs those few jobs
and sends back plain data.

The jobs are pure functions of plain data (JOBS), so a result is what the call would have
returned here. The helper only ever saves time: if it cannot be forked (or other threads
run), dies, falls silent for WAIT_SECONDS, or a job fails there, WorkerError tells the
caller to run the job itself. It ignores Ctrl-C (this process handles that), and `close`
ends it; were this process killed, the closed job pipe ends it too.
"""

from __future__ import annotations

import importlib
import marshal
import os
import select
import signal
import sys
from collections.abc import Sequence
from typing import Any

from provisioner.spec.files import plain
from provisioner.spec.record import FileContext

# job name -> (module, function); only these run in the helper.
JOBS = {"analyse": ("provisioner.spec.files", "analyse_plain"),
        "explain": ("provisioner.plan.diff", "diff_bodies")}
PRELOAD = ("provisioner.spec.analysis", "provisioner.plan.diff", "deepdiff")
_HEAD = 8   # a frame: its length (8 bytes, big-endian), then a marshal payload
WAIT_SECONDS = 60.0   # far more than analysing the 255 files it is ever sent takes


class WorkerError(Exception):
    """The helper could not run a job (the caller runs it itself)."""


class Worker:
    """One forked helper process with a job pipe and a result pipe."""

    def __init__(self, pid: int, jobs: int, results: int) -> None:
        self.pid, self._jobs, self._results = pid, jobs, results
        self._broken = ""   # once a batch failed the pipes may be out of step: every later
                            # submit and collect raises WorkerError

    @classmethod
    def start(cls, preload: Sequence[str] = PRELOAD) -> Worker | None:
        """Fork the helper; None where there is no fork, or where other threads run (a
        lock one of them held at the fork would never be released in the child)."""
        threading = sys.modules.get("threading")
        if not hasattr(os, "fork") or (threading and threading.active_count() > 1):
            return None
        job_read, job_write = os.pipe()
        result_read, result_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (job_read, job_write, result_read, result_write):
                os.close(fd)
            return None
        if pid == 0:   # the helper: never returns into the caller's code
            code = 1
            try:
                os.close(job_write)
                os.close(result_read)
                _serve(job_read, result_write, preload)
                code = 0
            finally:
                os._exit(code)
        os.close(job_read)
        os.close(result_write)
        return cls(pid, job_write, result_read)

    def run(self, job: str, calls: list[tuple[Any, ...]]) -> list[Any]:
        """The results of JOBS[job](*args) for each args in `calls`, in order."""
        self.submit(job, calls)
        return self.collect(job)

    def _fail(self, message: str) -> WorkerError:
        self._broken = self._broken or message
        return WorkerError(message)

    def submit(self, job: str, calls: list[tuple[Any, ...]]) -> None:
        """Send a batch of calls; `collect` waits for their results (do other work between).
        A pipe holds 64 KiB: a batch larger than that waits here until the helper reads."""
        if self._broken:
            raise WorkerError(self._broken)
        try:
            _write_frame(self._jobs, marshal.dumps((job, calls)))
        except (OSError, ValueError) as exc:
            raise self._fail(f"the helper process failed: {exc}") from None

    def collect(self, job: str) -> list[Any]:
        """The results of the batch submitted last, in order. A helper that sends nothing
        for WAIT_SECONDS is given up on (the caller runs the job itself)."""
        if self._broken:
            raise WorkerError(self._broken)
        try:
            if not select.select([self._results], [], [], WAIT_SECONDS)[0]:
                raise self._fail(f"the helper process sent nothing for {WAIT_SECONDS} s")
            frame = _read_frame(self._results)
            status, value = marshal.loads(frame) if frame is not None else ("died", None)
        except (OSError, EOFError, ValueError, TypeError) as exc:
            raise self._fail(f"the helper process failed: {exc}") from None
        if status == "died":
            raise self._fail("the helper process ended")
        if status != "ok":
            raise WorkerError(f"the helper process could not run {job}: {value or status}")
        return list(value or ())

    # -- as spec loading's Analyser (provisioner/spec/files.py) ------------------------------
    def start_analysis(self, jobs: list[tuple[bytes, FileContext | None]]) -> None:
        try:
            self.submit("analyse", [(data, plain(context)) for data, context in jobs])
        except WorkerError:
            pass   # a helper that failed fails every later call: `analysed` says None

    def analysed(self) -> list[Any] | None:
        try:
            return self.collect("analyse")
        except WorkerError:
            return None

    def explain(self, pairs: list[tuple[Any, Any]]) -> list[list[dict[str, Any]]]:
        """plan's Explain: the updates explained here, with deepdiff already imported; in
        this process if the helper cannot."""
        try:
            return self.run("explain", pairs)
        except WorkerError:
            from provisioner.plan.build import explain_here
            return explain_here(pairs)

    def close(self) -> None:
        """End the helper now (it holds nothing that needs a clean exit)."""
        for fd in (self._jobs, self._results):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _serve(jobs: int, results: int, preload: Sequence[str]) -> None:
    import gc

    gc.disable()   # short-lived, acyclic data, as in the plan itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in preload:   # a job that arrives meanwhile goes first: it is being waited for
        while select.select([jobs], [], [], 0)[0]:
            if not _serve_one(jobs, results):
                return
        try:
            importlib.import_module(name)
        except ImportError:
            pass   # a job needing it fails, and the caller runs it itself
    while _serve_one(jobs, results):
        pass


def _serve_one(jobs: int, results: int) -> bool:
    """Run the next batch and send its results; False at end of file."""
    frame = _read_frame(jobs)
    if frame is None:
        return False
    try:
        job, calls = marshal.loads(frame)
        module, function = JOBS[job]
        run = getattr(importlib.import_module(module), function)
        reply = marshal.dumps(("ok", [run(*args) for args in calls]))
    except Exception as exc:  # noqa: BLE001 - reported to the caller, who runs it itself
        reply = marshal.dumps(("error", f"{type(exc).__name__}: {exc}"))
    _write_frame(results, reply)
    return True


def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(len(payload).to_bytes(_HEAD, "big") + payload)
    while view:
        view = view[os.write(fd, view):]


def _read_frame(fd: int) -> bytes | None:
    """The next frame's payload; None at end of file."""
    head = _read_exactly(fd, _HEAD)
    if head is None:
        return None
    payload = _read_exactly(fd, int.from_bytes(head, "big"))
    if payload is None:
        raise EOFError("the pipe closed inside a frame")
    return payload


def _read_exactly(fd: int, size: int) -> bytes | None:
    parts, left = [], size
    while left:
        part = os.read(fd, min(left, 1 << 20))
        if not part:
            if left == size:
                return None
            raise EOFError("the pipe closed inside a frame")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
