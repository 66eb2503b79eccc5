"""Solutions and solution versions: configuration checked per recipe; training runs as a job."""

from __future__ import annotations

from typing import Any

from reelrank.errors import (
    InvalidInputException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from reelrank.jobs.kinds import ACTIVATE, SOLUTION_VERSION
from reelrank.jobs.schedule import due_solutions
from reelrank.recipes.registry import spec_for
from reelrank.service import hyperparameters
from reelrank.service.arns import short_id
from reelrank.service.context import Context, describe, page, require
from reelrank.service.datasets import DATASET_GROUP, require_active
from reelrank.service.recipe_catalogue import recipe_by_arn
from reelrank.service.tagging import apply_tags
from reelrank.service.vocabulary import ACTIVE, CREATE_PENDING, RUNNING_STATUSES
from reelrank.store.metadata import Resource, Transaction

SOLUTION, SOLUTION_VERSION_KIND = "solution", "solution-version"
CREATE_STOPPING, CREATE_STOPPED = "CREATE STOPPING", "CREATE STOPPED"
MAX_PENDING_VERSIONS = 20
DEFAULT_RECIPE = "arn:aws:personalize:::recipe/aws-user-personalization-v2"
_AUTO_TRAINING = "rate(7 days)"


class Solutions:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # solutions
    def create_solution(self, params: dict[str, Any]) -> dict[str, Any]:
        recipe_arn = params.get("recipeArn")
        auto_ml = params.get("performAutoML", False)
        if recipe_arn is None and not auto_ml:
            raise InvalidInputException("recipeArn is required unless performAutoML is true.")
        recipe_arn = recipe_arn or DEFAULT_RECIPE
        self._check_recipe(recipe_arn, params.get("solutionConfig", {}))
        arn = self.ctx.arn(f"solution/{params['name']}")
        body: dict[str, Any] = {
            "name": params["name"], "solutionArn": arn, "recipeArn": recipe_arn,
            "datasetGroupArn": params["datasetGroupArn"], "performHPO": params.get("performHPO", False),
            "performAutoML": auto_ml, "performAutoTraining": params.get("performAutoTraining", True),
            "performIncrementalUpdate": params.get("performIncrementalUpdate", False),
            "solutionConfig": params.get("solutionConfig", {}),
        }
        if params.get("eventType"):
            body["eventType"] = params["eventType"]
        if auto_ml:
            body["autoMLResult"] = {"bestRecipeArn": recipe_arn}
        if body["performAutoTraining"]:
            body["solutionConfig"].setdefault("autoTrainingConfig", {"schedulingExpression": _AUTO_TRAINING})
        with self.ctx.transaction() as tx:
            require_active(tx, params["datasetGroupArn"], DATASET_GROUP)
            tx.insert_resource(SOLUTION, arn, params["name"], params["datasetGroupArn"], CREATE_PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, ACTIVATE, {})
        self.ctx.wake_jobs()
        return {"solutionArn": arn}

    def _check_recipe(self, recipe_arn: str, config: dict[str, Any]) -> None:
        recipe = recipe_by_arn(recipe_arn)
        if recipe is None:
            raise ResourceNotFoundException(f"Could not find resource with ARN {recipe_arn}.")
        if "domain" in recipe:
            raise InvalidInputException(
                f"{recipe_arn} is a use case of the {recipe['domain']} domain; use CreateRecommender with it.")
        spec = spec_for(recipe_arn)
        if spec is None:
            raise InvalidInputException(f"The recipe {recipe_arn} is not supported by this reelrank server yet.")
        ranges = hyperparameters.declared_ranges(recipe_arn, spec)
        hyperparameters.validate(config.get("algorithmHyperParameters", {}), ranges, recipe["name"])
        hpo = config.get("hpoConfig", {}).get("algorithmHyperParameterRanges", {})
        for kind in ("integer", "continuous", "categorical"):
            for entry in hpo.get(f"{kind}HyperParameterRanges", []):
                if entry["name"] not in ranges:
                    raise InvalidInputException(
                        f"Unknown hyperparameter {entry['name']} in hpoConfig for recipe {recipe['name']}.")

    def describe_solution(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            solution = require(tx, params["solutionArn"], SOLUTION)
            return {"solution": describe(solution, latestSolutionVersion=_latest_version(tx, solution.arn))}

    def list_solutions(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            if "datasetGroupArn" in params:
                require(tx, params["datasetGroupArn"], DATASET_GROUP)
            rows, token = page(tx, SOLUTION, params, "datasetGroupArn")
        return {"solutions": [describe(row) for row in rows], "nextToken": token}

    def update_solution(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["solutionArn"]
        with self.ctx.transaction() as tx:
            solution = require_active(tx, arn, SOLUTION)
            body = dict(solution.body)
            update = params.get("solutionUpdateConfig", {})
            for key in ("performAutoTraining", "performIncrementalUpdate"):
                if key in params:
                    body[key] = params[key]
            config = dict(body.get("solutionConfig", {}))
            config.update({key: update[key] for key in ("autoTrainingConfig", "eventsConfig") if key in update})
            body["solutionConfig"] = config
            body["latestSolutionUpdate"] = {
                "solutionUpdateConfig": update, "status": ACTIVE,
                "performAutoTraining": body["performAutoTraining"],
                "performIncrementalUpdate": body["performIncrementalUpdate"],
                "creationDateTime": solution.updated_at, "lastUpdatedDateTime": solution.updated_at}
            tx.update_resource(arn, body=body)
        return {"solutionArn": arn}

    def delete_solution(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["solutionArn"]
        with self.ctx.transaction() as tx:
            require(tx, arn, SOLUTION)
            if tx.count_resources("campaign", arn):
                raise ResourceInUseException(f"Solution {arn} has campaigns; delete them first.")
            if tx.count_resources(SOLUTION_VERSION_KIND, arn, RUNNING_STATUSES):
                raise ResourceInUseException(f"Solution {arn} has a solution version in progress.")
            for version in tx.list_resources(SOLUTION_VERSION_KIND, arn):
                tx.delete_resource(version.arn)
            tx.delete_resource(arn)
        return {}

    # solution versions
    def create_solution_version(self, params: dict[str, Any], training_type: str = "MANUAL") -> dict[str, Any]:
        solution_arn = params["solutionArn"]
        mode = params.get("trainingMode", "FULL")
        with self.ctx.transaction() as tx:
            solution = require_active(tx, solution_arn, SOLUTION)
            if tx.count_resources(SOLUTION_VERSION_KIND, statuses=RUNNING_STATUSES) >= MAX_PENDING_VERSIONS:
                raise LimitExceededException(
                    f"More than {MAX_PENDING_VERSIONS} solution versions with PENDING or IN_PROGRESS status.")
            if mode == "UPDATE" and not any(v.status == ACTIVE and v.body.get("trainingMode") != "UPDATE"
                                            for v in tx.list_resources(SOLUTION_VERSION_KIND, solution_arn)):
                raise InvalidInputException("trainingMode UPDATE needs an ACTIVE solution version trained with FULL.")
            arn = f"{solution_arn}/{short_id()}"
            body = self.version_body(solution, arn, params.get("name"), mode, training_type)
            tx.insert_resource(SOLUTION_VERSION_KIND, arn, params.get("name") or arn.rsplit("/", 1)[1],
                               solution_arn, CREATE_PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, SOLUTION_VERSION, {})
        self.ctx.wake_jobs()
        return {"solutionVersionArn": arn}

    @staticmethod
    def version_body(solution: Resource, arn: str, name: str | None, mode: str, training_type: str) -> dict[str, Any]:
        body = {key: solution.body[key] for key in ("solutionArn", "recipeArn", "datasetGroupArn", "performHPO",
                                                     "performAutoML", "performIncrementalUpdate", "solutionConfig")}
        body.update(solutionVersionArn=arn, trainingMode=mode, trainingType=training_type)
        if name:
            body["name"] = name
        if solution.body.get("eventType"):
            body["eventType"] = solution.body["eventType"]
        return body

    def train_due_solutions(self, now: float) -> list[str]:
        """Start the automatic versions that are due (called by the job scheduler)."""
        with self.ctx.transaction() as tx:
            due = [solution.arn for solution in due_solutions(tx, now)]
        return [self.create_solution_version({"solutionArn": arn, "trainingMode": "AUTOTRAIN"}, "AUTOMATIC")[
            "solutionVersionArn"] for arn in due]

    def describe_solution_version(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            version = require(tx, params["solutionVersionArn"], SOLUTION_VERSION_KIND)
            return {"solutionVersion": describe(version)}

    def list_solution_versions(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            if "solutionArn" in params:
                require(tx, params["solutionArn"], SOLUTION)
            rows, token = page(tx, SOLUTION_VERSION_KIND, params, "solutionArn", newest_first=True)
        return {"solutionVersions": [describe(row) for row in rows], "nextToken": token}

    def stop_solution_version_creation(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["solutionVersionArn"]
        with self.ctx.transaction() as tx:
            version = require(tx, arn, SOLUTION_VERSION_KIND)
            if version.status not in RUNNING_STATUSES:
                raise ResourceInUseException(f"Solution version {arn} is {version.status}; only a version in "
                                             "CREATE PENDING or CREATE IN_PROGRESS can be stopped.")
            tx.update_resource(arn, status=CREATE_STOPPED if version.status == CREATE_PENDING else CREATE_STOPPING)
            tx.set_job_state(arn, "cancelled")
        self.ctx.wake_jobs()
        return {}

    def get_solution_metrics(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["solutionVersionArn"]
        with self.ctx.transaction() as tx:
            version = require(tx, arn, SOLUTION_VERSION_KIND)
        if version.status != ACTIVE:
            raise ResourceInUseException(f"Solution version {arn} is {version.status}, not ACTIVE.")
        return {"solutionVersionArn": arn, "metrics": version.body.get("metrics", {})}


def _latest_version(tx: Transaction, solution_arn: str) -> dict[str, Any] | None:
    versions = tx.list_resources(SOLUTION_VERSION_KIND, solution_arn, limit=1, newest_first=True)
    return describe(versions[0]) if versions else None
