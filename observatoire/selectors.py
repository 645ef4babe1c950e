"""Reads of the observatory's analysis pages and settings (inside the conference's scope)."""

from decimal import Decimal

from attributions.models import Q1Threshold
from cil.models import Commune, Qpv
from cil.permissions import has_permission
from observatoire.models import ObservatoireSettings


def sees_detail(roles) -> bool:
    """Whether the reader sees every count: the roles that read household-level rows (the
    secretariat and the prefecture, domain.md §6). The others (élus, members, bailleurs)
    see aggregates under statistical secrecy, as on the bilan page."""
    return has_permission(roles, "attributions.view_all")


def observatoire_settings() -> ObservatoireSettings | None:
    return ObservatoireSettings.objects.first()


def delai_mois() -> int | None:
    """The délai anormalement long in months, None until the conference enters it."""
    settings = observatoire_settings()
    return settings.delai_anormalement_long_mois if settings else None


def register_threshold(year: int) -> Decimal | None:
    """The Q1 threshold of the register (the arrêté's value) for `year`, None if not entered."""
    threshold = Q1Threshold.objects.filter(year=year).first()
    return threshold.value if threshold else None


def register_thresholds() -> dict[int, Decimal]:
    return dict(Q1Threshold.objects.values_list("year", "value"))


def commune_names() -> dict[str, str]:
    return dict(Commune.objects.values_list("insee", "name"))


def qpv_names() -> dict[str, str]:
    return dict(Qpv.objects.values_list("code", "name"))
