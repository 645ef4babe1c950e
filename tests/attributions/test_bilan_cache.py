"""The stored bilan: computed when missing, invalidated when its data change, the task."""

import json
import threading
import time
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django_scopes.exceptions import ScopeError

from attributions import bilan_cache, bilan_data, bilan_tasks, services
from attributions.models import Attribution, BilanResult
from cil.models import OutboxMessage
from cil.tenancy import conference_scope
from tests.attributions.factories import row, territory
from tests.celery_mode import tasks_for_a_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """The test territory with one 2025 attribution (1.5 UC, 12,000 €: 8,000 € per UC, Q1
    under 9,876 €) and one 2024 attribution."""
    world = territory()
    first = world["bailleurs"][0]
    with conference_scope(world["conference"]):
        for raw in (row(first), row(first, reference="A-2024", date_signature_bail="2024-05-02")):
            services.attribution_save(conference=world["conference"], actor=None, raw=raw)
    return world


def stored_years(conference) -> set[int]:
    with conference_scope(conference):
        return set(BilanResult.objects.values_list("year", flat=True))


def test_computed_once_then_read(world, django_assert_num_queries):
    conference = world["conference"]
    document = bilan_cache.get_bilan(conference, 2025)
    assert document == bilan_data.compute(conference, 2025)
    assert stored_years(conference) == {2025}
    with django_assert_num_queries(1):
        assert bilan_cache.get_bilan(conference, 2025) == document
    # jsonb keeps no key order: the stored copy is read back in the contract's order.
    read = bilan_cache.get_bilan(conference, 2025)
    assert json.dumps(read) == json.dumps(document)


def test_not_computed_when_not_asked(world):
    assert bilan_cache.get_bilan(world["conference"], 2025, compute_if_missing=False) is None
    assert stored_years(world["conference"]) == set()


def test_saving_an_attribution_invalidates_its_year(world, django_capture_on_commit_callbacks):
    conference = world["conference"]
    for year in (2024, 2025):
        bilan_cache.get_bilan(conference, year)
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        services.attribution_save(
            conference=conference, actor=None, raw=row(world["bailleurs"][1], reference="B")
        )
    assert stored_years(conference) == {2024}
    assert bilan_cache.get_bilan(conference, 2025)["total"]["attributions"] == 2


def test_moving_a_lease_to_another_year_invalidates_both(world, django_capture_on_commit_callbacks):
    conference = world["conference"]
    for year in (2024, 2025):
        bilan_cache.get_bilan(conference, year)
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        attribution = Attribution.objects.get(reference="A-001")
        services.attribution_save(
            conference=conference,
            actor=None,
            raw=row(world["bailleurs"][0], date_signature_bail="2024-11-30"),
            attribution=attribution,
        )
    assert stored_years(conference) == set()
    assert bilan_cache.get_bilan(conference, 2024)["total"]["attributions"] == 2
    assert bilan_cache.get_bilan(conference, 2025)["total"]["attributions"] == 0


def test_deleting_an_attribution_invalidates_its_year(world, django_capture_on_commit_callbacks):
    conference = world["conference"]
    bilan_cache.get_bilan(conference, 2025)
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        attribution = Attribution.objects.get(reference="A-001")
        services.attribution_delete(conference=conference, actor=None, attribution=attribution)
    assert stored_years(conference) == set()


def test_a_threshold_change_invalidates_and_reclassifies(world, django_capture_on_commit_callbacks):
    conference = world["conference"]
    before = bilan_cache.get_bilan(conference, 2025)
    bilan_cache.get_bilan(conference, 2024)
    assert before["r1_q1_hors_qpv"]["numerateur"] == 1
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        services.threshold_set(
            conference=conference, actor=None, year=2025, value=Decimal("7000"), source="arrêté"
        )
    # 2024 has its own threshold: its bilan stands.
    assert stored_years(conference) == {2024}
    after = bilan_cache.get_bilan(conference, 2025)
    assert after["seuil_q1"] == 7000.0
    # 8,000 € per UC is no longer below the threshold.
    assert after["r1_q1_hors_qpv"]["numerateur"] == 0


def test_a_rates_change_invalidates(world, django_capture_on_commit_callbacks):
    conference = world["conference"]
    bilan_cache.get_bilan(conference, 2025)
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        services.rates_set(
            conference=conference,
            actor=None,
            year=2025,
            target_r1=Decimal("0.3"),
            target_r2=Decimal("0.5"),
            target_r3=Decimal("0.25"),
            reason="délibération du 3 mars",
        )
    assert stored_years(conference) == set()
    assert bilan_cache.get_bilan(conference, 2025)["r1_q1_hors_qpv"]["cible"] == 0.3


