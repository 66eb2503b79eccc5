"""Recommender training: on creation (CREATE PENDING → ACTIVE) and weekly while ACTIVE, serving on meanwhile."""

from __future__ import annotations

import time

from reelrank.recipes.registry import spec_for
from reelrank.service.vocabulary import ACTIVE, CREATE_IN_PROGRESS, CREATE_PENDING

from .context import JobContext, JobFailed
from .training import TrainingRequest, train


def run_recommender_training(job: JobContext) -> None:
    resource = job.resource()
    first = resource.status in (CREATE_PENDING, CREATE_IN_PROGRESS)
    if first:
        resource = job.start()
    body = resource.body
    spec = spec_for(body["recipeArn"])
    request = TrainingRequest(body["recipeArn"], body["datasetGroupArn"], spec.event_type if spec else None, {})
    try:
        trained = train(job, request)
    except JobFailed as failure:
        if first:
            raise
        with job.store.transaction() as tx:  # a failed retraining keeps the recommender serving its last model
            current = tx.get_resource(job.arn)
            assert current is not None
            job.finish(tx, current.status or ACTIVE, dict(current.body, lastTrainingFailure=str(failure)))
        return
    with job.store.transaction() as tx:
        current = tx.get_resource(job.arn)
        assert current is not None
        status = ACTIVE if first else current.status or ACTIVE
        job.finish(tx, status, dict(current.body, artifact=str(trained.folder), modelMetrics=trained.metrics,
                                    trainedAt=time.time()))
