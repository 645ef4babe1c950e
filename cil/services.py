"""Every change of state of the conference core. One transaction each, one audit entry each.

Views, tasks and commands call these; they never `.save()` a domain object themselves.
"""

import hashlib
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cil import audit, concurrency
from cil.models import (
    Access,
    AuditAction,
    Conference,
    Invitation,
    Membership,
    Organisation,
    OrganisationType,
    Representative,
    Role,
    User,
    normalize_email,
)
from cil.roles import RoleName
from cil.signals import structure_changed
from cil.validators import validate_siren

CONFERENCE_FIELDS = ["name", "prefet_name", "president_name"]
MEMBERSHIP_FIELDS = ["organisation", "college", "voting_right"]
REPRESENTATIVE_FIELDS = [
    "first_name",
    "last_name",
    "position",
    "email",
    "kind",
    "mandate_start",
    "mandate_end",
]

# A role that reads or writes an organisation's own data needs the right kind of
# organisation: a bailleur user reports its organisation's attributions; a prefecture
# agent acts for the State.
ROLE_ORGANISATION_TYPES = {
    RoleName.BAILLEUR: {OrganisationType.BAILLEUR},
    RoleName.PREFECTURE: {OrganisationType.ETAT},
}


def _fail(field: str | None, message: str):
    raise ValidationError({field: message} if field else message)


# --- The conference -------------------------------------------------------------------


@transaction.atomic
def conference_update(
    *,
    conference: Conference,
    actor: User | None,
    name: str,
    prefet_name: str,
    president_name: str,
    fingerprint: str | None = None,
) -> Conference:
    """Rename the conference or record its co-presidents (CCH L.441-1-5: the préfet and the
    president of the EPCI co-chair it)."""
    concurrency.check_fields(
        conference, CONFERENCE_FIELDS, fingerprint=fingerprint, conference=conference
    )
    before = audit.snapshot(conference, CONFERENCE_FIELDS)
    conference.name = name.strip()
    conference.prefet_name = prefet_name.strip()
    conference.president_name = president_name.strip()
    conference.full_clean()
    changes = audit.diff(before, audit.snapshot(conference, CONFERENCE_FIELDS))
    if changes:
        conference.save(update_fields=[*CONFERENCE_FIELDS, "updated_at"])
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=conference,
            changes=changes,
        )
    return conference


# --- Members --------------------------------------------------------------------------


@transaction.atomic
def organisation_get_or_create(*, siren: str, name: str, type: str) -> tuple[Organisation, bool]:
    """Organisations are global: an existing SIREN is reused as it is (its name is shared
    with other conferences and is not renamed from one of them)."""
    validate_siren(siren)
    # Two conferences adding the same new organisation at once: one creates, one reuses.
    concurrency.advisory_lock("organisation", siren)
    organisation = Organisation.objects.filter(siren=siren).first()
    if organisation is not None:
        return organisation, False
    organisation = Organisation(siren=siren, name=name.strip(), type=type)
    organisation.full_clean()
    organisation.save()
    return organisation, True


@transaction.atomic
def membership_add(
    *,
    conference: Conference,
    actor: User | None,
    siren: str,
    name: str,
    type: str,
    college: int,
    voting_right: bool = True,
) -> Membership:
    # The same form sent twice at once: the second waits, then is told it is a member already.
    concurrency.advisory_lock("membership", conference.pk, siren)
    organisation, _ = organisation_get_or_create(siren=siren, name=name, type=type)
    if Membership.objects.filter(organisation=organisation).exists():
        _fail("siren", f"{organisation.name} est déjà membre de la conférence.")
    return _membership_create(
        conference=conference,
        actor=actor,
        organisation=organisation,
        college=college,
        voting_right=voting_right,
    )


