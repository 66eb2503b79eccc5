"""Campaigns, the runtime and PutEvents through boto3: recommendations that react to events without retraining."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError

from reelrank import synthetic
from tests.conftest import SERVER_QUOTAS
from tests.support.flows import RECIPE, interactions_group, run_import, trained_version, unique, wait_for
from tests.support.servers import ReelrankServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReelrankServer]:
    """A server of this module's own: the durability test kills it."""
    root = tmp_path_factory.mktemp("serving")
    (root / "imports").mkdir()
    running = ReelrankServer(root / "data", root / "imports", SERVER_QUOTAS).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def catalogue() -> synthetic.Catalogue:
    return synthetic.generate(n_users=400, n_items=250, n_interactions=12_000, seed=5)


@pytest.fixture(scope="module")
def group(server: ReelrankServer, catalogue: synthetic.Catalogue) -> str:
    personalize = server.client()
    path = server.import_root / "interactions.csv"
    synthetic.write_csv(catalogue.interactions, path)
    group_arn, dataset_arn = interactions_group(personalize)
    assert run_import(personalize, dataset_arn, path.as_uri())["status"] == "ACTIVE"
    return group_arn


def deploy(server: ReelrankServer, group_arn: str, recipe: str, **campaign: Any) -> tuple[str, str]:
    personalize = server.client()
    version_arn = trained_version(personalize, group_arn, recipe)
    campaign_arn = personalize.create_campaign(name=unique("c"), solutionVersionArn=version_arn,
                                               **campaign)["campaignArn"]
    assert wait_for(lambda: personalize.describe_campaign(campaignArn=campaign_arn)["campaign"])["status"] == "ACTIVE"
    return campaign_arn, version_arn


@pytest.fixture(scope="module")
def user_campaign(server: ReelrankServer, group: str) -> str:
    config = {"itemExplorationConfig": {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}}
    return deploy(server, group, "aws-user-personalization", minProvisionedTPS=1, campaignConfig=config)[0]


@pytest.fixture(scope="module")
def tracking_id(server: ReelrankServer, group: str) -> str:
    personalize = server.client()
    tracker = personalize.create_event_tracker(name=unique("tracker"), datasetGroupArn=group)
    wait_for(lambda: personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])["eventTracker"])
    return str(tracker["trackingId"])


def recommend(server: ReelrankServer, campaign_arn: str, **params: Any) -> list[dict[str, Any]]:
    runtime = server.client("personalize-runtime")
    response = runtime.get_recommendations(campaignArn=campaign_arn, **params)
    assert response["recommendationId"].startswith("RID-")
    return list(response["itemList"])


def test_recommendations_for_a_known_user_have_scores(server: ReelrankServer, user_campaign: str) -> None:
    items = recommend(server, user_campaign, userId="u1")
    assert len(items) == 25
    assert all(0.0 <= item["score"] <= 1.0 for item in items)
    assert [item["score"] for item in items] == sorted((item["score"] for item in items), reverse=True)
    assert len(recommend(server, user_campaign, userId="u1", numResults=7)) == 7


def test_an_unknown_user_gets_popular_items(server: ReelrankServer, user_campaign: str) -> None:
    items = recommend(server, user_campaign, userId="nobody-at-all")
    assert len(items) == 25 and all("score" not in item for item in items)


def test_events_change_the_next_recommendations(server: ReelrankServer, user_campaign: str, tracking_id: str,
                                                catalogue: synthetic.Catalogue) -> None:
    user = "u7"
    before = [item["itemId"] for item in recommend(server, user_campaign, userId=user)]
    clicked = [item for item in catalogue.items.column("ITEM_ID").to_pylist() if item not in before][:3]
    events = server.client("personalize-events")
    events.put_events(trackingId=tracking_id, userId=user, sessionId="session-7", eventList=[
        {"eventType": "Watch", "itemId": item, "sentAt": time.time(), "eventId": unique("e")} for item in clicked])
    after = [item["itemId"] for item in recommend(server, user_campaign, userId=user)]
    assert after != before


