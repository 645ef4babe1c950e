"""Reads of the CIA (convention intercommunale d'attribution, CCH L.441-1-6) for the views,
the bilan and the services, and `abilities()`: what a user may do on a version, the one
place views, templates and tests read it from.

`access_*` look an object up inside the active conference scope and raise Http404 for
"absent" and "not yours" alike.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from guardian.shortcuts import get_user_perms

from cil.models import Access, Membership, Organisation, OrganisationType, Role
from cil.permissions import has_permission
from cil.roles import RoleName
from conventions.models import (
    ADOPTED,
    CAPACITY_OF_TYPE,
    CONTINGENT_OF_TYPE,
    BailleurObjective,
    Convention,
    ConventionVersion,
    GapExplanation,
    ReservataireObjective,
    Signatory,
    SignatoryCapacity,
    VersionStatus,
)

SIGN_PERMISSION = "sign_conventionversion"
SIGN_PERMISSION_FULL = f"conventions.{SIGN_PERMISSION}"


# --- Lookups ---------------------------------------------------------------------------------


def conventions() -> QuerySet[Convention]:
    return Convention.objects.all()


def access_convention(*, convention_id) -> Convention:
    return get_object_or_404(Convention, public_id=convention_id)


def access_version(*, version_id) -> ConventionVersion:
    return get_object_or_404(
        ConventionVersion.objects.select_related("convention", "final_document"),
        public_id=version_id,
    )


def versions_of(convention: Convention) -> list[ConventionVersion]:
    return list(convention.versions.order_by("number"))


def current_version(convention: Convention) -> ConventionVersion | None:
    """The version the CIA page opens on: the latest one (a draft avenant included)."""
    return convention.versions.order_by("-number").first()


def signatories_of(version: ConventionVersion) -> list[Signatory]:
    signatories = list(
        Signatory.objects.filter(version=version).select_related(
            "organisation", "signer", "signed_by"
        )
    )
    for signatory in signatories:
        signatory.version = version  # the caller's instance: no query per signatory
    return signatories


def history_of(version: ConventionVersion):
    return version.status_changes.select_related("actor").order_by("created_at", "id")


def signatory_candidates() -> list[tuple[Organisation, str | None]]:
    """Every member organisation with the capacity it is pre-filled with (None: not
    pre-filled, « autre signataire » when chosen)."""
    organisations = Organisation.objects.filter(
        pk__in=Membership.objects.values("organisation_id")
    ).order_by("name")
    return [(o, CAPACITY_OF_TYPE.get(o.type)) for o in organisations]


def users_who_may_sign(*, organisation: Organisation) -> list:
    """People of `organisation` with an active access (with a role) to the conference."""
    return users_who_may_sign_for([organisation.pk])[organisation.pk]


def users_who_may_sign_for(organisation_ids) -> dict[int, list]:
    """`users_who_may_sign` of several organisations at once (one query), by organisation id."""
    found = {pk: [] for pk in organisation_ids}
    accesses = (
        Access.objects.filter(user__organisation_id__in=found, user__is_active=True, is_active=True)
        .filter(Exists(Role.objects.filter(access=OuterRef("pk"))))
        .select_related("user")
    )
    for access in accesses:
        found[access.user.organisation_id].append(access.user)
    return {
        pk: sorted(people, key=lambda u: (u.last_name, u.first_name, u.email))
        for pk, people in found.items()
    }


def roles_of(user) -> frozenset[str]:
    """The user's roles in the active conference scope (services re-check with these)."""
    return frozenset(
        Role.objects.filter(access__user=user, access__is_active=True).values_list(
            "name", flat=True
        )
    )


def has_sign_grant(user, version: ConventionVersion) -> bool:
    """The django-guardian grant itself (direct user grant; a superuser's blanket rights do
    not count: signing is a personal act)."""
    return SIGN_PERMISSION in get_user_perms(user, version).values_list("codename", flat=True)


