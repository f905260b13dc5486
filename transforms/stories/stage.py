"""AssignStories: the Beam stage that runs the clusterer and the story book over a run's articles in event time,
replaying the lookback (or a chunk's checkpoint) first.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import apache_beam as beam

from transforms import metrics
from transforms.errors import Reason
from transforms.stories.book import BreakingConfig, StoryBook
from transforms.stories.clusterer import Assignment, StoryClusterer, StoryConfig
from transforms.stories.features import StoryInput
from transforms.text import stable_id


def _order(inp: StoryInput) -> tuple:
    return inp.features.published_at, inp.features.article_id


STORY_KEY = "stories"  # one group: online assignment is sequential in event time


@dataclasses.dataclass(frozen=True)
class StoryCheckpoint:
    """A chunked run's story state between chunks: the clusterer and story book the previous chunk
    left (`read_from`), and where this chunk leaves its own (`write_to`). Files on the run's staging
    file system, so any runner's workers reach them; a chunk's file is written whole or not at all."""

    read_from: Optional[str] = None
    write_to: Optional[str] = None


def save_state(path: str, clusterer: StoryClusterer, book: StoryBook) -> None:
    import pickle

    from transforms.files import atomic_write

    atomic_write(path, pickle.dumps((clusterer, book), protocol=pickle.HIGHEST_PROTOCOL))


def load_state(path: str) -> tuple[StoryClusterer, StoryBook]:
    import pickle

    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as f:
        return pickle.load(f)  # the run's own file, written by save_state in this run's staging folder


class _AssignStoriesFn(beam.DoFn):
    """Replays the lookback (or loads the previous chunk's state), then assigns this run's articles in event time."""

    def __init__(
        self, config: StoryConfig, breaking: BreakingConfig, rules_path: Optional[str], checkpoint: StoryCheckpoint
    ):
        self._config = config
        self._breaking = breaking
        self._rules_path = rules_path
        self._checkpoint = checkpoint

    def setup(self):
        from transforms.dead_letters import FailureLog

        self._failures = FailureLog()

    def process(self, keyed):
        from transforms.rules import cached_rule_pack

        _, items = keyed
        new, prior, alerts, restored = [], [], {}, []
        for kind, value in items:
            if kind == "article":
                (prior if value.story_id else new).append(value)
            elif kind == "alert":
                alerts.setdefault(value.article_id, []).append(value)
            else:
                restored.append(value)
        if self._checkpoint.read_from:
            clusterer, book = load_state(self._checkpoint.read_from)
            book.begin_update()
        else:
            pack = cached_rule_pack(self._rules_path)
            clusterer, book = StoryClusterer(self._config), StoryBook(pack.levels, self._breaking)
        for alert in sorted(restored, key=lambda a: (a.story_alert_id, a.version)):
            book.restore(alert)
        evicted = clusterer.evictions
        steps = [self._assign(clusterer, inp) for inp in sorted(prior + new, key=_order)]
        # Stories opened in this run that one event split join their older story before any id leaves the stage; the
        # book then sees each article under its final story.
        joined = clusterer.merge_open()
        assignments = []
        for inp, assignment, left in steps:
            for sid in left:
                book.forget(sid)
            if assignment.story_id in joined:
                assignment = dataclasses.replace(assignment, story_id=joined[assignment.story_id])
            if not assignment.failed:
                try:
                    book.add(
                        inp,
                        assignment.story_id,
                        alerts.get(inp.features.article_id, []),
                        prior=inp.story_id is not None,
                    )
                except Exception as err:  # noqa: BLE001 - one article must not stop the stage that orders all of them
                    assignment = self._failed(inp, err)
            if inp.story_id is None:
                assignments.append(assignment)
        metrics.STORY_WINDOW_EVICTIONS.inc(clusterer.evictions - evicted)
        if self._checkpoint.write_to:
            save_state(self._checkpoint.write_to, clusterer, book)
        yield from assignments
        for row in book.story_rows():
            yield beam.pvalue.TaggedOutput(AssignStories.STORIES, row)
        for row in book.alert_rows():
            yield beam.pvalue.TaggedOutput(AssignStories.STORY_ALERTS, row)
        for row in book.events:
            yield beam.pvalue.TaggedOutput(AssignStories.EVENTS, row)

    def _assign(self, clusterer: StoryClusterer, inp: StoryInput) -> tuple:
        """(the input, its assignment, the stories that left the window before it)."""
        try:
            assignment = clusterer.add(inp.features, story_id=inp.story_id)
            return inp, assignment, clusterer.take_left()
        except Exception as err:  # noqa: BLE001 - one article must not stop the stage that orders all of them
            return inp, self._failed(inp, err), clusterer.take_left()

    def _failed(self, inp: StoryInput, err: Exception) -> Assignment:
        # The stage is one state over every article in event time, so the article is not held back until it ends (its
        # mentions would wait with it): it keeps its rows, in a story of its own, with a flag.
        article_id = inp.features.article_id
        self._failures(Reason.STORY_FEATURES_FAILED, article_id, err)
        metrics.INTERNAL_ERRORS.inc()
        return Assignment(article_id, inp.story_id or stable_id("sty_", article_id), 0.0, failed=True)


class AssignStories(beam.PTransform):
    """(story inputs, alerts, restored story alerts) -> assignments, stories, story_alerts, story_alert_events.

    Inputs with a story_id are the lookback: articles of earlier runs, replayed so that this run
    continues their stories. Restored story alerts continue their versions instead of alerting again.
    In a chunked run, each chunk after the first starts from the state the one before saved
    (`checkpoint`) instead of replaying every earlier article: the cost per chunk stays that of one chunk.
    """

    STORIES = "stories"
    STORY_ALERTS = "story_alerts"
    EVENTS = "story_alert_events"

    def __init__(
        self,
        config: StoryConfig = StoryConfig(),
        breaking: BreakingConfig = BreakingConfig(),
        rules_path: Optional[str] = None,
        checkpoint: StoryCheckpoint = StoryCheckpoint(),
    ):
        super().__init__()
        self._config = config
        self._breaking = breaking
        self._rules_path = rules_path
        self._checkpoint = checkpoint

    def expand(self, inputs):
        articles, alerts, restored = inputs
        tagged = (
            articles | "TagArticles" >> beam.Map(lambda x: (STORY_KEY, ("article", x))),
            alerts | "TagAlerts" >> beam.Map(lambda x: (STORY_KEY, ("alert", x))),
            restored | "TagRestored" >> beam.Map(lambda x: (STORY_KEY, ("story_alert", x))),
        )
        return (
            tagged
            | "AllInputs" >> beam.Flatten()
            | "InEventTime" >> beam.GroupByKey()
            | "Assign"
            >> beam.ParDo(
                _AssignStoriesFn(self._config, self._breaking, self._rules_path, self._checkpoint)
            ).with_outputs(self.STORIES, self.STORY_ALERTS, self.EVENTS, main="assignments")
        )
