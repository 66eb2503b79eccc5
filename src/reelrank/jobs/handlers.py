"""Job kind → the function that runs it."""

from __future__ import annotations

from collections.abc import Callable

from reelrank.service.vocabulary import ACTIVE

from .batch_inference import run_batch_inference
from .batch_segment import run_batch_segment
from .context import JobContext
from .data_deletion import run_data_deletion
from .dataset_export import run_dataset_export
from .dataset_import import run_dataset_import
from .kinds import (
    ACTIVATE,
    BATCH_INFERENCE,
    BATCH_SEGMENT,
    DATA_DELETION,
    DATASET_EXPORT,
    DATASET_IMPORT,
    METRIC_ATTRIBUTION,
    RECOMMENDER_TRAINING,
    SOLUTION_VERSION,
)
from .metric_attribution import run_metric_attribution
from .recommender import run_recommender_training
from .solution_version import run_solution_version


def run_activate(job: JobContext) -> None:
    """Resources with nothing to build (dataset groups, datasets) pass through IN_PROGRESS to ACTIVE."""
    job.start()
    with job.store.transaction() as tx:
        job.finish(tx, ACTIVE)


HANDLERS: dict[str, Callable[[JobContext], None]] = {
    ACTIVATE: run_activate,
    DATASET_IMPORT: run_dataset_import,
    DATASET_EXPORT: run_dataset_export,
    DATA_DELETION: run_data_deletion,
    SOLUTION_VERSION: run_solution_version,
    RECOMMENDER_TRAINING: run_recommender_training,
    BATCH_INFERENCE: run_batch_inference,
    BATCH_SEGMENT: run_batch_segment,
    METRIC_ATTRIBUTION: run_metric_attribution,
}
