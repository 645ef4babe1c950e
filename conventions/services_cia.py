"""Every change of state of a CIA (convention intercommunale d'attribution, CCH L.441-1-6).

One transaction each, one audit entry each; the bilan is invalidated after the commit when
what drives it changes (a version becomes signed, then in force). The status machine and
the rule of the version in force are described in conventions/models/cia.py.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from cil import audit
from cil.models import (
    AuditAction,
    AuditEntry,
    Commune,
    Conference,
    Membership,
    Organisation,
    Qpv,
    User,
)
from conventions import selectors_cia as selectors
from conventions import signing
from conventions.models import (
    ADOPTED,
    CAPACITY_OF_TYPE,
    CAPACITY_RANK,
    BailleurObjective,
    Convention,
    ConventionVersion,
    GapCategory,
    GapExplanation,
    ReservataireObjective,
    Signatory,
    SignatoryCapacity,
    VersionKind,
    VersionStatus,
    VersionStatusChange,
)

VERSION_FIELDS = ["title", "effective_from", "purpose", "body"]
# The years a convention may cover (a sanity bound for typing errors, not a legal rule).
FIRST_YEAR, LAST_YEAR = 2015, 2100
# A person who types a wrong password this many times in a row is refused for the cool-off
# time (the same policy as the login page, django-axes settings).
SIGN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT
SIGN_COOLOFF = settings.AXES_COOLOFF_TIME
SIGN_REFUSED_KEY = "signature_refusee"


def _fail(field: str | None, message: str):
    raise ValidationError({field: message} if field else message)


def _same_conference(conference: Conference, *objects) -> None:
    for obj in objects:
        if obj.conference_id != conference.pk:
            raise ValueError("L'objet n'appartient pas à cette conférence.")


def _require_draft(version: ConventionVersion) -> None:
    if version.status != VersionStatus.BROUILLON:
        _fail(
            None,
            "Cette version est figée depuis sa mise en signature : pour la modifier, "
            "créez un avenant.",
        )


def _step(
    *,
    conference: Conference,
    version: ConventionVersion,
    actor: User | None,
    to_status: str,
    note: str = "",
    created: bool = False,
) -> None:
    """Move `version` to `to_status` (or record its creation, `created`) and write the
    history row and the audit entry."""
    from_status = "" if created else version.status
    version.status = to_status
    version.save(update_fields=["status"])
    VersionStatusChange.objects.create(
        conference=conference,
        version=version,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_label=str(actor) if actor else "plateforme",
        note=note[:500],
    )
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=version,
        changes={
            "statut": [
                None if created else VersionStatus(from_status).label,
                VersionStatus(to_status).label,
            ]
        },
    )


def _bilan_changed(conference: Conference, version: ConventionVersion) -> None:
    """The version now drives the objectives of the years from its effect to the end of the
    convention: their stored bilans are stale (after the commit)."""
    from attributions import bilan_cache

    convention = version.convention
    first = max(convention.start_year, version.effective_from.year)
    years = list(range(first, convention.end_year + 1))
    if years:
        transaction.on_commit(
            lambda: bilan_cache.invalidate(conference_id=conference.pk, years=years)
        )


def _check_period(start_year: int, end_year: int) -> None:
    for field, year in (("start_year", start_year), ("end_year", end_year)):
        if not FIRST_YEAR <= year <= LAST_YEAR:
            _fail(field, f"Indiquez une année entre {FIRST_YEAR} et {LAST_YEAR}.")
    if end_year < start_year:
        _fail("end_year", "La dernière année ne peut pas précéder la première.")


# --- The convention and its versions -----------------------------------------------------------


@transaction.atomic
def convention_create(
    *, conference: Conference, actor: User | None, title: str, start_year: int, end_year: int
) -> Convention:
    """A new CIA with its initial version (a draft, effective from 1 January of its first
    year), the signatories pre-filled from the members."""
    _check_period(start_year, end_year)
    clash = selectors.overlapping_conventions(start_year, end_year).first()
    if clash is not None:
        # One convention per year: the bilan takes a year's objectives from one convention.
        _fail(
            "start_year",
            f"La période chevauche celle de « {clash} » : une seule convention par année.",
        )
    convention = Convention(
        conference=conference,
        title=title.strip(),
        start_year=start_year,
        end_year=end_year,
        created_by=actor,
    )
    convention.full_clean()
    convention.save()
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=convention,
        changes={
            "intitulé": [None, convention.title],
            "période": [None, f"{start_year}–{end_year}"],
        },
    )
    version = ConventionVersion(
        conference=conference,
        convention=convention,
        number=1,
        kind=VersionKind.INITIAL,
        effective_from=datetime.date(start_year, 1, 1),
        title=convention.title,
        created_by=actor,
    )
    version.save()
    _prefill_signatories(conference, version)
    _step(
        conference=conference,
        version=version,
        actor=actor,
        to_status=VersionStatus.BROUILLON,
        note="Création de la convention",
        created=True,
    )
    return convention


def _prefill_signatories(conference: Conference, version: ConventionVersion) -> None:
    """CCH L.441-1-6: the EPCI, the State, every bailleur and every réservataire member."""
    Signatory.objects.bulk_create(
        Signatory(
            conference=conference,
            version=version,
            organisation=organisation,
            capacity=capacity,
            rank=CAPACITY_RANK[capacity],
        )
        for organisation, capacity in selectors.signatory_candidates()
        if capacity is not None
    )


def _check_effective_from(version: ConventionVersion, effective_from: datetime.date) -> None:
    convention = version.convention
    if not convention.start_year <= effective_from.year <= convention.end_year:
        _fail(
            "effective_from",
            f"La date d'effet doit tomber dans la période de la convention "
            f"({convention.start_year}–{convention.end_year}).",
        )
    previous = (
        convention.versions.filter(number__lt=version.number).order_by("-number").first()
        if version.number
        else convention.versions.order_by("-number").first()
    )
    if previous is not None and effective_from <= previous.effective_from:
        _fail(
            "effective_from",
            f"Un avenant prend effet après la version qu'il modifie "
            f"(le {previous.effective_from:%d/%m/%Y}).",
        )


@transaction.atomic
def version_update(
    *,
    conference: Conference,
    actor: User | None,
    version: ConventionVersion,
    title: str,
    effective_from: datetime.date,
    purpose: str = "",
    body: str = "",
) -> ConventionVersion:
    """Change the text of a draft version."""
    _same_conference(conference, version)
    _require_draft(version)
    _check_effective_from(version, effective_from)
    if version.kind == VersionKind.AVENANT and not purpose.strip():
        _fail("purpose", "Indiquez l'objet de l'avenant.")
    before = audit.snapshot(version, VERSION_FIELDS)
    version.title = title.strip()
    version.effective_from = effective_from
    version.purpose = purpose.strip()
    version.body = body.strip()
    version.full_clean(exclude=["canonical_file", "final_document"])
    version.save(update_fields=VERSION_FIELDS)
    changes = audit.diff(before, audit.snapshot(version, VERSION_FIELDS))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=version,
            changes=changes,
        )
    return version


@transaction.atomic
def avenant_create(
    *,
    conference: Conference,
    actor: User | None,
    convention: Convention,
    effective_from: datetime.date,
    purpose: str,
    title: str = "",
) -> ConventionVersion:
    """A new version of a signed convention, effective from a date. It starts as a copy of
    the latest version (stipulations and objectives), with the signatories pre-filled from
    the members of today; earlier versions and their signatures stay as they are."""
    _same_conference(conference, convention)
    base = convention.versions.select_for_update().order_by("-number").first()
    if base is None or base.status not in ADOPTED:
        _fail(
            None,
            "Un avenant modifie une convention signée : la version en cours doit d'abord "
            "être signée par tous.",
        )
    if not purpose.strip():
        _fail("purpose", "Indiquez l'objet de l'avenant.")
    number = base.number + 1
    version = ConventionVersion(
        conference=conference,
        convention=convention,
        number=number,
        kind=VersionKind.AVENANT,
        effective_from=effective_from,
        title=title.strip() or f"Avenant n° {number - 1} — {convention.title}",
        purpose=purpose.strip(),
        body=base.body,
        created_by=actor,
    )
    _check_effective_from(version, effective_from)
    version.save()
    _prefill_signatories(conference, version)
    signing_organisations = set(
        Signatory.objects.filter(version=version).values_list("organisation_id", flat=True)
    )
    BailleurObjective.objects.bulk_create(
        BailleurObjective(
            conference=conference,
            version=version,
            bailleur_id=o.bailleur_id,
            year=o.year,
            commune_id=o.commune_id,
            qpv_id=o.qpv_id,
            r1=o.r1,
            r2=o.r2,
            r3=o.r3,
            npnru_relogements=o.npnru_relogements,
        )
        for o in BailleurObjective.objects.filter(version=base)
        if o.bailleur_id in signing_organisations
    )
    ReservataireObjective.objects.bulk_create(
        ReservataireObjective(
            conference=conference,
            version=version,
            reservataire_id=o.reservataire_id,
            year=o.year,
            r3=o.r3,
        )
        for o in ReservataireObjective.objects.filter(version=base)
        if o.reservataire_id in signing_organisations
    )
    _step(
        conference=conference,
        version=version,
        actor=actor,
        to_status=VersionStatus.BROUILLON,
        note=f"Avenant créé à partir de la version {base.number}",
        created=True,
    )
    return version


# --- Signatories ---------------------------------------------------------------------------------


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
    _same_conference(conference, version)
    _require_draft(version)
    if not organisations:
        _fail("organisations", "Choisissez au moins un signataire.")
    members = set(
        Membership.objects.filter(organisation__in=organisations).values_list(
            "organisation_id", flat=True
        )
    )
    outsiders = [o.name for o in organisations if o.pk not in members]
    if outsiders:
        _fail("organisations", f"Ne sont pas membres de la conférence : {', '.join(outsiders)}.")
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
    for organisation_id, organisation in wanted.items():
        if organisation_id in current:
            continue
        capacity = CAPACITY_OF_TYPE.get(organisation.type, SignatoryCapacity.AUTRE)
        Signatory.objects.create(
            conference=conference,
            version=version,
            organisation=organisation,
            capacity=capacity,
            rank=CAPACITY_RANK[capacity],
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


@transaction.atomic
def signer_designate(
    *, conference: Conference, actor: User, signatory: Signatory, signer: User
) -> Signatory:
    """The person who signs for a signatory organisation: a person of that organisation with
    access to the conference, designated by that organisation ("cia.designate_signer") or by
    the secretariat. The designation grants the django-guardian permission
    `sign_conventionversion` on the version to that person (and takes it from the previous
    one)."""
    _same_conference(conference, signatory)
    signatory = Signatory.objects.select_for_update().select_related("version").get(pk=signatory.pk)
    version = signatory.version
    roles = selectors.roles_of(actor)
    if not selectors.may_designate_for(user=actor, roles=roles, signatory=signatory):
        raise PermissionDenied("Vous ne pouvez pas désigner le signataire de cette organisation.")
    if signer.organisation_id != signatory.organisation_id:
        _fail("signer", "Le signataire doit être une personne de l'organisation signataire.")
    if signer not in selectors.users_who_may_sign(organisation=signatory.organisation):
        _fail("signer", "Cette personne n'a pas d'accès actif à la conférence.")
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


# --- Objectives ----------------------------------------------------------------------------------


def _check_years(version: ConventionVersion, years) -> None:
    period = set(version.convention.years)
    outside = sorted(set(years) - period)
    if outside:
        _fail(None, f"Années hors de la période de la convention : {outside}.")


def _rate_cell(value: Decimal | None) -> str | None:
    return None if value is None else f"{value * 100:g} %"


@transaction.atomic
def bailleur_objectives_save(
    *,
    conference: Conference,
    actor: User | None,
    version: ConventionVersion,
    values: dict[tuple[int, int], dict[str, Any]],
    commune: Commune | None = None,
    qpv: Qpv | None = None,
) -> int:
    """Set the objectives of a draft version on one perimeter (the territory, a commune or a
    QPV): `values` {(bailleur organisation id, year): {"r1", "r2", "r3": rate 0..1 or None,
    "npnru_relogements": int or None}}. A cell left entirely empty removes the objective.
    Returns the number of cells changed."""
    _same_conference(conference, version)
    _require_draft(version)
    if commune is not None and qpv is not None:
        _fail(None, "Un objectif porte sur une commune ou sur un QPV, pas les deux.")
    for place in (commune, qpv):
        if place is not None:
            _same_conference(conference, place)
    bailleurs = {o.pk: o for o in selectors.bailleur_signatories(version)}
    unknown = {bailleur_id for bailleur_id, _year in values} - set(bailleurs)
    if unknown:
        _fail(None, "Seuls les bailleurs signataires de la convention ont des objectifs.")
    _check_years(version, [year for _bailleur, year in values])
    existing = selectors.bailleur_objectives(version, commune=commune, qpv=qpv)
    changes: dict[str, list] = {}
    for (bailleur_id, year), cell in sorted(values.items()):
        rates = {rule: cell.get(rule) for rule in ("r1", "r2", "r3")}
        for rule, rate in rates.items():
            if rate is not None and not Decimal(0) <= rate <= Decimal(1):
                _fail(None, f"Le taux {rule.upper()} {year} doit être compris entre 0 et 100 %.")
        count = cell.get("npnru_relogements")
        if count is not None and count < 0:
            _fail(None, f"Le nombre de relogements NPNRU {year} ne peut pas être négatif.")
        objective = existing.get((bailleur_id, year))
        label = f"{bailleurs[bailleur_id].name} {year}"
        old = (
            [*(getattr(objective, r) for r in ("r1", "r2", "r3")), objective.npnru_relogements]
            if objective
            else [None] * 4
        )
        new = [rates["r1"], rates["r2"], rates["r3"], count]
        if old == new:
            continue
        if all(value is None for value in new):
            objective.delete()
        else:
            if objective is None:
                objective = BailleurObjective(
                    conference=conference,
                    version=version,
                    bailleur_id=bailleur_id,
                    year=year,
                    commune=commune,
                    qpv=qpv,
                )
            objective.r1, objective.r2, objective.r3 = new[:3]
            objective.npnru_relogements = count
            objective.save()
        changes[label] = [
            [*(_rate_cell(v) for v in old[:3]), old[3]],
            [*(_rate_cell(v) for v in new[:3]), new[3]],
        ]
    changed = len(changes)
    if changes:
        perimeter = commune or qpv
        if perimeter is not None:
            changes["périmètre"] = [None, str(perimeter)]
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=version,
            object_type="conventions.bailleurobjective",
            changes=changes,
        )
    # A draft never drives the bilan, and a version stops being a draft before it can: the
    # objectives of a version in force never change (an avenant does), so nothing to
    # invalidate here. Signing, then entering into force, invalidate (`_bilan_changed`).
    return changed


@transaction.atomic
def reservataire_objectives_save(
    *,
    conference: Conference,
    actor: User | None,
    version: ConventionVersion,
    values: dict[tuple[int, int], Decimal | None],
) -> int:
    """Set the réservataires' R3 objectives of a draft version: {(organisation id, year):
    rate 0..1 or None (removed)}. Returns the number of cells changed."""
    _same_conference(conference, version)
    _require_draft(version)
    reservataires = {o.pk: o for o in selectors.reservataire_signatories(version)}
    if {organisation_id for organisation_id, _year in values} - set(reservataires):
        _fail(None, "Seuls les réservataires signataires de la convention ont des objectifs.")
    _check_years(version, [year for _organisation, year in values])
    existing = selectors.reservataire_objectives(version)
    changes: dict[str, list] = {}
    for (organisation_id, year), rate in sorted(values.items()):
        if rate is not None and not Decimal(0) <= rate <= Decimal(1):
            _fail(None, f"Le taux R3 {year} doit être compris entre 0 et 100 %.")
        objective = existing.get((organisation_id, year))
        old = objective.r3 if objective else None
        if old == rate:
            continue
        if rate is None:
            objective.delete()
        elif objective is None:
            ReservataireObjective.objects.create(
                conference=conference,
                version=version,
                reservataire_id=organisation_id,
                year=year,
                r3=rate,
            )
        else:
            objective.r3 = rate
            objective.save(update_fields=["r3"])
        changes[f"{reservataires[organisation_id].name} {year} R3"] = [
            _rate_cell(old),
            _rate_cell(rate),
        ]
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=version,
            object_type="conventions.reservataireobjective",
            changes=changes,
        )
    return len(changes)


# --- The status machine --------------------------------------------------------------------------


@transaction.atomic
def version_submit(
    *, conference: Conference, actor: User | None, version: ConventionVersion
) -> ConventionVersion:
    """brouillon → en_signature: the content freezes; its canonical bytes are produced,
    stored and hashed (conventions/signing.py), and every signatory will sign that hash."""
    _same_conference(conference, version)
    version = ConventionVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    signatories = selectors.signatories_of(version)
    capacities = {s.capacity for s in signatories}
    # CCH L.441-1-6: signed by the EPCI and the State, with the bailleurs.
    missing = [
        label
        for capacity, label in (
            (SignatoryCapacity.EPCI, "l'EPCI"),
            (SignatoryCapacity.ETAT, "l'État"),
            (SignatoryCapacity.BAILLEUR, "au moins un bailleur"),
        )
        if capacity not in capacities
    ]
    if missing:
        _fail(None, f"Il manque parmi les signataires : {', '.join(missing)}.")
    _check_effective_from(version, version.effective_from)
    data, extension = signing.canonical_document(version)
    version.canonical_format = extension
    version.canonical_sha256 = signing.sha256(data)
    version.canonical_file.save(f"{version.public_id}.{extension}", ContentFile(data), save=False)
    version.frozen_at = timezone.now()
    version.save(
        update_fields=["canonical_format", "canonical_sha256", "canonical_file", "frozen_at"]
    )
    _step(
        conference=conference,
        version=version,
        actor=actor,
        to_status=VersionStatus.EN_SIGNATURE,
        note=f"Contenu figé, empreinte SHA-256 {version.canonical_sha256}",
    )
    return version


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
) -> Signatory:
    """`actor` signs the version for their organisation after re-entering their password.

    Refused with 403 (PermissionDenied) unless the actor is the designated signer of a
    signatory that has not signed and holds the django-guardian grant on the version. A
    wrong password is refused and journaled (outside the transaction, so that the entry
    stays). The signature records who, when, for which organisation, and the SHA-256 of the
    canonical bytes, recomputed from the stored bytes and equal to the one shown. When the
    last signatory signs: the version is « signée », the stored bilans of the years it
    governs are invalidated and the final sealed PDF is requested."""
    _same_conference(conference, version)
    roles = selectors.roles_of(actor)
    signatory = selectors.signatory_to_sign(user=actor, roles=roles, version=version)
    if signatory is None:
        raise PermissionDenied("Vous n'êtes pas le signataire désigné de cette version.")
    if recent_sign_failures(actor=actor) >= SIGN_FAILURE_LIMIT:
        minutes = int(SIGN_COOLOFF.total_seconds() // 60)
        _fail(
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
        _fail("password", "Mot de passe incorrect : la signature n'a pas été enregistrée.")
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
        _fail(None, "Cette signature n'est plus attendue.")
    digest = signing.sha256(signing.stored_bytes(version))
    if digest != version.canonical_sha256:
        raise RuntimeError(f"Document figé altéré : version {version.public_id}")
    if confirmed_sha256.strip().lower() != digest:
        _fail(None, "Le document a changé depuis son affichage : relisez-le avant de signer.")
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
        _step(
            conference=conference,
            version=version,
            actor=actor,
            to_status=VersionStatus.SIGNEE,
            note="Signée par tous les signataires",
        )
        _bilan_changed(conference, version)
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


@transaction.atomic
def version_enter_into_force(
    *, conference: Conference, actor: User | None, version: ConventionVersion
) -> ConventionVersion:
    """signee → en_vigueur: declared by the secretariat (after the préfet's agrément)."""
    _same_conference(conference, version)
    version = (
        ConventionVersion.objects.select_for_update()
        .select_related("convention")
        .get(pk=version.pk)
    )
    if version.status != VersionStatus.SIGNEE:
        _fail(None, "Seule une version signée par tous peut entrer en vigueur.")
    _step(conference=conference, version=version, actor=actor, to_status=VersionStatus.EN_VIGUEUR)
    _bilan_changed(conference, version)
    return version


# --- Gap explanations ------------------------------------------------------------------------------


@transaction.atomic
def gap_explanation_save(
    *,
    conference: Conference,
    actor: User,
    convention: Convention,
    year: int,
    rule: str,
    category: str,
    text: str,
) -> GapExplanation:
    """The actor's bailleur explains its gap to the objective of `rule` in `year`."""
    _same_conference(conference, convention)
    bailleur = actor.organisation
    if bailleur is None:
        raise PermissionDenied
    if year not in convention.years:
        _fail(None, "Cette année n'est pas dans la période de la convention.")
    if rule not in ("r1", "r2", "r3"):
        _fail(None, "Règle inconnue.")
    if category not in GapCategory.values:
        _fail("category", "Choisissez un motif.")
    if not text.strip():
        _fail("text", "Rédigez l'explication.")
    explanation = selectors.explanation_of(
        convention=convention, bailleur=bailleur, year=year, rule=rule
    )
    before = {} if explanation is None else audit.snapshot(explanation, ["category", "text"])
    if explanation is None:
        explanation = GapExplanation(
            conference=conference, convention=convention, bailleur=bailleur, year=year, rule=rule
        )
    explanation.category = category
    explanation.text = text.strip()
    explanation.updated_by = actor
    explanation.full_clean()
    explanation.save()
    changes = audit.diff(before, audit.snapshot(explanation, ["category", "text"]))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            obj=explanation,
            changes=changes,
        )
    return explanation
