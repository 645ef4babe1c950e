"""What the import tests share: a territory with its people, and files built in memory."""

import csv
import io
from dataclasses import dataclass

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from attributions.models import ImportJob
from cil.models import Conference, Organisation, User
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.attributions.factories import row, territory
from tests.factories import OrganisationFactory, UserFactory, grant


@dataclass
class Place:
    conference: Conference
    bailleurs: list[Organisation]
    secretariat: User
    bailleur_users: list[User]  # one per bailleur, same order

    @property
    def slug(self) -> str:
        return self.conference.slug


def make_place(conference=None) -> Place:
    made = territory(conference)
    conference = made["conference"]
    secretariat = UserFactory(organisation=OrganisationFactory(epci=True))
    grant(secretariat, conference, RoleName.SECRETARIAT)
    users = []
    for bailleur in made["bailleurs"]:
        user = UserFactory(organisation=bailleur)
        grant(user, conference, RoleName.BAILLEUR)
        users.append(user)
    return Place(conference, made["bailleurs"], secretariat, users)


def lines(bailleur, count: int, *, start: int = 1, **overrides) -> list[dict]:
    """`count` valid rows of a bailleur, references A-00001…"""
    return [row(bailleur, reference=f"A-{n:05d}", **overrides) for n in range(start, start + count)]


def csv_bytes(
    rows: list[dict],
    *,
    headers: dict[str, str] | None = None,
    sep: str = ";",
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    """A CSV of `rows` (dicts by column name); `headers` renames columns as a person types
    them."""
    names = list(dict.fromkeys(name for r in rows for name in r))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow([(headers or {}).get(name, name) for name in names])
    for r in rows:
        writer.writerow([r.get(name, "") for name in names])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode(encoding)


def xlsx_bytes(header: list, rows: list[list], *, first_sheet_inactive: bool = True) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Attributions"
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    if first_sheet_inactive:
        other = workbook.create_sheet("Notes")
        other.append(["Ceci n'est pas à importer"])
        workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def url(place: Place, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"conference_slug": place.slug, **kwargs})


def upload(client, place: Place, filename: str, content: bytes, *, user=None):
    client.force_login(user or place.secretariat)
    return client.post(
        url(place, "import_upload"),
        {"file": SimpleUploadedFile(filename, content, "application/octet-stream")},
    )


def last_job(place: Place) -> ImportJob:
    with conference_scope(place.conference):
        return ImportJob.objects.order_by("-created_at", "-pk").first()


def confirm(client, place: Place, job: ImportJob):
    return client.post(url(place, "import_confirm", job_id=job.public_id))
