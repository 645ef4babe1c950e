"""Who signs a CIA version and the signature itself: the signatory organisations of a draft,
the designation of each one's signer (a django-guardian grant on the version), and the
signature with the password re-entered, on the SHA-256 of the frozen bytes. The last
signature makes the version « signée » and requests the final sealed PDF."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from cil import audit
from cil.models import AuditAction, AuditEntry, Conference, Membership, Organisation, Role, User
from cil.roles import RoleName
from conventions import selectors_cia as selectors
from conventions import signing
from conventions.models import (
    CAPACITY_OF_TYPE,
    CAPACITY_RANK,
    BailleurObjective,
    ConventionVersion,
    ReservataireObjective,
    Signatory,
    SignatoryCapacity,
    VersionStatus,
)
from conventions.services_cia.common import (
    bilan_changed,
    fail,
    record_step,
    require_draft,
    same_conference,
)

# A person who types a wrong password this many times in a row is refused for the cool-off
# time (the same policy as the login page, django-axes settings).
SIGN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT
SIGN_COOLOFF = settings.AXES_COOLOFF_TIME
SIGN_REFUSED_KEY = "signature_refusee"


# --- Signatories -------------------------------------------------------------------------------


def _new_signatory(
    conference: Conference, version: ConventionVersion, organisation: Organisation, capacity: str
) -> Signatory:
    return Signatory(
        conference=conference,
        version=version,
        organisation=organisation,
        capacity=capacity,
        rank=CAPACITY_RANK[capacity],
    )


def prefill_signatories(conference: Conference, version: ConventionVersion) -> None:
    """CCH L.441-1-6: the EPCI, the State, every bailleur and every réservataire member."""
    Signatory.objects.bulk_create(
        _new_signatory(conference, version, organisation, capacity)
        for organisation, capacity in selectors.signatory_candidates()
        if capacity is not None
    )


@transaction.atomic
def signatories_set(
    *,
    conference: Conference,
    actor: User | None,
    version: ConventionVersion,
    organisations: list[Organisation],
) -> list[Signatory]:
    """The organisations that sign a draft version. A removed organisation loses its
    designated signer's grant and its objectives in this version."""
    same_conference(conference, version)
    require_draft(version)
    if not organisations:
        fail("organisations", "Choisissez au moins un signataire.")
    members = set(
        Membership.objects.filter(organisation__in=organisations).values_list(
            "organisation_id", flat=True
        )
    )
    outsiders = [o.name for o in organisations if o.pk not in members]
    if outsiders:
        fail("organisations", f"Ne sont pas membres de la conférence : {', '.join(outsiders)}.")
    wanted = {o.pk: o for o in organisations}
    current = {s.organisation_id: s for s in selectors.signatories_of(version)}
    before = sorted(s.organisation.name for s in current.values())
    for organisation_id, signatory in current.items():
        if organisation_id in wanted:
            continue
        if signatory.signer_id:
            remove_perm(selectors.SIGN_PERMISSION_FULL, signatory.signer, version)
        BailleurObjective.objects.filter(version=version, bailleur_id=organisation_id).delete()
        ReservataireObjective.objects.filter(
            version=version, reservataire_id=organisation_id
        ).delete()
        signatory.delete()
    Signatory.objects.bulk_create(
        _new_signatory(
            conference,
            version,
            organisation,
            CAPACITY_OF_TYPE.get(organisation.type, SignatoryCapacity.AUTRE),
        )
        for organisation_id, organisation in wanted.items()
        if organisation_id not in current
    )
    after = sorted(o.name for o in wanted.values())
    if before != after:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=version,
            changes={"signataires": [before, after]},
        )
    return selectors.signatories_of(version)


# --- Designation of the signers ----------------------------------------------------------------


def _prefecture_agents(users) -> set[int]:
    """The ids of `users` holding the prefecture role in the active conference."""
    return set(
        Role.objects.filter(
            name=RoleName.PREFECTURE, access__is_active=True, access__user__in=users
        ).values_list("access__user_id", flat=True)
    )


