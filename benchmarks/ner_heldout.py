"""Entity quality on news the tagger never saw and nothing was tuned on: WikiRef220 paragraphs labelled by hand.

    python -m benchmarks.ner_heldout                 # the news tagger, the small one, and both raw models
    python -m benchmarks.ner_heldout --list-misses   # and every miss and false alarm of the news tagger
    python -m benchmarks.ner_heldout --split dev     # the dev set: the one to read and tune on

The labels (`benchmarks/data/ner_wikiref_heldout.jsonl`, described in its `.md`) are PER, ORG and LOC mentions in 62
paragraphs of WikiRef220 articles (news of 2014-2015 in English: sport, politics, disasters, entertainment), under
CoNLL-2003's guidelines, written before any score was seen. Nothing of WikiRef220 is in the model's training data,
and no rule, alias or setting was chosen on this set: it is reported, never tuned on.

`--split dev` scores the dev set (`benchmarks/data/ner_wikiref_dev.jsonl`): 56 paragraphs of other WikiRef220
articles (every 3rd from the second), labelled the same way on the same day. It is the set to read misses on and
tune the tagger's rules with; the held-out set stays untouched.

Each labelled article is tagged whole, as the pipeline tags an article (so document-level rules work), and only the
mentions inside the labelled paragraph are scored. spaCy labels map as in `benchmarks.ner_eval` (PERSON->PER,
ORG->ORG, GPE/LOC/FAC->LOC, the rest not scored); a prediction counts only with the exact character span and type.
The corpus is read in place; each paragraph's sha256 is checked against the labels' (exit 2 if one changed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from benchmarks.ner_eval import LABEL_MAP, score

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "benchmarks" / "data" / "ner_wikiref_heldout.jsonl"
DEV_LABELS = ROOT / "benchmarks" / "data" / "ner_wikiref_dev.jsonl"
SPLITS = {"heldout": (LABELS, 0), "dev": (DEV_LABELS, 1)}  # labels, and the first article of every 3rd they hold
CORPUS = ROOT.parent / "shared" / "corpus" / "wikiref220.jsonl"
SCORED = ("PER", "ORG", "LOC")


def select_paragraphs(corpus: Path = CORPUS, first: int = 0) -> list[dict]:
    """The labelled paragraphs, chosen before labelling: of every 3rd article in id order from article `first` (0:
    held-out, 1: dev), its first paragraph of 250 to 900 characters that ends a sentence. {id, start, end} with
    offsets into the article's text."""
    rows = sorted((json.loads(line) for line in corpus.open(encoding="utf-8")), key=lambda r: r["id"])
    picked = []
    for row in rows[first::3]:
        text, pos = row["text"], 0
        for line in text.split("\n"):
            start = text.find(line, pos)
            pos = start + len(line)
            paragraph = line.strip()
            if 250 <= len(paragraph) <= 900 and paragraph[-1] in '.!?"”':
                first = start + len(line) - len(line.lstrip())
                picked.append({"id": row["id"], "start": first, "end": first + len(paragraph)})
                break
    return picked


def load(labels: Path = LABELS, corpus: Path = CORPUS) -> list[dict]:
    """The labelled paragraphs with their article's text as the pipeline stores it ("\r\n" as "\n"): {id, start, end,
    text, gold: {(start, end, type)}}, every offset into that text."""
    texts = {}
    with corpus.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts[row["id"]] = row["text"]
    out = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = texts[row["id"]]
        paragraph = text[row["start"] : row["end"]]
        if hashlib.sha256(paragraph.encode("utf-8")).hexdigest() != row["sha256"]:
            raise ValueError(f"{row['id']}: the labelled paragraph no longer matches the corpus")
        # The pipeline reads "\r\n" as "\n" (transforms.text): the text is tagged as the pipeline stores it, and the
        # offsets move with it.
        shift = [0] * (len(text) + 1)
        for i in range(1, len(text) + 1):
            shift[i] = shift[i - 1] + (text[i - 1] == "\r" and text[i : i + 1] == "\n")
        gold = {(e["start"] - shift[e["start"]], e["end"] - shift[e["end"]], e["type"]) for e in row["entities"]}
        start, end = row["start"] - shift[row["start"]], row["end"] - shift[row["end"]]
        stored = text.replace("\r\n", "\n")
        out.append({**row, "start": start, "end": end, "text": stored, "gold": gold})
    return out


