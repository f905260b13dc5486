"""Tagging cost against spaCy NER-only on the same texts, measured in the same run.

    python -m benchmarks.entity_speed [--corpus ../shared/corpus/bbc_news.jsonl] [--limit 600] [--runs 3]

(a) baseline: the model with only its NER component, ``nlp.pipe`` over the texts;
(b) newsbeam: ``EntityTagger.tag`` (sentencizer, gazetteer ruler, NER, resolver) over the same texts.
Runs alternate a, b, a, b, … in one process; the medians and the overhead b/a - 1 are printed.
The target is an overhead of at most 10 %.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def load_texts(corpus: Path, limit: int) -> list[str]:
    texts = []
    with corpus.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row.get("text"):
                texts.append(row["text"])
            if len(texts) >= limit:
                break
    return texts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus/bbc_news.jsonl"))
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    import spacy

    from transforms.entities import NER_ONLY_EXCLUDE, EntityTagger, TaggerConfig, model_location

    texts = load_texts(args.corpus, args.limit)
    words = sum(len(t.split()) for t in texts)
    config = TaggerConfig()
    baseline = spacy.load(model_location(config.model), exclude=NER_ONLY_EXCLUDE)
    tagger = EntityTagger(config)
    list(baseline.pipe(texts[:20])), tagger.tag(texts[:20])  # warm up both
    a, b = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        for _doc in baseline.pipe(texts, batch_size=config.batch_size):
            pass
        a.append(time.perf_counter() - started)
        started = time.perf_counter()
        tagger.tag(texts)
        b.append(time.perf_counter() - started)
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{len(texts)} texts, {words} words from {args.corpus}, {args.runs} alternating runs each")
    print(f"(a) spaCy NER-only : median {ma:.2f}s  {words / ma:,.0f} words/s  runs {', '.join(f'{x:.2f}' for x in a)}")
    print(f"(b) newsbeam tagger: median {mb:.2f}s  {words / mb:,.0f} words/s  runs {', '.join(f'{x:.2f}' for x in b)}")
    print(f"overhead b/a - 1 = {mb / ma - 1:+.1%} (target <= +10%)")


if __name__ == "__main__":
    main()
