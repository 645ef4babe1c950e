"""What an organisation may do through the API follows from its type (a token has no roles)."""

from rest_framework.permissions import BasePermission

from cil.models import OrganisationType

# The whole bilan, every bailleur's line included, goes to the EPCI (the secretariat's
# organisation) and to the State (the prefecture); a bailleur gets its own line.
BILAN_FULL_READERS = frozenset({OrganisationType.EPCI, OrganisationType.ETAT})


def _organisation_type(request) -> str | None:
    organisation = getattr(request.user, "organisation", None)
    return getattr(organisation, "type", None)


class IsBailleur(BasePermission):
    message = (
        "Seuls les bailleurs sociaux déclarent des attributions : le jeton de cette "
        "organisation ne donne pas accès à ces données."
    )

    def has_permission(self, request, view) -> bool:
        return _organisation_type(request) == OrganisationType.BAILLEUR


class CanReadBilan(BasePermission):
    message = (
        "Le bilan détaillé n'est ouvert par l'API qu'aux bailleurs, à l'EPCI et aux services "
        "de l'État."
    )

    def has_permission(self, request, view) -> bool:
        kind = _organisation_type(request)
        return kind == OrganisationType.BAILLEUR or kind in BILAN_FULL_READERS
