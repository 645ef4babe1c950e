"""The only way WeasyPrint reads a resource while it lays out a document.

A PDF template may reference the project's own static files (stylesheets, fonts, images)
and `data:` URLs, nothing else: no http(s) (a template or a rich-text field must not make
the worker call out, nor leak what it renders), no file outside the static directories.

Templates are rendered against the virtual origin `PDF_BASE_URL` (a `.invalid` host, which
never resolves: RFC 2606), so `{% static %}` URLs (`/static/…`) and the relative URLs inside
static stylesheets become `https://documents.cil.invalid/static/…`, which this fetcher maps
to files found by Django's staticfiles finders, or in STATIC_ROOT (production's hashed
names). Every other URL is refused by raising `RefusedURL`; WeasyPrint then leaves the
resource out and renders the rest.
"""

import logging
import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

PDF_ORIGIN = "https://documents.cil.invalid"
PDF_BASE_URL = f"{PDF_ORIGIN}/"


class RefusedURL(ValueError):
    """A resource the PDF may not load."""


def static_prefix() -> str:
    """STATIC_URL as a path (`/static/`), whatever form the setting takes."""
    path = urlsplit(settings.STATIC_URL).path
    return "/" + path.strip("/") + "/"


def static_roots() -> list[Path]:
    """Every directory a static file may come from: the finders' and STATIC_ROOT."""
    roots = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location).resolve())
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def find_static(relative: str) -> Path | None:
    """The file of a static path (`cil/cil.css`), or None. No `..`, no absolute path."""
    relative = unquote(relative)
    normalized = posixpath.normpath(relative)
    if normalized.startswith(("/", "..")) or "\x00" in normalized or normalized == ".":
        return None
    found = finders.find(normalized)
    if found:
        path = Path(found).resolve()
    elif settings.STATIC_ROOT:
        path = (Path(settings.STATIC_ROOT) / normalized).resolve()
    else:
        return None
    if not path.is_file() or not _inside(path, static_roots()):
        return None
    return path


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves static files and `data:` URLs only.

    `fetched` and `refused` list the URLs asked for, for logs and tests.
    """

    def __init__(self, **kwargs):
        # No redirects (nothing here is fetched over a network anyway), errors non-fatal:
        # a refused image leaves a gap, not a failed document.
        super().__init__(allowed_protocols={"data", "https", "file"}, allow_redirects=False)
        self.fetched: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        try:
            response = self._fetch(url, headers)
        except RefusedURL:
            self.refused.append(url)
            logger.warning("Ressource refusée dans un document PDF : %s", url[:200])
            raise
        self.fetched.append(url)
        return response

    def _fetch(self, url, headers):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            # Decoded in memory by urllib's DataHandler: no I/O.
            return super().fetch(url, headers)
        if scheme == "file":
            return self._file(url)
        if scheme == "https" and url.startswith(PDF_BASE_URL):
            return self._static(url)
        raise RefusedURL(f"Ressource externe refusée : {url[:200]}")

    def _static(self, url: str) -> URLFetcherResponse:
        path = urlsplit(url).path
        prefix = static_prefix()
        if not path.startswith(prefix):
            raise RefusedURL(f"Seuls les fichiers statiques sont autorisés : {url[:200]}")
        found = find_static(path.removeprefix(prefix))
        if found is None:
            raise RefusedURL(f"Fichier statique introuvable : {url[:200]}")
        return self._response(url, found)

    def _file(self, url: str) -> URLFetcherResponse:
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not path.is_file() or not _inside(path, static_roots()):
            raise RefusedURL(f"Fichier hors des fichiers statiques refusé : {url[:200]}")
        return self._response(url, path)

    @staticmethod
    def _response(url: str, path: Path) -> URLFetcherResponse:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )
