"""The conference menu: entries shown only to users whose roles grant their permission.

Apps add their entries to NAVIGATION; the order here is the order in the header.
"""

from dataclasses import dataclass

from django.urls import reverse

from cil.permissions import has_permission, roles_granting


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    permission: str


NAVIGATION: list[NavEntry] = [
    NavEntry("Accueil", "conference_home", "conference.view"),
    NavEntry("Territoire", "territory_detail", "conference.view"),
    NavEntry("Membres", "member_list", "members.view"),
    NavEntry("Représentants", "representative_list", "members.view"),
    NavEntry("Attributions", "attribution_list", "attributions.view"),
    NavEntry("Seuils et taux", "reference_detail", "reference.view"),
    NavEntry("Utilisateurs", "user_list", "users.view"),
    NavEntry("Journal", "audit_log", "audit.view"),
]

for _entry in NAVIGATION:
    roles_granting(_entry.permission)  # an unknown permission name fails at import


def menu_for(*, conference, roles, current_path: str) -> list[dict]:
    items = []
    for entry in NAVIGATION:
        if not has_permission(roles, entry.permission):
            continue
        url = reverse(entry.url_name, kwargs={"conference_slug": conference.slug})
        home = entry.url_name == "conference_home"
        active = current_path == url if home else current_path.startswith(url)
        items.append({"label": entry.label, "url": url, "active": active})
    return items