def overlapping_conventions(start_year: int, end_year: int) -> QuerySet[Convention]:
    return Convention.objects.filter(start_year__lte=end_year, end_year__gte=start_year)


# --- The version in force for a year -------------------------------------------------------


def _in_force_filter(year: int) -> Q:
    """Adopted versions of a convention covering `year`, effective on or before 31 December
    of `year` (conventions/models/cia.py: the rule)."""
    return Q(
        status__in=ADOPTED,
        effective_from__lte=datetime.date(year, 12, 31),
        convention__start_year__lte=year,
        convention__end_year__gte=year,
    )


def in_force_versions(year: int, queryset: QuerySet | None = None) -> QuerySet:
    """Per convention, the version in force for `year`: adopted, effective by the end of the
    year, and no later adopted version of the same convention also is. One query (a NOT
    EXISTS subquery), usable across conferences when `queryset` is unscoped."""
    base = ConventionVersion.objects if queryset is None else queryset
    later = base.filter(_in_force_filter(year), convention_id=OuterRef("convention_id")).filter(
        Q(effective_from__gt=OuterRef("effective_from"))
        | Q(effective_from=OuterRef("effective_from"), number__gt=OuterRef("number"))
    )
    return base.filter(_in_force_filter(year)).filter(~Exists(later))


def version_in_force(convention: Convention, year: int) -> ConventionVersion | None:
    return in_force_versions(year).filter(convention=convention).first()


def in_force_by_year(convention: Convention) -> dict[int, ConventionVersion | None]:
    """{year of the period: the version in force for it, or None}."""
    adopted = sorted(
        (v for v in convention.versions.all() if v.status in ADOPTED),
        key=lambda v: (v.effective_from, v.number),
    )
    result: dict[int, ConventionVersion | None] = {}
    for year in convention.years:
        end = datetime.date(year, 12, 31)
        candidates = [v for v in adopted if v.effective_from <= end]
        result[year] = candidates[-1] if candidates else None
    return result


def _objective_rates(row: dict[str, Any]) -> dict[str, Decimal]:
    return {rule: row[rule] for rule in ("r1", "r2", "r3") if row[rule] is not None}


def objectives_for_bilan(
    conference_ids: Iterable[int], year: int
) -> dict[int, dict[tuple[str, int], dict[str, Decimal]]]:
    """The CIA objectives of several conferences for `year`, for the bilan's `cible`:
    {conference id: {(bailleur SIREN, year): {"r1"|"r2"|"r3": rate}}}, from the version in
    force for the year, territory-wide objectives only (the bilan has no per-commune target);
    a rate left empty is absent (the conference's rate applies). One query.

    Read across conferences (the national bilan), so without the tenant scope: the rows are
    filtered on `conference_ids` explicitly, and the version subquery joins on the row's
    own version."""
    conference_ids = list(conference_ids)
    versions = ConventionVersion.objects.with_scopes_disabled().filter(
        conference_id__in=conference_ids
    )
    rows = (
        BailleurObjective.objects.with_scopes_disabled()
        .filter(
            conference_id__in=conference_ids,
            year=year,
            commune__isnull=True,
            qpv__isnull=True,
            version__in=in_force_versions(year, versions).values("pk"),
        )
        .annotate(siren=F("bailleur__siren"))
        .values("conference_id", "siren", "r1", "r2", "r3")
    )
    result: dict[int, dict[tuple[str, int], dict[str, Decimal]]] = {}
    for row in rows:
        rates = _objective_rates(row)
        if rates:
            result.setdefault(row["conference_id"], {})[(row["siren"], year)] = rates
    return result


