"""Playwright driving Debian's chromium (browser downloads are impossible here)."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get(
        "SCREENSHOT_DIR", Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
    )
)
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API runs an event loop in this thread while it is open;
    # closing it after each browser module lets later tests use asyncio.run (pyHanko does).
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium introuvable à {CHROMIUM} : lancez scripts/ensure-system-deps")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  const target = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 160) : String(e.target);
  console.error(`CSP ${e.violatedDirective} sample=${e.sample} source=${e.sourceFile}:${e.lineNumber} target=${target}`);
});
"""


class Screens:
    def __init__(self, page, folder: Path):
        self.page = page
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        # caret="initial": Playwright's default ("hide") injects a style into the page, which
        # our CSP rightly blocks and reports as a console error.
        self.page.screenshot(path=str(path), full_page=True, caret="initial")
        return path


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Every console error (a CSP violation, a missing file, a script error) fails the test.
    page.console_errors = []
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and page.console_errors.append(
                f"{msg.text} [{page.url} {msg.location.get('url')}:{msg.location.get('lineNumber')}]"
            )
        ),
    )
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    # Say which element and directive any CSP violation concerns.
    page.add_init_script(CSP_REPORTER)
    page.screens = Screens(page, SCREENSHOTS / request.node.name)
    yield page
    context.close()
