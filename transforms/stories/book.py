"""StoryBook: what each story adds up to (sources, entities, time span), its story alerts with their versions,
and the breaking_story alert when a story's rate jumps over its own baseline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter, deque
from typing import TYPE_CHECKING, Optional

from transforms.stories.features import ArticleFeatures, StoryInput
from transforms.text import stable_id

if TYPE_CHECKING:
    from schemas import StoryAlert
    from transforms.rules import StatusLevel


@dataclasses.dataclass(frozen=True)
class BreakingConfig:
    """breaking_story fires when a story's articles in the last `window` reach `min_articles` and
    `factor` times its own baseline rate over the `baseline` before that window."""

    window: dt.timedelta = dt.timedelta(hours=6)
    baseline: dt.timedelta = dt.timedelta(hours=48)
    factor: float = 3.0
    min_articles: int = 3


@dataclasses.dataclass
class _StoryState:
    story_id: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    article_ids: list[str]
    sources: set[str]
    languages: set[str]
    entities: Counter
    names: dict[str, tuple[str, str]]
    title: Optional[str]
    times: deque
    last_breaking: Optional[dt.datetime] = None
    touched: bool = False
    left: bool = False  # left the window during this update: dropped at the next


class StoryBook:
    """Per-story aggregates and the one current alert per (rule, story), fed article by article in event time.

    Story alert status: a stronger positive status replaces a weaker one and never the reverse;
    a denial, cancellation or postponement replaces any status when it comes later; after one of
    those, only an official status (a level marked `official` in the rule pack) replaces it again.
    """

    TOP_ENTITIES = 10

    def __init__(self, levels: dict[str, StatusLevel], breaking: BreakingConfig = BreakingConfig()):
        """`levels`: the rule pack's status levels by name (their rank, and whether terminal or official)."""
        self._status = {name: (level.rank, level.terminal) for name, level in levels.items()}
        self._official = min((level.rank for level in levels.values() if level.official), default=math.inf)
        self._breaking = breaking
        self.stories: dict[str, _StoryState] = {}
        self.alerts: dict[str, "StoryAlert"] = {}
        self._alerts_of: dict[str, set[str]] = {}  # story_id -> its keys in `alerts`
        self.events: list["StoryAlert"] = []

    def begin_update(self) -> None:
        """Start the next chunk of a run: rows and events from here on are about what it touches."""
        for sid in [sid for sid, st in self.stories.items() if st.left]:
            self._drop(sid)
        for st in self.stories.values():
            st.touched = False
        self.events = []

    def forget(self, story_id: str) -> None:
        """A story left the clusterer's window: drop its aggregates and alerts, once this update's rows are out."""
        st = self.stories.get(story_id)
        if st is None:
            return
        if st.touched:
            st.left = True  # its row (and its alerts' rows) of this update are still to be written
        else:
            self._drop(story_id)

    def _drop(self, story_id: str) -> None:
        del self.stories[story_id]
        for key in self._alerts_of.pop(story_id, ()):
            del self.alerts[key]

    def _set_alert(self, alert) -> None:
        self.alerts[alert.story_alert_id] = alert
        self._alerts_of.setdefault(alert.story_id, set()).add(alert.story_alert_id)

    def restore(self, alert) -> None:
        """A story alert from an earlier run: later changes continue its versions, and nothing is alerted again."""
        current = self.alerts.get(alert.story_alert_id)
        if current is None or alert.version > current.version:
            self._set_alert(alert)

    def add(self, inp: StoryInput, story_id: str, alerts: list, prior: bool) -> None:
        f = inp.features
        st = self.stories.get(story_id)
        if st is None:
            st = self.stories[story_id] = _StoryState(
                story_id, f.published_at, f.published_at, [], set(), set(), Counter(), {}, None, deque()
            )
        st.left = False  # an article of an earlier run may bring a story back into the window
        st.first_seen, st.last_seen = min(st.first_seen, f.published_at), max(st.last_seen, f.published_at)
        st.article_ids.append(f.article_id)
        if f.source:
            st.sources.add(f.source)
        if f.language:
            st.languages.add(f.language)
        for entity_id, name, kind in inp.entity_names:
            st.entities[entity_id] += 1
            st.names.setdefault(entity_id, (name, kind))
        if st.title is None and f.title:
            st.title = f.title
        st.times.append(f.published_at)
        if prior:
            return
        st.touched = True
        for alert in sorted(alerts, key=lambda a: a.rule_id):
            self._update(st, alert.model_copy(update={"story_id": story_id}), f.published_at)
        self._check_breaking(st, f)

    def _replaces(self, new: str, current: str) -> bool:
        new_rank, new_terminal = self._status.get(new, (0, False))
        cur_rank, cur_terminal = self._status.get(current, (0, False))
        if new_terminal:
            return new != current
        if cur_terminal:
            return new_rank >= self._official
        return new_rank > cur_rank

    def _update(self, st: _StoryState, alert, at: dt.datetime) -> None:
        from schemas import StoryAlert

        key = stable_id("sal_", alert.rule_id, st.story_id)
        current = self.alerts.get(key)
        sources = len(st.sources)
        if current is None:
            row = StoryAlert(
                story_alert_id=key,
                version=1,
                rule_id=alert.rule_id,
                story_id=st.story_id,
                title=alert.title,
                severity=alert.severity,
                status=alert.status,
                first_seen=at,
                last_updated=at,
                source_count=sources,
                article_count=len(st.article_ids),
                article_ids=[alert.article_id],
                actors=alert.actors,
                location=alert.location,
                location_name=alert.location_name,
                event_start=alert.event_start,
                event_end=alert.event_end,
                evidence_text=alert.evidence_text,
                evidence_article_id=alert.article_id,
                evidence_start=alert.evidence_start,
                evidence_end=alert.evidence_end,
                cameo_code=alert.cameo_code,
                plover_type=alert.plover_type,
                confidence=alert.confidence,
                change="new",
            )
            self._set_alert(row)
            self.events.append(row)
            return
        changes, update = [], {}
        if self._replaces(alert.status, current.status):
            changes.append("status")
            update.update(
                status=alert.status,
                title=alert.title,
                location=alert.location or current.location,
                location_name=alert.location_name or current.location_name,
                event_start=alert.event_start or current.event_start,
                event_end=alert.event_end or current.event_end,
                evidence_text=alert.evidence_text,
                evidence_article_id=alert.article_id,
                evidence_start=alert.evidence_start,
                evidence_end=alert.evidence_end,
                confidence=max(alert.confidence, current.confidence),
            )
        if sources > current.source_count:
            changes.append("sources")
        actors = list(current.actors) + [
            a for a in alert.actors if a.entity_id not in {x.entity_id for x in current.actors}
        ]
        update.update(
            last_updated=max(at, current.last_updated),
            source_count=max(sources, current.source_count),
            article_count=len(st.article_ids),
            article_ids=sorted(set(current.article_ids) | {alert.article_id}),
            actors=actors[:12],
        )
        if changes:
            update.update(version=current.version + 1, change="+".join(changes))
        row = current.model_copy(update=update)
        self._set_alert(row)
        if changes:
            self.events.append(row)

    def _check_breaking(self, st: _StoryState, f: ArticleFeatures) -> None:
        from schemas import Alert

        b = self._breaking
        now = f.published_at
        while st.times and st.times[0] < now - b.window - b.baseline:
            st.times.popleft()
        recent = sum(1 for t in st.times if t > now - b.window)
        before = sum(1 for t in st.times if now - b.window - b.baseline < t <= now - b.window)
        baseline_rate = before * (b.window / b.baseline)
        if recent < b.min_articles or recent < b.factor * baseline_rate:
            return
        if st.last_breaking is not None and now - st.last_breaking < b.window:
            return
        st.last_breaking = now
        evidence = f.title or f"{recent} articles in {b.window}"
        alert = Alert(
            alert_id=stable_id("alr_", "breaking_story", st.story_id, now.isoformat()),
            rule_id="breaking_story",
            title=f"Breaking story: {st.title or evidence}",
            severity="high",
            status="reported",
            article_id=f.article_id,
            story_id=st.story_id,
            actors=[],
            evidence_text=evidence,
            evidence_start=0,
            evidence_end=0,
            cues=[f"articles_in_window:{recent}", f"baseline_per_window:{baseline_rate:.2f}"],
            cameo_code="n/a",
            plover_type="n/a",
            confidence=0.6,
            published_at=now,
        )
        self._update(st, alert, now)

    def story_rows(self) -> list:
        from schemas import Story, StoryAlertRef, StoryEntity

        rows = []
        for st in self.stories.values():
            if not st.touched:
                continue
            alerts = sorted((self.alerts[k] for k in self._alerts_of.get(st.story_id, ())), key=lambda a: a.rule_id)
            top = sorted(st.entities.items(), key=lambda kv: (-kv[1], kv[0]))[: self.TOP_ENTITIES]
            rows.append(
                Story(
                    story_id=st.story_id,
                    first_seen=st.first_seen,
                    last_seen=st.last_seen,
                    article_count=len(st.article_ids),
                    source_count=len(st.sources),
                    sources=sorted(st.sources),
                    languages=sorted(st.languages),
                    top_entities=[
                        StoryEntity(entity_id=e, name=st.names[e][0], type=st.names[e][1], articles=n) for e, n in top
                    ],
                    title=st.title,
                    article_ids=sorted(st.article_ids),
                    alert_rule_ids=sorted({a.rule_id for a in alerts}),
                    alerts=[StoryAlertRef(rule_id=a.rule_id, status=a.status, version=a.version) for a in alerts],
                )
            )
        return rows

    def alert_rows(self) -> list:
        touched = {sid for sid, st in self.stories.items() if st.touched}
        return [a for a in self.alerts.values() if a.story_id in touched]