def test_a_session_id_serves_as_a_user_id(server: ReelrankServer, user_campaign: str, tracking_id: str,
                                          catalogue: synthetic.Catalogue) -> None:
    anonymous = recommend(server, user_campaign, userId="session-only")
    events = server.client("personalize-events")
    item = catalogue.interactions.column("ITEM_ID")[0].as_py()
    events.put_events(trackingId=tracking_id, sessionId="session-only",
                      eventList=[{"eventType": "Watch", "itemId": item, "sentAt": time.time()}])
    assert recommend(server, user_campaign, userId="session-only") != anonymous


def test_retried_events_are_stored_once(server: ReelrankServer, tracking_id: str) -> None:
    events = server.client("personalize-events")
    event = {"eventType": "Watch", "itemId": "m1", "sentAt": 1_700_000_000, "eventId": "retried-event"}
    for _ in range(3):
        events.put_events(trackingId=tracking_id, userId="u2", sessionId="s2", eventList=[event])
    plain = {"eventType": "Click", "itemId": "m2", "sentAt": 1_700_000_001}
    for _ in range(2):
        events.put_events(trackingId=tracking_id, userId="u2", sessionId="s2", eventList=[plain])
    with sqlite3.connect(server.data_dir / "metadata.db") as db:
        counts = db.execute("SELECT item_id, count(*) FROM events WHERE user_id = 'u2' GROUP BY item_id").fetchall()
    assert dict(counts) == {"m1": 1, "m2": 1}


def test_put_events_validation(server: ReelrankServer, tracking_id: str) -> None:
    events = server.client("personalize-events")
    with pytest.raises(ClientError) as caught:
        events.put_events(trackingId=tracking_id, sessionId="s", eventList=[
            {"eventType": "Watch", "itemId": "m1", "sentAt": 1, "properties": '{"userId": "x"}'}])
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    assert "reserved keys ['userId']" in caught.value.response["Error"]["Message"]
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.put_events(trackingId="no-such-tracker", sessionId="s",
                          eventList=[{"eventType": "Watch", "sentAt": 1}])


def test_acknowledged_events_survive_sigkill(server: ReelrankServer, user_campaign: str, tracking_id: str,
                                             catalogue: synthetic.Catalogue) -> None:
    user = "u11"
    items = catalogue.items.column("ITEM_ID").to_pylist()[-5:]
    server.client("personalize-events").put_events(trackingId=tracking_id, userId=user, sessionId="s11", eventList=[
        {"eventType": "Watch", "itemId": item, "sentAt": time.time()} for item in items])
    before = [item["itemId"] for item in recommend(server, user_campaign, userId=user)]
    server.kill()
    server.start()
    assert [item["itemId"] for item in recommend(server, user_campaign, userId=user)] == before


@pytest.fixture(scope="module")
def device_campaign(server: ReelrankServer, catalogue: synthetic.Catalogue) -> tuple[str, set[str]]:
    """A campaign trained on interactions with a contextual DEVICE field: half the titles are mostly watched on tv
    (nine events in ten), the others on mobile. Returns the campaign and the tv titles."""
    table = catalogue.interactions
    titles = table.column("ITEM_ID").to_pylist()
    on_tv = set(sorted(set(titles))[::2])
    flipped = np.random.default_rng(7).random(table.num_rows) < 0.1
    devices = ["tv" if (title in on_tv) != flip else "mobile" for title, flip in zip(titles, flipped, strict=True)]
    path = server.import_root / "interactions-with-devices.csv"
    synthetic.write_csv(table.append_column("DEVICE", pa.array(devices)), path)
    schema = json.loads(synthetic.INTERACTIONS_SCHEMA)
    schema["fields"].append({"name": "DEVICE", "type": "string", "categorical": True})
    personalize = server.client()
    group_arn, dataset_arn = interactions_group(personalize, schema_text=json.dumps(schema))
    assert run_import(personalize, dataset_arn, path.as_uri())["status"] == "ACTIVE"
    config = {"itemExplorationConfig": {"explorationWeight": "0"}}
    return deploy(server, group_arn, "aws-user-personalization", campaignConfig=config)[0], on_tv


