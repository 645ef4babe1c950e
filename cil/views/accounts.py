from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from cil import services
from cil.forms import InvitationAcceptForm, LoginForm
from cil.models import Conference
from cil.tenancy import conference_scope
from cil.two_factor import devices
from cil.two_factor import login as two_factor_login


class LoginView(auth_views.LoginView):
    """The password; then, for a user with a second factor, the code step
    (cil.two_factor.views.login_code) before the session is opened."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if devices.has_device(user):
            two_factor_login.start(self.request, user, next_url=self.get_redirect_url())
            return redirect("login_code")
        return super().form_valid(form)


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "Vous êtes déconnecté.")
    return redirect("login")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "emails/password_reset.txt"
    html_email_template_name = "emails/password_reset.html"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["email"].label = "Adresse électronique"
        form.fields["email"].widget.attrs["class"] = "fr-input"
        return form


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password_change_done")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            two_factor_on=devices.has_device(self.request.user), **kwargs
        )


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


@require_http_methods(["GET", "POST"])
def invitation_accept(request, conference: str, token: str):
    """Accept an invitation: a new person creates their account; a known person signs in and
    receives the role. The invitee is not a member yet, so the scope is opened here."""
    conference_obj = Conference.objects.filter(slug=conference).first()
    if conference_obj is None:
        raise Http404
    with conference_scope(conference_obj):
        invitation = services.invitation_find(token=token)
        if invitation is None:
            return TemplateResponse(request, "registration/invitation_invalid.html", status=404)
        context = {"invitation": invitation, "invited_conference": conference_obj}
        known = invitation.email if _known_email(invitation.email) else None
        if known and not request.user.is_authenticated:
            context["must_login"] = True
            return TemplateResponse(request, "registration/invitation_accept.html", context)
        if request.user.is_authenticated and request.user.email != invitation.email:
            context["wrong_user"] = True
            return TemplateResponse(
                request, "registration/invitation_accept.html", context, status=403
            )

        form = None if request.user.is_authenticated else InvitationAcceptForm(request.POST or None)
        context["form"] = form
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                user = _accept(invitation, request.user, form)
            except ValidationError as error:
                _add_errors(form, error, request)
            else:
                if not request.user.is_authenticated:
                    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Bienvenue dans l'espace de {conference_obj.name}.")
                return redirect("conference_home", conference_slug=conference_obj.slug)
        return TemplateResponse(request, "registration/invitation_accept.html", context)


def _accept(invitation, user, form):
    if form is None:
        return services.invitation_accept(invitation=invitation, user=user)
    return services.invitation_accept(
        invitation=invitation,
        first_name=form.cleaned_data["first_name"],
        last_name=form.cleaned_data["last_name"],
        password=form.cleaned_data["password1"],
    )


def _known_email(email: str) -> bool:
    from cil.models import User

    return User.objects.filter(email=email).exists()


def _add_errors(form, error: ValidationError, request) -> None:
    if form is not None and hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif form is not None:
        form.add_error(None, error.messages)
    else:
        for message in error.messages:
            messages.error(request, message)
