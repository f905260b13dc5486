"""DeduplicateArticles: exact copies (same content_hash) in a run become one article and duplicate references.

The kept copy is the first by (input_uri, input_line), so the choice does not depend on which
worker saw which copy first. Bounded input (a batch run, a stream's micro-batch) groups all copies
of a text at once; unbounded input (a streaming runner) keeps per-text state with timers: copies
that arrive before the watermark passes the earliest are resolved together, later ones refer to
the copy already kept. Copies are never dropped: each one is a Duplicate row.
A text an earlier run already kept (within the lookback) is a duplicate of that article.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Iterator, Optional

import apache_beam as beam
import numpy
from apache_beam.coders import PickleCoder, StrUtf8Coder, VarIntCoder
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Timestamp

from schemas import Article, Duplicate
from transforms import metrics
from transforms.text import stable_id
from transforms.windows import WithEventTime


class KnownHashes:
    """The content hashes of articles kept before (by earlier runs, or a chunked run's earlier chunks), and their ids.

    A chunked run hands every earlier chunk's hashes to the next chunk's dedup, so this grows with the
    run: it is kept as one sorted array of the 32-byte digests, about 40 bytes per text (pickled and in
    memory) where a dict of hex strings took about 280 in memory, in the driver and in every worker. An
    article's id is derived from its content hash (`stable_id("art_", hash)`); only an id that is not
    (written by another version) is stored beside the array.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()):
        digests, other = set(), {}
        for content_hash, article_id in pairs:
            digests.add(bytes.fromhex(content_hash))
            if article_id != stable_id("art_", content_hash):
                other[content_hash] = article_id
            else:
                other.pop(content_hash, None)
        self._hold(
            numpy.frombuffer(b"".join(sorted(digests)), dtype=">u8").reshape(-1, 4), other
        )  # sorted bytes: sorted rows

    def _hold(self, rows: numpy.ndarray, other: dict[str, str]) -> None:
        """Keep sorted digest rows; big-endian, so that a row's bytes are its digest."""
        self._other = other
        self._rows = numpy.array(rows, dtype=">u8", order="C")
        self._first = self._rows[:, 0].copy()

    def with_pairs(self, pairs: Iterable[tuple[str, str]]) -> "KnownHashes":
        """These hashes and more, a later pair's id winning. The sorted rows held are merged with the new ones as
        they are, not turned back into digests or hex (a chunked run adds each chunk's hashes to all the earlier
        ones)."""
        added = KnownHashes(pairs)
        merged = KnownHashes()
        kept_other = {h: a for h, a in self._other.items() if added.get(h) is None}
        merged._hold(numpy.unique(numpy.concatenate([self._rows, added._rows]), axis=0), {**kept_other, **added._other})
        return merged

    def __len__(self) -> int:
        return len(self._rows)

    def _id_of(self, content_hash: str) -> str:
        return self._other.get(content_hash) or stable_id("art_", content_hash)

    def get(self, content_hash: str) -> Optional[str]:
        """The id of the article kept with this content hash, or None."""
        query = numpy.frombuffer(bytes.fromhex(content_hash), dtype=">u8")
        lo, hi = numpy.searchsorted(self._first, query[0], "left"), numpy.searchsorted(self._first, query[0], "right")
        if lo == hi or not (self._rows[lo:hi] == query).all(axis=1).any():
            return None
        return self._id_of(content_hash)

    def items(self) -> Iterator[tuple[str, str]]:
        for row in self._rows:
            content_hash = row.tobytes().hex()
            yield content_hash, self._id_of(content_hash)


def _input_order(article: Article) -> tuple:
    return (article.input_uri, article.input_line or 0)


def as_duplicate(copy: Article, duplicate_of: str) -> Duplicate:
    return Duplicate(
        duplicate_of=duplicate_of,
        content_hash=copy.content_hash,
        url=copy.url,
        source=copy.source,
        title=copy.title,
        published_at=copy.published_at,
        input_uri=copy.input_uri,
        input_line=copy.input_line,
        input_format=copy.input_format,
        ingested_at=copy.ingested_at,
    )


def keep_first(copies: list[Article], earlier: Optional[str]):
    """The first copy by input order is kept, the others refer to it; with `earlier` (a kept id) every copy refers to
    that."""
    copies = sorted(copies, key=_input_order)
    if earlier is None:
        kept, *copies = copies
        metrics.ARTICLES_WRITTEN.inc()
        yield kept
        earlier = kept.article_id
    for copy in copies:
        metrics.DUPLICATES.inc()
        yield beam.pvalue.TaggedOutput(DeduplicateArticles.DUPLICATES, as_duplicate(copy, earlier))


