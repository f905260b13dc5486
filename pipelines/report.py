"""Write the analyst's report for a run: one self-contained HTML page, usable offline.

    python -m pipelines.news_pipeline --input sample_data --output output
    python -m pipelines.report --output output                  # -> output/report.html
    python -m pipelines.report --output output --html /tmp/r.html --max_alerts 500

Exit codes: 0 ok; 2 the output folder is not a newsbeam output or an argument is bad.
See reporting/report.py for what the page holds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reporting.report import ReportConfig, build_report
from transforms.files import atomic_write
from transforms.rules import RulePackError


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="output", help="The pipeline's output folder (default: output).")
    parser.add_argument("--html", help="Where to write the page (default: OUTPUT/report.html).")
    parser.add_argument(
        "--max_alerts", type=int, default=ReportConfig.max_alerts, help="Evidence cards to include, latest first."
    )
    parser.add_argument(
        "--rules", default=None, help="The rule pack the run used (its status levels' order and colours)."
    )
    args = parser.parse_args(argv)
    if args.max_alerts < 1:
        parser.error("--max_alerts must be at least 1")
    output = Path(args.output)
    target = Path(args.html) if args.html else output / "report.html"
    try:
        html = build_report(output, ReportConfig(max_alerts=args.max_alerts, rules_path=args.rules))
    except (FileNotFoundError, RulePackError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, html.encode("utf-8"))  # readers never see half a page
    print(f"report: {target} ({len(html.encode()) // 1024} KiB)")
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