def test_context_moves_recommendations_towards_what_is_chosen_in_it(
        server: ReelrankServer, device_campaign: tuple[str, set[str]], catalogue: synthetic.Catalogue) -> None:
    campaign_arn, on_tv = device_campaign
    runtime = server.client("personalize-runtime")

    def recommended(user: str, **context: str) -> list[str]:
        extra = {"context": context} if context else {}
        answer = runtime.get_recommendations(campaignArn=campaign_arn, userId=user, numResults=20, **extra)
        return [item["itemId"] for item in answer["itemList"]]

    def tv_share(items: list[str]) -> float:
        return sum(item in on_tv for item in items) / len(items)

    users = sorted(set(catalogue.interactions.column("USER_ID").to_pylist()))[:15]
    on_tv_lists = [recommended(user, DEVICE="tv") for user in users]
    on_mobile_lists = [recommended(user, DEVICE="mobile") for user in users]
    assert np.mean([tv_share(items) for items in on_tv_lists]) > 0.7
    assert np.mean([tv_share(items) for items in on_mobile_lists]) < 0.3
    assert recommended(users[0], DEVICE="fridge") == recommended(users[0])  # a value never seen changes nothing
    assert tv_share(recommended("someone-new", DEVICE="tv")) > 0.75  # popular titles, as watched on tv
    assert tv_share(recommended("someone-new", DEVICE="mobile")) < 0.25


def test_related_items_campaigns_answer_by_item(server: ReelrankServer, group: str,
                                                catalogue: synthetic.Catalogue) -> None:
    campaign_arn, _ = deploy(server, group, "aws-sims")
    anchor = catalogue.interactions.column("ITEM_ID")[0].as_py()
    items = recommend(server, campaign_arn, itemId=anchor, numResults=10)
    assert len(items) == 10 and all("score" not in item for item in items)
    assert anchor not in {item["itemId"] for item in items}
    assert len(recommend(server, campaign_arn, itemId="not-a-movie")) == 25
    with pytest.raises(ClientError) as caught:
        recommend(server, campaign_arn, userId="u1")
    assert caught.value.response["Error"]["Message"] == "itemId is required for this campaign."


def test_personalized_ranking_reorders_the_input(server: ReelrankServer, group: str,
                                                 catalogue: synthetic.Catalogue) -> None:
    campaign_arn, _ = deploy(server, group, "aws-personalized-ranking")
    candidates = [*catalogue.items.column("ITEM_ID").to_pylist()[:20], "never-seen"]
    response = server.client("personalize-runtime").get_personalized_ranking(
        campaignArn=campaign_arn, userId="u3", inputList=candidates)
    ranked = response["personalizedRanking"]
    assert sorted(item["itemId"] for item in ranked) == sorted(candidates)
    assert ranked[-1] == {"itemId": "never-seen"}
    assert sum(item.get("score", 0.0) for item in ranked) == pytest.approx(1.0, abs=1e-4)


def test_update_campaign_swaps_the_model(server: ReelrankServer, group: str) -> None:
    campaign_arn, first = deploy(server, group, "aws-popularity-count")
    _, second = deploy(server, group, "aws-sims")
    personalize = server.client()
    personalize.update_campaign(campaignArn=campaign_arn, solutionVersionArn=second)
    campaign = personalize.describe_campaign(campaignArn=campaign_arn)["campaign"]
    assert campaign["solutionVersionArn"] == second != first
    assert campaign["latestCampaignUpdate"]["status"] == "ACTIVE"
    with pytest.raises(ClientError):
        recommend(server, campaign_arn, userId="u1")  # now a related-items model: itemId required


def test_unknown_campaigns_are_not_found(server: ReelrankServer) -> None:
    runtime = server.client("personalize-runtime")
    with pytest.raises(ClientError) as caught:
        runtime.get_recommendations(campaignArn="arn:aws:personalize:us-east-1:000000000000:campaign/none",
                                    userId="u1")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"



VOD_USE_CASES = ("aws-vod-because-you-watched-x", "aws-vod-more-like-x", "aws-vod-most-popular",
                 "aws-vod-trending-now", "aws-vod-top-picks")


