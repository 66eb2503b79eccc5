"""Recommenders: the use cases of a domain dataset group, trained on creation and retrained weekly."""

from __future__ import annotations

from typing import Any

from reelrank.errors import (
    InvalidInputException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from reelrank.jobs.kinds import RECOMMENDER_TRAINING
from reelrank.service.context import Context, require
from reelrank.service.datasets import DATASET_GROUP, require_active
from reelrank.service.recipe_catalogue import recipe_by_arn
from reelrank.service.tagging import apply_tags
from reelrank.service.vocabulary import ACTIVE, CREATE_FAILED, CREATE_PENDING
from reelrank.store.metadata import Resource

RECOMMENDER = "recommender"
INACTIVE = "INACTIVE"
RETRAIN_SECONDS = 7 * 86400.0


class Recommenders:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create_recommender(self, params: dict[str, Any]) -> dict[str, Any]:
        recipe = recipe_by_arn(params["recipeArn"])
        if recipe is None:
            raise ResourceNotFoundException(f"Could not find resource with ARN {params['recipeArn']}.")
        arn = self.ctx.arn(f"recommender/{params['name']}")
        with self.ctx.transaction() as tx:
            group = require_active(tx, params["datasetGroupArn"], DATASET_GROUP)
            domain = group.body.get("domain")
            if recipe.get("domain") is None or recipe.get("domain") != domain:
                raise InvalidInputException(
                    f"{params['recipeArn']} is not a use case of the dataset group's domain ({domain or 'none'}).")
            limit = self.ctx.settings.quotas.recommenders_per_group
            if tx.count_resources(RECOMMENDER, group.arn) >= limit:
                raise LimitExceededException(f"A dataset group can have at most {limit} recommenders.")
            config = params.get("recommenderConfig", {})
            body = {"name": params["name"], "recommenderArn": arn, "datasetGroupArn": group.arn,
                    "recipeArn": params["recipeArn"], "recommenderConfig": config}
            tx.insert_resource(RECOMMENDER, arn, params["name"], group.arn, CREATE_PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, RECOMMENDER_TRAINING, {})
        self.ctx.wake_jobs()
        return {"recommenderArn": arn}

    def describe_recommender(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(RECOMMENDER, params["recommenderArn"], "recommender")

    def list_recommenders(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(RECOMMENDER, params, "recommenders", "datasetGroupArn")

    def update_recommender(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["recommenderArn"]
        with self.ctx.transaction() as tx:
            recommender = self._settled(tx.get_resource(arn), arn)
            body = dict(recommender.body, recommenderConfig=params["recommenderConfig"])
            body["latestRecommenderUpdate"] = {"recommenderConfig": params["recommenderConfig"], "status": ACTIVE,
                                               "creationDateTime": recommender.updated_at,
                                               "lastUpdatedDateTime": recommender.updated_at}
            tx.update_resource(arn, body=body)
        return {"recommenderArn": arn}

    def start_recommender(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._switch(params["recommenderArn"], INACTIVE, ACTIVE)

    def stop_recommender(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._switch(params["recommenderArn"], ACTIVE, INACTIVE)

    def _switch(self, arn: str, expected: str, new: str) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            recommender = require(tx, arn, RECOMMENDER)
            if recommender.status != expected:
                raise ResourceInUseException(f"Recommender {arn} is {recommender.status}, not {expected}.")
            tx.update_resource(arn, status=new)
        self.ctx.forget(arn)
        return {"recommenderArn": arn}

    def delete_recommender(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["recommenderArn"]
        with self.ctx.transaction() as tx:
            self._settled(tx.get_resource(arn), arn)
            tx.delete_resource(arn)
        self.ctx.forget(arn)
        return {}

    @staticmethod
    def _settled(recommender: Resource | None, arn: str) -> Resource:
        if recommender is None or recommender.kind != RECOMMENDER:
            raise ResourceNotFoundException(f"Could not find resource with ARN {arn}.")
        if recommender.status not in (ACTIVE, INACTIVE, CREATE_FAILED):
            raise ResourceInUseException(f"Recommender {arn} is {recommender.status}.")
        return recommender

    def retrain_due(self, now: float) -> list[str]:
        """Weekly retraining of ACTIVE recommenders (called by the job scheduler)."""
        started = []
        with self.ctx.transaction() as tx:
            for recommender in tx.list_resources(RECOMMENDER):
                trained_at = recommender.body.get("trainedAt", recommender.created_at)
                if recommender.status == ACTIVE and now - trained_at >= RETRAIN_SECONDS \
                        and tx.job_state(recommender.arn) not in ("queued", "running"):
                    tx.requeue_job(recommender.arn)
                    started.append(recommender.arn)
        if started:
            self.ctx.wake_jobs()
        return started
