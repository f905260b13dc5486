import datetime as dt
import json

from transforms.spool import CLAIMED, DONE, Spool

NOW = dt.datetime(2024, 6, 12, 12, 0, tzinfo=dt.timezone.utc)


def _land(folder, name, text="{}"):
    (folder / name).write_text(text)


def test_only_landed_files_are_ready_oldest_first(tmp_path):
    import os

    for name in ("b.json", "a.json", ".c.json.tmp", "d.json.tmp", "e.json.part", "_f.json", "a.json.meta.json"):
        _land(tmp_path, name)
    os.utime(tmp_path / "b.json", (1, 1))  # landed first
    assert [p.name for p in Spool(tmp_path).ready()] == ["b.json", "a.json"]


def test_a_claim_moves_each_file_with_its_sidecar_and_records_the_batch(tmp_path):
    _land(tmp_path, "a.txt", "Kim met Putin.")
    _land(tmp_path, "a.txt.meta.json", '{"published_at": "2024-06-12"}')
    _land(tmp_path, "b.txt", "Putin left.")
    spool = Spool(tmp_path)
    batch = spool.claim(1, NOW)
    assert [p.split("/")[-1] for p in batch.files] == ["a.txt"]
    assert sorted(p.name for p in batch.folder.iterdir()) == [CLAIMED, "a.txt", "a.txt.meta.json"]
    assert json.loads((batch.folder / CLAIMED).read_text())["claimed_at"] == NOW.isoformat()
    assert [p.name for p in spool.ready()] == ["b.txt"]
    second = spool.claim(10, NOW)
    assert second.batch_id.endswith("-00000002") and second.batch_id.split("-")[0] == batch.batch_id.split("-")[0]
    assert spool.claim(10, NOW) is None


def test_batches_without_done_are_pending_until_marked(tmp_path):
    _land(tmp_path, "a.json")
    spool = Spool(tmp_path)
    batch = spool.claim(5, NOW)
    (pending,) = spool.pending()
    assert (pending.batch_id, pending.files, pending.claimed_at) == (batch.batch_id, batch.files, NOW)
    spool.done(batch, {"watermark": "2024-06-12T00:00:00+00:00", "articles": 1})
    assert spool.pending() == []
    assert (batch.folder / DONE).exists()
    assert spool.done_infos()[-1]["watermark"] == "2024-06-12T00:00:00+00:00"
    assert [i["articles"] for i in spool.done_infos()] == [1]


def test_two_spools_never_share_batch_ids(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    _land(tmp_path / "x", "a.json")
    _land(tmp_path / "y", "a.json")
    assert Spool(tmp_path / "x").claim(1, NOW).batch_id != Spool(tmp_path / "y").claim(1, NOW).batch_id