@pytest.fixture(scope="module")
def vod_group(server: ReelrankServer, catalogue: synthetic.Catalogue) -> str:
    """A VIDEO_ON_DEMAND dataset group with users, items and interactions."""
    personalize = server.client()
    group_arn = personalize.create_dataset_group(name=unique("vod"), domain="VIDEO_ON_DEMAND")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"])
    schemas = {"Interactions": synthetic.INTERACTIONS_SCHEMA, "Items": synthetic.ITEMS_SCHEMA,
               "Users": synthetic.USERS_SCHEMA}
    for kind, table in (("Interactions", catalogue.interactions), ("Items", catalogue.items),
                        ("Users", catalogue.users)):
        schema_arn = personalize.create_schema(name=unique(kind), schema=schemas[kind],
                                               domain="VIDEO_ON_DEMAND")["schemaArn"]
        dataset_arn = personalize.create_dataset(name=unique(kind), schemaArn=schema_arn, datasetGroupArn=group_arn,
                                                 datasetType=kind)["datasetArn"]
        wait_for(lambda arn=dataset_arn: personalize.describe_dataset(datasetArn=arn)["dataset"])  # type: ignore[misc]
        path = server.import_root / f"{unique(kind)}.csv"
        synthetic.write_csv(table, path)
        assert run_import(personalize, dataset_arn, path.as_uri())["status"] == "ACTIVE"
    return group_arn


@pytest.mark.parametrize("use_case", VOD_USE_CASES)
def test_vod_recommenders_never_return_watched_videos(server: ReelrankServer, vod_group: str, use_case: str,
                                                      catalogue: synthetic.Catalogue) -> None:
    personalize = server.client()
    arn = personalize.create_recommender(name=unique("rec"), datasetGroupArn=vod_group,
                                         recipeArn=RECIPE + use_case)["recommenderArn"]
    recommender = wait_for(lambda: personalize.describe_recommender(recommenderArn=arn)["recommender"], timeout=180)
    assert recommender["status"] == "ACTIVE", recommender.get("failureReason")
    assert "normalized_discounted_cumulative_gain_at_10" in recommender["modelMetrics"]
    interactions = catalogue.interactions
    user = "u5"
    watched = {item for item, who, kind in zip(interactions.column("ITEM_ID").to_pylist(),
                                               interactions.column("USER_ID").to_pylist(),
                                               interactions.column("EVENT_TYPE").to_pylist(), strict=True)
               if who == user and kind == "Watch"}
    params = {"userId": user, "numResults": 50}
    if use_case in ("aws-vod-because-you-watched-x", "aws-vod-more-like-x"):
        params["itemId"] = sorted(watched)[0]
    items = server.client("personalize-runtime").get_recommendations(recommenderArn=arn, **params)["itemList"]
    assert items, use_case
    assert not watched & {item["itemId"] for item in items}
    personalize.stop_recommender(recommenderArn=arn)
    assert personalize.describe_recommender(recommenderArn=arn)["recommender"]["status"] == "INACTIVE"
    with pytest.raises(ClientError):
        server.client("personalize-runtime").get_recommendations(recommenderArn=arn, **params)
    personalize.start_recommender(recommenderArn=arn)
    personalize.delete_recommender(recommenderArn=arn)


def test_use_cases_must_match_the_domain(server: ReelrankServer, vod_group: str) -> None:
    with pytest.raises(ClientError) as caught:
        server.client().create_recommender(name=unique("rec"), datasetGroupArn=vod_group,
                                           recipeArn=RECIPE + "aws-ecomm-recommended-for-you")
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"


