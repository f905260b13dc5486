"""transforms.feeds state, schedule and policy: pure functions and a store in a temporary output folder."""

import datetime as dt
import json

from transforms.feeds import policy
from transforms.feeds.fetch import Validators
from transforms.feeds.parse import FeedItem
from transforms.feeds.policy import HostState, PolitenessRules
from transforms.feeds.schedule import (
    ScheduleRules,
    after_failure,
    after_success,
    new_schedule,
    stated_interval,
)
from transforms.feeds.state import STORE_NAME, FeedRecord, SeenStore, canonical_url, item_keys


def test_canonical_url_drops_tracking_and_fragment_and_keeps_the_rest():
    assert canonical_url("HTTPS://WWW.Example.COM:443/A/b?utm_source=rss&id=7&fbclid=x#top") == (
        "https://www.example.com/A/b?id=7"
    )
    assert canonical_url("http://a.org:8080/p?q=1&UTM_Medium=x&q=2&gclid=1") == "http://a.org:8080/p?q=1&q=2"
    assert canonical_url("https://x.org/story.html?fl") == "https://x.org/story.html?fl"  # kept as written
    assert canonical_url("http://x.org") == "http://x.org/"
    assert canonical_url("http://[::1") == "http://[::1"  # unreadable: unchanged, no exception


def test_item_keys_scope_guids_by_feed_and_urls_globally():
    item = FeedItem(guid="333483", link="https://x.org/a?utm_campaign=z")
    assert item_keys("https://x.org/feed", item) == ("guid https://x.org/feed 333483", "url https://x.org/a")
    assert item_keys("https://y.org/feed", FeedItem(link="https://X.org/a#c")) == ("url https://x.org/a",)


def test_the_seen_store_survives_a_restart_and_prunes_old_keys(tmp_path):
    today = dt.date(2026, 12, 2)
    store = SeenStore.in_folder(str(tmp_path))
    keys = item_keys("https://x.org/feed", FeedItem(guid="1", link="https://x.org/1"))
    assert not store.is_seen(keys)
    store.mark(keys, today)
    store.mark(["url https://x.org/old"], today - dt.timedelta(days=400))
    store.set_record("https://x.org/feed", FeedRecord(validators=Validators(etag='"e1"'), new_items=1))
    store.save(today)
    assert not list(tmp_path.glob("*.tmp"))  # written through atomic_write: no temporary left
    again = SeenStore.in_folder(str(tmp_path))
    assert again.is_seen(["url https://x.org/1"]) and again.is_seen(["guid https://x.org/feed 1"])
    assert not again.is_seen(["url https://x.org/old"])
    assert again.record("https://x.org/feed").validators.etag == '"e1"'
    assert json.loads((tmp_path / STORE_NAME).read_text())["version"] == 1


def test_schedule_starts_at_the_stated_period_and_adapts_within_bounds():
    rules = ScheduleRules(default_interval=3600, min_interval=600, max_interval=4 * 3600)
    assert stated_interval("hourly", 2) == 1800 and stated_interval("daily", None) == 86400
    assert stated_interval(None, None) is None and stated_interval("fortnightly", 1) is None
    schedule = new_schedule(rules, stated_interval("hourly", 1))
    assert schedule.interval == 3600 and schedule.next_poll == 0
    faster = after_success(schedule, 1000, new_items=20, total_items=25, rules=rules)
    assert faster.interval == 1800 and faster.next_poll == 2800
    for _ in range(10):
        faster = after_success(faster, 0, 25, 25, rules)
    assert faster.interval == 600  # never below the floor
    slower = schedule
    for _ in range(10):
        slower = after_success(slower, 0, 1, 25, rules)
    assert slower.interval == 4 * 3600  # never above the ceiling
    assert after_success(schedule, 0, 0, 0, rules).last_status == "unchanged"


def test_failures_back_off_linearly_honour_retry_after_and_never_disable_a_feed():
    rules = ScheduleRules(default_interval=3600, max_backoff=24 * 3600)
    schedule = new_schedule(rules)
    once = after_failure(schedule, 0, "timeout", rules=rules)
    assert once.next_poll == 2 * 3600 and once.failures == 1 and once.last_status == "timeout"
    assert after_failure(once, 0, "http_5xx", rules=rules).next_poll == 3 * 3600
    assert after_failure(schedule, 0, "http_5xx", retry_after=5 * 3600, rules=rules).next_poll == 5 * 3600
    for _ in range(1000):
        schedule = after_failure(schedule, 0, "connection", rules=rules)
    assert schedule.next_poll == 24 * 3600  # still polled, daily
    assert after_success(schedule, 0, 1, 1, rules).failures == 0


def test_the_host_policy_is_pure_gap_concurrency_crawl_delay_retry_after():
    rules = PolitenessRules(min_gap=5, max_concurrent=2, failure_backoff=60)
    state = HostState()
    assert policy.wait_time(state, 100, rules) == 0
    state = policy.started(state, 100)
    assert policy.wait_time(state, 101, rules) == 4  # 5 s between starts
    state = policy.started(state, 105)
    assert policy.wait_time(state, 111, rules) == policy.FULL_RECHECK  # two in flight: full
    state = policy.finished(state, 111, rules=rules)
    assert policy.wait_time(state, 111, rules) == 0
    slow = policy.with_crawl_delay(state, 20)
    assert policy.wait_time(slow, 111, rules) == 14  # Crawl-delay 20 s from the start at 105
    assert policy.wait_time(policy.with_crawl_delay(state, 10**6), 105, rules) == rules.max_crawl_delay
    told = policy.finished(state, 111, failed=True, retry_after=30, rules=rules)
    assert policy.wait_time(told, 111, rules) == 30 and told.failures == 1
    guessed = policy.finished(told, 141, failed=True, rules=rules)
    assert policy.wait_time(guessed, 141, rules) == 120  # second failure in a row: 2 x 60 s
    assert policy.finished(guessed, 300, rules=rules).failures == 0
    assert policy.host_key("https://WWW.X.org:8443/a") == "www.x.org:8443"
    assert HostState.model_validate_json(guessed.model_dump_json()) == guessed  # fits a Beam state cell
