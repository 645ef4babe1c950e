"""The machinery every API view shares: token authentication, then the scope of the
token's conference around permissions, throttling and the handler; JSON only; French
messages for 400, 401 and 429."""

import math
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, NotAuthenticated, ParseError, Throttled
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from attributions.api.authentication import OrganisationTokenAuthentication
from attributions.models import ApiToken
from cil.tenancy import conference_scope

DEFAULT_THROTTLE_RATE = "600/minute"  # 10 per second sustained, per token


class TokenRateThrottle(SimpleRateThrottle):
    """Per-token rate limit (settings.CIL_API_THROTTLE_RATE, e.g. "600/minute")."""

    scope = "jeton"

    def get_rate(self) -> str:
        return getattr(settings, "CIL_API_THROTTLE_RATE", DEFAULT_THROTTLE_RATE)

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None
        # Keyed by the token itself (its public id, unique, unlike the short prefix).
        return f"cil-api-throttle:{token.public_id}"


class TooManyRequests(Throttled):
    def __init__(self, wait: float | None = None):
        wait = math.ceil(wait) if wait is not None else None
        detail = "Trop de requêtes avec ce jeton."
        if wait:
            detail += f" Réessayez dans {wait} seconde{'s' if wait > 1 else ''}."
        APIException.__init__(self, detail, "throttled")
        self.wait = wait


class AttributionPagination(LimitOffsetPagination):
    max_limit = 1000


def erreurs(problems: list[tuple[str | None, Any, str]]) -> Response:
    return Response(
        {
            "erreurs": [
                {"champ": column, "valeur": value, "message": message}
                for column, value, message in problems
            ]
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class TokenScopedView(APIView):
    """Authenticates the organisation token, then runs permissions, throttling and the
    handler inside the scope of the token's conference."""

    authentication_classes = [OrganisationTokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [TokenRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]

    def dispatch(self, request, *args, **kwargs):
        with ExitStack() as self._tenant_scope:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        # Authenticate first: the token names the conference whose scope must wrap the rest
        # (permissions, throttling, handler). Without a valid token no scope opens, and
        # IsAuthenticated answers 401 before any handler runs.
        self.perform_authentication(request)
        if isinstance(request.auth, ApiToken):
            self._tenant_scope.enter_context(conference_scope(request.auth.conference_id))
        super().initial(request, *args, **kwargs)

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise NotAuthenticated(
                "Authentification requise : envoyez l'en-tête « Authorization: Bearer <jeton> »."
            )
        super().permission_denied(request, message=message, code=code)

    def throttled(self, request, wait):
        raise TooManyRequests(wait)

    def handle_exception(self, exc):
        if isinstance(exc, ParseError):
            return erreurs(
                [(None, None, "Corps de requête illisible : un objet JSON est attendu.")]
            )
        return super().handle_exception(exc)

    @property
    def organisation(self):
        return self.request.user.organisation

    @property
    def token(self) -> ApiToken:
        return self.request.auth
