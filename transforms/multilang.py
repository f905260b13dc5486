"""Entities of articles that are not in English: each language's own NER model where an offline one exists, the
gazetteer in every language, and never a model built for another language.

    ForeignTagger("fr").tag(texts)  ->  one list of Mentions per text (as EntityTagger.tag for English)

transforms/data/languages.yaml says which language has which model (French: spaCy's fr_core_news_sm; Russian:
natasha's slovnet NER). Every other language gets the gazetteer's entities only: its names in that language
(aliases.csv, pycountry's translated country names) found in the text, with their offsets and resolution
`gazetteer`, and nothing guessed.

Names are matched word by word on keys (inflection.yaml): "Путина" and "Путин" are both "путин" (natasha's
lemmatizer), "Pjöngjangs" and "Pjöngjang" both "pjöngjang" (a suffix rule). Chinese and Japanese, which do not put
spaces between words, are matched character by character.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import gettext
import re
import unicodedata
from functools import lru_cache
from typing import Callable, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transforms.gazetteer import (
    Gazetteer,
    GazetteerEntry,
    GazetteerError,
    _data_text,
    _split,
    derived_id,
    load_gazetteer,
)
from transforms.language import NerModel, language_gate
from transforms.mentions import Mention, split_for_model

# The languages whose country names come from pycountry's ISO 3166 translations, and each one's gettext locale.
COUNTRY_NAME_LOCALES = {
    "ru": "ru",
    "uk": "uk",
    "fr": "fr",
    "de": "de",
    "es": "es",
    "it": "it",
    "pt": "pt",
    "pl": "pl",
    "tr": "tr",
    "ar": "ar",
    "zh": "zh_CN",
    "ja": "ja",
    "ko": "ko",
    "vi": "vi",
}
# Scripts written without spaces between words: one character is one token.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
PREFIX = 3
_SENTENCE_END = re.compile(r"[.!?…](?=\s)|[。！？]")


class Inflection(BaseModel):
    """inflection.yaml: how one language's words are reduced to match keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lemmatizer: Optional[str] = Field(None, pattern="^natasha$")
    suffixes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    min_stem: int = Field(3, ge=1)
    letters: dict[str, str] = Field(default_factory=dict)
    source: str = Field(min_length=1)


