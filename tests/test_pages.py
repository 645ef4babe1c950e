import pytest
from django.test import override_settings
from django.urls import reverse

from cil.roles import RoleName
from tests.world import build_world

pytestmark = pytest.mark.django_db

# What each role's home page offers (tile titles).
EXPECTED_TILES = {
    RoleName.SECRETARIAT: {
        "Ajouter un membre",
        "Utilisateurs et rôles",
        "Journal des modifications",
        "Importer le territoire",
    },
    RoleName.BAILLEUR: {"Membres par collège", "Territoire"},
    RoleName.ELU: {"Membres par collège", "Territoire"},
    RoleName.PREFECTURE: {"Membres par collège", "Territoire"},
    RoleName.MEMBRE: {"Membres par collège", "Territoire"},
}
SECRETARIAT_ONLY = {
    "Paramètres de la conférence",
    "Ajouter un membre",
    "Utilisateurs et rôles",
    "Journal des modifications",
    "Importer le territoire",
}


@pytest.mark.parametrize("role", list(RoleName))
def test_each_role_home_page_shows_what_it_can_do(client, role):
    world = build_world()
    client.force_login(world.a.users[role])
    response = client.get(
        reverse("conference_home", kwargs={"conference_slug": world.a.conference.slug})
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert RoleName(role).label in content
    for title in EXPECTED_TILES[role]:
        assert title in content
    if role != RoleName.SECRETARIAT:
        for title in SECRETARIAT_ONLY:
            assert title not in content


def test_one_conference_user_lands_in_it(client):
    world = build_world()
    client.force_login(world.a.users[RoleName.ELU])
    response = client.get(reverse("home"))
    assert response.url == f"/{world.a.conference.slug}/"


def test_two_conference_user_picks_then_switches(client):
    world = build_world()
    client.force_login(world.multi)
    response = client.get(reverse("home"))
    assert response.url == reverse("conference_picker")
    picker = client.get(response.url).content.decode()
    assert world.a.conference.name in picker
    assert world.b.conference.name in picker
    page = client.get(f"/{world.b.conference.slug}/").content.decode()
    # The header switcher lists both conferences.
    assert f'href="/{world.a.conference.slug}/"' in page
    assert client.get(reverse("home")).url == f"/{world.b.conference.slug}/"


@override_settings(CIL_OPERATOR_IS_STATE=False, CIL_OPERATOR_NAME="Métropole Exemple")
def test_neutral_operator_has_no_state_identity(client):
    content = client.get(reverse("home")).content.decode()
    assert "République<br>française" not in content
    assert 'class="cil-neutral"' in content
    assert "Métropole Exemple" in content


@override_settings(CIL_OPERATOR_IS_STATE=True, CIL_OPERATOR_NAME="Direction de l'habitat")
def test_state_operator_shows_the_bloc_marque(client):
    content = client.get(reverse("home")).content.decode()
    assert "République<br>française" in content
    assert "cil-neutral" not in content


def test_pages_carry_a_strict_csp_with_a_nonce(client):
    response = client.get(reverse("login"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()


def test_footer_links_to_accessibility_and_legal_notice(client):
    content = client.get(reverse("login")).content.decode()
    assert "Accessibilité : non conforme" in content
    assert reverse("legal_notice") in content
    assert "Déclaration d'accessibilité" in client.get(reverse("accessibility")).content.decode()


def test_unknown_page_is_a_french_404(client):
    response = client.get("/nulle-part/ni/ici/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
