r"""Alert quality on labelled real articles: precision and recall per rule, every miss and every false alarm.

    python -m benchmarks.alert_eval [--split dev|heldout|all] [--rules PACK] [--limit N] [--corpus DIR]
    python -m benchmarks.alert_eval --fired reuters21578_000.jsonl     # every alert over a whole corpus file

The labels (`benchmarks/data/alert_labels.jsonl`, described in `benchmarks/data/alert_labels.md`) say for each
(article, rule) whether the article reports an event of that rule's kind. Each article is read from
`../shared/corpus/` by line and checked against its content hash. It goes through the same path as
`pipelines.check_rules`: build_article, then the entity tagger (loaded once, all articles in one batch), then the
alert engine. A rule counts as fired on an article when the engine emits its alert. Scores are article-level.

Tune on `dev` only. `heldout` is for reporting.
Exit codes: 0 ok, 2 bad arguments, a missing corpus, a label that no longer matches its article, or a bad rule pack.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

LABELS = Path(__file__).resolve().parent / "data" / "alert_labels.jsonl"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPORA = ("bbc_news.jsonl", "reuters21578_000.jsonl")
SPLITS = ("dev", "heldout")


class LabelError(ValueError):
    """The label file is malformed, or a row no longer matches the corpus."""


class Label(BaseModel):
    """One (article, rule) judgment. Positives carry the start of their evidence sentence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    corpus: Literal["bbc_news.jsonl", "reuters21578_000.jsonl"]
    line: int = Field(ge=1)
    id: str = Field(min_length=1)
    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rule_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: bool
    reason: str = Field(min_length=3)
    evidence_hint: Optional[str] = Field(default=None, max_length=120)
    split: Literal["dev", "heldout"]

    @model_validator(mode="after")
    def _evidence_for_positives(self):
        if self.label and not self.evidence_hint:
            raise ValueError("a positive label needs its evidence_hint")
        if not self.label and self.evidence_hint is not None:
            raise ValueError("a negative label has no evidence_hint")
        return self

    @property
    def ref(self) -> str:
        return f"{self.corpus}:{self.line} ({self.id})"


