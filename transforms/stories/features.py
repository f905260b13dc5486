"""Story features: what the clusterer compares of each article (hashed TF-IDF terms, entity ids, a MinHash
signature), and the stop words and MinHash permutations they need, loaded once per process.
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
_DIMS = 1 << 20
NUM_PERM = 128
MINHASH_SCHEME = "affine32"


def load_stopwords() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | {
        "said",
        "says",
        "year",
        "years",
        "told",
        "would",
        "also",
        "could",
        "mr",
        "mrs",
        "ms",
    }


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


def features_of(article: ArticleText, entity_ids: Iterable[str], stopwords: frozenset[str]) -> ArticleFeatures:
    """The story features of `article` (an ArticleText or an Article) with its entity ids."""
    from datasketch import MinHash

    body = article.body

    words = _WORD.findall(body.lower())
    counts = Counter(_hash(w) for w in words if w not in stopwords)
    ids = sorted(counts)
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
