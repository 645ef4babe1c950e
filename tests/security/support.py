"""Shared helpers of the authorisation proof (test_idor_fuzz.py, test_canary_crawl.py).

- `populate(world)`: every object a URL of the isolation matrix can name, made in both
  conferences through the matrix's own kwargs builders, plus the tenant's marker where a
  page, an export or a PDF could leak it (a QPV, demands, dwellings, a person holding every
  role in both conferences with attributions in each).
- `foreign_identifiers(tenant)`: the primary keys and public ids of every row a tenant owns.
- `db_fingerprint()`: one md5 per table of every app, to prove that nothing was written.
- `response_text(response)`: the text a person would read, whatever the format (HTML, CSV,
  JSON, XLSX parts, PDF through pdftotext).
"""

import datetime
import io
import subprocess  # nosec B404 - pdftotext, a fixed local binary
import tempfile
import zipfile
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection

from attributions.models import Attribution
from attributions.services import check_row
from cil.models import Qpv, QpvYear, TenantModel, User
from cil.roles import RoleName
from cil.tenancy import conference_scope, unscoped
from observatoire.models import Demand, Dwelling
from tests.factories import OrganisationFactory, UserFactory, grant
from tests.world import Tenant, World

# Tables left out of the fingerprint: each is appended to by design on a refused or a read
# request, and holds no tenant data a request could alter.
EXCLUDED_TABLES = {
    # A log-in (force_login) and every response that sets a message write the session row.
    "django_session": "sessions",
    # The journal of reads (domain.md §6): every page that shows household rows appends one.
    "cil_accesslogentry": "journal des consultations",
    # django-axes: log-in attempts and failures.
    "axes_accessattempt": "tentatives de connexion",
    "axes_accessattemptexpiration": "tentatives de connexion",
    "axes_accessfailurelog": "échecs de connexion",
    "axes_accesslog": "connexions",
}

# Columns left out: written by design on an allowed request, whatever its outcome.
EXCLUDED_COLUMNS = {
    # A token's last use: written on an authenticated API call (at most once a minute).
    "attributions_apitoken": {"last_used_at"},
}


@dataclass
class ForeignIds:
    """What names the rows of one tenant: UUIDs (public ids), integers (primary keys) and
    natural keys (INSEE codes, QPV codes, SIRENs of organisations only in that tenant,
    attribution references)."""

    uuids: list[str] = field(default_factory=list)
    pks: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    by_model: dict[str, list[str]] = field(default_factory=dict)


def tenant_models() -> list[type]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def foreign_identifiers(tenant: Tenant, other: Tenant) -> ForeignIds:
    """The ids of every row `tenant` owns, in every tenant-owned model; natural keys that
    `other` also uses are left out (a SIREN of an organisation in both names both)."""
    ids = ForeignIds()
    conference = tenant.conference
    with unscoped():
        for model in tenant_models():
            rows = model.objects.filter(conference=conference)
            has_public_id = any(f.name == "public_id" for f in model._meta.fields)
            values = (
                rows.values_list("pk", "public_id") if has_public_id else rows.values_list("pk")
            )
            label = model._meta.label_lower
            for value in values:
                ids.pks.append(value[0])
                if has_public_id:
                    ids.uuids.append(str(value[1]))
                    ids.by_model.setdefault(label, []).append(str(value[1]))
        other_keys = _natural_keys(other.conference)
        ids.keys = sorted(_natural_keys(conference) - other_keys)
        # Users of the tenant only (designated signers, attendees).
        mine = set(_user_ids(conference)) - set(_user_ids(other.conference))
        ids.uuids += sorted(mine)
        ids.by_model["cil.user"] = sorted(mine)
    ids.pks = sorted(set(ids.pks))
    return ids


def _user_ids(conference) -> list[str]:
    return [
        str(u)
        for u in User.objects.filter(accesses__conference=conference).values_list(
            "public_id", flat=True
        )
    ]


def _natural_keys(conference) -> set[str]:
    from cil.models import Commune, Membership

    keys = set(Commune.objects.filter(conference=conference).values_list("insee", flat=True))
    keys |= set(Qpv.objects.filter(conference=conference).values_list("code", flat=True))
    keys |= set(
        Membership.objects.filter(conference=conference).values_list(
            "organisation__siren", flat=True
        )
    )
    keys |= set(
        Attribution.objects.filter(conference=conference).values_list("reference", flat=True)
    )
    return keys


def organisations_only_in(tenant: Tenant, other: Tenant) -> list:
    """Organisations members of `tenant` and not of `other`."""
    from cil.models import Membership, Organisation

    with unscoped():
        mine = Membership.objects.filter(conference=tenant.conference).values("organisation")
        theirs = Membership.objects.filter(conference=other.conference).values("organisation")
        return list(Organisation.objects.filter(pk__in=mine).exclude(pk__in=theirs).order_by("pk"))


def db_fingerprint() -> dict[str, str]:
    """{table: md5 of its rows as text, in a stable order} for every table of every
    installed app, but those of EXCLUDED_TABLES (and the columns of EXCLUDED_COLUMNS)."""
    models = {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}
    existing = set(connection.introspection.table_names())
    selects = []
    for table in sorted(set(models) - set(EXCLUDED_TABLES)):
        if table not in existing:
            continue
        row = "t"
        if table in EXCLUDED_COLUMNS:
            columns = [
                f't."{f.column}"'
                for f in models[table]._meta.concrete_fields
                if f.column not in EXCLUDED_COLUMNS[table]
            ]
            row = f"row({', '.join(columns)})"
        selects.append(
            f"SELECT '{table}', md5(coalesce(string_agg({row}::text, '|' ORDER BY {row}::text), ''))"  # noqa: S608  # nosec B608 - names from the models
            f' FROM "{table}" t'
        )
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects))
        return dict(cursor.fetchall())


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


