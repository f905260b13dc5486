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
