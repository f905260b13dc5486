"""PollFeeds: feeds in, the pages of their new items out as raw records, fetched politely, keyed by host.

    polls | PollFeeds(settings, store_path, rejected_at, staging)   -> {'records': RawInput, 'rejected': Rejected}

The source of a feed run, in place of ReadInputs (IngestArticles takes either). The steps:
- every feed is keyed by its host (`policy.host_key`) into `_FetchByHostFn`, a stateful DoFn whose keyed state
  holds the host's `HostState` (wall-clock epoch seconds): a runner sends all of a host's requests to one key,
  so the per-host gap and backoff hold across workers, which a process-local lock cannot promise. A request
  that must wait sleeps inside the bundle (processing-time timers drop buffered elements when bounded input
  ends on the local runners, see docs/feeds.md), but never longer than a request's deadline for a host's
  backoff (failures, Retry-After): such a request is not made (`host_backoff`). robots.txt is fetched through
  the same gate;
- each fetched feed is parsed, and its items not seen before (`state.unseen`, by guid and canonical URL, against
  the seen store in the output folder as the last commit saved it) become
  page requests, keyed by host into the same kind of step, which starts from the hosts' state after the feeds
  (a side input), so a page never follows its feed closer than the gap;
- each page becomes a `RawInput` carrying its feed item as a fallback (transforms/feeds/items.py); a page that
  could not be fetched is the item's summary when it has one (empty `data`), else a `rejected` row at stage
  `fetch` with the fetch error as `error_type`. Every new item counts as one record read: the manifest
  reconciles items against article, duplicate and rejected rows.
What each feed's poll returned (`PollOutcome`) and the hosts' final states are staged as one JSON file beside
the run's tables (`FEED_OUTCOMES`); the driver reads it before the commit and saves the seen store after it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Optional

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms import userstate
from apache_beam.transforms.util import ReshufflePerKey
from apache_beam.utils.windowed_value import WindowedValue
from pydantic import BaseModel, ConfigDict

from schemas import Rejected, Stage
from transforms import metrics
from transforms.feeds.client import HostGate, PoliteClient
from transforms.feeds.fetch import FEED_ACCEPT, FetchConfig, FetchError, FetchResult, Validators
from transforms.feeds.parse import FeedItem, FeedSource, parse_feed
from transforms.feeds.policy import HostState, PolitenessRules, host_key
from transforms.feeds.schedule import stated_interval
from transforms.feeds.state import SeenStore, item_keys, unseen
from transforms.read import RawInput

FEED_OUTCOMES = "_feeds.json"  # in the run's staging folder
KEPT_ERROR_BYTES = 64 * 1024  # of an error page's body, in its rejected row
_KEYED = beam.typehints.Tuple[str, beam.typehints.Any]  # the host is a str: a deterministic key coder
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


class FetchSettings(BaseModel):
    """How a feed run fetches: one request's bounds, the per-host rules, and the hosts' state so far."""

    model_config = ConfigDict(frozen=True)

    fetch: FetchConfig = FetchConfig()
    politeness: PolitenessRules = PolitenessRules()
    hosts: dict[str, HostState] = {}  # from earlier micro-batches of a stream: the gap holds across them
    threads: int = 16  # requests in flight at once per worker, over all hosts (each host within its own limits)


class FeedPoll(BaseModel):
    """One feed to poll now, with what its previous poll left for a conditional GET."""

    model_config = ConfigDict(frozen=True)

    source: FeedSource
    validators: Validators = Validators()


class PollOutcome(BaseModel):
    """What one poll of a feed gave: the driver's input for the feed's record, schedule and seen keys."""

    model_config = ConfigDict(frozen=True)

    url: str
    status: Optional[int] = None
    error: Optional[str] = None  # a FetchError value
    detail: str = ""
    unchanged: bool = False
    validators: Validators = Validators()
    items: int = 0
    new_keys: tuple[tuple[str, ...], ...] = ()  # each new item's keys, marked seen once the run is committed
    stated_interval: Optional[float] = None  # sy:updatePeriod / sy:updateFrequency, in seconds
    retry_after: Optional[float] = None
    bozo_reason: Optional[str] = None


class PageRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    feed_url: str
    item: FeedItem


def latest(states: Iterable[HostState]) -> HostState:
    """The most recent of several states of one host (the one whose last request started last)."""
    return max(states, key=lambda s: (s.last_start or 0.0, s.not_before), default=HostState())


class _FetchByHostFn(beam.DoFn):
    """(host, (url, validators, payload)) -> (payload, FetchResult), politely, the requests of a bundle in threads.

    The keyed state holds each host's `HostState` between bundles and workers, as this worker knew it when the
    element arrived: requests still queued or in flight in this bundle are not in it yet, so a next bundle of the key
    on another worker can come sooner than the gap after them (the `hosts` output, written when the bundle finishes,
    carries the whole state to the next poll and run). Within a bundle the requests run on
    a thread pool behind one `HostGate`, which holds every host to its gap and to `max_concurrent` requests at once
    while other hosts go ahead: a sleep for one host's gap does not hold the others. The results are emitted when
    the bundle finishes, with the timestamp and window of the element that asked for them.
    """

    HOSTS = "hosts"
    HOST = userstate.ReadModifyWriteStateSpec("host", PickleCoder())

    def __init__(self, settings: FetchSettings, accept: str):
        self._settings, self._accept = settings, accept

    def setup(self):
        gate = HostGate(self._settings.politeness, clock=time.time)  # epoch seconds: the state outlives a worker
        self._client = PoliteClient(self._settings.fetch, gate)
        self._pool = ThreadPoolExecutor(max_workers=self._settings.threads, thread_name_prefix="fetch")

    def start_bundle(self):
        self._pending = []

    def process(
        self,
        element,
        seeds,
        host_state=beam.DoFn.StateParam(HOST),
        timestamp=beam.DoFn.TimestampParam,
        window=beam.DoFn.WindowParam,
    ):
        host, (url, validators, payload) = element
        gate = self._client.gate
        gate.seed(host, host_state.read() or seeds.get(host) or HostState())
        future = self._pool.submit(self._fetch, host, url, validators)
        self._pending.append((host, payload, future, timestamp, window))
        # What this worker knows of the host now, for the next bundle of its key (requests still in flight here are not
        # the next bundle's: it starts with none in flight).
        host_state.write(gate.state(host).model_copy(update={"in_flight": 0}))

    def _fetch(self, host: str, url: str, validators: Optional[Validators]) -> FetchResult:
        state = self._client.gate.state(host)
        backoff = state.not_before - time.time()
        if backoff > self._settings.fetch.deadline:  # a sleep that long would hold the run (and a stream) hostage
            return _backing_off(url, host, backoff, state)
        return self._client.get(url, validators, self._accept)

    def finish_bundle(self):
        last = {}
        for host, payload, future, timestamp, window in self._pending:
            yield WindowedValue((payload, future.result()), timestamp, [window])
            last[host] = (timestamp, window)
        for host, (timestamp, window) in last.items():
            state = self._client.gate.state(host)
            yield beam.pvalue.TaggedOutput(self.HOSTS, WindowedValue((host, state), timestamp, [window]))
        self._pending = []

    def teardown(self):
        self._pool.shutdown(wait=False, cancel_futures=True)


def _backing_off(url: str, host: str, seconds: float, state: HostState) -> FetchResult:
    why = f"after {state.failures} failures in a row" if state.failures else "as its Retry-After asked"
    detail = f"{host} is not asked again for {seconds:.0f} s ({why}); no request was made"
    return FetchResult(url=url, final_url=url, error=FetchError.HOST_BACKOFF, detail=detail)


def _fetch_rejected(url: str, result: FetchResult, rejected_at: dt.datetime) -> Rejected:
    error = result.error or FetchError.CONNECTION
    status = f"HTTP {result.status}: " if result.status else ""
    return Rejected(
        input_uri=url,
        stage=Stage.FETCH,
        error_type=error.value,
        message=f"the page of a feed item could not be fetched and the item has no summary: {status}"
        f"{result.detail or error.value} ({url})",
        original_bytes=result.body[:KEPT_ERROR_BYTES],  # what an error page said (a 404's text), if anything
        original_size=len(result.body),
        original_truncated=len(result.body) > KEPT_ERROR_BYTES,
        rejected_at=rejected_at,
    )


def _validators_after(before: Validators, result: FetchResult) -> Validators:
    """What the next poll sends: the response's validators, the stored ones where a 304 repeats none (a failed
    poll keeps them all)."""
    if not (result.ok or result.unchanged):
        return before
    now = result.validators
    if not result.unchanged:
        return now
    return Validators(
        etag=now.etag or before.etag,
        last_modified=now.last_modified or before.last_modified,
        body_sha256=now.body_sha256 or before.body_sha256,
    )


class _ReadFeedFn(beam.DoFn):
    """(FeedPoll, FetchResult) -> a PageRequest per new item; the poll's PollOutcome on its own output."""

    POLLS = "polls"

    def __init__(self, store_path: str):
        self._store_path = store_path

    def setup(self):
        # The store as the last commit left it (the driver saves it only after a commit): read by the workers from the
        # output folder rather than shipped inside the pipeline, since it holds every key of the retention window.
        self._store = SeenStore(self._store_path)
        self._store.load()

    def process(self, element):
        poll, result = element
        outcome = PollOutcome(
            url=poll.source.url,
            status=result.status,
            error=result.error.value if result.error else None,
            detail=result.detail,
            unchanged=result.unchanged,
            validators=_validators_after(poll.validators, result),
            retry_after=result.retry_after,
        )
        if result.ok and not result.unchanged:
            feed = parse_feed(result.body, result.headers.get("content-type"), result.final_url, poll.source.zone)
            new = unseen(poll.source.url, feed.items, self._store)
            outcome = outcome.model_copy(
                update={
                    "items": len(feed.items),
                    "new_keys": tuple(item_keys(poll.source.url, item) for item in new),
                    "stated_interval": stated_interval(feed.update_period, feed.update_frequency),
                    "bozo_reason": feed.bozo_reason,
                }
            )
            for item in new:
                yield PageRequest(feed_url=poll.source.url, item=item)
        yield beam.pvalue.TaggedOutput(self.POLLS, outcome)


