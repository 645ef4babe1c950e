"""The documents pages: list with progress, download, and the bilan PDF request."""

import re

import pytest
from django.urls import reverse

from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import DocumentKind, DocumentStatus, GeneratedDocument
from tests.conventions.documents_support import YEAR, bilan_world, produce_bilan, stored_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return bilan_world()


def _url(name, tenant, **kwargs):
    return reverse(name, kwargs={"conference_slug": tenant.conference.slug, **kwargs})


def _pending(tenant, **fields) -> GeneratedDocument:
    with conference_scope(tenant.conference):
        return GeneratedDocument.objects.create(
            conference=tenant.conference,
            **{
                "kind": DocumentKind.PROCES_VERBAL,
                "title": "Procès-verbal de la séance plénière",
                **fields,
            },
        )


def test_secretariat_requests_the_bilan_pdf_and_downloads_it(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url("document_list", world.a)).content.decode()
    assert f"Générer le bilan annuel {YEAR} en PDF" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("document_bilan_request", world.a), {"year": YEAR})
    assert response.status_code == 302
    assert response.url == _url("document_list", world.a)

    with conference_scope(world.a.conference):
        document = GeneratedDocument.objects.get()
    assert document.status == DocumentStatus.READY, document.error
    page = client.get(_url("document_list", world.a)).content.decode()
    download_url = _url("document_download", world.a, document_id=document.public_id)
    assert download_url in page
    assert "Prêt et scellé" in page

    response = client.get(download_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        f'filename="bilan-annuel-{YEAR}-des-attributions-conference-a.pdf"'
        in (response["Content-Disposition"])
    )
    body = response.getvalue()
    assert body == stored_bytes(document)
    assert body.startswith(b"%PDF-")


def test_a_year_without_attributions_is_refused(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(_url("document_bilan_request", world.a), {"year": 1999})
    assert response.status_code == 200
    assert "pas de bilan à produire" in response.content.decode()
    with conference_scope(world.a.conference):
        assert not GeneratedDocument.objects.exists()


@pytest.mark.parametrize("role", [RoleName.ELU, RoleName.MEMBRE, RoleName.BAILLEUR])
def test_roles_without_documents_generate_see_no_form_and_are_refused(client, world, role):
    client.force_login(world.a.users[role])
    page = client.get(_url("document_list", world.a)).content.decode()
    assert "Générer le bilan annuel" not in page
    response = client.post(_url("document_bilan_request", world.a), {"year": YEAR})
    assert response.status_code == 403


def test_the_detailed_bilan_is_hidden_from_aggregate_roles(client, world):
    document = produce_bilan(world)
    download_url = _url("document_download", world.a, document_id=document.public_id)
    client.force_login(world.a.users[RoleName.ELU])
    page = client.get(_url("document_list", world.a)).content.decode()
    assert document.title not in page
    assert client.get(download_url).status_code == 403
    client.force_login(world.a.users[RoleName.PREFECTURE])
    assert document.title in client.get(_url("document_list", world.a)).content.decode()
    assert client.get(download_url).status_code == 200


def test_download_of_another_conference_document_is_404(client, world):
    document = produce_bilan(world, world.b)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    url = _url("document_download", world.a, document_id=document.public_id)
    assert client.get(url).status_code == 404
    # …and B's own URL for it, to a member of A only: 404 as well (not a member of B).
    other_url = _url("document_download", world.b, document_id=document.public_id)
    assert client.get(other_url).status_code == 404


def test_anonymous_download_goes_to_login(client, world):
    document = produce_bilan(world)
    url = _url("document_download", world.a, document_id=document.public_id)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_document_not_ready_cannot_be_downloaded(client, world):
    document = _pending(world.a)
    client.force_login(world.a.users[RoleName.MEMBRE])
    url = _url("document_download", world.a, document_id=document.public_id)
    assert client.get(url).status_code == 404


def test_progress_row_polls_while_pending_and_stops_when_ready(client, world):
    document = _pending(world.a, status=DocumentStatus.RENDERING, progress=30)
    client.force_login(world.a.users[RoleName.MEMBRE])
    progress_url = _url("document_progress", world.a, document_id=document.public_id)
    page = client.get(_url("document_list", world.a)).content.decode()
    assert f'hx-get="{progress_url}"' in page
    assert 'hx-trigger="every 2s"' in page
    assert '<progress class="cil-document-progress" max="100" value="30"' in page

    row = client.get(progress_url, headers={"HX-Request": "true"}).content.decode()
    assert row.startswith(f'<tr id="document-{document.public_id}"')
    assert "Mise en page : 30 %" in row

    with conference_scope(world.a.conference):
        GeneratedDocument.objects.filter(pk=document.pk).update(
            status=DocumentStatus.FAILED, error="Le cachet n'est pas configuré."
        )
    row = client.get(progress_url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-get" not in row
    assert "Le cachet n&#x27;est pas configuré." in row


def test_pages_have_no_inline_style_and_link_their_stylesheet(client, world):
    _pending(world.a)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = client.get(_url("document_list", world.a)).content.decode()
    assert not re.search(r"\sstyle=", page)
    assert "/static/conventions/documents.css" in page
    verification = client.get(reverse("document_verification")).content.decode()
    assert not re.search(r"\sstyle=", verification)


def test_list_query_count_does_not_grow_with_documents(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    for n in range(3):
        _pending(world.a, created_by=world.a.users[RoleName.SECRETARIAT], title=f"PV {n}")
    with django_assert_max_num_queries(12) as few:
        client.get(_url("document_list", world.a))
    for n in range(10):
        _pending(world.a, created_by=world.a.users[RoleName.PREFECTURE], title=f"PV+ {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(_url("document_list", world.a))


def test_menu_and_home_lead_to_documents(client, world):
    client.force_login(world.a.users[RoleName.MEMBRE])
    home = client.get(_url("conference_home", world.a)).content.decode()
    assert _url("document_list", world.a) in home
