import re

import pytest
from django.core import mail
from django.urls import reverse

from cil.models import Access, User
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.factories import UserFactory
from tests.world import build_world

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-solide-42"


def _login(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_login_and_logout(client):
    user = UserFactory()
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("conference_picker")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("conference_picker")).status_code == 302


def test_login_ignores_case_and_spaces_in_the_address(client):
    user = UserFactory(email="camille@exemple.fr")
    assert _login(client, "  Camille@Exemple.FR ", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_message_is_french(client):
    user = UserFactory()
    response = _login(client, user.email, "faux")
    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect." in response.content.decode()


def test_sixth_wrong_password_in_a_row_is_refused_even_with_the_right_one(client):
    user = UserFactory()
    for _ in range(4):
        assert _login(client, user.email, "mauvais").status_code == 200
    # The 5th failure locks the account: its answer already says so.
    assert _login(client, user.email, "mauvais").status_code == 429
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert "Compte temporairement bloqué" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Changing the address's case does not open a fresh counter.
    assert _login(client, user.email.upper(), PASSWORD).status_code == 429


def test_a_success_resets_the_failure_counter(client):
    user = UserFactory()
    for _ in range(4):
        _login(client, user.email, "mauvais")
    assert _login(client, user.email, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        _login(client, user.email, "mauvais")
    assert _login(client, user.email, PASSWORD).status_code == 302


def test_deactivated_user_is_refused_at_the_next_request(client):
    world = build_world()
    secretariat = world.a.users[RoleName.SECRETARIAT]
    bailleur = world.a.users[RoleName.BAILLEUR]
    bailleur_client = client.__class__()
    bailleur_client.force_login(bailleur)
    home = reverse("conference_home", kwargs={"conference_slug": world.a.conference.slug})
    assert bailleur_client.get(home).status_code == 200

    client.force_login(secretariat)
    url = reverse(
        "user_deactivate",
        kwargs={
            "conference_slug": world.a.conference.slug,
            "access_id": world.a.access_ids[RoleName.BAILLEUR],
        },
    )
    assert client.post(url).status_code == 302

    response = bailleur_client.get(home)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    bailleur.refresh_from_db()
    assert not bailleur.is_active
    assert _login(client.__class__(), bailleur.email, PASSWORD).status_code == 200


def test_deactivation_in_one_conference_keeps_the_other(client):
    world = build_world()
    multi = world.multi
    with conference_scope(world.a.conference):
        access = Access.objects.get(user=multi)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    client.post(
        reverse(
            "user_deactivate",
            kwargs={"conference_slug": world.a.conference.slug, "access_id": access.public_id},
        )
    )
    multi.refresh_from_db()
    assert multi.is_active
    multi_client = client.__class__()
    multi_client.force_login(multi)
    assert multi_client.get(f"/{world.a.conference.slug}/").status_code == 404
    assert multi_client.get(f"/{world.b.conference.slug}/").status_code == 200


def test_secretariat_cannot_deactivate_itself(client):
    world = build_world()
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    url = reverse(
        "user_deactivate",
        kwargs={
            "conference_slug": world.a.conference.slug,
            "access_id": world.a.access_ids[RoleName.SECRETARIAT],
        },
    )
    response = client.post(url, follow=True)
    assert "Vous ne pouvez pas désactiver votre propre compte." in response.content.decode()
    assert (
        world.a.users[RoleName.SECRETARIAT]
        .__class__.objects.get(pk=world.a.users[RoleName.SECRETARIAT].pk)
        .is_active
    )


def test_password_reset_by_email(client):
    user = UserFactory(email="reset@exemple.fr")
    response = client.post(reverse("password_reset"), {"email": "reset@exemple.fr"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Réinitialisation de votre mot de passe"
    link = re.search(r"https?://[^/]+(/mot-de-passe/reinitialiser/\S+/)", message.body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    new = "un-nouveau-mot-de-passe-2026"
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post(reverse("password_reset"), {"email": "inconnu@exemple.fr"}, follow=True)
    assert "Vérifiez votre messagerie" in response.content.decode()
    assert mail.outbox == []


def test_invitation_of_a_new_person_creates_the_account_with_the_role(
    client, django_capture_on_commit_callbacks
):
    world = build_world()
    conference = world.a.conference
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    organisation = world.a.membership.organisation
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("user_invite", kwargs={"conference_slug": conference.slug}),
            {
                "email": "Nouvelle@Bailleur.fr",
                "organisation": str(organisation.public_id),
                "role": RoleName.BAILLEUR,
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nouvelle@bailleur.fr"]
    assert "vous invite à rejoindre" in message.body
    link = re.search(r"http://testserver(/invitation/\S+/)", message.body).group(1)

    invitee = client.__class__()
    page = invitee.get(link)
    assert page.status_code == 200
    assert organisation.name in page.content.decode()
    response = invitee.post(
        link,
        {
            "first_name": "Nadia",
            "last_name": "Benali",
            "password1": "un-mot-de-passe-long",
            "password2": "un-mot-de-passe-long",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="nouvelle@bailleur.fr")
    assert user.organisation == organisation
    assert invitee.get(f"/{conference.slug}/").status_code == 200
    with conference_scope(conference):
        assert list(Access.objects.get(user=user).roles.values_list("name", flat=True)) == [
            "bailleur"
        ]
    # The link has been used.
    assert invitee.get(link).status_code == 404


def test_invitation_form_errors_are_french_and_write_nothing(client):
    world = build_world()
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    # A prefecture role for a bailleur organisation is refused.
    response = client.post(
        reverse("user_invite", kwargs={"conference_slug": world.a.conference.slug}),
        {
            "email": "x@exemple.fr",
            "organisation": str(world.a.membership.organisation.public_id),
            "role": RoleName.PREFECTURE,
        },
    )
    assert response.status_code == 200
    assert "est réservé aux organisations de type : État" in response.content.decode()
    assert mail.outbox == []


def test_invitation_cannot_name_an_organisation_of_another_conference(client):
    world = build_world()
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(
        reverse("user_invite", kwargs={"conference_slug": world.a.conference.slug}),
        {
            "email": "x@exemple.fr",
            "organisation": str(world.b.membership.organisation.public_id),
            "role": RoleName.BAILLEUR,
        },
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert mail.outbox == []


def test_known_person_accepts_by_signing_in(client, django_capture_on_commit_callbacks):
    world = build_world()
    person = world.b.users[RoleName.PREFECTURE]  # État agent of conference B
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    etat = world.a.users[RoleName.PREFECTURE].organisation
    person.organisation = etat
    person.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("user_invite", kwargs={"conference_slug": world.a.conference.slug}),
            {
                "email": person.email,
                "organisation": str(etat.public_id),
                "role": RoleName.PREFECTURE,
            },
        )
    link = re.search(r"http://testserver(/invitation/\S+/)", mail.outbox[0].body).group(1)
    anonymous = client.__class__()
    assert "Connectez-vous" in anonymous.get(link).content.decode()
    person_client = client.__class__()
    person_client.force_login(person)
    assert person_client.post(link).status_code == 302
    assert person_client.get(f"/{world.a.conference.slug}/").status_code == 200
    assert person_client.get(f"/{world.b.conference.slug}/").status_code == 200
