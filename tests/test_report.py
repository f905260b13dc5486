"""The report page: built from the sample run's Parquet, self-contained, and checked in a real browser.

The browser test drives Debian's Chromium (`apt-get install chromium`, done by `make test`)
headless through Playwright. Without a Chromium it skips and says why; it never passes silently.
Its screenshot is saved to test-artifacts/report.png.
"""

import itertools
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reporting.browser import chromium_path, open_page
from reporting.kit import connect, one
from reporting.report import build_report, mark_text
from tests.conftest import ROOT, run_driver, seed_path
from transforms.parse import FLAG_URL_DROPPED

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def report(sample_output, tmp_path_factory) -> Path:
    html = tmp_path_factory.mktemp("report") / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.report", "--output", str(sample_output), "--html", str(html)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return html


@pytest.fixture(scope="module")
def seed_ids(sample_output) -> dict:
    """The seed 004 article, its story and how many story alerts each rule has, from the tables."""
    con = connect(sample_output)
    name = seed_path("004").name
    article_id, story_id = one(con, "SELECT article_id, story_id FROM articles WHERE input_uri LIKE ?", [f"%{name}"])
    per_rule = dict(con.execute("SELECT rule_id, count(*) FROM current_story_alerts GROUP BY rule_id").fetchall())
    return {"article_id": article_id, "story_id": story_id, "per_rule": per_rule}


def test_mark_text_escapes_and_marks_spans():
    body = "Putin <b>will</b> visit Pyongyang on June 18."
    ev = (body.index("Putin"), body.index(" on"))
    mentions = [
        {"entity_id": "Q7747", "canonical_name": "Vladimir Putin", "type": "PERSON", "start_char": 0, "end_char": 5},
        {
            "entity_id": "Q18808",
            "canonical_name": "Pyongyang",
            "type": "GPE",
            "start_char": body.index("Pyongyang"),
            "end_char": body.index(" on"),
        },
    ]
    html = str(mark_text(body, ev, mentions))
    assert "&lt;b&gt;will&lt;/b&gt;" in html and "<b>" not in html
    marked = "".join(re.findall(r'<mark class="evidence">(.*?)</mark>', html))
    assert re.sub(r"<[^>]+>", "", marked) == "Putin &lt;b&gt;will&lt;/b&gt; visit Pyongyang"
    assert html.count('data-entity="Q7747"') == 1 and html.endswith(" on June 18.")


def test_mark_text_cuts_a_mention_that_straddles_the_evidence_edge():
    body = "The Kim Il Sung Square parade."
    html = str(
        mark_text(
            body,
            (0, 8),
            [
                {
                    "entity_id": "Q1",
                    "canonical_name": "Kim Il Sung Square",
                    "type": "FAC",
                    "start_char": 4,
                    "end_char": 22,
                }
            ],
        )
    )
    assert html.count('data-entity="Q1"') == 2  # both halves stay marked as the entity
    assert re.sub(r"<[^>]+>", "", html) == body


class _Resources(HTMLParser):
    """Everything a page would fetch: script src, stylesheets and other links, images, frames."""

    def __init__(self):
        super().__init__()
        self.fetched = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio") and a.get("src"):
            self.fetched.append(a["src"])
        if tag == "link" and a.get("href"):
            self.fetched.append(a["href"])


def test_the_report_is_self_contained_and_deterministic(sample_output, report):
    html = report.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(html)
    assert parser.fetched == [], "nothing is loaded from elsewhere"
    assert "@import" not in html and "url(http" not in html
    assert "Plotly.newPlot" in html and len(html) > 1_000_000, "plotly.js is embedded"
    assert build_report(sample_output) == html, "the same tables give the same page"


def test_report_of_a_folder_that_is_not_an_output_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.report", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "not a newsbeam output folder" in proc.stderr


def test_the_report_in_chromium(report, seed_ids):
    path, why = chromium_path()
    if path is None:
        pytest.skip(f"browser test skipped: {why}")
    ARTIFACTS.mkdir(exist_ok=True)
    with open_page(report) as (page, errors):
        page.screenshot(path=str(ARTIFACTS / "report.png"))

        # the seeds' story is listed with its summit alert, at its latest status
        row = page.locator(f'#story-alert-table tr[data-story="{seed_ids["story_id"]}"][data-rule="summit_announced"]')
        assert row.count() == 1 and row.is_visible()
        assert row.get_attribute("data-status") == "scheduled"
        assert "Kim Jong Un" in row.inner_text() and "2024-06-18 – 2024-06-19" in row.inner_text()

        # filtering by rule
        visible = page.locator("#story-alert-table tbody tr:visible")
        assert visible.count() == sum(seed_ids["per_rule"].values())
        page.select_option("#rule-filter", "protest")
        assert visible.count() == seed_ids["per_rule"]["protest"] >= 1
        assert all(visible.nth(i).get_attribute("data-rule") == "protest" for i in range(visible.count()))
        assert not row.is_visible()
        page.select_option("#rule-filter", "summit_announced")
        assert visible.count() == seed_ids["per_rule"]["summit_announced"] and row.is_visible()
        page.fill("#text-filter", "no such story anywhere")
        assert visible.count() == 0 and "0 of" in page.inner_text("#row-count")
        page.fill("#text-filter", "")
        page.select_option("#rule-filter", "")

        # sorting by a number column puts the biggest story first
        page.click("#story-alert-table th:has-text('Articles')")
        page.click("#story-alert-table th:has-text('Articles')")
        counts = [int(visible.nth(i).locator("td").nth(6).inner_text()) for i in range(visible.count())]
        assert counts == sorted(counts, reverse=True)

        # seed 004's evidence, highlighted in its article, reached from the story table
        card = page.locator(f'details.card[data-article="{seed_ids["article_id"]}"][data-rule="summit_announced"]')
        assert card.count() == 1
        row.locator("a.evidence-link").click()
        assert card.evaluate("d => d.open")
        mark = card.locator("mark.evidence")
        text = " ".join(mark.all_inner_texts())
        assert "scheduled for June 18–19" in text, text
        assert mark.first.is_visible()
        assert card.locator(".body .ent[data-entity='Q7747']").count() >= 1, "Putin is marked as an entity"

        # both charts drew
        assert page.locator("#alert-timeline .scatterlayer .point").count() >= 19
        assert page.locator("#top-entities .barlayer .point").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "report-evidence.png"))
    assert errors == [], errors


