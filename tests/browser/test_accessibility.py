"""axe-core (WCAG 2.0/2.1 A and AA rules, and best practices) on every page, for every role and for anonymous
visitors: no serious or critical violation.

The pages are the GET rows of the isolation matrix (tests/test_tenant_isolation.py, which
merges the apps' rows) that each role's permissions open (cil/permissions.py), with the
objects their rows' builders make in the two-conference world (tests/world.py), plus the
public pages. File downloads and htmx fragments (checked inside their pages) are left out.
Also checked: forms showing their errors, the header's menu open as a modal on a small
screen, and a few pages in the dark theme. axe comes from tests/browser/vendor/axe-core
(scripts/vendor-axe), injected through the DevTools protocol with the CSP left on (see
tests/browser/a11y_support.py): no network.
"""

import time
from collections import Counter

import pytest
from django.urls import reverse

from cil.permissions import PERMISSIONS
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.browser.a11y_support import axe_check, new_context, settle, visit
from tests.conventions.orientations_support import orientation_at, take
from tests.test_tenant_isolation import CONFERENCE_ROWS, GLOBAL_ROWS
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = [
    RoleName.SECRETARIAT,
    RoleName.BAILLEUR,
    RoleName.ELU,
    RoleName.PREFECTURE,
    RoleName.MEMBRE,
]
# The steps of the document d'orientation's circuit, each open in one state of the
# document: checked while the world's document goes through them (_walk_circuit), the other
# rows seeing it awaiting the préfet (the state the rows' builders use by default).
CIRCUIT_ROWS = {
    "brouillon": "orientation_submit",
    "consultation": "orientation_adopt",
    "adopte_cil": "orientation_deliberate",
    "agree_prefet": "orientation_enforce",
}

# Pages with the platform's own styles (tables, map, charts, quorum, badges).
DARK_PAGES = (
    "conference_home",
    "member_list",
    "bilan",
    "observatoire_home",
    "observatoire_map",
    "meeting_list",
    "cia_list",
    "orientation_home",
    "audit_log",
)


class Scan:
    """Pages visited and violations found, across contexts."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.violations = []  # serious or critical
        self.minor = {}  # rule [impact] → pages, for the others (reported, not failed)
        self.pages = Counter()  # who → pages checked
        self.seen = set()  # (who, final path)
        self.names = set()  # URL names checked
        self.skipped = set()  # URL names that are not pages (downloads, fragments)
        self.seconds = Counter()  # time spent loading pages, running axe

    def check(self, page, who: str, name: str, url: str) -> None:
        started = time.monotonic()
        path = visit(page, self.base_url + url)
        self.seconds["chargement"] += time.monotonic() - started
        if path is None:
            self.skipped.add(name)
            return
        if (who, path) in self.seen:
            return  # a redirect to a page already checked
        self.seen.add((who, path))
        self.names.add(name)
        self.pages[who] += 1
        started = time.monotonic()
        self._record(axe_check(page, f"{who} {path} ({name})"))
        self.seconds["axe"] += time.monotonic() - started

    def check_current(self, page, who: str, state: str) -> None:
        settle(page)
        self.pages[who] += 1
        path = page.url.removeprefix(self.base_url)
        self._record(axe_check(page, f"{who} {path} ({state})"))

    def _record(self, violations) -> None:
        self.violations += [v for v in violations if v.blocking]
        for v in violations:
            if not v.blocking:
                self.minor.setdefault(f"{v.rule} [{v.impact}]", []).append(v.page)

    def report(self) -> str:
        lines = [f"{len(self.violations)} violation(s) graves ou critiques :"]
        lines += [str(v) for v in self.violations]
        rules = Counter((v.rule, v.impact) for v in self.violations)
        lines += [f"  {rule} [{impact}] : {n} page(s)" for (rule, impact), n in rules.items()]
        return "\n".join(lines)


def _urls(tenant) -> dict[str, str]:
    """Every GET row's URL in the tenant (objects made by the rows' builders, once)."""
    urls = {}
    for name, row in sorted(CONFERENCE_ROWS.items()):
        if row.method == "get":
            kwargs = {"conference_slug": tenant.conference.slug, **row.kwargs(tenant)}
            urls[name] = reverse(name, kwargs=kwargs)
    return urls


def _global_urls(tenant, *, signed_in: bool) -> dict[str, str]:
    """The global GET pages a visitor gets (200, or the 404 of a wrong invitation link)."""
    urls = {}
    for name, (kwargs, method, anonymous, member) in sorted(GLOBAL_ROWS.items()):
        if method == "get" and (member if signed_in else anonymous) in (200, 404):
            urls[name] = reverse(name, kwargs=kwargs(tenant) or None)
    return urls


def _walk_circuit(scan, browser, tenant, *, until: str) -> None:
    """Take the world's document d'orientation through the circuit up to `until`, checking
    each step's page as the secretariat on the way."""
    document = tenant.orientations["brouillon"]
    context = new_context(browser, scan.base_url, tenant.users[RoleName.SECRETARIAT])
    page = context.new_page()
    for state, step in (
        ("brouillon", "soumettre"),
        ("consultation", "adopter"),
        ("adopte_cil", "deliberer"),
        ("delibere_epci", "agreer"),
        ("agree_prefet", None),
    ):
        with conference_scope(tenant.conference):
            document.refresh_from_db()
        if document.state == state and state in CIRCUIT_ROWS:
            name = CIRCUIT_ROWS[state]
            url = reverse(
                name,
                kwargs={
                    "conference_slug": tenant.conference.slug,
                    "document_id": document.public_id,
                },
            )
            scan.check(page, RoleName.SECRETARIAT, name, url)
        if state == until or step is None:
            break
        if document.state == state:
            with conference_scope(tenant.conference):
                take(tenant.conference, tenant.users, document, step)
    context.close()


