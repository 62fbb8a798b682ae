"""What an HTML page refers to: links, scripts, styles, and any absolute URL."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ABSOLUTE_URL = re.compile(r"\b(?:https?:)?//[\w.-]+", re.IGNORECASE)


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.assets: list[str] = []
        self.inline_scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        elif tag == "script" and found.get("src"):
            self.assets.append(str(found["src"]))
        elif tag == "script":
            self.inline_scripts.append(found)
        elif tag == "link" and found.get("rel") == "stylesheet":
            self.assets.append(str(found["href"]))


def references(html: str) -> _References:
    """The page's ``<a href>``, its script and stylesheet URLs, and its scripts without ``src``."""
    parser = _References()
    parser.feed(html)
    return parser


def absolute_urls(text: str) -> list[str]:
    """Every ``http://``, ``https://`` or protocol-relative ``//host`` URL in ``text``."""
    return ABSOLUTE_URL.findall(text)
