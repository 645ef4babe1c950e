"""Markdown written by members, rendered to HTML that is safe to put in a page or a PDF.

Markdown → HTML (Python-Markdown) → nh3 with an allow-list. Python-Markdown passes raw HTML
through, so the sanitiser is what decides: no script, no style, no event handler, no
`javascript:` or `data:` link, no image (a remote image would track the reader and the
CSP blocks it anyway), no class or id (the page's CSS and anchors are not the author's).
Headings start at h3: the page and the PDF use h1 for the document and h2 for sections.
"""

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
        "abbr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed with their content, not just unwrapped.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template"})

_EXTENSIONS = ["tables", "sane_lists", "toc"]
_EXTENSION_CONFIGS = {"toc": {"baselevel": 3}}


def render(text: str) -> SafeString:
    """Sanitised HTML of Markdown `text`."""
    html = markdown_lib.markdown(
        text or "",
        extensions=_EXTENSIONS,
        extension_configs=_EXTENSION_CONFIGS,
        output_format="html",
    )
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above  # nosec B308 B703
