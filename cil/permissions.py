"""The permission registry: every permission name and the roles that grant it.

Views declare the permission they need (`cil.views.decorators.requires`), templates ask
`can` for what to show, and an unknown name raises instead of silently refusing or
allowing: a typo is a bug, not a denial.
"""

from collections.abc import Iterable

from cil.roles import RoleName

ALL_ROLES = frozenset(RoleName)
SECRETARIAT = frozenset({RoleName.SECRETARIAT})

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
