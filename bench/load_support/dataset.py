"""The database of the load benchmark (bench/load).

The national dataset is bench/bilan's (1,250 conferences, 450,000 attributions of 2025),
built by its own generator and reused while its `bench_dataset` row matches. On top of it,
for a few target conferences, what the scenario needs (the `load` row records it):

- accounts with a known password: for each target conference, ACCOUNTS_PER_ROLE accounts of
  each role (bailleur, élu, secrétariat); the bailleur accounts act for the member bailleur
  with the most attributions there, the others for the EPCI;
- demands (observatory): DEMANDS_PER_ATTRIBUTION per attribution of the conference (the
  national ratio: 2.6 million demands for 450,000 attributions), written by COPY;
- commune boundaries (a grid of squares), loaded by the map upload service.

Before every run, `reset_scenario` removes what the previous run wrote (imported lines,
import jobs, audit and access-log entries of the target conferences), seeds an audit log and
recomputes the stored bilans, so that every run starts from the same state.
"""

import datetime
import importlib.machinery
import importlib.util
import io
import json
import time
from pathlib import Path

import benchlib

DATASET = "load"
SPEC = {
    "generator": 1,
    "targets": 4,
    "accounts_per_role": 5,
    "demands_per_attribution": 5.8,
    "seed": 20251123,
}
ROLES = ("bailleur", "elu", "secretariat")
ACCOUNTS_PER_ROLE = SPEC["accounts_per_role"]
DEMANDS_PER_ATTRIBUTION = SPEC["demands_per_attribution"]
PASSWORD = "banc-de-charge-2025"  # noqa: S105 - benchmark accounts of a benchmark database
EMAIL_DOMAIN = "charge.bench"
IMPORT_PREFIX = "LOAD-"  # references of the lines imported during a run
AUDIT_SEED = 2_000  # audit entries per target conference at the start of a run


def bilan_module():
    """bench/bilan (an executable without .py) imported as a module, for its generator."""
    path = benchlib.REPO / "bench" / "bilan"
    loader = importlib.machinery.SourceFileLoader("bench_bilan", str(path))
    spec = importlib.util.spec_from_loader("bench_bilan", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def target_conferences(bilan) -> list:
    """The metropolis (30,000 attributions) and three others: a large one, a middle one, a
    small one, by their number of attributions (ranks 5, 100 and 600 of 1,250)."""
    from django.db import connection

    from cil.models import Conference

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.slug FROM cil_conference c LEFT JOIN attributions_attribution a "
            "ON a.conference_id = c.id AND a.year = %s WHERE c.slug LIKE %s "
            "GROUP BY c.slug ORDER BY count(a.id) DESC, c.slug",
            [bilan.YEAR, bilan.PREFIX + "%"],
        )
        slugs = [slug for (slug,) in cursor.fetchall()]
    chosen = [slugs[0], slugs[5], slugs[100], slugs[600]][: SPEC["targets"]]
    by_slug = Conference.objects.in_bulk(chosen, field_name="slug")
    return [by_slug[slug] for slug in chosen]


def email(role: str, number: int, slug: str) -> str:
    return f"{role}{number}@{slug}.{EMAIL_DOMAIN}"


# --- Build ----------------------------------------------------------------------------------


def ensure(*, rebuild: bool) -> list:
    """Build what is missing (everything with `rebuild`); the target conferences."""
    from django.db import connection

    bilan = bilan_module()
    with connection.cursor() as cursor:
        # The lines an interrupted run imported: bench/bilan would see a changed dataset.
        cursor.execute(
            "DELETE FROM attributions_attribution WHERE reference LIKE %s",
            [IMPORT_PREFIX + "%"],
        )
    if rebuild or not bilan.dataset_ready():
        print("Génération du jeu national de bench/bilan (environ une minute)…", flush=True)
        drop_extras()
        bilan.drop_dataset()
        bilan.build_dataset()
    targets = target_conferences(bilan)
    if benchlib.marker(DATASET) != SPEC:
        drop_extras()
        start = time.perf_counter()
        build_extras(bilan, targets)
        benchlib.set_marker(DATASET, SPEC)
        elapsed = time.perf_counter() - start
        print(f"Comptes, demandes et cartes des conférences cibles : {elapsed:.1f} s")
    else:
        print("Jeu de données réutilisé (lignes « bilan » et « load » de bench_dataset).")
    return targets


