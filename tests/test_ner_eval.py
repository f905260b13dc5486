import pytest

from benchmarks.ner_eval import _spans, _to_tokens, read_conll, score

SAMPLE = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
. . O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
"""


def test_reads_documents_and_iob1_spans(tmp_path):
    path = tmp_path / "mini.conll"
    path.write_text(SAMPLE)
    (doc,) = read_conll(path)
    text, starts, gold = doc
    assert text == "EU rejects German call .\nPeter Blackburn"
    assert gold == {(0, 1, "ORG"), (2, 3, "MISC"), (5, 7, "PER")}
    assert _spans(["I-PER", "B-PER", "O"]) == {(0, 1, "PER"), (1, 2, "PER")}
    predicted = _to_tokens([(0, 2, "ORG"), (11, 17, "NORP"), (25, 30, "PERSON")], starts, text)
    assert predicted == {(0, 1, "ORG"), (2, 3, "MISC"), (5, 6, "PER")}  # "Peter" alone: a partial span, so a miss
    result = score([gold], [predicted])
    assert result["ORG"] == (1.0, 1.0, 1.0)
    assert result["PER"] == (0.0, 0.0, 0.0)


def test_heldout_scoring_maps_labels_and_keeps_to_the_paragraph():
    from benchmarks.ner_heldout import predicted, score

    spans = [(0, 5, "PERSON"), (10, 15, "GPE"), (20, 25, "NORP"), (30, 35, "ORG"), (90, 95, "ORG")]
    pred = predicted(spans, 0, 50)
    assert pred == {(0, 5, "PER"), (10, 15, "LOC"), (30, 35, "ORG")}  # NORP is not scored; 90-95 is outside
    gold = {(0, 5, "PER"), (10, 15, "ORG"), (40, 45, "LOC")}
    result = score([gold], [pred])
    assert result["PER"] == (1.0, 1.0, 1.0)
    assert result["PER/ORG/LOC"][0] == 1 / 3 and result["PER/ORG/LOC"][1] == 1 / 3


@pytest.mark.parametrize("split", ["heldout", "dev"])
def test_heldout_labels_are_the_chosen_paragraphs_of_the_corpus_unchanged(split):
    import json

    from benchmarks.ner_heldout import SPLITS, load, select_paragraphs
    from tests.conftest import corpus_file

    corpus = corpus_file("wikiref220.jsonl")
    labels, first = SPLITS[split]
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    chosen = select_paragraphs(corpus, first)
    assert [(r["id"], r["start"], r["end"]) for r in rows] == [(p["id"], p["start"], p["end"]) for p in chosen]
    loaded = load(labels, corpus)  # every paragraph's sha256 matches the corpus
    for row in loaded:
        spans = sorted(row["gold"])
        assert all(row["start"] <= s < e <= row["end"] for s, e, _ in spans)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # no overlaps
        assert all(row["text"][s:e].strip() == row["text"][s:e] for s, e, _ in spans)
    assert sum(len(r["gold"]) for r in loaded) >= 150


def test_the_dev_and_heldout_entity_sets_share_no_article():
    import json

    from benchmarks.ner_heldout import DEV_LABELS, LABELS

    def ids(path):
        return {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()}

    assert ids(DEV_LABELS) and ids(LABELS) and not ids(DEV_LABELS) & ids(LABELS)
