"""Versions of the document d'orientation: every saved change makes one, unchanged sections
are shared (copy-on-write), any two can be compared side by side."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cil.models import AuditEntry
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import (
    OrientationDocument,
    OrientationPlacement,
    OrientationSection,
    OrientationVersion,
)
from conventions.selectors_orientations import sections_of, side_by_side
from tests.conventions.orientations_support import orientation_at
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def document(world):
    return orientation_at(world.a.conference, world.a.users)


def _url(world, name, document=None, **kwargs):
    if document is not None:
        kwargs["document_id"] = document.public_id
    return reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})


def _first_key(world, document):
    with conference_scope(world.a.conference):
        return sections_of(OrientationVersion.objects.get(pk=document.current_version_id))[0].key


def _versions(world, document):
    with conference_scope(world.a.conference):
        return list(
            OrientationVersion.objects.filter(document=document)
            .order_by("number")
            .values_list("number", "change_note")
        )


def test_the_secretariat_creates_the_document_from_the_legal_outline(client, world):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.get(_url(world, "orientation_home"))
    assert "Rédiger le document d'orientation" in response.content.decode()
    response = client.post(
        _url(world, "orientation_create"), {"title": "Orientations 2026-2031", "start_from": "plan"}
    )
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        document = OrientationDocument.objects.get()
        assert document.is_current
        assert document.state == "brouillon"
        assert document.current_version.number == 1
        titles = [s.title for s in sections_of(document.current_version)]
        assert AuditEntry.objects.filter(object_id=str(document.public_id)).exists()
    assert titles[0] == "Objectifs de mixité sociale et d'équilibre entre les territoires"
    assert len(titles) == 4
    page = client.get(_url(world, "orientation_home")).content.decode()
    assert "Orientations 2026-2031" in page
    assert "fr-stepper" in page
    # A second document cannot be started while this one is being prepared.
    response = client.get(_url(world, "orientation_create"))
    assert response.status_code == 302


def test_saving_twice_makes_two_versions(client, world, document):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    key = _first_key(world, document)
    url = _url(world, "orientation_section_edit", document, section_key=key)
    for number, body in ((1, "Premier texte."), (2, "Premier texte.\nDeuxième ligne.")):
        response = client.post(
            url,
            {"title": "Mixité sociale", "body": body, "objective_r1": "30", "base_version": number},
        )
        assert response.status_code == 302, response.content.decode()
    assert _versions(world, document) == [
        (1, "Création à partir du plan de l'article L.441-1-5 du CCH"),
        (2, "Section « Mixité sociale » modifiée"),
        (3, "Section « Mixité sociale » modifiée"),
    ]
    with conference_scope(world.a.conference):
        section = sections_of(OrientationDocument.objects.get(pk=document.pk).current_version)[0]
    assert section.objective_r1 == Decimal("0.3000")
    assert section.key == key
    # Saving the same content again makes no version.
    client.post(
        url,
        {
            "title": "Mixité sociale",
            "body": "Premier texte.\nDeuxième ligne.",
            "objective_r1": "30",
            "base_version": 3,
        },
    )
    assert len(_versions(world, document)) == 3


def test_copy_on_write_shares_unchanged_sections(world, document):
    from conventions import services_orientations as services

    conference = world.a.conference
    with conference_scope(conference):
        before = OrientationSection.objects.count()
        keys = [s.key for s in sections_of(document.current_version)]
        version = services.orientation_section_save(
            conference=conference,
            actor=world.a.users[RoleName.SECRETARIAT],
            document=document,
            base_version=1,
            key=keys[1],
            title="Relogement",
            body="Nouveau texte.",
        )
        # One new text, one placement per section: the three others are shared.
        assert OrientationSection.objects.count() == before + 1
        old_ids = list(
            OrientationPlacement.objects.filter(version__number=1).values_list(
                "section_id", flat=True
            )
        )
        new_ids = list(
            OrientationPlacement.objects.filter(version=version)
            .order_by("order")
            .values_list("section_id", flat=True)
        )
        assert len(set(old_ids) & set(new_ids)) == 3
        assert [s.key for s in sections_of(version)] == keys
        assert version.content_sha256 != OrientationVersion.objects.get(number=1).content_sha256


def test_a_change_prepared_on_an_old_version_is_refused(client, world, document):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    key = _first_key(world, document)
    url = _url(world, "orientation_section_edit", document, section_key=key)
    client.post(url, {"title": "A", "body": "un", "base_version": 1})
    response = client.post(url, {"title": "A", "body": "deux", "base_version": 1})
    assert response.status_code == 200
    assert "Le document a changé entre-temps (version 2)" in response.content.decode()
    assert len(_versions(world, document)) == 2


def test_add_reorder_and_remove_sections(client, world, document):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(
        _url(world, "orientation_section_add", document),
        {"title": "Travailleurs essentiels", "body": "Objectifs 3DS.", "base_version": 1},
    )
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        sections = sections_of(OrientationDocument.objects.get(pk=document.pk).current_version)
    assert sections[-1].title == "Travailleurs essentiels"
    # Move the new section first.
    data = {"base_version": 2}
    for position, section in enumerate(sections, start=2):
        data[f"position_{section.key.hex}"] = position
    data[f"position_{sections[-1].key.hex}"] = 1
    response = client.post(_url(world, "orientation_reorder", document), data)
    assert response.status_code == 302
    with conference_scope(world.a.conference):
        reordered = sections_of(OrientationDocument.objects.get(pk=document.pk).current_version)
    assert reordered[0].title == "Travailleurs essentiels"
    assert [s.pk for s in reordered][1:] == [s.pk for s in sections][:-1]
    response = client.post(
        _url(world, "orientation_section_remove", document, section_key=reordered[0].key),
        {"base_version": 3},
    )
    assert response.status_code == 302
    assert [note for _n, note in _versions(world, document)][1:] == [
        "Section « Travailleurs essentiels » ajoutée",
        "Sections réordonnées",
        "Section « Travailleurs essentiels » retirée",
    ]


def test_compare_shows_added_and_removed_lines(client, world, document):
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    key = _first_key(world, document)
    url = _url(world, "orientation_section_edit", document, section_key=key)
    client.post(
        url, {"title": "Mixité", "body": "Ligne commune\nLigne ancienne", "base_version": 1}
    )
    client.post(
        url,
        {
            "title": "Mixité",
            "body": "Ligne commune\nLigne nouvelle\nLigne ajoutée",
            "base_version": 2,
        },
    )
    client.force_login(world.a.users[RoleName.MEMBRE])  # every member may compare
    response = client.get(_url(world, "orientation_compare", document) + "?de=2&a=3")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<td class="cil-diff__line cil-diff__removed"><del>Ligne ancienne</del></td>' in content
    assert '<td class="cil-diff__line cil-diff__added"><ins>Ligne nouvelle</ins></td>' in content
    assert '<td class="cil-diff__line cil-diff__added"><ins>Ligne ajoutée</ins></td>' in content
    assert '<td class="cil-diff__line cil-diff__same">Ligne commune</td>' in content
    assert "Section modifiée" in content
    assert "Section inchangée" in content
    assert 'name="de"' in content
    assert 'name="a"' in content
    assert "style=" not in content.split("<main")[1]  # CSP: classes only
    # The versions page lists them and links the comparison.
    page = client.get(_url(world, "orientation_versions", document)).content.decode()
    assert "?de=2&amp;a=3" in page
    # An earlier version can be read, without any action on it.
    page = client.get(_url(world, "orientation_version", document, number=2)).content.decode()
    assert "Ligne ancienne" in page
    assert "Vous consultez la version 2" in page
    assert client.get(_url(world, "orientation_version", document, number=9)).status_code == 404


def test_side_by_side():
    rows = side_by_side(["a", "b", "c"], ["a", "B", "c", "d"])
    kinds = [(r["left"]["kind"], r["right"]["kind"]) for r in rows]
    assert kinds == [("same", "same"), ("removed", "added"), ("same", "same"), ("empty", "added")]
    assert rows[1]["left"]["text"] == "b"
    assert rows[1]["right"]["text"] == "B"
    assert rows[3]["right"]["number"] == 4


def test_document_page_query_count(client, world, document):
    """The page's queries do not grow with sections, comments or history."""
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    url = _url(world, "orientation_detail", document)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    from tests.conventions.orientations_support import take

    conference = world.a.conference
    with conference_scope(conference):
        from conventions import services_orientations as services

        for n in range(5):
            services.orientation_section_save(
                conference=conference,
                actor=world.a.users[RoleName.SECRETARIAT],
                document=document,
                base_version=None,
                key=None,
                title=f"Section {n}",
                body="Texte",
                objective_r2=Decimal("0.6"),
            )
        take(conference, world.a.users, document, "soumettre")
        document.refresh_from_db()
        for key in [s.key for s in sections_of(document.current_version)]:
            services.orientation_comment_add(
                conference=conference,
                actor=world.a.users[RoleName.BAILLEUR],
                document=document,
                key=key,
                body="Avis",
            )
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("Avis") >= 9
    assert len(big) <= len(small)
    assert len(big) <= 16
