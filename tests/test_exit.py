"""A committed run exits with its own code: no abort while the interpreter tears down native threads.

Once, under the load of the whole suite, the driver printed its summary and then died with
"terminate called without an active exception" (exit -6) on a second run into an existing output with
a lookback. The driver now leaves through runtime.runner.exit_process. This runs that case again and
again while other processes keep both cores busy, and checks every run's exit code and stderr.
"""

import multiprocessing
import os
import time

import pytest

from tests.conftest import SEEDS, run_driver

pytestmark = pytest.mark.slow

ROUNDS = 2


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(i * i for i in range(10_000))


def test_second_runs_with_a_lookback_exit_cleanly_under_load(tmp_path):
    first, second = tmp_path / "day1", tmp_path / "day2"
    first.mkdir(), second.mkdir()
    for path in SEEDS.iterdir():
        (second if path.name.startswith("004_") else first).joinpath(path.name).write_bytes(path.read_bytes())
    load = [multiprocessing.Process(target=_burn, args=(600,), daemon=True) for _ in range(os.cpu_count() or 2)]
    for p in load:
        p.start()
    try:
        for round_ in range(ROUNDS):
            out = tmp_path / f"out{round_}"
            for folder in (first, second):
                proc = run_driver("--input", str(folder), "--output", str(out), check=False)
                assert "terminate called" not in proc.stderr, proc.stderr[-3000:]
                assert proc.returncode == 0, (round_, folder.name, proc.returncode, proc.stderr[-3000:])
                assert proc.stdout.startswith("newsbeam: ") and "inputs read" in proc.stdout  # flushed before exit
                assert (out / "_SUCCESS").exists()
            assert "lookback: 4 earlier articles" in proc.stderr  # the second run read the first one's articles
    finally:
        for p in load:
            p.terminate()


def test_a_run_that_fails_its_checks_still_exits_with_its_code(tmp_path):
    proc = run_driver("--input", str(tmp_path / "nothing-here"), "--output", str(tmp_path / "out"), check=False)
    assert proc.returncode == 2 and "no input files match" in proc.stderr
