"""The convention and its versions: creation, the text of a draft, avenants, and the status
machine (brouillon → en_signature → signee → en_vigueur; conventions/models/cia.py). The
signature itself, which takes a version to « signée », is in `signature.py`."""

import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cil import audit, concurrency
from cil.models import AuditAction, Conference, User
from conventions import selectors_cia as selectors
from conventions import signing
from conventions.models import (
    ADOPTED,
    BailleurObjective,
    Convention,
    ConventionVersion,
    ReservataireObjective,
    Signatory,
    SignatoryCapacity,
    VersionKind,
    VersionStatus,
)
from conventions.services_cia.common import (
    bilan_changed,
    fail,
    record_step,
    require_draft,
    same_conference,
)
from conventions.services_cia.signature import prefill_signatories

VERSION_FIELDS = ["title", "effective_from", "purpose", "body"]
# The years a convention may cover (a sanity bound for typing errors, not a legal rule).
FIRST_YEAR, LAST_YEAR = 2015, 2100


def _check_period(start_year: int, end_year: int) -> None:
    for field, year in (("start_year", start_year), ("end_year", end_year)):
        if not FIRST_YEAR <= year <= LAST_YEAR:
            fail(field, f"Indiquez une année entre {FIRST_YEAR} et {LAST_YEAR}.")
    if end_year < start_year:
        fail("end_year", "La dernière année ne peut pas précéder la première.")


def _check_effective_from(version: ConventionVersion, effective_from: datetime.date) -> None:
    convention = version.convention
    if not convention.start_year <= effective_from.year <= convention.end_year:
        fail(
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
        fail(
            "effective_from",
            f"Un avenant prend effet après la version qu'il modifie "
            f"(le {previous.effective_from:%d/%m/%Y}).",
        )


@transaction.atomic
def convention_create(
    *, conference: Conference, actor: User | None, title: str, start_year: int, end_year: int
) -> Convention:
    """A new CIA with its initial version (a draft, effective from 1 January of its first
    year), the signatories pre-filled from the members."""
    _check_period(start_year, end_year)
    # Two creations at once (double click): the second waits, then meets the first below.
    concurrency.advisory_lock("convention", conference.pk)
    clash = selectors.overlapping_conventions(start_year, end_year).first()
    if clash is not None:
        # One convention per year: the bilan takes a year's objectives from one convention.
        fail(
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
    _open_draft(conference, actor, version, note="Création de la convention")
    return convention


def _open_draft(
    conference: Conference, actor: User | None, version: ConventionVersion, *, note: str
) -> None:
    """Save a new version as a draft, its signatories pre-filled from the members of
    today, and record its creation in its history."""
    version.save()
    prefill_signatories(conference, version)
    record_step(
        conference=conference,
        version=version,
        actor=actor,
        to_status=VersionStatus.BROUILLON,
        note=note,
        created=True,
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
    fingerprint: str | None = None,
) -> ConventionVersion:
    """Change the text of a draft version. `fingerprint`: the edit form's
    (cil/concurrency.py): a text changed meanwhile by someone else is not overwritten."""
    same_conference(conference, version)
    concurrency.check_fields(
        version, VERSION_FIELDS, fingerprint=fingerprint, conference=conference
    )
    require_draft(version)
    _check_effective_from(version, effective_from)
    if version.kind == VersionKind.AVENANT and not purpose.strip():
        fail("purpose", "Indiquez l'objet de l'avenant.")
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
    same_conference(conference, convention)
    base = convention.versions.select_for_update().order_by("-number").first()
    if base is None or base.status not in ADOPTED:
        fail(
            None,
            "Un avenant modifie une convention signée : la version en cours doit d'abord "
            "être signée par tous.",
        )
    if not purpose.strip():
        fail("purpose", "Indiquez l'objet de l'avenant.")
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
    _open_draft(
        conference, actor, version, note=f"Avenant créé à partir de la version {base.number}"
    )
    # The objectives of the organisations that still sign (the members of today).
    signing_organisations = Signatory.objects.filter(version=version).values("organisation_id")
    _copy_objectives(
        BailleurObjective.objects.filter(version=base, bailleur__in=signing_organisations),
        version,
    )
    _copy_objectives(
        ReservataireObjective.objects.filter(version=base, reservataire__in=signing_organisations),
        version,
    )
    return version


def _copy_objectives(objectives: QuerySet, version: ConventionVersion) -> None:
    """Copy `objectives` into `version`, every column as it is: an avenant starts from the
    objectives of the version it modifies."""
    rows = list(objectives)
    for row in rows:
        row.pk = None
        row._state.adding = True
        row.version = version
    objectives.model.objects.bulk_create(rows)


@transaction.atomic
def version_submit(
    *, conference: Conference, actor: User | None, version: ConventionVersion
) -> ConventionVersion:
    """brouillon → en_signature: the content freezes; its canonical bytes are produced,
    stored and hashed (conventions/signing.py), and every signatory will sign that hash."""
    same_conference(conference, version)
    version = ConventionVersion.objects.select_for_update().get(pk=version.pk)
    require_draft(version)
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
        fail(None, f"Il manque parmi les signataires : {', '.join(missing)}.")
    _check_effective_from(version, version.effective_from)
    data, extension = signing.canonical_document(version)
    version.canonical_format = extension
    version.canonical_sha256 = signing.sha256(data)
    version.canonical_file.save(f"{version.public_id}.{extension}", ContentFile(data), save=False)
    version.frozen_at = timezone.now()
    version.save(
        update_fields=["canonical_format", "canonical_sha256", "canonical_file", "frozen_at"]
    )
    record_step(
        conference=conference,
        version=version,
        actor=actor,
        to_status=VersionStatus.EN_SIGNATURE,
        note=f"Contenu figé, empreinte SHA-256 {version.canonical_sha256}",
    )
    return version


@transaction.atomic
def version_enter_into_force(
    *, conference: Conference, actor: User | None, version: ConventionVersion
) -> ConventionVersion:
    """signee → en_vigueur: declared by the secretariat (after the préfet's agrément)."""
    same_conference(conference, version)
    version = (
        ConventionVersion.objects.select_for_update()
        .select_related("convention")
        .get(pk=version.pk)
    )
    if version.status != VersionStatus.SIGNEE:
        fail(None, "Seule une version signée par tous peut entrer en vigueur.")
    record_step(
        conference=conference, version=version, actor=actor, to_status=VersionStatus.EN_VIGUEUR
    )
    bilan_changed(conference, version)
    return version
