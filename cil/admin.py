from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_scopes import scopes_disabled

from cil.models import Conference, Organisation, User


class UnscopedAdminMixin:
    """The platform staff's admin works across conferences (STYLE.md: admin is unscoped)."""

    def changelist_view(self, request, extra_context=None):
        with scopes_disabled():
            return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with scopes_disabled():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        with scopes_disabled():
            return super().delete_view(request, object_id, extra_context)


@admin.register(Conference)
class ConferenceAdmin(UnscopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "epci_siren"]
    search_fields = ["name", "slug", "epci_siren"]


@admin.register(Organisation)
class OrganisationAdmin(UnscopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "siren", "type"]
    list_filter = ["type"]
    search_fields = ["name", "siren"]


@admin.register(User)
class UserAdmin(UnscopedAdminMixin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "organisation", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name", "organisation")}),
        ("Statut", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    list_filter = ["is_active", "is_staff"]
