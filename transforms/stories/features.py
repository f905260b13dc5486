"""Story features: what the clusterer compares of each article (hashed terms of its body and of its title, entity
ids, a MinHash signature), and the stop words and MinHash permutations they need, loaded once per process.

Words are lower-cased and lightly stemmed (`stem`: plural, -ed, -ing and -e endings), so that a headline's
"removes" meets a body's "removed". The title's words are kept apart from the body's: a headline says what the event
is, and the clusterer weighs its words above the body's (see StoryConfig.title_weight). A body that repeats the
title first (or is only the title: a headline-only feed item) does not count those words twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import zlib
from collections import Counter
from typing import Iterable, NamedTuple, Optional

import numpy

_WORD = re.compile(r"[a-z][a-z'’-]{2,}")
_POSSESSIVE = re.compile(r"['’]s?$")
_SENTENCE = re.compile(r"[.!?]['\"”’)]*(?:\s|$)")
_SUFFIXES = ("ings", "ing", "edly", "ed", "es", "s", "e")
_DIMS = 1 << 20
NUM_PERM = 128
MINHASH_SCHEME = "affine32"


@functools.lru_cache(maxsize=1)
def load_stopwords() -> frozenset[str]:
    """spaCy's English stop words and newsbeam's own list (transforms/data/story_stopwords.txt)."""
    from importlib.resources import files

    from spacy.lang.en.stop_words import STOP_WORDS

    text = files("transforms").joinpath("data", "story_stopwords.txt").read_text(encoding="utf-8")
    own = {line.split("#", 1)[0].strip() for line in text.splitlines()}
    return frozenset(STOP_WORDS) | {w for w in own if w}


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light, deterministic stem: the possessive and one suffix off, keeping at least three letters
    (removes / removed / remove -> remov, talks -> talk, killing -> kill)."""
    word = _POSSESSIVE.sub("", word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def lede(body: str, min_words: int = 6, max_words: int = 40) -> str:
    """The body's first sentence of at least `min_words` words ("Mr." ends none), at most `max_words` words."""
    end = next((m.end() for m in _SENTENCE.finditer(body) if len(body[: m.end()].split()) >= min_words), len(body))
    return " ".join(body[:end].split()[:max_words])


def content_words(text: str, stopwords: frozenset[str]) -> list[str]:
    """The stemmed words of `text` that are not stop words, in order."""
    return [
        stem(w) for w in _WORD.findall(text.lower()) if w not in stopwords and _POSSESSIVE.sub("", w) not in stopwords
    ]


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
    title_ids: bytes = b""  # the hashed content words of the title (uint32, ascending, each once)
    language: Optional[str] = None  # the article's language: a story lists the languages of its articles

    def title_terms(self) -> list[int]:
        return numpy.frombuffer(self.title_ids, dtype=numpy.uint32).tolist()

    def terms(self) -> list[tuple[int, float]]:
        """(hashed term, sublinear tf) pairs, by term, as Python numbers."""
        return list(
            zip(
                numpy.frombuffer(self.term_ids, dtype=numpy.uint32).tolist(),
                numpy.frombuffer(self.term_tf, dtype=numpy.float64).tolist(),
            )
        )


def shingles(words: list[str], k: int = 5) -> set[bytes]:
    return {" ".join(words[i : i + k]).encode("utf-8") for i in range(max(1, len(words) - k + 1))}


@functools.lru_cache(maxsize=1)
def minhash_permutations() -> numpy.ndarray:
    """MinHash's random permutations, a pure function of (NUM_PERM, seed, scheme): drawn once per
    process instead of once per MinHash, which datasketch does by default."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, scheme=MINHASH_SCHEME).permutations


def signature(minhash: bytes) -> numpy.ndarray:
    """ArticleFeatures.minhash as the uint32 values it holds (read-only, sharing the bytes)."""
    if len(minhash) != NUM_PERM * 4:
        raise ValueError(
            f"a MinHash signature is {NUM_PERM} uint32 values ({NUM_PERM * 4} bytes), not {len(minhash)} bytes"
        )
    return numpy.frombuffer(minhash, dtype=numpy.uint32)


class ArticleText(NamedTuple):
    """What features_of reads of an article: an Article has these fields too, and a lookback row becomes one."""

    article_id: str
    published_at: dt.datetime
    source: Optional[str]
    title: Optional[str]
    body: str
    language: Optional[str] = None


def features_of(article: ArticleText, entity_ids: Iterable[str], stopwords: frozenset[str]) -> ArticleFeatures:
    """The story features of `article` (an ArticleText or an Article) with its entity ids."""
    from datasketch import MinHash

    body = article.body
    title = (article.title or "").strip()
    rest = body.lstrip()
    if title and rest.lower().startswith(title.lower()):
        rest = rest[len(title) :]  # the title is counted once, as the title
    counts = Counter(_hash(w) for w in content_words(rest, stopwords))
    ids = sorted(counts)
    # An untitled article (a plain-text file without a title line) stands in its lede: the sentence that says what
    # happened, as a headline does.
    headline = title or lede(rest)
    title_ids = sorted({_hash(w) for w in content_words(headline, stopwords)})
    mh = MinHash(num_perm=NUM_PERM, seed=1, scheme=MINHASH_SCHEME, permutations=minhash_permutations())
    mh.update_batch(list(shingles(body.lower().split())))
    if (mh.hashvalues >> numpy.uint64(32)).any():
        raise ValueError(f"MinHash values wider than 32 bits: the {MINHASH_SCHEME} scheme gives 32")
    return ArticleFeatures(
        article.article_id,
        article.published_at,
        article.source,
        article.title,
        numpy.array(ids, dtype=numpy.uint32).tobytes(),
        numpy.array([1.0 + math.log(counts[h]) for h in ids], dtype=numpy.float64).tobytes(),
        tuple(sorted(set(entity_ids))),
        mh.hashvalues.astype(numpy.uint32).tobytes(),
        numpy.array(title_ids, dtype=numpy.uint32).tobytes(),
        getattr(article, "language", None),
    )


class StoryInput(NamedTuple):
    features: ArticleFeatures
    entity_names: tuple[tuple[str, str, str], ...]  # (entity_id, name, type), most mentioned first
    story_id: Optional[str] = None  # set for articles of earlier runs (the lookback), whose story is settled


def story_input(tagged, stopwords: frozenset[str], story_id: Optional[str] = None) -> StoryInput:
    a = tagged.article
    ids = [e.entity_id for e in a.entities]
    feats = features_of(a, ids, stopwords)
    return StoryInput(feats, tuple((e.entity_id, e.name, e.type) for e in a.entities[:20]), story_id)
