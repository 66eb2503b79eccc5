"""Batch inference jobs: JSON Lines in, `<input file>.out` JSON Lines out, in Personalize's format per recipe.

Each line is answered by the same code as GetRecommendations / GetPersonalizedRanking. A bad line is written with
its error and counted; it never stops the job. The outputs are stored only when every file is done, each written
under a temporary name and renamed, so a failed or killed job leaves nothing under the output path.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from reelrank.errors import ServiceError
from reelrank.ingest.locations import store
from reelrank.service.context import Context
from reelrank.service.runtime import Runtime, Target
from reelrank.service.vocabulary import ACTIVE

from .context import JobContext
from .inputs import active_version, input_files, location, scratch


def run_batch_inference(job: JobContext) -> None:
    body = job.start().body
    version = active_version(job, body["solutionVersionArn"])
    runtime = Runtime(Context(job.settings, job.store, job.files))
    target = runtime.target_for(version.body["recipeArn"], version.body["artifact"], version.body["datasetGroupArn"],
                                body.get("batchInferenceJobConfig", {}))
    source = location(job, body["jobInput"]["s3DataSource"]["path"])
    destination = location(job, body["jobOutput"]["s3DataDestination"]["path"].rstrip("/") + "/")
    with scratch(job) as folder:
        files = input_files(job, source, folder / "input")
        total = sum(path.stat().st_size for path in files) or 1
        outputs, done, lines, failed, started = [], 0, 0, 0, time.monotonic()
        for path in files:
            output = folder / "output" / f"{path.name}.out"
            output.parent.mkdir(parents=True, exist_ok=True)
            with path.open("rb") as source_lines, output.open("wb") as sink:
                for raw in source_lines:
                    done += len(raw)
                    if not raw.strip():
                        continue
                    record = answer(runtime, target, raw, body)
                    failed += record["error"] is not None
                    lines += 1
                    sink.write(orjson.dumps(record) + b"\n")
                    if lines % 1000 == 0:
                        rate = lines / max(time.monotonic() - started, 1e-9)
                        job.progress(f"{lines} lines, {rate:.0f} lines/s, {failed} failed", 100.0 * done / total)
            outputs.append(output)
        for output in outputs:
            store(output, destination, output.name, job.settings)
    with job.store.transaction() as tx:
        resource = tx.get_resource(job.arn)
        assert resource is not None
        job.finish(tx, ACTIVE, dict(resource.body, linesProcessed=lines, linesFailed=failed))


def answer(runtime: Runtime, target: Target, raw: bytes, body: dict[str, Any]) -> dict[str, Any]:
    """One output line: {"input": …, "output": {"recommendedItems": …, "scores": …}, "error": null | "…"}."""
    try:
        request = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return {"input": raw.decode("utf-8", "replace").strip(), "output": None, "error": f"Invalid JSON: {error}"}
    if not isinstance(request, dict):
        return {"input": request, "output": None, "error": "Each line must be a JSON object."}
    params: dict[str, Any] = {"numResults": body.get("numResults", 25)}
    if body.get("filterArn"):
        params["filterArn"] = body["filterArn"]
    for member, name in (("userId", "userId"), ("itemId", "itemId"), ("filterValues", "filterValues"),
                         ("itemList", "inputList")):
        if member in request:
            params[name] = request[member]
    try:
        if target.deployment.spec.use == "ranking" or "inputList" in params:
            params.pop("numResults")
            ranked = runtime.rank(target, params)["personalizedRanking"]
        else:
            ranked = runtime.recommend(target, params)["itemList"]
    except ServiceError as error:
        return {"input": request, "output": None, "error": error.message}
    except (KeyError, TypeError, ValueError) as error:
        return {"input": request, "output": None, "error": f"Invalid input line: {error}"}
    output: dict[str, Any] = {"recommendedItems": [item["itemId"] for item in ranked]}
    if ranked and all("score" in item for item in ranked):
        output["scores"] = [item["score"] for item in ranked]
    return {"input": request, "output": output, "error": None}