# --- links: only http(s) urls become an href --------------------------------------------------

EVIL_URL = "javascript:alert(document.domain)"
GOOD_URL = "https://www.good.example/2024/06/12/putin-poised"
EVIL_TITLE = '<a href="javascript:alert(2)">evil</a>'  # must stay text: the template escapes


def _all_hrefs(page) -> list[str]:
    """Every href and xlink:href in the DOM, on any element (SVG links included)."""
    return page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(
        e => [...e.attributes].filter(a => a.localName === 'href').map(a => a.value))""")


class _Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [v for k, v in attrs if k in ("href", "xlink:href")]


@pytest.fixture(scope="module")
def url_run(tmp_path_factory) -> Path:
    """A run over two JSON articles that both fire summit_announced: one with a javascript: url, one with an https
    url."""
    inputs = tmp_path_factory.mktemp("url_inputs")
    for name, seed, url, title, published in (
        ("evil", "004", EVIL_URL, EVIL_TITLE, "2024-06-17"),
        ("good", "003", GOOD_URL, "Putin poised to visit", "2024-06-12"),
    ):
        article = {
            "title": title,
            "text": seed_path(seed).read_text(encoding="utf-8"),
            "published_at": published,
            "url": url,
        }
        (inputs / f"{name}.json").write_text(json.dumps(article), encoding="utf-8")
    out = tmp_path_factory.mktemp("url_output")
    run_driver("--input", str(inputs), "--output", str(out))
    return out


def test_a_javascript_url_is_dropped_and_flagged_and_never_linked(url_run, tmp_path):
    con = connect(url_run)
    rows = con.execute("""
        SELECT r.article_id, r.url, r.quality_flags, list_sort(list(a.rule_id)) FROM articles AS r
        JOIN alerts AS a USING (article_id) GROUP BY ALL ORDER BY r.url NULLS FIRST""").fetchall()
    assert [(url, flags) for _, url, flags, _ in rows] == [(None, [FLAG_URL_DROPPED]), (GOOD_URL, [])]
    assert all("summit_announced" in rules for *_, rules in rows), "both articles have an evidence card"
    (evil_id, *_, evil_rules), (good_id, *_) = rows
    assert one(con, "SELECT count(*) FROM alerts WHERE url LIKE '%javascript%'")[0] == 0

    html = build_report(url_run)
    parser = _Hrefs()
    parser.feed(html)
    assert GOOD_URL in parser.hrefs and not [h for h in parser.hrefs if "javascript" in h.lower()]
    report = tmp_path / "report.html"
    report.write_text(html, encoding="utf-8")
    path, why = chromium_path()
    if path is None:
        pytest.skip(f"browser part skipped: {why}")
    with open_page(report) as (page, errors):
        hrefs = _all_hrefs(page)
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        assert links and set(links) <= set(hrefs)
        assert not [h for h in hrefs if not h.startswith(("#", "https://", "http://"))], hrefs
        assert GOOD_URL in links and not [h for h in links if "javascript" in h.lower()], links
        evil_cards = page.locator(f'details.card[data-article="{evil_id}"]')
        assert evil_cards.count() == len(evil_rules) and evil_cards.locator("a").count() == 0
        assert EVIL_TITLE in evil_cards.first.locator("summary").inner_text(), "the injected title is shown as text"
        good_link = page.locator(f'details.card[data-article="{good_id}"][data-rule="summit_announced"] a[href]')
        assert good_link.count() == 1 and good_link.text_content() == "original"
        assert good_link.get_attribute("href") == GOOD_URL
    assert errors == [], errors


def test_the_report_links_only_http_urls_even_from_tables_written_before_the_check(url_run, tmp_path):
    """Tables from an older run may hold any url: the report checks again before it makes a link."""
    forged = tmp_path / "forged"
    shutil.copytree(url_run, forged)
    bad = itertools.cycle([" JaVaScRiPt:alert(1)", "java\nscript:alert(1)", "data:text/html,<script>alert(1)</script>"])
    for part in sorted((forged / "articles").glob("dt=*/*.parquet")):
        table = pq.read_table(part)
        urls = pa.array([next(bad) for _ in range(table.num_rows)], pa.string())
        pq.write_table(table.set_column(table.schema.get_field_index("url"), "url", urls), part)
    parser = _Hrefs()
    parser.feed(build_report(forged))
    assert parser.hrefs and all(h.startswith("#alert-") for h in parser.hrefs), parser.hrefs
