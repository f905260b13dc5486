"""Stories: near-duplicates and online story clustering over articles in event-time order.

The package, one concern a module: features.py (what is compared of an article), clusterer.py (the online
clusterer and its near-duplicate index), book.py (stories' aggregates and story alerts), stage.py (the Beam
stage, AssignStories, apart from the plain-Python engine, as transforms/alerts.py is from its rules).

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

from transforms.stories.book import BreakingConfig, StoryBook
from transforms.stories.clusterer import FLAG_STORY_FAILED, Assignment, NearDuplicateIndex, StoryClusterer, StoryConfig
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