def _membership_create(
    *,
    conference: Conference,
    actor: User | None,
    organisation: Organisation,
    college: int,
    voting_right: bool = True,
) -> Membership:
    membership = Membership(
        conference=conference, organisation=organisation, college=college, voting_right=voting_right
    )
    membership.full_clean()
    membership.save()
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=membership,
        changes=audit.diff({}, audit.snapshot(membership, MEMBERSHIP_FIELDS)),
    )
    structure_changed(conference.pk)
    return membership


@transaction.atomic
def membership_update(
    *,
    conference: Conference,
    actor: User | None,
    membership: Membership,
    college: int,
    voting_right: bool,
    fingerprint: str | None = None,
) -> Membership:
    _same_conference(conference, membership)
    concurrency.check_fields(
        membership, MEMBERSHIP_FIELDS, fingerprint=fingerprint, conference=conference
    )
    before = audit.snapshot(membership, MEMBERSHIP_FIELDS)
    membership.college = college
    membership.voting_right = voting_right
    membership.full_clean()
    membership.save(update_fields=["college", "voting_right"])
    changes = audit.diff(before, audit.snapshot(membership, MEMBERSHIP_FIELDS))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=membership,
            changes=changes,
        )
    return membership


@transaction.atomic
def membership_remove(
    *, conference: Conference, actor: User | None, membership: Membership
) -> None:
    """Remove a member organisation; its people lose their access to this conference."""
    _same_conference(conference, membership)
    accesses = Access.objects.filter(user__organisation=membership.organisation, is_active=True)
    for access in accesses.select_related("user"):
        access_deactivate(conference=conference, actor=actor, access=access)
    Invitation.objects.filter(
        organisation=membership.organisation, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.DELETE,
        obj=membership,
        changes=audit.diff(audit.snapshot(membership, MEMBERSHIP_FIELDS), {}),
    )
    membership.delete()
    structure_changed(conference.pk)


@transaction.atomic
def membership_ensure(
    *, conference: Conference, actor: User | None, organisation: Organisation, college: int
) -> tuple[Membership, bool]:
    """Create or update a membership to the given college (territory loading)."""
    membership = Membership.objects.filter(organisation=organisation).first()
    if membership is None:
        membership = _membership_create(
            conference=conference, actor=actor, organisation=organisation, college=college
        )
        return membership, True
    if membership.college != college:
        membership_update(
            conference=conference,
            actor=actor,
            membership=membership,
            college=college,
            voting_right=membership.voting_right,
        )
        return membership, True
    return membership, False


# --- Representatives ------------------------------------------------------------------


@transaction.atomic
def representative_save(
    *,
    conference: Conference,
    actor: User | None,
    membership: Membership,
    representative: Representative | None = None,
    first_name: str,
    last_name: str,
    position: str = "",
    email: str = "",
    kind: str,
    mandate_start: date,
    mandate_end: date | None = None,
    fingerprint: str | None = None,
) -> Representative:
    """Create (representative=None) or update a representative of a member organisation."""
    _same_conference(conference, membership)
    creating = representative is None
    if creating:
        representative = Representative(conference=conference, membership=membership)
        before = {}
    else:
        _same_conference(conference, representative)
        concurrency.check_fields(
            representative, REPRESENTATIVE_FIELDS, fingerprint=fingerprint, conference=conference
        )
        before = audit.snapshot(representative, REPRESENTATIVE_FIELDS)
    representative.first_name = first_name.strip()
    representative.last_name = last_name.strip()
    representative.position = position.strip()
    representative.email = normalize_email(email) if email else ""
    representative.kind = kind
    representative.mandate_start = mandate_start
    representative.mandate_end = mandate_end
    if mandate_end is not None and mandate_end < mandate_start:
        _fail("mandate_end", "La fin du mandat ne peut pas précéder son début.")
    representative.full_clean()
    representative.save()
    changes = audit.diff(before, audit.snapshot(representative, REPRESENTATIVE_FIELDS))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            obj=representative,
            changes=changes,
        )
    return representative


# --- Accounts, roles and invitations --------------------------------------------------


# An identical invitation within this delay is a duplicate submission, not a new sending.
INVITATION_REPEAT_DELAY = timedelta(minutes=1)


