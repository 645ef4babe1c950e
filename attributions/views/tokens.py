"""API tokens of the conference's organisations: the secretariat issues and revokes them."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from dsfr.forms import DsfrBaseForm

from attributions import tokens
from cil.models import Organisation
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors


class TokenIssueForm(DsfrBaseForm):
    organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        empty_label="Choisir une organisation",
        help_text="Bailleur (déclaration de ses attributions, sa ligne du bilan), EPCI ou "
        "services de l'État (bilan complet).",
    )
    name = forms.CharField(
        label="Nom du jeton",
        max_length=100,
        help_text="Pour le reconnaître : le logiciel ou le service qui l'utilise.",
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


@require_GET
@requires("tokens.manage")
def token_list(request):
    return TemplateResponse(
        request, "attributions/token_list.html", {"tokens": list(tokens.conference_tokens())}
    )


@require_http_methods(["GET", "POST"])
@requires("tokens.manage")
def token_issue(request):
    form = TokenIssueForm(request.POST or None, organisations=tokens.api_organisations())
    if request.method == "POST" and form.is_valid():
        try:
            token, clear = tokens.token_issue(
                conference=request.conference, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            # Shown once, in this response only: never stored, never redirected through the
            # session, never cached.
            response = TemplateResponse(
                request, "attributions/token_issued.html", {"token": token, "clear_token": clear}
            )
            add_never_cache_headers(response)
            return response
    return TemplateResponse(request, "attributions/token_issue.html", {"form": form})


@require_POST
@requires("tokens.manage")
def token_revoke(request, token_id):
    token = tokens.access_token(token_id=token_id)
    try:
        tokens.token_revoke(conference=request.conference, actor=request.user, token=token)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Le jeton {token.prefix}… de {token.organisation} est révoqué.")
    return redirect("token_list", conference_slug=request.conference.slug)


urlpatterns = [
    path("jetons-api/", token_list, name="token_list"),
    path("jetons-api/nouveau/", token_issue, name="token_issue"),
    path("jetons-api/<uuid:token_id>/revoquer/", token_revoke, name="token_revoke"),
]
