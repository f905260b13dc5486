"""Hard-wrapped plain text back into paragraphs, without moving a character.

Wire copy and many `.txt` files break lines at a fixed width (~70 characters): a sentence runs over
two or three lines, and a sentence splitter, the NER and the alert cues all see a line end where the
writer wrote a space. `unwrap(text)` replaces each such line break with a space, one character for
one, so every offset into the unwrapped text is an offset into the original and back. A break is
kept where the text has a paragraph: a blank line, an indented next line (Reuters marks paragraphs
with four spaces), a short line (a heading, the last line of a paragraph) or a list item.
A short line that ends mid-sentence runs on: the next line goes on in lower case, or the line ends on a comma, a minor
word ("and", "of") or a possessive, or inside open brackets, or it has a few words and no full stop or colon, or its
words are in sentence case (a heading capitalizes them). Reuters cut the dateline off its wires' first lines and left
"Britain's centrist Liberal-Social" above "Democratic Alliance won a surprise victory".

Text is only unwrapped when it looks wrapped: at least MIN_WRAPPED_LINES lines run on into a next
line, and those lines end near one width (most within WIDTH_SPREAD characters of the longest).
Web pages and JSON bodies have one line per paragraph and come through unchanged.
"""

from __future__ import annotations

import re
import statistics

MIN_WRAPPED_LINES = 3
MIN_WIDTH, MAX_WIDTH = 40, 110  # a wrapped line is this long
SHORT_SHARE = 0.6  # a line shorter than this share of the width ends its paragraph
WIDTH_SPREAD = 15
MIN_RUN_ON_WORDS = 4  # a short line of this many words, ending mid-sentence, runs on too
_MINOR_WORDS = frozenset("a an and as at by for from in into of on or the to with".split())  # lower case in a heading
_LIST_ITEM = re.compile(r"^\s*(?:[-*•–]|\d{1,3}[.)])\s")


def _runs_on(line: str, following: str) -> bool:
    """A line break inside a paragraph: the next line is text, not indented, not a list item."""
    return bool(following) and not following[0].isspace() and not _LIST_ITEM.match(following) and bool(line.strip())


def _joins(line: str, following: str, width: int) -> bool:
    """A wrapped line: long, or short but cut mid-sentence (a wire's first line after its dateline was cut off)."""
    line = line.rstrip()
    if not _runs_on(line, following) or line.endswith(":"):
        return False
    if len(line) >= SHORT_SHARE * width:
        return True
    words = line.split()
    if following[0].islower() or line[-1] == ",":  # "Thousands of black\nmineworkers roared support"
        return True
    # Nothing ends on "and", "of" or a possessive, nor inside brackets: "International Minerals and\nChemical Corp said"
    if words[-1] in _MINOR_WORDS or line.endswith(("'s", "’s")) or _open_brackets(line):
        return True
    # No full stop: a short line of several words, or of words in sentence case ("Britain's centrist Liberal-Social\n
    # Democratic Alliance won"), where a heading capitalizes its words or is in capitals.
    sentence_case = any(w[0].islower() and w not in _MINOR_WORDS for w in words[1:])
    return line[-1].isalnum() and (len(words) >= MIN_RUN_ON_WORDS or sentence_case)


def _open_brackets(line: str) -> bool:
    return line.count("(") > line.count(")") or line.count("<") > line.count(">") or line.count("[") > line.count("]")


def wrap_width(lines: list[str]) -> int:
    """The width the text was wrapped at, or 0 when it does not look hard-wrapped."""
    lengths = [
        len(line)
        for line, following in zip(lines, lines[1:])
        if _runs_on(line, following) and MIN_WIDTH <= len(line) <= MAX_WIDTH
    ]
    if len(lengths) < MIN_WRAPPED_LINES:
        return 0
    width = max(lengths)
    near = sum(1 for n in lengths if n >= width - WIDTH_SPREAD)
    if near < 0.6 * len(lengths) or statistics.median(lengths) < width - WIDTH_SPREAD:
        return 0
    return width


def unwrap(text: str) -> str:
    """`text` with the line breaks inside wrapped paragraphs as spaces; the same length, every other character kept."""
    if text.count("\n") < MIN_WRAPPED_LINES:
        return text
    lines = text.split("\n")
    width = wrap_width(lines)
    if not width:
        return text
    joined = [" " if _joins(line, following, width) else "\n" for line, following in zip(lines, lines[1:])]
    return "".join(line + sep for line, sep in zip(lines, joined)) + lines[-1]