class AliasRow(BaseModel):
    """aliases.csv: one entity's names in one language, and where that list comes from (sources.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    type: str
    lang: str = Field(pattern="^[a-z]{2,3}$")
    aliases: tuple[str, ...] = Field(min_length=1)
    source: str


@lru_cache(maxsize=1)
def alias_sources() -> dict[str, str]:
    return yaml.safe_load(_data_text("gazetteer", "sources.yaml"))


@lru_cache(maxsize=1)
def inflection_rules() -> dict[str, Inflection]:
    try:
        raw = yaml.safe_load(_data_text("gazetteer", "inflection.yaml"))["languages"]
        return {lang: Inflection.model_validate(rule) for lang, rule in raw.items()}
    except (ValidationError, KeyError, TypeError) as err:
        raise GazetteerError(f"inflection.yaml: {err}") from None


@lru_cache(maxsize=1)
def alias_rows() -> tuple[AliasRow, ...]:
    rows, sources = [], alias_sources()
    for i, row in enumerate(csv.DictReader(_data_text("gazetteer", "aliases.csv").splitlines())):
        where = f"aliases.csv line {i + 2}"
        try:
            parsed = AliasRow(**{**row, "aliases": _split(row.get("aliases"))})
        except ValidationError as err:
            raise GazetteerError(f"{where}: {err}") from None
        if parsed.source not in sources:
            raise GazetteerError(f"{where}: source {parsed.source!r} is not a key of sources.yaml")
        rows.append(parsed)
    return tuple(rows)


def country_names(lang: str) -> dict[str, list[str]]:
    """alpha-2 -> the country's names in `lang` from pycountry's ISO 3166-1 translations (none when the catalogue has
    no translation: an untranslated name is the English one, which the gazetteer has already)."""
    import pycountry

    locale = COUNTRY_NAME_LOCALES.get(lang)
    if locale is None:
        return {}
    try:
        catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
    except OSError:
        return {}
    out: dict[str, list[str]] = {}
    for country in pycountry.countries:
        names = []
        for field in ("common_name", "name", "official_name"):
            english = getattr(country, field, None)
            if not english:
                continue
            name = re.sub(r"\s*\([^)]*\)", "", catalogue.gettext(english)).strip()
            if name and name != english and "," not in name and name not in names:
                names.append(name)
        if names:
            out[country.alpha_2] = names
    return out


@lru_cache(maxsize=32)
def load_language_gazetteer(lang: str) -> Gazetteer:
    """The gazetteer for text in `lang`: every entry with its English names (they appear in any language: "Kim Jong
    Un", "NATO") and its names in `lang`. Ambiguity is decided within the language, as for English."""
    import pycountry

    base = load_gazetteer()
    extra: dict[tuple[str, str], list[str]] = {}
    by_name = {(e.name, e.type): e for e in base.entries}
    for alpha2, names in country_names(lang).items():
        country = pycountry.countries.get(alpha_2=alpha2)
        entry = next((e for e in base.entries if e.type == "GPE" and country.name in (e.name, *e.aliases)), None)
        if entry is None:
            entry = next(
                (e for e in base.entries if e.type == "GPE" and getattr(country, "common_name", "") == e.name), None
            )
        if entry is not None:
            extra.setdefault((entry.name, entry.type), []).extend(names)
    for row in alias_rows():
        if (row.name, row.type) not in by_name:
            raise GazetteerError(f"aliases.csv: {row.name!r} ({row.type}) is not an entry of the gazetteer")
        if row.lang == lang:
            extra.setdefault((row.name, row.type), []).extend(row.aliases)
    entries = [
        GazetteerEntry(**{**e.model_dump(), "aliases": tuple(dict.fromkeys((*e.aliases, *extra[(e.name, e.type)])))})
        if (e.name, e.type) in extra
        else e
        for e in base.entries
    ]
    return Gazetteer(entries, base.country_ids)


# --- keys: a word as the matcher compares it ----------------------------------------------------------------------


class Keyer:
    """`keyer(text)` -> [(start, end, key)] for the words of `text`, reduced by the language's inflection rules."""

    def __init__(self, lang: str):
        self.lang = lang
        self.rule = inflection_rules().get(lang)
        self._letters = str.maketrans(self.rule.letters) if self.rule and self.rule.letters else None
        self._lemma: Optional[Callable[[str], str]] = None
        if self.rule and self.rule.lemmatizer == "natasha":
            self._lemma = natasha_lemmatizer()
        self.key = lru_cache(maxsize=1 << 15)(self._key)
        # With a lemmatizer (a dictionary look-up, about 1 ms a word in pure Python), only the words that can match: an
        # inflected form shares its first letters with its normal form, so a word whose first PREFIX letters begin no
        # alias word keeps its own form (AliasMatcher sets this).
        self.prefixes: Optional[frozenset[str]] = None

    def _key(self, word: str) -> str:
        word = unicodedata.normalize("NFC", word).casefold()
        word = "".join(c for c in word if not unicodedata.combining(c))
        if self._letters:
            word = word.translate(self._letters)
        if self._lemma is not None:
            word = self._lemma(word)
            if self._letters:
                word = word.translate(self._letters)
        rule = self.rule
        if rule is not None:
            for suffix in sorted(rule.suffixes, key=len, reverse=True):
                if word.endswith(suffix) and len(word) - len(suffix) >= rule.min_stem:
                    word = word[: -len(suffix)]
                    break
            for prefix in sorted(rule.prefixes, key=len, reverse=True):
                if word.startswith(prefix) and len(word) - len(prefix) >= rule.min_stem:
                    word = word[len(prefix) :]
                    break
        return word

    def __call__(self, text: str) -> list[tuple[int, int, str]]:
        return [(m.start(), m.end(), self.key(m.group(0))) for m in _TOKEN.finditer(text)]

    def text_keys(self, text: str) -> list[tuple[int, int, str]]:
        """As calling the keyer, for an article's text: a word no alias word can begin with is not lemmatized."""
        if self.prefixes is None:
            return self(text)
        out = []
        for m in _TOKEN.finditer(text):
            word = m.group(0)
            plain = word.casefold().translate(self._letters) if self._letters else word.casefold()
            out.append((m.start(), m.end(), self.key(word) if plain[:PREFIX] in self.prefixes else plain))
        return out


@lru_cache(maxsize=1)
def natasha_lemmatizer() -> Callable[[str], str]:
    """A word's normal form from natasha's MorphVocab (pymorphy2's Russian dictionary; plain pymorphy2.MorphAnalyzer()
    fails on Python 3.11, natasha's subclass does not): the most likely parse's."""
    from natasha import MorphVocab

    vocab = MorphVocab()

    def lemma(word: str) -> str:
        parses = vocab.parse(word)
        return parses[0].normal_form if parses else word

    return lemma


# --- the gazetteer's names in a text ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Match:
    start: int
    end: int
    entry: GazetteerEntry


class AliasMatcher:
    """Every unambiguous alias of a language gazetteer, as key sequences; `find(text)` gives the longest matches,
    left to right, that do not overlap. An alias written with a capital matches only text that starts with one
    ("Nga" is Russia, "nga" is not)."""

    def __init__(self, gazetteer: Gazetteer, keyer: Keyer):
        self.keyer = keyer
        self.index: dict[tuple[str, ...], tuple[GazetteerEntry, bool]] = {}
        ambiguous: set[tuple[str, ...]] = set()
        for alias, entry in gazetteer.by_alias.items():
            keys = tuple(k for _, _, k in keyer(alias))
            if not keys:
                continue
            capital = alias[:1].isupper()
            found = self.index.get(keys)
            if found is not None and (found[0].id, found[0].type) != (entry.id, entry.type):
                ambiguous.add(keys)
            self.index[keys] = (entry, capital and (found[1] if found else True))
        for keys in ambiguous:
            del self.index[keys]
        self.longest = max((len(k) for k in self.index), default=0)
        if keyer.rule is not None and keyer.rule.lemmatizer:
            keyer.prefixes = frozenset(k[:PREFIX] for keys in self.index for k in keys)

    def find(self, text: str, tokens: Optional[list] = None) -> list[Match]:
        tokens = tokens if tokens is not None else self.keyer.text_keys(text)
        out, i = [], 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                hit = self.index.get(tuple(t[2] for t in tokens[i : i + n]))
                if hit is not None and (not hit[1] or text[tokens[i][0]].isupper()):
                    out.append(Match(tokens[i][0], tokens[i + n - 1][1], hit[0]))
                    i += n
                    break
            else:
                i += 1
        return out

    def lookup(self, text: str) -> Optional[GazetteerEntry]:
        """The entry whose alias is exactly `text`, word for word on keys."""
        hit = self.index.get(tuple(k for _, _, k in self.keyer(text)))
        return hit[0] if hit else None


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
