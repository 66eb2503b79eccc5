"""The data half of Personalize's getting-started flow, through boto3 with only endpoint_url set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pytest
from botocore.exceptions import ClientError

from reelrank import synthetic
from tests.support.flows import interactions_group, run_import, unique, wait_for
from tests.support.servers import MotoS3, ReelrankServer


@pytest.fixture(scope="module")
def personalize(server: ReelrankServer) -> Any:
    return server.client()


@pytest.fixture(scope="module")
def catalogue_csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    catalogue = synthetic.generate(n_users=300, n_items=150, n_interactions=4000, seed=7)
    return synthetic.write_catalogue(catalogue, tmp_path_factory.mktemp("catalogue"))


def error_of(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


def test_getting_started_with_an_s3_import(personalize: Any, moto_s3: MotoS3, catalogue_csvs: dict[str, Path]) -> None:
    s3 = moto_s3.client()
    bucket = unique("bucket")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(catalogue_csvs["INTERACTIONS"]), bucket, "movies/interactions.csv")

    schema_arn = personalize.create_schema(name=unique("interactions-schema"), schema=synthetic.INTERACTIONS_SCHEMA)[
        "schemaArn"
    ]
    assert schema_arn.startswith("arn:aws:personalize:us-east-1:000000000000:schema/")
    group_name = unique("movies")
    created = personalize.create_dataset_group(name=group_name)
    group_arn = created["datasetGroupArn"]
    assert group_arn == f"arn:aws:personalize:us-east-1:000000000000:dataset-group/{group_name}"
    first = personalize.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"]
    assert first["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE")
    assert (
        wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"])["status"]
        == "ACTIVE"
    )

    dataset_arn = personalize.create_dataset(
        name=unique("interactions"), schemaArn=schema_arn, datasetGroupArn=group_arn, datasetType="Interactions"
    )["datasetArn"]
    assert dataset_arn == f"arn:aws:personalize:us-east-1:000000000000:dataset/{group_name}/INTERACTIONS"
    dataset = wait_for(lambda: personalize.describe_dataset(datasetArn=dataset_arn)["dataset"])
    assert dataset["status"] == "ACTIVE" and dataset["datasetType"] == "INTERACTIONS"

    job = run_import(personalize, dataset_arn, f"s3://{bucket}/movies/interactions.csv")
    assert job["status"] == "ACTIVE", job.get("failureReason")
    assert job["importMode"] == "FULL"
    assert job["datasetImportJobArn"].startswith("arn:aws:personalize:us-east-1:000000000000:dataset-import-job/")

    jobs = personalize.get_paginator("list_dataset_import_jobs").paginate(datasetArn=dataset_arn).build_full_result()
    assert [j["datasetImportJobArn"] for j in jobs["datasetImportJobs"]] == [job["datasetImportJobArn"]]
    datasets = personalize.list_datasets(datasetGroupArn=group_arn)["datasets"]
    assert [d["datasetArn"] for d in datasets] == [dataset_arn]


def test_s3_folder_import_reads_every_file(
    personalize: Any, moto_s3: MotoS3, catalogue_csvs: dict[str, Path], tmp_path: Path
) -> None:
    table = pacsv.read_csv(catalogue_csvs["INTERACTIONS"])
    s3 = moto_s3.client()
    bucket = unique("bucket")
    s3.create_bucket(Bucket=bucket)
    half = table.num_rows // 2
    for part, piece in (("a", table.slice(0, half)), ("b", table.slice(half))):
        synthetic.write_csv(piece, tmp_path / f"{part}.csv")
        s3.upload_file(str(tmp_path / f"{part}.csv"), bucket, f"folder/{part}.csv")
    _, dataset_arn = interactions_group(personalize)
    job = run_import(personalize, dataset_arn, f"s3://{bucket}/folder/")
    assert job["status"] == "ACTIVE", job.get("failureReason")


def test_paginators_walk_every_page(personalize: Any) -> None:
    names = {unique("paged") for _ in range(5)}
    for name in names:
        personalize.create_schema(name=name, schema=synthetic.USERS_SCHEMA)
    pages = list(personalize.get_paginator("list_schemas").paginate(PaginationConfig={"PageSize": 2}))
    assert all(len(page["schemas"]) <= 2 for page in pages)
    listed = [schema["name"] for page in pages for schema in page["schemas"]]
    assert names <= set(listed)
    assert len(listed) == len(set(listed)), "a schema appeared on two pages"
    assert "nextToken" not in pages[-1]


def test_a_next_token_from_another_listing_is_refused(personalize: Any) -> None:
    for _ in range(2):
        personalize.create_schema(name=unique("token"), schema=synthetic.USERS_SCHEMA)
    token = personalize.list_schemas(maxResults=1)["nextToken"]
    code, message, _ = error_of(personalize.list_dataset_groups, nextToken=token)
    assert (code, message) == ("InvalidNextTokenException", "The next token is invalid.")
    code, _, _ = error_of(personalize.list_schemas, nextToken="not-a-token")
    assert code == "InvalidNextTokenException"


def test_duplicate_names_are_refused(personalize: Any) -> None:
    name = unique("dup")
    arn = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    code, message, status = error_of(personalize.create_dataset_group, name=name)
    assert (code, status) == ("ResourceAlreadyExistsException", 400)
    assert message == f"Resource with ARN {arn} already exists."
    schema_name = unique("dup-schema")
    personalize.create_schema(name=schema_name, schema=synthetic.USERS_SCHEMA)
    code, _, _ = error_of(personalize.create_schema, name=schema_name, schema=synthetic.USERS_SCHEMA)
    assert code == "ResourceAlreadyExistsException"


def test_premature_deletes_are_refused(personalize: Any) -> None:
    group_arn, dataset_arn = interactions_group(personalize)
    schema_arn = personalize.describe_dataset(datasetArn=dataset_arn)["dataset"]["schemaArn"]
    code, message, _ = error_of(personalize.delete_dataset_group, datasetGroupArn=group_arn)
    assert code == "ResourceInUseException"
    assert message == (f"Dataset group {group_arn} still has resources of these kinds: dataset. Delete them first.")
    code, message, _ = error_of(personalize.delete_schema, schemaArn=schema_arn)
    assert (code, message) == (
        "ResourceInUseException",
        f"Schema {schema_arn} is used by the datasets ['{dataset_arn}'].",
    )
    personalize.delete_dataset(datasetArn=dataset_arn)
    personalize.delete_dataset_group(datasetGroupArn=group_arn)
    personalize.delete_schema(schemaArn=schema_arn)
    code, _, _ = error_of(personalize.describe_dataset_group, datasetGroupArn=group_arn)
    assert code == "ResourceNotFoundException"


def test_unknown_arns_are_not_found(personalize: Any) -> None:
    arn = "arn:aws:personalize:us-east-1:000000000000:dataset-group/nothing-here"
    code, message, status = error_of(personalize.describe_dataset_group, datasetGroupArn=arn)
    assert (code, message, status) == ("ResourceNotFoundException", f"Could not find resource with ARN {arn}.", 400)
    with pytest.raises(personalize.exceptions.ResourceNotFoundException):
        personalize.describe_schema(schemaArn="arn:aws:personalize:us-east-1:000000000000:schema/none")
    code, _, _ = error_of(personalize.describe_recipe, recipeArn="arn:aws:personalize:::recipe/aws-nothing")
    assert code == "ResourceNotFoundException"


def test_invalid_names_are_refused_by_the_server(server: ReelrankServer) -> None:
    unchecked = server.client(config=__import__("botocore.config").config.Config(parameter_validation=False))
    code, message, status = error_of(unchecked.create_dataset_group, name="bad name!")
    assert (code, status) == ("InvalidInputException", 400)
    assert message == (
        "1 validation error detected: Value 'bad name!' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\\-_]*"
    )
    code, message, _ = error_of(unchecked.create_dataset_group, name="x" * 64)
    assert message.endswith("Member must have length less than or equal to 63")
    code, message, _ = error_of(unchecked.create_dataset_group, name="ok", domain="MUSIC")
    assert message.endswith("Member must satisfy enum value set: [ECOMMERCE, VIDEO_ON_DEMAND]")


def test_dataset_rules_follow_the_schema(personalize: Any) -> None:
    group_arn, _ = interactions_group(personalize)
    items_schema = personalize.create_schema(name=unique("items"), schema=synthetic.ITEMS_SCHEMA)["schemaArn"]
    code, message, _ = error_of(
        personalize.create_dataset,
        name=unique("wrong"),
        schemaArn=items_schema,
        datasetGroupArn=group_arn,
        datasetType="Users",
    )
    assert code == "InvalidInputException" and "USER_ID" in message
    code, message, _ = error_of(personalize.create_schema, name=unique("broken"), schema='{"type": "record"')
    assert code == "InvalidInputException" and message.startswith("Invalid schema: not valid JSON")
    interactions_schema = personalize.create_schema(name=unique("again"), schema=synthetic.INTERACTIONS_SCHEMA)[
        "schemaArn"
    ]
    code, _, _ = error_of(
        personalize.create_dataset,
        name=unique("second"),
        schemaArn=interactions_schema,
        datasetGroupArn=group_arn,
        datasetType="INTERACTIONS",
    )
    assert code == "ResourceAlreadyExistsException"


def test_tags_round_trip(personalize: Any) -> None:
    arn = personalize.create_dataset_group(name=unique("tagged"), tags=[{"tagKey": "team", "tagValue": "films"}])[
        "datasetGroupArn"
    ]
    personalize.tag_resource(resourceArn=arn, tags=[{"tagKey": "stage", "tagValue": "dev"}])
    personalize.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert personalize.list_tags_for_resource(resourceArn=arn)["tags"] == [{"tagKey": "stage", "tagValue": "dev"}]
    too_many = [{"tagKey": f"k{i}", "tagValue": "v"} for i in range(50)]
    code, _, _ = error_of(personalize.tag_resource, resourceArn=arn, tags=too_many)
    assert code == "TooManyTagsException"


def test_recipe_catalogue(personalize: Any) -> None:
    recipes = personalize.get_paginator("list_recipes").paginate().build_full_result()["recipes"]
    arns = {recipe["recipeArn"] for recipe in recipes}
    assert "arn:aws:personalize:::recipe/aws-user-personalization-v2" in arns
    vod = personalize.list_recipes(domain="VIDEO_ON_DEMAND")["recipes"]
    assert {r["name"] for r in vod} >= {"aws-vod-top-picks", "aws-vod-more-like-x"}
    recipe = personalize.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-sims")["recipe"]
    algorithm = personalize.describe_algorithm(algorithmArn=recipe["algorithmArn"])["algorithm"]
    assert algorithm["defaultHyperParameters"]["popularity_discount_factor"] == "0.5"
    transformation = personalize.describe_feature_transformation(
        featureTransformationArn=recipe["featureTransformationArn"]
    )["featureTransformation"]
    assert transformation["status"] == "ACTIVE"
