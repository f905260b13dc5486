"""Stories: near-duplicates and online story clustering over articles in event-time order.

Each article is compared only with stories active in a time window (last article at most
`max_gap` before it) that share one of its strongest features (an inverted index over each
story's top terms and entities): the cost per article does not grow with the articles seen, and
stories that fall out of the window are expired. An article joins the most similar candidate
story when the similarity reaches `threshold` (twice that when they share no entity), and starts a new story
otherwise. Assignment is
online: it depends only on articles before it in event time, ties broken by article id.

Similarity is the cosine between the article's vector and the story's centroid. The vector is
a hashed TF-IDF of content words (document frequencies counted online, from earlier articles
only) plus the article's entity ids, weighted `entity_weight`. Near-duplicates (MinHash over
5-word shingles, estimated Jaccard >= `near_duplicate_threshold`) are marked with the earlier
article's id and the score, never dropped; they join that article's story.

The window's state is bounded twice: by time (`max_gap`), and by size, for input whose dates
do not move it on (undated files all share one time) or a feed too large for the window:
at most `max_window_articles` articles and `max_active_stories` stories, the oldest leaving
first. The story book forgets a story when the clusterer does, so a long run's memory is that
of its window, not of its history.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import math
import operator
import re
import sys
import zlib
from collections import Counter, OrderedDict, deque
from typing import Iterable, NamedTuple, Optional

import apache_beam as beam
import numpy

from transforms import metrics
from transforms.errors import Reason
from transforms.text import stable_id

_WORD = re.compile(r"[a-z][a-z'’-]{2,}")
_DIMS = 1 << 20
NUM_PERM = 128
MINHASH_SCHEME = "affine32"


@dataclasses.dataclass(frozen=True)
class StoryConfig:
    threshold: float = 0.09  # tuned on WikiRef220 (pairwise F1 0.91); 0.07-0.09 all score about 0.90
    max_gap: dt.timedelta = dt.timedelta(days=7)
    entity_weight: float = 1.0
    near_duplicate_threshold: float = 0.8
    centroid_terms: int = 1000
    index_terms: int = 100
    max_candidates: int = 30  # stories scored in full per article: the best by their dot product over the index keys
    # Bounds on the window's state, whatever the input's dates: past them the oldest leave the window early (counted in
    # the story_window_evictions metric). About 1.7 KB per article (near-duplicate index, story membership) and up to
    # about 60 KB per story on BBC (its centroid holds up to `centroid_terms` terms): together at most about 140 MiB.
    max_window_articles: int = 10_000
    max_active_stories: int = 2_000


def _stopwords() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | {"said", "says", "year", "years", "told", "would", "also", "could", "mr", "mrs", "ms"}


def _hash(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) % _DIMS


class ArticleFeatures(NamedTuple):
    """What story clustering needs of an article: small, picklable, computed in parallel."""

    article_id: str
    published_at: dt.datetime
    source: Optional[str]
    title: Optional[str]
    # The hashed terms (uint32, ascending) and their sublinear tf (float64), as packed arrays: about 12 bytes a term
    # where a tuple of (int, float) pairs took about 100, in the story stage's input and in the lookback.
    term_ids: bytes
    term_tf: bytes
    entities: tuple[str, ...]
    minhash: bytes  # NUM_PERM uint32 values (the affine32 scheme's hash values have 32 bits)

    def terms(self) -> list[tuple[int, float]]:
        """(hashed term, sublinear tf) pairs, by term, as Python numbers."""
        return list(zip(numpy.frombuffer(self.term_ids, dtype=numpy.uint32).tolist(), numpy.frombuffer(self.term_tf, dtype=numpy.float64).tolist()))


def shingles(words: list[str], k: int = 5) -> set[bytes]:
    return {" ".join(words[i : i + k]).encode("utf-8") for i in range(max(1, len(words) - k + 1))}


@functools.lru_cache(maxsize=1)
def _permutations() -> numpy.ndarray:
    """MinHash's random permutations, a pure function of (NUM_PERM, seed, scheme): drawn once per
    process instead of once per MinHash, which datasketch does by default."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, scheme=MINHASH_SCHEME).permutations


