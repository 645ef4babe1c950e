"""Validators for French public identifiers."""

import re

from django.core.exceptions import ValidationError

# La Poste's SIREN does not satisfy the Luhn key (INSEE documents the exception).
_LA_POSTE_SIREN = "356000000"
_INSEE_RE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
# 2015 list: QP + département (3 chars) + 3 digits (QP075001); 2024 list: QN + département
# + 2 digits + a letter (QN07511M). Corsica départements are 02A/02B.
_QPV_RE = re.compile(r"^Q[NP]\d{2}[0-9AB]\d{2}[0-9A-Z]$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siren_error(value: str) -> str | None:
    """French message describing why `value` is not a SIREN, or None when it is one."""
    if not isinstance(value, str) or not value.isdigit() or len(value) != 9:
        return "Un SIREN comporte exactement 9 chiffres."
    if value != _LA_POSTE_SIREN and not luhn_valid(value):
        return "Ce SIREN n'est pas valide (clé de contrôle incorrecte)."
    return None


def validate_siren(value: str) -> None:
    message = siren_error(value)
    if message:
        raise ValidationError(message, code="invalid_siren", params={"value": value})


def insee_error(value: str) -> str | None:
    if not isinstance(value, str) or not _INSEE_RE.match(value):
        return "Un code commune INSEE comporte 5 caractères (2A ou 2B pour la Corse)."
    return None


def validate_insee(value: str) -> None:
    message = insee_error(value)
    if message:
        raise ValidationError(message, code="invalid_insee")


def qpv_code_error(value: str) -> str | None:
    if not isinstance(value, str) or not _QPV_RE.match(value):
        return "Un code QPV a la forme QN07511M (liste 2024) ou QP075001 (liste 2015)."
    return None


def validate_qpv_code(value: str) -> None:
    message = qpv_code_error(value)
    if message:
        raise ValidationError(message, code="invalid_qpv")