def predicted(spans, start: int, end: int) -> set:
    """(start, end, CoNLL type) of the scored predictions inside [start, end)."""
    out = set()
    for s, e, label in spans:
        kind = LABEL_MAP.get(label)
        if kind in SCORED and start <= s and e <= end:
            out.add((s, e, kind))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=sorted(SPLITS), default="heldout")
    parser.add_argument("--labels", type=Path, help="a labels file of the same form (default: the split's)")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--list-misses", action="store_true", help="every miss and false alarm of the news tagger")
    parser.add_argument("--model", help="the news tagger's model, a name or path (default: TaggerConfig's)")
    args = parser.parse_args(argv)
    args.labels = args.labels or SPLITS[args.split][0]
    if not args.corpus.exists():
        print(f"{args.corpus} is absent: the shared corpus lives beside the repo as ../shared/corpus", file=sys.stderr)
        raise SystemExit(2)
    try:
        rows = load(args.labels, args.corpus)
    except (ValueError, KeyError) as err:
        print(f"{args.labels}: {err}", file=sys.stderr)
        raise SystemExit(2) from None

    import spacy

    from transforms.entities import (
        NER_ONLY_EXCLUDE,
        SMALL_MODEL,
        SMALL_TAGGER,
        EntityTagger,
        TaggerConfig,
        model_location,
    )

    news = TaggerConfig(model=args.model) if args.model else TaggerConfig()
    news_name = "news tagger (--model)" if args.model else "news tagger (default)"
    texts, gold = [r["text"] for r in rows], [r["gold"] for r in rows]
    columns = {}
    for name, model in (("raw en_core_web_sm", SMALL_MODEL), ("raw news model", news.model)):
        nlp = spacy.load(model_location(model), exclude=NER_ONLY_EXCLUDE)
        docs = nlp.pipe(texts)
        columns[name] = [
            predicted([(e.start_char, e.end_char, e.label_) for e in doc.ents], r["start"], r["end"])
            for doc, r in zip(docs, rows)
        ]
    for name, config in (("small tagger", TaggerConfig(**SMALL_TAGGER)), (news_name, news)):
        tagged = EntityTagger(config).tag(texts)
        columns[name] = [
            predicted([(m.start_char, m.end_char, m.type) for m in ms], r["start"], r["end"])
            for ms, r in zip(tagged, rows)
        ]
    entities = Counter(t for g in gold for _, _, t in g)
    print(f"{args.labels.name}: {len(rows)} paragraphs, " + ", ".join(f"{entities[k]} {k}" for k in SCORED))
    print(f"{'':14}" + "".join(f"{name:>24}" for name in columns))
    scores = {name: score(gold, pred) for name, pred in columns.items()}
    for group in ("PER", "ORG", "LOC", "PER/ORG/LOC"):
        cells = "".join(f"{'%.3f / %.3f / %.3f' % scores[name][group]:>24}" for name in columns)
        print(f"{group:14}{cells}")
    print("(precision / recall / F1)")
    if args.list_misses:
        for r, pred in zip(rows, columns[news_name]):
            text = r["text"]
            for s, e, t in sorted(r["gold"] - pred):
                print(f"MISS  {r['id']}: {text[s:e]!r} {t}")
            for s, e, t in sorted(pred - r["gold"]):
                print(f"FALSE {r['id']}: {text[s:e]!r} {t}")


if __name__ == "__main__":
    main()
