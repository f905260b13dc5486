import pytest

from tests.conftest import SAMPLE, seed_path
from transforms.errors import InputRejected, Reason
from transforms.parsers import (
    detect_format,
    looks_like_title,
    parse_html,
    parse_json,
    parse_jsonl_line,
    parse_markdown,
    parse_text,
)


def _seed(prefix):
    return seed_path(prefix).read_text(encoding="utf-8")


def test_seed_000_is_markdown_with_title_byline_date_and_url():
    text = _seed("000")
    assert detect_format(".txt", text) == "markdown"
    article = parse_markdown(text)
    assert article.title == "North Korea's Kim Hails Ties With Russia Ahead of Reported Putin Visit"
    assert article.byline == "AFP"
    assert article.published == "June 12, 2024"
    assert article.url.startswith("https://www.themoscowtimes.com/2024/06/12/north-koreas-kim-hails-ties")
    assert article.source == "themoscowtimes.com"
    assert article.body.startswith("North Korean leader Kim Jong Un on Wednesday hailed")
    assert "Vladimir Smirnov / pool / AFP" not in article.body
    assert "Related article" not in article.body
    assert "Putin to Visit North Korea, Vietnam – Report" not in article.body
    assert "Original url" not in article.body
    assert article.body.rstrip().endswith("importing food and energy from Russia.")


@pytest.mark.parametrize(
    "prefix, title",
    [
        ("002", "Kim Jong Un Praises Growing North Korea-Russia Ties Amid Reports Of Putin’s Imminent Visit"),
        ("003", "Putin Poised To Visit North Korea As Kim Hails ‘Unbreakable’ Relationship"),
    ],
)
def test_seeds_002_003_take_their_title_from_the_first_line(prefix, title):
    text = _seed(prefix)
    assert detect_format(".txt", text) == "text"
    article = parse_text(text)
    assert article.title == title
    assert not article.body.startswith(title)
    assert article.body.startswith(("North Korean leader", "Reports suggest"))


@pytest.mark.parametrize("prefix", ["001", "004"])
def test_seeds_001_004_get_no_title_invented_from_the_lede(prefix):
    text = _seed(prefix)
    article = parse_text(text)
    assert article.title is None
    assert article.body == text.strip()


def test_title_rule_on_headlines_and_ledes():
    assert looks_like_title("Putin Poised To Visit North Korea")
    assert looks_like_title("Will Putin visit Pyongyang?")
    assert not looks_like_title("Russian President Vladimir Putin is embarking on a rare trip to North Korea.")
    assert not looks_like_title("Hello")
    assert not looks_like_title(" ".join(["word"] * 30))


def test_text_with_a_date_line_takes_the_date_from_the_text():
    article = parse_text("Central bank holds rates\n\n25 June 2024\n\nThe central bank kept rates unchanged.")
    assert article.title == "Central bank holds rates"
    assert article.published == "25 June 2024"
    assert article.published_from == "text"
    assert article.body.strip() == "The central bank kept rates unchanged."


def test_markdown_sample_drops_images_credits_and_related_links():
    text = (SAMPLE / "shapes" / "ceasefire-briefing.md").read_text()
    article = parse_markdown(text)
    assert article.title == "Ceasefire agreed after a week of border clashes"
    assert article.byline == "Example Wire"
    assert article.published == "June 28, 2024"
    assert article.url == "https://wire.example.org/world/2024/06/28/ceasefire-border"
    assert "Photo:" not in article.body and "talks.jpg" not in article.body
    assert "Border clashes enter second week" not in article.body
    assert "What comes next" in article.body  # subheadings stay as text
    assert "**" not in article.body


def test_html_extracts_main_text_without_navigation_ads_or_comments():
    html = (SAMPLE / "shapes" / "2024-06-20_quake-coast.html").read_text()
    article = parse_html(html)
    assert article.title == "Strong earthquake shakes northern coast, dozens injured"
    assert article.byline == "Maria Santos"
    assert article.published == "2024-06-20"
    assert article.source == "wire.example.org"
    assert article.body.startswith("A magnitude 6.4 earthquake")
    for junk in ("Subscribe", "Advertisement", "First! Stay safe", "All rights reserved"):
        assert junk not in article.body


def test_html_without_a_date_does_not_take_the_clock():
    article = parse_html(
        "<html><body><article><p>"
        + "Officials met in the capital on Monday to discuss the budget. " * 5
        + "</p></article></body></html>"
    )
    assert article.published is None


def test_news_please_json_fields():
    article = parse_json((SAMPLE / "shapes" / "newsplease-missile-launch.json").read_text())
    assert article.title == "North Korea fires ballistic missile after signing pact with Russia"
    assert article.byline == "Daniel Kim, Example Wire staff"
    assert article.published == "2024-06-26 08:30:00"
    assert article.source == "wire.example.org"
    assert article.language == "en"
    assert article.body.startswith("North Korea fired a ballistic missile")


def test_plain_json_shape_and_external_id():
    article = parse_jsonl_line(
        '{"id": 7, "title": "T", "text": "Body text here.", "published_at": "2024-01-02", '
        '"url": "https://www.example.org/a", "source": "Example"}'
    )
    assert (article.title, article.body, article.external_id, article.source) == (
        "T",
        "Body text here.",
        "7",
        "Example",
    )


@pytest.mark.parametrize(
    "line, reason",
    [
        ('{"title": "x", "text": ', Reason.MALFORMED_JSON),
        ("[1, 2]", Reason.NOT_AN_ARTICLE),
        ('"just a string"', Reason.NOT_AN_ARTICLE),
        ('{"title": ["a", 1], "text": "body"}', Reason.INVALID_FIELD),
        ('{"title": "x", "text": 42}', Reason.INVALID_FIELD),
    ],
)
def test_bad_json_is_rejected_with_a_reason(line, reason):
    with pytest.raises(InputRejected) as err:
        parse_jsonl_line(line)
    assert err.value.reason is reason
    assert err.value.message


def test_format_detection():
    assert detect_format(".md", "anything") == "markdown"
    assert detect_format(".txt", "<!DOCTYPE html><html><body>x</body></html>") == "html"
    assert detect_format(".txt", "Plain headline\n\nBody.") == "text"
    assert detect_format(".jsonl", "{}") == "jsonl"
    with pytest.raises(InputRejected) as err:
        detect_format(".pdf", "x")
    assert err.value.reason is Reason.UNSUPPORTED_EXTENSION and "'.pdf'" in err.value.message
