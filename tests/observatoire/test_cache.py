"""The observatory's cached figures (observatoire/cache.py): a repeated page reads no data
frame; every kind of write the figures depend on shows on the next request, as a cold
computation would show it; no conference reads another's entry; the reader's secrecy is
kept; a failing cache backend costs the cache, not the page."""

import datetime
import html
import re
import socket
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from attributions import bilan_cache, services
from attributions.models import Attribution
from cil import retention
from cil.models import Commune
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire import frames
from observatoire.services_map import territory_map_upload
from tests.observatoire.factories import DemandFactory, DwellingFactory
from tests.observatoire.test_import_support import csv_bytes, demands, imported, make_place
from tests.observatoire.test_map_support import (
    QPV_CODE,
    add_leases,
    build_territory,
    encode,
    standard_leases,
    three_communes,
)

pytestmark = pytest.mark.django_db

ELU, SECRETARIAT = RoleName.ELU, RoleName.SECRETARIAT


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


@pytest.fixture
def observed():
    """The map tests' territory (attributions of 2024 and 2025), with demands (one of them
    satisfied in 2024 after two years) and dwellings in Exempleville."""
    territory = build_territory()
    standard_leases(territory)
    conference = territory.conference
    with conference_scope(conference):
        for n in range(20):
            DemandFactory(conference=conference, commune_insee="76101" if n % 3 else "76102")
        DemandFactory(
            conference=conference,
            commune_insee="76101",
            date_depot=datetime.date(2022, 1, 10),
            date_radiation=datetime.date(2024, 3, 14),
            motif_radiation="attribution",
        )
        for n in range(6):
            DwellingFactory(conference=conference, commune_insee="76101", in_qpv=n < 2)
    return territory


