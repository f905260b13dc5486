"""Property-based tests (hypothesis) of the parse path: bytes in, an Article or InputRejected out.

An exception other than InputRejected from a parser is a bug: the pipeline survives it (the record
becomes an `internal_error` row), but the sender reads "please report it" instead of what is wrong
with the input. Each bug these properties found (deep JSON, huge integers, dates past datetime's
range, lone surrogates, clean_text's order) was fixed; its smallest input stays here as a test.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schemas import Article, to_arrow_table
from tests.conftest import INGESTED_AT
from transforms.dates import YEARS, parse_timestamp
from transforms.errors import InputRejected
from transforms.language import LanguageDetector
from transforms.parse import ParseConfig, build_article
from transforms.parsers import parse_html, parse_json, parse_jsonl_line, parse_markdown, parse_text
from transforms.read import RawInput
from transforms.text import clean_text, decode_bytes

CAP = 20_000
CONFIG = ParseConfig(ingested_at=INGESTED_AT, max_body_bytes=CAP)
PROPERTY = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

# Characters that matter to the parsers, mixed into otherwise arbitrary text: controls and white space that
# clean_text handles, combining marks, BOM and zero-width characters, markup and JSON punctuation.
SPICE = list("\x00\x07\x1b\x7f\r\n\t\x0b\x0c\x85\u00a0\u2028\u2029\u3000\u0301\u0308\ufeff\u200b\u202e")
SPICE += list('eA #<>[]()*_`{}":/&;éßЖ東🔥')
WORDS = (
    "# |## |By Jane Doe|June 12, 2024|2024-06-12|Original url: |[link](http://a.example/x)|"
    "<html>|<!doctype html>|<p>|</p>|<div>|<title>T</title>|<script>|<!--|-->|&amp;|Moscow|"
    "Vladimir Putin said on Monday that the talks would continue.|\n\n|> |- |```"
).split("|")
KEYS = (
    "title|headline|text|maintext|body|content|published_at|date_publish|published|"
    "datePublished|pubDate|date|url|link|byline|authors|author|source|source_domain|publisher|"
    "language|lang|id|newid|_id|guid"
).split("|")
EXTENSIONS = (".txt|.text|.md|.markdown|.html|.htm|.json|.jsonl|.ndjson|.xml|").split("|")
ENCODINGS = "utf-8 utf-8-sig utf-16 utf-16-le utf-16-be utf-32 latin-1 cp1252 cp1251 koi8-r shift_jis gb18030".split()

_pieces = st.one_of(st.characters(), st.sampled_from(SPICE), st.sampled_from(WORDS))
spiced_text = st.lists(_pieces, max_size=80).map("".join)  # any text, rich in what the parsers look at
encoded_text = st.builds(lambda t, enc: t.encode(enc, "replace"), spiced_text, st.sampled_from(ENCODINGS))
sidecar_text = st.one_of(
    st.none(),
    spiced_text,
    st.dictionaries(
        st.sampled_from(["title", "url", "source", "byline", "published_at", "language", "note", "x"]),
        st.one_of(st.none(), st.text(max_size=20), st.integers()),
        max_size=4,
    ).map(json.dumps),
)


@functools.lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    return LanguageDetector()


def json_values(numbers=None, strings=None) -> st.SearchStrategy:
    """Any JSON value (nested lists and objects, keys often the parser's own), made of `numbers` and `strings`."""
    numbers = (
        numbers if numbers is not None else st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
    )
    strings = strings if strings is not None else st.one_of(st.text(max_size=30), st.sampled_from(WORDS))
    leaves = st.one_of(st.none(), st.booleans(), numbers, strings)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=5),
        ),
        max_leaves=20,
    )


def article_objects(numbers=None, strings=None) -> st.SearchStrategy:
    """JSON objects in the shape of an article: any subset of the parser's keys, each with a value of any type."""
    values = json_values(numbers, strings)
    bodies = st.one_of(st.sampled_from(WORDS), spiced_text, values)
    return st.fixed_dictionaries({}, optional={"text": bodies, **{k: values for k in KEYS if k != "text"}})


