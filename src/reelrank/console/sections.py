"""The console's pages beyond the getting-started flow: recommenders, filters, event trackers with the live event
stream, batch inference and batch segment jobs, metric attributions, data jobs (import, export, deletion), schemas,
recipes, solution versions, and the update and delete forms of every resource.

As in `pages.py`, every change and every listing goes through the service handlers by operation name, validated
against the botocore model first (`Console.call`), so a form is refused exactly as the same API call would be.
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from reelrank import synthetic
from reelrank.console import live
from reelrank.console.pages import PREFIX, Console, _link, _safe_next, _short
from reelrank.errors import InvalidInputException, ResourceNotFoundException, ServiceError
from reelrank.ingest.locations import parse_location
from reelrank.recipes.registry import spec_for

SEGMENT_RECIPES = ("aws-item-affinity", "aws-item-attribute-affinity")
NO_BATCH_RECIPES = ("aws-trending-now", "aws-next-best-action")
PREVIEW_LINES = 5
PREVIEW_BYTES = 64 * 1024
METRIC_ROWS = 3
"""Empty metric rows on the create-attribution form."""
FILTER_EXAMPLES = (
    'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Watch")',
    "INCLUDE ItemID WHERE Items.GENRES IN ($GENRES)",
    'EXCLUDE ItemID WHERE Items.YEAR < 1990 | INCLUDE ItemID WHERE Items.GENRES IN ("Comedy")',
)
_POSITION = re.compile(r"at line (\d+), column (\d+)")
DELETES: dict[str, tuple[str, str]] = {
    "group": ("DeleteDatasetGroup", "datasetGroupArn"),
    "dataset": ("DeleteDataset", "datasetArn"),
    "schema": ("DeleteSchema", "schemaArn"),
    "solution": ("DeleteSolution", "solutionArn"),
    "campaign": ("DeleteCampaign", "campaignArn"),
    "recommender": ("DeleteRecommender", "recommenderArn"),
    "filter": ("DeleteFilter", "filterArn"),
    "tracker": ("DeleteEventTracker", "eventTrackerArn"),
    "attribution": ("DeleteMetricAttribution", "metricAttributionArn"),
}
"""Console kind → (Delete operation, its ARN member)."""


@dataclass(frozen=True)
class JobKind:
    """How one kind of job is described: its Describe operation, the answer's key, its ARN member, its parent."""

    title: str
    describe: str
    key: str
    arn: str
    parent: str


JOBS = {
    "import-job": JobKind("Dataset import job", "DescribeDatasetImportJob", "datasetImportJob", "datasetImportJobArn",
                          "datasetArn"),
    "export-job": JobKind("Dataset export job", "DescribeDatasetExportJob", "datasetExportJob", "datasetExportJobArn",
                          "datasetArn"),
    "deletion-job": JobKind("Data deletion job", "DescribeDataDeletionJob", "dataDeletionJob", "dataDeletionJobArn",
                            "datasetGroupArn"),
    "batch-inference-job": JobKind("Batch inference job", "DescribeBatchInferenceJob", "batchInferenceJob",
                                   "batchInferenceJobArn", "solutionVersionArn"),
    "batch-segment-job": JobKind("Batch segment job", "DescribeBatchSegmentJob", "batchSegmentJob",
                                 "batchSegmentJobArn", "solutionVersionArn"),
}


def _recipe(arn: Any) -> str:
    return str(arn or "").rsplit("/", 1)[-1]


