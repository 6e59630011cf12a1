"""Browser tests: real Chromium (Playwright) against the live server and the Stripe emulator.

Stripe.js cannot load without the internet, so each browser context serves
the project's stand-in (static_dev/js/stripe-standin.js) in place of
https://js.stripe.com/v3/: the page under test is the production checkout
page, unchanged. Chromium resolves no host name but loopback ones, so nothing
leaves the machine.

Skipped, with the reason, when Chromium or Playwright is missing; CI installs
Chromium and sets FAIL_ON_SKIP=1, which turns such a skip into a failure.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.e2e.helpers")

from tests.e2e.helpers import TEST_OUTPUT, new_context, wait_for_pending_webhooks  # noqa: E402

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Loopback only: any other host name fails to resolve (js.stripe.com is
    # answered by helpers.new_context before it reaches the network).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session; each test gets a fresh context."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need Playwright (pip install -r requirements-dev.txt)"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shop(live_server, emulator_webhooks):
    """The live shop with its books, paid through the emulator, receiving its webhooks."""
    from django.core.management import call_command

    call_command("load_demo_books", verbosity=0)
    return live_server


@pytest.fixture
def context(browser, shop):
    """A fresh browser context per test; afterwards, its payments' webhooks are let through."""
    context = new_context(browser, shop.url)
    yield context
    context.close()
    wait_for_pending_webhooks(context)


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.key_screens = []  # (name, png bytes): saved only if the test fails
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    folder = TEST_OUTPUT / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
    if report.when == "setup":
        shutil.rmtree(folder, ignore_errors=True)  # screens of an earlier failed run
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page")
        if page is not None and not page.is_closed():
            folder.mkdir(parents=True, exist_ok=True)
            for index, (name, png) in enumerate(page.key_screens, start=1):
                (folder / f"{index:02d}-{name}.png").write_bytes(png)
            try:
                page.screenshot(path=folder / "failure.png", full_page=True)
            except Exception as exc:  # the page may have crashed: keep the report
                (folder / "failure.txt").write_text(f"no screenshot: {exc}\n")
            report.sections.append(("screenshots", str(folder)))
    return report
