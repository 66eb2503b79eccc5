"""The data half of Personalize's getting-started flow, driven through the real AWS CLI.

``aws personalize ... --endpoint-url`` talks to a real ``reelrank serve`` on a loopback port; the interactions
CSV is imported from ``s3://`` on moto's S3 server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY
from reelrank.synthetic import INTERACTIONS_SCHEMA, generate, write_catalogue
from tests.support.servers import MotoS3, ReelrankServer

AWS = Path(sys.executable).parent / "aws"
POLL_TIMEOUT_S = 60.0

pytestmark = pytest.mark.skipif(not AWS.exists(), reason="the AWS CLI is not installed in the virtual environment")


class Cli:
    """Runs ``aws personalize ...`` against one endpoint with the demo credentials and no user configuration."""

    def __init__(self, endpoint: str, home: Path) -> None:
        self.endpoint = endpoint
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": DEMO_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DEMO_SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "no-such-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-such-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "HOME": str(home),
        })
        self.env = env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(AWS), "personalize", *args, "--endpoint-url", self.endpoint, "--output", "json"]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)

    def __call__(self, *args: str) -> dict[str, Any]:
        done = self.run(*args)
        assert done.returncode == 0, f"aws personalize {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def fails(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode != 0, f"aws personalize {' '.join(args)} succeeded:\n{done.stdout}"
        return done.stderr

    def wait_for(self, describe: str, arn_option: str, arn: str, key: str) -> dict[str, Any]:
        deadline = time.monotonic() + POLL_TIMEOUT_S
        while True:
            resource = self(describe, arn_option, arn)[key]
            if resource["status"] == "ACTIVE":
                return resource
            assert resource["status"] not in ("CREATE FAILED", "DELETE PENDING"), resource
            assert time.monotonic() < deadline, f"{arn} still {resource['status']} after {POLL_TIMEOUT_S} s"
            time.sleep(0.25)


@pytest.fixture(scope="module")
def cli(server: ReelrankServer, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(server.url, tmp_path_factory.mktemp("aws-home"))


def test_getting_started_data_flow(cli: Cli, moto_s3: MotoS3, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:10]

    # The interactions CSV goes to a real S3 endpoint (moto).
    paths = write_catalogue(generate(n_users=100, n_items=50, n_interactions=1500, seed=7), tmp_path / "data")
    n_rows = sum(1 for _ in paths["INTERACTIONS"].open()) - 1
    assert n_rows >= 1000
    bucket, key = f"reelrank-cli-{suffix}", "movies/interactions.csv"
    s3 = moto_s3.client()
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(paths["INTERACTIONS"]), bucket, key)

    # Schema, from a file.
    schema_file = tmp_path / "interactions-schema.json"
    schema_file.write_text(INTERACTIONS_SCHEMA)
    schema_arn = cli("create-schema", "--name", f"cli-interactions-{suffix}",
                     "--schema", f"file://{schema_file}")["schemaArn"]
    described_schema = cli("describe-schema", "--schema-arn", schema_arn)["schema"]
    assert json.loads(described_schema["schema"]) == json.loads(INTERACTIONS_SCHEMA)

    # Dataset group.
    group_name = f"cli-movies-{suffix}"
    group_arn = cli("create-dataset-group", "--name", group_name)["datasetGroupArn"]
    group = cli.wait_for("describe-dataset-group", "--dataset-group-arn", group_arn, "datasetGroup")
    assert group["name"] == group_name
    assert group["datasetGroupArn"] == group_arn

    # Interactions dataset.
    dataset_arn = cli("create-dataset", "--name", f"cli-interactions-{suffix}", "--dataset-group-arn", group_arn,
                      "--dataset-type", "Interactions", "--schema-arn", schema_arn)["datasetArn"]
    dataset = cli.wait_for("describe-dataset", "--dataset-arn", dataset_arn, "dataset")
    assert dataset["datasetType"].upper() == "INTERACTIONS"
    assert dataset["schemaArn"] == schema_arn

    # Import from s3://.
    job_arn = cli("create-dataset-import-job", "--job-name", f"cli-import-{suffix}", "--dataset-arn", dataset_arn,
                  "--data-source", f"dataLocation=s3://{bucket}/{key}")["datasetImportJobArn"]
    job = cli.wait_for("describe-dataset-import-job", "--dataset-import-job-arn", job_arn, "datasetImportJob")
    assert job["dataSource"]["dataLocation"] == f"s3://{bucket}/{key}"
    assert job["datasetArn"] == dataset_arn

    # Listings (the CLI follows NextToken on its own).
    groups = cli("list-dataset-groups")["datasetGroups"]
    assert group_arn in {g["datasetGroupArn"] for g in groups}
    datasets = cli("list-datasets", "--dataset-group-arn", group_arn)["datasets"]
    assert [d["datasetArn"] for d in datasets] == [dataset_arn]
    jobs = cli("list-dataset-import-jobs", "--dataset-arn", dataset_arn)["datasetImportJobs"]
    assert [(j["datasetImportJobArn"], j["status"]) for j in jobs] == [(job_arn, "ACTIVE")]

    # A second group so that --max-items 1 has more to give.
    second_arn = cli("create-dataset-group", "--name", f"cli-second-{suffix}")["datasetGroupArn"]
    cli.wait_for("describe-dataset-group", "--dataset-group-arn", second_arn, "datasetGroup")
    first_page = cli("list-dataset-groups", "--max-items", "1")
    assert len(first_page["datasetGroups"]) == 1
    assert first_page.get("NextToken")
    rest = cli("list-dataset-groups", "--starting-token", first_page["NextToken"])
    assert not rest.get("NextToken")
    paged = [g["datasetGroupArn"] for g in first_page["datasetGroups"] + rest["datasetGroups"]]
    assert len(paged) == len(set(paged))
    assert {group_arn, second_arn} <= set(paged)
    assert set(paged) == {g["datasetGroupArn"] for g in cli("list-dataset-groups")["datasetGroups"]}

    recipes = cli("list-recipes")["recipes"]
    assert "arn:aws:personalize:::recipe/aws-user-personalization" in {r["recipeArn"] for r in recipes}

    # Errors come back as the service's exceptions, and the CLI exits non-zero.
    stderr = cli.fails("create-dataset-group", "--name", group_name)
    assert "ResourceAlreadyExistsException" in stderr
    unknown = group_arn.rsplit("/", 1)[0] + f"/no-such-group-{suffix}"
    assert "ResourceNotFoundException" in cli.fails("describe-dataset-group", "--dataset-group-arn", unknown)
    assert "ResourceInUseException" in cli.fails("delete-schema", "--schema-arn", schema_arn)
    cli("describe-schema", "--schema-arn", schema_arn)  # still there
    stderr = cli.fails("create-dataset-group", "--name", "bad name!")
    assert "InvalidInputException" in stderr
    assert "Member must satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\\-_]*" in stderr, stderr
