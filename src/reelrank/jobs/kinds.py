"""Job kinds. Light kinds run in the scheduler thread; the others in a process each."""

ACTIVATE = "activate"
DATASET_IMPORT = "dataset-import"
DATASET_EXPORT = "dataset-export"
DATA_DELETION = "data-deletion"
SOLUTION_VERSION = "solution-version"
RECOMMENDER_TRAINING = "recommender-training"
BATCH_INFERENCE = "batch-inference"
BATCH_SEGMENT = "batch-segment"
METRIC_ATTRIBUTION = "metric-attribution"

LIGHT_KINDS = frozenset({ACTIVATE})