@pytest.fixture
def frame_reads(monkeypatch):
    """The names of the frames read (spies that call through)."""
    reads = []
    for name in ("demand_frame", "attribution_frame", "dwelling_frame"):
        original = getattr(frames, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            reads.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(frames, name, spy)
    return reads


def main_text(response) -> str:
    content = response.content.decode()
    content = content[content.index("<main") : content.index("</main>")]
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


def fetch(client, territory, role, name, query="", **kwargs):
    client.force_login(territory.users[role])
    url = reverse(name, kwargs={"conference_slug": territory.conference.slug, **kwargs})
    response = client.get(url + query)
    assert response.status_code == 200
    return response


def read(client, territory, role, name, query="", **kwargs) -> str:
    return main_text(fetch(client, territory, role, name, query, **kwargs))


def read_fresh(client, territory, role, name, query="", **kwargs) -> str:
    """The page as served, checked equal to the page computed without any cache entry."""
    served = read(client, territory, role, name, query, **kwargs)
    cache.clear()
    assert read(client, territory, role, name, query, **kwargs) == served
    return served


PAGES = [
    ("observatoire_home", "?annee=2025", {}),
    ("observatoire_communes", "", {}),
    ("observatoire_commune", "", {"insee": "76101"}),
    ("observatoire_map", "", {}),
    ("observatoire_map", "?indicateur=pression", {}),
    ("observatoire_map", "?indicateur=logements", {}),
]


@pytest.mark.parametrize(("name", "query", "kwargs"), PAGES)
def test_a_repeated_page_reads_no_data_frame(client, observed, frame_reads, name, query, kwargs):
    first = read(client, observed, ELU, name, query, **kwargs)
    assert frame_reads
    frame_reads.clear()
    assert read(client, observed, ELU, name, query, **kwargs) == first
    assert frame_reads == []


def test_every_commune_page_shares_one_computation(client, observed, frame_reads):
    read(client, observed, ELU, "observatoire_commune", insee="76101")
    frame_reads.clear()
    text = read(client, observed, ELU, "observatoire_commune", insee="76102")
    assert frame_reads == []
    cache.clear()
    assert read(client, observed, ELU, "observatoire_commune", insee="76102") == text


def _attributions_2025(client, territory, insee: str) -> int:
    response = fetch(client, territory, SECRETARIAT, "observatoire_commune", insee=insee)
    row = next(r for r in response.context["trend_rows"] if r["year"] == 2025)
    return int(row["attributions"]["text"].replace("\u202f", ""))


def test_an_attribution_saved_then_deleted_shows_at_once(client, observed):
    before = _attributions_2025(client, observed, "76101")
    list_before = read(client, observed, ELU, "observatoire_communes")
    bailleur = observed.users[RoleName.BAILLEUR]
    raw = {
        "reference": "REF-CACHE-1",
        "bailleur_siren": bailleur.organisation.siren,
        "date_signature_bail": "2025-09-01",
        "commune_insee": "76101",
        "qpv_code": "",
        "reservataire": "non_reserve",
        "nb_personnes": "1",
        "revenu_annuel": "5000",
    }
    with conference_scope(observed.conference):
        saved = services.attribution_save(conference=observed.conference, actor=None, raw=raw)
    assert _attributions_2025(client, observed, "76101") == before + 1
    assert read_fresh(client, observed, ELU, "observatoire_communes") != list_before
    with conference_scope(observed.conference):
        services.attribution_delete(conference=observed.conference, actor=None, attribution=saved)
    assert _attributions_2025(client, observed, "76101") == before
    assert read_fresh(client, observed, ELU, "observatoire_communes") == list_before


def test_a_confirmed_demand_import_shows_in_the_analysis(client):
    place = make_place()
    imported(client, place, "demandes", "a.csv", csv_bytes(demands(2)))
    place.users = {SECRETARIAT: place.secretariat}
    before = read(client, place, SECRETARIAT, "observatoire_home")
    imported(client, place, "demandes", "b.csv", csv_bytes(demands(5)))
    assert read_fresh(client, place, SECRETARIAT, "observatoire_home") != before


def test_the_delai_shows_in_the_analysis(client, observed):
    before = read(client, observed, SECRETARIAT, "observatoire_home", "?annee=2024")
    client.force_login(observed.users[SECRETARIAT])
    response = client.post(
        reverse("observatoire_settings", kwargs={"conference_slug": observed.conference.slug}),
        {"delai_anormalement_long_mois": "12", "delai_source": "arrêté préfectoral du 2 mai"},
    )
    assert response.status_code == 302
    after = read_fresh(client, observed, SECRETARIAT, "observatoire_home", "?annee=2024")
    assert after != before
    # The demand satisfied in 2024 waited 26 months: beyond the délai.
    assert "100,0\u00a0% des demandes satisfaites en 2024 avaient atteint" in after


def test_rates_and_thresholds_show_on_the_commune_page(
    client, observed, django_capture_on_commit_callbacks
):
    """The stored bilan (R1, R2) is invalidated after the commit: the commits are run."""
    before = read(client, observed, SECRETARIAT, "observatoire_commune", insee="76101")
    conference = observed.conference
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        services.rates_set(
            conference=conference,
            actor=None,
            year=2025,
            target_r1=Decimal("0.40"),
            target_r2=Decimal("0.50"),
            target_r3=Decimal("0.25"),
            reason="délibération test",
        )
    with_rates = read_fresh(client, observed, SECRETARIAT, "observatoire_commune", insee="76101")
    assert with_rates != before
    assert "objectif de 40\u202f%" in with_rates
    with conference_scope(conference), django_capture_on_commit_callbacks(execute=True):
        services.threshold_set(
            conference=conference, actor=None, year=2025, value=Decimal("1000"), source="arrêté"
        )
    # Below every household's income: no attribution of 2025 is Q1 any more.
    with_threshold = read_fresh(
        client, observed, SECRETARIAT, "observatoire_commune", insee="76101"
    )
    assert with_threshold != with_rates


def test_communes_added_or_renamed_show_in_the_list(client, observed):
    before = read(client, observed, ELU, "observatoire_communes")
    with conference_scope(observed.conference):
        Commune.objects.create(conference=observed.conference, insee="76199", name="Nouvelleville")
    added = read_fresh(client, observed, ELU, "observatoire_communes")
    assert "Nouvelleville" in added
    assert "Nouvelleville" not in before
    with conference_scope(observed.conference):
        commune = Commune.objects.get(insee="76199")
        commune.name = "Villeneuve-la-Neuve"
        commune.save()
    renamed = read_fresh(client, observed, ELU, "observatoire_communes")
    assert "Villeneuve-la-Neuve" in renamed
    assert "Nouvelleville" not in renamed


def test_uploaded_boundaries_show_on_the_map(client, observed):
    response = fetch(client, observed, ELU, "observatoire_map")
    assert response.context["map_svg"] is None
    territory_map_upload(
        conference=observed.conference,
        actor=observed.users[SECRETARIAT],
        filename="communes.geojson",
        content=encode(three_communes()),
    )
    assert fetch(client, observed, ELU, "observatoire_map").context["map_svg"]
    read_fresh(client, observed, ELU, "observatoire_map")


def test_the_retention_purge_shows_in_the_analysis(client, observed):
    before = read(client, observed, SECRETARIAT, "observatoire_home", "?annee=2024")
    now = datetime.datetime(2025, 6, 1, 12, tzinfo=datetime.UTC)
    counts = retention.purge_conference(observed.conference, now=now)
    assert counts["demandes"] == 1
    assert read_fresh(client, observed, SECRETARIAT, "observatoire_home", "?annee=2024") != before


def test_one_conference_never_reads_another_conferences_entry(client, observed):
    other = build_territory("conf-autre")
    add_leases(other, "76101", q1=3, other=30, in_qpv=True)
    with conference_scope(other.conference):
        other_count = Attribution.objects.filter(year=2025).count()
    for name, query, kwargs in PAGES:
        mine = read(client, observed, ELU, name, query, **kwargs)
        theirs = read(client, other, ELU, name, query, **kwargs)
        assert theirs != mine
        cache.clear()
        assert read(client, other, ELU, name, query, **kwargs) == theirs
    assert _attributions_2025(client, other, "76101") == other_count


def test_each_reader_keeps_their_secrecy(client, observed):
    for name, query, kwargs in [*PAGES, ("observatoire_commune", "", {"insee": "76103"})]:
        elu = read(client, observed, ELU, name, query, **kwargs)
        secretariat = read(client, observed, SECRETARIAT, name, query, **kwargs)
        assert read(client, observed, ELU, name, query, **kwargs) == elu
        cache.clear()
        assert read(client, observed, SECRETARIAT, name, query, **kwargs) == secretariat
        assert read(client, observed, ELU, name, query, **kwargs) == elu
    # R2 in Exempleville: 8 Q1 households in QPV, fewer than 11: hidden from an élu only.
    assert "secret statistique" in read(
        client, observed, ELU, "observatoire_commune", insee="76101"
    )
    assert "secret statistique" not in read(
        client, observed, SECRETARIAT, "observatoire_commune", insee="76101"
    )


def test_a_page_computed_while_the_bilan_is_pending_is_not_kept(client, observed, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = fetch(client, observed, ELU, "observatoire_commune", insee="76101")
    assert response.context["bilan_pending"]
    for year in (2024, 2025):
        bilan_cache.refresh(observed.conference, year)
    response = fetch(client, observed, ELU, "observatoire_commune", insee="76101")
    assert not response.context["bilan_pending"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "backend",
    ["django.core.cache.backends.redis.RedisCache", "cil.cache.ResilientRedisCache"],
)
def test_an_unreachable_cache_server_costs_the_cache_not_the_page(
    client, observed, settings, backend
):
    """Redis stopped: the plain backend raises (caught by cil.cache), the resilient one
    answers « absent »; either way every page shows the figures computed from the data."""
    expected = {page[:2]: read(client, observed, ELU, *page[:2], **page[2]) for page in PAGES}
    settings.CACHES = {
        "default": {"BACKEND": backend, "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0"}
    }
    for name, query, kwargs in PAGES:
        assert read(client, observed, ELU, name, query, **kwargs) == expected[name, query]


def test_the_qpv_of_an_attribution_reaches_the_cached_figures(client, observed):
    """An attribution moved into the QPV changes the commune's « en QPV » count."""
    before = read(client, observed, SECRETARIAT, "observatoire_commune", insee="76101")
    with conference_scope(observed.conference):
        attribution = Attribution.objects.filter(
            year=2025, commune__insee="76101", in_qpv=False
        ).first()
        raw = {
            "reference": attribution.reference,
            "bailleur_siren": observed.users[RoleName.BAILLEUR].organisation.siren,
            "date_signature_bail": str(attribution.lease_date),
            "commune_insee": "76101",
            "qpv_code": QPV_CODE,
            "reservataire": "non_reserve",
            "nb_personnes": "1",
            "revenu_annuel": "5000",
        }
        services.attribution_save(
            conference=observed.conference, actor=None, raw=raw, attribution=attribution
        )
    after = read_fresh(client, observed, SECRETARIAT, "observatoire_commune", insee="76101")
    assert after != before
