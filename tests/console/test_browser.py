"""The console in a real browser (Debian's chromium driven by Playwright): the getting-started flow end to end.

Sign in; create a dataset group; create the interactions and items datasets and import generated CSVs while their
status updates live; train a solution version; deploy a campaign; get recommendations in the try-it panel; look at
a dataset's charts. Every page is saved to test-artifacts/console/*.png and no page may log a console error.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY
from tests.console.conftest import Deployed, VodGroup
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
    page.click("#try-item button[type=submit]")  # similar items from the model's own item-item weights
    page.wait_for_selector("#try-result h3:has-text('Similar to')")
    assert "item-item weights" in page.inner_text("#try-result")

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


def sign_in(browser: Browser) -> None:
    page = browser.page
    page.goto("/console/")
    if "/console/signin" in page.url:
        page.fill("input[name=access_key]", DEMO_ACCESS_KEY)
        page.fill("input[name=secret_key]", DEMO_SECRET_KEY)
        page.click("button[type=submit]")
        page.wait_for_selector("h1:has-text('Dataset groups')")


def tab(browser: Browser, label: str) -> None:
    browser.page.click(f"nav.tabs a:has-text('{label}')")
    browser.page.wait_for_selector("nav.tabs a.current")


def accept_next_dialog(browser: Browser) -> None:
    browser.page.once("dialog", lambda dialog: dialog.accept())


def test_every_section_in_the_browser(browser: Browser, server: ReelrankServer, deployed: Deployed,
                                      vod_group: VodGroup) -> None:
    """Filters (a typo shown where it is), an event tracker with events arriving live, the try-it panel's
    explanations and similar items, batch inference and segment jobs watched to the end, a metric attribution, data
    jobs, a recommender started and stopped, schemas, recipes and a solution version; a screenshot of each."""
    page = browser.page
    personalize = server.client()
    browser.errors.clear()
    sign_in(browser)
    tracker_arn = None
    try:
        page.goto(f"/console/group?arn={deployed.group_arn}")
        page.wait_for_selector("nav.tabs a.current:has-text('Overview')")
        browser.shot("10-group-tabs")

        # a filter: a typo is refused with the API's message and a caret under the column it names
        tab(browser, "Filters")
        typo = 'EXCLUDE ItemID WHERE Items.GENRES IN ("Comedy") AND Items.YEAR <> 1990'
        page.fill("#create-filter textarea[name=filterExpression]", typo)
        page.click("#create-filter button[type=submit]")
        page.wait_for_selector("#error-position")
        assert "InvalidInputException: Invalid filter expression at line 1, column" in page.inner_text(".flash.error")
        assert page.input_value("#create-filter textarea[name=filterExpression]") == typo
        browser.shot("11-filter-error-position")
        page.fill("#create-filter textarea[name=filterExpression]",
                  'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")')
        page.click("#create-filter button[type=submit]")
        browser.wait_active("h1")
        browser.shot("12-filter")

        # an event tracker; an event sent from the page and one sent by an application appear in the live stream
        tab(browser, "Event trackers")
        page.click("#create-tracker button[type=submit]")
        browser.wait_active("h1")
        tracker_arn = page.get_attribute("h1 .status", "data-arn")
        tracking_id = page.inner_text("#tracking-id")
        viewer = unique("viewer")
        page.fill("#send-event input[name=userId]", viewer)
        page.fill("#send-event input[name=itemId]", "m5")
        page.click("#send-event button[type=submit]")
        page.wait_for_selector(f"#live-events td:has-text('{viewer}')")
        server.client("personalize-events").put_events(trackingId=tracking_id, userId=viewer, sessionId="browser",
                                                       eventList=[{"eventType": "Watch", "itemId": "m6",
                                                                   "sentAt": time.time()}])
        page.wait_for_selector("#live-events tr.fresh td:has-text('m6')", timeout=10_000)  # no reload: htmx polls
        browser.shot("13-tracker-live-events")

        # the try-it panel: each recommendation with the history item behind it; the live events in the history
        page.goto(f"/console/campaign?arn={deployed.user_campaign}")
        page.fill("#try-user input[name=userId]", viewer)
        page.click("#try-user button[type=submit]")
        page.wait_for_selector("#try-result table.history tr.live")
        assert page.locator("#try-result table.history tr.live").count() == 2
        page.fill("#try-user input[name=userId]", "u3")
        page.click("#try-user button[type=submit]")
        page.wait_for_selector("#try-result .because")
        assert page.locator("#try-result .because").count() >= 5
        browser.shot("14-try-it-explained")
        page.click("#try-item button[type=submit]")
        page.wait_for_selector("#try-result h3:has-text('Similar to')")
        assert page.locator("#try-result table.recommendations tbody tr").count() == 10
        browser.shot("15-try-it-similar-items")

        # batch inference, watched to the end, its output previewed
        folder = server.import_root / unique("browser-batch")
        folder.mkdir()
        (folder / "users.json").write_text("".join(json.dumps({"userId": f"u{n}"}) + "\n" for n in range(1, 31)))
        page.goto(f"/console/group/batch-inference?arn={deployed.group_arn}")
        page.select_option("#create-batch select[name=solutionVersionArn]", deployed.user_version)
        page.fill("#create-batch input[name=inputPath]", (folder / "users.json").as_uri())
        page.fill("#create-batch input[name=outputPath]", (folder / "out").as_uri() + "/")
        page.click("#create-batch button[type=submit]")
        browser.wait_active("h1", LONG)
        page.wait_for_selector("#output-preview")
        assert "30 processed" in page.inner_text("#progress")
        browser.shot("16-batch-inference-job")
        tab(browser, "Batch inference")
        browser.shot("17-batch-inference")

        # a batch segment job
        (folder / "items.json").write_text("".join(json.dumps({"itemId": f"m{n}"}) + "\n" for n in range(1, 6)))
        tab(browser, "Batch segments")
        page.select_option("#create-batch select[name=solutionVersionArn]", deployed.affinity_version)
        page.fill("#create-batch input[name=inputPath]", (folder / "items.json").as_uri())
        page.fill("#create-batch input[name=outputPath]", (folder / "segments").as_uri() + "/")
        page.click("#create-batch button[type=submit]")
        browser.wait_active("h1", LONG)
        page.wait_for_selector("#output-preview")
        browser.shot("18-batch-segment-job")

        # a metric attribution, then deleted
        tab(browser, "Metric attribution")
        page.click("#create-attribution button[type=submit]")
        browser.wait_active("h1")
        assert "watch-count" in page.inner_text("#metrics")
        browser.shot("19-metric-attribution")
        accept_next_dialog(browser)
        page.click("#metrics form[data-confirm] button")
        page.wait_for_selector("#create-attribution")

        # data jobs: an export watched to the end
        tab(browser, "Data jobs")
        browser.shot("20-data-jobs")
        page.fill("#create-export input[name=outputPath]", (folder / "export").as_uri() + "/")
        page.click("#create-export button[type=submit]")
        browser.wait_active("h1")
        browser.shot("21-export-job")

        # a recommender of the VIDEO_ON_DEMAND group: created, tried, stopped and started
        page.goto(f"/console/group/recommenders?arn={vod_group.group_arn}")
        page.select_option("#create-recommender select[name=recipeArn]", label="aws-vod-top-picks")
        page.click("#create-recommender button[type=submit]")
        browser.wait_active("h1", LONG)
        page.click("#try-user button[type=submit]")
        page.wait_for_selector("#try-result table.recommendations tbody tr >> nth=9")
        browser.shot("22-recommender")
        page.click("#stop-recommender button")
        page.wait_for_selector("h1 .status[data-status=INACTIVE]")
        page.click("#start-recommender button")
        browser.wait_active("h1")
        tab(browser, "Recommenders")
        browser.shot("23-recommenders")

        # schemas, recipes, a solution version
        page.click("header nav.global a:has-text('Schemas')")
        browser.shot("24-schemas")
        page.click("#schemas tbody a >> nth=0")
        page.wait_for_selector("#schema-json")
        browser.shot("25-schema")
        page.click("header nav.global a:has-text('Recipes')")
        browser.shot("26-recipes")
        page.click("#recipes a:has-text('aws-user-personalization') >> nth=0")
        page.wait_for_selector("#algorithm")
        browser.shot("27-recipe")
        page.goto(f"/console/solution-version?arn={deployed.user_version}")
        page.wait_for_selector("table.metrics")
        browser.shot("28-solution-version")

        # the tracker deleted from its page (a group has one; other tests make their own)
        page.goto(f"/console/tracker?arn={tracker_arn}")
        accept_next_dialog(browser)
        page.click("form[data-confirm] button:has-text('Delete event tracker')")
        page.wait_for_selector("#create-tracker")
        tracker_arn = None
    finally:
        if tracker_arn:
            personalize.delete_event_tracker(eventTrackerArn=tracker_arn)
        for attribution in personalize.list_metric_attributions(datasetGroupArn=deployed.group_arn)[
                "metricAttributions"]:
            personalize.delete_metric_attribution(metricAttributionArn=attribution["metricAttributionArn"])
    assert browser.errors == []
