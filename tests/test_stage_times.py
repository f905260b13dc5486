"""benchmarks/stage_times.py: each stage lasts until the next starts, bundles of one stage add up."""

from benchmarks.stage_times import stage_times


def test_each_stage_lasts_until_the_next_and_repeated_bundles_add_up():
    starts = [(10.0, "read"), (11.5, "tag"), (40.0, "stories"), (42.0, "tag"), (43.0, "write")]
    assert stage_times(starts, ended=45.5) == {"read": 1.5, "tag": 29.5, "stories": 2.0, "write": 2.5}
    assert stage_times([], ended=3.0) == {}
