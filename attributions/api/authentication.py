"""Organisation tokens for the API (implemented by the API work item; until then nobody is
authenticated, which fails closed)."""

from rest_framework.authentication import BaseAuthentication


class OrganisationTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return None
