"""runtime/runner.py: the local runner's process settings."""

import logging
import os

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from runtime import runner


def test_malloc_is_tuned_for_the_driver_and_its_workers(monkeypatch):
    for variable, _, _ in runner.MALLOC_SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    runner.tune_malloc()
    for variable, _, value in runner.MALLOC_SETTINGS:
        assert os.environ[variable] == str(value)  # inherited by the worker processes


def test_a_users_malloc_setting_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    runner.tune_malloc()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == str(
        {v: x for v, _, x in runner.MALLOC_SETTINGS}["MALLOC_MMAP_THRESHOLD_"]
    )


def test_a_users_in_memory_run_with_several_workers_keeps_beams_warning(caplog):
    options = PipelineOptions(["--direct_running_mode", "in_memory", "--direct_num_workers", "2"])
    with caplog.at_level(logging.WARNING):
        with beam.Pipeline(runner=runner.LocalRunner(), options=options) as p:
            p | beam.Create([1, 2]) | beam.Map(str)
    assert any("direct_running_mode should be" in r.getMessage() for r in caplog.records)


def _worker_record(message: str) -> logging.LogRecord:
    """A worker's log entry as the runner's logging service logs it (local_job_service.BeamFnLoggingServicer)."""
    from apache_beam.portability.api import beam_fn_api_pb2

    entry = beam_fn_api_pb2.LogEntry(severity=beam_fn_api_pb2.LogEntry.Severity.WARN, message=message)
    return logging.LogRecord(
        "apache_beam.runners.portability.local_job_service",
        logging.WARNING,
        __file__,
        1,
        "Worker: %s",
        (str(entry).replace("\n", " "),),
        None,
    )


def test_worker_start_up_noise_is_dropped_and_a_users_discarded_flag_is_not():
    noise = runner._WORKER_START_UP_NOISE
    assert not noise.filter(
        _worker_record(
            "No semi_persistent_directory found:  User registered objects (e.g. schema, logical type) "
            "throughregisteries may not be effective"
        )
    )
    assert not noise.filter(
        _worker_record("Discarding unparseable args: ['--pipeline_type_check', '--direct_runner_use_stacked_bundle']")
    )
    assert noise.filter(
        _worker_record("Discarding unparseable args: ['--pipeline_type_check', '--stroy_threshold=0.2']")
    )
    assert noise.filter(_worker_record("No session file found: /tmp/x/staged/pickled_main_session"))


class _LogOnce(beam.DoFn):
    def process(self, element):
        logging.getLogger("newsbeam.test").warning("own warning of a worker for %s", element)
        yield element


def test_forked_workers_send_their_own_warnings_without_the_start_up_noise(caplog):
    local = runner.LocalRunner()
    try:
        with caplog.at_level(logging.WARNING):
            with beam.Pipeline(runner=local, options=PipelineOptions([])) as p:
                p | beam.Create(["x"]) | beam.ParDo(_LogOnce())
    finally:
        local.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any("own warning of a worker for x" in m for m in messages)
    assert not any("No semi_persistent_directory found" in m for m in messages)
    # Not asserted here: "Discarding unparseable args" naming only driver-side flags. In the full suite this process
    # has other options classes registered that the worker does not parse, which are rightly still reported; the
    # filter's rule for that message is tested on its own above.


def test_the_worker_server_is_forked_with_malloc_tuned(monkeypatch):
    """mallopt settings are inherited by a fork, not read again from the environment: the server (and so every
    worker) must be forked after tune_malloc, even when a driver starts it before its first pipeline."""
    for variable, _, _ in runner.MALLOC_SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    seen = {}

    def fake_start(warm_up=None):
        seen.update({v: os.environ.get(v) for v, _, _ in runner.MALLOC_SETTINGS})
        raise RuntimeError("not forked in this test")

    monkeypatch.setattr(runner.ForkServer, "start", staticmethod(fake_start))
    monkeypatch.setattr(runner.threading, "active_count", lambda: 1)
    local = runner.LocalRunner(fork_workers=True)
    with pytest.raises(RuntimeError, match="not forked"):
        local.start()
    assert seen == {v: str(value) for v, _, value in runner.MALLOC_SETTINGS}
