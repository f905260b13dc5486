"""safe_url: the one check that decides which urls are stored and linked (absolute http(s) with a host)."""

import pytest

from transforms.parsers import domain_of
from transforms.urls import safe_url


@pytest.mark.parametrize(
    "value, kept",
    [
        ("https://www.example.org/world/a?id=1#top", "https://www.example.org/world/a?id=1#top"),
        ("http://example.org", "http://example.org"),
        ("HTTPS://Example.ORG/A", "HTTPS://Example.ORG/A"),  # kept as written: the check does not rewrite
        ("  https://example.org/a\n", "https://example.org/a"),
        ("\thttps://example.org/a \r\n", "https://example.org/a"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
        ("http://[::1]/", "http://[::1]/"),
        ("https://bücher.example/straße", "https://bücher.example/straße"),
        ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
        ("http://127.0.0.1/a", "http://127.0.0.1/a"),
        ("https://user:pw@example.org/", "https://user:pw@example.org/"),
    ],
)
def test_absolute_http_and_https_urls_are_kept_trimmed(value, kept):
    assert safe_url(value) == kept


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "JAVASCRIPT:alert(1)",
        "  javascript:alert(1)",
        "\njavascript:alert(1)",
        "java\nscript:alert(1)",
        "java\tscript:alert(1)",
        "java\rscript:alert(1)",
        "javascript://example.org/%0Aalert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "DATA:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://files.example.org/a",
        "mailto:desk@example.org",
        "blob:https://example.org/0f0e",
        "about:blank",
        "/world/2024/a.html",
        "world/a.html",
        "?q=1",
        "#top",
        "//evil.example/a",
        "///evil.example/a",
        "https:evil.example/a",
        "https:///evil.example/a",
        "http://",
        "https://",
        "http://:80/",
        "http://@/",
        "https://example.org:99999/",
        "https://example.org:port/",
        "http://[::1/",
        "ht\ntps://example.org/a",
        "https://example.org/a\nb",
        "https://example.org/a b",
        "https://exa\x00mple.org/",
        "https://example.org/\x7f",
        "https://example.org/a\u0085b",
        "https://example.org\u200b/",
        "https://\u202eexample.org/",
        "https://good.example\\@evil.example/",
        "https:\\\\evil.example/",
        "",
        "   ",
        None,
        42,
    ],
)
def test_everything_else_is_dropped(value):
    assert safe_url(value) is None


def test_the_source_domain_comes_only_from_a_kept_url():
    assert domain_of(" https://www.themoscowtimes.com/2024/06/12/a ") == "themoscowtimes.com"
    assert domain_of("https://[2001:db8::1]:8080/") == "2001:db8::1"
    assert domain_of("javascript://evil.example/%0Aalert(1)") is None
    assert domain_of("ftp://files.example.org/a") is None
    assert domain_of(None) is None