def signature(minhash: bytes) -> numpy.ndarray:
    """ArticleFeatures.minhash as the uint32 values it holds (read-only, sharing the bytes)."""
    if len(minhash) != NUM_PERM * 4:
        raise ValueError(f"a MinHash signature is {NUM_PERM} uint32 values ({NUM_PERM * 4} bytes), not {len(minhash)} bytes")
    return numpy.frombuffer(minhash, dtype=numpy.uint32)


class NearDuplicateIndex:
    """Banded LSH over MinHash signatures: the articles that may have Jaccard >= `threshold` with a signature.

    The candidates of datasketch's MinHashLSH (the same bands: its own choice of b bands of r rows for
    the threshold), in a third of its memory, which matters because the story state holds every article
    of the window: per article, its signature as uint32 and one 64-bit key per band (a stable hash of
    the band, so a pickled index works in another process), where MinHashLSH keeps the band bytes in two
    places and a set per bucket. 1,290 bytes per article against 3,686 with MinHashLSH and uint64
    signatures (BBC, tracemalloc). Candidates are checked on the whole signature by the caller.
    """

    def __init__(self, threshold: float, num_perm: int = NUM_PERM):
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.bands, self.rows = lsh.b, lsh.r
        self._buckets: list[dict[int, object]] = [{} for _ in range(self.bands)]  # band key -> an id, or a list of ids
        self._signatures: dict[str, numpy.ndarray] = {}

    def _keys(self, sig: numpy.ndarray) -> list[int]:
        r = self.rows
        return [int.from_bytes(hashlib.blake2b(sig[i * r : (i + 1) * r].tobytes(), digest_size=8).digest(), "little") for i in range(self.bands)]

    def __len__(self) -> int:
        return len(self._signatures)

    def signature(self, key: str) -> numpy.ndarray:
        return self._signatures[key]

    def insert(self, key: str, sig: numpy.ndarray) -> None:
        if key in self._signatures:
            raise ValueError(f"{key!r} is already in the near-duplicate index")
        self._signatures[key] = sig
        for bucket, band in zip(self._buckets, self._keys(sig)):
            held = bucket.get(band)
            if held is None:
                bucket[band] = key
            elif isinstance(held, list):
                held.append(key)
            else:
                bucket[band] = [held, key]

    def remove(self, key: str) -> None:
        for bucket, band in zip(self._buckets, self._keys(self._signatures.pop(key))):
            held = bucket[band]
            if isinstance(held, list):
                held.remove(key)
                if len(held) == 1:
                    bucket[band] = held[0]
            else:
                del bucket[band]

    def query(self, sig: numpy.ndarray) -> set[str]:
        found: set[str] = set()
        for bucket, band in zip(self._buckets, self._keys(sig)):
            held = bucket.get(band)
            if isinstance(held, list):
                found.update(held)
            elif held is not None:
                found.add(held)
        return found


def features_of(article_id: str, published_at: dt.datetime, source, title, body: str, entity_ids: Iterable[str], stopwords: frozenset[str]) -> ArticleFeatures:
    from datasketch import MinHash

    words = _WORD.findall(body.lower())
    counts = Counter(_hash(w) for w in words if w not in stopwords)
    ids = sorted(counts)
    mh = MinHash(num_perm=NUM_PERM, seed=1, scheme=MINHASH_SCHEME, permutations=_permutations())
    mh.update_batch(list(shingles(body.lower().split())))
    if (mh.hashvalues >> numpy.uint64(32)).any():
        raise ValueError(f"MinHash values wider than 32 bits: the {MINHASH_SCHEME} scheme gives 32")
    return ArticleFeatures(
        article_id, published_at, source, title,
        numpy.array(ids, dtype=numpy.uint32).tobytes(), numpy.array([1.0 + math.log(counts[h]) for h in ids], dtype=numpy.float64).tobytes(),
        tuple(sorted(set(entity_ids))), mh.hashvalues.astype(numpy.uint32).tobytes(),
    )


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
    centroid: dict[str, float]
    last_seen: dt.datetime
    index_keys: tuple[str, ...] = ()
    norm: float = 1.0  # of the centroid, kept with it so a comparison costs one pass over the article's vector


