"""Story clustering quality: are stories events, at any text length, and do they stay apart from topics?

    python -m benchmarks.cluster_eval                      # all of the below
    python -m benchmarks.cluster_eval bbc                  # BBC, 2,089 articles at one time: category-mixed stories
    python -m benchmarks.cluster_eval headlines [--split dev|heldout|both]   # the labelled headline set
    python -m benchmarks.cluster_eval wikiref              # WikiRef220 against its topic labels (report only)
    python -m benchmarks.cluster_eval seeds                # the five seed reports: one story of five
    python -m benchmarks.cluster_eval labels --labels FILE [--label_field topic]   # any labelled JSONL

By default each data set runs through the real batch pipeline (`pipelines.news_pipeline.run`) into a temporary
folder, and its `story_id`s are scored: an exact duplicate takes the story of the article it copies.

`--replay DIR` is for tuning: the pipeline runs once per data set into DIR (kept, reused by later calls), and each
call then reruns only the story code, `features_of`, `StoryClusterer.add` in the story stage's order and `merge_open`
(published_at, article_id), on the pipeline's own articles and entities (its `articles` table). The pipeline
splits large inputs into chunks that hand the story state on, so a replay of BBC can differ slightly from a full run.

The headline set (`benchmarks/data/headline_events.jsonl`, see its `.md`) runs each split as its own stream in feed
time, twice: the headline alone as the article's text, and the headline as title with the feed's summary as text.
Scores: pairwise precision, recall and F1 over same-event pairs, and BCubed.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import itertools
import json
import re
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
HEADLINES = ROOT / "benchmarks" / "data" / "headline_events.jsonl"
SEEDS = ROOT / "sample_data" / "seeds"


def pairwise(labels: list[str], clusters: list[str]) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(labels)), 2):
        same, together = labels[i] == labels[j], clusters[i] == clusters[j]
        tp += same and together
        fp += together and not same
        fn += same and not together
    return _prf(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)


def bcubed(labels: list[str], clusters: list[str]) -> tuple[float, float, float]:
    by_cluster, by_label, both = Counter(clusters), Counter(labels), Counter(zip(labels, clusters))
    n = len(labels)
    precision = sum(both[(label, c)] / by_cluster[c] for label, c in zip(labels, clusters)) / n
    recall = sum(both[(label, c)] / by_label[label] for label, c in zip(labels, clusters)) / n
    return _prf(precision, recall)


def _prf(p: float, r: float) -> tuple[float, float, float]:
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def mixing(categories: list[str], clusters: list[str]) -> tuple[float, int, int]:
    """(share of articles in stories that hold more than one category, largest story, stories)."""
    cats: dict[str, set[str]] = defaultdict(set)
    for cat, c in zip(categories, clusters):
        cats[c].add(cat)
    sizes = Counter(clusters)
    mixed = sum(n for c, n in sizes.items() if len(cats[c]) > 1)
    return mixed / len(clusters), max(sizes.values()), len(sizes)


# --- running the pipeline, or replaying its story stage ------------------------------------------


def _pipeline_output(input_path: Path, out: Path, pipeline_args: list[str]) -> Path:
    from pipelines.news_pipeline import run

    if not (out / "articles").exists():
        code = run(["--input", str(input_path), "--output", str(out), *pipeline_args])
        if code != 0:
            raise SystemExit(f"the pipeline failed on {input_path} with exit code {code}")
    return out


ARTICLE_LINES: set[int] = set()  # the input lines of the last story_of_lines call that are articles, not duplicates
_CONFIG: dict = {}  # StoryConfig fields to override in a replay (--config KEY=VALUE)


def _replayed_stories(out: Path) -> dict[str, str]:
    """article_id -> story_id from the story stage's code rerun on the pipeline's articles (see the docstring)."""
    import pyarrow.parquet as pq

    from transforms.stories import ArticleText, StoryClusterer, StoryConfig, features_of, load_stopwords

    columns = ["article_id", "published_at", "source", "title", "body", "entities"]
    rows = pq.read_table(out / "articles", columns=columns).to_pylist()
    stopwords = load_stopwords()
    feats = [
        features_of(
            ArticleText(r["article_id"], r["published_at"], r["source"], r["title"], r["body"]),
            [e["entity_id"] for e in r["entities"] or []],
            stopwords,
        )
        for r in rows
    ]
    clusterer = StoryClusterer(StoryConfig(**_CONFIG))
    stories = {
        f.article_id: clusterer.add(f).story_id for f in sorted(feats, key=lambda f: (f.published_at, f.article_id))
    }
    joined = clusterer.merge_open()  # as the stage does at the end of a run
    return {article_id: joined.get(sid, sid) for article_id, sid in stories.items()}


def story_of_lines(input_path: Path, work: Optional[Path], pipeline_args: list[str]) -> dict[int, str]:
    """Input line (1-based) -> story_id, from the pipeline's output (or, with `work`, a replay of its story stage).

    The lines of exact duplicates are there too, with their original's story; `ARTICLE_LINES` then holds the lines
    that are articles of their own."""
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        if work is None:
            out = _pipeline_output(input_path, Path(tmp) / "out", pipeline_args)
        else:
            digest = hashlib.sha256(input_path.read_bytes() + repr(pipeline_args).encode()).hexdigest()[:16]
            out = _pipeline_output(input_path, work / f"{input_path.stem}-{digest}", pipeline_args)
        articles = pq.read_table(out / "articles", columns=["article_id", "input_line", "story_id"]).to_pylist()
        story_of_article = (
            _replayed_stories(out) if work is not None else {a["article_id"]: a["story_id"] for a in articles}
        )
        story_of_line = {a["input_line"]: story_of_article[a["article_id"]] for a in articles}
        ARTICLE_LINES.clear()
        ARTICLE_LINES.update(story_of_line)
        if (out / "duplicates").exists():
            for d in pq.read_table(out / "duplicates", columns=["input_line", "duplicate_of"]).to_pylist():
                story_of_line[d["input_line"]] = story_of_article[d["duplicate_of"]]
    return story_of_line


def _scored(name: str, truth: list[str], predicted: list[str]) -> dict:
    pw, b3 = pairwise(truth, predicted), bcubed(truth, predicted)
    print(
        f"{name:34} {len(truth):5} items {len(set(truth)):4} labels {len(set(predicted)):4} stories   "
        f"pairwise P={pw[0]:.3f} R={pw[1]:.3f} F1={pw[2]:.3f}   BCubed P={b3[0]:.3f} R={b3[1]:.3f} F1={b3[2]:.3f}"
    )
    return {"pairwise": pw, "bcubed": b3}


# --- the data sets -------------------------------------------------------------------------------


def eval_labels(path: Path, field: str, work, pipeline_args, name: Optional[str] = None) -> dict:
    labels = {
        i + 1: json.loads(line)[field]
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines())
        if line.strip()
    }
    story = story_of_lines(path, work, pipeline_args)
    lines = sorted(set(labels) & set(story))
    return _scored(name or str(path), [labels[i] for i in lines], [story[i] for i in lines])


def eval_bbc(work, pipeline_args) -> dict:
    path = CORPUS / "bbc_news.jsonl"
    cats = {i + 1: json.loads(line)["category"] for i, line in enumerate(path.read_text().splitlines())}
    story = story_of_lines(path, work, pipeline_args)
    by_article = sorted(ARTICLE_LINES)  # one line per article: the file repeats 136 articles word for word
    share, largest, stories = mixing([cats[i] for i in by_article], [story[i] for i in by_article])
    print(
        f"{'BBC (one time, ' + str(len(by_article)) + ' articles)':34} {stories:5} stories, largest {largest:4}, "
        f"{100 * share:.1f}% of articles in category-mixed stories"
    )
    return {"mixed_share": share, "largest": largest, "stories": stories}


def _feed_text(text: Optional[str]) -> str:
    """A feed's title or description as plain text: tags dropped, entities decoded, white space folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text or "")).split())