class _KeepFirstFn(beam.DoFn):
    """Bounded input: every copy of a text arrives in one group."""

    def __init__(self, known: KnownHashes):
        self._known = known

    def process(self, keyed):
        content_hash, copies = keyed
        yield from keep_first(list(copies), self._known.get(content_hash))


class _KeepFirstInStreamFn(beam.DoFn):
    """Unbounded input: per content hash, buffer the copies until the watermark passes the earliest, keep the first.

    A copy that arrives after that refers to the kept article, minutes or days later, until the
    `expire` timer (the kept copy's event time plus the horizon) clears the state: state per text
    is bounded in time. The copies buffered together are resolved as in a batch, by input order.
    """

    KEPT = userstate.ReadModifyWriteStateSpec("kept", StrUtf8Coder())
    COPIES = userstate.BagStateSpec("copies", PickleCoder())
    FLUSH_AT = userstate.ReadModifyWriteStateSpec("flush_at", VarIntCoder())
    FLUSH = userstate.TimerSpec("flush", TimeDomain.WATERMARK)
    EXPIRE = userstate.TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, known: dict[str, str], horizon: dt.timedelta):
        self._known = known
        self._horizon_us = int(horizon.total_seconds() * 1_000_000)

    def process(
        self,
        keyed,
        when=beam.DoFn.TimestampParam,
        kept=beam.DoFn.StateParam(KEPT),
        copies=beam.DoFn.StateParam(COPIES),
        flush_at=beam.DoFn.StateParam(FLUSH_AT),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        content_hash, copy = keyed
        earlier = kept.read() or self._known.get(content_hash)
        if earlier is not None:  # kept earlier in this stream, or by an earlier run (the lookback)
            yield from keep_first([copy], earlier)
            return
        copies.add(copy)
        pending = flush_at.read()
        due = when.micros if pending is None else min(pending, when.micros)
        flush_at.write(due)
        flush.set(Timestamp(micros=due))

    @userstate.on_timer(FLUSH)
    def on_flush(
        self,
        fired=beam.DoFn.TimestampParam,
        kept=beam.DoFn.StateParam(KEPT),
        copies=beam.DoFn.StateParam(COPIES),
        flush_at=beam.DoFn.StateParam(FLUSH_AT),
        expire=beam.DoFn.TimerParam(EXPIRE),
    ):
        buffered = list(copies.read())
        copies.clear()
        flush_at.clear()
        kept.write(min(buffered, key=_input_order).article_id)
        expire.set(Timestamp(micros=fired.micros + self._horizon_us))
        yield from keep_first(buffered, None)

    @userstate.on_timer(EXPIRE)
    def on_expire(self, kept=beam.DoFn.StateParam(KEPT)):
        kept.clear()


class DeduplicateArticles(beam.PTransform):
    """PCollection[Article] -> {'articles': Article, 'duplicates': Duplicate}.

    `known` maps content hashes of articles kept by earlier runs (the lookback) to their ids:
    copies of those become duplicates too, so a text ingested twice is one article across runs.
    Within a stream, a text is remembered for `horizon` of event time after its kept copy.
    """

    ARTICLES = "articles"
    DUPLICATES = "duplicates"

    def __init__(self, known: Optional[KnownHashes] = None, horizon: dt.timedelta = dt.timedelta(days=7)):
        super().__init__()
        self._known = known if known is not None else KnownHashes()
        self._horizon = horizon

    def expand(self, articles):
        key = "KeyByContentHash" >> beam.Map(lambda a: (a.content_hash, a)).with_output_types(tuple[str, Article])
        if articles.is_bounded:  # every copy is there: one group per text (the stateful path costs about 2x the run)
            grouped, fn = articles | key | "GroupCopies" >> beam.GroupByKey(), _KeepFirstFn(self._known)
        else:
            grouped, fn = (
                articles | "EventTime" >> WithEventTime() | key,
                _KeepFirstInStreamFn(self._known, self._horizon),
            )
        return grouped | "KeepFirst" >> beam.ParDo(fn).with_outputs(self.DUPLICATES, main=self.ARTICLES)
