"""A mention as the taggers give it, and how a long text is cut for a model: shared by the English tagger
(transforms/entities.py) and the taggers of other languages (transforms/multilang.py)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Mention:
    entity_id: str
    canonical_name: str
    type: str
    start_char: int
    end_char: int
    sentence_index: int
    resolution: str
    source: str = ""  # what found the span: the model's name, or "gazetteer" (EntityMention.source)


# Where a long text may be cut, best first: after a paragraph, a line, a sentence, a space.
_CUTS = ("\n\n", "\n", ". ", "? ", "! ", " ")


def split_for_model(text: str, limit: int) -> list[str]:
    """`text` in consecutive pieces of at most `limit` characters that join back to it exactly.

    Each cut falls at the last paragraph break in reach, else the last line break, sentence end or
    space, so that no name is cut in two; only a run of `limit` characters without any of those is cut
    where the limit falls. The model reads each piece as a text of its own (its context reaches a few
    tokens, so a cut at a paragraph changes nothing).
    """
    if len(text) <= limit:
        return [text]
    pieces, pos = [], 0
    while len(text) - pos > limit:
        window = text[pos : pos + limit]
        cut = next((i + len(sep) for sep in _CUTS if (i := window.rfind(sep)) > 0), limit)
        pieces.append(text[pos : pos + cut])
        pos += cut
    pieces.append(text[pos:])
    return pieces