class _PageRecordFn(beam.DoFn):
    """(PageRequest, FetchResult | None) -> RawInput, or a rejected row at stage `fetch`; one record read each."""

    def __init__(self, rejected_at: dt.datetime):
        self._rejected_at = rejected_at

    def process(self, element):
        request, result = element
        item = request.item
        metrics.RECORDS_READ.inc()
        if result is not None and result.ok:
            yield RawInput(item.link, result.body, ".html", size=len(result.body), feed_item=item)
        elif item.summary:
            yield RawInput(item.link or request.feed_url, b"", ".html", feed_item=item)
        else:
            metrics.count_rejected(Stage.FETCH.value)
            result = result or FetchResult(
                url="", final_url="", error=FetchError.BAD_URL, detail="the item has no link"
            )
            row = _fetch_rejected(item.link or request.feed_url, result, self._rejected_at)
            yield beam.pvalue.TaggedOutput(PollFeeds.REJECTED, row)


def _write_outcomes(polls: list, hosts: list, path: str) -> None:
    document = {
        "polls": [p.model_dump(mode="json") for p in sorted(polls, key=lambda p: p.url)],
        "hosts": {host: state.model_dump(mode="json") for host, state in sorted(hosts)},
    }
    parent = path.rsplit("/", 1)[0]
    if not FileSystems.exists(parent):
        FileSystems.mkdirs(parent)
    with FileSystems.create(path) as f:
        f.write(json.dumps(document).encode("utf-8"))