def drop_extras() -> None:
    """The benchmark's accounts and the demands and boundaries of the bench conferences
    (the users go first: they point at the organisations that bench/bilan deletes)."""
    from django.db import connection

    benchlib.set_marker(DATASET, None)
    with connection.cursor() as cursor:
        like = f"%.{EMAIL_DOMAIN}"
        cursor.execute(
            "DELETE FROM cil_role WHERE access_id IN (SELECT a.id FROM cil_access a "
            "JOIN cil_user u ON u.id = a.user_id WHERE u.email LIKE %s)",
            [like],
        )
        for table, column in (
            ("attributions_importjob", "created_by_id"),
            ("cil_auditentry", "actor_id"),
            ("cil_accesslogentry", "user_id"),
            ("cil_access", "user_id"),
        ):
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} IN "  # noqa: S608 - constant identifiers  # nosec B608
                "(SELECT id FROM cil_user WHERE email LIKE %s)",
                [like],
            )
        cursor.execute("DELETE FROM cil_user WHERE email LIKE %s", [like])
        bench = "SELECT id FROM cil_conference WHERE slug LIKE 'bench-cil-%%'"
        cursor.execute(f"DELETE FROM observatoire_demand WHERE conference_id IN ({bench})")  # noqa: S608  # nosec B608
        cursor.execute(f"DELETE FROM observatoire_communeboundary WHERE conference_id IN ({bench})")  # noqa: S608  # nosec B608
        cursor.execute(f"DELETE FROM observatoire_territorymap WHERE conference_id IN ({bench})")  # noqa: S608  # nosec B608


def build_extras(bilan, targets: list) -> None:
    import numpy as np
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    rng = np.random.default_rng(SPEC["seed"])
    hashed = make_password(PASSWORD)  # one hash for every account: PBKDF2 is slow on purpose
    with transaction.atomic():
        for conference in targets:
            _accounts(bilan, conference, hashed)
            _demands(bilan, conference, rng)
    for conference in targets:
        _boundaries(conference)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE observatoire_demand")


def _bailleur_of(bilan, conference):
    """The member bailleur with the most attributions in the conference."""
    from django.db import connection

    from cil.models import Organisation

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.bailleur_id FROM attributions_attribution a JOIN cil_membership m "
            "ON m.organisation_id = a.bailleur_id AND m.conference_id = a.conference_id "
            "WHERE a.conference_id = %s GROUP BY a.bailleur_id ORDER BY count(*) DESC LIMIT 1",
            [conference.pk],
        )
        (bailleur_id,) = cursor.fetchone()
    return Organisation.objects.get(pk=bailleur_id)


def _accounts(bilan, conference, hashed: str) -> None:
    from cil.models import Access, Organisation, Role, User
    from cil.tenancy import conference_scope

    organisations = {
        "bailleur": _bailleur_of(bilan, conference),
        "elu": Organisation.objects.get(siren=conference.epci_siren),
        "secretariat": Organisation.objects.get(siren=conference.epci_siren),
    }
    with conference_scope(conference):
        for role in ROLES:
            for number in range(1, ACCOUNTS_PER_ROLE + 1):
                user = User.objects.create(
                    email=email(role, number, conference.slug),
                    first_name=f"{role.capitalize()} {number}",
                    last_name="Banc de charge",
                    organisation=organisations[role],
                    password=hashed,
                )
                access = Access.objects.create(conference=conference, user=user)
                Role.objects.create(conference=conference, access=access, name=role)


