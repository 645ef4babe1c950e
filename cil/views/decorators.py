from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from cil.permissions import has_permission, roles_granting


def requires(permission: str):
    """A conference view that needs `permission`.

    The tenancy middleware has already checked the membership (404 otherwise); here a
    member whose roles do not grant the permission gets 403. The view receives the request
    without `conference_slug` (read `request.conference`).
    """
    roles_granting(permission)  # an unknown name fails when the module is imported

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, conference_slug: str, **kwargs):
            conference = getattr(request, "conference", None)
            if conference is None or conference.slug != conference_slug:
                raise Http404
            if not has_permission(request.roles, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.permission = permission
        return wrapper

    return decorator
