"""Training shared by solution versions and recommenders: data → (tuned) model → Personalize metrics → artifact.

Metrics come from Personalize's split (90% of users train; the newest 10% of each test user's events are the
targets), and a most-popular baseline is measured on the same split so the lift is visible. The served model is
then fitted on all the data and written as an artifact before the resource becomes ACTIVE.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from reelrank.evaluation.harness import evaluate_personalize
from reelrank.evaluation.metrics import PERSONALIZE_METRIC_KEYS
from reelrank.evaluation.splits import personalize_split
from reelrank.ingest.avro import camel_case, parse_schema
from reelrank.recipes import artifacts, tuning
from reelrank.recipes.base import Interactions, Model
from reelrank.recipes.contextual import contextual_fields
from reelrank.recipes.data import (
    ACTION_WEIGHTS,
    NotEnoughData,
    TrainingData,
    build,
    check_minimums,
    select_events,
)
from reelrank.recipes.popularity import Popularity, distinct_users_per_item
from reelrank.recipes.registry import model_class, spec_for
from reelrank.store.contents import contents

from .context import JobContext, JobFailed

BASELINE_PREFIX = "baseline_popularity_"


@dataclass(frozen=True)
class TrainingRequest:
    recipe_arn: str
    dataset_group_arn: str
    event_type: str | None
    config: dict[str, Any]
    """A solutionConfig: algorithmHyperParameters, eventValueThreshold, eventsConfig, hpoConfig."""
    tune: bool = False
    dataset_type: str = "INTERACTIONS"


@dataclass(frozen=True)
class Trained:
    folder: Path
    metrics: dict[str, float]
    tuned: dict[str, str] | None


def train(job: JobContext, request: TrainingRequest) -> Trained:
    spec = spec_for(request.recipe_arn)
    if spec is None:
        raise JobFailed(f"The recipe {request.recipe_arn} is not supported by this reelrank server.")
    job.progress("loading data", 0.0)
    data = load_data(job, request)
    hyperparameters = {**spec.fixed, **request.config.get("algorithmHyperParameters", {})}
    model_type = model_class(spec.algorithm)

    split = personalize_split(data.interactions, seed=0)
    tuned: dict[str, str] | None = None
    if request.tune:
        tuned = _tune(job, request.config.get("hpoConfig", {}), model_type, hyperparameters, split.train)
        hyperparameters.update(tuned)
    job.progress("training on the evaluation split", 30.0)
    evaluated = model_type(hyperparameters)
    evaluated.fit(split.train, lambda done: job.progress("training on the evaluation split", 30.0 + 15.0 * done))
    job.progress("measuring", 45.0)
    metrics = evaluate_personalize(evaluated, split, exclude_seen=True)
    baseline = Popularity()
    baseline.fit(split.train)
    metrics.update({BASELINE_PREFIX + key: value
                    for key, value in evaluate_personalize(baseline, split, exclude_seen=True).items()})

    job.progress("training on all data", 50.0)
    model = model_type(hyperparameters)
    model.fit(data.interactions, lambda done: job.progress("training on all data", 50.0 + 45.0 * done))
    folder = job.settings.data_dir / "models" / hashlib.sha256(f"{job.arn}|{job.token}".encode()).hexdigest()[:24]
    if folder.exists():  # left by an earlier attempt that did not publish
        shutil.rmtree(folder)
    artifacts.save(model, data.item_ids, folder, {"arn": job.arn, "recipeArn": request.recipe_arn},
                   _popularity(data.interactions), data.context)
    return Trained(folder, metrics, tuned)


def _popularity(interactions: Interactions) -> np.ndarray:
    return distinct_users_per_item(interactions.users, interactions.items, interactions.n_items)


def _tune(job: JobContext, hpo: dict[str, Any], model_type: type[Model], fixed: dict[str, str],
          data: Interactions) -> dict[str, str]:
    space = tuning.search_space(hpo.get("algorithmHyperParameterRanges", {}), model_type)
    trials = int(hpo.get("hpoResourceConfig", {}).get("maxNumberOfTrainingJobs", tuning.DEFAULT_TRIALS))
    objective = hpo.get("hpoObjective", {}).get("metricName")
    if objective not in PERSONALIZE_METRIC_KEYS:
        objective = tuning.DEFAULT_OBJECTIVE
    job.progress("tuning hyperparameters", 5.0)
    return tuning.tune(model_type, fixed, space, data, trials, objective,
                       lambda done: job.progress("tuning hyperparameters", 5.0 + 25.0 * done))


_EVENT_COLUMNS = {"USER_ID": pa.string(), "ITEM_ID": pa.string(), "EVENT_TYPE": pa.string(),
                  "EVENT_VALUE": pa.float32(), "TIMESTAMP": pa.int64()}


def _with_events(bulk: pa.Table | None, rows: list[Any], contextual: list[str]) -> pa.Table | None:
    """Bulk interactions plus the events recorded with PutEvents (those that name a user: session-only activity
    does not train, as in Personalize), with the `contextual` fields their `properties` name (in camel case, as
    PutEvents names schema fields: DEVICE_TYPE is deviceType)."""
    if not rows:
        return bulk
    values = {"USER_ID": [r.user_id for r in rows], "ITEM_ID": [r.item_id for r in rows],
              "EVENT_TYPE": [r.event_type for r in rows], "EVENT_VALUE": [r.event_value for r in rows],
              "TIMESTAMP": [int(r.sent_at) for r in rows]}
    if contextual:
        properties = [orjson.loads(r.properties) if r.properties else {} for r in rows]
        for name in contextual:
            key = camel_case(name)
            values[name] = [None if (value := found.get(key, found.get(name))) is None else str(value)
                            for found in properties]
    types = {name: bulk.schema.field(name).type for name in bulk.column_names} if bulk is not None else _EVENT_COLUMNS
    types = {**{name: pa.string() for name in contextual}, **types}
    live = pa.table({name: pa.array(values[name], kind) for name, kind in types.items() if name in values})
    return live if bulk is None else pa.concat_tables([bulk, live], promote_options="default")


def load_data(job: JobContext, request: TrainingRequest) -> TrainingData:
    """The dataset group's interactions (and items, for metadata), filtered and weighted as configured."""
    config = request.config
    actions = request.dataset_type == "ACTION_INTERACTIONS"
    with job.store.transaction() as tx:
        datasets = {d.body["datasetType"]: d for d in tx.list_resources("dataset", request.dataset_group_arn)}
        live = tx.events_detail(request.dataset_group_arn, kind="action" if actions else "item")
        events_of_users = [row for row in live if row.user_id and row.item_id]
        versions = {kind: tx.current_dataset_version(d.arn) for kind, d in datasets.items()}
        schemas = {kind: tx.get_resource(d.body["schemaArn"]) for kind, d in datasets.items()}
    interactions_version = versions.get(request.dataset_type)
    bulk = job.files.read(interactions_version.files, request.dataset_type) if interactions_version else None
    if bulk is not None and actions:
        bulk = bulk.rename_columns(["ITEM_ID" if name == "ACTION_ID" else name for name in bulk.column_names])
    events_schema = schemas.get(request.dataset_type)
    contextual = [] if actions or events_schema is None else contextual_fields(
        [(f.name, f.categorical) for f in parse_schema(events_schema.body["schema"]).fields])
    table = _with_events(bulk, events_of_users, contextual)
    if table is None:
        raise JobFailed(f"Create failed. The dataset group has no {request.dataset_type.lower()} data; "
                        "import some first.")
    if actions:
        kinds = pc.utf8_lower(table.column("EVENT_TYPE")).to_pylist()
        events, weights = table, np.array([ACTION_WEIGHTS.get(kind, -1.0) for kind in kinds], dtype=np.float32)
    else:
        threshold = config.get("eventValueThreshold")
        events, weights = select_events(table, request.event_type, float(threshold) if threshold else None,
                                        config.get("eventsConfig", {}).get("eventParametersList"))
    items_dataset, items_schema = (None, None) if actions else (datasets.get("ITEMS"), schemas.get("ITEMS"))
    items, categorical, textual = None, [], []
    if items_dataset is not None and items_schema is not None:
        schema = parse_schema(items_schema.body["schema"])
        with job.store.transaction() as tx:
            items = contents(tx, job.files, items_dataset, schema)
        fields = schema.fields
        categorical = [f.name for f in fields if f.categorical]
        textual = [f.name for f in fields if f.textual]
    data = build(events, weights, items, categorical, textual, contextual)
    try:
        check_minimums(data.interactions.users, data.interactions.n_users, request.event_type)
    except NotEnoughData as failure:
        raise JobFailed(str(failure)) from None
    return data
