"""One small parser per input shape. Each takes decoded text and returns a ParsedArticle.

Parsers only extract; normalization, validation and the choice of publish date happen
once, in :mod:`transforms.parse`. A parser raises InputRejected for content it cannot use.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

from transforms.dates import is_date_line
from transforms.errors import InputRejected, Reason
from transforms.text import SURROGATE
from transforms.urls import safe_url


@dataclasses.dataclass
class ParsedArticle:
    body: str
    input_format: str
    title: Optional[str] = None
    byline: Optional[str] = None
    url: Optional[str] = None
    source: Optional[str] = None
    published: Any = None  # raw value; resolved by transforms.parse
    published_from: str = "metadata"  # "metadata" or "text"
    language: Optional[str] = None
    external_id: Optional[str] = None


def domain_of(url: Optional[str]) -> Optional[str]:
    """The url's host without a leading 'www.': https://www.themoscowtimes.com/… -> themoscowtimes.com.

    None unless the url is one newsbeam keeps (transforms.urls.safe_url): no source from a javascript: url.
    """
    url = safe_url(url)
    if url is None:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else (host or None)


# --- plain text -----------------------------------------------------------------------------

_TITLE_MAX_WORDS = 25
_TITLE_MAX_CHARS = 200
_SENTENCE_END = re.compile(r"[.!:;,…]['\"”’)]*$")


def looks_like_title(line: str) -> bool:
    """A first line is a title when it is short, has 2+ words and does not end like a sentence.

    Ledes ("Russian President Vladimir Putin is embarking on … Ukraine.") end with a full
    stop and run long; headlines ("Putin Poised To Visit North Korea …") do neither.
    """
    words = line.split()
    return 2 <= len(words) <= _TITLE_MAX_WORDS and len(line) <= _TITLE_MAX_CHARS and not _SENTENCE_END.search(line)


def parse_text(text: str) -> ParsedArticle:
    """Plain text: an optional title line, an optional date line, then the body."""
    lines = text.strip().split("\n")
    title = published = None
    if len(lines) > 1 and looks_like_title(lines[0].strip()):
        title = lines.pop(0).strip()
    head = [i for i, line in enumerate(lines[:4]) if line.strip()]
    if head and is_date_line(lines[head[0]]):
        published = lines.pop(head[0]).strip()
    return ParsedArticle(
        body="\n".join(lines).strip(), input_format="text", title=title, published=published, published_from="text"
    )


# --- markdown -------------------------------------------------------------------------------

_MD = MarkdownIt("commonmark")
_BYLINE = re.compile(r"^By\s+(.{2,120})$", re.IGNORECASE)
_CREDIT = re.compile(
    r"^(?:(?:Photo|Image|Credit|Picture)s?\s*:|©|\(c\)\s)|^[^.!?]{1,80}(?:\s/\s[^./!?]{1,60}){1,4}$", re.IGNORECASE
)
_RELATED = re.compile(r"^(?:Related(?: articles?)?|Read (?:more|also)|See also|More on this)\s*:", re.IGNORECASE)
_ORIGINAL_URL = re.compile(r"^(?:Original|Source)\s+(?:url|link)\s*:", re.IGNORECASE)
_HEADER_BLOCKS = 6  # bylines, date and credit lines are looked for only this close to the top


def _inline_text(token) -> tuple[str, list[str]]:
    """Plain text of an inline token (link text kept, images dropped) and the link targets in it."""
    parts: list[str] = []
    links: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n" if child.type == "hardbreak" else " ")
        elif child.type == "link_open":
            links.append(child.attrGet("href") or "")
    return "".join(parts).strip(), links


def parse_markdown(text: str) -> ParsedArticle:
    """Markdown: `# Title`, a `By …` byline, a date line, photo credits, related links and an `Original url:`."""
    article = ParsedArticle(body="", input_format="markdown")
    paragraphs: list[str] = []
    want_url = False
    block = 0
    tokens = _MD.parse(text)
    for i, token in enumerate(tokens):
        if token.type != "inline":
            continue
        opener = tokens[i - 1]
        content, links = _inline_text(token)
        block += 1
        if not content and not links:
            continue
        if opener.type == "heading_open" and opener.tag == "h1" and article.title is None:
            article.title = content
            continue
        header = block <= _HEADER_BLOCKS and not paragraphs
        if want_url and links:
            article.url, want_url = links[0], False
            continue
        if _ORIGINAL_URL.match(content):
            rest = [link for link in links if link.startswith("http")]
            article.url = rest[0] if rest else article.url
            want_url = not rest
            continue
        if _RELATED.match(content):
            continue
        if header and article.byline is None and (m := _BYLINE.match(content)):
            article.byline = m.group(1).strip()
            continue
        if header and article.published is None and is_date_line(content):
            article.published = content
            continue
        if header and _CREDIT.match(content) and len(content.split()) <= 12:
            continue
        paragraphs.append(content)
    article.body = "\n\n".join(paragraphs)
    article.source = domain_of(article.url)
    return article


# --- HTML -----------------------------------------------------------------------------------


_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)", re.IGNORECASE)
_META_LANG = re.compile(
    r"<meta\b[^>]*?http-equiv\s*=\s*[\"']?content-language[\"']?[^>]*?content\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_]\w+)*)",
    re.IGNORECASE,
)


def declared_html_language(text: str) -> Optional[str]:
    """The language the page declares: `<html lang="de-DE">`, else `<meta http-equiv="content-language">`. Only the
    head of the page is read. transforms/language.py decides whether it is a language code."""
    head = text[:20_000]
    match = _HTML_LANG.search(head) or _META_LANG.search(head)
    return match.group(1) if match else None


def parse_html(text: str, url: Optional[str] = None) -> ParsedArticle:
    """HTML through trafilatura: main text without navigation, ads or comments, and its metadata."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(text, url=url, with_metadata=True, include_comments=False)
    except Exception as err:  # trafilatura raises lxml's and its own errors on broken markup
        raise InputRejected(Reason.MALFORMED_HTML, f"{type(err).__name__}: {err}") from None
    if doc is None:
        raise InputRejected(Reason.MALFORMED_HTML, "trafilatura found no main content")
    title = (doc.title or "").strip() or None
    body = (doc.text or "").strip()
    if title and body.startswith(title):
        body = body[len(title) :].lstrip("\n")
    page_url = doc.url or url
    return ParsedArticle(
        body=body,
        input_format="html",
        title=title,
        byline=doc.author,
        url=page_url,
        source=domain_of(page_url) or doc.sitename,
        published=doc.date,  # trafilatura's date comes from the page; its `filedate` is the clock and is not used
        language=doc.language or declared_html_language(text),
    )