def read_outcomes(staging: str) -> tuple[list[PollOutcome], dict[str, HostState]]:
    """The polls and host states a feed run staged; none when it staged nothing."""
    path = FileSystems.join(staging, FEED_OUTCOMES)
    if not FileSystems.exists(path):
        return [], {}
    with FileSystems.open(path) as f:
        document = json.loads(f.read())
    polls = [PollOutcome.model_validate(p) for p in document["polls"]]
    return polls, {host: HostState.model_validate(s) for host, s in document["hosts"].items()}


class PollFeeds(beam.PTransform):
    """PCollection[FeedPoll] -> {'records': RawInput, 'rejected': Rejected}; outcomes staged beside the tables."""

    RECORDS = "records"
    REJECTED = "rejected"

    def __init__(self, settings: FetchSettings, store_path: str, rejected_at: dt.datetime, staging: str):
        super().__init__()
        self._settings, self._store_path, self._rejected_at, self._staging = settings, store_path, rejected_at, staging

    def expand(self, polls):
        earlier = polls.pipeline | "EarlierHosts" >> beam.Create(sorted(self._settings.hosts.items()))
        feeds = (
            polls
            | "FeedRequests" >> beam.Map(lambda p: (p.source.url, p.validators, p))
            | "FetchFeeds" >> _FetchByHost(self._settings, FEED_ACCEPT, earlier)
        )
        read = feeds.fetched | "ReadFeeds" >> beam.ParDo(_ReadFeedFn(self._store_path)).with_outputs(
            _ReadFeedFn.POLLS, main="pages"
        )
        after_feeds = (earlier, feeds[_FetchByHostFn.HOSTS]) | "HostsAfterFeeds" >> _Latest()
        with_link, without_link = read.pages | "HasLink" >> beam.Partition(lambda r, _: 0 if r.item.link else 1, 2)
        pages = (
            with_link
            | "PageRequests" >> beam.Map(lambda r: (r.item.link, None, r))
            | "FetchPages" >> _FetchByHost(self._settings, PAGE_ACCEPT, after_feeds)
        )
        unfetched = without_link | "NoPage" >> beam.Map(lambda r: (r, None))
        records = (
            (pages.fetched, unfetched)
            | "AllPages" >> beam.Flatten()
            | "ToRecords" >> beam.ParDo(_PageRecordFn(self._rejected_at)).with_outputs(self.REJECTED, main=self.RECORDS)
        )
        hosts = (after_feeds, pages[_FetchByHostFn.HOSTS]) | "HostsAfterPages" >> _Latest()
        path = FileSystems.join(self._staging, FEED_OUTCOMES)
        _ = (
            read[_ReadFeedFn.POLLS]
            | "AllPolls" >> beam.combiners.ToList()
            | "StageOutcomes" >> beam.Map(_write_outcomes, beam.pvalue.AsList(hosts), path)
        )
        return {self.RECORDS: records[self.RECORDS], self.REJECTED: records[self.REJECTED]}


