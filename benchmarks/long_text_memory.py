"""Peak memory of one worker tagging one long article: the model, then a body of --bytes, in one process.

    python -m benchmarks.long_text_memory --bytes 2000000

Prints the process's peak RSS after loading the tagger and after tagging the body (read from
/proc/self/status VmHWM), the time taken, and how many mentions were found and how far into the
body the last one starts: the whole body is tagged, in pieces of TaggerConfig.piece_chars.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def long_body(seed: Path, target_bytes: int) -> str:
    """The paragraphs of a real article, numbered and repeated to `target_bytes` of UTF-8."""
    paragraphs = [p for p in seed.read_text().split("\n\n") if len(p) > 200]
    out, size, n = [], 0, 0
    while size < target_bytes:
        text = f"({n}) {paragraphs[n % len(paragraphs)]}"
        out.append(text)
        size += len(text.encode("utf-8")) + 2
        n += 1
    return "\n\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=2_000_000)
    parser.add_argument("--seed", default="sample_data/seeds/001_799f9b8c3eae584f.txt")
    args = parser.parse_args()
    from transforms.entities import EntityTagger, TaggerConfig

    tagger = EntityTagger(TaggerConfig())
    tagger.tag(["Warm-up: Vladimir Putin visited Pyongyang."])
    loaded = peak_rss_mib()
    body = long_body(Path(args.seed), args.bytes)
    clock = time.monotonic()
    (mentions,) = tagger.tag([body])
    seconds = time.monotonic() - clock
    last = max(m.start_char for m in mentions)
    print(f"body: {len(body.encode('utf-8')):,} bytes, {len(body):,} characters, {len(body.split()):,} words")
    print(f"peak RSS: {loaded:.0f} MiB with the tagger loaded, {peak_rss_mib():.0f} MiB after tagging the body")
    print(f"tagged in {seconds:.1f} s: {len(mentions):,} mentions, the last at character {last:,} of {len(body):,}")


if __name__ == "__main__":
    main()