# --- JSON (news-please and the plain shape) -------------------------------------------------

_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline"),
    "body": ("maintext", "text", "body", "content"),
    "published": ("published_at", "date_publish", "published", "datePublished", "pubDate", "date"),
    "url": ("url", "link"),
    "byline": ("byline", "authors", "author"),
    "source": ("source", "source_domain", "publisher"),
    "language": ("language", "lang"),
    "external_id": ("id", "newid", "_id", "guid"),
}


def _field(obj: dict, name: str) -> Any:
    for key in _ALIASES[name]:
        value = obj.get(key)
        if value not in (None, "", []):
            return value
    return None


def _as_text(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(v.strip() for v in value if v.strip()) or None
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return value["name"]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise InputRejected(Reason.INVALID_FIELD, f"'{name}' must be text, got {type(value).__name__}")


def article_from_object(obj: Any, input_format: str) -> ParsedArticle:
    """A JSON object in news-please's field names or the plain {title, text, published_at, url, source} shape."""
    if isinstance(obj, list):
        raise InputRejected(
            Reason.NOT_AN_ARTICLE,
            f"a JSON array of {len(obj)} items; a .json file holds one article object, "
            "write many as one object per line in a .jsonl file",
        )
    if not isinstance(obj, dict):
        raise InputRejected(Reason.NOT_AN_ARTICLE, f"a JSON {type(obj).__name__}, not an object")
    body = _field(obj, "body")
    if body is not None and not isinstance(body, str):
        raise InputRejected(
            Reason.INVALID_FIELD, f"the body ('maintext' or 'text') must be a string, got {type(body).__name__}"
        )
    url = _as_text("url", _field(obj, "url"))
    return ParsedArticle(
        body=body or "",
        input_format=input_format,
        title=_as_text("title", _field(obj, "title")),
        byline=_as_text("authors", _field(obj, "byline")),
        url=url,
        source=_as_text("source", _field(obj, "source")) or domain_of(url),
        published=_field(obj, "published"),
        language=_as_text("language", _field(obj, "language")),
        external_id=_as_text("id", _field(obj, "external_id")),
    )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # only such an escape can decode to a lone surrogate


def load_json(text: str, where: str = "") -> Any:
    """A JSON value, or InputRejected(MALFORMED_JSON) saying what is wrong and where (`where` prefixes the detail).

    Nesting too deep for the decoder and integers too long to convert are malformed input, not newsbeam's failure.
    A lone surrogate escape ("\\ud800") is valid JSON but not text: it becomes U+FFFD, so every field encodes.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputRejected(
            Reason.MALFORMED_JSON, f"{where}{err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    except RecursionError:
        raise InputRejected(Reason.MALFORMED_JSON, f"{where}nested too deeply to read") from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        raise InputRejected(Reason.MALFORMED_JSON, f"{where}{err}") from None
    return _without_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


def _without_surrogates(value: Any) -> Any:
    """`value` with lone surrogates in its strings (keys too) replaced by U+FFFD; iterative, for any depth."""
    if isinstance(value, str):
        return SURROGATE.sub("\ufffd", value)
    root = [value]
    stack = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        item = holder[key]
        if isinstance(item, str):
            holder[key] = SURROGATE.sub("\ufffd", item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
        elif isinstance(item, dict):
            fixed = {SURROGATE.sub("\ufffd", k): v for k, v in item.items()}
            holder[key] = fixed
            stack.extend((fixed, k) for k in fixed)
    return root[0]


def parse_json(text: str) -> ParsedArticle:
    return article_from_object(load_json(text), "json")


def parse_jsonl_line(text: str) -> ParsedArticle:
    return article_from_object(load_json(text), "jsonl")


# --- picking a parser -----------------------------------------------------------------------

_MARKDOWN_START = re.compile(r"\s*#{1,6}\s+\S")
_MARKDOWN_BYLINE = re.compile(r"^By \[[^\]]+\]\(", re.MULTILINE)
_HTML_SIGNS = re.compile(r"^\s*(?:<!doctype html|<html[\s>])", re.IGNORECASE)

PARSERS: dict[str, Callable[[str], ParsedArticle]] = {
    "text": parse_text,
    "markdown": parse_markdown,
    "html": parse_html,
    "json": parse_json,
    "jsonl": parse_jsonl_line,
}
EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def format_of(extension: str) -> str:
    """The parser named by a file's extension; InputRejected for one newsbeam does not read."""
    fmt = EXTENSIONS.get(extension)
    if fmt is None:
        shown = f"'{extension}'" if extension else "(none)"
        raise InputRejected(Reason.UNSUPPORTED_EXTENSION, shown)
    return fmt


def detect_format(extension: str, text: str) -> str:
    """The parser for an input: by extension, with .txt files sniffed for markdown and HTML (seed 000 is markdown in a
    .txt)."""
    fmt = format_of(extension)
    if fmt == "text":
        head = text[:4000]
        if _HTML_SIGNS.match(head):
            return "html"
        if _MARKDOWN_START.match(head) or _MARKDOWN_BYLINE.search(head):
            return "markdown"
    return fmt
