"""Import, export and deletion jobs: validation with line numbers, atomicity, FULL and INCREMENTAL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from botocore.exceptions import ClientError

from reelrank import synthetic
from tests.support.flows import interactions_group, run_import, unique, wait_for
from tests.support.servers import ReelrankServer

HEADER = "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE\n"


@pytest.fixture(scope="module")
def personalize(server: ReelrankServer) -> Any:
    return server.client()


def good_rows(count: int, user_prefix: str = "u", start: int = 1_600_000_000) -> str:
    return "".join(f"{user_prefix}{i % 40},m{i % 97},Watch,{start + i},0.5\n" for i in range(count))


def write(folder: Path, text: str | bytes, name: str | None = None) -> Path:
    path = folder / (name or f"{unique('input')}.csv")
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def export_table(personalize: Any, dataset_arn: str, folder: Path) -> pa.Table:
    out = folder / unique("export")
    job_name = unique("export")
    arn = personalize.create_dataset_export_job(
        jobName=job_name,
        datasetArn=dataset_arn,
        ingestionMode="BULK",
        roleArn="arn:aws:iam::000000000000:role/export",
        jobOutput={"s3DataDestination": {"path": out.as_uri() + "/"}},
    )["datasetExportJobArn"]
    job = wait_for(lambda: personalize.describe_dataset_export_job(datasetExportJobArn=arn)["datasetExportJob"])
    assert job["status"] == "ACTIVE", job.get("failureReason")
    return pacsv.read_csv(
        out / f"{job_name}_INTERACTIONS.csv",
        convert_options=pacsv.ConvertOptions(column_types={"USER_ID": pa.string()}),
    )


@pytest.fixture()
def dataset(personalize: Any, import_root: Path) -> str:
    _, dataset_arn = interactions_group(personalize)
    job = run_import(personalize, dataset_arn, write(import_root, HEADER + good_rows(1200)).as_uri())
    assert job["status"] == "ACTIVE", job.get("failureReason")
    return dataset_arn


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            HEADER + good_rows(1200) + "u1,m1,Watch\n" + "u1,m1,Watch,1,0.5,extra\n",
            "has 2 invalid rows. line 1202: expected 5 columns, found 3; line 1203: expected 5 columns, found 6",
        ),
        (
            HEADER + good_rows(5) + "u1,m1,Watch,yesterday,0.5\n" + good_rows(1200),
            "has 1 invalid row. line 7: TIMESTAMP value 'yesterday' is not an integer (long)",
        ),
        (
            HEADER.encode() + b"u1,m\xff\xfe,Watch,1,0.5\n" + good_rows(1200).encode(),
            "has 1 invalid row. line 2: invalid UTF-8 at byte 4",
        ),
        (good_rows(1200), "has no header row: the first line must name the columns"),
        (
            "USER_ID,ITEM_ID,EVENT_TYPE\n" + "u1,m1,Watch\n" * 1200,
            "Input CSV is missing the following columns: [TIMESTAMP]",
        ),
        (
            "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,RATING\n" + "u1,m1,Watch,1,5\n" * 1200,
            "has columns that are not in the schema: [RATING]",
        ),
        (HEADER + good_rows(1200) + ",m1,Watch,1,0.5\n", "line 1202: USER_ID is required but empty"),
        (HEADER + good_rows(10), "The import has 10 interaction records; a dataset import job needs at least 1000."),
    ],
    ids=["column-count", "timestamp", "utf8", "no-header", "missing-column", "unknown-column", "empty-id", "too-few"],
)
def test_bad_csv_fails_with_line_numbers_and_keeps_the_old_data(
    personalize: Any, import_root: Path, dataset: str, body: str | bytes, reason: str
) -> None:
    before = export_table(personalize, dataset, import_root)
    job = run_import(personalize, dataset, write(import_root, body).as_uri())
    assert job["status"] == "CREATE FAILED"
    assert reason in job["failureReason"]
    assert export_table(personalize, dataset, import_root).equals(before)


def test_full_replaces_and_incremental_appends(personalize: Any, import_root: Path, dataset: str) -> None:
    assert export_table(personalize, dataset, import_root).num_rows == 1200
    more = write(import_root, HEADER + good_rows(1000, "v"))
    assert run_import(personalize, dataset, more.as_uri(), "INCREMENTAL")["status"] == "ACTIVE"
    assert export_table(personalize, dataset, import_root).num_rows == 2200
    replacement = write(import_root, HEADER + good_rows(1100, "w"))
    assert run_import(personalize, dataset, replacement.as_uri(), "FULL")["status"] == "ACTIVE"
    table = export_table(personalize, dataset, import_root)
    assert table.num_rows == 1100
    assert set(table.column("USER_ID").to_pylist()) == {f"w{i}" for i in range(40)}


def test_items_incremental_upserts_by_id(personalize: Any, import_root: Path) -> None:
    group_arn, _ = interactions_group(personalize)
    schema = personalize.create_schema(name=unique("items"), schema=synthetic.ITEMS_SCHEMA)["schemaArn"]
    items_arn = personalize.create_dataset(
        name=unique("items"), schemaArn=schema, datasetGroupArn=group_arn, datasetType="Items"
    )["datasetArn"]
    wait_for(lambda: personalize.describe_dataset(datasetArn=items_arn)["dataset"])
    header = "ITEM_ID,GENRES,YEAR,CREATION_TIMESTAMP,TITLE,DESCRIPTION\n"
    first = write(import_root, header + "m1,Drama,1999,1,Old title,\nm2,Comedy|Drama,2001,2,Two,A film\n")
    assert run_import(personalize, items_arn, first.as_uri())["status"] == "ACTIVE"
    update = write(import_root, header + "m1,Drama,1999,1,New title,\nm3,Horror,2020,3,,\n")
    assert run_import(personalize, items_arn, update.as_uri(), "INCREMENTAL")["status"] == "ACTIVE"
    job_name = unique("export")
    folder = import_root / job_name
    arn = personalize.create_dataset_export_job(
        jobName=job_name,
        datasetArn=items_arn,
        ingestionMode="ALL",
        roleArn="arn:aws:iam::000000000000:role/x",
        jobOutput={"s3DataDestination": {"path": folder.as_uri()}},
    )["datasetExportJobArn"]
    assert (
        wait_for(lambda: personalize.describe_dataset_export_job(datasetExportJobArn=arn)["datasetExportJob"])["status"]
        == "ACTIVE"
    )
    nulls = pacsv.ConvertOptions(strings_can_be_null=True)
    items = pacsv.read_csv(folder / f"{job_name}_ITEMS.csv", convert_options=nulls).to_pylist()
    assert sorted((row["ITEM_ID"], row["TITLE"]) for row in items) == [("m1", "New title"), ("m2", "Two"), ("m3", None)]


def test_local_paths_outside_the_import_roots_are_refused(personalize: Any, dataset: str) -> None:
    with pytest.raises(ClientError) as caught:
        personalize.create_dataset_import_job(
            jobName=unique("escape"), datasetArn=dataset, dataSource={"dataLocation": "file:///etc/passwd"}
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidInputException"
    assert error["Message"].startswith("Invalid Data location. /etc/passwd is outside the allowed import roots")


def test_a_missing_s3_object_fails_the_job(personalize: Any, dataset: str) -> None:
    job = run_import(personalize, dataset, "s3://no-such-bucket/interactions.csv")
    assert job["status"] == "CREATE FAILED"
    assert job["failureReason"].startswith("Invalid Data location. Could not read s3://no-such-bucket/")


def test_data_deletion_removes_only_the_listed_users(personalize: Any, import_root: Path, dataset: str) -> None:
    group_arn = personalize.describe_dataset(datasetArn=dataset)["dataset"]["datasetGroupArn"]
    users = write(import_root, "USER_ID\nu1\nu2\nnobody\n")
    arn = personalize.create_data_deletion_job(
        jobName=unique("forget"),
        datasetGroupArn=group_arn,
        dataSource={"dataLocation": users.as_uri()},
        roleArn="arn:aws:iam::000000000000:role/x",
    )["dataDeletionJobArn"]
    job = wait_for(lambda: personalize.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"])
    assert (job["status"], job["numDeleted"]) == ("COMPLETED", 2)
    remaining = set(export_table(personalize, dataset, import_root).column("USER_ID").to_pylist())
    assert remaining == {f"u{i}" for i in range(40)} - {"u1", "u2"}
    listed = personalize.list_data_deletion_jobs(datasetGroupArn=group_arn)["dataDeletionJobs"]
    assert [j["dataDeletionJobArn"] for j in listed] == [arn]


def test_more_than_five_running_imports_exceed_the_quota(tmp_path: Path, import_root: Path) -> None:
    server = ReelrankServer(tmp_path / "data", import_root, ["--workers", "0"]).start()  # imports stay queued
    try:
        personalize = server.client()
        _, dataset_arn = interactions_group(personalize)
        source = write(import_root, HEADER + good_rows(1200)).as_uri()
        for _ in range(5):
            personalize.create_dataset_import_job(
                jobName=unique("queued"), datasetArn=dataset_arn, dataSource={"dataLocation": source}
            )
        with pytest.raises(personalize.exceptions.LimitExceededException) as caught:
            personalize.create_dataset_import_job(
                jobName=unique("sixth"), datasetArn=dataset_arn, dataSource={"dataLocation": source}
            )
        assert caught.value.response["Error"]["Message"] == "More than 5 resources with PENDING or IN_PROGRESS status."
        with pytest.raises(personalize.exceptions.ResourceInUseException):
            personalize.delete_dataset(datasetArn=dataset_arn)
    finally:
        server.stop()
