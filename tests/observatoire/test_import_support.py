"""What the observatory's import tests share: a territory with its people, valid lines of each
kind, and upload helpers. Files are built in memory by the attributions tests' builders."""

from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cil.models import Conference, User
from cil.roles import RoleName
from cil.tenancy import conference_scope
from observatoire.models import ObservatoireImport
from tests.attributions.factories import territory
from tests.attributions.test_import_support import csv_bytes, xlsx_bytes  # noqa: F401
from tests.factories import OrganisationFactory, UserFactory, grant


@dataclass
class Place:
    """A conference over 76540 (Exempleville, with the QPV QN07601M) and 76541 (Autreville),
    its secretariat, and a bailleur user (no right to import for the observatory)."""

    conference: Conference
    secretariat: User
    bailleur: User

    @property
    def slug(self) -> str:
        return self.conference.slug


def make_place(conference=None) -> Place:
    made = territory(conference)
    conference = made["conference"]
    secretariat = UserFactory(organisation=OrganisationFactory(epci=True))
    grant(secretariat, conference, RoleName.SECRETARIAT)
    bailleur = UserFactory(organisation=made["bailleurs"][0])
    grant(bailleur, conference, RoleName.BAILLEUR)
    return Place(conference, secretariat, bailleur)


def demand(numero: str = "0765400000001", **overrides) -> dict:
    """A valid `demandes` v1 line (raw strings, as from a file): 3 people of whom one child
    under 14 (UC 1 + 0.5 + 0.3 = 1.8), 18,000 € a year."""
    base = {
        "numero_unique": numero,
        "date_depot": "2025-03-14",
        "communes_souhaitees": "76540|76541",
        "nb_personnes": "3",
        "nb_enfants_moins_14": "1",
        "revenu_annuel": "18000",
        "typologie": "T3",
        "mutation": "non",
        "dalo": "non",
        "prioritaire": "non",
        "date_radiation": "",
        "motif_radiation": "",
    }
    base.update(overrides)
    return base


def demands(count: int, *, start: int = 1, **overrides) -> list[dict]:
    return [demand(f"07654{n:08d}", **overrides) for n in range(start, start + count)]


RPLS_HEADER = [
    "DEP",
    "IDENT_REP",
    "DEPCOM",
    "LIBCOM",
    "QPV",
    "TYPECONST",
    "NBPIECE",
    "SURFHAB",
    "CONSTRUCT",
    "FINAN",
    "FINANAUTRE",
    "CONV",
    "LOYERPRINC",
    "DPEDATE",
    "DPEENERGIE",
]


def dwelling(ident: str, depcom: str = "76540", **overrides) -> dict:
    """A line of the RPLS open-data file (some columns the import ignores included)."""
    base = {
        "DEP": depcom[:2],
        "IDENT_REP": ident,
        "DEPCOM": depcom,
        "LIBCOM": "Commune",
        "QPV": "2",
        "TYPECONST": "C",
        "NBPIECE": "3",
        "SURFHAB": "65",
        "CONSTRUCT": "1972",
        "FINAN": "13",
        "FINANAUTRE": "",
        "CONV": "1",
        "LOYERPRINC": "412,35",
        "DPEDATE": "03/2021",
        "DPEENERGIE": "D",
    }
    base.update(overrides)
    return base


def url(place: Place, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"conference_slug": place.slug, **kwargs})


def upload(client, place: Place, kind: str, filename: str, content: bytes, *, year=None, user=None):
    client.force_login(user or place.secretariat)
    data = {"kind": kind, "file": SimpleUploadedFile(filename, content, "application/octet-stream")}
    if year is not None:
        data["year"] = str(year)
    return client.post(url(place, "observatoire_import_upload"), data)


def last_job(place: Place) -> ObservatoireImport:
    with conference_scope(place.conference):
        return ObservatoireImport.objects.order_by("-created_at", "-pk").first()


def confirm(client, place: Place, job: ObservatoireImport):
    return client.post(url(place, "observatoire_import_confirm", job_id=job.public_id))


def imported(client, place: Place, kind: str, filename: str, content: bytes, *, year=None):
    """Upload, check READY, confirm, check DONE: the job."""
    response = upload(client, place, kind, filename, content, year=year)
    assert response.status_code == 302, response.content.decode()[:3000]
    job = last_job(place)
    assert job.status == "ready", job.errors
    assert confirm(client, place, job).status_code == 302
    job.refresh_from_db()
    assert job.status == "done", job.errors
    return job