def split_of(corpus: str, article_id: str) -> str:
    """The fixed split of an article: a third held out, by a hash of corpus and id."""
    return "heldout" if int(hashlib.sha256(f"{corpus}:{article_id}".encode()).hexdigest(), 16) % 3 == 0 else "dev"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_labels(path: Path = LABELS) -> list[Label]:
    """All rows, validated; one article keeps one id, hash and split, and each (article, rule) appears once."""
    rows, seen, article = [], set(), {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = Label.model_validate_json(line)
        except ValueError as err:
            raise LabelError(f"{path.name}:{number}: {err}") from None
        key = (row.corpus, row.line)
        if (key, row.rule_id) in seen:
            raise LabelError(f"{path.name}:{number}: {row.ref} is labelled twice for {row.rule_id}")
        seen.add((key, row.rule_id))
        same = (row.id, row.content_sha256, row.split)
        if article.setdefault(key, same) != same:
            raise LabelError(f"{path.name}:{number}: {row.ref} has another id, hash or split on an earlier row")
        rows.append(row)
    return rows


def read_articles(labels: list[Label], corpus_dir: Path = CORPUS) -> dict[tuple[str, int], bytes]:
    """The raw JSONL line of every labelled article, checked against its id and content hash."""
    wanted = defaultdict(dict)
    for row in labels:
        wanted[row.corpus][row.line] = row
    out = {}
    for corpus, rows in wanted.items():
        path = corpus_dir / corpus
        if not path.exists():
            raise FileNotFoundError(f"{path} is absent: the shared corpus lives beside the repo as ../shared/corpus")
        with path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                row = rows.get(number)
                if row is None:
                    continue
                data = raw.rstrip(b"\r\n")
                record = json.loads(data)
                article_id = str(record.get("id", record.get("newid")))
                if article_id != row.id or text_sha256(record.get("text") or "") != row.content_sha256:
                    raise LabelError(f"{row.ref}: the corpus line no longer holds the labelled article")
                out[(corpus, number)] = data
        missing = sorted(set(rows) - {n for c, n in out if c == corpus})
        if missing:
            raise LabelError(f"{corpus}: lines {missing[:5]} are past the end of the file")
    return out


def select(labels: list[Label], split: str, limit: Optional[int] = None) -> list[Label]:
    """The rows of a split ('all' for both). With a limit, only the first N articles in file order."""
    rows = [r for r in labels if split == "all" or r.split == split]
    if limit is not None:
        keep = list(dict.fromkeys((r.corpus, r.line) for r in rows))[:limit]
        rows = [r for r in rows if (r.corpus, r.line) in set(keep)]
    return rows


def run_engine(lines: dict[tuple[str, int], bytes], rules_path: Optional[str], corpus_dir: Path, tagger_fields=None):
    """Each article's alerts by rule id, through build_article, one tagger batch and the alert engine.

    `tagger_fields`: TaggerConfig fields (default: TaggerConfig's own)."""
    from transforms.alerts import AlertEngine
    from transforms.entities import EntityTagger, TaggerConfig
    from transforms.language import LanguageDetector
    from transforms.parse import ParseConfig, build_article
    from transforms.read import RawInput
    from transforms.rules import load_rule_pack

    pack = load_rule_pack(rules_path)
    config = ParseConfig(ingested_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    detector = LanguageDetector()
    keys = sorted(lines)
    articles = [
        build_article(
            RawInput(str(corpus_dir / c), lines[(c, n)], ".jsonl", line=n, size=len(lines[(c, n)])), config, detector
        )
        for c, n in keys
    ]
    tagger = EntityTagger(TaggerConfig(**(tagger_fields or {})))
    engine = AlertEngine(pack, tagger.gazetteer)
    out = {}
    for key, tagged in zip(keys, tagger.tag_articles(articles)):
        out[key] = {a.rule_id: a for a in engine(tagged.article, tagged.mentions)}
    return out, {c.rule.id for c in pack.rules}, tagger.config.model


def score(rows: list[Label], fired: dict) -> dict[str, dict]:
    """Per rule: tp, fp, fn, tn, precision, recall and the rows behind each miss and false alarm."""
    table = {}
    for row in rows:
        t = table.setdefault(row.rule_id, {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "misses": [], "false_alarms": []})
        alert = fired[(row.corpus, row.line)].get(row.rule_id)
        if row.label and alert:
            t["tp"] += 1
        elif row.label:
            t["fn"] += 1
            t["misses"].append(row)
        elif alert:
            t["fp"] += 1
            t["false_alarms"].append((row, alert))
        else:
            t["tn"] += 1
    for t in table.values():
        t["precision"] = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else None
        t["recall"] = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else None
    return table


def _num(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.3f}"


def report(table: dict[str, dict], out=None) -> None:
    """The per-rule table (markdown), then every miss and every false alarm with its article and sentence."""
    out = out or sys.stdout
    print("| rule | labelled | positives | TP | FP | FN | precision | recall |", file=out)
    print("|---|---|---|---|---|---|---|---|", file=out)
    for rule_id, t in sorted(table.items()):
        n = t["tp"] + t["fp"] + t["fn"] + t["tn"]
        print(
            f"| {rule_id} | {n} | {t['tp'] + t['fn']} | {t['tp']} | {t['fp']} | {t['fn']} | "
            f"{_num(t['precision'])} | {_num(t['recall'])} |",
            file=out,
        )
    for rule_id, t in sorted(table.items()):
        if not (t["misses"] or t["false_alarms"]):
            continue
        print(f"\n## {rule_id}: {len(t['misses'])} missed, {len(t['false_alarms'])} false alarm(s)", file=out)
        for row in t["misses"]:
            print(f"MISS  {row.ref} [{row.split}] {row.reason}", file=out)
            print(f"      evidence: {row.evidence_hint} …", file=out)
        for row, alert in t["false_alarms"]:
            sentence = " ".join(alert.evidence_text.split())
            print(f"FALSE {row.ref} [{row.split}] label: {row.reason}", file=out)
            print(f"      fired ({alert.status}) on: {sentence}", file=out)


def list_fired(corpus: str, corpus_dir: Path, rules_path: Optional[str], tagger_fields=None, out=None) -> int:
    """Every alert the pack fires over one whole corpus file, one block per alert, for a reader to judge."""
    out = out or sys.stdout
    path = corpus_dir / corpus
    if not path.exists():
        raise FileNotFoundError(f"{path} is absent: the shared corpus lives beside the repo as ../shared/corpus")
    with path.open("rb") as f:
        lines = {
            (corpus, n): raw.rstrip(b"\r\n")
            for n, raw in enumerate(f, start=1)
            if (json.loads(raw).get("text") or "").strip()  # a wire with no text is no article
        }
    fired, _, _ = run_engine(lines, rules_path, corpus_dir, tagger_fields)
    count = 0
    for (_, number), alerts in sorted(fired.items()):
        for rule_id, alert in sorted(alerts.items()):
            count += 1
            actors = ", ".join(a.name + (f" [{a.role}]" if a.role else "") for a in alert.actors[:4])
            print(f"{count:3d}. {corpus}:{number} {rule_id} ({alert.status}) actors: {actors or '-'}", file=out)
            print(f"     {' '.join(alert.evidence_text.split())}", file=out)
    print(f"\n{count} alerts on {len(lines)} articles", file=out)
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=[*SPLITS, "all"], default="dev", help="Which labelled rows (default dev).")
    parser.add_argument("--rules", help="A rule pack YAML file (default: the built-in pack).")
    parser.add_argument("--labels", default=str(LABELS), help="The label file (default: the repo's).")
    parser.add_argument("--corpus", default=str(CORPUS), help="The folder with the corpus files.")
    parser.add_argument("--limit", type=int, help="Only the first N labelled articles of the split (a quick look).")
    parser.add_argument("--model", help="The tagger's spaCy model (default: TaggerConfig's, the news model).")
    parser.add_argument("--small", action="store_true", help="The tagger with spaCy's small model (SMALL_TAGGER).")
    parser.add_argument("--fired", metavar="FILE", help="List every alert over this whole corpus file instead.")
    args = parser.parse_args(argv)
    from transforms.entities import SMALL_TAGGER
    from transforms.rules import RulePackError

    tagger_fields = {**(SMALL_TAGGER if args.small else {}), **({"model": args.model} if args.model else {})}
    corpus_dir = Path(args.corpus)
    if args.fired:
        try:
            list_fired(args.fired, corpus_dir, args.rules, tagger_fields)
        except (FileNotFoundError, RulePackError) as err:
            print(f"alert_eval: {err}", file=sys.stderr)
            return 2
        return 0
    started = time.perf_counter()
    try:
        rows = select(load_labels(Path(args.labels)), args.split, args.limit)
        lines = read_articles(rows, corpus_dir)
        fired, pack_rules, model = run_engine(lines, args.rules, corpus_dir, tagger_fields)
    except (LabelError, FileNotFoundError, RulePackError) as err:
        print(f"alert_eval: {err}", file=sys.stderr)
        return 2
    unknown = sorted({r.rule_id for r in rows} - pack_rules)
    if unknown:
        print(f"alert_eval: the rule pack has no rule {', '.join(unknown)}", file=sys.stderr)
        return 2
    print(
        f"split {args.split}: {len(lines)} articles, {len(rows)} labels; rules {args.rules or 'default pack'}; "
        f"model {Path(model).name}; {time.perf_counter() - started:.1f} s\n"
    )
    report(score(rows, fired))
    return 0


if __name__ == "__main__":
    sys.exit(main())
