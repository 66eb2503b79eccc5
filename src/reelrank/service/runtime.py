"""personalize-runtime: GetRecommendations and GetPersonalizedRanking from deployed models and live histories."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from reelrank.errors import InvalidInputException, ResourceNotFoundException
from reelrank.service.campaigns import CAMPAIGN
from reelrank.service.context import Context
from reelrank.service.vocabulary import ACTIVE
from reelrank.serving.deployments import Deployment, softmax

DEFAULT_RESULTS = 25
_SCORED_USES = ("user", "ranking")


def _recommendation_id() -> str:
    return f"RID-{uuid.uuid4()}"


class Runtime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _campaign(self, arn: str) -> tuple[Deployment, str]:
        with self.ctx.transaction() as tx:
            campaign = tx.get_resource(arn)
        if campaign is None or campaign.kind != CAMPAIGN or campaign.status != ACTIVE:
            raise ResourceNotFoundException(f"Could not find an ACTIVE campaign with ARN {arn}.")
        body = campaign.body
        deployment = self.ctx.deployments.get(body["solutionVersionArn"], body["recipeArn"], body["artifact"])
        return deployment, body["datasetGroupArn"]

    def get_recommendations(self, params: dict[str, Any]) -> dict[str, Any]:
        for unsupported in ("recommenderArn", "filterArn", "promotions"):
            if unsupported in params:
                raise InvalidInputException(f"{unsupported} is not supported by this reelrank server yet.")
        if "campaignArn" not in params:
            raise InvalidInputException("campaignArn is required.")
        deployment, group = self._campaign(params["campaignArn"])
        user_id, item_id = params.get("userId"), params.get("itemId")
        use = deployment.spec.use
        if use == "related" and item_id is None:
            raise InvalidInputException("itemId is required for a related-items campaign.")
        if use in _SCORED_USES and user_id is None:
            raise InvalidInputException("userId is required for this campaign.")
        count = params.get("numResults", DEFAULT_RESULTS)
        history = self.ctx.histories.of(group, user_id) if user_id else []
        scores = deployment.scores(history, item_id)
        excluded = deployment.indices([item_id]) if item_id else np.zeros(0, dtype=np.int64)
        if scores is None:
            ranked = [int(i) for i in deployment.popular[: count + len(excluded)] if i not in excluded][:count]
            items: list[dict[str, Any]] = [{"itemId": str(deployment.item_ids[i])} for i in ranked]
        else:
            scores[excluded] = -np.inf
            ranked = _top(scores, count)
            if use in _SCORED_USES:
                probabilities = softmax(np.where(np.isfinite(scores), scores, scores[np.isfinite(scores)].min()))
                items = [{"itemId": str(deployment.item_ids[i]), "score": round(float(probabilities[i]), 7)}
                         for i in ranked]
            else:
                items = [{"itemId": str(deployment.item_ids[i])} for i in ranked]
        return {"itemList": items, "recommendationId": _recommendation_id()}

    def get_personalized_ranking(self, params: dict[str, Any]) -> dict[str, Any]:
        for unsupported in ("filterArn",):
            if unsupported in params:
                raise InvalidInputException(f"{unsupported} is not supported by this reelrank server yet.")
        deployment, group = self._campaign(params["campaignArn"])
        if deployment.spec.use not in _SCORED_USES:
            raise InvalidInputException("GetPersonalizedRanking needs a campaign of a PERSONALIZED_RANKING recipe.")
        candidates = params["inputList"]
        known = [item for item in candidates if item in deployment.index]
        unknown = [item for item in candidates if item not in deployment.index]
        ranked: list[dict[str, Any]] = []
        if known:
            scores = deployment.scores(self.ctx.histories.of(group, params["userId"]), None)
            indices = deployment.indices(known)
            if scores is None:  # a user without evidence: popularity order, no scores
                rank_of = np.empty(len(deployment.popular), dtype=np.int64)
                rank_of[deployment.popular] = np.arange(len(deployment.popular))
                ranked = [{"itemId": known[i]} for i in np.argsort(rank_of[indices], kind="stable")]
            else:
                probabilities = softmax(scores[indices])
                order = np.argsort(-probabilities, kind="stable")
                ranked = [{"itemId": known[i], "score": round(float(probabilities[i]), 7)} for i in order]
        ranked.extend({"itemId": item} for item in unknown)
        return {"personalizedRanking": ranked, "recommendationId": _recommendation_id()}


def _top(scores: np.ndarray, count: int) -> list[int]:
    count = min(count, int(np.isfinite(scores).sum()))
    if count <= 0:
        return []
    candidates = np.argpartition(-scores, count - 1)[:count]
    return [int(i) for i in candidates[np.argsort(-scores[candidates], kind="stable")]]
