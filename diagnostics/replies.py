"""What an endpoint answered instead of the API's reply, in a few words for the one sentence a source fails with.

A proxy, a captive portal or a wrong endpoint answers with a page of its own, often with status 200; the SDKs then
fail deep in their parsers (a JSON or XML syntax error). People need to know what came back, not where it broke.
The body itself is never quoted: it may hold anything.
"""

from __future__ import annotations

HTML_PAGE = "an HTML page"


def describe(text: str | None, content_type: str = "", expected: str = "JSON") -> str:
    """`an HTML page`, `an empty body`, or `a body that is not <expected>` (`text` None: the body is not known, only
    its Content-Type)."""
    body = (text or "").strip()
    if "html" in content_type.lower() or "<html" in body[:512].lower():
        return HTML_PAGE
    return f"a body that is not {expected}" if body or text is None else "an empty body"


def proxy_hint(what: str) -> str:
    """" (a proxy?)" after an HTML page: the usual reason a page comes back from an API endpoint."""
    return " (a proxy?)" if what == HTML_PAGE else ""
