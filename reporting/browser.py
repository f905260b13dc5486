"""Open a report in Debian's Chromium, headless, through Playwright: for the browser test and the README screenshot.

    python -m reporting.browser output/report.html docs/report.png

Playwright drives the system browser (`/usr/bin/chromium`, from `apt-get install chromium`);
it never downloads one. `chromium_path()` says why when there is none.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Iterator, Optional

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
LAUNCH_ARGS = [
    "--no-sandbox",  # CI containers run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> tuple[Optional[str], str]:
    """(path, "") when a system Chromium is there, else (None, why not)."""
    wanted = os.environ.get("NEWSBEAM_CHROMIUM")
    for path in ([wanted] if wanted else []) + list(CHROMIUM_CANDIDATES):
        if path and os.access(path, os.X_OK):
            return path, ""
    found = shutil.which("chromium")
    if found:
        return found, ""
    return None, (
        "no Chromium at " + ", ".join(CHROMIUM_CANDIDATES) + " (install Debian's: `sudo apt-get install -y chromium`, "
        "or `make browser`; or set NEWSBEAM_CHROMIUM to a Chromium binary)"
    )


@contextlib.contextmanager
def open_page(html_file: Path, width: int = 1360, height: int = 900) -> Iterator[tuple[object, list[str]]]:
    """A Playwright page showing `html_file`, and the list its console errors and page errors collect into."""
    from playwright.sync_api import sync_playwright

    path, why = chromium_path()
    if path is None:
        raise RuntimeError(why)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))

            def offline(route):  # the page must work offline: any network request is an error
                if route.request.url.startswith(("file:", "data:", "blob:", "about:")):
                    route.continue_()
                else:
                    errors.append(f"network request: {route.request.url}")
                    route.abort()

            page.route("**/*", offline)
            page.goto(Path(html_file).resolve().as_uri(), wait_until="load")
            page.wait_for_selector("#alert-timeline .main-svg")
            yield page, errors
        finally:
            browser.close()


def screenshot(html_file: Path, png: Path, full_page: bool = False) -> None:
    with open_page(html_file) as (page, errors):
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png), full_page=full_page)
        if errors:
            raise RuntimeError("the page reported errors: " + "; ".join(errors))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a newsbeam report with the system Chromium.")
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--full_page", action="store_true")
    args = parser.parse_args(argv)
    try:
        screenshot(args.html, args.png, args.full_page)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"screenshot: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
