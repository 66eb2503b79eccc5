"""Solutions and solution versions through boto3: train on a generated catalogue, read GetSolutionMetrics."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from reelrank import synthetic
from tests.support.flows import RECIPE, interactions_group, run_import, solution, train, unique, wait_for
from tests.support.servers import BIN, ReelrankServer

PERSONALIZE_KEYS = {"coverage", "mean_reciprocal_rank_at_25", "normalized_discounted_cumulative_gain_at_5",
                    "normalized_discounted_cumulative_gain_at_10", "normalized_discounted_cumulative_gain_at_25",
                    "precision_at_5", "precision_at_10", "precision_at_25"}


@pytest.fixture(scope="module")
def personalize(server: ReelrankServer) -> Any:
    return server.client()


@pytest.fixture(scope="module")
def group(personalize: Any, import_root: Path) -> str:
    """A dataset group holding a generated catalogue's interactions."""
    catalogue = synthetic.generate(n_users=400, n_items=250, n_interactions=12_000, seed=3)
    path = import_root / f"{unique('catalogue')}.csv"
    synthetic.write_csv(catalogue.interactions, path)
    group_arn, dataset_arn = interactions_group(personalize)
    assert run_import(personalize, dataset_arn, path.as_uri())["status"] == "ACTIVE"
    return group_arn


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_train_a_version_and_read_its_metrics(personalize: Any, group: str) -> None:
    solution_arn = solution(personalize, group, "aws-user-personalization")
    version = train(personalize, solution_arn)
    assert version["status"] == "ACTIVE", version.get("failureReason")
    assert version["trainingMode"] == "FULL" and version["trainingType"] == "MANUAL"
    assert version["solutionVersionArn"].startswith(solution_arn + "/")
    assert len(version["solutionVersionArn"].rsplit("/", 1)[1]) == 8
    metrics = personalize.get_solution_metrics(solutionVersionArn=version["solutionVersionArn"])["metrics"]
    assert set(metrics) >= PERSONALIZE_KEYS
    assert all(0.0 <= metrics[key] <= 1.0 for key in PERSONALIZE_KEYS)
    baseline = metrics["baseline_popularity_normalized_discounted_cumulative_gain_at_10"]
    assert metrics["normalized_discounted_cumulative_gain_at_10"] > baseline
    described = personalize.describe_solution(solutionArn=solution_arn)["solution"]
    assert described["latestSolutionVersion"]["solutionVersionArn"] == version["solutionVersionArn"]
    versions = personalize.get_paginator("list_solution_versions").paginate(solutionArn=solution_arn)
    assert [v["solutionVersionArn"] for page in versions for v in page["solutionVersions"]] == [
        version["solutionVersionArn"]]


@pytest.mark.parametrize("recipe", ["aws-popularity-count", "aws-sims", "aws-trending-now", "aws-similar-items",
                                    "aws-personalized-ranking-v2"])
def test_every_kind_of_recipe_trains(personalize: Any, group: str, recipe: str) -> None:
    version = train(personalize, solution(personalize, group, recipe))
    assert version["status"] == "ACTIVE", version.get("failureReason")


def test_hyperparameters_are_checked_per_recipe(personalize: Any, group: str) -> None:
    def create(recipe: str, values: dict[str, str]) -> tuple[str, str]:
        return error_of(personalize.create_solution, name=unique("bad"), datasetGroupArn=group,
                        recipeArn=RECIPE + recipe, solutionConfig={"algorithmHyperParameters": values})

    code, message = create("aws-sims", {"colour": "blue"})
    assert code == "InvalidInputException"
    assert message.startswith("Unknown hyperparameter colour for recipe aws-sims; it accepts: ")
    code, message = create("aws-sims", {"popularity_discount_factor": "1.5"})
    assert message == ("Hyperparameter popularity_discount_factor=1.5 is out of range; it must be between 0.0 "
                       "and 1.0.")
    code, message = create("aws-user-personalization", {"hidden_dimension": "lots"})
    assert message == "Invalid value 'lots' for hyperparameter hidden_dimension; expected an integer."


