"""Steps of Personalize's getting-started flow, shared by the end-to-end tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from reelrank import synthetic

DONE = ("ACTIVE", "CREATE FAILED", "CREATE STOPPED", "COMPLETED", "FAILED")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for(describe: Callable[[], dict[str, Any]], timeout: float = 60.0) -> dict[str, Any]:
    """Poll a Describe* result until its status is final, as AWS samples do."""
    deadline = time.monotonic() + timeout
    while True:
        result = describe()
        if result["status"] in DONE or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def interactions_group(personalize: Any, name: str | None = None,
                       schema_text: str = synthetic.INTERACTIONS_SCHEMA) -> tuple[str, str]:
    """An ACTIVE dataset group with an ACTIVE interactions dataset: (group ARN, dataset ARN)."""
    name = name or unique("group")
    schema = personalize.create_schema(name=unique("schema"), schema=schema_text)
    group_arn = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"])
    dataset_arn = personalize.create_dataset(name=unique("interactions"), schemaArn=schema["schemaArn"],
                                             datasetGroupArn=group_arn, datasetType="Interactions")["datasetArn"]
    wait_for(lambda: personalize.describe_dataset(datasetArn=dataset_arn)["dataset"])
    return group_arn, dataset_arn


def run_import(personalize: Any, dataset_arn: str, location: str, mode: str = "FULL") -> dict[str, Any]:
    job_arn = personalize.create_dataset_import_job(
        jobName=unique("import"), datasetArn=dataset_arn, dataSource={"dataLocation": location},
        importMode=mode)["datasetImportJobArn"]
    return wait_for(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job_arn)["datasetImportJob"])


RECIPE = "arn:aws:personalize:::recipe/"


def solution(personalize: Any, group_arn: str, recipe: str, **extra: Any) -> str:
    """An ACTIVE solution of `recipe` (automatic training off)."""
    arn = personalize.create_solution(name=unique("solution"), datasetGroupArn=group_arn, recipeArn=RECIPE + recipe,
                                      performAutoTraining=False, **extra)["solutionArn"]
    assert wait_for(lambda: personalize.describe_solution(solutionArn=arn)["solution"])["status"] == "ACTIVE"
    return str(arn)


def train(personalize: Any, solution_arn: str) -> dict[str, Any]:
    """A new solution version, once its training has ended (ACTIVE or not)."""
    arn = personalize.create_solution_version(solutionArn=solution_arn)["solutionVersionArn"]
    return wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=arn)["solutionVersion"],
                    timeout=180)


def trained_version(personalize: Any, group_arn: str, recipe: str) -> str:
    """The ARN of an ACTIVE solution version of `recipe`."""
    version = train(personalize, solution(personalize, group_arn, recipe))
    assert version["status"] == "ACTIVE", version.get("failureReason")
    return str(version["solutionVersionArn"])


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `check()` holds (polling every 10 ms), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)
