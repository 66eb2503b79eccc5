"""Batch segment jobs (aws-item-affinity, aws-item-attribute-affinity): for each input item or attribute query,
the users most likely to interact, best first.

The group's users are scored a block at a time (`Model.score_many`); each query keeps only its best `numResults`
users so far, so memory does not grow with the number of users. Progress counts the users scored as rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from threadpoolctl import threadpool_limits

from reelrank.filters import ItemTable
from reelrank.ingest.locations import store
from reelrank.service.context import Context
from reelrank.service.vocabulary import ACTIVE

from .batch_scoring import CHUNK_CELLS
from .context import JobContext, JobFailed, RowMeter
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
        catalog = ctx.catalogs.item_table(group, deployment.folder, deployment.item_ids)
        parsed = [[_parse(raw, attributes, deployment.index, catalog) for raw in lines] for _, lines in queries]
        wanted = [query for file in parsed for query in file if query.items is not None and len(query.items)]
        users = ctx.histories.users(group)
        count = int(body.get("numResults", 25))
        best = [_Best(count) for _ in wanted]
        meter = RowMeter(job, float(len(users)), stage=lambda m: f"{m.rows:,} users scored")
        step = max(1, CHUNK_CELLS // max(1, len(deployment.item_ids)))
        with threadpool_limits(limits=1, user_api="blas"):
            for start in range(0, len(users) if wanted else 0, step):
                chunk = users[start: start + step]
                scores = deployment.model.score_many([deployment.indices(ctx.histories.of(group, user))
                                                      for user in chunk])
                for query, top in zip(wanted, best, strict=True):
                    top.offer(scores[:, query.items].mean(axis=1), start)
                meter.add(len(chunk), len(chunk))
        meter.report()
        found = {id(query): [users[i] for i in top.positions.tolist()] for query, top in zip(wanted, best, strict=True)}
        outputs = []
        for (path, _), answers in zip(queries, parsed, strict=True):
            output = folder / "output" / f"{path.name}.out"
            output.parent.mkdir(parents=True, exist_ok=True)
            with output.open("wb") as sink:
                for query in answers:
                    sink.write(orjson.dumps(query.record(found.get(id(query), []))) + b"\n")
            outputs.append(output)
        for output in outputs:
            store(output, destination, output.name, job.settings)
    with job.store.transaction() as tx:
        job.finish(tx, ACTIVE)


@dataclass
class _Query:
    echo: Any
    attributes: bool
    items: np.ndarray | None
    error: str | None = None

    def record(self, users: list[str]) -> dict[str, Any]:
        if self.error is not None:
            return {"input": self.echo, "output": None, "error": self.error}
        output = {"recommendedUsers": users}
        if self.attributes:
            return {"itemAttributes": self.echo.get("itemAttributes"), "output": output, "error": None}
        return {"input": self.echo, "output": output, "error": None}


def _parse(raw: bytes, attributes: bool, index: dict[str, int], catalog: ItemTable) -> _Query:
    try:
        query = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return _Query(raw.decode("utf-8", "replace"), attributes, None, f"Invalid JSON: {error}")
    try:
        return _Query(query, attributes, _matching_items(query, attributes, index, catalog))
    except ValueError as error:
        return _Query(query, attributes, None, str(error))


class _Best:
    """The `count` users of highest affinity seen so far, best first, ties to the earlier user (as a stable sort of
    every user would order them), kept a block of users at a time."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.values = np.zeros(0, dtype=np.float64)
        self.positions = np.zeros(0, dtype=np.int64)

    def offer(self, affinity: np.ndarray, start: int) -> None:
        values = np.concatenate([self.values, np.asarray(affinity, dtype=np.float64)])
        positions = np.concatenate([self.positions, np.arange(start, start + len(affinity), dtype=np.int64)])
        keep = np.lexsort((positions, -values))[: self.count]
        self.values, self.positions = values[keep], positions[keep]


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