def test_use_case_recipes_belong_to_recommenders(personalize: Any, group: str) -> None:
    code, message = error_of(personalize.create_solution, name=unique("vod"), datasetGroupArn=group,
                             recipeArn=RECIPE + "aws-vod-top-picks")
    assert code == "InvalidInputException" and "use CreateRecommender" in message


def test_too_little_data_fails_with_personalizes_reason(personalize: Any, import_root: Path) -> None:
    rows = "".join(f"u{i % 10},m{i % 300},Watch,{1_600_000_000 + i},\n" for i in range(1500))
    path = import_root / f"{unique('few-users')}.csv"
    path.write_text("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE\n" + rows)
    group_arn, dataset_arn = interactions_group(personalize)
    assert run_import(personalize, dataset_arn, path.as_uri())["status"] == "ACTIVE"
    version = train(personalize, solution(personalize, group_arn, "aws-user-personalization"))
    assert version["status"] == "CREATE FAILED"
    assert version["failureReason"] == ("Create failed. Dataset has fewer than 25 users with at least 2 "
                                        "interactions each.")
    only_clicks = train(personalize, solution(personalize, group_arn, "aws-sims", eventType="Click"))
    assert only_clicks["failureReason"] == ("Create failed. Dataset has fewer than 1000 interactions after "
                                            "filtering by event type: Click.")


def test_stopping_a_version(personalize: Any, group: str) -> None:
    solution_arn = solution(personalize, group, "aws-user-personalization")
    arn = personalize.create_solution_version(solutionArn=solution_arn)["solutionVersionArn"]
    personalize.stop_solution_version_creation(solutionVersionArn=arn)
    final = wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=arn)["solutionVersion"])
    assert final["status"] == "CREATE STOPPED"
    code, message = error_of(personalize.get_solution_metrics, solutionVersionArn=arn)
    assert (code, message) == ("ResourceInUseException", f"Solution version {arn} is CREATE STOPPED, not ACTIVE.")
    code, _ = error_of(personalize.stop_solution_version_creation, solutionVersionArn=arn)
    assert code == "ResourceInUseException"


def test_delete_a_solution(personalize: Any, group: str) -> None:
    arn = solution(personalize, group, "aws-popularity-count")
    personalize.delete_solution(solutionArn=arn)
    code, _ = error_of(personalize.describe_solution, solutionArn=arn)
    assert code == "ResourceNotFoundException"


def test_hpo_searches_and_reports_the_chosen_values(personalize: Any, group: str) -> None:
    config = {"hpoConfig": {
        "hpoResourceConfig": {"maxNumberOfTrainingJobs": "3", "maxParallelTrainingJobs": "1"},
        "algorithmHyperParameterRanges": {
            "continuousHyperParameterRanges": [{"name": "popularity_discount_factor", "minValue": 0.1,
                                                "maxValue": 0.9}]}}}
    version = train(personalize, solution(personalize, group, "aws-sims", performHPO=True, solutionConfig=config))
    assert version["status"] == "ACTIVE", version.get("failureReason")
    tuned = version["tunedHPOParams"]["algorithmHyperParameters"]
    assert set(tuned) == {"popularity_discount_factor"}
    assert 0.1 <= float(tuned["popularity_discount_factor"]) <= 0.9


def test_the_cli_trains_with_a_progress_bar_and_prints_metrics(server: ReelrankServer, personalize: Any,
                                                                group: str) -> None:
    solution_arn = solution(personalize, group, "aws-popularity-count")
    result = subprocess.run([str(BIN / "reelrank"), "train", solution_arn, "--endpoint-url", server.url, "--json"],
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["status"] == "ACTIVE"
    assert state["metrics"]["precision_at_10"] == state["metrics"]["baseline_popularity_precision_at_10"]
    # the progress extension is signed like the API: an unsigned call is refused
    assert httpx.get(f"{server.url}/reelrank/progress", params={"arn": state["arn"]}).status_code == 403
