"""Which urls newsbeam keeps and links to: absolute http(s) urls with a host, nothing else.

An input's url ends up as an `href` in the report; a `javascript:`, `data:` or `vbscript:` url
there runs the input's script when an analyst clicks it. So the one check lives here, and both
the parse step (before an url is stored) and the report (before a link is built) use it.
"""

from __future__ import annotations

import unicodedata
from typing import Optional
from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
# Control (Cc), format (Cf: zero-width, bidi overrides), surrogate (Cs) and separator (Z*) characters:
# browsers drop or reinterpret them (the WHATWG parser reads "java\nscript:" as "javascript:").
_BAD_CATEGORIES = ("Cc", "Cf", "Cs", "Zs", "Zl", "Zp")


def _has_bad_character(url: str) -> bool:
    # A backslash is "/" to a browser but part of the host to urlsplit: the two would disagree on the host.
    return "\\" in url or any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in url)


def safe_url(value: Optional[str]) -> Optional[str]:
    """`value` trimmed of white space when it is an absolute http(s) url with a host, else None.

    None for other schemes (javascript:, data:, vbscript:, file:, ftp:, …), relative and
    scheme-relative ("//host/…") urls, an empty host ("http://"), a bad port or IPv6 literal, and
    urls with control, invisible or white-space characters inside.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or _has_bad_character(url):
        return None
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # urlsplit checks the port only when it is read
    except ValueError:  # an unbalanced IPv6 bracket, or a port that is not a number in 0-65535
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not host:
        return None
    return url
