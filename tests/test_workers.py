"""runtime/workers.py: Beam workers forked from a warm worker server, through the local runner.

Each case runs in a fresh interpreter (a fork is only safe from a process without threads, and
pytest's process has run pipelines before), with real Beam pipelines on the real runner.
"""

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.utils import shared

from runtime.runner import LocalRunner
from runtime.workers import WorkerServerError

ROOT = Path(__file__).resolve().parents[1]


class _Loaded:
    """Stands for the model: remembers the process that built it."""

    def __init__(self):
        self.built_by = os.getpid()


def _warm_up(handle: shared.Shared) -> _Loaded:
    return handle.acquire(_Loaded, tag="model")


def _gated_warm_up(handle: shared.Shared, gate: str) -> _Loaded:
    """A warm-up that cannot finish before the driver, after start() has returned, opens the gate."""
    deadline = time.monotonic() + 60
    while not os.path.exists(gate):
        if time.monotonic() > deadline:
            raise TimeoutError("the driver never opened the gate: start() waited for the warm-up")
        time.sleep(0.05)
    return _warm_up(handle)


def _failing_warm_up() -> None:
    raise ValueError("no model named en_core_web_none")


class _WhereFn(beam.DoFn):
    def __init__(self, handle: shared.Shared):
        self._handle = handle

    def setup(self):
        self._loaded = self._handle.acquire(_Loaded, tag="model")

    def process(self, x):
        with open("/proc/self/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode()
        yield {"x": x, "pid": os.getpid(), "ppid": os.getppid(), "built_by": self._loaded.built_by, "cmdline": cmdline}


def _probe(out: str, with_thread: bool) -> None:
    """Two pipelines on one runner, as a chunked run does; where each element ran goes to `out`."""
    handle = shared.Shared()
    runner = LocalRunner(warm_up=functools.partial(_warm_up, handle))
    if with_thread:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    for run in range(2):
        pipeline = beam.Pipeline(runner=runner, options=PipelineOptions())
        (
            pipeline
            | beam.Create(range(20))
            | beam.Reshuffle()
            | beam.ParDo(_WhereFn(handle))
            | beam.Map(json.dumps)
            | beam.io.WriteToText(f"{out}/run{run}")
        )
        pipeline.run().wait_until_finish()
    server = runner.worker_server
    facts = {
        "driver": os.getpid(),
        "server": server.pid if server else None,
        "folder": server.folder if server else None,
    }
    runner.close()
    Path(out, "driver.json").write_text(json.dumps(facts))


def _probe_gated_warm_up(out: str) -> None:
    handle = shared.Shared()
    gate = os.path.join(out, "gate")
    runner = LocalRunner(warm_up=functools.partial(_gated_warm_up, handle, gate))
    runner.start()
    Path(gate).touch()  # reached only if start() returned while the server was still warming up
    pipeline = beam.Pipeline(runner=runner, options=PipelineOptions())
    (
        pipeline
        | beam.Create(range(4))
        | beam.ParDo(_WhereFn(handle))
        | beam.Map(json.dumps)
        | beam.io.WriteToText(f"{out}/run0")
    )
    pipeline.run().wait_until_finish()
    Path(out, "driver.json").write_text(json.dumps({"server": runner.worker_server.pid}))
    runner.close()


def _probe_failing_warm_up() -> None:
    runner = LocalRunner(warm_up=_failing_warm_up)
    pipeline = beam.Pipeline(runner=runner, options=PipelineOptions())
    pipeline | beam.Create([1]) | beam.Map(str)
    try:
        pipeline.run().wait_until_finish()
    except WorkerServerError as err:
        print(f"raised: {err}")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _rows(out: Path, run: int) -> list[dict]:
    return [json.loads(line) for f in sorted(out.glob(f"run{run}-*")) for line in f.read_text().splitlines()]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie has ended
    except FileNotFoundError:
        return True


def test_workers_are_forked_from_one_warm_server_that_outlives_each_pipeline(tmp_path):
    proc = _run(f"from tests.test_workers import _probe; _probe({str(tmp_path)!r}, with_thread=False)")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads((tmp_path / "driver.json").read_text())
    server = facts["server"]
    assert server and server != facts["driver"]
    runs = [_rows(tmp_path, 0), _rows(tmp_path, 1)]
    for rows in runs:
        assert sorted(r["x"] for r in rows) == list(range(20))
        assert {r["ppid"] for r in rows} == {server}  # forked by the server, not started by Beam
        assert {r["built_by"] for r in rows} == {server}  # what the warm-up loaded, found through Shared
    assert not {r["pid"] for r in runs[0]} & {r["pid"] for r in runs[1]}  # each pipeline gets its own workers
    assert _gone(server) and not Path(facts["folder"]).exists()  # close() stops the server and removes its socket
    assert "direct_running_mode should be" not in proc.stderr  # Beam's warning about in_memory is not ours to show


def test_a_driver_with_threads_gets_beams_own_worker_processes(tmp_path):
    proc = _run(f"from tests.test_workers import _probe; _probe({str(tmp_path)!r}, with_thread=True)")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads((tmp_path / "driver.json").read_text())
    assert facts["server"] is None
    rows = _rows(tmp_path, 0)
    assert sorted(r["x"] for r in rows) == list(range(20))
    assert all("sdk_worker_main" in r["cmdline"] for r in rows)
    assert all(r["built_by"] == r["pid"] for r in rows)  # each worker loads its own


def test_the_server_warms_up_while_the_driver_goes_on(tmp_path):
    proc = _run(f"from tests.test_workers import _probe_gated_warm_up; _probe_gated_warm_up({str(tmp_path)!r})")
    assert proc.returncode == 0, proc.stderr
    server = json.loads((tmp_path / "driver.json").read_text())["server"]
    rows = _rows(tmp_path, 0)
    assert sorted(r["x"] for r in rows) == list(range(4))
    assert {r["built_by"] for r in rows} == {server}  # the first pipeline waited for the warm-up and found it loaded


def test_a_failing_warm_up_fails_the_run_with_its_error():
    proc = _run("from tests.test_workers import _probe_failing_warm_up; _probe_failing_warm_up()")
    assert proc.returncode == 0, proc.stderr
    assert "raised: the worker server could not warm up" in proc.stdout
    assert "ValueError: no model named en_core_web_none" in proc.stdout


def test_the_server_ends_and_cleans_up_when_its_driver_is_killed():
    code = (
        "from runtime.workers import ForkServer; import time; "
        "s = ForkServer.start(); print(s.pid, s.folder, flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    pid, folder = proc.stdout.readline().split()
    assert not _gone(int(pid))
    proc.send_signal(signal.SIGKILL)  # no atexit, no close(): only the kernel's parent-death signal is left
    proc.wait()
    deadline = time.monotonic() + 10
    while not _gone(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(int(pid))
    assert not Path(folder).exists()  # the server removed its socket folder as it went
