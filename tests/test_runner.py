"""pipelines/runner.py: the local runner's process settings."""
import os

from pipelines import runner


def test_malloc_arenas_are_capped_for_the_driver_and_its_workers(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    runner.limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == str(runner.MALLOC_ARENAS)  # inherited by the worker processes


def test_a_users_malloc_arena_setting_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    runner.limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"
