"""Stories: near-duplicates and online story clustering over articles in event-time order.

The package, one concern a module: features.py (what is compared of an article), clusterer.py (the online
clusterer), near.py (its near-duplicate index), book.py (stories' aggregates and story alerts), stage.py (the Beam
stage, AssignStories, apart from the plain-Python engine, as transforms/alerts.py is from its rules).

Each article is compared only with stories active in a time window (last article at most
`max_gap` before it) that share one of its keys (an inverted index over each story's core keys): the cost per
article does not grow with the articles seen, and stories that fall out of the window are expired. Assignment is
online: it depends only on articles before it in event time, ties broken by article id.

A story is one event, whatever the length of its articles' texts (a headline alone, a headline and a one-line summary,
a full report), and it does not chain into a topic:

- An article's vector is TF-IDF over its `article_keys` (100) strongest keys: stemmed content words of the body, the
  title's words weighted `title_weight` (3; an untitled article's lede stands in), and entity ids (document
  frequencies counted online, from earlier articles only). A headline has a handful of keys, a report up to 100.
- A story is matched on its core, the sum of its first `core_size` (8) articles' vectors. Later members join without
  moving it, so the story cannot drift from event to neighbouring event (BBC, undated, once chained whole sections
  into 250-article "stories" through a centroid that absorbed every member).
- The cosine is taken against the core cut to its strongest keys, `story_keys_per_key` (2) per key of the article:
  a headline is measured against what its story is mainly about, a report against all of it.
- The threshold depends on how much text the article has: `short_threshold` (0.23) up to `short_keys` (8) keys,
  `threshold` (0.3) from `long_keys` (60), linear in between; times `no_entity_factor` (1.5) when the article and
  the story share no entity.

- One event can open two stories online when its first items share few words. At the end of a run
  (`merge_open`, called by the stage before any id leaves it) a story opened in the run joins the older story whose
  core meets its own best: cosine of their `merge_keys` (20) strongest keys at least `merge_threshold` (0.3), an
  entity among both. The older id names both; ids already written are never renamed.

Near-duplicates (MinHash over 5-word shingles, estimated Jaccard >= `near_duplicate_threshold`) are marked with the
earlier article's id and the score, never dropped; they join that article's story.

The window's state is bounded twice: by time (`max_gap`), and by size, for input whose dates
do not move it on (undated files all share one time) or a feed too large for the window:
at most `max_window_articles` articles and `max_active_stories` stories, the oldest leaving
first. The story book forgets a story when the clusterer does, so a long run's memory is that
of its window, not of its history.
"""

from transforms.stories.book import BreakingConfig, StoryBook
from transforms.stories.clusterer import FLAG_STORY_FAILED, Assignment, StoryClusterer, StoryConfig
from transforms.stories.features import (
    MINHASH_SCHEME,
    NUM_PERM,
    ArticleFeatures,
    ArticleText,
    StoryInput,
    features_of,
    load_stopwords,
    minhash_permutations,
    shingles,
    signature,
    story_input,
)
from transforms.stories.near import NearDuplicateIndex
from transforms.stories.stage import STORY_KEY, AssignStories, StoryCheckpoint, load_state, save_state

__all__ = [
    "FLAG_STORY_FAILED",
    "MINHASH_SCHEME",
    "NUM_PERM",
    "STORY_KEY",
    "ArticleFeatures",
    "ArticleText",
    "Assignment",
    "AssignStories",
    "BreakingConfig",
    "NearDuplicateIndex",
    "StoryBook",
    "StoryCheckpoint",
    "StoryClusterer",
    "StoryConfig",
    "StoryInput",
    "features_of",
    "load_state",
    "load_stopwords",
    "minhash_permutations",
    "save_state",
    "shingles",
    "signature",
    "story_input",
]
