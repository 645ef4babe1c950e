"""Small account helpers shared by settings-level integrations."""

from cil.models import normalize_email


def axes_username(request, credentials) -> str:
    """The username django-axes counts failures against, normalised like our logins, so
    `Foo@x.fr` and `foo@x.fr ` share one counter."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalize_email(raw)
