"""Batch inference jobs through boto3 with a real S3 endpoint (moto's server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reelrank import synthetic
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


def test_batch_for_users_with_a_filter_and_bad_lines(personalize: Any, moto_s3: MotoS3, group: str) -> None:
    version = trained_version(personalize, group, "aws-user-personalization")
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
