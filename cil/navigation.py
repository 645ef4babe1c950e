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
    group: str = ""  # entries of a group share a sub-menu; "" = at the top level


NAVIGATION: list[NavEntry] = [
    NavEntry("Accueil", "conference_home", "conference.view"),
    NavEntry("Bilan", "bilan", "bilan.view_aggregates"),
    NavEntry("Attributions", "attribution_list", "attributions.view", "Attributions"),
    NavEntry("Import d'un fichier", "import_upload", "attributions.import", "Attributions"),
    NavEntry("Seuils et taux", "reference_detail", "reference.view", "Attributions"),
    NavEntry("Document d'orientation", "orientation_home", "orientations.view", "Documents"),
    NavEntry("Convention d'attribution", "cia_list", "cia.view", "Documents"),
    NavEntry("Documents produits (PDF)", "document_list", "documents.view", "Documents"),
    NavEntry("Territoire", "territory_detail", "conference.view", "Conférence"),
    NavEntry("Membres", "member_list", "members.view", "Conférence"),
    NavEntry("Représentants", "representative_list", "members.view", "Conférence"),
    NavEntry("Utilisateurs", "user_list", "users.view", "Administration"),
    NavEntry("Jetons d'API", "token_list", "tokens.manage", "Administration"),
    NavEntry("Journal", "audit_log", "audit.view", "Administration"),
]

for _entry in NAVIGATION:
    roles_granting(_entry.permission)  # an unknown permission name fails at import


def menu_for(*, conference, roles, current_path: str) -> list[dict]:
    """Top-level items; a group with one visible entry shows that entry directly."""
    items: list[dict] = []
    groups: dict[str, dict] = {}
    for entry in NAVIGATION:
        if not has_permission(roles, entry.permission):
            continue
        url = reverse(entry.url_name, kwargs={"conference_slug": conference.slug})
        home = entry.url_name == "conference_home"
        link = {
            "label": entry.label,
            "url": url,
            "active": current_path == url if home else current_path.startswith(url),
        }
        if not entry.group:
            items.append(link)
            continue
        if entry.group not in groups:
            groups[entry.group] = {"label": entry.group, "links": [], "id": f"menu-{len(groups)}"}
            items.append(groups[entry.group])
        groups[entry.group]["links"].append(link)
    for group in groups.values():
        group["active"] = any(link["active"] for link in group["links"])
    return [
        item["links"][0] if "links" in item and len(item["links"]) == 1 else item for item in items
    ]
