"""Session timeouts: a signed-in person is logged out after CIL_SESSION_IDLE_TIMEOUT without a
request, and CIL_SESSION_ABSOLUTE_TIMEOUT after signing in, whatever their activity.

The login time is stamped by the `user_logged_in` signal; the last request's time is stamped
here, at most once a minute (so that a session is not written on every request). On expiry:
logout, a French message on the login page and `next` kept; an htmx request gets 401 with
`HX-Redirect` (htmx then loads the login page in full instead of swapping it into a block).
"""

import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

LOGIN_AT_KEY = "cil_login_at"
SEEN_AT_KEY = "cil_seen_at"
# The last-request stamp is refreshed at most this often (seconds).
SEEN_RESOLUTION = 60


@receiver(user_logged_in, dispatch_uid="cil_session_login_time")
def _stamp_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGIN_AT_KEY] = now
        request.session[SEEN_AT_KEY] = now


def _minutes(seconds: float) -> int:
    return round(seconds / 60)


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        session = request.session
        login_at = session.get(LOGIN_AT_KEY)
        seen_at = session.get(SEEN_AT_KEY)
        if login_at is None or seen_at is None:
            # A session from before this middleware: its clock starts now.
            session[LOGIN_AT_KEY] = login_at = now
            session[SEEN_AT_KEY] = seen_at = now
        idle = settings.CIL_SESSION_IDLE_TIMEOUT.total_seconds()
        absolute = settings.CIL_SESSION_ABSOLUTE_TIMEOUT.total_seconds()
        if now - seen_at > idle:
            return self._expired(
                request,
                f"Votre session a expiré après {_minutes(idle)} minutes sans activité : "
                "reconnectez-vous pour continuer.",
            )
        if now - login_at > absolute:
            return self._expired(
                request,
                f"Votre session a expiré : une connexion dure au plus {_minutes(absolute) // 60} "
                "heures. Reconnectez-vous pour continuer.",
            )
        if now - seen_at >= SEEN_RESOLUTION:
            session[SEEN_AT_KEY] = now
        return self.get_response(request)

    def _expired(self, request, message: str):
        next_url = _next_of(request)
        logout(request)  # flushes the session: the message goes in the new one
        messages.warning(request, message)
        url = reverse("login")
        if next_url:
            url = f"{url}?{urlencode({'next': next_url})}"
        if getattr(request, "htmx", False) or request.headers.get("HX-Request") == "true":
            return HttpResponse(status=401, headers={"HX-Redirect": url})
        return redirect(url)


def _next_of(request) -> str:
    """Where to come back after logging in again: this page for a GET; for a form sent
    (its data are lost anyway) the page it was sent from, when it is on this site."""
    if request.method == "GET":
        return request.get_full_path()
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return ""
