"""Solution version jobs: train the solution's recipe and publish the version with its metrics."""

from __future__ import annotations

import time

from reelrank.recipes.registry import spec_for
from reelrank.service.vocabulary import ACTIVE

from .context import JobContext
from .training import TrainingRequest, train


def run_solution_version(job: JobContext) -> None:
    started = time.monotonic()
    body = job.start().body
    spec = spec_for(body["recipeArn"])
    trained = train(job, TrainingRequest(body["recipeArn"], body["datasetGroupArn"], body.get("eventType"),
                                         body["solutionConfig"], bool(body.get("performHPO")),
                                         spec.dataset_type if spec else "INTERACTIONS"))
    hours = (time.monotonic() - started) / 3600.0
    with job.store.transaction() as tx:
        resource = tx.get_resource(job.arn)
        assert resource is not None
        published = dict(resource.body, metrics=trained.metrics, trainingHours=round(hours, 6),
                         artifact=str(trained.folder))
        if trained.tuned is not None:
            published["tunedHPOParams"] = {"algorithmHyperParameters": trained.tuned}
        job.finish(tx, ACTIVE, published)
