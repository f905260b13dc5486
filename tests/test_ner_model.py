"""The news model's labels: the names the tagger keeps, and the cut that makes a model with no others."""

import spacy

from benchmarks.ner.prune import model_labels, prune
from transforms.entities import NER_ONLY_EXCLUDE, NEWS_MODEL_DIR, SMALL_MODEL


def test_shipped_model_has_the_news_labels_only():
    nlp = spacy.load(NEWS_MODEL_DIR, exclude=NER_ONLY_EXCLUDE)
    labels = nlp.get_pipe("ner").labels
    assert sorted(labels) == sorted(model_labels())
    assert "DATE" not in labels and "CARDINAL" not in labels and "MISC" in labels


def test_cut_keeps_each_kept_action_and_its_weights(tmp_path):
    names = ["PERSON", "ORG", "GPE"]
    before, after = prune(SMALL_MODEL, tmp_path / "cut", names)
    assert (before, after) == (74, 14)  # B/I/L/U of 18 labels, O and the unlabelled U; then of 3 labels
    small = spacy.load(SMALL_MODEL, exclude=NER_ONLY_EXCLUDE)
    cut = spacy.load(tmp_path / "cut")
    assert sorted(cut.get_pipe("ner").labels) == sorted(names)
    # Where the full model takes a kept action at every token, the cut one takes the same: the best of a subset that
    # holds the best. Where it took a dropped one (a date, a sum), the cut model must choose among the rest.
    text = "Angela Merkel met Vladimir Putin in Moscow, and Gazprom said so."
    assert [(e.text, e.label_) for e in cut(text).ents] == [(e.text, e.label_) for e in small(text).ents]
    dated = "Angela Merkel met Vladimir Putin in Moscow on Tuesday and paid $5 million."
    assert {e.label_ for e in cut(dated).ents} <= set(names)
    assert {"DATE", "MONEY"} <= {e.label_ for e in small(dated).ents}


def test_training_data_has_the_model_labels_only(tmp_path):
    from spacy.tokens import DocBin

    from benchmarks.train_ner import Labels, convert

    conll = tmp_path / "mini.conll"
    conll.write_text(
        "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\ncall NN I-NP O\n"
        "on IN I-PP O\nMonday NNP I-NP O\n. . O O\n\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n"
    )
    names = ("PERSON", "ORG", "GPE", "MISC")
    stats = convert(conll, tmp_path / "names.spacy", 10, Labels(names=names))
    every = convert(conll, tmp_path / "every.spacy", 10, Labels(silver_numeric=True))
    nlp = spacy.blank("en")
    (doc,) = DocBin().from_disk(tmp_path / "names.spacy").get_docs(nlp.vocab)
    assert [(e.text, e.label_) for e in doc.ents] == [("EU", "ORG"), ("German", "MISC"), ("Peter Blackburn", "PERSON")]
    assert doc[5].ent_iob_ == "O"  # "Monday": no entity, not a missing label
    assert set(stats["labels"]) <= set(names)
    assert every["labels"].get("NORP") == 1  # with every label, "German" is the small model's NORP
    dated = convert(conll, tmp_path / "dated.spacy", 10, Labels(names=(*names, "DATE"), silver_numeric=True))
    (doc,) = DocBin().from_disk(tmp_path / "dated.spacy").get_docs(nlp.vocab)
    assert ("Monday", "DATE") in [(e.text, e.label_) for e in doc.ents] and "CARDINAL" not in dated["labels"]


def _tiny_vectors_ner(words, data):
    """A blank pipeline with `data` as static vectors (keyed by ORTH) and an untrained NER whose tok2vec reads them."""
    from spacy.vectors import Vectors

    nlp = spacy.blank("en")
    keys = [nlp.vocab.strings.add(w) for w in words]
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=data, keys=keys)
    embed = {"@architectures": "spacy.MultiHashEmbed.v2", "width": 16, "attrs": ["NORM", "SHAPE"]}
    embed.update(rows=[100, 50], include_static_vectors=True)
    encode = {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 16, "depth": 1}
    encode.update(window_size=1, maxout_pieces=2)
    model = {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "hidden_width": 16}
    model.update(maxout_pieces=2, tok2vec={"@architectures": "spacy.Tok2Vec.v2", "embed": embed, "encode": encode})
    ner = nlp.add_pipe("ner", config={"model": model})
    for label in ("PERSON", "GPE"):
        ner.add_label(label)
    nlp.initialize()
    return nlp


def test_compressed_vectors_give_the_ner_the_same_input_where_the_table_fits():
    import numpy as np

    from benchmarks.ner.static_vectors import compress, kept_key

    words = ["Putin", "putin", "met", "Kim", "in", "Pyongyang", ".", "2024", "SUMMIT", "EU"]
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(len(words), 8)) @ rng.normal(size=(8, 300))).astype("float32")  # rank 8 in 300 columns
    nlp = _tiny_vectors_ner(words, data)
    tok2vec = nlp.get_pipe("ner").model.get_ref("tok2vec")
    text = "Putin met Kim in Pyongyang ."
    before = tok2vec.predict([nlp.make_doc(text)])[0]
    shouted = tok2vec.predict([nlp.make_doc("SUMMIT in 2024")])[0]
    assert compress(nlp, 8) == (10, 8)  # "2024" and "SUMMIT" lose their keys
    assert nlp.vocab.vectors.shape == (8, 8)
    # v W^T = (v P)(W P)^T when the rows lie in the span of P: what the NER reads is unchanged, to float error.
    np.testing.assert_allclose(tok2vec.predict([nlp.make_doc(text)])[0], before, atol=1e-4)
    assert not np.allclose(tok2vec.predict([nlp.make_doc("SUMMIT in 2024")])[0], shouted, atol=1e-4)
    assert "PERSON" in nlp.vocab.strings and "Pyongyang" not in nlp.vocab.strings  # keys need no strings
    assert [kept_key(w) for w in ("Kim", "EU", "U.S.", "G20", "ANNOUNCES")] == [True, True, True, False, False]
