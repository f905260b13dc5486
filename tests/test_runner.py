"""pipelines/runner.py: the local runner's process settings."""
import os

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
