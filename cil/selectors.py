"""Every read the conference-core views need. `access_*` functions look an object up inside
the active conference scope and raise Http404 for "absent" and "not yours" alike."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cil.models import (
    Access,
    AuditEntry,
    Commune,
    Conference,
    Invitation,
    Membership,
    Qpv,
    Representative,
)


def conferences_of(user) -> QuerySet[Conference]:
    """The conferences a user may enter: through an active access with at least one role."""
    if not user.is_authenticated:
        return Conference.objects.none()
    return (
        Conference.objects.filter(
            accesses__user=user, accesses__is_active=True, accesses__roles__isnull=False
        )
        .distinct()
        .order_by("name")
    )


def access_membership(*, membership_id) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("organisation"), public_id=membership_id
    )


def access_representative(*, representative_id) -> Representative:
    return get_object_or_404(
        Representative.objects.select_related("membership__organisation"),
        public_id=representative_id,
    )


def access_user_access(*, access_id) -> Access:
    return get_object_or_404(
        Access.objects.select_related("user__organisation").prefetch_related("roles"),
        public_id=access_id,
    )


def access_invitation(*, invitation_id) -> Invitation:
    return get_object_or_404(
        Invitation.objects.select_related("organisation"), public_id=invitation_id
    )


def memberships_by_college() -> list[tuple[int, str, list[Membership]]]:
    from cil.models import College

    today = timezone.localdate()
    current = Q(mandate_end__isnull=True) | Q(mandate_end__gte=today)
    memberships = list(
        Membership.objects.select_related("organisation").prefetch_related(
            Prefetch(
                "representatives",
                queryset=Representative.objects.filter(current, mandate_start__lte=today).order_by(
                    "kind", "last_name"
                ),
                to_attr="current_representatives",
            )
        )
    )
    return [
        (college.value, college.label, [m for m in memberships if m.college == college.value])
        for college in College
    ]


def representatives() -> QuerySet[Representative]:
    return Representative.objects.select_related("membership__organisation").order_by(
        "membership__college", "membership__organisation__name", "kind", "last_name"
    )


def accesses() -> QuerySet[Access]:
    return Access.objects.select_related("user__organisation").prefetch_related("roles")


def pending_invitations() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("organisation", "invited_by").filter(
        accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    )


def member_organisations():
    return [
        m.organisation
        for m in Membership.objects.select_related("organisation").order_by("organisation__name")
    ]


def territory() -> dict:
    communes = list(Commune.objects.annotate(qpv_count=Count("qpvs")).order_by("insee"))
    qpvs = list(Qpv.objects.prefetch_related("communes", "years").order_by("code"))
    return {"communes": communes, "qpvs": qpvs}


def audit_entries(
    *, action=None, object_type=None, actor=None, start=None, end=None
) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor_organisation")
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if start:
        entries = entries.filter(created_at__date__gte=start)
    if end:
        entries = entries.filter(created_at__date__lte=end)
    return entries


def audit_object_types() -> list[str]:
    return list(AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct())
