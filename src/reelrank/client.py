"""The CLI's side of the wire: boto3 clients for a reelrank endpoint, its signed progress extension, and the
look-ups the client commands share (names to ARNs, latest ACTIVE versions, an overview of everything).

Everything here goes through the public API (Personalize's operations) plus `GET /reelrank/progress`."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

DATASET_TYPES = ("INTERACTIONS", "ITEMS", "USERS", "ACTIONS", "ACTION_INTERACTIONS")
KEY_METRIC = "normalized_discounted_cumulative_gain_at_10"
_RUNNING = ("PENDING", "IN_PROGRESS", "IN PROGRESS", "STOPPING")
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=120)


class LookupFailed(Exception):
    """A name or ARN the user gave does not lead to what the command needs; `hint` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class ProgressError(RuntimeError):
    """The progress extension answered with an AWS-style error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def is_running(status: str) -> bool:
    """Whether a resource's status means its work is still going on (CREATE PENDING, IN PROGRESS, …)."""
    return any(word in status for word in _RUNNING)


def resource_type(arn: str) -> str:
    """`campaign`, `recommender`, `solution`, `dataset-group`, … from an ARN ('' when it is not one)."""
    parts = arn.split(":", 5)
    return parts[5].split("/", 1)[0] if len(parts) == 6 and parts[0] == "arn" else ""


def is_solution_version(arn: str) -> bool:
    """Solution version ARNs are `…:solution/<name>/<id>`; solutions are `…:solution/<name>`."""
    return resource_type(arn) == "solution" and arn.split(":", 5)[5].count("/") >= 2


def location_uri(where: str) -> str:
    """`s3://…` and `file://…` as given; a local path as an absolute file:// URI (a folder ends in `/`)."""
    if where.startswith(("s3://", "file://")):
        return where
    path = Path(where).expanduser().resolve()
    return path.as_uri() + ("/" if path.is_dir() else "")


def count_csv_records(path: Path) -> int:
    """CSV records (header excluded) in a local file or every file under a folder."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    total = 0
    for file in files:
        with file.open(newline="", encoding="utf-8", errors="replace") as stream:
            total += max(sum(1 for row in csv.reader(stream) if row) - 1, 0)
    return total


@dataclass(frozen=True)
class Endpoint:
    url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def client(self, service: str = "personalize") -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service, endpoint_url=self.url, region_name=self.region, aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key, config=_CONFIG)
        return self._clients[service]

    def progress(self, arn: str) -> dict[str, Any]:
        """GET /reelrank/progress, signed like any other call: status, stage, percent, failureReason and, where
        the server counts them, rowsDone, rowsPerSecond and etaSeconds."""
        request = AWSRequest(method="GET", url=f"{self.url}/reelrank/progress?{urlencode({'arn': arn})}")
        SigV4Auth(Credentials(self.access_key, self.secret_key), "personalize", self.region).add_auth(request)
        response = URLLib3Session(timeout=30).send(request.prepare())
        try:
            body: dict[str, Any] = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise ProgressError("InternalFailure", f"HTTP {response.status_code} from {self.url}/reelrank/progress "
                                "(is this a reelrank server?)") from None
        if response.status_code != 200:
            raise ProgressError(str(body.get("__type")), str(body.get("message")))
        return body


def pages(personalize: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every entry of a paginated List operation."""
    for page in personalize.get_paginator(operation).paginate(**params):
        yield from page[key]


def dataset_group(personalize: Any, name_or_arn: str) -> dict[str, Any]:
    """A dataset group's summary from its name or ARN."""
    for group in pages(personalize, "list_dataset_groups", "datasetGroups"):
        if name_or_arn in (group["name"], group["datasetGroupArn"]):
            return group
    raise LookupFailed(f"There is no dataset group {name_or_arn!r}.",
                       "see the dataset groups with `reelrank status`, or create one with `aws personalize "
                       "create-dataset-group`.")


def dataset_of_type(personalize: Any, group_arn: str, dataset_type: str) -> str:
    """The ARN of the dataset of `dataset_type` in a dataset group."""
    listed = list(pages(personalize, "list_datasets", "datasets", datasetGroupArn=group_arn))
    for dataset in listed:
        if dataset["datasetType"].upper() == dataset_type.upper():
            return str(dataset["datasetArn"])
    present = ", ".join(sorted(d["datasetType"].upper() for d in listed)) or "none"
    raise LookupFailed(f"The dataset group {group_arn} has no {dataset_type.upper()} dataset (it has: {present}).",
                       "create the dataset first (`aws personalize create-dataset`), or pass --dataset-arn.")


def latest_active_version(personalize: Any, solution_arn: str) -> str:
    """The newest ACTIVE solution version of a solution."""
    active = [v for v in pages(personalize, "list_solution_versions", "solutionVersions", solutionArn=solution_arn)
              if v["status"] == "ACTIVE"]
    if not active:
        raise LookupFailed(f"The solution {solution_arn} has no ACTIVE solution version.",
                           f"train one with `reelrank train {solution_arn}`.")
    return str(max(active, key=lambda v: v["creationDateTime"])["solutionVersionArn"])


def solution_version(personalize: Any, arn: str) -> str:
    """`arn` when it names a solution version; the latest ACTIVE version when it names a solution."""
    if is_solution_version(arn):
        return arn
    if resource_type(arn) != "solution":
        raise LookupFailed(f"{arn} is neither a solution nor a solution version ARN.",
                           "list solutions with `reelrank status`.")
    personalize.describe_solution(solutionArn=arn)
    return latest_active_version(personalize, arn)