def _is_unicode(text) -> bool:
    """Whether a str is valid Unicode (no lone surrogates): what Parquet, DuckDB and Polars can store."""
    if text is None:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _assert_valid_article(article: Article) -> None:
    assert isinstance(article, Article)
    assert article.body.strip() and len(article.body.encode("utf-8")) <= CAP
    assert article.published_at.utcoffset() == dt.timedelta(0)
    assert article.article_id.startswith("art_") and len(article.content_hash) == 64
    assert article.word_count >= 0 and article.input_format in ("text", "markdown", "html", "json", "jsonl")
    for name in ("title", "byline", "url", "source", "language", "external_id", "input_uri"):
        assert _is_unicode(getattr(article, name)), (name, getattr(article, name))
    Article.model_validate(article.model_dump())  # what the sink writes validates again


def _build(data: bytes, extension: str, line=None, sidecar=None, modified=None):
    raw = RawInput(
        f"/in/article{extension}", data, extension, line=line, size=len(data), sidecar=sidecar, modified_at=modified
    )
    try:
        article = build_article(raw, CONFIG, detector())
    except InputRejected as err:
        assert err.message and err.stage
        return None
    _assert_valid_article(article)
    return article


# --- decode_bytes and clean_text ------------------------------------------------------------


@PROPERTY
@given(st.one_of(st.binary(max_size=4000), encoded_text))
def test_decode_bytes_returns_text_or_rejects(data):
    try:
        text = decode_bytes(data)
    except InputRejected:
        return
    assert isinstance(text, str) and text.strip()


@settings(max_examples=400, deadline=None)
@given(spiced_text)
def test_clean_text_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once
    assert once == once.strip() and "\n\n\n" not in once and "\r" not in once


def test_clean_text_is_idempotent_when_a_control_character_precedes_a_combining_mark():
    # Found by the property above: normalized before the control character went, 'e\x00\u0301' stayed decomposed.
    once = clean_text("e\x00\u0301")
    assert once == "é" and clean_text(once) == once


# --- parse_timestamp ------------------------------------------------------------------------

iso_like = st.builds(
    lambda d, t, sep, off: f"{d.isoformat()}{sep}{t.isoformat()}{off}",
    st.dates(),
    st.times(),
    st.sampled_from(["T", " "]),
    st.sampled_from(["", "Z", "+00:00", "+01:00", "-05:00", "+14:00", "-12:00"]),
)


@PROPERTY
@given(st.one_of(spiced_text, st.text(max_size=40), st.sampled_from(WORDS)))
def test_parse_timestamp_on_any_text_is_none_or_an_aware_utc_datetime(text):
    value = parse_timestamp(text)
    assert value is None or (isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0))


@PROPERTY
@given(iso_like)
def test_parse_timestamp_reads_every_iso_timestamp_of_a_publish_year(text):
    """Every ISO timestamp is read, in UTC, when its year can be a publish date (dates.YEARS); any other is None."""
    value = parse_timestamp(text)
    naive = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if naive.year in YEARS and naive.year - 1 in YEARS and naive.year + 1 in YEARS:
        assert isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0)
        assert value == (naive if naive.tzinfo else naive.replace(tzinfo=dt.timezone.utc))
    elif naive.year not in YEARS:
        assert value is None


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59Z"])
def test_parse_timestamp_at_the_edge_of_datetimes_range(text):
    # Found by the property above: moving these to UTC overflowed (OverflowError, an internal_error row).
    assert parse_timestamp(text) is None


@PROPERTY
@given(st.one_of(st.integers(min_value=-(10**10), max_value=10**14), st.floats(min_value=-1e10, max_value=1e14)))
def test_parse_timestamp_reads_epoch_numbers_of_any_plausible_date(value):
    stamp = parse_timestamp(value)
    assert stamp is None or (stamp.utcoffset() == dt.timedelta(0) and stamp.year in YEARS)
    seconds = value / 1000 if value > 1e11 else value
    if -5e9 < seconds < 3e10:  # 1811 to 2920: publish years
        assert isinstance(stamp, dt.datetime)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), 1e300, 10**30, -1e20], ids=["nan", "inf", "1e300", "10**30", "-1e20"]
)
def test_parse_timestamp_on_an_epoch_number_out_of_range(value):
    # Found by the property above: fromtimestamp raised OverflowError or ValueError (an internal_error row).
    assert parse_timestamp(value) is None


# --- the parsers ----------------------------------------------------------------------------


@PROPERTY
@given(spiced_text)
def test_text_and_markdown_parsers_never_raise(text):
    for parse in (parse_text, parse_markdown):
        parsed = parse(text)
        assert isinstance(parsed.body, str)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        spiced_text,
        st.lists(st.sampled_from(WORDS + ["<p>Text of a paragraph in the page.</p>"]), max_size=40).map("".join),
    )
)
def test_html_parser_returns_an_article_or_rejects(text):
    try:
        parsed = parse_html(text)
    except InputRejected:
        return
    assert isinstance(parsed.body, str) and parsed.input_format == "html"


