from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def percent(value) -> str:
    """0.2512 → « 25,1 % »; None → « — »."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f} %".replace(".", ",")


@register.filter
def reservataire_label(code: str) -> str:
    from attributions.models import Reservataire

    try:
        return Reservataire(code).label
    except ValueError:
        return code


@register.filter
def lower_first(value) -> str:
    """A label used inside a sentence: « Délibéré par l'EPCI » → « délibéré par l'EPCI »
    (`lower` would also turn the acronym into « l'epci »)."""
    text = str(value)
    return text[:1].lower() + text[1:]
