"""When each feed is polled next: its stated period, adapted to how much is new, backed off on failure.

A feed that states `sy:updatePeriod`/`sy:updateFrequency` starts at that interval, others at a default
(Media Cloud uses 6 hours). After each poll the interval adapts: shortened when most items were new (the
feed moves faster than we read it and items may scroll out unseen), lengthened when most had been seen
(polling it less costs nothing and spares the site), always within [`min_interval`, `max_interval`].
A failed poll waits linearly longer (`interval * (1 + failures)`, capped at `max_backoff`) and honours a
Retry-After, but a feed is never disabled: the next poll always has a finite time, and a success resets
the count. Pure functions over frozen models, so the state can live in the output folder or in Beam state.
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict

PERIOD_SECONDS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


class ScheduleRules(BaseModel):
    """Bounds and factors of the adaptive interval (seconds)."""

    model_config = ConfigDict(frozen=True)

    default_interval: float = 6 * 3600.0
    min_interval: float = 10 * 60.0
    max_interval: float = 24 * 3600.0
    max_backoff: float = 24 * 3600.0
    shorten: float = 0.5  # factor when most items are new
    lengthen: float = 1.5  # factor when most were seen (or the feed was unchanged)


class FeedSchedule(BaseModel):
    """One feed's polling state."""

    model_config = ConfigDict(frozen=True)

    interval: float
    next_poll: float = 0.0  # epoch seconds; 0: poll now
    failures: int = 0  # in a row
    polls: int = 0
    last_status: Optional[str] = None  # "ok", "unchanged" or a fetch error code


def _clamp(value: float, rules: ScheduleRules) -> float:
    return min(rules.max_interval, max(rules.min_interval, value))


def stated_interval(update_period: Optional[str], update_frequency: Optional[int]) -> Optional[float]:
    """The feed's own sy:updatePeriod / sy:updateFrequency as seconds, None when it states no known period."""
    period = PERIOD_SECONDS.get((update_period or "").strip().lower())
    if period is None:
        return None
    return period / max(1, update_frequency or 1)


def new_schedule(rules: ScheduleRules = ScheduleRules(), stated: Optional[float] = None) -> FeedSchedule:
    """A feed not polled yet: due now, at its stated interval or the default."""
    return FeedSchedule(interval=_clamp(stated or rules.default_interval, rules))


def after_success(
    schedule: FeedSchedule, now: float, new_items: int, total_items: int, rules: ScheduleRules = ScheduleRules()
) -> FeedSchedule:
    """A poll that got the feed (or a 304): adapt the interval to the share of new items."""
    if total_items and new_items * 2 > total_items:
        interval, status = schedule.interval * rules.shorten, "ok"
    elif total_items and new_items * 2 == total_items:
        interval, status = schedule.interval, "ok"
    else:  # most seen, nothing new, or unchanged
        interval, status = schedule.interval * rules.lengthen, "ok" if total_items else "unchanged"
    interval = _clamp(interval, rules)
    return schedule.model_copy(
        update={"interval": interval, "next_poll": now + interval, "failures": 0, "polls": schedule.polls + 1,
                "last_status": status}
    )  # fmt: skip


def after_failure(
    schedule: FeedSchedule,
    now: float,
    error: str,
    retry_after: Optional[float] = None,
    rules: ScheduleRules = ScheduleRules(),
) -> FeedSchedule:
    """A poll that failed: linear backoff (never disabled), and not before the server's Retry-After."""
    failures = schedule.failures + 1
    wait = min(schedule.interval * (1 + failures), rules.max_backoff)
    if retry_after is not None:
        wait = max(wait, min(retry_after, rules.max_backoff))
    return schedule.model_copy(
        update={"next_poll": now + wait, "failures": failures, "polls": schedule.polls + 1, "last_status": error}
    )