def solution_of(version_arn: str) -> str:
    return version_arn.rsplit("/", 1)[0]


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def plain(response: dict[str, Any]) -> dict[str, Any]:
    """A boto3 response ready for JSON: no ResponseMetadata, datetimes as ISO 8601."""
    safe: dict[str, Any] = _json_safe(response)
    return safe


def _progress_or_none(endpoint: Endpoint, arn: str) -> dict[str, Any] | None:
    try:
        return endpoint.progress(arn)
    except ProgressError:
        return None


def _job(endpoint: Endpoint, kind: str, name: str, arn: str, status: str) -> dict[str, Any]:
    progress = _progress_or_none(endpoint, arn) or {}
    return {"kind": kind, "name": name, "arn": arn, "status": status,
            **{key: progress[key] for key in ("stage", "percent", "rowsDone", "rowsPerSecond", "etaSeconds")
               if progress.get(key) is not None}}


def overview(endpoint: Endpoint, only_group: str | None = None) -> dict[str, Any]:
    """Dataset groups with their datasets (and last import), solutions (latest version, key metric, campaigns),
    recommenders, and the jobs still running."""
    personalize = endpoint.client()
    groups = list(pages(personalize, "list_dataset_groups", "datasetGroups"))
    if only_group is not None:
        groups = [dataset_group(personalize, only_group)]
    batch_jobs = list(pages(personalize, "list_batch_inference_jobs", "batchInferenceJobs"))
    segment_jobs = list(pages(personalize, "list_batch_segment_jobs", "batchSegmentJobs"))
    result = []
    for group in sorted(groups, key=lambda g: g["name"]):
        group_arn = group["datasetGroupArn"]
        running: list[dict[str, Any]] = []
        datasets = []
        for dataset in pages(personalize, "list_datasets", "datasets", datasetGroupArn=group_arn):
            imports = list(pages(personalize, "list_dataset_import_jobs", "datasetImportJobs",
                                 datasetArn=dataset["datasetArn"]))
            last = max(imports, key=lambda job: job["creationDateTime"]) if imports else None
            datasets.append({"name": dataset["name"], "type": dataset["datasetType"].upper(),
                             "arn": dataset["datasetArn"], "status": dataset["status"],
                             "lastImport": None if last is None else {
                                 "name": last["jobName"], "arn": last["datasetImportJobArn"],
                                 "status": last["status"], "created": last["creationDateTime"],
                                 "failureReason": last.get("failureReason")}})
            running += [_job(endpoint, "import", job["jobName"], job["datasetImportJobArn"], job["status"])
                        for job in imports if is_running(job["status"])]
        solutions = []
        for solution in pages(personalize, "list_solutions", "solutions", datasetGroupArn=group_arn):
            versions = list(pages(personalize, "list_solution_versions", "solutionVersions",
                                  solutionArn=solution["solutionArn"]))
            latest = max(versions, key=lambda v: v["creationDateTime"]) if versions else None
            active = [v for v in versions if v["status"] == "ACTIVE"]
            metrics: dict[str, float] = {}
            if active:
                newest_active = max(active, key=lambda v: v["creationDateTime"])["solutionVersionArn"]
                metrics = personalize.get_solution_metrics(solutionVersionArn=newest_active)["metrics"]
            running += [_job(endpoint, "training", solution["name"], v["solutionVersionArn"], v["status"])
                        for v in versions if is_running(v["status"])]
            campaigns = [{"name": c["name"], "arn": c["campaignArn"], "status": c["status"]}
                         for c in pages(personalize, "list_campaigns", "campaigns",
                                        solutionArn=solution["solutionArn"])]
            running += [_job(endpoint, "campaign", c["name"], c["arn"], c["status"])
                        for c in campaigns if is_running(c["status"])]
            solution_arn = solution["solutionArn"]
            running += [_job(endpoint, kind, job["jobName"], job[key], job["status"])
                        for kind, key, jobs in (("batch inference", "batchInferenceJobArn", batch_jobs),
                                                ("batch segment", "batchSegmentJobArn", segment_jobs))
                        for job in jobs
                        if is_running(job["status"]) and solution_of(job.get("solutionVersionArn", "")) == solution_arn]
            solutions.append({
                "name": solution["name"], "arn": solution_arn, "status": solution["status"],
                "recipe": solution.get("recipeArn", "").rsplit("/", 1)[-1],
                "latestVersion": None if latest is None else {
                    "arn": latest["solutionVersionArn"], "status": latest["status"],
                    "created": latest["creationDateTime"], "failureReason": latest.get("failureReason")},
                "metric": {"name": KEY_METRIC, "value": metrics.get(KEY_METRIC),
                           "baseline": metrics.get(f"baseline_popularity_{KEY_METRIC}")} if metrics else None,
                "campaigns": campaigns})
        recommenders = [{"name": r["name"], "arn": r["recommenderArn"], "status": r["status"],
                         "recipe": r.get("recipeArn", "").rsplit("/", 1)[-1]}
                        for r in pages(personalize, "list_recommenders", "recommenders", datasetGroupArn=group_arn)]
        running += [_job(endpoint, "recommender", r["name"], r["arn"], r["status"])
                    for r in recommenders if is_running(r["status"])]
        result.append({"name": group["name"], "arn": group_arn, "status": group["status"],
                       "domain": group.get("domain"), "datasets": datasets, "solutions": solutions,
                       "recommenders": recommenders, "runningJobs": running})
    return plain({"endpoint": endpoint.url, "datasetGroups": result})
