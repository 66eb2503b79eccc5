"""Batch inference jobs through boto3 with a real S3 endpoint (moto's server)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from reelrank import synthetic
from reelrank.client import Endpoint
from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY
from tests.support.flows import interactions_group, run_import, trained_version, unique, wait_for
from tests.support.servers import MotoS3, ReelrankServer

ROLE = "arn:aws:iam::000000000000:role/batch"


@pytest.fixture(scope="module")
def personalize(server: ReelrankServer) -> Any:
    return server.client()


@pytest.fixture(scope="module")
def group(personalize: Any, import_root: Path) -> str:
    catalogue = synthetic.generate(n_users=300, n_items=200, n_interactions=9000, seed=11)
    path = import_root / f"{unique('batch')}.csv"
    synthetic.write_csv(catalogue.interactions, path)
    group_arn, dataset_arn = interactions_group(personalize)
    assert run_import(personalize, dataset_arn, path.as_uri())["status"] == "ACTIVE"
    schema = personalize.create_schema(name=unique("items"), schema=synthetic.ITEMS_SCHEMA)["schemaArn"]
    items_arn = personalize.create_dataset(name=unique("items"), schemaArn=schema, datasetGroupArn=group_arn,
                                           datasetType="Items")["datasetArn"]
    wait_for(lambda: personalize.describe_dataset(datasetArn=items_arn)["dataset"])
    items_path = import_root / f"{unique('items')}.csv"
    synthetic.write_csv(catalogue.items, items_path)
    assert run_import(personalize, items_arn, items_path.as_uri())["status"] == "ACTIVE"
    return group_arn


def run_batch(personalize: Any, moto_s3: MotoS3, version_arn: str, lines: list[str],
              **extra: Any) -> list[dict[str, Any]]:
    s3 = moto_s3.client()
    bucket = unique("batch")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/users.json", Body="\n".join(lines).encode())
    arn = personalize.create_batch_inference_job(
        jobName=unique("job"), solutionVersionArn=version_arn, roleArn=ROLE,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/in/users.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/out/"}}, **extra)["batchInferenceJobArn"]
    job = wait_for(lambda: personalize.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"],
                   timeout=120)
    assert job["status"] == "ACTIVE", job.get("failureReason")
    listed = personalize.list_batch_inference_jobs(solutionVersionArn=version_arn)["batchInferenceJobs"]
    assert arn in {j["batchInferenceJobArn"] for j in listed}
    body = s3.get_object(Bucket=bucket, Key="out/users.json.out")["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines()]


@pytest.fixture(scope="module")
def user_version(personalize: Any, group: str) -> str:
    return trained_version(personalize, group, "aws-user-personalization")


def test_batch_for_users_with_a_filter_and_bad_lines(personalize: Any, moto_s3: MotoS3, group: str,
                                                     user_version: str) -> None:
    version = user_version
    filter_arn = personalize.create_filter(name=unique("f"), datasetGroupArn=group,
                                           filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")')
    wait_for(lambda: personalize.describe_filter(filterArn=filter_arn["filterArn"])["filter"])
    lines = ['{"userId": "u1"}', "not json", '{"userId": "u2"}', '["a list"]', '{"itemId": "m1"}']
    records = run_batch(personalize, moto_s3, version, lines, numResults=5, filterArn=filter_arn["filterArn"])
    assert [r["input"] for r in records] == [{"userId": "u1"}, "not json", {"userId": "u2"}, ["a list"],
                                             {"itemId": "m1"}]
    good = records[0]
    assert good["error"] is None and len(good["output"]["recommendedItems"]) == 5
    assert len(good["output"]["scores"]) == 5
    assert records[1]["error"].startswith("Invalid JSON")
    assert records[3]["error"] == "Each line must be a JSON object."
    assert records[4]["error"] == "userId is required for this campaign."


def test_batch_for_items(personalize: Any, moto_s3: MotoS3, group: str) -> None:
    version = trained_version(personalize, group, "aws-sims")
    records = run_batch(personalize, moto_s3, version, ['{"itemId": "m1"}', '{"itemId": "m2"}'], numResults=10)
    assert all(r["error"] is None and len(r["output"]["recommendedItems"]) == 10 for r in records)
    assert all("scores" not in r["output"] for r in records)
    assert "m1" not in records[0]["output"]["recommendedItems"]


def test_batch_for_ranking_lists(personalize: Any, moto_s3: MotoS3, group: str) -> None:
    version = trained_version(personalize, group, "aws-personalized-ranking")
    line = json.dumps({"userId": "u3", "itemList": ["m1", "m2", "m3", "unknown"]})
    [record] = run_batch(personalize, moto_s3, version, [line])
    assert sorted(record["output"]["recommendedItems"]) == ["m1", "m2", "m3", "unknown"]
    assert record["output"]["recommendedItems"][-1] == "unknown"


def run_segments(personalize: Any, moto_s3: MotoS3, version_arn: str, lines: list[str]) -> list[dict[str, Any]]:
    s3 = moto_s3.client()
    bucket = unique("segments")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/queries.json", Body="\n".join(lines).encode())
    arn = personalize.create_batch_segment_job(
        jobName=unique("segment"), solutionVersionArn=version_arn, roleArn=ROLE, numResults=10,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/in/queries.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/out/"}})["batchSegmentJobArn"]
    job = wait_for(lambda: personalize.describe_batch_segment_job(batchSegmentJobArn=arn)["batchSegmentJob"],
                   timeout=120)
    assert job["status"] == "ACTIVE", job.get("failureReason")
    body = s3.get_object(Bucket=bucket, Key="out/queries.json.out")["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines()]


def test_item_affinity_segments(personalize: Any, moto_s3: MotoS3, group: str) -> None:
    version = trained_version(personalize, group, "aws-item-affinity")
    records = run_segments(personalize, moto_s3, version, ['{"itemId": "m1"}', '{"itemId": "m2"}', "{}"])
    assert [len(r["output"]["recommendedUsers"]) for r in records[:2]] == [10, 10]
    assert records[2]["error"] == "Each line needs an itemId."


def test_item_attribute_affinity_segments(personalize: Any, moto_s3: MotoS3, group: str) -> None:
    version = trained_version(personalize, group, "aws-item-attribute-affinity")
    query = 'ITEMS.genres = "Comedy"'
    records = run_segments(personalize, moto_s3, version, [json.dumps({"itemAttributes": query}),
                                                           json.dumps({"itemAttributes": "ITEMS.nope = \"x\""})])
    assert records[0]["itemAttributes"] == query and len(records[0]["output"]["recommendedUsers"]) == 10
    assert records[1]["error"] == "Unknown item attribute nope."
    with pytest.raises(personalize.exceptions.InvalidInputException):
        personalize.create_batch_inference_job(
            jobName=unique("no"), solutionVersionArn=version, roleArn=ROLE,
            jobInput={"s3DataSource": {"path": "s3://b/in.json"}},
            jobOutput={"s3DataDestination": {"path": "s3://b/out/"}})


def test_batch_answers_as_get_recommendations(server: ReelrankServer, personalize: Any, moto_s3: MotoS3, group: str,
                                              user_version: str) -> None:
    """Block scoring gives every user exactly what GetRecommendations gives (items, order, scores), with the
    exploration of new items of the default configuration, without and with filters of both kinds; the input is
    large enough for the job's forked workers and indexed histories."""
    campaign = personalize.create_campaign(name=unique("campaign"), solutionVersionArn=user_version)["campaignArn"]
    assert wait_for(lambda: personalize.describe_campaign(campaignArn=campaign)["campaign"])["status"] == "ACTIVE"
    runtime = server.client("personalize-runtime")
    users = [f"u{number}" for number in range(1, 301)] + ["nobody"]
    filters: list[str | None] = [None]
    for expression in ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")',
                       'EXCLUDE ItemID WHERE Items.GENRES IN ("Comedy")'):
        arn = personalize.create_filter(name=unique("f"), datasetGroupArn=group, filterExpression=expression)
        wait_for(lambda arn=arn: personalize.describe_filter(filterArn=arn["filterArn"])["filter"])
        filters.append(arn["filterArn"])
    for filter_arn in filters:
        extra = {"filterArn": filter_arn} if filter_arn else {}
        lines = [json.dumps({"userId": user}) for user in users] * 15
        records = run_batch(personalize, moto_s3, user_version, lines, numResults=12, **extra)
        assert [record["input"]["userId"] for record in records] == users * 15
        expected = {}
        for user in users:
            items = runtime.get_recommendations(campaignArn=campaign, userId=user, numResults=12, **extra)["itemList"]
            output: dict[str, Any] = {"recommendedItems": [item["itemId"] for item in items]}
            if all("score" in item for item in items):
                output["scores"] = [item["score"] for item in items]
            expected[user] = output
        for record in records:
            assert record["error"] is None
            assert record["output"] == expected[record["input"]["userId"]], (record, filter_arn)