def _optional_int(form: dict[str, str], key: str, label: str) -> int | None:
    text = form.get(key, "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInputException(f"{label} must be a whole number.") from None


def error_position(message: str | None, expression: str) -> dict[str, Any] | None:
    """Where a filter error points in the expression: its line's text and the column, for a caret under it."""
    match = _POSITION.search(message or "")
    if match is None:
        return None
    line, column = int(match.group(1)), int(match.group(2))
    lines = expression.split("\n")
    if not 1 <= line <= len(lines):
        return None
    return {"line": line, "column": column, "text": lines[line - 1], "pad": " " * (column - 1)}


class Sections:
    """The pages, bound to the console whose plumbing (calls, rendering, forms) they use."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.ctx = console.ctx

    # -- plumbing -----------------------------------------------------------------------------------------------

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self.console.call(operation, params)

    async def list_all(self, operation: str, member: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return await self.console.list_all(operation, member, params)

    def render(self, request: Request, template: str, **context: Any) -> HTMLResponse:
        return self.console.render(request, template, **context)

    async def group(self, arn: str) -> dict[str, Any]:
        group: dict[str, Any] = (await self.call("DescribeDatasetGroup", {"datasetGroupArn": arn}))["datasetGroup"]
        return group

    async def group_versions(self, group_arn: str) -> list[dict[str, Any]]:
        """The solution versions of the group's solutions, newest first, each with its solution's name."""
        versions: list[dict[str, Any]] = []
        for solution in await self.list_all("ListSolutions", "solutions", {"datasetGroupArn": group_arn}):
            for version in await self.list_all("ListSolutionVersions", "solutionVersions",
                                               {"solutionArn": solution["solutionArn"]}):
                versions.append({**version, "solutionName": solution["name"],
                                 "recipeArn": version.get("recipeArn") or solution.get("recipeArn")})
        versions.sort(key=lambda version: version.get("creationDateTime") or 0, reverse=True)
        return versions

    def facts(self, operation: str, result: dict[str, Any], key: str) -> dict[str, Any]:
        shown: dict[str, Any] = self.console.shown(operation, result).get(key, {})
        return shown

    # -- generic delete, and tags of any resource ---------------------------------------------------------------

    async def tag(self, request: Request) -> Response:
        """TagResource (a key and a value) or UntagResource (one key), then back to the resource's page."""
        form = await self.console.form(request)
        arn, key = form.get("arn", ""), form.get("key", "")
        if form.get("action") == "remove":
            await self.call("UntagResource", {"resourceArn": arn, "tagKeys": [key]})
            notice = f"Tag {key} removed."
        else:
            await self.call("TagResource", {"resourceArn": arn, "tags": [{"tagKey": key,
                                                                           "tagValue": form.get("value", "")}]})
            notice = f"Tagged {key}."
        return self.console.back(_safe_next(form.get("back")), notice=notice)

    async def delete(self, request: Request) -> Response:
        form = await self.console.form(request)
        kind = form.get("kind", "")
        if kind not in DELETES:
            raise InvalidInputException(f"The console cannot delete a {kind or 'resource of no kind'}.")
        operation, member = DELETES[kind]
        await self.call(operation, {member: form.get("arn", "")})
        return self.console.back(_safe_next(form.get("back")), notice=f"Deleting {kind} {_short(form.get('arn'))}.")

    # -- recommenders -------------------------------------------------------------------------------------------

    async def recommenders(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        group = await self.group(arn)
        use_cases = (await self.list_all("ListRecipes", "recipes", {"domain": group["domain"]})
                     if group.get("domain") else [])
        return self.render(request, "recommenders.html", title=f"{group['name']} · recommenders", group=group,
                           section="recommenders", use_cases=use_cases,
                           recommenders=await self.list_all("ListRecommenders", "recommenders",
                                                            {"datasetGroupArn": arn}),
                           suggested=f"recommender-{uuid.uuid4().hex[:6]}")

    @staticmethod
    def recommender_config(form: dict[str, str]) -> dict[str, Any]:
        config: dict[str, Any] = {"enableMetadataWithRecommendations": form.get("enableMetadata") == "on"}
        rps = _optional_int(form, "minRecommendationRequestsPerSecond", "Minimum requests per second")
        if rps is not None:
            config["minRecommendationRequestsPerSecond"] = rps
        return config

    async def create_recommender(self, request: Request) -> Response:
        form = await self.console.form(request)
        params = {"name": form.get("name", ""), "datasetGroupArn": form.get("datasetGroupArn", ""),
                  "recipeArn": form.get("recipeArn", ""), "recommenderConfig": self.recommender_config(form)}
        arn = (await self.call("CreateRecommender", params))["recommenderArn"]
        return self.console.back(_link("recommender", arn), notice=f"Creating recommender {params['name']}: it "
                                 "trains first.")

    async def recommender_state(self, request: Request) -> Response:
        form = await self.console.form(request)
        arn, action = form.get("arn", ""), form.get("action", "")
        if action not in ("start", "stop"):
            raise InvalidInputException("The action must be start or stop.")
        await self.call("StartRecommender" if action == "start" else "StopRecommender", {"recommenderArn": arn})
        done = "started" if action == "start" else "stopped"
        return self.console.back(_link("recommender", arn), notice=f"Recommender {done}.")

    async def update_recommender(self, request: Request) -> Response:
        form = await self.console.form(request)
        arn = form.get("arn", "")
        await self.call("UpdateRecommender", {"recommenderArn": arn,
                                              "recommenderConfig": self.recommender_config(form)})
        return self.console.back(_link("recommender", arn), notice="Recommender configuration updated.")

    # -- campaigns, solutions, versions, datasets: update forms -------------------------------------------------

    async def update_campaign(self, request: Request) -> Response:
        form = await self.console.form(request)
        arn = form.get("arn", "")
        params: dict[str, Any] = {"campaignArn": arn}
        if form.get("solutionVersionArn"):
            params["solutionVersionArn"] = form["solutionVersionArn"]
        tps = _optional_int(form, "minProvisionedTPS", "Minimum provisioned TPS")
        if tps is not None:
            params["minProvisionedTPS"] = tps
        params["campaignConfig"] = {"enableMetadataWithRecommendations": form.get("enableMetadata") == "on"}
        await self.call("UpdateCampaign", params)
        return self.console.back(_link("campaign", arn), notice="Campaign updated.")

    async def update_solution(self, request: Request) -> Response:
        form = await self.console.form(request)
        arn = form.get("arn", "")
        auto = form.get("performAutoTraining") == "on"
        params: dict[str, Any] = {"solutionArn": arn, "performAutoTraining": auto}
        if auto and form.get("schedulingExpression"):
            params["solutionUpdateConfig"] = {"autoTrainingConfig": {
                "schedulingExpression": form["schedulingExpression"]}}
        await self.call("UpdateSolution", params)
        return self.console.back(_link("solution", arn), notice="Solution updated.")

    async def stop_version(self, request: Request) -> Response:
        form = await self.console.form(request)
        arn = form.get("arn", "")
        await self.call("StopSolutionVersionCreation", {"solutionVersionArn": arn})
        return self.console.back(_safe_next(form.get("back")) if form.get("back") else _link("solution-version", arn),
                                 notice="Stopping the training.")

    async def solution_version(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        result = await self.call("DescribeSolutionVersion", {"solutionVersionArn": arn})
        version = result["solutionVersion"]
        metrics: dict[str, Any] = {}
        if version.get("status") == "ACTIVE":
            metrics = (await self.call("GetSolutionMetrics", {"solutionVersionArn": arn}))["metrics"]
        names = sorted(name for name in metrics if not name.startswith("baseline_"))
        progress = await self._progress(arn)
        return self.render(request, "version.html", title=_short(arn), version=version, arn=arn,
                           tags=await self.console.tags(arn), tag_arn=arn,
                           group=await self.group(version["datasetGroupArn"]), metrics=metrics, names=names,
                           progress=progress,
                           facts=self.facts("DescribeSolutionVersion", result, "solutionVersion"))

    async def update_dataset(self, request: Request) -> Response:
        form = await self.console.form(request)
        arn = form.get("arn", "")
        await self.call("UpdateDataset", {"datasetArn": arn, "schemaArn": form.get("schemaArn", "")})
        return self.console.back(_link("dataset", arn), notice="Updating the dataset's schema.")

    # -- filters ------------------------------------------------------------------------------------------------

    async def filters(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        group = await self.group(arn)
        expression = request.query_params.get("expression", "")
        return self.render(request, "filters.html", title=f"{group['name']} · filters", group=group,
                           section="filters",
                           filters=await self.list_all("ListFilters", "Filters", {"datasetGroupArn": arn}),
                           name=request.query_params.get("name") or f"filter-{uuid.uuid4().hex[:6]}",
                           expression=expression or FILTER_EXAMPLES[0], examples=FILTER_EXAMPLES,
                           position=error_position(request.query_params.get("error"), expression))

    async def create_filter(self, request: Request) -> Response:
        form = await self.console.form(request)
        group_arn = form.get("datasetGroupArn", "")
        params = {"name": form.get("name", ""), "datasetGroupArn": group_arn,
                  "filterExpression": form.get("filterExpression", "")}
        try:
            arn = (await self.call("CreateFilter", params))["filterArn"]
        except ServiceError as error:
            # back to the form with what was typed, so the error's position can be shown under the expression
            query = {"arn": group_arn, "error": f"{error.code}: {error.message}", "name": params["name"],
                     "expression": params["filterExpression"]}
            return self.console.back(f"{PREFIX}/group/filters?{urlencode(query)}")
        return self.console.back(_link("filter", arn), notice=f"Creating filter {params['name']}.")

    async def filter(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        result = await self.call("DescribeFilter", {"filterArn": arn})
        item = result["filter"]
        return self.render(request, "filter.html", title=item["name"], item=item, arn=arn,
                           tags=await self.console.tags(arn), tag_arn=arn,
                           group=await self.group(item["datasetGroupArn"]), section="filters",
                           facts=self.facts("DescribeFilter", result, "filter"))

    # -- event trackers and live events -------------------------------------------------------------------------

    async def trackers(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        group = await self.group(arn)
        trackers = await self.list_all("ListEventTrackers", "eventTrackers", {"datasetGroupArn": arn})
        described = [(await self.call("DescribeEventTracker", {"eventTrackerArn": tracker["eventTrackerArn"]}))[
            "eventTracker"] for tracker in trackers]
        feed = await self._feed(arn, None)
        return self.render(request, "trackers.html", title=f"{group['name']} · event trackers", group=group,
                           section="trackers", trackers=described, feed=feed,
                           suggested=f"tracker-{uuid.uuid4().hex[:6]}",
                           example=await run_in_threadpool(self.console.reader.sample_interaction, arn))

    async def create_tracker(self, request: Request) -> Response:
        form = await self.console.form(request)
        group_arn = form.get("datasetGroupArn", "")
        created = await self.call("CreateEventTracker", {"name": form.get("name", ""), "datasetGroupArn": group_arn})
        return self.console.back(_link("tracker", created["eventTrackerArn"]),
                                 notice=f"Creating event tracker {form.get('name', '')}: tracking id "
                                        f"{created['trackingId']}.")

    async def tracker(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        result = await self.call("DescribeEventTracker", {"eventTrackerArn": arn})
        tracker = result["eventTracker"]
        group_arn = tracker["datasetGroupArn"]
        return self.render(request, "tracker.html", title=tracker["name"], tracker=tracker, arn=arn,
                           tags=await self.console.tags(arn), tag_arn=arn,
                           group=await self.group(group_arn), section="trackers",
                           facts=self.facts("DescribeEventTracker", result, "eventTracker"),
                           feed=await self._feed(group_arn, None),
                           example=await run_in_threadpool(self.console.reader.sample_interaction, group_arn))

    async def send_event(self, request: Request) -> Response:
        """PutEvents with one event, as an application would send it with the tracker's tracking id."""
        form = await self.console.form(request)
        user_id = form.get("userId", "")
        event: dict[str, Any] = {"eventType": form.get("eventType") or "Watch", "sentAt": time.time(),
                                 "eventId": f"console-{uuid.uuid4().hex}"}
        if form.get("itemId"):
            event["itemId"] = form["itemId"]
        params: dict[str, Any] = {"trackingId": form.get("trackingId", ""),
                                  "sessionId": form.get("sessionId") or f"console-{user_id or 'anonymous'}",
                                  "eventList": [event]}
        if user_id:
            params["userId"] = user_id
        await self.call("PutEvents", params)
        back = _safe_next(form.get("back"))
        return self.console.back(back, notice=f"Sent a {event['eventType']} event"
                                 + (f" of {user_id}" if user_id else "") + (f" on {event.get('itemId')}" if
                                                                           event.get("itemId") else "") + ".")

    async def _feed(self, group_arn: str, after: int | None) -> dict[str, Any]:
        """The newest events; those after event id `after` are marked fresh (None: the page's first render)."""
        rows = await run_in_threadpool(live.latest_events, self.ctx, group_arn)
        total = await run_in_threadpool(live.event_count, self.ctx, group_arn)
        details = await run_in_threadpool(self.console.reader.item_details, group_arn,
                                          [row["itemId"] for row in rows if row["itemId"]])
        for row in rows:
            row["title"] = details.get(str(row["itemId"]), {}).get("title", "")
            row["fresh"] = after is not None and row["id"] > after
        return {"group": group_arn, "rows": rows, "total": total, "capped": total > live.COUNT_CAP,
                "after": max((row["id"] for row in rows), default=after or 0)}

    async def events_feed(self, request: Request) -> Response:
        """The live stream's fragment (htmx replaces it every second): the newest events, new ones highlighted."""
        group_arn = request.query_params.get("arn", "")
        try:
            after: int | None = max(0, int(request.query_params["after"]))
        except (KeyError, ValueError):
            after = None
        feed = await self._feed(group_arn, after)
        html = self.console.env.get_template("_events.html").render(feed=feed)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    # -- batch inference and batch segment jobs -----------------------------------------------------------------

    async def batch(self, request: Request, segment: bool) -> Response:
        arn = request.query_params.get("arn", "")
        group = await self.group(arn)
        versions = await self.group_versions(arn)
        mine = {version["solutionVersionArn"]: version for version in versions}
        listing, member = (("ListBatchSegmentJobs", "batchSegmentJobs") if segment
                           else ("ListBatchInferenceJobs", "batchInferenceJobs"))
        jobs = [job for job in await self.list_all(listing, member) if job.get("solutionVersionArn") in mine]
        for job in jobs:
            job["solutionName"] = mine[job["solutionVersionArn"]]["solutionName"]

        def usable(version: dict[str, Any]) -> bool:
            recipe = _recipe(version.get("recipeArn"))
            if segment:
                return recipe in SEGMENT_RECIPES
            served = spec_for(str(version["recipeArn"])) is not None
            return served and recipe not in (*SEGMENT_RECIPES, *NO_BATCH_RECIPES)

        candidates = [version for version in versions if version.get("status") == "ACTIVE" and usable(version)]
        filters = [] if segment else [item for item in await self.list_all("ListFilters", "Filters",
                                                                             {"datasetGroupArn": arn})
                                      if item.get("status") == "ACTIVE"]
        root = self.ctx.settings.data_dir.resolve() / "imports"
        name = "segment" if segment else "batch"
        label = "segment" if segment else "inference"
        return self.render(request, "batch.html", title=f"{group['name']} · batch {label} jobs", group=group,
                           section="batch-segments" if segment else "batch-inference",
                           segment=segment, jobs=jobs, versions=candidates, filters=filters,
                           job_name=f"{name}-{uuid.uuid4().hex[:6]}", role_arn=self.console.role_arn,
                           input_hint=(root / f"{name}-input.json").as_uri(),
                           output_hint=(root / f"{name}-output").as_uri() + "/")

    async def batch_inference(self, request: Request) -> Response:
        return await self.batch(request, segment=False)

    async def batch_segments(self, request: Request) -> Response:
        return await self.batch(request, segment=True)

    async def create_batch(self, request: Request) -> Response:
        form = await self.console.form(request)
        segment = form.get("kind") == "segment"
        params: dict[str, Any] = {
            "jobName": form.get("jobName", ""), "solutionVersionArn": form.get("solutionVersionArn", ""),
            "jobInput": {"s3DataSource": {"path": form.get("inputPath", "")}},
            "jobOutput": {"s3DataDestination": {"path": form.get("outputPath", "")}},
            "roleArn": form.get("roleArn") or self.console.role_arn}
        count = _optional_int(form, "numResults", "Number of results")
        if count is not None:
            params["numResults"] = count
        if form.get("filterArn"):
            params["filterArn"] = form["filterArn"]
        if segment:
            arn = (await self.call("CreateBatchSegmentJob", params))["batchSegmentJobArn"]
            return self.console.back(_link("batch-segment-job", arn), notice=f"Batch segment job {params['jobName']}"
                                     " queued.")
        arn = (await self.call("CreateBatchInferenceJob", params))["batchInferenceJobArn"]
        return self.console.back(_link("batch-inference-job", arn), notice=f"Batch inference job {params['jobName']}"
                                 " queued.")

    # -- job details (imports, exports, deletions, batch inference, batch segments) -----------------------------

    async def _progress(self, arn: str) -> dict[str, Any]:
        try:
            return await self.call("JobProgress", {"arn": arn})
        except ResourceNotFoundException:
            return {"arn": arn, "status": "DELETED"}

    async def job(self, request: Request, kind: str) -> Response:
        spec = JOBS[kind]
        arn = request.query_params.get("arn", "")
        result = await self.call(spec.describe, {spec.arn: arn})
        job = result[spec.key]
        parent = str(job.get(spec.parent, ""))
        group_arn, parent_name = "", ""
        if spec.parent == "datasetArn":
            dataset = (await self.call("DescribeDataset", {"datasetArn": parent}))["dataset"]
            group_arn, parent_name = dataset["datasetGroupArn"], dataset["name"]
        elif spec.parent == "solutionVersionArn":
            version = (await self.call("DescribeSolutionVersion", {"solutionVersionArn": parent}))["solutionVersion"]
            group_arn, parent_name = version["datasetGroupArn"], _short(version["solutionArn"])
        else:
            group_arn = parent
        output = job.get("jobOutput", {}).get("s3DataDestination", {}).get("path")
        inputs = job.get("jobInput", {}).get("s3DataSource", {}).get("path") or job.get("dataSource", {}).get(
            "dataLocation")
        preview = (await run_in_threadpool(self._preview, str(output), str(inputs or ""))
                   if output and job.get("status") == "ACTIVE" else None)
        section = {"batch-inference-job": "batch-inference", "batch-segment-job": "batch-segments"}.get(kind,
                                                                                                         "data-jobs")
        return self.render(request, "job.html", title=job.get("jobName") or _short(arn), job=job, arn=arn, kind=kind,
                           tags=await self.console.tags(arn), tag_arn=arn,
                           spec=spec, group=await self.group(group_arn), section=section, parent=parent,
                           parent_name=parent_name, progress=await self._progress(arn), inputs=inputs, output=output,
                           preview=preview, facts=self.facts(spec.describe, result, spec.key))

    def _preview(self, output: str, inputs: str) -> dict[str, Any] | None:
        """The first lines of a finished job's local output (`<input file name>.out` under the output folder)."""
        try:
            location = parse_location(output, self.ctx.settings)
        except ServiceError:
            return None
        if location.scheme != "file":
            return None
        folder = Path(location.key)
        candidates = sorted(folder.glob("*.out")) if folder.is_dir() else []
        if inputs and not inputs.endswith("/"):
            named = folder / (inputs.rsplit("/", 1)[-1] + ".out")
            candidates = [named] if named.is_file() else candidates
        if not candidates:
            return None
        with candidates[0].open("rb") as source:
            head = source.read(PREVIEW_BYTES)
        lines = [line.decode("utf-8", "replace") for line in head.split(b"\n")[:PREVIEW_LINES] if line.strip()]
        return {"file": str(candidates[0]), "lines": lines}

    # -- data jobs: imports, exports and deletions --------------------------------------------------------------

    async def data_jobs(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        group = await self.group(arn)
        datasets = await self.list_all("ListDatasets", "datasets", {"datasetGroupArn": arn})
        imports: list[dict[str, Any]] = []
        exports: list[dict[str, Any]] = []
        for dataset in datasets:
            for job in await self.list_all("ListDatasetImportJobs", "datasetImportJobs",
                                           {"datasetArn": dataset["datasetArn"]}):
                imports.append({**job, "datasetName": dataset["name"]})
            for job in await self.list_all("ListDatasetExportJobs", "datasetExportJobs",
                                           {"datasetArn": dataset["datasetArn"]}):
                exports.append({**job, "datasetName": dataset["name"]})
        deletions = (await self.call("ListDataDeletionJobs", {"datasetGroupArn": arn, "maxResults": 100}))[
            "dataDeletionJobs"]
        root = self.ctx.settings.data_dir.resolve() / "imports"
        suffix = uuid.uuid4().hex[:6]
        return self.render(request, "data_jobs.html", title=f"{group['name']} · data jobs", group=group,
                           section="data-jobs", datasets=datasets, imports=imports, exports=exports,
                           deletions=deletions, suffix=suffix, role_arn=self.console.role_arn,
                           export_hint=(root / f"export-{suffix}").as_uri() + "/",
                           deletion_hint=(root / "users-to-delete.csv").as_uri())

    async def create_export(self, request: Request) -> Response:
        form = await self.console.form(request)
        dataset_arn = form.get("datasetArn", "")
        params = {"jobName": form.get("jobName", ""), "datasetArn": dataset_arn,
                  "ingestionMode": form.get("ingestionMode") or "BULK", "roleArn": self.console.role_arn,
                  "jobOutput": {"s3DataDestination": {"path": form.get("outputPath", "")}}}
        arn = (await self.call("CreateDatasetExportJob", params))["datasetExportJobArn"]
        return self.console.back(_link("export-job", arn), notice=f"Export {params['jobName']} started.")

    async def create_deletion(self, request: Request) -> Response:
        form = await self.console.form(request)
        params = {"jobName": form.get("jobName", ""), "datasetGroupArn": form.get("datasetGroupArn", ""),
                  "roleArn": self.console.role_arn, "dataSource": {"dataLocation": form.get("dataLocation", "")}}
        arn = (await self.call("CreateDataDeletionJob", params))["dataDeletionJobArn"]
        return self.console.back(_link("deletion-job", arn), notice=f"Data deletion job {params['jobName']} started.")

    # -- metric attributions ------------------------------------------------------------------------------------

    async def attributions(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        group = await self.group(arn)
        found = await self.list_all("ListMetricAttributions", "metricAttributions", {"datasetGroupArn": arn})
        root = self.ctx.settings.data_dir.resolve() / "imports"
        return self.render(request, "attributions.html", title=f"{group['name']} · metric attribution", group=group,
                           section="attribution", attributions=found, rows=range(METRIC_ROWS),
                           suggested=f"attribution-{uuid.uuid4().hex[:6]}", role_arn=self.console.role_arn,
                           output_hint=(root / "metrics").as_uri() + "/")

    @staticmethod
    def metrics_from(form: dict[str, str], prefix: str = "") -> list[dict[str, str]]:
        metrics = []
        for number in range(METRIC_ROWS):
            name = form.get(f"{prefix}metricName{number}", "")
            if name:
                metrics.append({"metricName": name, "eventType": form.get(f"{prefix}eventType{number}", ""),
                                "expression": form.get(f"{prefix}expression{number}", "")})
        return metrics

    async def create_attribution(self, request: Request) -> Response:
        form = await self.console.form(request)
        metrics = self.metrics_from(form)
        if not metrics:
            raise InvalidInputException("Give at least one metric (a name, an event type and an expression).")
        output: dict[str, Any] = {"roleArn": form.get("roleArn") or self.console.role_arn}
        if form.get("outputPath"):
            output["s3DataDestination"] = {"path": form["outputPath"]}
        params = {"name": form.get("name", ""), "datasetGroupArn": form.get("datasetGroupArn", ""),
                  "metrics": metrics, "metricsOutputConfig": output}
        arn = (await self.call("CreateMetricAttribution", params))["metricAttributionArn"]
        return self.console.back(_link("attribution", arn), notice=f"Creating metric attribution {params['name']}.")

    async def attribution(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        result = await self.call("DescribeMetricAttribution", {"metricAttributionArn": arn})
        attribution = result["metricAttribution"]
        metrics = await self.list_all("ListMetricAttributionMetrics", "metrics", {"metricAttributionArn": arn})
        destination = (attribution.get("metricsOutputConfig", {}).get("s3DataDestination") or {}).get("path")
        values = await run_in_threadpool(self._metric_values, str(destination)) if destination else None
        return self.render(request, "attribution.html", title=attribution["name"], attribution=attribution, arn=arn,
                           tags=await self.console.tags(arn), tag_arn=arn,
                           group=await self.group(attribution["datasetGroupArn"]), section="attribution",
                           metrics=metrics, values=values, rows=range(1),
                           facts=self.facts("DescribeMetricAttribution", result, "metricAttribution"))

    def _metric_values(self, destination: str) -> list[dict[str, str]] | None:
        """The figures of the latest run, from `metrics.csv` when the output is a local folder."""
        try:
            location = parse_location(destination.rstrip("/") + "/", self.ctx.settings)
        except ServiceError:
            return None
        path = Path(location.key) / "metrics.csv"
        if location.scheme != "file" or not path.is_file():
            return None
        with path.open(newline="") as source:
            return list(csv.DictReader(io.StringIO(source.read(PREVIEW_BYTES))))

    async def update_attribution(self, request: Request) -> Response:
        form = await self.console.form(request)
        arn = form.get("arn", "")
        params: dict[str, Any] = {"metricAttributionArn": arn}
        added = self.metrics_from(form)
        removed = [key.removeprefix("remove:") for key, value in form.items() if key.startswith("remove:") and value]
        if added:
            params["addMetrics"] = added
        if removed:
            params["removeMetrics"] = removed
        if not added and not removed:
            raise InvalidInputException("Add a metric or tick one to remove.")
        await self.call("UpdateMetricAttribution", params)
        return self.console.back(_link("attribution", arn), notice="Metric attribution updated: recomputing.")

    # -- schemas ------------------------------------------------------------------------------------------------

    async def schemas(self, request: Request) -> Response:
        schemas = await self.list_all("ListSchemas", "schemas")
        templates = {"Interactions": synthetic.INTERACTIONS_SCHEMA, "Items": synthetic.ITEMS_SCHEMA,
                     "Users": synthetic.USERS_SCHEMA}
        return self.render(request, "schemas.html", title="Schemas", schemas=schemas, templates=templates,
                           suggested=f"schema-{uuid.uuid4().hex[:6]}")

    async def create_schema(self, request: Request) -> Response:
        form = await self.console.form(request)
        params: dict[str, Any] = {"name": form.get("name", ""), "schema": form.get("schema", "")}
        if form.get("domain"):
            params["domain"] = form["domain"]
        arn = (await self.call("CreateSchema", params))["schemaArn"]
        return self.console.back(_link("schema", arn), notice=f"Schema {params['name']} created.")

    async def schema(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        result = await self.call("DescribeSchema", {"schemaArn": arn})
        schema = result["schema"]
        users: list[dict[str, Any]] = []
        for group in await self.list_all("ListDatasetGroups", "datasetGroups"):
            for dataset in await self.list_all("ListDatasets", "datasets",
                                               {"datasetGroupArn": group["datasetGroupArn"]}):
                if dataset.get("schemaArn") == arn:
                    users.append({**dataset, "groupName": group["name"]})
        try:
            pretty = orjson.dumps(orjson.loads(schema.get("schema", "")), option=orjson.OPT_INDENT_2).decode()
        except orjson.JSONDecodeError:
            pretty = str(schema.get("schema", ""))
        return self.render(request, "schema.html", title=schema["name"], schema=schema, arn=arn, pretty=pretty,
                           tags=await self.console.tags(arn), tag_arn=arn,
                           users=users, facts={key: value for key, value in
                                               self.facts("DescribeSchema", result, "schema").items()
                                               if key != "schema"})

    # -- recipes ------------------------------------------------------------------------------------------------

    async def recipes(self, request: Request) -> Response:
        recipes = await self.list_all("ListRecipes", "recipes")
        for recipe in recipes:
            recipe["served"] = spec_for(recipe["recipeArn"]) is not None
        return self.render(request, "recipes.html", title="Recipes", recipes=recipes)

    async def recipe(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        result = await self.call("DescribeRecipe", {"recipeArn": arn})
        recipe = result["recipe"]
        algorithm: dict[str, Any] = {}
        if recipe.get("algorithmArn"):
            try:
                found = await self.call("DescribeAlgorithm", {"algorithmArn": recipe["algorithmArn"]})
                algorithm = self.facts("DescribeAlgorithm", found, "algorithm")
            except ResourceNotFoundException:
                algorithm = {}
        transformation: dict[str, Any] = {}
        if recipe.get("featureTransformationArn"):
            try:
                found = await self.call("DescribeFeatureTransformation",
                                        {"featureTransformationArn": recipe["featureTransformationArn"]})
                transformation = self.facts("DescribeFeatureTransformation", found, "featureTransformation")
            except ResourceNotFoundException:
                transformation = {}
        spec = spec_for(arn)
        return self.render(request, "recipe.html", title=recipe["name"], recipe=recipe, arn=arn, spec=spec,
                           facts=self.facts("DescribeRecipe", result, "recipe"), algorithm=algorithm,
                           transformation=transformation)
