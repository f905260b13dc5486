"""A feed run without the internet: the recorded Global Voices site served on 127.0.0.1, polled by the real driver.

    python -m pipelines.feeds_demo [--output output_feeds] [--port 8765] [--site ../shared/corpus/feeds/sites]

Serves the site folder (its feed's item links are written `<BASE_WEBSITE_URL/>gv/index_N.html`; the
placeholder becomes this server's address), writes a one-line feed list, and runs
`python -m pipelines.news_pipeline --feeds <list> --output <output>` against it with a short per-host gap.
Run it twice: the second poll finds the same feed (the same body hash) and fetches nothing. The real-world
command is in the README.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from runtime.runner import exit_process

PLACEHOLDER = b"<BASE_WEBSITE_URL/>"
DEFAULT_SITE = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "feeds" / "sites"


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the site folder, the placeholder replaced; robots.txt allows everything (a 404 means no rules)."""

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            return self.send_error(404)
        body = path.read_bytes().replace(PLACEHOLDER, self.server.base.encode())
        self.send_response(200)
        kind = "application/rss+xml" if path.suffix == ".rss" else "text/html; charset=utf-8"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="output_feeds")
    parser.add_argument("--port", type=int, default=8765, help="Fixed, so a second run polls the same feed URL.")
    parser.add_argument("--site", default=str(DEFAULT_SITE), help="The recorded sites folder (with gv/test.rss).")
    args = parser.parse_args(argv)
    if not (Path(args.site) / "gv" / "test.rss").is_file():
        print(f"feeds_demo: no gv/test.rss under {args.site} (the shared corpus, ../shared)", file=sys.stderr)
        return 2
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", args.port), functools.partial(_SiteHandler, directory=str(Path(args.site).resolve()))
    )
    server.base = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="newsbeam-feeds-") as scratch:
            feeds = Path(scratch) / "feeds.txt"
            feeds.write_text(f"{server.base}gv/test.rss\n")
            command = [sys.executable, "-m", "pipelines.news_pipeline", "--feeds", str(feeds), "--output", args.output]
            return subprocess.run([*command, "--min_host_gap_s", "0.2"], check=False).returncode
    finally:
        server.shutdown()


if __name__ == "__main__":
    exit_process(main())