def test_a_new_item_from_put_items_is_explored_without_retraining(server: ReelrankServer, vod_group: str,
                                                                  catalogue: synthetic.Catalogue) -> None:
    personalize = server.client()
    arn = personalize.create_recommender(
        name=unique("top"), datasetGroupArn=vod_group, recipeArn=RECIPE + "aws-vod-top-picks",
        recommenderConfig={"itemExplorationConfig": {"explorationWeight": "0.4", "explorationItemAgeCutOff": "7"}},
    )["recommenderArn"]
    assert wait_for(lambda: personalize.describe_recommender(recommenderArn=arn)["recommender"],
                    timeout=180)["status"] == "ACTIVE"
    items_arn = next(d["datasetArn"] for d in personalize.list_datasets(datasetGroupArn=vod_group)["datasets"]
                     if d["datasetType"] == "ITEMS")
    genres = catalogue.items.column("GENRES")[0].as_py()
    fresh = {"itemId": "brand-new-film", "properties": json.dumps(
        {"genres": genres, "year": 2026, "creationTimestamp": int(time.time()), "title": "Brand New"})}
    stale = {"itemId": "old-unseen-film", "properties": json.dumps(
        {"genres": genres, "year": 1990, "creationTimestamp": 1_000_000_000})}
    server.client("personalize-events").put_items(datasetArn=items_arn, items=[fresh, stale])
    items = server.client("personalize-runtime").get_recommendations(recommenderArn=arn, userId="u5",
                                                                     numResults=10)["itemList"]
    explored = [item for item in items if item.get("reason") == ["Exploration"]]
    assert [item["itemId"] for item in explored] == ["brand-new-film"]
    with pytest.raises(ClientError) as caught:
        server.client("personalize-events").put_items(datasetArn=items_arn, items=[
            {"itemId": "x", "properties": json.dumps({"colour": "red"})}])
    assert "colour is not a column of the schema" in caught.value.response["Error"]["Message"]


def active_filter(server: ReelrankServer, group_arn: str, expression: str) -> str:
    personalize = server.client()
    arn = personalize.create_filter(name=unique("f"), datasetGroupArn=group_arn,
                                    filterExpression=expression)["filterArn"]
    assert wait_for(lambda: personalize.describe_filter(filterArn=arn)["filter"])["status"] == "ACTIVE"
    return str(arn)


