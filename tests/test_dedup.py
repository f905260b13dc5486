import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import INGESTED_AT, make_test_pipeline
from transforms.dedup import DeduplicateArticles
from transforms.language import LanguageDetector
from transforms.parse import ParseConfig, build_article
from transforms.read import RawInput


def _article(uri, text, line=None):
    data = f'{{"text": "{text}", "published_at": "2024-06-12"}}'.encode()
    return build_article(
        RawInput(uri, data, ".jsonl", line=line, size=len(data)), ParseConfig(INGESTED_AT), LanguageDetector()
    )


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


def test_known_hashes_answer_like_the_dict_they_replace_in_a_fraction_of_its_size():
    import hashlib
    import pickle

    from transforms.dedup import KnownHashes
    from transforms.text import stable_id

    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(5000)]
    pairs = {h: stable_id("art_", h) for h in hashes}
    pairs[hashes[7]] = "art_written_by_another_version"  # an id not derived from the hash is kept as it is
    known = KnownHashes(list(pairs.items()) + [(hashes[1], stable_id("art_", hashes[1]))])  # a repeat counts once
    assert len(known) == 5000 and dict(known.items()) == pairs
    assert all(known.get(h) == pairs[h] for h in hashes)
    absent = [hashlib.sha256(f"absent {i}".encode()).hexdigest() for i in range(500)]
    same_first_word = hashes[3][:16] + absent[0][16:]  # shares the first 8 bytes with a known hash
    assert all(known.get(h) is None for h in absent + [same_first_word])
    assert len(pickle.dumps(known)) < len(pickle.dumps(pairs)) / 2


def test_an_article_an_earlier_run_kept_is_a_duplicate_of_it():
    from transforms.dedup import KnownHashes

    earlier = _article("/in/old.jsonl", "Kim met Putin in Pyongyang.")
    copy, new = (
        _article("/in/new.jsonl", "Kim met Putin in Pyongyang.", line=1),
        _article("/in/new.jsonl", "Something else.", line=2),
    )
    with make_test_pipeline() as p:
        out = (
            p
            | beam.Create([copy, new])
            | DeduplicateArticles(KnownHashes([(earlier.content_hash, earlier.article_id)]))
        )
        assert_that(out.articles | "Kept" >> beam.Map(lambda a: a.input_line), equal_to([2]), label="kept")
        assert_that(
            out.duplicates | "Refs" >> beam.Map(lambda d: (d.input_line, d.duplicate_of)),
            equal_to([(1, earlier.article_id)]),
            label="dups",
        )


def test_known_hashes_with_more_pairs_equal_known_hashes_built_from_all_of_them():
    import hashlib

    from transforms.dedup import KnownHashes
    from transforms.text import stable_id

    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(300)]
    first = [(h, stable_id("art_", h)) for h in hashes[:200]] + [(hashes[5], "art_old_5")]
    later = [(h, stable_id("art_", h)) for h in hashes[150:]] + [
        (hashes[250], "art_old_250"),
        (hashes[5], stable_id("art_", hashes[5])),
    ]
    merged, whole = KnownHashes(first).with_pairs(later), KnownHashes(first + later)
    assert dict(merged.items()) == dict(whole.items()) == dict(first + later)
    assert (
        len(merged) == 300
        and merged.get(hashes[250]) == "art_old_250"
        and merged.get(hashes[5]) == stable_id("art_", hashes[5])
    )
