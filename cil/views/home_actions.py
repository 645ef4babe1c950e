"""What each role can do in a conference, as the tiles of its home page.

One list, filtered by the permission registry: templates never decide what a role may do.
"""

from dataclasses import dataclass

from django.urls import reverse

from cil.permissions import has_permission


@dataclass(frozen=True)
class HomeAction:
    title: str
    description: str
    url_name: str
    permission: str


HOME_ACTIONS: list[HomeAction] = [
    HomeAction(
        "Bilan des attributions",
        "Les règles de l'article L.441-1 du CCH année par année : taux réalisés, objectifs, écarts et évolution.",
        "bilan",
        "bilan.view_aggregates",
    ),
    HomeAction(
        "Document d'orientation",
        "Les orientations de la conférence en matière d'attribution (article L.441-1-5 du CCH) : les lire, les commenter section par section, suivre leur adoption et leur approbation.",
        "orientation_home",
        "orientations.view",
    ),
    HomeAction(
        "Convention intercommunale d'attribution",
        "Les objectifs annuels de chaque bailleur et la contribution des réservataires (article L.441-1-6 du CCH), leurs signatures, les avenants, et les écarts expliqués par les bailleurs.",
        "cia_list",
        "cia.view",
    ),
    HomeAction(
        "Déclarer une attribution",
        "Saisir une attribution suivie d'un bail signé : les mêmes contrôles qu'à l'import d'un fichier.",
        "attribution_create",
        "attributions.manage_own",
    ),
    HomeAction(
        "Attributions déclarées",
        "Les attributions de l'année, ligne à ligne, avec leur classement au premier quartile.",
        "attribution_list",
        "attributions.view",
    ),
    HomeAction(
        "Seuils et taux",
        "Le seuil du premier quartile de chaque année et les taux des règles R1 à R3.",
        "reference_detail",
        "reference.view",
    ),
    HomeAction(
        "Saisir le seuil du premier quartile",
        "Reporter la valeur fixée par l'arrêté de l'année ; les attributions sont reclassées.",
        "threshold_edit",
        "threshold.manage",
    ),
    HomeAction(
        "Membres par collège",
        "Les organisations membres de la conférence, réparties dans les trois collèges, et leurs représentants en cours de mandat.",
        "member_list",
        "members.view",
    ),
    HomeAction(
        "Représentants et mandats",
        "Titulaires et suppléants de chaque organisation, avec les dates de leur mandat.",
        "representative_list",
        "members.view",
    ),
    HomeAction(
        "Territoire",
        "Les communes du territoire, les quartiers prioritaires et leurs années de validité.",
        "territory_detail",
        "conference.view",
    ),
    HomeAction(
        "Ajouter un membre",
        "Faire entrer une organisation dans un collège de la conférence.",
        "member_add",
        "members.manage",
    ),
    HomeAction(
        "Utilisateurs et rôles",
        "Inviter une personne d'une organisation membre, modifier ses rôles, désactiver un compte.",
        "user_list",
        "users.view",
    ),
    HomeAction(
        "Importer le territoire",
        "Mettre à jour communes, QPV, membres et seuils annuels à partir d'un fichier territoire/v1.",
        "territory_upload",
        "territory.manage",
    ),
    HomeAction(
        "Paramètres de la conférence",
        "Nom de la conférence et coprésidence (préfet, président de l'EPCI).",
        "conference_settings",
        "conference.manage",
    ),
    HomeAction(
        "Jetons d'API",
        "Délivrer aux logiciels des bailleurs, de l'EPCI et de l'État un jeton pour utiliser l'API (déclaration des attributions, bilan), et les révoquer.",
        "token_list",
        "tokens.manage",
    ),
    HomeAction(
        "Importer des attributions",
        "Déposer un fichier CSV ou Excel d'attributions (format attributions v1) : vérification de tout le fichier, aperçu des créations et modifications, puis import en une fois.",
        "import_upload",
        "attributions.import",
    ),
    HomeAction(
        "Documents produits",
        "Les documents PDF produits par la plateforme pour la conférence, scellés électroniquement : les télécharger, suivre leur production, produire le bilan annuel.",
        "document_list",
        "documents.view",
    ),
    HomeAction(
        "Journal des modifications",
        "Qui a modifié quoi, quand, dans la conférence.",
        "audit_log",
        "audit.view",
    ),
]


def actions_for(*, conference, roles) -> list[dict]:
    return [
        {
            "title": action.title,
            "description": action.description,
            "url": reverse(action.url_name, kwargs={"conference_slug": conference.slug}),
        }
        for action in HOME_ACTIONS
        if has_permission(roles, action.permission)
    ]
