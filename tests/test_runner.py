"""pipelines/runner.py: the local runner's process settings."""
import logging
import os

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import runner


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
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == str(128 * 1024)


def test_a_users_in_memory_run_with_several_workers_keeps_beams_warning(caplog):
    options = PipelineOptions(["--direct_running_mode", "in_memory", "--direct_num_workers", "2"])
    with caplog.at_level(logging.WARNING):
        with beam.Pipeline(runner=runner.LocalRunner(), options=options) as p:
            p | beam.Create([1, 2]) | beam.Map(str)
    assert any("direct_running_mode should be" in r.getMessage() for r in caplog.records)