# --- The world, every object present in both conferences ------------------------------------

# Rows whose builder drives a second document d'orientation to another state: a conference
# holds one document in preparation at a time, so only the default one (at the délibération,
# with its PDF) is made.
OTHER_ORIENTATION_STATES = {
    "orientation_submit",
    "orientation_adopt",
    "orientation_deliberate",
    "orientation_enforce",
}


def populate(world: World) -> None:
    """Make, in both conferences, every object a matrix row names (through the rows' own
    builders), the public open-data files, and marked data of the observatory; then add
    `world.omni`: one bailleur person holding every role in A and in B, with an attribution
    in each (the worst case of an IDOR: the person may see B's object, but not through A)."""
    from tests.observatoire.isolation_rows import _opendata_published
    from tests.test_tenant_isolation import CONFERENCE_ROWS

    omni_org = OrganisationFactory(name="Bailleur commun aux deux conférences")
    omni = UserFactory(email="omni@ab.test", organisation=omni_org)
    for tenant in (world.a, world.b):
        grant(omni, tenant.conference, *RoleName.values)
        _observatory_data(tenant)
        _attribution_of(tenant, omni_org, f"OMNI-{tenant.marker}")
        for name in CONFERENCE_ROWS:
            row_kwargs(tenant, name)
        _opendata_published(tenant)
    world.omni = omni


def row_kwargs(tenant: Tenant, name: str) -> dict:
    """A matrix row's kwargs for the tenant, made once (some builders add a row on each
    call: an API token, a comment). The rows that would drive a second document
    d'orientation name the tenant's one document."""
    from tests.test_tenant_isolation import CONFERENCE_ROWS

    made = tenant.__dict__.setdefault("security_row_kwargs", {})
    if name not in made:
        key = "orientation_detail" if name in OTHER_ORIENTATION_STATES else name
        made[name] = CONFERENCE_ROWS[key].kwargs(tenant)
    return made[name]


def _attribution_of(tenant: Tenant, organisation, reference: str) -> Attribution:
    conference = tenant.conference
    with conference_scope(conference):
        commune = conference.communes.first()
        qpv = Qpv.objects.filter(conference=conference).first()
        raw = {
            "reference": reference,
            "bailleur_siren": organisation.siren,
            "date_signature_bail": "2025-05-06",
            "commune_insee": commune.insee,
            "qpv_code": qpv.code if qpv else "",
            "reservataire": "non_reserve",
            "nb_personnes": "3",
            "revenu_annuel": "9000",
        }
        fields = check_row(raw, conference=conference)
        return Attribution.objects.create(conference=conference, **fields)


def _observatory_data(tenant: Tenant) -> None:
    """A QPV of the tenant's commune named with its marker, demands and dwellings there."""
    conference = tenant.conference
    label = tenant.marker[-1]
    with conference_scope(conference):
        commune = conference.communes.first()
        qpv = Qpv.objects.create(
            conference=conference,
            code=f"QN{76000 + ord(label):05d}M",
            name=f"Quartier {tenant.marker}",
        )
        qpv.communes.add(commune)
        for year in (2024, 2025):
            QpvYear.objects.create(conference=conference, qpv=qpv, year=year)
        for n in range(12):
            Demand.objects.create(
                conference=conference,
                numero_unique=f"{tenant.marker}-{n:03d}",
                date_depot=datetime.date(2024, 1 + n % 12, 1),
                communes_souhaitees=[commune.insee],
                commune_insee=commune.insee,
                nb_personnes=1 + n % 4,
                uc="1.50",
                revenu_annuel=12000 + n * 100,
                revenu_par_uc=8000,
            )
            Dwelling.objects.create(
                conference=conference,
                millesime=2025,
                rpls_id=f"{tenant.marker}-{n:03d}",
                commune_insee=commune.insee,
                in_qpv=n % 2 == 0,
                qpv_code=qpv.code if n % 2 == 0 else "",
            )


# --- What a response says ------------------------------------------------------------------


def response_text(response) -> str:
    """The decoded content: HTML, CSV, JSON and ICS as text, every part of an XLSX (or any
    zip), the text of a PDF (its streams are compressed: a byte search would miss them)."""
    content = response.getvalue() if hasattr(response, "getvalue") else response.content
    kind = response.get("Content-Type", "")
    if content.startswith(b"%PDF") or "pdf" in kind:
        return pdf_text(content)
    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist()
            )
    return content.decode("utf-8", errors="replace")


def pdf_text(content: bytes) -> str:
    """pdftotext's text, plus the raw bytes decoded leniently (a fixture PDF may hold its
    text outside any page)."""
    raw = content.decode("latin-1")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(content)
        handle.flush()
        result = subprocess.run(  # nosec B603
            ["/usr/bin/pdftotext", "-q", "-enc", "UTF-8", handle.name, "-"],
            capture_output=True,
            check=False,
            timeout=30,
        )
    return result.stdout.decode("utf-8", errors="replace") + "\n" + raw