def _demands(bilan, conference, rng) -> None:
    """Demands of the conference's territory, closed for a fifth of them, incomes per UC
    around the conference's Q1 threshold."""
    import numpy as np
    import pandas as pd
    from django.db import connection
    from django.utils import timezone
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM attributions_attribution WHERE conference_id = %s",
            [conference.pk],
        )
        (attributions,) = cursor.fetchone()
        cursor.execute(
            "SELECT insee FROM cil_commune WHERE conference_id = %s ORDER BY insee",
            [conference.pk],
        )
        communes = np.array([insee for (insee,) in cursor.fetchall()])
        cursor.execute(
            "SELECT value FROM attributions_q1threshold WHERE conference_id = %s AND year = %s",
            [conference.pk, bilan.YEAR],
        )
        (threshold,) = cursor.fetchone()
    n = round(attributions * DEMANDS_PER_ATTRIBUTION)
    end = np.datetime64(f"{bilan.YEAR}-12-31")
    age = np.minimum(rng.exponential(540, n), 3650).astype("timedelta64[D]")
    depot = end - age
    closed = rng.random(n) < 0.2
    radiation = np.where(
        closed, depot + (rng.random(n) * age.astype(int)).astype("timedelta64[D]"), None
    )
    motif = np.where(
        closed,
        rng.choice(["attribution", "non_renouvellement", "renonciation"], n, p=[0.45, 0.4, 0.15]),
        "",
    )
    weight = 1 / np.arange(1, len(communes) + 1) ** 0.9
    insee = communes[rng.choice(len(communes), n, p=weight / weight.sum())]
    size = rng.choice(list(bilan.HOUSEHOLD_SIZES), n, p=list(bilan.HOUSEHOLD_SIZES.values()))
    children = rng.binomial(size - 1, 0.45)
    uc = np.round(1 + 0.5 * (size - 1 - children) + 0.3 * children, 2)
    per_uc = rng.lognormal(np.log(float(threshold)) + 0.37, 0.55, n)
    unknown = rng.random(n) < 0.04
    income = np.round(per_uc * uc, 2)
    dalo = rng.random(n) < 0.03
    frame = pd.DataFrame(
        {
            "conference_id": conference.pk,
            "numero_unique": pd.Series(np.arange(n)).map(lambda i: f"L{conference.pk:05d}{i:09d}"),
            "date_depot": depot,
            "communes_souhaitees": pd.Series(insee).radd('["').add('"]'),
            "commune_insee": insee,
            "nb_personnes": size,
            "nb_enfants_moins_14": children,
            "revenu_annuel": np.where(unknown, np.nan, income),
            "typologie": rng.choice(list(bilan.TYPOLOGIES), n, p=list(bilan.TYPOLOGIES.values())),
            "mutation": rng.random(n) < 0.33,
            "dalo": dalo,
            "prioritaire": dalo | (rng.random(n) < 0.2),
            "date_radiation": pd.to_datetime(radiation),
            "motif_radiation": motif,
            "uc": uc,
            "revenu_par_uc": np.where(unknown, np.nan, np.round(income / uc, 2)),
            "updated_at": timezone.now().isoformat(),
        }
    )
    not_null = ["numero_unique", "typologie", "motif_radiation"]
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({}))").format(
        sql.Identifier("observatoire_demand"),
        sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns),
        sql.SQL(", ").join(sql.Identifier(c) for c in not_null),
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False, date_format="%Y-%m-%d")
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.getvalue())


