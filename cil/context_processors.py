from django.conf import settings

from cil.navigation import menu_for
from cil.permissions import permissions_of
from cil.roles import RoleName
from cil.selectors import conferences_of


def platform(request) -> dict:
    conference = getattr(request, "conference", None)
    roles = getattr(request, "roles", frozenset())
    user = getattr(request, "user", None)
    context = {
        "operator_is_state": settings.CIL_OPERATOR_IS_STATE,
        "operator_name": settings.CIL_OPERATOR_NAME,
        "site_title": settings.CIL_SITE_TITLE,
        "site_tagline": settings.CIL_SITE_TAGLINE,
        "contact_email": settings.CIL_CONTACT_EMAIL,
        "conference": conference,
        "roles": roles,
        "role_labels": [RoleName(r).label for r in sorted(roles)],
        "can": permissions_of(roles),
        "menu": [],
        "my_conferences": [],
    }
    if user is not None and user.is_authenticated:
        context["my_conferences"] = list(conferences_of(user))
        if conference is not None and roles:
            context["menu"] = menu_for(
                conference=conference, roles=roles, current_path=request.path
            )
    return context