def test_batch_progress_counts_rows(server: ReelrankServer, personalize: Any, import_root: Path,
                                    user_version: str) -> None:
    """The progress extension reports rows done, rows per second and the time left while the job runs."""
    lines = 200_000
    path = import_root / f"{unique('many')}.json"
    path.write_text("".join(f'{{"userId": "u{number % 300 + 1}"}}\n' for number in range(lines)))
    output = import_root / unique("out")
    arn = personalize.create_batch_inference_job(
        jobName=unique("rows"), solutionVersionArn=user_version, roleArn=ROLE, numResults=5,
        jobInput={"s3DataSource": {"path": path.as_uri()}},
        jobOutput={"s3DataDestination": {"path": output.as_uri() + "/"}})["batchInferenceJobArn"]
    endpoint = Endpoint(server.url, DEMO_ACCESS_KEY, DEMO_SECRET_KEY)
    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state = endpoint.progress(arn)
        if state["status"] not in ("PENDING", "IN PROGRESS"):
            break
        if state.get("rowsDone"):
            seen.append(state)
        time.sleep(0.2)
    assert state["status"] == "ACTIVE", state
    assert seen, "no progress with rows was seen while the job ran"
    during = seen[0]
    assert 0 < during["rowsDone"] < lines and during["rowsPerSecond"] > 0 and during["etaSeconds"] > 0
    assert 0 < during["percent"] < 100
    assert [s["rowsDone"] for s in seen] == sorted(s["rowsDone"] for s in seen)
    assert (state["rowsDone"], state["etaSeconds"], state["percent"]) == (lines, 0.0, 100.0)
    assert state["rowsPerSecond"] > 0
    assert len((output / f"{path.name}.out").read_bytes().splitlines()) == lines
    described = personalize.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]
    assert described["status"] == "ACTIVE"
