"""Votes on agenda items, and the decisions register."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from cil.governance import counting, selectors
from cil.governance.forms import VoteForm
from cil.governance.services.votes import vote_record
from cil.governance.views.common import (
    abilities_of,
    crumbs,
    meeting_url,
    not_now,
    post_data,
    refuse,
    url_for,
)
from cil.models import College
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def item_vote(request, meeting_id, item_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    item = selectors.access_item(meeting=meeting, item_id=item_id)
    if "vote" not in abilities_of(request, meeting):
        return not_now(request, meeting, "vote")
    anchor = f"point-{item.public_id}"
    if not item.is_voted:
        return refuse(
            request, meeting, "Ce point est une information : il n'est pas soumis au vote.", anchor
        )
    if hasattr(item, "decision"):
        return refuse(request, meeting, "Ce point a déjà été voté.", anchor)
    rules = selectors.settings_of(request.conference)
    rows = selectors.roster(meeting)
    members = selectors.sheet(rows)
    voters = counting.voters_by_college(members, rules.rules(), by_college=rules.votes_by_college)
    form = VoteForm(post_data(request), voters=voters)
    if request.method == "POST" and form.is_valid():
        ballots = form.ballots()
        if "unanimite" in request.POST:
            ballots = {college: {"pour": count} for college, count in voters.items()}
        try:
            decision = vote_record(
                conference=request.conference,
                actor=request.user,
                meeting=meeting,
                item=item,
                ballots=ballots,
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            outcome = "adopté" if decision.adopted else "non adopté"
            messages.success(
                request,
                f"Point {item.order} {outcome} — décision n° {decision.reference} inscrite au registre. {decision.explanation}",
            )
            return redirect(meeting_url(request, meeting, anchor))
    context = {
        "meeting": meeting,
        "item": item,
        "form": form,
        "lines": list(form.lines()),
        "rules": rules,
        "live": True,
        "breadcrumb_links": crumbs(request, meeting),
        "title": f"Vote sur le point {item.order}",
    }
    context |= selectors.quorum_panel(meeting, rows)
    return TemplateResponse(request, "governance/vote_form.html", context)


def _colleges(decision) -> list[dict]:
    labels = dict(College.choices)
    return [
        {"label": labels.get(int(key), "Ensemble des votants"), **counts}
        for key, counts in sorted(decision.by_college.items(), key=lambda kv: int(kv[0]))
    ]


@require_GET
@requires("sessions.view")
def decision_list(request):
    years = selectors.decision_years()
    try:
        year = int(request.GET.get("annee") or 0) or None
    except ValueError:
        year = None
    if year not in years:
        year = None
    return TemplateResponse(
        request,
        "governance/decision_list.html",
        {"decisions": list(selectors.decisions(year=year)[:200]), "years": years, "year": year},
    )


@require_GET
@requires("sessions.view")
def decision_detail(request, decision_id):
    decision = selectors.access_decision(decision_id=decision_id)
    item = selectors.access_item(meeting=decision.meeting, item_id=decision.item.public_id)
    return TemplateResponse(
        request,
        "governance/decision_detail.html",
        {
            "decision": decision,
            "item": item,
            "colleges": _colleges(decision),
            "breadcrumb_links": [
                (url_for(request, "decision_list"), "Décisions"),
            ],
        },
    )
