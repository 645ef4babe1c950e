"""Helpers shared by the governance services."""

from django.core.exceptions import PermissionDenied, ValidationError

from cil.governance.models import Meeting
from cil.models import Conference, Role, User
from cil.permissions import has_permission


def fail(field: str | None, message: str):
    raise ValidationError({field: message} if field else message)


def actor_roles(actor: User | None) -> frozenset[str]:
    """The actor's roles in the conference whose scope is open."""
    if actor is None:
        return frozenset()
    return frozenset(
        Role.objects.filter(
            access__user=actor, access__is_active=True, access__user__is_active=True
        ).values_list("name", flat=True)
    )


def require(actor: User | None, permission: str) -> None:
    """A person must hold `permission` in the open conference; `None` is the platform
    itself (demo, commands, scheduled tasks)."""
    if actor is not None and not has_permission(actor_roles(actor), permission):
        raise PermissionDenied


def same_conference(conference: Conference, *objects) -> None:
    for obj in objects:
        if obj is not None and obj.conference_id != conference.pk:
            raise PermissionDenied("Objet d'une autre conférence.")


def lock_meeting(conference: Conference, meeting: Meeting) -> Meeting:
    """The meeting re-read under a row lock: concurrent writes on one session queue up."""
    same_conference(conference, meeting)
    return Meeting.objects.select_related("body").select_for_update(of=("self",)).get(pk=meeting.pk)


def label(actor: User | None) -> str:
    if actor is None:
        return "plateforme"
    return actor.get_full_name() or actor.email