def test_every_page_for_every_role_has_no_serious_accessibility_violation(
    browser, live_server, settings
):
    settings.DEBUG = False
    started = time.monotonic()
    world = build_world()
    tenant = world.a
    # One document d'orientation serves every orientation row (see CIRCUIT_ROWS).
    document = orientation_at(tenant.conference, tenant.users, "brouillon")
    tenant.orientations = dict.fromkeys(
        ("brouillon", "consultation", "adopte_cil", "delibere_epci", "agree_prefet"), document
    )
    scan = Scan(live_server.url)
    _walk_circuit(scan, browser, tenant, until="delibere_epci")
    urls = _urls(tenant)
    print(f"\nmonde prêt en {time.monotonic() - started:.0f} s")
    for role in ROLES:
        context = new_context(browser, live_server.url, tenant.users[role])
        page = context.new_page()
        for name, url in urls.items():
            if (
                name not in CIRCUIT_ROWS.values()
                and role in PERMISSIONS[CONFERENCE_ROWS[name].permission]
            ):
                scan.check(page, role, name, url)
        if role == RoleName.MEMBRE:
            # Outside a conference a page is the same whatever the role: checked once.
            for name, url in _global_urls(tenant, signed_in=True).items():
                scan.check(page, role, name, url)
        context.close()
    context = new_context(browser, live_server.url)
    page = context.new_page()
    for name, url in _global_urls(tenant, signed_in=False).items():
        scan.check(page, "anonyme", name, url)
    context.close()
    _walk_circuit(scan, browser, tenant, until="agree_prefet")

    elapsed = time.monotonic() - started
    print(
        f"\naxe : {sum(scan.pages.values())} pages en {elapsed:.0f} s "
        f"({dict(scan.pages)}) ; {dict(scan.seconds)} ; hors pages : {sorted(scan.skipped)} ; "
        f"autres violations (pages) : {dict(scan.minor)}"
    )
    assert scan.pages[RoleName.SECRETARIAT] > 60
    # Every GET row is either checked or not a page (a download, a fragment).
    gets = {name for name, row in CONFERENCE_ROWS.items() if row.method == "get"}
    assert gets - scan.names - scan.skipped == set()
    assert not scan.violations, scan.report()


def _submit_empty(page) -> None:
    """Send the page's main form as it is, past the browser's own checks of required
    fields, so that the server answers with its error messages."""
    page.evaluate("document.querySelectorAll('main form').forEach((f) => f.noValidate = true)")
    page.locator("main form").last.locator("[type=submit]").last.click()
    page.wait_for_load_state("domcontentloaded")


def test_forms_with_errors_the_open_menu_and_the_dark_theme_have_no_serious_violation(
    browser, live_server, settings
):
    settings.DEBUG = False
    world = build_world()
    tenant = world.a
    scan = Scan(live_server.url)
    slug = {"conference_slug": tenant.conference.slug}

    # Sign-in refused (anonymous).
    context = new_context(browser, live_server.url)
    page = context.new_page()
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Adresse électronique").fill(tenant.users[RoleName.MEMBRE].email)
    page.get_by_label("Mot de passe").fill("pas-le-bon")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator(".fr-alert--error, .fr-error-text").count()
    scan.check_current(page, "anonyme", "connexion refusée")
    context.close()

    # Required forms sent empty: the secretariat's new member and invitation, the bailleur's
    # new attribution line.
    for role, name in (
        (RoleName.SECRETARIAT, "member_add"),
        (RoleName.SECRETARIAT, "user_invite"),
        (RoleName.BAILLEUR, "attribution_create"),
    ):
        context = new_context(browser, live_server.url, tenant.users[role])
        page = context.new_page()
        page.goto(live_server.url + reverse(name, kwargs=slug))
        _submit_empty(page)
        assert page.locator(".fr-error-text, .fr-alert--error").count(), name
        scan.check_current(page, role, f"{name} envoyé vide")
        context.close()

    # The header's menu, a modal on a small screen.
    context = new_context(browser, live_server.url, tenant.users[RoleName.SECRETARIAT])
    page = context.new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + reverse("conference_home", kwargs=slug))
    page.get_by_role("button", name="Menu").click()
    page.locator("#menu-principal.fr-modal--opened").wait_for()
    scan.check_current(page, RoleName.SECRETARIAT, "menu ouvert")
    context.close()

    # The DSFR follows the system's theme (data-fr-scheme="system"): a few pages in the dark
    # one, where our own styles could lose their contrast.
    context = new_context(
        browser, live_server.url, tenant.users[RoleName.SECRETARIAT], color_scheme="dark"
    )
    page = context.new_page()
    for name in DARK_PAGES:
        scan.check(page, "secretariat (thème sombre)", name, reverse(name, kwargs=slug))
    assert page.locator("html[data-fr-theme=dark]").count()
    # axe does run inside these pages despite their CSP: an image without text alternative
    # and a button without a name, put in the last one, are found.
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', "
        '\'<img class="axe-probe"><button class="axe-probe"></button>\')'
    )
    probe = {(v.rule, v.impact) for v in axe_check(page, "sonde")}
    assert {("image-alt", "critical"), ("button-name", "critical")} <= probe
    context.close()

    print(f"\naxe : autres violations (pages) : {dict(scan.minor)}")
    assert sum(scan.pages.values()) == 5 + len(DARK_PAGES)
    assert not scan.violations, scan.report()