def load_headlines(path: Path = HEADLINES, feeds: Path = CORPUS / "feeds" / "news") -> list[dict]:
    """The label rows with each item's title, summary and date read from its feed in ../shared (the labels hold
    no feed text: they point to the item by feed, guid and link, and check it by hash)."""
    from transforms.feeds.parse import parse_feed

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = {}
    for name in sorted({r["feed"] for r in rows}):
        if not (feeds / name).exists():
            raise FileNotFoundError(f"{feeds / name} is absent: the shared corpus lives beside the repo")
        for item in parse_feed((feeds / name).read_bytes()).items:
            items.setdefault((name, item.guid, item.link), item)
    out = []
    for r in rows:
        item = items.get((r["feed"], r["guid"], r["link"]))
        if item is None:
            raise ValueError(f"{r['feed']}: no item with guid {r['guid']!r}")
        title, summary = _feed_text(item.title), _feed_text(item.summary)
        if hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest() != r["text_sha256"]:
            raise ValueError(f"{r['feed']}: the item {r['guid']!r} no longer has the labelled text")
        published = item.published_at.isoformat() if item.published_at else None
        out.append({**r, "title": title, "summary": summary, "published_at": published})
    return out


def headline_inputs(rows: list[dict], mode: str, tmp: Path) -> Path:
    """The rows as pipeline input: the headline alone as the text, or the headline as title and the summary as text."""
    path = tmp / f"headlines-{mode}-{rows[0]['split']}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            text = r["title"] if mode == "headline" else r["summary"]
            record = {
                "title": r["title"],
                "text": text,
                "published_at": r["published_at"],
                "url": r["link"],
                "source": r["feed"].rsplit(".", 1)[0],
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def eval_headlines(splits: list[str], work, pipeline_args) -> dict:
    rows = load_headlines()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("headline", "headline+summary"):
            for split in splits:
                part = [r for r in rows if r["split"] == split]
                path = headline_inputs(part, mode, Path(tmp))
                story = story_of_lines(path, work, pipeline_args)
                lines = sorted(story)
                results[(mode, split)] = _scored(
                    f"headlines {mode} {split}", [part[i - 1]["event"] for i in lines], [story[i] for i in lines]
                )
    return results


def eval_seeds(work, pipeline_args) -> int:
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "seeds"
        shutil.copytree(SEEDS, folder)
        if work is None:
            import pyarrow.parquet as pq

            out = _pipeline_output(folder, Path(tmp) / "out", pipeline_args)
            stories = set(pq.read_table(out / "articles", columns=["story_id"])["story_id"].to_pylist())
        else:
            out = _pipeline_output(folder, work / "seeds", pipeline_args)
            stories = set(_replayed_stories(out).values())
    print(f"{'seeds (5 reports of one event)':34} {len(stories)} stor{'y' if len(stories) == 1 else 'ies'}")
    return len(stories)


def _config_item(item: str) -> tuple:
    """KEY=VALUE as a StoryConfig field and a value of that field's type."""
    from transforms.stories import StoryConfig

    key, value = item.split("=", 1)
    default = getattr(StoryConfig(), key)  # an unknown field is an AttributeError, not a silent no-op
    return key, type(default)(value)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "what", nargs="?", default="all", choices=["all", "bbc", "headlines", "wikiref", "seeds", "labels"]
    )
    parser.add_argument("--labels", type=Path, help="labels: a JSONL file, one article a line")
    parser.add_argument("--label_field", default="topic")
    parser.add_argument("--split", default="both", choices=["dev", "heldout", "both"])
    parser.add_argument("--replay", type=Path, help="keep pipeline outputs here and rerun only the story stage's code")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --replay: a StoryConfig field for the replayed story code (threshold=0.3, core_size=4, ...)",
    )
    args, pipeline_args = parser.parse_known_args(argv)
    _CONFIG.update(_config_item(item) for item in args.config)
    if args.labels is not None and args.what == "all":
        args.what = "labels"  # the old form: --labels FILE alone
    work = args.replay
    if work is not None:
        work.mkdir(parents=True, exist_ok=True)
    splits = ["dev", "heldout"] if args.split == "both" else [args.split]
    if args.what == "labels":
        if args.labels is None:
            parser.error("labels needs --labels FILE")
        eval_labels(args.labels, args.label_field, work, pipeline_args)
        return
    if args.what in ("all", "bbc"):
        eval_bbc(work, pipeline_args)
    if args.what in ("all", "headlines"):
        eval_headlines(splits, work, pipeline_args)
    if args.what in ("all", "wikiref"):
        eval_labels(CORPUS / "wikiref220.jsonl", "topic", work, pipeline_args, name="WikiRef220 (topics)")
    if args.what in ("all", "seeds"):
        eval_seeds(work, pipeline_args)


if __name__ == "__main__":
    main()
