"""Markdown of the sections: rendered, then sanitised (nh3 allow-list). Nothing a member
writes may run in another member's browser."""

import pytest
from django.urls import reverse

from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions import services_orientations as services
from conventions.markdown import render
from conventions.selectors_orientations import sections_of
from tests.conventions.orientations_support import orientation_at
from tests.world import build_world

ATTACKS = [
    "<script>alert('xss')</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic]( javascript:alert(1))",
    '<a href="javascript:alert(1)">lien</a>',
    '<a href="&#106;avascript:alert(1)">lien</a>',
    "<img src=x onerror=alert(1)>",
    "![image](javascript:alert(1))",
    '<p onclick="alert(1)" style="color:red">texte</p>',
    "<iframe src='https://evil.example'></iframe>",
    "<svg onload=alert(1)>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<style>body{display:none}</style>",
    "<form action='https://evil.example'><input name=x></form>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_dangerous_markup_never_survives(attack):
    html = str(render(f"Avant\n\n{attack}\n\nAprès")).lower()
    for needle in (
        "<script",
        "javascript:",
        "onerror",
        "onclick",
        "onload",
        "<iframe",
        "<img",
        "<svg",
        "<style",
        "style=",
        "data:",
        "<form",
        "<input",
    ):
        assert needle not in html, (attack, html)
    assert "avant" in html
    assert "après" in html


def test_markdown_is_rendered():
    html = str(
        render(
            "# Titre\n\nTexte **gras** et *italique*.\n\n- un\n- deux\n\n"
            "| Règle | Taux |\n|---|---|\n| R1 | 25 % |\n\n[CCH](https://www.legifrance.gouv.fr)"
        )
    )
    assert "<h3>Titre</h3>" in html  # the page owns h1 and h2
    assert "<strong>gras</strong>" in html
    assert "<em>italique</em>" in html
    assert "<li>un</li>" in html
    assert "<td>R1</td>" in html
    assert 'href="https://www.legifrance.gouv.fr"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "id=" not in html


@pytest.mark.django_db
def test_the_page_never_carries_the_script(client):
    world = build_world()
    tenant = world.a
    document = orientation_at(tenant.conference, tenant.users)
    with conference_scope(tenant.conference):
        key = sections_of(document.current_version)[0].key
        services.orientation_section_save(
            conference=tenant.conference,
            actor=tenant.users[RoleName.SECRETARIAT],
            document=document,
            base_version=None,
            key=key,
            title="Mixité <script>alert('titre')</script>",
            body="\n\n".join(ATTACKS) + "\n\n**Objectif** partagé.",
        )
    client.force_login(tenant.users[RoleName.BAILLEUR])
    kwargs = {"conference_slug": tenant.conference.slug, "document_id": document.public_id}

    page = client.get(reverse("orientation_detail", kwargs=kwargs)).content.decode()
    # The only scripts are the platform's own, with the CSP nonce.
    assert page.count("<script") == page.count('nonce="')
    for needle in ("<script>alert", "javascript:", "onerror", "onclick", "<iframe", "<svg"):
        assert needle not in page.lower(), needle
    assert "<strong>Objectif</strong> partagé." in page
    assert "Mixité &lt;script&gt;alert(&#x27;titre&#x27;)&lt;/script&gt;" in page

    # The comparison shows the Markdown source: as text, never as markup.
    compare = client.get(reverse("orientation_compare", kwargs=kwargs)).content.decode()
    assert compare.count("<script") == compare.count('nonce="')
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in compare
    assert 'href="javascript:' not in compare.lower()
    assert "<img" not in compare
