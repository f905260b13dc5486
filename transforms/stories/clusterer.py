"""StoryClusterer: online story assignment over articles in event-time order, with a bounded window, an
inverted index over story keys, and a MinHash LSH index for near-duplicates (see the package docstring).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import math
import operator
import sys
from collections import Counter, OrderedDict, deque
from typing import Iterable, Optional

import numpy

from transforms.stories.features import NUM_PERM, ArticleFeatures, signature
from transforms.stories.near import NearDuplicateIndex
from transforms.text import stable_id


@dataclasses.dataclass(frozen=True)
class StoryConfig:
    # An article joins the story whose core it is most similar to, at a cosine of at least `threshold` (times
    # `no_entity_factor` when they share no entity). Tuned on the dev split of benchmarks/data/headline_events.jsonl
    # with the BBC chaining check (see benchmarks/RESULTS.md).
    threshold: float = 0.3  # for an article with at least `long_keys` keys (a full text)
    short_threshold: float = 0.23  # for an article with at most `short_keys` keys (a headline); linear in between
    short_keys: int = 8
    long_keys: int = 60
    no_entity_factor: float = 1.5
    max_gap: dt.timedelta = dt.timedelta(days=7)
    entity_weight: float = 1.0
    title_weight: float = 3.0  # a title word weighs this much more than one mention in the body
    # An article is compared through its `article_keys` strongest terms and entities: a headline of six words and a
    # report of a thousand then meet on the same footing, where a whole-text vector left a headline's few words lost.
    article_keys: int = 100
    # ... and against the story's strongest keys only, `story_keys_per_key` per key of the article (at least
    # `min_story_keys`): a headline is measured against what its story is mostly about, a full text against all of it.
    story_keys_per_key: float = 2.0
    min_story_keys: int = 12
    # A story is matched on its first `core_size` articles (their summed vectors): later members do not move it, so it
    # cannot drift from event to event into a section's topic.
    core_size: int = 8
    near_duplicate_threshold: float = 0.8
    # One event often opens two stories when its first short items share few words ("Iran FM says agreed with US 'on
    # guiding principles'" beside "US and Iran to meet for second round of nuclear talks"). After a run's articles are
    # assigned, a story opened in the run joins an older one when their cores meet: the cosine of their `merge_keys`
    # strongest keys at least `merge_threshold`, an entity among both sets of keys, and one of the two with
    # `merge_min_core` articles. The older story's id names both; the joined core still matches for later articles.
    # Above 1, nothing merges.
    merge_threshold: float = 0.3
    merge_keys: int = 20
    merge_min_core: int = 2
    # Across languages words do not meet: an article joins a story none of whose articles is in its language when it
    # shares at least `cross_language_entities` entities with the story's core, carrying `cross_language_share` of
    # its entities' weight (idf), within max_gap. Entity ids are the same in every language (Q7747 is Putin,
    # Poutine and Путин).
    cross_language_entities: int = 3
    cross_language_share: float = 0.6
    max_candidates: int = 10  # stories whose cosine is computed per article: the best by the index's dot product
    candidate_keys: int = 40  # ... over the article's strongest keys (its vector is ordered strongest first)
    # Bounds on the window's state, whatever the input's dates: past them the oldest leave the window early (counted in
    # the story_window_evictions metric). About 1.7 KB per article (near-duplicate index, story membership) and a few KB
    # per story (its core holds at most core_size * article_keys keys).
    max_window_articles: int = 10_000
    max_active_stories: int = 2_000


@dataclasses.dataclass
class Assignment:
    article_id: str
    story_id: str
    similarity: float
    near_duplicate_of: Optional[str] = None
    near_duplicate_score: Optional[float] = None
    failed: bool = False  # the story stage failed on this article: it got a story of its own (FLAG_STORY_FAILED)


FLAG_STORY_FAILED = "story_assignment_failed"


def _by_weight(items: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """(key, weight) pairs, heaviest first, equal weights by key: the order of sorting on (-weight, key), from two
    sorts on C-level keys (a stable descending sort keeps equal weights in the key order of the first)."""
    ordered = sorted(items, key=_KEY)
    ordered.sort(key=_WEIGHT, reverse=True)
    return ordered


_KEY, _WEIGHT = operator.itemgetter(0), operator.itemgetter(1)


@dataclasses.dataclass
class _Story:
    story_id: str
    centroid: dict[str, float]  # the sum of its core articles' unit vectors
    last_seen: dt.datetime
    index_keys: tuple[str, ...] = ()
    norm: float = 1.0  # of the centroid, kept with it so a comparison costs one pass over the article's vector
    core: int = 0  # articles in the core so far (at most StoryConfig.core_size)
    order: dict = dataclasses.field(default_factory=dict)  # each centroid key's place, strongest first
    cumulative: list = dataclasses.field(default_factory=list)  # squared norm of the strongest 1, 2, ... keys
    languages: set = dataclasses.field(default_factory=set)  # of its articles
    opened: Optional[dt.datetime] = None  # its first article's time: of two stories that merge, the older names both
    settled: bool = False  # its id has left the stage (an earlier run's or chunk's): it no longer joins another


class StoryClusterer:
    """Online clustering state. ``add(features)`` assigns one article; call in event-time order."""

    def __init__(self, config: StoryConfig = StoryConfig()):
        self.config = config
        self._df: Counter = Counter()
        self._n = 0
        self._stories: OrderedDict[str, _Story] = OrderedDict()  # by last_seen, oldest first
        # key -> {story id: that story's centroid} (the story's own dict, shared, not a copy): the stories a key can
        # find, and their weights for it without a look-up of the story.
        self._index: dict[str, dict[str, dict[str, float]]] = {}
        self._near = NearDuplicateIndex(config.near_duplicate_threshold)
        self._near_items: deque[tuple[dt.datetime, str]] = deque()  # by published_at, for expiry
        self._story_of: dict[str, str] = {}
        self._left: list[str] = []  # stories that left the window since take_left()
        self._joined: dict[str, str] = {}  # a story merged into an older one -> that story's id (see merge_open)
        self.evictions = 0  # articles and stories that left the window early, for the size bounds

    # --- vectors ---------------------------------------------------------------------------

    def _idf(self, key) -> float:
        return math.log((self._n + 2) / (self._df[key] + 1)) + 1.0

    def _vector(self, f: ArticleFeatures, terms: list[tuple[int, float]], title: list[int]) -> dict[str, float]:
        """The article's unit vector over its `article_keys` strongest keys: TF-IDF of body words, title words weighted
        `title_weight`, entity ids weighted `entity_weight` (document frequencies from earlier articles only)."""
        weights: dict = {}
        for h, tf in terms:
            weights[h] = tf
        for h in title:
            weights[h] = weights.get(h, 0.0) + self.config.title_weight
        # Keys interned: every story's centroid and the inverted index then share one string per feature (pickled
        # once too), where each held its own copy.
        vec = {sys.intern(f"t{h}"): w * self._idf(h) for h, w in weights.items()}
        for e in f.entities:
            vec[sys.intern(f"e{e}")] = self.config.entity_weight * self._idf(e)
        top = _by_weight(vec.items())[: self.config.article_keys]
        norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
        return {k: v / norm for k, v in top}

    def _cosine(self, vec: dict[str, float], rank: dict[str, int], story: _Story) -> float:
        """Cosine of a unit article vector and the story centroid cut to its strongest keys (as many as the article's
        length asks for, see StoryConfig.story_keys_per_key); `rank` is each key's place in `vec`.

        The dot product runs over the keys the two share (a set intersection, in C), summed in the article vector's own
        key order, so the sum is deterministic bit for bit.
        """
        m = max(self.config.min_story_keys, int(self.config.story_keys_per_key * len(vec)))
        m = min(m, len(story.cumulative))
        if m == 0:
            return 0.0
        centroid, order = story.centroid, story.order
        shared = sorted((k for k in vec.keys() & centroid.keys() if order[k] < m), key=rank.__getitem__)
        return sum(vec[k] * centroid[k] for k in shared) / (math.sqrt(story.cumulative[m - 1]) or 1.0)

    # --- state upkeep ----------------------------------------------------------------------

    def _expire(self, now: dt.datetime) -> None:
        horizon = now - self.config.max_gap
        while self._stories and next(iter(self._stories.values())).last_seen < horizon:
            self._drop_oldest_story()
        while self._near_items and self._near_items[0][0] < horizon:
            self._drop_oldest_article()

    def _bound(self) -> None:
        """Keep the window within its size bounds: the least recently updated stories and the oldest articles leave
        first."""
        while len(self._stories) > self.config.max_active_stories:
            self._drop_oldest_story()
            self.evictions += 1
        while len(self._near_items) > self.config.max_window_articles:
            self._drop_oldest_article()
            self.evictions += 1

    def _drop_oldest_story(self) -> None:
        sid, story = self._stories.popitem(last=False)
        for key in story.index_keys:
            postings = self._index.get(key)
            if postings is not None:
                postings.pop(sid, None)
                if not postings:
                    del self._index[key]
        if self._joined.pop(sid, None) is None:  # a joined story's articles went out under the other's id
            self._left.append(sid)

    def _drop_oldest_article(self) -> None:
        _, key = self._near_items.popleft()
        self._near.remove(key)
        self._story_of.pop(key, None)

    def take_left(self) -> list[str]:
        """The stories that left the window since the last call (they take no more articles)."""
        left, self._left = self._left, []
        return left

    def _threshold(self, keys: int) -> float:
        """The similarity an article needs, by how much text it has: its number of keys."""
        c = self.config
        if keys <= c.short_keys or c.long_keys <= c.short_keys:
            return c.short_threshold
        share = min(1.0, (keys - c.short_keys) / (c.long_keys - c.short_keys))
        return c.short_threshold + share * (c.threshold - c.short_threshold)

    def _grow(self, story: _Story, vec: dict[str, float]) -> None:
        """Add an article's vector to the story's core while the core has room; after that the story does not move."""
        if story.core >= self.config.core_size:
            return
        story.core += 1
        for k, v in vec.items():
            story.centroid[k] = story.centroid.get(k, 0.0) + v
        ordered = _by_weight(story.centroid.items())
        story.order = {k: i for i, (k, _) in enumerate(ordered)}
        story.cumulative = list(itertools.accumulate(w * w for _, w in ordered))
        story.norm = math.sqrt(story.cumulative[-1]) or 1.0
        new = tuple(sorted(story.centroid.keys() - set(story.index_keys)))
        for key in new:
            self._index.setdefault(key, {})[story.story_id] = story.centroid
        story.index_keys = story.index_keys + new

    @staticmethod
    def _other_language(f: ArticleFeatures, story: _Story) -> bool:
        return bool(f.language and story.languages and f.language not in story.languages)

    def _entity_share(self, f: ArticleFeatures, story: _Story) -> float:
        """The idf-weighted share of the article's entities that the story's core holds; 0 below the minimum count."""
        shared = [e for e in f.entities if f"e{e}" in story.centroid]
        if len(shared) < self.config.cross_language_entities:
            return 0.0
        total = sum(self._idf(e) for e in f.entities) or 1.0
        return sum(self._idf(e) for e in shared) / total

    def active_stories(self) -> int:
        return len(self._stories)

    # --- assignment ------------------------------------------------------------------------

    def _candidates(self, vec: dict[str, float]) -> list[str]:
        """The active stories worth a full comparison: those indexed under the article's keys, best first by the
        dot product over those keys, at most `max_candidates`.

        However many stories are active, a full cosine is computed for at most `max_candidates`.
        """
        partial: dict[str, float] = {}
        add, index = partial.get, self._index
        for k in sorted(itertools.islice(vec, self.config.candidate_keys)):  # in key order: deterministic sums
            postings = index.get(k)
            if postings:
                w = vec[k]
                for sid, centroid in postings.items():
                    partial[sid] = add(sid, 0.0) + w * centroid[k]
        stories = self._stories
        # the best `max_candidates` in _by_weight's order (weight down, then id), without sorting all of them
        ranked = heapq.nsmallest(
            self.config.max_candidates,
            ((-dot / stories[sid].norm, sid) for sid, dot in partial.items()),
        )
        return [sid for _, sid in ranked]

    def add(self, f: ArticleFeatures, story_id: Optional[str] = None) -> Assignment:
        """Assign one article (the next in event time). A given `story_id` (a prior run's) is kept as it is."""
        self._expire(f.published_at)
        terms = f.terms()
        title = f.title_terms()
        vec = self._vector(f, terms, title)
        sig = signature(f.minhash)
        near_of = near_score = None
        for key in sorted(self._near.query(sig)):
            score = float(numpy.count_nonzero(sig == self._near.signature(key))) / NUM_PERM  # MinHash.jaccard
            if score >= self.config.near_duplicate_threshold and (near_score is None or score > near_score):
                near_of, near_score = key, round(score, 4)
        best_sid, best = None, 0.0
        if story_id is None:
            if near_of is not None and near_of in self._story_of and self._story_of[near_of] in self._stories:
                best_sid, best = self._story_of[near_of], 1.0
            else:
                entity_keys = {f"e{e}" for e in f.entities}
                cross_sid, cross = None, 0.0
                rank = {k: i for i, k in enumerate(vec)}
                base = self._threshold(len(vec))
                for sid in self._candidates(vec):
                    story = self._stories[sid]
                    centroid = story.centroid
                    sim = self._cosine(vec, rank, story)
                    # Without a shared entity, text alone must be more similar: short articles share stock words.
                    needed = base
                    if not entity_keys & centroid.keys():
                        needed *= self.config.no_entity_factor
                    if sim >= needed and sim > best:
                        best_sid, best = sid, sim
                    elif sim < needed and self._other_language(f, story):
                        share = self._entity_share(f, story)  # a different score: ranked among its own kind only
                        if share >= self.config.cross_language_share and share > cross:
                            cross_sid, cross = sid, share
                if best_sid is None and cross_sid is not None:  # no story in its words: one in its entities
                    best_sid, best = cross_sid, cross
        sid = story_id or best_sid or stable_id("sty_", f.article_id)
        story = self._stories.pop(sid, None) or _Story(sid, {}, f.published_at, opened=f.published_at)
        story.settled = story.settled or story_id is not None
        self._grow(story, vec)
        if f.language:
            story.languages.add(f.language)
        story.last_seen = max(story.last_seen, f.published_at)
        self._stories[sid] = story  # most recent last
        named = self._joined.get(sid, sid)
        if named != sid and named in self._stories:  # the story that names it stays in the window with it
            older = self._stories.pop(named)
            older.last_seen = max(older.last_seen, f.published_at)
            self._stories[named] = older
        # update online statistics and the near-duplicate index after the decision
        self._n += 1
        self._df.update({h for h, _ in terms} | set(title))
        self._df.update(set(f.entities))
        self._near.insert(f.article_id, sig)
        self._near_items.append((f.published_at, f.article_id))
        self._story_of[f.article_id] = sid
        self._bound()
        return Assignment(f.article_id, named, round(best, 4), near_of, near_score)

    # --- merging ---------------------------------------------------------------------------

    def _strongest(self, story: _Story) -> dict[str, float]:
        top = _by_weight(story.centroid.items())[: self.config.merge_keys]
        norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
        return {k: v / norm for k, v in top}

    def merge_open(self) -> dict[str, str]:
        """Join each story opened since the last call to the older story whose core meets its own best (see
        StoryConfig.merge_threshold), then settle every story. Returns {joined story: the older story's id}; the
        caller renames the joined stories' articles, and later articles of a joined story get the older id."""
        c = self.config
        opened = sorted(
            (s for s in self._stories.values() if not s.settled and s.story_id not in self._joined),
            key=lambda s: (s.opened, s.story_id),
        )
        found: dict[str, str] = {}
        strongest: dict[str, dict[str, float]] = {}  # each story's, computed once per call

        def keys_of(story: _Story) -> dict[str, float]:
            if story.story_id not in strongest:
                strongest[story.story_id] = self._strongest(story)
            return strongest[story.story_id]

        for story in opened if c.merge_threshold <= 1.0 else ():
            vec = keys_of(story)
            entities = {k for k in vec if k[0] == "e"}
            best_sid, best = None, 0.0
            for sid in self._candidates(vec) if entities else ():
                other = self._stories[sid]
                if (other.opened, sid) >= (story.opened, story.story_id) or sid in self._joined:
                    continue  # only into an older story that names itself
                if max(story.core, other.core) < c.merge_min_core:
                    continue
                theirs = keys_of(other)
                if not entities & theirs.keys():
                    continue
                sim = sum(vec[k] * theirs[k] for k in sorted(vec.keys() & theirs.keys()))
                if sim >= c.merge_threshold and (best_sid is None or sim > best):
                    best_sid, best = sid, sim
            if best_sid is not None:
                found[story.story_id] = found.get(best_sid, best_sid)  # older stories come first: already resolved
        self._joined.update(found)
        for story in self._stories.values():
            story.settled = True
        return found
