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
    NavEntry("Demande, offre, équilibre", "observatoire_home", "observatoire.view", "Observatoire"),
    NavEntry("Communes", "observatoire_communes", "observatoire.view", "Observatoire"),
    NavEntry("Carte du territoire", "observatoire_map", "observatoire.view", "Observatoire"),
    NavEntry(
        "Imports de l'observatoire",
        "observatoire_import_upload",
        "observatoire.import",
        "Observatoire",
    ),
    NavEntry(
        "Paramètres de l'observatoire",
        "observatoire_settings",
        "observatoire.settings",
        "Observatoire",
    ),
    NavEntry("Données ouvertes", "opendata_manage", "opendata.manage", "Observatoire"),
    NavEntry("Document d'orientation", "orientation_home", "orientations.view", "Documents"),
    NavEntry("Convention d'attribution", "cia_list", "cia.view", "Documents"),
    NavEntry("Documents produits (PDF)", "document_list", "documents.view", "Documents"),
    NavEntry("Séances", "meeting_list", "sessions.view", "Instances"),
    NavEntry("Décisions", "decision_list", "sessions.view", "Instances"),
    NavEntry("Territoire", "territory_detail", "conference.view", "Conférence"),
    NavEntry("Membres", "member_list", "members.view", "Conférence"),
    NavEntry("Représentants", "representative_list", "members.view", "Conférence"),
    NavEntry("Utilisateurs", "user_list", "users.view", "Administration"),
    NavEntry("Jetons d'API", "token_list", "tokens.manage", "Administration"),
    NavEntry("Journal", "audit_log", "audit.view", "Administration"),
    NavEntry(
        "Journal des consultations", "access_journal", "access_journal.view_all", "Administration"
    ),
    NavEntry("Sécurité des comptes", "conference_security", "security.manage", "Administration"),
]

for _entry in NAVIGATION:
    roles_granting(_entry.permission)  # an unknown permission name fails at import


def menu_for(*, conference, roles, current_path: str) -> list[dict]:
    """Top-level items; a group with one visible entry shows that entry directly.

    The active entry is the one whose URL is the longest prefix of the current path (a
    section's home is a prefix of its other pages: /seances/ vs /seances/decisions/)."""
    items: list[dict] = []
    groups: dict[str, dict] = {}
    links: list[dict] = []
    for entry in NAVIGATION:
        if not has_permission(roles, entry.permission):
            continue
        url = reverse(entry.url_name, kwargs={"conference_slug": conference.slug})
        link = {"label": entry.label, "url": url, "active": False}
        links.append(link)
        if not entry.group:
            items.append(link)
            continue
        if entry.group not in groups:
            groups[entry.group] = {"label": entry.group, "links": [], "id": f"menu-{len(groups)}"}
            items.append(groups[entry.group])
        groups[entry.group]["links"].append(link)
    home = reverse("conference_home", kwargs={"conference_slug": conference.slug})
    matching = [
        link
        for link in links
        if current_path == link["url"]
        or (link["url"] != home and current_path.startswith(link["url"]))
    ]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["active"] = True
    for group in groups.values():
        group["active"] = any(link["active"] for link in group["links"])
    return [
        item["links"][0] if "links" in item and len(item["links"]) == 1 else item for item in items
    ]
