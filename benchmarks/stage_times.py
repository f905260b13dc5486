"""Where a batch run's wall time goes, stage by stage: the local FnApiRunner runs its fused stages one after another.

    python -m benchmarks.stage_times --input ../shared/corpus/bbc_news.jsonl --output /tmp/stages [pipeline flags]

Runs the batch driver as a user does, with the runner's own bundle log on, and prints each fused
stage's wall time (until the next stage starts), longest first, with the run's total. A stage that
holds one key (the story stage) or runs in the driver shows here as time one core spends while the
other idles; py-spy shows what the code inside a stage does (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import logging
import sys
import time

from pipelines import news_pipeline

_BUNDLE_LOGGER = "apache_beam.runners.portability.fn_api_runner.fn_runner.run_bundle"
_PREFIX = "Running bundle for stage "


class _StageClock(logging.Handler):
    """Records (monotonic time, stage name) for each bundle the runner starts."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.starts: list[tuple[float, str]] = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith(_PREFIX):
            self.starts.append((time.monotonic(), message[len(_PREFIX) :].split("\n")[0]))


def stage_times(starts: list[tuple[float, str]], ended: float) -> dict[str, float]:
    """Seconds per stage name, each stage lasting until the next one starts (the last until `ended`), summed over
    bundles."""
    totals: dict[str, float] = {}
    for (at, name), (later, _) in zip(starts, starts[1:] + [(ended, "")]):
        totals[name] = totals.get(name, 0.0) + later - at
    return totals


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    clock = _StageClock()
    logger = logging.getLogger(_BUNDLE_LOGGER)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(clock)
    logger.propagate = False
    started = time.monotonic()
    code = news_pipeline.run(argv)  # its logging set-up leaves this logger's own level and handler alone
    ended = time.monotonic()
    totals = stage_times(clock.starts, ended)
    print(
        f"\n{ended - started:.1f}s in all; before the first stage "
        f"{clock.starts[0][0] - started if clock.starts else 0:.1f}s; stages, longest first:"
    )
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1])[:15]:
        print(f"{seconds:7.1f}s  {name[:150]}")
    return code


if __name__ == "__main__":
    sys.exit(main())
