"""HTML → PDF: the base template, the operator's identity, and the static-only fetcher."""

import socket
import subprocess

import pytest
from django.conf import settings

from conventions.pdf.fetcher import PDF_BASE_URL, RefusedURL, StaticOnlyFetcher, find_static
from conventions.pdf.rendering import render_html, render_pdf
from tests.conventions.documents_support import pdf_text

EXTERNAL_TEMPLATE = """{% extends "conventions/pdf/base.html" %}
{% block content %}
<p>Paragraphe avec une image externe, une image locale et une image data:.</p>
<img src="http://tracker.example.com/pixel.png" alt="externe">
<img src="https://cdn.example.org/logo.svg" alt="externe https">
<img src="file:///etc/passwd" alt="fichier système">
<img src="/static/cil/../../cil/settings.py" alt="remontée">
<img src="{% load static %}{% static 'cil/favicon.svg' %}" alt="locale">
<img src="data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/>" alt="data">
<link rel="stylesheet" href="https://fonts.example.net/police.css">
{% endblock %}
"""


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"connexion réseau tentée : {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.fixture
def template_dir(settings, tmp_path):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    return tmp_path


def test_base_template_is_a_french_a4_document_with_page_numbers():
    pdf = render_pdf("conventions/pdf/base.html", {"document_title": "Procès-verbal « œuvré »"})
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Procès-verbal « œuvré »" in text
    assert "Page 1 / 1" in text
    assert "Document scellé électroniquement" in text
    assert "http://testserver/verification/" in text
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    assert "595.276 x 841.89 pts (A4)" in info.stdout.decode()
    html = render_html("conventions/pdf/base.html", {"document_title": "x"})
    assert '<html lang="fr">' in html


def test_neutral_identity_by_default(settings):
    settings.CIL_OPERATOR_IS_STATE = False
    settings.CIL_OPERATOR_NAME = "Communauté d'agglomération d'Exemple"
    html = render_html("conventions/pdf/base.html", {"document_title": "Essai"})
    assert "fr-logo" not in html
    assert "marianne" not in html.lower()
    pdf = render_pdf("conventions/pdf/base.html", {"document_title": "Essai"})
    text = pdf_text(pdf)
    assert "Communauté d'agglomération d'Exemple" in text
    assert "République" not in text
    assert "RÉPUBLIQUE" not in text
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True)
    assert "Marianne" not in fonts.stdout.decode()


def test_state_identity_only_for_a_state_operator(settings):
    settings.CIL_OPERATOR_IS_STATE = True
    settings.CIL_OPERATOR_NAME = "Ministère chargé du logement"
    fetcher = StaticOnlyFetcher()
    pdf = render_pdf("conventions/pdf/base.html", {"document_title": "Essai"}, fetcher=fetcher)
    text = pdf_text(pdf)
    assert "RÉPUBLIQUE\nFRANÇAISE" in text.upper()  # the bloc-marque, never hyphenated
    assert "Ministère chargé du logement" in text
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True)
    assert "Marianne" in fonts.stdout.decode()
    assert not fetcher.refused
    assert any(url.endswith("Marianne-Regular.woff2") for url in fetcher.fetched)


def test_external_urls_are_refused_and_never_fetched(template_dir, no_network):
    (template_dir / "externe.html").write_text(EXTERNAL_TEMPLATE, encoding="utf-8")
    fetcher = StaticOnlyFetcher()
    pdf = render_pdf("externe.html", {"document_title": "Ressources"}, fetcher=fetcher)

    assert pdf.startswith(b"%PDF-")
    assert "Paragraphe avec une image externe" in pdf_text(pdf)
    assert no_network == []
    assert set(fetcher.refused) == {
        "http://tracker.example.com/pixel.png",
        "https://cdn.example.org/logo.svg",
        "file:///etc/passwd",
        # The URL is resolved (dot segments removed) before it is fetched: outside /static/.
        f"{PDF_BASE_URL}cil/settings.py",
        "https://fonts.example.net/police.css",
    }
    assert f"{PDF_BASE_URL}static/cil/favicon.svg" in fetcher.fetched
    assert f"{PDF_BASE_URL}static/conventions/pdf/document.css" in fetcher.fetched
    assert any(url.startswith("data:") for url in fetcher.fetched)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/a.png",
        "https://documents.cil.invalid.example.com/static/cil/cil.css",
        "https://documents.cil.invalid/media/documents/1/x.pdf",
        "https://documents.cil.invalid/static/../cil/settings.py",
        "https://documents.cil.invalid/static/%2e%2e/%2e%2e/cil/settings.py",
        "file:///etc/hostname",
        f"file://{settings.BASE_DIR}/cil/settings.py",
        "ftp://example.com/a.css",
    ],
)
def test_fetcher_refuses(url, no_network):
    with pytest.raises((RefusedURL, ValueError)):
        StaticOnlyFetcher().fetch(url)


def test_fetcher_serves_static_files_by_url_and_by_file_path():
    fetcher = StaticOnlyFetcher()
    response = fetcher.fetch(f"{PDF_BASE_URL}static/cil/cil.css")
    assert response.content_type == "text/css"
    assert response.read()
    path = find_static("cil/cil.css")
    assert path is not None
    assert fetcher.fetch(path.as_uri()).read() == path.read_bytes()
