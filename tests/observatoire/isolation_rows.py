"""This app's rows of the isolation matrix (merged by tests/test_tenant_isolation.py).

CONFERENCE_ROWS: URL name → Row (see tests/isolation.py). GLOBAL_ROWS: URL name →
(kwargs builder, method, status anonymous, status signed in) for public URLs.
"""

from tests.isolation import Row


def _commune(t):
    """The tenant's commune, by INSEE code (world A's and B's codes differ)."""
    from cil.tenancy import conference_scope

    with conference_scope(t.conference):
        return {"insee": t.conference.communes.get().insee}


def _observatoire_import(t):
    """A finished import of the tenant's observatory, made on first use (the world has none)."""
    if getattr(t, "observatoire_import", None) is None:
        from cil.roles import RoleName
        from cil.tenancy import conference_scope
        from observatoire.models import ObservatoireImport
        from observatoire.models.imports import ObservatoireImportStatus

        with conference_scope(t.conference):
            t.observatoire_import = ObservatoireImport.objects.create(
                conference=t.conference,
                kind="demandes",
                created_by=t.users[RoleName.SECRETARIAT],
                filename=f"demandes-{t.marker}.csv",
                sha256="0" * 64,
                status=ObservatoireImportStatus.DONE,
            )
    return {"job_id": t.observatoire_import.public_id}


# Open data: the world's attributions are of 2025; a catalogue key names no object.
_OPENDATA = {"dataset": "attributions-communes", "year": 2025}


def _opendata_published(t, **extra):
    """The tenant's `attributions-communes` 2025, published on first use (public files)."""
    if not getattr(t, "opendata_published", False):
        from cil.roles import RoleName
        from cil.tenancy import conference_scope
        from observatoire.opendata.services import publication_publish

        with conference_scope(t.conference):
            publication_publish(
                conference=t.conference, actor=t.users[RoleName.SECRETARIAT], **_OPENDATA
            )
        t.opendata_published = True
    return {"conference_slug": t.conference.slug, "dataset": _OPENDATA["dataset"], **extra}


CONFERENCE_ROWS: dict = {
    # Imports of the observatory (secretariat only).
    "observatoire_import_upload": Row("observatoire.import"),
    "observatoire_import_template": Row("observatoire.import"),
    "observatoire_import_detail": Row("observatoire.import", _observatoire_import),
    "observatoire_import_progress": Row("observatoire.import", _observatoire_import),
    "observatoire_import_confirm": Row(
        "observatoire.import", _observatoire_import, method="post", ok_status=302
    ),
    # Territory map and commune pages.
    "observatoire_map": Row("observatoire.view"),
    "observatoire_map_upload": Row("observatoire.map_manage"),
    "observatoire_communes": Row("observatoire.view"),
    "observatoire_commune": Row("observatoire.view", _commune),
}
CONFERENCE_ROWS |= {
    # Open data: the secretariat's choices (publishing answers with a redirect either way).
    "opendata_manage": Row("opendata.manage"),
    "opendata_preview": Row("opendata.manage", lambda t: _OPENDATA, names_objects=False),
    "opendata_publish": Row(
        "opendata.manage", lambda t: _OPENDATA, method="post", ok_status=302, names_objects=False
    ),
    "opendata_withdraw": Row(
        "opendata.manage", lambda t: _OPENDATA, method="post", ok_status=302, names_objects=False
    ),
}
CONFERENCE_ROWS |= {
    # Analysis page, its exports (a table key names no object) and the settings.
    "observatoire_home": Row("observatoire.view"),
    "observatoire_export": Row(
        "observatoire.view",
        lambda t: {"table": "demande_communes", "fmt": "csv"},
        names_objects=False,
    ),
    "observatoire_settings": Row("observatoire.settings"),
}
GLOBAL_ROWS: dict = {
    # Public open data: anyone, signed in or not (tests/observatoire/test_opendata_views.py
    # covers unpublished years, other conferences and unknown slugs: 404).
    "opendata_public": (lambda t: {"conference_slug": t.conference.slug}, "get", 200, 200),
    "opendata_catalogue": (lambda t: {"conference_slug": t.conference.slug}, "get", 200, 200),
    "opendata_file": (
        lambda t: _opendata_published(t, year=_OPENDATA["year"], fmt="csv"),
        "get",
        200,
        200,
    ),
    "opendata_dictionary": (lambda t: _opendata_published(t, fmt="json"), "get", 200, 200),
}
