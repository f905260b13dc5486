"""Entity-level precision, recall and F1 of newsbeam's tagger on a CoNLL-2003 file, beside the raw spaCy model.

    python -m benchmarks.ner_eval --conll ../shared/corpus/conll2003/eng.testa

    python -m benchmarks.ner_eval --conll ../shared/corpus/conll2003/eng.testa --small  # the tagger before 2026-12-03

Three columns: the raw small OntoNotes model (en_core_web_sm, NER only), the raw model the tagger loads (the news
model by default, the small one with --small, `--model PATH` for another), and the whole newsbeam tagger (model,
gazetteer, resolver).

Each -DOCSTART- document becomes one text (tokens joined by spaces, one sentence a line), so
document-level rules (variants, label consistency, headline handling) work as they do on news.
spaCy labels map to CoNLL's: PERSON->PER, ORG->ORG, GPE/LOC/FAC->LOC, NORP/EVENT/PRODUCT/
WORK_OF_ART/LAW->MISC (a model trained with CoNLL's own labels keeps them). A prediction counts only with the
exact token span and type.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

LABEL_MAP = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "PER": "PER",
    "MISC": "MISC",
}
TYPES = ("PER", "ORG", "LOC", "MISC")


def read_conll(path: Path) -> list[tuple[str, list[int], set]]:
    """Documents as (text, token start offsets, gold spans {(first_token, last_token_exclusive, type)})."""
    docs, tokens, tags = [], [], []

    def flush():
        if not tokens:
            return
        text, starts, pos = [], [], 0
        for sentence in tokens:
            line = []
            for tok in sentence:
                starts.append(pos)
                line.append(tok)
                pos += len(tok) + 1
            text.append(" ".join(line))
        flat_tags = [t for s in tags for t in s]
        docs.append(("\n".join(text), starts, _spans(flat_tags)))

    sentence, sentence_tags = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("-DOCSTART-"):
            if sentence:
                tokens.append(sentence), tags.append(sentence_tags)
                sentence, sentence_tags = [], []
            flush()
            tokens, tags = [], []
            continue
        if not raw.strip():
            if sentence:
                tokens.append(sentence), tags.append(sentence_tags)
            sentence, sentence_tags = [], []
            continue
        cols = raw.split()
        sentence.append(cols[0])
        sentence_tags.append(cols[-1])
    if sentence:
        tokens.append(sentence), tags.append(sentence_tags)
    flush()
    return docs


def _spans(tags: list[str]) -> set:
    """IOB1/IOB2 tags -> {(start, end, type)}."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, label = tag.partition("-")
        if start is not None and (tag == "O" or prefix == "B" or label != kind):
            spans.add((start, i, kind))
            start, kind = None, None
        if tag != "O" and start is None:
            start, kind = i, label
    return spans


def _to_tokens(char_spans, starts: list[int], text: str) -> set:
    index = {s: i for i, s in enumerate(starts)}
    ends = {s + len(text[s:].split(" ", 1)[0].split("\n", 1)[0]): i + 1 for i, s in enumerate(starts)}
    out = set()
    for start, end, label in char_spans:
        kind = LABEL_MAP.get(label)
        if kind and start in index and end in ends:
            out.add((index[start], ends[end], kind))
        elif kind:
            out.add((-start - 1, -end - 1, kind))  # misaligned with CoNLL tokens: a sure miss
    return out


def score(gold_docs: list[set], pred_docs: list[set]) -> dict[str, tuple[float, float, float]]:
    tp, fp, fn = Counter(), Counter(), Counter()
    for gold, pred in zip(gold_docs, pred_docs):
        for span in pred:
            (tp if span in gold else fp)[span[2]] += 1
        for span in gold - pred:
            fn[span[2]] += 1
    result = {}
    for group, kinds in [*((k, (k,)) for k in TYPES), ("PER/ORG/LOC", ("PER", "ORG", "LOC")), ("all", TYPES)]:
        t, p, n = sum(tp[k] for k in kinds), sum(fp[k] for k in kinds), sum(fn[k] for k in kinds)
        precision = t / (t + p) if t + p else 0.0
        recall = t / (t + n) if t + n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[group] = (precision, recall, f1)
    return result


def _raw(nlp, docs) -> tuple[list[set], float]:
    texts = [d[0] for d in docs]
    started = time.perf_counter()
    out = [
        _to_tokens([(e.start_char, e.end_char, e.label_) for e in doc.ents], d[1], d[0])
        for doc, d in zip(nlp.pipe(texts), docs)
    ]
    return out, time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conll", required=True, type=Path)
    parser.add_argument(
        "--small", action="store_true", help="the tagger with spaCy's small model (TaggerConfig(**SMALL_TAGGER))"
    )
    parser.add_argument("--model", default=None, help="the tagger's model, a name or path (default: TaggerConfig's)")
    parser.add_argument("--set", action="append", default=[], help="a TaggerConfig field, e.g. title_caps=false")
    args = parser.parse_args(argv)

    import spacy

    from transforms.entities import (
        NER_ONLY_EXCLUDE,
        SMALL_MODEL,
        SMALL_TAGGER,
        EntityTagger,
        TaggerConfig,
        model_location,
    )

    pairs = (item.partition("=") for item in args.set)
    fields = {k: v.lower() == "true" if v.lower() in ("true", "false") else v for k, _, v in pairs}
    config = TaggerConfig(
        **{**(SMALL_TAGGER if args.small else {}), **({"model": args.model} if args.model else {}), **fields}
    )
    docs = read_conll(args.conll)
    texts = [d[0] for d in docs]
    gold = [d[2] for d in docs]
    words = sum(len(d[1]) for d in docs)
    small, small_s = _raw(spacy.load(SMALL_MODEL, exclude=NER_ONLY_EXCLUDE), docs)
    own, own_s = _raw(spacy.load(model_location(config.model), exclude=NER_ONLY_EXCLUDE), docs)
    tagger = EntityTagger(config)
    started = time.perf_counter()
    ours = [
        _to_tokens([(m.start_char, m.end_char, m.type) for m in ms], d[1], d[0])
        for ms, d in zip(tagger.tag(texts), docs)
    ]
    ours_s = time.perf_counter() - started
    print(f"{args.conll}: {len(docs)} documents, {words} tokens, {sum(len(g) for g in gold)} gold entities")
    print(f"tagger: {config}")
    print(f"{'':14}{'raw en_core_web_sm NER':>30}{'raw tagger model NER':>30}{'newsbeam tagger':>30}")
    print(f"{'':14}" + f"{'P':>10}{'R':>10}{'F1':>10}" * 3)
    a, b, c = score(gold, small), score(gold, own), score(gold, ours)
    for group in a:
        print(f"{group:14}" + "".join(f"{v:10.3f}" for v in (*a[group], *b[group], *c[group])))
    print(
        f"time: en_core_web_sm {small_s:.1f}s ({words / small_s:,.0f} words/s), tagger model {own_s:.1f}s "
        f"({words / own_s:,.0f} words/s), newsbeam tagger {ours_s:.1f}s ({words / ours_s:,.0f} words/s)"
    )


if __name__ == "__main__":
    main()
