"""The conference's second-factor rule: which roles must confirm their login with a code."""

from django.core.exceptions import ValidationError
from django.db import transaction

from cil import audit
from cil.models import Access, AuditAction, Conference, User
from cil.roles import RoleName
from cil.tenancy import conference_scope

__all__ = ["ValidationError", "conference_two_factor_set", "conferences_requiring"]


@transaction.atomic
def conference_two_factor_set(*, conference: Conference, actor: User, roles: list[str]) -> None:
    unknown = set(roles) - set(RoleName.values)
    if unknown:
        raise ValidationError({"roles": f"Rôle inconnu : {', '.join(sorted(unknown))}."})
    before = sorted(conference.two_factor_roles)
    after = sorted(set(roles))
    if before == after:
        return
    conference.two_factor_roles = after
    conference.save(update_fields=["two_factor_roles", "updated_at"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=conference,
        changes={
            "double authentification exigée pour": [_labels(before), _labels(after)],
        },
    )


def _labels(roles: list[str]) -> str:
    return ", ".join(RoleName(r).label for r in roles) or "aucun rôle"


def role_requires_two_factor(conference: Conference, roles) -> bool:
    return not set(conference.two_factor_roles).isdisjoint(roles)


def conferences_requiring(user: User) -> list[Conference]:
    """The conferences where one of the user's roles requires the second factor."""
    from cil.selectors import conferences_of

    found = []
    for conference in conferences_of(user).exclude(two_factor_roles=[]):
        with conference_scope(conference):
            roles = set(
                Access.objects.filter(user=user, is_active=True).values_list(
                    "roles__name", flat=True
                )
            )
        if role_requires_two_factor(conference, roles):
            found.append(conference)
    return found
