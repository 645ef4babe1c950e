"""Pages of the second factor: the code step of a login, the account's status, enrolment
(QR code drawn on the server), new backup codes, removal; and the conference's setting of
the roles held to it."""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from cil.models import Access
from cil.two_factor import devices, login, services
from cil.two_factor.forms import CodeForm, ConferenceTwoFactorForm, DisableForm, EnrolmentForm
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


# --- The code step of a login -------------------------------------------------------------


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_code(request):
    """After the right password (pending login), or for a signed-in person whose login was
    not confirmed yet (a conference that requires it)."""
    if request.user.is_authenticated:
        user, state = request.user, None
        next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
        if devices.is_verified(request) or not devices.has_device(user):
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    else:
        found = login.pending(request)
        if found is None:
            messages.info(request, "Saisissez à nouveau votre adresse et votre mot de passe.")
            return redirect("login")
        user, state = found
        next_url = _safe_next(request, state["next"])

    credentials = login.credentials_of(user)
    if AxesProxyHandler.is_locked(request, credentials):
        return _locked_out(request, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = devices.verify_code(user, form.cleaned_data["code"])
        if device is None:
            login.report_failure(request, user)
            if getattr(request, "axes_locked_out", False):
                return _locked_out(request, credentials)
            form.add_error(
                "code",
                "Code incorrect ou déjà utilisé. Vérifiez l'heure de votre téléphone, "
                "attendez le code suivant et réessayez.",
            )
        else:
            if state is not None:
                login.finish(request, user, state)
            devices.mark_verified(request, device)
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return TemplateResponse(
        request,
        "registration/login_code.html",
        {"form": form, "next": next_url, "left": devices.backup_codes_left(user)},
    )


def _locked_out(request, credentials):
    """The lockout page; the pending login (or the unconfirmed session) ends."""
    login.abandon(request)
    if request.user.is_authenticated:
        logout(request)
    request.axes_locked_out = False  # answered here; AxesMiddleware need not answer again
    return get_lockout_response(request, None, credentials)


# --- The account's second factor -------------------------------------------------------------


@never_cache
@require_GET
@login_required
def two_factor_status(request):
    user = request.user
    return TemplateResponse(
        request,
        "registration/two_factor/status.html",
        {
            "device": devices.totp_device(user),
            "left": devices.backup_codes_left(user),
            "required_in": services.conferences_requiring(user),
        },
    )


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@login_required
def two_factor_enrol(request):
    user = request.user
    next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
    if devices.has_device(user):
        messages.info(
            request,
            "La double authentification est déjà active. Pour changer de téléphone, "
            "désactivez-la puis activez-la à nouveau.",
        )
        return redirect("two_factor")
    key = devices.pending_secret(request.session)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = devices.enrolment_confirm(user=user, key=key, code=form.cleaned_data["code"])
        if result is None:
            form.add_error(
                "code",
                "Code incorrect. Vérifiez que l'heure de votre téléphone est juste et "
                "saisissez le code affiché en ce moment.",
            )
        else:
            device, codes = result
            request.session.pop(devices.ENROLMENT_SESSION_FIELD, None)
            devices.mark_verified(request, device)
            return _backup_codes_page(request, codes, next_url=next_url, first=True)
    uri = devices.provisioning_uri(user, key)
    return TemplateResponse(
        request,
        "registration/two_factor/enrol.html",
        {
            "form": form,
            "next": next_url,
            # Drawn by segno from the provisioning URI: an SVG of paths, no text from a user.
            "qr_svg": mark_safe(devices.qr_svg(uri)),  # noqa: S308  # nosec B308 B703
            "secret": devices.secret_for_manual_entry(key),
            "issuer": settings.OTP_TOTP_ISSUER,
        },
    )


def _backup_codes_page(request, codes: list[str], *, next_url: str, first: bool):
    return TemplateResponse(
        request,
        "registration/two_factor/backup_codes.html",
        {"codes": codes, "next": next_url, "first": first},
    )


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@login_required
def two_factor_backup_codes(request):
    """New backup codes, after a code (the old ones stop working)."""
    user = request.user
    if not devices.has_device(user):
        return redirect("two_factor")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if devices.verify_code(user, form.cleaned_data["code"]) is None:
            form.add_error("code", "Code incorrect ou déjà utilisé.")
        else:
            codes = devices.backup_codes_regenerate(user=user)
            return _backup_codes_page(request, codes, next_url="", first=False)
    return TemplateResponse(
        request, "registration/two_factor/backup_codes_form.html", {"form": form}
    )


@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
@login_required
def two_factor_disable(request):
    """Removal needs the password and a code: a session left open is not enough."""
    user = request.user
    if not devices.has_device(user):
        return redirect("two_factor")
    credentials = login.credentials_of(user)
    form = DisableForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if AxesProxyHandler.is_locked(request, credentials):
            return _locked_out(request, credentials)
        if not user.check_password(form.cleaned_data["password"]):
            login.report_failure(request, user)
            form.add_error("password", "Mot de passe incorrect.")
        elif devices.verify_code(user, form.cleaned_data["code"]) is None:
            login.report_failure(request, user)
            form.add_error("code", "Code incorrect ou déjà utilisé.")
        else:
            devices.disable(request=request, user=user)
            messages.success(request, "La double authentification est désactivée.")
            return redirect("two_factor")
        if getattr(request, "axes_locked_out", False):
            return _locked_out(request, credentials)
    return TemplateResponse(
        request,
        "registration/two_factor/disable.html",
        {"form": form, "required_in": services.conferences_requiring(user)},
    )


# --- The conference's setting -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires("security.manage")
def conference_security(request):
    conference = request.conference
    form = ConferenceTwoFactorForm(
        request.POST or None, initial={"roles": conference.two_factor_roles}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.conference_two_factor_set(
                conference=conference, actor=request.user, roles=form.cleaned_data["roles"]
            )
        except services.ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Les règles de sécurité de la conférence sont enregistrées.")
            return redirect("conference_security", conference_slug=conference.slug)
    return TemplateResponse(
        request,
        "cil/conference_security.html",
        {
            "form": form,
            "without_device": _people_without_device(conference.two_factor_roles),
            "idle_minutes": int(settings.CIL_SESSION_IDLE_TIMEOUT.total_seconds() // 60),
            "absolute_hours": int(settings.CIL_SESSION_ABSOLUTE_TIMEOUT.total_seconds() // 3600),
        },
    )


def _people_without_device(roles: list[str]) -> list[Access]:
    """Active accounts holding a required role whose person has no application yet."""
    if not roles:
        return []
    has_device = TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)
    return list(
        Access.objects.filter(is_active=True, roles__name__in=roles)
        .exclude(Exists(has_device))
        .select_related("user", "user__organisation")
        .distinct()
        .order_by("user__last_name", "user__email")
    )