def test_invalidate_touches_only_its_conference_and_years(world):
    other = territory()
    for conference in (world["conference"], other["conference"]):
        for year in (2024, 2025):
            bilan_cache.get_bilan(conference, year)
    bilan_cache.invalidate(conference_id=world["conference"].pk, years=[2025, 2025])
    assert stored_years(world["conference"]) == {2024}
    assert stored_years(other["conference"]) == {2024, 2025}


def test_invalidate_all_years(world):
    other = territory()
    for conference in (world["conference"], other["conference"]):
        for year in (2024, 2025):
            bilan_cache.get_bilan(conference, year)
    bilan_cache.invalidate_all(conference_id=world["conference"].pk)
    assert stored_years(world["conference"]) == set()
    assert stored_years(other["conference"]) == {2024, 2025}


def test_a_stored_document_is_updated_in_place(world):
    conference = world["conference"]
    bilan_cache.get_bilan(conference, 2025)
    with conference_scope(conference):
        BilanResult.objects.update(document={"stale": True})
    assert bilan_cache.refresh(conference, 2025) == bilan_data.compute(conference, 2025)
    with conference_scope(conference):
        assert BilanResult.objects.count() == 1
        assert BilanResult.objects.get().document["format"] == "bilan/v1"


@pytest.fixture
def queued_for_a_worker(settings):
    """Tasks go through the outbox (cil/outbox.py), as with a broker. Celery's own
    configuration too: once set (by another test's fixture), app.conf keeps its value
    whatever the Django setting says."""
    with tasks_for_a_worker(settings):
        yield


def test_without_eager_tasks_one_task_is_queued(
    world, queued_for_a_worker, django_capture_on_commit_callbacks
):
    cache.clear()
    conference = world["conference"]
    with django_capture_on_commit_callbacks(execute=True):
        assert bilan_cache.get_bilan(conference, 2025) is None  # « calcul en cours »
        assert bilan_cache.get_bilan(conference, 2025) is None  # the page polls: not queued again
    with conference_scope(conference):
        queued = list(OutboxMessage.objects.values_list("task_name", "kwargs"))
    assert queued == [
        (bilan_tasks.compute_bilan.name, {"conference_id": conference.pk, "year": 2025})
    ]
    assert stored_years(conference) == set()


def test_the_task_reopens_the_scope_from_the_id(world):
    conference = world["conference"]
    # As in a worker: no scope is open, and the task gets ids only.
    with pytest.raises(ScopeError):
        list(BilanResult.objects.all())
    assert bilan_tasks.compute_bilan.delay(conference_id=conference.pk, year=2025).get() is True
    assert stored_years(conference) == {2025}
    with conference_scope(conference):
        assert BilanResult.objects.get().document == bilan_data.compute(conference, 2025)
    # Idempotent: a duplicate run keeps the stored document; `force` recomputes it.
    assert bilan_tasks.compute_bilan.delay(conference_id=conference.pk, year=2025).get() is False
    assert (
        bilan_tasks.compute_bilan.delay(conference_id=conference.pk, year=2025, force=True).get()
        is True
    )
    assert stored_years(conference) == {2025}


def test_the_task_refuses_to_run_without_a_conference_id():
    with pytest.raises(TypeError, match="conference_id"):
        bilan_tasks.compute_bilan(year=2025)


@pytest.mark.django_db(transaction=True)
def test_a_computation_racing_a_data_change_does_not_leave_a_stale_bilan(monkeypatch):
    """The computation reads the data, then a change commits and invalidates before the
    computation stores its (now stale) document: the invalidation waits for it, then
    deletes it."""
    world = territory()
    conference = world["conference"]
    computed, proceed = threading.Event(), threading.Event()
    compute = bilan_data.compute

    def slow_compute(*args):
        document = compute(*args)
        computed.set()
        proceed.wait(10)
        return document

    monkeypatch.setattr(bilan_data, "compute", slow_compute)

    def in_thread(function):
        def run():
            try:
                function()
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def change():
        with conference_scope(conference):
            services.attribution_save(
                conference=conference, actor=None, raw=row(world["bailleurs"][0])
            )

    computing = in_thread(lambda: bilan_cache.refresh(conference, 2025))
    assert computed.wait(10)
    changing = in_thread(change)
    time.sleep(0.3)  # the change commits and its invalidation waits for the lock
    proceed.set()
    computing.join(10)
    changing.join(10)
    assert stored_years(conference) == set()
    monkeypatch.setattr(bilan_data, "compute", compute)
    assert bilan_cache.get_bilan(conference, 2025)["total"]["attributions"] == 1