def reservataire_objectives_for_bilan(
    conference_ids: Iterable[int], year: int
) -> dict[int, dict[tuple[str, str | None], Decimal]]:
    """The CIA's R3 objectives of the réservataires (CCH L.441-1-6 3°) of several conferences
    for `year`, for the `cible` of the bilan's `par_reservataire` lines: {conference id:
    {(contingent code, SIREN or None): rate}}, keyed as the pure bilan module takes them; a
    conference without any may be missing. One query.

    From the version in force for the year, as the bailleurs' objectives
    (`objectives_for_bilan`, the same rule). The key with the SIREN always; the key without
    it too when the organisation is the only signatory of the version holding its contingent
    (attribution lines may leave `reservataire_siren` empty then: it can only be it). With
    two communes signing, a « commune » line without SIREN belongs to neither: the
    conference's rate applies to it.

    Read across conferences (the national bilan), so without the tenant scope: the rows are
    filtered on `conference_ids` explicitly, the subqueries join on the row's own version."""
    conference_ids = list(conference_ids)
    versions = ConventionVersion.objects.with_scopes_disabled().filter(
        conference_id__in=conference_ids
    )
    # Signatories of the same version whose organisation has the same type (hence the same
    # contingent, CONTINGENT_OF_TYPE being one code per type).
    holders = (
        Signatory.objects.with_scopes_disabled()
        .filter(
            version_id=OuterRef("version_id"),
            organisation__type=OuterRef("reservataire__type"),
        )
        .order_by()
        .values("version_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    rows = (
        ReservataireObjective.objects.with_scopes_disabled()
        .filter(
            conference_id__in=conference_ids,
            year=year,
            reservataire__type__in=list(CONTINGENT_OF_TYPE),
            version__in=in_force_versions(year, versions).values("pk"),
        )
        .annotate(
            siren=F("reservataire__siren"),
            type=F("reservataire__type"),
            holders=Subquery(holders, output_field=IntegerField()),
        )
        .order_by()
        .values_list("conference_id", "siren", "type", "holders", "r3")
    )
    result: dict[int, dict[tuple[str, str | None], Decimal]] = {}
    for conference_id, siren, organisation_type, holders_count, rate in rows:
        code = CONTINGENT_OF_TYPE[organisation_type]
        objectives = result.setdefault(conference_id, {})
        objectives[(code, siren)] = rate
        if holders_count == 1:
            objectives[(code, None)] = rate
    return result


# --- Abilities ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Abilities:
    """What a user may do on a convention and one of its versions. Every view checks it,
    every template reads it; the services re-check the state rules."""

    view: bool
    create_convention: bool
    edit_content: bool  # text, objectives, signatories: a draft only, by the secretariat
    submit: bool  # brouillon → en_signature
    enter_into_force: bool  # signee → en_vigueur
    create_avenant: bool
    # Signatories whose signer this user may designate (their organisation's, or any for the
    # secretariat), while the version is not signed by them yet.
    designate_for: tuple[int, ...]
    # The signatory this user signs for now (designated, granted, not signed yet), or None.
    sign_as: int | None
    explain_gap: bool
    download_canonical: bool

    @property
    def designate(self) -> bool:
        return bool(self.designate_for)

    @property
    def sign(self) -> bool:
        return self.sign_as is not None


def may_designate_for(*, user, roles: Iterable[str], signatory: Signatory) -> bool:
    """The secretariat for any signatory; otherwise a person of the signatory organisation
    holding "cia.designate_signer". Not once that signatory has signed, nor after the
    version is signed by all."""
    if signatory.has_signed or signatory.version.status not in (
        VersionStatus.BROUILLON,
        VersionStatus.EN_SIGNATURE,
    ):
        return False
    if RoleName.SECRETARIAT in roles and has_permission(roles, "cia.designate_signer"):
        return True
    return (
        has_permission(roles, "cia.designate_signer")
        and user.organisation_id is not None
        and user.organisation_id == signatory.organisation_id
    )


def signatory_to_sign(*, user, roles, version: ConventionVersion, signatories=None):
    """The signatory `user` signs for now, or None: the version is en signature, the user
    holds "cia.sign", is the designated signer of a signatory that has not signed, and holds
    the django-guardian grant on the version."""
    if version.status != VersionStatus.EN_SIGNATURE or not has_permission(roles, "cia.sign"):
        return None
    signatories = signatories if signatories is not None else signatories_of(version)
    mine = next((s for s in signatories if s.signer_id == user.pk and not s.has_signed), None)
    if mine is None or not has_sign_grant(user, version):
        return None
    return mine


def abilities(
    *,
    user,
    roles: Iterable[str],
    convention: Convention | None,
    version: ConventionVersion | None,
    signatories: list[Signatory] | None = None,
) -> Abilities:
    roles = frozenset(roles)
    edit = has_permission(roles, "cia.edit")
    draft = version is not None and version.status == VersionStatus.BROUILLON
    if version is not None and signatories is None:
        signatories = signatories_of(version)
    latest = convention.versions.order_by("-number").first() if convention else None
    return Abilities(
        view=has_permission(roles, "cia.view"),
        create_convention=edit,
        edit_content=edit and draft,
        submit=edit and draft,
        enter_into_force=edit and version is not None and version.status == VersionStatus.SIGNEE,
        create_avenant=edit and latest is not None and latest.status in ADOPTED,
        designate_for=tuple(
            s.pk
            for s in (signatories or [])
            if may_designate_for(user=user, roles=roles, signatory=s)
        ),
        sign_as=(
            getattr(
                signatory_to_sign(user=user, roles=roles, version=version, signatories=signatories),
                "pk",
                None,
            )
            if version is not None
            else None
        ),
        explain_gap=(
            has_permission(roles, "cia.explain_gap")
            and convention is not None
            and user.organisation is not None
            and user.organisation.type == OrganisationType.BAILLEUR
        ),
        download_canonical=has_permission(roles, "cia.view")
        and version is not None
        and bool(version.canonical_file),
    )


# --- Objectives for the pages -------------------------------------------------------------------


def bailleur_signatories(version: ConventionVersion) -> list[Organisation]:
    return [
        s.organisation
        for s in Signatory.objects.filter(
            version=version, capacity=SignatoryCapacity.BAILLEUR
        ).select_related("organisation")
    ]


def reservataire_signatories(version: ConventionVersion) -> list[Organisation]:
    """Signatories holding a contingent (R3 per réservataire): réservataires, the State, the
    EPCI."""
    return [
        s.organisation
        for s in Signatory.objects.filter(version=version).select_related("organisation")
        if s.organisation.type in CONTINGENT_OF_TYPE
    ]


def bailleur_objectives(version: ConventionVersion, *, commune=None, qpv=None):
    """{(bailleur id, year): BailleurObjective} on one perimeter (the territory by default)."""
    rows = BailleurObjective.objects.filter(version=version, commune=commune, qpv=qpv)
    return {(o.bailleur_id, o.year): o for o in rows}


def territorial_objectives(version: ConventionVersion) -> list[BailleurObjective]:
    return list(
        BailleurObjective.objects.filter(version=version)
        .filter(Q(commune__isnull=False) | Q(qpv__isnull=False))
        .select_related("bailleur", "commune", "qpv")
        .order_by("bailleur__name", "year", "commune__insee", "qpv__code")
    )


def reservataire_objectives(version: ConventionVersion):
    """{(réservataire id, year): ReservataireObjective}."""
    return {
        (o.reservataire_id, o.year): o
        for o in ReservataireObjective.objects.filter(version=version)
    }


def explanations_of(convention: Convention, year: int) -> dict[tuple[str, str], GapExplanation]:
    """{(bailleur SIREN, rule): explanation} of a year (the bilan names bailleurs by SIREN)."""
    return {
        (e.bailleur.siren, e.rule): e
        for e in GapExplanation.objects.filter(convention=convention, year=year).select_related(
            "bailleur", "updated_by"
        )
    }


def explanation_of(
    *, convention: Convention, bailleur: Organisation, year: int, rule: str
) -> GapExplanation | None:
    return GapExplanation.objects.filter(
        convention=convention, bailleur=bailleur, year=year, rule=rule
    ).first()