def _boundaries(conference) -> None:
    """A grid of squares, one per commune, through the map upload service."""
    import math

    from cil.models import Commune
    from cil.tenancy import conference_scope
    from observatoire.services_map import territory_map_upload

    with conference_scope(conference):
        communes = list(Commune.objects.order_by("insee").values_list("insee", "name"))
    side = math.ceil(math.sqrt(len(communes)))
    features = []
    for index, (insee, name) in enumerate(communes):
        x, y = 1.0 + (index % side) * 0.05, 47.0 + (index // side) * 0.04
        ring = [[x, y], [x + 0.05, y], [x + 0.05, y + 0.04], [x, y + 0.04], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"code_insee": insee, "nom": name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    territory_map_upload(
        conference=conference, actor=None, filename="communes-banc.geojson", content=content
    )


# --- Before each run ------------------------------------------------------------------------


def reset_scenario(bilan, targets: list) -> None:
    """Remove what a previous run wrote in the target conferences, seed their audit log and
    recompute their stored bilans."""
    from django.db import connection, transaction
    from django.utils import timezone

    from attributions import bilan_cache
    from cil.models import AuditAction, AuditEntry

    ids = [conference.pk for conference in targets]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM attributions_attribution WHERE conference_id = ANY(%s) "
            "AND reference LIKE %s",
            [ids, IMPORT_PREFIX + "%"],
        )
        for table in ("attributions_importjob", "cil_auditentry", "cil_accesslogentry"):
            cursor.execute(
                f"DELETE FROM {table} WHERE conference_id = ANY(%s)",  # noqa: S608 - constant identifiers  # nosec B608
                [ids],
            )
        now = timezone.now()
        actions = list(AuditAction.values)
        AuditEntry.objects.bulk_create(
            AuditEntry(
                conference=conference,
                created_at=now - datetime.timedelta(hours=3 * i),
                actor_label="Secrétariat (banc de charge)",
                action=actions[i % len(actions)],
                object_type="cil.membership",
                object_id=str(i),
                object_repr=f"Objet n°{i}",
                changes={"champ": ["avant", "après"]},
            )
            for conference in targets
            for i in range(AUDIT_SEED)
        )
    for conference in targets:
        bilan_cache.refresh(conference, bilan.YEAR)


def scenario(bilan, targets: list) -> dict:
    """What the locustfile needs to know: per target conference, its slug, accounts,
    communes (INSEE, outside any QPV) and the SIREN of its bailleur."""
    from cil.models import Commune, User
    from cil.tenancy import conference_scope

    out = []
    for conference in targets:
        with conference_scope(conference):
            communes = list(
                Commune.objects.filter(qpvs__isnull=True)
                .order_by("insee")
                .values_list("insee", flat=True)
            ) or list(Commune.objects.order_by("insee").values_list("insee", flat=True))
        bailleur = User.objects.get(email=email("bailleur", 1, conference.slug)).organisation
        out.append(
            {
                "slug": conference.slug,
                "name": conference.name,
                "communes": communes,
                "bailleur_siren": bailleur.siren,
                "accounts": {
                    role: [
                        email(role, number, conference.slug)
                        for number in range(1, ACCOUNTS_PER_ROLE + 1)
                    ]
                    for role in ROLES
                },
            }
        )
    return {
        "password": PASSWORD,
        "year": bilan.YEAR,
        "import_prefix": IMPORT_PREFIX,
        "conferences": out,
    }


def describe(targets: list) -> str:
    from django.db import connection

    lines = []
    with connection.cursor() as cursor:
        for conference in targets:
            cursor.execute(
                "SELECT (SELECT count(*) FROM attributions_attribution WHERE conference_id = %s), "
                "(SELECT count(*) FROM observatoire_demand WHERE conference_id = %s), "
                "(SELECT count(*) FROM cil_commune WHERE conference_id = %s), "
                "(SELECT count(*) FROM cil_membership WHERE conference_id = %s)",
                [conference.pk] * 4,
            )
            attributions, demands, communes, members = cursor.fetchone()
            lines.append(
                f"  - {conference.slug} : {attributions:,} attributions, {demands:,} demandes, "
                f"{communes} communes, {members} membres".replace(",", " ")
            )
    return "\n".join(lines)


def write_scenario(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
