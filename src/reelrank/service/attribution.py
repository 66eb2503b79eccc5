"""Metric attributions: metrics over recorded events, attributed to the campaign or recommender whose
recommendationId the event carries, written to the configured output (file:// or s3://)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

from reelrank.errors import InvalidInputException, LimitExceededException, ResourceAlreadyExistsException
from reelrank.ingest.locations import parse_location
from reelrank.jobs.kinds import METRIC_ATTRIBUTION
from reelrank.service.context import Context, describe, next_token, page_window, require
from reelrank.service.datasets import DATASET_GROUP, require_active
from reelrank.service.vocabulary import CREATE_PENDING
from reelrank.store.metadata import Transaction

METRIC_ATTRIBUTION_KIND = "metric-attribution"
MAX_METRICS = 10
EXPRESSION = re.compile(r"^\s*(SUM\(\s*(Items|Interactions)\.(\w+)\s*\)|SAMPLECOUNT\(\s*\))\s*$", re.IGNORECASE)
UNDEFINED_SOURCE = "SOURCE_NAME_UNDEFINED"


@lru_cache(maxsize=4096)
def source_code(arn: str) -> str:
    """The six hex digits a recommendationId carries for the campaign or recommender that issued it."""
    return hashlib.sha256(arn.encode()).hexdigest()[:6]


def check_metrics(metrics: list[dict[str, Any]]) -> None:
    for metric in metrics:
        if not EXPRESSION.match(metric["expression"]):
            raise InvalidInputException(f"Invalid expression {metric['expression']!r} for metric "
                                        f"{metric['metricName']}: use SUM(Items.<column>), "
                                        "SUM(Interactions.<column>) or SAMPLECOUNT().")
    names = [metric["metricName"] for metric in metrics]
    if len(set(names)) != len(names):
        raise InvalidInputException("Metric names must be unique.")
    if len(metrics) > MAX_METRICS:
        raise LimitExceededException(f"A metric attribution can have at most {MAX_METRICS} metrics.")


class Attributions:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create_metric_attribution(self, params: dict[str, Any]) -> dict[str, Any]:
        check_metrics(params["metrics"])
        output = params["metricsOutputConfig"]
        if "s3DataDestination" in output:
            parse_location(output["s3DataDestination"]["path"], self.ctx.settings)
        group_arn = params["datasetGroupArn"]
        arn = self.ctx.arn(f"metric-attribution/{params['name']}")
        with self.ctx.transaction() as tx:
            require_active(tx, group_arn, DATASET_GROUP)
            if tx.count_resources(METRIC_ATTRIBUTION_KIND, group_arn):
                raise ResourceAlreadyExistsException(f"Dataset group {group_arn} already has a metric attribution.")
            body = {"name": params["name"], "metricAttributionArn": arn, "datasetGroupArn": group_arn,
                    "metricsOutputConfig": output, "metrics": params["metrics"]}
            tx.insert_resource(METRIC_ATTRIBUTION_KIND, arn, params["name"], group_arn, CREATE_PENDING, body)
            tx.enqueue_job(arn, METRIC_ATTRIBUTION, {})
        self.ctx.wake_jobs()
        return {"metricAttributionArn": arn}

    def describe_metric_attribution(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            return {"metricAttribution": describe(require(tx, params["metricAttributionArn"],
                                                          METRIC_ATTRIBUTION_KIND))}

    def list_metric_attributions(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(METRIC_ATTRIBUTION_KIND, params, "metricAttributions", "datasetGroupArn")

    def list_metric_attribution_metrics(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            metrics = require(tx, params.get("metricAttributionArn", ""), METRIC_ATTRIBUTION_KIND).body["metrics"]
        scope = f"metrics|{params.get('metricAttributionArn')}"
        offset, limit = page_window(params, scope)
        return {"metrics": metrics[offset: offset + limit],
                "nextToken": next_token(len(metrics) - offset, offset, limit, scope)}

    def update_metric_attribution(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params.get("metricAttributionArn")
        if not arn:
            raise InvalidInputException("metricAttributionArn is required.")
        with self.ctx.transaction() as tx:
            attribution = require(tx, arn, METRIC_ATTRIBUTION_KIND)
            removed = set(params.get("removeMetrics", []))
            metrics = [m for m in attribution.body["metrics"] if m["metricName"] not in removed]
            metrics += params.get("addMetrics", [])
            check_metrics(metrics)
            body = dict(attribution.body, metrics=metrics)
            if "metricsOutputConfig" in params:
                body["metricsOutputConfig"] = params["metricsOutputConfig"]
            tx.update_resource(arn, body=body)
            _recompute(tx, arn)
        self.ctx.wake_jobs()
        return {"metricAttributionArn": arn}

    def delete_metric_attribution(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            require(tx, params["metricAttributionArn"], METRIC_ATTRIBUTION_KIND)
            tx.delete_resource(params["metricAttributionArn"])
        return {}

    def refresh_due(self, now: float) -> list[str]:
        """Recompute every attribution about every 15 minutes, as Personalize aggregates (job scheduler)."""
        refreshed = []
        with self.ctx.transaction() as tx:
            for attribution in tx.list_resources(METRIC_ATTRIBUTION_KIND):
                if now - attribution.updated_at >= REFRESH_SECONDS and _recompute(tx, attribution.arn):
                    refreshed.append(attribution.arn)
        if refreshed:
            self.ctx.wake_jobs()
        return refreshed


REFRESH_SECONDS = 15 * 60.0


def _recompute(tx: Transaction, arn: str) -> bool:
    if tx.job_state(arn) in ("queued", "running"):
        return False
    tx.requeue_job(arn)
    return True
