"""The feeds of a run or a stream: which are due, what each poll changed, and the seen store's commit.

    session = FeedSession(settings, output)           # loads <output>/feeds_seen.json
    polls = session.due(now)                          # FeedPolls (batch: every feed, `everything=True`)
    source = session.source(rejected_at, staging)     # PollFeeds, the run's source (transforms/feeds/steps.py)
    ... run the chain, read_outcomes(staging), commit the tables ...
    session.committed(outcomes, hosts, now)           # records, schedules, seen keys: saved only now
    session.manifest()                                # the manifest's `feeds` section

The order is the guarantee: the store is saved after the tables are committed, so a crash in between
fetches the items again (duplicates by content, never losses), and a restart fetches nothing twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Optional

from transforms.feeds.parse import FeedSource
from transforms.feeds.policy import HostState
from transforms.feeds.schedule import ScheduleRules, after_failure, after_success, new_schedule
from transforms.feeds.state import SeenStore
from transforms.feeds.steps import FeedPoll, FetchSettings, PollFeeds, PollOutcome


@dataclasses.dataclass(frozen=True)
class FeedSettings:
    """The feed list and the rules, converted once from the command line (pipelines/feed_run.py)."""

    sources: tuple[FeedSource, ...]
    fetch: FetchSettings = FetchSettings()
    schedule: ScheduleRules = ScheduleRules()


def _iso(epoch: Optional[float]) -> Optional[str]:
    if not epoch:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).replace(microsecond=0).isoformat()


class FeedSession:
    def __init__(self, settings: FeedSettings, output: str):
        self.settings = settings
        self.store = SeenStore.in_folder(output)
        self.hosts: dict[str, HostState] = {}  # the hosts' politeness state, carried from one micro-batch to the next

    def due(self, now: float, everything: bool = False) -> list[FeedPoll]:
        """The feeds to poll now (all of them with `everything`), with their validators for a conditional GET."""
        polls = []
        for source in self.settings.sources:
            record = self.store.record(source.url)
            if everything or record.schedule is None or record.schedule.next_poll <= now:
                polls.append(FeedPoll(source=source, validators=record.validators))
        return polls

    def next_poll(self) -> float:
        """When the next feed is due (epoch seconds; 0 when one has never been polled)."""
        return min(
            (r.schedule.next_poll if r.schedule else 0.0 for r in map(self.store.record, self._urls())), default=0.0
        )

    def _urls(self) -> list[str]:
        return [source.url for source in self.settings.sources]

    def source(self, rejected_at: dt.datetime, staging: str) -> PollFeeds:
        fetch = self.settings.fetch.model_copy(update={"hosts": dict(self.hosts)})
        return PollFeeds(fetch, self.store.path, rejected_at, staging)

    def committed(
        self, outcomes: list[PollOutcome], hosts: dict[str, HostState], now: float, stream: Optional[dict] = None
    ) -> dict:
        """Record a committed run's polls: each feed's record and schedule, its new items' keys, and a stream's
        state after the batch (`stream`: its feed totals and watermark); then save.

        Returns the run's line for the manifest: polls, new items, errors."""
        self.hosts.update(hosts)
        rules = self.settings.schedule
        line = {"feeds_polled": len(outcomes), "feed_items_new": 0, "feed_errors": 0}
        for outcome in outcomes:
            record = self.store.record(outcome.url)
            schedule = record.schedule or new_schedule(rules, outcome.stated_interval)
            failed = outcome.error is not None and not outcome.unchanged
            if failed:
                schedule = after_failure(schedule, now, outcome.error, outcome.retry_after, rules)
            else:
                schedule = after_success(schedule, now, len(outcome.new_keys), outcome.items, rules)
            update = {
                "validators": outcome.validators,
                "schedule": schedule,
                "new_items": record.new_items + len(outcome.new_keys),
                "errors": record.errors + failed,
                "last_http_status": outcome.status,
            }
            self.store.set_record(outcome.url, record.model_copy(update=update))
            for keys in outcome.new_keys:
                self.store.mark(keys)
            line["feed_items_new"] += len(outcome.new_keys)
            line["feed_errors"] += failed
        if stream is not None and stream != self.store.stream:
            self.store.stream, self.store.dirty = stream, True
        self.store.save()
        return line

    def failed(self, polls: list[FeedPoll], error: str, now: float) -> dict:
        """A run over `polls` failed and committed nothing: each feed counts a failed poll and backs off."""
        rules = self.settings.schedule
        for poll in polls:
            record = self.store.record(poll.source.url)
            schedule = after_failure(record.schedule or new_schedule(rules), now, "run_failed", rules=rules)
            self.store.set_record(
                poll.source.url, record.model_copy(update={"schedule": schedule, "errors": record.errors + 1})
            )
        self.store.save()  # no item is marked: they are fetched again on the next poll
        return {"feeds_polled": len(polls), "feed_items_new": 0, "feed_errors": len(polls), "error": error}

    def manifest(self) -> dict:
        """Per feed: polls, new items, errors, last status and HTTP status, next poll."""
        out = {}
        for url in self._urls():
            record = self.store.record(url)
            schedule = record.schedule
            out[url] = {
                "polls": schedule.polls if schedule else 0,
                "new_items": record.new_items,
                "errors": record.errors,
                "last_status": schedule.last_status if schedule else None,
                "last_http_status": record.last_http_status,
                "next_poll": _iso(schedule.next_poll) if schedule else None,
                "interval_s": schedule.interval if schedule else None,
            }
        return out
