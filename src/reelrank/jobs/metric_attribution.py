"""Metric attribution jobs: aggregate the recorded events into the attribution's metrics, per source, and write
them as `metrics.csv` (METRIC_NAME, EVENT_ATTRIBUTION_SOURCE, EVENT_TYPE, VALUE) to the output location."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from typing import Any

import orjson

from reelrank.ingest.avro import parse_schema
from reelrank.ingest.locations import store
from reelrank.service.attribution import EXPRESSION, UNDEFINED_SOURCE, source_code
from reelrank.service.vocabulary import ACTIVE
from reelrank.store.contents import contents

from .context import JobContext
from .inputs import location, scratch

_CID = re.compile(r"-CID-([0-9a-f]{6})$")


def run_metric_attribution(job: JobContext) -> None:
    resource = job.resource()
    if resource.status != ACTIVE:
        resource = job.start()
    body = resource.body
    group = body["datasetGroupArn"]
    with job.store.reading() as tx:
        sources = {source_code(r.arn): r.arn for kind in ("campaign", "recommender") for r in tx.list_resources(kind)}
        events = tx.events_detail(group)
        prices = _item_values(job, tx, group, body["metrics"])
    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for event in events:
        match = _CID.search(event.recommendation_id or "")
        source = sources.get(match.group(1), UNDEFINED_SOURCE) if match else UNDEFINED_SOURCE
        for metric in body["metrics"]:
            if metric["eventType"].lower() != event.event_type.lower():
                continue
            value = _value(metric["expression"], event, prices)
            totals[(metric["metricName"], source, metric["eventType"])] += value
    destination = body["metricsOutputConfig"].get("s3DataDestination")
    if destination:
        with scratch(job) as folder:
            output = folder / "metrics.csv"
            with output.open("w", newline="") as sink:
                writer = csv.writer(sink)
                writer.writerow(["METRIC_NAME", "EVENT_ATTRIBUTION_SOURCE", "EVENT_TYPE", "VALUE"])
                for (name, source, event_type), value in sorted(totals.items()):
                    writer.writerow([name, source, event_type, value])
            store(output, location(job, destination["path"].rstrip("/") + "/"), "metrics.csv", job.settings)
    with job.store.transaction() as tx:
        job.finish(tx, ACTIVE)


def _item_values(job: JobContext, tx: Any, group: str, metrics: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Item column → item id → value, for the SUM(Items.<column>) metrics."""
    columns = {m.group(3) for metric in metrics if (m := EXPRESSION.match(metric["expression"])) and m.group(3)
               and m.group(2).lower() == "items"}
    dataset = next((d for d in tx.list_resources("dataset", group) if d.body["datasetType"] == "ITEMS"), None)
    schema = tx.get_resource(dataset.body["schemaArn"]) if dataset else None
    if not columns or dataset is None or schema is None:
        return {}
    table = contents(tx, job.files, dataset, parse_schema(schema.body["schema"]))
    if table is None:
        return {}
    ids = table.column("ITEM_ID").to_pylist()
    return {column: dict(zip(ids, table.column(column).to_pylist(), strict=True))
            for column in columns if column in table.column_names}


def _value(expression: str, event: Any, prices: dict[str, dict[str, float]]) -> float:
    match = EXPRESSION.match(expression)
    assert match is not None
    if match.group(2) is None:
        return 1.0  # SAMPLECOUNT()
    column = match.group(3)
    if match.group(2).lower() == "items":
        return float(prices.get(column, {}).get(event.item_id) or 0.0)
    if column.upper() == "EVENT_VALUE":
        return float(event.event_value or 0.0)
    properties = orjson.loads(event.properties) if event.properties else {}
    return float(properties.get(column, 0.0) or 0.0)
