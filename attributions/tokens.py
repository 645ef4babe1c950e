"""API tokens of member organisations: issued and revoked by the secretariat, looked up by
the API's authentication.

A token is `cil_` + 32 random bytes (URL-safe base64). Only its SHA-256 is stored, with a
short prefix that lets people recognise it in lists; the clear token is shown once, when it
is issued, and is never written anywhere (database, audit log, session, logs).
"""

import datetime
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from attributions.models import ApiToken
from cil import audit
from cil.models import AuditAction, Conference, Membership, Organisation, OrganisationType, User
from cil.tenancy import conference_scope

TOKEN_PREFIX = "cil_"  # noqa: S105 - a public marker, not a secret
PREFIX_LENGTH = 10  # "cil_" + 6 random characters: enough to tell tokens apart in a list
# The API serves bailleurs (their attributions, their bilan line) and the EPCI and the State
# (the whole bilan); a token for any other organisation would open nothing.
API_ORGANISATION_TYPES = (OrganisationType.BAILLEUR, OrganisationType.EPCI, OrganisationType.ETAT)
# last_used_at is written at most this often per token: one UPDATE per request would turn
# every API read into a write.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


def token_hash(clear_token: str) -> str:
    return hashlib.sha256(clear_token.encode("utf-8", "surrogatepass")).hexdigest()


# --- Reads (inside the conference scope) ----------------------------------------------


def conference_tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("organisation", "created_by").order_by(
        "revoked_at", "-created_at"
    )


def access_token(*, token_id) -> ApiToken:
    return get_object_or_404(ApiToken.objects.select_related("organisation"), public_id=token_id)


def api_organisations() -> QuerySet[Organisation]:
    """Member organisations a token may be issued to."""
    members = Membership.objects.filter(organisation__type__in=API_ORGANISATION_TYPES)
    return Organisation.objects.filter(pk__in=members.values("organisation_id")).order_by("name")


# --- Writes ---------------------------------------------------------------------------


@transaction.atomic
def token_issue(
    *, conference: Conference, actor: User | None, organisation: Organisation, name: str
) -> tuple[ApiToken, str]:
    """Issue a token to a member organisation. Returns the token and its clear value, which
    the caller shows once and forgets."""
    name = name.strip()
    if not name:
        raise ValidationError(
            {"name": "Donnez un nom au jeton (par exemple le logiciel qui l'utilise)."}
        )
    if not Membership.objects.filter(organisation=organisation).exists():
        raise ValidationError(
            {"organisation": "Cette organisation n'est pas membre de la conférence."}
        )
    if organisation.type not in API_ORGANISATION_TYPES:
        raise ValidationError(
            {
                "organisation": "L'API n'est ouverte qu'aux bailleurs, à l'EPCI et aux services de l'État."
            }
        )
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        conference=conference,
        organisation=organisation,
        name=name,
        prefix=clear[:PREFIX_LENGTH],
        token_hash=token_hash(clear),
        created_by=actor,
    )
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=token,
        changes={
            "organisation": [None, str(organisation)],
            "nom": [None, name],
            "prefixe": [None, token.prefix],
        },
    )
    return token, clear


@transaction.atomic
def token_revoke(*, conference: Conference, actor: User | None, token: ApiToken) -> ApiToken:
    if token.conference_id != conference.pk:
        raise ValueError("Le jeton n'appartient pas à cette conférence.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError("Ce jeton est déjà révoqué.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.REVOKE,
        obj=token,
        changes={"statut": ["actif", "révoqué"]},
    )
    return token


# --- Authentication -------------------------------------------------------------------


def token_authenticate(clear_token: str) -> ApiToken | None:
    """The active token with this clear value, or None; notes when it was last used.

    The request carries no conference: the token names it. So this lookup runs before any
    scope exists and is unscoped BY DESIGN — the only unscoped read of the API. It matches
    the SHA-256 of a 256-bit secret, so it can only find the caller's own token; everything
    after it runs inside `conference_scope(token.conference)`.
    """
    token = (
        ApiToken.objects.with_scopes_disabled()  # unscoped by design, see the docstring
        .select_related("conference", "organisation")
        .filter(token_hash=token_hash(clear_token), revoked_at=None)
        .first()
    )
    if token is None:
        return None
    with conference_scope(token.conference):
        # An organisation that has left the conference loses its access with it.
        if not Membership.objects.filter(organisation_id=token.organisation_id).exists():
            return None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token
