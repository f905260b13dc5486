"""A training augmenter for benchmarks/ner/config.cfg: ALL-CAPS lines also seen title-cased.

At run time the tagger title-cases ALL-CAPS lines before the model reads them (transforms.entities.model_text);
CoNLL-2003 has many ALL-CAPS headlines and datelines ("SOCCER - JAPAN GET LUCKY WIN", "BRUSSELS 1996-08-22").
With probability `level` an example is yielded a second time with every ALL-CAPS token of an ALL-CAPS line
title-cased, same tokens, same entity labels. Passed to `spacy train` with `--code benchmarks/ner/augment.py`.
"""

from __future__ import annotations

import random

import spacy
from spacy.tokens import Doc
from spacy.training import Example


@spacy.registry.augmenters("newsbeam.title_caps.v1")
def create_title_caps_augmenter(level: float):
    return lambda nlp, example: title_caps_augmenter(nlp, example, level=level)


def _caps_lines(ref: Doc) -> set[int]:
    """Indexes of tokens on lines where most words with letters are ALL-CAPS (two or more of them)."""
    out, line = set(), []

    def flush():
        words = [t for t in line if any(c.isalpha() for c in t.text)]
        caps = [t for t in words if len(t.text) > 1 and t.text.isupper()]
        if len(caps) >= 2 and len(caps) >= 0.6 * len(words):
            out.update(t.i for t in caps)

    for token in ref:
        if "\n" in token.text or "\n" in token.whitespace_:
            if "\n" not in token.text:
                line.append(token)
            flush()
            line = []
        else:
            line.append(token)
    flush()
    return out


def title_caps_augmenter(nlp, example: Example, *, level: float):
    yield example
    if random.random() >= level:
        return
    ref = example.reference
    caps = _caps_lines(ref)
    if not caps:
        return
    words = [t.text.title() if t.i in caps else t.text for t in ref]
    words = [w if len(w) == len(t.text) else t.text for w, t in zip(words, ref)]
    spaces = [bool(t.whitespace_) for t in ref]
    ents = [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in ref]
    reference = Doc(nlp.vocab, words=words, spaces=spaces, ents=ents)
    predicted = Doc(nlp.vocab, words=words, spaces=spaces)
    yield Example(predicted, reference)
