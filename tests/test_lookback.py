"""The lookback's file listing: an output with nothing written yet is an empty lookback; a storage error is not."""

import pytest
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from transforms.lookback import read_lookback


def test_an_output_with_nothing_written_yet_is_an_empty_lookback(tmp_path):
    lookback = read_lookback(str(tmp_path / "not-yet-created"), "batch", days=7)
    assert lookback.articles == [] and lookback.story_alerts == [] and len(lookback.known_hashes) == 0


def test_a_storage_error_while_listing_is_raised_not_taken_for_an_empty_output(tmp_path, monkeypatch):
    def failing_match(patterns, limits=None):
        raise BeamIOError("Match operation failed", {patterns[0]: PermissionError("denied")})

    monkeypatch.setattr(FileSystems, "match", staticmethod(failing_match))
    with pytest.raises(BeamIOError, match="Match operation failed"):
        read_lookback(str(tmp_path), "batch", days=7)
