"""The console over plain HTTP against a real server: sign-in, every page, the forms, no 500s."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from reelrank import synthetic
from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY
from tests.console.conftest import Deployed
from tests.console.support import arns_in, no_server_errors, signed_in, write_catalogue
from tests.support.flows import unique
from tests.support.servers import ReelrankServer

PAGES = ["/console/", "/console/group?arn=x", "/console/dataset?arn=x", "/console/solution?arn=x",
         "/console/campaign?arn=x", "/console/recommender?arn=x", "/console/status?arn=x"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_sign_in(server: ReelrankServer, path: str) -> None:
    response = httpx.get(server.url + path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/signin?next=%2Fconsole%2F")


def test_forms_need_a_session(server: ReelrankServer) -> None:
    name = unique("refused")
    response = httpx.post(server.url + "/console/groups", data={"name": name})
    assert response.status_code == 303 and response.headers["location"].startswith("/console/signin")
    assert name not in signed_in(server).get("/console/").text


def test_htmx_requests_are_told_where_to_sign_in(server: ReelrankServer) -> None:
    response = httpx.get(server.url + "/console/status?arn=x", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/console/signin")


@pytest.mark.parametrize(("access_key", "secret_key"), [(DEMO_ACCESS_KEY, DEMO_SECRET_KEY + "x"),
                                                        ("AKIANOBODY", DEMO_SECRET_KEY), (DEMO_ACCESS_KEY, "")])
def test_wrong_keys_are_refused(server: ReelrankServer, access_key: str, secret_key: str) -> None:
    client = httpx.Client(base_url=server.url)
    response = client.post("/console/signin", data={"access_key": access_key, "secret_key": secret_key})
    assert response.status_code == 401
    assert "not right" in response.text and not client.cookies
    assert client.get("/console/").status_code == 303


def test_a_forged_cookie_is_refused(server: ReelrankServer) -> None:
    forged = f"{DEMO_ACCESS_KEY}.{int(time.time()) + 3600}.{'ab' * 32}"
    response = httpx.get(server.url + "/console/", cookies={"reelrank_console": forged})
    assert response.status_code == 303


def test_sign_in_returns_to_the_page_asked_for_and_sign_out_ends_the_session(server: ReelrankServer) -> None:
    client = httpx.Client(base_url=server.url)
    response = client.post("/console/signin", data={"access_key": DEMO_ACCESS_KEY, "secret_key": DEMO_SECRET_KEY,
                                                     "next": "/console/group?arn=x"})
    assert response.status_code == 303 and response.headers["location"] == "/console/group?arn=x"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
    assert client.get("/console/").status_code == 200
    assert client.post("/console/signout").status_code == 303
    assert client.get("/console/").status_code == 303


def test_sign_in_never_redirects_off_the_console(server: ReelrankServer) -> None:
    for target in ("https://evil.example/", "//evil.example/console", "/health"):
        response = httpx.post(server.url + "/console/signin", data={
            "access_key": DEMO_ACCESS_KEY, "secret_key": DEMO_SECRET_KEY, "next": target})
        assert response.headers["location"] == "/console/"


def test_static_assets_are_served(server: ReelrankServer) -> None:
    for name, marker in (("htmx.min.js", "htmx"), ("chart.umd.min.js", "Chart.js v4"), ("console.js", "Chart"),
                         ("console.css", "--accent"), ("NOTICE", "0BSD")):
        response = httpx.get(f"{server.url}/console/static/{name}")
        assert response.status_code == 200 and marker in response.text


def test_service_errors_are_shown_not_raised(server: ReelrankServer) -> None:
    client = signed_in(server)
    response = client.post("/console/groups", data={"name": "no spaces allowed!"},
                           headers={"referer": f"{server.url}/console/"})
    assert response.status_code == 303 and "error=InvalidInputException" in response.headers["location"]
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "InvalidInputException" in page.text
    missing = client.get("/console/group?arn=arn:aws:personalize:us-east-1:000000000000:dataset-group/none")
    assert missing.status_code == 404 and "ResourceNotFoundException" in missing.text
    for path in PAGES[1:]:
        no_server_errors(client.get(path))
    status = client.get("/console/status?arn=nothing", headers={"HX-Request": "true"})
    assert status.status_code == 200 and "DELETED" in status.text


def test_a_group_dataset_and_import_through_the_forms(server: ReelrankServer, tmp_path: Path) -> None:
    client = signed_in(server)
    name = unique("console")
    response = client.post("/console/groups", data={"name": name, "domain": ""})
    assert response.status_code == 303
    group_arn = arns_in(response.headers["location"].replace("%2F", "/"), "group")[0]
    _wait_active(client, group_arn)
    page = no_server_errors(client.get("/console/group", params={"arn": group_arn}))
    assert name in page.text and "Create a dataset" in page.text
    response = client.post("/console/datasets", data={
        "datasetGroupArn": group_arn, "datasetType": "Interactions", "name": "interactions", "schemaArn": "",
        "schemaName": unique("schema"), "schema": synthetic.INTERACTIONS_SCHEMA})
    assert response.status_code == 303 and "/console/dataset?arn=" in response.headers["location"], response.headers
    dataset_arn = arns_in(response.headers["location"].replace("%2F", "/"), "dataset")[0]
    _wait_active(client, dataset_arn)
    paths = write_catalogue(server.import_root / unique("forms"), seed=4)
    response = client.post("/console/imports", data={"datasetArn": dataset_arn, "jobName": unique("import"),
                                                     "dataLocation": paths["INTERACTIONS"].as_uri(),
                                                     "importMode": "FULL"})
    assert response.status_code == 303 and "error" not in response.headers["location"]
    page = client.get("/console/dataset", params={"arn": dataset_arn})
    job_arn = re.findall(r'data-arn="([^"]*dataset-import-job[^"]*)"', page.text)[0]
    _wait_active(client, job_arn)
    page = no_server_errors(client.get("/console/dataset", params={"arn": dataset_arn}))
    assert 'id="rows">5,000<' in page.text and "long_tail" in page.text
    bad = client.post("/console/imports", data={"datasetArn": dataset_arn, "jobName": unique("import"),
                                                "dataLocation": "file:///etc/passwd"},
                      headers={"referer": f"{server.url}/console/dataset?arn={dataset_arn}"})
    assert bad.status_code == 303 and "error=" in bad.headers["location"]


def _wait_active(client: httpx.Client, arn: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/console/status", params={"arn": arn}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        if "HX-Refresh" in response.headers:
            assert 'data-status="ACTIVE"' in response.text, response.text
            return
        time.sleep(0.2)
    raise AssertionError(f"{arn} did not become ACTIVE")


def test_group_page_lists_everything(server: ReelrankServer, deployed: Deployed) -> None:
    page = no_server_errors(signed_in(server).get("/console/group", params={"arn": deployed.group_arn}))
    assert page.status_code == 200
    assert set(arns_in(page.text, "dataset")) == {deployed.interactions_arn, deployed.items_arn}
    assert deployed.solution_arn in arns_in(page.text, "solution")
    assert {deployed.user_campaign, deployed.sims_campaign} <= set(arns_in(page.text, "campaign"))
    assert page.text.count('data-status="ACTIVE"') >= 7


def test_dataset_pages_have_figures(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    interactions = no_server_errors(client.get("/console/dataset", params={"arn": deployed.interactions_arn}))
    assert 'id="rows">5,000<' in interactions.text
    for chart in ("over_time", "long_tail", "event_types"):
        assert f'data-chart="{chart}"' in interactions.text
    items = no_server_errors(client.get("/console/dataset", params={"arn": deployed.items_arn}))
    assert 'id="rows">150<' in items.text and 'data-chart="field:GENRES"' in items.text


def test_solution_page_compares_with_the_baseline(server: ReelrankServer, deployed: Deployed) -> None:
    page = no_server_errors(signed_in(server).get("/console/solution", params={"arn": deployed.solution_arn}))
    assert "normalized_discounted_cumulative_gain_at_10" in page.text and "most popular" in page.text
    assert "baseline_popularity_" not in page.text.split('id="chart-data"')[0]
    assert re.search(r'<td class="num">0\.\d{4}</td>', page.text)


def test_try_it_recommends_with_titles_and_history(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    page = no_server_errors(client.get("/console/campaign", params={"arn": deployed.user_campaign}))
    user = re.findall(r'name="userId" value="([^"]+)"', page.text)[0]
    fragment = client.post("/console/try", data={"kind": "campaign", "arn": deployed.user_campaign, "userId": user,
                                                 "numResults": "7"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    rows = re.findall(r"<tr><td>\d+</td><td><code>(m\d+)</code></td><td>([^<]+)", fragment.text)
    assert len(rows) == 7 and all(title.strip() for _, title in rows)
    assert f"Recent history of <code>{user}</code>" in fragment.text and "No interactions" not in fragment.text
    similar = client.post("/console/try", data={"kind": "campaign", "arn": deployed.sims_campaign, "itemId": "m1"},
                          headers={"HX-Request": "true"})
    assert "Similar to <code>m1</code>" in similar.text and similar.text.count("<code>m") >= 10
    wrong = client.post("/console/try", data={"kind": "campaign", "arn": deployed.sims_campaign, "userId": "u1"},
                        headers={"HX-Request": "true"})
    assert wrong.status_code == 200 and "InvalidInputException" in wrong.text


def test_without_auth_no_sign_in_is_needed(tmp_path: Path) -> None:
    (tmp_path / "imports").mkdir()
    running = ReelrankServer(tmp_path / "data", tmp_path / "imports", ["--no-auth"]).start()
    try:
        page = httpx.get(running.url + "/console/")
        assert page.status_code == 200 and "Dataset groups" in page.text and "Sign out" not in page.text
        created = httpx.post(running.url + "/console/groups", data={"name": "open"})
        assert created.status_code == 303 and "error" not in created.headers["location"]
    finally:
        running.stop()
