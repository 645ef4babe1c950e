"""Running axe-core (vendored: tests/browser/vendor/axe-core, see scripts/vendor-axe) in a
Playwright page, and the session cookie that signs a browser context in.

axe is injected with `BrowserContext.add_init_script`: the script goes through the DevTools
protocol (Page.addScriptToEvaluateOnNewDocument), which the page's Content-Security-Policy
does not govern. The CSP itself stays on (no `bypass_csp`): the pages are checked as people
get them, with inline styles and scripts blocked.
"""

import contextlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")

RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
    html: v.nodes.map((n) => n.html.slice(0, 200)),
  }));
}
"""


@dataclass(frozen=True)
class Violation:
    page: str  # who and where: "<role> <path>"
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    html: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return self.impact in BLOCKING

    def __str__(self) -> str:
        targets = "\n      ".join(
            f"{t}  {h}" for t, h in zip(self.targets[:6], self.html[:6], strict=True)
        )
        more = f"\n      … et {len(self.targets) - 6} autres" if len(self.targets) > 6 else ""
        return f"{self.page}\n  [{self.impact}] {self.rule}: {self.help}\n      {targets}{more}"


def new_context(browser, base_url: str, user=None, **options):
    """A browser context with axe preloaded in every document; signed in as `user` (a session
    made by Django's test client, its cookie set in the context) unless None."""
    options = {"locale": "fr-FR", "viewport": {"width": 1280, "height": 900}} | options
    context = browser.new_context(**options)
    context.add_init_script(path=str(AXE))
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": base_url,
                }
            ]
        )
    return context


# htmx parts that load themselves once the page is there (polling blocks do not count: they
# are rendered in the page and refreshed in place).
LAZY_HTMX = "[hx-trigger*='load'], [hx-trigger*='revealed'], [hx-trigger*='intersect']"
SETTLED = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def settle(page) -> None:
    """Wait for the page's scripts and styles (DSFR sets its components up on load), and for
    the htmx parts it loads by itself (networkidle, bounded: polling pages never go idle)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_load_state("load")
    if page.locator(LAZY_HTMX).count():
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_load_state("networkidle", timeout=5_000)
    page.evaluate(SETTLED)


def axe_check(page, label: str) -> list[Violation]:
    """Run axe on the page as it is now; its violations (`Violation.blocking`: serious or
    critical)."""
    found = page.evaluate(RUN_AXE, WCAG_TAGS)
    return [
        Violation(
            page=label,
            rule=v["id"],
            impact=v["impact"],
            help=v["help"],
            targets=tuple(v["targets"]),
            html=tuple(v["html"]),
        )
        for v in found
    ]


def visit(page, url: str) -> str | None:
    """Open `url`; None when it is not a full HTML page (a file download, an htmx fragment
    already checked inside its page), otherwise the final path (after redirects)."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        response = page.goto(url, wait_until="domcontentloaded")
    except PlaywrightError as error:
        if "Download is starting" in str(error):
            return None
        raise
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return None
    if not response.text().lstrip().lower().startswith("<!doctype html"):
        return None
    settle(page)
    parts = urlsplit(page.url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
