"""Entity-level precision, recall and F1 of newsbeam's Russian tagger on FactRuEval-2016, beside natasha's raw NER.

    python -m benchmarks.factrueval --devset ../shared/corpus/factrueval-2016/devset

FactRuEval-2016 (MIT; Russian news and analytics, 122 documents in the devset) marks spans (`.spans`: id, type, char
offset, length) and builds objects of them (`.objects`: Person, Org, Location, LocOrg, Project). The converter
(read_factrueval) makes each object one gold entity from the start of its first span to the end of its last: Person
-> PER, Org -> ORG, Location and LocOrg -> LOC (a LocOrg is a place acting as an organization, "России" in "власти
России"; newsbeam calls such names places), Project is left out. An object inside another ("Москвы" in the Org
"мэрии Москвы") is left out too: a flat tagger can find only one of the two, and the outer one is the name the
annotators gave the thing. With --names-only an object spans only its name parts ("Москвы" of the Org "мэрии Москвы",
"Юрия Лужкова" without his job title), closer to what a NER model marks. A prediction counts only with the exact
character span and type.

Three columns: the English tagger that read every article before issue 26 (en_core_web_sm and the English gazetteer
and rules), natasha's NER alone (slovnet, labels PER/ORG/LOC), and the whole newsbeam tagger for Russian
(transforms.multilang.ForeignTagger("ru"): the gazetteer's Russian names first, then natasha's spans; PERSON -> PER,
ORG -> ORG, GPE/LOC/FAC -> LOC, other types left out).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.ner_eval import score

NAME_PARTS = frozenset({"name", "surname", "patronymic", "nickname", "org_name", "loc_name"})
GOLD_TYPES = {"Person": "PER", "Org": "ORG", "Location": "LOC", "LocOrg": "LOC"}
OUR_TYPES = {"PERSON": "PER", "PER": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}


def _left(line: str) -> list[str]:
    return line.split("#", 1)[0].split()


def read_factrueval(folder: Path, names_only: bool = False) -> list[tuple[str, str, set]]:
    """(name, text, gold {(start, end, type)}) for each document of a FactRuEval folder. With names_only, an object
    spans only its name parts (name, surname, patronymic, nickname, org_name, loc_name), not its descriptors
    (org_descr "мэрии", loc_descr, job, geo_adj), and an object without a name part is left out."""
    docs = []
    for txt in sorted(folder.glob("*.txt")):
        base = txt.with_suffix("")
        text = txt.read_text(encoding="utf-8")
        spans = {}
        for line in base.with_suffix(".spans").read_text(encoding="utf-8").splitlines():
            cols = _left(line)
            if cols:
                spans[cols[0]] = (int(cols[2]), int(cols[2]) + int(cols[3]), cols[1])
        objects = set()
        for line in base.with_suffix(".objects").read_text(encoding="utf-8").splitlines():
            cols = _left(line)
            if not cols or cols[1] not in GOLD_TYPES:
                continue
            parts = [spans[i] for i in cols[2:] if not names_only or spans[i][2] in NAME_PARTS]
            if not parts:
                continue
            objects.add((min(p[0] for p in parts), max(p[1] for p in parts), GOLD_TYPES[cols[1]]))
        outer = {o for o in objects if not any(p != o and p[0] <= o[0] and o[1] <= p[1] for p in objects)}
        docs.append((txt.stem, text, outer))
    return docs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devset", required=True, type=Path)
    parser.add_argument(
        "--names-only", action="store_true", help="gold objects span their name parts only, not their descriptors"
    )
    args = parser.parse_args(argv)

    from transforms.entities import EntityTagger, TaggerConfig
    from transforms.multilang import foreign_tagger

    docs = read_factrueval(args.devset, names_only=args.names_only)
    texts = [d[1] for d in docs]
    gold = [d[2] for d in docs]
    words = sum(len(t.split()) for t in texts)
    english = [
        {(m.start_char, m.end_char, OUR_TYPES[m.type]) for m in mentions if m.type in OUR_TYPES}
        for mentions in EntityTagger(TaggerConfig()).tag(texts)
    ]
    tagger = foreign_tagger("ru")
    started = time.perf_counter()
    raw_spans = tagger.model(texts)
    raw_s = time.perf_counter() - started
    raw = [{(s.start, s.end, OUR_TYPES[s.label]) for s in spans if s.label in OUR_TYPES} for spans in raw_spans]
    started = time.perf_counter()
    ours = [
        {(m.start_char, m.end_char, OUR_TYPES[m.type]) for m in mentions if m.type in OUR_TYPES}
        for mentions in tagger.tag(texts)
    ]
    ours_s = time.perf_counter() - started
    print(
        f"{args.devset}: {len(docs)} documents, {words} words, {sum(len(g) for g in gold)} gold entities (outermost"
        f"{', name parts only' if args.names_only else ''})"
    )
    print(f"{'':14}{'English tagger (before)':>30}{'raw natasha NER':>30}{'newsbeam ru tagger':>30}")
    print(f"{'':14}" + f"{'P':>10}{'R':>10}{'F1':>10}" * 3)
    e, a, b = score(gold, english), score(gold, raw), score(gold, ours)
    for group in ("PER", "ORG", "LOC", "PER/ORG/LOC"):
        print(f"{group:14}" + "".join(f"{v:10.3f}" for v in (*e[group], *a[group], *b[group])))
    print(
        f"time: natasha NER + normal forms of all names {raw_s:.1f}s ({words / raw_s:,.0f} words/s), "
        f"newsbeam ru tagger {ours_s:.1f}s ({words / ours_s:,.0f} words/s)"
    )


if __name__ == "__main__":
    main()
