"""The console in a real browser (Debian's chromium driven by Playwright): the getting-started flow end to end.

Sign in; create a dataset group; create the interactions and items datasets and import generated CSVs while their
status updates live; train a solution version; deploy a campaign; get recommendations in the try-it panel; look at
a dataset's charts. Every page is saved to test-artifacts/console/*.png and no page may log a console error.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY
from tests.console.support import ARTIFACTS, write_catalogue
from tests.support.flows import unique
from tests.support.servers import ReelrankServer

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISSING = ("playwright is not installed (pip install playwright)" if importlib.util.find_spec("playwright") is None
           else None if CHROMIUM.exists() else f"{CHROMIUM} is missing (apt-get install -y chromium)")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"browser tests skipped: {MISSING}")
ACTIVE = '[data-status="ACTIVE"]'
LONG = 180_000


class Browser:
    """One page of a headless chromium, collecting console errors and page errors as it goes."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        self.polls = 0
        page.on("console", lambda message: self.errors.append(f"console: {message.text}")
                if message.type == "error" else None)
        page.on("request", lambda request: self._count_poll(request.url))
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("response", lambda response: self.errors.append(f"HTTP {response.status}: {response.url}")
                if response.status >= 500 else None)

    def _count_poll(self, url: str) -> None:
        self.polls += "/console/status?" in url

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def wait_active(self, selector: str, timeout: int = 60_000) -> None:
        """Wait until the status badge under `selector` says ACTIVE (htmx polls it and reloads the page)."""
        self.page.wait_for_selector(f"{selector} .status{ACTIVE}", timeout=timeout)


@pytest.fixture(scope="module")
def browser(server: ReelrankServer) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        context = chromium.new_context(viewport={"width": 1360, "height": 900}, base_url=server.url)
        context.set_default_timeout(30_000)
        yield Browser(context.new_page(), server.url)
        context.close()
        chromium.close()


def test_getting_started_in_the_browser(browser: Browser, server: ReelrankServer) -> None:
    page = browser.page
    paths = write_catalogue(server.import_root / unique("browser"), seed=21)

    # sign in: a wrong secret is refused, the right one lands on the dataset groups
    page.goto("/console/")
    assert "/console/signin" in page.url
    page.fill("input[name=access_key]", DEMO_ACCESS_KEY)
    page.fill("input[name=secret_key]", "wrong")
    page.click("button[type=submit]")
    page.wait_for_selector("text=is not right")
    browser.shot("01-signin-refused")
    assert [error for error in browser.errors if "401" not in error] == []  # the refusal itself is a 401
    browser.errors.clear()
    assert page.input_value("input[name=access_key]") == DEMO_ACCESS_KEY
    page.fill("input[name=secret_key]", DEMO_SECRET_KEY)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Dataset groups')")

    # a dataset group, ACTIVE by itself (the badge polls every second)
    name = unique("movies")
    page.fill("#create-group input[name=name]", name)
    browser.shot("02-groups")
    page.click("#create-group button[type=submit]")
    browser.wait_active("h1")
    assert page.inner_text("h1").startswith(name)

    # the interactions dataset with a new schema, then an import watched live
    page.click("#create-dataset button[type=submit]")
    browser.wait_active("h1")
    assert "INTERACTIONS" in page.inner_text("h1")
    page.fill("#start-import input[name=dataLocation]", paths["INTERACTIONS"].as_uri())
    page.click("#start-import button[type=submit]")
    browser.wait_active("#imports", LONG)
    page.wait_for_selector("canvas[data-chart=long_tail][data-rendered]")
    assert page.locator("canvas[data-rendered]").count() == 3
    assert page.inner_text("#rows") == "5,000"
    browser.shot("03-dataset-interactions")
    dataset_url = page.url

    # the items dataset: titles and genres for the try-it panel
    page.click("nav a >> nth=1")
    page.select_option("#create-dataset select[name=datasetType]", "Items")
    assert '"ITEM_ID"' in page.input_value("#create-dataset textarea[name=schema]")
    page.click("#create-dataset button[type=submit]")
    browser.wait_active("h1")
    page.fill("#start-import input[name=dataLocation]", paths["ITEMS"].as_uri())
    page.click("#start-import button[type=submit]")
    browser.wait_active("#imports", LONG)
    page.wait_for_selector("canvas[data-chart='field:GENRES'][data-rendered]")
    browser.shot("04-dataset-items")

    # a solution (recipe picked in a select), a version trained with live progress, compared with the baseline
    page.click("nav a >> nth=1")
    browser.shot("05-group")
    page.select_option("#create-solution select[name=recipeArn]", label="aws-user-personalization")
    page.click("#create-solution button[type=submit]")
    browser.wait_active("h1")
    page.click("#train button[type=submit]")
    browser.wait_active("#versions", LONG)
    page.wait_for_selector("#metrics table.metrics")
    page.wait_for_selector("canvas[data-chart=metrics][data-rendered]")
    assert "normalized_discounted_cumulative_gain_at_10" in page.inner_text("#metrics")
    browser.shot("06-solution")

    # a campaign, then recommendations with titles beside the user's history
    page.click("#create-campaign button[type=submit]")
    browser.wait_active("h1", LONG)
    page.click("#try-user button[type=submit]")
    page.wait_for_selector("#try-result table.recommendations tbody tr >> nth=9")
    rows = page.locator("#try-result table.recommendations tbody tr")
    assert rows.count() == 10
    assert all(rows.nth(i).locator("td").nth(2).inner_text().strip() for i in range(10)), "titles missing"
    assert page.locator("#try-result table.history tbody tr").count() >= 1
    browser.shot("07-campaign-try-it")
    page.click("#try-item button[type=submit]")
    page.wait_for_selector("#try-result .flash.error")  # a user-personalization campaign needs a user id
    assert "userId" in page.inner_text("#try-result")

    # the group page lists all of it; the interactions charts once more
    page.click("nav a >> nth=1")
    assert page.locator(f"#campaigns .status{ACTIVE}").count() == 1
    assert page.locator(f"#datasets .status{ACTIVE}").count() == 2
    browser.shot("08-group-complete")
    page.goto(dataset_url)
    page.wait_for_selector("canvas[data-chart=over_time][data-rendered]")
    browser.shot("09-dataset-charts")

    page.click(".signout button")
    page.wait_for_selector("h1:has-text('Sign in')")
    assert browser.errors == []
    assert browser.polls >= 1, "no status was polled live"


def test_artifacts_folder_is_ignored_by_git() -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    import subprocess

    root = ARTIFACTS.parents[1]
    result = subprocess.run(["git", "check-ignore", "-q", str(ARTIFACTS / "x.png")], cwd=root, check=False)
    assert result.returncode == 0
