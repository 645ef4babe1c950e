from django.contrib import admin
from django.urls import include, path

from cil.two_factor import views as two_factor
from cil.views import access_journal, accounts, audit, home, members, pages, territory, users
from conventions.views.verification import document_verification

account_patterns = [
    path("connexion/", accounts.LoginView.as_view(), name="login"),
    path("connexion/code/", two_factor.login_code, name="login_code"),
    path("compte/double-authentification/", two_factor.two_factor_status, name="two_factor"),
    path(
        "compte/double-authentification/activer/",
        two_factor.two_factor_enrol,
        name="two_factor_enrol",
    ),
    path(
        "compte/double-authentification/codes-de-secours/",
        two_factor.two_factor_backup_codes,
        name="two_factor_backup_codes",
    ),
    path(
        "compte/double-authentification/desactiver/",
        two_factor.two_factor_disable,
        name="two_factor_disable",
    ),
    path("deconnexion/", accounts.logout_view, name="logout"),
    path("mot-de-passe/oubli/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "mot-de-passe/oubli/envoye/",
        accounts.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/reinitialiser/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/reinitialise/",
        accounts.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("mot-de-passe/changer/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path(
        "mot-de-passe/change/",
        accounts.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The conference is named by `conference`, not `conference_slug`: the invitee is not a
    # member yet, so the tenancy middleware must not require a membership here.
    path(
        "invitation/<slug:conference>/<str:token>/",
        accounts.invitation_accept,
        name="invitation_accept",
    ),
]

conference_patterns = [
    path("", home.conference_home, name="conference_home"),
    path("parametres/", home.conference_settings, name="conference_settings"),
    path("territoire/", territory.territory_detail, name="territory_detail"),
    path("territoire/importer/", territory.territory_upload, name="territory_upload"),
    path("membres/", members.member_list, name="member_list"),
    path("membres/ajouter/", members.member_add, name="member_add"),
    path("membres/<uuid:membership_id>/", members.member_edit, name="member_edit"),
    path("membres/<uuid:membership_id>/retirer/", members.member_remove, name="member_remove"),
    path(
        "membres/<uuid:membership_id>/representants/ajouter/",
        members.representative_add,
        name="representative_add",
    ),
    path("representants/", members.representative_list, name="representative_list"),
    path(
        "representants/<uuid:representative_id>/",
        members.representative_edit,
        name="representative_edit",
    ),
    path("utilisateurs/", users.user_list, name="user_list"),
    path("utilisateurs/inviter/", users.user_invite, name="user_invite"),
    path("utilisateurs/<uuid:access_id>/", users.user_edit, name="user_edit"),
    path(
        "utilisateurs/<uuid:access_id>/desactiver/", users.user_deactivate, name="user_deactivate"
    ),
    path("utilisateurs/<uuid:access_id>/reactiver/", users.user_reactivate, name="user_reactivate"),
    path(
        "invitations/<uuid:invitation_id>/revoquer/",
        users.invitation_revoke,
        name="invitation_revoke",
    ),
    path("journal/", audit.audit_log, name="audit_log"),
    path("journal-des-consultations/", access_journal.journal_page, name="access_journal"),
    path(
        "journal-des-consultations/export.<str:fmt>",
        access_journal.journal_export,
        name="access_journal_export",
    ),
    path("securite/", two_factor.conference_security, name="conference_security"),
    path("", include("attributions.urls")),
    path("", include("conventions.urls")),
    path("observatoire/", include("observatoire.urls")),
    # Public (no membership: the views are marked public_conference_view).
    path("donnees-ouvertes/", include("observatoire.opendata.urls")),
    path("seances/", include("cil.governance.urls")),
]

urlpatterns = [
    path("", home.root, name="home"),
    path("conferences/", home.conference_picker, name="conference_picker"),
    path("accessibilite/", pages.accessibility, name="accessibility"),
    path("mentions-legales/", pages.legal_notice, name="legal_notice"),
    path("donnees-personnelles/", pages.personal_data, name="personal_data"),
    path("sante/", pages.health, name="health"),
    path("verification/", document_verification, name="document_verification"),
    path("admin-plateforme/", admin.site.urls),
    path("api/", include("attributions.api.urls")),
    *account_patterns,
    path("<slug:conference_slug>/", include(conference_patterns)),
]

handler403 = "cil.views.pages.permission_denied"
handler404 = "cil.views.pages.page_not_found"
handler500 = "cil.views.pages.server_error"