@PROPERTY
@given(json_values())
def test_json_parsers_on_any_json_value_return_an_article_or_reject(value):
    text = json.dumps(value)
    for parse in (parse_json, parse_jsonl_line):
        try:
            parsed = parse(text)
        except InputRejected:
            continue
        assert isinstance(value, dict) and isinstance(parsed.body, str)


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000, "[" * 100_000],
    ids=["arrays", "objects", "unclosed"],
)
def test_json_parser_on_deeply_nested_json(text):
    # Found by the JSON property: RecursionError went through (an internal_error row, not malformed_json).
    with pytest.raises(InputRejected, match="nested too deeply"):
        parse_json(text)


def test_json_parser_on_a_number_too_long_to_convert():
    # Found by the JSON property: json.loads' ValueError (not a JSONDecodeError) went through.
    with pytest.raises(InputRejected, match="4300 digits"):
        parse_json('{"text": "A body.", "id": 1' + "0" * 5000 + "}")


# --- build_article --------------------------------------------------------------------------


@PROPERTY
@given(
    data=st.one_of(st.binary(max_size=3000), encoded_text),
    extension=st.sampled_from(EXTENSIONS),
    sidecar=sidecar_text,
    line=st.one_of(st.none(), st.integers(1, 10**6)),
)
def test_build_article_on_arbitrary_bytes_returns_a_valid_article_or_rejects(data, extension, sidecar, line):
    _build(data, extension, line, sidecar)


# Epoch numbers of publish years and valid Unicode: the common case (the test after it takes any).
_PLAUSIBLE_NUMBERS = st.one_of(
    st.integers(min_value=-(10**10), max_value=10**14), st.floats(min_value=-1e10, max_value=1e14)
)
_UNICODE_STRINGS = st.one_of(st.text(st.characters(exclude_categories=["Cs"]), max_size=30), st.sampled_from(WORDS))


@PROPERTY
@given(
    obj=article_objects(_PLAUSIBLE_NUMBERS, _UNICODE_STRINGS),
    extension=st.sampled_from([".json", ".jsonl"]),
    modified=st.one_of(st.none(), st.datetimes(timezones=st.just(dt.timezone.utc))),
)
@example(obj={"text": "A body.", "published_at": 12}, extension=".json", modified=None)
@example(
    obj={"text": "A body.", "title": {"name": "Named"}, "authors": ["A", " ", "B"]}, extension=".jsonl", modified=None
)
def test_build_article_on_json_articles_returns_a_valid_article_or_rejects(obj, extension, modified):
    _build(json.dumps(obj).encode(), extension, line=1 if extension == ".jsonl" else None, modified=modified)


_PUBLISHED_KEYS = ["published_at", "date_publish", "published", "datePublished", "pubDate", "date"]


_ANY_STRINGS = st.one_of(
    st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=30), st.sampled_from(WORDS)
)


@PROPERTY
@given(
    obj=article_objects(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)), _ANY_STRINGS),
    extension=st.sampled_from([".json", ".jsonl"]),
)
def test_build_article_on_json_articles_with_any_numbers_and_text(obj, extension):
    """The same with every number and string, lone surrogates and epochs past datetime's range included."""
    _build(json.dumps(obj).encode(), extension)


def test_build_article_with_an_epoch_date_out_of_range():
    # Found by the JSON property: OverflowError from parse_timestamp (an internal_error row). Now an unparsed date.
    article = _build(b'{"text": "A body of text.", "published_at": 1e300}', ".json")
    assert "published_at_unparsed" in article.quality_flags


@pytest.mark.parametrize("field", ["text", "title", "authors", "source"])
def test_build_article_with_a_lone_surrogate(field):
    # Found by the JSON property: a lone surrogate (a JSON \\udXXX escape) raised UnicodeEncodeError in the body,
    # TypeError in the title, and in the byline or source made a row Parquet could not store (write_failed). It is
    # no character: it becomes U+FFFD, and the article is stored.
    obj = {"text": "A body of text about Moscow.", field: "x \ud800 y"}
    article = _build(json.dumps(obj).encode(), ".json")
    assert "\ufffd" in (article.body + (article.title or "") + (article.byline or "") + (article.source or ""))
    to_arrow_table([article.model_dump()], Article, "articles")  # every field encodes
