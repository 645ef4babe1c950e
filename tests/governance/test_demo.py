"""The demo sessions of Val-de-Seine (cil/governance/demo.py), built by `load_demo`."""

import io

import pytest
from django.core.management import call_command

from cil.governance.models import (
    Body,
    Convocation,
    Decision,
    Meeting,
    MeetingState,
    Minutes,
    MinutesState,
)
from cil.models import Conference
from cil.tenancy import conference_scope
from conventions.models import DocumentKind, DocumentStatus, GeneratedDocument

pytestmark = pytest.mark.django_db


def _counts(conference) -> dict:
    with conference_scope(conference):
        return {
            model.__name__: model.objects.count()
            for model in (Body, Meeting, Convocation, Decision, Minutes, GeneratedDocument)
        }


def test_demo_sessions_past_and_upcoming_and_idempotent(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    conference = Conference.objects.get(slug="agglo-val-de-seine")
    with conference_scope(conference):
        plenaries = list(Meeting.objects.filter(body=None).order_by("starts_at"))
        assert [m.state for m in plenaries] == [
            MeetingState.CLOTUREE,
            MeetingState.CLOTUREE,
            MeetingState.CONVOQUEE,
        ]
        first, second, upcoming = plenaries
        # The December minutes were approved in June; June's await the next session.
        assert first.minutes.state == MinutesState.APPROUVE
        assert first.minutes.approval_decision.meeting == second
        assert second.minutes.state == MinutesState.BROUILLON
        assert upcoming.items.filter(minutes=second.minutes).exists()
        for minutes in (first.minutes, second.minutes):
            assert minutes.document.kind == DocumentKind.PROCES_VERBAL
            assert minutes.document.status == DocumentStatus.READY, minutes.document.error
        # The first plenary approved the CIA's avenant.
        assert (
            Decision.objects.filter(item__cia_version__isnull=False, outcome="adoptee").count() == 1
        )
        assert Decision.objects.count() == 3
        # The upcoming one: every representative convened (titulaires) or informed.
        convocations = Convocation.objects.filter(meeting=upcoming)
        assert convocations.count() > 20
        assert not convocations.filter(sent_at__isnull=True).exists()
        assert convocations.filter(opened_at__isnull=False).count() == 7
        assert upcoming.items.get(order=2).attachments.count() == 1
        # The relogement committee the Grand-Orly seed describes, with its rhythm.
        committee = Body.objects.get(kind="comite")
        assert committee.get_rhythm_display() == "Mensuelle"
        assert committee.members.count() == 7
        assert committee.meetings.count() == 1
    counts = _counts(conference)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    assert _counts(conference) == counts