def test_a_filter_removes_watched_items(server: ReelrankServer, group: str, user_campaign: str,
                                        catalogue: synthetic.Catalogue) -> None:
    arn = active_filter(server, group, 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")')
    interactions = catalogue.interactions
    watched = {item for item, who, kind in zip(interactions.column("ITEM_ID").to_pylist(),
                                               interactions.column("USER_ID").to_pylist(),
                                               interactions.column("EVENT_TYPE").to_pylist(), strict=True)
               if who == "u1" and kind == "Watch"}
    unfiltered = {item["itemId"] for item in recommend(server, user_campaign, userId="u1", numResults=100)}
    assert unfiltered & watched, "the test needs a user whose recommendations include watched items"
    items = recommend(server, user_campaign, userId="u1", numResults=100, filterArn=arn)
    assert len(items) == 100 and not watched & {item["itemId"] for item in items}
    listed = server.client().list_filters(datasetGroupArn=group)["Filters"]
    assert arn in {f["filterArn"] for f in listed}


def test_a_parameterised_filter_keeps_one_genre(server: ReelrankServer, vod_group: str,
                                                catalogue: synthetic.Catalogue) -> None:
    personalize = server.client()
    arn = personalize.create_recommender(name=unique("pop"), datasetGroupArn=vod_group,
                                         recipeArn=RECIPE + "aws-vod-most-popular")["recommenderArn"]
    assert wait_for(lambda: personalize.describe_recommender(recommenderArn=arn)["recommender"],
                    timeout=180)["status"] == "ACTIVE"
    filter_arn = active_filter(server, vod_group, "INCLUDE ItemID WHERE Items.GENRES IN ($GENRES)")
    genres = dict(zip(catalogue.items.column("ITEM_ID").to_pylist(), catalogue.items.column("GENRES").to_pylist(),
                      strict=True))
    items = server.client("personalize-runtime").get_recommendations(
        recommenderArn=arn, userId="u9", numResults=20, filterArn=filter_arn,
        filterValues={"GENRES": '"Comedy"'})["itemList"]
    assert items and all("Comedy" in genres[item["itemId"]].split("|") for item in items)
    with pytest.raises(ClientError) as caught:
        server.client("personalize-runtime").get_recommendations(recommenderArn=arn, userId="u9",
                                                                 filterArn=filter_arn)
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    personalize.delete_recommender(recommenderArn=arn)


def test_malformed_filters_point_at_the_error(server: ReelrankServer, vod_group: str) -> None:
    personalize = server.client()
    with pytest.raises(ClientError) as caught:
        personalize.create_filter(name=unique("bad"), datasetGroupArn=vod_group,
                                  filterExpression="EXCLUDE ItemID WHER Items.GENRES IN (\"Drama\")")
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidInputException" and "line 1, column" in error["Message"]
    with pytest.raises(ClientError) as caught:
        personalize.create_filter(name=unique("bad"), datasetGroupArn=vod_group,
                                  filterExpression='EXCLUDE ItemID WHERE Items.COLOUR IN ("red")')
    assert "not a column of the ITEMS schema" in caught.value.response["Error"]["Message"]


def test_promotions_and_metadata(server: ReelrankServer, vod_group: str, catalogue: synthetic.Catalogue) -> None:
    personalize = server.client()
    config = {"enableMetadataWithRecommendations": True}
    arn = personalize.create_recommender(name=unique("picks"), datasetGroupArn=vod_group,
                                         recipeArn=RECIPE + "aws-vod-top-picks",
                                         recommenderConfig=config)["recommenderArn"]
    assert wait_for(lambda: personalize.describe_recommender(recommenderArn=arn)["recommender"],
                    timeout=180)["status"] == "ACTIVE"
    horror = active_filter(server, vod_group, 'INCLUDE ItemID WHERE Items.GENRES IN ("Horror")')
    items = server.client("personalize-runtime").get_recommendations(
        recommenderArn=arn, userId="u4", numResults=20, metadataColumns={"ITEMS": ["GENRES", "YEAR"]},
        promotions=[{"name": "spooky", "percentPromotedItems": 20, "filterArn": horror}])["itemList"]
    assert len(items) == 20 and len({item["itemId"] for item in items}) == 20
    promoted = [item for item in items if item.get("promotionName") == "spooky"]
    assert len(promoted) == 4
    assert all("Horror" in item["metadata"]["GENRES"].split("|") for item in promoted)
    assert all(set(item["metadata"]) == {"GENRES", "YEAR"} for item in items)
    personalize.delete_recommender(recommenderArn=arn)


def test_metric_attribution_counts_events_by_source(server: ReelrankServer, group: str, user_campaign: str,
                                                    tracking_id: str) -> None:
    response = server.client("personalize-runtime").get_recommendations(campaignArn=user_campaign, userId="u20")
    recommendation_id = response["recommendationId"]
    assert len(recommendation_id) <= 40
    events = server.client("personalize-events")
    events.put_events(trackingId=tracking_id, userId="u20", sessionId="s20", eventList=[
        {"eventType": "Watch", "itemId": item["itemId"], "sentAt": time.time(), "eventValue": 0.5,
         "recommendationId": recommendation_id, "eventId": unique("e")} for item in response["itemList"][:3]])
    personalize = server.client()
    output = server.import_root / unique("attribution")
    arn = personalize.create_metric_attribution(
        name=unique("ma"), datasetGroupArn=group,
        metrics=[{"eventType": "Watch", "metricName": "WATCHES", "expression": "SAMPLECOUNT()"}],
        metricsOutputConfig={"roleArn": "arn:aws:iam::000000000000:role/x",
                             "s3DataDestination": {"path": output.as_uri() + "/"}})["metricAttributionArn"]
    assert wait_for(lambda: personalize.describe_metric_attribution(metricAttributionArn=arn)[
        "metricAttribution"])["status"] == "ACTIVE"
    rows = (output / "metrics.csv").read_text().splitlines()
    assert f"WATCHES,{user_campaign},Watch,3.0" in rows
    personalize.update_metric_attribution(metricAttributionArn=arn, addMetrics=[
        {"eventType": "Watch", "metricName": "WATCH_VALUE", "expression": "SUM(Interactions.EVENT_VALUE)"}])
    deadline = time.time() + 30
    while f"WATCH_VALUE,{user_campaign},Watch,1.5" not in (output / "metrics.csv").read_text().splitlines():
        assert time.time() < deadline, (output / "metrics.csv").read_text()
        time.sleep(0.2)
    metrics = personalize.list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]
    assert [m["metricName"] for m in metrics] == ["WATCHES", "WATCH_VALUE"]
    with pytest.raises(ClientError) as caught:
        personalize.update_metric_attribution(metricAttributionArn=arn, addMetrics=[
            {"eventType": "Watch", "metricName": "BAD", "expression": "AVG(Items.PRICE)"}])
    assert caught.value.response["Error"]["Code"] == "InvalidInputException"
    personalize.delete_metric_attribution(metricAttributionArn=arn)
