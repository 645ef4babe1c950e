"""The permission registry: every permission name and the roles that grant it.

Views declare the permission they need (`cil.views.decorators.requires`), templates ask
`can` for what to show, and an unknown name raises instead of silently refusing or
allowing: a typo is a bug, not a denial.
"""

from collections.abc import Iterable

from cil.roles import RoleName

ALL_ROLES = frozenset(RoleName)
SECRETARIAT = frozenset({RoleName.SECRETARIAT})
# Household-level rows: a person sees them only for their own organisation, unless their role
# is the secretariat's or the prefecture's (domain.md §6).
HOUSEHOLD_READERS = frozenset({RoleName.SECRETARIAT, RoleName.PREFECTURE})

PERMISSIONS: dict[str, frozenset[str]] = {
    # Seeing the conference: its home, territory, members by college and representatives.
    # Transparency of the attribution policy is the CIL's driving idea: every member sees who
    # sits in it.
    "conference.view": ALL_ROLES,
    "conference.manage": SECRETARIAT,
    "members.view": ALL_ROLES,
    "members.manage": SECRETARIAT,
    "users.view": SECRETARIAT,
    "users.manage": SECRETARIAT,
    "audit.view": SECRETARIAT,
    "territory.manage": SECRETARIAT,
    # Attributions (household-level rows).
    # Seeing attribution lines at all: a bailleur its own, the secretariat and the prefecture
    # all of them (selectors decide which rows); élus and members see aggregates only.
    "attributions.view": frozenset({RoleName.BAILLEUR}) | HOUSEHOLD_READERS,
    "attributions.view_own": frozenset({RoleName.BAILLEUR}),
    "attributions.manage_own": frozenset({RoleName.BAILLEUR}),
    "attributions.view_all": HOUSEHOLD_READERS,
    "attributions.import": frozenset({RoleName.BAILLEUR, RoleName.SECRETARIAT}),
    # The bilan: full tables, a bailleur's own figures, aggregates under statistical secrecy.
    "bilan.view_detail": HOUSEHOLD_READERS,
    "bilan.view_own": frozenset({RoleName.BAILLEUR}),
    "bilan.view_aggregates": ALL_ROLES,
    # Yearly reference data: everyone reads it; the prefecture sets the Q1 threshold (from the
    # arrêté), the secretariat the rates of R1–R3.
    "reference.view": ALL_ROLES,
    "threshold.manage": frozenset({RoleName.PREFECTURE}),
    "rates.manage": SECRETARIAT,
    "tokens.manage": SECRETARIAT,
    # Document d'orientation (CCH L.441-1-5): drafted by the secretariat, commented by every
    # member, adopted by the conference, approved by the EPCI's council and the préfet.
    "orientations.view": ALL_ROLES,
    "orientations.edit": SECRETARIAT,
    "orientations.comment": ALL_ROLES,
    "orientations.resolve_comments": SECRETARIAT,
    "orientations.advance": SECRETARIAT,  # consultation, adoption, délibération, en vigueur
    "orientations.approve": frozenset({RoleName.PREFECTURE}),  # agrément (or refusal) of the préfet
    # Convention intercommunale d'attribution (CCH L.441-1-6).
    "cia.view": ALL_ROLES,
    "cia.edit": SECRETARIAT,
    "cia.explain_gap": frozenset({RoleName.BAILLEUR}),
    # Every signatory organisation designates its signer; the signing itself is a per-object
    # grant (django-guardian) on the convention version, checked on top of this permission.
    "cia.designate_signer": ALL_ROLES,
    "cia.sign": ALL_ROLES,
    # Documents produced by the platform (PDF, sealed).
    "documents.view": ALL_ROLES,
    "documents.generate": HOUSEHOLD_READERS,
    # --- Observatoire (domain.md §5) ---------------------------------------------------
    # Demand, offer and territorial balance: aggregates for every member (statistical
    # secrecy applies to roles that see aggregates only); imports and settings by the
    # secretariat; the délai anormalement long is the préfet's, so the prefecture sets it too.
    "observatoire.view": ALL_ROLES,
    "observatoire.import": SECRETARIAT,
    "observatoire.settings": HOUSEHOLD_READERS,
    "observatoire.map_manage": SECRETARIAT,
    "opendata.manage": SECRETARIAT,
    # --- Governance: sessions of the conference (CCH L.441-1-5) ------------------------
    "sessions.view": ALL_ROLES,
    "sessions.manage": SECRETARIAT,
    # --- Personal data and identity (domain.md §6) --------------------------------------
    # The journal of reads of household-level data: the secretariat reads the whole
    # conference's (it runs the conference for the EPCI, which answers for the processing);
    # every person reads their own reads. The prefecture, itself a reader of every household
    # row, sees its own reads like everyone, not the other readers'.
    "access_journal.view": ALL_ROLES,
    "access_journal.view_all": SECRETARIAT,
    # Which roles must confirm their login with a second factor (TOTP) in this conference.
    "security.manage": SECRETARIAT,
}


class UnknownPermission(LookupError):
    pass


def roles_granting(permission: str) -> frozenset[str]:
    try:
        return PERMISSIONS[permission]
    except KeyError:
        raise UnknownPermission(f"Permission inconnue : {permission!r}") from None


def has_permission(roles: Iterable[str], permission: str) -> bool:
    return not roles_granting(permission).isdisjoint(roles)


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    roles = frozenset(roles)
    return frozenset(name for name, granted in PERMISSIONS.items() if not granted.isdisjoint(roles))