def access_fingerprint(access: Access) -> str:
    """What the roles form was filled from: the roles, and whether the access is active."""
    return concurrency.fingerprint(
        {"roles": sorted(access.roles.values_list("name", flat=True)), "active": access.is_active}
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role_for_organisation(role: str, organisation: Organisation) -> None:
    allowed = ROLE_ORGANISATION_TYPES.get(role)
    if allowed and organisation.type not in allowed:
        types = ", ".join(OrganisationType(t).label for t in sorted(allowed))
        _fail(
            "role",
            f"Le rôle « {RoleName(role).label} » est réservé aux organisations de type : {types}.",
        )


@transaction.atomic
def invitation_create(
    *, conference: Conference, actor: User | None, email: str, organisation: Organisation, role: str
) -> tuple[Invitation, str]:
    """Invite a person of a member organisation with a role. Returns the invitation and the
    clear token (sent by e-mail, never stored)."""
    email = normalize_email(email)
    if not Membership.objects.filter(organisation=organisation).exists():
        _fail("organisation", "Cette organisation n'est pas membre de la conférence.")
    # The same invitation sent twice at once (double click, several tabs): one e-mail.
    concurrency.advisory_lock("invitation", conference.pk, email, role)
    if Invitation.objects.filter(
        email=email,
        role=role,
        organisation=organisation,
        accepted_at=None,
        revoked_at=None,
        created_at__gte=timezone.now() - INVITATION_REPEAT_DELAY,
    ).exists():
        _fail(
            "email",
            f"Une invitation vient d'être envoyée à {email} pour ce rôle : elle est en cours "
            "d'acheminement. Pour l'envoyer de nouveau, attendez une minute.",
        )
    _check_role_for_organisation(role, organisation)
    existing = User.objects.filter(email=email).first()
    if existing is not None and existing.organisation_id not in (None, organisation.pk):
        _fail(
            "email",
            f"Cette personne agit déjà pour une autre organisation ({existing.organisation}).",
        )
    if existing is not None:
        access = Access.objects.filter(user=existing, is_active=True).first()
        if access is not None and access.roles.filter(name=role).exists():
            _fail("role", "Cette personne a déjà ce rôle dans la conférence.")
    # A new invitation replaces a pending one for the same person and role.
    Invitation.objects.filter(email=email, role=role, accepted_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        conference=conference,
        email=email,
        organisation=organisation,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=timezone.now() + settings.CIL_INVITATION_VALIDITY,
    )
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.INVITE,
        obj=invitation,
        changes={
            "email": [None, email],
            "organisation": [None, str(organisation)],
            "role": [None, role],
        },
    )
    from cil.outbox import enqueue_on_commit
    from cil.tasks import send_invitation_email

    enqueue_on_commit(
        send_invitation_email, conference_id=conference.pk, invitation_id=invitation.pk, token=token
    )
    return invitation, token


