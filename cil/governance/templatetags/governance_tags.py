"""Template tags of the sessions, for pages of other apps that show what a session decided
(the CIA page shows the conference's approval of a version)."""

from django import template

from cil.governance.selectors import decisions_on_cia_version

register = template.Library()


@register.inclusion_tag("governance/_cia_decisions.html", takes_context=True)
def cia_decisions(context, version):
    """The decisions of the conference's sessions on this version of the CIA."""
    can = context.get("can") or frozenset()
    decisions = (
        decisions_on_cia_version(version) if version is not None and "sessions.view" in can else []
    )
    return {"decisions": decisions, "conference": context.get("conference")}


@register.filter
def pluriel(count, suffix: str = "s") -> str:
    """French plural: « 0 membre », « 1 membre », « 2 membres » (Django's pluralize puts
    an s after 0, as English does)."""
    try:
        return suffix if abs(int(count)) >= 2 else ""
    except (TypeError, ValueError):
        return ""
