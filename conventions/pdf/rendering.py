"""HTML template → PDF bytes, with WeasyPrint and the static-only URL fetcher.

Templates extend `conventions/pdf/base.html` (A4, French, page numbers, the operator's
identity). The identity follows the same rule as the web pages (ecosystem-notes §4.6): the
bloc-marque « République française » and the Marianne typeface only when the operator is a
State entity (`CIL_OPERATOR_IS_STATE`), the operator's name alone otherwise.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from weasyprint import HTML

from conventions.pdf.fetcher import PDF_BASE_URL, StaticOnlyFetcher


def identity_context() -> dict:
    """What every PDF template may use about who produces the document."""
    return {
        "operator_is_state": settings.CIL_OPERATOR_IS_STATE,
        "operator_name": settings.CIL_OPERATOR_NAME,
        "site_title": settings.CIL_SITE_TITLE,
        "seal_name": settings.CIL_SEAL_NAME,
        "verification_url": settings.SITE_URL.rstrip("/") + reverse("document_verification"),
        "generated_at": timezone.localtime(),
    }


# French typography: no line break between a number and « % » or « € », nor inside
# guillemets (narrow no-break space U+202F, as the Imprimerie nationale's rules want). The
# figures come from shared helpers (attributions.dashboards) that write plain spaces.
FRENCH_SPACING = {" %": "\u202f%", " €": "\u202f€", "« ": "«\u202f", " »": "\u202f»"}


def french_spacing(html: str) -> str:
    for plain, typographic in FRENCH_SPACING.items():
        html = html.replace(plain, typographic)
    return html


def render_html(template_name: str, context: dict) -> str:
    return french_spacing(render_to_string(template_name, {**identity_context(), **context}))


def render_pdf(
    template_name: str,
    context: dict,
    *,
    base_url: str | None = None,
    fetcher: StaticOnlyFetcher | None = None,
) -> bytes:
    """The PDF of `template_name` rendered with `context`.

    Resources load through `StaticOnlyFetcher` only (pass one to inspect what it fetched
    and refused). `base_url` defaults to the fetcher's virtual origin; another base only
    changes how relative URLs are written, never what may be loaded.
    """
    html = render_html(template_name, context)
    document = HTML(
        string=html,
        base_url=base_url or PDF_BASE_URL,
        url_fetcher=fetcher or StaticOnlyFetcher(),
    )
    return document.write_pdf()
