"""Comments on the sections: any member comments, the secretariat resolves; open comments
follow their section into newer versions; another conference's members see nothing."""

import pytest
from django.urls import reverse

from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions import services_orientations as services
from conventions.models import OrientationComment, OrientationDocument
from conventions.selectors_orientations import sections_of
from tests.conventions.orientations_support import orientation_at
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def document(world):
    return orientation_at(world.a.conference, world.a.users, "consultation")


def _url(world, name, document, **kwargs):
    return reverse(
        name,
        kwargs={
            "conference_slug": world.a.conference.slug,
            "document_id": document.public_id,
            **kwargs,
        },
    )


def _keys(world, document):
    with conference_scope(world.a.conference):
        document = OrientationDocument.objects.get(pk=document.pk)
        return [s.key for s in sections_of(document.current_version)]


def test_a_bailleur_comments_and_the_secretariat_resolves(client, world, document):
    bailleur = world.a.users[RoleName.BAILLEUR]
    key = _keys(world, document)[0]
    client.force_login(bailleur)
    response = client.post(
        _url(world, "orientation_comment", document, section_key=key),
        {"body": "Le taux de 25 % nous paraît hors d'atteinte à Bois-Joli."},
    )
    assert response.status_code == 302
    assert response.url.endswith(f"#section-{key}")
    with conference_scope(world.a.conference):
        comment = OrientationComment.objects.get()
    assert comment.author == bailleur
    assert comment.organisation == bailleur.organisation
    assert comment.version.number == 1
    page = client.get(_url(world, "orientation_detail", document)).content.decode()
    assert "Le taux de 25 % nous paraît hors d&#x27;atteinte à Bois-Joli." in page
    assert bailleur.organisation.name in page
    assert "Marquer comme résolu" not in page  # a bailleur does not resolve

    # The bailleur cannot resolve (403); the secretariat does.
    resolve = _url(world, "orientation_comment_resolve", document, comment_id=comment.public_id)
    assert client.post(resolve).status_code == 403
    secretariat = world.a.users[RoleName.SECRETARIAT]
    client.force_login(secretariat)
    assert (
        "Marquer comme résolu"
        in client.get(_url(world, "orientation_detail", document)).content.decode()
    )
    response = client.post(resolve)
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        comment.refresh_from_db()
    assert comment.resolved_by == secretariat
    assert comment.resolved_at is not None
    page = client.get(_url(world, "orientation_detail", document)).content.decode()
    assert "1 commentaire résolu" in page  # collapsed in a <details>
    assert f"Résolu par {comment.resolved_by_label} le" in page
    assert '<details class="cil-comments__resolved">' in page
    # Resolving twice is refused with a message, nothing changes.
    response = client.post(resolve, follow=True)
    assert "Ce commentaire est déjà résolu." in response.content.decode()


def test_open_comments_follow_the_section_into_newer_versions(client, world, document):
    conference = world.a.conference
    keys = _keys(world, document)
    with conference_scope(conference):
        open_comment = services.orientation_comment_add(
            conference=conference,
            actor=world.a.users[RoleName.ELU],
            document=document,
            key=keys[0],
            body="Commentaire toujours ouvert",
        )
        resolved = services.orientation_comment_add(
            conference=conference,
            actor=world.a.users[RoleName.MEMBRE],
            document=document,
            key=keys[0],
            body="Commentaire traité",
        )
        services.orientation_comment_resolve(
            conference=conference, actor=world.a.users[RoleName.SECRETARIAT], comment=resolved
        )
        # The secretariat rewrites the section: version 2 (and back to the draft).
        services.orientation_section_save(
            conference=conference,
            actor=world.a.users[RoleName.SECRETARIAT],
            document=document,
            base_version=1,
            key=keys[0],
            title="Mixité sociale, réécrite",
            body="Nouveau texte",
        )
    client.force_login(world.a.users[RoleName.PREFECTURE])
    page = client.get(_url(world, "orientation_detail", document)).content.decode()
    section = page.split(f'id="section-{keys[0]}"')[1].split("</section>")[0]
    assert "Mixité sociale, réécrite" in section
    assert "Commentaire toujours ouvert" in section
    assert "sur la version 1" in section
    assert "1 commentaire résolu" in section
    # The other sections carry no comment of the first one.
    other = page.split(f'id="section-{keys[1]}"')[1].split("</section>")[0]
    assert "Commentaire toujours ouvert" not in other
    assert open_comment.section_key == keys[0]


def test_a_member_of_another_conference_cannot_comment(client, world, document):
    key = _keys(world, document)[0]
    client.force_login(world.b.users[RoleName.BAILLEUR])
    response = client.post(
        _url(world, "orientation_comment", document, section_key=key), {"body": "Intrus"}
    )
    assert response.status_code == 404
    # Not even with a document of its own conference in the URL of A's.
    b_document = orientation_at(world.b.conference, world.b.users, "consultation")
    client.force_login(world.a.users[RoleName.BAILLEUR])
    url = reverse(
        "orientation_comment",
        kwargs={
            "conference_slug": world.a.conference.slug,
            "document_id": b_document.public_id,
            "section_key": key,
        },
    )
    assert client.post(url, {"body": "Intrus"}).status_code == 404
    with conference_scope(world.a.conference):
        assert not OrientationComment.objects.exists()
    with conference_scope(world.b.conference):
        assert not OrientationComment.objects.exists()


def test_comments_are_closed_once_in_force(client, world):
    document = orientation_at(world.a.conference, world.a.users, "en_vigueur")
    key = _keys(world, document)[0]
    client.force_login(world.a.users[RoleName.BAILLEUR])
    page = client.get(_url(world, "orientation_detail", document)).content.decode()
    assert "Publier le commentaire" not in page
    response = client.post(
        _url(world, "orientation_comment", document, section_key=key), {"body": "Trop tard"}
    )
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        assert not OrientationComment.objects.exists()


def test_an_empty_comment_is_refused(client, world, document):
    key = _keys(world, document)[0]
    client.force_login(world.a.users[RoleName.MEMBRE])
    response = client.post(
        _url(world, "orientation_comment", document, section_key=key), {"body": "   "}
    )
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