def invitation_find(*, token: str) -> Invitation | None:
    """The pending invitation of the active conference scope carrying this token."""
    invitation = (
        Invitation.objects.select_related("organisation", "conference")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return None
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: User | None = None,
    first_name: str = "",
    last_name: str = "",
    password: str = "",
) -> User:
    """Turn a pending invitation into an account (new person) or a role (known person)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        _fail(None, "Cette invitation n'est plus valable.")
    conference = invitation.conference
    if user is None:
        if User.objects.filter(email=invitation.email).exists():
            _fail(None, "Un compte existe déjà pour cette adresse : connectez-vous pour accepter.")
        user = User(
            email=invitation.email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            organisation=invitation.organisation,
        )
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password1": error.messages}) from error
        user.set_password(password)
        user.full_clean()
        user.save()
    else:
        if user.email != invitation.email:
            _fail(None, "Cette invitation est adressée à une autre personne.")
        if user.organisation_id is None:
            user.organisation = invitation.organisation
            user.save(update_fields=["organisation"])
        elif user.organisation_id != invitation.organisation_id:
            _fail(None, "Vous agissez déjà pour une autre organisation.")
    access = _access_with_role(conference=conference, user=user, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(
        conference=conference,
        actor=user,
        action=AuditAction.ACCEPT,
        obj=access,
        object_repr=str(user),
        changes={"role": [None, invitation.role]},
    )
    return user


def _access_with_role(*, conference: Conference, user: User, role: str) -> Access:
    access, _ = Access.objects.get_or_create(conference=conference, user=user)
    if not access.is_active:
        access.is_active = True
        access.deactivated_at = None
        access.save(update_fields=["is_active", "deactivated_at"])
    Role.objects.get_or_create(conference=conference, access=access, name=role)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return access


@transaction.atomic
def invitation_revoke(
    *, conference: Conference, actor: User | None, invitation: Invitation
) -> None:
    _same_conference(conference, invitation)
    if not invitation.is_pending:
        _fail(None, "Seule une invitation en attente peut être révoquée.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(conference=conference, actor=actor, action=AuditAction.REVOKE, obj=invitation)


@transaction.atomic
def access_set_roles(
    *,
    conference: Conference,
    actor: User | None,
    access: Access,
    roles: list[str],
    fingerprint: str | None = None,
) -> Access:
    _same_conference(conference, access)
    concurrency.lock_and_check(
        access,
        fingerprint=fingerprint,
        current=access_fingerprint,
        conference=conference,
        labels={"roles": "rôles"},
    )
    roles = sorted(set(roles))
    if not roles:
        _fail("roles", "Choisissez au moins un rôle, ou désactivez le compte.")
    for role in roles:
        _check_role_for_organisation(role, access.user.organisation or Organisation(type=""))
    if access.user_id == getattr(actor, "pk", None) and RoleName.SECRETARIAT not in roles:
        _fail("roles", "Vous ne pouvez pas retirer votre propre rôle de secrétariat.")
    before = sorted(access.roles.values_list("name", flat=True))
    if before == roles:
        return access
    access.roles.exclude(name__in=roles).delete()
    for role in roles:
        Role.objects.get_or_create(conference=conference, access=access, name=role)
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=access,
        object_repr=str(access.user),
        changes={"roles": [before, roles]},
    )
    return access


@transaction.atomic
def access_deactivate(*, conference: Conference, actor: User | None, access: Access) -> Access:
    """End a user's access to this conference; their sessions here end at the next request.

    A person with no active access left anywhere is deactivated altogether (their sessions
    then end everywhere). A person who still works for another conference keeps that.
    """
    _same_conference(conference, access)
    if access.user_id == getattr(actor, "pk", None):
        _fail(None, "Vous ne pouvez pas désactiver votre propre compte.")
    if not access.is_active:
        return access
    access.is_active = False
    access.deactivated_at = timezone.now()
    access.save(update_fields=["is_active", "deactivated_at"])
    user = access.user
    # A cross-tenant existence check on the person, not a read of another tenant's rows.
    if not Access.objects.with_scopes_disabled().filter(user=user, is_active=True).exists():
        user.is_active = False
        user.save(update_fields=["is_active"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.DEACTIVATE,
        obj=access,
        object_repr=str(user),
        changes={"is_active": [True, False]},
    )
    return access


@transaction.atomic
def access_reactivate(*, conference: Conference, actor: User | None, access: Access) -> Access:
    _same_conference(conference, access)
    if access.is_active:
        return access
    access.is_active = True
    access.deactivated_at = None
    access.save(update_fields=["is_active", "deactivated_at"])
    if not access.user.is_active:
        access.user.is_active = True
        access.user.save(update_fields=["is_active"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.REACTIVATE,
        obj=access,
        object_repr=str(access.user),
        changes={"is_active": [False, True]},
    )
    return access


def _same_conference(conference: Conference, obj) -> None:
    if obj.conference_id != conference.pk:
        raise ValueError("L'objet n'appartient pas à cette conférence.")
