"""Campaigns: a solution version deployed for real-time recommendations."""

from __future__ import annotations

import logging
from typing import Any

from reelrank.errors import InvalidInputException, ResourceInUseException
from reelrank.jobs.kinds import ACTIVATE
from reelrank.recipes.registry import spec_for
from reelrank.service.context import Context, describe, page, require
from reelrank.service.datasets import require_active
from reelrank.service.solutions import SOLUTION, SOLUTION_VERSION_KIND
from reelrank.service.tagging import apply_tags
from reelrank.service.vocabulary import ACTIVE, CREATE_FAILED, CREATE_PENDING
from reelrank.store.metadata import Resource, Transaction

log = logging.getLogger(__name__)
CAMPAIGN = "campaign"
LATEST = "$LATEST"


def latest_active_version(tx: Transaction, solution_arn: str) -> Resource:
    for version in tx.list_resources(SOLUTION_VERSION_KIND, solution_arn, newest_first=True):
        if version.status == ACTIVE:
            return version
    raise ResourceInUseException(f"Solution {solution_arn} has no ACTIVE solution version.")


def resolve_version(tx: Transaction, arn: str) -> Resource:
    """An ACTIVE solution version, with `<solutionArn>/$LATEST` meaning the newest ACTIVE one."""
    if arn.endswith("/" + LATEST):
        solution_arn = arn.removesuffix("/" + LATEST)
        require(tx, solution_arn, SOLUTION)
        return latest_active_version(tx, solution_arn)
    return require_active(tx, arn, SOLUTION_VERSION_KIND)  # type: ignore[no-any-return]


class Campaigns:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create_campaign(self, params: dict[str, Any]) -> dict[str, Any]:
        config = params.get("campaignConfig", {})
        requested = params["solutionVersionArn"]
        if config.get("syncWithLatestSolutionVersion") and not requested.endswith("/" + LATEST):
            raise InvalidInputException("syncWithLatestSolutionVersion needs solutionVersionArn <solutionArn>/$LATEST.")
        arn = self.ctx.arn(f"campaign/{params['name']}")
        with self.ctx.transaction() as tx:
            version = resolve_version(tx, requested)
            spec = spec_for(version.body["recipeArn"])
            if spec is not None and spec.use == "segment":
                raise InvalidInputException("USER_SEGMENTATION recipes are used by batch segment jobs, not campaigns.")
            body = {"name": params["name"], "campaignArn": arn, "solutionVersionArn": version.arn,
                    "minProvisionedTPS": params.get("minProvisionedTPS", 1), "campaignConfig": config,
                    "recipeArn": version.body["recipeArn"], "datasetGroupArn": version.body["datasetGroupArn"],
                    "artifact": version.body["artifact"]}
            tx.insert_resource(CAMPAIGN, arn, params["name"], version.body["solutionArn"], CREATE_PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, ACTIVATE, {})
        self.ctx.wake_jobs()
        return {"campaignArn": arn}

    def describe_campaign(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(CAMPAIGN, params["campaignArn"], "campaign")

    def list_campaigns(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            if "solutionArn" in params:
                require(tx, params["solutionArn"], SOLUTION)
            rows, token = page(tx, CAMPAIGN, params, "solutionArn")
        return {"campaigns": [describe(row) for row in rows], "nextToken": token}

    def update_campaign(self, params: dict[str, Any]) -> dict[str, Any]:
        """Swap the model in one step: a request is answered by the old version or the new one, never a mix."""
        arn = params["campaignArn"]
        with self.ctx.transaction() as tx:
            campaign = require(tx, arn, CAMPAIGN)
            if campaign.status not in (ACTIVE, CREATE_FAILED):
                raise ResourceInUseException(f"Campaign {arn} is {campaign.status}; it can be updated when ACTIVE.")
            body = dict(campaign.body)
            if "solutionVersionArn" in params:
                version = resolve_version(tx, params["solutionVersionArn"])
                body.update(solutionVersionArn=version.arn, recipeArn=version.body["recipeArn"],
                            artifact=version.body["artifact"])
            for key in ("minProvisionedTPS", "campaignConfig"):
                if key in params:
                    body[key] = params[key]
            body["latestCampaignUpdate"] = {
                key: body[key] for key in ("solutionVersionArn", "minProvisionedTPS", "campaignConfig")}
            body["latestCampaignUpdate"].update(status=ACTIVE, creationDateTime=campaign.updated_at,
                                                lastUpdatedDateTime=campaign.updated_at)
            tx.update_resource(arn, status=ACTIVE, body=body)
        if "solutionVersionArn" in params:
            try:  # load the new model now, so that this process's next request does not wait for it
                self.ctx.deployments.get(body["recipeArn"], body["artifact"])
            except Exception:  # the runtime reports it when a request needs the model
                log.warning("the new model of %s could not be loaded", arn, exc_info=True)
        self.ctx.forget(arn)
        return {"campaignArn": arn}

    def delete_campaign(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            require(tx, params["campaignArn"], CAMPAIGN)
            tx.delete_resource(params["campaignArn"])
        self.ctx.forget(params["campaignArn"])
        return {}
