"""Story clustering quality: pairwise and BCubed precision, recall and F1 of story_id against labels.

    python -m benchmarks.cluster_eval --labels ../shared/corpus/wikiref220.jsonl [--label_field topic]

Runs the real batch pipeline on the labelled JSONL (one article per line) into a temporary folder,
then compares each input line's story_id (an exact duplicate takes the story of the article it
copies) with its label. WikiRef220 has no dates, so only text and entities can group its articles.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from collections import Counter
from pathlib import Path


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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", required=True, type=Path)
    parser.add_argument("--label_field", default="topic")
    parser.add_argument("--output", help="Keep the pipeline's output here (default: a temporary folder).")
    args, pipeline_args = parser.parse_known_args(argv)

    import pyarrow.parquet as pq

    from pipelines.news_pipeline import run

    labels = {
        i + 1: json.loads(line)[args.label_field]
        for i, line in enumerate(args.labels.read_text(encoding="utf-8").splitlines())
        if line.strip()
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.output or tmp)
        code = run(["--input", str(args.labels), "--output", str(out), *pipeline_args])
        if code != 0:
            raise SystemExit(f"the pipeline failed with exit code {code}")
        articles = pq.read_table(out / "articles", columns=["article_id", "input_line", "story_id"]).to_pylist()
        story_of_article = {a["article_id"]: a["story_id"] for a in articles}
        story_of_line = {a["input_line"]: a["story_id"] for a in articles}
        if (out / "duplicates").exists():
            for d in pq.read_table(out / "duplicates", columns=["input_line", "duplicate_of"]).to_pylist():
                story_of_line[d["input_line"]] = story_of_article[d["duplicate_of"]]
    lines = sorted(set(labels) & set(story_of_line))
    truth, predicted = [labels[i] for i in lines], [story_of_line[i] for i in lines]
    print(f"{args.labels}: {len(lines)} labelled articles, {len(set(truth))} labels, {len(set(predicted))} stories")
    for name, (p, r, f) in (("pairwise", pairwise(truth, predicted)), ("BCubed", bcubed(truth, predicted))):
        print(f"{name:9} P={p:.3f} R={r:.3f} F1={f:.3f}")


if __name__ == "__main__":
    main()