class StoryClusterer:
    """Online clustering state. ``add(features)`` assigns one article; call in event-time order."""

    def __init__(self, config: StoryConfig = StoryConfig()):
        self.config = config
        self._df: Counter = Counter()
        self._n = 0
        self._stories: OrderedDict[str, _Story] = OrderedDict()  # by last_seen, oldest first
        self._index: dict[str, set[str]] = {}
        self._near = NearDuplicateIndex(config.near_duplicate_threshold)
        self._near_items: deque[tuple[dt.datetime, str]] = deque()  # by published_at, for expiry
        self._story_of: dict[str, str] = {}
        self._left: list[str] = []  # stories that left the window since take_left()
        self.evictions = 0  # articles and stories that left the window early, for the size bounds

    # --- vectors ---------------------------------------------------------------------------

    def _vector(self, f: ArticleFeatures, terms: list[tuple[int, float]]) -> dict[str, float]:
        n = self._n + 1
        # Keys interned: every story's centroid and the inverted index then share one string per feature (pickled
        # once too), where each held its own copy; the centroids were most of the story state (BBC: 58 MiB).
        vec = {sys.intern(f"t{h}"): tf * (math.log((n + 1) / (self._df[h] + 1)) + 1.0) for h, tf in terms}
        for e in f.entities:
            vec[sys.intern(f"e{e}")] = self.config.entity_weight * (math.log((n + 1) / (self._df[e] + 1)) + 1.0)
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {k: v / norm for k, v in vec.items()}

    @staticmethod
    def _cosine(vec: dict[str, float], rank: dict[str, int], story: _Story) -> float:
        """Cosine of a unit article vector and a story centroid (whose norm is cached); `rank` is each key's place in `vec`.

        The dot product runs over the keys the two share (a set intersection, in C), summed in the article vector's own
        key order: the terms it leaves out are exact zeros, so the sum is the one over every key of the vector, bit for bit.
        """
        centroid = story.centroid
        return sum(vec[k] * centroid[k] for k in sorted(vec.keys() & centroid.keys(), key=rank.__getitem__)) / story.norm

    # --- state upkeep ----------------------------------------------------------------------

    def _expire(self, now: dt.datetime) -> None:
        horizon = now - self.config.max_gap
        while self._stories and next(iter(self._stories.values())).last_seen < horizon:
            self._drop_oldest_story()
        while self._near_items and self._near_items[0][0] < horizon:
            self._drop_oldest_article()

    def _bound(self) -> None:
        """Keep the window within its size bounds: the least recently updated stories and the oldest articles leave first."""
        while len(self._stories) > self.config.max_active_stories:
            self._drop_oldest_story()
            self.evictions += 1
        while len(self._near_items) > self.config.max_window_articles:
            self._drop_oldest_article()
            self.evictions += 1

    def _drop_oldest_story(self) -> None:
        sid, story = self._stories.popitem(last=False)
        for key in story.index_keys:
            self._index.get(key, set()).discard(sid)
        self._left.append(sid)

    def _drop_oldest_article(self) -> None:
        _, key = self._near_items.popleft()
        self._near.remove(key)
        self._story_of.pop(key, None)

    def take_left(self) -> list[str]:
        """The stories that left the window since the last call (they take no more articles)."""
        left, self._left = self._left, []
        return left

    def _reindex(self, story: _Story) -> None:
        for key in story.index_keys:
            self._index.get(key, set()).discard(story.story_id)
        top = _by_weight(story.centroid.items())
        story.centroid = dict(top[: self.config.centroid_terms])
        weights = list(story.centroid.values())
        story.norm = math.sqrt(sum(map(operator.mul, weights, weights))) or 1.0  # the same sum as a generator's, in C
        story.index_keys = tuple(k for k, _ in top[: self.config.index_terms])
        for key in story.index_keys:
            self._index.setdefault(key, set()).add(story.story_id)

    def active_stories(self) -> int:
        return len(self._stories)

    # --- assignment ------------------------------------------------------------------------

    def _candidates(self, vec: dict[str, float]) -> list[str]:
        """The active stories worth a full comparison: those indexed under the article's strongest
        keys, best first by the dot product over those keys alone, at most `max_candidates`.

        However many stories are active, a full cosine is computed for at most `max_candidates`.
        """
        keys = [k for k, _ in _by_weight(vec.items())[: self.config.index_terms]]
        partial: dict[str, float] = {}
        stories = self._stories
        for k in keys:
            w = vec[k]
            for sid in self._index.get(k, ()):
                story = stories[sid]
                partial[sid] = partial.get(sid, 0.0) + w * story.centroid[k] / story.norm
        return [sid for sid, _ in _by_weight(partial.items())[: self.config.max_candidates]]

    def add(self, f: ArticleFeatures, story_id: Optional[str] = None) -> Assignment:
        """Assign one article (the next in event time). A given `story_id` (a prior run's) is kept as it is."""
        self._expire(f.published_at)
        terms = f.terms()
        vec = self._vector(f, terms)
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
                rank = {k: i for i, k in enumerate(vec)}
                for sid in self._candidates(vec):
                    story = self._stories[sid]
                    centroid = story.centroid
                    sim = self._cosine(vec, rank, story)
                    # Without a shared entity, text alone must be twice as similar: short articles share stock words.
                    needed = self.config.threshold if entity_keys & centroid.keys() else 2 * self.config.threshold
                    if sim >= needed and sim > best:
                        best_sid, best = sid, sim
        sid = story_id or best_sid or stable_id("sty_", f.article_id)
        story = self._stories.pop(sid, None) or _Story(sid, {}, f.published_at)
        for k, v in vec.items():
            story.centroid[k] = story.centroid.get(k, 0.0) + v
        story.last_seen = max(story.last_seen, f.published_at)
        self._stories[sid] = story  # most recent last
        self._reindex(story)
        # update online statistics and the near-duplicate index after the decision
        self._n += 1
        self._df.update({h for h, _ in terms})
        self._df.update(set(f.entities))
        self._near.insert(f.article_id, sig)
        self._near_items.append((f.published_at, f.article_id))
        self._story_of[f.article_id] = sid
        self._bound()
        return Assignment(f.article_id, sid, round(best, 4), near_of, near_score)


