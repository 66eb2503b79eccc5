"""Batch segment jobs (aws-item-affinity, aws-item-attribute-affinity): for each input item or attribute query,
the users most likely to interact, best first."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import orjson

from reelrank.filters import ItemTable
from reelrank.ingest.locations import store
from reelrank.service.context import Context
from reelrank.service.vocabulary import ACTIVE

from .context import JobContext, JobFailed
from .inputs import active_version, input_files, location, scratch

_CONDITION = re.compile(r'^\s*ITEMS\.(\w+)\s*=\s*"([^"]*)"\s*$', re.IGNORECASE)
MAX_ITEM_QUERIES = 500
MAX_ATTRIBUTE_QUERIES = 10


def run_batch_segment(job: JobContext) -> None:
    body = job.start().body
    version = active_version(job, body["solutionVersionArn"])
    ctx = Context(job.settings, job.store, job.files)
    deployment = ctx.deployments.get(version.body["recipeArn"], version.body["artifact"])
    group = version.body["datasetGroupArn"]
    attributes = version.body["recipeArn"].endswith("aws-item-attribute-affinity")
    source = location(job, body["jobInput"]["s3DataSource"]["path"])
    destination = location(job, body["jobOutput"]["s3DataDestination"]["path"].rstrip("/") + "/")
    with scratch(job) as folder:
        files = input_files(job, source, folder / "input")
        queries = [(path, [line for line in path.read_bytes().splitlines() if line.strip()]) for path in files]
        limit = MAX_ATTRIBUTE_QUERIES if attributes else MAX_ITEM_QUERIES
        for path, lines in queries:
            if len(lines) > limit:
                raise JobFailed(f"Input file {path.name} has {len(lines)} queries; at most {limit} are allowed.")
        users = ctx.histories.users(group)
        job.progress(f"scoring {len(users)} users", 10.0)
        scores = np.vstack([deployment.model.score(deployment.indices(ctx.histories.of(group, user)))
                            for user in users]) if users else np.zeros((0, len(deployment.item_ids)))
        catalog = ctx.catalogs.item_table(group, deployment.folder, deployment.item_ids)
        count = int(body.get("numResults", 25))
        outputs = []
        for path, lines in queries:
            output = folder / "output" / f"{path.name}.out"
            output.parent.mkdir(parents=True, exist_ok=True)
            with output.open("wb") as sink:
                for raw in lines:
                    sink.write(orjson.dumps(_segment(raw, attributes, deployment.index, catalog, scores, users,
                                                     count)) + b"\n")
            outputs.append(output)
        for output in outputs:
            store(output, destination, output.name, job.settings)
    with job.store.transaction() as tx:
        job.finish(tx, ACTIVE)


def _segment(raw: bytes, attributes: bool, index: dict[str, int], catalog: ItemTable, scores: np.ndarray,
             users: list[str], count: int) -> dict[str, Any]:
    try:
        query = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return {"input": raw.decode("utf-8", "replace"), "output": None, "error": f"Invalid JSON: {error}"}
    try:
        items = _matching_items(query, attributes, index, catalog)
    except ValueError as error:
        return {"input": query, "output": None, "error": str(error)}
    if not len(items) or not len(users):
        best: list[str] = []
    else:
        affinity = scores[:, items].mean(axis=1)
        top = np.argsort(-affinity, kind="stable")[:count]
        best = [users[i] for i in top]
    output = {"recommendedUsers": best}
    if attributes:
        return {"itemAttributes": query.get("itemAttributes"), "output": output, "error": None}
    return {"input": query, "output": output, "error": None}


def _matching_items(query: Any, attributes: bool, index: dict[str, int], catalog: ItemTable) -> np.ndarray:
    if not isinstance(query, dict):
        raise ValueError("Each line must be a JSON object.")
    if not attributes:
        if "itemId" not in query:
            raise ValueError("Each line needs an itemId.")
        position = index.get(query["itemId"])
        return np.array([] if position is None else [position], dtype=np.int64)
    expression = query.get("itemAttributes")
    if not isinstance(expression, str):
        raise ValueError("Each line needs itemAttributes.")
    mask = np.ones(len(index), dtype=bool)
    for condition in re.split(r"\s+AND\s+", expression, flags=re.IGNORECASE):
        match = _CONDITION.match(condition)
        if match is None:
            raise ValueError(f'Invalid attribute condition {condition!r}; expected ITEMS.<column> = "<value>".')
        column = next((name for name in catalog.columns if name.lower() == match.group(1).lower()), None)
        if column is None:
            raise ValueError(f"Unknown item attribute {match.group(1)}.")
        mask &= catalog.in_mask(column, [match.group(2)])
    return np.flatnonzero(mask)
