"""The feed session (what is due, what a committed poll changes, the manifest section) and the item fallback.

No Beam pipeline and no server: the pure parts of the wiring, quick. The driver-level runs are in
test_feeds_pipeline.py.
"""

import datetime as dt

from transforms.dates import parse_timestamp
from transforms.feeds.fetch import FetchError, FetchResult, Validators
from transforms.feeds.items import apply_item, summary_article, summary_text
from transforms.feeds.parse import FeedItem, FeedSource
from transforms.feeds.policy import HostState
from transforms.feeds.schedule import ScheduleRules
from transforms.feeds.session import FeedSession, FeedSettings
from transforms.feeds.state import STORE_NAME
from transforms.feeds.steps import PollOutcome, _validators_after, latest
from transforms.parsers import ParsedArticle

A, B = "https://a.example/feed", "https://b.example/rss"
FIXED = ScheduleRules(default_interval=60.0, min_interval=60.0, max_interval=60.0)
NOW = 1_800_000_000.0


def _session(tmp_path) -> FeedSession:
    return FeedSession(FeedSettings((FeedSource(url=A), FeedSource(url=B)), schedule=FIXED), str(tmp_path))


def test_new_feeds_are_due_and_a_committed_poll_schedules_marks_and_saves(tmp_path):
    session = _session(tmp_path)
    assert [p.source.url for p in session.due(NOW)] == [A, B] and session.next_poll() == 0.0
    ok = PollOutcome(url=A, status=200, validators=Validators(etag='"1"'), items=3, new_keys=(("guid a 1",),))
    failed = PollOutcome(url=B, status=503, error="http_5xx", retry_after=600.0)
    assert not (tmp_path / STORE_NAME).exists()  # nothing is saved before the commit
    line = session.committed([ok, failed], {"a.example": HostState(last_start=NOW)}, NOW)
    assert line == {"feeds_polled": 2, "feed_items_new": 1, "feed_errors": 1}
    assert session.due(NOW + 59) == [] and [p.source.url for p in session.due(NOW + 60)] == [A]
    assert session.hosts["a.example"].last_start == NOW

    restarted = _session(tmp_path)  # a restart reads the store: validators, schedules, seen keys
    (poll,) = restarted.due(NOW + 60)
    assert poll.validators.etag == '"1"' and restarted.store.is_seen(["guid a 1"])
    section = restarted.manifest()
    assert section[A]["polls"] == 1 and section[A]["new_items"] == 1 and section[A]["last_status"] == "ok"
    assert (
        section[B]["errors"] == 1 and section[B]["last_status"] == "http_5xx" and section[B]["last_http_status"] == 503
    )
    assert section[B]["next_poll"] >= dt.datetime.fromtimestamp(NOW + 600, dt.timezone.utc).isoformat()[:19]
    assert [p.source.url for p in restarted.due(NOW, everything=True)] == [A, B]  # a batch run polls them all


def test_a_failed_run_backs_the_feeds_off_and_marks_nothing(tmp_path):
    session = _session(tmp_path)
    line = session.failed(session.due(NOW), "RuntimeError: boom", NOW)
    assert line["feed_errors"] == 2 and not session.store.seen
    assert session.due(NOW + 1) == [] and session.manifest()[A]["last_status"] == "run_failed"


def test_a_304_counts_as_unchanged_not_as_an_error(tmp_path):
    session = _session(tmp_path)
    session.committed([PollOutcome(url=A, status=304, unchanged=True)], {}, NOW)
    assert session.manifest()[A]["last_status"] == "unchanged" and session.manifest()[A]["errors"] == 0


def test_the_latest_host_state_is_the_one_that_started_last():
    assert latest([HostState(last_start=5.0), HostState(last_start=9.0), HostState()]).last_start == 9.0
    assert latest([]) == HostState()


ITEM = FeedItem(
    title="Brazil: Amplified conversations to fight the Digital Crimes bill",
    link="https://gv.example/2009/06/11/brazil",
    author="Diego Casaes",
    summary="<p>First paragraph &amp; more.</p><p>Second <b>bold</b> one.</p>",
    published_at=dt.datetime(2009, 6, 11, 10, 57, tzinfo=dt.timezone.utc),
)


def test_the_item_fills_in_only_what_the_page_lacks():
    page = ParsedArticle(body="text", input_format="html", title="Global Voices Online", published="2009-06-11")
    apply_item(page, ITEM, ITEM.link, parse_timestamp)
    assert page.title == ITEM.title and page.byline == "Diego Casaes" and page.url == ITEM.link
    assert (page.published, page.published_from) == (ITEM.published_at.isoformat(), "feed")
    assert page.source == "gv.example"

    full = ParsedArticle(
        body="text",
        input_format="html",
        title="A page title that is much longer than the feed's own title for the story",
        byline="Page Author",
        url="https://gv.example/canonical",
        published="2009-06-11T09:00:00+00:00",
    )
    apply_item(full, ITEM, ITEM.link, parse_timestamp)
    assert full.title.startswith("A page title") and full.byline == "Page Author"
    assert full.url == "https://gv.example/canonical" and full.published == "2009-06-11T09:00:00+00:00"

    other_day = ParsedArticle(body="text", input_format="html", published="2009-05-01")
    apply_item(other_day, ITEM, ITEM.link, parse_timestamp)
    assert other_day.published == "2009-05-01" and other_day.published_from == "metadata"


def test_a_summary_becomes_plain_text_and_no_summary_no_article():
    assert summary_text(ITEM.summary) == "First paragraph & more.\n\nSecond bold one."
    article = summary_article(ITEM)
    assert article.input_format == "feed_summary" and article.published_from == "feed"
    assert article.title == ITEM.title and article.url == ITEM.link
    assert summary_article(ITEM.model_copy(update={"summary": "<img src='x'>"})) is None


def test_a_304_keeps_the_validators_it_does_not_repeat_and_a_failure_keeps_them_all():
    before = Validators(etag='"1"', last_modified="Thu, 11 Jun 2009 17:15:44 GMT", body_sha256="abc")
    not_modified = FetchResult(
        url=A, final_url=A, status=304, headers={"etag": '"1"'}, unchanged=True, body_sha256="abc"
    )
    assert _validators_after(before, not_modified) == before
    changed = FetchResult(url=A, final_url=A, status=200, headers={"etag": '"2"'}, body_sha256="def")
    assert _validators_after(before, changed) == Validators(etag='"2"', body_sha256="def")
    failed = FetchResult(url=A, final_url=A, status=500, error=FetchError.HTTP_5XX)
    assert _validators_after(before, failed) == before
