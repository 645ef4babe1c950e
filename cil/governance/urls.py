"""URLs of the conference's sessions, under /<conference_slug>/seances/ (included by cil.urls)."""

from django.urls import path

from cil.governance.views import (
    agenda,
    attendance,
    convocations,
    decisions,
    meetings,
    minutes,
    setup,
)

M = "<uuid:meeting_id>/"
ITEM = f"{M}points/<uuid:item_id>/"

urlpatterns = [
    path("", meetings.meeting_list, name="meeting_list"),
    path("nouvelle/", meetings.meeting_create, name="meeting_create"),
    path("instances/", setup.body_list, name="body_list"),
    path("instances/nouvelle/", setup.body_create, name="body_create"),
    path("instances/<uuid:body_id>/", setup.body_edit, name="body_edit"),
    path("regles/", setup.governance_settings, name="governance_settings"),
    path("decisions/", decisions.decision_list, name="decision_list"),
    path("decisions/<uuid:decision_id>/", decisions.decision_detail, name="decision_detail"),
    # The tracked link of a convocation e-mail (public: records the opening).
    path(
        "convocation/<uuid:convocation_id>/<str:token>/",
        convocations.convocation_open,
        name="convocation_open",
    ),
    path(M, meetings.meeting_detail, name="meeting_detail"),
    path(f"{M}modifier/", meetings.meeting_edit, name="meeting_edit"),
    path(f"{M}annuler/", meetings.meeting_cancel, name="meeting_cancel"),
    path(f"{M}clore/", meetings.meeting_close, name="meeting_close"),
    path(f"{M}seance.ics", meetings.meeting_ics, name="meeting_ics"),
    path(f"{M}points/ajouter/", agenda.item_add, name="item_add"),
    path(ITEM, agenda.item_edit, name="item_edit"),
    path(f"{ITEM}retirer/", agenda.item_remove, name="item_remove"),
    path(f"{ITEM}deplacer/", agenda.item_move, name="item_move"),
    path(f"{ITEM}pieces/ajouter/", agenda.attachment_add, name="attachment_add"),
    path(f"{ITEM}vote/", decisions.item_vote, name="item_vote"),
    path(
        f"{M}pieces/<uuid:attachment_id>/", agenda.attachment_download, name="attachment_download"
    ),
    path(
        f"{M}pieces/<uuid:attachment_id>/retirer/",
        agenda.attachment_remove,
        name="attachment_remove",
    ),
    path(f"{M}convocations/", convocations.convocation_list, name="convocation_list"),
    path(f"{M}presences/", attendance.attendance_sheet, name="attendance_sheet"),
    path(
        f"{M}presences/<uuid:membership_id>/",
        attendance.attendance_row,
        name="attendance_row",
    ),
    path(f"{M}quorum/", attendance.quorum_panel, name="quorum_panel"),
    path(f"{M}proces-verbal/", minutes.minutes_detail, name="minutes_detail"),
    path(f"{M}proces-verbal/rediger/", minutes.minutes_draft, name="minutes_draft"),
    path(f"{M}proces-verbal/modifier/", minutes.minutes_edit, name="minutes_edit"),
    path(f"{M}proces-verbal/pdf/", minutes.minutes_issue, name="minutes_issue"),
]
