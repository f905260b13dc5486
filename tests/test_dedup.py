import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import INGESTED_AT, make_test_pipeline
from transforms.dedup import DeduplicateArticles
from transforms.language import LanguageDetector
from transforms.parse import ParseConfig, build_article
from transforms.read import RawInput


def _article(uri, text, line=None):
    data = f'{{"text": "{text}", "published_at": "2024-06-12"}}'.encode()
    return build_article(RawInput(uri, data, ".jsonl", line=line, size=len(data)), ParseConfig(INGESTED_AT), LanguageDetector())


def test_exact_copies_keep_the_first_input_and_reference_the_rest():
    a1 = _article("/in/b.jsonl", "Kim met Putin in Pyongyang.", line=2)
    a2 = _article("/in/a.jsonl", "Kim met  Putin in\\nPyongyang.", line=9)  # same words, other layout
    a3 = _article("/in/b.jsonl", "Kim met Putin in Pyongyang.", line=1)
    other = _article("/in/c.jsonl", "A different story.")
    with make_test_pipeline() as p:
        out = p | beam.Create([a1, a2, a3, other]) | DeduplicateArticles()
        assert_that(
            out.articles | "Kept" >> beam.Map(lambda a: (a.input_uri, a.input_line)),
            equal_to([("/in/a.jsonl", 9), ("/in/c.jsonl", None)]),
            label="kept",
        )
        assert_that(
            out.duplicates | "Refs" >> beam.Map(lambda d: (d.input_uri, d.input_line, d.duplicate_of)),
            equal_to([("/in/b.jsonl", 1, a2.article_id), ("/in/b.jsonl", 2, a2.article_id)]),
            label="duplicates",
        )
