"""Organisation tokens: `Authorization: Bearer <jeton>` (or `Token <jeton>`).

The token names both who acts (an organisation, not a person) and the tenant: every API
request runs inside the scope of the token's conference (attributions.api.views.TokenScopedView).
"""

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from attributions import tokens
from attributions.models import ApiToken
from cil.models import OrganisationType

KEYWORDS = (b"bearer", b"token")


class ApiOrganisation:
    """`request.user` of an API request: the organisation holding the token. Not a Django
    user — it has no roles, no session, no password; what it may do follows from its type."""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(self, token: ApiToken):
        self.token = token
        self.organisation = token.organisation
        self.conference = token.conference

    @property
    def is_bailleur(self) -> bool:
        return self.organisation.type == OrganisationType.BAILLEUR

    def __str__(self) -> str:
        return f"{self.organisation} (jeton {self.token.prefix}…)"


class OrganisationTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # no credentials: 401 "authentification requise" from the view
        if len(parts) != 2:
            raise AuthenticationFailed(
                "En-tête Authorization mal formé : « Authorization: Bearer <jeton> » attendu."
            )
        try:
            clear = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Jeton d'API invalide ou révoqué.") from None
        token = tokens.token_authenticate(clear)
        if token is None:
            raise AuthenticationFailed("Jeton d'API invalide ou révoqué.")
        return ApiOrganisation(token), token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return 'Bearer realm="api"'
