"""The console's pages beyond the getting-started flow, over HTTP against a real server: recommenders, filters,
event trackers and the live event stream, batch inference and segment jobs, metric attributions, data jobs, schemas,
recipes, and the update and delete forms. Every change is made through the console's forms and checked with boto3."""

from __future__ import annotations

import html
import json
import re

import botocore.exceptions
import httpx
import pytest

from reelrank import synthetic
from tests.console.conftest import Deployed, VodGroup
from tests.console.support import crawl, location_arn, no_server_errors, signed_in, wait_final
from tests.support.flows import unique, wait_for
from tests.support.servers import ReelrankServer

ARN = "arn:aws:personalize:us-east-1:000000000000:"
NEW_PAGES = ["/console/group/recommenders?arn=x", "/console/group/filters?arn=x", "/console/group/trackers?arn=x",
             "/console/group/batch-inference?arn=x", "/console/group/batch-segments?arn=x",
             "/console/group/attribution?arn=x", "/console/group/data-jobs?arn=x", "/console/filter?arn=x",
             "/console/tracker?arn=x", "/console/batch-inference-job?arn=x", "/console/batch-segment-job?arn=x",
             "/console/attribution?arn=x", "/console/import-job?arn=x", "/console/export-job?arn=x",
             "/console/deletion-job?arn=x", "/console/solution-version?arn=x", "/console/schemas",
             "/console/schema?arn=x", "/console/recipes", "/console/recipe?arn=x", "/console/events/feed?arn=x"]


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def try_it(client: httpx.Client, **form: str) -> str:
    response = client.post("/console/try", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.parametrize("path", NEW_PAGES)
def test_new_pages_need_a_session(server: ReelrankServer, path: str) -> None:
    response = httpx.get(server.url + path)
    assert response.status_code == 303 and response.headers["location"].startswith("/console/signin")


@pytest.mark.parametrize("path", NEW_PAGES)
def test_unknown_resources_are_reported_not_raised(server: ReelrankServer, path: str) -> None:
    response = no_server_errors(signed_in(server).get(path))
    if "arn=x" in path and "/events/feed" not in path:
        assert response.status_code in (400, 404) and "Exception" in response.text


def test_every_page_linked_from_a_group_renders(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    pages = crawl(client, f"/console/group?arn={deployed.group_arn}")
    failed = {path: status for path, status in pages.items() if status != 200}
    assert not failed, failed
    kinds = {path.split("?")[0] for path in pages}
    for expected in ("/console/group/recommenders", "/console/group/filters", "/console/group/trackers",
                     "/console/group/batch-inference", "/console/group/batch-segments", "/console/group/attribution",
                     "/console/group/data-jobs", "/console/dataset", "/console/import-job", "/console/solution",
                     "/console/solution-version", "/console/campaign", "/console/schema", "/console/schemas",
                     "/console/recipes", "/console/recipe"):
        assert expected in kinds, expected
    timing = client.get("/console/group", params={"arn": deployed.group_arn}).headers["server-timing"]
    assert re.fullmatch(r"app;dur=\d+\.\d, cpu;dur=\d+\.\d", timing)


def test_a_bad_filter_expression_shows_the_apis_message_and_where(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    expression = 'EXCLUDE ItemID WHERE Items.GENRES IN ("Comedy") AND Items.YEAR <> 1990'
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        server.client().create_filter(name=unique("f"), datasetGroupArn=deployed.group_arn,
                                      filterExpression=expression)
    api_message = refused.value.response["Error"]["Message"]
    column = int(re.search(r"column (\d+)", api_message).group(1))  # type: ignore[union-attr]
    response = client.post("/console/filters", data={"datasetGroupArn": deployed.group_arn, "name": "typo",
                                                     "filterExpression": expression})
    assert response.status_code == 303 and "error=" in response.headers["location"]
    page = no_server_errors(client.get(response.headers["location"]))
    assert f"InvalidInputException: {api_message}" in html.unescape(page.text)
    caret = re.search(r'<div class="caret" id="error-position".*?<pre>(.*?)</pre>', page.text, re.DOTALL)
    assert caret is not None
    line, marker = html.unescape(re.sub(r"<[^>]+>", "", caret.group(1))).split("\n")
    assert line == expression and marker == " " * (column - 1) + "^"
    assert expression in html.unescape(page.text.split('name="filterExpression"')[1])  # kept in the form


def test_filters_are_created_listed_and_deleted(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    name = unique("no-watched")
    expression = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")'
    filter_arn = location_arn(client.post("/console/filters", data={
        "datasetGroupArn": deployed.group_arn, "name": name, "filterExpression": expression}), "filter")
    assert wait_final(client, filter_arn) == "ACTIVE"
    page = no_server_errors(client.get("/console/filter", params={"arn": filter_arn}))
    assert expression in html.unescape(page.text) and "Delete filter" in page.text
    listing = client.get("/console/group/filters", params={"arn": deployed.group_arn}).text
    assert name in listing
    # the try-it panel offers it, and applies it as GetRecommendations does
    campaign = client.get("/console/campaign", params={"arn": deployed.user_campaign}).text
    assert f'value="{filter_arn}"' in campaign
    assert "m" in try_it(client, kind="campaign", arn=deployed.user_campaign, mode="recommend", userId="u1",
                         filterArn=filter_arn)
    response = client.post("/console/delete", data={"kind": "filter", "arn": filter_arn,
                                                    "back": f"/console/group/filters?arn={deployed.group_arn}"})
    assert response.status_code == 303 and response.headers["location"].startswith("/console/group/filters")
    assert f">{name}</a>" not in client.get(response.headers["location"]).text
    names = [f["name"] for f in server.client().list_filters(datasetGroupArn=deployed.group_arn)["Filters"]]
    assert name not in names


def test_event_tracker_live_events_and_history(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    personalize = server.client()
    group = deployed.group_arn
    tracker_arn = location_arn(client.post("/console/trackers", data={"datasetGroupArn": group,
                                                                       "name": unique("tracker")}), "tracker")
    try:
        tracking_id = personalize.describe_event_tracker(eventTrackerArn=tracker_arn)["eventTracker"]["trackingId"]
        assert wait_final(client, tracker_arn) == "ACTIVE"
        page = no_server_errors(client.get("/console/tracker", params={"arn": tracker_arn}))
        assert f'id="tracking-id">{tracking_id}<' in page.text
        listing = client.get("/console/group/trackers", params={"arn": group}).text
        assert tracking_id in listing and 'id="send-event"' in listing and 'id="live-events"' in listing
        before = client.get("/console/events/feed", params={"arn": group})
        after = int(re.search(r'data-after="(\d+)"', before.text).group(1))  # type: ignore[union-attr]
        user = unique("viewer")
        response = client.post("/console/events", data={"trackingId": tracking_id, "userId": user, "itemId": "m7",
                                                         "eventType": "Watch",
                                                         "back": f"/console/tracker?arn={tracker_arn}"})
        assert response.status_code == 303 and "notice=" in response.headers["location"], response.headers
        feed = client.get("/console/events/feed", params={"arn": group, "after": str(after)})
        assert feed.status_code == 200 and "hx-trigger=\"every 1s\"" in feed.text
        fresh = re.findall(r'<tr class="fresh" data-event-id="\d+"><td>\d+</td><td>[^<]*</td><td><code>([^<]*)</code>',
                           feed.text)
        assert fresh == [user]
        # an event sent with PutEvents directly arrives the same way
        server.client("personalize-events").put_events(trackingId=tracking_id, userId=user, sessionId="s",
                                                       eventList=[{"eventType": "Watch", "itemId": "m8",
                                                                   "sentAt": 1_700_000_000}])
        feed = client.get("/console/events/feed", params={"arn": group, "after": str(after)}).text
        assert feed.count('class="fresh"') == 2
        # the try-it panel's history shows the live events first
        fragment = try_it(client, kind="campaign", arn=deployed.user_campaign, mode="recommend", userId=user)
        history = fragment.split("Recent history of")[1]
        assert history.count('<tr class="live">') == 2 and "<code>m8</code>" in history
    finally:
        response = client.post("/console/delete", data={"kind": "tracker", "arn": tracker_arn,
                                                        "back": f"/console/group/trackers?arn={group}"})
    assert response.status_code == 303
    assert 'id="create-tracker"' in client.get(response.headers["location"]).text


def test_try_it_explains_recommendations_and_finds_similar_items(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    fragment = try_it(client, kind="campaign", arn=deployed.user_campaign, mode="recommend", userId="u3",
                      numResults="10")
    rows = re.findall(r'<tr><td>\d+</td><td><code>(m\d+)</code></td><td>(.*?)</td>', fragment)
    assert len(rows) == 10
    reasons = [(item, re.search(r'because you \w+ <code>(m\d+)</code>', cell)) for item, cell in rows]
    explained = [(item, match.group(1)) for item, match in reasons if match]
    assert len(explained) >= 5 and all(item != because for item, because in explained)
    similar = try_it(client, kind="campaign", arn=deployed.user_campaign, mode="similar", itemId="m1")
    assert "Similar to <code>m1</code>" in similar and "item-item weights" in similar
    assert len(re.findall(r"<tr><td>\d+</td><td><code>m\d+</code>", similar)) == 10
    sims = try_it(client, kind="campaign", arn=deployed.sims_campaign, mode="similar", itemId="m1", numResults="5")
    assert "item-item weights" not in sims and len(re.findall(r"<tr><td>\d+</td><td><code>m\d+</code>", sims)) == 5
    unknown = try_it(client, kind="campaign", arn=deployed.user_campaign, mode="similar", itemId="no-such-item")
    assert "No recommendations." in unknown


def test_batch_inference_job_through_the_form(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    folder = server.import_root / unique("batch")
    folder.mkdir()
    source = folder / "users.json"
    source.write_text("".join(json.dumps({"userId": f"u{n}"}) + "\n" for n in range(1, 21)))
    page = client.get("/console/group/batch-inference", params={"arn": deployed.group_arn}).text
    assert deployed.user_version in page and deployed.affinity_version not in page  # segment recipes are not offered
    name = unique("batch")
    arn = location_arn(client.post("/console/batch-jobs", data={
        "kind": "inference", "jobName": name, "solutionVersionArn": deployed.user_version,
        "inputPath": source.as_uri(), "outputPath": (folder / "out").as_uri() + "/", "numResults": "5",
        "roleArn": "arn:aws:iam::000000000000:role/reelrank"}), "batch-inference-job")
    assert wait_final(client, arn) == "ACTIVE"
    detail = no_server_errors(client.get("/console/batch-inference-job", params={"arn": arn}))
    assert "20 processed, 0 failed" in detail.text and 'id="output-preview"' in detail.text
    assert 'id="rows-done">20<' in detail.text  # the job's row count (JobProgress rowsDone)
    preview = html.unescape(detail.text.split('id="output-preview"')[1])
    assert '"recommendedItems"' in preview and '"userId": "u1"' in preview.replace('"userId":"u1"', '"userId": "u1"')
    listing = client.get("/console/group/batch-inference", params={"arn": deployed.group_arn}).text
    assert name in listing
    described = server.client().describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]
    assert described["numResults"] == 5 and described["jobName"] == name


def test_batch_job_errors_are_the_apis(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    referer = f"{server.url}/console/group/batch-inference?arn={deployed.group_arn}"
    response = client.post("/console/batch-jobs", data={
        "kind": "inference", "jobName": unique("bad"), "solutionVersionArn": deployed.user_version,
        "inputPath": "file:///etc/passwd", "outputPath": "file:///etc/"}, headers={"referer": referer})
    assert response.status_code == 303 and "error=InvalidInputException" in response.headers["location"]
    page = client.get(response.headers["location"]).text
    assert "InvalidInputException" in page and "Create a batch inference job" in page
    wrong = client.post("/console/batch-jobs", data={
        "kind": "segment", "jobName": unique("bad"), "solutionVersionArn": deployed.user_version,
        "inputPath": (server.import_root / "x.json").as_uri(), "outputPath": (server.import_root / "o").as_uri() + "/"},
        headers={"referer": referer})
    assert "aws-item-affinity" in html.unescape(client.get(wrong.headers["location"]).text)


def test_batch_segment_job_through_the_form(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    folder = server.import_root / unique("segment")
    folder.mkdir()
    source = folder / "items.json"
    source.write_text("".join(json.dumps({"itemId": f"m{n}"}) + "\n" for n in (1, 2, 3)))
    page = client.get("/console/group/batch-segments", params={"arn": deployed.group_arn}).text
    assert deployed.affinity_version in page and deployed.user_version not in page
    arn = location_arn(client.post("/console/batch-jobs", data={
        "kind": "segment", "jobName": unique("segment"), "solutionVersionArn": deployed.affinity_version,
        "inputPath": source.as_uri(), "outputPath": (folder / "out").as_uri() + "/", "numResults": "10"}),
        "batch-segment-job")
    assert wait_final(client, arn) == "ACTIVE"
    detail = no_server_errors(client.get("/console/batch-segment-job", params={"arn": arn}))
    assert "recommendedUsers" in html.unescape(detail.text)
    assert arn in client.get("/console/group/batch-segments", params={"arn": deployed.group_arn}).text


def test_metric_attribution_created_updated_and_deleted(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    group = deployed.group_arn
    folder = server.import_root / unique("metrics")
    arn = location_arn(client.post("/console/attributions", data={
        "datasetGroupArn": group, "name": unique("attribution"), "metricName0": "watches", "eventType0": "Watch",
        "expression0": "SAMPLECOUNT()", "outputPath": folder.as_uri() + "/"}), "attribution")
    try:
        assert wait_final(client, arn) == "ACTIVE"
        page = no_server_errors(client.get("/console/attribution", params={"arn": arn}))
        assert "<td>watches</td>" in page.text and "SAMPLECOUNT()" in page.text
        assert 'id="figures"' in page.text
        response = client.post("/console/attributions/update", data={
            "arn": arn, "metricName0": "clicks", "eventType0": "Click", "expression0": "SAMPLECOUNT()"})
        assert response.status_code == 303 and "error" not in response.headers["location"]
        metrics = server.client().list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]
        assert sorted(metric["metricName"] for metric in metrics) == ["clicks", "watches"]
        client.post("/console/attributions/update", data={"arn": arn, "remove:watches": "on"})
        metrics = server.client().list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]
        assert [metric["metricName"] for metric in metrics] == ["clicks"]
        bad = client.post("/console/attributions/update", data={
            "arn": arn, "metricName0": "x", "eventType0": "Watch", "expression0": "AVG(Items.PRICE)"},
            headers={"referer": f"{server.url}/console/attribution?arn={arn}"})
        assert "error=InvalidInputException" in bad.headers["location"]
    finally:
        response = client.post("/console/delete", data={"kind": "attribution", "arn": arn,
                                                        "back": f"/console/group/attribution?arn={group}"})
    assert 'id="create-attribution"' in client.get(response.headers["location"]).text


def test_recommenders_through_the_forms(server: ReelrankServer, vod_group: VodGroup, deployed: Deployed) -> None:
    client = signed_in(server)
    custom = client.get("/console/group/recommenders", params={"arn": deployed.group_arn}).text
    assert "custom one" in custom and 'id="create-recommender"' not in custom
    page = no_server_errors(client.get("/console/group/recommenders", params={"arn": vod_group.group_arn}))
    assert "aws-vod-top-picks" in page.text and "aws-vod-more-like-x" in page.text
    name = unique("top-picks")
    arn = location_arn(client.post("/console/recommenders", data={
        "datasetGroupArn": vod_group.group_arn, "name": name,
        "recipeArn": "arn:aws:personalize:::recipe/aws-vod-top-picks",
        "enableMetadata": "on", "minRecommendationRequestsPerSecond": "2"}), "recommender")
    assert wait_final(client, arn, timeout=180) == "ACTIVE"
    described = server.client().describe_recommender(recommenderArn=arn)["recommender"]
    assert described["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 2
    detail = no_server_errors(client.get("/console/recommender", params={"arn": arn}))
    user = re.search(r'name="userId" value="([^"]+)"', detail.text).group(1)  # type: ignore[union-attr]
    assert 'id="stop-recommender"' in detail.text and 'class="tabs"' in detail.text
    fragment = try_it(client, kind="recommender", arn=arn, mode="recommend", userId=user, numResults="5")
    assert len(re.findall(r"<tr><td>\d+</td><td><code>m\d+</code>", fragment)) == 5 and "because you" in fragment
    response = client.post("/console/recommenders/update", data={"arn": arn, "minRecommendationRequestsPerSecond": "3"})
    assert response.status_code == 303
    config = server.client().describe_recommender(recommenderArn=arn)["recommender"]["recommenderConfig"]
    assert config["minRecommendationRequestsPerSecond"] == 3 and not config["enableMetadataWithRecommendations"]
    client.post("/console/recommenders/state", data={"arn": arn, "action": "stop"})
    assert server.client().describe_recommender(recommenderArn=arn)["recommender"]["status"] == "INACTIVE"
    stopped = client.get("/console/recommender", params={"arn": arn}).text
    assert 'id="start-recommender"' in stopped
    assert "ResourceNotFoundException" in try_it(client, kind="recommender", arn=arn, mode="recommend", userId=user)
    client.post("/console/recommenders/state", data={"arn": arn, "action": "start"})
    assert server.client().describe_recommender(recommenderArn=arn)["recommender"]["status"] == "ACTIVE"
    response = client.post("/console/delete", data={"kind": "recommender", "arn": arn,
                                                    "back": f"/console/group/recommenders?arn={vod_group.group_arn}"})
    assert f">{name}</a>" not in client.get(response.headers["location"]).text


def test_schemas_through_the_forms(server: ReelrankServer) -> None:
    client = signed_in(server)
    name = unique("schema")
    arn = location_arn(client.post("/console/schemas", data={"name": name, "domain": "",
                                                             "schema": synthetic.USERS_SCHEMA}), "schema")
    page = no_server_errors(client.get("/console/schema", params={"arn": arn}))
    assert '"USER_ID"' in html.unescape(page.text) and "No dataset uses this schema." in page.text
    assert name in client.get("/console/schemas").text
    bad = client.post("/console/schemas", data={"name": unique("bad"), "schema": "{not json"},
                      headers={"referer": f"{server.url}/console/schemas"})
    assert bad.status_code == 303 and "error=InvalidInputException" in bad.headers["location"]
    response = client.post("/console/delete", data={"kind": "schema", "arn": arn, "back": "/console/schemas"})
    assert response.status_code == 303 and f">{name}</a>" not in client.get("/console/schemas").text


def test_data_jobs_through_the_forms(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    page = no_server_errors(client.get("/console/group/data-jobs", params={"arn": deployed.group_arn}))
    assert "Import jobs" in page.text and page.text.count("/console/import-job?arn=") >= 2
    folder = server.import_root / unique("export")
    export_arn = location_arn(client.post("/console/exports", data={
        "datasetArn": deployed.items_arn, "jobName": unique("export"), "ingestionMode": "BULK",
        "outputPath": folder.as_uri() + "/"}), "export-job")
    assert wait_final(client, export_arn) == "ACTIVE"
    assert any(folder.rglob("*")), "nothing exported"
    no_server_errors(client.get("/console/export-job", params={"arn": export_arn}))
    users = server.import_root / unique("delete") / "users.csv"
    users.parent.mkdir()
    users.write_text("USER_ID\nnobody-at-all\n")
    deletion_arn = location_arn(client.post("/console/deletions", data={
        "datasetGroupArn": deployed.group_arn, "jobName": unique("delete"), "dataLocation": users.as_uri()}),
        "deletion-job")
    assert wait_final(client, deletion_arn) == "COMPLETED"
    detail = no_server_errors(client.get("/console/deletion-job", params={"arn": deletion_arn}))
    assert users.as_uri() in detail.text
    listing = client.get("/console/group/data-jobs", params={"arn": deployed.group_arn}).text
    assert export_arn in listing and deletion_arn in listing


def test_campaign_solution_and_dataset_forms(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    personalize = server.client()
    # a campaign of its own, updated and deleted through the forms
    campaign_arn = personalize.create_campaign(name=unique("c"), solutionVersionArn=deployed.user_version)[
        "campaignArn"]
    assert wait_final(client, campaign_arn) == "ACTIVE"
    page = client.get("/console/campaign", params={"arn": campaign_arn}).text
    assert f'<option value="{deployed.user_version}" selected>' in page
    client.post("/console/campaigns/update", data={"arn": campaign_arn, "solutionVersionArn": deployed.user_version,
                                                   "minProvisionedTPS": "3", "enableMetadata": "on"})
    campaign = wait_for(lambda: personalize.describe_campaign(campaignArn=campaign_arn)["campaign"])
    assert campaign["minProvisionedTPS"] == 3 and campaign["campaignConfig"]["enableMetadataWithRecommendations"]
    client.post("/console/delete", data={"kind": "campaign", "arn": campaign_arn, "back": "/console/"})
    assert campaign_arn not in [c["campaignArn"] for c in personalize.list_campaigns()["campaigns"]]
    # a solution: automatic training switched on and off, a version started and stopped, then deleted
    solution_arn = location_arn(client.post("/console/solutions", data={
        "datasetGroupArn": deployed.group_arn, "name": unique("s"),
        "recipeArn": "arn:aws:personalize:::recipe/aws-popularity-count"}), "solution")
    assert wait_final(client, solution_arn) == "ACTIVE"
    client.post("/console/solutions/update", data={"arn": solution_arn, "performAutoTraining": "on",
                                                   "schedulingExpression": "rate(3 days)"})
    solution = wait_for(lambda: personalize.describe_solution(solutionArn=solution_arn)["solution"])
    assert solution["performAutoTraining"]
    assert solution["solutionConfig"]["autoTrainingConfig"]["schedulingExpression"] == "rate(3 days)"
    client.post("/console/solutions/update", data={"arn": solution_arn})
    assert not wait_for(lambda: personalize.describe_solution(solutionArn=solution_arn)["solution"])[
        "performAutoTraining"]
    client.post("/console/versions", data={"solutionArn": solution_arn})
    version_arn = personalize.list_solution_versions(solutionArn=solution_arn)["solutionVersions"][0][
        "solutionVersionArn"]
    response = client.post("/console/versions/stop", data={"arn": version_arn},
                           headers={"referer": f"{server.url}/console/solution?arn={solution_arn}"})
    assert response.status_code == 303
    status = personalize.describe_solution_version(solutionVersionArn=version_arn)["solutionVersion"]["status"]
    assert status in ("CREATE STOPPING", "CREATE STOPPED") or ("error=ResourceInUseException" in
                                                                response.headers["location"] and status == "ACTIVE")
    version_page = no_server_errors(client.get("/console/solution-version", params={"arn": version_arn}))
    assert version_arn in version_page.text
    wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version_arn)["solutionVersion"])
    client.post("/console/delete", data={"kind": "solution", "arn": solution_arn, "back": "/console/"})
    solutions = personalize.list_solutions(datasetGroupArn=deployed.group_arn)["solutions"]
    assert solution_arn not in [s["solutionArn"] for s in solutions]
    # a dataset: its schema changed to an equal one, then a users dataset created and deleted
    dataset = personalize.describe_dataset(datasetArn=deployed.items_arn)["dataset"]
    response = client.post("/console/datasets/update", data={"arn": deployed.items_arn,
                                                              "schemaArn": dataset["schemaArn"]})
    assert response.status_code == 303 and "error" not in response.headers["location"]
    schema_arn = personalize.create_schema(name=unique("users"), schema=synthetic.USERS_SCHEMA)["schemaArn"]
    users_arn = personalize.create_dataset(name=unique("users"), schemaArn=schema_arn, datasetType="Users",
                                           datasetGroupArn=deployed.group_arn)["datasetArn"]
    assert wait_final(client, users_arn) == "ACTIVE"
    response = client.post("/console/delete", data={"kind": "dataset", "arn": users_arn,
                                                    "back": f"/console/group?arn={deployed.group_arn}"})
    assert response.status_code == 303 and "error" not in response.headers["location"]
    assert users_arn not in client.get(f"/console/group?arn={deployed.group_arn}").text


def test_recipe_pages(server: ReelrankServer) -> None:
    client = signed_in(server)
    listing = no_server_errors(client.get("/console/recipes"))
    assert "aws-sims" in listing.text and "aws-vod-top-picks" in listing.text
    page = no_server_errors(client.get("/console/recipe", params={"arn": "arn:aws:personalize:::recipe/aws-sims"}))
    assert 'id="algorithm"' in page.text and "item-knn" in page.text


def test_delete_refuses_unknown_kinds(server: ReelrankServer) -> None:
    response = signed_in(server).post("/console/delete", data={"kind": "universe", "arn": "x", "back": "/console/"},
                                      headers={"referer": f"{server.url}/console/"})
    assert response.status_code == 303 and "error=InvalidInputException" in response.headers["location"]


def test_records_put_one_by_one_show_at_once(server: ReelrankServer, vod_group: VodGroup) -> None:
    """The dataset pages reuse a data set read until it changes: an import, or a record put with PutItems."""
    client = signed_in(server)
    page = client.get("/console/dataset", params={"arn": vod_group.items_arn}).text
    rows = int(re.search(r'id="rows">([\d,]+)<', page).group(1).replace(",", ""))  # type: ignore[union-attr]
    item = unique("new-movie")
    server.client("personalize-events").put_items(datasetArn=vod_group.items_arn, items=[{
        "itemId": item, "properties": json.dumps({"title": "A Brand New Film", "genres": "Drama", "year": 2024,
                                                  "creationTimestamp": 1_700_000_000})}])
    page = client.get("/console/dataset", params={"arn": vod_group.items_arn}).text
    assert f'id="rows">{rows + 1:,}<' in page


def test_tags_are_added_and_removed_on_any_resource_page(server: ReelrankServer, deployed: Deployed) -> None:
    client = signed_in(server)
    personalize = server.client()
    for path, arn in ((f"/console/group?arn={deployed.group_arn}", deployed.group_arn),
                      (f"/console/campaign?arn={deployed.sims_campaign}", deployed.sims_campaign),
                      (f"/console/solution-version?arn={deployed.user_version}", deployed.user_version)):
        page = client.get(path).text
        assert 'id="add-tag"' in page
        response = client.post("/console/tags", data={"arn": arn, "action": "add", "key": "team", "value": "films",
                                                      "back": path})
        assert response.status_code == 303 and response.headers["location"].startswith(path.split("?")[0])
        assert personalize.list_tags_for_resource(resourceArn=arn)["tags"] == [{"tagKey": "team",
                                                                                 "tagValue": "films"}]
        assert "<code>team</code></td><td>films</td>" in client.get(path).text
        client.post("/console/tags", data={"arn": arn, "action": "remove", "key": "team", "back": path})
        assert personalize.list_tags_for_resource(resourceArn=arn)["tags"] == []