class _FetchByHost(beam.PTransform):
    """PCollection[(url, validators, payload)] -> {'fetched': (payload, FetchResult), 'hosts': (host, HostState)};
    `seeds`: a PCollection of (host, HostState) to start each host from."""

    def __init__(self, settings: FetchSettings, accept: str, seeds):
        super().__init__()
        self._settings, self._accept, self._seeds = settings, accept, seeds

    def expand(self, requests):
        fetch = _FetchByHostFn(self._settings, self._accept)
        return (
            requests
            | "ByHost" >> beam.Map(lambda r: (host_key(r[0]), r)).with_output_types(_KEYED)
            # A shuffle by host in front of the stateful step: a cluster runner does this for a stateful DoFn itself,
            # but Beam's local FnApiRunner hands a fused stage's input to its workers element by element, so one host
            # could be fetched by two workers at once; after a grouping, it hands out whole keys.
            | "GroupHosts" >> ReshufflePerKey()
            | "Fetch"
            >> beam.ParDo(fetch, beam.pvalue.AsDict(self._seeds))
            .with_input_types(_KEYED, beam.typehints.Dict[str, beam.typehints.Any])
            .with_outputs(_FetchByHostFn.HOSTS, main="fetched")
        )


class _Latest(beam.PTransform):
    """(PCollection[(host, HostState)], ...) -> one (host, HostState) per host, the most recent."""

    def expand(self, pcolls):
        return pcolls | "Flatten" >> beam.Flatten() | "PerHost" >> beam.CombinePerKey(latest)