# --- story book: aggregates, story alerts, breaking news ------------------------------------


@dataclasses.dataclass(frozen=True)
class BreakingConfig:
    """breaking_story fires when a story's articles in the last `window` reach `min_articles` and
    `factor` times its own baseline rate over the `baseline` before that window."""

    window: dt.timedelta = dt.timedelta(hours=6)
    baseline: dt.timedelta = dt.timedelta(hours=48)
    factor: float = 3.0
    min_articles: int = 3


class StoryInput(NamedTuple):
    features: ArticleFeatures
    entity_names: tuple[tuple[str, str, str], ...]  # (entity_id, name, type), most mentioned first
    story_id: Optional[str] = None  # set for articles of earlier runs (the lookback), whose story is settled


def story_input(tagged, stopwords: frozenset[str], story_id: Optional[str] = None) -> StoryInput:
    a = tagged.article
    ids = [e.entity_id for e in a.entities]
    feats = features_of(a.article_id, a.published_at, a.source, a.title, a.body, ids, stopwords)
    return StoryInput(feats, tuple((e.entity_id, e.name, e.type) for e in a.entities[:20]), story_id)


@dataclasses.dataclass
class _StoryState:
    story_id: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    article_ids: list[str]
    sources: set[str]
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
    those, only an official status (announced or stronger) replaces it again.
    """

    TOP_ENTITIES = 10

    def __init__(self, statuses: dict[str, tuple[int, bool]], breaking: BreakingConfig = BreakingConfig()):
        self._status = statuses
        self._official = min((r for s, (r, t) in statuses.items() if s in ("announced", "scheduled", "confirmed")), default=4)
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
            st = self.stories[story_id] = _StoryState(story_id, f.published_at, f.published_at, [], set(), Counter(), {}, None, deque())
        st.left = False  # an article of an earlier run may bring a story back into the window
        st.first_seen, st.last_seen = min(st.first_seen, f.published_at), max(st.last_seen, f.published_at)
        st.article_ids.append(f.article_id)
        if f.source:
            st.sources.add(f.source)
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
                story_alert_id=key, version=1, rule_id=alert.rule_id, story_id=st.story_id, title=alert.title,
                severity=alert.severity, status=alert.status, first_seen=at, last_updated=at, source_count=sources,
                article_count=len(st.article_ids), article_ids=[alert.article_id], actors=alert.actors,
                location=alert.location, location_name=alert.location_name, event_start=alert.event_start,
                event_end=alert.event_end, evidence_text=alert.evidence_text, evidence_article_id=alert.article_id,
                evidence_start=alert.evidence_start, evidence_end=alert.evidence_end, cameo_code=alert.cameo_code,
                plover_type=alert.plover_type, confidence=alert.confidence, change="new",
            )
            self._set_alert(row)
            self.events.append(row)
            return
        changes, update = [], {}
        if self._replaces(alert.status, current.status):
            changes.append("status")
            update.update(status=alert.status, title=alert.title, location=alert.location or current.location,
                          location_name=alert.location_name or current.location_name,
                          event_start=alert.event_start or current.event_start, event_end=alert.event_end or current.event_end,
                          evidence_text=alert.evidence_text, evidence_article_id=alert.article_id,
                          evidence_start=alert.evidence_start, evidence_end=alert.evidence_end, confidence=max(alert.confidence, current.confidence))
        if sources > current.source_count:
            changes.append("sources")
        actors = list(current.actors) + [a for a in alert.actors if a.entity_id not in {x.entity_id for x in current.actors}]
        update.update(
            last_updated=max(at, current.last_updated), source_count=max(sources, current.source_count),
            article_count=len(st.article_ids), article_ids=sorted(set(current.article_ids) | {alert.article_id}), actors=actors[:12],
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
            alert_id=stable_id("alr_", "breaking_story", st.story_id, now.isoformat()), rule_id="breaking_story",
            title=f"Breaking story: {st.title or evidence}", severity="high", status="reported", article_id=f.article_id,
            story_id=st.story_id, actors=[], evidence_text=evidence, evidence_start=0, evidence_end=0,
            cues=[f"articles_in_window:{recent}", f"baseline_per_window:{baseline_rate:.2f}"], cameo_code="n/a",
            plover_type="n/a", confidence=0.6, published_at=now,
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
            rows.append(Story(
                story_id=st.story_id, first_seen=st.first_seen, last_seen=st.last_seen, article_count=len(st.article_ids),
                source_count=len(st.sources), sources=sorted(st.sources),
                top_entities=[StoryEntity(entity_id=e, name=st.names[e][0], type=st.names[e][1], articles=n) for e, n in top],
                title=st.title, article_ids=sorted(st.article_ids), alert_rule_ids=sorted({a.rule_id for a in alerts}),
                alerts=[StoryAlertRef(rule_id=a.rule_id, status=a.status, version=a.version) for a in alerts],
            ))
        return rows

    def alert_rows(self) -> list:
        touched = {sid for sid, st in self.stories.items() if st.touched}
        return [a for a in self.alerts.values() if a.story_id in touched]


# --- the Beam stage ------------------------------------------------------------------------


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

    def __init__(self, config: StoryConfig, breaking: BreakingConfig, rules_path: Optional[str], checkpoint: StoryCheckpoint):
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
            statuses = {lv.status: (lv.rank, lv.terminal) for lv, _ in pack.status}
            clusterer, book = StoryClusterer(self._config), StoryBook(statuses, self._breaking)
        for alert in sorted(restored, key=lambda a: (a.story_alert_id, a.version)):
            book.restore(alert)
        assignments = []
        evicted = clusterer.evictions
        for inp in sorted(prior + new, key=_order):
            is_prior = inp.story_id is not None
            try:
                assignment = clusterer.add(inp.features, story_id=inp.story_id)
                for sid in clusterer.take_left():
                    book.forget(sid)
                book.add(inp, assignment.story_id, alerts.get(inp.features.article_id, []), prior=is_prior)
            except Exception as err:  # noqa: BLE001 - one article must not stop the stage that orders all of them
                # The stage is one state over every article in event time, so the article is not held back until it
                # ends (its mentions would wait with it): it keeps its rows, in a story of its own, with a flag.
                article_id = inp.features.article_id
                self._failures(Reason.STORY_FEATURES_FAILED, article_id, err)
                metrics.INTERNAL_ERRORS.inc()
                assignment = Assignment(article_id, inp.story_id or stable_id("sty_", article_id), 0.0, failed=True)
            if not is_prior:
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

    def __init__(self, config: StoryConfig = StoryConfig(), breaking: BreakingConfig = BreakingConfig(), rules_path: Optional[str] = None,
                 checkpoint: StoryCheckpoint = StoryCheckpoint()):
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
            | "Assign" >> beam.ParDo(_AssignStoriesFn(self._config, self._breaking, self._rules_path, self._checkpoint)).with_outputs(
                self.STORIES, self.STORY_ALERTS, self.EVENTS, main="assignments"
            )
        )
