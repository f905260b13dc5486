"""The pipeline on Beam's portable runner with separate worker processes equals the local runner's output."""

import os
import socket
import subprocess

import pytest

from tests.conftest import ROOT, SAMPLE, assert_same_tables

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_portable_runner_with_external_workers_matches_the_local_runner(sample_output, tmp_path):
    out = tmp_path / "portable"
    job, worker = _free_port(), _free_port()
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "portable_runner.sh"),
            "python",
            "-m",
            "pipelines.news_pipeline",
            "--input",
            str(SAMPLE),
            "--output",
            str(out),
            "--runner",
            "PortableRunner",
            "--job_endpoint",
            f"localhost:{job}",
            "--environment_type",
            "EXTERNAL",
            "--environment_config",
            f"localhost:{worker}",
            "--setup_file",
            str(ROOT / "setup.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "JOB_PORT": str(job), "WORKER_PORT": str(worker), "LOG_DIR": str(tmp_path)},
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    assert "10 articles, 1 duplicates, 0 rejected" in proc.stdout
    assert_same_tables(sample_output, out)