def signer_candidates(signatory: Signatory) -> list[User]:
    """The people who may be designated to sign for `signatory`: a person of its
    organisation with an active access to the conference. For the État, an agent of the
    prefecture (the prefecture role): CCH L.441-1-6, the CIA is signed by the State, whose
    representative in the conference is the préfet."""
    return signer_candidates_of([signatory])[signatory.organisation_id]


def signer_candidates_of(signatories) -> dict[int, list[User]]:
    """`signer_candidates` of several signatories of one version, by organisation id (two
    queries whatever their number)."""
    people = selectors.users_who_may_sign_for({s.organisation_id for s in signatories})
    etat = [s.organisation_id for s in signatories if s.capacity == SignatoryCapacity.ETAT]
    agents = _prefecture_agents([p for pk in etat for p in people[pk]]) if etat else set()
    return {
        pk: [person for person in found if person.pk in agents] if pk in etat else found
        for pk, found in people.items()
    }


@transaction.atomic
def signer_designate(
    *, conference: Conference, actor: User, signatory: Signatory, signer: User
) -> Signatory:
    """The person who signs for a signatory organisation (`signer_candidates`), designated
    by that organisation ("cia.designate_signer") or by the secretariat. The designation
    grants the django-guardian permission `sign_conventionversion` on the version to that
    person (and takes it from the previous one)."""
    same_conference(conference, signatory)
    signatory = Signatory.objects.select_for_update().select_related("version").get(pk=signatory.pk)
    version = signatory.version
    roles = selectors.roles_of(actor)
    if not selectors.may_designate_for(user=actor, roles=roles, signatory=signatory):
        raise PermissionDenied("Vous ne pouvez pas désigner le signataire de cette organisation.")
    if signer.organisation_id != signatory.organisation_id:
        fail("signer", "Le signataire doit être une personne de l'organisation signataire.")
    if signer not in selectors.users_who_may_sign(organisation=signatory.organisation):
        fail("signer", "Cette personne n'a pas d'accès actif à la conférence.")
    if signatory.capacity == SignatoryCapacity.ETAT and not _prefecture_agents([signer]):
        fail(
            "signer",
            "L'État signe par un agent de la préfecture : choisissez une personne ayant le "
            "rôle « Préfecture / DDETS » dans la conférence.",
        )
    previous = signatory.signer
    if previous is not None and previous.pk != signer.pk:
        remove_perm(selectors.SIGN_PERMISSION_FULL, previous, version)
    assign_perm(selectors.SIGN_PERMISSION_FULL, signer, version)
    signatory.signer = signer
    signatory.designated_by = actor
    signatory.designated_at = timezone.now()
    signatory.save(update_fields=["signer", "designated_by", "designated_at"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=version,
        changes={
            "signataire désigné": [
                f"{previous} ({signatory.organisation})" if previous else None,
                f"{signer} ({signatory.organisation})",
            ]
        },
    )
    return signatory


# --- The signature -----------------------------------------------------------------------------


def recent_sign_failures(*, actor: User) -> int:
    """Wrong passwords typed by `actor` at signature within the cool-off time (from the
    audit log of the active conference)."""
    since = timezone.now() - SIGN_COOLOFF
    return AuditEntry.objects.filter(
        actor=actor, created_at__gte=since, changes__has_key=SIGN_REFUSED_KEY
    ).count()


def version_sign(
    *,
    conference: Conference,
    actor: User,
    version: ConventionVersion,
    password: str,
    confirmed_sha256: str,
    otp_code: str = "",
) -> Signatory:
    """`actor` signs the version for their organisation after re-entering their password.

    Refused with 403 (PermissionDenied) unless the actor is the designated signer of a
    signatory that has not signed and holds the django-guardian grant on the version. A
    wrong password is refused and journaled (outside the transaction, so that the entry
    stays). The signature records who, when, for which organisation, and the SHA-256 of the
    canonical bytes, recomputed from the stored bytes and equal to the one shown. When the
    last signatory signs: the version is « signée », the stored bilans of the years it
    governs are invalidated and the final sealed PDF is requested."""
    same_conference(conference, version)
    roles = selectors.roles_of(actor)
    signatory = selectors.signatory_to_sign(user=actor, roles=roles, version=version)
    if signatory is None:
        raise PermissionDenied("Vous n'êtes pas le signataire désigné de cette version.")
    if recent_sign_failures(actor=actor) >= SIGN_FAILURE_LIMIT:
        minutes = int(SIGN_COOLOFF.total_seconds() // 60)
        fail(
            "password",
            f"Trop de mots de passe erronés : réessayez dans {minutes} minutes.",
        )
    if not actor.check_password(password):
        with transaction.atomic():
            audit.record(
                conference=conference,
                actor=actor,
                action=AuditAction.UPDATE,
                obj=version,
                changes={SIGN_REFUSED_KEY: [None, "mot de passe incorrect"]},
            )
        fail("password", "Mot de passe incorrect : la signature n'a pas été enregistrée.")
    # A signer who enabled the second factor also gives a one-time code; a wrong code counts
    # towards the same failure limit as a wrong password.
    signing.check_second_factor(
        conference=conference,
        actor=actor,
        version=version,
        code=otp_code,
        refused_key=SIGN_REFUSED_KEY,
    )
    return _sign(
        conference=conference,
        actor=actor,
        version=version,
        signatory=signatory,
        confirmed_sha256=confirmed_sha256,
    )


@transaction.atomic
def _sign(
    *,
    conference: Conference,
    actor: User,
    version: ConventionVersion,
    signatory: Signatory,
    confirmed_sha256: str,
) -> Signatory:
    # Locks the version: two last signatures at once make one « signée » step, not two.
    version = ConventionVersion.objects.select_for_update().get(pk=version.pk)
    signatory = (
        Signatory.objects.select_for_update().select_related("organisation").get(pk=signatory.pk)
    )
    if version.status != VersionStatus.EN_SIGNATURE or signatory.has_signed:
        fail(None, "Cette signature n'est plus attendue.")
    digest = signing.sha256(signing.stored_bytes(version))
    if digest != version.canonical_sha256:
        raise RuntimeError(f"Document figé altéré : version {version.public_id}")
    if confirmed_sha256.strip().lower() != digest:
        fail(None, "Le document a changé depuis son affichage : relisez-le avant de signer.")
    signatory.signed_at = timezone.now()
    signatory.signed_by = actor
    signatory.signed_by_label = f"{actor.get_full_name() or actor.email} <{actor.email}>"
    signatory.organisation_label = signatory.organisation.name
    signatory.signed_sha256 = digest
    signatory.save(
        update_fields=[
            "signed_at",
            "signed_by",
            "signed_by_label",
            "organisation_label",
            "signed_sha256",
        ]
    )
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=version,
        changes={"signature": [None, f"{signatory.organisation_label} — SHA-256 {digest}"]},
    )
    if not Signatory.objects.filter(version=version, signed_at__isnull=True).exists():
        record_step(
            conference=conference,
            version=version,
            actor=actor,
            to_status=VersionStatus.SIGNEE,
            note="Signée par tous les signataires",
        )
        bilan_changed(conference, version)
        _request_final_document(conference=conference, actor=actor, version=version)
    return signatory


def _request_final_document(
    *, conference: Conference, actor: User | None, version: ConventionVersion
) -> None:
    """The final PDF (cover, body, annexes, signature page), sealed (PAdES), through the
    document pipeline."""
    document = signing.request_final_document(conference=conference, actor=actor, version=version)
    version.final_document = document
    version.save(update_fields=["final_document"])
