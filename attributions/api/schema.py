"""OpenAPI schema of the API (drf-spectacular).

Schema generation runs without a request, hence without a tenant: every scoped manager
would raise ScopeError. The generator therefore runs with scopes disabled (ecosystem-notes
§4.5); it only introspects views and serializers, it reads no tenant's rows.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator

from cil.tenancy import unscoped


class ScopesDisabledSchemaGenerator(SchemaGenerator):
    def get_schema(self, request=None, public=False):
        with unscoped():  # introspection only: no tenant's rows are read
            return super().get_schema(request=request, public=public)


class OrganisationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "attributions.api.authentication.OrganisationTokenAuthentication"
    name = "jetonOrganisation"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "Jeton d'API délivré par le secrétariat de la conférence à une organisation "
                "membre : « Authorization: Bearer cil_… » (« Token cil_… » est aussi accepté). "
                "Le jeton désigne la conférence et l'organisation au nom de laquelle on agit."
            ),
        }
