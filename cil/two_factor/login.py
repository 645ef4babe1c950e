"""The code step of a login: after the right password, a user with a device is not logged in
yet; the session remembers who, for a few minutes, until the code is given.

Wrong codes are reported to django-axes as failed logins of the account, so that passwords
and codes share one lockout counter (a password thief cannot try codes forever).
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed

from cil.models import User

PENDING_LOGIN_KEY = "cil_2fa_pending_login"


def start(request, user: User, *, next_url: str) -> None:
    request.session[PENDING_LOGIN_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "at": time.time(),
        "next": next_url,
    }


def pending(request) -> tuple[User, dict] | None:
    """The user whose password was right, and the pending state, while the window is open."""
    state = request.session.get(PENDING_LOGIN_KEY)
    if not state or time.time() - state["at"] > settings.CIL_TWO_FACTOR_LOGIN_WINDOW:
        request.session.pop(PENDING_LOGIN_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=state["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_LOGIN_KEY, None)
        return None
    return user, state


def finish(request, user: User, state: dict) -> None:
    """Log the user in (a new session key: login() cycles it)."""
    request.session.pop(PENDING_LOGIN_KEY, None)
    auth_login(request, user, backend=state["backend"])


def abandon(request) -> None:
    request.session.pop(PENDING_LOGIN_KEY, None)


def credentials_of(user: User) -> dict:
    return {"username": user.email}


def report_failure(request, user: User) -> None:
    """Count a wrong code like a wrong password (django-axes listens to this signal)."""
    user_login_failed.send(sender=__name__, credentials=credentials_of(user), request=request)
