"""Batch inference jobs: a solution version's recommendations for every line of a JSON Lines input."""

from __future__ import annotations

from typing import Any

from reelrank.errors import InvalidInputException, LimitExceededException
from reelrank.ingest.locations import parse_location
from reelrank.jobs.kinds import BATCH_INFERENCE, BATCH_SEGMENT
from reelrank.recipes.registry import spec_for
from reelrank.service.context import Context, describe, require
from reelrank.service.datasets import require_active
from reelrank.service.filters import FILTER
from reelrank.service.solutions import SOLUTION_VERSION_KIND
from reelrank.service.tagging import apply_tags
from reelrank.service.vocabulary import PENDING

BATCH_INFERENCE_JOB = "batch-inference-job"
BATCH_SEGMENT_JOB = "batch-segment-job"
_SEGMENT_RECIPES = ("aws-item-affinity", "aws-item-attribute-affinity")
_RUNNING = (PENDING, "IN PROGRESS")
_NO_BATCH = ("aws-trending-now", "aws-next-best-action")


class BatchJobs:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create_batch_inference_job(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("batchInferenceJobMode", "BATCH_INFERENCE") != "BATCH_INFERENCE":
            raise InvalidInputException("batchInferenceJobMode THEME_GENERATION is not supported by reelrank.")
        source = params["jobInput"]["s3DataSource"]["path"]
        destination = params["jobOutput"]["s3DataDestination"]["path"]
        parse_location(source, self.ctx.settings)
        parse_location(destination, self.ctx.settings)
        if destination.rstrip("/") == source.rstrip("/"):
            raise InvalidInputException("Invalid S3 output path: the output must differ from the input.")
        arn = self.ctx.arn(f"batch-inference-job/{params['jobName']}")
        with self.ctx.transaction() as tx:
            version = require_active(tx, params["solutionVersionArn"], SOLUTION_VERSION_KIND)
            recipe = version.body["recipeArn"].rsplit("/", 1)[-1]
            if recipe in (*_NO_BATCH, *_SEGMENT_RECIPES) or spec_for(version.body["recipeArn"]) is None:
                raise InvalidInputException(f"Batch inference is not available for the recipe {recipe}.")
            if "filterArn" in params:
                require_active(tx, params["filterArn"], FILTER)
            limit = self.ctx.settings.quotas.pending_batch_inference_jobs
            if tx.count_resources(BATCH_INFERENCE_JOB, statuses=_RUNNING) >= limit:
                raise LimitExceededException(f"More than {limit} resources with PENDING or IN_PROGRESS status.")
            copied = ("solutionVersionArn", "jobInput", "jobOutput", "roleArn", "filterArn", "batchInferenceJobConfig")
            body: dict[str, Any] = {key: params[key] for key in copied if key in params}
            body.update(jobName=params["jobName"], batchInferenceJobArn=arn, numResults=params.get("numResults", 25),
                        batchInferenceJobMode="BATCH_INFERENCE")
            tx.insert_resource(BATCH_INFERENCE_JOB, arn, params["jobName"], version.arn, PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, BATCH_INFERENCE, {})
        self.ctx.wake_jobs()
        return {"batchInferenceJobArn": arn}

    def describe_batch_inference_job(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            job = require(tx, params["batchInferenceJobArn"], BATCH_INFERENCE_JOB)
            return {"batchInferenceJob": describe(job)}

    def list_batch_inference_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(BATCH_INFERENCE_JOB, params, "batchInferenceJobs", "solutionVersionArn")

    def create_batch_segment_job(self, params: dict[str, Any]) -> dict[str, Any]:
        if "filterArn" in params:
            raise InvalidInputException("filterArn is not supported in batch segment jobs by reelrank yet.")
        source = params["jobInput"]["s3DataSource"]["path"]
        destination = params["jobOutput"]["s3DataDestination"]["path"]
        parse_location(source, self.ctx.settings)
        parse_location(destination, self.ctx.settings)
        arn = self.ctx.arn(f"batch-segment-job/{params['jobName']}")
        with self.ctx.transaction() as tx:
            version = require_active(tx, params["solutionVersionArn"], SOLUTION_VERSION_KIND)
            recipe = version.body["recipeArn"].rsplit("/", 1)[-1]
            if recipe not in _SEGMENT_RECIPES:
                raise InvalidInputException(f"Batch segment jobs need an aws-item-affinity or "
                                            f"aws-item-attribute-affinity solution version, not {recipe}.")
            limit = self.ctx.settings.quotas.pending_batch_inference_jobs
            if tx.count_resources(BATCH_SEGMENT_JOB, statuses=_RUNNING) >= limit:
                raise LimitExceededException(f"More than {limit} resources with PENDING or IN_PROGRESS status.")
            body: dict[str, Any] = {key: params[key] for key in ("solutionVersionArn", "jobInput", "jobOutput",
                                                                  "roleArn")}
            body.update(jobName=params["jobName"], batchSegmentJobArn=arn, numResults=params.get("numResults", 25))
            tx.insert_resource(BATCH_SEGMENT_JOB, arn, params["jobName"], version.arn, PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, BATCH_SEGMENT, {})
        self.ctx.wake_jobs()
        return {"batchSegmentJobArn": arn}

    def describe_batch_segment_job(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(BATCH_SEGMENT_JOB, params["batchSegmentJobArn"], "batchSegmentJob")

    def list_batch_segment_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(BATCH_SEGMENT_JOB, params, "batchSegmentJobs", "solutionVersionArn")
